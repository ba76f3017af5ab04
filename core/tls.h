/*
 * tls.h: the TLS 1.2 engine's public contract. Sans-I/O: the engine never
 * touches a socket, a clock or errno. The caller moves bytes:
 *
 *   received ciphertext --tls_conn_recvbuf/tls_conn_recv_done--> engine
 *   engine --tls_conn_sendbuf/tls_conn_send_done--> ciphertext to send
 *   application plaintext --tls_conn_write--> engine --tls_conn_read--> plaintext
 *
 * and asks tls_conn_state() what is possible next. A tls_config is shared
 * by many connections (one per policy rule); a tls_conn is one connection.
 *
 * Threads: a tls_config is immutable once connections use it (except its
 * internal ticket key ring, which locks itself). A tls_conn is driven by one
 * thread at a time during the handshake; once TLS_ST_ESTABLISHED is set,
 * the read side (recvbuf, recv_done, eof, read, peek) and the write side
 * (write, sendbuf, send_done, close) may each run in their own thread. At
 * any time, also during the handshake, tls_conn_state, tls_conn_readable,
 * tls_conn_records and tls_conn_error may be called from any other thread
 * as well (readiness asks them without holding either side): each answer
 * is one the sides recently published, which they may change at once.
 */
#ifndef TLSHIM_CORE_TLS_H
#define TLSHIM_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tls_config tls_config;
typedef struct tls_conn tls_conn;
typedef struct tls_session tls_session;

enum tls_role { TLS_ROLE_CLIENT, TLS_ROLE_SERVER };

/* Peer authentication (INTERFACE.md verify_peer). */
enum tls_verify {
	TLS_VERIFY_NONE,     /* server: ask no certificate; client: accept any server */
	TLS_VERIFY_OPTIONAL, /* server: ask; verify one if sent */
	TLS_VERIFY_REQUIRE,  /* server: ask, fail without; client: default */
};

/* Why a connection failed; the shim turns this into errno. */
enum tls_err {
	TLS_ERR_NONE = 0,
	TLS_ERR_AUTH,        /* we rejected the peer's identity (chain, name, pin,
				missing client certificate) -> EACCES on a client */
	TLS_ERR_PEER_ALERT,  /* the peer sent a fatal alert */
	TLS_ERR_PROTOCOL,    /* the peer broke the protocol (we sent an alert) */
	TLS_ERR_NEGOTIATION, /* no common version, suite, group or signature scheme */
	TLS_ERR_TRUNCATED,   /* transport ended without close_notify */
	TLS_ERR_INTERNAL,    /* allocation or library failure */
};

/* What exactly failed, as a code beside tls_conn_error's sentence (in the
 * manner of BearSSL's BR_ERR_*): one value per cause a caller acts on
 * differently, not one per message, so a caller switches on it and never
 * parses the English (issue 13). It refines enum tls_err: the first three
 * groups come with TLS_ERR_AUTH, TLS_ERR_NEGOTIATION and TLS_ERR_PROTOCOL.
 * Every other failure (a peer's alert, a truncation, an internal error,
 * a malformed message) is TLS_R_OTHER: the err and the alert say it. */
enum tls_reason {
	TLS_R_OTHER = 0,
	/* TLS_ERR_AUTH: we rejected the peer's identity. */
	TLS_R_CERT_NAME_MISMATCH,    /* no subjectAltName matches the expected name/IP */
	TLS_R_CERT_EXPIRED,          /* a certificate of the chain is outside its validity */
	TLS_R_CERT_SELF_SIGNED,      /* the leaf is self-signed and not a trust anchor */
	TLS_R_CERT_UNTRUSTED,        /* the chain does not lead to a trust anchor */
	TLS_R_PIN_MISMATCH,          /* the leaf's key matches none of the pins */
	TLS_R_CERT_KEY_UNACCEPTABLE, /* the leaf's key is of a type or size we refuse */
	TLS_R_BAD_SIGNATURE,         /* the peer's handshake signature does not verify */
	TLS_R_CLIENT_CERT_REQUIRED,  /* server: the client sent none, verify_peer = require */
	/* TLS_ERR_NEGOTIATION: nothing in common. */
	TLS_R_NO_COMMON_VERSION,
	TLS_R_NO_COMMON_SUITE,
	TLS_R_NO_COMMON_GROUP, /* also: no supported_groups for our ECDHE suites */
	TLS_R_NO_COMMON_SIGALG,
	TLS_R_NO_EMS,          /* peer lacks the extended master secret (RFC 7627) */
	TLS_R_NO_RENEG_INFO,   /* peer lacks renegotiation_info / the SCSV (RFC 5746) */
	TLS_R_ALPN_NO_OVERLAP, /* server: none of the client's ALPN names is ours */
	/* TLS_ERR_PROTOCOL */
	TLS_R_PLAINTEXT_PEER,          /* a record that is not TLS at all */
	TLS_R_UNEXPECTED_CLIENT_HELLO, /* a ClientHello where none belongs (to a client:
					  a plaintext echo of our own) */
	TLS_R_COUNT
};

