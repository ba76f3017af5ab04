/*
 * bench_engine.c: the engine's own speed, client <-> server in memory
 * through tls.h only (one thread, no sockets):
 *
 *   - full handshakes per second, ECDSA P-256 and RSA-2048 server
 *     certificates, x25519, the client verifying the chain and name;
 *   - resumed handshakes per second (session tickets, RFC 5077);
 *   - bulk throughput one way with 16 KiB writes, for each AEAD, next to
 *     raw EVP seal+open of the same 16 KiB buffers in the same run (the
 *     ceiling; the ratio shows what the record layer costs on top).
 *
 * Every figure is the median of several timed repetitions (after one
 * untimed warm-up), with the minimum and maximum. Not a CTest test:
 * scripts/bench-engine builds it in Release and runs it.
 *
 * Usage: bench_engine [-r REPS] [-t SECONDS_PER_REP]
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

/* session.h only for tls_session_unref: tls.h hands out session references
 * (tls_conn_get_session) but has no call to release one yet. */
#include "session.h"
#include "suites.h"
#include "testpki.h"
#include "tls.h"

#define NAME     "bench.test"
#define CHUNK    16384
#define MAX_REPS 100

static int reps = 5;
static double rep_seconds = 1.0;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_engine: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- statistics --------------------------------------------------------- */

typedef struct stats {
	double med, min, max;
} stats;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* measure(fn, arg): one untimed warm-up, then ${reps} runs of ${fn}, each
 * returning its rate (units per second). */
static stats measure(double (*fn)(void *arg), void *arg)
{
	double v[MAX_REPS];
	fn(arg);
	for (int i = 0; i < reps; i++)
		v[i] = fn(arg);
	qsort(v, (size_t)reps, sizeof v[0], cmp_double);
	stats s = {.min = v[0], .max = v[reps - 1]};
	s.med = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
	return s;
}

/* ---- configurations ----------------------------------------------------- */

typedef struct pki {
	char *ca;
	char *ecdsa_cert, *ecdsa_key, *rsa_cert, *rsa_key;
} pki;

static void make_pki(pki *p)
{
	testpki_ca ca;
	testpki_leaf_opts o = {.key_type = TLS_KEY_EC_P256, .cn = NAME, .dns = NAME};
	if (testpki_ca_new(&ca, TLS_KEY_EC_P256, "bench CA") < 0)
		die("cannot make a test CA");
	p->ca = testpki_ca_pem(&ca);
	int r = testpki_issue(&ca, &o, &p->ecdsa_cert, &p->ecdsa_key);
	o.key_type = TLS_KEY_RSA;
	r |= testpki_issue(&ca, &o, &p->rsa_cert, &p->rsa_key);
	testpki_ca_free(&ca);
	if (r != 0 || !p->ca)
		die("cannot issue test certificates");
}

static void must(int r, const char *err)
{
	if (r < 0)
		die("config: %s", err);
}

static tls_config *server_config(const char *cert, const char *key, const char *ciphers)
{
	char err[256] = "";
	tls_config *cfg = tls_config_new(TLS_ROLE_SERVER);
	if (!cfg)
		die("tls_config_new failed");
	must(tls_config_set_chain_pem(cfg, cert, strlen(cert), err, sizeof err), err);
	must(tls_config_set_key_pem(cfg, key, strlen(key), err, sizeof err), err);
	if (ciphers)
		must(tls_config_set_ciphers(cfg, ciphers, err, sizeof err), err);
	must(tls_config_check(cfg, err, sizeof err), err);
	return cfg;
}

static tls_config *client_config(const char *ca)
{
	char err[256] = "";
	tls_config *cfg = tls_config_new(TLS_ROLE_CLIENT);
	if (!cfg)
		die("tls_config_new failed");
	must(tls_config_set_ca_pem(cfg, ca, strlen(ca), err, sizeof err), err);
	must(tls_config_set_groups(cfg, "x25519", err, sizeof err), err);
	must(tls_config_check(cfg, err, sizeof err), err);
	return cfg;
}

