/* Unit tests for src/userfile.c, a user's ~/.oidentd.conf for one query:
 * finding and opening it on real files in a scratch home (which of the two
 * places, links, FIFOs, directories, modes, owners, sizes), the decision
 * with a fake name service, and the exact log text for every outcome (what
 * administrators and the integration tests look for). Everything runs as
 * any user: the owner checks compare with the uid passed in, so another
 * owner is a uid other than getuid(), never a chown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "userfile.h"

/* A FIFO whose open blocked would hang the test: SIGALRM (default action:
 * terminate) ends it as a failure after this long instead. */
#define BLOCK_GUARD_S 10
/* Descriptors nftw may hold while removing the scratch home. */
#define NFTW_FDS 8

static char home[64];
static int homefd = -1;
static uint32_t me;
/* The file read, with the octet past the limit that userfile_read asks
 * for, and one more for a NUL in the tests' comparisons. */
static char buf[USERCONF_FILE_MAX + 2];
static struct userconf scratch;

static int setup(void **state)
{
	(void)state;
	strcpy(home, "/tmp/userfile_test.XXXXXX");
	if (mkdtemp(home) == NULL)
		return -1;
	homefd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	me = (uint32_t)getuid();
	return homefd < 0 ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st, (void)ftw;
	/* Make a 0200 file's or a 0000 directory's entry removable. */
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static int teardown(void **state)
{
	(void)state;
	close(homefd);
	homefd = -1;
	chmod(home, 0700);
	return nftw(home, rm_entry, NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* --- files ---------------------------------------------------------------- */

/* Creates name (relative to the home) holding len octets of text, with
 * exactly mode (whatever the umask). */
static void put(const char *name, const char *text, size_t len, mode_t mode)
{
	int fd = openat(homefd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void put_text(const char *name, const char *text)
{
	put(name, text, strlen(text), 0600);
}

static void mkdir_home(const char *name)
{
	assert_int_equal(mkdirat(homefd, name, 0700), 0);
}

/* userfile_open and userfile_read as userfile_lookup runs them. Returns
 * the length read, or -1 with r saying why. */
static long open_read(uint32_t uid, struct userfile_result *r)
{
	int fd = userfile_open(homefd, uid, r);

	if (fd < 0)
		return -1;
	long n = userfile_read(fd, uid, buf, sizeof buf, r);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void expect_read(const char *file, const char *text)
{
	struct userfile_result r;

	assert_int_equal(open_read(me, &r), (long)strlen(text));
	assert_string_equal(r.file, file);
	assert_string_equal(buf, text);
}

static void expect_refused(uint32_t uid, const char *file, const char *why,
                           int err)
{
	struct userfile_result r;

	assert_int_equal(open_read(uid, &r), -1);
	assert_int_equal(r.status, UF_REFUSED);
	assert_string_equal(r.file, file);
	assert_string_equal(r.why, why);
	assert_int_equal(r.err, err);
}

static void test_none(void **state)
{
	struct userfile_result r;

	(void)state;
	assert_int_equal(userfile_open(homefd, me, &r), -1);
	assert_int_equal(r.status, UF_NONE);
	/* An empty ~/.config does not count either. */
	mkdir_home(USERFILE_XDG_DIR);
	assert_int_equal(userfile_open(homefd, me, &r), -1);
	assert_int_equal(r.status, UF_NONE);
	/* Nor does a dangling link in place of ~/.config. */
	assert_int_equal(unlinkat(homefd, USERFILE_XDG_DIR, AT_REMOVEDIR), 0);
	assert_int_equal(symlinkat("/nonexistent/dir", homefd, USERFILE_XDG_DIR), 0);
	assert_int_equal(userfile_open(homefd, me, &r), -1);
	assert_int_equal(r.status, UF_NONE);
}

static void test_which_file(void **state)
{
	(void)state;
	put_text(USERFILE_HOME, "home");
	expect_read(USERFILE_HOME, "home");
	/* ~/.config without the file: still the home's. */
	mkdir_home(USERFILE_XDG_DIR);
	expect_read(USERFILE_HOME, "home");
	/* Both: only ~/.config's (oidentd's order), even empty. */
	put_text(USERFILE_XDG, "");
	expect_read(USERFILE_XDG, "");
	assert_int_equal(unlinkat(homefd, USERFILE_XDG, 0), 0);
	put_text(USERFILE_XDG, "xdg");
	expect_read(USERFILE_XDG, "xdg");
	/* ~/.config alone. */
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	expect_read(USERFILE_XDG, "xdg");
}

/* ~/.config as a plain file (ENOTDIR for .config/oidentd.conf): the
 * home's file is read. */
static void test_config_not_a_directory(void **state)
{
	(void)state;
	put_text(USERFILE_XDG_DIR, "not a directory");
	put_text(USERFILE_HOME, "home");
	expect_read(USERFILE_HOME, "home");
}

/* ~/.config may be a link to a directory of the user's, like the home. */
static void test_config_link(void **state)
{
	(void)state;
	mkdir_home("elsewhere");
	put_text("elsewhere/" USERFILE_XDG_NAME, "linked");
	assert_int_equal(symlinkat("elsewhere", homefd, USERFILE_XDG_DIR), 0);
	put_text(USERFILE_HOME, "home");
	expect_read(USERFILE_XDG, "linked");
}

/* ~/.config of another owner: refused, not passed over for the home's
 * file (whoever owns it chose what the user's reply is). The owner is
 * compared with the uid passed in, so any other uid stands for "not the
 * user's"; errno from before must not leak into the result. */
static void test_config_other_owner(void **state)
{
	struct userfile_result r;
	char line[256];

	(void)state;
	mkdir_home(USERFILE_XDG_DIR);
	put_text(USERFILE_XDG, "xdg");
	put_text(USERFILE_HOME, "home");
	errno = ENOENT;
	assert_int_equal(userfile_open(homefd, me + 1, &r), -1);
	assert_int_equal(r.status, UF_REFUSED);
	assert_string_equal(r.file, USERFILE_XDG);
	assert_string_equal(r.why, "is in a directory that is not the user's");
	assert_int_equal(r.err, 0);
	userfile_describe(&r, line, sizeof line);
	assert_string_equal(line, "~/.config/oidentd.conf ignored: it is in a "
	                    "directory that is not the user's");
}

static void test_links(void **state)
{
	(void)state;
	put_text("target", "target");
	assert_int_equal(symlinkat("target", homefd, USERFILE_HOME), 0);
	expect_refused(me, USERFILE_HOME, "is a symbolic link", 0);
	/* Dangling: refused the same way, not taken for "no file". */
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	assert_int_equal(symlinkat("nonexistent", homefd, USERFILE_HOME), 0);
	expect_refused(me, USERFILE_HOME, "is a symbolic link", 0);
	/* In ~/.config: refused there, not passed over for the home's. */
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	put_text(USERFILE_HOME, "home");
	mkdir_home(USERFILE_XDG_DIR);
	assert_int_equal(symlinkat("../target", homefd, USERFILE_XDG), 0);
	expect_refused(me, USERFILE_XDG, "is a symbolic link", 0);
}

/* A FIFO is opened without blocking (nobody writes to it) and refused;
 * if the open blocked, SIGALRM ends the test as a failure. */
static void test_fifo(void **state)
{
	(void)state;
	assert_int_equal(mkfifoat(homefd, USERFILE_HOME, 0600), 0);
	alarm(BLOCK_GUARD_S);
	expect_refused(me, USERFILE_HOME, "is not a regular file", 0);
	alarm(0);
}

static void test_directory(void **state)
{
	(void)state;
	mkdir_home(USERFILE_HOME);
	expect_refused(me, USERFILE_HOME, "is not a regular file", 0);
	mkdir_home(USERFILE_XDG_DIR);
	mkdir_home(USERFILE_XDG);
	expect_refused(me, USERFILE_XDG, "is not a regular file", 0);
}

static void test_modes(void **state)
{
	static const mode_t writable[] = { 0664, 0646, 0620, 0602, 0666, 0622 };
	static const mode_t fine[] = { 0600, 0400, 0644, 0444, 0640, 0700, 0755 };

	(void)state;
	put_text(USERFILE_HOME, "x");
	for (size_t i = 0; i < sizeof writable / sizeof writable[0]; i++) {
		assert_int_equal(fchmodat(homefd, USERFILE_HOME, writable[i], 0), 0);
		expect_refused(me, USERFILE_HOME, "is writable by group or others", 0);
	}
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		assert_int_equal(fchmodat(homefd, USERFILE_HOME, fine[i], 0), 0);
		expect_read(USERFILE_HOME, "x");
	}
}

/* userfile_read on a descriptor the test opened: the checks are on the
 * opened inode, so this covers what an unprivileged test cannot open
 * (a 0200 file) and owners it cannot give (another uid). */
static void expect_fd_refused(int fd, uint32_t uid, const char *why)
{
	struct userfile_result r;

	memset(&r, 0, sizeof r);
	assert_int_equal(userfile_read(fd, uid, buf, sizeof buf, &r), -1);
	assert_int_equal(r.status, UF_REFUSED);
	assert_string_equal(r.why, why);
	assert_int_equal(r.err, 0);
}

static void test_unreadable_and_owner(void **state)
{
	struct userfile_result r;

	(void)state;
	put_text(USERFILE_HOME, "x");
	int fd = openat(homefd, USERFILE_HOME, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0200), 0);
	expect_fd_refused(fd, me, "is not readable by its owner");
	assert_int_equal(fchmod(fd, 0000), 0);
	expect_fd_refused(fd, me, "is not readable by its owner");
	assert_int_equal(fchmod(fd, 0600), 0);
	expect_fd_refused(fd, me + 1, "is not owned by the user");
	expect_fd_refused(fd, me - 1, "is not owned by the user");
	/* And the first check that fails is the one reported. */
	assert_int_equal(fchmod(fd, 0662), 0);
	expect_fd_refused(fd, me + 1, "is not owned by the user");
	assert_int_equal(fchmod(fd, 0600), 0);
	memset(&r, 0, sizeof r);
	assert_int_equal(userfile_read(fd, me, buf, sizeof buf, &r), 1);
	close(fd);
	/* Through userfile_open too: found, then refused. */
	expect_refused(me + 1, USERFILE_HOME, "is not owned by the user", 0);
}

static void test_size(void **state)
{
	static char big[USERCONF_FILE_MAX + 1];
	char why[64];
	struct userfile_result r;

	(void)state;
	memset(big, '#', sizeof big);
	put(USERFILE_HOME, big, USERCONF_FILE_MAX, 0600);
	assert_int_equal(open_read(me, &r), USERCONF_FILE_MAX);
	assert_memory_equal(buf, big, USERCONF_FILE_MAX);
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	put(USERFILE_HOME, big, USERCONF_FILE_MAX + 1, 0600);
	/* The number written out, as the manual and the logs say it. */
	snprintf(why, sizeof why, "is longer than %d bytes", USERCONF_FILE_MAX);
	expect_refused(me, USERFILE_HOME, why, 0);
	assert_string_equal(why, "is longer than 65536 bytes");
	/* A buffer without room for the octet past the limit: refused. */
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	put_text(USERFILE_HOME, "x");
	int fd = userfile_open(homefd, me, &r);
	assert_true(fd >= 0);
	assert_int_equal(userfile_read(fd, me, buf, USERCONF_FILE_MAX, &r), -1);
	assert_string_equal(r.why, "cannot be read");
	assert_int_equal(r.err, EINVAL);
	assert_int_equal(userfile_read(fd, me, buf, USERCONF_FILE_MAX + 1, &r), 1);
	close(fd);
}

/* A regular file whose size says less than it holds (a file that grew
 * after fstat): /proc/kallsyms stats as 0 octets and reads as megabytes.
 * The bounded read stops one octet past the limit and refuses it. */
static void test_grows(void **state)
{
	struct userfile_result r;
	struct stat st;
	char why[64];

	(void)state;
	int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 0);
	memset(&r, 0, sizeof r);
	assert_int_equal(userfile_read(fd, (uint32_t)st.st_uid, buf, sizeof buf, &r), -1);
	snprintf(why, sizeof why, "is longer than %d bytes", USERCONF_FILE_MAX);
	assert_string_equal(r.why, why);
	close(fd);
}

/* --- the decision --------------------------------------------------------- */

struct fake {
	bool may;              /* may_choose's answer */
	int other;             /* other_account's answer */
	uint32_t other_uid;    /* ... with 1 */
	int may_calls, other_calls;
	char asked[USERCONF_REPLY_MAX + 1]; /* the name other_account got */
	uint32_t asked_uid;
};

static bool fake_may(void *ctx)
{
	struct fake *f = ctx;

	f->may_calls++;
	return f->may;
}

static int fake_other(void *ctx, const char *name, uint32_t uid, uint32_t *other)
{
	struct fake *f = ctx;

	f->other_calls++;
	snprintf(f->asked, sizeof f->asked, "%s", name);
	f->asked_uid = uid;
	if (f->other > 0)
		*other = f->other_uid;
	return f->other;
}

#define UID 1000

static struct fake fk;
static struct userfile_env env;

static void fake_reset(void)
{
	memset(&fk, 0, sizeof fk);
	fk.may = true;
	env = (struct userfile_env){ fake_may, fake_other, &fk, false, 0 };
}

static struct userconf_conn conn(const char *local, uint16_t lport,
                                 const char *remote, uint16_t rport)
{
	struct userconf_conn k;

	memset(&k, 0, sizeof k);
	k.family = strchr(local, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(k.family, local, k.local), 1);
	assert_int_equal(inet_pton(k.family, remote, k.remote), 1);
	k.local_port = lport;
	k.remote_port = rport;
	return k;
}

/* The decision on text for the connection 10.0.0.1:40000 to
 * 192.0.2.7:6697, from the whole parse; the same from the parse for the
 * connection alone (what the helper runs), and from userfile_lookup on a
 * real file. */
static struct userfile_result decide(const char *text)
{
	static struct userconf full, one;
	struct userconf_conn k = conn("10.0.0.1", 40000, "192.0.2.7", 6697);
	struct userfile_result r, r1, r2;
	struct fake before = fk;

	(void)userconf_parse(text, strlen(text), &full);
	memset(&r, 0, sizeof r);
	r.file = USERFILE_HOME;
	userfile_decide(&full, &k, UID, &env, &r);

	fk = before;
	(void)userconf_parse_for(text, strlen(text), &k, &one);
	memset(&r1, 0, sizeof r1);
	r1.file = USERFILE_HOME;
	userfile_decide(&one, &k, UID, &env, &r1);
	assert_memory_equal(&r, &r1, sizeof r);

	/* The lookup checks the owner against the uid: the test's own. */
	fk = before;
	put_text(USERFILE_HOME, text);
	userfile_lookup(homefd, me, &k, &env, buf, sizeof buf, &scratch, &r2);
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	assert_int_equal(r2.status, r.status);
	assert_int_equal(r2.choice, r.choice);
	assert_string_equal(r2.reply, r.reply);
	assert_int_equal(r2.line, r.line);
	assert_int_equal(r2.nignored, r.nignored);
	assert_ptr_equal(r2.why, r.why);
	return r;
}

static void test_decide_no_rule(void **state)
{
	(void)state;
	fake_reset();
	struct userfile_result r = decide("");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(r.nignored, 0);
	/* Rules for other connections only. */
	r = decide("lport 1 { hide }\nto 192.0.2.8 { reply \"x\" }\n");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(fk.may_calls + fk.other_calls, 0);
}

static void test_decide_hide(void **state)
{
	(void)state;
	fake_reset();
	fk.may = false;  /* hiding needs no permission */
	struct userfile_result r = decide("global { reply \"x\" }\n"
	                                  "to 192.0.2.7 fport 6697 { hide }\n");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_HIDE);
	assert_int_equal(r.line, 2);
	assert_int_equal(fk.other_calls, 0);
}

static void test_decide_reply(void **state)
{
	(void)state;
	fake_reset();
	struct userfile_result r = decide("# The Lounge\n"
	        "to 192.0.2.7 fport 6697 from 10.0.0.1 lport 40001 { reply \"bob\" }\n"
	        "to 192.0.2.7 fport 6697 from 10.0.0.1 lport 40000 { reply \"alice\" }\n"
	        "to 192.0.2.7 fport 6697 from 10.0.0.2 lport 40000 { reply \"carol\" }\n");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_REPLY);
	assert_string_equal(r.reply, "alice");
	assert_int_equal(r.line, 3);
	assert_int_equal(fk.other_calls, 1);
	assert_string_equal(fk.asked, "alice");
	assert_int_equal(fk.asked_uid, me);   /* the last run: the lookup's */
}

/* A forward to the user's own server: loopback, port >= 1024, and only
 * for an account that may choose its reply; the name service is not
 * asked here (the helper checks the listener, then the answer). */
static void test_decide_forward(void **state)
{
	char line[256];

	(void)state;
	fake_reset();
	struct userfile_result r = decide("global { forward 127.0.0.1 8113 }");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_FORWARD);
	assert_int_equal(r.fwd_family, AF_INET);
	assert_int_equal(r.fwd_addr[0], 127);
	assert_int_equal(r.fwd_port, 8113);
	assert_int_equal(fk.other_calls, 0);
	r = decide("global { forward ::1 1024 }");
	assert_int_equal(r.choice, CHOICE_FORWARD);
	r = decide("global { forward ::ffff:127.0.0.2 65535 }");
	assert_int_equal(r.choice, CHOICE_FORWARD);
	static const char *const bad[] = {
		"global { forward 127.0.0.1 1023 }", "global { forward 10.0.0.1 8113 }",
		"global { forward ::2 8113 }", "global { forward ::ffff:10.0.0.1 8113 }",
		"global { forward 0.0.0.0 8113 }",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = decide(bad[i]);
		assert_int_equal(r.status, UF_BAD_FORWARD);
		assert_int_equal(r.choice, CHOICE_NONE);
	}
	userfile_describe(&r, line, sizeof line);
	assert_string_equal(line, "~/.oidentd.conf line 1: forward refused: only to "
	                    "this host's loopback, at a port from 1024");
	fk.may = false;
	r = decide("global { forward 127.0.0.1 8113 }");
	assert_int_equal(r.status, UF_NOT_ALLOWED);
	assert_int_equal(r.choice, CHOICE_NONE);
	userfile_describe(&r, line, sizeof line);
	assert_string_equal(line, "~/.oidentd.conf line 1: forward not used: the "
	                    "account is not in user-replies");
	assert_true(userfile_forward_ok(AF_INET, (const uint8_t *)"\x7f\0\0\x01", 1024));
	assert_false(userfile_forward_ok(AF_INET, (const uint8_t *)"\x7f\0\0\x01", 1023));
}

