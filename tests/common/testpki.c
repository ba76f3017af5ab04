#include "testpki.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "suites.h"

/*
 * RSA key generation takes 50-200 ms, and nearly every engine test wants an
 * RSA certificate, so generated keys are kept in a small pool per size and
 * handed out round-robin. Round-robin (rather than one key per size) keeps
 * the keys of consecutive calls distinct, so a test can still make two CAs
 * or a CA and a leaf whose keys differ (a shared key would let a "wrong" CA
 * of the same name verify a leaf).
 */
#define RSA_POOL_KEYS  4
#define RSA_POOL_SIZES 4

static struct {
	int bits;
	unsigned next;
	EVP_PKEY *keys[RSA_POOL_KEYS];
} rsa_pool[RSA_POOL_SIZES];
static pthread_mutex_t rsa_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static int rsa_pool_atexit;

static void rsa_pool_free(void)
{
	for (size_t i = 0; i < RSA_POOL_SIZES; i++)
		for (size_t j = 0; j < RSA_POOL_KEYS; j++)
			EVP_PKEY_free(rsa_pool[i].keys[j]);
	memset(rsa_pool, 0, sizeof(rsa_pool));
}

static EVP_PKEY *rsa_generate(int bits)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);

	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_keygen(ctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

EVP_PKEY *testpki_rsa_key(int bits)
{
	EVP_PKEY *key = NULL;
	size_t i;

	pthread_mutex_lock(&rsa_pool_lock);
	if (!rsa_pool_atexit) {
		atexit(rsa_pool_free);
		rsa_pool_atexit = 1;
	}
	for (i = 0; i < RSA_POOL_SIZES; i++)
		if (rsa_pool[i].bits == bits || rsa_pool[i].bits == 0)
			break;
	if (i == RSA_POOL_SIZES) {
		/* More sizes than slots: no caching for this one. */
		pthread_mutex_unlock(&rsa_pool_lock);
		return rsa_generate(bits);
	}
	rsa_pool[i].bits = bits;
	unsigned slot = rsa_pool[i].next++ % RSA_POOL_KEYS;
	if (rsa_pool[i].keys[slot] == NULL)
		rsa_pool[i].keys[slot] = rsa_generate(bits);
	key = rsa_pool[i].keys[slot];
	if (key != NULL && EVP_PKEY_up_ref(key) != 1)
		key = NULL;
	pthread_mutex_unlock(&rsa_pool_lock);
	return key;
}

EVP_PKEY *testpki_key(int key_type)
{
	switch (key_type) {
	case TLS_KEY_RSA:
		return testpki_rsa_key(2048);
	case TLS_KEY_EC_P256:
		return EVP_EC_gen("P-256");
	case TLS_KEY_EC_P384:
		return EVP_EC_gen("P-384");
	case TLS_KEY_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	default:
		return NULL;
	}
}

/* Ed25519 signs the certificate itself (no separate digest, RFC 8410 §6). */
static const EVP_MD *sign_md(EVP_PKEY *signer)
{
	return EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int random_serial(X509 *cert)
{
	uint8_t raw[16];
	BIGNUM *bn;
	int ok;

	randombytes_buf(raw, sizeof(raw));
	raw[0] &= 0x7f; /* positive (RFC 5280 §4.1.2.2) */
	raw[0] |= 0x01; /* and not zero */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (bn == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

/* A certificate shell: version 3, random serial, validity, subject CN,
 * public key. */
static X509 *cert_new(EVP_PKEY *key, const char *cn, bool expired)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	const long day = 24 * 3600;

	if (cert == NULL)
		return NULL;
	if (X509_set_version(cert, X509_VERSION_3) != 1 || random_serial(cert) != 0)
		goto fail;
	if (expired) {
		if (X509_gmtime_adj(X509_getm_notBefore(cert), -30 * day) == NULL ||
		    X509_gmtime_adj(X509_getm_notAfter(cert), -day) == NULL)
			goto fail;
	} else {
		if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
		    X509_time_adj_ex(X509_getm_notAfter(cert), 3650, 0, NULL) == NULL)
			goto fail;
	}
	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1)
		goto fail;
	if (X509_set_pubkey(cert, key) != 1)
		goto fail;
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

/* A CA certificate for a fresh key, self-signed when ${parent} is NULL. */
static int ca_make(testpki_ca *ca, const testpki_ca *parent, int key_type, const char *cn)
{
	memset(ca, 0, sizeof(*ca));
	ca->key = testpki_key(key_type);
	if (ca->key == NULL)
		goto fail;
	ca->cert = cert_new(ca->key, cn, false);
	if (ca->cert == NULL)
		goto fail;
	X509 *issuer = parent != NULL ? parent->cert : ca->cert;
	EVP_PKEY *signer = parent != NULL ? parent->key : ca->key;
	if (X509_set_issuer_name(ca->cert, X509_get_subject_name(issuer)) != 1 ||
	    add_ext(ca->cert, issuer, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(ca->cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(ca->cert, issuer, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (parent != NULL &&
	    add_ext(ca->cert, issuer, NID_authority_key_identifier, "keyid:always") != 0)
		goto fail;
	if (X509_sign(ca->cert, signer, sign_md(signer)) <= 0)
		goto fail;
	return 0;
fail:
	testpki_ca_free(ca);
	return -1;
}

int testpki_ca_new(testpki_ca *ca, int key_type, const char *cn)
{
	return ca_make(ca, NULL, key_type, cn);
}

int testpki_ca_new_sub(testpki_ca *ca, const testpki_ca *parent, int key_type, const char *cn)
{
	return ca_make(ca, parent, key_type, cn);
}

void testpki_ca_free(testpki_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

/* The contents of a memory BIO as a malloc'd NUL-terminated string. */
static char *bio_string(BIO *bio)
{
	char *data, *out;
	long len = BIO_get_mem_data(bio, &data);

	if (len < 0)
		return NULL;
	out = malloc((size_t)len + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	return out;
}

static char *cert_pem(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *out = NULL;

	if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1)
		out = bio_string(bio);
	BIO_free(bio);
	return out;
}

static char *key_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *out = NULL;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
		out = bio_string(bio);
	BIO_free(bio);
	return out;
}

char *testpki_ca_pem(const testpki_ca *ca)
{
	return cert_pem(ca->cert);
}

/* "DNS:name,IP:addr" for the options, or NULL when neither is set. */
static int san_value(const testpki_leaf_opts *o, char *out, size_t outlen)
{
	int n;

	if (o->dns != NULL && o->ip != NULL)
		n = snprintf(out, outlen, "DNS:%s,IP:%s", o->dns, o->ip);
	else if (o->dns != NULL)
		n = snprintf(out, outlen, "DNS:%s", o->dns);
	else if (o->ip != NULL)
		n = snprintf(out, outlen, "IP:%s", o->ip);
	else
		return 0;
	return n > 0 && (size_t)n < outlen ? 1 : -1;
}

int testpki_issue(const testpki_ca *ca, const testpki_leaf_opts *opts, char **cert_out,
		  char **key_out)
{
	EVP_PKEY *key;
	X509 *cert = NULL;
	char san[600];
	int has_san, ret = -1;

	*cert_out = NULL;
	*key_out = NULL;
	if (opts->key_type == TLS_KEY_RSA && opts->rsa_bits != 0)
		key = testpki_rsa_key(opts->rsa_bits);
	else
		key = testpki_key(opts->key_type);
	if (key == NULL)
		return -1;
	cert = cert_new(key, opts->cn != NULL ? opts->cn : "testpki leaf", opts->expired);
	if (cert == NULL)
		goto out;
	if (X509_set_issuer_name(cert, X509_get_subject_name(ca->cert)) != 1)
		goto out;
	/* RSA key transport suites encrypt to the key: keyEncipherment
	 * (RFC 5246 §7.4.2). */
	const char *ku = opts->key_type == TLS_KEY_RSA ? "critical,digitalSignature,keyEncipherment"
						       : "critical,digitalSignature";
	if (add_ext(cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(cert, ca->cert, NID_key_usage, ku) != 0 ||
	    add_ext(cert, ca->cert, NID_ext_key_usage,
		    opts->client ? "clientAuth" : "serverAuth") != 0 ||
	    add_ext(cert, ca->cert, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(cert, ca->cert, NID_authority_key_identifier, "keyid:always") != 0)
		goto out;
	has_san = san_value(opts, san, sizeof(san));
	if (has_san < 0 || (has_san > 0 && add_ext(cert, ca->cert, NID_subject_alt_name, san) != 0))
		goto out;
	if (X509_sign(cert, ca->key, sign_md(ca->key)) <= 0)
		goto out;
	*cert_out = cert_pem(cert);
	*key_out = key_pem(key);
	if (*cert_out == NULL || *key_out == NULL) {
		free(*cert_out);
		free(*key_out);
		*cert_out = *key_out = NULL;
		goto out;
	}
	ret = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return ret;
}
