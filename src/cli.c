/* The command line: getopt_long over the option table (config_opts.h), and
 * the --help text made from the same table. Option names and arity are
 * checked here; values are checked when config_build applies them. Nothing
 * here prints: errors go back to the caller as one line of text. */
#include "config_opts.h"

#include <getopt.h>
#include <string.h>

#define AS_USAGE(n, fl, k, o, mi, ma, w, a, h) \
	"  " fl "--" n a "\n        " h "\n"
const char config_usage[] =
	"usage: privident [options]\n"
	"An ident (RFC 1413) server. Every long option is also a key in the\n"
	"configuration file; the command line overrides the file.\n"
	"\n" OPTIONS(AS_USAGE);

static int short_of(const struct opt *o)
{
	return o->flag[0] == '-' ? o->flag[1] : 0;
}

static bool takes_arg(const struct opt *o)
{
	return o->kind != K_BOOL && o->kind != K_HELP && o->kind != K_VERSION;
}

/* getopt_long's val for config_opts[i]; short options come back as their
 * letter. */
#define LONG_VAL_BASE 256

static const struct opt *opt_of_val(int val)
{
	if (val >= LONG_VAL_BASE && (size_t)(val - LONG_VAL_BASE) < NOPTS)
		return &config_opts[val - LONG_VAL_BASE];
	for (size_t i = 0; i < NOPTS; i++)
		if (val != 0 && short_of(&config_opts[i]) == val)
			return &config_opts[i];
	return NULL;
}

/* ":" first, so that a missing argument comes back as ':'. */
static void build_getopt(struct option *lo, char *so)
{
	*so++ = ':';
	for (size_t i = 0; i < NOPTS; i++) {
		lo[i] = (struct option){config_opts[i].name,
		                        takes_arg(&config_opts[i]) ? required_argument
		                                                   : no_argument,
		                        NULL, (int)(LONG_VAL_BASE + i)};
		if (short_of(&config_opts[i])) {
			*so++ = (char)short_of(&config_opts[i]);
			if (takes_arg(&config_opts[i]))
				*so++ = ':';
		}
	}
	lo[NOPTS] = (struct option){NULL, 0, NULL, 0};
	*so = '\0';
}

/* The message for getopt's '?' (bad option) or ':' (missing argument). */
static void getopt_error(int ch, int argc, char **argv, char *err,
                         size_t errsz)
{
	const struct opt *o = opt_of_val(optopt);
	char sb[SHOW_MAX + 4], name[SHOW_MAX + 4];
	const char *arg;
	size_t n = 0, matches = 0;

	if (ch == ':' && o != NULL) {
		config_seterr(err, errsz, "--%s: missing argument", o->name);
		return;
	}
	if (o != NULL && optopt >= LONG_VAL_BASE) {
		config_seterr(err, errsz, "--%s takes no argument", o->name);
		return;
	}
	if (optopt != 0) {
		config_seterr(err, errsz, "unknown option '-%c'", optopt);
		return;
	}
	if (optind < 1 || optind > argc) {
		config_seterr(err, errsz, "unknown option");
		return;
	}
	/* a long option: "--name[=value]" */
	arg = config_show(argv[optind - 1], sb);
	while (arg[n] && arg[n] != '=' && n < SHOW_MAX + 3)
		n++;
	memcpy(name, arg, n);
	name[n] = '\0';
	for (size_t i = 0; i < NOPTS && n > 2; i++)
		matches += strncmp(config_opts[i].name, name + 2, n - 2) == 0;
	config_seterr(err, errsz, "%s option '%s'",
	              matches > 1 ? "ambiguous" : "unknown", name);
}

/* Records one option found by getopt_long. */
static int cli_record(struct cli *cli, const struct opt *o, char *arg,
                      char *err, size_t errsz)
{
	switch (o->kind) {
	case K_HELP:
		cli->help = true;
		return 0;
	case K_VERSION:
		cli->version = true;
		return 0;
	case K_CONFIG:
		if (*arg == '\0') {
			config_seterr(err, errsz, "--config: empty file name");
			return -1;
		}
		cli->config_path = arg;
		return 0;
	default:
		break;
	}
	if (cli->nargs >= CLI_ARGS_MAX) {
		config_seterr(err, errsz, "too many options (at most %d)",
		              CLI_ARGS_MAX);
		return -1;
	}
	cli->args[cli->nargs].key = o->name;
	cli->args[cli->nargs].value = takes_arg(o) ? arg : NULL;
	cli->nargs++;
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errsz)
{
	struct option lo[NOPTS + 1];
	char so[2 * NOPTS + 2], sb[SHOW_MAX + 4];
	int ch;

	memset(cli, 0, sizeof *cli);
	if (argc < 1)
		return 0;
	build_getopt(lo, so);
	optind = 0;  /* GNU: start afresh, so this can run more than once */
	opterr = 0;  /* we report errors ourselves */
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct opt *o = opt_of_val(ch);

		if (ch == '?' || ch == ':' || o == NULL) {
			getopt_error(ch, argc, argv, err, errsz);
			return -1;
		}
		if (cli_record(cli, o, optarg, err, errsz) != 0)
			return -1;
	}
	if (optind < argc) {
		config_seterr(err, errsz, "unexpected argument '%s'",
		              config_show(argv[optind], sb));
		return -1;
	}
	return 0;
}
