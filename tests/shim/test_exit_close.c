/*
 * A program that exits without closing its TLS socket (redis-cli does) must
 * still end the stream with close_notify, so the peer sees a clean end of
 * file and not a truncation; output still buffered in stdio goes out first.
 * A forked child that never used the connection must not end it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

static void client_exits(void *arg)
{
	(void)arg;
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, "hello", 5), 5);
	FILE *f = fdopen(dup(fd), "w");
	CHECK(f != NULL);
	if (f)
		fputs(" and goodbye", f); /* left in the stdio buffer */
	/* A child forked now, which never touches the connection, exits
	 * first: its exit must not end the stream. */
	pid_t pid = fork();
	if (pid == 0)
		exit(0);
	shimtest_wait(pid);
	exit(check_failures ? 1 : 0); /* no close(), no fclose() */
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	pid_t pid = shimtest_fork(client_exits, NULL);
	int s = shimtest_accept(0);
	CHECK(s >= 0);
	char buf[64] = "";
	ssize_t last = 1;
	size_t n = shimtest_read_full(s, buf, sizeof buf - 1, &last);
	CHECK_EQ(n, strlen("hello and goodbye"));
	CHECK(strcmp(buf, "hello and goodbye") == 0);
	CHECK_EQ(last, 0); /* close_notify: a clean end of file, not ECONNRESET */
	CHECK_EQ(shimtest_wait(pid), 0);
	close(s);
	return check_exit("shim/exit_close");
}
