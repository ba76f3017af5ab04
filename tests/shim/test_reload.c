/*
 * test_reload: a rule picks up a certificate, key or CA bundle replaced on
 * disk for its new connections, without a restart, and says so in the log
 * (checked at most once a second per rule, so the test waits > 1 s after
 * each change).
 *
 * The server rule "srv" serves files this test owns, first the P-256 pair
 * (A), then P-384 (B), then RSA (C). Client rules pinned to A, B and C tell
 * which one a fresh handshake saw: after the swap to B, pin A fails with
 * EACCES and pin B succeeds. A connection opened under A keeps working
 * throughout. A cert replaced before its key (RSA cert, P-384 key) is not
 * taken: the old pair goes on serving, the mismatch is logged once, and
 * the key's arrival completes the reload. "tk" serves the same files with
 * session tickets: a client's ticket from before the reload still resumes.
 * The client rule "ca-out" reads a CA bundle the test rewrites in place:
 * replaced by an untrusted CA, the next connection fails (the session it
 * cached under the old bundle is not resumed, nor one made by a handshake
 * that began before the reload and ended after it); restored, it works
 * again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shimtest.h"

enum { P_A, P_B, P_C, P_TK, P_CA, NPORTS };

static const char tpl[] = "[global]\n"
			  "log = info\n"
			  "log_file = %s/shim.log\n"
			  "[srv]\n"
			  "role = server\n"
			  "port = @P0@, @P1@, @P2@\n"
			  "cert = %s/srv.crt\n"
			  "key = %s/srv.key\n"
			  "session_tickets = no\n"
			  "[tk]\n"
			  "role = server\n"
			  "port = @P3@\n"
			  "cert = %s/srv.crt\n"
			  "key = %s/srv.key\n"
			  "[fixed]\n"
			  "role = server\n"
			  "port = @P4@\n"
			  "cert = @CERTS@/server-p256.crt\n"
			  "key = @CERTS@/server-p256.key\n"
			  "[pin-a]\n"
			  "role = client\n"
			  "port = @P0@\n"
			  "pin = sha256//%s\n"
			  "[pin-b]\n"
			  "role = client\n"
			  "port = @P1@\n"
			  "pin = sha256//%s\n"
			  "[pin-c]\n"
			  "role = client\n"
			  "port = @P2@\n"
			  "pin = sha256//%s\n"
			  "[tk-out]\n"
			  "role = client\n"
			  "port = @P3@\n"
			  "ca = @CERTS@/ca.crt\n"
			  "server_name = localhost\n"
			  "[ca-out]\n"
			  "role = client\n"
			  "port = @P4@\n"
			  "ca = %s/bundle.pem\n"
			  "server_name = localhost\n";

static const char *dir;

static void die(const char *what)
{
	fprintf(stderr, "test_reload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die(path);
	char *buf = NULL;
	size_t cap = 0, n = 0, k;
	do {
		if (n == cap && !(buf = realloc(buf, cap = cap * 2 + 4096)))
			die("realloc");
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	if (!(buf = realloc(buf, n + 1)))
		die("realloc");
	buf[n] = 0;
	*len = n;
	return buf;
}

/* put(name, file, atomic): make dir/${name} a copy of certs/${file}, by
 * rename (as deployment tools do) or rewritten in place. */
static void put(const char *name, const char *file, bool atomic)
{
	char src[4096], dst[4096], tmp[4200];
	snprintf(src, sizeof src, "%s/%s", shimtest_certs(), file);
	snprintf(dst, sizeof dst, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.new", dst);
	size_t n;
	char *data = read_file(src, &n);
	const char *to = atomic ? tmp : dst;
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !shimtest_write_all(fd, data, n) || close(fd) < 0)
		die(to);
	if (atomic && rename(tmp, dst) < 0)
		die("rename");
	free(data);
}

/* pin_of(key): "BASE64" SPKI SHA-256 of certs/${key} (unwrapped run only). */
static void pin_of(const char *key, char *out, size_t len)
{
	char cmd[4300];
	snprintf(cmd, sizeof cmd,
		 "openssl pkey -in '%s/%s' -pubout -outform DER | openssl dgst -sha256 -binary "
		 "| openssl base64 -A",
		 shimtest_certs(), key);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(out, (int)len, p) || pclose(p) != 0 || strlen(out) != 44) {
		fprintf(stderr, "test_reload: cannot compute the pin of %s\n", key);
		exit(1);
	}
}

/* The unwrapped run makes the files the policy names; the wrapped run
 * finds them through the environment. */
