/*
 * test_records.c: the record layer and handshake reassembly against a
 * hostile peer (issue 8):
 * - an alert (close_notify, a warning, a fatal one) or EOF before the
 *   handshake completes ends it at once: the connection fails, answers
 *   nothing and wants no more input (a close_notify used to leave it
 *   waiting for input it would never take: a spin in the shim);
 * - a ChangeCipherSpec of a length other than 1 or a value other than 1 is
 *   unexpected_message (what OpenSSL sends);
 * - alert, application_data and ChangeCipherSpec records inside a
 *   fragmented handshake message are unexpected_message (RFC 5246 §6.2.1),
 *   during the handshake and after it (a partial renegotiation request);
 * - a message type the handshake does not expect, or longer than its type
 *   allows, is refused from its 4-byte header, before its body arrives;
 * - ClientHellos of 4,091 and 16,373 extensions (about 64 KiB, so split
 *   over many records) are answered and the handshake completes; a
 *   duplicate among them is still refused;
 * - a whole handshake with every handshake record cut to 1 byte succeeds,
 *   and reassembly allocates at most once per message and copies each byte
 *   at most once (the engine's counters: a deterministic proof that it is
 *   linear, not a timing); whole records are not copied at all.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"

static tls_config *scfg, *ccfg;

/* ---- moving bytes -------------------------------------------------------- */

static void deliver(tls_conn *to, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t room;
		uint8_t *dst = tls_conn_recvbuf(to, &room);
		if (!dst || room == 0)
			return;
		size_t k = n < room ? n : room;
		memcpy(dst, p, k);
		tls_conn_recv_done(to, k);
		p += k;
		n -= k;
	}
}

/* A plaintext record of ${type} with ${n} bytes of ${body}. */
static void send_record(tls_conn *to, uint8_t type, const void *body, size_t n)
{
	static uint8_t rec[TLS_RECORD_HEADER + TLS_MAX_PLAINTEXT];
	rec[0] = type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(n >> 8);
	rec[4] = (uint8_t)n;
	memcpy(rec + TLS_RECORD_HEADER, body, n);
	deliver(to, rec, TLS_RECORD_HEADER + n);
}

/* Move the first ${nrec} records ${from} has queued to ${to} (all when 0);
 * the rest is dropped. */
static void move_records(tls_conn *from, tls_conn *to, int nrec)
{
	size_t n;
	const uint8_t *p = tls_conn_sendbuf(from, &n);
	CHECK(p != NULL);
	if (!p)
		return;
	size_t take = n;
	if (nrec > 0) {
		size_t off = 0;
		for (int i = 0; i < nrec && off + 5 <= n; i++)
			off += 5 + ((size_t)p[off + 3] << 8 | p[off + 4]);
		take = off < n ? off : n;
	}
	deliver(to, p, take);
	tls_conn_send_done(from, n);
}

/* The handshake messages ${from} has queued (plaintext records), back to
 * back; the records are consumed. */
static size_t take_messages(tls_conn *from, uint8_t *out, size_t cap)
{
	size_t n, len = 0;
	const uint8_t *p = tls_conn_sendbuf(from, &n);
	CHECK(p != NULL);
	for (size_t off = 0; p && off + TLS_RECORD_HEADER <= n;) {
		size_t rec = (size_t)p[off + 3] << 8 | p[off + 4];
		CHECK(p[off] == TLS_CT_HANDSHAKE && len + rec <= cap);
		if (p[off] != TLS_CT_HANDSHAKE || len + rec > cap)
			break;
		memcpy(out + len, p + off + TLS_RECORD_HEADER, rec);
		len += rec;
		off += TLS_RECORD_HEADER + rec;
	}
	if (p)
		tls_conn_send_done(from, n);
	return len;
}

/* ${c} failed with ${err} and ${alert}, its reason says ${words}, it takes
 * no more input, and it answers with exactly one alert record when the
 * failure is ours to report (nothing after the peer's alert or EOF). */
