#include "kx.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "consts.h"

/* What each group's public value looks like on the wire: 32 raw bytes for
 * x25519 (RFC 8422 §5.11), an uncompressed point 0x04 || X || Y for the NIST
 * curves (RFC 8422 §5.4.1; compressed points are deprecated). */
typedef struct kx_group {
	uint16_t id;
	const char *ossl_name; /* NULL: x25519 */
	size_t publen;
} kx_group;

static const kx_group kx_groups[] = {
	{TLS_GROUP_X25519, NULL, 32},
	{TLS_GROUP_SECP256R1, "P-256", 65},
	{TLS_GROUP_SECP384R1, "P-384", 97},
};

static const kx_group *kx_group_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(kx_groups) / sizeof(kx_groups[0]); i++)
		if (kx_groups[i].id == id)
			return &kx_groups[i];
	return NULL;
}

static EVP_PKEY *kx_keygen(const kx_group *g)
{
	if (g->ossl_name == NULL)
		return EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	return EVP_EC_gen(g->ossl_name);
}

static int kx_public(const kx_group *g, EVP_PKEY *key, uint8_t *pub, size_t *publen)
{
	size_t len = TLS_KX_MAX_PUB;

	if (g->ossl_name == NULL) {
		if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1)
			return -1;
	} else {
		/* OpenSSL's default point format is uncompressed; checked
		 * below rather than assumed. */
		if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
						    TLS_KX_MAX_PUB, &len) != 1)
			return -1;
		if (len > 0 && pub[0] != 0x04)
			return -1;
	}
	if (len != g->publen)
		return -1;
	*publen = len;
	return 0;
}

int tls_kx_generate(tls_kx *kx, uint16_t group, uint8_t *pub, size_t *publen)
{
	const kx_group *g = kx_group_find(group);

	/* The caller's struct may be uninitialized: set, never free, here. */
	kx->priv = NULL;
	kx->group = 0;
	if (g == NULL)
		return -1;
	kx->priv = kx_keygen(g);
	if (kx->priv == NULL)
		goto fail;
	kx->group = group;
	if (kx_public(g, kx->priv, pub, publen) != 0)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	tls_kx_free(kx);
	return -1;
}

/* The peer's public value as a key of our group. For the NIST curves the
 * import decodes the point, which fails for points off the curve; the quick
 * public check then also rejects the point at infinity. Both curves have
 * cofactor 1, so on-curve is the whole validation RFC 8422 §5.11 asks for. */
static EVP_PKEY *kx_peer_key(const kx_group *g, const uint8_t *peer, size_t peerlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	OSSL_PARAM params[3];

	if (peerlen != g->publen)
		return NULL;
	if (g->ossl_name == NULL)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, peerlen);
	if (peer[0] != 0x04)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)g->ossl_name, 0);
	params[1] =
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, peerlen);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	EVP_PKEY_CTX_free(ctx);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (ctx == NULL || EVP_PKEY_public_check_quick(ctx) != 1)
		goto fail;
	EVP_PKEY_CTX_free(ctx);
	return key;
fail:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return NULL;
}

int tls_kx_derive(tls_kx *kx, const uint8_t *peer, size_t peerlen, uint8_t *secret,
		  size_t *secretlen)
{
	const kx_group *g = kx_group_find(kx->group);
	EVP_PKEY *peerkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 0;
	int ret = -1;

	*secretlen = 0;
	if (g == NULL || kx->priv == NULL)
		goto out;
	peerkey = kx_peer_key(g, peer, peerlen);
	if (peerkey == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, kx->priv, NULL);
	/* Validation was done above (the default would repeat a full check
	 * including a scalar multiplication by the order). */
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peerkey, 0) != 1 ||
	    EVP_PKEY_derive(ctx, NULL, &len) != 1 || len > TLS_KX_MAX_SECRET)
		goto out;
	if (EVP_PKEY_derive(ctx, secret, &len) != 1)
		goto out;
	/* RFC 7748 §6.1 / RFC 8422 §5.11: a low-order x25519 point gives an
	 * all-zero secret, which must be refused. */
	if (g->ossl_name == NULL && sodium_is_zero(secret, len))
		goto out;
	*secretlen = len;
	ret = 0;
out:
	if (ret != 0) {
		if (len > 0 && len <= TLS_KX_MAX_SECRET)
			sodium_memzero(secret, len);
		ERR_clear_error();
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peerkey);
	tls_kx_free(kx);
	return ret;
}

void tls_kx_free(tls_kx *kx)
{
	EVP_PKEY_free(kx->priv);
	kx->priv = NULL;
}