/* ---- configuration ---------------------------------------------------- */

/* tls_config_new(role): an empty config with secure defaults (versions 1.2
 * to 1.3 of which the engine speaks 1.2,
 * default suites and groups, client verify_peer = require, server verify_peer
 * = none, tickets on for servers, the system clock); NULL on allocation
 * failure. Reference count 1. */
tls_config *tls_config_new(enum tls_role role);
/* tls_config_ref / tls_config_unref: shared ownership; connections hold a
 * reference. unref(NULL) is a no-op; the last unref wipes and frees. */
tls_config *tls_config_ref(tls_config *cfg);
void tls_config_unref(tls_config *cfg);

/* Each setter returns 0, or -1 with a sentence in ${err} (may be NULL). */

/* tls_config_set_chain_pem / _key_pem: our certificate chain (leaf first) and
 * its private key, as PEM text. */
int tls_config_set_chain_pem(tls_config *cfg, const char *pem, size_t len, char *err,
			     size_t errlen);
int tls_config_set_key_pem(tls_config *cfg, const char *pem, size_t len, char *err, size_t errlen);
/* tls_config_set_ca_pem: trust anchors from a PEM bundle;
 * tls_config_set_ca_system: the operating system's store. */
int tls_config_set_ca_pem(tls_config *cfg, const char *pem, size_t len, char *err, size_t errlen);
int tls_config_set_ca_system(tls_config *cfg, char *err, size_t errlen);
/* tls_config_set_pins: "sha256//BASE64,..." SPKI pins (client role). */
int tls_config_set_pins(tls_config *cfg, const char *spec, char *err, size_t errlen);
void tls_config_set_verify(tls_config *cfg, enum tls_verify v);
/* tls_config_set_ciphers / _groups: OpenSSL-style lists in preference order;
 * naming an RSA key transport suite is the only way to enable one. The
 * cipher list may mix TLS 1.2 and TLS 1.3 names (TLS_AES_128_GCM_SHA256,
 * TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256): each version
 * takes the names of its own kind, and a version none of whose suites is
 * named keeps its defaults (as OpenSSL's -cipher and -ciphersuites do).
 * While the engine speaks only TLS 1.2 (tls_version_supported), the TLS 1.3
 * names are kept, never offered, and tls_config_check refuses a list that
 * names TLS 1.3 suites only (it would not mean what it says). */
int tls_config_set_ciphers(tls_config *cfg, const char *list, char *err, size_t errlen);
int tls_config_set_groups(tls_config *cfg, const char *list, char *err, size_t errlen);
/* tls_config_set_versions(cfg, min, max, err, errlen): the protocol
 * versions a rule allows, TLS_VERSION_1_2 (0x0303) or TLS_VERSION_1_3
 * (0x0304), min <= max (default 1.2 to 1.3: INTERFACE.md). Fails when the
 * range holds no version this build can negotiate (min = 1.3 while TLS 1.3
 * is not available: fail closed, never quietly 1.2); a max above what the
 * engine speaks is accepted and takes effect when it does. */
int tls_config_set_versions(tls_config *cfg, uint16_t min, uint16_t max, char *err, size_t errlen);
/* tls_versions_effective(min, max, lo, hi): the versions of the policy
 * range [min, max] this build negotiates, in *${lo}..*${hi}; 0, or -1 when
 * there is none. */
int tls_versions_effective(uint16_t min, uint16_t max, uint16_t *lo, uint16_t *hi);
/* tls_config_set_alpn(cfg, list, err, errlen): ALPN protocol names
 * (RFC 7301), comma-separated in preference order ("h2,http/1.1"; spaces
 * around names are dropped). Each name is 1 to 255 bytes, with no
 * whitespace, control character or comma; no name twice; the encoded list
 * at most 2^16-1 bytes (a client's must also leave room in its ClientHello:
 * tls_config_check). NULL or "" clears it (the default: no ALPN).
 * Server: answers a client that offers ALPN with the first of ours it
 * offered, and refuses with no_application_protocol when none is (RFC 7301
 * §3.2); a client offering no ALPN is served without. Client: offers ours
 * and accepts only one of them back (tls_info.alpn). */
