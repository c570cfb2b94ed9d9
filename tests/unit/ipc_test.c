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

/* ---- the forwarding roles' messages ---- */

/* Every decoder refuses one byte less, one byte more and nothing. */
#define EXPECT_SIZES(decode, msg) do {                                     \
		unsigned char big_[sizeof(msg) + 1];                            \
		__typeof__(msg) out_;                                           \
		memcpy(big_, &(msg), sizeof(msg));                              \
		big_[sizeof(msg)] = 0;                                          \
		assert_int_equal(decode(big_, sizeof(msg), &out_), 0);          \
		assert_int_equal(decode(big_, sizeof(msg) - 1, &out_), -1);     \
		assert_int_equal(decode(big_, sizeof(msg) + 1, &out_), -1);     \
		assert_int_equal(decode(big_, 0, &out_), -1);                   \
	} while (0)

static const uint8_t v4_querier[4] = { 192, 0, 2, 7 };
static const uint8_t v6_inner[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };

static struct ipc_ct_ask good_ct_ask(void)
{
	struct ipc_ct_ask q;
	memset(&q, 0, sizeof(q));
	q.type = IPC_CT_ASK;
	q.id = 41;
	q.family = AF_INET;
	q.local_port = 4711;
	q.remote_port = 6667;
	q.local[0] = 203;
	q.local[1] = 0;
	q.local[2] = 113;
	q.local[3] = 1;
	memcpy(q.remote, v4_querier, sizeof(v4_querier));
	return q;
}

static void ct_ask_round_trip(void **st)
{
	(void)st;
	struct ipc_ct_ask q = good_ct_ask(), out;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), 0);
	assert_memory_equal(&out, &q, sizeof(q));
	EXPECT_SIZES(ipc_decode_ct_ask, q);
	/* IPv6, and the ports' whole range. */
	q.family = AF_INET6;
	memcpy(q.local, v6_inner, sizeof(v6_inner));
	memset(q.remote, 0xff, sizeof(q.remote));
	q.local_port = 1;
	q.remote_port = 65535;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), 0);
	assert_memory_equal(&out, &q, sizeof(q));
}

static void ct_ask_refusals(void **st)
{
	(void)st;
	struct ipc_ct_ask q, out;
	static const uint16_t families[] = { AF_UNSPEC, AF_UNIX, AF_NETLINK, 0xffff };

	q = good_ct_ask();
	q.type = IPC_CT_ANSWER;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	q = good_ct_ask();
	q.type = IPC_QUERY;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		q = good_ct_ask();
		q.family = families[i];
		assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	}
	q = good_ct_ask();
	q.local_port = 0;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	q = good_ct_ask();
	q.remote_port = 0;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	q = good_ct_ask();
	q.pad = 1;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	q = good_ct_ask();
	q.pad = 0x8000;
	assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	/* AF_INET: every octet past the fourth, of either address, is 0. */
	for (int i = 4; i < 16; i++) {
		q = good_ct_ask();
		q.local[i] = 1;
		assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
		q = good_ct_ask();
		q.remote[i] = 0x80;
		assert_int_equal(ipc_decode_ct_ask(&q, sizeof(q), &out), -1);
	}
}

static struct ipc_ct_answer ct_answer_of(uint32_t result)
{
	struct ipc_ct_answer a;
	memset(&a, 0, sizeof(a));
	a.type = IPC_CT_ANSWER;
	a.id = 41;
	a.result = result;
	return a;
}

static struct ipc_ct_answer good_ct_found(void)
{
	struct ipc_ct_answer a = ct_answer_of(CT_FOUND);
	a.family = AF_INET;
	a.inner[0] = 10;
	a.inner[3] = 5;
	a.inner_port = 40000;
	return a;
}