/* ---- moving bytes ------------------------------------------------------- */

/* move(from, to): ${from}'s pending output into ${to}; true if any moved. */
static bool move(tls_conn *from, tls_conn *to)
{
	bool moved = false;
	for (;;) {
		size_t len = 0, room = 0;
		const uint8_t *out = tls_conn_sendbuf(from, &len);
		uint8_t *in = out && len ? tls_conn_recvbuf(to, &room) : NULL;
		if (!in || !room)
			return moved;
		size_t n = len < room ? len : room;
		memcpy(in, out, n);
		tls_conn_send_done(from, n);
		tls_conn_recv_done(to, n);
		moved = true;
	}
}

static void check(tls_conn *c, const char *who)
{
	const char *reason = NULL;
	if (tls_conn_error(c, NULL, NULL, &reason) != TLS_ERR_NONE)
		die("%s failed: %s", who, reason);
}

/* handshake(cc, sc, offer, sv_out): a complete handshake; returns the
 * client (the caller frees it) and the server in *${sv_out}. */
static tls_conn *handshake(tls_config *cc, tls_config *sc, tls_session *offer, tls_conn **sv_out)
{
	tls_conn *cl = tls_conn_new(cc, NAME, NULL), *sv = tls_conn_new(sc, NULL, NULL);
	if (!cl || !sv)
		die("tls_conn_new failed");
	if (offer)
		tls_conn_set_session(cl, offer);
	for (int i = 0; i < 64; i++) {
		bool a = move(cl, sv);
		bool b = move(sv, cl);
		if (!a && !b)
			break;
	}
	check(cl, "client");
	check(sv, "server");
	if (!(tls_conn_state(cl) & TLS_ST_ESTABLISHED) ||
	    !(tls_conn_state(sv) & TLS_ST_ESTABLISHED))
		die("handshake did not complete");
	*sv_out = sv;
	return cl;
}

/* ---- handshakes per second ---------------------------------------------- */

typedef struct hs_bench {
	tls_config *cc, *sc;
	tls_session *offer; /* resume this, or NULL for full handshakes */
} hs_bench;

static double run_handshakes(void *arg)
{
	hs_bench *b = arg;
	long n = 0;
	double t0 = now(), t;
	do {
		tls_conn *sv, *cl = handshake(b->cc, b->sc, b->offer, &sv);
		tls_info info;
		if (tls_conn_info(cl, &info) < 0 || info.resumed != (b->offer != NULL))
			die(b->offer ? "the session was not resumed" : "unexpected resumption");
		tls_conn_free(cl);
		tls_conn_free(sv);
		n++;
	} while ((t = now() - t0) < rep_seconds);
	return (double)n / t;
}

/* ---- bulk --------------------------------------------------------------- */

typedef struct bulk_bench {
	tls_conn *cl, *sv;
	uint8_t *buf, *sink;
} bulk_bench;

/* One 16 KiB write from client to server, moved and read completely. */
static size_t transfer_chunk(bulk_bench *b)
{
	size_t sent = 0, got = 0, n;
	while (sent < CHUNK || got < sent) {
		size_t w = sent < CHUNK ? tls_conn_write(b->cl, b->buf + sent, CHUNK - sent) : 0;
		sent += w;
		bool moved = move(b->cl, b->sv);
		size_t r = 0;
		while ((n = tls_conn_read(b->sv, b->sink, CHUNK)) > 0)
			r += n;
		got += r;
		if (w == 0 && !moved && r == 0) {
			check(b->cl, "client");
			check(b->sv, "server");
			die("bulk transfer stalled");
		}
	}
	return got;
}

