/* privident-query: asks an ident server (RFC 1413) who owns a connection.
 *
 *   privident-query [-p PORT] [-t SECONDS] [-s SOURCE-ADDR] [-v]
 *                   HOST PORT-ON-SERVER PORT-ON-CLIENT
 *
 * Tolerant of sloppy servers, strict in what it reports: the reply must
 * parse, must echo the query's ports, and nothing from the server reaches
 * the terminal unless it shows what it is. Everything below main returns its
 * errors as text; only main prints. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "reply.h"
#include "replyparse.h"

#define PROG "privident-query"

/* Exit statuses: scripts tell a user id from an error reply from trouble. */
enum {
	EXIT_USERID = 0,    /* USERID reply, user id printed */
	EXIT_ERROR = 1,     /* ERROR reply (or none: UNKNOWN-ERROR) */
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_TROUBLE = 3,   /* no usable reply: connect, time-out, malformed */
};

/* RFC 1413 asks clients to wait at least 30 s for an answer. */
#define QUERY_TIMEOUT_DEFAULT 30

/* We read at most this much while looking for the line end: the longest
 * reply, plus slack for the extra white space sloppy servers add. More
 * without a LF is not a reply. */
#define READ_MAX (REPLY_MAX + 64)

/* One line of error text, port numbers and an address included. */
#define ERR_MAX 320

/* "[::1]" without its brackets: the longest IPv6 text form, with a zone. */
#define HOST_MAX 256

struct options {
	const char *host;
	const char *source;    /* -s, or NULL */
	unsigned ident_port;   /* -p */
	unsigned server_port;  /* port on the server we ask */
	unsigned client_port;  /* port on this host */
	unsigned timeout;      /* -t, seconds, for connect, send and read */
	bool verbose;
};

enum args_result { ARGS_OK, ARGS_HELP, ARGS_VERSION, ARGS_BAD };

static int failf(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes the message into err (ERR_MAX bytes) and returns -1. */
static int failf(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, ERR_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: " PROG " [-p PORT] [-t SECONDS] [-s SOURCE-ADDR] [-v]\n"
	        "                       HOST PORT-ON-SERVER PORT-ON-CLIENT\n"
	        "Asks the ident server on HOST who owns the TCP connection between\n"
	        "PORT-ON-SERVER on HOST and PORT-ON-CLIENT on this host.\n"
	        "  -p, --port PORT       ident port (default %d)\n"
	        "  -t, --timeout SECONDS total time-out, %d to %d (default %d)\n"
	        "  -s, --source ADDR     local address to connect from\n"
	        "  -v, --verbose         print the whole reply\n"
	        "      --help            print this help\n"
	        "      --version         print the version\n"
	        "Exit status: 0 user id, 1 error reply, 2 usage, 3 no usable reply.\n",
	        DEFAULT_PORT, TIMEOUT_MIN, TIMEOUT_MAX, QUERY_TIMEOUT_DEFAULT);
}

/* Plain decimal digits only ("+1", " 1", "1x" and "" are not numbers),
 * in min..max. */
static bool parse_number(const char *s, unsigned min, unsigned max,
                         unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*out = (unsigned)v;
	return true;
}

static int parse_port_arg(const char *what, const char *s, unsigned *port,
                          char *err)
{
	if (!parse_number(s, 1, PORT_MAX, port))
		return failf(err, "bad %s '%s': must be 1-%u", what, s, PORT_MAX);
	return 0;
}

/* getopt's own message for a bad option, made into our one line. */
static enum args_result bad_option(int c, char **argv, char *err)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		failf(err, "option '%s' needs an argument (try --help)", arg);
	else if (optopt != 0)
		failf(err, "unknown option '-%c' (try --help)", optopt);
	else
		failf(err, "unknown option '%s' (try --help)", arg);
	return ARGS_BAD;
}

static int parse_option(int c, struct options *o, char *err)
{
	switch (c) {
	case 'p':
		return parse_port_arg("ident port", optarg, &o->ident_port, err);
	case 't':
		if (!parse_number(optarg, TIMEOUT_MIN, TIMEOUT_MAX, &o->timeout))
			return failf(err, "bad time-out '%s': must be %d-%d seconds",
			             optarg, TIMEOUT_MIN, TIMEOUT_MAX);
		return 0;
	case 's':
		o->source = optarg;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	}
	return -1;
}

static enum args_result parse_args(int argc, char **argv, struct options *o,
                                   char *err)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .ident_port = DEFAULT_PORT,
	                       .timeout = QUERY_TIMEOUT_DEFAULT };
	opterr = 0; /* we say it ourselves, in one line */
	while ((c = getopt_long(argc, argv, ":p:t:s:v", longopts, NULL)) != -1) {
		if (c == 'h')
			return ARGS_HELP;
		if (c == 'V')
			return ARGS_VERSION;
		if (c == '?' || c == ':')
			return bad_option(c, argv, err);
		if (parse_option(c, o, err) < 0)
			return ARGS_BAD;
	}
	if (argc - optind != 3) {
		failf(err, "expected HOST PORT-ON-SERVER PORT-ON-CLIENT (try --help)");
		return ARGS_BAD;
	}
	o->host = argv[optind];
	if (parse_port_arg("port-on-server", argv[optind + 1], &o->server_port, err) < 0 ||
	    parse_port_arg("port-on-client", argv[optind + 2], &o->client_port, err) < 0)
		return ARGS_BAD;
	return ARGS_OK;
}

