/*
 * test_stdio: stdio streams on TLS descriptors (shim/hook_stdio.c). glibc's
 * FILE streams use libc's internal read/write, which no hook sees; the
 * shim must put its own streams there so that stdio goes through the
 * record layer:
 * - fdopen of a TLS socket, "r+" on both ends: fprintf/fgets carry the
 *   bytes, the relay between them sees only records (never the marker),
 *   fileno() names the socket, fclose ends the stream with close_notify
 *   (the peer's stream reports end of file, not an error).
 * - An inetd-style server thread: dup2 of the connection onto 0 and 1,
 *   fgets(stdin), printf, fflush(stdout); the original stdout (a saved
 *   pointer) refuses to write while fd 1 is TLS; dup2 of the saved
 *   descriptors gives the program its original streams back, and the
 *   stream that stood in fails from then on.
 * - A pre-forked child serving two connections on 0/1 in turn: the same
 *   stdout object serves both, output left in it after close(1) never
 *   reaches the next peer, stderr on the connection is unbuffered like the
 *   original, and output the program never flushed goes out
 *   (through TLS) when the process flushes everything at its end.
 * - fdopen "w" then fclose: the peer's read() gets the bytes, then 0.
 * - A stream whose descriptor was replaced (dup2 of a pipe over it) fails
 *   with EBADF, writes nothing into the pipe, and fclose leaves the
 *   pipe's descriptor open.
 * - fdopen mode handling: bad mode (EINVAL), "e" sets FD_CLOEXEC, ftell
 *   fails with ESPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[out]\n"
			     "role = client\n"
			     "port = @P0@, @P2@, @P4@, @P6@, @P7@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "[in]\n"
			     "role = server\n"
			     "port = @P1@, @P3@, @P5@, @P7@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n";

#define REPLY   "STDIO-REPLY-51d0"
#define STALE   "STALE-OUTPUT-e27a"
#define ORIG    "ORIGINAL-STREAM-0b9c"
#define ERRLINE "STDERR-LINE-7d21"
#define LINE    SHIMTEST_MARKER "\n"
#define RLINE   REPLY "\n"
#define DIRECT  7 /* listener with both rules: wrapped client to wrapped server */

/* Both directions of a relayed session were TLS records only, without
 * any of ${words} in clear, ending with an alert when ${closed}. */
static void check_wire(shimtest_relay *r, const char *const *words, bool closed)
{
	for (int d = 0; d < 2; d++) {
		const shimtest_buf *b = &r->wire[d];
		uint8_t types[64];
		size_t tail = 1;
		int n = shimtest_records(b, types, 64, &tail);
		CHECK(n >= 2 && n <= 64);
		CHECK_EQ(tail, 0);
		CHECK(shimtest_count_type(b, 23) >= 1); /* application_data */
		for (const char *const *w = words; *w; w++)
			CHECK(!shimtest_contains(b, *w));
		if (closed && n >= 2 && n <= 64)
			CHECK_EQ(types[n - 1], 21); /* close_notify */
	}
	shimtest_buf_free(&r->wire[0]);
	shimtest_buf_free(&r->wire[1]);
}

/* --- fdopen "r+" on both ends --- */

struct fdopen_srv {
	char line[128];
	bool fileno_ok, eof, err;
	int close_ret;
};

static void *fdopen_server(void *arg)
{
	struct fdopen_srv *v = arg;
	int fd = shimtest_accept(1);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r+");
	CHECK(f != NULL);
	if (!f) {
		close(fd);
		return NULL;
	}
	v->fileno_ok = fileno(f) == fd;
	if (fgets(v->line, sizeof v->line, f)) {
		fprintf(f, "%s\n", REPLY);
		fflush(f);
	}
	/* The client's fclose: a clean end of file, not an error. */
	char more[16];
	CHECK(fgets(more, sizeof more, f) == NULL);
	v->eof = feof(f) != 0;
	v->err = ferror(f) != 0;
	v->close_ret = fclose(f);
	return NULL;
}

static void fdopen_session(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(0), shimtest_port(1), -1, false);
	struct fdopen_srv v = {.close_ret = -2};
	pthread_t t = shimtest_thread(fdopen_server, &v);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	FILE *f = fdopen(fd, "r+");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(fileno(f), fd);
		CHECK(fprintf(f, "%s", LINE) > 0);
		CHECK_EQ(fflush(f), 0);
		char reply[128] = "";
		CHECK(fgets(reply, sizeof reply, f) != NULL);
		CHECK(strcmp(reply, RLINE) == 0);
		struct stat before, after;
		CHECK_EQ(fstat(fd, &before), 0);
		CHECK_EQ(fclose(f), 0);
		/* fclose closed the socket: the number is free, or (another
		 * thread of the harness may take it at once) names another file. */
		CHECK(fstat(fd, &after) < 0 || after.st_ino != before.st_ino ||
		      after.st_dev != before.st_dev);
	}
	pthread_join(t, NULL);
	shimtest_relay_join(&r);
	CHECK(strcmp(v.line, LINE) == 0);
	CHECK(v.fileno_ok);
	CHECK(v.eof);
	CHECK(!v.err);
	CHECK_EQ(v.close_ret, 0);
	check_wire(&r, (const char *const[]){SHIMTEST_MARKER, REPLY, NULL}, true);
}

