/* The three roles' entry points (doc/design.md §2). */
#ifndef PRIVIDENT_ROLES_H
#define PRIVIDENT_ROLES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "config.h"

struct listen_set {
	int fds[LISTEN_MAX];
	unsigned n;
	bool activated;  /* inherited from systemd: never re-opened on SIGHUP */
};

/* Descriptors above 2 that a process keeps when it closes the rest
 * (doc/design.md §6): the listeners, the socketpair's end, the epoll
 * instance, inetd's connection, the pidfd, with room to spare. */
#define KEEP_FDS_MAX (LISTEN_MAX + 8)
struct keep_fds {
	int fd[KEEP_FDS_MAX];
	unsigned n;
	bool overflow;   /* one did not fit: the sandbox refuses to start */
};

static inline void keep_fd(struct keep_fds *k, int fd)
{
	if (fd >= 0 && k->n < KEEP_FDS_MAX)
		k->fd[k->n++] = fd;
	else if (fd >= 0)
		k->overflow = true;
}

/* The lookup helper answers queries on sock until the child goes away.
 * child_pidfd refers to the network child, stopped (SIGKILL) if it breaks
 * the protocol. prepare opens the netlink socket and loads the
 * name-service modules, as the service user, before the filter; serve
 * returns the process exit status. */
int helper_prepare(const struct config *c, int sock, int child_pidfd);
/* With forward-network: the helper's ends of the conntrack role's and the
 * forwarder's socketpairs, before helper_prepare (else both are -1). */
void helper_use_forwarding(int ct_sock, int fwd_sock);
/* The token key (from keyfile_load, inherited across fork), before
 * helper_prepare; helper_serve wipes it before it returns. */
void helper_use_key(uint8_t *key);
int helper_serve(void);
/* --debug-sandbox: logs the forbidden call nr (from the SIGSYS handler,
 * async-signal-safe). */
void helper_report_syscall(int nr);

/* The network child serves the listening sockets (or, with inetd_fd >= 0,
 * that one connection) through the helper on sock. prepare allocates
 * everything the loop needs, before the sandbox, and adds to keep every
 * descriptor it opened for the loop; serve returns the exit status. */
int child_prepare(const struct config *c, const struct listen_set *ls,
                  int inetd_fd, int sock, struct keep_fds *keep);
int child_serve(void);
/* --debug-sandbox: reports the forbidden call nr to the helper's log (from
 * the SIGSYS handler: one sendmsg). */
void child_report_syscall(int nr);

/* The conntrack role (src/ctrack.c): prepare opens and binds its
 * NETLINK_NETFILTER socket, as the service user holding CAP_NET_ADMIN,
 * adds it to keep and returns it (or -1 with errno); serve answers the
 * helper on sock until it goes away and returns the exit status. */
int ctrack_prepare(int sock, struct keep_fds *keep);
int ctrack_serve(void);
/* --debug-sandbox: reports the forbidden call nr to the helper, which
 * logs it (from the SIGSYS handler: one sendmsg on the socketpair). */
void ctrack_report_syscall(int nr);

/* The forwarder (src/forwarder.c): asks inner ident servers for the
 * helper on sock, within the configuration's forward-networks. */
int forwarder_prepare(const struct config *c, int sock);
int forwarder_serve(void);
void forwarder_report_syscall(int nr);   /* as ctrack_report_syscall */

/* Exit status of a network child whose helper stopped answering: queries
 * waited past --lookup-timeout and a grace period with no word from it. */
#define EXIT_HELPER_STALLED 72

/* The monitor: opens the sockets, starts and restarts the workers. */
int monitor_main(struct config *c, const struct cli *cli);

#endif
