/*
 * test_system: system() and popen() hand a TLS connection that reaches
 * their shell over (shim/hook_system.c), with their POSIX semantics:
 * - system("exec HELPER ... >&FD") with the connection inherited (a
 *   connection only crosses a second exec, the shell's, when it is put
 *   where it lands: handover.h): the helper (this program re-exec'd under
 *   tlshim) writes on it, reads the peer's
 *   echo back, checks that it started with SIGINT at its default and
 *   SIGCHLD unblocked, signals SIGINT to its parent (which system()
 *   ignores while it waits: the caller's handler must not run) and exits
 *   3; system() returns that status, the caller's SIGINT handler is back,
 *   the caller is refused (EPERM) on the connection the helper took, and
 *   system(NULL) says a shell exists;
 * - popen("exec HELPER ...", "w") with the connection on stdout: the
 *   helper copies its stdin (what the caller fwrites) to the connection,
 *   reads the echo back, checks that an earlier popen() stream (libc's,
 *   not close-on-exec) is closed in it, and exits 5, which pclose()
 *   returns; the earlier stream's pclose() returns its own child's status;
 * - the peer saw both connections end cleanly (close_notify) after the
 *   bytes, and a relay between them saw only TLS records (no plaintext).
 * Before hook_system.c both calls were refused (-1/NULL, EPERM).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[echo-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P1@, @P2@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

#define SYS_MSG   "-from-system"
#define POPEN_MSG "-via-popen"

/* Write ${n} bytes on ${fd} and read them back from the echo peer. */
static bool round_trip(int fd, const char *msg, size_t n)
{
	char buf[256];
	return n <= sizeof buf && shimtest_write_all(fd, msg, n) &&
	       shimtest_read_full(fd, buf, n, NULL) == n && memcmp(buf, msg, n) == 0;
}

/* The helper system() runs: --system FD. */
static int helper_system(int fd)
{
	struct sigaction sa;
	sigset_t mask;
	if (sigaction(SIGINT, NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
		return 9;
	if (sigprocmask(SIG_SETMASK, NULL, &mask) < 0 || sigismember(&mask, SIGCHLD))
		return 10;
	if (!round_trip(fd, SYS_MSG, strlen(SYS_MSG)))
		return 8;
	kill(getppid(), SIGINT); /* ignored by a caller inside system() */
	return 3;
}

/* The helper popen() runs: --popen EARLIER_FD, the connection on stdout. */
static int helper_popen(int earlier)
{
	if (fcntl(earlier, F_GETFD) != -1 || errno != EBADF)
		return 7;
	char buf[256];
	size_t n = shimtest_read_full(0, buf, sizeof buf, NULL);
	if (n == 0 || !round_trip(1, buf, n))
		return 8;
	return 5;
}

static volatile sig_atomic_t caught;

static void on_int(int sig)
{
	(void)sig;
	caught++;
}

static void check_wire(shimtest_relay *r, const char *msg)
{
	for (int d = 0; d < 2; d++) {
		CHECK(shimtest_records(&r->wire[d], (uint8_t[64]){0}, 64, NULL) > 0);
		CHECK(shimtest_count_type(&r->wire[d], 23) > 0); /* application_data */
		CHECK(!shimtest_contains(&r->wire[d], msg));
		shimtest_buf_free(&r->wire[d]);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--system") == 0)
		return helper_system(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "--popen") == 0)
		return helper_popen(atoi(argv[2]));
	shimtest_start(argv, 3, policy);
	shimtest_child_policy(policy); /* what it execs restores the connection */
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(len > 0);
	self[len > 0 ? len : 0] = '\0';
	shimtest_echo peer;
	shimtest_echo_start(&peer, 0, 2, false);
	char cmd[4300];
	int err;

	/* 1. system() */
	CHECK(system(NULL) != 0);
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(1), shimtest_port(0), -1, false);
	int tls = shimtest_connect(shimtest_port(1), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_echoes(tls, "before"));
	CHECK_EQ(fcntl(tls, F_SETFD, 0), 0); /* inherited by the shell */
	CHECK(system(NULL) != 0);            /* our path now: no shell runs */
	struct sigaction sa = {.sa_handler = on_int}, now;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGINT, &sa, NULL), 0);
	snprintf(cmd, sizeof cmd, "exec '%s' --system 1 >&%d", self, tls);
	errno = 0;
	int st = system(cmd);
	if (st == -1)
		fprintf(stderr, "system: %s\n", strerror(errno));
	CHECK(st != -1 && WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 3);
	CHECK_EQ(caught, 0);
	CHECK_EQ(sigaction(SIGINT, NULL, &now), 0);
	CHECK(now.sa_handler == on_int);
	char buf[16];
	errno = 0;
	CHECK_EQ(read(tls, buf, sizeof buf), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(close(tls), 0);
	shimtest_echo_expect(&peer, 'C', (long)strlen("before" SYS_MSG), "system");
	shimtest_relay_join(&r);
	check_wire(&r, SYS_MSG);

	/* 2. popen(..., "w") with the connection as the shell's stdout. */
	shimtest_relay_start(&r, shimtest_listener(2), shimtest_port(0), -1, false);
	tls = shimtest_connect(shimtest_port(2), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_echoes(tls, "before"));
	CHECK_EQ(fcntl(tls, F_SETFD, FD_CLOEXEC), 0);
	FILE *earlier = popen("exec cat >/dev/null", "w"); /* nothing crosses: libc's */
	CHECK(earlier != NULL);
	fflush(stdout);
	int out = fcntl(1, F_DUPFD_CLOEXEC, 3);
	CHECK(out >= 0);
	CHECK_EQ(dup2(tls, 1), 1);
	snprintf(cmd, sizeof cmd, "exec '%s' --popen %d", self, earlier ? fileno(earlier) : -1);
	errno = 0;
	CHECK(popen(cmd, "rw") == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	FILE *p = popen(cmd, "w");
	int perr = errno;
	CHECK_EQ(dup2(out, 1), 1);
	close(out);
	if (!p)
		fprintf(stderr, "popen: %s\n", strerror(perr));
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(fcntl(fileno(p), F_GETFD) & FD_CLOEXEC, 0); /* no "e" */
		CHECK(fputs(POPEN_MSG, p) >= 0);
		st = pclose(p);
		CHECK(st != -1 && WIFEXITED(st));
		CHECK_EQ(WEXITSTATUS(st), 5);
	}
	if (earlier) {
		st = pclose(earlier);
		CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	errno = 0;
	CHECK_EQ(read(tls, buf, sizeof buf), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(close(tls), 0);
	shimtest_echo_expect(&peer, 'C', (long)strlen("before" POPEN_MSG), "popen");
	shimtest_relay_join(&r);
	check_wire(&r, POPEN_MSG);

	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	shimtest_child_policy(NULL);
	return check_exit("shim/system");
}
