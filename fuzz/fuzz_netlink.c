/* libFuzzer target: the netlink sock_diag reply parser (nl_parse_reply in
 * src/netlink.c), which must take nothing for granted in what the kernel
 * (or anything posing as it) answers.
 *
 * Input: a flags byte, a 32-bit sequence number, then either the tuple
 * asked about (flags & FROM_INPUT: family byte, two 16-byte addresses, two
 * 16-bit ports, and with flags & SCOPED a 32-bit scope id) or nothing, the
 * tuple then being taken from the reply's own inet_diag_msg (so that the
 * identity checks pass and the fuzzer reaches what lies behind them); the
 * rest is the reply.
 *
 * Checked: the result is one of the four, and NL_FOUND only for a
 * SOCK_DIAG_BY_FAMILY message with our sequence number, both ports, the
 * interface of a scoped IPv6 tuple, an inode, an owning state, and the uid
 * it carries. Also a round trip: the
 * request nl_build_request makes, answered the way the kernel answers it
 * (the same identity, an established socket with an inode), parses as
 * NL_FOUND with that uid.
 *
 * With flags & DUMP the rest is one datagram of a proxied lookup's dump
 * (nl_parse_dump, in the family flags & FAMILY6 names) instead. Checked:
 * the step and the result are in range; at most NL_PROXY_SOCKETS_MAX
 * sockets; unless the step is an error, every socket message before the
 * end has our sequence number, the family asked and both ports; NL_FOUND
 * only for sockets of one owner. Also a round trip: the dump request,
 * answered with one matching socket and NLMSG_DONE, is NL_FOUND. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "fuzz.h"
#include "fuzz_tuple.h"
#include "netlink.h"

enum {
	FROM_INPUT = 1,     /* the tuple is spelt out in the input */
	SEQ_FROM_REPLY = 2, /* the sequence number is the reply's own */
	FAMILY6 = 4,        /* a derived tuple is AF_INET6 (else AF_INET) */
	SCOPED = 8,         /* the tuple has a scope id: 4 more input bytes
	                       after a spelt-out tuple, else the reply's
	                       idiag_if */
	DUMP = 16,          /* the reply is a datagram of a proxied dump */
};

/* The tuple the reply's inet_diag_msg describes, as the helper would have
 * asked it: an AF_INET tuple takes the first four bytes of an AF_INET
 * message's addresses, or the last four of an AF_INET6 one's (v4-mapped). */
static void tuple_from_reply(const uint8_t *r, size_t len, int family,
                             int scoped, struct tcp_tuple *t)
{
	struct inet_diag_msg m;

	memset(t, 0, sizeof *t);
	t->family = family;
	if (len < NLMSG_HDRLEN + sizeof m)
		return;
	memcpy(&m, r + NLMSG_HDRLEN, sizeof m);
	size_t off = family == AF_INET && m.idiag_family == AF_INET6 ? 12 : 0;
	size_t n = family == AF_INET ? 4 : 16;
	memcpy(t->local, (const uint8_t *)m.id.idiag_src + off, n);
	memcpy(t->remote, (const uint8_t *)m.id.idiag_dst + off, n);
	t->local_port = ntohs(m.id.idiag_sport);
	t->remote_port = ntohs(m.id.idiag_dport);
	if (scoped)
		t->scope_id = m.id.idiag_if;
}

/* What NL_FOUND promises about the reply. */
static void check_found(const uint8_t *r, size_t len,
                        const struct tcp_tuple *t, uint32_t seq, uint32_t uid)
{
	struct nlmsghdr h;
	struct inet_diag_msg m;

	FUZZ_CHECK(len >= NLMSG_HDRLEN + sizeof m);
	memcpy(&h, r, sizeof h);
	memcpy(&m, r + NLMSG_HDRLEN, sizeof m);
	FUZZ_CHECK(h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_seq == seq);
	FUZZ_CHECK(h.nlmsg_len >= NLMSG_LENGTH(sizeof m) && h.nlmsg_len <= len);
	FUZZ_CHECK(m.idiag_family == AF_INET || m.idiag_family == AF_INET6);
	FUZZ_CHECK(m.idiag_inode != 0 && m.idiag_uid == uid);
	FUZZ_CHECK(m.idiag_state != TCP_LISTEN && m.idiag_state != TCP_CLOSE &&
	           m.idiag_state != TCP_TIME_WAIT && m.idiag_state != 0);
	FUZZ_CHECK(ntohs(m.id.idiag_sport) == t->local_port &&
	           ntohs(m.id.idiag_dport) == t->remote_port);
	FUZZ_CHECK(t->family != AF_INET6 || t->scope_id == 0 ||
	           m.id.idiag_if == t->scope_id);
}

