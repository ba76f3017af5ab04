/*
 * hook_io.c: the data calls. On a TLS descriptor every buffer goes through
 * the record layer (pump.c); everything else is the real call, untouched.
 */
#undef _FORTIFY_SOURCE /* we define read() and recv() themselves, not their inline checkers */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "hooks.h"
#include "log.h"
#include "rules.h"

/* Flags we honour on TLS sockets; MSG_OOB has no meaning inside TLS. */
#define RECV_FLAGS (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL)
#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)

static ssize_t tls_recv(sconn *s, int fd, void *buf, size_t n, int flags)
{
	if (flags & MSG_OOB) {
		errno = EINVAL;
		return -1;
	}
	return pump_recv(s, fd, buf, n, flags & RECV_FLAGS);
}

static ssize_t tls_send(sconn *s, int fd, const void *buf, size_t n, int flags)
{
	if (flags & MSG_OOB) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return pump_send(s, fd, buf, n, flags & SEND_FLAGS);
}

/* The trampoline every data hook shares: not ours -> the real call. */
#define TLS_OR_REAL(fd, real_call, tls_call)   \
	do {                                   \
		sconn *s_ = fdtab_acquire(fd); \
		if (!s_)                       \
			return real_call;      \
		ssize_t r_ = tls_call;         \
		shim_unref(s_);                \
		return r_;                     \
	} while (0)

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	TLS_OR_REAL(fd, REAL(read)(fd, buf, n), tls_recv(s_, fd, buf, n, 0));
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	TLS_OR_REAL(fd, REAL(write)(fd, buf, n), tls_send(s_, fd, buf, n, 0));
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	TLS_OR_REAL(fd, REAL(recv)(fd, buf, n, flags), tls_recv(s_, fd, buf, n, flags));
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	TLS_OR_REAL(fd, REAL(send)(fd, buf, n, flags), tls_send(s_, fd, buf, n, flags));
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from,
			     socklen_t *fromlen)
{
	/* TCP reports no source address; neither do we. */
	TLS_OR_REAL(fd, REAL(recvfrom)(fd, buf, n, flags, from, fromlen),
		    tls_recv(s_, fd, buf, n, flags));
}

/* TCP Fast Open (MSG_FASTOPEN) connects and sends in one call, which would
 * put the first bytes in the SYN in clear: on a port a client rule names,
 * it becomes connect() (our hook, which runs the handshake) and then an
 * ordinary send. Returns 1 when handled (result in *ret), 0 otherwise. */
static int fastopen(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
		    socklen_t tolen, ssize_t *ret)
{
	if (!(flags & MSG_FASTOPEN) || !to || fdtab_get(fd) ||
	    (to->sa_family != AF_INET && to->sa_family != AF_INET6) ||
	    !shim_match_client(to, tolen))
		return 0;
	if (connect(fd, to, tolen) < 0) {
		*ret = -1;
		return 1;
	}
	*ret = send(fd, buf, n, flags & ~MSG_FASTOPEN);
	return 1;
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
			   socklen_t tolen)
{
	ssize_t fo;
	if (fastopen(fd, buf, n, flags, to, tolen, &fo))
		return fo;
	/* A connected TCP socket ignores the address; so do we. */
	TLS_OR_REAL(fd, REAL(sendto)(fd, buf, n, flags, to, tolen),
		    tls_send(s_, fd, buf, n, flags));
}

/* Scatter: fill the first buffer as a read would, then the others only from
 * what is already waiting, so readv blocks no more than read. */
static ssize_t tls_readv(sconn *s, int fd, const struct iovec *iov, int cnt, int flags)
{
	size_t total = 0;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		ssize_t r = tls_recv(s, fd, iov[i].iov_base, iov[i].iov_len,
				     total ? flags | MSG_DONTWAIT : flags);
		if (r < 0)
			return total ? (ssize_t)total : -1;
		total += (size_t)r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return (ssize_t)total;
}

/* Gather: one contiguous copy so small pieces (headers, then a body) share
 * a record instead of each paying a record's overhead. */
static ssize_t tls_writev(sconn *s, int fd, const struct iovec *iov, int cnt, int flags)
{
	if (cnt < 0) {
		errno = EINVAL;
		return -1;
	}
	size_t total = 0;
	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	if (cnt == 1 || total == 0)
		return tls_send(s, fd, cnt ? iov[0].iov_base : NULL, total, flags);
	if (total > 256 * 1024)
		total = 256 * 1024; /* a short write, as a socket may give */
	uint8_t small[2048];
	uint8_t *buf = total <= sizeof small ? small : malloc(total);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	size_t off = 0;
	for (int i = 0; i < cnt && off < total; i++) {
		size_t k = iov[i].iov_len < total - off ? iov[i].iov_len : total - off;
		memcpy(buf + off, iov[i].iov_base, k);
		off += k;
	}
	ssize_t r = tls_send(s, fd, buf, total, flags);
	if (buf != small) {
		int saved = errno;
		free(buf);
		errno = saved;
	}
	return r;
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	TLS_OR_REAL(fd, REAL(readv)(fd, iov, cnt), tls_readv(s_, fd, iov, cnt, 0));
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	TLS_OR_REAL(fd, REAL(writev)(fd, iov, cnt), tls_writev(s_, fd, iov, cnt, 0));
}

