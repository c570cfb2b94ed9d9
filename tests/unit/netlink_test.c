/* Unit tests for tuple.c and netlink.c: the pure tuple builder, the request
 * encoder and reply parser on messages built here, and exact lookups against
 * the running kernel over loopback (no root needed: the uid is our own;
 * root for a link-local connection in a network namespace of its own). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "netlink.h"
#include "tuple.h"

#define TEST_SEQ 0x1234abcdu
#define TEST_UID 1000u
#define TEST_INODE 424242u
#define TCP_NEW_SYN_RECV_STATE 12
/* A uid nobody owns in these tests, to see that a non-FOUND result leaves
 * *uid alone. */
#define UID_SENTINEL 0xdeadbeefu
/* How long the time-wait test waits for loopback to finish the close. */
#define TW_POLL_TRIES 200
#define TW_POLL_USEC 5000

/* ---- helpers ---------------------------------------------------------- */

static void v4(uint8_t out[16], const char *s)
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void v6(uint8_t out[16], const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static struct sockaddr_in sin_of(const char *s, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, s, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 sin6_of(const char *s, uint16_t port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof a);
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, s, &a.sin6_addr), 1);
	return a;
}

static struct tcp_tuple tuple4(const char *l, uint16_t lp, const char *r,
                               uint16_t rp)
{
	struct tcp_tuple t;

	memset(&t, 0, sizeof t);
	t.family = AF_INET;
	v4(t.local, l);
	v4(t.remote, r);
	t.local_port = lp;
	t.remote_port = rp;
	return t;
}

static struct tcp_tuple tuple6(const char *l, uint16_t lp, const char *r,
                               uint16_t rp)
{
	struct tcp_tuple t;

	memset(&t, 0, sizeof t);
	t.family = AF_INET6;
	v6(t.local, l);
	v6(t.remote, r);
	t.local_port = lp;
	t.remote_port = rp;
	return t;
}

/* ---- tuple_from_addrs ------------------------------------------------- */

static void test_tuple_ipv4(void **state)
{
	struct sockaddr_in l = sin_of("192.0.2.1", 113), p = sin_of("198.51.100.7", 40000);
	struct tcp_tuple t;
	uint8_t want[16];

	(void)state;
	assert_int_equal(tuple_from_addrs((struct sockaddr *)&l, sizeof l,
	                                  (struct sockaddr *)&p, sizeof p,
	                                  6193, 23, &t), 0);
	assert_int_equal(t.family, AF_INET);
	v4(want, "192.0.2.1");
	assert_memory_equal(t.local, want, 16);
	v4(want, "198.51.100.7");
	assert_memory_equal(t.remote, want, 16);
	/* the ports are the query's, not the query connection's */
	assert_int_equal(t.local_port, 6193);
	assert_int_equal(t.remote_port, 23);
}

static void test_tuple_ipv6(void **state)
{
	struct sockaddr_in6 l = sin6_of("2001:db8::1", 113), p = sin6_of("2001:db8::2:3", 4000);
	struct tcp_tuple t;
	uint8_t want[16];

	(void)state;
	assert_int_equal(tuple_from_addrs((struct sockaddr *)&l, sizeof l,
	                                  (struct sockaddr *)&p, sizeof p,
	                                  65535, 1, &t), 0);
	assert_int_equal(t.family, AF_INET6);
	v6(want, "2001:db8::1");
	assert_memory_equal(t.local, want, 16);
	v6(want, "2001:db8::2:3");
	assert_memory_equal(t.remote, want, 16);
	assert_int_equal(t.local_port, 65535);
	assert_int_equal(t.remote_port, 1);
}

static void test_tuple_mapped(void **state)
{
	struct sockaddr_in6 l = sin6_of("::ffff:192.0.2.1", 113);
	struct sockaddr_in6 p = sin6_of("::ffff:198.51.100.7", 5555);
	struct tcp_tuple t;
	uint8_t want[16];

	(void)state;
	assert_int_equal(tuple_from_addrs((struct sockaddr *)&l, sizeof l,
	                                  (struct sockaddr *)&p, sizeof p,
	                                  7, 8, &t), 0);
	assert_int_equal(t.family, AF_INET);
	v4(want, "192.0.2.1");
	assert_memory_equal(t.local, want, 16);
	v4(want, "198.51.100.7");
	assert_memory_equal(t.remote, want, 16);
	assert_int_equal(t.local_port, 7);
	assert_int_equal(t.remote_port, 8);
}

/* The tuple of a connection between l and p: its family and scope id. */
static struct tcp_tuple pair(const struct sockaddr_in6 *l,
                             const struct sockaddr_in6 *p)
{
	struct tcp_tuple t;

	assert_int_equal(tuple_from_addrs((const struct sockaddr *)l, sizeof *l,
	                                  (const struct sockaddr *)p, sizeof *p,
	                                  6193, 23, &t), 0);
	return t;
}

/* A link-local pair brings the interface both ends name; a scope on any
 * other address is not the connection's and is dropped. */
static void test_tuple_link_local(void **state)
{
	struct sockaddr_in6 l = sin6_of("fe80::1", 113), p = sin6_of("fe80::2", 4000);
	struct sockaddr_in6 g = sin6_of("2001:db8::9", 4000);
	struct sockaddr_in6 m = sin6_of("::ffff:192.0.2.1", 4000);

	(void)state;
	l.sin6_scope_id = p.sin6_scope_id = 3;
	assert_int_equal(pair(&l, &p).family, AF_INET6);
	assert_int_equal(pair(&l, &p).scope_id, 3);
	/* one link-local end is enough: the socket is bound to its link */
	assert_int_equal(pair(&g, &p).scope_id, 3);
	assert_int_equal(pair(&l, &g).scope_id, 3);
	/* a scope on a global or mapped address is not a link's */
	g.sin6_scope_id = 5;
	assert_int_equal(pair(&g, &g).scope_id, 0);
	m.sin6_scope_id = 5;
	assert_int_equal(pair(&m, &m).family, AF_INET);
	assert_int_equal(pair(&m, &m).scope_id, 0);
	/* no scope known: none asked (the lookup will find nothing) */
	l.sin6_scope_id = p.sin6_scope_id = 0;
	assert_int_equal(pair(&l, &p).scope_id, 0);
}

/* Expects failure and t untouched. */
static void expect_tuple_fail(const void *l, socklen_t ll, const void *p,
                              socklen_t pl)
{
	struct tcp_tuple t, before;

	memset(&t, 0xa5, sizeof t);
	before = t;
	assert_int_equal(tuple_from_addrs(l, ll, p, pl, 1, 2, &t), -1);
	assert_memory_equal(&t, &before, sizeof t);
}

static void test_tuple_mixed(void **state)
{
	struct sockaddr_in a4 = sin_of("192.0.2.1", 1);
	struct sockaddr_in6 a6 = sin6_of("2001:db8::1", 1);
	struct sockaddr_in6 m6 = sin6_of("::ffff:192.0.2.2", 1);

	(void)state;
	expect_tuple_fail(&a4, sizeof a4, &a6, sizeof a6);
	expect_tuple_fail(&a6, sizeof a6, &a4, sizeof a4);
	expect_tuple_fail(&m6, sizeof m6, &a6, sizeof a6);
	expect_tuple_fail(&a6, sizeof a6, &m6, sizeof m6);
	expect_tuple_fail(&a4, sizeof a4, &m6, sizeof m6);
	expect_tuple_fail(&m6, sizeof m6, &a4, sizeof a4);
}

static void test_tuple_bad(void **state)
{
	struct sockaddr_in a4 = sin_of("192.0.2.1", 1);
	struct sockaddr_in6 a6 = sin6_of("2001:db8::1", 1);
	struct sockaddr_in6 b6 = sin6_of("2001:db8::2", 1);
	struct sockaddr_in6 ll1 = sin6_of("fe80::1", 1), ll2 = sin6_of("fe80::2", 1);
	struct sockaddr_storage un;
	struct tcp_tuple t;

	(void)state;
	expect_tuple_fail(&a4, sizeof a4 - 1, &a4, sizeof a4);
	expect_tuple_fail(&a4, sizeof a4, &a4, sizeof a4 - 1);
	expect_tuple_fail(&a6, sizeof a6 - 1, &b6, sizeof b6);
	expect_tuple_fail(&a6, sizeof a6, &b6, sizeof b6 - 1);
	expect_tuple_fail(&a6, sizeof a4, &b6, sizeof a4); /* v6 in v4's room */
	expect_tuple_fail(&a4, 0, &a4, sizeof a4);
	expect_tuple_fail(&a4, 1, &a4, sizeof a4);
	expect_tuple_fail(NULL, sizeof a4, &a4, sizeof a4);
	expect_tuple_fail(&a4, sizeof a4, NULL, sizeof a4);
	memset(&un, 0, sizeof un);
	un.ss_family = AF_UNIX;
	expect_tuple_fail(&un, sizeof un, &un, sizeof un);
	un.ss_family = AF_UNSPEC;
	expect_tuple_fail(&un, sizeof un, &un, sizeof un);
	un.ss_family = AF_NETLINK;
	expect_tuple_fail(&a4, sizeof a4, &un, sizeof un);
	/* two link-local ends on two links: no one socket has that */
	ll1.sin6_scope_id = 2;
	ll2.sin6_scope_id = 3;
	expect_tuple_fail(&ll1, sizeof ll1, &ll2, sizeof ll2);
	assert_int_equal(tuple_from_addrs((struct sockaddr *)&a4, sizeof a4,
	                                  (struct sockaddr *)&a4, sizeof a4,
	                                  1, 2, NULL), -1);
	/* sanity: the same arguments with room succeed */
	assert_int_equal(tuple_from_addrs((struct sockaddr *)&a6, sizeof a6,
	                                  (struct sockaddr *)&b6, sizeof b6,
	                                  1, 2, &t), 0);
}

static void test_tuple_socket_not_tcp(void **state)
{
	struct sockaddr_in a = sin_of("127.0.0.1", 9);
	struct tcp_tuple t;
	int fd;

	(void)state;
	/* a connected UDP socket has both addresses but no TCP connection */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(tuple_from_socket(fd, 1, 2, &t), -1);
	close(fd);
	/* an unconnected TCP socket has no peer */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(tuple_from_socket(fd, 1, 2, &t), -1);
	close(fd);
	assert_int_equal(tuple_from_socket(-1, 1, 2, &t), -1);
}

/* ---- nl_build_request ------------------------------------------------- */

struct decoded_req {
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;
};

