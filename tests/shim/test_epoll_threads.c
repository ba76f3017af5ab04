/*
 * test_epoll_threads: a worker pool on one epoll set, as thread-pool
 * servers run it: every accepted TLS socket is registered with
 * EPOLLIN|EPOLLONESHOT, any of the workers may wake for it, handles it
 * and re-arms it with EPOLL_CTL_MOD; the listener sits in the same set.
 * Blocking clients in their own threads (handshake inside connect(),
 * driven on the server side only by the workers' epoll_wait) exchange
 * request/response rounds. Every byte must come back, and no connection
 * may stall.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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
			     "ca = @CERTS@/ca.crt\n";

#define CLIENTS    8
#define WORKERS    4
#define ROUNDS     40
#define MSG        3000
#define TAG_LISTEN UINT64_MAX

static int ep;
static int done_clients; /* atomic */
static int closed_conns; /* atomic */

static bool write_all_nb(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			struct pollfd q = {.fd = fd, .events = POLLOUT};
			poll(&q, 1, 1000);
		} else {
			return false;
		}
	}
	return true;
}

static void serve(int fd)
{
	uint8_t buf[8192];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r > 0) {
			CHECK(write_all_nb(fd, buf, (size_t)r));
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = fd};
			CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
			return;
		}
		CHECK_EQ(r, 0); /* the client closed with close_notify */
		CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL), 0);
		close(fd);
		__atomic_add_fetch(&closed_conns, 1, __ATOMIC_SEQ_CST);
		return;
	}
}

static void *worker(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&closed_conns, __ATOMIC_SEQ_CST) < CLIENTS) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 100);
		CHECK(n >= 0);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_LISTEN) {
				int fd = accept4(shimtest_listener(0), NULL, NULL, SOCK_NONBLOCK);
				if (fd < 0) {
					CHECK(errno == EAGAIN);
					continue;
				}
				struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
							 .data.u64 = (uint64_t)fd};
				CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
			} else {
				serve((int)evs[i].data.u64);
			}
		}
	}
	return NULL;
}

static void *client(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg;
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	uint8_t out[MSG], in[MSG];
	for (int round = 0; round < ROUNDS && err == 0; round++) {
		shimtest_pattern(out, (size_t)round * MSG, MSG, seed);
		CHECK(shimtest_write_all(fd, out, MSG));
		size_t got = shimtest_read_full(fd, in, MSG, NULL);
		CHECK_EQ(got, MSG);
		if (got != MSG)
			break;
		CHECK_EQ(shimtest_pattern_check(in, (size_t)round * MSG, MSG, seed), -1);
	}
	shimtest_check_tls(fd, (uint64_t)ROUNDS * MSG, "pool client");
	close(fd);
	__atomic_add_fetch(&done_clients, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	ep = epoll_create1(EPOLL_CLOEXEC);
	int lfd = shimtest_listener(0);
	CHECK_EQ(fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK), 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, lfd, EPOLLIN, TAG_LISTEN), 0);
	pthread_t w[WORKERS], c[CLIENTS];
	for (int i = 0; i < WORKERS; i++)
		w[i] = shimtest_thread(worker, NULL);
	for (int i = 0; i < CLIENTS; i++)
		c[i] = shimtest_thread(client, (void *)(uintptr_t)(100 + i));
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(c[i], NULL);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(w[i], NULL);
	CHECK_EQ(done_clients, CLIENTS);
	CHECK_EQ(closed_conns, CLIENTS);
	close(ep);
	return check_exit("shim/epoll_threads");
}
