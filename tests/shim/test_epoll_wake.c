/*
 * test_epoll_wake: wake-ups that only tlshim can give (issue 10: none may
 * be lost). A thread is blocked in epoll_wait while decrypted plaintext
 * already waits inside tlshim and the kernel socket is empty, so the
 * kernel has nothing to report; another thread then makes that plaintext
 * visible to the set with EPOLL_CTL_MOD, as a plaintext socket's MOD
 * would (epoll_ctl(2): a MOD reports the current state):
 * - directly: the waiter on that set must wake within a second;
 * - through nesting: the TLS socket sits in an inner set, the waiter
 *   blocks on the outer set that holds the inner one.
 * EPOLLEXCLUSIVE: a TLS socket in two sets, both exclusive, is reported
 * (by at least one) with data and with plaintext left inside tlshim; a
 * socket registered exclusive before connect() made it TLS reports
 * EPOLLOUT once its handshake is done.
 * And an epoll set shared across fork: the child waits on the set the
 * parent made (level-triggered) while the parent writes; the child reads
 * in two pieces and is told of the rest, which waits inside tlshim.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/epoll.h>
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

/* A connected pair whose server end holds 90 bytes of plaintext inside
 * tlshim, none in the kernel: 100 were sent, the server read 10. */
static void pair_with_plaintext(int *cfd, int *sfd)
{
	*cfd = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_connect(*cfd, shimtest_port(0)), EINPROGRESS);
	*sfd = accept4(shimtest_listener(0), NULL, NULL, SOCK_NONBLOCK);
	CHECK(*sfd >= 0);
	int64_t end = shimtest_now_ms() + 5000;
	bool up = false;
	while (!up && shimtest_now_ms() < end) {
		struct pollfd p[2] = {{.fd = *cfd, .events = POLLOUT},
				      {.fd = *sfd, .events = POLLIN}};
		poll(p, 2, 100);
		up = p[0].revents & POLLOUT;
	}
	CHECK(up);
	char buf[100];
	memset(buf, 'p', sizeof buf);
	CHECK_EQ(write(*cfd, buf, sizeof buf), (ssize_t)sizeof buf);
	struct pollfd p = {.fd = *sfd, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(read(*sfd, buf, 10), 10);
	int avail = 0;
	CHECK_EQ(ioctl(*sfd, FIONREAD, &avail), 0);
	CHECK_EQ(avail, 90);
}

struct waiter {
	int ep;
	uint64_t tag;
	int n;
	uint64_t got;
	int64_t ms;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = shimtest_now_ms();
	struct epoll_event ev;
	w->n = epoll_wait(w->ep, &ev, 1, 5000);
	w->got = w->n == 1 ? ev.data.u64 : 0;
	w->ms = shimtest_now_ms() - t0;
	return NULL;
}

static void mod_wakes(bool nested)
{
	int cfd, sfd;
	pair_with_plaintext(&cfd, &sfd);
	int inner = epoll_create1(0), outer = nested ? epoll_create1(0) : inner;
	/* Registered for nothing yet (as a server does while it is busy). */
	CHECK_EQ(ep_ctl(inner, EPOLL_CTL_ADD, sfd, EPOLLRDHUP, 1), 0);
	if (nested)
		CHECK_EQ(ep_ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2), 0);
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(outer, &ev, 1, 100), 0);
	struct waiter w = {.ep = outer};
	pthread_t t = shimtest_thread(wait_thread, &w);
	shimtest_sleep_ms(200); /* let it block in the kernel */
	CHECK_EQ(ep_ctl(inner, EPOLL_CTL_MOD, sfd, EPOLLIN, 1), 0);
	pthread_join(t, NULL);
	CHECK_EQ(w.n, 1);
	CHECK_EQ(w.got, nested ? 2u : 1u);
	CHECK(w.ms < 1500);
	if (nested)
		CHECK_EQ(ep_wait_tag(inner, 1, 1000), EPOLLIN);
	char buf[100];
	CHECK_EQ(read(sfd, buf, sizeof buf), 90);
	close(cfd);
	close(sfd);
	if (nested)
		close(outer);
	close(inner);
}

