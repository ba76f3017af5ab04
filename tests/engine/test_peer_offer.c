/*
 * test_peer_offer.c: peers whose hello offers less than ours.
 *
 * 1. Every signature scheme the engine implements, for the
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
 *
 * 2. Legacy peers: a ClientHello without extended_master_secret (RFC 7627)
 * or renegotiation_info (RFC 5746), made by renaming the extension's type
 * to an unknown one (same length, same edit in the transcript). Refused by
 * default on both sides (a client refuses a server that then answers
 * without them); with legacy_peers the handshake completes on the RFC 5246
 * §8.1 master secret, tls_info says what was missing, and the session is
 * never resumed nor ticketed (RFC 7627 §5.3/§5.4).
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
	uint16_t ske_scheme;   /* rewrite the ClientHello's list to this (0: leave) */
	uint16_t cv_scheme;    /* rewrite the CertificateRequest's list to this (0: leave) */
	bool no_ems, no_reneg; /* rename these ClientHello extensions away */
	int tickets;           /* NewSessionTicket messages seen (in the clear, before CCS) */
};

/* Unassigned extension types (the server ignores them). */
#define RENAMED_EMS   0xff17
#define RENAMED_RENEG 0xfe01

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

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ClientHello body: version, random, session id, suites, compression,
 * extensions; the signature_algorithms list gets ${e}'s scheme, EMS and
 * renegotiation_info are renamed when ${e} says so. */
static void edit_client_hello(uint8_t *b, size_t n, const struct edit *e)
{
	size_t o = 2 + 32;
	o += 1 + b[o];
	o += 2 + get16(b + o);
	o += 1 + b[o];
	size_t end = o + 2 + get16(b + o);
	for (o += 2; o + 4 <= end && end <= n; o += 4 + get16(b + o + 2)) {
		size_t type = get16(b + o);
		if (type == TLS_EXT_SIGNATURE_ALGORITHMS && e->ske_scheme)
			fill(b + o + 6, get16(b + o + 4), e->ske_scheme);
		if (type == TLS_EXT_EXTENDED_MASTER_SECRET && e->no_ems)
			put16(b + o, RENAMED_EMS);
		if (type == TLS_EXT_RENEGOTIATION_INFO && e->no_reneg)
			put16(b + o, RENAMED_RENEG);
	}
}

/* CertificateRequest body: certificate_types<1..>, then the list. */
static void edit_cert_request(uint8_t *b, size_t n, uint16_t scheme)
{
	size_t o = 1 + b[0];
	if (o + 2 <= n)
		fill(b + o + 2, get16(b + o), scheme);
}

/* Walk the handshake messages in ${p}; edit the ones ${e} names (the
 * ClientHello when ${hello}, else the CertificateRequest). */
static void edit_messages(uint8_t *p, size_t n, struct edit *e, bool hello, bool wire)
{
	for (size_t o = 0; o + 4 <= n;) {
		size_t len = (size_t)p[o + 1] << 16 | get16(p + o + 2);
		if (o + 4 + len > n)
			break;
		if (p[o] == TLS_HT_CLIENT_HELLO && hello)
			edit_client_hello(p + o + 4, len, e);
		if (p[o] == TLS_HT_NEW_SESSION_TICKET && !hello && wire)
			e->tickets++;
		if (p[o] == TLS_HT_CERTIFICATE_REQUEST && !hello && e->cv_scheme)
			edit_cert_request(p + o + 4, len, e->cv_scheme);
		o += 4 + len;
	}
}

/* testpair filter: edit the plaintext handshake records in flight and the
 * sender's transcript the same way. */
static size_t filter(void *arg, bool to_server, uint8_t *buf, size_t len)
{
	struct edit *e = arg;
	tls_conn *from = to_server ? e->cli : e->srv;

	/* Records up to the sender's ChangeCipherSpec are in the clear. */
	for (size_t o = 0; o + 5 <= len && buf[o] != TLS_CT_CHANGE_CIPHER_SPEC;) {
		size_t rlen = get16(buf + o + 3);
		if (o + 5 + rlen > len)
			break;
		if (buf[o] == TLS_CT_HANDSHAKE)
			edit_messages(buf + o + 5, rlen, e, to_server, true);
		o += 5 + rlen;
	}
	if (from->hs != NULL && !from->wr_on)
		edit_messages(from->hs->transcript, from->hs->tlen, e, to_server, false);
	return len;
}