static void test_decide_not_allowed(void **state)
{
	(void)state;
	fake_reset();
	fk.may = false;
	struct userfile_result r = decide("global { reply \"alice\" }");
	assert_int_equal(r.status, UF_NOT_ALLOWED);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_string_equal(r.reply, "alice");
	assert_int_equal(r.line, 1);
	assert_int_equal(fk.other_calls, 0);
}

static void test_decide_bad_reply(void **state)
{
	static const char *const bad[] = {
		"global { reply \"a b\" }", "global { reply \"a\\\"b\" }",
		"global { reply \"root:0\" }", "global { reply \"caf\xc3\xa9\" }",
		"global { reply \"a\x1b[2Jb\" }", "global { reply \"a\rb\" }",
		"global { reply \"abcdefghijklmnopqrstuvwxyz0123456\" }",
		"global { reply \"\" }",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fake_reset();
		struct userfile_result r = decide(bad[i]);
		assert_int_equal(r.status, UF_BAD_REPLY);
		assert_int_equal(r.choice, CHOICE_NONE);
		assert_int_equal(fk.other_calls, 0);
	}
}

static void test_decide_other_account(void **state)
{
	(void)state;
	fake_reset();
	fk.other = 1;
	fk.other_uid = 0;
	struct userfile_result r = decide("global { reply \"root\" }");
	assert_int_equal(r.status, UF_OTHER_NAME);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(r.other_uid, 0);
	assert_string_equal(r.reply, "root");
	fk.other_uid = 1001;
	r = decide("global { reply \"Bob\" }");
	assert_int_equal(r.status, UF_OTHER_NAME);
	assert_int_equal(r.other_uid, 1001);

	fake_reset();
	fk.other = -1;
	r = decide("global { reply \"root\" }");
	assert_int_equal(r.status, UF_NAME_UNKNOWN);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_string_equal(r.reply, "root");

	/* user-reply-any-name: the name service is not asked at all. */
	fake_reset();
	fk.other = 1;
	env.any_name = true;
	r = decide("global { reply \"root\" }");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_REPLY);
	assert_string_equal(r.reply, "root");
	assert_int_equal(fk.other_calls, 0);
	/* ... but still whether the account may choose, and the name's form. */
	fk.may = false;
	assert_int_equal(decide("global { reply \"root\" }").status, UF_NOT_ALLOWED);
	fk.may = true;
	assert_int_equal(decide("global { reply \"a b\" }").status, UF_BAD_REPLY);
}

