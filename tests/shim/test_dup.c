/*
 * test_dup: descriptors are aliases of one connection (DESIGN.md
 * "Descriptors"). dup, dup3, fcntl(F_DUPFD_CLOEXEC), dup2 and fork copies
 * are closed in every order; the connection keeps working while any alias
 * is open, and the peer sees a clean end of file (close_notify: read
 * returns 0, not ECONNRESET) exactly when the last one goes. dup2 over a
 * TLS descriptor ends that connection cleanly and the number then names
 * its new file (TLS or plain).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

/* The peer of one connection: echo until the end, remember how it ended. */
struct peer {
	pthread_t t;
	ssize_t last;
	int last_errno;
	size_t echoed;
	int done; /* atomic */
};

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	for (; fd >= 0;) {
		char buf[4096];
		errno = 0;
		ssize_t r = read(fd, buf, sizeof buf);
		p->last = r;
		p->last_errno = errno;
		if (r <= 0 || !shimtest_write_all(fd, buf, (size_t)r))
			break;
		p->echoed += (size_t)r;
	}
	if (fd >= 0) {
		shimtest_check_tls(fd, p->echoed, "dup peer");
		close(fd);
	}
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A connection with its peer; the client descriptor is returned. */
static int open_conn(struct peer *p)
{
	memset(p, 0, sizeof *p);
	p->t = shimtest_thread(peer_main, p);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	return fd;
}

/* The peer ended cleanly (close_notify) and echoed something. */
static void check_clean_end(struct peer *p, const char *what)
{
	pthread_join(p->t, NULL);
	if (p->last != 0)
		fprintf(stderr, "%s: peer's last read %zd (%s)\n", what, p->last,
			strerror(p->last_errno));
	CHECK_EQ(p->last, 0);
	CHECK(p->echoed > 0);
}

static bool peer_done(struct peer *p)
{
	return __atomic_load_n(&p->done, __ATOMIC_ACQUIRE);
}

/* Write through ${wfd}, read the echo through ${rfd}. */
static void echo(int wfd, int rfd, const char *msg)
{
	size_t n = strlen(msg);
	CHECK_EQ(write(wfd, msg, n), n);
	char buf[256] = "";
	ssize_t last;
	size_t got = shimtest_read_full(rfd, buf, n, &last);
	CHECK_EQ(got, n);
	CHECK_MEM(buf, msg, n);
	if (got != n)
		fprintf(stderr, "echo '%s': got %zu, last read %zd (%s)\n", msg, got, last,
			strerror(errno));
}

/* dup, close the original, keep using the copy. */
static void close_original_first(void)
{
	struct peer p;
	int fd = open_conn(&p);
	int d = dup(fd);
	CHECK(d >= 0);
	echo(fd, d, "through both");
	CHECK_EQ(close(fd), 0);
	echo(d, d, "original closed, copy lives");
	shimtest_sleep_ms(50);
	CHECK(!peer_done(&p));
	CHECK_EQ(close(d), 0);
	check_clean_end(&p, "close original first");
}

/* dup3, close the copy, keep using the original. */
static void close_copy_first(void)
{
	struct peer p;
	int fd = open_conn(&p);
	int d = dup3(fd, 200, O_CLOEXEC);
	CHECK_EQ(d, 200);
	echo(d, fd, "copy 200");
	CHECK_EQ(close(d), 0);
	echo(fd, fd, "copy closed, original lives");
	CHECK(!peer_done(&p));
	CHECK_EQ(close(fd), 0);
	check_clean_end(&p, "close copy first");
}

/* Three aliases (F_DUPFD_CLOEXEC, dup) closed one by one. */
static void three_aliases(void)
{
	struct peer p;
	int fd = open_conn(&p);
	int a = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	CHECK(a >= 100);
	int b = dup(a);
	echo(a, b, "three aliases");
	CHECK_EQ(close(a), 0);
	echo(fd, b, "two left");
	CHECK_EQ(close(fd), 0);
	echo(b, b, "one left");
	CHECK(!peer_done(&p));
	CHECK_EQ(close(b), 0);
	check_clean_end(&p, "three aliases");
}

/* dup2 of one TLS descriptor over another. */
static void dup2_over_tls(void)
{
	struct peer pa, pb;
	int a = open_conn(&pa);
	echo(a, a, "A before");
	int b = open_conn(&pb);
	echo(b, b, "B before");
	CHECK_EQ(dup2(a, b), b);
	/* B's connection lost its only descriptor: close_notify. */
	check_clean_end(&pb, "dup2 victim");
	/* The number b now names A's connection. */
	echo(b, a, "A through b");
	CHECK_EQ(close(a), 0);
	echo(b, b, "A through b only");
	CHECK(!peer_done(&pa));
	CHECK_EQ(close(b), 0);
	check_clean_end(&pa, "dup2 source");
}

/* dup2 of a pipe over a TLS descriptor: the number becomes plain. */
static void dup2_plain_over_tls(void)
{
	struct peer p;
	int fd = open_conn(&p);
	echo(fd, fd, "before the pipe");
	int pp[2];
	CHECK_EQ(pipe(pp), 0);
	CHECK_EQ(dup2(pp[1], fd), fd);
	check_clean_end(&p, "dup2 pipe over tls");
	CHECK_EQ(write(fd, "plain", 5), 5);
	char buf[16] = "";
	CHECK_EQ(read(pp[0], buf, sizeof buf), 5); /* bytes as written, no record */
	CHECK_MEM(buf, "plain", 5);
	close(fd);
	close(pp[0]);
	close(pp[1]);
}

/* A forked child closing its copy does not end the parent's stream. */
static void child_closes(void *arg)
{
	int fd = *(int *)arg;
	CHECK_EQ(close(fd), 0);
}

static void fork_copy_closed(void)
{
	struct peer p;
	int fd = open_conn(&p);
	echo(fd, fd, "before fork");
	CHECK_EQ(shimtest_wait(shimtest_fork(child_closes, &fd)), 0);
	echo(fd, fd, "after the child closed its copy");
	CHECK(!peer_done(&p));
	CHECK_EQ(close(fd), 0);
	check_clean_end(&p, "fork");
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	close_original_first();
	close_copy_first();
	three_aliases();
	dup2_over_tls();
	dup2_plain_over_tls();
	fork_copy_closed();
	return check_exit("shim/dup");
}
