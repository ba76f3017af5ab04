/*
 * test_epoll_nest: the registration shapes of epoll (DESIGN.md "The hard
 * cases": an fd may sit in several epoll sets, an epoll fd inside
 * another).
 *
 * - An epoll set inside another: the server's handshake and every read
 *   are driven only through the outer set. The reader takes 10 bytes per
 *   wake-up, so plaintext waits inside tlshim while the kernel socket is
 *   empty; the outer set must still report the inner one (level- and
 *   edge-triggered), and fall quiet once everything was read.
 * - One TLS socket in two sets (level- and edge-triggered) next to a pipe
 *   whose data is returned untouched; EPOLLONESHOT (one report, then
 *   silence until EPOLL_CTL_MOD); EPOLL_CTL_DEL; close() of a registered
 *   TLS socket, and a new connection that reuses its number unregistered.
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

/* A non-blocking client and its accepted, non-blocking server end. */
static void open_pair(int *cfd, int *sfd)
{
	*cfd = ep_tcp_socket(SOCK_NONBLOCK);
	CHECK_EQ(ep_connect(*cfd, shimtest_port(0)), EINPROGRESS);
	*sfd = accept4(shimtest_listener(0), NULL, NULL, SOCK_NONBLOCK);
	CHECK(*sfd >= 0);
}

/* Drive both handshakes with poll until the client may write. */
static void handshake_pair(int cfd, int sfd)
{
	int64_t end = shimtest_now_ms() + 5000;
	while (shimtest_now_ms() < end) {
		struct pollfd p[2] = {{.fd = cfd, .events = POLLOUT},
				      {.fd = sfd, .events = POLLIN}};
		poll(p, 2, 100);
		if (p[0].revents & POLLOUT)
			return;
	}
	CHECK(!"handshake did not finish");
}

static void send_pattern(int fd, size_t off, size_t n, uint32_t seed)
{
	uint8_t buf[4096];
	CHECK(n <= sizeof buf);
	shimtest_pattern(buf, off, n, seed);
	CHECK_EQ(write(fd, buf, n), n);
}

/* Read exactly ${n} bytes that are known to be waiting (readable now). */
static void read_now(int fd, size_t off, size_t n, uint32_t seed)
{
	uint8_t buf[4096];
	CHECK(n <= sizeof buf);
	size_t got = 0;
	int64_t end = shimtest_now_ms() + 5000;
	while (got < n && shimtest_now_ms() < end) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r > 0)
			got += (size_t)r;
		else
			CHECK(r < 0 && errno == EAGAIN);
	}
	CHECK_EQ(got, n);
	CHECK_EQ(shimtest_pattern_check(buf, off, got, seed), -1);
}

static void expect_eagain(int fd)
{
	char c;
	errno = 0;
	CHECK_EQ(read(fd, &c, 1), -1);
	CHECK_EQ(errno, EAGAIN);
}

enum { T_INNER = 1, T_CLIENT, T_SERVER };

/* Read ${total} bytes from ${sfd} (in ${inner}) 10 at a time, waking only
 * through ${outer}. Returns the outer reports of the inner set. */
static int read_through_nesting(int outer, int inner, int sfd, int cfd, size_t off, size_t total,
				uint32_t seed, bool *client_pending)
{
	uint8_t *got = malloc(total);
	size_t n = 0;
	int reports = 0;
	while (n < total) {
		struct epoll_event evs[4];
		int k = epoll_wait(outer, evs, 4, 5000);
		if (k <= 0) {
			CHECK(!"nested set left asleep");
			fprintf(stderr, "stalled after %zu of %zu bytes\n", n, total);
			break;
		}
		for (int i = 0; i < k; i++) {
			if (evs[i].data.u64 == T_CLIENT) {
				CHECK(evs[i].events & EPOLLOUT);
				CHECK(*client_pending);
				if (*client_pending) {
					send_pattern(cfd, off, total, seed);
					*client_pending = false;
					CHECK_EQ(ep_ctl(outer, EPOLL_CTL_MOD, cfd, 0, T_CLIENT), 0);
				}
				continue;
			}
			CHECK_EQ(evs[i].data.u64, T_INNER);
			CHECK(evs[i].events & EPOLLIN);
			reports++;
			struct epoll_event iev;
			struct timespec zero = {0, 0};
			int m = epoll_pwait2(inner, &iev, 1, &zero, NULL);
			if (m != 1)
				continue; /* over-reported: tolerated */
			CHECK_EQ(iev.data.u64, T_SERVER);
			CHECK(iev.events & EPOLLIN);
			ssize_t r = read(sfd, got + n, total - n < 10 ? total - n : 10);
			if (r > 0)
				n += (size_t)r;
			else
				CHECK(r < 0 && errno == EAGAIN);
		}
	}
	CHECK_EQ(n, total);
	CHECK_EQ(shimtest_pattern_check(got, off, n, seed), -1);
	free(got);
	return reports;
}