/* --- inetd-style thread: dup2 onto 0 and 1, then stdio --- */

struct std_srv {
	char line[128];
	bool switched, fileno_ok, orig_refused, restored, dead_after;
};

static void *std_server(void *arg)
{
	struct std_srv *v = arg;
	int conn = shimtest_accept(3);
	CHECK(conn >= 0);
	if (conn < 0)
		return NULL;
	FILE *orig_in = stdin, *orig_out = stdout;
	int save0 = dup(0), save1 = dup(1);
	CHECK(save0 >= 0 && save1 >= 0);
	CHECK_EQ(dup2(conn, 0), 0);
	CHECK_EQ(dup2(conn, 1), 1);
	close(conn);
	v->switched = stdin != orig_in && stdout != orig_out;
	v->fileno_ok = fileno(stdin) == 0 && fileno(stdout) == 1;
	FILE *tls_out = stdout;
	if (fgets(v->line, sizeof v->line, stdin)) {
		printf("%s\n", REPLY);
		fflush(stdout);
	}
	/* A saved pointer to the original stdout must not write in clear. */
	fputs(ORIG, orig_out);
	v->orig_refused = fflush(orig_out) == EOF;
	clearerr(orig_out);
	/* Back to the original descriptors: close_notify to the peer. */
	dup2(save1, 1);
	dup2(save0, 0);
	close(save0);
	close(save1);
	v->restored =
		stdout == orig_out && stdin == orig_in && fileno(stdout) == 1 && fileno(stdin) == 0;
	fputs("late", tls_out);
	errno = 0;
	v->dead_after = fflush(tls_out) == EOF && errno == EBADF;
	return NULL;
}

static void std_switch(void)
{
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(2), shimtest_port(3), -1, false);
	struct std_srv v = {0};
	pthread_t t = shimtest_thread(std_server, &v);
	int err;
	int fd = shimtest_connect(shimtest_port(2), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(fd, LINE, strlen(LINE)));
	char buf[128] = "";
	ssize_t last;
	CHECK_EQ(shimtest_read_full(fd, buf, strlen(RLINE), &last), strlen(RLINE));
	CHECK_MEM(buf, RLINE, strlen(RLINE));
	CHECK_EQ(read(fd, buf, sizeof buf), 0); /* close_notify after the restore */
	close(fd);
	pthread_join(t, NULL);
	shimtest_relay_join(&r);
	CHECK(strcmp(v.line, LINE) == 0);
	CHECK(v.switched);
	CHECK(v.fileno_ok);
	CHECK(v.orig_refused);
	CHECK(v.restored);
	CHECK(v.dead_after);
	check_wire(&r, (const char *const[]){SHIMTEST_MARKER, REPLY, ORIG, NULL}, true);
	/* The program's own stdout works again. */
	CHECK_EQ(fflush(stdout), 0);
}

/* --- pre-forked child serving two connections on 0/1 --- */

static void preforked_child(void *arg)
{
	(void)arg;
	FILE *out[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++) {
		int conn = shimtest_accept(5);
		CHECK(conn > 2);
		if (conn <= 2)
			return;
		CHECK_EQ(dup2(conn, 0), 0);
		CHECK_EQ(dup2(conn, 1), 1);
		close(conn);
		out[i] = stdout;
		char line[128] = "";
		CHECK(fgets(line, sizeof line, stdin) != NULL);
		CHECK(strcmp(line, LINE) == 0);
		printf("%s %d\n", REPLY, i);
		if (i == 1)
			break; /* left in the buffer: the flush at the end sends it */
		fflush(stdout);
		/* stderr too: unbuffered, as the original was. */
		FILE *orig_err = stderr;
		int save2 = dup(2);
		CHECK_EQ(dup2(1, 2), 2);
		bool err_switched = stderr != orig_err;
		fprintf(stderr, "%s\n", ERRLINE);
		CHECK_EQ(dup2(save2, 2), 2);
		close(save2);
		CHECK(err_switched);
		CHECK(stderr == orig_err);
		/* Output after the connection is gone must never reach the
		 * next peer; /dev/null then takes the numbers back. */
		close(1);
		printf("%s\n", STALE);
		CHECK_EQ(open("/dev/null", O_WRONLY), 1);
		close(0);
		CHECK_EQ(open("/dev/null", O_RDONLY), 0);
		CHECK(stdout != out[0]); /* the original is back */
		CHECK_EQ(fileno(stdout), 1);
	}
	CHECK(out[0] != NULL && out[0] == out[1]); /* one stand-in, rebound */
}

