/* Worker sandboxes (doc/design.md §2). The order matters: what needs privilege
 * (the empty root, the identity switch) comes first, then the limits that
 * make it irreversible, and the seccomp filter last. */
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
#include <unistd.h>

#include "roles.h"
#include "seccomp_policy.h"

/* getpwnam_r's buffer; large enough for any sane passwd line. */
#define PWBUF_SIZE 4096
/* Where the child's empty root is made and at once removed again. */
#define EMPTY_ROOT_PARENT "/tmp"
#define EMPTY_ROOT_NAME "privident-root.XXXXXX"

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
		         "or grant that capability", c->noident ? "noident" : "opt-in");
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

int sandbox_enter_child(const struct service_user *u, const struct config *c,
                        char *err, size_t errsz)
{
	struct rlimit none = { 0, 0 };
	struct seccomp_params p = { .debug = c->debug_sandbox,
	                            .report = child_report_syscall };

	if (enter_empty_root(err, errsz) < 0 || drop_identity(u, -1, err, errsz) < 0 ||
	    check_caps(-1, err, errsz) < 0)
		return -1;
	/* The child never starts a process, writes a file or dumps core. */
	if (setrlimit(RLIMIT_NPROC, &none) < 0 || setrlimit(RLIMIT_FSIZE, &none) < 0 ||
	    setrlimit(RLIMIT_CORE, &none) < 0)
		return fail(err, errsz, "setrlimit");
	if (lock(false, err, errsz) < 0)
		return -1;
	return seccomp_apply(seccomp_netchild_rules, seccomp_netchild_count, &p,
	                     err, errsz);
}

int sandbox_helper_identity(const struct service_user *u, const struct config *c,
                            char *err, size_t errsz)
{
	/* noident and opt-in look into homes that may be mode 0700: the one
	 * capability that needs, and only then (doc/design.md §2). Started
	 * unprivileged, sandbox_resolve_user made sure it is there to keep. */
	int keep = config_reads_home(c) ? CAP_DAC_READ_SEARCH : -1;

	if (drop_identity(u, keep, err, errsz) < 0 || check_caps(keep, err, errsz) < 0)
		return -1;
	return 0;
}

int sandbox_enter_helper(const struct config *c, pid_t child, char *err,
                         size_t errsz)
{
	struct rlimit none = { 0, 0 };
	struct seccomp_params p = { .child = child, .debug = c->debug_sandbox,
	                            .report = helper_report_syscall };

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return fail(err, errsz, "setrlimit");
	if (lock(false, err, errsz) < 0)
		return -1;
	return seccomp_apply(seccomp_helper_rules, seccomp_helper_count, &p,
	                     err, errsz);
}
