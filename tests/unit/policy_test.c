/* Reply policy: each rule in doc/design.md §5's order, with a fake name service
 * and fake home directories. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"
#include "token.h"

static int name_calls, home_calls;

static int fake_names(uint32_t uid, char *name, size_t size)
{
	name_calls++;
	switch (uid) {
	case 1000: snprintf(name, size, "alice"); return 0;
	case 1001: snprintf(name, size, "j\xc3\xb6rg"); return 0;
	case 1002: snprintf(name, size, "bad\x1bname"); return 0;
	case 1003: return -1;
	case 1004: snprintf(name, size, "bob"); return 0;
	case 1005: snprintf(name, size, "carol"); return 0;
	case 1006: snprintf(name, size, "dave"); return 0;
	default: return 1;
	}
}

/* 1001 has ~/.noident, 1004 has ~/.ident, 1005's home cannot be read,
 * 1006 has both; nobody else has either. */
static int fake_home(uint32_t uid, const char *file)
{
	home_calls++;
	if (uid == 1005)
		return -1;
	if (strcmp(file, ".noident") == 0)
		return uid == 1001 || uid == 1006;
	if (strcmp(file, ".ident") == 0)
		return uid == 1004 || uid == 1006;
	fail_msg("asked for an unexpected file '%s'", file);
	return -1;
}

static int choice_calls;

/* ~/.oidentd.conf as the helper worked it out: 1000 chose "zncuser", 1004
 * hides, 1006 chose a name the helper let through but that is not a safe
 * name (the policy's own check must stop it); nobody else says anything. */
static enum user_choice fake_choice(uint32_t uid, char *name, size_t size)
{
	choice_calls++;
	switch (uid) {
	case 1000: snprintf(name, size, "zncuser"); return CHOICE_REPLY;
	case 1004: return CHOICE_HIDE;
	case 1006: snprintf(name, size, "bad name"); return CHOICE_REPLY;
	default: return CHOICE_NONE;
	}
}

static const uint8_t test_key[TOKEN_KEY_BYTES] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t querier[4] = {192, 0, 2, 7};
/* 2026-11-21T10:00:00Z */
#define NOW 1795255200

static const struct policy_env env = { fake_names, fake_home, test_key,
                                       fake_choice };

static struct config cfg(enum reply_mode m)
{
	struct config c;
	config_defaults(&c);
	c.mode = m;
	snprintf(c.fixed_name, sizeof(c.fixed_name), "ircuser");
	return c;
}

static void decide(const struct config *c, enum nl_result r, uint32_t uid,
                   struct verdict *v)
{
	struct policy_query q = { r, uid, AF_INET, querier, NOW };
	policy_decide(c, &q, &env, v);
}

static void expect(const struct config *c, enum nl_result r, uint32_t uid,
                   const char *line)
{
	struct verdict v;
	char out[REPLY_MAX];

	decide(c, r, uid, &v);
	int n = policy_format(&v, 6193, 23, out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, line);
}

#define HIDDEN "6193 , 23 : ERROR : HIDDEN-USER\r\n"
#define NO_USER "6193 , 23 : ERROR : NO-USER\r\n"
#define UNKNOWN "6193 , 23 : ERROR : UNKNOWN-ERROR\r\n"

static void user_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : alice\r\n");
	expect(&c, NL_FOUND, 1001, "6193 , 23 : USERID : UNIX,UTF-8 : j\xc3\xb6rg\r\n");
	expect(&c, NL_NOT_FOUND, 1000, NO_USER);
	expect(&c, NL_NO_OWNER, 0, NO_USER);
	expect(&c, NL_ERROR, 1000, UNKNOWN);
	/* No name, name-service failure, unprintable name: never a USERID. */
	expect(&c, NL_FOUND, 4242, UNKNOWN);
	expect(&c, NL_FOUND, 1003, UNKNOWN);
	expect(&c, NL_FOUND, 1002, UNKNOWN);
}

static void root_hidden(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	name_calls = 0;
	expect(&c, NL_FOUND, 0, HIDDEN);
	assert_int_equal(name_calls, 0);
	c = cfg(MODE_UID);
	expect(&c, NL_FOUND, 0, HIDDEN);
	c = cfg(MODE_TOKEN);
	expect(&c, NL_FOUND, 0, HIDDEN);
}

static void uid_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_UID);
	name_calls = 0;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : OTHER : 1000\r\n");
	expect(&c, NL_FOUND, 4242, "6193 , 23 : USERID : OTHER : 4242\r\n");
	expect(&c, NL_NO_OWNER, 0, NO_USER);
	assert_int_equal(name_calls, 0);
}

