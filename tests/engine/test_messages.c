/*
 * The handshake message handlers one at a time: each writer runs on one
 * side of a hand-built client/server pair and the matching reader on the
 * other, and the state both sides end up with is compared (ECDHE and RSA
 * pre-master secrets, signatures, CertificateRequest contents, tickets).
 * Every reader also sees every truncation of a valid body and a body with
 * one trailing byte (decode_error), and tampered or unacceptable values.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "check.h"
#include "handshake.h"
#include "sig.h"
#include "testpki.h"

#define NAME     "server.test"
#define BODY_MAX 32768

typedef int (*writer_fn)(tls_conn *c, tls_wbuf *w);
typedef int (*reader_fn)(tls_conn *c, tls_cur *body);

static testpki_ca ca;
static char *ca_pem;

/* ---- configs and hand-built connections ------------------------------- */

static void set_leaf(tls_config *cfg, int key_type, bool client)
{
	testpki_leaf_opts o = {.key_type = key_type,
			       .cn = client ? "client" : NAME,
			       .dns = client ? NULL : NAME,
			       .client = client};
	char *cert = NULL, *key = NULL;
	CHECK_EQ(testpki_issue(&ca, &o, &cert, &key), 0);
	if (cert == NULL || key == NULL)
		abort();
	CHECK_EQ(tls_config_set_chain_pem(cfg, cert, strlen(cert), NULL, 0), 0);
	CHECK_EQ(tls_config_set_key_pem(cfg, key, strlen(key), NULL, 0), 0);
	free(cert);
	free(key);
}

/* A server with a leaf of ${key_type} that trusts our CA for clients. */
static tls_config *server_cfg(int key_type, enum tls_verify v)
{
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	if (cfg == NULL)
		abort();
	set_leaf(cfg, key_type, false);
	CHECK_EQ(tls_config_set_ca_pem(cfg, ca_pem, strlen(ca_pem), NULL, 0), 0);
	tls_config_set_verify(cfg, v);
	return cfg;
}

/* A client trusting our CA, with a client certificate unless TLS_KEY_NONE. */
static tls_config *client_cfg(int key_type)
{
	tls_config *cfg = tls_config_new(TLS_ROLE_CLIENT);
	if (cfg == NULL)
		abort();
	CHECK_EQ(tls_config_set_ca_pem(cfg, ca_pem, strlen(ca_pem), NULL, 0), 0);
	if (key_type != TLS_KEY_NONE)
		set_leaf(cfg, key_type, true);
	return cfg;
}

static tls_conn *conn_new(tls_config *cfg, uint16_t suite)
{
	tls_conn *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->hs = calloc(1, sizeof(*c->hs))) == NULL)
		abort();
	c->cfg = tls_config_ref(cfg);
	c->role = cfg->role;
	c->suite = tls_suite_by_id(suite);
	CHECK(c->suite != NULL);
	c->hs->client_version = TLS_VERSION_1_2;
	if (c->role == TLS_ROLE_CLIENT)
		strcpy(c->server_name, NAME);
	return c;
}

static void conn_free(tls_conn *c)
{
	tls_hs *hs = c->hs;

	tls_kx_free(&hs->kx);
	sk_X509_pop_free(hs->peer_chain, X509_free);
	EVP_PKEY_free(hs->peer_key);
	free(hs->transcript);
	free(hs->new_ticket);
	sodium_memzero(hs, sizeof(*hs));
	free(hs);
	tls_config_unref(c->cfg);
	free(c);
}

typedef struct pair {
	tls_conn *cli, *srv;
} pair;

/* Both sides of one handshake: shared randoms, the server's choices. */
static void pair_new(pair *p, tls_config *ccfg, tls_config *scfg, uint16_t suite)
{
	p->cli = conn_new(ccfg, suite);
	p->srv = conn_new(scfg, suite);
	randombytes_buf(p->cli->hs->client_random, TLS_RANDOM_LEN);
	randombytes_buf(p->cli->hs->server_random, TLS_RANDOM_LEN);
	memcpy(p->srv->hs->client_random, p->cli->hs->client_random, TLS_RANDOM_LEN);
	memcpy(p->srv->hs->server_random, p->cli->hs->server_random, TLS_RANDOM_LEN);
}

static void pair_free(pair *p)
{
	conn_free(p->cli);
	conn_free(p->srv);
}

/* give_key(c, cfg): what the Certificate message would have left: the
 * leaf public key of ${cfg}'s chain as c's peer key. */
static void give_key(tls_conn *c, const tls_config *cfg)
{
	EVP_PKEY_free(c->hs->peer_key);
	c->hs->peer_key = X509_get_pubkey(cfg->chain.leaf);
	CHECK(c->hs->peer_key != NULL);
}

/* Server's signature scheme as the ClientHello reader picks it, against a
 * client that offered every scheme we know. */
static void pick_scheme(tls_conn *srv)
{
	size_t n;
	const uint16_t *all = tls_sigschemes_all(&n);
	srv->hs->sigscheme = tls_sig_choose(srv->cfg->key.type, all, n);
	CHECK(srv->hs->sigscheme != 0);
}

/* ---- running handlers ------------------------------------------------- */

