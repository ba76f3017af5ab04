/*
 * epset.c: the table of epoll sets and the registrations inside each
 * (epset.h). Pages of the table are allocated on first use and never
 * freed, as in fdtab.c, so a lock-free lookup never sees one disappear.
 */
#include "epset.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "real.h"

unsigned shim_fd_epoch;
unsigned long epset_stat_waits, epset_stat_visits, epset_stat_rearms;
unsigned epset_missed;

static uint32_t magic;

static uint32_t tag_magic(void)
{
	uint32_t m = __atomic_load_n(&magic, __ATOMIC_RELAXED);
	if (m)
		return m;
	/* Not a secret: only unlikely to equal the top half of the program's
	 * data. The top bit keeps it out of user-space pointers and small
	 * numbers. */
	uint64_t x = shim_now_us() ^ (uint64_t)(uintptr_t)&magic ^ (uint64_t)getpid() << 20;
	x *= 0x9e3779b97f4a7c15ull;
	m = (uint32_t)(x >> 32) | 0x80000000u;
	if (m == 0xffffffffu)
		m = 0xc1a5c1a5u;
	uint32_t zero = 0;
	__atomic_compare_exchange_n(&magic, &zero, m, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return __atomic_load_n(&magic, __ATOMIC_RELAXED);
}

uint64_t epset_tag(const struct ereg *r)
{
	return (uint64_t)tag_magic() << 32 | (uint64_t)(r->gen & 0xff) << EPSET_SLOT_BITS | r->slot;
}

bool epset_is_kick(uint64_t d)
{
	return epset_is_tag(d) && (uint32_t)d == EPSET_KICK_SLOT;
}

bool epset_is_tag(uint64_t d)
{
	return magic && (uint32_t)(d >> 32) == magic;
}

struct ereg *epset_tagged(const struct eset *es, uint64_t d)
{
	if (!epset_is_tag(d))
		return NULL;
	uint32_t slot = (uint32_t)d & ((1u << EPSET_SLOT_BITS) - 1);
	struct ereg *r = slot < es->nslots ? es->slots[slot] : NULL;
	return r && (r->gen & 0xff) == ((d >> EPSET_SLOT_BITS) & 0xff) ? r : NULL;
}

/* At exit, at log level debug: what the waits cost (epset.h). */
__attribute__((destructor)) static void report_stats(void)
{
	unsigned long w = __atomic_load_n(&epset_stat_waits, __ATOMIC_RELAXED);
	if (w && shim_log_enabled(SHIM_LOG_DEBUG))
		shim_log(SHIM_LOG_DEBUG,
			 "epoll: %lu waits on sets with TLS registrations looked at %lu "
			 "registrations and made %lu epoll_ctl calls for them",
			 w, __atomic_load_n(&epset_stat_visits, __ATOMIC_RELAXED),
			 __atomic_load_n(&epset_stat_rearms, __ATOMIC_RELAXED));
}

/* ---- the table of sets, by epoll descriptor (like fdtab) ---------------- */

#define PAGE_BITS  12
#define PAGE_SLOTS (1u << PAGE_BITS)
#define PAGES      1024u
#define STRIPES    64u

#define WATCH_STRIPES 64u

static struct eset **set_pages[PAGES];
/* Guard each connection's list of registrations (sconn->watch), striped by
 * the connection's address. Order: es->lock, then a watch stripe, then
 * es->rlock. */
static pthread_mutex_t watch_stripes[WATCH_STRIPES] = {[0 ... WATCH_STRIPES - 1] =
							       PTHREAD_MUTEX_INITIALIZER};
static pthread_mutex_t set_page_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t set_stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

void epset_unref(struct eset *es);

struct eset *epset_get(int fd)
{
	unsigned u = (unsigned)fd;
	if (fd < 0 || (u >> PAGE_BITS) >= PAGES)
		return NULL;
	struct eset **page = __atomic_load_n(&set_pages[u >> PAGE_BITS], __ATOMIC_ACQUIRE);
	return page ? __atomic_load_n(&page[u & (PAGE_SLOTS - 1)], __ATOMIC_ACQUIRE) : NULL;
}

struct eset *epset_acquire(int fd)
{
	if (!epset_get(fd))
		return NULL;
	pthread_mutex_t *m = &set_stripes[(unsigned)fd % STRIPES];
	pthread_mutex_lock(m);
	struct eset *es = epset_get(fd);
	if (es)
		__atomic_add_fetch(&es->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(m);
	return es;
}

void epset_install(int fd, struct eset *es, struct eset *expect)
{
	unsigned u = (unsigned)fd;
	if (fd < 0 || (u >> PAGE_BITS) >= PAGES) {
		if (es)
			epset_unref(es);
		return;
	}
	struct eset **page = __atomic_load_n(&set_pages[u >> PAGE_BITS], __ATOMIC_ACQUIRE);
	if (!page && es) {
		pthread_mutex_lock(&set_page_lock);
		page = set_pages[u >> PAGE_BITS];
		if (!page) {
			page = calloc(PAGE_SLOTS, sizeof *page);
			if (page)
				__atomic_store_n(&set_pages[u >> PAGE_BITS], page,
						 __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&set_page_lock);
	}
	if (!page) {
		if (es)
			epset_unref(es);
		return;
	}
	pthread_mutex_t *m = &set_stripes[u % STRIPES];
	pthread_mutex_lock(m);
	struct eset **slot = &page[u & (PAGE_SLOTS - 1)];
	struct eset *old = *slot;
	if (expect && old != expect) {
		pthread_mutex_unlock(m);
		if (es)
			epset_unref(es);
		return;
	}
	__atomic_store_n(slot, es, __ATOMIC_RELEASE);
	pthread_mutex_unlock(m);
	if (old)
		epset_unref(old);
	if (es) /* nested registrations elsewhere may now name a set */
		__atomic_add_fetch(&shim_fd_epoch, 1, __ATOMIC_RELEASE);
}

/* A forked child inherits our locks in whatever state the parent's other
 * threads had them. */
static void after_fork_child(void)
{
	pthread_mutex_init(&set_page_lock, NULL);
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_init(&set_stripes[i], NULL);
	for (unsigned p = 0; p < PAGES; p++) {
		struct eset **page = set_pages[p];
		for (unsigned i = 0; page && i < PAGE_SLOTS; i++)
			if (page[i]) {
				pthread_mutex_init(&page[i]->lock, NULL);
				pthread_mutex_init(&page[i]->rlock, NULL);
				/* The parent's waiters are not ours. */
				__atomic_store_n(&page[i]->waiters, 0, __ATOMIC_RELAXED);
			}
	}
	for (unsigned i = 0; i < WATCH_STRIPES; i++)
		pthread_mutex_init(&watch_stripes[i], NULL);
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

struct eset *epset_new(int epfd)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_atfork);
	struct eset *es = calloc(1, sizeof *es);
	if (!es)
		return NULL;
	es->refs = 1;
	es->epfd = epfd;
	es->kfd = -1;
	pthread_mutex_init(&es->lock, NULL);
	pthread_mutex_init(&es->rlock, NULL);
	es->missed = __atomic_load_n(&epset_missed, __ATOMIC_ACQUIRE);
	es->epoch = __atomic_load_n(&shim_fd_epoch, __ATOMIC_ACQUIRE);
	tag_magic(); /* so epoll_ctl can tell when the program's data looks like a tag */
	return es;
}

/* ---- registrations ------------------------------------------------------ */

static size_t hash_pos(const struct eset *es, int fd)
{
	return ((unsigned)fd * 2654435761u) & (es->hcap - 1);
}

struct ereg *epset_find(const struct eset *es, int fd)
{
	if (!es->hcap)
		return NULL;
	for (size_t i = hash_pos(es, fd);; i = (i + 1) & (es->hcap - 1)) {
		struct ereg *r = es->hash[i];
		if (!r || r->fd == fd)
			return r;
	}
}

/* The plain list: what a walk after a shim_fd_epoch change looks at, so
 * that it costs O(plain registrations), not O(all). */
static void plain_add(struct eset *es, struct ereg *r)
{
	r->pprev = NULL;
	r->pnext = es->plain;
	if (es->plain)
		es->plain->pprev = r;
	es->plain = r;
}

static void plain_del(struct eset *es, struct ereg *r)
{
	if (r->pprev)
		r->pprev->pnext = r->pnext;
	else
		es->plain = r->pnext;
	if (r->pnext)
		r->pnext->pprev = r->pprev;
	r->pnext = r->pprev = NULL;
}

int epset_hash_add(struct eset *es, struct ereg *r)
{
	if ((es->count + 1) * 2 > es->hcap) {
		size_t cap = es->hcap ? es->hcap * 2 : 16;
		struct ereg **h = calloc(cap, sizeof *h), **old = es->hash;
		if (!h)
			return -1;
		size_t oldcap = es->hcap;
		es->hash = h;
		es->hcap = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i]) {
				size_t j = hash_pos(es, old[i]->fd);
				while (h[j])
					j = (j + 1) & (cap - 1);
				h[j] = old[i];
			}
		free(old);
	}
	size_t i = hash_pos(es, r->fd);
	while (es->hash[i])
		i = (i + 1) & (es->hcap - 1);
	es->hash[i] = r;
	es->count++;
	r->hashed = true;
	if (r->kind == REG_PLAIN)
		plain_add(es, r);
	return 0;
}