/* "[::1]" is "::1", as in URLs; anything else is passed on as it is. */
static const char *unbracket(const char *host, char *buf)
{
	size_t len = strlen(host);

	if (len < 2 || host[0] != '[' || host[len - 1] != ']' || len - 2 >= HOST_MAX)
		return host;
	memcpy(buf, host + 1, len - 2);
	buf[len - 2] = '\0';
	return buf;
}

static int resolve(const char *name, const char *service, int flags,
                   struct addrinfo **res, char *err)
{
	char buf[HOST_MAX];
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	                          .ai_socktype = SOCK_STREAM,
	                          .ai_flags = flags };
	const char *host = unbracket(name, buf);
	int rc = getaddrinfo(host, service, &hints, res);

	if (rc != 0)
		return failf(err, "%s: %s", name,
		             rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	return 0;
}

/* --- time-outs: one deadline for the whole exchange ------------------- */

static struct timespec deadline_in(unsigned seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += seconds;
	return t;
}

/* Milliseconds left before the deadline, 0 when it has passed. */
static int remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Waits until fd is ready for events; -1 with errno ETIMEDOUT when the
 * deadline passes first. An error or hang-up counts as ready: the next
 * call on the socket says what happened. */
static int wait_ready(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int ms = remaining_ms(deadline);
		int n;

		if (ms == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Why a socket call failed, our own time-out included. */
static const char *reason(int e)
{
	return e == ETIMEDOUT ? "timed out" : strerror(e);
}

/* --- connecting -------------------------------------------------------- */

static int close_keeping_errno(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
	return -1;
}

/* A non-blocking connect to dst, from src if given. Returns the socket, or
 * -1 with errno set. */
static int connect_one(const struct addrinfo *dst, const struct addrinfo *src,
                       const struct timespec *deadline)
{
	int fd = socket(dst->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int soerr = 0;
	socklen_t len = sizeof soerr;

	if (fd < 0)
		return -1;
	if (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) < 0)
		return close_keeping_errno(fd);
	if (connect(fd, dst->ai_addr, dst->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS || wait_ready(fd, POLLOUT, deadline) < 0)
		return close_keeping_errno(fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return close_keeping_errno(fd);
	if (soerr != 0) {
		errno = soerr;
		return close_keeping_errno(fd);
	}
	return fd;
}

/* The first source address of the destination's family. */
static const struct addrinfo *source_for(const struct addrinfo *dst,
                                         const struct addrinfo *sources)
{
	for (const struct addrinfo *s = sources; s != NULL; s = s->ai_next)
		if (s->ai_family == dst->ai_family)
			return s;
	return NULL;
}

static void numeric_host(const struct addrinfo *ai, char *buf, socklen_t size)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, size, NULL, 0,
	                NI_NUMERICHOST) != 0)
		snprintf(buf, size, "?");
}

/* Tries each address of the host in turn, until one answers or time runs
 * out. */
static int connect_any(const struct options *o, const struct addrinfo *dsts,
                       const struct addrinfo *srcs,
                       const struct timespec *deadline, char *err)
{
	char addr[NI_MAXHOST];

	failf(err, "%s has no address of the same family as %s", o->host,
	      o->source ? o->source : "the source");
	for (const struct addrinfo *d = dsts; d != NULL; d = d->ai_next) {
		const struct addrinfo *s = srcs ? source_for(d, srcs) : NULL;
		int fd;

		if (srcs != NULL && s == NULL)
			continue;
		fd = connect_one(d, s, deadline);
		if (fd >= 0)
			return fd;
		numeric_host(d, addr, sizeof addr);
		failf(err, "connect to %s (%s) port %u: %s", o->host, addr,
		      o->ident_port, reason(errno));
		if (remaining_ms(deadline) == 0)
			break; /* no time left to try the next address */
	}
	return -1;
}

static int open_connection(const struct options *o,
                           const struct timespec *deadline, char *err)
{
	struct addrinfo *dsts = NULL, *srcs = NULL;
	char service[8];
	int fd = -1;

	snprintf(service, sizeof service, "%u", o->ident_port);
	if (resolve(o->host, service, AI_NUMERICSERV, &dsts, err) == 0 &&
	    (o->source == NULL ||
	     resolve(o->source, NULL, AI_PASSIVE, &srcs, err) == 0))
		fd = connect_any(o, dsts, srcs, deadline, err);
	if (dsts != NULL)
		freeaddrinfo(dsts);
	if (srcs != NULL)
		freeaddrinfo(srcs);
	return fd;
}

/* --- the exchange ------------------------------------------------------ */

static int send_query(int fd, const struct options *o,
                      const struct timespec *deadline, char *err)
{
	char q[32];
	int len = snprintf(q, sizeof q, "%u , %u\r\n", o->server_port,
	                   o->client_port);
	int off = 0;

	while (off < len) {
		ssize_t n = send(fd, q + off, (size_t)(len - off), MSG_NOSIGNAL);

		if (n >= 0) {
			off += (int)n;
			continue;
		}
		if ((errno != EAGAIN && errno != EINTR) ||
		    (errno == EAGAIN && wait_ready(fd, POLLOUT, deadline) < 0))
			return failf(err, "sending the query: %s", reason(errno));
	}
	return 0;
}

/* Reads until the first LF, the end of the stream, or READ_MAX bytes.
 * *len is the line's length (with its LF), 0 if the server closed without
 * sending anything. A connection reset counts as a close: a server may
 * close without reading our query, which some kernels report as a reset. */
static int read_line(int fd, char *buf, size_t *len,
                     const struct timespec *deadline, char *err)
{
	size_t have = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + have, READ_MAX - have, 0);
		char *lf;

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		if (n < 0) {
			if ((errno != EAGAIN && errno != EINTR) ||
			    (errno == EAGAIN && wait_ready(fd, POLLIN, deadline) < 0))
				return failf(err, "reading the reply: %s", reason(errno));
			continue;
		}
		lf = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
		if (lf != NULL) {
			have = (size_t)(lf - buf) + 1;
			break;
		}
		if (have == READ_MAX)
			return failf(err, "malformed reply: no line end in %d bytes",
			             READ_MAX);
	}
	*len = have;
	return 0;
}

