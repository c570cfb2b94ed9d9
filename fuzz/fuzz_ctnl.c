/* libFuzzer target: the conntrack reply parser (ctnl_parse_reply in
 * src/ctnl.c), which must take nothing for granted in what the kernel (or
 * anything posing as it) answers, and the request builder.
 *
 * Input: a flags byte, a 32-bit sequence number, a 32-bit port id, then
 * either the tuple asked about (flags & FROM_INPUT: family byte, two
 * 16-byte addresses, two 16-bit ports) or nothing, the tuple then being
 * taken from the reply's own CTA_TUPLE_REPLY (so that the identity checks
 * pass and the fuzzer reaches what lies behind them); the rest is the
 * reply. SEQ_FROM_REPLY and PID_FROM_REPLY take those from its header.
 *
 * Checked: the result is one of the five; anything but CTNL_FOUND leaves
 * the result zeroed; CTNL_FOUND only for a CT_NEW message with our
 * sequence number and port id, of the tuple's family, whose original
 * destination is the querier and whose source is not this host's address.
 * Also a round trip: the request ctnl_build_get makes, answered as the
 * kernel answers it (its own reply tuple back, and an original tuple from
 * an inner host), parses as CTNL_FOUND with that inner host. */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "ctnl.h"
#include "fuzz.h"
#include "fuzz_tuple.h"

enum {
	FROM_INPUT = 1,     /* the tuple is spelt out in the input */
	SEQ_FROM_REPLY = 2, /* the sequence number is the reply's own */
	PID_FROM_REPLY = 4, /* the port id is the reply's own */
	FAMILY6 = 8,        /* a derived tuple is AF_INET6 (else AF_INET) */
};

#define PREFIX_BYTES (1 + 4 + 4)
#define MSG_NEW ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)
#define MSG_GET ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET)
/* The inner host's port in the round trip. */
#define INNER_PORT 41130

/* The payload of the first attribute of type type (flags masked) in
 * p[0..n), bounds-checked; NULL if none. A walker of its own, so that the
 * derived tuple does not depend on the code under test. */
static const uint8_t *find(const uint8_t *p, size_t n, uint16_t type, size_t *len)
{
	struct nlattr a;
	size_t off = 0;

	while (n - off >= NLA_HDRLEN) {
		memcpy(&a, p + off, sizeof a);
		if (a.nla_len < NLA_HDRLEN || a.nla_len > n - off)
			return NULL;
		if ((a.nla_type & NLA_TYPE_MASK) == type) {
			*len = a.nla_len - NLA_HDRLEN;
			return p + off + NLA_HDRLEN;
		}
		off += NLA_ALIGN((size_t)a.nla_len);
		if (off > n)
			return NULL;
	}
	return NULL;
}

/* The tuple whose request the reply's CTA_TUPLE_REPLY would answer:
 * local = its destination, remote = its source. Whatever is missing stays
 * zero. */
static void tuple_from_reply(const uint8_t *r, size_t n, int family,
                             struct tcp_tuple *t)
{
	const size_t body = NLMSG_SPACE(sizeof(struct nfgenmsg));
	const uint8_t *tu, *ip, *pr, *a;
	size_t tn, in, pn, an, alen = family == AF_INET ? 4 : 16;
	int v4 = family == AF_INET;

	memset(t, 0, sizeof *t);
	t->family = family;
	if (n < body || (tu = find(r + body, n - body, CTA_TUPLE_REPLY, &tn)) == NULL)
		return;
	if ((ip = find(tu, tn, CTA_TUPLE_IP, &in)) != NULL) {
		a = find(ip, in, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, &an);
		if (a != NULL && an == alen)
			memcpy(t->remote, a, alen);
		a = find(ip, in, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, &an);
		if (a != NULL && an == alen)
			memcpy(t->local, a, alen);
	}
	if ((pr = find(tu, tn, CTA_TUPLE_PROTO, &pn)) != NULL) {
		a = find(pr, pn, CTA_PROTO_SRC_PORT, &an);
		if (a != NULL && an == 2)
			t->remote_port = get16(a);
		a = find(pr, pn, CTA_PROTO_DST_PORT, &an);
		if (a != NULL && an == 2)
			t->local_port = get16(a);
	}
}

static void check_result(const uint8_t *r, size_t n, uint32_t seq, uint32_t pid,
                         const struct tcp_tuple *t, enum ctnl_status st,
                         const struct ctnl_result *res)
{
	struct ctnl_result zero;
	struct nlmsghdr h;
	struct nfgenmsg g;
	size_t alen = t->family == AF_INET ? 4 : 16;

	FUZZ_CHECK(st == CTNL_FOUND || st == CTNL_NOT_FOUND || st == CTNL_MISMATCH ||
	           st == CTNL_ACK || st == CTNL_ERROR);
	memset(&zero, 0, sizeof zero);
	if (st != CTNL_FOUND) {
		FUZZ_CHECK(memcmp(res, &zero, sizeof zero) == 0);
		return;
	}
	FUZZ_CHECK(n >= NLMSG_SPACE(sizeof g));
	memcpy(&h, r, sizeof h);
	memcpy(&g, r + NLMSG_HDRLEN, sizeof g);
	FUZZ_CHECK(h.nlmsg_type == MSG_NEW && h.nlmsg_seq == seq && h.nlmsg_pid == pid);
	FUZZ_CHECK(h.nlmsg_len <= n && g.nfgen_family == t->family);
	FUZZ_CHECK(t->scope_id == 0 && res->family == t->family);
	FUZZ_CHECK(memcmp(res->dst, t->remote, alen) == 0 &&
	           res->dst_port == t->remote_port);
	FUZZ_CHECK(memcmp(res->src, t->local, alen) != 0);
	FUZZ_CHECK(memcmp(res->src + alen, zero.src, 16 - alen) == 0 &&
	           memcmp(res->dst + alen, zero.dst, 16 - alen) == 0);
}