static double run_bulk(void *arg)
{
	bulk_bench *b = arg;
	size_t bytes = 0;
	double t0 = now(), t;
	do
		bytes += transfer_chunk(b);
	while ((t = now() - t0) < rep_seconds);
	return (double)bytes / t / 1e6;
}

/* ---- raw EVP baseline ---------------------------------------------------- */

typedef struct raw_bench {
	const EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *enc, *dec;
	uint8_t *plain, *ct, *out;
	uint64_t seq;
} raw_bench;

/* Seal and open one 16 KiB buffer as a record would be: 12-byte nonce,
 * 13 bytes of additional data, 16-byte tag; contexts keyed once. */
static void raw_record(raw_bench *b)
{
	uint8_t nonce[12] = {0}, aad[13] = {0}, tag[16];
	int l = 0;
	memcpy(nonce + 4, &b->seq, 8);
	memcpy(aad, &b->seq, 8);
	b->seq++;
	aad[8] = 23;
	aad[9] = 3;
	aad[10] = 3;
	aad[11] = CHUNK >> 8;
	bool ok = EVP_EncryptInit_ex(b->enc, NULL, NULL, NULL, nonce) &&
		  EVP_EncryptUpdate(b->enc, NULL, &l, aad, sizeof aad) &&
		  EVP_EncryptUpdate(b->enc, b->ct, &l, b->plain, CHUNK) &&
		  EVP_EncryptFinal_ex(b->enc, b->ct + l, &l) &&
		  EVP_CIPHER_CTX_ctrl(b->enc, EVP_CTRL_AEAD_GET_TAG, 16, tag) &&
		  EVP_DecryptInit_ex(b->dec, NULL, NULL, NULL, nonce) &&
		  EVP_DecryptUpdate(b->dec, NULL, &l, aad, sizeof aad) &&
		  EVP_DecryptUpdate(b->dec, b->out, &l, b->ct, CHUNK) &&
		  EVP_CIPHER_CTX_ctrl(b->dec, EVP_CTRL_AEAD_SET_TAG, 16, tag) &&
		  EVP_DecryptFinal_ex(b->dec, b->out + l, &l);
	if (!ok)
		die("raw EVP seal/open failed");
}

static double run_raw(void *arg)
{
	raw_bench *b = arg;
	size_t bytes = 0;
	double t0 = now(), t;
	do {
		raw_record(b);
		bytes += CHUNK;
	} while ((t = now() - t0) < rep_seconds);
	return (double)bytes / t / 1e6;
}

