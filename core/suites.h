/*
 * suites.h: the tables that give cipher suite, group and signature scheme
 * numbers their meaning, and the parsers for the OpenSSL-style lists a
 * policy uses ("ECDHE-ECDSA-AES128-GCM-SHA256:...", "x25519:secp256r1").
 */
#ifndef TLSHIM_CORE_SUITES_H
#define TLSHIM_CORE_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_kx_kind { TLS_KX_ECDHE, TLS_KX_RSA };
/* Certificate key a suite needs: ECDHE_ECDSA suites take ECDSA or Ed25519
 * keys (RFC 8422 §5.5), ECDHE_RSA and RSA key transport take RSA keys. */
enum tls_auth_kind { TLS_AUTH_ECDSA, TLS_AUTH_RSA };
enum tls_aead_kind { TLS_AEAD_AES128GCM, TLS_AEAD_AES256GCM, TLS_AEAD_CHACHA20 };
/* SHA-512 only signs (signature schemes); no suite uses it for its PRF. */
enum tls_hash_kind { TLS_HASH_SHA256, TLS_HASH_SHA384, TLS_HASH_SHA512 };

/* Key types of certificates and private keys we accept. */
enum tls_key_type {
	TLS_KEY_NONE = 0,
	TLS_KEY_RSA, /* >= 2048 bits */
	TLS_KEY_EC_P256,
	TLS_KEY_EC_P384,
	TLS_KEY_ED25519,
};

typedef struct tls_suite {
	uint16_t id;
	const char *name; /* OpenSSL name, e.g. "ECDHE-RSA-AES128-GCM-SHA256" */
	uint8_t kx;       /* enum tls_kx_kind */
	uint8_t auth;     /* enum tls_auth_kind */
	uint8_t aead;     /* enum tls_aead_kind */
	uint8_t hash;     /* enum tls_hash_kind: PRF and Finished hash */
	bool by_default;  /* offered/accepted without being named in `ciphers` */
} tls_suite;

/* A TLS 1.3 cipher suite (RFC 8446 §B.4): only the AEAD and the HKDF hash;
 * key exchange and authentication are negotiated apart. Named in policies
 * today, spoken once the engine has TLS 1.3 (tls_version_supported). */
typedef struct tls13_suite {
	uint16_t id;
	const char *name; /* OpenSSL/IANA name, e.g. "TLS_AES_128_GCM_SHA256" */
	uint8_t aead;     /* enum tls_aead_kind */
	uint8_t hash;     /* enum tls_hash_kind */
} tls13_suite;

typedef struct tls_group {
	uint16_t id;
	const char *name; /* "x25519", "secp256r1", "secp384r1" */
} tls_group;

typedef struct tls_sigscheme {
	uint16_t id;
	const char *name; /* e.g. "ecdsa_secp256r1_sha256" */
	uint8_t key;      /* enum tls_key_type; EC schemes list an EC type (the
			     curve they are named after, P-384 for secp521r1,
			     whose keys we do not take): in TLS 1.2 any EC key
			     signs with any ECDSA scheme (sig.c) */
	uint8_t hash;     /* enum tls_hash_kind; ignored for Ed25519 */
	bool pss;         /* RSASSA-PSS with MGF1 and salt = hash length */
} tls_sigscheme;

/* tls_suite_by_id(id) / tls_suite_by_name(name): table entry or NULL. */
const tls_suite *tls_suite_by_id(uint16_t id);
const tls_suite *tls_suite_by_name(const char *name);

/* tls13_suite_by_id(id) / tls13_suite_by_name(name): TLS 1.3 table entry
 * or NULL. tls13_suites_default(out, max): their ids in our default
 * preference order; returns the count. */
const tls13_suite *tls13_suite_by_id(uint16_t id);
const tls13_suite *tls13_suite_by_name(const char *name);
size_t tls13_suites_default(uint16_t *out, size_t max);

/* tls_version_supported(v): whether this engine can negotiate protocol
 * version ${v} (TLS 1.2 only, in this build). tls_version_name: tls.h. */
bool tls_version_supported(uint16_t v);

/* tls_group_by_id(id) / tls_group_by_name(name): table entry or NULL. */
const tls_group *tls_group_by_id(uint16_t id);
const tls_group *tls_group_by_name(const char *name);

/* tls_sigscheme_by_id(id): table entry or NULL. */
const tls_sigscheme *tls_sigscheme_by_id(uint16_t id);

/* tls_sigschemes_all(n): every scheme we implement in our preference order
 * (what we send in signature_algorithms); *${n} is set to the count. */
const uint16_t *tls_sigschemes_all(size_t *n);

/* tls_key_type_name(type): "RSA", "EC P-256", "EC P-384" or "Ed25519" for
 * an enum tls_key_type, "unsupported" for anything else (TLS_KEY_NONE). */
const char *tls_key_type_name(int type);

/* tls_suite_serves_key(s, key_type): a certificate key of ${key_type} can
 * authenticate suite ${s} (RFC 8422 §5.5, RFC 5246 §7.4.2): ECDHE_ECDSA
 * suites take an EC or Ed25519 key, ECDHE_RSA and RSA key transport an RSA
 * key; TLS_KEY_NONE serves none. */
bool tls_suite_serves_key(const tls_suite *s, int key_type);

/* tls_ids_contain(ids, n, id): one of the ${n} suite, group or signature
 * scheme numbers at ${ids} is ${id}. */
bool tls_ids_contain(const uint16_t *ids, size_t n, uint16_t id);

/* tls_aead_key_len(aead), tls_aead_fixed_iv_len(aead): key bytes and
 * implicit IV bytes of the key block (RFC 5288 §3: 4; RFC 7905 §2: 12). */
size_t tls_aead_key_len(int aead);
size_t tls_aead_fixed_iv_len(int aead);

/* tls_hash_len(hash): 32, 48 or 64; 0 for an unknown ${hash}. */
size_t tls_hash_len(int hash);

/* tls_suites_default(out, max): write the default suite ids in preference
 * order to ${out}; returns the count. */
size_t tls_suites_default(uint16_t *out, size_t max);

/* tls_suites_parse(list, out, max, n, err, errlen): parse a colon- (or
 * comma-/space-) separated list of OpenSSL suite names, TLS 1.2 and TLS 1.3
 * ones mixed (tls13_suite_by_id tells them apart), into ids in the given
 * order. Unknown or duplicate names are errors: returns -1 and writes a
 * sentence naming the bad token to ${err}. */
int tls_suites_parse(const char *list, uint16_t *out, size_t max, size_t *n, char *err,
		     size_t errlen);

/* tls_groups_default / tls_groups_parse: as above for named groups
 * ("x25519:secp256r1:secp384r1"; "X25519", "P-256", "prime256v1", "P-384"
 * are accepted as aliases). */
size_t tls_groups_default(uint16_t *out, size_t max);
int tls_groups_parse(const char *list, uint16_t *out, size_t max, size_t *n, char *err,
		     size_t errlen);

#endif
