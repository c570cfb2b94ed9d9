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
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ipc.h"
#include "forward.h"
#include "keyfile.h"
#include "log.h"
#include "lograte.h"
#include "netlink.h"
#include "pending.h"
#include "policy.h"
#include "relay.h"
#include "resolver.h"
#include "seccomp_policy.h"
#include "sockaddr.h"
#include "tuple.h"
#include "userconf.h"
#include "userfile.h"

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
/* A user-file problem (a refused file, a refused reply) is logged once,
 * then again only when it changes or after this long: a bouncer's
 * connections are asked about one after another, and one bad file must
 * not fill the log. */
#define USERFILE_LOG_REPEAT_MS (60 * 1000)
#define USERFILE_LOG_MAX 200

struct cache_entry {
	bool used;
	uint32_t uid;
	uint64_t expires_ms;       /* of account: ACCOUNT_FOUND or _NONE */
	uint64_t failed_until_ms;  /* lookups of uid count as failed until then */
	struct account account;
	uint64_t uf_logged_ms;     /* when uf_logged was logged */
	char uf_logged[USERFILE_LOG_MAX]; /* the last user-file line */
};

/* What a decision may ask of the name service, found out beforehand. */
struct facts {
	const struct account *account;
	int file;                  /* home_file_fn's answer */
	const struct userfile_result *uf; /* the owner's ~/.oidentd.conf, or NULL */
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
	int ct_sock, fwd_sock;     /* the forwarding roles, or -1 */
	struct relay relay;
};

static const struct account failed_account = { .status = ACCOUNT_ERROR };
static const struct facts failed = { &failed_account, -1, NULL };

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
	a->gid = (uint32_t)pw.pw_gid;
	snprintf(a->name, sizeof(a->name), "%s", pw.pw_name);
	if (pw.pw_dir != NULL && strlen(pw.pw_dir) < sizeof(a->home))
		snprintf(a->home, sizeof(a->home), "%s", pw.pw_dir);
	return 0;
}

/* Opens uid's home directory into *dfd: 1, or 0 when there is none or it
 * is not the user's (then *dfd is -1), or -1 with errno. The home is
 * opened following symbolic links (an administrator may link homes
 * elsewhere), but must belong to the user, so that a link the user made
 * to someone else's directory proves nothing. */
static int open_home(uint32_t uid, const char *home, int *dfd)
{
	struct stat st;

	*dfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (*dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (fstat(*dfd, &st) == 0 && st.st_uid == uid)
		return 1;
	int e = errno, r = st.st_uid == uid ? -1 : 0;
	close(*dfd);
	*dfd = -1;
	errno = e;
	return r;
}

/* Whether name in the home (of uid) counts; see home_file_fn. The file
 * itself is never followed or opened: the answer depends only on the
 * directory entry the user made, and tells them nothing about any other
 * file. Not cached: one stat is cheap, and a user's choice takes effect
 * at once. */
static int check_home_file(int dfd, uint32_t uid, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return policy_file_counts(name, uid, st.st_mode, st.st_uid);
	return errno == ENOENT ? 0 : -1;
}

/* The name service's side of a user-file decision, in a resolver thread:
 * the account and the thread's scratch buffer. */
struct uf_ctx {
	const struct config *cfg;
	const struct account *account;
	char *buf;
	size_t size;
};

/* Whether the account is named in user-replies, itself or through one of
 * its @groups (its primary group, or a member list that names it). A
 * group the name service cannot give is no permission. */
static bool uf_may_choose(void *p)
{
	const struct uf_ctx *x = p;

	for (unsigned i = 0; i < x->cfg->nuser_replies; i++) {
		const char *e = x->cfg->user_replies[i];
		struct group gr, *res = NULL;
		if (e[0] != '@') {
			if (strcmp(e, x->account->name) == 0)
				return true;
			continue;
		}
		if (getgrnam_r(e + 1, &gr, x->buf, x->size, &res) != 0 || res == NULL)
			continue;
		if ((uint32_t)gr.gr_gid == x->account->gid)
			return true;
		for (char **m = gr.gr_mem; m != NULL && *m != NULL; m++)
			if (strcmp(*m, x->account->name) == 0)
				return true;
	}
	return false;
}

/* Whether name, as written or in lower case (an IRC network compares
 * idents without case), is the login name of an account other than uid:
 * 1 with *other, 0 no, -1 the name service failed. */
static int uf_other_account(void *p, const char *name, uint32_t uid,
                            uint32_t *other)
{
	const struct uf_ctx *x = p;
	char lower[USERCONF_REPLY_MAX + 1];
	const char *forms[2] = { name, lower };
	size_t n = 0;

	for (; n < USERCONF_REPLY_MAX && name[n] != '\0'; n++)
		lower[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] + 32 : name[n]);
	lower[n] = '\0';
	for (int i = 0; i < 2; i++) {
		struct passwd pw, *res = NULL;
		if (i == 1 && strcmp(name, lower) == 0)
			break;
		if (getpwnam_r(forms[i], &pw, x->buf, x->size, &res) != 0)
			return -1;
		if (res != NULL && (uint32_t)pw.pw_uid != uid) {
			*other = (uint32_t)pw.pw_uid;
			return 1;
		}
	}
	return 0;
}

