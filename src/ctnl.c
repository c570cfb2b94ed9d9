/* The inner end of a relayed (NAT) connection, from conntrack through
 * ctnetlink (doc/design.md §3, §4): the request builder and the reply
 * parser, pure.
 *
 * Which entry. The ident query reaches this host (the gateway) from the
 * querier; the connection it asks about left this host, after source NAT,
 * from t->local:t->local_port to t->remote:t->remote_port. Conntrack keeps
 * that as the REPLY tuple of the inner host's entry (replies come from the
 * querier to this host), while the ORIGINAL tuple holds the inner host's
 * own address and port:
 *   original: inner:iport  -> querier:qport
 *   reply:    querier:qport -> gateway:gport
 * ctnetlink_get_conntrack (net/netfilter/nf_conntrack_netlink.c) accepts
 * either tuple: it parses CTA_TUPLE_ORIG if present, else CTA_TUPLE_REPLY,
 * in the zone of CTA_ZONE (absent: zone 0), and looks the tuple up in the
 * hash that holds both directions of every entry. So an entry whose
 * ORIGINAL tuple happens to be the one asked (the querier connected to this
 * host, unNATed) is found as well: the reply's CTA_TUPLE_REPLY must be the
 * tuple asked, else CTNL_MISMATCH.
 *
 * The answer (ctnetlink_fill_info): one message of type
 * NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW (not _GET), flags
 * NLM_F_MULTI, our sequence number and port id, nfgenmsg { the entry's
 * family, NFNETLINK_V0, 0 }, then CTA_TUPLE_ORIG and CTA_TUPLE_REPLY (each
 * { CTA_TUPLE_IP { CTA_IP_V4_SRC/DST or CTA_IP_V6_SRC/DST }, CTA_TUPLE_PROTO
 * { CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT }, CTA_TUPLE_ZONE
 * only for a directional non-zero zone }), CTA_ZONE only for a non-zero
 * zone, and status, timeout, id, counters, protocol state and the like,
 * which are not read. Then, since we ask with NLM_F_ACK, an NLMSG_ERROR
 * with error 0 in a datagram of its own; a failed get is one NLMSG_ERROR
 * with the error (-ENOENT: no such entry) and nothing else. Each message
 * in a datagram of its own.
 *
 * Structure against content: a reply that breaks the layout (bounds, a
 * missing or wrongly sized attribute, the other family's addresses, a
 * repeated attribute) is CTNL_ERROR; a well-formed entry that is not the
 * one asked is CTNL_MISMATCH. Both are refused; the difference is only
 * what gets logged. */
#include "ctnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

/* Message types: the subsystem in the high byte, its message in the low. */
#define CTNL_MSG(m) ((uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | (m)))
#define CTNL_MSG_GET CTNL_MSG(IPCTNL_MSG_CT_GET) /* what we send */
#define CTNL_MSG_NEW CTNL_MSG(IPCTNL_MSG_CT_NEW) /* how an entry comes back */

/* The highest attribute type read at each level; the tables below hold
 * types 1 to these. Others are bounds-checked and skipped: the kernel adds
 * attributes over time, and none it may add changes what the two tuples
 * mean. */
#define TOP_MAX CTA_ZONE            /* tuples, and the zone */
#define TUPLE_MAX CTA_TUPLE_ZONE    /* address nest, protocol nest, zone */
#define IP_MAX CTA_IP_V6_DST        /* both families' addresses */
#define PROTO_MAX CTA_PROTO_DST_PORT /* protocol number and ports */

/* Payload sizes, exactly as the kernel writes them (nla_put_in_addr,
 * nla_put_in6_addr, nla_put_u8, nla_put_be16). */
#define V4_LEN 4
#define V6_LEN 16
#define PROTO_NUM_LEN 1
#define PORT_LEN 2

/* ---- request ---------------------------------------------------------- */

/* An attribute header and payload at b + off, zero padding to alignment.
 * Returns the offset after it. Offsets are bounded by the fixed layout
 * (96 bytes at most, checked against CTNL_REQUEST_SIZE by the caller's
 * buffer size). */
static size_t put_attr(uint8_t *b, size_t off, uint16_t type,
                       const void *data, size_t n)
{
	struct nlattr nla = {
		.nla_len = (uint16_t)(NLA_HDRLEN + n),
		.nla_type = type,
	};

	memcpy(b + off, &nla, sizeof nla);
	memcpy(b + off + NLA_HDRLEN, data, n);
	return off + NLA_ALIGN(NLA_HDRLEN + n);
}

