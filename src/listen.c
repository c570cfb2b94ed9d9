/* Opening or inheriting the listening sockets (monitor only). */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

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

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != SOCK_STREAM)
		return 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0 ||
	    (v != AF_INET && v != AF_INET6))
		return 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0 ||
	    v != want_listening)
		return 0;
	return 1;
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

/* Port 113 on every address: IPv6 dual-stack, or IPv4 alone on a host
 * without IPv6. */
static int open_default(struct listen_set *ls, char *err, size_t errsz)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
	                           .sin6_port = htons(DEFAULT_PORT),
	                           .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET,
	                          .sin_port = htons(DEFAULT_PORT),
	                          .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		if (open_one((struct sockaddr *)&s6, sizeof(s6), &ls->fds[0], err, errsz) < 0)
			return -1;
	} else if (open_one((struct sockaddr *)&s4, sizeof(s4), &ls->fds[0], err, errsz) < 0) {
		return -1;
	}
	ls->n = 1;
	return 0;
}

int listen_open(const struct config *c, struct listen_set *ls, char *err,
                size_t errsz)
{
	ls->n = 0;
	ls->activated = false;
	if (c->nlisten == 0)
		return open_default(ls, err, errsz);
	for (unsigned i = 0; i < c->nlisten; i++) {
		if (open_one((const struct sockaddr *)&c->listen[i].addr,
		             c->listen[i].len, &ls->fds[i], err, errsz) < 0) {
			listen_close(ls);
			return -1;
		}
		ls->n++;
	}
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
