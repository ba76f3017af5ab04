/*
 * hs_certificate.c: Certificate (RFC 5246 §7.4.2 server, §7.4.6 client).
 *
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 */
#include "handshake.h"

#include <limits.h>

#include <openssl/x509.h>

#include "sig.h"

/* Longest chain we accept. Real chains are 2-4 certificates; the bound keeps
 * a hostile peer from making us parse thousands of X509 objects. A longer
 * (well-formed) list is not a decoding problem but a chain we refuse, so it
 * is bad_certificate / TLS_ERR_AUTH. */
#define MAX_PEER_CHAIN 10

static int write_chain(tls_conn *c, tls_wbuf *w, const tls_chain *ch)
{
	size_t list = tls_wbuf_open(w, 3);
	for (size_t i = 0; ch != NULL && i < ch->n; i++) {
		size_t one = tls_wbuf_open(w, 3);
		tls_wbuf_bytes(w, ch->der[i], ch->der_len[i]);
		tls_wbuf_close(w, one, 3);
	}
	tls_wbuf_close(w, list, 3);
	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"our certificate chain does not fit in a handshake message");
	return 0;
}

/* RFC 5246 §7.4.6: a client certificate must match one of the requested
 * ClientCertificateTypes; RFC 8422 §5.5 puts Ed25519 under ecdsa_sign. */
static bool type_requested(int key_type, uint8_t req)
{
	if (key_type == TLS_KEY_RSA)
		return (req & 1u) != 0;
	if (key_type == TLS_KEY_EC_P256 || key_type == TLS_KEY_EC_P384 ||
	    key_type == TLS_KEY_ED25519)
		return (req & 2u) != 0;
	return false;
}

int tls_hs_certificate_write(tls_conn *c, tls_wbuf *w)
{
	tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;

	if (c->role == TLS_ROLE_SERVER) {
		if (!cfg->has_chain)
			return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
					"server has no certificate configured");
		return write_chain(c, w, &cfg->chain);
	}

	/* Client, answering a CertificateRequest. Without a usable
	 * certificate we send an empty list (RFC 5246 §7.4.6) and let the
	 * server decide whether that is acceptable. */
	hs->client_cert = false;
	if (cfg->has_chain && cfg->has_key && type_requested(cfg->key.type, hs->req_cert_types)) {
		hs->sigscheme = tls_sig_choose(cfg->key.type, hs->peer_sigalgs, hs->n_peer_sigalgs);
		hs->client_cert = hs->sigscheme != 0;
	}
	return write_chain(c, w, hs->client_cert ? &cfg->chain : NULL);
}

/* parse_chain(c, body, out): the certificate_list as X509 objects, leaf
 * first. 0 or -1 (after tls_fail; nothing left allocated). */
static int parse_chain(tls_conn *c, tls_cur *body, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	if (chain == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR, "out of memory");

	bool malformed = false;
	tls_cur list = tls_cur_block(body, 3);
	while (!list.bad && tls_cur_remaining(&list) > 0) {
		tls_cur one = tls_cur_block(&list, 3);
		size_t len = tls_cur_remaining(&one);
		const uint8_t *der = tls_cur_bytes(&one, len);
		if (list.bad || der == NULL || len == 0) {
			malformed = true; /* ASN.1Cert<1..2^24-1> */
			break;
		}
		if (sk_X509_num(chain) == MAX_PEER_CHAIN) {
			sk_X509_pop_free(chain, X509_free);
			return tls_fail(c, TLS_ERR_AUTH, TLS_ALERT_BAD_CERTIFICATE,
					"peer sent more than %d certificates in its chain",
					MAX_PEER_CHAIN);
		}
		/* d2i_X509 advances p; it must land exactly on the end of the
		 * entry, else the entry holds something besides one cert. */
		const unsigned char *p = der;
		X509 *x = len <= LONG_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
		if (x == NULL || p != der + len) {
			X509_free(x);
			int idx = sk_X509_num(chain) + 1;
			sk_X509_pop_free(chain, X509_free);
			return tls_fail(
				c, TLS_ERR_AUTH, TLS_ALERT_BAD_CERTIFICATE,
				"certificate %d of the peer's chain is not a valid DER X.509 "
				"certificate",
				idx);
		}
		if (sk_X509_push(chain, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(chain, X509_free);
			return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
					"out of memory");
		}
	}
	if (malformed || list.bad || !tls_cur_done(body)) {
		sk_X509_pop_free(chain, X509_free);
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				"malformed Certificate message from the %s",
				c->role == TLS_ROLE_CLIENT ? "server" : "client");
	}
	*out = chain;
	return 0;
}

int tls_hs_certificate_read(tls_conn *c, tls_cur *body)
{
	tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;
	STACK_OF(X509) *chain = NULL;
	bool client = c->role == TLS_ROLE_CLIENT;

	TRY(parse_chain(c, body, &chain));

	if (sk_X509_num(chain) == 0) {
		sk_X509_free(chain);
		/* RFC 5246 §7.4.2: the server MUST send a certificate in every
		 * suite we offer, so an empty list cannot be a valid message. */
		if (client)
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
					"server sent an empty certificate list");
		/* §7.4.6: the client may send none; whether that is fatal is
		 * the server's policy. */
		if (cfg->verify == TLS_VERIFY_REQUIRE)
			return tls_fail_r(c, TLS_ERR_AUTH, TLS_ALERT_HANDSHAKE_FAILURE,
					  TLS_R_CLIENT_CERT_REQUIRED,
					  "client did not send a certificate, and verify_peer = "
					  "require");
		hs->client_cert = false;
		return 0;
	}

	/* The leaf key must be one we can verify signatures of (a weak key is
	 * an identity we refuse: TLS_ERR_AUTH) and, for a server, the kind the
	 * negotiated suite authenticates with (a wrong kind means the server
	 * broke the suite's rules: TLS_ERR_PROTOCOL). */
	int kt = tls_key_type_of(X509_get0_pubkey(sk_X509_value(chain, 0)));
	if (kt == TLS_KEY_NONE) {
		sk_X509_pop_free(chain, X509_free);
		return tls_fail_r(c, TLS_ERR_AUTH, TLS_ALERT_UNSUPPORTED_CERTIFICATE,
				  TLS_R_CERT_KEY_UNACCEPTABLE,
				  "%s certificate key is not one we accept (we take RSA of at "
				  "least 2048 bits, ECDSA P-256/P-384 and Ed25519)",
				  client ? "server" : "client");
	}
	/* RFC 8422 §5.5 / RFC 5246 §7.4.2: ECDHE_ECDSA suites need an ECDSA or
	 * Ed25519 key, ECDHE_RSA and RSA key transport an RSA key. */
	if (client && !tls_suite_serves_key(c->suite, kt)) {
		sk_X509_pop_free(chain, X509_free);
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_CERTIFICATE,
				"server certificate has an %s key, but the chosen suite %s "
				"needs %s",
				tls_key_type_name(kt), c->suite->name,
				c->suite->auth == TLS_AUTH_RSA ? "an RSA key"
							       : "an ECDSA or Ed25519 key");
	}

	if (!client)
		hs->client_cert = true;
	return tls_hs_peer_certificate(c, chain);
}
