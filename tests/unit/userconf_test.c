/* Unit tests for the ~/.oidentd.conf reader: every form ZNC and The Lounge
 * write, oidentd's own examples in the subset, every error path, each
 * prefix of a valid file, and the matcher's precedence. Every file parsed
 * here is also read with userconf_parse_for for a set of connections (and
 * one made from each rule's filters), which must keep exactly the rule
 * userconf_match picks from the whole parse, and fail exactly as it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "userconf.h"

static struct userconf c, full, one;

static struct userconf_conn conn(const char *local, uint16_t lport,
                                 const char *remote, uint16_t rport)
{
	struct userconf_conn k;

	memset(&k, 0, sizeof k);
	k.family = strchr(local, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(k.family, local, k.local), 1);
	assert_int_equal(inet_pton(k.family, remote, k.remote), 1);
	k.local_port = lport;
	k.remote_port = rport;
	return k;
}

/* userconf_parse_for(text, k) against *whole, the same text's parse:
 * the same outcome, the same ignored items, and as its only rule the one
 * userconf_match picks from the whole (byte for byte). */
static void agree_for(const char *text, size_t len, const struct userconf *whole,
                      const struct userconf_conn *k)
{
	int rc = userconf_parse_for(text, len, k, &one);

	if (!whole->valid) {
		assert_int_equal(rc, -1);
		assert_false(one.valid);
		assert_int_equal(one.nrules, 0);
		assert_ptr_equal(one.error, whole->error);
		assert_int_equal(one.error_line, whole->error_line);
		return;
	}
	assert_int_equal(rc, 0);
	assert_true(one.valid);
	assert_null(one.error);
	const struct userconf_rule *m = userconf_match(whole, k);
	assert_int_equal(one.nrules, m != NULL);
	if (m != NULL) {
		assert_memory_equal(&one.rules[0], m, sizeof *m);
		assert_ptr_equal(userconf_match(&one, k), &one.rules[0]);
	} else {
		assert_null(userconf_match(&one, k));
	}
	assert_int_equal(one.nignored, whole->nignored);
	assert_int_equal(one.ignored_more, whole->ignored_more);
	assert_memory_equal(one.ignored, whole->ignored, sizeof one.ignored);
}

/* A connection every filter of r lets through (an IPv4-mapped IPv6
 * connection when r names an IPv4 address and an IPv6 one). */
static struct userconf_conn conn_of(const struct userconf_rule *r)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const struct userconf_addr *a[2] = { &r->to, &r->from };
	bool six = (r->has_to && r->to.family == AF_INET6) ||
	           (r->has_from && r->from.family == AF_INET6);
	struct userconf_conn k;

	memset(&k, 0, sizeof k);
	k.family = six ? AF_INET6 : AF_INET;
	for (int i = 0; i < 2; i++) {
		uint8_t *to = i == 0 ? k.remote : k.local;

		if (!(i == 0 ? r->has_to : r->has_from) || a[i]->family == AF_UNSPEC)
			continue;
		if (a[i]->family == k.family) {
			memcpy(to, a[i]->bytes, 16);
		} else {
			memcpy(to, mapped, 12);
			memcpy(to + 12, a[i]->bytes, 4);
		}
	}
	k.remote_port = r->has_fport ? r->fport.hi : 1;
	k.local_port = r->has_lport ? r->lport.lo : 1;
	return k;
}

