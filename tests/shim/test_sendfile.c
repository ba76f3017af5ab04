/*
 * test_sendfile: the calls that move bytes inside the kernel go through the
 * record layer when a TLS socket is one end (DESIGN.md "Bypasses").
 * - sendfile of a 3 MiB file (with an offset) to a wrapped server socket,
 *   through a recording relay: the wrapped client reads it intact and then
 *   a clean end of file, the wire carries only well-formed records and
 *   none of the file's bytes in clear, the file position is untouched.
 * - sendfile without an offset on a non-blocking socket with small buffers:
 *   short counts and EAGAIN as the real call gives them, nothing lost, the
 *   file position advanced by exactly what was sent.
 * - splice from a pipe into a TLS socket, blocking, and non-blocking with
 *   SPLICE_F_NONBLOCK (a pipe cannot give bytes back: none may be lost).
 * - splice from a TLS socket into a pipe: decrypted bytes, 0 at close_notify.
 * - copy_file_range into a TLS socket; its source offset moves.
 * - The same calls between descriptors that are not TLS still work.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[direct-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[direct-out]\n"
			     "role = client\n"
			     "port = @P0@, @P1@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "[srv-in]\n"
			     "role = server\n"
			     "port = @P2@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n";

#define FILE_SIZE (3u << 20)
#define SEED      0x5e9d

enum mode { SENDFILE_OFF, SENDFILE_NB, SPLICE_IN, SPLICE_IN_NB, SPLICE_OUT, COPY_RANGE };

struct server {
	enum mode mode;
	int listener;
	int file;
	size_t size;   /* bytes to move */
	size_t moved;  /* what the calls reported */
	int eagain;    /* EAGAIN results seen (non-blocking modes) */
	int short_cnt; /* short counts seen */
	int pipefd[2]; /* SPLICE_IN: the pipe the writer thread fills */
	pthread_t thread;
};

