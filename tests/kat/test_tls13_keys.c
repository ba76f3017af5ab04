/*
 * test_tls13_keys: the TLS 1.3 key schedule (core/tls13_keys.h), transcript
 * hash (core/tls13_transcript.h) and record protection
 * (core/tls13_record.h) against RFC 8448 §3 (Simple 1-RTT Handshake),
 * §4 (Resumed 0-RTT Handshake) and §5 (HelloRetryRequest), value by
 * value:
 *
 * - every HkdfLabel "info" the RFC prints (derived, c/s hs traffic, c/s ap
 *   traffic, exp master, res master, resumption, key, iv, finished,
 *   c e traffic, e exp master);
 * - every secret: early (no PSK, and from the §3 ticket's PSK), derived,
 *   handshake, c/s hs traffic, master, c/s ap traffic, exp master, res
 *   master, the ticket PSK, binder_key ("res binder"), c e traffic,
 *   e exp master;
 * - every transcript hash the RFC prints, from the handshake messages fed
 *   to the running transcript (empty, CH..SH, CH..server Finished,
 *   CH..client Finished, the truncated ClientHello of the binder, the
 *   whole 0-RTT ClientHello);
 * - every traffic key and IV (handshake, application, early data);
 * - finished_key and verify_data of both Finished messages, and the PSK
 *   binder, including the bytes of the Finished messages and of the
 *   ClientHello's binders list;
 * - every protected record of both traces (server and client handshake
 *   flights, NewSessionTicket, 0-RTT data, EndOfEarlyData, application
 *   data, close_notify alerts) opened byte-exact with the derived keys at
 *   its sequence number and sealed again to the same bytes; the same
 *   record at the wrong sequence number, with a flipped bit, or with a
 *   changed header fails;
 * - §5: the transcript hash across a HelloRetryRequest (message_hash in
 *   place of ClientHello1) and the handshake secrets derived over it.
 *
 * Everything is chained: each step starts from what the previous step
 * derived here, not from the RFC's copy, and the RFC's value is compared.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "consts.h"
#include "rfc8448.h"
#include "suites.h"
#include "tls13_keys.h"
#include "tls13_record.h"
#include "tls13_transcript.h"

#define H   TLS_HASH_SHA256
#define HL  32
#define MAX 1024

/* vec(v, out): decode an RFC value; its length must be the stated count. */
static size_t vec(const r8448 *v, uint8_t *out)
{
	size_t n = check_hex(v->hex, out, MAX);
	CHECK_EQ(n, v->octets);
	return n;
}

/* expect(name, got, n, v): ${got} must be the RFC's value ${v}. */
static void expect(const char *name, const uint8_t *got, size_t n, const r8448 *v)
{
	uint8_t want[MAX];
	size_t wn = vec(v, want);
	int ok = n == wn && memcmp(got, want, n) == 0;
	if (!ok)
		fprintf(stderr, "  %s differs from RFC 8448\n", name);
	CHECK(ok);
}
#define EXPECT(got, n, v) expect(#v, (got), (n), &(v))

/* feed(t, v): append an RFC handshake message to the transcript. */
static void feed(tls13_transcript *t, const r8448 *v)
{
	uint8_t m[MAX];
	size_t n = vec(v, m);
	CHECK_EQ(tls13_transcript_update(t, m, n), 0);
}

/* th(t, out): the transcript hash so far. */
static void th(tls13_transcript *t, uint8_t out[HL])
{
	CHECK_EQ(tls13_transcript_hash(t, out), HL);
}

/* info(label, ctx, ctxlen, outlen, v): the HkdfLabel must be the RFC's. */
static void info(const char *label, const uint8_t *ctx, size_t ctxlen, size_t outlen,
		 const r8448 *v, const char *name)
{
	uint8_t buf[TLS13_HKDF_LABEL_MAX];
	size_t n = tls13_hkdf_label(label, ctx, ctxlen, outlen, buf, sizeof(buf));
	expect(name, buf, n, v);
}
#define INFO(label, ctx, ctxlen, outlen, v) info(label, ctx, ctxlen, outlen, &(v), #v)

