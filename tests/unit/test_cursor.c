/*
 * test_cursor: the bounded reader and writer (core/cursor.h): every
 * function, sticky errors, nested blocks, lying length prefixes.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "cursor.h"

static void test_integers(void)
{
	static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
				     0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12};
	tls_cur c;

	tls_cur_init(&c, in, sizeof(in));
	CHECK_EQ(tls_cur_remaining(&c), 18);
	CHECK(!tls_cur_done(&c));
	CHECK_EQ(tls_cur_u8(&c), 0x01);
	CHECK_EQ(tls_cur_u16(&c), 0x0203);
	CHECK_EQ(tls_cur_u24(&c), 0x040506);
	CHECK_EQ(tls_cur_u32(&c), 0x0708090a);
	CHECK(tls_cur_u64(&c) == 0x0b0c0d0e0f101112ull);
	CHECK_EQ(tls_cur_remaining(&c), 0);
	CHECK(tls_cur_done(&c));
	CHECK(!c.bad);

	/* High bits survive (no sign extension). */
	static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
	tls_cur_init(&c, ff, 8);
	CHECK(tls_cur_u64(&c) == 0xfffffffffffffffeull);
	tls_cur_init(&c, ff, 8);
	CHECK_EQ(tls_cur_u32(&c), 0xffffffffu);
	CHECK_EQ(tls_cur_u24(&c), 0xffffffu);
	CHECK(tls_cur_done(&c) == false);
	CHECK_EQ(tls_cur_u8(&c), 0xfe);
	CHECK(tls_cur_done(&c));
}

/* Each reader, one byte short, must return 0, set bad, and consume nothing
 * (so a later smaller read cannot succeed either: the error sticks). */
static void test_underflow_sticky(void)
{
	static const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	tls_cur c;

	for (size_t width = 1; width <= 8; width *= 2) {
		tls_cur_init(&c, in, width - 1);
		uint64_t v = width == 1   ? tls_cur_u8(&c)
			     : width == 2 ? tls_cur_u16(&c)
			     : width == 4 ? tls_cur_u32(&c)
					  : tls_cur_u64(&c);
		CHECK(v == 0);
		CHECK(c.bad);
		CHECK_EQ(tls_cur_remaining(&c), 0);
		CHECK(!tls_cur_done(&c));
		/* Sticky: even a zero-length read fails now. */
		CHECK(tls_cur_bytes(&c, 0) == NULL);
		CHECK_EQ(tls_cur_u8(&c), 0);
		CHECK(c.bad);
	}

	tls_cur_init(&c, in, 2);
	CHECK_EQ(tls_cur_u24(&c), 0);
	CHECK(c.bad);
	/* Two bytes were there, but after the failure they are unreachable. */
	CHECK_EQ(tls_cur_u16(&c), 0);
	CHECK_EQ(tls_cur_u8(&c), 0);
	CHECK(!tls_cur_done(&c));

	/* Exactly enough, then one more. */
	tls_cur_init(&c, in, 3);
	CHECK_EQ(tls_cur_u24(&c), 0x010203);
	CHECK(tls_cur_done(&c));
	CHECK_EQ(tls_cur_u8(&c), 0);
	CHECK(c.bad);
	CHECK(!tls_cur_done(&c));

	/* An empty cursor, including over NULL. */
	tls_cur_init(&c, NULL, 0);
	CHECK(tls_cur_done(&c));
	CHECK(tls_cur_bytes(&c, 0) != NULL);
	CHECK(tls_cur_done(&c));
	CHECK(tls_cur_bytes(&c, 1) == NULL);
	CHECK(c.bad);
}

static void test_bytes_copy(void)
{
	static const uint8_t in[6] = {10, 11, 12, 13, 14, 15};
	uint8_t out[8];
	tls_cur c;

	tls_cur_init(&c, in, sizeof(in));
	const uint8_t *b = tls_cur_bytes(&c, 2);
	CHECK(b == in);
	b = tls_cur_bytes(&c, 0);
	CHECK(b == in + 2);
	CHECK_EQ(tls_cur_remaining(&c), 4);
	tls_cur_copy(&c, out, 3);
	CHECK_EQ(out[0], 12);
	CHECK_EQ(out[2], 14);
	CHECK_EQ(tls_cur_remaining(&c), 1);
	/* Too long: NULL, nothing consumed, bad. */
	CHECK(tls_cur_bytes(&c, 2) == NULL);
	CHECK(c.bad);
	CHECK_EQ(tls_cur_remaining(&c), 0);
	CHECK(tls_cur_bytes(&c, 1) == NULL);

	/* Copy underflow zeroes the destination. */
	tls_cur_init(&c, in, sizeof(in));
	memset(out, 0xaa, sizeof(out));
	tls_cur_copy(&c, out, 7);
	CHECK(c.bad);
	static const uint8_t zero[8];
	CHECK_MEM(out, zero, 7);
	CHECK_EQ(out[7], 0xaa);
	/* And so does a copy after an earlier error. */
	memset(out, 0xaa, sizeof(out));
	tls_cur_copy(&c, out, 1);
	CHECK_EQ(out[0], 0);

	/* A huge n cannot wrap the bounds check. */
	tls_cur_init(&c, in, sizeof(in));
	tls_cur_u8(&c);
	CHECK(tls_cur_bytes(&c, SIZE_MAX) == NULL);
	CHECK(c.bad);
}

