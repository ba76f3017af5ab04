/*
 * test_tls13_record: what RFC 8448 does not cover of core/tls13_keys.h and
 * core/tls13_record.h.
 *
 * (a) SHA-384 (TLS_AES_256_GCM_SHA384), the KeyUpdate secret ("traffic
 *     upd", RFC 8446 §7.2) and the whole schedule once more for SHA-256,
 *     against an independent implementation: OpenSSL's "TLS13-KDF", the
 *     HKDF-Expand-Label and "derived" extract that libssl's own TLS 1.3
 *     uses, and EVP_Q_mac for HMAC. The oracle is first checked to give
 *     RFC 8448 §3's values, so a misused oracle cannot agree by accident.
 * (b) HkdfLabel bounds (§7.1) and failure paths wiping their output.
 * (c) AES-256-GCM and ChaCha20-Poly1305 records against libsodium, nonce
 *     (§5.3: IV XOR the padded sequence number) and additional data
 *     (§5.2: the record header) built here from the RFC text.
 * (d) TLSInnerPlaintext (§5.4): padding added and removed, the type byte
 *     found from the end, all-zero and type-less plaintexts
 *     (unexpected_message), a protected change_cipher_spec or unknown type
 *     (unexpected_message), and the length limits: 2^14 content, 2^14 + 1
 *     inner plaintext, 2^14 + 256 ciphertext (record_overflow).
 * (e) The sequence number guard at 2^64 - 1, re-keying, and the TLS 1.2
 *     and TLS 1.3 AEAD contexts refusing each other's calls.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include "check.h"
#include "consts.h"
#include "prf.h"
#include "rfc8448.h"
#include "suites.h"
#include "tls13_keys.h"
#include "tls13_record.h"

#define BIG (TLS_MAX_CIPHERTEXT + 64)

static uint8_t rec[BIG], rec2[BIG], plain[BIG], expected[BIG];

static const int kinds[] = {TLS_AEAD_AES128GCM, TLS_AEAD_AES256GCM, TLS_AEAD_CHACHA20};

/* --- (a) the oracle ---------------------------------------------------- */

static const char *md_name(int hash)
{
	return hash == TLS_HASH_SHA384 ? "SHA2-384" : "SHA2-256";
}

/* oracle(mode, hash, key, klen, salt, slen, label, data, dlen, out, olen):
 * OpenSSL's TLS13-KDF. EXPAND_ONLY: HKDF-Expand-Label(key, label, data,
 * olen). EXTRACT_ONLY: HKDF-Extract(salt ? Derive-Secret(salt,
 * "derived", "") : 0, key), the §7.1 step to the next stage. */
static void oracle(int mode, int hash, const uint8_t *key, size_t klen, const uint8_t *salt,
		   size_t slen, const char *label, const uint8_t *data, size_t dlen, uint8_t *out,
		   size_t olen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
	EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[9], *q = p;

	CHECK(k != NULL);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(hash), 0);
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, klen);
	if (salt != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, slen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)"tls13 ", 6);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label,
						 strlen(label));
	if (data != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)data, dlen);
	*q = OSSL_PARAM_construct_end();
	CHECK(k != NULL && EVP_KDF_derive(k, out, olen, p) == 1);
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(kdf);
}

static void oracle_expand(int hash, const uint8_t *secret, const char *label, const uint8_t *data,
			  size_t dlen, uint8_t *out, size_t olen)
{
	oracle(EVP_KDF_HKDF_MODE_EXPAND_ONLY, hash, secret, tls_hash_len(hash), NULL, 0, label,
	       data, dlen, out, olen);
}

/* oracle_stage(hash, prev, ikm, ikmlen, out): the next §7.1 stage. */
static void oracle_stage(int hash, const uint8_t *prev, const uint8_t *ikm, size_t ikmlen,
			 uint8_t *out)
{
	static const uint8_t zeros[48];
	size_t hl = tls_hash_len(hash);
	oracle(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, hash, ikm ? ikm : zeros, ikm ? ikmlen : hl, prev,
	       prev ? hl : 0, "derived", NULL, 0, out, hl);
}