static size_t run_writer(tls_conn *c, writer_fn wr, uint8_t *buf)
{
	tls_wbuf w;
	tls_wbuf_init(&w, buf, BODY_MAX);
	CHECK_EQ(wr(c, &w), 0);
	CHECK(tls_wbuf_ok(&w));
	return w.len;
}

/* run_reader(c, rd, p, n): ${rd} over a private heap copy of exactly ${n}
 * bytes, so any read past the end is an AddressSanitizer report. */
static int run_reader(tls_conn *c, reader_fn rd, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, p, n);
	tls_cur cur;
	tls_cur_init(&cur, copy, n);
	int rc = rd(c, &cur);
	free(copy);
	return rc;
}

static void reset_err(tls_conn *c)
{
	c->err = 0;
	c->alert = 0;
	c->alert_pending = false;
	c->reason[0] = '\0';
}

/* EXPECT_FAIL(c, rc, err, alert): the handler failed with that class and
 * alert, and gave a reason; then the sticky error is cleared for reuse. */
#define EXPECT_FAIL(c, rc, e, a)                                 \
	do {                                                     \
		CHECK_EQ((rc), -1);                              \
		CHECK_EQ((c)->err, (e));                         \
		CHECK_EQ((c)->alert, (a));                       \
		CHECK((c)->reason[0] != '\0');                   \
		if ((c)->reason[0] != '\0' && getenv("VERBOSE")) \
			printf("  reason: %s\n", (c)->reason);   \
		reset_err(c);                                    \
	} while (0)

/* Every proper prefix of a valid ${body} and the body plus one byte must be
 * decode_error, before anything else is looked at. */
static void check_framing(tls_conn *c, reader_fn rd, const uint8_t *body, size_t len,
			  const char *what)
{
	uint8_t *longer = malloc(len + 1);
	if (longer == NULL)
		abort();
	for (size_t n = 0; n <= len; n++) {
		size_t feed = n < len ? n : len + 1;
		memcpy(longer, body, len);
		longer[len] = 0;
		int rc = run_reader(c, rd, longer, feed);
		bool ok = rc == -1 && c->err == TLS_ERR_PROTOCOL &&
			  c->alert == TLS_ALERT_DECODE_ERROR;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  %s: %zu of %zu bytes: rc %d err %d alert %d (%s)\n",
				what, feed, len, rc, c->err, c->alert, c->reason);
		reset_err(c);
	}
	free(longer);
}

/* ---- Certificate ------------------------------------------------------ */

static size_t chain_body_len(const tls_config *cfg)
{
	size_t n = 3;
	for (size_t i = 0; i < cfg->chain.n; i++)
		n += 3 + cfg->chain.der_len[i];
	return n;
}

static void test_server_certificate(int key_type, uint16_t suite)
{
	tls_config *scfg = server_cfg(key_type, TLS_VERIFY_NONE), *ccfg = client_cfg(TLS_KEY_NONE);
	pair p;
	uint8_t body[BODY_MAX];

	pair_new(&p, ccfg, scfg, suite);
	size_t len = run_writer(p.srv, tls_hs_certificate_write, body);
	CHECK_EQ(len, chain_body_len(scfg));
	CHECK_EQ(len, 6 + scfg->chain.der_len[0]);
	CHECK_MEM(body + 6, scfg->chain.der[0], scfg->chain.der_len[0]);

	check_framing(p.cli, tls_hs_certificate_read, body, len, "Certificate");
	CHECK(p.cli->hs->peer_chain == NULL);

	CHECK_EQ(run_reader(p.cli, tls_hs_certificate_read, body, len), 0);
	CHECK_EQ(p.cli->err, 0);
	CHECK(p.cli->hs->peer_chain != NULL);
	if (p.cli->hs->peer_chain != NULL) {
		CHECK_EQ(sk_X509_num(p.cli->hs->peer_chain), 1);
		CHECK_EQ(X509_cmp(sk_X509_value(p.cli->hs->peer_chain, 0), scfg->chain.leaf), 0);
	}
	CHECK(p.cli->hs->peer_key != NULL);
	CHECK(p.cli->peer_cert);
	CHECK(p.cli->peer_verified);
	pair_free(&p);

	/* A leaf of the wrong kind for the suite: RFC 8422 §5.5. */
	uint16_t other = key_type == TLS_KEY_RSA ? TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
						 : TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
	pair_new(&p, ccfg, scfg, other);
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_certificate_read, body, len), TLS_ERR_PROTOCOL,
		    TLS_ALERT_UNSUPPORTED_CERTIFICATE);
	CHECK(p.cli->hs->peer_chain == NULL);
	pair_free(&p);

	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* build_list(out, der, len, copies, extra): a certificate_list of ${copies}
 * entries holding ${der} followed by ${extra} zero bytes each. */
static size_t build_list(uint8_t *out, const uint8_t *der, size_t len, int copies, size_t extra)
{
	tls_wbuf w;
	tls_wbuf_init(&w, out, BODY_MAX);
	size_t list = tls_wbuf_open(&w, 3);
	for (int i = 0; i < copies; i++) {
		size_t one = tls_wbuf_open(&w, 3);
		tls_wbuf_bytes(&w, der, len);
		for (size_t j = 0; j < extra; j++)
			tls_wbuf_u8(&w, 0);
		tls_wbuf_close(&w, one, 3);
	}
	tls_wbuf_close(&w, list, 3);
	CHECK(tls_wbuf_ok(&w));
	return w.len;
}

