/* Unit tests for reply formatting: exact bytes out, and every user id or
 * opsys that could corrupt a client's line, log or terminal refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "limits.h"
#include "reply.h"

static char out[REPLY_MAX + 1];

/* Formats a USERID reply for ports 6193 , 23 from a string literal. */
static int userid(const char *opsys, const char *id, size_t len)
{
	memset(out, 'Z', sizeof out);
	return reply_format_userid(out, sizeof out, 6193, 23, opsys, id, len);
}

#define USERID(opsys, lit) userid((opsys), (lit), sizeof(lit) - 1)

static void expect_output(int n, const char *want)
{
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
}

static void test_error_names(void **state)
{
	(void)state;
	assert_string_equal(reply_error_name(REPLY_INVALID_PORT), "INVALID-PORT");
	assert_string_equal(reply_error_name(REPLY_NO_USER), "NO-USER");
	assert_string_equal(reply_error_name(REPLY_HIDDEN_USER), "HIDDEN-USER");
	assert_string_equal(reply_error_name(REPLY_UNKNOWN_ERROR), "UNKNOWN-ERROR");
	assert_string_equal(reply_error_name((enum reply_error)99), "UNKNOWN-ERROR");
}

static void test_errors(void **state)
{
	static const struct {
		enum reply_error e;
		const char *want;
	} cases[] = {
		{ REPLY_INVALID_PORT, "6195 , 23 : ERROR : INVALID-PORT\r\n" },
		{ REPLY_NO_USER, "6195 , 23 : ERROR : NO-USER\r\n" },
		{ REPLY_HIDDEN_USER, "6195 , 23 : ERROR : HIDDEN-USER\r\n" },
		{ REPLY_UNKNOWN_ERROR, "6195 , 23 : ERROR : UNKNOWN-ERROR\r\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_output(reply_format_error(out, sizeof out, 6195, 23,
		                                 cases[i].e), cases[i].want);
	/* A bad query's ports are echoed as they came, 0 and 99999 too. */
	expect_output(reply_format_error(out, sizeof out, 0, 99999,
	                                 REPLY_INVALID_PORT),
	              "0 , 99999 : ERROR : INVALID-PORT\r\n");
}

static void test_error_too_small(void **state)
{
	const char *want = "6195 , 23 : ERROR : NO-USER\r\n";
	size_t len = strlen(want);

	(void)state;
	/* Exactly enough room, NUL included: fits. One less: refused. */
	expect_output(reply_format_error(out, len + 1, 6195, 23, REPLY_NO_USER),
	              want);
	assert_int_equal(reply_format_error(out, len, 6195, 23, REPLY_NO_USER), -1);
	assert_int_equal(reply_format_error(out, 0, 6195, 23, REPLY_NO_USER), -1);
}

static void test_userid(void **state)
{
	(void)state;
	expect_output(USERID("UNIX", "alice"),
	              "6193 , 23 : USERID : UNIX : alice\r\n");
	expect_output(USERID("OTHER", "K7QMZX4A2B"),
	              "6193 , 23 : USERID : OTHER : K7QMZX4A2B\r\n");
	/* Only userid_len octets count, not the NUL-terminated string. */
	expect_output(userid("UNIX", "alice-and-more", 5),
	              "6193 , 23 : USERID : UNIX : alice\r\n");
	/* Colons and blanks inside, leading and trailing, are kept. */
	expect_output(USERID("UNIX", " a:b c "),
	              "6193 , 23 : USERID : UNIX :  a:b c \r\n");
	expect_output(USERID("UNIX", "1000"),
	              "6193 , 23 : USERID : UNIX : 1000\r\n");
}

static void test_utf8(void **state)
{
	(void)state;
	expect_output(USERID("UNIX", "j\xc3\xbcrgen"),
	              "6193 , 23 : USERID : UNIX,UTF-8 : j\xc3\xbcrgen\r\n");
	expect_output(USERID("OTHER", "\xe6\x97\xa5\xe6\x9c\xac"),
	              "6193 , 23 : USERID : OTHER,UTF-8 : \xe6\x97\xa5\xe6\x9c\xac\r\n");
	/* The edges: U+00A0, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF. */
	assert_true(USERID("UNIX", "\xc2\xa0") > 0);
	assert_true(USERID("UNIX", "\xdf\xbf") > 0);
	assert_true(USERID("UNIX", "\xe0\xa0\x80") > 0);
	assert_true(USERID("UNIX", "\xef\xbf\xbf") > 0);
	assert_true(USERID("UNIX", "\xf0\x90\x80\x80") > 0);
	assert_true(USERID("UNIX", "\xf4\x8f\xbf\xbf") > 0);
	assert_true(USERID("UNIX", "\xed\x9f\xbf") > 0); /* U+D7FF */
	assert_true(USERID("UNIX", "\xee\x80\x80") > 0); /* U+E000 */
}

