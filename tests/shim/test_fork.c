/*
 * test_fork: after fork() exactly one process may use a TLS connection
 * (DESIGN.md "fork": two writers would reuse AEAD nonces).
 * - A forking server (parent accepts, forks, closes its copy at once; the
 *   child serves): the peer gets its reply and a clean close_notify from the
 *   child, and the parent's close put nothing on the wire (relay records).
 * - The parent touches the connection the child claimed: write, send,
 *   read, shutdown fail with EPERM, poll reports POLLERR, and not one
 *   record more goes out (the relay counts them).
 * - The parent claims first: the child is refused, the parent carries on.
 * - Two forks before anyone uses it: the later child wins, the first child
 *   and the parent are refused.
 * - A fork while a thread of the parent is blocked reading: the parent
 *   keeps the connection, the child is refused.
 * - daemon() and a second fork (the classic double fork): the grandchild
 *   uses the connection and ends it cleanly.
 * - vfork(): the child closing its copy before _exit leaves the parent's
 *   connection alone.
 * - _Fork() runs the same rules (the child claims, the parent is refused).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[relay-out]\n"
			     "role = client\n"
			     "port = @P0@, @P2@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "[forking-in]\n"
			     "role = server\n"
			     "port = @P1@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-in]\n"
			     "role = server\n"
			     "port = @P3@\n"
			     "cert = @CERTS@/server-rsa.crt\n"
			     "key = @CERTS@/server-rsa.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P3@\n"
			     "ca = @CERTS@/ca.crt\n";

#define N_ECHO  6
#define REQUEST "HELLO"
#define REPLY1  "REPLY-ONE-from-the-child"
#define REPLY2  "REPLY-TWO-from-the-child"

static shimtest_echo peer; /* the echo server on listener 3 (shimtest.h) */

/* ---- helpers ------------------------------------------------------------ */

static void token_send(int fd)
{
	CHECK_EQ(write(fd, "T", 1), 1);
}

static bool token_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	return poll(&p, 1, 15000) == 1 && read(fd, &c, 1) == 1;
}