static void test_decide_pick(void **state)
{
	static const char text[] = "global { reply \"r0\" \"r1\" \"r2\" }";
	char want[8];

	(void)state;
	fake_reset();
	for (uint32_t pick = 0; pick < 7; pick++) {
		env.pick = pick;
		struct userfile_result r = decide(text);
		assert_int_equal(r.choice, CHOICE_REPLY);
		snprintf(want, sizeof want, "r%u", pick % 3);
		assert_string_equal(r.reply, want);
	}
	env.pick = UINT32_MAX;   /* 4294967295 % 3 == 0 */
	assert_string_equal(decide(text).reply, "r0");
	/* The pick is checked, not the others: a bad one among good ones. */
	env.pick = 1;
	assert_int_equal(decide("global { reply a \"b c\" d }").status, UF_BAD_REPLY);
	env.pick = 2;
	assert_int_equal(decide("global { reply a \"b c\" d }").status, UF_APPLIED);
}

static void test_decide_invalid(void **state)
{
	(void)state;
	fake_reset();
	struct userfile_result r = decide("global { reply \"a\" }\n"
	                                  "lport 1 { hide\n");
	assert_int_equal(r.status, UF_INVALID);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(r.line, 2);
	assert_string_equal(r.why, "block not closed");
	assert_int_equal(fk.may_calls + fk.other_calls, 0);
}

