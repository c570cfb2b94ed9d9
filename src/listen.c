/* Opening or inheriting the listening sockets (monitor only). */
#include "listen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tuple.h"

/* sd_listen_fds(3): passed sockets start at descriptor 3. */
#define SD_LISTEN_FDS_START 3

/* What every client connection needs before the network child sees it,
 * set on the listening socket (accepted sockets inherit it) or on inetd's
 * connection: non-blocking, since the child reads until EAGAIN; no Nagle
 * delay, since each reply is one whole line and must be on the wire before
 * the daemon may close the connection behind it. */
static void tune(int fd)
{
	int one = 1;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int is_tcp(int fd, int want_listening)
{
	int v;
	socklen_t l = sizeof(v);

	return tuple_is_tcp(fd) &&
	       getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 &&
	       v == want_listening;
}

static int parse_uint(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

int listen_activated(struct listen_set *ls, char *err, size_t errsz)
{
	unsigned long pid, n;

	ls->n = 0;
	if (parse_uint(getenv("LISTEN_PID"), &pid) < 0 || pid != (unsigned long)getpid())
		return 0;
	if (parse_uint(getenv("LISTEN_FDS"), &n) < 0 || n == 0) {
		snprintf(err, errsz, "LISTEN_FDS: '%s' is not a number of sockets",
		         getenv("LISTEN_FDS") ? getenv("LISTEN_FDS") : "");
		return -1;
	}
	if (n > LISTEN_MAX) {
		snprintf(err, errsz, "LISTEN_FDS: %lu sockets, at most %d are supported",
		         n, LISTEN_MAX);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + (int)i;
		if (!is_tcp(fd, 1)) {
			snprintf(err, errsz, "LISTEN_FDS: descriptor %d is not a listening TCP socket", fd);
			return -1;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		tune(fd);
		ls->fds[ls->n++] = fd;
	}
	ls->activated = true;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 1;
}

static int open_one(const struct sockaddr *sa, socklen_t len, int *fdp,
                    char *err, size_t errsz)
{
	char name[80];
	int one = 1, zero = 0;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	log_sockaddr(sa, name, sizeof(name), true);
	if (fd < 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", name, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The IPv6 any address also takes IPv4 clients (as v4-mapped). */
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	tune(fd);
	if (bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

/* The default: port 113 on every address, IPv6 dual-stack, or IPv4 alone
 * on a host without IPv6. */
static void default_addr(struct listen_addr *a)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	if (fd >= 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->addr;
		close(fd);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(DEFAULT_PORT);
		s6->sin6_addr = in6addr_any;
		a->len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->addr;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(DEFAULT_PORT);
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		a->len = sizeof(*s4);
	}
}

/* The bytes of an Internet socket address that name it: port and address
 * (sin_port and sin_addr, or sin6_port, sin6_flowinfo and sin6_addr, which
 * lie next to each other). Length 0 for another family. */
static size_t key_of(const struct sockaddr_storage *ss, const uint8_t **key)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		*key = (const uint8_t *)&s4->sin_port;
		return offsetof(struct sockaddr_in, sin_addr) + sizeof(s4->sin_addr) -
		       offsetof(struct sockaddr_in, sin_port);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		*key = (const uint8_t *)&s6->sin6_port;
		return offsetof(struct sockaddr_in6, sin6_addr) + sizeof(s6->sin6_addr) -
		       offsetof(struct sockaddr_in6, sin6_port);
	}
	return 0;
}

/* Whether fd is bound to exactly a (family, address, port). */
static bool bound_to(int fd, const struct listen_addr *a)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	const uint8_t *x = NULL, *y = NULL;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    ss.ss_family != a->addr.ss_family)
		return false;
	size_t n = key_of(&ss, &x);
	return n > 0 && n == key_of(&a->addr, &y) && memcmp(x, y, n) == 0;
}

/* The index of old's socket bound to a and not yet taken, or -1. */
static int reusable(const struct listen_set *old, const bool *taken,
                    const struct listen_addr *a)
{
	for (unsigned j = 0; old && j < old->n; j++)
		if (!taken[j] && bound_to(old->fds[j], a))
			return (int)j;
	return -1;
}

int listen_open(const struct config *c, const struct listen_set *old,
                struct listen_set *ls, char *err, size_t errsz)
{
	struct listen_addr def;
	const struct listen_addr *want = c->listen;
	unsigned n = c->nlisten;
	bool taken[LISTEN_MAX] = { false }, fresh[LISTEN_MAX] = { false };

	if (n == 0) {
		default_addr(&def);
		want = &def;
		n = 1;
	}
	ls->n = 0;
	ls->activated = false;
	for (unsigned i = 0; i < n; i++) {
		int j = reusable(old, taken, &want[i]);
		if (j >= 0) {
			taken[j] = true;
			ls->fds[i] = old->fds[j];
		} else if (open_one((const struct sockaddr *)&want[i].addr,
		                    want[i].len, &ls->fds[i], err, errsz) < 0) {
			for (unsigned k = 0; k < i; k++)
				if (fresh[k])
					close(ls->fds[k]);
			return -1;
		} else {
			fresh[i] = true;
		}
		ls->n++;
	}
	for (unsigned j = 0; old && j < old->n; j++)
		if (!taken[j])
			close(old->fds[j]);
	return 0;
}

void listen_close(struct listen_set *ls)
{
	for (unsigned i = 0; i < ls->n; i++)
		close(ls->fds[i]);
	ls->n = 0;
}

int listen_check_inetd(int fd, char *err, size_t errsz)
{
	if (!is_tcp(fd, 0)) {
		snprintf(err, errsz, "--inetd: standard input is not a TCP connection");
		return -1;
	}
	tune(fd);
	return 0;
}

void listen_describe(const struct listen_set *ls, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ls->n && off < size; i++) {
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		char name[80] = "?";
		if (getsockname(ls->fds[i], (struct sockaddr *)&ss, &l) == 0)
			log_sockaddr((struct sockaddr *)&ss, name, sizeof(name), true);
		int n = snprintf(buf + off, size - off, "%s%s", i ? " " : "", name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
