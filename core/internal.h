/*
 * internal.h: the engine's private structures, shared by the files of
 * core/ and nothing else. tls.h is the public contract.
 */
#ifndef TLSHIM_CORE_INTERNAL_H
#define TLSHIM_CORE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "aead.h"
#include "cert.h"
#include "consts.h"
#include "cursor.h"
#include "kx.h"
#include "session.h"
#include "suites.h"
#include "tls.h"

#define TLS_MAX_SUITES       16
#define TLS_MAX_GROUPS       8
#define TLS_MAX_PINS         16
#define TLS_MAX_PEER_SIGALGS 64
/* A client's ALPN list must leave room in its ClientHello, whose
 * extensions are at most 2^16-1 bytes (RFC 5246 §7.4.1.2): ours other than
 * ALPN and a session ticket take under 400 bytes, and our tickets under
 * 1 KiB; a client may name at most this many bytes of protocols. */
#define TLS_MAX_CLIENT_ALPN (65535u - 2048u)

/* Input holds two full records, so one receive can take in a record while
 * the application still reads the previous one. */
#define TLS_IN_CAP (2 * (TLS_RECORD_HEADER + TLS_MAX_CIPHERTEXT))
/* Output holds two full records plus room for an alert. Both buffers are
 * released whenever they drain after the handshake (record.c in_release,
 * tls_conn_send_done), so an idle connection holds neither (issue 10). */
#define TLS_OUT_CAP (2 * (TLS_RECORD_HEADER + TLS_MAX_PLAINTEXT + TLS_AEAD_MAX_OVERHEAD) + 64)

struct tls_config {
	int refs;       /* atomic */
	uint8_t role;   /* enum tls_role */
	uint8_t verify; /* enum tls_verify */
	bool has_chain;
	tls_chain chain;
	bool has_key;
	tls_privkey key;
	X509_STORE *store; /* NULL: none configured */
	uint8_t ca_id[32]; /* hash of the CA bundle's text, or of "system" (zero: none) */
	uint8_t pins[TLS_MAX_PINS][32];
	size_t npins;
	uint16_t suites[TLS_MAX_SUITES]; /* TLS 1.2 suites, preference order; 0 when
					    `ciphers` named only TLS 1.3 ones */
	size_t nsuites;
	uint16_t suites13[TLS_MAX_SUITES]; /* TLS 1.3 suites (not spoken yet) */
	size_t nsuites13;
	bool ciphers13_named;              /* `ciphers` named TLS 1.3 suites (else the defaults) */
	uint16_t min_version, max_version; /* policy range (tls_config_set_versions) */
	/* ALPN (RFC 7301 §3.1): alpn is the ProtocolNameList body (each name
	 * with its 1-byte length, no outer length), alpn_len bytes; alpn_text
	 * the same names NUL-terminated, so the name whose length byte sits at
	 * alpn[o] is the string at alpn_text + o. NULL/0: no ALPN. */
	uint8_t *alpn;
	char *alpn_text;
	size_t alpn_len;
	uint16_t groups[TLS_MAX_GROUPS]; /* preference order */
	size_t ngroups;
	bool tickets;
	bool legacy_peers;            /* tls_config_set_legacy_peers */
	tls_ticket_keys *ticket_keys; /* server with tickets: made by tls_config_new */
	uint64_t (*now)(void *arg);
	void *now_arg;
	void (*keylog)(void *arg, const char *line);
	void *keylog_arg;
};

/* Handshake shapes; the table for each is in handshake.c. */
enum tls_shape { TLS_SHAPE_FULL, TLS_SHAPE_RESUMED };