static void exclusive(void)
{
	int cfd, sfd;
	pair_with_plaintext(&cfd, &sfd);
	char buf[100];
	CHECK_EQ(read(sfd, buf, sizeof buf), 90);
	int e1 = epoll_create1(0), e2 = epoll_create1(0);
	CHECK_EQ(ep_ctl(e1, EPOLL_CTL_ADD, sfd, EPOLLIN | EPOLLEXCLUSIVE, 1), 0);
	CHECK_EQ(ep_ctl(e2, EPOLL_CTL_ADD, sfd, EPOLLIN | EPOLLEXCLUSIVE, 2), 0);
	memset(buf, 'x', sizeof buf);
	CHECK_EQ(write(cfd, buf, sizeof buf), (ssize_t)sizeof buf);
	struct epoll_event ev;
	int n1 = epoll_wait(e1, &ev, 1, 2000), n2 = epoll_wait(e2, &ev, 1, n1 == 1 ? 0 : 2000);
	CHECK(n1 == 1 || n2 == 1);
	CHECK_EQ(read(sfd, buf, 10), 10); /* 90 left inside tlshim */
	n1 = epoll_wait(e1, &ev, 1, 1000);
	n2 = epoll_wait(e2, &ev, 1, n1 == 1 ? 0 : 1000);
	CHECK(n1 == 1 || n2 == 1);
	CHECK_EQ(read(sfd, buf, sizeof buf), 90);
	close(e1);
	close(e2);
	close(cfd);
	close(sfd);

	/* Exclusive, then connect(): the registration becomes TLS. */
	int ep = epoll_create1(0);
	cfd = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, cfd, EPOLLOUT | EPOLLEXCLUSIVE, 3), 0);
	CHECK_EQ(ep_connect(cfd, shimtest_port(0)), EINPROGRESS);
	sfd = accept4(shimtest_listener(0), NULL, NULL, SOCK_NONBLOCK);
	CHECK(sfd >= 0);
	int64_t end = shimtest_now_ms() + 5000;
	uint32_t got = 0;
	while (!(got & EPOLLOUT) && shimtest_now_ms() < end) {
		char c;
		CHECK_EQ(read(sfd, &c, 1), -1); /* drives the server's handshake */
		got = ep_wait_tag(ep, 3, 20);
	}
	CHECK(got & EPOLLOUT);
	CHECK_EQ(write(cfd, "ok", 2), 2);
	close(ep);
	close(cfd);
	close(sfd);
}

struct forked {
	int ep, sfd;
};

static void child_reads(void *arg)
{
	struct forked *f = arg;
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(f->ep, &ev, 1, 5000), 1);
	char buf[100];
	size_t got = 0;
	for (int i = 0; i < 20 && got < 100; i++) {
		ssize_t r = read(f->sfd, buf + got, got ? sizeof buf - got : 10);
		if (r > 0)
			got += (size_t)r;
		if (got < 100) /* the rest waits inside tlshim (or is on its way) */
			CHECK_EQ(epoll_wait(f->ep, &ev, 1, 5000), 1);
	}
	CHECK_EQ(got, 100);
}

static void fork_shares_set(void)
{
	int cfd, sfd;
	pair_with_plaintext(&cfd, &sfd);
	char buf[100];
	CHECK_EQ(read(sfd, buf, sizeof buf), 90); /* drained: nothing buffered */
	int ep = epoll_create1(0);
	CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, sfd, EPOLLIN, 1), 0);
	struct forked f = {ep, sfd};
	pid_t pid = shimtest_fork(child_reads, &f);
	shimtest_sleep_ms(200);
	memset(buf, 'f', sizeof buf);
	CHECK_EQ(write(cfd, buf, sizeof buf), (ssize_t)sizeof buf);
	CHECK_EQ(shimtest_wait(pid), 0);
	close(cfd);
	close(sfd);
	close(ep);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	mod_wakes(false);
	mod_wakes(true);
	exclusive();
	fork_shares_set();
	return check_exit("shim/epoll_wake");
}
