/* The lookup helper: the only process that asks the kernel who owns a
 * connection. It trusts nothing the network child says: the addresses come
 * from the passed socket itself, every message is checked, and a malformed
 * one stops the child (the monitor then restarts the pair).
 *
 * The name service and home directories can be slow or hang (sssd or LDAP
 * down, an NFS or FUSE home): that part of a lookup runs in resolver
 * threads (src/resolver.c), and this loop never waits for it. A query that
 * needs it waits in a table with a deadline (--lookup-timeout); one uid's
 * queries share one lookup; results and failures are cached (doc/design.md
 * §4). */
#include "roles.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ipc.h"
#include "keyfile.h"
#include "log.h"
#include "lograte.h"
#include "netlink.h"
#include "pending.h"
#include "policy.h"
#include "resolver.h"
#include "seccomp_policy.h"
#include "sockaddr.h"
#include "tuple.h"

/* uid -> account cache (name and home directory). Direct-mapped: a miss
 * costs one name-service lookup. Entries expire so that a renamed or
 * deleted account is seen within a minute. */
#define NAME_CACHE_SLOTS 256
#define NAME_CACHE_TTL_MS (60 * 1000)
/* A lookup that failed (an error, or no answer by its deadline) is
 * remembered this long, and the uid's queries meanwhile are answered as
 * failed at once: a backend that is down then costs one time-out per uid
 * per ten seconds, not one per query, and a client that retries (IRC
 * servers do, a few seconds apart) is not kept waiting again. Short,
 * because failures pass: a lookup that answers late ends it at once. */
#define NAME_ERROR_TTL_MS (10 * 1000)
/* Messages from the child handled per wake-up, so that a busy child cannot
 * keep finished lookups and deadlines waiting. */
#define CHILD_BATCH 64

struct cache_entry {
	bool used;
	uint32_t uid;
	uint64_t expires_ms;       /* of account: ACCOUNT_FOUND or _NONE */
	uint64_t failed_until_ms;  /* lookups of uid count as failed until then */
	struct account account;
};

/* What a decision may ask of the name service, found out beforehand. */
struct facts {
	const struct account *account;
	int file;                  /* home_file_fn's answer */
};

struct helper {
	const struct config *cfg;
	int sock, nlfd;
	int child_pidfd;   /* stops the child (doc/design.md §6) */
	uint8_t *key;   /* the token key, inherited from the monitor, or NULL */
	const char *home_file;     /* policy_home_file(cfg) */
	bool resolving;            /* the resolver threads run */
	bool busy;                 /* lookups are being refused for want of room */
	uint32_t busy_refused;
	bool job_late[RESOLVER_JOBS]; /* the job's lateness is logged */
	struct cache_entry cache[NAME_CACHE_SLOTS];
	struct pending pending;
	struct lograte lograte;
	struct resolver res;
};

static const struct account failed_account = { .status = ACCOUNT_ERROR };
static const struct facts failed = { &failed_account, -1 };

/* ---- the slow part, in the resolver threads ---- */

/* getpwuid_r into a; returns 0, or the error with ACCOUNT_ERROR. */
static int account_lookup(uint32_t uid, struct account *a, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	int err = getpwuid_r((uid_t)uid, &pw, buf, size, &res);

	memset(a, 0, sizeof(*a));
	a->status = ACCOUNT_ERROR;
	if (err != 0)
		return err;
	if (!res) {
		a->status = ACCOUNT_NONE;
		return 0;
	}
	if (strlen(pw.pw_name) >= sizeof(a->name))
		return ENAMETOOLONG;
	a->status = ACCOUNT_FOUND;
	snprintf(a->name, sizeof(a->name), "%s", pw.pw_name);
	if (pw.pw_dir != NULL && strlen(pw.pw_dir) < sizeof(a->home))
		snprintf(a->home, sizeof(a->home), "%s", pw.pw_dir);
	return 0;
}

