/* libFuzzer target: forwarding (src/forward.c) and the forward-network
 * value (config_parse_forward in src/config.c).
 *
 * Input: a first line, read as a forward-network value; then one octet
 * choosing how the rest is split; then the rest, the inner ident server's
 * answer as it arrives.
 *
 * Checked, for the value: a refusal is one printable line and leaves the
 * output alone; an accepted value is a network without host bits, formats
 * back to a value that parses to the very same network, and is found by
 * forward_match for its own address.
 *
 * For the answer: fed whole, a byte at a time and in the chosen pieces, the
 * reader ends in the same state with the same octets, never more than
 * FORWARD_REPLY_MAX; forward_result, asked with ports the answer does not
 * name and with the ports it names, is never FORWARD_OK about other ports;
 * a failure leaves no reply behind. The querier's verdict: a USERID is the
 * inner host's user id exactly (or its token, base32 of token-length),
 * never for a failed exchange, and formats (policy_format) to a line that
 * privident-query's parser reads back with the querier's ports. */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "forward.h"
#include "fuzz.h"
#include "replyparse.h"
#include "token.h"

#define QUERIER_SP 113
#define QUERIER_CP 5555

static void check_message(const char *err, size_t errsz)
{
	size_t n = strnlen(err, errsz);

	FUZZ_CHECK(n > 0 && n < errsz);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)err[i] >= 0x20 &&
		           (unsigned char)err[i] != 0x7f);
}

static void fuzz_value(const char *v)
{
	struct forward_net n, back, before;
	struct config c;
	char err[256], text[FORWARD_NET_TEXT_MAX];

	memset(&n, 0x5a, sizeof n);
	before = n;
	memset(err, 0, sizeof err);
	if (config_parse_forward(v, &n, err, sizeof err) != 0) {
		check_message(err, sizeof err);
		FUZZ_CHECK(memcmp(&n, &before, sizeof n) == 0);
		return;
	}
	unsigned bits = n.family == AF_INET ? 32 : 128;
	FUZZ_CHECK(n.family == AF_INET || n.family == AF_INET6);
	FUZZ_CHECK(n.prefix <= bits);
	for (unsigned b = n.prefix; b < 128; b++)
		FUZZ_CHECK(!(n.addr[b / 8] & (0x80u >> (b % 8))));
	FUZZ_CHECK(n.reply[0] ? n.port == 0 : n.port >= 1 && n.port <= 65535);
	config_format_forward(&n, text, sizeof text);
	FUZZ_CHECK(strlen(text) < sizeof text - 1);
	FUZZ_CHECK(config_parse_forward(text, &back, err, sizeof err) == 0);
	FUZZ_CHECK(memcmp(&back, &n, sizeof n) == 0);
	config_defaults(&c);
	c.forward[0] = n;
	c.nforward = 1;
	FUZZ_CHECK(config_validate(&c, err, sizeof err) == 0);
	FUZZ_CHECK(forward_match(&c, n.family, n.addr) == &c.forward[0]);
}

/* Feeds data in pieces of the given sizes (cycled; 0 counts as 1). */
static void feed(struct forward_reader *r, const uint8_t *data, size_t size,
                 const uint8_t *steps, size_t nsteps)
{
	size_t i = 0, k = 0;

	forward_reader_init(r);
	while (i < size) {
		size_t step = nsteps ? steps[k++ % nsteps] : size;

		if (step == 0)
			step = 1;
		if (step > size - i)
			step = size - i;
		forward_feed(r, (const char *)data + i, step);
		i += step;
	}
}

static void same_reader(const struct forward_reader *a,
                        const struct forward_reader *b)
{
	FUZZ_CHECK(a->state == b->state && a->len == b->len);
	FUZZ_CHECK(memcmp(a->line, b->line, a->len) == 0);
}