static void oracle_finished(int hash, const uint8_t *base, const uint8_t *th, uint8_t *out)
{
	uint8_t fk[48];
	size_t hl = tls_hash_len(hash), outl = 0;
	oracle_expand(hash, base, "finished", NULL, 0, fk, hl);
	CHECK(EVP_Q_mac(NULL, "HMAC", NULL, md_name(hash), NULL, fk, hl, th, hl, out, hl, &outl) !=
	      NULL);
	CHECK_EQ(outl, hl);
}

/* The oracle reproduces RFC 8448 §3: checked once, so that agreement
 * below means agreement with the RFC's construction. */
static void test_oracle_is_rfc8448(void)
{
	uint8_t early[32], hs[32], dhe[32], th[32], out[32], want[32];

	oracle_stage(TLS_HASH_SHA256, NULL, NULL, 0, early);
	CHECK_EQ(check_hex(S3_EARLY.hex, want, 32), 32);
	CHECK_MEM(early, want, 32);
	CHECK_EQ(check_hex(S3_DHE.hex, dhe, 32), 32);
	oracle_stage(TLS_HASH_SHA256, early, dhe, 32, hs);
	CHECK_EQ(check_hex(S3_HS.hex, want, 32), 32);
	CHECK_MEM(hs, want, 32);
	CHECK_EQ(check_hex(S3_CH_SH_HASH.hex, th, 32), 32);
	oracle_expand(TLS_HASH_SHA256, hs, "s hs traffic", th, 32, out, 32);
	CHECK_EQ(check_hex(S3_S_HS.hex, want, 32), 32);
	CHECK_MEM(out, want, 32);
}

/* schedule(hash): the whole schedule with random inputs, ours against the
 * oracle, step by step. */
