/* Worker sandboxes. */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* getpwnam_r's buffer; large enough for any sane passwd line. */
#define PWBUF_SIZE 4096

int sandbox_resolve_user(const struct config *c, struct service_user *u,
                         char *err, size_t errsz)
{
	struct passwd pw, *res = NULL;
	char buf[PWBUF_SIZE];
	int e = getpwnam_r(c->user, &pw, buf, sizeof(buf), &res);

	if (geteuid() != 0) {
		if (c->user_set && (!res || pw.pw_uid != geteuid())) {
			snprintf(err, errsz, "cannot run as user '%s': not started as root",
			         c->user);
			return -1;
		}
		u->uid = geteuid();
		u->gid = getegid();
		u->switch_user = false;
		return 0;
	}
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

static int drop_user(const struct service_user *u, char *err, size_t errsz)
{
	if (!u->switch_user)
		return 0;
	if (setgroups(0, NULL) < 0 ||
	    setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0) {
		snprintf(err, errsz, "cannot switch to uid %u: %s",
		         (unsigned)u->uid, strerror(errno));
		return -1;
	}
	/* Make sure the switch is irreversible. */
	if (setuid(0) == 0 || getuid() != u->uid || geteuid() != u->uid) {
		snprintf(err, errsz, "privileges could be regained after the switch");
		return -1;
	}
	return 0;
}

static int no_new_privs(char *err, size_t errsz)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errsz, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int sandbox_enter_child(const struct service_user *u, const struct config *c,
                        char *err, size_t errsz)
{
	struct rlimit none = { 0, 0 };

	(void)c;
	if (drop_user(u, err, errsz) < 0 || no_new_privs(err, errsz) < 0)
		return -1;
	/* The child never forks nor writes files. */
	if (setrlimit(RLIMIT_NPROC, &none) < 0 ||
	    setrlimit(RLIMIT_FSIZE, &none) < 0) {
		snprintf(err, errsz, "setrlimit: %s", strerror(errno));
		return -1;
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

int sandbox_enter_helper(const struct service_user *u, const struct config *c,
                         char *err, size_t errsz)
{
	(void)c;
	if (drop_user(u, err, errsz) < 0 || no_new_privs(err, errsz) < 0)
		return -1;
	/* The helper holds the key and the netlink socket: no core dumps, no
	 * ptrace by other processes of the same user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}
