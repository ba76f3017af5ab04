/*
 * fork.h: which process may use a TLS connection after fork() (DESIGN.md
 * "fork"). Parent and child inherit the same traffic keys and sequence
 * numbers; if both wrote, two different records would be sealed under one
 * key and nonce (AEAD nonce reuse: for GCM it gives away the
 * authentication key). So after a fork exactly one process may use each
 * connection: the first that does claims it, by a compare-and-swap on a
 * word in memory the processes share (MAP_SHARED|MAP_ANONYMOUS, made by the
 * pthread_atfork prepare handler for every live connection).
 *
 * Every other process gets -1 with errno EPERM ("operation not permitted",
 * as for passing a TLS socket over SCM_RIGHTS) from any data call on the
 * connection, poll/select report it readable, writable and POLLERR so it
 * learns at once, and its close() never sends close_notify: only the
 * claimer's close does (or, if nobody claimed it, nobody's: a forking
 * server's parent closing its copy must not end the child's stream).
 *
 * Claiming is a use: read, write, send, recv, the handshake, shutdown(),
 * and a readiness call that advances the connection. close() is not.
 *
 * A connection forked again before anyone claimed it keeps its older words
 * too; a claimer must win all of them in order, so the first user among
 * every process holding the same state wins however many forks lie between
 * (up to 8 unclaimed forks; the 9th makes the forking process claim it).
 * Words hold a token drawn from a counter shared by the process tree, not a
 * pid: a pid can come back to a descendant after its holder exited.
 *
 * A connection a thread of the parent was using at the moment of fork()
 * (its lock held) stays the parent's; the child's copy may be torn
 * mid-record, so the child is refused and never frees it.
 *
 * Covered: fork(), daemon() and everything else that runs the atfork
 * handlers, _Fork() (hooked), libc clone() without CLONE_VM, and
 * syscall(SYS_fork, SYS_vfork, SYS_clone, SYS_clone3) (shim_fork_syscall).
 * vfork() children and clone(CLONE_VM) processes share our memory: they
 * must not touch the registry (shim_fork_foreign). Not covered: the system
 * call instruction issued by the program itself.
 *
 * exec (handover.h): the words of a fork cannot cross exec, so a
 * connection that does is claimed first and then linked to a word in a
 * memfd both images map (shim_fork_exec_*); from there the same rule
 * holds between the old image, if it goes on, and the new one.
 */
#ifndef TLSHIM_SHIM_FORK_H
#define TLSHIM_SHIM_FORK_H

#include <stdbool.h>

#include "sconn.h"

/* shim_fork_claim(s): called with ${s}->rd or ${s}->wr held, before the
 * pump touches the engine: 0 when this process may use ${s} (claiming it
 * now if nobody has since the last fork), or -1 with errno EPERM when
 * another process has. */
int shim_fork_claim(sconn *s);

/* shim_fork_owns(s): this process may use ${s} and has: it claimed it, or
 * ${s} never crossed a fork. The close path asks this; claims nothing. */
bool shim_fork_owns(sconn *s);

/* shim_fork_refused(s): another process is known to have claimed ${s}. */
bool shim_fork_refused(sconn *s);

/* shim_fork_foreign(): we run in a child that shares the parent's memory
 * without any atfork handler having run (vfork before exec): the registry
 * is the parent's and must be left alone. Costs a getpid(); call it only on
 * the paths of descriptors that are ours. */
bool shim_fork_foreign(void);

/* shim_fork_syscall(n, a): syscall(${n}, a[0..5]) for SYS_fork, SYS_vfork,
 * SYS_clone and SYS_clone3, with the fork protocol around it when the child
 * gets a copy of our memory; -1 with EPERM (logged) for a raw clone without
 * CLONE_VM onto a new stack while TLS connections are open. Returns what
 * syscall() returns. */
long shim_fork_syscall(long n, const long *a);

/* shim_fork_drop(s): free ${s}'s ownership record (from sconn_unref). */
void shim_fork_drop(sconn *s);

/* Ownership across exec (handover.h). A region is ${n} words in a memfd.
 *
 * shim_fork_exec_region(n, fd): old image: a new region, its memfd
 * (close-on-exec: handover.c lets it cross only the one exec) in *${fd};
 * NULL when out of memory. The caller holds one
 * reference, dropped by shim_fork_exec_region_put(r) (NULL: no-op).
 * shim_fork_exec_link(s, r, i): old image, both of ${s}'s locks held:
 * claim ${s} (fork words) and make word ${i} of ${r} its only link, as a
 * fork would; -1 when another process owns ${s} (EPERM) or out of memory.
 * shim_fork_exec_map(fd, n): new image: the region in memfd ${fd}, or
 * NULL; one reference for the caller. shim_fork_exec_adopt(s, r, i): new
 * image: ${s} (not yet registered) must win word ${i} of ${r} to be used;
 * 0 or -1 (out of memory).
 * shim_fork_mark_lost(s): ${s} is another process's (EPERM on use, no
 * close_notify on close). */
struct region;

/* shim_fork_hold() / shim_fork_release(): while held, every fork that runs
 * our fork protocol in another thread (fork, _Fork, clone and the fork
 * system calls without CLONE_VM) waits; the exec hand-over holds it while
 * its memfds are inheritable (handover.c). Not from a vfork child (the
 * lock is the parent's memory). */
void shim_fork_hold(void);
void shim_fork_release(void);

struct region *shim_fork_exec_region(size_t n, int *fd);
void shim_fork_exec_region_put(struct region *r);
int shim_fork_exec_link(sconn *s, struct region *r, size_t i);
struct region *shim_fork_exec_map(int fd, size_t n);
int shim_fork_exec_adopt(sconn *s, struct region *r, size_t i);
void shim_fork_mark_lost(sconn *s);

#endif
