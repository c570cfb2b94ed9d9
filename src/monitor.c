/* The monitor: the one process that keeps root, and only to open sockets and
 * to start the workers. It reads nothing from the network or from the
 * workers: it learns of them only through wait(). */
#include "roles.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "keyfile.h"
#include "listen.h"
#include "log.h"
#include "sandbox.h"
#include "seccomp_policy.h"

/* A pair that dies within this long of its start counts as a crash loop. */
#define CRASH_WINDOW_MS 10000
/* First back-off step and its ceiling for a crash loop. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
/* How long a worker told to stop may take before it is killed. */
#define STOP_GRACE_MS 2000
/* Descriptors the workers need beyond one per client connection: the
 * listeners, the socketpair, the pidfd, netlink, epoll, syslog, standard
 * streams, and the name service's. */
#define FD_RESERVE (LISTEN_MAX + 32)
/* Exit status of a worker whose sandbox could not be entered. */
#define EXIT_SANDBOX 70

struct monitor {
	struct config *cfg;
	struct config cfg_store[2];  /* current and reloaded; swapped on HUP */
	const struct cli *cli;
	struct listen_set ls;
	struct service_user user;
	bool inetd;                  /* serving inetd's one connection */
	int inetd_fd;                /* it, until the workers have it */
	pid_t child, helper;
	pid_t ctrack, forwarder;     /* with forward-network; else 0 */
	int child_status;
	int streak;                  /* quick deaths in a row */
	uint64_t started_ms, restart_at_ms, kill_at_ms;
	bool stopping;
	bool reloading;              /* the pair was stopped to reload */
	uint8_t *key;                /* the token key (reply = token), or NULL */
};

static sigset_t handled_signals(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGHUP);
	return s;
}

/* ---- workers ---- */

/* A worker outlives no monitor: the child is told to stop when the
 * monitor dies, and the helper follows the child. */
static void worker_init(int deathsig)
{
	sigset_t s = handled_signals();
	signal(SIGHUP, SIG_IGN);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	prctl(PR_SET_PDEATHSIG, deathsig, 0, 0, 0);
}

/* The child holds the listeners (or inetd's connection), its end of the
 * socketpair and what child_prepare opens; no log socket, no standard
 * streams, nothing the monitor inherited (doc/design.md §6). */
static void run_child(struct monitor *m, int sock)
{
	struct keep_fds keep = { .n = 0 };
	char err[256];

	worker_init(SIGTERM);
	for (unsigned i = 0; i < m->ls.n; i++)
		keep_fd(&keep, m->ls.fds[i]);
	keep_fd(&keep, m->inetd_fd);
	keep_fd(&keep, sock);
	if (child_prepare(m->cfg, &m->ls, m->inetd_fd, sock, &keep) < 0) {
		log_msg(LOG_LVL_ERR, "network child: cannot set up: %s", strerror(errno));
		_exit(EXIT_SANDBOX);
	}
	if (sandbox_enter_child(&m->user, m->cfg, &keep, sock, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "network child: %s", err);
		_exit(EXIT_SANDBOX);
	}
	_exit(child_serve());
}

/* Identity first: every socket and name-service connection the helper
 * makes is the service user's. Then it holds its end of the socketpair,
 * the child's pidfd, its own log and what helper_prepare opens: never a
 * listener, a client it was not passed, or the monitor's log socket; with
 * -f its log is standard error, which it keeps (doc/design.md §6). */
