/*
 * test_handover: who owns a TLS connection after it crossed exec
 * (shim/handover.h), seen from the process that goes on (a posix_spawn
 * parent), and an exec that fails:
 * - execv of a missing program with the TLS socket inherited fails with
 *   ENOENT and the connection goes on as if nothing happened;
 * - a spawned sh that writes on the inherited connection gets it (its
 *   bytes arrive at the peer, sealed by the new image; the variable
 *   TLSHIM_HANDOVER is gone from its environment), and from then on the
 *   parent is refused (EPERM) on read and write; sh then execs true,
 *   which owns it from the start (it never uses it) and ends it with
 *   close_notify at exit (dash itself leaves with _exit, no clean-up), and
 *   the parent's close sends no second one (the peer sees one clean end);
 * - a spawned sh that never touches it leaves it to the parent, whose
 *   echo still works and whose close ends it cleanly;
 * - the memfds that carry the state (keys included) reach only the program
 *   they are made for: while the main thread spawns with the connection
 *   inherited, again and again, another thread's fork+exec children never
 *   hold one (/proc/<pid>/fd of the exec'd child names no memfd:tlshim);
 * - an exec that is sure to fail hands nothing over: execvp of head with 8
 *   missing directories first in PATH serialises the connection once (one
 *   "handed over" line, naming both descriptors, "fd 0,1"), and head
 *   answers on it; execvp of a name found nowhere fails with ENOENT, of a
 *   file without execute permission with EACCES (glibc: EACCES if any
 *   entry had it), both with no hand-over and the connection going on; a
 *   non-executable file first in PATH does not stop the next entry's
 *   program from running (and being handed the connection, once).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"

extern char **environ;

/* The rules; the children spawned here read them again (with the
 * harness's usual [global], shimtest_child_policy). */
#define RULES                              \
	"[echo-in]\n"                      \
	"role = server\n"                  \
	"port = @P0@\n"                    \
	"cert = @CERTS@/server-p256.crt\n" \
	"key = @CERTS@/server-p256.key\n"  \
	"[echo-out]\n"                     \
	"role = client\n"                  \
	"port = @P0@\n"                    \
	"ca = @CERTS@/ca.crt\n"            \
	"server_name = localhost\n"

/* log = debug: cases 4-6 count the hand-over lines. */
static const char policy[] = "[global]\nlog = debug\n" RULES;

#define N_CONN 6

static int report[2]; /* echo server -> main: what each connection carried */

/* Echo each connection; report its first bytes and how it ended. */
static void echo_server(void *arg)
{
	(void)arg;
	for (int i = 0; i < N_CONN; i++) {
		int fd = shimtest_accept(0);
		char seen[64] = "";
		size_t used = 0;
		char c = 'A';
		if (fd >= 0) {
			char buf[4096];
			ssize_t r;
			while ((r = read(fd, buf, sizeof buf)) > 0) {
				size_t k = (size_t)r < sizeof seen - 1 - used
						   ? (size_t)r
						   : sizeof seen - 1 - used;
				memcpy(seen + used, buf, k);
				used += k;
				if (!shimtest_write_all(fd, buf, (size_t)r))
					break;
			}
			c = r == 0 ? 'C' : 'R';
			close(fd);
		}
		char line[80];
		snprintf(line, sizeof line, "%c%-63s", c, seen);
		CHECK_EQ(write(report[1], line, 64), 64);
	}
}

static bool echo(int fd, const char *msg)
{
	size_t n = strlen(msg);
	char buf[256];
	if (!shimtest_write_all(fd, msg, n))
		return false;
	return shimtest_read_full(fd, buf, n, NULL) == n && memcmp(buf, msg, n) == 0;
}

/* The report of the next connection to end. */
static void next_report(char out[65])
{
	struct pollfd p = {.fd = report[0], .events = POLLIN};
	memset(out, 0, 65);
	if (poll(&p, 1, 15000) != 1 || read(report[0], out, 64) != 64)
		strcpy(out, "?");
}

/* Case 3: fork+exec children of another thread, each checking its own
 * descriptors after the exec. */
struct prober {
	int tls; /* closed in each child before its exec (no hand-over there) */
	volatile bool stop;
	int probes, leaks;
};

#define PROBE_ARG "--probe-fds"

/* The exec'd probe (this program again): 3 when one of its descriptors
 * is a tlshim memfd, else 0. */
static int probe_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 2;
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char path[300], target[256];
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strstr(target, "memfd:tlshim"))
				found = 3;
		}
	}
	closedir(d);
	return found;
}