static void test_certificate_malformed(void)
{
	tls_config *scfg = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_NONE),
		   *ccfg = client_cfg(TLS_KEY_NONE);
	uint16_t suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	const uint8_t *der = scfg->chain.der[0];
	size_t dlen = scfg->chain.der_len[0];
	uint8_t body[BODY_MAX];
	size_t len;
	tls_conn *c = conn_new(ccfg, suite);

	/* RFC 5246 §7.4.2: a server must send its certificate. */
	static const uint8_t empty[] = {0, 0, 0};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, empty, sizeof(empty)),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	/* ASN.1Cert<1..2^24-1>: an empty entry is a decoding error. */
	static const uint8_t empty_entry[] = {0, 0, 3, 0, 0, 0};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, empty_entry, sizeof(empty_entry)),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	/* Not DER at all, and DER followed by junk inside the entry. */
	static const uint8_t junk[] = {0, 0, 5, 0, 0, 2, 0x30, 0x00};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, junk, sizeof(junk)), TLS_ERR_AUTH,
		    TLS_ALERT_BAD_CERTIFICATE);
	len = build_list(body, der, dlen, 1, 1);
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, body, len), TLS_ERR_AUTH,
		    TLS_ALERT_BAD_CERTIFICATE);
	/* A DER certificate cut short inside its entry. */
	len = build_list(body, der, dlen - 1, 1, 0);
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, body, len), TLS_ERR_AUTH,
		    TLS_ALERT_BAD_CERTIFICATE);
	/* Second certificate broken: the index is in the reason. */
	{
		tls_wbuf w;
		tls_wbuf_init(&w, body, BODY_MAX);
		size_t list = tls_wbuf_open(&w, 3);
		size_t one = tls_wbuf_open(&w, 3);
		tls_wbuf_bytes(&w, der, dlen);
		tls_wbuf_close(&w, one, 3);
		one = tls_wbuf_open(&w, 3);
		tls_wbuf_bytes(&w, "\x30\x03\x02\x01\x01", 5);
		tls_wbuf_close(&w, one, 3);
		tls_wbuf_close(&w, list, 3);
		int rc = run_reader(c, tls_hs_certificate_read, body, w.len);
		CHECK(strstr(c->reason, "certificate 2") != NULL);
		EXPECT_FAIL(c, rc, TLS_ERR_AUTH, TLS_ALERT_BAD_CERTIFICATE);
	}
	/* A well-formed certificate with a key we refuse (RSA-1024). */
	{
		testpki_leaf_opts o = {.key_type = TLS_KEY_RSA, .rsa_bits = 1024, .dns = NAME};
		char *cert = NULL, *key = NULL;
		CHECK_EQ(testpki_issue(&ca, &o, &cert, &key), 0);
		BIO *bio = BIO_new_mem_buf(cert, -1);
		X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		unsigned char *weak = NULL;
		int wlen = x != NULL ? i2d_X509(x, &weak) : -1;
		CHECK(wlen > 0);
		if (wlen > 0) {
			len = build_list(body, weak, (size_t)wlen, 1, 0);
			EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, body, len),
				    TLS_ERR_AUTH, TLS_ALERT_UNSUPPORTED_CERTIFICATE);
		}
		OPENSSL_free(weak);
		X509_free(x);
		BIO_free(bio);
		free(cert);
		free(key);
	}
	/* More than our bound of 10 certificates. */
	len = build_list(body, der, dlen, 11, 0);
	int rc = run_reader(c, tls_hs_certificate_read, body, len);
	CHECK(strstr(c->reason, "more than 10") != NULL);
	EXPECT_FAIL(c, rc, TLS_ERR_AUTH, TLS_ALERT_BAD_CERTIFICATE);
	CHECK(c->hs->peer_chain == NULL);
	/* Ten is still parsed (whatever the verifier then thinks of it). */
	len = build_list(body, der, dlen, 10, 0);
	rc = run_reader(c, tls_hs_certificate_read, body, len);
	CHECK(strstr(c->reason, "more than") == NULL);
	reset_err(c);

	conn_free(c);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* ---- CertificateRequest, client Certificate, CertificateVerify -------- */

static uint16_t scheme_not_for(int key_type)
{
	return key_type == TLS_KEY_RSA ? TLS_SIG_ECDSA_SECP256R1_SHA256
				       : TLS_SIG_RSA_PSS_RSAE_SHA256;
}

