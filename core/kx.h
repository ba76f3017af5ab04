/*
 * kx.h: ephemeral ECDH key exchange (RFC 8422 §5.4, RFC 7748) through
 * OpenSSL EVP_PKEY: x25519, secp256r1, secp384r1.
 */
#ifndef TLSHIM_CORE_KX_H
#define TLSHIM_CORE_KX_H

#include <stddef.h>
#include <stdint.h>

typedef struct evp_pkey_st EVP_PKEY;

/* Largest encoded public value: P-384 uncompressed point (1 + 2*48). */
#define TLS_KX_MAX_PUB 97
/* Largest shared secret: the P-384 x coordinate. */
#define TLS_KX_MAX_SECRET 48

typedef struct tls_kx {
	uint16_t group;
	EVP_PKEY *priv;
} tls_kx;

/* tls_kx_generate(kx, group, pub, publen): make a fresh key pair for
 * ${group} (TLS_GROUP_*) and write its public value as it goes on the wire
 * (32 raw bytes for x25519, an uncompressed point for the NIST curves) to
 * ${pub} (TLS_KX_MAX_PUB bytes of room); *${publen} gets its length.
 * Returns 0, or -1 for an unknown group or a library failure. */
int tls_kx_generate(tls_kx *kx, uint16_t group, uint8_t *pub, size_t *publen);

/* tls_kx_derive(kx, peer, peerlen, secret, secretlen): the shared secret
 * with the peer's public value (TLS_KX_MAX_SECRET bytes of room). The peer
 * value is validated: wrong length, a point not on the curve, or an
 * all-zero x25519 result (RFC 7748 §6.1) return -1 (illegal_parameter).
 * The private key is freed either way (ephemeral means used once). */
int tls_kx_derive(tls_kx *kx, const uint8_t *peer, size_t peerlen, uint8_t *secret,
		  size_t *secretlen);

/* tls_kx_free(kx): free the private key if still held; no-op when zeroed. */
void tls_kx_free(tls_kx *kx);

#endif