static int make_file(size_t size)
{
	char path[] = "/tmp/tlshim-sendfile-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	uint8_t *buf = malloc(size);
	shimtest_pattern(buf, 0, size, SEED);
	CHECK(shimtest_write_all(fd, buf, size));
	free(buf);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void wait_fd(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	poll(&p, 1, 1000);
}

static void *pipe_writer(void *arg)
{
	struct server *sv = arg;
	uint8_t buf[10007];
	for (size_t off = 0; off < sv->size;) {
		size_t n = sv->size - off < sizeof buf ? sv->size - off : sizeof buf;
		shimtest_pattern(buf, off, n, SEED);
		if (!shimtest_write_all(sv->pipefd[1], buf, n))
			break;
		off += n;
	}
	close(sv->pipefd[1]);
	return NULL;
}

/* The server side: accept on ${sv->listener} and move sv->size bytes to
 * the peer with the call under test. */
static void *server_main(void *arg)
{
	struct server *sv = arg;
	int fd = shimtest_accept(sv->listener);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	off_t off = 0;
	pthread_t writer = 0;
	switch (sv->mode) {
	case SENDFILE_OFF:
		while (sv->moved < sv->size) {
			ssize_t r = sendfile(fd, sv->file, &off, sv->size - sv->moved);
			CHECK(r > 0);
			if (r <= 0)
				break;
			sv->moved += (size_t)r;
			CHECK_EQ(off, sv->moved); /* the offset moves ... */
		}
		CHECK_EQ(lseek(sv->file, 0, SEEK_CUR), 0); /* ... the file position does not */
		break;
	case SENDFILE_NB: {
		int small = 16384;
		CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
		CHECK_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
		shimtest_sleep_ms(300); /* let the client's window and our buffer fill */
		while (sv->moved < sv->size) {
			size_t want = sv->size - sv->moved;
			ssize_t r = sendfile(fd, sv->file, NULL, want);
			if (r < 0 && errno == EAGAIN) {
				sv->eagain++;
				wait_fd(fd, POLLOUT);
				continue;
			}
			CHECK(r > 0);
			if (r <= 0)
				break;
			sv->short_cnt += (size_t)r < want;
			sv->moved += (size_t)r;
			CHECK_EQ(lseek(sv->file, 0, SEEK_CUR), 1000 + (off_t)sv->moved);
		}
		CHECK_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
		break;
	}
	case SPLICE_IN:
	case SPLICE_IN_NB:
		CHECK_EQ(pipe(sv->pipefd), 0);
		writer = shimtest_thread(pipe_writer, sv);
		if (sv->mode == SPLICE_IN_NB)
			CHECK_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
		for (;;) {
			unsigned fl = sv->mode == SPLICE_IN_NB ? SPLICE_F_NONBLOCK : 0;
			ssize_t r =
				splice(sv->pipefd[0], NULL, fd, NULL, 100000, fl | SPLICE_F_MOVE);
			if (r < 0 && errno == EAGAIN && sv->mode == SPLICE_IN_NB) {
				sv->eagain++;
				struct pollfd p[2] = {{.fd = sv->pipefd[0], .events = POLLIN},
						      {.fd = fd, .events = POLLOUT}};
				poll(p, 2, 100);
				continue;
			}
			CHECK(r >= 0);
			if (r <= 0)
				break;
			sv->moved += (size_t)r;
		}
		pthread_join(writer, NULL);
		close(sv->pipefd[0]);
		if (sv->mode == SPLICE_IN_NB)
			CHECK_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
		break;
	case SPLICE_OUT: {
		uint8_t *buf = malloc(sv->size);
		shimtest_pattern(buf, 0, sv->size, SEED);
		CHECK(shimtest_write_all(fd, buf, sv->size));
		sv->moved = sv->size;
		free(buf);
		break;
	}
	case COPY_RANGE: {
		loff_t in_off = 4096;
		while (sv->moved < sv->size) {
			ssize_t r = copy_file_range(sv->file, &in_off, fd, NULL,
						    sv->size - sv->moved, 0);
			CHECK(r > 0);
			if (r <= 0)
				break;
			sv->moved += (size_t)r;
			CHECK_EQ(in_off, 4096 + (loff_t)sv->moved);
		}
		CHECK_EQ(lseek(sv->file, 0, SEEK_CUR), 0);
		break;
	}
	}
	CHECK_EQ(sv->moved, sv->size);
	CHECK_EQ(close(fd), 0); /* close_notify after the data */
	return NULL;
}

/* Read everything from ${fd} up to the peer's end; check it is the
 * pattern from ${base} and that the end was a clean close_notify. */
static void client_reads(int fd, size_t base, size_t size, const char *what)
{
	uint8_t *buf = malloc(size + 1);
	ssize_t last;
	size_t got = shimtest_read_full(fd, buf, size + 1, &last);
	CHECK_EQ(got, size);
	CHECK_EQ(last, 0);
	long bad = shimtest_pattern_check(buf, base, got < size ? got : size, SEED);
	CHECK_EQ(bad, -1);
	if (got != size || last != 0 || bad != -1)
		fprintf(stderr, "%s: got %zu of %zu (last %zd, bad at %ld)\n", what, got, size,
			last, bad);
	shimtest_check_tls(fd, got, what);
	free(buf);
}

static void start_server(struct server *sv, enum mode m, int listener, int file, size_t size)
{
	*sv = (struct server){.mode = m, .listener = listener, .file = file, .size = size};
	sv->thread = shimtest_thread(server_main, sv);
}

/* sendfile with an offset, 3 MiB, through the recording relay. */
static void sendfile_through_relay(int file)
{
	shimtest_relay relay;
	shimtest_relay_start(&relay, shimtest_listener(1), shimtest_port(2), -1, false);
	struct server sv;
	start_server(&sv, SENDFILE_OFF, 2, file, FILE_SIZE);
	int err;
	int fd = shimtest_connect(shimtest_port(1), 0, &err);
	CHECK_EQ(err, 0);
	client_reads(fd, 0, FILE_SIZE, "sendfile");
	close(fd);
	pthread_join(sv.thread, NULL);
	shimtest_relay_join(&relay);

	const shimtest_buf *w = &relay.wire[SHIMTEST_S2C];
	CHECK(w->len > FILE_SIZE);
	size_t tail = 1;
	CHECK(shimtest_records(w, NULL, 0, &tail) > 0);
	CHECK_EQ(tail, 0);
	CHECK_EQ(shimtest_count_type(w, 21), 1); /* one alert: close_notify */
	/* No stretch of the file appears in clear. */
	uint8_t probe[32];
	for (size_t off = 0; off < FILE_SIZE; off += FILE_SIZE / 7) {
		shimtest_pattern(probe, off, sizeof probe, SEED);
		CHECK(memmem(w->p, w->len, probe, sizeof probe) == NULL);
	}
	shimtest_buf_free(&relay.wire[0]);
	shimtest_buf_free(&relay.wire[1]);
}

/* sendfile without an offset on a non-blocking socket with small buffers. */
static void sendfile_nonblocking(int file)
{
	CHECK_EQ(lseek(file, 1000, SEEK_SET), 1000);
	struct server sv;
	start_server(&sv, SENDFILE_NB, 0, file, FILE_SIZE - 1000);
	/* A small receive window, set before connect() so it is advertised. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 32768;
	CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(shimtest_port(0)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	client_reads(fd, 1000, FILE_SIZE - 1000, "sendfile non-blocking");
	close(fd);
	pthread_join(sv.thread, NULL);
	CHECK(sv.eagain + sv.short_cnt > 0); /* the socket really pushed back */
	CHECK_EQ(lseek(file, 0, SEEK_CUR), FILE_SIZE);
	CHECK_EQ(lseek(file, 0, SEEK_SET), 0);
}

static void splice_into_tls(bool nonblocking)
{
	struct server sv;
	start_server(&sv, nonblocking ? SPLICE_IN_NB : SPLICE_IN, 0, -1, 1u << 20);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	if (nonblocking)
		shimtest_sleep_ms(200); /* let the pipe and the socket fill */
	client_reads(fd, 0, 1u << 20, nonblocking ? "splice in, non-blocking" : "splice in");
	close(fd);
	pthread_join(sv.thread, NULL);
}

struct pipe_reader {
	int fd;
	size_t got;
	long bad;
};

static void *pipe_reader_main(void *arg)
{
	struct pipe_reader *pr = arg;
	uint8_t buf[7001];
	pr->bad = -1;
	for (;;) {
		ssize_t r = read(pr->fd, buf, sizeof buf);
		if (r <= 0)
			break;
		if (pr->bad < 0)
			pr->bad = shimtest_pattern_check(buf, pr->got, (size_t)r, SEED);
		pr->got += (size_t)r;
	}
	return NULL;
}

static void splice_out_of_tls(void)
{
	struct server sv;
	start_server(&sv, SPLICE_OUT, 0, -1, 1u << 20);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	int p[2];
	CHECK_EQ(pipe(p), 0);
	struct pipe_reader pr = {.fd = p[0]};
	pthread_t t = shimtest_thread(pipe_reader_main, &pr);
	size_t total = 0;
	ssize_t r;
	while ((r = splice(fd, NULL, p[1], NULL, 50000, 0)) > 0)
		total += (size_t)r;
	CHECK_EQ(r, 0); /* close_notify: a clean end */
	if (r < 0)
		perror("splice out");
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	CHECK_EQ(total, 1u << 20);
	CHECK_EQ(pr.got, 1u << 20);
	CHECK_EQ(pr.bad, -1);
	/* Splicing into something that is not a pipe is refused, as by the kernel. */
	int f = open("/dev/null", O_WRONLY);
	errno = 0;
	CHECK_EQ(splice(fd, NULL, f, NULL, 10, 0), -1);
	CHECK_EQ(errno, EINVAL);
	close(f);
	close(fd);
	pthread_join(sv.thread, NULL);
}

static void copy_range_into_tls(int file)
{
	struct server sv;
	start_server(&sv, COPY_RANGE, 0, file, 200000);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	client_reads(fd, 4096, 200000, "copy_file_range");
	close(fd);
	pthread_join(sv.thread, NULL);
}

/* Descriptors that are not TLS keep the real calls. */
static void plain_descriptors(int file)
{
	int sp[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	off_t off = 10;
	CHECK_EQ(sendfile(sp[0], file, &off, 1000), 1000);
	CHECK_EQ(off, 1010);
	uint8_t buf[1000];
	CHECK_EQ(shimtest_read_full(sp[1], buf, sizeof buf, NULL), sizeof buf);
	CHECK_EQ(shimtest_pattern_check(buf, 10, sizeof buf, SEED), -1);
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(sp[0], "plain", 5), 5);
	CHECK_EQ(splice(sp[1], NULL, p[1], NULL, 5, 0), 5);
	char s[5];
	CHECK_EQ(read(p[0], s, 5), 5);
	CHECK_MEM(s, "plain", 5);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 3, policy);
	int file = make_file(FILE_SIZE);
	sendfile_through_relay(file);
	sendfile_nonblocking(file);
	splice_into_tls(false);
	splice_into_tls(true);
	splice_out_of_tls();
	copy_range_into_tls(file);
	plain_descriptors(file);
	close(file);
	return check_exit("shim/sendfile");
}
