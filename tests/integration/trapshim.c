/* Loaded into the daemon with LD_PRELOAD by test_workers.py, to make a
 * real worker, under its real filter, make one forbidden system call, so
 * that --debug-sandbox's report is seen end to end in the daemon's log.
 *
 * PRIVIDENT_TEST_TRAP=child: the network child calls getppid (which
 * neither filter allows) when it accepts a connection; =helper: the lookup
 * helper does when it reads a passed connection's address. Only those
 * workers accept, or call getsockname after their filter; the monitor
 * reads its listeners' addresses, unfiltered, and getppid just works
 * there. Never part of the daemon. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int trap_child, trap_helper;

/* Everything is looked up at load time: under a filter, dlsym could need
 * calls the filter refuses. */
__attribute__((constructor)) static void trapshim_init(void)
{
	const char *which = getenv("PRIVIDENT_TEST_TRAP");

	real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))
	               dlsym(RTLD_NEXT, "accept4");
	real_getsockname = (int (*)(int, struct sockaddr *, socklen_t *))
	                   dlsym(RTLD_NEXT, "getsockname");
	trap_child = which != NULL && strcmp(which, "child") == 0;
	trap_helper = which != NULL && strcmp(which, "helper") == 0;
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
