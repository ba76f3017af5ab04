/*
 * test_reasons.c: every failure the shim's hints tell apart reaches the
 * caller as its enum tls_reason (tls_conn_reason), on the side that
 * found it, whatever the sentence says (issue 13: the shim switches on
 * the code, so rewording a message can never change a hint). Each case
 * also pins the err class the code refines.
 */
#include <string.h>

#include <openssl/pem.h>

#include "cert.h"
#include "check.h"
#include "consts.h"
#include "suites.h"
#include "testpair.h"
#include "testpki.h"

static char err[256];

/* One side of a failed handshake. */
typedef struct side {
	int err;
	enum tls_reason why;
	uint8_t alert;
} side;

typedef struct result {
	side cli, srv;
} result;

static side side_of(const tls_conn *c)
{
	side s;
	s.err = tls_conn_error(c, &s.alert, NULL, NULL);
	s.why = tls_conn_reason(c);
	return s;
}

static result run_filtered(tls_config *ccfg, tls_config *scfg, const char *name, testpair_filter f,
			   void *arg)
{
	tls_conn *cli = tls_conn_new(ccfg, name, NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(cli && srv);
	/* Before any failure there is no reason. */
	CHECK_EQ(tls_conn_reason(cli), TLS_R_OTHER);
	testpair_pump(cli, srv, f, arg);
	result r = {side_of(cli), side_of(srv)};
	tls_conn_free(cli);
	tls_conn_free(srv);
	return r;
}

static result run(tls_config *ccfg, tls_config *scfg, const char *name)
{
	return run_filtered(ccfg, scfg, name, NULL, NULL);
}

static tls_config *server_with(const char *cert, const char *key)
{
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	CHECK(tls_config_set_chain_pem(cfg, cert, strlen(cert), err, sizeof err) == 0);
	CHECK(tls_config_set_key_pem(cfg, key, strlen(key), err, sizeof err) == 0);
	return cfg;
}

static char *key_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	CHECK(b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

/* The client rejects the server's certificate: chain, name, validity,
 * self-signed, pin. */
static void server_identity(void)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *ccfg = testpair_client_config();
	tls_config *good = testpair_server_config(TLS_KEY_EC_P256);
	result r;

	r = run(ccfg, good, "server.test");
	CHECK_EQ(r.cli.err, TLS_ERR_NONE);
	CHECK_EQ(r.cli.why, TLS_R_OTHER);

	r = run(ccfg, good, "other.test");
	CHECK_EQ(r.cli.err, TLS_ERR_AUTH);
	CHECK_EQ(r.cli.why, TLS_R_CERT_NAME_MISMATCH);
	/* The server only sees our alert: no reason of its own. */
	CHECK_EQ(r.srv.err, TLS_ERR_PEER_ALERT);
	CHECK_EQ(r.srv.why, TLS_R_OTHER);

	tls_config *untrusted = server_with(pki->untrusted_cert, pki->untrusted_key);
	r = run(ccfg, untrusted, "server.test");
	CHECK_EQ(r.cli.err, TLS_ERR_AUTH);
	CHECK_EQ(r.cli.alert, TLS_ALERT_UNKNOWN_CA);
	CHECK_EQ(r.cli.why, TLS_R_CERT_UNTRUSTED);

	tls_config *expired = server_with(pki->expired_cert, pki->expired_key);
	r = run(ccfg, expired, "server.test");
	CHECK_EQ(r.cli.err, TLS_ERR_AUTH);
	CHECK_EQ(r.cli.why, TLS_R_CERT_EXPIRED);

	/* A self-signed leaf (a CA certificate served as one). */
	testpki_ca self;
	CHECK(testpki_ca_new(&self, TLS_KEY_EC_P256, "server.test") == 0);
	char *self_cert = testpki_ca_pem(&self), *self_key = key_pem(self.key);
	tls_config *selfsigned = server_with(self_cert, self_key);
	r = run(ccfg, selfsigned, "server.test");
	CHECK_EQ(r.cli.err, TLS_ERR_AUTH);
	CHECK_EQ(r.cli.alert, TLS_ALERT_UNKNOWN_CA);
	CHECK_EQ(r.cli.why, TLS_R_CERT_SELF_SIGNED);

	/* The chain is good, the pin (of 32 zero bytes) is not. */
	tls_config *pinned = testpair_client_config();
	CHECK(tls_config_set_pins(pinned, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				  err, sizeof err) == 0);
	r = run(pinned, good, "server.test");
	CHECK_EQ(r.cli.err, TLS_ERR_AUTH);
	CHECK_EQ(r.cli.why, TLS_R_PIN_MISMATCH);

	/* A leaf with a key we refuse (RSA below 2048 bits). Our own
	 * configuration refuses to serve it, so the check that a peer's is
	 * refused runs on the verifier the handshake calls. */
	testpki_leaf_opts weak = {.key_type = TLS_KEY_RSA,
				  .rsa_bits = 1024,
				  .cn = "server.test",
				  .dns = "server.test"};
	char *weak_cert, *weak_key, reason[256];
	CHECK(testpki_issue(&pki->ca, &weak, &weak_cert, &weak_key) == 0);
	BIO *bio = BIO_new_mem_buf(weak_cert, -1);
	X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	STACK_OF(X509) *chain = sk_X509_new_null();
	CHECK(leaf && chain && sk_X509_push(chain, leaf) == 1);
	tls_verify_params vp = {.store = NULL, .name = "server.test", .peer_is_server = true};
	enum tls_reason why = TLS_R_OTHER;
	CHECK_EQ(tls_verify_peer(&vp, chain, &why, reason, sizeof reason),
		 TLS_ALERT_UNSUPPORTED_CERTIFICATE);
	CHECK_EQ(why, TLS_R_CERT_KEY_UNACCEPTABLE);
	sk_X509_pop_free(chain, X509_free);
	BIO_free(bio);
	free(weak_cert);
	free(weak_key);

	tls_config_unref(pinned);
	tls_config_unref(selfsigned);
	free(self_cert);
	free(self_key);
	testpki_ca_free(&self);
	tls_config_unref(expired);
	tls_config_unref(untrusted);
	tls_config_unref(good);
	tls_config_unref(ccfg);
}

/* The server requires a client certificate and gets none. */
static void client_identity(void)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *ccfg = testpair_client_config();
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0);
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	result r = run(ccfg, scfg, "server.test");
	CHECK_EQ(r.srv.err, TLS_ERR_AUTH);
	CHECK_EQ(r.srv.why, TLS_R_CLIENT_CERT_REQUIRED);
	CHECK_EQ(r.cli.err, TLS_ERR_PEER_ALERT);
	CHECK_EQ(r.cli.why, TLS_R_OTHER);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* Nothing in common: suite, group, ALPN (the server finds out). */
