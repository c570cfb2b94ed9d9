/* The resolver threads (src/resolver.c) with a fake name service: results
 * come back through the descriptor, a job that hangs holds one thread and
 * no other job, a uid's job is found and shared, the queue is bounded, a
 * queued job can be dropped while a running one cannot, one uid's jobs run
 * one at a time while other uids' pass them, and the jobs of a uid are
 * counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "resolver.h"

/* Bound on every wait for a result. */
#define WAIT_MS 3000
/* uids below this hang until the gate opens. */
#define HANG_BELOW 100

static struct resolver res;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static unsigned hanging;
/* Jobs let through the closed gate one by one. */
static unsigned tickets;
/* Jobs of uid SERIAL_UID in the fake at once, now and at most. */
#define SERIAL_UID 7
static unsigned serial_now, serial_max;

static void fake(const struct resolver_in *in, struct resolver_out *out,
                 char *buf, size_t size)
{
	/* No cmocka assertion here, in a resolver thread: the size is
	 * checked by the test's own thread through out->file. */
	memset(buf, 0xa5, size);   /* each thread's own: no other sees it */
	if (in->uid < HANG_BELOW) {
		pthread_mutex_lock(&gate_lock);
		hanging++;
		if (in->uid == SERIAL_UID && ++serial_now > serial_max)
			serial_max = serial_now;
		pthread_cond_broadcast(&gate_cond);
		while (!gate_open && tickets == 0)
			pthread_cond_wait(&gate_cond, &gate_lock);
		if (!gate_open)
			tickets--;
		serial_now -= in->uid == SERIAL_UID;
		hanging--;
		pthread_cond_broadcast(&gate_cond);
		pthread_mutex_unlock(&gate_lock);
	}
	out->account.status = ACCOUNT_FOUND;
	snprintf(out->account.name, sizeof(out->account.name), "u%u", in->uid);
	out->file = size != PWBUF_SIZE ? -2 : in->file != NULL;
}

