/* The network child: the only process that reads bytes from strangers, so
 * it must be assumed compromised and knows nothing worth stealing. It
 * accepts, reads, parses, hands each query with its connection to the
 * helper, and writes the helper's replies back in order. All memory is
 * allocated at start-up; the event loop allocates nothing. */
#include "roles.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hosts.h"
#include "ipc.h"
#include "reply.h"
#include "request.h"

/* Connections accepted per listener wake-up, so one busy listener cannot
 * starve the others or the replies. */
#define ACCEPT_BATCH 64
/* epoll events handled per wake-up. */
#define EVENT_BATCH 256
/* Event lines per kind per second before they are summed up in one line,
 * so a flood cannot flood the log. */
#define EVENT_BURST 10
#define EVENT_WINDOW_MS 1000
/* Reply messages from the helper read per wake-up before looking at the
 * clients again. */
#define REPLY_BATCH 64
/* Lines one connection has answered per turn before the others get theirs.
 * Edge-triggered epoll reports a pipeline once; answered in one go, tens of
 * thousands of lines (--max-queries allows 100,000) from a few clients
 * held the loop for seconds. 64 lines take well under a millisecond. */
#define LINES_PER_TURN 64
/* A helper that has sent nothing for this long past --lookup-timeout while
 * queries wait for it has stopped answering altogether (doc/design.md §4):
 * it answers every query by that deadline, its netlink lookups give up
 * after a second each, so five seconds more is far beyond a slow one. */
#define HELPER_GRACE_MS 5000

#define NIL UINT32_MAX

/* What an epoll event is about: the high half of its data. */
enum { TAG_CONN = 0, TAG_LISTENER = 1, TAG_HELPER = 2 };
#define TAG(t, i) ((uint64_t)(t) << 32 | (uint32_t)(i))

enum conn_state {
	C_FREE,
	C_READING,     /* parsing input */
	C_QUEUED,      /* query waiting for room on the helper socket */
	C_WAITING,     /* query sent, waiting for the helper's reply */
	C_WRITING,     /* reply partly written, waiting for EPOLLOUT */
};

struct link { uint32_t prev, next; };

/* The other end of a client connection, worked out once when it is
 * accepted: what the log names. What the limits count (struct host_keys)
 * is worked out from it at the same time. */
struct peer {
	uint16_t family;
	uint8_t addr[16];
};

struct list { uint32_t head, tail; };

struct conn {
	int fd;
	uint32_t gen;
	uint8_t state;
	uint8_t close_after;    /* close once the pending output is written */
	uint16_t in_off, in_len;
	uint16_t out_off, out_len;
	uint32_t queries;
	uint64_t active_ms;     /* last accept or completed line */
	struct link idle;       /* ordered by active_ms */
	struct link sendq;      /* waiting for the helper socket */
	struct link ready;      /* more input to go through next turn */
	uint8_t in_ready;
	struct req_parser parser;
	struct req_query q;
	struct peer peer;
	uint8_t in[CONN_INBUF];
};

struct event_rate {
	uint64_t window_ms;
	uint32_t sent, suppressed;
	struct ipc_event last;
};

struct child {
	const struct config *cfg;
	int ep, sock;
	int inetd;
	const struct listen_set *ls;
	struct conn *conns;
	char *outbuf;           /* REPLY_MAX per connection, touched only on a
	                           short write */
	uint32_t nconns, used, free_head;
	struct list idle, sendq, ready;
	struct host_table hosts;   /* who holds the table; not in inetd mode */
	struct event_rate rate[EV_KIND_END];
	uint64_t now_ms;
	int helper_out;         /* EPOLLOUT armed on the helper socket */
	uint32_t asked;         /* queries sent to the helper, not answered */
	uint64_t helper_ms;     /* when the helper last answered, or when the
	                           first of the queries now waiting went out */
};

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* ---- intrusive lists of connection slots ---- */

static struct link *link_of(struct child *ch, uint32_t i, size_t off)
{
	return (struct link *)((char *)&ch->conns[i] + off);
}

static void list_push(struct child *ch, struct list *l, uint32_t i, size_t off)
{
	struct link *k = link_of(ch, i, off);
	k->prev = l->tail;
	k->next = NIL;
	if (l->tail != NIL)
		link_of(ch, l->tail, off)->next = i;
	else
		l->head = i;
	l->tail = i;
}

