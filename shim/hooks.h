/*
 * hooks.h: what the hook files share. Hooks are thin trampolines
 * (STYLE.md 9): one table lookup decides "ours or not", and anything not
 * ours goes straight to the real function.
 */
#ifndef TLSHIM_SHIM_HOOKS_H
#define TLSHIM_SHIM_HOOKS_H

#include "fdtab.h"
#include "pump.h"
#include "real.h"
#include "sconn.h"

/* Hooked symbols are the only ones the library exports (with the version
 * script libtlshim.map). */
#define SHIM_EXPORT __attribute__((visibility("default")))

/* shim_fd_attach(fd, s): ${fd} now names ${s}. An entry left at ${fd} by a
 * descriptor closed behind our back is dropped first. 0, or -1 (ENOMEM;
 * EPERM in a vfork child, whose table is the parent's). */
int shim_fd_attach(int fd, sconn *s);

/* shim_fd_release(fd): ${fd} is being closed: it stops naming its
 * connection, and the last descriptor of the owning process sends
 * close_notify after any queued data. No-op for descriptors not ours.
 * In a vfork child (fork.h) release and forget only hide ${fd} from the
 * child's own lookups (fdtab_hide): the table is the parent's.
 * Returns 1 when ${fd} was parked (pump_park: a pump call still uses it;
 * it is closed when that call returns) and the caller must not close it,
 * else 0. A caller that closes it anyway is safe, only less strict. */
int shim_fd_release(int fd);

/* shim_fd_child_alias(oldfd, newfd): in a vfork child, ${newfd} became a
 * copy of the TLS descriptor ${oldfd} (dup, dup2, dup3, F_DUPFD): record
 * it in the child's own view (fdtab_view_alias), never in the parent's
 * table. 0, or -1 with errno EPERM (and a log line) when it cannot be
 * recorded; the caller then closes ${newfd} (no untracked copy). */
int shim_fd_child_alias(int oldfd, int newfd);

/* shim_ownfd_refused(fd): -1 with errno EBADF when ${fd} is one of
 * tlshim's own descriptors (ownfd.h), which a program never opened and so
 * may not close, copy or change; else 0. */
int shim_ownfd_refused(int fd);

/* shim_fd_forget(fd): the kernel handed out ${fd} anew (socket, accept,
 * ...), so whatever we had registered there was closed without us seeing
 * it: drop it silently. Cheap when ${fd} is not registered. */
void shim_fd_forget(int fd);

/* shim_fd_fresh(fd): ${fd} (when >= 0) was just made by a call that creates
 * descriptors: shim_fd_forget it, and give 0..2 their original standard
 * stream back. Returns ${fd}. */
int shim_fd_fresh(int fd);

/* shim_server_adopt(fd): the one way a server connection begins
 * (hook_socket.c): ${fd}, a connected socket the program accepted or
 * inherited (inherit.h), becomes a TLS server connection when it is TCP
 * (or MPTCP) and its local port matches a server rule; the handshake waits
 * for its first read, write or poll. Returns the connection, now
 * registered at ${fd}; NULL when no rule applies (${fd} is left alone); or
 * (sconn *)-1 with errno ENOMEM (logged) when a rule matched but the
 * connection could not be registered: the caller must then make sure the
 * socket carries nothing (fail closed). */
sconn *shim_server_adopt(int fd);

/* glibc's _FORTIFY_SOURCE entry points have no public prototypes. */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *from,
		       socklen_t *fromlen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
		size_t fdslen);
void __chk_fail(void) __attribute__((noreturn));

/* shim_unref(s): sconn_unref keeping errno (hooks return errno to callers). */
void shim_unref(sconn *s);

/* shim_fd_epoch: bumped (atomically) whenever a descriptor starts naming a
 * connection or an epoll set is made; epoll sets then look again at the
 * descriptors they hold as plain ones (hook_epoll.c). */
extern unsigned shim_fd_epoch;

/* stdio on TLS descriptors (hook_stdio.c). */
#include <stdio.h>

/* shim_stdio_owns(f): ${f} is one of our cookie streams (fdopen of a TLS
 * descriptor, or a standard stream standing in on 0/1/2); its fclose
 * closes its descriptor itself. */
bool shim_stdio_owns(FILE *f);

/* shim_stdio_attached(fd, s): ${fd} now names ${s}; for 0, 1 and 2 the
 * standard stream becomes a cookie stream through ${s} (and the original
 * stream loses its number until shim_stdio_settle gives it back). */
void shim_stdio_attached(int fd, sconn *s);

/* shim_stdio_detached(fd): ${fd} (0..2) stops naming its connection: its
 * cookie drops buffered data and fails with EBADF from now on. */
void shim_stdio_detached(int fd);

/* shim_stdio_prepare(fd): before dup2/dup3 over ${fd} (0..2): flush the
 * standard stream standing there into its current destination. */
void shim_stdio_prepare(int fd);

/* shim_stdio_settle(fd): ${fd} (0..2) now names a plain file (dup2/dup3
 * result, a new descriptor): give the standard variable its original
 * stream back if a cookie stood in. Cheap when nothing was replaced. */
void shim_stdio_settle(int fd);

#endif
