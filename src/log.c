/* One line per event, to syslog or stderr. */
#include "log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* A log line longer than this is cut: nothing we log needs more (a reply
 * line is at most REPLY_MAX and is logged in parts). */
#define LOG_LINE_MAX 1024

static bool log_stderr;

void log_open(bool to_stderr)
{
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog("privident", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
	if (!log_stderr)
		closelog();
}

static int syslog_priority(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR: return LOG_ERR;
	case LOG_LVL_WARN: return LOG_WARNING;
	case LOG_LVL_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!log_stderr) {
		syslog(syslog_priority(lvl), "%s", line);
		return;
	}
	/* One write per line, so lines of the three processes never mix. */
	char out[LOG_LINE_MAX + 32];
	int n = snprintf(out, sizeof(out), "privident[%ld]: %s\n",
	                 (long)getpid(), line);
	if (n > (int)sizeof(out) - 1)
		n = sizeof(out) - 1;
	if (n > 0 && write(STDERR_FILENO, out, (size_t)n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
}

const char *log_addr(int family, const void *addr, char *buf, size_t size)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *log_sockaddr(const struct sockaddr *sa, char *buf, size_t size,
                         bool with_port)
{
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;
	bool v6 = sa->sa_family == AF_INET6;

	if (sa->sa_family != AF_INET && !v6) {
		snprintf(buf, size, "?");
		return buf;
	}
	log_addr(sa->sa_family, v6 ? (const void *)&s6->sin6_addr : (const void *)&s4->sin_addr,
	         a, sizeof(a));
	if (!with_port)
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", a,
		         ntohs(v6 ? s6->sin6_port : s4->sin_port));
	return buf;
}
