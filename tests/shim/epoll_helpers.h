/*
 * epoll_helpers.h: small helpers shared by the tests/shim/test_epoll*
 * programs (static inline: each test is one translation unit).
 */
#ifndef TLSHIM_TESTS_EPOLL_HELPERS_H
#define TLSHIM_TESTS_EPOLL_HELPERS_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shimtest.h"

/* ep_ctl(ep, op, fd, events, tag): epoll_ctl with the tag as data.u64. */
static inline int ep_ctl(int ep, int op, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	return epoll_ctl(ep, op, fd, &ev);
}

/* ep_wait_tag(ep, tag, ms): wait up to ${ms} for a report with ${tag};
 * returns its events, 0 on timeout. Reports for other tags are ignored. */
static inline uint32_t ep_wait_tag(int ep, uint64_t tag, int ms)
{
	int64_t end = shimtest_now_ms() + ms;
	for (;;) {
		int64_t left = end - shimtest_now_ms();
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, left > 0 ? (int)left : 0);
		for (int i = 0; i < n; i++)
			if (evs[i].data.u64 == tag)
				return evs[i].events;
		if (n < 0 && errno != EINTR)
			return 0;
		if (left <= 0)
			return 0;
	}
}

/* ep_tcp_socket(flags): an unconnected TCP socket (SOCK_NONBLOCK etc.). */
static inline int ep_tcp_socket(int flags)
{
	return socket(AF_INET, SOCK_STREAM | flags, 0);
}

/* ep_connect(fd, port): connect() to 127.0.0.1:${port}; 0 or errno. */
static inline int ep_connect(int fd, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ? errno : 0;
}

/* ep_cpu_ms(): CPU time this process used, in milliseconds (a wait that
 * spins instead of sleeping shows up here). */
static inline int64_t ep_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
