/* privident-token: the administrator's side of reply = token (doc/design.md §8).
 *
 *   keygen [--force] FILE      write a new random key, mode 0600
 *   reveal [options] TOKEN     which account did this token stand for?
 *
 * reveal recomputes the token of every account the name service lists
 * (and of every uid in --uid-range) for the period of --time and the
 * periods either side, and prints each match. It reads the daemon's
 * configuration file for token-key and token-period, so that it uses what
 * the daemon used; --key and --period override them. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "keyfile.h"
#include "token.h"
#include "tuple.h"

/* Exit statuses: a match, none, and a usage or key error (as privident). */
#define EXIT_MATCH 0
#define EXIT_NO_MATCH 1
#define EXIT_USAGE 2

/* --uid-range options kept: a few ranges for accounts the name service
 * does not list (deleted ones, another host's directory). */
#define UID_RANGES_MAX 16
/* Matches printed: a real token matches one account; more than a few
 * means a short token on a huge range, and the rest are not worth a line. */
#define MATCHES_MAX 64
/* Periods looked at: the one of --time and one either side, because a
 * report may reach the administrator after the period turned, or quote a
 * time from a clock that is off. */
#define PERIODS_AROUND 1
#define NPERIODS (2 * PERIODS_AROUND + 1)

static const char usage[] =
	"usage: privident-token keygen [--force] FILE\n"
	"       privident-token reveal [-c FILE] [--key FILE] [--period DURATION]\n"
	"                              --peer ADDR [--time WHEN] [--uid-range A-B]...\n"
	"                              TOKEN\n"
	"\n"
	"keygen writes a new random token key to FILE (mode 0600), refusing to\n"
	"replace an existing file unless --force.\n"
	"\n"
	"reveal prints the account (name uid=UID period=FROM..TO) whose token for\n"
	"the querier ADDR was TOKEN, in the period of WHEN (default now; seconds\n"
	"since 1970, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) or either side of it.\n"
	"It tries every account the name service lists and every uid in the\n"
	"--uid-range options. The key and period come from the configuration\n"
	"file (-c, default " DEFAULT_CONFIG_PATH "), or --key and --period.\n"
	"Exit status: 0 a match, 1 none, 2 a usage or key error.\n";

struct match {
	uint32_t uid;
	int64_t period;
	char name[USERNAME_MAX + 1];  /* "" when the name service has none */
};

struct reveal {
	const uint8_t *key;
	unsigned period_len;          /* seconds; 0: never */
	int family;
	uint8_t peer[16];
	char token[TOKEN_LENGTH_MAX + 1];
	size_t length;
	int64_t periods[NPERIODS];
	unsigned nperiods;
	struct uid_range ranges[UID_RANGES_MAX];
	unsigned nranges;
	struct match matches[MATCHES_MAX];
	unsigned nmatches;
	bool overflow;                /* more matches than MATCHES_MAX */
};

static int fail_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "privident-token: %s%s%s\n", msg, arg ? ": " : "",
	        arg ? arg : "");
	return EXIT_USAGE;
}

/* ---- keygen ---- */