/* Whether name in home (of uid) counts; see home_file_fn. The home is
 * opened following symbolic links (an administrator may link homes
 * elsewhere), but must belong to the user, so that a link the user made
 * to someone else's directory proves nothing. The file itself is never
 * followed or opened: the answer depends only on the directory entry the
 * user made, and tells them nothing about any other file. Not cached: one
 * stat is cheap, and a user's choice takes effect at once. */
static int check_home_file(uint32_t uid, const char *home, const char *name)
{
	struct stat st;
	int r, e, dfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);

	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (fstat(dfd, &st) < 0)
		r = -1;
	else if (st.st_uid != uid)
		r = 0;
	else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = policy_file_counts(name, uid, st.st_mode, st.st_uid);
	else
		r = errno == ENOENT ? 0 : -1;
	e = errno;
	close(dfd);
	errno = e;
	return r;
}

/* A resolver job (resolve_fn): the account unless it is known, then the
 * file if one is asked for. No account, no home, no file. */
static void resolve(const struct resolver_in *in, struct resolver_out *out,
                    char *buf, size_t size)
{
	out->account_asked = !in->have_account;
	if (in->have_account)
		out->account = in->account;
	else
		out->account_errno = account_lookup(in->uid, &out->account, buf, size);
	if (in->file == NULL)
		return;
	if (out->account.status == ACCOUNT_NONE) {
		out->file = 0;
	} else if (out->account.status != ACCOUNT_FOUND || out->account.home[0] != '/') {
		out->file = -1;
	} else {
		out->file = check_home_file(in->uid, out->account.home, in->file);
		out->file_errno = out->file < 0 ? errno : 0;
	}
}

/* ---- the cache ---- */

static struct cache_entry *cache_of(struct helper *h, uint32_t uid)
{
	struct cache_entry *e = &h->cache[uid % NAME_CACHE_SLOTS];

	if (!e->used || e->uid != uid) {
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->uid = uid;
	}
	return e;
}

static const struct cache_entry *cached(const struct helper *h, uint32_t uid)
{
	const struct cache_entry *e = &h->cache[uid % NAME_CACHE_SLOTS];

	return e->used && e->uid == uid ? e : NULL;
}

/* A finished lookup: the account is kept for NAME_CACHE_TTL_MS, a failure
 * (of the name service or of the home check) for NAME_ERROR_TTL_MS. Each
 * failure is logged once here, not once per query. */
static void remember(struct helper *h, const struct resolver_out *o, uint64_t now)
{
	struct cache_entry *e = cache_of(h, o->uid);

	if (o->account.status == ACCOUNT_ERROR) {
		log_msg(LOG_LVL_WARN, "name service failed for uid %u (%s): its queries "
		        "fail for %d s", o->uid, strerror(o->account_errno),
		        NAME_ERROR_TTL_MS / 1000);
		e->failed_until_ms = now + NAME_ERROR_TTL_MS;
		return;
	}
	/* An account that came from the cache keeps its age: it is asked
	 * again when it expires, however often its home is checked. */
	if (o->account_asked) {
		e->account = o->account;
		e->expires_ms = now + NAME_CACHE_TTL_MS;
	}
	e->failed_until_ms = 0;
	if (h->home_file != NULL && o->file < 0) {
		log_msg(LOG_LVL_WARN, "cannot tell whether uid %u has ~/%s (%s): hiding "
		        "it for %d s", o->uid, h->home_file, o->file_errno != 0 ?
		        strerror(o->file_errno) : "no usable home directory",
		        NAME_ERROR_TTL_MS / 1000);
		e->failed_until_ms = now + NAME_ERROR_TTL_MS;
	}
}

/* ---- deciding and replying ---- */

/* The facts of the query being decided, for the policy's callbacks (the
 * loop runs in one thread; the callbacks never block). */
static const struct facts *current;

static int facts_name(uint32_t uid, char *name, size_t size)
{
	(void)uid;
	if (current == NULL || current->account->status == ACCOUNT_ERROR)
		return -1;
	if (current->account->status == ACCOUNT_NONE)
		return 1;
	snprintf(name, size, "%s", current->account->name);
	return 0;
}

static int facts_home_file(uint32_t uid, const char *name)
{
	(void)uid;
	(void)name;
	return current != NULL ? current->file : -1;
}

