/* Configuration: defaults, then the file, then the command line. Every long
 * option is also a configuration key of the same name. Errors are returned
 * as one line of text (naming file and line for the file), never printed. */
#ifndef PRIVIDENT_CONFIG_H
#define PRIVIDENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "limits.h"
#include "sockaddr.h"

#define DEFAULT_CONFIG_PATH "/etc/privident/privident.conf"

/* lookup-timeout (doc/design.md §4): how long a query may wait for the name
 * service before it is answered UNKNOWN-ERROR. IRC servers wait 5 to 7
 * seconds for an ident answer; 5 leaves them room to get it. More than
 * 30 serves no client that is still waiting. */
#define DEFAULT_LOOKUP_TIMEOUT 5
#define LOOKUP_TIMEOUT_MIN 1
#define LOOKUP_TIMEOUT_MAX 30
#define DEFAULT_USER "_privident"

/* forward-timeout (doc/design.md §7): how long the forwarder waits for an
 * inner host's ident server, connecting included. IRC servers wait 5 to 7
 * seconds in all; 3 leaves room for the conntrack lookup and the reply's
 * way back. Above 10 no querier is still waiting. */
#define DEFAULT_FORWARD_TIMEOUT 3
#define FORWARD_TIMEOUT_MIN 1
#define FORWARD_TIMEOUT_MAX 10
/* The port an inner host's ident server listens on when the value names
 * none: RFC 1413's. */
#define FORWARD_DEFAULT_PORT 113
/* A forward-network's fixed reply: the rules of a name chosen in a user
 * file (userconf_name_ok), 1 to 32 of [A-Za-z0-9._-]. */
#define FORWARD_NAME_MAX 32

enum reply_mode {
	MODE_USER,  /* the login name (default) */
	MODE_UID,   /* the numeric uid, sent as OTHER */
	MODE_FIXED, /* always fixed_name, no lookup */
	MODE_TOKEN, /* a keyed pseudonym, sent as OTHER */
	MODE_HIDDEN,/* HIDDEN-USER for every owned connection */
};

/* uids lo..hi, both included. */
struct uid_range {
	uint32_t lo, hi;
};

/* Where a setting comes from. A later source overrides an earlier one; a
 * repeatable key (listen) given in a source replaces what earlier sources
 * gave, and accumulates within that source. */
enum config_source { SRC_DEFAULT, SRC_FILE, SRC_CLI };

/* One forward-network (doc/design.md §5): an inner network whose hosts'
 * connections this host relays (NAT), and how to answer for them. */
struct forward_net {
	int family;                 /* AF_INET or AF_INET6 (never IPv4-mapped) */
	uint8_t addr[16];           /* the network, host bits zero; AF_INET:
	                               the first 4 octets, the rest zero */
	unsigned prefix;            /* its length in bits: 0-32 or 0-128 */
	unsigned port;              /* the inner ident server's; 0 with reply */
	bool token;                 /* send a token of the inner user instead */
	char reply[FORWARD_NAME_MAX + 1]; /* "": ask; else the fixed name */
};

struct config {
	bool foreground;
	bool inetd;
	char user[USERNAME_MAX + 1];
	bool user_set;             /* named explicitly (file or command line) */
	unsigned timeout;          /* idle seconds before a connection closes */
	unsigned lookup_timeout;   /* seconds a query may wait for the name service */
	unsigned max_connections;  /* open client connections in all */
	unsigned max_per_host;     /* open client connections from one address */
	unsigned max_queries;      /* queries answered on one connection */
	enum reply_mode mode;
	char fixed_name[USERID_MAX + 1];
	struct listen_addr listen[LISTEN_MAX];
	unsigned nlisten;          /* 0: the default, port 113 on all addresses */
	enum config_source listen_src;
	bool debug_sandbox;        /* trap and name a forbidden syscall */
	/* Privacy (doc/design.md §5). */
	char token_key[TOKEN_KEY_PATH_MAX + 1]; /* the key file */
	unsigned token_period;     /* seconds; 0: never rotates */
	unsigned token_length;     /* base32 characters */
	bool noident;              /* ~/.noident hides its owner */
	bool opt_in;               /* only owners of ~/.ident are revealed */
	bool mask_errors;          /* every error reply is UNKNOWN-ERROR */
	struct uid_range hide_uid[HIDE_UID_MAX]; /* always hidden (and uid 0) */
	unsigned nhide_uid;
	enum config_source hide_uid_src;
	/* Per-user reply files, ~/.oidentd.conf (doc/design.md §5). */
	bool user_files;           /* read them; "hide" counts for everyone */
	/* Who may choose a reply there: account names, and "@group" for a
	 * group's members. */
	char user_replies[USER_REPLIES_MAX][USERNAME_MAX + 2];
	unsigned nuser_replies;
	enum config_source user_replies_src;
	bool user_reply_any_name;  /* a chosen reply may be another's login */
	bool user_reply_overrides; /* ... and replaces reply = uid or token */
	/* Relayed connections (doc/design.md §5): forwarding is on when
	 * nforward > 0. */
	struct forward_net forward[FORWARD_NETWORKS_MAX];
	unsigned nforward;
	enum config_source forward_src;
	unsigned forward_timeout;  /* seconds an inner host has to answer */
	/* Forwarding gateways (doc/design.md §4): a query from one of these
	 * addresses is about a connection of this host to any remote
	 * address. AF_INET (a v4-mapped address too) or AF_INET6. */
	struct proxy_addr {
		int family;
		uint8_t addr[16];
	} proxy[PROXY_MAX];
	unsigned nproxy;
	enum config_source proxy_src;
};

