/*
 * aead.h: record protection for one direction of one connection.
 *
 * AES-GCM follows RFC 5288 §3 (nonce = 4-byte implicit IV || 8-byte
 * explicit nonce carried in the record; we use the sequence number as the
 * explicit part), ChaCha20-Poly1305 follows RFC 7905 §2 (nonce = 12-byte IV
 * XOR the left-padded sequence number, nothing explicit). The additional
 * data is seq_num || type || version || plaintext length (RFC 5246 §6.2.3.3).
 *
 * TLS 1.3 (RFC 8446 §5.2-5.3) uses the same context set up by
 * tls_aead_init13: every kind takes a 12-byte IV and the nonce is IV XOR
 * the left-padded sequence number, as for ChaCha20 above; the record
 * layer (tls13_record.c) builds the additional data, so such a context is
 * used only through tls_aead_seal_ad / tls_aead_open_ad, and a TLS 1.2
 * context only through tls_aead_seal / tls_aead_open.
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
	/* The key (tls_aead_key_len bytes), kept only for tls_conn_export
	 * (exec hand-over); wiped by tls_aead_free. */
	uint8_t key[32];
	uint8_t iv[12]; /* 1.2: 4 bytes (GCM) or 12 (ChaCha20); 1.3: 12 */
	uint8_t kind;   /* enum tls_aead_kind */
	bool encrypt;
	bool tls13;   /* set up by tls_aead_init13 */
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

/* tls_aead_init13(a, kind, key, iv, encrypt): as tls_aead_init, for TLS
 * 1.3 (RFC 8446 §5.3): ${key} and the 12-byte ${iv} are a write_key and
 * write_iv of §7.3, sequence number 0. A second call on a live ${a}
 * re-keys it (a new epoch or a KeyUpdate, §4.6.3). Returns 0 or -1 (then
 * ${a} is freed). */
int tls_aead_init13(tls_aead *a, int kind, const uint8_t *key, const uint8_t *iv, bool encrypt);

/* tls_aead_free(a): release the context and wipe the IV; no-op on a zeroed a. */
void tls_aead_free(tls_aead *a);

/* tls_aead_overhead(kind): bytes a TLS 1.2 record body adds to its
 * plaintext (24 for GCM: explicit nonce + tag; 16 for ChaCha20-Poly1305).
 * A TLS 1.3 body adds TLS_AEAD_TAG_LEN for every kind. */
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

/* tls_aead_seal_ad(a, ad, adlen, plain, n, out): TLS 1.3 (a context from
 * tls_aead_init13): encrypt ${n} bytes of ${plain} under the next sequence
 * number's nonce (RFC 8446 §5.3) with the ${adlen} bytes of additional
 * data ${ad}, writing the ciphertext and then the tag to ${out} (room for
 * n + TLS_AEAD_TAG_LEN; ${plain} may equal ${out}). Returns n +
 * TLS_AEAD_TAG_LEN, or 0 on failure, for a TLS 1.2 context, when ${n}
 * exceeds 0xffff - TLS_AEAD_TAG_LEN (more than a record's 16-bit length
 * can carry) or when the sequence number would wrap (as tls_aead_seal). */
size_t tls_aead_seal_ad(tls_aead *a, const uint8_t *ad, size_t adlen, const uint8_t *plain,
			size_t n, uint8_t *out);

/* tls_aead_open_ad(a, ad, adlen, body, len): TLS 1.3: verify and decrypt in
 * place the ${len} bytes ciphertext || tag at ${body} under the next
 * sequence number with additional data ${ad}. Returns the plaintext length
 * (len - TLS_AEAD_TAG_LEN, at ${body}) and advances the sequence number;
 * returns -1 when the tag does not verify (then the first len - tag bytes
 * of ${body} are zeroed), ${len} is shorter than the tag or above 0xffff,
 * or for a TLS 1.2 context; the sequence number is then unchanged. */
long tls_aead_open_ad(tls_aead *a, const uint8_t *ad, size_t adlen, uint8_t *body, size_t len);

#endif
