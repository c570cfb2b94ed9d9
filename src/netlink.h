/* Socket ownership through NETLINK_SOCK_DIAG: an exact lookup of one TCP
 * 4-tuple (SOCK_DIAG_BY_FAMILY, inet_diag_req_v2); and, for a query from a
 * forwarding gateway (proxy), a dump filtered in the kernel to one local
 * address and two ports, any remote address. The request builders and the
 * reply parsers are pure; nl_lookup and nl_lookup_proxied do the I/O. */
#ifndef PRIVIDENT_NETLINK_H
#define PRIVIDENT_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tuple.h"

enum nl_result {
	NL_FOUND,     /* an owned socket matches exactly; *uid is set */
	NL_NOT_FOUND, /* no such connection (ENOENT, or no exact match) */
	NL_NO_OWNER,  /* matched, but it has no inode: time-wait, orphaned,
	                 request socket. Never "root". */
	NL_ERROR,     /* malformed reply, I/O error: UNKNOWN-ERROR */
};

/* Size of the buffer nl_build_request needs. */
#define NL_REQUEST_SIZE 128
/* Receive buffer for one reply (a message and its attributes). */
#define NL_REPLY_MAX 8192

/* Builds the request for tuple t in the given family (AF_INET, or AF_INET6
 * which for an AF_INET tuple asks with v4-mapped addresses), on the
 * interface of t's scope id for an IPv6 tuple. Returns the length, or 0 if
 * size is too small or the family is impossible. */
size_t nl_build_request(uint8_t *buf, size_t size, const struct tcp_tuple *t,
                        int family, uint32_t seq);

/* Checks a kernel reply field by field against the request: message type,
 * length, sequence number, family, both ports and both addresses (allowing
 * the v4-mapped form of the same address), the interface of a link-local
 * connection, that it is not a listening socket. */
enum nl_result nl_parse_reply(const uint8_t *buf, size_t len,
                              const struct tcp_tuple *t, uint32_t seq,
                              uint32_t *uid);

/* The same for the listening socket at t's local address and port (the
 * remote end zero): NL_FOUND with its owner only for a LISTEN socket on
 * that port, bound to that address or to the wildcard. */
enum nl_result nl_parse_listener_reply(const uint8_t *buf, size_t len,
                                       const struct tcp_tuple *t, uint32_t seq,
                                       uint32_t *uid);

/* Opens the NETLINK_SOCK_DIAG socket (before any sandbox). -1 on error. */
int nl_open(void);

/* Looks t up: the IPv4 form first for AF_INET, then the v4-mapped IPv6 form
 * (a dual-stack IPv6 socket), or the IPv6 form for AF_INET6. */
enum nl_result nl_lookup(int nlfd, const struct tcp_tuple *t, uint32_t *uid);

/* The owner of the listening socket at addr (family's form), port: the
 * IPv4 form first for AF_INET, then a dual-stack IPv6 listener. */
enum nl_result nl_listener(int nlfd, int family, const uint8_t *addr,
                           uint16_t port, uint32_t *uid);

/* ---- proxied lookups (doc/design.md §4) ---------------------------------
 * A gateway that relays a connection asks about it by its two ports: the
 * remote address is the server it was relayed to, which neither the query
 * nor the query socket names. The lookup dumps the TCP sockets of one
 * family whose local address is t->local, local port t->local_port and
 * remote port t->remote_port, whatever their remote address. */

/* Matching sockets one proxied lookup reads before it gives up (NL_ERROR).
 * Sockets that share the local address and both ports differ only in the
 * remote address: the one relayed connection, or a few from one address
 * to servers that listen on the same port. Past 16, something is odd, and
 * reading on would only cost time. */
#define NL_PROXY_SOCKETS_MAX 16

/* Size of the buffer nl_build_dump_request needs: the request, one
 * attribute header and the filter (two conditions, the first with an IPv6
 * address). */
#define NL_DUMP_REQUEST_SIZE 160

/* What a dump has found so far. */
struct nl_owners {
	unsigned sockets;  /* matching sockets */
	bool owned;        /* one or more with an owner (an inode)... */
	uint32_t uid;      /* ...the first one's uid */
	bool unowned;      /* one or more without an owner */
	bool differ;       /* two owned sockets with different uids */
};

enum nl_dump_step {
	NL_DUMP_MORE,  /* the datagram was good; the dump goes on */
	NL_DUMP_DONE,  /* it ended with NLMSG_DONE */
	NL_DUMP_ERROR, /* malformed, an error from the kernel, a socket that
	                  does not match the filter, or too many sockets */
};

/* Builds the dump request for t's local address and ports in family
 * (AF_INET; or AF_INET6, which for an AF_INET tuple finds the dual-stack
 * sockets with the v4-mapped address). Returns the length, or 0 if size
 * is too small or the family is impossible. */
size_t nl_build_dump_request(uint8_t *buf, size_t size,
                             const struct tcp_tuple *t, int family,
                             uint32_t seq);

/* Parses one datagram of the dump of family asked about t with seq,
 * adding each socket to o. Every message is checked: our sequence number,
 * the family asked, an asked state, both ports and the local address
 * (the kernel's filter is not taken on trust). A socket on another link
 * than a scoped tuple's is skipped. */
enum nl_dump_step nl_parse_dump(const uint8_t *buf, size_t len,
                                const struct tcp_tuple *t, int family,
                                uint32_t seq, struct nl_owners *o);

/* The result of a whole dump: no socket NL_NOT_FOUND; owned sockets of
 * one uid NL_FOUND with *uid; only sockets without an owner NL_NO_OWNER;
 * sockets of two different owners (an unowned one counting as an owner of
 * its own) NL_ERROR: never a guess between two users. */
enum nl_result nl_owners_result(const struct nl_owners *o, uint32_t *uid);

/* Looks up the connection of t's local address and ports to any remote
 * address: the AF_INET table and the v4-mapped AF_INET6 sockets for an
 * AF_INET tuple, the AF_INET6 table for an AF_INET6 one; both dumps count
 * together. */
enum nl_result nl_lookup_proxied(int nlfd, const struct tcp_tuple *t,
                                 uint32_t *uid);

#endif
