/*
 * hook_system.c: system(), popen() and pclose() (DESIGN.md "Crossing
 * exec", handover.h).
 *
 * libc starts the shell of system() and popen() with its internal spawn,
 * which no hook sees and whose environment we cannot extend: a TLS
 * connection that reached that shell could not be handed over. So when
 * one would (a TLS descriptor without close-on-exec, and the policy
 * active), these calls run the shell through our posix_spawn hook
 * (hook_exec.c), which hands the connection over or refuses (EPERM, as an
 * exec would). Otherwise they are libc's own, unchanged.
 *
 * What they keep of POSIX (system(3), popen(3)):
 * - system(cmd) runs "/bin/sh -c cmd"; while it waits, the caller ignores
 *   SIGINT and SIGQUIT (counted across threads that call it at once) and
 *   blocks SIGCHLD; the shell starts with the caller's mask and with
 *   SIGINT/SIGQUIT at their default unless the caller ignored them. It
 *   returns the shell's wait status, or -1 with errno when the shell
 *   could not be started or waited for. system(NULL) is libc's.
 * - popen(cmd, "r"/"w", optionally "e") gives a stream on a pipe whose
 *   other end is the shell's stdout or stdin; the streams of earlier
 *   popen() calls still open are closed in the new shell. With "e" the
 *   stream's descriptor is close-on-exec. pclose() waits for the shell of
 *   that stream and returns its wait status.
 * So that the second rule holds for every mix, every popen() stream is
 * remembered (pid 0 for libc's own), and once one of ours is open the
 * later popen() calls are ours too (libc's child would not close ours).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"
#include "rules.h"

extern char **environ;

#define SHELL_PATH "/bin/sh"

struct cross {
	int skip; /* replaced in the child (popen's pipe end), or -1 */
};

static int crosses(int fd, sconn *s, void *arg)
{
	(void)s;
	const struct cross *c = arg;
	int fl = REAL(fcntl)(fd, F_GETFD);
	return fd != c->skip && fl >= 0 && !(fl & FD_CLOEXEC);
}

/* A TLS connection would reach a shell started now (${skip}: a number the
 * shell gets something else at). */
static bool tls_would_cross(int skip)
{
	struct cross c = {skip};
	return shim_rules_active() && fdtab_foreach(crosses, &c) != 0;
}

/* waitpid(pid) through signals: the status, or -1 with errno. */
static int wait_for(pid_t pid)
{
	int st;
	for (;;) {
		if (waitpid(pid, &st, 0) == pid)
			return st;
		if (errno != EINTR)
			return -1;
	}
}

/* ---- system ---- */

static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static int sys_users;                      /* callers inside system() now */
static struct sigaction sys_int, sys_quit; /* the dispositions before the first */

static int shell_system(const char *cmd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigemptyset(&ign.sa_mask);
	pthread_mutex_lock(&sys_lock);
	if (sys_users++ == 0) {
		sigaction(SIGINT, &ign, &sys_int);
		sigaction(SIGQUIT, &ign, &sys_quit);
	}
	sigset_t def;
	sigemptyset(&def);
	if (sys_int.sa_handler != SIG_IGN)
		sigaddset(&def, SIGINT);
	if (sys_quit.sa_handler != SIG_IGN)
		sigaddset(&def, SIGQUIT);
	pthread_mutex_unlock(&sys_lock);
	sigset_t chld, mask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &mask);

	posix_spawnattr_t at;
	int st = -1, err = posix_spawnattr_init(&at);
	if (!err) {
		posix_spawnattr_setsigdefault(&at, &def);
		posix_spawnattr_setsigmask(&at, &mask);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
		char *argv[] = {"sh", "-c", "--", (char *)cmd, NULL};
		pid_t pid;
		err = posix_spawn(&pid, SHELL_PATH, NULL, &at, argv, environ);
		posix_spawnattr_destroy(&at);
		if (!err && (st = wait_for(pid)) < 0)
			err = errno;
	}
	pthread_mutex_lock(&sys_lock);
	if (--sys_users == 0) {
		sigaction(SIGINT, &sys_int, NULL);
		sigaction(SIGQUIT, &sys_quit, NULL);
	}
	pthread_mutex_unlock(&sys_lock);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return st;
}

SHIM_EXPORT int system(const char *cmd)
{
	if (!tls_would_cross(-1))
		return REAL(system)(cmd);
	/* libc's system(NULL) runs a shell too ("exit 0"): a shell exists */
	return cmd ? shell_system(cmd) : access(SHELL_PATH, X_OK) == 0;
}

