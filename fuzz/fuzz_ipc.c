/* libFuzzer target: the decoders of the messages between the workers
 * (src/ipc.c), every direction: queries and events (child -> helper, where
 * the child is assumed compromised) and replies (helper -> child); the
 * forwarding roles' questions (helper -> conntrack role, helper ->
 * forwarder, each role assuming the helper compromised) and answers (back
 * to the helper, which assumes either role compromised, the forwarder
 * most of all: it reads what inner hosts send).
 *
 * Input: one message. Every decoder sees it as it came, with its true
 * length, and again padded with zeros (or cut) to the decoder's exact
 * size, so that the checks behind the length check are reached. A decoded
 * message must satisfy everything its receiver relies on. */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "ipc.h"

static void check_query(const struct ipc_query *q)
{
	FUZZ_CHECK(q->type == IPC_QUERY);
	FUZZ_CHECK(q->server_port >= 1 && q->server_port <= PORT_MAX);
	FUZZ_CHECK(q->client_port >= 1 && q->client_port <= PORT_MAX);
}

/* The helper logs an event's peer (never for EV_SECCOMP, which has none)
 * and names EV_SECCOMP's call by its own field. */
static void check_event(const struct ipc_event *e)
{
	static const uint8_t none[sizeof e->addr];

	FUZZ_CHECK(e->type == IPC_EVENT && e->pad == 0 && e->count >= 1);
	FUZZ_CHECK(e->kind >= EV_INVALID && e->kind < EV_KIND_END);
	if (e->kind == EV_SECCOMP) {
		FUZZ_CHECK(e->family == AF_UNSPEC && e->count == 1);
		FUZZ_CHECK(memcmp(e->addr, none, sizeof none) == 0);
		FUZZ_CHECK(e->ports[0] == 0 && e->ports[1] == 0);
		return;
	}
	FUZZ_CHECK(e->family == AF_INET || e->family == AF_INET6);
	FUZZ_CHECK(e->ports[0] <= 99999 && e->ports[1] <= 99999);
	FUZZ_CHECK(e->syscall_nr == 0);
}

/* The child writes line[0..len) to a client: in bounds, one line ending
 * CR LF, no control character before it. */
static void check_reply(const struct ipc_reply *r)
{
	FUZZ_CHECK(r->type == IPC_REPLY);
	FUZZ_CHECK(r->len >= 2 && r->len < sizeof r->line);
	FUZZ_CHECK(r->line[r->len - 2] == '\r' && r->line[r->len - 1] == '\n');
	for (size_t i = 0; i + 2 < r->len; i++)
		FUZZ_CHECK((unsigned char)r->line[i] >= 0x20 &&
		           (unsigned char)r->line[i] != 0x7f);
}

/* The conntrack role builds a tuple from it: a family it knows, an IPv4
 * address in the first four octets only, two real ports. */
static int addr_ok(uint16_t family, const uint8_t a[16])
{
	static const uint8_t zero[12];

	if (family == AF_INET)
		return memcmp(a + 4, zero, sizeof zero) == 0;
	return family == AF_INET6;
}

