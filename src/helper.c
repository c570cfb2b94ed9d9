/* The lookup helper: the only process that asks the kernel who owns a
 * connection. It trusts nothing the network child says: the addresses come
 * from the passed socket itself, every message is checked, and a malformed
 * one stops the child (the monitor then restarts the pair). */
#include "roles.h"

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "netlink.h"
#include "policy.h"
#include "seccomp_policy.h"
#include "tuple.h"

/* uid -> name cache. Direct-mapped: a miss costs one name-service lookup.
 * Entries expire so that a renamed or deleted account is seen within a
 * minute. */
#define NAME_CACHE_SLOTS 256
#define NAME_CACHE_TTL 60
/* getpwuid_r's buffer; large enough for any sane passwd line. */
#define PWBUF_SIZE 4096

struct name_entry {
	uint32_t uid;
	int found;          /* 0 found, 1 no such uid */
	time_t expires;
	char name[USERID_MAX + 1];
};

static struct name_entry name_cache[NAME_CACHE_SLOTS];

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int name_lookup(uint32_t uid, char *name, size_t size)
{
	struct passwd pw, *res = NULL;
	char buf[PWBUF_SIZE];
	int e = getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res);

	if (e != 0)
		return -1;
	if (!res)
		return 1;
	if (strlen(pw.pw_name) >= size)
		return -1;
	snprintf(name, size, "%s", pw.pw_name);
	return 0;
}

static int cached_name(uint32_t uid, char *name, size_t size)
{
	struct name_entry *e = &name_cache[uid % NAME_CACHE_SLOTS];
	time_t now = now_s();

	if (e->expires > now && e->uid == uid) {
		snprintf(name, size, "%s", e->name);
		return e->found;
	}
	int r = name_lookup(uid, e->name, sizeof(e->name));
	if (r < 0)
		return r;   /* errors are not cached: the next query retries */
	e->uid = uid;
	e->found = r;
	e->expires = now + NAME_CACHE_TTL;
	snprintf(name, size, "%s", e->name);
	return r;
}

/* The descriptor must be a TCP socket of the Internet families: anything
 * else means the child is not the child we started. */
static int is_tcp_socket(int fd)
{
	int v;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 ||
	    (v != AF_INET && v != AF_INET6))
		return 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != SOCK_STREAM)
		return 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) < 0 ||
	    v != IPPROTO_TCP)
		return 0;
	return 1;
}

struct helper {
	const struct config *cfg;
	int sock, nlfd;
	pid_t child;
};

static void log_query(const struct tcp_tuple *t, int have_tuple,
                      const struct ipc_query *q, const struct verdict *v,
                      enum nl_result r, uint32_t uid)
{
	char peer[64] = "?", local[64] = "?", res[USERID_MAX + 32];

	if (have_tuple) {
		log_addr(t->family, t->remote, peer, sizeof(peer));
		log_addr(t->family, t->local, local, sizeof(local));
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
	enum nl_result r = NL_ERROR;
	uint32_t uid = 0;

	/* A connection reset since the child passed it has no addresses any
	 * more: that is an UNKNOWN-ERROR for a client that is gone anyway. */
	int have = tuple_from_socket(fd, q->server_port, q->client_port, &t) == 0;
	close(fd);
	if (have && h->cfg->mode != MODE_FIXED)
		r = nl_lookup(h->nlfd, &t, &uid);
	policy_decide(h->cfg, r, uid, cached_name, &v);

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

static void log_event(const struct ipc_event *e)
{
	char peer[64], name[64];

	if (e->kind == EV_SECCOMP) {
		log_msg(LOG_LVL_ERR, "network child made a forbidden system call: %s",
		        seccomp_name((int)e->ports[0], name, sizeof(name)));
		return;
	}

	log_addr(e->family, e->addr, peer, sizeof(peer));
	if (e->kind == EV_BAD_PORT)
		log_msg(LOG_LVL_INFO, "query peer=%s ports=%u,%u result=INVALID-PORT",
		        peer, e->ports[0], e->ports[1]);
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
	kill(h->child, SIGKILL);
}

static int dispatch(struct helper *h, const unsigned char *buf, size_t n, int fd)
{
	uint32_t type = 0;
	struct ipc_query q;
	struct ipc_event e;

	if (n >= sizeof(type))
		memcpy(&type, buf, sizeof(type));
	if (type == IPC_QUERY && fd >= 0 && ipc_decode_query(buf, n, &q) == 0) {
		if (!is_tcp_socket(fd)) {
			close(fd);
			child_violation(h, "a descriptor that is not a TCP socket");
			return 0;
		}
		return answer(h, &q, fd);
	}
	if (type == IPC_EVENT && fd < 0 && ipc_decode_event(buf, n, &e) == 0) {
		log_event(&e);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	child_violation(h, "a malformed message");
	return 0;
}

static struct helper the_helper;

/* Looks a name up once, so that the name-service modules are loaded (they
 * map executable code, which the sandbox then forbids). */
static void preload_name_service(void)
{
	char name[USERID_MAX + 1];
	(void)name_lookup(0, name, sizeof(name));
}

int helper_prepare(const struct config *c, int sock, pid_t child)
{
	struct helper *h = &the_helper;

	h->cfg = c;
	h->sock = sock;
	h->nlfd = -1;
	h->child = child;
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
	log_msg(LOG_LVL_ERR, "lookup helper made a forbidden system call: %s",
	        seccomp_name(nr, name, sizeof(name)));
}

int helper_serve(void)
{
	struct helper *h = &the_helper;
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