/* Whether a query from addr (family AF_INET: 4 bytes, AF_INET6: 16, as a
 * struct tcp_tuple holds its remote end) comes from a proxy. */
bool config_is_proxy(const struct config *c, int family, const uint8_t *addr);

void config_defaults(struct config *c);

/* Sets key (a long option name, without "--") to value. A boolean key takes
 * yes/no/true/false/on/off/1/0, or NULL meaning yes (a bare command-line
 * flag). Returns 0, or -1 with a message such as
 * "timeout: 'abc' is not a whole number of seconds from 1 to 3600". */
int config_set(struct config *c, enum config_source src, const char *key,
               const char *value, char *err, size_t errsz);

/* Parses a whole file's text: "key = value" lines, blank lines, '#'
 * comments (a whole line, or after white space). Errors read
 * "FNAME:LINE: message". */
int config_parse_text(struct config *c, const char *text, size_t len,
                      const char *fname, char *err, size_t errsz);

/* Reads and parses path. A missing file is an error only if must_exist. */
int config_load_file(struct config *c, const char *path, bool must_exist,
                     char *err, size_t errsz);

/* "UID" or "UID-UID" (decimal, 0 to 4294967294, the first no larger):
 * hide-uid's value, and privident-token's --uid-range. */
bool config_parse_uid_range(const char *s, struct uid_range *r);

/* One forward-network value: "CIDR [PORT] [reply=NAME] [token]", words
 * separated by white space, the network first, the others in any order,
 * each at most once. CIDR: an IPv4 or IPv6 network with its prefix length
 * and no host bits set, not IPv4-mapped (a mapped address counts as IPv4),
 * holding no loopback, multicast or IPv6 link-local address; PORT: 1-65535
 * (default FORWARD_DEFAULT_PORT), not with reply=NAME, which asks nobody;
 * NAME: 1 to FORWARD_NAME_MAX of [A-Za-z0-9._-]. Returns 0, or -1 with a
 * one-line reason quoting the value in why (out is then unchanged). */
int config_parse_forward(const char *s, struct forward_net *out, char *why,
                         size_t whysz);

/* A forward-network as text, in the form config_parse_forward reads:
 * "192.168.0.0/16", "fd00::/8 1130 token", "10.0.0.0/8 reply=guest". */
#define FORWARD_NET_TEXT_MAX \
	(INET6_ADDRSTRLEN + 4 + 6 + 7 + FORWARD_NAME_MAX + 6 + 1)
void config_format_forward(const struct forward_net *n, char *buf,
                           size_t size);

/* Whether uid is hidden whatever the mode: uid 0 always, and hide-uid. */
bool config_uid_hidden(const struct config *c, uint32_t uid);

/* Whether the helper must look at per-user files (noident, opt-in,
 * user-files). */
bool config_reads_home(const struct config *c);

/* Whether connections this host only relays are answered for: at least one
 * forward-network. */
bool config_forwarding(const struct config *c);

/* Whether the token key is needed: reply = token, or a forward-network
 * with token. */
bool config_needs_token_key(const struct config *c);

/* Checks that the settings make sense together. */
int config_validate(const struct config *c, char *err, size_t errsz);

/* The command line, kept so that SIGHUP can re-apply it over a re-read
 * file. */
#define CLI_ARGS_MAX 64
struct cli {
	const char *config_path;  /* -c, or NULL: DEFAULT_CONFIG_PATH if present */
	bool help, version;
	unsigned nargs;
	struct { const char *key; const char *value; } args[CLI_ARGS_MAX];
};

/* Parses argv (getopt_long; argv is not modified beyond getopt's
 * permutation). Checks option names and arity only; values are checked when
 * applied. Returns 0, or -1 with a message. */
int cli_parse(int argc, char **argv, struct cli *cli, char *err, size_t errsz);

/* defaults, then the file (cli->config_path, or the default path if it
 * exists), then the command line, then config_validate. */
int config_build(struct config *c, const struct cli *cli, char *err,
                 size_t errsz);

/* The --help text. */
extern const char config_usage[];

#endif