static struct decoded_req decode_req(const struct tcp_tuple *t, int family,
                                     uint32_t seq)
{
	uint8_t buf[NL_REQUEST_SIZE];
	struct decoded_req d;
	size_t n;

	memset(buf, 0x5a, sizeof buf);
	n = nl_build_request(buf, sizeof buf, t, family, seq);
	assert_int_equal(n, NLMSG_LENGTH(sizeof d.r));
	memcpy(&d.h, buf, sizeof d.h);
	memcpy(&d.r, buf + NLMSG_HDRLEN, sizeof d.r);
	assert_int_equal(d.h.nlmsg_len, n);
	assert_int_equal(d.h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_int_equal(d.h.nlmsg_flags, NLM_F_REQUEST);
	assert_int_equal(d.h.nlmsg_flags & NLM_F_DUMP, 0);
	assert_int_equal(d.h.nlmsg_seq, seq);
	assert_int_equal(d.h.nlmsg_pid, 0);
	assert_int_equal(d.r.sdiag_family, family);
	assert_int_equal(d.r.sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(d.r.idiag_ext, 0);
	assert_int_equal(d.r.pad, 0);
	assert_int_equal(d.r.idiag_states, 0xffffffffu);
	assert_int_equal(ntohs(d.r.id.idiag_sport), t->local_port);
	assert_int_equal(ntohs(d.r.id.idiag_dport), t->remote_port);
	assert_int_equal(d.r.id.idiag_if, t->family == AF_INET6 ? t->scope_id : 0);
	assert_int_equal(d.r.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
	assert_int_equal(d.r.id.idiag_cookie[1], INET_DIAG_NOCOOKIE);
	return d;
}

static void test_request_ipv4(void **state)
{
	struct tcp_tuple t = tuple4("192.0.2.1", 113, "198.51.100.7", 40001);
	struct decoded_req d;
	uint8_t want[16];

	(void)state;
	d = decode_req(&t, AF_INET, TEST_SEQ);
	v4(want, "192.0.2.1");
	assert_memory_equal(d.r.id.idiag_src, want, 16);
	v4(want, "198.51.100.7");
	assert_memory_equal(d.r.id.idiag_dst, want, 16);
}

static void test_request_ipv6(void **state)
{
	struct tcp_tuple t = tuple6("2001:db8::1", 6193, "2001:db8::99", 23);
	struct decoded_req d;
	uint8_t want[16];

	(void)state;
	d = decode_req(&t, AF_INET6, 7);
	v6(want, "2001:db8::1");
	assert_memory_equal(d.r.id.idiag_src, want, 16);
	v6(want, "2001:db8::99");
	assert_memory_equal(d.r.id.idiag_dst, want, 16);
}

static void test_request_mapped(void **state)
{
	struct tcp_tuple t = tuple4("127.0.0.1", 1, "10.1.2.3", 65535);
	struct decoded_req d;
	uint8_t want[16];

	(void)state;
	d = decode_req(&t, AF_INET6, 0xffffffffu);
	v6(want, "::ffff:127.0.0.1");
	assert_memory_equal(d.r.id.idiag_src, want, 16);
	v6(want, "::ffff:10.1.2.3");
	assert_memory_equal(d.r.id.idiag_dst, want, 16);
}

/* A link-local connection is asked for on its interface, and only an
 * IPv6 one: an IPv4 tuple's stray scope never reaches the kernel. */
static void test_request_link_local(void **state)
{
	struct tcp_tuple t = tuple6("fe80::1", 6193, "fe80::2", 23);
	struct tcp_tuple t4 = tuple4("192.0.2.1", 1, "192.0.2.2", 2);
	struct decoded_req d;

	(void)state;
	t.scope_id = 7;
	d = decode_req(&t, AF_INET6, 5);
	assert_int_equal(d.r.id.idiag_if, 7);
	t.scope_id = 0;
	d = decode_req(&t, AF_INET6, 5);
	assert_int_equal(d.r.id.idiag_if, 0);
	t4.scope_id = 7;
	d = decode_req(&t4, AF_INET, 5);
	assert_int_equal(d.r.id.idiag_if, 0);
	d = decode_req(&t4, AF_INET6, 5);
	assert_int_equal(d.r.id.idiag_if, 0);
}

static void test_request_impossible(void **state)
{
	struct tcp_tuple t4 = tuple4("192.0.2.1", 1, "192.0.2.2", 2);
	struct tcp_tuple t6 = tuple6("2001:db8::1", 1, "2001:db8::2", 2);
	uint8_t buf[NL_REQUEST_SIZE];
	size_t need = NLMSG_LENGTH(sizeof(struct inet_diag_req_v2));

	(void)state;
	assert_int_equal(nl_build_request(buf, need - 1, &t4, AF_INET, 1), 0);
	assert_int_equal(nl_build_request(buf, need, &t4, AF_INET, 1), need);
	assert_int_equal(nl_build_request(buf, sizeof buf, &t6, AF_INET, 1), 0);
	assert_int_equal(nl_build_request(buf, sizeof buf, &t4, AF_UNIX, 1), 0);
	assert_int_equal(nl_build_request(NULL, sizeof buf, &t4, AF_INET, 1), 0);
	assert_int_equal(nl_build_request(buf, sizeof buf, NULL, AF_INET, 1), 0);
	t4.family = AF_UNIX;
	assert_int_equal(nl_build_request(buf, sizeof buf, &t4, AF_INET, 1), 0);
}

/* ---- nl_parse_reply on canned kernel messages ------------------------- */

/* Room for a message, its attributes and some slack. */
#define CANNED_MAX 256
/* The kernel always appends INET_DIAG_SHUTDOWN (a u8, padded to 8). */
#define CANNED_ATTR_LEN (NLA_HDRLEN + 1)

struct canned {
	uint8_t buf[CANNED_MAX];
	size_t len;
};

static void canned_addr(__be32 dst[4], const uint8_t *a, int tfamily, int family)
{
	uint8_t out[16] = { 0 };

	if (family == AF_INET) {
		memcpy(out, a, 4);
	} else if (tfamily == AF_INET) {
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
	memcpy(dst, out, 16);
}

/* A kernel reply describing the socket of tuple t, as a socket of `family`. */
static struct canned diag_reply(const struct tcp_tuple *t, int family,
                                uint8_t st, uint32_t uid, uint32_t inode,
                                uint32_t seq)
{
	struct canned c;
	struct nlmsghdr h;
	struct inet_diag_msg m;
	struct nlattr a;
	size_t off = NLMSG_SPACE(sizeof m);

	memset(&c, 0, sizeof c);
	memset(&m, 0, sizeof m);
	m.idiag_family = (uint8_t)family;
	m.idiag_state = st;
	m.id.idiag_sport = htons(t->local_port);
	m.id.idiag_dport = htons(t->remote_port);
	canned_addr(m.id.idiag_src, t->local, t->family, family);
	canned_addr(m.id.idiag_dst, t->remote, t->family, family);
	m.id.idiag_cookie[0] = 0x11223344;
	m.idiag_uid = uid;
	m.idiag_inode = inode;
	a.nla_len = CANNED_ATTR_LEN;
	a.nla_type = INET_DIAG_SHUTDOWN;
	memset(&h, 0, sizeof h);
	h.nlmsg_len = (uint32_t)(off + NLA_ALIGN(CANNED_ATTR_LEN));
	h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h.nlmsg_seq = seq;
	h.nlmsg_pid = 4242;
	memcpy(c.buf, &h, sizeof h);
	memcpy(c.buf + NLMSG_HDRLEN, &m, sizeof m);
	memcpy(c.buf + off, &a, sizeof a);
	c.len = h.nlmsg_len;
	return c;
}

static struct canned error_reply(int error, uint32_t seq)
{
	struct canned c;
	struct nlmsghdr h;
	struct nlmsgerr e;

	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	e.error = error;
	e.msg.nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_req_v2));
	e.msg.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	e.msg.nlmsg_flags = NLM_F_REQUEST;
	e.msg.nlmsg_seq = seq;
	memset(&h, 0, sizeof h);
	/* the kernel echoes the request after nlmsgerr; its bytes are zero here */
	h.nlmsg_len = NLMSG_LENGTH(sizeof e + sizeof(struct inet_diag_req_v2));
	h.nlmsg_type = NLMSG_ERROR;
	h.nlmsg_seq = seq;
	memcpy(c.buf, &h, sizeof h);
	memcpy(c.buf + NLMSG_HDRLEN, &e, sizeof e);
	c.len = h.nlmsg_len;
	return c;
}

static struct inet_diag_msg get_msg(const struct canned *c)
{
	struct inet_diag_msg m;

	memcpy(&m, c->buf + NLMSG_HDRLEN, sizeof m);
	return m;
}

static void put_msg(struct canned *c, const struct inet_diag_msg *m)
{
	memcpy(c->buf + NLMSG_HDRLEN, m, sizeof *m);
}

static struct nlmsghdr get_hdr(const struct canned *c)
{
	struct nlmsghdr h;

	memcpy(&h, c->buf, sizeof h);
	return h;
}

static void put_hdr(struct canned *c, const struct nlmsghdr *h)
{
	memcpy(c->buf, h, sizeof *h);
}

/* Parses c for t and checks the result; *uid must be set only for FOUND. */
static void expect_parse(const struct canned *c, const struct tcp_tuple *t,
                         enum nl_result want, uint32_t want_uid)
{
	uint32_t uid = UID_SENTINEL;

	assert_int_equal(nl_parse_reply(c->buf, c->len, t, TEST_SEQ, &uid), want);
	assert_int_equal(uid, want == NL_FOUND ? want_uid : UID_SENTINEL);
}

static struct tcp_tuple sample4(void)
{
	return tuple4("192.0.2.10", 6193, "198.51.100.20", 23);
}

static struct tcp_tuple sample6(void)
{
	return tuple6("2001:db8::10", 6193, "2001:db8:1::20", 23);
}

static struct canned good4(void)
{
	struct tcp_tuple t = sample4();

	return diag_reply(&t, AF_INET, TCP_ESTABLISHED, TEST_UID, TEST_INODE, TEST_SEQ);
}

static void test_parse_found(void **state)
{
	struct tcp_tuple t4 = sample4(), t6 = sample6();
	struct canned c;

	(void)state;
	c = good4();
	expect_parse(&c, &t4, NL_FOUND, TEST_UID);
	c = diag_reply(&t6, AF_INET6, TCP_ESTABLISHED, 54321, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t6, NL_FOUND, 54321);
	/* uid 0 with an inode is a real root-owned socket */
	c = diag_reply(&t4, AF_INET, TCP_CLOSE_WAIT, 0, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t4, NL_FOUND, 0);
	c = diag_reply(&t4, AF_INET, TCP_SYN_SENT, 77, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t4, NL_FOUND, 77);
}

static void test_parse_mapped(void **state)
{
	struct tcp_tuple t = sample4();
	struct canned c;
	struct inet_diag_msg m;

	(void)state;
	/* a dual-stack IPv6 socket carrying an IPv4 connection */
	c = diag_reply(&t, AF_INET6, TCP_ESTABLISHED, TEST_UID, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t, NL_FOUND, TEST_UID);
	/* not mapped: ::fffe:a.b.c.d, and ::a.b.c.d (compatible) */
	m = get_msg(&c);
	((uint8_t *)m.id.idiag_src)[11] = 0xfe;
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_ERROR, 0);
	c = diag_reply(&t, AF_INET6, TCP_ESTABLISHED, TEST_UID, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	((uint8_t *)m.id.idiag_dst)[10] = 0;
	((uint8_t *)m.id.idiag_dst)[11] = 0;
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_ERROR, 0);
}

static void test_parse_ipv4_reply_first_word_only(void **state)
{
	struct tcp_tuple t = sample4();
	struct canned c = good4();
	struct inet_diag_msg m = get_msg(&c);

	(void)state;
	/* an AF_INET reply: only the first 4 bytes are the address */
	m.id.idiag_src[2] = 0x01020304;
	m.id.idiag_dst[3] = 0x05060708;
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_FOUND, TEST_UID);
}

