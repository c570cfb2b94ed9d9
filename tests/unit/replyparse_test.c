/* Unit tests for the client-side reply parser: the spellings real servers
 * use are read, anything that is not a reply is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ---- ident_visible ------------------------------------------------------ */

/* in (len octets) is shown as want. */
static void visible(const char *in, size_t len, const char *want)
{
	static char out[IDENT_VISIBLE_MAX];

	memset(out, 'Z', sizeof out);
	assert_int_equal(ident_visible(in, len, out, sizeof out), 0);
	assert_string_equal(out, want);
}

#define VISIBLE(lit, want) visible((lit), sizeof(lit) - 1, (want))

/* UTF-8 of one code point, for the tables below. */
static size_t utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point in lo..hi, between two letters, is escaped. */
static void escaped_range(uint32_t lo, uint32_t hi)
{
	char in[8], want[32];

	for (uint32_t cp = lo; cp <= hi; cp++) {
		size_t n = utf8(cp, in + 1);

		in[0] = 'a';
		in[n + 1] = 'b';
		snprintf(want, sizeof want, "a\\u{%04X}b", (unsigned)cp);
		visible(in, n + 2, want);
	}
}

/* ... and every one here is shown as it is. */
static void kept_range(uint32_t lo, uint32_t hi)
{
	char in[8];

	for (uint32_t cp = lo; cp <= hi; cp++) {
		size_t n = utf8(cp, in);

		in[n] = '\0';
		visible(in, n, in);
	}
}

static void test_visible_plain(void **state)
{
	(void)state;
	VISIBLE("alice", "alice");
	VISIBLE("alice smith", "alice smith");
	VISIBLE("j\xc3\xbcrgen", "j\xc3\xbcrgen");              /* ü */
	VISIBLE("\xe5\xb1\xb1\xe7\x94\xb0", "\xe5\xb1\xb1\xe7\x94\xb0"); /* CJK */
	VISIBLE("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");       /* U+1F600 */
	VISIBLE("\xef\xbf\xbd", "\xef\xbf\xbd");               /* U+FFFD */
	VISIBLE("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");       /* U+10FFFF */
	VISIBLE("", "");
	kept_range(0x20, 0x5b);
	kept_range(0x5d, 0x7e);
	kept_range(0xa1, 0xac);
	kept_range(0xae, 0x34e);
	kept_range(0x2010, 0x2027);
}

/* The backslash, which starts every escape, is escaped itself. */
static void test_visible_backslash(void **state)
{
	(void)state;
	VISIBLE("DOMAIN\\user", "DOMAIN\\\\user");
	VISIBLE("\\u{202E}", "\\\\u{202E}");
	VISIBLE("\\x41", "\\\\x41");
}

static void test_visible_controls(void **state)
{
	(void)state;
	escaped_range(0x00, 0x1f);   /* C0 */
	escaped_range(0x7f, 0x7f);   /* DEL */
	escaped_range(0x80, 0x9f);   /* C1 */
	VISIBLE("\x1b[31mroot\x1b[0m", "\\u{001B}[31mroot\\u{001B}[0m");
	VISIBLE("evil\rroot", "evil\\u{000D}root");
	VISIBLE("a\tb", "a\\u{0009}b");
	VISIBLE("\xc2\x9b" "2J", "\\u{009B}2J");                 /* C1 CSI */
	visible("a\0b", 3, "a\\u{0000}b");
}

/* Bidirectional controls: they reorder what follows on the screen. */
static void test_visible_bidi(void **state)
{
	(void)state;
	escaped_range(0x200e, 0x200f);   /* LRM, RLM */
	escaped_range(0x202a, 0x202e);   /* LRE, RLE, PDF, LRO, RLO */
	escaped_range(0x2066, 0x2069);   /* LRI, RLI, FSI, PDI */
	escaped_range(0x061c, 0x061c);   /* ALM */
	/* "alice" written as RLO + "ecila": looks like alice, is not */
	VISIBLE("\xe2\x80\xae" "ecila", "\\u{202E}ecila");
}

/* Format characters and fillers that show as nothing. */
static void test_visible_invisible(void **state)
{
	(void)state;
	escaped_range(0x200b, 0x200d);   /* ZWSP, ZWNJ, ZWJ */
	escaped_range(0x2060, 0x2064);   /* word joiner, invisible operators */
	escaped_range(0x206a, 0x206f);
	escaped_range(0xfeff, 0xfeff);   /* BOM */
	escaped_range(0x180e, 0x180e);   /* Mongolian vowel separator */
	escaped_range(0x180b, 0x180f);
	escaped_range(0x00ad, 0x00ad);   /* soft hyphen */
	escaped_range(0x034f, 0x034f);
	escaped_range(0x115f, 0x1160);
	escaped_range(0x17b4, 0x17b5);
	escaped_range(0x3164, 0x3164);
	escaped_range(0xffa0, 0xffa0);
	escaped_range(0xfe00, 0xfe0f);   /* variation selectors */
	escaped_range(0xfff0, 0xfffb);
	escaped_range(0x1bca0, 0x1bca3);
	escaped_range(0x1d173, 0x1d17a);
	escaped_range(0xe0000, 0xe0fff); /* tags, selectors supplement */
	VISIBLE("ro\xe2\x80\x8bot", "ro\\u{200B}ot");
	VISIBLE("\xf3\xa0\x80\x81", "\\u{E0001}");
}

