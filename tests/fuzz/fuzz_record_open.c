/*
 * fuzz_record_open.c: tls_aead_open on arbitrary record bodies, for each
 * AEAD kind, checked against a reference written directly on EVP from the
 * RFCs (RFC 5288 §3 / RFC 5246 §6.2.3.3 for GCM, RFC 7905 §2 for
 * ChaCha20-Poly1305). tls_aead_open must never accept a body the reference
 * rejects (that would be plaintext without a valid tag), must return the
 * same plaintext when both accept, and must keep the plaintext inside the
 * body.
 *
 * Input (fuzz.h): kind (mod 3), content type, 8-byte sequence number, body.
 * The key and IV are fixed (FUZZ_AEAD_KEY / FUZZ_AEAD_IV), so the seed
 * corpus can hold valid records to mutate.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aead.h"
#include "consts.h"
#include "suites.h"

/* ref_open(kind, seq, type, body, len, out): the reference; the plaintext
 * length, or -1 when the record does not authenticate. */
static long ref_open(int kind, uint64_t seq, uint8_t type, const uint8_t *body, size_t len,
		     uint8_t *out)
{
	const uint8_t *key = (const uint8_t *)FUZZ_AEAD_KEY, *iv = (const uint8_t *)FUZZ_AEAD_IV;
	bool gcm = kind != TLS_AEAD_CHACHA20;
	size_t explicit_len = gcm ? 8 : 0;
	if (len < explicit_len + TLS_AEAD_TAG_LEN)
		return -1;
	size_t n = len - explicit_len - TLS_AEAD_TAG_LEN;
	if (n > 0xffff)
		return -1;

	uint8_t nonce[12];
	if (gcm) {
		memcpy(nonce, iv, 4);
		memcpy(nonce + 4, body, 8);
	} else {
		memcpy(nonce, iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(seq >> (56 - 8 * i));
	}
	uint8_t aad[13];
	for (int i = 0; i < 8; i++)
		aad[i] = (uint8_t)(seq >> (56 - 8 * i));
	aad[8] = type;
	aad[9] = TLS_VERSION_1_2 >> 8;
	aad[10] = TLS_VERSION_1_2 & 0xff;
	aad[11] = (uint8_t)(n >> 8);
	aad[12] = (uint8_t)n;

	const EVP_CIPHER *cipher = kind == TLS_AEAD_AES128GCM   ? EVP_aes_128_gcm()
				   : kind == TLS_AEAD_AES256GCM ? EVP_aes_256_gcm()
								: EVP_chacha20_poly1305();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0, ok = ctx != NULL;
	ok = ok && EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL);
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
	ok = ok && EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce);
	ok = ok && EVP_DecryptUpdate(ctx, NULL, &outl, aad, sizeof aad);
	ok = ok && EVP_DecryptUpdate(ctx, out, &outl, body + explicit_len, (int)n);
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TLS_AEAD_TAG_LEN,
				       (void *)(body + len - TLS_AEAD_TAG_LEN));
	ok = ok && EVP_DecryptFinal_ex(ctx, out + outl, &outl);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? (long)n : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_RECORD_PREFIX)
		return 0;
	int kind = data[0] % 3;
	uint8_t type = data[1];
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | data[2 + i];
	size_t len = size - FUZZ_RECORD_PREFIX;

	/* Exact-size copies, so ASan sees any access outside the body. */
	uint8_t *body = malloc(len ? len : 1), *want = malloc(len ? len : 1);
	if (!body || !want)
		fuzz_fail("out of memory");
	memcpy(body, data + FUZZ_RECORD_PREFIX, len);
	long ref = ref_open(kind, seq, type, body, len, want);

	tls_aead a;
	memset(&a, 0, sizeof a);
	if (tls_aead_init(&a, kind, (const uint8_t *)FUZZ_AEAD_KEY, (const uint8_t *)FUZZ_AEAD_IV,
			  false) < 0)
		fuzz_fail("tls_aead_init(%d) failed", kind);
	a.seq = seq;
	size_t off = (size_t)-1;
	long got = tls_aead_open(&a, type, body, len, &off);

	if (got >= 0 && ref < 0)
		fuzz_fail("kind %d: tls_aead_open accepted a %zu-byte body that does not "
			  "authenticate",
			  kind, len);
	if (got >= 0) {
		if (off > len || (size_t)got > len - off)
			fuzz_fail("kind %d: plaintext [%zu, +%ld) outside the %zu-byte body", kind,
				  off, got, len);
		if (got != ref || memcmp(body + off, want, (size_t)got) != 0)
			fuzz_fail("kind %d: plaintext differs from the reference", kind);
	} else if (got != -1) {
		fuzz_fail("kind %d: tls_aead_open returned %ld", kind, got);
	} else if (ref >= 0 && (size_t)ref <= TLS_MAX_PLAINTEXT && seq != UINT64_MAX) {
		fuzz_fail("kind %d: tls_aead_open rejected a valid %ld-byte record", kind, ref);
	}
	tls_aead_free(&a);
	free(body);
	free(want);
	return 0;
}