static void expect_failed(tls_conn *c, int err, uint8_t alert, const char *words)
{
	uint8_t a = 0xff;
	const char *reason = "";
	unsigned st = tls_conn_state(c);
	CHECK(st & TLS_ST_FAILED);
	CHECK(!(st & (TLS_ST_WANT_INPUT | TLS_ST_READABLE)));
	CHECK_EQ(tls_conn_error(c, &a, NULL, &reason), err);
	CHECK_EQ(a, alert);
	if (words && !strstr(reason, words)) {
		fprintf(stderr, "reason \"%s\" lacks \"%s\"\n", reason, words);
		CHECK(!"reason");
	}
	size_t room;
	CHECK(tls_conn_recvbuf(c, &room) == NULL);
	size_t n;
	const uint8_t *p = tls_conn_sendbuf(c, &n);
	if (err == TLS_ERR_PEER_ALERT || err == TLS_ERR_TRUNCATED) {
		CHECK(p == NULL);
	} else {
		CHECK(p != NULL && n >= 7 && p[0] == TLS_CT_ALERT &&
		      n == 5 + ((size_t)p[3] << 8 | p[4]));
		tls_conn_send_done(c, n);
	}
	CHECK(tls_conn_sendbuf(c, &n) == NULL);
}

static void pair(tls_conn **cli, tls_conn **srv)
{
	*cli = tls_conn_new(ccfg, "server.test", NULL);
	*srv = tls_conn_new(scfg, NULL, NULL);
}

static void unpair(tls_conn *cli, tls_conn *srv)
{
	tls_conn_free(cli);
	tls_conn_free(srv);
}

/* ---- item 2: alerts and EOF during the handshake ------------------------- */

/* Where the handshake stands when the alert comes. */
enum { AT_SERVER_FIRST, AT_CLIENT_HELLO_SENT, AT_SERVER_AFTER_HELLO, AT_CLIENT_AFTER_FLIGHT };

/* Bring a pair to ${at}; returns the side that receives next. */
static tls_conn *advance(tls_conn *cli, tls_conn *srv, int at)
{
	size_t n;
	switch (at) {
	case AT_SERVER_FIRST:
		return srv;
	case AT_CLIENT_HELLO_SENT:
		tls_conn_sendbuf(cli, &n); /* the ClientHello is written... */
		tls_conn_send_done(cli, n);
		return cli;
	case AT_SERVER_AFTER_HELLO:
		move_records(cli, srv, 0);
		tls_conn_sendbuf(srv, &n); /* its flight went out */
		tls_conn_send_done(srv, n);
		return srv;
	default:
		move_records(cli, srv, 0);
		move_records(srv, cli, 0);
		tls_conn_sendbuf(cli, &n); /* CKE, CCS, Finished: dropped */
		tls_conn_send_done(cli, n);
		return cli;
	}
}

