/* Log folding (src/lograte.c): a peer's first LOGRATE_BURST query lines in
 * a window are logged, the rest counted, and one summary per window gives
 * the count; peers are independent, an IPv6 /64 is one peer, and a full
 * table folds every further peer into "other". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lograte.h"

static struct lograte lr;

static void key4(const char *a, uint8_t out[HOST_KEY_LEN])
{
	uint8_t b[4];
	assert_int_equal(inet_pton(AF_INET, a, b), 1);
	struct host_keys k;
	host_keys(AF_INET, b, &k);
	memcpy(out, k.host, HOST_KEY_LEN);
}

static void key6(const char *a, uint8_t out[HOST_KEY_LEN])
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, a, b), 1);
	struct host_keys k;
	host_keys(AF_INET6, b, &k);
	memcpy(out, k.host, HOST_KEY_LEN);
}

/* Sends n lines of host at now; how many were logged. */
static unsigned lines(const uint8_t *host, unsigned n, uint64_t now)
{
	unsigned logged = 0;
	for (unsigned i = 0; i < n; i++)
		logged += lograte_admit(&lr, host, now);
	return logged;
}

static void burst_then_summary(void **st)
{
	(void)st;
	uint8_t a[HOST_KEY_LEN];
	struct lograte_summary s;
	char name[64];

	lograte_init(&lr);
	key4("192.0.2.7", a);
	assert_int_equal(lograte_next_ms(&lr, 0), -1);
	assert_int_equal(lines(a, LOGRATE_BURST, 1000), LOGRATE_BURST);
	/* Nothing folded: nothing due. */
	assert_int_equal(lograte_next_ms(&lr, 1000), -1);
	assert_int_equal(lines(a, 137, 1500), 0);
	assert_int_equal(lograte_next_ms(&lr, 1500), 500);
	assert_false(lograte_take(&lr, 1999, false, &s));
	assert_true(lograte_take(&lr, 2000, false, &s));
	assert_false(s.other);
	assert_int_equal(s.folded, 137);
	assert_int_equal(s.ms, 1000);
	assert_string_equal(lograte_peer_name(&s, name, sizeof(name)), "192.0.2.7");
	assert_false(lograte_take(&lr, 2000, false, &s));
	assert_int_equal(lograte_next_ms(&lr, 2000), -1);
	/* A new window, a new burst. */
	assert_int_equal(lines(a, LOGRATE_BURST + 1, 2001), LOGRATE_BURST);
}

static void peers_are_independent(void **st)
{
	(void)st;
	uint8_t a[HOST_KEY_LEN], b[HOST_KEY_LEN], c[HOST_KEY_LEN], d[HOST_KEY_LEN];
	struct lograte_summary s;
	char name[64];

	lograte_init(&lr);
	key4("192.0.2.7", a);
	key4("192.0.2.8", b);
	key6("2001:db8:1:2::1", c);
	key6("2001:db8:1:2:ffff::9", d);   /* the same /64 as c */
	assert_int_equal(lines(a, 100, 0), LOGRATE_BURST);
	assert_int_equal(lines(b, 10, 10), 10);
	assert_int_equal(lines(c, 15, 20), 15);
	assert_int_equal(lines(d, 15, 30), LOGRATE_BURST - 15);
	assert_true(lograte_take(&lr, 1000, false, &s));
	assert_int_equal(s.folded, 100 - LOGRATE_BURST);
	assert_false(lograte_take(&lr, 1000, false, &s));   /* c's window is on */
	assert_true(lograte_take(&lr, 1020, false, &s));
	assert_int_equal(s.folded, 30 - LOGRATE_BURST);
	assert_string_equal(lograte_peer_name(&s, name, sizeof(name)), "2001:db8:1:2::/64");
	assert_false(lograte_take(&lr, UINT64_MAX - 1, false, &s));
}

static void late_take_loses_nothing(void **st)
{
	(void)st;
	uint8_t a[HOST_KEY_LEN];
	struct lograte_summary s;

	lograte_init(&lr);
	key4("198.51.100.1", a);
	assert_int_equal(lines(a, 30, 0), LOGRATE_BURST);
	/* Over, but not yet taken: still counted into the same summary. */
	assert_int_equal(lines(a, 5, 1200), 0);
	assert_int_equal(lograte_next_ms(&lr, 1200), 0);
	assert_true(lograte_take(&lr, 1300, false, &s));
	assert_int_equal(s.folded, 30 - LOGRATE_BURST + 5);
	assert_int_equal(s.ms, 1300);
}

static void full_table_folds_into_other(void **st)
{
	(void)st;
	uint8_t k[HOST_KEY_LEN];
	struct lograte_summary s;
	char name[64], a[32];
	unsigned logged = 0, folded = 0, summaries = 0, other = 0;

	lograte_init(&lr);
	for (unsigned i = 0; i < LOGRATE_SLOTS; i++) {
		snprintf(a, sizeof(a), "10.0.%u.%u", i / 256, i % 256);
		key4(a, k);
		assert_int_equal(lines(k, 1, 0), 1);
	}
	/* Every slot is in a window: new peers share one more. */
	for (unsigned i = 0; i < 50; i++) {
		snprintf(a, sizeof(a), "10.1.%u.%u", i / 256, i % 256);
		key4(a, k);
		logged += lines(k, 1, 10);
	}
	assert_int_equal(logged, LOGRATE_BURST);
	/* A query with no known peer counts there too. */
	assert_false(lograte_admit(&lr, NULL, 20));
	while (lograte_take(&lr, 1020, false, &s)) {
		summaries++;
		if (s.other) {
			other++;
			folded += s.folded;
			assert_string_equal(lograte_peer_name(&s, name, sizeof(name)), "other");
		}
	}
	assert_int_equal(summaries, 1);
	assert_int_equal(other, 1);
	assert_int_equal(folded, 50 - LOGRATE_BURST + 1);
	/* The windows are over: slots are free for new peers again. */
	key4("10.2.0.1", k);
	assert_int_equal(lines(k, LOGRATE_BURST + 3, 1100), LOGRATE_BURST);
	assert_true(lograte_take(&lr, 2100, false, &s));
	assert_false(s.other);
	assert_int_equal(s.folded, 3);
}

static void all_at_exit(void **st)
{
	(void)st;
	uint8_t a[HOST_KEY_LEN], b[HOST_KEY_LEN];
	struct lograte_summary s;
	unsigned n = 0, folded = 0;

	lograte_init(&lr);
	key4("203.0.113.1", a);
	key4("203.0.113.2", b);
	lines(a, 25, 0);
	lines(b, 27, 100);
	assert_false(lograte_take(&lr, 300, false, &s));
	while (lograte_take(&lr, 300, true, &s)) {
		n++;
		folded += s.folded;
	}
	assert_int_equal(n, 2);
	assert_int_equal(folded, 5 + 7);
	assert_int_equal(lograte_next_ms(&lr, 300), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_summary),
		cmocka_unit_test(peers_are_independent),
		cmocka_unit_test(late_take_loses_nothing),
		cmocka_unit_test(full_table_folds_into_other),
		cmocka_unit_test(all_at_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
