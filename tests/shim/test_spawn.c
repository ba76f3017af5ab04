/*
 * test_spawn: no exec hands a new program the raw TLS stream (hook_exec.c):
 * a TLS socket that survives into a new image that cannot load tlshim is
 * refused with EPERM on every path. The target here is a setuid copy of
 * /bin/sh (the loader ignores LD_PRELOAD for it), so every case in which
 * the connection would cross is refused; the hand-over itself (a target
 * that loads tlshim) is tested by tests/apps/run_handover.sh.
 * - posix_spawn/posix_spawnp file actions: adddup2(tls, 1) and
 *   adddup2(tls, tls) (which clears close-on-exec) are refused; actions
 *   that close the copy again (addclose, addopen onto the number,
 *   addclosefrom_np) let the spawn go; addfchdir_np onto a TLS number
 *   moves nothing (the child's fchdir fails); actions tlshim did not see
 *   being made (a copied object) are refused while TLS is open.
 * - A TLS socket simply inherited (no close-on-exec) refuses posix_spawn,
 *   fexecve, execveat and the execve/execveat numbers through syscall().
 * - A vfork child that closed the inherited socket may exec.
 * - fexecve and execveat of a program when nothing would leak run it with
 *   tlshim still in LD_PRELOAD, even when the program's environment
 *   dropped it.
 * The refused programs would have written the marker onto the TLS stream:
 * the echo peer sees only records and a clean close_notify at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"

extern char **environ;

static const char policy[] = "[echo-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

static shimtest_echo peer; /* the echo server (shimtest.h) */

static int tls;             /* the TLS connection */
static char suid_dir[4096]; /* holds sh, a setuid copy of /bin/sh */
static char suid_sh[4200];
static char leak_script[96]; /* writes the marker onto fd ${tls} and onto 1 */

/* posix_spawn(p) of sh -c ${script}; the child's status in ${*status}. */
static int spawn(bool p, const posix_spawn_file_actions_t *fa, const char *script, int *status)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	pid_t pid = -1;
	int r = p ? posix_spawnp(&pid, "sh", fa, NULL, argv, environ) /* PATH: suid_sh first */
		  : posix_spawn(&pid, suid_sh, fa, NULL, argv, environ);
	*status = -1;
	if (r == 0)
		waitpid(pid, status, 0);
	return r;
}

static bool exited_zero(int st)
{
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- with the TLS socket close-on-exec ---- */

static void dup2_onto_stdout(void)
{
	for (int p = 0; p < 2; p++) {
		posix_spawn_file_actions_t fa;
		CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
		CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, tls, 1), 0);
		int st;
		CHECK_EQ(spawn(p, &fa, leak_script, &st), EPERM);
		CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
	}
}

static void dup2_onto_itself(void)
{
	posix_spawn_file_actions_t fa;
	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, tls, tls), 0);
	int st;
	CHECK_EQ(spawn(false, &fa, leak_script, &st), EPERM);
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
}

static void dup2_then_close(void)
{
	posix_spawn_file_actions_t fa;
	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, tls, 7), 0);
	CHECK_EQ(posix_spawn_file_actions_addclose(&fa, 7), 0);
	int st;
	CHECK_EQ(spawn(true, &fa, "exit 0", &st), 0);
	CHECK(exited_zero(st));
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
}

static void fchdir_onto_tls(void)
{
	posix_spawn_file_actions_t fa;
	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_addfchdir_np(&fa, tls), 0);
	int st;
	CHECK_EQ(spawn(false, &fa, "exit 0", &st), ENOTDIR); /* from the child, not us */
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
}

static void copied_actions(void)
{
	posix_spawn_file_actions_t fa, copy;
	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_addclose(&fa, 9), 0);
	int st;
	CHECK_EQ(spawn(false, &fa, "exit 0", &st), 0); /* seen: harmless */
	CHECK(exited_zero(st));
	memcpy(&copy, &fa, sizeof fa);
	CHECK_EQ(spawn(false, &copy, "exit 0", &st), EPERM); /* not seen: refused */
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
}

