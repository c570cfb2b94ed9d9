/* Logging: one line per event, to syslog (facility daemon) or to stderr
 * (-f). The network child never logs: its events go through the helper.
 * Addresses in a line are formatted by sockaddr.h, their one home. */
#ifndef PRIVIDENT_LOG_H
#define PRIVIDENT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* to_stderr: log to standard error, else syslog (connected at once, so
 * that a sandboxed worker needs no socket creation while syslog stays up).
 * log_close forgets the syslog socket (closes it), as a worker must before
 * it closes the descriptors it does not hold (doc/design.md §6). */
void log_open(bool to_stderr);
void log_close(void);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The line "a b", async-signal-safe (a SIGSYS handler's report): no
 * allocation, no time stamp, one write or send that never blocks. */
void log_raw(enum log_level lvl, const char *a, const char *b);
/* Async-signal-safe string building: append s, or v in decimal, to buf
 * (size bytes, *len used), cutting at the end; buf stays NUL-terminated. */
void log_cat(char *buf, size_t size, size_t *len, const char *s);
void log_cat_uint(char *buf, size_t size, size_t *len, unsigned long v);

#endif
