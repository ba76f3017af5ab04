/* fdops.c: descriptors coming and going (shared by the hook files). */
#include <errno.h>
#include <unistd.h>

#include "fork.h"
#include "hooks.h"

void shim_unref(sconn *s)
{
	int saved = errno;
	sconn_unref(s);
	errno = saved;
}

void shim_fd_forget(int fd)
{
	if (!fdtab_get(fd) || shim_fork_foreign()) /* vfork child: the table is the parent's */
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
	if (!fdtab_get(fd) || shim_fork_foreign()) /* vfork child: the table is the parent's */
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
