/* The workers' real seccomp filters (the policy/ files, as built): each is
 * loaded in a forked process, which shows that the calls its worker needs
 * still work and that each forbidden one ends it with SIGSYS, among them
 * the network child's sendmsg and recvmsg on any descriptor but its
 * socketpair's, the helper's signals other than SIGKILL through its
 * child's pidfd, the conntrack role's netlink calls on any descriptor but
 * its netlink socket's or with other flags, and the forwarder's sockets of
 * any kind but a non-blocking TCP one; and --debug-sandbox's trap names
 * the call from the SIGSYS handler without allocating. Needs no privilege: the filter is
 * loaded under no_new_privs, as any user may.
 *
 * Sanitizer builds (-Db_sanitize=..., where meson defines PRIVIDENT_SANITIZE)
 * load policy/sanitizer.policy on top of both workers' own lists: among
 * others read-only open and openat, write, and mmap without PROT_EXEC, which
 * the sanitizers need to report and to exit. A probe of one of those would
 * survive there, so it is marked as such and left out in those builds only
 * (the log says so); each worker is also probed with calls forbidden in both
 * builds, some of them the supplement's own calls outside its conditions
 * (an open for writing or creating, executable mmap, tgkill with another
 * signal, pipe2 with flags, ioctl on another descriptor), so that every
 * build shows that forbidden calls kill. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp_policy.h"

/* Allocations made by this process, counted so that the trap's report can
 * be shown to make none (a SIGSYS may arrive inside malloc). */
static volatile unsigned allocations;

#ifdef PRIVIDENT_SANITIZE
static const bool sanitizer_build = true;

/* The sanitizers' allocation hooks, from their allocator_interface.h,
 * which gcc does not install. */
int __sanitizer_install_malloc_and_free_hooks(
	void (*malloc_hook)(const volatile void *ptr, size_t size),
	void (*free_hook)(const volatile void *ptr));

static void count_allocation(const volatile void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
	allocations++;
}

/* The sanitizers take the pair of hooks or none. */
static void count_nothing(const volatile void *ptr)
{
	(void)ptr;
}
#else
static const bool sanitizer_build = false;

/* glibc's allocator under its own names: malloc, calloc and realloc are
 * replaced here to count, and stay glibc's (whose own calls, strdup's and
 * libseccomp's among them, come through these too). */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n)
{
	allocations++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	allocations++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	allocations++;
	return __libc_realloc(p, n);
}
#endif

/* Exit statuses of the sandboxed process, so that a failure says where. */
#define X_OK_ALL 0          /* the allowed calls worked, nothing forbidden tried */
#define X_SETUP 90          /* no_new_privs or loading the filter failed */
#define X_READ 91           /* reading the pipe made before the filter failed */
#define X_ALLOWED 92        /* one of the worker's allowed calls failed */
#define X_PROGRESS 93       /* could not report progress */
#define X_SURVIVED 95       /* the forbidden call returned: the filter let it by */
/* How long a sandboxed process may take, start to end. */
#define WAIT_MS 5000
/* Elements of an array. */
#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A uid that no account of a test host has: a name-service miss. */
#define ABSENT_UID 2147480001u

/* What the sandboxed process gets, all made before the filter loads. */
struct probe {
	int progress[2];    /* socketpair: [1] is the sandboxed end; also @nl
	                       of the conntrack role's filter (see struct
	                       worker) */
	int pair[2];        /* SOCK_SEQPACKET, one message waiting at [1]: [1]
	                       is @sock of every worker's filter but the helper's */
	int data[2];        /* pipe holding two bytes "xy" */
	int listener;       /* a TCP socket listening on 127.0.0.1 */
	struct sockaddr_in listen_addr;  /* its address, for the forwarder */
	pid_t victim;       /* a sleeping process */
	int victim_pidfd;   /* its pidfd: @pidfd of the helper's filter */
	void *page;         /* a read-write page, for mprotect */
	char dir[64];       /* an empty scratch directory */
	char file[96];      /* a file in it */
};

/* The conntrack role can write nowhere but to its socketpair and its
 * netlink socket, and reads with no read(2): in this test its @nl is the
 * progress socket, so that it reports as every other worker does, with
 * the one sendto its filter allows (flags 0, no address), and reads the
 * datagrams queued there before the fork as it reads the kernel's. */
struct worker {
	const char *name;
	const struct seccomp_rule *rules;
	const size_t *count;
	int (*allowed)(const struct probe *p);  /* the worker's own calls */
	int tell_flags;     /* sendto's flags on progress[1] (and the trap's) */
	bool reads_pipe;    /* read(2) allowed: reads data[0] before allowed */
	unsigned queued;    /* messages queued at progress[1] for it to read:
	                       exactly as many as it reads, as a socket closed
	                       with unread ones resets its peer, which would
	                       hide the report */
};

/* The worker under test in the sandboxed process, for the trap's report. */
static const struct worker *current;

typedef void (*call_fn)(const struct probe *p);

static int trap_fd = -1;

/* seccomp_apply's calls to seccomp_attr_set come here (a definition in the
 * program wins over libseccomp's): the attribute named by fail_attr fails
 * as libseccomp reports a failure, every other one is set. */
static int fail_attr = -1;

int seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value)
{
	int (*real)(scmp_filter_ctx, enum scmp_filter_attr, uint32_t);

	if ((int)attr == fail_attr)
		return -EINVAL;
	real = (int (*)(scmp_filter_ctx, enum scmp_filter_attr, uint32_t))
	       dlsym(RTLD_NEXT, "seccomp_attr_set");
	return real != NULL ? real(ctx, attr, value) : -ENOSYS;
}

/* What the SIGSYS handler sends back under --debug-sandbox: the call's
 * number, its name as seccomp_name gives it there, and how many
 * allocations that took. */
struct trap_note {
	int nr;
	unsigned allocations;
	char name[32];
};

/* --debug-sandbox's report, from the SIGSYS handler: as the daemon's, it
 * names the call, and sends with a call both filters allow. */
static void report_nr(int nr)
{
	struct trap_note n;
	unsigned before = allocations;

	memset(&n, 0, sizeof(n));
	n.nr = nr;
	seccomp_name(nr, n.name, sizeof(n.name));
	n.allocations = allocations - before;
	syscall(SYS_sendto, trap_fd, &n, sizeof(n), current->tell_flags, NULL, 0);
}

/* ---- the process under test ---- */

/* One byte out and in through a msghdr, as ipc_send and ipc_recv do. */
static long msg_call(long nr, int fd, int flags)
{
	char c = 'm';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	return syscall(nr, fd, &mh, flags);
}

/* What the network child needs: its socketpair's end, with the flags it
 * uses; the time. */