static void test_client_auth(int cli_kt)
{
	tls_config *scfg = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_REQUIRE),
		   *ccfg = client_cfg(cli_kt);
	pair p;
	uint8_t body[BODY_MAX], bad[BODY_MAX];
	size_t len, n;
	const uint16_t *all = tls_sigschemes_all(&n);

	pair_new(&p, ccfg, scfg, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	p.srv->hs->cert_requested = true;

	/* CertificateRequest: both types, every scheme, no authorities. */
	len = run_writer(p.srv, tls_hs_certificate_request_write, body);
	CHECK_EQ(len, 1 + 2 + 2 + 2 * n + 2);
	check_framing(p.cli, tls_hs_certificate_request_read, body, len, "CertificateRequest");
	CHECK_EQ(run_reader(p.cli, tls_hs_certificate_request_read, body, len), 0);
	CHECK(p.cli->hs->cert_requested);
	CHECK_EQ(p.cli->hs->req_cert_types, 3);
	CHECK_EQ(p.cli->hs->n_peer_sigalgs, n);
	CHECK_MEM(p.cli->hs->peer_sigalgs, all, n * sizeof(all[0]));

	/* The client's Certificate. */
	len = run_writer(p.cli, tls_hs_certificate_write, body);
	CHECK(p.cli->hs->client_cert);
	CHECK(tls_sig_usable(p.cli->hs->sigscheme, cli_kt));
	CHECK_EQ(len, chain_body_len(ccfg));
	check_framing(p.srv, tls_hs_certificate_read, body, len, "client Certificate");
	CHECK_EQ(run_reader(p.srv, tls_hs_certificate_read, body, len), 0);
	CHECK(p.srv->hs->client_cert);
	CHECK(p.srv->hs->peer_key != NULL);
	CHECK(p.srv->peer_cert);
	CHECK(p.srv->peer_verified);
	if (p.srv->hs->peer_key == NULL)
		give_key(p.srv, ccfg);

	/* CertificateVerify over the same transcript on both sides. */
	uint8_t transcript[700];
	randombytes_buf(transcript, sizeof(transcript));
	p.cli->hs->transcript = malloc(sizeof(transcript));
	p.srv->hs->transcript = malloc(sizeof(transcript));
	memcpy(p.cli->hs->transcript, transcript, sizeof(transcript));
	memcpy(p.srv->hs->transcript, transcript, sizeof(transcript));
	p.cli->hs->tlen = p.srv->hs->tlen = p.cli->hs->tcap = p.srv->hs->tcap = sizeof(transcript);

	len = run_writer(p.cli, tls_hs_certificate_verify_write, body);
	CHECK_EQ(body[0] << 8 | body[1], p.cli->hs->sigscheme);
	CHECK_EQ((size_t)(body[2] << 8 | body[3]), len - 4);
	check_framing(p.srv, tls_hs_certificate_verify_read, body, len, "CertificateVerify");
	CHECK_EQ(run_reader(p.srv, tls_hs_certificate_verify_read, body, len), 0);
	CHECK_EQ(p.srv->peer_sigscheme, p.cli->hs->sigscheme);

	/* A flipped signature bit, a different transcript. */
	memcpy(bad, body, len);
	bad[len - 1] ^= 1;
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_certificate_verify_read, bad, len),
		    TLS_ERR_AUTH, TLS_ALERT_DECRYPT_ERROR);
	p.srv->hs->transcript[100] ^= 0x80;
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_certificate_verify_read, body, len),
		    TLS_ERR_AUTH, TLS_ALERT_DECRYPT_ERROR);
	p.srv->hs->transcript[100] ^= 0x80;
	/* A scheme the key cannot make, and one we never offer (SHA-1). */
	memcpy(bad, body, len);
	bad[0] = scheme_not_for(cli_kt) >> 8;
	bad[1] = scheme_not_for(cli_kt) & 0xff;
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_certificate_verify_read, bad, len),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	bad[0] = 0x02;
	bad[1] = cli_kt == TLS_KEY_RSA ? 0x01 : 0x03;
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_certificate_verify_read, bad, len),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	/* And the good one still verifies. */
	CHECK_EQ(run_reader(p.srv, tls_hs_certificate_verify_read, body, len), 0);

	pair_free(&p);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* When the client has nothing fitting it sends an empty list; the server's
 * verify mode decides. */
static void test_client_no_cert(void)
{
	tls_config *req = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_REQUIRE),
		   *opt = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_OPTIONAL),
		   *none = client_cfg(TLS_KEY_NONE), *ec = client_cfg(TLS_KEY_EC_P256);
	uint16_t suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	static const uint8_t empty[] = {0, 0, 0};
	static const uint16_t rsa_only[] = {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_RSA_PKCS1_SHA256};
	uint8_t body[BODY_MAX];
	size_t n, len;
	const uint16_t *all = tls_sigschemes_all(&n);

	/* No certificate configured. */
	tls_conn *c = conn_new(none, suite);
	c->hs->cert_requested = true;
	c->hs->req_cert_types = 3;
	memcpy(c->hs->peer_sigalgs, all, n * sizeof(all[0]));
	c->hs->n_peer_sigalgs = n;
	len = run_writer(c, tls_hs_certificate_write, body);
	CHECK_EQ(len, 3);
	CHECK_MEM(body, empty, 3);
	CHECK(!c->hs->client_cert);
	conn_free(c);

	/* An EC certificate, but only rsa_sign asked for. */
	c = conn_new(ec, suite);
	c->hs->cert_requested = true;
	c->hs->req_cert_types = 1;
	memcpy(c->hs->peer_sigalgs, all, n * sizeof(all[0]));
	c->hs->n_peer_sigalgs = n;
	len = run_writer(c, tls_hs_certificate_write, body);
	CHECK_EQ(len, 3);
	CHECK(!c->hs->client_cert);
	/* ... or ecdsa_sign asked for but only RSA schemes listed. */
	c->hs->req_cert_types = 3;
	memcpy(c->hs->peer_sigalgs, rsa_only, sizeof(rsa_only));
	c->hs->n_peer_sigalgs = 2;
	len = run_writer(c, tls_hs_certificate_write, body);
	CHECK_EQ(len, 3);
	CHECK(!c->hs->client_cert);
	/* ... and with a fitting request it is sent. */
	memcpy(c->hs->peer_sigalgs, all, n * sizeof(all[0]));
	c->hs->n_peer_sigalgs = n;
	len = run_writer(c, tls_hs_certificate_write, body);
	CHECK_EQ(len, chain_body_len(ec));
	CHECK(c->hs->client_cert);
	conn_free(c);

	/* The server's side of an empty list. */
	c = conn_new(req, suite);
	c->hs->cert_requested = true;
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_read, empty, 3), TLS_ERR_AUTH,
		    TLS_ALERT_HANDSHAKE_FAILURE);
	CHECK(!c->hs->client_cert);
	conn_free(c);
	c = conn_new(opt, suite);
	c->hs->cert_requested = true;
	CHECK_EQ(run_reader(c, tls_hs_certificate_read, empty, 3), 0);
	CHECK_EQ(c->err, 0);
	CHECK(!c->hs->client_cert);
	CHECK(c->hs->peer_chain == NULL);
	conn_free(c);

	tls_config_unref(req);
	tls_config_unref(opt);
	tls_config_unref(none);
	tls_config_unref(ec);
}