static void nested(void)
{
	int inner = epoll_create1(0), outer = epoll_create1(0);
	int cfd, sfd;
	open_pair(&cfd, &sfd);
	CHECK_EQ(ep_ctl(inner, EPOLL_CTL_ADD, sfd, EPOLLIN, T_SERVER), 0);
	CHECK_EQ(ep_ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, T_INNER), 0);
	CHECK_EQ(ep_ctl(outer, EPOLL_CTL_ADD, cfd, EPOLLOUT, T_CLIENT), 0);

	/* Level-triggered: both handshakes and 3000 bytes, 10 per wake-up. */
	bool pending = true;
	int reports = read_through_nesting(outer, inner, sfd, cfd, 0, 3000, 31, &pending);
	CHECK(!pending);
	CHECK(reports >= 300);
	expect_eagain(sfd);
	struct epoll_event ev;
	CHECK_EQ(epoll_wait(outer, &ev, 1, 200), 0); /* quiet once drained */

	/* Edge-triggered outer registration of the inner set. */
	struct epoll_event et = {.events = EPOLLIN | EPOLLET, .data.u64 = T_INNER};
	CHECK_EQ(epoll_ctl(outer, EPOLL_CTL_MOD, inner, &et), 0);
	CHECK_EQ(ep_ctl(outer, EPOLL_CTL_MOD, cfd, EPOLLOUT, T_CLIENT), 0);
	pending = true;
	reports = read_through_nesting(outer, inner, sfd, cfd, 3000, 500, 31, &pending);
	CHECK(reports >= 50);
	expect_eagain(sfd);
	CHECK_EQ(epoll_wait(outer, &ev, 1, 200), 0);
	shimtest_check_tls(sfd, 3500, "nested epoll server");
	close(cfd);
	close(sfd);
	close(inner);
	close(outer);
}

enum { T_A = 11, T_B, T_PIPE, T_ONE1, T_ONE2, T_ONE3, T_NEW };

