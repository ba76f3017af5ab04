/*
 * test_syscall: the C library's syscall() function is not a way around the
 * record layer (DESIGN.md "Bypasses"). A wrapped client that makes every
 * call through syscall(SYS_...) talks through a recording relay to a
 * wrapped server that accepts with syscall(SYS_accept4):
 * - socket + connect run the handshake (a client rule's port);
 * - write, sendto, writev, sendmsg, sendmmsg, pwritev2 (offset -1),
 *   sendfile, splice and copy_file_range, and writes through descriptors
 *   made by dup, dup3 and fcntl(F_DUPFD_CLOEXEC), all arrive decrypted and
 *   in order at the server;
 * - read, recvfrom, readv, recvmsg, recvmmsg and preadv2 return the
 *   server's plaintext; so do the libc functions preadv2 and pwritev2;
 * - poll, epoll and ioctl(FIONREAD) see the decrypted bytes tlshim holds;
 * - pread64, pwrite64, tee and vmsplice get a socket's errors, io_submit
 *   naming the TLS descriptor gets EPERM;
 * - shutdown(SHUT_WR) sends close_notify (the server reads a clean end);
 * and the wire carries only well-formed TLS records, never the marker.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n"
			     "[in]\n"
			     "role = server\n"
			     "port = @P1@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n";

#define M SHIMTEST_MARKER
/* What the client sends, one piece per call. */
#define C_WRITE    "write:" M ";"
#define C_SENDTO   "sendto:" M ";"
#define C_WRITEV1  "writev:" M
#define C_WRITEV2  ";"
#define C_SENDMSG  "sendmsg:" M ";"
#define C_MMSG1    "sendmmsg1:" M ";"
#define C_MMSG2    "sendmmsg2:" M ";"
#define C_PWRITEV2 "pwritev2:" M ";"
#define C_LPWRITEV "libc-pwritev2:" M ";"
#define C_SENDFILE "sendfile:" M ";"
#define C_SPLICE   "splice:" M ";"
#define C_COPY     "copy_file_range:" M ";"
#define C_DUP      "dup:" M ";"
#define C_DUP3     "dup3:" M ";"
#define C_DUPFD    "dupfd:" M ";"
#define C_ALL                                                                                \
	C_WRITE C_SENDTO C_WRITEV1 C_WRITEV2 C_SENDMSG C_MMSG1 C_MMSG2 C_PWRITEV2 C_LPWRITEV \
		C_SENDFILE C_SPLICE C_COPY C_DUP C_DUP3 C_DUPFD

/* What the server answers: seven pieces of ten bytes, then "XYZ". */
#define REPLY "R-read----R-recvfromR-readv---R-recvmsg-R-recvmmsgR-preadv2-R-libcprv2"
#define PIECE 10
#define LAST  "XYZ"

struct srv {
	char got[sizeof C_ALL + 64];
	size_t n;
	ssize_t final_read;
};

static void *server(void *arg)
{
	struct srv *s = arg;
	int fd = (int)syscall(SYS_accept4, shimtest_listener(1), NULL, NULL, 0);
	CHECK(fd >= 0);
	if (fd < 0)
		return NULL;
	s->n = shimtest_read_full(fd, s->got, strlen(C_ALL), NULL);
	CHECK(shimtest_write_all(fd, REPLY, strlen(REPLY)));
	CHECK(shimtest_write_all(fd, LAST, strlen(LAST)));
	char c;
	s->final_read = read(fd, &c, 1);
	close(fd);
	return NULL;
}

