/* The conntrack role (doc/design.md §2): the one process that may read the
 * kernel's connection-tracking table. It holds CAP_NET_ADMIN (ctnetlink
 * checks it on every request, in the sender as well as in the socket's
 * opener) and one NETLINK_NETFILTER socket, and answers the lookup
 * helper's one question, "which inner host is behind this relayed
 * connection?", with one exact get per question: never a dump.
 *
 * It trusts the helper no more than it must: every question is decoded
 * with exact size and range checks, and a malformed one ends the role (the
 * monitor then restarts every worker). It logs nothing after its filter:
 * what went wrong goes back to the helper in the answer. */
#include "roles.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "ctnl.h"
#include "ipc.h"
#include "log.h"

/* How long the kernel may take to answer one get: it answers at once from
 * a hash table, so a second means something is wrong; the helper's own
 * deadline (forward-timeout) is longer. */
#define CT_RECV_TIMEOUT_MS 1000
/* Datagrams a request may leave unread after an answer that failed half
 * way (a time-out): drained before the next request, at most this many. */
#define CT_DRAIN_MAX 16

static struct {
	int sock;       /* the helper */
	int nl;         /* NETLINK_NETFILTER */
	uint32_t portid;/* nl's netlink port id, which the kernel answers to */
	uint32_t seq;
} ct = { -1, -1, 0, 0 };

int ctrack_prepare(int sock, struct keep_fds *keep)
{
	struct timeval tv = { CT_RECV_TIMEOUT_MS / 1000,
	                      (CT_RECV_TIMEOUT_MS % 1000) * 1000 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);

	ct.sock = sock;
	ct.nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (ct.nl < 0)
		return -1;
	/* Bound now, so that the filter need not allow bind, and so that the
	 * port id every answer carries is known. */
	if (bind(ct.nl, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(ct.nl, (struct sockaddr *)&sa, &len) < 0 ||
	    setsockopt(ct.nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = errno;
		close(ct.nl);
		errno = e;
		return -1;
	}
	ct.portid = sa.nl_pid;
	keep_fd(keep, ct.nl);
	return ct.nl;
}

static void tuple_of(const struct ipc_ct_ask *q, struct tcp_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = q->family;
	memcpy(t->local, q->local, sizeof(t->local));
	memcpy(t->remote, q->remote, sizeof(t->remote));
	t->local_port = q->local_port;
	t->remote_port = q->remote_port;
}

static void set_error(struct ipc_ct_answer *a, int err)
{
	a->result = CT_ERROR;
	a->err = err > 0 && err <= 4095 ? (uint32_t)err : EIO;
}

/* One datagram from the kernel about seq; CTNL_ERROR with *err set when
 * none came. */
static enum ctnl_status receive(uint32_t seq, const struct tcp_tuple *t,
                                struct ctnl_result *res, int *err)
{
	unsigned char buf[CTNL_REPLY_MAX];
	ssize_t n = recvfrom(ct.nl, buf, sizeof(buf), 0, NULL, 0);

	if (n < 0) {
		*err = errno == EAGAIN ? ETIMEDOUT : errno;
		return CTNL_ERROR;
	}
	return ctnl_parse_reply(buf, (size_t)n, seq, ct.portid, t, res);
}

/* What an earlier request that failed half way left behind. */
static void drain(void)
{
	unsigned char buf[CTNL_REPLY_MAX];

	for (int i = 0; i < CT_DRAIN_MAX; i++)
		if (recvfrom(ct.nl, buf, sizeof(buf), MSG_DONTWAIT, NULL, 0) < 0)
			return;
}

/* One get, as ctnl.h describes the exchange: an entry and then its
 * acknowledgement, or an error alone. */
static void ask_kernel(const struct ipc_ct_ask *q, struct ipc_ct_answer *a)
{
	unsigned char req[CTNL_REQUEST_SIZE];
	struct tcp_tuple t;
	struct ctnl_result res, ack;
	uint32_t seq = ++ct.seq;
	int err = EPROTO;

	tuple_of(q, &t);
	drain();
	int len = ctnl_build_get(req, sizeof(req), seq, &t);
	if (len < 0 || sendto(ct.nl, req, (size_t)len, 0, NULL, 0) != len) {
		set_error(a, len < 0 ? EINVAL : errno);
		return;
	}
	enum ctnl_status st = receive(seq, &t, &res, &err);
	if (st == CTNL_NOT_FOUND) {
		a->result = CT_NOT_FOUND;
		return;
	}
	if ((st != CTNL_FOUND && st != CTNL_MISMATCH) ||
	    receive(seq, &t, &ack, &err) != CTNL_ACK) {
		set_error(a, err);
		return;
	}
	if (st == CTNL_MISMATCH) {
		a->result = CT_MISMATCH;
		return;
	}
	a->result = CT_FOUND;
	a->family = (uint16_t)res.family;
	memcpy(a->inner, res.src, sizeof(a->inner));
	a->inner_port = res.src_port;
}

void ctrack_report_syscall(int nr)
{
	struct ipc_event e;

	ipc_seccomp_event(&e, nr);
	(void)ipc_send(ct.sock, &e, sizeof(e), -1, 0);
}

int ctrack_serve(void)
{
	unsigned char buf[IPC_RECV_MAX];
	struct ipc_ct_ask q;
	struct ipc_ct_answer a;

	for (;;) {
		int fd;
		ssize_t n = ipc_recv(ct.sock, buf, sizeof(buf), &fd, 0);
		if (n == 0)
			return 0;          /* the helper is gone */
		if (n < 0 && errno == EINTR)
			continue;
		if (fd >= 0)
			close(fd);         /* no question carries one */
		if (n < 0 || fd >= 0 || ipc_decode_ct_ask(buf, (size_t)n, &q) != 0)
			return 1;          /* a helper that breaks the protocol */
		memset(&a, 0, sizeof(a));
		a.type = IPC_CT_ANSWER;
		a.id = q.id;
		ask_kernel(&q, &a);
		if (ipc_send(ct.sock, &a, sizeof(a), -1, 0) < 0)
			return errno == EPIPE || errno == ECONNRESET ? 0 : 1;
	}
}
