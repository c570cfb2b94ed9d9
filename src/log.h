/* Logging: one line per event, to syslog (facility daemon) or to stderr
 * (-f). The network child never logs: its events go through the helper.
 * Addresses in a line are formatted by sockaddr.h, their one home. */
#ifndef PRIVIDENT_LOG_H
#define PRIVIDENT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* to_stderr: log to standard error, else syslog (opened at once, so that the
 * sandbox later needs no socket creation). */
void log_open(bool to_stderr);
void log_close(void);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
