/*
 * pump.h: the one place that mixes engine state with real socket I/O
 * (STYLE.md 2). It sends pending records before it reads, honours the
 * socket's own O_NONBLOCK (and MSG_DONTWAIT) without ever changing it, and
 * reports outcomes as -1 with errno, ready for the hook to return.
 *
 * errno on a failed TLS connection (INTERFACE.md "What the program sees"):
 * EACCES when a client rejected the server's identity (or the server
 * rejected our certificate), ETIMEDOUT when handshake_timeout passed,
 * ECONNRESET for everything else on the TLS level; a failure of the TCP
 * connection itself keeps its own errno (ECONNREFUSED, ...).
 */
#ifndef TLSHIM_SHIM_PUMP_H
#define TLSHIM_SHIM_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sconn.h"

/* pump_handshake(s, fd, block): drive the handshake; with ${block} wait
 * (up to the deadline) until it is done. Returns 0 once established, or
 * -1 with errno (EAGAIN when !block and it must wait). */
int pump_handshake(sconn *s, int fd, bool block);

/* pump_recv(s, fd, buf, n, flags): recv() on a TLS socket. ${flags} may
 * hold MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL (others are ignored). Returns
 * bytes, 0 at the peer's close_notify, or -1 with errno. */
ssize_t pump_recv(sconn *s, int fd, void *buf, size_t n, int flags);

/* pump_send(s, fd, buf, n, flags): send() on a TLS socket. ${flags} may
 * hold MSG_DONTWAIT, MSG_NOSIGNAL, MSG_MORE (others are ignored). Bytes
 * sealed into records count as sent even when their ciphertext is still
 * queued; they go out on later calls. Never -1/EAGAIN after taking bytes. */
ssize_t pump_send(sconn *s, int fd, const void *buf, size_t n, int flags);

/* pump_progress(s, fd): what poll/select/epoll do before deciding: without
 * blocking and without waiting for a lock another thread holds, flush
 * pending ciphertext, take in ciphertext the socket has, and advance the
 * handshake. */
void pump_progress(sconn *s, int fd);

/* pump_prepare(s, fd): the cheap step before a readiness call waits:
 * advance a pending handshake and flush queued ciphertext, without
 * blocking, without waiting for a lock, and without trying to read (that
 * waits until the real socket reports input; then call pump_progress). */
void pump_prepare(sconn *s, int fd);

/* pump_quiesce(s): for poll/select, after a look at ${s}: whether it holds
 * nothing the kernel would not report (handshake done, no plaintext, no
 * queued ciphertext, writable, not failed or closed). If so it is marked
 * quiet (sconn.h) until a pump call leaves something behind, and while
 * quiet its readiness is the kernel's for POLLIN and "writable" for
 * POLLOUT, with no engine call (see pump_revents). Returns that. */
bool pump_quiesce(sconn *s);

/* pump_revents(s, want, need): the readiness the program should see now
 * for the poll events ${want} (POLLIN/POLLOUT), and in *${need} the events
 * to wait for on the real socket to make progress. A failed connection is
 * readable, writable (if asked) and POLLERR. */
short pump_revents(sconn *s, short want, short *need);

/* pump_shutdown_write(s, fd): shutdown(SHUT_WR) of ${fd}, a number of
 * ${s}: send close_notify (after queued data), waiting a bounded time on a
 * blocking or non-blocking socket alike. A write in another thread is
 * stopped at its next record boundary; if it does not get there within
 * 100 ms (blocked on a peer that does not read), or if this is a signal
 * handler that interrupted this thread's own write, no close_notify is
 * sent and the write side is just marked shut: the caller's real
 * shutdown() then wakes the writer with EPIPE, as on a plain socket. */
void pump_shutdown_write(sconn *s, int fd);

/* pump_close_begin(s, fd): ${fd} is about to be closed and is probably the
 * last number of ${s}: make a private duplicate of the socket (the only
 * number the pump uses from now on) and point ${fd} at a placeholder, so
 * that nothing written to ${fd} from here can reach the socket in clear.
 * 0, or -1 when nothing was done (out of descriptors, or another close is
 * under way). Follow with pump_close or pump_close_end. */
int pump_close_begin(sconn *s, int fd);

/* pump_close_end(s): drop what pump_close_begin made if pump_close did not
 * use it (${fd} was not the last number after all). */
void pump_close_end(sconn *s);

/* pump_close(s, fd): the last number ${fd} of ${s} in the owning process
 * is being closed: send close_notify as pump_shutdown_write does, through
 * the private duplicate of pump_close_begin (or one made now), never
 * through the number. A writer in another thread is stopped at a record
 * boundary; one blocked in the kernel, or this thread's own write
 * interrupted by the signal handler we run in, gets no close_notify after
 * it (its record may be half sent). */
void pump_close(sconn *s, int fd);

/* pump_park(s, fd): ${fd}, a number of ${s} already out of the table, is
 * about to be closed. If a pump call on ${s} is in flight, point ${fd} at a
 * placeholder socket instead (dup3), which is freed when the last such
 * call returns, so that no call of the pump can reach whatever the program
 * opens next on that number. Returns 1 when ${fd} was parked (the caller
 * must not close it: it is closed for the program), 0 when the caller
 * closes it as usual. Async-signal-safe. */
int pump_park(sconn *s, int fd);

/* pump_close_at_exit(s, fd): the process is exiting with ${s} open (many
 * programs never close their sockets): send close_notify as close() would,
 * but only if no other thread holds the write side, and waiting briefly. */
void pump_close_at_exit(sconn *s, int fd);

/* pump_errno(s): the errno a failed connection reports (0 if none). */
int pump_errno(sconn *s);

/* pump_is_nonblocking(fd, flags): O_NONBLOCK on ${fd} (asks the kernel)
 * or MSG_DONTWAIT in ${flags}. */
bool pump_is_nonblocking(int fd, int flags);

/* pump_set_nonblocking(s, on): the program changed O_NONBLOCK (fcntl
 * F_SETFL, ioctl FIONBIO); the pump keeps it instead of asking the kernel
 * on every call. */
void pump_set_nonblocking(sconn *s, bool on);

#endif
