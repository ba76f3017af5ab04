/*
 * gen_corpus.c: writes the seed corpus of the fuzz targets. It runs real
 * client<->server handshakes in memory through tls.h (several suites,
 * groups, key types, a client certificate, RSA key transport, a resumption)
 * and stores what each side received; it splits the unencrypted part of
 * those streams into handshake messages for fuzz_messages, and seals a few
 * records under the fixed key for fuzz_record_open, and exports connections
 * left in the middle of their streams for fuzz_import.
 *
 * Usage: gen_corpus DIR (normally tests/fuzz/corpus); writes
 * DIR/<target>/<name>, replacing files of the same name.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "aead.h"
#include "consts.h"
#include "cursor.h"
#include "internal.h"
#include "suites.h"
#include "tls_export.h"

static const char *outdir;
static size_t files_written, bytes_written;

static void die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

static void write_seed(const char *target, const char *name, const uint8_t *prefix, size_t plen,
		       const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", outdir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("cannot create a corpus directory");
	snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(prefix, 1, plen, f) != plen || (n && fwrite(p, 1, n, f) != n) ||
	    fclose(f) != 0)
		die("cannot write a corpus file");
	files_written++;
	bytes_written += plen + n;
}

/* ---- an in-memory connection pair that records what each side got ------ */

typedef struct stream {
	uint8_t *p;
	size_t len, cap;
} stream;