static void list_remove(struct child *ch, struct list *l, uint32_t i, size_t off)
{
	struct link *k = link_of(ch, i, off);
	if (k->prev != NIL)
		link_of(ch, k->prev, off)->next = k->next;
	else
		l->head = k->next;
	if (k->next != NIL)
		link_of(ch, k->next, off)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NIL;
}

#define IDLE offsetof(struct conn, idle)
#define SENDQ offsetof(struct conn, sendq)
#define READY offsetof(struct conn, ready)

/* ---- events for the log, through the helper ---- */

static void event_send(struct child *ch, struct ipc_event *e)
{
	/* Never block on the helper for a log line: drop it instead. */
	(void)ipc_send(ch->sock, e, sizeof(*e), -1, 1);
}

static void event_flush(struct child *ch, uint32_t kind)
{
	struct event_rate *r = &ch->rate[kind];

	if (ch->now_ms - r->window_ms < EVENT_WINDOW_MS)
		return;
	if (r->suppressed) {
		r->last.count = r->suppressed;
		event_send(ch, &r->last);
	}
	r->window_ms = ch->now_ms;
	r->sent = r->suppressed = 0;
}

static void event(struct child *ch, const struct peer *p, uint32_t kind,
                  const struct req_query *q)
{
	struct event_rate *r = &ch->rate[kind];
	struct ipc_event *e = &r->last;

	event_flush(ch, kind);
	memset(e, 0, sizeof(*e));
	e->type = IPC_EVENT;
	e->kind = kind;
	e->count = 1;
	e->family = p->family;
	memcpy(e->addr, p->addr, sizeof(e->addr));
	if (q) {
		e->ports[0] = q->server_port;
		e->ports[1] = q->client_port;
	}
	if (r->sent < EVENT_BURST) {
		r->sent++;
		event_send(ch, e);
	} else {
		r->suppressed++;
	}
}

static void events_flush_all(struct child *ch)
{
	for (uint32_t k = EV_INVALID; k < EV_KIND_END; k++)
		event_flush(ch, k);
}

/* ---- connection table ---- */

static uint32_t conn_index(const struct child *ch, const struct conn *c)
{
	return (uint32_t)(c - ch->conns);
}

static void conn_close(struct child *ch, struct conn *c)
{
	uint32_t i = conn_index(ch, c);

	/* Deregister explicitly: the helper may still hold a duplicate of this
	 * descriptor, which would keep the epoll registration alive. */
	epoll_ctl(ch->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->state == C_QUEUED)
		list_remove(ch, &ch->sendq, i, SENDQ);
	if (c->in_ready)
		list_remove(ch, &ch->ready, i, READY);
	c->in_ready = 0;
	list_remove(ch, &ch->idle, i, IDLE);
	if (!ch->inetd)
		hosts_del(&ch->hosts, i);
	c->fd = -1;
	c->state = C_FREE;
	c->gen++;
	c->idle.next = ch->free_head;
	ch->free_head = i;
	ch->used--;
}