static int netchild_allowed(const struct probe *p)
{
	struct timespec ts;

	if (msg_call(SYS_sendmsg, p->pair[1], MSG_NOSIGNAL | MSG_DONTWAIT) != 1 ||
	    msg_call(SYS_recvmsg, p->pair[1], MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1)
		return -1;
	return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0 ? 0 : -1;
}

/* What the helper needs: files read-only, directories (nss-systemd lists
 * /run/systemd/userdb), the name service, AF_UNIX sockets, memory without
 * exec, and SIGKILL for its child through the pidfd. */
static int helper_allowed(const struct probe *p)
{
	char buf[64];
	int fd = openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 || close(fd) < 0)
		return -1;
	fd = openat(AT_FDCWD, p->dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || syscall(SYS_getdents64, fd, buf, sizeof(buf)) <= 0 || close(fd) < 0)
		return -1;
	struct passwd *pw = getpwuid(0);
	if (!pw || strcmp(pw->pw_name, "root") != 0)
		return -1;
	errno = 0;
	if (getpwuid(ABSENT_UID) != NULL)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/none", p->dir);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno != ENOENT)
		return -1;
	close(fd);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) < 0 || munmap(m, 4096) < 0)
		return -1;
	if (syscall(SYS_pidfd_send_signal, p->victim_pidfd, SIGKILL, NULL, 0) < 0)
		return -1;
	return 0;
}

/* The conntrack role's "kernel answers", queued at progress[1] before
 * the fork (see struct worker): one read blocking, one drained. */
#define NL_WAITING 2

/* What the conntrack role needs (src/ctrack.c): a blocking read of the
 * helper's question and the answer, with their flags; the kernel's answer
 * read blocking, and what an earlier request left drained without
 * waiting; closing a descriptor; the time. The request itself (sendto on
 * @nl, flags 0, no address) is the progress report that follows. */
static int ctrack_allowed(const struct probe *p)
{
	const int nl = p->progress[1];
	char buf[8];
	struct timespec ts;

	if (msg_call(SYS_recvmsg, p->pair[1], MSG_CMSG_CLOEXEC) != 1 ||
	    msg_call(SYS_sendmsg, p->pair[1], MSG_NOSIGNAL) != 1)
		return -1;
	if (syscall(SYS_recvfrom, nl, buf, sizeof(buf), 0, NULL, 0) != 1 ||
	    syscall(SYS_recvfrom, nl, buf, sizeof(buf), MSG_DONTWAIT, NULL, 0) != 1 ||
	    syscall(SYS_recvfrom, nl, buf, sizeof(buf), MSG_DONTWAIT, NULL, 0) != -1 ||
	    errno != EAGAIN)
		return -1;
	if (close(p->data[0]) < 0)
		return -1;
	return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0 ? 0 : -1;
}

/* What the forwarder needs (src/forwarder.c): the helper's questions
 * without waiting and the answers; a non-blocking TCP connection to an
 * inner server (here the test's listener), waited for with poll, its
 * result read with SO_ERROR, the query written with sendto, the reply
 * read with read (here the pipe's second byte); close; the time. An IPv6
 * socket too, where the host has IPv6. */
static int forwarder_allowed(const struct probe *p)
{
	const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int err = -1;
	socklen_t len = sizeof(err);
	char c = 0;
	struct timespec ts;

	if (msg_call(SYS_recvmsg, p->pair[1], MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1 ||
	    msg_call(SYS_sendmsg, p->pair[1], MSG_NOSIGNAL) != 1)
		return -1;
	int fd = (int)syscall(SYS_socket, AF_INET, type, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&p->listen_addr,
	            sizeof(p->listen_addr)) < 0 && errno != EINPROGRESS)
		return -1;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, WAIT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0 ||
	    syscall(SYS_sendto, fd, "1,2\r\n", 5, MSG_NOSIGNAL | MSG_DONTWAIT,
	            NULL, 0) != 5 || close(fd) < 0)
		return -1;
	if (read(p->data[0], &c, 1) != 1 || c != 'y')
		return -1;
	int fd6 = (int)syscall(SYS_socket, AF_INET6, type, 0);
	if (fd6 < 0 ? errno != EAFNOSUPPORT : close(fd6) < 0)
		return -1;
	return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0 ? 0 : -1;
}

/* sendto's flags for the reports on progress[1]: the network child's, the
 * helper's and the forwarder's own; the conntrack role's request's. */
#define TELL_DONTWAIT (MSG_NOSIGNAL | MSG_DONTWAIT)

static const struct worker netchild = {
	"netchild", seccomp_netchild_rules, &seccomp_netchild_count, netchild_allowed,
	TELL_DONTWAIT, true, 0,
};
static const struct worker helper = {
	"helper", seccomp_helper_rules, &seccomp_helper_count, helper_allowed,
	TELL_DONTWAIT, true, 0,
};
static const struct worker ctrack = {
	"ctrack", seccomp_ctrack_rules, &seccomp_ctrack_count, ctrack_allowed,
	0, false, NL_WAITING,
};
static const struct worker forwarder = {
	"forwarder", seccomp_forwarder_rules, &seccomp_forwarder_count,
	forwarder_allowed, TELL_DONTWAIT, true, 0,
};
/* Every worker, for the checks of the tables as read. */
static const struct worker *const workers[] = { &netchild, &helper, &ctrack, &forwarder };

static void preload_name_service(void)
{
	/* As the helper does before its filter: modules map executable code. */
	(void)getpwuid(0);
	(void)getpwuid((uid_t)-1);
}

static void sandboxed(const struct worker *w, const struct probe *p, call_fn forbidden,
                      bool debug)
{
	struct seccomp_params sp = { .sock = p->pair[1], .pidfd = p->victim_pidfd,
	                             .nl = p->progress[1],
	                             .debug = debug, .report = report_nr };
	struct rlimit none = { 0, 0 };
	char err[256], c = 0;

	close(p->progress[0]);
	close(p->pair[0]);
	close(p->data[1]);
	signal(SIGSYS, SIG_DFL);
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (w == &helper)
		preload_name_service();
	trap_fd = p->progress[1];
	current = w;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    seccomp_apply(w->rules, *w->count, &sp, err, sizeof(err)) < 0)
		_exit(X_SETUP);
	if (w->reads_pipe && (read(p->data[0], &c, 1) != 1 || c != 'x'))
		_exit(X_READ);
	if (w->allowed(p) < 0)
		_exit(X_ALLOWED);
	if (syscall(SYS_sendto, p->progress[1], "A", 1, w->tell_flags, NULL, 0) != 1)
		_exit(X_PROGRESS);
	if (!forbidden)
		_exit(X_OK_ALL);
	forbidden(p);
	_exit(X_SURVIVED);
}

/* ---- the test's side ---- */

