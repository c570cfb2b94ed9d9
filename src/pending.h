/* Queries waiting for a resolver job (doc/design.md §4): a fixed table, in
 * the order the queries came, which is also the order of their deadlines
 * (each gets the same time from its arrival), and per job the list of the
 * queries that wait for it. Pure: the time comes in as an argument. */
#ifndef PRIVIDENT_PENDING_H
#define PRIVIDENT_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"
#include "netlink.h"
#include "resolver.h"
#include "tuple.h"

/* Queries waiting at once. The network child has one query out per
 * connection, 1024 of them with the default --max-connections, and a
 * lookup that answers in time keeps a query here for milliseconds; past
 * this, a query that needs the name service is answered at once as a
 * failed lookup. */
#define PENDING_MAX 1024

/* A query the helper has looked up in the kernel and that now waits for
 * the name service. */
struct pending_query {
	struct ipc_query q;
	struct tcp_tuple t;
	bool have_tuple;
	enum nl_result r;
	uint32_t uid;
};

struct pending_entry {
	struct pending_query pq;
	uint64_t deadline_ms;
	int job;                 /* the resolver job it waits for */
	bool used;
	uint32_t prev, next;     /* the table's order, or the free list */
	uint32_t wprev, wnext;   /* the job's waiters */
};

struct pending {
	struct pending_entry e[PENDING_MAX];
	uint32_t head, tail, free_head, count;
	uint32_t whead[RESOLVER_JOBS], wtail[RESOLVER_JOBS];
};

void pending_init(struct pending *p);

/* Adds a query waiting for job (0..RESOLVER_JOBS-1) until deadline_ms,
 * which is no earlier than any deadline already in the table. Returns the
 * entry, or NULL when the table is full. */
struct pending_entry *pending_add(struct pending *p, const struct pending_query *pq,
                                  int job, uint64_t deadline_ms);

/* The oldest entry if its deadline is at or before now_ms, else NULL. */
struct pending_entry *pending_expired(struct pending *p, uint64_t now_ms);

/* The first (oldest) query waiting for job, or NULL. */
struct pending_entry *pending_first_of(struct pending *p, int job);

void pending_remove(struct pending *p, struct pending_entry *e);

/* Milliseconds until the earliest deadline (0 when it has passed), or -1
 * when nothing waits. */
int64_t pending_next_ms(const struct pending *p, uint64_t now_ms);

#endif
