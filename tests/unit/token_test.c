/* Tokens: known-answer vectors for the message, the hash and base32, the
 * properties doc/design.md §5 promises, and the duration and time parsers.
 *
 * The vectors were computed independently of this code, in Python 3:
 *
 *   msg  = b'privident-token-v1' + struct.pack('>I', uid) + bytes([4 or 6])
 *          + socket.inet_pton(family, addr) + struct.pack('>q', period)
 *   hash = hashlib.blake2b(msg, key=bytes(range(32)), digest_size=32)
 *   token = a hand-written base32 of hash (its bits in groups of five,
 *          "abcdefghijklmnopqrstuvwxyz234567"), cut to the length;
 *          checked against base64.b32encode(hash).lower().rstrip('=')
 *   period = (1795255200 - 345600) // 604800 = 2967
 *          (2026-11-21T10:00:00Z in weekly periods from Monday
 *          1970-01-05; calendar.timegm for the times)
 *
 * crypto_generichash is BLAKE2b, keyed, with the output length as a
 * parameter, which is what hashlib.blake2b(key=, digest_size=) computes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "token.h"

#define NOW 1795255200       /* 2026-11-21T10:00:00Z */
#define PERIOD_NOW 2967      /* its weekly period */
#define WEEK (7u * 86400u)

static uint8_t key[TOKEN_KEY_BYTES];  /* 00 01 02 ... 1f */
static uint8_t v4[4], v4b[4], v6[16];

static int setup(void **st)
{
	(void)st;
	if (sodium_init() < 0)
		return -1;
	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	inet_pton(AF_INET, "192.0.2.7", v4);
	inet_pton(AF_INET, "198.51.100.1", v4b);
	inet_pton(AF_INET6, "2001:db8::7", v6);
	return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void kat_message(void **st)
{
	(void)st;
	uint8_t msg[TOKEN_MESSAGE_MAX];
	char h[2 * TOKEN_MESSAGE_MAX + 1];
	size_t n = token_message(msg, 1000, AF_INET, v4, PERIOD_NOW);

	hex(msg, n, h);
	assert_string_equal(h, "707269766964656e742d746f6b656e2d7631"  /* tag */
	                       "000003e8"                              /* uid */
	                       "04" "c0000207"                         /* 192.0.2.7 */
	                       "0000000000000b97");                    /* 2967 */
	assert_int_equal(token_message(msg, 1, AF_INET6, v6, 0), TOKEN_MESSAGE_MAX);
	assert_int_equal(token_message(msg, 1, AF_UNIX, v6, 0), 0);
}

static void kat_hash(void **st)
{
	(void)st;
	uint8_t msg[TOKEN_MESSAGE_MAX], hash[TOKEN_HASH_BYTES];
	char h[2 * TOKEN_HASH_BYTES + 1];
	size_t n = token_message(msg, 1000, AF_INET, v4, PERIOD_NOW);

	assert_int_equal(crypto_generichash(hash, sizeof(hash), msg, n, key,
	                                    sizeof(key)), 0);
	hex(hash, sizeof(hash), h);
	assert_string_equal(h, "e58a632286883027d8f59dcdc04bf3fe"
	                       "a19ff2544101e4687932f666120f2a66");
}

struct vector {
	uint32_t uid;
	int family;
	const uint8_t *addr;
	int64_t period;
	unsigned length;
	const char *token;
};

static void kat_tokens(void **st)
{
	(void)st;
	static const uint8_t zero[4] = {0};
	const struct vector vs[] = {
		{1000, AF_INET, v4, PERIOD_NOW, 16, "4wfggiugraycpwhv"},
		{1000, AF_INET, v4, PERIOD_NOW, 26, "4wfggiugraycpwhvtxg4as7t72"},
		/* The default: the 16 characters above (the old default), cut. */
		{1000, AF_INET, v4, PERIOD_NOW, TOKEN_LENGTH_DEFAULT, "4wfggiugra"},
		{1000, AF_INET, v4, PERIOD_NOW + 1, 16, "jua3ex4oytjmqonf"},
		{1000, AF_INET, v4b, PERIOD_NOW, 16, "ddcsljtiftspf7mh"},
		{1001, AF_INET, v4, PERIOD_NOW, 16, "bez33cbk6l47afoe"},
		{1000, AF_INET6, v6, PERIOD_NOW, 16, "mo67eqj3gagxtr2n"},
		{0, AF_INET, zero, 0, 8, "qires5k5"},
		{4294967294u, AF_INET6, v6, -1, 26, "5gg4khcpo7hhfhzs52z4gy523g"},
	};
	char tok[TOKEN_LENGTH_MAX + 1];

	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		assert_int_equal(token_make(key, vs[i].uid, vs[i].family, vs[i].addr,
		                            vs[i].period, vs[i].length, tok), 0);
		assert_string_equal(tok, vs[i].token);
	}
	/* Another key. */
	uint8_t other[TOKEN_KEY_BYTES];
	memset(other, 0xff, sizeof(other));
	assert_int_equal(token_make(other, 1000, AF_INET, v4, PERIOD_NOW, 16, tok), 0);
	assert_string_equal(tok, "36wsnoqfugbmyiho");
}

