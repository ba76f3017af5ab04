/*
 * test_aead: TLS 1.2 record protection (core/aead.h).
 *
 * (a) Published AEAD vectors (RFC 8439 §2.8.2; McGrew/Viega GCM test cases
 *     4 and 16) through EVP, called exactly the way aead.c calls it: one
 *     context keyed once, the nonce set per record. Their AADs are 12 and
 *     20 bytes, which a 13-byte TLS AAD can never equal, so they cannot go
 *     through tls_aead_seal itself.
 * (b) Record-level answers from an independent implementation: libsodium
 *     builds the same record with nonce and AAD assembled here from RFC 5288
 *     §3 / RFC 7905 §2 / RFC 5246 §6.2.3.3, plus fixed hex records.
 * (c) seal -> open round trips, sizes 0..2^14, many sequence numbers.
 * (d) Any flipped bit, wrong type or wrong sequence number fails to open.
 * (e) A failed open leaves the plaintext region zeroed, not decrypted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "aead.h"
#include "check.h"
#include "consts.h"
#include "suites.h"

#define MAXBODY (TLS_MAX_PLAINTEXT + TLS_AEAD_MAX_OVERHEAD)

static const int kinds[] = {TLS_AEAD_AES128GCM, TLS_AEAD_AES256GCM, TLS_AEAD_CHACHA20};

static uint8_t body[MAXBODY], body2[MAXBODY + 1], pristine[MAXBODY], plain[TLS_MAX_PLAINTEXT + 1];

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* --- (a) published vectors through EVP ---------------------------------- */

/* evp_vector(cipher, key, nonce, aad, pt, ct, tag): seal and open the vector
 * twice on one context keyed once (the second time after another nonce),
 * as aead.c does per record. Hex inputs. */
static void evp_vector(const EVP_CIPHER *cipher, const char *khex, const char *nhex,
		       const char *ahex, const char *phex, const char *chex, const char *thex)
{
	uint8_t key[32], nonce[12], aad[32], pt[128], ct[128], tag[16], out[128], otag[16];
	uint8_t other[12] = {1};
	size_t klen = check_hex(khex, key, sizeof(key));
	size_t nlen = check_hex(nhex, nonce, sizeof(nonce));
	size_t alen = check_hex(ahex, aad, sizeof(aad));
	size_t plen = check_hex(phex, pt, sizeof(pt));
	size_t clen = check_hex(chex, ct, sizeof(ct));
	check_hex(thex, tag, sizeof(tag));
	int outl = 0, finl = 0;

	CHECK_EQ(nlen, 12);
	CHECK_EQ(clen, plen);
	CHECK_EQ((size_t)EVP_CIPHER_key_length(cipher), klen);

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	CHECK(EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, 1) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1);
	CHECK(EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, 1) == 1);
	for (int round = 0; round < 2; round++) {
		/* A record with another nonce first must not disturb the next. */
		CHECK(EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, round ? other : nonce) == 1);
		CHECK(EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)alen) == 1);
		CHECK(EVP_EncryptUpdate(ctx, out, &outl, pt, (int)plen) == 1);
		CHECK(EVP_EncryptFinal_ex(ctx, out + outl, &finl) == 1);
		CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, otag) == 1);
		if (round == 0) {
			CHECK_MEM(out, ct, plen);
			CHECK_MEM(otag, tag, 16);
		}
	}
	CHECK(EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1);
	CHECK(EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)alen) == 1);
	CHECK(EVP_EncryptUpdate(ctx, out, &outl, pt, (int)plen) == 1);
	CHECK(EVP_EncryptFinal_ex(ctx, out + outl, &finl) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, otag) == 1);
	CHECK_MEM(out, ct, plen);
	CHECK_MEM(otag, tag, 16);
	EVP_CIPHER_CTX_free(ctx);

	/* Decrypt in place, tag set before the data, verified at Final. */
	ctx = EVP_CIPHER_CTX_new();
	CHECK(EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, 0) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1);
	CHECK(EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, 0) == 1);
	for (int bad = 1; bad >= 0; bad--) {
		memcpy(out, ct, plen);
		memcpy(otag, tag, 16);
		otag[15] ^= (uint8_t)bad;
		CHECK(EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1);
		CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, otag) == 1);
		CHECK(EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)alen) == 1);
		CHECK(EVP_DecryptUpdate(ctx, out, &outl, out, (int)plen) == 1);
		CHECK_EQ(EVP_DecryptFinal_ex(ctx, out + outl, &finl), bad ? 0 : 1);
	}
	CHECK_MEM(out, pt, plen);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_published_vectors(void)
{
	/* RFC 8439 §2.8.2 */
	evp_vector(EVP_chacha20_poly1305(),
		   "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		   "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
		   "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
		   "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
		   "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
		   "637265656e20776f756c642062652069742e",
		   "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		   "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		   "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		   "3ff4def08e4b7a9de576d26586cec64b6116",
		   "1ae10b594f09e26a7e902ecbd0600691");

	/* McGrew/Viega, "The Galois/Counter Mode of Operation", test case 4
	 * (AES-128) and test case 16 (AES-256): 96-bit IV, 20-byte AAD,
	 * 60-byte plaintext. */
	static const char gcm_iv[] = "cafebabefacedbaddecaf888";
	static const char gcm_aad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
	static const char gcm_pt[] =
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
	evp_vector(EVP_aes_128_gcm(), "feffe9928665731c6d6a8f9467308308", gcm_iv, gcm_aad, gcm_pt,
		   "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		   "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		   "5bc94fbc3221a5db94fae95ae7121a47");
	evp_vector(EVP_aes_256_gcm(),
		   "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", gcm_iv,
		   gcm_aad, gcm_pt,
		   "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		   "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		   "76fc6ece0f4e1768cddf8853bb2d551b");
}