static void peer_of(const struct sockaddr_storage *ss, struct peer *p)
{
	memset(p->addr, 0, sizeof(p->addr));
	if (ss->ss_family == AF_INET) {
		p->family = AF_INET;
		memcpy(p->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		p->family = AF_INET6;
		memcpy(p->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

/* Takes a free slot for fd, counted against k (NULL in inetd mode, which
 * has one connection and no limits to keep). */
static struct conn *conn_open(struct child *ch, int fd, const struct peer *p,
                              const struct host_keys *k)
{
	uint32_t i = ch->free_head;
	struct conn *c = &ch->conns[i];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };

	ch->free_head = c->idle.next;
	ch->used++;
	c->fd = fd;
	c->state = C_READING;
	c->close_after = 0;
	c->in_off = c->in_len = c->out_off = c->out_len = 0;
	c->queries = 0;
	c->active_ms = ch->now_ms;
	req_init(&c->parser);
	c->peer = *p;
	list_push(ch, &ch->idle, i, IDLE);
	if (k && hosts_add(&ch->hosts, i, k) < 0) {
		conn_close(ch, c);
		return NULL;
	}
	ev.data.u64 = TAG(TAG_CONN, i);
	if (epoll_ctl(ch->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		conn_close(ch, c);
		return NULL;
	}
	return c;
}

/* A refused connection is accepted and closed at once, so the accept queue
 * never stalls behind it. */
static void refuse(struct child *ch, int fd, const struct peer *p,
                   uint32_t kind)
{
	close(fd);
	event(ch, p, kind, NULL);
}

/* Input read and thrown away before the daemon itself closes a connection
 * (query limit, invalid line): closing a socket with unread input makes
 * the kernel reset it and drop replies not yet on the wire, so a client
 * that pipelined past --max-queries would lose answers it was owed. A
 * client that keeps more than this queued gets the reset. */
#define DRAIN_MAX 4096

/* Closes a connection after its last reply, letting that reply reach the
 * client: the input still queued is drained first, so the close is a FIN
 * behind the reply rather than a reset in front of it. */
static void conn_finish(struct child *ch, struct conn *c)
{
	char scratch[512];

	for (size_t total = 0; total < DRAIN_MAX; ) {
		ssize_t n = read(c->fd, scratch, sizeof(scratch));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	conn_close(ch, c);
}

/* ---- replies ---- */

static char *outbuf_of(struct child *ch, const struct conn *c)
{
	return ch->outbuf + (size_t)conn_index(ch, c) * REPLY_MAX;
}

/* Writes as much of the pending output as the socket takes. Returns 1 when
 * all is written, 0 when waiting for EPOLLOUT, -1 when the connection was
 * closed. */
static int flush_out(struct child *ch, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, outbuf_of(ch, c) + c->out_off,
		                 c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->state = C_WRITING;
			return 0;
		}
		if (n <= 0) {
			conn_close(ch, c);
			return -1;
		}
		c->out_off += (uint16_t)n;
	}
	c->out_off = c->out_len = 0;
	return 1;
}

/* Queues a reply line behind whatever is pending, then writes. */
static int write_reply(struct child *ch, struct conn *c, const char *line,
                       size_t len)
{
	if (len > (size_t)REPLY_MAX - c->out_len) {
		conn_close(ch, c);
		return -1;
	}
	memcpy(outbuf_of(ch, c) + c->out_len, line, len);
	c->out_len += (uint16_t)len;
	return flush_out(ch, c);
}

/* After a reply is out: close if that was the last one allowed, else back
 * to reading. Only the state changes: the caller's loop (process) goes on
 * with the input already buffered, so a run of lines answered without the
 * helper costs loop turns, not stack (doc/design.md §7). */
static void reply_done(struct child *ch, struct conn *c)
{
	c->queries++;
	if (c->queries >= ch->cfg->max_queries) {
		event(ch, &c->peer, EV_MAX_QUERIES, NULL);
		c->close_after = 1;
	}
	if (c->close_after) {
		conn_finish(ch, c);
		return;
	}
	c->state = C_READING;
}

static void send_line(struct child *ch, struct conn *c, const char *line,
                      int len)
{
	int r = write_reply(ch, c, line, (size_t)len);
	if (r == 1)
		reply_done(ch, c);
	/* r == 0: reply_done runs when the rest is written */
}

/* ---- queries to the helper ---- */

static int send_query(struct child *ch, struct conn *c)
{
	struct ipc_query q = {
		.type = IPC_QUERY,
		.conn = conn_index(ch, c),
		.gen = c->gen,
		.server_port = (uint16_t)c->q.server_port,
		.client_port = (uint16_t)c->q.client_port,
	};
	if (ipc_send(ch->sock, &q, sizeof(q), c->fd, 1) < 0)
		return -1;
	if (ch->asked++ == 0)
		ch->helper_ms = ch->now_ms;
	return 0;
}

static void arm_helper_out(struct child *ch, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0) };

	if (ch->helper_out == on)
		return;
	ev.data.u64 = TAG(TAG_HELPER, 0);
	epoll_ctl(ch->ep, EPOLL_CTL_MOD, ch->sock, &ev);
	ch->helper_out = on;
}

static void ask_helper(struct child *ch, struct conn *c)
{
	if (ch->sendq.head == NIL && send_query(ch, c) == 0) {
		c->state = C_WAITING;
		return;
	}
	if (errno != EAGAIN && ch->sendq.head == NIL) {
		/* The helper is gone: the child stops, and this query can never
		 * be answered. */
		stop_requested = 1;
		conn_close(ch, c);
		return;
	}
	c->state = C_QUEUED;
	list_push(ch, &ch->sendq, conn_index(ch, c), SENDQ);
	arm_helper_out(ch, 1);
}

static void drain_sendq(struct child *ch)
{
	while (ch->sendq.head != NIL) {
		struct conn *c = &ch->conns[ch->sendq.head];
		if (send_query(ch, c) < 0) {
			if (errno != EAGAIN)
				stop_requested = 1;
			return;
		}
		list_remove(ch, &ch->sendq, ch->sendq.head, SENDQ);
		c->state = C_WAITING;
	}
	arm_helper_out(ch, 0);
}

/* ---- input ---- */

static void touch(struct child *ch, struct conn *c)
{
	uint32_t i = conn_index(ch, c);
	c->active_ms = ch->now_ms;
	list_remove(ch, &ch->idle, i, IDLE);
	list_push(ch, &ch->idle, i, IDLE);
	if (!ch->inetd)
		hosts_touch(&ch->hosts, i);
}

/* INVALID-PORT, or UNKNOWN-ERROR with mask-errors (doc/design.md §5, rule 6:
 * every error). */
static enum reply_error port_error(const struct child *ch)
{
	return ch->cfg->mask_errors ? REPLY_UNKNOWN_ERROR : REPLY_INVALID_PORT;
}

static void bad_port(struct child *ch, struct conn *c)
{
	char line[REPLY_MAX];
	int n = reply_format_error(line, sizeof(line), c->q.server_port,
	                           c->q.client_port, port_error(ch));
	event(ch, &c->peer, EV_BAD_PORT, &c->q);
	send_line(ch, c, line, n);
}

static void invalid(struct child *ch, struct conn *c)
{
	char line[REPLY_MAX];
	int n = reply_format_error(line, sizeof(line), 0, 0, port_error(ch));
	event(ch, &c->peer, EV_INVALID, NULL);
	c->close_after = 1;
	if (write_reply(ch, c, line, (size_t)n) == 1)
		conn_finish(ch, c);
}

/* Feeds buffered input to the parser until a line completes, and acts on
 * that line; or until the buffer is used up. Returns 1 for a line. */
static int parse_buffered(struct child *ch, struct conn *c)
{
	while (c->in_off < c->in_len) {
		size_t used;
		enum req_status st = req_feed(&c->parser, c->in + c->in_off,
		                              c->in_len - c->in_off, &used, &c->q);
		c->in_off += (uint16_t)used;
		if (st == REQ_MORE)
			continue;
		if (st == REQ_INVALID) {
			invalid(ch, c);
			return 1;
		}
		touch(ch, c);
		if (st == REQ_QUERY)
			ask_helper(ch, c);
		else
			bad_port(ch, c);
		return 1;
	}
	return 0;
}

/* Comes back to c next turn: it has input the edge-triggered epoll will
 * not report again. */
static void defer(struct child *ch, struct conn *c)
{
	if (c->in_ready)
		return;
	c->in_ready = 1;
	list_push(ch, &ch->ready, conn_index(ch, c), READY);
}

/* Reads and parses until a query is out, a reply waits for room, the input
 * runs dry, the connection ends, or it has had LINES_PER_TURN lines this
 * turn: one line per loop, whether the helper or the child itself answers
 * it. Edge-triggered: we read until EAGAIN, or come back. */
static void process(struct child *ch, struct conn *c)
{
	uint32_t lines = 0;

	while (c->state == C_READING) {
		if (lines == LINES_PER_TURN) {
			defer(ch, c);
			return;
		}
		if (c->in_off < c->in_len) {
			lines += (uint32_t)parse_buffered(ch, c);
			continue;
		}
		ssize_t n = read(c->fd, c->in, sizeof(c->in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(ch, c);
			return;
		}
		c->in_off = 0;
		c->in_len = (uint16_t)n;
	}
}

static void on_conn(struct child *ch, uint32_t i, uint32_t events)
{
	struct conn *c = &ch->conns[i];

	if (c->state == C_FREE)
		return;
	if (c->state == C_WRITING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (flush_out(ch, c) != 1)
			return;
		c->state = C_WAITING;   /* not reading: reply_done decides */
		reply_done(ch, c);
	}
	process(ch, c);
}

/* ---- replies from the helper ---- */

static void on_reply(struct child *ch, const struct ipc_reply *r)
{
	struct conn *c;

	if (r->conn >= ch->nconns)
		return;
	c = &ch->conns[r->conn];
	/* A reply for a connection closed meanwhile finds another generation. */
	if (c->state != C_WAITING || c->gen != r->gen)
		return;
	send_line(ch, c, r->line, (int)r->len);
	process(ch, c);
}

/* Returns -1 when the helper is gone or misbehaves: the child then exits
 * and the monitor restarts both. */
static int on_helper(struct child *ch)
{
	unsigned char buf[IPC_RECV_MAX];
	struct ipc_reply r;

	for (int k = 0; k < REPLY_BATCH; k++) {
		int fd;
		ssize_t n = ipc_recv(ch->sock, buf, sizeof(buf), &fd, 1);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (fd >= 0)
			close(fd);
		if (n <= 0 || fd >= 0 || ipc_decode_reply(buf, (size_t)n, &r) < 0)
			return -1;
		/* Every query gets one reply, also one for a connection closed
		 * meanwhile: the count stays true. */
		if (ch->asked > 0)
			ch->asked--;
		ch->helper_ms = ch->now_ms;
		on_reply(ch, &r);
	}
	return 0;
}

/* ---- accepting ---- */

/* Makes room for a connection from k, or says why there is none: 0, or
 * the event kind of the refusal. A full table makes room by closing the
 * longest-idle connection of the site (IPv4 address, IPv6 /48) that holds
 * the most, when that site holds more than k's does (doc/design.md §7). */
static uint32_t admit(struct child *ch, const struct host_keys *k)
{
	switch (hosts_admit(&ch->hosts, k)) {
	case HOSTS_OK: break;
	case HOSTS_OVER_SITE: return EV_LIMIT_SITE;
	default: return EV_LIMIT_HOST;
	}
	if (ch->used < ch->nconns)
		return 0;
	uint32_t victim = hosts_victim(&ch->hosts, k);
	if (victim == HOSTS_NONE)
		return EV_LIMIT_TOTAL;
	event(ch, &ch->conns[victim].peer, EV_EVICTED, NULL);
	conn_close(ch, &ch->conns[victim]);
	return 0;
}

static void on_listener(struct child *ch, int lfd)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		/* Zeroed: accept4 fills it, but the analyzers cannot know. */
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;   /* EAGAIN, or a connection already gone */
		struct peer p;
		struct host_keys k;
		peer_of(&ss, &p);
		host_keys(p.family, p.addr, &k);
		uint32_t refusal = admit(ch, &k);
		if (refusal) {
			refuse(ch, fd, &p, refusal);
			continue;
		}
		struct conn *c = conn_open(ch, fd, &p, &k);
		if (c)
			process(ch, c);
	}
}

