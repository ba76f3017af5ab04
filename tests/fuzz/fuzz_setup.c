/*
 * fuzz_setup.c: the test PKI, the configurations the fuzz targets and the
 * corpus generator run with, and the fixed resumable session (fuzz.h).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "consts.h"
#include "internal.h"
#include "suites.h"
#include "testpki.h"

static uint64_t fixed_clock(void *arg)
{
	return FUZZ_NOW;
}

static EVP_PKEY *pem_pubkey(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = x ? X509_get_pubkey(x) : NULL;
	X509_free(x);
	BIO_free(bio);
	if (!k)
		fuzz_fail("cannot read the public key of a test certificate");
	return k;
}

const fuzz_pki *fuzz_pki_get(void)
{
	static fuzz_pki pki;
	static bool made;
	if (made)
		return &pki;

	testpki_ca ca;
	if (testpki_ca_new(&ca, TLS_KEY_EC_P256, "tlshim fuzz CA") < 0)
		fuzz_fail("testpki_ca_new failed");
	pki.ca_pem = testpki_ca_pem(&ca);
	testpki_leaf_opts o = {
		.key_type = TLS_KEY_EC_P256, .cn = FUZZ_SERVER_NAME, .dns = FUZZ_SERVER_NAME};
	int r = testpki_issue(&ca, &o, &pki.ecdsa_cert, &pki.ecdsa_key);
	o.key_type = TLS_KEY_RSA;
	r |= testpki_issue(&ca, &o, &pki.rsa_cert, &pki.rsa_key);
	o = (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "fuzz client", .client = true};
	r |= testpki_issue(&ca, &o, &pki.client_cert, &pki.client_key);
	testpki_ca_free(&ca);
	if (r != 0 || !pki.ca_pem)
		fuzz_fail("testpki_issue failed");
	pki.ecdsa_pub = pem_pubkey(pki.ecdsa_cert);
	pki.rsa_pub = pem_pubkey(pki.rsa_cert);
	pki.client_pub = pem_pubkey(pki.client_cert);
	made = true;
	return &pki;
}

static void must(int r, const char *what, const char *err)
{
	if (r < 0)
		fuzz_fail("%s: %s", what, err);
}

tls_config *fuzz_server_config(int key_type, bool ask_cert, const char *ciphers, const char *groups)
{
	unsigned prev = fuzz_rand_use(FUZZ_RAND_SETUP);
	const fuzz_pki *pki = fuzz_pki_get();
	bool rsa = key_type == TLS_KEY_RSA;
	const char *cert = rsa ? pki->rsa_cert : pki->ecdsa_cert;
	const char *key = rsa ? pki->rsa_key : pki->ecdsa_key;
	char err[256] = "";

	/* From a restarted stream the ticket keys (made by config_new and
	 * remade by set_clock) are the same in every process. */
	fuzz_rand_reset(FUZZ_RAND_SETUP);
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	if (!cfg)
		fuzz_fail("tls_config_new failed");
	if (!ask_cert)
		tls_config_set_clock(cfg, fixed_clock, NULL);
	if (!ciphers && rsa)
		ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:"
			  "ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384";
	must(tls_config_set_chain_pem(cfg, cert, strlen(cert), err, sizeof err), "chain", err);
	must(tls_config_set_key_pem(cfg, key, strlen(key), err, sizeof err), "key", err);
	if (ciphers)
		must(tls_config_set_ciphers(cfg, ciphers, err, sizeof err), "ciphers", err);
	if (groups)
		must(tls_config_set_groups(cfg, groups, err, sizeof err), "groups", err);
	/* ALPN on both ends (the server's order wins: h2), so the recorded
	 * hellos carry the extension and the fuzzers reach its parsers and
	 * the selection (RFC 7301). */
	must(tls_config_set_alpn(cfg, FUZZ_ALPN_SERVER, err, sizeof err), "alpn", err);
	if (ask_cert) {
		must(tls_config_set_ca_pem(cfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err),
		     "ca", err);
		tls_config_set_verify(cfg, TLS_VERIFY_OPTIONAL);
	}
	must(tls_config_check(cfg, err, sizeof err), "server config", err);
	fuzz_rand_use(prev);
	return cfg;
}

tls_config *fuzz_client_config(bool with_cert)
{
	unsigned prev = fuzz_rand_use(FUZZ_RAND_SETUP);
	const fuzz_pki *pki = fuzz_pki_get();
	char err[256] = "";
	tls_config *cfg = tls_config_new(TLS_ROLE_CLIENT);

	if (!cfg)
		fuzz_fail("tls_config_new failed");
	tls_config_set_verify(cfg, TLS_VERIFY_NONE);
	/* FUZZ_NOW, so that fuzz_session() is within its lifetime. */
	tls_config_set_clock(cfg, fixed_clock, NULL);
	must(tls_config_set_ciphers(cfg, FUZZ_ALL_SUITES, err, sizeof err), "ciphers", err);
	must(tls_config_set_groups(cfg, FUZZ_ALL_GROUPS, err, sizeof err), "groups", err);
	must(tls_config_set_alpn(cfg, FUZZ_ALPN_CLIENT, err, sizeof err), "alpn", err);
	if (with_cert) {
		must(tls_config_set_chain_pem(cfg, pki->client_cert, strlen(pki->client_cert), err,
					      sizeof err),
		     "client chain", err);
		must(tls_config_set_key_pem(cfg, pki->client_key, strlen(pki->client_key), err,
					    sizeof err),
		     "client key", err);
	}
	must(tls_config_check(cfg, err, sizeof err), "client config", err);
	fuzz_rand_use(prev);
	return cfg;
}

tls_session *fuzz_session(void)
{
	static tls_session *s;
	if (s)
		return tls_session_ref(s);

	s = tls_session_new();
	if (!s)
		fuzz_fail("tls_session_new failed");
	s->suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	s->ems = true;
	memset(s->master, 0x5a, TLS_MASTER_SECRET_LEN);
	strcpy(s->server_name, FUZZ_SERVER_NAME);
	s->created = FUZZ_NOW;
	s->lifetime = 3600;
	/* Bound to the fuzz client's config (verify none, no CA or pins),
	 * which offers it; made without drawing randomness. */
	tls_config *cc = tls_config_new(TLS_ROLE_CLIENT);
	if (!cc)
		fuzz_fail("tls_config_new failed");
	tls_config_set_verify(cc, TLS_VERIFY_NONE);
	tls_config_auth_id(cc, s->config_id);
	tls_config_unref(cc);
	/* Sealed right after the keys were made, so the nonce drawn from the
	 * setup stream is the same every time too. */
	unsigned prev = fuzz_rand_use(FUZZ_RAND_SETUP);
	tls_config *cfg = fuzz_server_config(TLS_KEY_EC_P256, false, NULL, NULL);
	uint8_t ticket[TLS_TICKET_MAX];
	size_t len = 0;
	int r = tls_ticket_seal(cfg->ticket_keys, FUZZ_NOW, s, ticket, sizeof ticket, &len);
	fuzz_rand_use(prev);
	tls_config_unref(cfg);
	if (r < 0 || !(s->ticket = malloc(len)))
		fuzz_fail("cannot seal the fuzz session ticket");
	memcpy(s->ticket, ticket, len);
	s->ticket_len = len;
	return tls_session_ref(s);
}