/* --- (b) record-level answers ------------------------------------------- */

/* Fixed inputs of the hard-coded records below. */
static const char fixed_plain[] = "tlshim record-layer known answer #1"; /* 35 bytes */
static const uint64_t fixed_seq = 0x0102030405060708ull;

static void fixed_key_iv(uint8_t key[32], uint8_t iv[12])
{
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 12; i++)
		iv[i] = (uint8_t)(0xa0 + i);
}

/* check_fixed(kind, ct_hex, tag_hex): seal the fixed record (type 23) and
 * compare with the body; then open the expected body. */
static void check_fixed(int kind, const char *ct_hex, const char *tag_hex)
{
	uint8_t key[32], iv[12], want[128];
	size_t n = strlen(fixed_plain), off = kind == TLS_AEAD_CHACHA20 ? 0 : 8, wlen = 0;
	tls_aead enc = {0}, dec = {0};

	fixed_key_iv(key, iv);
	if (off != 0) {
		put_be64(want, fixed_seq);
		wlen = 8;
	}
	wlen += check_hex(ct_hex, want + wlen, sizeof(want) - wlen);
	wlen += check_hex(tag_hex, want + wlen, sizeof(want) - wlen);
	CHECK_EQ(wlen, n + tls_aead_overhead(kind));

	CHECK_EQ(tls_aead_init(&enc, kind, key, iv, true), 0);
	enc.seq = fixed_seq;
	CHECK_EQ(
		tls_aead_seal(&enc, TLS_CT_APPLICATION_DATA, (const uint8_t *)fixed_plain, n, body),
		wlen);
	CHECK_MEM(body, want, wlen);

	CHECK_EQ(tls_aead_init(&dec, kind, key, iv, false), 0);
	dec.seq = fixed_seq;
	size_t po = 99;
	CHECK_EQ(tls_aead_open(&dec, TLS_CT_APPLICATION_DATA, want, wlen, &po), (long)n);
	CHECK_EQ(po, off);
	CHECK_MEM(want + off, fixed_plain, n);
	tls_aead_free(&enc);
	tls_aead_free(&dec);
}

