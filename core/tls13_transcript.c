/*
 * tls13_transcript.c: a running EVP digest over the handshake messages,
 * snapshotted by copying the context (RFC 8446 §4.4.1).
 */
#include "tls13_transcript.h"

#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "prf.h"
#include "suites.h"

/* RFC 8446 §4: HandshakeType message_hash(254). */
#define HT_MESSAGE_HASH 254

int tls13_transcript_init(tls13_transcript *t, int hash)
{
	const EVP_MD *md =
		(hash == TLS_HASH_SHA256 || hash == TLS_HASH_SHA384) ? tls_hash_md(hash) : NULL;

	if (md == NULL)
		goto fail;
	if (t->ctx == NULL && (t->ctx = EVP_MD_CTX_new()) == NULL)
		goto fail;
	if (t->snap == NULL && (t->snap = EVP_MD_CTX_new()) == NULL)
		goto fail;
	if (EVP_DigestInit_ex(t->ctx, md, NULL) != 1)
		goto fail;
	t->hash = (uint8_t)hash;
	return 0;
fail:
	tls13_transcript_free(t);
	return -1;
}

void tls13_transcript_free(tls13_transcript *t)
{
	EVP_MD_CTX_free(t->ctx);
	EVP_MD_CTX_free(t->snap);
	memset(t, 0, sizeof(*t));
}

int tls13_transcript_update(tls13_transcript *t, const uint8_t *msg, size_t len)
{
	if (t->ctx == NULL)
		return -1;
	if (len == 0)
		return 0;
	return EVP_DigestUpdate(t->ctx, msg, len) == 1 ? 0 : -1;
}

size_t tls13_transcript_hash(tls13_transcript *t, uint8_t *out)
{
	unsigned int olen = 0;

	if (t->ctx == NULL || EVP_MD_CTX_copy_ex(t->snap, t->ctx) != 1 ||
	    EVP_DigestFinal_ex(t->snap, out, &olen) != 1)
		return 0;
	return olen;
}

int tls13_transcript_hrr(tls13_transcript *t)
{
	uint8_t msg[4 + TLS_MAX_HASH_LEN];
	size_t hlen;
	int ret = -1;

	if ((hlen = tls13_transcript_hash(t, msg + 4)) == 0)
		goto out;
	msg[0] = HT_MESSAGE_HASH;
	msg[1] = 0;
	msg[2] = 0;
	msg[3] = (uint8_t)hlen;
	/* Restart the same context (no allocation) and feed message_hash. */
	if (EVP_DigestInit_ex(t->ctx, tls_hash_md(t->hash), NULL) != 1 ||
	    EVP_DigestUpdate(t->ctx, msg, 4 + hlen) != 1)
		goto out;
	ret = 0;
out:
	sodium_memzero(msg, sizeof(msg));
	return ret;
}