/* agree_for over the tests' connections and one made from each rule. */
static void agree(const char *text, size_t len, const struct userconf *whole)
{
	static const struct {
		const char *local, *remote;
		uint16_t lport, rport;
	} conns[] = {
		{ "10.0.0.1", "192.0.2.7", 40000, 6697 },
		{ "10.0.0.1", "198.51.100.1", 40001, 6697 },
		{ "2001:db8::1", "2001:db8::7", 50000, 6667 },
		{ "::ffff:10.0.0.1", "::ffff:192.0.2.7", 40000, 6697 },
		{ "127.0.0.1", "192.0.2.1", 2000, 80 },
		{ "127.0.0.2", "192.0.2.1", 80, 6667 },
		{ "127.0.0.2", "192.0.2.2", 80, 80 },
		{ "10.0.0.1", "10.0.0.2", 6667, 1 },
		{ "10.0.0.1", "10.0.0.2", 1, 2 },
		{ "::1", "::1", 65535, 65535 },
	};

	for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++) {
		struct userconf_conn k = conn(conns[i].local, conns[i].lport,
		                              conns[i].remote, conns[i].rport);

		agree_for(text, len, whole, &k);
	}
	for (size_t i = 0; i < whole->nrules; i++) {
		struct userconf_conn k = conn_of(&whole->rules[i]);

		assert_non_null(userconf_match(whole, &k));
		agree_for(text, len, whole, &k);
	}
	/* Neither IPv4 nor IPv6: nothing applies. */
	struct userconf_conn k = conn("10.0.0.1", 1, "10.0.0.2", 2);
	k.family = AF_UNIX;
	agree_for(text, len, whole, &k);
	if (whole->valid)
		assert_int_equal(one.nrules, 0);
}

/* userconf_parse into c, checked against userconf_parse_for. */
static int parse(const char *text, size_t len)
{
	int rc = userconf_parse(text, len, &c);

	agree(text, len, &c);
	return rc;
}

static void expect_valid(const char *text)
{
	if (parse(text, strlen(text)) != 0) {
		print_message("refused (line %u: %s): %s\n", c.error_line,
		              c.error, text);
		fail();
	}
	assert_true(c.valid);
}

static void expect_invalid(const char *text, const char *why, unsigned line)
{
	if (parse(text, strlen(text)) == 0) {
		print_message("accepted: %s\n", text);
		fail();
	}
	assert_false(c.valid);
	assert_int_equal(c.nrules, 0);
	assert_string_equal(c.error, why);
	assert_int_equal(c.error_line, line);
}

static void expect_reply(const struct userconf_rule *r, const char *name)
{
	assert_non_null(r);
	assert_int_equal(r->action, USERCONF_REPLY);
	assert_int_equal(r->nreplies, 1);
	assert_string_equal(r->replies[0].name, name);
	assert_true(r->replies[0].fits);
}

static const struct userconf_rule *match(const char *local, uint16_t lport,
                                         const char *remote, uint16_t rport)
{
	struct userconf_conn k = conn(local, lport, remote, rport);

	return userconf_match(&c, &k);
}

/* ZNC's identfile module: its default format, and the documented one. */
static void test_znc(void **state)
{
	(void)state;
	expect_valid("global { reply \"alice\" }");
	assert_int_equal(c.nrules, 1);
	assert_false(c.rules[0].has_to || c.rules[0].has_fport ||
	             c.rules[0].has_from || c.rules[0].has_lport);
	expect_reply(&c.rules[0], "alice");
	expect_reply(match("10.0.0.1", 40000, "192.0.2.7", 6697), "alice");
	expect_reply(match("2001:db8::1", 1, "2001:db8::2", 65535), "alice");
	assert_int_equal(c.nignored, 0);

	expect_valid("global { reply \"bob\" }\n");
	expect_reply(&c.rules[0], "bob");
}