static int keygen(int argc, char **argv)
{
	static const struct option lo[] = {
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool force = false;
	char err[512];
	int ch;

	while ((ch = getopt_long(argc, argv, "fh", lo, NULL)) != -1) {
		if (ch == 'f')
			force = true;
		else if (ch == 'h')
			return fputs(usage, stdout), EXIT_MATCH;
		else
			return fail_usage("keygen: bad option (see --help)", NULL);
	}
	if (optind != argc - 1)
		return fail_usage("keygen takes exactly one FILE", NULL);
	if (keyfile_create(argv[optind], force, err, sizeof(err)) < 0) {
		fprintf(stderr, "privident-token: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_MATCH;
}

/* ---- reveal: the search ---- */

static void add_match(struct reveal *r, uint32_t uid, int64_t n,
                      const char *name)
{
	for (unsigned i = 0; i < r->nmatches; i++)
		if (r->matches[i].uid == uid && r->matches[i].period == n)
			return;   /* an alias, or a uid both listed and in a range */
	if (r->nmatches >= MATCHES_MAX) {
		r->overflow = true;
		return;
	}
	struct match *m = &r->matches[r->nmatches++];
	m->uid = uid;
	m->period = n;
	snprintf(m->name, sizeof(m->name), "%s", name ? name : "");
}

static void try_uid(struct reveal *r, uint32_t uid, const char *name)
{
	char tok[TOKEN_LENGTH_MAX + 1];

	for (unsigned i = 0; i < r->nperiods; i++) {
		if (token_make(r->key, uid, r->family, r->peer, r->periods[i],
		               (unsigned)r->length, tok) == 0 &&
		    memcmp(tok, r->token, r->length) == 0)
			add_match(r, uid, r->periods[i], name);
	}
}

static void search(struct reveal *r)
{
	struct passwd *pw;

	setpwent();
	while ((pw = getpwent()) != NULL)
		try_uid(r, (uint32_t)pw->pw_uid, pw->pw_name);
	endpwent();
	for (unsigned i = 0; i < r->nranges; i++) {
		for (uint64_t u = r->ranges[i].lo; u <= r->ranges[i].hi; u++)
			try_uid(r, (uint32_t)u, NULL);
	}
}

/* The name of a match found only through a range, if it has one now. */
static const char *match_name(const struct match *m)
{
	struct passwd *pw;

	if (m->name[0] != '\0')
		return m->name;
	pw = getpwuid((uid_t)m->uid);
	return pw != NULL ? pw->pw_name : "-";
}

static void print_matches(const struct reveal *r)
{
	char from[TOKEN_TIME_TEXT], to[TOKEN_TIME_TEXT];
	int64_t start, end;

	for (unsigned i = 0; i < r->nmatches; i++) {
		const struct match *m = &r->matches[i];

		if (r->period_len == TOKEN_PERIOD_NEVER) {
			printf("%s uid=%u period=never\n", match_name(m), m->uid);
			continue;
		}
		token_period_bounds(m->period, r->period_len, &start, &end);
		token_format_time(start, from, sizeof(from));
		token_format_time(end, to, sizeof(to));
		printf("%s uid=%u period=%s..%s\n", match_name(m), m->uid, from, to);
	}
	if (r->overflow)
		fprintf(stderr, "privident-token: more than %d matches; the token "
		        "is too short to name one account\n", MATCHES_MAX);
}

/* ---- reveal: the arguments ---- */

/* A numeric address, normalised by the daemon's own code (tuple.c), so that
 * a v4-mapped IPv6 address counts as the IPv4 one exactly as the helper
 * sees it. */
static bool parse_peer(const char *s, struct reveal *r)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	socklen_t len;
	struct tcp_tuple t;

	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		len = sizeof(*s6);
	} else {
		return false;
	}
	if (tuple_from_addrs(sa, len, sa, len, 1, 1, &t) < 0)
		return false;
	r->family = t.family;
	memcpy(r->peer, t.remote, sizeof(r->peer));
	return true;
}

struct reveal_args {
	const char *config, *key, *period, *peer, *when, *token;
};

static int reveal_options(int argc, char **argv, struct reveal_args *a,
                          struct reveal *r)
{
	static const struct option lo[] = {
		{"config", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"period", required_argument, NULL, 'p'},
		{"peer", required_argument, NULL, 'a'},
		{"time", required_argument, NULL, 't'},
		{"uid-range", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'k': a->key = optarg; break;
		case 'p': a->period = optarg; break;
		case 'a': a->peer = optarg; break;
		case 't': a->when = optarg; break;
		case 'h': fputs(usage, stdout); exit(EXIT_MATCH);
		case 'u':
			if (r->nranges >= UID_RANGES_MAX)
				return fail_usage("too many --uid-range options", NULL);
			if (!config_parse_uid_range(optarg, &r->ranges[r->nranges++]))
				return fail_usage("--uid-range: not a uid or A-B", optarg);
			break;
		default:
			return fail_usage("reveal: bad option (see --help)", NULL);
		}
	}
	if (optind != argc - 1)
		return fail_usage("reveal takes exactly one TOKEN", NULL);
	a->token = argv[optind];
	if (a->peer == NULL)
		return fail_usage("reveal needs --peer ADDR, the querier's address",
		                  NULL);
	return 0;
}

/* The token, the peer, the time and the periods to try. */
static int reveal_setup(const struct reveal_args *a, const struct config *c,
                        struct reveal *r)
{
	int64_t when = time(NULL), n;

	if (!token_valid_text(a->token))
		return fail_usage("not a token (8 to 26 of a-z and 2-7)", a->token);
	r->length = strlen(a->token);
	for (size_t i = 0; i <= r->length; i++)
		r->token[i] = (char)(a->token[i] >= 'A' && a->token[i] <= 'Z'
		                     ? a->token[i] - 'A' + 'a' : a->token[i]);
	if (!parse_peer(a->peer, r))
		return fail_usage("--peer: not a numeric IPv4 or IPv6 address", a->peer);
	if (a->when != NULL && token_parse_time(a->when, &when) != 0)
		return fail_usage("--time: not seconds since 1970, YYYY-MM-DD or "
		                  "YYYY-MM-DDTHH:MM:SS[Z]", a->when);
	r->period_len = c->token_period;
	if (a->period != NULL && token_parse_period(a->period, &r->period_len) != 0)
		return fail_usage("--period: not never, Nh, Nd or Nw (1h to 366d)",
		                  a->period);
	n = token_period_number(when, r->period_len);
	r->nperiods = 0;
	if (r->period_len == TOKEN_PERIOD_NEVER)
		r->periods[r->nperiods++] = n;
	else
		for (int64_t d = -PERIODS_AROUND; d <= PERIODS_AROUND; d++)
			r->periods[r->nperiods++] = n + d;
	return 0;
}

static int reveal(int argc, char **argv)
{
	static struct reveal r;
	static struct config c;
	struct reveal_args a = {0};
	char err[512];
	uint8_t *key;
	int rc = reveal_options(argc, argv, &a, &r);

	if (rc != 0)
		return rc;
	config_defaults(&c);
	if (config_load_file(&c, a.config ? a.config : DEFAULT_CONFIG_PATH,
	                     a.config != NULL, err, sizeof(err)) < 0)
		return fail_usage(err, NULL);
	if ((rc = reveal_setup(&a, &c, &r)) != 0)
		return rc;
	key = keyfile_load(a.key ? a.key : c.token_key, err, sizeof(err));
	if (key == NULL)
		return fail_usage(err, NULL);
	r.key = key;
	search(&r);
	keyfile_free(key);
	print_matches(&r);
	return r.nmatches > 0 ? EXIT_MATCH : EXIT_NO_MATCH;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fputs(usage, stderr), EXIT_USAGE;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return fputs(usage, stdout), EXIT_MATCH;
	if (sodium_init() < 0)
		return fail_usage("libsodium failed to initialise", NULL);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "reveal") == 0)
		return reveal(argc - 1, argv + 1);
	return fail_usage("unknown command (keygen or reveal)", argv[1]);
}
