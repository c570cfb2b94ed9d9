/* The 4-tuple of the connection a query asks about (doc/design.md §1, §4): both
 * addresses come from the query connection, never from the query text. */
#include "tuple.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* One side of the connection, normalised: an IPv4 address, an IPv6 one, or
 * the IPv4 address inside a v4-mapped IPv6 one (marked so that a mapped
 * side is never paired with a native IPv6 one). */
struct endpoint {
	int family;       /* AF_INET or AF_INET6 */
	int mapped;       /* AF_INET taken from ::ffff:a.b.c.d */
	uint8_t addr[16];
};

/* ::ffff:0:0/96, the prefix of a v4-mapped IPv6 address (RFC 4291 §2.5.5.2). */
static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static int endpoint_from_in(const struct sockaddr *sa, socklen_t len,
                            struct endpoint *e)
{
	struct sockaddr_in sin;

	if (len < (socklen_t)sizeof sin)
		return -1;
	memcpy(&sin, sa, sizeof sin);
	e->family = AF_INET;
	e->mapped = 0;
	memcpy(e->addr, &sin.sin_addr, 4);
	return 0;
}

static int endpoint_from_in6(const struct sockaddr *sa, socklen_t len,
                             struct endpoint *e)
{
	struct sockaddr_in6 sin6;
	const uint8_t *a;

	if (len < (socklen_t)sizeof sin6)
		return -1;
	memcpy(&sin6, sa, sizeof sin6);
	a = sin6.sin6_addr.s6_addr;
	if (memcmp(a, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
		e->family = AF_INET;
		e->mapped = 1;
		memcpy(e->addr, a + sizeof v4mapped_prefix, 4);
	} else {
		e->family = AF_INET6;
		e->mapped = 0;
		memcpy(e->addr, a, 16);
	}
	return 0;
}

static int endpoint_from(const struct sockaddr *sa, socklen_t len,
                         struct endpoint *e)
{
	sa_family_t family;

	if (sa == NULL || len < (socklen_t)sizeof family)
		return -1;
	memcpy(&family, (const uint8_t *)sa + offsetof(struct sockaddr, sa_family),
	       sizeof family);
	memset(e, 0, sizeof *e);
	if (family == AF_INET)
		return endpoint_from_in(sa, len, e);
	if (family == AF_INET6)
		return endpoint_from_in6(sa, len, e);
	return -1;
}

int tuple_from_addrs(const struct sockaddr *local, socklen_t local_len,
                     const struct sockaddr *peer, socklen_t peer_len,
                     uint16_t server_port, uint16_t client_port,
                     struct tcp_tuple *t)
{
	struct endpoint l, r;

	if (t == NULL)
		return -1;
	if (endpoint_from(local, local_len, &l) < 0 ||
	    endpoint_from(peer, peer_len, &r) < 0)
		return -1;
	if (l.family != r.family || l.mapped != r.mapped)
		return -1;
	memset(t, 0, sizeof *t);
	t->family = l.family;
	memcpy(t->local, l.addr, sizeof t->local);
	memcpy(t->remote, r.addr, sizeof t->remote);
	t->local_port = server_port;
	t->remote_port = client_port;
	return 0;
}

int tuple_is_tcp(int fd)
{
	static const int want[][2] = {
		{ SO_TYPE, SOCK_STREAM }, { SO_PROTOCOL, IPPROTO_TCP },
	};
	int v = 0;
	socklen_t len = sizeof v;

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ||
	    len != sizeof v || (v != AF_INET && v != AF_INET6))
		return 0;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		len = sizeof v;
		if (getsockopt(fd, SOL_SOCKET, want[i][0], &v, &len) < 0 ||
		    len != sizeof v || v != want[i][1])
			return 0;
	}
	return 1;
}

int tuple_from_socket(int fd, uint16_t server_port, uint16_t client_port,
                      struct tcp_tuple *t)
{
	return tuple_is_tcp(fd) ? tuple_of_tcp_socket(fd, server_port, client_port, t)
	                        : -1;
}

int tuple_of_tcp_socket(int fd, uint16_t server_port, uint16_t client_port,
                        struct tcp_tuple *t)
{
	struct sockaddr_storage local, peer;
	socklen_t local_len = sizeof local, peer_len = sizeof peer;

	memset(&local, 0, sizeof local);
	memset(&peer, 0, sizeof peer);
	if (getsockname(fd, (struct sockaddr *)&local, &local_len) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &peer_len) < 0)
		return -1;
	if (local_len > sizeof local || peer_len > sizeof peer)
		return -1;
	return tuple_from_addrs((struct sockaddr *)&local, local_len,
	                        (struct sockaddr *)&peer, peer_len,
	                        server_port, client_port, t);
}
