/* Who holds the connection table. Holder records (hosts and sites) live in
 * an array sized at start-up and never move, so lists can link them by
 * number; the hash index maps a key to its record by linear probing with
 * backward-shift deletion, so no tombstones accumulate under churn. */
#include "hosts.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "limits.h"

/* The index is kept at most half full so probe runs stay short. */
#define HOSTS_LOAD_FACTOR 2
/* Holder records per connection slot: a connection counts against one
 * host and one site, the same record for IPv4. */
#define HOLDERS_PER_CONN 2
/* Bytes of an IPv6 address that name a host (its /64) and a site (its
 * /48). */
#define IPV6_HOST_PREFIX 8
#define IPV6_SITE_PREFIX 6
/* The last byte of a site key, so that the /48 2001:db8:1::/48 and the /64
 * 2001:db8:1::/64 have different keys. Host keys have 0 there; IPv4 keys
 * have 0xff in bytes 10 and 11, where site keys have 0. */
#define SITE_KEY_TAG 48

static const uint8_t v4_mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

/* ---- keys ---- */

/* The IPv4 address a connection really comes from, if any: an IPv4 peer,
 * an IPv4-mapped IPv6 peer, or a 6to4 peer (2002:AABB:CCDD::/48 routes to
 * AA.BB.CC.DD, so only that IPv4 host can complete a handshake from it). */
static int embedded_ipv4(int family, const uint8_t *a, uint8_t v4[4])
{
	if (family == AF_INET)
		memcpy(v4, a, 4);
	else if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0)
		memcpy(v4, a + 12, 4);
	else if (a[0] == 0x20 && a[1] == 0x02)
		memcpy(v4, a + 2, 4);
	else
		return 0;
	return 1;
}

void host_keys(int family, const void *addr, struct host_keys *out)
{
	uint8_t v4[4];

	memset(out, 0, sizeof(*out));
	if (embedded_ipv4(family, addr, v4)) {
		memcpy(out->host, v4_mapped, sizeof(v4_mapped));
		memcpy(out->host + sizeof(v4_mapped), v4, sizeof(v4));
		memcpy(out->site, out->host, HOST_KEY_LEN);
		return;
	}
	memcpy(out->host, addr, IPV6_HOST_PREFIX);
	memcpy(out->site, addr, IPV6_SITE_PREFIX);
	out->site[HOST_KEY_LEN - 1] = SITE_KEY_TAG;
}

static int same_key(const struct host_keys *k)
{
	return memcmp(k->host, k->site, HOST_KEY_LEN) == 0;
}

/* ---- lists of records in an array, linked by number ---- */

static struct host_link *link_at(void *base, size_t stride, uint32_t i)
{
	return (struct host_link *)((char *)base + (size_t)i * stride);
}

static void list_push(struct host_list *l, void *base, size_t stride, uint32_t i)
{
	struct host_link *k = link_at(base, stride, i);

	k->prev = l->last;
	k->next = HOSTS_NONE;
	if (l->last != HOSTS_NONE)
		link_at(base, stride, l->last)->next = i;
	else
		l->first = i;
	l->last = i;
}

static void list_remove(struct host_list *l, void *base, size_t stride, uint32_t i)
{
	struct host_link *k = link_at(base, stride, i);

	if (k->prev != HOSTS_NONE)
		link_at(base, stride, k->prev)->next = k->next;
	else
		l->first = k->next;
	if (k->next != HOSTS_NONE)
		link_at(base, stride, k->next)->prev = k->prev;
	else
		l->last = k->prev;
	k->prev = k->next = HOSTS_NONE;
}

/* The struct host_link is the first member of both element types. */
_Static_assert(offsetof(struct holder, bucket) == 0, "holder link first");
_Static_assert(offsetof(struct conn_holders, link) == 0, "conn link first");
#define SITES(t) (t)->holders, sizeof(*(t)->holders)
#define CONNS(t) (t)->conns, sizeof(*(t)->conns)

/* ---- set-up ---- */

static void table_zero(struct host_table *t)
{
	memset(t, 0, sizeof(*t));
}

