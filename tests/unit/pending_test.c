/* Queries waiting for the name service (src/pending.c): arrival order is
 * deadline order, each job's waiters come back oldest first, removal from
 * anywhere keeps both orders, and a full table says so. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pending.h"

static struct pending p;

static struct pending_query query(uint32_t conn)
{
	struct pending_query pq;
	memset(&pq, 0, sizeof(pq));
	pq.q.conn = conn;
	pq.uid = 1000 + conn;
	return pq;
}

static struct pending_entry *add(uint32_t conn, int job, uint64_t deadline)
{
	struct pending_query pq = query(conn);
	return pending_add(&p, &pq, job, deadline);
}

static void empty(void **st)
{
	(void)st;
	pending_init(&p);
	assert_null(pending_expired(&p, UINT64_MAX));
	assert_null(pending_first_of(&p, 0));
	assert_int_equal(pending_next_ms(&p, 0), -1);
	assert_int_equal(p.count, 0);
}

static void deadlines_in_arrival_order(void **st)
{
	(void)st;
	pending_init(&p);
	assert_non_null(add(1, 0, 1000));
	assert_non_null(add(2, 1, 1500));
	assert_non_null(add(3, 0, 2000));
	assert_int_equal(pending_next_ms(&p, 400), 600);
	assert_null(pending_expired(&p, 999));
	struct pending_entry *e = pending_expired(&p, 1000);
	assert_non_null(e);
	assert_int_equal(e->pq.q.conn, 1);
	assert_int_equal(e->pq.uid, 1001);
	assert_int_equal(e->job, 0);
	pending_remove(&p, e);
	/* Past the next deadline: 0, never negative. */
	assert_int_equal(pending_next_ms(&p, 1700), 0);
	e = pending_expired(&p, 5000);
	assert_int_equal(e->pq.q.conn, 2);
	pending_remove(&p, e);
	e = pending_expired(&p, 5000);
	assert_int_equal(e->pq.q.conn, 3);
	pending_remove(&p, e);
	assert_null(pending_expired(&p, UINT64_MAX));
	assert_int_equal(p.count, 0);
}

static void waiters_of_a_job(void **st)
{
	(void)st;
	pending_init(&p);
	struct pending_entry *a = add(1, 5, 100), *b = add(2, 7, 100),
	                     *c = add(3, 5, 200), *d = add(4, 5, 300);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_ptr_equal(pending_first_of(&p, 5), a);
	assert_ptr_equal(pending_first_of(&p, 7), b);
	assert_null(pending_first_of(&p, 6));
	/* From the middle: the job's list and the table's order both hold. */
	pending_remove(&p, c);
	pending_remove(&p, c);   /* twice: no effect */
	assert_int_equal(p.count, 3);
	pending_remove(&p, a);
	assert_ptr_equal(pending_first_of(&p, 5), d);
	pending_remove(&p, d);
	assert_null(pending_first_of(&p, 5));
	assert_ptr_equal(pending_expired(&p, 100), b);
	pending_remove(&p, b);
	assert_int_equal(p.count, 0);
	assert_int_equal(pending_next_ms(&p, 0), -1);
}

static void full_table_and_bad_jobs(void **st)
{
	(void)st;
	pending_init(&p);
	assert_null(add(1, -1, 10));
	assert_null(add(1, RESOLVER_JOBS, 10));
	for (uint32_t i = 0; i < PENDING_MAX; i++)
		assert_non_null(add(i, (int)(i % RESOLVER_JOBS), 10 + i));
	assert_null(add(PENDING_MAX, 0, UINT64_MAX));
	assert_int_equal(p.count, PENDING_MAX);
	/* One freed, one place: and it goes to the back of the order. */
	struct pending_entry *e = pending_expired(&p, 10);
	assert_int_equal(e->pq.q.conn, 0);
	pending_remove(&p, e);
	assert_non_null(add(9999, 0, UINT64_MAX));
	assert_null(add(10000, 0, UINT64_MAX));
	uint32_t n = 0, last = 0;
	while ((e = pending_expired(&p, UINT64_MAX)) != NULL) {
		last = e->pq.q.conn;
		pending_remove(&p, e);
		n++;
	}
	assert_int_equal(n, PENDING_MAX);
	assert_int_equal(last, 9999);
	for (int j = 0; j < RESOLVER_JOBS; j++)
		assert_null(pending_first_of(&p, j));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty),
		cmocka_unit_test(deadlines_in_arrival_order),
		cmocka_unit_test(waiters_of_a_job),
		cmocka_unit_test(full_table_and_bad_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
