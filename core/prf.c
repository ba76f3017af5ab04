/*
 * prf.c: the TLS 1.2 PRF (RFC 5246 §5) through OpenSSL's "TLS1-PRF" KDF,
 * and the three places the key schedule uses it.
 */
#include "prf.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include "consts.h"
#include "suites.h"

/* Fetching an algorithm walks the provider tables under a lock; do it once
 * per process, not once per handshake. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_KDF *prf_kdf;
static EVP_MD *md_sha256;
static EVP_MD *md_sha384;

static void fetch_algorithms(void)
{
	prf_kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
}

/* digest_name(hash): the KDF's digest parameter, or NULL. */
static const char *digest_name(int hash)
{
	switch (hash) {
	case TLS_HASH_SHA256:
		return "SHA2-256";
	case TLS_HASH_SHA384:
		return "SHA2-384";
	}
	return NULL;
}

int tls_prf(int hash, const uint8_t *secret, size_t slen, const char *label, const uint8_t *seed1,
	    size_t s1len, const uint8_t *seed2, size_t s2len, uint8_t *out, size_t olen)
{
	const char *dname = digest_name(hash);
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[6], *p = params;
	int ret = -1;

	if (olen == 0)
		return 0;
	pthread_once(&fetch_once, fetch_algorithms);
	if (prf_kdf == NULL || dname == NULL || label == NULL)
		goto out;
	if ((kctx = EVP_KDF_CTX_new(prf_kdf)) == NULL)
		goto out;

	/* The KDF concatenates every SEED parameter in order, so
	 * label || seed1 || seed2 (RFC 5246 §5) is passed without copying. */
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)dname, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, strlen(label));
	if (seed1 != NULL && s1len != 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed1, s1len);
	if (seed2 != NULL && s2len != 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed2, s2len);
	*p = OSSL_PARAM_construct_end();

	if (EVP_KDF_derive(kctx, out, olen, params) == 1)
		ret = 0;
out:
	/* Freeing the context clears its copies of the secret and seed. */
	EVP_KDF_CTX_free(kctx);
	if (ret != 0)
		sodium_memzero(out, olen);
	return ret;
}

const EVP_MD *tls_hash_md(int hash)
{
	pthread_once(&fetch_once, fetch_algorithms);
	if (hash == TLS_HASH_SHA256)
		return md_sha256;
	if (hash == TLS_HASH_SHA384)
		return md_sha384;
	return NULL;
}

size_t tls_hash(int hash, const uint8_t *data, size_t len, uint8_t *out)
{
	const EVP_MD *md = tls_hash_md(hash);
	unsigned int olen = 0;

	if (md == NULL || EVP_Digest(data, len, out, &olen, md, NULL) != 1)
		return 0;
	return olen;
}

int tls_master_secret_ems(int hash, const uint8_t *pms, size_t pmslen, const uint8_t *session_hash,
			  size_t shlen, uint8_t ms[48])
{
	return tls_prf(hash, pms, pmslen, "extended master secret", session_hash, shlen, NULL, 0,
		       ms, TLS_MASTER_SECRET_LEN);
}

int tls_key_block(int hash, const uint8_t ms[48], const uint8_t client_random[32],
		  const uint8_t server_random[32], uint8_t *out, size_t olen)
{
	/* RFC 5246 §6.3: server_random first here, unlike the master secret. */
	return tls_prf(hash, ms, TLS_MASTER_SECRET_LEN, "key expansion", server_random,
		       TLS_RANDOM_LEN, client_random, TLS_RANDOM_LEN, out, olen);
}

int tls_finished(int hash, const uint8_t ms[48], int from_client, const uint8_t *transcript_hash,
		 size_t thlen, uint8_t out[12])
{
	return tls_prf(hash, ms, TLS_MASTER_SECRET_LEN,
		       from_client ? "client finished" : "server finished", transcript_hash, thlen,
		       NULL, 0, out, TLS_FINISHED_LEN);
}
