/* The token key file: the checks (pure), and loading and creating real
 * files in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"

static char dir[] = "/tmp/privident-keyfile-test.XXXXXX";
static char path[sizeof(dir) + 32];
static char err[512];

static int setup(void **st)
{
	(void)st;
	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/token.key", dir);
	return 0;
}

static int teardown(void **st)
{
	char cmd[sizeof(dir) + 16];
	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *p, const void *data, size_t n, mode_t mode)
{
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Refused with one line that names the file and contains why. */
static void refused(const char *p, const char *why)
{
	char prefix[sizeof(path) + 4];

	err[0] = '\0';
	assert_null(keyfile_load(p, err, sizeof(err)));
	snprintf(prefix, sizeof(prefix), "%s: ", p);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, why) == NULL)
		fail_msg("message '%s' should start '%s' and say '%s'", err, prefix, why);
	assert_null(strchr(err, '\n'));
}

static struct stat st_of(mode_t mode, uid_t uid, off_t size)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_uid = uid;
	st.st_size = size;
	return st;
}

static void refusal_rules(void **st)
{
	(void)st;
	char why[160];
	struct stat s;

	s = st_of(S_IFREG | 0600, 0, 32);
	assert_null(keyfile_refusal(&s, 0, why, sizeof(why)));
	s = st_of(S_IFREG | 0400, 1000, 32);  /* the loading user's own */
	assert_null(keyfile_refusal(&s, 1000, why, sizeof(why)));
	s = st_of(S_IFREG | 0600, 1000, 32);
	assert_non_null(keyfile_refusal(&s, 0, why, sizeof(why)));
	assert_non_null(strstr(why, "owned by uid 1000"));
	const mode_t others[] = {0640, 0604, 0620, 0602, 0610, 0601, 0660};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		s = st_of(S_IFREG | others[i], 0, 32);
		assert_non_null(keyfile_refusal(&s, 0, why, sizeof(why)));
		assert_non_null(strstr(why, "group or others"));
	}
	s = st_of(S_IFDIR | 0700, 0, 32);
	assert_non_null(keyfile_refusal(&s, 0, why, sizeof(why)));
	s = st_of(S_IFLNK | 0600, 0, 32);
	assert_non_null(keyfile_refusal(&s, 0, why, sizeof(why)));
	s = st_of(S_IFREG | 0600, 0, 0);
	assert_non_null(strstr(keyfile_refusal(&s, 0, why, sizeof(why)), "empty"));
	s = st_of(S_IFREG | 0600, 0, 31);
	assert_non_null(strstr(keyfile_refusal(&s, 0, why, sizeof(why)), "31 bytes"));
	s = st_of(S_IFREG | 0600, 0, 33);
	assert_non_null(strstr(keyfile_refusal(&s, 0, why, sizeof(why)), "33 bytes"));
}

static void create_and_load(void **st)
{
	(void)st;
	uint8_t first[TOKEN_KEY_BYTES];
	struct stat s;
	uint8_t *key;

	unlink(path);
	assert_int_equal(keyfile_create(path, false, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_size, TOKEN_KEY_BYTES);
	key = keyfile_load(path, err, sizeof(err));
	assert_non_null(key);
	memcpy(first, key, sizeof(first));
	keyfile_free(key);

	/* An existing key is never overwritten without --force. */
	assert_int_equal(keyfile_create(path, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--force"));
	key = keyfile_load(path, err, sizeof(err));
	assert_non_null(key);
	assert_memory_equal(key, first, sizeof(first));
	keyfile_free(key);

	/* --force: a new, different key in its place, still 0600. */
	assert_int_equal(keyfile_create(path, true, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	key = keyfile_load(path, err, sizeof(err));
	assert_non_null(key);
	assert_memory_not_equal(key, first, sizeof(first));
	keyfile_free(key);
}

static void bad_files(void **st)
{
	(void)st;
	uint8_t bytes[64] = {0};
	char p[sizeof(path) + 16];

	unlink(path);
	refused(path, "No such file");
	refused(path, "keygen");
	write_file(path, bytes, 0, 0600);
	refused(path, "empty");
	write_file(path, bytes, 16, 0600);
	refused(path, "16 bytes, but a key is exactly 32");
	write_file(path, bytes, 33, 0600);
	refused(path, "33 bytes");
	write_file(path, bytes, 32, 0640);
	refused(path, "mode 0640 gives group or others access");
	write_file(path, bytes, 32, 0604);
	refused(path, "group or others");
	refused(dir, "not a regular file");
	/* A FIFO is refused, not waited on. */
	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	refused(p, "not a regular file");
	if (geteuid() == 0) {
		write_file(path, bytes, 32, 0600);
		assert_int_equal(chown(path, 1, 1), 0);
		refused(path, "owned by uid 1, not by root");
	}
	write_file(path, bytes, 32, 0600);
	uint8_t *key = keyfile_load(path, err, sizeof(err));
	assert_non_null(key);
	keyfile_free(key);
}

static void wipe(void **st)
{
	(void)st;
	uint8_t zero[TOKEN_KEY_BYTES] = {0};
	uint8_t *key;

	unlink(path);
	assert_int_equal(keyfile_create(path, false, err, sizeof(err)), 0);
	key = keyfile_load(path, err, sizeof(err));
	assert_non_null(key);
	assert_int_equal(keyfile_relock(key), 0);
	assert_memory_not_equal(key, zero, sizeof(zero));
	keyfile_wipe(key);
	assert_memory_equal(key, zero, sizeof(zero));
	keyfile_free(key);
	keyfile_free(NULL);
	keyfile_wipe(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refusal_rules),
		cmocka_unit_test(create_and_load),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(wipe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
