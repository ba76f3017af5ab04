/*
 * hook_fd.c: descriptor aliases (dup, dup2, dup3, fcntl F_DUPFD*) and the
 * ioctls a socket program asks of a TLS descriptor (FIONREAD).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "fork.h"
#include "hooks.h"
#include "ownfd.h"

/* ${newfd} became a copy of ${oldfd}: give it the same connection. */
static int alias(int oldfd, int newfd)
{
	if (newfd < 0)
		return newfd;
	shim_fd_forget(newfd);
	sconn *s = fdtab_acquire(oldfd);
	if (!s)
		return newfd;
	/* A vfork child: a copy in its own view, the table is the parent's */
	int r = shim_fork_foreign() ? shim_fd_child_alias(oldfd, newfd) : shim_fd_attach(newfd, s);
	shim_unref(s);
	if (r < 0) {
		REAL(close)(newfd); /* fail closed: no untracked copy of a TLS socket */
		return -1;
	}
	return newfd;
}

SHIM_EXPORT int dup(int fd)
{
	if (shim_ownfd_refused(fd) < 0)
		return -1;
	return alias(fd, REAL(dup)(fd));
}

/* dup2/dup3 over 0, 1 or 2 switch the standard stream (hook_stdio.c):
 * flush it first, and give back the original once the number is plain. */
static int std_settled(int fd)
{
	if (fd >= 0 && fd <= 2)
		shim_stdio_settle(fd);
	return fd;
}

/* Before dup2/dup3 from ${oldfd} onto ${newfd}: tlshim's own descriptors
 * (ownfd.h) cannot be copied (EBADF), and make way when they are the
 * target: 1 then (the caller closes our old number should the call fail),
 * 0 when neither is ours, -1 with errno when refused. A vfork child may
 * not move ours (the record is the parent's memory): EBUSY, as Linux
 * answers a dup2 onto a number being set up. */
static int own_make_way(int oldfd, int newfd)
{
	if (shim_ownfd_refused(oldfd) < 0)
		return -1;
	if (!shim_ownfd_is(newfd))
		return 0;
	if (shim_fork_foreign()) {
		errno = EBUSY;
		return -1;
	}
	shim_ownfd_move(newfd);
	return 1;
}

static int own_settled(int way, int newfd, int r)
{
	if (way > 0 && r < 0) {
		int e = errno;
		REAL(close)(newfd); /* our old copy, moved away already */
		errno = e;
	}
	return r;
}

static int dup2_tls(int oldfd, int newfd)
{
	if (oldfd == newfd || (!fdtab_get(oldfd) && !fdtab_get(newfd)))
		return std_settled(REAL(dup2)(oldfd, newfd));
	shim_stdio_prepare(newfd);
	/* dup2 closes newfd first: that is a close of ours if newfd is TLS. */
	shim_fd_release(newfd);
	return std_settled(alias(oldfd, REAL(dup2)(oldfd, newfd)));
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	int way = own_make_way(oldfd, newfd);
	if (way < 0)
		return -1;
	return own_settled(way, newfd, dup2_tls(oldfd, newfd));
}

static int dup3_tls(int oldfd, int newfd, int flags)
{
	if (!fdtab_get(oldfd) && !fdtab_get(newfd))
		return std_settled(REAL(dup3)(oldfd, newfd, flags));
	if (oldfd != newfd) {
		shim_stdio_prepare(newfd);
		shim_fd_release(newfd);
	}
	return std_settled(alias(oldfd, REAL(dup3)(oldfd, newfd, flags)));
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int way = oldfd == newfd ? 0 : own_make_way(oldfd, newfd);
	if (way < 0)
		return -1;
	return own_settled(way, newfd, dup3_tls(oldfd, newfd, flags));
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	/* Every fcntl argument is an int, a long or a pointer; passing it on
	 * as a pointer-sized value is what libc's own wrappers do. */
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (shim_ownfd_refused(fd) < 0)
		return -1;
	int r = REAL(fcntl)(fd, cmd, arg);
	if (r < 0)
		return r;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) /* a new number, as from dup */
		return alias(fd, r);
	if (!fdtab_get(fd))
		return r;
	if (cmd == F_SETFL) {
		sconn *s = fdtab_acquire(fd);
		if (s) {
			pump_set_nonblocking(s, ((long)arg & O_NONBLOCK) != 0);
			shim_unref(s);
		}
	}
	return r;
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

SHIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FIONREAD && arg) {
		sconn *s = fdtab_acquire(fd);
		if (s && !sconn_plaintext(s)) {
			/* Decrypted bytes waiting, after taking in what the
			 * socket holds (INTERFACE.md: ioctl(FIONREAD)). */
			pump_progress(s, fd);
			*(int *)arg = sconn_ready(s) ? (int)tls_conn_readable(s->tls) : 0;
			shim_unref(s);
			return 0;
		}
		if (s)
			shim_unref(s);
	}
	int r = REAL(ioctl)(fd, req, arg);
	if (r == 0 && req == FIONBIO && arg && fdtab_get(fd)) {
		sconn *s = fdtab_acquire(fd);
		if (s) {
			pump_set_nonblocking(s, *(int *)arg != 0);
			shim_unref(s);
		}
	}
	return r;
}
