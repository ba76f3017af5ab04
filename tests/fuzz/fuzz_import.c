/*
 * fuzz_import.c: tls_conn_import (tls_export.h) on arbitrary connection
 * states. The state comes from a memfd another process of the same user
 * could have written (shim/handover.c): the parser must refuse or accept
 * it without reading or writing outside what it holds, and a connection it
 * accepts must be usable (read, write, close, free) without harm.
 *
 * A blob ends in a BLAKE2b-256 checksum and carries the digest of the
 * config it was made under, so a mutated blob would never get past either
 * check. The harness therefore puts both right (fuzz-only; the product
 * checks them): the input is a blob without its checksum, the harness
 * writes the importing config's digest over the blob's (unless told not
 * to) and appends the checksum of the result, with libsodium's BLAKE2b as
 * export.c does. What gets fuzzed is the parser behind the two checks.
 *
 * Input: one selector byte, then the blob body. Selector bits:
 *   0x01  import under the config of the other role than the blob names
 *   0x02  keep the blob's config digest (exercises the digest refusal)
 *   0x04  do not append a checksum (the input's last 32 bytes are it)
 *   0x08  a peer script follows the blob: the body is preceded by its
 *         length (u16), and what follows it is records the peer sends
 *         once the state is imported (u8 content type, u8 length,
 *         plaintext each), sealed by the harness under the imported read
 *         keys and sequence number, so the imported record state
 *         (post-handshake message fragments, close and warning flags) is
 *         driven by records that authenticate.
 * Seeds (gen_corpus.c): real exported blobs, selector 0, and a few with a
 * script (0x08).
 *
 * Invariant: a state that imports exports again to the same bytes (the
 * import accepts exactly one encoding of each state, tls_export.h).
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aead.h"
#include "consts.h"
#include "internal.h"
#include "suites.h"
#include "tls_export.h"

#define SEL_OTHER_ROLE  0x01
#define SEL_KEEP_DIGEST 0x02
#define SEL_NO_SUM      0x04
#define SEL_SCRIPT      0x08

#define SUM_LEN    32
#define DIGEST_OFF 5 /* "TLSX", version */
#define ROLE_OFF   (DIGEST_OFF + 32)

/* play(c, peer, p, n): the script at ${p} as records from the peer
 * (sealed with ${peer}), into ${c} one record at a time, plaintext read
 * out after each. */
static void play(tls_conn *c, tls_aead *peer, const uint8_t *p, size_t n)
{
	uint8_t rec[TLS_RECORD_HEADER + 255 + TLS_AEAD_MAX_OVERHEAD], buf[4096];
	while (n >= 2 && !(tls_conn_state(c) & TLS_ST_FAILED)) {
		uint8_t type = p[0];
		size_t len = p[1] < n - 2 ? p[1] : n - 2;
		size_t body = tls_aead_seal(peer, type, p + 2, len, rec + TLS_RECORD_HEADER);
		p += 2 + len;
		n -= 2 + len;
		if (body == 0)
			return;
		rec[0] = type;
		rec[1] = TLS_VERSION_1_2 >> 8;
		rec[2] = TLS_VERSION_1_2 & 0xff;
		rec[3] = (uint8_t)(body >> 8);
		rec[4] = (uint8_t)body;
		size_t room = 0, total = TLS_RECORD_HEADER + body;
		uint8_t *in = tls_conn_recvbuf(c, &room);
		if (!in || room < total)
			return;
		memcpy(in, rec, total);
		tls_conn_recv_done(c, total);
		while (tls_conn_read(c, buf, sizeof buf) > 0)
			;
	}
}

/* drive(c, script, n): use everything the import put in ${c}: the
 * plaintext and the buffered ciphertext behind it, the ${n}-byte peer
 * script (see above; only when no partial record is buffered: the script's
 * records would not line up), a write, the pending output, a close. */
