/*
 * fdtab.h: the one registry of descriptors that carry TLS (STYLE.md 9).
 * State belongs to the connection (struct sconn); descriptor numbers are
 * aliases of it (dup, dup2, fork), each holding a reference.
 *
 * Lookups are one or two array loads and take no lock: a hook on a
 * descriptor that is not ours pays that and nothing else.
 */
#ifndef TLSHIM_SHIM_FDTAB_H
#define TLSHIM_SHIM_FDTAB_H

#include <stdbool.h>

struct sconn;

/* fdtab_get(fd): the connection behind ${fd}, or NULL (also for fd < 0 or
 * beyond the table, and for a number fdtab_hide hid). Lock-free. */
struct sconn *fdtab_get(int fd);

/* fdtab_acquire(fd): like fdtab_get, but returns the connection with a
 * reference the caller must drop with sconn_unref, so that a concurrent
 * close() of ${fd} cannot free it under the caller. Takes a striped lock,
 * only on descriptors that are ours. */
struct sconn *fdtab_acquire(int fd);

/* fdtab_set(fd, s): make ${fd} an alias of ${s} (taking a reference), or
 * clear it (s = NULL); a connection previously at ${fd} loses that
 * reference and is returned so the caller can release it, else NULL.
 * Returns (void *)-1 when ${fd} is out of range or memory ran out. */
struct sconn *fdtab_set(int fd, struct sconn *s);

/* fdtab_foreach(fn, arg): call ${fn}(fd, s, arg) for every registered
 * descriptor (a snapshot taken slot by slot; entries may change while it
 * runs). Stops early when ${fn} returns non-zero, and returns that value. */
int fdtab_foreach(int (*fn)(int fd, struct sconn *s, void *arg), void *arg);

/* fdtab_next(fd): the lowest registered descriptor >= ${fd}, or -1. Visits
 * only pages in use; for the rare walks over the whole table (fork,
 * close_range, closefrom). Without fdtab_fork_lock held the answer may
 * already be stale. */
int fdtab_next(int fd);

/* fdtab_hide(fd): in a vfork() child (fork.h shim_fork_foreign): ${fd}
 * no longer names the parent's connection here (the child closed or
 * replaced its copy), so this process's lookups stop seeing it; the table,
 * which is the parent's memory, stays as it is. The record is kept in the
 * vforking thread's thread-local storage, which only the child runs on
 * until it execs or exits; the parent's first lookup discards it.
 * Numbers below FDTAB_HIDE_MAX only: beyond, the child keeps seeing the
 * number as TLS (fail closed: an exec is refused rather than a raw TLS
 * socket passed on). */
#define FDTAB_HIDE_MAX 2048 /* 256 bytes of static TLS per thread: fits glibc's dlopen surplus */
void fdtab_hide(int fd);

/* fdtab_fork_lock(), fdtab_fork_unlock(): hold every lock of the table
 * across fork() (pthread_atfork prepare, then parent and child), so no
 * descriptor is registered while the forking thread walks the table and
 * the child never inherits a lock held by a thread it does not have. */
void fdtab_fork_lock(void);
void fdtab_fork_unlock(void);

#endif
