/* Checks on a parsed listening address, shared by the tests of its parser
 * (sockaddr_test.c) and of the key that uses it (config_test.c). */
#ifndef PRIVIDENT_LISTEN_ASSERT_H
#define PRIVIDENT_LISTEN_ASSERT_H

#include <arpa/inet.h>
#include <netinet/in.h>

#include "sockaddr.h"

static inline const struct sockaddr_in *sin4(const struct listen_addr *l)
{
	assert_int_equal(l->addr.ss_family, AF_INET);
	assert_int_equal(l->len, sizeof(struct sockaddr_in));
	return (const struct sockaddr_in *)&l->addr;
}

static inline const struct sockaddr_in6 *sin6(const struct listen_addr *l)
{
	assert_int_equal(l->addr.ss_family, AF_INET6);
	assert_int_equal(l->len, sizeof(struct sockaddr_in6));
	return (const struct sockaddr_in6 *)&l->addr;
}

/* l is addr (IPv4) on port. */
static inline void assert_v4(const struct listen_addr *l, const char *addr,
                             unsigned port)
{
	struct in_addr want;

	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	assert_memory_equal(&sin4(l)->sin_addr, &want, sizeof want);
	assert_int_equal(ntohs(sin4(l)->sin_port), port);
}

/* l is addr (IPv6) on port, on the interface scope (0: none). */
static inline void assert_v6_scope(const struct listen_addr *l,
                                   const char *addr, unsigned port,
                                   uint32_t scope)
{
	struct in6_addr want;

	assert_int_equal(inet_pton(AF_INET6, addr, &want), 1);
	assert_memory_equal(&sin6(l)->sin6_addr, &want, sizeof want);
	assert_int_equal(ntohs(sin6(l)->sin6_port), port);
	assert_int_equal(sin6(l)->sin6_scope_id, scope);
	assert_int_equal(sin6(l)->sin6_flowinfo, 0);
}

static inline void assert_v6(const struct listen_addr *l, const char *addr,
                             unsigned port)
{
	assert_v6_scope(l, addr, port, 0);
}

#endif
