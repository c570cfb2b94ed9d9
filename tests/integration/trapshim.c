/* Loaded into the daemon with LD_PRELOAD by test_workers.py, to make a
 * real worker, under its real filter, make one forbidden system call, so
 * that --debug-sandbox's report is seen end to end in the daemon's log.
 *
 * PRIVIDENT_TEST_TRAP=child: the network child calls getppid (which
 * neither filter allows) when it accepts a connection; =helper: the lookup
 * helper does when it reads a passed connection's address. Only those
 * workers accept, or call getsockname after their filter; the monitor
 * reads its listeners' addresses, unfiltered, and getppid just works
 * there. =forwarder: the forwarder calls getppid when it connects to an
 * Internet address (no other process does); =ctrack: sendto asks a
 * socket's protocol (getsockopt, which the conntrack role's filter
 * forbids, so that is its forbidden call), and calls getppid for a
 * NETLINK_NETFILTER one (no other process has one). Never part of the
 * daemon. */
#include <dlfcn.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
                              const struct sockaddr *, socklen_t);
static int trap_child, trap_helper, trap_forwarder, trap_ctrack;

/* Everything is looked up at load time: under a filter, dlsym could need
 * calls the filter refuses. */
__attribute__((constructor)) static void trapshim_init(void)
{
	const char *which = getenv("PRIVIDENT_TEST_TRAP");

	real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))
	               dlsym(RTLD_NEXT, "accept4");
	real_getsockname = (int (*)(int, struct sockaddr *, socklen_t *))
	                   dlsym(RTLD_NEXT, "getsockname");
	real_connect = (int (*)(int, const struct sockaddr *, socklen_t))
	               dlsym(RTLD_NEXT, "connect");
	real_sendto = (ssize_t (*)(int, const void *, size_t, int,
	                           const struct sockaddr *, socklen_t))
	              dlsym(RTLD_NEXT, "sendto");
	trap_child = which != NULL && strcmp(which, "child") == 0;
	trap_helper = which != NULL && strcmp(which, "helper") == 0;
	trap_forwarder = which != NULL && strcmp(which, "forwarder") == 0;
	trap_ctrack = which != NULL && strcmp(which, "ctrack") == 0;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (trap_forwarder && addr != NULL &&
	    (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
		syscall(SYS_getppid);
	return real_connect(fd, addr, len);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *addr, socklen_t len)
{
	int proto = 0;
	socklen_t plen = sizeof(proto);

	if (trap_ctrack &&
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) == 0 &&
	    proto == NETLINK_NETFILTER)
		syscall(SYS_getppid);
	return real_sendto(fd, buf, n, flags, addr, len);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	if (trap_child)
		syscall(SYS_getppid);
	return real_accept4(fd, addr, len, flags);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (trap_helper)
		syscall(SYS_getppid);
	return real_getsockname(fd, addr, len);
}
