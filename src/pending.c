/* Waiting queries: a doubly linked list over a fixed array for the order
 * of arrival (and so of deadlines), one per job for its waiters, and a
 * free list. Every operation is O(1). */
#include "pending.h"

#include <string.h>

#define NIL UINT32_MAX

void pending_init(struct pending *p)
{
	memset(p, 0, sizeof(*p));
	for (uint32_t i = 0; i < PENDING_MAX; i++)
		p->e[i].next = i + 1 < PENDING_MAX ? i + 1 : NIL;
	p->free_head = 0;
	p->head = p->tail = NIL;
	for (int j = 0; j < RESOLVER_JOBS; j++)
		p->whead[j] = p->wtail[j] = NIL;
}

struct pending_entry *pending_add(struct pending *p, const struct pending_query *pq,
                                  int job, uint64_t deadline_ms)
{
	uint32_t i = p->free_head;

	if (i == NIL || job < 0 || job >= RESOLVER_JOBS)
		return NULL;
	struct pending_entry *e = &p->e[i];
	p->free_head = e->next;
	e->pq = *pq;
	e->deadline_ms = deadline_ms;
	e->job = job;
	e->used = true;
	e->prev = p->tail;
	e->next = NIL;
	if (p->tail != NIL)
		p->e[p->tail].next = i;
	else
		p->head = i;
	p->tail = i;
	e->wprev = p->wtail[job];
	e->wnext = NIL;
	if (p->wtail[job] != NIL)
		p->e[p->wtail[job]].wnext = i;
	else
		p->whead[job] = i;
	p->wtail[job] = i;
	p->count++;
	return e;
}

struct pending_entry *pending_expired(struct pending *p, uint64_t now_ms)
{
	if (p->head == NIL || p->e[p->head].deadline_ms > now_ms)
		return NULL;
	return &p->e[p->head];
}

struct pending_entry *pending_first_of(struct pending *p, int job)
{
	if (job < 0 || job >= RESOLVER_JOBS || p->whead[job] == NIL)
		return NULL;
	return &p->e[p->whead[job]];
}

void pending_remove(struct pending *p, struct pending_entry *e)
{
	uint32_t i = (uint32_t)(e - p->e);
	int job = e->job;

	if (!e->used)
		return;
	if (e->prev != NIL)
		p->e[e->prev].next = e->next;
	else
		p->head = e->next;
	if (e->next != NIL)
		p->e[e->next].prev = e->prev;
	else
		p->tail = e->prev;
	if (e->wprev != NIL)
		p->e[e->wprev].wnext = e->wnext;
	else
		p->whead[job] = e->wnext;
	if (e->wnext != NIL)
		p->e[e->wnext].wprev = e->wprev;
	else
		p->wtail[job] = e->wprev;
	e->used = false;
	e->next = p->free_head;
	p->free_head = i;
	p->count--;
}

int64_t pending_next_ms(const struct pending *p, uint64_t now_ms)
{
	if (p->head == NIL)
		return -1;
	uint64_t d = p->e[p->head].deadline_ms;
	return d > now_ms ? (int64_t)(d - now_ms) : 0;
}
