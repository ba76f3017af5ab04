#include "sig.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "consts.h"
#include "suites.h"

static bool is_ec(int key_type)
{
	return key_type == TLS_KEY_EC_P256 || key_type == TLS_KEY_EC_P384;
}

bool tls_sig_usable(uint16_t scheme, int key_type)
{
	const tls_sigscheme *s = tls_sigscheme_by_id(scheme);

	if (s == NULL || key_type == TLS_KEY_NONE)
		return false;
	/* TLS 1.2 ties an ECDSA scheme to its hash only, not to the curve
	 * (RFC 8446 §4.2.3 adds the binding for 1.3). */
	if (is_ec(s->key))
		return is_ec(key_type);
	return s->key == key_type;
}

uint16_t tls_sig_choose(int key_type, const uint16_t *peer, size_t npeer)
{
	size_t nours;
	const uint16_t *ours = tls_sigschemes_all(&nours);

	/* The hash of the curve's own size first (RFC 8446 §4.2.3 pairing;
	 * what peers expect), the other ECDSA hash only as a fallback. */
	if (is_ec(key_type)) {
		uint16_t match = key_type == TLS_KEY_EC_P256 ? TLS_SIG_ECDSA_SECP256R1_SHA256
							     : TLS_SIG_ECDSA_SECP384R1_SHA384;
		if (tls_ids_contain(ours, nours, match) && tls_ids_contain(peer, npeer, match))
			return match;
	}
	for (size_t i = 0; i < nours; i++)
		if (tls_sig_usable(ours[i], key_type) && tls_ids_contain(peer, npeer, ours[i]))
			return ours[i];
	return 0;
}

static const EVP_MD *scheme_md(const tls_sigscheme *s)
{
	switch (s->hash) {
	case TLS_HASH_SHA384:
		return EVP_sha384();
	case TLS_HASH_SHA512:
		return EVP_sha512();
	default:
		return EVP_sha256();
	}
}

/* RSA padding for ${s}: PKCS#1 v1.5, or PSS with MGF1 on the same hash and a
 * salt as long as the hash (RFC 8446 §4.2.3), for signing and verifying. */
static int set_rsa_padding(EVP_PKEY_CTX *pctx, const tls_sigscheme *s)
{
	if (!s->pss)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 ? 0 : -1;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, scheme_md(s)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
		return -1;
	return 0;
}

int tls_sig_sign(const tls_privkey *key, uint16_t scheme, const uint8_t *msg, size_t len,
		 uint8_t *sig, size_t *siglen)
{
	const tls_sigscheme *s = tls_sigscheme_by_id(scheme);
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned long long edlen = 0;
	size_t need = 0;
	int ret = -1;

	*siglen = 0;
	if (s == NULL || key->pkey == NULL || !tls_sig_usable(scheme, key->type))
		return -1;
	if (key->type == TLS_KEY_ED25519) {
		/* PureEdDSA over the whole message (RFC 8422 §5.10). */
		if (key->ed25519_sk == NULL ||
		    crypto_sign_detached(sig, &edlen, msg, len, key->ed25519_sk) != 0)
			return -1;
		*siglen = (size_t)edlen;
		return 0;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestSignInit(mctx, &pctx, scheme_md(s), NULL, key->pkey) != 1 ||
	    (key->type == TLS_KEY_RSA && set_rsa_padding(pctx, s) != 0) ||
	    EVP_DigestSign(mctx, NULL, &need, msg, len) != 1 || need > TLS_MAX_SIG_LEN)
		goto out;
	if (EVP_DigestSign(mctx, sig, &need, msg, len) != 1)
		goto out;
	*siglen = need;
	ret = 0;
out:
	if (ret != 0)
		ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return ret;
}

static int verify_ed25519(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t *sig,
			  size_t siglen)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	size_t pklen = sizeof(pk);

	if (siglen != crypto_sign_BYTES || EVP_PKEY_get_raw_public_key(pub, pk, &pklen) != 1 ||
	    pklen != sizeof(pk))
		return -1;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
}

int tls_sig_verify(EVP_PKEY *pub, uint16_t scheme, const uint8_t *msg, size_t len,
		   const uint8_t *sig, size_t siglen)
{
	const tls_sigscheme *s = tls_sigscheme_by_id(scheme);
	int type = tls_key_type_of(pub);
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int ret = -1;

	if (s == NULL || !tls_sig_usable(scheme, type) || siglen == 0 || siglen > TLS_MAX_SIG_LEN)
		goto out;
	if (type == TLS_KEY_ED25519) {
		ret = verify_ed25519(pub, msg, len, sig, siglen);
		goto out;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestVerifyInit(mctx, &pctx, scheme_md(s), NULL, pub) != 1 ||
	    (type == TLS_KEY_RSA && set_rsa_padding(pctx, s) != 0))
		goto out;
	if (EVP_DigestVerify(mctx, sig, siglen, msg, len) == 1)
		ret = 0;
out:
	if (ret != 0)
		ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return ret;
}