static void prepare(void)
{
	if (getenv("SHIMTEST_WRAPPED")) {
		dir = getenv("RELOAD_DIR");
		return;
	}
	static char d[4096];
	const char *base = getenv("SHIMTEST_DIR");
	snprintf(d, sizeof d, "%s/reload.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(d))
		die("mkdtemp");
	dir = d;
	put("srv.crt", "server-p256.crt", true);
	put("srv.key", "server-p256.key", true);
	put("bundle.pem", "ca.crt", true);
	char pin[3][64];
	pin_of("server-p256.key", pin[0], sizeof pin[0]);
	pin_of("server-p384.key", pin[1], sizeof pin[1]);
	pin_of("server-rsa.key", pin[2], sizeof pin[2]);
	if (setenv("RELOAD_DIR", dir, 1) || setenv("RELOAD_PIN_A", pin[0], 1) ||
	    setenv("RELOAD_PIN_B", pin[1], 1) || setenv("RELOAD_PIN_C", pin[2], 1))
		die("setenv");
}

static char *policy(void)
{
	static char buf[8192];
	snprintf(buf, sizeof buf, tpl, dir, dir, dir, dir, dir, getenv("RELOAD_PIN_A"),
		 getenv("RELOAD_PIN_B"), getenv("RELOAD_PIN_C"), dir);
	return buf;
}

/* count(a, b): log lines containing ${a} and ${b}. */
static int count(const char *a, const char *b)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/shim.log", dir);
	size_t n;
	char *log = read_file(path, &n);
	int hits = 0;
	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
		hits += strstr(line, a) && strstr(line, b);
	free(log);
	return hits;
}

struct srv {
	int idx; /* listener to accept on; -1: serve fd */
	int fd;
	ssize_t n;
	int err;
};

/* One connection: read the ping, answer pong. */
static void *serve_one(void *arg)
{
	struct srv *s = arg;
	int fd = s->idx >= 0 ? shimtest_accept(s->idx) : s->fd;
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	char buf[64];
	errno = 0;
	s->n = read(fd, buf, sizeof buf);
	s->err = errno;
	if (s->n == 4 && memcmp(buf, "ping", 4) == 0)
		CHECK_EQ(write(fd, "pong", 4), 4);
	close(fd);
	return NULL;
}

/* attempt(idx, what): a new connection to listener ${idx}; returns 0 when
 * the handshake and a ping/pong went through, else connect()'s errno (the
 * server then saw ECONNRESET and no data). */
static int attempt(int idx, const char *what)
{
	struct srv s = {.idx = idx};
	pthread_t t = shimtest_thread(serve_one, &s);
	int err;
	int fd = shimtest_connect(shimtest_port(idx), 0, &err);
	if (err == 0) {
		char buf[4];
		CHECK(shimtest_write_all(fd, "ping", 4));
		CHECK_EQ(shimtest_read_full(fd, buf, 4, NULL), 4u);
		CHECK_MEM(buf, "pong", 4);
		shimtest_check_tls(fd, 4, what);
	}
	close(fd);
	pthread_join(t, NULL);
	if (err == 0) {
		CHECK_EQ(s.n, 4);
	} else {
		CHECK_EQ(s.n, -1);
		CHECK_EQ(s.err, ECONNRESET);
	}
	return err;
}

static void expect(int idx, int want, const char *what)
{
	int err = attempt(idx, what);
	if (err != want)
		fprintf(stderr, "%s: connect: %s, want %s\n", what, err ? strerror(err) : "ok",
			want ? strerror(want) : "ok");
	CHECK_EQ(err, want);
}

/* The connection kept open across every reload: an echo on the server. */
static void *echo(void *arg)
{
	int fd = shimtest_accept(*(int *)arg);
	CHECK(fd >= 0);
	char buf[256];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
		CHECK(shimtest_write_all(fd, buf, (size_t)n));
	close(fd);
	return NULL;
}

static void round_trip(int fd, const char *msg)
{
	char buf[64];
	size_t n = strlen(msg);
	CHECK(shimtest_write_all(fd, msg, n));
	CHECK_EQ(shimtest_read_full(fd, buf, n, NULL), n);
	CHECK_MEM(buf, msg, n);
}

/* A client handshake in flight across a reload of its rule: made on the
 * old CA bundle, it succeeds, but the session it makes must not be cached
 * for the connections that come after the reload. */
struct inflight {
	int fd;
	struct srv srv;
	pthread_t t;
};

static void inflight_start(struct inflight *f)
{
	int err;
	f->fd = shimtest_connect(shimtest_port(P_CA), SOCK_NONBLOCK, &err);
	CHECK_EQ(err, EINPROGRESS);
	f->srv = (struct srv){.idx = -1, .fd = shimtest_accept(P_CA)};
	CHECK(f->srv.fd >= 0);
	f->t = shimtest_thread(serve_one, &f->srv);
}

