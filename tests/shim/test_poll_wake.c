/*
 * test_poll_wake: poll/select wake-ups that only tlshim can give, with
 * connections poll found quiet and no longer looks at (issue 10 item 2,
 * hook_poll.c). None may be lost: each case first makes the server end
 * quiet (a poll that finds nothing), then leaves plaintext inside tlshim
 * with the kernel socket empty, and poll, ppoll, select and pselect with
 * a zero timeout must all report it readable:
 * - a program's read that took a 100-byte record and returned 10 bytes;
 * - an epoll wait that took the record in (the plaintext waits for the
 *   program's read).
 * And what does not change: a quiet connection is writable at once, but
 * not while another thread's write is blocked with ciphertext queued, a
 * handshake's deadline ends a poll that also holds a quiet connection
 * (the peer on P1 is silent, handshake_timeout = 1), and the peer's close
 * is readable.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include "epoll_helpers.h"
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
			     "[silent-out]\n"
			     "role = client\n"
			     "port = @P1@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 1\n";

/* poll(${fd}, ${events}, 0): its revents, 0 when nothing. */
static short poll_now(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, 0);
	CHECK(n >= 0);
	return n > 0 ? p.revents : 0;
}

/* Make ${fd} quiet: a poll that finds nothing to read. */
static void quieten(int fd)
{
	CHECK_EQ(poll_now(fd, POLLIN), 0);
}

/* Every readiness call, without waiting, must report ${fd} readable. */
static void readable_now(int fd, const char *what)
{
	int before = check_failures;
	CHECK_EQ(poll_now(fd, POLLIN), POLLIN);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct timespec ts0 = {0, 0};
	CHECK_EQ(ppoll(&p, 1, &ts0, NULL), 1);
	CHECK_EQ(p.revents, POLLIN);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(fd, &r);
	struct timeval tv0 = {0, 0};
	CHECK_EQ(select(fd + 1, &r, NULL, NULL, &tv0), 1);
	CHECK(FD_ISSET(fd, &r));
	FD_ZERO(&r);
	FD_SET(fd, &r);
	CHECK_EQ(pselect(fd + 1, &r, NULL, NULL, &ts0, NULL), 1);
	CHECK(FD_ISSET(fd, &r));
	if (check_failures != before)
		fprintf(stderr, "poll_wake: not readable at once %s\n", what);
}

/* The server end: accept, and finish its handshake by reading the byte
 * the client sends. */
static void *acceptor(void *arg)
{
	int *s = arg;
	*s = shimtest_accept(0);
	char b;
	CHECK_EQ(read(*s, &b, 1), 1);
	return NULL;
}

#define BIG (8 << 20)

/* A writer that blocks: BIG bytes the peer does not read for a while. */
static void *big_writer(void *arg)
{
	int fd = *(int *)arg;
	char *b = calloc(1, BIG);
	CHECK(b && shimtest_write_all(fd, b, BIG));
	free(b);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);
	int s = -1, err;
	pthread_t t = shimtest_thread(acceptor, &s); /* connect() runs the handshake */
	int c = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(c, "h", 1), 1);
	pthread_join(t, NULL);
	char buf[128];
	memset(buf, 'p', sizeof buf);

	/* A partial read leaves plaintext behind. */
	quieten(s);
	CHECK_EQ(write(c, buf, 100), 100);
	CHECK_EQ(read(s, buf, 10), 10);
	readable_now(s, "after a partial read");
	CHECK_EQ(read(s, buf, sizeof buf), 90);
	quieten(s);

	/* An epoll wait takes the record in. */
	int ep = epoll_create1(0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, s, EPOLLIN, 7), 0);
	quieten(s);
	CHECK_EQ(write(c, buf, 100), 100);
	CHECK_EQ(ep_wait_tag(ep, 7, 5000) & EPOLLIN, EPOLLIN);
	readable_now(s, "after an epoll wait took the record");
	CHECK_EQ(read(s, buf, sizeof buf), 100);
	close(ep);
	quieten(s);

	/* Quiet and writable: POLLOUT at once, for poll and select. */
	CHECK_EQ(poll_now(s, POLLOUT), POLLOUT);
	CHECK_EQ(poll_now(s, POLLIN | POLLOUT), POLLOUT);
	fd_set w;
	FD_ZERO(&w);
	FD_SET(s, &w);
	struct timeval tv0 = {0, 0};
	CHECK_EQ(select(s + 1, NULL, &w, NULL, &tv0), 1);
	CHECK(FD_ISSET(s, &w));

	/* Another thread's write, blocked with ciphertext queued: not
	 * writable, as before the quiet connection had a pump call in
	 * flight. Then the peer reads it all. */
	quieten(s);
	pthread_t wt = shimtest_thread(big_writer, &s);
	shimtest_sleep_ms(300);
	CHECK_EQ(poll_now(s, POLLOUT), 0);
	char *sink = malloc(BIG);
	CHECK(sink != NULL);
	ssize_t last = 0;
	CHECK_EQ(shimtest_read_full(c, sink, BIG, &last), (size_t)BIG);
	free(sink);
	pthread_join(wt, NULL);
	CHECK_EQ(poll_now(s, POLLOUT), POLLOUT);

	/* A handshake that times out ends the poll, with POLLERR, in about a
	 * second: a quiet connection in the same set does not hide it. */
	int h = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_connect(h, shimtest_port(1)), EINPROGRESS);
	int64_t t0 = shimtest_now_ms();
	struct pollfd two[2] = {{.fd = s, .events = POLLIN}, {.fd = h, .events = POLLOUT}};
	int n = poll(two, 2, 10000);
	int64_t took = shimtest_now_ms() - t0;
	CHECK_EQ(n, 1);
	CHECK_EQ(two[0].revents, 0);
	CHECK(two[1].revents & POLLERR);
	CHECK(took >= 900 && took < 5000);
	close(h);

	/* The data still flows, and the peer's close is seen. */
	CHECK_EQ(write(s, "pong", 4), 4);
	CHECK_EQ(read(c, buf, 4), 4);
	close(c);
	struct pollfd p = {.fd = s, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLIN);
	CHECK_EQ(read(s, buf, sizeof buf), 0);
	close(s);
	return check_exit("shim/poll_wake");
}
