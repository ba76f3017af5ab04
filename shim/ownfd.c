#include "ownfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "real.h"

/* The kernel sizes a process's descriptor table to its highest number, so
 * "high" stops here even when RLIMIT_NOFILE is in the millions. */
#define OWNFD_TOP  4096
#define OWNFD_ROOM 16 /* how far below the top we start looking */

struct own {
	int fd; /* atomic; -1: none */
	char *path;
	int flags;
	mode_t mode;
};

static struct own own[SHIM_OWNFD_SLOTS] = {[0 ... SHIM_OWNFD_SLOTS - 1] = {.fd = -1}};
int shim_ownfd_min = INT_MAX;
/* Writes in flight (shim_ownfd_write); a move waits for them to drain so no
 * write lands on a number the program is about to take. A counter, not a
 * lock: a log line from a signal handler must never wait for one. */
static unsigned writers;
/* Serialises opens, moves and reopens (rare; never taken by a write). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void shim_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = REAL(write)(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void update_min(void)
{
	int m = INT_MAX;
	for (int i = 0; i < SHIM_OWNFD_SLOTS; i++) {
		int fd = __atomic_load_n(&own[i].fd, __ATOMIC_ACQUIRE);
		if (fd >= 0 && fd < m)
			m = fd;
	}
	__atomic_store_n(&shim_ownfd_min, m, __ATOMIC_RELEASE);
}

/* A close-on-exec copy of ${fd} on a free number near the top (or, when
 * those are taken, in the upper half), or -1 with errno. */
static int dup_high(int fd)
{
	struct rlimit rl;
	rlim_t top = OWNFD_TOP;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < top)
		top = rl.rlim_cur;
	if (top <= 4 * OWNFD_ROOM) {
		errno = EMFILE;
		return -1;
	}
	int nfd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (int)top - OWNFD_ROOM);
	if (nfd < 0 && errno != EBADF)
		nfd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (int)top / 2);
	return nfd;
}

/* ${fd} moved high (closing the original); ${fd} itself when there is no
 * room up there (still protected, just low). */
static int place_high(int fd)
{
	int nfd = dup_high(fd);
	if (nfd < 0)
		return fd;
	REAL(close)(fd);
	return nfd;
}

/* Wait until no write that may have read an old number is in flight.
 * Bounded: a signal handler of this thread moving a descriptor while the
 * interrupted code writes would otherwise wait for ever. */
static void drain_writers(void)
{
	for (int i = 0; i < 100000 && __atomic_load_n(&writers, __ATOMIC_SEQ_CST); i++)
		sched_yield();
}

/* Open ${o}'s file again and publish the new number; lock held. */
static void reopen(struct own *o)
{
	int fd = REAL(open)(o->path, o->flags, o->mode);
	__atomic_store_n(&o->fd, fd < 0 ? -1 : place_high(fd), __ATOMIC_SEQ_CST);
}

int shim_ownfd_open(int slot, const char *path, int flags, mode_t mode)
{
	char *abs = NULL;
	if (path[0] == '/') {
		abs = strdup(path);
	} else {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof cwd) && asprintf(&abs, "%s/%s", cwd, path) < 0)
			abs = NULL;
	}
	if (!abs) {
		errno = ENOMEM;
		return -1;
	}
	int fd = REAL(open)(abs, flags | O_CLOEXEC, mode);
	if (fd < 0) {
		int e = errno;
		free(abs);
		errno = e;
		return -1;
	}
	fd = place_high(fd);
	pthread_mutex_lock(&lock);
	struct own *o = &own[slot];
	int old = __atomic_exchange_n(&o->fd, fd, __ATOMIC_SEQ_CST);
	free(o->path);
	o->path = abs;
	o->flags = (flags | O_CLOEXEC) & ~(O_TRUNC | O_EXCL);
	o->mode = mode;
	update_min();
	if (old >= 0) {
		drain_writers();
		REAL(close)(old);
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

bool shim_ownfd_active(int slot)
{
	return __atomic_load_n(&own[slot].fd, __ATOMIC_ACQUIRE) >= 0;
}

void shim_ownfd_write(int slot, const void *p, size_t n)
{
	int saved = errno;
	__atomic_add_fetch(&writers, 1, __ATOMIC_SEQ_CST);
	int fd = __atomic_load_n(&own[slot].fd, __ATOMIC_SEQ_CST);
	if (fd >= 0)
		shim_write_all(fd, p, n);
	__atomic_sub_fetch(&writers, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

bool shim_ownfd_check(int fd)
{
	for (int i = 0; i < SHIM_OWNFD_SLOTS; i++)
		if (fd >= 0 && __atomic_load_n(&own[i].fd, __ATOMIC_ACQUIRE) == fd)
			return true;
	return false;
}

/* The slot holding ${fd}, or NULL; lock held. */
static struct own *slot_of(int fd)
{
	for (int i = 0; i < SHIM_OWNFD_SLOTS; i++)
		if (fd >= 0 && own[i].fd == fd)
			return &own[i];
	return NULL;
}

/* A copy of ${fd} other than ${fd}: high if there is room, else any
 * number; -1 with errno EBADF when ${fd} is not open. */
static int dup_elsewhere(int fd)
{
	int nfd = dup_high(fd);
	if (nfd < 0 && errno != EBADF) /* no room up there */
		nfd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
	return nfd;
}

void shim_ownfd_move(int fd)
{
	int saved = errno;
	pthread_mutex_lock(&lock);
	struct own *o = slot_of(fd);
	if (o) {
		int nfd = dup_elsewhere(fd);
		__atomic_store_n(&o->fd, nfd, __ATOMIC_SEQ_CST);
		drain_writers();
		if (nfd < 0) { /* ${fd} was closed behind our back already */
			reopen(o);
			/* The reopen may have got ${fd} back (it was free):
			 * copy it away again, ${fd} being taken now. */
			if (o->fd == fd)
				__atomic_store_n(&o->fd, dup_elsewhere(fd), __ATOMIC_SEQ_CST);
		}
		update_min();
		/* The old number stays open: the caller's dup2 replaces it
		 * (and closes it if that fails). */
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
}

void shim_ownfd_lost(int fd)
{
	int saved = errno;
	pthread_mutex_lock(&lock);
	struct own *o = slot_of(fd);
	if (o) {
		__atomic_store_n(&o->fd, -1, __ATOMIC_SEQ_CST);
		drain_writers();
		reopen(o);
		update_min();
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
}

int shim_ownfd_next(int fd)
{
	int best = -1;
	for (int i = 0; i < SHIM_OWNFD_SLOTS; i++) {
		int o = __atomic_load_n(&own[i].fd, __ATOMIC_ACQUIRE);
		if (o >= fd && (best < 0 || o < best))
			best = o;
	}
	return best;
}

/* A fork while another thread moves or reopens must not leave the child
 * with the lock held by a thread it does not have. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void ownfd_init(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}
