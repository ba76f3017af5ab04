/*
 * aead.c: TLS 1.2 record protection with AES-GCM (RFC 5288) and
 * ChaCha20-Poly1305 (RFC 7905) through one long-lived EVP context per
 * direction; a record costs a nonce change, never an allocation.
 */
#include "aead.h"

#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "consts.h"
#include "suites.h"

#define NONCE_LEN    12
#define AAD_LEN      13 /* RFC 5246 §6.2.3.3 */
#define GCM_EXPLICIT 8  /* RFC 5288 §3: nonce_explicit carried in the record */
#define GCM_SALT     4

static const EVP_CIPHER *cipher_of(int kind)
{
	switch (kind) {
	case TLS_AEAD_AES128GCM:
		return EVP_aes_128_gcm();
	case TLS_AEAD_AES256GCM:
		return EVP_aes_256_gcm();
	case TLS_AEAD_CHACHA20:
		return EVP_chacha20_poly1305();
	}
	return NULL;
}

/* explicit_len(kind): nonce bytes that travel in front of the ciphertext. */
static size_t explicit_len(int kind)
{
	return kind == TLS_AEAD_CHACHA20 ? 0 : GCM_EXPLICIT;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* make_aad(aad, seq, type, n): seq_num || type || version || length. */
static void make_aad(uint8_t aad[AAD_LEN], uint64_t seq, uint8_t type, size_t n)
{
	put_be64(aad, seq);
	aad[8] = type;
	aad[9] = TLS_VERSION_1_2 >> 8;
	aad[10] = TLS_VERSION_1_2 & 0xff;
	aad[11] = (uint8_t)(n >> 8);
	aad[12] = (uint8_t)n;
}

/* make_nonce(a, explicit, nonce): GCM: salt || the 8 explicit bytes at
 * ${explicit} (RFC 5288 §3). ChaCha20: IV XOR the big-endian sequence number
 * left-padded to 12 bytes (RFC 7905 §2). */
static void make_nonce(const tls_aead *a, const uint8_t *explicit, uint8_t nonce[NONCE_LEN])
{
	if (a->kind == TLS_AEAD_CHACHA20) {
		uint8_t s[8];
		put_be64(s, a->seq);
		memcpy(nonce, a->iv, NONCE_LEN);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= s[i];
	} else {
		memcpy(nonce, a->iv, GCM_SALT);
		memcpy(nonce + GCM_SALT, explicit, GCM_EXPLICIT);
	}
}

int tls_aead_init(tls_aead *a, int kind, const uint8_t *key, const uint8_t *iv, bool encrypt)
{
	const EVP_CIPHER *cipher = cipher_of(kind);
	int enc = encrypt ? 1 : 0;

	if (cipher == NULL)
		goto fail;
	if (a->ctx == NULL) {
		if ((a->ctx = EVP_CIPHER_CTX_new()) == NULL)
			goto fail;
	} else if (EVP_CIPHER_CTX_reset(a->ctx) != 1) {
		/* Re-key: drop the old key schedule before the new one. */
		goto fail;
	}
	if (EVP_CipherInit_ex(a->ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(a->ctx, NULL, NULL, key, NULL, enc) != 1)
		goto fail;
	memset(a->iv, 0, sizeof(a->iv));
	memcpy(a->iv, iv, tls_aead_fixed_iv_len(kind));
	a->kind = (uint8_t)kind;
	a->encrypt = encrypt;
	__atomic_store_n(&a->seq, 0, __ATOMIC_RELEASE); /* published (aead.h) */
	return 0;
fail:
	tls_aead_free(a);
	return -1;
}

void tls_aead_free(tls_aead *a)
{
	/* Freeing the context clears the key schedule inside it. */
	EVP_CIPHER_CTX_free(a->ctx);
	sodium_memzero(a, sizeof(*a));
}

size_t tls_aead_overhead(int kind)
{
	if (cipher_of(kind) == NULL)
		return 0;
	return explicit_len(kind) + TLS_AEAD_TAG_LEN;
}

size_t tls_aead_seal(tls_aead *a, uint8_t type, const uint8_t *plain, size_t n, uint8_t *body)
{
	size_t off = explicit_len(a->kind);
	uint8_t nonce[NONCE_LEN], aad[AAD_LEN];
	uint8_t *ct = body + off;
	int outl = 0, finl = 0;

	/* A wrapped sequence number would repeat a nonce (RFC 5246 §6.1:
	 * renegotiate or close instead); we have neither, so refuse. */
	if (a->ctx == NULL || !a->encrypt || a->seq == UINT64_MAX || n > TLS_MAX_PLAINTEXT)
		return 0;
	if (off != 0)
		put_be64(body, a->seq); /* our explicit nonce is the sequence number */
	make_nonce(a, body, nonce);
	make_aad(aad, a->seq, type, n);

	if (EVP_EncryptInit_ex(a->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(a->ctx, NULL, &outl, aad, AAD_LEN) != 1)
		goto fail;
	if (n != 0 &&
	    (EVP_EncryptUpdate(a->ctx, ct, &outl, plain, (int)n) != 1 || (size_t)outl != n))
		goto fail;
	if (EVP_EncryptFinal_ex(a->ctx, ct + n, &finl) != 1 || finl != 0 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, TLS_AEAD_TAG_LEN, ct + n) != 1)
		goto fail;
	/* Published: tls_conn_records reads it from any thread (tls.h). */
	__atomic_store_n(&a->seq, a->seq + 1, __ATOMIC_RELEASE);
	return off + n + TLS_AEAD_TAG_LEN;
fail:
	/* Never leave a half-made record that a caller might send. */
	sodium_memzero(body, off + n + TLS_AEAD_TAG_LEN);
	return 0;
}

long tls_aead_open(tls_aead *a, uint8_t type, uint8_t *body, size_t len, size_t *plain_off)
{
	size_t off = explicit_len(a->kind);
	uint8_t nonce[NONCE_LEN], aad[AAD_LEN];
	int outl = 0, finl = 0;

	/* The peer must stop before its sequence number wraps, as we do. */
	if (a->ctx == NULL || a->encrypt || a->seq == UINT64_MAX || len < off + TLS_AEAD_TAG_LEN)
		return -1;
	size_t m = len - off - TLS_AEAD_TAG_LEN;
	/* Only what the AAD's 16-bit length can describe. A genuine record of
	 * more than 2^14 bytes still opens, so that the record layer can
	 * answer record_overflow as RFC 5246 §6.2.3 asks. */
	if (m > 0xffff)
		return -1;
	uint8_t *ct = body + off;
	uint8_t *tag = ct + m;

	/* GCM: the peer chose the explicit nonce; any value is acceptable
	 * (RFC 5288 §3), uniqueness is the sender's duty. */
	make_nonce(a, body, nonce);
	make_aad(aad, a->seq, type, m);

	/* EVP decrypts before the tag is checked at Final, so the bytes at
	 * ${ct} hold unauthenticated plaintext until then; on any failure they
	 * are wiped and the caller is told nothing but -1. */
	if (EVP_DecryptInit_ex(a->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, TLS_AEAD_TAG_LEN, tag) != 1 ||
	    EVP_DecryptUpdate(a->ctx, NULL, &outl, aad, AAD_LEN) != 1)
		goto fail;
	if (m != 0 && (EVP_DecryptUpdate(a->ctx, ct, &outl, ct, (int)m) != 1 || (size_t)outl != m))
		goto fail;
	if (EVP_DecryptFinal_ex(a->ctx, ct + m, &finl) != 1 || finl != 0)
		goto fail;
	__atomic_store_n(&a->seq, a->seq + 1, __ATOMIC_RELEASE); /* as in tls_aead_seal */
	*plain_off = off;
	return (long)m;
fail:
	sodium_memzero(ct, m);
	return -1;
}
