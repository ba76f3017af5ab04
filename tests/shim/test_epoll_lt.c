/*
 * test_epoll_lt: level-triggered epoll with TLS on both ends (DESIGN.md
 * "Readiness"). One thread runs a wrapped server and a wrapped client in a
 * single epoll set, so every handshake step and every byte moves only
 * because epoll_wait woke the loop: a missed wake-up is a stall.
 *
 * - The client socket is registered (EPOLLOUT) BEFORE connect() makes it
 *   TLS, as event loops do; EPOLLOUT comes only once the handshake is
 *   done (a write then succeeds at once), and data follows.
 * - Both sides read in small pieces, so decrypted plaintext waits inside
 *   tlshim while the kernel socket is empty: level-triggered EPOLLIN must
 *   still be reported.
 * - While the server delays its handshake, a level-triggered EPOLLOUT
 *   waiter neither wakes nor spins (CPU time stays low).
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
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 10\n";

#define TOTAL      (256 * 1024)
#define SRV_CHUNK  700
#define CLI_CHUNK  1000
#define TAG_LISTEN 1
#define TAG_CLIENT 2
#define TAG_SERVER 3

struct loop {
	int ep, cfd, sfd;
	uint8_t *out, *back; /* what the client sends; what came back */
	size_t sent, got;
	uint8_t pend[64 * 1024]; /* the server's echo backlog */
	size_t pend_len;
	bool connected, server_eof;
	int spurious; /* reported readable, then EAGAIN (tolerated; counted) */
};

