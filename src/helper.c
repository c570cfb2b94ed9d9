/* The lookup helper: the only process that asks the kernel who owns a
 * connection. It trusts nothing the network child says: the addresses come
 * from the passed socket itself, every message is checked, and a malformed
 * one stops the child (the monitor then restarts the pair). */
#include "roles.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "keyfile.h"
#include "log.h"
#include "netlink.h"
#include "policy.h"
#include "seccomp_policy.h"
#include "sockaddr.h"
#include "tuple.h"

/* uid -> account cache (name and home directory). Direct-mapped: a miss
 * costs one name-service lookup. Entries expire so that a renamed or
 * deleted account is seen within a minute. */
#define NAME_CACHE_SLOTS 256
#define NAME_CACHE_TTL 60
/* getpwuid_r's buffer. An account from LDAP or sssd can carry far more
 * than a passwd line (long GECOS, many attributes), and ERANGE would make
 * its owner unanswerable for good; 64 KiB, static (the helper is single-
 * threaded), holds any entry a name service hands out in practice. */
#define PWBUF_SIZE (64 * 1024)
/* Longest home directory kept per cached uid: with 256 slots this bounds
 * the cache to a few hundred kilobytes. A longer one cannot be checked for
 * ~/.noident and counts as "cannot tell" (hidden). */
#define HOME_MAX 256

struct name_entry {
	uint32_t uid;
	int found;          /* 0 found, 1 no such uid */
	time_t expires;
	char name[USERID_MAX + 1];
	char home[HOME_MAX + 1]; /* "" when too long */
};

static struct name_entry name_cache[NAME_CACHE_SLOTS];

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* getpwuid_r into e: 0 found, 1 no such uid, -1 error (e untouched). */
static int account_lookup(uint32_t uid, struct name_entry *e)
{
	static char buf[PWBUF_SIZE];
	struct passwd pw, *res = NULL;
	int err = getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res);

	if (err != 0)
		return -1;
	if (!res)
		return 1;
	if (strlen(pw.pw_name) >= sizeof(e->name))
		return -1;
	snprintf(e->name, sizeof(e->name), "%s", pw.pw_name);
	if (pw.pw_dir == NULL || strlen(pw.pw_dir) >= sizeof(e->home))
		e->home[0] = '\0';
	else
		snprintf(e->home, sizeof(e->home), "%s", pw.pw_dir);
	return 0;
}

static int name_lookup(uint32_t uid, char *name, size_t size)
{
	struct name_entry e;
	int r = account_lookup(uid, &e);

	if (r == 0)
		snprintf(name, size, "%s", e.name);
	return r;
}

/* The cached account of uid, or NULL on a name-service error (errors are
 * not cached: the next query retries). */
static const struct name_entry *cached_account(uint32_t uid)
{
	struct name_entry *e = &name_cache[uid % NAME_CACHE_SLOTS];
	time_t now = now_s();

	if (e->expires > now && e->uid == uid)
		return e;
	int r = account_lookup(uid, e);
	if (r < 0) {
		e->expires = 0;
		return NULL;
	}
	e->uid = uid;
	e->found = r;
	e->expires = now + NAME_CACHE_TTL;
	return e;
}

static int cached_name(uint32_t uid, char *name, size_t size)
{
	const struct name_entry *e = cached_account(uid);

	if (e == NULL)
		return -1;
	if (e->found == 0)
		snprintf(name, size, "%s", e->name);
	return e->found;
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

static int home_file(uint32_t uid, const char *name)
{
	const struct name_entry *e = cached_account(uid);
	int r;

	if (e != NULL && e->found == 1)
		return 0;   /* no account, no home, no file */
	r = e != NULL && e->home[0] == '/' ? check_home_file(uid, e->home, name) : -1;
	if (r < 0)
		log_msg(LOG_LVL_WARN, "cannot tell whether uid %u has ~/%s (%s): "
		        "hiding it", uid, name, e == NULL ? "name service failed" :
		        e->home[0] != '/' ? "no usable home directory" : strerror(errno));
	return r;
}

struct helper {
	const struct config *cfg;
	int sock, nlfd;
	int child_pidfd;   /* stops the child (doc/design.md §6) */
	uint8_t *key;   /* the token key, inherited from the monitor, or NULL */
};

static void log_query(const struct tcp_tuple *t, int have_tuple,
                      const struct ipc_query *q, const struct verdict *v,
                      enum nl_result r, uint32_t uid)
{
	char peer[64] = "?", local[64] = "?", res[USERID_MAX + 32];

	if (have_tuple) {
		sa_addr_text(t->family, t->remote, peer, sizeof(peer));
		sa_addr_text(t->family, t->local, local, sizeof(local));
	}
	policy_describe(v, res, sizeof(res));
	if (r == NL_FOUND)
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u result=%s uid=%u",
		        peer, local, q->server_port, q->client_port, res, uid);
	else
		log_msg(LOG_LVL_INFO, "query peer=%s local=%s ports=%u,%u result=%s",
		        peer, local, q->server_port, q->client_port, res);
}

