/* Locking the workers down (doc/design.md §6): the service user, no
 * capabilities, no_new_privs, only the descriptors each needs, an empty
 * root for the child, and each worker's seccomp allowlist from policy/. */
#ifndef PRIVIDENT_SANDBOX_H
#define PRIVIDENT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "config.h"
#include "roles.h"

struct service_user {
	uid_t uid;
	gid_t gid;
	bool switch_user;   /* we are root and drop to uid/gid */
};

/* Works out who the workers run as: the configured user when started as
 * root (it must exist and not be root), else the current user (a -u naming
 * someone else is then an error, and CAP_SYS_CHROOT is needed for the
 * child's empty root). Returns 0, or -1 with a message. */
int sandbox_resolve_user(const struct config *c, struct service_user *u,
                         char *err, size_t errsz);

/* The monitor at start-up: makes sure 0-2 are open (on /dev/null if they
 * were closed), so that nothing it opens lands there, and closes every
 * other descriptor it inherited but those in keep (systemd's sockets,
 * inetd's connection). Returns 0, or -1 with a message. */
int sandbox_close_inherited(const struct keep_fds *keep, char *err, size_t errsz);

/* The network child's sandbox, whole: the empty root, the identity switch,
 * limits, every descriptor but keep closed and 0-2 on /dev/null, and its
 * filter, with sendmsg and recvmsg pinned to sock. Returns 0, or -1 with a
 * message. */
int sandbox_enter_child(const struct service_user *u, const struct config *c,
                        const struct keep_fds *keep, int sock,
                        char *err, size_t errsz);

/* The helper's, in three steps, so that everything it opens is opened as
 * the service user (doc/design.md §6): identity switches to the service
 * user (keeping CAP_DAC_READ_SEARCH only for noident and opt-in), sets its
 * limits, no_new_privs and non-dumpable; keep_fds closes every descriptor
 * but keep (and, with keep_stderr, fd 2: its log with -f) and points the
 * others of 0-2 at /dev/null; then, after helper_prepare, enter loads the
 * filter, which signals nothing but SIGKILL through child_pidfd. Each
 * returns 0, or -1 with a message. */
int sandbox_helper_identity(const struct service_user *u, const struct config *c,
                            char *err, size_t errsz);
int sandbox_keep_fds(const struct keep_fds *keep, bool keep_stderr,
                     char *err, size_t errsz);
int sandbox_enter_helper(const struct config *c, int child_pidfd,
                         char *err, size_t errsz);

/* The conntrack role's (doc/design.md §2, §6), in two steps: identity
 * opens /dev/null into *null, enters the empty root and switches to the service user keeping
 * CAP_NET_ADMIN alone, with its limits, no_new_privs and non-dumpable;
 * then, once it has opened its netlink socket (ctrack_prepare), enter
 * closes every descriptor but keep and loads its filter (I/O pinned to
 * sock and nl). Each returns 0, or -1 with a message. */
int sandbox_ctrack_identity(const struct service_user *u, int *null, char *err,
                            size_t errsz);
int sandbox_enter_ctrack(const struct config *c, const struct keep_fds *keep,
                         int null, int sock, int nl, char *err, size_t errsz);

/* The forwarder's, whole: the empty root, the service user with no
 * capability, its limits, every descriptor but keep closed, its filter
 * (TCP sockets, connect and I/O; the socketpair pinned to sock). */
int sandbox_enter_forwarder(const struct service_user *u, const struct config *c,
                            const struct keep_fds *keep, int sock,
                            char *err, size_t errsz);

#endif
