/* Who holds the connection table: the keys (IPv4, IPv4-mapped, 6to4, IPv6
 * /64 hosts and /48 sites), the per-host limit and the site share, and the
 * bookkeeping that picks the connection to close when the table is full,
 * checked step by step against a plain model under heavy churn. */
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
#include "limits.h"

static void keys_of(const char *s, struct host_keys *k)
{
	unsigned char a[16];

	if (strchr(s, ':')) {
		assert_int_equal(inet_pton(AF_INET6, s, a), 1);
		host_keys(AF_INET6, a, k);
	} else {
		assert_int_equal(inet_pton(AF_INET, s, a), 1);
		host_keys(AF_INET, a, k);
	}
}

static void assert_same(const char *a, const char *b, int host, int site)
{
	struct host_keys ka, kb;

	keys_of(a, &ka);
	keys_of(b, &kb);
	if (host)
		assert_memory_equal(ka.host, kb.host, HOST_KEY_LEN);
	else
		assert_memory_not_equal(ka.host, kb.host, HOST_KEY_LEN);
	if (site)
		assert_memory_equal(ka.site, kb.site, HOST_KEY_LEN);
	else
		assert_memory_not_equal(ka.site, kb.site, HOST_KEY_LEN);
}

/* ---- keys ---- */

static void keys_ipv4_and_what_embeds_it(void **st)
{
	(void)st;
	struct host_keys k;

	keys_of("192.0.2.1", &k);
	assert_memory_equal(k.host, k.site, HOST_KEY_LEN);
	assert_same("192.0.2.1", "192.0.2.2", 0, 0);
	/* IPv4-mapped: the IPv4 address */
	assert_same("192.0.2.1", "::ffff:192.0.2.1", 1, 1);
	assert_same("::ffff:192.0.2.2", "192.0.2.1", 0, 0);
	/* 6to4: 2002:c000:0201::/48 is 192.0.2.1, whatever the subnet and
	 * interface bits */
	assert_same("192.0.2.1", "2002:c000:201::1", 1, 1);
	assert_same("192.0.2.1", "2002:c000:201:ffff:1:2:3:4", 1, 1);
	assert_same("192.0.2.2", "2002:c000:201::1", 0, 0);
	assert_same("2002:c000:201::", "2002:c000:202::", 0, 0);
	/* IPv4-compatible (::a.b.c.d) is not special: the /64 ::/64 */
	assert_same("192.0.2.1", "::192.0.2.1", 0, 0);
	assert_same("::192.0.2.1", "::192.0.2.2", 1, 1);
	/* one bit next to the prefixes */
	assert_same("2003:c000:201::1", "192.0.2.1", 0, 0);
	assert_same("::fffe:192.0.2.1", "192.0.2.1", 0, 0);
}

static void keys_ipv6_host_64_site_48(void **st)
{
	(void)st;
	struct host_keys k;

	assert_same("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", 1, 1);
	assert_same("2001:db8:1:2::1", "2001:db8:1:3::1", 0, 1);
	assert_same("2001:db8:1:ffff::1", "2001:db8:1::1", 0, 1);
	assert_same("2001:db8:1::1", "2001:db8:2::1", 0, 0);
	/* A /48 site and the /64 with the same leading bits are different
	 * keys, and neither is any IPv4 key. */
	keys_of("2001:db8:1::1", &k);
	assert_memory_not_equal(k.host, k.site, HOST_KEY_LEN);
	keys_of("::1", &k);
	assert_memory_not_equal(k.host, k.site, HOST_KEY_LEN);
	assert_same("::1", "0.0.0.0", 0, 0);
	assert_same("::ffff:0:0", "0.0.0.0", 1, 1);
}

/* ---- limits ---- */

static void limit_per_host(void **st)
{
	(void)st;
	struct host_table t;
	struct host_keys a, b;

	assert_int_equal(hosts_init(&t, 8, 2), 0);
	keys_of("192.0.2.1", &a);
	keys_of("192.0.2.2", &b);
	assert_int_equal(hosts_admit(&t, &a), HOSTS_OK);
	assert_int_equal(hosts_add(&t, 0, &a), 0);
	assert_int_equal(hosts_add(&t, 1, &a), 0);
	assert_int_equal(hosts_admit(&t, &a), HOSTS_OVER_HOST);
	assert_int_equal(hosts_count(&t, a.host), 2);
	assert_int_equal(hosts_admit(&t, &b), HOSTS_OK);
	assert_int_equal(hosts_add(&t, 2, &b), 0);
	hosts_del(&t, 0);
	assert_int_equal(hosts_admit(&t, &a), HOSTS_OK);
	assert_int_equal(hosts_count(&t, a.host), 1);
	assert_int_equal(hosts_count(&t, b.host), 1);
	/* a slot counted twice, or out of range, is refused */
	assert_int_equal(hosts_add(&t, 1, &b), -1);
	assert_int_equal(hosts_add(&t, 8, &b), -1);
	assert_int_equal(hosts_count(&t, b.host), 1);
	hosts_del(&t, 0);     /* not counted: nothing happens */
	hosts_del(&t, 99);
	assert_int_equal(hosts_count(&t, a.host), 1);
	hosts_free(&t);
}

