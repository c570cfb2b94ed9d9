/* Unit tests for forwarding: the forward-network value (config.c), the
 * match of an inner address, the query line, the reader of the inner
 * server's reply in every split, the check of its ports and the verdict
 * the querier gets (src/forward.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "forward.h"
#include "token.h"

static struct config c;
static char err[512];

static int setup(void **state)
{
	(void)state;
	config_defaults(&c);
	memset(err, 0, sizeof err);
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, setup)

/* --- the value ----------------------------------------------------------- */

static struct forward_net parse_ok(const char *v)
{
	struct forward_net n;

	memset(&n, 0x5a, sizeof n);
	if (config_parse_forward(v, &n, err, sizeof err) != 0)
		fail_msg("'%s' refused: %s", v, err);
	return n;
}

/* Refused with exactly this reason, out untouched. */
static void parse_bad(const char *v, const char *want)
{
	struct forward_net n, before;

	memset(&n, 0x5a, sizeof n);
	before = n;
	err[0] = '\0';
	if (config_parse_forward(v, &n, err, sizeof err) == 0)
		fail_msg("'%s' accepted", v);
	assert_string_equal(err, want);
	assert_memory_equal(&n, &before, sizeof n);
}

static void assert_addr(const struct forward_net *n, int family,
                        const char *text)
{
	uint8_t a[16] = {0};

	assert_int_equal(n->family, family);
	assert_int_equal(inet_pton(family, text, a), 1);
	assert_memory_equal(n->addr, a, 16);
}