static void test_certificate_request_malformed(void)
{
	tls_config *ccfg = client_cfg(TLS_KEY_NONE);
	tls_conn *c = conn_new(ccfg, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);

	/* certificate_types<1..2^8-1> may not be empty. */
	static const uint8_t no_types[] = {0, 0, 2, 4, 3, 0, 0};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_request_read, no_types, sizeof(no_types)),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	/* An odd-length signature algorithm list. */
	static const uint8_t odd[] = {1, 64, 0, 3, 4, 3, 5, 0, 0};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_request_read, odd, sizeof(odd)),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	/* DistinguishedName<1..2^16-1>: an empty one, and one overrunning. */
	static const uint8_t empty_dn[] = {1, 64, 0, 2, 4, 3, 0, 2, 0, 0};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_request_read, empty_dn, sizeof(empty_dn)),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	static const uint8_t long_dn[] = {1, 64, 0, 2, 4, 3, 0, 4, 0, 3, 0x30, 0};
	EXPECT_FAIL(c, run_reader(c, tls_hs_certificate_request_read, long_dn, sizeof(long_dn)),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);

	/* Well-formed: unknown types ignored, authorities skipped, only
	 * rsa_sign understood. */
	static const uint8_t fine[] = {3, 2, 1, 20, 0,    4, 8, 4, 4,   1,
				       0, 7, 0, 2,  0x30, 0, 0, 1, 0x31};
	CHECK_EQ(run_reader(c, tls_hs_certificate_request_read, fine, sizeof(fine)), 0);
	CHECK(c->hs->cert_requested);
	CHECK_EQ(c->hs->req_cert_types, 1);
	CHECK_EQ(c->hs->n_peer_sigalgs, 2);
	CHECK_EQ(c->hs->peer_sigalgs[0], TLS_SIG_RSA_PSS_RSAE_SHA256);
	CHECK_EQ(c->hs->peer_sigalgs[1], TLS_SIG_RSA_PKCS1_SHA256);

	/* More schemes than we keep: the first TLS_MAX_PEER_SIGALGS stay. */
	uint8_t many[4 + 2 * 100 + 2];
	tls_wbuf w;
	tls_wbuf_init(&w, many, sizeof(many));
	tls_wbuf_u8(&w, 1);
	tls_wbuf_u8(&w, 64);
	size_t mark = tls_wbuf_open(&w, 2);
	for (int i = 0; i < 100; i++)
		tls_wbuf_u16(&w, (uint16_t)(0x1000 + i));
	tls_wbuf_close(&w, mark, 2);
	tls_wbuf_u16(&w, 0);
	CHECK(tls_wbuf_ok(&w));
	CHECK_EQ(run_reader(c, tls_hs_certificate_request_read, many, w.len), 0);
	CHECK_EQ(c->hs->req_cert_types, 2);
	CHECK_EQ(c->hs->n_peer_sigalgs, TLS_MAX_PEER_SIGALGS);
	CHECK_EQ(c->hs->peer_sigalgs[TLS_MAX_PEER_SIGALGS - 1], 0x1000 + TLS_MAX_PEER_SIGALGS - 1);

	conn_free(c);
	tls_config_unref(ccfg);
}

/* ---- ServerKeyExchange + ClientKeyExchange (ECDHE) -------------------- */

static size_t pub_len(uint16_t group)
{
	return group == TLS_GROUP_X25519 ? 32 : group == TLS_GROUP_SECP256R1 ? 65 : 97;
}

static size_t secret_len(uint16_t group)
{
	return group == TLS_GROUP_SECP384R1 ? 48 : 32;
}

