/*
 * test_partial: partial writes against a slow reader (DESIGN.md "Partial
 * writes"). A non-blocking writer pushes 4 MiB while the reader (a forked
 * child, small receive buffer) sleeps. Every write returns either a count
 * between 1 and what was asked, or -1/EAGAIN after which POLLOUT comes
 * back; a write that took bytes and still said EAGAIN would make the
 * writer resend them, which the reader's byte-for-byte check catches, as
 * it catches lost bytes. The writer waits for POLLOUT (everything
 * flushed) and closes; the reader must get exactly 4 MiB and a clean 0.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shimtest.h"

#define TOTAL    (4u << 20)
#define SEED     0xbeef
#define SLEEP_MS 1000

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-ed25519.crt\n"
			     "key = @CERTS@/server-ed25519.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

static void reader(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	int small = 32768;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	uint8_t *buf = malloc(65536);
	/* One byte first: that runs the handshake, so the writer is free
	 * to write while we sleep. */
	ssize_t r = read(fd, buf, 1);
	CHECK_EQ(r, 1);
	size_t total = r == 1 ? 1 : 0;
	long bad = r == 1 ? shimtest_pattern_check(buf, 0, 1, SEED) : -1;
	shimtest_sleep_ms(SLEEP_MS);
	for (;;) {
		r = read(fd, buf, 65536);
		if (r <= 0)
			break;
		if (bad < 0)
			bad = shimtest_pattern_check(buf, total, (size_t)r, SEED);
		total += (size_t)r;
	}
	if (r < 0)
		perror("reader");
	CHECK_EQ(r, 0);
	CHECK_EQ(total, TOTAL);
	CHECK_EQ(bad, -1);
	if (bad >= 0)
		fprintf(stderr, "reader: first wrong byte at %ld\n", bad);
	shimtest_check_tls(fd, total, "partial reader");
	close(fd);
	free(buf);
}

static bool wait_out(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int r = poll(&p, 1, 10000);
	CHECK_EQ(r, 1);
	CHECK_EQ(p.revents, POLLOUT);
	return r == 1 && p.revents == POLLOUT;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	pid_t pid = shimtest_fork(reader, NULL);

	int err;
	int fd = shimtest_connect(shimtest_port(0), SOCK_NONBLOCK, &err);
	CHECK_EQ(err, EINPROGRESS);
	int small = 32768;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	uint8_t *data = malloc(TOTAL);
	shimtest_pattern(data, 0, TOTAL, SEED);

	bool ok = wait_out(fd); /* the handshake */
	size_t off = 0;
	int calls = 0, eagain = 0, shorts = 0, bad_returns = 0;
	int64_t t0 = shimtest_now_ms();
	while (ok && off < TOTAL) {
		size_t n = 1 + (size_t)(calls * 7919 + 1) % (300 * 1024);
		if (n > TOTAL - off)
			n = TOTAL - off;
		ssize_t w;
		errno = 0;
		switch (calls++ % 3) {
		case 0:
			w = write(fd, data + off, n);
			break;
		case 1:
			w = send(fd, data + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			break;
		default: {
			struct iovec iov[2] = {{data + off, n / 2},
					       {data + off + n / 2, n - n / 2}};
			w = writev(fd, iov, 2);
		}
		}
		if (w > 0 && (size_t)w <= n) {
			shorts += (size_t)w < n;
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			eagain++;
			ok = wait_out(fd);
			continue;
		}
		bad_returns++;
		fprintf(stderr, "write returned %zd (asked %zu): %s\n", w, n, strerror(errno));
		break;
	}
	CHECK_EQ(bad_returns, 0);
	CHECK_EQ(off, TOTAL);
	/* The reader slept, so the writer must have met back-pressure. */
	CHECK(eagain > 0);
	CHECK(shorts > 0);
	CHECK(shimtest_now_ms() - t0 >= SLEEP_MS / 2);
	/* Writable again means our queue went out; then close (close_notify). */
	wait_out(fd);
	CHECK_EQ(close(fd), 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	printf("partial: %d calls, %d EAGAIN, %d short\n", calls, eagain, shorts);
	free(data);
	return check_exit("shim/partial");
}
