/* One line per event, to syslog or stderr. */
#include "log.h"

#include <paths.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* A log line longer than this is cut: nothing we log needs more (a reply
 * line is at most REPLY_MAX and is logged in parts). */
#define LOG_LINE_MAX 1024
/* What goes before a line: "<pri>Mmm dd hh:mm:ss privident[pid]: ". */
#define LOG_PREFIX_MAX 64

static bool log_stderr;
/* Standard error, or our own datagram socket connected to syslog (not
 * glibc's, whose descriptor nobody can know: a worker closes every
 * descriptor it does not hold on purpose, and the SIGSYS handler writes
 * here), or -1 (syslog not reachable; tried again at the next line). */
static int log_fd = -1;

static int syslog_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void log_open(bool to_stderr)
{
	log_stderr = to_stderr;
	log_fd = to_stderr ? STDERR_FILENO : syslog_connect();
}

void log_close(void)
{
	if (!log_stderr && log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

void log_cat(char *buf, size_t size, size_t *len, const char *s)
{
	while (*s && *len + 1 < size)
		buf[(*len)++] = *s++;
	if (*len < size)
		buf[*len] = '\0';
}

void log_cat_uint(char *buf, size_t size, size_t *len, unsigned long v)
{
	char digits[24];
	size_t n = sizeof(digits) - 1;

	digits[n] = '\0';
	do
		digits[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	log_cat(buf, size, len, digits + n);
}

static int syslog_priority(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR: return LOG_DAEMON | LOG_ERR;
	case LOG_LVL_WARN: return LOG_DAEMON | LOG_WARNING;
	case LOG_LVL_INFO: return LOG_DAEMON | LOG_INFO;
	default: return LOG_DAEMON | LOG_DEBUG;
	}
}

/* Writes "[<pri>stamp ]privident[pid]: a b" as one datagram (syslog) or
 * one line (stderr, so that lines of the three processes never mix).
 * Async-signal-safe: no allocation, no stdio, one system call. */
static ssize_t emit(enum log_level lvl, const char *stamp, const char *a,
                    const char *b, int flags)
{
	char out[LOG_PREFIX_MAX + LOG_LINE_MAX + 2];
	size_t n = 0;

	if (!log_stderr) {
		log_cat(out, sizeof(out), &n, "<");
		log_cat_uint(out, sizeof(out), &n, (unsigned long)syslog_priority(lvl));
		log_cat(out, sizeof(out), &n, ">");
		log_cat(out, sizeof(out), &n, stamp);
	}
	log_cat(out, sizeof(out), &n, "privident[");
	log_cat_uint(out, sizeof(out), &n, (unsigned long)getpid());
	log_cat(out, sizeof(out), &n, "]: ");
	log_cat(out, sizeof(out), &n, a);
	log_cat(out, sizeof(out), &n, b);
	if (log_stderr) {
		log_cat(out, sizeof(out), &n, "\n");
		out[n - 1] = '\n';   /* a cut line still ends */
		return write(log_fd, out, n);
	}
	return log_fd < 0 ? -1 : send(log_fd, out, n, MSG_NOSIGNAL | flags);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], stamp[32] = "";
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!log_stderr && localtime_r(&now, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%b %e %T ", &tm);
	if (emit(lvl, stamp, line, "", 0) >= 0 || log_stderr)
		return;   /* nowhere left to report a failed write to stderr */
	/* The syslog daemon restarted, or was not there yet: reconnect once,
	 * as syslog(3) does. */
	log_close();
	log_fd = syslog_connect();
	(void)emit(lvl, stamp, line, "", 0);
}

void log_raw(enum log_level lvl, const char *a, const char *b)
{
	/* No time stamp (no time zone in a signal handler): syslog takes the
	 * time of arrival. Never blocks: the caller is about to exit. */
	(void)emit(lvl, "", a, b, MSG_DONTWAIT);
}