static void send_all(int fd)
{
	CHECK_EQ(syscall(SYS_write, fd, C_WRITE, strlen(C_WRITE)), (long)strlen(C_WRITE));
	CHECK_EQ(syscall(SYS_sendto, fd, C_SENDTO, strlen(C_SENDTO), MSG_NOSIGNAL, NULL, 0),
		 (long)strlen(C_SENDTO));
	struct iovec v[2] = {{(void *)C_WRITEV1, strlen(C_WRITEV1)},
			     {(void *)C_WRITEV2, strlen(C_WRITEV2)}};
	CHECK_EQ(syscall(SYS_writev, fd, v, 2), (long)strlen(C_WRITEV1 C_WRITEV2));
	struct iovec im = {(void *)C_SENDMSG, strlen(C_SENDMSG)};
	struct msghdr h = {.msg_iov = &im, .msg_iovlen = 1};
	CHECK_EQ(syscall(SYS_sendmsg, fd, &h, 0), (long)strlen(C_SENDMSG));
	struct iovec i1 = {(void *)C_MMSG1, strlen(C_MMSG1)},
		     i2 = {(void *)C_MMSG2, strlen(C_MMSG2)};
	struct mmsghdr mm[2] = {{.msg_hdr = {.msg_iov = &i1, .msg_iovlen = 1}},
				{.msg_hdr = {.msg_iov = &i2, .msg_iovlen = 1}}};
	CHECK_EQ(syscall(SYS_sendmmsg, fd, mm, 2, 0), 2);
	struct iovec ip = {(void *)C_PWRITEV2, strlen(C_PWRITEV2)};
	CHECK_EQ(syscall(SYS_pwritev2, fd, &ip, 1, -1L, 0L, 0), (long)strlen(C_PWRITEV2));
	/* the libc functions behind these numbers were a way around too */
	struct iovec il = {(void *)C_LPWRITEV, strlen(C_LPWRITEV)};
	CHECK_EQ(pwritev2(fd, &il, 1, -1, 0), (ssize_t)strlen(C_LPWRITEV));
	errno = 0;
	CHECK_EQ(pwritev2(fd, &il, 1, 0, 0), -1);
	CHECK_EQ(errno, ESPIPE);

	int mf = memfd_create("syscall-test", 0);
	CHECK(mf >= 0);
	CHECK_EQ(write(mf, C_SENDFILE C_COPY, strlen(C_SENDFILE C_COPY)),
		 (ssize_t)strlen(C_SENDFILE C_COPY));
	off_t off = 0;
	CHECK_EQ(syscall(SYS_sendfile, fd, mf, &off, strlen(C_SENDFILE)), (long)strlen(C_SENDFILE));
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], C_SPLICE, strlen(C_SPLICE)), (ssize_t)strlen(C_SPLICE));
	CHECK_EQ(syscall(SYS_splice, p[0], NULL, fd, NULL, strlen(C_SPLICE), 0),
		 (long)strlen(C_SPLICE));
	loff_t coff = (loff_t)strlen(C_SENDFILE);
	CHECK_EQ(syscall(SYS_copy_file_range, mf, &coff, fd, NULL, strlen(C_COPY), 0),
		 (long)strlen(C_COPY));

	int d = (int)syscall(SYS_dup, fd);
	CHECK(d >= 0);
	CHECK_EQ(syscall(SYS_write, d, C_DUP, strlen(C_DUP)), (long)strlen(C_DUP));
	CHECK_EQ(syscall(SYS_close, d), 0);
	CHECK_EQ(syscall(SYS_dup3, fd, 200, O_CLOEXEC), 200);
	CHECK_EQ(syscall(SYS_write, 200, C_DUP3, strlen(C_DUP3)), (long)strlen(C_DUP3));
	CHECK_EQ(syscall(SYS_close, 200), 0);
	int f = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 100);
	CHECK(f >= 100);
	CHECK_EQ(syscall(SYS_write, f, C_DUPFD, strlen(C_DUPFD)), (long)strlen(C_DUPFD));
	CHECK_EQ(syscall(SYS_close, f), 0);

	/* Numbers a socket refuses anyway, and the kernel's own I/O. */
	char buf[8];
	errno = 0;
	CHECK_EQ(syscall(SYS_pwrite64, fd, M, strlen(M), 0L), -1);
	CHECK_EQ(errno, ESPIPE);
	errno = 0;
	CHECK_EQ(syscall(SYS_pread64, fd, buf, sizeof buf, 0L), -1);
	CHECK_EQ(errno, ESPIPE);
	errno = 0;
	CHECK_EQ(syscall(SYS_tee, fd, p[1], 8, 0), -1);
	CHECK_EQ(errno, EINVAL);
	struct iovec iv = {(void *)M, strlen(M)};
	errno = 0;
	CHECK_EQ(syscall(SYS_vmsplice, fd, &iv, 1, 0), -1);
	CHECK_EQ(errno, EBADF);
	aio_context_t ctx = 0;
	CHECK_EQ(syscall(SYS_io_setup, 4, &ctx), 0);
	struct iocb cb = {.aio_fildes = (uint32_t)fd,
			  .aio_lio_opcode = IOCB_CMD_PWRITE,
			  .aio_buf = (uint64_t)(uintptr_t)M,
			  .aio_nbytes = strlen(M)};
	struct iocb *cbs[1] = {&cb};
	errno = 0;
	CHECK_EQ(syscall(SYS_io_submit, ctx, 1, cbs), -1);
	CHECK_EQ(errno, EPERM);
	syscall(SYS_io_destroy, ctx);
	close(p[0]);
	close(p[1]);
	close(mf);
}