static void *probe_loop(void *arg)
{
	struct prober *pr = arg;
	while (!pr->stop) {
		pid_t pid = fork();
		if (pid == 0) {
			close(pr->tls);
			execl("/proc/self/exe", "probe", PROBE_ARG, (char *)NULL);
			_exit(127);
		}
		int st = -1;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
			continue;
		pr->probes++;
		pr->leaks += WEXITSTATUS(st) == 3;
	}
	return NULL;
}

static int spawn_sh(const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	pid_t pid = -1;
	int st = -1;
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
		return -1;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Cases 4-6: execvp along PATH (see the top). */
#define MISSES                                                     \
	"/nonexistent1:/nonexistent2:/nonexistent3:/nonexistent4:" \
	"/nonexistent5:/nonexistent6:/nonexistent7:/nonexistent8"

/* A fresh empty log file, or -1. */
static int log_file(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", getenv("SHIMTEST_POLICY_DIR"), name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	return fd;
}

/* How many lines of the log file ${path} contain ${what}; the first one in
 * ${first} (if not NULL). */
static int log_count(const char *path, const char *what, char first[256])
{
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	int n = 0;
	char line[512];
	if (first)
		first[0] = '\0';
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, what)) {
			if (first && !n++)
				snprintf(first, 256, "%.255s", line);
			else if (!first)
				n++;
		}
	if (f)
		fclose(f);
	return n;
}

/* A fork child: PATH=${path}, the connection ${tls} on 0 and 1, the log on
 * 2, then execvp(${argv}); its exit status (-1: it did not exit). */
static int child_execvp(int tls, int log, const char *path, char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setenv("PATH", path, 1) < 0 || dup2(tls, 0) < 0 || dup2(tls, 1) < 0 ||
		    dup2(log, 2) < 0 || (tls > 2 && close(tls) < 0))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st = -1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* execvp(${file}) in this process with PATH=${path} and the log on 2:
 * -1 with ${want} in errno, no hand-over logged, ${tls} still echoing
 * ${after}. */
static void failed_execvp(int tls, const char *path, const char *file, int want, const char *after)
{
	char logp[256], line[256];
	int log = log_file("failed.log", logp, sizeof logp);
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;
	int err2 = dup(2);
	CHECK(err2 >= 0 && log >= 0 && dup2(log, 2) == 2);
	CHECK_EQ(setenv("PATH", path, 1), 0);
	char *argv[] = {(char *)file, NULL};
	errno = 0;
	int r = execvp(file, argv);
	int e = errno;
	CHECK_EQ(dup2(err2, 2), 2);
	close(err2);
	close(log);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	CHECK_EQ(r, -1);
	CHECK_EQ(e, want);
	int n = log_count(logp, "handed over", line);
	if (n)
		printf("handover: %s: %d hand-overs, the first: %s", path, n, line);
	CHECK_EQ(n, 0);
	CHECK(echo(tls, after));
}