static void probe_open(struct probe *p, const struct worker *w)
{
	socklen_t len = sizeof(p->listen_addr);

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->progress), 0);
	for (unsigned i = 0; i < w->queued; i++)
		assert_int_equal(send(p->progress[0], "k", 1, 0), 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->pair), 0);
	assert_int_equal(send(p->pair[0], "q", 1, 0), 1);
	assert_int_equal(pipe2(p->data, O_CLOEXEC), 0);
	assert_int_equal(write(p->data[1], "xy", 2), 2);
	p->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->listener >= 0);
	p->listen_addr.sin_family = AF_INET;
	p->listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(p->listener, (struct sockaddr *)&p->listen_addr,
	                      sizeof(p->listen_addr)), 0);
	assert_int_equal(listen(p->listener, 4), 0);
	assert_int_equal(getsockname(p->listener, (struct sockaddr *)&p->listen_addr,
	                             &len), 0);
	p->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p->page != MAP_FAILED);
	snprintf(p->dir, sizeof(p->dir), "/tmp/privident-sandbox-test.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->file, sizeof(p->file), "%s/file", p->dir);
	int fd = open(p->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	p->victim = fork();
	assert_true(p->victim >= 0);
	if (p->victim == 0) {
		for (;;)
			pause();
	}
	p->victim_pidfd = (int)syscall(SYS_pidfd_open, p->victim, 0);
	assert_true(p->victim_pidfd > STDERR_FILENO);
}

static int wait_ms(pid_t pid, int ms, int *st)
{
	for (int i = 0; i < ms; i += 10) {
		pid_t r = waitpid(pid, st, WNOHANG);
		if (r == pid)
			return 0;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, st, 0);
	return -1;
}

/* Ends the victim unless the sandboxed helper did; its status. */
static int probe_close(struct probe *p)
{
	int st;
	kill(p->victim, SIGKILL);
	waitpid(p->victim, &st, 0);
	close(p->progress[0]);
	close(p->pair[0]);
	close(p->pair[1]);
	close(p->victim_pidfd);
	close(p->data[0]);
	close(p->data[1]);
	close(p->listener);
	munmap(p->page, 4096);
	unlink(p->file);
	rmdir(p->dir);
	return st;
}

/* Runs forbidden (or none) under w's filter. Returns the wait status;
 * *progressed tells whether the allowed calls all worked first; with
 * note, the trap's report (nr -1 if none came). */
static int run(const struct worker *w, call_fn forbidden, bool debug,
               struct trap_note *note, int *progressed)
{
	struct probe p;
	int st = 0;
	char c = 0;

	memset(&p, 0, sizeof(p));
	probe_open(&p, w);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		sandboxed(w, &p, forbidden, debug);
	close(p.progress[1]);
	if (wait_ms(pid, WAIT_MS, &st) < 0)
		fail_msg("%s: the sandboxed process did not end within %d ms", w->name, WAIT_MS);
	*progressed = recv(p.progress[0], &c, 1, MSG_DONTWAIT) == 1 && c == 'A';
	if (note) {
		memset(note, 0, sizeof(*note));
		if (recv(p.progress[0], note, sizeof(*note), MSG_DONTWAIT) != sizeof(*note))
			note->nr = -1;
	}
	int vst = probe_close(&p);
	if (w == &helper && !forbidden) {
		/* The helper's allowed calls include SIGKILL to its child. */
		assert_true(WIFSIGNALED(vst) && WTERMSIG(vst) == SIGKILL);
	}
	return st;
}

static void describe(char *buf, size_t size, int st)
{
	if (WIFEXITED(st))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, size, "status 0x%x", st);
}

static void expect_sigsys(const struct worker *w, const char *what, call_fn f)
{
	int progressed, st = run(w, f, false, NULL, &progressed);
	char how[64];

	describe(how, sizeof(how), st);
	if (!progressed)
		fail_msg("%s: the allowed calls before '%s' did not all work (%s)",
		         w->name, what, how);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		fail_msg("%s: '%s' was not stopped by seccomp: %s", w->name, what, how);
}

/* ---- forbidden calls, made directly so that nothing else is called ---- */

