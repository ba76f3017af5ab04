/*
 * handover.h: TLS connections that cross exec (DESIGN.md "Crossing exec",
 * INTERFACE.md "Inherited connections").
 *
 * A descriptor of a TLS connection that survives exec (not close-on-exec,
 * or put there by a posix_spawn dup2 file action) reaches the new program
 * as a raw TLS stream; the keys and sequence numbers live in the old
 * image's memory. So the exec hook serialises each such connection
 * (tls_conn_export: keys, sequence numbers, buffered plaintext and
 * ciphertext, peer facts, the rule's name) into a memfd sealed against any
 * change (F_SEAL_WRITE, SHRINK, GROW, SEAL) and names it in the new
 * program's environment:
 *
 *   TLSHIM_HANDOVER=STATE_FD,OWNER_FD
 *
 * The new image's constructor (before main, before inherit.h's adoption,
 * which leaves these descriptors alone) checks the seals, re-creates every
 * connection at the same descriptor numbers under the rule of the same
 * name (refused if the rule's configuration digest differs), wipes its
 * copy, closes the memfd (its pages go when the last descriptor does) and
 * removes the variable from its environment. A connection it cannot
 * re-create has its socket shut down (fail closed), logged.
 *
 * Ownership follows the fork rule (fork.h): OWNER_FD is a second memfd,
 * mapped shared by both images, with one word per connection. An image
 * that may still use a connection after the exec (a posix_spawn or
 * system() parent, the parent of a vfork child) and the new image both
 * hold it, and the first to use the connection claims it; the other gets
 * EPERM and never sends close_notify. The words of a fork cannot cross
 * exec: a connection the exec'ing process still shares with a fork parent
 * (neither has used it since) is claimed before the exec when it is
 * handed on on purpose (it lands on 0, 1 or 2, or a dup2 put it where it
 * lands: inetd style, CGI, a shell's commands); a descriptor that merely
 * leaked into the new program leaves it to the parent. Either way, once
 * another process has it, it crosses as "another process's" (EPERM in the
 * new image too). So in a shell pipeline that splits one connection
 * (`head -c N | sha256sum`: one reads, the other writes), the first of
 * the two to exec gets it and the other is refused, logged: never two
 * writers on one key. A connection still
 * handshaking crosses only as a server connection that has moved no byte
 * (the new image starts its handshake); otherwise the exec is refused.
 */
#ifndef TLSHIM_SHIM_HANDOVER_H
#define TLSHIM_SHIM_HANDOVER_H

#include <stdbool.h>

#define SHIM_HANDOVER_ENV "TLSHIM_HANDOVER"

/* One descriptor the new program will have: at ${fd}, a copy of the
 * table's ${orig}. */
struct handover_fd {
	int fd, orig;
};

/* What an exec in progress handed over (filled by handover_begin). */
typedef struct handover {
	int state_fd, owner_fd; /* -1 when nothing crosses */
	char env[64];           /* "TLSHIM_HANDOVER=..." or "" */
	bool held;              /* other threads' forks wait (shim_fork_hold) */
} handover;

/* handover_begin(h, what, path, fds, n, stays): serialise the connections of the
 * ${n} descriptors ${fds} the new program ${path} will have into fresh
 * memfds (numbers not in ${fds}), linking each to an ownership word
 * (see above). ${stays}: this image goes on after a successful exec (a
 * spawn parent); else (execve, unless in a vfork child) the new image owns
 * the connections from the start. Both locks of a connection are held while it is
 * serialised and linked, so no record is sealed under its keys in
 * between. 0 with ${h} filled (h->env empty when ${n} is 0); -1 with errno
 * EPERM and a log line naming ${what} and ${path} when a connection cannot
 * cross (mid-handshake, failed, busy in another thread, out of memory).
 *
 * The memfds hold every handed-over connection's keys, so they are
 * close-on-exec from their creation and inheritable only from the end of
 * a successful handover_begin to handover_end, the window of the one exec
 * or spawn they are made for; in that window forks in other threads wait
 * (shim_fork_hold), so no other child takes them along. In a vfork child
 * (its own descriptor table, no other thread in it) nothing needs to
 * wait. Not held off: another thread's vfork(), or a system()/popen()
 * that runs glibc's internal spawn (when no TLS connection would reach
 * its shell, hook_system.c), started inside the window. */
int handover_begin(handover *h, const char *what, const char *path, const struct handover_fd *fds,
		   int n, bool stays);

/* handover_end(h): after the exec or spawn returned (failed, or a spawn
 * parent going on): close the memfds and let forks go on. The
 * connections stay usable here under the fork rule. No-op for an empty
 * ${h}. */
void handover_end(handover *h);

/* handover_restore(): in a new image, from start-up after the policy is
 * loaded (or found absent: then every handed-over socket is shut down)
 * and before inherit.h's adoption: re-create the connections named by
 * $TLSHIM_HANDOVER, as described above. Returns how many descriptors
 * became TLS again. */
int handover_restore(void);

/* handover_named(fd): ${fd} was named by the hand-over this image started
 * with (restored, left plain, or shut down): inherit.h must not adopt
 * it. */
bool handover_named(int fd);

#endif
