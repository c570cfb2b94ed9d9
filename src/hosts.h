/* Who holds the connection table (doc/design.md §7): per-host counts for
 * --max-per-host, per-site counts for the larger share of an IPv6 /48, and
 * what it takes to make room fairly when the table is full: every site's
 * connections in order of activity, and the sites grouped by how many they
 * hold, so that the biggest holder and its longest-idle connection are
 * found without looking at the others.
 *
 * Everything is sized once at start-up for a table of n connection slots
 * (numbered 0 .. n-1 by the caller); nothing is allocated afterwards. The
 * hash index is keyed with a secret so that a remote host cannot choose
 * addresses that collide. */
#ifndef PRIVIDENT_HOSTS_H
#define PRIVIDENT_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#define HOST_KEY_LEN 16
#define HOSTS_NONE UINT32_MAX

/* What one connection counts against. host: an IPv4 address, or an IPv6
 * /64 (one IPv6 host can use every address of its /64). site: the same
 * IPv4 address, or the IPv6 /48 (one end site's usual assignment). An
 * IPv4-mapped address (::ffff:0:0/96) and a 6to4 address (2002::/16, the
 * IPv4 address in bytes 2-5) are the IPv4 address they carry. */
struct host_keys {
	uint8_t host[HOST_KEY_LEN];
	uint8_t site[HOST_KEY_LEN];
};

void host_keys(int family, const void *addr, struct host_keys *out);

/* Links of a doubly linked list of records in an array, by number. */
struct host_link { uint32_t prev, next; };
struct host_list { uint32_t first, last; };

/* A host or a site that holds connections. */
struct holder {
	struct host_link bucket;   /* site: among the sites with the same
	                              count, in the order they came to it; a
	                              free record: .next is the next free one */
	struct host_list conns;    /* site: its connections, least recently
	                              active first */
	uint32_t count;
	uint8_t key[HOST_KEY_LEN];
};

/* Per connection slot. */
struct conn_holders {
	struct host_link link;     /* in its site's list */
	uint32_t site, host;       /* holder records (the same one for IPv4);
	                              HOSTS_NONE: the slot is not counted */
};

struct host_table {
	uint32_t *index;           /* open addressing: record number + 1, or
	                              0 for an empty slot */
	uint32_t mask;
	struct holder *holders;
	uint32_t nholders, fresh, free_holder;
	struct conn_holders *conns;
	uint32_t nconns;
	struct host_list *buckets; /* [c]: the sites holding c connections */
	uint32_t max_count, top;   /* top: the biggest count any site holds */
	uint32_t per_host, per_site;
	uint8_t key[16];
};

enum hosts_verdict {
	HOSTS_OK,
	HOSTS_OVER_HOST,        /* the host holds per_host already */
	HOSTS_OVER_SITE,        /* the IPv6 /48 holds per_site already */
};

/* For nconns connection slots, at most per_host connections per host; an
 * IPv6 site may hold SITE_SHARE times that (src/limits.h). The secret key
 * is random. Allocates once. Returns 0 or -1. */
int hosts_init(struct host_table *t, uint32_t nconns, uint32_t per_host);
void hosts_free(struct host_table *t);

/* Whether one more connection from k is within the limits. Changes
 * nothing. */
enum hosts_verdict hosts_admit(const struct host_table *t, const struct host_keys *k);

/* With the table full: the slot of the connection to close so that a
 * newcomer from k may have its place, or HOSTS_NONE when k's site already
 * holds as many connections as any other. The victim is the least recently
 * active connection of the site that holds the most (among equals, the
 * one that has held that many the longest). Changes nothing. */
uint32_t hosts_victim(const struct host_table *t, const struct host_keys *k);

/* Counts connection slot conn (admitted by hosts_admit, not counted yet)
 * against k, as its site's most recently active. Returns 0, or -1 when
 * conn is out of range or the records are used up (neither happens to a
 * caller that keeps to the rules; nothing is counted then). */
int hosts_add(struct host_table *t, uint32_t conn, const struct host_keys *k);

/* Forgets connection slot conn, counted by hosts_add. */
void hosts_del(struct host_table *t, uint32_t conn);

/* Connection slot conn completed a line: its site's most recently active. */
void hosts_touch(struct host_table *t, uint32_t conn);

/* The count of a host or site key (0: none), and the biggest site count:
 * for tests. */
uint32_t hosts_count(const struct host_table *t, const uint8_t key[HOST_KEY_LEN]);
uint32_t hosts_top(const struct host_table *t);

#endif
