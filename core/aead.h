/*
 * aead.h: record protection for one direction of one connection.
 *
 * AES-GCM follows RFC 5288 §3 (nonce = 4-byte implicit IV || 8-byte
 * explicit nonce carried in the record; we use the sequence number as the
 * explicit part), ChaCha20-Poly1305 follows RFC 7905 §2 (nonce = 12-byte IV
 * XOR the left-padded sequence number, nothing explicit). The additional
 * data is seq_num || type || version || plaintext length (RFC 5246 §6.2.3.3).
 *
 * The EVP context is created once by tls_aead_init and reused for every
 * record: no allocation per record.
 */
#ifndef TLSHIM_CORE_AEAD_H
#define TLSHIM_CORE_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

typedef struct tls_aead {
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[12]; /* implicit part: 4 bytes (GCM) or 12 (ChaCha20) */
	uint8_t kind;   /* enum tls_aead_kind */
	bool encrypt;
	uint64_t seq; /* next record's sequence number; its side writes it with
		       * __atomic (release), others may read it (tls_conn_records) */
} tls_aead;

#define TLS_AEAD_TAG_LEN      16
#define TLS_AEAD_MAX_OVERHEAD 24

/* tls_aead_init(a, kind, key, iv, encrypt): set up ${a} for one direction
 * with the ${kind} (enum tls_aead_kind) key and implicit IV from the key
 * block; sequence number 0. Returns 0 or -1. ${a} must be zeroed or freed
 * before the first call; a second call on a live ${a} re-keys it. */
int tls_aead_init(tls_aead *a, int kind, const uint8_t *key, const uint8_t *iv, bool encrypt);

/* tls_aead_free(a): release the context and wipe the IV; no-op on a zeroed a. */
void tls_aead_free(tls_aead *a);

/* tls_aead_overhead(kind): bytes a record body adds to its plaintext (24 for
 * GCM: explicit nonce + tag; 16 for ChaCha20-Poly1305). */
size_t tls_aead_overhead(int kind);

/* tls_aead_seal(a, type, plain, n, body): protect ${n} plaintext bytes of
 * content ${type} into ${body} (the bytes after the 5-byte record header,
 * room for n + overhead). ${plain} may equal body + explicit nonce length
 * (in place). Returns the body length, or 0 on failure or when the
 * sequence number would wrap. */
size_t tls_aead_seal(tls_aead *a, uint8_t type, const uint8_t *plain, size_t n, uint8_t *body);

/* tls_aead_open(a, type, body, len, plain_off): verify and decrypt a record
 * body of ${len} bytes in place. On success returns the plaintext length and
 * sets *${plain_off} to where it starts inside ${body}; returns -1 when the
 * tag does not verify or the body is too short (bad_record_mac), and then no
 * plaintext byte may be used. */
long tls_aead_open(tls_aead *a, uint8_t type, uint8_t *body, size_t len, size_t *plain_off);

#endif
