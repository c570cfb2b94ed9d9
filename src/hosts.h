/* Per-host connection counts for --max-per-host: an open-addressing hash
 * table sized once at start-up, keyed with a secret so that a remote host
 * cannot choose addresses that collide. */
#ifndef PRIVIDENT_HOSTS_H
#define PRIVIDENT_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#define HOST_KEY_LEN 16

struct host_entry {
	uint8_t addr[HOST_KEY_LEN];
	uint32_t count;  /* 0: empty slot */
};

struct host_table {
	struct host_entry *slots;
	uint32_t mask;
	uint8_t key[16];
};

/* What counts as one host: an IPv4 address (stored v4-mapped), or an IPv6
 * /64, since one IPv6 host can use every address of its /64. A v4-mapped
 * IPv6 address counts as its IPv4 address. */
void host_key(int family, const void *addr, uint8_t out[HOST_KEY_LEN]);

/* Room for at least max_hosts distinct hosts; the secret key is random.
 * Allocates once. Returns 0 or -1. */
int hosts_init(struct host_table *t, uint32_t max_hosts);
void hosts_free(struct host_table *t);

/* Counts one more connection from host, unless it already has limit.
 * Returns 0, or -1 when over the limit (nothing counted). */
int hosts_add(struct host_table *t, const uint8_t host[HOST_KEY_LEN],
              uint32_t limit);
/* Counts one connection less. */
void hosts_del(struct host_table *t, const uint8_t host[HOST_KEY_LEN]);
/* The current count (for tests). */
uint32_t hosts_count(const struct host_table *t, const uint8_t host[HOST_KEY_LEN]);

#endif