static void alerts_during_handshake(void)
{
	static const struct {
		uint8_t level, desc;
		int err;
		uint8_t alert;
		const char *words;
	} cases[] = {
		{1, TLS_ALERT_CLOSE_NOTIFY, TLS_ERR_PEER_ALERT, 0,
		 "close_notify during the handshake"},
		{2, TLS_ALERT_CLOSE_NOTIFY, TLS_ERR_PEER_ALERT, 0, "fatal alert close_notify"},
		{1, TLS_ALERT_USER_CANCELED, TLS_ERR_PEER_ALERT, TLS_ALERT_USER_CANCELED,
		 "warning alert user_canceled (90) during the handshake"},
		{1, TLS_ALERT_NO_RENEGOTIATION, TLS_ERR_PEER_ALERT, TLS_ALERT_NO_RENEGOTIATION,
		 "no_renegotiation"},
		/* servers only: a client tolerates this one (below) */
		{1, TLS_ALERT_UNRECOGNIZED_NAME, TLS_ERR_PEER_ALERT, TLS_ALERT_UNRECOGNIZED_NAME,
		 "during the handshake"},
		{2, TLS_ALERT_HANDSHAKE_FAILURE, TLS_ERR_PEER_ALERT, TLS_ALERT_HANDSHAKE_FAILURE,
		 "fatal alert handshake_failure"},
		{3, TLS_ALERT_HANDSHAKE_FAILURE, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
		 "unknown level"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int at = AT_SERVER_FIRST; at <= AT_CLIENT_AFTER_FLIGHT; at++) {
			tls_conn *cli, *srv;
			pair(&cli, &srv);
			tls_conn *victim = advance(cli, srv, at);
			CHECK(!(tls_conn_state(victim) & TLS_ST_FAILED));
			const uint8_t a[2] = {cases[i].level, cases[i].desc};
			send_record(victim, TLS_CT_ALERT, a, 2);
			if (victim == cli && cases[i].desc == TLS_ALERT_UNRECOGNIZED_NAME &&
			    cases[i].level == TLS_ALERT_LEVEL_WARNING) {
				/* RFC 6066 §3: old servers warn after an unknown
				 * SNI; clients (OpenSSL, GnuTLS) carry on. */
				CHECK(!(tls_conn_state(cli) & TLS_ST_FAILED));
				unpair(cli, srv);
				continue;
			}
			expect_failed(victim, cases[i].err, cases[i].alert, cases[i].words);
			/* The transport's end after it changes nothing. */
			tls_conn_eof(victim);
			CHECK_EQ(tls_conn_error(victim, NULL, NULL, NULL), cases[i].err);
			unpair(cli, srv);
		}
	}

	/* Issue 8: the 7 bytes of a plaintext close_notify, then FIN. */
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	deliver(srv, (const uint8_t[]){21, 3, 3, 0, 2, 1, 0}, 7);
	tls_conn_eof(srv);
	expect_failed(srv, TLS_ERR_PEER_ALERT, 0, "close_notify during the handshake");
	unpair(cli, srv);

	/* EOF alone, at each point. */
	for (int at = AT_SERVER_FIRST; at <= AT_CLIENT_AFTER_FLIGHT; at++) {
		pair(&cli, &srv);
		tls_conn *victim = advance(cli, srv, at);
		tls_conn_eof(victim);
		expect_failed(victim, TLS_ERR_TRUNCATED, 0, "during the handshake");
		unpair(cli, srv);
	}
}

/* ---- item 3: malformed ChangeCipherSpec ---------------------------------- */

static void ccs_malformed(void)
{
	static const struct {
		uint8_t body[2];
		size_t len;
	} cases[] = {
		{{1, 1}, 2}, {{2}, 1}, {{0}, 1}, {{0}, 0}, {{1, 0}, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* The server, when it waits for exactly a ChangeCipherSpec. */
		tls_conn *cli, *srv;
		pair(&cli, &srv);
		move_records(cli, srv, 0); /* ClientHello */
		move_records(srv, cli, 0); /* ServerHello .. ServerHelloDone */
		move_records(cli, srv, 1); /* ClientKeyExchange only */
		CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
		send_record(srv, TLS_CT_CHANGE_CIPHER_SPEC, cases[i].body, cases[i].len);
		expect_failed(srv, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
			      "malformed ChangeCipherSpec");
		unpair(cli, srv);

		/* A fresh server. */
		pair(&cli, &srv);
		send_record(srv, TLS_CT_CHANGE_CIPHER_SPEC, cases[i].body, cases[i].len);
		expect_failed(srv, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE, NULL);
		unpair(cli, srv);
	}
}

/* ---- item 7: records inside a fragmented handshake message --------------- */

static const struct intruder {
	uint8_t type;
	uint8_t body[8];
	size_t len;
	const char *what;
} intruders[] = {
	{TLS_CT_ALERT, {1, TLS_ALERT_CLOSE_NOTIFY}, 2, "close_notify"},
	{TLS_CT_ALERT, {1, TLS_ALERT_USER_CANCELED}, 2, "user_canceled"},
	{TLS_CT_ALERT, {2, TLS_ALERT_HANDSHAKE_FAILURE}, 2, "handshake_failure"},
	{TLS_CT_APPLICATION_DATA, {'h', 'e', 'l', 'l', 'o'}, 5, "application data"},
	{TLS_CT_CHANGE_CIPHER_SPEC, {1}, 1, "ChangeCipherSpec"},
};
#define N_INTRUDERS (sizeof intruders / sizeof intruders[0])

static void interleaved_in_handshake(void)
{
	static uint8_t msg[TLS_MAX_PLAINTEXT];
	static const size_t cuts[] = {1, 3, 4, 40};
	for (size_t i = 0; i < N_INTRUDERS; i++) {
		for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
			/* The server, inside the client's ClientHello. */
			tls_conn *cli, *srv;
			pair(&cli, &srv);
			size_t len = take_messages(cli, msg, sizeof msg);
			CHECK(len > cuts[k]);
			send_record(srv, TLS_CT_HANDSHAKE, msg, cuts[k]);
			CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
			send_record(srv, intruders[i].type, intruders[i].body, intruders[i].len);
			expect_failed(srv, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
				      intruders[i].what);
			unpair(cli, srv);

			/* The client, inside the server's first flight. */
			pair(&cli, &srv);
			move_records(cli, srv, 0);
			len = take_messages(srv, msg, sizeof msg);
			CHECK(len > cuts[k]);
			send_record(cli, TLS_CT_HANDSHAKE, msg, cuts[k]);
			CHECK(!(tls_conn_state(cli) & TLS_ST_FAILED));
			send_record(cli, intruders[i].type, intruders[i].body, intruders[i].len);
			expect_failed(cli, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
				      intruders[i].what);
			unpair(cli, srv);
		}
	}

	/* The control: the same message in two records is fine. */
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	size_t len = take_messages(cli, msg, sizeof msg);
	send_record(srv, TLS_CT_HANDSHAKE, msg, 40);
	send_record(srv, TLS_CT_HANDSHAKE, msg + 40, len - 40);
	size_t n;
	const uint8_t *p = tls_conn_sendbuf(srv, &n);
	CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
	CHECK(p != NULL && n > 5 && p[0] == TLS_CT_HANDSHAKE && p[5] == TLS_HT_SERVER_HELLO);
	unpair(cli, srv);
}

