/*
 * test_hello.c: ClientHello and ServerHello between a client and a server
 * connection built by hand (no record layer, no state machine): the
 * negotiated suite, group, signature scheme, EMS and renegotiation_info,
 * ticket resumption, and the failures of hellos edited byte by byte
 * (missing EMS, old versions, nothing in common, unoffered choices,
 * unsolicited and duplicated extensions, truncation at every length).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "handshake.h"
#include "sig.h"
#include "testpki.h"

/* ---- fixtures ----------------------------------------------------------- */

static testpki_ca ca;
static char *ec_cert, *ec_key, *rsa_cert, *rsa_key, *ed_cert, *ed_key;

static void die(const char *what)
{
	fprintf(stderr, "test_hello: %s failed\n", what);
	exit(1);
}

static void pki_setup(void)
{
	testpki_leaf_opts o = {.cn = "example.test", .dns = "example.test"};

	if (testpki_ca_new(&ca, TLS_KEY_EC_P256, "hello test CA") != 0)
		die("testpki_ca_new");
	o.key_type = TLS_KEY_EC_P256;
	if (testpki_issue(&ca, &o, &ec_cert, &ec_key) != 0)
		die("testpki_issue(ec)");
	o.key_type = TLS_KEY_RSA;
	if (testpki_issue(&ca, &o, &rsa_cert, &rsa_key) != 0)
		die("testpki_issue(rsa)");
	o.key_type = TLS_KEY_ED25519;
	if (testpki_issue(&ca, &o, &ed_cert, &ed_key) != 0)
		die("testpki_issue(ed25519)");
}

static void pki_teardown(void)
{
	char *all[] = {ec_cert, ec_key, rsa_cert, rsa_key, ed_cert, ed_key};

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]);
	testpki_ca_free(&ca);
}

/* A server config with the given leaf, suites and groups (NULL: default). */
static tls_config *server_cfg(const char *cert, const char *key, const char *ciphers,
			      const char *groups)
{
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	char err[256];

	if (cfg == NULL || tls_config_set_chain_pem(cfg, cert, strlen(cert), err, sizeof err) ||
	    tls_config_set_key_pem(cfg, key, strlen(key), err, sizeof err) ||
	    (ciphers && tls_config_set_ciphers(cfg, ciphers, err, sizeof err)) ||
	    (groups && tls_config_set_groups(cfg, groups, err, sizeof err)))
		die("server config");
	return cfg;
}

static tls_config *client_cfg(const char *ciphers, const char *groups)
{
	tls_config *cfg = tls_config_new(TLS_ROLE_CLIENT);
	char err[256];

	if (cfg == NULL || (ciphers && tls_config_set_ciphers(cfg, ciphers, err, sizeof err)) ||
	    (groups && tls_config_set_groups(cfg, groups, err, sizeof err)))
		die("client config");
	return cfg;
}

/* A connection as far as the hello handlers need one. */
static tls_conn *conn_new(tls_config *cfg, const char *name)
{
	tls_conn *c = calloc(1, sizeof *c);

	if (c == NULL || (c->hs = calloc(1, sizeof *c->hs)) == NULL)
		die("calloc");
	c->cfg = cfg;
	c->role = cfg->role;
	c->warn_pending = 0xff;
	if (name != NULL)
		snprintf(c->server_name, sizeof c->server_name, "%s", name);
	return c;
}

static void conn_free(tls_conn *c)
{
	tls_session_unref(c->hs->resume);
	tls_session_unref(c->session);
	sodium_memzero(c->hs, sizeof *c->hs);
	free(c->hs);
	free(c);
}

/* ---- messages and byte edits -------------------------------------------- */

typedef struct msg {
	uint8_t b[2048];
	size_t len;
	bool ch; /* ClientHello (else ServerHello): where the extensions start */
} msg;

static int write_msg(tls_conn *c, int (*fn)(tls_conn *, tls_wbuf *), msg *m, bool ch)
{
	tls_wbuf w;

	tls_wbuf_init(&w, m->b, sizeof m->b);
	int rc = fn(c, &w);
	m->len = w.len;
	m->ch = ch;
	return rc;
}

/* read_msg: the first ${n} bytes of ${m}, copied to a buffer of exactly that
 * size so that AddressSanitizer catches any read past the end. */
static int read_n(tls_conn *c, int (*fn)(tls_conn *, tls_cur *), const msg *m, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	tls_cur cur;

	if (copy == NULL)
		die("malloc");
	memcpy(copy, m->b, n);
	tls_cur_init(&cur, copy, n);
	int rc = fn(c, &cur);
	free(copy);
	return rc;
}

static int read_msg(tls_conn *c, int (*fn)(tls_conn *, tls_cur *), const msg *m)
{
	return read_n(c, fn, m, m->len);
}

static size_t get16(const msg *m, size_t off)
{
	return (size_t)m->b[off] << 8 | m->b[off + 1];
}

static void put16(msg *m, size_t off, size_t v)
{
	m->b[off] = (uint8_t)(v >> 8);
	m->b[off + 1] = (uint8_t)v;
}

/* Offsets of the fixed fields (RFC 5246 §7.4.1.2 / §7.4.1.3). */
static size_t sid_off(void)
{
	return 2 + 32;
}

static size_t suites_off(const msg *m)
{
	return sid_off() + 1 + m->b[sid_off()];
}

/* ext_off(m): offset of the extensions' length field. */
static size_t ext_off(const msg *m)
{
	size_t o = suites_off(m);

	if (!m->ch)
		return o + 3;
	o += 2 + get16(m, o);
	return o + 1 + m->b[o];
}

static void insert(msg *m, size_t off, const void *p, size_t n)
{
	if (m->len + n > sizeof m->b)
		die("insert");
	memmove(m->b + off + n, m->b + off, m->len - off);
	if (n > 0)
		memcpy(m->b + off, p, n);
	m->len += n;
}

static void cut(msg *m, size_t off, size_t n)
{
	memmove(m->b + off, m->b + off + n, m->len - off - n);
	m->len -= n;
}

static void fix_ext_len(msg *m)
{
	put16(m, ext_off(m), m->len - ext_off(m) - 2);
}

/* find_ext(m, type): offset of the extension's header, 0 when absent. */
static size_t find_ext(const msg *m, uint16_t type)
{
	for (size_t o = ext_off(m) + 2; o + 4 <= m->len; o += 4 + get16(m, o + 2))
		if (get16(m, o) == type)
			return o;
	return 0;
}

