/*
 * rsakx.h: RSA key transport (RFC 5246 §7.4.7.1), only used when a policy
 * names a TLS_RSA_* suite.
 */
#ifndef TLSHIM_CORE_RSAKX_H
#define TLSHIM_CORE_RSAKX_H

#include <stddef.h>
#include <stdint.h>

typedef struct evp_pkey_st EVP_PKEY;

/* tls_rsakx_encrypt(pub, pms, out, outlen): PKCS#1 v1.5-encrypt the 48-byte
 * pre_master_secret to the server key; ${out} has 1024 bytes of room.
 * 0 or -1. */
int tls_rsakx_encrypt(EVP_PKEY *pub, const uint8_t pms[48], uint8_t *out, size_t *outlen);

/* tls_rsakx_decrypt(priv, in, inlen, client_version, pms): the server side.
 * Implements the §7.4.7.1 countermeasure through OpenSSL's
 * RSA_PKCS1_WITH_TLS_PADDING (implicit rejection, constant time): whatever
 * ${in} holds, ${pms} receives 48 bytes, random when the padding or the
 * embedded version (${client_version} from the ClientHello) is wrong, so the
 * failure shows only as a Finished mismatch. Returns -1 only for a library
 * failure or a ciphertext whose length differs from the modulus. */
int tls_rsakx_decrypt(EVP_PKEY *priv, const uint8_t *in, size_t inlen, uint16_t client_version,
		      uint8_t pms[48]);

#endif
