/* libFuzzer target: the token module's readers of untrusted text
 * (src/token.c): token_valid_text, which privident-token reveal applies to
 * a token quoted in an abuse report; token_parse_period and
 * token_parse_time, which read --token-period, the configuration and the
 * times of a report; token_format_time, their printer; and token_base32 and
 * token_make with any lengths.
 *
 * Input: text, split into lines at '\n' (at most LINES_MAX). Every line is
 * given to each of the three text readers. The same bytes are also read as
 * binary: the first byte is a character count for token_base32 over the
 * rest, and (with the next ones) a token length, address family, uid and
 * key for token_make; the first eight bytes are a time for the printer.
 *
 * Checked, against reference readers written here independently of
 * token.c (by position and by counting days, not with its arithmetic):
 * - token_valid_text accepts exactly 8..26 characters of [a-zA-Z2-7];
 * - token_parse_period accepts exactly "never" or digits and one unit
 *   h/d/w of 1 h to 366 days, with that value, a whole number of hours;
 * - token_parse_time accepts exactly epoch seconds to the end of 9999, a
 *   real date of 1970..9999 "YYYY-MM-DD", or that with "THH:MM:SS" and an
 *   optional "Z", with that value;
 * - format(parse(x)) is canonical and parses back to the same value; so
 *   does format(t) for any t in range; and format never overruns;
 * - a parsed time lies in its period's bounds for a parsed period;
 * - token_base32 refuses exactly the counts past ceil(8 * inlen / 5),
 *   reads no byte past the input (ASan), and gives the reference's
 *   characters, each count's output a prefix of the next;
 * - token_make takes exactly lengths 8..26 and AF_INET/AF_INET6, and its
 *   tokens are valid text and prefixes of the longest one. */
#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "token.h"

#define LINES_MAX 16
#define DAY 86400
/* The last second of 9999-12-31, token_parse_time's upper bound. */
#define EPOCH_MAX INT64_C(253402300799)
/* Times given to the printer: about a billion years either side of 1970. */
#define ANY_TIME_MAX (INT64_C(1) << 55)

/* ---- references ---- */

static bool ref_b32_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '2' && c <= '7');
}

