/*
 * What an active attacker can do to records in flight: flip bits, cut,
 * reorder, replay, strip suites from the ClientHello, inject plaintext.
 * Every case must fail closed: not one byte of altered or unauthenticated
 * data reaches the application.
 */
#include <string.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"

static tls_config *scfg, *ccfg;

static void pair(tls_conn **cli, tls_conn **srv)
{
	*cli = tls_conn_new(ccfg, "server.test", NULL);
	*srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(testpair_handshake(*cli, *srv));
}

/* Capture what the client would send for one write of ${n} bytes. */
static size_t capture(tls_conn *cli, uint8_t *rec, size_t cap, size_t n)
{
	uint8_t msg[4096];
	memset(msg, 'S', sizeof msg);
	CHECK_EQ(tls_conn_write(cli, msg, n), n);
	size_t len;
	const uint8_t *p = tls_conn_sendbuf(cli, &len);
	CHECK(p != NULL && len <= cap);
	memcpy(rec, p, len);
	tls_conn_send_done(cli, len);
	return len;
}

static void deliver(tls_conn *srv, const uint8_t *p, size_t n)
{
	size_t room;
	uint8_t *dst = tls_conn_recvbuf(srv, &room);
	if (!dst)
		return;
	if (n > room)
		n = room;
	memcpy(dst, p, n);
	tls_conn_recv_done(srv, n);
}

static void bit_flips(void)
{
	uint8_t rec[512];
	size_t len = 0;
	for (size_t pos = 0; pos < 5 + 100 + 24; pos++) {
		tls_conn *cli, *srv;
		pair(&cli, &srv);
		len = capture(cli, rec, sizeof rec, 100);
		rec[pos] ^= (uint8_t)(1u << (pos % 8));
		deliver(srv, rec, len);
		uint8_t out[256];
		CHECK_EQ(tls_conn_readable(srv), 0);
		CHECK_EQ(tls_conn_read(srv, out, sizeof out), 0);
		if (pos >= 5) {
			uint8_t alert;
			CHECK_EQ(tls_conn_error(srv, &alert, NULL, NULL), TLS_ERR_PROTOCOL);
			CHECK_EQ(alert, TLS_ALERT_BAD_RECORD_MAC);
			/* The alert goes out, protected, and the client hears it. */
			testpair_pump(cli, srv, NULL, NULL);
			CHECK_EQ(tls_conn_error(cli, &alert, NULL, NULL), TLS_ERR_PEER_ALERT);
			CHECK_EQ(alert, TLS_ALERT_BAD_RECORD_MAC);
		}
		tls_conn_free(cli);
		tls_conn_free(srv);
	}
	CHECK_EQ(len, 5 + 100 + 24);
}

static void truncate_reorder_replay(void)
{
	uint8_t r1[512], r2[512], out[256];
	tls_conn *cli, *srv;

	/* Truncated: nothing comes out; the end of the stream is an error. */
	pair(&cli, &srv);
	size_t n1 = capture(cli, r1, sizeof r1, 100);
	deliver(srv, r1, n1 - 1);
	CHECK_EQ(tls_conn_read(srv, out, sizeof out), 0);
	CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
	tls_conn_eof(srv);
	CHECK_EQ(tls_conn_error(srv, NULL, NULL, NULL), TLS_ERR_TRUNCATED);
	tls_conn_free(cli);
	tls_conn_free(srv);

	/* Reordered: the second record first fails (sequence number is in the
	 * nonce/AAD). */
	pair(&cli, &srv);
	n1 = capture(cli, r1, sizeof r1, 100);
	size_t n2 = capture(cli, r2, sizeof r2, 50);
	deliver(srv, r2, n2);
	deliver(srv, r1, n1);
	CHECK_EQ(tls_conn_read(srv, out, sizeof out), 0);
	CHECK_EQ(tls_conn_error(srv, NULL, NULL, NULL), TLS_ERR_PROTOCOL);
	tls_conn_free(cli);
	tls_conn_free(srv);

	/* Replayed: the first copy is read, the replay is refused. */
	pair(&cli, &srv);
	n1 = capture(cli, r1, sizeof r1, 100);
	deliver(srv, r1, n1);
	CHECK_EQ(tls_conn_read(srv, out, sizeof out), 100);
	deliver(srv, r1, n1);
	CHECK_EQ(tls_conn_read(srv, out, sizeof out), 0);
	uint8_t alert;
	CHECK_EQ(tls_conn_error(srv, &alert, NULL, NULL), TLS_ERR_PROTOCOL);
	CHECK_EQ(alert, TLS_ALERT_BAD_RECORD_MAC);
	tls_conn_free(cli);
	tls_conn_free(srv);
}

/* An attacker rewrites the server's preferred suite in the ClientHello so
 * the server picks the client's second choice; the handshake must fail. */
static size_t strip_first_suite(void *arg, bool to_server, uint8_t *b, size_t len)
{
	int *done = arg;
	if (!to_server || *done || len < 5 + 4 + 2 + 32 + 1 || b[0] != 22 || b[5] != 1)
		return len;
	size_t off = 5 + 4 + 2 + 32;
	off += 1 + b[off]; /* session id */
	size_t n = (size_t)b[off] << 8 | b[off + 1];
	for (size_t i = off + 2; i + 1 < off + 2 + n; i += 2)
		if (b[i] == 0xc0 && b[i + 1] == 0x2b) { /* ECDHE-ECDSA-AES128-GCM-SHA256 */
			b[i] = 0x0a;                    /* a GREASE value the server ignores */
			b[i + 1] = 0x0a;
		}
	*done = 1;
	return len;
}