static void test_ecdhe(int key_type, uint16_t suite, uint16_t group)
{
	tls_config *scfg = server_cfg(key_type, TLS_VERIFY_NONE), *ccfg = client_cfg(TLS_KEY_NONE);
	pair p;
	uint8_t ske[BODY_MAX], cke[BODY_MAX], bad[BODY_MAX];
	size_t slen, clen, plen = pub_len(group);

	pair_new(&p, ccfg, scfg, suite);
	p.srv->group = group;
	pick_scheme(p.srv);
	give_key(p.cli, scfg);

	slen = run_writer(p.srv, tls_hs_server_key_exchange_write, ske);
	CHECK_EQ(ske[0], TLS_EC_CURVE_TYPE_NAMED);
	CHECK_EQ(ske[1] << 8 | ske[2], group);
	CHECK_EQ(ske[3], plen);
	CHECK_EQ(ske[4 + plen] << 8 | ske[5 + plen], p.srv->hs->sigscheme);
	CHECK_EQ((size_t)(ske[6 + plen] << 8 | ske[7 + plen]), slen - 8 - plen);

	check_framing(p.cli, tls_hs_server_key_exchange_read, ske, slen, "ServerKeyExchange");
	CHECK_EQ(run_reader(p.cli, tls_hs_server_key_exchange_read, ske, slen), 0);
	CHECK_EQ(p.cli->err, 0);
	CHECK_EQ(p.cli->group, group);
	CHECK_EQ(p.cli->peer_sigscheme, p.srv->hs->sigscheme);
	CHECK_EQ(p.cli->hs->peer_share_len, plen);
	CHECK_MEM(p.cli->hs->peer_share, ske + 4, plen);

	/* Tampering anywhere under the signature, or other randoms. */
	size_t spots[] = {4, 3 + plen, slen - 1};
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		memcpy(bad, ske, slen);
		bad[spots[i]] ^= 0x01;
		EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, bad, slen),
			    TLS_ERR_AUTH, TLS_ALERT_DECRYPT_ERROR);
	}
	p.cli->hs->client_random[0] ^= 1;
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, ske, slen),
		    TLS_ERR_AUTH, TLS_ALERT_DECRYPT_ERROR);
	p.cli->hs->client_random[0] ^= 1;
	/* curve_type explicit_prime (1). */
	memcpy(bad, ske, slen);
	bad[0] = 1;
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, bad, slen),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	/* A group we never offer (secp521r1). */
	memcpy(bad, ske, slen);
	bad[1] = 0;
	bad[2] = 25;
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, bad, slen),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	/* A scheme that does not fit the server's key. */
	memcpy(bad, ske, slen);
	bad[4 + plen] = scheme_not_for(key_type) >> 8;
	bad[5 + plen] = scheme_not_for(key_type) & 0xff;
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, bad, slen),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	/* An empty point (point<1..2^8-1>). */
	{
		tls_wbuf w;
		tls_wbuf_init(&w, bad, sizeof(bad));
		tls_wbuf_bytes(&w, ske, 3);
		tls_wbuf_u8(&w, 0);
		tls_wbuf_bytes(&w, ske + 4 + plen, slen - 4 - plen);
		EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, bad, w.len),
			    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	}
	/* The good one still passes (nothing above stuck). */
	CHECK_EQ(run_reader(p.cli, tls_hs_server_key_exchange_read, ske, slen), 0);

	/* ClientKeyExchange: both sides reach the same pre-master secret. */
	clen = run_writer(p.cli, tls_hs_client_key_exchange_write, cke);
	CHECK_EQ(clen, 1 + plen);
	CHECK_EQ(cke[0], plen);
	CHECK_EQ(p.cli->hs->pms_len, secret_len(group));
	check_framing(p.srv, tls_hs_client_key_exchange_read, cke, clen, "ClientKeyExchange");
	CHECK_EQ(run_reader(p.srv, tls_hs_client_key_exchange_read, cke, clen), 0);
	CHECK_EQ(p.srv->hs->pms_len, secret_len(group));
	CHECK_MEM(p.srv->hs->pms, p.cli->hs->pms, secret_len(group));
	pair_free(&p);

	/* The server rejects a bad client share. */
	pair_new(&p, ccfg, scfg, suite);
	p.srv->group = group;
	pick_scheme(p.srv);
	run_writer(p.srv, tls_hs_server_key_exchange_write, ske);
	memset(bad, 0, sizeof(bad));
	bad[0] = (uint8_t)plen;
	bad[1] = group == TLS_GROUP_X25519 ? 0 : 4; /* x25519: all-zero output; NIST: off-curve */
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_client_key_exchange_read, bad, 1 + plen),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	pair_free(&p);
	pair_new(&p, ccfg, scfg, suite);
	p.srv->group = group;
	pick_scheme(p.srv);
	run_writer(p.srv, tls_hs_server_key_exchange_write, ske);
	static const uint8_t empty_point[] = {0};
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_client_key_exchange_read, empty_point, 1),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	pair_free(&p);

	/* The client rejects a bad server share when it derives. */
	pair_new(&p, ccfg, scfg, suite);
	p.cli->group = group;
	p.cli->hs->peer_share_len = plen - 1;
	memset(p.cli->hs->peer_share, 4, plen);
	tls_wbuf w;
	tls_wbuf_init(&w, cke, sizeof(cke));
	EXPECT_FAIL(p.cli, tls_hs_client_key_exchange_write(p.cli, &w), TLS_ERR_PROTOCOL,
		    TLS_ALERT_ILLEGAL_PARAMETER);
	pair_free(&p);

	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* A correctly signed share in a group the client did not offer. */
