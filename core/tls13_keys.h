/*
 * tls13_keys.h: the TLS 1.3 key schedule (RFC 8446 §7.1), traffic keys
 * (§7.3), Finished and PSK binder values (§4.4.4, §4.2.11.2), the
 * per-ticket PSK (§4.6.1) and the application traffic secret update for
 * KeyUpdate (§7.2), through OpenSSL's HKDF and HMAC.
 *
 * Every function writes its secret into a buffer the caller owns and must
 * wipe; ${hash} is enum tls_hash_kind (SHA-256 or SHA-384 only), and a
 * secret or transcript hash is always Hash.length bytes (tls_hash_len).
 * On failure an output buffer is wiped, never left half-written, and the
 * function returns -1; anything the library copied is freed with its
 * context, which clears it.
 *
 *                 0
 *                 |
 *   PSK (or 0) -> HKDF-Extract = Early Secret        tls13_early_secret
 *                 +-> Derive-Secret(., "ext binder" | "res binder", "")
 *                 +-> Derive-Secret(., "c e traffic", ClientHello)
 *                 +-> Derive-Secret(., "e exp master", ClientHello)
 *                 v
 *       Derive-Secret(., "derived", "")
 *   (EC)DHE -> HKDF-Extract = Handshake Secret       tls13_handshake_secret
 *                 +-> Derive-Secret(., "c hs traffic" | "s hs traffic",
 *                 |                  ClientHello...ServerHello)
 *                 v
 *       Derive-Secret(., "derived", "")
 *        0 -> HKDF-Extract = Master Secret           tls13_master_secret
 *                 +-> "c ap traffic" | "s ap traffic" | "exp master"
 *                 |   over ClientHello...server Finished
 *                 +-> "res master" over ClientHello...client Finished
 *
 * The Derive-Secret steps are tls13_derive_secret with a tls13_label.
 */
#ifndef TLSHIM_CORE_TLS13_KEYS_H
#define TLSHIM_CORE_TLS13_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8446 §5.3: every TLS 1.3 AEAD takes a 12-byte per-record nonce, so
 * the IV derived in §7.3 is 12 bytes for every suite. */
#define TLS13_IV_LEN 12
/* Longest HkdfLabel: uint16 length, label<7..255>, context<0..255>. */
#define TLS13_HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)

/* The Derive-Secret labels of RFC 8446 §7.1 (without the "tls13 " prefix,
 * which HKDF-Expand-Label adds). */
enum tls13_label {
	TLS13_LABEL_EXT_BINDER,   /* "ext binder": binder_key, external PSK */
	TLS13_LABEL_RES_BINDER,   /* "res binder": binder_key, resumption PSK */
	TLS13_LABEL_C_E_TRAFFIC,  /* "c e traffic": client_early_traffic_secret */
	TLS13_LABEL_E_EXP_MASTER, /* "e exp master": early_exporter_master_secret */
	TLS13_LABEL_DERIVED,      /* "derived": salt of the next HKDF-Extract */
	TLS13_LABEL_C_HS_TRAFFIC, /* "c hs traffic": client_handshake_traffic_secret */
	TLS13_LABEL_S_HS_TRAFFIC, /* "s hs traffic": server_handshake_traffic_secret */
	TLS13_LABEL_C_AP_TRAFFIC, /* "c ap traffic": client_application_traffic_secret_0 */
	TLS13_LABEL_S_AP_TRAFFIC, /* "s ap traffic": server_application_traffic_secret_0 */
	TLS13_LABEL_EXP_MASTER,   /* "exp master": exporter_master_secret */
	TLS13_LABEL_RES_MASTER,   /* "res master": resumption_master_secret */
	TLS13_LABEL_COUNT
};

/* tls13_hkdf_label(label, ctx, ctxlen, outlen, buf, cap): encode the
 * HkdfLabel of RFC 8446 §7.1 — uint16 length = ${outlen}, opaque
 * label<7..255> = "tls13 " + ${label}, opaque context<0..255> = ${ctx} —
 * into ${buf} (${cap} bytes; TLS13_HKDF_LABEL_MAX always suffices).
 * Returns the encoded length, or 0 when ${label} is empty or longer than
 * 249 bytes, ${ctxlen} exceeds 255, ${outlen} exceeds 65535 or the
 * encoding does not fit. ${ctx} may be NULL when ${ctxlen} is 0. */
size_t tls13_hkdf_label(const char *label, const uint8_t *ctx, size_t ctxlen, size_t outlen,
			uint8_t *buf, size_t cap);

/* tls13_hkdf_extract(hash, salt, ikm, ikmlen, out): HKDF-Extract(salt,
 * IKM) (RFC 5869 §2.2) into ${out} (Hash.length bytes). ${salt} is
 * Hash.length bytes, or NULL for the all-zero salt; ${ikm} NULL means
 * Hash.length zero bytes (the "0" inputs of RFC 8446 §7.1). Returns 0 or
 * -1. */
int tls13_hkdf_extract(int hash, const uint8_t *salt, const uint8_t *ikm, size_t ikmlen,
		       uint8_t *out);

