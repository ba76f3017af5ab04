/*
 * hook_fdnew.c: calls that make descriptors, and the bulk closes
 * (DESIGN.md "Descriptors").
 *
 * A number the kernel hands out anew cannot name a TLS connection: if one
 * is still registered there, its descriptor was closed behind our back (a
 * raw close syscall, a library's internal close) and the entry is stale.
 * Every call here that returns a new descriptor drops such an entry
 * (shim_fd_forget: one table lookup when there is none), so a file, pipe or
 * plain socket that reuses the number is never treated as TLS.
 *
 * close_range, closefrom and fclose end the TLS connections they close as
 * close() does: after queued data, close_notify from the process that owns
 * it (fork.h), then the real call. close_range and closefrom step over
 * tlshim's own descriptors (ownfd.h).
 */
#undef _FORTIFY_SOURCE /* we define open() itself, not its inline checker */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hooks.h"
#include "ownfd.h"

int shim_fd_fresh(int fd)
{
	if (fd >= 0) {
		shim_fd_forget(fd);
		if (fd <= 2) /* a plain file on 0/1/2: the original stream may return */
			shim_stdio_settle(fd);
	}
	return fd;
}

static int fresh_pair(int r, const int *fds)
{
	if (r == 0) {
		shim_fd_fresh(fds[0]);
		shim_fd_fresh(fds[1]);
	}
	return r;
}

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	return shim_fd_fresh(REAL(socket)(domain, type, protocol));
}

SHIM_EXPORT int socketpair(int domain, int type, int protocol, int fds[2])
{
	return fresh_pair(REAL(socketpair)(domain, type, protocol, fds), fds);
}

SHIM_EXPORT int pipe(int fds[2])
{
	return fresh_pair(REAL(pipe)(fds), fds);
}

SHIM_EXPORT int pipe2(int fds[2], int flags)
{
	return fresh_pair(REAL(pipe2)(fds, flags), fds);
}

/* open's third argument exists only when the flags ask for a mode
 * (O_CREAT, O_TMPFILE); reading it otherwise would read garbage. It is
 * passed on as an int, as the caller's promotion made it. */
#define OPEN_MODE(flags, mode)           \
	int mode = 0;                    \
	if (__OPEN_NEEDS_MODE(flags)) {  \
		va_list ap_;             \
		va_start(ap_, flags);    \
		mode = va_arg(ap_, int); \
		va_end(ap_);             \
	}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	return shim_fd_fresh(REAL(open)(path, flags, mode));
}

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	return shim_fd_fresh(REAL(open64)(path, flags, mode));
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	return shim_fd_fresh(REAL(openat)(dirfd, path, flags, mode));
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_MODE(flags, mode);
	return shim_fd_fresh(REAL(openat64)(dirfd, path, flags, mode));
}

/* _FORTIFY_SOURCE builds call these when the flags are not constant. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

SHIM_EXPORT int __open_2(const char *path, int flags)
{
	return shim_fd_fresh(REAL(__open_2)(path, flags));
}

SHIM_EXPORT int __open64_2(const char *path, int flags)
{
	return shim_fd_fresh(REAL(__open64_2)(path, flags));
}

SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return shim_fd_fresh(REAL(__openat_2)(dirfd, path, flags));
}

SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return shim_fd_fresh(REAL(__openat64_2)(dirfd, path, flags));
}

SHIM_EXPORT int creat(const char *path, mode_t mode)
{
	return shim_fd_fresh(REAL(creat)(path, mode));
}

SHIM_EXPORT int creat64(const char *path, mode_t mode)
{
	return shim_fd_fresh(REAL(creat64)(path, mode));
}

SHIM_EXPORT int eventfd(unsigned int initval, int flags)
{
	return shim_fd_fresh(REAL(eventfd)(initval, flags));
}

SHIM_EXPORT int timerfd_create(int clockid, int flags)
{
	return shim_fd_fresh(REAL(timerfd_create)(clockid, flags));
}

SHIM_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	int r = REAL(signalfd)(fd, mask, flags);
	return fd == -1 ? shim_fd_fresh(r) : r; /* otherwise an existing signalfd changed */
}

SHIM_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	return shim_fd_fresh(REAL(memfd_create)(name, flags));
}

