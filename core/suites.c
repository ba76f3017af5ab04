/*
 * suites.c: what each cipher suite, named group and signature scheme number
 * means to us, and the parsers for policy lists of their names.
 */
#include "suites.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "consts.h"
#include "tls.h"

/* Default preference: forward-secret suites only, AES-128-GCM first (the
 * fastest with AES-NI), ECDSA before RSA for each AEAD. RSA key transport
 * has no forward secrecy, so it is offered only when a policy names it. */
static const tls_suite suites[] = {
	{TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", TLS_KX_ECDHE,
	 TLS_AUTH_ECDSA, TLS_AEAD_AES128GCM, TLS_HASH_SHA256, true},
	{TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", TLS_KX_ECDHE,
	 TLS_AUTH_RSA, TLS_AEAD_AES128GCM, TLS_HASH_SHA256, true},
	{TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", TLS_KX_ECDHE,
	 TLS_AUTH_ECDSA, TLS_AEAD_AES256GCM, TLS_HASH_SHA384, true},
	{TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", TLS_KX_ECDHE,
	 TLS_AUTH_RSA, TLS_AEAD_AES256GCM, TLS_HASH_SHA384, true},
	/* RFC 7905 §2: the ChaCha20-Poly1305 suites use the SHA-256 PRF. */
	{TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305",
	 TLS_KX_ECDHE, TLS_AUTH_ECDSA, TLS_AEAD_CHACHA20, TLS_HASH_SHA256, true},
	{TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", TLS_KX_ECDHE,
	 TLS_AUTH_RSA, TLS_AEAD_CHACHA20, TLS_HASH_SHA256, true},
	/* RFC 5288 §3 */
	{TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", TLS_KX_RSA, TLS_AUTH_RSA,
	 TLS_AEAD_AES128GCM, TLS_HASH_SHA256, false},
	{TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", TLS_KX_RSA, TLS_AUTH_RSA,
	 TLS_AEAD_AES256GCM, TLS_HASH_SHA384, false},
};

/* RFC 8446 §B.4, in OpenSSL's default order (AES-256 first there; the
 * engine has no TLS 1.3 yet, so nothing depends on this order today). */