static void log_query(struct helper *h, const struct pending_query *pq,
                      const struct verdict *v)
{
	char peer[64] = "?", local[64] = "?", res[USERID_MAX + 32];
	struct host_keys keys;
	const uint8_t *who = NULL;   /* a peer unknown: the other peers' count */

	if (pq->have_tuple) {
		host_keys(pq->t.family, pq->t.remote, &keys);
		who = keys.host;
	}
	if (!lograte_admit(&h->lograte, who, clock_mono_ms()))
		return;
	if (pq->have_tuple) {
		sa_addr_text(pq->t.family, pq->t.remote, peer, sizeof(peer));
		sa_addr_text(pq->t.family, pq->t.local, local, sizeof(local));
	}
	policy_describe(v, res, sizeof(res));
	if (pq->r == NL_FOUND)
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u result=%s uid=%u",
		        peer, local, pq->q.server_port, pq->q.client_port, res, pq->uid);
	else
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u result=%s",
		        peer, local, pq->q.server_port, pq->q.client_port, res);
}

/* Decides with what is known about the owner (f: NULL when the policy
 * needs nothing), logs, and sends the reply. -1 when the send failed. */
static int reply(struct helper *h, const struct pending_query *pq,
                 const struct facts *f)
{
	struct verdict v;
	struct ipc_reply rep;
	struct timespec now;
	struct policy_env env = { facts_name, facts_home_file, h->key };

	clock_gettime(CLOCK_REALTIME, &now);
	struct policy_query q = { pq->r, pq->uid, pq->t.family, pq->t.remote,
	                          (int64_t)now.tv_sec };
	current = f;
	policy_decide(h->cfg, &q, &env, &v);
	current = NULL;

	memset(&rep, 0, sizeof(rep));
	rep.type = IPC_REPLY;
	rep.conn = pq->q.conn;
	rep.gen = pq->q.gen;
	rep.len = (uint32_t)policy_format(&v, pq->q.server_port, pq->q.client_port,
	                                  rep.line, sizeof(rep.line));
	log_query(h, pq, &v);
	return ipc_send(h->sock, &rep, sizeof(rep), -1, 0);
}

/* ---- lookups that wait ---- */

/* Every job slot or waiting place is taken: logged when it starts and when
 * it ends, with the count, never once per query. */
static void note_room(struct helper *h, bool room)
{
	if (!room && !h->busy)
		log_msg(LOG_LVL_WARN, "every lookup slot is taken: queries that need the "
		        "name service fail until one frees");
	else if (room && h->busy)
		log_msg(LOG_LVL_WARN, "lookup slots free again; %u queries failed for "
		        "want of one", h->busy_refused);
	if (!room)
		h->busy_refused++;
	else
		h->busy_refused = 0;
	h->busy = !room;
}

/* The job for pq's uid: the one on its way, or a new one. -1 if no room. */
static int job_for(struct helper *h, const struct pending_query *pq, unsigned need,
                   const struct cache_entry *e, bool account_known)
{
	int job = resolver_find(&h->res, pq->uid);

	if (job >= 0)
		return job;
	struct resolver_in in = { .uid = pq->uid };
	if (need & POLICY_NEEDS_HOME_FILE)
		in.file = h->home_file;
	if (account_known) {
		in.have_account = true;
		in.account = e->account;
	}
	job = resolver_submit(&h->res, &in);
	if (job >= 0)
		h->job_late[job] = false;
	return job;
}

/* A query that needs the name service: answered from the cache when it
 * can be, else it waits for a job until its deadline. */
