/* Child <-> helper message codec and transport. */
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for exactly one descriptor: a second one is a protocol error, but the
 * kernel must be able to hand it to us so that we can close it. */
#define IPC_CMSG_FDS 4

static int port_ok(uint32_t p)
{
	return p >= 1 && p <= PORT_MAX;
}

int ipc_decode_query(const void *buf, size_t len, struct ipc_query *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_QUERY)
		return -1;
	if (!port_ok(out->server_port) || !port_ok(out->client_port))
		return -1;
	return 0;
}

/* Largest port value the request parser can hand on (five digits). */
#define PARSED_PORT_MAX 99999u

/* EV_SECCOMP: sent once, from the SIGSYS handler, about no peer. */
static int seccomp_event_ok(const struct ipc_event *e)
{
	static const uint8_t none[sizeof(e->addr)];

	return e->family == AF_UNSPEC && e->count == 1 &&
	       memcmp(e->addr, none, sizeof(none)) == 0 &&
	       e->ports[0] == 0 && e->ports[1] == 0;
}

int ipc_decode_event(const void *buf, size_t len, struct ipc_event *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_EVENT || out->pad != 0 || out->count == 0)
		return -1;
	if (out->kind < EV_INVALID || out->kind >= EV_KIND_END)
		return -1;
	if (out->kind == EV_SECCOMP)
		return seccomp_event_ok(out) ? 0 : -1;
	if (out->family != AF_INET && out->family != AF_INET6)
		return -1;
	if (out->ports[0] > PARSED_PORT_MAX || out->ports[1] > PARSED_PORT_MAX)
		return -1;
	if (out->syscall_nr != 0)
		return -1;
	return 0;
}

/* A reply line is printable ASCII or UTF-8 octets, with exactly one CR LF,
 * at its end. */
static int reply_line_ok(const char *line, size_t len)
{
	if (len < 2 || line[len - 2] != '\r' || line[len - 1] != '\n')
		return 0;
	for (size_t i = 0; i < len - 2; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int ipc_decode_reply(const void *buf, size_t len, struct ipc_reply *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_REPLY)
		return -1;
	if (out->len == 0 || out->len >= sizeof(out->line))
		return -1;
	if (!reply_line_ok(out->line, out->len))
		return -1;
	return 0;
}

int ipc_send(int sock, const void *msg, size_t len, int fd, int nonblock)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Collects the descriptors of every SCM_RIGHTS block: the first into *fd,
 * any further one closed and counted as an error. */
static int take_fds(struct msghdr *mh, int *fd)
{
	int extra = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			extra = 1;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0) {
				*fd = f;
			} else {
				close(f);
				extra = 1;
			}
		}
	}
	return extra ? -1 : 0;
}

ssize_t ipc_recv(int sock, void *buf, size_t size, int *fd, int nonblock)
{
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	union {
		char buf[CMSG_SPACE(IPC_CMSG_FDS * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	int bad = take_fds(&mh, fd);
	if (bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EBADMSG;
		return -1;
	}
	return n;
}
