/* A user's ~/.oidentd.conf, as the lookup helper's resolver threads read
 * it for one query (doc/design.md §5): the file found and opened relative
 * to the already opened home, checked, read with a bounded read, parsed by
 * src/userconf.c, and the rule for the connection turned into a choice the
 * reply policy can use. The name-service checks (may this account choose,
 * is the name another account's) come in as callbacks, so that everything
 * here runs in unit tests. Nothing here logs: the result says what
 * happened, and the helper's loop logs it. */
#ifndef PRIVIDENT_USERFILE_H
#define PRIVIDENT_USERFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "userconf.h"

/* The two places oidentd looks, relative to the home, in its order: the
 * first that exists is the one read (oidentd: "If both files exist, only
 * the former is used"). */
#define USERFILE_XDG_DIR ".config"
#define USERFILE_XDG_NAME "oidentd.conf"
#define USERFILE_XDG ".config/oidentd.conf"
#define USERFILE_HOME ".oidentd.conf"

enum userfile_status {
	UF_NONE,          /* no file: nothing to say */
	UF_APPLIED,       /* read; choice says what applies (maybe nothing) */
	UF_REFUSED,       /* found but not read: why (and err for I/O) */
	UF_INVALID,       /* a syntax error (line, why): the file gives nothing */
	UF_UNSUPPORTED,   /* the rule for the connection is one we do not
	                     follow (line, why): the normal reply */
	UF_NOT_ALLOWED,   /* a reply, but the account may not choose one */
	UF_BAD_REPLY,     /* a reply outside 1-32 of [A-Za-z0-9._-] */
	UF_OTHER_NAME,    /* a reply that is another account's login name */
	UF_NAME_UNKNOWN,  /* cannot tell whether it is (the name service
	                     failed): refused as if it were */
	UF_BAD_FORWARD,   /* a forward elsewhere than this host's loopback
	                     at a port from USERFILE_FORWARD_PORT_MIN */
};

/* A user may forward only to an ident server of their own on this host:
 * on loopback, at a port no service of the system's holds (below 1024
 * only root may listen). The helper checks the listener's owner too. */
#define USERFILE_FORWARD_PORT_MIN 1024

/* Whether a user may forward to addr (family's form), port: this host's
 * loopback (127/8, ::1, or 127/8 IPv4-mapped), port >= 1024. */
bool userfile_forward_ok(int family, const uint8_t *addr, unsigned port);

struct userfile_result {
	enum userfile_status status;
	enum user_choice choice;        /* CHOICE_NONE unless UF_APPLIED */
	int fwd_family;                 /* CHOICE_FORWARD: AF_INET or AF_INET6 */
	uint8_t fwd_addr[16];           /* ... a loopback address */
	uint16_t fwd_port;              /* ... and a port >= 1024 */
	char reply[USERCONF_REPLY_MAX + 1]; /* with CHOICE_REPLY; else the
	                                   refused reply, for the log */
	const char *file;               /* USERFILE_XDG or USERFILE_HOME */
	unsigned line;                  /* the rule, or the syntax error */
	const char *why;                /* static text, with REFUSED, INVALID,
	                                   UNSUPPORTED */
	int err;                        /* errno, with REFUSED for an I/O error */
	uint32_t other_uid;             /* with UF_OTHER_NAME */
	size_t nignored;                /* items the file has that we ignored */
	unsigned ignored_line;          /* the first of them */
	const char *ignored_why;
};

/* Opens the user's file relative to the home directory homefd (already
 * opened and found to belong to uid): ~/.config/oidentd.conf if it exists
 * (the .config directory followed if a link, like the home, but it must
 * belong to uid), else ~/.oidentd.conf. The file itself is opened with
 * O_NOFOLLOW|O_NONBLOCK|O_NOCTTY, so a symbolic link is refused and a FIFO
 * or a device never blocks. Returns the descriptor; or -1 with r->status
 * UF_NONE (neither exists) or UF_REFUSED. Sets r->file. */
int userfile_open(int homefd, uint32_t uid, struct userfile_result *r);

/* Checks the opened file (a regular file owned by uid, readable by its
 * owner, not writable by group or others, at most USERCONF_FILE_MAX bytes)
 * and reads it into buf (size > USERCONF_FILE_MAX), with one bounded read
 * per call until the end: a file that grows past the limit meanwhile is
 * refused too. Returns the length, or -1 with r->status UF_REFUSED. */
long userfile_read(int fd, uint32_t uid, char *buf, size_t size,
                   struct userfile_result *r);

/* The name-service side, for userfile_decide: whether the account may
 * choose a reply (user-replies), and whether name is the login name of an
 * account other than uid (1 yes, with *other; 0 no; -1 cannot tell). */
struct userfile_env {
	bool (*may_choose)(void *ctx);
	int (*other_account)(void *ctx, const char *name, uint32_t uid,
	                     uint32_t *other);
	void *ctx;
	bool any_name;           /* user-reply-any-name: skip other_account */
	uint32_t pick;           /* which of several replies: pick % nreplies
	                            (oidentd picks at random) */
};

/* Turns a parsed file into r for the connection: the rule that applies
 * (userconf_match), then hide, or a reply the account may choose, that is
 * a safe name and, unless env->any_name, no other account's. */
void userfile_decide(const struct userconf *c, const struct userconf_conn *conn,
                     uint32_t uid, const struct userfile_env *env,
                     struct userfile_result *r);

/* All of it for one query: open the file relative to homefd, read it into
 * buf, parse the rule for conn into *scratch (userconf_parse_for), decide.
 * r->status UF_NONE when there is no file. */
void userfile_lookup(int homefd, uint32_t uid, const struct userconf_conn *conn,
                     const struct userfile_env *env, char *buf, size_t size,
                     struct userconf *scratch, struct userfile_result *r);

/* One line for the log about r, or "" when there is nothing to say (no
 * file, or a file applied with no item ignored). */
void userfile_describe(const struct userfile_result *r, char *buf, size_t size);

#endif
