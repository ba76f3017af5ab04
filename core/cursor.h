/*
 * cursor.h: the only way core/ reads peer bytes (tls_cur) and writes wire
 * bytes (tls_wbuf).
 *
 * Both are sticky-error: a read past the end or a write past the capacity
 * sets ->bad, returns zeros / does nothing, and every later call is a no-op.
 * Callers check once at the end with tls_cur_done() / tls_wbuf_ok() instead
 * of after every field, which keeps parsers short and impossible to overrun.
 */
#ifndef TLSHIM_CORE_CURSOR_H
#define TLSHIM_CORE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tls_cur {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
} tls_cur;

typedef struct tls_wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool bad;
} tls_wbuf;

/* tls_cur_init(c, p, len): cursor over ${len} bytes at ${p}. */
void tls_cur_init(tls_cur *c, const uint8_t *p, size_t len);

/* tls_cur_u8/u16/u24/u32(c): next big-endian integer, or 0 and c->bad. */
uint8_t tls_cur_u8(tls_cur *c);
uint16_t tls_cur_u16(tls_cur *c);
uint32_t tls_cur_u24(tls_cur *c);
uint32_t tls_cur_u32(tls_cur *c);
uint64_t tls_cur_u64(tls_cur *c);

/* tls_cur_bytes(c, n): pointer to the next ${n} bytes (consumed), or NULL
 * and c->bad when fewer remain. */
const uint8_t *tls_cur_bytes(tls_cur *c, size_t n);

/* tls_cur_copy(c, out, n): copy the next ${n} bytes to ${out}; on underflow
 * zero ${out} and set c->bad. */
void tls_cur_copy(tls_cur *c, void *out, size_t n);

/* tls_cur_block(c, len_bytes): read a ${len_bytes}-byte (1, 2 or 3) length
 * prefix and return a sub-cursor over exactly that many bytes, consuming
 * them from ${c}. On underflow the sub-cursor is empty and both are bad. */
tls_cur tls_cur_block(tls_cur *c, int len_bytes);

/* tls_cur_remaining(c): bytes left (0 when bad). */
size_t tls_cur_remaining(const tls_cur *c);

/* tls_cur_done(c): true when no error occurred and every byte was consumed. */
bool tls_cur_done(const tls_cur *c);

/* tls_wbuf_init(w, p, cap): writer into ${cap} bytes at ${p}. */
void tls_wbuf_init(tls_wbuf *w, uint8_t *p, size_t cap);

void tls_wbuf_u8(tls_wbuf *w, uint8_t v);
void tls_wbuf_u16(tls_wbuf *w, uint16_t v);
void tls_wbuf_u24(tls_wbuf *w, uint32_t v);
void tls_wbuf_u32(tls_wbuf *w, uint32_t v);
void tls_wbuf_u64(tls_wbuf *w, uint64_t v);
void tls_wbuf_bytes(tls_wbuf *w, const void *p, size_t n);

/* tls_wbuf_reserve(w, n): pointer to ${n} writable bytes, counted as
 * written, or NULL and w->bad when they do not fit. */
uint8_t *tls_wbuf_reserve(tls_wbuf *w, size_t n);

/* tls_wbuf_open(w, len_bytes): write a ${len_bytes}-byte length placeholder
 * and return a mark for tls_wbuf_close(). */
size_t tls_wbuf_open(tls_wbuf *w, int len_bytes);

/* tls_wbuf_close(w, mark, len_bytes): patch the placeholder at ${mark} with
 * the number of bytes written since; w->bad if it does not fit. */
void tls_wbuf_close(tls_wbuf *w, size_t mark, int len_bytes);

/* tls_wbuf_ok(w): true when nothing overflowed. */
bool tls_wbuf_ok(const tls_wbuf *w);

#endif