static bool has_ext(const msg *m, uint16_t type)
{
	return find_ext(m, type) != 0;
}

static void drop_ext(msg *m, uint16_t type)
{
	size_t o = find_ext(m, type);

	if (o == 0)
		die("drop_ext: absent");
	cut(m, o, 4 + get16(m, o + 2));
	fix_ext_len(m);
}

static void add_ext(msg *m, uint16_t type, const void *data, size_t n)
{
	uint8_t h[4] = {(uint8_t)(type >> 8), (uint8_t)type, (uint8_t)(n >> 8), (uint8_t)n};

	insert(m, m->len, h, 4);
	insert(m, m->len, data, n);
	fix_ext_len(m);
}

static void dup_ext(msg *m, uint16_t type)
{
	size_t o = find_ext(m, type);
	uint8_t copy[512];
	size_t n = get16(m, o + 2);

	if (o == 0 || n > sizeof copy)
		die("dup_ext");
	memcpy(copy, m->b + o + 4, n);
	add_ext(m, type, copy, n);
}

/* add_suite(m, id): append a cipher suite to a ClientHello's list. */
static void add_suite(msg *m, uint16_t id)
{
	size_t o = suites_off(m), n = get16(m, o);
	uint8_t b[2] = {(uint8_t)(id >> 8), (uint8_t)id};

	insert(m, o + 2 + n, b, 2);
	put16(m, o, n + 2);
}

/* ---- assertions --------------------------------------------------------- */

static void expect_fail(const tls_conn *c, int rc, int err, int alert, const char *words)
{
	CHECK_EQ(rc, -1);
	CHECK_EQ(c->err, err);
	CHECK_EQ(c->alert, alert);
	if (words != NULL && strstr(c->reason, words) == NULL) {
		fprintf(stderr, "  reason \"%s\" lacks \"%s\"\n", c->reason, words);
		CHECK(strstr(c->reason, words) != NULL);
	}
}

/* A full exchange; on return both connections hold their hello state. */
typedef struct run {
	tls_conn *cli, *srv;
	msg ch, sh;
	int rc; /* of the last step */
} run;

static void run_hellos(run *r, tls_config *ccfg, tls_config *scfg, const char *name)
{
	r->cli = conn_new(ccfg, name);
	r->srv = conn_new(scfg, NULL);
	r->rc = write_msg(r->cli, tls_hs_client_hello_write, &r->ch, true);
	if (r->rc == 0)
		r->rc = read_msg(r->srv, tls_hs_client_hello_read, &r->ch);
	if (r->rc == 0)
		r->rc = write_msg(r->srv, tls_hs_server_hello_write, &r->sh, false);
	if (r->rc == 0)
		r->rc = read_msg(r->cli, tls_hs_server_hello_read, &r->sh);
}

static void run_free(run *r)
{
	conn_free(r->cli);
	conn_free(r->srv);
}

/* Both sides agree on everything the hellos settle. */
static void check_agreed(const run *r, uint16_t suite, uint16_t group, uint16_t sig)
{
	tls_hs *ch = r->cli->hs, *sh = r->srv->hs;

	CHECK_EQ(r->rc, 0);
	CHECK(r->srv->suite != NULL && r->srv->suite->id == suite);
	CHECK(r->cli->suite == r->srv->suite);
	CHECK_EQ(r->srv->group, group);
	CHECK_EQ(sh->sigscheme, sig);
	CHECK_MEM(ch->client_random, sh->client_random, TLS_RANDOM_LEN);
	CHECK_MEM(ch->server_random, sh->server_random, TLS_RANDOM_LEN);
	CHECK_EQ(sh->client_version, TLS_VERSION_1_2);
	CHECK(ch->peer_ems && sh->peer_ems);
	CHECK(ch->peer_reneg && sh->peer_reneg);
	CHECK_EQ(ch->shape, TLS_SHAPE_FULL);
	CHECK_EQ(sh->shape, TLS_SHAPE_FULL);
	CHECK(!r->cli->resumed && !r->srv->resumed);
	CHECK_EQ(r->cli->err, 0);
	CHECK_EQ(r->srv->err, 0);
}

/* ---- positive cases ----------------------------------------------------- */

static void test_ecdsa(void)
{
	tls_config *s = server_cfg(ec_cert, ec_key,
				   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
				   "secp256r1:x25519");
	tls_config *c = client_cfg("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
				   "ECDHE-ECDSA-CHACHA20-POLY1305",
				   "x25519:secp256r1");
	run r;

	run_hellos(&r, c, s, "example.test");
	/* Server preference decides both the suite and the group. */
	check_agreed(&r, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_GROUP_SECP256R1,
		     TLS_SIG_ECDSA_SECP256R1_SHA256);
	CHECK_EQ(strcmp(r.srv->server_name, "example.test"), 0);
	CHECK(r.cli->hs->sent_sni);
	CHECK(r.srv->hs->send_ticket && r.cli->hs->send_ticket);
	CHECK(!r.srv->hs->cert_requested);
	CHECK_EQ(r.srv->hs->session_id_len, 0);
	CHECK(r.cli->hs->resume == NULL);
	/* ServerHello carries exactly what the client sent and we agreed. */
	CHECK(has_ext(&r.sh, TLS_EXT_EC_POINT_FORMATS));
	CHECK(has_ext(&r.sh, TLS_EXT_SESSION_TICKET));
	CHECK(!has_ext(&r.sh, TLS_EXT_SERVER_NAME));
	/* The client's offer, in order: SNI first, session_ticket last. */
	CHECK_EQ(find_ext(&r.ch, TLS_EXT_SERVER_NAME), ext_off(&r.ch) + 2);
	CHECK(find_ext(&r.ch, TLS_EXT_SESSION_TICKET) >
	      find_ext(&r.ch, TLS_EXT_RENEGOTIATION_INFO));
	CHECK_EQ(get16(&r.ch, suites_off(&r.ch)), 6); /* three suites, no SCSV */
	run_free(&r);

	/* The client's trailing dot is not part of SNI; an IP is not SNI. */
	run_hellos(&r, c, s, "example.test.");
	CHECK_EQ(r.rc, 0);
	CHECK_EQ(strcmp(r.srv->server_name, "example.test"), 0);
	run_free(&r);
	run_hellos(&r, c, s, "2001:db8::1");
	CHECK_EQ(r.rc, 0);
	CHECK(!r.cli->hs->sent_sni && !has_ext(&r.ch, TLS_EXT_SERVER_NAME));
	CHECK_EQ(r.srv->server_name[0], '\0');
	run_free(&r);
	run_hellos(&r, c, s, "192.0.2.7");
	CHECK(r.rc == 0 && !has_ext(&r.ch, TLS_EXT_SERVER_NAME));
	run_free(&r);

	tls_config_unref(s);
	tls_config_unref(c);
}

