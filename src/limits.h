/* privident: every limit in one place, each with the reason for its value. */
#ifndef PRIVIDENT_LIMITS_H
#define PRIVIDENT_LIMITS_H

/* RFC 1413: a port is written with at most 5 digits (65535). */
#define PORT_DIGITS_MAX 5
#define PORT_MAX 65535u

/* Longest request line we read before giving up on it. A legal query is at
 * most 13 characters plus white space and CR LF; 256 leaves room for any
 * sloppy client's white space while cutting garbage off quickly. */
#define REQUEST_LINE_MAX 256

/* RFC 1413 §6: a user id is at most 512 octets. */
#define USERID_MAX 512

/* Longest operating-system field we write or accept: "OTHER,UTF-8" and the
 * like. RFC 1413 names no limit; 64 is far above any registered name. */
#define OPSYS_MAX 64

/* Longest reply line: "65535 , 65535 : USERID : " + opsys + " : " + user id
 * + CR LF, rounded up. */
#define REPLY_MAX (32 + OPSYS_MAX + USERID_MAX + 8)

/* How many listening sockets one daemon may have (-l, LISTEN_FDS). */
#define LISTEN_MAX 16

/* Bytes the network child reads from a connection at a time. Small on
 * purpose: the parser consumes a byte at a time, the kernel holds the rest,
 * and 10,000 idle connections must fit in a few megabytes. */
#define CONN_INBUF 64

/* Defaults and ranges of the tunables (doc/design.md §1, §7). */
#define DEFAULT_TIMEOUT 60        /* RFC 1413 suggests 60-180 s */
#define TIMEOUT_MIN 1
#define TIMEOUT_MAX 3600
#define DEFAULT_MAX_CONNECTIONS 1024
#define MAX_CONNECTIONS_MAX 100000 /* bounded by the fd limit we can ask for */
#define DEFAULT_MAX_PER_HOST 32
/* An IPv6 /48 may hold this many times --max-per-host connections. A /48 is
 * what one end site is usually given (RFC 6177), so it is one customer, not
 * many: counted per /64 alone, one site's 65,536 /64s could fill any table.
 * Four hosts' worth still lets a site's few busy machines (on different
 * /64s) be served in full, while one site can never hold more than four
 * IPv4 hosts can. */
#define SITE_SHARE 4
#define DEFAULT_MAX_QUERIES 32
#define MAX_QUERIES_MAX 100000
#define DEFAULT_PORT 113

/* Longest service user name we accept (useradd's own limit is 32). */
#define USERNAME_MAX 64

/* A configuration file line longer than this is an error, not truncated. */
#define CONFIG_LINE_MAX 1024
/* A configuration file larger than this is refused: it is a few lines. */
#define CONFIG_FILE_MAX (64 * 1024)

/* Longest token key path: it must fit on one configuration line. */
#define TOKEN_KEY_PATH_MAX CONFIG_LINE_MAX

/* hide-uid ranges kept: an administrator writes a handful by hand, and
 * each query checks them one by one. */
#define HIDE_UID_MAX 32

/* user-replies entries kept (account names and @groups): a bouncer host
 * names its one or two bouncer accounts; each query for a user with a
 * file compares its account against them one by one. */
#define USER_REPLIES_MAX 32

/* forward-network entries kept (doc/design.md §7): a gateway lists its LAN,
 * a container bridge or two, and their IPv6 prefixes; each relayed query
 * compares its inner address against them one by one. */
#define FORWARD_NETWORKS_MAX 32

/* Longest reply line read from an inner host's ident server, its line end
 * included. RFC 1413 lets a client abort a connection that sent 1000
 * characters without an end of line; the longest reply privident
 * would accept (REPLY_MAX) fits with room for a sloppy server's white
 * space, and the forwarder never holds more than this per query. */
#define FORWARD_REPLY_MAX 1000
/* proxy addresses kept (forwarding gateways, doc/design.md §4): a host
 * sits behind one gateway, two with a spare or with both families; each
 * query compares its peer against them one by one. */
#define PROXY_MAX 8

#endif
