/* What the two lookup targets (fuzz_netlink.c, fuzz_ctnl.c) share: a TCP
 * tuple spelt out in the fuzzer's input, and a host-order 32-bit word. */
#ifndef PRIVIDENT_FUZZ_TUPLE_H
#define PRIVIDENT_FUZZ_TUPLE_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "tuple.h"

/* family, local[16], remote[16], local port, remote port */
#define TUPLE_BYTES (1 + 16 + 16 + 2 + 2)

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* The tuple spelt out in the input (TUPLE_BYTES); any family value at all. */
static inline void tuple_from_input(const uint8_t *p, struct tcp_tuple *t)
{
	static const int families[] = { AF_INET, AF_INET6, AF_UNSPEC, AF_UNIX };

	memset(t, 0, sizeof *t);
	t->family = families[p[0] % 4];
	memcpy(t->local, p + 1, 16);
	memcpy(t->remote, p + 17, 16);
	t->local_port = get16(p + 33);
	t->remote_port = get16(p + 35);
}

#endif
