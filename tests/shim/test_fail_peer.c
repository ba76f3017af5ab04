/*
 * test_fail_peer: peers that break the protocol (INTERFACE.md "What the
 * program sees", DESIGN.md "Security invariants" 1 and 3).
 * - plaintext peer on a client-rule port: connect() -1 ECONNRESET;
 * - silent peer, handshake_timeout = 1: connect() -1 ETIMEDOUT in ~1 s;
 *   in both, the peer saw a ClientHello and never the program's bytes;
 * - one bit flipped in the first application_data record, client to
 *   server and server to client: the reader gets -1 ECONNRESET and never
 *   a tampered byte;
 * - a TCP FIN without close_notify after the data: the reader gets the
 *   data, then -1 ECONNRESET (truncation), not 0;
 * - a plaintext client at a wrapped server: poll says readable, the read
 *   fails with ECONNRESET, the program never sees the client's bytes and
 *   its reply never reaches the client.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P3@, @P5@, @P7@, @P8@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[silent-out]\n"
			     "role = client\n"
			     "port = @P1@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "handshake_timeout = 1\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@, @P2@, @P4@, @P6@\n"
			     "ca = @CERTS@/ca.crt\n";

#define REQUEST "request " SHIMTEST_MARKER
#define REPLY   "SERVER-REPLY-5a1d"

struct srv {
	int idx;
	bool use_poll;
	ssize_t first;
	int first_errno;
	short revents;
	char got[256];
	ssize_t reply;
	ssize_t final;
	int final_errno;
};

/* Read the request, reply, then wait for the client to go. */
static void *server(void *arg)
{
	struct srv *s = arg;
	memset(s->got, 0, sizeof s->got);
	int fd = shimtest_accept(s->idx);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	if (s->use_poll) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		CHECK_EQ(poll(&p, 1, 5000), 1);
		s->revents = p.revents;
	}
	errno = 0;
	s->first = read(fd, s->got, sizeof s->got - 1);
	s->first_errno = errno;
	s->reply = write(fd, REPLY, strlen(REPLY)); /* even after a failure */
	char c;
	errno = 0;
	s->final = read(fd, &c, 1);
	s->final_errno = errno;
	close(fd);
	return NULL;
}

static void check_hello_only(const shimtest_buf *b)
{
	uint8_t types[8];
	int n = shimtest_records(b, types, 8, NULL);
	CHECK(n >= 1);
	if (n >= 1) {
		CHECK_EQ(types[0], 22);
		CHECK_EQ(b->p[5], 1); /* client_hello */
	}
	CHECK_EQ(shimtest_count_type(b, 23), 0);
	CHECK(!shimtest_contains(b, SHIMTEST_MARKER));
}

static void plaintext_peer(void)
{
	shimtest_sink k;
	shimtest_sink_start(&k, shimtest_listener(0), "220 plaintext service ready\r\n");
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, ECONNRESET);
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	char buf[64];
	CHECK_EQ(read(fd, buf, sizeof buf), -1); /* the greeting is never handed out */
	close(fd);
	shimtest_sink_join(&k);
	check_hello_only(&k.got);
	shimtest_buf_free(&k.got);
}

static void silent_peer(void)
{
	shimtest_sink k;
	shimtest_sink_start(&k, shimtest_listener(1), NULL);
	int64_t t0 = shimtest_now_ms();
	int err;
	int fd = shimtest_connect(shimtest_port(1), 0, &err);
	int64_t took = shimtest_now_ms() - t0;
	CHECK_EQ(err, ETIMEDOUT);
	CHECK(took >= 900);
	CHECK(took <= 2500);
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	close(fd);
	shimtest_sink_join(&k);
	check_hello_only(&k.got);
	shimtest_buf_free(&k.got);
}