static void expect_refused(int fd)
{
	char c;
	errno = 0;
	CHECK_EQ(write(fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	CHECK_EQ(errno, EPERM);
	errno = 0;
	CHECK_EQ(send(fd, "x", 1, MSG_NOSIGNAL), -1);
	CHECK_EQ(errno, EPERM);
	errno = 0;
	CHECK_EQ(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EPERM);
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	CHECK_EQ(poll(&p, 1, 1000), 1);
	CHECK(p.revents & POLLERR);
}

/* ---- the peers ---------------------------------------------------------- */

struct conn_arg {
	int fd;
	int go[2], done[2]; /* parent -> child, child -> parent */
};

/* Forking server, connection 1: the child serves only after the parent
 * closed its copy. */
static void serve_after_parent_closed(void *arg)
{
	struct conn_arg *a = arg;
	close(a->go[1]);
	CHECK(token_wait(a->go[0]));
	char buf[sizeof REQUEST - 1];
	CHECK_EQ(shimtest_read_full(a->fd, buf, sizeof buf, NULL), sizeof buf);
	CHECK(shimtest_write_all(a->fd, REPLY1, strlen(REPLY1)));
	CHECK_EQ(close(a->fd), 0);
}

/* Forking server, connection 2: the child serves, the parent meddles. */
static void serve_then_let_parent_try(void *arg)
{
	struct conn_arg *a = arg;
	char buf[sizeof REQUEST - 1];
	CHECK_EQ(shimtest_read_full(a->fd, buf, sizeof buf, NULL), sizeof buf);
	CHECK(shimtest_write_all(a->fd, REPLY1, strlen(REPLY1)));
	token_send(a->done[1]);
	CHECK(token_wait(a->go[0]));
	CHECK(shimtest_write_all(a->fd, REPLY2, strlen(REPLY2)));
	CHECK_EQ(close(a->fd), 0);
}

static void forking_server(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2; i++) {
		struct conn_arg a;
		a.fd = shimtest_accept(1);
		CHECK(a.fd >= 0);
		if (a.fd < 0)
			return;
		CHECK_EQ(pipe(a.go), 0);
		CHECK_EQ(pipe(a.done), 0);
		pid_t c = shimtest_fork(
			i == 0 ? serve_after_parent_closed : serve_then_let_parent_try, &a);
		if (i == 0) {
			CHECK_EQ(close(a.fd), 0); /* before the child used it: no close_notify */
			token_send(a.go[1]);
		} else {
			CHECK(token_wait(a.done[0]));
			expect_refused(a.fd);
			errno = 0;
			CHECK_EQ(shutdown(a.fd, SHUT_WR),
				 -1); /* a FIN would cut the child's stream */
			CHECK_EQ(errno, EPERM);
			CHECK_EQ(close(a.fd), 0);
			token_send(a.go[1]);
		}
		CHECK_EQ(shimtest_wait(c), 0);
		close(a.go[0]);
		close(a.go[1]);
		close(a.done[0]);
		close(a.done[1]);
	}
}

/* ---- the cases ---------------------------------------------------------- */

/* The client side of the forking server, through relay ${relay_i}. */
static void forking_server_client(int relay_i, int replies)
{
	shimtest_relay relay;
	shimtest_relay_start(&relay, shimtest_listener(relay_i), shimtest_port(1), -1, false);
	int err;
	int fd = shimtest_connect(shimtest_port(relay_i), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(fd, REQUEST, strlen(REQUEST)));
	char buf[64];
	size_t want = strlen(REPLY1) + (replies == 2 ? strlen(REPLY2) : 0);
	ssize_t last;
	CHECK_EQ(shimtest_read_full(fd, buf, sizeof buf, &last), want);
	CHECK_EQ(last, 0); /* the child's close_notify */
	CHECK_MEM(buf, REPLY1, strlen(REPLY1));
	if (replies == 2)
		CHECK_MEM(buf + strlen(REPLY1), REPLY2, strlen(REPLY2));
	close(fd);
	shimtest_relay_join(&relay);
	const shimtest_buf *w = &relay.wire[SHIMTEST_S2C];
	uint8_t types[64];
	int n = shimtest_records(w, types, 64, NULL);
	CHECK(n > 2);
	CHECK_EQ(shimtest_count_type(w, 23), replies); /* nothing from the parent */
	CHECK_EQ(shimtest_count_type(w, 21), 1);       /* one close_notify ... */
	CHECK(n > 0 && n <= 64 && types[n - 1] == 21); /* ... at the end */
	CHECK(!shimtest_contains(w, SHIMTEST_MARKER));
	shimtest_buf_free(&relay.wire[0]);
	shimtest_buf_free(&relay.wire[1]);
}

static int shared_fd;
static int go_pipe[2], go2_pipe[2];

static void refused_child(void *arg)
{
	int *go = arg;
	CHECK(token_wait(go[0]));
	expect_refused(shared_fd);
	CHECK_EQ(close(shared_fd), 0);
}

static void parent_claims_first(void)
{
	shared_fd = shimtest_echo_connect(shimtest_port(3));
	CHECK_EQ(pipe(go_pipe), 0);
	pid_t c = shimtest_fork(refused_child, go_pipe);
	CHECK(shimtest_echoes(shared_fd, "parent uses it first"));
	token_send(go_pipe[1]);
	CHECK_EQ(shimtest_wait(c), 0);
	CHECK(shimtest_echoes(shared_fd, "and keeps it"));
	CHECK_EQ(close(shared_fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "parent claims first");
	close(go_pipe[0]);
	close(go_pipe[1]);
}

static void winning_child(void *arg)
{
	int *go = arg;
	CHECK(token_wait(go[0]));
	CHECK(shimtest_echoes(shared_fd, "the second child uses it"));
	CHECK_EQ(close(shared_fd), 0);
}

static void two_forks_unclaimed(void)
{
	shared_fd = shimtest_echo_connect(shimtest_port(3));
	CHECK_EQ(pipe(go_pipe), 0);
	CHECK_EQ(pipe(go2_pipe), 0);
	pid_t c1 = shimtest_fork(refused_child, go_pipe);
	pid_t c2 = shimtest_fork(winning_child, go2_pipe);
	token_send(go2_pipe[1]);
	CHECK_EQ(shimtest_wait(c2), 0);
	shimtest_echo_expect(&peer, 'C', -1, "two forks: the winner's close_notify");
	token_send(go_pipe[1]);
	CHECK_EQ(shimtest_wait(c1), 0);
	expect_refused(shared_fd);
	CHECK_EQ(close(shared_fd), 0);
	close(go_pipe[0]);
	close(go_pipe[1]);
	close(go2_pipe[0]);
	close(go2_pipe[1]);
}

struct blocked_reader {
	int fd;
	char buf[4];
	size_t got;
};

static void *blocked_reader_main(void *arg)
{
	struct blocked_reader *b = arg;
	b->got = shimtest_read_full(b->fd, b->buf, sizeof b->buf, NULL);
	return NULL;
}

static void busy_child(void *arg)
{
	(void)arg;
	expect_refused(shared_fd);
}

static void fork_while_reading(void)
{
	shared_fd = shimtest_echo_connect(shimtest_port(3));
	struct blocked_reader b = {.fd = shared_fd};
	pthread_t t = shimtest_thread(blocked_reader_main, &b);
	shimtest_sleep_ms(200); /* the reader is inside read() now */
	pid_t c = shimtest_fork(busy_child, NULL);
	CHECK_EQ(shimtest_wait(c), 0);
	CHECK(shimtest_write_all(shared_fd, "ping", 4));
	pthread_join(t, NULL);
	CHECK_EQ(b.got, 4);
	CHECK_MEM(b.buf, "ping", 4);
	CHECK(shimtest_echoes(shared_fd, "still the parent's"));
	CHECK_EQ(close(shared_fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "fork while reading");
}

static int result_pipe[2];

static void daemonize_and_use(void *arg)
{
	(void)arg;
	int fd = shimtest_echo_connect(shimtest_port(3));
	close(result_pipe[0]);
	if (daemon(1, 1) < 0)
		_exit(3);
	pid_t p = fork(); /* the second fork of a classic daemon */
	if (p < 0)
		_exit(3);
	if (p > 0)
		_exit(0);
	alarm(20);
	bool ok = shimtest_echoes(fd, "from the grandchild");
	ok = close(fd) == 0 && ok;
	char c = ok ? 'Y' : 'N';
	if (write(result_pipe[1], &c, 1) != 1)
		_exit(1);
	_exit(0);
}

static void daemon_double_fork(void)
{
	CHECK_EQ(pipe(result_pipe), 0);
	pid_t d = shimtest_fork(daemonize_and_use, NULL);
	CHECK_EQ(shimtest_wait(d), 0);
	close(result_pipe[1]);
	char c = '?';
	struct pollfd p = {.fd = result_pipe[0], .events = POLLIN};
	if (poll(&p, 1, 15000) != 1 || read(result_pipe[0], &c, 1) != 1)
		c = '?';
	CHECK_EQ(c, 'Y');
	close(result_pipe[0]);
	shimtest_echo_expect(&peer, 'C', -1, "daemon");
}

static void vfork_child_closes(void)
{
	int fd = shimtest_echo_connect(shimtest_port(3));
	pid_t pid = vfork();
	if (pid == 0) {
		close(fd);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	CHECK(shimtest_echoes(fd, "vfork left it alone"));
	CHECK_EQ(close(fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "vfork");
}

static void underscore_fork(void)
{
	int fd = shimtest_echo_connect(shimtest_port(3));
	pid_t pid = _Fork();
	if (pid == 0) {
		bool ok = shimtest_echoes(fd, "the _Fork child claims it");
		ok = close(fd) == 0 && ok;
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0);
	CHECK_EQ(shimtest_wait(pid), 0);
	expect_refused(fd);
	CHECK_EQ(close(fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "_Fork");
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 4, policy);
	shimtest_echo_start(&peer, 3, N_ECHO, false);
	pid_t server_pid = shimtest_fork(forking_server, NULL);

	forking_server_client(0, 1);
	forking_server_client(2, 2);
	CHECK_EQ(shimtest_wait(server_pid), 0);

	parent_claims_first();
	two_forks_unclaimed();
	fork_while_reading();
	daemon_double_fork();
	vfork_child_closes();
	underscore_fork();
	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	return check_exit("shim/fork");
}