static void schedule(int hash)
{
	size_t hl = tls_hash_len(hash);
	uint8_t psk[48], dhe[97], th[48], a[48], b[48], early[48], hs[48], ms[48], sec[48];
	uint8_t key[32], iv[12], okey[32], oiv[12], nonce[8];

	randombytes_buf(psk, sizeof(psk));
	randombytes_buf(dhe, sizeof(dhe));
	randombytes_buf(th, sizeof(th));
	randombytes_buf(nonce, sizeof(nonce));

	/* Early secret with and without a PSK; handshake secret from a
	 * P-384-sized (97-byte) or x25519-sized shared secret; master. */
	CHECK_EQ(tls13_early_secret(hash, NULL, 0, a), 0);
	oracle_stage(hash, NULL, NULL, 0, b);
	CHECK_MEM(a, b, hl);
	CHECK_EQ(tls13_early_secret(hash, psk, hl, early), 0);
	oracle(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, hash, psk, hl, NULL, 0, "derived", NULL, 0, b, hl);
	CHECK_MEM(early, b, hl);
	for (size_t dl = 32; dl <= 97; dl += 65) {
		CHECK_EQ(tls13_handshake_secret(hash, early, dhe, dl, hs), 0);
		oracle_stage(hash, early, dhe, dl, b);
		CHECK_MEM(hs, b, hl);
	}
	CHECK_EQ(tls13_master_secret(hash, hs, ms), 0);
	oracle_stage(hash, hs, NULL, 0, b);
	CHECK_MEM(ms, b, hl);

	/* Every Derive-Secret label. */
	static const struct {
		int id;
		const char *label;
		int empty; /* over Hash("") */
	} labels[] = {
		{TLS13_LABEL_EXT_BINDER, "ext binder", 1},
		{TLS13_LABEL_RES_BINDER, "res binder", 1},
		{TLS13_LABEL_C_E_TRAFFIC, "c e traffic", 0},
		{TLS13_LABEL_E_EXP_MASTER, "e exp master", 0},
		{TLS13_LABEL_DERIVED, "derived", 1},
		{TLS13_LABEL_C_HS_TRAFFIC, "c hs traffic", 0},
		{TLS13_LABEL_S_HS_TRAFFIC, "s hs traffic", 0},
		{TLS13_LABEL_C_AP_TRAFFIC, "c ap traffic", 0},
		{TLS13_LABEL_S_AP_TRAFFIC, "s ap traffic", 0},
		{TLS13_LABEL_EXP_MASTER, "exp master", 0},
		{TLS13_LABEL_RES_MASTER, "res master", 0},
	};
	CHECK_EQ(sizeof(labels) / sizeof(labels[0]), TLS13_LABEL_COUNT);
	uint8_t empty[48];
	CHECK_EQ(tls_hash(hash, NULL, 0, empty), hl);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		const uint8_t *ctx = labels[i].empty ? empty : th;
		CHECK_EQ(tls13_derive_secret(hash, ms, labels[i].id, labels[i].empty ? NULL : th,
					     sec),
			 0);
		oracle_expand(hash, ms, labels[i].label, ctx, hl, b, hl);
		if (memcmp(sec, b, hl) != 0)
			fprintf(stderr, "  label \"%s\" (hash %d) differs\n", labels[i].label,
				hash);
		CHECK_MEM(sec, b, hl);
	}

	/* §7.3 keys for every AEAD; §4.4.4 Finished; §4.6.1 PSK; §7.2. */
	for (size_t k = 0; k < 3; k++) {
		size_t kl = tls_aead_key_len(kinds[k]);
		CHECK_EQ(tls13_traffic_keys(hash, kinds[k], sec, key, iv), 0);
		oracle_expand(hash, sec, "key", NULL, 0, okey, kl);
		oracle_expand(hash, sec, "iv", NULL, 0, oiv, 12);
		CHECK_MEM(key, okey, kl);
		CHECK_MEM(iv, oiv, 12);
	}
	CHECK_EQ(tls13_finished(hash, sec, th, a), 0);
	oracle_finished(hash, sec, th, b);
	CHECK_MEM(a, b, hl);
	CHECK_EQ(tls13_resumption_psk(hash, sec, nonce, sizeof(nonce), a), 0);
	oracle_expand(hash, sec, "resumption", nonce, sizeof(nonce), b, hl);
	CHECK_MEM(a, b, hl);
	CHECK_EQ(tls13_resumption_psk(hash, sec, NULL, 0, a), 0); /* empty nonce */
	oracle_expand(hash, sec, "resumption", NULL, 0, b, hl);
	CHECK_MEM(a, b, hl);

	/* KeyUpdate: three generations, the last one in place. */
	uint8_t gen[48], ogen[48];
	memcpy(gen, sec, hl);
	memcpy(ogen, sec, hl);
	for (int i = 0; i < 3; i++) {
		uint8_t next[48];
		if (i < 2) {
			CHECK_EQ(tls13_next_traffic_secret(hash, gen, next), 0);
			memcpy(gen, next, hl);
		} else {
			CHECK_EQ(tls13_next_traffic_secret(hash, gen, gen), 0);
		}
		oracle_expand(hash, ogen, "traffic upd", NULL, 0, next, hl);
		memcpy(ogen, next, hl);
		CHECK_MEM(gen, ogen, hl);
		CHECK(memcmp(gen, sec, hl) != 0);
	}
}

/* --- (b) bounds and failures ------------------------------------------- */