static void gate(bool open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* Lets one hanging job through the closed gate. */
static void release_one(void)
{
	pthread_mutex_lock(&gate_lock);
	tickets++;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* Waits until n jobs hang in the fake. */
static void wait_hanging(unsigned n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&gate_lock);
	while (hanging != n)
		assert_int_equal(pthread_cond_timedwait(&gate_cond, &gate_lock, &ts), 0);
	pthread_mutex_unlock(&gate_lock);
}

static struct resolver_in job(uint32_t uid)
{
	struct resolver_in in;
	memset(&in, 0, sizeof(in));
	in.uid = uid;
	return in;
}

/* The next finished job (waiting on the descriptor); its index. */
static int next_done(struct resolver_out *out)
{
	int j;
	while ((j = resolver_collect(&res, out)) < 0) {
		struct pollfd p = { .fd = resolver_fd(&res), .events = POLLIN };
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	}
	assert_true(out->file >= 0);   /* the fake got the whole buffer */
	return j;
}

static void results_come_back(void **st)
{
	(void)st;
	struct resolver_out out;
	struct resolver_in in = job(1000);

	in.file = ".noident";
	int j = resolver_submit(&res, &in);
	assert_true(j >= 0);
	assert_int_equal(next_done(&out), j);
	assert_int_equal(out.uid, 1000);
	assert_int_equal(out.account.status, ACCOUNT_FOUND);
	assert_string_equal(out.account.name, "u1000");
	assert_int_equal(out.file, 1);
	assert_int_equal(resolver_collect(&res, &out), -1);
	assert_int_equal(resolver_find(&res, 1000), -1);
}

static void a_hung_job_holds_one_thread(void **st)
{
	(void)st;
	struct resolver_out out;
	bool seen[2000] = { false };

	gate(false);
	int hung = resolver_submit(&res, &(struct resolver_in){ .uid = 1 });
	assert_true(hung >= 0);
	wait_hanging(1);
	/* A uid's job on its way is found, so its next query shares it. */
	assert_int_equal(resolver_find(&res, 1), hung);
	assert_int_equal(resolver_find(&res, 2), -1);
	for (uint32_t uid = 1000; uid < 1000 + 3 * RESOLVER_JOBS; uid++) {
		struct resolver_in in = job(uid);
		assert_true(resolver_submit(&res, &in) >= 0);
		assert_true(next_done(&out) != hung);
		assert_int_equal(out.uid, uid);
		seen[uid] = true;
	}
	gate(true);
	assert_int_equal(next_done(&out), hung);
	assert_int_equal(out.uid, 1);
	assert_true(seen[1000 + 3 * RESOLVER_JOBS - 1]);
}

static void queue_is_bounded(void **st)
{
	(void)st;
	struct resolver_out out;
	int running[RESOLVER_THREADS], queued[RESOLVER_JOBS];
	unsigned nq = 0;

	gate(false);
	for (unsigned i = 0; i < RESOLVER_THREADS; i++) {
		struct resolver_in in = job(10 + i);
		running[i] = resolver_submit(&res, &in);
		assert_true(running[i] >= 0);
	}
	wait_hanging(RESOLVER_THREADS);
	for (;;) {
		struct resolver_in in = job(500 + nq);
		int j = resolver_submit(&res, &in);
		if (j < 0)
			break;
		assert_true(nq < RESOLVER_JOBS);
		queued[nq++] = j;
	}
	assert_int_equal(nq, RESOLVER_JOBS - RESOLVER_THREADS);
	/* A running job goes on; a queued one is dropped and makes room. */
	assert_true(resolver_started(&res, running[0]));
	assert_false(resolver_started(&res, queued[0]));
	assert_false(resolver_cancel(&res, running[0]));
	assert_true(resolver_cancel(&res, queued[0]));
	assert_int_equal(resolver_find(&res, 500), -1);
	struct resolver_in in = job(999);
	assert_int_equal(resolver_submit(&res, &in), queued[0]);
	gate(true);
	unsigned done = 0;
	bool cancelled_came_back = false;
	while (done < RESOLVER_JOBS) {
		next_done(&out);
		cancelled_came_back |= out.uid == 500;
		done++;
	}
	assert_false(cancelled_came_back);
	assert_int_equal(resolver_collect(&res, &out), -1);
}

/* A uid's second job waits while its first runs (hangs), and other uids'
 * jobs pass it; once the first is let go, the second runs. Without the
 * serialization a free thread takes the second job at once (it is the
 * oldest queued), and resolver_started says so before the other uid's
 * job, submitted after it, is done. */
static void one_uid_at_a_time(void **st)
{
	(void)st;
	struct resolver_out out;

	gate(false);
	wait_hanging(0);
	serial_max = 0;
	int a1 = resolver_submit(&res, &(struct resolver_in){ .uid = SERIAL_UID });
	assert_true(a1 >= 0);
	wait_hanging(1);
	int a2 = resolver_submit(&res, &(struct resolver_in){ .uid = SERIAL_UID });
	assert_true(a2 >= 0 && a2 != a1);
	assert_int_equal(resolver_count(&res, SERIAL_UID), 2);
	/* Other uids, queued after it, run and finish meanwhile (threads are
	 * free: only one is taken). */
	for (uint32_t uid = 2000; uid < 2000 + 2 * RESOLVER_THREADS; uid++) {
		struct resolver_in in = job(uid);
		int j = resolver_submit(&res, &in);
		assert_true(j >= 0);
		assert_int_equal(next_done(&out), j);
		assert_int_equal(out.uid, uid);
		assert_int_equal(resolver_count(&res, uid), 0);
		assert_false(resolver_started(&res, a2));
	}
	assert_true(resolver_started(&res, a1));
	assert_int_equal(resolver_count(&res, SERIAL_UID), 2);
	/* A queued job of a hung uid can still be dropped. */
	assert_true(resolver_cancel(&res, a2));
	assert_int_equal(resolver_count(&res, SERIAL_UID), 1);
	a2 = resolver_submit(&res, &(struct resolver_in){ .uid = SERIAL_UID });
	assert_true(a2 >= 0);
	/* The first let go: it comes back, and the second runs (and hangs
	 * in turn). */
	release_one();
	assert_int_equal(next_done(&out), a1);
	assert_int_equal(out.uid, SERIAL_UID);
	wait_hanging(1);
	assert_true(resolver_started(&res, a2));
	assert_int_equal(resolver_count(&res, SERIAL_UID), 1);
	release_one();
	assert_int_equal(next_done(&out), a2);
	assert_int_equal(resolver_count(&res, SERIAL_UID), 0);
	assert_int_equal(serial_max, 1);
	assert_int_equal(resolver_collect(&res, &out), -1);
	gate(true);
}

/* resolver_count counts the queued and running jobs of one uid only. */
static void jobs_are_counted(void **st)
{
	(void)st;
	struct resolver_out out;
	int held[RESOLVER_THREADS], queued[3];

	gate(false);
	wait_hanging(0);
	assert_int_equal(resolver_count(&res, 3000), 0);
	/* Every thread held by another uid: the jobs stay queued. */
	for (unsigned i = 0; i < RESOLVER_THREADS; i++) {
		held[i] = resolver_submit(&res, &(struct resolver_in){ .uid = 20 + i });
		assert_true(held[i] >= 0);
	}
	wait_hanging(RESOLVER_THREADS);
	for (unsigned i = 0; i < 3; i++) {
		struct resolver_in in = job(3000);
		queued[i] = resolver_submit(&res, &in);
		assert_true(queued[i] >= 0);
		assert_int_equal(resolver_count(&res, 3000), i + 1);
	}
	assert_int_equal(resolver_count(&res, 3001), 0);
	assert_int_equal(resolver_count(&res, 20), 1);
	assert_true(resolver_cancel(&res, queued[1]));
	assert_int_equal(resolver_count(&res, 3000), 2);
	gate(true);
	for (unsigned i = 0; i < RESOLVER_THREADS + 2; i++)
		next_done(&out);
	assert_int_equal(resolver_collect(&res, &out), -1);
	assert_int_equal(resolver_count(&res, 3000), 0);
	assert_int_equal(resolver_count(&res, 20), 0);
	(void)held;
}

static int setup(void **st)
{
	(void)st;
	return resolver_start(&res, fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(results_come_back),
		cmocka_unit_test(a_hung_job_holds_one_thread),
		cmocka_unit_test(queue_is_bounded),
		cmocka_unit_test(one_uid_at_a_time),
		cmocka_unit_test(jobs_are_counted),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