/* The kernel's answer to a request: the request's own identity back, as
 * an established connection owned by uid. */
static void round_trip(const struct tcp_tuple *t, int family, uint32_t seq,
                       uint32_t uid, uint32_t inode)
{
	uint8_t req[NL_REQUEST_SIZE], reply[NLMSG_SPACE(sizeof(struct inet_diag_msg))];
	struct inet_diag_req_v2 rq;
	struct inet_diag_msg m;
	struct nlmsghdr h;
	uint32_t got = ~uid;
	size_t n = nl_build_request(req, sizeof req, t, family, seq);

	if (n == 0)
		return;
	FUZZ_CHECK(n == NLMSG_LENGTH(sizeof rq) && n <= sizeof req);
	memcpy(&h, req, sizeof h);
	memcpy(&rq, req + NLMSG_HDRLEN, sizeof rq);
	FUZZ_CHECK(h.nlmsg_len == n && h.nlmsg_seq == seq &&
	           h.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	           !(h.nlmsg_flags & NLM_F_DUMP));
	FUZZ_CHECK(rq.sdiag_family == family && rq.sdiag_protocol == IPPROTO_TCP);
	FUZZ_CHECK(rq.id.idiag_if == (t->family == AF_INET6 ? t->scope_id : 0));

	memset(&m, 0, sizeof m);
	m.idiag_family = rq.sdiag_family;
	m.idiag_state = TCP_ESTABLISHED;
	m.id = rq.id;
	m.idiag_uid = uid;
	m.idiag_inode = inode ? inode : 1;
	memset(reply, 0, sizeof reply);
	h.nlmsg_len = NLMSG_LENGTH(sizeof m);
	h.nlmsg_flags = 0;
	memcpy(reply, &h, sizeof h);
	memcpy(reply + NLMSG_HDRLEN, &m, sizeof m);
	FUZZ_CHECK(nl_parse_reply(reply, h.nlmsg_len, t, seq, &got) == NL_FOUND);
	FUZZ_CHECK(got == uid);
}

/* What a dump datagram that did not fail promises: each socket message
 * up to NLMSG_DONE is ours, of the family asked, on both ports. */
static void check_dump(const uint8_t *r, size_t len, const struct tcp_tuple *t,
                       int family, uint32_t seq)
{
	struct nlmsghdr h;
	struct inet_diag_msg m;
	size_t off = 0;

	while (len - off >= sizeof h) {
		memcpy(&h, r + off, sizeof h);
		FUZZ_CHECK(h.nlmsg_seq == seq && h.nlmsg_len >= NLMSG_HDRLEN &&
		           h.nlmsg_len <= len - off);
		if (h.nlmsg_type == NLMSG_DONE)
			return;
		FUZZ_CHECK(h.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		           h.nlmsg_len >= NLMSG_LENGTH(sizeof m));
		memcpy(&m, r + off + NLMSG_HDRLEN, sizeof m);
		FUZZ_CHECK(m.idiag_family == family &&
		           ntohs(m.id.idiag_sport) == t->local_port &&
		           ntohs(m.id.idiag_dport) == t->remote_port);
		if (NLMSG_ALIGN((size_t)h.nlmsg_len) >= len - off)
			return;
		off += NLMSG_ALIGN((size_t)h.nlmsg_len);
	}
}

/* The kernel's answer to a dump request: one socket that matches, with
 * another remote address, then NLMSG_DONE. */