/* The Lounge: a header comment, then one line per connection. */
static void test_lounge(void **state)
{
	(void)state;
	expect_valid("# Warning: file generated by The Lounge: changes will be overwritten!\n"
	             "to 192.0.2.7 fport 6697 from 10.0.0.1 lport 40000 { reply \"alice\" }\n"
	             "to 2001:db8::7 fport 6667 from 2001:db8::1 lport 50000 { reply \"bob\" }\n"
	             "to ::ffff:198.51.100.1 fport 6697 from ::ffff:10.0.0.1 lport 40001 { reply \"carol\" }\n");
	assert_int_equal(c.nrules, 3);
	assert_int_equal(c.rules[0].line, 2);
	assert_int_equal(c.rules[2].line, 4);
	assert_true(c.rules[0].has_to && c.rules[0].has_fport &&
	            c.rules[0].has_from && c.rules[0].has_lport);
	assert_int_equal(c.rules[0].to.family, AF_INET);
	assert_int_equal(c.rules[1].to.family, AF_INET6);
	expect_reply(match("10.0.0.1", 40000, "192.0.2.7", 6697), "alice");
	expect_reply(match("2001:db8::1", 50000, "2001:db8::7", 6667), "bob");
	/* A v4-mapped rule for an IPv4 connection, and the reverse. */
	expect_reply(match("10.0.0.1", 40001, "198.51.100.1", 6697), "carol");
	expect_reply(match("::ffff:10.0.0.1", 40000, "::ffff:192.0.2.7", 6697),
	             "alice");
	/* Every one of the four must match (to, fport, from, lport). */
	assert_null(match("10.0.0.2", 40000, "192.0.2.7", 6697));
	assert_null(match("10.0.0.1", 40002, "192.0.2.7", 6697));
	assert_null(match("10.0.0.1", 40000, "192.0.2.8", 6697));
	assert_null(match("10.0.0.1", 40000, "192.0.2.7", 6698));
	/* "to"/"fport" are the remote end: swapped ends do not match. */
	assert_null(match("192.0.2.7", 6697, "10.0.0.1", 40000));

	/* An IPv4 rule and an IPv6 connection whose bytes agree: no match. */
	expect_valid("to 0.0.0.0 { hide }");
	assert_null(match("::", 1, "::", 2));
	assert_non_null(match("0.0.0.0", 1, "0.0.0.0", 2));

	/* An empty Lounge file (no connections): valid, no rule. */
	expect_valid("# Warning: file generated by The Lounge: changes will be overwritten!\n");
	assert_int_equal(c.nrules, 0);
	assert_null(match("10.0.0.1", 1, "10.0.0.2", 2));
}

/* oidentd.conf(5)-style forms: subsets of the filters, ranges, several
 * replies, hide, comments, case, spacing. */
static void test_oidentd_forms(void **state)
{
	const struct userconf_rule *r;

	(void)state;
	expect_valid("global {\n\treply \"UNKNOWN\"\n}\n"
	             "to 192.0.2.1 {\n\thide\n}\n"
	             "fport 6667:7000 {\n\treply \"ircuser\" \"other\" \"x\"\n}\n"
	             "lport 1024: { reply \"high\" }\n"
	             "fport :1023 from 127.0.0.1 { reply \"low\" }\n");
	assert_int_equal(c.nrules, 5);
	assert_int_equal(c.rules[1].action, USERCONF_HIDE);
	assert_int_equal(c.rules[2].fport.lo, 6667);
	assert_int_equal(c.rules[2].fport.hi, 7000);
	assert_int_equal(c.rules[2].nreplies, 3);
	assert_string_equal(c.rules[2].replies[1].name, "other");
	assert_int_equal(c.rules[3].lport.lo, 1024);
	assert_int_equal(c.rules[3].lport.hi, 65535);
	assert_int_equal(c.rules[4].fport.lo, 1);
	assert_int_equal(c.rules[4].fport.hi, 1023);
	/* The last matching rule wins; global only when none other does. */
	r = match("127.0.0.1", 2000, "192.0.2.1", 80);
	assert_ptr_equal(r, &c.rules[4]);
	r = match("127.0.0.2", 2000, "192.0.2.1", 80);
	assert_ptr_equal(r, &c.rules[3]);
	r = match("127.0.0.2", 80, "192.0.2.1", 6667);
	assert_ptr_equal(r, &c.rules[2]);
	r = match("127.0.0.2", 80, "192.0.2.1", 80);
	assert_int_equal(r->action, USERCONF_HIDE);
	expect_reply(match("127.0.0.2", 80, "192.0.2.2", 80), "UNKNOWN");

	/* Everything on one line, no spaces around braces, keywords in any
	 * case, C and # comments, CR LF, quoted filter values. */
	expect_valid("/* made by hand */GLOBAL{REPLY \"a\"}To \"192.0.2.1\""
	             " LPORT 7{Reply b}# to 1.2.3.4 { reply \"no\" }\r\n"
	             "/* multi\nline */ from ::1 {hide}");
	assert_int_equal(c.nrules, 3);
	expect_reply(&c.rules[0], "a");
	expect_reply(&c.rules[1], "b");
	assert_int_equal(c.rules[1].lport.lo, 7);
	assert_int_equal(c.rules[2].line, 3);
	assert_int_equal(c.rules[2].from.family, AF_INET6);

	/* A global after other rules hides them (oidentd's precedence). */
	expect_valid("lport 1 { reply \"one\" }\nglobal { reply \"all\" }\n");
	expect_reply(match("10.0.0.1", 1, "10.0.0.2", 2), "all");

	/* Several reply statements gather; further ones than oidentd keeps
	 * are dropped and listed. */
	expect_valid("global { reply \"a\" reply \"b\" }");
	assert_int_equal(c.rules[0].nreplies, 2);
	expect_valid("global { reply a b c d e f g h i j k l m n o p q r s t u v }");
	assert_int_equal(c.rules[0].nreplies, USERCONF_REPLIES_MAX);
	assert_string_equal(c.rules[0].replies[19].name, "t");
	assert_int_equal(c.nignored, 1);
	assert_int_equal(c.rules[0].action, USERCONF_REPLY);

	/* Empty files, comment-only files. */
	expect_valid("");
	expect_valid("  \n\t# nothing\n/* nothing */\n");
	assert_int_equal(c.nrules, 0);
}

