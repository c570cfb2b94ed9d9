/* Reading a user's ~/.oidentd.conf (pure: bytes in, struct out; no I/O,
 * no allocation), doc/design.md §5. Bouncers (ZNC's identfile module, The
 * Lounge) write there, in oidentd's per-user syntax, the ident each of
 * their IRC users should get. We read the subset they write:
 *
 *   global { reply "NAME" }
 *   [to ADDR] [fport PORTS] [from ADDR] [lport PORTS] { reply "NAME" ... }
 *   ... { hide }
 *
 * with # and C comments, white space and newlines anywhere between tokens,
 * keywords in any case (as oidentd). Anything else oidentd knows but we do
 * not follow (random, numeric, forward, force, allow/deny, host names
 * instead of addresses, unknown words) is kept as an "unsupported" rule
 * where it takes a place in the precedence, and listed as ignored with a
 * reason and a line number; it never fails the whole file. A syntax error
 * (unbalanced braces, an unterminated string, a bad address or port,
 * filters out of order) does: the file then yields no rule at all, so that
 * a misread file never gives a wrong name. */
#ifndef PRIVIDENT_USERCONF_H
#define PRIVIDENT_USERCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest file read; a longer one is refused as a whole (reading only its
 * start could drop the later rules, which take precedence). A ZNC file is
 * one line; The Lounge writes one line (under 120 bytes) for each of its
 * connections that is up, so a Lounge serving a few hundred IRC users
 * writes tens of KiB: 64 KiB holds some 550 connections. The helper reads
 * the file once per query, which costs a read of at most this much. */
#define USERCONF_FILE_MAX 65536  /* 64 KiB, written out for messages */

/* Most rules userconf_parse keeps (for the tests, the fuzzer and tools
 * that want them all); a file with more is refused as a whole, for the
 * same reason as a longer one. userconf_parse_for, which the helper uses,
 * keeps one rule and has no such limit: it reads any file up to
 * USERCONF_FILE_MAX. */
#define USERCONF_RULES_MAX 128

/* Most replies kept per rule: oidentd's own limit (MAX_RANDOM_REPLIES);
 * it drops the further ones, and so do we (and list it as ignored). */
#define USERCONF_REPLIES_MAX 20

/* Reply octets stored: the longest name userconf_reply_ok accepts. A
 * longer reply is stored cut, with fits false, so that it is refused. */
#define USERCONF_REPLY_MAX 32

/* Ignored items listed, for the log; the further ones are only counted. */
#define USERCONF_IGNORED_MAX 16

/* An address filter: family AF_INET or AF_INET6 and its bytes (an IPv4
 * address in the first 4). AF_UNSPEC: a host name, which would need a DNS
 * lookup; it matches every address, and its rule is unsupported, so that
 * it can only ever withhold a name, never give one. */
struct userconf_addr {
	int family;
	uint8_t bytes[16];
};

/* A port filter: lo..hi inclusive, 1 <= lo <= hi <= 65535. */
struct userconf_ports {
	uint16_t lo, hi;
};

/* One reply as written: its raw octets between the quotes (escapes
 * included as written), the first USERCONF_REPLY_MAX of them stored and
 * NUL-terminated; fits says whether all were. */
struct userconf_reply {
	char name[USERCONF_REPLY_MAX + 1];
	size_t len;
	bool fits;
};

enum userconf_action {
	USERCONF_REPLY,       /* one of replies[] (oidentd picks at random) */
	USERCONF_HIDE,        /* hide the user (HIDDEN-USER) */
	USERCONF_FORWARD,     /* ask the ident server at fwd, fwd_port */
	USERCONF_UNSUPPORTED, /* something we do not follow: no user reply */
};

struct userconf_rule {
	unsigned line;  /* where the rule starts, from 1 */
	bool has_to, has_fport, has_from, has_lport; /* none: global */
	struct userconf_addr to, from;     /* remote, local address */
	struct userconf_ports fport, lport; /* remote, local port */
	enum userconf_action action;
	const char *reason;             /* USERCONF_UNSUPPORTED: why */
	struct userconf_addr fwd;       /* USERCONF_FORWARD: an address */
	uint16_t fwd_port;              /* ... and a port, 1-65535 */
	unsigned nreplies;
	struct userconf_reply replies[USERCONF_REPLIES_MAX];
};

struct userconf_ignored {
	unsigned line;
	const char *reason;
};

struct userconf {
	bool valid;                     /* false: a syntax error, no rules */
	unsigned error_line;            /* !valid: where, and what */
	const char *error;
	size_t nrules;                  /* in the file's order */
	struct userconf_rule rules[USERCONF_RULES_MAX];
	size_t nignored;                /* listed, at most USERCONF_IGNORED_MAX */
	size_t ignored_more;            /* and how many more there were */
	struct userconf_ignored ignored[USERCONF_IGNORED_MAX];
};

/* Parses the len octets of a file into *c (every field set). Returns 0, or
 * -1 with c->valid false, c->nrules 0 and c->error/error_line set if the
 * file is longer than USERCONF_FILE_MAX or has a syntax error. */
int userconf_parse(const char *buf, size_t len, struct userconf *c);

struct userconf_conn;

/* The same, keeping only the rule that applies to conn (the last one
 * whose filters match it, as userconf_match chooses: c->nrules is 0 or 1)
 * and no rule limit: what the helper runs for each query, in the memory
 * of one rule. The ignored items and the errors are those of
 * userconf_parse, but for "more rules than we keep". */
int userconf_parse_for(const char *buf, size_t len,
                       const struct userconf_conn *conn, struct userconf *c);

/* A connection as the lookup helper knows it: family AF_INET or AF_INET6,
 * addresses as in struct userconf_addr. oidentd's "to" and "fport" are the
 * remote (foreign) end, "from" and "lport" the local end. */
struct userconf_conn {
	int family;
	uint8_t local[16], remote[16];
	uint16_t local_port, remote_port;
};

/* The rule that applies to a connection as oidentd chooses it: the LAST
 * rule of the file whose filters all match (oidentd prepends each rule to
 * its list and takes the first match; that is why "global" should come
 * first), a global rule matching every connection. An IPv4-mapped IPv6
 * address matches its IPv4 address. NULL: none applies (or the file is
 * invalid). */
const struct userconf_rule *userconf_match(const struct userconf *c,
                                           const struct userconf_conn *conn);

/* Whether a reply may be used as a user id: it fit, and is 1 to
 * USERCONF_REPLY_MAX letters, digits, '.', '_' or '-' (no escapes, no
 * spaces, nothing a terminal or an IRC server could misread). */
bool userconf_reply_ok(const struct userconf_reply *r);

/* The same check of a NUL-terminated name: 1 to USERCONF_REPLY_MAX of
 * [A-Za-z0-9._-]. The helper applies it once more to the reply it is
 * about to send. */
bool userconf_name_ok(const char *name);

#endif
