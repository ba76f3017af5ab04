/*
 * Peer authentication: wrong CA, wrong name, expired, pins, IP SANs,
 * verify_peer = none, and client certificates (mutual TLS) in every mode.
 * Each failure must surface as the right error class and alert on the
 * right side.
 */
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <sodium.h>

#include "cert.h"
#include "check.h"
#include "suites.h"
#include "testpair.h"

static char err[256];

static tls_config *server_with(const char *cert, const char *key)
{
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	CHECK(tls_config_set_chain_pem(cfg, cert, strlen(cert), err, sizeof err) == 0);
	CHECK(tls_config_set_key_pem(cfg, key, strlen(key), err, sizeof err) == 0);
	return cfg;
}

/* Run a handshake; return the client's error class and fill the alerts. */
static int run(tls_config *ccfg, tls_config *scfg, const char *name, const char *ip,
	       uint8_t *cli_alert, int *srv_err, uint8_t *srv_alert)
{
	tls_conn *cli = tls_conn_new(ccfg, name, ip);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	testpair_handshake(cli, srv);
	bool from_peer;
	int e = tls_conn_error(cli, cli_alert, &from_peer, NULL);
	int se = tls_conn_error(srv, srv_alert, NULL, NULL);
	if (srv_err)
		*srv_err = se;
	if (e == TLS_ERR_NONE)
		CHECK(tls_conn_state(cli) & TLS_ST_ESTABLISHED);
	tls_conn_free(cli);
	tls_conn_free(srv);
	return e;
}