static void test_parse_forms(void **state)
{
	struct forward_net n;

	(void)state;
	n = parse_ok("192.168.0.0/16");
	assert_addr(&n, AF_INET, "192.168.0.0");
	assert_int_equal(n.prefix, 16);
	assert_int_equal(n.port, 113);
	assert_false(n.token);
	assert_string_equal(n.reply, "");

	n = parse_ok(" \tfd00::/8  1130\ttoken ");
	assert_addr(&n, AF_INET6, "fd00::");
	assert_int_equal(n.prefix, 8);
	assert_int_equal(n.port, 1130);
	assert_true(n.token);

	n = parse_ok("10.1.2.3/32 token 65535");
	assert_int_equal(n.prefix, 32);
	assert_int_equal(n.port, 65535);
	assert_true(n.token);

	n = parse_ok("10.0.0.0/8 reply=guest");
	assert_string_equal(n.reply, "guest");
	assert_int_equal(n.port, 0);
	assert_false(n.token);

	n = parse_ok("10.0.0.0/8 token reply=A.b_c-9");
	assert_string_equal(n.reply, "A.b_c-9");
	assert_true(n.token);

	n = parse_ok("10.0.0.0/8 reply=" "abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(strlen(n.reply), 32);

	n = parse_ok("2001:db8::1/128 1");
	assert_int_equal(n.prefix, 128);
	assert_int_equal(n.port, 1);
	/* Networks that hold none of the refused ranges, at their edges. */
	parse_ok("128.0.0.0/2");       /* 128-191 */
	parse_ok("126.0.0.0/8");
	parse_ok("240.0.0.0/4");
	parse_ok("fe00::/9");          /* fe00-fe7f */
	parse_ok("fec0::/10");
	parse_ok("::fffe:0:0/96");
	parse_ok("::2/127");
	parse_ok("2000::/3");
}

static void test_format_round_trip(void **state)
{
	static const char *const vals[] = {
		"192.168.0.0/16", "fd00::/8 1130 token", "10.0.0.0/8 reply=guest",
		"10.0.0.0/8 reply=guest token", "0.0.0.0/2 token",
		"2001:db8::/32 65535",
	};
	char text[FORWARD_NET_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		struct forward_net n = parse_ok(vals[i]), back;

		config_format_forward(&n, text, sizeof text);
		assert_string_equal(text, vals[i]);
		back = parse_ok(text);
		assert_memory_equal(&back, &n, sizeof n);
	}
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_bad("", "needs a network such as 192.168.0.0/16 or fd00::/8");
	parse_bad(" \t ", "needs a network such as 192.168.0.0/16 or fd00::/8");
	parse_bad("token", "'token' is not a network such as 192.168.0.0/16 "
	          "or fd00::/8");
	parse_bad("/8", "'/8' is not a network such as 192.168.0.0/16 or "
	          "fd00::/8");
	parse_bad("10.0.0/8", "'10.0.0/8' is not a network such as "
	          "192.168.0.0/16 or fd00::/8");
	parse_bad("fe80::1%eth0/64", "'fe80::1%eth0/64' is not a network such "
	          "as 192.168.0.0/16 or fd00::/8");
	parse_bad("1111:2222:3333:4444:5555:6666:777.777.777.777/64",
	          "'1111:2222:3333:4444:5555:6666:777.777.777.777/64' is not a "
	          "network such as 192.168.0.0/16 or fd00::/8");
	parse_bad("10.0.0.0", "'10.0.0.0' has no prefix length (for one host: "
	          "10.0.0.0/32)");
	parse_bad("fd00::", "'fd00::' has no prefix length (for one host: "
	          "fd00::/128)");
	parse_bad("10.0.0.0/", "'10.0.0.0/': the prefix length must be 0 to 32");
	parse_bad("10.0.0.0/33", "'10.0.0.0/33': the prefix length must be 0 "
	          "to 32");
	parse_bad("10.0.0.0/-8", "'10.0.0.0/-8': the prefix length must be 0 "
	          "to 32");
	parse_bad("10.0.0.0/0008", "'10.0.0.0/0008': the prefix length must be "
	          "0 to 32");
	parse_bad("10.0.0.0/8/8", "'10.0.0.0/8/8': the prefix length must be 0 "
	          "to 32");
	parse_bad("fd00::/129", "'fd00::/129': the prefix length must be 0 to "
	          "128");
	parse_bad("10.0.0.1/8", "'10.0.0.1/8' has host bits set (the network is "
	          "10.0.0.0/8)");
	parse_bad("192.168.1.128/24", "'192.168.1.128/24' has host bits set (the "
	          "network is 192.168.1.0/24)");
	parse_bad("fd00::1/64", "'fd00::1/64' has host bits set (the network is "
	          "fd00::/64)");
	parse_bad("127.0.0.0/8", "'127.0.0.0/8' holds loopback addresses");
	parse_bad("127.1.2.3/32", "'127.1.2.3/32' holds loopback addresses");
	parse_bad("0.0.0.0/0", "'0.0.0.0/0' holds loopback addresses");
	parse_bad("64.0.0.0/2", "'64.0.0.0/2' holds loopback addresses");
	parse_bad("224.0.0.0/4", "'224.0.0.0/4' holds multicast addresses");
	parse_bad("239.1.0.0/16", "'239.1.0.0/16' holds multicast addresses");
	parse_bad("::1/128", "'::1/128' holds loopback addresses");
	parse_bad("::/0", "'::/0' holds loopback addresses");
	parse_bad("ff02::/16", "'ff02::/16' holds multicast addresses");
	parse_bad("fe80::/10", "'fe80::/10' holds link-local addresses");
	parse_bad("fe80::/64", "'fe80::/64' holds link-local addresses");
	parse_bad("fe80::/9", "'fe80::/9' holds link-local addresses");
	parse_bad("fe00::/7", "'fe00::/7' holds multicast addresses");
	parse_bad("::ffff:10.0.0.0/104", "'::ffff:10.0.0.0/104' holds IPv4-mapped "
	          "addresses (write the IPv4 network: a mapped address counts as "
	          "IPv4)");
	parse_bad("::ffff:0:0/96", "'::ffff:0:0/96' holds IPv4-mapped addresses "
	          "(write the IPv4 network: a mapped address counts as IPv4)");
	parse_bad("10.0.0.0/8 0", "'0' is not a port from 1 to 65535");
	parse_bad("10.0.0.0/8 65536", "'65536' is not a port from 1 to 65535");
	parse_bad("10.0.0.0/8 99999999999", "'99999999999' is not a port from 1 "
	          "to 65535");
	parse_bad("10.0.0.0/8 113 114", "'114': only one port may be given");
	parse_bad("10.0.0.0/8 token token", "'token': only one token may be "
	          "given");
	parse_bad("10.0.0.0/8 reply=a reply=b", "'reply=b': only one reply=NAME "
	          "may be given");
	parse_bad("10.0.0.0/8 113 reply=guest", "a port and reply=NAME exclude "
	          "each other (reply=NAME asks nobody)");
	parse_bad("10.0.0.0/8 reply=guest 113", "a port and reply=NAME exclude "
	          "each other (reply=NAME asks nobody)");
	parse_bad("10.0.0.0/8 reply=", "'reply=': NAME must be 1 to 32 of A-Z "
	          "a-z 0-9 . _ -");
	parse_bad("10.0.0.0/8 reply=a:b", "'reply=a:b': NAME must be 1 to 32 of "
	          "A-Z a-z 0-9 . _ -");
	parse_bad("10.0.0.0/8 reply=abcdefghijklmnopqrstuvwxyz0123456",
	          "'reply=abcdefghijklmnopqrstuvwxyz0123456': NAME must be 1 to "
	          "32 of A-Z a-z 0-9 . _ -");
	parse_bad("10.0.0.0/8 ask", "'ask' is not a port, reply=NAME or token");
	parse_bad("10.0.0.0/8 Token", "'Token' is not a port, reply=NAME or token");
	parse_bad("10.0.0.0/8 +113", "'+113' is not a port, reply=NAME or token");
	parse_bad("10.0.0.0/8 port=113", "'port=113' is not a port, reply=NAME "
	          "or token");
	/* Long words are quoted cut, and the message stays one line. */
	parse_bad("10.0.0.0/8 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	          "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a "
	          "port, reply=NAME or token");
	parse_bad("10.0.0.0/8 \x1b[2J", "'?[2J' is not a port, reply=NAME or "
	          "token");
}

/* --- the configuration keys ---------------------------------------------- */

static void set_ok(enum config_source src, const char *key, const char *v)
{
	if (config_set(&c, src, key, v, err, sizeof err) != 0)
		fail_msg("%s = %s refused: %s", key, v, err);
}

static void set_bad(const char *key, const char *v, const char *want)
{
	struct config before = c;

	if (config_set(&c, SRC_FILE, key, v, err, sizeof err) == 0)
		fail_msg("%s = %s accepted", key, v);
	assert_string_equal(err, want);
	assert_memory_equal(&c, &before, sizeof c);
}

static void test_keys(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(c.nforward, 0);
	assert_int_equal(c.forward_timeout, 3);
	assert_false(config_forwarding(&c));
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/8");
	set_ok(SRC_FILE, "forward-network", "10.1.0.0/16 reply=guest");
	set_ok(SRC_FILE, "forward-network", "fd00::/8 token");
	assert_int_equal(c.nforward, 3);
	assert_true(config_forwarding(&c));
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	/* The command line's first replaces the file's list. */
	set_ok(SRC_CLI, "forward-network", "172.16.0.0/12");
	assert_int_equal(c.nforward, 1);
	assert_int_equal(c.forward[0].prefix, 12);
	set_ok(SRC_CLI, "forward-network", "172.16.0.0/16");
	assert_int_equal(c.nforward, 2);

	set_bad("forward-network", "10.0.0.0/8 foo",
	        "forward-network: 'foo' is not a port, reply=NAME or token");
	set_bad("forward-network", NULL, "forward-network: needs a value");
	set_ok(SRC_FILE, "forward-timeout", "1");
	set_ok(SRC_FILE, "forward-timeout", "10");
	assert_int_equal(c.forward_timeout, 10);
	set_bad("forward-timeout", "0", "forward-timeout: '0' is not a whole "
	        "number of seconds from 1 to 10");
	set_bad("forward-timeout", "11", "forward-timeout: '11' is not a whole "
	        "number of seconds from 1 to 10");
	set_bad("forward-timeout", "3s", "forward-timeout: '3s' is not a whole "
	        "number of seconds from 1 to 10");
	c.forward_timeout = 11;
	assert_int_equal(config_validate(&c, buf, sizeof buf), -1);
}

static void test_key_duplicates_and_limit(void **state)
{
	char v[64];

	(void)state;
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/8");
	/* The same network, however else it is written, is refused; nested
	 * ones are not. */
	set_bad("forward-network", "10.0.0.0/8 1130", "forward-network: "
	        "'10.0.0.0/8 1130': that network is listed already");
	set_bad("forward-network", "10.0.0.0/8 reply=x token", "forward-network: "
	        "'10.0.0.0/8 reply=x token': that network is listed already");
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/9");
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/7 token");
	set_ok(SRC_FILE, "forward-network", "fd00::/8");
	set_bad("forward-network", "fd00:0::/8", "forward-network: 'fd00::/8': "
	        "that network is listed already");
	/* Up to FORWARD_NETWORKS_MAX in one source. */
	for (unsigned i = c.nforward; i < FORWARD_NETWORKS_MAX; i++) {
		snprintf(v, sizeof v, "192.168.%u.0/24", i);
		set_ok(SRC_FILE, "forward-network", v);
	}
	assert_int_equal(c.nforward, FORWARD_NETWORKS_MAX);
	set_bad("forward-network", "192.0.2.0/24", "forward-network: more than "
	        "32 networks");
	/* Another source starts afresh, even from a full list. */
	set_ok(SRC_CLI, "forward-network", "192.0.2.0/24");
	assert_int_equal(c.nforward, 1);
}

static void validate_bad(const char *want)
{
	char e[512];

	assert_int_equal(config_validate(&c, e, sizeof e), -1);
	assert_string_equal(e, want);
}

static void test_validate(void **state)
{
	(void)state;
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/8");
	set_ok(SRC_FILE, "reply", "fixed:someone");
	validate_bad("forward-network makes no sense with reply = fixed:NAME, "
	             "which looks nothing up and so never finds a connection "
	             "this host only relays");
	set_ok(SRC_FILE, "reply", "hidden");
	validate_bad("forward-network makes no sense with reply = hidden, which "
	             "hides everyone");
	set_ok(SRC_FILE, "reply", "uid");
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	/* What a caller could only get by writing the struct itself. */
	c.forward[1] = c.forward[0];
	c.nforward = 2;
	validate_bad("forward-network: '10.0.0.0/8' is listed twice");
	c.forward[1].prefix = 33;
	validate_bad("forward-network: network 2 is malformed");
	c.forward[1] = c.forward[0];
	c.forward[1].prefix = 9;
	c.forward[1].port = 0;
	validate_bad("forward-network: network 2 is malformed");
	c.forward[1].port = 113;
	strcpy(c.forward[1].reply, "a b");
	validate_bad("forward-network: network 2 is malformed");
	c.forward[1].reply[0] = '\0';
	c.forward[1].family = AF_UNIX;
	validate_bad("forward-network: network 2 is malformed");
	c.forward[1].family = AF_INET;
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	c.nforward = FORWARD_NETWORKS_MAX + 1;
	validate_bad("forward-network: more than 32 networks");
}

static void test_needs_key(void **state)
{
	(void)state;
	assert_false(config_needs_token_key(&c));
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/8");
	assert_false(config_needs_token_key(&c));
	set_ok(SRC_FILE, "forward-network", "fd00::/8 token");
	assert_true(config_needs_token_key(&c));
	c.nforward = 1;
	assert_false(config_needs_token_key(&c));
	set_ok(SRC_FILE, "reply", "token");
	assert_true(config_needs_token_key(&c));
}

static void test_file(void **state)
{
	static const char text[] =
		"forward-network = 192.168.0.0/16   # the LAN\n"
		"forward-network = fd00:1::/64 1130 token\n"
		"forward-timeout = 5\n";
	static const char bad[] =
		"forward-network = 192.168.0.0/16\n"
		"forward-network = 10.0.0.1/8\n";
	struct config before;

	(void)state;
	assert_int_equal(config_parse_text(&c, text, strlen(text), "t.conf", err,
	                                   sizeof err), 0);
	assert_int_equal(c.nforward, 2);
	assert_int_equal(c.forward[1].port, 1130);
	assert_int_equal(c.forward_timeout, 5);
	config_defaults(&c);
	before = c;
	assert_int_equal(config_parse_text(&c, bad, strlen(bad), "t.conf", err,
	                                   sizeof err), -1);
	assert_string_equal(err, "t.conf:2: forward-network: '10.0.0.1/8' has "
	                    "host bits set (the network is 10.0.0.0/8)");
	assert_memory_equal(&c, &before, sizeof c);
}

/* --- matching ------------------------------------------------------------- */

static const struct forward_net *match(const char *text)
{
	uint8_t a[16] = {0};
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, text, a), 1);
	return forward_match(&c, family, a);
}

