/*
 * test_export.c: an established connection exported and imported into a
 * fresh object (tls_export.h, the exec hand-over) goes on byte-exact:
 * - mid-stream, with decrypted plaintext not yet read, a partial record
 *   of ciphertext not yet processed and sealed records not yet sent on
 *   the exported side, for each AEAD (AES-128-GCM, AES-256-GCM,
 *   ChaCha20-Poly1305), server then client: the peer engine never notices
 *   (every byte arrives in order, then a clean close_notify each way);
 * - the import is refused for a config with another digest (another
 *   certificate, the other role), a wrong version, every truncation and
 *   every single flipped byte; with the checksum made valid again after a
 *   flip, the parser itself refuses the structural fields and never
 *   crashes on the rest (run under ASan by scripts/test);
 * - a connection still handshaking, or failed, or whose record protection
 *   is TLS 1.3's (tls_aead_init13), is not exported.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"
#include "tls_export.h"

static uint8_t pattern(size_t i, unsigned salt)
{
	return (uint8_t)((i * 131 + salt + (i >> 9)) & 0xff);
}

/* Move at most ${max} bytes of ${from}'s ciphertext into ${to}; returns
 * how many moved (less when ${to} has unread plaintext). */
static size_t move(tls_conn *from, tls_conn *to, size_t max)
{
	size_t n, moved = 0;
	const uint8_t *p = tls_conn_sendbuf(from, &n);
	if (!p)
		return 0;
	if (n > max)
		n = max;
	while (moved < n) {
		size_t room;
		uint8_t *dst = tls_conn_recvbuf(to, &room);
		if (!dst || room == 0)
			break;
		size_t k = n - moved < room ? n - moved : room;
		memcpy(dst, p + moved, k);
		tls_conn_recv_done(to, k);
		moved += k;
	}
	tls_conn_send_done(from, moved);
	return moved;
}

/* One direction of a stream: what was written and what arrived. */
struct stream {
	unsigned salt;
	size_t total, written, got;
	bool bad;
};

static void stream_write(tls_conn *c, struct stream *s)
{
	uint8_t buf[4096];
	while (s->written < s->total) {
		size_t k = s->total - s->written < sizeof buf ? s->total - s->written : sizeof buf;
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(s->written + i, s->salt);
		size_t t = tls_conn_write(c, buf, k);
		s->written += t;
		if (t < k)
			break;
	}
}

static void stream_read(tls_conn *c, struct stream *s, size_t max)
{
	uint8_t buf[4096];
	while (max > 0) {
		size_t n = tls_conn_read(c, buf, max < sizeof buf ? max : sizeof buf);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != pattern(s->got + i, s->salt))
				s->bad = true;
		s->got += n;
		max -= n;
	}
}

/* Pump both streams to the end. */
static void finish(tls_conn *cli, tls_conn *srv, struct stream *up, struct stream *down)
{
	for (int round = 0; round < 10000; round++) {
		stream_write(cli, up);
		stream_write(srv, down);
		size_t m = move(cli, srv, SIZE_MAX) + move(srv, cli, SIZE_MAX);
		stream_read(srv, up, SIZE_MAX);
		stream_read(cli, down, SIZE_MAX);
		if (m == 0 && up->got == up->total && down->got == down->total)
			break;
	}
}

/* ${*c} exported, freed, and re-made from the blob under ${cfg}. */
static bool hand_over(tls_conn **c, tls_config *cfg, size_t *blob_len)
{
	uint8_t *blob;
	size_t len;
	const char *why = "";
	if (tls_conn_export(*c, &blob, &len, &why) < 0) {
		fprintf(stderr, "export: %s\n", why);
		return false;
	}
	tls_conn_free(*c);
	char err[200] = "";
	*c = tls_conn_import(cfg, blob, len, err, sizeof err);
	if (!*c)
		fprintf(stderr, "import: %s\n", err);
	tls_export_free(blob, len);
	if (blob_len)
		*blob_len = len;
	return *c != NULL;
}

static tls_config *with_suite(tls_config *cfg, const char *suite)
{
	char err[200];
	CHECK(tls_config_set_ciphers(cfg, suite, err, sizeof err) == 0);
	return cfg;
}

/* Leave ${c} mid-stream: ${peer} sent records of which ${c} took part
 * (one record read in part, the next cut in the middle); ${c} sealed
 * records of which it sent only the first bytes. */