static bool ref_valid_text(const char *s)
{
	size_t n = strlen(s);

	if (n < TOKEN_LENGTH_MIN || n > TOKEN_LENGTH_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ref_b32_char(s[i]))
			return false;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* All of s[0..n) digits, n > 0; their value, or UINT64_MAX when it would
 * not fit in 15 digits (more than any bound here). */
static bool ref_number(const char *s, size_t n, uint64_t *v)
{
	size_t i = 0;

	if (n == 0)
		return false;
	for (size_t k = 0; k < n; k++)
		if (!is_digit(s[k]))
			return false;
	while (i < n && s[i] == '0')
		i++;
	*v = 0;
	if (n - i > 15) {
		*v = UINT64_MAX;
		return true;
	}
	for (; i < n; i++)
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	return true;
}

static bool ref_period(const char *s, unsigned *out)
{
	size_t n = strlen(s);
	uint64_t v, unit;

	if (strcmp(s, "never") == 0) {
		*out = 0;
		return true;
	}
	if (n < 2 || !ref_number(s, n - 1, &v))
		return false;
	switch (s[n - 1]) {
	case 'h': unit = 3600; break;
	case 'd': unit = DAY; break;
	case 'w': unit = 7 * DAY; break;
	default: return false;
	}
	if (v > TOKEN_PERIOD_MAX)  /* also keeps v * unit from overflowing */
		return false;
	v *= unit;
	if (v < 3600 || v > 366u * DAY)
		return false;
	*out = (unsigned)v;
	return true;
}

static int64_t leaps_through(int64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

static bool ref_leap(int64_t y)
{
	return leaps_through(y) - leaps_through(y - 1) == 1;
}

/* Days from 1970-01-01 to y-m-d, y >= 1970, by counting. */
static int64_t ref_days(int64_t y, unsigned m, unsigned d)
{
	static const unsigned before[] = { 0, 31, 59, 90, 120, 151, 181, 212,
	                                   243, 273, 304, 334 };
	int64_t days = 365 * (y - 1970) + leaps_through(y - 1) - leaps_through(1969);

	return days + before[m - 1] + (m > 2 && ref_leap(y)) + d - 1;
}

static unsigned ref_month_days(int64_t y, unsigned m)
{
	if (m == 2)
		return ref_leap(y) ? 29 : 28;
	return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/* The digits of s at positions [at, at + n): all there, and their value. */
static bool ref_field(const char *s, size_t at, size_t n, uint64_t *v)
{
	return ref_number(s + at, n, v);
}

static bool ref_time(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	uint64_t y, mo, d, h = 0, mi = 0, sec = 0;

	if (strchr(s, '-') == NULL) {
		uint64_t v;

		if (!ref_number(s, n, &v) || v > (uint64_t)EPOCH_MAX)
			return false;
		*out = (int64_t)v;
		return true;
	}
	if (n != 10 && n != 19 && n != 20)
		return false;
	if (!ref_field(s, 0, 4, &y) || s[4] != '-' || !ref_field(s, 5, 2, &mo) ||
	    s[7] != '-' || !ref_field(s, 8, 2, &d))
		return false;
	if (n > 10 && (s[10] != 'T' || !ref_field(s, 11, 2, &h) || s[13] != ':' ||
	               !ref_field(s, 14, 2, &mi) || s[16] != ':' ||
	               !ref_field(s, 17, 2, &sec) || (n == 20 && s[19] != 'Z')))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > ref_month_days((int64_t)y, (unsigned)mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return false;
	*out = ref_days((int64_t)y, (unsigned)mo, (unsigned)d) * DAY +
	       (int64_t)(h * 3600 + mi * 60 + sec);
	return true;
}

/* RFC 4648 base32, one bit at a time. */
static void ref_base32(const uint8_t *in, size_t inlen, size_t nchars, char *out)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

	for (size_t i = 0; i < nchars; i++) {
		unsigned v = 0;

		for (size_t b = i * 5; b < i * 5 + 5; b++) {
			unsigned bit = 0;

			/* Bits past the input's last octet are zero padding. */
			if (b / 8 < inlen)
				bit = (in[b / 8] >> (7 - b % 8)) & 1;
			v = v << 1 | bit;
		}
		out[i] = alphabet[v];
	}
	out[nchars] = '\0';
}

/* ---- the checks ---- */

static void check_valid_text(const char *line)
{
	FUZZ_CHECK(!!token_valid_text(line) == ref_valid_text(line));
}

static bool check_period(const char *line, unsigned *period)
{
	unsigned got = 0, want = 0;
	int r = token_parse_period(line, &got);

	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK((r == 0) == ref_period(line, &want));
	if (r != 0)
		return false;
	FUZZ_CHECK(got == want);
	FUZZ_CHECK(got == TOKEN_PERIOD_NEVER ||
	           (got >= TOKEN_PERIOD_MIN && got <= TOKEN_PERIOD_MAX &&
	            got % 3600 == 0));
	*period = got;
	return true;
}

/* format(t) is "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" and parses back. */
static void check_format(int64_t t)
{
	char buf[TOKEN_TIME_TEXT + 8];
	int64_t back = -1, ref = -2;
	size_t n;

	memset(buf, 0x55, sizeof buf);
	token_format_time(t, buf, TOKEN_TIME_TEXT);
	n = strnlen(buf, TOKEN_TIME_TEXT);
	FUZZ_CHECK(n < TOKEN_TIME_TEXT);
	for (size_t i = TOKEN_TIME_TEXT; i < sizeof buf; i++)
		FUZZ_CHECK(buf[i] == 0x55);
	FUZZ_CHECK(n == (t % DAY == 0 ? 10u : 20u));
	FUZZ_CHECK(token_parse_time(buf, &back) == 0);
	FUZZ_CHECK(back == t);
	FUZZ_CHECK(ref_time(buf, &ref) && ref == t);
}

static bool check_time(const char *line, int64_t *t)
{
	int64_t got = 0, want = 0;
	int r = token_parse_time(line, &got);

	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK((r == 0) == ref_time(line, &want));
	if (r != 0)
		return false;
	FUZZ_CHECK(got == want);
	FUZZ_CHECK(got >= 0 && got <= EPOCH_MAX);
	check_format(got);
	*t = got;
	return true;
}

static void check_period_of(int64_t t, unsigned period)
{
	int64_t n = token_period_number(t, period), start, end;

	if (period == TOKEN_PERIOD_NEVER) {
		FUZZ_CHECK(n == 0);
		return;
	}
	token_period_bounds(n, period, &start, &end);
	FUZZ_CHECK(start <= t && t < end);
	FUZZ_CHECK(end - start == (int64_t)period);
	FUZZ_CHECK((start - TOKEN_EPOCH) % (int64_t)period == 0);
}

/* The printer on times far either side of what it is given (privident-token
 * formats period bounds, which may lie a period before 1970 or after 9999):
 * bounded output, even into a short buffer; and a round trip in range. */
static void check_any_time(const uint8_t *data, size_t size)
{
	char buf[TOKEN_TIME_TEXT], tiny[5];
	uint64_t u = 0;
	int64_t t;

	for (size_t i = 0; i < 8 && i < size; i++)
		u = u << 8 | data[i];
	t = (int64_t)(u % (uint64_t)(2 * ANY_TIME_MAX + 1)) - ANY_TIME_MAX;
	token_format_time(t, buf, sizeof buf);
	FUZZ_CHECK(strnlen(buf, sizeof buf) < sizeof buf);
	token_format_time(t, tiny, sizeof tiny);
	FUZZ_CHECK(strnlen(tiny, sizeof tiny) < sizeof tiny);
	check_format((int64_t)(u % (uint64_t)(EPOCH_MAX + 1)));
}

/* token_base32 over data[1..size) with data[0] characters, and the limit
 * either side. An exact-size copy, so that ASan sees a read past it. */
static void check_base32(const uint8_t *data, size_t size)
{
	size_t inlen = size - 1, limit = (inlen * 8 + 4) / 5;
	size_t counts[] = { data[0], limit, limit + 1 };
	uint8_t *in = malloc(inlen ? inlen : 1);
	char *prev = NULL;

	FUZZ_CHECK(in != NULL);
	memcpy(in, data + 1, inlen);
	for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
		size_t n = counts[k];
		char *out = malloc(n + 1), *ref = malloc(n + 1);
		int r;

		FUZZ_CHECK(out != NULL && ref != NULL);
		memset(out, '?', n + 1);
		r = token_base32(in, inlen, n, out);
		FUZZ_CHECK(r == (n <= limit ? 0 : -1));
		if (r == 0) {
			ref_base32(in, inlen, n, ref);
			FUZZ_CHECK(memcmp(out, ref, n + 1) == 0);
			if (n >= TOKEN_LENGTH_MIN && n <= TOKEN_LENGTH_MAX)
				FUZZ_CHECK(token_valid_text(out));
			/* Of two counts, the shorter output is a prefix. */
			if (prev != NULL) {
				size_t a = strlen(prev), b = strlen(out);
				FUZZ_CHECK(strncmp(prev, out, a < b ? a : b) == 0);
			}
			free(prev);
			prev = out;
		} else {
			free(out);
		}
		free(ref);
	}
	free(prev);
	free(in);
}

static void check_make(const uint8_t *data, size_t size)
{
	uint8_t key[TOKEN_KEY_BYTES] = { 0 }, addr[16] = { 0 };
	char tok[TOKEN_LENGTH_MAX + 1], longest[TOKEN_LENGTH_MAX + 1];
	unsigned length = data[0] % 32;
	int family = size > 1 && (data[1] & 1) ? AF_INET6 : AF_INET;
	uint32_t uid = 0;
	int64_t n = 0;
	int r;

	if (size > 1 && data[1] % 7 == 3)
		family = AF_UNIX;  /* no token for another family */
	for (size_t i = 2; i < size && i < 6; i++)
		uid = uid << 8 | data[i];
	for (size_t i = 6; i < size && i < 14; i++)
		n = (int64_t)((uint64_t)n << 8 | data[i]);
	memcpy(addr, data, size < sizeof addr ? size : sizeof addr);
	memcpy(key, data, size < sizeof key ? size : sizeof key);

	memset(tok, '?', sizeof tok);
	r = token_make(key, uid, family, addr, n, length, tok);
	FUZZ_CHECK(r == (length >= TOKEN_LENGTH_MIN && length <= TOKEN_LENGTH_MAX &&
	                 family != AF_UNIX ? 0 : -1));
	if (r != 0)
		return;
	FUZZ_CHECK(strnlen(tok, sizeof tok) == length);
	FUZZ_CHECK(token_valid_text(tok));
	FUZZ_CHECK(token_make(key, uid, family, addr, n, TOKEN_LENGTH_MAX,
	                      longest) == 0);
	FUZZ_CHECK(strncmp(tok, longest, length) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *text, *lines[LINES_MAX], *p;
	size_t nlines = 0;
	unsigned period = 0;
	int64_t t = 0;
	bool have_period = false, have_time = false;

	if (!ready) {
		FUZZ_CHECK(sodium_init() >= 0);
		ready = true;
	}
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	/* A NUL ends a line's text, as it would in argv or a file read as a
	 * string; the next line starts after the next '\n' all the same. */
	for (p = text; nlines < LINES_MAX;) {
		char *nl = memchr(p, '\n', (size_t)(text + size - p));

		lines[nlines++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	for (size_t i = 0; i < nlines; i++) {
		check_valid_text(lines[i]);
		if (check_period(lines[i], &period))
			have_period = true;
		if (check_time(lines[i], &t))
			have_time = true;
	}
	if (have_period && have_time)
		check_period_of(t, period);
	free(text);

	check_any_time(data, size);
	if (size >= 1) {
		check_base32(data, size);
		check_make(data, size);
	}
	return 0;
}