/* Replies are kept raw up to the limit; the validator decides. */
static void test_replies(void **state)
{
	(void)state;
	expect_valid("global { reply \"abcdefghijklmnopqrstuvwxyz012345\" }");
	assert_true(c.rules[0].replies[0].fits);
	assert_true(userconf_reply_ok(&c.rules[0].replies[0]));
	expect_valid("global { reply \"abcdefghijklmnopqrstuvwxyz0123456\" }");
	assert_false(c.rules[0].replies[0].fits);
	assert_int_equal(c.rules[0].replies[0].len, USERCONF_REPLY_MAX);
	assert_false(userconf_reply_ok(&c.rules[0].replies[0]));
	/* An escaped quote does not end the string; it is kept raw. */
	expect_valid("global { reply \"a\\\"b\" }");
	assert_string_equal(c.rules[0].replies[0].name, "a\\\"b");
	assert_false(userconf_reply_ok(&c.rules[0].replies[0]));

	static const char *ok[] = { "a", "Alice_1.x-y", "0", "..." };
	static const char *bad[] = { "", "a b", "a\\x41", "root:0", "a\tb",
	                             "caf\xc3\xa9", "a/b", "a@b", "a\x1b" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct userconf_reply r = { "", strlen(ok[i]), true };

		strcpy(r.name, ok[i]);
		assert_true(userconf_reply_ok(&r));
		r.fits = false;
		assert_false(userconf_reply_ok(&r));
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct userconf_reply r = { "", strlen(bad[i]), true };

		strcpy(r.name, bad[i]);
		assert_false(userconf_reply_ok(&r));
	}
	/* A NUL inside: the stored length says more than the string. */
	{
		static const char text[] = "global { reply \"ab\0cd\" }";

		assert_int_equal(parse(text, sizeof text - 1), 0);
		assert_int_equal(c.rules[0].replies[0].len, 5);
		assert_false(userconf_reply_ok(&c.rules[0].replies[0]));
	}
}

/* oidentd's "forward ADDR PORT": the rule keeps where to ask; a bad
 * address or port is a syntax error, as oidentd's. */