/* A nested attribute's header at b + start, its length once its contents
 * end at end. NLA_F_NESTED as libmnl sets it; the kernel accepts both. */
static void put_nest(uint8_t *b, size_t start, size_t end, uint16_t type)
{
	struct nlattr nla = {
		.nla_len = (uint16_t)(end - start),
		.nla_type = (uint16_t)(type | NLA_F_NESTED),
	};

	memcpy(b + start, &nla, sizeof nla);
}

/* A tuple conntrack can be asked about: an Internet family, unscoped. */
static int tuple_askable(const struct tcp_tuple *t)
{
	return (t->family == AF_INET || t->family == AF_INET6) &&
	       t->scope_id == 0;
}

/* CTA_TUPLE_REPLY { CTA_TUPLE_IP { src, dst }, CTA_TUPLE_PROTO { TCP,
 * sport, dport } } at b + off: the querier to this host. */
static size_t put_reply_tuple(uint8_t *b, size_t off, const struct tcp_tuple *t)
{
	size_t tuple = off, ip, proto;
	size_t alen = t->family == AF_INET ? V4_LEN : V6_LEN;
	uint16_t asrc = t->family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
	uint16_t adst = t->family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST;
	uint16_t sport = htons(t->remote_port), dport = htons(t->local_port);
	uint8_t num = IPPROTO_TCP;

	ip = tuple + NLA_HDRLEN;
	off = put_attr(b, ip + NLA_HDRLEN, asrc, t->remote, alen);
	off = put_attr(b, off, adst, t->local, alen);
	put_nest(b, ip, off, CTA_TUPLE_IP);
	proto = off;
	off = put_attr(b, proto + NLA_HDRLEN, CTA_PROTO_NUM, &num, sizeof num);
	off = put_attr(b, off, CTA_PROTO_SRC_PORT, &sport, sizeof sport);
	off = put_attr(b, off, CTA_PROTO_DST_PORT, &dport, sizeof dport);
	put_nest(b, proto, off, CTA_TUPLE_PROTO);
	put_nest(b, tuple, off, CTA_TUPLE_REPLY);
	return off;
}

int ctnl_build_get(void *buf, size_t size, uint32_t seq,
                   const struct tcp_tuple *t)
{
	uint8_t r[CTNL_REQUEST_SIZE];
	struct nlmsghdr h;
	struct nfgenmsg g;
	size_t len;

	if (buf == NULL || t == NULL || !tuple_askable(t))
		return -1;
	memset(r, 0, sizeof r);
	memset(&g, 0, sizeof g);
	g.nfgen_family = (uint8_t)t->family;
	g.version = NFNETLINK_V0;
	g.res_id = htons(0);
	memcpy(r + NLMSG_HDRLEN, &g, sizeof g);
	len = put_reply_tuple(r, NLMSG_SPACE(sizeof g), t);

	memset(&h, 0, sizeof h);
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = CTNL_MSG_GET;
	/* An exact get, never NLM_F_DUMP; the acknowledgement marks the end
	 * of the answer, so nothing of it is left for the next request. */
	h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h.nlmsg_seq = seq;
	h.nlmsg_pid = 0; /* the kernel fills in the sender */
	memcpy(r, &h, sizeof h);
	if (size < len)
		return -1;
	memcpy(buf, r, len);
	return (int)len;
}

/* ---- reply: attributes ------------------------------------------------- */

/* One attribute's payload, as found. */
struct attr {
	const uint8_t *data;
	size_t len;
	int seen;
};

/* The attribute at p + *off within p[0..n): its type (the flag bits
 * NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off) and payload; *off moves
 * past it and its alignment padding (which the last one may lack). -1 if
 * it is shorter than its header or runs past n. */
static int attr_next(const uint8_t *p, size_t n, size_t *off, uint16_t *type,
                     struct attr *a)
{
	struct nlattr nla;
	size_t left = n - *off, step;

	if (left < NLA_HDRLEN)
		return -1;
	memcpy(&nla, p + *off, sizeof nla);
	if (nla.nla_len < NLA_HDRLEN || nla.nla_len > left)
		return -1;
	*type = nla.nla_type & NLA_TYPE_MASK;
	a->data = p + *off + NLA_HDRLEN;
	a->len = nla.nla_len - NLA_HDRLEN;
	a->seen = 1;
	step = NLA_ALIGN((size_t)nla.nla_len);
	*off = step >= left ? n : *off + step;
	return 0;
}