static void test_bounds(void)
{
	uint8_t buf[TLS13_HKDF_LABEL_MAX + 8], ctx[256], secret[48], out[300 * 32];
	char label[251];

	memset(ctx, 7, sizeof(ctx));
	randombytes_buf(secret, sizeof(secret));
	memset(label, 'x', sizeof(label));

	/* "tls13 " + Label is 7..255 bytes: Label 1..249. */
	label[249] = 0;
	CHECK_EQ(tls13_hkdf_label(label, ctx, 255, 65535, buf, sizeof(buf)), 2 + 1 + 255 + 1 + 255);
	CHECK_EQ(buf[0], 0xff);
	CHECK_EQ(buf[1], 0xff);
	CHECK_EQ(buf[2], 255);
	CHECK_MEM(buf + 3, "tls13 xxx", 9);
	CHECK_EQ(buf[3 + 255], 255);
	CHECK_EQ(tls13_hkdf_label(label, ctx, 255, 65535, buf, TLS13_HKDF_LABEL_MAX),
		 TLS13_HKDF_LABEL_MAX);
	CHECK_EQ(tls13_hkdf_label(label, ctx, 255, 65535, buf, TLS13_HKDF_LABEL_MAX - 1), 0);
	label[249] = 'x';
	label[250] = 0;
	CHECK_EQ(tls13_hkdf_label(label, ctx, 0, 32, buf, sizeof(buf)), 0); /* 250 */
	CHECK_EQ(tls13_hkdf_label("", ctx, 0, 32, buf, sizeof(buf)), 0);
	CHECK_EQ(tls13_hkdf_label(NULL, ctx, 0, 32, buf, sizeof(buf)), 0);
	CHECK_EQ(tls13_hkdf_label("key", ctx, 256, 32, buf, sizeof(buf)), 0);
	CHECK_EQ(tls13_hkdf_label("key", NULL, 1, 32, buf, sizeof(buf)), 0);
	CHECK_EQ(tls13_hkdf_label("key", NULL, 0, 65536, buf, sizeof(buf)), 0);
	CHECK_EQ(tls13_hkdf_label("key", NULL, 0, 0, buf, sizeof(buf)), 2 + 1 + 9 + 1);
	/* uint16 length, big-endian. */
	CHECK_EQ(tls13_hkdf_label("key", NULL, 0, 0x1234, buf, sizeof(buf)), 13);
	CHECK(buf[0] == 0x12 && buf[1] == 0x34 && buf[2] == 9 && buf[12] == 0);

	/* HKDF-Expand's L <= 255 * HashLen (RFC 5869 §2.3); 0 is refused.
	 * A failed call leaves zeros, not a partial output. */
	CHECK_EQ(tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, "k", NULL, 0, out, 255 * 32), 0);
	memset(out, 0xaa, sizeof(out));
	CHECK_EQ(tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, "k", NULL, 0, out, 255 * 32 + 1),
		 -1);
	CHECK(sodium_is_zero(out, 255 * 32 + 1));
	CHECK_EQ(tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, "k", NULL, 0, out, 0), -1);
	memset(out, 0xaa, 64);
	CHECK_EQ(tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, label, NULL, 0, out, 32), -1);
	CHECK(sodium_is_zero(out, 32));

	/* Only SHA-256 and SHA-384 (RFC 8446 §B.4); SHA-512 and unknown
	 * kinds fail and wipe, never write past Hash.length. */
	int bad[] = {TLS_HASH_SHA512, 7, -1};
	for (size_t i = 0; i < 3; i++) {
		memset(out, 0xaa, 64);
		CHECK_EQ(tls13_early_secret(bad[i], NULL, 0, out), -1);
		CHECK_EQ(tls13_derive_secret(bad[i], secret, TLS13_LABEL_DERIVED, NULL, out), -1);
		CHECK_EQ(tls13_finished_key(bad[i], secret, out), -1);
		CHECK_EQ(tls13_finished(bad[i], secret, secret, out), -1);
		CHECK_EQ(tls13_resumption_psk(bad[i], secret, NULL, 0, out), -1);
		CHECK_EQ(tls13_next_traffic_secret(bad[i], secret, out), -1);
		CHECK_EQ(out[48], 0xaa); /* nothing beyond 48 bytes touched */
	}
	memset(out, 0xaa, 64);
	CHECK_EQ(tls13_derive_secret(TLS_HASH_SHA256, secret, TLS13_LABEL_COUNT, NULL, out), -1);
	CHECK(sodium_is_zero(out, 32));
	CHECK_EQ(tls13_derive_secret(TLS_HASH_SHA256, secret, -1, NULL, out), -1);
	CHECK_EQ(tls13_handshake_secret(TLS_HASH_SHA256, secret, NULL, 0, out), -1);
	uint8_t key[32], iv[12];
	memset(key, 0xaa, sizeof(key));
	CHECK_EQ(tls13_traffic_keys(TLS_HASH_SHA256, 9, secret, key, iv), -1);
	CHECK_EQ(tls13_traffic_keys(TLS_HASH_SHA512, TLS_AEAD_AES128GCM, secret, key, iv), -1);
	CHECK(sodium_is_zero(key, 16) && sodium_is_zero(iv, 12));
}

