/* libFuzzer target: privident-query's parser of the replies of untrusted
 * ident servers (ident_reply_parse in src/replyparse.c).
 *
 * Input: one reply line, as a server might send it.
 *
 * Checked: every field comes back NUL-terminated within its bound, a user
 * id holds no NUL, CR or LF, an error name is upper case; a failed parse
 * leaves nothing behind. And a round trip: a USERID reply that
 * reply_format_userid accepts (src/reply.c, what privident itself sends)
 * parses back to the same ports, operating system and user id, with
 * ",UTF-8" exactly when the user id is not ASCII.
 *
 * ident_visible, on the user id and on the raw input (up to USERID_MAX
 * octets): it fits IDENT_VISIBLE_MAX, its text holds no control octet,
 * reads back (undoing the escapes) to exactly the octets given, and is
 * left alone by a second pass except that its backslashes double: nothing
 * it shows as it is would itself be escaped. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "limits.h"
#include "reply.h"
#include "replyparse.h"

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		if (s[i])
			return false;
	return true;
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void check_fields(const struct ident_reply *r)
{
	FUZZ_CHECK(r->server_port <= 99999 && r->client_port <= 99999);
	FUZZ_CHECK(strnlen(r->opsys, sizeof r->opsys) < sizeof r->opsys);
	FUZZ_CHECK(strnlen(r->charset, sizeof r->charset) < sizeof r->charset);
	FUZZ_CHECK(strnlen(r->userid, sizeof r->userid) < sizeof r->userid);
	FUZZ_CHECK(strnlen(r->error, sizeof r->error) < sizeof r->error);
	if (r->is_userid) {
		FUZZ_CHECK(r->opsys[0] != '\0' && r->userid[0] != '\0');
		FUZZ_CHECK(strpbrk(r->userid, "\r\n") == NULL);
		FUZZ_CHECK(r->error[0] == '\0');
	} else {
		FUZZ_CHECK(r->error[0] != '\0' && r->userid[0] == '\0');
		for (const char *p = r->error; *p; p++)
			FUZZ_CHECK(!(*p >= 'a' && *p <= 'z'));
	}
}

static void round_trip(const struct ident_reply *r)
{
	char line[REPLY_MAX];
	struct ident_reply back;
	size_t ulen = strlen(r->userid);
	int n = reply_format_userid(line, sizeof line, r->server_port,
	                            r->client_port, r->opsys, r->userid, ulen);

	if (n < 0)
		return;  /* not something privident would send */
	FUZZ_CHECK((size_t)n < sizeof line && line[n] == '\0');
	FUZZ_CHECK(ident_reply_parse(line, (size_t)n, &back) == 0);
	FUZZ_CHECK(back.is_userid);
	FUZZ_CHECK(back.server_port == r->server_port &&
	           back.client_port == r->client_port);
	FUZZ_CHECK(strcmp(back.opsys, r->opsys) == 0);
	FUZZ_CHECK(strcmp(back.userid, r->userid) == 0);
	FUZZ_CHECK(strcmp(back.charset, ascii(r->userid) ? "" : "UTF-8") == 0);
}

/* One hex digit's value, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the hex digits at *p up to stop, advancing *p past them. */
static uint32_t hex(const char **p, char stop)
{
	uint32_t v = 0;

	for (; **p != stop; (*p)++) {
		FUZZ_CHECK(hexval(**p) >= 0 && v < 0x10000000u);
		v = v << 4 | (uint32_t)hexval(**p);
	}
	return v;
}

/* UTF-8 of cp (as ident_visible escaped it, at most U+10FFFF). */
static size_t put_utf8(uint32_t cp, uint8_t *o)
{
	FUZZ_CHECK(cp <= 0x10ffff);
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Undoes ident_visible's escapes into o; returns the length. */
static size_t unescape(const char *t, uint8_t *o)
{
	size_t n = 0;

	while (*t) {
		if (*t != '\\') {
			o[n++] = (uint8_t)*t++;
		} else if (t[1] == '\\') {
			o[n++] = '\\';
			t += 2;
		} else if (t[1] == 'x') {
			FUZZ_CHECK(hexval(t[2]) >= 0 && hexval(t[3]) >= 0);
			o[n++] = (uint8_t)(hexval(t[2]) << 4 | hexval(t[3]));
			t += 4;
		} else {
			FUZZ_CHECK(t[1] == 'u' && t[2] == '{');
			t += 3;
			n += put_utf8(hex(&t, '}'), o + n);
			t++;
		}
	}
	return n;
}

static void check_visible(const char *in, size_t len)
{
	static char out[IDENT_VISIBLE_MAX], again[2 * IDENT_VISIBLE_MAX];
	static uint8_t back[IDENT_VISIBLE_MAX];
	size_t n, slashes = 0;

	FUZZ_CHECK(ident_visible(in, len, out, sizeof out) == 0);
	n = strlen(out);
	FUZZ_CHECK(n < sizeof out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
		FUZZ_CHECK(!(c == 0xc2 && i + 1 < n &&
		             (unsigned char)out[i + 1] < 0xa1)); /* C1, NBSP */
		slashes += c == '\\';
	}
	FUZZ_CHECK(unescape(out, back) == len && memcmp(back, in, len) == 0);
	FUZZ_CHECK(ident_visible(out, n, again, sizeof again) == 0);
	FUZZ_CHECK(strlen(again) == n + slashes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ident_reply r;

	/* A sentinel, to see that a failure clears what it touched. */
	memset(&r, 0xa5, sizeof r);
	if (size <= USERID_MAX)
		check_visible((const char *)data, size);
	if (ident_reply_parse((const char *)data, size, &r) != 0) {
		FUZZ_CHECK(is_zero(&r, sizeof r));
		return 0;
	}
	check_fields(&r);
	if (r.is_userid) {
		round_trip(&r);
		check_visible(r.userid, strlen(r.userid));
	}
	return 0;
}