void epset_hash_del(struct eset *es, struct ereg *r)
{
	size_t mask = es->hcap - 1, i = hash_pos(es, r->fd);
	while (es->hash[i] != r)
		i = (i + 1) & mask;
	es->hash[i] = NULL;
	es->count--;
	if (r->kind == REG_PLAIN)
		plain_del(es, r);
	r->hashed = false;
	/* Backward shift: re-place the rest of the cluster. */
	for (size_t j = (i + 1) & mask; es->hash[j]; j = (j + 1) & mask) {
		struct ereg *x = es->hash[j];
		es->hash[j] = NULL;
		size_t k = hash_pos(es, x->fd);
		while (es->hash[k])
			k = (k + 1) & mask;
		es->hash[k] = x;
	}
}

int epset_spec_add(struct eset *es, struct ereg *r)
{
	if (es->nspec == es->capspec) {
		size_t cap = es->capspec ? es->capspec * 2 : 8;
		struct ereg **p = realloc(es->spec, cap * sizeof *p);
		if (!p)
			return -1;
		es->spec = p;
		es->capspec = cap;
	}
	r->spec = es->nspec;
	es->spec[es->nspec] = r;
	/* Read without the lock by epoll_wait's "anything to scan?" test. */
	__atomic_store_n(&es->nspec, es->nspec + 1, __ATOMIC_RELAXED);
	return 0;
}

