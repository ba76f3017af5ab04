/*
 * test_peek: what a program learns about buffered data (INTERFACE.md:
 * FIONREAD, readiness; DESIGN.md: MSG_PEEK, MSG_WAITALL served from
 * decrypted data). ioctl(FIONREAD) counts decrypted bytes, MSG_PEEK
 * returns the bytes the next read returns, MSG_WAITALL gathers several
 * records, and poll/select report readable while decrypted bytes wait
 * inside tlshim even though the kernel socket is empty (and not readable
 * when nothing waits).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

#define SEED 0x9eed
#define ONE  1000 /* one write, one record */
#define BIG  12000

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

/* Each byte from the client asks for the next step. */
static void *server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	static uint8_t buf[BIG];
	shimtest_pattern(buf, 0, BIG, SEED);
	char step;
	while (read(fd, &step, 1) == 1) {
		switch (step) {
		case '1':
			CHECK(shimtest_write_all(fd, buf, ONE));
			break;
		case '2': /* three records, apart in time */
			for (int i = 0; i < 3; i++) {
				CHECK(shimtest_write_all(fd, buf + ONE + i * 100, 100));
				shimtest_sleep_ms(50);
			}
			break;
		case '3':
			CHECK(shimtest_write_all(fd, buf, BIG));
			break;
		}
	}
	close(fd);
	return NULL;
}

static int fionread(int fd)
{
	int n = -1;
	CHECK_EQ(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static int poll_in(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, ms);
	CHECK(r == 0 || p.revents == POLLIN);
	return r;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	pthread_t t = shimtest_thread(server, NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	uint8_t want[BIG], buf[BIG + 100];
	shimtest_pattern(want, 0, BIG, SEED);

	/* Nothing sent yet. */
	CHECK_EQ(fionread(fd), 0);
	CHECK_EQ(poll_in(fd, 100), 0);
	errno = 0;
	CHECK_EQ(recv(fd, buf, 10, MSG_PEEK | MSG_DONTWAIT), -1);
	CHECK(errno == EAGAIN || errno == EWOULDBLOCK);

	/* One record: FIONREAD, peeks, then the read. */
	CHECK_EQ(write(fd, "1", 1), 1);
	CHECK_EQ(poll_in(fd, 5000), 1);
	shimtest_sleep_ms(50);
	CHECK_EQ(fionread(fd), ONE);
	memset(buf, 0, sizeof buf);
	CHECK_EQ(recv(fd, buf, 10, MSG_PEEK), 10);
	CHECK_MEM(buf, want, 10);
	memset(buf, 0, sizeof buf);
	CHECK_EQ(recv(fd, buf, sizeof buf, MSG_PEEK), ONE);
	CHECK_MEM(buf, want, ONE);
	CHECK_EQ(fionread(fd), ONE); /* peeking took nothing */
	CHECK_EQ(poll_in(fd, 0), 1);
	memset(buf, 0, sizeof buf);
	CHECK_EQ(read(fd, buf, sizeof buf), ONE);
	CHECK_MEM(buf, want, ONE);
	CHECK_EQ(fionread(fd), 0);
	CHECK_EQ(poll_in(fd, 100), 0);

	/* MSG_WAITALL across three records sent 50 ms apart. */
	CHECK_EQ(write(fd, "2", 1), 1);
	memset(buf, 0, sizeof buf);
	CHECK_EQ(recv(fd, buf, 300, MSG_WAITALL), 300);
	CHECK_MEM(buf, want + ONE, 300);

	/* A big record read in small pieces: once it is all inside tlshim
	 * the kernel socket is empty, yet poll and select must say readable
	 * until the last byte is read. */
	CHECK_EQ(write(fd, "3", 1), 1);
	size_t got = 0;
	int polls_ok = 0, selects_ok = 0, rounds = 0;
	while (got < BIG) {
		rounds++;
		polls_ok += poll_in(fd, 500) == 1;
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		struct timeval tv = {0, 500000};
		selects_ok += select(fd + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &rd);
		ssize_t r = read(fd, buf + got, 700 < BIG - got ? 700 : BIG - got);
		CHECK(r > 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	CHECK_EQ(got, BIG);
	CHECK_MEM(buf, want, BIG);
	CHECK_EQ(polls_ok, rounds);
	CHECK_EQ(selects_ok, rounds);
	CHECK_EQ(poll_in(fd, 100), 0);
	CHECK_EQ(fionread(fd), 0);
	shimtest_check_tls(fd, ONE + 300 + BIG, "peek client");

	close(fd);
	pthread_join(t, NULL);
	return check_exit("shim/peek");
}