static void test_blocks(void)
{
	/* u16-prefixed block holding a u8-prefixed block of 2 and a u24
	 * block of 1, then a trailing byte. */
	static const uint8_t in[] = {0x00, 0x08, 0x02, 0xaa, 0xbb, 0x00,
				     0x00, 0x01, 0xcc, 0x99, 0x77};
	tls_cur c, outer, inner;

	tls_cur_init(&c, in, sizeof(in));
	outer = tls_cur_block(&c, 2);
	CHECK(!outer.bad);
	CHECK_EQ(tls_cur_remaining(&outer), 8);
	CHECK_EQ(tls_cur_remaining(&c), 1);

	inner = tls_cur_block(&outer, 1);
	CHECK_EQ(tls_cur_remaining(&inner), 2);
	CHECK_EQ(tls_cur_u16(&inner), 0xaabb);
	CHECK(tls_cur_done(&inner));

	inner = tls_cur_block(&outer, 3);
	CHECK_EQ(tls_cur_u8(&inner), 0xcc);
	CHECK(tls_cur_done(&inner));
	/* The outer block still has one unread byte: not done. */
	CHECK(!tls_cur_done(&outer));
	CHECK_EQ(tls_cur_u8(&outer), 0x99);
	CHECK(tls_cur_done(&outer));
	CHECK(!tls_cur_done(&c));
	CHECK_EQ(tls_cur_u8(&c), 0x77);
	CHECK(tls_cur_done(&c));

	/* A sub-cursor's overrun does not leak into the parent's bytes. */
	tls_cur_init(&c, in, sizeof(in));
	outer = tls_cur_block(&c, 2);
	inner = tls_cur_block(&outer, 1);
	CHECK_EQ(tls_cur_u16(&inner), 0xaabb);
	CHECK_EQ(tls_cur_u8(&inner), 0);
	CHECK(inner.bad);
	CHECK(!outer.bad);
	CHECK(!c.bad);

	/* Empty block. */
	static const uint8_t empty[] = {0x00, 0x00};
	tls_cur_init(&c, empty, sizeof(empty));
	inner = tls_cur_block(&c, 2);
	CHECK(tls_cur_done(&inner));
	CHECK(tls_cur_bytes(&inner, 0) != NULL);
	CHECK(tls_cur_done(&c));
}

static void test_block_lies(void)
{
	/* Length prefix says 5, only 3 follow. */
	static const uint8_t in[] = {0x00, 0x05, 1, 2, 3};
	tls_cur c, sub;

	tls_cur_init(&c, in, sizeof(in));
	sub = tls_cur_block(&c, 2);
	CHECK(sub.bad);
	CHECK(c.bad);
	CHECK_EQ(tls_cur_remaining(&sub), 0);
	CHECK_EQ(tls_cur_u8(&sub), 0);
	CHECK(!tls_cur_done(&sub));
	CHECK(!tls_cur_done(&c));
	CHECK_EQ(tls_cur_u8(&c), 0);

	/* Prefix itself truncated (u24 with 2 bytes). */
	tls_cur_init(&c, in, 2);
	sub = tls_cur_block(&c, 3);
	CHECK(sub.bad);
	CHECK(c.bad);

	/* Large u24 length. */
	static const uint8_t big[] = {0xff, 0xff, 0xff, 0};
	tls_cur_init(&c, big, sizeof(big));
	sub = tls_cur_block(&c, 3);
	CHECK(sub.bad && c.bad);

	/* Block on an already-bad cursor. */
	static const uint8_t ok[] = {0x01, 0x42};
	tls_cur_init(&c, ok, sizeof(ok));
	c.bad = true;
	sub = tls_cur_block(&c, 1);
	CHECK(sub.bad);

	/* Unsupported prefix widths. */
	tls_cur_init(&c, ok, sizeof(ok));
	sub = tls_cur_block(&c, 0);
	CHECK(sub.bad && c.bad);
	tls_cur_init(&c, ok, sizeof(ok));
	sub = tls_cur_block(&c, 4);
	CHECK(sub.bad && c.bad);

	/* Exactly fitting u8 block. */
	tls_cur_init(&c, ok, sizeof(ok));
	sub = tls_cur_block(&c, 1);
	CHECK(!sub.bad);
	CHECK_EQ(tls_cur_u8(&sub), 0x42);
	CHECK(tls_cur_done(&sub));
	CHECK(tls_cur_done(&c));
}

