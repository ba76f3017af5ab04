/*
 * test_stuck_writer: a writer blocked in send() on a peer that never reads
 * (issue 9, 7). The shim must behave as a plain socket does:
 * 1. shutdown(SHUT_RDWR) from another thread wakes the writer: its write
 *    returns within a second and the next one fails with EPIPE. (A shim
 *    that held the write lock across the blocking send made shutdown wait
 *    for the writer, which waits for the peer: both hang.)
 * 2. A SIGALRM handler that interrupts the blocked write and then calls
 *    recv, write and close on the same socket returns (recv: EAGAIN,
 *    write: EDEADLK, close: 0), and the interrupted write returns; later
 *    calls see EBADF and the number is free again. (A handler's close
 *    waiting for the lock its own thread holds deadlocked.)
 * A watchdog thread ends the test after a few seconds, so a hang is a
 * prompt failure instead of ctest's timeout. The peer (a forked child
 * under the shim) completes the handshakes and then reads nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "shimtest.h"

#define CHUNK     65536
#define HANG_MS   5000 /* the watchdog */
#define WAKE_MS   1000 /* "within a second" */
#define SMALL_BUF 16384

static const char policy[] = "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-ed25519.crt\n"
			     "key = @CERTS@/server-ed25519.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n";

static int done_pipe[2]; /* the parent closes its end: the peer may go */

/* The peer: three connections, one byte each (the handshake), then nothing
 * is read until the parent is done. */
static void peer(void *arg)
{
	(void)arg;
	close(done_pipe[1]);
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = shimtest_accept(0);
		CHECK(fds[i] >= 0);
		if (fds[i] < 0)
			return;
		int small = SMALL_BUF;
		setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
		char b;
		CHECK_EQ(read(fds[i], &b, 1), 1);
	}
	char b;
	ssize_t r;
	while ((r = read(done_pipe[0], &b, 1)) < 0 && errno == EINTR)
		;
	_exit(check_failures ? 1 : 0); /* no close_notify wanted: the streams were aborted */
}

static int connect_blocked(void)
{
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	int small = SMALL_BUF;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	CHECK_EQ(write(fd, "x", 1), 1); /* the peer reads this one */
	return fd;
}

static volatile int watchdog_armed;

static void *watchdog(void *arg)
{
	const char *what = arg;
	int64_t end = shimtest_now_ms() + HANG_MS;
	while (__atomic_load_n(&watchdog_armed, __ATOMIC_ACQUIRE)) {
		if (shimtest_now_ms() > end) {
			fprintf(stderr, "test_stuck_writer: %s hangs\n", what);
			_exit(1);
		}
		shimtest_sleep_ms(20);
	}
	return NULL;
}

static pthread_t watch(const char *what)
{
	__atomic_store_n(&watchdog_armed, 1, __ATOMIC_RELEASE);
	return shimtest_thread(watchdog, (void *)what);
}

static void unwatch(pthread_t t)
{
	__atomic_store_n(&watchdog_armed, 0, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
}

/* 1. shutdown from another thread. */
struct writer {
	int fd;
	size_t total; /* atomic */
	int64_t end;  /* atomic: when the last write returned, ms */
	int last_errno;
	bool done; /* atomic */
};

static void *write_until_error(void *arg)
{
	struct writer *w = arg;
	char *buf = calloc(1, CHUNK);
	for (;;) {
		ssize_t n = send(w->fd, buf, CHUNK, MSG_NOSIGNAL);
		if (n <= 0) {
			w->last_errno = errno;
			break;
		}
		__atomic_add_fetch(&w->total, (size_t)n, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&w->end, shimtest_now_ms(), __ATOMIC_RELEASE);
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	free(buf);
	return NULL;
}

static void shutdown_wakes_writer(void)
{
	struct writer w = {.fd = connect_blocked()};
	pthread_t t = shimtest_thread(write_until_error, &w);
	/* Blocked: no progress for 300 ms (the peer reads nothing). */
	size_t seen = (size_t)-1;
	for (int i = 0; i < 100; i++) {
		shimtest_sleep_ms(300);
		size_t now = __atomic_load_n(&w.total, __ATOMIC_RELAXED);
		if (now == seen)
			break;
		seen = now;
	}
	CHECK(!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE));
	CHECK(seen != (size_t)-1); /* stable: blocked */
	pthread_t dog = watch("shutdown(SHUT_RDWR) of a blocked writer");
	int64_t t0 = shimtest_now_ms();
	CHECK_EQ(shutdown(w.fd, SHUT_RDWR), 0);
	while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE))
		shimtest_sleep_ms(5);
	pthread_join(t, NULL);
	unwatch(dog);
	int64_t took = __atomic_load_n(&w.end, __ATOMIC_ACQUIRE) - t0;
	printf("stuck writer: woken by shutdown after %lld ms (%zu bytes taken)\n", (long long)took,
	       seen);
	CHECK(took < WAKE_MS);
	CHECK_EQ(w.last_errno, EPIPE);
	/* As after shutdown of a plain socket: writing fails, closing works. */
	CHECK_EQ(send(w.fd, "y", 1, MSG_NOSIGNAL), -1);
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(close(w.fd), 0);
}

