/*
 * ownfd.h: the descriptors tlshim keeps open for itself (the log file and
 * the key log), kept out of the program's way (issue 9 item 6).
 *
 * A program treats every number as its own: a daemon's close loop, closefrom,
 * close_range, dup2 onto a number it saw in /proc/self/fd. Had tlshim's key
 * log been closed and its number reused, the master secrets would go into
 * whatever file the program opened next. So our descriptors
 * - sit on high close-on-exec numbers (just below min(RLIMIT_NOFILE, 4096)),
 *   never on a low number the program's next open() would get;
 * - do not exist for the program: close, fcntl, dup and dup2/dup3 from them
 *   fail with EBADF (what closing a number one never opened gives; a close
 *   loop ignores it), closefrom and close_range step over them;
 * - make way: dup2/dup3 onto one first moves ours to another number;
 * - come back: when the kernel hands one of our numbers to the program
 *   (it was closed behind our back, by a raw system call), we stop writing
 *   to it at once and reopen the file by its path.
 */
#ifndef TLSHIM_SHIM_OWNFD_H
#define TLSHIM_SHIM_OWNFD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum shim_ownfd_slot { SHIM_OWNFD_LOG, SHIM_OWNFD_KEYLOG, SHIM_OWNFD_SLOTS };

/* The lowest of our descriptors (INT_MAX when none): lets shim_ownfd_is
 * answer "not ours" for every ordinary number with one comparison. */
extern int shim_ownfd_min;

/* shim_ownfd_open(slot, path, flags, mode): open ${path} (real open, with
 * O_CLOEXEC added) for ${slot}, on a high number; a descriptor the slot had
 * is closed. Relative paths are made absolute (for a reopen after chdir).
 * 0, or -1 with errno. */
int shim_ownfd_open(int slot, const char *path, int flags, mode_t mode);

/* shim_ownfd_active(slot): ${slot} has a descriptor. */
bool shim_ownfd_active(int slot);

/* shim_ownfd_write(slot, p, n): write all ${n} bytes to ${slot}'s file
 * (nothing when it has none). Never writes to a number the program took
 * over (shim_ownfd_move waits for writes in flight). errno kept. */
void shim_ownfd_write(int slot, const void *p, size_t n);

/* shim_write_all(fd, p, n): write(2) until ${n} bytes went or an error
 * other than EINTR; the real write, so it never re-enters a hook. */
void shim_write_all(int fd, const void *p, size_t n);

/* shim_ownfd_is(fd): ${fd} is one of ours. */
bool shim_ownfd_check(int fd);
static inline bool shim_ownfd_is(int fd)
{
	return fd >= __atomic_load_n(&shim_ownfd_min, __ATOMIC_ACQUIRE) && shim_ownfd_check(fd);
}

/* shim_ownfd_move(fd): the program is about to put something on ${fd}, one
 * of ours (dup2, dup3): ours moves to another high number, and no write of
 * ours is still in flight on ${fd} when this returns. No-op when ${fd} is
 * not ours. */
void shim_ownfd_move(int fd);

/* shim_ownfd_lost(fd): the kernel handed ${fd}, one of our numbers, to the
 * program: ours was closed behind our back. Stop using it and reopen the
 * file on another number. */
void shim_ownfd_lost(int fd);

/* shim_ownfd_next(fd): the lowest of our descriptors >= ${fd}, or -1 (for
 * closefrom and close_range, which step over them). */
int shim_ownfd_next(int fd);

#endif
