/*
 * secret_pool.h: small fixed-size slots for secrets that outlive a
 * handshake (a session's master secret), in guarded, locked memory
 * without a system call per secret.
 *
 * sodium_malloc gives every allocation its own mapping with guard pages,
 * mlock and MADV_DONTDUMP: about seven system calls to allocate and free,
 * which a session per handshake made a measurable share of a resumed
 * handshake's cost. The pool takes such pages a page of slots at a time
 * (sodium_malloc, so the slots keep those protections) and hands out slots
 * from a bitmap with compare-and-swap: no lock, so a fork at any moment
 * leaves the child a consistent pool (tls.h "fork"). Pages are never
 * returned to the system; the pool is as large as the most secrets alive
 * at once.
 */
#ifndef TLSHIM_CORE_SECRET_POOL_H
#define TLSHIM_CORE_SECRET_POOL_H

#include <stddef.h>

/* Size of one slot: room for any TLS 1.2 master secret (48 bytes) or
 * TLS 1.3 secret (at most 48, SHA-384). */
#define TLS_SECRET_SLOT 64

/* tls_secret_alloc(): a zeroed TLS_SECRET_SLOT-byte slot in guarded,
 * locked memory; NULL when memory for a new page of slots cannot be had.
 * Thread-safe. */
void *tls_secret_alloc(void);

/* tls_secret_free(p): wipe the slot ${p} (from tls_secret_alloc) and give
 * it back. NULL is a no-op; any other pointer not from the pool aborts
 * (a freed secret must never land anywhere but its own slot). */
void tls_secret_free(void *p);

/* tls_secret_pool_pages(): pages of slots the pool holds (for tests). */
size_t tls_secret_pool_pages(void);

#endif