/* keys(secret, key_v, iv_v, key, iv): §7.3 keys from a traffic secret. */
static void keys(const uint8_t *secret, const r8448 *key_v, const r8448 *iv_v, uint8_t key[16],
		 uint8_t iv[12], const char *name)
{
	CHECK_EQ(tls13_traffic_keys(H, TLS_AEAD_AES128GCM, secret, key, iv), 0);
	expect(name, key, 16, key_v);
	expect(name, iv, 12, iv_v);
}
#define KEYS(secret, kv, ivv, key, iv) keys(secret, &(kv), &(ivv), key, iv, #kv)

/* record(key, iv, seq, rec_v, type, content_v): the RFC's protected record
 * opens at ${seq} to ${type} and the RFC's content, seals back to the same
 * bytes, and fails to open when anything is off. */
static void record(const uint8_t key[16], const uint8_t iv[12], uint64_t seq, const r8448 *rec_v,
		   uint8_t type, const r8448 *content_v, const char *name)
{
	uint8_t want[MAX], rec[MAX], content[MAX], out[MAX], *p = NULL, t = 0;
	size_t rlen = vec(rec_v, want), clen = vec(content_v, content), n = 0;
	tls_aead dec = {0}, enc = {0};
	int ok;

	CHECK_EQ(tls_aead_init13(&dec, TLS_AEAD_AES128GCM, key, iv, false), 0);
	CHECK_EQ(tls_aead_init13(&enc, TLS_AEAD_AES128GCM, key, iv, true), 0);

	/* Open: the RFC's record under the derived keys. */
	memcpy(rec, want, rlen);
	dec.seq = seq;
	ok = tls13_record_open(&dec, rec, rlen, &t, &p, &n) == 0 && t == type && n == clen &&
	     p == rec + 5 && memcmp(p, content, clen) == 0 && dec.seq == seq + 1;
	if (!ok)
		fprintf(stderr, "  %s does not open to the RFC's content\n", name);
	CHECK(ok);

	/* Seal: the same content at the same sequence number. */
	enc.seq = seq;
	ok = tls13_record_seal(&enc, type, content, clen, 0, out, sizeof(out)) == rlen &&
	     memcmp(out, want, rlen) == 0 && enc.seq == seq + 1;
	if (!ok)
		fprintf(stderr, "  %s is not sealed to the RFC's bytes\n", name);
	CHECK(ok);

	/* Sealed in place (content already at out + 5): same bytes. */
	enc.seq = seq;
	memcpy(out + 5, content, clen);
	CHECK_EQ(tls13_record_seal(&enc, type, out + 5, clen, 0, out, sizeof(out)), rlen);
	CHECK_MEM(out, want, rlen);

	/* The neighbouring sequence numbers, a flipped bit anywhere in the
	 * body, and a changed legacy_record_version (part of the additional
	 * data) all fail with bad_record_mac; the sequence stays put. */
	uint64_t other[2] = {seq + 1, seq ? seq - 1 : 7};
	for (int i = 0; i < 2; i++) {
		memcpy(rec, want, rlen);
		dec.seq = other[i];
		CHECK_EQ(tls13_record_open(&dec, rec, rlen, &t, &p, &n), TLS_ALERT_BAD_RECORD_MAC);
		CHECK(dec.seq == other[i]);
	}
	size_t picks[] = {5, 6, rlen / 2, rlen - 17, rlen - 16, rlen - 1};
	for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		memcpy(rec, want, rlen);
		rec[picks[i]] ^= (uint8_t)(1u << (i % 8));
		dec.seq = seq;
		CHECK_EQ(tls13_record_open(&dec, rec, rlen, &t, &p, &n), TLS_ALERT_BAD_RECORD_MAC);
		/* No unauthenticated plaintext is left behind. */
		CHECK(sodium_is_zero(rec + 5, rlen - 5 - 16));
	}
	memcpy(rec, want, rlen);
	rec[2] = 0x01; /* 03 01 instead of 03 03 */
	dec.seq = seq;
	CHECK_EQ(tls13_record_open(&dec, rec, rlen, &t, &p, &n), TLS_ALERT_BAD_RECORD_MAC);
	memcpy(rec, want, rlen);
	rec[0] = TLS_CT_HANDSHAKE; /* outer type must be application_data */
	CHECK_EQ(tls13_record_open(&dec, rec, rlen, &t, &p, &n), TLS_ALERT_UNEXPECTED_MESSAGE);
	CHECK(dec.seq == seq);
	/* And after all that, the genuine record still opens. */
	memcpy(rec, want, rlen);
	CHECK_EQ(tls13_record_open(&dec, rec, rlen, &t, &p, &n), 0);
	CHECK_MEM(p, content, clen);

	tls_aead_free(&dec);
	tls_aead_free(&enc);
}
#define RECORD(key, iv, seq, rv, type, cv) record(key, iv, seq, &(rv), type, &(cv), #rv)

