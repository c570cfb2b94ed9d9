/* Answering for connections this host only relays (doc/design.md §5): a
 * NAT gateway, or a host whose containers reach out through a NAT bridge,
 * owns no socket for them; the inner host does. What is pure of it lives
 * here: which forward-network an inner address is in, the query line for
 * the inner host's ident server, the reader of its reply (bounded, fed in
 * pieces of any size), the check that the reply is about the connection
 * asked, and what the original querier gets. No I/O, no clock, no
 * allocation: the forwarder feeds bytes in, the helper gets a verdict out.
 *
 * The value of a forward-network is parsed by config_parse_forward
 * (config.h). */
#ifndef PRIVIDENT_FORWARD_H
#define PRIVIDENT_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "limits.h"
#include "policy.h"
#include "replyparse.h"

/* Whether the first bits bits of a and b (network order) are equal. */
bool forward_prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits);

/* The forward-network of c that holds the inner address addr (family
 * AF_INET: its first 4 octets; AF_INET6: 16), or NULL when none does. The
 * longest prefix wins, as in a routing table; config_validate refuses the
 * same network twice, so there is never a tie. An IPv4-mapped address
 * (::ffff:0:0/96) is the IPv4 address it carries, matched against the IPv4
 * networks only. */
const struct forward_net *forward_match(const struct config *c, int family,
                                        const uint8_t *addr);

/* The query sent to the inner host: "INNERPORT , REMOTEPORT\r\n". RFC
 * 1413: the first port is the one on the host that answers (the inner
 * host's end of the connection, before the NAT changed it), the second the
 * one on the other end (the outer server's, which the querier named as its
 * own). */
#define FORWARD_QUERY_MAX sizeof("65535 , 65535\r\n")

/* Writes the query into buf (FORWARD_QUERY_MAX bytes, NUL terminated).
 * Returns its length without the NUL, or -1 if a port is not 1-65535. */
int forward_query_line(unsigned inner_port, unsigned remote_port,
                       char buf[FORWARD_QUERY_MAX]);

/* The reader of the inner server's answer: one line, up to its first LF
 * (CR LF or a bare LF, as replyparse takes), at most FORWARD_REPLY_MAX
 * octets with the LF. Bytes after the LF are ignored: one query, one
 * answer. */
enum forward_state {
	FORWARD_READING,  /* no LF yet: feed more, or the connection ended */
	FORWARD_LINE,     /* a whole line: forward_result */
	FORWARD_OVERLONG, /* FORWARD_REPLY_MAX octets and no LF */
};

struct forward_reader {
	enum forward_state state;
	size_t len;                     /* octets in line */
	char line[FORWARD_REPLY_MAX];
};

void forward_reader_init(struct forward_reader *r);

/* Takes n more octets of the answer (any split: down to one octet at a
 * time, the outcome is the same as whole). Once the state is not
 * FORWARD_READING, further octets change nothing. Returns the state. */
enum forward_state forward_feed(struct forward_reader *r, const char *bytes,
                                size_t n);

/* Why an inner host's answer is not used; each gives the querier
 * UNKNOWN-ERROR (forward_reply). */
enum forward_failure {
	FORWARD_OK,          /* the inner host answered about the connection */
	FORWARD_CONNECT,     /* no connection to its ident server (the
	                        forwarder's verdict: refused, unreachable) */
	FORWARD_TIMEOUT,     /* no whole line within forward-timeout */
	FORWARD_EMPTY,       /* it closed without sending anything */
	FORWARD_CUT,         /* it closed in the middle of a line: what came
	                        may be a name cut short */
	FORWARD_TOO_LONG,    /* FORWARD_REPLY_MAX octets without a line end */
	FORWARD_GARBLED,     /* not an RFC 1413 reply */
	FORWARD_OTHER_PORTS, /* a reply about another connection */
};

/* "ok", "connect", "timeout", "empty", "cut", "too-long", "garbled",
 * "other-ports": for the log. */
const char *forward_failure_name(enum forward_failure f);

