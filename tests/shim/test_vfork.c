/*
 * test_vfork: a vfork() child shares the parent's memory, so tlshim's
 * descriptor table too, but has its own descriptors (issue 9 item 5). What
 * the child does to its descriptors must never change the parent's view:
 * afterwards the parent's connection still works, and its close() sends
 * close_notify (the peer sees a clean end, not a truncation).
 *
 * In the child (results go back through memory, as vfork allows):
 * - dup2(tls, 1), dup(tls), dup3, fcntl(F_DUPFD): allowed, recorded in the
 *   child's own view only (shim/fdtab.h fdtab_view_alias): a write to the
 *   copy on 1 is TLS (the peer echoes it sealed, the parent reads it
 *   back), and after the child's _exit, with its copies never closed, the
 *   parent's table is as it was (its close still sends close_notify: no
 *   alias of the child's was counted), fd 1 left as it was;
 * - close(tls), then a file opened on the same number is plain in the
 *   child: writing to it puts the bytes in the file, not into the parent's
 *   TLS stream, and exec of /bin/true is allowed (nothing TLS crosses);
 * - close_range and closefrom over the TLS number, then _exit;
 * - a close-on-exec TLS descriptor, and a copy on 1 made close-on-exec
 *   after the dup2, exec of /bin/true: allowed, nothing crosses.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[echo-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

#define N_CONN 5

static shimtest_echo peer; /* the echo server (shimtest.h) */

/* What the vfork child saw (shared memory: the parent reads it after). */
static volatile int child_r[8], child_e[8];

/* The parent after the child: the stream still carries data, fd 1 is not
 * TLS here (a write to it is plain), and close ends the stream cleanly. */
static void parent_after(int fd, const char *what)
{
	CHECK(shimtest_echoes(fd, "the parent carries on"));
	CHECK_EQ(close(fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, what);
}

static void reset_child(void)
{
	for (int i = 0; i < 8; i++)
		child_r[i] = child_e[i] = -2;
}

static void child_dups(void)
{
	int fd = shimtest_echo_connect(shimtest_port(0));
	struct stat before, after;
	CHECK_EQ(fstat(1, &before), 0);
	reset_child();
	pid_t pid = vfork();
	if (pid == 0) {
		errno = 0;
		child_r[0] = dup2(fd, 1);
		child_e[0] = errno;
		errno = 0;
		child_r[1] = dup(fd);
		child_e[1] = errno;
		errno = 0;
		child_r[2] = dup3(fd, 40, O_CLOEXEC);
		child_e[2] = errno;
		errno = 0;
		child_r[3] = fcntl(fd, F_DUPFD, 50);
		child_e[3] = errno;
		child_r[4] = close(fd);
		child_r[5] = (int)write(1, "kid", 3); /* through the copy: sealed */
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	CHECK_EQ(child_r[0], 1);
	CHECK(child_r[1] > 2);
	CHECK_EQ(child_r[2], 40);
	CHECK(child_r[3] >= 50);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(child_e[i], 0);
	CHECK_EQ(child_r[4], 0);
	CHECK_EQ(child_r[5], 3);
	char kid[3];
	CHECK_EQ(shimtest_read_full(fd, kid, 3, NULL), 3);
	CHECK(memcmp(kid, "kid", 3) == 0);
	CHECK_EQ(fstat(1, &after), 0);
	CHECK(before.st_ino == after.st_ino && before.st_dev == after.st_dev);
	parent_after(fd, "dup in the vfork child");
}

/* The child closes its copy, a file takes the number, the child writes to
 * it and execs /bin/true: the bytes are in the file, exec is allowed. */
static void child_reuses_number(void)
{
	int fd = shimtest_echo_connect(shimtest_port(0));
	char path[256];
	const char *dir = getenv("SHIMTEST_DIR");
	snprintf(path, sizeof path, "%s/vfork-%d.txt", dir ? dir : "/tmp", (int)getpid());
	unlink(path);
	reset_child();
	pid_t pid = vfork();
	if (pid == 0) {
		child_r[0] = close(fd);
		child_r[1] = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		child_r[2] = (int)write(child_r[1], "plain", 5);
		execl("/bin/true", "true", (char *)NULL);
		child_e[3] = errno;
		_exit(3);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	CHECK_EQ(child_r[0], 0);
	CHECK_EQ(child_r[1], fd);
	CHECK_EQ(child_r[2], 5);
	FILE *f = fopen(path, "r");
	char got[16] = "";
	CHECK(f && fgets(got, sizeof got, f));
	CHECK(strcmp(got, "plain") == 0);
	if (f)
		fclose(f);
	unlink(path);
	parent_after(fd, "number reused in the vfork child");
}

static void child_bulk_closes(void)
{
	int fd = shimtest_echo_connect(shimtest_port(0));
	pid_t pid = vfork();
	if (pid == 0) {
		close_range((unsigned)fd, (unsigned)fd, 0);
		closefrom(3);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	parent_after(fd, "close_range/closefrom in the vfork child");
}

/* A close-on-exec TLS descriptor does not cross exec: allowed, also
 * when it is the child's copy on 1, marked close-on-exec after the dup2
 * (the exec asks the kernel, not the view). */
static void child_execs(void)
{
	int fd = shimtest_echo_connect(shimtest_port(0));
	CHECK_EQ(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
	reset_child();
	pid_t pid = vfork();
	if (pid == 0) {
		child_r[0] = dup2(fd, 1);
		child_r[1] = fcntl(1, F_SETFD, FD_CLOEXEC);
		execl("/bin/true", "true", (char *)NULL);
		child_e[1] = errno;
		_exit(3);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	CHECK_EQ(child_r[0], 1);
	CHECK_EQ(child_r[1], 0);
	parent_after(fd, "exec in the vfork child");
}

/* The harness removed the policy once the library had read it; a program
 * exec'd now loads the library again (hook_exec.c keeps it in the
 * environment), so give it one to read: no rules, nothing for it to do. */
static void policy_for_exec(bool make)
{
	const char *cfg = getenv("TLSHIM_CONFIG");
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	char dir[512];
	snprintf(dir, sizeof dir, "%s", cfg);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (!make) {
		unlink(cfg);
		rmdir(dir);
		return;
	}
	mkdir(dir, 0700);
	FILE *f = fopen(cfg, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("[global]\nlog = warn\n", f);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	policy_for_exec(true);
	shimtest_echo_start(&peer, 0, N_CONN, false);
	child_dups();
	child_reuses_number();
	child_bulk_closes();
	child_execs();
	/* A last connection without any vfork: the harness itself is sound. */
	parent_after(shimtest_echo_connect(shimtest_port(0)), "plain");
	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	policy_for_exec(false);
	return check_exit("shim/vfork");
}
