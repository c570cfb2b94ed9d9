/* Unit tests for src/config.c and src/cli.c: defaults, every key, the file
 * format, the command line, config_build and config_validate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "listen_assert.h"

static struct config c;
static char err[1024];

static int setup(void **state)
{
	(void)state;
	config_defaults(&c);
	memset(err, 0, sizeof err);
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, setup)

/* --- helpers ------------------------------------------------------------ */

static void set_ok(const char *key, const char *value)
{
	err[0] = '\0';
	if (config_set(&c, SRC_FILE, key, value, err, sizeof err) != 0)
		fail_msg("config_set(%s, %s) failed: %s", key,
		         value ? value : "(null)", err);
}

/* Fails to set, leaves the config unchanged, and explains in one line
 * starting with the key. */
static void set_bad(const char *key, const char *value)
{
	struct config before = c;
	char prefix[64];

	err[0] = '\0';
	if (config_set(&c, SRC_FILE, key, value, err, sizeof err) == 0)
		fail_msg("config_set(%s, %s) was accepted", key,
		         value ? value : "(null)");
	assert_memory_equal(&before, &c, sizeof c);
	snprintf(prefix, sizeof prefix, "%s: ", key);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	assert_null(strchr(err, '\n'));
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static int parse(const char *text)
{
	err[0] = '\0';
	return config_parse_text(&c, text, strlen(text), "test.conf", err,
	                         sizeof err);
}

static void parse_bad(const char *text, const char *want)
{
	struct config before = c;

	if (parse(text) == 0)
		fail_msg("text accepted: %s", text);
	assert_string_equal(err, want);
	assert_memory_equal(&before, &c, sizeof c);
}

/* Writes text to a new temporary file; its name goes to path. */
static void write_temp(char *path, const char *text, size_t len)
{
	int fd;

	strcpy(path, "/tmp/config_test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static struct cli cli;

static int cli_ok(int argc, char **argv)
{
	err[0] = '\0';
	if (cli_parse(argc, argv, &cli, err, sizeof err) != 0)
		fail_msg("cli_parse failed: %s", err);
	return 0;
}

static void cli_bad(int argc, char **argv, const char *want)
{
	err[0] = '\0';
	assert_int_equal(cli_parse(argc, argv, &cli, err, sizeof err), -1);
	assert_string_equal(err, want);
}

/* --- defaults ----------------------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	memset(&c, 0xa5, sizeof c);
	config_defaults(&c);
	assert_false(c.foreground);
	assert_false(c.inetd);
	assert_string_equal(c.user, DEFAULT_USER);
	assert_false(c.user_set);
	assert_int_equal(c.timeout, DEFAULT_TIMEOUT);
	assert_int_equal(c.lookup_timeout, DEFAULT_LOOKUP_TIMEOUT);
	assert_int_equal(c.max_connections, DEFAULT_MAX_CONNECTIONS);
	assert_int_equal(c.max_per_host, DEFAULT_MAX_PER_HOST);
	assert_int_equal(c.max_queries, DEFAULT_MAX_QUERIES);
	assert_int_equal(c.mode, MODE_USER);
	assert_string_equal(c.fixed_name, "");
	assert_int_equal(c.nlisten, 0);
	assert_int_equal(c.listen_src, SRC_DEFAULT);
	assert_false(c.debug_sandbox);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

/* --- numbers ------------------------------------------------------------ */

struct num_key {
	const char *key;
	size_t off;
	unsigned min, max;
};

static const struct num_key num_keys[] = {
	{"timeout", offsetof(struct config, timeout), TIMEOUT_MIN, TIMEOUT_MAX},
	{"lookup-timeout", offsetof(struct config, lookup_timeout), LOOKUP_TIMEOUT_MIN,
	 LOOKUP_TIMEOUT_MAX},
	{"max-connections", offsetof(struct config, max_connections), 1,
	 MAX_CONNECTIONS_MAX},
	{"max-per-host", offsetof(struct config, max_per_host), 1,
	 MAX_CONNECTIONS_MAX},
	{"max-queries", offsetof(struct config, max_queries), 1, MAX_QUERIES_MAX},
};

static unsigned num_of(const struct num_key *k)
{
	return *(const unsigned *)((const char *)&c + k->off);
}

static void test_numbers_valid(void **state)
{
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof num_keys / sizeof num_keys[0]; i++) {
		const struct num_key *k = &num_keys[i];

		snprintf(buf, sizeof buf, "%u", k->min);
		set_ok(k->key, buf);
		assert_int_equal(num_of(k), k->min);
		snprintf(buf, sizeof buf, "%u", k->max);
		set_ok(k->key, buf);
		assert_int_equal(num_of(k), k->max);
		snprintf(buf, sizeof buf, "%u", k->min + 1);
		set_ok(k->key, buf);
		assert_int_equal(num_of(k), k->min + 1);
		snprintf(buf, sizeof buf, "%u", k->max - 1);
		set_ok(k->key, buf);
		assert_int_equal(num_of(k), k->max - 1);
		set_ok(k->key, "007");  /* leading zeros: still decimal */
		assert_int_equal(num_of(k), 7);
	}
}

static void test_numbers_invalid(void **state)
{
	static const char *const bad[] = {
		"", "abc", "-1", "+5", " 5", "5 ", "1 0", "5s", "0x10", "1e3",
		"99999999999999999999", "4294967296", "4294967297",
		"18446744073709551617", "\xff", "5\n",
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof num_keys / sizeof num_keys[0]; i++) {
		const struct num_key *k = &num_keys[i];

		snprintf(buf, sizeof buf, "%u", k->min - 1);
		set_bad(k->key, buf);
		snprintf(buf, sizeof buf, "%u", k->max + 1);
		set_bad(k->key, buf);
		for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
			set_bad(k->key, bad[j]);
		set_bad(k->key, NULL);
		assert_contains(err, "needs a value");
	}
}

static void test_number_message(void **state)
{
	(void)state;
	set_bad("timeout", "abc");
	assert_string_equal(err, "timeout: 'abc' is not a whole number of "
	                         "seconds from 1 to 3600");
	set_bad("max-queries", "0");
	assert_string_equal(err, "max-queries: '0' is not a whole number from "
	                         "1 to 100000");
	/* On the command line the option is named as such. */
	assert_int_equal(config_set(&c, SRC_CLI, "timeout", "abc", err,
	                            sizeof err), -1);
	assert_string_equal(err, "--timeout: 'abc' is not a whole number of "
	                         "seconds from 1 to 3600");
}

/* --- booleans ----------------------------------------------------------- */

static void test_booleans(void **state)
{
	static const char *const keys[] = {"foreground", "inetd",
	                                   "debug-sandbox"};
	static const char *const yes[] = {"yes", "true", "on", "1", "YES", "On"};
	static const char *const no[] = {"no", "false", "off", "0", "No",
	                                 "FALSE"};
	static const char *const bad[] = {"", "maybe", "2", "yess", "y",
	                                  " yes", "yes ", "01"};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		bool *f = i == 0 ? &c.foreground : i == 1 ? &c.inetd
		                                          : &c.debug_sandbox;

		for (size_t j = 0; j < sizeof yes / sizeof yes[0]; j++) {
			*f = false;
			set_ok(keys[i], yes[j]);
			assert_true(*f);
			set_ok(keys[i], no[j]);
			assert_false(*f);
		}
		set_ok(keys[i], NULL);  /* a bare command-line flag */
		assert_true(*f);
		for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++)
			set_bad(keys[i], bad[j]);
	}
	set_bad("inetd", "maybe");
	assert_string_equal(err, "inetd: 'maybe' is not yes, no, true, false, "
	                         "on, off, 1 or 0");
}

