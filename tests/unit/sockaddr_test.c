/* Unit tests for src/sockaddr.c: the listen address syntax (with scopes),
 * formatting, comparing and checking addresses. Interface names use "lo",
 * whose index is 1 in every network namespace (the kernel's
 * LOOPBACK_IFINDEX). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "sockaddr.h"
#include "listen_assert.h"

#define LO_INDEX 1u
/* An interface index no host has: far above any a test machine creates. */
#define NO_SUCH_INDEX 2000000000u

static char err[256];

/* Parses s (default port DEFAULT_PORT) and checks the IPv4 result. */
static void good_v4(const char *s, const char *addr, unsigned port)
{
	struct listen_addr l;

	if (sa_parse_listen(s, DEFAULT_PORT, &l, err, sizeof err) != 0)
		fail_msg("'%s' refused: %s", s, err);
	assert_v4(&l, addr, port);
}

static void good_v6(const char *s, const char *addr, unsigned port,
                    uint32_t scope)
{
	struct listen_addr l;

	if (sa_parse_listen(s, DEFAULT_PORT, &l, err, sizeof err) != 0)
		fail_msg("'%s' refused: %s", s, err);
	assert_v6_scope(&l, addr, port, scope);
}

/* Refused, with exactly the message want (or any, if want is NULL). */
static void bad(const char *s, const char *want)
{
	struct listen_addr l;

	err[0] = '\0';
	if (sa_parse_listen(s, DEFAULT_PORT, &l, err, sizeof err) == 0)
		fail_msg("'%s' accepted", s ? s : "(null)");
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	if (want != NULL)
		assert_string_equal(err, want);
}

static void test_forms(void **state)
{
	(void)state;
	good_v4("127.0.0.1", "127.0.0.1", DEFAULT_PORT);
	good_v4("127.0.0.1:1130", "127.0.0.1", 1130);
	good_v4("0.0.0.0:1130", "0.0.0.0", 1130);
	good_v4("192.0.2.1:65535", "192.0.2.1", 65535);
	good_v4("192.0.2.1:1", "192.0.2.1", 1);
	good_v6("[::1]:1130", "::1", 1130, 0);
	good_v6("[::1]", "::1", DEFAULT_PORT, 0);
	good_v6("::1", "::1", DEFAULT_PORT, 0);
	good_v6("2001:db8::5", "2001:db8::5", DEFAULT_PORT, 0);
	good_v6("[2001:db8::5]:7", "2001:db8::5", 7, 0);
	good_v6("[::ffff:192.0.2.1]:9", "::ffff:192.0.2.1", 9, 0);
	good_v6(":1130", "::", 1130, 0);
	good_v6("*:1130", "::", 1130, 0);
	good_v6("*", "::", DEFAULT_PORT, 0);
	good_v6("[::]:1130", "::", 1130, 0);
}

static void test_default_port(void **state)
{
	struct listen_addr l;

	(void)state;
	assert_int_equal(sa_parse_listen("127.0.0.1", 4242, &l, err, sizeof err), 0);
	assert_int_equal(ntohs(sin4(&l)->sin_port), 4242);
	assert_int_equal(sa_parse_listen("[::1]:7", 4242, &l, err, sizeof err), 0);
	assert_int_equal(ntohs(sin6(&l)->sin6_port), 7);
}

static void test_scope(void **state)
{
	(void)state;
	/* by name, by index, bare or bracketed, any fe80::/10 address */
	good_v6("fe80::1%lo", "fe80::1", DEFAULT_PORT, LO_INDEX);
	good_v6("[fe80::1%lo]:1130", "fe80::1", 1130, LO_INDEX);
	good_v6("[fe80::1%1]:1130", "fe80::1", 1130, LO_INDEX);
	good_v6("[fe80::1%lo]", "fe80::1", DEFAULT_PORT, LO_INDEX);
	good_v6("[febf:ffff::9%lo]:5", "febf:ffff::9", 5, LO_INDEX);
	/* a link-local address means nothing without its link */
	bad("[fe80::1]:1130", "'[fe80::1]:1130': a link-local address needs "
	    "its interface, as [fe80::1%eth0]:113");
	bad("fe80::1", NULL);
	bad("[fe80::%lo]:0", "'[fe80::%lo]:0': the port must be a number "
	    "from 1 to 65535");
	/* and no other address has one */
	bad("[2001:db8::1%lo]:1130", "'[2001:db8::1%lo]:1130': only a "
	    "link-local address (fe80::/10) takes an interface (%IF)");
	bad("[::1%lo]:1", NULL);
	bad("[fec0::1%lo]:1", NULL);   /* site-local, not fe80::/10 */
	bad("[::%lo]:1", NULL);
	bad("127.0.0.1%lo", "'127.0.0.1%lo' is not a numeric IPv4 address");
	bad("127.0.0.1%lo:5", NULL);
	/* the interface must exist */
	bad("[fe80::1%no-such-if0]:1", "'[fe80::1%no-such-if0]:1': no such "
	    "interface");
	bad("[fe80::1%]:1", NULL);
	bad("[fe80::1%0]:1", NULL);
	bad("[fe80::1%2000000000]:1", NULL);
	bad("[fe80::1%99999999999999999999]:1", NULL);
	bad("[fe80::1%-1]:1", NULL);
	bad("[fe80::1%lo0123456789abcdef]:1", NULL);  /* longer than IF_NAMESIZE */
	bad("[fe80::1%lo%lo]:1", NULL);
	bad("[fe80::1%lo]:1:2", NULL);
	bad("fe80::1%lo:113", NULL);  /* a bare IPv6 address has no port */
	bad("[fe80::1%lo:1]:113", NULL);  /* an address label, not a name */
	bad("[fe80::1%lo/1]:113", NULL);
	bad("[fe80::1% lo]:113", NULL);
}

