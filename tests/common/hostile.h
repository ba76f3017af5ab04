/*
 * hostile.h: tools for playing a hostile TLS peer against the engine with
 * the engine's own record writer: copying a connection at any point of a
 * conversation (so one state is attacked in thousands of ways without
 * replaying the handshake), writing arbitrary records under a connection's
 * write keys at any sequence number, and walking record streams.
 * Test-only: it knows the engine's private structures (internal.h).
 */
#ifndef TLSHIM_TESTS_HOSTILE_H
#define TLSHIM_TESTS_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

/* hostile_clone(c): a deep copy of ${c} in the same state (handshake
 * state, transcript, keys, sequence numbers, buffered bytes), sharing only
 * immutable or reference-counted objects (config, sessions, certificates,
 * key pairs). Free it with tls_conn_free. NULL on allocation failure. A
 * trace callback is not copied. */
tls_conn *hostile_clone(const tls_conn *c);

/* hostile_record(c, protect, seq, type, p, n, out, cap): the record(s) of
 * content ${type} carrying ${n} bytes of ${p} as ${c}'s write side would
 * send them: in clear, or (${protect}) sealed under ${c}'s write keys with
 * sequence number ${seq} (so a record can be placed anywhere in a stream
 * that ${c} already wrote). ${c}'s output buffer must be empty; it is left
 * empty and its write state unchanged. Writes to ${out} (${cap} bytes) and
 * returns the length, 0 when it does not fit or cannot be sealed. */
size_t hostile_record(tls_conn *c, bool protect, uint64_t seq, uint8_t type, const uint8_t *p,
		      size_t n, uint8_t *out, size_t cap);

/* hostile_write_protected(c): ${c} seals what it sends now (it sent its
 * ChangeCipherSpec); hostile_write_seq(c): the sequence number of its next
 * sealed record. */
bool hostile_write_protected(const tls_conn *c);
uint64_t hostile_write_seq(const tls_conn *c);
/* hostile_set_write_seq(c, seq): ${c} seals its next record with ${seq}
 * (after records were placed in front of its own with hostile_record). */
void hostile_set_write_seq(tls_conn *c, uint64_t seq);

/* hostile_next_record(p, n, off, type, len): the record at *${off} of the
 * stream ${p}[0..${n}): true with its content type and total length
 * (header included) when a whole record is there; *${off} moves past it. */
bool hostile_next_record(const uint8_t *p, size_t n, size_t *off, uint8_t *type, size_t *len);

#endif
