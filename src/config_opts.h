/* The option table, internal to the configuration (config.c: config_set,
 * the file, config_validate) and the command line (cli.c: cli_parse, the
 * --help text). Nothing else includes it.
 *
 * One table (OPTIONS below) describes every option: its name (the long
 * option and the configuration key), its short form, its kind, its range and
 * its help text. Both modules read that one table, so nothing is written
 * twice. */
#ifndef PRIVIDENT_CONFIG_OPTS_H
#define PRIVIDENT_CONFIG_OPTS_H

#include "config.h"
#include "keyfile.h"
#include "token.h"

#include <stddef.h>

/* How much of a bad value or key an error message quotes: enough to
 * recognise it, short enough that the reason after it is never cut off. */
#define SHOW_MAX 48

#define STR_(x) #x
#define STR(x) STR_(x)

enum kind {
	K_BOOL,    /* a flag: bare on the command line, yes/no in the file */
	K_UINT,    /* an unsigned number in [min, max] */
	K_USER,    /* the service user name */
	K_REPLY,   /* the reply mode */
	K_LISTEN,  /* a listening address, repeatable */
	K_KEYPATH, /* the token key file */
	K_PERIOD,  /* the token rotation period */
	K_UIDS,    /* a uid range to hide, repeatable */
	K_NAMES,   /* accounts and @groups, repeatable */
	K_FORWARD, /* an inner network to answer for, repeatable */
	K_PROXY,   /* a forwarding gateway's address, repeatable */
	K_CONFIG,  /* command line only: the file to read */
	K_HELP,    /* command line only */
	K_VERSION, /* command line only */
};

struct opt {
	const char *name;  /* long option and configuration key */
	const char *flag;  /* "-t, " or four spaces: the short form, as in --help */
	enum kind kind;
	size_t off;        /* K_BOOL, K_UINT: the field in struct config */
	unsigned min, max; /* K_UINT */
	const char *what;  /* K_UINT: what a valid value is, for messages */
};

#define F(field) offsetof(struct config, field)