static int answer(struct helper *h, const struct ipc_query *q, int fd)
{
	struct tcp_tuple t;
	struct verdict v;
	struct ipc_reply rep;
	struct timespec now;
	enum nl_result r = NL_ERROR;
	uint32_t uid = 0;
	struct policy_env env = { cached_name, home_file, h->key };

	/* A connection reset since the child passed it has no addresses any
	 * more: that is an UNKNOWN-ERROR for a client that is gone anyway. */
	memset(&t, 0, sizeof(t));
	int have = tuple_of_tcp_socket(fd, q->server_port, q->client_port, &t) == 0;
	close(fd);
	if (have && h->cfg->mode != MODE_FIXED)
		r = nl_lookup(h->nlfd, &t, &uid);
	clock_gettime(CLOCK_REALTIME, &now);
	struct policy_query pq = { r, uid, t.family, t.remote, (int64_t)now.tv_sec };
	policy_decide(h->cfg, &pq, &env, &v);

	memset(&rep, 0, sizeof(rep));
	rep.type = IPC_REPLY;
	rep.conn = q->conn;
	rep.gen = q->gen;
	rep.len = (uint32_t)policy_format(&v, q->server_port, q->client_port,
	                                  rep.line, sizeof(rep.line));
	log_query(&t, have, q, &v, r, uid);
	if (ipc_send(h->sock, &rep, sizeof(rep), -1, 0) < 0)
		return -1;
	return 0;
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
	default: return "?";
	}
}

static void log_event(const struct ipc_event *e, bool masked)
{
	char peer[64], name[64];

	if (e->kind == EV_SECCOMP) {
		log_msg(LOG_LVL_ERR, "network child made a forbidden system call: %s",
		        seccomp_name((int)e->syscall_nr, name, sizeof(name)));
		return;
	}

	sa_addr_text(e->family, e->addr, peer, sizeof(peer));
	if (e->kind == EV_BAD_PORT)
		log_msg(LOG_LVL_INFO, "query peer=%s ports=%u,%u result=%s",
		        peer, e->ports[0], e->ports[1],
		        masked ? "UNKNOWN-ERROR masked=INVALID-PORT" : "INVALID-PORT");
	else if (e->count > 1)
		log_msg(LOG_LVL_WARN, "peer=%s %s (%u times in the last second)",
		        peer, event_name(e->kind), e->count);
	else
		log_msg(LOG_LVL_INFO, "peer=%s %s", peer, event_name(e->kind));
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
		return answer(h, &q, fd);
	}
	if (type == IPC_EVENT && fd < 0 && ipc_decode_event(buf, n, &e) == 0) {
		log_event(&e, h->cfg->mask_errors);
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
 * "files"; a uid found nowhere loads every module after it too. */
static void preload_name_service(void)
{
	char name[USERID_MAX + 1];
	(void)name_lookup(0, name, sizeof(name));
	(void)name_lookup(PRELOAD_ABSENT_UID, name, sizeof(name));
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
	if (c->mode != MODE_FIXED) {
		h->nlfd = nl_open();
		if (h->nlfd < 0) {
			log_msg(LOG_LVL_ERR, "cannot open the sock_diag netlink socket: %s",
			        strerror(errno));
			return -1;
		}
	}
	preload_name_service();
	return 0;
}

void helper_report_syscall(int nr)
{
	char name[64];
	log_raw(LOG_LVL_ERR, "lookup helper made a forbidden system call: ",
	        seccomp_name(nr, name, sizeof(name)));
}

static int serve(struct helper *h)
{
	unsigned char buf[IPC_RECV_MAX];

	for (;;) {
		int fd;
		ssize_t n = ipc_recv(h->sock, buf, sizeof(buf), &fd, 0);
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
		if (dispatch(h, buf, (size_t)n, fd) < 0) {
			if (errno == EPIPE || errno == ECONNRESET)
				return 0;
			log_msg(LOG_LVL_ERR, "helper: send: %s", strerror(errno));
			return 1;
		}
	}
}

int helper_serve(void)
{
	int status = serve(&the_helper);

	keyfile_wipe(the_helper.key);
	return status;
}