/* Spaces other than U+0020 look like it. */
static void test_visible_spaces(void **state)
{
	(void)state;
	escaped_range(0x00a0, 0x00a0);
	escaped_range(0x1680, 0x1680);
	escaped_range(0x2000, 0x200a);
	escaped_range(0x2028, 0x2029);   /* line and paragraph separators */
	escaped_range(0x202f, 0x202f);
	escaped_range(0x205f, 0x205f);
	escaped_range(0x3000, 0x3000);
	VISIBLE("john\xc2\xa0smith", "john\\u{00A0}smith");
}

/* Octets that are not well-formed UTF-8, each shown as \xHH. */
static void test_visible_invalid(void **state)
{
	(void)state;
	VISIBLE("\x80", "\\x80");                          /* lone continuation */
	VISIBLE("\xbf\xbf", "\\xBF\\xBF");
	VISIBLE("a\xe2\x80", "a\\xE2\\x80");               /* cut short */
	VISIBLE("\xe2\x80" "b", "\\xE2\\x80b");
	VISIBLE("\xf0\x9f\x98", "\\xF0\\x9F\\x98");
	VISIBLE("\xc3", "\\xC3");
	VISIBLE("\xc3\xc3\xbc", "\\xC3\xc3\xbc");           /* then a valid ü */
	VISIBLE("caf\xe9", "caf\\xE9");                    /* Latin-1 */
	VISIBLE("\xfe\xff", "\\xFE\\xFF");
	VISIBLE("\xf5\x80\x80\x80", "\\xF5\\x80\\x80\\x80");
	VISIBLE("\xff", "\\xFF");
}

/* Overlong forms, surrogates and values past U+10FFFF: each a way to
 * smuggle a character past a check, none of them UTF-8. */
static void test_visible_overlong(void **state)
{
	(void)state;
	VISIBLE("\xc0\xaf", "\\xC0\\xAF");                 /* '/' in 2 */
	VISIBLE("\xc1\xbf", "\\xC1\\xBF");
	VISIBLE("\xc0\x80", "\\xC0\\x80");                 /* NUL in 2 */
	VISIBLE("\xe0\x80\xaf", "\\xE0\\x80\\xAF");        /* '/' in 3 */
	VISIBLE("\xe0\x9f\xbf", "\\xE0\\x9F\\xBF");        /* U+07FF in 3 */
	VISIBLE("\xf0\x80\x80\xaf", "\\xF0\\x80\\x80\\xAF"); /* '/' in 4 */
	VISIBLE("\xf0\x8f\xbf\xbf", "\\xF0\\x8F\\xBF\\xBF"); /* U+FFFF in 4 */
	VISIBLE("\xe0\x81\x9b", "\\xE0\\x81\\x9B");        /* ESC [ smuggled */
	VISIBLE("\xed\xa0\x80", "\\xED\\xA0\\x80");        /* U+D800 */
	VISIBLE("\xed\xbf\xbf", "\\xED\\xBF\\xBF");        /* U+DFFF */
	VISIBLE("\xed\x9f\xbf", "\xed\x9f\xbf");           /* U+D7FF is fine */
	VISIBLE("\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"); /* U+110000 */
	VISIBLE("\xe0\xa0\x80", "\xe0\xa0\x80");           /* U+0800 is fine */
	VISIBLE("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");   /* U+10000 too */
}

/* The longest user id with the widest escape fits IDENT_VISIBLE_MAX; a
 * buffer too small gets whole escapes only, and -1. */
static void test_visible_room(void **state)
{
	static char in[USERID_MAX], out[IDENT_VISIBLE_MAX];
	char small[12];

	(void)state;
	memset(in, 0x1b, sizeof in);
	assert_int_equal(ident_visible(in, sizeof in, out, sizeof out), 0);
	assert_int_equal(strlen(out), IDENT_VISIBLE_MAX - 1);
	assert_int_equal(ident_visible(in, sizeof in, out, sizeof out - 1), -1);
	assert_int_equal(ident_visible("\x1b\x1b", 2, small, sizeof small), -1);
	assert_string_equal(small, "\\u{001B}");
	assert_int_equal(ident_visible("ab", 2, small, 3), 0);
	assert_string_equal(small, "ab");
	assert_int_equal(ident_visible("abc", 3, small, 3), -1);
	assert_string_equal(small, "ab");
	assert_int_equal(ident_visible("\xe2\x80\xae", 3, small, 3), -1);
	assert_string_equal(small, "");
	assert_int_equal(ident_visible("a", 1, small, 0), -1);
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
		cmocka_unit_test(test_visible_plain),
		cmocka_unit_test(test_visible_backslash),
		cmocka_unit_test(test_visible_controls),
		cmocka_unit_test(test_visible_bidi),
		cmocka_unit_test(test_visible_invisible),
		cmocka_unit_test(test_visible_spaces),
		cmocka_unit_test(test_visible_invalid),
		cmocka_unit_test(test_visible_overlong),
		cmocka_unit_test(test_visible_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
