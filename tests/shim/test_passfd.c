/*
 * test_passfd: a TLS socket never leaves the process in SCM_RIGHTS
 * (README "Passing a TLS socket"), whichever call carries the message:
 * sendmsg, sendmmsg (where the messages before the offending one still go
 * and the call returns their count, as the kernel reports an error on a
 * later message), and both through the syscall() function. A plain
 * descriptor still passes; the receiver never gets the TLS one.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

static void *server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(0);
	char buf[64];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		if (!shimtest_write_all(fd, buf, (size_t)r))
			break;
	close(fd);
	return NULL;
}

/* One message carrying ${payload} and, when ${pass} >= 0, that fd. */
struct msg {
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
};

static void msg_init(struct msg *m, struct msghdr *h, const char *payload, int pass)
{
	memset(m, 0, sizeof *m);
	memset(h, 0, sizeof *h);
	m->iov.iov_base = (void *)payload;
	m->iov.iov_len = strlen(payload);
	h->msg_iov = &m->iov;
	h->msg_iovlen = 1;
	if (pass < 0)
		return;
	h->msg_control = m->ctl.buf;
	h->msg_controllen = sizeof m->ctl.buf;
	struct cmsghdr *c = CMSG_FIRSTHDR(h);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pass, sizeof pass);
}

/* Everything waiting on ${fd}: the bytes, and how many descriptors came. */
static size_t drain(int fd, char *out, size_t cap, int *fds_received)
{
	size_t got = 0;
	*fds_received = 0;
	for (;;) {
		struct msg m;
		struct msghdr h;
		msg_init(&m, &h, "", -1);
		m.iov.iov_base = out + got;
		m.iov.iov_len = cap - got - 1;
		h.msg_control = m.ctl.buf;
		h.msg_controllen = sizeof m.ctl.buf;
		ssize_t r = recvmsg(fd, &h, MSG_DONTWAIT);
		if (r <= 0)
			break;
		got += (size_t)r;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				int in;
				memcpy(&in, CMSG_DATA(c), sizeof in);
				close(in);
				(*fds_received)++;
			}
	}
	out[got] = 0;
	return got;
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	pthread_t t = shimtest_thread(server, NULL);
	int err;
	int tls = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	int plain = open("/dev/null", O_RDONLY);
	CHECK(plain >= 0);
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);

	struct msg m[3];
	struct mmsghdr v[3];
	memset(v, 0, sizeof v);

	/* sendmsg, and sendmsg through syscall(). */
	msg_init(&m[0], &v[0].msg_hdr, "A", tls);
	errno = 0;
	CHECK_EQ(sendmsg(sv[0], &v[0].msg_hdr, 0), -1);
	CHECK_EQ(errno, EPERM);
	errno = 0;
	CHECK_EQ(syscall(SYS_sendmsg, sv[0], &v[0].msg_hdr, 0), -1);
	CHECK_EQ(errno, EPERM);

	/* sendmmsg: the first message (a plain fd) goes, the second (the TLS
	 * socket) stops the call; a retry from there is refused. */
	msg_init(&m[0], &v[0].msg_hdr, "B", plain);
	msg_init(&m[1], &v[1].msg_hdr, "C", tls);
	msg_init(&m[2], &v[2].msg_hdr, "D", -1);
	CHECK_EQ(sendmmsg(sv[0], v, 3, 0), 1);
	errno = 0;
	CHECK_EQ(sendmmsg(sv[0], v + 1, 2, 0), -1);
	CHECK_EQ(errno, EPERM);
	errno = 0;
	CHECK_EQ(syscall(SYS_sendmmsg, sv[0], v + 1, 2, 0), -1);
	CHECK_EQ(errno, EPERM);
	/* the same through syscall(): the plain one goes, then the refusal */
	CHECK_EQ(syscall(SYS_sendmmsg, sv[0], v, 2, 0), 1);
	/* a message without the TLS socket still goes */
	CHECK_EQ(sendmmsg(sv[0], v + 2, 1, 0), 1);

	char got[64];
	int nfds = -1;
	drain(sv[1], got, sizeof got, &nfds);
	CHECK(strcmp(got, "BBD") == 0);
	CHECK_EQ(nfds, 2); /* the two plain descriptors, never the TLS one */

	/* The TLS connection itself is untouched by all this. */
	CHECK(shimtest_write_all(tls, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)));
	char echo[64];
	CHECK_EQ(shimtest_read_full(tls, echo, strlen(SHIMTEST_MARKER), NULL),
		 strlen(SHIMTEST_MARKER));
	CHECK_MEM(echo, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER));
	close(tls);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	close(plain);
	return check_exit("shim/passfd");
}
