/* The helper's side of forwarding: a fixed table of relayed queries. */
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forward.h"
#include "ipc.h"

/* Messages taken from a role per wake-up, so that one busy role cannot
 * keep the child's queries waiting. */
#define RELAY_BATCH 32

/* An id names a place and its generation: index in the low 16 bits. */
#define ID_INDEX(id) ((id) & 0xffffu)
#define ID_GEN(id) ((id) >> 16)

void relay_init(struct relay *r, const struct config *c, const uint8_t *key,
                int ct_sock, int fwd_sock, relay_done_fn done, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->cfg = c;
	r->key = key;
	r->ct_sock = ct_sock;
	r->fwd_sock = fwd_sock;
	r->done = done;
	r->ctx = ctx;
}

bool relay_wanted(const struct relay *r, const struct pending_query *pq)
{
	return r->ct_sock >= 0 && r->fwd_sock >= 0 && pq->have_tuple &&
	       pq->r == NL_NOT_FOUND && pq->t.scope_id == 0;
}

static uint32_t id_of(const struct relay *r, const struct relay_entry *e)
{
	return (uint32_t)(e - r->e) | (e->gen << 16);
}

static struct relay_entry *entry_of(struct relay *r, uint32_t id,
                                    enum relay_stage stage)
{
	uint32_t i = ID_INDEX(id);

	if (i >= RELAY_MAX || r->e[i].stage != stage || (r->e[i].gen & 0xffffu) != ID_GEN(id))
		return NULL;
	return &r->e[i];
}

/* The note of e, its place then freed. */
static void take(struct relay *r, struct relay_entry *e, const char *what,
                 struct relay_note *n, struct pending_query *pq)
{
	memset(n, 0, sizeof(*n));
	n->what = what;
	n->family = e->inner_family;
	memcpy(n->inner, e->inner, sizeof(n->inner));
	n->inner_port = e->inner_port;
	*pq = e->pq;
	e->stage = RELAY_FREE;
	r->used--;
}

/* "USERID:UNIX:name" or "ERROR:NO-USER", every octet of the inner
 * server's shown as ident_visible shows it. */
static void describe_answer(const struct forward_result *res, char *out, size_t size)
{
	const struct ident_reply *rep = &res->reply;
	char id[IDENT_VISIBLE_MAX];

	if (res->failure != FORWARD_OK) {
		out[0] = '\0';
		return;
	}
	if (!rep->is_userid) {
		(void)ident_visible(rep->error, strlen(rep->error), id, sizeof(id));
		snprintf(out, size, "ERROR:%s", id);
		return;
	}
	char os[OPSYS_MAX * 8 + 1];
	(void)ident_visible(rep->opsys, strlen(rep->opsys), os, sizeof(os));
	(void)ident_visible(rep->userid, strlen(rep->userid), id, sizeof(id));
	snprintf(out, size, "USERID:%s:%s", os, id);
}

/* A verdict for a relayed query, then its place is free. */
static int finish(struct relay *r, struct relay_entry *e,
                  const struct forward_net *net, const struct forward_result *res,
                  const char *what)
{
	struct verdict v;
	struct timespec now;
	struct forward_ctx fc;
	struct relay_note n;
	struct pending_query pq;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&fc, 0, sizeof(fc));
	fc.family = e->pq.t.family;
	fc.peer = e->pq.t.remote;
	fc.inner_family = e->inner_family;
	fc.inner = e->inner;
	fc.now = (int64_t)now.tv_sec;
	fc.key = r->key;
	forward_reply(r->cfg, net, res, &fc, &v);
	take(r, e, what, &n, &pq);
	if (res != NULL)
		describe_answer(res, n.answer, sizeof(n.answer));
	return r->done(r->ctx, &pq, &v, &n);
}

/* A relayed query that ends in an error of its own (no inner host, a
 * failure on the way): NO-USER or UNKNOWN-ERROR, through mask-errors. */
static int finish_error(struct relay *r, struct relay_entry *e,
                        enum reply_error err, const char *what)
{
	struct verdict v;
	struct relay_note n;
	struct pending_query pq;

	memset(&v, 0, sizeof(v));
	v.err = err;
	v.masked = REPLY_UNKNOWN_ERROR;
	if (r->cfg->mask_errors && err != REPLY_UNKNOWN_ERROR) {
		v.masked = err;
		v.err = REPLY_UNKNOWN_ERROR;
	}
	take(r, e, what, &n, &pq);
	return r->done(r->ctx, &pq, &v, &n);
}

static struct relay_entry *free_entry(struct relay *r)
{
	for (int i = 0; i < RELAY_MAX; i++)
		if (r->e[i].stage == RELAY_FREE)
			return &r->e[i];
	return NULL;
}

