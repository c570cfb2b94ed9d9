/* libFuzzer target: the decoders of the messages between the network
 * child and the lookup helper (src/ipc.c), both directions: queries and
 * events (child -> helper, where the child is assumed compromised) and
 * replies (helper -> child).
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

/* The input at the decoder's exact size: cut, or padded with zeros. */
static const void *exact(const uint8_t *data, size_t size, void *buf,
                         size_t want)
{
	memset(buf, 0, want);
	memcpy(buf, data, size < want ? size : want);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct ipc_query q;
		struct ipc_event e;
		struct ipc_reply r;
	} in, out;

	if (ipc_decode_query(data, size, &out.q) == 0) {
		FUZZ_CHECK(size == sizeof out.q);
		check_query(&out.q);
	}
	if (ipc_decode_query(exact(data, size, &in, sizeof in.q), sizeof in.q,
	                     &out.q) == 0)
		check_query(&out.q);

	if (ipc_decode_event(data, size, &out.e) == 0) {
		FUZZ_CHECK(size == sizeof out.e);
		check_event(&out.e);
	}
	if (ipc_decode_event(exact(data, size, &in, sizeof in.e), sizeof in.e,
	                     &out.e) == 0)
		check_event(&out.e);

	if (ipc_decode_reply(data, size, &out.r) == 0) {
		FUZZ_CHECK(size == sizeof out.r);
		check_reply(&out.r);
	}
	if (ipc_decode_reply(exact(data, size, &in, sizeof in.r), sizeof in.r,
	                     &out.r) == 0)
		check_reply(&out.r);
	return 0;
}