static void mid_stream(tls_conn *c, tls_conn *peer, struct stream *in, struct stream *out)
{
	stream_write(peer, in); /* two full records fit the output buffer */
	CHECK(move(peer, c, TLS_RECORD_HEADER + TLS_MAX_CIPHERTEXT + 3000) > 0);
	stream_read(c, in, 1000);
	CHECK_EQ(in->got, 1000);
	stream_write(c, out);
	CHECK(move(c, peer, 100) == 100);
	CHECK(tls_conn_readable(c) > 0);
	CHECK(c->in_end - c->in_start > 0); /* a partial record */
	CHECK(c->out_end - c->out_start > 0);
}

static void one_suite(const char *suite)
{
	tls_config *scfg = with_suite(testpair_server_config(TLS_KEY_EC_P256), suite);
	tls_config *scfg2 = with_suite(testpair_server_config(TLS_KEY_EC_P256), suite);
	tls_config *ccfg = with_suite(testpair_client_config(), suite);
	tls_config *ccfg2 = with_suite(testpair_client_config(), suite);
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	uint8_t *blob;
	size_t len;
	const char *why = "";
	CHECK(tls_conn_export(srv, &blob, &len, &why) < 0); /* handshaking */
	CHECK(strstr(why, "handshake") != NULL);
	CHECK(testpair_handshake(cli, srv));
	tls_info before, after;
	CHECK(tls_conn_info(cli, &before) == 0);
	char subject[256]; /* before's strings live in cli, which is freed */
	snprintf(subject, sizeof subject, "%s", before.peer_subject);
	CHECK(subject[0] != '\0');

	/* The server is handed over in the middle of both streams. */
	struct stream up = {.salt = 1, .total = 200000}, down = {.salt = 2, .total = 150000};
	mid_stream(srv, cli, &up, &down);
	CHECK(hand_over(&srv, scfg2, NULL));
	/* Then the client, with plaintext it has not read. */
	struct stream up2 = {.salt = 3, .total = 90000}, down2 = {.salt = 4, .total = 120000};
	finish(cli, srv, &up, &down);
	mid_stream(cli, srv, &down2, &up2);
	CHECK(hand_over(&cli, ccfg2, NULL));
	CHECK(tls_conn_info(cli, &after) == 0);
	CHECK_EQ(after.suite, before.suite);
	CHECK(strcmp(after.peer_subject, subject) == 0);
	CHECK(strcmp(after.server_name, "server.test") == 0);
	CHECK(after.peer_verified);
	finish(cli, srv, &up2, &down2);
	CHECK(!up.bad && !down.bad && !up2.bad && !down2.bad);
	CHECK_EQ(up.got, up.total);
	CHECK_EQ(down.got, down.total);
	CHECK_EQ(up2.got, up2.total);
	CHECK_EQ(down2.got, down2.total);
	CHECK(testpair_transfer(cli, srv, cli, srv, 70000));
	CHECK(testpair_transfer(srv, cli, cli, srv, 70000));
	/* A clean end each way. */
	tls_conn_close(cli);
	tls_conn_close(srv);
	testpair_pump(cli, srv, NULL, NULL);
	CHECK(tls_conn_state(cli) & TLS_ST_PEER_CLOSED);
	CHECK(tls_conn_state(srv) & TLS_ST_PEER_CLOSED);
	CHECK(!(tls_conn_state(cli) & TLS_ST_FAILED));
	CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
	tls_conn_free(cli);
	tls_conn_free(srv);
	tls_config_unref(scfg);
	tls_config_unref(scfg2);
	tls_config_unref(ccfg);
	tls_config_unref(ccfg2);
}