static void check_verdict(const struct forward_result *res, bool token)
{
	static const uint8_t key[TOKEN_KEY_BYTES] = {42};
	uint8_t peer[16] = {192, 0, 2, 1}, inner[16] = {10, 0, 0, 1};
	struct forward_ctx x = {AF_INET, peer, AF_INET, inner, 1700000000, key};
	struct forward_net net = {.family = AF_INET, .addr = {10}, .prefix = 8,
	                          .port = 113, .token = token};
	struct config c;
	struct verdict v;
	struct ident_reply back;
	char line[REPLY_MAX];

	config_defaults(&c);
	forward_reply(&c, &net, res, &x, &v);
	if (v.is_userid) {
		FUZZ_CHECK(res->failure == FORWARD_OK && res->reply.is_userid);
		if (token)
			FUZZ_CHECK(token_valid_text(v.userid) &&
			           strlen(v.userid) == c.token_length &&
			           strcmp(v.opsys, "OTHER") == 0);
		else
			FUZZ_CHECK(strcmp(v.userid, res->reply.userid) == 0);
	} else {
		FUZZ_CHECK(v.err == REPLY_UNKNOWN_ERROR ||
		           (res->failure == FORWARD_OK && !res->reply.is_userid));
	}
	int n = policy_format(&v, QUERIER_SP, QUERIER_CP, line, sizeof line);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof line);
	FUZZ_CHECK(ident_reply_parse(line, (size_t)n, &back) == 0);
	FUZZ_CHECK(back.server_port == QUERIER_SP &&
	           back.client_port == QUERIER_CP);
	FUZZ_CHECK(back.is_userid == (v.is_userid != 0));
}

static void check_result(const struct forward_reader *r, unsigned ip,
                         unsigned rp)
{
	struct forward_result res;
	static const struct ident_reply zero;

	forward_result(r, ip, rp, &res);
	FUZZ_CHECK(strcmp(forward_failure_name(res.failure), "?") != 0);
	if (res.failure == FORWARD_OK) {
		FUZZ_CHECK(r->state == FORWARD_LINE);
		FUZZ_CHECK(res.reply.server_port == ip &&
		           res.reply.client_port == rp);
	} else {
		FUZZ_CHECK(memcmp(&res.reply, &zero, sizeof zero) == 0);
	}
	check_verdict(&res, false);
	check_verdict(&res, true);
}

static void fuzz_answer(const uint8_t *data, size_t size)
{
	static struct forward_reader whole, bytes, pieces;
	const uint8_t *steps = data;
	size_t nsteps = size > 0 ? data[0] % 8 : 0;
	struct ident_reply r;

	if (size > 0)
		data++, size--;
	if (nsteps > size)
		nsteps = size;
	feed(&whole, data, size, NULL, 0);
	feed(&bytes, data, size, (const uint8_t *)"\1", 1);
	feed(&pieces, data, size, steps + 1, nsteps);
	same_reader(&whole, &bytes);
	same_reader(&whole, &pieces);
	FUZZ_CHECK(whole.len <= FORWARD_REPLY_MAX);
	FUZZ_CHECK(whole.len == (size < FORWARD_REPLY_MAX ? size :
	                         FORWARD_REPLY_MAX) || whole.state == FORWARD_LINE);
	check_result(&whole, 40000, 6667);
	/* The ports the line names, when it parses: the one case of a use. */
	if (whole.state == FORWARD_LINE &&
	    ident_reply_parse(whole.line, whole.len, &r) == 0 &&
	    r.server_port >= 1 && r.server_port <= 65535 && r.client_port >= 1 &&
	    r.client_port <= 65535)
		check_result(&whole, r.server_port, r.client_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t vlen = nl ? (size_t)(nl - data) : size;
	char *v = malloc(vlen + 1);

	FUZZ_CHECK(v != NULL);
	memcpy(v, data, vlen);
	v[vlen] = '\0';
	fuzz_value(v);
	free(v);
	if (nl != NULL)
		fuzz_answer(nl + 1, size - vlen - 1);
	return 0;
}
