/* The child <-> helper codec: exact sizes, types and ranges, and the
 * descriptor-passing transport over a real SOCK_SEQPACKET socketpair. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

static struct ipc_query good_query(void)
{
	struct ipc_query q;
	memset(&q, 0, sizeof(q));
	q.type = IPC_QUERY;
	q.conn = 7;
	q.gen = 3;
	q.server_port = 6193;
	q.client_port = 23;
	return q;
}

static void query_valid(void **st)
{
	(void)st;
	struct ipc_query q = good_query(), out;
	assert_int_equal(ipc_decode_query(&q, sizeof(q), &out), 0);
	assert_int_equal(out.server_port, 6193);
	assert_int_equal(out.client_port, 23);
	assert_int_equal(out.conn, 7);
	assert_int_equal(out.gen, 3);
}

static void query_wrong_size(void **st)
{
	(void)st;
	unsigned char buf[sizeof(struct ipc_query) + 1];
	struct ipc_query q = good_query(), out;
	memcpy(buf, &q, sizeof(q));
	buf[sizeof(q)] = 0;
	assert_int_equal(ipc_decode_query(buf, sizeof(q) - 1, &out), -1);
	assert_int_equal(ipc_decode_query(buf, sizeof(q) + 1, &out), -1);
	assert_int_equal(ipc_decode_query(buf, 0, &out), -1);
}

static void query_wrong_type_or_range(void **st)
{
	(void)st;
	struct ipc_query q = good_query(), out;
	q.type = IPC_REPLY;
	assert_int_equal(ipc_decode_query(&q, sizeof(q), &out), -1);
	q = good_query();
	q.server_port = 0;
	assert_int_equal(ipc_decode_query(&q, sizeof(q), &out), -1);
	q = good_query();
	q.client_port = 0;
	assert_int_equal(ipc_decode_query(&q, sizeof(q), &out), -1);
	q = good_query();
	q.server_port = 65535;
	q.client_port = 1;
	assert_int_equal(ipc_decode_query(&q, sizeof(q), &out), 0);
}

static struct ipc_event event_of(uint32_t kind, uint16_t family)
{
	struct ipc_event e;
	memset(&e, 0, sizeof(e));
	e.type = IPC_EVENT;
	e.kind = kind;
	e.count = 1;
	e.family = family;
	return e;
}

static struct ipc_event good_event(void)
{
	struct ipc_event e = event_of(EV_LIMIT_HOST, AF_INET);
	e.addr[0] = 127;
	e.addr[3] = 1;
	return e;
}

static void event_checks(void **st)
{
	(void)st;
	struct ipc_event e = good_event(), out;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), 0);
	assert_int_equal(out.kind, EV_LIMIT_HOST);
	assert_int_equal(ipc_decode_event(&e, sizeof(e) - 1, &out), -1);
	e.kind = 0;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = good_event();
	e.kind = EV_KIND_END;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = good_event();
	e.family = AF_UNIX;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = good_event();
	e.count = 0;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = good_event();
	e.pad = 1;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = good_event();
	e.ports[1] = 100000;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e.ports[1] = 99999;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), 0);
}

/* The event --debug-sandbox's child sends: about the child itself. */
static struct ipc_event seccomp_event(uint32_t nr)
{
	struct ipc_event e = event_of(EV_SECCOMP, AF_UNSPEC);
	e.syscall_nr = nr;
	return e;
}

/* The forbidden call has a field of its own; no address, no ports, no
 * family, counted once. */
static void seccomp_event_checks(void **st)
{
	(void)st;
	struct ipc_event e = seccomp_event(41), out;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), 0);
	assert_int_equal(out.syscall_nr, 41);
	/* Any number the kernel can report: an x32 call's, syscall(-1)'s. */
	e = seccomp_event(0x40000000u | 41);
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), 0);
	e = seccomp_event(UINT32_MAX);
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), 0);
	e = seccomp_event(41);
	e.family = AF_INET;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = seccomp_event(41);
	e.addr[15] = 1;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = seccomp_event(41);
	e.ports[1] = 1;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	e = seccomp_event(41);
	e.count = 2;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
	/* The number belongs to EV_SECCOMP alone. */
	e = good_event();
	e.syscall_nr = 41;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
}

/* What the child used to send for a forbidden call (a made-up AF_INET peer
 * and the number as ports[0]) is refused. */
static void seccomp_event_old_form_refused(void **st)
{
	(void)st;
	struct ipc_event e = good_event(), out;
	e.kind = EV_SECCOMP;
	memset(e.addr, 0, sizeof(e.addr));
	e.ports[0] = 41;
	assert_int_equal(ipc_decode_event(&e, sizeof(e), &out), -1);
}