/* Secrets that §4 starts from. */
static uint8_t s3_psk[HL];

/* --- RFC 8448 §3 ------------------------------------------------------- */

static void test_simple_1rtt(void)
{
	uint8_t early[HL], derived[HL], hs[HL], c_hs[HL], s_hs[HL], master[HL], c_ap[HL], s_ap[HL];
	uint8_t exp[HL], res[HL], psk[HL], h[HL], fin[HL], fk[HL], dhe[HL], m[MAX];
	uint8_t s_hs_key[16], s_hs_iv[12], c_hs_key[16], c_hs_iv[12];
	uint8_t s_ap_key[16], s_ap_iv[12], c_ap_key[16], c_ap_iv[12];
	tls13_transcript t = {0};

	/* {server} extract secret "early": no PSK, so IKM is 32 zeros. */
	CHECK_EQ(tls13_early_secret(H, NULL, 0, early), 0);
	EXPECT(early, HL, S3_EARLY);
	/* An explicit zero IKM gives the same. */
	memset(m, 0, HL);
	CHECK_EQ(tls13_early_secret(H, m, HL, fk), 0);
	EXPECT(fk, HL, S3_EARLY);

	/* {server} derive secret for handshake "tls13 derived": the hash is
	 * that of no messages. */
	CHECK_EQ(tls13_transcript_init(&t, H), 0);
	th(&t, h);
	EXPECT(h, HL, S3_EMPTY_HASH);
	INFO("derived", h, HL, HL, S3_DERIVED_INFO);
	CHECK_EQ(tls13_derive_secret(H, early, TLS13_LABEL_DERIVED, NULL, derived), 0);
	EXPECT(derived, HL, S3_DERIVED);

	/* {server} extract secret "handshake" with the x25519 shared secret. */
	size_t dhelen = vec(&S3_DHE, dhe);
	CHECK_EQ(tls13_handshake_secret(H, early, dhe, dhelen, hs), 0);
	EXPECT(hs, HL, S3_HS);
	CHECK_EQ(tls13_hkdf_extract(H, derived, dhe, dhelen, fk), 0);
	EXPECT(fk, HL, S3_HS);

	/* {server} derive secret "tls13 c/s hs traffic" over CH..SH. */
	feed(&t, &S3_CH);
	feed(&t, &S3_SH);
	th(&t, h);
	EXPECT(h, HL, S3_CH_SH_HASH);
	INFO("c hs traffic", h, HL, HL, S3_C_HS_INFO);
	INFO("s hs traffic", h, HL, HL, S3_S_HS_INFO);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_C_HS_TRAFFIC, h, c_hs), 0);
	EXPECT(c_hs, HL, S3_C_HS);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_S_HS_TRAFFIC, h, s_hs), 0);
	EXPECT(s_hs, HL, S3_S_HS);

	/* {server} derive secret for master "tls13 derived", extract secret
	 * "master". */
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_DERIVED, NULL, derived), 0);
	EXPECT(derived, HL, S3_DERIVED2);
	CHECK_EQ(tls13_master_secret(H, hs, master), 0);
	EXPECT(master, HL, S3_MASTER);

	/* {server} derive write traffic keys for handshake data;
	 * {server} derive read traffic keys for handshake data. */
	INFO("key", NULL, 0, 16, S3_KEY_INFO);
	INFO("iv", NULL, 0, 12, S3_IV_INFO);
	KEYS(s_hs, S3_S_HS_KEY, S3_S_HS_IV, s_hs_key, s_hs_iv);
	KEYS(c_hs, S3_C_HS_KEY, S3_C_HS_IV, c_hs_key, c_hs_iv);

	/* {server} calculate finished "tls13 finished" over CH..CV. */
	feed(&t, &S3_EE);
	feed(&t, &S3_CERT);
	feed(&t, &S3_CV);
	th(&t, h);
	INFO("finished", NULL, 0, HL, S3_FIN_INFO);
	CHECK_EQ(tls13_finished_key(H, s_hs, fk), 0);
	EXPECT(fk, HL, S3_S_FINKEY);
	CHECK_EQ(tls13_finished(H, s_hs, h, fin), 0);
	EXPECT(fin, HL, S3_S_FIN);
	m[0] = TLS_HT_FINISHED, m[1] = 0, m[2] = 0, m[3] = HL;
	memcpy(m + 4, fin, HL);
	EXPECT(m, 4 + HL, S3_S_FINISHED);

	/* {server} send handshake record: EE, Certificate, CV, Finished in
	 * one record under the server handshake key, sequence 0. */
	size_t n = 0;
	n += vec(&S3_EE, m + n);
	n += vec(&S3_CERT, m + n);
	n += vec(&S3_CV, m + n);
	n += vec(&S3_S_FINISHED, m + n);
	EXPECT(m, n, S3_S_HS_PAYLOAD);
	RECORD(s_hs_key, s_hs_iv, 0, S3_S_HS_RECORD, TLS_CT_HANDSHAKE, S3_S_HS_PAYLOAD);

	/* {server} derive secret "tls13 c/s ap traffic", "tls13 exp master"
	 * over CH..server Finished. */
	feed(&t, &S3_S_FINISHED);
	th(&t, h);
	EXPECT(h, HL, S3_CH_SF_HASH);
	INFO("c ap traffic", h, HL, HL, S3_C_AP_INFO);
	INFO("s ap traffic", h, HL, HL, S3_S_AP_INFO);
	INFO("exp master", h, HL, HL, S3_EXP_INFO);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_C_AP_TRAFFIC, h, c_ap), 0);
	EXPECT(c_ap, HL, S3_C_AP);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_S_AP_TRAFFIC, h, s_ap), 0);
	EXPECT(s_ap, HL, S3_S_AP);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_EXP_MASTER, h, exp), 0);
	EXPECT(exp, HL, S3_EXP);
	KEYS(s_ap, S3_S_AP_KEY, S3_S_AP_IV, s_ap_key, s_ap_iv);
	KEYS(c_ap, S3_C_AP_KEY, S3_C_AP_IV, c_ap_key, c_ap_iv);

	/* {client} calculate finished "tls13 finished" over CH..server
	 * Finished; {client} send handshake record. */
	CHECK_EQ(tls13_finished_key(H, c_hs, fk), 0);
	EXPECT(fk, HL, S3_C_FINKEY);
	CHECK_EQ(tls13_finished(H, c_hs, h, fin), 0);
	EXPECT(fin, HL, S3_C_FIN);
	m[0] = TLS_HT_FINISHED, m[1] = 0, m[2] = 0, m[3] = HL;
	memcpy(m + 4, fin, HL);
	EXPECT(m, 4 + HL, S3_C_FINISHED);
	RECORD(c_hs_key, c_hs_iv, 0, S3_C_FIN_RECORD, TLS_CT_HANDSHAKE, S3_C_FINISHED);

	/* {client} derive secret "tls13 res master" over CH..client
	 * Finished. */
	feed(&t, &S3_C_FINISHED);
	th(&t, h);
	EXPECT(h, HL, S3_CH_CF_HASH);
	INFO("res master", h, HL, HL, S3_RES_INFO);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_RES_MASTER, h, res), 0);
	EXPECT(res, HL, S3_RES);

	/* {server} generate resumption secret "tls13 resumption" with the
	 * ticket_nonce of the NewSessionTicket (RFC 8446 §4.6.1):
	 * type, length(3), lifetime(4), age_add(4), nonce<0..255>. */
	size_t nstlen = vec(&S3_NST, m);
	CHECK(nstlen > 13 && m[12] == 2 && nstlen > 13u + m[12]);
	INFO("resumption", m + 13, m[12], HL, S3_PSK_INFO);
	CHECK_EQ(tls13_resumption_psk(H, res, m + 13, m[12], psk), 0);
	EXPECT(psk, HL, S3_PSK);
	memcpy(s3_psk, psk, HL);

	/* Records under the application keys: the server's
	 * NewSessionTicket (0), data (1), close_notify (2); the client's
	 * data (0), close_notify (1). */
	RECORD(s_ap_key, s_ap_iv, 0, S3_NST_RECORD, TLS_CT_HANDSHAKE, S3_NST);
	RECORD(s_ap_key, s_ap_iv, 1, S3_S_APP_RECORD, TLS_CT_APPLICATION_DATA, S3_S_APP_PAYLOAD);
	RECORD(s_ap_key, s_ap_iv, 2, S3_S_ALERT_RECORD, TLS_CT_ALERT, S3_S_ALERT_PAYLOAD);
	RECORD(c_ap_key, c_ap_iv, 0, S3_C_APP_RECORD, TLS_CT_APPLICATION_DATA, S3_C_APP_PAYLOAD);
	RECORD(c_ap_key, c_ap_iv, 1, S3_C_ALERT_RECORD, TLS_CT_ALERT, S3_C_ALERT_PAYLOAD);

	tls13_transcript_free(&t);
	sodium_memzero(early, sizeof(early));
}