static void raw_init(raw_bench *b, const EVP_CIPHER *cipher)
{
	uint8_t key[32] = {7}, iv[12] = {0};
	b->cipher = cipher;
	b->enc = EVP_CIPHER_CTX_new();
	b->dec = EVP_CIPHER_CTX_new();
	b->plain = calloc(1, CHUNK);
	b->ct = malloc(CHUNK);
	b->out = malloc(CHUNK);
	b->seq = 0;
	if (!b->enc || !b->dec || !b->plain || !b->ct || !b->out ||
	    !EVP_EncryptInit_ex(b->enc, cipher, NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(b->enc, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) ||
	    !EVP_EncryptInit_ex(b->enc, NULL, NULL, key, iv) ||
	    !EVP_DecryptInit_ex(b->dec, cipher, NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(b->dec, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) ||
	    !EVP_DecryptInit_ex(b->dec, NULL, NULL, key, iv))
		die("raw EVP setup failed");
}

static void raw_free(raw_bench *b)
{
	EVP_CIPHER_CTX_free(b->enc);
	EVP_CIPHER_CTX_free(b->dec);
	free(b->plain);
	free(b->ct);
	free(b->out);
}

/* ---- main ---------------------------------------------------------------- */

static void print_hs(const char *what, stats s)
{
	printf("  %-34s %9.0f /s   [%.0f - %.0f]\n", what, s.med, s.min, s.max);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_engine [-r REPS (1-%d)] [-t SECONDS_PER_REP]\n", MAX_REPS);
	exit(2);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			rep_seconds = atof(argv[++i]);
		else
			usage();
	}
	if (reps < 1 || reps > MAX_REPS || !(rep_seconds > 0))
		usage();

	pki p;
	make_pki(&p);
	tls_config *cc = client_config(p.ca);
	tls_config *ecdsa = server_config(p.ecdsa_cert, p.ecdsa_key, NULL);
	tls_config *rsa = server_config(p.rsa_cert, p.rsa_key, NULL);

	printf("tlshim engine, in memory, one thread: median of %d x %.2f s [min - max]\n\n", reps,
	       rep_seconds);
	printf("handshakes (client verifies chain and name)\n");
	hs_bench hb = {cc, ecdsa, NULL};
	print_hs("full, ECDSA P-256 + x25519", measure(run_handshakes, &hb));
	hb.sc = rsa;
	print_hs("full, RSA-2048 + x25519", measure(run_handshakes, &hb));
	tls_conn *sv, *cl = handshake(cc, ecdsa, NULL, &sv);
	hb = (hs_bench){cc, ecdsa, tls_conn_get_session(cl)};
	tls_conn_free(cl);
	tls_conn_free(sv);
	if (!hb.offer)
		die("no resumable session after a full handshake");
	print_hs("resumed (ticket), ECDSA P-256", measure(run_handshakes, &hb));
	tls_session_unref(hb.offer);

	static const struct {
		const char *name, *suite;
		const EVP_CIPHER *(*cipher)(void);
	} aeads[] = {
		{"AES-128-GCM", "ECDHE-ECDSA-AES128-GCM-SHA256", EVP_aes_128_gcm},
		{"AES-256-GCM", "ECDHE-ECDSA-AES256-GCM-SHA384", EVP_aes_256_gcm},
		{"ChaCha20-Poly1305", "ECDHE-ECDSA-CHACHA20-POLY1305", EVP_chacha20_poly1305},
	};
	printf("\nbulk, 16 KiB writes, one way (MB/s = 10^6 bytes/s of plaintext)\n");
	printf("  %-18s %-26s %-26s %s\n", "AEAD", "engine", "raw EVP seal+open", "engine/raw");
	for (size_t i = 0; i < sizeof aeads / sizeof aeads[0]; i++) {
		tls_config *sc = server_config(p.ecdsa_cert, p.ecdsa_key, aeads[i].suite);
		bulk_bench bb = {.buf = calloc(1, CHUNK), .sink = malloc(CHUNK)};
		if (!bb.buf || !bb.sink)
			die("out of memory");
		bb.cl = handshake(cc, sc, NULL, &bb.sv);
		tls_info info;
		if (tls_conn_info(bb.cl, &info) < 0 || strcmp(info.suite_name, aeads[i].suite) != 0)
			die("suite %s was not negotiated", aeads[i].suite);
		stats e = measure(run_bulk, &bb);
		raw_bench rb;
		raw_init(&rb, aeads[i].cipher());
		stats r = measure(run_raw, &rb);
		raw_free(&rb);
		char es[64], rs[64];
		snprintf(es, sizeof es, "%7.0f [%.0f - %.0f]", e.med, e.min, e.max);
		snprintf(rs, sizeof rs, "%7.0f [%.0f - %.0f]", r.med, r.min, r.max);
		printf("  %-18s %-26s %-26s %.2f\n", aeads[i].name, es, rs, e.med / r.med);
		tls_conn_free(bb.cl);
		tls_conn_free(bb.sv);
		free(bb.buf);
		free(bb.sink);
		tls_config_unref(sc);
	}

	tls_config_unref(cc);
	tls_config_unref(ecdsa);
	tls_config_unref(rsa);
	free(p.ca);
	free(p.ecdsa_cert);
	free(p.ecdsa_key);
	free(p.rsa_cert);
	free(p.rsa_key);
	return 0;
}