static struct ipc_reply reply_of(const char *line)
{
	struct ipc_reply r;
	memset(&r, 0, sizeof(r));
	r.type = IPC_REPLY;
	r.len = (uint32_t)strlen(line);
	memcpy(r.line, line, r.len);
	return r;
}

static void reply_checks(void **st)
{
	(void)st;
	struct ipc_reply r = reply_of("6193 , 23 : USERID : UNIX : alice\r\n"), out;
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), 0);
	assert_memory_equal(out.line, "6193 , 23 : USERID : UNIX : alice\r\n", out.len);
	assert_int_equal(ipc_decode_reply(&r, sizeof(r) - 1, &out), -1);
	r.len = 0;
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), -1);
	r.len = REPLY_MAX;
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), -1);
	r = reply_of("6193 , 23 : ERROR : NO-USER");           /* no CR LF */
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), -1);
	r = reply_of("6193 , 23 : USERID : UNIX : a\r\nb\r\n"); /* two lines */
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), -1);
	r = reply_of("6193 , 23 : USERID : UNIX : a\x1b[2J\r\n");
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), -1);
	r = reply_of("1 , 1 : USERID : UNIX,UTF-8 : j\xc3\xb6rg\r\n");
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), 0);
	r.type = IPC_QUERY;
	assert_int_equal(ipc_decode_reply(&r, sizeof(r), &out), -1);
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void transport_passes_fd(void **st)
{
	(void)st;
	int sv[2], p[2], fd;
	unsigned char buf[IPC_RECV_MAX];
	struct ipc_query q = good_query(), out;

	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ipc_send(sv[0], &q, sizeof(q), p[1], 0), 0);
	ssize_t n = ipc_recv(sv[1], buf, sizeof(buf), &fd, 0);
	assert_int_equal(n, sizeof(q));
	assert_true(fd >= 0);
	assert_int_equal(ipc_decode_query(buf, (size_t)n, &out), 0);
	/* The received descriptor is the pipe's write end. */
	assert_int_equal(write(fd, "x", 1), 1);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void transport_no_fd_and_eof(void **st)
{
	(void)st;
	int sv[2], fd;
	unsigned char buf[IPC_RECV_MAX];
	struct ipc_event e = good_event();

	pair(sv);
	assert_int_equal(ipc_send(sv[0], &e, sizeof(e), -1, 0), 0);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &fd, 0), sizeof(e));
	assert_int_equal(fd, -1);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &fd, 1), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &fd, 0), 0);
	close(sv[1]);
}

/* Two descriptors in one message: both are closed, the message refused. */
static void transport_refuses_extra_fds(void **st)
{
	(void)st;
	int sv[2], p[2], fd;
	unsigned char buf[IPC_RECV_MAX];
	struct ipc_query q = good_query();
	int fds[2];
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { &q, sizeof(q) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	                     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };

	pair(sv);
	assert_int_equal(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = p[1];
	memset(cbuf, 0, sizeof(cbuf));
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &mh, 0), sizeof(q));
	close(p[1]);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &fd, 0), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(fd, -1);
	/* Every copy of the write end is closed, so the read end sees EOF. */
	char x;
	assert_int_equal(read(p[0], &x, 1), 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

/* A message longer than any valid one is seen as truncated, not cut. */
static void transport_refuses_oversize(void **st)
{
	(void)st;
	int sv[2], fd;
	unsigned char big[IPC_RECV_MAX + 16];
	unsigned char buf[IPC_RECV_MAX];

	pair(sv);
	memset(big, 'A', sizeof(big));
	assert_int_equal(ipc_send(sv[0], big, sizeof(big), -1, 0), 0);
	assert_int_equal(ipc_recv(sv[1], buf, sizeof(buf), &fd, 0), -1);
	assert_int_equal(errno, EBADMSG);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_valid),
		cmocka_unit_test(query_wrong_size),
		cmocka_unit_test(query_wrong_type_or_range),
		cmocka_unit_test(event_checks),
		cmocka_unit_test(seccomp_event_checks),
		cmocka_unit_test(seccomp_event_old_form_refused),
		cmocka_unit_test(reply_checks),
		cmocka_unit_test(transport_passes_fd),
		cmocka_unit_test(transport_no_fd_and_eof),
		cmocka_unit_test(transport_refuses_extra_fds),
		cmocka_unit_test(transport_refuses_oversize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
