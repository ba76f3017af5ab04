/*
 * tls13_keys.c: the TLS 1.3 key schedule (RFC 8446 §7) on OpenSSL's
 * "HKDF" KDF (extract-only and expand-only modes, so that HkdfLabel is
 * built here, where its bounds are checked) and "HMAC" MAC.
 */
#include "tls13_keys.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include "prf.h"
#include "suites.h"

/* RFC 8446 §7.1: the label prefix of every HKDF-Expand-Label. */
static const char label_prefix[] = "tls13 ";
#define PREFIX_LEN (sizeof(label_prefix) - 1)

static const char *const labels[TLS13_LABEL_COUNT] = {
	[TLS13_LABEL_EXT_BINDER] = "ext binder",     [TLS13_LABEL_RES_BINDER] = "res binder",
	[TLS13_LABEL_C_E_TRAFFIC] = "c e traffic",   [TLS13_LABEL_E_EXP_MASTER] = "e exp master",
	[TLS13_LABEL_DERIVED] = "derived",           [TLS13_LABEL_C_HS_TRAFFIC] = "c hs traffic",
	[TLS13_LABEL_S_HS_TRAFFIC] = "s hs traffic", [TLS13_LABEL_C_AP_TRAFFIC] = "c ap traffic",
	[TLS13_LABEL_S_AP_TRAFFIC] = "s ap traffic", [TLS13_LABEL_EXP_MASTER] = "exp master",
	[TLS13_LABEL_RES_MASTER] = "res master",
};

/* Fetching walks the provider tables under a lock: once per process. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_KDF *hkdf_kdf;
static EVP_MAC *hmac_mac;

static void fetch_algorithms(void)
{
	hkdf_kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	hmac_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

/* suite_md(hash, len): the digest of a TLS 1.3 suite hash and its length;
 * NULL for anything but SHA-256 and SHA-384 (no TLS 1.3 suite uses
 * another, RFC 8446 §B.4). */
static const EVP_MD *suite_md(int hash, size_t *len)
{
	if (hash != TLS_HASH_SHA256 && hash != TLS_HASH_SHA384)
		return NULL;
	*len = tls_hash_len(hash);
	return tls_hash_md(hash);
}

/* suite_hlen(hash): Hash.length of a TLS 1.3 suite hash, 0 otherwise (so
 * that no output is sized by a hash we do not take). */
static size_t suite_hlen(int hash)
{
	size_t len = 0;
	return suite_md(hash, &len) ? len : 0;
}

/* hkdf(mode, md, key, klen, salt, slen, info, ilen, out, olen): one call
 * of OpenSSL's HKDF in ${mode} (EXTRACT_ONLY: key = IKM; EXPAND_ONLY:
 * key = PRK). ${salt} / ${info} may be NULL (not passed). */
static int hkdf(int mode, const EVP_MD *md, const uint8_t *key, size_t klen, const uint8_t *salt,
		size_t slen, const uint8_t *info, size_t ilen, uint8_t *out, size_t olen)
{
	OSSL_PARAM params[6], *p = params;
	EVP_KDF_CTX *kctx = NULL;
	int ret = -1;

	pthread_once(&fetch_once, fetch_algorithms);
	if (hkdf_kdf == NULL || md == NULL || (kctx = EVP_KDF_CTX_new(hkdf_kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md),
						0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, klen);
	if (salt != NULL)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, slen);
	if (info != NULL)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, ilen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, olen, params) == 1)
		ret = 0;
out:
	/* Freeing the context clears its copies of key, salt and info. */
	EVP_KDF_CTX_free(kctx);
	if (ret != 0)
		sodium_memzero(out, olen);
	return ret;
}