static void test_forward(void **state)
{
	(void)state;
	expect_valid("global { forward 127.0.0.1 8113 }");
	assert_int_equal(c.rules[0].action, USERCONF_FORWARD);
	assert_int_equal(c.rules[0].fwd.family, AF_INET);
	assert_int_equal(c.rules[0].fwd.bytes[0], 127);
	assert_int_equal(c.rules[0].fwd_port, 8113);
	assert_int_equal(c.rules[0].nreplies, 0);
	expect_valid("lport 6667 {\n  forward \"::1\" \"65535\"\n}\n");
	assert_int_equal(c.rules[0].action, USERCONF_FORWARD);
	assert_int_equal(c.rules[0].fwd.family, AF_INET6);
	assert_int_equal(c.rules[0].fwd_port, 65535);
	expect_invalid("global { forward }", "forward without an address and a port", 1);
	expect_invalid("global { forward 127.0.0.1 }",
	               "forward without an address and a port", 1);
	expect_invalid("global { forward 127.0.0.1 0 }", "bad forward address or port", 1);
	expect_invalid("global { forward 1.2.3.256 113 }", "bad forward address or port", 1);
	expect_invalid("global { forward 127.0.0.1 65536 }", "bad forward address or port", 1);
}

/* What we do not follow is kept as an unsupported rule in its place, and
 * listed; the rest of the file still counts. */
static void test_ignored(void **state)
{
	static const char *blocks[] = {
		"random", "numeric", "random_numeric", "forward irc.example 113",
		"force reply \"x\"", "allow spoof", "deny hide", "frobnicate",
		"hide reply \"x\"", "", "forward 127.0.0.1 8113 hide",
		"forward 127.0.0.1 8113 forward ::1 8113",
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		snprintf(text, sizeof text,
		         "global { reply \"a\" }\nlport 6667 { %s }\n", blocks[i]);
		expect_valid(text);
		assert_int_equal(c.nrules, 2);
		assert_int_equal(c.rules[1].action, USERCONF_UNSUPPORTED);
		assert_non_null(c.rules[1].reason);
		assert_int_equal(c.nignored, 1);
		assert_int_equal(c.ignored[0].line, 2);
		assert_int_equal(match("10.0.0.1", 6667, "10.0.0.2", 1)->action,
		                 USERCONF_UNSUPPORTED);
		expect_reply(match("10.0.0.1", 6668, "10.0.0.2", 1), "a");
	}

	/* A host name matches every address (we cannot resolve it), so its
	 * rule withholds the earlier rules' names rather than give them. */
	expect_valid("global { reply \"a\" }\nto irc.example.net { reply \"b\" }\n");
	assert_int_equal(c.rules[1].action, USERCONF_UNSUPPORTED);
	assert_int_equal(c.rules[1].to.family, AF_UNSPEC);
	assert_int_equal(match("10.0.0.1", 1, "10.0.0.2", 2)->action,
	                 USERCONF_UNSUPPORTED);
	expect_valid("from localhost lport ircd { reply \"b\" }");
	assert_int_equal(c.rules[0].action, USERCONF_UNSUPPORTED);
	assert_int_equal(c.rules[0].lport.lo, 1);

	/* default: a rule withholding names; user: system-wide, skipped;
	 * an unknown directive is skipped with its block. */
	expect_valid("default { reply \"x\" }");
	assert_int_equal(c.rules[0].action, USERCONF_UNSUPPORTED);
	expect_valid("user \"bob\" { default { allow spoof } }\n"
	             "frob 1 2 { x { y } }\nglobal { reply \"a\" }\n");
	assert_int_equal(c.nrules, 1);
	expect_reply(&c.rules[0], "a");
	assert_int_equal(c.nignored, 2);
	assert_int_equal(c.ignored[0].line, 1);
	assert_int_equal(c.ignored[1].line, 2);

	/* More ignored items than listed are counted. */
	text[0] = '\0';
	for (int i = 0; i < USERCONF_IGNORED_MAX + 3; i++)
		strcat(text, "x{}");
	expect_valid(text);
	assert_int_equal(c.nignored, USERCONF_IGNORED_MAX);
	assert_int_equal(c.ignored_more, 3);
}