static void inflight_finish(struct inflight *f)
{
	char buf[4];
	CHECK_EQ(fcntl(f->fd, F_SETFL, 0), 0); /* blocking: write completes the handshake */
	CHECK(shimtest_write_all(f->fd, "ping", 4));
	CHECK_EQ(shimtest_read_full(f->fd, buf, 4, NULL), 4u);
	CHECK_MEM(buf, "pong", 4);
	close(f->fd);
	pthread_join(f->t, NULL);
	CHECK_EQ(f->srv.n, 4);
}

static void settle(void)
{
	shimtest_sleep_ms(1150); /* past the once-a-second check */
}

int main(int argc, char **argv)
{
	(void)argc;
	prepare();
	shimtest_start(argv, NPORTS, policy());
	char srv_crt[4200], srv_key[4200], bundle[4200], msg[16384];
	snprintf(srv_crt, sizeof srv_crt, "%s/srv.crt", dir);
	snprintf(srv_key, sizeof srv_key, "%s/srv.key", dir);
	snprintf(bundle, sizeof bundle, "%s/bundle.pem", dir);

	/* A: the P-256 pair. */
	int idx = P_A;
	pthread_t echo_t = shimtest_thread(echo, &idx);
	int err;
	int kept = shimtest_connect(shimtest_port(P_A), 0, &err);
	CHECK_EQ(err, 0);
	round_trip(kept, "before");
	expect(P_A, 0, "A served, pin A");
	expect(P_B, EACCES, "A served, pin B");
	expect(P_TK, 0, "tickets: first");
	expect(P_TK, 0, "tickets: second");
	CHECK_EQ(count("rule tk-out:", " resumed in "), 1);
	expect(P_CA, 0, "bundle = ca");
	struct inflight fl;
	inflight_start(&fl);

	/* B: the P-384 pair, both renamed into place; the bundle rewritten
	 * in place with a CA that did not sign the server. */
	put("srv.crt", "server-p384.crt", true);
	put("srv.key", "server-p384.key", true);
	put("bundle.pem", "evil-ca.crt", false);
	settle();
	expect(P_A, EACCES, "B served, pin A");
	expect(P_B, 0, "B served, pin B");
	round_trip(kept, "across the reload");
	snprintf(msg, sizeof msg, "rule srv: reloaded cert %s, key %s (changed on disk)", srv_crt,
		 srv_key);
	CHECK_EQ(count(msg, ""), 1);
	expect(P_TK, 0, "tickets: after the reload");
	CHECK_EQ(count("rule tk-out:", " resumed in "), 2);
	CHECK_EQ(count("rule tk:", "reloaded cert"), 1);
	expect(P_CA, EACCES, "bundle = evil-ca");
	snprintf(msg, sizeof msg, "rule ca-out: reloaded ca %s (changed on disk)", bundle);
	CHECK_EQ(count(msg, ""), 1);
	inflight_finish(&fl);
	expect(P_CA, EACCES, "bundle = evil-ca, after the in-flight handshake");

	/* Half a pair: the RSA cert with the P-384 key. B goes on serving. */
	put("srv.crt", "server-rsa.crt", true);
	settle();
	expect(P_B, 0, "half-replaced, pin B");
	expect(P_C, EACCES, "half-replaced, pin C");
	snprintf(msg, sizeof msg, "rule srv: cert %s changed on disk but cannot be used", srv_crt);
	CHECK_EQ(count(msg, "does not match"), 1);
	settle();
	expect(P_B, 0, "half-replaced, retried, pin B");
	CHECK_EQ(count(msg, ""), 1); /* warned once per change */
	round_trip(kept, "while half-replaced");

	/* The key arrives: C. The bundle is put back. */
	put("srv.key", "server-rsa.key", true);
	put("bundle.pem", "ca.crt", true);
	settle();
	expect(P_C, 0, "C served, pin C");
	expect(P_B, EACCES, "C served, pin B");
	snprintf(msg, sizeof msg, "rule srv: reloaded cert %s, key %s (changed on disk)", srv_crt,
		 srv_key);
	CHECK_EQ(count(msg, ""), 2);
	expect(P_CA, 0, "bundle = ca again");
	CHECK_EQ(count("rule ca-out:", "reloaded ca"), 2);

	round_trip(kept, "after");
	shutdown(kept, SHUT_WR);
	pthread_join(echo_t, NULL);
	close(kept);

	int failed = check_exit("shim/reload");
	if (failed == 0) {
		const char *files[] = {"srv.crt", "srv.key", "bundle.pem", "shim.log"};
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			char p[4200];
			snprintf(p, sizeof p, "%s/%s", dir, files[i]);
			unlink(p);
		}
		rmdir(dir);
	} else {
		fprintf(stderr, "test_reload: files and log kept in %s\n", dir);
	}
	return failed;
}
