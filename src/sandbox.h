/* Locking the workers down (doc/design.md §2): the service user, no capabilities,
 * no_new_privs, an empty root for the child, and each worker's seccomp
 * allowlist from policy/. */
#ifndef PRIVIDENT_SANDBOX_H
#define PRIVIDENT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "config.h"

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

/* Enter the network child's or the helper's sandbox. Returns 0, or -1 with
 * a message. The helper's is entered in two steps, the service user first,
 * so that what helper_prepare makes (its resolver threads) has that
 * identity from the start; the rest and the filter come after prepare. */
int sandbox_enter_child(const struct service_user *u, const struct config *c,
                        char *err, size_t errsz);
int sandbox_helper_identity(const struct service_user *u, const struct config *c,
                            char *err, size_t errsz);
int sandbox_enter_helper(const struct config *c, pid_t child, char *err,
                         size_t errsz);

#endif
