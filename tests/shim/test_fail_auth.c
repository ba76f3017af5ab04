/*
 * test_fail_auth: a blocking connect() whose peer fails authentication
 * returns -1 EACCES (INTERFACE.md): an untrusted chain, a name mismatch, a
 * pin mismatch, and a server that requires a client certificate we do not
 * have. Each runs through a recording relay: not one application byte
 * crosses the wire (no application_data record, no marker), even though
 * the program tries to write after the failure; the wrapped server's read
 * fails with ECONNRESET and hands it nothing. A control with the client
 * certificate shows the mutual-TLS path itself works.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

/* Relay listeners are even, the servers behind them the odd one after. */
static const char policy[] = "[evil-in]\n"
			     "role = server\n"
			     "port = @P1@\n"
			     "cert = @CERTS@/evil-server.crt\n"
			     "key = @CERTS@/evil-server.key\n"
			     "[good-in]\n"
			     "role = server\n"
			     "port = @P3@, @P5@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[mtls-in]\n"
			     "role = server\n"
			     "port = @P7@, @P9@\n"
			     "cert = @CERTS@/server-rsa.crt\n"
			     "key = @CERTS@/server-rsa.key\n"
			     "ca = @CERTS@/ca.crt\n"
			     "verify_peer = require\n"
			     "[untrusted-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "[name-out]\n"
			     "role = client\n"
			     "port = @P2@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = wrong.example\n"
			     "[pin-out]\n"
			     "role = client\n"
			     "port = @P4@\n"
			     "pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
			     "[nocert-out]\n"
			     "role = client\n"
			     "port = @P6@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "[cert-out]\n"
			     "role = client\n"
			     "port = @P8@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "cert = @CERTS@/client-p256.crt\n"
			     "key = @CERTS@/client-p256.key\n";

struct srv {
	int idx;
	ssize_t first;
	int first_errno;
	char got[256];
};

static void *server(void *arg)
{
	struct srv *s = arg;
	int fd = shimtest_accept(s->idx);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	errno = 0;
	s->first = read(fd, s->got, sizeof s->got - 1);
	s->first_errno = errno;
	close(fd);
	return NULL;
}

/* No application data either way, the marker nowhere. */
static void check_wire(shimtest_relay *r, const char *what)
{
	for (int d = 0; d < 2; d++) {
		const shimtest_buf *b = &r->wire[d];
		uint8_t types[32];
		int n = shimtest_records(b, types, 32, NULL);
		CHECK(n >= 1);
		if (n < 1)
			fprintf(stderr, "%s: direction %d: %d records in %zu bytes\n", what, d, n,
				b->len);
		else
			CHECK_EQ(types[0], 22);
		CHECK_EQ(shimtest_count_type(b, 23), 0);
		CHECK(!shimtest_contains(b, SHIMTEST_MARKER));
	}
}

static void refused(int relay_idx, int want_errno, const char *what)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(relay_idx), shimtest_port(relay_idx + 1), -1,
			     false);
	struct srv s = {.idx = relay_idx + 1};
	pthread_t t = shimtest_thread(server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(relay_idx), 0, &err);
	if (err != want_errno)
		fprintf(stderr, "%s: connect: %s, want %s\n", what, strerror(err),
			strerror(want_errno));
	CHECK_EQ(err, want_errno);
	errno = 0;
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	CHECK(errno != 0 && errno != EAGAIN);
	CHECK_EQ(send(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER), MSG_NOSIGNAL), -1);
	close(fd);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);
	CHECK_EQ(s.first, -1);
	CHECK_EQ(s.first_errno, ECONNRESET);
	if (s.first >= 0 || s.first_errno != ECONNRESET)
		fprintf(stderr, "%s: server read %zd (%s)\n", what, s.first,
			strerror(s.first_errno));
	check_wire(&r, what);
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
}

/* Control: the same mutual-TLS server accepts a client with a certificate. */
static void mtls_ok(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(8), shimtest_port(9), -1, false);
	struct srv s = {.idx = 9};
	pthread_t t = shimtest_thread(server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(8), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)));
	pthread_join(t, NULL);
	close(fd);
	shimtest_relay_join(&r);
	CHECK_EQ(s.first, (ssize_t)strlen(SHIMTEST_MARKER));
	CHECK_MEM(s.got, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER));
	CHECK(shimtest_count_type(&r.wire[SHIMTEST_C2S], 23) >= 1);
	CHECK(!shimtest_contains(&r.wire[SHIMTEST_C2S], SHIMTEST_MARKER));
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 10, policy);
	refused(0, EACCES, "untrusted chain");
	refused(2, EACCES, "name mismatch");
	refused(4, EACCES, "pin mismatch");
	refused(6, EACCES, "no client certificate");
	mtls_ok();
	return check_exit("shim/fail_auth");
}