static void drive(tls_conn *c, const uint8_t *script, size_t n)
{
	uint8_t buf[4096];
	for (int i = 0; i < 8 && tls_conn_read(c, buf, sizeof buf) > 0; i++)
		;
	tls_conn_recv_done(c, 0); /* complete records already buffered */
	for (int i = 0; i < 8 && tls_conn_read(c, buf, sizeof buf) > 0; i++)
		;
	if (script && c->in_end == c->in_start && !(tls_conn_state(c) & TLS_ST_FAILED)) {
		tls_aead peer;
		memset(&peer, 0, sizeof peer);
		if (tls_aead_init(&peer, c->rd.kind, c->rd.key, c->rd.iv, true) < 0)
			fuzz_fail("tls_aead_init for the peer failed");
		peer.seq = c->rd.seq;
		play(c, &peer, script, n);
		tls_aead_free(&peer);
	}
	tls_info info;
	tls_conn_info(c, &info);
	char names[256];
	tls_conn_peer_names(c, names, sizeof names);
	int64_t nb, na;
	tls_conn_peer_validity(c, &nb, &na);
	tls_conn_client_cert_missing(c);
	tls_session_unref(tls_conn_get_session(c)); /* a client's: none to resume */
	tls_conn_write(c, "fuzz", 4);
	tls_conn_close(c);
	for (int i = 0; i < 16; i++) {
		size_t m = 0;
		if (!tls_conn_sendbuf(c, &m) || m == 0)
			break;
		tls_conn_send_done(c, m);
	}
	unsigned st = tls_conn_state(c);
	const char *reason = NULL;
	tls_conn_error(c, NULL, NULL, &reason);
	if (fuzz_verbose())
		fprintf(stderr, "fuzz_import: %llu records opened, state %#x, %s\n",
			(unsigned long long)tls_conn_records(c, false), st,
			reason ? reason : "no error");
	tls_conn_eof(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tls_config *cfg[2];
	if (!cfg[0]) {
		fuzz_rand_install();
		cfg[TLS_ROLE_CLIENT] = fuzz_client_config(true);
		cfg[TLS_ROLE_SERVER] = fuzz_server_config(TLS_KEY_EC_P256, false, NULL, NULL);
	}
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const uint8_t *in = data + 1, *script = NULL;
	size_t body = size - 1, nscript = 0;
	if (sel & SEL_SCRIPT) {
		if (body < 2)
			return 0;
		size_t b = (size_t)in[0] << 8 | in[1];
		if (b > body - 2)
			return 0;
		script = in + 2 + b;
		nscript = body - 2 - b;
		in += 2;
		body = b;
	}
	size_t len = body + (sel & SEL_NO_SUM ? 0 : SUM_LEN);
	/* An exact-size copy, so ASan sees any access outside the blob. */
	uint8_t *blob = malloc(len ? len : 1);
	if (!blob)
		fuzz_fail("out of memory");
	memcpy(blob, in, body);
	unsigned role = body > ROLE_OFF && blob[ROLE_OFF] == TLS_ROLE_CLIENT ? TLS_ROLE_CLIENT
									     : TLS_ROLE_SERVER;
	if (sel & SEL_OTHER_ROLE)
		role = role == TLS_ROLE_CLIENT ? TLS_ROLE_SERVER : TLS_ROLE_CLIENT;
	if (!(sel & SEL_KEEP_DIGEST) && body >= ROLE_OFF)
		tls_config_digest(cfg[role], blob + DIGEST_OFF);
	if (!(sel & SEL_NO_SUM))
		crypto_generichash(blob + body, SUM_LEN, blob, body, NULL, 0);

	fuzz_rand_reset(role == TLS_ROLE_CLIENT ? FUZZ_RAND_CLIENT : FUZZ_RAND_SERVER);
	char err[256] = "";
	tls_conn *c = tls_conn_import(cfg[role], blob, len, err, sizeof err);
	if (fuzz_verbose())
		fprintf(stderr, "fuzz_import: %s\n", c ? "imported" : err);
	if (!c) {
		if (!err[0])
			fuzz_fail("tls_conn_import refused without a reason");
	} else {
		uint8_t *again = NULL;
		size_t alen = 0;
		const char *why = "";
		if (tls_conn_export(c, &again, &alen, &why) < 0)
			fuzz_fail("an imported state does not export: %s", why);
		if (alen != len || memcmp(again, blob, len) != 0)
			fuzz_fail("an imported state exports to other bytes (%zu, was %zu)", alen,
				  len);
		tls_export_free(again, alen);
		drive(c, script, nscript);
		tls_conn_free(c);
	}
	sodium_memzero(blob, len);
	free(blob);
	return 0;
}
