/*
 * sig.h: handshake signatures (ServerKeyExchange RFC 8422 §5.4 / RFC 5246
 * §7.4.3, CertificateVerify RFC 5246 §7.4.8) with the SignatureScheme values
 * of suites.h. ECDSA and RSA through OpenSSL EVP_DigestSign/Verify; Ed25519
 * through libsodium (RFC 8422 §5.10: PureEdDSA over the whole message).
 * Never SHA-1 or MD5.
 */
#ifndef TLSHIM_CORE_SIG_H
#define TLSHIM_CORE_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"

/* Room for any signature we make or accept (RSA up to 8192 bits). */
#define TLS_MAX_SIG_LEN 1024

/* tls_sig_usable(scheme, key_type): true when ${scheme} signs with a key of
 * ${key_type} (enum tls_key_type). ECDSA schemes accept either curve, as
 * TLS 1.2 does not bind the curve to the hash. */
bool tls_sig_usable(uint16_t scheme, int key_type);

/* tls_sig_choose(key_type, peer, npeer): the scheme we sign with: the first
 * in our preference (tls_sigschemes_all) that the peer listed and our key
 * can make; 0 when none. For EC keys the hash matching the curve is
 * preferred. */
uint16_t tls_sig_choose(int key_type, const uint16_t *peer, size_t npeer);

/* tls_sig_sign(key, scheme, msg, len, sig, siglen): sign ${msg}; ${sig} has
 * TLS_MAX_SIG_LEN bytes of room; *${siglen} gets the length. 0 or -1. */
int tls_sig_sign(const tls_privkey *key, uint16_t scheme, const uint8_t *msg, size_t len,
		 uint8_t *sig, size_t *siglen);

/* tls_sig_verify(pub, scheme, msg, len, sig, siglen): 0 when ${sig} is a
 * valid ${scheme} signature of ${msg} by ${pub}; -1 otherwise (including
 * a scheme that does not fit the key). */
int tls_sig_verify(EVP_PKEY *pub, uint16_t scheme, const uint8_t *msg, size_t len,
		   const uint8_t *sig, size_t siglen);

#endif