static void spec_del(struct eset *es, struct ereg *r)
{
	__atomic_store_n(&es->nspec, es->nspec - 1, __ATOMIC_RELAXED);
	struct ereg *last = es->spec[es->nspec];
	es->spec[r->spec] = last;
	last->spec = r->spec;
}

int epset_slot_take(struct eset *es, struct ereg *r)
{
	if (es->nfree) {
		r->slot = es->freeslots[--es->nfree];
	} else {
		if (es->nslots >= (1u << EPSET_SLOT_BITS) - 1)
			return -1;
		if (es->nslots == es->capslots) {
			size_t cap = es->capslots ? es->capslots * 2 : 8;
			struct ereg **sl = realloc(es->slots, cap * sizeof *sl);
			if (sl)
				es->slots = sl;
			uint32_t *g = sl ? realloc(es->slotgen, cap * sizeof *g) : NULL;
			if (g)
				es->slotgen = g;
			uint32_t *f = g ? realloc(es->freeslots, cap * sizeof *f) : NULL;
			if (!f)
				return -1; /* the arrays that grew are merely larger */
			es->freeslots = f;
			es->capslots = cap;
		}
		r->slot = (uint32_t)es->nslots;
		es->slotgen[es->nslots++] = 0;
	}
	r->gen = ++es->slotgen[r->slot];
	es->slots[r->slot] = r;
	return 0;
}

void epset_slot_put(struct eset *es, struct ereg *r)
{
	es->slots[r->slot] = NULL;
	es->freeslots[es->nfree++] = r->slot;
}

int epset_make_tls(struct eset *es, struct ereg *r, sconn *s)
{
	if (epset_slot_take(es, r) < 0)
		return -1;
	if (r->hashed && r->kind == REG_PLAIN)
		plain_del(es, r);
	r->kind = REG_TLS;
	r->set = es;
	r->s = s;
	r->kev = 0;
	r->fired = r->hup = r->off = false;
	r->last_vis = 0;
	__atomic_add_fetch(&es->ntls, 1, __ATOMIC_RELAXED); /* read unlocked by waits */
	epset_watch(r);
	return 0;
}