/* Walks the attributes in p[0..n) (a message's or a nest's payload), every
 * one bounds-checked, and puts those of types 1..max into tb[]. -1 if one
 * is malformed or a type read here comes twice: the kernel never repeats
 * one, and a reply that does is refused rather than have one copy win. */
static int attrs_collect(const uint8_t *p, size_t n, struct attr *tb,
                         size_t max)
{
	size_t off = 0;
	uint16_t type;
	struct attr a;

	memset(tb, 0, (max + 1) * sizeof *tb);
	while (off < n) {
		if (attr_next(p, n, &off, &type, &a) < 0)
			return -1;
		if (type == 0 || type > max)
			continue;
		if (tb[type].seen)
			return -1;
		tb[type] = a;
	}
	return 0;
}

/* Copies an attribute that must be present with exactly n bytes. */
static int get_exact(const struct attr *a, void *dst, size_t n)
{
	if (!a->seen || a->len != n)
		return -1;
	memcpy(dst, a->data, n);
	return 0;
}

/* ---- reply: tuples ------------------------------------------------------ */

/* A tuple as read from a reply. */
struct ct_tuple {
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* host order; 0 unless proto is TCP */
	uint8_t proto;
	int zoned;             /* it carried a CTA_TUPLE_ZONE */
};

/* CTA_TUPLE_IP: exactly the two addresses of the entry's family and none
 * of the other's. */
static int parse_ip(const struct attr *nest, int family, struct ct_tuple *ct)
{
	struct attr tb[IP_MAX + 1];
	int v4 = family == AF_INET;
	size_t alen = v4 ? V4_LEN : V6_LEN;

	if (attrs_collect(nest->data, nest->len, tb, IP_MAX) < 0)
		return -1;
	if (tb[v4 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC].seen ||
	    tb[v4 ? CTA_IP_V6_DST : CTA_IP_V4_DST].seen)
		return -1;
	if (get_exact(&tb[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], ct->src, alen) < 0 ||
	    get_exact(&tb[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST], ct->dst, alen) < 0)
		return -1;
	return 0;
}

/* CTA_TUPLE_PROTO: the protocol number, and for TCP both ports. Another
 * protocol's fields are not read (the caller refuses the entry). */
static int parse_proto(const struct attr *nest, struct ct_tuple *ct)
{
	struct attr tb[PROTO_MAX + 1];
	uint16_t sport, dport;

	if (attrs_collect(nest->data, nest->len, tb, PROTO_MAX) < 0 ||
	    get_exact(&tb[CTA_PROTO_NUM], &ct->proto, PROTO_NUM_LEN) < 0)
		return -1;
	if (ct->proto != IPPROTO_TCP)
		return 0;
	if (get_exact(&tb[CTA_PROTO_SRC_PORT], &sport, PORT_LEN) < 0 ||
	    get_exact(&tb[CTA_PROTO_DST_PORT], &dport, PORT_LEN) < 0)
		return -1;
	ct->sport = ntohs(sport);
	ct->dport = ntohs(dport);
	return 0;
}

/* CTA_TUPLE_ORIG or CTA_TUPLE_REPLY: both nests present. The nesting is
 * fixed (three levels), so no depth limit is needed: nests of other
 * attributes are never entered. */
static int parse_tuple(const struct attr *nest, int family, struct ct_tuple *ct)
{
	struct attr tb[TUPLE_MAX + 1];

	memset(ct, 0, sizeof *ct);
	if (!nest->seen || attrs_collect(nest->data, nest->len, tb, TUPLE_MAX) < 0)
		return -1;
	if (!tb[CTA_TUPLE_IP].seen || !tb[CTA_TUPLE_PROTO].seen)
		return -1;
	ct->zoned = tb[CTA_TUPLE_ZONE].seen;
	if (parse_ip(&tb[CTA_TUPLE_IP], family, ct) < 0 ||
	    parse_proto(&tb[CTA_TUPLE_PROTO], ct) < 0)
		return -1;
	return 0;
}

static int same_end(const uint8_t *addr, uint16_t port, const uint8_t *want,
                    uint16_t want_port, size_t alen)
{
	return port == want_port && memcmp(addr, want, alen) == 0;
}

/* The entry is the relayed connection asked about: zone 0 as asked (the
 * kernel writes a zone only when it is not 0), TCP both ways, its reply
 * tuple the one asked, its original destination the querier itself (source
 * NAT only: a DNAT'ed entry's inner host never spoke to the querier), and
 * its original source not this host's address (else it is this host's own
 * connection, which sock_diag answers for). */