static void run_helper(struct monitor *m, int sock, int child_pidfd,
                       int ct_sock, int fwd_sock)
{
	struct keep_fds keep = { .n = 0 };
	char err[256];

	worker_init(SIGKILL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	keep_fd(&keep, sock);
	keep_fd(&keep, child_pidfd);
	keep_fd(&keep, ct_sock);
	keep_fd(&keep, fwd_sock);
	helper_use_forwarding(ct_sock, fwd_sock);
	helper_use_key(m->key);
	if (sandbox_helper_identity(&m->user, m->cfg, err, sizeof(err)) < 0 ||
	    sandbox_keep_fds(&keep, m->cfg->foreground, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "lookup helper: %s", err);
		keyfile_free(m->key);
		_exit(EXIT_SANDBOX);
	}
	log_open(m->cfg->foreground);
	if (helper_prepare(m->cfg, sock, child_pidfd) < 0) {
		keyfile_free(m->key);
		_exit(EXIT_SANDBOX);
	}
	if (sandbox_enter_helper(m->cfg, child_pidfd, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "lookup helper: %s", err);
		keyfile_wipe(m->key);   /* a half-entered sandbox may forbid munlock */
		_exit(EXIT_SANDBOX);
	}
	_exit(helper_serve());
}

/* The conntrack role: the empty root and the service user with
 * CAP_NET_ADMIN alone, then its netlink socket, then everything else
 * closed and its filter (doc/design.md §6). It leaves when the helper's
 * end of its socketpair closes. */
static void run_ctrack(struct monitor *m, int sock)
{
	struct keep_fds keep = { .n = 0 };
	char err[256];
	int nl, null;

	worker_init(SIGKILL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	keyfile_free(m->key);
	keep_fd(&keep, sock);
	if (sandbox_ctrack_identity(&m->user, &null, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "conntrack role: %s", err);
		_exit(EXIT_SANDBOX);
	}
	if ((nl = ctrack_prepare(sock, &keep)) < 0) {
		log_msg(LOG_LVL_ERR, "conntrack role: cannot open the netfilter netlink "
		        "socket: %s", strerror(errno));
		_exit(EXIT_SANDBOX);
	}
	if (sandbox_enter_ctrack(m->cfg, &keep, null, sock, nl, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "conntrack role: %s", err);
		_exit(EXIT_SANDBOX);
	}
	_exit(ctrack_serve());
}

/* The forwarder: no capability, an empty root, its filter; it too leaves
 * when the helper's end closes. */
static void run_forwarder(struct monitor *m, int sock)
{
	struct keep_fds keep = { .n = 0 };
	char err[256];

	worker_init(SIGKILL);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	keyfile_free(m->key);
	keep_fd(&keep, sock);
	if (forwarder_prepare(m->cfg, sock) < 0 ||
	    sandbox_enter_forwarder(&m->user, m->cfg, &keep, sock, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "forwarder: %s", err);
		_exit(EXIT_SANDBOX);
	}
	_exit(forwarder_serve());
}

/* Whether any worker of the set runs. */
static bool any_worker(const struct monitor *m)
{
	return m->child > 0 || m->helper > 0 || m->ctrack > 0 || m->forwarder > 0;
}

static void kill_all(const struct monitor *m, int sig)
{
	const pid_t pids[] = { m->child, m->helper, m->ctrack, m->forwarder };

	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++)
		if (pids[i] > 0)
			kill(pids[i], sig);
}

/* The forwarding roles, each with a socketpair to the helper; the
 * helper's ends in helper_ends. Returns 0, or -1 (logged). */
/* One role with a socketpair to the helper: the role's end goes to run,
 * the helper's into *helper_end, other_fd (the other role's socketpair
 * end in the helper, or -1) is closed in the role. Returns the pid, or -1. */
static pid_t start_role(struct monitor *m, void (*run)(struct monitor *, int),
                        int *helper_end, int other_fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(sv[1]);
		if (other_fd >= 0)
			close(other_fd);
		run(m, sv[0]);
	}
	close(sv[0]);
	if (pid < 0) {
		close(sv[1]);
		return -1;
	}
	*helper_end = sv[1];
	return pid;
}

/* The roles beside the pair, each with a socketpair to the helper (its
 * ends in helper_ends: conntrack, forwarder; -1 for one not started):
 * with forward-network both; with user-replies alone the forwarder, for
 * users' forwards to their own ident servers (doc/design.md §5). Returns
 * 0, or -1 (logged). */
