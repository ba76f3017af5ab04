/*
 * hs_finished.c: Finished (RFC 5246 §7.4.9). verify_data is the PRF over
 * the hash of every handshake message before it, so any change to an
 * earlier message (a ClientHello with its strong suites stripped, say)
 * makes the two sides disagree here and the handshake fail.
 */
#include <sodium.h>

#include "handshake.h"
#include "prf.h"

/* verify_data for the Finished sent by the client (from_client) or server. */
static int compute(tls_conn *c, bool from_client, uint8_t out[TLS_FINISHED_LEN])
{
	uint8_t th[TLS_MAX_HASH_LEN];
	size_t thlen = tls_hs_transcript_hash(c, th);
	int r = (thlen == 0 ||
		 tls_finished(c->suite->hash, c->hs->master, from_client, th, thlen, out) < 0)
			? -1
			: 0;
	sodium_memzero(th, sizeof th);
	if (r < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"Finished computation failed");
	return 0;
}

int tls_hs_finished_write(tls_conn *c, tls_wbuf *w)
{
	uint8_t vd[TLS_FINISHED_LEN];
	TRY(compute(c, c->role == TLS_ROLE_CLIENT, vd));
	tls_wbuf_bytes(w, vd, sizeof vd);
	sodium_memzero(vd, sizeof vd);
	return 0;
}

int tls_hs_finished_read(tls_conn *c, tls_cur *body)
{
	const uint8_t *got = tls_cur_bytes(body, TLS_FINISHED_LEN);
	if (!got || tls_cur_remaining(body) != 0)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				"Finished has the wrong length");
	uint8_t want[TLS_FINISHED_LEN];
	TRY(compute(c, c->role == TLS_ROLE_SERVER, want));
	/* Constant time: the comparison must not tell an attacker how many
	 * leading bytes of a forged verify_data were right. */
	int diff = sodium_memcmp(got, want, TLS_FINISHED_LEN);
	sodium_memzero(want, sizeof want);
	if (diff != 0)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECRYPT_ERROR,
				"Finished verify_data mismatch: the handshake was altered in "
				"transit (e.g. suites stripped) or the keys differ");
	return 0;
}