/* Takes place e for pq at stage, its deadline from now. */
static void take_place(struct relay *r, struct relay_entry *e, enum relay_stage stage,
                       const struct pending_query *pq, uint64_t now)
{
	e->stage = stage;
	e->user = false;
	e->gen++;
	e->pq = *pq;
	e->inner_family = 0;
	memset(e->inner, 0, sizeof(e->inner));
	e->inner_port = 0;
	e->deadline_ms = now + (uint64_t)r->cfg->forward_timeout * 1000 + RELAY_GRACE_MS;
	r->used++;
}

/* Asks the forwarder about e: the server at e->inner, port; the question
 * "e->inner_port , the querier's port". -1 when it takes no question. */
static int ask_forwarder(struct relay *r, struct relay_entry *e, uint16_t port)
{
	struct ipc_fwd_ask q;

	memset(&q, 0, sizeof(q));
	q.type = IPC_FWD_ASK;
	q.id = id_of(r, e);
	q.family = (uint16_t)e->inner_family;
	q.port = port;
	q.inner_port = e->inner_port;
	q.server_port = e->pq.t.remote_port;
	memcpy(q.addr, e->inner, sizeof(q.addr));
	q.timeout_ms = r->cfg->forward_timeout * 1000;
	if (ipc_send(r->fwd_sock, &q, sizeof(q), -1, 1) < 0)
		return -1;
	e->stage = RELAY_FORWARD;
	return 0;
}

int relay_begin(struct relay *r, const struct pending_query *pq, uint64_t now)
{
	struct relay_entry *e = free_entry(r);
	struct ipc_ct_ask q;

	if (e == NULL) {
		struct relay_entry tmp = { .pq = *pq, .stage = RELAY_CONNTRACK };
		r->used++;
		return finish_error(r, &tmp, REPLY_UNKNOWN_ERROR, "relay table full") < 0 ? -1 : 1;
	}
	memset(&q, 0, sizeof(q));
	take_place(r, e, RELAY_CONNTRACK, pq, now);
	q.type = IPC_CT_ASK;
	q.id = id_of(r, e);
	q.family = (uint16_t)pq->t.family;
	q.local_port = pq->t.local_port;
	q.remote_port = pq->t.remote_port;
	memcpy(q.local, pq->t.local, pq->t.family == AF_INET ? 4 : 16);
	memcpy(q.remote, pq->t.remote, pq->t.family == AF_INET ? 4 : 16);
	if (ipc_send(r->ct_sock, &q, sizeof(q), -1, 1) < 0)
		return finish_error(r, e, REPLY_UNKNOWN_ERROR,
		                    "the conntrack role takes no question") < 0 ? -1 : 1;
	return 0;
}

int relay_begin_user(struct relay *r, const struct pending_query *pq, int family,
                     const uint8_t *addr, uint16_t port, uint64_t now)
{
	struct relay_entry *e = r->fwd_sock >= 0 ? free_entry(r) : NULL;

	if (e == NULL)
		return r->user_done(r->ctx, pq, NULL, family, addr, port);
	take_place(r, e, RELAY_FORWARD, pq, now);
	e->user = true;
	e->user_port = port;
	e->inner_family = family;
	memcpy(e->inner, addr, family == AF_INET ? 4 : 16);
	e->inner_port = pq->t.local_port;
	if (ask_forwarder(r, e, port) < 0) {
		e->stage = RELAY_FREE;
		r->used--;
		return r->user_done(r->ctx, pq, NULL, family, addr, port);
	}
	return 0;
}

/* A user's forward ended: the helper takes it from here. */
static int finish_user(struct relay *r, struct relay_entry *e,
                       const struct forward_result *res)
{
	struct pending_query pq = e->pq;
	uint8_t addr[16];

	memcpy(addr, e->inner, sizeof(addr));
	e->stage = RELAY_FREE;
	e->user = false;
	r->used--;
	return r->user_done(r->ctx, &pq, res, e->inner_family, addr, e->user_port);
}

/* The inner host is known: answer from the configuration, or ask it. */
static int on_inner(struct relay *r, struct relay_entry *e)
{
	const struct forward_net *net = forward_match(r->cfg, e->inner_family, e->inner);

	if (net == NULL)
		return finish_error(r, e, REPLY_NO_USER, "inner host in no forward-network");
	if (net->reply[0] != '\0')
		return finish(r, e, net, NULL, "fixed reply");
	if (ask_forwarder(r, e, (uint16_t)net->port) < 0)
		return finish_error(r, e, REPLY_UNKNOWN_ERROR, "the forwarder takes no question");
	return 0;
}

