/*
 * hook_syscall.c: libc's syscall() function (DESIGN.md "Bypasses").
 *
 * syscall(SYS_write, tls_fd, ...) must not put plaintext on the wire, so
 * every number that moves bytes, descriptors or processes is routed to the
 * hook that stands in front of the libc function of the same name, with
 * the same semantics and syscall()'s errno convention (-1, errno): data
 * calls, descriptor calls, readiness calls (they must see decrypted data
 * tlshim holds), connect/accept (a rule's port gets TLS), exec (the exec
 * guard), fork and clone (the fork protocol, hook_fork.c). Numbers a socket
 * refuses anyway (pread64, pwrite64, preadv, pwritev, tee, vmsplice) get
 * the kernel's answer for a socket without reaching it. Numbers that
 * create descriptors drop a stale entry at the new number, as the libc
 * hooks do (hook_fdnew.c). io_uring_setup fails with ENOSYS while a policy
 * is active: a ring makes the kernel itself read and write the descriptors
 * it is given (liburing's users take ENOSYS as "no io_uring here" and fall
 * back to epoll); io_submit (Linux AIO) naming a TLS descriptor is refused
 * with EPERM. Every other number goes to the real syscall() with all six
 * arguments unchanged, after one switch.
 *
 * The raw arguments are register-sized longs: an int argument is its low
 * 32 bits (as the kernel reads it), pointers and sizes the whole register.
 *
 * Only calls through this function can be seen: a program that issues the
 * system call instruction itself (liburing built without libc, Go, static
 * programs, libaio's io_submit) cannot be interposed by a preload library.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fork.h"
#include "hooks.h"
#include "log.h"
#include "rules.h"

#define I(k) ((int)a[k])
#define U(k) ((unsigned int)a[k])
#define Z(k) ((size_t)a[k])
#define P(k) ((void *)a[k])

/* The kernel's sigset is 64 bits; ppoll, pselect6 and epoll_pwait* are
 * given its size and refuse any other (EINVAL). */
#define KERNEL_SIGSET_SIZE (_NSIG / 8)

static long fail(int e)
{
	errno = e;
	return -1;
}

/* io_submit's control blocks name their descriptors; a TLS one would have
 * the kernel move plaintext. Only looked at while TLS connections exist. */
static bool aio_names_tls(long nr, struct iocb **v)
{
	if (fdtab_next(0) < 0 || !v)
		return false;
	for (long i = 0; i < nr; i++)
		if (v[i] && fdtab_get((int)v[i]->aio_fildes)) {
			shim_log(SHIM_LOG_WARN,
				 "io_submit on TLS connection fd %d refused (EPERM): the kernel "
				 "would write it without TLS",
				 (int)v[i]->aio_fildes);
			return true;
		}
	return false;
}

/* pselect6's last argument: {const sigset_t *ss; size_t ss_len}. */
struct pselect6_sig {
	const sigset_t *ss;
	size_t len;
};

/* A number that makes descriptors: what the kernel returned, with stale
 * entries at the new numbers dropped. */
static long made(long r, long n, const long *a)
{
	if (r < 0)
		return r;
	switch (n) {
	case SYS_socketpair:
		shim_fd_fresh(((int *)a[3])[0]);
		shim_fd_fresh(((int *)a[3])[1]);
		return r;
#ifdef SYS_pipe
	case SYS_pipe:
#endif
	case SYS_pipe2:
		shim_fd_fresh(((int *)a[0])[0]);
		shim_fd_fresh(((int *)a[0])[1]);
		return r;
	default:
		return shim_fd_fresh((int)r);
	}
}