/* Gives each connection deferred before this turn its next turn; those
 * deferred again wait for the next (a connection is on the list at most
 * once, so nconns turns are always enough to reach the old tail). */
static void run_ready(struct child *ch)
{
	uint32_t tail = ch->ready.tail;

	for (uint32_t n = 0; n < ch->nconns && ch->ready.head != NIL; n++) {
		uint32_t i = ch->ready.head;
		list_remove(ch, &ch->ready, i, READY);
		ch->conns[i].in_ready = 0;
		process(ch, &ch->conns[i]);
		if (i == tail)
			return;
	}
}

/* ---- time-outs ---- */

static void expire(struct child *ch)
{
	uint64_t limit = (uint64_t)ch->cfg->timeout * 1000;

	while (ch->idle.head != NIL) {
		struct conn *c = &ch->conns[ch->idle.head];
		if (ch->now_ms - c->active_ms < limit)
			return;
		event(ch, &c->peer, EV_TIMEOUT, NULL);
		conn_close(ch, c);
	}
}

/* When queries wait for a helper that has stopped answering; 0 when
 * none wait. */
static uint64_t helper_due_ms(const struct child *ch)
{
	if (ch->asked == 0)
		return 0;
	/* The longest a query may wait in the helper: the name service's
	 * deadline, or a relayed query's (the forwarder's, plus the way to it
	 * and back), whichever is longer. */
	unsigned wait_s = ch->cfg->lookup_timeout;
	if (config_forwarding(ch->cfg) && ch->cfg->forward_timeout + 1 > wait_s)
		wait_s = ch->cfg->forward_timeout + 1;
	return ch->helper_ms + (uint64_t)wait_s * 1000 + HELPER_GRACE_MS;
}