static void fixed_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_FIXED);
	c.mask_errors = true;
	name_calls = home_calls = 0;
	expect(&c, NL_NOT_FOUND, 0, "6193 , 23 : USERID : UNIX : ircuser\r\n");
	expect(&c, NL_ERROR, 0, "6193 , 23 : USERID : UNIX : ircuser\r\n");
	expect(&c, NL_FOUND, 0, "6193 , 23 : USERID : UNIX : ircuser\r\n");
	assert_int_equal(name_calls, 0);
	assert_int_equal(home_calls, 0);
}

static void hidden_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_HIDDEN);
	name_calls = 0;
	expect(&c, NL_FOUND, 1000, HIDDEN);
	expect(&c, NL_FOUND, 4242, HIDDEN);
	expect(&c, NL_NOT_FOUND, 0, NO_USER);
	expect(&c, NL_NO_OWNER, 0, NO_USER);
	expect(&c, NL_ERROR, 0, UNKNOWN);
	assert_int_equal(name_calls, 0);
}

static void hide_uid(void **st)
{
	(void)st;
	struct config c = cfg(MODE_UID);
	/* A list without 0: root stays hidden all the same. */
	c.hide_uid[0] = (struct uid_range){1, 999};
	c.hide_uid[1] = (struct uid_range){1004, 1004};
	c.nhide_uid = 2;
	expect(&c, NL_FOUND, 0, HIDDEN);
	expect(&c, NL_FOUND, 1, HIDDEN);
	expect(&c, NL_FOUND, 999, HIDDEN);
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : OTHER : 1000\r\n");
	expect(&c, NL_FOUND, 1004, HIDDEN);
	expect(&c, NL_FOUND, 1005, "6193 , 23 : USERID : OTHER : 1005\r\n");
	/* Still NO-USER before anything about uids. */
	expect(&c, NL_NO_OWNER, 5, NO_USER);
}

static void noident(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	c.noident = true;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : alice\r\n");
	expect(&c, NL_FOUND, 1001, HIDDEN);
	expect(&c, NL_FOUND, 1004, "6193 , 23 : USERID : UNIX : bob\r\n");
	/* Cannot tell: hidden, never revealed by a failed check. */
	expect(&c, NL_FOUND, 1005, HIDDEN);
	expect(&c, NL_FOUND, 1006, HIDDEN);
	/* Rule 3 comes before the mode, whichever it is. */
	c.mode = MODE_UID;
	expect(&c, NL_FOUND, 1001, HIDDEN);
	c.mode = MODE_TOKEN;
	expect(&c, NL_FOUND, 1001, HIDDEN);
}

static void opt_in(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	c.opt_in = true;
	expect(&c, NL_FOUND, 1000, HIDDEN);
	expect(&c, NL_FOUND, 1001, HIDDEN);
	expect(&c, NL_FOUND, 1004, "6193 , 23 : USERID : UNIX : bob\r\n");
	expect(&c, NL_FOUND, 1005, HIDDEN);
	expect(&c, NL_FOUND, 1006, "6193 , 23 : USERID : UNIX : dave\r\n");
	c.mode = MODE_UID;
	expect(&c, NL_FOUND, 1004, "6193 , 23 : USERID : OTHER : 1004\r\n");
}

/* Rule order: NO-USER, then hidden uids, then the user's file, then the
 * mode. Nothing later is asked once an earlier rule decided. */
static void rule_order(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	c.noident = true;
	name_calls = home_calls = 0;
	expect(&c, NL_NO_OWNER, 1001, NO_USER);
	expect(&c, NL_FOUND, 0, HIDDEN);
	assert_int_equal(home_calls, 0);
	expect(&c, NL_FOUND, 1001, HIDDEN);
	assert_int_equal(home_calls, 1);
	assert_int_equal(name_calls, 0);
}

static void token_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_TOKEN);
	struct verdict v1, v2, v3;
	char want[TOKEN_LENGTH_MAX + 1], line[REPLY_MAX];
	int64_t n = token_period_number(NOW, TOKEN_PERIOD_DEFAULT);

	name_calls = 0;
	decide(&c, NL_FOUND, 1000, &v1);
	assert_true(v1.is_userid);
	assert_string_equal(v1.opsys, "OTHER");
	assert_int_equal(strlen(v1.userid), TOKEN_LENGTH_DEFAULT);
	assert_int_equal(token_make(test_key, 1000, AF_INET, querier, n,
	                            TOKEN_LENGTH_DEFAULT, want), 0);
	assert_string_equal(v1.userid, want);
	assert_int_equal(name_calls, 0);  /* the name plays no part */
	snprintf(line, sizeof(line), "6193 , 23 : USERID : OTHER : %s\r\n", want);
	expect(&c, NL_FOUND, 1000, line);
	/* Another uid: another token; the length follows token-length. */
	decide(&c, NL_FOUND, 1004, &v2);
	assert_string_not_equal(v1.userid, v2.userid);
	c.token_length = TOKEN_LENGTH_MAX;
	decide(&c, NL_FOUND, 1000, &v3);
	assert_int_equal(strlen(v3.userid), TOKEN_LENGTH_MAX);
	assert_memory_equal(v3.userid, v1.userid, TOKEN_LENGTH_DEFAULT);
	/* NO-USER is still NO-USER. */
	expect(&c, NL_NOT_FOUND, 1000, NO_USER);
}

