/*
 * aead.c: record protection with AES-GCM and ChaCha20-Poly1305 through
 * one long-lived EVP context per direction; a record costs a nonce change,
 * never an allocation. TLS 1.2: RFC 5288 / RFC 7905 nonces and the
 * RFC 5246 additional data built here; TLS 1.3: RFC 8446 §5.3 nonces and
 * the record layer's additional data. Both share seal_raw / open_raw.
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

/* make_nonce(a, explicit, nonce): TLS 1.2 GCM: salt || the 8 explicit
 * bytes at ${explicit} (RFC 5288 §3). TLS 1.2 ChaCha20 and every TLS 1.3
 * kind: IV XOR the big-endian sequence number left-padded to 12 bytes
 * (RFC 7905 §2, RFC 8446 §5.3); ${explicit} is unused. */
static void make_nonce(const tls_aead *a, const uint8_t *explicit, uint8_t nonce[NONCE_LEN])
{
	if (a->kind == TLS_AEAD_CHACHA20 || a->tls13) {
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

/* seq_next(a): the next record's sequence number. Only ${a}'s own side
 * writes it; the store is published (release) because tls_conn_records
 * reads it from any thread (tls.h). */
static void seq_next(tls_aead *a)
{
	__atomic_store_n(&a->seq, a->seq + 1, __ATOMIC_RELEASE);
}

/* setup(a, kind, key, iv, ivlen, encrypt, tls13): key the context and
 * store ${ivlen} IV bytes (zero-padded to 12). */
static int setup(tls_aead *a, int kind, const uint8_t *key, const uint8_t *iv, size_t ivlen,
		 bool encrypt, bool tls13)
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
	memcpy(a->iv, iv, ivlen);
	memset(a->key, 0, sizeof(a->key));
	memcpy(a->key, key, tls_aead_key_len(kind));
	a->kind = (uint8_t)kind;
	a->encrypt = encrypt;
	a->tls13 = tls13;
	__atomic_store_n(&a->seq, 0, __ATOMIC_RELEASE); /* published (aead.h) */
	return 0;
fail:
	tls_aead_free(a);
	return -1;
}

int tls_aead_init(tls_aead *a, int kind, const uint8_t *key, const uint8_t *iv, bool encrypt)
{
	return setup(a, kind, key, iv, tls_aead_fixed_iv_len(kind), encrypt, false);
}

int tls_aead_init13(tls_aead *a, int kind, const uint8_t *key, const uint8_t *iv, bool encrypt)
{
	/* RFC 8446 §5.3: iv_length is 12 for every TLS 1.3 AEAD. */
	return setup(a, kind, key, iv, NONCE_LEN, encrypt, true);
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

/* seal_raw(a, nonce, aad, alen, plain, n, ct): ${n} bytes of ciphertext
 * then the tag at ${ct}; ${plain} may equal ${ct}. Returns 0 or -1. */
static int seal_raw(tls_aead *a, const uint8_t nonce[NONCE_LEN], const uint8_t *aad, size_t alen,
		    const uint8_t *plain, size_t n, uint8_t *ct)
{
	int outl = 0, finl = 0;

	if (EVP_EncryptInit_ex(a->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(a->ctx, NULL, &outl, aad, (int)alen) != 1)
		return -1;
	if (n != 0 &&
	    (EVP_EncryptUpdate(a->ctx, ct, &outl, plain, (int)n) != 1 || (size_t)outl != n))
		return -1;
	if (EVP_EncryptFinal_ex(a->ctx, ct + n, &finl) != 1 || finl != 0 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, TLS_AEAD_TAG_LEN, ct + n) != 1)
		return -1;
	return 0;
}

/* open_raw(a, nonce, aad, alen, ct, m): verify the tag after the ${m}
 * bytes at ${ct} and decrypt them in place. Returns 0, or -1 with the
 * ${m} bytes wiped: EVP decrypts before the tag is checked at Final, so
 * they hold unauthenticated plaintext until then. */
static int open_raw(tls_aead *a, const uint8_t nonce[NONCE_LEN], const uint8_t *aad, size_t alen,
		    uint8_t *ct, size_t m)
{
	int outl = 0, finl = 0;

	if (EVP_DecryptInit_ex(a->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, TLS_AEAD_TAG_LEN, ct + m) != 1 ||
	    EVP_DecryptUpdate(a->ctx, NULL, &outl, aad, (int)alen) != 1)
		goto fail;
	if (m != 0 && (EVP_DecryptUpdate(a->ctx, ct, &outl, ct, (int)m) != 1 || (size_t)outl != m))
		goto fail;
	if (EVP_DecryptFinal_ex(a->ctx, ct + m, &finl) != 1 || finl != 0)
		goto fail;
	return 0;
fail:
	sodium_memzero(ct, m);
	return -1;
}

size_t tls_aead_seal(tls_aead *a, uint8_t type, const uint8_t *plain, size_t n, uint8_t *body)
{
	size_t off = explicit_len(a->kind);
	uint8_t nonce[NONCE_LEN], aad[AAD_LEN];

	/* A wrapped sequence number would repeat a nonce (RFC 5246 §6.1:
	 * renegotiate or close instead); we have neither, so refuse. */
	if (a->ctx == NULL || !a->encrypt || a->tls13 || a->seq == UINT64_MAX ||
	    n > TLS_MAX_PLAINTEXT)
		return 0;
	if (off != 0)
		put_be64(body, a->seq); /* our explicit nonce is the sequence number */
	make_nonce(a, body, nonce);
	make_aad(aad, a->seq, type, n);
	if (seal_raw(a, nonce, aad, AAD_LEN, plain, n, body + off) < 0) {
		/* Never leave a half-made record that a caller might send. */
		sodium_memzero(body, off + n + TLS_AEAD_TAG_LEN);
		return 0;
	}
	seq_next(a);
	return off + n + TLS_AEAD_TAG_LEN;
}

long tls_aead_open(tls_aead *a, uint8_t type, uint8_t *body, size_t len, size_t *plain_off)
{
	size_t off = explicit_len(a->kind);
	uint8_t nonce[NONCE_LEN], aad[AAD_LEN];

	/* The peer must stop before its sequence number wraps, as we do. */
	if (a->ctx == NULL || a->encrypt || a->tls13 || a->seq == UINT64_MAX ||
	    len < off + TLS_AEAD_TAG_LEN)
		return -1;
	size_t m = len - off - TLS_AEAD_TAG_LEN;
	/* Only what the AAD's 16-bit length can describe. A genuine record of
	 * more than 2^14 bytes still opens, so that the record layer can
	 * answer record_overflow as RFC 5246 §6.2.3 asks. */
	if (m > 0xffff)
		return -1;

	/* GCM: the peer chose the explicit nonce; any value is acceptable
	 * (RFC 5288 §3), uniqueness is the sender's duty. */
	make_nonce(a, body, nonce);
	make_aad(aad, a->seq, type, m);
	if (open_raw(a, nonce, aad, AAD_LEN, body + off, m) < 0)
		return -1;
	seq_next(a);
	*plain_off = off;
	return (long)m;
}

size_t tls_aead_seal_ad(tls_aead *a, const uint8_t *ad, size_t adlen, const uint8_t *plain,
			size_t n, uint8_t *out)
{
	uint8_t nonce[NONCE_LEN];

	/* The same sequence guard as TLS 1.2: RFC 8446 §5.3 forbids a
	 * wrapped sequence number; KeyUpdate comes long before it. */
	if (a->ctx == NULL || !a->encrypt || !a->tls13 || a->seq == UINT64_MAX ||
	    n > 0xffff - TLS_AEAD_TAG_LEN || adlen > INT32_MAX)
		return 0;
	make_nonce(a, NULL, nonce);
	if (seal_raw(a, nonce, ad, adlen, plain, n, out) < 0) {
		sodium_memzero(out, n + TLS_AEAD_TAG_LEN);
		return 0;
	}
	seq_next(a);
	return n + TLS_AEAD_TAG_LEN;
}

long tls_aead_open_ad(tls_aead *a, const uint8_t *ad, size_t adlen, uint8_t *body, size_t len)
{
	uint8_t nonce[NONCE_LEN];

	if (a->ctx == NULL || a->encrypt || !a->tls13 || a->seq == UINT64_MAX ||
	    len < TLS_AEAD_TAG_LEN || len > 0xffff || adlen > INT32_MAX)
		return -1;
	size_t m = len - TLS_AEAD_TAG_LEN;
	make_nonce(a, NULL, nonce);
	if (open_raw(a, nonce, ad, adlen, body, m) < 0)
		return -1;
	seq_next(a);
	return (long)m;
}
