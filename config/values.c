/*
 * values.c: the syntax of policy values that are more than a keyword:
 * numbers, port lists, address/CIDR lists, SPKI pins, server names.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "policy_internal.h"

/* Items are shown in messages at most this long. */
#define SHOW 80

static bool is_space(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* next_item(p, item, len): the next comma-separated item of *${p}, trimmed,
 * in ${item}/${len}; advances *${p} past its comma. False at the end. An
 * empty item (",," or a trailing comma) comes back with length 0. */
static bool next_item(const char **p, const char **item, size_t *len)
{
	const char *s = *p, *e;

	if (s == NULL)
		return false;
	e = strchr(s, ',');
	*p = e != NULL ? e + 1 : NULL;
	if (e == NULL)
		e = s + strlen(s);
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	*item = s;
	*len = (size_t)(e - s);
	return true;
}

/* digits(s, len, max, out): ${len} decimal digits worth at most ${max}.
 * -1: not a number; -2: too large. */
static int digits(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= max)
			v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -2;
	*out = (unsigned)v;
	return 0;
}

int tlsp_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out, char *why,
		    size_t whylen)
{
	unsigned v = 0;
	int rc = digits(s, strlen(s), hi, &v);

	if (rc == -1) {
		snprintf(why, whylen, "bad number '%.*s'", SHOW, s);
		return -1;
	}
	if (rc == -2 || v < lo) {
		snprintf(why, whylen, "%.*s is out of range (%u..%u)", SHOW, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* one_port(s, len, item, ilen, out): the port ${s}; messages show the
 * whole list item ${item} it came from. */
static int one_port(const char *s, size_t len, const char *item, size_t ilen, unsigned *out,
		    char *why, size_t whylen)
{
	int rc = digits(s, len, 65535, out);
	int show = (int)(ilen < SHOW ? ilen : SHOW);

	if (rc == -1) {
		snprintf(why, whylen, "bad port '%.*s'", show, item);
		return -1;
	}
	if (rc == -2 || *out == 0) {
		snprintf(why, whylen, "port '%.*s' is out of range (1..65535)", show, item);
		return -1;
	}
	return 0;
}

int tlsp_parse_ports(const char *s, struct tlsp_port_range *out, size_t *n, char *why,
		     size_t whylen)
{
	const char *item;
	size_t len;

	*n = 0;
	while (next_item(&s, &item, &len)) {
		const char *dash = memchr(item, '-', len);
		const char *a = item, *b;
		size_t alen = dash != NULL ? (size_t)(dash - item) : len, blen;
		unsigned lo, hi;

		if (len == 0) {
			snprintf(why, whylen, "empty item in port list");
			return -1;
		}
		while (alen > 0 && is_space(a[alen - 1]))
			alen--;
		if (one_port(a, alen, item, len, &lo, why, whylen) != 0)
			return -1;
		hi = lo;
		if (dash != NULL) {
			b = dash + 1;
			blen = (size_t)(item + len - b);
			while (blen > 0 && is_space(*b)) {
				b++;
				blen--;
			}
			if (one_port(b, blen, item, len, &hi, why, whylen) != 0)
				return -1;
			if (hi < lo) {
				snprintf(why, whylen, "bad port range '%.*s' (end before start)",
					 (int)(len < SHOW ? len : SHOW), item);
				return -1;
			}
		}
		if (*n == TLSP_MAX_PORT_RANGES) {
			snprintf(why, whylen, "too many port ranges (at most %d)",
				 TLSP_MAX_PORT_RANGES);
			return -1;
		}
		out[*n].lo = (uint16_t)lo;
		out[*n].hi = (uint16_t)hi;
		(*n)++;
	}
	return 0;
}

static int one_host(const char *item, size_t len, struct tlsp_host *h, char *why, size_t whylen)
{
	const char *slash = memchr(item, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - item) : len;
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned prefix, max;
	int show = (int)(len < SHOW ? len : SHOW);

	memset(h, 0, sizeof(*h));
	if (alen >= sizeof(addr))
		goto bad_addr;
	memcpy(addr, item, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, h->addr) == 1) {
		h->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, h->addr) == 1) {
		h->family = AF_INET6;
		max = 128;
	} else {
		goto bad_addr;
	}
	prefix = max;
	if (slash != NULL && digits(slash + 1, len - alen - 1, max, &prefix) != 0) {
		snprintf(why, whylen, "bad prefix length in '%.*s' (0..%u)", show, item, max);
		return -1;
	}
	h->prefix = (uint8_t)prefix;

	/* A CIDR with bits set past its prefix is most likely a typo for a
	 * single address or for another prefix: refuse rather than guess. */
	for (unsigned bit = prefix; bit < max; bit++) {
		if (h->addr[bit / 8] & (0x80u >> (bit % 8))) {
			snprintf(why, whylen, "host bits set in '%.*s' (past the /%u prefix)", show,
				 item, prefix);
			return -1;
		}
	}

	/* ::ffff:a.b.c.d/96+n names IPv4 addresses: store it as IPv4 so it
	 * matches both AF_INET and v4-mapped destinations. */
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (h->family == AF_INET6 && prefix >= 96 && memcmp(h->addr, mapped, 12) == 0) {
		memmove(h->addr, h->addr + 12, 4);
		memset(h->addr + 4, 0, 12);
		h->family = AF_INET;
		h->prefix = (uint8_t)(prefix - 96);
	}
	return 0;
bad_addr:
	snprintf(why, whylen, "bad address '%.*s' (expected an IPv4/IPv6 address or CIDR)", show,
		 item);
	return -1;
}

int tlsp_parse_hosts(const char *s, struct tlsp_host *out, size_t *n, char *why, size_t whylen)
{
	const char *item;
	size_t len;

	*n = 0;
	while (next_item(&s, &item, &len)) {
		if (len == 0) {
			snprintf(why, whylen, "empty item in hosts list");
			return -1;
		}
		if (*n == TLSP_MAX_HOSTS) {
			snprintf(why, whylen, "too many hosts (at most %d)", TLSP_MAX_HOSTS);
			return -1;
		}
		if (one_host(item, len, &out[*n], why, whylen) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* b64_32(s, out): ${s} is the canonical standard base64 (RFC 4648 section
 * 4, padded) of exactly 32 bytes: 43 symbols and one '='. */
static int b64_32(const char *s, size_t len, uint8_t out[32])
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (len != 44 || s[43] != '=')
		return -1;
	for (size_t i = 0; i < 43; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 43 * 6 = 258 bits: the last 2 must be zero in canonical form. */
	return o == 32 && acc == 0 ? 0 : -1;
}

int tlsp_parse_pins(const char *s, uint8_t (*pins)[32], size_t *n, char *norm, char *why,
		    size_t whylen)
{
	static const char pfx[] = "sha256//";
	const size_t plen = sizeof(pfx) - 1;
	const char *item;
	size_t len, o = 0;

	*n = 0;
	/* curl's --pinnedpubkey separates pins with ';', which an INI file
	 * would half treat as a comment: say what to write instead. */
	if (strchr(s, ';') != NULL) {
		snprintf(why, whylen, "separate pins with ',', not ';'");
		return -1;
	}
	while (next_item(&s, &item, &len)) {
		int show = (int)(len < SHOW ? len : SHOW);

		if (len == 0) {
			snprintf(why, whylen, "empty item in pin list");
			return -1;
		}
		if (len < plen || memcmp(item, pfx, plen) != 0) {
			snprintf(why, whylen, "bad pin '%.*s' (expected sha256//BASE64)", show,
				 item);
			return -1;
		}
		if (*n == TLSP_MAX_PINS) {
			snprintf(why, whylen, "too many pins (at most %d)", TLSP_MAX_PINS);
			return -1;
		}
		if (b64_32(item + plen, len - plen, pins[*n]) != 0) {
			snprintf(why, whylen,
				 "bad pin '%.*s' (expected base64 of a 32-byte SHA-256 digest)",
				 show, item);
			return -1;
		}
		if (o > 0)
			norm[o++] = ',';
		memcpy(norm + o, item, len);
		o += len;
		(*n)++;
	}
	norm[o] = '\0';
	return 0;
}

int tlsp_check_server_name(const char *s, char *why, size_t whylen)
{
	size_t len = strlen(s);

	if (len > 253) {
		snprintf(why, whylen, "server_name is longer than 253 bytes");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f) {
			snprintf(why, whylen, "bad server_name '%.*s' (space or control character)",
				 SHOW, s);
			return -1;
		}
	}
	return 0;
}