static void base32_rfc4648(void **st)
{
	(void)st;
	/* RFC 4648 §10, lower case, without the padding. */
	const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *out[] = {"", "my", "mzxq", "mzxw6", "mzxw6yq", "mzxw6ytb",
	                     "mzxw6ytboi"};
	char buf[16];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(token_base32((const uint8_t *)in[i], strlen(in[i]),
		                              strlen(out[i]), buf), 0);
		assert_string_equal(buf, out[i]);
	}
	/* A prefix is a prefix; more characters than the input holds: no. */
	assert_int_equal(token_base32((const uint8_t *)"foobar", 6, 3, buf), 0);
	assert_string_equal(buf, "mzx");
	assert_int_equal(token_base32((const uint8_t *)"foobar", 6, 11, buf), -1);
}

static void token_bad_arguments(void **st)
{
	(void)st;
	char tok[64];
	assert_int_equal(token_make(key, 1, AF_INET, v4, 0, TOKEN_LENGTH_MIN - 1, tok), -1);
	assert_int_equal(token_make(key, 1, AF_INET, v4, 0, TOKEN_LENGTH_MAX + 1, tok), -1);
	assert_int_equal(token_make(key, 1, AF_UNIX, v4, 0, 16, tok), -1);
}

/* doc/design.md §5: the same to one server for one period; unrelated to another
 * server, in another period, or under another key. */
static void token_properties(void **st)
{
	(void)st;
	char a[32], b[32], k2tok[32];
	uint8_t k2[TOKEN_KEY_BYTES];
	int64_t n = token_period_number(NOW, WEEK);

	token_make(key, 1000, AF_INET, v4, n, 16, a);
	/* Any other time in the same week, up to its last second: the same
	 * token. (NOW is a Saturday; the week ends on Sunday night.) */
	int64_t start, end;
	token_period_bounds(n, WEEK, &start, &end);
	assert_true(start <= NOW && NOW < end);
	token_make(key, 1000, AF_INET, v4, token_period_number(end - 1, WEEK), 16, b);
	assert_string_equal(a, b);
	token_make(key, 1000, AF_INET, v4, token_period_number(start, WEEK), 16, b);
	assert_string_equal(a, b);
	token_make(key, 1000, AF_INET, v4, token_period_number(end, WEEK), 16, b);
	assert_string_not_equal(a, b);
	token_make(key, 1000, AF_INET, v4, n, 16, b);
	assert_string_equal(a, b);
	token_make(key, 1000, AF_INET, v4b, n, 16, b);
	assert_string_not_equal(a, b);
	token_make(key, 1000, AF_INET, v4, n + 1, 16, b);
	assert_string_not_equal(a, b);
	memcpy(k2, key, sizeof(k2));
	k2[31] ^= 1;
	token_make(k2, 1000, AF_INET, v4, n, 16, k2tok);
	assert_string_not_equal(a, k2tok);
	/* An IPv4 querier and the v4-mapped IPv6 form would differ, which is
	 * why the helper always turns the latter into the former. */
	uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memcpy(mapped + 12, v4, 4);
	token_make(key, 1000, AF_INET6, mapped, n, 16, b);
	assert_string_not_equal(a, b);
}

/* The token is a hash, not an encoding: no uid shows through. Checked for
 * every uid with 3 or more digits up to 20000 (shorter ones are too likely
 * to appear by chance, as any 2-character string would). */