static void test_parse_no_owner(void **state)
{
	struct tcp_tuple t = sample4(), t6 = sample6();
	struct canned c;

	(void)state;
	/* inode 0 with uid 0: an orphan; must not read as root */
	c = diag_reply(&t, AF_INET, TCP_FIN_WAIT2, 0, 0, TEST_SEQ);
	expect_parse(&c, &t, NL_NO_OWNER, 0);
	c = diag_reply(&t, AF_INET, TCP_ESTABLISHED, TEST_UID, 0, TEST_SEQ);
	expect_parse(&c, &t, NL_NO_OWNER, 0);
	/* time-wait and request sockets, whatever uid/inode they claim */
	c = diag_reply(&t, AF_INET, TCP_TIME_WAIT, 0, 0, TEST_SEQ);
	expect_parse(&c, &t, NL_NO_OWNER, 0);
	c = diag_reply(&t, AF_INET, TCP_TIME_WAIT, TEST_UID, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t, NL_NO_OWNER, 0);
	c = diag_reply(&t6, AF_INET6, TCP_NEW_SYN_RECV_STATE, TEST_UID, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t6, NL_NO_OWNER, 0);
}

/* nl_parse_listener_reply: only a LISTEN socket on the port asked, at
 * the address asked or the wildcard, and with an owner. */
static void test_parse_listener_reply(void **state)
{
	struct tcp_tuple t = sample4(), t6 = sample6();
	struct canned c;
	struct inet_diag_msg m;
	uint32_t uid = UID_SENTINEL;

	(void)state;
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ, &uid),
	                 NL_FOUND);
	assert_int_equal(uid, TEST_UID);
	/* a wildcard dual-stack listener */
	c = diag_reply(&t6, AF_INET6, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	memset(m.id.idiag_src, 0, sizeof m.id.idiag_src);
	put_msg(&c, &m);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t6, TEST_SEQ, &uid),
	                 NL_FOUND);
	/* not a listener: a connection is nothing here */
	c = diag_reply(&t, AF_INET, TCP_ESTABLISHED, TEST_UID, TEST_INODE, TEST_SEQ);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ, &uid),
	                 NL_NOT_FOUND);
	/* another port, or another address: an error, never a name */
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	m.id.idiag_sport = htons((uint16_t)(t.local_port + 1));
	put_msg(&c, &m);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ, &uid),
	                 NL_ERROR);
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	m.id.idiag_src[0] ^= htonl(1);
	put_msg(&c, &m);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ, &uid),
	                 NL_ERROR);
	/* no inode: no owner */
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, 0, TEST_SEQ);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ, &uid),
	                 NL_NO_OWNER);
	/* another request's, ENOENT */
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ + 1, &uid),
	                 NL_ERROR);
	c = error_reply(-ENOENT, TEST_SEQ);
	assert_int_equal(nl_parse_listener_reply(c.buf, c.len, &t, TEST_SEQ, &uid),
	                 NL_NOT_FOUND);
}

static void test_parse_listen(void **state)
{
	struct tcp_tuple t = sample4(), t6 = sample6();
	struct canned c;
	struct inet_diag_msg m;

	(void)state;
	/* the kernel's fallback: the listener on the port, dport 0, dst 0 */
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	m.id.idiag_dport = 0;
	memset(m.id.idiag_dst, 0, sizeof m.id.idiag_dst);
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_NOT_FOUND, 0);
	/* even one that (impossibly) names the whole tuple */
	c = diag_reply(&t, AF_INET, TCP_LISTEN, TEST_UID, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t, NL_NOT_FOUND, 0);
	/* a wildcard dual-stack listener answering an IPv6 lookup */
	c = diag_reply(&t6, AF_INET6, TCP_LISTEN, 0, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	m.id.idiag_dport = 0;
	memset(m.id.idiag_src, 0, sizeof m.id.idiag_src);
	memset(m.id.idiag_dst, 0, sizeof m.id.idiag_dst);
	put_msg(&c, &m);
	expect_parse(&c, &t6, NL_NOT_FOUND, 0);
	c = diag_reply(&t, AF_INET, TCP_CLOSE, TEST_UID, TEST_INODE, TEST_SEQ);
	expect_parse(&c, &t, NL_NOT_FOUND, 0);
}

/* The kernel reports the interface a socket is bound to: for a
 * link-local tuple it must be the one asked about. */
static void test_parse_link_local(void **state)
{
	struct tcp_tuple t = tuple6("fe80::1", 6193, "fe80::2", 23);
	struct canned c;
	struct inet_diag_msg m;

	(void)state;
	t.scope_id = 4;
	c = diag_reply(&t, AF_INET6, TCP_ESTABLISHED, TEST_UID, TEST_INODE, TEST_SEQ);
	m = get_msg(&c);
	m.id.idiag_if = 4;
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_FOUND, TEST_UID);
	m.id.idiag_if = 5;   /* the same addresses and ports on another link */
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_ERROR, 0);
	m.id.idiag_if = 0;
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_ERROR, 0);
	/* no scope asked: whatever the socket is bound to is not checked */
	t.scope_id = 0;
	m.id.idiag_if = 5;
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_FOUND, TEST_UID);
}

static void test_parse_nlmsg_error(void **state)
{
	struct tcp_tuple t = sample4();
	struct canned c;
	struct nlmsghdr h;

	(void)state;
	c = error_reply(-ENOENT, TEST_SEQ);
	expect_parse(&c, &t, NL_NOT_FOUND, 0);
	c = error_reply(-EPERM, TEST_SEQ);
	expect_parse(&c, &t, NL_ERROR, 0);
	c = error_reply(-EINVAL, TEST_SEQ);
	expect_parse(&c, &t, NL_ERROR, 0);
	c = error_reply(0, TEST_SEQ); /* an ACK we never asked for */
	expect_parse(&c, &t, NL_ERROR, 0);
	c = error_reply(ENOENT, TEST_SEQ); /* wrong sign */
	expect_parse(&c, &t, NL_ERROR, 0);
	c = error_reply(-ENOENT, TEST_SEQ + 1);
	expect_parse(&c, &t, NL_ERROR, 0);
	/* too short to hold struct nlmsgerr */
	c = error_reply(-ENOENT, TEST_SEQ);
	h = get_hdr(&c);
	h.nlmsg_len = NLMSG_LENGTH(sizeof(int));
	put_hdr(&c, &h);
	c.len = NLMSG_ALIGN(h.nlmsg_len);
	expect_parse(&c, &t, NL_ERROR, 0);
}

static void test_parse_wrong_seq(void **state)
{
	struct tcp_tuple t = sample4();
	struct canned c = good4();
	struct nlmsghdr h = get_hdr(&c);

	(void)state;
	h.nlmsg_seq = TEST_SEQ - 1;
	put_hdr(&c, &h);
	expect_parse(&c, &t, NL_ERROR, 0);
	h.nlmsg_seq = 0;
	put_hdr(&c, &h);
	expect_parse(&c, &t, NL_ERROR, 0);
}

static void test_parse_wrong_type(void **state)
{
	struct tcp_tuple t = sample4();
	uint16_t types[] = { NLMSG_DONE, NLMSG_NOOP, NLMSG_OVERRUN, 21, 0 };
	struct canned c;
	struct nlmsghdr h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		c = good4();
		h = get_hdr(&c);
		h.nlmsg_type = types[i];
		put_hdr(&c, &h);
		expect_parse(&c, &t, NL_ERROR, 0);
	}
}

/* Which field expect_wrong changes: the ports, a byte in the first word of
 * an address (all shapes), one past it (IPv6 and mapped replies only: an
 * AF_INET reply's address is its first word), the family, the state. */
enum field {
	F_SPORT, F_DPORT, F_SRC, F_DST, F_SRC6, F_DST6, F_DST_LAST,
	F_FAMILY, F_STATE,
};

/* How the reply in expect_wrong describes the socket. */
enum shape { IPV4, IPV6, MAPPED /* IPv4 tuple, dual-stack IPv6 socket */ };

/* A matching reply of that shape with one field changed by one bit. */
static void expect_wrong(enum field f, enum shape shape, uint8_t value)
{
	struct tcp_tuple t = shape == IPV6 ? sample6() : sample4();
	struct canned c = diag_reply(&t, shape == IPV4 ? AF_INET : AF_INET6,
	                             TCP_ESTABLISHED, TEST_UID, TEST_INODE,
	                             TEST_SEQ);
	struct inet_diag_msg m = get_msg(&c);

	switch (f) {
	case F_SPORT: m.id.idiag_sport ^= htons(1); break;
	case F_DPORT: m.id.idiag_dport ^= htons(0x100); break;
	case F_SRC: ((uint8_t *)m.id.idiag_src)[3] ^= 1; break;
	case F_DST: ((uint8_t *)m.id.idiag_dst)[0] ^= 0x80; break;
	case F_SRC6: ((uint8_t *)m.id.idiag_src)[15] ^= 1; break;
	case F_DST6: ((uint8_t *)m.id.idiag_dst)[4] ^= 1; break;
	case F_DST_LAST: ((uint8_t *)m.id.idiag_dst)[12] ^= 1; break;
	case F_FAMILY: m.idiag_family = value; break;
	case F_STATE: m.idiag_state = value; break;
	}
	put_msg(&c, &m);
	expect_parse(&c, &t, NL_ERROR, 0);
}

