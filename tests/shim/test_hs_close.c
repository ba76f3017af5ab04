/*
 * test_hs_close: an alert or EOF before the handshake completes ends it at
 * once (issue 8 item 2). A close_notify during the handshake used to leave
 * the engine waiting for input it would never take: the shim spun a CPU
 * until handshake_timeout (5 CPU-seconds in 5 s), then blamed the client
 * for sending no ClientHello, and a wrapped client got ETIMEDOUT.
 *
 * With handshake_timeout = 5, each case must end in well under a second,
 * use little CPU (getrusage over the whole process) and log the real
 * reason:
 * - a wrapped server; a raw client sends the 7 bytes of a plaintext
 *   close_notify, then FIN; or the same without FIN; or part of a
 *   ClientHello and then close_notify (unexpected_message, which the
 *   raw client receives); or part of a ClientHello and FIN: the server's
 *   read is -1 ECONNRESET;
 * - a wrapped client whose raw server answers the ClientHello with
 *   close_notify (kept open, or then closed): connect() is -1 ECONNRESET.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char tpl[] = "[global]\n"
			  "log = warn\n"
			  "log_file = %s/shim.log\n"
			  "[in]\n"
			  "role = server\n"
			  "port = @P0@\n"
			  "cert = @CERTS@/server-p256.crt\n"
			  "key = @CERTS@/server-p256.key\n"
			  "handshake_timeout = 5\n"
			  "[out]\n"
			  "role = client\n"
			  "port = @P1@\n"
			  "ca = @CERTS@/ca.crt\n"
			  "handshake_timeout = 5\n";

/* Far below handshake_timeout (5 s), far above a loaded machine's noise. */
#define PROMPT_MS 2000
#define CPU_MS    300

static const uint8_t close_notify[7] = {21, 3, 3, 0, 2, 1, 0};
static const uint8_t unexpected_message[7] = {21, 3, 3, 0, 2, 2, 10};

static const char *dir;
static long log_seen; /* bytes of the log already looked at */

