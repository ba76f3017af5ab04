/*
 * test_epoll_et: edge-triggered epoll on TLS sockets (DESIGN.md
 * "Readiness": edge-triggered sets get a new edge when buffered plaintext
 * appears; a missed wake-up is a bug).
 *
 * - A reader that takes ONE byte per wake-up (EPOLLIN|EPOLLET) still gets
 *   every byte of a 1 MiB transfer and the end of stream: the plaintext
 *   waiting inside tlshim changes with every read, and the kernel socket
 *   is long empty.
 * - A writer that filled the socket (EAGAIN) and whose queued records were
 *   then flushed by its own read() still gets its EPOLLOUT edge.
 * - An event loop in the style of mio/tokio (each socket registered once
 *   with EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, before connect(); reads and
 *   writes until EAGAIN only after an edge said so) moves 1 MiB each way
 *   between a wrapped client and a wrapped server in one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "epoll_helpers.h"
#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@, @P1@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@, @P1@\n"
			     "ca = @CERTS@/ca.crt\n";

#define MIB (1024 * 1024)

static void *writer(void *arg)
{
	(void)arg;
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	uint8_t *p = malloc(MIB);
	shimtest_pattern(p, 0, MIB, 5);
	CHECK(shimtest_write_all(fd, p, MIB));
	free(p);
	close(fd); /* close_notify: the reader sees end of stream */
	return NULL;
}

static void one_byte_per_wakeup(void)
{
	pthread_t t = shimtest_thread(writer, NULL);
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	CHECK_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	int ep = epoll_create1(0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, 7), 0);
	uint8_t *got = malloc(MIB);
	size_t n = 0;
	long spurious = 0;
	bool eof = false;
	while (!eof) {
		struct epoll_event ev;
		int r = epoll_wait(ep, &ev, 1, 5000);
		if (r != 1) {
			CHECK(!"edge-triggered reader left asleep");
			fprintf(stderr, "stalled after %zu bytes\n", n);
			break;
		}
		CHECK_EQ(ev.data.u64, 7);
		uint8_t b;
		ssize_t k = read(fd, &b, 1); /* one byte, however much waits */
		if (k == 1 && n < MIB)
			got[n++] = b;
		else if (k == 0)
			eof = true;
		else if (k < 0 && errno == EAGAIN)
			spurious++;
		else {
			CHECK(!"read failed");
			break;
		}
	}
	CHECK_EQ(n, MIB);
	CHECK_EQ(shimtest_pattern_check(got, 0, n, 5), -1);
	CHECK(eof);
	CHECK(spurious < 1000);
	shimtest_check_tls(fd, n, "edge-triggered one-byte reader");
	free(got);
	close(fd);
	close(ep);
	pthread_join(t, NULL);
}

/* Everything the server can read now (until EAGAIN for 200 ms). */
static size_t drain(int fd, uint8_t *buf, size_t have, size_t cap)
{
	int64_t quiet = shimtest_now_ms() + 200;
	while (shimtest_now_ms() < quiet && have < cap) {
		ssize_t r = read(fd, buf + have, cap - have);
		if (r > 0) {
			have += (size_t)r;
			quiet = shimtest_now_ms() + 200;
		} else {
			CHECK(r < 0 && errno == EAGAIN);
			shimtest_sleep_ms(5);
		}
	}
	return have;
}

static void out_edge_after_read_flush(void)
{
	int ep = epoll_create1(0);
	int cfd = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_connect(cfd, shimtest_port(0)), EINPROGRESS);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, cfd, EPOLLIN | EPOLLOUT | EPOLLET, 1), 0);
	int sfd = shimtest_accept(0);
	CHECK(sfd >= 0);
	CHECK_EQ(fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK), 0);
	/* The server's handshake runs on its first read. */
	int64_t end = shimtest_now_ms() + 5000;
	uint32_t ev = 0;
	while (!(ev & EPOLLOUT) && shimtest_now_ms() < end) {
		char c;
		CHECK_EQ(read(sfd, &c, 1), -1);
		ev = ep_wait_tag(ep, 1, 10);
	}
	CHECK(ev & EPOLLOUT);
	size_t cap = 64 * MIB, sent = 0, got = 0;
	uint8_t *out = malloc(cap), *in = malloc(cap);
	shimtest_pattern(out, 0, cap, 9);
	for (int round = 0; round < 3; round++) {
		/* Fill the socket: the server is not reading. */
		for (;;) {
			ssize_t w = write(cfd, out + sent, cap - sent < 65536 ? cap - sent : 65536);
			if (w <= 0) {
				CHECK(w < 0 && errno == EAGAIN);
				break;
			}
			sent += (size_t)w;
		}
		CHECK(sent < cap);
		got = drain(sfd, in, got, cap);
		/* Our read flushes the records still queued; it has nothing
		 * to return. */
		char c;
		errno = 0;
		CHECK_EQ(read(cfd, &c, 1), -1);
		CHECK_EQ(errno, EAGAIN);
		CHECK(ep_wait_tag(ep, 1, 2000) & EPOLLOUT);
	}
	got = drain(sfd, in, got, cap);
	CHECK_EQ(got, sent);
	CHECK_EQ(shimtest_pattern_check(in, 0, got, 9), -1);
	free(out);
	free(in);
	close(cfd);
	close(sfd);
	close(ep);
}

