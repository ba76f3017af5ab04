/*
 * Server names that look like addresses (issue 13 item 2): one decision,
 * core/name.h, says whether a name is a DNS name or an IP address, and both
 * the ClientHello's server_name (RFC 6066 §3: no IP literals in HostName)
 * and the certificate check follow it. For every tricky name of the table,
 * a real handshake shows what SNI the server received and which of four
 * certificates the client accepts under that name.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "name.h"
#include "suites.h"
#include "testpair.h"

/* The server certificates, each with other subjectAltName entries. */
enum { V4, NUMERIC, V6, MAPPED, NLEAVES };
static const testpki_leaf_opts leaf_opts[NLEAVES] = {
	[V4] = {.key_type = TLS_KEY_EC_P256, .cn = "v4", .dns = "svc.test", .ip = "1.2.3.4"},
	/* A DNS entry that reads as an address to inet_aton only. */
	[NUMERIC] = {.key_type = TLS_KEY_EC_P256, .cn = "numeric", .dns = "01.2.3.4"},
	[V6] = {.key_type = TLS_KEY_EC_P256, .cn = "v6", .dns = "v6.test", .ip = "::1"},
	[MAPPED] = {.key_type = TLS_KEY_EC_P256, .cn = "mapped", .ip = "::ffff:1.2.3.4"},
};

#define B(x) (1u << (x))

static const struct row {
	const char *name;
	int kind;          /* enum tls_name_kind */
	const char *ref;   /* the reference identity tls_name_parse writes */
	const char *sni;   /* what the server receives ("": no server_name) */
	unsigned accepted; /* the leaves the client accepts under the name */
} rows[] = {
	{"svc.test", TLS_NAME_DNS, "svc.test", "svc.test", B(V4)},
	/* The trailing dot: not part of SNI (RFC 6066 §3), nor of the match. */
	{"svc.test.", TLS_NAME_DNS, "svc.test", "svc.test", B(V4)},
	{"SVC.Test.", TLS_NAME_DNS, "SVC.Test", "SVC.Test", B(V4)},
	{"v6.test", TLS_NAME_DNS, "v6.test", "v6.test", B(V6)},
	{"1.2.3.4", TLS_NAME_IP, "1.2.3.4", "", B(V4)},
	{"1.2.3.4.", TLS_NAME_IP, "1.2.3.4", "", B(V4)},
	{"::1", TLS_NAME_IP, "::1", "", B(V6)},
	{"[::1]", TLS_NAME_IP, "::1", "", B(V6)},
	/* IPv4-mapped IPv6 is an IPv6 address: it matches only that entry. */
	{"::ffff:1.2.3.4", TLS_NAME_IP, "::ffff:1.2.3.4", "", B(MAPPED)},
	/* inet_aton forms are DNS names: sent, and matched only as DNS. */
	{"01.2.3.4", TLS_NAME_DNS, "01.2.3.4", "01.2.3.4", B(NUMERIC)},
	{"010.0.0.1", TLS_NAME_DNS, "010.0.0.1", "010.0.0.1", 0},
	{"1.2.3", TLS_NAME_DNS, "1.2.3", "1.2.3", 0},
	{"127.1", TLS_NAME_DNS, "127.1", "127.1", 0},
	{"0x7f.0.0.1", TLS_NAME_DNS, "0x7f.0.0.1", "0x7f.0.0.1", 0},
	{"1.2.3.4 ", TLS_NAME_DNS, "1.2.3.4 ", "1.2.3.4 ", 0},
	/* Brackets hold IPv6 only (RFC 3986 §3.2.2). */
	{"[1.2.3.4]", TLS_NAME_DNS, "[1.2.3.4]", "[1.2.3.4]", 0},
};

static tls_config *servers[NLEAVES];

static void make_servers(void)
{
	const testpair_pki *pki = testpair_pki_get();
	char err[256];

	for (int i = 0; i < NLEAVES; i++) {
		char *cert = NULL, *key = NULL;
		CHECK_EQ(testpki_issue(&pki->ca, &leaf_opts[i], &cert, &key), 0);
		servers[i] = tls_config_new(TLS_ROLE_SERVER);
		CHECK(servers[i] != NULL);
		CHECK_EQ(tls_config_set_chain_pem(servers[i], cert, strlen(cert), err, sizeof err),
			 0);
		CHECK_EQ(tls_config_set_key_pem(servers[i], key, strlen(key), err, sizeof err), 0);
		free(cert);
		free(key);
	}
}

static void parse_table(void)
{
	char out[256];

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int kind = tls_name_parse(rows[i].name, out, sizeof out);
		if (kind != rows[i].kind || strcmp(out, rows[i].ref) != 0)
			fprintf(stderr, "name \"%s\": kind %d \"%s\"\n", rows[i].name, kind, out);
		CHECK_EQ(kind, rows[i].kind);
		CHECK(strcmp(out, rows[i].ref) == 0);
	}
	/* Nothing to check is never "anything goes": the callers refuse. */
	CHECK_EQ(tls_name_parse("", out, sizeof out), TLS_NAME_NONE);
	CHECK_EQ(tls_name_parse(".", out, sizeof out), TLS_NAME_NONE);
	CHECK_EQ(out[0], '\0');
	CHECK_EQ(tls_name_parse("svc.test", out, 8), TLS_NAME_NONE); /* does not fit */
	CHECK_EQ(tls_name_parse("svc.test", out, 9), TLS_NAME_DNS);
}

/* handshake(row, leaf): one connection; whether the client accepted. */
static bool handshake(const struct row *r, int leaf, tls_config *ccfg)
{
	tls_conn *cli = tls_conn_new(ccfg, r->name, NULL);
	tls_conn *srv = tls_conn_new(servers[leaf], NULL, NULL);
	uint8_t alert = 0;

	testpair_handshake(cli, srv);
	bool ok = (tls_conn_state(cli) & TLS_ST_ESTABLISHED) != 0;
	if (strcmp(srv->server_name, r->sni) != 0)
		fprintf(stderr, "name \"%s\": server received SNI \"%s\"\n", r->name,
			srv->server_name);
	CHECK(strcmp(srv->server_name, r->sni) == 0);
	if (!ok) {
		/* Refused for the name (bad_certificate), not for anything else. */
		CHECK_EQ(tls_conn_error(cli, &alert, NULL, NULL), TLS_ERR_AUTH);
		CHECK_EQ(alert, TLS_ALERT_BAD_CERTIFICATE);
	}
	tls_conn_free(cli);
	tls_conn_free(srv);
	return ok;
}

static void handshake_table(void)
{
	tls_config *ccfg = testpair_client_config();

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (int leaf = 0; leaf < NLEAVES; leaf++) {
			bool want = (rows[i].accepted & B(leaf)) != 0;
			bool got = handshake(&rows[i], leaf, ccfg);
			if (got != want)
				fprintf(stderr, "name \"%s\" against leaf %s: %s\n", rows[i].name,
					leaf_opts[leaf].cn, got ? "accepted" : "refused");
			CHECK_EQ(got, want);
		}
	}
	tls_config_unref(ccfg);
}

int main(void)
{
	parse_table();
	make_servers();
	handshake_table();
	for (int i = 0; i < NLEAVES; i++)
		tls_config_unref(servers[i]);
	return check_exit("engine/names");
}
