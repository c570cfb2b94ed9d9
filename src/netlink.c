/* Socket ownership through NETLINK_SOCK_DIAG (doc/design.md §2): an exact lookup of
 * one TCP 4-tuple with SOCK_DIAG_BY_FAMILY and inet_diag_req_v2, never a
 * dump, so the cost does not grow with the number of sockets on the host.
 * The one dump, for a query from a configured proxy (at the end), is
 * filtered in the kernel to one local address and two ports.
 * The reply is checked field by field against the request.
 *
 * How the kernel answers (net/ipv4/inet_diag.c, inet_diag_find_one_icsk):
 * idiag_src/idiag_sport name the socket's own end. An AF_INET6 request whose
 * two addresses are both v4-mapped is looked up in the IPv4 tables. The
 * lookup falls back to a *listening* socket on the port when no connection
 * matches, so a LISTEN reply means "no such connection". Time-wait, orphaned
 * and request sockets have no inode and are reported with uid 0: no owner,
 * never root. A socket bound to an interface (every link-local connection
 * is) is found only by a request naming that interface in idiag_if. */
#include "netlink.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* TCP states the kernel reports that glibc's <netinet/tcp.h> lacks
 * (include/net/tcp_states.h): a request socket, and one past the last. */
#define NL_TCP_NEW_SYN_RECV 12
#define NL_TCP_MAX_STATES 13

/* Ask about every state: an exact lookup must find the socket whatever its
 * state, and the reply parser decides what each state means. */
#define NL_ALL_STATES 0xffffffffu

/* How long nl_lookup waits for the kernel. The kernel answers an exact
 * lookup while still inside our sendto, in microseconds; a silent kernel is
 * a bug, and one second bounds how long it can stall the helper (and so the
 * clients waiting on it) well inside the 30 s a client waits (doc/design.md §1). */
#define NL_RECV_TIMEOUT_SEC 1

/* Replies to older requests (ones whose receive timed out) skipped before
 * this lookup gives up. Each timed-out request leaves at most one reply;
 * more than a few means the socket is badly out of step, and the next
 * lookup goes on draining them. */
#define NL_STALE_MAX 8

/* Serial-number arithmetic on the 32-bit sequence (RFC 1982): a number less
 * than half the space behind the current one is an older request's. */
#define NL_SEQ_HALF 0x80000000u

/* ::ffff:0:0/96, the v4-mapped prefix (RFC 4291 §2.5.5.2). */
static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

/* The request as it goes on the wire: no padding between the two. */
struct nl_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

_Static_assert(sizeof(struct nl_request) ==
               NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)),
               "nl_request must match the netlink wire layout");
_Static_assert(sizeof(struct nl_request) <= NL_REQUEST_SIZE,
               "NL_REQUEST_SIZE too small for the request");

/* Sequence number of this module's last request. */
static uint32_t nl_seq;

/* ---- request ---------------------------------------------------------- */

/* Writes address a of a tuple of family tfamily in the form a request of
 * family rfamily carries: IPv4 in the first word, IPv6 whole, or IPv4 as
 * ::ffff:a.b.c.d. */
static void put_addr(__be32 dst[4], const uint8_t *a, int tfamily, int rfamily)
{
	uint8_t out[16];

	memset(out, 0, sizeof out);
	if (rfamily == AF_INET) {
		memcpy(out, a, 4);
	} else if (tfamily == AF_INET) {
		memcpy(out, v4mapped_prefix, sizeof v4mapped_prefix);
		memcpy(out + sizeof v4mapped_prefix, a, 4);
	} else {
		memcpy(out, a, 16);
	}
	memcpy(dst, out, sizeof out);
}

/* An AF_INET tuple can be asked as AF_INET or AF_INET6 (mapped); an AF_INET6
 * tuple only as AF_INET6. */
static int family_possible(int tfamily, int rfamily)
{
	if (tfamily == AF_INET)
		return rfamily == AF_INET || rfamily == AF_INET6;
	return tfamily == AF_INET6 && rfamily == AF_INET6;
}

