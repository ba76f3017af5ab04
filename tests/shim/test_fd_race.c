/*
 * test_fd_race: a descriptor number closed and reused while another thread
 * writes to it (issue 9, 8). A writer thread writes chunks of the marker to
 * a TLS socket; the main thread closes the socket mid-write and at once
 * opens something on the same number: a file, or one end of a socketpair.
 * The pump makes several system calls per write, and a number can change
 * hands between them, so:
 * - the new file / socketpair must never receive TLS bytes: whatever
 *   reaches it is whole chunks of the program's own plaintext, written by
 *   the program after its own close (as on a plain socket);
 * - the TLS stream itself (recorded by a relay) must stay a well-formed
 *   record stream without the marker in clear: a write() racing with the
 *   close must not reach the socket through the number once the slot has
 *   left the table (it did, in clear, after close_notify);
 * - the wrapped server reads only whole chunks and, when the close got a
 *   close_notify out, a clean end of stream.
 * Bounded: ITERATIONS connections, a few ms each. The socketpair is
 * non-blocking, so that the program's own writes to it cannot block the
 * writer once its buffer is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shimtest.h"

#define ITERATIONS 120
#define CHUNK      4096

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P1@\n"
			     "cert = @CERTS@/server-ed25519.crt\n"
			     "key = @CERTS@/server-ed25519.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

static uint8_t chunk[CHUNK]; /* the marker, repeated */

/* ${b} is chunks of the marker and nothing else; the last one may be cut
 * short (a write the close stopped after it took some bytes returns that
 * count: DESIGN.md "Partial writes"). */
static bool only_chunks(const uint8_t *b, size_t n)
{
	for (size_t off = 0; off < n; off += CHUNK) {
		size_t k = n - off < CHUNK ? n - off : CHUNK;
		if (memcmp(b + off, chunk, k) != 0)
			return false;
	}
	return true;
}

struct writer {
	int fd;
	int err;
	bool stop; /* atomic: the number was reused; its later writes are the program's bug */
};

static void *write_side(void *arg)
{
	struct writer *w = arg;
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		ssize_t n = write(w->fd, chunk, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = errno;
			break;
		}
	}
	return NULL;
}

/* Open a file (${as_file}) or a socketpair until one gets the number
 * ${fd}: it may be parked for a moment (a pump call of the writer still
 * uses it). The others stay open meanwhile, so the lower numbers stay
 * taken. Returns ${fd} (with *file or *other set), or -1 when it did not
 * come back. */
static int reuse(int fd, bool as_file, const char *path, int *file, int *other)
{
	int extra[256], nextra = 0, got = -1;
	while (nextra < 250) {
		int a = -1, b = -1;
		if (as_file) {
			a = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		} else {
			int sp[2];
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
				       sp) == 0) {
				a = sp[0] == fd ? sp[0] : sp[1];
				b = sp[0] == fd ? sp[1] : sp[0];
			}
		}
		if (a == fd) {
			got = fd;
			if (as_file)
				*file = a;
			else
				*other = b;
			break;
		}
		if (a >= 0)
			extra[nextra++] = a;
		if (b >= 0)
			extra[nextra++] = b;
		if (nextra % 32 == 0)
			shimtest_sleep_ms(1);
		else
			sched_yield();
	}
	for (int k = 0; k < nextra; k++)
		close(extra[k]);
	return got;
}

struct server {
	shimtest_buf got;
	ssize_t last;
	int err;
};

