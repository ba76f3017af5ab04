/*
 * test_nonblock: a non-blocking client (INTERFACE.md "Client rule,
 * non-blocking socket"). connect() returns EINPROGRESS, the socket stays
 * non-blocking, writes before the handshake finished return EAGAIN,
 * POLLOUT (or select's writable) comes only once the handshake is done,
 * SO_ERROR is 0, and data then flows. The server delays its handshake by
 * DELAY_MS, so "writable too early" is visible as a premature wakeup.
 * A failed handshake (untrusted server) shows up as readable + POLLERR,
 * SO_ERROR = EACCES and a read failing with EACCES.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

#define DELAY_MS 500

static const char policy[] = "[good-in]\n"
			     "role = server\n"
			     "port = @P0@, @P1@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[evil-in]\n"
			     "role = server\n"
			     "port = @P2@, @P3@\n"
			     "cert = @CERTS@/evil-server.crt\n"
			     "key = @CERTS@/evil-server.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@, @P1@, @P2@, @P3@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 5\n";

struct srv {
	int idx;
	int delay_ms;
	ssize_t last; /* the read that ended the echo loop */
	int last_errno;
	size_t echoed;
};

/* Accept, wait, then echo until the client goes. */
static void *echo_server(void *arg)
{
	struct srv *s = arg;
	int fd = shimtest_accept(s->idx);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	shimtest_sleep_ms(s->delay_ms);
	for (;;) {
		char buf[4096];
		errno = 0;
		ssize_t r = read(fd, buf, sizeof buf);
		s->last = r;
		s->last_errno = errno;
		if (r <= 0 || !shimtest_write_all(fd, buf, (size_t)r))
			break;
		s->echoed += (size_t)r;
	}
	close(fd);
	return NULL;
}

/* After the handshake: ping, wait for readable with ${use_select}, pong. */
static void exchange(int fd, bool use_select)
{
	const char msg[] = "nonblocking " SHIMTEST_MARKER;
	CHECK_EQ(write(fd, msg, sizeof msg), sizeof msg);
	char buf[sizeof msg] = "";
	size_t got = 0;
	int64_t end = shimtest_now_ms() + 5000;
	while (got < sizeof msg && shimtest_now_ms() < end) {
		if (use_select) {
			fd_set rd;
			FD_ZERO(&rd);
			FD_SET(fd, &rd);
			struct timeval tv = {5, 0};
			CHECK_EQ(select(fd + 1, &rd, NULL, NULL, &tv), 1);
			CHECK(FD_ISSET(fd, &rd));
		} else {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			CHECK_EQ(poll(&p, 1, 5000), 1);
			CHECK_EQ(p.revents, POLLIN);
		}
		ssize_t r = read(fd, buf + got, sizeof msg - got);
		CHECK(r > 0 || (r < 0 && errno == EAGAIN));
		if (r > 0)
			got += (size_t)r;
	}
	CHECK_EQ(got, sizeof msg);
	CHECK_MEM(buf, msg, sizeof msg);
	shimtest_check_tls(fd, got, "nonblocking client");
}

static void check_pending(int fd)
{
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK); /* never changed behind our back */
	errno = 0;
	CHECK_EQ(write(fd, "x", 1), -1);
	CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
	char c;
	errno = 0;
	CHECK_EQ(read(fd, &c, 1), -1);
	CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void with_poll(void)
{
	struct srv s = {.idx = 0, .delay_ms = DELAY_MS};
	pthread_t t = shimtest_thread(echo_server, &s);
	int64_t t0 = shimtest_now_ms();
	int err;
	int fd = shimtest_connect(shimtest_port(0), SOCK_NONBLOCK, &err);
	CHECK_EQ(err, EINPROGRESS);
	check_pending(fd);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	CHECK_EQ(poll(&p, 1, 200), 0); /* the server has not even started */
	CHECK_EQ(p.revents, 0);
	p.revents = 0;
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(p.revents, POLLOUT);
	CHECK(shimtest_now_ms() - t0 >= DELAY_MS - 50);
	int so = -1;
	socklen_t sl = sizeof so;
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
	CHECK_EQ(so, 0);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	exchange(fd, false);
	close(fd);
	pthread_join(t, NULL);
	CHECK_EQ(s.last, 0);
	CHECK(s.echoed > 0);
}

/* select(), and O_NONBLOCK set with ioctl(FIONBIO) as nginx does. */
static void with_select(void)
{
	struct srv s = {.idx = 1, .delay_ms = DELAY_MS};
	pthread_t t = shimtest_thread(echo_server, &s);
	int64_t t0 = shimtest_now_ms();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int on = 1;
	CHECK_EQ(ioctl(fd, FIONBIO, &on), 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(shimtest_port(1)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	errno = 0;
	CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), -1);
	CHECK_EQ(errno, EINPROGRESS);
	check_pending(fd);
	fd_set wr;
	FD_ZERO(&wr);
	FD_SET(fd, &wr);
	struct timeval tv = {0, 200000};
	CHECK_EQ(select(fd + 1, NULL, &wr, NULL, &tv), 0);
	FD_ZERO(&wr);
	FD_SET(fd, &wr);
	tv = (struct timeval){5, 0};
	CHECK_EQ(select(fd + 1, NULL, &wr, NULL, &tv), 1);
	CHECK(FD_ISSET(fd, &wr));
	CHECK(shimtest_now_ms() - t0 >= DELAY_MS - 50);
	int so = -1;
	socklen_t sl = sizeof so;
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
	CHECK_EQ(so, 0);
	exchange(fd, true);
	close(fd);
	pthread_join(t, NULL);
	CHECK_EQ(s.last, 0);
	CHECK(s.echoed > 0);
}

/* Untrusted server, poll: readable + error, then SO_ERROR = EACCES. */
static void failure_poll(void)
{
	struct srv s = {.idx = 2};
	pthread_t t = shimtest_thread(echo_server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(2), SOCK_NONBLOCK, &err);
	CHECK_EQ(err, EINPROGRESS);
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK(p.revents & POLLERR);
	CHECK(p.revents & POLLIN);
	int so = -1;
	socklen_t sl = sizeof so;
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl), 0);
	CHECK_EQ(so, EACCES);
	errno = 0;
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	CHECK(errno != EAGAIN && errno != 0);
	close(fd);
	pthread_join(t, NULL);
	CHECK_EQ(s.last, -1); /* the server saw the client's alert */
	CHECK_EQ(s.last_errno, ECONNRESET);
	CHECK_EQ(s.echoed, 0);
}

/* Untrusted server, select: readable, and the read reports EACCES. */
static void failure_select(void)
{
	struct srv s = {.idx = 3};
	pthread_t t = shimtest_thread(echo_server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(3), SOCK_NONBLOCK, &err);
	CHECK_EQ(err, EINPROGRESS);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	struct timeval tv = {5, 0};
	CHECK_EQ(select(fd + 1, &rd, NULL, NULL, &tv), 1);
	CHECK(FD_ISSET(fd, &rd));
	char c;
	errno = 0;
	CHECK_EQ(read(fd, &c, 1), -1);
	CHECK_EQ(errno, EACCES);
	close(fd);
	pthread_join(t, NULL);
	CHECK_EQ(s.last, -1);
	CHECK_EQ(s.echoed, 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 4, policy);
	with_poll();
	with_select();
	failure_poll();
	failure_select();
	return check_exit("shim/nonblock");
}