static void token_hides_uid(void **st)
{
	(void)st;
	char tok[32], num[16];

	for (uint32_t uid = 100; uid < 20000; uid++) {
		token_make(key, uid, AF_INET, v4, PERIOD_NOW, TOKEN_LENGTH_DEFAULT, tok);
		snprintf(num, sizeof(num), "%u", uid);
		assert_null(strstr(tok, num));
		assert_int_equal(strspn(tok, "abcdefghijklmnopqrstuvwxyz234567"),
		                 TOKEN_LENGTH_DEFAULT);
	}
}

/* Nor does any name: the name is not an input at all, so a name shows up
 * in a token only by chance. A set of names, each with a uid, over two
 * years of weekly periods and three queriers, at the longest length (a
 * shorter token is a prefix of it, checked too). The names have four
 * letters or more: then the odds of a chance hit anywhere in these 5670
 * tokens are about one in seventy (a four-letter name: 23 places in 32^4),
 * and with this fixed key there is none. Nor is there the name's own
 * base32 text, which an encoding, rather than a hash, would carry. */
static void token_hides_name(void **st)
{
	(void)st;
	static const struct { const char *name; uint32_t uid; } users[] = {
		{"root", 0}, {"daemon", 1}, {"nobody", 65534}, {"alice", 1000},
		{"bobby", 1001}, {"carol", 1002}, {"mallory", 1003},
		{"admin", 1004}, {"guest", 1005}, {"postgres", 114},
		{"privident", 999}, {"aaaaaaaa", 2000}, {"zzzzzzzz", 2001},
		{"user", 4242}, {"www-data", 33}, {"privident-t1", 995},
		{"Alice", 1006}, {"abc234567", 1007},
	};
	const uint8_t *peers[] = {v4, v4b, v6};
	const int families[] = {AF_INET, AF_INET, AF_INET6};
	char tok[TOKEN_LENGTH_MAX + 1], shorter[TOKEN_LENGTH_MAX + 1];
	char lower[64], enc[128];
	unsigned checked = 0;

	for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
		const char *name = users[u].name;
		size_t n = strlen(name);

		assert_true(n >= 4 && n < sizeof(lower));
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z'
			                  ? name[i] - 'A' + 'a' : name[i]);
		assert_int_equal(token_base32((const uint8_t *)name, n,
		                              (n * 8 + 4) / 5, enc), 0);
		for (int64_t p = PERIOD_NOW - 52; p <= PERIOD_NOW + 52; p++) {
			for (size_t a = 0; a < sizeof(peers) / sizeof(peers[0]); a++) {
				assert_int_equal(token_make(key, users[u].uid, families[a],
				                            peers[a], p, TOKEN_LENGTH_MAX,
				                            tok), 0);
				if (strstr(tok, lower) != NULL || strstr(tok, enc) != NULL)
					fail_msg("token %s of uid %u holds the name %s",
					         tok, users[u].uid, name);
				assert_int_equal(strspn(tok, "abcdefghijklmnopqrstuvwxyz234567"),
				                 TOKEN_LENGTH_MAX);
				if (p == PERIOD_NOW) {
					for (unsigned l = TOKEN_LENGTH_MIN; l < TOKEN_LENGTH_MAX; l++) {
						token_make(key, users[u].uid, families[a], peers[a],
						           p, l, shorter);
						assert_int_equal(strncmp(shorter, tok, l), 0);
					}
				}
				checked++;
			}
		}
	}
	assert_int_equal(checked, 18 * 105 * 3);
}

static void period_numbers(void **st)
{
	(void)st;
	int64_t start, end;
	char a[TOKEN_TIME_TEXT], b[TOKEN_TIME_TEXT];

	assert_int_equal(token_period_number(NOW, WEEK), PERIOD_NOW);
	assert_int_equal(token_period_number(NOW, TOKEN_PERIOD_NEVER), 0);
	assert_int_equal(token_period_number(TOKEN_EPOCH, WEEK), 0);
	assert_int_equal(token_period_number(TOKEN_EPOCH - 1, WEEK), -1);
	assert_int_equal(token_period_number(0, 86400), -4);
	/* Weeks start on Mondays, days at midnight UTC. */
	token_period_bounds(PERIOD_NOW, WEEK, &start, &end);
	token_format_time(start, a, sizeof(a));
	token_format_time(end, b, sizeof(b));
	assert_string_equal(a, "2026-11-16");
	assert_string_equal(b, "2026-11-23");
	token_period_bounds(token_period_number(NOW, 86400), 86400, &start, &end);
	assert_int_equal(start, 1795219200);  /* 2026-11-21T00:00:00Z */
	assert_int_equal(end, 1795219200 + 86400);
	token_period_bounds(token_period_number(NOW, 3600), 3600, &start, &end);
	token_format_time(start, a, sizeof(a));
	assert_string_equal(a, "2026-11-21T10:00:00Z");
}