static void refusals(void)
{
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *other = testpair_server_config(TLS_KEY_RSA);
	tls_config *ccfg = testpair_client_config();
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(testpair_handshake(cli, srv));
	/* Small buffers both ways keep the blob short for the loops below. */
	CHECK(tls_conn_write(cli, "hello", 5) == 5);
	CHECK(move(cli, srv, SIZE_MAX) > 0);
	CHECK(tls_conn_write(srv, "world", 5) == 5);
	uint8_t *blob;
	size_t len;
	const char *why;
	CHECK(tls_conn_export(srv, &blob, &len, &why) == 0);
	char err[200];
	tls_conn *c = tls_conn_import(other, blob, len, err, sizeof err);
	CHECK(c == NULL && strstr(err, "another configuration"));
	c = tls_conn_import(ccfg, blob, len, err, sizeof err);
	CHECK(c == NULL);
	uint8_t *copy = malloc(len);
	memcpy(copy, blob, len);
	copy[4] = TLS_EXPORT_VERSION + 1;
	c = tls_conn_import(scfg, copy, len, err, sizeof err);
	CHECK(c == NULL && strstr(err, "version"));
	/* Every truncation and every flipped byte: refused. */
	int accepted = 0;
	for (size_t n = 0; n < len; n++)
		if ((c = tls_conn_import(scfg, blob, n, err, sizeof err)) != NULL) {
			accepted++;
			tls_conn_free(c);
		}
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, blob, len);
		copy[i] ^= 0xff;
		if ((c = tls_conn_import(scfg, copy, len, err, sizeof err)) != NULL) {
			accepted++;
			tls_conn_free(c);
		}
	}
	CHECK_EQ(accepted, 0);
	/* Flipped with the checksum made valid again: the parser's own
	 * checks. The header up to the suite, and every length field, must
	 * refuse; nothing may crash or leak. */
	int refused = 0;
	size_t header = 4 + 1 + 32 + 1 + 2;
	bool header_ok = true;
	for (size_t i = 0; i < len - 32; i++) {
		memcpy(copy, blob, len);
		copy[i] ^= 0xff;
		crypto_generichash(copy + len - 32, 32, copy, len - 32, NULL, 0);
		c = tls_conn_import(scfg, copy, len, err, sizeof err);
		if (!c)
			refused++;
		else if (i < header)
			header_ok = false;
		if (c) { /* a damaged but well-formed state still behaves */
			uint8_t b[64];
			tls_conn_read(c, b, sizeof b);
			tls_conn_write(c, "x", 1);
			size_t m;
			tls_conn_sendbuf(c, &m);
			tls_conn_free(c);
		}
	}
	CHECK(header_ok);
	CHECK(refused >= (int)header);
	/* The genuine blob still imports and reads "hello". */
	c = tls_conn_import(scfg, blob, len, err, sizeof err);
	CHECK(c != NULL);
	if (c) {
		char got[8] = "";
		CHECK_EQ(tls_conn_read(c, got, sizeof got), 5);
		CHECK(memcmp(got, "hello", 5) == 0);
		CHECK(move(c, cli, SIZE_MAX) > 0);
		CHECK_EQ(tls_conn_read(cli, got, sizeof got), 5);
		CHECK(memcmp(got, "world", 5) == 0);
		tls_conn_free(c);
	}
	/* A failed connection is not exported. */
	uint8_t junk[5] = {0x17, 3, 3, 0, 40};
	size_t room;
	uint8_t *dst = tls_conn_recvbuf(cli, &room);
	memcpy(dst, junk, 5);
	tls_conn_recv_done(cli, 5);
	dst = tls_conn_recvbuf(cli, &room);
	if (dst) {
		memset(dst, 0, 40);
		tls_conn_recv_done(cli, 40);
	}
	CHECK(tls_conn_state(cli) & TLS_ST_FAILED);
	uint8_t *b2;
	size_t l2;
	CHECK(tls_conn_export(cli, &b2, &l2, &why) < 0);
	/* Nor one whose write side is keyed for TLS 1.3 (the format has TLS
	 * 1.2 record state only). */
	uint8_t key[32], iv13[12] = {0};
	memcpy(key, srv->wr.key, sizeof key);
	memcpy(iv13, srv->wr.iv, sizeof iv13);
	CHECK(tls_aead_init13(&srv->wr, srv->wr.kind, key, iv13, true) == 0);
	why = "";
	int r = tls_conn_export(srv, &b2, &l2, &why);
	CHECK(r < 0);
	CHECK(strstr(why, "TLS 1.3") != NULL);
	if (r == 0)
		tls_export_free(b2, l2);
	free(copy);
	tls_export_free(blob, len);
	tls_conn_free(cli);
	tls_conn_free(srv);
	tls_config_unref(scfg);
	tls_config_unref(other);
	tls_config_unref(ccfg);
}

int main(void)
{
	one_suite("ECDHE-ECDSA-AES128-GCM-SHA256");
	one_suite("ECDHE-ECDSA-AES256-GCM-SHA384");
	one_suite("ECDHE-ECDSA-CHACHA20-POLY1305");
	refusals();
	return check_exit("engine/export");
}
