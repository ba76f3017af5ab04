/*
 * hs_certificate_verify.c: CertificateVerify (RFC 5246 §7.4.8).
 *
 *   struct { digitally-signed struct { opaque handshake_messages[]; } }
 *
 * i.e. u16 SignatureScheme || opaque signature<0..2^16-1>, over every
 * handshake message up to (not including) this one. The transcript is kept
 * whole so Ed25519 can sign it unhashed (RFC 8422 §5.10); sig.c hashes it
 * for the other schemes.
 */
#include "handshake.h"

#include "sig.h"

static const char *scheme_name(uint16_t id)
{
	const tls_sigscheme *s = tls_sigscheme_by_id(id);
	return s != NULL ? s->name : "unknown";
}

int tls_hs_certificate_verify_write(tls_conn *c, tls_wbuf *w)
{
	tls_hs *hs = c->hs;
	uint8_t sig[TLS_MAX_SIG_LEN];
	size_t siglen = 0;

	if (hs->sigscheme == 0 ||
	    tls_sig_sign(&c->cfg->key, hs->sigscheme, hs->transcript, hs->tlen, sig, &siglen) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"could not sign CertificateVerify with %s",
				scheme_name(hs->sigscheme));
	tls_wbuf_u16(w, hs->sigscheme);
	size_t mark = tls_wbuf_open(w, 2);
	tls_wbuf_bytes(w, sig, siglen);
	tls_wbuf_close(w, mark, 2);
	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"CertificateVerify does not fit in the handshake buffer");
	return 0;
}

int tls_hs_certificate_verify_read(tls_conn *c, tls_cur *body)
{
	tls_hs *hs = c->hs;

	uint16_t scheme = tls_cur_u16(body);
	tls_cur sigc = tls_cur_block(body, 2);
	size_t siglen = tls_cur_remaining(&sigc);
	const uint8_t *sig = tls_cur_bytes(&sigc, siglen);
	ENSURE(tls_cur_done(body) && sig != NULL, c, TLS_ALERT_DECODE_ERROR,
	       "malformed CertificateVerify message from the client");

	if (hs->peer_key == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"CertificateVerify without a client certificate key");
	int kt = tls_key_type_of(hs->peer_key);
	/* We listed every scheme we implement in CertificateRequest. */
	ENSURE(tls_sigscheme_by_id(scheme) && tls_sig_usable(scheme, kt), c,
	       TLS_ALERT_ILLEGAL_PARAMETER,
	       "client signed CertificateVerify with signature scheme 0x%04x (%s), which we "
	       "did not offer or which does not fit its certificate key",
	       scheme, scheme_name(scheme));
	if (tls_sig_verify(hs->peer_key, scheme, hs->transcript, hs->tlen, sig, siglen) < 0)
		return tls_fail_r(c, TLS_ERR_AUTH, TLS_ALERT_DECRYPT_ERROR, TLS_R_BAD_SIGNATURE,
				  "client certificate verify signature does not verify");
	c->peer_sigscheme = scheme;
	return 0;
}