int tls_config_set_alpn(tls_config *cfg, const char *list, char *err, size_t errlen);
/* tls_config_set_tickets(cfg, on): server: issue and accept session tickets
 * (default on); client: offer session tickets (default on). */
void tls_config_set_tickets(tls_config *cfg, bool on);
/* tls_config_set_legacy_peers(cfg, on): accept a TLS 1.2 peer without the
 * extended master secret (RFC 7627) or without renegotiation_info / the
 * SCSV (RFC 5746); default off: such a peer gets handshake_failure. Without
 * EMS the master secret is the RFC 5246 §8.1 PRF over the randoms. A legacy
 * connection is never resumed and never gets or keeps a ticket (RFC 7627
 * §5.3, §5.4); tls_info says what it lacked. */
void tls_config_set_legacy_peers(tls_config *cfg, bool on);
/* tls_config_share_tickets(cfg, from): server: ${cfg} seals and opens
 * session tickets with ${from}'s key ring, shared from now on, so tickets
 * issued under ${from} still resume under ${cfg} (a rule rebuilt because
 * its certificate changed). Call before ${cfg} is used and after any
 * tls_config_set_clock. No-op unless both are server configs with tickets
 * on and ${from} has a ring. */
void tls_config_share_tickets(tls_config *cfg, tls_config *from);
/* tls_config_set_clock(cfg, now, arg): seconds since the epoch, used for
 * certificate validity and ticket lifetimes. Default: time(NULL). */
void tls_config_set_clock(tls_config *cfg, uint64_t (*now)(void *arg), void *arg);
/* tls_config_set_keylog(cfg, cb, arg): called once per handshake with an NSS
 * key log line ("CLIENT_RANDOM <hex> <hex>", no newline). Off by default. */
void tls_config_set_keylog(tls_config *cfg, void (*cb)(void *arg, const char *line), void *arg);
/* tls_config_check(cfg, err, errlen): final consistency check before use:
 * key matches chain; a server has a chain and key and a suite its key can
 * serve; verify = optional/require needs a CA store (or, for a client,
 * pins). Returns 0 or -1. */
int tls_config_check(tls_config *cfg, char *err, size_t errlen);

/* ---- connections ------------------------------------------------------ */

/* tls_conn_new(cfg, server_name, peer_ip): a connection in ${cfg}'s role.
 * Client: ${server_name} is sent as SNI and checked against the certificate;
 * without it ${peer_ip} (textual) is checked against IP SANs. Server: both
 * NULL. A client's ClientHello is produced by the first tls_conn_sendbuf
 * (so that tls_conn_set_session can come first); tls_conn_state reports
 * TLS_ST_SEND for it at once. NULL on allocation failure. */
tls_conn *tls_conn_new(tls_config *cfg, const char *server_name, const char *peer_ip);
/* tls_conn_free(c): wipe and free; NULL is a no-op. */
void tls_conn_free(tls_conn *c);

/* tls_conn_set_session(c, s): client, before any byte is sent or received:
 * offer to resume ${s} (a reference is taken). Ignored for a session made
 * for another server name or config. */
void tls_conn_set_session(tls_conn *c, tls_session *s);
/* tls_conn_get_session(c): client, after the handshake: a new reference to
 * the resumable session (with its ticket), or NULL. */
tls_session *tls_conn_get_session(tls_conn *c);
/* tls_session_ref / tls_session_unref: shared ownership of a session
 * (declared with the session itself in session.h); unref(NULL) is a no-op. */
tls_session *tls_session_ref(tls_session *s);
void tls_session_unref(tls_session *s);

/* State flags (any combination). */
enum {
	TLS_ST_HANDSHAKING = 1u << 0, /* handshake not finished */
	TLS_ST_ESTABLISHED = 1u << 1, /* both Finished verified; app data may flow */
	TLS_ST_SEND = 1u << 2,        /* ciphertext is waiting in sendbuf */
	TLS_ST_READABLE = 1u << 3,    /* decrypted plaintext is waiting */
	TLS_ST_WRITABLE = 1u << 4,    /* tls_conn_write would accept bytes */
	TLS_ST_PEER_CLOSED = 1u << 5, /* close_notify received: EOF after READABLE drains */
	TLS_ST_FAILED = 1u << 6,      /* fatal error; see tls_conn_error */
	TLS_ST_CLOSED = 1u << 7,      /* we sent (or queued) close_notify */
	TLS_ST_WANT_INPUT = 1u << 8,  /* progress needs bytes from the peer */
};