int epset_make_nested(struct eset *es, struct ereg *r, struct eset *inner)
{
	if (epset_spec_add(es, r) < 0)
		return -1;
	if (r->hashed && r->kind == REG_PLAIN)
		plain_del(es, r);
	r->kind = REG_NESTED;
	r->set = es;
	r->inner = inner;
	es->nnested++;
	__atomic_add_fetch(&inner->nested_in, 1, __ATOMIC_SEQ_CST);
	r->off = false;
	r->last_vis = 0;
	r->inner_seen = __atomic_load_n(&inner->harvests, __ATOMIC_ACQUIRE);
	return 0;
}

void epset_make_plain(struct eset *es, struct ereg *r)
{
	if (r->kind == REG_TLS) {
		epset_unwatch(r);
		epset_unqueue(es, r);
		epset_slot_put(es, r);
		__atomic_sub_fetch(&es->ntls, 1, __ATOMIC_RELAXED);
		shim_unref(r->s);
		r->s = NULL;
	} else if (r->kind == REG_NESTED) {
		spec_del(es, r);
		es->nnested--;
		__atomic_sub_fetch(&r->inner->nested_in, 1, __ATOMIC_SEQ_CST);
		epset_unref(r->inner);
		r->inner = NULL;
	} else {
		return;
	}
	r->kind = REG_PLAIN;
	if (r->hashed)
		plain_add(es, r);
}

void epset_reg_free(struct eset *es, struct ereg *r)
{
	es->frees++;
	epset_make_plain(es, r);
	epset_hash_del(es, r);
	free(r);
}

/* ---- the ready list ----------------------------------------------------- */

/* A thread inside one of the locks a touch takes (a watch stripe, a ready
 * list): a signal handler that interrupted it must not take them again. */
static __thread int in_ready_lock __attribute__((tls_model("initial-exec")));

static void rlock(struct eset *es)
{
	in_ready_lock++;
	pthread_mutex_lock(&es->rlock);
}

static void runlock(struct eset *es)
{
	pthread_mutex_unlock(&es->rlock);
	in_ready_lock--;
}

/* Wake a thread blocked in the kernel wait of ${es}, or of a set that
 * holds ${es} (the kernel reports ${es} readable there), through an
 * edge-triggered eventfd that lives in the kernel set: each write is a new
 * edge, so it is never read. Made on first need. */