static void test_decide_unsupported(void **state)
{
	(void)state;
	fake_reset();
	struct userfile_result r = decide("global { reply \"a\" }\n"
	                                  "\n"
	                                  "lport 40000 { random }\n");
	assert_int_equal(r.status, UF_UNSUPPORTED);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(r.line, 3);
	assert_string_equal(r.why, "a statement other than reply, hide or forward");
	assert_int_equal(r.nignored, 1);
	assert_int_equal(r.ignored_line, 3);
	assert_int_equal(fk.may_calls + fk.other_calls, 0);
	r = decide("to irc.example.net { reply \"b\" }");
	assert_int_equal(r.status, UF_UNSUPPORTED);
	assert_string_equal(r.why, "host name (would need a DNS lookup)");
}

static void test_decide_ignored(void **state)
{
	(void)state;
	fake_reset();
	/* Ignored items elsewhere do not stop a reply; they are counted. */
	struct userfile_result r = decide("frob { }\n"
	                                  "lport 1 { random }\n"
	                                  "global { reply \"alice\" }\n");
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_REPLY);
	assert_int_equal(r.nignored, 2);
	assert_int_equal(r.ignored_line, 1);
	assert_string_equal(r.ignored_why, "unknown directive");
	/* More than are listed: all counted, the first still named. */
	char text[512] = "";
	for (int i = 0; i < USERCONF_IGNORED_MAX + 4; i++)
		strcat(text, "x{}\n");
	strcat(text, "global { hide }");
	r = decide(text);
	assert_int_equal(r.choice, CHOICE_HIDE);
	assert_int_equal(r.nignored, USERCONF_IGNORED_MAX + 4);
	assert_int_equal(r.ignored_line, 1);
}

