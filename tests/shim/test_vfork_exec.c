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
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

#define N_CONN 2

static int report[2]; /* echo server -> main: what each connection carried */

/* What the vfork child saw (shared memory: the parent reads it after). */
static volatile int child_r[4], child_e;

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

static void next_report(char out[65])
{
	struct pollfd p = {.fd = report[0], .events = POLLIN};
	memset(out, 0, 65);
	if (poll(&p, 1, 15000) != 1 || read(report[0], out, 64) != 64)
		strcpy(out, "?");
}

/* The harness removed the policy once the library had read it; the
 * programs exec'd here load tlshim again and restore the connection
 * under the same rules. */
static void policy_for_children(bool make)
{
	const char *cfg = getenv("TLSHIM_CONFIG"), *dir = getenv("SHIMTEST_POLICY_DIR");
	CHECK(cfg && dir);
	if (!cfg || !dir)
		return;
	if (!make) {
		unlink(cfg);
		rmdir(dir);
		return;
	}
	mkdir(dir, 0700);
	FILE *f = fopen(cfg, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f,
			"[global]\nlog = warn\n[echo-in]\nrole = server\nport = %u\n"
			"cert = %s/server-p256.crt\nkey = %s/server-p256.key\n"
			"[echo-out]\nrole = client\nport = %u\nca = %s/ca.crt\n"
			"server_name = localhost\n",
			shimtest_port(0), shimtest_certs(), shimtest_certs(), shimtest_port(0),
			shimtest_certs());
		CHECK_EQ(fclose(f), 0);
	}
}

static int connect_tls(const char *first)
{
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(echo(fd, first));
	return fd;
}

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
	policy_for_children(true);
	CHECK_EQ(pipe(report), 0);
	pid_t echo_pid = shimtest_fork(echo_server, NULL);
	close(report[1]);
	char rep[65];

	/* 1. The exec'd program takes it over. */
	int tls = connect_tls("before");
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
	next_report(rep);
	CHECK_EQ(rep[0], 'C'); /* one clean end: true's close_notify */
	CHECK(strncmp(rep + 1, "beforeping\nping-from-child\n", 27) == 0);
	if (strncmp(rep + 1, "beforeping\nping-from-child\n", 27) != 0)
		fprintf(stderr, "echo server saw '%s'\n", rep);

	/* 2. The exec fails and the child exits: nothing changed here. */
	tls = connect_tls("one");
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
	CHECK(echo(tls, "-two"));
	errno = 0;
	CHECK_EQ(read(tls, buf, 0), 0);
	CHECK_EQ(close(tls), 0);
	next_report(rep);
	CHECK_EQ(rep[0], 'C');
	CHECK(strncmp(rep + 1, "one-two ", 8) == 0);

	CHECK_EQ(shimtest_wait(echo_pid), 0);
	policy_for_children(false);
	return check_exit("shim/vfork_exec");
}
