/* Socket addresses of the Internet families, in one place: parsing the
 * administrator's ADDR[:PORT] (-l, listen =), formatting an address for
 * messages and log lines, comparing and checking listening addresses.
 *
 * Pure, except for one outside lookup: an interface named in a scope
 * ("fe80::1%eth0", RFC 4007 §11) is turned into its index and back with
 * if_nametoindex/if_indextoname, which ask the kernel. */
#ifndef PRIVIDENT_SOCKADDR_H
#define PRIVIDENT_SOCKADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address to listen on: AF_INET or AF_INET6 with its port set; a
 * link-local IPv6 address (fe80::/10) carries its interface as
 * sin6_scope_id, any other none. */
struct listen_addr {
	struct sockaddr_storage addr;
	socklen_t len;
};

/* Room for any text sa_format writes: "[", an IPv6 address, "%", an
 * interface name or index (IF_NAMESIZE and 10 digits both fit in 16),
 * "]:", 5 port digits, NUL. */
#define SA_TEXT_MAX (1 + INET6_ADDRSTRLEN + 1 + 16 + 2 + 5 + 1)

/* "ADDR[:PORT]", "[V6ADDR]:PORT", "V6ADDR", ":PORT" or "*:PORT" (all
 * addresses: [::], made dual-stack). A link-local IPv6 address needs a
 * scope, "%IFNAME" or "%IFINDEX" (fe80::1%eth0, [fe80::1%2]:113); no other
 * address takes one. Port 1-65535, default_port when none is given.
 * Returns 0, or -1 with a one-line reason quoting s in err. */
int sa_parse_listen(const char *s, unsigned default_port,
                    struct listen_addr *out, char *err, size_t errsz);

/* The parts of an AF_INET or AF_INET6 socket address. */
struct sa_parts {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; AF_INET: the first 4 bytes */
	unsigned port;    /* host order */
	uint32_t scope;   /* AF_INET6: sin6_scope_id; else 0 */
};

/* Reads sa (len bytes, at any alignment: a buffer from getsockname or a
 * message) into p. Returns 0, or -1 if it is not a whole AF_INET or
 * AF_INET6 address. */
int sa_parts(const void *sa, socklen_t len, struct sa_parts *p);

/* fe80::/10 (RFC 4291 §2.5.6): the IPv6 addresses whose meaning depends on
 * the link, and so the only ones a socket address gives a scope. */
bool sa_is_link_local(const uint8_t a[16]);

/* The wildcard address ("0.0.0.0" or "::") of family, on port. */
void sa_any(int family, unsigned port, struct listen_addr *out);

/* An address given as its raw bytes (4 for AF_INET, 16 for AF_INET6), as
 * text: "192.0.2.1", "2001:db8::1"; "?" for another family. */
const char *sa_addr_text(int family, const void *addr, char *buf,
                         size_t size);

/* A socket address as text: "192.0.2.1", "fe80::1%eth0", and with_port
 * "192.0.2.1:113", "[fe80::1%eth0]:113" (a scope by its interface's name,
 * or its index if it has none). "?" for anything but a whole AF_INET or
 * AF_INET6 address of len bytes. */
const char *sa_format(const struct sockaddr *sa, socklen_t len,
                      bool with_port, char *buf, size_t size);

/* Whether a and b name the same socket: family, port, address and, for
 * IPv6, scope (the same link-local address on two links is two sockets). */
bool sa_same(const struct sockaddr_storage *a,
             const struct sockaddr_storage *b);

/* Checks the listening addresses l[0..n-1] before any is bound: each whole
 * and with a port (a scope exactly on a link-local one), no two that
 * cannot both be bound (the same address, or a wildcard and another on the
 * same port; "::" is dual-stack and so covers IPv4 too). Returns 0, or -1
 * with a one-line reason in err. */
int sa_check_listen(const struct listen_addr *l, unsigned n, char *err,
                    size_t errsz);

#endif
