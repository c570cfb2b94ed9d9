/* The forwarder (doc/design.md §2): asks inner hosts' ident servers on the
 * lookup helper's behalf. Unprivileged, in an empty root, it may make TCP
 * connections and nothing else of note; it connects only to an address
 * inside a configured forward-network and to that network's port (checked
 * here, against its own copy of the configuration: a seccomp filter cannot
 * read a socket address), writes one query line, reads at most one reply
 * line by a deadline, and sends the helper a fixed-size answer. Every byte
 * an inner host sends is hostile: it goes through the same reply parser as
 * privident-query, and a reply about other ports is no answer.
 *
 * Like the conntrack role it logs nothing after its filter; a malformed
 * question ends it (the monitor restarts every worker). */
#include "roles.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "forward.h"
#include "ipc.h"
#include "userfile.h"

/* Inner servers asked at once. Each question holds a slot for at most
 * forward-timeout; the helper asks once per relayed query, so this bounds
 * the forwarder's descriptors, not the queries: a question that finds no
 * slot is answered as a failed connection at once. */
#define FWD_SLOTS 64
_Static_assert(FORWARD_OTHER_PORTS == FWD_FAILURE_LAST,
               "ipc.h's bound on enum forward_failure");

/* Questions read per wake-up, so that a busy helper cannot keep the
 * connections' deadlines waiting. */
#define FWD_BATCH 16

struct slot {
	bool used, connected;
	int fd;
	uint32_t id;
	uint64_t deadline_ms;
	uint16_t inner_port, remote_port;
	char query[FORWARD_QUERY_MAX];
	size_t qlen, qsent;
	struct forward_reader rd;
};

static struct {
	const struct config *cfg;
	int sock;
	struct slot slots[FWD_SLOTS];
} fw;

int forwarder_prepare(const struct config *c, int sock)
{
	fw.cfg = c;
	fw.sock = sock;
	for (int i = 0; i < FWD_SLOTS; i++)
		fw.slots[i].fd = -1;
	return 0;
}

/* Sends the helper what an exchange came to. */
static int answer(uint32_t id, const struct forward_result *res)
{
	struct ipc_fwd_answer a;
	const struct ident_reply *r = &res->reply;

	memset(&a, 0, sizeof(a));
	a.type = IPC_FWD_ANSWER;
	a.id = id;
	a.failure = (uint32_t)res->failure;
	if (res->failure == FORWARD_OK) {
		a.is_userid = r->is_userid;
		a.server_port = (uint16_t)r->server_port;
		a.client_port = (uint16_t)r->client_port;
		if (r->is_userid) {
			snprintf(a.opsys, sizeof(a.opsys), "%s", r->opsys);
			snprintf(a.charset, sizeof(a.charset), "%s", r->charset);
			snprintf(a.userid, sizeof(a.userid), "%s", r->userid);
		} else {
			snprintf(a.error, sizeof(a.error), "%s", r->error);
		}
	}
	return ipc_send(fw.sock, &a, sizeof(a), -1, 0);
}

static int fail(uint32_t id, enum forward_failure why)
{
	struct forward_result res;

	forward_fail(&res, why);
	return answer(id, &res);
}

static void release(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->used = false;
}

/* The answer of an exchange whose reader is done, or whose connection
 * ended. */
static int finish(struct slot *s)
{
	struct forward_result res;
	uint32_t id = s->id;

	forward_result(&s->rd, s->inner_port, s->remote_port, &res);
	release(s);
	return answer(id, &res);
}

static struct slot *free_slot(void)
{
	for (int i = 0; i < FWD_SLOTS; i++)
		if (!fw.slots[i].used)
			return &fw.slots[i];
	return NULL;
}

static void sockaddr_of(const struct ipc_fwd_ask *q, struct sockaddr_storage *ss,
                        socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (q->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(q->port);
		memcpy(&in->sin_addr, q->addr, 4);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(q->port);
		memcpy(&in6->sin6_addr, q->addr, 16);
		*len = sizeof(*in6);
	}
}

