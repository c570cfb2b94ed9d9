/* The lookup helper against a lying network child (doc/design.md §2): the real
 * helper code (src/helper.c), under its real seccomp filter, in a forked
 * process on a SOCK_SEQPACKET socketpair. The test plays the child: every
 * malformed message must stop the "child" (a sleeping process of the test)
 * with SIGKILL, leave the helper running and unanswered, and release any
 * descriptor that came with it; a well-formed query must get a well-formed
 * reply about the connection behind the descriptor, whatever else the
 * child would like to know, and a well-formed event must leave the child
 * alone (checked after the helper has provably handled it). Needs no
 * privilege. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "roles.h"
#include "seccomp_policy.h"

/* Bound on every wait: a helper reply, a death, an end of file. */
#define WAIT_MS 3000
/* Exit statuses of the forked helper before it serves. */
#define X_PREPARE 80
#define X_SANDBOX 81
/* conn/gen of well-formed queries, and conn of refused ones, so that a
 * reply to a refused message is never taken for the expected one. */
#define GOOD_CONN 0xC0FFEEu
#define GOOD_GEN 42u
#define BAD_CONN 0xBADu

/* The helper, its fake child, and the test's end of the socketpair. */
struct rig {
	pid_t helper, child;
	int sock;
};

/* A TCP connection on loopback: the accepted end is what the network child
 * would pass. */
struct tcp_conn {
	int srv, cli;
	uint16_t srv_port, cli_port;
};

static int lsock = -1;        /* listening on 127.0.0.1, for every tcp_conn */
static struct config cfg;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* waitpid with a bound; -1 if pid is still running after ms. */
static int wait_ms(pid_t pid, int ms, int *st)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	do {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 0;
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	} while (now_ms() < end);
	return -1;
}

/* ---- connections ---- */

static uint16_t port_of(int fd, bool peer)
{
	struct sockaddr_in sin = { 0 };
	socklen_t l = sizeof(sin);
	int r = peer ? getpeername(fd, (struct sockaddr *)&sin, &l)
	             : getsockname(fd, (struct sockaddr *)&sin, &l);
	assert_int_equal(r, 0);
	return ntohs(sin.sin_port);
}

/* A connection from source (127.0.0.x) to the listener. */
static struct tcp_conn tcp_connect(const char *source)
{
	struct sockaddr_in dst, src = { .sin_family = AF_INET };
	socklen_t l = sizeof(dst);
	struct tcp_conn c;

	assert_int_equal(getsockname(lsock, (struct sockaddr *)&dst, &l), 0);
	assert_int_equal(inet_pton(AF_INET, source, &src.sin_addr), 1);
	c.cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c.cli >= 0);
	assert_int_equal(bind(c.cli, (struct sockaddr *)&src, sizeof(src)), 0);
	assert_int_equal(connect(c.cli, (struct sockaddr *)&dst, sizeof(dst)), 0);
	c.srv = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c.srv >= 0);
	c.srv_port = port_of(c.srv, false);
	c.cli_port = port_of(c.srv, true);
	assert_int_equal(c.cli_port, port_of(c.cli, false));
	return c;
}

static void tcp_close(struct tcp_conn *c)
{
	if (c->srv >= 0)
		close(c->srv);
	if (c->cli >= 0)
		close(c->cli);
	c->srv = c->cli = -1;
}

/* Whether fd sees end of file within ms: the other end's last copy is
 * closed. */
static bool eof_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		int left = (int)(end - now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = read(fd, &c, 1);
		if (n == 0)
			return true;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET;
	}
}

/* The linux task flag of a task that has begun to exit (/proc/PID/stat,
 * field 9). */
#define PF_EXITING 0x4

/* The fake child sleeps in pause() from the start, and nothing but a
 * signal wakes it: whether it is asleep there. */
static bool child_state_is(pid_t pid, char want, unsigned long *flags)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	char state = '?';
	unsigned long fl = 0;

	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	/* ") S ppid pgrp session tty tpgid flags" */
	if (p == NULL || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &fl) != 2)
		return false;
	if (flags)
		*flags = fl;
	return state == want;
}