static void *serve(void *arg)
{
	struct server *sv = arg;
	int fd = shimtest_accept(1);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	uint8_t buf[16384];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0) {
			sv->last = r;
			sv->err = errno;
			break;
		}
		shimtest_buf_add(&sv->got, buf, (size_t)r);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);
	for (size_t i = 0; i < CHUNK; i++)
		chunk[i] = (uint8_t)SHIMTEST_MARKER[i % (sizeof SHIMTEST_MARKER - 1)];
	char path[4200];
	const char *dir = getenv("SHIMTEST_DIR");
	snprintf(path, sizeof path, "%s/fd_race.%d", dir && *dir ? dir : "/tmp", (int)getpid());

	int reused = 0, clean = 0, foreign_bytes = 0, bad_foreign = 0, bad_wire = 0;
	int bad_server = 0;
	for (int it = 0; it < ITERATIONS; it++) {
		shimtest_relay relay;
		shimtest_relay_start(&relay, shimtest_listener(0), shimtest_port(1), -1, false);
		struct server sv = {0};
		pthread_t st = shimtest_thread(serve, &sv);
		int err;
		int fd = shimtest_connect(shimtest_port(0), 0, &err);
		CHECK_EQ(err, 0);
		CHECK_EQ(write(fd, chunk, CHUNK), CHUNK); /* the handshake */
		struct writer w = {.fd = fd};
		pthread_t wt = shimtest_thread(write_side, &w);
		shimtest_sleep_ms(it % 3);

		/* Close and reuse the number at once. */
		int file = -1, other = -1;
		CHECK_EQ(close(fd), 0);
		int mine = reuse(fd, it % 2 == 0, path, &file, &other);
		shimtest_sleep_ms(1);
		__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
		pthread_join(wt, NULL);
		reused += mine == fd;
		int sp[2] = {mine, other};

		/* What reached the new file or socket. */
		shimtest_buf got = {0};
		if (file >= 0) {
			struct stat stt;
			CHECK_EQ(fstat(file, &stt), 0);
			uint8_t *b = malloc((size_t)stt.st_size + 1);
			ssize_t n = pread(file, b, (size_t)stt.st_size, 0);
			if (n > 0)
				shimtest_buf_add(&got, b, (size_t)n);
			free(b);
			close(file);
		} else if (other >= 0) {
			uint8_t b[65536];
			ssize_t n;
			while ((n = recv(other, b, sizeof b, MSG_DONTWAIT)) > 0)
				shimtest_buf_add(&got, b, (size_t)n);
			close(sp[0]);
			close(sp[1]);
		}
		foreign_bytes += got.len > 0;
		if (!only_chunks(got.p, got.len)) {
			bad_foreign++;
			fprintf(stderr,
				"iteration %d: %zu bytes that are not the program's own "
				"plaintext reached the %s on the closed number\n",
				it, got.len, file >= 0 ? "file" : "socket");
		}
		shimtest_buf_free(&got);

		pthread_join(st, NULL);
		shimtest_relay_join(&relay);
		const shimtest_buf *wire = &relay.wire[SHIMTEST_C2S];
		if (shimtest_records(wire, NULL, 0, NULL) < 0 ||
		    shimtest_contains(wire, SHIMTEST_MARKER)) {
			bad_wire++;
			fprintf(stderr, "iteration %d: the TLS stream (%zu bytes) %s\n", it,
				wire->len,
				shimtest_contains(wire, SHIMTEST_MARKER)
					? "carries the marker in clear"
					: "is not a record stream");
		}
		if (!only_chunks(sv.got.p, sv.got.len))
			bad_server++;
		clean += sv.last == 0;
		shimtest_buf_free(&sv.got);
		for (int d = 0; d < 2; d++)
			shimtest_buf_free(&relay.wire[d]);
	}
	unlink(path);
	printf("fd race: %d iterations, number reused %d times, %d times the program's own "
	       "later writes reached it, %d clean ends of stream\n",
	       ITERATIONS, reused, foreign_bytes, clean);
	CHECK_EQ(bad_foreign, 0);
	CHECK_EQ(bad_wire, 0);
	CHECK_EQ(bad_server, 0);
	CHECK(reused > ITERATIONS / 2); /* the race was really run */
	CHECK(clean > ITERATIONS / 2);  /* close_notify after the writer's last record */
	return check_exit("shim/fd_race");
}