/* --- RFC 8448 §4 ------------------------------------------------------- */

static void test_resumed_0rtt(void)
{
	uint8_t early[HL], binder_key[HL], hs[HL], c_hs[HL], s_hs[HL], master[HL], c_ap[HL];
	uint8_t s_ap[HL], exp[HL], c_e[HL], e_exp[HL], res[HL], h[HL], fin[HL], fk[HL], dhe[HL];
	uint8_t m[MAX], ch[MAX];
	uint8_t e_key[16], e_iv[12], s_hs_key[16], s_hs_iv[12], c_hs_key[16], c_hs_iv[12];
	uint8_t s_ap_key[16], s_ap_iv[12], c_ap_key[16], c_ap_iv[12];
	tls13_transcript t = {0}, b = {0};

	/* {client} extract secret "early" from the PSK of §3's ticket. */
	EXPECT(s3_psk, HL, S4_PSK_IKM);
	CHECK_EQ(tls13_early_secret(H, s3_psk, HL, early), 0);
	EXPECT(early, HL, S4_EARLY);

	/* {client} calculate PSK binder: binder_key = Derive-Secret(early,
	 * "res binder", "") (RFC 8446 §7.1), the binder is a Finished over
	 * the ClientHello truncated before its binders list (§4.2.11.2). */
	CHECK_EQ(tls13_derive_secret(H, early, TLS13_LABEL_RES_BINDER, NULL, binder_key), 0);
	EXPECT(binder_key, HL, S4_BINDER_KEY);
	CHECK_EQ(tls13_transcript_init(&b, H), 0);
	feed(&b, &S4_CH_PREFIX);
	th(&b, h);
	EXPECT(h, HL, S4_BINDER_HASH);
	CHECK_EQ(tls13_finished_key(H, binder_key, fk), 0);
	EXPECT(fk, HL, S4_BINDER_FINKEY);
	CHECK_EQ(tls13_finished(H, binder_key, h, fin), 0);
	EXPECT(fin, HL, S4_BINDER);
	/* The sent ClientHello is the prefix, then binders<33..2^16-1>
	 * holding one PskBinderEntry<32..255>. */
	size_t chlen = vec(&S4_CH, ch), plen = vec(&S4_CH_PREFIX, m);
	CHECK(chlen == plen + 3 + HL && memcmp(ch, m, plen) == 0);
	m[plen] = 0, m[plen + 1] = 1 + HL, m[plen + 2] = HL;
	memcpy(m + plen + 3, fin, HL);
	EXPECT(m, plen + 3 + HL, S4_CH);

	/* {client} derive secret "tls13 c e traffic" / "tls13 e exp master"
	 * over the whole ClientHello. */
	CHECK_EQ(tls13_transcript_init(&t, H), 0);
	feed(&t, &S4_CH);
	th(&t, h);
	EXPECT(h, HL, S4_CH_HASH);
	INFO("c e traffic", h, HL, HL, S4_C_E_INFO);
	INFO("e exp master", h, HL, HL, S4_E_EXP_INFO);
	CHECK_EQ(tls13_derive_secret(H, early, TLS13_LABEL_C_E_TRAFFIC, h, c_e), 0);
	EXPECT(c_e, HL, S4_C_E);
	CHECK_EQ(tls13_derive_secret(H, early, TLS13_LABEL_E_EXP_MASTER, h, e_exp), 0);
	EXPECT(e_exp, HL, S4_E_EXP);

	/* {client} derive write traffic keys for early application data;
	 * {client} send application_data record (0-RTT, sequence 0). */
	KEYS(c_e, S4_EARLY_KEY, S4_EARLY_IV, e_key, e_iv);
	RECORD(e_key, e_iv, 0, S4_EARLY_RECORD, TLS_CT_APPLICATION_DATA, S4_EARLY_PAYLOAD);

	/* {server} derive secret for handshake "tls13 derived", extract
	 * secret "handshake", c/s hs traffic over CH..SH, master. */
	CHECK_EQ(tls13_derive_secret(H, early, TLS13_LABEL_DERIVED, NULL, fk), 0);
	EXPECT(fk, HL, S4_DERIVED);
	size_t dhelen = vec(&S4_DHE, dhe);
	CHECK_EQ(tls13_handshake_secret(H, early, dhe, dhelen, hs), 0);
	EXPECT(hs, HL, S4_HS);
	feed(&t, &S4_SH);
	th(&t, h);
	EXPECT(h, HL, S4_CH_SH_HASH);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_C_HS_TRAFFIC, h, c_hs), 0);
	EXPECT(c_hs, HL, S4_C_HS);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_S_HS_TRAFFIC, h, s_hs), 0);
	EXPECT(s_hs, HL, S4_S_HS);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_DERIVED, NULL, fk), 0);
	EXPECT(fk, HL, S4_DERIVED2);
	CHECK_EQ(tls13_master_secret(H, hs, master), 0);
	EXPECT(master, HL, S4_MASTER);

	/* {server} derive write traffic keys for handshake data; calculate
	 * finished over CH..EE (no certificate with a PSK); send handshake
	 * record. */
	KEYS(s_hs, S4_S_HS_KEY, S4_S_HS_IV, s_hs_key, s_hs_iv);
	feed(&t, &S4_EE);
	th(&t, h);
	CHECK_EQ(tls13_finished_key(H, s_hs, fk), 0);
	EXPECT(fk, HL, S4_S_FINKEY);
	CHECK_EQ(tls13_finished(H, s_hs, h, fin), 0);
	EXPECT(fin, HL, S4_S_FIN);
	m[0] = TLS_HT_FINISHED, m[1] = 0, m[2] = 0, m[3] = HL;
	memcpy(m + 4, fin, HL);
	EXPECT(m, 4 + HL, S4_S_FINISHED);
	size_t n = vec(&S4_EE, m);
	n += vec(&S4_S_FINISHED, m + n);
	EXPECT(m, n, S4_S_HS_PAYLOAD);
	RECORD(s_hs_key, s_hs_iv, 0, S4_S_HS_RECORD, TLS_CT_HANDSHAKE, S4_S_HS_PAYLOAD);

	/* {server} c/s ap traffic and exp master over CH..server Finished. */
	feed(&t, &S4_S_FINISHED);
	th(&t, h);
	EXPECT(h, HL, S4_CH_SF_HASH);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_C_AP_TRAFFIC, h, c_ap), 0);
	EXPECT(c_ap, HL, S4_C_AP);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_S_AP_TRAFFIC, h, s_ap), 0);
	EXPECT(s_ap, HL, S4_S_AP);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_EXP_MASTER, h, exp), 0);
	EXPECT(exp, HL, S4_EXP);
	KEYS(s_ap, S4_S_AP_KEY, S4_S_AP_IV, s_ap_key, s_ap_iv);

	/* {client} send EndOfEarlyData under the early key (sequence 1,
	 * after the 0-RTT record), then Finished over CH..EndOfEarlyData
	 * under the client handshake key. */
	RECORD(e_key, e_iv, 1, S4_EOED_RECORD, TLS_CT_HANDSHAKE, S4_EOED);
	feed(&t, &S4_EOED);
	th(&t, h);
	KEYS(c_hs, S4_C_HS_KEY, S4_C_HS_IV, c_hs_key, c_hs_iv);
	CHECK_EQ(tls13_finished_key(H, c_hs, fk), 0);
	EXPECT(fk, HL, S4_C_FINKEY);
	CHECK_EQ(tls13_finished(H, c_hs, h, fin), 0);
	EXPECT(fin, HL, S4_C_FIN);
	m[0] = TLS_HT_FINISHED, m[1] = 0, m[2] = 0, m[3] = HL;
	memcpy(m + 4, fin, HL);
	EXPECT(m, 4 + HL, S4_C_FINISHED);
	RECORD(c_hs_key, c_hs_iv, 0, S4_C_FIN_RECORD, TLS_CT_HANDSHAKE, S4_C_FINISHED);

	/* {client} derive write traffic keys for application data;
	 * derive secret "tls13 res master" over CH..client Finished. */
	KEYS(c_ap, S4_C_AP_KEY, S4_C_AP_IV, c_ap_key, c_ap_iv);
	feed(&t, &S4_C_FINISHED);
	th(&t, h);
	EXPECT(h, HL, S4_CH_CF_HASH);
	CHECK_EQ(tls13_derive_secret(H, master, TLS13_LABEL_RES_MASTER, h, res), 0);
	EXPECT(res, HL, S4_RES);

	/* Application data and close_notify both ways (§4 sends no ticket). */
	RECORD(c_ap_key, c_ap_iv, 0, S4_C_APP_RECORD, TLS_CT_APPLICATION_DATA, S4_C_APP_PAYLOAD);
	RECORD(s_ap_key, s_ap_iv, 0, S4_S_APP_RECORD, TLS_CT_APPLICATION_DATA, S4_S_APP_PAYLOAD);
	RECORD(c_ap_key, c_ap_iv, 1, S4_C_ALERT_RECORD, TLS_CT_ALERT, S4_C_ALERT_PAYLOAD);
	RECORD(s_ap_key, s_ap_iv, 1, S4_S_ALERT_RECORD, TLS_CT_ALERT, S4_S_ALERT_PAYLOAD);

	/* An external PSK's binder key uses another label (§7.1). */
	CHECK_EQ(tls13_derive_secret(H, early, TLS13_LABEL_EXT_BINDER, NULL, fk), 0);
	CHECK(memcmp(fk, binder_key, HL) != 0);

	tls13_transcript_free(&t);
	tls13_transcript_free(&b);
}