static void test_rsa_and_ed25519(void)
{
	tls_config *c = client_cfg(NULL, NULL);
	size_t nsig;
	const uint16_t *all = tls_sigschemes_all(&nsig);
	run r;

	tls_config *s = server_cfg(rsa_cert, rsa_key, "ECDHE-RSA-AES256-GCM-SHA384", "x25519");
	run_hellos(&r, c, s, "example.test");
	check_agreed(&r, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_GROUP_X25519,
		     tls_sig_choose(TLS_KEY_RSA, all, nsig));
	CHECK(tls_sig_usable(r.srv->hs->sigscheme, TLS_KEY_RSA));
	run_free(&r);
	tls_config_unref(s);

	/* RSA key transport: no group, no signature, no ec_point_formats. */
	tls_config *c2 = client_cfg("ECDHE-ECDSA-AES128-GCM-SHA256:AES128-GCM-SHA256", NULL);
	s = server_cfg(rsa_cert, rsa_key, "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", NULL);
	run_hellos(&r, c2, s, "example.test");
	check_agreed(&r, TLS_RSA_WITH_AES_128_GCM_SHA256, 0, 0);
	CHECK(!has_ext(&r.sh, TLS_EXT_EC_POINT_FORMATS));
	run_free(&r);
	tls_config_unref(s);
	tls_config_unref(c2);

	s = server_cfg(ed_cert, ed_key, "ECDHE-ECDSA-AES128-GCM-SHA256", "secp384r1:x25519");
	run_hellos(&r, c, s, "example.test");
	check_agreed(&r, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_GROUP_SECP384R1,
		     TLS_SIG_ED25519);
	run_free(&r);
	tls_config_unref(s);

	/* A server that asks for client certificates; tickets off on the
	 * client: no session_ticket either way. */
	s = server_cfg(ec_cert, ec_key, NULL, NULL);
	tls_config_set_verify(s, TLS_VERIFY_OPTIONAL);
	tls_config_set_tickets(c, false);
	run_hellos(&r, c, s, "example.test");
	CHECK_EQ(r.rc, 0);
	CHECK(r.srv->hs->cert_requested);
	CHECK(!has_ext(&r.ch, TLS_EXT_SESSION_TICKET) && !has_ext(&r.sh, TLS_EXT_SESSION_TICKET));
	CHECK(!r.srv->hs->send_ticket && !r.cli->hs->send_ticket);
	run_free(&r);
	tls_config_unref(s);
	tls_config_unref(c);
}

/* The server's half, with the ClientHello edited by ${edit}. */
static int server_reads(tls_config *ccfg, tls_config *scfg, void (*edit)(msg *), tls_conn **srv,
			msg *ch)
{
	tls_conn *cli = conn_new(ccfg, "example.test");

	write_msg(cli, tls_hs_client_hello_write, ch, true);
	conn_free(cli);
	if (edit != NULL)
		edit(ch);
	*srv = conn_new(scfg, NULL);
	return read_msg(*srv, tls_hs_client_hello_read, ch);
}

static void grease(msg *m)
{
	add_suite(m, 0x2a2a);
	add_ext(m, 0x0a0a, NULL, 0);
	add_ext(m, 0xdada, "\x00", 1);
	add_ext(m, 0x4469, "\x00\x03h2x", 5); /* some unknown extension */
	/* GREASE group and signature scheme inside known extensions. */
	size_t o = find_ext(m, TLS_EXT_SUPPORTED_GROUPS);
	insert(m, o + 6, "\x3a\x3a", 2);
	put16(m, o + 2, get16(m, o + 2) + 2);
	put16(m, o + 4, get16(m, o + 4) + 2);
	fix_ext_len(m);
}