static void die(const char *what)
{
	fprintf(stderr, "test_hs_close: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The unwrapped run makes the log's directory; the wrapped run finds it in
 * the environment. */
static const char *policy(void)
{
	if (getenv("SHIMTEST_WRAPPED")) {
		dir = getenv("HSCLOSE_DIR");
		return "";
	}
	static char d[4096], buf[4096 + sizeof tpl];
	const char *base = getenv("SHIMTEST_DIR");
	snprintf(d, sizeof d, "%s/hs_close.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(d))
		die("mkdtemp");
	if (setenv("HSCLOSE_DIR", d, 1))
		die("setenv");
	snprintf(buf, sizeof buf, tpl, d);
	return buf;
}

/* The log written since the last call (NUL-terminated, malloc'ed). */
static char *new_log(void)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/shim.log", dir);
	FILE *f = fopen(path, "r");
	char *out = calloc(1, 65536);
	if (!out)
		die("calloc");
	if (f) {
		if (fseek(f, log_seen, SEEK_SET) == 0) {
			size_t n = fread(out, 1, 65535, f);
			log_seen += (long)n;
		}
		fclose(f);
	}
	return out;
}

/* The log since the last look has ${want} and none of the words of a
 * timeout or a missing ClientHello. */
static void check_log(const char *what, const char *want)
{
	char *log = new_log();
	bool ok = strstr(log, want) && !strstr(log, "handshake_timeout") &&
		  !strstr(log, "no TLS ClientHello") && !strstr(log, "no TLS answer");
	if (!ok)
		fprintf(stderr, "%s: the log lacks \"%s\" or blames a timeout:\n%s", what, want,
			log);
	CHECK(ok);
	free(log);
}

static int64_t cpu_ms(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		die("getrusage");
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* Read whatever the peer sends until it closes (at most 10 s). */
static void drain(int fd, shimtest_buf *got)
{
	int64_t end = shimtest_now_ms() + 10000;
	for (;;) {
		int left = (int)(end - shimtest_now_ms());
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return;
		uint8_t buf[4096];
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			return;
		shimtest_buf_add(got, buf, (size_t)r);
	}
}

/* ---- a wrapped server, a raw client -------------------------------------- */

struct srv {
	ssize_t r;
	int err;
	int64_t ms; /* how long the read took */
};

static void *wrapped_server(void *arg)
{
	struct srv *s = arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	char buf[256];
	int64_t t0 = shimtest_now_ms();
	errno = 0;
	s->r = read(fd, buf, sizeof buf);
	s->err = errno;
	s->ms = shimtest_now_ms() - t0;
	close(fd);
	return NULL;
}

/* The raw client sends ${n} bytes of ${bytes}, then FIN when ${fin}. */
static void server_case(const char *what, const uint8_t *bytes, size_t n, bool fin,
			const uint8_t *answer, size_t answer_len, const char *reason)
{
	int64_t cpu0 = cpu_ms();
	struct srv s = {0};
	pthread_t t = shimtest_thread(wrapped_server, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err); /* no client rule: plain */
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(fd, bytes, n));
	if (fin)
		shutdown(fd, SHUT_WR);
	shimtest_buf got = {0};
	drain(fd, &got); /* until the server closes */
	close(fd);
	pthread_join(t, NULL);
	int64_t cpu = cpu_ms() - cpu0;
	if (s.ms > PROMPT_MS || cpu > CPU_MS || s.r != -1 || s.err != ECONNRESET)
		fprintf(stderr, "%s: read %zd (%s) after %lld ms, %lld ms of CPU\n", what, s.r,
			strerror(s.err), (long long)s.ms, (long long)cpu);
	CHECK_EQ(s.r, -1);
	CHECK_EQ(s.err, ECONNRESET);
	CHECK(s.ms < PROMPT_MS);
	CHECK(cpu < CPU_MS);
	/* What the server answered: one fatal alert when it is ours to
	 * send, nothing after the peer's own alert or FIN. */
	CHECK_EQ(got.len, answer_len);
	if (got.len == answer_len && answer_len > 0)
		CHECK_MEM(got.p, answer, answer_len);
	check_log(what, reason);
	shimtest_buf_free(&got);
}

static void server_side(void)
{
	/* Part of a ClientHello: a record of 44 bytes holding the header of
	 * a 100-byte message and 40 bytes of its body. */
	uint8_t partial[5 + 44 + 7] = {22, 3, 3, 0, 44, 1, 0, 0, 100, 3, 3};
	memcpy(partial + 5 + 44, close_notify, sizeof close_notify);

	server_case("close_notify, FIN", close_notify, sizeof close_notify, true, NULL, 0,
		    "handshake refused: peer sent close_notify during the handshake");
	server_case("close_notify, no FIN", close_notify, sizeof close_notify, false, NULL, 0,
		    "handshake refused: peer sent close_notify during the handshake");
	server_case("partial ClientHello, close_notify, FIN", partial, sizeof partial, true,
		    unexpected_message, sizeof unexpected_message,
		    "close_notify alert in the middle of a fragmented handshake message");
	server_case("partial ClientHello, close_notify", partial, sizeof partial, false,
		    unexpected_message, sizeof unexpected_message,
		    "close_notify alert in the middle of a fragmented handshake message");
	server_case("partial ClientHello, FIN", partial, 5 + 44, true, NULL, 0,
		    "peer closed the connection during the handshake");
}

/* ---- a wrapped client, a raw server -------------------------------------- */

struct raw_srv {
	bool close_after; /* FIN right after the close_notify */
	shimtest_buf got;
};

/* Accept (plain: no server rule on this port), read the ClientHello
 * record, answer close_notify. */
static void *raw_server(void *arg)
{
	struct raw_srv *r = arg;
	int fd = shimtest_accept(1);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	while (r->got.len < 5 || r->got.len < 5 + ((size_t)r->got.p[3] << 8 | r->got.p[4])) {
		uint8_t buf[4096];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		shimtest_buf_add(&r->got, buf, (size_t)n);
	}
	CHECK(shimtest_write_all(fd, close_notify, sizeof close_notify));
	if (!r->close_after)
		drain(fd, &r->got); /* until the client goes */
	close(fd);
	return NULL;
}

static void client_case(const char *what, bool close_after)
{
	int64_t cpu0 = cpu_ms();
	struct raw_srv r = {.close_after = close_after};
	pthread_t t = shimtest_thread(raw_server, &r);
	int64_t t0 = shimtest_now_ms();
	int err;
	int fd = shimtest_connect(shimtest_port(1), 0, &err);
	int64_t ms = shimtest_now_ms() - t0;
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	close(fd);
	pthread_join(t, NULL);
	int64_t cpu = cpu_ms() - cpu0;
	if (err != ECONNRESET || ms > PROMPT_MS || cpu > CPU_MS)
		fprintf(stderr, "%s: connect: %s after %lld ms, %lld ms of CPU\n", what,
			strerror(err), (long long)ms, (long long)cpu);
	CHECK_EQ(err, ECONNRESET);
	CHECK(ms < PROMPT_MS);
	CHECK(cpu < CPU_MS);
	/* The server saw a ClientHello and nothing of the program's. */
	CHECK(r.got.len > 5 && r.got.p[0] == 22 && r.got.p[5] == 1);
	CHECK(!shimtest_contains(&r.got, SHIMTEST_MARKER));
	check_log(what, "handshake refused: peer sent close_notify during the handshake");
	shimtest_buf_free(&r.got);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy()); /* in the wrapped run, policy() finds the log */
	server_side();
	client_case("server answers close_notify", false);
	client_case("server answers close_notify, FIN", true);
	if (check_failures == 0) { /* else kept for a look */
		char path[4200];
		snprintf(path, sizeof path, "%s/shim.log", dir);
		unlink(path);
		rmdir(dir);
	}
	return check_exit("shim/hs_close");
}