/* The prefix length of the network that text matches, -1 for none. */
static int match_len(const char *text)
{
	const struct forward_net *n = match(text);

	return n ? (int)n->prefix : -1;
}

static void test_match(void **state)
{
	uint8_t a[16] = {10};

	(void)state;
	assert_null(match("10.0.0.1"));
	/* The order given does not matter: the longest prefix wins. */
	set_ok(SRC_FILE, "forward-network", "10.1.2.0/24 reply=x");
	set_ok(SRC_FILE, "forward-network", "10.0.0.0/8");
	set_ok(SRC_FILE, "forward-network", "10.1.0.0/16 1130");
	set_ok(SRC_FILE, "forward-network", "10.1.2.3/32 token");
	set_ok(SRC_FILE, "forward-network", "fd00::/8");
	set_ok(SRC_FILE, "forward-network", "fd00:1:2:3::/64");
	set_ok(SRC_FILE, "forward-network", "0.0.0.0/2");
	assert_int_equal(match_len("10.0.0.1"), 8);
	assert_int_equal(match_len("10.255.255.255"), 8);
	assert_int_equal(match_len("10.1.0.0"), 16);
	assert_int_equal(match_len("10.1.255.1"), 16);
	assert_int_equal(match_len("10.1.2.0"), 24);
	assert_int_equal(match_len("10.1.2.4"), 24);
	assert_int_equal(match_len("10.1.2.3"), 32);
	assert_true(match("10.1.2.3")->token);
	assert_int_equal(match_len("11.0.0.1"), 2);
	assert_int_equal(match_len("63.255.255.255"), 2);
	assert_int_equal(match_len("64.0.0.0"), -1);
	assert_int_equal(match_len("128.0.0.1"), -1);
	assert_int_equal(match_len("192.168.1.1"), -1);
	assert_int_equal(match_len("fd00::1"), 8);
	assert_int_equal(match_len("fdff:ffff::1"), 8);
	assert_int_equal(match_len("fd00:1:2:3:4::1"), 64);
	assert_int_equal(match_len("fd00:1:2:4::1"), 8);
	assert_int_equal(match_len("fc00::1"), -1);
	assert_int_equal(match_len("2001:db8::1"), -1);
	/* IPv4-mapped: the IPv4 address it carries. */
	assert_int_equal(match_len("::ffff:10.1.2.3"), 32);
	assert_int_equal(match_len("::ffff:10.9.9.9"), 8);
	assert_int_equal(match_len("::ffff:192.168.1.1"), -1);
	/* An IPv6 address with the same first octets is not IPv4. */
	assert_int_equal(match_len("a01:203::"), -1);
	/* Another family matches nothing. */
	assert_null(forward_match(&c, AF_UNIX, a));
	assert_non_null(forward_match(&c, AF_INET, a));
	c.nforward = 0;
	assert_null(forward_match(&c, AF_INET, a));
}