/* --- user --------------------------------------------------------------- */

static void test_user(void **state)
{
	char name[USERNAME_MAX + 2];

	(void)state;
	set_ok("user", "alice");
	assert_string_equal(c.user, "alice");
	assert_true(c.user_set);
	set_ok("user", "a.b-c_1");
	assert_string_equal(c.user, "a.b-c_1");
	set_ok("user", "x-");
	memset(name, 'u', sizeof name);
	name[USERNAME_MAX] = '\0';
	set_ok("user", name);
	assert_string_equal(c.user, name);
	name[USERNAME_MAX] = 'u';
	name[USERNAME_MAX + 1] = '\0';
	set_bad("user", name);
	set_bad("user", "");
	set_bad("user", "-x");
	set_bad("user", "a b");
	set_bad("user", "a:b");
	set_bad("user", "a/b");
	set_bad("user", "caf\xc3\xa9");
	set_bad("user", NULL);
}

static void test_user_not_set_by_default(void **state)
{
	(void)state;
	assert_int_equal(parse("timeout = 5\n"), 0);
	assert_false(c.user_set);
	assert_int_equal(parse("user = _privident\n"), 0);
	assert_true(c.user_set);  /* named, even if it is the default */
}

/* --- reply -------------------------------------------------------------- */

static void test_reply_modes(void **state)
{
	char name[USERID_MAX + 2 + 6];

	(void)state;
	set_ok("reply", "uid");
	assert_int_equal(c.mode, MODE_UID);
	set_ok("reply", "fixed:IRCUSER");
	assert_int_equal(c.mode, MODE_FIXED);
	assert_string_equal(c.fixed_name, "IRCUSER");
	set_ok("reply", "user");
	assert_int_equal(c.mode, MODE_USER);
	assert_string_equal(c.fixed_name, "");
	set_ok("reply", "fixed:a b:c,d#e");
	assert_string_equal(c.fixed_name, "a b:c,d#e");
	set_ok("reply", "fixed:x");
	assert_string_equal(c.fixed_name, "x");

	strcpy(name, "fixed:");
	memset(name + 6, 'n', USERID_MAX);
	name[6 + USERID_MAX] = '\0';
	set_ok("reply", name);
	assert_int_equal(strlen(c.fixed_name), USERID_MAX);
	name[6 + USERID_MAX] = 'n';
	name[6 + USERID_MAX + 1] = '\0';
	set_bad("reply", name);
}

static void test_reply_invalid(void **state)
{
	static const char *const bad[] = {
		"", "User", "UID", "users", "Token", "tokens", "hidden:", "fixed", "fixed:",
		"fixed: x", "fixed:x ", "fixed:a\tb", "fixed:a\rb", "fixed:a\nb",
		"fixed:\x7f", "fixed:caf\xc3\xa9", "fixed:\x01", "Fixed:x",
	};

	(void)state;
	set_ok("reply", "uid");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		set_bad("reply", bad[i]);
	set_bad("reply", NULL);
	assert_int_equal(c.mode, MODE_UID);
	set_bad("reply", "tokens");
	assert_string_equal(err,
	    "reply: 'tokens' is not user, uid, token, hidden or fixed:NAME");
}

/* --- privacy (doc/design.md §5) ------------------------------------------------ */

static void test_privacy_defaults(void **state)
{
	(void)state;
	assert_string_equal(c.token_key, "/etc/privident/token.key");
	assert_int_equal(c.token_period, 7 * 86400);
	assert_int_equal(c.token_length, 10);
	assert_false(c.noident);
	assert_false(c.opt_in);
	assert_false(c.mask_errors);
	/* Root is hidden with no hide-uid at all; others are not. */
	assert_true(config_uid_hidden(&c, 0));
	assert_false(config_uid_hidden(&c, 1));
	assert_false(config_uid_hidden(&c, 1000));
	assert_false(config_reads_home(&c));
}

static void test_token_keys(void **state)
{
	(void)state;
	set_ok("reply", "token");
	assert_int_equal(c.mode, MODE_TOKEN);
	set_ok("reply", "hidden");
	assert_int_equal(c.mode, MODE_HIDDEN);
	set_ok("token-key", "/srv/k");
	assert_string_equal(c.token_key, "/srv/k");
	set_bad("token-key", "relative/k");
	set_bad("token-key", "");
	set_ok("token-period", "never");
	assert_int_equal(c.token_period, 0);
	set_ok("token-period", "1d");
	assert_int_equal(c.token_period, 86400);
	set_ok("token-period", "30d");
	assert_int_equal(c.token_period, 30 * 86400);
	set_ok("token-period", "2w");
	assert_int_equal(c.token_period, 14 * 86400);
	set_ok("token-period", "1h");
	assert_int_equal(c.token_period, 3600);
	static const char *const bad_periods[] = {
		"", "0d", "7", "d", "7x", "-1d", "1.5d", "367d", "59m", "Never",
		"99999999999999999999d", " 7d",
	};
	for (size_t i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++)
		set_bad("token-period", bad_periods[i]);
	assert_int_equal(c.token_period, 3600);
	set_ok("token-length", "8");
	set_ok("token-length", "26");
	set_bad("token-length", "7");
	set_bad("token-length", "27");
	assert_int_equal(c.token_length, 26);
}

