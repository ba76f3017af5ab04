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
 * beyond the table). Lock-free. */
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

#endif
