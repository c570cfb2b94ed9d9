/* Unit tests for the client-side reply parser: the spellings real servers
 * use are read, anything that is not a reply is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "limits.h"
#include "reply.h"
#include "replyparse.h"

static struct ident_reply r;

static int parse(const char *line, size_t len)
{
	memset(&r, 'Z', sizeof r); /* no stale field may survive a parse */
	return ident_reply_parse(line, len, &r);
}

#define PARSE(lit) parse((lit), sizeof(lit) - 1)

static void expect_userid(const char *line, size_t len, unsigned sp,
                          unsigned cp, const char *opsys, const char *charset,
                          const char *userid)
{
	if (parse(line, len) != 0) {
		print_message("refused: \"%.*s\"\n", (int)len, line);
		fail();
	}
	assert_true(r.is_userid);
	assert_int_equal(r.server_port, sp);
	assert_int_equal(r.client_port, cp);
	assert_string_equal(r.opsys, opsys);
	assert_string_equal(r.charset, charset);
	assert_string_equal(r.userid, userid);
	assert_string_equal(r.error, "");
}

static void expect_error(const char *line, size_t len, unsigned sp,
                         unsigned cp, const char *error)
{
	if (parse(line, len) != 0) {
		print_message("refused: \"%.*s\"\n", (int)len, line);
		fail();
	}
	assert_false(r.is_userid);
	assert_int_equal(r.server_port, sp);
	assert_int_equal(r.client_port, cp);
	assert_string_equal(r.error, error);
	assert_string_equal(r.userid, "");
	assert_string_equal(r.opsys, "");
}

static void expect_refused(const char *line, size_t len)
{
	static const struct ident_reply zero;

	if (parse(line, len) != -1) {
		print_message("accepted: \"%.*s\"\n", (int)len, line);
		fail();
	}
	assert_memory_equal(&r, &zero, sizeof r);
}

#define USERID(lit, sp, cp, os, cs, id) \
	expect_userid((lit), sizeof(lit) - 1, (sp), (cp), (os), (cs), (id))
#define ERROR(lit, sp, cp, e) expect_error((lit), sizeof(lit) - 1, (sp), (cp), (e))
#define REFUSED(lit) expect_refused((lit), sizeof(lit) - 1)

static void test_rfc_examples(void **state)
{
	(void)state;
	USERID("6191, 23 : USERID : UNIX : stjohns\r\n", 6191, 23, "UNIX", "",
	       "stjohns");
	USERID("6193, 23 : USERID : UNIX : stjohns\r\n", 6193, 23, "UNIX", "",
	       "stjohns");
	ERROR("6195, 23 : ERROR : NO-USER\r\n", 6195, 23, "NO-USER");
}

static void test_server_variants(void **state)
{
	(void)state;
	/* oidentd */
	USERID("6193,23:USERID:UNIX:alice\r\n", 6193, 23, "UNIX", "", "alice");
	ERROR("6193,23:ERROR:HIDDEN-USER\r\n", 6193, 23, "HIDDEN-USER");
	/* Twisted */
	USERID("6193, 23 : USERID : UNIX : alice\r\n", 6193, 23, "UNIX", "",
	       "alice");
	/* privident itself */
	USERID("6193 , 23 : USERID : OTHER : K7QM\r\n", 6193, 23, "OTHER", "",
	       "K7QM");
	/* Blanks and tabs anywhere between tokens. */
	USERID("  6193\t ,\t23 \t:\t USERID\t: UNIX\t :\talice\r\n", 6193, 23,
	       "UNIX", "", "alice");
	ERROR("\t6193 , 23 :  ERROR\t:\tNO-USER \t\r\n", 6193, 23, "NO-USER");
	/* CR LF, LF, or no terminator at all. */
	USERID("6193,23:USERID:UNIX:alice\n", 6193, 23, "UNIX", "", "alice");
	USERID("6193,23:USERID:UNIX:alice", 6193, 23, "UNIX", "", "alice");
	ERROR("6193,23:ERROR:NO-USER\n", 6193, 23, "NO-USER");
	ERROR("6193,23:ERROR:NO-USER", 6193, 23, "NO-USER");
}

