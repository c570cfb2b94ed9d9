/* Reply policy: each rule in DESIGN §3's order, with a fake name service. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy.h"

static int name_calls;

static int fake_names(uint32_t uid, char *name, size_t size)
{
	name_calls++;
	switch (uid) {
	case 1000: snprintf(name, size, "alice"); return 0;
	case 1001: snprintf(name, size, "j\xc3\xb6rg"); return 0;
	case 1002: snprintf(name, size, "bad\x1bname"); return 0;
	case 1003: return -1;
	default: return 1;
	}
}

static struct config cfg(enum reply_mode m)
{
	struct config c;
	memset(&c, 0, sizeof(c));
	c.mode = m;
	snprintf(c.fixed_name, sizeof(c.fixed_name), "ircuser");
	return c;
}

static void expect(const struct config *c, enum nl_result r, uint32_t uid,
                   const char *line)
{
	struct verdict v;
	char out[REPLY_MAX];

	policy_decide(c, r, uid, fake_names, &v);
	int n = policy_format(&v, 6193, 23, out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, line);
}

static void user_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : UNIX : alice\r\n");
	expect(&c, NL_FOUND, 1001, "6193 , 23 : USERID : UNIX,UTF-8 : j\xc3\xb6rg\r\n");
	expect(&c, NL_NOT_FOUND, 1000, "6193 , 23 : ERROR : NO-USER\r\n");
	expect(&c, NL_NO_OWNER, 0, "6193 , 23 : ERROR : NO-USER\r\n");
	expect(&c, NL_ERROR, 1000, "6193 , 23 : ERROR : UNKNOWN-ERROR\r\n");
	/* No name, name-service failure, unprintable name: never a USERID. */
	expect(&c, NL_FOUND, 4242, "6193 , 23 : ERROR : UNKNOWN-ERROR\r\n");
	expect(&c, NL_FOUND, 1003, "6193 , 23 : ERROR : UNKNOWN-ERROR\r\n");
	expect(&c, NL_FOUND, 1002, "6193 , 23 : ERROR : UNKNOWN-ERROR\r\n");
}

static void root_hidden(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	name_calls = 0;
	expect(&c, NL_FOUND, 0, "6193 , 23 : ERROR : HIDDEN-USER\r\n");
	assert_int_equal(name_calls, 0);
	c = cfg(MODE_UID);
	expect(&c, NL_FOUND, 0, "6193 , 23 : ERROR : HIDDEN-USER\r\n");
}

static void uid_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_UID);
	name_calls = 0;
	expect(&c, NL_FOUND, 1000, "6193 , 23 : USERID : OTHER : 1000\r\n");
	expect(&c, NL_FOUND, 4242, "6193 , 23 : USERID : OTHER : 4242\r\n");
	expect(&c, NL_NO_OWNER, 0, "6193 , 23 : ERROR : NO-USER\r\n");
	assert_int_equal(name_calls, 0);
}

static void fixed_mode(void **st)
{
	(void)st;
	struct config c = cfg(MODE_FIXED);
	name_calls = 0;
	expect(&c, NL_NOT_FOUND, 0, "6193 , 23 : USERID : UNIX : ircuser\r\n");
	expect(&c, NL_ERROR, 0, "6193 , 23 : USERID : UNIX : ircuser\r\n");
	assert_int_equal(name_calls, 0);
}

static void describe(void **st)
{
	(void)st;
	struct config c = cfg(MODE_USER);
	struct verdict v;
	char buf[128];

	policy_decide(&c, NL_FOUND, 1000, fake_names, &v);
	policy_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "USERID:UNIX:alice");
	policy_decide(&c, NL_NOT_FOUND, 0, fake_names, &v);
	policy_describe(&v, buf, sizeof(buf));
	assert_string_equal(buf, "NO-USER");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_mode),
		cmocka_unit_test(root_hidden),
		cmocka_unit_test(uid_mode),
		cmocka_unit_test(fixed_mode),
		cmocka_unit_test(describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