size_t tls13_hkdf_label(const char *label, const uint8_t *ctx, size_t ctxlen, size_t outlen,
			uint8_t *buf, size_t cap)
{
	size_t llen = label ? strlen(label) : 0;
	size_t full = PREFIX_LEN + llen;
	size_t n = 2 + 1 + full + 1 + ctxlen;

	/* label<7..255> = "tls13 " + Label: Label is 1..249 bytes;
	 * context<0..255>; uint16 length. */
	if (llen == 0 || full > 255 || ctxlen > 255 || outlen > 0xffff || n > cap ||
	    (ctxlen != 0 && ctx == NULL))
		return 0;
	buf[0] = (uint8_t)(outlen >> 8);
	buf[1] = (uint8_t)outlen;
	buf[2] = (uint8_t)full;
	memcpy(buf + 3, label_prefix, PREFIX_LEN);
	memcpy(buf + 3 + PREFIX_LEN, label, llen);
	buf[3 + full] = (uint8_t)ctxlen;
	if (ctxlen != 0)
		memcpy(buf + 4 + full, ctx, ctxlen);
	return n;
}

int tls13_hkdf_extract(int hash, const uint8_t *salt, const uint8_t *ikm, size_t ikmlen,
		       uint8_t *out)
{
	static const uint8_t zeros[TLS_MAX_HASH_LEN];
	size_t hlen = 0;
	const EVP_MD *md = suite_md(hash, &hlen);

	if (md == NULL)
		return -1;
	/* RFC 8446 §7.1: a missing input is a string of Hash.length zeros
	 * (for the salt RFC 5869 §2.2 says the same). */
	if (ikm == NULL) {
		ikm = zeros;
		ikmlen = hlen;
	}
	return hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, md, ikm, ikmlen, salt ? salt : zeros, hlen,
		    NULL, 0, out, hlen);
}

int tls13_hkdf_expand_label(int hash, const uint8_t *secret, const char *label, const uint8_t *ctx,
			    size_t ctxlen, uint8_t *out, size_t outlen)
{
	uint8_t info[TLS13_HKDF_LABEL_MAX];
	size_t hlen = 0;
	const EVP_MD *md = suite_md(hash, &hlen);
	size_t ilen = tls13_hkdf_label(label, ctx, ctxlen, outlen, info, sizeof(info));
	int ret = -1;

	/* RFC 5869 §2.3: L <= 255 * HashLen. */
	if (md == NULL || ilen == 0 || outlen == 0 || outlen > 255 * hlen)
		goto out;
	ret = hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, md, secret, hlen, NULL, 0, info, ilen, out,
		   outlen);
out:
	/* The context may be a ticket nonce or a transcript hash: not
	 * secret, but wiped like everything that passed a secret's way. */
	sodium_memzero(info, sizeof(info));
	if (ret != 0 && out != NULL)
		sodium_memzero(out, outlen);
	return ret;
}

int tls13_derive_secret(int hash, const uint8_t *secret, int label, const uint8_t *thash,
			uint8_t *out)
{
	uint8_t empty[TLS_MAX_HASH_LEN];
	size_t hlen = suite_hlen(hash);
	int ret = -1;

	if (label < 0 || label >= TLS13_LABEL_COUNT || hlen == 0)
		goto out;
	if (thash == NULL) {
		/* Transcript-Hash of no messages: Hash(""), §7.1. */
		if (tls_hash(hash, NULL, 0, empty) != hlen)
			goto out;
		thash = empty;
	}
	ret = tls13_hkdf_expand_label(hash, secret, labels[label], thash, hlen, out, hlen);
out:
	if (ret != 0)
		sodium_memzero(out, hlen);
	return ret;
}

int tls13_early_secret(int hash, const uint8_t *psk, size_t psklen, uint8_t *out)
{
	return tls13_hkdf_extract(hash, NULL, psk, psklen, out);
}

/* next_stage(hash, prev, ikm, ikmlen, out): HKDF-Extract(Derive-Secret(
 * prev, "derived", ""), ikm), the step between two stages of §7.1. */
