/*
 * hook_exec.c: exec and spawn (DESIGN.md "The hard cases", exec).
 *
 * A TLS connection's keys and sequence numbers live in this process's
 * memory; a descriptor that survives exec would hand the new program the
 * raw TLS stream, and whatever it wrote there would go out in clear. Until
 * connection state is handed over across exec, such an exec is refused
 * (EPERM, logged): plaintext on a TLS stream is never an outcome.
 *
 * Every exec also keeps tlshim in the new program: LD_PRELOAD and
 * TLSHIM_CONFIG are put back if the program stripped them, and a setuid,
 * setgid or file-capability program (for which the loader ignores
 * LD_PRELOAD) is refused while TLS connections are open.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "rules.h"

extern char **environ;

static int inherited(int fd, sconn *s, void *arg)
{
	(void)s;
	int fl = REAL(fcntl)(fd, F_GETFD);
	if (fl >= 0 && !(fl & FD_CLOEXEC)) {
		*(int *)arg = fd;
		return 1;
	}
	return 0;
}

static int any(int fd, sconn *s, void *arg)
{
	(void)s;
	*(int *)arg = fd;
	return 1;
}

/* A program the loader runs in secure-execution mode (LD_PRELOAD ignored). */
static bool privileged(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) < 0)
		return false;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return true;
	return getxattr(path, "security.capability", NULL, 0) > 0;
}

/* 0 when ${path} may be exec'd now; -1 with errno EPERM (and a log line). */
static int exec_allowed(const char *what, const char *path)
{
	if (!shim_rules_active())
		return 0;
	int fd = -1;
	if (fdtab_foreach(inherited, &fd)) {
		shim_log(SHIM_LOG_WARN,
			 "%s %s refused: TLS connection on fd %d would reach the new program "
			 "without tlshim's state (mark it close-on-exec or close it first)",
			 what, path ? path : "?", fd);
		errno = EPERM;
		return -1;
	}
	if (privileged(path) && fdtab_foreach(any, &fd)) {
		shim_log(SHIM_LOG_WARN,
			 "%s %s refused: it is setuid/setgid or has file capabilities, so the "
			 "loader would drop tlshim while TLS connections are open",
			 what, path);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Our own file name, for LD_PRELOAD. */
static const char *self_path(void)
{
	static char path[PATH_MAX];
	if (!path[0]) {
		Dl_info info;
		if (dladdr((void *)self_path, &info) && info.dli_fname)
			snprintf(path, sizeof path, "%s", info.dli_fname);
	}
	return path;
}

/* An environment equal to ${envp} but with tlshim in LD_PRELOAD and the
 * policy in TLSHIM_CONFIG (malloc'd array; strings it adds are malloc'd
 * too and, like the array, intentionally live until exec). NULL when
 * nothing needs to change. */
static char **with_tlshim(char *const envp[])
{
	const char *lib = self_path();
	const char *policy = shim_rules_path();
	if (!lib[0] || !policy)
		return NULL;
	size_t n = 0, preload = (size_t)-1, config = (size_t)-1;
	for (; envp && envp[n]; n++) {
		if (strncmp(envp[n], "LD_PRELOAD=", 11) == 0)
			preload = n;
		else if (strncmp(envp[n], "TLSHIM_CONFIG=", 14) == 0)
			config = n;
	}
	bool has_lib = preload != (size_t)-1 && strstr(envp[preload] + 11, lib) != NULL;
	bool has_cfg = config != (size_t)-1 && strcmp(envp[config] + 14, policy) == 0;
	if (has_lib && has_cfg)
		return NULL;
	char **out = calloc(n + 3, sizeof *out);
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (i != preload && i != config)
			out[k++] = envp[i];
	char *p = NULL, *c = NULL;
	const char *old = preload != (size_t)-1 ? envp[preload] + 11 : "";
	if (has_lib ? asprintf(&p, "LD_PRELOAD=%s", old) < 0
		    : asprintf(&p, "LD_PRELOAD=%s%s%s", lib, *old ? ":" : "", old) < 0)
		p = NULL;
	if (asprintf(&c, "TLSHIM_CONFIG=%s", policy) < 0)
		c = NULL;
	if (p)
		out[k++] = p;
	if (c)
		out[k++] = c;
	out[k] = NULL;
	return out;
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (exec_allowed("exec", path) < 0)
		return -1;
	char **env = shim_rules_active() ? with_tlshim(envp) : NULL;
	int r = REAL(execve)(path, argv, env ? env : envp);
	int saved = errno;
	free(env);
	errno = saved;
	return r;
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* PATH search as execvp does it, for the privileged-program check. */
static bool which(const char *file, char *out, size_t len)
{
	if (strchr(file, '/')) {
		snprintf(out, len, "%s", file);
		return true;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		snprintf(out, len, "%.*s/%s", (int)(end - path), path, file);
		if (access(out, X_OK) == 0)
			return true;
		path = *end ? end + 1 : end;
	}
	return false;
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char full[PATH_MAX];
	if (exec_allowed("exec", which(file, full, sizeof full) ? full : file) < 0)
		return -1;
	char **env = shim_rules_active() ? with_tlshim(envp) : NULL;
	int r = REAL(execvpe)(file, argv, env ? env : envp);
	int saved = errno;
	free(env);
	errno = saved;
	return r;
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* execl family: collect the variadic arguments into an argv. */
#define COLLECT_ARGS(first, last_arg, argv)         \
	va_list ap;                                 \
	size_t n_ = 1;                              \
	va_start(ap, first);                        \
	while (va_arg(ap, char *))                  \
		n_++;                               \
	va_end(ap);                                 \
	char **argv = calloc(n_ + 1, sizeof *argv); \
	if (!argv) {                                \
		errno = ENOMEM;                     \
		return -1;                          \
	}                                           \
	argv[0] = (char *)(first);                  \
	va_start(ap, first);                        \
	for (size_t i_ = 1; i_ <= n_; i_++)         \
		argv[i_] = va_arg(ap, char *);      \
	last_arg;                                   \
	va_end(ap)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(arg, (void)0, argv);
	int r = execve(path, argv, environ);
	free(argv);
	return r;
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	COLLECT_ARGS(arg, (void)0, argv);
	int r = execvpe(file, argv, environ);
	free(argv);
	return r;
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	COLLECT_ARGS(arg, envp = va_arg(ap, char *const *), argv);
	int r = execve(path, argv, envp);
	free(argv);
	return r;
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (exec_allowed("spawn", path) < 0)
		return EPERM;
	char **env = shim_rules_active() ? with_tlshim(envp) : NULL;
	int r = REAL(posix_spawn)(pid, path, fa, attr, argv, env ? env : envp);
	free(env);
	return r;
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	char full[PATH_MAX];
	if (exec_allowed("spawn", which(file, full, sizeof full) ? full : file) < 0)
		return EPERM;
	char **env = shim_rules_active() ? with_tlshim(envp) : NULL;
	int r = REAL(posix_spawnp)(pid, file, fa, attr, argv, env ? env : envp);
	free(env);
	return r;
}

/* system() and popen() start /bin/sh through glibc's internal spawn, which
 * no hook sees; check here, before it happens. */
SHIM_EXPORT int system(const char *cmd)
{
	if (cmd && exec_allowed("system", "/bin/sh") < 0)
		return -1;
	return REAL(system)(cmd);
}

SHIM_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	if (exec_allowed("popen", "/bin/sh") < 0)
		return NULL;
	return REAL(popen)(cmd, mode);
}