static void test_case_insensitive(void **state)
{
	(void)state;
	USERID("1,2:userid:UNIX:bob", 1, 2, "UNIX", "", "bob");
	USERID("1,2:UserId:UNIX:bob", 1, 2, "UNIX", "", "bob");
	ERROR("1,2:error:no-user", 1, 2, "NO-USER");
	ERROR("1,2:Error:Hidden-User", 1, 2, "HIDDEN-USER");
	ERROR("1,2:ERROR:invalid-port", 1, 2, "INVALID-PORT");
	ERROR("1,2:ERROR:Unknown-Error", 1, 2, "UNKNOWN-ERROR");
	/* RFC 1413 lets servers add "X" error names: any token is kept. */
	ERROR("1,2:ERROR:X-DENIED", 1, 2, "X-DENIED");
	ERROR("1,2:ERROR:x-denied", 1, 2, "X-DENIED");
}

static void test_charset_and_opsys(void **state)
{
	(void)state;
	USERID("1 , 2 : USERID : UNIX,UTF-8 : j\xc3\xbcrgen\r\n", 1, 2, "UNIX",
	       "UTF-8", "j\xc3\xbcrgen");
	USERID("1,2:USERID:OTHER , US-ASCII:x", 1, 2, "OTHER", "US-ASCII", "x");
	USERID("1,2:USERID:OS/2:x", 1, 2, "OS/2", "", "x");
	USERID("1,2:USERID:TOPS-20:x", 1, 2, "TOPS-20", "", "x");
}

static void test_userid_field(void **state)
{
	(void)state;
	/* Everything after the third colon, colons too. */
	USERID("1,2:USERID:UNIX:a:b:c\r\n", 1, 2, "UNIX", "", "a:b:c");
	USERID("1,2:USERID:UNIX::x", 1, 2, "UNIX", "", ":x");
	/* White space after the colon is the server's, inside is the user's. */
	USERID("1,2:USERID:UNIX: \t alice smith\r\n", 1, 2, "UNIX", "",
	       "alice smith");
	USERID("1,2:USERID:UNIX:alice \r\n", 1, 2, "UNIX", "", "alice ");
}

static void test_lengths(void **state)
{
	static char line[REPLY_MAX + 64];
	const char *head = "65535 , 65535 : USERID : UNIX : ";
	size_t h = strlen(head);

	(void)state;
	strcpy(line, head);
	memset(line + h, 'u', USERID_MAX);
	strcpy(line + h + USERID_MAX, "\r\n");
	assert_int_equal(parse(line, h + USERID_MAX + 2), 0);
	assert_int_equal(strlen(r.userid), USERID_MAX);
	assert_int_equal(r.userid[0], 'u');
	assert_int_equal(parse(line, h + USERID_MAX), 0);
	memset(line + h, 'u', USERID_MAX + 1);
	strcpy(line + h + USERID_MAX + 1, "\r\n");
	expect_refused(line, h + USERID_MAX + 3);

	/* Opsys and error names are bounded by OPSYS_MAX. */
	strcpy(line, "1,2:ERROR:");
	memset(line + 10, 'E', OPSYS_MAX);
	line[10 + OPSYS_MAX] = '\0';
	assert_int_equal(parse(line, 10 + OPSYS_MAX), 0);
	assert_int_equal(strlen(r.error), OPSYS_MAX);
	line[10 + OPSYS_MAX] = 'E';
	expect_refused(line, 10 + OPSYS_MAX + 1);
	strcpy(line, "1,2:USERID:");
	memset(line + 11, 'O', OPSYS_MAX + 1);
	strcpy(line + 11 + OPSYS_MAX + 1, ":x");
	expect_refused(line, strlen(line));
	line[11 + OPSYS_MAX] = ':';
	line[11 + OPSYS_MAX + 1] = 'x';
	assert_int_equal(parse(line, 11 + OPSYS_MAX + 2), 0);
	assert_int_equal(strlen(r.opsys), OPSYS_MAX);
}

