/* A plain driver for the fuzz targets: with -Dfuzzing_engine=none (the
 * default) each target is linked with this file, and `meson test --suite
 * fuzz` runs it over the target's seed corpus, so every corpus file (the
 * seeds and the reproducers of fixed bugs) is a regression test in every
 * build.
 *
 * Usage: fuzz-TARGET FILE|DIR...  Runs LLVMFuzzerTestOneInput once on each
 * file, and on each regular file in each directory (not recursively), in
 * name order. A broken invariant aborts; a file that cannot be read fails. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* libFuzzer's default -max_len is 4096; seeds are far smaller. Anything
 * larger than this is not a corpus file. */
#define REPLAY_FILE_MAX (1024 * 1024)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		fprintf(stderr, "%s: out of memory\n", path);
		return -1;
	}
	n = fread(buf, 1, REPLAY_FILE_MAX + 1, f);
	if (ferror(f) || n > REPLAY_FILE_MAX) {
		fprintf(stderr, "%s: %s\n", path,
		        ferror(f) ? "read error" : "too large");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees any read past the input. */
	uint8_t *data = malloc(n ? n : 1);
	if (data == NULL) {
		free(buf);
		return -1;
	}
	memcpy(data, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int run_dir(const char *dir, unsigned *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	int rc = 0;

	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (names[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) <
		            (int)sizeof path &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) < 0)
				rc = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i], &count) < 0;
		} else {
			rc |= run_file(argv[i]) < 0;
			count += 1;
		}
	}
	printf("%u inputs replayed\n", count);
	if (count == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	return rc;
}
