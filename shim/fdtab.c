/*
 * A two-level table: 1024 pages of 4096 slots cover descriptors below 2^22
 * (far above any RLIMIT_NOFILE we meet); pages are allocated on first use
 * and never freed, so a lock-free reader can never see one disappear.
 */
#include "fdtab.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epset.h"
#include "sconn.h"

#define PAGE_BITS  12
#define PAGE_SLOTS (1u << PAGE_BITS)
#define PAGES      1024u

#define STRIPES 64u

static struct sconn **pages[PAGES];
static pthread_mutex_t page_lock = PTHREAD_MUTEX_INITIALIZER;
/* Slot updates and acquire-with-reference serialise per stripe, so a
 * reference is never taken on a connection whose last alias just went. */
static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

/* A vfork child's private view (fdtab_hide, fdtab_view_alias): the
 * numbers it closed, and the copies it made of TLS descriptors (each
 * naming the table's number it came from). It runs on the stack and
 * thread-local storage of the thread that called vfork, which stays
 * suspended until the child execs or exits, so nothing else reads or
 * writes this copy meanwhile, and the parent's first lookup discards it.
 * Initial-exec: the library is preloaded, and a lookup must stay one load
 * on the common path. */
static __thread struct {
	pid_t pid;  /* the child that wrote it */
	unsigned n; /* entries made; 0 on every path but a vfork child's */
	uint64_t bits[FDTAB_HIDE_MAX / 64];
	struct {
		int fd, origin; /* fd -1: a free entry */
	} alias[FDTAB_ALIAS_MAX];
} view __attribute__((tls_model("initial-exec")));

/* The view is this process's (a vfork child's): else it is the parent's
 * again, the child gone, and it is discarded. */
static bool view_mine(void)
{
	if (view.pid == getpid())
		return true;
	memset(&view, 0, sizeof view);
	return false;
}

/* The number of the table whose connection ${u} names in the view (an
 * alias), -1 when the view hides ${u}, else ${u} itself. */
static int view_lookup(unsigned u)
{
	if (!view_mine() || u >= FDTAB_HIDE_MAX)
		return (int)u;
	for (unsigned i = 0; i < FDTAB_ALIAS_MAX; i++)
		if (view.alias[i].fd == (int)u && view.alias[i].origin >= 0)
			return view.alias[i].origin;
	return view.bits[u / 64] >> (u % 64) & 1 ? -1 : (int)u;
}

static void view_take(void)
{
	pid_t me = getpid();
	if (view.pid != me) {
		memset(&view, 0, sizeof view);
		for (unsigned i = 0; i < FDTAB_ALIAS_MAX; i++)
			view.alias[i].fd = view.alias[i].origin = -1;
		view.pid = me;
	}
}

void fdtab_hide(int fd)
{
	unsigned u = (unsigned)fd;
	if (fd < 0 || u >= FDTAB_HIDE_MAX)
		return;
	view_take();
	for (unsigned i = 0; i < FDTAB_ALIAS_MAX; i++)
		if (view.alias[i].fd == fd)
			view.alias[i].fd = view.alias[i].origin = -1;
	view.bits[u / 64] |= (uint64_t)1 << (u % 64);
	view.n++;
}

int fdtab_view_alias(int newfd, int oldfd)
{
	unsigned u = (unsigned)newfd;
	if (newfd < 0 || u >= FDTAB_HIDE_MAX || oldfd < 0)
		return -1;
	int origin = view.n ? view_lookup((unsigned)oldfd) : oldfd;
	if (origin < 0)
		return -1; /* hidden: not a connection here */
	view_take();
	fdtab_hide(newfd); /* whatever it named before */
	for (unsigned i = 0; i < FDTAB_ALIAS_MAX; i++)
		if (view.alias[i].fd < 0) {
			view.alias[i].fd = newfd;
			view.alias[i].origin = origin;
			return 0;
		}
	return -1;
}

bool fdtab_view_moved(int fd)
{
	if (!view.n || fd < 0)
		return false;
	int origin = view_lookup((unsigned)fd);
	return origin >= 0 && origin != fd;
}

/* The table's slot for ${u} (no view). */
static struct sconn *slot(unsigned u)
{
	struct sconn **page = __atomic_load_n(&pages[u >> PAGE_BITS], __ATOMIC_ACQUIRE);
	if (!page)
		return NULL;
	return __atomic_load_n(&page[u & (PAGE_SLOTS - 1)], __ATOMIC_ACQUIRE);
}