/* What a file says for one connection of a big Lounge file, read from a
 * real file: the rule is found past USERCONF_RULES_MAX rules. */
static void test_lookup_big_file(void **state)
{
	static char text[USERCONF_FILE_MAX];
	struct userconf_conn k = conn("10.0.0.1", 40000 + 400, "192.0.2.7", 6697);
	struct userfile_result r;
	size_t n = 0;

	(void)state;
	fake_reset();
	n += (size_t)snprintf(text + n, sizeof text - n, "# The Lounge\n");
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		                      "to 192.0.2.7 fport 6697 from 10.0.0.1 lport %d"
		                      " { reply \"user%d\" }\n", 40000 + i, i);
	assert_true(n < sizeof text - 1);
	put_text(USERFILE_HOME, text);
	userfile_lookup(homefd, me, &k, &env, buf, sizeof buf, &scratch, &r);
	assert_int_equal(r.status, UF_APPLIED);
	assert_int_equal(r.choice, CHOICE_REPLY);
	assert_string_equal(r.reply, "user400");
	assert_int_equal(r.line, 402);
	/* No file: nothing, and nothing asked. */
	assert_int_equal(unlinkat(homefd, USERFILE_HOME, 0), 0);
	fk.other_calls = 0;
	userfile_lookup(homefd, me, &k, &env, buf, sizeof buf, &scratch, &r);
	assert_int_equal(r.status, UF_NONE);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(fk.other_calls, 0);
	/* A refused file: the refusal, nothing parsed. */
	put_text(USERFILE_HOME, text);
	assert_int_equal(fchmodat(homefd, USERFILE_HOME, 0620, 0), 0);
	userfile_lookup(homefd, me, &k, &env, buf, sizeof buf, &scratch, &r);
	assert_int_equal(r.status, UF_REFUSED);
	assert_int_equal(r.choice, CHOICE_NONE);
	assert_int_equal(fk.other_calls, 0);
}

