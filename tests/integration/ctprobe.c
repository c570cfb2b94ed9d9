/* ctprobe: src/ctnl.c against the real kernel, for test_conntrack.py.
 *
 *   ctprobe [-v] LOCAL LOCAL-PORT REMOTE REMOTE-PORT
 *
 * LOCAL and REMOTE name a connection as the lookup helper has it (this
 * host's end where the ident query arrived, and the querier's). ctprobe
 * opens NETLINK_NETFILTER, sends ctnl_build_get's request, receives the
 * answer as ctnl.h describes the exchange, and prints one line:
 *   FOUND <inner address> <inner port> <original destination> <its port>
 *   NOT_FOUND | MISMATCH | ERROR <what>
 * exiting 0, 1, 2, 3 respectively (64 for a usage error). -v writes each
 * datagram received to standard error in hex. Needs CAP_NET_ADMIN in the
 * network namespace. A test program, not installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "ctnl.h"

/* The kernel answers a get inside our sendto; one second is a kernel that
 * will not answer at all. */
#define PROBE_RECV_TIMEOUT_SEC 1

enum { EXIT_FOUND, EXIT_NOT_FOUND, EXIT_MISMATCH, EXIT_ERROR, EXIT_USAGE = 64 };

static int verbose;

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Both addresses of one family, into t. */
static int parse_tuple(char **argv, struct tcp_tuple *t)
{
	memset(t, 0, sizeof *t);
	if (inet_pton(AF_INET, argv[0], t->local) == 1 &&
	    inet_pton(AF_INET, argv[2], t->remote) == 1)
		t->family = AF_INET;
	else if (inet_pton(AF_INET6, argv[0], t->local) == 1 &&
	         inet_pton(AF_INET6, argv[2], t->remote) == 1)
		t->family = AF_INET6;
	else
		return -1;
	if (parse_port(argv[1], &t->local_port) < 0 ||
	    parse_port(argv[3], &t->remote_port) < 0)
		return -1;
	return 0;
}

/* The socket, bound, with its port id and a receive time-out. */
static int open_ctnl(uint32_t *portid)
{
	struct timeval tv = { .tv_sec = PROBE_RECV_TIMEOUT_SEC, .tv_usec = 0 };
	struct sockaddr_nl sa;
	socklen_t salen = sizeof sa;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0 ||
	    salen < sizeof sa ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
		close(fd);
		return -1;
	}
	*portid = sa.nl_pid;
	return fd;
}

static void dump(const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "datagram, %zu bytes:", n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", p[i]);
	fputc('\n', stderr);
}

/* One whole datagram from the kernel (nl_pid 0), or -1. */
static ssize_t recv_one(int fd, uint8_t *buf, size_t size)
{
	struct sockaddr_nl from;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof msg);
	memset(&from, 0, sizeof from);
	msg.msg_name = &from;
	msg.msg_namelen = sizeof from;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	n = recvmsg(fd, &msg, 0);
	if (n < 0 || (msg.msg_flags & MSG_TRUNC) || from.nl_pid != 0)
		return -1;
	if (verbose)
		dump(buf, (size_t)n);
	return n;
}

/* The exchange of ctnl.h: the entry (or an error), then the ack. */
static enum ctnl_status ask(int fd, uint32_t portid, const struct tcp_tuple *t,
                            struct ctnl_result *res, const char **why)
{
	static uint8_t reply[CTNL_REPLY_MAX];
	uint8_t req[CTNL_REQUEST_SIZE];
	struct sockaddr_nl kernel;
	struct ctnl_result ack;
	enum ctnl_status st;
	const uint32_t seq = 1;
	int len;
	ssize_t n;

	*why = "";
	len = ctnl_build_get(req, sizeof req, seq, t);
	if (len < 0) {
		*why = "request";
		return CTNL_ERROR;
	}
	memset(&kernel, 0, sizeof kernel);
	kernel.nl_family = AF_NETLINK;
	if (sendto(fd, req, (size_t)len, 0, (struct sockaddr *)&kernel,
	           sizeof kernel) != len) {
		*why = "send";
		return CTNL_ERROR;
	}
	n = recv_one(fd, reply, sizeof reply);
	if (n < 0) {
		*why = "receive";
		return CTNL_ERROR;
	}
	st = ctnl_parse_reply(reply, (size_t)n, seq, portid, t, res);
	if (st == CTNL_ACK) {
		*why = "acknowledged with no entry";
		return CTNL_ERROR;
	}
	if (st != CTNL_FOUND && st != CTNL_MISMATCH)
		return st;
	n = recv_one(fd, reply, sizeof reply);
	if (n < 0 || ctnl_parse_reply(reply, (size_t)n, seq, portid, t, &ack) != CTNL_ACK) {
		*why = "no acknowledgement after the entry";
		return CTNL_ERROR;
	}
	return st;
}

int main(int argc, char **argv)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct ctnl_result res;
	struct tcp_tuple t;
	enum ctnl_status st;
	const char *why;
	uint32_t portid;
	int fd;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc != 5 || parse_tuple(argv + 1, &t) < 0) {
		fprintf(stderr, "usage: ctprobe [-v] LOCAL LOCAL-PORT REMOTE REMOTE-PORT\n");
		return EXIT_USAGE;
	}
	fd = open_ctnl(&portid);
	if (fd < 0) {
		printf("ERROR socket: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	st = ask(fd, portid, &t, &res, &why);
	close(fd);
	switch (st) {
	case CTNL_FOUND:
		inet_ntop(res.family, res.src, src, sizeof src);
		inet_ntop(res.family, res.dst, dst, sizeof dst);
		printf("FOUND %s %u %s %u\n", src, res.src_port, dst, res.dst_port);
		return EXIT_FOUND;
	case CTNL_NOT_FOUND:
		printf("NOT_FOUND\n");
		return EXIT_NOT_FOUND;
	case CTNL_MISMATCH:
		printf("MISMATCH\n");
		return EXIT_MISMATCH;
	default:
		printf("ERROR %s\n", why);
		return EXIT_ERROR;
	}
}