static void downgrade(void)
{
	char err[256];
	tls_config *c2 = testpair_client_config();
	CHECK(tls_config_set_ciphers(c2,
				     "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
				     err, sizeof err) == 0);
	tls_conn *cli = tls_conn_new(c2, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	int done = 0;
	testpair_pump(cli, srv, strip_first_suite, &done);
	CHECK(done);
	CHECK(!(tls_conn_state(cli) & TLS_ST_ESTABLISHED));
	CHECK(!(tls_conn_state(srv) & TLS_ST_ESTABLISHED));
	uint8_t alert;
	const char *why;
	/* With the extended master secret (RFC 7627) the altered ClientHello is
	 * in the session hash, so the two sides hold different keys and the
	 * client's encrypted Finished does not even decrypt; without EMS the
	 * Finished comparison itself would catch it. Either way it is fatal. */
	CHECK_EQ(tls_conn_error(srv, &alert, NULL, &why), TLS_ERR_PROTOCOL);
	CHECK(alert == TLS_ALERT_BAD_RECORD_MAC || alert == TLS_ALERT_DECRYPT_ERROR);
	CHECK(strstr(why, "bad_record_mac") != NULL || strstr(why, "Finished") != NULL);
	CHECK_EQ(tls_conn_error(cli, &alert, NULL, NULL), TLS_ERR_PEER_ALERT);
	tls_conn_free(cli);
	tls_conn_free(srv);
	tls_config_unref(c2);
}

static void plaintext_and_garbage(void)
{
	/* A plaintext client is refused at its first bytes, with one alert. */
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	deliver(srv, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	uint8_t alert;
	CHECK_EQ(tls_conn_error(srv, &alert, NULL, NULL), TLS_ERR_PROTOCOL);
	CHECK_EQ(alert, TLS_ALERT_UNEXPECTED_MESSAGE);
	size_t n;
	const uint8_t *p = tls_conn_sendbuf(srv, &n);
	CHECK(p != NULL && n == 7 && p[0] == 21 && p[5] == 2 && p[6] == 10);
	tls_conn_send_done(srv, n);
	CHECK(tls_conn_sendbuf(srv, &n) == NULL); /* exactly one alert */
	tls_conn_free(srv);

	/* An oversized plaintext record is record_overflow. */
	srv = tls_conn_new(scfg, NULL, NULL);
	const uint8_t big[5] = {22, 3, 3, 0x40, 0x01};
	deliver(srv, big, 5);
	CHECK_EQ(tls_conn_error(srv, &alert, NULL, NULL), TLS_ERR_PROTOCOL);
	CHECK_EQ(alert, TLS_ALERT_RECORD_OVERFLOW);
	tls_conn_free(srv);

	/* Application data before the handshake is unexpected_message. */
	srv = tls_conn_new(scfg, NULL, NULL);
	const uint8_t early[8] = {23, 3, 3, 0, 3, 'a', 'b', 'c'};
	deliver(srv, early, 8);
	CHECK_EQ(tls_conn_error(srv, &alert, NULL, NULL), TLS_ERR_PROTOCOL);
	CHECK_EQ(tls_conn_readable(srv), 0);
	tls_conn_free(srv);
}

static void close_and_renegotiation(void)
{
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	/* A HelloRequest from the server is answered with a no_renegotiation
	 * warning; the connection carries on. */
	static const uint8_t hello_request[4] = {0, 0, 0, 0};
	CHECK(tls_emit_record(srv, TLS_CT_HANDSHAKE, hello_request, 4) == 0);
	testpair_pump(cli, srv, NULL, NULL);
	CHECK(!((tls_conn_state(cli) | tls_conn_state(srv)) & TLS_ST_FAILED));
	CHECK(testpair_transfer(cli, srv, cli, srv, 1000));

	/* close_notify: the peer sees a clean end, and EOF after it is fine. */
	CHECK(testpair_transfer(srv, cli, cli, srv, 3000));
	tls_conn_close(cli);
	CHECK_EQ(tls_conn_write(cli, "x", 1), 0);
	testpair_pump(cli, srv, NULL, NULL);
	CHECK(tls_conn_state(cli) & TLS_ST_CLOSED);
	CHECK(tls_conn_state(srv) & TLS_ST_PEER_CLOSED);
	tls_conn_eof(srv);
	CHECK_EQ(tls_conn_error(srv, NULL, NULL, NULL), TLS_ERR_NONE);
	tls_conn_free(cli);
	tls_conn_free(srv);

	/* EOF without close_notify is truncation. */
	pair(&cli, &srv);
	tls_conn_eof(srv);
	CHECK_EQ(tls_conn_error(srv, NULL, NULL, NULL), TLS_ERR_TRUNCATED);
	tls_conn_free(cli);
	tls_conn_free(srv);
}

int main(void)
{
	scfg = testpair_server_config(TLS_KEY_EC_P256);
	ccfg = testpair_client_config();
	bit_flips();
	truncate_reorder_replay();
	downgrade();
	plaintext_and_garbage();
	close_and_renegotiation();
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
	return check_exit("engine/tamper");
}