/* The user file's scratch space, one per resolver thread: the file and
 * the rule kept for the query, too large for the 64 KiB name-service
 * buffer, made with the thread before the filter. */
static _Thread_local char uf_text[USERCONF_FILE_MAX + 1];
static _Thread_local struct userconf uf_conf;

static struct helper the_helper = { .ct_sock = -1, .fwd_sock = -1 };

/* The home's part of a job: the noident/opt-in file, the user file. */
static void resolve_home(const struct resolver_in *in, struct resolver_out *out,
                         char *buf, size_t size)
{
	int dfd, h = open_home(in->uid, out->account.home, &dfd);

	if (in->file != NULL) {
		out->file = h < 0 ? -1 : h == 0 ? 0 : check_home_file(dfd, in->uid, in->file);
		out->file_errno = out->file < 0 ? errno : 0;
	}
	if (in->user_file && h > 0) {
		struct uf_ctx x = { the_helper.cfg, &out->account, buf, size };
		struct userfile_env env = { uf_may_choose, uf_other_account, &x,
		                            the_helper.cfg->user_reply_any_name, 0 };
		if (getrandom(&env.pick, sizeof(env.pick), GRND_NONBLOCK) < 0)
			env.pick = 0;
		userfile_lookup(dfd, in->uid, &in->conn, &env, uf_text, sizeof(uf_text),
		                &uf_conf, &out->uf);
	}
	if (dfd >= 0)
		close(dfd);
}

/* The name a user's own ident server gave (a forward): a chosen reply,
 * so the other-account check applies (the form was checked already). */
static void check_forwarded(const struct resolver_in *in, struct resolver_out *out,
                            char *buf, size_t size)
{
	struct userfile_result *r = &out->uf;
	struct uf_ctx x = { the_helper.cfg, &out->account, buf, size };
	int other = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->reply, sizeof(r->reply), "%s", in->check_name);
	r->fwd_family = in->fwd_family;
	memcpy(r->fwd_addr, in->fwd_addr, sizeof(r->fwd_addr));
	r->fwd_port = in->fwd_port;
	r->file = "forward";
	if (out->account.status != ACCOUNT_FOUND)
		return;
	if (!the_helper.cfg->user_reply_any_name)
		other = uf_other_account(&x, in->check_name, in->uid, &r->other_uid);
	r->status = other > 0 ? UF_OTHER_NAME : other < 0 ? UF_NAME_UNKNOWN : UF_APPLIED;
	r->choice = other == 0 ? CHOICE_REPLY : CHOICE_NONE;
}

/* A resolver job (resolve_fn): the account unless it is known, then the
 * files if they are asked for. No account, no home, no file. */
