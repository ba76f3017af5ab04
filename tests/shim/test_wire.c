/*
 * test_wire: what a wrapped program puts on the wire, seen by peers the
 * policy does not match.
 * - A wrapped client (blocking, then non-blocking) talking to a plaintext
 *   listener on its client-rule port: the first bytes are a TLS
 *   ClientHello, and the application bytes it tries to write never appear.
 * - A whole session through a recording relay: every byte both ways is a
 *   well-formed TLS record, application data travels only as
 *   application_data records, the marker never appears in clear, and the
 *   close is a close_notify alert.
 * - A plaintext client talking to a wrapped server: the server program's
 *   read fails with ECONNRESET, it is never handed the client's bytes, and
 *   the client never receives the server's reply (an alert at most).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[silent-out]\n"
			     "role = client\n"
			     "port = @P0@, @P1@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 1\n"
			     "[relay-out]\n"
			     "role = client\n"
			     "port = @P2@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "[srv-in]\n"
			     "role = server\n"
			     "port = @P3@, @P4@\n"
			     "cert = @CERTS@/server-rsa.crt\n"
			     "key = @CERTS@/server-rsa.key\n";

#define REPLY "SERVER-REPLY-9b3f"

static void check_client_hello(const shimtest_buf *b)
{
	CHECK(b->len >= 6);
	if (b->len < 6)
		return;
	CHECK_EQ(b->p[0], 0x16); /* handshake record */
	CHECK_EQ(b->p[1], 0x03);
	CHECK(b->p[2] == 0x01 || b->p[2] == 0x03);
	CHECK_EQ(b->p[5], 0x01); /* client_hello */
}

/* Blocking connect to a listener that never answers. */
static void blocking_client_hello(void)
{
	shimtest_sink k;
	shimtest_sink_start(&k, shimtest_listener(0), NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, ETIMEDOUT);
	/* A careless program writes anyway: nothing may go out. */
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	CHECK_EQ(send(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER), MSG_NOSIGNAL), -1);
	close(fd);
	shimtest_sink_join(&k);
	CHECK(k.accepted);
	check_client_hello(&k.got);
	CHECK(!shimtest_contains(&k.got, SHIMTEST_MARKER));
	uint8_t types[8];
	CHECK_EQ(shimtest_records(&k.got, types, 8, NULL), 1); /* the ClientHello only */
	shimtest_buf_free(&k.got);
}

/* Non-blocking connect: writes before the handshake finished must not
 * leak either. */
static void nonblocking_client_hello(void)
{
	shimtest_sink k;
	shimtest_sink_start(&k, shimtest_listener(1), NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(1), SOCK_NONBLOCK, &err);
	CHECK_EQ(err, EINPROGRESS);
	for (int i = 0; i < 5; i++) {
		errno = 0;
		ssize_t w = write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER));
		CHECK(w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
		shimtest_sleep_ms(20);
	}
	close(fd);
	shimtest_sink_join(&k);
	CHECK(k.accepted);
	check_client_hello(&k.got);
	CHECK(!shimtest_contains(&k.got, SHIMTEST_MARKER));
	shimtest_buf_free(&k.got);
}

struct srv {
	int idx;            /* listener index */
	ssize_t first_read; /* what the first read returned */
	int first_errno;
	char got[256];
	ssize_t final_read;
	ssize_t reply_write;
};

/* The relayed server: read the request, answer, read the client's close. */
static void *relayed_server(void *arg)
{
	struct srv *s = arg;
	int fd = shimtest_accept(s->idx);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	s->first_read = read(fd, s->got, sizeof s->got - 1);
	if (s->first_read > 0)
		shimtest_write_all(fd, REPLY, strlen(REPLY));
	char c;
	s->final_read = read(fd, &c, 1);
	close(fd);
	return NULL;
}

static void relayed_session(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(2), shimtest_port(3), -1, false);
	struct srv s = {.idx = 3};
	pthread_t t = shimtest_thread(relayed_server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(2), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)));
	char buf[64] = "";
	ssize_t last;
	CHECK_EQ(shimtest_read_full(fd, buf, strlen(REPLY), &last), strlen(REPLY));
	CHECK_MEM(buf, REPLY, strlen(REPLY));
	CHECK_EQ(close(fd), 0);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);

	CHECK_EQ(s.first_read, (ssize_t)strlen(SHIMTEST_MARKER));
	CHECK_MEM(s.got, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER));
	CHECK_EQ(s.final_read, 0); /* close_notify, a clean end */

	check_client_hello(&r.wire[SHIMTEST_C2S]);
	for (int d = 0; d < 2; d++) {
		const shimtest_buf *b = &r.wire[d];
		uint8_t types[64];
		size_t tail = 1;
		int n = shimtest_records(b, types, 64, &tail);
		CHECK(n >= 2 && n <= 64); /* a well-formed record stream */
		CHECK_EQ(tail, 0);
		CHECK(!shimtest_contains(b, SHIMTEST_MARKER));
		CHECK(!shimtest_contains(b, REPLY));
		CHECK(shimtest_count_type(b, 23) >= 1); /* application_data */
		if (n >= 2 && n <= 64) {
			CHECK_EQ(types[0], 22);
			CHECK_EQ(types[n - 1], 21); /* ends with an alert: close_notify */
		}
	}
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
}

static void *plaintext_victim(void *arg)
{
	struct srv *s = arg;
	int fd = shimtest_accept(s->idx);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	errno = 0;
	s->first_read = read(fd, s->got, sizeof s->got - 1);
	s->first_errno = errno;
	/* The program answers anyway: nothing may reach the client. */
	s->reply_write = write(fd, REPLY, strlen(REPLY));
	close(fd);
	return NULL;
}

static void plaintext_client(void)
{
	struct srv s = {.idx = 4};
	memset(s.got, 0, sizeof s.got);
	pthread_t t = shimtest_thread(plaintext_victim, &s);
	int err;
	/* No client rule on this port: a plain TCP client. */
	int fd = shimtest_connect(shimtest_port(4), 0, &err);
	CHECK_EQ(err, 0);
	const char hello[] = "HELLO " SHIMTEST_MARKER "\r\n";
	CHECK(shimtest_write_all(fd, hello, strlen(hello)));
	shimtest_buf got = {0};
	for (;;) {
		char buf[4096];
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		shimtest_buf_add(&got, buf, (size_t)r);
	}
	close(fd);
	pthread_join(t, NULL);

	CHECK_EQ(s.first_read, -1);
	CHECK_EQ(s.first_errno, ECONNRESET);
	CHECK(strstr(s.got, "HELLO") == NULL);
	CHECK_EQ(s.reply_write, -1);
	CHECK(!shimtest_contains(&got, REPLY));
	/* At most a TLS alert came back. */
	int n = shimtest_records(&got, (uint8_t[8]){0}, 8, NULL);
	CHECK(n >= 0);
	CHECK_EQ(shimtest_count_type(&got, 21), n);
	shimtest_buf_free(&got);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 5, policy);
	blocking_client_hello();
	nonblocking_client_hello();
	relayed_session();
	plaintext_client();
	return check_exit("shim/wire");
}