/* tls_conn_state(c): the TLS_ST_* flags now. */
unsigned tls_conn_state(const tls_conn *c);

/* tls_conn_recvbuf(c, room): where to put received ciphertext, with *${room}
 * bytes free; NULL and 0 when input cannot be taken now (decrypted
 * plaintext fills the buffer and must be read first, or the connection
 * failed). */
uint8_t *tls_conn_recvbuf(tls_conn *c, size_t *room);
/* tls_conn_recv_done(c, n): ${n} bytes were written into the recvbuf; the
 * engine processes every complete record (handshake progress, decryption,
 * alerts). Returns 0, or -1 once the connection has failed. */
int tls_conn_recv_done(tls_conn *c, size_t n);
/* tls_conn_eof(c): the transport ended. Without a prior close_notify this is
 * a truncation (TLS_ERR_TRUNCATED, RFC 5246 §7.2.1). */
void tls_conn_eof(tls_conn *c);

/* tls_conn_sendbuf(c, len): ciphertext waiting to be sent, *${len} bytes;
 * NULL and 0 when there is none. */
const uint8_t *tls_conn_sendbuf(tls_conn *c, size_t *len);
/* tls_conn_send_done(c, n): ${n} bytes of the sendbuf went out. */
void tls_conn_send_done(tls_conn *c, size_t n);

/* tls_conn_write(c, p, n): seal up to ${n} plaintext bytes into records in
 * the send buffer; returns how many were taken (0 when not established,
 * failed, closed, or the send buffer is full: send first). Bytes taken are
 * the engine's: they will be sent before any close_notify. */
size_t tls_conn_write(tls_conn *c, const void *p, size_t n);
/* tls_conn_read(c, p, n): copy up to ${n} decrypted bytes out; returns the
 * count (0 when none is waiting; see PEER_CLOSED for end of stream). */
size_t tls_conn_read(tls_conn *c, void *p, size_t n);
/* tls_conn_peek(c, len): pointer to the waiting plaintext without consuming
 * it (*${len} bytes contiguous; more may follow after tls_conn_read). */
const uint8_t *tls_conn_peek(const tls_conn *c, size_t *len);
/* tls_conn_readable(c): decrypted bytes waiting now (FIONREAD). */
size_t tls_conn_readable(const tls_conn *c);
/* tls_conn_records(c, sent): how many records this connection has sealed
 * (${sent}) or opened under the current keys; they only grow once
 * established. Edge-triggered readiness uses them to tell that data was
 * read or written since it last looked, however much is waiting now. */
uint64_t tls_conn_records(const tls_conn *c, bool sent);

/* tls_conn_close(c): queue close_notify (RFC 5246 §7.2.1) after any data
 * already taken; later writes take nothing. */
void tls_conn_close(tls_conn *c);

/* tls_conn_error(c, alert, from_peer, reason): why the connection failed:
 * the enum tls_err, the alert sent or received, whether the peer sent it,
 * and a sentence ("certificate verify failed: unable to get local issuer
 * certificate"). Any out pointer may be NULL. */
enum tls_err tls_conn_error(const tls_conn *c, uint8_t *alert, bool *from_peer,
			    const char **reason);
/* tls_conn_reason(c): the enum tls_reason of that failure (TLS_R_OTHER
 * when there is none); callable from any thread, as tls_conn_error. */
enum tls_reason tls_conn_reason(const tls_conn *c);

/* tls_conn_client_cert_missing(c): client: the server asked for a
 * certificate and we had none to send (a server refusing us then answers
 * handshake_failure, RFC 5246 §7.4.6). */
bool tls_conn_client_cert_missing(const tls_conn *c);

/* tls_conn_peer_names(c, buf, len): the subjectAltName entries (DNS names,
 * then IP addresses, in certificate order within each kind) of the
 * certificate the peer presented, comma-separated without spaces
 * ("db.internal,localhost,127.0.0.1"), NUL-terminated in ${buf} and cut
 * short (ending in "...") when it does not fit. Available from the peer's
 * Certificate message until the handshake state is released: while the
 * handshake runs and after it failed (for explaining a refusal), not after
 * it succeeded. Returns the length written; 0 when there is no certificate
 * or it has no such entries. */