static void test_ske_group_not_offered(void)
{
	tls_config *scfg = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_NONE),
		   *ccfg = client_cfg(TLS_KEY_NONE);
	pair p;
	uint8_t ske[BODY_MAX];

	CHECK_EQ(tls_config_set_groups(ccfg, "x25519", NULL, 0), 0);
	pair_new(&p, ccfg, scfg, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	p.srv->group = TLS_GROUP_SECP256R1;
	pick_scheme(p.srv);
	give_key(p.cli, scfg);
	size_t slen = run_writer(p.srv, tls_hs_server_key_exchange_write, ske);
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_key_exchange_read, ske, slen),
		    TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER);
	CHECK_EQ(p.cli->group, 0);
	CHECK_EQ(p.cli->hs->peer_share_len, 0);
	pair_free(&p);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* ---- ClientKeyExchange (RSA key transport) ---------------------------- */

static void test_rsa_kx(void)
{
	tls_config *scfg = server_cfg(TLS_KEY_RSA, TLS_VERIFY_NONE),
		   *ccfg = client_cfg(TLS_KEY_NONE);
	pair p;
	uint8_t cke[BODY_MAX], bad[BODY_MAX];

	pair_new(&p, ccfg, scfg, TLS_RSA_WITH_AES_128_GCM_SHA256);
	give_key(p.cli, scfg);
	size_t len = run_writer(p.cli, tls_hs_client_key_exchange_write, cke);
	CHECK_EQ(len, 2 + 256);
	CHECK_EQ(cke[0] << 8 | cke[1], 256);
	CHECK_EQ(p.cli->hs->pms_len, 48);
	CHECK_EQ(p.cli->hs->pms[0], 3);
	CHECK_EQ(p.cli->hs->pms[1], 3);

	check_framing(p.srv, tls_hs_client_key_exchange_read, cke, len, "ClientKeyExchange RSA");
	CHECK_EQ(run_reader(p.srv, tls_hs_client_key_exchange_read, cke, len), 0);
	CHECK_EQ(p.srv->hs->pms_len, 48);
	CHECK_MEM(p.srv->hs->pms, p.cli->hs->pms, 48);

	/* Garbage below the modulus, a flipped bit, a rolled-back version:
	 * accepted here, with a pre-master secret the client does not have
	 * (RFC 5246 §7.4.7.1: the failure shows only at Finished). */
	memcpy(bad, cke, len);
	randombytes_buf(bad + 3, len - 3);
	bad[2] = 0;
	memset(p.srv->hs->pms, 0, 48);
	CHECK_EQ(run_reader(p.srv, tls_hs_client_key_exchange_read, bad, len), 0);
	CHECK_EQ(p.srv->err, 0);
	CHECK_EQ(p.srv->hs->pms_len, 48);
	CHECK(memcmp(p.srv->hs->pms, p.cli->hs->pms, 48) != 0);

	memcpy(bad, cke, len);
	bad[len - 1] ^= 1;
	CHECK_EQ(run_reader(p.srv, tls_hs_client_key_exchange_read, bad, len), 0);
	CHECK(memcmp(p.srv->hs->pms, p.cli->hs->pms, 48) != 0);

	p.srv->hs->client_version = 0x0302;
	CHECK_EQ(run_reader(p.srv, tls_hs_client_key_exchange_read, cke, len), 0);
	CHECK(memcmp(p.srv->hs->pms, p.cli->hs->pms, 48) != 0);
	p.srv->hs->client_version = TLS_VERSION_1_2;
	CHECK_EQ(run_reader(p.srv, tls_hs_client_key_exchange_read, cke, len), 0);
	CHECK_MEM(p.srv->hs->pms, p.cli->hs->pms, 48);

	/* A ciphertext shorter than the modulus is a framing error. */
	bad[0] = 0;
	bad[1] = 255;
	memcpy(bad + 2, cke + 3, 255);
	EXPECT_FAIL(p.srv, run_reader(p.srv, tls_hs_client_key_exchange_read, bad, 257),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	pair_free(&p);

	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* ---- ServerHelloDone -------------------------------------------------- */

static void test_server_hello_done(void)
{
	tls_config *scfg = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_NONE),
		   *ccfg = client_cfg(TLS_KEY_NONE);
	pair p;
	uint8_t body[BODY_MAX] = {0};

	pair_new(&p, ccfg, scfg, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	CHECK_EQ(run_writer(p.srv, tls_hs_server_hello_done_write, body), 0);
	check_framing(p.cli, tls_hs_server_hello_done_read, body, 0, "ServerHelloDone");
	CHECK_EQ(run_reader(p.cli, tls_hs_server_hello_done_read, body, 0), 0);
	EXPECT_FAIL(p.cli, run_reader(p.cli, tls_hs_server_hello_done_read, body, 5),
		    TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR);
	pair_free(&p);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* ---- NewSessionTicket ------------------------------------------------- */

static uint64_t fixed_clock(void *arg)
{
	return *(uint64_t *)arg;
}

static void test_ticket(bool with_client_cert, bool verified)
{
	static uint64_t now = 1700000000;
	tls_config *scfg = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_OPTIONAL),
		   *ccfg = client_cfg(TLS_KEY_EC_P256);
	pair p;
	uint8_t body[BODY_MAX];
	uint8_t spki[32];

	tls_config_set_clock(scfg, fixed_clock, &now);
	pair_new(&p, ccfg, scfg, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
	randombytes_buf(p.srv->hs->master, TLS_MASTER_SECRET_LEN);
	strcpy(p.srv->server_name, NAME);
	if (with_client_cert) {
		p.srv->hs->client_cert = true;
		p.srv->peer_cert = true;
		p.srv->peer_verified = verified;
		strcpy(p.srv->peer_subject, "CN=client");
		p.srv->hs->peer_chain = sk_X509_new_null();
		X509_up_ref(ccfg->chain.leaf);
		sk_X509_push(p.srv->hs->peer_chain, ccfg->chain.leaf);
		CHECK_EQ(tls_spki_sha256(ccfg->chain.leaf, spki), 0);
	}
	p.srv->hs->send_ticket = true;
	p.cli->hs->send_ticket = true;

	size_t len = run_writer(p.srv, tls_hs_new_session_ticket_write, body);
	uint32_t period = tls_ticket_keys_period(scfg->ticket_keys);
	CHECK_EQ((uint32_t)body[0] << 24 | body[1] << 16 | body[2] << 8 | body[3], period);
	size_t tlen = (size_t)(body[4] << 8 | body[5]);
	CHECK_EQ(tlen, len - 6);
	CHECK(tlen > 16 + 12 + 16);

	check_framing(p.cli, tls_hs_new_session_ticket_read, body, len, "NewSessionTicket");
	CHECK(p.cli->hs->new_ticket == NULL);
	CHECK_EQ(run_reader(p.cli, tls_hs_new_session_ticket_read, body, len), 0);
	CHECK_EQ(p.cli->hs->new_ticket_len, tlen);
	CHECK_EQ(p.cli->hs->new_ticket_lifetime, period);
	CHECK(p.cli->hs->new_ticket != NULL);
	if (p.cli->hs->new_ticket != NULL)
		CHECK_MEM(p.cli->hs->new_ticket, body + 6, tlen);
	/* A second ticket replaces the first (no leak under ASan). */
	CHECK_EQ(run_reader(p.cli, tls_hs_new_session_ticket_read, body, len), 0);

	/* What the server will find in it on resumption. */
	tls_session *s = tls_ticket_open(scfg->ticket_keys, now, body + 6, tlen);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_EQ(s->suite, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
		CHECK(s->ems);
		CHECK_MEM(s->master, p.srv->hs->master, TLS_MASTER_SECRET_LEN);
		CHECK(strcmp(s->server_name, NAME) == 0);
		CHECK_EQ(s->has_peer, with_client_cert && verified);
		CHECK_EQ(s->created, now);
		CHECK_EQ(s->lifetime, period);
		if (with_client_cert && verified) {
			CHECK_MEM(s->peer_spki, spki, 32);
			CHECK(strcmp(s->peer_subject, "CN=client") == 0);
		}
		tls_session_unref(s);
	}
	pair_free(&p);

	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* No ticket keys: an empty ticket (RFC 5077 §3.3), which the client takes
 * as "no ticket this time". */
static void test_ticket_empty(void)
{
	tls_config *scfg = server_cfg(TLS_KEY_EC_P256, TLS_VERIFY_NONE),
		   *ccfg = client_cfg(TLS_KEY_NONE);
	pair p;
	uint8_t body[BODY_MAX];
	static const uint8_t empty[] = {0, 0, 0, 0, 0, 0};

	tls_config_set_tickets(scfg, false);
	CHECK(scfg->ticket_keys == NULL);
	pair_new(&p, ccfg, scfg, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	size_t len = run_writer(p.srv, tls_hs_new_session_ticket_write, body);
	CHECK_EQ(len, 6);
	CHECK_MEM(body, empty, 6);
	CHECK_EQ(run_reader(p.cli, tls_hs_new_session_ticket_read, body, len), 0);
	CHECK(p.cli->hs->new_ticket == NULL);
	CHECK_EQ(p.cli->hs->new_ticket_len, 0);
	pair_free(&p);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

int main(void)
{
	if (sodium_init() < 0 || testpki_ca_new(&ca, TLS_KEY_EC_P256, "msgs test CA") < 0)
		return 1;
	ca_pem = testpki_ca_pem(&ca);
	if (ca_pem == NULL)
		return 1;

	test_server_certificate(TLS_KEY_EC_P256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	test_server_certificate(TLS_KEY_EC_P384, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
	test_server_certificate(TLS_KEY_ED25519, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
	test_server_certificate(TLS_KEY_RSA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
	test_certificate_malformed();

	test_client_auth(TLS_KEY_EC_P256);
	test_client_auth(TLS_KEY_EC_P384);
	test_client_auth(TLS_KEY_ED25519);
	test_client_auth(TLS_KEY_RSA);
	test_client_no_cert();
	test_certificate_request_malformed();

	test_ecdhe(TLS_KEY_EC_P256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_GROUP_X25519);
	test_ecdhe(TLS_KEY_EC_P384, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_GROUP_SECP384R1);
	test_ecdhe(TLS_KEY_ED25519, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_GROUP_SECP256R1);
	test_ecdhe(TLS_KEY_RSA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_GROUP_X25519);
	test_ecdhe(TLS_KEY_RSA, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, TLS_GROUP_SECP256R1);
	test_ske_group_not_offered();
	test_rsa_kx();

	test_server_hello_done();
	test_ticket(false, false);
	test_ticket(true, true);
	test_ticket(true, false);
	test_ticket_empty();

	free(ca_pem);
	testpki_ca_free(&ca);
	return check_exit("engine/messages");
}
