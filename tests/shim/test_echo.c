/*
 * test_echo: a blocking client and a blocking server (a forked child), both
 * under the shim, echo 1 MiB in chunks of varying size; every byte is
 * checked on both ends. Each side rotates through read/write, recv/send,
 * readv/writev and recvmsg/sendmsg. The client ends with shutdown(SHUT_WR)
 * (close_notify): the server must read a clean 0, and after its close the
 * client must read a clean 0 too.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shimtest.h"

#define TOTAL (1u << 20)
#define SEED  0x1234

static const char policy[] = "[echo-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

enum { M_RW, M_SR, M_V, M_MSG, M_COUNT };

/* One read with method ${m}; buffers split so scatter calls really scatter. */
static ssize_t read_m(int fd, int m, uint8_t *buf, size_t n)
{
	size_t h = n / 3;
	struct iovec iov[3] = {{buf, h}, {buf + h, h}, {buf + 2 * h, n - 2 * h}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
	switch (m) {
	case M_RW:
		return read(fd, buf, n);
	case M_SR:
		return recv(fd, buf, n, 0);
	case M_V:
		return readv(fd, iov, 3);
	default:
		return recvmsg(fd, &msg, 0);
	}
}

/* One write with method ${m}. */
static ssize_t write_m(int fd, int m, const uint8_t *buf, size_t n)
{
	size_t h = n / 2;
	struct iovec iov[2] = {{(void *)buf, h}, {(void *)(buf + h), n - h}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	switch (m) {
	case M_RW:
		return write(fd, buf, n);
	case M_SR:
		return send(fd, buf, n, 0);
	case M_V:
		return writev(fd, iov, 2);
	default:
		return sendmsg(fd, &msg, 0);
	}
}

static void server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	uint8_t *buf = malloc(20000);
	size_t total = 0;
	long bad = -1;
	ssize_t r;
	for (int i = 0;; i++) {
		r = read_m(fd, i % M_COUNT, buf, 1 + (size_t)(i * 7919) % 19999);
		if (r <= 0)
			break;
		if (bad < 0)
			bad = shimtest_pattern_check(buf, total, (size_t)r, SEED);
		total += (size_t)r;
		ssize_t w = write_m(fd, (i + 1) % M_COUNT, buf, (size_t)r);
		CHECK_EQ(w, r); /* blocking: the whole buffer */
		if (w != r)
			break;
	}
	CHECK_EQ(r, 0); /* close_notify: a clean end of file */
	if (r < 0)
		perror("server read");
	CHECK_EQ(total, TOTAL);
	CHECK_EQ(bad, -1);
	shimtest_check_tls(fd, total, "echo server");
	CHECK_EQ(close(fd), 0);
	free(buf);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	pid_t pid = shimtest_fork(server, NULL);

	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	uint8_t *out = malloc(65536), *in = malloc(65536);
	size_t sent = 0;
	long bad = -1;
	bool ok = err == 0;
	for (int k = 0; ok && sent < TOTAL; k++) {
		size_t n = 1 + (size_t)(k * 104729) % 65535;
		if (n > TOTAL - sent)
			n = TOTAL - sent;
		shimtest_pattern(out, sent, n, SEED);
		ssize_t w = write_m(fd, k % M_COUNT, out, n);
		CHECK_EQ(w, n);
		if (w != (ssize_t)n) {
			perror("client write");
			break;
		}
		size_t got = 0;
		while (got < n) {
			ssize_t r = read_m(fd, (k + got) % M_COUNT, in + got, n - got);
			if (r <= 0) {
				CHECK(r > 0);
				perror("client read");
				ok = false;
				break;
			}
			got += (size_t)r;
		}
		if (bad < 0 && got == n && shimtest_pattern_check(in, sent, n, SEED) >= 0)
			bad = (long)sent;
		sent += n;
	}
	CHECK_EQ(sent, TOTAL);
	CHECK_EQ(bad, -1);
	CHECK_EQ(shutdown(fd, SHUT_WR), 0);
	char c;
	errno = 0;
	CHECK_EQ(read(fd, &c, 1), 0); /* the server's close_notify */
	CHECK_EQ(errno, 0);
	shimtest_check_tls(fd, sent, "echo client");
	CHECK_EQ(close(fd), 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	free(out);
	free(in);
	return check_exit("shim/echo");
}
