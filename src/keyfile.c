/* The token key file. The key is the one secret that turns every token
 * back into an account, so it is refused unless only root (or the user
 * loading it) can touch it, and held only in sodium_malloc memory. */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include "limits.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temporary file for keygen --force: the path plus this suffix. */
#define TMP_SUFFIX ".XXXXXX"

static const char *how_to_make = "make one with 'privident-token keygen FILE'";

const char *keyfile_refusal(const struct stat *st, uid_t owner, char *why,
                            size_t size)
{
	if (!S_ISREG(st->st_mode))
		snprintf(why, size, "not a regular file");
	else if (st->st_uid != 0 && st->st_uid != owner)
		snprintf(why, size, "owned by uid %u, not by root",
		         (unsigned)st->st_uid);
	else if (st->st_mode & (S_IRWXG | S_IRWXO))
		snprintf(why, size, "mode %04o gives group or others access "
		         "(chmod 600 it)", (unsigned)(st->st_mode & 07777));
	else if (st->st_size == 0)
		snprintf(why, size, "empty; %s", how_to_make);
	else if (st->st_size != TOKEN_KEY_BYTES)
		snprintf(why, size, "%lld bytes, but a key is exactly %d; %s",
		         (long long)st->st_size, TOKEN_KEY_BYTES, how_to_make);
	else
		return NULL;
	return why;
}

/* Reads exactly n bytes, or fails (a short file, an I/O error). */
static int read_exact(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Reads the key from the checked file fd into fresh protected memory. */
static uint8_t *read_key(int fd)
{
	uint8_t *key = sodium_malloc(TOKEN_KEY_BYTES);
	uint8_t extra;

	if (key == NULL)
		return NULL;
	/* One byte more than a key must find the end: the file did not grow
	 * between the check and the read. */
	if (read_exact(fd, key, TOKEN_KEY_BYTES) < 0 || read(fd, &extra, 1) != 0) {
		sodium_free(key);
		errno = EIO;
		return NULL;
	}
	sodium_mprotect_readonly(key);
	return key;
}

uint8_t *keyfile_load(const char *path, char *err, size_t errsz)
{
	char why[160];
	struct stat st;
	uint8_t *key;
	/* O_NONBLOCK: a FIFO planted at the path must not hang start-up
	 * before the regular-file check refuses it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(err, errsz, "%s: %s%s%s", path, strerror(errno),
		         errno == ENOENT ? "; " : "",
		         errno == ENOENT ? how_to_make : "");
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (keyfile_refusal(&st, geteuid(), why, sizeof(why)) != NULL) {
		snprintf(err, errsz, "%s: %s", path, why);
		close(fd);
		return NULL;
	}
	key = read_key(fd);
	if (key == NULL)
		snprintf(err, errsz, "%s: cannot read the key: %s", path,
		         strerror(errno));
	close(fd);
	return key;
}

void keyfile_free(uint8_t *key)
{
	if (key != NULL)
		sodium_free(key);  /* zeroes, unlocks and unmaps */
}

void keyfile_wipe(uint8_t *key)
{
	if (key == NULL)
		return;
	sodium_mprotect_readwrite(key);
	sodium_memzero(key, TOKEN_KEY_BYTES);
}

int keyfile_relock(uint8_t *key)
{
	return key != NULL ? sodium_mlock(key, TOKEN_KEY_BYTES) : 0;
}

/* Writes a fresh random key to fd and flushes it to the disk. */
static int write_key(int fd)
{
	uint8_t key[TOKEN_KEY_BYTES];
	ssize_t w;

	randombytes_buf(key, sizeof(key));
	do
		w = write(fd, key, sizeof(key));
	while (w < 0 && errno == EINTR);
	sodium_memzero(key, sizeof(key));
	if (w != (ssize_t)sizeof(key)) {
		if (w >= 0)
			errno = EIO;
		return -1;
	}
	return fchmod(fd, 0600) == 0 && fsync(fd) == 0 ? 0 : -1;
}

/* Writes the key to fd and closes it. Returns 0, or -1 with errno. */
static int write_and_close(int fd)
{
	int r = write_key(fd), e = errno;

	if (close(fd) < 0 && r == 0)
		return -1;
	errno = e;
	return r;
}

static int create_new(const char *path, char *err, size_t errsz)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	              0600);

	if (fd < 0) {
		snprintf(err, errsz, "%s: %s%s", path, strerror(errno),
		         errno == EEXIST ? " (use --force to replace it)" : "");
		return -1;
	}
	if (write_and_close(fd) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/* --force: the old key stays in place, whole, until the new one replaces
 * it in one rename. */
/* Flushes the directory holding path, so that a rename into it survives
 * a crash: without it the old key may come back after a power cut, and
 * tokens would be issued under a key nobody kept. */
static int sync_parent(const char *path, char *err, size_t errsz)
{
	char dir[TOKEN_KEY_PATH_MAX + 1];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));

	if (n >= sizeof(dir)) {
		snprintf(err, errsz, "%s: path too long", path);
		return -1;
	}
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int replace(const char *path, char *err, size_t errsz)
{
	char tmp[TOKEN_KEY_PATH_MAX + sizeof(TMP_SUFFIX)];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, path) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "%s: path too long", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_and_close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int keyfile_create(const char *path, bool force, char *err, size_t errsz)
{
	if ((force ? replace(path, err, errsz) : create_new(path, err, errsz)) < 0)
		return -1;
	return sync_parent(path, err, errsz);
}
