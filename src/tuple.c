/* The 4-tuple of the connection a query asks about (doc/design.md §1, §4): both
 * addresses come from the query connection, never from the query text. */
#include "tuple.h"
#include "sockaddr.h"

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
	uint32_t scope;   /* a link-local IPv6 address's interface, else 0 */
};

/* ::ffff:0:0/96, the prefix of a v4-mapped IPv6 address (RFC 4291 §2.5.5.2). */
static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static int endpoint_from(const struct sockaddr *sa, socklen_t len,
                         struct endpoint *e)
{
	struct sa_parts p;

	memset(e, 0, sizeof *e);
	if (sa_parts(sa, len, &p) != 0)
		return -1;
	e->family = p.family;
	memcpy(e->addr, p.addr, sizeof e->addr);
	if (p.family == AF_INET6 &&
	    memcmp(p.addr, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
		e->family = AF_INET;
		e->mapped = 1;
		memset(e->addr, 0, sizeof e->addr);
		memcpy(e->addr, p.addr + sizeof v4mapped_prefix, 4);
	} else if (p.family == AF_INET6 && sa_is_link_local(p.addr)) {
		e->scope = p.scope;
	}
	return 0;
}

/* The interface of a link-local connection: the one the kernel bound its
 * socket to, which getsockname and getpeername both report for a
 * link-local address (doc/design.md §4). Two different ones cannot come
 * from one socket: -1. */
static int scope_of(const struct endpoint *l, const struct endpoint *r,
                    uint32_t *scope)
{
	if (l->scope != 0 && r->scope != 0 && l->scope != r->scope)
		return -1;
	*scope = l->scope != 0 ? l->scope : r->scope;
	return 0;
}

int tuple_from_addrs(const struct sockaddr *local, socklen_t local_len,
                     const struct sockaddr *peer, socklen_t peer_len,
                     uint16_t server_port, uint16_t client_port,
                     struct tcp_tuple *t)
{
	struct endpoint l, r;
	uint32_t scope;

	if (t == NULL)
		return -1;
	if (endpoint_from(local, local_len, &l) < 0 ||
	    endpoint_from(peer, peer_len, &r) < 0)
		return -1;
	if (l.family != r.family || l.mapped != r.mapped ||
	    scope_of(&l, &r, &scope) < 0)
		return -1;
	memset(t, 0, sizeof *t);
	t->family = l.family;
	t->scope_id = scope;
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
