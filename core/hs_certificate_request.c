/*
 * hs_certificate_request.c: CertificateRequest (RFC 5246 §7.4.4).
 *
 *   struct { ClientCertificateType certificate_types<1..2^8-1>;
 *            SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
 *            DistinguishedName certificate_authorities<0..2^16-1>;
 *   } CertificateRequest;
 *   opaque DistinguishedName<1..2^16-1>;
 */
#include "handshake.h"

int tls_hs_certificate_request_write(tls_conn *c, tls_wbuf *w)
{
	size_t n;
	const uint16_t *all = tls_sigschemes_all(&n);

	size_t mark = tls_wbuf_open(w, 1);
	tls_wbuf_u8(w, TLS_CERTTYPE_RSA_SIGN);
	tls_wbuf_u8(w, TLS_CERTTYPE_ECDSA_SIGN); /* also Ed25519, RFC 8422 §5.5 */
	tls_wbuf_close(w, mark, 1);

	mark = tls_wbuf_open(w, 2);
	for (size_t i = 0; i < n; i++)
		tls_wbuf_u16(w, all[i]);
	tls_wbuf_close(w, mark, 2);

	/* No certificate_authorities: a client of ours has one configured
	 * certificate and sends it whatever we list, and listing every CA of
	 * a large store would bloat the message. §7.4.4 allows an empty list
	 * ("the client MAY send any certificate"). */
	mark = tls_wbuf_open(w, 2);
	tls_wbuf_close(w, mark, 2);

	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"CertificateRequest does not fit in the handshake buffer");
	return 0;
}

int tls_hs_certificate_request_read(tls_conn *c, tls_cur *body)
{
	tls_hs *hs = c->hs;
	bool ok = true;

	tls_cur types = tls_cur_block(body, 1);
	ok = ok && tls_cur_remaining(&types) > 0;
	uint8_t req = 0;
	while (tls_cur_remaining(&types) > 0) {
		uint8_t t = tls_cur_u8(&types);
		/* Types we cannot serve (rsa_fixed_dh, ...) are ignored. */
		if (t == TLS_CERTTYPE_RSA_SIGN)
			req |= 1u;
		else if (t == TLS_CERTTYPE_ECDSA_SIGN)
			req |= 2u;
	}

	tls_cur algs = tls_cur_block(body, 2);
	size_t nalgs = 0;
	while (tls_cur_remaining(&algs) > 0) {
		uint16_t a = tls_cur_u16(&algs);
		/* Beyond our bound the list only holds schemes we would rank
		 * lower anyway; keep the first ones. */
		if (!algs.bad && nalgs < TLS_MAX_PEER_SIGALGS)
			hs->peer_sigalgs[nalgs++] = a;
	}
	ok = ok && tls_cur_done(&algs);

	/* We do not pick a certificate by issuer (we have one), but the list
	 * must still be well-formed. */
	tls_cur cas = tls_cur_block(body, 2);
	while (tls_cur_remaining(&cas) > 0) {
		tls_cur dn = tls_cur_block(&cas, 2);
		ok = ok && tls_cur_remaining(&dn) > 0;
		(void)tls_cur_bytes(&dn, tls_cur_remaining(&dn));
	}
	ok = ok && tls_cur_done(&cas);

	ENSURE(ok && tls_cur_done(body), c, TLS_ALERT_DECODE_ERROR,
	       "malformed CertificateRequest message from the server");

	hs->n_peer_sigalgs = nalgs;
	hs->req_cert_types = req;
	hs->cert_requested = true;
	return 0;
}