static void ct_answer_round_trip(void **st)
{
	(void)st;
	struct ipc_ct_answer a = good_ct_found(), out;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
	assert_memory_equal(&out, &a, sizeof(a));
	EXPECT_SIZES(ipc_decode_ct_answer, a);
	a.family = AF_INET6;
	memcpy(a.inner, v6_inner, sizeof(v6_inner));
	a.inner_port = 65535;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
	assert_memory_equal(&out, &a, sizeof(a));
	a = ct_answer_of(CT_NOT_FOUND);
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
	assert_int_equal(out.result, CT_NOT_FOUND);
	a = ct_answer_of(CT_MISMATCH);
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
	a = ct_answer_of(CT_ERROR);
	a.err = EPERM;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
	assert_int_equal(out.err, EPERM);
	a.err = 4095;   /* the kernel's largest errno */
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
}

static void ct_answer_refusals(void **st)
{
	(void)st;
	struct ipc_ct_answer a, out;

	a = good_ct_found();
	a.type = IPC_CT_ASK;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	/* The result's range. */
	a = ct_answer_of(0);
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a = ct_answer_of(CT_RESULT_END);
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a = ct_answer_of(UINT32_MAX);
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	/* CT_FOUND: a family, a port, an address as the family has it, no
	 * errno. */
	a = good_ct_found();
	a.family = AF_UNSPEC;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a.family = AF_UNIX;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a = good_ct_found();
	a.inner_port = 0;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a = good_ct_found();
	a.err = EIO;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	for (int i = 4; i < 16; i++) {
		a = good_ct_found();
		a.inner[i] = 1;
		assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	}
	/* The others: family, port and address all zero. */
	for (uint32_t r = CT_NOT_FOUND; r < CT_RESULT_END; r++) {
		a = ct_answer_of(r);
		a.err = r == CT_ERROR ? EIO : 0;
		assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), 0);
		a.family = AF_INET;
		assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
		a.family = 0;
		a.inner_port = 113;
		assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
		a.inner_port = 0;
		for (int i = 0; i < 16; i++) {
			a.inner[i] = 1;
			assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
			a.inner[i] = 0;
		}
	}
	/* errno: CT_ERROR's 1..4095, nobody else's. */
	a = ct_answer_of(CT_ERROR);
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a.err = 4096;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a.err = UINT32_MAX;   /* -1 */
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a = ct_answer_of(CT_NOT_FOUND);
	a.err = ENOENT;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
	a = ct_answer_of(CT_MISMATCH);
	a.err = 1;
	assert_int_equal(ipc_decode_ct_answer(&a, sizeof(a), &out), -1);
}

static struct ipc_fwd_ask good_fwd_ask(void)
{
	struct ipc_fwd_ask q;
	memset(&q, 0, sizeof(q));
	q.type = IPC_FWD_ASK;
	q.id = 9;
	q.family = AF_INET;
	q.port = 113;
	q.inner_port = 40000;
	q.server_port = 6667;
	q.addr[0] = 10;
	q.addr[3] = 5;
	q.timeout_ms = 3000;
	return q;
}

static void fwd_ask_round_trip(void **st)
{
	(void)st;
	struct ipc_fwd_ask q = good_fwd_ask(), out;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), 0);
	assert_memory_equal(&out, &q, sizeof(q));
	EXPECT_SIZES(ipc_decode_fwd_ask, q);
	q.family = AF_INET6;
	memcpy(q.addr, v6_inner, sizeof(v6_inner));
	q.port = 65535;
	q.inner_port = 1;
	q.server_port = 65535;
	q.timeout_ms = FWD_TIMEOUT_MS_MAX;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), 0);
	assert_memory_equal(&out, &q, sizeof(q));
	q.timeout_ms = 1;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), 0);
}

static void fwd_ask_refusals(void **st)
{
	(void)st;
	struct ipc_fwd_ask q, out;

	q = good_fwd_ask();
	q.type = IPC_FWD_ANSWER;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q = good_fwd_ask();
	q.family = AF_UNSPEC;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q.family = AF_UNIX;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q = good_fwd_ask();
	q.port = 0;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q = good_fwd_ask();
	q.inner_port = 0;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q = good_fwd_ask();
	q.server_port = 0;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q = good_fwd_ask();
	q.timeout_ms = 0;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q.timeout_ms = FWD_TIMEOUT_MS_MAX + 1;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	q.timeout_ms = UINT32_MAX;
	assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	for (int i = 4; i < 16; i++) {
		q = good_fwd_ask();
		q.addr[i] = 1;
		assert_int_equal(ipc_decode_fwd_ask(&q, sizeof(q), &out), -1);
	}
}