static void client_event(struct loop *l, uint32_t ev)
{
	if (!l->connected) {
		CHECK(ev & EPOLLOUT);
		CHECK(!(ev & EPOLLERR));
		int so = -1;
		socklen_t sl = sizeof so;
		CHECK_EQ(getsockopt(l->cfd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
		CHECK_EQ(so, 0);
		/* EPOLLOUT means the handshake is done: the first write goes
		 * at once (before it, it would be EAGAIN). */
		ssize_t w = write(l->cfd, l->out, 4096);
		CHECK_EQ(w, 4096);
		if (w > 0)
			l->sent += (size_t)w;
		l->connected = true;
	}
	if (ev & EPOLLOUT) {
		while (l->sent < TOTAL) {
			ssize_t w = write(l->cfd, l->out + l->sent, TOTAL - l->sent);
			if (w <= 0) {
				CHECK(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
				break;
			}
			l->sent += (size_t)w;
		}
	}
	if (ev & EPOLLIN) {
		ssize_t r = read(l->cfd, l->back + l->got, CLI_CHUNK);
		if (r > 0)
			l->got += (size_t)r;
		else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			l->spurious++;
		else
			CHECK(!"client read failed or hit EOF early");
	}
	uint32_t want = EPOLLIN | (l->sent < TOTAL ? EPOLLOUT : 0);
	CHECK_EQ(ep_ctl(l->ep, EPOLL_CTL_MOD, l->cfd, want, TAG_CLIENT), 0);
}

static void server_flush(struct loop *l)
{
	while (l->pend_len > 0) {
		ssize_t w = write(l->sfd, l->pend, l->pend_len);
		if (w <= 0) {
			CHECK(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
			break;
		}
		memmove(l->pend, l->pend + w, l->pend_len - (size_t)w);
		l->pend_len -= (size_t)w;
	}
}

static void server_event(struct loop *l, uint32_t ev)
{
	CHECK(!(ev & EPOLLERR));
	if ((ev & EPOLLIN) && l->pend_len + SRV_CHUNK <= sizeof l->pend) {
		ssize_t r = read(l->sfd, l->pend + l->pend_len, SRV_CHUNK);
		if (r > 0) {
			l->pend_len += (size_t)r;
		} else if (r == 0) {
			l->server_eof = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			l->spurious++;
		} else {
			CHECK(!"server read failed");
			l->server_eof = true;
		}
	}
	server_flush(l);
	if (l->server_eof) {
		CHECK_EQ(epoll_ctl(l->ep, EPOLL_CTL_DEL, l->sfd, NULL), 0);
		close(l->sfd);
		l->sfd = -1;
		return;
	}
	uint32_t want = (l->pend_len + SRV_CHUNK <= sizeof l->pend ? EPOLLIN : 0) |
			(l->pend_len ? EPOLLOUT : 0);
	CHECK_EQ(ep_ctl(l->ep, EPOLL_CTL_MOD, l->sfd, want, TAG_SERVER), 0);
}

static void event_loop(void)
{
	static struct loop l;
	l.out = malloc(TOTAL);
	l.back = malloc(TOTAL);
	shimtest_pattern(l.out, 0, TOTAL, 11);
	l.sfd = -1;
	l.ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(l.ep >= 0);
	int lfd = shimtest_listener(0);
	CHECK_EQ(ep_ctl(l.ep, EPOLL_CTL_ADD, lfd, EPOLLIN, TAG_LISTEN), 0);

	/* Registered while still a plain socket; connect() makes it TLS. */
	l.cfd = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_ctl(l.ep, EPOLL_CTL_ADD, l.cfd, EPOLLOUT, TAG_CLIENT), 0);
	CHECK_EQ(ep_connect(l.cfd, shimtest_port(0)), EINPROGRESS);

	bool client_done = false;
	while (!client_done || l.sfd >= 0) {
		struct epoll_event evs[8];
		int n = epoll_wait(l.ep, evs, 8, 5000);
		CHECK(n > 0);
		if (n <= 0) {
			fprintf(stderr, "stalled: sent %zu got %zu pend %zu\n", l.sent, l.got,
				l.pend_len);
			break;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case TAG_LISTEN:
				CHECK_EQ(l.sfd, -1);
				l.sfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
				CHECK(l.sfd >= 0);
				CHECK_EQ(ep_ctl(l.ep, EPOLL_CTL_ADD, l.sfd, EPOLLIN, TAG_SERVER),
					 0);
				CHECK_EQ(epoll_ctl(l.ep, EPOLL_CTL_DEL, lfd, NULL), 0);
				break;
			case TAG_CLIENT:
				if (!client_done)
					client_event(&l, evs[i].events);
				if (!client_done && l.got == TOTAL) {
					client_done = true;
					CHECK_EQ(shimtest_pattern_check(l.back, 0, TOTAL, 11), -1);
					shimtest_check_tls(l.cfd, TOTAL, "epoll LT client");
					close(l.cfd); /* the server then sees EOF */
				}
				break;
			case TAG_SERVER:
				if (l.sfd >= 0)
					server_event(&l, evs[i].events);
				break;
			default:
				CHECK(!"unknown tag: the program's data was not returned intact");
			}
		}
	}
	CHECK(client_done);
	CHECK_EQ(l.got, TOTAL);
	CHECK(l.server_eof);
	/* Level-triggered reports are truthful: a few spurious wake-ups are
	 * tolerated, one per read would mean readiness is made up. */
	CHECK(l.spurious < 64);
	close(l.ep);
	free(l.out);
	free(l.back);
}

struct delayed {
	int delay_ms;
	size_t echoed;
};

static void *delayed_server(void *arg)
{
	struct delayed *d = arg;
	int fd = shimtest_accept(1);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	shimtest_sleep_ms(d->delay_ms); /* nothing drives its handshake meanwhile */
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0 && shimtest_write_all(fd, buf, (size_t)r))
		d->echoed += (size_t)r;
	close(fd);
	return NULL;
}

/* A connected but handshaking socket is not writable yet, and waiting for
 * it costs no CPU. */
static void no_spin_while_handshaking(void)
{
	struct delayed d = {.delay_ms = 800};
	pthread_t t = shimtest_thread(delayed_server, &d);
	int ep = epoll_create(4);
	int fd = ep_tcp_socket(SOCK_NONBLOCK);
	int64_t t0 = shimtest_now_ms();
	CHECK_EQ(ep_connect(fd, shimtest_port(1)), EINPROGRESS);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 42), 0);
	int64_t cpu0 = ep_cpu_ms();
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(ep, &ev, 1, 400), 0); /* TCP is up; TLS is not */
	CHECK(ep_cpu_ms() - cpu0 < 100);
	CHECK_EQ(epoll_pwait(ep, &ev, 1, 5000, NULL), 1);
	CHECK_EQ(ev.events, EPOLLOUT);
	CHECK_EQ(ev.data.u64, 42);
	CHECK(shimtest_now_ms() - t0 >= d.delay_ms - 50);
	const char msg[] = "after the handshake " SHIMTEST_MARKER;
	CHECK_EQ(write(fd, msg, sizeof msg), sizeof msg);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_MOD, fd, EPOLLIN, 43), 0);
	char buf[sizeof msg];
	size_t got = 0;
	while (got < sizeof msg) {
		if (epoll_wait(ep, &ev, 1, 5000) != 1) {
			CHECK(!"no EPOLLIN for the echo");
			break;
		}
		CHECK_EQ(ev.data.u64, 43);
		ssize_t r = read(fd, buf + got, sizeof msg - got);
		CHECK(r > 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	CHECK_MEM(buf, msg, sizeof msg);
	shimtest_check_tls(fd, got, "epoll handshake wait");
	close(fd);
	close(ep);
	pthread_join(t, NULL);
	CHECK_EQ(d.echoed, sizeof msg);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);
	event_loop();
	no_spin_while_handshaking();
	return check_exit("shim/epoll_lt");
}