/* A bit flipped in the client's first application_data record. */
static void tamper_to_server(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(2), shimtest_port(3), SHIMTEST_C2S, false);
	struct srv s = {.idx = 3};
	pthread_t t = shimtest_thread(server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(2), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, REQUEST, strlen(REQUEST)), strlen(REQUEST));
	char buf[64] = "";
	errno = 0;
	CHECK_EQ(read(fd, buf, sizeof buf), -1); /* the server's bad_record_mac */
	CHECK_EQ(errno, ECONNRESET);
	close(fd);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);
	CHECK(r.tampered);
	CHECK_EQ(s.first, -1);
	CHECK_EQ(s.first_errno, ECONNRESET);
	CHECK_EQ(s.got[0], 0);
	CHECK_EQ(s.reply, -1);
	CHECK(!shimtest_contains(&r.wire[SHIMTEST_S2C], REPLY));
	CHECK_EQ(shimtest_count_type(&r.wire[SHIMTEST_S2C], 23), 0);
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
}

/* A bit flipped in the server's first application_data record. */
static void tamper_to_client(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(4), shimtest_port(5), SHIMTEST_S2C, false);
	struct srv s = {.idx = 5};
	pthread_t t = shimtest_thread(server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(4), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, REQUEST, strlen(REQUEST)), strlen(REQUEST));
	char buf[64] = "";
	errno = 0;
	CHECK_EQ(read(fd, buf, sizeof buf), -1);
	CHECK_EQ(errno, ECONNRESET);
	CHECK_EQ(buf[0], 0); /* not one byte of the tampered record */
	errno = 0;
	CHECK_EQ(read(fd, buf, sizeof buf), -1); /* the failure sticks */
	CHECK_EQ(errno, ECONNRESET);
	CHECK_EQ(buf[0], 0);
	close(fd);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);
	CHECK(r.tampered);
	CHECK_EQ(s.first, (ssize_t)strlen(REQUEST));
	CHECK_EQ(s.reply, (ssize_t)strlen(REPLY));
	CHECK_EQ(s.final, -1); /* the client's bad_record_mac alert */
	CHECK_EQ(s.final_errno, ECONNRESET);
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
}

/* The relay passes the reply, then FINs the client without close_notify. */
static void truncation(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(6), shimtest_port(7), -1, true);
	struct srv s = {.idx = 7};
	pthread_t t = shimtest_thread(server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(6), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, REQUEST, strlen(REQUEST)), strlen(REQUEST));
	char buf[64] = "";
	CHECK_EQ(shimtest_read_full(fd, buf, strlen(REPLY), NULL), strlen(REPLY));
	CHECK_MEM(buf, REPLY, strlen(REPLY));
	errno = 0;
	CHECK_EQ(read(fd, buf, sizeof buf), -1); /* not a clean 0 */
	CHECK_EQ(errno, ECONNRESET);
	close(fd);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);
	CHECK_EQ(s.first, (ssize_t)strlen(REQUEST));
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
}

static void plaintext_client(void)
{
	struct srv s = {.idx = 8, .use_poll = true};
	pthread_t t = shimtest_thread(server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(8), 0, &err); /* no client rule: plain */
	CHECK_EQ(err, 0);
	const char req[] = "GET / HTTP/1.0\r\nX-Marker: " SHIMTEST_MARKER "\r\n\r\n";
	CHECK(shimtest_write_all(fd, req, strlen(req)));
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
	CHECK(s.revents & POLLIN);
	CHECK_EQ(s.first, -1);
	CHECK_EQ(s.first_errno, ECONNRESET);
	CHECK_EQ(s.got[0], 0);
	CHECK_EQ(s.reply, -1);
	CHECK(!shimtest_contains(&got, REPLY));
	int n = shimtest_records(&got, (uint8_t[8]){0}, 8, NULL);
	CHECK(n >= 0);
	CHECK_EQ(shimtest_count_type(&got, 21), n); /* alerts at most */
	shimtest_buf_free(&got);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 9, policy);
	plaintext_peer();
	silent_peer();
	tamper_to_server();
	tamper_to_client();
	truncation();
	plaintext_client();
	return check_exit("shim/fail_peer");
}