static void f_socket_inet(const struct probe *p) { (void)p; syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }
static void f_socket_inet6(const struct probe *p) { (void)p; syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0); }
static void f_socket_netlink(const struct probe *p) { (void)p; syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0); }
static void f_socket_unix(const struct probe *p) { (void)p; syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }
static void f_openat_rdonly(const struct probe *p) { (void)p; syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY); }
static void f_openat_wronly(const struct probe *p) { syscall(SYS_openat, AT_FDCWD, p->file, O_WRONLY); }
static void f_openat_rdwr(const struct probe *p) { syscall(SYS_openat, AT_FDCWD, p->file, O_RDWR); }
static void f_openat_creat(const struct probe *p) { syscall(SYS_openat, AT_FDCWD, p->dir, O_RDONLY | O_CREAT, 0600); }
static void f_openat_trunc(const struct probe *p) { syscall(SYS_openat, AT_FDCWD, p->file, O_RDONLY | O_TRUNC); }
static void f_openat_append(const struct probe *p) { syscall(SYS_openat, AT_FDCWD, p->file, O_WRONLY | O_APPEND); }
static void f_openat_tmpfile(const struct probe *p) { syscall(SYS_openat, AT_FDCWD, p->dir, O_TMPFILE | O_RDWR, 0600); }
#ifdef SYS_open
static void f_open(const struct probe *p) { (void)p; syscall(SYS_open, "/etc/passwd", O_RDONLY); }
static void f_open_wronly(const struct probe *p) { syscall(SYS_open, p->file, O_WRONLY); }
static void f_open_creat(const struct probe *p) { syscall(SYS_open, p->file, O_RDONLY | O_CREAT, 0600); }
#endif
#ifdef SYS_openat2
static void f_openat2(const struct probe *p)
{
	uint64_t how[3] = { O_RDONLY, 0, 0 };   /* struct open_how */
	(void)p;
	syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", how, sizeof(how));
}
#endif
static void f_connect(const struct probe *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/none", p->dir);
	syscall(SYS_connect, p->progress[1], &sun, sizeof(sun));
}
static void f_sendto_addr(const struct probe *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	syscall(SYS_sendto, p->progress[1], "B", 1, MSG_NOSIGNAL | MSG_DONTWAIT, &sun,
	        sizeof(sun));
}
static void f_execve(const struct probe *p)
{
	char *argv[] = { "/bin/true", NULL }, *envp[] = { NULL };
	(void)p;
	syscall(SYS_execve, "/bin/true", argv, envp);
}
static void f_execveat(const struct probe *p)
{
	char *argv[] = { "/bin/true", NULL }, *envp[] = { NULL };
	(void)p;
	syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
}
static void f_ptrace(const struct probe *p) { (void)p; syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }
static void f_ptrace_attach(const struct probe *p) { syscall(SYS_ptrace, PTRACE_ATTACH, p->victim, 0, 0); }
#ifdef SYS_fork
static void f_fork(const struct probe *p) { (void)p; syscall(SYS_fork); }
#endif
static void f_clone(const struct probe *p) { (void)p; syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
#ifdef SYS_clone3
static void f_clone3(const struct probe *p)
{
	uint64_t args[11] = { 0 };  /* struct clone_args, exit_signal is [4] */
	(void)p;
	args[4] = SIGCHLD;
	syscall(SYS_clone3, args, sizeof(args));
}
#endif
static void f_mprotect_exec(const struct probe *p) { syscall(SYS_mprotect, p->page, 4096, PROT_READ | PROT_EXEC); }
static void f_mmap(const struct probe *p)
{
	(void)p;
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void f_mmap_exec(const struct probe *p)
{
	(void)p;
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void f_kill_child(const struct probe *p) { syscall(SYS_kill, p->victim, SIGKILL); }
static void f_kill_child_term(const struct probe *p) { syscall(SYS_kill, p->victim, SIGTERM); }
static void f_kill_other(const struct probe *p) { syscall(SYS_kill, p->victim + 100000, SIGKILL); }
static void f_tgkill(const struct probe *p) { syscall(SYS_tgkill, p->victim, p->victim, SIGKILL); }
static void f_tgkill_abrt(const struct probe *p) { syscall(SYS_tgkill, p->victim, p->victim, SIGABRT); }
static void f_write(const struct probe *p) { syscall(SYS_write, p->progress[1], "w", 1); }
static void f_writev(const struct probe *p)
{
	struct iovec iov = { .iov_base = (void *)"w", .iov_len = 1 };
	syscall(SYS_writev, p->progress[1], &iov, 1);
}
static void f_ioctl(const struct probe *p)
{
	int n;
	syscall(SYS_ioctl, p->progress[1], FIONREAD, &n);
}
static void f_pipe2_flags(const struct probe *p)
{
	int fds[2];
	(void)p;
	syscall(SYS_pipe2, fds, O_CLOEXEC);
}
static void f_setuid(const struct probe *p) { (void)p; syscall(SYS_setuid, 0); }
/* sendmsg and recvmsg, with the flags the child uses, on descriptors other
 * than its socketpair's: another socket, a pipe, the next number. */
static void f_sendmsg_socket(const struct probe *p) { msg_call(SYS_sendmsg, p->progress[1], MSG_NOSIGNAL | MSG_DONTWAIT); }
static void f_recvmsg_socket(const struct probe *p) { msg_call(SYS_recvmsg, p->progress[1], MSG_CMSG_CLOEXEC | MSG_DONTWAIT); }
static void f_sendmsg_pipe(const struct probe *p) { msg_call(SYS_sendmsg, p->data[0], MSG_NOSIGNAL | MSG_DONTWAIT); }
static void f_recvmsg_next(const struct probe *p) { msg_call(SYS_recvmsg, p->pair[1] + 1, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); }
/* Through the pidfd: another signal, siginfo, flags; SIGKILL through
 * another descriptor. */
static void f_pidfd_term(const struct probe *p) { syscall(SYS_pidfd_send_signal, p->victim_pidfd, SIGTERM, NULL, 0); }
static void f_pidfd_info(const struct probe *p)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGKILL;
	si.si_code = SI_QUEUE;
	syscall(SYS_pidfd_send_signal, p->victim_pidfd, SIGKILL, &si, 0);
}
/* PIDFD_SIGNAL_PROCESS_GROUP (Linux 6.9): the child's whole process group,
 * which is the monitor's. */
static void f_pidfd_group(const struct probe *p) { syscall(SYS_pidfd_send_signal, p->victim_pidfd, SIGKILL, NULL, 4u); }
static void f_pidfd_other_fd(const struct probe *p) { syscall(SYS_pidfd_send_signal, p->progress[1], SIGKILL, NULL, 0); }
/* The conntrack role's netlink calls (@nl is progress[1] here) outside
 * their conditions: other flags, an address, another descriptor; its
 * socketpair calls with the forwarder's flags, or on @nl. Each returns at
 * once if let by (nothing blocks), so that a failure is quick. */
static void f_sendto_nl_dontwait(const struct probe *p) { syscall(SYS_sendto, p->progress[1], "s", 1, MSG_DONTWAIT, NULL, 0); }
static void f_sendto_nl_addr(const struct probe *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	syscall(SYS_sendto, p->progress[1], "s", 1, 0, &sun, sizeof(sun));
}
static void f_sendto_sock(const struct probe *p) { syscall(SYS_sendto, p->pair[1], "s", 1, 0, NULL, 0); }
static void f_recvfrom_pipe(const struct probe *p)
{
	char c;
	syscall(SYS_recvfrom, p->data[0], &c, 1, 0, NULL, 0);
}
static void f_recvfrom_sock(const struct probe *p)
{
	char c;
	syscall(SYS_recvfrom, p->pair[1], &c, 1, MSG_DONTWAIT, NULL, 0);
}
static void f_recvfrom_nl_peek(const struct probe *p)
{
	char c;
	syscall(SYS_recvfrom, p->progress[1], &c, 1, MSG_PEEK | MSG_DONTWAIT, NULL, 0);
}
static void f_recvfrom_nl_addr(const struct probe *p)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	char c;
	syscall(SYS_recvfrom, p->progress[1], &c, 1, MSG_DONTWAIT, &sun, &len);
}
static void f_sendmsg_dontwait(const struct probe *p) { msg_call(SYS_sendmsg, p->pair[1], MSG_NOSIGNAL | MSG_DONTWAIT); }
static void f_sendmsg_nl(const struct probe *p) { msg_call(SYS_sendmsg, p->progress[1], MSG_NOSIGNAL); }
static void f_recvmsg_dontwait(const struct probe *p) { msg_call(SYS_recvmsg, p->pair[1], MSG_CMSG_CLOEXEC | MSG_DONTWAIT); }
static void f_recvmsg_pipe(const struct probe *p) { msg_call(SYS_recvmsg, p->data[0], MSG_CMSG_CLOEXEC); }
static void f_recvmsg_peek(const struct probe *p) { msg_call(SYS_recvmsg, p->pair[1], MSG_CMSG_CLOEXEC | MSG_DONTWAIT | MSG_PEEK); }
static void f_read(const struct probe *p)
{
	char c;
	syscall(SYS_read, p->data[0], &c, 1);
}
static void f_poll(const struct probe *p)
{
	struct pollfd pfd = { .fd = p->pair[1], .events = POLLIN };
	syscall(SYS_ppoll, &pfd, 1, NULL, NULL, 0);
}
#ifdef SYS_poll
static void f_poll_classic(const struct probe *p)
{
	struct pollfd pfd = { .fd = p->pair[1], .events = POLLIN };
	syscall(SYS_poll, &pfd, 1, 0);
}
#endif
/* A netlink socket's membership and filters, and any other option. */
static void f_setsockopt(const struct probe *p)
{
	int v = 1 << 16;
	syscall(SYS_setsockopt, p->progress[1], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}
static void f_getsockopt_other(const struct probe *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	syscall(SYS_getsockopt, p->progress[1], SOL_SOCKET, SO_PEERCRED, &uc, &len);
}
static void f_getsockopt_tcp(const struct probe *p)
{
	int v;
	socklen_t len = sizeof(v);
	syscall(SYS_getsockopt, p->listener, IPPROTO_TCP, TCP_NODELAY, &v, &len);
}
static void f_bind(const struct probe *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };  /* autobind */
	syscall(SYS_bind, p->progress[1], &sun, sizeof(sa_family_t));
}
static void f_listen(const struct probe *p) { syscall(SYS_listen, p->listener, 8); }
static void f_accept4(const struct probe *p) { syscall(SYS_accept4, p->listener, NULL, NULL, SOCK_NONBLOCK); }
#ifdef SYS_accept
static void f_accept(const struct probe *p) { syscall(SYS_accept, p->listener, NULL, NULL); }
#endif
/* The forwarder's socket outside its one kind: another family, type,
 * protocol, or without its flags. */
#define FWD_TYPE (SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)
static void f_socket_unix_fwd(const struct probe *p) { (void)p; syscall(SYS_socket, AF_UNIX, FWD_TYPE, 0); }
static void f_socket_netlink_fwd(const struct probe *p) { (void)p; syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }
static void f_socket_dgram(const struct probe *p) { (void)p; syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }
static void f_socket_raw(const struct probe *p) { (void)p; syscall(SYS_socket, AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP); }
static void f_socket_proto(const struct probe *p) { (void)p; syscall(SYS_socket, AF_INET, FWD_TYPE, IPPROTO_TCP); }
static void f_socket_packet(const struct probe *p) { (void)p; syscall(SYS_socket, AF_PACKET, FWD_TYPE, 0); }
/* sendmsg and recvmsg with the forwarder's flags on another descriptor;
 * sendto with other flags. */
static void f_sendmsg_other_fd(const struct probe *p) { msg_call(SYS_sendmsg, p->progress[1], MSG_NOSIGNAL); }
static void f_recvmsg_other_fd(const struct probe *p) { msg_call(SYS_recvmsg, p->progress[1], MSG_CMSG_CLOEXEC | MSG_DONTWAIT); }
static void f_sendto_flags0(const struct probe *p) { syscall(SYS_sendto, p->progress[1], "s", 1, 0, NULL, 0); }
static void f_sendto_oob(const struct probe *p) { syscall(SYS_sendto, p->progress[1], "s", 1, MSG_NOSIGNAL | MSG_DONTWAIT | MSG_OOB, NULL, 0); }

struct forbidden {
	const char *what;
	call_fn fn;
	bool sanitizer_allows;  /* policy/sanitizer.policy lets it by */
};

/* F: forbidden in every build. S: forbidden, but sanitizer builds allow
 * it (policy/sanitizer.policy), so it is probed in other builds only. */
#define F(fn, what) { what, fn, false }
#define S(fn, what) { what, fn, true }

/* No worker may write or create a file, execute, trace, start a process
 * or thread, map executable memory, signal another process (but the
 * helper its child, with SIGKILL, through the pidfd), take an identity,
 * or use the sanitizers' calls outside their conditions. Probed for each
 * worker with its own list below. */
static const struct forbidden every_forbidden[] = {
	F(f_openat_wronly, "openat(O_WRONLY)"),
	F(f_openat_creat, "openat(O_CREAT)"),
#ifdef SYS_open
	S(f_open, "open(O_RDONLY)"),
	F(f_open_wronly, "open(O_WRONLY)"),
#endif
#ifdef SYS_openat2
	F(f_openat2, "openat2"),
#endif
	F(f_execve, "execve"),
	F(f_execveat, "execveat"),
	F(f_ptrace, "ptrace(TRACEME)"),
	F(f_ptrace_attach, "ptrace(ATTACH)"),
#ifdef SYS_fork
	F(f_fork, "fork"),
#endif
	F(f_clone, "clone"),
#ifdef SYS_clone3
	F(f_clone3, "clone3"),
#endif
	F(f_mprotect_exec, "mprotect(PROT_EXEC)"),
	F(f_mmap_exec, "mmap(PROT_EXEC)"),
	F(f_kill_child, "kill(SIGKILL)"),
	F(f_pidfd_term, "pidfd_send_signal(SIGTERM)"),
	F(f_tgkill, "tgkill(SIGKILL)"),
	S(f_tgkill_abrt, "tgkill(SIGABRT)"),
	F(f_ioctl, "ioctl(FIONREAD)"),
	F(f_pipe2_flags, "pipe2(O_CLOEXEC)"),
	F(f_setuid, "setuid"),
};

/* The network child may not touch the file system, make sockets, connect,
 * execute, trace, start processes, or get new memory at all. */
static const struct forbidden netchild_forbidden[] = {
	F(f_socket_inet, "socket(AF_INET)"),
	F(f_socket_unix, "socket(AF_UNIX)"),
	F(f_socket_netlink, "socket(AF_NETLINK)"),
	S(f_openat_rdonly, "openat(O_RDONLY)"),
	F(f_openat_rdwr, "openat(O_RDWR)"),
	F(f_openat_trunc, "openat(O_TRUNC)"),
#ifdef SYS_open
	F(f_open_creat, "open(O_CREAT)"),
#endif
	F(f_connect, "connect"),
	F(f_sendto_addr, "sendto with an address"),
	S(f_mmap, "mmap"),
	S(f_write, "write"),
	F(f_writev, "writev"),
	F(f_sendmsg_socket, "sendmsg on another socket"),
	F(f_recvmsg_socket, "recvmsg on another socket"),
	F(f_sendmsg_pipe, "sendmsg on a pipe"),
	F(f_recvmsg_next, "recvmsg on the next descriptor"),
};

/* The helper keeps what the name service needs (AF_UNIX sockets, read-only
 * files) and SIGKILL for its child through the pidfd, and nothing more. */
static const struct forbidden helper_forbidden[] = {
	F(f_socket_inet, "socket(AF_INET)"),
	F(f_socket_inet6, "socket(AF_INET6)"),
	F(f_socket_netlink, "socket(AF_NETLINK)"),
	F(f_openat_rdwr, "openat(O_RDWR)"),
	F(f_openat_trunc, "openat(O_TRUNC)"),
	F(f_openat_append, "openat(O_APPEND)"),
	F(f_openat_tmpfile, "openat(O_TMPFILE)"),
#ifdef SYS_open
	F(f_open_creat, "open(O_CREAT)"),
#endif
	F(f_kill_other, "kill(another pid)"),
	F(f_kill_child_term, "kill(child, SIGTERM)"),
	F(f_pidfd_info, "pidfd_send_signal with siginfo"),
	F(f_pidfd_group, "pidfd_send_signal to the process group"),
	F(f_pidfd_other_fd, "pidfd_send_signal on another descriptor"),
};

/* The conntrack role holds CAP_NET_ADMIN: it may not make a socket (a
 * second netlink one least of all), change its netlink socket (bind,
 * setsockopt), open a file, connect, or use either of its descriptors
 * but as src/ctrack.c does. */
static const struct forbidden ctrack_forbidden[] = {
	F(f_socket_netlink, "socket(AF_NETLINK)"),
	F(f_socket_inet, "socket(AF_INET)"),
	F(f_socket_unix, "socket(AF_UNIX)"),
	S(f_openat_rdonly, "openat(O_RDONLY)"),
	F(f_connect, "connect"),
	F(f_bind, "bind"),
	F(f_setsockopt, "setsockopt(SO_RCVBUF) on @nl"),
	F(f_getsockopt_other, "getsockopt(SO_PEERCRED)"),
	F(f_sendto_sock, "sendto on the socketpair"),
	F(f_sendto_nl_dontwait, "sendto(MSG_DONTWAIT) on @nl"),
	F(f_sendto_nl_addr, "sendto with an address on @nl"),
	F(f_sendto_addr, "sendto with an address and other flags"),
	F(f_recvfrom_pipe, "recvfrom on a pipe"),
	F(f_recvfrom_sock, "recvfrom on the socketpair"),
	F(f_recvfrom_nl_peek, "recvfrom(MSG_PEEK) on @nl"),
	F(f_recvfrom_nl_addr, "recvfrom with an address on @nl"),
	F(f_sendmsg_dontwait, "sendmsg(MSG_DONTWAIT)"),
	F(f_sendmsg_nl, "sendmsg on @nl"),
	F(f_sendmsg_socket, "sendmsg on another socket"),
	F(f_recvmsg_dontwait, "recvmsg(MSG_DONTWAIT)"),
	F(f_recvmsg_pipe, "recvmsg on a pipe"),
	F(f_read, "read"),
	S(f_write, "write"),
	F(f_poll, "ppoll"),
#ifdef SYS_poll
	F(f_poll_classic, "poll"),
#endif
	F(f_listen, "listen"),
	S(f_mmap, "mmap"),
};

/* The forwarder makes non-blocking TCP connections and nothing else: no
 * other socket, no server (bind, listen, accept), no file, no socket
 * option but reading SO_ERROR, and its socketpair only with its flags. */
static const struct forbidden forwarder_forbidden[] = {
	F(f_socket_unix_fwd, "socket(AF_UNIX)"),
	F(f_socket_netlink_fwd, "socket(AF_NETLINK)"),
	F(f_socket_packet, "socket(AF_PACKET)"),
	F(f_socket_dgram, "socket(AF_INET, SOCK_DGRAM)"),
	F(f_socket_inet6, "socket(AF_INET6, SOCK_DGRAM)"),
	F(f_socket_raw, "socket(AF_INET6, SOCK_RAW)"),
	F(f_socket_proto, "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)"),
	F(f_socket_inet, "socket(AF_INET, SOCK_STREAM) without flags"),
	F(f_bind, "bind"),
	F(f_listen, "listen"),
	F(f_accept4, "accept4"),
#ifdef SYS_accept
	F(f_accept, "accept"),
#endif
	F(f_setsockopt, "setsockopt"),
	F(f_getsockopt_other, "getsockopt(SO_PEERCRED)"),
	F(f_getsockopt_tcp, "getsockopt(IPPROTO_TCP)"),
	F(f_sendto_addr, "sendto with an address"),
	F(f_sendto_flags0, "sendto without MSG_NOSIGNAL"),
	F(f_sendto_oob, "sendto(MSG_OOB)"),
	F(f_recvfrom_sock, "recvfrom"),
	F(f_sendmsg_other_fd, "sendmsg on another socket"),
	F(f_sendmsg_pipe, "sendmsg on a pipe"),
	F(f_sendmsg_dontwait, "sendmsg(MSG_DONTWAIT)"),
	F(f_recvmsg_other_fd, "recvmsg on another socket"),
	F(f_recvmsg_peek, "recvmsg(MSG_PEEK)"),
	S(f_openat_rdonly, "openat(O_RDONLY)"),
	S(f_mmap, "mmap"),
	S(f_write, "write"),
	F(f_writev, "writev"),
};

/* ---- tests ---- */

static void check_names(const struct seccomp_rule *rules, size_t n)
{
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		if (seccomp_syscall_resolve_name(rules[i].name) == __NR_SCMP_ERROR)
			fail_msg("policy names an unknown system call '%s'", rules[i].name);
		assert_true(rules[i].nconds <= SECCOMP_CONDS_MAX);
	}
}

