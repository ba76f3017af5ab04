/*
 * test_epoll_scale: readiness in O(ready), not O(registered) (issue 10
 * item 2). One epoll set holds 1,000 idle established TLS connections and
 * one busy one; 1,000 round trips on the busy one. Deterministic, not a
 * timing: the library's own count of TLS registrations looked at by epoll
 * waits (written at exit at log level debug, epset.h) must stay near one
 * per wait, plus one look per registration when it was added; a wait that
 * visits every registration makes it a million.
 *
 * The idle connections must still work afterwards: a byte sent on each
 * of a few of them is reported and read (nothing was lost by not looking).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "epoll_helpers.h"
#include "shimtest.h"

static const char policy[] = "[global]\n"
			     "log = debug\n"
			     "log_file = scale.log\n"
			     "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

#define IDLE   1000
#define ROUNDS 1000

static int servers[IDLE + 1];

static void work(void *arg)
{
	(void)arg;
	int clients[IDLE + 1];
	shimtest_pairs(IDLE + 1, clients, servers);
	int ep = epoll_create1(0);
	for (int i = 0; i <= IDLE; i++) {
		CHECK_EQ(fcntl(servers[i], F_SETFL, fcntl(servers[i], F_GETFL) | O_NONBLOCK), 0);
		CHECK_EQ(ep_ctl(ep, EPOLL_CTL_ADD, servers[i], EPOLLIN, (uint64_t)i), 0);
	}
	int busy = IDLE;
	for (int r = 0; r < ROUNDS; r++) {
		CHECK_EQ(write(clients[busy], "x", 1), 1);
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, 5000);
		CHECK_EQ(n, 1);
		if (n != 1)
			break;
		CHECK_EQ(ev[0].data.u64, (uint64_t)busy);
		char c;
		CHECK_EQ(read(servers[busy], &c, 1), 1);
	}
	/* The idle ones were not forgotten. */
	for (int i = 0; i < IDLE; i += 97) {
		CHECK_EQ(write(clients[i], "y", 1), 1);
		CHECK_EQ(ep_wait_tag(ep, (uint64_t)i, 5000) & EPOLLIN, EPOLLIN);
		char c;
		CHECK_EQ(read(servers[i], &c, 1), 1);
	}
	shimtest_check_tls(servers[busy], ROUNDS + 1, "busy connection");
	for (int i = 0; i <= IDLE; i++) {
		close(clients[i]);
		close(servers[i]);
	}
	close(ep);
	/* exit(), not the harness's _exit: the library's line is written by
	 * its destructor. */
	exit(check_failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	/* Two descriptors per connection. */
	if (!shimtest_raise_nofile(2 * IDLE + 64, "epoll_scale"))
		return 77;
	pid_t pid = shimtest_fork(work, NULL);
	CHECK_EQ(shimtest_wait(pid), 0);
	/* The child's line, written when it exited. */
	unsigned long waits = 0, visits = 0, ctls = 0;
	char rest[512];
	bool found = shimtest_debug_line("scale.log", pid, "epoll", rest, sizeof rest) &&
		     sscanf(rest,
			    "%lu waits on sets with TLS registrations looked at %lu "
			    "registrations and made %lu epoll_ctl",
			    &waits, &visits, &ctls) == 3;
	CHECK(found);
	fprintf(stderr, "epoll_scale: %lu waits, %lu registrations looked at, %lu epoll_ctl\n",
		waits, visits, ctls);
	CHECK(waits >= ROUNDS);
	/* Two looks per round for the busy connection (its kernel report,
	 * then the ready list: level-triggered, it may still be readable), one
	 * per registration
	 * when added, a few for the handful woken at the end. */
	CHECK(visits <= 3 * waits + IDLE + 200);
	/* No epoll_ctl per request (item 1): the adds, and a handful. */
	CHECK(ctls <= IDLE + 1 + 50);
	return check_exit("shim/epoll_scale");
}