static void test_errors(void **state)
{
	static char big[USERCONF_FILE_MAX + 2];

	(void)state;
	expect_invalid("global { reply \"a\" ", "block not closed", 1);
	expect_invalid("global { reply \"a\" }}", "'}' without '{'", 1);
	expect_invalid("}", "'}' without '{'", 1);
	expect_invalid("{ reply \"a\" }", "block without a directive", 1);
	expect_invalid("global { reply \"a }", "unterminated string", 1);
	expect_invalid("global { reply \"a\n\" }", "unterminated string", 1);
	expect_invalid("global { reply \"a\\\n\" }", "unterminated string", 1);
	expect_invalid("global {}\n/* open", "unterminated comment", 2);
	expect_invalid("global { { } }", "block inside a block", 1);
	expect_invalid("global { reply }", "reply without a name", 1);
	expect_invalid("global { reply hide }", "reply without a name", 1);
	expect_invalid("global reply \"a\"", "expected '{'", 1);
	expect_invalid("global", "expected '{'", 1);
	expect_invalid("to 1.2.3.4 junk { hide }", "expected '{'", 1);
	expect_invalid("\n\nto 1.2.3.256 { hide }", "bad address", 3);
	expect_invalid("to 1.2.3.4/24 { hide }", "bad address", 1);
	expect_invalid("to fe80::1%eth0 { hide }", "bad address", 1);
	expect_invalid("to { hide }", "filter without a value", 1);
	expect_invalid("to fport 1 { hide }", "filter without a value", 1);
	expect_invalid("lport 0 { hide }", "bad port or port range", 1);
	expect_invalid("lport 65536 { hide }", "bad port or port range", 1);
	expect_invalid("lport 7:6 { hide }", "bad port or port range", 1);
	expect_invalid("lport 1:2:3 { hide }", "bad port or port range", 1);
	expect_invalid("lport -1 { hide }", "bad port or port range", 1);
	expect_invalid("lport 000001 { hide }", "bad port or port range", 1);
	expect_invalid("lport 1 to 1.2.3.4 { hide }",
	               "filters repeated or out of order", 1);
	expect_invalid("from ::1 to ::1 { hide }",
	               "filters repeated or out of order", 1);
	expect_invalid("lport 1 lport 2 { hide }",
	               "filters repeated or out of order", 1);
	expect_invalid("frob 1 2", "directive without a closed block", 1);
	expect_invalid("frob } ", "'}' without '{'", 1);
	expect_invalid("user \"x\" { default { }", "directive without a closed block", 1);
	/* A NUL inside an address is no address. */
	{
		static const char text[] = "to 1.2.3.4\0x { hide }";

		assert_int_equal(parse(text, sizeof text - 1), -1);
		assert_string_equal(c.error, "bad address");
	}
	/* Too long a file, too many rules: refused whole. */
	memset(big, ' ', sizeof big);
	memcpy(big, "global{hide}", 12);
	/* A rule in the last octets of the longest file: all of it read. */
	memcpy(big + USERCONF_FILE_MAX - 13, "lport 2{hide}", 13);
	assert_int_equal(parse(big, USERCONF_FILE_MAX), 0);
	assert_int_equal(c.nrules, 2);
	assert_int_equal(c.rules[1].lport.lo, 2);
	assert_int_equal(parse(big, USERCONF_FILE_MAX + 1), -1);
	assert_string_equal(c.error, "file longer than we read");
	assert_int_equal(USERCONF_FILE_MAX, 65536);   /* as the manual says */
	big[0] = '\0';
	for (int i = 0; i <= USERCONF_RULES_MAX; i++)
		strcat(big, "lport 1{hide}");
	assert_int_equal(userconf_parse(big, strlen(big), &c), -1);
	assert_string_equal(c.error, "more rules than we keep");
	big[strlen(big) - 13] = '\0';
	assert_int_equal(parse(big, strlen(big)), 0);
	assert_int_equal(c.nrules, USERCONF_RULES_MAX);

	/* The matcher on an invalid file or an odd family: nothing. */
	expect_invalid("}", "'}' without '{'", 1);
	assert_null(match("10.0.0.1", 1, "10.0.0.2", 2));
	expect_valid("global { hide }");
	{
		struct userconf_conn k = conn("10.0.0.1", 1, "10.0.0.2", 2);

		k.family = AF_UNIX;
		assert_null(userconf_match(&c, &k));
	}
}

