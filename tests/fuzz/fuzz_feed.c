/*
 * fuzz_feed.c: handing fuzz input to a connection as received ciphertext,
 * with the engine's promises checked on the way (fuzz.h: fuzz_feed), and
 * the failure and triage helpers every target uses.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consts.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Read every byte of ${p}: under ASan a wrong length is an overflow here. */
static void touch(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s ^= p[i];
	__asm__ volatile("" : : "r"(s)); /* keep the reads */
}

/* The connection of the current input was ESTABLISHED at some point. */
static bool seen_established;

/* drain(c): take all output and all plaintext; true when anything moved. */
static bool drain(tls_conn *c)
{
	static uint8_t sink[TLS_MAX_PLAINTEXT];
	bool moved = false;
	const uint8_t *out;
	size_t len;

	if (tls_conn_state(c) & TLS_ST_ESTABLISHED)
		seen_established = true;

	for (int i = 0; i < 64 && (out = tls_conn_sendbuf(c, &len)) != NULL && len > 0; i++) {
		touch(out, len);
		tls_conn_send_done(c, len);
		moved = true;
	}
	size_t readable = tls_conn_readable(c), plen = 0;
	const uint8_t *peek = tls_conn_peek(c, &plen);
	if (plen > readable)
		fuzz_fail("peek shows %zu bytes but readable says %zu", plen, readable);
	if (peek)
		touch(peek, plen);
	size_t n;
	while ((n = tls_conn_read(c, sink, sizeof sink)) > 0) {
		/* Security invariant 1 (DESIGN.md): no byte from the peer
		 * reaches the application before the handshake succeeded. */
		if (!(tls_conn_state(c) & TLS_ST_ESTABLISHED))
			fuzz_fail("%zu plaintext bytes handed out before the handshake completed",
				  n);
		moved = true;
	}
	return moved;
}

/* check_failed(c, rc): a -1 from recv_done means a failed connection with
 * an error class and a reason. */
static void check_failed(tls_conn *c, int rc)
{
	unsigned st = tls_conn_state(c);
	const char *reason = NULL;
	enum tls_err err = tls_conn_error(c, NULL, NULL, &reason);

	if (rc < 0 && !(st & TLS_ST_FAILED))
		fuzz_fail("recv_done returned -1 but the state lacks TLS_ST_FAILED");
	if ((st & TLS_ST_FAILED) && (err == TLS_ERR_NONE || !reason || !reason[0]))
		fuzz_fail("failed connection without an error class or reason");
	if (reason)
		touch((const uint8_t *)reason, strlen(reason));
}

bool fuzz_verbose(void)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	return verbose;
}

static void report(const tls_conn *c)
{
	if (!fuzz_verbose())
		return;
	const char *reason = NULL;
	uint8_t alert = 0;
	enum tls_err err = tls_conn_error(c, &alert, NULL, &reason);
	fprintf(stderr, "fuzz: state 0x%x, error %d, alert %s: %s\n", tls_conn_state(c), err,
		tls_alert_name(alert), reason ? reason : "");
}

void fuzz_feed(tls_conn *c, const uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 0x9e3779b9u | 1u;
	bool stalled = false;
	seen_established = false;

	drain(c);
	while (n > 0) {
		size_t room = 0;
		uint8_t *buf = tls_conn_recvbuf(c, &room);
		if (!buf || room == 0) {
			/* No room: plaintext must be read first, or we failed. */
			if (stalled || !drain(c))
				break;
			stalled = true;
			continue;
		}
		stalled = false;
		size_t chunk = n;
		if (seed != 0) {
			uint32_t r = xorshift(&x);
			chunk = (r & 3) == 0 ? 1 + (r >> 8) % 8 : 1 + (r >> 8) % 1500;
		}
		if (chunk > n)
			chunk = n;
		if (chunk > room)
			chunk = room;
		memcpy(buf, p, chunk);
		p += chunk;
		n -= chunk;
		int rc = tls_conn_recv_done(c, chunk);
		check_failed(c, rc);
		drain(c);
		if (rc < 0)
			break;
	}
	/* FUZZ_EXPECT_ESTABLISHED: this input is a recorded conversation that
	 * must replay to the end (the deterministic fuzz build). */
	if (getenv("FUZZ_EXPECT_ESTABLISHED") && !seen_established) {
		report(c);
		const char *reason = "";
		tls_conn_error(c, NULL, NULL, &reason);
		fuzz_fail("the recorded conversation did not reach ESTABLISHED: %s", reason);
	}
	if (tls_conn_state(c) & TLS_ST_FAILED) {
		report(c);
		return;
	}
	tls_conn_eof(c);
	drain(c);
	unsigned st = tls_conn_state(c);
	check_failed(c, 0);
	report(c);
	/* RFC 5246 §7.2.1: the end of the stream without close_notify is a
	 * truncation, never a clean end. */
	if (!(st & TLS_ST_PEER_CLOSED) &&
	    (!(st & TLS_ST_FAILED) || tls_conn_error(c, NULL, NULL, NULL) != TLS_ERR_TRUNCATED))
		fuzz_fail("end of stream without close_notify is not TLS_ERR_TRUNCATED");
}
