/*
 * Every handshake type byte 0-255, injected as a plaintext handshake record
 * at the point where each side next expects a ChangeCipherSpec, must end
 * the handshake with one fatal alert: no type value may select an internal
 * table step (a type equal to the old in-band CCS marker, 254, reached a
 * NULL handler and crashed the process).
 */
#include <string.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"

static tls_config *scfg, *ccfg;

/* Move everything ${from} has queued to ${to}, or only its first
 * ${nrec} records when nrec > 0. */
static void move_records(tls_conn *from, tls_conn *to, int nrec)
{
	size_t n;
	const uint8_t *p = tls_conn_sendbuf(from, &n);
	if (!p)
		return;
	size_t take = n;
	if (nrec > 0) {
		size_t off = 0;
		for (int i = 0; i < nrec && off + 5 <= n; i++)
			off += 5 + ((size_t)p[off + 3] << 8 | p[off + 4]);
		take = off < n ? off : n;
	}
	size_t room;
	uint8_t *dst = tls_conn_recvbuf(to, &room);
	CHECK(dst != NULL && room >= take);
	memcpy(dst, p, take);
	tls_conn_send_done(from, n); /* the rest is dropped */
	tls_conn_recv_done(to, take);
}

static void inject(tls_conn *to, uint8_t type)
{
	const uint8_t rec[9] = {22, 3, 3, 0, 4, type, 0, 0, 0};
	size_t room;
	uint8_t *dst = tls_conn_recvbuf(to, &room);
	CHECK(dst != NULL && room >= sizeof rec);
	memcpy(dst, rec, sizeof rec);
	tls_conn_recv_done(to, sizeof rec);
}

static void expect_one_alert(tls_conn *victim, uint8_t type, bool exact)
{
	uint8_t alert = 0;
	CHECK(tls_conn_state(victim) & TLS_ST_FAILED);
	CHECK_EQ(tls_conn_error(victim, &alert, NULL, NULL), TLS_ERR_PROTOCOL);
	if (exact && alert != TLS_ALERT_UNEXPECTED_MESSAGE)
		fprintf(stderr, "type %u: alert %u\n", type, alert);
	if (exact)
		CHECK_EQ(alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	CHECK(!(tls_conn_state(victim) & TLS_ST_ESTABLISHED));
	size_t n;
	const uint8_t *p = tls_conn_sendbuf(victim, &n);
	/* One alert record: in clear from the server, protected from a client
	 * that already switched its write keys. */
	CHECK(p != NULL && n >= 7 && p[0] == TLS_CT_ALERT && n == 5 + ((size_t)p[3] << 8 | p[4]));
	tls_conn_send_done(victim, n);
	CHECK(tls_conn_sendbuf(victim, &n) == NULL);
}

/* Server: after ClientHello and ClientKeyExchange it waits for CCS. */
static void server_side(void)
{
	for (int t = 0; t < 256; t++) {
		tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
		tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
		move_records(cli, srv, 0); /* ClientHello */
		move_records(srv, cli, 0); /* ServerHello .. ServerHelloDone */
		move_records(cli, srv, 1); /* ClientKeyExchange only */
		CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
		inject(srv, (uint8_t)t);
		expect_one_alert(srv, (uint8_t)t, true);
		tls_conn_free(cli);
		tls_conn_free(srv);
	}
}

/* Client (an on-path attacker answers in the server's place): after its
 * own Finished the client waits for NewSessionTicket or CCS. Type 4 is a
 * (malformed, empty) NewSessionTicket there, so only its alert may differ. */
static void client_side(void)
{
	for (int t = 0; t < 256; t++) {
		tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
		tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
		move_records(cli, srv, 0);
		move_records(srv, cli, 0);
		CHECK(!(tls_conn_state(cli) & TLS_ST_FAILED));
		size_t n;
		tls_conn_sendbuf(cli, &n); /* CKE, CCS, Finished: dropped */
		tls_conn_send_done(cli, n);
		inject(cli, (uint8_t)t);
		expect_one_alert(cli, (uint8_t)t, t != TLS_HT_NEW_SESSION_TICKET);
		tls_conn_free(cli);
		tls_conn_free(srv);
	}
}

int main(void)
{
	scfg = testpair_server_config(TLS_KEY_EC_P256);
	ccfg = testpair_client_config();
	server_side();
	client_side();
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
	return check_exit("engine/markers");
}