static void policy_names_resolve(void **st)
{
	(void)st;
	for (size_t w = 0; w < N(workers); w++)
		check_names(workers[w]->rules, *workers[w]->count);
}

/* Whether the table lets name through: any rule for it (conditional too). */
static bool listed(const struct seccomp_rule *rules, size_t n, const char *name,
                   bool *unconditional)
{
	bool found = false;
	*unconditional = false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rules[i].name, name) == 0) {
			found = true;
			if (rules[i].nconds == 0)
				*unconditional = true;
		}
	return found;
}

/* What policy/sanitizer.policy adds to every table in sanitizer builds
 * that the lists below otherwise forbid, and whether it comes only with
 * conditions (read only, never executable, TCGETS on standard error). */
static const struct {
	const char *name;
	bool conditional;
} sanitizer_adds[] = {
	{ "open", true }, { "openat", true }, { "mmap", true }, { "write", false },
	{ "ioctl", true },
};

/* In a sanitizer build, whether name may be in a table as the supplement
 * has it; fails the test if it is there less restricted than that. */
static bool sanitizer_may_list(const char *table, const struct seccomp_rule *rules,
                               size_t n, const char *name)
{
	bool uncond;

	if (!sanitizer_build)
		return false;
	for (size_t i = 0; i < N(sanitizer_adds); i++) {
		if (strcmp(sanitizer_adds[i].name, name) != 0)
			continue;
		if (!listed(rules, n, name, &uncond))
			fail_msg("sanitizer build: %s lacks the supplement's %s "
			         "(policy/sanitizer.policy not loaded?)", table, name);
		if (sanitizer_adds[i].conditional && uncond)
			fail_msg("sanitizer build: %s allows %s without conditions", table, name);
		return true;
	}
	return false;
}