static void ipv6_site_share(void **st)
{
	(void)st;
	struct host_table t;
	struct host_keys k;
	char addr[64];
	uint32_t conn = 0;

	assert_int_equal(hosts_init(&t, 64, 2), 0);
	/* SITE_SHARE x 2 connections from one /48, two from each /64 */
	for (int net = 0; net < SITE_SHARE; net++) {
		snprintf(addr, sizeof(addr), "2001:db8:5:%x::1", net);
		keys_of(addr, &k);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(hosts_admit(&t, &k), HOSTS_OK);
			assert_int_equal(hosts_add(&t, conn++, &k), 0);
		}
		assert_int_equal(hosts_admit(&t, &k), HOSTS_OVER_HOST);
	}
	assert_int_equal(hosts_count(&t, k.site), 2 * SITE_SHARE);
	assert_int_equal(hosts_top(&t), 2 * SITE_SHARE);
	/* a fresh /64 of the same /48 is over the site's share */
	keys_of("2001:db8:5:ffff::1", &k);
	assert_int_equal(hosts_count(&t, k.host), 0);
	assert_int_equal(hosts_admit(&t, &k), HOSTS_OVER_SITE);
	/* another /48 is not, and an IPv4 host has no share beyond its own */
	keys_of("2001:db8:6::1", &k);
	assert_int_equal(hosts_admit(&t, &k), HOSTS_OK);
	keys_of("198.51.100.1", &k);
	assert_int_equal(hosts_add(&t, conn++, &k), 0);
	assert_int_equal(hosts_add(&t, conn++, &k), 0);
	assert_int_equal(hosts_admit(&t, &k), HOSTS_OVER_HOST);
	/* one of the site's connections gone: the fresh /64 may come in */
	hosts_del(&t, 0);
	keys_of("2001:db8:5:ffff::1", &k);
	assert_int_equal(hosts_admit(&t, &k), HOSTS_OK);
	hosts_free(&t);
}

/* ---- making room ---- */

static void victim_is_the_biggest_holders_longest_idle(void **st)
{
	(void)st;
	struct host_table t;
	struct host_keys a, b, c, d;

	assert_int_equal(hosts_init(&t, 6, 8), 0);
	keys_of("192.0.2.1", &a);
	keys_of("2001:db8:1:1::1", &b);
	keys_of("2001:db8:2::1", &c);
	keys_of("2002:c000:204::1", &d);    /* 192.0.2.4 */
	assert_int_equal(hosts_victim(&t, &a), HOSTS_NONE);   /* nobody holds any */
	/* a: 0 1 2, b: 3 4 (from two /64s of one /48), c: 5 */
	assert_int_equal(hosts_add(&t, 0, &a), 0);
	assert_int_equal(hosts_add(&t, 1, &a), 0);
	assert_int_equal(hosts_add(&t, 2, &a), 0);
	assert_int_equal(hosts_add(&t, 3, &b), 0);
	keys_of("2001:db8:1:2::1", &b);
	assert_int_equal(hosts_add(&t, 4, &b), 0);
	assert_int_equal(hosts_add(&t, 5, &c), 0);
	assert_int_equal(hosts_top(&t), 3);
	/* a newcomer holding none, or fewer than a, takes a's oldest */
	assert_int_equal(hosts_victim(&t, &d), 0);
	assert_int_equal(hosts_victim(&t, &c), 0);
	assert_int_equal(hosts_victim(&t, &b), 0);
	/* a holds the most: a gets nothing */
	assert_int_equal(hosts_victim(&t, &a), HOSTS_NONE);
	/* activity moves a connection to the back */
	hosts_touch(&t, 0);
	assert_int_equal(hosts_victim(&t, &d), 1);
	hosts_touch(&t, 1);
	assert_int_equal(hosts_victim(&t, &d), 2);
	/* a down to 2: b came to 2 first, so b's oldest goes first */
	hosts_del(&t, 2);
	assert_int_equal(hosts_top(&t), 2);
	assert_int_equal(hosts_victim(&t, &d), 3);
	assert_int_equal(hosts_victim(&t, &b), HOSTS_NONE);
	assert_int_equal(hosts_victim(&t, &c), 3);
	/* b down to 1: a is the one left at the top */
	hosts_del(&t, 3);
	assert_int_equal(hosts_victim(&t, &d), 0);
	hosts_del(&t, 0);
	/* everyone at 1: the one that has been at 1 the longest (c) */
	assert_int_equal(hosts_top(&t), 1);
	assert_int_equal(hosts_victim(&t, &d), 5);
	assert_int_equal(hosts_victim(&t, &c), HOSTS_NONE);
	hosts_del(&t, 5);
	hosts_del(&t, 4);
	hosts_del(&t, 1);
	assert_int_equal(hosts_top(&t), 0);
	assert_int_equal(hosts_victim(&t, &d), HOSTS_NONE);
	hosts_free(&t);
}

