/* Reply policy (DESIGN §3): turns a lookup result into a reply. Pure: the
 * name service is reached through a callback, so every rule is unit
 * tested. */
#ifndef PRIVIDENT_POLICY_H
#define PRIVIDENT_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "netlink.h"
#include "reply.h"

/* Looks up uid's login name into name. Returns 0 when found, 1 when the uid
 * has no name, -1 on a name-service error. */
typedef int (*uid_name_fn)(uint32_t uid, char *name, size_t size);

struct verdict {
	int is_userid;                /* else err holds the error */
	enum reply_error err;
	const char *opsys;            /* "UNIX" or "OTHER" */
	char userid[USERID_MAX + 1];
};

/* Applies, in order: no owner -> NO-USER; a hidden uid (root) ->
 * HIDDEN-USER; then the reply mode. fixed mode answers without looking at
 * the lookup at all. */
void policy_decide(const struct config *c, enum nl_result r, uint32_t uid,
                   uid_name_fn name_of, struct verdict *v);

/* Formats the verdict as a reply line; a user id the formatter refuses
 * (control characters, invalid UTF-8) becomes UNKNOWN-ERROR, never a
 * mangled USERID. Returns the length. */
int policy_format(struct verdict *v, unsigned server_port,
                  unsigned client_port, char *out, size_t size);

/* "USERID:UNIX:alice", "NO-USER", ...: the result field of a log line. */
void policy_describe(const struct verdict *v, char *buf, size_t size);

#endif