/* One side of the mio-style loop: readiness remembered from edges. */
struct side {
	int fd;
	uint64_t tag;
	bool readable, writable;
	uint8_t *out;
	size_t sent;
	uint8_t *in;
	size_t got;
	uint32_t seed_out, seed_in;
};

static void pump_side(struct side *s)
{
	while (s->writable && s->sent < MIB) {
		ssize_t w = write(s->fd, s->out + s->sent, MIB - s->sent);
		if (w > 0) {
			s->sent += (size_t)w;
		} else {
			CHECK(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
			s->writable = false; /* until the next edge */
		}
	}
	while (s->readable && s->got < MIB) {
		ssize_t r = read(s->fd, s->in + s->got, 16384);
		if (r > 0) {
			s->got += (size_t)r;
		} else {
			CHECK(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
			s->readable = false;
		}
	}
}

static void mio_style(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	const uint32_t all = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	struct side c = {.tag = 100, .seed_out = 21, .seed_in = 22};
	struct side s = {.tag = 200, .seed_out = 22, .seed_in = 21};
	struct side *sides[2] = {&c, &s};
	for (int i = 0; i < 2; i++) {
		sides[i]->out = malloc(MIB);
		sides[i]->in = malloc(MIB);
		shimtest_pattern(sides[i]->out, 0, MIB, sides[i]->seed_out);
	}
	c.fd = ep_tcp_socket(SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, c.fd, all, c.tag), 0); /* before connect */
	CHECK_EQ(ep_connect(c.fd, shimtest_port(1)), EINPROGRESS);
	s.fd = shimtest_accept(1);
	CHECK(s.fd >= 0);
	CHECK_EQ(fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, s.fd, all, s.tag), 0);
	bool first_out = true;
	while (c.got < MIB || s.got < MIB) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 5000);
		if (n <= 0) {
			CHECK(!"edge-triggered loop stalled");
			fprintf(stderr,
				"stalled: client sent %zu got %zu, server sent %zu got %zu\n",
				c.sent, c.got, s.sent, s.got);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct side *x = evs[i].data.u64 == c.tag ? &c : &s;
			CHECK(evs[i].data.u64 == c.tag || evs[i].data.u64 == s.tag);
			CHECK(!(evs[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)));
			if (x == &c && first_out && (evs[i].events & EPOLLOUT)) {
				/* The client's first EPOLLOUT: the handshake is done. */
				first_out = false;
				int so = -1;
				socklen_t sl = sizeof so;
				CHECK_EQ(getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
				CHECK_EQ(so, 0);
				CHECK(write(c.fd, c.out, 1) == 1);
				c.sent = 1;
			}
			if (evs[i].events & EPOLLIN)
				x->readable = true;
			if (evs[i].events & EPOLLOUT)
				x->writable = true;
		}
		pump_side(&c);
		pump_side(&s);
	}
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(sides[i]->sent, MIB);
		CHECK_EQ(sides[i]->got, MIB);
		CHECK_EQ(shimtest_pattern_check(sides[i]->in, 0, MIB, sides[i]->seed_in), -1);
		free(sides[i]->out);
		free(sides[i]->in);
	}
	shimtest_check_tls(c.fd, MIB, "mio-style client");
	close(c.fd);
	close(s.fd);
	close(ep);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);
	one_byte_per_wakeup();
	out_edge_after_read_flush();
	mio_style();
	return check_exit("shim/epoll_et");
}
