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

/* A vfork() child's own view (fork.h shim_fork_foreign). The child has
 * descriptors of its own but shares our memory, so the table is the
 * parent's and must stay as it is; what the child does to its numbers is
 * recorded in the vforking thread's thread-local storage, which only the
 * child runs on until it execs or exits; the parent's first lookup
 * discards it. Numbers below FDTAB_HIDE_MAX only.
 *
 * fdtab_hide(fd): ${fd} no longer names the parent's connection here (the
 * child closed or replaced its copy), so this process's lookups stop
 * seeing it. Beyond FDTAB_HIDE_MAX the child keeps seeing the number as
 * TLS (fail closed: an exec is refused rather than a raw TLS socket
 * passed on).
 *
 * fdtab_view_alias(newfd, oldfd): ${newfd} is now a copy of ${oldfd}
 * (dup2, dup3, dup, F_DUPFD in the child): this process's lookups of
 * ${newfd} (fdtab_get, fdtab_acquire, fdtab_next, fdtab_foreach) give the
 * connection ${oldfd} names here, as long as the table's number it came
 * from holds it, even once the child closed that number. 0, or -1 when
 * ${newfd} is beyond FDTAB_HIDE_MAX or FDTAB_ALIAS_MAX copies are live
 * (then ${newfd} is hidden: the caller closes it).
 *
 * fdtab_view_moved(fd): ${fd} is such a copy on a number other than the
 * one it came from (exec: handed on on purpose, handover.h). */
#define FDTAB_HIDE_MAX  2048 /* 256 bytes of static TLS per thread: fits glibc's dlopen surplus */
#define FDTAB_ALIAS_MAX 8    /* 64 bytes more: 0, 1, 2 and a few spare */
void fdtab_hide(int fd);
int fdtab_view_alias(int newfd, int oldfd);
bool fdtab_view_moved(int fd);

/* fdtab_fork_lock(), fdtab_fork_unlock(): hold every lock of the table
 * across fork() (pthread_atfork prepare, then parent and child), so no
 * descriptor is registered while the forking thread walks the table and
 * the child never inherits a lock held by a thread it does not have. */
void fdtab_fork_lock(void);
void fdtab_fork_unlock(void);

#endif
