/*
 * tls13_record.h: TLS 1.3 record protection (RFC 8446 §5.2-5.4) on top of
 * the AEAD layer (aead.h, a context from tls_aead_init13): one whole
 * protected record in, one out. Reading record headers off the wire,
 * fragmenting and the unprotected change_cipher_spec of middlebox
 * compatibility (§5, D.4) are the record layer's; this file is the byte
 * format of a TLSCiphertext and the checks its contents call for.
 *
 *   TLSInnerPlaintext = content || ContentType type || uint8 zeros[pad]
 *   TLSCiphertext     = 23 || 03 03 || uint16 length || AEAD(inner)
 *   additional_data   = the 5-byte TLSCiphertext header (§5.2)
 */
#ifndef TLSHIM_CORE_TLS13_RECORD_H
#define TLSHIM_CORE_TLS13_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "aead.h"

/* What a protected record adds to its content without padding: the
 * header, the inner content type and the AEAD tag. */
#define TLS13_RECORD_OVERHEAD (5u + 1u + TLS_AEAD_TAG_LEN)

/* tls13_record_seal(a, type, content, n, pad, out, cap): protect ${n} bytes
 * of ${content} of content type ${type} (handshake, alert or
 * application_data) with ${pad} zero bytes of padding (§5.4) under ${a}'s
 * next sequence number, writing the whole record (header included,
 * n + pad + TLS13_RECORD_OVERHEAD bytes) to ${out} (${cap} bytes).
 * ${content} may equal out + 5 (sealed in place). Returns the record
 * length, or 0 when ${n} exceeds 2^14, the inner plaintext (n + 1 + pad)
 * exceeds 2^14 + 1 (§5.4), it does not fit in ${cap}, ${type} is 0, or
 * the AEAD refuses (sequence number exhausted, wrong context). */
size_t tls13_record_seal(tls_aead *a, uint8_t type, const uint8_t *content, size_t n, size_t pad,
			 uint8_t *out, size_t cap);

/* tls13_record_open(a, rec, len, type, content, n): verify and decrypt in
 * place the whole record of ${len} bytes at ${rec} (5-byte header and
 * body) under ${a}'s next sequence number. On success returns 0 and sets
 * *${type} to the inner content type, *${content} to the content inside
 * ${rec} and *${n} to its length (padding removed). Otherwise returns the
 * alert that ends the connection (never 0): record_overflow when the body
 * exceeds 2^14 + 256 bytes (§5.2) or the inner plaintext exceeds 2^14 + 1
 * (§5.4); bad_record_mac when the body is shorter than a tag, the tag does
 * not verify (no plaintext byte is left in ${rec}) or the peer's sequence
 * number is exhausted (2^64 - 1, as tls_aead_open); unexpected_message when
 * the outer type is not application_data, the inner plaintext has no
 * non-zero byte (§5.4) or its type is not alert, handshake or
 * application_data (§5: a change_cipher_spec is never protected); and
 * internal_error when ${len} is not 5 + the header's length or ${a} cannot
 * open records (a caller's bug). After a failure the content is not used;
 * ${a}'s sequence number advances only on success. */
int tls13_record_open(tls_aead *a, uint8_t *rec, size_t len, uint8_t *type, uint8_t **content,
		      size_t *n);

#endif