static int on_ct_answer(struct relay *r, const struct ipc_ct_answer *a)
{
	struct relay_entry *e = entry_of(r, a->id, RELAY_CONNTRACK);

	if (e == NULL)
		return 0;   /* for a query given up already */
	switch (a->result) {
	case CT_FOUND:
		e->inner_family = a->family;
		memcpy(e->inner, a->inner, sizeof(e->inner));
		e->inner_port = a->inner_port;
		return on_inner(r, e);
	case CT_NOT_FOUND:
		return finish_error(r, e, REPLY_NO_USER, "no such connection in conntrack");
	case CT_MISMATCH:
		return finish_error(r, e, REPLY_UNKNOWN_ERROR,
		                    "the conntrack entry is not one relayed for the querier");
	default:
		return finish_error(r, e, REPLY_UNKNOWN_ERROR, "conntrack lookup failed");
	}
}

/* The answer, as forward_result had it in the forwarder; its ports must
 * be the ones asked, here too. */
static int on_fwd_answer(struct relay *r, const struct ipc_fwd_answer *a)
{
	struct relay_entry *e = entry_of(r, a->id, RELAY_FORWARD);
	struct forward_result res;

	if (e == NULL)
		return 0;
	const struct forward_net *net = e->user ? NULL :
	                                forward_match(r->cfg, e->inner_family, e->inner);
	memset(&res, 0, sizeof(res));
	res.failure = (enum forward_failure)a->failure;
	if (res.failure == FORWARD_OK &&
	    (a->server_port != e->inner_port || a->client_port != e->pq.t.remote_port))
		res.failure = FORWARD_OTHER_PORTS;
	if (res.failure == FORWARD_OK) {
		res.reply.server_port = a->server_port;
		res.reply.client_port = a->client_port;
		res.reply.is_userid = a->is_userid != 0;
		memcpy(res.reply.opsys, a->opsys, sizeof(res.reply.opsys));
		memcpy(res.reply.charset, a->charset, sizeof(res.reply.charset));
		memcpy(res.reply.userid, a->userid, sizeof(res.reply.userid));
		memcpy(res.reply.error, a->error, sizeof(res.reply.error));
	}
	if (e->user)
		return finish_user(r, e, &res);
	if (net == NULL)   /* the configuration cannot change under us */
		return finish_error(r, e, REPLY_UNKNOWN_ERROR, "inner host in no forward-network");
	return finish(r, e, net, &res, forward_failure_name(res.failure));
}

/* Messages waiting on sock, each decoded with decode and handled. */
static int drain(struct relay *r, int sock, bool conntrack)
{
	unsigned char buf[IPC_RECV_MAX];

	for (int k = 0; k < RELAY_BATCH; k++) {
		int fd, rc;
		ssize_t n = ipc_recv(sock, buf, sizeof(buf), &fd, 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (fd >= 0)
			close(fd);  /* no answer carries one */
		if (n <= 0 || fd >= 0)
			return 1;   /* gone, or a malformed message */
		struct ipc_event ev;
		if (ipc_decode_event(buf, (size_t)n, &ev) == 0) {
			/* Only --debug-sandbox's report, and the role exits. */
			if (ev.kind == EV_SECCOMP) {
				r->forbidden_role = conntrack ? "conntrack role" : "forwarder";
				r->forbidden_nr = ev.syscall_nr;
			}
			return 1;
		}
		if (conntrack) {
			struct ipc_ct_answer a;
			if (ipc_decode_ct_answer(buf, (size_t)n, &a) != 0)
				return 1;
			rc = on_ct_answer(r, &a);
		} else {
			struct ipc_fwd_answer a;
			if (ipc_decode_fwd_answer(buf, (size_t)n, &a) != 0)
				return 1;
			rc = on_fwd_answer(r, &a);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int relay_on_conntrack(struct relay *r, uint64_t now)
{
	(void)now;
	return drain(r, r->ct_sock, true);
}

int relay_on_forwarder(struct relay *r, uint64_t now)
{
	(void)now;
	return drain(r, r->fwd_sock, false);
}

int relay_expire(struct relay *r, uint64_t now)
{
	for (int i = 0; i < RELAY_MAX && r->used > 0; i++) {
		struct relay_entry *e = &r->e[i];
		if (e->stage != RELAY_FREE && e->deadline_ms <= now && e->user) {
			if (finish_user(r, e, NULL) < 0)
				return -1;
			continue;
		}
		if (e->stage != RELAY_FREE && e->deadline_ms <= now &&
		    finish_error(r, e, REPLY_UNKNOWN_ERROR,
		                 e->stage == RELAY_CONNTRACK ? "no answer from the conntrack role"
		                                             : "no answer from the forwarder") < 0)
			return -1;
	}
	return 0;
}

int64_t relay_next_ms(const struct relay *r, uint64_t now)
{
	int64_t next = -1;

	for (int i = 0; i < RELAY_MAX && r->used > 0; i++) {
		const struct relay_entry *e = &r->e[i];
		if (e->stage == RELAY_FREE)
			continue;
		int64_t left = e->deadline_ms > now ? (int64_t)(e->deadline_ms - now) : 0;
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}