/* The Lounge's line for its connection number i. */
#define LOUNGE_LINE "to 192.0.2.7 fport 6697 from 10.0.0.1 lport %d { reply \"u%d\" }\n"
#define LOUNGE_HEAD "# Warning: file generated by The Lounge: changes will be overwritten!\n"

/* Appends to text (of size big, at *n) the Lounge lines from..to-1. */
static void lounge_lines(char *text, size_t size, size_t *n, int from, int to)
{
	for (int i = from; i < to; i++) {
		*n += (size_t)snprintf(text + *n, size - *n, LOUNGE_LINE, 40000 + i, i);
		assert_true(*n < size);
	}
}

/* More rules than userconf_parse keeps: it refuses the file, while
 * userconf_parse_for reads it whole and keeps the last rule that applies,
 * up to a file of USERCONF_FILE_MAX octets. */
static void test_parse_for_many_rules(void **state)
{
	static char text[USERCONF_FILE_MAX + 2];
	const int lines = 600;   /* some 45 KiB */
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(text, sizeof text, LOUNGE_HEAD);
	lounge_lines(text, sizeof text, &n, 0, lines);
	assert_int_equal(userconf_parse(text, n, &c), -1);
	assert_string_equal(c.error, "more rules than we keep");
	assert_int_equal(c.error_line, USERCONF_RULES_MAX + 2);
	static const int picks[] = { 0, 1, USERCONF_RULES_MAX - 1,
	                             USERCONF_RULES_MAX, 300, 599 };
	for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++) {
		char want[16];
		struct userconf_conn k = conn("10.0.0.1", (uint16_t)(40000 + picks[i]),
		                              "192.0.2.7", 6697);

		assert_int_equal(userconf_parse_for(text, n, &k, &one), 0);
		assert_true(one.valid);
		assert_int_equal(one.nrules, 1);
		assert_int_equal(one.rules[0].line, picks[i] + 2);
		snprintf(want, sizeof want, "u%d", picks[i]);
		expect_reply(&one.rules[0], want);
		assert_ptr_equal(userconf_match(&one, &k), &one.rules[0]);
		assert_int_equal(one.nignored, 0);
	}
	struct userconf_conn none = conn("10.0.0.1", 39999, "192.0.2.7", 6697);
	assert_int_equal(userconf_parse_for(text, n, &none, &one), 0);
	assert_true(one.valid);
	assert_int_equal(one.nrules, 0);

	/* The last rule that applies, wherever it is: a global first, an
	 * unsupported rule for connection 100 and a second line for 150
	 * later. */
	n = (size_t)snprintf(text, sizeof text, "global { reply \"g\" }\n");
	lounge_lines(text, sizeof text, &n, 0, 200);
	n += (size_t)snprintf(text + n, sizeof text - n, "lport 40100 { random }\n"
	                      "lport 40150 { reply \"again\" }\n");
	lounge_lines(text, sizeof text, &n, 200, 400);
	struct userconf_conn k = conn("10.0.0.1", 40150, "192.0.2.7", 6697);
	assert_int_equal(userconf_parse_for(text, n, &k, &one), 0);
	expect_reply(&one.rules[0], "again");
	assert_int_equal(one.rules[0].line, 203);
	assert_int_equal(one.nignored, 1);      /* listed wherever it applies */
	assert_int_equal(one.ignored[0].line, 202);
	k.local_port = 40100;
	assert_int_equal(userconf_parse_for(text, n, &k, &one), 0);
	assert_int_equal(one.rules[0].action, USERCONF_UNSUPPORTED);
	k.local_port = 40350;                   /* after the two */
	assert_int_equal(userconf_parse_for(text, n, &k, &one), 0);
	expect_reply(&one.rules[0], "u350");
	k.local_port = 1;                       /* only the global */
	assert_int_equal(userconf_parse_for(text, n, &k, &one), 0);
	expect_reply(&one.rules[0], "g");
	assert_int_equal(one.rules[0].line, 1);

	/* A syntax error after the rules userconf_parse keeps: parse_for
	 * reads on to it and refuses the file. */
	text[n - 2] = ' ';   /* the last line's '}' */
	assert_int_equal(userconf_parse(text, n, &c), -1);
	assert_string_equal(c.error, "more rules than we keep");
	assert_int_equal(userconf_parse_for(text, n, &k, &one), -1);
	assert_false(one.valid);
	assert_int_equal(one.nrules, 0);
	assert_string_equal(one.error, "block not closed");
	assert_int_equal(one.error_line, 403);

	/* Lines up to exactly USERCONF_FILE_MAX octets (the rest a comment):
	 * read whole; one octet more: refused by both. */
	n = 0;
	int i = 0;
	while (n + 80 < USERCONF_FILE_MAX)
		lounge_lines(text, sizeof text, &n, i, i + 1), i++;
	assert_true(i > 500);
	text[n++] = '#';
	while (n < USERCONF_FILE_MAX)
		text[n++] = 'x';
	k = conn("10.0.0.1", (uint16_t)(40000 + i - 1), "192.0.2.7", 6697);
	assert_int_equal(userconf_parse_for(text, USERCONF_FILE_MAX, &k, &one), 0);
	assert_int_equal(one.nrules, 1);
	assert_int_equal(one.rules[0].line, i);
	assert_int_equal(userconf_parse_for(text, USERCONF_FILE_MAX + 1, &k, &one), -1);
	assert_string_equal(one.error, "file longer than we read");
	assert_int_equal(one.nrules, 0);
	assert_int_equal(userconf_parse(text, USERCONF_FILE_MAX + 1, &c), -1);
	assert_string_equal(c.error, "file longer than we read");
}