/* Whether w's table, as this build has it, lets name through (the
 * sanitizer supplement's own calls aside, checked as it has them). */
static bool allows(const struct worker *w, const char *name)
{
	bool uncond;

	return !sanitizer_may_list(w->name, w->rules, *w->count, name) &&
	       listed(w->rules, *w->count, name, &uncond);
}

/* Fails unless none of names is in w's table. */
static void check_never(const struct worker *w, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (allows(w, names[i]))
			fail_msg("%s.policy allows %s", w->name, names[i]);
}

/* Fails unless every one of names is in w's table, and only with
 * conditions. */
static void check_conditional(const struct worker *w, const char *const *names,
                              size_t n)
{
	bool uncond;

	for (size_t i = 0; i < n; i++)
		if (!listed(w->rules, *w->count, names[i], &uncond) || uncond)
			fail_msg("%s.policy should allow %s only with conditions",
			         w->name, names[i]);
}

/* The tables as read: what must never be there, what only with conditions. */
static void policy_tables_as_read(void **st)
{
	static const char *const never[] = {
		"execve", "execveat", "ptrace", "fork", "vfork", "clone", "clone3",
		"open", "openat2", "creat", "setuid", "setgid", "setresuid", "setresgid",
		"capset", "prctl", "seccomp", "bpf", "process_vm_writev", "mount",
		"chroot", "unshare", "setns", "init_module", "finit_module",
		"kill", "tkill", "pidfd_open", "pidfd_getfd", "close_range",
	};
	static const char *const child_never[] = {
		"socket", "socketpair", "openat", "connect", "bind", "listen", "mmap",
		"mprotect", "write", "getdents64", "readlinkat", "pidfd_send_signal",
	};
	/* Its netlink socket is made, bound and given its time-out before
	 * the filter: nothing may make, bind or change a socket after. */
	static const char *const ctrack_never[] = {
		"socket", "socketpair", "openat", "connect", "bind", "listen",
		"accept", "accept4", "setsockopt", "getsockopt", "read", "write",
		"mmap", "mprotect", "getdents64", "pidfd_send_signal", "ioctl",
		"sendmmsg", "recvmmsg", "poll", "ppoll",
	};
	static const char *const ctrack_conditional[] = {
		"sendmsg", "recvmsg", "sendto", "recvfrom",
	};
	static const char *const forwarder_never[] = {
		"socketpair", "openat", "bind", "listen", "accept", "accept4",
		"setsockopt", "recvfrom", "sendmmsg", "recvmmsg", "write", "mmap",
		"mprotect", "getdents64", "pidfd_send_signal", "ioctl",
	};
	static const char *const forwarder_conditional[] = {
		"socket", "getsockopt", "sendto", "sendmsg", "recvmsg",
	};
	static const char *const helper_conditional[] = {
		"socket", "openat", "mmap", "mprotect", "pidfd_send_signal",
	};
	(void)st;
	for (size_t w = 0; w < N(workers); w++)
		check_never(workers[w], never, N(never));
	check_never(&netchild, child_never, N(child_never));
	check_never(&ctrack, ctrack_never, N(ctrack_never));
	check_never(&forwarder, forwarder_never, N(forwarder_never));
	check_conditional(&helper, helper_conditional, N(helper_conditional));
	check_conditional(&ctrack, ctrack_conditional, N(ctrack_conditional));
	check_conditional(&forwarder, forwarder_conditional, N(forwarder_conditional));
}

