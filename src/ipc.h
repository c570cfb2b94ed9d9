/* Messages between the network child and the lookup helper, over a
 * SOCK_SEQPACKET socketpair. Every message is a fixed-size typed struct;
 * the receiver checks the exact length, the type, and every field's range
 * (doc/design.md §3). The decoders are pure, so they are unit tested and fuzzed. */
#ifndef PRIVIDENT_IPC_H
#define PRIVIDENT_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "limits.h"

enum ipc_type {
	IPC_QUERY = 0x51525931, /* child -> helper, with the client connection's fd */
	IPC_EVENT = 0x45564e31, /* child -> helper: something worth a log line */
	IPC_REPLY = 0x52504c31, /* helper -> child: the finished reply line */
	IPC_CT_ASK = 0x43544131,    /* helper -> conntrack role */
	IPC_CT_ANSWER = 0x43544e31, /* conntrack role -> helper */
	IPC_FWD_ASK = 0x46574131,   /* helper -> forwarder */
	IPC_FWD_ANSWER = 0x46574e31,/* forwarder -> helper */
};

/* "Who owns the connection behind this socket, on these two ports?" The
 * ports were parsed by the child and are range-checked again here. */
struct ipc_query {
	uint32_t type;        /* IPC_QUERY */
	uint32_t conn;        /* the child's connection slot, echoed in the reply */
	uint32_t gen;         /* the slot's generation, so a stale reply is dropped */
	uint16_t server_port; /* 1..65535 */
	uint16_t client_port; /* 1..65535 */
};

/* Events the child reports; the helper logs them. Numbers only: the helper
 * never formats a string the child sent. */
enum ipc_event_kind {
	EV_INVALID = 1,       /* malformed line, connection closed */
	EV_TIMEOUT,           /* idle time-out */
	EV_MAX_QUERIES,       /* --max-queries reached */
	EV_LIMIT_HOST,        /* refused: --max-per-host */
	EV_LIMIT_TOTAL,       /* refused: --max-connections */
	EV_BAD_PORT,          /* INVALID-PORT answered by the child */
	EV_SECCOMP,           /* --debug-sandbox: the child made a forbidden call */
	EV_EVICTED,           /* closed to make room in a full table */
	EV_LIMIT_SITE,        /* refused: the IPv6 /48's share */
	EV_KIND_END
};

/* EV_SECCOMP is about the child, not about a peer: family AF_UNSPEC, addr
 * and ports zero, count 1, and syscall_nr the call's number. Every other
 * kind has a peer (AF_INET or AF_INET6) and syscall_nr 0. */
struct ipc_event {
	uint32_t type;        /* IPC_EVENT */
	uint32_t kind;        /* enum ipc_event_kind */
	uint32_t count;       /* how many such events this line stands for (>= 1) */
	uint16_t family;      /* AF_INET or AF_INET6; EV_SECCOMP: AF_UNSPEC */
	uint16_t pad;         /* 0 */
	uint8_t addr[16];     /* the peer's address (AF_INET: first 4 bytes) */
	uint32_t ports[2];    /* EV_BAD_PORT: the ports as parsed (<= 99999) */
	uint32_t syscall_nr;  /* EV_SECCOMP: the forbidden call's number as the
	                         kernel reported it (any value: the helper only
	                         looks it up, or prints it as a number) */
};

struct ipc_reply {
	uint32_t type;        /* IPC_REPLY */
	uint32_t conn, gen;   /* from the query */
	uint32_t len;         /* 1..REPLY_MAX-1 bytes of line */
	char line[REPLY_MAX]; /* an RFC 1413 reply line ending CR LF */
};

/* Forwarding (doc/design.md §2, §3): "which inner host is behind this
 * relayed connection?" The tuple as the helper read it from the query
 * socket and the query: local is this host's end (address and the port
 * the query names first), remote the querier's. */
struct ipc_ct_ask {
	uint32_t type;        /* IPC_CT_ASK */
	uint32_t id;          /* echoed in the answer */
	uint16_t family;      /* AF_INET or AF_INET6 */
	uint16_t local_port, remote_port; /* 1..65535 */
	uint16_t pad;         /* 0 */
	uint8_t local[16], remote[16];    /* AF_INET: the first 4 octets, the
	                                     rest 0 */
};

enum ipc_ct_result {
	CT_FOUND = 1,         /* inner, inner_port: the original source */
	CT_NOT_FOUND,         /* no such entry */
	CT_MISMATCH,          /* an entry that is not what was asked (the
	                         kernel's reply tuple differs, or its original
	                         destination is not the querier) */
	CT_ERROR,             /* the kernel refused or failed: err */
	CT_RESULT_END
};