static void test_writer(void)
{
	uint8_t buf[32];
	tls_wbuf w;

	memset(buf, 0xee, sizeof(buf));
	tls_wbuf_init(&w, buf, sizeof(buf));
	CHECK(tls_wbuf_ok(&w));
	tls_wbuf_u8(&w, 0x01);
	tls_wbuf_u16(&w, 0x0203);
	tls_wbuf_u24(&w, 0x040506);
	tls_wbuf_u32(&w, 0x0708090a);
	tls_wbuf_u64(&w, 0x0b0c0d0e0f101112ull);
	tls_wbuf_bytes(&w, "\x13\x14", 2);
	tls_wbuf_bytes(&w, NULL, 0);
	uint8_t *r = tls_wbuf_reserve(&w, 2);
	CHECK(r == buf + 20);
	if (r != NULL)
		r[0] = 0x15, r[1] = 0x16;
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(w.len, 22);
	uint8_t want[22];
	for (int i = 0; i < 22; i++)
		want[i] = (uint8_t)(i + 1);
	CHECK_MEM(buf, want, 22);
	CHECK_EQ(buf[22], 0xee);

	/* The writer reads back through the reader. */
	tls_cur c;
	tls_cur_init(&c, buf, w.len);
	CHECK_EQ(tls_cur_u8(&c), 1);
	CHECK_EQ(tls_cur_u16(&c), 0x0203);
	CHECK_EQ(tls_cur_u24(&c), 0x040506);
	CHECK_EQ(tls_cur_u32(&c), 0x0708090a);
	CHECK(tls_cur_u64(&c) == 0x0b0c0d0e0f101112ull);
	tls_cur_bytes(&c, 4);
	CHECK(tls_cur_done(&c));

	/* u24 refuses a value that does not fit. */
	tls_wbuf_init(&w, buf, sizeof(buf));
	tls_wbuf_u24(&w, 0x1000000);
	CHECK(!tls_wbuf_ok(&w));
}

static void test_writer_overflow(void)
{
	uint8_t buf[8];
	tls_wbuf w;

	for (size_t width = 1; width <= 8; width *= 2) {
		memset(buf, 0xee, sizeof(buf));
		tls_wbuf_init(&w, buf, width - 1);
		if (width == 1)
			tls_wbuf_u8(&w, 0x11);
		else if (width == 2)
			tls_wbuf_u16(&w, 0x1111);
		else if (width == 4)
			tls_wbuf_u32(&w, 0x11111111);
		else
			tls_wbuf_u64(&w, 0x1111111111111111ull);
		CHECK(!tls_wbuf_ok(&w));
		CHECK_EQ(w.len, 0);
		/* Nothing was written, not even a partial value. */
		CHECK_EQ(buf[0], 0xee);
		/* Sticky: a write that fits is refused too. */
		tls_wbuf_bytes(&w, "", 0);
		CHECK(tls_wbuf_reserve(&w, 0) == NULL);
		CHECK_EQ(w.len, 0);
		CHECK(!tls_wbuf_ok(&w));
	}

	tls_wbuf_init(&w, buf, 3);
	tls_wbuf_u16(&w, 0x2222);
	tls_wbuf_u16(&w, 0x3333); /* does not fit */
	tls_wbuf_u8(&w, 0x44);    /* would fit, but the error sticks */
	CHECK(!tls_wbuf_ok(&w));
	CHECK_EQ(w.len, 2);
	CHECK_EQ(buf[2], 0xee);

	tls_wbuf_init(&w, buf, 4);
	CHECK(tls_wbuf_reserve(&w, 5) == NULL);
	CHECK(!tls_wbuf_ok(&w));
	tls_wbuf_init(&w, buf, 4);
	tls_wbuf_u8(&w, 0);
	CHECK(tls_wbuf_reserve(&w, SIZE_MAX) == NULL);
	CHECK(!tls_wbuf_ok(&w));
	memset(buf, 0xee, sizeof(buf));
	tls_wbuf_init(&w, buf, 4);
	tls_wbuf_bytes(&w, "abcde", 5);
	CHECK(!tls_wbuf_ok(&w));
	CHECK_EQ(buf[0], 0xee);

	/* Exactly full is fine. */
	tls_wbuf_init(&w, buf, 8);
	tls_wbuf_u64(&w, 1);
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(w.len, 8);
}

