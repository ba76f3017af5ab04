/*
 * hs_client_key_exchange.c: ClientKeyExchange.
 *
 *   ECDHE (RFC 8422 §5.7):  opaque point<1..2^8-1>;
 *   RSA (RFC 5246 §7.4.7.1): opaque EncryptedPreMasterSecret<0..2^16-1>,
 *     PKCS#1 v1.5 of client_version (2) || random (46).
 *
 * Both sides leave the pre-master secret in hs->pms; the state machine
 * turns it into the master secret once this message is in the transcript.
 */
#include "handshake.h"

#include <openssl/evp.h>
#include <sodium.h>

#include "rsakx.h"

/* Room for an RSA ciphertext (up to 8192-bit keys), as rsakx.h promises. */
#define RSA_CT_MAX 1024

static int ecdhe_write(tls_conn *c, tls_wbuf *w)
{
	tls_hs *hs = c->hs;
	uint8_t pub[TLS_KX_MAX_PUB];
	size_t publen = 0, slen = 0;

	if (tls_kx_generate(&hs->kx, c->group, pub, &publen) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"could not generate an ECDHE key for group %u", c->group);
	if (tls_kx_derive(&hs->kx, hs->peer_share, hs->peer_share_len, hs->pms, &slen) < 0)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
				"server ECDHE share is invalid (%zu bytes, not a valid public "
				"value of group %u)",
				hs->peer_share_len, c->group);
	hs->pms_len = slen;

	size_t mark = tls_wbuf_open(w, 1);
	tls_wbuf_bytes(w, pub, publen);
	tls_wbuf_close(w, mark, 1);
	return 0;
}

static int rsa_write(tls_conn *c, tls_wbuf *w)
{
	tls_hs *hs = c->hs;
	uint8_t ct[RSA_CT_MAX];
	size_t ctlen = 0;

	/* §7.4.7.1: the version is the one we offered in ClientHello (always
	 * TLS 1.2 for us), which lets the server detect a version rollback. */
	hs->pms[0] = TLS_VERSION_1_2 >> 8;
	hs->pms[1] = TLS_VERSION_1_2 & 0xff;
	randombytes_buf(hs->pms + 2, TLS_PREMASTER_RSA_LEN - 2);
	hs->pms_len = TLS_PREMASTER_RSA_LEN;
	if (hs->peer_key == NULL || tls_rsakx_encrypt(hs->peer_key, hs->pms, ct, &ctlen) < 0) {
		sodium_memzero(hs->pms, sizeof hs->pms);
		hs->pms_len = 0;
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"could not encrypt the pre-master secret to the server's RSA key");
	}

	size_t mark = tls_wbuf_open(w, 2);
	tls_wbuf_bytes(w, ct, ctlen);
	tls_wbuf_close(w, mark, 2);
	return 0;
}

int tls_hs_client_key_exchange_write(tls_conn *c, tls_wbuf *w)
{
	TRY(c->suite->kx == TLS_KX_RSA ? rsa_write(c, w) : ecdhe_write(c, w));
	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"ClientKeyExchange does not fit in the handshake buffer");
	return 0;
}

static int ecdhe_read(tls_conn *c, tls_cur *body)
{
	tls_hs *hs = c->hs;
	size_t slen = 0;

	tls_cur point = tls_cur_block(body, 1);
	size_t plen = tls_cur_remaining(&point);
	const uint8_t *pt = tls_cur_bytes(&point, plen);
	ENSURE(tls_cur_done(body) && pt != NULL && plen > 0, c, TLS_ALERT_DECODE_ERROR,
	       "malformed ClientKeyExchange (ECDHE) message from the client");
	if (tls_kx_derive(&hs->kx, pt, plen, hs->pms, &slen) < 0)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
				"client ECDHE share is invalid (%zu bytes, not a valid public "
				"value of group %u)",
				plen, c->group);
	hs->pms_len = slen;
	return 0;
}

static int rsa_read(tls_conn *c, tls_cur *body)
{
	tls_hs *hs = c->hs;
	EVP_PKEY *key = c->cfg->key.pkey;

	tls_cur ctc = tls_cur_block(body, 2);
	size_t ctlen = tls_cur_remaining(&ctc);
	const uint8_t *ct = tls_cur_bytes(&ctc, ctlen);
	ENSURE(tls_cur_done(body) && ct != NULL, c, TLS_ALERT_DECODE_ERROR,
	       "malformed ClientKeyExchange (RSA) message from the client");
	int modlen = key != NULL ? EVP_PKEY_get_size(key) : 0;
	ENSURE(modlen > 0 && ctlen == (size_t)modlen, c, TLS_ALERT_DECODE_ERROR,
	       "client's encrypted pre-master secret is %zu bytes, but our RSA key's modulus "
	       "is %d bytes",
	       ctlen, modlen);
	/* A bad padding or version is not reported here: rsakx yields a
	 * random pre-master secret and the failure surfaces as a Finished
	 * mismatch (§7.4.7.1, Bleichenbacher countermeasure). -1 is left for
	 * a ciphertext libcrypto refuses outright (e.g. not below the
	 * modulus), which reveals nothing secret. */
	if (tls_rsakx_decrypt(key, ct, ctlen, hs->client_version, hs->pms) < 0) {
		sodium_memzero(hs->pms, sizeof hs->pms);
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				"client's encrypted pre-master secret could not be decrypted "
				"with our RSA key");
	}
	hs->pms_len = TLS_PREMASTER_RSA_LEN;
	return 0;
}

int tls_hs_client_key_exchange_read(tls_conn *c, tls_cur *body)
{
	return c->suite->kx == TLS_KX_RSA ? rsa_read(c, body) : ecdhe_read(c, body);
}