static int next_timeout_ms(const struct child *ch)
{
	uint64_t limit = (uint64_t)ch->cfg->timeout * 1000;
	uint64_t wait = EVENT_WINDOW_MS;   /* also flushes summed-up events */

	if (ch->ready.head != NIL)
		return 0;
	if (ch->idle.head != NIL) {
		uint64_t due = ch->conns[ch->idle.head].active_ms + limit;
		uint64_t left = due > ch->now_ms ? due - ch->now_ms : 0;
		if (left < wait)
			wait = left;
	}
	uint64_t due = helper_due_ms(ch);
	if (due != 0) {
		uint64_t left = due > ch->now_ms ? due - ch->now_ms : 0;
		if (left < wait)
			wait = left;
	}
	return (int)wait;
}

/* ---- set-up and loop ---- */

static int setup(struct child *ch)
{
	uint32_t n = ch->inetd ? 1 : ch->cfg->max_connections;
	struct epoll_event ev = { .events = EPOLLIN };

	ch->nconns = n;
	ch->conns = calloc(n, sizeof(*ch->conns));
	ch->outbuf = malloc((size_t)n * REPLY_MAX);
	if (!ch->conns || !ch->outbuf)
		return -1;
	if (!ch->inetd && hosts_init(&ch->hosts, n, ch->cfg->max_per_host) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		ch->conns[i].fd = -1;
		ch->conns[i].idle.next = i + 1 < n ? i + 1 : NIL;
	}
	ch->free_head = 0;
	ch->idle.head = ch->idle.tail = NIL;
	ch->sendq.head = ch->sendq.tail = NIL;
	ch->ready.head = ch->ready.tail = NIL;
	ch->ep = epoll_create1(EPOLL_CLOEXEC);
	if (ch->ep < 0)
		return -1;
	ev.data.u64 = TAG(TAG_HELPER, 0);
	if (epoll_ctl(ch->ep, EPOLL_CTL_ADD, ch->sock, &ev) < 0)
		return -1;
	for (unsigned k = 0; !ch->inetd && k < ch->ls->n; k++) {
		ev.data.u64 = TAG(TAG_LISTENER, k);
		if (epoll_ctl(ch->ep, EPOLL_CTL_ADD, ch->ls->fds[k], &ev) < 0)
			return -1;
	}
	return 0;
}

