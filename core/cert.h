/*
 * cert.h: certificates and private keys through libcrypto: loading PEM,
 * classifying keys, verifying a peer's chain (trust store, DNS name or IP
 * SAN, SPKI SHA-256 pins).
 */
#ifndef TLSHIM_CORE_CERT_H
#define TLSHIM_CORE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "tls.h"

/* A private key; Ed25519 keys also carry the libsodium secret key
 * (seed || public, 64 bytes in sodium_malloc memory) because libsodium
 * signs three times faster than OpenSSL here. */
typedef struct tls_privkey {
	EVP_PKEY *pkey;
	int type;            /* enum tls_key_type */
	uint8_t *ed25519_sk; /* NULL unless type == TLS_KEY_ED25519 */
} tls_privkey;

/* Our own chain as sent in Certificate, leaf first. */
typedef struct tls_chain {
	size_t n;
	uint8_t **der;
	size_t *der_len;
	X509 *leaf;
	int key_type; /* enum tls_key_type of the leaf's public key */
} tls_chain;

/* tls_key_type_of(pkey): enum tls_key_type of ${pkey}, or TLS_KEY_NONE for
 * keys we refuse (RSA below 2048 bits, other curves, DSA, ...). */
int tls_key_type_of(EVP_PKEY *pkey);

/* tls_chain_from_pem(ch, pem, len, err, errlen): parse one or more PEM
 * certificates, leaf first. Returns 0, or -1 with a sentence in ${err}
 * (no certificate, unsupported leaf key). */
int tls_chain_from_pem(tls_chain *ch, const char *pem, size_t len, char *err, size_t errlen);
void tls_chain_free(tls_chain *ch);

/* tls_privkey_from_pem(k, pem, len, err, errlen): parse a PEM private key
 * (PKCS#8, traditional RSA/EC). Returns 0 or -1 with ${err}. */
int tls_privkey_from_pem(tls_privkey *k, const char *pem, size_t len, char *err, size_t errlen);
/* tls_privkey_free(k): free and wipe; no-op on a zeroed k. */
void tls_privkey_free(tls_privkey *k);

/* tls_privkey_matches(k, ch): true when ${k} is the private half of the
 * leaf's public key. */
bool tls_privkey_matches(const tls_privkey *k, const tls_chain *ch);

/* tls_store_from_pem(pem, len, err, errlen): a trust store holding every
 * certificate in the PEM bundle, each a trust anchor (intermediates too:
 * X509_V_FLAG_PARTIAL_CHAIN), or NULL with ${err} when it holds none. */
X509_STORE *tls_store_from_pem(const char *pem, size_t len, char *err, size_t errlen);
/* tls_store_system(err, errlen): the operating system's default trust store
 * (OpenSSL's default paths, SSL_CERT_FILE / SSL_CERT_DIR honoured), where
 * only self-signed roots are anchors. */
X509_STORE *tls_store_system(char *err, size_t errlen);

/* tls_spki_sha256(cert, out): SHA-256 of the certificate's DER
 * SubjectPublicKeyInfo (the value curl's --pinnedpubkey sha256// compares). */
int tls_spki_sha256(X509 *cert, uint8_t out[32]);

/* tls_pins_parse(spec, pins, max, n, err, errlen): parse
 * "sha256//BASE64[,sha256//BASE64...]" (';' also separates, as in curl).
 * Returns 0 or -1 with ${err} naming the bad entry. */
int tls_pins_parse(const char *spec, uint8_t (*pins)[32], size_t max, size_t *n, char *err,
		   size_t errlen);

typedef struct tls_verify_params {
	X509_STORE *store; /* NULL: no chain check (pins only) */
	const uint8_t (*pins)[32];
	size_t npins;
	const char *name;    /* DNS name expected (client: server_name) or NULL */
	const char *ip;      /* textual IP expected when no name, or NULL */
	bool peer_is_server; /* purpose: sslserver or sslclient */
	uint64_t now;        /* seconds since the epoch, for validity */
} tls_verify_params;

/* tls_verify_peer(vp, chain, why, reason, reasonlen): verify ${chain} (leaf
 * first, as received). Checks, in order: chain to ${vp->store} (when set)
 * with validity at ${vp->now} and OpenSSL security level 2 for every
 * certificate (no SHA-1/MD5 signature, no RSA key below 2048 bits), then
 * the name/IP (when given), then the pins
 * (when any): with a store both must pass, without one the pin alone
 * authenticates. Returns 0, or the RFC 5246 §7.2 alert to send
 * (unknown_ca, certificate_expired, bad_certificate, certificate_unknown,
 * unsupported_certificate) with a sentence in ${reason} such as
 * "certificate verify failed: unable to get local issuer certificate" or
 * "certificate name mismatch: expected redis.internal", and the enum
 * tls_reason in *${why} (may be NULL; TLS_R_OTHER when none fits). */
int tls_verify_peer(const tls_verify_params *vp, STACK_OF(X509) * chain, enum tls_reason *why,
		    char *reason, size_t reasonlen);

/* tls_cert_subject(cert, out, outlen): one-line subject ("CN=...,O=...").*/
void tls_cert_subject(X509 *cert, char *out, size_t outlen);

#endif
