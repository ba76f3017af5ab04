/*
 * test_poll_scale: poll in O(ready), not O(passed) (issue 10 item 2). A
 * poll over 1,000 idle established TLS connections and one busy one, for
 * 1,000 round trips on the busy one (half poll, half ppoll). Deterministic,
 * not a timing: the library's own count of connections whose engine state
 * poll looked at (written at exit at log level debug, hook_poll.c) must
 * stay near two per call, plus one per connection at the first call; a
 * poll that looks at every connection it is passed makes it a million.
 *
 * The idle connections must still work afterwards: a byte sent on each of
 * a few of them is reported by the same big poll and read.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[global]\n"
			     "log = debug\n"
			     "log_file = pscale.log\n"
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

/* One poll (or ppoll) over every server connection; the index of the one
 * readable, -1 if none or more than one. */
static int poll_all(struct pollfd *p, bool use_ppoll, int timeout_ms)
{
	for (int i = 0; i <= IDLE; i++)
		p[i] = (struct pollfd){.fd = servers[i], .events = POLLIN};
	int n;
	if (use_ppoll) {
		struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
		n = ppoll(p, IDLE + 1, &ts, NULL);
	} else {
		n = poll(p, IDLE + 1, timeout_ms);
	}
	CHECK_EQ(n, 1);
	if (n != 1)
		return -1;
	for (int i = 0; i <= IDLE; i++)
		if (p[i].revents)
			return p[i].revents == POLLIN ? i : -1;
	return -1;
}

static void work(void *arg)
{
	(void)arg;
	int clients[IDLE + 1];
	shimtest_pairs(IDLE + 1, clients, servers);
	static struct pollfd p[IDLE + 1];
	int busy = IDLE;
	int64_t t0 = shimtest_now_ms();
	for (int r = 0; r < ROUNDS; r++) {
		CHECK_EQ(write(clients[busy], "x", 1), 1);
		int got = poll_all(p, r & 1, 5000);
		CHECK_EQ(got, busy);
		if (got != busy)
			break;
		char c;
		CHECK_EQ(read(servers[busy], &c, 1), 1);
	}
	/* For the reader only, not checked: a timing. */
	fprintf(stderr, "poll_scale: %d round trips in %lld ms\n", ROUNDS,
		(long long)(shimtest_now_ms() - t0));
	/* The idle ones were not forgotten. */
	for (int i = 0; i < IDLE; i += 97) {
		CHECK_EQ(write(clients[i], "y", 1), 1);
		CHECK_EQ(poll_all(p, false, 5000), i);
		char c;
		CHECK_EQ(read(servers[i], &c, 1), 1);
	}
	shimtest_check_tls(servers[busy], ROUNDS + 1, "busy connection");
	for (int i = 0; i <= IDLE; i++) {
		close(clients[i]);
		close(servers[i]);
	}
	/* exit(), not the harness's _exit: the library's line is written by
	 * its destructor. */
	exit(check_failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	/* Two descriptors per connection. */
	if (!shimtest_raise_nofile(2 * IDLE + 64, "poll_scale"))
		return 77;
	pid_t pid = shimtest_fork(work, NULL);
	CHECK_EQ(shimtest_wait(pid), 0);
	/* The child's line, written when it exited. */
	unsigned long calls = 0, looks = 0;
	char rest[512];
	bool found = shimtest_debug_line("pscale.log", pid, "poll", rest, sizeof rest) &&
		     sscanf(rest, "%lu calls with TLS descriptors looked at %lu connections'",
			    &calls, &looks) == 2;
	CHECK(found);
	fprintf(stderr, "poll_scale: %lu calls, %lu connections' engine state looked at\n", calls,
		looks);
	CHECK(calls >= ROUNDS);
	/* Two looks per round for the busy connection (its kernel report,
	 * then, its read having drained it, one look to find it quiet again),
	 * one per connection at the first call, a few for the handful woken
	 * at the end. */
	CHECK(looks <= 3 * calls + IDLE + 200);
	return check_exit("shim/poll_scale");
}
