/*
 * log.h: the shim's log lines (INTERFACE.md "What the user sees"): each
 * starts with "tlshim[PID]: " and goes to stderr, syslog or a file, written
 * with the real write() so logging never re-enters a hook.
 */
#ifndef TLSHIM_SHIM_LOG_H
#define TLSHIM_SHIM_LOG_H

enum shim_log_level { SHIM_LOG_ERROR, SHIM_LOG_WARN, SHIM_LOG_INFO, SHIM_LOG_DEBUG };

extern int shim_log_level;

/* shim_log_parse_level(name): the level for "error|warn|info|debug", or -1. */
int shim_log_parse_level(const char *name);

/* shim_log_open(dest, level): send lines at ${level} or more severe to
 * ${dest}: "stderr", "syslog" or a file path (appended). 0 or -1. */
int shim_log_open(const char *dest, int level);

/* shim_log(level, fmt, ...): one line, when ${level} is enabled. */
void shim_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define shim_log_enabled(level) ((level) <= shim_log_level)

/* shim_log_fd_is_tls(fd): ${fd} is a TLS descriptor, so log lines must
 * not be written to it in clear (a program dup2'ed a connection onto 2).
 * The library defines it (hook_stdio.c); the default says no. */
int shim_log_fd_is_tls(int fd);

/* shim_keylog_open(path): append NSS key log lines to ${path} (0600).
 * shim_keylog_line is the engine's keylog callback (arg unused). */
int shim_keylog_open(const char *path);
void shim_keylog_line(void *arg, const char *line);
/* shim_keylog_active(): a key log file is open. */
int shim_keylog_active(void);

#endif
