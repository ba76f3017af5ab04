/*
 * testpki.h: throwaway certificate authorities and certificates made in
 * memory with libcrypto, so engine tests need no files and no openssl CLI.
 */
#ifndef TLSHIM_TESTS_TESTPKI_H
#define TLSHIM_TESTS_TESTPKI_H

#include <stdbool.h>

#include <openssl/x509.h>

typedef struct testpki_ca {
	EVP_PKEY *key;
	X509 *cert;
} testpki_ca;

/* testpki_key(key_type): a fresh private key of enum tls_key_type
 * (RSA is 2048 bits); NULL on failure. testpki_rsa_key(bits) for other sizes.
 * The caller frees the key. RSA keys come from a pool of four per size,
 * handed out round-robin (generation is slow): four consecutive calls give
 * four different keys, the fifth repeats the first. */
EVP_PKEY *testpki_key(int key_type);
EVP_PKEY *testpki_rsa_key(int bits);

/* testpki_ca_new(ca, key_type, cn): a self-signed CA (basicConstraints CA,
 * keyCertSign) valid from an hour ago for ten years. 0 or -1. */
int testpki_ca_new(testpki_ca *ca, int key_type, const char *cn);
void testpki_ca_free(testpki_ca *ca);

/* testpki_ca_new_sub(ca, parent, key_type, cn): an intermediate CA signed
 * by ${parent}, same validity and extensions as testpki_ca_new. 0 or -1. */
int testpki_ca_new_sub(testpki_ca *ca, const testpki_ca *parent, int key_type, const char *cn);

/* testpki_ca_pem(ca): the CA certificate as PEM (malloc'd string). */
char *testpki_ca_pem(const testpki_ca *ca);

typedef struct testpki_leaf_opts {
	int key_type;    /* enum tls_key_type */
	int rsa_bits;    /* 0: 2048 */
	const char *cn;  /* subject CN */
	const char *dns; /* subjectAltName DNS entry or NULL */
	const char *ip;  /* subjectAltName IP entry or NULL */
	bool client;     /* extendedKeyUsage clientAuth (else serverAuth) */
	bool expired;    /* validity ended yesterday */
} testpki_leaf_opts;

/* testpki_issue(ca, opts, cert_pem, key_pem): a leaf signed by ${ca};
 * *${cert_pem} and *${key_pem} receive malloc'd PEM strings. 0 or -1. */
int testpki_issue(const testpki_ca *ca, const testpki_leaf_opts *opts, char **cert_pem,
		  char **key_pem);

#endif
