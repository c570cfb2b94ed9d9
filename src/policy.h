/* Reply policy (doc/design.md §5): turns a lookup result into a reply. Pure: the
 * name service and the per-user files are reached through callbacks, and
 * the time and the token key come in as arguments, so every rule is unit
 * tested. */
#ifndef PRIVIDENT_POLICY_H
#define PRIVIDENT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "netlink.h"
#include "reply.h"

/* Looks up uid's login name into name. Returns 0 when found, 1 when the uid
 * has no name, -1 on a name-service error. */
typedef int (*uid_name_fn)(uint32_t uid, char *name, size_t size);

/* Whether the file name (".noident", ".ident") in uid's home directory
 * counts, by policy_file_counts. Returns 1 yes, 0 no (no such entry, no
 * home, or a home that is not the user's), -1 when it cannot be told (then
 * the user is hidden: a check that fails must not reveal someone who may
 * have opted out). */
typedef int (*home_file_fn)(uint32_t uid, const char *name);

/* Whether the entry name in uid's home directory, of the given mode and
 * owner (from lstat: the entry itself, never what a link points to),
 * counts. ".noident": any entry at all, even a symbolic link, whatever it
 * points to (the link is never followed; a user who made it meant to
 * hide). ".ident": only a regular file owned by uid (anything else, a link
 * included, reveals no one). */
int policy_file_counts(const char *name, uint32_t uid, unsigned mode,
                       uint32_t owner);

/* What the owner's ~/.oidentd.conf says about this connection, as the
 * helper worked it out (doc/design.md §5): nothing that counts, hide, or
 * a reply the owner may choose and that passed the helper's checks (the
 * account may choose, the name is no other account's), in name. */
enum user_choice { CHOICE_NONE, CHOICE_HIDE, CHOICE_REPLY, CHOICE_FORWARD };
typedef enum user_choice (*user_choice_fn)(uint32_t uid, char *name, size_t size);

struct policy_env {
	uid_name_fn name_of;
	home_file_fn home_file;  /* needed only with noident or opt-in */
	const uint8_t *key;      /* TOKEN_KEY_BYTES; needed only for tokens */
	user_choice_fn user_choice; /* needed only with user-files */
};

/* One lookup: its result, and what a token is made of. */
struct policy_query {
	enum nl_result r;
	uint32_t uid;            /* with NL_FOUND */
	int family;              /* the querier's address, as the helper read */
	const uint8_t *peer;     /* it from the socket: 4 or 16 octets */
	int64_t now;             /* wall-clock seconds, for the token period */
};

struct verdict {
	int is_userid;                /* else err holds the error */
	enum reply_error err;
	enum reply_error masked;      /* the error hidden by mask-errors, or
	                                 REPLY_UNKNOWN_ERROR if none was */
	const char *opsys;            /* "UNIX" or "OTHER" */
	bool chosen;                  /* userid is the one the owner chose */
	char userid[USERID_MAX + 1];
};

/* Applies, in order: no owner -> NO-USER; a hidden uid -> HIDDEN-USER;
 * opted out (noident, or not opted in) -> HIDDEN-USER; with user-files,
 * the owner's "hide" -> HIDDEN-USER, and the owner's chosen reply (with
 * reply = user, or user-reply-overrides; checked once more here: 1 to 32
 * of [A-Za-z0-9._-]) -> that USERID; the reply mode; then mask-errors.
 * fixed mode answers without looking at the lookup. */
void policy_decide(const struct config *c, const struct policy_query *q,
                   const struct policy_env *env, struct verdict *v);

/* What policy_decide will ask of the environment for q: the helper finds
 * that out first, away from its loop (it may take the name service
 * seconds), then decides. POLICY_NEEDS_NAME: env->name_of(q->uid);
 * POLICY_NEEDS_HOME_FILE: env->home_file(q->uid, policy_home_file(c)).
 * policy_decide may ask less (a user hidden by the file needs no name),
 * never more. */
#define POLICY_NEEDS_NAME 1u
#define POLICY_NEEDS_HOME_FILE 2u
/* env->user_choice(q->uid): the owner's ~/.oidentd.conf, read for this
 * query alone (the file changes from one connection to the next). */
#define POLICY_NEEDS_USER_FILE 4u
unsigned policy_needs(const struct config *c, const struct policy_query *q);

/* The per-user file the configuration looks at (".noident" or ".ident"),
 * or NULL when it reads no home. */
const char *policy_home_file(const struct config *c);

/* Formats the verdict as a reply line; a user id the formatter refuses
 * (control characters, invalid UTF-8) becomes UNKNOWN-ERROR, never a
 * mangled USERID. Returns the length. */
int policy_format(struct verdict *v, unsigned server_port,
                  unsigned client_port, char *out, size_t size);

/* "USERID:UNIX:alice", "NO-USER", "UNKNOWN-ERROR masked=HIDDEN-USER": the
 * result field of a log line. */
void policy_describe(const struct verdict *v, char *buf, size_t size);

#endif