static int start_roles(struct monitor *m, int helper_ends[2])
{
	bool ct = config_forwarding(m->cfg);
	bool fw = ct || m->cfg->nuser_replies > 0;

	helper_ends[0] = helper_ends[1] = -1;
	if (ct && (m->ctrack = start_role(m, run_ctrack, &helper_ends[0], -1)) < 0)
		goto fail;
	if (fw && (m->forwarder = start_role(m, run_forwarder, &helper_ends[1],
	                                     helper_ends[0])) < 0)
		goto fail;
	return 0;
fail:
	log_msg(LOG_LVL_ERR, "cannot start the forwarding roles: %s", strerror(errno));
	m->ctrack = m->ctrack < 0 ? 0 : m->ctrack;
	m->forwarder = m->forwarder < 0 ? 0 : m->forwarder;
	return -1;
}

/* The helper stops a lying child through this pidfd (doc/design.md §6).
 * Opened right after the fork, before the child can have been reaped
 * (only loop() reaps, and SIGCHLD is blocked until then), so it names that
 * process and never another that reuses its pid. */
static int child_pidfd(pid_t child)
{
	int fd = (int)syscall(SYS_pidfd_open, child, 0);

	if (fd < 0)
		log_msg(LOG_LVL_ERR, "pidfd_open: %s%s", strerror(errno),
		        errno == ENOSYS ? " (privident needs Linux 5.3 or later)" : "");
	return fd;
}

static int start_workers(struct monitor *m)
{
	int sv[2], pidfd = -1, e, roles[2];

	if (start_roles(m, roles) < 0) {
		kill_all(m, SIGKILL);
		for (int i = 0; i < 2; i++)
			if (roles[i] >= 0)
				close(roles[i]);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_msg(LOG_LVL_ERR, "socketpair: %s", strerror(errno));
		kill_all(m, SIGKILL);
		for (int i = 0; i < 2; i++)
			if (roles[i] >= 0)
				close(roles[i]);
		return -1;
	}
	m->child = fork();
	if (m->child == 0) {
		/* The process that reads from strangers never holds the key. */
		keyfile_free(m->key);
		m->key = NULL;
		close(sv[1]);
		for (int i = 0; i < 2; i++)
			if (roles[i] >= 0)
				close(roles[i]);
		run_child(m, sv[0]);
	}
	if (m->child > 0 && (pidfd = child_pidfd(m->child)) >= 0) {
		m->helper = fork();
		if (m->helper == 0) {
			close(sv[0]);
			run_helper(m, sv[1], pidfd, roles[0], roles[1]);
		}
	}
	e = errno;
	close(sv[0]);
	close(sv[1]);
	for (int i = 0; i < 2; i++)
		if (roles[i] >= 0)
			close(roles[i]);
	if (pidfd >= 0)
		close(pidfd);
	if (m->child < 0 || pidfd < 0 || m->helper < 0) {
		if (m->child < 0 || m->helper < 0)
			log_msg(LOG_LVL_ERR, "fork: %s", strerror(e));
		m->child = m->child < 0 ? 0 : m->child;
		m->helper = m->helper < 0 ? 0 : m->helper;
		kill_all(m, SIGKILL);
		return -1;
	}
	m->started_ms = clock_mono_ms();
	/* inetd's connection is the child's now: the monitor, which never
	 * talks to clients, keeps no copy of it (and an inetd pair is never
	 * restarted). */
	if (m->inetd_fd >= 0) {
		close(m->inetd_fd);
		m->inetd_fd = -1;
	}
	return 0;
}

/* Only the child is told: the helper leaves when the child's end of the
 * socketpair closes, so it never vanishes under a child still serving. */
static void stop_workers(struct monitor *m)
{
	if (m->child > 0)
		kill(m->child, SIGTERM);
	/* With no pair running (a restart is pending) there is nothing to
	 * force; a deadline set now would kill the next pair. */
	if (m->kill_at_ms == 0 && any_worker(m))
		m->kill_at_ms = clock_mono_ms() + STOP_GRACE_MS;
}