static void kick(struct eset *es)
{
	if (!__atomic_load_n(&es->waiters, __ATOMIC_SEQ_CST) &&
	    !__atomic_load_n(&es->nested_in, __ATOMIC_SEQ_CST))
		return;
	/* One write until a wait has taken the list again. */
	if (__atomic_exchange_n(&es->kick_pending, true, __ATOMIC_SEQ_CST))
		return;
	int saved = errno;
	int k = __atomic_load_n(&es->kfd, __ATOMIC_ACQUIRE);
	if (k < 0) {
		int fd = REAL(eventfd)(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
					 .data.u64 = (uint64_t)tag_magic() << 32 | EPSET_KICK_SLOT};
		int none = -1;
		if (fd < 0 || REAL(epoll_ctl)(es->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ||
		    !__atomic_compare_exchange_n(&es->kfd, &none, fd, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			if (fd >= 0)
				REAL(close)(fd);
			k = __atomic_load_n(&es->kfd, __ATOMIC_ACQUIRE);
		} else {
			k = fd;
		}
	}
	if (k >= 0) {
		uint64_t one = 1;
		if (REAL(write)(k, &one, sizeof one) < 0) { /* nothing more we can do */
		}
	}
	errno = saved;
}

void epset_queue(struct eset *es, struct ereg *r, bool wake)
{
	rlock(es);
	bool add = !r->queued;
	if (add) {
		r->queued = true;
		r->rnext = NULL;
		r->rprev = es->rtail;
		if (es->rtail)
			es->rtail->rnext = r;
		else
			__atomic_store_n(&es->rhead, r, __ATOMIC_RELEASE);
		es->rtail = r;
	}
	if (add && wake)
		__atomic_add_fetch(&es->touches, 1, __ATOMIC_SEQ_CST);
	runlock(es);
	if (add && wake)
		kick(es);
}

static void unlink_locked(struct eset *es, struct ereg *r)
{
	if (r->rprev)
		r->rprev->rnext = r->rnext;
	else
		__atomic_store_n(&es->rhead, r->rnext, __ATOMIC_RELEASE);
	if (r->rnext)
		r->rnext->rprev = r->rprev;
	else
		es->rtail = r->rprev;
	r->rnext = r->rprev = NULL;
	r->queued = false;
}

void epset_unqueue(struct eset *es, struct ereg *r)
{
	rlock(es);
	if (r->queued)
		unlink_locked(es, r);
	runlock(es);
}

bool epset_ready_empty(struct eset *es)
{
	return !__atomic_load_n(&es->rhead, __ATOMIC_ACQUIRE);
}

size_t epset_take_ready(struct eset *es)
{
	__atomic_store_n(&es->kick_pending, false, __ATOMIC_SEQ_CST);
	rlock(es);
	size_t n = 0;
	for (struct ereg *r = es->rhead; r; r = r->rnext)
		n++;
	if (n > es->rbufcap) {
		size_t cap = n * 2;
		struct ereg **b = realloc(es->rbuf, cap * sizeof *b);
		if (!b) {
			runlock(es);
			return 0;
		}
		es->rbuf = b;
		es->rbufcap = cap;
	}
	n = 0;
	while (es->rhead) {
		struct ereg *r = es->rhead;
		unlink_locked(es, r);
		es->rbuf[n++] = r;
	}
	runlock(es);
	return n;
}

/* ---- a connection's registrations --------------------------------------- */

static pthread_mutex_t *watch_lock(const sconn *s)
{
	return &watch_stripes[((uintptr_t)s >> 6) % WATCH_STRIPES];
}

void epset_watch(struct ereg *r)
{
	pthread_mutex_t *m = watch_lock(r->s);
	in_ready_lock++;
	pthread_mutex_lock(m);
	__atomic_store_n(&r->wnext, r->s->watch, __ATOMIC_RELAXED);
	/* Read without the lock by epset_touch's "in any set?" test. */
	__atomic_store_n(&r->s->watch, r, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(m);
	in_ready_lock--;
}

void epset_unwatch(struct ereg *r)
{
	pthread_mutex_t *m = watch_lock(r->s);
	in_ready_lock++;
	pthread_mutex_lock(m);
	struct ereg **pp = &r->s->watch;
	while (*pp && *pp != r)
		pp = &(*pp)->wnext;
	if (*pp)
		__atomic_store_n(pp, r->wnext, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->wnext, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(m);
	in_ready_lock--;
}

void epset_touch(sconn *s)
{
	epset_touch_except(s, NULL);
}

void epset_touch_except(sconn *s, const struct ereg *skip)
{
	struct ereg *w = __atomic_load_n(&s->watch, __ATOMIC_SEQ_CST);
	if (!w || (w == skip && !__atomic_load_n(&w->wnext, __ATOMIC_RELAXED)))
		return;
	int saved = errno;
	if (in_ready_lock) { /* a signal handler inside our own locks */
		__atomic_add_fetch(&epset_missed, 1, __ATOMIC_SEQ_CST);
		errno = saved;
		return;
	}
	pthread_mutex_t *m = watch_lock(s);
	in_ready_lock++;
	pthread_mutex_lock(m);
	in_ready_lock--;
	for (struct ereg *r = s->watch; r; r = r->wnext)
		if (r != skip)
			epset_queue(r->set, r, true);
	in_ready_lock++;
	pthread_mutex_unlock(m);
	in_ready_lock--;
	errno = saved;
}

void epset_unref(struct eset *es)
{
	if (!es || __atomic_sub_fetch(&es->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < es->hcap; i++) {
		struct ereg *r = es->hash[i];
		if (!r)
			continue;
		if (r->kind == REG_TLS) {
			epset_unwatch(r);
			shim_unref(r->s);
		} else if (r->kind == REG_NESTED) {
			__atomic_sub_fetch(&r->inner->nested_in, 1, __ATOMIC_SEQ_CST);
			epset_unref(r->inner);
		}
		free(r);
	}
	if (es->kfd >= 0)
		REAL(close)(es->kfd);
	free(es->rbuf);
	pthread_mutex_destroy(&es->rlock);
	free(es->hash);
	free(es->spec);
	free(es->slots);
	free(es->slotgen);
	free(es->freeslots);
	pthread_mutex_destroy(&es->lock);
	free(es);
}
