/* Where the connections come from: sockets we bind, sockets systemd passes
 * (LISTEN_FDS), or inetd's connection on standard input. */
#ifndef PRIVIDENT_LISTEN_H
#define PRIVIDENT_LISTEN_H

#include <stddef.h>
#include "config.h"
#include "roles.h"

/* Takes over systemd's sockets when LISTEN_PID names us. Returns 1 if it
 * did, 0 if there are none, -1 with a message if they are unusable. */
int listen_activated(struct listen_set *ls, char *err, size_t errsz);

/* Binds and listens on the configured addresses (default: port 113 on all
 * addresses, IPv6 and IPv4) into ls. An address old (or NULL) already
 * listens on keeps its socket: a reload that keeps an address never has to
 * bind it again while the running child still holds it. On success old's
 * other sockets are closed; on failure old is left as it was. Returns 0,
 * or -1 with a message. */
int listen_open(const struct config *c, const struct listen_set *old,
                struct listen_set *ls, char *err, size_t errsz);

/* Checks that fd is a connected TCP socket (inetd mode), and makes it
 * non-blocking. */
int listen_check_inetd(int fd, char *err, size_t errsz);

/* A one-line description of the sockets, for the start-up log line. */
void listen_describe(const struct listen_set *ls, char *buf, size_t size);

#endif