/* Whether SIGKILL is pending for pid, for the thread or the process. */
static bool kill_pending(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	bool pending = f == NULL;   /* gone: it was stopped */
	unsigned long long mask;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if ((sscanf(line, "SigPnd: %llx", &mask) == 1 ||
		     sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
		    (mask & (1ull << (SIGKILL - 1))))
			pending = true;
	if (f != NULL)
		fclose(f);
	return pending;
}

/* Whether the fake child is still asleep in pause(), never sent SIGKILL.
 * Exact, with no waiting, once a kill() by the helper has returned: from
 * then on the child has SIGKILL pending, or is running to take it, or is
 * exiting (PF_EXITING), a zombie or gone, and each of these shows. The
 * pending bit is read first: a child that then leaves the sleeping state
 * shows in the second read. */
static bool child_untouched(pid_t pid)
{
	unsigned long flags = 0;

	if (kill_pending(pid))
		return false;
	return child_state_is(pid, 'S', &flags) && !(flags & PF_EXITING);
}

/* ---- the helper ---- */

static void rig_start(struct rig *r)
{
	int sv[2];

	r->child = fork();
	assert_true(r->child >= 0);
	if (r->child == 0) {
		closefrom(3);  /* holds no copy of any test connection */
		for (;;)
			pause();
	}
	/* Asleep in pause() before the test goes on, so that child_untouched
	 * can tell a woken child from one that never slept. */
	for (uint64_t end = now_ms() + WAIT_MS; !child_state_is(r->child, 'S', NULL); ) {
		assert_true(now_ms() < end);
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	/* As the monitor does: the child's pidfd, which the helper inherits. */
	int pidfd = (int)syscall(SYS_pidfd_open, r->child, 0);
	assert_true(pidfd > STDERR_FILENO);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	r->helper = fork();
	assert_true(r->helper >= 0);
	if (r->helper == 0) {
		struct seccomp_params p = { .pidfd = pidfd };
		char err[256];
		close(sv[0]);
		close(lsock);
		log_open(true);
		if (helper_prepare(&cfg, sv[1], pidfd) < 0)
			_exit(X_PREPARE);
		/* As in the daemon: the filter loads after prepare. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_apply(seccomp_helper_rules, seccomp_helper_count, &p,
		                  err, sizeof(err)) < 0)
			_exit(X_SANDBOX);
		_exit(helper_serve());
	}
	close(sv[1]);
	close(pidfd);
	r->sock = sv[0];
}

/* Closes the test's end; the helper must then leave with status 0. */
static void rig_stop(struct rig *r)
{
	int st;

	if (r->sock >= 0) {
		shutdown(r->sock, SHUT_WR);
		if (wait_ms(r->helper, WAIT_MS, &st) < 0) {
			kill(r->helper, SIGKILL);
			waitpid(r->helper, &st, 0);
			fail_msg("the helper did not leave when the child's end closed");
		}
		/* Nothing may be left unread: no reply to a refused message. */
		char buf[IPC_RECV_MAX];
		ssize_t n = recv(r->sock, buf, sizeof(buf), MSG_DONTWAIT);
		assert_int_equal(n, 0);
		close(r->sock);
		r->sock = -1;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("the helper ended with status 0x%x, not exit 0", st);
	}
	if (r->child > 0) {
		kill(r->child, SIGKILL);
		waitpid(r->child, &st, 0);
		r->child = 0;
	}
}

/* Sends buf with the descriptors fds[0..nfds). */
static void send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 4);
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

static struct ipc_query query_as(uint32_t conn, uint16_t sp, uint16_t cp)
{
	struct ipc_query q;
	memset(&q, 0, sizeof(q));
	q.type = IPC_QUERY;
	q.conn = conn;
	q.gen = GOOD_GEN;
	q.server_port = sp;
	q.client_port = cp;
	return q;
}

/* A query for refusal tests. */
static struct ipc_query query(uint16_t sp, uint16_t cp)
{
	return query_as(BAD_CONN, sp, cp);
}

static struct ipc_event event(void)
{
	struct ipc_event e;
	memset(&e, 0, sizeof(e));
	e.type = IPC_EVENT;
	e.kind = EV_TIMEOUT;
	e.count = 1;
	e.family = AF_INET;
	e.addr[0] = 127;
	e.addr[3] = 1;
	return e;
}

/* Receives the helper's reply to the GOOD_CONN query; its line. */
static void expect_reply(struct rig *r, char *line, size_t size)
{
	unsigned char buf[IPC_RECV_MAX];
	struct pollfd p = { .fd = r->sock, .events = POLLIN };
	struct ipc_reply rep;
	int fd = -1;

	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	ssize_t n = ipc_recv(r->sock, buf, sizeof(buf), &fd, 1);
	assert_int_equal(n, (ssize_t)sizeof(rep));
	assert_int_equal(fd, -1);
	assert_int_equal(ipc_decode_reply(buf, (size_t)n, &rep), 0);
	assert_int_equal(rep.conn, GOOD_CONN);
	assert_int_equal(rep.gen, GOOD_GEN);
	assert_true(rep.len < size);
	memcpy(line, rep.line, rep.len);
	line[rep.len] = '\0';
}

/* Asks about ports sp, cp through the descriptor fd; the reply line. */
static void ask(struct rig *r, int fd, uint16_t sp, uint16_t cp, char *line, size_t size)
{
	struct ipc_query q = query_as(GOOD_CONN, sp, cp);
	send_raw(r->sock, &q, sizeof(q), &fd, 1);
	expect_reply(r, line, size);
}

/* What the helper must say about a connection the test itself owns. */
static void own_reply(uint16_t sp, uint16_t cp, char *out, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	if (getuid() == 0)
		snprintf(out, size, "%u , %u : ERROR : HIDDEN-USER\r\n", sp, cp);
	else if (pw)
		snprintf(out, size, "%u , %u : USERID : UNIX : %s\r\n", sp, cp, pw->pw_name);
	else
		snprintf(out, size, "%u , %u : ERROR : UNKNOWN-ERROR\r\n", sp, cp);
}

/* The child was stopped, the helper was not, the helper still answers, and
 * only that answer comes back (none for the refused message). */
static void expect_refused(struct rig *r, const char *what)
{
	int st;
	char line[REPLY_MAX + 1], want[REPLY_MAX + 1];

	if (wait_ms(r->child, WAIT_MS, &st) < 0)
		fail_msg("%s: the child was not stopped", what);
	r->child = 0;
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		fail_msg("%s: the child ended with 0x%x, not SIGKILL", what, st);
	if (wait_ms(r->helper, 0, &st) == 0)
		fail_msg("%s: the helper ended (status 0x%x)", what, st);

	struct tcp_conn c = tcp_connect("127.0.0.1");
	ask(r, c.srv, c.srv_port, c.cli_port, line, sizeof(line));
	own_reply(c.srv_port, c.cli_port, want, sizeof(want));
	if (strcmp(line, want) != 0)
		fail_msg("%s: after the refusal, got '%s'", what, line);
	tcp_close(&c);
	rig_stop(r);
}

/* ---- refused messages ---- */

/* Sends len bytes of msg (a buffer at least that long) with a fresh TCP
 * connection's descriptor (or none), expects the refusal, and that the
 * descriptor was not kept. */
static void refuse_with_tcp(const char *what, const void *msg, size_t len, bool with_fd)
{
	struct rig r;
	struct tcp_conn c = tcp_connect("127.0.0.1");

	rig_start(&r);
	send_raw(r.sock, msg, len, &c.srv, with_fd ? 1 : 0);
	close(c.srv);
	c.srv = -1;
	expect_refused(&r, what);
	if (with_fd && !eof_within(c.cli, WAIT_MS))
		fail_msg("%s: the helper kept the descriptor", what);
	tcp_close(&c);
}

static void wrong_size(void **st)
{
	(void)st;
	unsigned char big[IPC_RECV_MAX * 2];
	struct ipc_query q = query(113, 6000);

	memset(big, 0, sizeof(big));
	memcpy(big, &q, sizeof(q));
	refuse_with_tcp("a query one byte short", &q, sizeof(q) - 1, true);
	refuse_with_tcp("a query one byte long", big, sizeof(q) + 1, true);
	refuse_with_tcp("a query of only its type", &q, sizeof(q.type), true);
	refuse_with_tcp("a message larger than any", big, sizeof(big), true);
	struct ipc_event e = event();
	refuse_with_tcp("an event one byte short", &e, sizeof(e) - 1, false);
}

static void wrong_type(void **st)
{
	(void)st;
	struct ipc_query q = query(113, 6000);
	q.type = IPC_REPLY;
	refuse_with_tcp("a query typed as a reply", &q, sizeof(q), true);
	q.type = 0xdeadbeef;
	refuse_with_tcp("an unknown type", &q, sizeof(q), true);
	q.type = IPC_EVENT;
	refuse_with_tcp("a query typed as an event", &q, sizeof(q), true);
	struct ipc_reply rep;
	memset(&rep, 0, sizeof(rep));
	rep.type = IPC_REPLY;
	rep.len = 2;
	memcpy(rep.line, "\r\n", 2);
	refuse_with_tcp("a reply sent to the helper", &rep, sizeof(rep), false);
}

static void ports_out_of_range(void **st)
{
	(void)st;
	struct ipc_query q = query(0, 6000);
	refuse_with_tcp("server port 0", &q, sizeof(q), true);
	q = query(113, 0);
	refuse_with_tcp("client port 0", &q, sizeof(q), true);
	q = query(0, 0);
	refuse_with_tcp("both ports 0", &q, sizeof(q), true);
}

static void query_without_descriptor(void **st)
{
	(void)st;
	struct ipc_query q = query(113, 6000);
	refuse_with_tcp("a query without a descriptor", &q, sizeof(q), false);
}

static void query_with_udp_socket(void **st)
{
	(void)st;
	struct rig r;
	struct ipc_query q = query(113, 6000);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* A connected UDP socket has both addresses, like a TCP one. */
	assert_true(u >= 0);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	assert_int_equal(connect(u, (struct sockaddr *)&to, sizeof(to)), 0);
	rig_start(&r);
	send_raw(r.sock, &q, sizeof(q), &u, 1);
	close(u);
	expect_refused(&r, "a query with a UDP socket");
}

static void refuse_with_pipe(const char *what, const void *msg, size_t len)
{
	struct rig r;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	rig_start(&r);
	send_raw(r.sock, msg, len, &p[1], 1);
	close(p[1]);
	expect_refused(&r, what);
	if (!eof_within(p[0], WAIT_MS))
		fail_msg("%s: the helper kept the pipe", what);
	close(p[0]);
}

static void query_with_pipe(void **st)
{
	(void)st;
	struct ipc_query q = query(113, 6000);
	refuse_with_pipe("a query with a pipe", &q, sizeof(q));
}

static void query_with_unix_socket(void **st)
{
	(void)st;
	struct rig r;
	struct ipc_query q = query(113, 6000);
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	rig_start(&r);
	send_raw(r.sock, &q, sizeof(q), &sv[1], 1);
	close(sv[1]);
	expect_refused(&r, "a query with an AF_UNIX stream socket");
	assert_true(eof_within(sv[0], WAIT_MS));
	close(sv[0]);
}

static void query_with_two_descriptors(void **st)
{
	(void)st;
	struct rig r;
	struct ipc_query q;
	struct tcp_conn c = tcp_connect("127.0.0.1");
	int p[2];

	q = query(c.srv_port, c.cli_port);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	rig_start(&r);
	int fds[2] = { c.srv, p[1] };
	send_raw(r.sock, &q, sizeof(q), fds, 2);
	close(c.srv);
	c.srv = -1;
	close(p[1]);
	expect_refused(&r, "a query with two descriptors");
	assert_true(eof_within(c.cli, WAIT_MS));
	assert_true(eof_within(p[0], WAIT_MS));
	close(p[0]);
	tcp_close(&c);
}

static void bad_events(void **st)
{
	(void)st;
	struct ipc_event e = event();
	e.family = AF_UNIX;
	refuse_with_tcp("an event with family AF_UNIX", &e, sizeof(e), false);
	e = event();
	e.kind = 0;
	refuse_with_tcp("an event of kind 0", &e, sizeof(e), false);
	e.kind = EV_KIND_END;
	refuse_with_tcp("an event of an unknown kind", &e, sizeof(e), false);
	e = event();
	e.count = 0;
	refuse_with_tcp("an event with count 0", &e, sizeof(e), false);
	e = event();
	e.pad = 1;
	refuse_with_tcp("an event with padding set", &e, sizeof(e), false);
	e = event();
	e.kind = EV_BAD_PORT;
	e.ports[0] = 100000;
	refuse_with_tcp("an event with a six-digit port", &e, sizeof(e), false);
	e = event();
	refuse_with_tcp("an event with a descriptor", &e, sizeof(e), true);
}

/* ---- well-formed queries ---- */

static void answers_about_the_connection_behind_the_descriptor(void **st)
{
	(void)st;
	struct rig r;
	char line[REPLY_MAX + 1], want[REPLY_MAX + 1];

	/* The rig first: its processes must not inherit the connections, or
	 * the end-of-file check below could not tell whether the helper
	 * closed its copy. */
	rig_start(&r);
	struct tcp_conn a = tcp_connect("127.0.0.2"), b = tcp_connect("127.0.0.3");
	/* a's own ports through a: the test's own connection. */
	ask(&r, a.srv, a.srv_port, a.cli_port, line, sizeof(line));
	own_reply(a.srv_port, a.cli_port, want, sizeof(want));
	assert_string_equal(line, want);
	/* The same ports through b: the addresses come from b, and there is
	 * no connection 127.0.0.1:a.srv_port <-> 127.0.0.3:a.cli_port. */
	ask(&r, b.srv, a.srv_port, a.cli_port, line, sizeof(line));
	snprintf(want, sizeof(want), "%u , %u : ERROR : NO-USER\r\n", a.srv_port, a.cli_port);
	assert_string_equal(line, want);
	/* No connection at all on these ports. */
	ask(&r, a.srv, a.srv_port, 1, line, sizeof(line));
	snprintf(want, sizeof(want), "%u , 1 : ERROR : NO-USER\r\n", a.srv_port);
	assert_string_equal(line, want);
	/* An event is logged, not answered, and does not stop the child. The
	 * helper handles messages in order, so once the reply to a query sent
	 * after the event is in, the event has been handled, and a kill() it
	 * caused has returned: child_untouched tells at once, no waiting. */
	struct ipc_event e = event();
	send_raw(r.sock, &e, sizeof(e), NULL, 0);
	ask(&r, a.srv, a.srv_port, a.cli_port, line, sizeof(line));
	own_reply(a.srv_port, a.cli_port, want, sizeof(want));
	assert_string_equal(line, want);
	if (!child_untouched(r.child))
		fail_msg("the helper stopped the child for a well-formed event");
	/* The descriptors were closed after use. */
	close(a.srv);
	a.srv = -1;
	assert_true(eof_within(a.cli, WAIT_MS));
	tcp_close(&a);
	tcp_close(&b);
	rig_stop(&r);
}

/* A TCP socket that is not connected (a client that reset meanwhile looks
 * the same) has no addresses to ask about: UNKNOWN-ERROR, and the child is
 * not to blame. */
static void unconnected_tcp_socket_is_unknown_error(void **st)
{
	(void)st;
	struct rig r;
	char line[REPLY_MAX + 1];
	int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(t >= 0);
	rig_start(&r);
	ask(&r, t, 113, 6000, line, sizeof(line));
	assert_string_equal(line, "113 , 6000 : ERROR : UNKNOWN-ERROR\r\n");
	assert_true(child_untouched(r.child));
	close(t);
	rig_stop(&r);
}

static int setup(void **st)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	(void)st;

	config_defaults(&cfg);
	signal(SIGPIPE, SIG_IGN);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lsock, 64) < 0)
		return -1;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	close(lsock);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answers_about_the_connection_behind_the_descriptor),
		cmocka_unit_test(unconnected_tcp_socket_is_unknown_error),
		cmocka_unit_test(wrong_size),
		cmocka_unit_test(wrong_type),
		cmocka_unit_test(ports_out_of_range),
		cmocka_unit_test(query_without_descriptor),
		cmocka_unit_test(query_with_udp_socket),
		cmocka_unit_test(query_with_pipe),
		cmocka_unit_test(query_with_unix_socket),
		cmocka_unit_test(query_with_two_descriptors),
		cmocka_unit_test(bad_events),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