/* After the handshake: ${from} sends the first ${cut} bytes of a
 * renegotiation request (a ClientHello of 10 bytes from a client, a
 * HelloRequest from a server), then ${x}, protected. */
static void partial_renegotiation(bool from_client, size_t cut, const struct intruder *x)
{
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	CHECK(testpair_handshake(cli, srv));
	tls_conn *from = from_client ? cli : srv, *to = from_client ? srv : cli;
	static const uint8_t hello[] = {TLS_HT_CLIENT_HELLO, 0, 0, 10, 3, 3, 0, 0};
	static const uint8_t request[] = {TLS_HT_HELLO_REQUEST, 0, 0, 0};
	const uint8_t *m = from_client ? hello : request;
	CHECK_EQ(tls_emit_record(from, TLS_CT_HANDSHAKE, m, cut), 0);
	CHECK_EQ(tls_emit_record(from, x->type, x->body, x->len), 0);
	move_records(from, to, 0);
	CHECK_EQ(tls_conn_readable(to), 0);
	uint8_t buf[16];
	CHECK_EQ(tls_conn_read(to, buf, sizeof buf), 0);
	expect_failed(to, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE, x->what);
	unpair(cli, srv);
}

static void interleaved_after_handshake(void)
{
	for (size_t i = 0; i < N_INTRUDERS; i++) {
		for (size_t cut = 1; cut <= 6; cut++)
			partial_renegotiation(true, cut, &intruders[i]);
		for (size_t cut = 1; cut <= 3; cut++)
			partial_renegotiation(false, cut, &intruders[i]);
	}

	/* The control: a whole renegotiation request, then data, is refused
	 * with a warning and the data is delivered. */
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	CHECK(testpair_handshake(cli, srv));
	static const uint8_t hello[] = {TLS_HT_CLIENT_HELLO, 0, 0, 2, 3, 3};
	CHECK_EQ(tls_emit_record(cli, TLS_CT_HANDSHAKE, hello, sizeof hello), 0);
	CHECK_EQ(tls_conn_write(cli, "hello", 5), 5);
	move_records(cli, srv, 0);
	CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
	uint8_t buf[16];
	CHECK_EQ(tls_conn_read(srv, buf, sizeof buf), 5);
	CHECK(tls_conn_state(srv) & TLS_ST_SEND); /* the no_renegotiation warning */
	unpair(cli, srv);
}

/* A close_notify description is a clean close only at warning level: at
 * fatal level it is a fatal alert, at an unknown level a malformed one
 * (OpenSSL: illegal_parameter). Before this, {2, 0} and {3, 0} after the
 * handshake read as a clean end of the stream. */