/* --- the log text ----------------------------------------------------------- */

static struct userfile_result result(enum userfile_status s)
{
	struct userfile_result r;

	memset(&r, 0, sizeof r);
	r.status = s;
	r.file = USERFILE_HOME;
	r.line = 2;
	return r;
}

static void expect_text(const struct userfile_result *r, const char *want)
{
	char line[512];

	memset(line, 'Z', sizeof line);
	userfile_describe(r, line, sizeof line);
	assert_string_equal(line, want);
}

static void test_describe(void **state)
{
	char want[256];

	(void)state;
	struct userfile_result r = result(UF_NONE);
	expect_text(&r, "");
	r = result(UF_APPLIED);
	r.choice = CHOICE_REPLY;
	strcpy(r.reply, "alice");
	expect_text(&r, "");
	r.nignored = 1;
	r.ignored_line = 3;
	r.ignored_why = "unknown directive";
	expect_text(&r, "~/.oidentd.conf: 1 item ignored, the first at line 3: "
	            "unknown directive");
	r.nignored = 17;
	r.file = USERFILE_XDG;
	expect_text(&r, "~/.config/oidentd.conf: 17 items ignored, the first at "
	            "line 3: unknown directive");
	r.ignored_why = NULL;
	expect_text(&r, "~/.config/oidentd.conf: 17 items ignored, the first at "
	            "line 3: ?");

	r = result(UF_REFUSED);
	r.why = "is a symbolic link";
	expect_text(&r, "~/.oidentd.conf ignored: it is a symbolic link");
	r.why = "cannot be opened";
	r.err = EACCES;
	snprintf(want, sizeof want, "~/.oidentd.conf ignored: it cannot be "
	         "opened: %s", strerror(EACCES));
	expect_text(&r, want);

	r = result(UF_INVALID);
	r.why = "block not closed";
	expect_text(&r, "~/.oidentd.conf ignored: line 2: block not closed");

	r = result(UF_UNSUPPORTED);
	r.why = "a statement other than reply, hide or forward";
	expect_text(&r, "~/.oidentd.conf line 2 not followed: a statement other "
	            "than reply, hide or forward");
	r.nignored = 2;
	r.ignored_line = 2;
	r.ignored_why = "a statement other than reply, hide or forward";
	expect_text(&r, "~/.oidentd.conf line 2 not followed: a statement other "
	            "than reply, hide or forward; 2 items ignored, the first at line 2: "
	            "a statement other than reply, hide or forward");

	r = result(UF_NOT_ALLOWED);
	strcpy(r.reply, "bob");
	expect_text(&r, "~/.oidentd.conf line 2: reply \"bob\" not used: the "
	            "account is not in user-replies");
	r = result(UF_BAD_REPLY);
	strcpy(r.reply, "a b");
	expect_text(&r, "~/.oidentd.conf line 2: reply not used: not 1 to 32 of "
	            "A-Z a-z 0-9 . _ -");
	r = result(UF_OTHER_NAME);
	strcpy(r.reply, "root");
	expect_text(&r, "~/.oidentd.conf line 2: reply \"root\" refused: it is the "
	            "login name of uid 0");
	r.other_uid = 4294967294u;
	expect_text(&r, "~/.oidentd.conf line 2: reply \"root\" refused: it is the "
	            "login name of uid 4294967294");
	r = result(UF_NAME_UNKNOWN);
	strcpy(r.reply, "x");
	r.nignored = 1;
	r.ignored_line = 1;
	r.ignored_why = "unknown directive";
	expect_text(&r, "~/.oidentd.conf line 2: reply \"x\" refused: the name "
	            "service cannot tell whether it is another account's login "
	            "name; 1 item ignored, the first at line 1: unknown directive");
}