static void shapes(void)
{
	int a = epoll_create1(0), b = epoll_create1(0), c = epoll_create1(0);
	int cfd, sfd;
	open_pair(&cfd, &sfd);
	handshake_pair(cfd, sfd);
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(ep_ctl(a, EPOLL_CTL_ADD, p[0], EPOLLIN, T_PIPE), 0);
	CHECK_EQ(ep_ctl(a, EPOLL_CTL_ADD, sfd, EPOLLIN, T_A), 0);
	CHECK_EQ(ep_ctl(b, EPOLL_CTL_ADD, sfd, EPOLLIN | EPOLLET, T_B), 0);
	struct epoll_event ev;

	/* Same socket, two sets: both report, each by its own rules. */
	send_pattern(cfd, 0, 100, 41);
	CHECK(ep_wait_tag(a, T_A, 5000) & EPOLLIN);
	CHECK(ep_wait_tag(b, T_B, 5000) & EPOLLIN);
	CHECK_EQ(epoll_wait(b, &ev, 1, 200), 0); /* no new edge yet */
	read_now(sfd, 0, 10, 41);
	CHECK(ep_wait_tag(a, T_A, 1000) & EPOLLIN); /* level: still readable */
	CHECK(ep_wait_tag(a, T_A, 1000) & EPOLLIN);
	CHECK(ep_wait_tag(b, T_B, 1000) & EPOLLIN); /* edge: the program read some */
	CHECK_EQ(epoll_wait(b, &ev, 1, 200), 0);
	read_now(sfd, 10, 90, 41);
	expect_eagain(sfd);
	CHECK_EQ(epoll_wait(a, &ev, 1, 200), 0);
	CHECK_EQ(epoll_wait(b, &ev, 1, 200), 0);

	/* Other descriptors pass through with their data. */
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(a, &ev, 1, 1000), 1);
	CHECK_EQ(ev.data.u64, T_PIPE);
	CHECK_EQ(ev.events, EPOLLIN);
	char x;
	CHECK_EQ(read(p[0], &x, 1), 1);

	send_pattern(cfd, 100, 50, 41);
	CHECK(ep_wait_tag(a, T_A, 5000) & EPOLLIN);
	CHECK(ep_wait_tag(b, T_B, 5000) & EPOLLIN);
	read_now(sfd, 100, 50, 41);

	/* EPOLLONESHOT: one report, then silence until EPOLL_CTL_MOD. */
	CHECK_EQ(ep_ctl(c, EPOLL_CTL_ADD, sfd, EPOLLIN | EPOLLONESHOT, T_ONE1), 0);
	CHECK_EQ(epoll_wait(c, &ev, 1, 200), 0);
	send_pattern(cfd, 150, 20, 41);
	CHECK(ep_wait_tag(c, T_ONE1, 5000) & EPOLLIN);
	CHECK_EQ(epoll_wait(c, &ev, 1, 300), 0); /* data waits, but one-shot */
	CHECK_EQ(ep_ctl(c, EPOLL_CTL_MOD, sfd, EPOLLIN | EPOLLONESHOT, T_ONE2), 0);
	CHECK(ep_wait_tag(c, T_ONE2, 1000) & EPOLLIN);
	CHECK_EQ(epoll_wait(c, &ev, 1, 200), 0);
	read_now(sfd, 150, 20, 41);
	CHECK_EQ(ep_ctl(c, EPOLL_CTL_MOD, sfd, EPOLLIN | EPOLLONESHOT, T_ONE3), 0);
	CHECK_EQ(epoll_wait(c, &ev, 1, 200), 0);
	send_pattern(cfd, 170, 5, 41);
	CHECK(ep_wait_tag(c, T_ONE3, 5000) & EPOLLIN);
	CHECK_EQ(epoll_wait(c, &ev, 1, 200), 0);
	read_now(sfd, 170, 5, 41);

	/* EPOLL_CTL_DEL: gone from a, still in b. */
	CHECK_EQ(epoll_ctl(a, EPOLL_CTL_DEL, sfd, NULL), 0);
	errno = 0;
	CHECK_EQ(epoll_ctl(a, EPOLL_CTL_DEL, sfd, NULL), -1);
	CHECK_EQ(errno, ENOENT);
	send_pattern(cfd, 175, 5, 41);
	CHECK(ep_wait_tag(b, T_B, 5000) & EPOLLIN);
	CHECK_EQ(epoll_wait(a, &ev, 1, 300), 0);
	read_now(sfd, 175, 5, 41);

	/* close() of a socket still registered in b (and c, disarmed). */
	send_pattern(cfd, 180, 5, 41); /* unread plaintext dies with it */
	CHECK(ep_wait_tag(b, T_B, 5000) & EPOLLIN);
	int old = sfd;
	close(sfd);
	close(cfd);
	CHECK_EQ(epoll_wait(b, &ev, 1, 200), 0);
	CHECK_EQ(epoll_wait(c, &ev, 1, 200), 0);
	/* A new connection, likely on the same number, not registered. */
	open_pair(&cfd, &sfd);
	handshake_pair(cfd, sfd);
	if (sfd != old)
		fprintf(stderr, "note: the new socket got %d, not %d\n", sfd, old);
	send_pattern(cfd, 0, 30, 43);
	CHECK_EQ(epoll_wait(b, &ev, 1, 300), 0);
	CHECK_EQ(epoll_wait(c, &ev, 1, 300), 0);
	CHECK_EQ(ep_ctl(b, EPOLL_CTL_ADD, sfd, EPOLLIN | EPOLLET, T_NEW), 0);
	CHECK(ep_wait_tag(b, T_NEW, 5000) & EPOLLIN);
	read_now(sfd, 0, 30, 43);
	shimtest_check_tls(sfd, 30, "epoll shapes server");
	close(cfd);
	close(sfd);
	close(p[0]);
	close(p[1]);
	close(a);
	close(b);
	close(c);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	nested();
	shapes();
	return check_exit("shim/epoll_nest");
}
