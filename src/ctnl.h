/* The inner end of a connection this host only relays (NAT), from the
 * kernel's connection-tracking table through ctnetlink (NETLINK_NETFILTER):
 * an exact get of one entry by its reply tuple, never a dump and never
 * /proc/net/nf_conntrack. Both functions are pure (bytes in, bytes out; no
 * I/O, no allocation); doc/design.md §3 and §4.
 *
 * The exchange on a NETLINK_NETFILTER socket:
 *   1. send ctnl_build_get's request (NLM_F_REQUEST | NLM_F_ACK);
 *   2. receive one datagram, ctnl_parse_reply:
 *      CTNL_NOT_FOUND or CTNL_ERROR: the end, nothing more follows (the
 *        kernel's error message is its acknowledgement);
 *      CTNL_FOUND or CTNL_MISMATCH: the entry; the acknowledgement follows:
 *   3. receive one more datagram, which must parse as CTNL_ACK (else the
 *      whole answer is CTNL_ERROR). A CTNL_ACK in step 2 is CTNL_ERROR too.
 * After that the socket holds nothing more for this request. */
#ifndef PRIVIDENT_CTNL_H
#define PRIVIDENT_CTNL_H

#include <stddef.h>
#include <stdint.h>
#include "tuple.h"

/* The largest request ctnl_build_get makes is 96 bytes (IPv6); room to
 * spare, as NL_REQUEST_SIZE has. */
#define CTNL_REQUEST_SIZE 128

/* Receive buffer for one datagram. The kernel builds an entry in one
 * page-sized buffer but fills a few hundred bytes of it (two tuples,
 * status, timeout, id, counters, TCP state, a helper or security context
 * name); 8 KiB holds the largest with room, and a longer datagram is seen
 * (MSG_TRUNC) and refused, never cut. */
#define CTNL_REPLY_MAX 8192

enum ctnl_status {
	CTNL_FOUND,     /* the entry asked about: *out holds its original
	                   tuple's source (the inner host) and destination */
	CTNL_NOT_FOUND, /* the kernel answered ENOENT: no such entry */
	CTNL_MISMATCH,  /* a well-formed entry, but not one this host relays
	                   for the querier: its reply tuple is not the one
	                   asked, it is not TCP or of another family or zone,
	                   its original destination is not the querier
	                   (DNAT), or its original source is this host's own
	                   address (not relayed) */
	CTNL_ACK,       /* the kernel's acknowledgement (error 0) of our
	                   request: the end of a successful answer */
	CTNL_ERROR,     /* malformed, another request's, another message or
	                   any other kernel error */
};

/* The original-direction tuple of a found entry (network-order addresses,
 * host-order ports). src is the inner host's address and port; dst equals
 * the querier's address and port (checked). */
struct ctnl_result {
	int family;             /* AF_INET or AF_INET6, the tuple's */
	uint8_t src[16];        /* AF_INET: the first 4 bytes used */
	uint8_t dst[16];
	uint16_t src_port;
	uint16_t dst_port;
};

/* Builds into buf the IPCTNL_MSG_CT_GET request for the connection t names
 * as tuple.h has it (local = this host's end, where the query arrived;
 * remote = the querier): the entry whose REPLY tuple is
 *   src = t->remote, sport = t->remote_port,
 *   dst = t->local,  dport = t->local_port, TCP,
 * in zone 0 (no CTA_ZONE), family t->family, sequence number seq, portid 0.
 * Returns the request's length, or -1 if buf is too small or NULL, t is
 * NULL, of neither Internet family, or scoped (a link-local tuple: a
 * conntrack tuple carries no interface, so the same addresses on another
 * link would name another connection). */
int ctnl_build_get(void *buf, size_t size, uint32_t seq,
                   const struct tcp_tuple *t);

/* Parses one datagram received after ctnl_build_get(.., seq, t): portid is
 * the socket's netlink port id (getsockname's nl_pid once bound), which
 * the kernel writes into every message it sends to that socket. *out is
 * zeroed, and filled only for CTNL_FOUND. See the exchange above. */
enum ctnl_status ctnl_parse_reply(const void *buf, size_t len, uint32_t seq,
                                  uint32_t portid, const struct tcp_tuple *t,
                                  struct ctnl_result *out);

#endif