/* --- (c) records against libsodium ------------------------------------- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* sodium_record(kind, key, iv, seq, inner, inlen, out): the record as
 * libsodium protects it, nonce and additional data from RFC 8446 §5.2,
 * §5.3; 0 when libsodium lacks the cipher. */
static size_t sodium_record(int kind, const uint8_t *key, const uint8_t *iv, uint64_t seq,
			    const uint8_t *inner, size_t inlen, uint8_t *out)
{
	uint8_t nonce[12], s[8];
	unsigned long long clen = 0;
	size_t body = inlen + 16;

	put_be64(s, seq);
	memcpy(nonce, iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= s[i];
	out[0] = 23, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(body >> 8), out[4] = (uint8_t)body;
	if (kind == TLS_AEAD_CHACHA20)
		crypto_aead_chacha20poly1305_ietf_encrypt(out + 5, &clen, inner, inlen, out, 5,
							  NULL, nonce, key);
	else if (kind == TLS_AEAD_AES256GCM && crypto_aead_aes256gcm_is_available())
		crypto_aead_aes256gcm_encrypt(out + 5, &clen, inner, inlen, out, 5, NULL, nonce,
					      key);
	else
		return 0;
	return 5 + (size_t)clen;
}

static void test_against_sodium(void)
{
	static const uint64_t seqs[] = {0, 1, 255, 256, 0x0102030405060708ull, UINT64_MAX - 1};
	static const size_t lens[] = {0, 1, 100, 16383, 16384};
	uint8_t key[32], iv[12], *p, t;
	size_t n;

	for (size_t k = 1; k < 3; k++) {
		tls_aead enc = {0}, dec = {0};
		randombytes_buf(key, sizeof(key));
		randombytes_buf(iv, sizeof(iv));
		CHECK_EQ(tls_aead_init13(&enc, kinds[k], key, iv, true), 0);
		CHECK_EQ(tls_aead_init13(&dec, kinds[k], key, iv, false), 0);
		for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
			size_t len = lens[s % 5], pad = s * 7;
			if (len + 1 + pad > TLS_MAX_PLAINTEXT + 1)
				pad = TLS_MAX_PLAINTEXT - len;
			uint8_t type = (uint8_t)(21 + s % 3);
			randombytes_buf(plain, len);
			memcpy(rec2, plain, len); /* the inner plaintext */
			rec2[len] = type;
			memset(rec2 + len + 1, 0, pad);
			size_t want = sodium_record(kinds[k], key, iv, seqs[s], rec2, len + 1 + pad,
						    expected);
			if (want == 0)
				continue;
			const uint8_t *w = expected;
			enc.seq = seqs[s];
			CHECK_EQ(tls13_record_seal(&enc, type, plain, len, pad, rec, BIG), want);
			CHECK_MEM(rec, w, want);
			/* libsodium's record opens with ours. */
			memcpy(rec, w, want);
			dec.seq = seqs[s];
			CHECK_EQ(tls13_record_open(&dec, rec, want, &t, &p, &n), 0);
			CHECK_EQ(t, type);
			CHECK_EQ(n, len);
			CHECK_MEM(p, plain, len);
		}
		tls_aead_free(&enc);
		tls_aead_free(&dec);
	}
}

/* --- (d) TLSInnerPlaintext and limits ---------------------------------- */

/* raw(a, inner, inlen, out): a record whose inner plaintext is exactly
 * ${inner} (anything at all), as a key holder could make it. */
static size_t raw(tls_aead *a, const uint8_t *inner, size_t inlen, uint8_t *out)
{
	size_t body = inlen + 16;
	out[0] = 23, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(body >> 8), out[4] = (uint8_t)body;
	memmove(out + 5, inner, inlen);
	CHECK_EQ(tls_aead_seal_ad(a, out, 5, out + 5, inlen, out + 5), body);
	return 5 + body;
}