/* 2. A signal handler closes the socket its thread is blocked writing. */
static int sig_fd = -1;
static volatile sig_atomic_t sig_ran, sig_recv_errno, sig_write_errno, sig_close_ret = -2;
static ssize_t sig_recv_ret, sig_write_ret;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	char b = 'z';
	sig_recv_ret = recv(sig_fd, &b, 1, MSG_DONTWAIT);
	sig_recv_errno = errno;
	sig_write_ret = write(sig_fd, &b, 1);
	sig_write_errno = errno;
	sig_close_ret = close(sig_fd);
	sig_ran = 1;
	errno = saved;
}

static void handler_closes(bool restart)
{
	sig_fd = connect_blocked();
	sig_ran = 0;
	sig_close_ret = -2;
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0};
	sigemptyset(&sa.sa_mask);
	struct sigaction old;
	sigaction(SIGALRM, &sa, &old);
	struct itimerval it = {.it_value = {.tv_usec = 700 * 1000}};
	pthread_t dog =
		watch(restart ? "close() in a SA_RESTART handler" : "close() in a signal handler");
	setitimer(ITIMER_REAL, &it, NULL);
	char *buf = calloc(1, CHUNK);
	ssize_t n;
	int64_t fired = 0;
	int calls = 0;
	/* Write until an error; the alarm comes while a write blocks. */
	while ((n = write(sig_fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR && !sig_ran)) {
		if (sig_ran && !fired)
			fired = shimtest_now_ms();
		calls++;
	}
	int last = errno;
	if (!fired)
		fired = shimtest_now_ms();
	int64_t took = shimtest_now_ms() - fired;
	unwatch(dog);
	sigaction(SIGALRM, &old, NULL);
	alarm(50); /* the harness's watchdog (shimtest_start) again */
	free(buf);
	printf("handler close (%s): handler %s; recv %zd/%s, write %zd/%s, close %d; "
	       "the write loop ended %lld ms later with %s\n",
	       restart ? "SA_RESTART" : "no SA_RESTART", sig_ran ? "returned" : "did not run",
	       sig_recv_ret, strerror(sig_recv_errno), sig_write_ret, strerror(sig_write_errno),
	       (int)sig_close_ret, (long long)took, strerror(last));
	CHECK(sig_ran);
	CHECK(calls > 0);
	CHECK_EQ(sig_recv_ret, -1);
	CHECK_EQ(sig_recv_errno, EAGAIN);
	CHECK_EQ(sig_write_ret, -1);
	CHECK_EQ(sig_write_errno, EDEADLK);
	CHECK_EQ(sig_close_ret, 0);
	CHECK_EQ(n, -1);
	CHECK_EQ(last, EBADF);
	CHECK(took < WAKE_MS);
	/* The number was parked only while the write used it: free now. */
	CHECK_EQ(fcntl(sig_fd, F_GETFD), -1);
	CHECK_EQ(errno, EBADF);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	if (pipe(done_pipe) < 0)
		return 1;
	pid_t pid = shimtest_fork(peer, NULL);
	close(done_pipe[0]);
	shutdown_wakes_writer();
	handler_closes(true);
	handler_closes(false);
	close(done_pipe[1]);
	CHECK_EQ(shimtest_wait(pid), 0);
	return check_exit("shim/stuck_writer");
}
