#include "rsakx.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "consts.h"

#define RSAKX_MAX_OUT 1024

int tls_rsakx_encrypt(EVP_PKEY *pub, const uint8_t pms[48], uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 0;
	int ret = -1;

	*outlen = 0;
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
		return -1;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, NULL, &len, pms, TLS_PREMASTER_RSA_LEN) != 1 ||
	    len > RSAKX_MAX_OUT)
		goto out;
	if (EVP_PKEY_encrypt(ctx, out, &len, pms, TLS_PREMASTER_RSA_LEN) != 1)
		goto out;
	*outlen = len;
	ret = 0;
out:
	if (ret != 0)
		ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

/*
 * RFC 5246 §7.4.7.1: a bad padding or version must be indistinguishable
 * from a good one until Finished fails, or the server is a Bleichenbacher
 * oracle. OpenSSL's RSA_PKCS1_WITH_TLS_PADDING does the padding and the
 * version check in constant time and itself substitutes random bytes; it
 * still returns an error (not in constant time, but from public data) when
 * the ciphertext is not below the modulus. So the random substitute is
 * drawn here first and the decrypted value replaces it under a mask made
 * from the return value, without a branch on the outcome.
 *
 * Only the client_version parameter is set: the negotiated-version
 * alternative exists for clients that put the negotiated version in the
 * premaster secret (OpenSSL's SSL_OP_TLS_ROLLBACK_BUG), which §7.4.7.1 lets
 * a server accept but which weakens the rollback check; libssl leaves it
 * off by default too.
 */
int tls_rsakx_decrypt(EVP_PKEY *priv, const uint8_t *in, size_t inlen, uint16_t client_version,
		      uint8_t pms[48])
{
	uint8_t rnd[TLS_PREMASTER_RSA_LEN], dec[TLS_PREMASTER_RSA_LEN] = {0};
	EVP_PKEY_CTX *ctx = NULL;
	unsigned int version = client_version;
	OSSL_PARAM params[2];
	size_t declen = sizeof(dec);
	int ok, ret = -1;

	if (EVP_PKEY_get_base_id(priv) != EVP_PKEY_RSA || inlen != (size_t)EVP_PKEY_get_size(priv))
		return -1;
	params[0] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &version);
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_WITH_TLS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_params(ctx, params) != 1)
		goto out;

	randombytes_buf(rnd, sizeof(rnd));
	ok = EVP_PKEY_decrypt(ctx, dec, &declen, in, inlen);
	{
		/* 0xff when decryption gave exactly 48 bytes, else 0x00. */
		unsigned good = (unsigned)(ok == 1) & (unsigned)(declen == sizeof(dec));
		uint8_t mask = (uint8_t)(0u - good);

		for (size_t i = 0; i < sizeof(dec); i++)
			pms[i] = (uint8_t)((dec[i] & mask) | (rnd[i] & (uint8_t)~mask));
	}
	ret = 0;
out:
	ERR_clear_error();
	sodium_memzero(rnd, sizeof(rnd));
	sodium_memzero(dec, sizeof(dec));
	EVP_PKEY_CTX_free(ctx);
	return ret;
}