/* Every connection from a /48 of its own takes two records (host and
 * site): a full table of them fits, and fits again after it emptied. */
static void full_table_of_distinct_sites(void **st)
{
	(void)st;
	enum { N = 1000 };
	struct host_table t;
	struct host_keys k;
	char addr[64];

	assert_int_equal(hosts_init(&t, N, 1), 0);
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < N; i++) {
			snprintf(addr, sizeof(addr), "2001:%x:%x::1", i, round);
			keys_of(addr, &k);
			assert_int_equal(hosts_admit(&t, &k), HOSTS_OK);
			assert_int_equal(hosts_add(&t, i, &k), 0);
		}
		assert_int_equal(hosts_top(&t), 1);
		assert_int_equal(hosts_victim(&t, &k), HOSTS_NONE);
		for (uint32_t i = 0; i < N; i++)
			hosts_del(&t, (i * 7) % N);
		assert_int_equal(hosts_top(&t), 0);
		assert_int_equal(hosts_count(&t, k.site), 0);
	}
	hosts_free(&t);
}

/* ---- a model under churn ---- */

enum { M_SLOTS = 96, M_KEYS = 24, M_PER_HOST = 3 };

struct model {
	struct host_keys keys[M_KEYS];
	int slot_key[M_SLOTS];          /* -1: free */
	uint64_t active[M_SLOTS];       /* when last touched */
	uint64_t arrived[M_KEYS];       /* when its site's count last changed,
	                                   by the first key of each site */
	uint64_t clock;
};

static int same_site(const struct model *m, int a, int b)
{
	return memcmp(m->keys[a].site, m->keys[b].site, HOST_KEY_LEN) == 0;
}

static int same_host(const struct model *m, int a, int b)
{
	return memcmp(m->keys[a].host, m->keys[b].host, HOST_KEY_LEN) == 0;
}

/* The first key with the same site as key k: where its site's data is. */
static int site_rep(const struct model *m, int k)
{
	int r = 0;
	while (!same_site(m, r, k))
		r++;
	return r;
}

static uint32_t m_count(const struct model *m, int k, int site)
{
	uint32_t n = 0;
	for (int i = 0; i < M_SLOTS; i++)
		if (m->slot_key[i] >= 0 &&
		    (site ? same_site(m, m->slot_key[i], k) : same_host(m, m->slot_key[i], k)))
			n++;
	return n;
}

static uint32_t m_top(const struct model *m)
{
	uint32_t top = 0;
	for (int k = 0; k < M_KEYS; k++)
		if (m_count(m, k, 1) > top)
			top = m_count(m, k, 1);
	return top;
}

static uint32_t m_victim(const struct model *m, int newcomer)
{
	uint32_t top = m_top(m);
	int site = -1;

	if (top <= m_count(m, newcomer, 1))
		return HOSTS_NONE;
	for (int k = 0; k < M_KEYS; k++)
		if (site_rep(m, k) == k && m_count(m, k, 1) == top &&
		    (site < 0 || m->arrived[k] < m->arrived[site]))
			site = k;
	uint32_t best = HOSTS_NONE;
	for (uint32_t i = 0; i < M_SLOTS; i++)
		if (m->slot_key[i] >= 0 && same_site(m, m->slot_key[i], site) &&
		    (best == HOSTS_NONE || m->active[i] < m->active[best]))
			best = i;
	return best;
}

static void model_keys(struct model *m)
{
	static const char *addrs[M_KEYS] = {
		"192.0.2.1", "::ffff:192.0.2.1", "2002:c000:201:7::1", "192.0.2.2",
		"2001:db8:1:1::1", "2001:db8:1:1::2", "2001:db8:1:2::1", "2001:db8:1:3::1",
		"2001:db8:1:4::1", "2001:db8:1:5::1", "2001:db8:2:1::1", "2001:db8:2:2::1",
		"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4",
		"2002:c633:6405::1", "2001:db8:3::1", "2001:db8:4::1", "2001:db8:5::1",
		"203.0.113.1", "203.0.113.2", "203.0.113.3", "::1",
	};
	for (int k = 0; k < M_KEYS; k++)
		keys_of(addrs[k], &m->keys[k]);
	for (int i = 0; i < M_SLOTS; i++)
		m->slot_key[i] = -1;
}