/* The kernel's answer to the request: nlmsghdr, nfgenmsg, the request's
 * own tuple nest as CTA_TUPLE_ORIG with the inner host's address and port
 * as source and the querier as destination, then the nest unchanged as
 * CTA_TUPLE_REPLY. Offsets follow the request's fixed layout. */
static void round_trip(const struct tcp_tuple *t, uint32_t seq, uint32_t pid)
{
	uint8_t req[CTNL_REQUEST_SIZE], reply[2 * CTNL_REQUEST_SIZE];
	const size_t body = NLMSG_SPACE(sizeof(struct nfgenmsg));
	size_t alen = t->family == AF_INET ? 4 : 16, nest, o;
	uint16_t orig_type = CTA_TUPLE_ORIG | NLA_F_NESTED;
	uint16_t iport = htons(INNER_PORT), rport = htons(t->remote_port);
	struct ctnl_result res;
	struct nlmsghdr h;
	uint8_t inner[16];
	int n = ctnl_build_get(req, sizeof req, seq, t);

	if (t->scope_id != 0 || (t->family != AF_INET && t->family != AF_INET6)) {
		FUZZ_CHECK(n == -1);
		return;
	}
	FUZZ_CHECK(n == (t->family == AF_INET ? 72 : 96));
	memcpy(&h, req, sizeof h);
	FUZZ_CHECK(h.nlmsg_len == (uint32_t)n && h.nlmsg_type == MSG_GET &&
	           h.nlmsg_seq == seq && h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
	nest = (size_t)n - body;
	memcpy(reply, req, body);
	memcpy(reply + body, req + body, nest);
	memcpy(reply + body + nest, req + body, nest);
	o = body;
	memcpy(reply + o + 2, &orig_type, sizeof orig_type);
	memcpy(inner, t->local, sizeof inner);
	inner[alen - 1] ^= 0x5a; /* an address not this host's */
	memcpy(reply + o + 12, inner, alen);
	memcpy(reply + o + 16 + alen, t->remote, alen);
	memcpy(reply + o + 32 + 2 * alen, &iport, sizeof iport);
	memcpy(reply + o + 40 + 2 * alen, &rport, sizeof rport);
	h.nlmsg_len = (uint32_t)(body + 2 * nest);
	h.nlmsg_type = MSG_NEW;
	h.nlmsg_flags = NLM_F_MULTI;
	h.nlmsg_pid = pid;
	memcpy(reply, &h, sizeof h);
	FUZZ_CHECK(ctnl_parse_reply(reply, h.nlmsg_len, seq, pid, t, &res) == CTNL_FOUND);
	FUZZ_CHECK(memcmp(res.src, inner, alen) == 0 && res.src_port == INNER_PORT);
	FUZZ_CHECK(memcmp(res.dst, t->remote, alen) == 0 &&
	           res.dst_port == t->remote_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctnl_result res;
	struct tcp_tuple t;
	enum ctnl_status st;
	uint32_t seq, pid;
	uint8_t flags;

	if (size < PREFIX_BYTES)
		return 0;
	flags = data[0];
	seq = get32(data + 1);
	pid = get32(data + 5);
	data += PREFIX_BYTES;
	size -= PREFIX_BYTES;
	if (flags & FROM_INPUT) {
		if (size < TUPLE_BYTES)
			return 0;
		tuple_from_input(data, &t);
		data += TUPLE_BYTES;
		size -= TUPLE_BYTES;
	} else {
		tuple_from_reply(data, size, flags & FAMILY6 ? AF_INET6 : AF_INET, &t);
	}
	if ((flags & SEQ_FROM_REPLY) && size >= NLMSG_HDRLEN)
		seq = get32(data + offsetof(struct nlmsghdr, nlmsg_seq));
	if ((flags & PID_FROM_REPLY) && size >= NLMSG_HDRLEN)
		pid = get32(data + offsetof(struct nlmsghdr, nlmsg_pid));

	/* An exact copy, so that a read past the reply is seen. */
	uint8_t *reply = malloc(size ? size : 1);
	FUZZ_CHECK(reply != NULL);
	memcpy(reply, data, size);
	memset(&res, 0xa5, sizeof res);
	st = ctnl_parse_reply(reply, size, seq, pid, &t, &res);
	check_result(reply, size, seq, pid, &t, st, &res);
	free(reply);

	round_trip(&t, seq, pid);
	return 0;
}