/* A question: checked against the configuration, then a connection. */
static int start(const struct ipc_fwd_ask *q, uint64_t now)
{
	const struct forward_net *net = forward_match(fw.cfg, q->family, q->addr);
	struct sockaddr_storage ss;
	socklen_t len;
	struct slot *s;

	/* The helper asks only what the configuration allows: a listed
	 * network at its port, or, with user files, a user's own server on
	 * loopback; a question outside it is answered as a failed
	 * connection, never tried. */
	bool network = net != NULL && net->reply[0] == '\0' && net->port == q->port;
	bool user = fw.cfg->user_files && userfile_forward_ok(q->family, q->addr, q->port);
	if (!network && !user)
		return fail(q->id, FORWARD_CONNECT);
	if ((s = free_slot()) == NULL)
		return fail(q->id, FORWARD_CONNECT);
	s->fd = socket(q->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return fail(q->id, FORWARD_CONNECT);
	sockaddr_of(q, &ss, &len);
	if (connect(s->fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		close(s->fd);
		s->fd = -1;
		return fail(q->id, FORWARD_CONNECT);
	}
	s->used = true;
	s->connected = false;
	s->id = q->id;
	s->deadline_ms = now + q->timeout_ms;
	s->inner_port = q->inner_port;
	s->remote_port = q->server_port;
	s->qlen = (size_t)forward_query_line(q->inner_port, q->server_port, s->query);
	s->qsent = 0;
	forward_reader_init(&s->rd);
	return 0;
}

/* The connection is writable: connected (or failed), then the query. */
static int on_writable(struct slot *s)
{
	if (!s->connected) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			release(s);
			return fail(s->id, FORWARD_CONNECT);
		}
		s->connected = true;
	}
	ssize_t n = sendto(s->fd, s->query + s->qsent, s->qlen - s->qsent,
	                   MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		release(s);
		return fail(s->id, FORWARD_CONNECT);
	}
	if (n > 0)
		s->qsent += (size_t)n;
	return 0;
}

static int on_readable(struct slot *s)
{
	char buf[FORWARD_REPLY_MAX];
	ssize_t n = read(s->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0 || forward_feed(&s->rd, buf, (size_t)n) != FORWARD_READING)
		return finish(s);   /* ended, a whole line, or too long a one */
	return 0;
}

/* Questions from the helper: -1 to go on, else the exit status. */
static int on_helper(uint64_t now)
{
	unsigned char buf[IPC_RECV_MAX];
	struct ipc_fwd_ask q;

	for (int k = 0; k < FWD_BATCH; k++) {
		int fd;
		ssize_t n = ipc_recv(fw.sock, buf, sizeof(buf), &fd, 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return -1;
		if (n == 0)
			return 0;
		if (fd >= 0)
			close(fd);   /* no question carries one */
		if (n < 0 || fd >= 0 || ipc_decode_fwd_ask(buf, (size_t)n, &q) != 0)
			return 1;
		if (start(&q, now) < 0)
			return errno == EPIPE || errno == ECONNRESET ? 0 : 1;
	}
	return -1;
}

/* Past their deadline: FORWARD_TIMEOUT. Returns the poll time-out. */
static int expire(uint64_t now)
{
	int64_t next = -1;

	for (int i = 0; i < FWD_SLOTS; i++) {
		struct slot *s = &fw.slots[i];
		if (!s->used)
			continue;
		if (s->deadline_ms <= now) {
			uint32_t id = s->id;
			release(s);
			(void)fail(id, FORWARD_TIMEOUT);
			continue;
		}
		int64_t left = (int64_t)(s->deadline_ms - now);
		if (next < 0 || left < next)
			next = left;
	}
	return (int)next;
}

void forwarder_report_syscall(int nr)
{
	struct ipc_event e;

	ipc_seccomp_event(&e, nr);
	(void)ipc_send(fw.sock, &e, sizeof(e), -1, 0);
}

int forwarder_serve(void)
{
	struct pollfd p[1 + FWD_SLOTS];
	struct slot *of[1 + FWD_SLOTS];

	for (;;) {
		uint64_t now = clock_mono_ms();
		int wait = expire(now), n = 1;
		p[0] = (struct pollfd){ .fd = fw.sock, .events = POLLIN };
		for (int i = 0; i < FWD_SLOTS; i++) {
			struct slot *s = &fw.slots[i];
			if (!s->used)
				continue;
			short ev = !s->connected || s->qsent < s->qlen ? POLLOUT : POLLIN;
			of[n] = s;
			p[n++] = (struct pollfd){ .fd = s->fd, .events = ev };
		}
		if (poll(p, (nfds_t)n, wait) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		now = clock_mono_ms();
		for (int i = 1; i < n; i++) {
			if (p[i].revents == 0 || !of[i]->used)
				continue;
			int r = (p[i].revents & POLLOUT) ? on_writable(of[i])
			                                  : on_readable(of[i]);
			if (r < 0)
				return errno == EPIPE || errno == ECONNRESET ? 0 : 1;
		}
		if (p[0].revents != 0) {
			int st = on_helper(now);
			if (st >= 0)
				return st;
		}
	}
}