/* The longest line, into buffers of every size down to 1: cut, always
 * NUL-terminated, nothing written past the size. */
static void test_describe_cut(void **state)
{
	char full[512], small[512];
	struct userfile_result r = result(UF_NAME_UNKNOWN);

	(void)state;
	r.file = USERFILE_XDG;
	r.line = 4294967295u;
	memset(r.reply, 'x', USERCONF_REPLY_MAX);
	r.reply[USERCONF_REPLY_MAX] = '\0';
	r.nignored = SIZE_MAX;
	r.ignored_line = 4294967295u;
	r.ignored_why = "default block (oidentd takes it only in the system-wide file)";
	userfile_describe(&r, full, sizeof full);
	assert_true(strlen(full) > 200);
	for (size_t size = 1; size < sizeof small; size++) {
		memset(small, 'Z', sizeof small);
		userfile_describe(&r, small, size);
		size_t n = strlen(small);
		assert_true(n < size);
		assert_true(n == strlen(full) || n == size - 1);
		assert_memory_equal(small, full, n);
		for (size_t i = size; i < sizeof small; i++)
			assert_int_equal(small[i], 'Z');
	}
	/* The empty answers too. */
	r = result(UF_NONE);
	memset(small, 'Z', sizeof small);
	userfile_describe(&r, small, 1);
	assert_int_equal(small[0], '\0');
	assert_int_equal(small[1], 'Z');
}