#define KEEPS_TLSHIM "case \"$LD_PRELOAD\" in *libtlshim*) exit 0;; esac; exit 4"

/* An environment without tlshim in it (what a program that cleans its
 * environment passes); sanitizer settings stay, for sanitizer builds.
 * There (SHIMTEST_SANITIZER_RUNTIME, scripts/test) the new program gets
 * the instrumented library back at the head of LD_PRELOAD, which is the
 * point, but no sanitizer runtime before it, so ASan's start-up check of
 * the library order is turned off for it alone: the runtime still comes
 * in as the library's dependency, ahead of libc, and works. */
static char **bare_env(void)
{
	static char *env[8];
	static char asan[1024];
	int n = 0;
	env[n++] = "PATH=/bin:/usr/bin";
	const char *keep[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"};
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
		for (char **e = environ; *e; e++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0 &&
			    (*e)[strlen(keep[i])] == '=')
				env[n++] = *e;
	const char *rt = getenv("SHIMTEST_SANITIZER_RUNTIME");
	if (rt && *rt) {
		const char *old = getenv("ASAN_OPTIONS");
		snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
			 old ? old : "", old && *old ? ":" : "");
		for (int i = 0; i < n; i++)
			if (strncmp(env[i], "ASAN_OPTIONS=", 13) == 0)
				env[i] = env[--n];
		env[n++] = asan;
	}
	env[n] = NULL;
	return env;
}

/* Run ${fn} in a child and return its exit status. */
static int in_child(void (*fn)(void *), void *arg)
{
	return shimtest_wait(shimtest_fork(fn, arg));
}

static void fexecve_keeps_tlshim(void *arg)
{
	(void)arg;
	int sh = open("/bin/sh", O_RDONLY | O_CLOEXEC);
	char *argv[] = {"sh", "-c", KEEPS_TLSHIM, NULL};
	fexecve(sh, argv, bare_env());
	_exit(5);
}

static void execveat_keeps_tlshim(void *arg)
{
	(void)arg;
	char *argv[] = {"sh", "-c", KEEPS_TLSHIM, NULL};
	int bin = open("/bin", O_PATH | O_DIRECTORY | O_CLOEXEC);
	execveat(bin, "sh", argv, bare_env(), 0);
	_exit(5);
}

/* ---- with the TLS socket inherited ---- */

static void inherited_spawn(void)
{
	int st;
	CHECK_EQ(spawn(false, NULL, leak_script, &st), EPERM);
	posix_spawn_file_actions_t fa;
	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(spawn(true, &fa, leak_script, &st), EPERM);
	/* actions that take it away again */
	CHECK_EQ(posix_spawn_file_actions_addclose(&fa, tls), 0);
	CHECK_EQ(spawn(false, &fa, "exit 0", &st), 0);
	CHECK(exited_zero(st));
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);

	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_addopen(&fa, tls, "/dev/null", O_RDONLY, 0), 0);
	CHECK_EQ(spawn(false, &fa, "exit 0", &st), 0);
	CHECK(exited_zero(st));
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);

	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_addclosefrom_np(&fa, 3), 0);
	CHECK_EQ(spawn(false, &fa, "exit 0", &st), 0);
	CHECK(exited_zero(st));
	/* ... unless a later action puts it back */
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_init(&fa), 0);
	CHECK_EQ(posix_spawn_file_actions_adddup2(&fa, tls, 1), 0);
	CHECK_EQ(posix_spawn_file_actions_addclosefrom_np(&fa, 3), 0);
	CHECK_EQ(spawn(false, &fa, leak_script, &st), EPERM);
	CHECK_EQ(posix_spawn_file_actions_destroy(&fa), 0);
}

/* A vfork child (Python's subprocess) closing the inherited socket with a
 * raw close_range may exec: the descriptor is gone, whatever our table of
 * the parent's descriptors says. */