/* X(name, flag, kind, field offset, min, max, what, ARG, help) */
#define OPTIONS(X)                                                            \
	X("config", "-c, ", K_CONFIG, 0, 0, 0, NULL, " FILE",                 \
	  "read FILE instead of " DEFAULT_CONFIG_PATH)                        \
	X("foreground", "-f, ", K_BOOL, F(foreground), 0, 0, NULL, "",        \
	  "stay in the foreground and log to standard error")                \
	X("listen", "-l, ", K_LISTEN, 0, 0, 0, NULL, " ADDR[:PORT]",          \
	  "listen on ADDR, [IPV6ADDR]:PORT, [fe80::1%IF]:PORT or :PORT\n"    \
	  "        (all addresses); repeatable; default: port "                 \
	  STR(DEFAULT_PORT) " on all addresses")                              \
	X("user", "-u, ", K_USER, 0, 0, 0, NULL, " NAME",                     \
	  "run the workers as user NAME (default " DEFAULT_USER ")")          \
	X("inetd", "    ", K_BOOL, F(inetd), 0, 0, NULL, "",                  \
	  "serve the one connection on standard input (from inetd)")         \
	X("reply", "    ", K_REPLY, 0, 0, 0, NULL, " MODE",                   \
	  "user (the login name, default), uid, token, hidden, or\n"        \
	  "        fixed:NAME")                                               \
	X("token-key", "    ", K_KEYPATH, 0, 0, 0, NULL, " FILE",             \
	  "the key of --reply token (default " DEFAULT_TOKEN_KEY_PATH ")")   \
	X("token-period", "    ", K_PERIOD, 0, 0, 0, NULL, " DURATION",       \
	  "how long a token stays the same: Nh, Nd, Nw or never\n"           \
	  "        (default 7d)")                                             \
	X("token-length", "    ", K_UINT, F(token_length), TOKEN_LENGTH_MIN,  \
	  TOKEN_LENGTH_MAX, "a whole number of characters", " N",             \
	  "characters in a token (" STR(TOKEN_LENGTH_MIN) "-"                 \
	  STR(TOKEN_LENGTH_MAX) ", default " STR(TOKEN_LENGTH_DEFAULT) ")")   \
	X("hide-uid", "    ", K_UIDS, 0, 0, 0, NULL, " UID[-UID]",            \
	  "always answer HIDDEN-USER for these uids; repeatable\n"           \
	  "        (default 0; uid 0 is hidden in any case)")                 \
	X("noident", "    ", K_BOOL, F(noident), 0, 0, NULL, "",              \
	  "hide users who have a ~/.noident file")                           \
	X("opt-in", "    ", K_BOOL, F(opt_in), 0, 0, NULL, "",                \
	  "hide every user except those who have a ~/.ident file")           \
	X("user-files", "    ", K_BOOL, F(user_files), 0, 0, NULL, "",        \
	  "read each user's ~/.config/oidentd.conf or ~/.oidentd.conf:\n"    \
	  "        \"hide\" there hides its owner")                           \
	X("user-replies", "    ", K_NAMES, 0, 0, 0, NULL, " NAME[,@GROUP...]",\
	  "these accounts, and members of these groups, may choose\n"        \
	  "        their reply in that file (turns --user-files on); repeatable")\
	X("user-reply-any-name", "    ", K_BOOL, F(user_reply_any_name), 0, 0,\
	  NULL, "", "a chosen reply may be another account's login name")      \
	X("user-reply-overrides", "    ", K_BOOL, F(user_reply_overrides), 0, \
	  0, NULL, "", "a chosen reply replaces --reply uid or token")       \
	X("proxy", "    ", K_PROXY, 0, 0, 0, NULL, " ADDR",                   \
	  "a forwarding gateway at ADDR may ask about any connection of\n"  \
	  "        this host by its two ports; repeatable (default: none)")   \
	X("mask-errors", "    ", K_BOOL, F(mask_errors), 0, 0, NULL, "",      \
	  "send every error as UNKNOWN-ERROR")                                \
	X("timeout", "-t, ", K_UINT, F(timeout), TIMEOUT_MIN, TIMEOUT_MAX,    \
	  "a whole number of seconds", " SECONDS",                            \
	  "close a connection idle this long (" STR(TIMEOUT_MIN) "-"          \
	  STR(TIMEOUT_MAX) ", default " STR(DEFAULT_TIMEOUT) ")")             \
	X("lookup-timeout", "    ", K_UINT, F(lookup_timeout),                \
	  LOOKUP_TIMEOUT_MIN, LOOKUP_TIMEOUT_MAX, "a whole number of seconds",  \
	  " SECONDS",                                                         \
	  "answer UNKNOWN-ERROR when the name service has not answered\n"     \
	  "        in this long (" STR(LOOKUP_TIMEOUT_MIN) "-"                  \
	  STR(LOOKUP_TIMEOUT_MAX) ", default " STR(DEFAULT_LOOKUP_TIMEOUT) ")") \
	X("forward-network", "    ", K_FORWARD, 0, 0, 0, NULL, " NETWORK",     \
	  "answer for connections this host relays (NAT) from hosts in\n"    \
	  "        NETWORK, \"CIDR [PORT] [reply=NAME] [token]\": ask the\n"     \
	  "        inner host's ident server at PORT (" STR(FORWARD_DEFAULT_PORT)\
	  " if none), or send\n"                                              \
	  "        NAME without asking; token: a pseudonym instead; repeatable")  \
	X("forward-timeout", "    ", K_UINT, F(forward_timeout),              \
	  FORWARD_TIMEOUT_MIN, FORWARD_TIMEOUT_MAX, "a whole number of seconds",\
	  " SECONDS",                                                         \
	  "answer UNKNOWN-ERROR when an inner host has not answered in\n"    \
	  "        this long (" STR(FORWARD_TIMEOUT_MIN) "-"                    \
	  STR(FORWARD_TIMEOUT_MAX) ", default " STR(DEFAULT_FORWARD_TIMEOUT) ")") \
	X("max-connections", "    ", K_UINT, F(max_connections), 1,           \
	  MAX_CONNECTIONS_MAX, "a whole number", " N",                        \
	  "open client connections in all (1-" STR(MAX_CONNECTIONS_MAX)       \
	  ", default " STR(DEFAULT_MAX_CONNECTIONS) ")")                      \
	X("max-per-host", "    ", K_UINT, F(max_per_host), 1,                 \
	  MAX_CONNECTIONS_MAX, "a whole number", " N",                        \
	  "open client connections from one address (1-"                     \
	  STR(MAX_CONNECTIONS_MAX) ", default " STR(DEFAULT_MAX_PER_HOST) ")")\
	X("max-queries", "    ", K_UINT, F(max_queries), 1, MAX_QUERIES_MAX,  \
	  "a whole number", " N",                                             \
	  "queries answered on one connection (1-" STR(MAX_QUERIES_MAX)       \
	  ", default " STR(DEFAULT_MAX_QUERIES) ")")                          \
	X("debug-sandbox", "    ", K_BOOL, F(debug_sandbox), 0, 0, NULL, "",  \
	  "report a forbidden system call by name instead of dying")         \
	X("help", "-h, ", K_HELP, 0, 0, 0, NULL, "",                          \
	  "show this help and exit")                                          \
	X("version", "-V, ", K_VERSION, 0, 0, 0, NULL, "",                    \
	  "show the version and exit")

/* The number of options as a constant expression counted from OPTIONS
 * itself, so that cli.c can size its getopt arrays without seeing the
 * table's definition. */
#define AS_ONE(n, fl, k, o, mi, ma, w, a, h) +1
enum { OPTS_COUNT = 0 OPTIONS(AS_ONE) };
#define NOPTS ((size_t)OPTS_COUNT)

/* The rows of OPTIONS, in its order (config.c). */
extern const struct opt config_opts[NOPTS];

/* Writes a one-line message: any control character (from a file name or a
 * value) becomes '?', so the message can never span lines. */
void __attribute__((format(printf, 3, 4)))
config_seterr(char *err, size_t errsz, const char *fmt, ...);

/* The first SHOW_MAX characters of s, with "..." if there were more. */
const char *config_show(const char *s, char buf[SHOW_MAX + 4]);

#endif
