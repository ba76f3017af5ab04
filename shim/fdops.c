/*
 * fdops.c: descriptors coming and going (shared by the hook files). Every
 * change to the table goes through the three functions here, and each
 * starts with the same question (foreign): a vfork() child shares our
 * memory, so the table is the parent's, but it has descriptors of its own.
 * What it closes it hides from its own lookups only (fdtab_hide); a copy
 * of a TLS descriptor it makes (dup2 onto 0 and 1 before exec: Python's
 * subprocess) is recorded in its own view too (shim_fd_child_alias,
 * fdtab_view_alias), so it stays TLS there and an exec hands it over
 * (hook_exec.c). Either way the parent's table stays as it was: if the
 * child exits instead, nothing of the parent's changed (issue 9 item 5,
 * issue 11 item 2).
 */
#include <errno.h>
#include <unistd.h>

#include "fork.h"
#include "hooks.h"
#include "log.h"
#include "ownfd.h"

void shim_unref(sconn *s)
{
	int saved = errno;
	sconn_unref(s);
	errno = saved;
}

/* ${fd} (registered) changes in a vfork child: hide it there, touch
 * nothing shared. True when that was the case. */
static bool foreign(int fd)
{
	if (!shim_fork_foreign())
		return false;
	fdtab_hide(fd);
	return true;
}

int shim_fd_child_alias(int oldfd, int newfd)
{
	if (fdtab_view_alias(newfd, oldfd) == 0)
		return 0;
	shim_log(SHIM_LOG_WARN,
		 "vfork child: copy of TLS connection fd %d onto fd %d refused (EPERM): "
		 "more than %d copies, or a number above %d, cannot be tracked",
		 oldfd, newfd, FDTAB_ALIAS_MAX, FDTAB_HIDE_MAX - 1);
	errno = EPERM;
	return -1;
}

int shim_ownfd_refused(int fd)
{
	if (!shim_ownfd_is(fd))
		return 0;
	errno = EBADF;
	return -1;
}

void shim_fd_forget(int fd)
{
	/* One of our own numbers handed out anew: ours was closed behind our
	 * back (ownfd.h). Not in a vfork child: the record is the parent's. */
	if (__builtin_expect(shim_ownfd_is(fd), 0) && !shim_fork_foreign())
		shim_ownfd_lost(fd);
	if (!fdtab_get(fd) || foreign(fd))
		return;
	sconn *old = fdtab_set(fd, NULL);
	if (old && old != (sconn *)-1) {
		__atomic_sub_fetch(&old->aliases, 1, __ATOMIC_ACQ_REL);
		shim_unref(old);
	}
	if (fd <= 2)
		shim_stdio_detached(fd);
}

int shim_fd_attach(int fd, sconn *s)
{
	if (shim_fork_foreign()) { /* the parent's table: nothing may be added */
		errno = EPERM;
		return -1;
	}
	shim_fd_forget(fd);
	__atomic_add_fetch(&s->aliases, 1, __ATOMIC_ACQ_REL);
	sconn *old = fdtab_set(fd, s);
	if (old == (sconn *)-1) {
		__atomic_sub_fetch(&s->aliases, 1, __ATOMIC_ACQ_REL);
		errno = ENOMEM;
		return -1;
	}
	__atomic_add_fetch(&shim_fd_epoch, 1, __ATOMIC_RELEASE); /* epoll: it may be registered */
	if (old) { /* a racing attach to the same number; keep ours */
		__atomic_sub_fetch(&old->aliases, 1, __ATOMIC_ACQ_REL);
		shim_unref(old);
	}
	if (fd <= 2) /* stdio on 0/1/2 must go through the record layer */
		shim_stdio_attached(fd, s);
	return 0;
}

int shim_fd_release(int fd)
{
	if (!fdtab_get(fd) || foreign(fd)) /* vfork child: hidden in its own view */
		return 0;
	/* The last number of a connection (the usual close): cut it off the
	 * socket first, before it leaves the table, so that a write() racing
	 * with this close never reaches the socket in clear (pump.h). */
	sconn *s = fdtab_acquire(fd);
	bool begun = s && __atomic_load_n(&s->aliases, __ATOMIC_ACQUIRE) == 1 &&
		     shim_fork_owns(s) && pump_close_begin(s, fd) == 0;
	sconn *old = fdtab_set(fd, NULL);
	int parked = 0;
	if (old && old != (sconn *)-1) {
		if (fd <= 2)
			shim_stdio_detached(fd);
		/* close_notify when the last reference in the owning process
		 * goes (INTERFACE.md): after fork only the process that
		 * claimed the connection may end it (fork.h). */
		if (__atomic_sub_fetch(&old->aliases, 1, __ATOMIC_ACQ_REL) == 0 &&
		    shim_fork_owns(old))
			pump_close(old, fd);
		parked = pump_park(old, fd); /* another thread's pump call still uses the number */
		shim_unref(old);
	}
	if (s) {
		if (begun)
			pump_close_end(s);
		shim_unref(s);
	}
	return parked;
}
