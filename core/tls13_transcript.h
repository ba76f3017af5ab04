/*
 * tls13_transcript.h: the running transcript hash of TLS 1.3 (RFC 8446
 * §4.4.1). The 1.2 engine keeps every handshake byte and hashes the lot at
 * each use (its CertificateVerify signs the messages themselves); TLS 1.3
 * needs the hash at half a dozen points of one handshake, so this keeps one
 * digest context that is fed each message once and snapshotted.
 *
 * Messages are fed whole, handshake header included, record header
 * excluded (§4.4.1). Two contexts are created by init and reused: no
 * allocation per message or per snapshot.
 */
#ifndef TLSHIM_CORE_TLS13_TRANSCRIPT_H
#define TLSHIM_CORE_TLS13_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct evp_md_ctx_st EVP_MD_CTX;

typedef struct tls13_transcript {
	EVP_MD_CTX *ctx;  /* the running hash */
	EVP_MD_CTX *snap; /* scratch copy finalised by tls13_transcript_hash */
	uint8_t hash;     /* enum tls_hash_kind */
} tls13_transcript;

/* tls13_transcript_init(t, hash): start an empty transcript with the suite
 * hash ${hash} (SHA-256 or SHA-384). ${t} must be zeroed or freed first.
 * Returns 0 or -1 (then ${t} is freed). */
int tls13_transcript_init(tls13_transcript *t, int hash);

/* tls13_transcript_free(t): release both contexts; no-op on a zeroed ${t}. */
void tls13_transcript_free(tls13_transcript *t);

/* tls13_transcript_update(t, msg, len): append ${len} bytes of handshake
 * messages. Returns 0 or -1. */
int tls13_transcript_update(tls13_transcript *t, const uint8_t *msg, size_t len);

/* tls13_transcript_hash(t, out): Transcript-Hash of everything appended so
 * far into ${out} (TLS_MAX_HASH_LEN bytes of room) without ending the
 * transcript. Returns Hash.length, or 0 on failure. */
size_t tls13_transcript_hash(tls13_transcript *t, uint8_t *out);

/* tls13_transcript_hrr(t): RFC 8446 §4.4.1 after a HelloRetryRequest: the
 * transcript so far (which must be exactly ClientHello1) is replaced by
 * the synthetic message_hash message, handshake type 254, 00 00
 * Hash.length, Hash(ClientHello1); the HelloRetryRequest itself is
 * appended by the caller next. Returns 0 or -1. */
int tls13_transcript_hrr(tls13_transcript *t);

#endif
