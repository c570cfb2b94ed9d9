/* Socket ownership through NETLINK_SOCK_DIAG: an exact lookup of one TCP
 * 4-tuple (SOCK_DIAG_BY_FAMILY, inet_diag_req_v2), never a dump. The request
 * builder and the reply parser are pure; nl_lookup does the I/O. */
#ifndef PRIVIDENT_NETLINK_H
#define PRIVIDENT_NETLINK_H

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

/* Opens the NETLINK_SOCK_DIAG socket (before any sandbox). -1 on error. */
int nl_open(void);

/* Looks t up: the IPv4 form first for AF_INET, then the v4-mapped IPv6 form
 * (a dual-stack IPv6 socket), or the IPv6 form for AF_INET6. */
enum nl_result nl_lookup(int nlfd, const struct tcp_tuple *t, uint32_t *uid);

#endif
