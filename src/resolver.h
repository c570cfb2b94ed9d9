/* The lookup helper's resolver threads (doc/design.md §4): a fixed pool that
 * runs the slow part of a lookup (the name service, the home directory) one
 * uid at a time, so that the helper's own loop never waits for either. The
 * helper hands a job over, polls resolver_fd, and collects the result; a
 * job that hangs holds its thread and nothing else. */
#ifndef PRIVIDENT_RESOLVER_H
#define PRIVIDENT_RESOLVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "userfile.h"

/* Threads. Each uid whose lookup hangs holds one until the name service
 * answers; the others keep serving everyone else. Four leave three free
 * with one dead backend or one user's hung home, at the cost of three idle
 * threads (a stack each, mapped on use) when all is well. */
#define RESOLVER_THREADS 4
/* Jobs queued or running at once, each for another uid: the bounded queue
 * behind busy threads. A query that needs a job when every slot is taken
 * is answered at once as a failed lookup. */
#define RESOLVER_JOBS 64
/* Jobs for one uid at once. A query that reads the owner's ~/.oidentd.conf
 * has a job of its own (the file changes from one connection to the next,
 * so no query may take another's reading), and one uid's jobs run one at a
 * time (a hung home holds one thread). A bouncer's connections are asked
 * about a few at a time, each job taking well under a millisecond; past
 * this many waiting, one uid would crowd the others out of the table, so
 * its further queries fail at once. */
#define RESOLVER_JOBS_PER_UID 8
/* Longest home directory kept for the ~/.noident and ~/.ident checks. A
 * longer one cannot be checked, and counts as "cannot tell" (hidden). */
#define HOME_MAX 256
/* getpwuid_r's buffer, one per thread: an account from LDAP or sssd can
 * carry far more than a passwd line (long GECOS, many attributes), and
 * ERANGE would make its owner unanswerable for good; 64 KiB holds any
 * entry a name service hands out in practice. */
#define PWBUF_SIZE (64 * 1024)

enum account_status {
	ACCOUNT_FOUND,
	ACCOUNT_NONE,    /* the name service has no such uid */
	ACCOUNT_ERROR,   /* the name service failed (or is not asked yet) */
};

struct account {
	enum account_status status;
	uint32_t gid;                /* with ACCOUNT_FOUND: the primary group */
	char name[USERID_MAX + 1];   /* with ACCOUNT_FOUND */
	char home[HOME_MAX + 1];     /* with ACCOUNT_FOUND; "" when too long */
};

/* What a job is to find out about uid. */
struct resolver_in {
	uint32_t uid;
	const char *file;       /* ".noident"/".ident" to check in the home
	                           (a string that lives for ever), or NULL */
	bool have_account;      /* account is known (cached): do not ask again */
	struct account account;
	bool user_file;         /* read ~/.oidentd.conf for conn */
	struct userconf_conn conn;
	/* The name a user's own ident server gave for a forward (at
	 * fwd_addr, fwd_port): checked as a chosen reply ("" for none). */
	char check_name[USERCONF_REPLY_MAX + 1];
	int fwd_family;
	uint8_t fwd_addr[16];
	uint16_t fwd_port;
};

struct resolver_out {
	uint32_t uid;
	struct account account;
	bool account_asked;     /* account is fresh from the name service */
	int account_errno;      /* why not, with ACCOUNT_ERROR */
	int file;               /* with in.file: 1 counts, 0 does not, -1
	                           cannot tell (policy.h, home_file_fn) */
	int file_errno;         /* why not, with file == -1 (0: no home) */
	struct userfile_result uf; /* with in.user_file */
};

/* The slow part itself, run by a resolver thread. buf is the thread's own
 * PWBUF_SIZE scratch buffer. */
typedef void (*resolve_fn)(const struct resolver_in *in, struct resolver_out *out,
                           char *buf, size_t size);

enum job_state { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct resolver;
struct resolver_worker {
	struct resolver *r;
	unsigned index;             /* its scratch buffer */
};

struct resolver_job {
	enum job_state state;
	uint64_t seq;               /* queued order: the oldest runs first */
	struct resolver_in in;      /* written by the helper while FREE */
	struct resolver_out out;    /* written by the thread while RUNNING */
};

struct resolver {
	pthread_mutex_t lock;       /* guards every job's state and seq, and
	                               out from RUNNING to collected */
	pthread_cond_t work;        /* a job was queued */
	pthread_cond_t started;     /* a thread is ready */
	unsigned ready;
	int efd;                    /* eventfd: a job is done */
	uint64_t next_seq;
	resolve_fn fn;
	struct resolver_job jobs[RESOLVER_JOBS];
	struct resolver_worker workers[RESOLVER_THREADS];
	char bufs[RESOLVER_THREADS][PWBUF_SIZE];
};

/* Starts the threads, every signal blocked in them, and returns once each
 * is waiting for work (past the C library's own start-up calls, so that a
 * seccomp filter loaded next, with TSYNC, meets only the calls of fn).
 * Returns 0, or -1 with errno. The helper calls it before its filter,
 * which forbids making threads. */
int resolver_start(struct resolver *r, resolve_fn fn);

/* The descriptor to poll for POLLIN: readable when a job is done. */
int resolver_fd(const struct resolver *r);

/* The job queued or running for uid, or -1: a lookup already on its way
 * is shared, never asked twice. */
int resolver_find(struct resolver *r, uint32_t uid);

/* How many jobs for uid are queued or running. */
unsigned resolver_count(struct resolver *r, uint32_t uid);

/* Queues a job. Returns its index, or -1 when every job slot is taken. */
int resolver_submit(struct resolver *r, const struct resolver_in *in);

/* Whether a resolver thread has taken the job (it runs, or is done). */
bool resolver_started(struct resolver *r, int job);

/* Drops a job nobody waits for any more: a queued one is freed (true), a
 * running one goes on and is still collected (false). */
bool resolver_cancel(struct resolver *r, int job);

/* Takes one finished job: copies its result to *out and frees its slot.
 * Returns its index, or -1 when none is done. Reads the eventfd's count
 * away first, so call it until it returns -1 after every wake-up. */
int resolver_collect(struct resolver *r, struct resolver_out *out);

#endif
