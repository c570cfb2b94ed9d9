/* Worker sandboxes (doc/design.md §6). The order matters: what needs
 * privilege (the empty root, the identity switch) comes first, then the
 * limits that make it irreversible, then the descriptors (set-up errors
 * can be logged until then), and the seccomp filter last. The helper
 * switches identity before it opens anything, so that every socket and
 * name-service connection it makes is the service user's. */
#include "sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "roles.h"
#include "seccomp_policy.h"

/* getpwnam_r's buffer; large enough for any sane passwd line. */
#define PWBUF_SIZE 4096
/* Where the child's empty root is made and at once removed again. */
#define EMPTY_ROOT_PARENT "/tmp"
#define EMPTY_ROOT_NAME "privident-root.XXXXXX"
/* Without close_range(2) (Linux before 5.9) descriptors are closed one by
 * one up to the descriptor limit, or up to this when it is unlimited. */
#define FALLBACK_FD_LIMIT 65536u
/* The highest descriptor number there can be (close_range's "to the end"). */
#define FD_LAST (~0u)

static int fail(char *err, size_t errsz, const char *what)
{
	snprintf(err, errsz, "%s: %s", what, strerror(errno));
	return -1;
}

static int resolve_unprivileged(const struct config *c, struct service_user *u,
                                const struct passwd *pw, char *err, size_t errsz)
{
	if (c->user_set && (!pw || pw->pw_uid != geteuid())) {
		snprintf(err, errsz, "cannot run as user '%s': not started as root",
		         c->user);
		return -1;
	}
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_CHROOT)) {
		snprintf(err, errsz, "the network child needs CAP_SYS_CHROOT to enter "
		         "its empty root: start as root, or grant that capability");
		return -1;
	}
	/* Refused here, at start-up, not by a helper that then dies and is
	 * restarted for ever. */
	if (config_reads_home(c) &&
	    !capng_have_capability(CAPNG_PERMITTED, CAP_DAC_READ_SEARCH)) {
		snprintf(err, errsz, "%s needs CAP_DAC_READ_SEARCH for the lookup "
		         "helper to see into 0700 home directories: start as root, "
		         "or grant that capability", c->noident ? "noident" :
		         c->opt_in ? "opt-in" : "user-files");
		return -1;
	}
	if (config_forwarding(c) &&
	    !capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN)) {
		snprintf(err, errsz, "forward-network needs CAP_NET_ADMIN for the "
		         "conntrack role to read the connection-tracking table: "
		         "start as root, or grant that capability");
		return -1;
	}
	u->uid = geteuid();
	u->gid = getegid();
	u->switch_user = false;
	return 0;
}

int sandbox_resolve_user(const struct config *c, struct service_user *u,
                         char *err, size_t errsz)
{
	struct passwd pw, *res = NULL;
	char buf[PWBUF_SIZE];
	int e = getpwnam_r(c->user, &pw, buf, sizeof(buf), &res);

	if (geteuid() != 0)
		return resolve_unprivileged(c, u, res, err, errsz);
	if (!res) {
		snprintf(err, errsz, "user '%s' %s (create it, or name another with --user)",
		         c->user, e ? strerror(e) : "does not exist");
		return -1;
	}
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		snprintf(err, errsz, "user '%s' has uid or gid 0: the workers must not run as root",
		         c->user);
		return -1;
	}
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	u->switch_user = true;
	return 0;
}

/* chroot into a fresh directory and remove it: the root is then a deleted,
 * empty directory in which nothing can ever be created, even by its owner,
 * and nothing is left in the file system for anyone to tamper with. */
static int enter_empty_root(char *err, size_t errsz)
{
	char path[] = EMPTY_ROOT_PARENT "/" EMPTY_ROOT_NAME;
	int parent = open(EMPTY_ROOT_PARENT, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (parent < 0)
		return fail(err, errsz, "open " EMPTY_ROOT_PARENT);
	if (!mkdtemp(path)) {
		close(parent);
		return fail(err, errsz, "mkdtemp");
	}
	const char *name = path + sizeof(EMPTY_ROOT_PARENT);
	int r = chdir(path) < 0 || chroot(".") < 0;
	int saved = errno;
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && !r)
		r = 1, saved = errno;
	close(parent);
	errno = saved;
	if (r || chdir("/") < 0)
		return fail(err, errsz, "empty root");
	return 0;
}

/* Switches to the service user keeping only the capabilities in keep
 * (-1: none), clears the bounding set where we may, and checks the result. */