/* The interface to look on: a link-local connection's (its tuple's scope
 * id), since the kernel finds a socket bound to an interface only when
 * asked on that interface; 0, any, for every other connection
 * (doc/design.md §4). */
static uint32_t request_if(const struct tcp_tuple *t)
{
	return t->family == AF_INET6 ? t->scope_id : 0;
}

size_t nl_build_request(uint8_t *buf, size_t size, const struct tcp_tuple *t,
                        int family, uint32_t seq)
{
	struct nl_request r;

	if (buf == NULL || t == NULL || size < sizeof r ||
	    !family_possible(t->family, family))
		return 0;
	memset(&r, 0, sizeof r);
	r.nlh.nlmsg_len = sizeof r;
	r.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r.nlh.nlmsg_flags = NLM_F_REQUEST; /* never NLM_F_DUMP */
	r.nlh.nlmsg_seq = seq;
	r.req.sdiag_family = (uint8_t)family;
	r.req.sdiag_protocol = IPPROTO_TCP;
	r.req.idiag_ext = 0;
	r.req.idiag_states = NL_ALL_STATES;
	r.req.id.idiag_sport = htons(t->local_port);
	r.req.id.idiag_dport = htons(t->remote_port);
	put_addr(r.req.id.idiag_src, t->local, t->family, family);
	put_addr(r.req.id.idiag_dst, t->remote, t->family, family);
	r.req.id.idiag_if = request_if(t);
	r.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	r.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	memcpy(buf, &r, sizeof r);
	return sizeof r;
}

/* ---- reply ------------------------------------------------------------ */

/* The message fills the datagram: its length is at least a header, within
 * the buffer, and only alignment padding may follow it. */
static int frame_ok(const struct nlmsghdr *nlh, size_t len)
{
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len)
		return 0;
	return len <= NLMSG_ALIGN((size_t)nlh->nlmsg_len);
}

/* The attributes after inet_diag_msg are well formed: each at least a
 * header, none running past the message. Their contents are not used. */
static int attrs_ok(const uint8_t *p, size_t n)
{
	struct nlattr nla;
	size_t step;

	while (n > 0) {
		if (n < NLA_HDRLEN)
			return 0;
		memcpy(&nla, p, sizeof nla);
		if (nla.nla_len < NLA_HDRLEN || nla.nla_len > n)
			return 0;
		step = NLA_ALIGN((size_t)nla.nla_len);
		if (step >= n)
			return 1;
		p += step;
		n -= step;
	}
	return 1;
}

/* Address got (as the kernel wrote it for a socket of family rfamily)
 * equals the tuple's address want: IPv4 in the first 4 bytes, IPv6 whole,
 * or, for an IPv4 tuple and an IPv6 (dual-stack) socket, its mapped form. */
static int addr_matches(const __be32 got[4], int rfamily,
                        const struct tcp_tuple *t, const uint8_t *want)
{
	uint8_t g[16];

	memcpy(g, got, sizeof g);
	if (rfamily == AF_INET)
		return t->family == AF_INET && memcmp(g, want, 4) == 0;
	if (t->family == AF_INET)
		return memcmp(g, v4mapped_prefix, sizeof v4mapped_prefix) == 0 &&
		       memcmp(g + sizeof v4mapped_prefix, want, 4) == 0;
	return memcmp(g, want, 16) == 0;
}

static int state_no_owner(uint8_t state)
{
	return state == TCP_TIME_WAIT || state == NL_TCP_NEW_SYN_RECV;
}

/* Family and state, before the identity: a LISTEN or CLOSE socket is the
 * kernel's fallback, not a connection, and carries no peer to compare. */
static enum nl_result check_kind(const struct inet_diag_msg *m,
                                 const struct tcp_tuple *t)
{
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return NL_ERROR;
	if (m->idiag_family == AF_INET && t->family != AF_INET)
		return NL_ERROR;
	if (m->idiag_state == 0 || m->idiag_state >= NL_TCP_MAX_STATES)
		return NL_ERROR;
	if (m->idiag_state == TCP_LISTEN || m->idiag_state == TCP_CLOSE)
		return NL_NOT_FOUND;
	return NL_FOUND;
}

