/* Pseudonymous tokens: period numbers, the keyed hash and its base32 text.
 * Calendar arithmetic is done here by hand (days from a civil date), not
 * with mktime/gmtime, so nothing depends on the time zone or the locale. */
#include "token.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400
/* Dates accepted by token_parse_time: enough for any log a report may
 * quote, and small enough that no arithmetic below can overflow. */
#define YEAR_MIN 1970
#define YEAR_MAX 9999

static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Floor division: -1 / 7 is -1, not 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t token_period_number(int64_t now, unsigned period)
{
	if (period == TOKEN_PERIOD_NEVER)
		return 0;
	return floor_div(now - TOKEN_EPOCH, (int64_t)period);
}

void token_period_bounds(int64_t n, unsigned period, int64_t *start,
                         int64_t *end)
{
	*start = TOKEN_EPOCH + n * (int64_t)period;
	*end = *start + (int64_t)period;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, unsigned octets)
{
	for (unsigned i = 0; i < octets; i++)
		p[i] = (uint8_t)(v >> (8 * (octets - 1 - i)));
	return p + octets;
}

size_t token_message(uint8_t *buf, uint32_t uid, int family,
                     const uint8_t *addr, int64_t n)
{
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	uint8_t *p = buf;

	if (alen == 0)
		return 0;
	memcpy(p, TOKEN_TAG, sizeof(TOKEN_TAG) - 1);
	p += sizeof(TOKEN_TAG) - 1;
	p = put_be(p, uid, 4);
	*p++ = (uint8_t)(family == AF_INET ? 4 : 6);
	memcpy(p, addr, alen);
	p += alen;
	p = put_be(p, (uint64_t)n, 8);
	return (size_t)(p - buf);
}

int token_base32(const uint8_t *in, size_t inlen, size_t nchars, char *out)
{
	if (nchars > (inlen * 8 + 4) / 5)
		return -1;
	for (size_t i = 0; i < nchars; i++) {
		size_t bit = i * 5, byte = bit / 8, shift = bit % 8;
		/* The 5 bits may straddle two octets: read 16 bits, big-endian. */
		unsigned w = (unsigned)in[byte] << 8;
		if (byte + 1 < inlen)
			w |= in[byte + 1];
		out[i] = base32_alphabet[(w >> (11 - shift)) & 0x1f];
	}
	out[nchars] = '\0';
	return 0;
}

int token_make(const uint8_t key[TOKEN_KEY_BYTES], uint32_t uid, int family,
               const uint8_t *addr, int64_t n, unsigned length, char *out)
{
	uint8_t msg[TOKEN_MESSAGE_MAX], hash[TOKEN_HASH_BYTES];
	size_t len = token_message(msg, uid, family, addr, n);
	int r;

	if (len == 0 || length < TOKEN_LENGTH_MIN || length > TOKEN_LENGTH_MAX)
		return -1;
	if (crypto_generichash(hash, sizeof(hash), msg, len, key,
	                       TOKEN_KEY_BYTES) != 0)
		return -1;
	r = token_base32(hash, sizeof(hash), length, out);
	sodium_memzero(hash, sizeof(hash));
	return r;
}

int token_valid_text(const char *s)
{
	size_t n = strnlen(s, TOKEN_LENGTH_MAX + 1);

	if (n < TOKEN_LENGTH_MIN || n > TOKEN_LENGTH_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '\0' || strchr(base32_alphabet, ch) == NULL)
			return 0;
	}
	return 1;
}

/* Decimal digits only, at most max; *end gets the first other character. */
static bool parse_digits(const char *s, uint64_t max, uint64_t *out,
                         const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return false;
	}
	if (p == s)
		return false;
	*out = v;
	*end = p;
	return true;
}

int token_parse_period(const char *s, unsigned *out)
{
	static const struct { char unit; unsigned secs; } units[] = {
		{'h', 3600}, {'d', DAY}, {'w', 7 * DAY},
	};
	uint64_t v;
	const char *end;

	if (strcmp(s, "never") == 0) {
		*out = TOKEN_PERIOD_NEVER;
		return 0;
	}
	if (!parse_digits(s, TOKEN_PERIOD_MAX, &v, &end) || end[0] == '\0' ||
	    end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != end[0])
			continue;
		v *= units[i].secs;  /* <= TOKEN_PERIOD_MAX * 604800: no overflow */
		if (v < TOKEN_PERIOD_MIN || v > TOKEN_PERIOD_MAX)
			return -1;
		*out = (unsigned)v;
		return 0;
	}
	return -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian); H. Hinnant's
 * days_from_civil. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned days[] = {31, 28, 31, 30, 31, 30,
	                                31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Exactly width digits, at most max, then the character sep ('\0': end). */
static bool field(const char **s, unsigned width, uint64_t max, char sep,
                  uint64_t *out)
{
	const char *end;

	if (!parse_digits(*s, max, out, &end) || end - *s != (ptrdiff_t)width ||
	    *end != sep)
		return false;
	*s = sep ? end + 1 : end;
	return true;
}

/* "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" with an optional "Z". */
static int parse_iso(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	char day_end = n == 10 ? '\0' : 'T';
	char sec_end = n > 0 && s[n - 1] == 'Z' ? 'Z' : '\0';
	uint64_t y, mo, d, h = 0, mi = 0, sec = 0;

	if (!field(&s, 4, YEAR_MAX, '-', &y) || !field(&s, 2, 12, '-', &mo) ||
	    !field(&s, 2, 31, day_end, &d))
		return -1;
	if (day_end == 'T' &&
	    (!field(&s, 2, 23, ':', &h) || !field(&s, 2, 59, ':', &mi) ||
	     !field(&s, 2, 59, sec_end, &sec) || *s != '\0'))
		return -1;
	if (y < YEAR_MIN || mo < 1 || d < 1 ||
	    d > month_days((int64_t)y, (unsigned)mo))
		return -1;
	*out = days_from_civil((int64_t)y, (unsigned)mo, (unsigned)d) * DAY +
	       (int64_t)(h * 3600 + mi * 60 + sec);
	return 0;
}

int token_parse_time(const char *s, int64_t *out)
{
	/* Epoch seconds up to the end of YEAR_MAX. */
	const uint64_t epoch_max = 253402300799u;
	uint64_t v;
	const char *end;

	if (strchr(s, '-') != NULL)
		return parse_iso(s, out);
	if (!parse_digits(s, epoch_max, &v, &end) || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

void token_format_time(int64_t t, char *buf, size_t size)
{
	int64_t days = floor_div(t, DAY), y, secs = t - days * DAY;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	if (secs == 0)
		snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
	else
		snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02uZ",
		         (long long)y, m, d, (unsigned)(secs / 3600),
		         (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}