static void check_model(const struct host_table *t, const struct model *m)
{
	for (int k = 0; k < M_KEYS; k++) {
		assert_int_equal(hosts_count(t, m->keys[k].host), m_count(m, k, 0));
		assert_int_equal(hosts_count(t, m->keys[k].site), m_count(m, k, 1));
		assert_int_equal(hosts_victim(t, &m->keys[k]), m_victim(m, k));
	}
	assert_int_equal(hosts_top(t), m_top(m));
}

static void model_step(struct host_table *t, struct model *m, int op, int k,
                       uint32_t slot)
{
	int busy = m->slot_key[slot] >= 0;

	m->clock++;
	if (op == 0 && !busy) {
		int ipv4 = memcmp(m->keys[k].host, m->keys[k].site, HOST_KEY_LEN) == 0;
		int ok = hosts_admit(t, &m->keys[k]) == HOSTS_OK;
		assert_int_equal(ok, m_count(m, k, 0) < M_PER_HOST &&
		                 (ipv4 || m_count(m, k, 1) < M_PER_HOST * SITE_SHARE));
		if (!ok)
			return;
		assert_int_equal(hosts_add(t, slot, &m->keys[k]), 0);
		m->slot_key[slot] = k;
		m->active[slot] = m->clock;
		m->arrived[site_rep(m, k)] = m->clock;
	} else if (op == 1 && busy) {
		m->arrived[site_rep(m, m->slot_key[slot])] = m->clock;
		hosts_del(t, slot);
		m->slot_key[slot] = -1;
	} else if (op == 2 && busy) {
		hosts_touch(t, slot);
		m->active[slot] = m->clock;
	}
}

static void bookkeeping_matches_a_model(void **st)
{
	(void)st;
	static struct model m;
	struct host_table t;

	memset(&m, 0, sizeof(m));
	model_keys(&m);
	assert_int_equal(hosts_init(&t, M_SLOTS, M_PER_HOST), 0);
	srand(7);
	for (int step = 0; step < 20000; step++) {
		/* lean towards adding, so that the table stays well filled */
		int op = rand() % 5;
		op = op < 3 ? 0 : op - 2;
		model_step(&t, &m, op, rand() % M_KEYS, (uint32_t)rand() % M_SLOTS);
		check_model(&t, &m);
	}
	hosts_free(&t);
}

/* Many hosts added and removed in a shuffled order: the counts stay
 * exact, which fails if a deletion breaks a probe run. */
static void churn(void **st)
{
	(void)st;
	enum { N = 2000, PER_HOST = 3, SLOTS = N * PER_HOST };
	struct host_table t;
	static struct host_keys keys[N];
	static uint32_t count[N];
	static int slot_key[SLOTS];
	uint32_t free_slots[SLOTS], nfree = SLOTS;

	assert_int_equal(hosts_init(&t, SLOTS, PER_HOST), 0);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t a = htonl(0x0a000000u + i);
		host_keys(AF_INET, &a, &keys[i]);
	}
	for (uint32_t s = 0; s < SLOTS; s++) {
		free_slots[s] = s;
		slot_key[s] = -1;
	}
	srand(1);
	for (int step = 0; step < 200000; step++) {
		uint32_t i = (uint32_t)rand() % N;
		if (rand() % 2 && count[i] < PER_HOST) {
			uint32_t s = free_slots[--nfree];
			assert_int_equal(hosts_admit(&t, &keys[i]), HOSTS_OK);
			assert_int_equal(hosts_add(&t, s, &keys[i]), 0);
			slot_key[s] = (int)i;
			count[i]++;
		} else {
			uint32_t s = (uint32_t)rand() % SLOTS;
			if (slot_key[s] < 0)
				continue;
			hosts_del(&t, s);
			count[slot_key[s]]--;
			slot_key[s] = -1;
			free_slots[nfree++] = s;
		}
	}
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(hosts_count(&t, keys[i].host), count[i]);
	hosts_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_ipv4_and_what_embeds_it),
		cmocka_unit_test(keys_ipv6_host_64_site_48),
		cmocka_unit_test(limit_per_host),
		cmocka_unit_test(ipv6_site_share),
		cmocka_unit_test(victim_is_the_biggest_holders_longest_idle),
		cmocka_unit_test(full_table_of_distinct_sites),
		cmocka_unit_test(bookkeeping_matches_a_model),
		cmocka_unit_test(churn),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
