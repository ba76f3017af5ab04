/*
 * sendmmsg/recvmmsg on TLS sockets go through the record layer too: the
 * bytes arrive intact and the wire carries only records, never the marker.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P1@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

#define PART1 "first " SHIMTEST_MARKER
#define PART2 " second"

static void *server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(1);
	char a[128] = "", b[128] = "";
	struct iovec ia = {a, sizeof a - 1}, ib = {b, sizeof b - 1};
	struct mmsghdr m[2] = {{.msg_hdr = {.msg_iov = &ia, .msg_iovlen = 1}},
			       {.msg_hdr = {.msg_iov = &ib, .msg_iovlen = 1}}};
	size_t got = 0;
	char all[256] = "";
	while (got < strlen(PART1 PART2)) {
		int n = recvmmsg(fd, m, 2, 0, NULL);
		CHECK(n >= 1);
		if (n < 1)
			break;
		for (int i = 0; i < n; i++) {
			memcpy(all + got, i == 0 ? a : b, m[i].msg_len);
			got += m[i].msg_len;
		}
	}
	CHECK(strcmp(all, PART1 PART2) == 0);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(0), shimtest_port(1), -1, false);
	pthread_t t = shimtest_thread(server, NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	struct iovec i1 = {(void *)PART1, strlen(PART1)}, i2 = {(void *)PART2, strlen(PART2)};
	struct mmsghdr m[2] = {{.msg_hdr = {.msg_iov = &i1, .msg_iovlen = 1}},
			       {.msg_hdr = {.msg_iov = &i2, .msg_iovlen = 1}}};
	CHECK_EQ(sendmmsg(fd, m, 2, 0), 2);
	CHECK_EQ(m[0].msg_len, strlen(PART1));
	CHECK_EQ(m[1].msg_len, strlen(PART2));
	pthread_join(t, NULL);
	close(fd);
	shimtest_relay_join(&r);
	CHECK(!shimtest_contains(&r.wire[SHIMTEST_C2S], SHIMTEST_MARKER));
	CHECK(shimtest_count_type(&r.wire[SHIMTEST_C2S], 23) >= 1);
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
	return check_exit("shim/mmsg");
}