static int entry_matches(const struct ct_tuple *orig, const struct ct_tuple *reply,
                         int zoned, const struct tcp_tuple *t)
{
	size_t alen = t->family == AF_INET ? V4_LEN : V6_LEN;

	if (zoned || orig->zoned || reply->zoned)
		return 0;
	if (orig->proto != IPPROTO_TCP || reply->proto != IPPROTO_TCP)
		return 0;
	if (!same_end(reply->src, reply->sport, t->remote, t->remote_port, alen) ||
	    !same_end(reply->dst, reply->dport, t->local, t->local_port, alen))
		return 0;
	if (!same_end(orig->dst, orig->dport, t->remote, t->remote_port, alen))
		return 0;
	return memcmp(orig->src, t->local, alen) != 0;
}

/* ---- reply: messages ---------------------------------------------------- */

/* The message fills the datagram: at least a header, within the buffer,
 * and only alignment padding after it (one message per datagram). */
static int frame_ok(const struct nlmsghdr *h, size_t len)
{
	if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
		return 0;
	return len <= NLMSG_ALIGN((size_t)h->nlmsg_len);
}

static enum ctnl_status parse_entry(const uint8_t *buf,
                                    const struct nlmsghdr *h,
                                    const struct tcp_tuple *t,
                                    struct ctnl_result *out)
{
	struct attr tb[TOP_MAX + 1];
	struct ct_tuple orig, reply;
	struct nfgenmsg g;
	size_t body = NLMSG_SPACE(sizeof g);

	if (h->nlmsg_len < body)
		return CTNL_ERROR;
	memcpy(&g, buf + NLMSG_HDRLEN, sizeof g);
	if (g.version != NFNETLINK_V0)
		return CTNL_ERROR;
	/* res_id is not read: it names no resource in a ctnetlink reply. The
	 * family decides how the tuples are read, so it is compared first. */
	if (g.nfgen_family != t->family)
		return CTNL_MISMATCH;
	if (attrs_collect(buf + body, h->nlmsg_len - body, tb, TOP_MAX) < 0 ||
	    parse_tuple(&tb[CTA_TUPLE_ORIG], t->family, &orig) < 0 ||
	    parse_tuple(&tb[CTA_TUPLE_REPLY], t->family, &reply) < 0)
		return CTNL_ERROR;
	if (!entry_matches(&orig, &reply, tb[CTA_ZONE].seen, t))
		return CTNL_MISMATCH;
	out->family = t->family;
	memcpy(out->src, orig.src, sizeof out->src);
	memcpy(out->dst, orig.dst, sizeof out->dst);
	out->src_port = orig.sport;
	out->dst_port = orig.dport;
	return CTNL_FOUND;
}

/* NLMSG_ERROR: the kernel's acknowledgement (0) or error, for our request
 * (it echoes the request's header: our sequence number and type). */
static enum ctnl_status parse_error(const uint8_t *buf, const struct nlmsghdr *h,
                                    uint32_t seq)
{
	struct nlmsgerr e;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof e))
		return CTNL_ERROR;
	memcpy(&e, buf + NLMSG_HDRLEN, sizeof e);
	if (e.msg.nlmsg_seq != seq || e.msg.nlmsg_type != CTNL_MSG_GET)
		return CTNL_ERROR;
	if (e.error == 0)
		return CTNL_ACK;
	return e.error == -ENOENT ? CTNL_NOT_FOUND : CTNL_ERROR;
}

enum ctnl_status ctnl_parse_reply(const void *buf, size_t len, uint32_t seq,
                                  uint32_t portid, const struct tcp_tuple *t,
                                  struct ctnl_result *out)
{
	struct nlmsghdr h;

	if (out != NULL)
		memset(out, 0, sizeof *out);
	if (buf == NULL || t == NULL || out == NULL || !tuple_askable(t) ||
	    len < sizeof h)
		return CTNL_ERROR;
	memcpy(&h, buf, sizeof h);
	/* nlmsg_flags are not read: NLM_F_MULTI on an entry, the ack's flags
	 * (NLM_F_CAPPED, NLM_F_ACK_TLVS) depend on socket options. */
	if (!frame_ok(&h, len) || h.nlmsg_seq != seq || h.nlmsg_pid != portid)
		return CTNL_ERROR;
	if (h.nlmsg_type == NLMSG_ERROR)
		return parse_error(buf, &h, seq);
	if (h.nlmsg_type == CTNL_MSG_NEW)
		return parse_entry(buf, &h, t, out);
	return CTNL_ERROR;
}