/* State that lives only while the handshake runs (freed, wiped, after). */
typedef struct tls_hs {
	uint8_t shape; /* enum tls_shape; hello processing may switch FULL->RESUMED */
	uint8_t step;  /* index into the shape's table */
	uint8_t client_random[TLS_RANDOM_LEN];
	uint8_t server_random[TLS_RANDOM_LEN];
	uint8_t session_id[TLS_MAX_SESSION_ID];
	uint8_t session_id_len;
	uint16_t client_version; /* as sent in ClientHello (RSA kx version check) */

	/* What the peer offered. */
	uint16_t peer_sigalgs[TLS_MAX_PEER_SIGALGS]; /* signature_algorithms (server: from
				      ClientHello; client: from CertificateRequest) */
	size_t n_peer_sigalgs;
	bool peer_ems;              /* peer sent extended_master_secret */
	bool peer_reneg;            /* peer sent renegotiation_info (empty) or the SCSV */
	bool peer_ticket_ext;       /* peer sent session_ticket (server: in ClientHello) */
	bool peer_ec_point_formats; /* server: ClientHello had ec_point_formats, echoed for
				     ECDHE suites (RFC 8422 §5.2) */
	bool sent_sni;              /* client: ClientHello carried server_name (RFC 6066 §3) */

	/* What was agreed. */
	bool send_ticket;       /* server will send / client expects NewSessionTicket */
	bool cert_requested;    /* server sent / client received CertificateRequest */
	bool client_cert;       /* client sent / server received a non-empty Certificate */
	uint8_t req_cert_types; /* client: from CertificateRequest, bit0 rsa_sign bit1 ecdsa_sign */
	uint16_t sigscheme;     /* the scheme of our signature (SKE or CertificateVerify) */
	tls_kx kx;              /* our ephemeral key share */
	uint8_t peer_share[TLS_KX_MAX_PUB]; /* client: the server's ECDHE public value (SKE) */
	size_t peer_share_len;

	/* The peer's certificate (chain as received, leaf first). */
	STACK_OF(X509) * peer_chain;
	EVP_PKEY *peer_key; /* leaf public key (reference held) */

	/* Secrets; wiped with the handshake. The ClientKeyExchange handlers
	 * leave the pre-master secret in pms; the state machine turns it into
	 * the master secret once ClientKeyExchange is in the transcript (the EMS
	 * session hash must cover it, RFC 7627 §3). */
	uint8_t pms[TLS_PREMASTER_RSA_LEN];
	size_t pms_len;
	uint8_t master[TLS_MASTER_SECRET_LEN];
	bool have_master;
	uint8_t keys[2 * 32 + 2 * 12]; /* key block: client key, server key, client iv, server iv */
	bool keys_derived;

	/* Resumption: server: session opened from the client's ticket;
	 * client: the session offered. Holds a reference. */
	tls_session *resume;
	/* Client: ticket received in NewSessionTicket, installed at the end. */
	uint8_t *new_ticket;
	size_t new_ticket_len;
	uint32_t new_ticket_lifetime;

	/* Every handshake message so far, header included (RFC 5246 §7.4.9
	 * handshake_messages); kept whole because Ed25519 CertificateVerify
	 * signs it unhashed (RFC 8422 §5.10). */
	uint8_t *transcript;
	size_t tlen, tcap;

	/* An incoming handshake message split over records (record.c): its
	 * header as it arrives, then the whole message (header included) in
	 * msg, made once the header gives the length (bounded per type) and
	 * reused for the next. A message whole in one record is parsed where
	 * it lies, never copied. hdr_len > 0: a message is under way. */
	uint8_t hdr[TLS_HS_HEADER];
	uint8_t hdr_len;
	uint8_t *msg;
	size_t msg_len, msg_need, msg_cap;
} tls_hs;

/* Threads (tls.h): during the handshake one thread drives the connection;
 * once established, the read side and the write side run at the same time,
 * and tls_conn_state, tls_conn_readable and tls_conn_records may be called
 * from any thread (readiness asks them without either side's lock). So each
 * field below belongs to one side, which alone writes it after the
 * handshake; a field that some other thread reads is marked (published):
 * its owner stores it with __atomic_store_n(RELEASE) and the others load it
 * with __atomic_load_n(ACQUIRE), so that what they learn from it (that
 * plaintext waits, that the connection is established) comes with the
 * writes made before it. The owner reads its own fields plainly. Fields
 * both sides write are atomics claimed by exchange (err, alert_pending,
 * warn_pending). */
struct tls_conn {
	tls_config *cfg; /* reference held */
	uint8_t role;    /* enum tls_role */

	/* Input (read side): [0, in_start) consumed; [in_start, in_end)
	 * unprocessed ciphertext; the plaintext window [plain_off, plain_off +
	 * plain_len) of the last application_data record lies before
	 * in_start. plain_len is published. Once established, in is NULL
	 * (in_cap 0) while nothing is buffered (record.c in_release);
	 * in_dirty: how far the buffer was ever written, when a compaction
	 * moved in_end back (the part in_release wipes). */
	uint8_t *in;
	size_t in_cap, in_start, in_end, in_dirty;
	size_t plain_off, plain_len;

	/* Output (write side): [out_start, out_end) complete records waiting
	 * to be sent. out_queued (their length) and out_free (room for more,
	 * as TLS_OUT_CAP when the buffer is released) are what others see of
	 * it, published by record.c's out_publish after every change. */
	uint8_t *out;
	size_t out_cap, out_start, out_end;
	size_t out_queued, out_free;

	tls_aead rd, wr; /* read/write protection (each its side's; seq published);
			    rd_on/wr_on once CCS passed */
	bool rd_on, wr_on;

	tls_hs *hs;   /* NULL once the handshake is over */
	bool started; /* a client wrote its ClientHello (lazily, so set_session can
			 come first); published */

	/* After the handshake, handshake messages are only renegotiation
	 * attempts: we read their header and skip their body without buffering. */
	uint8_t post_hdr[TLS_HS_HEADER];
	uint8_t post_hdr_len;
	uint32_t post_skip;

