/*
 * test_fdreuse: the registry stays right when descriptors come and go
 * outside close() (DESIGN.md "Descriptors").
 * - A TLS socket closed behind the shim's back (libc's own syscall(), not
 *   the hooked one): the number comes back from open, openat, creat,
 *   socket, socketpair, pipe, pipe2, eventfd, timerfd_create, memfd_create
 *   and inotify_init1, and each new descriptor behaves as the plain file,
 *   pipe or socket it is (bytes in clear, exactly as written).
 * - close_range ends every TLS connection in the range with close_notify;
 *   with CLOSE_RANGE_CLOEXEC it only marks them and they keep working.
 * - closefrom ends them with close_notify.
 * - fclose of a stream made with fdopen on a TLS socket: the buffered bytes
 *   reach the peer through TLS, then close_notify.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[echo-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

static shimtest_echo peer; /* the echo server, a thread per connection (shimtest.h) */
static int n_conns;

/* ---- helpers ------------------------------------------------------------ */

static int tls_connect(void)
{
	n_conns++;
	return shimtest_echo_connect(shimtest_port(0));
}

/* close(2) the shim never sees: libc's syscall(), not the hooked one. */
static void close_behind_back(int fd)
{
	static long (*libc_syscall)(long, ...);
	if (!libc_syscall) {
		void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
		CHECK(libc != NULL);
		libc_syscall = (long (*)(long, ...))dlsym(libc, "syscall");
		CHECK(libc_syscall != NULL);
	}
	CHECK_EQ(libc_syscall(SYS_close, (long)fd), 0);
}

/* ${fd} is a plain read/write descriptor: bytes come back as written. */
static void check_plain_rw(int wfd, int rfd, const char *what)
{
	const char msg[] = "plain-bytes-in-clear";
	ssize_t w = write(wfd, msg, sizeof msg);
	CHECK_EQ(w, sizeof msg);
	if (wfd == rfd)
		CHECK_EQ(lseek(rfd, 0, SEEK_SET), 0);
	char buf[sizeof msg] = "";
	ssize_t r = read(rfd, buf, sizeof buf);
	CHECK_EQ(r, sizeof msg);
	CHECK_MEM(buf, msg, sizeof msg);
	if (w != sizeof msg || r != sizeof msg)
		fprintf(stderr, "%s: not a plain descriptor (%s)\n", what, strerror(errno));
}

/* ---- the cases ---------------------------------------------------------- */

enum maker {
	M_OPEN,
	M_OPENAT,
	M_CREAT,
	M_SOCKET,
	M_SOCKETPAIR,
	M_PIPE,
	M_PIPE2,
	M_EVENTFD,
	M_TIMERFD,
	M_MEMFD,
	M_INOTIFY,
	M_COUNT
};

static const char *const maker_name[M_COUNT] = {
	"open",  "openat",  "creat",          "socket", "socketpair",    "pipe",
	"pipe2", "eventfd", "timerfd_create", "memfd",  "inotify_init1",
};