static void test_hide_uid(void **state)
{
	(void)state;
	set_ok("hide-uid", "1-999");
	set_ok("hide-uid", "65534");
	assert_int_equal(c.nhide_uid, 2);
	assert_true(config_uid_hidden(&c, 0));     /* always */
	assert_true(config_uid_hidden(&c, 1));
	assert_true(config_uid_hidden(&c, 999));
	assert_false(config_uid_hidden(&c, 1000));
	assert_true(config_uid_hidden(&c, 65534));
	static const char *const bad[] = {
		"", "-1", "5-4", "1-", "-", "x", "1 - 2", "4294967295",
		"4294967296", "0x10", "1-2-3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		set_bad("hide-uid", bad[i]);
	/* File lines add to each other; the command line replaces them. */
	config_defaults(&c);
	assert_int_equal(parse("hide-uid = 100\nhide-uid = 200-300\n"), 0);
	assert_int_equal(c.nhide_uid, 2);
	assert_true(config_uid_hidden(&c, 250));
	assert_false(config_uid_hidden(&c, 999));
	assert_int_equal(config_set(&c, SRC_CLI, "hide-uid", "5", err, sizeof err), 0);
	assert_int_equal(c.nhide_uid, 1);
	assert_false(config_uid_hidden(&c, 250));
	assert_true(config_uid_hidden(&c, 5));
	for (unsigned i = 1; i < HIDE_UID_MAX; i++)
		assert_int_equal(config_set(&c, SRC_CLI, "hide-uid", "7", err,
		                            sizeof err), 0);
	assert_int_equal(config_set(&c, SRC_CLI, "hide-uid", "7", err, sizeof err), -1);
	assert_string_equal(err, "--hide-uid: more than 32 ranges");
}

static void test_proxy(void **state)
{
	static const uint8_t lo80[4] = { 127, 0, 80, 2 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	(void)state;
	assert_int_equal(c.nproxy, 0);  /* default: none */
	assert_false(config_is_proxy(&c, AF_INET, lo80));
	set_ok("proxy", "127.0.80.2");
	set_ok("proxy", "2001:db8::1");
	set_ok("proxy", "::ffff:192.0.2.7");  /* kept as IPv4 */
	assert_int_equal(c.nproxy, 3);
	assert_true(config_is_proxy(&c, AF_INET, lo80));
	assert_true(config_is_proxy(&c, AF_INET6, v6));
	assert_true(config_is_proxy(&c, AF_INET, (const uint8_t[]){ 192, 0, 2, 7 }));
	assert_false(config_is_proxy(&c, AF_INET6, (const uint8_t[16]){ 0 }));
	v6[15] = 2;
	assert_false(config_is_proxy(&c, AF_INET6, v6));
	assert_false(config_is_proxy(&c, AF_INET, (const uint8_t[]){ 127, 0, 80, 3 }));
	static const char *const bad[] = {
		"", "x", "127.0.80.2:113", "[2001:db8::1]", "[2001:db8::1]:113",
		"fe80::1", "fe80::1%lo", "0.0.0.0", "::", "127.0.80", "1.2.3.4 ",
		"2001:db8::1/64", "localhost",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		set_bad("proxy", bad[i]);
	/* File lines add to each other; the command line replaces them. */
	config_defaults(&c);
	assert_int_equal(parse("proxy = 127.0.80.2\nproxy = 127.0.80.5\n"), 0);
	assert_int_equal(c.nproxy, 2);
	assert_int_equal(config_set(&c, SRC_CLI, "proxy", "127.0.80.9", err,
	                            sizeof err), 0);
	assert_int_equal(c.nproxy, 1);
	assert_false(config_is_proxy(&c, AF_INET, lo80));
	for (unsigned i = 1; i < PROXY_MAX; i++)
		assert_int_equal(config_set(&c, SRC_CLI, "proxy", "127.0.80.9", err,
		                            sizeof err), 0);
	assert_int_equal(config_set(&c, SRC_CLI, "proxy", "127.0.80.9", err,
	                            sizeof err), -1);
	assert_string_equal(err, "--proxy: more than 8 addresses");
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

static void test_privacy_flags(void **state)
{
	(void)state;
	assert_int_equal(parse("noident = yes\nmask-errors = on\n"), 0);
	assert_true(c.noident);
	assert_true(c.mask_errors);
	assert_true(config_reads_home(&c));
	set_ok("noident", "no");
	set_ok("opt-in", NULL);
	assert_true(c.opt_in);
	assert_true(config_reads_home(&c));
	parse_bad("opt-in = maybe\n", "test.conf:1: opt-in: 'maybe' is not yes, "
	          "no, true, false, on, off, 1 or 0");
}

static void validate_bad(const char *want)
{
	assert_int_equal(config_validate(&c, err, sizeof err), -1);
	assert_contains(err, want);
	assert_null(strchr(err, '\n'));
	config_defaults(&c);
}

static void test_validate_privacy(void **state)
{
	(void)state;
	c.noident = c.opt_in = true;
	validate_bad("noident and opt-in exclude each other");
	set_ok("reply", "fixed:x");
	c.noident = true;
	validate_bad("noident makes no sense with reply = fixed:NAME");
	set_ok("reply", "fixed:x");
	c.opt_in = true;
	validate_bad("opt-in makes no sense with reply = fixed:NAME");
	set_ok("reply", "hidden");
	c.noident = true;
	validate_bad("noident makes no difference with reply = hidden");
	set_ok("reply", "fixed:x");
	set_ok("hide-uid", "5");
	validate_bad("hide-uid makes no sense with reply = fixed:NAME");
	/* Allowed: token settings without token mode (reveal reads them). */
	set_ok("token-period", "1d");
	set_ok("noident", NULL);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	set_ok("reply", "token");
	set_ok("opt-in", "yes");
	set_ok("noident", "no");
	set_ok("mask-errors", "yes");
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

/* --- per-user reply files ---------------------------------------------- */

static void test_user_files(void **state)
{
	(void)state;
	assert_false(c.user_files);
	assert_int_equal(c.nuser_replies, 0);
	assert_false(c.user_reply_any_name);
	assert_false(c.user_reply_overrides);
	set_ok("user-files", NULL);
	assert_true(c.user_files);
	assert_true(config_reads_home(&c));
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	set_ok("user-files", "no");
	assert_false(config_reads_home(&c));
	set_bad("user-files", "maybe");
	assert_int_equal(parse("user-files = yes\nuser-replies = znc\n"
	                       "user-reply-any-name = on\n"
	                       "user-reply-overrides = 1\n"), 0);
	assert_true(c.user_files && c.user_reply_any_name && c.user_reply_overrides);
	assert_int_equal(c.nuser_replies, 1);
	assert_string_equal(c.user_replies[0], "znc");
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	set_bad("user-reply-any-name", "2");
	set_bad("user-reply-overrides", "");
}

static void test_user_replies_lists(void **state)
{
	(void)state;
	/* Commas, spaces and tabs, in any mix; @group. */
	set_ok("user-replies", "znc,lounge @bouncers\t,, @irc.users ");
	assert_int_equal(c.nuser_replies, 4);
	assert_string_equal(c.user_replies[0], "znc");
	assert_string_equal(c.user_replies[1], "lounge");
	assert_string_equal(c.user_replies[2], "@bouncers");
	assert_string_equal(c.user_replies[3], "@irc.users");
	assert_int_equal(c.user_replies_src, SRC_FILE);
	/* Repeatable within a source: added to. */
	set_ok("user-replies", "a_b-c.d");
	assert_int_equal(c.nuser_replies, 5);
	assert_string_equal(c.user_replies[4], "a_b-c.d");
	/* A later source replaces the list. */
	assert_int_equal(config_set(&c, SRC_CLI, "user-replies", "x,@y", err,
	                            sizeof err), 0);
	assert_int_equal(c.nuser_replies, 2);
	assert_int_equal(c.user_replies_src, SRC_CLI);
	assert_string_equal(c.user_replies[0], "x");
	assert_string_equal(c.user_replies[1], "@y");
	assert_int_equal(config_set(&c, SRC_CLI, "user-replies", "z", err,
	                            sizeof err), 0);
	assert_int_equal(c.nuser_replies, 3);
	/* The longest names: USERNAME_MAX octets, after '@' too. */
	config_defaults(&c);
	char name[USERNAME_MAX + 3];
	memset(name, 'n', sizeof name);
	name[USERNAME_MAX] = '\0';
	set_ok("user-replies", name);
	assert_string_equal(c.user_replies[0], name);
	name[0] = '@';
	name[USERNAME_MAX] = 'n';
	name[USERNAME_MAX + 1] = '\0';
	set_ok("user-replies", name);
	assert_string_equal(c.user_replies[1], name);
	name[USERNAME_MAX + 1] = 'n';
	name[USERNAME_MAX + 2] = '\0';
	set_bad("user-replies", name);
	set_bad("user-replies", name + 1);   /* USERNAME_MAX + 1 octets */
	/* From the file, as lines. */
	config_defaults(&c);
	assert_int_equal(parse("user-replies = a, b\nuser-replies = @c\n"), 0);
	assert_int_equal(c.nuser_replies, 3);
	assert_string_equal(c.user_replies[2], "@c");
}

static void test_user_replies_bad(void **state)
{
	static const char *const bad[] = {
		"", " ", ",", ", ,\t", "@", "-x", "@-x", "a;b", "a:b", "a/b",
		"a\x1b", "caf\xc3\xa9", "@@g", "a@b", "x,@", "ok,-bad",
		"ok bad!",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		set_bad("user-replies", bad[i]);
	set_bad("user-replies", NULL);
	set_bad("user-replies", "");
	assert_string_equal(err, "user-replies: needs at least one account or @group");
	set_bad("user-replies", "a;b");
	assert_string_equal(err, "user-replies: 'a;b' is not an account or @group "
	                    "name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with '-')");
	set_bad("user-replies", "@");
	assert_contains(err, "'@' is not an account or @group name");
	/* A bad entry does not change what an earlier source gave, nor
	 * add the good entries before it. */
	set_ok("user-replies", "keep");
	assert_int_equal(config_set(&c, SRC_CLI, "user-replies", "bad!", err,
	                            sizeof err), -1);
	assert_string_equal(err, "--user-replies: 'bad!' is not an account or "
	                    "@group name (1 to 64 of A-Z a-z 0-9 . _ -, not "
	                    "starting with '-')");
	assert_int_equal(c.nuser_replies, 1);
	assert_int_equal(c.user_replies_src, SRC_FILE);
	set_bad("user-replies", "new,bad!");
	assert_int_equal(c.nuser_replies, 1);
	/* In a file: the line, and nothing of the file kept. */
	config_defaults(&c);
	parse_bad("user-replies = a\nuser-replies = ,\n",
	          "test.conf:2: user-replies: needs at least one account or @group");
}

/* USER_REPLIES_MAX names, in one value or over several lines; one more is
 * refused. */
static void test_user_replies_too_many(void **state)
{
	char list[USER_REPLIES_MAX * 8 + 8] = "";
	char one[16];

	(void)state;
	for (int i = 0; i < USER_REPLIES_MAX; i++) {
		snprintf(one, sizeof one, "u%d,", i);
		strcat(list, one);
	}
	set_ok("user-replies", list);
	assert_int_equal(c.nuser_replies, USER_REPLIES_MAX);
	set_bad("user-replies", "more");
	assert_string_equal(err, "user-replies: more than 32 names");
	assert_int_equal(c.nuser_replies, USER_REPLIES_MAX);
	config_defaults(&c);
	strcat(list, "more");
	set_bad("user-replies", list);
	config_defaults(&c);
	for (int i = 0; i < USER_REPLIES_MAX; i++)
		set_ok("user-replies", "@g");
	set_bad("user-replies", "@g");
	/* Another source starts afresh. */
	assert_int_equal(config_set(&c, SRC_CLI, "user-replies", "x", err,
	                            sizeof err), 0);
	assert_int_equal(c.nuser_replies, 1);
}

static void test_validate_user_files(void **state)
{
	(void)state;
	/* user-replies alone: the files are read (naming who may choose
	 * turns them on), by a file or the command line. */
	set_ok("user-replies", "znc");
	assert_true(config_reads_home(&c));
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	config_defaults(&c);
	assert_int_equal(parse("user-replies = znc\n"), 0);
	assert_true(c.user_files);
	char *argv[] = {"privident", "-c", "/dev/null", "--user-replies", "@b", NULL};
	cli_ok(ARGC(argv), argv);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_true(c.user_files);
	assert_string_equal(c.user_replies[0], "@b");
	config_defaults(&c);
	set_ok("user-replies", "znc");
	set_ok("reply", "fixed:x");
	validate_bad("user-replies makes no sense with reply = fixed:NAME");
	set_ok("user-replies", "znc");
	set_ok("reply", "hidden");
	validate_bad("user-replies makes no difference with reply = hidden");
	set_ok("user-files", "yes");
	set_ok("user-reply-any-name", "yes");
	validate_bad("user-reply-any-name makes no difference without "
	             "user-replies");
	set_ok("user-files", "yes");
	set_ok("user-reply-overrides", "yes");
	validate_bad("user-reply-overrides makes no difference without "
	             "user-replies");
	set_ok("user-reply-any-name", "yes");   /* without user-files either */
	validate_bad("user-reply-any-name makes no difference without "
	             "user-replies");
	set_ok("user-files", "yes");
	set_ok("reply", "fixed:x");
	validate_bad("user-files makes no sense with reply = fixed:NAME");
	set_ok("user-files", "yes");
	set_ok("reply", "hidden");
	validate_bad("user-files makes no difference with reply = hidden");
	/* With noident or opt-in, those are named first. */
	set_ok("user-files", "yes");
	set_ok("noident", "yes");
	set_ok("reply", "hidden");
	validate_bad("noident makes no difference with reply = hidden");
	/* Every reply mode that looks the owner up takes them. */
	static const char *const modes[] = { "user", "uid", "token" };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		config_defaults(&c);
		set_ok("reply", modes[i]);
		set_ok("user-files", "yes");
		set_ok("user-replies", "znc,@bouncers");
		set_ok("user-reply-any-name", "yes");
		set_ok("user-reply-overrides", "yes");
		set_ok("opt-in", "yes");
		assert_int_equal(config_validate(&c, err, sizeof err), 0);
		assert_true(config_reads_home(&c));
	}
}

/* --- listen ------------------------------------------------------------- */

/* The listen syntax itself is tested with its parser (sockaddr_test.c);
 * here, that the key takes it, and gives its reasons after the key. */
static void test_listen_forms(void **state)
{
	(void)state;
	set_ok("listen", "127.0.0.1:1130");
	assert_v4(&c.listen[0], "127.0.0.1", 1130);
	set_ok("listen", "[::1]");
	assert_v6(&c.listen[1], "::1", DEFAULT_PORT);
	set_ok("listen", "*:1131");
	assert_v6(&c.listen[2], "::", 1131);
	set_ok("listen", "[fe80::1%lo]:1130");  /* lo: index 1, everywhere */
	assert_v6_scope(&c.listen[3], "fe80::1", 1130, 1);
	assert_int_equal(c.nlisten, 4);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

static void test_listen_invalid(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3.4:0", "[::1]x", "host.name", "[fe80::1]:1130",
		"[::1%lo]:1130", "[fe80::1%no-such-if0]:1130",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		set_bad("listen", bad[i]);
	set_bad("listen", NULL);
	set_bad("listen", "1.2.3.4:0");
	assert_contains(err, "port");
	set_bad("listen", "host.name");
	assert_string_equal(err, "listen: 'host.name' is not a numeric IPv4 address");
	assert_int_equal(config_set(&c, SRC_CLI, "listen", "[fe80::1]", err,
	                            sizeof err), -1);
	assert_string_equal(err, "--listen: '[fe80::1]': a link-local address "
	                    "needs its interface, as [fe80::1%eth0]:113");
}

static void test_listen_too_many(void **state)
{
	char a[32];

	(void)state;
	for (int i = 0; i < LISTEN_MAX; i++) {
		snprintf(a, sizeof a, "127.0.0.1:%d", 1000 + i);
		set_ok("listen", a);
	}
	assert_int_equal(c.nlisten, LISTEN_MAX);
	set_bad("listen", "127.0.0.1:2000");
	assert_contains(err, "more than");
	assert_int_equal(c.nlisten, LISTEN_MAX);
}

static void test_listen_replacement(void **state)
{
	(void)state;
	assert_int_equal(config_set(&c, SRC_FILE, "listen", "127.0.0.1:1", err,
	                            sizeof err), 0);
	assert_int_equal(config_set(&c, SRC_FILE, "listen", "127.0.0.1:2", err,
	                            sizeof err), 0);
	assert_int_equal(c.nlisten, 2);
	assert_int_equal(c.listen_src, SRC_FILE);
	assert_int_equal(config_set(&c, SRC_CLI, "listen", "[::1]:3", err,
	                            sizeof err), 0);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(c.listen_src, SRC_CLI);
	assert_v6(&c.listen[0], "::1", 3);
	assert_int_equal(config_set(&c, SRC_CLI, "listen", "127.0.0.1:4", err,
	                            sizeof err), 0);
	assert_int_equal(c.nlisten, 2);
	assert_v6(&c.listen[0], "::1", 3);
	assert_v4(&c.listen[1], "127.0.0.1", 4);
	/* A bad address does not clear what the earlier source gave. */
	config_defaults(&c);
	set_ok("listen", "127.0.0.1:1");
	assert_int_equal(config_set(&c, SRC_CLI, "listen", "bad", err,
	                            sizeof err), -1);
	assert_int_equal(c.nlisten, 1);
	assert_int_equal(c.listen_src, SRC_FILE);
}

/* --- keys --------------------------------------------------------------- */

static void test_unknown_key(void **state)
{
	struct config before = c;

	(void)state;
	assert_int_equal(config_set(&c, SRC_FILE, "foo", "1", err, sizeof err),
	                 -1);
	assert_string_equal(err, "unknown key 'foo'");
	assert_int_equal(config_set(&c, SRC_FILE, "Timeout", "1", err,
	                            sizeof err), -1);
	assert_int_equal(config_set(&c, SRC_FILE, "", "1", err, sizeof err), -1);
	assert_int_equal(config_set(&c, SRC_FILE, NULL, "1", err, sizeof err),
	                 -1);
	assert_memory_equal(&before, &c, sizeof c);
}

static void test_cli_only_keys(void **state)
{
	(void)state;
	set_bad("config", "/etc/other.conf");
	assert_contains(err, "command line");
	set_bad("help", "yes");
	set_bad("version", "yes");
	parse_bad("config = /etc/x\n",
	          "test.conf:1: config: allowed only on the command line, not "
	          "as a configuration key");
}

/* --- the file format ---------------------------------------------------- */

static void test_file_format(void **state)
{
	static const char text[] =
		"# privident configuration\n"
		"\n"
		"   # an indented comment\n"
		"\t\n"
		"timeout = 90\n"
		"max-queries=7\n"
		"  max-connections\t=\t500  \n"
		"max-per-host =20 # a trailing comment\n"
		"foreground = yes\t# with a tab before it\n"
		"reply = fixed:a b#c   # inner space, '#' not after space\n"
		"user = alice\r\n"
		"listen = 127.0.0.1:1130\n"
		"listen = [::1]:1130\n"
		"debug-sandbox = on"; /* no newline at the end */

	(void)state;
	assert_int_equal(parse(text), 0);
	assert_int_equal(c.timeout, 90);
	assert_int_equal(c.max_queries, 7);
	assert_int_equal(c.max_connections, 500);
	assert_int_equal(c.max_per_host, 20);
	assert_true(c.foreground);
	assert_int_equal(c.mode, MODE_FIXED);
	assert_string_equal(c.fixed_name, "a b#c");
	assert_string_equal(c.user, "alice");
	assert_int_equal(c.nlisten, 2);
	assert_v4(&c.listen[0], "127.0.0.1", 1130);
	assert_v6(&c.listen[1], "::1", 1130);
	assert_true(c.debug_sandbox);
	assert_int_equal(c.listen_src, SRC_FILE);
}

static void test_file_empty(void **state)
{
	struct config before = c;

	(void)state;
	assert_int_equal(config_parse_text(&c, "", 0, "x", err, sizeof err), 0);
	assert_int_equal(parse("\n\n# only comments\n#\n"), 0);
	assert_memory_equal(&before, &c, sizeof c);
}

static void test_file_error_line(void **state)
{
	(void)state;
	parse_bad("# one\n"
	          "timeout = 5\n"
	          "timeout = abc\n"
	          "max-queries = 3\n",
	          "test.conf:3: timeout: 'abc' is not a whole number of seconds "
	          "from 1 to 3600");
	parse_bad("timeout = 5\r\n\r\nfoo = 1\r\n",
	          "test.conf:3: unknown key 'foo'");
	parse_bad("\n\n\n\n\n\n\n\n\n\nuser = -x\n", "test.conf:11: user: '-x' is "
	          "not a user name (1 to 64 of A-Z a-z 0-9 . _ -, not starting "
	          "with '-')");
	parse_bad("timeout =\n", "test.conf:1: timeout: '' is not a whole number "
	          "of seconds from 1 to 3600");
	parse_bad("timeout = # nothing\n", "test.conf:1: timeout: '' is not a "
	          "whole number of seconds from 1 to 3600");
	parse_bad("timeout = 5 5\n", "test.conf:1: timeout: '5 5' is not a whole "
	          "number of seconds from 1 to 3600");
}

static void test_file_unknown_key(void **state)
{
	(void)state;
	parse_bad("timeout = 5\nfoo = bar\n", "test.conf:2: unknown key 'foo'");
	parse_bad("time out = 5\n", "test.conf:1: unknown key 'time out'");
	parse_bad("--timeout = 5\n", "test.conf:1: unknown key '--timeout'");
}

static void test_file_missing_equals(void **state)
{
	(void)state;
	parse_bad("timeout 5\n",
	          "test.conf:1: expected 'key = value', found no '='");
	parse_bad("\ntimeout\n",
	          "test.conf:2: expected 'key = value', found no '='");
	parse_bad("timeout # = 5\n",
	          "test.conf:1: expected 'key = value', found no '='");
	parse_bad(" = 5\n", "test.conf:1: no key before '='");
}

static void test_file_long_line(void **state)
{
	/* Static, not malloc'ed: gcc 12 with -fsanitize=address warns
	 * (-Warray-bounds, a false positive) about writes into the latter. */
	static char text[2 * CONFIG_LINE_MAX + 64];

	(void)state;
	/* Exactly CONFIG_LINE_MAX characters: accepted. */
	memset(text, '#', CONFIG_LINE_MAX);
	strcpy(text + CONFIG_LINE_MAX, "\ntimeout = 9\n");
	assert_int_equal(parse(text), 0);
	assert_int_equal(c.timeout, 9);
	/* One more, on line 2: refused. */
	strcpy(text, "timeout = 8\n");
	memset(text + 12, '#', CONFIG_LINE_MAX + 1);
	strcpy(text + 12 + CONFIG_LINE_MAX + 1, "\n");
	parse_bad(text, "test.conf:2: line longer than 1024 characters");
	/* ... also when it is the last line, without a newline. */
	text[12 + CONFIG_LINE_MAX + 1] = '\0';
	parse_bad(text, "test.conf:2: line longer than 1024 characters");
}

static void test_file_nul(void **state)
{
	static const char a[] = "timeout = 5\n\0\n";
	static const char b[] = "timeout = 5\ntimeout = 6\0 7\n";
	static const char d[] = "\0";
	struct config before = c;

	(void)state;
	assert_int_equal(config_parse_text(&c, a, sizeof a - 1, "n.conf", err,
	                                   sizeof err), -1);
	assert_string_equal(err, "n.conf:2: NUL byte in line");
	assert_int_equal(config_parse_text(&c, b, sizeof b - 1, "n.conf", err,
	                                   sizeof err), -1);
	assert_string_equal(err, "n.conf:2: NUL byte in line");
	assert_int_equal(config_parse_text(&c, d, sizeof d - 1, "n.conf", err,
	                                   sizeof err), -1);
	assert_string_equal(err, "n.conf:1: NUL byte in line");
	assert_memory_equal(&before, &c, sizeof c);
}

static void test_file_all_or_nothing(void **state)
{
	(void)state;
	/* parse_bad checks that line 1's timeout was not applied. */
	parse_bad("timeout = 5\nlisten = 127.0.0.1:1\nbogus = 1\n",
	          "test.conf:3: unknown key 'bogus'");
	assert_int_equal(c.timeout, DEFAULT_TIMEOUT);
	assert_int_equal(c.nlisten, 0);
}

static void test_error_one_line(void **state)
{
	char big[200];

	(void)state;
	set_bad("user", "a\nb\rc");
	assert_null(strchr(err, '\r'));
	assert_contains(err, "'a?b?c'");
	/* A long value is cut short; the reason after it survives. */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	set_bad("timeout", big);
	assert_contains(err, "...' is not a whole number of seconds");
	assert_true(strlen(err) < 150);
	/* A file name with a newline in it. */
	assert_int_equal(config_parse_text(&c, "x\n", 2, "a\nb", err,
	                                   sizeof err), -1);
	assert_string_equal(err, "a?b:1: expected 'key = value', found no '='");
	/* A tiny buffer is not overrun and is terminated. */
	memset(err, 'Z', sizeof err);
	assert_int_equal(config_set(&c, SRC_FILE, "timeout", "abc", err, 8), -1);
	assert_string_equal(err, "timeout");
	assert_int_equal(err[8], 'Z');
	assert_int_equal(config_set(&c, SRC_FILE, "timeout", "abc", NULL, 0),
	                 -1);
}

/* --- files -------------------------------------------------------------- */

static void test_load_file(void **state)
{
	static const char text[] = "timeout = 42\nreply = uid\n";
	char path[64], want[128];

	(void)state;
	write_temp(path, text, sizeof text - 1);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof err), 0);
	assert_int_equal(c.timeout, 42);
	assert_int_equal(c.mode, MODE_UID);
	unlink(path);

	write_temp(path, "timeout = 1\nmax-queries = x\n", 28);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2: max-queries: 'x' is not a whole "
	         "number from 1 to 100000", path);
	assert_string_equal(err, want);
	assert_int_equal(c.timeout, 42);
	unlink(path);
}

static void test_load_file_missing(void **state)
{
	struct config before = c;
	const char *path = "/nonexistent/privident-test.conf";
	char want[128];

	(void)state;
	assert_int_equal(config_load_file(&c, path, false, err, sizeof err), 0);
	assert_memory_equal(&before, &c, sizeof c);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
	/* Another error is an error even if the file need not exist. */
	assert_int_equal(config_load_file(&c, "/tmp", false, err, sizeof err),
	                 -1);
	snprintf(want, sizeof want, "/tmp: %s", strerror(EISDIR));
	assert_string_equal(err, want);
	assert_int_equal(config_load_file(&c, "/etc/passwd/x", false, err,
	                                  sizeof err), -1);
	snprintf(want, sizeof want, "/etc/passwd/x: %s", strerror(ENOTDIR));
	assert_string_equal(err, want);
	assert_memory_equal(&before, &c, sizeof c);
}

static void test_load_file_too_large(void **state)
{
	char *text = malloc(CONFIG_FILE_MAX + 1);
	char path[64], want[128];

	(void)state;
	/* Exactly CONFIG_FILE_MAX bytes of comments and blank lines: fine. */
	memset(text, '\n', CONFIG_FILE_MAX + 1);
	text[0] = '#';
	write_temp(path, text, CONFIG_FILE_MAX);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof err), 0);
	unlink(path);
	write_temp(path, text, CONFIG_FILE_MAX + 1);
	assert_int_equal(config_load_file(&c, path, true, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: larger than %d bytes", path,
	         CONFIG_FILE_MAX);
	assert_string_equal(err, want);
	unlink(path);
	free(text);
}

/* --- the command line --------------------------------------------------- */

static void test_cli_forms(void **state)
{
	char *argv[] = {"privident", "-f", "--inetd", "-t", "30", "--timeout=31",
	                "-t32", "--max-connections", "100", "-l", "127.0.0.1",
	                "--listen=[::1]:5", "-u", "bob", "--reply", "uid",
	                "--debug-sandbox", "-c", "/x.conf", "--max-per-host=4",
	                "--max-queries", "5", NULL};

	(void)state;
	cli_ok(ARGC(argv), argv);
	assert_string_equal(cli.config_path, "/x.conf");
	assert_false(cli.help);
	assert_false(cli.version);
	assert_int_equal(cli.nargs, 13);
	assert_string_equal(cli.args[0].key, "foreground");
	assert_null(cli.args[0].value);
	assert_string_equal(cli.args[1].key, "inetd");
	assert_null(cli.args[1].value);
	assert_string_equal(cli.args[2].key, "timeout");
	assert_string_equal(cli.args[2].value, "30");
	assert_string_equal(cli.args[3].value, "31");
	assert_string_equal(cli.args[4].key, "timeout");
	assert_string_equal(cli.args[4].value, "32");
	assert_string_equal(cli.args[5].key, "max-connections");
	assert_string_equal(cli.args[6].key, "listen");
	assert_string_equal(cli.args[6].value, "127.0.0.1");
	assert_string_equal(cli.args[7].value, "[::1]:5");
	assert_string_equal(cli.args[8].key, "user");
	assert_string_equal(cli.args[8].value, "bob");
	assert_string_equal(cli.args[9].key, "reply");
	assert_string_equal(cli.args[10].key, "debug-sandbox");
	assert_string_equal(cli.args[11].key, "max-per-host");
	assert_string_equal(cli.args[11].value, "4");
	assert_string_equal(cli.args[12].key, "max-queries");
	assert_string_equal(cli.args[12].value, "5");
	/* Values point into argv. */
	assert_ptr_equal(cli.args[2].value, argv[4]);
	assert_ptr_equal(cli.args[8].value, argv[13]);
}

static void test_cli_grouped_and_repeated(void **state)
{
	char *a1[] = {"privident", "-ft", "5", "-hV", NULL};
	char *a2[] = {"privident", "--fore", "--time", "7", NULL};
	char *a3[] = {"privident", NULL};
	char *a4[] = {"privident", "-xf", NULL};

	(void)state;
	cli_ok(ARGC(a1), a1);
	assert_int_equal(cli.nargs, 2);
	assert_string_equal(cli.args[0].key, "foreground");
	assert_string_equal(cli.args[1].key, "timeout");
	assert_string_equal(cli.args[1].value, "5");
	assert_true(cli.help);
	assert_true(cli.version);
	/* A second call starts afresh (getopt is re-initialised). */
	cli_ok(ARGC(a2), a2);  /* unique abbreviations, as GNU allows */
	assert_int_equal(cli.nargs, 2);
	assert_string_equal(cli.args[1].key, "timeout");
	assert_string_equal(cli.args[1].value, "7");
	assert_false(cli.help);
	cli_ok(ARGC(a3), a3);
	assert_int_equal(cli.nargs, 0);
	assert_null(cli.config_path);
	cli_bad(ARGC(a4), a4, "unknown option '-x'");
	cli_ok(ARGC(a3), a3);  /* no "-f" left over from the failed group */
	assert_int_equal(cli.nargs, 0);
	cli_ok(ARGC(a1), a1);  /* and the first again, same result */
	assert_int_equal(cli.nargs, 2);
	assert_true(cli.version);
}

static void test_cli_errors(void **state)
{
	char *a1[] = {"privident", "--foo", NULL};
	char *a2[] = {"privident", "--foo=bar", NULL};
	char *a3[] = {"privident", "-x", NULL};
	char *a4[] = {"privident", "-f", "--timeout", NULL};
	char *a5[] = {"privident", "-t", NULL};
	char *a6[] = {"privident", "x", NULL};
	char *a7[] = {"privident", "-f", "--", "-t", NULL};
	char *a8[] = {"privident", "--foreground=yes", NULL};
	char *a9[] = {"privident", "--max", "5", NULL};
	char *a10[] = {"privident", "-fx", NULL};
	char *a11[] = {"privident", "-c", "", NULL};
	char *a12[] = {"privident", "-f", "extra", "-t", "5", NULL};

	(void)state;
	cli_bad(ARGC(a1), a1, "unknown option '--foo'");
	cli_bad(ARGC(a2), a2, "unknown option '--foo'");
	cli_bad(ARGC(a3), a3, "unknown option '-x'");
	cli_bad(ARGC(a4), a4, "--timeout: missing argument");
	cli_bad(ARGC(a5), a5, "--timeout: missing argument");
	cli_bad(ARGC(a6), a6, "unexpected argument 'x'");
	cli_bad(ARGC(a7), a7, "unexpected argument '-t'");
	cli_bad(ARGC(a8), a8, "--foreground takes no argument");
	cli_bad(ARGC(a9), a9, "ambiguous option '--max'");
	cli_bad(ARGC(a10), a10, "unknown option '-x'");
	cli_bad(ARGC(a11), a11, "--config: empty file name");
	cli_bad(ARGC(a12), a12, "unexpected argument 'extra'");
}

static void test_cli_too_many(void **state)
{
	char *argv[CLI_ARGS_MAX + 3];

	(void)state;
	argv[0] = "privident";
	for (int i = 1; i <= CLI_ARGS_MAX; i++)
		argv[i] = "-f";
	argv[CLI_ARGS_MAX + 1] = NULL;
	cli_ok(CLI_ARGS_MAX + 1, argv);
	assert_int_equal(cli.nargs, CLI_ARGS_MAX);
	argv[CLI_ARGS_MAX + 1] = "-f";
	argv[CLI_ARGS_MAX + 2] = NULL;
	cli_bad(CLI_ARGS_MAX + 2, argv, "too many options (at most 64)");
}

/* --- config_build ------------------------------------------------------- */

static void test_build_cli_overrides_file(void **state)
{
	static const char text[] = "timeout = 100\nmax-queries = 9\n"
	                           "listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n"
	                           "reply = fixed:IRC\n";
	char path[64];
	char *a1[] = {"privident", "-c", path, "-t", "200", "-l", "[::1]:3",
	              NULL};
	char *a2[] = {"privident", "-c", path, "-l", "[::1]:3", "-l",
	              "127.0.0.1:4", "--reply=uid", NULL};
	char *a3[] = {"privident", "-c", path, NULL};

	(void)state;
	write_temp(path, text, sizeof text - 1);
	cli_ok(ARGC(a1), a1);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_int_equal(c.timeout, 200);      /* the command line wins */
	assert_int_equal(c.max_queries, 9);    /* the file, not overridden */
	assert_int_equal(c.mode, MODE_FIXED);
	assert_string_equal(c.fixed_name, "IRC");
	assert_int_equal(c.nlisten, 1);        /* replaced, not added to */
	assert_v6(&c.listen[0], "::1", 3);
	assert_int_equal(c.listen_src, SRC_CLI);

	cli_ok(ARGC(a2), a2);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_int_equal(c.nlisten, 2);
	assert_v6(&c.listen[0], "::1", 3);
	assert_v4(&c.listen[1], "127.0.0.1", 4);
	assert_int_equal(c.mode, MODE_UID);
	assert_int_equal(c.timeout, 100);      /* built afresh: the file's */

	cli_ok(ARGC(a3), a3);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_int_equal(c.nlisten, 2);
	assert_v4(&c.listen[0], "127.0.0.1", 1);
	assert_v4(&c.listen[1], "127.0.0.1", 2);
	assert_int_equal(c.listen_src, SRC_FILE);
	unlink(path);
}

/* --- forwarding (the value's every form and error: forward_test.c) ------ */

static void test_forward_keys(void **state)
{
	static const char text[] = "forward-network = 192.168.0.0/16\n"
	                           "forward-network = fd00::/8 1130 token\n"
	                           "forward-timeout = 7\n";
	char path[64];
	char *a1[] = {"privident", "-c", path, "--forward-network",
	              "10.0.0.0/8 reply=guest", "--forward-timeout=2", NULL};
	char *a2[] = {"privident", "-c", path, "--reply", "hidden", NULL};
	char *a3[] = {"privident", "-c", path, "--forward-network", "10.0.0.0/8",
	              "--forward-network", "10.0.0.0/8 token", NULL};

	(void)state;
	assert_int_equal(c.nforward, 0);
	assert_int_equal(c.forward_src, SRC_DEFAULT);
	assert_int_equal(c.forward_timeout, DEFAULT_FORWARD_TIMEOUT);
	assert_false(config_forwarding(&c));
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	set_ok("forward-timeout", "10");
	set_bad("forward-timeout", "11");
	set_bad("forward-network", "10.0.0.0/8 ask");
	set_bad("forward-network", "");

	write_temp(path, text, sizeof text - 1);
	cli_ok(ARGC(a1), a1);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_int_equal(c.nforward, 1);  /* the command line replaces */
	assert_string_equal(c.forward[0].reply, "guest");
	assert_int_equal(c.forward_src, SRC_CLI);
	assert_int_equal(c.forward_timeout, 2);
	assert_true(config_forwarding(&c));
	assert_false(config_needs_token_key(&c));

	cli_ok(ARGC(a2), a2);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	assert_string_equal(err, "forward-network makes no sense with reply = "
	                    "hidden, which hides everyone");

	cli_ok(ARGC(a3), a3);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	assert_string_equal(err, "--forward-network: '10.0.0.0/8 token': that "
	                    "network is listed already");

	cli_ok(3, a3);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_int_equal(c.nforward, 2);
	assert_int_equal(c.forward_src, SRC_FILE);
	assert_int_equal(c.forward[1].port, 1130);
	assert_true(c.forward[1].token);
	assert_int_equal(c.forward_timeout, 7);
	assert_true(config_needs_token_key(&c));
	unlink(path);
}

static void test_build_errors(void **state)
{
	char path[64], want[160];
	char *a1[] = {"privident", "-c", path, "--timeout", "abc", NULL};
	char *a2[] = {"privident", "-c", "/nonexistent/p.conf", NULL};
	char *a3[] = {"privident", "-c", path, "-l", "127.0.0.1", NULL};
	char *a4[] = {"privident", "-c", path, "--user", "-bad", NULL};
	char *a5[] = {"privident", "-c", path, NULL};
	struct config before;

	(void)state;
	write_temp(path, "inetd = yes\n", 12);
	c.timeout = 77;  /* a previous configuration, kept on failure */
	before = c;
	cli_ok(ARGC(a1), a1);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	assert_string_equal(err, "--timeout: 'abc' is not a whole number of "
	                         "seconds from 1 to 3600");
	assert_memory_equal(&before, &c, sizeof c);

	cli_ok(ARGC(a2), a2);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	snprintf(want, sizeof want, "/nonexistent/p.conf: %s", strerror(ENOENT));
	assert_string_equal(err, want);

	cli_ok(ARGC(a3), a3);  /* inetd in the file, listen on the command line */
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	assert_string_equal(err, "listen makes no sense with inetd (the "
	                         "connection comes on standard input)");
	assert_memory_equal(&before, &c, sizeof c);

	cli_ok(ARGC(a4), a4);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	assert_contains(err, "--user: '-bad' is not a user name");
	unlink(path);

	write_temp(path, "\n\ntimeout = 0\n", 14);
	cli_ok(ARGC(a5), a5);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: timeout: '0' is not a whole number "
	         "of seconds from 1 to 3600", path);
	assert_string_equal(err, want);
	unlink(path);

	/* A clash between two lines of the file names the file. */
	write_temp(path, "noident = yes\nopt-in = yes\n", 27);
	cli_ok(ARGC(a5), a5);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: noident and opt-in exclude each other", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	unlink(path);
	/* ... and one the command line resolves is no clash. */
	write_temp(path, "reply = fixed:x\nnoident = yes\n", 30);
	char *a6[] = {"privident", "-c", path, "--reply", "user", NULL};
	cli_ok(ARGC(a6), a6);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_true(c.noident);
	/* One the command line makes is not the file's. */
	char *a7[] = {"privident", "-c", path, "--reply", "hidden", NULL};
	cli_ok(ARGC(a7), a7);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), -1);
	assert_true(strncmp(err, "noident makes no difference", 27) == 0);
	unlink(path);
}