static void server_auth(void)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *good = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *ccfg = testpair_client_config();
	uint8_t ca, sa;
	int se;

	CHECK_EQ(run(ccfg, good, "server.test", NULL, &ca, &se, &sa), TLS_ERR_NONE);
	/* Wrong name: we reject, and tell the server why with bad_certificate. */
	CHECK_EQ(run(ccfg, good, "other.test", NULL, &ca, &se, &sa), TLS_ERR_AUTH);
	CHECK_EQ(ca, 42);
	CHECK_EQ(se, TLS_ERR_PEER_ALERT);
	CHECK_EQ(sa, 42);
	/* IP SAN: right and wrong address. */
	CHECK_EQ(run(ccfg, good, NULL, "127.0.0.1", &ca, &se, &sa), TLS_ERR_NONE);
	CHECK_EQ(run(ccfg, good, NULL, "127.0.0.2", &ca, &se, &sa), TLS_ERR_AUTH);

	/* Untrusted issuer -> unknown_ca. */
	tls_config *untrusted = server_with(pki->untrusted_cert, pki->untrusted_key);
	CHECK_EQ(run(ccfg, untrusted, "server.test", NULL, &ca, &se, &sa), TLS_ERR_AUTH);
	CHECK_EQ(ca, 48);
	CHECK_EQ(sa, 48);
	/* Expired -> certificate_expired. */
	tls_config *expired = server_with(pki->expired_cert, pki->expired_key);
	CHECK_EQ(run(ccfg, expired, "server.test", NULL, &ca, &se, &sa), TLS_ERR_AUTH);
	CHECK_EQ(ca, 45);

	/* verify_peer = none accepts anything, but says it did not verify. */
	tls_config *none = tls_config_new(TLS_ROLE_CLIENT);
	tls_config_set_verify(none, TLS_VERIFY_NONE);
	tls_conn *cli = tls_conn_new(none, "whatever", NULL);
	tls_conn *srv = tls_conn_new(untrusted, NULL, NULL);
	CHECK(testpair_handshake(cli, srv));
	tls_info info;
	CHECK(tls_conn_info(cli, &info) == 0 && info.peer_cert && !info.peer_verified);
	tls_conn_free(cli);
	tls_conn_free(srv);

	/* Pins: the right pin alone authenticates (no CA); a wrong pin fails
	 * even with a trusted CA. */
	X509 *leaf = NULL;
	{
		BIO *b = BIO_new_mem_buf(pki->untrusted_cert, -1);
		leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	uint8_t spki[32];
	CHECK(tls_spki_sha256(leaf, spki) == 0);
	X509_free(leaf);
	char b64[64], spec[80];
	sodium_bin2base64(b64, sizeof b64, spki, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(spec, sizeof spec, "sha256//%s", b64);
	tls_config *pinned = tls_config_new(TLS_ROLE_CLIENT);
	CHECK(tls_config_set_pins(pinned, spec, err, sizeof err) == 0);
	CHECK(tls_config_check(pinned, err, sizeof err) == 0);
	CHECK_EQ(run(pinned, untrusted, "server.test", NULL, &ca, &se, &sa), TLS_ERR_NONE);
	CHECK_EQ(run(pinned, good, "server.test", NULL, &ca, &se, &sa), TLS_ERR_AUTH);
	CHECK_EQ(ca, 42);
	tls_config *both = testpair_client_config();
	CHECK(tls_config_set_pins(both, spec, err, sizeof err) == 0);
	CHECK_EQ(run(both, good, "server.test", NULL, &ca, &se, &sa), TLS_ERR_AUTH);

	tls_config_unref(both);
	tls_config_unref(pinned);
	tls_config_unref(none);
	tls_config_unref(expired);
	tls_config_unref(untrusted);
	tls_config_unref(ccfg);
	tls_config_unref(good);
}

static void client_auth(void)
{
	const testpair_pki *pki = testpair_pki_get();
	for (int skey = TLS_KEY_RSA; skey <= TLS_KEY_ED25519; skey += 3) {
		for (int ckey = TLS_KEY_RSA; ckey <= TLS_KEY_ED25519; ckey++) {
			tls_config *scfg = testpair_server_config(skey);
			CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err,
						    sizeof err) == 0);
			tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
			CHECK(tls_config_check(scfg, err, sizeof err) == 0);
			tls_config *ccfg = testpair_client_config();
			CHECK(tls_config_set_chain_pem(ccfg, pki->cli_cert[ckey],
						       strlen(pki->cli_cert[ckey]), err,
						       sizeof err) == 0);
			CHECK(tls_config_set_key_pem(ccfg, pki->cli_key[ckey],
						     strlen(pki->cli_key[ckey]), err,
						     sizeof err) == 0);
			tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
			tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
			bool ok = testpair_handshake(cli, srv);
			CHECK(ok);
			tls_info si;
			if (ok && tls_conn_info(srv, &si) == 0) {
				CHECK(si.peer_cert && si.peer_verified);
				CHECK(strstr(si.peer_subject, "client") != NULL);
				CHECK(si.sigscheme != 0);
				CHECK(testpair_transfer(cli, srv, cli, srv, 5000));
			} else {
				const char *r = "";
				tls_conn_error(srv, NULL, NULL, &r);
				fprintf(stderr, "  mTLS skey=%d ckey=%d: %s\n", skey, ckey, r);
			}
			tls_conn_free(cli);
			tls_conn_free(srv);
			tls_config_unref(ccfg);
			tls_config_unref(scfg);
		}
	}

	/* require without a client certificate: the server refuses (AUTH) and
	 * the client hears handshake_failure. optional: accepted, unverified. */
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0);
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	tls_config *ccfg = testpair_client_config();
	uint8_t ca, sa;
	int se;
	CHECK_EQ(run(ccfg, scfg, "server.test", NULL, &ca, &se, &sa), TLS_ERR_PEER_ALERT);
	CHECK_EQ(se, TLS_ERR_AUTH);
	CHECK_EQ(sa, 40);
	tls_config_set_verify(scfg, TLS_VERIFY_OPTIONAL);
	CHECK_EQ(run(ccfg, scfg, "server.test", NULL, &ca, &se, &sa), TLS_ERR_NONE);
	CHECK_EQ(se, TLS_ERR_NONE);

	/* A client certificate from an untrusted CA is refused with unknown_ca. */
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	tls_config *bad = testpair_client_config();
	CHECK(tls_config_set_chain_pem(bad, pki->untrusted_cert, strlen(pki->untrusted_cert), err,
				       sizeof err) == 0);
	CHECK(tls_config_set_key_pem(bad, pki->untrusted_key, strlen(pki->untrusted_key), err,
				     sizeof err) == 0);
	CHECK_EQ(run(bad, scfg, "server.test", NULL, &ca, &se, &sa), TLS_ERR_PEER_ALERT);
	CHECK_EQ(se, TLS_ERR_AUTH);
	CHECK_EQ(sa, 48);
	tls_config_unref(bad);
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
}