SHIM_EXPORT int inotify_init(void)
{
	return shim_fd_fresh(REAL(inotify_init)());
}

SHIM_EXPORT int inotify_init1(int flags)
{
	return shim_fd_fresh(REAL(inotify_init1)(flags));
}

/* Every registered descriptor in [first, last] is being closed. */
static void release_range(unsigned first, unsigned last)
{
	if (first > INT_MAX)
		return;
	for (int fd = fdtab_next((int)first); fd >= 0 && (unsigned)fd <= last;
	     fd = fdtab_next(fd + 1))
		shim_fd_release(fd);
}

static int real_close_range(unsigned first, unsigned last, int flags)
{
	if (!REAL(close_range))
		return (int)REAL(syscall)(SYS_close_range, first, last, flags);
	return REAL(close_range)(first, last, flags);
}

/* close_range over [first, last] in the pieces between our own
 * descriptors, each with ${flags} (a CLOSE_RANGE_UNSHARE after the first
 * finds the table private already). */
static int close_range_around_own(unsigned first, unsigned last, int flags)
{
	for (;;) {
		int own = first <= INT_MAX ? shim_ownfd_next((int)first) : -1;
		if (own < 0 || (unsigned)own > last)
			return real_close_range(first, last, flags);
		if ((unsigned)own > first && real_close_range(first, (unsigned)own - 1, flags) < 0)
			return -1;
		if ((unsigned)own == last)
			return 0;
		first = (unsigned)own + 1;
	}
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	/* CLOSE_RANGE_CLOEXEC only marks; bad arguments close nothing.
	 * CLOSE_RANGE_UNSHARE closes in a private copy of the table, which is
	 * this thread's from now on: we count it as a close. */
	unsigned known = CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC;
	if (first <= last && !((unsigned)flags & ~known) && !(flags & CLOSE_RANGE_CLOEXEC))
		release_range(first, last);
	if (first > last || shim_ownfd_next(0) < 0)
		return real_close_range(first, last, flags);
	return close_range_around_own(first, last, flags);
}

SHIM_EXPORT void closefrom(int lowfd)
{
	unsigned first = lowfd < 0 ? 0 : (unsigned)lowfd;
	release_range(first, UINT_MAX);
	if (shim_ownfd_next(lowfd) < 0) {
		REAL(closefrom)(lowfd);
		return;
	}
	/* glibc's closefrom is close_range(lowfd, ~0U, 0), with a walk over
	 * /proc/self/fd only where the kernel lacks it. */
	if (close_range_around_own(first, UINT_MAX, 0) < 0 && errno == ENOSYS) {
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = first; fd < max && fd <= INT_MAX; fd++)
			if (!shim_ownfd_is((int)fd))
				REAL(close)((int)fd);
	}
}

/* A stream on a TLS socket (fdopen) holds output the real fclose would
 * write with libc's internal write, in clear: send it through the record
 * layer first (bounded wait on a non-blocking socket) and drop it from
 * the stream. */
static void flush_through_tls(FILE *f, int fd)
{
	if (__fpending(f) == 0 || f->_IO_write_ptr <= f->_IO_write_base)
		return;
	sconn *s = fdtab_acquire(fd);
	if (s) {
		const char *p = f->_IO_write_base;
		size_t left = (size_t)(f->_IO_write_ptr - f->_IO_write_base);
		uint64_t deadline = shim_now_us() + 2000000u;
		while (left > 0) {
			ssize_t w = pump_send(s, fd, p, left, MSG_NOSIGNAL);
			if (w > 0) {
				p += w;
				left -= (size_t)w;
				continue;
			}
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
			    shim_now_us() >= deadline || REAL(poll)(&pfd, 1, 100) < 0)
				break;
		}
		shim_unref(s);
	}
	__fpurge(f);
}

SHIM_EXPORT int fclose(FILE *f)
{
	int saved = errno;
	int fd = f ? fileno(f) : -1; /* -1 for memory and other cookie streams */
	errno = saved;
	/* Our cookie streams (hook_stdio.c) write through the record layer
	 * and close their descriptor themselves. */
	if (fd >= 0 && fdtab_get(fd) && !shim_stdio_owns(f)) {
		flush_through_tls(f, fd);
		shim_fd_release(fd);
		errno = saved;
	}
	return REAL(fclose)(f);
}