/* Whatever the file holds, the log line holds only printable ASCII: the
 * user writes the file, the administrator reads the log (in a terminal).
 * A reply that is not used, for any reason, must not carry its bytes
 * there unchecked. */
static void test_describe_printable(void **state)
{
	static const char *const files[] = {
		"global { reply \"a\x1b[2Jb\" }", "global { reply \"a\rb\" }",
		"global { reply \"\x7f\x01\x02\" }", "global { reply \"\xff\xfe\" }",
	};
	char line[512];

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		for (int may = 0; may <= 1; may++) {
			fake_reset();
			fk.may = may;
			struct userfile_result r = decide(files[i]);
			assert_int_equal(r.choice, CHOICE_NONE);
			userfile_describe(&r, line, sizeof line);
			assert_true(line[0] != '\0');
			for (const char *p = line; *p != '\0'; p++)
				if (*p < 0x20 || *p > 0x7e)
					fail_msg("file %zu, may %d: octet 0x%02x in \"%s\"",
					         i, may, (unsigned char)*p, line);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_none),
		T(test_which_file),
		T(test_config_not_a_directory),
		T(test_config_link),
		T(test_config_other_owner),
		T(test_links),
		T(test_fifo),
		T(test_directory),
		T(test_modes),
		T(test_unreadable_and_owner),
		T(test_size),
		T(test_grows),
		T(test_decide_no_rule),
		T(test_decide_hide),
		T(test_decide_reply),
		T(test_decide_not_allowed),
		T(test_decide_forward),
		T(test_decide_bad_reply),
		T(test_decide_other_account),
		T(test_decide_pick),
		T(test_decide_invalid),
		T(test_decide_unsupported),
		T(test_decide_ignored),
		T(test_lookup_big_file),
		T(test_describe),
		T(test_describe_cut),
		T(test_describe_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
