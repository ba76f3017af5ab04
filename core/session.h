/*
 * session.h: resumable sessions and the session tickets that carry them
 * (RFC 5077). A ticket is sealed with AES-256-GCM under a server key that
 * rotates; it binds the suite, extended master secret use, the server name
 * and the peer's identity, so a resumed connection can never be stronger
 * (or different) than the one that made the ticket.
 */
#ifndef TLSHIM_CORE_SESSION_H
#define TLSHIM_CORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tls_session {
	int refs; /* atomic; see tls_session_ref */
	uint16_t suite;
	bool ems;               /* always true for sessions we make */
	uint8_t *master;        /* 48 bytes in a secret_pool.h slot */
	char server_name[256];  /* SNI of the original handshake ("" if none) */
	bool has_peer;          /* the peer presented a certificate that was verified */
	uint8_t peer_spki[32];  /* SHA-256 of the peer leaf SPKI (when it sent one) */
	char peer_subject[256]; /* for logs of resumed connections */
	uint64_t created;       /* seconds, from the config clock */
	uint32_t lifetime;      /* seconds; client: the server's hint (0: none given) */
	uint64_t not_after;     /* the peer leaf's notAfter (seconds; 0: no certificate):
				   no session outlives the certificate it was made with */
	/* Client side only (never in a ticket): */
	uint8_t config_id[32]; /* tls_config_auth_id of the config that made it */
	char peer_ip[64];      /* the address checked when there was no server name */
	uint8_t *ticket;       /* the opaque ticket (malloc) */
	size_t ticket_len;
} tls_session;

/* Longest a client keeps a session: RFC 5077 §3.3 leaves a hint of 0
 * "unspecified" (then OpenSSL's default of two hours applies), and no hint
 * is taken beyond RFC 8446 §4.6.1's seven days. */
#define TLS_SESSION_DEFAULT_LIFETIME 7200u
#define TLS_SESSION_MAX_LIFETIME     (7u * 24 * 3600)

/* tls_session_resumable(s, config_id, server_name, peer_ip, now): client:
 * whether ${s} may be offered on a connection of the config whose
 * tls_config_auth_id is ${config_id} to ${server_name} (or, without one,
 * ${peer_ip}) at ${now}: it has a ticket and EMS, was made by a config with
 * the same CA, pins and verify mode, for the same name or address, is
 * younger than the server's lifetime hint (RFC 5077 §3.3; the defaults
 * above) and its peer certificate has not expired. */
bool tls_session_resumable(const tls_session *s, const uint8_t config_id[32],
			   const char *server_name, const char *peer_ip, uint64_t now);

/* tls_session_new(): zeroed session with refs = 1 and master allocated;
 * NULL on allocation failure. */
tls_session *tls_session_new(void);
/* tls_session_ref(s): add a reference (atomic); returns ${s}. */
tls_session *tls_session_ref(tls_session *s);
/* tls_session_unref(s): drop a reference; the last one wipes and frees.
 * NULL is a no-op. */
void tls_session_unref(tls_session *s);

/* Server key ring: the current key seals, current and previous open.
 * Rotation happens in seal/open when ${now} passes the period. Thread-safe. */
typedef struct tls_ticket_keys tls_ticket_keys;

#define TLS_TICKET_MAX 512

/* tls_ticket_keys_new(period): ring rotating every ${period} seconds (a
 * ticket is thus accepted for between period and 2*period). NULL on failure. */
tls_ticket_keys *tls_ticket_keys_new(uint32_t period, uint64_t now);
/* tls_ticket_keys_ref(k): one more owner of the ring (configs that share
 * it); returns ${k}. tls_ticket_keys_free(k) drops one owner; the last one
 * wipes and frees the keys. NULL is a no-op. */
tls_ticket_keys *tls_ticket_keys_ref(tls_ticket_keys *k);
void tls_ticket_keys_free(tls_ticket_keys *k);
/* tls_ticket_keys_period(k): the rotation period (the lifetime hint we send). */
uint32_t tls_ticket_keys_period(const tls_ticket_keys *k);

/* tls_ticket_seal(k, now, s, out, cap, len): encode ${s} (not its ticket
 * field) and seal it: key name (16) || nonce (12) || ciphertext || tag (16).
 * Returns 0 or -1. */
int tls_ticket_seal(tls_ticket_keys *k, uint64_t now, const tls_session *s, uint8_t *out,
		    size_t cap, size_t *len);

/* tls_ticket_open(k, now, in, len): the session in a ticket we sealed with a
 * key still in the ring, whose lifetime has not passed and whose peer
 * certificate (if any) has not expired; NULL for
 * anything else (unknown key, tampered, expired, malformed), which means a
 * full handshake, never an error. */
tls_session *tls_ticket_open(tls_ticket_keys *k, uint64_t now, const uint8_t *in, size_t len);

#endif