static void test_fixed_records(void)
{
	/* Generated once (key 00 01 .. 1f, truncated to 16 bytes for
	 * AES-128; iv a0 a1 .. ab; seq 0x0102030405060708; type 23) by an
	 * independent implementation: ChaCha20-Poly1305 and AES-256-GCM with
	 * libsodium's crypto_aead_*_encrypt_detached, AES-128-GCM (which
	 * libsodium lacks) with nettle's gcm_aes128_*. Nonce and AAD were
	 * built per RFC 7905 §2 / RFC 5288 §3 and RFC 5246 §6.2.3.3. */
	check_fixed(TLS_AEAD_CHACHA20,
		    "d293373ebae61ee4d09f832837ca28070c75f979021e18f17b0dbb2c966e38b25892e5",
		    "d1d0b085f84ae4701eae49ed9e05295d");
	check_fixed(TLS_AEAD_AES256GCM,
		    "829631cc9dd65a6b23056781b25839db014d9a01939dddfe97ed25313df6bad82c3840",
		    "a16df367398b7f91492a808ee94d4033");
	check_fixed(TLS_AEAD_AES128GCM,
		    "6851e8a252a5bcb6e3c498727c295a6ec452f172c273196b052504c0f6d2d22838e0aa",
		    "56e660208306b124c84591b28f3a6e87");
}

/* sodium_record(kind, key, iv, seq, type, pt, n, out): the record body as
 * libsodium computes it; returns its length, 0 when unavailable. */
static size_t sodium_record(int kind, const uint8_t *key, const uint8_t *iv, uint64_t seq,
			    uint8_t type, const uint8_t *pt, size_t n, uint8_t *out)
{
	uint8_t aad[13], nonce[12], s[8];
	unsigned long long maclen = 0;

	put_be64(s, seq);
	memcpy(aad, s, 8);
	aad[8] = type;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = (uint8_t)(n >> 8);
	aad[12] = (uint8_t)n;
	if (kind == TLS_AEAD_CHACHA20) {
		memcpy(nonce, iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= s[i];
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + n, &maclen, pt, n,
								   aad, 13, NULL, nonce, key);
		return n + (size_t)maclen;
	}
	if (kind == TLS_AEAD_AES256GCM && crypto_aead_aes256gcm_is_available()) {
		memcpy(nonce, iv, 4);
		memcpy(nonce + 4, s, 8);
		memcpy(out, s, 8);
		crypto_aead_aes256gcm_encrypt_detached(out + 8, out + 8 + n, &maclen, pt, n, aad,
						       13, NULL, nonce, key);
		return 8 + n + (size_t)maclen;
	}
	return 0;
}

static void test_against_sodium(void)
{
	static const uint64_t seqs[] = {
		0, 1, 2, 255, 256, 0x0102030405060708ull, 0x8000000000000000ull, UINT64_MAX - 1};
	static const size_t lens[] = {0, 1, 15, 16, 17, 100, 1000, 16383, 16384};
	uint8_t key[32], iv[12];

	if (!crypto_aead_aes256gcm_is_available())
		fprintf(stderr, "note: libsodium AES-256-GCM unavailable on this CPU; "
				"AES-256 relies on the fixed vector\n");
	for (size_t k = 1; k < 3; k++) {
		int kind = kinds[k];
		tls_aead enc = {0}, dec = {0};
		randombytes_buf(key, sizeof(key));
		randombytes_buf(iv, sizeof(iv));
		CHECK_EQ(tls_aead_init(&enc, kind, key, iv, true), 0);
		CHECK_EQ(tls_aead_init(&dec, kind, key, iv, false), 0);
		for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
			size_t n = lens[s % (sizeof(lens) / sizeof(lens[0]))];
			uint8_t type = (uint8_t)(20 + s % 4);
			randombytes_buf(plain, n);
			size_t wlen = sodium_record(kind, key, iv, seqs[s], type, plain, n, body2);
			if (wlen == 0)
				continue;
			enc.seq = seqs[s];
			size_t got = tls_aead_seal(&enc, type, plain, n, body);
			CHECK_EQ(got, wlen);
			CHECK_MEM(body, body2, wlen);
			CHECK(enc.seq == seqs[s] + 1);
			/* libsodium's record opens with ours. */
			dec.seq = seqs[s];
			size_t po;
			CHECK_EQ(tls_aead_open(&dec, type, body2, wlen, &po), (long)n);
			CHECK_MEM(body2 + po, plain, n);
		}
		/* Every length, at consecutive sequence numbers. */
		enc.seq = 1000;
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t n = lens[i];
			randombytes_buf(plain, n);
			uint64_t seq = enc.seq;
			size_t wlen = sodium_record(kind, key, iv, seq, TLS_CT_HANDSHAKE, plain, n,
						    body2);
			if (wlen == 0)
				continue;
			CHECK_EQ(tls_aead_seal(&enc, TLS_CT_HANDSHAKE, plain, n, body), wlen);
			CHECK_MEM(body, body2, wlen);
		}
		/* A peer's authentic 2^14 + 1 byte record opens (the record
		 * layer, not the AEAD, answers record_overflow). */
		randombytes_buf(plain, TLS_MAX_PLAINTEXT + 1);
		size_t wlen = sodium_record(kind, key, iv, 77, TLS_CT_APPLICATION_DATA, plain,
					    TLS_MAX_PLAINTEXT + 1, body2);
		if (wlen != 0) {
			size_t po;
			dec.seq = 77;
			CHECK_EQ(tls_aead_open(&dec, TLS_CT_APPLICATION_DATA, body2, wlen, &po),
				 (long)TLS_MAX_PLAINTEXT + 1);
			CHECK_MEM(body2 + po, plain, TLS_MAX_PLAINTEXT + 1);
		}
		tls_aead_free(&enc);
		tls_aead_free(&dec);
	}
}