/* The parser must agree with the formatter on everything privident sends. */
static void test_round_trip(void **state)
{
	char out[REPLY_MAX + 1];
	int n;

	(void)state;
	n = reply_format_userid(out, sizeof out, 6193, 23, "UNIX", "j\xc3\xbcrgen", 7);
	assert_true(n > 0);
	expect_userid(out, (size_t)n, 6193, 23, "UNIX", "UTF-8", "j\xc3\xbcrgen");
	for (int e = REPLY_INVALID_PORT; e <= REPLY_UNKNOWN_ERROR; e++) {
		n = reply_format_error(out, sizeof out, 0, 65535, (enum reply_error)e);
		assert_true(n > 0);
		expect_error(out, (size_t)n, 0, 65535,
		             reply_error_name((enum reply_error)e));
	}
}

static void test_malformed(void **state)
{
	(void)state;
	REFUSED("");
	REFUSED("\r\n");
	REFUSED("6193");
	REFUSED("6193, 23");
	REFUSED("6193, 23 :");
	REFUSED("6193, 23 : USERID");
	REFUSED("6193, 23 : USERID :");
	REFUSED("6193, 23 : USERID : UNIX");
	REFUSED("6193, 23 : USERID : UNIX :");
	REFUSED("6193, 23 : USERID : UNIX : \t \r\n");   /* empty user id */
	REFUSED("6193, 23 : USERID : : alice");
	REFUSED("6193, 23 : USERID : UNIX, : alice");
	REFUSED("6193, 23 : USERID : UNIX,UTF-8,X : alice");
	REFUSED("6193, 23 : USERID : UN IX : alice");
	REFUSED("6193, 23 : ERROR");
	REFUSED("6193, 23 : ERROR :");
	REFUSED("6193, 23 : ERROR : \r\n");
	REFUSED("6193, 23 : ERROR : NO USER");
	REFUSED("6193, 23 : ERROR : NO-USER : more");
	REFUSED("6193, 23 : ERROR : NO_USER");
	REFUSED("6193, 23 : ERRORS : NO-USER");
	REFUSED("6193, 23 : USERIDS : UNIX : alice");
	REFUSED("6193, 23 : HELLO : UNIX : alice");
	REFUSED("6193, 23 : : UNIX : alice");
	/* Ports: 1 to 5 digits, nothing else. */
	REFUSED(", 23 : ERROR : NO-USER");
	REFUSED("6193 : ERROR : NO-USER");
	REFUSED("6193, : ERROR : NO-USER");
	REFUSED("6193 23 : ERROR : NO-USER");
	REFUSED("6193,, 23 : ERROR : NO-USER");
	REFUSED("619x, 23 : ERROR : NO-USER");
	REFUSED("-1, 23 : ERROR : NO-USER");
	REFUSED("+1, 23 : ERROR : NO-USER");
	REFUSED("123456, 23 : ERROR : NO-USER");
	REFUSED("6193, 1234567 : ERROR : NO-USER");
	REFUSED("6193, 23 x : ERROR : NO-USER");
	/* NUL, CR, LF inside, or more than one line end. */
	REFUSED("6193, 23 : USERID : UNIX : al\0ice\r\n");
	REFUSED("6193, 23 : USERID : UNIX : al\rice\r\n");
	REFUSED("6193, 23 : USERID : UNIX : al\nice\r\n");
	REFUSED("6193, 23 : USERID : UNIX : alice\r\n\r\n");
	REFUSED("6193, 23 : USERID : UNIX : alice\n\n");
	REFUSED("6193, 23 : USERID : UNIX : alice\r\r\n");
	REFUSED("6193\0, 23 : ERROR : NO-USER");
	/* Neither the user id nor anything else may be a NULL line. */
	assert_int_equal(ident_reply_parse(NULL, 5, &r), -1);
}

/* Five digits pass even when out of range: the caller compares them with
 * the query it sent. */
static void test_port_values(void **state)
{
	(void)state;
	ERROR("0 , 0 : ERROR : INVALID-PORT", 0, 0, "INVALID-PORT");
	ERROR("99999,00023:ERROR:INVALID-PORT", 99999, 23, "INVALID-PORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_server_variants),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_charset_and_opsys),
		cmocka_unit_test(test_userid_field),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_port_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