static struct ipc_fwd_answer fwd_failed(uint32_t failure)
{
	struct ipc_fwd_answer a;
	memset(&a, 0, sizeof(a));
	a.type = IPC_FWD_ANSWER;
	a.id = 9;
	a.failure = failure;
	return a;
}

static struct ipc_fwd_answer fwd_userid(const char *opsys, const char *charset,
                                        const char *userid)
{
	struct ipc_fwd_answer a = fwd_failed(0);
	a.is_userid = 1;
	a.server_port = 40000;
	a.client_port = 6667;
	memcpy(a.opsys, opsys, strlen(opsys));
	memcpy(a.charset, charset, strlen(charset));
	memcpy(a.userid, userid, strlen(userid));
	return a;
}

static struct ipc_fwd_answer fwd_error(const char *error)
{
	struct ipc_fwd_answer a = fwd_failed(0);
	a.server_port = 40000;
	a.client_port = 6667;
	memcpy(a.error, error, strlen(error));
	return a;
}

static void fwd_answer_round_trip(void **st)
{
	(void)st;
	struct ipc_fwd_answer a = fwd_userid("UNIX", "UTF-8", "alice"), out;
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), 0);
	assert_memory_equal(&out, &a, sizeof(a));
	EXPECT_SIZES(ipc_decode_fwd_answer, a);
	/* No charset; every field as long as it may be. */
	char opsys[OPSYS_MAX + 1], user[USERID_MAX + 1];
	memset(opsys, 'O', OPSYS_MAX);
	opsys[OPSYS_MAX] = '\0';
	memset(user, 'u', USERID_MAX);
	user[USERID_MAX] = '\0';
	a = fwd_userid(opsys, "", user);
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), 0);
	assert_memory_equal(&out, &a, sizeof(a));
	a = fwd_userid(opsys, opsys, user);
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), 0);
	a = fwd_error("NO-USER");
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), 0);
	assert_memory_equal(&out, &a, sizeof(a));
	a = fwd_error(opsys);
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), 0);
	for (uint32_t f = 1; f <= FWD_FAILURE_LAST; f++) {
		a = fwd_failed(f);
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), 0);
		assert_int_equal(out.failure, f);
	}
}

/* A string field that is not NUL-terminated inside itself, or has
 * anything but zeros after its NUL, is refused. */
static void expect_field_refused(struct ipc_fwd_answer a, size_t offset, size_t size)
{
	struct ipc_fwd_answer out;
	char *f = (char *)&a + offset;
	size_t n = strnlen(f, size);

	memset(f + n, 'z', size - n);            /* no NUL at all */
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	memset(f + n, 0, size - n);
	f[size - 1] = 'z';                      /* something after the NUL */
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	f[size - 1] = '\0';
	if (n + 2 <= size) {
		f[n + 1] = 'z';                 /* right after it */
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	}
}

#define FIELD(f) offsetof(struct ipc_fwd_answer, f), sizeof(((struct ipc_fwd_answer *)0)->f)