static void reuse_after_stale(enum maker m)
{
	/* The file first: mkstemp makes its descriptor inside libc, where no
	 * hook sees it. */
	char path[] = "/tmp/tlshim-fdreuse-XXXXXX";
	CHECK_EQ(close(mkstemp(path)), 0);
	int x = tls_connect();
	close_behind_back(x);
	shimtest_echo_expect(&peer, 'R', 5, maker_name[m]); /* a bare FIN: truncation */
	int fd = -1, other = -1, pair[2] = {-1, -1};
	switch (m) {
	case M_OPEN:
	case M_OPENAT:
	case M_CREAT: {
		fd = m == M_OPEN     ? open(path, O_RDWR | O_TRUNC)
		     : m == M_OPENAT ? openat(AT_FDCWD, path, O_RDWR | O_CREAT, 0600)
				     : creat(path, 0600);
		if (m == M_CREAT) { /* write-only: read it back through another one */
			CHECK(shimtest_write_all(fd, "created", 7));
			other = open(path, O_RDONLY);
			char b[8] = "";
			CHECK_EQ(read(other, b, sizeof b), 7);
			CHECK_MEM(b, "created", 7);
		} else {
			check_plain_rw(fd, fd, maker_name[m]);
		}
		break;
	}
	case M_SOCKET: {
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		/* Not connected: send fails as a plain Unix socket's does. */
		errno = 0;
		CHECK_EQ(send(fd, "x", 1, MSG_NOSIGNAL), -1);
		CHECK(errno == ENOTCONN || errno == EDESTADDRREQ);
		break;
	}
	case M_SOCKETPAIR:
	case M_PIPE:
	case M_PIPE2:
		if (m == M_SOCKETPAIR)
			CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
		else if (m == M_PIPE)
			CHECK_EQ(pipe(pair), 0);
		else
			CHECK_EQ(pipe2(pair, O_CLOEXEC), 0);
		CHECK(pair[0] == x || pair[1] == x);
		check_plain_rw(pair[1], pair[0], maker_name[m]);
		break;
	case M_EVENTFD: {
		fd = eventfd(0, 0);
		uint64_t v = 42, got = 0;
		CHECK_EQ(write(fd, &v, sizeof v), sizeof v);
		CHECK_EQ(read(fd, &got, sizeof got), sizeof got);
		CHECK_EQ(got, 42);
		break;
	}
	case M_TIMERFD: {
		fd = timerfd_create(CLOCK_MONOTONIC, 0);
		struct itimerspec its = {.it_value = {0, 1000000}};
		CHECK_EQ(timerfd_settime(fd, 0, &its, NULL), 0);
		uint64_t ticks = 0;
		CHECK_EQ(read(fd, &ticks, sizeof ticks), sizeof ticks);
		CHECK(ticks >= 1);
		break;
	}
	case M_MEMFD:
		fd = memfd_create("fdreuse", 0);
		check_plain_rw(fd, fd, maker_name[m]);
		break;
	case M_INOTIFY: {
		fd = inotify_init1(IN_NONBLOCK);
		char b[64];
		errno = 0;
		CHECK_EQ(read(fd, b, sizeof b), -1); /* nothing watched: EAGAIN, not TLS */
		CHECK_EQ(errno, EAGAIN);
		break;
	}
	case M_COUNT:
		break;
	}
	if (fd >= 0 || m == M_SOCKETPAIR || m == M_PIPE || m == M_PIPE2) {
		bool same = fd == x || pair[0] == x || pair[1] == x;
		CHECK(same); /* the test reused the number, as intended */
		if (!same)
			fprintf(stderr, "%s: got %d/%d/%d, wanted %d\n", maker_name[m], fd, pair[0],
				pair[1], x);
	}
	unlink(path);
	if (fd >= 0)
		CHECK_EQ(close(fd), 0);
	if (other >= 0)
		close(other);
	if (pair[0] >= 0) {
		close(pair[0]);
		close(pair[1]);
	}
}

/* Move a new TLS connection to descriptor ${at}. */
static int tls_at(int at)
{
	int x = tls_connect();
	CHECK_EQ(dup2(x, at), at);
	CHECK_EQ(close(x), 0); /* an alias remains: nothing ends */
	return at;
}

static void bulk_closes(void)
{
	tls_at(900);
	tls_at(901);
	CHECK_EQ(close_range(900, 901, 0), 0);
	shimtest_echo_expect(&peer, 'C', 5, "close_range");
	shimtest_echo_expect(&peer, 'C', 5, "close_range");

	int fd = tls_at(902);
	CHECK_EQ(close_range(902, 902, CLOSE_RANGE_CLOEXEC), 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK(shimtest_echoes(fd, "still open"));
	CHECK_EQ(close(fd), 0);
	shimtest_echo_expect(&peer, 'C', 5 + 10, "close_range CLOEXEC");

	tls_at(950);
	closefrom(950);
	errno = 0;
	CHECK_EQ(fcntl(950, F_GETFD), -1);
	shimtest_echo_expect(&peer, 'C', 5, "closefrom");
}

static void fclose_flushes(void)
{
	int fd = tls_connect();
	FILE *f = fdopen(fd, "w");
	CHECK(f != NULL);
	CHECK_EQ(fprintf(f, "via-stdio\n"), 10); /* stays in the stream's buffer */
	CHECK_EQ(fclose(f), 0);
	shimtest_echo_expect(&peer, 'C', 5 + 10, "fclose");
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	int total = M_COUNT + 5; /* + close_range 3, closefrom, fclose */
	shimtest_echo_start(&peer, 0, total, true);

	for (int m = 0; m < M_COUNT; m++)
		reuse_after_stale((enum maker)m);
	bulk_closes();
	fclose_flushes();
	CHECK_EQ(n_conns, total);
	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	return check_exit("shim/fdreuse");
}
