/*
 * test_sigalgs.c: every signature scheme the engine implements, for the
 * ServerKeyExchange and the CertificateVerify, when the peer offers that
 * scheme ALONE (RFC 5246 §7.4.1.4.1: any offered hash may go with the key;
 * RFC 8422 §5.1.1). A client offering only ecdsa_secp521r1_sha512 (0x0603)
 * got handshake_failure from a P-256 server before SHA-512 was in the table.
 *
 * The peer's list is cut down in flight: the filter rewrites every entry of
 * the ClientHello's signature_algorithms (or the CertificateRequest's
 * supported_signature_algorithms) to the one scheme, keeping the length,
 * and makes the same edit in the sender's transcript so that the Finished
 * messages still agree. Schemes below SHA-256 (SHA-1, SHA-224, MD5) are
 * refused with handshake_failure.
 */
#include <string.h>

#include "check.h"
#include "internal.h"
#include "sig.h"
#include "suites.h"
#include "testpair.h"

static char err[256];

struct edit {
	tls_conn *cli, *srv;
	uint16_t ske_scheme; /* rewrite the ClientHello's list to this (0: leave) */
	uint16_t cv_scheme;  /* rewrite the CertificateRequest's list to this (0: leave) */
};

static size_t get16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

static void fill(uint8_t *list, size_t len, uint16_t scheme)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		list[i] = (uint8_t)(scheme >> 8);
		list[i + 1] = (uint8_t)scheme;
	}
}

/* ClientHello body: version, random, session id, suites, compression,
 * extensions; the signature_algorithms list gets ${scheme}. */
static void edit_client_hello(uint8_t *b, size_t n, uint16_t scheme)
{
	size_t o = 2 + 32;
	o += 1 + b[o];
	o += 2 + get16(b + o);
	o += 1 + b[o];
	size_t end = o + 2 + get16(b + o);
	for (o += 2; o + 4 <= end && end <= n; o += 4 + get16(b + o + 2))
		if (get16(b + o) == TLS_EXT_SIGNATURE_ALGORITHMS)
			fill(b + o + 6, get16(b + o + 4), scheme);
}

/* CertificateRequest body: certificate_types<1..>, then the list. */
static void edit_cert_request(uint8_t *b, size_t n, uint16_t scheme)
{
	size_t o = 1 + b[0];
	if (o + 2 <= n)
		fill(b + o + 2, get16(b + o), scheme);
}

/* Walk the handshake messages in ${p}; edit the ones ${e} names. */
static void edit_messages(uint8_t *p, size_t n, uint16_t ske, uint16_t cv)
{
	for (size_t o = 0; o + 4 <= n;) {
		size_t len = (size_t)p[o + 1] << 16 | get16(p + o + 2);
		if (o + 4 + len > n)
			break;
		if (p[o] == TLS_HT_CLIENT_HELLO && ske)
			edit_client_hello(p + o + 4, len, ske);
		if (p[o] == TLS_HT_CERTIFICATE_REQUEST && cv)
			edit_cert_request(p + o + 4, len, cv);
		o += 4 + len;
	}
}

/* testpair filter: edit the plaintext handshake records in flight and the
 * sender's transcript the same way. */
static size_t filter(void *arg, bool to_server, uint8_t *buf, size_t len)
{
	struct edit *e = arg;
	tls_conn *from = to_server ? e->cli : e->srv;
	uint16_t ske = to_server ? e->ske_scheme : 0, cv = to_server ? 0 : e->cv_scheme;

	if ((!ske && !cv) || from->wr_on || from->hs == NULL)
		return len;
	for (size_t o = 0; o + 5 <= len;) {
		size_t rlen = get16(buf + o + 3);
		if (o + 5 + rlen > len)
			break;
		if (buf[o] == TLS_CT_HANDSHAKE)
			edit_messages(buf + o + 5, rlen, ske, cv);
		o += 5 + rlen;
	}
	edit_messages(from->hs->transcript, from->hs->tlen, ske, cv);
	return len;
}

/* A handshake in which the client offers only ${ske} (0: all) and the
 * server asks only for ${cv} (0: all). Returns the client's error class;
 * ${srv_err} gets the server's; the schemes used land in ${got_ske} and
 * ${got_cv}. */
static int run(tls_config *ccfg, tls_config *scfg, uint16_t ske, uint16_t cv, int *srv_err,
	       uint8_t *srv_alert, uint16_t *got_ske, uint16_t *got_cv)
{
	struct edit e = {.ske_scheme = ske, .cv_scheme = cv};
	e.cli = tls_conn_new(ccfg, "server.test", NULL);
	e.srv = tls_conn_new(scfg, NULL, NULL);
	testpair_pump(e.cli, e.srv, filter, &e);
	int ce = tls_conn_error(e.cli, NULL, NULL, NULL);
	*srv_err = tls_conn_error(e.srv, srv_alert, NULL, NULL);
	tls_info ci, si;
	*got_ske = *got_cv = 0;
	if (ce == TLS_ERR_NONE && *srv_err == TLS_ERR_NONE) {
		CHECK(tls_conn_info(e.cli, &ci) == 0 && tls_conn_info(e.srv, &si) == 0);
		*got_ske = ci.sigscheme;
		*got_cv = si.sigscheme;
		CHECK(testpair_transfer(e.cli, e.srv, e.cli, e.srv, 3000));
	}
	tls_conn_free(e.cli);
	tls_conn_free(e.srv);
	return ce;
}