static int drop_identity(const struct service_user *u, int keep, char *err,
                         size_t errsz)
{
	bool may_bound = true;

	/* Without the setuid step, emptying the bounding set takes
	 * CAP_SETPCAP (the systemd unit grants it for this alone); with it,
	 * capng_change_id does it as root. */
	if (!u->switch_user) {
		capng_get_caps_process();
		may_bound = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (keep >= 0)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)keep);
	if (u->switch_user) {
		if (capng_change_id((int)u->uid, (int)u->gid,
		                    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) < 0) {
			snprintf(err, errsz, "cannot switch to uid %u", (unsigned)u->uid);
			return -1;
		}
	} else {
		/* Started unprivileged: no setuid step. The bounding set goes
		 * first, while CAP_SETPCAP is still held; without it the set
		 * stays as the service manager left it, and no_new_privs keeps
		 * it from ever being used. */
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (capng_apply(may_bound ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) < 0) {
			snprintf(err, errsz, "cannot drop capabilities");
			return -1;
		}
	}
	if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid ||
	    getegid() != u->gid || (u->uid != 0 && setuid(0) == 0)) {
		snprintf(err, errsz, "the identity switch did not hold");
		return -1;
	}
	return 0;
}

/* Asks the kernel (not libcap-ng's cached copy) what is left: nothing in
 * any set but keep (-1: nothing at all) in permitted and effective. */
static int check_caps(int keep, char *err, size_t errsz)
{
	capng_get_caps_process();
	if (keep >= 0)
		capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)keep);
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
		snprintf(err, errsz, "capabilities left after dropping them");
		return -1;
	}
	return 0;
}

static int lock(bool dumpable, char *err, size_t errsz)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errsz, "no_new_privs");
	/* Not dumpable: no core files with our memory, no ptrace by other
	 * processes of the service user. */
	if (!dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(err, errsz, "PR_SET_DUMPABLE");
	return 0;
}

/* ---- descriptors ---- */

/* Closes the descriptors lo..hi. */
static void close_span(unsigned lo, unsigned hi)
{
	struct rlimit rl;
	unsigned top = FALLBACK_FD_LIMIT;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0 || errno != ENOSYS)
		return;
#endif
	/* A descriptor above the limit can only exist if the limit was
	 * lowered after it was opened, which nothing before us does. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		top = rl.rlim_cur < FD_LAST ? (unsigned)rl.rlim_cur : FD_LAST;
	for (unsigned fd = lo; fd <= hi && fd < top; fd++)
		close((int)fd);
}

/* Closes every descriptor above 2 that keep does not hold; refuses (and
 * closes nothing) if keep lost one for want of room. */
static int close_others(const struct keep_fds *keep, char *err, size_t errsz)
{
	int sorted[KEEP_FDS_MAX];
	unsigned n = 0, lo = STDERR_FILENO + 1;

	if (keep->overflow) {
		snprintf(err, errsz, "more descriptors to keep than %d", KEEP_FDS_MAX);
		return -1;
	}
	for (unsigned i = 0; i < keep->n && i < KEEP_FDS_MAX; i++) {
		unsigned j = n++;   /* insertion sort: a handful of numbers */
		for (; j > 0 && sorted[j - 1] > keep->fd[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep->fd[i];
	}
	for (unsigned i = 0; i < n; i++) {
		if (sorted[i] < (int)lo)
			continue;   /* 0-2, unset, or a duplicate */
		if ((unsigned)sorted[i] > lo)
			close_span(lo, (unsigned)sorted[i] - 1);
		lo = (unsigned)sorted[i] + 1;
	}
	close_span(lo, FD_LAST);
	return 0;
}

static int open_null(char *err, size_t errsz)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);

	return fd >= 0 ? fd : fail(err, errsz, "open /dev/null");
}

/* A worker keeps keep and nothing else above 2; 0, 1 and (unless
 * keep_stderr) 2 go to null, which is closed with the rest. The log's
 * syslog socket is among what is closed: log.c lets go of it first, so
 * that it never writes to a number that has come to mean something else. */
static int keep_only(const struct keep_fds *keep, int null, bool keep_stderr,
                     char *err, size_t errsz)
{
	log_close();
	for (int fd = 0; fd <= (keep_stderr ? STDOUT_FILENO : STDERR_FILENO); fd++)
		if (dup2(null, fd) < 0)
			return fail(err, errsz, "dup2 /dev/null");
	return close_others(keep, err, errsz);
}

int sandbox_close_inherited(const struct keep_fds *keep, char *err, size_t errsz)
{
	/* A closed standard stream gets /dev/null (open takes the lowest free
	 * number: that one), so that no socket of ours ever lands on 0-2
	 * and is then written to as a stream. */
	for (int fd = 0; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR | O_NOCTTY) < 0)
			return fail(err, errsz, "open /dev/null");
	return close_others(keep, err, errsz);
}

/* ---- the workers ---- */