/* Whether every rule for name pins argument arg to value (and there is
 * at least one). */
static bool pinned(const struct seccomp_rule *rules, size_t n, const char *name,
                   unsigned arg, scmp_datum_t value)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(rules[i].name, name) != 0)
			continue;
		bool found = false;
		for (unsigned c = 0; c < rules[i].nconds; c++)
			found |= rules[i].conds[c].arg == arg &&
			         rules[i].conds[c].op == SCMP_CMP_EQ &&
			         rules[i].conds[c].a == value;
		if (!found)
			return false;
		any = true;
	}
	return any;
}

/* The calls that can carry a descriptor or an address, in the child, go
 * only to its socketpair; the helper signals only through the pidfd, only
 * SIGKILL, with no siginfo and no flags. The conntrack role's socketpair
 * and netlink calls go each to their own descriptor with the flags
 * src/ctrack.c uses and no address (recvfrom's flags, 0 or MSG_DONTWAIT,
 * are probed in the process); the forwarder's socketpair calls go to it
 * with its flags, and its sockets, socket options and writes are of one
 * kind each. */
static void policy_pins_descriptors(void **st)
{
	static const struct {
		const struct worker *w;
		const char *name;
		unsigned arg;
		scmp_datum_t value;
	} pins[] = {
		{ &netchild, "sendmsg", 0, SECCOMP_PARAM_SOCK },
		{ &netchild, "recvmsg", 0, SECCOMP_PARAM_SOCK },
		{ &netchild, "sendto", 4, 0 },
		{ &helper, "pidfd_send_signal", 0, SECCOMP_PARAM_PIDFD },
		{ &helper, "pidfd_send_signal", 1, SIGKILL },
		{ &helper, "pidfd_send_signal", 2, 0 },
		{ &helper, "pidfd_send_signal", 3, 0 },
		{ &ctrack, "recvmsg", 0, SECCOMP_PARAM_SOCK },
		{ &ctrack, "recvmsg", 2, MSG_CMSG_CLOEXEC },
		{ &ctrack, "sendmsg", 0, SECCOMP_PARAM_SOCK },
		{ &ctrack, "sendmsg", 2, MSG_NOSIGNAL },
		{ &ctrack, "sendto", 0, SECCOMP_PARAM_NL },
		{ &ctrack, "sendto", 3, 0 },
		{ &ctrack, "sendto", 4, 0 },
		{ &ctrack, "recvfrom", 0, SECCOMP_PARAM_NL },
		{ &ctrack, "recvfrom", 4, 0 },
		{ &forwarder, "recvmsg", 0, SECCOMP_PARAM_SOCK },
		{ &forwarder, "recvmsg", 2, MSG_CMSG_CLOEXEC | MSG_DONTWAIT },
		{ &forwarder, "sendmsg", 0, SECCOMP_PARAM_SOCK },
		{ &forwarder, "sendmsg", 2, MSG_NOSIGNAL },
		{ &forwarder, "socket", 1, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC },
		{ &forwarder, "socket", 2, 0 },
		{ &forwarder, "getsockopt", 1, SOL_SOCKET },
		{ &forwarder, "getsockopt", 2, SO_ERROR },
		{ &forwarder, "sendto", 3, MSG_NOSIGNAL | MSG_DONTWAIT },
		{ &forwarder, "sendto", 4, 0 },
	};
	(void)st;
	for (size_t i = 0; i < N(pins); i++) {
		const struct worker *w = pins[i].w;
		if (!pinned(w->rules, *w->count, pins[i].name, pins[i].arg, pins[i].value))
			fail_msg("%s.policy: not every %s rule pins arg%u", w->name,
			         pins[i].name, pins[i].arg);
	}
}

/* seccomp_apply of rules, in a forked process, must fail with want in its
 * message, and load no filter (were one loaded, the prctl would kill);
 * with failing_attr >= 0, that attribute cannot be set. */
static void expect_refused(const struct seccomp_rule *rules, size_t n,
                           const struct seccomp_params *p, int failing_attr,
                           const char *want)
{
	int status;
	char how[64];
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256] = "";
		fail_attr = failing_attr;
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		int r = seccomp_apply(rules, n, p, err, sizeof(err));
		_exit(r == -1 && strstr(err, want) &&
		      prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0 ? 0 : 1);
	}
	assert_int_equal(wait_ms(pid, WAIT_MS, &status), 0);
	describe(how, sizeof(how), status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("seccomp_apply did not fail with '%s' and no filter loaded (%s)",
		         want, how);
}

/* A rule that names a descriptor the caller did not give (or gave as 0-2,
 * which an unset field would be) is refused, not loaded as "fd 0". */