/* ~/.oidentd.conf (rule 4): hide for everyone with user-files; a chosen
 * reply replaces the login name, and a pseudonym only when the
 * administrator says so; a name that fails the last check is never sent. */
static void user_file(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	struct verdict v;

	/* Off: the file is not asked about. */
	choice_calls = 0;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : alice\r\n");
	expect(&c, NL_FOUND, 1004, "6193 , 23 : USERID : UNIX : bob\r\n");
	assert_int_equal(choice_calls, 0);

	c.user_files = true;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : zncuser\r\n");
	decide(&c, NL_FOUND, 1000, &v);
	assert_true(v.chosen);
	expect(&c, NL_FOUND, 1004, HIDDEN);
	expect(&c, NL_FOUND, 1005, "6193 , 23 : USERID : UNIX : carol\r\n");
	expect(&c, NL_FOUND, 1006, "6193 , 23 : USERID : UNIX : dave\r\n");
	decide(&c, NL_FOUND, 1006, &v);
	assert_false(v.chosen);
	/* Hidden uids and NO-USER come first; the file is not read. */
	choice_calls = 0;
	expect(&c, NL_FOUND, 0, HIDDEN);
	expect(&c, NL_NOT_FOUND, 1000, NO_USER);
	assert_int_equal(choice_calls, 0);

	/* uid and token: hide always; a reply only with overrides. */
	c.mode = MODE_UID;
	expect(&c, NL_FOUND, 1004, HIDDEN);
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : OTHER : 1000\r\n");
	c.user_reply_overrides = true;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : zncuser\r\n");
	c.mode = MODE_TOKEN;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : zncuser\r\n");
	c.user_reply_overrides = false;
	decide(&c, NL_FOUND, 1000, &v);
	assert_string_equal(v.opsys, "OTHER");
	assert_int_equal(strlen(v.userid), TOKEN_LENGTH_DEFAULT);

	/* With noident too: the ~/.noident comes first. */
	c = cfg(MODE_USER);
	c.user_files = c.noident = true;
	expect(&c, NL_FOUND, 1001, HIDDEN);
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : zncuser\r\n");
	/* mask-errors masks a file's hide like any other. */
	c.mask_errors = true;
	expect(&c, NL_FOUND, 1004, UNKNOWN);
}

static void token_without_key(void **st)
{
	(void)st;
	struct config c = cfg(MODE_TOKEN);
	struct policy_env nokey = { fake_names, fake_home, NULL, fake_choice };
	struct policy_query q = { NL_FOUND, 1000, AF_INET, querier, NOW };
	struct verdict v;

	policy_decide(&c, &q, &nokey, &v);
	assert_false(v.is_userid);
	assert_int_equal(v.err, REPLY_UNKNOWN_ERROR);
}

static void mask_errors(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	struct verdict v;
	char buf[128];

	c.mask_errors = true;
	c.noident = true;
	expect(&c, NL_NOT_FOUND, 1000, UNKNOWN);
	expect(&c, NL_NO_OWNER, 0, UNKNOWN);
	expect(&c, NL_FOUND, 0, UNKNOWN);
	expect(&c, NL_FOUND, 1001, UNKNOWN);
	expect(&c, NL_ERROR, 1000, UNKNOWN);
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : alice\r\n");
	/* The log still says what the error was. */
	decide(&c, NL_FOUND, 1001, &v);
	policy_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "UNKNOWN-ERROR masked=HIDDEN-USER");
	decide(&c, NL_ERROR, 1000, &v);
	policy_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "UNKNOWN-ERROR");
	/* Off by default. */
	c = cfg(MODE_USER);
	assert_false(c.mask_errors);
	expect(&c, NL_NOT_FOUND, 1000, NO_USER);
}