static void test_invalid(void **state)
{
	static const char *const refused[] = {
		"", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:99999999999999999999",
		"[::1", "[::1]x", "[::1]:", "[::1]:0", "[1.2.3.4]", "[]", "host.name",
		"localhost:113", "1.2.3.4:x", "1.2.3.4:", "1.2.3.4: 5", "1.2.3.4:-1",
		"1.2.3.4:+5", ":", "*:", "1.2.3", "1.2.3.256", "01.2.3.4", " 1.2.3.4",
		"1.2.3.4 ", "::1::", "[::1]:113:1", "**:5",
		"1234:5678:9abc:def0:1234:5678:9abc:def0:1234:5678:9abc:def0",
		"[1234:5678:9abc:def0:1234:5678:9abc:def0:1234:5678:9abc:def0%lo]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		bad(refused[i], NULL);
	bad(NULL, "an address is needed");
	bad("", "an address is needed");
	bad("1.2.3.4:0", "'1.2.3.4:0': the port must be a number from 1 to 65535");
	bad("host.name", "'host.name' is not a numeric IPv4 address");
	bad("::1::", "'::1::' is not a numeric IPv6 address");
	bad("[::1]x", "'[::1]x' is not ADDR[:PORT] or [IPV6ADDR][:PORT]");
	/* a long value is quoted in part, so the reason is never cut off */
	bad("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20",
	    "'1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19....' is not a "
	    "numeric IPv4 address");
}

static void test_message_room(void **state)
{
	struct listen_addr l;
	char small[8];

	(void)state;
	/* a short buffer gets a cut message, and a NULL one none at all */
	assert_int_equal(sa_parse_listen("x", 1, &l, small, sizeof small), -1);
	assert_string_equal(small, "'x' is ");
	assert_int_equal(sa_parse_listen("x", 1, &l, NULL, 0), -1);
	assert_int_equal(sa_parse_listen(NULL, 1, &l, NULL, 0), -1);
}

static void test_any(void **state)
{
	struct listen_addr l;
	static const uint8_t zero[16];

	(void)state;
	sa_any(AF_INET, 113, &l);
	assert_int_equal(sin4(&l)->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(ntohs(sin4(&l)->sin_port), 113);
	sa_any(AF_INET6, 1130, &l);
	assert_memory_equal(&sin6(&l)->sin6_addr, zero, 16);
	assert_int_equal(ntohs(sin6(&l)->sin6_port), 1130);
	assert_int_equal(sin6(&l)->sin6_scope_id, 0);
}

/* sa_format of what s parses to. */
static const char *fmt(const char *s, bool with_port, char *buf, size_t size)
{
	struct listen_addr l;

	assert_int_equal(sa_parse_listen(s, DEFAULT_PORT, &l, err, sizeof err), 0);
	return sa_format((const struct sockaddr *)&l.addr, l.len, with_port,
	                 buf, size);
}

static void test_format(void **state)
{
	char buf[SA_TEXT_MAX], small[6];
	struct sockaddr_in6 s6;
	struct sockaddr_storage un;

	(void)state;
	assert_string_equal(fmt("192.0.2.1:7", true, buf, sizeof buf), "192.0.2.1:7");
	assert_string_equal(fmt("192.0.2.1:7", false, buf, sizeof buf), "192.0.2.1");
	assert_string_equal(fmt("[2001:db8::1]:7", true, buf, sizeof buf),
	                    "[2001:db8::1]:7");
	assert_string_equal(fmt("2001:db8::1", false, buf, sizeof buf), "2001:db8::1");
	assert_string_equal(fmt(":113", true, buf, sizeof buf), "[::]:113");
	/* a scope by its interface's name, as the administrator wrote it */
	assert_string_equal(fmt("[fe80::1%1]:1130", true, buf, sizeof buf),
	                    "[fe80::1%lo]:1130");
	assert_string_equal(fmt("fe80::1%lo", false, buf, sizeof buf), "fe80::1%lo");
	/* or its index, when no interface has it (any more) */
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(65535);
	assert_int_equal(inet_pton(AF_INET6, "fe80::ffff:ffff:ffff:ffff",
	                           &s6.sin6_addr), 1);
	s6.sin6_scope_id = NO_SUCH_INDEX;
	assert_string_equal(sa_format((struct sockaddr *)&s6, sizeof s6, true, buf,
	                              sizeof buf),
	                    "[fe80::ffff:ffff:ffff:ffff%2000000000]:65535");
	assert_true(strlen(buf) < SA_TEXT_MAX);
	/* anything else, or too short, is "?" */
	memset(&un, 0, sizeof un);
	un.ss_family = AF_UNIX;
	assert_string_equal(sa_format((struct sockaddr *)&un, sizeof un, true, buf,
	                              sizeof buf), "?");
	assert_string_equal(sa_format((struct sockaddr *)&s6, sizeof s6 - 1, true,
	                              buf, sizeof buf), "?");
	assert_string_equal(sa_format(NULL, sizeof s6, true, buf, sizeof buf), "?");
	/* a short buffer is cut, never overrun */
	assert_string_equal(sa_format((struct sockaddr *)&s6, sizeof s6, true, small,
	                              sizeof small), "[fe80");
}

static void test_addr_text(void **state)
{
	uint8_t a[16];
	char buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.7", a), 1);
	assert_string_equal(sa_addr_text(AF_INET, a, buf, sizeof buf), "198.51.100.7");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2:3", a), 1);
	assert_string_equal(sa_addr_text(AF_INET6, a, buf, sizeof buf), "2001:db8::2:3");
	assert_string_equal(sa_addr_text(AF_UNIX, a, buf, sizeof buf), "?");
	assert_string_equal(sa_addr_text(AF_INET6, a, buf, 4), "?");
}

static void test_parts(void **state)
{
	uint8_t raw[1 + sizeof(struct sockaddr_in6)];
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct sa_parts p;

	(void)state;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(6193);
	s6.sin6_scope_id = 7;
	assert_int_equal(inet_pton(AF_INET6, "fe80::2", &s6.sin6_addr), 1);
	/* at an odd address, as in a received message */
	memcpy(raw + 1, &s6, sizeof s6);
	assert_int_equal(sa_parts(raw + 1, sizeof s6, &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.port, 6193);
	assert_int_equal(p.scope, 7);
	assert_memory_equal(p.addr, &s6.sin6_addr, 16);
	assert_true(sa_is_link_local(p.addr));
	assert_int_equal(sa_parts(raw + 1, sizeof s6 - 1, &p), -1);
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	s4.sin_port = htons(23);
	s4.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(sa_parts(&s4, sizeof s4, &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.port, 23);
	assert_int_equal(p.scope, 0);
	assert_memory_equal(p.addr, "\x7f\0\0\1", 4);
	assert_int_equal(sa_parts(&s4, sizeof s4 - 1, &p), -1);
	assert_int_equal(sa_parts(&s4, 1, &p), -1);
	assert_int_equal(sa_parts(NULL, sizeof s4, &p), -1);
}

static void test_link_local(void **state)
{
	static const char *const yes[] = { "fe80::", "fe80::1", "febf::1",
	                                   "fe80:1234::5" };
	static const char *const no[] = { "fec0::1", "fe7f::1", "::1", "::",
	                                  "ff02::1", "2001:db8::1",
	                                  "::ffff:169.254.1.1" };
	uint8_t a[16];

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		assert_int_equal(inet_pton(AF_INET6, yes[i], a), 1);
		assert_true(sa_is_link_local(a));
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		assert_int_equal(inet_pton(AF_INET6, no[i], a), 1);
		assert_false(sa_is_link_local(a));
	}
}

static struct listen_addr parsed(const char *s)
{
	struct listen_addr l;

	assert_int_equal(sa_parse_listen(s, DEFAULT_PORT, &l, err, sizeof err), 0);
	return l;
}

static void test_same(void **state)
{
	struct listen_addr a = parsed("[fe80::1%lo]:5"), b = a;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&b.addr;
	struct listen_addr v4 = parsed("127.0.0.1:5"), v4b = v4;

	(void)state;
	assert_true(sa_same(&a.addr, &b.addr));
	s6->sin6_scope_id = 2;   /* the same address on another link */
	assert_false(sa_same(&a.addr, &b.addr));
	b = a;
	s6->sin6_port = htons(6);
	assert_false(sa_same(&a.addr, &b.addr));
	b = a;
	s6->sin6_addr.s6_addr[15] = 2;
	assert_false(sa_same(&a.addr, &b.addr));
	assert_true(sa_same(&v4.addr, &v4b.addr));
	assert_false(sa_same(&v4.addr, &a.addr));
	b = parsed("[::ffff:127.0.0.1]:5");  /* families differ */
	assert_false(sa_same(&v4.addr, &b.addr));
	memset(&v4b.addr, 0, sizeof v4b.addr);  /* no family */
	assert_false(sa_same(&v4b.addr, &v4b.addr));
}

/* sa_check_listen on the parsed addresses; want NULL: accepted. */
static void check(const char *x, const char *y, const char *want)
{
	struct listen_addr l[2] = { parsed(x), parsed(y) };
	int rc = sa_check_listen(l, 2, err, sizeof err);

	if (want == NULL) {
		if (rc != 0)
			fail_msg("'%s' '%s' refused: %s", x, y, err);
		return;
	}
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
}

#define OVERLAP " overlap (the same address, or all addresses, on the same port)"

static void test_check_overlap(void **state)
{
	(void)state;
	check("127.0.0.1:113", "127.0.0.1:113",
	      "127.0.0.1:113 and 127.0.0.1:113" OVERLAP);
	check(":113", "127.0.0.1:113", "[::]:113 and 127.0.0.1:113" OVERLAP);
	check("[::1]:113", "*:113", "[::1]:113 and [::]:113" OVERLAP);
	check("0.0.0.0:113", "127.0.0.1:113", "0.0.0.0:113 and 127.0.0.1:113" OVERLAP);
	check("[::1]", "::1", "[::1]:113 and [::1]:113" OVERLAP);
	check("[fe80::1%lo]:9", "[fe80::1%1]:9",
	      "[fe80::1%lo]:9 and [fe80::1%lo]:9" OVERLAP);
	check("[fe80::1%lo]:9", ":9", "[fe80::1%lo]:9 and [::]:9" OVERLAP);

	check(":113", "127.0.0.1:114", NULL);  /* different ports */
	check("0.0.0.0:113", "[::1]:113", NULL);  /* 0.0.0.0 covers IPv4 only */
	check("127.0.0.1:113", "127.0.0.2:113", NULL);
	check("127.0.0.1:113", "[::1]:113", NULL);
	check("[fe80::1%lo]:9", "[fe80::2%lo]:9", NULL);
	check("[fe80::1%lo]:9", "0.0.0.0:9", NULL);
}

static void test_check_malformed(void **state)
{
	struct listen_addr l[2] = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l[1].addr;

	(void)state;
	assert_int_equal(sa_check_listen(l, 0, err, sizeof err), 0);
	l[0] = parsed("127.0.0.1:1");
	l[1] = parsed("[fe80::1%lo]:2");
	assert_int_equal(sa_check_listen(l, 2, err, sizeof err), 0);
	s6->sin6_scope_id = 0;   /* link-local without its link */
	assert_int_equal(sa_check_listen(l, 2, err, sizeof err), -1);
	assert_string_equal(err, "address 2 is malformed");
	l[1] = parsed("[2001:db8::1]:2");
	s6->sin6_scope_id = 1;   /* a scope on a global address */
	assert_int_equal(sa_check_listen(l, 2, err, sizeof err), -1);
	l[1] = parsed("[2001:db8::1]:2");
	s6->sin6_port = 0;
	assert_int_equal(sa_check_listen(l, 2, err, sizeof err), -1);
	l[1] = parsed("[2001:db8::1]:2");
	l[1].len = sizeof(struct sockaddr_in);  /* IPv6 in IPv4's room */
	assert_int_equal(sa_check_listen(l, 2, err, sizeof err), -1);
	l[1] = parsed("127.0.0.1:2");
	l[1].len = sizeof(struct sockaddr_in6);  /* and the other way round */
	assert_int_equal(sa_check_listen(l, 2, err, sizeof err), -1);
	memset(&l[0], 0, sizeof l[0]);
	assert_int_equal(sa_check_listen(l, 1, err, sizeof err), -1);
	assert_string_equal(err, "address 1 is malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_default_port),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_message_room),
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_addr_text),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_link_local),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_check_overlap),
		cmocka_unit_test(test_check_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
