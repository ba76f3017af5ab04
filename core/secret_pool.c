/*
 * secret_pool.c: see secret_pool.h. A page is 64 slots of 64 bytes (4 KiB
 * of sodium_malloc memory) and one 64-bit word saying which are taken;
 * pages form a list that only grows, pushed at its head by CAS, so readers
 * walk it without a lock.
 */
#include "secret_pool.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define SLOTS_PER_PAGE 64

struct secret_page {
	_Atomic uint64_t used; /* bit i: slot i is handed out */
	uint8_t *slots;        /* SLOTS_PER_PAGE * TLS_SECRET_SLOT, sodium_malloc */
	struct secret_page *next;
};

static _Atomic(struct secret_page *) pages;
static atomic_size_t page_count;

/* take_slot(p): claim a free slot of ${p}; NULL when all are taken. */
static void *take_slot(struct secret_page *p)
{
	uint64_t w = atomic_load_explicit(&p->used, memory_order_relaxed);

	while (w != UINT64_MAX) {
		unsigned i = (unsigned)__builtin_ctzll(~w);
		/* Acquire: the wipe the last owner did before releasing the
		 * slot happens before this owner's first use. */
		if (atomic_compare_exchange_weak_explicit(&p->used, &w, w | (UINT64_C(1) << i),
							  memory_order_acquire,
							  memory_order_relaxed))
			return p->slots + (size_t)i * TLS_SECRET_SLOT;
	}
	return NULL;
}

void *tls_secret_alloc(void)
{
	struct secret_page *p, *head;
	void *slot;

	for (p = atomic_load_explicit(&pages, memory_order_acquire); p != NULL; p = p->next)
		if ((slot = take_slot(p)) != NULL)
			return slot;

	if (sodium_init() < 0 || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->slots = sodium_allocarray(SLOTS_PER_PAGE, TLS_SECRET_SLOT)) == NULL) {
		free(p);
		return NULL;
	}
	sodium_memzero(p->slots, SLOTS_PER_PAGE * TLS_SECRET_SLOT);
	atomic_init(&p->used, UINT64_C(1)); /* slot 0 is this caller's */
	head = atomic_load_explicit(&pages, memory_order_relaxed);
	do
		p->next = head;
	while (!atomic_compare_exchange_weak_explicit(&pages, &head, p, memory_order_release,
						      memory_order_relaxed));
	atomic_fetch_add_explicit(&page_count, 1, memory_order_relaxed);
	return p->slots;
}

void tls_secret_free(void *ptr)
{
	uint8_t *b = ptr;
	struct secret_page *p;

	if (b == NULL)
		return;
	for (p = atomic_load_explicit(&pages, memory_order_acquire); p != NULL; p = p->next) {
		if (b < p->slots || b >= p->slots + SLOTS_PER_PAGE * TLS_SECRET_SLOT)
			continue;
		size_t off = (size_t)(b - p->slots);
		if (off % TLS_SECRET_SLOT != 0)
			break;
		uint64_t bit = UINT64_C(1) << (off / TLS_SECRET_SLOT);
		if ((atomic_load_explicit(&p->used, memory_order_relaxed) & bit) == 0)
			break; /* a double free */
		sodium_memzero(b, TLS_SECRET_SLOT);
		/* Release: the wipe is done before another thread may take it. */
		atomic_fetch_and_explicit(&p->used, ~bit, memory_order_release);
		return;
	}
	abort();
}

size_t tls_secret_pool_pages(void)
{
	return atomic_load_explicit(&page_count, memory_order_relaxed);
}