static void test_inner_plaintext(void)
{
	uint8_t key[32], iv[12], *p, t;
	size_t n, len;

	for (size_t k = 0; k < 3; k++) {
		tls_aead enc = {0}, dec = {0};
		randombytes_buf(key, sizeof(key));
		randombytes_buf(iv, sizeof(iv));
		CHECK_EQ(tls_aead_init13(&enc, kinds[k], key, iv, true), 0);
		CHECK_EQ(tls_aead_init13(&dec, kinds[k], key, iv, false), 0);

		/* Padding of every size a 100-byte record allows: removed,
		 * content and type intact; the record grows by the pad. */
		randombytes_buf(plain, 100);
		plain[99] = 0; /* content ending in zeros stays intact */
		plain[98] = 0;
		size_t pads[] = {0, 1, 2, 255, 256, 1000, TLS_MAX_PLAINTEXT - 100};
		for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
			len = tls13_record_seal(&enc, TLS_CT_APPLICATION_DATA, plain, 100, pads[i],
						rec, BIG);
			CHECK_EQ(len, 100 + pads[i] + TLS13_RECORD_OVERHEAD);
			CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), 0);
			CHECK_EQ(t, TLS_CT_APPLICATION_DATA);
			CHECK_EQ(n, 100);
			CHECK_MEM(p, plain, 100);
		}
		/* Empty content (a zero-length application_data record). */
		len = tls13_record_seal(&enc, TLS_CT_APPLICATION_DATA, plain, 0, 3, rec, BIG);
		CHECK_EQ(len, 3 + TLS13_RECORD_OVERHEAD);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), 0);
		CHECK_EQ(n, 0);

		/* Limits on the sending side: content <= 2^14, inner
		 * plaintext <= 2^14 + 1, room in the output, type != 0. */
		uint64_t seq = enc.seq;
		randombytes_buf(plain, TLS_MAX_PLAINTEXT + 1);
		len = tls13_record_seal(&enc, TLS_CT_APPLICATION_DATA, plain, TLS_MAX_PLAINTEXT, 0,
					rec, BIG);
		CHECK_EQ(len, TLS_MAX_PLAINTEXT + TLS13_RECORD_OVERHEAD);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), 0);
		CHECK_EQ(n, TLS_MAX_PLAINTEXT);
		CHECK_MEM(p, plain, TLS_MAX_PLAINTEXT);
		seq = enc.seq;
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, TLS_MAX_PLAINTEXT + 1, 0, rec, BIG), 0);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, TLS_MAX_PLAINTEXT, 1, rec, BIG), 0);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, 10, TLS_MAX_PLAINTEXT - 9, rec, BIG),
			 0);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, 10, SIZE_MAX, rec, BIG), 0);
		CHECK_EQ(tls13_record_seal(&enc, 0, plain, 10, 0, rec, BIG), 0);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, 10, 0, rec,
					   10 + TLS13_RECORD_OVERHEAD - 1),
			 0);
		CHECK(enc.seq == seq);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, 10, 0, rec, 10 + TLS13_RECORD_OVERHEAD),
			 10 + TLS13_RECORD_OVERHEAD);
		CHECK_EQ(tls13_record_open(&dec, rec, 10 + TLS13_RECORD_OVERHEAD, &t, &p, &n), 0);

		/* §5.4: no non-zero byte at all is unexpected_message, for an
		 * empty inner plaintext and for one of zeros only. */
		memset(plain, 0, 300);
		len = raw(&enc, plain, 0, rec);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n),
			 TLS_ALERT_UNEXPECTED_MESSAGE);
		len = raw(&enc, plain, 300, rec);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n),
			 TLS_ALERT_UNEXPECTED_MESSAGE);
		/* Authenticated, so the sequence advanced: the stream goes
		 * on in step (the caller ends the connection anyway). */
		CHECK(dec.seq == enc.seq);

		/* Protected change_cipher_spec, or an unknown type. */
		uint8_t odd[] = {20, 99, 1};
		for (size_t i = 0; i < sizeof(odd); i++) {
			plain[0] = 1;
			plain[1] = odd[i];
			len = raw(&enc, plain, 2, rec);
			CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n),
				 TLS_ALERT_UNEXPECTED_MESSAGE);
			/* No plaintext left behind. */
			CHECK(sodium_is_zero(rec + 5, 2));
		}

		/* Receiving: 2^14 + 1 bytes of content (with its type, an
		 * inner plaintext of 2^14 + 2) and a maximal 2^14 + 256 body
		 * of padding after 2^14 bytes are record_overflow, though the
		 * tag verifies; a 2^14 + 256 body of mostly padding with a
		 * small content is still too long an inner plaintext. */
		randombytes_buf(plain, TLS_MAX_PLAINTEXT + 1);
		plain[TLS_MAX_PLAINTEXT + 1] = TLS_CT_APPLICATION_DATA;
		len = raw(&enc, plain, TLS_MAX_PLAINTEXT + 2, rec);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), TLS_ALERT_RECORD_OVERFLOW);
		CHECK(sodium_is_zero(rec + 5, TLS_MAX_PLAINTEXT + 2));
		plain[10] = TLS_CT_HANDSHAKE;
		memset(plain + 11, 0, TLS_MAX_CIPHERTEXT);
		len = raw(&enc, plain, TLS_MAX_CIPHERTEXT - 16, rec);
		CHECK_EQ(len, 5 + TLS_MAX_CIPHERTEXT);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), TLS_ALERT_RECORD_OVERFLOW);
		/* An inner plaintext of exactly 2^14 + 1 with 2^14 bytes of
		 * content is the largest record that opens. */
		randombytes_buf(plain, TLS_MAX_PLAINTEXT);
		plain[TLS_MAX_PLAINTEXT] = TLS_CT_APPLICATION_DATA;
		len = raw(&enc, plain, TLS_MAX_PLAINTEXT + 1, rec);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), 0);
		CHECK_EQ(n, TLS_MAX_PLAINTEXT);
		/* A body over 2^14 + 256 is record_overflow before any
		 * decryption (its tag is not even looked at). */
		seq = dec.seq;
		size_t body = TLS_MAX_CIPHERTEXT + 1;
		rec[0] = 23, rec[1] = 3, rec[2] = 3, rec[3] = (uint8_t)(body >> 8),
		rec[4] = (uint8_t)body;
		CHECK_EQ(tls13_record_open(&dec, rec, 5 + body, &t, &p, &n),
			 TLS_ALERT_RECORD_OVERFLOW);
		/* Shorter than a tag: bad_record_mac. */
		for (body = 0; body < 16; body++) {
			rec[3] = 0, rec[4] = (uint8_t)body;
			CHECK_EQ(tls13_record_open(&dec, rec, 5 + body, &t, &p, &n),
				 TLS_ALERT_BAD_RECORD_MAC);
		}
		/* A length that disagrees with the framing is the caller's
		 * bug; so is a write context or a TLS 1.2 one. */
		rec[3] = 0, rec[4] = 40;
		CHECK_EQ(tls13_record_open(&dec, rec, 5 + 39, &t, &p, &n),
			 TLS_ALERT_INTERNAL_ERROR);
		CHECK_EQ(tls13_record_open(&dec, rec, 4, &t, &p, &n), TLS_ALERT_INTERNAL_ERROR);
		CHECK_EQ(tls13_record_open(&enc, rec, 45, &t, &p, &n), TLS_ALERT_INTERNAL_ERROR);
		CHECK(dec.seq == seq);

		tls_aead_free(&enc);
		tls_aead_free(&dec);
	}
}

