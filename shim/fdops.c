/* fdops.c: descriptors coming and going (shared by the hook files). */
#include <errno.h>
#include <unistd.h>

#include "hooks.h"

void shim_unref(sconn *s)
{
	int saved = errno;
	sconn_unref(s);
	errno = saved;
}

void shim_fd_forget(int fd)
{
	if (!fdtab_get(fd))
		return;
	sconn *old = fdtab_set(fd, NULL);
	if (old && old != (sconn *)-1) {
		__atomic_sub_fetch(&old->aliases, 1, __ATOMIC_ACQ_REL);
		shim_unref(old);
	}
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
	if (old) { /* a racing attach to the same number; keep ours */
		__atomic_sub_fetch(&old->aliases, 1, __ATOMIC_ACQ_REL);
		shim_unref(old);
	}
	return 0;
}

void shim_fd_release(int fd)
{
	if (!fdtab_get(fd))
		return;
	sconn *old = fdtab_set(fd, NULL);
	if (!old || old == (sconn *)-1)
		return;
	/* close_notify when the last reference in the owning process goes
	 * (INTERFACE.md): a forked child closing its copy must not end the
	 * parent's stream. */
	if (__atomic_sub_fetch(&old->aliases, 1, __ATOMIC_ACQ_REL) == 0 && old->owner == getpid())
		pump_shutdown_write(old, fd);
	shim_unref(old);
}
