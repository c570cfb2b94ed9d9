/* Answering for relayed connections: matching, the query, the reader of
 * the inner server's reply and the querier's verdict (doc/design.md §5).
 * Every octet of the inner host's answer is hostile: it is held in a
 * bounded buffer, parsed by privident-query's parser, and used only if it
 * is about the very ports asked. */
#include "forward.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "token.h"

/* The IPv4-mapped prefix ::ffff:0:0/96. */
static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool forward_prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

/* An address as forwarding sees it: an IPv4-mapped one is IPv4. Returns
 * the family and points *out at the address's octets. */
static int unmap(int family, const uint8_t *addr, const uint8_t **out)
{
	*out = addr;
	if (family == AF_INET6 && memcmp(addr, v4mapped, sizeof v4mapped) == 0) {
		*out = addr + sizeof v4mapped;
		return AF_INET;
	}
	return family;
}

const struct forward_net *forward_match(const struct config *c, int family,
                                        const uint8_t *addr)
{
	const struct forward_net *best = NULL;
	const uint8_t *a;

	family = unmap(family, addr, &a);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	for (unsigned i = 0; i < c->nforward && i < FORWARD_NETWORKS_MAX; i++) {
		const struct forward_net *n = &c->forward[i];

		if (n->family == family &&
		    (best == NULL || n->prefix > best->prefix) &&
		    forward_prefix_match(n->addr, a, n->prefix))
			best = n;
	}
	return best;
}

int forward_query_line(unsigned inner_port, unsigned remote_port,
                       char buf[FORWARD_QUERY_MAX])
{
	if (inner_port < 1 || inner_port > PORT_MAX || remote_port < 1 ||
	    remote_port > PORT_MAX) {
		buf[0] = '\0';
		return -1;
	}
	return snprintf(buf, FORWARD_QUERY_MAX, "%u , %u\r\n", inner_port,
	                remote_port);
}

/* ---- the reader ------------------------------------------------------- */

void forward_reader_init(struct forward_reader *r)
{
	r->state = FORWARD_READING;
	r->len = 0;
}

enum forward_state forward_feed(struct forward_reader *r, const char *bytes,
                                size_t n)
{
	if (r->state != FORWARD_READING || r->len > sizeof r->line)
		return r->state;
	size_t room = sizeof r->line - r->len;
	size_t take = n < room ? n : room;
	const char *lf = memchr(bytes, '\n', take);

	if (lf != NULL)
		take = (size_t)(lf - bytes) + 1;
	memcpy(r->line + r->len, bytes, take);
	r->len += take;
	if (lf != NULL)
		r->state = FORWARD_LINE;
	else if (r->len == sizeof r->line)
		r->state = FORWARD_OVERLONG;
	return r->state;
}

const char *forward_failure_name(enum forward_failure f)
{
	static const char *const names[] = {
		[FORWARD_OK] = "ok",             [FORWARD_CONNECT] = "connect",
		[FORWARD_TIMEOUT] = "timeout",   [FORWARD_EMPTY] = "empty",
		[FORWARD_CUT] = "cut",           [FORWARD_TOO_LONG] = "too-long",
		[FORWARD_GARBLED] = "garbled",   [FORWARD_OTHER_PORTS] = "other-ports",
	};

	if ((unsigned)f >= sizeof names / sizeof names[0])
		return "?";
	return names[f];
}

void forward_fail(struct forward_result *out, enum forward_failure why)
{
	memset(out, 0, sizeof *out);
	out->failure = why == FORWARD_OK ? FORWARD_GARBLED : why;
}

/* Why the reader's state is no reply, or FORWARD_OK when it holds a
 * line. */
static enum forward_failure reader_failure(const struct forward_reader *r)
{
	switch (r->state) {
	case FORWARD_LINE:
		return r->len <= sizeof r->line ? FORWARD_OK : FORWARD_GARBLED;
	case FORWARD_OVERLONG:
		return FORWARD_TOO_LONG;
	case FORWARD_READING:
		return r->len == 0 ? FORWARD_EMPTY : FORWARD_CUT;
	default:
		return FORWARD_GARBLED;
	}
}

void forward_result(const struct forward_reader *r, unsigned inner_port,
                    unsigned remote_port, struct forward_result *out)
{
	enum forward_failure f = reader_failure(r);

	if (f != FORWARD_OK) {
		forward_fail(out, f);
		return;
	}
	memset(out, 0, sizeof *out);
	if (ident_reply_parse(r->line, r->len, &out->reply) != 0) {
		forward_fail(out, FORWARD_GARBLED);
		return;
	}
	if (out->reply.server_port != inner_port ||
	    out->reply.client_port != remote_port) {
		forward_fail(out, FORWARD_OTHER_PORTS);
		return;
	}
	out->failure = FORWARD_OK;
}

/* ---- tokens ----------------------------------------------------------- */

static uint8_t *put_addr(uint8_t *p, int family, const uint8_t *addr)
{
	const uint8_t *a;

	family = unmap(family, addr, &a);
	*p++ = (uint8_t)(family == AF_INET ? 4 : 6);
	memcpy(p, a, family == AF_INET ? 4 : 16);
	return p + (family == AF_INET ? 4 : 16);
}

