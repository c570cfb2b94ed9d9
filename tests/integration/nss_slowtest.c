/* A name-service module for the tests only (libnss_slowtest.so.2): a
 * backend that hangs for one uid, as sssd, LDAP or an NFS-backed passwd do
 * when they are down. getpwuid_r for the SLOWTEST_UIDS uids from
 * SLOWTEST_UID blocks while the file
 * named by $PRIVIDENT_SLOWTEST_GATE exists (at most SLOWTEST_MAX_MS), then
 * says NOTFOUND. getpwuid_r for SLOWTEST_FORBIDDEN_UID makes a system call
 * the helper's filter forbids (getppid), as a module that an update
 * changed might. Every other lookup is NOTFOUND at once. Loaded by the
 * daemon through an nsswitch.conf "passwd: files slowtest" that the test
 * mounts over /etc/nsswitch.conf in a private mount namespace, with
 * LD_LIBRARY_PATH pointing here. It sleeps with poll() and looks at the
 * gate with stat(): both are on the lookup helper's allowlist, as
 * anything a module does inside the sandbox must be. */
#include <errno.h>
#include <nss.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* uids no test machine has an account for: as many as the helper has
 * resolver threads, to hang them all. */
#define SLOWTEST_UID 4242
#define SLOWTEST_UIDS 4
#define SLOWTEST_FORBIDDEN_UID 4250
/* The longest hang, so that a test that dies leaves no helper thread
 * blocked for ever. */
#define SLOWTEST_MAX_MS 60000
/* How often the gate is looked at. */
#define SLOWTEST_STEP_MS 50

enum nss_status _nss_slowtest_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                         size_t size, int *errnop);
enum nss_status _nss_slowtest_getpwnam_r(const char *name, struct passwd *pw,
                                         char *buf, size_t size, int *errnop);

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hang(void)
{
	const char *gate = getenv("PRIVIDENT_SLOWTEST_GATE");
	long long end = now_ms() + SLOWTEST_MAX_MS;
	struct stat st;

	while (gate != NULL && stat(gate, &st) == 0 && now_ms() < end)
		poll(NULL, 0, SLOWTEST_STEP_MS);
}

enum nss_status _nss_slowtest_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
                                         size_t size, int *errnop)
{
	(void)pw;
	(void)buf;
	(void)size;
	if (uid >= SLOWTEST_UID && uid < SLOWTEST_UID + SLOWTEST_UIDS)
		hang();
	if (uid == SLOWTEST_FORBIDDEN_UID)
		(void)syscall(SYS_getppid);
	*errnop = ENOENT;
	return NSS_STATUS_NOTFOUND;
}

enum nss_status _nss_slowtest_getpwnam_r(const char *name, struct passwd *pw,
                                         char *buf, size_t size, int *errnop)
{
	(void)name;
	(void)pw;
	(void)buf;
	(void)size;
	*errnop = ENOENT;
	return NSS_STATUS_NOTFOUND;
}