static void file_counts(void **st)
{
	(void)st;
	/* .noident: any entry, links included, whoever owns it. */
	assert_int_equal(policy_file_counts(".noident", 1000, S_IFREG | 0644, 1000), 1);
	assert_int_equal(policy_file_counts(".noident", 1000, S_IFLNK | 0777, 1000), 1);
	assert_int_equal(policy_file_counts(".noident", 1000, S_IFDIR | 0755, 0), 1);
	/* .ident: only the user's own regular file. */
	assert_int_equal(policy_file_counts(".ident", 1000, S_IFREG | 0600, 1000), 1);
	assert_int_equal(policy_file_counts(".ident", 1000, S_IFLNK | 0777, 1000), 0);
	assert_int_equal(policy_file_counts(".ident", 1000, S_IFREG | 0644, 1001), 0);
	assert_int_equal(policy_file_counts(".ident", 1000, S_IFIFO | 0644, 1000), 0);
}

static void describe(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	struct verdict v;
	char buf[128];

	decide(&c, NL_FOUND, 1000, &v);
	policy_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "USERID:UNIX:alice");
	decide(&c, NL_NOT_FOUND, 0, &v);
	policy_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "NO-USER");
}

/* policy_needs against policy_decide: whatever decide asks of the name
 * service or a home, needs said beforehand, for every mode, privacy
 * setting, lookup result and kind of user; and a query that cannot need
 * anything (no owner, a hidden uid, fixed or hidden mode) needs nothing. */
static const char *asked_file;

static int asked_home(uint32_t uid, const char *file)
{
	asked_file = file;
	return fake_home(uid, file);
}

static void needs_cover_what_decide_asks(void **st)
{
	(void)st;
	static const enum reply_mode modes[] = { MODE_USER, MODE_UID, MODE_TOKEN,
	                                         MODE_HIDDEN, MODE_FIXED };
	static const enum nl_result results[] = { NL_FOUND, NL_NOT_FOUND,
	                                          NL_NO_OWNER, NL_ERROR };
	static const uint32_t uids[] = { 0, 1000, 1001, 1002, 1003, 1004, 1005,
	                                 1006, 4242, 5000 };
	const struct policy_env rec = { fake_names, asked_home, test_key,
	                                fake_choice };

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
	for (int privacy = 0; privacy < 4; privacy++)
	for (size_t r = 0; r < sizeof(results) / sizeof(results[0]); r++)
	for (size_t u = 0; u < sizeof(uids) / sizeof(uids[0]); u++) {
		struct config c = cfg(modes[m]);
		struct verdict v;
		c.noident = privacy == 1;
		c.opt_in = privacy == 2;
		c.user_files = privacy == 3;
		c.mask_errors = u % 2;
		c.hide_uid[c.nhide_uid++] = (struct uid_range){ 5000, 5000 };
		struct policy_query q = { results[r], uids[u], AF_INET, querier, NOW };
		unsigned need = policy_needs(&c, &q);

		name_calls = home_calls = choice_calls = 0;
		asked_file = NULL;
		policy_decide(&c, &q, &rec, &v);
		if (name_calls > 0 && !(need & POLICY_NEEDS_NAME))
			fail_msg("mode %d privacy %d result %d uid %u: a name it did not need",
			         modes[m], privacy, results[r], uids[u]);
		if (home_calls > 0 && (!(need & POLICY_NEEDS_HOME_FILE) ||
		                       asked_file != policy_home_file(&c)))
			fail_msg("mode %d privacy %d result %d uid %u: a home file it did not need",
			         modes[m], privacy, results[r], uids[u]);
		if (choice_calls > 0 && !(need & POLICY_NEEDS_USER_FILE))
			fail_msg("mode %d privacy %d result %d uid %u: a user file it did not need",
			         modes[m], privacy, results[r], uids[u]);
		if (results[r] != NL_FOUND || uids[u] == 0 || uids[u] == 5000 ||
		    modes[m] == MODE_FIXED || modes[m] == MODE_HIDDEN)
			assert_int_equal(need, 0);
	}
	struct config c = cfg(MODE_USER);
	assert_null(policy_home_file(&c));
	c.noident = true;
	assert_string_equal(policy_home_file(&c), ".noident");
	c.noident = false;
	c.opt_in = true;
	assert_string_equal(policy_home_file(&c), ".ident");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_mode),
		cmocka_unit_test(root_hidden),
		cmocka_unit_test(uid_mode),
		cmocka_unit_test(fixed_mode),
		cmocka_unit_test(hidden_mode),
		cmocka_unit_test(hide_uid),
		cmocka_unit_test(noident),
		cmocka_unit_test(opt_in),
		cmocka_unit_test(rule_order),
		cmocka_unit_test(token_mode),
		cmocka_unit_test(token_without_key),
		cmocka_unit_test(user_file),
		cmocka_unit_test(mask_errors),
		cmocka_unit_test(file_counts),
		cmocka_unit_test(describe),
		cmocka_unit_test(needs_cover_what_decide_asks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
