/* A TCP connection's 4-tuple as seen from this host. */
#ifndef PRIVIDENT_TUPLE_H
#define PRIVIDENT_TUPLE_H

#include <stdint.h>
#include <sys/socket.h>

struct tcp_tuple {
	int family;          /* AF_INET or AF_INET6; a v4-mapped pair is AF_INET */
	uint8_t local[16];   /* this host's address, network order (AF_INET: 4 bytes used) */
	uint8_t remote[16];  /* the other end's address */
	uint16_t local_port; /* host order */
	uint16_t remote_port;
	uint32_t scope_id;   /* AF_INET6 with a link-local address: the interface
	                        the connection is on (sin6_scope_id); else 0 */
};

/* Builds the tuple of the connection a query asks about: both addresses from
 * the query connection itself (doc/design.md §1: a host may only ask about
 * connections between itself and us), the ports from the query. v4-mapped
 * IPv6 addresses (dual-stack listener) become AF_INET. A link-local
 * address brings its scope id: a link-local connection is known to the
 * kernel only together with its interface. Pure: takes the results of
 * getsockname/getpeername. Returns 0, or -1 if the addresses are not both
 * IPv4 or both IPv6, or name two different interfaces. */
int tuple_from_addrs(const struct sockaddr *local, socklen_t local_len,
                     const struct sockaddr *peer, socklen_t peer_len,
                     uint16_t server_port, uint16_t client_port,
                     struct tcp_tuple *t);

/* Whether fd is a TCP socket of the Internet families. A descriptor from
 * the network child, which may be compromised (doc/design.md §2), must be: only a
 * TCP stream has an ident-able connection, and a connected UDP socket
 * would let the child choose the "querier". */
int tuple_is_tcp(int fd);

/* The same as tuple_from_addrs, reading the addresses from the connected
 * socket fd; -1 also when fd is not tuple_is_tcp. */
int tuple_from_socket(int fd, uint16_t server_port, uint16_t client_port,
                      struct tcp_tuple *t);

/* The same for an fd already checked with tuple_is_tcp (the helper checks
 * once per query, then reads). */
int tuple_of_tcp_socket(int fd, uint16_t server_port, uint16_t client_port,
                        struct tcp_tuple *t);

#endif