static void describe_exit(const char *who, pid_t pid, int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		log_msg(LOG_LVL_INFO, "%s (pid %d) exited", who, (int)pid);
	else if (WIFEXITED(st))
		log_msg(LOG_LVL_ERR, "%s (pid %d) exited with status %d%s", who,
		        (int)pid, WEXITSTATUS(st),
		        WEXITSTATUS(st) == EXIT_SANDBOX ? " (could not enter its sandbox)" :
		        WEXITSTATUS(st) == EXIT_SECCOMP_TRAP ? " (stopped by --debug-sandbox)" :
		        WEXITSTATUS(st) == EXIT_HELPER_STALLED ? " (its lookup helper stopped answering)" : "");
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		log_msg(LOG_LVL_ERR, "%s (pid %d) was killed by seccomp: it made a forbidden system call",
		        who, (int)pid);
	else if (WIFSIGNALED(st))
		log_msg(LOG_LVL_ERR, "%s (pid %d) was killed by signal %d (%s)", who,
		        (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
}

static void schedule_restart(struct monitor *m)
{
	uint64_t now = clock_mono_ms(), delay = 0;

	if (now - m->started_ms < CRASH_WINDOW_MS)
		m->streak++;
	else
		m->streak = 0;
	if (m->streak > 0) {
		delay = BACKOFF_MIN_MS;
		for (int i = 1; i < m->streak && delay < BACKOFF_MAX_MS; i++)
			delay *= 2;
		if (delay > BACKOFF_MAX_MS)
			delay = BACKOFF_MAX_MS;
		log_msg(LOG_LVL_WARN, "workers keep dying; restarting in %llu ms",
		        (unsigned long long)delay);
	}
	m->restart_at_ms = now + delay;
}

/* A worker we told to stop that stopped is not news. */
static bool expected_exit(const struct monitor *m, int st)
{
	if (!m->stopping && !m->kill_at_ms)
		return false;
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
	       (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

static void reap(struct monitor *m)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		bool quiet = expected_exit(m, st);
		if (pid == m->child) {
			m->child = 0;
			m->child_status = st;
			if (!quiet)
				describe_exit("network child", pid, st);
		} else if (pid == m->helper) {
			m->helper = 0;
			if (!quiet)
				describe_exit("lookup helper", pid, st);
		} else if (pid == m->ctrack) {
			m->ctrack = 0;
			if (!quiet)
				describe_exit("conntrack role", pid, st);
		} else if (pid == m->forwarder) {
			m->forwarder = 0;
			if (!quiet)
				describe_exit("forwarder", pid, st);
		} else {
			continue;
		}
		/* A pair lives and dies together: they share one socketpair.
		 * In inetd mode too: a helper that outlives its child (one
		 * that stopped answering) must not keep the instance up. */
		if (!m->stopping && any_worker(m))
			stop_workers(m);
		if (!any_worker(m)) {
			m->kill_at_ms = 0;
			/* A pair stopped to reload is no crash: the next one
			 * starts at once, whatever its age. */
			if (m->reloading && !m->stopping)
				m->restart_at_ms = clock_mono_ms();
			else if (!m->stopping && !m->inetd)
				schedule_restart(m);
			m->reloading = false;
		}
	}
}

/* ---- configuration reload ---- */

/* The token key, read as root when the reply mode needs it. Only the
 * monitor and the helper hold it (doc/design.md §2). */
static int load_key(const struct config *c, uint8_t **key, char *err,
                    size_t errsz)
{
	*key = NULL;
	if (!config_needs_token_key(c))
		return 0;
	*key = keyfile_load(c->token_key, err, errsz);
	return *key != NULL ? 0 : -1;
}

static bool same_listen(const struct config *a, const struct config *b)
{
	if (a->nlisten != b->nlisten)
		return false;
	for (unsigned i = 0; i < a->nlisten; i++)
		if (a->listen[i].len != b->listen[i].len ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr, a->listen[i].len))
			return false;
	return true;
}

static int raise_fd_limit(const struct config *c, char *err, size_t errsz)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)c->max_connections + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errsz, "max-connections %u needs %llu file descriptors: %s",
		         c->max_connections, (unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

static void reload(struct monitor *m)
{
	struct config *next = m->cfg == &m->cfg_store[0] ? &m->cfg_store[1] : &m->cfg_store[0];
	struct service_user user;
	struct listen_set ls;
	uint8_t *key;
	char err[512];

	if (m->inetd)
		return;
	if (config_build(next, m->cli, err, sizeof(err)) < 0 ||
	    sandbox_resolve_user(next, &user, err, sizeof(err)) < 0 ||
	    raise_fd_limit(next, err, sizeof(err)) < 0 ||
	    load_key(next, &key, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERR, "configuration not reloaded: %s", err);
		return;
	}
	if (!m->ls.activated && !same_listen(m->cfg, next)) {
		if (listen_open(next, &m->ls, &ls, err, sizeof(err)) < 0) {
			log_msg(LOG_LVL_ERR, "configuration not reloaded: %s", err);
			keyfile_free(key);
			return;
		}
		m->ls = ls;
	}
	keyfile_free(m->key);   /* the running helper has its own copy */
	m->key = key;
	next->foreground = m->cfg->foreground;  /* the log stays where it is */
	m->cfg = next;
	m->user = user;
	m->streak = 0;
	log_msg(LOG_LVL_INFO, "configuration reloaded; restarting the workers");
	m->reloading = any_worker(m);
	stop_workers(m);
}

/* ---- start-up ---- */


static int daemonize(struct monitor *m)
{
	/* Fork, new session, fork again: no controlling terminal, ever. */
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return -1;
		if (pid > 0) {
			keyfile_free(m->key);   /* wiped in the parents that leave */
			_exit(0);
		}
		if (i == 0)
			setsid();
	}
	/* Memory locks do not survive fork: lock the key again. Failing
	 * that (RLIMIT_MEMLOCK), serve all the same, and say so. */
	if (m->key != NULL && keyfile_relock(m->key) < 0)
		fprintf(stderr, "privident: cannot lock the token key in memory: %s\n",
		        strerror(errno));
	if (chdir("/") < 0)
		return -1;
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

/* inetd: the connection moves off the standard streams, which then point
 * at /dev/null (or stay on the log with -f). */
static int take_inetd(struct monitor *m, char *err, size_t errsz)
{
	if (listen_check_inetd(STDIN_FILENO, err, errsz) < 0)
		return -1;
	m->inetd = true;
	m->inetd_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_RDWR);
	if (m->inetd_fd < 0 || null < 0) {
		snprintf(err, errsz, "--inetd: %s", strerror(errno));
		return -1;
	}
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	if (!m->cfg->foreground)
		dup2(null, STDERR_FILENO);
	close(null);
	return 0;
}