/* --- RFC 8448 §5: the transcript across a HelloRetryRequest ------------ */

static void test_hello_retry(void)
{
	uint8_t early[HL], hs[HL], c_hs[HL], s_hs[HL], h[HL], dhe[HL];
	tls13_transcript t = {0}, plain = {0};

	/* RFC 8446 §4.4.1: ClientHello1 is replaced by message_hash before
	 * the HelloRetryRequest is appended; the handshake secrets are then
	 * derived over message_hash, HRR, ClientHello2, ServerHello. */
	CHECK_EQ(tls13_transcript_init(&t, H), 0);
	CHECK_EQ(tls13_transcript_init(&plain, H), 0);
	feed(&t, &S5_CH1);
	feed(&plain, &S5_CH1);
	CHECK_EQ(tls13_transcript_hrr(&t), 0);
	feed(&t, &S5_HRR);
	feed(&t, &S5_CH2);
	feed(&t, &S5_SH);
	th(&t, h);
	EXPECT(h, HL, S5_CH_SH_HASH);

	/* Without the replacement the hash is another. */
	feed(&plain, &S5_HRR);
	feed(&plain, &S5_CH2);
	feed(&plain, &S5_SH);
	uint8_t h2[HL];
	th(&plain, h2);
	CHECK(memcmp(h, h2, HL) != 0);

	/* {server} extract secret "handshake" (P-256 shared secret), then
	 * c/s hs traffic over that transcript. */
	CHECK_EQ(tls13_early_secret(H, NULL, 0, early), 0);
	size_t dhelen = vec(&S5_DHE, dhe);
	CHECK_EQ(tls13_handshake_secret(H, early, dhe, dhelen, hs), 0);
	EXPECT(hs, HL, S5_HS);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_C_HS_TRAFFIC, h, c_hs), 0);
	EXPECT(c_hs, HL, S5_C_HS);
	CHECK_EQ(tls13_derive_secret(H, hs, TLS13_LABEL_S_HS_TRAFFIC, h, s_hs), 0);
	EXPECT(s_hs, HL, S5_S_HS);

	tls13_transcript_free(&t);
	tls13_transcript_free(&plain);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_simple_1rtt();
	test_resumed_0rtt();
	test_hello_retry();
	return check_exit("kat/tls13_keys");
}
