/*
 * bench_memory: resident memory per established TLS connection, measured
 * the way a program would see it. Run it under tlshim with a policy that
 * has a server rule and a client rule on PORT (scripts/bench-memory does);
 * it opens N connections to itself, completes each handshake, moves one
 * full-size record each way (so every buffer page is touched), leaves them
 * idle, and reports the growth of VmRSS divided by the 2N TLS endpoints;
 * then makes each server end hold a 16 KiB record it has read 1 byte of
 * and reports the growth again.
 * Without tlshim the same run shows the program's own cost (about zero).
 *
 *   bench_memory N PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

/* Move ${n} bytes from ${from} to ${to} (both non-blocking), driving both. */
static int move(int from, int to, size_t n)
{
	static char out[40000], in[40000];
	size_t sent = 0, got = 0;
	for (int k = 0; k < 20000 && got < n; k++) {
		if (sent < n) {
			ssize_t w = write(from, out, n - sent < sizeof out ? n - sent : sizeof out);
			if (w > 0)
				sent += (size_t)w;
		}
		ssize_t r = read(to, in, sizeof in);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		struct pollfd p[2] = {{from, POLLOUT, 0}, {to, POLLIN, 0}};
		poll(p, 2, 5);
	}
	return got == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_memory N PORT\n");
		return 2;
	}
	int n = atoi(argv[1]);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
		perror("bench_memory: listen");
		return 1;
	}
	int *fds = calloc(2 * (size_t)n + 2, sizeof *fds);
	long before = 0;
	/* Connection 0 warms up the libraries; it is not counted. */
	for (int i = 0; i <= n; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(c, (struct sockaddr *)&a, sizeof a);
		int s = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
		if (s < 0 || move(c, s, 16384) < 0 || move(s, c, 16384) < 0) {
			fprintf(stderr, "bench_memory: connection %d failed\n", i);
			return 1;
		}
		fds[2 * i] = c;
		fds[2 * i + 1] = s;
		if (i == 0)
			before = rss_kib();
	}
	long after = rss_kib();
	printf("%d connections, both ends in this process: idle VmRSS +%ld KiB = %.1f KiB per "
	       "endpoint",
	       n, after - before, (double)(after - before) / (2.0 * n));
	/* Then every connection holds a record its receiver has not finished
	 * with: the client sends 16 KiB and the server reads 1 byte of it, so
	 * the server end keeps the record (its input buffer) and the client
	 * end is idle again. */
	static char rec[16384];
	for (int i = 1; i <= n; i++) {
		char one_byte;
		int got = 0;
		if (write(fds[2 * i], rec, sizeof rec) != (ssize_t)sizeof rec) {
			fprintf(stderr, "bench_memory: connection %d: write failed\n", i);
			return 1;
		}
		for (int k = 0; k < 2000 && !got; k++) {
			got = read(fds[2 * i + 1], &one_byte, 1) == 1;
			if (!got) {
				struct pollfd p = {fds[2 * i + 1], POLLIN, 0};
				poll(&p, 1, 5);
			}
		}
		if (!got) {
			fprintf(stderr, "bench_memory: connection %d: read failed\n", i);
			return 1;
		}
	}
	long held = rss_kib();
	printf("; each holding a received record: +%ld KiB = %.1f KiB per endpoint\n",
	       held - before, (double)(held - before) / (2.0 * n));
	return 0;
}