static int look_up(struct helper *h, const struct pending_query *pq, unsigned need)
{
	uint64_t now = clock_mono_ms();
	const struct cache_entry *e = cached(h, pq->uid);
	bool account_known = e != NULL && e->expires_ms > now;

	if (e != NULL && e->failed_until_ms > now)
		return reply(h, pq, &failed);
	if (account_known &&
	    (!(need & POLICY_NEEDS_HOME_FILE) || e->account.status == ACCOUNT_NONE)) {
		struct facts f = { &e->account, 0 };
		return reply(h, pq, &f);
	}
	int job = h->resolving ? job_for(h, pq, need, e, account_known) : -1;
	bool room = job >= 0 &&
	            pending_add(&h->pending, pq, job,
	                        now + (uint64_t)h->cfg->lookup_timeout * 1000) != NULL;
	note_room(h, room);
	if (!room) {
		/* A job queued for this query alone waits for nobody now. */
		if (job >= 0 && pending_first_of(&h->pending, job) == NULL)
			resolver_cancel(&h->res, job);
		return reply(h, pq, &failed);
	}
	return 0;
}

/* Finished jobs: cache the result, answer every query that waited. */
static int on_resolved(struct helper *h)
{
	struct resolver_out out;
	int job;

	while ((job = resolver_collect(&h->res, &out)) >= 0) {
		remember(h, &out, clock_mono_ms());
		struct facts f = { &out.account, out.file };
		struct pending_entry *w;
		while ((w = pending_first_of(&h->pending, job)) != NULL) {
			struct pending_query pq = w->pq;
			pending_remove(&h->pending, w);
			if (reply(h, &pq, &f) < 0)
				return -1;
		}
	}
	return 0;
}

/* Queries past their deadline are answered as failed lookups, and the uid
 * counts as failed for NAME_ERROR_TTL_MS. A job nobody waits for any more
 * is dropped if it has not started; a running one goes on, and its result
 * is still cached. */
static int expire(struct helper *h, uint64_t now)
{
	struct pending_entry *w;

	while ((w = pending_expired(&h->pending, now)) != NULL) {
		struct pending_query pq = w->pq;
		int job = w->job;
		pending_remove(&h->pending, w);
		cache_of(h, pq.uid)->failed_until_ms = now + NAME_ERROR_TTL_MS;
		if (!h->job_late[job]) {
			h->job_late[job] = true;
			log_msg(LOG_LVL_WARN, "%s about uid %u within %u s: its queries fail "
			        "for %d s", resolver_started(&h->res, job) ?
			        "no answer from the name service" :
			        "every resolver thread busy, no lookup", pq.uid,
			        h->cfg->lookup_timeout, NAME_ERROR_TTL_MS / 1000);
		}
		if (pending_first_of(&h->pending, job) == NULL)
			resolver_cancel(&h->res, job);
		if (reply(h, &pq, &failed) < 0)
			return -1;
	}
	return 0;
}

/* ---- messages from the child ---- */

static int on_query(struct helper *h, const struct ipc_query *q, int fd)
{
	struct pending_query pq;

	/* A connection reset since the child passed it has no addresses any
	 * more: that is an UNKNOWN-ERROR for a client that is gone anyway. */
	memset(&pq, 0, sizeof(pq));
	pq.q = *q;
	pq.r = NL_ERROR;
	pq.have_tuple = tuple_of_tcp_socket(fd, q->server_port, q->client_port,
	                                    &pq.t) == 0;
	close(fd);
	if (pq.have_tuple && h->cfg->mode != MODE_FIXED)
		pq.r = nl_lookup(h->nlfd, &pq.t, &pq.uid);
	struct policy_query probe = { pq.r, pq.uid, pq.t.family, pq.t.remote, 0 };
	unsigned need = policy_needs(h->cfg, &probe);
	if (need == 0)
		return reply(h, &pq, NULL);
	return look_up(h, &pq, need);
}

static const char *event_name(uint32_t kind)
{
	switch (kind) {
	case EV_INVALID: return "malformed request, connection closed";
	case EV_TIMEOUT: return "idle time-out";
	case EV_MAX_QUERIES: return "query limit reached, connection closed";
	case EV_LIMIT_HOST: return "refused: per-host connection limit";
	case EV_LIMIT_TOTAL: return "refused: connection limit";
	case EV_BAD_PORT: return "port out of range";
	case EV_SECCOMP: return "forbidden system call";
	case EV_EVICTED: return "closed to make room: its site held the most connections";
	case EV_LIMIT_SITE: return "refused: IPv6 /48 connection limit";
	default: return "?";
	}
}

