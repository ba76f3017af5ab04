/*
 * A program may open its stream socket as MPTCP (socket(AF_INET,
 * SOCK_STREAM, IPPROTO_MPTCP)); on a port a client rule names it must get
 * TLS like TCP, never carry the application's bytes in clear. Exits 77
 * (reported as skipped, not passed) on a kernel without MPTCP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static const char policy[] = "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 1\n";

int main(int argc, char **argv)
{
	(void)argc;
	int probe = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (probe < 0) {
		printf("shim/mptcp: kernel has no MPTCP (%s): not run\n", strerror(errno));
		return 77;
	}
	close(probe);
	shimtest_start(argv, 1, policy);

	/* A plaintext listener on the client-rule port records what arrives. */
	shimtest_sink k;
	shimtest_sink_start(&k, shimtest_listener(0), NULL);
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	CHECK(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(shimtest_port(0))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	errno = 0;
	CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), -1); /* the sink never answers */
	CHECK_EQ(errno, ETIMEDOUT);
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	close(fd);
	shimtest_sink_join(&k);
	CHECK(k.accepted);
	CHECK(k.got.len >= 6 && k.got.p[0] == 0x16 && k.got.p[5] == 0x01); /* a ClientHello */
	CHECK(!shimtest_contains(&k.got, SHIMTEST_MARKER));
	shimtest_buf_free(&k.got);
	return check_exit("shim/mptcp");
}
