/*
 * Abbreviated handshakes with session tickets (RFC 5077): resumption works,
 * and a ticket never resumes what it was not made for (other server key,
 * other name, expired, tampered, client certificate now required).
 */
#include <string.h>

#include "check.h"
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
	return check_exit("engine/resume");
}
