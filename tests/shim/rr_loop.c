/*
 * rr_loop: a request/response loop for syscalls.sh (issue 10 item 1), the
 * shape of a redis or memcached connection: a forked blocking client sends
 * a 64-byte request, waits for the 64-byte answer, ROUNDS times; the server
 * waits with epoll_wait (level-triggered EPOLLIN, like redis; or
 * edge-triggered, reading until EAGAIN, like nginx) or poll, then read()s
 * and write()s.
 *
 *     rr_loop tls|plain epoll|epollet|poll ROUNDS
 *
 * tls: through the shim (shimtest_start re-execs it under the library, a
 * server and a client rule on the listener's port); plain: the same
 * program without the library. After one warm-up round trip (the
 * handshake is behind both ends) each process calls getppid() once, then
 * runs the rounds, then getppid() again: syscalls.sh counts each process's
 * system calls between its two markers under strace -f.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[rr-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[rr-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

#define MSG 64

static void marker(void)
{
	(void)getppid(); /* syscalls.sh counts between two of these */
}

static void client(uint16_t port, int rounds)
{
	int err;
	int fd = shimtest_connect(port, 0, &err);
	if (err)
		_exit(2);
	char req[MSG], resp[MSG];
	memset(req, 'q', sizeof req);
	for (int i = -1; i < rounds; i++) {
		if (i == 0)
			marker();
		if (!shimtest_write_all(fd, req, sizeof req) ||
		    shimtest_read_full(fd, resp, sizeof resp, NULL) != sizeof resp)
			_exit(3);
	}
	marker();
	close(fd);
	_exit(0);
}

/* Answer every whole request in ${buf}; false on end of stream or error. */
static bool serve(int fd, size_t *have, int *answered, int rounds, bool until_eagain)
{
	static char buf[16384];
	for (;;) {
		ssize_t r = read(fd, buf + *have, sizeof buf - *have);
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0)
			return false;
		*have += (size_t)r;
		if (!until_eagain || *have == sizeof buf)
			break;
	}
	char resp[MSG];
	memset(resp, 'r', sizeof resp);
	while (*have >= MSG) {
		*have -= MSG;
		if (*answered == 1)
			marker(); /* the warm-up round is over */
		if (write(fd, resp, sizeof resp) != (ssize_t)sizeof resp)
			return false;
		if (++*answered == rounds + 1)
			marker();
	}
	return true;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	bool tls = strcmp(argv[1], "tls") == 0, et = strcmp(argv[2], "epollet") == 0;
	bool use_epoll = et || strcmp(argv[2], "epoll") == 0;
	int rounds = atoi(argv[3]);
	int lfd;
	uint16_t port;
	if (tls) {
		shimtest_start(argv, 1, policy);
		lfd = shimtest_listener(0);
		port = shimtest_port(0);
	} else {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t len = sizeof a;
		if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 8) < 0 ||
		    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
			return 1;
		port = ntohs(a.sin_port);
	}
	pid_t pid = fork();
	if (pid == 0)
		client(port, rounds);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		return 1;
	size_t have = 0;
	int answered = 0, ep = -1;
	if (use_epoll) {
		ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN | (et ? EPOLLET : 0), .data.fd = fd};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return 1;
	}
	for (;;) {
		if (use_epoll) {
			struct epoll_event evs[16];
			int n = epoll_wait(ep, evs, 16, 10000);
			if (n <= 0)
				break;
		} else {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, 10000) <= 0)
				break;
		}
		if (!serve(fd, &have, &answered, rounds, et))
			break;
	}
	int st;
	waitpid(pid, &st, 0);
	if (answered != rounds + 1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "rr_loop: answered %d of %d, client status %d\n", answered,
			rounds + 1, st);
		return 1;
	}
	return 0;
}
