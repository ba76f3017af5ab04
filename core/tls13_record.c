/*
 * tls13_record.c: TLSCiphertext sealing and opening (RFC 8446 §5.2-5.4).
 */
#include "tls13_record.h"

#include <string.h>

#include <sodium.h>

#include "consts.h"

/* RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256 — the
 * value consts.h already gives the TLS 1.2 record layer. */
#define MAX_BODY TLS_MAX_CIPHERTEXT
/* §5.4: the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1. */
#define MAX_INNER (TLS_MAX_PLAINTEXT + 1u)

/* put_header(h, body): opaque_type application_data, legacy_record_version
 * 0x0303 (§5.2), length. The same bytes are the additional data. */
static void put_header(uint8_t h[TLS_RECORD_HEADER], size_t body)
{
	h[0] = TLS_CT_APPLICATION_DATA;
	h[1] = TLS_VERSION_1_2 >> 8;
	h[2] = TLS_VERSION_1_2 & 0xff;
	h[3] = (uint8_t)(body >> 8);
	h[4] = (uint8_t)body;
}

size_t tls13_record_seal(tls_aead *a, uint8_t type, const uint8_t *content, size_t n, size_t pad,
			 uint8_t *out, size_t cap)
{
	uint8_t *inner = out + TLS_RECORD_HEADER;

	/* The type byte is what padding removal stops at: 0 cannot be it. */
	if (type == 0 || n > TLS_MAX_PLAINTEXT || pad > MAX_INNER || n + 1 + pad > MAX_INNER ||
	    cap < TLS_RECORD_HEADER || cap - TLS_RECORD_HEADER < n + 1 + pad + TLS_AEAD_TAG_LEN)
		return 0;
	size_t inlen = n + 1 + pad;
	size_t body = inlen + TLS_AEAD_TAG_LEN;

	if (n != 0 && content != inner)
		memmove(inner, content, n);
	inner[n] = type;
	memset(inner + n + 1, 0, pad);
	put_header(out, body);
	if (tls_aead_seal_ad(a, out, TLS_RECORD_HEADER, inner, inlen, inner) != body) {
		/* Never leave a record that looks sendable, nor the content. */
		sodium_memzero(out, TLS_RECORD_HEADER + body);
		return 0;
	}
	return TLS_RECORD_HEADER + body;
}

int tls13_record_open(tls_aead *a, uint8_t *rec, size_t len, uint8_t *type, uint8_t **content,
		      size_t *n)
{
	if (len < TLS_RECORD_HEADER)
		return TLS_ALERT_INTERNAL_ERROR;
	size_t body = (size_t)rec[3] << 8 | rec[4];
	uint8_t *inner = rec + TLS_RECORD_HEADER;

	if (body != len - TLS_RECORD_HEADER || a->ctx == NULL || a->encrypt || !a->tls13)
		return TLS_ALERT_INTERNAL_ERROR;
	/* §5: once protection is on, only application_data records (and
	 * the compatibility change_cipher_spec the caller filters) arrive. */
	if (rec[0] != TLS_CT_APPLICATION_DATA)
		return TLS_ALERT_UNEXPECTED_MESSAGE;
	/* §5.2: checked before any work is spent on the record. */
	if (body > MAX_BODY)
		return TLS_ALERT_RECORD_OVERFLOW;
	/* §5.2: the additional data is the header as it was received. */
	long m = tls_aead_open_ad(a, rec, TLS_RECORD_HEADER, inner, body);
	if (m < 0)
		return TLS_ALERT_BAD_RECORD_MAC;
	size_t inlen = (size_t)m;
	if (inlen > MAX_INNER)
		goto overflow;
	/* §5.4: the content type is the last non-zero byte; padding is
	 * public (its length is bounded by the record length anyway). */
	while (inlen > 0 && inner[inlen - 1] == 0)
		inlen--;
	if (inlen == 0)
		goto unexpected;
	uint8_t t = inner[inlen - 1];
	if (t != TLS_CT_ALERT && t != TLS_CT_HANDSHAKE && t != TLS_CT_APPLICATION_DATA)
		goto unexpected;
	if (inlen - 1 > TLS_MAX_PLAINTEXT)
		goto overflow;
	*type = t;
	*content = inner;
	*n = inlen - 1;
	return 0;
overflow:
	sodium_memzero(inner, (size_t)m);
	return TLS_ALERT_RECORD_OVERFLOW;
unexpected:
	sodium_memzero(inner, (size_t)m);
	return TLS_ALERT_UNEXPECTED_MESSAGE;
}