struct forward_result {
	enum forward_failure failure;
	struct ident_reply reply;  /* FORWARD_OK: the reply, its two ports the
	                              ones asked; else all zero */
};

/* The outcome of an exchange, once the reader holds a line, is too long,
 * or the connection ended (closed or reset) while it was still reading.
 * A line must parse (ident_reply_parse, privident-query's parser) and its
 * two ports must be inner_port and remote_port, the ones asked. */
void forward_result(const struct forward_reader *r, unsigned inner_port,
                    unsigned remote_port, struct forward_result *out);

/* An exchange that failed before any reply could be read
 * (FORWARD_CONNECT, FORWARD_TIMEOUT). */
void forward_fail(struct forward_result *out, enum forward_failure why);

/* What forward_reply needs beside the inner host's answer. */
struct forward_ctx {
	int family;              /* the querier's address, as the helper read */
	const uint8_t *peer;     /* it from the query socket: 4 or 16 octets */
	int inner_family;        /* the inner end's address (conntrack's */
	const uint8_t *inner;    /* original source): 4 or 16 octets */
	int64_t now;             /* wall-clock seconds, for the token period */
	const uint8_t *key;      /* TOKEN_KEY_BYTES; needed only for token */
};

/* What the hash of a forwarded token covers, in order: this tag (another
 * than the local tokens', so the two can never be equal by construction),
 * the querier's family (one octet: 4 or 6) and address (4 or 16), the
 * inner address the same way (IPv4-mapped ones as IPv4), the period number
 * (8 octets, big-endian two's complement), the user id's length (2 octets,
 * big-endian) and its octets as the inner host sent them (or the network's
 * fixed reply). */
#define FORWARD_TOKEN_TAG "privident-forward-token-v1"
#define FORWARD_TOKEN_MESSAGE_MAX \
	(sizeof(FORWARD_TOKEN_TAG) - 1 + 17 + 17 + 8 + 2 + USERID_MAX)

/* The message for a token of user id name (len octets) into buf (at least
 * FORWARD_TOKEN_MESSAGE_MAX). Returns its length, or 0 for a family that
 * is neither AF_INET nor AF_INET6 or a user id longer than USERID_MAX. */
size_t forward_token_message(uint8_t *buf, const struct forward_ctx *ctx,
                             int64_t period_number, const char *name,
                             size_t len);

/* The token: base32(BLAKE2b-256 keyed with ctx->key over the message), cut
 * to length characters, like a local token (token.h). out gets length + 1
 * bytes. Returns 0, or -1 (no key, a bad length, family or name). */
int forward_token(const struct forward_ctx *ctx, int64_t period_number,
                  unsigned length, const char *name, size_t len, char *out);

/* What the querier gets, with its own ports (policy_format):
 *  - a network with reply=NAME: NAME as USERID : UNIX, without asking (res
 *    may be NULL);
 *  - a failed exchange (res NULL, or res->failure not FORWARD_OK):
 *    UNKNOWN-ERROR;
 *  - the inner ERROR NO-USER, HIDDEN-USER or UNKNOWN-ERROR: the same;
 *    INVALID-PORT (the querier's ports were valid, so the fault is on the
 *    way) and any other name: UNKNOWN-ERROR;
 *  - the inner USERID: its user id, as USERID : OTHER when the inner
 *    opsys was OTHER, else USERID : UNIX (privident sends no other opsys);
 *    a user id that is not ASCII under a charset other than UTF-8 (or
 *    none) is UNKNOWN-ERROR: its octets cannot be relabelled truthfully;
 *  - with token, a USERID (asked or fixed) becomes the forwarded token, as
 *    USERID : OTHER; errors stay errors;
 *  - then mask-errors, as for local replies.
 * policy_format then refuses a user id with controls or invalid UTF-8
 * (UNKNOWN-ERROR), as for a local name. */
void forward_reply(const struct config *c, const struct forward_net *net,
                   const struct forward_result *res,
                   const struct forward_ctx *ctx, struct verdict *v);

#endif