/* tls13_hkdf_expand_label(hash, secret, label, ctx, ctxlen, out, outlen):
 * HKDF-Expand-Label(Secret, Label, Context, Length) of RFC 8446 §7.1:
 * HKDF-Expand(${secret}, HkdfLabel, ${outlen}) into ${out}. ${secret} is
 * Hash.length bytes. Returns 0, or -1 when the label is out of bounds
 * (tls13_hkdf_label), ${outlen} is 0 or above 255 * Hash.length
 * (RFC 5869 §2.3), or the library fails. */
int tls13_hkdf_expand_label(int hash, const uint8_t *secret, const char *label, const uint8_t *ctx,
			    size_t ctxlen, uint8_t *out, size_t outlen);

/* tls13_derive_secret(hash, secret, label, thash, out): Derive-Secret of
 * RFC 8446 §7.1 = HKDF-Expand-Label(${secret}, ${label} (enum
 * tls13_label), Transcript-Hash(Messages), Hash.length) into ${out}.
 * ${thash} is the transcript hash (tls13_transcript_hash), or NULL for
 * the hash of no messages, Hash("") (the binder keys and "derived").
 * Returns 0 or -1. */
int tls13_derive_secret(int hash, const uint8_t *secret, int label, const uint8_t *thash,
			uint8_t *out);

/* tls13_early_secret(hash, psk, psklen, out): RFC 8446 §7.1 Early Secret
 * = HKDF-Extract(0, PSK); ${psk} NULL when no PSK is used (then
 * Hash.length zeros). Returns 0 or -1. */
int tls13_early_secret(int hash, const uint8_t *psk, size_t psklen, uint8_t *out);

/* tls13_handshake_secret(hash, early, dhe, dhelen, out): RFC 8446 §7.1
 * Handshake Secret = HKDF-Extract(Derive-Secret(${early}, "derived", ""),
 * (EC)DHE shared secret ${dhe}). Returns 0 or -1. */
int tls13_handshake_secret(int hash, const uint8_t *early, const uint8_t *dhe, size_t dhelen,
			   uint8_t *out);

/* tls13_master_secret(hash, hs, out): RFC 8446 §7.1 Master Secret =
 * HKDF-Extract(Derive-Secret(${hs}, "derived", ""), 0). Returns 0 or -1. */
int tls13_master_secret(int hash, const uint8_t *hs, uint8_t *out);

/* tls13_traffic_keys(hash, aead, secret, key, iv): RFC 8446 §7.3
 * write_key = HKDF-Expand-Label(${secret}, "key", "", key_length) and
 * write_iv = HKDF-Expand-Label(${secret}, "iv", "", 12) for the AEAD
 * ${aead} (enum tls_aead_kind; ${key} has tls_aead_key_len(aead) bytes of
 * room, ${iv} TLS13_IV_LEN). Returns 0 or -1 (both outputs wiped). */
int tls13_traffic_keys(int hash, int aead, const uint8_t *secret, uint8_t *key, uint8_t *iv);

/* tls13_finished_key(hash, base_key, out): RFC 8446 §4.4.4 finished_key =
 * HKDF-Expand-Label(BaseKey, "finished", "", Hash.length). ${base_key} is
 * the sender's handshake traffic secret, or a binder_key for a PSK binder
 * (§4.2.11.2). Returns 0 or -1. */
int tls13_finished_key(int hash, const uint8_t *base_key, uint8_t *out);

/* tls13_finished(hash, base_key, thash, out): RFC 8446 §4.4.4
 * verify_data = HMAC(finished_key(${base_key}), ${thash}) into ${out}
 * (Hash.length bytes), where ${thash} is Transcript-Hash(Handshake
 * Context, Certificate*, CertificateVerify*). With a binder_key as
 * ${base_key} and the hash of the truncated ClientHello (§4.2.11.2) it is
 * the PSK binder. Returns 0 or -1. Compare a received value with
 * sodium_memcmp, never memcmp. */
int tls13_finished(int hash, const uint8_t *base_key, const uint8_t *thash, uint8_t *out);

/* tls13_resumption_psk(hash, rms, nonce, noncelen, out): RFC 8446 §4.6.1
 * the PSK of one ticket = HKDF-Expand-Label(resumption_master_secret
 * ${rms}, "resumption", ticket_nonce, Hash.length). ${noncelen} is at most
 * 255 (ticket_nonce<0..255>). Returns 0 or -1. */
int tls13_resumption_psk(int hash, const uint8_t *rms, const uint8_t *nonce, size_t noncelen,
			 uint8_t *out);

/* tls13_next_traffic_secret(hash, secret, out): RFC 8446 §7.2
 * application_traffic_secret_N+1 = HKDF-Expand-Label(
 * application_traffic_secret_N, "traffic upd", "", Hash.length), the new
 * secret after a KeyUpdate. ${out} may equal ${secret} (updated in
 * place). Returns 0 or -1. */
int tls13_next_traffic_secret(int hash, const uint8_t *secret, uint8_t *out);

#endif