static void dump_round_trip(const struct tcp_tuple *t, int family,
                            uint32_t seq, uint32_t uid)
{
	uint8_t req[NL_DUMP_REQUEST_SIZE];
	uint8_t reply[NLMSG_SPACE(sizeof(struct inet_diag_msg)) + NLMSG_SPACE(4)];
	struct inet_diag_msg m;
	struct nlmsghdr h;
	struct nl_owners o;
	uint32_t got = ~uid;
	size_t n = nl_build_dump_request(req, sizeof req, t, family, seq);
	size_t alen = t->family == AF_INET ? 4 : 16;
	size_t at = family == AF_INET6 && t->family == AF_INET ? 12 : 0;

	if (n == 0)
		return;
	memcpy(&h, req, sizeof h);
	FUZZ_CHECK(h.nlmsg_len == n && n <= sizeof req && h.nlmsg_seq == seq &&
	           h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
	memset(&m, 0, sizeof m);
	m.idiag_family = (uint8_t)family;
	m.idiag_state = TCP_ESTABLISHED;
	m.id.idiag_sport = htons(t->local_port);
	m.id.idiag_dport = htons(t->remote_port);
	if (at != 0) {
		memset((uint8_t *)m.id.idiag_src + 10, 0xff, 2);
		memset((uint8_t *)m.id.idiag_dst + 10, 0xff, 2);
	}
	memcpy((uint8_t *)m.id.idiag_src + at, t->local, alen);
	memset((uint8_t *)m.id.idiag_dst + at, 0x5a, alen);
	m.id.idiag_if = t->family == AF_INET6 ? t->scope_id : 0;
	m.idiag_uid = uid;
	m.idiag_inode = 1;
	memset(reply, 0, sizeof reply);
	h.nlmsg_len = NLMSG_LENGTH(sizeof m);
	h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h.nlmsg_flags = NLM_F_MULTI;
	memcpy(reply, &h, sizeof h);
	memcpy(reply + NLMSG_HDRLEN, &m, sizeof m);
	h.nlmsg_len = NLMSG_LENGTH(4);
	h.nlmsg_type = NLMSG_DONE;
	memcpy(reply + NLMSG_SPACE(sizeof m), &h, sizeof h);
	memset(&o, 0, sizeof o);
	FUZZ_CHECK(nl_parse_dump(reply, sizeof reply, t, family, seq, &o) ==
	           NL_DUMP_DONE);
	FUZZ_CHECK(nl_owners_result(&o, &got) == NL_FOUND && got == uid);
}

static void fuzz_dump(const uint8_t *reply, size_t size,
                      const struct tcp_tuple *t, int family, uint32_t seq)
{
	struct nl_owners o;
	uint32_t uid = 0;

	memset(&o, 0, sizeof o);
	enum nl_dump_step s = nl_parse_dump(reply, size, t, family, seq, &o);
	FUZZ_CHECK(s == NL_DUMP_MORE || s == NL_DUMP_DONE || s == NL_DUMP_ERROR);
	FUZZ_CHECK(o.sockets <= NL_PROXY_SOCKETS_MAX);
	if (s != NL_DUMP_ERROR)
		check_dump(reply, size, t, family, seq);
	enum nl_result r = nl_owners_result(&o, &uid);
	FUZZ_CHECK(r == NL_FOUND || r == NL_NOT_FOUND || r == NL_NO_OWNER ||
	           r == NL_ERROR);
	if (r == NL_FOUND)
		FUZZ_CHECK(o.owned && !o.unowned && !o.differ && uid == o.uid);
	if (t->family == AF_INET || t->family == AF_INET6)
		dump_round_trip(t, family, seq, seq ^ 0x5a5a5a5au);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_tuple t;
	uint32_t seq, uid = 0;
	uint8_t flags;

	if (size < 5)
		return 0;
	flags = data[0];
	seq = get32(data + 1);
	data += 5;
	size -= 5;
	if (flags & FROM_INPUT) {
		if (size < TUPLE_BYTES)
			return 0;
		tuple_from_input(data, &t);
		data += TUPLE_BYTES;
		size -= TUPLE_BYTES;
		if (flags & SCOPED) {
			if (size < sizeof t.scope_id)
				return 0;
			memcpy(&t.scope_id, data, sizeof t.scope_id);
			data += sizeof t.scope_id;
			size -= sizeof t.scope_id;
		}
	} else {
		tuple_from_reply(data, size, flags & FAMILY6 ? AF_INET6 : AF_INET,
		                 flags & SCOPED, &t);
	}
	if ((flags & SEQ_FROM_REPLY) && size >= NLMSG_HDRLEN)
		seq = get32(data + offsetof(struct nlmsghdr, nlmsg_seq));

	/* An exact copy, so that a read past the reply is seen. */
	uint8_t *reply = malloc(size ? size : 1);
	FUZZ_CHECK(reply != NULL);
	memcpy(reply, data, size);
	if (flags & DUMP) {
		fuzz_dump(reply, size, &t, flags & FAMILY6 ? AF_INET6 : AF_INET, seq);
		free(reply);
		return 0;
	}
	enum nl_result r = nl_parse_reply(reply, size, &t, seq, &uid);
	FUZZ_CHECK(r == NL_FOUND || r == NL_NOT_FOUND || r == NL_NO_OWNER ||
	           r == NL_ERROR);
	if (r == NL_FOUND)
		check_found(reply, size, &t, seq, uid);
	free(reply);

	if (t.family == AF_INET || t.family == AF_INET6) {
		round_trip(&t, t.family, seq, uid, seq);
		if (t.family == AF_INET)  /* asked again as v4-mapped */
			round_trip(&t, AF_INET6, seq + 1, uid, seq);
	}
	return 0;
}