static void preforked(void)
{
	shimtest_relay r[2];
	shimtest_relay_start(&r[0], shimtest_listener(4), shimtest_port(5), -1, false);
	shimtest_relay_start(&r[1], shimtest_listener(6), shimtest_port(5), -1, false);
	pid_t pid = shimtest_fork(preforked_child, NULL);
	for (int i = 0; i < 2; i++) {
		int err;
		int fd = shimtest_connect(shimtest_port(i ? 6 : 4), 0, &err);
		CHECK_EQ(err, 0);
		CHECK(shimtest_write_all(fd, LINE, strlen(LINE)));
		char want[96], buf[128] = "";
		snprintf(want, sizeof want, "%s %d\n%s", REPLY, i, i ? "" : ERRLINE "\n");
		ssize_t last;
		CHECK_EQ(shimtest_read_full(fd, buf, strlen(want), &last), strlen(want));
		CHECK_MEM(buf, want, strlen(want));
		if (i == 0)
			CHECK_EQ(read(fd, buf, sizeof buf), 0); /* close(0), close(1) */
		close(fd);
	}
	CHECK_EQ(shimtest_wait(pid), 0);
	for (int i = 0; i < 2; i++) {
		shimtest_relay_join(&r[i]);
		/* The child's second connection ends with _exit: no close_notify. */
		check_wire(&r[i],
			   (const char *const[]){SHIMTEST_MARKER, REPLY, STALE, ERRLINE, NULL},
			   i == 0);
	}
}

/* --- fdopen "w" + fclose; a stream whose descriptor was replaced --- */

struct raw_srv {
	char got[128];
	size_t n;
	ssize_t last;
};

static void *raw_server(void *arg)
{
	struct raw_srv *v = arg;
	int fd = shimtest_accept(DIRECT);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	v->n = shimtest_read_full(fd, v->got, sizeof v->got - 1, &v->last);
	shimtest_check_tls(fd, v->n, "stdio fclose peer");
	close(fd);
	return NULL;
}

static void fclose_notifies(void)
{
	struct raw_srv v = {.last = -2};
	pthread_t t = shimtest_thread(raw_server, &v);
	int err;
	int fd = shimtest_connect(shimtest_port(DIRECT), 0, &err);
	CHECK_EQ(err, 0);
	errno = 0;
	CHECK(fdopen(fd, "z") == NULL && errno == EINVAL);
	FILE *f = fdopen(fd, "we");
	CHECK(f != NULL);
	if (f) {
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		errno = 0;
		CHECK(ftell(f) == -1 && errno == ESPIPE);
		CHECK(fputs(LINE, f) >= 0);
		CHECK_EQ(fclose(f), 0); /* flushes, then close_notify */
	}
	pthread_join(t, NULL);
	CHECK_EQ(v.n, strlen(LINE));
	CHECK_MEM(v.got, LINE, strlen(LINE));
	CHECK_EQ(v.last, 0); /* a clean end, not ECONNRESET */
}

static void replaced_descriptor(void)
{
	struct raw_srv v = {.last = -2};
	pthread_t t = shimtest_thread(raw_server, &v);
	int err;
	int fd = shimtest_connect(shimtest_port(DIRECT), 0, &err);
	CHECK_EQ(err, 0);
	FILE *f = fdopen(fd, "w");
	CHECK(f != NULL);
	int pp[2];
	CHECK_EQ(pipe2(pp, O_NONBLOCK), 0);
	if (f) {
		CHECK(fputs(LINE, f) >= 0); /* still in the buffer */
		CHECK_EQ(dup2(pp[1], fd), fd);
		errno = 0;
		CHECK_EQ(fflush(f), EOF);
		CHECK_EQ(errno, EBADF);
		char buf[128];
		CHECK_EQ(read(pp[0], buf, sizeof buf), -1); /* nothing in clear */
		CHECK_EQ(fclose(f), EOF);
		CHECK(fcntl(fd, F_GETFD) >= 0); /* the pipe's number stays open */
		CHECK_EQ(write(fd, "x", 1), 1);
		CHECK_EQ(read(pp[0], buf, sizeof buf), 1);
	}
	close(fd);
	close(pp[0]);
	close(pp[1]);
	pthread_join(t, NULL);
	CHECK_EQ(v.n, 0); /* the peer got none of it, and a clean end */
	CHECK_EQ(v.last, 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	/* 0, 1 and 2 must be taken, or a listener could land on them. */
	while (fcntl(0, F_GETFD) < 0 || fcntl(1, F_GETFD) < 0 || fcntl(2, F_GETFD) < 0)
		if (open("/dev/null", O_RDWR) < 0)
			return 1;
	shimtest_start(argv, 8, policy);
	fdopen_session();
	std_switch();
	preforked();
	fclose_notifies();
	replaced_descriptor();
	return check_exit("shim/stdio");
}