static void test_prefix_match(void **state)
{
	uint8_t a[16] = {0xff, 0xf0}, b[16] = {0xff, 0xff};

	(void)state;
	assert_true(forward_prefix_match(a, b, 0));
	assert_true(forward_prefix_match(a, b, 8));
	assert_true(forward_prefix_match(a, b, 12));
	assert_false(forward_prefix_match(a, b, 13));
	assert_false(forward_prefix_match(a, b, 16));
	assert_true(forward_prefix_match(a, a, 128));
}

/* --- the exchange ----------------------------------------------------------- */

static void test_query_line(void **state)
{
	char buf[FORWARD_QUERY_MAX];

	(void)state;
	assert_int_equal(forward_query_line(40000, 6667, buf), 14);
	assert_string_equal(buf, "40000 , 6667\r\n");
	assert_int_equal(forward_query_line(65535, 65535, buf),
	                 (int)sizeof buf - 1);
	assert_string_equal(buf, "65535 , 65535\r\n");
	assert_int_equal(forward_query_line(1, 1, buf), 7);
	assert_int_equal(forward_query_line(0, 1, buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(forward_query_line(1, 0, buf), -1);
	assert_int_equal(forward_query_line(65536, 1, buf), -1);
	assert_int_equal(forward_query_line(1, 65536, buf), -1);
}

#define IP 40000
#define RP 6667

/* The result of an exchange in which the inner server sent s (n octets)
 * and then closed, fed in pieces of at most step octets (0: whole). */
static struct forward_result exchange(const char *s, size_t n, size_t step)
{
	struct forward_reader r;
	struct forward_result res;

	forward_reader_init(&r);
	if (step == 0)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		if (forward_feed(&r, s + i, n - i < step ? n - i : step) !=
		    FORWARD_READING)
			break;
	forward_result(&r, IP, RP, &res);
	return res;
}

/* Fed two ways at every split point, and a byte at a time: the same
 * result as whole. */
static struct forward_result exchange_all(const char *s, size_t n)
{
	struct forward_result whole = exchange(s, n, 0), part;
	struct forward_reader r;

	part = exchange(s, n, 1);
	assert_memory_equal(&part, &whole, sizeof whole);
	for (size_t cut = 0; cut <= n; cut++) {
		forward_reader_init(&r);
		forward_feed(&r, s, cut);
		forward_feed(&r, s + cut, n - cut);
		forward_result(&r, IP, RP, &part);
		assert_memory_equal(&part, &whole, sizeof whole);
	}
	return whole;
}

static struct forward_result ex(const char *s)
{
	return exchange_all(s, strlen(s));
}

static void test_reader_replies(void **state)
{
	struct forward_result r;

	(void)state;
	r = ex("40000 , 6667 : USERID : UNIX : alice\r\n");
	assert_int_equal(r.failure, FORWARD_OK);
	assert_true(r.reply.is_userid);
	assert_string_equal(r.reply.opsys, "UNIX");
	assert_string_equal(r.reply.userid, "alice");
	r = ex("40000,6667:USERID:UNIX:bob\n");
	assert_int_equal(r.failure, FORWARD_OK);
	assert_string_equal(r.reply.userid, "bob");
	/* Anything after the line end is not read. */
	r = ex("40000 , 6667 : ERROR : NO-USER\r\n40000 , 6667 : USERID : UNIX : "
	       "mallory\r\n");
	assert_int_equal(r.failure, FORWARD_OK);
	assert_false(r.reply.is_userid);
	assert_string_equal(r.reply.error, "NO-USER");
	r = ex("40000 , 6667 : error : hidden-user\r\n");
	assert_string_equal(r.reply.error, "HIDDEN-USER");
	r = ex("40000 , 6667 : USERID : UNIX,UTF-8 : j\xc3\xbcrgen\r\n");
	assert_int_equal(r.failure, FORWARD_OK);
	assert_string_equal(r.reply.charset, "UTF-8");
}

static void test_reader_failures(void **state)
{
	static const char nul[] = "40000 , 6667 : USERID : UNIX : a\0b\r\n";
	struct forward_result r;
	struct forward_reader rd;
	static const struct {
		const char *answer;
		enum forward_failure want;
	} cases[] = {
		{"", FORWARD_EMPTY},
		/* Cut by the end of the connection: a name cut short is no
		 * name. */
		{"40000 , 6667 : USERID : UNIX : alic", FORWARD_CUT},
		{"40000 , 6667 : USERID : UNIX : alice\r", FORWARD_CUT},
		{"\r", FORWARD_CUT},
		/* Other ports, either or both, or swapped. */
		{"40001 , 6667 : USERID : UNIX : alice\r\n", FORWARD_OTHER_PORTS},
		{"40000 , 6668 : USERID : UNIX : alice\r\n", FORWARD_OTHER_PORTS},
		{"6667 , 40000 : USERID : UNIX : alice\r\n", FORWARD_OTHER_PORTS},
		{"0 , 0 : ERROR : INVALID-PORT\r\n", FORWARD_OTHER_PORTS},
		/* Garbage. */
		{"\r\n", FORWARD_GARBLED},
		{"\n", FORWARD_GARBLED},
		{"HTTP/1.0 400 Bad Request\r\n", FORWARD_GARBLED},
		{"40000 , 6667 : USERID : UNIX :\r\n", FORWARD_GARBLED},
		{"40000 , 6667 : SOMETHING : x\r\n", FORWARD_GARBLED},
		{"40000 , 6667 : ERROR : NO USER\r\n", FORWARD_GARBLED},
		{"040000 , 6667 : ERROR : NO-USER\r\n", FORWARD_GARBLED},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (ex(cases[i].answer).failure != cases[i].want)
			fail_msg("'%s': %s, not %s", cases[i].answer,
			         forward_failure_name(ex(cases[i].answer).failure),
			         forward_failure_name(cases[i].want));
	assert_int_equal(exchange_all(nul, sizeof nul - 1).failure,
	                 FORWARD_GARBLED);
	/* Nothing of a failure is left behind. */
	r = ex("40001 , 6667 : USERID : UNIX : alice\r\n");
	assert_string_equal(r.reply.userid, "");
	assert_int_equal(r.reply.server_port, 0);
	forward_fail(&r, FORWARD_TIMEOUT);
	assert_int_equal(r.failure, FORWARD_TIMEOUT);
	forward_fail(&r, FORWARD_OK);  /* not a failure: taken as garbage */
	assert_int_equal(r.failure, FORWARD_GARBLED);
	/* A reader that was never fed: the connection closed at once. */
	forward_reader_init(&rd);
	forward_result(&rd, IP, RP, &r);
	assert_int_equal(r.failure, FORWARD_EMPTY);
}

static void test_reader_limit(void **state)
{
	static char line[FORWARD_REPLY_MAX + 8];
	static const char head[] = "40000 , 6667 : USERID : UNIX : ";
	struct forward_reader r;
	struct forward_result res;
	size_t n;

	(void)state;
	/* FORWARD_REPLY_MAX octets with the LF: read whole. The user id is
	 * then too long for the parser: garbled, never cut to fit. */
	memset(line, 'u', sizeof line);
	memcpy(line, head, sizeof head - 1);
	line[FORWARD_REPLY_MAX - 1] = '\n';
	res = exchange_all(line, FORWARD_REPLY_MAX);
	assert_int_equal(res.failure, FORWARD_GARBLED);
	/* A legal reply padded to the limit with white space is used. */
	memset(line, ' ', sizeof line);
	n = strlen("40000 , 6667 : USERID : UNIX :");
	memcpy(line, "40000 , 6667 : USERID : UNIX :", n);
	memcpy(line + FORWARD_REPLY_MAX - 7, "alice\r\n", 7);
	res = exchange_all(line, FORWARD_REPLY_MAX);
	assert_int_equal(res.failure, FORWARD_OK);
	assert_string_equal(res.reply.userid, "alice");
	/* One octet more, and no LF in the first FORWARD_REPLY_MAX. */
	memset(line, ' ', sizeof line);
	memcpy(line, "40000 , 6667 : USERID : UNIX :", n);
	memcpy(line + FORWARD_REPLY_MAX - 6, "alice\r\n", 7);
	res = exchange_all(line, FORWARD_REPLY_MAX + 1);
	assert_int_equal(res.failure, FORWARD_TOO_LONG);
	forward_reader_init(&r);
	assert_int_equal(forward_feed(&r, line, FORWARD_REPLY_MAX - 1),
	                 FORWARD_READING);
	assert_int_equal(forward_feed(&r, line, 1), FORWARD_OVERLONG);
	assert_int_equal(r.len, FORWARD_REPLY_MAX);
	/* Once decided, more octets change nothing. */
	assert_int_equal(forward_feed(&r, "\n", 1), FORWARD_OVERLONG);
	assert_int_equal(r.len, FORWARD_REPLY_MAX);
	forward_reader_init(&r);
	assert_int_equal(forward_feed(&r, "x\ny", 3), FORWARD_LINE);
	assert_int_equal(r.len, 2);
	assert_int_equal(forward_feed(&r, "zzz", 3), FORWARD_LINE);
	assert_int_equal(r.len, 2);
	/* An empty feed is harmless. */
	forward_reader_init(&r);
	assert_int_equal(forward_feed(&r, "", 0), FORWARD_READING);
}

static void test_failure_names(void **state)
{
	(void)state;
	assert_string_equal(forward_failure_name(FORWARD_OK), "ok");
	assert_string_equal(forward_failure_name(FORWARD_CONNECT), "connect");
	assert_string_equal(forward_failure_name(FORWARD_TIMEOUT), "timeout");
	assert_string_equal(forward_failure_name(FORWARD_EMPTY), "empty");
	assert_string_equal(forward_failure_name(FORWARD_CUT), "cut");
	assert_string_equal(forward_failure_name(FORWARD_TOO_LONG), "too-long");
	assert_string_equal(forward_failure_name(FORWARD_GARBLED), "garbled");
	assert_string_equal(forward_failure_name(FORWARD_OTHER_PORTS),
	                    "other-ports");
	assert_string_equal(forward_failure_name((enum forward_failure)99), "?");
}

/* --- the querier's reply ------------------------------------------------------- */

static const uint8_t key[TOKEN_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
static uint8_t peer[16] = {192, 0, 2, 7};
static uint8_t inner[16] = {10, 1, 2, 3};

static struct forward_ctx ctx(void)
{
	return (struct forward_ctx){AF_INET, peer, AF_INET, inner,
	                            1700000000, key};
}

/* The line the querier gets for the inner server's answer s, through the
 * network given as a value. */
static const char *reply_for(const char *netval, const char *s)
{
	static char out[REPLY_MAX];
	struct forward_net net = parse_ok(netval);
	struct forward_result res;
	struct forward_ctx x = ctx();
	struct verdict v;

	if (s != NULL)
		res = exchange(s, strlen(s), 0);
	forward_reply(&c, &net, s ? &res : NULL, &x, &v);
	assert_true(policy_format(&v, 113, 5555, out, sizeof out) > 0);
	return out;
}

static void test_reply_pass_through(void **state)
{
	(void)state;
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX : alice\r\n"),
	                    "113 , 5555 : USERID : UNIX : alice\r\n");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : other : 12345\r\n"),
	                    "113 , 5555 : USERID : OTHER : 12345\r\n");
	/* Any other system is UNIX: privident sends no other name. */
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : WIN32 : Bob Smith\r\n"),
	                    "113 , 5555 : USERID : UNIX : Bob Smith\r\n");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : OS/2 : a:b\r\n"),
	                    "113 , 5555 : USERID : UNIX : a:b\r\n");
	/* UTF-8 is named again by privident itself. */
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX,UTF-8 : j\xc3\xbcrgen\r\n"),
	                    "113 , 5555 : USERID : UNIX,UTF-8 : j\xc3\xbcrgen\r\n");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX : j\xc3\xbcrgen\r\n"),
	                    "113 , 5555 : USERID : UNIX,UTF-8 : j\xc3\xbcrgen\r\n");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX,US-ASCII : ascii\r\n"),
	                    "113 , 5555 : USERID : UNIX : ascii\r\n");
	/* Octets under another charset cannot be relabelled. */
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX,ISO-8859-1 : j\xfcrgen\r\n"),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX,ISO-8859-1 : j\xc3\xbcrgen\r\n"),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	/* Not UTF-8, or a control: refused when formatted, as a local name. */
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX : j\xfcrgen\r\n"),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX : a\x1b[2Jb\r\n"),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	/* The longest user id passes whole. */
	char line[600], want[700], id[USERID_MAX + 1];
	memset(id, 'u', USERID_MAX);
	id[USERID_MAX] = '\0';
	snprintf(line, sizeof line, "40000 , 6667 : USERID : UNIX : %s\r\n", id);
	snprintf(want, sizeof want, "113 , 5555 : USERID : UNIX : %s\r\n", id);
	assert_string_equal(reply_for("10.0.0.0/8", line), want);
}

