/*
 * test_iouring: libc's syscall() under a policy (DESIGN.md "Bypasses").
 * - io_uring_setup fails with ENOSYS (a ring would write plaintext to a
 *   TLS socket behind the shim's back); programs fall back to epoll.
 * - Every other number is forwarded unchanged: getpid, a six-argument
 *   mmap, and errno from a failing call.
 * - syscall(SYS_close) on a TLS socket ends it like close(): the peer gets
 *   close_notify, and the number is free of TLS for the next open().
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

struct server {
	size_t got;
	ssize_t last; /* 0: close_notify; -1: reset or truncation */
};

static void *server_main(void *arg)
{
	struct server *sv = arg;
	int fd = shimtest_accept(0);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	char buf[64];
	sv->got = shimtest_read_full(fd, buf, sizeof buf, &sv->last);
	close(fd);
	return NULL;
}

static void io_uring_refused(void)
{
	/* struct io_uring_params is 120 bytes; the kernel would fill it. */
	unsigned char params[120];
	memset(params, 0, sizeof params);
	errno = 0;
	CHECK_EQ(syscall(SYS_io_uring_setup, 8, params), -1);
	CHECK_EQ(errno, ENOSYS);
}

static void others_forwarded(void)
{
	CHECK_EQ(syscall(SYS_getpid), getpid());
	void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED && p != NULL);
	if (p != MAP_FAILED && p != NULL) {
		memset(p, 0xa5, 4096); /* the six arguments all arrived */
		CHECK_EQ(munmap(p, 4096), 0);
	}
	errno = 0;
	CHECK_EQ(syscall(SYS_close, 987654), -1);
	CHECK_EQ(errno, EBADF);
	int pfd[2];
	CHECK_EQ(pipe(pfd), 0);
	CHECK_EQ(syscall(SYS_write, pfd[1], "abc", 3), 3);
	char b[3];
	CHECK_EQ(read(pfd[0], b, 3), 3);
	CHECK_MEM(b, "abc", 3);
	close(pfd[0]);
	close(pfd[1]);
}

static void close_through_syscall(void)
{
	struct server sv = {0};
	pthread_t t = shimtest_thread(server_main, &sv);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_write_all(fd, "bye", 3));
	CHECK_EQ(syscall(SYS_close, fd), 0);
	pthread_join(t, NULL);
	CHECK_EQ(sv.got, 3);
	CHECK_EQ(sv.last, 0); /* close_notify, not a bare FIN */

	int f = open("/dev/null", O_WRONLY);
	CHECK_EQ(f, fd);
	CHECK_EQ(write(f, "plain", 5), 5); /* a plain file, not the old connection */
	close(f);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	io_uring_refused();
	others_forwarded();
	close_through_syscall();
	return check_exit("shim/iouring");
}