int hosts_init(struct host_table *t, uint32_t nconns, uint32_t per_host)
{
	uint64_t nholders = (uint64_t)nconns * HOLDERS_PER_CONN;
	uint64_t per_site = (uint64_t)per_host * SITE_SHARE;
	uint64_t size = 16;

	table_zero(t);
	if (nconns == 0 || per_host == 0 || nholders >= UINT32_MAX)
		return -1;
	while (size < nholders * HOSTS_LOAD_FACTOR)
		size <<= 1;
	t->nconns = nconns;
	t->nholders = (uint32_t)nholders;
	t->per_host = per_host;
	t->per_site = per_site < UINT32_MAX ? (uint32_t)per_site : UINT32_MAX;
	/* No site can hold more than the site share, nor more than the table. */
	t->max_count = t->per_site < nconns ? t->per_site : nconns;
	t->mask = (uint32_t)(size - 1);
	t->index = calloc((size_t)size, sizeof(*t->index));
	t->holders = calloc(t->nholders, sizeof(*t->holders));
	t->conns = malloc((size_t)nconns * sizeof(*t->conns));
	t->buckets = malloc(((size_t)t->max_count + 1) * sizeof(*t->buckets));
	if (!t->index || !t->holders || !t->conns || !t->buckets) {
		hosts_free(t);
		return -1;
	}
	t->free_holder = HOSTS_NONE;
	for (uint32_t i = 0; i < nconns; i++)
		t->conns[i].site = t->conns[i].host = HOSTS_NONE;
	for (uint32_t c = 0; c <= t->max_count; c++)
		t->buckets[c].first = t->buckets[c].last = HOSTS_NONE;
	randombytes_buf(t->key, sizeof(t->key));
	return 0;
}

void hosts_free(struct host_table *t)
{
	free(t->index);
	free(t->holders);
	free(t->conns);
	free(t->buckets);
	table_zero(t);
}

/* ---- the index ---- */

static uint32_t home(const struct host_table *t, const uint8_t key[HOST_KEY_LEN])
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, key, HOST_KEY_LEN, t->key);
	return (uint32_t)h & t->mask;
}

static const uint8_t *key_at(const struct host_table *t, uint32_t slot)
{
	return t->holders[t->index[slot] - 1].key;
}

/* The index slot holding key, or the empty slot where it would go. */
static uint32_t slot_of(const struct host_table *t, const uint8_t key[HOST_KEY_LEN])
{
	uint32_t i = home(t, key);

	while (t->index[i] && memcmp(key_at(t, i), key, HOST_KEY_LEN) != 0)
		i = (i + 1) & t->mask;
	return i;
}

/* The record of key, or HOSTS_NONE. */
static uint32_t holder_of(const struct host_table *t, const uint8_t key[HOST_KEY_LEN])
{
	uint32_t slot = slot_of(t, key);
	return t->index[slot] ? t->index[slot] - 1 : HOSTS_NONE;
}

/* Empties index slot i and moves later entries of the same probe run back,
 * so that every entry stays reachable from its home slot. */
static void index_remove_at(struct host_table *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		t->index[i] = 0;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->index[j] == 0)
				return;
			uint32_t k = home(t, key_at(t, j));
			/* Entry j may move to i only if its home is not in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		t->index[i] = t->index[j];
		i = j;
	}
}

/* ---- holder records ---- */

/* The record of key, made (with no connections) if there is none; or
 * HOSTS_NONE when every record is in use. Records are handed out from the
 * never-used end first, so memory no host has needed is never touched. */
static uint32_t holder_get(struct host_table *t, const uint8_t key[HOST_KEY_LEN])
{
	uint32_t slot = slot_of(t, key), h;
	struct holder *r;

	if (t->index[slot])
		return t->index[slot] - 1;
	if (t->free_holder != HOSTS_NONE) {
		h = t->free_holder;
		t->free_holder = t->holders[h].bucket.next;
	} else if (t->fresh < t->nholders) {
		h = t->fresh++;
	} else {
		return HOSTS_NONE;
	}
	r = &t->holders[h];
	memcpy(r->key, key, HOST_KEY_LEN);
	r->count = 0;
	r->bucket.prev = r->bucket.next = HOSTS_NONE;
	r->conns.first = r->conns.last = HOSTS_NONE;
	t->index[slot] = h + 1;
	return h;
}

