/*
 * test_prf: the TLS 1.2 PRF and key schedule (core/prf.h).
 *
 * 1. The P_SHA256 and P_SHA384 vectors posted to the IETF TLS working
 *    group list (2010) and carried in many TLS test suites.
 * 2. A cross-check against P_hash written here, in the test only, straight
 *    from RFC 5246 §5 on top of OpenSSL's HMAC (EVP_MAC), for many lengths
 *    and for each key-schedule function with its RFC label and seed order.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "check.h"
#include "prf.h"
#include "suites.h"

/* hmac(md, key, klen, a, alen, b, blen, out): HMAC_md(key, a || b). */
static size_t hmac(const char *md, const uint8_t *key, size_t klen, const uint8_t *a, size_t alen,
		   const uint8_t *b, size_t blen, uint8_t *out)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t olen = 0;
	int ok = ctx != NULL && EVP_MAC_init(ctx, key, klen, params) == 1 &&
		 EVP_MAC_update(ctx, a, alen) == 1 &&
		 (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) &&
		 EVP_MAC_final(ctx, out, &olen, 64) == 1;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	CHECK(ok);
	return ok ? olen : 0;
}

/* ref_prf(hash, secret, slen, label, seed, seedlen, out, olen): RFC 5246 §5,
 *   P_hash(secret, seed) = HMAC(secret, A(1) + seed) || HMAC(secret, A(2) + seed) || ...
 *   A(0) = seed, A(i) = HMAC(secret, A(i-1)),
 * with seed = label || seed. */
static void ref_prf(int hash, const uint8_t *secret, size_t slen, const char *label,
		    const uint8_t *seed, size_t seedlen, uint8_t *out, size_t olen)
{
	const char *md = hash == TLS_HASH_SHA256 ? "SHA256" : "SHA384";
	uint8_t full[512], a[64], block[64];
	size_t llen = strlen(label), flen = llen + seedlen, alen, done = 0;

	CHECK(flen <= sizeof(full));
	memcpy(full, label, llen);
	memcpy(full + llen, seed, seedlen);

	alen = hmac(md, secret, slen, full, flen, NULL, 0, a); /* A(1) */
	while (done < olen) {
		size_t blen = hmac(md, secret, slen, a, alen, full, flen, block);
		size_t take = olen - done < blen ? olen - done : blen;
		memcpy(out + done, block, take);
		done += take;
		alen = hmac(md, secret, slen, a, alen, NULL, 0, a); /* A(i+1) */
		if (blen == 0)
			break;
	}
}

