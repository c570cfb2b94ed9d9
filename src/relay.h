/* The lookup helper's side of forwarding (doc/design.md §2, §5): a query
 * about a connection no local socket owns, on a host with forward-networks,
 * goes to the conntrack role ("which inner host?"), then, for an inner
 * host in a forward-network that is asked, to the forwarder ("ask it"),
 * and waits here, in a fixed table, until the answers come or its
 * deadline passes. The helper's loop polls the two sockets and calls in;
 * every answer is decoded and matched to the query it is for, and
 * whatever the roles say, the verdict is made here, from the
 * configuration (forward_reply), never taken from them. */
#ifndef PRIVIDENT_RELAY_H
#define PRIVIDENT_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "pending.h"
#include "policy.h"
#include "replyparse.h"

struct forward_result;

/* Relayed queries waiting at once. Each waits at most forward-timeout
 * plus RELAY_GRACE_MS; past this many, a relayed query is answered
 * UNKNOWN-ERROR at once (the forwarder asks at most FWD_SLOTS at once
 * anyway). */
#define RELAY_MAX 256
/* What the conntrack lookup and the reply's way back may add to
 * forward-timeout before a relayed query is given up. */
#define RELAY_GRACE_MS 1000

enum relay_stage { RELAY_FREE, RELAY_CONNTRACK, RELAY_FORWARD };

struct relay_entry {
	enum relay_stage stage;
	uint32_t gen;              /* in the id: a late answer to a reused
	                              place is dropped */
	uint64_t deadline_ms;
	struct pending_query pq;
	int inner_family;          /* from conntrack */
	uint8_t inner[16];
	uint16_t inner_port;
	bool user;                 /* a user's forward to their own server */
	uint16_t user_port;        /* ... at inner, this port */
};

/* What the log says of a relayed query beside its result: what happened
 * (a static string), the inner end (family 0 if none), and what the inner
 * server answered, made visible ("" if nothing): the trace of a forwarded
 * token, which privident-token cannot invert. */
struct relay_note {
	const char *what;
	int family;
	uint8_t inner[16];
	unsigned inner_port;
	char answer[OPSYS_MAX * 8 + IDENT_VISIBLE_MAX + 16];
};

/* Called with every finished relayed query. */
typedef int (*relay_done_fn)(void *ctx, const struct pending_query *pq,
                             struct verdict *v, const struct relay_note *note);

struct relay {
	const struct config *cfg;
	const uint8_t *key;        /* for token networks, or NULL */
	int ct_sock, fwd_sock;     /* -1: forwarding is off */
	relay_done_fn done;
	/* A user's forward ended: what the user's server said (res NULL: no
	 * answer by the deadline). The helper checks the name as a chosen
	 * reply. -1 when answering failed. */
	int (*user_done)(void *ctx, const struct pending_query *pq,
	                 const struct forward_result *res, int family,
	                 const uint8_t *addr, uint16_t port);
	void *ctx;
	unsigned used;
	struct relay_entry e[RELAY_MAX];
	/* --debug-sandbox: a role's report of its forbidden call (then it
	 * exits): which role ("conntrack role", "forwarder") and the call. */
	const char *forbidden_role;
	uint32_t forbidden_nr;
};

void relay_init(struct relay *r, const struct config *c, const uint8_t *key,
                int ct_sock, int fwd_sock, relay_done_fn done, void *ctx);

/* Asks the ident server of pq's owner at addr (family's form), port on
 * this host about pq's connection ("local port , remote port"); the
 * answer goes to user_done. Returns 0 (it waits), or, when it cannot be
 * asked (no forwarder, no room), what user_done returned for no answer. */
int relay_begin_user(struct relay *r, const struct pending_query *pq, int family,
                     const uint8_t *addr, uint16_t port, uint64_t now);

/* Whether pq (a lookup that found no local socket) is one to relay. */
bool relay_wanted(const struct relay *r, const struct pending_query *pq);

/* Starts relaying pq. Returns 0 (it waits), 1 when it was answered at
 * once (no room, the role would not take it), or -1 when answering
 * failed (done's -1). */
int relay_begin(struct relay *r, const struct pending_query *pq, uint64_t now);

/* The conntrack role's and the forwarder's answers waiting on their
 * sockets. Return -1 when done failed, 1 when the role broke the protocol
 * or went away, or reported a forbidden call (forbidden_role is then set),
 * which ends the helper (the monitor restarts every worker); else 0. */
int relay_on_conntrack(struct relay *r, uint64_t now);
int relay_on_forwarder(struct relay *r, uint64_t now);

/* Queries past their deadline: UNKNOWN-ERROR. -1 when done failed. */
int relay_expire(struct relay *r, uint64_t now);

/* Milliseconds to the next deadline, or -1. */
int64_t relay_next_ms(const struct relay *r, uint64_t now);

#endif
