/* Per-host counting: limits, IPv6 /64 grouping, and deletion under heavy
 * churn keeping every entry reachable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"

static void key4(const char *s, uint8_t k[HOST_KEY_LEN])
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	host_key(AF_INET, &a, k);
}

static void key6(const char *s, uint8_t k[HOST_KEY_LEN])
{
	struct in6_addr a;
	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	host_key(AF_INET6, &a, k);
}

static void limit_per_host(void **st)
{
	(void)st;
	struct host_table t;
	uint8_t a[HOST_KEY_LEN], b[HOST_KEY_LEN];

	assert_int_equal(hosts_init(&t, 8), 0);
	key4("192.0.2.1", a);
	key4("192.0.2.2", b);
	assert_int_equal(hosts_add(&t, a, 2), 0);
	assert_int_equal(hosts_add(&t, a, 2), 0);
	assert_int_equal(hosts_add(&t, a, 2), -1);
	assert_int_equal(hosts_count(&t, a), 2);
	assert_int_equal(hosts_add(&t, b, 2), 0);
	hosts_del(&t, a);
	assert_int_equal(hosts_add(&t, a, 2), 0);
	assert_int_equal(hosts_count(&t, b), 1);
	hosts_free(&t);
}

static void ipv6_groups_by_64(void **st)
{
	(void)st;
	uint8_t a[HOST_KEY_LEN], b[HOST_KEY_LEN], c[HOST_KEY_LEN], m[HOST_KEY_LEN], v4[HOST_KEY_LEN];

	key6("2001:db8:1:2::1", a);
	key6("2001:db8:1:2:ffff::9", b);
	key6("2001:db8:1:3::1", c);
	assert_memory_equal(a, b, HOST_KEY_LEN);
	assert_memory_not_equal(a, c, HOST_KEY_LEN);
	/* A v4-mapped address is the IPv4 host, not a /64. */
	key6("::ffff:192.0.2.1", m);
	key4("192.0.2.1", v4);
	assert_memory_equal(m, v4, HOST_KEY_LEN);
	key6("::ffff:192.0.2.2", m);
	assert_memory_not_equal(m, v4, HOST_KEY_LEN);
}

/* Many hosts added and removed in a shuffled order: the counts stay
 * exact, which fails if a deletion breaks a probe run. */
static void churn(void **st)
{
	(void)st;
	enum { N = 2000 };
	struct host_table t;
	static uint8_t keys[N][HOST_KEY_LEN];
	static uint32_t count[N];

	assert_int_equal(hosts_init(&t, N), 0);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t a = htonl(0x0a000000u + i);
		host_key(AF_INET, &a, keys[i]);
	}
	srand(1);
	for (int step = 0; step < 200000; step++) {
		uint32_t i = (uint32_t)rand() % N;
		if (rand() % 2 && count[i] < 3) {
			assert_int_equal(hosts_add(&t, keys[i], 3), 0);
			count[i]++;
		} else if (count[i]) {
			hosts_del(&t, keys[i]);
			count[i]--;
		}
	}
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(hosts_count(&t, keys[i]), count[i]);
	hosts_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limit_per_host),
		cmocka_unit_test(ipv6_groups_by_64),
		cmocka_unit_test(churn),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