static void test_published_vectors(void)
{
	uint8_t secret[16], seed[16], want[148], out[148];
	size_t wlen;

	/* P_SHA256: 100 bytes. */
	check_hex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35", secret, sizeof(secret));
	check_hex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c", seed, sizeof(seed));
	wlen = check_hex("e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53"
			 "c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a"
			 "6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af"
			 "0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab"
			 "4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba"
			 "a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01"
			 "87 34 7b 66",
			 want, sizeof(want));
	CHECK_EQ(wlen, 100);
	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 16, "test label", seed, 16, NULL, 0, out, wlen),
		 0);
	CHECK_MEM(out, want, wlen);
	/* The same with the seed split over seed1 and seed2. */
	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 16, "test label", seed, 5, seed + 5, 11, out,
			 wlen),
		 0);
	CHECK_MEM(out, want, wlen);
	/* A shorter request is a prefix (P_hash is truncated, RFC 5246 §5). */
	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 16, "test label", seed, 16, NULL, 0, out, 37), 0);
	CHECK_MEM(out, want, 37);
	CHECK_EQ(out[37], 0);

	/* P_SHA384: 148 bytes. */
	check_hex("b8 0b 73 3d 6c ee fc dc 71 56 6e a4 8e 55 67 df", secret, sizeof(secret));
	check_hex("cd 66 5c f6 a8 44 7d d6 ff 8b 27 55 5e db 74 65", seed, sizeof(seed));
	wlen = check_hex("7b 0c 18 e9 ce d4 10 ed 18 04 f2 cf a3 4a 33 6a"
			 "1c 14 df fb 49 00 bb 5f d7 94 21 07 e8 1c 83 cd"
			 "e9 ca 0f aa 60 be 9f e3 4f 82 b1 23 3c 91 46 a0"
			 "e5 34 cb 40 0f ed 27 00 88 4f 9d c2 36 f8 0e dd"
			 "8b fa 96 11 44 c9 e8 d7 92 ec a7 22 a7 b3 2f c3"
			 "d4 16 d4 73 eb c2 c5 fd 4a bf da d0 5d 91 84 25"
			 "9b 5b f8 cd 4d 90 fa 0d 31 e2 de c4 79 e4 f1 a2"
			 "60 66 f2 ee a9 a6 92 36 a3 e5 26 55 c9 e9 ae e6"
			 "91 c8 f3 a2 68 54 30 8d 5e aa 3b e8 5e 09 90 70"
			 "3d 73 e5 6f",
			 want, sizeof(want));
	CHECK_EQ(wlen, 148);
	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_prf(TLS_HASH_SHA384, secret, 16, "test label", seed, 16, NULL, 0, out, wlen),
		 0);
	CHECK_MEM(out, want, wlen);
	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_prf(TLS_HASH_SHA384, secret, 16, "test label", seed, 16, NULL, 0, out, 148),
		 0);
	CHECK_MEM(out, want, 148);

	/* The reference P_hash agrees with the published vector too, so the
	 * cross-checks below compare against something known to be right. */
	memset(out, 0, sizeof(out));
	ref_prf(TLS_HASH_SHA384, secret, 16, "test label", seed, 16, out, wlen);
	CHECK_MEM(out, want, wlen);
}

static void test_cross_check(void)
{
	static const size_t lens[] = {1,  12, 31, 32,  33,  47,  48, 49,
				      64, 72, 88, 100, 104, 200, 257};
	uint8_t secret[80], seed[200], got[257], want[257];

	for (int hash = TLS_HASH_SHA256; hash <= TLS_HASH_SHA384; hash++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t slen = 1 + i * 5, s1 = 3 + i * 7, s2 = i * 3;
			randombytes_buf(secret, slen);
			randombytes_buf(seed, s1 + s2);
			memset(got, 0, sizeof(got));
			memset(want, 0xff, sizeof(want));
			CHECK_EQ(tls_prf(hash, secret, slen, "cross check", seed, s1,
					 s2 ? seed + s1 : NULL, s2, got, lens[i]),
				 0);
			ref_prf(hash, secret, slen, "cross check", seed, s1 + s2, want, lens[i]);
			CHECK_MEM(got, want, lens[i]);
		}
	}

	/* A different hash, label or seed changes the output. */
	uint8_t a[48], b[48];
	randombytes_buf(secret, 48);
	randombytes_buf(seed, 64);
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 48, "x", seed, 64, NULL, 0, a, 48), 0);
	CHECK_EQ(tls_prf(TLS_HASH_SHA384, secret, 48, "x", seed, 64, NULL, 0, b, 48), 0);
	CHECK(memcmp(a, b, 48) != 0);
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 48, "y", seed, 64, NULL, 0, b, 48), 0);
	CHECK(memcmp(a, b, 48) != 0);
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 48, "x", seed + 32, 32, seed, 32, b, 48), 0);
	CHECK(memcmp(a, b, 48) != 0);

	/* Unknown hash: failure, output wiped. */
	memset(a, 0xaa, sizeof(a));
	CHECK_EQ(tls_prf(7, secret, 48, "x", seed, 64, NULL, 0, a, 48), -1);
	static const uint8_t zero[48];
	CHECK_MEM(a, zero, 48);
	/* Zero length: nothing to do. */
	CHECK_EQ(tls_prf(TLS_HASH_SHA256, secret, 48, "x", seed, 64, NULL, 0, a, 0), 0);
}

