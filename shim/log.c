#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "ownfd.h"

int shim_log_level = SHIM_LOG_WARN;
static int use_syslog;
/* A log_file and the key log are tlshim's own descriptors (ownfd.h), safe
 * from the program's closes and dup2s; without a log_file lines go to
 * descriptor 2, which is the program's. */

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int shim_log_parse_level(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

int shim_log_open(const char *dest, int level)
{
	shim_log_level = level;
	if (!dest || strcmp(dest, "stderr") == 0)
		return 0;
	if (strcmp(dest, "syslog") == 0) {
		openlog("tlshim", LOG_PID, LOG_DAEMON);
		use_syslog = 1;
		return 0;
	}
	return shim_ownfd_open(SHIM_OWNFD_LOG, dest, O_WRONLY | O_APPEND | O_CREAT, 0640);
}

/* The wrapper links this file without the descriptor table. */
__attribute__((weak)) int shim_log_fd_is_tls(int fd)
{
	(void)fd;
	return 0;
}

void shim_log(int level, const char *fmt, ...)
{
	if (!shim_log_enabled(level))
		return;
	int saved = errno; /* logging must not disturb what the program sees */
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	if (use_syslog) {
		vsnprintf(line, sizeof line, fmt, ap);
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "%s: %s", level_names[level], line);
	} else {
		int n = snprintf(line, sizeof line, "tlshim[%d]: %s: ", (int)getpid(),
				 level_names[level]);
		int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
		size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
		if (len > sizeof line - 2)
			len = sizeof line - 2;
		line[len++] = '\n';
		/* A program may have put a TLS connection on descriptor 2
		 * (inetd-style dup2): our lines would go to its peer in clear. */
		if (shim_ownfd_active(SHIM_OWNFD_LOG))
			shim_ownfd_write(SHIM_OWNFD_LOG, line, len);
		else if (!shim_log_fd_is_tls(2))
			shim_write_all(2, line, len);
	}
	va_end(ap);
	errno = saved;
}

int shim_keylog_open(const char *path)
{
	return shim_ownfd_open(SHIM_OWNFD_KEYLOG, path, O_WRONLY | O_APPEND | O_CREAT, 0600);
}

int shim_keylog_active(void)
{
	return shim_ownfd_active(SHIM_OWNFD_KEYLOG);
}

void shim_keylog_line(void *arg, const char *line)
{
	(void)arg;
	if (!shim_keylog_active())
		return;
	int saved = errno;
	char buf[512];
	int n = snprintf(buf, sizeof buf, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof buf)
		shim_ownfd_write(SHIM_OWNFD_KEYLOG, buf, (size_t)n);
	explicit_bzero(buf, sizeof buf);
	errno = saved;
}