/* A link-local connection must be on the link asked about: the kernel
 * reports the interface its socket is bound to. */
static int identity_matches(const struct inet_diag_msg *m,
                            const struct tcp_tuple *t)
{
	uint32_t want_if = request_if(t);

	return (want_if == 0 || m->id.idiag_if == want_if) &&
	       ntohs(m->id.idiag_sport) == t->local_port &&
	       ntohs(m->id.idiag_dport) == t->remote_port &&
	       addr_matches(m->id.idiag_src, m->idiag_family, t, t->local) &&
	       addr_matches(m->id.idiag_dst, m->idiag_family, t, t->remote);
}

static enum nl_result parse_diag(const uint8_t *buf, const struct nlmsghdr *nlh,
                                 const struct tcp_tuple *t, uint32_t *uid)
{
	struct inet_diag_msg m;
	enum nl_result r;
	size_t body = NLMSG_SPACE(sizeof m);

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof m))
		return NL_ERROR;
	memcpy(&m, buf + NLMSG_HDRLEN, sizeof m);
	if (nlh->nlmsg_len > body && !attrs_ok(buf + body, nlh->nlmsg_len - body))
		return NL_ERROR;
	r = check_kind(&m, t);
	if (r != NL_FOUND)
		return r;
	if (!identity_matches(&m, t))
		return NL_ERROR;
	if (state_no_owner(m.idiag_state) || m.idiag_inode == 0)
		return NL_NO_OWNER;
	*uid = m.idiag_uid;
	return NL_FOUND;
}

static enum nl_result parse_error(const uint8_t *buf, const struct nlmsghdr *nlh)
{
	struct nlmsgerr e;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof e))
		return NL_ERROR;
	memcpy(&e, buf + NLMSG_HDRLEN, sizeof e);
	return e.error == -ENOENT ? NL_NOT_FOUND : NL_ERROR;
}

typedef enum nl_result (*diag_fn)(const uint8_t *buf, const struct nlmsghdr *nlh,
                                  const struct tcp_tuple *t, uint32_t *uid);

/* One reply datagram: the frame, our sequence number, an error or a
 * socket, which diag reads. */
static enum nl_result parse_one(const uint8_t *buf, size_t len,
                                const struct tcp_tuple *t, uint32_t seq,
                                uint32_t *uid, diag_fn diag)
{
	struct nlmsghdr nlh;

	if (buf == NULL || t == NULL || uid == NULL || len < sizeof nlh)
		return NL_ERROR;
	if (t->family != AF_INET && t->family != AF_INET6)
		return NL_ERROR;
	memcpy(&nlh, buf, sizeof nlh);
	if (!frame_ok(&nlh, len) || nlh.nlmsg_seq != seq)
		return NL_ERROR;
	if (nlh.nlmsg_type == NLMSG_ERROR)
		return parse_error(buf, &nlh);
	if (nlh.nlmsg_type == SOCK_DIAG_BY_FAMILY)
		return diag(buf, &nlh, t, uid);
	return NL_ERROR;
}

enum nl_result nl_parse_reply(const uint8_t *buf, size_t len,
                              const struct tcp_tuple *t, uint32_t seq,
                              uint32_t *uid)
{
	return parse_one(buf, len, t, seq, uid, parse_diag);
}

/* The listening socket for a user's forward (doc/design.md §5): the
 * kernel's exact lookup with the remote end zero falls back to the
 * listener at t's local address and port (bound to it, or to the
 * wildcard). Only a LISTEN socket on that port counts. */
static enum nl_result parse_listener(const uint8_t *buf, const struct nlmsghdr *nlh,
                                     const struct tcp_tuple *t, uint32_t *uid)
{
	static const __be32 any[4];
	struct inet_diag_msg m;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof m))
		return NL_ERROR;
	memcpy(&m, buf + NLMSG_HDRLEN, sizeof m);
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return NL_ERROR;
	if ((m.idiag_family == AF_INET && t->family != AF_INET) ||
	    m.idiag_state != TCP_LISTEN)
		return NL_NOT_FOUND;
	if (ntohs(m.id.idiag_sport) != t->local_port ||
	    (!addr_matches(m.id.idiag_src, m.idiag_family, t, t->local) &&
	     memcmp(m.id.idiag_src, any, sizeof(any)) != 0))
		return NL_ERROR;
	if (m.idiag_inode == 0)
		return NL_NO_OWNER;
	*uid = m.idiag_uid;
	return NL_FOUND;
}

