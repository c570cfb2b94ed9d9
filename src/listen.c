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

#include "sockaddr.h"
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
	char name[SA_TEXT_MAX];
	int one = 1, zero = 0;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sa_format(sa, len, true, name, sizeof(name));
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

	if (fd >= 0)
		close(fd);
	sa_any(fd >= 0 ? AF_INET6 : AF_INET, DEFAULT_PORT, a);
}

/* Whether fd is bound to exactly a (family, address, port, scope). */
static bool bound_to(int fd, const struct listen_addr *a)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	       len <= sizeof(ss) && sa_same(&ss, &a->addr);
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
		char name[SA_TEXT_MAX] = "?";
		if (getsockname(ls->fds[i], (struct sockaddr *)&ss, &l) == 0)
			sa_format((struct sockaddr *)&ss, l, true, name, sizeof(name));
		int n = snprintf(buf + off, size - off, "%s%s", i ? " " : "", name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
