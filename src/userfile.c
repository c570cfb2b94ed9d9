/* A user's ~/.oidentd.conf for one query: find, check, read, decide. */
#include "userfile.h"

#include <arpa/inet.h>
#include "sockaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static int refuse(struct userfile_result *r, const char *why, int err)
{
	r->status = UF_REFUSED;
	r->why = why;
	r->err = err;
	return -1;
}

/* The file's name in dirfd, opened as the design says; ENOENT is "none". */
static int open_file(int dirfd, const char *name, struct userfile_result *r)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	                O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		r->status = UF_NONE;
		return -1;
	}
	/* O_NOFOLLOW on a link: ELOOP. */
	return refuse(r, errno == ELOOP ? "is a symbolic link" : "cannot be opened",
	              errno == ELOOP ? 0 : errno);
}

/* ~/.config, if it is a directory of the user's: 1 with *dfd, 0 when it
 * is not there (or not a directory), -1 refused. */
static int open_xdg_dir(int homefd, uint32_t uid, int *dfd,
                        struct userfile_result *r)
{
	struct stat st;

	*dfd = openat(homefd, USERFILE_XDG_DIR, O_RDONLY | O_DIRECTORY | O_NONBLOCK |
	              O_NOCTTY | O_CLOEXEC);
	if (*dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       refuse(r, "its directory cannot be opened", errno);
	int e = fstat(*dfd, &st) < 0 ? errno : 0;
	if (e == 0 && st.st_uid == uid)
		return 1;
	close(*dfd);
	*dfd = -1;
	return e != 0 ? refuse(r, "its directory cannot be examined", e) :
	       refuse(r, "is in a directory that is not the user's", 0);
}

int userfile_open(int homefd, uint32_t uid, struct userfile_result *r)
{
	int dfd, fd = -1;

	memset(r, 0, sizeof(*r));
	r->file = USERFILE_XDG;
	int x = open_xdg_dir(homefd, uid, &dfd, r);
	if (x < 0)
		return -1;
	if (x > 0) {
		fd = open_file(dfd, USERFILE_XDG_NAME, r);
		close(dfd);
		if (fd >= 0 || r->status == UF_REFUSED)
			return fd;
	}
	r->file = USERFILE_HOME;
	return open_file(homefd, USERFILE_HOME, r);
}

/* The checks on the opened file's own inode (never on what a name
 * pointed to before it was opened). NULL when it may be read. */
static const char *file_unfit(const struct stat *st, uint32_t uid)
{
	if (!S_ISREG(st->st_mode))
		return "is not a regular file";
	if (st->st_uid != uid)
		return "is not owned by the user";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "is writable by group or others";
	/* The owner made it unreadable: a helper that can read it anyway
	 * (CAP_DAC_READ_SEARCH) reads no more than oidentd would. */
	if (!(st->st_mode & S_IRUSR))
		return "is not readable by its owner";
	if (st->st_size > USERCONF_FILE_MAX)
		return "is longer than " STR(USERCONF_FILE_MAX) " bytes";
	return NULL;
}

long userfile_read(int fd, uint32_t uid, char *buf, size_t size,
                   struct userfile_result *r)
{
	struct stat st;
	size_t len = 0;
	const char *why;

