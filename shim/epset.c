/*
 * epset.c: the table of epoll sets and the registrations inside each
 * (epset.h). Pages of the table are allocated on first use and never
 * freed, as in fdtab.c, so a lock-free lookup never sees one disappear.
 */
#include "epset.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "hooks.h"

unsigned shim_fd_epoch;

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

/* ---- the table of sets, by epoll descriptor (like fdtab) ---------------- */

#define PAGE_BITS  12
#define PAGE_SLOTS (1u << PAGE_BITS)
#define PAGES      1024u
#define STRIPES    64u

static struct eset **set_pages[PAGES];
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
			if (page[i])
				pthread_mutex_init(&page[i]->lock, NULL);
	}
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
	pthread_mutex_init(&es->lock, NULL);
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
	return 0;
}

void epset_hash_del(struct eset *es, struct ereg *r)
{
	size_t mask = es->hcap - 1, i = hash_pos(es, r->fd);
	while (es->hash[i] != r)
		i = (i + 1) & mask;
	es->hash[i] = NULL;
	es->count--;
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
		if (es->nslots >= (1u << EPSET_SLOT_BITS))
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
	if (epset_spec_add(es, r) < 0) {
		epset_slot_put(es, r);
		return -1;
	}
	r->kind = REG_TLS;
	r->s = s;
	r->armed = r->fired = r->hup = r->off = false;
	r->last_vis = 0;
	return 0;
}

int epset_make_nested(struct eset *es, struct ereg *r, struct eset *inner)
{
	if (epset_spec_add(es, r) < 0)
		return -1;
	r->kind = REG_NESTED;
	r->inner = inner;
	es->nnested++;
	r->off = false;
	r->last_vis = 0;
	r->inner_seen = __atomic_load_n(&inner->harvests, __ATOMIC_ACQUIRE);
	return 0;
}

void epset_make_plain(struct eset *es, struct ereg *r)
{
	if (r->kind == REG_TLS) {
		spec_del(es, r);
		epset_slot_put(es, r);
		shim_unref(r->s);
		r->s = NULL;
	} else if (r->kind == REG_NESTED) {
		spec_del(es, r);
		es->nnested--;
		epset_unref(r->inner);
		r->inner = NULL;
	}
	r->kind = REG_PLAIN;
}

void epset_reg_free(struct eset *es, struct ereg *r)
{
	es->frees++;
	epset_make_plain(es, r);
	epset_hash_del(es, r);
	free(r);
}

void epset_unref(struct eset *es)
{
	if (!es || __atomic_sub_fetch(&es->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < es->hcap; i++) {
		struct ereg *r = es->hash[i];
		if (!r)
			continue;
		if (r->kind == REG_TLS)
			shim_unref(r->s);
		else if (r->kind == REG_NESTED)
			epset_unref(r->inner);
		free(r);
	}
	free(es->hash);
	free(es->spec);
	free(es->slots);
	free(es->slotgen);
	free(es->freeslots);
	pthread_mutex_destroy(&es->lock);
	free(es);
}
