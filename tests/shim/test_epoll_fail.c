/*
 * test_epoll_fail: failed TLS connections seen through epoll
 * (INTERFACE.md "Client rule, non-blocking socket": the first failure is
 * reported by poll/select/epoll as readable + error).
 *
 * - A silent peer (TCP accepted, no TLS ever spoken) with
 *   handshake_timeout = 1: epoll_wait sleeps (no CPU spent) and reports
 *   EPOLLERR|EPOLLIN|EPOLLOUT by the deadline; SO_ERROR and read() say
 *   ETIMEDOUT. Level-triggered, the failure is reported again;
 *   edge-triggered, once.
 * - An untrusted server: a program waiting for EPOLLOUT after connect()
 *   gets EPOLLOUT|EPOLLERR and SO_ERROR = EACCES, and nothing of its data
 *   is ever sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "epoll_helpers.h"
#include "shimtest.h"

static const char policy[] = "[silent-out]\n"
			     "role = client\n"
			     "port = @P0@, @P1@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 1\n"
			     "[evil-in]\n"
			     "role = server\n"
			     "port = @P2@\n"
			     "cert = @CERTS@/evil-server.crt\n"
			     "key = @CERTS@/evil-server.key\n"
			     "[evil-out]\n"
			     "role = client\n"
			     "port = @P2@\n"
			     "ca = @CERTS@/ca.crt\n";

static void silent_peer(int idx, bool edge)
{
	shimtest_sink sink;
	shimtest_sink_start(&sink, shimtest_listener(idx), NULL);
	int ep = epoll_create1(0);
	int fd = ep_tcp_socket(SOCK_NONBLOCK);
	int64_t t0 = shimtest_now_ms();
	CHECK_EQ(ep_connect(fd, shimtest_port(idx)), EINPROGRESS);
	uint32_t flags = EPOLLIN | EPOLLOUT | (edge ? EPOLLET : 0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fd, flags, 9), 0);
	int64_t cpu0 = ep_cpu_ms();
	struct epoll_event ev = {0};
	CHECK_EQ(epoll_wait(ep, &ev, 1, 5000), 1);
	int64_t took = shimtest_now_ms() - t0;
	CHECK(took >= 900);
	CHECK(took < 3000);
	CHECK(ep_cpu_ms() - cpu0 < 300); /* slept, did not spin */
	CHECK_EQ(ev.data.u64, 9);
	CHECK(ev.events & EPOLLERR);
	CHECK(ev.events & EPOLLIN);
	CHECK(ev.events & EPOLLOUT);
	if (edge) {
		CHECK_EQ(epoll_wait(ep, &ev, 1, 200), 0);
	} else {
		ev.events = 0;
		CHECK_EQ(epoll_wait(ep, &ev, 1, 200), 1);
		CHECK(ev.events & EPOLLERR);
	}
	int so = -1;
	socklen_t sl = sizeof so;
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
	CHECK_EQ(so, ETIMEDOUT);
	char c;
	errno = 0;
	CHECK_EQ(read(fd, &c, 1), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	close(fd);
	close(ep);
	shimtest_sink_join(&sink);
	CHECK(sink.accepted);
	CHECK(!shimtest_contains(&sink.got, SHIMTEST_MARKER));
	shimtest_buf_free(&sink.got);
}

static void *evil_server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(2);
	CHECK(fd >= 0);
	char buf[256];
	errno = 0;
	CHECK_EQ(read(fd, buf, sizeof buf), -1); /* the client's alert */
	close(fd);
	return NULL;
}

static void untrusted_server(void)
{
	pthread_t t = shimtest_thread(evil_server, NULL);
	int ep = epoll_create1(0);
	int fd = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLOUT, 3), 0);
	CHECK_EQ(ep_connect(fd, shimtest_port(2)), EINPROGRESS);
	struct epoll_event ev = {0};
	CHECK_EQ(epoll_wait(ep, &ev, 1, 5000), 1);
	CHECK_EQ(ev.data.u64, 3);
	CHECK(ev.events & EPOLLERR);
	CHECK(ev.events & EPOLLOUT);
	CHECK(!(ev.events & EPOLLIN)); /* not asked for */
	int so = -1;
	socklen_t sl = sizeof so;
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
	CHECK_EQ(so, EACCES);
	errno = 0;
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	CHECK_EQ(errno, EACCES);
	close(fd);
	close(ep);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 3, policy);
	silent_peer(0, false);
	silent_peer(1, true);
	untrusted_server();
	return check_exit("shim/epoll_fail");
}