/* After a refused handshake the peer's certificate is still there to
 * explain the refusal: its subjectAltName entries and validity. */
static void refused_peer_facts(void)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *good = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *expired = server_with(pki->expired_cert, pki->expired_key);
	tls_config *ccfg = testpair_client_config();
	char names[256];
	int64_t nb = 0, na = 0, now = (int64_t)time(NULL);

	/* Nothing before the peer's Certificate. */
	tls_conn *cli = tls_conn_new(ccfg, "other.test", NULL);
	CHECK_EQ(tls_conn_peer_names(cli, names, sizeof names), 0);
	CHECK_EQ(names[0], 0);
	CHECK_EQ(tls_conn_peer_validity(cli, &nb, &na), -1);
	tls_conn *srv = tls_conn_new(good, NULL, NULL);
	CHECK(!testpair_handshake(cli, srv));
	CHECK_EQ(tls_conn_error(cli, NULL, NULL, NULL), TLS_ERR_AUTH);
	/* DNS names first, then addresses. */
	CHECK_EQ(tls_conn_peer_names(cli, names, sizeof names), strlen("server.test,127.0.0.1"));
	CHECK(strcmp(names, "server.test,127.0.0.1") == 0);
	CHECK_EQ(tls_conn_peer_validity(cli, &nb, &na), 0);
	CHECK(nb <= now && now < na);
	/* Cut short: still terminated, ends in "...", never overflows. */
	char small[16];
	memset(small, 'x', sizeof small);
	size_t n = tls_conn_peer_names(cli, small, 14);
	CHECK(n < 14 && strlen(small) == n && n >= 3 && strcmp(small + n - 3, "...") == 0);
	CHECK_EQ(small[14], 'x');
	CHECK_EQ(tls_conn_peer_names(cli, small, 0), 0);
	/* The server was refused by an alert and saw no client certificate. */
	CHECK_EQ(tls_conn_peer_names(srv, names, sizeof names), 0);
	tls_conn_free(cli);
	tls_conn_free(srv);

	/* Expired: the validity says so. */
	cli = tls_conn_new(ccfg, "server.test", NULL);
	srv = tls_conn_new(expired, NULL, NULL);
	CHECK(!testpair_handshake(cli, srv));
	CHECK_EQ(tls_conn_peer_validity(cli, &nb, &na), 0);
	CHECK(na < now && nb < na);
	tls_conn_free(cli);
	tls_conn_free(srv);

	/* After a successful handshake the handshake state is gone. */
	cli = tls_conn_new(ccfg, "server.test", NULL);
	srv = tls_conn_new(good, NULL, NULL);
	CHECK(testpair_handshake(cli, srv));
	CHECK_EQ(tls_conn_peer_names(cli, names, sizeof names), 0);
	CHECK_EQ(tls_conn_peer_validity(cli, &nb, &na), -1);
	tls_conn_free(cli);
	tls_conn_free(srv);

	tls_config_unref(ccfg);
	tls_config_unref(expired);
	tls_config_unref(good);
}

int main(void)
{
	server_auth();
	client_auth();
	refused_peer_facts();
	return check_exit("engine/auth");
}