static const tls13_suite suites13[] = {
	{TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", TLS_AEAD_AES256GCM, TLS_HASH_SHA384},
	{TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", TLS_AEAD_CHACHA20,
	 TLS_HASH_SHA256},
	{TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", TLS_AEAD_AES128GCM, TLS_HASH_SHA256},
};

/* Default preference: x25519 first (fastest, no point validation pitfalls). */
static const tls_group groups[] = {
	{TLS_GROUP_X25519, "x25519"},
	{TLS_GROUP_SECP256R1, "secp256r1"},
	{TLS_GROUP_SECP384R1, "secp384r1"},
};

/* Other spellings of the group names that OpenSSL and curl users write. */
static const struct {
	const char *alias;
	uint16_t id;
} group_aliases[] = {
	{"P-256", TLS_GROUP_SECP256R1},
	{"prime256v1", TLS_GROUP_SECP256R1},
	{"P-384", TLS_GROUP_SECP384R1},
};

/* In our preference order: Ed25519 and ECDSA before RSA, PSS before
 * PKCS#1 v1.5 (RFC 8446 §4.2.3 ranks them the same way), shorter hashes
 * first within each. Every hash libcrypto gives us that is SHA-256 or
 * stronger (INTERFACE.md): a TLS 1.2 peer may offer any hash with a key
 * (RFC 5246 §7.4.1.4.1, RFC 8422 §5.1.1), e.g. only SHA-512 with ECDSA.
 * SHA-224, SHA-1 and MD5 are not here, so never made nor accepted. */
static const tls_sigscheme sigschemes[] = {
	{TLS_SIG_ED25519, "ed25519", TLS_KEY_ED25519, TLS_HASH_SHA256, false},
	{TLS_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256", TLS_KEY_EC_P256, TLS_HASH_SHA256,
	 false},
	{TLS_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384", TLS_KEY_EC_P384, TLS_HASH_SHA384,
	 false},
	{TLS_SIG_ECDSA_SECP521R1_SHA512, "ecdsa_secp521r1_sha512", TLS_KEY_EC_P384, TLS_HASH_SHA512,
	 false},
	{TLS_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256", TLS_KEY_RSA, TLS_HASH_SHA256, true},
	{TLS_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384", TLS_KEY_RSA, TLS_HASH_SHA384, true},
	{TLS_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512", TLS_KEY_RSA, TLS_HASH_SHA512, true},
	{TLS_SIG_RSA_PKCS1_SHA256, "rsa_pkcs1_sha256", TLS_KEY_RSA, TLS_HASH_SHA256, false},
	{TLS_SIG_RSA_PKCS1_SHA384, "rsa_pkcs1_sha384", TLS_KEY_RSA, TLS_HASH_SHA384, false},
	{TLS_SIG_RSA_PKCS1_SHA512, "rsa_pkcs1_sha512", TLS_KEY_RSA, TLS_HASH_SHA512, false},
};

static const uint16_t sigscheme_ids[] = {
	TLS_SIG_ED25519,
	TLS_SIG_ECDSA_SECP256R1_SHA256,
	TLS_SIG_ECDSA_SECP384R1_SHA384,
	TLS_SIG_ECDSA_SECP521R1_SHA512,
	TLS_SIG_RSA_PSS_RSAE_SHA256,
	TLS_SIG_RSA_PSS_RSAE_SHA384,
	TLS_SIG_RSA_PSS_RSAE_SHA512,
	TLS_SIG_RSA_PKCS1_SHA256,
	TLS_SIG_RSA_PKCS1_SHA384,
	TLS_SIG_RSA_PKCS1_SHA512,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const tls_suite *tls_suite_by_id(uint16_t id)
{
	for (size_t i = 0; i < NELEM(suites); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

const tls_suite *tls_suite_by_name(const char *name)
{
	for (size_t i = 0; i < NELEM(suites); i++)
		if (strcasecmp(suites[i].name, name) == 0)
			return &suites[i];
	return NULL;
}

const tls13_suite *tls13_suite_by_id(uint16_t id)
{
	for (size_t i = 0; i < NELEM(suites13); i++)
		if (suites13[i].id == id)
			return &suites13[i];
	return NULL;
}

const tls13_suite *tls13_suite_by_name(const char *name)
{
	for (size_t i = 0; i < NELEM(suites13); i++)
		if (strcasecmp(suites13[i].name, name) == 0)
			return &suites13[i];
	return NULL;
}

size_t tls13_suites_default(uint16_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NELEM(suites13) && n < max; i++)
		out[n++] = suites13[i].id;
	return n;
}

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300:
		return "SSLv3";
	case TLS_VERSION_1_0:
		return "TLSv1";
	case TLS_VERSION_1_0 + 1:
		return "TLSv1.1";
	case TLS_VERSION_1_2:
		return "TLSv1.2";
	case TLS_VERSION_1_3:
		return "TLSv1.3";
	default:
		return "unknown";
	}
}

bool tls_version_supported(uint16_t v)
{
	/* The one place that says what this build speaks: TLS 1.3 joins
	 * here when its handshake lands (issue 12). */
	return v == TLS_VERSION_1_2;
}

const tls_group *tls_group_by_id(uint16_t id)
{
	for (size_t i = 0; i < NELEM(groups); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

const tls_group *tls_group_by_name(const char *name)
{
	for (size_t i = 0; i < NELEM(groups); i++)
		if (strcasecmp(groups[i].name, name) == 0)
			return &groups[i];
	for (size_t i = 0; i < NELEM(group_aliases); i++)
		if (strcasecmp(group_aliases[i].alias, name) == 0)
			return tls_group_by_id(group_aliases[i].id);
	return NULL;
}

const tls_sigscheme *tls_sigscheme_by_id(uint16_t id)
{
	for (size_t i = 0; i < NELEM(sigschemes); i++)
		if (sigschemes[i].id == id)
			return &sigschemes[i];
	return NULL;
}

const uint16_t *tls_sigschemes_all(size_t *n)
{
	*n = NELEM(sigscheme_ids);
	return sigscheme_ids;
}

const char *tls_key_type_name(int type)
{
	switch (type) {
	case TLS_KEY_RSA:
		return "RSA";
	case TLS_KEY_EC_P256:
		return "EC P-256";
	case TLS_KEY_EC_P384:
		return "EC P-384";
	case TLS_KEY_ED25519:
		return "Ed25519";
	default:
		return "unsupported";
	}
}

bool tls_suite_serves_key(const tls_suite *s, int key_type)
{
	if (s->auth == TLS_AUTH_RSA)
		return key_type == TLS_KEY_RSA;
	return key_type == TLS_KEY_EC_P256 || key_type == TLS_KEY_EC_P384 ||
	       key_type == TLS_KEY_ED25519;
}

bool tls_ids_contain(const uint16_t *ids, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

size_t tls_aead_key_len(int aead)
{
	switch (aead) {
	case TLS_AEAD_AES128GCM:
		return 16;
	case TLS_AEAD_AES256GCM:
	case TLS_AEAD_CHACHA20:
		return 32;
	}
	return 0;
}

size_t tls_aead_fixed_iv_len(int aead)
{
	switch (aead) {
	case TLS_AEAD_AES128GCM:
	case TLS_AEAD_AES256GCM:
		return 4; /* RFC 5288 §3: salt; the other 8 bytes travel in the record */
	case TLS_AEAD_CHACHA20:
		return 12; /* RFC 7905 §2: the whole nonce comes from the key block */
	}
	return 0;
}

size_t tls_hash_len(int hash)
{
	switch (hash) {
	case TLS_HASH_SHA256:
		return 32;
	case TLS_HASH_SHA384:
		return 48;
	case TLS_HASH_SHA512:
		return 64;
	}
	return 0;
}

size_t tls_suites_default(uint16_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NELEM(suites) && n < max; i++)
		if (suites[i].by_default)
			out[n++] = suites[i].id;
	return n;
}

size_t tls_groups_default(uint16_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NELEM(groups) && n < max; i++)
		out[n++] = groups[i].id;
	return n;
}

/* What a list parser needs to know about its kind of name. */
struct list_kind {
	const char *what;   /* "cipher suite" */
	const char *plural; /* "cipher suites" */
	/* lookup(name): the id, or -1 for an unknown name */
	int (*lookup)(const char *name);
	/* supported(buf, len): write the supported names, ':'-separated */
	void (*supported)(char *buf, size_t len);
};

static int suite_lookup(const char *name)
{
	const tls_suite *s = tls_suite_by_name(name);
	const tls13_suite *s13 = s == NULL ? tls13_suite_by_name(name) : NULL;
	return s != NULL ? s->id : s13 != NULL ? s13->id : -1;
}

static int group_lookup(const char *name)
{
	const tls_group *g = tls_group_by_name(name);
	return g != NULL ? g->id : -1;
}

/* join(buf, len, names, count): names[0]:names[1]:... truncated to fit. */
static void join(char *buf, size_t len, const char *const *names, size_t count)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count && used < len; i++) {
		int r = snprintf(buf + used, len - used, "%s%s", i ? ":" : "", names[i]);
		if (r < 0)
			break;
		used += (size_t)r;
	}
}

static void suite_supported(char *buf, size_t len)
{
	const char *names[NELEM(suites) + NELEM(suites13)];

	for (size_t i = 0; i < NELEM(suites); i++)
		names[i] = suites[i].name;
	for (size_t i = 0; i < NELEM(suites13); i++)
		names[NELEM(suites) + i] = suites13[i].name;
	join(buf, len, names, NELEM(names));
}

static void group_supported(char *buf, size_t len)
{
	const char *names[NELEM(groups)];

	for (size_t i = 0; i < NELEM(groups); i++)
		names[i] = groups[i].name;
	join(buf, len, names, NELEM(groups));
}

static const struct list_kind suite_kind = {"cipher suite", "cipher suites", suite_lookup,
					    suite_supported};
static const struct list_kind group_kind = {"group", "groups", group_lookup, group_supported};

/* Longest token we look up; every real name is far shorter, and a longer
 * token is reported (truncated) as unknown. */
#define MAX_TOKEN 64

/* set_err(err, errlen, fmt, ...): format the message into ${err} (when
 * there is room for one); returns -1 for the caller to pass on. */
__attribute__((format(printf, 3, 4))) static int set_err(char *err, size_t errlen, const char *fmt,
							 ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int parse_list(const struct list_kind *k, const char *list, uint16_t *out, size_t max,
		      size_t *n, char *err, size_t errlen)
{
	static const char seps[] = ":, ";
	size_t count = 0;

	*n = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (list == NULL)
		return set_err(err, errlen, "empty %s list", k->what);

	for (const char *p = list; *p != '\0';) {
		size_t skip = strspn(p, seps);
		p += skip;
		if (*p == '\0')
			break;
		size_t tlen = strcspn(p, seps);
		const char *tok = p;
		p += tlen;

		char name[MAX_TOKEN + 1];
		int id = -1;
		if (tlen <= MAX_TOKEN) {
			memcpy(name, tok, tlen);
			name[tlen] = '\0';
			id = k->lookup(name);
		}
		if (id < 0) {
			char sup[512];
			k->supported(sup, sizeof(sup));
			return set_err(err, errlen, "unknown %s '%.*s' (supported: %s)", k->what,
				       (int)(tlen > MAX_TOKEN ? MAX_TOKEN : tlen), tok, sup);
		}
		for (size_t i = 0; i < count; i++)
			if (out[i] == (uint16_t)id)
				return set_err(err, errlen, "duplicate %s '%.*s'", k->what,
					       (int)tlen, tok);
		if (count >= max)
			return set_err(err, errlen, "too many %s (at most %zu)", k->plural, max);
		out[count++] = (uint16_t)id;
	}
	if (count == 0)
		return set_err(err, errlen, "empty %s list", k->what);
	*n = count;
	return 0;
}

int tls_suites_parse(const char *list, uint16_t *out, size_t max, size_t *n, char *err,
		     size_t errlen)
{
	return parse_list(&suite_kind, list, out, max, n, err, errlen);
}

int tls_groups_parse(const char *list, uint16_t *out, size_t max, size_t *n, char *err,
		     size_t errlen)
{
	return parse_list(&group_kind, list, out, max, n, err, errlen);
}