static int next_stage(int hash, const uint8_t *prev, const uint8_t *ikm, size_t ikmlen,
		      uint8_t *out)
{
	uint8_t salt[TLS_MAX_HASH_LEN];
	int ret = -1;

	if (tls13_derive_secret(hash, prev, TLS13_LABEL_DERIVED, NULL, salt) == 0 &&
	    tls13_hkdf_extract(hash, salt, ikm, ikmlen, out) == 0)
		ret = 0;
	sodium_memzero(salt, sizeof(salt));
	return ret;
}

int tls13_handshake_secret(int hash, const uint8_t *early, const uint8_t *dhe, size_t dhelen,
			   uint8_t *out)
{
	/* The shared secret is a required input: NULL would silently mean
	 * "zeros", which only the master secret may use. */
	if (dhe == NULL || dhelen == 0)
		return -1;
	return next_stage(hash, early, dhe, dhelen, out);
}

int tls13_master_secret(int hash, const uint8_t *hs, uint8_t *out)
{
	return next_stage(hash, hs, NULL, 0, out);
}

int tls13_traffic_keys(int hash, int aead, const uint8_t *secret, uint8_t *key, uint8_t *iv)
{
	size_t klen = tls_aead_key_len(aead);

	if (klen == 0)
		return -1;
	if (tls13_hkdf_expand_label(hash, secret, "key", NULL, 0, key, klen) == 0 &&
	    tls13_hkdf_expand_label(hash, secret, "iv", NULL, 0, iv, TLS13_IV_LEN) == 0)
		return 0;
	sodium_memzero(key, klen);
	sodium_memzero(iv, TLS13_IV_LEN);
	return -1;
}

int tls13_finished_key(int hash, const uint8_t *base_key, uint8_t *out)
{
	size_t hlen = suite_hlen(hash);
	return hlen ? tls13_hkdf_expand_label(hash, base_key, "finished", NULL, 0, out, hlen) : -1;
}

int tls13_finished(int hash, const uint8_t *base_key, const uint8_t *thash, uint8_t *out)
{
	uint8_t fk[TLS_MAX_HASH_LEN];
	size_t hlen = 0, maclen = 0;
	const EVP_MD *md = suite_md(hash, &hlen);
	OSSL_PARAM params[2];
	EVP_MAC_CTX *mctx = NULL;
	int ret = -1;

	if (md == NULL)
		return -1;
	pthread_once(&fetch_once, fetch_algorithms);
	if (hmac_mac == NULL || tls13_finished_key(hash, base_key, fk) < 0 ||
	    (mctx = EVP_MAC_CTX_new(hmac_mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(mctx, fk, hlen, params) == 1 && EVP_MAC_update(mctx, thash, hlen) == 1 &&
	    EVP_MAC_final(mctx, out, &maclen, hlen) == 1 && maclen == hlen)
		ret = 0;
out:
	EVP_MAC_CTX_free(mctx);
	sodium_memzero(fk, sizeof(fk));
	if (ret != 0)
		sodium_memzero(out, hlen);
	return ret;
}

int tls13_resumption_psk(int hash, const uint8_t *rms, const uint8_t *nonce, size_t noncelen,
			 uint8_t *out)
{
	size_t hlen = suite_hlen(hash);
	return hlen ? tls13_hkdf_expand_label(hash, rms, "resumption", nonce, noncelen, out, hlen)
		    : -1;
}

int tls13_next_traffic_secret(int hash, const uint8_t *secret, uint8_t *out)
{
	uint8_t next[TLS_MAX_HASH_LEN];
	size_t hlen = suite_hlen(hash);
	int ret = -1;

	/* Through a temporary, so that ${out} may be ${secret}. */
	if (hlen == 0)
		return -1;
	if (tls13_hkdf_expand_label(hash, secret, "traffic upd", NULL, 0, next, hlen) == 0) {
		memcpy(out, next, hlen);
		ret = 0;
	} else {
		sodium_memzero(out, hlen);
	}
	sodium_memzero(next, sizeof(next));
	return ret;
}