static void apply_refuses_a_missing_descriptor(void **st)
{
	static const struct seccomp_rule pin[] = {
		{ "sendmsg", 1, { { 0, SCMP_CMP_EQ, SECCOMP_PARAM_SOCK, 0 } } },
	};
	struct seccomp_params p = { .pidfd = 7 };
	(void)st;
	expect_refused(pin, 1, &p, -1, "sendmsg");
}

/* An attribute that cannot be set (the kill action for other
 * architectures, thread synchronisation) stops the load with a message:
 * no filter is loaded that lacks one. */
static void apply_stops_when_an_attribute_fails(void **st)
{
	static const struct seccomp_rule rules[] = { { "exit_group", 0, { { 0 } } } };
	struct seccomp_params p = { 0 };
	(void)st;
	expect_refused(rules, 1, &p, SCMP_FLTATR_ACT_BADARCH, "attribute");
	expect_refused(rules, 1, &p, SCMP_FLTATR_CTL_TSYNC, "attribute");
}

static void apply_refuses_unknown_name(void **st)
{
	static const struct seccomp_rule bad[] = { { "no_such_call", 0, { { 0 } } } };
	struct seccomp_params p = { 0 };
	(void)st;
	expect_refused(bad, 1, &p, -1, "no_such_call");
}

static void expect_clean(const struct worker *w)
{
	int progressed, st = run(w, NULL, false, NULL, &progressed);
	char how[64];

	describe(how, sizeof(how), st);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != X_OK_ALL || !progressed)
		fail_msg("%s: the allowed calls did not all work under the filter: %s",
		         w->name, how);
}

/* A worker and its forbidden calls: the state of the tests below. */
struct worker_probes {
	const struct worker *w;
	const struct forbidden *list;
	size_t n;
};

static const struct worker_probes by_worker[] = {
	{ &netchild, netchild_forbidden, N(netchild_forbidden) },
	{ &helper, helper_forbidden, N(helper_forbidden) },
	{ &ctrack, ctrack_forbidden, N(ctrack_forbidden) },
	{ &forwarder, forwarder_forbidden, N(forwarder_forbidden) },
};

static void allowed_calls_work(void **st)
{
	const struct worker_probes *wp = *st;
	expect_clean(wp->w);
}

/* Every probe in list that this build forbids must kill; in a sanitizer
 * build the ones the supplement allows are named and left out. Returns
 * how many were probed. */
static size_t probe_list(const struct worker *w, const struct forbidden *list,
                         size_t n)
{
	size_t probed = 0;

	for (size_t i = 0; i < n; i++) {
		if (sanitizer_build && list[i].sanitizer_allows) {
			printf("%s: not probing '%s': policy/sanitizer.policy allows it "
			       "in this build\n", w->name, list[i].what);
			continue;
		}
		expect_sigsys(w, list[i].what, list[i].fn);
		probed++;
	}
	return probed;
}

/* w's own list and every_forbidden. */
static void expect_all_sigsys(const struct worker *w, const struct forbidden *list,
                              size_t n)
{
	size_t own = probe_list(w, list, n);
	size_t probed = own + probe_list(w, every_forbidden, N(every_forbidden));

	printf("%s: %zu forbidden calls probed (%zu of its own), each ended the "
	       "process\n", w->name, probed, own);
	assert_true(own > 0);
}

static void forbidden_calls_kill(void **st)
{
	const struct worker_probes *wp = *st;
	expect_all_sigsys(wp->w, wp->list, wp->n);
}

/* A test of by_worker[i]. */
#define WORKER_TEST(i, what, fn) \
	{ #what, fn, NULL, NULL, (void *)&by_worker[i] }

/* The trap names the call in the sandboxed process's SIGSYS handler, from
 * the table built before the filter: no allocation there (libseccomp's
 * own lookup allocates, and a SIGSYS may come in the middle of malloc). */
static void expect_trap(const struct worker *w, call_fn f, int want_nr, const char *want_name)
{
	struct trap_note note;
	int progressed, st = run(w, f, true, &note, &progressed);
	char how[64];

	describe(how, sizeof(how), st);
	assert_true(progressed);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != EXIT_SECCOMP_TRAP)
		fail_msg("%s --debug-sandbox: %s, not exit status %d", w->name, how,
		         EXIT_SECCOMP_TRAP);
	assert_int_equal(note.nr, want_nr);
	assert_string_equal(note.name, want_name);
	if (note.allocations != 0)
		fail_msg("%s --debug-sandbox: naming %s in the SIGSYS handler allocated "
		         "%u times", w->name, want_name, note.allocations);
}

static void debug_mode_traps_and_names(void **st)
{
	(void)st;
	expect_trap(&netchild, f_socket_inet, SYS_socket, "socket");
	/* A read-only openat is let by in sanitizer builds; one for writing
	 * never is. */
	expect_trap(&netchild, sanitizer_build ? f_openat_wronly : f_openat_rdonly,
	            SYS_openat, "openat");
	expect_trap(&helper, f_mprotect_exec, SYS_mprotect, "mprotect");
	expect_trap(&helper, f_execve, SYS_execve, "execve");
	expect_trap(&netchild, f_sendmsg_socket, SYS_sendmsg, "sendmsg");
	expect_trap(&helper, f_kill_child, SYS_kill, "kill");
	expect_trap(&ctrack, f_socket_netlink, SYS_socket, "socket");
	expect_trap(&ctrack, f_setsockopt, SYS_setsockopt, "setsockopt");
	expect_trap(&forwarder, f_listen, SYS_listen, "listen");
	expect_trap(&forwarder, f_socket_unix_fwd, SYS_socket, "socket");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_names_resolve),
		cmocka_unit_test(policy_tables_as_read),
		cmocka_unit_test(policy_pins_descriptors),
		cmocka_unit_test(apply_refuses_unknown_name),
		cmocka_unit_test(apply_refuses_a_missing_descriptor),
		cmocka_unit_test(apply_stops_when_an_attribute_fails),
		WORKER_TEST(0, netchild_allowed_calls_work, allowed_calls_work),
		WORKER_TEST(1, helper_allowed_calls_work, allowed_calls_work),
		WORKER_TEST(2, ctrack_allowed_calls_work, allowed_calls_work),
		WORKER_TEST(3, forwarder_allowed_calls_work, allowed_calls_work),
		WORKER_TEST(0, netchild_forbidden_calls_kill, forbidden_calls_kill),
		WORKER_TEST(1, helper_forbidden_calls_kill, forbidden_calls_kill),
		WORKER_TEST(2, ctrack_forbidden_calls_kill, forbidden_calls_kill),
		WORKER_TEST(3, forwarder_forbidden_calls_kill, forbidden_calls_kill),
		cmocka_unit_test(debug_mode_traps_and_names),
	};
#ifdef PRIVIDENT_SANITIZE
	if (!__sanitizer_install_malloc_and_free_hooks(count_allocation, count_nothing)) {
		fprintf(stderr, "cannot count allocations\n");
		return 1;
	}
#endif
	return cmocka_run_group_tests(tests, NULL, NULL);
}