struct ipc_ct_answer {
	uint32_t type;        /* IPC_CT_ANSWER */
	uint32_t id;
	uint32_t result;      /* enum ipc_ct_result */
	uint32_t err;         /* CT_ERROR: an errno value (< 4096); else 0 */
	uint16_t family;      /* CT_FOUND: AF_INET or AF_INET6; else 0 */
	uint16_t inner_port;  /* CT_FOUND: 1..65535; else 0 */
	uint8_t inner[16];    /* CT_FOUND: the inner host; else 0 */
};

/* "Ask the ident server at addr, port about inner_port , server_port." */
struct ipc_fwd_ask {
	uint32_t type;        /* IPC_FWD_ASK */
	uint32_t id;
	uint16_t family;      /* AF_INET or AF_INET6 */
	uint16_t port;        /* the inner ident server's port, 1..65535 */
	uint16_t inner_port;  /* the connection's port on the inner host */
	uint16_t server_port; /* ... and on the querier's (remote) end */
	uint8_t addr[16];
	uint32_t timeout_ms;  /* 1..FWD_TIMEOUT_MS_MAX */
};

/* Bound on a forwarder's deadline: forward-timeout's largest value. */
#define FWD_TIMEOUT_MS_MAX 10000u
/* The last of forward.h's enum forward_failure (FORWARD_OK is 0). */
#define FWD_FAILURE_LAST 7u

/* The inner server's answer as the forwarder read it: failure FORWARD_OK
 * with the parsed reply (its ports the ones asked), or why there is none
 * (enum forward_failure, every other field zero). The helper re-checks it
 * all, and policy_format refuses what no reply may carry. */
struct ipc_fwd_answer {
	uint32_t type;        /* IPC_FWD_ANSWER */
	uint32_t id;
	uint32_t failure;     /* enum forward_failure, 0..FWD_FAILURE_LAST */
	uint32_t is_userid;   /* FORWARD_OK: 1 USERID, 0 ERROR */
	uint16_t server_port, client_port; /* FORWARD_OK: the reply's */
	char opsys[OPSYS_MAX + 1];   /* USERID: NUL-terminated, zeros after */
	char charset[OPSYS_MAX + 1]; /* USERID: "" or the charset */
	char userid[USERID_MAX + 1]; /* USERID: 1.. octets */
	char error[OPSYS_MAX + 1];   /* ERROR: the error's name */
};

/* Fills *e as the EV_SECCOMP event for the forbidden call nr (the shape
 * ipc_decode_event requires). Async-signal-safe: for SIGSYS handlers. */
void ipc_seccomp_event(struct ipc_event *e, int nr);

/* Exact-size, type and range checks. Return 0 and fill *out, or -1. */
int ipc_decode_query(const void *buf, size_t len, struct ipc_query *out);
int ipc_decode_event(const void *buf, size_t len, struct ipc_event *out);
int ipc_decode_reply(const void *buf, size_t len, struct ipc_reply *out);
int ipc_decode_ct_ask(const void *buf, size_t len, struct ipc_ct_ask *out);
int ipc_decode_ct_answer(const void *buf, size_t len, struct ipc_ct_answer *out);
int ipc_decode_fwd_ask(const void *buf, size_t len, struct ipc_fwd_ask *out);
int ipc_decode_fwd_answer(const void *buf, size_t len, struct ipc_fwd_answer *out);

/* The largest message either side can receive, for receive buffers: one
 * byte more than the largest message, so an over-long one is seen as such
 * rather than silently truncated. */
#define IPC_RECV_MAX (sizeof(struct ipc_fwd_answer) > sizeof(struct ipc_reply) ? \
                      sizeof(struct ipc_fwd_answer) + 1 : sizeof(struct ipc_reply) + 1)

/* Sends one message, with fd attached if fd >= 0. MSG_DONTWAIT if
 * nonblock. Returns 0, or -1 with errno (EAGAIN when the peer is busy). */
int ipc_send(int sock, const void *msg, size_t len, int fd, int nonblock);

/* Receives one message into buf (size >= IPC_RECV_MAX). *fd gets a passed
 * descriptor or -1; more than one descriptor, or a truncated message or
 * control block, closes every received descriptor and fails (EBADMSG).
 * Returns the length, 0 on end of file, or -1 with errno. */
ssize_t ipc_recv(int sock, void *buf, size_t size, int *fd, int nonblock);

#endif
