#include "testpair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/* Queued ciphertext per direction that the receiver could not take yet. */
struct lane {
	uint8_t buf[1 << 18];
	size_t len;
};

static bool move(tls_conn *from, tls_conn *to, struct lane *q, bool to_server, testpair_filter f,
		 void *arg)
{
	bool progress = false;
	size_t n;
	const uint8_t *p;
	while ((p = tls_conn_sendbuf(from, &n)) != NULL && q->len + n <= sizeof q->buf) {
		memcpy(q->buf + q->len, p, n);
		size_t keep = f ? f(arg, to_server, q->buf + q->len, n) : n;
		q->len += keep;
		tls_conn_send_done(from, n);
		progress = true;
	}
	while (q->len > 0) {
		size_t room;
		uint8_t *dst = tls_conn_recvbuf(to, &room);
		if (!dst || room == 0)
			break;
		size_t k = q->len < room ? q->len : room;
		memcpy(dst, q->buf, k);
		memmove(q->buf, q->buf + k, q->len - k);
		q->len -= k;
		tls_conn_recv_done(to, k);
		progress = true;
	}
	return progress;
}

static struct lane lanes[2];

void testpair_pump(tls_conn *cli, tls_conn *srv, testpair_filter f, void *arg)
{
	for (int round = 0; round < 1000; round++) {
		bool a = move(cli, srv, &lanes[0], true, f, arg);
		bool b = move(srv, cli, &lanes[1], false, f, arg);
		if (!a && !b)
			break;
	}
}

static void lanes_reset(void)
{
	lanes[0].len = lanes[1].len = 0;
}

bool testpair_handshake(tls_conn *cli, tls_conn *srv)
{
	lanes_reset();
	testpair_pump(cli, srv, NULL, NULL);
	unsigned a = tls_conn_state(cli), b = tls_conn_state(srv);
	return (a & TLS_ST_ESTABLISHED) && (b & TLS_ST_ESTABLISHED) && !(a & TLS_ST_FAILED) &&
	       !(b & TLS_ST_FAILED);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 31 + (i >> 8));
}

bool testpair_transfer(tls_conn *from, tls_conn *to, tls_conn *cli, tls_conn *srv, size_t n)
{
	static uint8_t chunk[65536];
	size_t sent = 0, got = 0;
	bool ok = true;
	for (int spins = 0; got < n && spins < 1000000; spins++) {
		if (sent < n) {
			size_t k = n - sent < sizeof chunk ? n - sent : sizeof chunk;
			for (size_t i = 0; i < k; i++)
				chunk[i] = pattern(sent + i);
			sent += tls_conn_write(from, chunk, k);
		}
		testpair_pump(cli, srv, NULL, NULL);
		size_t k;
		uint8_t in[20000];
		while ((k = tls_conn_read(to, in, sizeof in)) > 0) {
			for (size_t i = 0; i < k; i++)
				if (in[i] != pattern(got + i))
					ok = false;
			got += k;
		}
		if ((tls_conn_state(from) | tls_conn_state(to)) & TLS_ST_FAILED)
			return false;
	}
	return ok && got == n;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "test setup failed: %s\n", what);
		abort();
	}
}

static const char *const key_names[] = {"none", "rsa", "p256", "p384", "ed25519"};

const testpair_pki *testpair_pki_get(void)
{
	static testpair_pki pki;
	static bool made;
	if (made)
		return &pki;
	must(testpki_ca_new(&pki.ca, TLS_KEY_EC_P256, "tlshim test CA") == 0, "CA");
	must(testpki_ca_new(&pki.other_ca, TLS_KEY_EC_P256, "some other CA") == 0, "other CA");
	pki.ca_pem = testpki_ca_pem(&pki.ca);
	pki.other_ca_pem = testpki_ca_pem(&pki.other_ca);
	for (int t = TLS_KEY_RSA; t <= TLS_KEY_ED25519; t++) {
		char cn[64];
		snprintf(cn, sizeof cn, "server %s", key_names[t]);
		testpki_leaf_opts o = {
			.key_type = t, .cn = cn, .dns = "server.test", .ip = "127.0.0.1"};
		must(testpki_issue(&pki.ca, &o, &pki.srv_cert[t], &pki.srv_key[t]) == 0, cn);
		snprintf(cn, sizeof cn, "client %s", key_names[t]);
		testpki_leaf_opts oc = {.key_type = t, .cn = cn, .client = true};
		must(testpki_issue(&pki.ca, &oc, &pki.cli_cert[t], &pki.cli_key[t]) == 0, cn);
	}
	testpki_leaf_opts u = {
		.key_type = TLS_KEY_EC_P256, .cn = "untrusted", .dns = "server.test"};
	must(testpki_issue(&pki.other_ca, &u, &pki.untrusted_cert, &pki.untrusted_key) == 0,
	     "untrusted leaf");
	testpki_leaf_opts e = {.key_type = TLS_KEY_EC_P256,
			       .cn = "expired",
			       .dns = "server.test",
			       .expired = true};
	must(testpki_issue(&pki.ca, &e, &pki.expired_cert, &pki.expired_key) == 0, "expired");
	made = true;
	return &pki;
}

tls_config *testpair_server_config(int key_type)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	char err[256];
	must(cfg != NULL, "server config");
	must(tls_config_set_chain_pem(cfg, pki->srv_cert[key_type], strlen(pki->srv_cert[key_type]),
				      err, sizeof err) == 0,
	     err);
	must(tls_config_set_key_pem(cfg, pki->srv_key[key_type], strlen(pki->srv_key[key_type]),
				    err, sizeof err) == 0,
	     err);
	/* Let every suite the key can serve be chosen, RSA key transport too. */
	const char *all =
		key_type == TLS_KEY_RSA
			? "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
			  "ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256:AES256-GCM-SHA384"
			: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
			  "ECDHE-ECDSA-CHACHA20-POLY1305";
	must(tls_config_set_ciphers(cfg, all, err, sizeof err) == 0, err);
	must(tls_config_check(cfg, err, sizeof err) == 0, err);
	return cfg;
}

tls_config *testpair_client_config(void)
{
	const testpair_pki *pki = testpair_pki_get();
	tls_config *cfg = tls_config_new(TLS_ROLE_CLIENT);
	char err[256];
	must(cfg != NULL, "client config");
	must(tls_config_set_ca_pem(cfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0,
	     err);
	return cfg;
}

uint64_t testpair_fixed_clock(void *arg)
{
	return *(uint64_t *)arg;
}