static bool inet_family(int family)
{
	return family == AF_INET || family == AF_INET6;
}

size_t forward_token_message(uint8_t *buf, const struct forward_ctx *ctx,
                             int64_t period_number, const char *name,
                             size_t len)
{
	uint8_t *p = buf;
	uint64_t n = (uint64_t)period_number;

	if (!inet_family(ctx->family) || !inet_family(ctx->inner_family) ||
	    ctx->peer == NULL || ctx->inner == NULL || len > USERID_MAX)
		return 0;
	memcpy(p, FORWARD_TOKEN_TAG, sizeof(FORWARD_TOKEN_TAG) - 1);
	p += sizeof(FORWARD_TOKEN_TAG) - 1;
	p = put_addr(p, ctx->family, ctx->peer);
	p = put_addr(p, ctx->inner_family, ctx->inner);
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(n >> (8 * i));
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	memcpy(p, name, len);
	return (size_t)(p + len - buf);
}

int forward_token(const struct forward_ctx *ctx, int64_t period_number,
                  unsigned length, const char *name, size_t len, char *out)
{
	uint8_t msg[FORWARD_TOKEN_MESSAGE_MAX], hash[TOKEN_HASH_BYTES];
	size_t mlen = forward_token_message(msg, ctx, period_number, name, len);
	int r;

	if (mlen == 0 || ctx->key == NULL || length < TOKEN_LENGTH_MIN ||
	    length > TOKEN_LENGTH_MAX)
		return -1;
	if (crypto_generichash(hash, sizeof hash, msg, mlen, ctx->key,
	                       TOKEN_KEY_BYTES) != 0)
		return -1;
	r = token_base32(hash, sizeof hash, length, out);
	sodium_memzero(hash, sizeof hash);
	sodium_memzero(msg, sizeof msg);
	return r;
}

/* ---- the querier's verdict -------------------------------------------- */

static void verdict_error(struct verdict *v, enum reply_error e)
{
	*v = (struct verdict){.is_userid = 0, .err = e,
	                      .masked = REPLY_UNKNOWN_ERROR};
}

/* A USERID of name (len octets, at most USERID_MAX): as it is, or with
 * token, its forwarded token. */
static void verdict_userid(const struct config *c, const struct forward_net *net,
                           const struct forward_ctx *ctx, const char *opsys,
                           const char *name, size_t len, struct verdict *v)
{
	char tok[TOKEN_LENGTH_MAX + 1];

	if (net->token) {
		int64_t n = token_period_number(ctx->now, c->token_period);

		if (forward_token(ctx, n, c->token_length, name, len, tok) != 0) {
			verdict_error(v, REPLY_UNKNOWN_ERROR);
			return;
		}
		name = tok;
		len = strlen(tok);
		opsys = "OTHER";
	}
	verdict_error(v, REPLY_UNKNOWN_ERROR);
	v->is_userid = 1;
	v->opsys = opsys;
	memcpy(v->userid, name, len);
	v->userid[len] = '\0';
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* The inner host's ERROR as the querier gets it. */
static enum reply_error inner_error(const char *name)
{
	static const enum reply_error kept[] = {
		REPLY_NO_USER, REPLY_HIDDEN_USER, REPLY_UNKNOWN_ERROR,
	};

	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (strcmp(name, reply_error_name(kept[i])) == 0)
			return kept[i];
	return REPLY_UNKNOWN_ERROR;
}

static void decide(const struct config *c, const struct forward_net *net,
                   const struct forward_result *res,
                   const struct forward_ctx *ctx, struct verdict *v)
{
	const struct ident_reply *r = res != NULL ? &res->reply : NULL;

	if (net->reply[0] != '\0') {
		verdict_userid(c, net, ctx, "UNIX", net->reply,
		               strnlen(net->reply, sizeof net->reply - 1), v);
		return;
	}
	if (r == NULL || res->failure != FORWARD_OK) {
		verdict_error(v, REPLY_UNKNOWN_ERROR);
		return;
	}
	if (!r->is_userid) {
		verdict_error(v, inner_error(r->error));
		return;
	}
	size_t len = strnlen(r->userid, sizeof r->userid - 1);
	if (!is_ascii(r->userid) && r->charset[0] != '\0' &&
	    strcasecmp(r->charset, "UTF-8") != 0) {
		verdict_error(v, REPLY_UNKNOWN_ERROR);
		return;
	}
	verdict_userid(c, net, ctx,
	               strcasecmp(r->opsys, "OTHER") == 0 ? "OTHER" : "UNIX",
	               r->userid, len, v);
}

void forward_reply(const struct config *c, const struct forward_net *net,
                   const struct forward_result *res,
                   const struct forward_ctx *ctx, struct verdict *v)
{
	decide(c, net, res, ctx, v);
	/* Rule 6 of doc/design.md §5, as for a local reply. */
	if (!v->is_userid && c->mask_errors && v->err != REPLY_UNKNOWN_ERROR) {
		v->masked = v->err;
		v->err = REPLY_UNKNOWN_ERROR;
	}
}
