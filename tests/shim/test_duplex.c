/*
 * test_duplex: full duplex on blocking sockets. On each side one thread
 * writes 4 MiB while another thread reads 4 MiB from the same descriptor
 * (the server is a forked child). A shim that held one lock across both
 * directions, or blocked in a read holding the write side, deadlocks here
 * (the watchdog ends the test). Each writer ends with shutdown(SHUT_WR);
 * each reader must see exactly the peer's stream and then a clean 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

#define TOTAL       (4u << 20)
#define SEED_CLIENT 0xc11e
#define SEED_SERVER 0x5e7e

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p384.crt\n"
			     "key = @CERTS@/server-p384.key\n"
			     "ciphers = ECDHE-ECDSA-CHACHA20-POLY1305\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

struct writer {
	int fd;
	uint32_t seed;
	bool ok;
};

static void *write_side(void *arg)
{
	struct writer *w = arg;
	uint8_t *buf = malloc(100000);
	size_t off = 0;
	w->ok = true;
	for (int i = 0; off < TOTAL; i++) {
		size_t n = 1 + (size_t)(i * 31337) % 99999;
		if (n > TOTAL - off)
			n = TOTAL - off;
		shimtest_pattern(buf, off, n, w->seed);
		if (!shimtest_write_all(w->fd, buf, n)) {
			perror("writer");
			w->ok = false;
			break;
		}
		off += n;
	}
	if (shutdown(w->fd, SHUT_WR) != 0)
		w->ok = false;
	free(buf);
	return NULL;
}

/* Write ${mine} and read the peer's ${theirs} at the same time. */
static void duplex(int fd, uint32_t mine, uint32_t theirs)
{
	struct writer w = {.fd = fd, .seed = mine};
	pthread_t t = shimtest_thread(write_side, &w);
	uint8_t *buf = malloc(70000);
	size_t total = 0;
	long bad = -1;
	ssize_t r;
	for (int i = 0;; i++) {
		r = recv(fd, buf, 1 + (size_t)(i * 7727) % 69999, 0);
		if (r <= 0)
			break;
		if (bad < 0)
			bad = shimtest_pattern_check(buf, total, (size_t)r, theirs);
		total += (size_t)r;
	}
	if (r < 0)
		perror("reader");
	pthread_join(t, NULL);
	CHECK(w.ok);
	CHECK_EQ(r, 0);
	CHECK_EQ(total, TOTAL);
	CHECK_EQ(bad, -1);
	shimtest_check_tls(fd, total, "duplex");
	free(buf);
}

static void server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	duplex(fd, SEED_SERVER, SEED_CLIENT);
	CHECK_EQ(close(fd), 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	pid_t pid = shimtest_fork(server, NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	if (err == 0)
		duplex(fd, SEED_CLIENT, SEED_SERVER);
	CHECK_EQ(close(fd), 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	return check_exit("shim/duplex");
}
