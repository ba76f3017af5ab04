/*
 * test_vfork_exec: a vfork() child puts a TLS connection on 0 and 1 and
 * execs (Python's default subprocess path; issue 11 item 2). The child's
 * dup2s are recorded in its own view of the table (shim/fdtab.h
 * fdtab_view_alias), never in the parent's, and the exec hands the
 * connection over from there:
 * - dup2(tls, 0), dup2(0, 1) (a copy of the copy), close(tls), exec of sh
 *   that reads a line from the connection and answers it, then execs
 *   true: the answer reaches the peer sealed by the new image, the peer
 *   sees one clean end (true's close_notify), the parent, which never
 *   used it since, is refused (EPERM) afterwards and its close sends no
 *   second close_notify;
 * - the same dup2s, then an exec that fails (ENOENT) and _exit: the
 *   parent's connection goes on, and its close ends it cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

#define N_CONN 2

/* What the vfork child saw (shared memory: the parent reads it after). */
static volatile int child_r[4], child_e;

/* In the vfork child: the connection onto 0 and 1, its own number closed. */
static void child_onto_stdio(int tls)
{
	child_r[0] = dup2(tls, 0);
	child_r[1] = dup2(0, 1);
	child_r[2] = close(tls);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	shimtest_child_policy(policy); /* what it execs restores the connection */
	shimtest_echo peer;
	shimtest_echo_start(&peer, 0, N_CONN, false);

	/* 1. The exec'd program takes it over. */
	int tls = shimtest_echo_connect(shimtest_port(0));
	CHECK(shimtest_write_all(tls, "ping\n", 5)); /* echoed back: sh reads it */
	static const char script[] = "[ -z \"${TLSHIM_HANDOVER+set}\" ] || exit 7; "
				     "IFS= read -r l; printf '%s-from-child\\n' \"$l\"; "
				     "exec /bin/true";
	child_e = -2;
	pid_t pid = vfork();
	if (pid == 0) {
		child_onto_stdio(tls);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		child_e = errno;
		_exit(3);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	CHECK_EQ(child_r[0], 0);
	CHECK_EQ(child_r[1], 1);
	CHECK_EQ(child_r[2], 0);
	CHECK_EQ(child_e, -2);
	char buf[64];
	errno = 0;
	CHECK_EQ(write(tls, "x", 1), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(close(tls), 0);
	/* One clean end: true's close_notify. */
	shimtest_echo_expect_head(&peer, 'C', -1, "firstping\nping-from-child\n", "handed over");

	/* 2. The exec fails and the child exits: nothing changed here. */
	tls = shimtest_echo_connect(shimtest_port(0));
	child_e = -2;
	pid = vfork();
	if (pid == 0) {
		child_onto_stdio(tls);
		execl("/nonexistent/tlshim-test", "x", (char *)NULL);
		child_e = errno;
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	CHECK_EQ(child_r[0], 0);
	CHECK_EQ(child_r[1], 1);
	CHECK_EQ(child_e, ENOENT);
	CHECK(shimtest_echoes(tls, "-two"));
	errno = 0;
	CHECK_EQ(read(tls, buf, 0), 0);
	CHECK_EQ(close(tls), 0);
	shimtest_echo_expect_head(&peer, 'C', 9, "first-two", "exec failed");

	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	shimtest_child_policy(NULL);
	return check_exit("shim/vfork_exec");
}