/* ---- popen / pclose ---- */

struct stream {
	FILE *f;
	pid_t pid; /* 0: libc's popen made it */
	int fd;
	struct stream *next;
};

static struct stream *streams;
static int ours_open; /* streams with pid != 0 */
static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;

static void st_take(void)
{
	pthread_mutex_lock(&st_lock);
}

static void st_drop(void)
{
	pthread_mutex_unlock(&st_lock);
}

/* A fork while another thread holds a lock here must not leave the child
 * with it held. */
__attribute__((constructor)) static void system_init(void)
{
	pthread_atfork(st_take, st_drop, st_drop);
}

/* The shell for popen(cmd) with its end of the pipe ${child} at
 * ${target} (0 or 1), every earlier stream closed; st_lock held. Its pid,
 * or -1 with errno. */
static pid_t popen_spawn(const char *cmd, int child, int target)
{
	posix_spawn_file_actions_t fa;
	int err = posix_spawn_file_actions_init(&fa);
	if (err) {
		errno = err;
		return -1;
	}
	/* The earlier streams go first: one may sit at ${target}. */
	for (struct stream *s = streams; s && !err; s = s->next)
		err = posix_spawn_file_actions_addclose(&fa, s->fd);
	/* dup2 onto itself clears close-on-exec (glibc 2.29 and later). */
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, child, target);
	if (!err && child != target)
		err = posix_spawn_file_actions_addclose(&fa, child);
	pid_t pid = -1;
	if (!err) {
		char *argv[] = {"sh", "-c", "--", (char *)cmd, NULL};
		err = posix_spawn(&pid, SHELL_PATH, &fa, NULL, argv, environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		errno = err;
		return -1;
	}
	return pid;
}

/* popen through our posix_spawn; st_lock held. ${rd}: mode "r". */
static FILE *shell_popen(const char *cmd, bool rd, bool cloexec, struct stream *s)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	int mine = rd ? p[0] : p[1], child = rd ? p[1] : p[0];
	pid_t pid = popen_spawn(cmd, child, rd ? 1 : 0);
	int saved = errno;
	close(child);
	if (pid < 0) {
		close(mine);
		errno = saved;
		return NULL;
	}
	if (!cloexec)
		REAL(fcntl)(mine, F_SETFD, 0);
	FILE *f = fdopen(mine, rd ? "r" : "w");
	if (!f) {
		saved = errno;
		close(mine); /* the shell sees end of file or EPIPE */
		wait_for(pid);
		errno = saved;
		return NULL;
	}
	*s = (struct stream){f, pid, mine, streams};
	streams = s;
	ours_open++;
	return f;
}

SHIM_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	/* The mode is letters r, w and e in any order, exactly one of r and
	 * w (popen(3)); EINVAL as libc's otherwise. */
	bool rd = false, wr = false, cloexec = false, valid = mode != NULL;
	for (const char *m = mode ? mode : ""; *m; m++) {
		rd |= *m == 'r';
		wr |= *m == 'w';
		cloexec |= *m == 'e';
		valid &= *m == 'r' || *m == 'w' || *m == 'e';
	}
	if (!valid || rd == wr) {
		errno = EINVAL;
		return NULL;
	}
	/* No memory to remember it: not libc's either, whose shell could
	 * get a TLS connection. */
	struct stream *s = malloc(sizeof *s);
	if (!s)
		return NULL;
	pthread_mutex_lock(&st_lock);
	FILE *f;
	bool kept = false;
	if (ours_open || tls_would_cross(rd ? 1 : 0)) {
		f = shell_popen(cmd, rd, cloexec, s);
		kept = f != NULL;
	} else {
		f = REAL(popen)(cmd, mode);
		if (f) {
			*s = (struct stream){f, 0, fileno(f), streams};
			streams = s;
			kept = true;
		}
	}
	pthread_mutex_unlock(&st_lock);
	if (!kept) {
		int saved = errno;
		free(s);
		errno = saved;
	}
	return f;
}

SHIM_EXPORT int pclose(FILE *f)
{
	pthread_mutex_lock(&st_lock);
	struct stream **p = &streams;
	while (*p && (*p)->f != f)
		p = &(*p)->next;
	struct stream *s = *p;
	if (s) {
		*p = s->next;
		ours_open -= s->pid != 0;
	}
	pthread_mutex_unlock(&st_lock);
	pid_t pid = s ? s->pid : 0;
	free(s);
	if (!pid)
		return REAL(pclose)(f);
	fclose(f);
	return wait_for(pid);
}