static void parse_periods(void **st)
{
	(void)st;
	const struct { const char *s; unsigned v; } ok[] = {
		{"never", 0}, {"1h", 3600}, {"1d", 86400}, {"7d", WEEK},
		{"30d", 30 * 86400}, {"2w", 2 * WEEK}, {"366d", 366 * 86400},
		{"8784h", 8784 * 3600},
	};
	const char *bad[] = {"", "0d", "0h", "59m", "1", "d", "367d", "53w",
	                     "7D", " 7d", "7d ", "7dd", "-1d", "+1d",
	                     "99999999999999999999d", "Never", "1.5d"};
	unsigned v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(token_parse_period(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (token_parse_period(bad[i], &v) == 0)
			fail_msg("period '%s' was accepted", bad[i]);
}

static void parse_times(void **st)
{
	(void)st;
	const struct { const char *s; int64_t v; } ok[] = {
		{"0", 0}, {"1795255200", NOW}, {"2026-11-21", 1795219200},
		{"2026-11-21T10:00:00Z", NOW}, {"2026-11-21T10:00:00", NOW},
		{"2024-02-29T23:59:59Z", 1709251199}, {"1970-01-01", 0},
		{"9999-12-31T23:59:59Z", 253402300799},
	};
	const char *bad[] = {"", "abc", "-5", "+5", "2026-02-30", "2025-02-29",
	                     "2026-13-01", "2026-00-10", "2026-11-00",
	                     "2026-11-21T24:00:00", "2026-11-21 10:00:00",
	                     "2026-11-21T10:00", "2026-11-21T10:00:00ZZ",
	                     "2026-11-21T10:00:60Z", "1969-12-31", "26-11-21",
	                     "2026-1-21", "2026-11-21T", "253402300800",
	                     "2026-11-21Z", "1795255200Z"};
	int64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (token_parse_time(ok[i].s, &v) != 0)
			fail_msg("time '%s' was refused", ok[i].s);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (token_parse_time(bad[i], &v) == 0)
			fail_msg("time '%s' was accepted", bad[i]);
}

static void format_times(void **st)
{
	(void)st;
	char buf[TOKEN_TIME_TEXT];

	token_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01");
	token_format_time(1709251199, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T23:59:59Z");
	token_format_time(-86400, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31");
}

static void valid_text(void **st)
{
	(void)st;
	assert_true(token_valid_text("4wfggiugraycpwhv"));
	assert_true(token_valid_text("4WFGGIUGRAYCPWHV"));
	assert_true(token_valid_text("qires5k5"));
	assert_true(token_valid_text("4wfggiugraycpwhvtxg4as7t72"));
	assert_false(token_valid_text("qires5k"));                     /* 7 */
	assert_false(token_valid_text("4wfggiugraycpwhvtxg4as7t72a")); /* 27 */
	assert_false(token_valid_text("4wfggiugraycpwh1"));            /* 1 */
	assert_false(token_valid_text("4wfggiugraycpwh0"));
	assert_false(token_valid_text("4wfggiugraycpwh-"));
	assert_false(token_valid_text(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kat_message),
		cmocka_unit_test(kat_hash),
		cmocka_unit_test(kat_tokens),
		cmocka_unit_test(base32_rfc4648),
		cmocka_unit_test(token_bad_arguments),
		cmocka_unit_test(token_properties),
		cmocka_unit_test(token_hides_uid),
		cmocka_unit_test(token_hides_name),
		cmocka_unit_test(period_numbers),
		cmocka_unit_test(parse_periods),
		cmocka_unit_test(parse_times),
		cmocka_unit_test(format_times),
		cmocka_unit_test(valid_text),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