static void test_build_default_path(void **state)
{
	char *argv[] = {"privident", "-t", "5", NULL};

	(void)state;
	if (access(DEFAULT_CONFIG_PATH, F_OK) == 0)
		skip();  /* this host has a real configuration */
	cli_ok(ARGC(argv), argv);
	assert_int_equal(config_build(&c, &cli, err, sizeof err), 0);
	assert_int_equal(c.timeout, 5);
	assert_int_equal(c.max_queries, DEFAULT_MAX_QUERIES);
}

/* --- config_validate ---------------------------------------------------- */


static void listen2(const char *a, const char *b)
{
	config_defaults(&c);
	set_ok("listen", a);
	set_ok("listen", b);
}

static void test_validate(void **state)
{
	(void)state;
	assert_int_equal(config_validate(&c, err, sizeof err), 0);

	c.inetd = true;
	set_ok("listen", "127.0.0.1");
	validate_bad("listen makes no sense with inetd");
	c.inetd = c.foreground = true;  /* logs to stderr, kept off the socket */
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	config_defaults(&c);

	c.timeout = 0;
	validate_bad("timeout: 0 is not a whole number of seconds from 1 to 3600");
	c.timeout = TIMEOUT_MAX + 1;
	validate_bad("timeout");
	c.max_connections = 0;
	validate_bad("max-connections");
	c.max_per_host = MAX_CONNECTIONS_MAX + 1;
	validate_bad("max-per-host");
	c.max_queries = 0;
	validate_bad("max-queries");
	strcpy(c.user, "");
	validate_bad("user");
	strcpy(c.user, "a b");
	validate_bad("user");
	c.mode = MODE_FIXED;
	validate_bad("reply");
	c.mode = (enum reply_mode)7;
	validate_bad("reply");
	c.nlisten = LISTEN_MAX + 1;
	validate_bad("listen");
	c.nlisten = 1;  /* a zeroed, family-less address */
	validate_bad("listen");

	/* max-per-host above max-connections is allowed: it never binds. */
	c.max_connections = 10;
	c.max_per_host = 20;
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

static void test_validate_listen_overlap(void **state)
{
	(void)state;
	listen2("127.0.0.1:113", "127.0.0.1:113");
	validate_bad("127.0.0.1:113 and 127.0.0.1:113 overlap");
	listen2(":113", "127.0.0.1:113");
	validate_bad("[::]:113 and 127.0.0.1:113 overlap");
	listen2("[::1]:113", "*:113");
	validate_bad("overlap");
	listen2("0.0.0.0:113", "127.0.0.1:113");
	validate_bad("overlap");
	listen2("[::1]", "::1");
	validate_bad("overlap");

	listen2(":113", "127.0.0.1:114");  /* different ports */
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	listen2("0.0.0.0:113", "[::1]:113");  /* 0.0.0.0 covers IPv4 only */
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	listen2("127.0.0.1:113", "127.0.0.2:113");
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	listen2("127.0.0.1:113", "[::1]:113");
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

/* --- help --------------------------------------------------------------- */

static void test_usage(void **state)
{
	static const char *const want[] = {
		"usage: privident", "-c, --config FILE", "-f, --foreground\n",
		"-l, --listen ADDR[:PORT]", "-u, --user NAME", "    --inetd\n",
		"    --reply MODE", "-t, --timeout SECONDS", "--max-connections N",
		"--max-per-host N", "--max-queries N", "--debug-sandbox\n",
		"-h, --help\n", "-V, --version\n", DEFAULT_USER, DEFAULT_CONFIG_PATH,
	};
	const char *line;

	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_contains(config_usage, want[i]);
	/* Fits an 80-column terminal. */
	for (line = config_usage; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		assert_true(nl - line < 80);
		line = nl + 1;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_numbers_valid),
		T(test_numbers_invalid),
		T(test_number_message),
		T(test_booleans),
		T(test_user),
		T(test_user_not_set_by_default),
		T(test_reply_modes),
		T(test_reply_invalid),
		T(test_privacy_defaults),
		T(test_token_keys),
		T(test_hide_uid),
		T(test_proxy),
		T(test_privacy_flags),
		T(test_validate_privacy),
		T(test_user_files),
		T(test_user_replies_lists),
		T(test_user_replies_bad),
		T(test_user_replies_too_many),
		T(test_validate_user_files),
		T(test_listen_forms),
		T(test_listen_invalid),
		T(test_listen_too_many),
		T(test_listen_replacement),
		T(test_unknown_key),
		T(test_cli_only_keys),
		T(test_file_format),
		T(test_file_empty),
		T(test_file_error_line),
		T(test_file_unknown_key),
		T(test_file_missing_equals),
		T(test_file_long_line),
		T(test_file_nul),
		T(test_file_all_or_nothing),
		T(test_error_one_line),
		T(test_load_file),
		T(test_load_file_missing),
		T(test_load_file_too_large),
		T(test_cli_forms),
		T(test_cli_grouped_and_repeated),
		T(test_cli_errors),
		T(test_cli_too_many),
		T(test_build_cli_overrides_file),
		T(test_forward_keys),
		T(test_build_errors),
		T(test_build_default_path),
		T(test_validate),
		T(test_validate_listen_overlap),
		T(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