static void negotiation(void)
{
	tls_config *ccfg = testpair_client_config();
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	result r;

	CHECK(tls_config_set_ciphers(scfg, "ECDHE-ECDSA-AES256-GCM-SHA384", err, sizeof err) == 0);
	CHECK(tls_config_set_ciphers(ccfg, "ECDHE-ECDSA-CHACHA20-POLY1305", err, sizeof err) == 0);
	r = run(ccfg, scfg, "server.test");
	CHECK_EQ(r.srv.err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(r.srv.why, TLS_R_NO_COMMON_SUITE);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);

	ccfg = testpair_client_config();
	scfg = testpair_server_config(TLS_KEY_EC_P256);
	CHECK(tls_config_set_groups(scfg, "x25519", err, sizeof err) == 0);
	CHECK(tls_config_set_groups(ccfg, "secp384r1", err, sizeof err) == 0);
	r = run(ccfg, scfg, "server.test");
	CHECK_EQ(r.srv.err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(r.srv.why, TLS_R_NO_COMMON_GROUP);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);

	ccfg = testpair_client_config();
	scfg = testpair_server_config(TLS_KEY_EC_P256);
	CHECK(tls_config_set_alpn(scfg, "h2", err, sizeof err) == 0);
	CHECK(tls_config_set_alpn(ccfg, "http/1.1", err, sizeof err) == 0);
	r = run(ccfg, scfg, "server.test");
	CHECK_EQ(r.srv.err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(r.srv.why, TLS_R_ALPN_NO_OVERLAP);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

/* The server's first record starts with its ServerHello: record header
 * (5), handshake header (4), then server_version; make it TLS 1.0. */
static size_t old_server_version(void *arg, bool to_server, uint8_t *buf, size_t len)
{
	bool *done = arg;
	if (!to_server && !*done && len > 10 && buf[5] == TLS_HT_SERVER_HELLO) {
		buf[9] = 3;
		buf[10] = 1;
		*done = true;
	}
	return len;
}

/* Flip the last byte of the ServerKeyExchange (its signature's). */
static size_t bad_ske_signature(void *arg, bool to_server, uint8_t *buf, size_t len)
{
	bool *done = arg;
	for (size_t r = 0; !to_server && !*done && r + 5 <= len;) {
		size_t rlen = (size_t)buf[r + 3] << 8 | buf[r + 4];
		if (r + 5 + rlen > len)
			break;
		for (size_t m = r + 5; buf[r] == TLS_CT_HANDSHAKE && m + 4 <= r + 5 + rlen;) {
			size_t mlen =
				(size_t)buf[m + 1] << 16 | (size_t)buf[m + 2] << 8 | buf[m + 3];
			if (buf[m] == TLS_HT_SERVER_KEY_EXCHANGE && m + 4 + mlen <= r + 5 + rlen) {
				buf[m + 4 + mlen - 1] ^= 0x01;
				*done = true;
				break;
			}
			m += 4 + mlen;
		}
		r += 5 + rlen;
	}
	return len;
}

static void signature(void)
{
	tls_config *ccfg = testpair_client_config();
	tls_config *scfg = testpair_server_config(TLS_KEY_ED25519);
	bool done = false;
	result r = run_filtered(ccfg, scfg, "server.test", bad_ske_signature, &done);
	CHECK(done);
	CHECK_EQ(r.cli.err, TLS_ERR_AUTH);
	CHECK_EQ(r.cli.alert, TLS_ALERT_DECRYPT_ERROR);
	CHECK_EQ(r.cli.why, TLS_R_BAD_SIGNATURE);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

static void version(void)
{
	tls_config *ccfg = testpair_client_config();
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	bool done = false;
	result r = run_filtered(ccfg, scfg, "server.test", old_server_version, &done);
	CHECK(done);
	CHECK_EQ(r.cli.err, TLS_ERR_NEGOTIATION);
	CHECK_EQ(r.cli.why, TLS_R_NO_COMMON_VERSION);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
}

static void feed(tls_conn *c, const uint8_t *p, size_t n)
{
	size_t room;
	uint8_t *dst = tls_conn_recvbuf(c, &room);
	CHECK(dst && room >= n);
	memcpy(dst, p, n);
	tls_conn_recv_done(c, n);
}

/* Peers that do not speak TLS: a plaintext client, and a plaintext echo
 * service that sends our own ClientHello back. */
static void not_tls(void)
{
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	feed(srv, (const uint8_t *)get, sizeof get - 1);
	side s = side_of(srv);
	CHECK_EQ(s.err, TLS_ERR_PROTOCOL);
	CHECK_EQ(s.why, TLS_R_PLAINTEXT_PEER);
	tls_conn_free(srv);
	tls_config_unref(scfg);

	tls_config *ccfg = testpair_client_config();
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	size_t n;
	const uint8_t *hello = tls_conn_sendbuf(cli, &n);
	CHECK(hello && n > 0);
	uint8_t copy[4096];
	CHECK(n <= sizeof copy);
	memcpy(copy, hello, n);
	tls_conn_send_done(cli, n);
	feed(cli, copy, n);
	s = side_of(cli);
	CHECK_EQ(s.err, TLS_ERR_PROTOCOL);
	CHECK_EQ(s.why, TLS_R_UNEXPECTED_CLIENT_HELLO);
	tls_conn_free(cli);
	tls_config_unref(ccfg);
}

int main(void)
{
	server_identity();
	client_identity();
	negotiation();
	version();
	signature();
	not_tls();
	return check_exit("test_reasons");
}