/* What the monitor was started with: it keeps the standard streams,
 * systemd's sockets (LISTEN_FDS) or inetd's connection (stdin, then moved
 * off it), and closes every other descriptor it inherited, so that no
 * worker ever holds what its launcher leaked (doc/design.md §6). */
static int take_inherited(struct monitor *m, char *err, size_t errsz)
{
	struct keep_fds keep = { .n = 0 };

	if (!m->cfg->inetd && listen_activated(&m->ls, err, errsz) < 0)
		return -1;
	for (unsigned i = 0; i < m->ls.n; i++)
		keep_fd(&keep, m->ls.fds[i]);
	if (sandbox_close_inherited(&keep, err, errsz) < 0)
		return -1;
	return m->cfg->inetd ? take_inetd(m, err, errsz) : 0;
}

static int open_sockets(struct monitor *m, char *err, size_t errsz)
{
	if (m->inetd || m->ls.activated)
		return 0;
	return listen_open(m->cfg, NULL, &m->ls, err, errsz);
}

/* ---- the loop ---- */

static int wait_timeout_ms(const struct monitor *m)
{
	uint64_t now = clock_mono_ms(), due = UINT64_MAX;

	if (m->kill_at_ms)
		due = m->kill_at_ms;
	if (!m->stopping && !any_worker(m) && m->restart_at_ms < due)
		due = m->restart_at_ms;
	if (due == UINT64_MAX)
		return -1;
	return due > now ? (int)(due - now) : 0;
}