enum nl_result nl_parse_listener_reply(const uint8_t *buf, size_t len,
                                       const struct tcp_tuple *t, uint32_t seq,
                                       uint32_t *uid)
{
	return parse_one(buf, len, t, seq, uid, parse_listener);
}

/* ---- I/O -------------------------------------------------------------- */

int nl_open(void)
{
	struct timeval tv = { .tv_sec = NL_RECV_TIMEOUT_SEC, .tv_usec = 0 };
	int fd, saved;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int nl_send(int fd, const uint8_t *req, size_t len)
{
	struct sockaddr_nl kernel;
	ssize_t n;

	memset(&kernel, 0, sizeof kernel);
	kernel.nl_family = AF_NETLINK; /* nl_pid 0: the kernel */
	do
		n = sendto(fd, req, len, 0, (struct sockaddr *)&kernel,
		           sizeof kernel);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* Receives one whole datagram from the kernel: its length, or -1 on error,
 * time-out, truncation or another sender. */
static ssize_t nl_recv(int fd, uint8_t *buf, size_t size)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	do {
		memset(&from, 0, sizeof from);
		memset(&msg, 0, sizeof msg);
		iov.iov_base = buf;
		iov.iov_len = size;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof from;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = recvmsg(fd, &msg, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (msg.msg_flags & MSG_TRUNC))
		return -1;
	if (msg.msg_namelen < sizeof from || from.nl_family != AF_NETLINK ||
	    from.nl_pid != 0)
		return -1;
	return n;
}

/* A reply to one of our earlier requests, left over from a timed-out one. */
static int is_stale(const uint8_t *buf, size_t len, uint32_t seq)
{
	struct nlmsghdr nlh;
	uint32_t behind;

	if (len < sizeof nlh)
		return 0;
	memcpy(&nlh, buf, sizeof nlh);
	behind = seq - nlh.nlmsg_seq;
	return behind != 0 && behind < NL_SEQ_HALF;
}

typedef enum nl_result (*nl_parse_fn)(const uint8_t *buf, size_t len,
                                      const struct tcp_tuple *t, uint32_t seq,
                                      uint32_t *uid);

/* One request in one family and its reply, read by parse. */
static enum nl_result nl_ask_with(int fd, const struct tcp_tuple *t, int family,
                                  uint32_t *uid, nl_parse_fn parse)
{
	uint8_t req[NL_REQUEST_SIZE];
	uint8_t reply[NL_REPLY_MAX];
	uint32_t seq = ++nl_seq;
	size_t len;
	ssize_t n;
	int i;

	len = nl_build_request(req, sizeof req, t, family, seq);
	if (len == 0 || nl_send(fd, req, len) < 0)
		return NL_ERROR;
	for (i = 0; i <= NL_STALE_MAX; i++) {
		n = nl_recv(fd, reply, sizeof reply);
		if (n < 0)
			return NL_ERROR;
		if (!is_stale(reply, (size_t)n, seq))
			return parse(reply, (size_t)n, t, seq, uid);
	}
	return NL_ERROR;
}

static enum nl_result nl_ask(int fd, const struct tcp_tuple *t, int family,
                             uint32_t *uid)
{
	return nl_ask_with(fd, t, family, uid, nl_parse_reply);
}

enum nl_result nl_listener(int nlfd, int family, const uint8_t *addr,
                           uint16_t port, uint32_t *uid)
{
	struct tcp_tuple t;
	enum nl_result r;

	if (nlfd < 0 || addr == NULL || uid == NULL ||
	    (family != AF_INET && family != AF_INET6))
		return NL_ERROR;
	memset(&t, 0, sizeof t);
	t.family = family;
	memcpy(t.local, addr, family == AF_INET ? 4 : 16);
	t.local_port = port;
	r = nl_ask_with(nlfd, &t, family, uid, nl_parse_listener_reply);
	if (r == NL_NOT_FOUND && family == AF_INET) /* a dual-stack listener */
		r = nl_ask_with(nlfd, &t, AF_INET6, uid, nl_parse_listener_reply);
	return r;
}

enum nl_result nl_lookup(int nlfd, const struct tcp_tuple *t, uint32_t *uid)
{
	enum nl_result r;

	if (nlfd < 0 || t == NULL || uid == NULL)
		return NL_ERROR;
	if (t->family == AF_INET6)
		return nl_ask(nlfd, t, AF_INET6, uid);
	if (t->family != AF_INET)
		return NL_ERROR;
	r = nl_ask(nlfd, t, AF_INET, uid);
	if (r == NL_NOT_FOUND) /* a dual-stack IPv6 socket */
		r = nl_ask(nlfd, t, AF_INET6, uid);
	return r;
}

/* ---- proxied lookups: a filtered dump (doc/design.md §4) -------------- */

/* The states of a connection that still has its user: established, or
 * closing with the socket still open. Not SYN_SENT (a server that asks
 * about a connection has accepted it, so its client end is established;
 * another user's attempt on the same ports would only make a false
 * ambiguity), not TIME_WAIT or a request socket (no owner, and an old
 * connection's time-wait socket must not make the live one ambiguous),
 * not LISTEN or CLOSE (no connection). */
#define NL_PROXY_STATES                                                      \
	(1u << TCP_ESTABLISHED | 1u << TCP_FIN_WAIT1 | 1u << TCP_FIN_WAIT2 |  \
	 1u << TCP_CLOSE_WAIT | 1u << TCP_LAST_ACK | 1u << TCP_CLOSING)

/* The filter, as the kernel's bytecode (net/ipv4/inet_diag.c,
 * inet_diag_bc_run): an S_COND on the local address (full length) and
 * port, then a D_COND on the remote port with any address (AF_UNSPEC,
 * prefix 0). A condition that holds jumps by its own length ("yes"); one
 * that fails jumps 4 bytes past the end ("no"), which rejects the socket.
 * S_COND/D_COND are in every kernel with sock_diag, unlike S_EQ/D_EQ
 * (4.16), and take the port and the address in one condition. An AF_INET
 * condition also matches a dual-stack socket's v4-mapped address. */
struct nl_bc_cond {
	struct inet_diag_bc_op op;
	struct inet_diag_hostcond cond;
};

#define NL_BC_LOCAL_MAX (sizeof(struct nl_bc_cond) + 16)
#define NL_BC_REMOTE (sizeof(struct nl_bc_cond))
#define NL_BC_MAX (NL_BC_LOCAL_MAX + NL_BC_REMOTE)

_Static_assert(NLMSG_ALIGN(sizeof(struct nl_request)) + NLA_HDRLEN +
               NL_BC_MAX <= NL_DUMP_REQUEST_SIZE,
               "NL_DUMP_REQUEST_SIZE too small for the dump request");
_Static_assert(NL_BC_MAX % 4 == 0 && NL_BC_MAX + 4 <= 0xff,
               "bytecode jumps must be 4-aligned and fit the 8-bit yes");

/* One condition at bc: jumps past itself when it holds, past the end of
 * the program (rest: its length from this condition on) when not. */
static size_t put_cond(uint8_t *bc, uint8_t code, int family, uint16_t port,
                       const uint8_t *addr, size_t rest)
{
	struct nl_bc_cond c;
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

	memset(&c, 0, sizeof c);
	c.op.code = code;
	c.op.yes = (uint8_t)(sizeof c + alen);
	c.op.no = (uint16_t)(rest + 4);
	c.cond.family = (uint8_t)family;
	c.cond.prefix_len = (uint8_t)(alen * 8);
	c.cond.port = port;
	memcpy(bc, &c, sizeof c);
	if (alen > 0)
		memcpy(bc + sizeof c, addr, alen);
	return sizeof c + alen;
}

size_t nl_build_dump_request(uint8_t *buf, size_t size,
                             const struct tcp_tuple *t, int family,
                             uint32_t seq)
{
	uint8_t bc[NL_BC_MAX];
	struct nl_request r;
	struct nlattr nla;
	size_t local_len, bclen, len;

	if (buf == NULL || t == NULL || !family_possible(t->family, family))
		return 0;
	local_len = sizeof(struct nl_bc_cond) + (t->family == AF_INET ? 4 : 16);
	bclen = local_len + NL_BC_REMOTE;
	len = NLMSG_ALIGN(sizeof r) + NLA_HDRLEN + bclen;
	if (size < len)
		return 0;
	put_cond(bc, INET_DIAG_BC_S_COND, t->family, t->local_port, t->local,
	         bclen);
	put_cond(bc + local_len, INET_DIAG_BC_D_COND, AF_UNSPEC, t->remote_port,
	         NULL, NL_BC_REMOTE);

	memset(&r, 0, sizeof r);
	r.nlh.nlmsg_len = (uint32_t)len;
	r.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.nlh.nlmsg_seq = seq;
	r.req.sdiag_family = (uint8_t)family;
	r.req.sdiag_protocol = IPPROTO_TCP;
	r.req.idiag_states = NL_PROXY_STATES;
	r.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	r.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	nla.nla_len = (uint16_t)(NLA_HDRLEN + bclen);
	nla.nla_type = INET_DIAG_REQ_BYTECODE;
	memset(buf, 0, len);
	memcpy(buf, &r, sizeof r);
	memcpy(buf + NLMSG_ALIGN(sizeof r), &nla, sizeof nla);
	memcpy(buf + NLMSG_ALIGN(sizeof r) + NLA_HDRLEN, bc, bclen);
	return len;
}

/* One socket of the dump, checked against what was asked: 1 if it is
 * one, 0 if it is on another link than a scoped tuple's, -1 if the kernel
 * answered what the filter should have kept out. */
static int dump_socket(const struct inet_diag_msg *m, const struct tcp_tuple *t,
                       int family)
{
	if (m->idiag_family != family || m->idiag_state >= 32 ||
	    !(NL_PROXY_STATES & 1u << m->idiag_state))
		return -1;
	if (ntohs(m->id.idiag_sport) != t->local_port ||
	    ntohs(m->id.idiag_dport) != t->remote_port ||
	    !addr_matches(m->id.idiag_src, family, t, t->local))
		return -1;
	/* A dual-stack socket of an IPv4 connection has a v4-mapped peer. */
	if (t->family == AF_INET && family == AF_INET6 &&
	    memcmp(m->id.idiag_dst, v4mapped_prefix, sizeof v4mapped_prefix) != 0)
		return -1;
	return request_if(t) == 0 || m->id.idiag_if == request_if(t);
}

static void owners_add(struct nl_owners *o, const struct inet_diag_msg *m)
{
	o->sockets++;
	if (m->idiag_inode == 0) {
		o->unowned = true;
	} else if (!o->owned) {
		o->owned = true;
		o->uid = m->idiag_uid;
	} else if (o->uid != m->idiag_uid) {
		o->differ = true;
	}
}

/* One SOCK_DIAG_BY_FAMILY message of the dump, at p, of length n. */
static enum nl_dump_step dump_diag(const uint8_t *p, size_t n,
                                   const struct tcp_tuple *t, int family,
                                   struct nl_owners *o)
{
	struct inet_diag_msg m;
	size_t body = NLMSG_SPACE(sizeof m);
	int r;

	if (n < NLMSG_LENGTH(sizeof m))
		return NL_DUMP_ERROR;
	memcpy(&m, p + NLMSG_HDRLEN, sizeof m);
	if (n > body && !attrs_ok(p + body, n - body))
		return NL_DUMP_ERROR;
	r = dump_socket(&m, t, family);
	if (r < 0)
		return NL_DUMP_ERROR;
	if (r == 0)
		return NL_DUMP_MORE;
	if (o->sockets >= NL_PROXY_SOCKETS_MAX)
		return NL_DUMP_ERROR;
	owners_add(o, &m);
	return NL_DUMP_MORE;
}

enum nl_dump_step nl_parse_dump(const uint8_t *buf, size_t len,
                                const struct tcp_tuple *t, int family,
                                uint32_t seq, struct nl_owners *o)
{
	struct nlmsghdr nlh;
	size_t off = 0, step;
	enum nl_dump_step r;

	if (buf == NULL || t == NULL || o == NULL || len == 0 ||
	    !family_possible(t->family, family))
		return NL_DUMP_ERROR;
	while (off < len) {
		if (len - off < sizeof nlh)
			return NL_DUMP_ERROR;
		memcpy(&nlh, buf + off, sizeof nlh);
		if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len - off ||
		    nlh.nlmsg_seq != seq)
			return NL_DUMP_ERROR;
		step = NLMSG_ALIGN((size_t)nlh.nlmsg_len);
		if (nlh.nlmsg_type == NLMSG_DONE)
			/* The last message: only its padding may follow. */
			return len - off <= step ? NL_DUMP_DONE : NL_DUMP_ERROR;
		if (nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
			return NL_DUMP_ERROR; /* NLMSG_ERROR among them */
		r = dump_diag(buf + off, nlh.nlmsg_len, t, family, o);
		if (r != NL_DUMP_MORE)
			return r;
		if (step >= len - off)
			break;
		off += step;
	}
	return NL_DUMP_MORE;
}

enum nl_result nl_owners_result(const struct nl_owners *o, uint32_t *uid)
{
	if (o == NULL || uid == NULL || o->sockets > NL_PROXY_SOCKETS_MAX)
		return NL_ERROR;
	if (o->sockets == 0)
		return NL_NOT_FOUND;
	if (o->differ || (o->owned && o->unowned))
		return NL_ERROR;
	if (!o->owned)
		return NL_NO_OWNER;
	*uid = o->uid;
	return NL_FOUND;
}

/* One dump in one family, its datagrams read until NLMSG_DONE. Each of
 * our datagrams but the last holds a socket, so NL_PROXY_SOCKETS_MAX
 * bounds them; NL_STALE_MAX bounds older requests' replies skipped. */
static int nl_dump(int fd, const struct tcp_tuple *t, int family,
                   struct nl_owners *o)
{
	uint8_t req[NL_DUMP_REQUEST_SIZE];
	uint8_t reply[NL_REPLY_MAX];
	uint32_t seq = ++nl_seq;
	unsigned stale = 0, ours = 0;
	size_t len;
	ssize_t n;

	len = nl_build_dump_request(req, sizeof req, t, family, seq);
	if (len == 0 || nl_send(fd, req, len) < 0)
		return -1;
	while (stale <= NL_STALE_MAX && ours <= NL_PROXY_SOCKETS_MAX) {
		n = nl_recv(fd, reply, sizeof reply);
		if (n < 0)
			return -1;
		if (is_stale(reply, (size_t)n, seq)) {
			stale++;
			continue;
		}
		ours++;
		switch (nl_parse_dump(reply, (size_t)n, t, family, seq, o)) {
		case NL_DUMP_DONE:
			return 0;
		case NL_DUMP_MORE:
			break;
		default:
			return -1;
		}
	}
	return -1;
}

enum nl_result nl_lookup_proxied(int nlfd, const struct tcp_tuple *t,
                                 uint32_t *uid)
{
	struct nl_owners o;

	if (nlfd < 0 || t == NULL || uid == NULL ||
	    (t->family != AF_INET && t->family != AF_INET6))
		return NL_ERROR;
	memset(&o, 0, sizeof o);
	if (t->family == AF_INET && nl_dump(nlfd, t, AF_INET, &o) < 0)
		return NL_ERROR;
	if (nl_dump(nlfd, t, AF_INET6, &o) < 0)
		return NL_ERROR;
	return nl_owners_result(&o, uid);
}