static void test_reply_errors(void **state)
{
	static const char *const map[][2] = {
		{"NO-USER", "NO-USER"},
		{"no-user", "NO-USER"},
		{"HIDDEN-USER", "HIDDEN-USER"},
		{"UNKNOWN-ERROR", "UNKNOWN-ERROR"},
		{"INVALID-PORT", "UNKNOWN-ERROR"},
		{"X-PRIVATE", "UNKNOWN-ERROR"},
		{"NO-USERX", "UNKNOWN-ERROR"},
	};
	char line[128], want[128];

	(void)state;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		snprintf(line, sizeof line, "40000 , 6667 : ERROR : %s\r\n",
		         map[i][0]);
		snprintf(want, sizeof want, "113 , 5555 : ERROR : %s\r\n",
		         map[i][1]);
		assert_string_equal(reply_for("10.0.0.0/8", line), want);
		/* A token changes no error. */
		assert_string_equal(reply_for("10.0.0.0/8 token", line), want);
	}
	/* Every failed exchange. */
	assert_string_equal(reply_for("10.0.0.0/8", ""),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	assert_string_equal(reply_for("10.0.0.0/8", "40000 , 6667 : USERID : "
	                    "UNIX : alic"), "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	assert_string_equal(reply_for("10.0.0.0/8", "40001 , 6667 : USERID : "
	                    "UNIX : alice\r\n"),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	assert_string_equal(reply_for("10.0.0.0/8 token", "garbage\r\n"),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	assert_string_equal(reply_for("10.0.0.0/8", NULL),
	                    "113 , 5555 : ERROR : UNKNOWN-ERROR\r\n");
	for (int f = FORWARD_CONNECT; f <= FORWARD_OTHER_PORTS; f++) {
		struct forward_net net = parse_ok("10.0.0.0/8");
		struct forward_result res;
		struct forward_ctx x = ctx();
		struct verdict v;

		forward_fail(&res, (enum forward_failure)f);
		forward_reply(&c, &net, &res, &x, &v);
		assert_false(v.is_userid);
		assert_int_equal(v.err, REPLY_UNKNOWN_ERROR);
	}
}

static void test_reply_mask_errors(void **state)
{
	struct forward_net net = parse_ok("10.0.0.0/8");
	static const char hidden[] = "40000 , 6667 : ERROR : HIDDEN-USER\r\n";
	struct forward_result res = exchange(hidden, strlen(hidden), 0);
	struct forward_ctx x = ctx();
	struct verdict v;
	char desc[128];

	(void)state;
	c.mask_errors = true;
	forward_reply(&c, &net, &res, &x, &v);
	assert_int_equal(v.err, REPLY_UNKNOWN_ERROR);
	assert_int_equal(v.masked, REPLY_HIDDEN_USER);
	policy_describe(&v, desc, sizeof desc);
	assert_string_equal(desc, "UNKNOWN-ERROR masked=HIDDEN-USER");
	assert_string_equal(reply_for("10.0.0.0/8",
	                    "40000 , 6667 : USERID : UNIX : alice\r\n"),
	                    "113 , 5555 : USERID : UNIX : alice\r\n");
}

static void test_reply_fixed(void **state)
{
	(void)state;
	/* Asks nobody: whatever the exchange, the name. */
	assert_string_equal(reply_for("10.0.0.0/8 reply=guest", NULL),
	                    "113 , 5555 : USERID : UNIX : guest\r\n");
	assert_string_equal(reply_for("10.0.0.0/8 reply=guest",
	                    "40000 , 6667 : USERID : UNIX : alice\r\n"),
	                    "113 , 5555 : USERID : UNIX : guest\r\n");
}

/* The token forward_reply should send, computed here from the documented
 * message. */
static void expected_token(const struct forward_ctx *x, const char *name,
                           char out[TOKEN_LENGTH_MAX + 1])
{
	uint8_t msg[FORWARD_TOKEN_MESSAGE_MAX], hash[32], *p = msg;
	int64_t n = token_period_number(x->now, c.token_period);
	size_t len = strlen(name);

	memcpy(p, "privident-forward-token-v1", 26), p += 26;
	*p++ = x->family == AF_INET ? 4 : 6;
	memcpy(p, x->peer, x->family == AF_INET ? 4 : 16);
	p += x->family == AF_INET ? 4 : 16;
	*p++ = x->inner_family == AF_INET ? 4 : 6;
	memcpy(p, x->inner, x->inner_family == AF_INET ? 4 : 16);
	p += x->inner_family == AF_INET ? 4 : 16;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)((uint64_t)n >> (8 * i));
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	memcpy(p, name, len), p += len;
	assert_int_equal(crypto_generichash(hash, sizeof hash, msg,
	                                    (size_t)(p - msg), key, sizeof key), 0);
	assert_int_equal(token_base32(hash, sizeof hash, c.token_length, out), 0);
}