static void close_notify_levels(void)
{
	static const struct {
		uint8_t level;
		int err;
		uint8_t alert;
		const char *words;
	} cases[] = {
		{TLS_ALERT_LEVEL_FATAL, TLS_ERR_PEER_ALERT, TLS_ALERT_CLOSE_NOTIFY, "fatal alert"},
		{3, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "unknown level 3"},
		{0, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "unknown level 0"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tls_conn *cli, *srv;
		pair(&cli, &srv);
		CHECK(testpair_handshake(cli, srv));
		const uint8_t a[2] = {cases[i].level, TLS_ALERT_CLOSE_NOTIFY};
		CHECK_EQ(tls_emit_record(cli, TLS_CT_ALERT, a, 2), 0);
		move_records(cli, srv, 0);
		CHECK(!(tls_conn_state(srv) & TLS_ST_PEER_CLOSED));
		expect_failed(srv, cases[i].err, cases[i].alert, cases[i].words);
		unpair(cli, srv);
	}
}

/* ---- message headers judged before the body ------------------------------ */

static void judged_by_header(void)
{
	/* A type the server does not expect (a 100,000-byte Certificate):
	 * refused from its header. */
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	send_record(srv, TLS_CT_HANDSHAKE, (const uint8_t[]){TLS_HT_CERTIFICATE, 1, 0x86, 0xa0}, 4);
	expect_failed(srv, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE, "Certificate");
	unpair(cli, srv);

	/* A ClientHello one byte longer than its grammar allows
	 * (RFC 5246 §7.4.1.2: 131,396 bytes), and one of exactly that size,
	 * which waits for its body. */
	pair(&cli, &srv);
	send_record(srv, TLS_CT_HANDSHAKE, (const uint8_t[]){TLS_HT_CLIENT_HELLO, 2, 0x01, 0x45},
		    4);
	expect_failed(srv, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "ClientHello");
	unpair(cli, srv);
	pair(&cli, &srv);
	send_record(srv, TLS_CT_HANDSHAKE, (const uint8_t[]){TLS_HT_CLIENT_HELLO, 2, 0x01, 0x44},
		    4);
	CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
	CHECK(tls_conn_state(srv) & TLS_ST_WANT_INPUT);
	unpair(cli, srv);

	/* A ServerHelloDone with a body. */
	pair(&cli, &srv);
	move_records(cli, srv, 0);
	static uint8_t msg[TLS_MAX_PLAINTEXT];
	size_t len = take_messages(srv, msg, sizeof msg);
	CHECK(len > 4 && msg[len - 4] == TLS_HT_SERVER_HELLO_DONE);
	msg[len - 1] = 1; /* one byte of body */
	msg[len++] = 0;
	send_record(cli, TLS_CT_HANDSHAKE, msg, len);
	expect_failed(cli, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER, "ServerHelloDone");
	unpair(cli, srv);
}

/* ---- item 4: ClientHellos with thousands of extensions ------------------- */

static size_t get16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* grow_hello(m, len, out, entries, dup): the client's ClientHello message
 * ${m} with its extensions replaced by ${entries}: the four the server
 * needs (supported_groups, signature_algorithms, extended_master_secret,
 * renegotiation_info), then distinct unknown types, each with as much data
 * as fits below 2^16 bytes in all; with ${dup} the last repeats the first
 * unknown type. Returns the new message's length. */
static size_t grow_hello(const uint8_t *m, size_t len, uint8_t *out, size_t entries, bool dup)
{
	/* clang-format off */
	static const uint8_t need[] = {
		0x00, 0x0a, 0, 6, 0, 4, 0, TLS_GROUP_X25519, 0, TLS_GROUP_SECP256R1,
		0x00, 0x0d, 0, 4, 0, 2, 0x04, 0x03, /* ecdsa_secp256r1_sha256 */
		0x00, 0x17, 0, 0,                   /* extended_master_secret */
		0xff, 0x01, 0, 1, 0,                /* renegotiation_info */
	};
	/* clang-format on */
	size_t o = TLS_HS_HEADER + 2 + 32;
	o += 1 + m[o];
	o += 2 + get16(m + o);
	o += 1 + m[o];
	CHECK_EQ(o + 2 + get16(m + o), len);
	memcpy(out, m, o);
	size_t w = o + 2;
	memcpy(out + w, need, sizeof need);
	w += sizeof need;
	size_t fill = entries - 4;
	size_t each = (65535 - sizeof need) / fill;
	CHECK(each >= 4);
	for (size_t i = 0; i < fill; i++) {
		put16(out + w, dup && i == fill - 1 ? 0x1000 : 0x1000 + i);
		put16(out + w + 2, each - 4);
		memset(out + w + 4, (int)(i & 0xff), each - 4);
		w += each;
	}
	size_t total = w - o - 2;
	CHECK(total <= 65535);
	put16(out + o, total);
	size_t body = w - TLS_HS_HEADER;
	out[1] = (uint8_t)(body >> 16);
	out[2] = (uint8_t)(body >> 8);
	out[3] = (uint8_t)body;
	return w;
}

/* The client's transcript holds the ClientHello it sent; make it the one
 * the server got instead (the Finished messages cover it). */
static void set_transcript(tls_conn *cli, const uint8_t *m, size_t len)
{
	tls_hs *hs = cli->hs;
	CHECK(hs->tlen > 0 && hs->transcript[0] == TLS_HT_CLIENT_HELLO);
	uint8_t *t = malloc(len + 4096);
	CHECK(t != NULL);
	if (!t)
		return;
	memcpy(t, m, len);
	free(hs->transcript);
	hs->transcript = t;
	hs->tlen = len;
	hs->tcap = len + 4096;
}

/* Send message ${m} to ${to} in records of ${frag} bytes. */
static void send_fragments(tls_conn *to, const uint8_t *m, size_t len, size_t frag)
{
	for (size_t off = 0; off < len && !(tls_conn_state(to) & TLS_ST_FAILED); off += frag)
		send_record(to, TLS_CT_HANDSHAKE, m + off, len - off < frag ? len - off : frag);
}

static void big_hellos(void)
{
	static uint8_t msg[TLS_MAX_PLAINTEXT], big[70000];
	/* 4,091 and 16,373 extensions, and one of ~64 KiB. */
	static const size_t entries[] = {4091, 16373, 5};
	static const size_t frags[] = {TLS_MAX_PLAINTEXT, 1000, 7};
	for (size_t e = 0; e < sizeof entries / sizeof entries[0]; e++) {
		for (size_t f = 0; f < sizeof frags / sizeof frags[0]; f++) {
			tls_conn *cli, *srv;
			pair(&cli, &srv);
			size_t len = take_messages(cli, msg, sizeof msg);
			size_t blen = grow_hello(msg, len, big, entries[e], false);
			CHECK(blen > 64000 && blen > TLS_MAX_PLAINTEXT * 3);
			send_fragments(srv, big, blen, frags[f]);
			if (tls_conn_state(srv) & TLS_ST_FAILED) {
				const char *why = "";
				tls_conn_error(srv, NULL, NULL, &why);
				fprintf(stderr, "%zu extensions in %zu-byte records: %s\n",
					entries[e], frags[f], why);
			}
			CHECK(!(tls_conn_state(srv) & TLS_ST_FAILED));
			set_transcript(cli, big, blen);
			testpair_pump(cli, srv, NULL, NULL);
			CHECK(tls_conn_state(cli) & TLS_ST_ESTABLISHED);
			CHECK(tls_conn_state(srv) & TLS_ST_ESTABLISHED);
			CHECK(testpair_transfer(cli, srv, cli, srv, 1000));
			unpair(cli, srv);
		}

		/* A duplicate among them is still found (RFC 5246 §7.4.1.4). */
		if (entries[e] < 100)
			continue;
		tls_conn *cli, *srv;
		pair(&cli, &srv);
		size_t len = take_messages(cli, msg, sizeof msg);
		size_t blen = grow_hello(msg, len, big, entries[e], true);
		send_fragments(srv, big, blen, TLS_MAX_PLAINTEXT);
		expect_failed(srv, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
			      "extension 4096 (unknown) twice");
		unpair(cli, srv);
	}
}

/* ---- item 6: 1-byte records, linear reassembly --------------------------- */

/* What a side's trace says it received: messages and their bytes. */
struct tally {
	unsigned msgs;
	size_t bytes;
};

static void count_received(void *arg, const char *line)
{
	struct tally *t = arg;
	size_t n;
	const char *q = strstr(line, " (");
	if (strncmp(line, "recv ", 5) == 0 && q && sscanf(q, " (%zu bytes)", &n) == 1) {
		t->msgs++;
		t->bytes += n;
	}
}

/* The wire: every handshake record carries at most one byte of message. */
struct wire {
	unsigned records;
	bool too_big;
};

static size_t inspect(void *arg, bool to_server, uint8_t *buf, size_t len)
{
	(void)to_server;
	struct wire *w = arg;
	for (size_t off = 0; off + 5 <= len;
	     off += 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4])) {
		size_t n = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (buf[off] != TLS_CT_HANDSHAKE)
			continue;
		w->records++;
		/* Protected records add an explicit nonce and a tag. */
		if (n > 1 + TLS_AEAD_MAX_OVERHEAD)
			w->too_big = true;
	}
	return len;
}

