/* Log folding (doc/design.md §7): a line for every query, until one peer
 * passes LOGRATE_BURST lines in its window; from then on that peer's query
 * lines are only counted, and one summary line says how many when its
 * window ends. Only query lines go through here: errors and security
 * events are always logged. Pure: the peer's host key in, a decision out,
 * the time passed in; the memory is this fixed table. */
#ifndef PRIVIDENT_LOGRATE_H
#define PRIVIDENT_LOGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hosts.h"

/* Query lines per peer per window before its lines are folded. A busy IRC
 * server asks a few times a second; twenty is well above that and still
 * far below what syslog and journald let one process log before they
 * drop lines of their own accord (and with them the helper's alerts). */
#define LOGRATE_BURST 20
/* A peer's window starts at its first line and lasts this long. */
#define LOGRATE_WINDOW_MS 1000
/* Peers tracked at once. A peer needs a slot only in a window in which it
 * logs; when all are taken, every further peer shares one more, "other
 * peers", with the same burst. So the query lines of any flood are at most
 * (LOGRATE_SLOTS + 1) * LOGRATE_BURST a second, and the table a few
 * kilobytes. */
#define LOGRATE_SLOTS 64

struct lograte_slot {
	bool used;
	uint8_t host[HOST_KEY_LEN];
	uint64_t start_ms;
	uint32_t lines;          /* logged in this window */
	uint32_t folded;         /* counted instead */
};

struct lograte {
	struct lograte_slot slot[LOGRATE_SLOTS];
	struct lograte_slot other;
};

struct lograte_summary {
	bool other;                  /* the "other peers" slot */
	uint8_t host[HOST_KEY_LEN];  /* else this peer (hosts.h host_keys) */
	uint32_t folded;
	uint64_t ms;                 /* how long its window lasted */
};

void lograte_init(struct lograte *lr);

/* Whether to log a query line of peer host (a host_keys host; NULL: a query whose
 * peer is not known, counted with the other peers) at now_ms: true, log
 * it; false, it was counted for the summary. A window that is over but
 * has folded lines goes on counting until lograte_take ends it, so no
 * line is ever lost from the counts. */
bool lograte_admit(struct lograte *lr, const uint8_t *host, uint64_t now_ms);

/* Ends the windows that are over at now_ms (with all, every window: the
 * helper is leaving). Fills *out with one that folded lines and returns
 * true; call until it returns false. */
bool lograte_take(struct lograte *lr, uint64_t now_ms, bool all,
                  struct lograte_summary *out);

/* Milliseconds until the next summary is due (0: it is), or -1 when no
 * window holds folded lines. */
int64_t lograte_next_ms(const struct lograte *lr, uint64_t now_ms);

/* The summary's peer for the log: "192.0.2.7", "2001:db8:1:2::/64" or
 * "other". */
const char *lograte_peer_name(const struct lograte_summary *s, char *buf,
                              size_t size);

#endif