static void vfork_close_then_exec(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		syscall(SYS_close_range, tls, tls, 0);
		execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
		_exit(9);
	}
	CHECK(pid > 0);
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(exited_zero(st));
}

enum exec_how { BY_FEXECVE, BY_EXECVEAT, BY_EXECVEAT_EMPTY, BY_SYS_EXECVE, BY_SYS_EXECVEAT };

static void refused_exec(void *arg)
{
	enum exec_how how = *(enum exec_how *)arg;
	char *argv[] = {"sh", "-c", leak_script, NULL};
	int sh = open(suid_sh, O_RDONLY | O_CLOEXEC);
	errno = 0;
	long r = -2;
	switch (how) {
	case BY_FEXECVE:
		r = fexecve(sh, argv, environ);
		break;
	case BY_EXECVEAT:
		r = execveat(AT_FDCWD, suid_sh, argv, environ, 0);
		break;
	case BY_EXECVEAT_EMPTY:
		r = execveat(sh, "", argv, environ, AT_EMPTY_PATH);
		break;
	case BY_SYS_EXECVE:
		r = syscall(SYS_execve, suid_sh, argv, environ);
		break;
	case BY_SYS_EXECVEAT:
		r = syscall(SYS_execveat, AT_FDCWD, suid_sh, argv, environ, 0);
		break;
	}
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, EPERM);
}

/* suid_sh: a setuid copy of /bin/sh, first on PATH (for posix_spawnp). */
static void make_suid_sh(void)
{
	const char *base = getenv("SHIMTEST_DIR");
	snprintf(suid_dir, sizeof suid_dir, "%s/suid.XXXXXX", base && *base ? base : "/tmp");
	CHECK(mkdtemp(suid_dir) != NULL);
	snprintf(suid_sh, sizeof suid_sh, "%s/sh", suid_dir);
	int in = open("/bin/sh", O_RDONLY | O_CLOEXEC);
	int out = open(suid_sh, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	CHECK(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		CHECK(shimtest_write_all(out, buf, (size_t)n));
	close(in);
	CHECK_EQ(fchmod(out, 04755), 0);
	CHECK_EQ(close(out), 0);
	char path[8192];
	snprintf(path, sizeof path, "%s:%s", suid_dir, getenv("PATH") ? getenv("PATH") : "/bin");
	CHECK_EQ(setenv("PATH", path, 1), 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	shimtest_child_policy(""); /* what it runs loads tlshim: a policy without rules */
	make_suid_sh();
	shimtest_echo_start(&peer, 0, 1, false);

	int err;
	tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_echoes(tls, "before"));
	snprintf(leak_script, sizeof leak_script, "printf %s >&%d; printf %s", SHIMTEST_MARKER, tls,
		 SHIMTEST_MARKER);

	CHECK_EQ(fcntl(tls, F_SETFD, FD_CLOEXEC), 0);
	dup2_onto_stdout();
	dup2_onto_itself();
	dup2_then_close();
	fchdir_onto_tls();
	copied_actions();
	CHECK_EQ(in_child(fexecve_keeps_tlshim, NULL), 0);
	CHECK_EQ(in_child(execveat_keeps_tlshim, NULL), 0);

	CHECK_EQ(fcntl(tls, F_SETFD, 0), 0);
	inherited_spawn();
	vfork_close_then_exec();
	for (enum exec_how how = BY_FEXECVE; how <= BY_SYS_EXECVEAT; how++)
		CHECK_EQ(in_child(refused_exec, &how), 0);

	/* Nothing of all that reached the stream. */
	CHECK(shimtest_echoes(tls, "after"));
	CHECK_EQ(close(tls), 0);
	shimtest_echo_expect(&peer, 'C', -1, "the stream after every exec");
	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	shimtest_child_policy(NULL);
	unlink(suid_sh);
	rmdir(suid_dir);
	return check_exit("shim/spawn");
}