/* One handshake with every handshake record cut to ${frag} bytes (0: whole
 * records); resuming ${sess} when given. Returns the client's session. */
static tls_session *handshake_in_pieces(uint16_t frag, tls_session *sess, bool *ok)
{
	tls_conn *cli, *srv;
	pair(&cli, &srv);
	if (sess)
		tls_conn_set_session(cli, sess);
	cli->max_fragment = srv->max_fragment = frag;
	struct tally tc = {0}, ts = {0};
	tls_conn_set_trace(cli, count_received, &tc);
	tls_conn_set_trace(srv, count_received, &ts);
	struct wire w = {0};
	testpair_pump(cli, srv, inspect, &w);
	*ok = (tls_conn_state(cli) & TLS_ST_ESTABLISHED) &&
	      (tls_conn_state(srv) & TLS_ST_ESTABLISHED);
	CHECK(*ok);
	CHECK(!((tls_conn_state(cli) | tls_conn_state(srv)) & TLS_ST_FAILED));
	CHECK(testpair_transfer(srv, cli, cli, srv, 3000));
	if (frag == 1) {
		CHECK(!w.too_big);
		CHECK(w.records >= tc.bytes + ts.bytes);
	}
	/* Allocation once per message at most, each byte copied once at
	 * most; whole records are parsed where they lie. */
	tls_conn *sides[2] = {cli, srv};
	struct tally *t[2] = {&tc, &ts};
	for (int i = 0; i < 2; i++) {
		if (sides[i]->reasm_allocs > t[i]->msgs || sides[i]->reasm_copied > t[i]->bytes)
			fprintf(stderr,
				"%s, %u-byte records: %u allocations, %zu bytes copied for %u "
				"messages of %zu bytes\n",
				i ? "server" : "client", frag, sides[i]->reasm_allocs,
				sides[i]->reasm_copied, t[i]->msgs, t[i]->bytes);
		CHECK(t[i]->msgs >= 2 && t[i]->bytes > 0);
		CHECK(sides[i]->reasm_allocs <= t[i]->msgs);
		CHECK(sides[i]->reasm_copied <= t[i]->bytes);
		if (frag == 0)
			CHECK_EQ(sides[i]->reasm_copied, 0);
	}
	tls_session *s = tls_conn_get_session(cli);
	unpair(cli, srv);
	return s;
}

static void one_byte_records(void)
{
	bool ok;
	tls_session *s = handshake_in_pieces(1, NULL, &ok); /* full */
	CHECK(s != NULL);
	tls_session *r = handshake_in_pieces(1, s, &ok); /* resumed */
	tls_session_unref(r);
	tls_session_unref(handshake_in_pieces(0, NULL, &ok));
	tls_session_unref(handshake_in_pieces(0, s, &ok));
	tls_session_unref(handshake_in_pieces(5, s, &ok));
	tls_session_unref(s);
}

int main(void)
{
	scfg = testpair_server_config(TLS_KEY_EC_P256);
	ccfg = testpair_client_config();
	alerts_during_handshake();
	ccs_malformed();
	interleaved_in_handshake();
	interleaved_after_handshake();
	close_notify_levels();
	judged_by_header();
	big_hellos();
	one_byte_records();
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
	return check_exit("engine/records");
}