static void fwd_answer_refusals(void **st)
{
	(void)st;
	struct ipc_fwd_answer a, out;

	a = fwd_userid("UNIX", "", "alice");
	a.type = IPC_FWD_ASK;
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_failed(FWD_FAILURE_LAST + 1);
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_failed(UINT32_MAX);
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	/* FORWARD_OK: both ports; is_userid 0 or 1. */
	a = fwd_userid("UNIX", "", "alice");
	a.server_port = 0;
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_userid("UNIX", "", "alice");
	a.client_port = 0;
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_userid("UNIX", "", "alice");
	a.is_userid = 2;
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_error("NO-USER");
	a.is_userid = UINT32_MAX;
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	/* USERID: an opsys and a user id, no error. */
	a = fwd_userid("", "", "alice");
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_userid("UNIX", "UTF-8", "");
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_userid("UNIX", "", "alice");
	a.error[0] = 'X';
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_userid("UNIX", "", "alice");
	a.error[OPSYS_MAX] = 'X';
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	/* ERROR: an error, nothing else. */
	a = fwd_error("");
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_error("NO-USER");
	a.opsys[0] = 'U';
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_error("NO-USER");
	a.charset[3] = 'U';
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	a = fwd_error("NO-USER");
	a.userid[USERID_MAX] = 'u';
	assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	/* NUL-terminated inside the field, zeros after. */
	expect_field_refused(fwd_userid("UNIX", "UTF-8", "alice"), FIELD(opsys));
	expect_field_refused(fwd_userid("UNIX", "UTF-8", "alice"), FIELD(charset));
	expect_field_refused(fwd_userid("UNIX", "", "alice"), FIELD(charset));
	expect_field_refused(fwd_userid("UNIX", "UTF-8", "alice"), FIELD(userid));
	expect_field_refused(fwd_error("NO-USER"), FIELD(error));
	/* A failure carries nothing: no ports, no is_userid, no text. */
	for (uint32_t f = 1; f <= FWD_FAILURE_LAST; f++) {
		a = fwd_failed(f);
		a.server_port = 40000;
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
		a = fwd_failed(f);
		a.client_port = 6667;
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
		a = fwd_failed(f);
		a.is_userid = 1;
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
		a = fwd_failed(f);
		a.opsys[OPSYS_MAX] = 'x';
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
		a = fwd_failed(f);
		a.charset[0] = 'x';
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
		a = fwd_failed(f);
		a.userid[100] = 'x';
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
		a = fwd_failed(f);
		a.error[0] = 'x';
		assert_int_equal(ipc_decode_fwd_answer(&a, sizeof(a), &out), -1);
	}
}

/* Each message is refused by every other decoder, even where the sizes
 * happen to match (the ct answer and the fwd ask are both 36 bytes). */
static void forwarding_types_are_distinct(void **st)
{
	(void)st;
	union {
		struct ipc_ct_ask ca;
		struct ipc_ct_answer cn;
		struct ipc_fwd_ask fa;
		struct ipc_fwd_answer fn;
		unsigned char raw[sizeof(struct ipc_fwd_answer)];
	} in, out;
	struct ipc_fwd_ask fa = good_fwd_ask();
	struct ipc_ct_answer cn = good_ct_found();

	memset(&in, 0, sizeof(in));
	memcpy(&in, &fa, sizeof(fa));
	assert_int_equal(ipc_decode_fwd_ask(&in, sizeof(fa), &out.fa), 0);
	assert_int_equal(ipc_decode_ct_answer(&in, sizeof(fa), &out.cn), -1);
	assert_int_equal(ipc_decode_ct_ask(&in, sizeof(in.ca), &out.ca), -1);
	memset(&in, 0, sizeof(in));
	memcpy(&in, &cn, sizeof(cn));
	assert_int_equal(ipc_decode_fwd_ask(&in, sizeof(cn), &out.fa), -1);
	assert_int_equal(ipc_decode_fwd_answer(&in, sizeof(in.fn), &out.fn), -1);
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
		cmocka_unit_test(ct_ask_round_trip),
		cmocka_unit_test(ct_ask_refusals),
		cmocka_unit_test(ct_answer_round_trip),
		cmocka_unit_test(ct_answer_refusals),
		cmocka_unit_test(fwd_ask_round_trip),
		cmocka_unit_test(fwd_ask_refusals),
		cmocka_unit_test(fwd_answer_round_trip),
		cmocka_unit_test(fwd_answer_refusals),
		cmocka_unit_test(forwarding_types_are_distinct),
		cmocka_unit_test(transport_passes_fd),
		cmocka_unit_test(transport_no_fd_and_eof),
		cmocka_unit_test(transport_refuses_extra_fds),
		cmocka_unit_test(transport_refuses_oversize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
