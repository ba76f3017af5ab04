/*
 * SSLKEYLOGFILE (INTERFACE.md "What the user sees"): honoured as curl and
 * Firefox do, in NSS key log format. The line written must belong to the
 * connection that was made: its client random is the one in the
 * ClientHello seen on the wire, and its master secret is 48 bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P1@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

static void *server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(1);
	char buf[64];
	CHECK(read(fd, buf, sizeof buf) > 0);
	CHECK_EQ(write(fd, "pong", 4), 4);
	close(fd);
	return NULL;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

int main(int argc, char **argv)
{
	(void)argc;
	char path[256];
	const char *dir = getenv("SHIMTEST_DIR");
	snprintf(path, sizeof path, "%s/keylog-%d.txt", dir ? dir : "/tmp", (int)getpid());
	if (!getenv("SSLKEYLOGFILE")) {
		unlink(path);
		setenv("SSLKEYLOGFILE", path, 1); /* inherited by the wrapped run */
	}
	shimtest_start(argv, 2, policy);
	const char *log = getenv("SSLKEYLOGFILE");

	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(0), shimtest_port(1), -1, false);
	pthread_t t = shimtest_thread(server, NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, "ping", 4), 4);
	char buf[8] = "";
	CHECK_EQ(read(fd, buf, sizeof buf), 4);
	close(fd);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);

	/* The ClientHello: record header (5), handshake header (4), version (2),
	 * then the 32-byte client random (RFC 5246 §7.4.1.2). */
	const shimtest_buf *c2s = &r.wire[SHIMTEST_C2S];
	CHECK(c2s->len > 43 && c2s->p[0] == 22 && c2s->p[5] == 1);
	char want[65] = "";
	if (c2s->len > 43)
		hex(c2s->p + 11, 32, want);

	FILE *f = fopen(log, "r");
	CHECK(f != NULL);
	int lines = 0, matching = 0;
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		char random[65], master[97];
		if (sscanf(line, "CLIENT_RANDOM %64s %96s", random, master) != 2)
			continue;
		lines++;
		bool ok = strlen(master) == 96;
		for (int i = 0; ok && master[i]; i++)
			ok = isxdigit((unsigned char)master[i]);
		if (ok && strcmp(random, want) == 0)
			matching++;
	}
	if (f)
		fclose(f);
	/* Client and server run in this one process, so both log it. */
	CHECK_EQ(lines, 2);
	CHECK_EQ(matching, 2);
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
	unlink(log);
	return check_exit("shim/keylog");
}
