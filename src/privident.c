/* privident: a privilege-separated ident server (RFC 1413). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "roles.h"

/* Exit status for a bad option or configuration (doc/design.md §8). */
#define EXIT_USAGE 2

int main(int argc, char **argv)
{
	static struct cli cli;
	static struct config cfg;
	char err[512];

	if (cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, "privident: %s\n", err);
		return EXIT_USAGE;
	}
	if (cli.help) {
		fputs(config_usage, stdout);
		return 0;
	}
	if (cli.version) {
		printf("privident %s\n", PRIVIDENT_VERSION);
		return 0;
	}
	if (config_build(&cfg, &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, "privident: %s\n", err);
		return EXIT_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "privident: libsodium failed to initialise\n");
		return 1;
	}
	return monitor_main(&cfg, &cli);
}