struct sconn *fdtab_get(int fd)
{
	unsigned u = (unsigned)fd;
	if (fd < 0 || (u >> PAGE_BITS) >= PAGES)
		return NULL;
	/* Asked on every lookup, not only ours: the first hooked call of the
	 * parent after the child is gone discards the child's view, so it
	 * cannot outlive the child until a later child gets the same pid. */
	if (__builtin_expect(view.n != 0, 0)) {
		int o = view_lookup(u);
		if (o < 0)
			return NULL;
		u = (unsigned)o;
	}
	return slot(u);
}

struct sconn *fdtab_acquire(int fd)
{
	if (!fdtab_get(fd))
		return NULL;
	/* An alias in a vfork child's view: the lock of the number it names */
	int o = __builtin_expect(view.n != 0, 0) ? view_lookup((unsigned)fd) : fd;
	pthread_mutex_t *m = &stripes[(unsigned)(o < 0 ? fd : o) % STRIPES];
	pthread_mutex_lock(m);
	struct sconn *s = fdtab_get(fd);
	if (s)
		sconn_ref(s);
	pthread_mutex_unlock(m);
	return s;
}

static struct sconn **page_for(unsigned u)
{
	struct sconn **page = __atomic_load_n(&pages[u >> PAGE_BITS], __ATOMIC_ACQUIRE);
	if (page)
		return page;
	pthread_mutex_lock(&page_lock);
	page = pages[u >> PAGE_BITS];
	if (!page) {
		page = calloc(PAGE_SLOTS, sizeof *page);
		if (page)
			__atomic_store_n(&pages[u >> PAGE_BITS], page, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&page_lock);
	return page;
}

struct sconn *fdtab_set(int fd, struct sconn *s)
{
	unsigned u = (unsigned)fd;
	if (fd < 0 || (u >> PAGE_BITS) >= PAGES)
		return s ? (struct sconn *)-1 : NULL;
	if (!s && !fdtab_get(fd))
		return NULL;
	struct sconn **page = page_for(u);
	if (!page)
		return (struct sconn *)-1;
	pthread_mutex_t *m = &stripes[u % STRIPES];
	pthread_mutex_lock(m);
	if (s)
		sconn_ref(s);
	struct sconn *old = __atomic_exchange_n(&page[u & (PAGE_SLOTS - 1)], s, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(m);
	/* Readiness: the epoll registrations of ${old} at this number are
	 * stale now; the next wait of their sets drops them (hook_epoll.c). */
	if (old && old != s)
		epset_touch(old);
	return old;
}

int fdtab_foreach(int (*fn)(int fd, struct sconn *s, void *arg), void *arg)
{
	for (unsigned p = 0; p < PAGES; p++) {
		struct sconn **page = __atomic_load_n(&pages[p], __ATOMIC_ACQUIRE);
		if (!page && !(p == 0 && view.n)) /* a vfork child's aliases are in page 0 */
			continue;
		for (unsigned i = 0; i < PAGE_SLOTS; i++) {
			int fd = (int)(p << PAGE_BITS | i);
			struct sconn *s = fdtab_acquire(fd);
			if (!s)
				continue;
			int r = fn(fd, s, arg);
			sconn_unref(s);
			if (r)
				return r;
		}
	}
	return 0;
}

int fdtab_next(int fd)
{
	if (fd < 0)
		fd = 0;
	for (unsigned u = (unsigned)fd; (u >> PAGE_BITS) < PAGES;) {
		struct sconn **page = __atomic_load_n(&pages[u >> PAGE_BITS], __ATOMIC_ACQUIRE);
		if (!page && !(u < FDTAB_HIDE_MAX && view.n)) { /* aliases: page 0 */
			u = ((u >> PAGE_BITS) + 1) << PAGE_BITS;
			continue;
		}
		if (fdtab_get((int)u))
			return (int)u;
		u++;
	}
	return -1;
}

void fdtab_fork_lock(void)
{
	pthread_mutex_lock(&page_lock);
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_lock(&stripes[i]);
}

void fdtab_fork_unlock(void)
{
	for (unsigned i = STRIPES; i-- > 0;)
		pthread_mutex_unlock(&stripes[i]);
	pthread_mutex_unlock(&page_lock);
}