	if (size <= USERCONF_FILE_MAX)
		return refuse(r, "cannot be read", EINVAL);
	if (fstat(fd, &st) < 0)
		return refuse(r, "cannot be read", errno);
	if ((why = file_unfit(&st, uid)) != NULL)
		return refuse(r, why, 0);
	/* One more octet than allowed: reaching it means the file grew. */
	while (len <= USERCONF_FILE_MAX) {
		ssize_t n = read(fd, buf + len, USERCONF_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return refuse(r, "cannot be read", errno);
		if (n == 0)
			return (long)len;
		len += (size_t)n;
	}
	return refuse(r, "is longer than " STR(USERCONF_FILE_MAX) " bytes", 0);
}

static void set_reply(struct userfile_result *r, enum userfile_status s,
                      const struct userconf_reply *rep)
{
	r->status = s;
	snprintf(r->reply, sizeof(r->reply), "%s", rep->name);
	r->choice = s == UF_APPLIED ? CHOICE_REPLY : CHOICE_NONE;
}

bool userfile_forward_ok(int family, const uint8_t *addr, unsigned port)
{
	static const uint8_t one[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool loopback = family == AF_INET ? addr[0] == 127 :
	                family == AF_INET6 &&
	                (memcmp(addr, one, 16) == 0 ||
	                 (memcmp(addr, mapped, 12) == 0 && addr[12] == 127));

	return loopback && port >= USERFILE_FORWARD_PORT_MIN && port <= 65535;
}

/* A forward rule: to the user's own ident server on this host, if the
 * account may choose its reply (the server's answer is one it chose). */
static void decide_forward(const struct userconf_rule *rule,
                           const struct userfile_env *env, struct userfile_result *r)
{
	r->fwd_port = rule->fwd_port;   /* the log tells a forward by it */
	if (!env->may_choose(env->ctx)) {
		r->status = UF_NOT_ALLOWED;
		return;
	}
	if (!userfile_forward_ok(rule->fwd.family, rule->fwd.bytes, rule->fwd_port)) {
		r->status = UF_BAD_FORWARD;
		return;
	}
	r->choice = CHOICE_FORWARD;
	r->fwd_family = rule->fwd.family;
	memcpy(r->fwd_addr, rule->fwd.bytes, sizeof(r->fwd_addr));
	r->fwd_port = rule->fwd_port;
}

/* A reply rule: one of its names, if the account may choose it. */
static void decide_reply(const struct userconf_rule *rule, uint32_t uid,
                         const struct userfile_env *env, struct userfile_result *r)
{
	const struct userconf_reply *rep = &rule->replies[env->pick % rule->nreplies];
	int other;

	if (!env->may_choose(env->ctx))
		set_reply(r, UF_NOT_ALLOWED, rep);
	else if (!userconf_reply_ok(rep))
		set_reply(r, UF_BAD_REPLY, rep);
	else if (env->any_name)
		set_reply(r, UF_APPLIED, rep);
	else if ((other = env->other_account(env->ctx, rep->name, uid,
	                                     &r->other_uid)) != 0)
		set_reply(r, other > 0 ? UF_OTHER_NAME : UF_NAME_UNKNOWN, rep);
	else
		set_reply(r, UF_APPLIED, rep);
}

void userfile_decide(const struct userconf *c, const struct userconf_conn *conn,
                     uint32_t uid, const struct userfile_env *env,
                     struct userfile_result *r)
{
	r->choice = CHOICE_NONE;
	r->nignored = c->nignored + c->ignored_more;
	if (c->nignored > 0) {
		r->ignored_line = c->ignored[0].line;
		r->ignored_why = c->ignored[0].reason;
	}
	if (!c->valid) {
		r->status = UF_INVALID;
		r->line = c->error_line;
		r->why = c->error;
		return;
	}
	r->status = UF_APPLIED;
	const struct userconf_rule *rule = userconf_match(c, conn);
	if (rule == NULL)
		return;
	r->line = rule->line;
	switch (rule->action) {
	case USERCONF_HIDE:
		r->choice = CHOICE_HIDE;
		return;
	case USERCONF_REPLY:
		if (rule->nreplies > 0)
			decide_reply(rule, uid, env, r);
		return;
	case USERCONF_FORWARD:
		decide_forward(rule, env, r);
		return;
	default:
		r->status = UF_UNSUPPORTED;
		r->why = rule->reason;
		return;
	}
}

void userfile_lookup(int homefd, uint32_t uid, const struct userconf_conn *conn,
                     const struct userfile_env *env, char *buf, size_t size,
                     struct userconf *scratch, struct userfile_result *r)
{
	int fd = userfile_open(homefd, uid, r);

	if (fd < 0)
		return;
	long len = userfile_read(fd, uid, buf, size, r);
	close(fd);
	if (len < 0)
		return;
	(void)userconf_parse_for(buf, (size_t)len, conn, scratch);
	userfile_decide(scratch, conn, uid, env, r);
}

/* The text after "~/FILE line N: " for a refused reply. The reply is
 * quoted only when it is a safe name: whatever else a user wrote (escape
 * sequences, line ends) must not reach the administrator's log. */
static void describe_reply(const struct userfile_result *r, char *what, size_t n)
{
	switch (r->status) {
	case UF_BAD_FORWARD:
		snprintf(what, n, "forward refused: only to this host's loopback, "
		         "at a port from %d", USERFILE_FORWARD_PORT_MIN);
		break;
	case UF_NOT_ALLOWED:
		if (r->fwd_port != 0)
			snprintf(what, n, "forward not used: the account is not in "
			         "user-replies");
		else if (userconf_name_ok(r->reply))
			snprintf(what, n, "reply \"%s\" not used: the account is not in "
			         "user-replies", r->reply);
		else
			snprintf(what, n, "reply not used: the account is not in "
			         "user-replies");
		break;
	case UF_BAD_REPLY:
		snprintf(what, n, "reply not used: not 1 to %d of A-Z a-z 0-9 . _ -",
		         USERCONF_REPLY_MAX);
		break;
	case UF_OTHER_NAME:
		snprintf(what, n, "reply \"%s\" refused: it is the login name of uid %u",
		         r->reply, r->other_uid);
		break;
	default:
		snprintf(what, n, "reply \"%s\" refused: the name service cannot tell "
		         "whether it is another account's login name", r->reply);
		break;
	}
}

void userfile_describe(const struct userfile_result *r, char *buf, size_t size)
{
	char what[160], more[160] = "";

	if (r->nignored > 0)
		snprintf(more, sizeof(more), "%s%zu item%s ignored, the first at line %u: "
		         "%s", r->status == UF_APPLIED ? "" : "; ", r->nignored,
		         r->nignored == 1 ? "" : "s", r->ignored_line,
		         r->ignored_why != NULL ? r->ignored_why : "?");
	switch (r->status) {
	case UF_NONE:
		buf[0] = '\0';
		return;
	case UF_APPLIED:
		if (r->nignored == 0) {
			buf[0] = '\0';
			return;
		}
		snprintf(buf, size, "~/%s: %s", r->file, more);
		return;
	case UF_REFUSED:
		snprintf(buf, size, "~/%s ignored: it %s%s%s", r->file, r->why,
		         r->err != 0 ? ": " : "", r->err != 0 ? strerror(r->err) : "");
		return;
	case UF_INVALID:
		snprintf(buf, size, "~/%s ignored: line %u: %s", r->file, r->line, r->why);
		return;
	case UF_UNSUPPORTED:
		snprintf(buf, size, "~/%s line %u not followed: %s%s", r->file, r->line,
		         r->why, more);
		return;
	default:
		describe_reply(r, what, sizeof(what));
		if (r->fwd_port != 0 && (r->status == UF_OTHER_NAME ||
		                         r->status == UF_NAME_UNKNOWN)) {
			/* the name came from the user's forward, not the file */
			char where[INET6_ADDRSTRLEN];
			sa_addr_text(r->fwd_family, r->fwd_addr, where, sizeof(where));
			snprintf(buf, size, "forward to %s,%u: %s", where, r->fwd_port, what);
			return;
		}
		snprintf(buf, size, "~/%s line %u: %s%s", r->file, r->line, what, more);
		return;
	}
}
