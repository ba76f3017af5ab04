/*
 * plaintext = allow (INTERFACE.md): a server rule that passes a peer which
 * does not start with a TLS ClientHello through in clear, while a TLS peer
 * on the same port still gets TLS; a silent peer still times out (also
 * when the program only polls).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[allow-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "plaintext = allow\n"
			     "handshake_timeout = 1\n"
			     "[tls-out]\n"
			     "role = client\n"
			     "port = @P1@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);

	/* A plaintext client (port P0 has no client rule: plain TCP). */
	int err;
	int c = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(c, "PING plain\n", 11));
	int s = shimtest_accept(0);
	char buf[64] = {0};
	CHECK_EQ(read(s, buf, sizeof buf), 11);
	CHECK(memcmp(buf, "PING plain\n", 11) == 0);
	CHECK_EQ(write(s, "PONG\n", 5), 5);
	CHECK_EQ(read(c, buf, sizeof buf), 5);
	CHECK(memcmp(buf, "PONG\n", 5) == 0);
	close(c);
	close(s);

	/* A silent client: the server program polling for input sees an
	 * error by the handshake deadline, not an endless wait or a spin. */
	c = shimtest_connect(shimtest_port(0), 0, &err);
	s = shimtest_accept(0);
	struct pollfd p = {.fd = s, .events = POLLIN};
	int r = poll(&p, 1, 5000);
	CHECK_EQ(r, 1);
	CHECK(p.revents & POLLERR);
	errno = 0;
	CHECK_EQ(read(s, buf, sizeof buf), -1);
	CHECK_EQ(errno, ECONNRESET);
	close(c);
	close(s);
	return check_exit("shim/plaintext_allow");
}