static void scsv_only(msg *m)
{
	drop_ext(m, TLS_EXT_RENEGOTIATION_INFO);
	add_suite(m, TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
}

static void no_reneg(msg *m)
{
	drop_ext(m, TLS_EXT_RENEGOTIATION_INFO);
}

static void drop_ems(msg *m);

static void test_tolerated(void)
{
	tls_config *s = server_cfg(ec_cert, ec_key, NULL, "x25519");
	tls_config *c = client_cfg(NULL, NULL);
	tls_conn *srv;
	msg ch, sh;

	CHECK_EQ(server_reads(c, s, grease, &srv, &ch), 0);
	CHECK(srv->suite != NULL && srv->suite->auth == TLS_AUTH_ECDSA);
	CHECK_EQ(srv->group, TLS_GROUP_X25519);
	conn_free(srv);

	/* RFC 5746 §3.6: the SCSV counts as the empty extension. */
	CHECK_EQ(server_reads(c, s, scsv_only, &srv, &ch), 0);
	CHECK(srv->hs->peer_reneg);
	CHECK_EQ(write_msg(srv, tls_hs_server_hello_write, &sh, false), 0);
	CHECK(has_ext(&sh, TLS_EXT_RENEGOTIATION_INFO));
	conn_free(srv);

	/* Neither: refused (INTERFACE.md), unless legacy_peers; then no
	 * renegotiation_info in ServerHello, and no EMS either when the
	 * client sent none (RFC 5246 §7.4.1.4: only what the client sent). */
	CHECK_EQ(server_reads(c, s, no_reneg, &srv, &ch), -1);
	CHECK_EQ(srv->alert, TLS_ALERT_HANDSHAKE_FAILURE);
	conn_free(srv);
	tls_config_set_legacy_peers(s, true);
	CHECK_EQ(server_reads(c, s, no_reneg, &srv, &ch), 0);
	CHECK(!srv->hs->peer_reneg && !srv->hs->send_ticket);
	CHECK_EQ(write_msg(srv, tls_hs_server_hello_write, &sh, false), 0);
	CHECK(!has_ext(&sh, TLS_EXT_RENEGOTIATION_INFO));
	CHECK(has_ext(&sh, TLS_EXT_EXTENDED_MASTER_SECRET));
	CHECK(!has_ext(&sh, TLS_EXT_SESSION_TICKET));
	conn_free(srv);
	CHECK_EQ(server_reads(c, s, drop_ems, &srv, &ch), 0);
	CHECK(!srv->hs->peer_ems && srv->hs->peer_reneg && !srv->hs->send_ticket);
	CHECK_EQ(write_msg(srv, tls_hs_server_hello_write, &sh, false), 0);
	CHECK(!has_ext(&sh, TLS_EXT_EXTENDED_MASTER_SECRET));
	CHECK(has_ext(&sh, TLS_EXT_RENEGOTIATION_INFO));
	conn_free(srv);

	tls_config_unref(s);
	tls_config_unref(c);
}

/* ---- ClientHello failures ----------------------------------------------- */

static void drop_ems(msg *m)
{
	drop_ext(m, TLS_EXT_EXTENDED_MASTER_SECRET);
}

static void tls11(msg *m)
{
	put16(m, 0, 0x0302);
}

static void dup_groups(msg *m)
{
	dup_ext(m, TLS_EXT_SUPPORTED_GROUPS);
}

static void dup_grease(msg *m)
{
	add_ext(m, 0x1a1a, NULL, 0);
	add_ext(m, 0x1a1a, NULL, 0);
}

static void bad_ems(msg *m)
{
	drop_ext(m, TLS_EXT_EXTENDED_MASTER_SECRET);
	add_ext(m, TLS_EXT_EXTENDED_MASTER_SECRET, "\x00", 1);
}

static void reneg_nonempty(msg *m)
{
	drop_ext(m, TLS_EXT_RENEGOTIATION_INFO);
	add_ext(m, TLS_EXT_RENEGOTIATION_INFO,
		"\x0c\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 13);
}

static void compressed_points(msg *m)
{
	drop_ext(m, TLS_EXT_EC_POINT_FORMATS);
	add_ext(m, TLS_EXT_EC_POINT_FORMATS, "\x01\x01", 2);
}

static void odd_groups(msg *m)
{
	drop_ext(m, TLS_EXT_SUPPORTED_GROUPS);
	add_ext(m, TLS_EXT_SUPPORTED_GROUPS, "\x00\x03\x00\x1d\x00", 5);
}

static void no_groups(msg *m)
{
	drop_ext(m, TLS_EXT_SUPPORTED_GROUPS);
}

static void no_sigalgs(msg *m)
{
	drop_ext(m, TLS_EXT_SIGNATURE_ALGORITHMS);
}

static void sni_nul(msg *m)
{
	drop_ext(m, TLS_EXT_SERVER_NAME);
	add_ext(m, TLS_EXT_SERVER_NAME,
		"\x00\x06\x00\x00\x03"
		"a\0b",
		8);
}

static void no_null_compression(msg *m)
{
	size_t o = suites_off(m);

	o += 2 + get16(m, o);
	CHECK_EQ(m->b[o], 1);
	m->b[o + 1] = 1; /* DEFLATE only */
}

static void long_sid(msg *m)
{
	uint8_t z[33] = {0};

	m->b[sid_off()] = 33;
	insert(m, sid_off() + 1, z, 33);
}

static void trailing(msg *m)
{
	insert(m, m->len, "\x00", 1);
}

static void test_client_hello_failures(void)
{
	tls_config *s = server_cfg(ec_cert, ec_key, NULL, "x25519:secp256r1");
	tls_config *c = client_cfg(NULL, NULL);
	tls_conn *srv;
	msg ch;
	int rc;

	static const struct {
		void (*edit)(msg *);
		int err, alert;
		const char *words;
	} cases[] = {
		{drop_ems, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
		 "extended master secret"},
		{tls11, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION, "TLSv1.1"},
		{dup_groups, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "twice"},
		{dup_grease, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "twice"},
		{bad_ems, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "extended_master_secret"},
		{reneg_nonempty, TLS_ERR_PROTOCOL, TLS_ALERT_HANDSHAKE_FAILURE, "renegotiation"},
		{compressed_points, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "uncompressed"},
		{odd_groups, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "supported_groups"},
		{no_groups, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE, "supported_groups"},
		{no_sigalgs, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE, "signature"},
		{sni_nul, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "server name"},
		{no_null_compression, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "compression"},
		{long_sid, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "session id"},
		{trailing, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rc = server_reads(c, s, cases[i].edit, &srv, &ch);
		expect_fail(srv, rc, cases[i].err, cases[i].alert, cases[i].words);
		conn_free(srv);
	}

	/* Nothing in common: an ECDSA server and an RSA-only client. */
	tls_config *rsa_only = client_cfg("ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256", NULL);
	rc = server_reads(rsa_only, s, NULL, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
		    "no cipher suite in common: client offered 0xc02f 0x009c; we accept "
		    "ECDHE-ECDSA");
	conn_free(srv);
	tls_config_unref(rsa_only);

	/* A common suite but no common group. */
	tls_config *p384 = client_cfg(NULL, "secp384r1");
	rc = server_reads(p384, s, NULL, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
		    "no ECDHE group in common: client offered 0x0018; we accept "
		    "x25519:secp256r1");
	conn_free(srv);
	tls_config_unref(p384);

	/* Truncation at every length fails cleanly: decode_error, except
	 * right after the compression methods, where the hello is whole
	 * (extensions are optional) but lacks EMS. */
	tls_conn *cli = conn_new(c, "example.test");
	CHECK_EQ(write_msg(cli, tls_hs_client_hello_write, &ch, true), 0);
	conn_free(cli);
	size_t whole = ext_off(&ch);
	for (size_t n = 0; n < ch.len; n++) {
		srv = conn_new(s, NULL);
		rc = read_n(srv, tls_hs_client_hello_read, &ch, n);
		CHECK_EQ(rc, -1);
		CHECK_EQ(srv->alert,
			 n == whole ? TLS_ALERT_HANDSHAKE_FAILURE : TLS_ALERT_DECODE_ERROR);
		conn_free(srv);
	}

	tls_config_unref(s);
	tls_config_unref(c);
}

/* ---- ServerHello failures ----------------------------------------------- */

/* The client's half: a fresh ClientHello, then ${sh} edited by ${edit}. */
static int client_reads(tls_config *ccfg, const msg *sh0, void (*edit)(msg *), tls_conn **cli)
{
	msg ch, sh = *sh0;

	*cli = conn_new(ccfg, "example.test");
	write_msg(*cli, tls_hs_client_hello_write, &ch, true);
	if (edit != NULL)
		edit(&sh);
	return read_msg(*cli, tls_hs_server_hello_read, &sh);
}

static void sh_drop_ems(msg *m)
{
	drop_ext(m, TLS_EXT_EXTENDED_MASTER_SECRET);
}

static void sh_drop_reneg(msg *m)
{
	drop_ext(m, TLS_EXT_RENEGOTIATION_INFO);
}

static void sh_tls11(msg *m)
{
	put16(m, 0, 0x0302);
}

static void sh_unoffered_suite(msg *m)
{
	put16(m, suites_off(m), TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256);
}

static void sh_unknown_suite(msg *m)
{
	put16(m, suites_off(m), 0xc013); /* CBC: we never offer it */
}

static void sh_compression(msg *m)
{
	m->b[suites_off(m) + 2] = 1;
}

static void sh_unsolicited(msg *m)
{
	add_ext(m, 0x1234, NULL, 0);
}

static void sh_grease(msg *m)
{
	add_ext(m, 0x0a0a, NULL, 0);
}

static void sh_sni(msg *m)
{
	add_ext(m, TLS_EXT_SERVER_NAME, NULL, 0);
}

static void sh_sigalgs(msg *m)
{
	add_ext(m, TLS_EXT_SIGNATURE_ALGORITHMS, "\x00\x02\x04\x03", 4);
}

static void sh_dup_ems(msg *m)
{
	dup_ext(m, TLS_EXT_EXTENDED_MASTER_SECRET);
}

static void sh_reneg_nonempty(msg *m)
{
	drop_ext(m, TLS_EXT_RENEGOTIATION_INFO);
	add_ext(m, TLS_EXT_RENEGOTIATION_INFO, "\x02\xaa\xbb", 3);
}

static void sh_reneg_malformed(msg *m)
{
	drop_ext(m, TLS_EXT_RENEGOTIATION_INFO);
	add_ext(m, TLS_EXT_RENEGOTIATION_INFO, NULL, 0);
}

static void sh_ticket_nonempty(msg *m)
{
	drop_ext(m, TLS_EXT_SESSION_TICKET);
	add_ext(m, TLS_EXT_SESSION_TICKET, "\x01", 1);
}

static void sh_compressed_points(msg *m)
{
	drop_ext(m, TLS_EXT_EC_POINT_FORMATS);
	add_ext(m, TLS_EXT_EC_POINT_FORMATS, "\x01\x02", 2);
}

static void sh_long_sid(msg *m)
{
	uint8_t z[33] = {0};

	m->b[sid_off()] = 33;
	insert(m, sid_off() + 1, z, 33);
}

static void test_server_hello_failures(void)
{
	tls_config *s = server_cfg(ec_cert, ec_key, NULL, NULL);
	tls_config *c =
		client_cfg("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384", NULL);
	tls_config *c_noticket = client_cfg("ECDHE-ECDSA-AES128-GCM-SHA256", NULL);
	tls_conn *cli;
	run r;
	int rc;

	tls_config_set_tickets(c_noticket, false);
	run_hellos(&r, c, s, "example.test");
	CHECK_EQ(r.rc, 0);
	CHECK(has_ext(&r.sh, TLS_EXT_SESSION_TICKET) && has_ext(&r.sh, TLS_EXT_EC_POINT_FORMATS));

	static const struct {
		void (*edit)(msg *);
		int err, alert;
		const char *words;
	} cases[] = {
		{sh_drop_ems, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
		 "server does not support extended master secret (RFC 7627), which we require"},
		{sh_drop_reneg, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
		 "server does not support secure renegotiation (renegotiation_info, RFC 5746), "
		 "which we require"},
		{sh_tls11, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION, "0x0302"},
		{sh_unoffered_suite, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "0xcca8"},
		{sh_unknown_suite, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "did not offer"},
		{sh_compression, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "compression"},
		{sh_unsolicited, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_EXTENSION, "4660"},
		{sh_grease, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_EXTENSION, "did not offer"},
		{sh_sigalgs, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_EXTENSION, NULL},
		{sh_dup_ems, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "twice"},
		{sh_reneg_nonempty, TLS_ERR_PROTOCOL, TLS_ALERT_HANDSHAKE_FAILURE, "renegotiation"},
		{sh_reneg_malformed, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
		 "renegotiation_info"},
		{sh_ticket_nonempty, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "session_ticket"},
		{sh_compressed_points, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
		 "uncompressed"},
		{sh_long_sid, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "session id"},
		{trailing, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rc = client_reads(c, &r.sh, cases[i].edit, &cli);
		expect_fail(cli, rc, cases[i].err, cases[i].alert, cases[i].words);
		conn_free(cli);
	}

	/* Unsolicited: server_name when we sent none (IP literal peer),
	 * session_ticket when we did not offer tickets. */
	msg ch, sh = r.sh;
	cli = conn_new(c, "192.0.2.1");
	write_msg(cli, tls_hs_client_hello_write, &ch, true);
	sh_sni(&sh);
	expect_fail(cli, read_msg(cli, tls_hs_server_hello_read, &sh), TLS_ERR_PROTOCOL,
		    TLS_ALERT_UNSUPPORTED_EXTENSION, "server_name");
	conn_free(cli);
	/* ... while an empty server_name answering our SNI is fine. */
	rc = client_reads(c, &r.sh, sh_sni, &cli);
	CHECK_EQ(rc, 0);
	conn_free(cli);
	rc = client_reads(c_noticket, &r.sh, NULL, &cli);
	expect_fail(cli, rc, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_EXTENSION, "session_ticket");
	conn_free(cli);

	/* Truncation at every length. */
	size_t whole = ext_off(&r.sh);
	for (size_t n = 0; n < r.sh.len; n++) {
		cli = conn_new(c, "example.test");
		write_msg(cli, tls_hs_client_hello_write, &ch, true);
		rc = read_n(cli, tls_hs_server_hello_read, &r.sh, n);
		CHECK_EQ(rc, -1);
		CHECK_EQ(cli->alert,
			 n == whole ? TLS_ALERT_HANDSHAKE_FAILURE : TLS_ALERT_DECODE_ERROR);
		conn_free(cli);
	}

	run_free(&r);
	tls_config_unref(s);
	tls_config_unref(c);
	tls_config_unref(c_noticket);
}

/* ---- resumption --------------------------------------------------------- */

/* A session for "example.test" as a finished handshake would leave it,
 * with its ticket sealed under ${scfg}'s keys. */
static tls_session *make_session(tls_config *scfg, uint16_t suite, const char *name)
{
	tls_session *s = tls_session_new();
	uint8_t ticket[TLS_TICKET_MAX];
	size_t len;

	if (s == NULL)
		die("tls_session_new");
	s->suite = suite;
	s->ems = true;
	randombytes_buf(s->master, TLS_MASTER_SECRET_LEN);
	snprintf(s->server_name, sizeof s->server_name, "%s", name);
	snprintf(s->peer_subject, sizeof s->peer_subject, "CN=client");
	s->created = scfg->now(scfg->now_arg);
	s->lifetime = 3600;
	if (tls_ticket_seal(scfg->ticket_keys, s->created, s, ticket, sizeof ticket, &len) != 0 ||
	    (s->ticket = malloc(len)) == NULL)
		die("tls_ticket_seal");
	memcpy(s->ticket, ticket, len);
	s->ticket_len = len;
	return s;
}

static void test_resumption(void)
{
	tls_config *s = server_cfg(ec_cert, ec_key, NULL, NULL);
	tls_config *c = client_cfg(NULL, NULL);
	const uint16_t suite = TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
	tls_session *sess = make_session(s, suite, "example.test");
	run r;

	/* As this client config would have made it: verified server. */
	tls_config_auth_id(c, sess->config_id);
	sess->has_peer = true;

	/* Resumed: both sides switch shape and share the session's master. */
	r.cli = conn_new(c, "example.test");
	r.cli->session = tls_session_ref(sess);
	r.srv = conn_new(s, NULL);
	CHECK_EQ(write_msg(r.cli, tls_hs_client_hello_write, &r.ch, true), 0);
	CHECK(r.cli->hs->resume == sess);
	CHECK_EQ(r.cli->hs->session_id_len, 32);
	size_t t = find_ext(&r.ch, TLS_EXT_SESSION_TICKET);
	CHECK(t != 0 && get16(&r.ch, t + 2) == sess->ticket_len);
	CHECK_EQ(read_msg(r.srv, tls_hs_client_hello_read, &r.ch), 0);
	CHECK_EQ(r.srv->hs->shape, TLS_SHAPE_RESUMED);
	CHECK(r.srv->resumed && r.srv->hs->have_master);
	CHECK(r.srv->suite != NULL && r.srv->suite->id == suite);
	CHECK_MEM(r.srv->hs->master, sess->master, TLS_MASTER_SECRET_LEN);
	CHECK(!r.srv->hs->send_ticket);
	CHECK_EQ(write_msg(r.srv, tls_hs_server_hello_write, &r.sh, false), 0);
	CHECK_EQ(get16(&r.sh, suites_off(&r.sh)), suite);
	CHECK_EQ(read_msg(r.cli, tls_hs_server_hello_read, &r.sh), 0);
	CHECK_EQ(r.cli->hs->shape, TLS_SHAPE_RESUMED);
	CHECK(r.cli->resumed && r.cli->hs->have_master);
	CHECK_MEM(r.cli->hs->master, sess->master, TLS_MASTER_SECRET_LEN);
	CHECK(r.cli->suite == r.srv->suite);
	CHECK_EQ(strcmp(r.cli->peer_subject, "CN=client"), 0);

	/* A server that resumes without EMS or renegotiation_info is
	 * refused even by a legacy_peers client (RFC 7627 §5.3). */
	tls_config *lc = client_cfg(NULL, NULL);
	tls_config_set_legacy_peers(lc, true);
	for (int i = 0; i < 2; i++) {
		msg lch, lsh = r.sh;
		tls_conn *lcli = conn_new(lc, "example.test");
		lcli->session = tls_session_ref(sess);
		write_msg(lcli, tls_hs_client_hello_write, &lch, true);
		memcpy(lsh.b + sid_off() + 1, lcli->hs->session_id, 32);
		drop_ext(&lsh,
			 i == 0 ? TLS_EXT_EXTENDED_MASTER_SECRET : TLS_EXT_RENEGOTIATION_INFO);
		expect_fail(lcli, read_msg(lcli, tls_hs_server_hello_read, &lsh), TLS_ERR_PROTOCOL,
			    TLS_ALERT_HANDSHAKE_FAILURE, "resumed our session without");
		conn_free(lcli);
	}
	tls_config_unref(lc);

	/* A server that resumes with another suite is refused. */
	msg ch, sh = r.sh;
	put16(&sh, suites_off(&sh), TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	tls_conn *cli = conn_new(c, "example.test");
	cli->session = tls_session_ref(sess);
	write_msg(cli, tls_hs_client_hello_write, &ch, true);
	memcpy(sh.b + sid_off() + 1, cli->hs->session_id, 32); /* echo this hello's id */
	expect_fail(cli, read_msg(cli, tls_hs_server_hello_read, &sh), TLS_ERR_PROTOCOL,
		    TLS_ALERT_ILLEGAL_PARAMETER, "resumed");
	conn_free(cli);
	run_free(&r);

	/* Another server name: the client does not offer the session. */
	r.cli = conn_new(c, "other.test");
	r.cli->session = tls_session_ref(sess);
	CHECK_EQ(write_msg(r.cli, tls_hs_client_hello_write, &r.ch, true), 0);
	CHECK(r.cli->hs->resume == NULL && r.cli->hs->session_id_len == 0);
	t = find_ext(&r.ch, TLS_EXT_SESSION_TICKET);
	CHECK(t != 0 && get16(&r.ch, t + 2) == 0);
	conn_free(r.cli);
	/* Nor does a server that sees another name (here: none) accept it. */
	r.cli = conn_new(c, "example.test");
	r.cli->session = tls_session_ref(sess);
	CHECK_EQ(write_msg(r.cli, tls_hs_client_hello_write, &r.ch, true), 0);
	r.srv = conn_new(s, NULL);
	drop_ext(&r.ch, TLS_EXT_SERVER_NAME);
	CHECK_EQ(read_msg(r.srv, tls_hs_client_hello_read, &r.ch), 0);
	CHECK_EQ(r.srv->hs->shape, TLS_SHAPE_FULL);
	CHECK(!r.srv->resumed && r.srv->hs->send_ticket);
	/* ... and the client, its session id not echoed, goes full. */
	CHECK_EQ(write_msg(r.srv, tls_hs_server_hello_write, &r.sh, false), 0);
	CHECK_EQ(read_msg(r.cli, tls_hs_server_hello_read, &r.sh), 0);
	CHECK_EQ(r.cli->hs->shape, TLS_SHAPE_FULL);
	CHECK(r.cli->hs->resume == NULL && !r.cli->resumed && !r.cli->hs->have_master);
	run_free(&r);

	/* A server that now requires client certificates refuses a session
	 * without one; a tampered ticket means a full handshake. */
	tls_config_set_verify(s, TLS_VERIFY_REQUIRE);
	r.cli = conn_new(c, "example.test");
	r.cli->session = tls_session_ref(sess);
	r.srv = conn_new(s, NULL);
	write_msg(r.cli, tls_hs_client_hello_write, &r.ch, true);
	CHECK_EQ(read_msg(r.srv, tls_hs_client_hello_read, &r.ch), 0);
	CHECK(!r.srv->resumed && r.srv->hs->cert_requested);
	run_free(&r);
	tls_config_set_verify(s, TLS_VERIFY_NONE);
	sess->ticket[sess->ticket_len - 1] ^= 1;
	run_hellos(&r, c, s, "example.test");
	CHECK(r.rc == 0 && !r.srv->resumed);
	run_free(&r);

	tls_session_unref(sess);
	tls_config_unref(s);
	tls_config_unref(c);
}

/* ---- version negotiation (RFC 8446 §4.2.1) ------------------------------ */

/* sv(m, list, n): give a ClientHello a supported_versions extension with
 * the ${n} bytes of versions at ${list} (the 1-byte length is added). */
static void sv(msg *m, const char *list, size_t n)
{
	uint8_t b[64];

	b[0] = (uint8_t)n;
	memcpy(b + 1, list, n);
	add_ext(m, TLS_EXT_SUPPORTED_VERSIONS, b, n + 1);
}

static void sv_13(msg *m)
{
	sv(m, "\x03\x04", 2);
}

/* What `openssl s_client -tls1_3` sends, as far as we care: only 0x0304,
 * and no extended_master_secret (a TLS 1.3 client has no use for it). */
static void sv_13_no_ems(msg *m)
{
	sv_13(m);
	drop_ext(m, TLS_EXT_EXTENDED_MASTER_SECRET);
}

static void sv_13_12(msg *m)
{
	sv(m, "\x7a\x7a\x03\x04\x03\x03", 6); /* GREASE first, as browsers do */
}

static void sv_12_legacy_10(msg *m)
{
	put16(m, 0, TLS_VERSION_1_0); /* ignored when supported_versions is there */
	sv(m, "\x03\x03", 2);
}

static void sv_old_only(msg *m)
{
	sv(m, "\x03\x02\x03\x01", 4); /* legacy_version 0x0303 must not count */
}

static void sv_odd(msg *m)
{
	sv(m, "\x03\x04\x03", 3);
}

static void sv_empty(msg *m)
{
	sv(m, "", 0);
}

static void test_versions(void)
{
	tls_config *s = server_cfg(ec_cert, ec_key, NULL, NULL);
	tls_config *c = client_cfg(NULL, NULL);
	tls_conn *srv;
	msg ch, sh;
	int rc;

	/* A 1.3-only client gets protocol_version, not handshake_failure
	 * (it failed as "no cipher suite"/EMS before). */
	rc = server_reads(c, s, sv_13, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION,
		    "no protocol version in common: client offers TLSv1.3 (supported_versions); "
		    "we speak TLSv1.2 (TLS 1.3 is not available in this build yet)");
	conn_free(srv);
	rc = server_reads(c, s, sv_13_no_ems, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION, "TLSv1.3");
	conn_free(srv);
	rc = server_reads(c, s, sv_old_only, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION,
		    "client offers TLSv1.1, TLSv1 (supported_versions)");
	conn_free(srv);

	/* 1.3 and 1.2 offered: 1.2, and the ServerHello says 0x0303 without
	 * supported_versions (RFC 8446 §4.2.1: that is a 1.3 ServerHello's). */
	void (*ok[])(msg *) = {sv_13_12, sv_12_legacy_10};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		CHECK_EQ(server_reads(c, s, ok[i], &srv, &ch), 0);
		CHECK(srv->suite != NULL);
		CHECK_EQ(write_msg(srv, tls_hs_server_hello_write, &sh, false), 0);
		CHECK_EQ(get16(&sh, 0), TLS_VERSION_1_2);
		CHECK(!has_ext(&sh, TLS_EXT_SUPPORTED_VERSIONS));
		conn_free(srv);
	}

	rc = server_reads(c, s, sv_odd, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "supported_versions");
	conn_free(srv);
	rc = server_reads(c, s, sv_empty, &srv, &ch);
	expect_fail(srv, rc, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "supported_versions");
	conn_free(srv);

	/* Our own ClientHello offers 1.2 through legacy_version alone. */
	tls_conn *cli = conn_new(c, "example.test");
	CHECK_EQ(write_msg(cli, tls_hs_client_hello_write, &ch, true), 0);
	CHECK_EQ(get16(&ch, 0), TLS_VERSION_1_2);
	CHECK(!has_ext(&ch, TLS_EXT_SUPPORTED_VERSIONS));
	conn_free(cli);

	tls_config_unref(s);
	tls_config_unref(c);
}

/* ---- ALPN (RFC 7301) ------------------------------------------------------ */

static void set_alpn(tls_config *cfg, const char *list)
{
	char err[256];

	if (tls_config_set_alpn(cfg, list, err, sizeof err) != 0) {
		fprintf(stderr, "set_alpn(%s): %s\n", list, err);
		die("tls_config_set_alpn");
	}
}

/* alpn_of(c): the protocol a connection agreed, "" for none. */
static const char *alpn_of(const tls_conn *c)
{
	return c->alpn_at ? c->cfg->alpn_text + c->alpn_at - 1 : "";
}

/* ServerHello ALPN answer of ${m}: the name, "" when absent. */
static const char *sh_alpn(const msg *m, char *buf, size_t len)
{
	size_t o = find_ext(m, TLS_EXT_ALPN);

	buf[0] = '\0';
	if (o != 0 && get16(m, o + 2) >= 3 && m->b[o + 6] < len) {
		memcpy(buf, m->b + o + 7, m->b[o + 6]);
		buf[m->b[o + 6]] = '\0';
	}
	return buf;
}

static void ch_alpn(msg *m, const char *list, size_t n)
{
	uint8_t b[300];

	drop_ext(m, TLS_EXT_ALPN);
	memcpy(b, list, n);
	add_ext(m, TLS_EXT_ALPN, b, n);
}

static void alpn_empty_list(msg *m)
{
	ch_alpn(m, "\x00\x00", 2);
}

static void alpn_empty_name(msg *m)
{
	ch_alpn(m, "\x00\x04\x02h2\x00", 5);
}

static void alpn_overrun(msg *m)
{
	ch_alpn(m, "\x00\x03\x05h2", 5);
}

static void alpn_short_ext(msg *m)
{
	ch_alpn(m, "\x00", 1);
}

static void sh_alpn_set(msg *m, const char *data, size_t n)
{
	drop_ext(m, TLS_EXT_ALPN);
	add_ext(m, TLS_EXT_ALPN, data, n);
}

static void sh_alpn_two(msg *m)
{
	sh_alpn_set(m, "\x00\x06\x02h2\x03h2c", 8);
}

static void sh_alpn_other(msg *m)
{
	sh_alpn_set(m, "\x00\x04\x03spd", 6);
}

static void sh_alpn_empty(msg *m)
{
	sh_alpn_set(m, "\x00\x01\x00", 3);
}

static void test_alpn(void)
{
	static const struct {
		const char *srv, *cli, *agreed;
	} ok[] = {
		/* The server's preference wins (RFC 7301 §3.2). */
		{"h2,http/1.1", "http/1.1,h2", "h2"},
		{"http/1.1", "h2,http/1.1", "http/1.1"},
		{"postgresql", "postgresql", "postgresql"},
		/* A client offering no ALPN is served without it. */
		{"h2,http/1.1", NULL, ""},
		/* A server with no list ignores the client's. */
		{NULL, "h2,http/1.1", ""},
		{NULL, NULL, ""},
	};
	char name[300];
	run r;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		tls_config *s = server_cfg(ec_cert, ec_key, NULL, NULL);
		tls_config *c = client_cfg(NULL, NULL);
		if (ok[i].srv)
			set_alpn(s, ok[i].srv);
		if (ok[i].cli)
			set_alpn(c, ok[i].cli);
		run_hellos(&r, c, s, "example.test");
		CHECK_EQ(r.rc, 0);
		CHECK(has_ext(&r.ch, TLS_EXT_ALPN) == (ok[i].cli != NULL));
		CHECK(has_ext(&r.sh, TLS_EXT_ALPN) == (ok[i].agreed[0] != '\0'));
		CHECK(strcmp(alpn_of(r.srv), ok[i].agreed) == 0);
		CHECK(strcmp(alpn_of(r.cli), ok[i].agreed) == 0);
		CHECK(strcmp(sh_alpn(&r.sh, name, sizeof name), ok[i].agreed) == 0);
		run_free(&r);
		tls_config_unref(s);
		tls_config_unref(c);
	}

	/* No overlap: no_application_protocol (120), a negotiation failure. */
	tls_config *s = server_cfg(ec_cert, ec_key, NULL, NULL);
	tls_config *c = client_cfg(NULL, NULL);
	set_alpn(s, "postgresql");
	set_alpn(c, "h2,http/1.1");
	run_hellos(&r, c, s, "example.test");
	expect_fail(r.srv, r.rc, TLS_ERR_NEGOTIATION, TLS_ALERT_NO_APPLICATION_PROTOCOL,
		    "no application protocol in common (ALPN, RFC 7301 §3.2): client offered "
		    "h2, http/1.1; we accept postgresql");
	run_free(&r);

	/* Malformed client lists (RFC 7301 §3.1) are decode_error. */
	void (*bad[])(msg *) = {alpn_empty_list, alpn_empty_name, alpn_overrun, alpn_short_ext};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tls_conn *srv;
		msg ch;
		int rc = server_reads(c, s, bad[i], &srv, &ch);
		expect_fail(srv, rc, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
			    "application_layer_protocol_negotiation");
		conn_free(srv);
	}

	/* The client's checks of the answer: exactly one name, one we
	 * offered, and only when we offered at all. */
	tls_config_set_alpn(s, "h2", NULL, 0);
	run_hellos(&r, c, s, "example.test");
	CHECK_EQ(r.rc, 0);
	msg sh0 = r.sh;
	run_free(&r);
	static const struct {
		void (*edit)(msg *);
		int alert;
		const char *words;
	} cases[] = {
		{sh_alpn_two, TLS_ALERT_DECODE_ERROR, "exactly one"},
		{sh_alpn_empty, TLS_ALERT_DECODE_ERROR, "exactly one"},
		{sh_alpn_other, TLS_ALERT_ILLEGAL_PARAMETER, "did not offer"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tls_conn *cli;
		int rc = client_reads(c, &sh0, cases[i].edit, &cli);
		expect_fail(cli, rc, TLS_ERR_PROTOCOL, cases[i].alert, cases[i].words);
		conn_free(cli);
	}
	tls_config *c_none = client_cfg(NULL, NULL);
	tls_conn *cli;
	int rc = client_reads(c_none, &sh0, NULL, &cli);
	expect_fail(cli, rc, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_EXTENSION, "did not offer");
	conn_free(cli);

	tls_config_unref(c_none);
	tls_config_unref(s);
	tls_config_unref(c);
}

int main(void)
{
	if (sodium_init() < 0)
		die("sodium_init");
	pki_setup();
	test_ecdsa();
	test_rsa_and_ed25519();
	test_tolerated();
	test_client_hello_failures();
	test_server_hello_failures();
	test_resumption();
	test_versions();
	test_alpn();
	pki_teardown();
	return check_exit("engine/hello");
}
