/*
 * Every suite x group x server key type, client engine <-> server engine in
 * memory: the handshake completes, both sides agree on what was negotiated,
 * and data crosses intact both ways.
 */
#include <string.h>

#include "check.h"
#include "suites.h"
#include "testpair.h"

static void one(int key_type, const tls_suite *s, const tls_group *g)
{
	tls_config *scfg = testpair_server_config(key_type);
	tls_config *ccfg = testpair_client_config();
	char err[256];
	CHECK(tls_config_set_ciphers(ccfg, s->name, err, sizeof err) == 0);
	if (g)
		CHECK(tls_config_set_groups(ccfg, g->name, err, sizeof err) == 0);
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	bool ok = testpair_handshake(cli, srv);
	CHECK(ok);
	if (!ok) {
		const char *r1 = "", *r2 = "";
		tls_conn_error(cli, NULL, NULL, &r1);
		tls_conn_error(srv, NULL, NULL, &r2);
		fprintf(stderr, "  %s key=%d group=%s: client: %s / server: %s\n", s->name,
			key_type, g ? g->name : "-", r1, r2);
	} else {
		tls_info ci, si;
		CHECK(tls_conn_info(cli, &ci) == 0);
		CHECK(tls_conn_info(srv, &si) == 0);
		CHECK_EQ(ci.suite, s->id);
		CHECK_EQ(si.suite, s->id);
		CHECK_EQ(ci.version, 0x0303);
		CHECK(!ci.resumed && !si.resumed);
		CHECK(ci.ems && si.ems);
		CHECK(ci.peer_cert && ci.peer_verified);
		CHECK(!si.peer_cert);
		CHECK(strstr(ci.peer_subject, "server") != NULL);
		if (g) {
			CHECK_EQ(ci.group, g->id);
			CHECK_EQ(si.group, g->id);
		} else {
			CHECK_EQ(ci.group, 0);
		}
		CHECK(testpair_transfer(cli, srv, cli, srv, 100000));
		CHECK(testpair_transfer(srv, cli, cli, srv, 70000));
	}
	tls_conn_free(cli);
	tls_conn_free(srv);
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
}

int main(void)
{
	static const uint16_t suites[] = {0xc02b, 0xc02c, 0xcca9, 0xc02f,
					  0xc030, 0xcca8, 0x009c, 0x009d};
	static const uint16_t groups[] = {29, 23, 24};
	int combos = 0;
	for (int key = TLS_KEY_RSA; key <= TLS_KEY_ED25519; key++) {
		for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
			const tls_suite *s = tls_suite_by_id(suites[i]);
			CHECK(s != NULL);
			if (!s || (s->auth == TLS_AUTH_RSA) != (key == TLS_KEY_RSA))
				continue;
			if (s->kx == TLS_KX_RSA) {
				one(key, s, NULL);
				combos++;
				continue;
			}
			for (size_t j = 0; j < sizeof groups / sizeof groups[0]; j++) {
				one(key, s, tls_group_by_id(groups[j]));
				combos++;
			}
		}
	}
	/* 3 ECDSA suites x 3 groups x 3 EC key types + 3 RSA suites x 3 groups + 2 RSA kx */
	CHECK_EQ(combos, 27 + 9 + 2);
	return check_exit("engine/matrix");
}