static bool rule_in(const struct userconf_rule *r, const struct userconf *in)
{
	for (size_t i = 0; i < in->nrules; i++)
		if (memcmp(r, &in->rules[i], sizeof *r) == 0)
			return true;
	return false;
}

/* Each prefix of a valid file parses as invalid or as a subset of it:
 * never a rule the whole file does not hold. */
static void test_prefixes(void **state)
{
	/* Each file is one string, written over several lines. */
	static const char lounge[] =
		"# Warning: file generated by The Lounge: changes will be overwritten!\n"
		"to 192.0.2.7 fport 6697 from 10.0.0.1 lport 40000 { reply \"alice\" }\n"
		"to 2001:db8::7 fport 6667 from 2001:db8::1 lport 50000 { reply \"bob\" }\n";
	static const char mixed[] =
		"/* c */ GLOBAL{reply a \"b\"} fport 6667:7000 {hide} lport 5: { random }"
		" user \"x\" { default { allow spoof } } to h.example { reply \"z\" }\n";
	static const char forms[] =
		"global {\n\treply \"UNKNOWN\"\n}\nto 192.0.2.1 {\n\thide\n}\n"
		"fport 6667:7000 {\n\treply \"ircuser\" \"other\" \"x\"\n}\n"
		"lport 1024: { reply \"high\" }\nfport :1023 from 127.0.0.1 { reply low }\n";
	static const char *files[] = { lounge, "global { reply \"alice\" }", mixed,
	                               forms };

	(void)state;
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		size_t len = strlen(files[f]);

		assert_int_equal(userconf_parse(files[f], len, &full), 0);
		for (size_t n = 0; n <= len; n++) {
			if (parse(files[f], n) != 0) {
				assert_int_equal(c.nrules, 0);
				continue;
			}
			assert_true(c.nrules <= full.nrules);
			for (size_t i = 0; i < c.nrules; i++)
				assert_true(rule_in(&c.rules[i], &full));
			/* parse() compared userconf_parse_for with c;
			 * its rule is one of the whole file's too. */
			if (one.nrules > 0)
				assert_true(rule_in(&one.rules[0], &full));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_znc),
		cmocka_unit_test(test_lounge),
		cmocka_unit_test(test_oidentd_forms),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_parse_for_many_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
