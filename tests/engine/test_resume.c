/*
 * Abbreviated handshakes with session tickets (RFC 5077): resumption works,
 * and a ticket never resumes what it was not made for (other server key,
 * other name, expired, tampered, client certificate now required).
 *
 * Client sessions are bound to the config that made them: one made under
 * verify_peer = none, another CA or other pins is never offered; the
 * server's lifetime hint is honoured (RFC 5077 §3.3); the stored peer SPKI
 * must still match the pins; no session outlives the peer certificate's
 * notAfter, on the client (its session) nor on the server (the ticket of
 * a client certificate).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <sodium.h>

#include "check.h"
#include "internal.h"
#include "session.h"
#include "suites.h"
#include "testpair.h"

static uint64_t server_now = 1800000000;

static tls_session *first(tls_config *ccfg, tls_config *scfg)
{
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(testpair_handshake(cli, srv));
	tls_session *s = tls_conn_get_session(cli);
	tls_conn_free(cli);
	tls_conn_free(srv);
	return s;
}

/* Returns 1 resumed, 0 full handshake, -1 failed. */
static int again(tls_config *ccfg, tls_config *scfg, tls_session *s, const char *name)
{
	tls_conn *cli = tls_conn_new(ccfg, name, NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	tls_conn_set_session(cli, s);
	int r = -1;
	if (testpair_handshake(cli, srv)) {
		tls_info ci, si;
		tls_conn_info(cli, &ci);
		tls_conn_info(srv, &si);
		CHECK_EQ(ci.resumed, si.resumed);
		CHECK_EQ(ci.suite, si.suite);
		CHECK(testpair_transfer(cli, srv, cli, srv, 20000));
		CHECK(testpair_transfer(srv, cli, cli, srv, 20000));
		r = ci.resumed;
	}
	tls_conn_free(cli);
	tls_conn_free(srv);
	return r;
}

/* offered(ccfg, s, name): whether a client of ${ccfg} offers ${s} in its
 * ClientHello (the client's own decision, whatever a server would say). */
static bool offered(tls_config *ccfg, tls_session *s, const char *name)
{
	tls_conn *cli = tls_conn_new(ccfg, name, NULL);
	size_t len = 0;
	tls_conn_set_session(cli, s);
	CHECK(tls_conn_sendbuf(cli, &len) != NULL && len > 0);
	bool r = cli->hs != NULL && cli->hs->resume == s;
	tls_conn_free(cli);
	return r;
}

/* not_after_of(pem): the certificate's notAfter in seconds. */
static uint64_t not_after_of(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	struct tm tm;
	CHECK(x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1);
	X509_free(x);
	BIO_free(b);
	return (uint64_t)timegm(&tm);
}

static uint64_t client_now;

/* Item 8 of issue 8: what a client session is bound to. */
static void bound_sessions(void)
{
	const testpair_pki *pki = testpair_pki_get();
	char err[256];
	client_now = (uint64_t)time(NULL);
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *require = testpair_client_config();
	tls_config_set_clock(require, testpair_fixed_clock, &client_now);

	/* verify_peer = none (same CA loaded): its session is never offered
	 * by a config that requires verification. */
	tls_config *none = testpair_client_config();
	tls_config_set_verify(none, TLS_VERIFY_NONE);
	tls_config_set_clock(none, testpair_fixed_clock, &client_now);
	tls_session *s = first(none, scfg);
	CHECK(s != NULL);
	CHECK(offered(none, s, "server.test"));
	CHECK(!offered(require, s, "server.test"));
	CHECK_EQ(again(require, scfg, s, "server.test"), 0);
	tls_session_unref(s);

	/* Another CA bundle (the same CA plus another): not offered. */
	tls_config *other_ca = tls_config_new(TLS_ROLE_CLIENT);
	size_t n = strlen(pki->ca_pem) + strlen(pki->other_ca_pem) + 1;
	char *both = malloc(n);
	snprintf(both, n, "%s%s", pki->ca_pem, pki->other_ca_pem);
	CHECK(tls_config_set_ca_pem(other_ca, both, strlen(both), err, sizeof err) == 0);
	free(both);
	tls_config_set_clock(other_ca, testpair_fixed_clock, &client_now);
	s = first(require, scfg);
	CHECK(s != NULL);
	CHECK(offered(require, s, "server.test"));
	CHECK(!offered(other_ca, s, "server.test"));
	/* The stored identity: peer SPKI and the certificate's notAfter. */
	CHECK(s->has_peer);
	CHECK_EQ(s->not_after, not_after_of(pki->srv_cert[TLS_KEY_EC_P256]));
	CHECK_EQ(s->lifetime, 3600); /* the server's hint */

	/* The lifetime hint (RFC 5077 §3.3): at 3600 s the client stops
	 * offering it, though this server would still take the ticket. */
	client_now += 3599;
	CHECK(offered(require, s, "server.test"));
	client_now += 1;
	CHECK(!offered(require, s, "server.test"));
	client_now -= 3600;
	/* A hint of 0 (unspecified): two hours; a huge one: seven days. */
	uint32_t hint = s->lifetime;
	s->lifetime = 0;
	client_now += 7199;
	CHECK(offered(require, s, "server.test"));
	client_now += 1;
	CHECK(!offered(require, s, "server.test"));
	client_now -= 7200;
	s->lifetime = UINT32_MAX;
	client_now += 7 * 24 * 3600;
	CHECK(!offered(require, s, "server.test"));
	client_now -= 7 * 24 * 3600;

	/* No session outlives the server certificate: with a hint that
	 * would allow it, the session stops at notAfter. */
	uint64_t saved_now = client_now;
	s->created = s->not_after - 100;
	client_now = s->not_after;
	CHECK(offered(require, s, "server.test"));
	client_now = s->not_after + 1;
	CHECK(!offered(require, s, "server.test"));
	client_now = saved_now;
	s->created = saved_now;
	s->lifetime = hint;
	CHECK(offered(require, s, "server.test"));

	/* Pins: a config pinning the server's key resumes its own session;
	 * a session whose stored SPKI is not pinned is never offered. */
	uint8_t spki[32];
	BIO *b = BIO_new_mem_buf(pki->srv_cert[TLS_KEY_EC_P256], -1);
	X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	CHECK(leaf != NULL && tls_spki_sha256(leaf, spki) == 0);
	X509_free(leaf);
	char pin[128], b64[64];
	sodium_bin2base64(b64, sizeof b64, spki, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(pin, sizeof pin, "sha256//%s", b64);
	tls_config *pinned = testpair_client_config();
	CHECK(tls_config_set_pins(pinned, pin, err, sizeof err) == 0);
	tls_config_set_clock(pinned, testpair_fixed_clock, &client_now);
	CHECK(!offered(pinned, s, "server.test")); /* made without the pin */
	tls_session_unref(s);
	s = first(pinned, scfg);
	CHECK(s != NULL);
	CHECK_MEM(s->peer_spki, spki, 32);
	CHECK(offered(pinned, s, "server.test"));
	CHECK_EQ(again(pinned, scfg, s, "server.test"), 1);
	s->peer_spki[0] ^= 1;
	CHECK(!offered(pinned, s, "server.test"));
	tls_session_unref(s);

	/* By IP address (no server name): only to the same address. */
	tls_conn *cli = tls_conn_new(require, NULL, "127.0.0.1");
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(testpair_handshake(cli, srv));
	s = tls_conn_get_session(cli);
	tls_conn_free(cli);
	tls_conn_free(srv);
	CHECK(s != NULL);
	for (int i = 0; i < 2; i++) {
		cli = tls_conn_new(require, NULL, i == 0 ? "127.0.0.1" : "127.0.0.2");
		size_t len;
		tls_conn_set_session(cli, s);
		CHECK(tls_conn_sendbuf(cli, &len) != NULL);
		CHECK_EQ(cli->hs->resume == s, i == 0);
		tls_conn_free(cli);
	}
	tls_session_unref(s);

	tls_config_unref(pinned);
	tls_config_unref(other_ca);
	tls_config_unref(none);
	tls_config_unref(require);
	tls_config_unref(scfg);
}

/* The server's ticket for a client certificate carries its notAfter and
 * never outlives it. */
static void client_cert_tickets(void)
{
	const testpair_pki *pki = testpair_pki_get();
	char err[256];
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_config_set_clock(scfg, testpair_fixed_clock, &server_now);
	CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0);
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	tls_config *ccfg = testpair_client_config();
	const char *cc = pki->cli_cert[TLS_KEY_EC_P256], *ck = pki->cli_key[TLS_KEY_EC_P256];
	CHECK(tls_config_set_chain_pem(ccfg, cc, strlen(cc), err, sizeof err) == 0);
	CHECK(tls_config_set_key_pem(ccfg, ck, strlen(ck), err, sizeof err) == 0);

	uint64_t saved = server_now;
	server_now = (uint64_t)time(NULL); /* the certificate is valid now */
	tls_config_set_clock(scfg, testpair_fixed_clock, &server_now); /* new ring */
	tls_session *s = first(ccfg, scfg);
	CHECK(s != NULL);
	CHECK_EQ(again(ccfg, scfg, s, "server.test"), 1);
	tls_session *t = tls_ticket_open(scfg->ticket_keys, server_now, s->ticket, s->ticket_len);
	CHECK(t != NULL);
	if (t) {
		CHECK(t->has_peer);
		CHECK_EQ(t->not_after, not_after_of(cc));
		tls_session_unref(t);
	}
	tls_session_unref(s);
	server_now = saved;
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
}

int main(void)
{
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_config_set_clock(scfg, testpair_fixed_clock, &server_now);
	tls_config *ccfg = testpair_client_config();

	tls_session *s = first(ccfg, scfg);
	CHECK(s != NULL && s->ticket_len > 0);
	CHECK_EQ(again(ccfg, scfg, s, "server.test"), 1);
	CHECK_EQ(again(ccfg, scfg, s, "server.test"), 1); /* tickets are reusable */
	/* Another name: not offered, and the certificate does not match it. */
	CHECK_EQ(again(ccfg, scfg, s, "other.test"), -1);
	/* A server with other ticket keys: full handshake, still succeeds. */
	tls_config *other = testpair_server_config(TLS_KEY_EC_P256);
	CHECK_EQ(again(ccfg, other, s, "server.test"), 0);
	/* Expired: two rotations later the key is gone. */
	server_now += 3 * 3600;
	CHECK_EQ(again(ccfg, scfg, s, "server.test"), 0);
	server_now -= 3 * 3600;
	/* Tampered ticket: full handshake. */
	s->ticket[s->ticket_len / 2] ^= 1;
	CHECK_EQ(again(ccfg, scfg, s, "server.test"), 0);
	tls_session_unref(s);

	/* Tickets off on the server: no session to resume. */
	tls_config *noticket = testpair_server_config(TLS_KEY_EC_P256);
	tls_config_set_tickets(noticket, false);
	CHECK(first(ccfg, noticket) == NULL);

	/* RSA key transport and ChaCha20 resume too. */
	char err[256];
	tls_config *rsa = testpair_server_config(TLS_KEY_RSA);
	tls_config *crsa = testpair_client_config();
	CHECK(tls_config_set_ciphers(crsa, "AES256-GCM-SHA384", err, sizeof err) == 0);
	s = first(crsa, rsa);
	CHECK(s != NULL);
	CHECK_EQ(again(crsa, rsa, s, "server.test"), 1);
	tls_session_unref(s);
	CHECK(tls_config_set_ciphers(crsa, "ECDHE-RSA-CHACHA20-POLY1305", err, sizeof err) == 0);
	s = first(crsa, rsa);
	CHECK_EQ(again(crsa, rsa, s, "server.test"), 1);
	tls_session_unref(s);

	/* A session made without a client certificate does not resume on a
	 * server that now requires one. */
	const testpair_pki *pki = testpair_pki_get();
	s = first(ccfg, scfg);
	CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0);
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	CHECK_EQ(again(ccfg, scfg, s, "server.test"), -1);
	tls_session_unref(s);

	tls_config_unref(crsa);
	tls_config_unref(rsa);
	tls_config_unref(noticket);
	tls_config_unref(other);
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
	bound_sessions();
	client_cert_tickets();
	return check_exit("engine/resume");
}
