/*
 * handshake.h: the handshake state machine (handshake.c) and the per-message
 * handlers (one hs_<message>.c each, parser and writer side by side).
 *
 * Writers append a message body to ${w} (the 4-byte header is added by the
 * state machine, which also records the message in the transcript and puts
 * it into records). Readers get a cursor over exactly the body and must
 * consume all of it (tls_cur_done), else decode_error. Both return 0, or
 * -1 after tls_fail().
 *
 * The state machine calls a reader only when the message is the one the
 * table expects next, so handlers never check message order. A handler may
 * rely on every earlier message of the table having been processed. While a
 * handler runs, the transcript holds every message before its own (the
 * state machine appends the message after the handler returns), which is
 * what CertificateVerify and Finished compute over.
 */
#ifndef TLSHIM_CORE_HANDSHAKE_H
#define TLSHIM_CORE_HANDSHAKE_H

#include "internal.h"

/* tls_hs_start(c): allocate the handshake state. 0 or -1. */
int tls_hs_start(tls_conn *c);

/* tls_hs_client_start(c): a client writes its ClientHello (once; sets
 * c->started). 0 or -1. */
int tls_hs_client_start(tls_conn *c);

/* tls_hs_on_header(c, type, len): the 4-byte header of an incoming
 * handshake message announces ${type} and a body of ${len} bytes: fails
 * (unexpected_message) unless the table expects that type next, and
 * (illegal_parameter) when ${len} exceeds what the type allows, so the
 * record layer never buffers a body it would refuse. 0 or -1. */
int tls_hs_on_header(tls_conn *c, uint8_t type, size_t len);

/* tls_hs_on_message(c, type, msg, len): one complete incoming handshake
 * message of ${type} during the handshake; ${msg} is its ${len} bytes, the
 * 4-byte header included (the transcript takes them whole). Runs every
 * send step that follows. 0 or -1. (After the handshake the record layer
 * answers renegotiation requests itself, record.c on_post_handshake.) */
int tls_hs_on_message(tls_conn *c, uint8_t type, const uint8_t *msg, size_t len);

/* tls_hs_on_ccs(c): a ChangeCipherSpec record arrived. 0 or -1. */
int tls_hs_on_ccs(tls_conn *c);

/* tls_hs_free(c): wipe and free the handshake state; no-op without one. */
void tls_hs_free(tls_conn *c);

/* tls_hs_transcript_hash(c, out): hash (PRF hash of the suite) of every
 * handshake message so far; returns its length. */
size_t tls_hs_transcript_hash(tls_conn *c, uint8_t *out);

/* tls_hs_set_master(c, pms, len): derive the master secret from the
 * pre-master secret with the extended master secret (RFC 7627 §4; the
 * session hash is the transcript so far, which must end with
 * ClientKeyExchange) and wipe ${pms}. 0 or -1. */
int tls_hs_set_master(tls_conn *c, uint8_t *pms, size_t len);

/* tls_hs_legacy(hs): the peer's hello lacked the extended master secret
 * (RFC 7627) or renegotiation_info / the SCSV (RFC 5746). */
bool tls_hs_legacy(const tls_hs *hs);
/* tls_hs_require_modern(c): after the peer's hello: fail with
 * handshake_failure when it lacked EMS or renegotiation_info, unless the
 * config has legacy_peers (then 0: the connection goes on, never resumed
 * or ticketed). 0 or -1. */
int tls_hs_require_modern(tls_conn *c);

/* tls_hs_peer_certificate(c, chain): verify the peer's chain per the
 * config (CA store, name/IP, pins, verify mode) and keep it in c->hs. Takes
 * ownership of ${chain} (may be empty). 0 or -1 (TLS_ERR_AUTH). */
int tls_hs_peer_certificate(tls_conn *c, STACK_OF(X509) * chain);

/* ---- message handlers ------------------------------------------------- */

/* hs_client_hello.c: ClientHello (RFC 5246 §7.4.1.2) with every extension
 * we send or understand. The reader (server) negotiates version (RFC 8446
 * §4.2.1 supported_versions), suite, group, signature scheme, EMS,
 * renegotiation_info, SNI, the session ticket and ALPN (RFC 7301); a valid
 * ticket switches the shape to RESUMED. */
int tls_hs_client_hello_write(tls_conn *c, tls_wbuf *w);
int tls_hs_client_hello_read(tls_conn *c, tls_cur *body);

/* hs_server_hello.c: ServerHello (RFC 5246 §7.4.1.3). The reader (client)
 * checks the choices against what it offered (the ALPN answer included)
 * and detects resumption (echoed session id, RFC 5077 §3.4), switching the
 * shape to RESUMED. The writer (server) makes hs->server_random. */
int tls_hs_server_hello_write(tls_conn *c, tls_wbuf *w);
int tls_hs_server_hello_read(tls_conn *c, tls_cur *body);

/* hs_certificate.c: Certificate (RFC 5246 §7.4.2 / §7.4.6). */
int tls_hs_certificate_write(tls_conn *c, tls_wbuf *w);
int tls_hs_certificate_read(tls_conn *c, tls_cur *body);

/* hs_server_key_exchange.c: signed ECDHE parameters (RFC 8422 §5.4). */
int tls_hs_server_key_exchange_write(tls_conn *c, tls_wbuf *w);
int tls_hs_server_key_exchange_read(tls_conn *c, tls_cur *body);

/* hs_certificate_request.c: RFC 5246 §7.4.4. */
int tls_hs_certificate_request_write(tls_conn *c, tls_wbuf *w);
int tls_hs_certificate_request_read(tls_conn *c, tls_cur *body);

/* hs_server_hello_done.c: RFC 5246 §7.4.5 (empty body). */
int tls_hs_server_hello_done_write(tls_conn *c, tls_wbuf *w);
int tls_hs_server_hello_done_read(tls_conn *c, tls_cur *body);

/* hs_client_key_exchange.c: ECDHE public value (RFC 8422 §5.7) or RSA
 * EncryptedPreMasterSecret (RFC 5246 §7.4.7.1); both sides leave the
 * pre-master secret in hs->pms / hs->pms_len. */
int tls_hs_client_key_exchange_write(tls_conn *c, tls_wbuf *w);
int tls_hs_client_key_exchange_read(tls_conn *c, tls_cur *body);

/* hs_certificate_verify.c: RFC 5246 §7.4.8, over the transcript so far. */
int tls_hs_certificate_verify_write(tls_conn *c, tls_wbuf *w);
int tls_hs_certificate_verify_read(tls_conn *c, tls_cur *body);

/* hs_new_session_ticket.c: RFC 5077 §3.3. */
int tls_hs_new_session_ticket_write(tls_conn *c, tls_wbuf *w);
int tls_hs_new_session_ticket_read(tls_conn *c, tls_cur *body);

/* hs_finished.c: RFC 5246 §7.4.9, compared in constant time. */
int tls_hs_finished_write(tls_conn *c, tls_wbuf *w);
int tls_hs_finished_read(tls_conn *c, tls_cur *body);

#endif