static void test_writer_blocks(void)
{
	uint8_t buf[300];
	tls_wbuf w;

	/* Nested: u16 { u8 { 2 bytes } u24 { 1 byte } } */
	tls_wbuf_init(&w, buf, sizeof(buf));
	size_t m0 = tls_wbuf_open(&w, 2);
	size_t m1 = tls_wbuf_open(&w, 1);
	tls_wbuf_u16(&w, 0xaabb);
	tls_wbuf_close(&w, m1, 1);
	size_t m2 = tls_wbuf_open(&w, 3);
	tls_wbuf_u8(&w, 0xcc);
	tls_wbuf_close(&w, m2, 3);
	tls_wbuf_close(&w, m0, 2);
	CHECK(tls_wbuf_ok(&w));
	static const uint8_t want[] = {0x00, 0x07, 0x02, 0xaa, 0xbb, 0x00, 0x00, 0x01, 0xcc};
	CHECK_EQ(w.len, sizeof(want));
	CHECK_MEM(buf, want, sizeof(want));

	/* Empty block. */
	tls_wbuf_init(&w, buf, sizeof(buf));
	m0 = tls_wbuf_open(&w, 2);
	tls_wbuf_close(&w, m0, 2);
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(w.len, 2);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(buf[1], 0);

	/* 255 bytes fit a u8 length, 256 do not. */
	uint8_t fill[256];
	memset(fill, 0x5a, sizeof(fill));
	tls_wbuf_init(&w, buf, sizeof(buf));
	m0 = tls_wbuf_open(&w, 1);
	tls_wbuf_bytes(&w, fill, 255);
	tls_wbuf_close(&w, m0, 1);
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(buf[0], 255);
	tls_wbuf_init(&w, buf, sizeof(buf));
	m0 = tls_wbuf_open(&w, 1);
	tls_wbuf_bytes(&w, fill, 256);
	tls_wbuf_close(&w, m0, 1);
	CHECK(!tls_wbuf_ok(&w));

	/* Placeholder that does not fit the buffer. */
	tls_wbuf_init(&w, buf, 2);
	tls_wbuf_u8(&w, 1);
	m0 = tls_wbuf_open(&w, 2);
	CHECK(!tls_wbuf_ok(&w));
	tls_wbuf_close(&w, m0, 2);
	CHECK(!tls_wbuf_ok(&w));

	/* Bad widths and marks. */
	tls_wbuf_init(&w, buf, sizeof(buf));
	tls_wbuf_open(&w, 4);
	CHECK(!tls_wbuf_ok(&w));
	tls_wbuf_init(&w, buf, sizeof(buf));
	tls_wbuf_u8(&w, 0);
	tls_wbuf_close(&w, 5, 1); /* mark past the end */
	CHECK(!tls_wbuf_ok(&w));
	tls_wbuf_init(&w, buf, sizeof(buf));
	tls_wbuf_u8(&w, 0);
	tls_wbuf_close(&w, 0, 2); /* placeholder longer than what was written */
	CHECK(!tls_wbuf_ok(&w));

	/* Round trip through the reader's blocks. */
	tls_wbuf_init(&w, buf, sizeof(buf));
	m0 = tls_wbuf_open(&w, 3);
	tls_wbuf_bytes(&w, fill, 100);
	tls_wbuf_close(&w, m0, 3);
	tls_cur c, sub;
	tls_cur_init(&c, buf, w.len);
	sub = tls_cur_block(&c, 3);
	CHECK_EQ(tls_cur_remaining(&sub), 100);
	CHECK_MEM(tls_cur_bytes(&sub, 100), fill, 100);
	CHECK(tls_cur_done(&sub));
	CHECK(tls_cur_done(&c));
}

static void test_u16_block_limit(void)
{
	static uint8_t big[65536 + 8];
	tls_wbuf w;

	tls_wbuf_init(&w, big, sizeof(big));
	size_t m = tls_wbuf_open(&w, 2);
	tls_wbuf_reserve(&w, 65535);
	tls_wbuf_close(&w, m, 2);
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(big[0], 0xff);
	CHECK_EQ(big[1], 0xff);

	tls_wbuf_init(&w, big, sizeof(big));
	m = tls_wbuf_open(&w, 2);
	tls_wbuf_reserve(&w, 65536);
	tls_wbuf_close(&w, m, 2);
	CHECK(!tls_wbuf_ok(&w));

	tls_wbuf_init(&w, big, sizeof(big));
	m = tls_wbuf_open(&w, 3);
	tls_wbuf_reserve(&w, 65536);
	tls_wbuf_close(&w, m, 3);
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(big[0], 0x01);
	CHECK_EQ(big[1], 0x00);
	CHECK_EQ(big[2], 0x00);
}

int main(void)
{
	test_integers();
	test_underflow_sticky();
	test_bytes_copy();
	test_blocks();
	test_block_lies();
	test_writer();
	test_writer_overflow();
	test_writer_blocks();
	test_u16_block_limit();
	return check_exit("unit/cursor");
}
