/*
 * prf.h: the TLS 1.2 PRF (RFC 5246 §5) and the key schedule built on it,
 * computed by OpenSSL's TLS1-PRF KDF and message digests.
 */
#ifndef TLSHIM_CORE_PRF_H
#define TLSHIM_CORE_PRF_H

#include <stddef.h>
#include <stdint.h>

#define TLS_MAX_HASH_LEN 48

/* tls_prf(hash, secret, slen, label, seed1, s1len, seed2, s2len, out, olen):
 * PRF(secret, label, seed1 || seed2) with P_SHA256 or P_SHA384 (${hash} is
 * enum tls_hash_kind), ${olen} bytes to ${out}. ${seed2} may be NULL.
 * Returns 0, or -1 on a library failure. */
int tls_prf(int hash, const uint8_t *secret, size_t slen, const char *label, const uint8_t *seed1,
	    size_t s1len, const uint8_t *seed2, size_t s2len, uint8_t *out, size_t olen);

typedef struct evp_md_st EVP_MD;

/* tls_hash_md(hash): the process-wide fetched SHA-256 or SHA-384 digest
 * for ${hash} (enum tls_hash_kind), NULL for any other value or when the
 * library has none. Never freed by the caller. */
const EVP_MD *tls_hash_md(int hash);

/* tls_hash(hash, data, len, out): SHA-256 or SHA-384 of ${data} into
 * ${out} (TLS_MAX_HASH_LEN bytes of room); returns the digest length or
 * 0 on failure. */
size_t tls_hash(int hash, const uint8_t *data, size_t len, uint8_t *out);

/* tls_master_secret_ems(hash, pms, pmslen, session_hash, shlen, ms):
 * RFC 7627 §4: master_secret = PRF(pms, "extended master secret",
 * session_hash)[0..47]. */
int tls_master_secret_ems(int hash, const uint8_t *pms, size_t pmslen, const uint8_t *session_hash,
			  size_t shlen, uint8_t ms[48]);

/* tls_key_block(hash, ms, client_random, server_random, out, olen):
 * RFC 5246 §6.3: PRF(ms, "key expansion", server_random || client_random). */
int tls_key_block(int hash, const uint8_t ms[48], const uint8_t client_random[32],
		  const uint8_t server_random[32], uint8_t *out, size_t olen);

/* tls_finished(hash, ms, from_client, transcript_hash, thlen, out):
 * RFC 5246 §7.4.9: verify_data = PRF(ms, "client finished" | "server
 * finished", Hash(handshake_messages))[0..11]. */
int tls_finished(int hash, const uint8_t ms[48], int from_client, const uint8_t *transcript_hash,
		 size_t thlen, uint8_t out[12]);

#endif
