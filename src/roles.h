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

/* The lookup helper answers queries on sock until the child goes away.
 * child is the network child's pid, stopped if it breaks the protocol.
 * prepare opens the netlink socket and loads the name-service modules,
 * before the sandbox; serve returns the process exit status. */
int helper_prepare(const struct config *c, int sock, pid_t child);
/* The token key (from keyfile_load, inherited across fork), before
 * helper_prepare; helper_serve wipes it before it returns. */
void helper_use_key(uint8_t *key);
int helper_serve(void);
/* --debug-sandbox: logs the forbidden call nr (from the SIGSYS handler,
 * async-signal-safe). */
void helper_report_syscall(int nr);

/* The network child serves the listening sockets (or, with inetd_fd >= 0,
 * that one connection) through the helper on sock. prepare allocates
 * everything the loop needs, before the sandbox; serve returns the exit
 * status. */
int child_prepare(const struct config *c, const struct listen_set *ls,
                  int inetd_fd, int sock);
int child_serve(void);
/* --debug-sandbox: reports the forbidden call nr to the helper's log (from
 * the SIGSYS handler: one sendmsg). */
void child_report_syscall(int nr);

/* The monitor: opens the sockets, starts and restarts the workers. */
int monitor_main(struct config *c, const struct cli *cli);

#endif