/* --- (c) round trips ---------------------------------------------------- */

static void test_round_trips(void)
{
	static const size_t lens[] = {0, 1, 16383, 16384};
	uint8_t key[32], iv[12];

	for (size_t k = 0; k < 3; k++) {
		int kind = kinds[k];
		size_t off = kind == TLS_AEAD_CHACHA20 ? 0 : 8;
		tls_aead enc = {0}, dec = {0};

		CHECK_EQ(tls_aead_overhead(kind), off + 16);
		randombytes_buf(key, sizeof(key));
		randombytes_buf(iv, sizeof(iv));
		CHECK_EQ(tls_aead_init(&enc, kind, key, iv, true), 0);
		CHECK_EQ(tls_aead_init(&dec, kind, key, iv, false), 0);
		CHECK(enc.seq == 0);

		for (uint64_t r = 0; r < 12; r++) {
			size_t n = lens[r % 4];
			uint8_t type = (uint8_t)(TLS_CT_CHANGE_CIPHER_SPEC + r % 4);
			randombytes_buf(plain, n);
			size_t blen = tls_aead_seal(&enc, type, plain, n, body);
			CHECK_EQ(blen, n + off + 16);
			CHECK(enc.seq == r + 1);
			if (off != 0) {
				/* Explicit nonce = big-endian sequence number. */
				uint8_t s[8];
				put_be64(s, r);
				CHECK_MEM(body, s, 8);
			}
			/* Ciphertext differs from plaintext (for non-trivial n). */
			if (n >= 16)
				CHECK(memcmp(body + off, plain, 16) != 0);
			size_t po = 99;
			CHECK_EQ(tls_aead_open(&dec, type, body, blen, &po), (long)n);
			CHECK_EQ(po, off);
			CHECK_MEM(body + po, plain, n);
			CHECK(dec.seq == r + 1);
		}

		/* In place: plaintext already at body + explicit length. */
		randombytes_buf(plain, 1000);
		memcpy(body + off, plain, 1000);
		uint64_t seq = enc.seq;
		size_t blen = tls_aead_seal(&enc, TLS_CT_APPLICATION_DATA, body + off, 1000, body);
		CHECK_EQ(blen, 1000 + off + 16);
		/* Same result as sealing from a separate buffer. */
		enc.seq = seq;
		CHECK_EQ(tls_aead_seal(&enc, TLS_CT_APPLICATION_DATA, plain, 1000, body2), blen);
		CHECK_MEM(body, body2, blen);
		size_t po;
		CHECK_EQ(tls_aead_open(&dec, TLS_CT_APPLICATION_DATA, body, blen, &po), 1000);
		CHECK_MEM(body + po, plain, 1000);

		/* Larger than a TLS fragment: refused, sequence unchanged. */
		seq = enc.seq;
		CHECK_EQ(tls_aead_seal(&enc, TLS_CT_APPLICATION_DATA, plain, TLS_MAX_PLAINTEXT + 1,
				       body),
			 0);
		CHECK(enc.seq == seq);

		/* Wrong direction. */
		CHECK_EQ(tls_aead_seal(&dec, TLS_CT_APPLICATION_DATA, plain, 10, body), 0);
		CHECK_EQ(tls_aead_open(&enc, TLS_CT_APPLICATION_DATA, body, blen, &po), -1);

		/* Sequence number wrap: the last number is refused. */
		enc.seq = UINT64_MAX - 1;
		CHECK_EQ(tls_aead_seal(&enc, TLS_CT_APPLICATION_DATA, plain, 10, body), off + 26);
		CHECK(enc.seq == UINT64_MAX);
		CHECK_EQ(tls_aead_seal(&enc, TLS_CT_APPLICATION_DATA, plain, 10, body2), 0);
		CHECK(enc.seq == UINT64_MAX);
		dec.seq = UINT64_MAX - 1;
		CHECK_EQ(tls_aead_open(&dec, TLS_CT_APPLICATION_DATA, body, off + 26, &po), 10);
		CHECK(dec.seq == UINT64_MAX);

		/* Re-key a live context: the new key, sequence reset. */
		uint8_t key2[32], iv2[12];
		randombytes_buf(key2, sizeof(key2));
		randombytes_buf(iv2, sizeof(iv2));
		int other = kinds[(k + 1) % 3];
		CHECK_EQ(tls_aead_init(&enc, other, key2, iv2, true), 0);
		CHECK_EQ(tls_aead_init(&dec, other, key2, iv2, false), 0);
		CHECK(enc.seq == 0);
		CHECK_EQ(enc.kind, other);
		blen = tls_aead_seal(&enc, TLS_CT_ALERT, plain, 2, body);
		CHECK_EQ(blen, 2 + tls_aead_overhead(other));
		CHECK_EQ(tls_aead_open(&dec, TLS_CT_ALERT, body, blen, &po), 2);
		CHECK_MEM(body + po, plain, 2);
		size_t slen = sodium_record(other, key2, iv2, 0, TLS_CT_ALERT, plain, 2, body2);
		if (slen != 0) {
			CHECK_EQ(slen, blen);
			enc.seq = 0;
			CHECK_EQ(tls_aead_seal(&enc, TLS_CT_ALERT, plain, 2, body), blen);
			CHECK_MEM(body, body2, blen);
		}

		/* free wipes; free of a freed/zeroed context is a no-op. */
		tls_aead_free(&enc);
		tls_aead_free(&dec);
		static const tls_aead zero;
		CHECK(memcmp(&enc, &zero, sizeof(zero)) == 0);
		tls_aead_free(&enc);
		CHECK_EQ(tls_aead_seal(&enc, TLS_CT_ALERT, plain, 2, body), 0);
		CHECK_EQ(tls_aead_open(&dec, TLS_CT_ALERT, body, blen, &po), -1);
	}

	/* Unknown kind. */
	tls_aead a = {0};
	CHECK_EQ(tls_aead_init(&a, 7, key, iv, true), -1);
	CHECK(a.ctx == NULL);
	CHECK_EQ(tls_aead_overhead(7), 0);
}