size_t tls_conn_peer_names(const tls_conn *c, char *buf, size_t len);

/* tls_conn_peer_validity(c, not_before, not_after): the validity period of
 * the peer's leaf certificate in seconds since the epoch; same availability
 * as tls_conn_peer_names. 0, or -1 when there is none. */
int tls_conn_peer_validity(const tls_conn *c, int64_t *not_before, int64_t *not_after);

/* tls_conn_set_trace(c, cb, arg): call ${cb}(${arg}, line) for each
 * handshake step of this connection, in order: every message sent or
 * received ("send ClientHello (213 bytes)", "recv ServerHello (89 bytes):
 * suite ECDHE-ECDSA-AES128-GCM-SHA256", "send ChangeCipherSpec"), the
 * completion ("handshake complete: ...") or the failure ("failed: reason").
 * The line has no newline and is valid only during the call. Set it before
 * the first byte moves; without it (the default) nothing is formatted. */
void tls_conn_set_trace(tls_conn *c, void (*cb)(void *arg, const char *line), void *arg);

typedef struct tls_info {
	uint16_t version; /* 0x0303 (tls_version_name) */
	uint16_t suite;
	const char *suite_name; /* OpenSSL name */
	uint16_t group;         /* 0 for RSA key transport and resumption */
	const char *group_name;
	uint16_t sigscheme; /* peer's handshake signature (0 if none) */
	bool resumed;
	bool ems;                 /* extended master secret (RFC 7627) */
	bool secure_reneg;        /* the peer sent renegotiation_info or the SCSV (RFC 5746) */
	bool peer_cert;           /* the peer presented a certificate */
	bool peer_verified;       /* ... and it was verified (chain or pin) */
	const char *peer_subject; /* "" when none */
	const char *server_name;  /* SNI sent (client) or received (server) */
	const char *alpn;         /* the ALPN protocol agreed (RFC 7301), "" when none;
				     always one of the config's own names */
} tls_info;

/* tls_conn_info(c, info): facts about the established connection; valid
 * until tls_conn_free. Returns -1 before the handshake completed. */
int tls_conn_info(const tls_conn *c, tls_info *info);

/* ---- fork --------------------------------------------------------------- */

/* The engine's only locks that outlive a call are those of the servers'
 * ticket key rings (tls.h "Threads"). A fork() while another thread holds
 * one would leave it locked for ever in the child, which would then hang
 * at its next session ticket. A process that may fork while engine calls
 * run in other threads calls these around fork(), as pthread_atfork
 * handlers do (the shim does so from its own):
 *
 * tls_ticket_keys_atfork_prepare(): before fork(): waits for and takes
 * every ring's lock (and the lock of the list of rings), so that no ring
 * is mid-rotation when the address space is copied.
 * tls_ticket_keys_atfork_parent() / _child(): after fork(), in the parent
 * and in the child: release them all (the child's only thread is the one
 * that took them). Allocation-free; the child's is async-signal-safe in
 * effect (it only unlocks mutexes its thread holds). Each prepare must be
 * followed by exactly one parent or child call in each process. */
void tls_ticket_keys_atfork_prepare(void);
void tls_ticket_keys_atfork_parent(void);
void tls_ticket_keys_atfork_child(void);

/* tls_alert_name(alert): "handshake_failure", ... ("unknown" otherwise). */
const char *tls_alert_name(uint8_t alert);
/* tls_alert_rejects_certificate(alert): ${alert} is one a peer sends when
 * it does not accept our certificate or our lack of one: bad_certificate,
 * unsupported_certificate, certificate_revoked, certificate_expired,
 * certificate_unknown, unknown_ca, access_denied (RFC 5246 §7.2.2) and
 * certificate_required (RFC 8446 §6.2, 116: sent by servers when a client
 * certificate is desired but none was provided; TLS 1.3-era peers send it
 * to TLS 1.2 clients too). */
bool tls_alert_rejects_certificate(uint8_t alert);
/* tls_version_name(v): "TLSv1.2", "TLSv1.3" (OpenSSL's spellings; also
 * "SSLv3", "TLSv1", "TLSv1.1"), "unknown" otherwise. */
const char *tls_version_name(uint16_t v);

#endif
