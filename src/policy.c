/* Reply policy: lookup result -> verdict -> reply line. */
#include "policy.h"

#include <stdio.h>
#include <string.h>

/* Root's connections are never revealed (DESIGN §3, rule 2). */
static int uid_hidden(uint32_t uid)
{
	return uid == 0;
}

static void set_error(struct verdict *v, enum reply_error e)
{
	v->is_userid = 0;
	v->err = e;
	v->opsys = NULL;
	v->userid[0] = '\0';
}

static void set_userid(struct verdict *v, const char *opsys, const char *id)
{
	v->is_userid = 1;
	v->opsys = opsys;
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

void policy_decide(const struct config *c, enum nl_result r, uint32_t uid,
                   uid_name_fn name_of, struct verdict *v)
{
	char num[16];

	if (c->mode == MODE_FIXED) {
		set_userid(v, "UNIX", c->fixed_name);
		return;
	}
	if (r == NL_NOT_FOUND || r == NL_NO_OWNER) {
		set_error(v, REPLY_NO_USER);
		return;
	}
	if (r != NL_FOUND) {
		set_error(v, REPLY_UNKNOWN_ERROR);
		return;
	}
	if (uid_hidden(uid)) {
		set_error(v, REPLY_HIDDEN_USER);
		return;
	}
	if (c->mode == MODE_UID) {
		snprintf(num, sizeof(num), "%u", uid);
		set_userid(v, "OTHER", num);
		return;
	}
	decide_user(uid, name_of, v);
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
	else
		snprintf(buf, size, "%s", reply_error_name(v->err));
}