/* preadv2/pwritev2 at offset -1 read and write at the current position,
 * which on a socket is readv/writev (RWF_NOWAIT: MSG_DONTWAIT, the other
 * flags mean nothing to a socket); any other offset is ESPIPE there, and
 * an unknown flag EOPNOTSUPP, as the kernel answers. */
#define RWF_KNOWN (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | RWF_NOAPPEND)

static int rwf_to_msg(off_t off, int rwf)
{
	if (rwf & ~RWF_KNOWN) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (off != -1) {
		errno = ESPIPE;
		return -1;
	}
	return rwf & RWF_NOWAIT ? MSG_DONTWAIT : 0;
}

SHIM_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int rwf)
{
	sconn *s = fdtab_acquire(fd);
	if (!s)
		return REAL(preadv2)(fd, iov, cnt, off, rwf);
	int flags = rwf_to_msg(off, rwf);
	ssize_t r = flags < 0 ? -1 : tls_readv(s, fd, iov, cnt, flags);
	shim_unref(s);
	return r;
}

SHIM_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int rwf)
{
	sconn *s = fdtab_acquire(fd);
	if (!s)
		return REAL(pwritev2)(fd, iov, cnt, off, rwf);
	int flags = rwf_to_msg(off, rwf);
	ssize_t r = flags < 0 ? -1 : tls_writev(s, fd, iov, cnt, flags);
	shim_unref(s);
	return r;
}

/* _FILE_OFFSET_BITS=64 names; off_t is 64 bits already on LP64. */
#if __SIZEOF_LONG__ == 8
SHIM_EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int rwf)
	__attribute__((alias("preadv2")));
SHIM_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int rwf)
	__attribute__((alias("pwritev2")));
#endif

static ssize_t tls_recvmsg(sconn *s, int fd, struct msghdr *msg, int flags)
{
	ssize_t r = tls_readv(s, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
	if (r >= 0) {
		msg->msg_controllen = 0; /* no ancillary data crosses TLS */
		msg->msg_flags = 0;
		msg->msg_namelen = 0;
	}
	return r;
}

/* Descriptors passed in SCM_RIGHTS must not be TLS sockets: the receiving
 * process would read and write ciphertext as if it were the stream
 * (DESIGN.md: refused with EPERM rather than silently leaking). */
static bool passes_tls_socket(const struct msghdr *msg)
{
	if (!msg || msg->msg_controllen == 0)
		return false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const int *fds = (const int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, fds + i, sizeof fd);
			if (fdtab_get(fd)) {
				shim_log(SHIM_LOG_WARN,
					 "passing TLS connection fd %d over SCM_RIGHTS refused "
					 "(EPERM): "
					 "the receiving process would not have its keys",
					 fd);
				return true;
			}
		}
	}
	return false;
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	TLS_OR_REAL(fd, REAL(recvmsg)(fd, msg, flags), tls_recvmsg(s_, fd, msg, flags));
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (passes_tls_socket(msg)) {
		errno = EPERM;
		return -1;
	}
	if ((flags & MSG_FASTOPEN) && msg && msg->msg_name && !fdtab_get(fd) &&
	    shim_match_client(msg->msg_name, msg->msg_namelen)) {
		if (connect(fd, msg->msg_name, msg->msg_namelen) < 0)
			return -1;
		struct msghdr m = *msg;
		m.msg_name = NULL;
		m.msg_namelen = 0;
		return sendmsg(fd, &m, flags & ~MSG_FASTOPEN);
	}
	TLS_OR_REAL(fd, REAL(sendmsg)(fd, msg, flags),
		    tls_writev(s_, fd, msg->msg_iov, (int)msg->msg_iovlen, flags));
}

/* _FORTIFY_SOURCE entry points (glibc calls these from inline wrappers). */
SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
				   struct sockaddr *from, socklen_t *fromlen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, from, fromlen);
}

/* sendmmsg/recvmmsg: on a TLS socket, one message after another through
 * sendmsg/recvmsg (TCP has no message boundaries to keep); stops at the
 * first message that does not go through whole, as the kernel does.
 * On any socket a message passing a TLS socket in SCM_RIGHTS is refused as
 * sendmsg refuses it: the messages before it go, and the call returns
 * their count (-1 with EPERM when it is the first), as the kernel reports
 * an error on message i > 0. */
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	if (!fdtab_get(fd)) {
		/* the kernel sends at most UIO_MAXIOV of them */
		unsigned int lim = n < UIO_MAXIOV ? n : UIO_MAXIOV, ok = 0;
		while (ok < lim && v && !passes_tls_socket(&v[ok].msg_hdr))
			ok++;
		if (ok < lim && v) {
			if (ok == 0) {
				errno = EPERM;
				return -1;
			}
			n = ok;
		}
		return REAL(sendmmsg)(fd, v, n, flags);
	}
	unsigned int i = 0;
	for (; i < n; i++) {
		ssize_t r = sendmsg(fd, &v[i].msg_hdr, flags);
		if (r < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
	}
	return (int)i;
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
			 struct timespec *timeout)
{
	if (!fdtab_get(fd))
		return REAL(recvmmsg)(fd, v, n, flags, timeout);
	unsigned int i = 0;
	for (; i < n; i++) {
		/* after the first message, only what is already waiting */
		ssize_t r = recvmsg(fd, &v[i].msg_hdr, i > 0 ? flags | MSG_DONTWAIT : flags);
		if (r < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
		if (r == 0 || (flags & MSG_WAITFORONE))
			return (int)i + 1;
	}
	return (int)i;
}
