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
 * Seeds (gen_corpus.c): real exported blobs, selector 0.
 *
 * Invariant: a state that imports exports again to the same bytes (the
 * import accepts exactly one encoding of each state, tls_export.h).
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "suites.h"
#include "tls_export.h"

#define SEL_OTHER_ROLE  0x01
#define SEL_KEEP_DIGEST 0x02
#define SEL_NO_SUM      0x04

#define SUM_LEN    32
#define DIGEST_OFF 5 /* "TLSX", version */
#define ROLE_OFF   (DIGEST_OFF + 32)

/* drive(c): use everything the import put in ${c}: the plaintext and the
 * buffered ciphertext behind it, a write, the pending output, a close. */
static void drive(tls_conn *c)
{
	uint8_t buf[4096];
	for (int i = 0; i < 8 && tls_conn_read(c, buf, sizeof buf) > 0; i++)
		;
	tls_conn_recv_done(c, 0); /* complete records already buffered */
	for (int i = 0; i < 8 && tls_conn_read(c, buf, sizeof buf) > 0; i++)
		;
	tls_info info;
	tls_conn_info(c, &info);
	char names[256];
	tls_conn_peer_names(c, names, sizeof names);
	tls_conn_write(c, "fuzz", 4);
	tls_conn_close(c);
	for (int i = 0; i < 16; i++) {
		size_t n = 0;
		if (!tls_conn_sendbuf(c, &n) || n == 0)
			break;
		tls_conn_send_done(c, n);
	}
	tls_conn_eof(c);
	tls_conn_state(c);
	tls_conn_error(c, NULL, NULL, NULL);
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
	size_t body = size - 1;
	size_t len = body + (sel & SEL_NO_SUM ? 0 : SUM_LEN);
	/* An exact-size copy, so ASan sees any access outside the blob. */
	uint8_t *blob = malloc(len ? len : 1);
	if (!blob)
		fuzz_fail("out of memory");
	memcpy(blob, data + 1, body);
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
		drive(c);
		tls_conn_free(c);
	}
	sodium_memzero(blob, len);
	free(blob);
	return 0;
}
