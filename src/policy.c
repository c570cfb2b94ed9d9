/* Reply policy: lookup result -> verdict -> reply line. */
#include "policy.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "token.h"
#include "userconf.h"

/* The per-user files of doc/design.md §5, rule 3. */
#define NOIDENT_FILE ".noident"
#define IDENT_FILE ".ident"

static void set_error(struct verdict *v, enum reply_error e)
{
	v->is_userid = 0;
	v->err = e;
	v->masked = REPLY_UNKNOWN_ERROR;
	v->opsys = NULL;
	v->chosen = false;
	v->userid[0] = '\0';
}

static void set_userid(struct verdict *v, const char *opsys, const char *id)
{
	v->is_userid = 1;
	v->masked = REPLY_UNKNOWN_ERROR;
	v->opsys = opsys;
	v->chosen = false;
	snprintf(v->userid, sizeof(v->userid), "%s", id);
}

static void decide_user(uint32_t uid, uid_name_fn name_of, struct verdict *v)
{
	char name[USERID_MAX + 1];

	/* A uid without a name is reported as an error, not as a number the
	 * client would take for a login name. */
	if (name_of(uid, name, sizeof(name)) != 0)
		set_error(v, REPLY_UNKNOWN_ERROR);
	else
		set_userid(v, "UNIX", name);
}

static void decide_token(const struct config *c, const struct policy_query *q,
                         const uint8_t *key, struct verdict *v)
{
	char tok[TOKEN_LENGTH_MAX + 1];
	int64_t n = token_period_number(q->now, c->token_period);

	if (key == NULL ||
	    token_make(key, q->uid, q->family, q->peer, n, c->token_length, tok) != 0)
		set_error(v, REPLY_UNKNOWN_ERROR);
	else
		set_userid(v, "OTHER", tok);
}

int policy_file_counts(const char *name, uint32_t uid, unsigned mode,
                       uint32_t owner)
{
	if (strcmp(name, NOIDENT_FILE) == 0)
		return 1;
	return S_ISREG(mode) && owner == uid;
}

/* Rule 3: whether the user's own file hides them. */
static int opted_out(const struct config *c, uint32_t uid,
                     const struct policy_env *env)
{
	const char *file = policy_home_file(c);

	if (file == NULL)
		return 0;
	int r = env->home_file(uid, file);
	return c->noident ? r != 0 : r != 1;
}

/* Rule 4: the owner's ~/.oidentd.conf. Returns 1 when it decided v. A
 * chosen reply replaces a pseudonym only where the administrator said so,
 * and is checked again here, just before it is sent: a name that fails
 * gives the reply the mode gives, never a mangled one. */
static int decide_user_file(const struct config *c, const struct policy_query *q,
                            const struct policy_env *env, struct verdict *v)
{
	char chosen[USERCONF_REPLY_MAX + 1] = "";

	if (!c->user_files || env->user_choice == NULL)
		return 0;
	switch (env->user_choice(q->uid, chosen, sizeof(chosen))) {
	case CHOICE_HIDE:
		set_error(v, REPLY_HIDDEN_USER);
		return 1;
	case CHOICE_REPLY:
		if ((c->mode != MODE_USER && !c->user_reply_overrides) ||
		    !userconf_name_ok(chosen))
			return 0;
		set_userid(v, "UNIX", chosen);
		v->chosen = true;
		return 1;
	default:
		return 0;
	}
}

/* Rules 1 to 5 for a looked-up connection. */
static void decide_found(const struct config *c, const struct policy_query *q,
                         const struct policy_env *env, struct verdict *v)
{
	char num[16];

	if (q->r == NL_NOT_FOUND || q->r == NL_NO_OWNER) {
		set_error(v, REPLY_NO_USER);
		return;
	}
	if (q->r != NL_FOUND) {
		set_error(v, REPLY_UNKNOWN_ERROR);
		return;
	}
	if (config_uid_hidden(c, q->uid) || c->mode == MODE_HIDDEN ||
	    opted_out(c, q->uid, env)) {
		set_error(v, REPLY_HIDDEN_USER);
		return;
	}
	if (decide_user_file(c, q, env, v))
		return;
	switch (c->mode) {
	case MODE_UID:
		snprintf(num, sizeof(num), "%u", q->uid);
		set_userid(v, "OTHER", num);
		return;
	case MODE_TOKEN:
		decide_token(c, q, env->key, v);
		return;
	default:
		decide_user(q->uid, env->name_of, v);
		return;
	}
}

void policy_decide(const struct config *c, const struct policy_query *q,
                   const struct policy_env *env, struct verdict *v)
{
	if (c->mode == MODE_FIXED)
		set_userid(v, "UNIX", c->fixed_name);
	else
		decide_found(c, q, env, v);
	/* Rule 6. */
	if (!v->is_userid && c->mask_errors && v->err != REPLY_UNKNOWN_ERROR) {
		v->masked = v->err;
		v->err = REPLY_UNKNOWN_ERROR;
	}
}

const char *policy_home_file(const struct config *c)
{
	return c->noident ? NOIDENT_FILE : c->opt_in ? IDENT_FILE : NULL;
}

/* The rules of decide_found up to the point where it asks: no owner, a
 * hidden uid and hidden mode ask nothing. */
unsigned policy_needs(const struct config *c, const struct policy_query *q)
{
	unsigned need = 0;

	if (c->mode == MODE_FIXED || q->r != NL_FOUND || c->mode == MODE_HIDDEN ||
	    config_uid_hidden(c, q->uid))
		return 0;
	if (policy_home_file(c) != NULL)
		need |= POLICY_NEEDS_HOME_FILE;
	if (c->user_files)
		need |= POLICY_NEEDS_USER_FILE;
	if (c->mode == MODE_USER)
		need |= POLICY_NEEDS_NAME;
	return need;
}

int policy_format(struct verdict *v, unsigned server_port,
                  unsigned client_port, char *out, size_t size)
{
	if (v->is_userid) {
		int n = reply_format_userid(out, size, server_port, client_port,
		                            v->opsys, v->userid,
		                            strlen(v->userid));
		if (n >= 0)
			return n;
		set_error(v, REPLY_UNKNOWN_ERROR);
	}
	return reply_format_error(out, size, server_port, client_port, v->err);
}

void policy_describe(const struct verdict *v, char *buf, size_t size)
{
	if (v->is_userid)
		snprintf(buf, size, "USERID:%s:%s", v->opsys, v->userid);
	else if (v->masked != REPLY_UNKNOWN_ERROR)
		snprintf(buf, size, "%s masked=%s", reply_error_name(v->err),
		         reply_error_name(v->masked));
	else
		snprintf(buf, size, "%s", reply_error_name(v->err));
}