static void test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\x80",                 /* lone continuation */
		"a\xbf",
		"\xc3",                 /* truncated */
		"\xe6\x97",
		"\xf0\x90\x80",
		"\xc3x",                /* continuation missing */
		"\xc3\xc3",             /* a lead where a continuation belongs */
		"\xe6\x97\xe6",
		"\xe6\x97x",
		"\xc0\xaf",             /* overlong '/' */
		"\xc1\xbf",
		"\xe0\x80\xaf",
		"\xe0\x9f\xbf",         /* overlong U+07FF */
		"\xf0\x80\x80\xaf",
		"\xf0\x8f\xbf\xbf",     /* overlong U+FFFF */
		"\xed\xa0\x80",         /* surrogates */
		"\xed\xbf\xbf",
		"\xf4\x90\x80\x80",     /* U+110000 */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\xfe",
		"\xff",
		"alice\xff",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (userid("UNIX", bad[i], strlen(bad[i])) != -1) {
			print_message("accepted bad UTF-8 #%zu\n", i);
			fail();
		}
	}
}

static void test_controls(void **state)
{
	char id[] = "al?ce";

	(void)state;
	for (int c = 0; c < 0x20; c++) {
		id[2] = (char)c;
		assert_int_equal(userid("UNIX", id, sizeof id - 1), -1);
	}
	id[2] = 0x7f;
	assert_int_equal(userid("UNIX", id, sizeof id - 1), -1);
	/* C1 controls as UTF-8: U+0080, U+0085 (NEL), U+009B (CSI), U+009F. */
	assert_int_equal(USERID("UNIX", "a\xc2\x80"), -1);
	assert_int_equal(USERID("UNIX", "a\xc2\x85"), -1);
	assert_int_equal(USERID("UNIX", "a\xc2\x9b[2J"), -1);
	assert_int_equal(USERID("UNIX", "a\xc2\x9f"), -1);
	assert_int_equal(USERID("UNIX", "alice\r\n6193 , 23 : USERID : UNIX : root"), -1);
	id[2] = ' ';
	assert_true(userid("UNIX", id, sizeof id - 1) > 0);
	id[2] = '~';
	assert_true(userid("UNIX", id, sizeof id - 1) > 0);
}

static void test_length(void **state)
{
	static char id[USERID_MAX + 2];
	static char want[REPLY_MAX + 1];
	const char *head = "65535 , 65535 : USERID : OTHER : ";

	(void)state;
	memset(id, 'x', sizeof id);
	assert_int_equal(userid("UNIX", id, 0), -1);
	assert_int_equal(reply_format_userid(out, sizeof out, 1, 2, "UNIX", NULL, 1), -1);
	strcpy(want, head);
	memcpy(want + strlen(head), id, USERID_MAX);
	strcpy(want + strlen(head) + USERID_MAX, "\r\n");
	memset(out, 'Z', sizeof out);
	expect_output(reply_format_userid(out, sizeof out, 65535, 65535, "OTHER",
	                                  id, USERID_MAX), want);
	assert_int_equal(reply_format_userid(out, sizeof out, 65535, 65535, "OTHER",
	                                     id, USERID_MAX + 1), -1);
}

/* The longest reply we can write (longest opsys, ",UTF-8", 512 octets,
 * five-digit ports) fits REPLY_MAX. */
static void test_longest_fits(void **state)
{
	static char opsys[OPSYS_MAX + 1];
	static char id[USERID_MAX];
	static char big[REPLY_MAX + 1];

	(void)state;
	memset(opsys, 'A', OPSYS_MAX);
	for (size_t i = 0; i < USERID_MAX; i += 2)
		memcpy(id + i, "\xc3\xbc", 2);
	assert_int_equal(reply_format_userid(big, sizeof big, 65535, 65535, opsys,
	                                     id, USERID_MAX),
	                 25 + OPSYS_MAX + 6 + 3 + USERID_MAX + 2);
	assert_memory_equal(big + 25 + OPSYS_MAX, ",UTF-8 : \xc3\xbc", 11);
}

static void test_too_small(void **state)
{
	const char *want = "6193 , 23 : USERID : UNIX : alice\r\n";
	size_t len = strlen(want);

	(void)state;
	assert_int_equal(reply_format_userid(out, len + 1, 6193, 23, "UNIX",
	                                     "alice", 5), (int)len);
	assert_string_equal(out, want);
	assert_int_equal(reply_format_userid(out, len, 6193, 23, "UNIX",
	                                     "alice", 5), -1);
	assert_int_equal(reply_format_userid(out, 1, 6193, 23, "UNIX",
	                                     "alice", 5), -1);
	assert_int_equal(reply_format_userid(NULL, 0, 6193, 23, "UNIX",
	                                     "alice", 5), -1);
}

static void test_opsys(void **state)
{
	static char longest[OPSYS_MAX + 2];

	(void)state;
	expect_output(USERID("TOPS-20", "x"), "6193 , 23 : USERID : TOPS-20 : x\r\n");
	assert_int_equal(USERID(NULL, "x"), -1);
	assert_int_equal(USERID("", "x"), -1);
	assert_int_equal(USERID("UNIX,UTF-8", "x"), -1);
	assert_int_equal(USERID("UN:X", "x"), -1);
	assert_int_equal(USERID("UN X", "x"), -1);
	assert_int_equal(USERID("UNIX\r\n", "x"), -1);
	assert_int_equal(USERID("OS/2", "x"), -1);
	assert_int_equal(USERID("\xc3\xbc", "x"), -1);
	memset(longest, 'A', OPSYS_MAX);
	assert_true(USERID(longest, "x") > 0);
	longest[OPSYS_MAX] = 'A';
	assert_int_equal(USERID(longest, "x"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_too_small),
		cmocka_unit_test(test_userid),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_longest_fits),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_opsys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