static void resolve(const struct resolver_in *in, struct resolver_out *out,
                    char *buf, size_t size)
{
	out->account_asked = !in->have_account;
	if (in->have_account)
		out->account = in->account;
	else
		out->account_errno = account_lookup(in->uid, &out->account, buf, size);
	if (in->check_name[0] != '\0') {
		check_forwarded(in, out, buf, size);
		return;
	}
	if (in->file == NULL && !in->user_file)
		return;
	if (out->account.status == ACCOUNT_NONE) {
		out->file = 0;
	} else if (out->account.status != ACCOUNT_FOUND || out->account.home[0] != '/') {
		out->file = -1;
	} else {
		resolve_home(in, out, buf, size);
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

static enum user_choice facts_user_choice(uint32_t uid, char *name, size_t size)
{
	(void)uid;
	if (current == NULL || current->uf == NULL)
		return CHOICE_NONE;
	if (current->uf->choice == CHOICE_REPLY)
		snprintf(name, size, "%s", current->uf->reply);
	return current->uf->choice;
}

/* A line about uid's user file: logged once, again only when it changes
 * or after USERFILE_LOG_REPEAT_MS. */
static void log_once(struct helper *h, uint32_t uid, enum log_level lvl,
                     const char *line, uint64_t now)
{
	struct cache_entry *e = cache_of(h, uid);

	if (strcmp(e->uf_logged, line) == 0 && now < e->uf_logged_ms + USERFILE_LOG_REPEAT_MS)
		return;
	snprintf(e->uf_logged, sizeof(e->uf_logged), "%s", line);
	e->uf_logged_ms = now;
	log_msg(lvl, "uid %u: %s", uid, line);
}

/* What a user's file came to, when there is something to say: logged once
 * per uid, again when it changes or after USERFILE_LOG_REPEAT_MS. */
static void log_user_file(struct helper *h, uint32_t uid,
                          const struct userfile_result *r, uint64_t now)
{
	char line[USERFILE_LOG_MAX];

	userfile_describe(r, line, sizeof(line));
	if (line[0] == '\0')
		return;
	log_once(h, uid, r->status == UF_OTHER_NAME || r->status == UF_REFUSED ?
	         LOG_LVL_WARN : LOG_LVL_INFO, line, now);
}

/* The query came from a forwarding gateway (--proxy): its peer, as read
 * from the query socket, is a configured proxy address (doc/design.md
 * §4). */
static bool from_proxy(const struct helper *h, const struct pending_query *pq)
{
	return pq->have_tuple && config_is_proxy(h->cfg, pq->t.family, pq->t.remote);
}

static void log_query(struct helper *h, const struct pending_query *pq,
                      const struct verdict *v, const struct facts *f)
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
	/* A gateway's query was about a connection to any remote address. */
	const char *via = from_proxy(h, pq) ? " proxy=yes" : "";
	if (v->chosen && f != NULL && f->uf != NULL && f->uf->fwd_port != 0) {
		char fwd[64];
		sa_addr_text(f->uf->fwd_family, f->uf->fwd_addr, fwd, sizeof(fwd));
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u%s result=%s uid=%u "
		        "chosen=forward:%s,%u", peer, local, pq->q.server_port,
		        pq->q.client_port, via, res, pq->uid, fwd, f->uf->fwd_port);
	} else if (v->chosen && f != NULL && f->uf != NULL)
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u%s result=%s uid=%u "
		        "chosen=~/%s:%u", peer, local, pq->q.server_port,
		        pq->q.client_port, via, res, pq->uid, f->uf->file, f->uf->line);
	else if (pq->r == NL_FOUND)
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u%s result=%s uid=%u",
		        peer, local, pq->q.server_port, pq->q.client_port, via, res,
		        pq->uid);
	else
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u%s result=%s",
		        peer, local, pq->q.server_port, pq->q.client_port, via, res);
}

/* The reply message for pq with verdict v (policy_format may turn a
 * USERID it refuses into UNKNOWN-ERROR: log v afterwards). */
static void reply_line(const struct pending_query *pq, struct verdict *v,
                       struct ipc_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->type = IPC_REPLY;
	rep->conn = pq->q.conn;
	rep->gen = pq->q.gen;
	rep->len = (uint32_t)policy_format(v, pq->q.server_port, pq->q.client_port,
	                                   rep->line, sizeof(rep->line));
}

/* Decides with what is known about the owner (f: NULL when the policy
 * needs nothing), logs, and sends the reply. -1 when the send failed. */