static void on_timer(struct monitor *m)
{
	uint64_t now = clock_mono_ms();

	if (m->kill_at_ms && now >= m->kill_at_ms) {
		kill_all(m, SIGKILL);
		m->kill_at_ms = 0;
	}
	if (!m->stopping && !m->inetd && !any_worker(m) &&
	    now >= m->restart_at_ms && start_workers(m) < 0)
		schedule_restart(m);
}

static int loop(struct monitor *m)
{
	sigset_t set = handled_signals();

	for (;;) {
		siginfo_t si;
		int ms = wait_timeout_ms(m);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		int sig = sigtimedwait(&set, &si, ms < 0 ? NULL : &ts);

		if (sig == SIGCHLD)
			reap(m);
		else if (sig == SIGTERM || sig == SIGINT) {
			if (!m->stopping)
				log_msg(LOG_LVL_INFO, "stopping");
			m->stopping = true;
			stop_workers(m);
		} else if (sig == SIGHUP)
			reload(m);
		if ((m->stopping || m->inetd) && !any_worker(m))
			break;
		on_timer(m);
	}
	if (m->inetd && !m->stopping)
		return WIFEXITED(m->child_status) ? WEXITSTATUS(m->child_status) : 1;
	log_msg(LOG_LVL_INFO, "stopped");
	return 0;
}

int monitor_main(struct config *c, const struct cli *cli)
{
	static struct monitor m;
	char err[512], where[512];
	sigset_t set = handled_signals();

	m.cfg_store[0] = *c;
	m.cfg = &m.cfg_store[0];
	m.cli = cli;
	m.inetd_fd = -1;
	/* First, before the name service or anything else opens a descriptor
	 * of its own. */
	if (take_inherited(&m, err, sizeof(err)) < 0) {
		fprintf(stderr, "privident: %s\n", err);
		return 1;
	}
	if (sandbox_resolve_user(m.cfg, &m.user, err, sizeof(err)) < 0 ||
	    load_key(m.cfg, &m.key, err, sizeof(err)) < 0) {
		fprintf(stderr, "privident: %s\n", err);
		return 2;
	}
	if (raise_fd_limit(m.cfg, err, sizeof(err)) < 0 ||
	    open_sockets(&m, err, sizeof(err)) < 0) {
		fprintf(stderr, "privident: %s\n", err);
		keyfile_free(m.key);
		return 1;
	}
	if (!m.cfg->foreground && !m.cfg->inetd && daemonize(&m) < 0) {
		fprintf(stderr, "privident: cannot become a daemon: %s\n", strerror(errno));
		keyfile_free(m.key);
		return 1;
	}
	log_open(m.cfg->foreground);
	/* An ignored SIGCHLD survives exec, and with it the kernel reaps the
	 * workers itself: the monitor would never learn of their end, and a
	 * pidfd could name a reused pid (see child_pidfd). */
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!m.inetd) {
		listen_describe(&m.ls, where, sizeof(where));
		log_msg(LOG_LVL_INFO, "privident %s started: listening on %s%s, workers as uid %u",
		        PRIVIDENT_VERSION, where, m.ls.activated ? " (socket activation)" : "",
		        (unsigned)m.user.uid);
	}
	if (start_workers(&m) < 0)
		schedule_restart(&m);
	int status = loop(&m);
	keyfile_free(m.key);
	return status;
}