static int dispatch(struct child *ch, const struct epoll_event *ev)
{
	uint32_t hi = (uint32_t)(ev->data.u64 >> 32);
	uint32_t lo = (uint32_t)ev->data.u64;

	if (hi == TAG_LISTENER) {
		on_listener(ch, ch->ls->fds[lo]);
		return 0;
	}
	if (hi == TAG_HELPER) {
		if ((ev->events & EPOLLOUT))
			drain_sendq(ch);
		if ((ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && on_helper(ch) < 0)
			return -1;
		return 0;
	}
	on_conn(ch, lo, ev->events);
	return 0;
}

static int serve(struct child *ch)
{
	struct epoll_event evs[EVENT_BATCH];

	while (!stop_requested) {
		int n = epoll_wait(ch->ep, evs, EVENT_BATCH, next_timeout_ms(ch));
		if (n < 0 && errno != EINTR)
			return 1;
		ch->now_ms = clock_mono_ms();
		for (int k = 0; k < n; k++)
			if (dispatch(ch, &evs[k]) < 0)
				return 1;
		run_ready(ch);
		expire(ch);
		events_flush_all(ch);
		/* The monitor replaces the pair: the helper cannot be asked to
		 * leave, and a new one answers at once. */
		if (helper_due_ms(ch) != 0 && ch->now_ms >= helper_due_ms(ch))
			return EXIT_HELPER_STALLED;
		if (ch->inetd && ch->used == 0)
			return 0;
	}
	return 0;
}

static int start_inetd(struct child *ch, int fd)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	struct peer p;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	peer_of(&ss, &p);
	/* Registered only: nothing is read before the sandbox is on. epoll
	 * reports input that is already waiting when the loop first runs. */
	return conn_open(ch, fd, &p, NULL) ? 0 : -1;
}

static struct child the_child;

int child_prepare(const struct config *c, const struct listen_set *ls,
                  int inetd_fd, int sock, struct keep_fds *keep)
{
	struct child *ch = &the_child;
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ch->cfg = c;
	ch->ls = ls;
	ch->sock = sock;
	ch->inetd = inetd_fd >= 0;
	ch->now_ms = clock_mono_ms();
	if (setup(ch) < 0)
		return -1;
	keep_fd(keep, ch->ep);
	if (ch->inetd && start_inetd(ch, inetd_fd) < 0)
		return -1;
	return 0;
}

int child_serve(void)
{
	return serve(&the_child);
}

/* --debug-sandbox: the child may not log, so the helper names the call. */
void child_report_syscall(int nr)
{
	struct ipc_event e;

	ipc_seccomp_event(&e, nr);
	event_send(&the_child, &e);
}
