/*
 * inherit.h: sockets a program is started with (INTERFACE.md "Inherited
 * connections"). A super-server (inetd, xinetd, tcpserver, systemd with
 * Accept=yes) accepts a connection and starts the service with it on
 * descriptors 0 and 1 (and often 2), or systemd's LISTEN_FDS numbers. For
 * the service that is an accepted connection it never saw accept(): when
 * its local port matches a server rule it becomes a TLS server connection
 * of this image, exactly as if accept() had returned it here
 * (shim_server_adopt in hooks.h, the one code path for both).
 *
 * Decided per socket, from what the kernel says about it: a TCP or MPTCP
 * stream (SO_TYPE, SO_PROTOCOL), not listening (SO_ACCEPTCONN), connected
 * (getpeername), local port (getsockname) on a server rule. Descriptors
 * naming one socket (inetd and tcpserver dup it onto 0 and 1) are one
 * connection with several aliases, recognised by the socket's inode
 * (fstat: sockfs gives every socket its own), so the close of the last
 * one sends the one close_notify.
 *
 * Left alone:
 * - Listening sockets (systemd socket activation, Accept=no): the accept
 *   hook already decides by the local port of each accepted connection.
 * - Client rules. Whether we are the TLS client of an inherited socket is
 *   unknowable: the same four-tuple is an accepted connection whose peer
 *   happens to use the rule's port as its source port, or one a parent
 *   connect()ed, possibly already talking in clear. Starting a client
 *   handshake on it could only be a guess, so a connected socket on a
 *   client rule's destination port that this image did not connect is
 *   plain TCP, as any socket no rule names.
 * - Descriptors the table already knows, and those an exec hand-over
 *   named (restored first, left plain or shut down; DESIGN.md "Crossing
 *   exec": those are not fresh).
 *
 * Never re-handshaken: a TLS connection of a wrapped parent reaches a new
 * image only through the exec hand-over (handover.h), which restores it
 * before this runs and names its sockets (handover_named), so they are
 * skipped here; SCM_RIGHTS refuses TLS sockets. If one did arrive by a
 * path tlshim cannot see (a raw execve system call), the peer's next bytes
 * are records, not a ClientHello: the fresh server handshake fails
 * (unexpected_message) and the program sees ECONNRESET, never the peer's
 * bytes in clear nor its own sent in clear.
 */
#ifndef TLSHIM_SHIM_INHERIT_H
#define TLSHIM_SHIM_INHERIT_H

/* shim_inherit_adopt(): once, from start-up after the policy is loaded and
 * before main: every inherited socket described above becomes a server
 * connection (aliases shared). Where one matched but could not be
 * registered (out of memory), the socket is shut down in both directions
 * (fail closed) and the error logged. Returns how many descriptors became
 * TLS. */
int shim_inherit_adopt(void);

#endif