/* Read exactly PIECE bytes of the reply with one kind of call. */
enum how { BY_READ, BY_RECVFROM, BY_READV, BY_RECVMSG, BY_RECVMMSG, BY_PREADV2, BY_LIBC_PREADV2 };

static long read_once(int fd, enum how how, char *buf, size_t n)
{
	struct iovec v = {buf, n};
	struct msghdr h = {.msg_iov = &v, .msg_iovlen = 1};
	struct mmsghdr mm = {.msg_hdr = h};
	long r;
	switch (how) {
	case BY_READ:
		return syscall(SYS_read, fd, buf, n);
	case BY_RECVFROM:
		return syscall(SYS_recvfrom, fd, buf, n, 0, NULL, NULL);
	case BY_READV:
		return syscall(SYS_readv, fd, &v, 1);
	case BY_RECVMSG:
		return syscall(SYS_recvmsg, fd, &h, 0);
	case BY_RECVMMSG:
		r = syscall(SYS_recvmmsg, fd, &mm, 1, 0, NULL);
		return r == 1 ? (long)mm.msg_len : -1;
	case BY_PREADV2:
		return syscall(SYS_preadv2, fd, &v, 1, -1L, 0L, 0);
	case BY_LIBC_PREADV2:
		return preadv2(fd, &v, 1, -1, 0);
	}
	return -1;
}

static void read_all(int fd)
{
	for (int how = BY_READ; how <= BY_LIBC_PREADV2; how++) {
		char buf[PIECE];
		size_t got = 0;
		while (got < PIECE) {
			long r = read_once(fd, (enum how)how, buf + got, PIECE - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		CHECK_EQ(got, PIECE);
		CHECK_MEM(buf, &REPLY[how * PIECE], PIECE);
	}
	/* "XYZ": readiness and FIONREAD see what tlshim decrypted. */
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	CHECK_EQ(syscall(SYS_poll, &pfd, 1, 5000), 1);
	CHECK(pfd.revents & POLLIN);
	int ep = (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC);
	CHECK(ep >= 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	CHECK_EQ(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, &ev), 0);
	struct epoll_event out;
	CHECK_EQ(syscall(SYS_epoll_wait, ep, &out, 1, 5000), 1);
	CHECK_EQ(syscall(SYS_close, ep), 0);
	int avail = -1;
	CHECK_EQ(syscall(SYS_ioctl, fd, FIONREAD, &avail), 0);
	CHECK_EQ(avail, (int)strlen(LAST));
	char last[8] = "";
	CHECK_EQ(syscall(SYS_read, fd, last, sizeof last), (long)strlen(LAST));
	CHECK_MEM(last, LAST, strlen(LAST));
	int soerr = -1;
	socklen_t sl = sizeof soerr;
	CHECK_EQ(syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &soerr, &sl), 0);
	CHECK_EQ(soerr, 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 2, policy);
	shimtest_relay r;
	shimtest_relay_start(&r, shimtest_listener(0), shimtest_port(1), -1, false);
	struct srv s = {.n = 0};
	pthread_t t = shimtest_thread(server, &s);

	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(shimtest_port(0)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	CHECK_EQ(syscall(SYS_connect, fd, &sa, sizeof sa), 0);
	send_all(fd);
	read_all(fd);
	CHECK_EQ(syscall(SYS_shutdown, fd, SHUT_WR), 0);
	pthread_join(t, NULL);
	CHECK_EQ(syscall(SYS_close, fd), 0);
	shimtest_relay_join(&r);

	CHECK_EQ(s.n, strlen(C_ALL));
	CHECK_MEM(s.got, C_ALL, strlen(C_ALL));
	CHECK_EQ(s.final_read, 0); /* close_notify: a clean end */
	for (int d = 0; d < 2; d++) {
		const shimtest_buf *b = &r.wire[d];
		uint8_t types[256];
		size_t tail = 1;
		int n = shimtest_records(b, types, 256, &tail);
		CHECK(n >= 2);
		CHECK_EQ(tail, 0);
		CHECK(!shimtest_contains(b, M));
		CHECK(!shimtest_contains(b, "R-recvmsg"));
		if (n >= 2 && n <= 256 && d == SHIMTEST_C2S)
			CHECK_EQ(types[n - 1], 21); /* ends with close_notify */
	}
	shimtest_buf_free(&r.wire[0]);
	shimtest_buf_free(&r.wire[1]);
	return check_exit("shim/syscall");
}