/* --- (e) sequence numbers, re-keying, context kinds -------------------- */

static void test_sequence_and_contexts(void)
{
	uint8_t key[32], iv[12], key2[32], *p, t;
	size_t n, len;

	for (size_t k = 0; k < 3; k++) {
		tls_aead enc = {0}, dec = {0}, old = {0};
		randombytes_buf(key, sizeof(key));
		randombytes_buf(iv, sizeof(iv));
		randombytes_buf(plain, 64);
		CHECK_EQ(tls_aead_init13(&enc, kinds[k], key, iv, true), 0);
		CHECK_EQ(tls_aead_init13(&dec, kinds[k], key, iv, false), 0);
		CHECK(enc.seq == 0 && enc.tls13);

		/* The last sequence number is 2^64 - 2: a record at 2^64 - 1
		 * is refused both ways, and the refused seal leaves zeros. */
		enc.seq = dec.seq = UINT64_MAX - 1;
		len = tls13_record_seal(&enc, 23, plain, 64, 0, rec, BIG);
		CHECK_EQ(len, 64 + TLS13_RECORD_OVERHEAD);
		CHECK(enc.seq == UINT64_MAX);
		memcpy(rec2, rec, len);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), 0);
		CHECK(dec.seq == UINT64_MAX);
		memset(rec, 0xaa, 100);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, 64, 0, rec, BIG), 0);
		CHECK(sodium_is_zero(rec, 64 + TLS13_RECORD_OVERHEAD));
		CHECK(enc.seq == UINT64_MAX);
		CHECK_EQ(tls13_record_open(&dec, rec2, len, &t, &p, &n), TLS_ALERT_BAD_RECORD_MAC);

		/* Re-keying a live context (KeyUpdate): sequence 0, new key;
		 * the old key no longer opens what the new one sealed. */
		randombytes_buf(key2, sizeof(key2));
		CHECK_EQ(tls_aead_init13(&old, kinds[k], key, iv, false), 0);
		CHECK_EQ(tls_aead_init13(&enc, kinds[k], key2, iv, true), 0);
		CHECK_EQ(tls_aead_init13(&dec, kinds[k], key2, iv, false), 0);
		CHECK(enc.seq == 0 && dec.seq == 0);
		len = tls13_record_seal(&enc, 22, plain, 64, 0, rec, BIG);
		memcpy(rec2, rec, len);
		CHECK_EQ(tls13_record_open(&old, rec2, len, &t, &p, &n), TLS_ALERT_BAD_RECORD_MAC);
		CHECK_EQ(tls13_record_open(&dec, rec, len, &t, &p, &n), 0);
		CHECK_EQ(t, 22);

		/* A TLS 1.3 context refuses the TLS 1.2 calls and the other
		 * way round: the two nonce and AAD formats never mix. */
		size_t po;
		CHECK_EQ(tls_aead_seal(&enc, 23, plain, 10, rec), 0);
		CHECK_EQ(tls_aead_open(&dec, 23, rec, 40, &po), -1);
		tls_aead v12 = {0};
		CHECK_EQ(tls_aead_init(&v12, kinds[k], key, iv, true), 0);
		CHECK(!v12.tls13);
		CHECK_EQ(tls_aead_seal_ad(&v12, rec, 5, plain, 10, rec + 5), 0);
		CHECK_EQ(tls13_record_seal(&v12, 23, plain, 10, 0, rec, BIG), 0);
		CHECK_EQ(tls_aead_init(&v12, kinds[k], key, iv, false), 0);
		CHECK_EQ(tls_aead_open_ad(&v12, rec, 5, rec + 5, 40), -1);
		/* ...and re-keying a TLS 1.3 context as TLS 1.2 clears the
		 * flag. */
		CHECK_EQ(tls_aead_init(&enc, kinds[k], key, iv, true), 0);
		CHECK(!enc.tls13);
		CHECK(tls_aead_seal(&enc, 23, plain, 10, rec) != 0);

		tls_aead_free(&v12);
		tls_aead_free(&old);
		tls_aead_free(&enc);
		tls_aead_free(&dec);
		static const tls_aead zero;
		CHECK(memcmp(&enc, &zero, sizeof(zero)) == 0);
		CHECK_EQ(tls13_record_seal(&enc, 23, plain, 10, 0, rec, BIG), 0);
	}
	tls_aead a = {0};
	CHECK_EQ(tls_aead_init13(&a, 7, key, iv, true), -1);
	CHECK(a.ctx == NULL);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_oracle_is_rfc8448();
	schedule(TLS_HASH_SHA256);
	schedule(TLS_HASH_SHA384);
	test_bounds();
	test_against_sodium();
	test_inner_plaintext();
	test_sequence_and_contexts();
	return check_exit("kat/tls13_record");
}