int sandbox_enter_child(const struct service_user *u, const struct config *c,
                        const struct keep_fds *keep, int sock,
                        char *err, size_t errsz)
{
	struct rlimit none = { 0, 0 };
	struct seccomp_params p = { .sock = sock, .pidfd = -1,
	                            .debug = c->debug_sandbox,
	                            .report = child_report_syscall };
	/* Before the empty root, which has no /dev/null. */
	int null = open_null(err, errsz);

	if (null < 0 || enter_empty_root(err, errsz) < 0 ||
	    drop_identity(u, -1, err, errsz) < 0 || check_caps(-1, err, errsz) < 0)
		return -1;
	/* The child never starts a process, writes a file or dumps core. */
	if (setrlimit(RLIMIT_NPROC, &none) < 0 || setrlimit(RLIMIT_FSIZE, &none) < 0 ||
	    setrlimit(RLIMIT_CORE, &none) < 0)
		return fail(err, errsz, "setrlimit");
	/* The child's log is the helper's: it keeps no log socket, and no
	 * standard error even with -f. */
	if (lock(false, err, errsz) < 0 || keep_only(keep, null, false, err, errsz) < 0)
		return -1;
	return seccomp_apply(seccomp_netchild_rules, seccomp_netchild_count, &p,
	                     err, errsz);
}

int sandbox_helper_identity(const struct service_user *u, const struct config *c,
                            char *err, size_t errsz)
{
	struct rlimit none = { 0, 0 };
	/* noident and opt-in look into homes that may be mode 0700: the one
	 * capability that needs, and only then (doc/design.md §2). Started
	 * unprivileged, sandbox_resolve_user made sure it is there to keep. */
	int keep = config_reads_home(c) ? CAP_DAC_READ_SEARCH : -1;

	if (drop_identity(u, keep, err, errsz) < 0 || check_caps(keep, err, errsz) < 0)
		return -1;
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return fail(err, errsz, "setrlimit");
	/* Now rather than with the filter: threads helper_prepare starts
	 * inherit no_new_privs, and no process of the service user can trace
	 * the helper while it opens its sockets (without a setuid step the
	 * kernel would leave it dumpable). */
	return lock(false, err, errsz);
}

int sandbox_keep_fds(const struct keep_fds *keep, bool keep_stderr,
                     char *err, size_t errsz)
{
	int null = open_null(err, errsz);

	return null < 0 ? -1 : keep_only(keep, null, keep_stderr, err, errsz);
}

/* The two forwarding roles share the child's start: the empty root and
 * the identity (keeping keep, or nothing), no_new_privs, not dumpable. */
static int enter_role(const struct service_user *u, int keep, char *err,
                      size_t errsz)
{
	struct rlimit none = { 0, 0 };

	if (enter_empty_root(err, errsz) < 0 || drop_identity(u, keep, err, errsz) < 0 ||
	    check_caps(keep, err, errsz) < 0)
		return -1;
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return fail(err, errsz, "setrlimit");
	return lock(false, err, errsz);
}

/* ... and their end: no processes, no files (set last, with standard
 * error gone: a log line written to a file would be SIGXFSZ), then
 * every descriptor but keep, then the filter. */
static int seal_role(const struct keep_fds *keep, int null,
                     const struct seccomp_rule *rules, size_t n,
                     const struct seccomp_params *p, char *err, size_t errsz)
{
	struct rlimit none = { 0, 0 };

	if (keep_only(keep, null, false, err, errsz) < 0)
		return -1;
	if (setrlimit(RLIMIT_NPROC, &none) < 0 || setrlimit(RLIMIT_FSIZE, &none) < 0)
		return fail(err, errsz, "setrlimit");
	return seccomp_apply(rules, n, p, err, errsz);
}

int sandbox_ctrack_identity(const struct service_user *u, int *null, char *err,
                            size_t errsz)
{
	/* Before the empty root, which has no /dev/null. */
	*null = open_null(err, errsz);
	return *null < 0 ? -1 : enter_role(u, CAP_NET_ADMIN, err, errsz);
}

int sandbox_enter_ctrack(const struct config *c, const struct keep_fds *keep,
                         int null, int sock, int nl, char *err, size_t errsz)
{
	struct seccomp_params p = { .sock = sock, .pidfd = -1, .nl = nl,
	                            .debug = c->debug_sandbox,
	                            .report = ctrack_report_syscall };

	return seal_role(keep, null, seccomp_ctrack_rules, seccomp_ctrack_count, &p,
	                 err, errsz);
}

int sandbox_enter_forwarder(const struct service_user *u, const struct config *c,
                            const struct keep_fds *keep, int sock,
                            char *err, size_t errsz)
{
	struct seccomp_params p = { .sock = sock, .pidfd = -1, .nl = -1,
	                            .debug = c->debug_sandbox,
	                            .report = forwarder_report_syscall };
	/* Before the empty root, which has no /dev/null. */
	int null = open_null(err, errsz);

	if (null < 0 || enter_role(u, -1, err, errsz) < 0)
		return -1;
	return seal_role(keep, null, seccomp_forwarder_rules, seccomp_forwarder_count,
	                 &p, err, errsz);
}

int sandbox_enter_helper(const struct config *c, int child_pidfd,
                         char *err, size_t errsz)
{
	struct seccomp_params p = { .sock = -1, .pidfd = child_pidfd,
	                            .debug = c->debug_sandbox,
	                            .report = helper_report_syscall };

	return seccomp_apply(seccomp_helper_rules, seccomp_helper_count, &p,
	                     err, errsz);
}
