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

void ipc_seccomp_event(struct ipc_event *e, int nr)
{
	memset(e, 0, sizeof(*e));
	e->type = IPC_EVENT;
	e->kind = EV_SECCOMP;
	e->count = 1;
	e->family = AF_UNSPEC;
	e->syscall_nr = (uint32_t)nr;
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

/* An address field: AF_INET leaves octets 4..15 zero. */
static int addr_ok(uint16_t family, const uint8_t a[16])
{
	static const uint8_t zero[12];

	if (family == AF_INET)
		return memcmp(a + 4, zero, sizeof(zero)) == 0;
	return family == AF_INET6;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int ipc_decode_ct_ask(const void *buf, size_t len, struct ipc_ct_ask *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_CT_ASK || out->pad != 0 ||
	    !port_ok(out->local_port) || !port_ok(out->remote_port) ||
	    !addr_ok(out->family, out->local) || !addr_ok(out->family, out->remote))
		return -1;
	return 0;
}

/* Largest errno value the kernel hands out (MAX_ERRNO). */
#define ERRNO_MAX 4095u

int ipc_decode_ct_answer(const void *buf, size_t len, struct ipc_ct_answer *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_CT_ANSWER || out->result < CT_FOUND ||
	    out->result >= CT_RESULT_END)
		return -1;
	if (out->result == CT_FOUND)
		return port_ok(out->inner_port) && addr_ok(out->family, out->inner) &&
		       out->err == 0 ? 0 : -1;
	if (out->family != 0 || out->inner_port != 0 ||
	    !all_zero(out->inner, sizeof(out->inner)))
		return -1;
	if (out->result == CT_ERROR)
		return out->err >= 1 && out->err <= ERRNO_MAX ? 0 : -1;
	return out->err == 0 ? 0 : -1;
}

int ipc_decode_fwd_ask(const void *buf, size_t len, struct ipc_fwd_ask *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_FWD_ASK || !port_ok(out->port) ||
	    !port_ok(out->inner_port) || !port_ok(out->server_port) ||
	    !addr_ok(out->family, out->addr) || out->timeout_ms == 0 ||
	    out->timeout_ms > FWD_TIMEOUT_MS_MAX)
		return -1;
	return 0;
}

/* A NUL-terminated string filling its field: 1.. octets, zeros after. */
static int field_ok(const char *f, size_t size, int may_be_empty)
{
	size_t n = strnlen(f, size);

	if (n == size || (n == 0 && !may_be_empty))
		return 0;
	return all_zero(f + n, size - n);
}

int ipc_decode_fwd_answer(const void *buf, size_t len, struct ipc_fwd_answer *out)
{
	if (len != sizeof(*out))
		return -1;
	memcpy(out, buf, sizeof(*out));
	if (out->type != IPC_FWD_ANSWER || out->failure > FWD_FAILURE_LAST)
		return -1;
	if (out->failure != 0)
		return out->is_userid == 0 && out->server_port == 0 &&
		       out->client_port == 0 &&
		       all_zero(out->opsys, sizeof(out->opsys)) &&
		       all_zero(out->charset, sizeof(out->charset)) &&
		       all_zero(out->userid, sizeof(out->userid)) &&
		       all_zero(out->error, sizeof(out->error)) ? 0 : -1;
	if (!port_ok(out->server_port) || !port_ok(out->client_port) ||
	    out->is_userid > 1)
		return -1;
	/* The text is checked again where the reply is formatted
	 * (reply_format_userid refuses controls, bad UTF-8, a bad opsys). */
	if (out->is_userid)
		return field_ok(out->opsys, sizeof(out->opsys), 0) &&
		       field_ok(out->charset, sizeof(out->charset), 1) &&
		       field_ok(out->userid, sizeof(out->userid), 0) &&
		       all_zero(out->error, sizeof(out->error)) ? 0 : -1;
	return field_ok(out->error, sizeof(out->error), 0) &&
	       all_zero(out->opsys, sizeof(out->opsys)) &&
	       all_zero(out->charset, sizeof(out->charset)) &&
	       all_zero(out->userid, sizeof(out->userid)) ? 0 : -1;
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
