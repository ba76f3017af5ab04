/*
 * cursor.c: bounded, sticky-error reading of peer bytes and writing of wire
 * bytes. Every check against the end of the buffer in core/ happens here.
 */
#include "cursor.h"

#include <string.h>

/* A zero-length read must still yield a non-NULL pointer (NULL means
 * underflow), and p + 0 on a NULL p is undefined behaviour. */
static const uint8_t empty_bytes[1];

/* take(c, n): consume ${n} bytes, or mark ${c} bad; the start, or NULL. */
static const uint8_t *take(tls_cur *c, size_t n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = true;
		return NULL;
	}
	if (n == 0)
		return c->p != NULL ? c->p + c->pos : empty_bytes;
	const uint8_t *r = c->p + c->pos;
	c->pos += n;
	return r;
}

/* be(c, n): next ${n}-byte big-endian unsigned integer, 0 on underflow. */
static uint64_t be(tls_cur *c, size_t n)
{
	const uint8_t *b = take(c, n);
	uint64_t v = 0;

	if (b == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

void tls_cur_init(tls_cur *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = p != NULL ? len : 0;
	c->pos = 0;
	c->bad = false;
}

uint8_t tls_cur_u8(tls_cur *c)
{
	return (uint8_t)be(c, 1);
}

uint16_t tls_cur_u16(tls_cur *c)
{
	return (uint16_t)be(c, 2);
}

uint32_t tls_cur_u24(tls_cur *c)
{
	return (uint32_t)be(c, 3);
}

uint32_t tls_cur_u32(tls_cur *c)
{
	return (uint32_t)be(c, 4);
}

uint64_t tls_cur_u64(tls_cur *c)
{
	return be(c, 8);
}

const uint8_t *tls_cur_bytes(tls_cur *c, size_t n)
{
	return take(c, n);
}

void tls_cur_copy(tls_cur *c, void *out, size_t n)
{
	const uint8_t *b = take(c, n);

	if (n == 0)
		return;
	if (b == NULL)
		memset(out, 0, n);
	else
		memcpy(out, b, n);
}

tls_cur tls_cur_block(tls_cur *c, int len_bytes)
{
	tls_cur sub = {.p = NULL, .len = 0, .pos = 0, .bad = true};

	if (len_bytes < 1 || len_bytes > 3) {
		c->bad = true;
		return sub;
	}
	size_t n = (size_t)be(c, (size_t)len_bytes);
	const uint8_t *b = take(c, n);
	if (b != NULL)
		tls_cur_init(&sub, n != 0 ? b : NULL, n);
	return sub;
}

size_t tls_cur_remaining(const tls_cur *c)
{
	return c->bad ? 0 : c->len - c->pos;
}

bool tls_cur_done(const tls_cur *c)
{
	return !c->bad && c->pos == c->len;
}

void tls_wbuf_init(tls_wbuf *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = p != NULL ? cap : 0;
	w->len = 0;
	w->bad = false;
}

uint8_t *tls_wbuf_reserve(tls_wbuf *w, size_t n)
{
	static uint8_t sink[1];

	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return NULL;
	}
	if (n == 0)
		return w->p != NULL ? w->p + w->len : sink;
	uint8_t *r = w->p + w->len;
	w->len += n;
	return r;
}

/* put_be(w, v, n): append ${v} as ${n} big-endian bytes. */
static void put_be(tls_wbuf *w, uint64_t v, size_t n)
{
	uint8_t *b = tls_wbuf_reserve(w, n);

	if (b == NULL)
		return;
	for (size_t i = n; i-- > 0; v >>= 8)
		b[i] = (uint8_t)v;
}

void tls_wbuf_u8(tls_wbuf *w, uint8_t v)
{
	put_be(w, v, 1);
}

void tls_wbuf_u16(tls_wbuf *w, uint16_t v)
{
	put_be(w, v, 2);
}

void tls_wbuf_u24(tls_wbuf *w, uint32_t v)
{
	/* A 24-bit field cannot hold more; writing a truncated value would
	 * put a wrong length on the wire. */
	if (v > 0xffffffu) {
		w->bad = true;
		return;
	}
	put_be(w, v, 3);
}

void tls_wbuf_u32(tls_wbuf *w, uint32_t v)
{
	put_be(w, v, 4);
}

void tls_wbuf_u64(tls_wbuf *w, uint64_t v)
{
	put_be(w, v, 8);
}

void tls_wbuf_bytes(tls_wbuf *w, const void *p, size_t n)
{
	uint8_t *b = tls_wbuf_reserve(w, n);

	if (b != NULL && n != 0)
		memcpy(b, p, n);
}

size_t tls_wbuf_open(tls_wbuf *w, int len_bytes)
{
	size_t mark = w->len;

	if (len_bytes < 1 || len_bytes > 3) {
		w->bad = true;
		return mark;
	}
	put_be(w, 0, (size_t)len_bytes);
	return mark;
}

void tls_wbuf_close(tls_wbuf *w, size_t mark, int len_bytes)
{
	if (w->bad)
		return;
	if (len_bytes < 1 || len_bytes > 3 || mark > w->len || (size_t)len_bytes > w->len - mark) {
		w->bad = true;
		return;
	}
	size_t n = w->len - mark - (size_t)len_bytes;
	if (n >> (8 * len_bytes) != 0) {
		w->bad = true;
		return;
	}
	for (int i = len_bytes; i-- > 0; n >>= 8)
		w->p[mark + (size_t)i] = (uint8_t)n;
}

bool tls_wbuf_ok(const tls_wbuf *w)
{
	return !w->bad;
}