/* Gives back the record h, which holds no connection. */
static void holder_put(struct host_table *t, uint32_t h)
{
	index_remove_at(t, slot_of(t, t->holders[h].key));
	t->holders[h].bucket.next = t->free_holder;
	t->free_holder = h;
}

/* ---- sites by count ---- */

/* Site s goes from its count to count + delta (delta is 1 or -1), and to
 * the end of the sites at its new count; top follows. A site with no
 * connection left is in no bucket. */
static void site_count(struct host_table *t, uint32_t s, int delta)
{
	struct holder *r = &t->holders[s];

	if (r->count)
		list_remove(&t->buckets[r->count], SITES(t), s);
	r->count = delta > 0 ? r->count + 1 : r->count - 1;
	if (r->count)
		list_push(&t->buckets[r->count], SITES(t), s);
	if (r->count > t->top)
		t->top = r->count;
	while (t->top && t->buckets[t->top].first == HOSTS_NONE)
		t->top--;
}

/* ---- the interface ---- */

enum hosts_verdict hosts_admit(const struct host_table *t, const struct host_keys *k)
{
	uint32_t h = holder_of(t, k->host), s;

	if (h != HOSTS_NONE && t->holders[h].count >= t->per_host)
		return HOSTS_OVER_HOST;
	if (same_key(k))
		return HOSTS_OK;
	s = holder_of(t, k->site);
	if (s != HOSTS_NONE && t->holders[s].count >= t->per_site)
		return HOSTS_OVER_SITE;
	return HOSTS_OK;
}

uint32_t hosts_victim(const struct host_table *t, const struct host_keys *k)
{
	uint32_t s = holder_of(t, k->site);
	uint32_t mine = s != HOSTS_NONE ? t->holders[s].count : 0;

	if (t->top <= mine)
		return HOSTS_NONE;
	return t->holders[t->buckets[t->top].first].conns.first;
}

int hosts_add(struct host_table *t, uint32_t conn, const struct host_keys *k)
{
	uint32_t s, h;

	if (conn >= t->nconns || t->conns[conn].site != HOSTS_NONE)
		return -1;
	s = holder_get(t, k->site);
	if (s == HOSTS_NONE || t->holders[s].count >= t->max_count)
		return -1;   /* a site at max_count (>= 1) is not a new record */
	h = same_key(k) ? s : holder_get(t, k->host);
	if (h == HOSTS_NONE) {
		if (t->holders[s].count == 0)
			holder_put(t, s);
		return -1;
	}
	site_count(t, s, 1);
	if (h != s)
		t->holders[h].count++;
	t->conns[conn].site = s;
	t->conns[conn].host = h;
	list_push(&t->holders[s].conns, CONNS(t), conn);
	return 0;
}

void hosts_del(struct host_table *t, uint32_t conn)
{
	uint32_t s, h;

	if (conn >= t->nconns || t->conns[conn].site == HOSTS_NONE)
		return;
	s = t->conns[conn].site;
	h = t->conns[conn].host;
	list_remove(&t->holders[s].conns, CONNS(t), conn);
	site_count(t, s, -1);
	if (t->holders[s].count == 0)
		holder_put(t, s);
	if (h != s && --t->holders[h].count == 0)
		holder_put(t, h);
	t->conns[conn].site = t->conns[conn].host = HOSTS_NONE;
}

void hosts_touch(struct host_table *t, uint32_t conn)
{
	uint32_t s;

	if (conn >= t->nconns || t->conns[conn].site == HOSTS_NONE)
		return;
	s = t->conns[conn].site;
	list_remove(&t->holders[s].conns, CONNS(t), conn);
	list_push(&t->holders[s].conns, CONNS(t), conn);
}

uint32_t hosts_count(const struct host_table *t, const uint8_t key[HOST_KEY_LEN])
{
	uint32_t h = holder_of(t, key);
	return h != HOSTS_NONE ? t->holders[h].count : 0;
}

uint32_t hosts_top(const struct host_table *t)
{
	return t->top;
}
