/* libFuzzer target: the configuration parsers, of the administrator's file
 * (src/config.c) and of the command line (src/cli.c).
 *
 * Input: text. It is parsed whole as a configuration file
 * (config_parse_text), then read as lines "key=value" (no '=': a bare key)
 * and each line applied with config_set, and finally turned into a
 * command line ("--key=value", or the line as it is when it starts with
 * '-') for cli_parse, whose options are then applied in order as
 * config_build would, without reading any file.
 *
 * Checked: an error leaves the configuration untouched (all or nothing)
 * and comes back as one NUL-terminated line of printable text; a file's
 * error names the file; whatever is accepted passes or fails
 * config_validate without harm. */
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define FNAME "fuzz.conf"
/* More lines than options config_build applies: cli_parse must refuse. */
#define LINES_MAX (CLI_ARGS_MAX + 8)

/* One line of text, bounded and terminated, control characters replaced. */
static void check_message(const char *err, size_t errsz)
{
	size_t n = strnlen(err, errsz);

	FUZZ_CHECK(n > 0 && n < errsz);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)err[i] >= 0x20 &&
		           (unsigned char)err[i] != 0x7f);
}

static void check_config(const struct config *c)
{
	char err[256];

	FUZZ_CHECK(strnlen(c->user, sizeof c->user) < sizeof c->user);
	FUZZ_CHECK(strnlen(c->fixed_name, sizeof c->fixed_name) <
	           sizeof c->fixed_name);
	FUZZ_CHECK(c->nlisten <= LISTEN_MAX);
	err[0] = '\0';
	if (config_validate(c, err, sizeof err) != 0)
		check_message(err, sizeof err);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	struct config c, before;
	char err[256];

	config_defaults(&c);
	before = c;
	memset(err, 0, sizeof err);
	if (config_parse_text(&c, (const char *)data, size, FNAME, err,
	                      sizeof err) != 0) {
		FUZZ_CHECK(memcmp(&c, &before, sizeof c) == 0);
		check_message(err, sizeof err);
		FUZZ_CHECK(strncmp(err, FNAME ":", strlen(FNAME ":")) == 0);
		return;
	}
	check_config(&c);
}

/* Splits a copy of the input into NUL-terminated lines, in place. */
static size_t split_lines(char *text, size_t size, char **lines, size_t max)
{
	size_t n = 0;
	char *p = text, *end = text + size;

	while (p < end && n < max) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		lines[n++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

static void fuzz_keys(char **lines, size_t n)
{
	struct config c;

	config_defaults(&c);
	for (size_t i = 0; i < n; i++) {
		char err[256], *eq = strchr(lines[i], '='), *key = lines[i];
		char *value = NULL;
		struct config before = c;

		if (eq != NULL) {
			size_t k = (size_t)(eq - key);
			char *copy = malloc(k + 1);

			FUZZ_CHECK(copy != NULL);
			memcpy(copy, key, k);
			copy[k] = '\0';
			key = copy;
			value = eq + 1;
		}
		memset(err, 0, sizeof err);
		if (config_set(&c, SRC_FILE, key, value, err, sizeof err) != 0) {
			check_message(err, sizeof err);
			c = before;  /* a setter may have half-written the field */
		}
		if (eq != NULL)
			free(key);
	}
	check_config(&c);
}

static void fuzz_cli(char **lines, size_t n)
{
	char *argv[LINES_MAX + 2], err[256];
	struct config c;
	struct cli cli;
	int argc = 0;

	argv[argc++] = (char *)"privident";
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		char *a = malloc(len + 3);

		FUZZ_CHECK(a != NULL);
		if (lines[i][0] == '-')
			memcpy(a, lines[i], len + 1);
		else
			snprintf(a, len + 3, "--%s", lines[i]);
		argv[argc++] = a;
	}
	argv[argc] = NULL;
	memset(err, 0, sizeof err);
	if (cli_parse(argc, argv, &cli, err, sizeof err) != 0) {
		check_message(err, sizeof err);
	} else {
		FUZZ_CHECK(cli.nargs <= CLI_ARGS_MAX);
		config_defaults(&c);
		for (unsigned i = 0; i < cli.nargs; i++) {
			memset(err, 0, sizeof err);
			if (config_set(&c, SRC_CLI, cli.args[i].key,
			               cli.args[i].value, err, sizeof err) != 0) {
				check_message(err, sizeof err);
				break;
			}
		}
		check_config(&c);
	}
	for (int i = 1; i < argc; i++)
		free(argv[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *lines[LINES_MAX], *text;
	size_t n;

	fuzz_file(data, size);

	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	n = split_lines(text, size, lines, LINES_MAX);
	fuzz_keys(lines, n);
	fuzz_cli(lines, n);
	free(text);
	return 0;
}