/* Routes ${n} when it is one of ours: true with the result in ${*ret}. */
static bool route(long n, const long *a, long *ret)
{
	switch (n) {
	/* ---- bytes ---- */
	case SYS_read:
		*ret = read(I(0), P(1), Z(2));
		return true;
	case SYS_write:
		*ret = write(I(0), P(1), Z(2));
		return true;
	case SYS_readv:
		*ret = readv(I(0), P(1), I(2));
		return true;
	case SYS_writev:
		*ret = writev(I(0), P(1), I(2));
		return true;
	case SYS_recvfrom:
		*ret = recvfrom(I(0), P(1), Z(2), I(3), P(4), P(5));
		return true;
	case SYS_sendto:
		*ret = sendto(I(0), P(1), Z(2), I(3), P(4), (socklen_t)a[5]);
		return true;
	case SYS_recvmsg:
		*ret = recvmsg(I(0), P(1), I(2));
		return true;
	case SYS_sendmsg:
		*ret = sendmsg(I(0), P(1), I(2));
		return true;
	case SYS_recvmmsg:
		*ret = recvmmsg(I(0), P(1), U(2), I(3), P(4));
		return true;
	case SYS_sendmmsg:
		*ret = sendmmsg(I(0), P(1), U(2), I(3));
		return true;
	case SYS_sendfile: /* the kernel's takes a 64-bit offset */
		*ret = sendfile64(I(0), I(1), P(2), Z(3));
		return true;
	case SYS_splice:
		*ret = splice(I(0), P(1), I(2), P(3), Z(4), U(5));
		return true;
	case SYS_copy_file_range:
		*ret = copy_file_range(I(0), P(1), I(2), P(3), Z(4), U(5));
		return true;
	case SYS_preadv2:
	case SYS_pwritev2: {
		/* (fd, iov, cnt, pos_l, pos_h, flags): one register holds the
		 * whole offset on 64-bit machines. */
#if __SIZEOF_LONG__ == 8
		off_t pos = (off_t)a[3];
#else
		off_t pos = (off_t)(((uint64_t)(uint32_t)a[4] << 32) | (uint32_t)a[3]);
#endif
		*ret = n == SYS_preadv2 ? preadv2(I(0), P(1), I(2), pos, I(5))
					: pwritev2(I(0), P(1), I(2), pos, I(5));
		return true;
	}
	/* Positioned I/O and pipe-only calls: a socket refuses them. */
	case SYS_pread64:
	case SYS_pwrite64:
	case SYS_preadv:
	case SYS_pwritev:
		if (!fdtab_get(I(0)))
			return false;
		*ret = fail(ESPIPE);
		return true;
	case SYS_tee:
		if (!fdtab_get(I(0)) && !fdtab_get(I(1)))
			return false;
		*ret = fail(EINVAL);
		return true;
	case SYS_vmsplice:
		if (!fdtab_get(I(0)))
			return false;
		*ret = fail(EBADF);
		return true;

	/* ---- descriptors ---- */
	case SYS_close:
		*ret = close(I(0));
		return true;
#ifdef SYS_close_range
	case SYS_close_range:
		*ret = close_range(U(0), U(1), I(2)); /* hook_fdnew.c */
		return true;
#endif
	case SYS_dup:
		*ret = dup(I(0));
		return true;
#ifdef SYS_dup2
	case SYS_dup2:
		*ret = dup2(I(0), I(1));
		return true;
#endif
	case SYS_dup3:
		*ret = dup3(I(0), I(1), I(2));
		return true;
	case SYS_fcntl:
		*ret = fcntl(I(0), I(1), P(2));
		return true;
	case SYS_ioctl:
		*ret = ioctl(I(0), (unsigned long)U(1), P(2));
		return true;
	case SYS_shutdown:
		*ret = shutdown(I(0), I(1));
		return true;
	case SYS_connect:
		*ret = connect(I(0), P(1), (socklen_t)a[2]);
		return true;
	case SYS_accept:
		*ret = accept(I(0), P(1), P(2));
		return true;
	case SYS_accept4:
		*ret = accept4(I(0), P(1), P(2), I(3));
		return true;
	case SYS_getsockopt:
		*ret = getsockopt(I(0), I(1), I(2), P(3), P(4));
		return true;

		/* ---- readiness ---- */
#ifdef SYS_poll
	case SYS_poll:
		*ret = poll(P(0), (nfds_t)a[1], I(2));
		return true;
#endif
	case SYS_ppoll:
		*ret = a[3] && Z(4) != KERNEL_SIGSET_SIZE ? fail(EINVAL)
							  : ppoll(P(0), (nfds_t)a[1], P(2), P(3));
		return true;
#ifdef SYS_select
	case SYS_select:
		*ret = select(I(0), P(1), P(2), P(3), P(4));
		return true;
#endif
	case SYS_pselect6: {
		const struct pselect6_sig *sig = P(5);
		if (sig && sig->ss && sig->len != KERNEL_SIGSET_SIZE)
			*ret = fail(EINVAL);
		else
			*ret = pselect(I(0), P(1), P(2), P(3), P(4), sig ? sig->ss : NULL);
		return true;
	}
#ifdef SYS_epoll_create
	case SYS_epoll_create:
		*ret = epoll_create(I(0));
		return true;
#endif
	case SYS_epoll_create1:
		*ret = epoll_create1(I(0));
		return true;
	case SYS_epoll_ctl:
		*ret = epoll_ctl(I(0), I(1), I(2), P(3));
		return true;
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
		*ret = epoll_wait(I(0), P(1), I(2), I(3));
		return true;
#endif
	case SYS_epoll_pwait:
		*ret = a[4] && Z(5) != KERNEL_SIGSET_SIZE
			       ? fail(EINVAL)
			       : epoll_pwait(I(0), P(1), I(2), I(3), P(4));
		return true;
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
		*ret = a[4] && Z(5) != KERNEL_SIGSET_SIZE
			       ? fail(EINVAL)
			       : epoll_pwait2(I(0), P(1), I(2), P(3), P(4));
		return true;
#endif

	/* ---- processes ---- */
	case SYS_execve:
		*ret = execve(P(0), P(1), P(2));
		return true;
#ifdef SYS_execveat
	case SYS_execveat:
		*ret = execveat(I(0), P(1), P(2), P(3), I(4)); /* hook_exec.c */
		return true;
#endif
#ifdef SYS_fork
	case SYS_fork:
#endif
#ifdef SYS_vfork
	case SYS_vfork:
#endif
#ifdef SYS_clone3
	case SYS_clone3:
#endif
	case SYS_clone:
		*ret = shim_fork_syscall(n, a); /* hook_fork.c */
		return true;

		/* ---- the kernel doing I/O on its own ---- */
#ifdef SYS_io_uring_setup
	case SYS_io_uring_setup:
		if (!shim_rules_active())
			return false;
		*ret = fail(ENOSYS);
		return true;
#endif
	case SYS_io_submit:
		if (!aio_names_tls(a[1], P(2)))
			return false;
		*ret = fail(EPERM);
		return true;

		/* ---- new descriptors ---- */
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_creat
	case SYS_creat:
#endif
#ifdef SYS_eventfd
	case SYS_eventfd:
#endif
#ifdef SYS_inotify_init
	case SYS_inotify_init:
#endif
#ifdef SYS_pipe
	case SYS_pipe:
#endif
#ifdef SYS_openat2
	case SYS_openat2:
#endif
#ifdef SYS_pidfd_open
	case SYS_pidfd_open:
#endif
#ifdef SYS_pidfd_getfd
	case SYS_pidfd_getfd:
#endif
#ifdef SYS_memfd_secret
	case SYS_memfd_secret:
#endif
	case SYS_openat:
	case SYS_socket:
	case SYS_socketpair:
	case SYS_pipe2:
	case SYS_eventfd2:
	case SYS_timerfd_create:
	case SYS_memfd_create:
	case SYS_inotify_init1:
	case SYS_fanotify_init:
	case SYS_userfaultfd:
	case SYS_perf_event_open:
	case SYS_open_by_handle_at:
		*ret = made(REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]), n, a);
		return true;
#ifdef SYS_signalfd
	case SYS_signalfd:
#endif
	case SYS_signalfd4: /* a new descriptor only when not given one */
		*ret = REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (I(0) == -1)
			*ret = made(*ret, n, a);
		return true;
	}
	return false;
}

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
	long r;
	if (route(n, a, &r))
		return r;
	return REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