/* A reply must parse and be about the connection we asked about. */
static int check_reply(const struct options *o, const char *line, size_t len,
                       struct ident_reply *r, char *err)
{
	if (ident_reply_parse(line, len, r) < 0)
		return failf(err, "malformed reply from %s", o->host);
	if (r->server_port != o->server_port || r->client_port != o->client_port)
		return failf(err, "reply is about ports %u , %u, not %u , %u",
		             r->server_port, r->client_port, o->server_port,
		             o->client_port);
	return 0;
}

/* What a server closing without a reply means (RFC 1413, doc/design.md §1). */
static void unknown_error(const struct options *o, struct ident_reply *r)
{
	memset(r, 0, sizeof *r);
	r->server_port = o->server_port;
	r->client_port = o->client_port;
	snprintf(r->error, sizeof r->error, "%s",
	         reply_error_name(REPLY_UNKNOWN_ERROR));
}

/* Connects, asks, reads and checks one reply into r. */
static int ask(const struct options *o, struct ident_reply *r, char *err)
{
	struct timespec deadline = deadline_in(o->timeout);
	char buf[READ_MAX];
	size_t len = 0;
	int fd = open_connection(o, &deadline, err);
	int rc;

	if (fd < 0)
		return -1;
	rc = send_query(fd, o, &deadline, err);
	if (rc == 0)
		rc = read_line(fd, buf, &len, &deadline, err);
	close(fd);
	if (rc < 0)
		return -1;
	if (len == 0) {
		unknown_error(o, r);
		return 0;
	}
	return check_reply(o, buf, len, r, err);
}

/* --- output ------------------------------------------------------------ */

/* The user id goes to a terminal or a script: made visible first
 * (ident_visible), so that no server can send escape sequences to the
 * user's terminal or make one name look like another with bidirectional
 * overrides or invisible characters. The opsys, charset and error are
 * parsed as visible ASCII tokens and need nothing. */
static int report(const struct options *o, const struct ident_reply *r)
{
	char id[IDENT_VISIBLE_MAX] = "";

	if (r->is_userid)
		ident_visible(r->userid, strlen(r->userid), id, sizeof id);
	if (!o->verbose && r->is_userid)
		printf("%s\n", id);
	else if (!o->verbose)
		printf("%s\n", r->error);
	else if (r->is_userid)
		printf("%u , %u : USERID : %s%s%s : %s\n", r->server_port,
		       r->client_port, r->opsys, r->charset[0] ? "," : "",
		       r->charset, id);
	else
		printf("%u , %u : ERROR : %s\n", r->server_port, r->client_port,
		       r->error);
	return r->is_userid ? EXIT_USERID : EXIT_ERROR;
}

int main(int argc, char **argv)
{
	struct options o;
	struct ident_reply r;
	char err[ERR_MAX];
	int status;

	switch (parse_args(argc, argv, &o, err)) {
	case ARGS_HELP:
		usage(stdout);
		return 0;
	case ARGS_VERSION:
		printf(PROG " " PRIVIDENT_VERSION "\n");
		return 0;
	case ARGS_BAD:
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_USAGE;
	case ARGS_OK:
		break;
	}
	if (ask(&o, &r, err) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_TROUBLE;
	}
	status = report(&o, &r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": writing the reply: %s\n", strerror(errno));
		return EXIT_TROUBLE;
	}
	return status;
}