static const int key_types[] = {TLS_KEY_RSA, TLS_KEY_EC_P256, TLS_KEY_EC_P384, TLS_KEY_ED25519};

/* Every implemented scheme, alone, with every key it fits: the server signs
 * ServerKeyExchange with it and the client verifies it. */
static void server_key_exchange(void)
{
	tls_config *ccfg = testpair_client_config();
	size_t n, tried = 0;
	const uint16_t *all = tls_sigschemes_all(&n);
	int se;
	uint8_t sa;
	uint16_t ske, cv;

	for (size_t k = 0; k < sizeof key_types / sizeof key_types[0]; k++) {
		tls_config *scfg = testpair_server_config(key_types[k]);
		/* ECDHE only: RSA key transport signs nothing. */
		CHECK(tls_config_set_ciphers(scfg,
					     key_types[k] == TLS_KEY_RSA
						     ? "ECDHE-RSA-AES128-GCM-SHA256"
						     : "ECDHE-ECDSA-AES128-GCM-SHA256",
					     err, sizeof err) == 0);
		for (size_t i = 0; i < n; i++) {
			const tls_sigscheme *s = tls_sigscheme_by_id(all[i]);
			if (!tls_sig_usable(all[i], key_types[k]))
				continue;
			tried++;
			int ce = run(ccfg, scfg, all[i], 0, &se, &sa, &ske, &cv);
			if (ce != TLS_ERR_NONE || ske != all[i])
				fprintf(stderr,
					"  SKE with %s and key type %d: client %d server %d\n",
					s->name, key_types[k], ce, se);
			CHECK_EQ(ce, TLS_ERR_NONE);
			CHECK_EQ(se, TLS_ERR_NONE);
			CHECK_EQ(ske, all[i]);
		}
		tls_config_unref(scfg);
	}
	/* RSA: PSS and PKCS#1 x SHA-256/384/512; EC P-256 and P-384: ECDSA
	 * with SHA-256/384/512 each; Ed25519. */
	CHECK_EQ(tried, 6 + 3 + 3 + 1);

	/* The case of the report: P-256 server, client offers only 0x0603. */
	tls_config *p256 = testpair_server_config(TLS_KEY_EC_P256);
	CHECK_EQ(run(ccfg, p256, 0x0603 /* ecdsa_secp521r1_sha512 */, 0, &se, &sa, &ske, &cv),
		 TLS_ERR_NONE);
	CHECK_EQ(ske, 0x0603);

	/* Below SHA-256: nothing in common, handshake_failure. */
	static const uint16_t weak[] = {0x0203 /* ecdsa_sha1 */, 0x0303 /* ecdsa_sha224 */,
					0x0201 /* rsa_pkcs1_sha1 */, 0x0101 /* rsa_pkcs1_md5 */};
	for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
		CHECK(run(ccfg, p256, weak[i], 0, &se, &sa, &ske, &cv) != TLS_ERR_NONE);
		CHECK_EQ(se, TLS_ERR_NEGOTIATION);
		CHECK_EQ(sa, TLS_ALERT_HANDSHAKE_FAILURE);
	}
	tls_config_unref(p256);
	tls_config_unref(ccfg);
}

/* Mutual TLS: the server asks for one scheme only; the client signs its
 * CertificateVerify with it and the server verifies. */
static void certificate_verify(void)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	size_t n, tried = 0;
	const uint16_t *all = tls_sigschemes_all(&n);
	int se;
	uint8_t sa;
	uint16_t ske, cv;

	CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0);
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	for (size_t k = 0; k < sizeof key_types / sizeof key_types[0]; k++) {
		int kt = key_types[k];
		tls_config *ccfg = testpair_client_config();
		CHECK(tls_config_set_chain_pem(ccfg, pki->cli_cert[kt], strlen(pki->cli_cert[kt]),
					       err, sizeof err) == 0);
		CHECK(tls_config_set_key_pem(ccfg, pki->cli_key[kt], strlen(pki->cli_key[kt]), err,
					     sizeof err) == 0);
		for (size_t i = 0; i < n; i++) {
			if (!tls_sig_usable(all[i], kt))
				continue;
			tried++;
			int ce = run(ccfg, scfg, 0, all[i], &se, &sa, &ske, &cv);
			CHECK_EQ(ce, TLS_ERR_NONE);
			CHECK_EQ(se, TLS_ERR_NONE);
			CHECK_EQ(cv, all[i]);
		}
		/* A CertificateRequest listing only SHA-1: no scheme for our
		 * key, so no certificate; the server requires one. */
		CHECK(run(ccfg, scfg, 0, 0x0201, &se, &sa, &ske, &cv) != TLS_ERR_NONE);
		CHECK_EQ(se, TLS_ERR_AUTH);
		tls_config_unref(ccfg);
	}
	CHECK_EQ(tried, 6 + 3 + 3 + 1);
	tls_config_unref(scfg);
}

int main(void)
{
	server_key_exchange();
	certificate_verify();
	return check_exit("engine/sigalgs");
}