static int reply(struct helper *h, const struct pending_query *pq,
                 const struct facts *f)
{
	struct verdict v;
	struct ipc_reply rep;
	struct timespec now;
	struct policy_env env = { facts_name, facts_home_file, h->key,
	                          facts_user_choice };

	clock_gettime(CLOCK_REALTIME, &now);
	struct policy_query q = { pq->r, pq->uid, pq->t.family, pq->t.remote,
	                          (int64_t)now.tv_sec };
	current = f;
	policy_decide(h->cfg, &q, &env, &v);
	current = NULL;

	reply_line(pq, &v, &rep);
	log_query(h, pq, &v, f);
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
	int job = -1;

	/* A user file is read for this query alone, after it came. */
	if (!(need & POLICY_NEEDS_USER_FILE))
		job = resolver_find(&h->res, pq->uid);
	else if (resolver_count(&h->res, pq->uid) >= RESOLVER_JOBS_PER_UID)
		return -1;
	if (job >= 0)
		return job;
	struct resolver_in in = { .uid = pq->uid };
	if (need & POLICY_NEEDS_HOME_FILE)
		in.file = h->home_file;
	if (need & POLICY_NEEDS_USER_FILE) {
		in.user_file = true;
		in.conn.family = pq->t.family;
		memcpy(in.conn.local, pq->t.local, sizeof(in.conn.local));
		memcpy(in.conn.remote, pq->t.remote, sizeof(in.conn.remote));
		in.conn.local_port = pq->t.local_port;
		in.conn.remote_port = pq->t.remote_port;
	}
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
	if (account_known && (e->account.status == ACCOUNT_NONE ||
	                      !(need & (POLICY_NEEDS_HOME_FILE | POLICY_NEEDS_USER_FILE)))) {
		struct facts f = { &e->account, 0, NULL };
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

/* The account as the cache has it, for a reply after a forward. */
static struct facts cached_facts(const struct helper *h, uint32_t uid)
{
	const struct cache_entry *e = cached(h, uid);
	struct facts f = { e != NULL ? &e->account : &failed_account, 0, NULL };

	return f;
}

/* A user's forward that gave nothing usable: one line (per uid, as a
 * file's), and the account's normal reply. */
static int forward_unused(struct helper *h, const struct pending_query *pq,
                          int family, const uint8_t *addr, unsigned port,
                          const char *why)
{
	char where[64], line[USERFILE_LOG_MAX];
	struct facts f;

	sa_addr_text(family, addr, where, sizeof(where));
	snprintf(line, sizeof(line), "forward to %s,%u not used: %s", where, port, why);
	log_once(h, pq->uid, LOG_LVL_INFO, line, clock_mono_ms());
	f = cached_facts(h, pq->uid);
	return reply(h, pq, &f);
}

/* A rule forwards to the user's own ident server on this host: only if
 * the listener there is the user's (sock_diag), then through the
 * forwarder (doc/design.md §5). */
static int user_forward(struct helper *h, const struct pending_query *pq,
                        const struct userfile_result *uf)
{
	uint32_t owner = 0;
	enum nl_result r = nl_listener(h->nlfd, uf->fwd_family, uf->fwd_addr,
	                               uf->fwd_port, &owner);

	if (r != NL_FOUND || owner != pq->uid)
		return forward_unused(h, pq, uf->fwd_family, uf->fwd_addr, uf->fwd_port,
		                      r != NL_FOUND ? "nothing listens there" :
		                      "the listener there is another user's");
	return relay_begin_user(&h->relay, pq, uf->fwd_family, uf->fwd_addr,
	                        uf->fwd_port, clock_mono_ms()) < 0 ? -1 : 0;
}

/* The user's server answered (or not): a name of the safe form goes
 * through the other-account check in a resolver thread, as a chosen
 * reply; anything else gives the account's normal reply. */
static int user_forward_done(void *ctx, const struct pending_query *pq,
                             const struct forward_result *res, int family,
                             const uint8_t *addr, uint16_t port)
{
	struct helper *h = ctx;
	uint64_t now = clock_mono_ms();

	if (res == NULL || res->failure != FORWARD_OK)
		return forward_unused(h, pq, family, addr, port, res == NULL ?
		                      "no answer" : forward_failure_name(res->failure));
	if (!res->reply.is_userid || !userconf_name_ok(res->reply.userid))
		return forward_unused(h, pq, family, addr, port, res->reply.is_userid ?
		                      "not 1 to 32 of A-Z a-z 0-9 . _ -" : "an error");
	const struct cache_entry *e = cached(h, pq->uid);
	struct resolver_in in = { .uid = pq->uid, .fwd_family = family,
	                          .fwd_port = port };
	memcpy(in.fwd_addr, addr, sizeof(in.fwd_addr));
	/* userconf_name_ok: at most USERCONF_REPLY_MAX octets, NUL-ended. */
	memcpy(in.check_name, res->reply.userid, strlen(res->reply.userid) + 1);
	if (e != NULL && e->expires_ms > now) {
		in.have_account = true;
		in.account = e->account;
	}
	int job = resolver_count(&h->res, pq->uid) < RESOLVER_JOBS_PER_UID ?
	          resolver_submit(&h->res, &in) : -1;
	if (job < 0 || pending_add(&h->pending, pq, job,
	                           now + (uint64_t)h->cfg->lookup_timeout * 1000) == NULL) {
		if (job >= 0)
			resolver_cancel(&h->res, job);
		return forward_unused(h, pq, family, addr, port, "no room to check the name");
	}
	h->job_late[job] = false;
	return 0;
}

/* Finished jobs: cache the result, answer every query that waited. */
static int on_resolved(struct helper *h)
{
	struct resolver_out out;
	int job;

	while ((job = resolver_collect(&h->res, &out)) >= 0) {
		uint64_t now = clock_mono_ms();
		remember(h, &out, now);
		log_user_file(h, out.uid, &out.uf, now);
		struct facts f = { &out.account, out.file, &out.uf };
		struct pending_entry *w;
		while ((w = pending_first_of(&h->pending, job)) != NULL) {
			struct pending_query pq = w->pq;
			pending_remove(&h->pending, w);
			int rc = out.uf.choice == CHOICE_FORWARD ?
			         user_forward(h, &pq, &out.uf) : reply(h, &pq, &f);
			if (rc < 0)
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

/* A relayed query's verdict (relay_done_fn): logged, formatted, sent. */
static int relay_done(void *ctx, const struct pending_query *pq, struct verdict *v,
                      const struct relay_note *n)
{
	struct helper *h = ctx;
	struct ipc_reply rep;
	char peer[64] = "?", local[64] = "?", in[64] = "-", res[USERID_MAX + 32];
	struct host_keys keys;

	reply_line(pq, v, &rep);
	host_keys(pq->t.family, pq->t.remote, &keys);
	if (lograte_admit(&h->lograte, keys.host, clock_mono_ms())) {
		sa_addr_text(pq->t.family, pq->t.remote, peer, sizeof(peer));
		sa_addr_text(pq->t.family, pq->t.local, local, sizeof(local));
		if (n->family != 0)
			sa_addr_text(n->family, n->inner, in, sizeof(in));
		policy_describe(v, res, sizeof(res));
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u result=%s "
		        "relayed=%s,%u%s%s (%s)", peer, local, pq->q.server_port,
		        pq->q.client_port, res, in, n->inner_port,
		        n->answer[0] != '\0' ? " inner=" : "", n->answer, n->what);
	}
	return ipc_send(h->sock, &rep, sizeof(rep), -1, 0);
}

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
	/* A gateway asks about a connection it relays: this host's end and
	 * both ports, the remote address any (the server it went to). Such a
	 * connection is this host's own, never relayed further. */
	bool proxied = pq.have_tuple && from_proxy(h, &pq);
	if (pq.have_tuple && h->cfg->mode != MODE_FIXED)
		pq.r = proxied ? nl_lookup_proxied(h->nlfd, &pq.t, &pq.uid)
		               : nl_lookup(h->nlfd, &pq.t, &pq.uid);
	if (!proxied && relay_wanted(&h->relay, &pq))
		return relay_begin(&h->relay, &pq, clock_mono_ms()) < 0 ? -1 : 0;
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


/* A uid no account has ((uid_t)-1 is never valid): its lookup walks the
 * whole passwd chain of nsswitch.conf. */
#define PRELOAD_ABSENT_UID UINT32_MAX
/* A name no account or group has (no portable name starts with '-'). */
#define PRELOAD_ABSENT_NAME "-privident-preload"

/* Looks names up, so that the name-service modules are loaded (they map
 * executable code, which the sandbox then forbids). Root alone stops at
 * "files"; a uid found nowhere loads every module after it too. Before
 * the resolver threads start, so the first thread's buffer is free. */
static void preload_name_service(struct helper *h)
{
	struct account a;
	struct group gr, *gres;
	struct passwd pw, *pres;
	(void)account_lookup(0, &a, h->res.bufs[0], PWBUF_SIZE);
	(void)account_lookup(PRELOAD_ABSENT_UID, &a, h->res.bufs[0], PWBUF_SIZE);
	/* user-replies' @groups, and the check against other accounts'
	 * names: the group and by-name lookups, through every module. */
	if (h->cfg->user_files) {
		(void)getgrnam_r(PRELOAD_ABSENT_NAME, &gr, h->res.bufs[0], PWBUF_SIZE, &gres);
		(void)getpwnam_r(PRELOAD_ABSENT_NAME, &pw, h->res.bufs[0], PWBUF_SIZE, &pres);
	}
}

void helper_use_forwarding(int ct_sock, int fwd_sock)
{
	the_helper.ct_sock = ct_sock;
	the_helper.fwd_sock = fwd_sock;
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
	relay_init(&h->relay, c, h->key, h->ct_sock, h->fwd_sock, relay_done, h);
	h->relay.user_done = user_forward_done;
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
	               (c->mode == MODE_USER || h->home_file != NULL || c->user_files);
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

static int64_t earliest(int64_t a, int64_t b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* The poll time-out: the next deadline or summary, -1 for none. */
static int wait_ms(const struct helper *h, uint64_t now)
{
	int64_t t = earliest(pending_next_ms(&h->pending, now),
	                     lograte_next_ms(&h->lograte, now));

	t = earliest(t, relay_next_ms(&h->relay, now));
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

/* Answers from the forwarding roles. -1 to go on, else the exit status:
 * a role that breaks the protocol or goes away ends the helper, and the
 * monitor restarts every worker. */
static int on_roles(struct helper *h, const struct pollfd *p, uint64_t now)
{
	int rc = 0;

	if (p[0].revents != 0)
		rc = relay_on_conntrack(&h->relay, now);
	if (rc == 0 && p[1].revents != 0)
		rc = relay_on_forwarder(&h->relay, now);
	if (rc < 0)
		return send_failed();
	if (rc > 0 && h->relay.forbidden_role != NULL) {
		char name[64];
		log_msg(LOG_LVL_ERR, "%s made a forbidden system call: %s",
		        h->relay.forbidden_role,
		        seccomp_name((int)h->relay.forbidden_nr, name, sizeof(name)));
		return 1;
	}
	if (rc > 0) {
		log_msg(LOG_LVL_ERR, "a forwarding role broke the protocol or went "
		        "away; restarting the workers");
		return 1;
	}
	return -1;
}

static int serve(struct helper *h)
{
	for (;;) {
		uint64_t now = clock_mono_ms();
		if (expire(h, now) < 0 || relay_expire(&h->relay, now) < 0)
			return send_failed();
		log_summaries(h, now, false);
		struct pollfd p[4] = {
			{ .fd = h->sock, .events = POLLIN },
			{ .fd = h->resolving ? resolver_fd(&h->res) : -1, .events = POLLIN },
			{ .fd = h->ct_sock, .events = POLLIN },
			{ .fd = h->fwd_sock, .events = POLLIN },
		};
		int n = poll(p, 4, wait_ms(h, now));
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_LVL_ERR, "helper: poll: %s", strerror(errno));
			return 1;
		}
		if (n <= 0)
			continue;
		if ((p[1].revents & POLLIN) && on_resolved(h) < 0)
			return send_failed();
		int status = on_roles(h, p + 2, clock_mono_ms());
		if (status >= 0)
			return status;
		if (p[0].revents != 0) {
			status = on_child(h);
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