static void test_parse_wrong_identity(void **state)
{
	static const enum shape shapes[] = { IPV4, IPV6, MAPPED };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		expect_wrong(F_SPORT, shapes[i], 0);
		expect_wrong(F_DPORT, shapes[i], 0);
		expect_wrong(F_SRC, shapes[i], 0);
		expect_wrong(F_DST, shapes[i], 0);
		if (shapes[i] == IPV4)
			continue;
		expect_wrong(F_SRC6, shapes[i], 0);
		expect_wrong(F_DST6, shapes[i], 0);
		expect_wrong(F_DST_LAST, shapes[i], 0);
	}
}

static void test_parse_wrong_family_state(void **state)
{
	(void)state;
	expect_wrong(F_FAMILY, IPV4, AF_UNIX);
	expect_wrong(F_FAMILY, IPV4, AF_UNSPEC);
	expect_wrong(F_FAMILY, MAPPED, AF_NETLINK);
	expect_wrong(F_FAMILY, IPV6, AF_INET); /* IPv4 socket for an IPv6 tuple */
	expect_wrong(F_STATE, IPV4, 0);
	expect_wrong(F_STATE, IPV4, 13);
	expect_wrong(F_STATE, IPV6, 0xff);
}

static void test_parse_lengths(void **state)
{
	struct tcp_tuple t = sample4();
	struct canned c;
	struct nlmsghdr h;
	uint32_t uid = UID_SENTINEL;
	size_t full;

	(void)state;
	/* datagram shorter than the message */
	c = good4();
	full = c.len;
	c.len = full - 1;
	expect_parse(&c, &t, NL_ERROR, 0);
	c.len = NLMSG_HDRLEN + 10;
	expect_parse(&c, &t, NL_ERROR, 0);
	c.len = NLMSG_HDRLEN - 1;
	expect_parse(&c, &t, NL_ERROR, 0);
	c.len = 0;
	expect_parse(&c, &t, NL_ERROR, 0);
	/* nlmsg_len larger than the buffer */
	c = good4();
	h = get_hdr(&c);
	h.nlmsg_len = (uint32_t)full + 4;
	put_hdr(&c, &h);
	expect_parse(&c, &t, NL_ERROR, 0);
	h.nlmsg_len = 0xffffffffu;
	put_hdr(&c, &h);
	expect_parse(&c, &t, NL_ERROR, 0);
	/* nlmsg_len smaller than a header, or than header + inet_diag_msg */
	h.nlmsg_len = NLMSG_HDRLEN - 1;
	put_hdr(&c, &h);
	expect_parse(&c, &t, NL_ERROR, 0);
	h.nlmsg_len = 0;
	put_hdr(&c, &h);
	expect_parse(&c, &t, NL_ERROR, 0);
	h.nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_msg)) - 4;
	put_hdr(&c, &h);
	c.len = h.nlmsg_len;
	expect_parse(&c, &t, NL_ERROR, 0);
	/* a second message (or garbage) after the first */
	c = good4();
	c.len = full + NLMSG_HDRLEN;
	expect_parse(&c, &t, NL_ERROR, 0);
	/* sanity: the unmodified message and NULL arguments */
	c = good4();
	expect_parse(&c, &t, NL_FOUND, TEST_UID);
	assert_int_equal(nl_parse_reply(NULL, c.len, &t, TEST_SEQ, &uid), NL_ERROR);
	assert_int_equal(nl_parse_reply(c.buf, c.len, NULL, TEST_SEQ, &uid), NL_ERROR);
	assert_int_equal(nl_parse_reply(c.buf, c.len, &t, TEST_SEQ, NULL), NL_ERROR);
	t.family = AF_UNIX;
	assert_int_equal(nl_parse_reply(c.buf, c.len, &t, TEST_SEQ, &uid), NL_ERROR);
	assert_int_equal(uid, UID_SENTINEL);
}

static void test_parse_bad_attributes(void **state)
{
	struct tcp_tuple t = sample4();
	struct canned c;
	struct nlattr a;
	size_t off = NLMSG_SPACE(sizeof(struct inet_diag_msg));

	(void)state;
	c = good4();
	memcpy(&a, c.buf + off, sizeof a);
	a.nla_len = 64; /* runs past the message */
	memcpy(c.buf + off, &a, sizeof a);
	expect_parse(&c, &t, NL_ERROR, 0);
	a.nla_len = 2; /* shorter than its own header */
	memcpy(c.buf + off, &a, sizeof a);
	expect_parse(&c, &t, NL_ERROR, 0);
	/* no attributes at all is fine */
	c = good4();
	{
		struct nlmsghdr h = get_hdr(&c);

		h.nlmsg_len = (uint32_t)off;
		put_hdr(&c, &h);
		c.len = off;
	}
	expect_parse(&c, &t, NL_FOUND, TEST_UID);
}

/* ---- against the running kernel --------------------------------------- */

static uint16_t local_port(int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof a;

	memset(&a, 0, sizeof a);  /* whole: it is read back as sockaddr_in */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (a.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&a)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

static uint16_t peer_port(int fd)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof a;

	memset(&a, 0, sizeof a);  /* whole: it is read back as sockaddr_in */
	assert_int_equal(getpeername(fd, (struct sockaddr *)&a, &len), 0);
	if (a.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&a)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

/* A listening socket on addr, any port; -1 if addr cannot be bound. */
static int listen_on(int family, const char *addr, int v6only)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -1;
	if (family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		                            sizeof v6only), 0);
	if (family == AF_INET) {
		a4 = sin_of(addr, 0);
		rc = bind(fd, (struct sockaddr *)&a4, sizeof a4);
	} else {
		a6 = sin6_of(addr, 0);
		rc = bind(fd, (struct sockaddr *)&a6, sizeof a6);
	}
	if (rc < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(int family, const char *addr, uint16_t port, int v6only)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;

	assert_true(fd >= 0);
	if (family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		                            sizeof v6only), 0);
	if (family == AF_INET) {
		a4 = sin_of(addr, port);
		rc = connect(fd, (struct sockaddr *)&a4, sizeof a4);
	} else {
		a6 = sin6_of(addr, port);
		rc = connect(fd, (struct sockaddr *)&a6, sizeof a6);
	}
	assert_int_equal(rc, 0);
	return fd;
}

static int accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* The tuple of fd's own connection: local = its name, remote = its peer. */
static struct tcp_tuple tuple_of(int fd)
{
	struct tcp_tuple t;

	assert_int_equal(tuple_from_socket(fd, local_port(fd), peer_port(fd), &t), 0);
	return t;
}

typedef enum nl_result lookup_fn(int, const struct tcp_tuple *, uint32_t *);

/* t looked up with fn on a netlink socket of its own. */
static enum nl_result ask_with(lookup_fn *fn, const struct tcp_tuple *t,
                               uint32_t *uid)
{
	int nl = nl_open();
	enum nl_result r;

	assert_true(nl >= 0);
	r = fn(nl, t, uid);
	close(nl);
	return r;
}

static enum nl_result lookup(const struct tcp_tuple *t, uint32_t *uid)
{
	return ask_with(nl_lookup, t, uid);
}

static void expect_found(int fd, uint32_t want_uid)
{
	struct tcp_tuple t = tuple_of(fd);
	uint32_t uid = UID_SENTINEL;

	assert_int_equal(lookup(&t, &uid), NL_FOUND);
	assert_int_equal(uid, want_uid);
}

/* ---- proxied lookups against the kernel: helpers -------------------- */

/* t with another remote address: what a gateway's query gives. */
static struct tcp_tuple via_gateway(const struct tcp_tuple *t, const char *gw)
{
	struct tcp_tuple u = *t;

	if (u.family == AF_INET)
		v4(u.remote, gw);
	else
		v6(u.remote, gw);
	return u;
}

static void expect_proxied(const struct tcp_tuple *t, enum nl_result want,
                           uint32_t want_uid)
{
	uint32_t uid = UID_SENTINEL;

	assert_int_equal(ask_with(nl_lookup_proxied, t, &uid), want);
	assert_int_equal(uid, want == NL_FOUND ? want_uid : UID_SENTINEL);
}


/* Asks the kernel directly, bypassing nl_lookup, to see what it answers: the
 * reply's inet_diag_msg, or -1 with *err set for an NLMSG_ERROR. */
static int raw_query(const struct tcp_tuple *t, int family,
                     struct inet_diag_msg *m, int *err)
{
	uint8_t req[NL_REQUEST_SIZE], reply[NL_REPLY_MAX];
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct nlmsghdr h;
	struct nlmsgerr e;
	size_t len = nl_build_request(req, sizeof req, t, family, 99);
	int nl = nl_open();
	ssize_t n;