	/* Status, published. established: set once, at the end of the
	 * handshake (after the facts below); peer_closed: read side;
	 * close_queued, close_wanted: write side. */
	bool established;
	bool peer_closed;  /* close_notify received */
	bool close_queued; /* our close_notify is in out (or pending) */
	bool close_wanted; /* tls_conn_close called, not yet emitted */
	/* The first error (tls_fail). The read and the write side may fail at
	 * the same time, so err is claimed by compare-and-swap (the first error
	 * wins) and every access to it is atomic; the winner alone then writes
	 * alert, alert_from_peer and reason and publishes them with err_ready
	 * (release), which tls_conn_error waits for (acquire). */
	_Atomic uint8_t err; /* enum tls_err */
	uint8_t alert;       /* alert sent or received with err */
	bool alert_from_peer;
	uint8_t why;            /* enum tls_reason, written with alert */
	bool err_ready;         /* atomic: alert, alert_from_peer and reason are final */
	bool alert_pending;     /* fatal alert not yet written to out */
	uint8_t warn_pending;   /* a warning alert to emit (no_renegotiation), 0xff = none */
	unsigned empty_records; /* consecutive empty records / warnings (DoS bound) */
	char reason[192];

	/* Facts for tls_conn_info. */
	const tls_suite *suite;
	uint16_t group;
	uint16_t peer_sigscheme;
	bool resumed;
	bool ems, secure_reneg; /* what the peer supported (legacy_peers) */
	/* The agreed ALPN protocol (RFC 7301): 1 + the offset of its entry in
	 * cfg->alpn (always one of ours, in both roles); 0: none. */
	uint16_t alpn_at;
	bool peer_cert, peer_verified;
	char peer_subject[256];
	char server_name[256]; /* client: expected name and SNI; server: SNI received */
	char peer_ip[64];      /* client: expected IP when no name */

	/* Client: session to offer (before) / made or resumed (after).
	 * Server: the session of this connection (for tickets). */
	tls_session *session;

	/* tls_conn_set_trace: one line per handshake step, for debug logs.
	 * trace_hold: a received message's handler is running; its failure is
	 * traced after the message's own line (handshake.c), not by tls_fail. */
	void (*trace)(void *arg, const char *line);
	void *trace_arg;
	bool trace_hold;

	/* max_fragment: the largest fragment tls_emit_record writes (0:
	 * 2^14); tests set 1 so that the peer reassembles byte by byte.
	 * reasm_allocs, reasm_copied: buffers allocated and bytes copied into
	 * them by handshake reassembly (record.c), read by tests that prove it
	 * linear. */
	uint16_t max_fragment;
	unsigned reasm_allocs;
	size_t reasm_copied;
};

/* TLS_PUBLISH(field, v): the owner's store of a published field;
 * TLS_OBSERVE(field): another thread's load of it (see struct tls_conn). */
#define TLS_PUBLISH(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELEASE)
#define TLS_OBSERVE(field)    __atomic_load_n(&(field), __ATOMIC_ACQUIRE)

/* tls_config_auth_id(cfg, out): a digest of what authenticates the peer
 * under ${cfg} (verify mode, CA store identity, pins); a client session
 * carries its config's and resumes only under an equal one (config.c). */
void tls_config_auth_id(const tls_config *cfg, uint8_t out[32]);

/* ---- helpers shared across core/ (conn.c; tls_emit_record: record.c) -- */

/* tls_fail_r(c, err, alert, why, fmt, ...): record the first error (later
 * calls, from either side's thread, keep the first: compare-and-swap): its
 * enum tls_err, its enum tls_reason ${why} (what tls_conn_reason answers;
 * callers act on it, never on the sentence) and the sentence; queue the
 * fatal ${alert} (0 = none to send) and return -1, so handlers write
 * `return tls_fail_r(...)`. tls_fail(c, err, alert, fmt, ...): the same
 * with TLS_R_OTHER. */
int tls_fail_r(tls_conn *c, int err, uint8_t alert, enum tls_reason why, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
#define tls_fail(c, err, alert, ...) tls_fail_r((c), (err), (alert), TLS_R_OTHER, __VA_ARGS__)

/* tls_trace(c, fmt, ...): one trace line when a trace callback is set;
 * callers that compute details first test c->trace themselves.
 * tls_trace_failure(c): the line for the connection's error. */
void tls_trace(tls_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tls_trace_failure(tls_conn *c);

/* tls_now(c): the config clock. */
uint64_t tls_now(const tls_conn *c);

/* tls_emit_record(c, type, p, n): fragment ${n} bytes of content ${type}
 * into records in the output buffer, protected when wr_on. Grows the
 * buffer while handshaking. Returns 0 or -1 (internal error). */
int tls_emit_record(tls_conn *c, uint8_t type, const uint8_t *p, size_t n);

/* TRY(expr): propagate a negative result. ENSURE(cond, c, alert, ...): fail
 * with TLS_ERR_PROTOCOL when cond does not hold. */
#define TRY(expr)                  \
	do {                       \
		if ((expr) < 0)    \
			return -1; \
	} while (0)
#define ENSURE(cond, c, alert, ...)                                                   \
	do {                                                                          \
		if (!(cond))                                                          \
			return tls_fail((c), TLS_ERR_PROTOCOL, (alert), __VA_ARGS__); \
	} while (0)

#endif