static const char *token_of(const struct forward_ctx *x, const char *netval,
                            const char *s)
{
	static struct verdict v;
	struct forward_net net = parse_ok(netval);
	struct forward_result res = exchange(s, strlen(s), 0);

	forward_reply(&c, &net, &res, x, &v);
	assert_true(v.is_userid);
	assert_string_equal(v.opsys, "OTHER");
	return v.userid;
}

static void test_reply_token(void **state)
{
	static const char alice[] = "40000 , 6667 : USERID : UNIX : alice\r\n";
	static const char bob[] = "40000 , 6667 : USERID : UNIX : bob\r\n";
	struct forward_ctx x = ctx(), y;
	char want[TOKEN_LENGTH_MAX + 1], first[TOKEN_LENGTH_MAX + 1];
	uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 10, 1, 2, 3};
	uint8_t other[16] = {10, 1, 2, 4};

	(void)state;
	expected_token(&x, "alice", want);
	assert_string_equal(token_of(&x, "10.0.0.0/8 token", alice), want);
	assert_int_equal(strlen(want), TOKEN_LENGTH_DEFAULT);
	strcpy(first, want);
	/* Another user, inner host, querier, period: another token. */
	assert_string_not_equal(token_of(&x, "10.0.0.0/8 token", bob), first);
	y = x, y.inner = other;
	assert_string_not_equal(token_of(&y, "10.0.0.0/8 token", alice), first);
	y = x, y.peer = other;
	assert_string_not_equal(token_of(&y, "10.0.0.0/8 token", alice), first);
	y = x, y.now += 7 * 86400;
	assert_string_not_equal(token_of(&y, "10.0.0.0/8 token", alice), first);
	/* The same period, an IPv4-mapped inner address: the same token. */
	y = x, y.now += 1, y.inner_family = AF_INET6, y.inner = mapped;
	assert_string_equal(token_of(&y, "10.0.0.0/8 token", alice), first);
	/* Never the local token of any uid, by construction: another tag. */
	uint8_t m1[FORWARD_TOKEN_MESSAGE_MAX], m2[TOKEN_MESSAGE_MAX];
	assert_true(forward_token_message(m1, &x, 0, "a", 1) > 0);
	assert_true(token_message(m2, 0, AF_INET, inner, 0) > 0);
	assert_memory_not_equal(m1, m2, 18);
	/* A fixed reply with token: a pseudonym per inner host. */
	expected_token(&x, "guest", want);
	assert_string_equal(token_of(&x, "10.0.0.0/8 reply=guest token", ""), want);
	y = x, y.inner = other;
	assert_string_not_equal(token_of(&y, "10.0.0.0/8 reply=guest token", ""),
	                        want);
	/* The length is token-length's. */
	c.token_length = 26;
	assert_int_equal(strlen(token_of(&x, "10.0.0.0/8 token", alice)), 26);
	/* No key, a bad family or length: UNKNOWN-ERROR, never the name. */
	struct forward_net net = parse_ok("10.0.0.0/8 token");
	struct forward_result res = exchange(alice, strlen(alice), 0);
	struct verdict v;
	y = x, y.key = NULL;
	forward_reply(&c, &net, &res, &y, &v);
	assert_false(v.is_userid);
	assert_int_equal(v.err, REPLY_UNKNOWN_ERROR);
	y = x, y.inner_family = AF_UNIX;
	forward_reply(&c, &net, &res, &y, &v);
	assert_false(v.is_userid);
	c.token_length = 7;
	forward_reply(&c, &net, &res, &x, &v);
	assert_false(v.is_userid);
	assert_int_equal(forward_token_message(m1, &x, 0, "a", USERID_MAX + 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_forms),
		T(test_format_round_trip),
		T(test_parse_errors),
		T(test_keys),
		T(test_key_duplicates_and_limit),
		T(test_validate),
		T(test_needs_key),
		T(test_file),
		T(test_match),
		T(test_prefix_match),
		T(test_query_line),
		T(test_reader_replies),
		T(test_reader_failures),
		T(test_reader_limit),
		T(test_failure_names),
		T(test_reply_pass_through),
		T(test_reply_errors),
		T(test_reply_mask_errors),
		T(test_reply_fixed),
		T(test_reply_token),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
