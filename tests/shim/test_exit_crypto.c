/*
 * test_exit_crypto: a program that uses libcrypto itself (as curl, Python
 * or any OpenSSL program does) and exits with a TLS connection open (issue
 * 9, 9). libcrypto frees its providers and algorithms in OPENSSL_cleanup,
 * which runs at exit (libcrypto registers it with atexit) or when the
 * program calls it, often from its own atexit handler; tlshim seals
 * close_notify with libcrypto, so it must end its connections before
 * that, never after. Two clients, each a forked child that exits with its
 * connection open:
 * 1. one that only initialises libcrypto and uses it: the peer gets the
 *    data and a valid close_notify (a clean end of file);
 * 2. one whose atexit handler calls OPENSSL_cleanup() and then writes to
 *    the socket: that write must find the stream already ended (EPIPE),
 *    so the peer gets "hello" and close_notify, not "hellolate" sealed
 *    with a libcrypto already torn down.
 * Neither client may crash (under ASan a use after free is an abort).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "ciphers = ECDHE-ECDSA-CHACHA20-POLY1305\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

static int client_fd = -1;

/* The program's own clean-up: libcrypto's, then one more write. */
static void program_cleanup(void)
{
	OPENSSL_cleanup();
	ssize_t w = send(client_fd, "late", 4, MSG_NOSIGNAL);
	if (w >= 0)
		fprintf(stderr, "client: the TLS stream was still open after OPENSSL_cleanup\n");
	else if (errno != EPIPE)
		fprintf(stderr, "client: late write: %s (want EPIPE)\n", strerror(errno));
}

static void client_exits(void *arg)
{
	bool explicit_cleanup = arg != NULL;
	/* The program's own use of libcrypto. */
	CHECK_EQ(OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL), 1);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	CHECK_EQ(EVP_Digest("x", 1, md, &mdlen, EVP_sha256(), NULL), 1);
	CHECK_EQ(mdlen, 32);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, "hello", 5), 5);
	client_fd = fd;
	if (explicit_cleanup)
		CHECK_EQ(atexit(program_cleanup), 0);
	exit(check_failures ? 1 : 0); /* no close(): tlshim ends the stream at exit */
}

static void serve_one(bool explicit_cleanup)
{
	pid_t pid = shimtest_fork(client_exits, explicit_cleanup ? "explicit" : NULL);
	int s = shimtest_accept(0);
	CHECK(s >= 0);
	char buf[64] = "";
	ssize_t last = 1;
	size_t n = shimtest_read_full(s, buf, sizeof buf - 1, &last);
	printf("%s: the peer read \"%s\", then %zd (%s)\n",
	       explicit_cleanup ? "OPENSSL_cleanup() in an atexit handler" : "exit()", buf, last,
	       last < 0 ? strerror(errno) : "end of file");
	CHECK_EQ(n, 5);
	CHECK(strcmp(buf, "hello") == 0);
	CHECK_EQ(last, 0); /* close_notify: a clean end of file, not ECONNRESET */
	CHECK_EQ(shimtest_wait(pid), 0);
	close(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	serve_one(false);
	serve_one(true);
	return check_exit("shim/exit_crypto");
}