/* A handshake in which the client offers only ${ske} (0: all) and the
 * server asks only for ${cv} (0: all). Returns the client's error class;
 * ${srv_err} gets the server's; the schemes used land in ${got_ske} and
 * ${got_cv}. */
static enum tls_reason srv_why; /* tls_conn_reason of run()'s server */

static int run(tls_config *ccfg, tls_config *scfg, uint16_t ske, uint16_t cv, int *srv_err,
	       uint8_t *srv_alert, uint16_t *got_ske, uint16_t *got_cv)
{
	struct edit e = {.ske_scheme = ske, .cv_scheme = cv};
	e.cli = tls_conn_new(ccfg, "server.test", NULL);
	e.srv = tls_conn_new(scfg, NULL, NULL);
	testpair_pump(e.cli, e.srv, filter, &e);
	int ce = tls_conn_error(e.cli, NULL, NULL, NULL);
	*srv_err = tls_conn_error(e.srv, srv_alert, NULL, NULL);
	srv_why = tls_conn_reason(e.srv);
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
		CHECK_EQ(srv_why, TLS_R_NO_COMMON_SIGALG);
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
		CHECK_EQ(srv_why, TLS_R_CLIENT_CERT_REQUIRED);
		tls_config_unref(ccfg);
	}
	CHECK_EQ(tried, 6 + 3 + 3 + 1);
	tls_config_unref(scfg);
}

/* ---- legacy peers ------------------------------------------------------ */

typedef struct outcome {
	int cli_err, srv_err;
	uint8_t cli_alert, srv_alert;
	char cli_reason[192], srv_reason[192];
	enum tls_reason cli_why, srv_why; /* tls_conn_reason */
	tls_info ci, si;                  /* when both succeeded */
	bool cli_session;                 /* the client kept a resumable session */
	int tickets;                      /* NewSessionTickets the server sent */
} outcome;

/* A handshake with the ClientHello stripped as ${e} says (cli/srv unset),
 * offering ${sess} when not NULL. */
static void legacy_run(tls_config *ccfg, tls_config *scfg, struct edit e, tls_session *sess,
		       outcome *out)
{
	const char *r;
	memset(out, 0, sizeof *out);
	e.cli = tls_conn_new(ccfg, "server.test", NULL);
	e.srv = tls_conn_new(scfg, NULL, NULL);
	if (sess)
		tls_conn_set_session(e.cli, sess);
	testpair_pump(e.cli, e.srv, filter, &e);
	out->tickets = e.tickets;
	out->cli_err = tls_conn_error(e.cli, &out->cli_alert, NULL, &r);
	snprintf(out->cli_reason, sizeof out->cli_reason, "%s", r ? r : "");
	out->srv_err = tls_conn_error(e.srv, &out->srv_alert, NULL, &r);
	snprintf(out->srv_reason, sizeof out->srv_reason, "%s", r ? r : "");
	out->cli_why = tls_conn_reason(e.cli);
	out->srv_why = tls_conn_reason(e.srv);
	if (out->cli_err == TLS_ERR_NONE && out->srv_err == TLS_ERR_NONE) {
		CHECK(tls_conn_info(e.cli, &out->ci) == 0 && tls_conn_info(e.srv, &out->si) == 0);
		/* Both derived the same keys (the RFC 5246 §8.1 master secret
		 * when EMS is missing): data flows both ways. */
		CHECK(testpair_transfer(e.cli, e.srv, e.cli, e.srv, 5000));
		CHECK(testpair_transfer(e.srv, e.cli, e.cli, e.srv, 5000));
		tls_session *s = tls_conn_get_session(e.cli);
		out->cli_session = s != NULL;
		tls_session_unref(s);
	}
	tls_conn_free(e.cli);
	tls_conn_free(e.srv);
}

static bool has(const char *text, const char *words)
{
	if (strstr(text, words))
		return true;
	fprintf(stderr, "  \"%s\" lacks \"%s\"\n", text, words);
	return false;
}