static void test_key_schedule(void)
{
	uint8_t pms[48], sh[48], ms[48], want[200], got[200];
	uint8_t cr[32], sr[32], seed[64];

	for (int hash = TLS_HASH_SHA256; hash <= TLS_HASH_SHA384; hash++) {
		size_t hlen = tls_hash_len(hash);

		/* RFC 7627 §4: PRF(pms, "extended master secret", session_hash)[0..47].
		 * 32 bytes is an X25519 premaster secret, 48 an RSA one. */
		for (size_t pmslen = 32; pmslen <= 48; pmslen += 16) {
			randombytes_buf(pms, pmslen);
			randombytes_buf(sh, hlen);
			memset(ms, 0, sizeof(ms));
			CHECK_EQ(tls_master_secret_ems(hash, pms, pmslen, sh, hlen, ms), 0);
			ref_prf(hash, pms, pmslen, "extended master secret", sh, hlen, want, 48);
			CHECK_MEM(ms, want, 48);
		}

		/* RFC 5246 §6.3: seed = server_random || client_random. Key
		 * block sizes of our suites: 2*16+2*4 = 40, 2*32+2*4 = 72,
		 * 2*32+2*12 = 88. */
		randombytes_buf(cr, 32);
		randombytes_buf(sr, 32);
		memcpy(seed, sr, 32);
		memcpy(seed + 32, cr, 32);
		static const size_t kb[] = {40, 72, 88, 200};
		for (size_t i = 0; i < 4; i++) {
			memset(got, 0, sizeof(got));
			CHECK_EQ(tls_key_block(hash, ms, cr, sr, got, kb[i]), 0);
			ref_prf(hash, ms, 48, "key expansion", seed, 64, want, kb[i]);
			CHECK_MEM(got, want, kb[i]);
		}
		/* The order of the randoms matters. */
		CHECK_EQ(tls_key_block(hash, ms, sr, cr, got, 40), 0);
		CHECK(memcmp(got, want, 40) != 0);

		/* RFC 5246 §7.4.9: 12 bytes of PRF(ms, finished_label,
		 * Hash(handshake_messages)). */
		uint8_t th[48], fin[12];
		randombytes_buf(th, hlen);
		CHECK_EQ(tls_finished(hash, ms, 1, th, hlen, fin), 0);
		ref_prf(hash, ms, 48, "client finished", th, hlen, want, 12);
		CHECK_MEM(fin, want, 12);
		CHECK_EQ(tls_finished(hash, ms, 0, th, hlen, fin), 0);
		ref_prf(hash, ms, 48, "server finished", th, hlen, want, 12);
		CHECK_MEM(fin, want, 12);
	}
}

static void test_hash(void)
{
	uint8_t out[TLS_MAX_HASH_LEN], want[48];

	/* FIPS 180-2 appendix examples: "abc". */
	CHECK_EQ(tls_hash(TLS_HASH_SHA256, (const uint8_t *)"abc", 3, out), 32);
	check_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 48);
	CHECK_MEM(out, want, 32);
	CHECK_EQ(tls_hash(TLS_HASH_SHA384, (const uint8_t *)"abc", 3, out), 48);
	check_hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		  "8086072ba1e7cc2358baeca134c825a7",
		  want, 48);
	CHECK_MEM(out, want, 48);
	/* Empty input. */
	CHECK_EQ(tls_hash(TLS_HASH_SHA256, (const uint8_t *)"", 0, out), 32);
	check_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 48);
	CHECK_MEM(out, want, 32);
	CHECK_EQ(tls_hash(9, (const uint8_t *)"abc", 3, out), 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_published_vectors();
	test_cross_check();
	test_key_schedule();
	test_hash();
	return check_exit("kat/prf");
}
