/* Resolver threads: a fixed pool and a fixed table of jobs under one lock.
 * The helper's thread owns a job while it is FREE or DONE, a resolver
 * thread while it is RUNNING; the state changes under the lock, and each
 * side copies what it needs out of the table, so no field is ever read
 * while the other side writes it. */
#include "resolver.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static bool uid_running(const struct resolver *r, uint32_t uid)
{
	for (int i = 0; i < RESOLVER_JOBS; i++)
		if (r->jobs[i].state == JOB_RUNNING && r->jobs[i].in.uid == uid)
			return true;
	return false;
}

/* The oldest queued job whose uid has none running, or -1: one uid's jobs
 * run one at a time, so a uid whose lookups hang holds one thread. Under
 * the lock. */
static int oldest_queued(const struct resolver *r)
{
	int best = -1;

	for (int i = 0; i < RESOLVER_JOBS; i++)
		if (r->jobs[i].state == JOB_QUEUED &&
		    (best < 0 || r->jobs[i].seq < r->jobs[best].seq) &&
		    !uid_running(r, r->jobs[i].in.uid))
			best = i;
	return best;
}

static void notify(const struct resolver *r)
{
	uint64_t one = 1;

	/* The counter cannot overflow (it is read down to zero at every
	 * wake-up), so the write cannot fail short of a broken descriptor,
	 * and then there is nobody to tell. */
	if (write(r->efd, &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

static void *worker(void *p)
{
	const struct resolver_worker *a = p;
	struct resolver *r = a->r;
	char *buf = r->bufs[a->index];

	pthread_mutex_lock(&r->lock);
	r->ready++;
	pthread_cond_signal(&r->started);
	for (;;) {
		int j;
		while ((j = oldest_queued(r)) < 0)
			pthread_cond_wait(&r->work, &r->lock);
		struct resolver_in in = r->jobs[j].in;
		struct resolver_out out;
		r->jobs[j].state = JOB_RUNNING;
		pthread_mutex_unlock(&r->lock);

		memset(&out, 0, sizeof(out));
		out.uid = in.uid;
		r->fn(&in, &out, buf, PWBUF_SIZE);

		pthread_mutex_lock(&r->lock);
		r->jobs[j].out = out;
		r->jobs[j].state = JOB_DONE;
		notify(r);
		/* A job of the same uid may wait for this one to end. */
		pthread_cond_broadcast(&r->work);
	}
	return NULL;
}

static int start_threads(struct resolver *r)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int e = pthread_attr_init(&attr);

	if (e != 0)
		return e;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the helper's thread's business, except those the
	 * kernel sends a thread for what it did itself: blocked, they would
	 * kill the process without their handler, and --debug-sandbox's
	 * SIGSYS handler must name a call a resolver thread made. */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < RESOLVER_THREADS && e == 0; i++) {
		pthread_t t;
		r->workers[i] = (struct resolver_worker){ r, i };
		e = pthread_create(&t, &attr, worker, &r->workers[i]);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return e;
}

int resolver_start(struct resolver *r, resolve_fn fn)
{
	int e;

	r->fn = fn;
	r->ready = 0;
	r->next_seq = 0;
	for (int i = 0; i < RESOLVER_JOBS; i++)
		r->jobs[i].state = JOB_FREE;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0)
		return -1;
	if ((e = pthread_mutex_init(&r->lock, NULL)) != 0 ||
	    (e = pthread_cond_init(&r->work, NULL)) != 0 ||
	    (e = pthread_cond_init(&r->started, NULL)) != 0 ||
	    (e = start_threads(r)) != 0) {
		errno = e;
		return -1;
	}
	pthread_mutex_lock(&r->lock);
	while (r->ready < RESOLVER_THREADS)
		pthread_cond_wait(&r->started, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int resolver_fd(const struct resolver *r)
{
	return r->efd;
}

int resolver_find(struct resolver *r, uint32_t uid)
{
	int found = -1;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < RESOLVER_JOBS && found < 0; i++)
		if ((r->jobs[i].state == JOB_QUEUED || r->jobs[i].state == JOB_RUNNING) &&
		    r->jobs[i].in.uid == uid)
			found = i;
	pthread_mutex_unlock(&r->lock);
	return found;
}

unsigned resolver_count(struct resolver *r, uint32_t uid)
{
	unsigned n = 0;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < RESOLVER_JOBS; i++)
		n += (r->jobs[i].state == JOB_QUEUED || r->jobs[i].state == JOB_RUNNING) &&
		     r->jobs[i].in.uid == uid;
	pthread_mutex_unlock(&r->lock);
	return n;
}

int resolver_submit(struct resolver *r, const struct resolver_in *in)
{
	int slot = -1;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < RESOLVER_JOBS && slot < 0; i++)
		if (r->jobs[i].state == JOB_FREE)
			slot = i;
	if (slot >= 0) {
		r->jobs[slot].in = *in;
		r->jobs[slot].seq = r->next_seq++;
		r->jobs[slot].state = JOB_QUEUED;
		pthread_cond_signal(&r->work);
	}
	pthread_mutex_unlock(&r->lock);
	return slot;
}

bool resolver_started(struct resolver *r, int job)
{
	pthread_mutex_lock(&r->lock);
	bool started = r->jobs[job].state == JOB_RUNNING || r->jobs[job].state == JOB_DONE;
	pthread_mutex_unlock(&r->lock);
	return started;
}

bool resolver_cancel(struct resolver *r, int job)
{
	bool freed = false;

	pthread_mutex_lock(&r->lock);
	if (r->jobs[job].state == JOB_QUEUED) {
		r->jobs[job].state = JOB_FREE;
		freed = true;
	}
	pthread_mutex_unlock(&r->lock);
	return freed;
}

int resolver_collect(struct resolver *r, struct resolver_out *out)
{
	uint64_t count;
	int found = -1;

	/* Nonblocking: EAGAIN when the counter is already zero. */
	if (read(r->efd, &count, sizeof(count)) < 0) {
		/* nothing to read away */
	}
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < RESOLVER_JOBS && found < 0; i++)
		if (r->jobs[i].state == JOB_DONE) {
			*out = r->jobs[i].out;
			r->jobs[i].state = JOB_FREE;
			found = i;
		}
	pthread_mutex_unlock(&r->lock);
	return found;
}