/* --- (d), (e) tampering ------------------------------------------------- */

/* try_open_tampered(dec, type, len, pos, bit): open a copy of the pristine
 * body with one bit flipped; it must fail, leave the plaintext region
 * zeroed, and leave the sequence number alone. */
static void try_open_tampered(tls_aead *dec, uint8_t type, size_t len, size_t off, size_t pos,
			      int bit)
{
	uint64_t seq = dec->seq;
	size_t po = 12345;
	size_t m = len - off - 16;

	memcpy(body, pristine, len);
	body[pos] ^= (uint8_t)(1u << bit);
	CHECK_EQ(tls_aead_open(dec, type, body, len, &po), -1);
	CHECK(dec->seq == seq);
	CHECK_EQ(po, 12345);
	/* (e): we decided on zeroes, so neither the decrypted bytes nor the
	 * ciphertext stay behind. */
	CHECK(m == 0 || sodium_is_zero(body + off, m));
}

static void test_tampering(void)
{
	uint8_t key[32], iv[12];

	for (size_t k = 0; k < 3; k++) {
		int kind = kinds[k];
		size_t off = kind == TLS_AEAD_CHACHA20 ? 0 : 8;
		tls_aead enc = {0}, dec = {0};
		uint8_t type = TLS_CT_APPLICATION_DATA;

		randombytes_buf(key, sizeof(key));
		randombytes_buf(iv, sizeof(iv));
		CHECK_EQ(tls_aead_init(&enc, kind, key, iv, true), 0);
		CHECK_EQ(tls_aead_init(&dec, kind, key, iv, false), 0);
		enc.seq = dec.seq = 5;

		/* Short record: every bit of every byte. */
		size_t n = 20;
		randombytes_buf(plain, n);
		size_t len = tls_aead_seal(&enc, type, plain, n, pristine);
		CHECK_EQ(len, n + off + 16);
		for (size_t pos = 0; pos < len; pos++)
			for (int bit = 0; bit < 8; bit++)
				try_open_tampered(&dec, type, len, off, pos, bit);

		/* Wrong type, wrong sequence number (either side). */
		size_t po;
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, TLS_CT_HANDSHAKE, body, len, &po), -1);
		CHECK(sodium_is_zero(body + off, n));
		dec.seq = 6;
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, type, body, len, &po), -1);
		CHECK(sodium_is_zero(body + off, n));
		dec.seq = 4;
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, type, body, len, &po), -1);
		CHECK(dec.seq == 4);

		/* Truncated or extended bodies. */
		dec.seq = 5;
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, type, body, len - 1, &po), -1);
		memcpy(body, pristine, len);
		body[len] = 0;
		CHECK_EQ(tls_aead_open(&dec, type, body, len + 1, &po), -1);
		for (size_t short_len = 0; short_len < off + 16; short_len++) {
			memcpy(body, pristine, len);
			CHECK_EQ(tls_aead_open(&dec, type, body, short_len, &po), -1);
			/* Nothing was touched: too short to hold a plaintext. */
			CHECK_MEM(body, pristine, len);
		}
		CHECK(dec.seq == 5);

		/* After all those failures the genuine record still opens at
		 * the unchanged sequence number. */
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, type, body, len, &po), (long)n);
		CHECK_MEM(body + po, plain, n);
		CHECK(dec.seq == 6);

		/* Empty record: the tag alone authenticates type and seq. */
		len = tls_aead_seal(&enc, type, plain, 0, pristine);
		CHECK_EQ(len, off + 16);
		for (size_t pos = 0; pos < len; pos++)
			try_open_tampered(&dec, type, len, off, pos, (int)(pos % 8));
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, TLS_CT_ALERT, body, len, &po), -1);
		CHECK_EQ(tls_aead_open(&dec, type, body, len, &po), 0);

		/* Full-size record: sampled positions, including both ends of
		 * the ciphertext, the explicit nonce and the tag. */
		n = TLS_MAX_PLAINTEXT;
		randombytes_buf(plain, n);
		len = tls_aead_seal(&enc, type, plain, n, pristine);
		CHECK_EQ(len, n + off + 16);
		size_t picks[40] = {0, off, off + 1, off + n / 2, off + n - 1, len - 16, len - 1};
		for (size_t i = 7; i < 40; i++)
			picks[i] = randombytes_uniform((uint32_t)len);
		for (size_t i = 0; i < 40; i++)
			try_open_tampered(&dec, type, len, off, picks[i],
					  (int)randombytes_uniform(8));
		memcpy(body, pristine, len);
		CHECK_EQ(tls_aead_open(&dec, type, body, len, &po), (long)n);
		CHECK_MEM(body + po, plain, n);

		tls_aead_free(&enc);
		tls_aead_free(&dec);
	}
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_published_vectors();
	test_fixed_records();
	test_against_sodium();
	test_round_trips();
	test_tampering();
	return check_exit("kat/aead");
}