static int port_ok(uint32_t p)
{
	return p >= 1 && p <= PORT_MAX;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void check_ct_ask(const struct ipc_ct_ask *q)
{
	FUZZ_CHECK(q->type == IPC_CT_ASK && q->pad == 0);
	FUZZ_CHECK(port_ok(q->local_port) && port_ok(q->remote_port));
	FUZZ_CHECK(addr_ok(q->family, q->local) && addr_ok(q->family, q->remote));
}

/* The helper takes a CT_FOUND's inner host as the address to ask, and
 * logs CT_ERROR's errno; any other result carries nothing. */
static void check_ct_answer(const struct ipc_ct_answer *a)
{
	FUZZ_CHECK(a->type == IPC_CT_ANSWER);
	FUZZ_CHECK(a->result >= CT_FOUND && a->result < CT_RESULT_END);
	if (a->result == CT_FOUND) {
		FUZZ_CHECK(port_ok(a->inner_port) && addr_ok(a->family, a->inner));
		FUZZ_CHECK(a->err == 0);
		return;
	}
	FUZZ_CHECK(a->family == 0 && a->inner_port == 0);
	FUZZ_CHECK(all_zero(a->inner, sizeof a->inner));
	if (a->result == CT_ERROR)
		FUZZ_CHECK(a->err >= 1 && a->err <= 4095);
	else
		FUZZ_CHECK(a->err == 0);
}

/* The forwarder makes a socket address of it and a deadline. */
static void check_fwd_ask(const struct ipc_fwd_ask *q)
{
	FUZZ_CHECK(q->type == IPC_FWD_ASK);
	FUZZ_CHECK(port_ok(q->port) && port_ok(q->inner_port) &&
	           port_ok(q->server_port));
	FUZZ_CHECK(addr_ok(q->family, q->addr));
	FUZZ_CHECK(q->timeout_ms >= 1 && q->timeout_ms <= FWD_TIMEOUT_MS_MAX);
}

/* A string field the helper reads as a C string: it ends inside the
 * field, with zeros after; empty only where allowed. */
static void check_field(const char *f, size_t size, int may_be_empty)
{
	size_t n = strnlen(f, size);

	FUZZ_CHECK(n < size);
	FUZZ_CHECK(n > 0 || may_be_empty);
	FUZZ_CHECK(all_zero(f + n, size - n));
}

/* The helper formats a reply from a FORWARD_OK answer's fields, or names
 * the failure; a failure carries nothing else. */
static void check_fwd_answer(const struct ipc_fwd_answer *a)
{
	FUZZ_CHECK(a->type == IPC_FWD_ANSWER);
	FUZZ_CHECK(a->failure <= FWD_FAILURE_LAST);
	if (a->failure != 0) {
		FUZZ_CHECK(a->is_userid == 0 && a->server_port == 0 &&
		           a->client_port == 0);
		FUZZ_CHECK(all_zero(a->opsys, sizeof a->opsys) &&
		           all_zero(a->charset, sizeof a->charset) &&
		           all_zero(a->userid, sizeof a->userid) &&
		           all_zero(a->error, sizeof a->error));
		return;
	}
	FUZZ_CHECK(port_ok(a->server_port) && port_ok(a->client_port));
	FUZZ_CHECK(a->is_userid <= 1);
	if (a->is_userid) {
		check_field(a->opsys, sizeof a->opsys, 0);
		check_field(a->charset, sizeof a->charset, 1);
		check_field(a->userid, sizeof a->userid, 0);
		FUZZ_CHECK(all_zero(a->error, sizeof a->error));
	} else {
		check_field(a->error, sizeof a->error, 0);
		FUZZ_CHECK(all_zero(a->opsys, sizeof a->opsys) &&
		           all_zero(a->charset, sizeof a->charset) &&
		           all_zero(a->userid, sizeof a->userid));
	}
}

/* The input at the decoder's exact size: cut, or padded with zeros. */
static const void *exact(const uint8_t *data, size_t size, void *buf,
                         size_t want)
{
	memset(buf, 0, want);
	memcpy(buf, data, size < want ? size : want);
	return buf;
}

/* A decoder over the input as it came and at its exact size: whatever it
 * accepts satisfies check, and only ever at the exact size. */
#define DECODE(decode, member, check)                                        \
	do {                                                                 \
		if (decode(data, size, &out.member) == 0) {                  \
			FUZZ_CHECK(size == sizeof out.member);               \
			check(&out.member);                                  \
		}                                                            \
		if (decode(exact(data, size, &in, sizeof in.member),         \
		           sizeof in.member, &out.member) == 0)              \
			check(&out.member);                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct ipc_query q;
		struct ipc_event e;
		struct ipc_reply r;
		struct ipc_ct_ask ca;
		struct ipc_ct_answer cn;
		struct ipc_fwd_ask fa;
		struct ipc_fwd_answer fn;
	} in, out;

	DECODE(ipc_decode_query, q, check_query);
	DECODE(ipc_decode_event, e, check_event);
	DECODE(ipc_decode_reply, r, check_reply);
	DECODE(ipc_decode_ct_ask, ca, check_ct_ask);
	DECODE(ipc_decode_ct_answer, cn, check_ct_answer);
	DECODE(ipc_decode_fwd_ask, fa, check_fwd_ask);
	DECODE(ipc_decode_fwd_answer, fn, check_fwd_answer);
	return 0;
}
