/*
 * hook_syscall.c: libc's syscall() function (DESIGN.md "Bypasses").
 *
 * io_uring_setup fails with ENOSYS while a policy is active: a ring makes
 * the kernel itself read and write the descriptors it is given, so a TLS
 * socket in a ring would carry plaintext. Programs (liburing's users) take
 * ENOSYS as "no io_uring here" and fall back to epoll. close and
 * close_range through syscall() end TLS connections as the libc calls do.
 * Every other number goes to the real syscall() with all six arguments
 * unchanged.
 *
 * Only calls through this function can be seen: a program that issues the
 * system call instruction itself (liburing built without libc, Go, static
 * programs) cannot be interposed by a preload library.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "rules.h"

SHIM_EXPORT long syscall(long n, ...)
{
	/* As glibc's own syscall() does: six register-sized arguments,
	 * whether or not the caller passed them all. */
	va_list ap;
	va_start(ap, n);
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (n) {
#ifdef SYS_io_uring_setup
	case SYS_io_uring_setup:
		if (shim_rules_active()) {
			errno = ENOSYS;
			return -1;
		}
		break;
#endif
	case SYS_close:
		shim_fd_release((int)a[0]);
		break;
#ifdef SYS_close_range
	case SYS_close_range:
		return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]); /* hook_fdnew.c */
#endif
	}
	return REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