static void path_search(void)
{
	char rep[65], logp[256], line[256];
	int err;

	/* 4. Eight misses, then head: one hand-over, naming fds 0 and 1. */
	int tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(tls, "four"));
	CHECK(shimtest_write_all(tls, "-path", 5)); /* its echo is for head */
	int log = log_file("path.log", logp, sizeof logp);
	char *head[] = {"head", "-c", "5", NULL};
	CHECK_EQ(child_execvp(tls, log, MISSES ":/usr/bin:/bin", head), 0);
	close(log);
	int n = log_count(logp, "handed over", line);
	printf("handover: 8 misses first in PATH: %d hand-overs, the first: %s%s", n, line,
	       n ? "" : "\n");
	CHECK_EQ(n, 1);
	CHECK(strstr(line, "/bin/head: fd 0,1 (rule echo-out") != NULL);
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK(strncmp(rep + 1, "four-path-path", 14) == 0); /* head's answer */

	/* 5. Found nowhere: ENOENT; no execute permission: EACCES, even when
	 * a miss follows or comes first (glibc remembers EACCES). */
	char dir[200], noexec[260], notrue[260];
	snprintf(dir, sizeof dir, "%s/path", getenv("SHIMTEST_POLICY_DIR"));
	snprintf(noexec, sizeof noexec, "%s/tlshim-noexec", dir);
	snprintf(notrue, sizeof notrue, "%s/true", dir);
	CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	for (int i = 0; i < 2; i++) {
		int f = open(i ? notrue : noexec, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		CHECK(f >= 0 && write(f, "#!/bin/sh\n", 10) == 10);
		close(f);
	}
	tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(tls, "five"));
	CHECK_EQ(fcntl(tls, F_SETFD, 0), 0);
	failed_execvp(tls, MISSES, "tlshim-no-such", ENOENT, "-a");
	char p[sizeof MISSES + 300];
	snprintf(p, sizeof p, "%s:/nonexistent9", dir);
	failed_execvp(tls, p, "tlshim-noexec", EACCES, "-b");
	snprintf(p, sizeof p, "%s:%s", MISSES, dir);
	failed_execvp(tls, p, "tlshim-noexec", EACCES, "-c");
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK_EQ(rep[0], 'C');
	CHECK(strncmp(rep + 1, "five-a-b-c ", 11) == 0);

	/* 6. A non-executable "true" first: the one in /usr/bin runs. */
	tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(tls, "six"));
	log = log_file("true.log", logp, sizeof logp);
	snprintf(p, sizeof p, "%s:/usr/bin:/bin", dir);
	char *tru[] = {"true", NULL};
	CHECK_EQ(child_execvp(tls, log, p, tru), 0);
	close(log);
	n = log_count(logp, "handed over", line);
	CHECK_EQ(n, 1);
	CHECK(strstr(line, "bin/true: fd 0,1 (rule echo-out") != NULL);
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK_EQ(rep[0], 'C'); /* true's close_notify */
	CHECK(strncmp(rep + 1, "six ", 4) == 0);
	unlink(noexec);
	unlink(notrue);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], PROBE_ARG) == 0)
		return probe_fds();
	shimtest_start(argv, 1, policy);
	shimtest_child_policy(RULES);
	CHECK_EQ(pipe(report), 0);
	pid_t echo_pid = shimtest_fork(echo_server, NULL);
	close(report[1]);
	char rep[65], script[160];

	/* 1. The child takes it. */
	int err;
	int tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(tls, "before"));
	CHECK_EQ(fcntl(tls, F_SETFD, 0), 0); /* inherited by what we exec */
	errno = 0;
	CHECK_EQ(execl("/nonexistent/tlshim-test", "x", (char *)NULL), -1);
	CHECK_EQ(errno, ENOENT);
	CHECK(echo(tls, "-after-failed-exec"));
	snprintf(script, sizeof script,
		 "[ -z \"${TLSHIM_HANDOVER+set}\" ] || exit 7; printf '%%s' -from-child >&%d; exec "
		 "/bin/true",
		 tls);
	CHECK_EQ(spawn_sh(script), 0);
	char buf[64];
	errno = 0;
	CHECK_EQ(read(tls, buf, sizeof buf), -1);
	CHECK_EQ(errno, EPERM);
	errno = 0;
	CHECK_EQ(write(tls, "x", 1), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK_EQ(rep[0], 'C'); /* one clean end: the child's close_notify */
	CHECK(strncmp(rep + 1, "before-after-failed-exec-from-child", 35) == 0);

	/* 2. The child leaves it alone: the parent keeps it. */
	tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(tls, "one"));
	CHECK_EQ(fcntl(tls, F_SETFD, 0), 0);
	CHECK_EQ(spawn_sh("exit 0"), 0);
	CHECK(echo(tls, "-two"));
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK_EQ(rep[0], 'C');
	CHECK(strncmp(rep + 1, "one-two ", 8) == 0);

	/* 3. No other program gets the state memfds. */
	tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(tls, "three"));
	CHECK_EQ(fcntl(tls, F_SETFD, 0), 0);
	struct prober pr = {.tls = tls};
	pthread_t t = shimtest_thread(probe_loop, &pr);
	int spawns = 0;
	/* 3 s, at least 20 spawns and 20 probes (before the fix, about one
	 * probe in ten saw a memfd). */
	for (int64_t end = shimtest_now_ms() + 3000;
	     !pr.leaks && (shimtest_now_ms() < end ||
			   ((spawns < 20 || pr.probes < 20) && shimtest_now_ms() < end + 5000));)
		if (spawn_sh("exit 0") == 0)
			spawns++;
	pr.stop = true;
	pthread_join(t, NULL);
	printf("handover: %d spawns, %d probes, %d saw a memfd\n", spawns, pr.probes, pr.leaks);
	CHECK(spawns >= 20 || pr.leaks);
	CHECK(pr.probes >= 20 || pr.leaks);
	CHECK_EQ(pr.leaks, 0);
	CHECK(echo(tls, "-four")); /* the spawned shells left it to us */
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK_EQ(rep[0], 'C');
	CHECK(strncmp(rep + 1, "three-four ", 11) == 0);

	path_search();
	CHECK_EQ(shimtest_wait(echo_pid), 0);
	shimtest_child_policy(NULL);
	return check_exit("shim/handover");
}