static void legacy_peers(void)
{
	tls_config *strict_srv = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *legacy_srv = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *strict_cli = testpair_client_config();
	tls_config *legacy_cli = testpair_client_config();
	tls_config_set_legacy_peers(legacy_srv, true);
	tls_config_set_legacy_peers(legacy_cli, true);
	struct edit ems = {.no_ems = true}, reneg = {.no_reneg = true}, none = {0};
	outcome o;

	/* Unedited: EMS and renegotiation_info both, a session to resume. */
	legacy_run(legacy_cli, legacy_srv, none, NULL, &o);
	CHECK(o.cli_err == TLS_ERR_NONE && o.srv_err == TLS_ERR_NONE);
	CHECK(o.ci.ems && o.ci.secure_reneg && o.si.ems && o.si.secure_reneg);
	CHECK(o.cli_session);
	CHECK_EQ(o.tickets, 1);

	/* Default: a server refuses a client without either. */
	legacy_run(strict_cli, strict_srv, ems, NULL, &o);
	CHECK_EQ(o.srv_err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(o.srv_alert, TLS_ALERT_HANDSHAKE_FAILURE);
	CHECK(has(o.srv_reason, "client does not support extended master secret (RFC 7627)"));
	CHECK_EQ(o.srv_why, TLS_R_NO_EMS);
	legacy_run(strict_cli, strict_srv, reneg, NULL, &o);
	CHECK_EQ(o.srv_err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(o.srv_alert, TLS_ALERT_HANDSHAKE_FAILURE);
	CHECK(has(o.srv_reason, "client does not support secure renegotiation"));
	CHECK_EQ(o.srv_why, TLS_R_NO_RENEG_INFO);

	/* ... and a client refuses a server that answers without them (the
	 * server here accepts legacy clients, so it leaves them out of its
	 * ServerHello, RFC 5246 §7.4.1.4). */
	legacy_run(strict_cli, legacy_srv, ems, NULL, &o);
	CHECK_EQ(o.cli_err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(o.cli_alert, TLS_ALERT_HANDSHAKE_FAILURE);
	CHECK(has(o.cli_reason, "server does not support extended master secret (RFC 7627)"));
	CHECK_EQ(o.cli_why, TLS_R_NO_EMS);
	legacy_run(strict_cli, legacy_srv, reneg, NULL, &o);
	CHECK_EQ(o.cli_err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(o.cli_alert, TLS_ALERT_HANDSHAKE_FAILURE);
	CHECK(has(o.cli_reason,
		  "server does not support secure renegotiation (renegotiation_info"));
	CHECK_EQ(o.cli_why, TLS_R_NO_RENEG_INFO);

	/* legacy_peers on both: accepted, reported, never resumable. */
	struct edit both = {.no_ems = true, .no_reneg = true};
	struct edit *cases[] = {&ems, &reneg, &both};
	for (size_t i = 0; i < 3; i++) {
		legacy_run(legacy_cli, legacy_srv, *cases[i], NULL, &o);
		CHECK_EQ(o.cli_err, TLS_ERR_NONE);
		CHECK_EQ(o.srv_err, TLS_ERR_NONE);
		CHECK_EQ(o.ci.ems, !cases[i]->no_ems);
		CHECK_EQ(o.si.ems, !cases[i]->no_ems);
		CHECK_EQ(o.ci.secure_reneg, !cases[i]->no_reneg);
		CHECK_EQ(o.si.secure_reneg, !cases[i]->no_reneg);
		CHECK(!o.ci.resumed && !o.si.resumed);
		CHECK(!o.cli_session); /* RFC 7627 §5.4: no session to resume */
		CHECK_EQ(o.tickets, 0);
	}

	/* A session made with a modern handshake, offered in a legacy
	 * ClientHello: the server does not resume it (RFC 7627 §5.3), the
	 * full handshake succeeds, and no new session comes of it. */
	tls_conn *cli = tls_conn_new(legacy_cli, "server.test", NULL);
	tls_conn *srv = tls_conn_new(legacy_srv, NULL, NULL);
	CHECK(testpair_handshake(cli, srv));
	tls_session *sess = tls_conn_get_session(cli);
	CHECK(sess != NULL);
	tls_conn_free(cli);
	tls_conn_free(srv);
	legacy_run(legacy_cli, legacy_srv, none, sess, &o);
	CHECK(o.cli_err == TLS_ERR_NONE && o.ci.resumed && o.si.resumed);
	for (size_t i = 0; i < 3; i++) {
		legacy_run(legacy_cli, legacy_srv, *cases[i], sess, &o);
		CHECK(o.cli_err == TLS_ERR_NONE && o.srv_err == TLS_ERR_NONE);
		CHECK(!o.ci.resumed && !o.si.resumed);
		CHECK(!o.cli_session);
		CHECK_EQ(o.tickets, 0);
	}
	tls_session_unref(sess);

	tls_config_unref(strict_srv);
	tls_config_unref(legacy_srv);
	tls_config_unref(strict_cli);
	tls_config_unref(legacy_cli);
}

int main(void)
{
	server_key_exchange();
	certificate_verify();
	legacy_peers();
	return check_exit("engine/peer_offer");
}
