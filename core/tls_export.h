/*
 * tls_export.h: an established connection as bytes, and back (DESIGN.md
 * "Crossing exec"). The shim hands a TLS connection to the program an
 * exec starts: the old image exports it, the new one imports it under the
 * same policy rule, and the stream goes on where it was, record for
 * record, with no byte lost, repeated or sent twice under one nonce.
 *
 * The blob holds secrets (both directions' traffic keys): whoever holds
 * it can read and forge the connection. Callers keep it in memory only the
 * two images can see, and wipe it after use (tls_export_free).
 *
 * Format (version 1, big-endian, every field bounded):
 *   "TLSX" u8 version, config digest[32] (tls_config_digest), u8 role,
 *   u16 suite, u16 group, u16 peer_sigscheme, u16 flags, u8 warn_pending,
 *   u8 post_hdr_len, post_hdr[4], u32 post_skip, u32 empty_records,
 *   peer_subject, server_name, peer_ip (u16 length + bytes each),
 *   read side then write side (u8 key length + key, iv[12], u64 seq),
 *   decrypted plaintext not yet read, received ciphertext not yet
 *   processed, sealed ciphertext not yet sent (u32 length + bytes each),
 *   and a BLAKE2b-256 checksum of all that (damage is refused whole).
 * Only a TLS 1.2 connection whose handshake is over and that has not failed
 * can be exported (version 1 has no TLS 1.3 record state: the import sets
 * both directions up as TLS 1.2); the import accepts exactly one such blob
 * and nothing else.
 */
#ifndef TLSHIM_CORE_TLS_EXPORT_H
#define TLSHIM_CORE_TLS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

#define TLS_EXPORT_VERSION 1

/* tls_config_digest(cfg, out): a digest of everything in ${cfg} that a
 * connection made under it depends on (role, verify mode, trust anchors,
 * pins, our certificate chain, suites, groups, tickets, legacy_peers):
 * equal for two configs built from the same policy rule and files, in
 * any process. */
void tls_config_digest(const tls_config *cfg, uint8_t out[32]);

/* tls_conn_export(c, out, len, why): serialise ${c} into a new buffer
 * *${out} of *${len} bytes (free it with tls_export_free). ${c} is not
 * changed, and must not be used for sending or receiving afterwards if
 * the blob is imported (both would seal under one key and sequence
 * number). The caller holds both of ${c}'s sides (no other thread in it).
 * Returns 0, or -1 with a sentence in *${why} (handshake not finished,
 * failed, record protection set up for TLS 1.3, out of memory). */
int tls_conn_export(const tls_conn *c, uint8_t **out, size_t *len, const char **why);

/* tls_conn_untouched(c): a server connection that has received, sent and
 * decided nothing yet: handing it over needs no state (a fresh one in the
 * new image does the same). */
bool tls_conn_untouched(const tls_conn *c);

/* tls_export_free(p, len): wipe and free an exported blob; NULL no-op. */
void tls_export_free(uint8_t *p, size_t len);

/* tls_conn_import(cfg, p, len, err, errlen): a connection re-created from
 * the ${len}-byte blob at ${p}, bound to ${cfg} (a reference is taken).
 * Refused (NULL, a sentence in ${err}) when the blob is not one (magic),
 * of another version, truncated, carries trailing or inconsistent bytes,
 * or was made under a config whose digest differs from ${cfg}'s. The
 * blob is not changed; the caller wipes it. Key material copied during the
 * import is wiped on every path. */
tls_conn *tls_conn_import(tls_config *cfg, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif
