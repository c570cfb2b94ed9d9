/* One line per event, to syslog or stderr. */
#include "log.h"

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