static void append(stream *s, const uint8_t *p, size_t n)
{
	if (s->cap - s->len < n) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
		if (!s->p)
			die("out of memory");
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

/* as(c): ${c}, after switching randomness to its side's stream, so each
 * side draws exactly what it draws alone in a fuzz target. */
static tls_conn *as(tls_conn *c)
{
	fuzz_rand_use(c->role == TLS_ROLE_CLIENT ? FUZZ_RAND_CLIENT : FUZZ_RAND_SERVER);
	return c;
}

/* move(from, to, rec): ${from}'s pending output into ${to}, recorded. */
static bool move(tls_conn *from, tls_conn *to, stream *rec)
{
	bool moved = false;
	for (;;) {
		size_t len = 0, room = 0;
		const uint8_t *out = tls_conn_sendbuf(as(from), &len);
		uint8_t *in = out && len ? tls_conn_recvbuf(as(to), &room) : NULL;
		if (!in || !room)
			return moved;
		size_t n = len < room ? len : room;
		memcpy(in, out, n);
		append(rec, out, n);
		tls_conn_send_done(as(from), n);
		tls_conn_recv_done(as(to), n);
		moved = true;
	}
}

static void pump(tls_conn *cl, tls_conn *sv, stream *to_client, stream *to_server)
{
	for (int i = 0; i < 64; i++) {
		bool a = move(cl, sv, to_server);
		bool b = move(sv, cl, to_client);
		if (!a && !b)
			return;
	}
}

static void check_ok(tls_conn *c, const char *who)
{
	const char *reason = NULL;
	if (tls_conn_error(c, NULL, NULL, &reason) != TLS_ERR_NONE) {
		fprintf(stderr, "gen_corpus: %s failed: %s\n", who, reason);
		exit(1);
	}
}

static size_t read_all(tls_conn *c)
{
	uint8_t buf[4096];
	size_t total = 0, n;
	while ((n = tls_conn_read(c, buf, sizeof buf)) > 0)
		total += n;
	return total;
}

/* ---- splitting a stream into handshake messages ------------------------- */

typedef struct scenario {
	const char *name;
	int key;  /* server key type */
	bool ask; /* server requests a client certificate */
	const char *ciphers, *groups;
	bool client_cert;
	bool resume; /* offer fuzz_session() */
	bool post;   /* after the handshake: renegotiation requests, warnings, empty records */
} scenario;

/* Selector (fuzz.h) for a message of ${type} that the ${server} side got. */
static int selector(const scenario *s, const tls_info *info, uint8_t type, bool server)
{
	bool rsa = s->key == TLS_KEY_RSA;
	switch (type) {
	case TLS_HT_CLIENT_HELLO:
		return FUZZ_MSG_CLIENT_HELLO | (rsa ? FUZZ_V_RSA : s->ask ? FUZZ_V_ALT1 : 0);
	case TLS_HT_SERVER_HELLO:
		return FUZZ_MSG_SERVER_HELLO | (info->resumed ? FUZZ_V_ALT1 : 0);
	case TLS_HT_CERTIFICATE:
		return FUZZ_MSG_CERTIFICATE | (server ? FUZZ_V_SERVER : rsa ? FUZZ_V_RSA : 0);
	case TLS_HT_SERVER_KEY_EXCHANGE:
		return FUZZ_MSG_SERVER_KEY_EXCHANGE | (rsa ? FUZZ_V_RSA : 0);
	case TLS_HT_CERTIFICATE_REQUEST:
		return FUZZ_MSG_CERTIFICATE_REQUEST;
	case TLS_HT_CLIENT_KEY_EXCHANGE:
		if (info->group == 0)
			return FUZZ_MSG_CLIENT_KEY_EXCHANGE | FUZZ_V_RSA;
		return FUZZ_MSG_CLIENT_KEY_EXCHANGE |
		       (info->group == TLS_GROUP_SECP256R1   ? FUZZ_V_ALT1
			: info->group == TLS_GROUP_SECP384R1 ? FUZZ_V_ALT2
							     : 0);
	case TLS_HT_CERTIFICATE_VERIFY:
		return FUZZ_MSG_CERTIFICATE_VERIFY;
	case TLS_HT_NEW_SESSION_TICKET:
		return FUZZ_MSG_NEW_SESSION_TICKET;
	}
	return -1;
}

/* split(s, info, st, server): each handshake message before the first
 * ChangeCipherSpec of ${st} as a fuzz_messages seed. */
static void split(const scenario *s, const tls_info *info, const stream *st, bool server)
{
	stream hs = {0};
	tls_cur recs;
	tls_cur_init(&recs, st->p, st->len);
	while (tls_cur_remaining(&recs) >= TLS_RECORD_HEADER) {
		uint8_t type = tls_cur_u8(&recs);
		(void)tls_cur_u16(&recs);
		tls_cur body = tls_cur_block(&recs, 2);
		if (type != TLS_CT_HANDSHAKE)
			break;
		size_t n = tls_cur_remaining(&body);
		append(&hs, tls_cur_bytes(&body, n), n);
	}

	tls_cur msgs;
	tls_cur_init(&msgs, hs.p, hs.len);
	while (tls_cur_remaining(&msgs) >= TLS_HS_HEADER) {
		uint8_t type = tls_cur_u8(&msgs);
		tls_cur body = tls_cur_block(&msgs, 3);
		size_t n = tls_cur_remaining(&body);
		const uint8_t *p = tls_cur_bytes(&body, n);
		int sel = selector(s, info, type, server);
		if (msgs.bad || sel < 0)
			continue;
		char name[128];
		snprintf(name, sizeof name, "%s-%s-%02x", s->name,
			 server ? "to-server" : "to-client", sel);
		uint8_t prefix = (uint8_t)sel;
		write_seed("fuzz_messages", name, &prefix, 1, p, n);
	}
	free(hs.p);
}

/* emit(c, type, p, n): a record from ${c} that the API would never send. */
static void emit(tls_conn *c, uint8_t type, const uint8_t *p, size_t n)
{
	if (tls_emit_record(as(c), type, p, n) < 0)
		die("tls_emit_record failed");
}

/* post_handshake(cl, sv): what a peer may send after the handshake besides
 * data, each of which must be survived: a renegotiating ClientHello split
 * over two records (refused with a no_renegotiation warning), a
 * HelloRequest, warning alerts and empty application_data records. */
static void post_handshake(tls_conn *cl, tls_conn *sv)
{
	uint8_t hello[4 + 40] = {TLS_HT_CLIENT_HELLO, 0, 0, 40, 0x03, 0x03};
	static const uint8_t hello_request[4] = {TLS_HT_HELLO_REQUEST, 0, 0, 0};
	static const uint8_t user_canceled[2] = {TLS_ALERT_LEVEL_WARNING, TLS_ALERT_USER_CANCELED};
	static const uint8_t after[] = "after";

	emit(cl, TLS_CT_HANDSHAKE, hello, 10);
	emit(cl, TLS_CT_HANDSHAKE, hello + 10, sizeof hello - 10);
	emit(cl, TLS_CT_ALERT, user_canceled, sizeof user_canceled);
	emit(cl, TLS_CT_APPLICATION_DATA, after, 0);
	emit(cl, TLS_CT_APPLICATION_DATA, after, sizeof after - 1);
	emit(sv, TLS_CT_HANDSHAKE, hello_request, sizeof hello_request);
	emit(sv, TLS_CT_ALERT, user_canceled, sizeof user_canceled);
	emit(sv, TLS_CT_APPLICATION_DATA, after, 0);
	emit(sv, TLS_CT_APPLICATION_DATA, after, sizeof after - 1);
}

/* ---- scenarios ----------------------------------------------------------- */

static void run(const scenario *s, tls_config *server_cfg)
{
	tls_config *client_cfg = fuzz_client_config(s->client_cert);
	stream to_client = {0}, to_server = {0};

	/* Each side on its own stream, restarted as in the fuzz targets. */
	fuzz_rand_reset(FUZZ_RAND_CLIENT);
	tls_conn *cl = tls_conn_new(client_cfg, FUZZ_SERVER_NAME, NULL);
	if (!cl)
		die("tls_conn_new failed");
	if (s->resume) {
		tls_session *offer = fuzz_session();
		tls_conn_set_session(cl, offer);
		tls_session_unref(offer);
	}
	fuzz_rand_reset(FUZZ_RAND_SERVER);
	tls_conn *sv = tls_conn_new(server_cfg, NULL, NULL);
	if (!sv)
		die("tls_conn_new failed");

	pump(cl, sv, &to_client, &to_server);
	check_ok(cl, "client");
	check_ok(sv, "server");
	tls_info info;
	if (tls_conn_info(sv, &info) < 0 || !(tls_conn_state(cl) & TLS_ST_ESTABLISHED))
		die("handshake did not complete");
	if (s->resume && !info.resumed)
		die("the resumption scenario did not resume");

	/* Some application data each way, then close_notify both ways. */
	static const char req[] = "GET / HTTP/1.0\r\nHost: fuzz.test\r\n\r\n";
	uint8_t reply[1500];
	memset(reply, 'r', sizeof reply);
	if (tls_conn_write(as(cl), req, sizeof req - 1) != sizeof req - 1)
		die("client write failed");
	pump(cl, sv, &to_client, &to_server);
	if (read_all(sv) != sizeof req - 1 ||
	    tls_conn_write(sv, reply, sizeof reply) != sizeof reply)
		die("server read/write failed");
	pump(cl, sv, &to_client, &to_server);
	if (read_all(as(cl)) != sizeof reply)
		die("client read failed");
	if (s->post) {
		post_handshake(cl, sv);
		pump(cl, sv, &to_client, &to_server);
		check_ok(cl, "client");
		check_ok(sv, "server");
		if (read_all(as(cl)) != 5 || read_all(as(sv)) != 5)
			die("data after the post-handshake records was lost");
	}
	tls_conn_close(as(cl));
	pump(cl, sv, &to_client, &to_server);
	tls_conn_close(as(sv));
	pump(cl, sv, &to_client, &to_server);
	check_ok(cl, "client");
	check_ok(sv, "server");

	uint8_t seed = s->ask ? 0x80 : 0x00;
	write_seed("fuzz_server_input", s->name, &seed, 1, to_server.p, to_server.len);
	seed = s->resume ? 0x80 : 0x00;
	write_seed("fuzz_client_input", s->name, &seed, 1, to_client.p, to_client.len);
	if (!s->resume && !s->ask) {
		/* The same bytes cut into small pieces. */
		char name[128];
		snprintf(name, sizeof name, "%s-chunked", s->name);
		seed = 0x01 | (s->ask ? 0x80 : 0);
		write_seed("fuzz_server_input", name, &seed, 1, to_server.p, to_server.len);
		seed = 0x01;
		write_seed("fuzz_client_input", name, &seed, 1, to_client.p, to_client.len);
	}
	split(s, &info, &to_server, true);
	split(s, &info, &to_client, false);

	tls_conn_free(cl);
	tls_conn_free(sv);
	tls_config_unref(client_cfg);
	free(to_client.p);
	free(to_server.p);
}

static const scenario scenarios[] = {
	{.name = "ecdsa-x25519-aes128", .key = TLS_KEY_EC_P256, .client_cert = true},
	{.name = "ecdsa-resumed", .key = TLS_KEY_EC_P256, .client_cert = true, .resume = true},
	{.name = "ecdsa-resumed-post",
	 .key = TLS_KEY_EC_P256,
	 .client_cert = true,
	 .resume = true,
	 .post = true},
	{.name = "ecdsa-p256-chacha",
	 .key = TLS_KEY_EC_P256,
	 .ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305",
	 .groups = "secp256r1",
	 .client_cert = true},
	{.name = "ecdsa-p384-aes256",
	 .key = TLS_KEY_EC_P256,
	 .ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384",
	 .groups = "secp384r1",
	 .client_cert = true},
	{.name = "ecdsa-clientcert", .key = TLS_KEY_EC_P256, .ask = true, .client_cert = true},
	{.name = "ecdsa-asked-nocert", .key = TLS_KEY_EC_P256, .ask = true},
	{.name = "rsa-ecdhe-clientcert",
	 .key = TLS_KEY_RSA,
	 .ask = true,
	 .ciphers = "ECDHE-RSA-AES128-GCM-SHA256",
	 .client_cert = true},
	{.name = "rsa-kx", .key = TLS_KEY_RSA, .ciphers = "AES128-GCM-SHA256", .client_cert = true},
};

static void finished_seeds(void)
{
	static const uint8_t variants[] = {0, FUZZ_V_SERVER, FUZZ_V_ALT1, FUZZ_V_ALT2};
	for (size_t i = 0; i < sizeof variants; i++) {
		uint8_t sel = FUZZ_MSG_FINISHED | variants[i], body[TLS_FINISHED_LEN + 1];
		randombytes_buf(body, sizeof body);
		char name[64];
		snprintf(name, sizeof name, "finished-%02x", sel);
		/* One of the right length, one a byte too long. */
		write_seed("fuzz_messages", name, &sel, 1, body, TLS_FINISHED_LEN);
		snprintf(name, sizeof name, "finished-%02x-long", sel);
		write_seed("fuzz_messages", name, &sel, 1, body, sizeof body);
	}
}

static void record_seeds(void)
{
	static const size_t lens[] = {0, 17, 1400};
	static const uint64_t seqs[] = {0, 0x0102030405060708u};
	uint8_t plain[1400], body[1400 + TLS_AEAD_MAX_OVERHEAD];
	randombytes_buf(plain, sizeof plain);
	for (int kind = 0; kind < 3; kind++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
			for (size_t j = 0; j < sizeof seqs / sizeof seqs[0]; j++) {
				tls_aead a;
				memset(&a, 0, sizeof a);
				if (tls_aead_init(&a, kind, (const uint8_t *)FUZZ_AEAD_KEY,
						  (const uint8_t *)FUZZ_AEAD_IV, true) < 0)
					die("tls_aead_init failed");
				a.seq = seqs[j];
				uint8_t type = j ? TLS_CT_APPLICATION_DATA : TLS_CT_HANDSHAKE;
				size_t n = tls_aead_seal(&a, type, plain, lens[i], body);
				tls_aead_free(&a);
				if (n == 0)
					die("tls_aead_seal failed");
				uint8_t prefix[FUZZ_RECORD_PREFIX] = {(uint8_t)kind, type};
				for (int k = 0; k < 8; k++)
					prefix[2 + k] = (uint8_t)(seqs[j] >> (56 - 8 * k));
				char name[64];
				snprintf(name, sizeof name, "kind%d-len%zu-seq%zu", kind, lens[i],
					 j);
				write_seed("fuzz_record_open", name, prefix, sizeof prefix, body,
					   n);
			}
}

/* ---- exported connection states for fuzz_import -------------------------- */

/* half_deliver(from, to): ${to} gets ${from}'s first pending record whole
 * and half of the rest; the other half stays in ${from}'s send buffer. */
static void half_deliver(tls_conn *from, tls_conn *to)
{
	size_t len = 0, room = 0;
	const uint8_t *p = tls_conn_sendbuf(as(from), &len);
	if (!p || len < TLS_RECORD_HEADER)
		die("nothing to deliver");
	size_t first = TLS_RECORD_HEADER + ((size_t)p[3] << 8 | p[4]);
	size_t n = first + (len - first) / 2;
	uint8_t *in = tls_conn_recvbuf(as(to), &room);
	if (!in || room < n)
		die("no room to deliver");
	memcpy(in, p, n);
	tls_conn_send_done(as(from), n);
	tls_conn_recv_done(as(to), n);
}

/* A fuzz_import peer script (fuzz_import.c) for a connection of ${role}:
 * data, a post-handshake handshake message from the peer in fragments
 * (HelloRequest to a client, a renegotiating ClientHello to a server:
 * both refused with no_renegotiation warnings), a warning alert, an empty
 * record, more data, close_notify. */
static size_t peer_script(int role, uint8_t *out, size_t cap)
{
	static const uint8_t to_client[] = {23, 5,  'h', 'e', 'l', 'l', 'o', 22, 2,  0,
					    0,  22, 2,   0,   0,   21,  2,   1,  90, 23,
					    0,  23, 3,   'e', 'n', 'd', 21,  2,  1,  0};
	uint8_t to_server[2 + 5 + 2 + 3 + 2 + 41 + 2 + 2 + 2 + 2 + 3 + 2 + 2] = {
		23, 5, 'h', 'e', 'l', 'l', 'o', 22, 3, TLS_HT_CLIENT_HELLO, 0, 0, 22, 41, 40, 3, 3};
	size_t n = 2 + 5 + 2 + 3 + 2 + 41;
	static const uint8_t tail[] = {21, 2, 1, 90, 23, 0, 23, 3, 'e', 'n', 'd', 21, 2, 1, 0};
	memcpy(to_server + n, tail, sizeof tail);
	n += sizeof tail;
	const uint8_t *p = role == TLS_ROLE_CLIENT ? to_client : to_server;
	if (role == TLS_ROLE_CLIENT)
		n = sizeof to_client;
	if (n > cap)
		die("script too long");
	memcpy(out, p, n);
	return n;
}

/* export_seed(c, name, script): ${c}'s state as a fuzz_import seed
 * (selector 0, the blob without its checksum, which the harness
 * appends); with ${script} another one with a peer script (selector
 * 0x08, fuzz_import.c). */
static void export_seed(tls_conn *c, const char *name, bool script)
{
	uint8_t *blob;
	size_t len;
	const char *why = "";
	check_ok(c, name);
	if (tls_conn_export(c, &blob, &len, &why) < 0) {
		fprintf(stderr, "gen_corpus: export %s: %s\n", name, why);
		exit(1);
	}
	char full[128];
	snprintf(full, sizeof full, "%s-%s", name,
		 c->role == TLS_ROLE_CLIENT ? "client" : "server");
	static const uint8_t sel = 0;
	write_seed("fuzz_import", full, &sel, 1, blob, len - 32);
	if (script) {
		uint8_t *p = malloc(3 + len + 256);
		if (!p)
			die("out of memory");
		p[0] = 0x08;
		p[1] = (uint8_t)((len - 32) >> 8);
		p[2] = (uint8_t)(len - 32);
		memcpy(p + 3, blob, len - 32);
		size_t n = peer_script(c->role, p + 3 + len - 32, 256);
		char named[160];
		snprintf(named, sizeof named, "%s-script", full);
		write_seed("fuzz_import", named, p, 3 + len - 32 + n, NULL, 0);
		free(p);
	}
	tls_export_free(blob, len);
}

typedef struct export_case {
	const char *name;
	int key;
	const char *ciphers;
	int shape; /* 0: mid-stream both ways, 1: idle, 2: post-handshake, 3: closing */
} export_case;

static void export_one(const export_case *e)
{
	tls_config *scfg = fuzz_server_config(e->key, false, e->ciphers, NULL);
	tls_config *ccfg = fuzz_client_config(true);
	stream junk_c = {0}, junk_s = {0};
	fuzz_rand_reset(FUZZ_RAND_CLIENT);
	tls_conn *cl = tls_conn_new(ccfg, FUZZ_SERVER_NAME, NULL);
	fuzz_rand_reset(FUZZ_RAND_SERVER);
	tls_conn *sv = tls_conn_new(scfg, NULL, NULL);
	if (!cl || !sv)
		die("tls_conn_new failed");
	pump(cl, sv, &junk_c, &junk_s);
	check_ok(cl, "client");
	check_ok(sv, "server");
	if (!(tls_conn_state(cl) & TLS_ST_ESTABLISHED))
		die("handshake did not complete");
	uint8_t data[6000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	if (e->shape == 0) {
		/* Each side: plaintext not read, a partial record not yet
		 * processed, sealed bytes not yet sent. */
		for (int i = 0; i < 2; i++)
			if (tls_conn_write(as(cl), data, 3000) != 3000 ||
			    tls_conn_write(as(sv), data, sizeof data) != sizeof data)
				die("write failed");
		half_deliver(cl, sv);
		half_deliver(sv, cl);
	} else if (e->shape == 2) {
		/* A post-handshake handshake message cut inside its header,
		 * a renegotiation refused (a warning pending), empty records. */
		static const uint8_t hello[4 + 40] = {TLS_HT_CLIENT_HELLO, 0, 0, 40, 3, 3};
		static const uint8_t request[4] = {TLS_HT_HELLO_REQUEST, 0, 0, 0};
		emit(cl, TLS_CT_HANDSHAKE, hello, sizeof hello);
		emit(cl, TLS_CT_APPLICATION_DATA, data, 0);
		emit(cl, TLS_CT_HANDSHAKE, request, 2);
		move(cl, sv, &junk_s);
		move(sv, cl, &junk_c); /* no_renegotiation, before the fragment */
		emit(sv, TLS_CT_APPLICATION_DATA, data, 0);
		emit(sv, TLS_CT_HANDSHAKE, request, 3);
		move(sv, cl, &junk_c);
	} else if (e->shape == 3) {
		if (tls_conn_write(as(cl), data, 100) != 100)
			die("write failed");
		tls_conn_close(as(cl));
		move(cl, sv, &junk_s);
	}
	export_seed(cl, e->name, e->shape != 0);
	export_seed(sv, e->name, e->shape != 0);
	tls_conn_free(cl);
	tls_conn_free(sv);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
	free(junk_c.p);
	free(junk_s.p);
}

static const export_case export_cases[] = {
	{"ecdsa-aes128", TLS_KEY_EC_P256, "ECDHE-ECDSA-AES128-GCM-SHA256", 0},
	{"ecdsa-aes256", TLS_KEY_EC_P256, "ECDHE-ECDSA-AES256-GCM-SHA384", 0},
	{"ecdsa-chacha", TLS_KEY_EC_P256, "ECDHE-ECDSA-CHACHA20-POLY1305", 0},
	{"rsa-ecdhe-aes128", TLS_KEY_RSA, "ECDHE-RSA-AES128-GCM-SHA256", 0},
	{"rsa-ecdhe-aes256", TLS_KEY_RSA, "ECDHE-RSA-AES256-GCM-SHA384", 0},
	{"rsa-ecdhe-chacha", TLS_KEY_RSA, "ECDHE-RSA-CHACHA20-POLY1305", 0},
	{"rsa-kx-aes128", TLS_KEY_RSA, "AES128-GCM-SHA256", 0},
	{"rsa-kx-aes256", TLS_KEY_RSA, "AES256-GCM-SHA384", 0},
	{"ecdsa-idle", TLS_KEY_EC_P256, NULL, 1},
	{"ecdsa-post", TLS_KEY_EC_P256, NULL, 2},
	{"ecdsa-closing", TLS_KEY_EC_P256, NULL, 3},
};

static void export_seeds(void)
{
	for (size_t i = 0; i < sizeof export_cases / sizeof export_cases[0]; i++)
		export_one(&export_cases[i]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
		die("cannot create the corpus directory");
	fuzz_rand_install();

	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
		const scenario *s = &scenarios[i];
		tls_config *srv = fuzz_server_config(s->key, s->ask, s->ciphers, s->groups);
		run(s, srv);
		tls_config_unref(srv);
	}
	finished_seeds();
	record_seeds();
	export_seeds();
	printf("gen_corpus: %zu files, %zu bytes in %s\n", files_written, bytes_written, outdir);
	return 0;
}