	assert_true(nl >= 0);
	assert_true(len > 0);
	assert_int_equal(sendto(nl, req, len, 0, (struct sockaddr *)&k, sizeof k),
	                 (ssize_t)len);
	n = recv(nl, reply, sizeof reply, 0);
	close(nl);
	assert_true(n >= (ssize_t)sizeof h);
	memcpy(&h, reply, sizeof h);
	if (h.nlmsg_type == NLMSG_ERROR) {
		memcpy(&e, reply + NLMSG_HDRLEN, sizeof e);
		*err = e.error;
		return -1;
	}
	assert_int_equal(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_true(n >= (ssize_t)NLMSG_LENGTH(sizeof *m));
	memcpy(m, reply + NLMSG_HDRLEN, sizeof *m);
	return 0;
}

static void test_nl_open(void **state)
{
	struct timeval tv;
	socklen_t len = sizeof tv;
	int nl = nl_open(), proto = -1;
	socklen_t plen = sizeof proto;

	(void)state;
	assert_true(nl >= 0);
	assert_int_equal(getsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
	assert_true(tv.tv_sec > 0 || tv.tv_usec > 0);
	assert_true(tv.tv_sec <= 5);
	assert_int_equal(getsockopt(nl, SOL_SOCKET, SO_PROTOCOL, &proto, &plen), 0);
	assert_int_equal(proto, NETLINK_SOCK_DIAG);
	assert_true(fcntl(nl, F_GETFD) & FD_CLOEXEC);
	close(nl);
}

static void test_kernel_ipv4(void **state)
{
	int l, c, s;

	(void)state;
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	c = connect_to(AF_INET, "127.0.0.1", local_port(l), 0);
	s = accept_one(l);
	assert_int_equal(tuple_of(c).family, AF_INET);
	expect_found(c, getuid());
	expect_found(s, getuid());
	close(c);
	close(s);
	close(l);
}

/* As root, a socket created with another fsuid belongs to that uid: the
 * answer is the socket's owner, not ours. */
static void test_kernel_other_owner(void **state)
{
	const uid_t other = 65534;
	int l, c, s;

	(void)state;
	if (geteuid() != 0) {
		skip(); /* needs root to create a socket owned by another uid */
		return;
	}
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	setfsuid(other);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setfsuid(0);
	assert_int_equal(setfsuid((uid_t)-1), 0);
	assert_true(c >= 0);
	{
		struct sockaddr_in a = sin_of("127.0.0.1", local_port(l));

		assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
	}
	s = accept_one(l);
	expect_found(c, other);
	expect_found(s, 0);
	close(c);
	close(s);
	close(l);
}

static void test_kernel_ipv6(void **state)
{
	struct tcp_tuple t;
	int l, c, s;

	(void)state;
	l = listen_on(AF_INET6, "::1", 1);
	if (l < 0) {
		print_message("IPv6 loopback ::1 unavailable; skipping\n");
		skip();
		return;
	}
	c = connect_to(AF_INET6, "::1", local_port(l), 1);
	s = accept_one(l);
	assert_int_equal(tuple_of(c).family, AF_INET6);
	expect_found(c, getuid());
	expect_found(s, getuid());
	/* a gateway's query, by the ports alone */
	t = tuple_of(c);
	t = via_gateway(&t, "2001:db8::99");
	expect_proxied(&t, NL_FOUND, getuid());
	t.remote_port++;
	expect_proxied(&t, NL_NOT_FOUND, 0);
	close(c);
	close(s);
	close(l);
}

/* An IPv4 connection made from a dual-stack AF_INET6 socket. */
static void test_kernel_dualstack_client(void **state)
{
	struct inet_diag_msg m = { 0 };  /* defined even past a failed assertion */
	struct tcp_tuple t;
	int l, c, s, err = 0;

	(void)state;
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	c = socket(AF_INET6, SOCK_STREAM, 0);
	if (c < 0) {
		print_message("no IPv6 sockets; skipping\n");
		close(l);
		skip();
		return;
	}
	close(c);
	c = connect_to(AF_INET6, "::ffff:127.0.0.1", local_port(l), 0);
	s = accept_one(l);
	t = tuple_of(c);
	assert_int_equal(t.family, AF_INET);
	/* the kernel reports it as an AF_INET6 socket with mapped addresses:
	 * this test does exercise the mapped comparison */
	assert_int_equal(raw_query(&t, AF_INET, &m, &err), 0);
	assert_int_equal(m.idiag_family, AF_INET6);
	expect_found(c, getuid());
	expect_found(s, getuid());
	/* a gateway's query finds it in the AF_INET6 dump (v4-mapped) */
	t = via_gateway(&t, "127.0.0.99");
	expect_proxied(&t, NL_FOUND, getuid());
	close(c);
	close(s);
	close(l);
}

/* A query arriving on a dual-stack listener: the accepted socket's
 * addresses are v4-mapped. */
static void test_kernel_dualstack_listener(void **state)
{
	int l, c, s;

	(void)state;
	l = listen_on(AF_INET6, "::ffff:127.0.0.1", 0);
	if (l < 0) {
		print_message("no dual-stack IPv6 sockets; skipping\n");
		skip();
		return;
	}
	c = connect_to(AF_INET, "127.0.0.1", local_port(l), 0);
	s = accept_one(l);
	assert_int_equal(tuple_of(s).family, AF_INET);
	expect_found(s, getuid());
	expect_found(c, getuid());
	close(c);
	close(s);
	close(l);
}

/* A port nothing uses: bound, then released. */
static uint16_t free_port(int family, const char *addr)
{
	int fd = listen_on(family, addr, 1);
	uint16_t p;

	assert_true(fd >= 0);
	p = local_port(fd);
	close(fd);
	return p;
}

static void test_kernel_listener_not_found(void **state)
{
	struct inet_diag_msg m = { 0 };  /* defined even past a failed assertion */
	struct tcp_tuple t;
	uint32_t uid = UID_SENTINEL;
	uint16_t other;
	int l, err = 0;

	(void)state;
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	other = free_port(AF_INET, "127.0.0.1");
	t = tuple4("127.0.0.1", local_port(l), "127.0.0.1", other);
	/* the kernel's exact lookup does fall back to the listener */
	assert_int_equal(raw_query(&t, AF_INET, &m, &err), 0);
	assert_int_equal(m.idiag_state, TCP_LISTEN);
	assert_true(m.idiag_inode != 0);
	assert_int_equal(lookup(&t, &uid), NL_NOT_FOUND);
	assert_int_equal(uid, UID_SENTINEL);
	close(l);
}

/* A user's forward: the listener at an address and port, and its owner
 * (nl_listener); a connection or nothing there is no listener. */
static void test_kernel_listener_owner(void **state)
{
	uint32_t uid = UID_SENTINEL;
	uint8_t lo[16] = { 0 }, lo6[16] = { 0 };
	int l, l6;

	(void)state;
	v4(lo, "127.0.0.1");
	v6(lo6, "::1");
	int nl = nl_open();
	assert_true(nl >= 0);
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	assert_int_equal(nl_listener(nl, AF_INET, lo, local_port(l), &uid), NL_FOUND);
	assert_int_equal(uid, (uint32_t)getuid());
	uint16_t port = local_port(l);
	close(l);
	uid = UID_SENTINEL;
	assert_int_equal(nl_listener(nl, AF_INET, lo, port, &uid), NL_NOT_FOUND);
	assert_int_equal(uid, UID_SENTINEL);
	/* an IPv6 (dual-stack) wildcard listener answers for 127.0.0.1 */
	l6 = listen_on(AF_INET6, "::", 0);
	assert_true(l6 >= 0);
	assert_int_equal(nl_listener(nl, AF_INET, lo, local_port(l6), &uid), NL_FOUND);
	assert_int_equal(nl_listener(nl, AF_INET6, lo6, local_port(l6), &uid), NL_FOUND);
	close(l6);
	close(nl);
}

static void test_kernel_time_wait(void **state)
{
	struct inet_diag_msg m = { 0 };  /* defined even past a failed assertion */
	struct tcp_tuple t;
	uint32_t uid = UID_SENTINEL;
	enum nl_result r;
	char b;
	int l, c, s, i, err = 0, seen = 0;

	(void)state;
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	c = connect_to(AF_INET, "127.0.0.1", local_port(l), 0);
	s = accept_one(l);
	t = tuple_of(c);
	expect_found(c, getuid());
	close(c); /* the client closes first: its end goes to TIME_WAIT */
	assert_int_equal(read(s, &b, 1), 0);
	close(s);
	for (i = 0; i < TW_POLL_TRIES && !seen; i++) {
		if (raw_query(&t, AF_INET, &m, &err) == 0 &&
		    m.idiag_state == TCP_TIME_WAIT)
			seen = 1;
		else
			usleep(TW_POLL_USEC);
	}
	if (seen)
		assert_int_equal(m.idiag_inode, 0);
	else /* e.g. net.ipv4.tcp_max_tw_buckets = 0 */
		print_message("no TIME_WAIT entry appeared; checking the lookup only\n");
	r = lookup(&t, &uid);
	assert_true(r == NL_NO_OWNER || r == NL_NOT_FOUND);
	assert_int_equal(uid, UID_SENTINEL);
	close(l);
}

static void test_kernel_unused(void **state)
{
	struct tcp_tuple t;
	uint32_t uid = UID_SENTINEL;
	int fd;

	(void)state;
	t = tuple4("127.0.0.1", free_port(AF_INET, "127.0.0.1"),
	           "127.0.0.1", free_port(AF_INET, "127.0.0.1"));
	assert_int_equal(lookup(&t, &uid), NL_NOT_FOUND);
	t = tuple4("127.0.0.1", 1, "192.0.2.1", 2);
	assert_int_equal(lookup(&t, &uid), NL_NOT_FOUND);
	fd = listen_on(AF_INET6, "::1", 1);
	if (fd >= 0) {
		close(fd);
		t = tuple6("::1", free_port(AF_INET6, "::1"),
		           "::1", free_port(AF_INET6, "::1"));
		assert_int_equal(lookup(&t, &uid), NL_NOT_FOUND);
	}
	assert_int_equal(uid, UID_SENTINEL);
}

/* struct in6_ifreq of <linux/ipv6.h>, the argument of SIOCSIFADDR for an
 * IPv6 address (that header clashes with glibc's <netinet/in.h>). */
struct ll_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

/* lo's index in every network namespace (the kernel's LOOPBACK_IFINDEX). */
#define LO_IFINDEX 1
/* How long the link-local test waits for its new address: a few
 * milliseconds on an idle machine, 2 s on a very busy one. */
#define LL_READY_TRIES 400
#define LL_READY_USEC 5000

/* What link_local_child failed at, as its exit status. */
enum ll_step {
	LL_OK, LL_UNSHARE, LL_LO_UP, LL_ADDR, LL_LISTEN, LL_CONNECT, LL_TUPLE,
	LL_LOOKUP_CLIENT, LL_LOOKUP_SERVER,
};

/* fe80::1 on lo, up, in the calling process's own new network namespace. */
static enum ll_step link_local_setup(void)
{
	struct ifreq ifr;
	struct ll_ifreq r;
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return LL_UNSHARE;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return LL_LO_UP;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return LL_LO_UP;
	memset(&r, 0, sizeof r);
	if (inet_pton(AF_INET6, "fe80::1", &r.addr) != 1)
		return LL_ADDR;
	r.prefixlen = 64;
	r.ifindex = LO_IFINDEX;
	if (ioctl(fd, SIOCSIFADDR, &r) < 0)
		return LL_ADDR;
	close(fd);
	return LL_OK;
}

/* Binds fd to a, waiting for a new address to leave its tentative state
 * (the kernel finishes adding it in a work queue, even without DAD). */
static bool bind_when_ready(int fd, const struct sockaddr_in6 *a)
{
	for (int i = 0; i < LL_READY_TRIES; i++) {
		if (bind(fd, (const struct sockaddr *)a, sizeof *a) == 0)
			return true;
		if (errno != EADDRNOTAVAIL)
			return false;
		usleep(LL_READY_USEC);
	}
	return false;
}

/* A connection fe80::1 -> fe80::1 on lo, both ends ours, looked up from
 * either end. Runs in a child: it leaves this process's namespace. */
static enum ll_step link_local_child(void)
{
	struct sockaddr_in6 a = sin6_of("fe80::1", 0);
	socklen_t len = sizeof a;
	struct tcp_tuple t;
	uint32_t uid = UID_SENTINEL;
	enum ll_step step = link_local_setup();
	int l, c, s, nl;

	if (step != LL_OK)
		return step;
	a.sin6_scope_id = LO_IFINDEX;
	l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || !bind_when_ready(l, &a) || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		return LL_LISTEN;
	c = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0 ||
	    (s = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return LL_CONNECT;
	nl = nl_open();
	if (nl < 0 || tuple_from_socket(c, local_port(c), peer_port(c), &t) < 0)
		return LL_TUPLE;
	if (nl_lookup(nl, &t, &uid) != NL_FOUND || uid != getuid())
		return LL_LOOKUP_CLIENT;
	uid = UID_SENTINEL;
	if (tuple_from_socket(s, local_port(s), peer_port(s), &t) < 0)
		return LL_TUPLE;
	if (nl_lookup(nl, &t, &uid) != NL_FOUND || uid != getuid())
		return LL_LOOKUP_SERVER;
	return LL_OK;
}

/* A link-local connection is known to the kernel only with its interface:
 * asked without one, it is "no such connection". */
static void test_kernel_link_local(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		skip(); /* needs root for a network namespace of its own */
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(link_local_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != LL_OK)
		print_message("link-local child failed at step %d\n",
		              WEXITSTATUS(status));
	assert_int_equal(WEXITSTATUS(status), LL_OK);
}

/* Queues a reply with sequence number seq on nl, as a timed-out earlier
 * request would have left it. */
static void queue_reply(int nl, const struct tcp_tuple *t, uint32_t seq)
{
	uint8_t req[NL_REQUEST_SIZE];
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	size_t len = nl_build_request(req, sizeof req, t, AF_INET, seq);
	struct pollfd p = { .fd = nl, .events = POLLIN };

	assert_true(len > 0);
	assert_int_equal(sendto(nl, req, len, 0, (struct sockaddr *)&k, sizeof k),
	                 (ssize_t)len);
	assert_int_equal(poll(&p, 1, 1000), 1);
}

/* Sequence numbers relative to the module's counter, which is small in this
 * process (a few requests per test): 0xc0000000 lies in the half behind it
 * (an older request's), 0x40000000 in the half ahead (no request of ours). */
#define SEQ_OLDER 0xc0000000u
#define SEQ_AHEAD 0x40000000u

static void test_kernel_stale_reply(void **state)
{
	struct tcp_tuple t;
	uint32_t uid = UID_SENTINEL;
	int l, c, s, nl;

	(void)state;
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	c = connect_to(AF_INET, "127.0.0.1", local_port(l), 0);
	s = accept_one(l);
	t = tuple_of(c);
	nl = nl_open();
	assert_true(nl >= 0);
	queue_reply(nl, &t, SEQ_OLDER);
	queue_reply(nl, &t, SEQ_OLDER + 1);
	assert_int_equal(nl_lookup(nl, &t, &uid), NL_FOUND);
	assert_int_equal(uid, getuid());
	/* and the socket is in step again */
	uid = UID_SENTINEL;
	assert_int_equal(nl_lookup(nl, &t, &uid), NL_FOUND);
	assert_int_equal(uid, getuid());
	close(nl);
	/* a reply to a request we never sent is an error, not skipped */
	nl = nl_open();
	assert_true(nl >= 0);
	queue_reply(nl, &t, SEQ_AHEAD);
	uid = UID_SENTINEL;
	assert_int_equal(nl_lookup(nl, &t, &uid), NL_ERROR);
	assert_int_equal(uid, UID_SENTINEL);
	close(nl);
	close(c);
	close(s);
	close(l);
}

/* Bad descriptors and arguments: NL_ERROR, *uid untouched. */
static void expect_bad_args(lookup_fn *fn)
{
	struct tcp_tuple t = tuple4("127.0.0.1", 1, "127.0.0.1", 2);
	uint32_t uid = UID_SENTINEL;
	int fd;

	assert_int_equal(fn(-1, &t, &uid), NL_ERROR);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(fn(fd, &t, &uid), NL_ERROR);
	close(fd);
	fd = nl_open();
	assert_true(fd >= 0);
	assert_int_equal(fn(fd, NULL, &uid), NL_ERROR);
	assert_int_equal(fn(fd, &t, NULL), NL_ERROR);
	t.family = AF_UNIX;
	assert_int_equal(fn(fd, &t, &uid), NL_ERROR);
	close(fd);
	assert_int_equal(uid, UID_SENTINEL);
}

static void test_lookup_bad_fd(void **state)
{
	(void)state;
	expect_bad_args(nl_lookup);
}

/* ---- proxied lookups: the dump request and its replies ---------------- */

/* The states a proxied lookup asks for: a connection with its user. */
#define PROXY_STATES                                                         \
	(1u << TCP_ESTABLISHED | 1u << TCP_FIN_WAIT1 | 1u << TCP_FIN_WAIT2 |  \
	 1u << TCP_CLOSE_WAIT | 1u << TCP_LAST_ACK | 1u << TCP_CLOSING)
/* A datagram of several messages. */
#define DUMP_MAX 4096

struct dump {
	uint8_t buf[DUMP_MAX];
	size_t len;
};

static void dump_put(struct dump *d, const void *p, size_t n)
{
	assert_true(d->len + NLMSG_ALIGN(n) <= sizeof d->buf);
	memcpy(d->buf + d->len, p, n);
	d->len += NLMSG_ALIGN(n);
}

/* A socket as the dump reports it: t's local end and ports, the remote
 * address `remote` (t's family's size), as a socket of family. */
static void dump_socket_msg(struct dump *d, const struct tcp_tuple *t,
                            const char *remote, int family, uint8_t st,
                            uint32_t uid, uint32_t inode)
{
	struct tcp_tuple u = *t;
	struct canned c;

	if (remote != NULL) {
		if (t->family == AF_INET)
			v4(u.remote, remote);
		else
			v6(u.remote, remote);
	}
	c = diag_reply(&u, family, st, uid, inode, TEST_SEQ);
	dump_put(d, c.buf, c.len);
}

static void dump_done(struct dump *d, uint32_t seq)
{
	struct nlmsghdr h;
	uint8_t b[NLMSG_SPACE(sizeof(int))];
	int zero = 0;

	memset(&h, 0, sizeof h);
	h.nlmsg_len = NLMSG_LENGTH(sizeof zero);
	h.nlmsg_type = NLMSG_DONE;
	h.nlmsg_flags = NLM_F_MULTI;
	h.nlmsg_seq = seq;
	memset(b, 0, sizeof b);
	memcpy(b, &h, sizeof h);
	memcpy(b + NLMSG_HDRLEN, &zero, sizeof zero);
	dump_put(d, b, h.nlmsg_len);
}

/* Parses d as the dump of family for t, from nothing found yet, and
 * checks the step and the whole dump's result. */
static void expect_dump(const struct dump *d, const struct tcp_tuple *t,
                        int family, enum nl_dump_step step,
                        enum nl_result want, uint32_t want_uid)
{
	struct nl_owners o;
	uint32_t uid = UID_SENTINEL;

	memset(&o, 0, sizeof o);
	assert_int_equal(nl_parse_dump(d->buf, d->len, t, family, TEST_SEQ, &o),
	                 step);
	if (step == NL_DUMP_ERROR)
		return;
	assert_int_equal(nl_owners_result(&o, &uid), want);
	assert_int_equal(uid, want == NL_FOUND ? want_uid : UID_SENTINEL);
}

/* The request: header, inet_diag_req_v2 with no identity, and the filter
 * program on the local address and port and the remote port. */
static void check_dump_request(const struct tcp_tuple *t, int family)
{
	uint8_t buf[NL_DUMP_REQUEST_SIZE];
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;
	struct nlattr a;
	struct inet_diag_bc_op op;
	struct inet_diag_hostcond hc;
	size_t alen = t->family == AF_INET ? 4 : 16;
	size_t c1 = sizeof op + sizeof hc + alen, c2 = sizeof op + sizeof hc;
	size_t at = NLMSG_ALIGN(NLMSG_LENGTH(sizeof r)), bc = at + NLA_HDRLEN;
	size_t n = nl_build_dump_request(buf, sizeof buf, t, family, TEST_SEQ);

	assert_int_equal(n, bc + c1 + c2);
	memcpy(&h, buf, sizeof h);
	assert_int_equal(h.nlmsg_len, n);
	assert_int_equal(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(h.nlmsg_seq, TEST_SEQ);
	memcpy(&r, buf + NLMSG_HDRLEN, sizeof r);
	assert_int_equal(r.sdiag_family, family);
	assert_int_equal(r.sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(r.idiag_ext, 0);
	assert_int_equal(r.idiag_states, PROXY_STATES);
	assert_int_equal(r.id.idiag_sport, 0);
	assert_int_equal(r.id.idiag_dport, 0);
	assert_int_equal(r.id.idiag_if, 0);
	memcpy(&a, buf + at, sizeof a);
	assert_int_equal(a.nla_type, INET_DIAG_REQ_BYTECODE);
	assert_int_equal(a.nla_len, NLA_HDRLEN + c1 + c2);
	/* the local end: address (full length) and port; no: past the end */
	memcpy(&op, buf + bc, sizeof op);
	memcpy(&hc, buf + bc + sizeof op, sizeof hc);
	assert_int_equal(op.code, INET_DIAG_BC_S_COND);
	assert_int_equal(op.yes, c1);
	assert_int_equal(op.no, c1 + c2 + 4);
	assert_int_equal(hc.family, t->family);
	assert_int_equal(hc.prefix_len, alen * 8);
	assert_int_equal(hc.port, t->local_port);
	assert_memory_equal(buf + bc + sizeof op + sizeof hc, t->local, alen);
	/* the remote port, any address */
	memcpy(&op, buf + bc + c1, sizeof op);
	memcpy(&hc, buf + bc + c1 + sizeof op, sizeof hc);
	assert_int_equal(op.code, INET_DIAG_BC_D_COND);
	assert_int_equal(op.yes, c2);
	assert_int_equal(op.no, c2 + 4);
	assert_int_equal(hc.family, AF_UNSPEC);
	assert_int_equal(hc.prefix_len, 0);
	assert_int_equal(hc.port, t->remote_port);
}

static void test_dump_request(void **state)
{
	struct tcp_tuple t4 = sample4(), t6 = sample6();
	uint8_t buf[NL_DUMP_REQUEST_SIZE];

	(void)state;
	check_dump_request(&t4, AF_INET);
	check_dump_request(&t4, AF_INET6); /* the v4-mapped sockets */
	check_dump_request(&t6, AF_INET6);
	assert_int_equal(nl_build_dump_request(buf, sizeof buf, &t6, AF_INET, 1), 0);
	assert_int_equal(nl_build_dump_request(buf, sizeof buf, &t4, AF_UNIX, 1), 0);
	assert_int_equal(nl_build_dump_request(NULL, sizeof buf, &t4, AF_INET, 1), 0);
	assert_int_equal(nl_build_dump_request(buf, sizeof buf, NULL, AF_INET, 1), 0);
	/* one byte short of the request */
	size_t n = nl_build_dump_request(buf, sizeof buf, &t6, AF_INET6, 1);
	assert_int_equal(nl_build_dump_request(buf, n - 1, &t6, AF_INET6, 1), 0);
	t4.family = AF_UNSPEC;
	assert_int_equal(nl_build_dump_request(buf, sizeof buf, &t4, AF_INET, 1), 0);
}

/* A socket in a dump, for expect_sockets. */
struct sock_case {
	const char *remote;
	int family;
	uint8_t state;
	uint32_t uid, inode;
};

/* A datagram of the sockets sc[0..n-1], with NLMSG_DONE if done, parsed
 * as the dump of family for t. */
static void expect_sockets(const struct tcp_tuple *t, int family,
                           const struct sock_case *sc, size_t n, bool done,
                           enum nl_result want, uint32_t want_uid)
{
	struct dump d;

	memset(&d, 0, sizeof d);
	for (size_t i = 0; i < n; i++)
		dump_socket_msg(&d, t, sc[i].remote, sc[i].family, sc[i].state,
		                sc[i].uid, sc[i].inode);
	if (done)
		dump_done(&d, TEST_SEQ);
	expect_dump(&d, t, family, done ? NL_DUMP_DONE : NL_DUMP_MORE, want,
	            want_uid);
}

#define SOCKS(...) (const struct sock_case[]){ __VA_ARGS__ },                \
	sizeof((const struct sock_case[]){ __VA_ARGS__ }) / sizeof(struct sock_case)

static void test_dump_found(void **state)
{
	struct tcp_tuple t4 = sample4(), t6 = sample6();

	(void)state;
	/* one socket, then the end, in one datagram */
	expect_sockets(&t4, AF_INET, SOCKS({ "203.0.113.5", AF_INET,
	               TCP_ESTABLISHED, TEST_UID, TEST_INODE }), true, NL_FOUND,
	               TEST_UID);
	/* a dual-stack socket of the IPv4 connection, in the AF_INET6 dump */
	expect_sockets(&t4, AF_INET6, SOCKS({ "203.0.113.5", AF_INET6,
	               TCP_CLOSE_WAIT, TEST_UID, TEST_INODE }), false, NL_FOUND,
	               TEST_UID);
	expect_sockets(&t6, AF_INET6, SOCKS({ "2001:db8:9::1", AF_INET6,
	               TCP_FIN_WAIT2, TEST_UID, TEST_INODE }), true, NL_FOUND,
	               TEST_UID);
	/* nothing */
	expect_sockets(&t6, AF_INET6, NULL, 0, true, NL_NOT_FOUND, 0);
}

/* Several sockets on the same ports: one owner is an answer, two are
 * not; an unowned one counts as an owner of its own. */
static void test_dump_owners(void **state)
{
	struct tcp_tuple t = sample4();
	const struct sock_case a = { "203.0.113.5", AF_INET, TCP_ESTABLISHED,
	                             TEST_UID, TEST_INODE };
	const struct sock_case same = { "203.0.113.6", AF_INET, TCP_ESTABLISHED,
	                                TEST_UID, TEST_INODE + 1 };
	const struct sock_case other = { "203.0.113.6", AF_INET, TCP_ESTABLISHED,
	                                 TEST_UID + 1, TEST_INODE + 1 };
	const struct sock_case unowned = { "203.0.113.6", AF_INET, TCP_FIN_WAIT2,
	                                   0, 0 };
	const struct sock_case root = { "203.0.113.6", AF_INET, TCP_ESTABLISHED,
	                                0, TEST_INODE };

	(void)state;
	expect_sockets(&t, AF_INET, SOCKS(a, same), true, NL_FOUND, TEST_UID);
	expect_sockets(&t, AF_INET, SOCKS(a, other), true, NL_ERROR, 0);
	expect_sockets(&t, AF_INET, SOCKS(a, unowned), true, NL_ERROR, 0);
	expect_sockets(&t, AF_INET, SOCKS(unowned), true, NL_NO_OWNER, 0);
	/* the uid of root is an owner like any other (the policy hides it) */
	expect_sockets(&t, AF_INET, SOCKS(root), true, NL_FOUND, 0);
}

/* Two datagrams add up; the families of one lookup too. */
static void test_dump_multipart(void **state)
{
	struct tcp_tuple t = sample4();
	struct nl_owners o;
	struct dump a, b;
	uint32_t uid = UID_SENTINEL;

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&o, 0, sizeof o);
	dump_socket_msg(&a, &t, "203.0.113.5", AF_INET, TCP_ESTABLISHED,
	                TEST_UID, TEST_INODE);
	dump_socket_msg(&b, &t, "203.0.113.7", AF_INET6, TCP_ESTABLISHED,
	                TEST_UID + 1, TEST_INODE + 1);
	dump_done(&b, TEST_SEQ);
	assert_int_equal(nl_parse_dump(a.buf, a.len, &t, AF_INET, TEST_SEQ, &o),
	                 NL_DUMP_MORE);
	assert_int_equal(nl_owners_result(&o, &uid), NL_FOUND);
	assert_int_equal(uid, TEST_UID);
	assert_int_equal(nl_parse_dump(b.buf, b.len, &t, AF_INET6, TEST_SEQ, &o),
	                 NL_DUMP_DONE);
	uid = UID_SENTINEL;
	assert_int_equal(nl_owners_result(&o, &uid), NL_ERROR);
	assert_int_equal(uid, UID_SENTINEL);
	assert_int_equal(o.sockets, 2);
}

/* More than NL_PROXY_SOCKETS_MAX sockets is an error, exactly past it. */
static void test_dump_too_many(void **state)
{
	struct tcp_tuple t = sample4();
	struct dump d;
	struct nl_owners o;
	uint32_t uid = UID_SENTINEL;

	(void)state;
	memset(&d, 0, sizeof d);
	for (unsigned i = 0; i < NL_PROXY_SOCKETS_MAX; i++)
		dump_socket_msg(&d, &t, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID,
		                TEST_INODE + i);
	memset(&o, 0, sizeof o);
	assert_int_equal(nl_parse_dump(d.buf, d.len, &t, AF_INET, TEST_SEQ, &o),
	                 NL_DUMP_MORE);
	assert_int_equal(nl_owners_result(&o, &uid), NL_FOUND);
	dump_socket_msg(&d, &t, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	memset(&o, 0, sizeof o);
	assert_int_equal(nl_parse_dump(d.buf, d.len, &t, AF_INET, TEST_SEQ, &o),
	                 NL_DUMP_ERROR);
	o.sockets = NL_PROXY_SOCKETS_MAX + 1;
	assert_int_equal(nl_owners_result(&o, &uid), NL_ERROR);
	assert_int_equal(nl_owners_result(NULL, &uid), NL_ERROR);
	assert_int_equal(nl_owners_result(&o, NULL), NL_ERROR);
}

/* A socket the filter should have kept out: the kernel is not trusted. */
static void test_dump_outside_filter(void **state)
{
	struct tcp_tuple t = sample4(), u;
	struct inet_diag_msg m;
	struct canned c;
	struct dump d;
	static const uint8_t bad_states[] = {
		TCP_LISTEN, TCP_CLOSE, TCP_TIME_WAIT, TCP_SYN_SENT, TCP_SYN_RECV,
		TCP_NEW_SYN_RECV_STATE, 0, 31, 32, 255,
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad_states; i++) {
		memset(&d, 0, sizeof d);
		dump_socket_msg(&d, &t, NULL, AF_INET, bad_states[i], TEST_UID,
		                TEST_INODE);
		expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	}
	u = t;
	u.local_port++;
	memset(&d, 0, sizeof d);
	dump_socket_msg(&d, &u, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	u = t;
	u.remote_port++;
	memset(&d, 0, sizeof d);
	dump_socket_msg(&d, &u, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	u = t;
	u.local[3] ^= 1;
	memset(&d, 0, sizeof d);
	dump_socket_msg(&d, &u, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	/* another family than the one asked */
	memset(&d, 0, sizeof d);
	dump_socket_msg(&d, &t, NULL, AF_INET6, TCP_ESTABLISHED, TEST_UID, 1);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	memset(&d, 0, sizeof d);
	dump_socket_msg(&d, &t, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	expect_dump(&d, &t, AF_INET6, NL_DUMP_ERROR, NL_ERROR, 0);
	/* a dual-stack socket of an IPv4 connection with a native IPv6 peer */
	c = diag_reply(&t, AF_INET6, TCP_ESTABLISHED, TEST_UID, 1, TEST_SEQ);
	m = get_msg(&c);
	memset(m.id.idiag_dst, 0x20, sizeof m.id.idiag_dst);
	put_msg(&c, &m);
	memset(&d, 0, sizeof d);
	dump_put(&d, c.buf, c.len);
	expect_dump(&d, &t, AF_INET6, NL_DUMP_ERROR, NL_ERROR, 0);
	/* an AF_INET6 tuple cannot be dumped as AF_INET */
	u = sample6();
	memset(&d, 0, sizeof d);
	dump_done(&d, TEST_SEQ);
	expect_dump(&d, &u, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
}

/* A scoped (link-local) tuple: a socket on another link is another
 * connection, skipped; one on the link counts. */
static void test_dump_link_local(void **state)
{
	struct tcp_tuple t = tuple6("fe80::1", 6193, "fe80::2", 23);
	struct inet_diag_msg m;
	struct canned c;
	struct dump d;

	(void)state;
	t.scope_id = 7;
	c = diag_reply(&t, AF_INET6, TCP_ESTABLISHED, TEST_UID, 1, TEST_SEQ);
	m = get_msg(&c);
	m.id.idiag_if = 8;
	put_msg(&c, &m);
	memset(&d, 0, sizeof d);
	dump_put(&d, c.buf, c.len);
	dump_done(&d, TEST_SEQ);
	expect_dump(&d, &t, AF_INET6, NL_DUMP_DONE, NL_NOT_FOUND, 0);
	m.id.idiag_if = 7;
	put_msg(&c, &m);
	memset(&d, 0, sizeof d);
	dump_put(&d, c.buf, c.len);
	dump_done(&d, TEST_SEQ);
	expect_dump(&d, &t, AF_INET6, NL_DUMP_DONE, NL_FOUND, TEST_UID);
}

/* Framing: sequence numbers, message types, lengths, attributes, what
 * follows NLMSG_DONE, an error from the kernel. */
static void test_dump_framing(void **state)
{
	struct tcp_tuple t = sample4();
	struct nl_owners o;
	struct nlmsghdr h;
	struct canned c;
	struct dump d, good;

	(void)state;
	memset(&good, 0, sizeof good);
	dump_socket_msg(&good, &t, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	dump_done(&good, TEST_SEQ);
	/* every cut of the datagram: an error, or a whole prefix of it */
	for (size_t n = 0; n < good.len; n++) {
		memset(&o, 0, sizeof o);
		enum nl_dump_step s = nl_parse_dump(good.buf, n, &t, AF_INET,
		                                    TEST_SEQ, &o);
		assert_true(s == NL_DUMP_ERROR || (s == NL_DUMP_MORE && o.sockets == 1));
	}
	/* the wrong sequence number, in the first or the last message */
	d = good;
	memset(&o, 0, sizeof o);
	assert_int_equal(nl_parse_dump(d.buf, d.len, &t, AF_INET, TEST_SEQ + 1, &o),
	                 NL_DUMP_ERROR);
	memset(&d, 0, sizeof d);
	dump_socket_msg(&d, &t, NULL, AF_INET, TCP_ESTABLISHED, TEST_UID, 1);
	dump_done(&d, TEST_SEQ + 1);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	/* something after NLMSG_DONE */
	d = good;
	dump_done(&d, TEST_SEQ);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	/* an error from the kernel (EBUSY: a dump already running) */
	c = error_reply(-EBUSY, TEST_SEQ);
	memset(&d, 0, sizeof d);
	dump_put(&d, c.buf, c.len);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	c = error_reply(-ENOENT, TEST_SEQ);
	memset(&d, 0, sizeof d);
	dump_put(&d, c.buf, c.len);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	/* another message type */
	d = good;
	memcpy(&h, d.buf, sizeof h);
	h.nlmsg_type = NLMSG_NOOP;
	memcpy(d.buf, &h, sizeof h);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	/* a length past the datagram, below a header, below a socket */
	uint32_t lens[] = { (uint32_t)good.len + 1, NLMSG_HDRLEN - 1, 0,
	                    NLMSG_LENGTH(sizeof(struct inet_diag_msg)) - 1 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		d = good;
		memcpy(&h, d.buf, sizeof h);
		h.nlmsg_len = lens[i];
		memcpy(d.buf, &h, sizeof h);
		expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	}
	/* an attribute running past its message */
	c = diag_reply(&t, AF_INET, TCP_ESTABLISHED, TEST_UID, 1, TEST_SEQ);
	struct nlattr a = { .nla_len = 200, .nla_type = INET_DIAG_SHUTDOWN };
	memcpy(c.buf + NLMSG_SPACE(sizeof(struct inet_diag_msg)), &a, sizeof a);
	memset(&d, 0, sizeof d);
	dump_put(&d, c.buf, c.len);
	expect_dump(&d, &t, AF_INET, NL_DUMP_ERROR, NL_ERROR, 0);
	/* bad arguments */
	memset(&o, 0, sizeof o);
	assert_int_equal(nl_parse_dump(NULL, 1, &t, AF_INET, TEST_SEQ, &o),
	                 NL_DUMP_ERROR);
	assert_int_equal(nl_parse_dump(good.buf, good.len, NULL, AF_INET, TEST_SEQ,
	                               &o), NL_DUMP_ERROR);
	assert_int_equal(nl_parse_dump(good.buf, good.len, &t, AF_INET, TEST_SEQ,
	                               NULL), NL_DUMP_ERROR);
	assert_int_equal(nl_parse_dump(good.buf, good.len, &t, AF_UNIX, TEST_SEQ,
	                               &o), NL_DUMP_ERROR);
	assert_int_equal(o.sockets, 0);
}

/* ---- proxied lookups against the kernel ------------------------------ */

static void test_kernel_proxied_ipv4(void **state)
{
	struct tcp_tuple t, u;
	int l, c, s;

	(void)state;
	l = listen_on(AF_INET, "127.0.0.1", 0);
	assert_true(l >= 0);
	c = connect_to(AF_INET, "127.0.0.1", local_port(l), 0);
	s = accept_one(l);
	t = tuple_of(c);
	expect_proxied(&t, NL_FOUND, getuid());
	u = via_gateway(&t, "127.0.0.99");
	expect_proxied(&u, NL_FOUND, getuid());
	u.remote_port++;
	expect_proxied(&u, NL_NOT_FOUND, 0);
	u = via_gateway(&t, "127.0.0.99");
	v4(u.local, "127.0.0.2"); /* the filter is on the local address too */
	expect_proxied(&u, NL_NOT_FOUND, 0);
	/* a listening socket is no connection: the port of the listener, and
	 * the remote port of nothing */
	u = via_gateway(&t, "127.0.0.99");
	u.local_port = local_port(l);
	u.remote_port = 1;
	expect_proxied(&u, NL_NOT_FOUND, 0);
	close(c);
	close(s);
	close(l);
}

/* A socket bound to 127.0.0.1:port with SO_REUSEADDR, made with fsuid
 * owner, connected to addr:to_port. */
static int reuse_connect(uint16_t port, const char *addr, uint16_t to_port,
                         uid_t owner)
{
	struct sockaddr_in me = sin_of("127.0.0.1", port), to = sin_of(addr, to_port);
	int one = 1, fd;

	setfsuid(owner);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setfsuid(0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
	return fd;
}

/* Two connections from the same local address and port to two servers on
 * the same port: one owner is that owner, two are an error. */
static void test_kernel_proxied_two(void **state)
{
	struct sockaddr_in a;
	struct tcp_tuple t;
	int l1, l2, c1, c2, s1, s2, one = 1;

	(void)state;
	if (geteuid() != 0) {
		skip(); /* needs root to create a socket owned by another uid */
		return;
	}
	l1 = listen_on(AF_INET, "127.0.0.3", 0);
	assert_true(l1 >= 0);
	l2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a = sin_of("127.0.0.4", local_port(l1));
	assert_int_equal(setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	assert_int_equal(bind(l2, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(l2, 8), 0);
	c1 = reuse_connect(0, "127.0.0.3", local_port(l1), 65534);
	s1 = accept_one(l1);
	t = tuple_of(c1);
	c2 = reuse_connect(t.local_port, "127.0.0.4", local_port(l1), 65534);
	s2 = accept_one(l2);
	t = via_gateway(&t, "127.0.0.9");
	expect_proxied(&t, NL_FOUND, 65534);
	close(c2);
	close(s2);
	c2 = reuse_connect(t.local_port, "127.0.0.4", local_port(l1), 65533);
	s2 = accept_one(l2);
	expect_proxied(&t, NL_ERROR, 0);
	close(c1);
	close(c2);
	close(s1);
	close(s2);
	close(l1);
	close(l2);
}

static void test_lookup_proxied_bad(void **state)
{
	(void)state;
	expect_bad_args(nl_lookup_proxied);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tuple_ipv4),
		cmocka_unit_test(test_tuple_ipv6),
		cmocka_unit_test(test_tuple_mapped),
		cmocka_unit_test(test_tuple_link_local),
		cmocka_unit_test(test_tuple_mixed),
		cmocka_unit_test(test_tuple_bad),
		cmocka_unit_test(test_tuple_socket_not_tcp),
		cmocka_unit_test(test_request_ipv4),
		cmocka_unit_test(test_request_ipv6),
		cmocka_unit_test(test_request_mapped),
		cmocka_unit_test(test_request_link_local),
		cmocka_unit_test(test_request_impossible),
		cmocka_unit_test(test_parse_found),
		cmocka_unit_test(test_parse_mapped),
		cmocka_unit_test(test_parse_ipv4_reply_first_word_only),
		cmocka_unit_test(test_parse_no_owner),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_parse_listener_reply),
		cmocka_unit_test(test_parse_link_local),
		cmocka_unit_test(test_parse_nlmsg_error),
		cmocka_unit_test(test_parse_wrong_seq),
		cmocka_unit_test(test_parse_wrong_type),
		cmocka_unit_test(test_parse_wrong_identity),
		cmocka_unit_test(test_parse_wrong_family_state),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_parse_bad_attributes),
		cmocka_unit_test(test_nl_open),
		cmocka_unit_test(test_kernel_ipv4),
		cmocka_unit_test(test_kernel_other_owner),
		cmocka_unit_test(test_kernel_ipv6),
		cmocka_unit_test(test_kernel_dualstack_client),
		cmocka_unit_test(test_kernel_dualstack_listener),
		cmocka_unit_test(test_kernel_listener_not_found),
		cmocka_unit_test(test_kernel_listener_owner),
		cmocka_unit_test(test_kernel_time_wait),
		cmocka_unit_test(test_kernel_unused),
		cmocka_unit_test(test_kernel_stale_reply),
		cmocka_unit_test(test_kernel_link_local),
		cmocka_unit_test(test_lookup_bad_fd),
		cmocka_unit_test(test_dump_request),
		cmocka_unit_test(test_dump_found),
		cmocka_unit_test(test_dump_owners),
		cmocka_unit_test(test_dump_multipart),
		cmocka_unit_test(test_dump_too_many),
		cmocka_unit_test(test_dump_outside_filter),
		cmocka_unit_test(test_dump_link_local),
		cmocka_unit_test(test_dump_framing),
		cmocka_unit_test(test_kernel_proxied_ipv4),
		cmocka_unit_test(test_kernel_proxied_two),
		cmocka_unit_test(test_lookup_proxied_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