static void log_event(struct helper *h, const struct ipc_event *e)
{
	char peer[64], name[64];
	struct host_keys keys;

	if (e->kind == EV_SECCOMP) {
		log_msg(LOG_LVL_ERR, "network child made a forbidden system call: %s",
		        seccomp_name((int)e->syscall_nr, name, sizeof(name)));
		return;
	}

	sa_addr_text(e->family, e->addr, peer, sizeof(peer));
	if (e->kind == EV_BAD_PORT && e->count == 1) {
		/* A query line like any other, folded like any other (the
		 * child's own sum of many goes below, with its count). */
		host_keys(e->family, e->addr, &keys);
		if (lograte_admit(&h->lograte, keys.host, clock_mono_ms()))
			log_msg(LOG_LVL_INFO, "query peer=%s ports=%u,%u result=%s",
			        peer, e->ports[0], e->ports[1], h->cfg->mask_errors ?
			        "UNKNOWN-ERROR masked=INVALID-PORT" : "INVALID-PORT");
	} else if (e->count > 1) {
		log_msg(LOG_LVL_WARN, "peer=%s %s (%u times in the last second)",
		        peer, event_name(e->kind), e->count);
	} else {
		log_msg(LOG_LVL_INFO, "peer=%s %s", peer, event_name(e->kind));
	}
}

/* The child broke the protocol: it is no longer the program we started.
 * Stop it; the monitor restarts the pair with fresh sandboxes. */
static void child_violation(struct helper *h, const char *why)
{
	log_msg(LOG_LVL_ERR, "network child sent %s; stopping it", why);
	syscall(SYS_pidfd_send_signal, h->child_pidfd, SIGKILL, NULL, 0);
}

