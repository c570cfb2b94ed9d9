/* Per-host connection counts: linear probing with backward-shift deletion,
 * so no tombstones accumulate under churn. */
#include "hosts.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The table is kept at most half full so probe runs stay short. */
#define HOSTS_LOAD_FACTOR 2
/* Bytes of an IPv6 address that name the host: its /64. */
#define IPV6_HOST_PREFIX 8

void host_key(int family, const void *addr, uint8_t out[HOST_KEY_LEN])
{
	static const uint8_t mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

	memset(out, 0, HOST_KEY_LEN);
	if (family == AF_INET) {
		memcpy(out, mapped, sizeof(mapped));
		memcpy(out + 12, addr, 4);
	} else if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memcpy(out, addr, HOST_KEY_LEN);
	} else {
		memcpy(out, addr, IPV6_HOST_PREFIX);
	}
}

int hosts_init(struct host_table *t, uint32_t max_hosts)
{
	uint64_t size = 16;

	while (size < (uint64_t)max_hosts * HOSTS_LOAD_FACTOR)
		size <<= 1;
	t->slots = calloc((size_t)size, sizeof(*t->slots));
	if (!t->slots)
		return -1;
	t->mask = (uint32_t)(size - 1);
	randombytes_buf(t->key, sizeof(t->key));
	return 0;
}

void hosts_free(struct host_table *t)
{
	free(t->slots);
	t->slots = NULL;
}

static uint32_t home(const struct host_table *t, const uint8_t host[HOST_KEY_LEN])
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, host, HOST_KEY_LEN, t->key);
	return (uint32_t)h & t->mask;
}

/* The slot holding host, or the empty slot where it would go. */
static uint32_t find(const struct host_table *t, const uint8_t host[HOST_KEY_LEN])
{
	uint32_t i = home(t, host);
	while (t->slots[i].count &&
	       memcmp(t->slots[i].addr, host, HOST_KEY_LEN) != 0)
		i = (i + 1) & t->mask;
	return i;
}

int hosts_add(struct host_table *t, const uint8_t host[HOST_KEY_LEN],
              uint32_t limit)
{
	struct host_entry *e = &t->slots[find(t, host)];

	if (e->count >= limit)
		return -1;
	if (e->count == 0)
		memcpy(e->addr, host, HOST_KEY_LEN);
	e->count++;
	return 0;
}

uint32_t hosts_count(const struct host_table *t, const uint8_t host[HOST_KEY_LEN])
{
	return t->slots[find(t, host)].count;
}

/* Empties slot i and moves later entries of the same probe run back, so
 * that every entry stays reachable from its home slot. */
static void remove_at(struct host_table *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		t->slots[i].count = 0;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->slots[j].count == 0)
				return;
			uint32_t k = home(t, t->slots[j].addr);
			/* Entry j may move to i only if its home is not in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

void hosts_del(struct host_table *t, const uint8_t host[HOST_KEY_LEN])
{
	uint32_t i = find(t, host);

	if (t->slots[i].count == 0)
		return;
	if (--t->slots[i].count == 0)
		remove_at(t, i);
}