static int dispatch(struct helper *h, const unsigned char *buf, size_t n, int fd)
{
	uint32_t type = 0;
	struct ipc_query q;
	struct ipc_event e;

	if (n >= sizeof(type))
		memcpy(&type, buf, sizeof(type));
	if (type == IPC_QUERY && fd >= 0 && ipc_decode_query(buf, n, &q) == 0) {
		if (!tuple_is_tcp(fd)) {
			close(fd);
			child_violation(h, "a descriptor that is not a TCP socket");
			return 0;
		}
		return on_query(h, &q, fd);
	}
	if (type == IPC_EVENT && fd < 0 && ipc_decode_event(buf, n, &e) == 0) {
		log_event(h, &e);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	child_violation(h, "a malformed message");
	return 0;
}

static struct helper the_helper;

/* A uid no account has ((uid_t)-1 is never valid): its lookup walks the
 * whole passwd chain of nsswitch.conf. */
#define PRELOAD_ABSENT_UID UINT32_MAX

/* Looks names up, so that the name-service modules are loaded (they map
 * executable code, which the sandbox then forbids). Root alone stops at
 * "files"; a uid found nowhere loads every module after it too. Before
 * the resolver threads start, so the first thread's buffer is free. */
static void preload_name_service(struct helper *h)
{
	struct account a;
	(void)account_lookup(0, &a, h->res.bufs[0], PWBUF_SIZE);
	(void)account_lookup(PRELOAD_ABSENT_UID, &a, h->res.bufs[0], PWBUF_SIZE);
}

void helper_use_key(uint8_t *key)
{
	the_helper.key = key;
}

int helper_prepare(const struct config *c, int sock, int child_pidfd)
{
	struct helper *h = &the_helper;

	/* Memory locks do not survive fork: lock this copy of the key again
	 * (a failure is no reason not to serve, but it is logged). */
	if (h->key != NULL && keyfile_relock(h->key) < 0)
		log_msg(LOG_LVL_WARN, "cannot lock the token key in memory: %s",
		        strerror(errno));
	h->cfg = c;
	h->sock = sock;
	h->nlfd = -1;
	h->child_pidfd = child_pidfd;
	h->home_file = policy_home_file(c);
	pending_init(&h->pending);
	lograte_init(&h->lograte);
	if (c->mode != MODE_FIXED) {
		h->nlfd = nl_open();
		if (h->nlfd < 0) {
			log_msg(LOG_LVL_ERR, "cannot open the sock_diag netlink socket: %s",
			        strerror(errno));
			return -1;
		}
	}
	preload_name_service(h);
	/* Threads only where a reply can need the name service or a home:
	 * the filter that follows forbids making them. */
	h->resolving = c->mode != MODE_FIXED && c->mode != MODE_HIDDEN &&
	               (c->mode == MODE_USER || h->home_file != NULL);
	if (h->resolving && resolver_start(&h->res, resolve) < 0) {
		log_msg(LOG_LVL_ERR, "cannot start the resolver threads: %s",
		        strerror(errno));
		return -1;
	}
	return 0;
}

void helper_report_syscall(int nr)
{
	char name[64];
	log_raw(LOG_LVL_ERR, "lookup helper made a forbidden system call: ",
	        seccomp_name(nr, name, sizeof(name)));
}

/* One summary line for each peer whose folded window is over (every
 * window with all). */
static void log_summaries(struct helper *h, uint64_t now, bool all)
{
	struct lograte_summary s;
	char peer[INET6_ADDRSTRLEN + 8];

	while (lograte_take(&h->lograte, now, all, &s))
		log_msg(LOG_LVL_INFO, "peer=%s folded=%u query lines in %llu ms "
		        "(more than %d a second)", lograte_peer_name(&s, peer, sizeof(peer)),
		        s.folded, (unsigned long long)s.ms, LOGRATE_BURST);
}

/* The poll time-out: the next deadline or summary, -1 for none. */
static int wait_ms(const struct helper *h, uint64_t now)
{
	int64_t a = pending_next_ms(&h->pending, now);
	int64_t b = lograte_next_ms(&h->lograte, now);
	int64_t t = a < 0 ? b : b < 0 ? a : a < b ? a : b;

	return t > INT32_MAX ? INT32_MAX : (int)t;
}

/* A failed send to the child: gone (status 0, the monitor takes over), or
 * broken (1). */
static int send_failed(void)
{
	if (errno == EPIPE || errno == ECONNRESET)
		return 0;
	log_msg(LOG_LVL_ERR, "helper: send: %s", strerror(errno));
	return 1;
}

/* Messages waiting from the child. Returns -1 to go on, else the exit
 * status. */
static int on_child(struct helper *h)
{
	unsigned char buf[IPC_RECV_MAX];

	for (int k = 0; k < CHILD_BATCH; k++) {
		int fd;
		ssize_t n = ipc_recv(h->sock, buf, sizeof(buf), &fd, 1);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1;
		if (n == 0)
			return 0;   /* the child is gone: the monitor takes over */
		if (n < 0 && errno == EBADMSG) {
			child_violation(h, "a truncated message or extra descriptors");
			continue;
		}
		if (n < 0) {
			log_msg(LOG_LVL_ERR, "helper: receive: %s", strerror(errno));
			return 1;
		}
		if (dispatch(h, buf, (size_t)n, fd) < 0)
			return send_failed();
	}
	return -1;
}

static int serve(struct helper *h)
{
	for (;;) {
		uint64_t now = clock_mono_ms();
		if (expire(h, now) < 0)
			return send_failed();
		log_summaries(h, now, false);
		struct pollfd p[2] = {
			{ .fd = h->sock, .events = POLLIN },
			{ .fd = h->resolving ? resolver_fd(&h->res) : -1, .events = POLLIN },
		};
		int n = poll(p, 2, wait_ms(h, now));
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_LVL_ERR, "helper: poll: %s", strerror(errno));
			return 1;
		}
		if (n <= 0)
			continue;
		if ((p[1].revents & POLLIN) && on_resolved(h) < 0)
			return send_failed();
		if (p[0].revents != 0) {
			int status = on_child(h);
			if (status >= 0)
				return status;
		}
	}
}

int helper_serve(void)
{
	int status = serve(&the_helper);

	log_summaries(&the_helper, clock_mono_ms(), true);
	keyfile_wipe(the_helper.key);
	return status;
}
