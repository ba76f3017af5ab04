/*
 * config.c: tls_config, the policy of one rule shared by its connections.
 * Setters parse into temporaries and only replace the old value on
 * success, so a failed setter leaves the config as it was.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "internal.h"
#include "rand.h"

#define TICKET_PERIOD 3600 /* seconds a ticket key seals before it rotates */

/* system_clock(arg): the default clock; core reads time() only here, the
 * shim passes its own. */
static uint64_t system_clock(void *arg)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

/* fail(err, errlen, fmt, ...): write the reason when the caller wants it
 * and return -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

tls_config *tls_config_new(enum tls_role role)
{
	tls_config *cfg;

	if (role != TLS_ROLE_CLIENT && role != TLS_ROLE_SERVER)
		return NULL;
	/* libsodium's secure allocator needs its page size from sodium_init. */
	if (!tls_sodium_ready())
		return NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->refs = 1;
	cfg->role = (uint8_t)role;
	/* INTERFACE.md: clients authenticate the server unless told not to;
	 * servers ask for client certificates only when configured. */
	cfg->verify = role == TLS_ROLE_CLIENT ? TLS_VERIFY_REQUIRE : TLS_VERIFY_NONE;
	cfg->nsuites = tls_suites_default(cfg->suites, TLS_MAX_SUITES);
	cfg->nsuites13 = tls13_suites_default(cfg->suites13, TLS_MAX_SUITES);
	cfg->min_version = TLS_VERSION_1_2;
	cfg->max_version = TLS_VERSION_1_3;
	cfg->ngroups = tls_groups_default(cfg->groups, TLS_MAX_GROUPS);
	cfg->tickets = true;
	cfg->now = system_clock;
	if (role == TLS_ROLE_SERVER &&
	    (cfg->ticket_keys = tls_ticket_keys_new(TICKET_PERIOD, system_clock(NULL))) == NULL) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

tls_config *tls_config_ref(tls_config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

void tls_config_unref(tls_config *cfg)
{
	if (cfg == NULL)
		return;
	if (__atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (cfg->has_chain)
		tls_chain_free(&cfg->chain);
	if (cfg->has_key)
		tls_privkey_free(&cfg->key);
	X509_STORE_free(cfg->store);
	tls_ticket_keys_free(cfg->ticket_keys);
	free(cfg->alpn);
	free(cfg->alpn_text);
	sodium_memzero(cfg, sizeof(*cfg));
	free(cfg);
}

int tls_config_set_chain_pem(tls_config *cfg, const char *pem, size_t len, char *err, size_t errlen)
{
	tls_chain ch = {0};

	if (tls_chain_from_pem(&ch, pem, len, err, errlen) < 0)
		return -1;
	if (cfg->has_chain)
		tls_chain_free(&cfg->chain);
	cfg->chain = ch;
	cfg->has_chain = true;
	return 0;
}

int tls_config_set_key_pem(tls_config *cfg, const char *pem, size_t len, char *err, size_t errlen)
{
	tls_privkey k = {0};

	if (tls_privkey_from_pem(&k, pem, len, err, errlen) < 0)
		return -1;
	if (cfg->has_key)
		tls_privkey_free(&cfg->key);
	cfg->key = k;
	cfg->has_key = true;
	sodium_memzero(&k, sizeof(k));
	return 0;
}

/* set_store(cfg, st, what, len): take ${st} (NULL: the loader failed),
 * known by the ${len} bytes at ${what} (tls_config_auth_id). */
static int set_store(tls_config *cfg, X509_STORE *st, const void *what, size_t len)
{
	if (st == NULL)
		return -1;
	X509_STORE_free(cfg->store);
	cfg->store = st;
	crypto_generichash(cfg->ca_id, sizeof cfg->ca_id, what, len, NULL, 0);
	return 0;
}

int tls_config_set_ca_pem(tls_config *cfg, const char *pem, size_t len, char *err, size_t errlen)
{
	return set_store(cfg, tls_store_from_pem(pem, len, err, errlen), pem, len);
}

int tls_config_set_ca_system(tls_config *cfg, char *err, size_t errlen)
{
	/* The system store is named, not hashed: sessions made under it stay
	 * valid for the process's lifetime, as its anchors do. */
	static const char name[] = "tlshim: the system trust store";
	return set_store(cfg, tls_store_system(err, errlen), name, sizeof name);
}

void tls_config_auth_id(const tls_config *cfg, uint8_t out[32])
{
	crypto_generichash_state st;
	uint8_t head[2] = {cfg->role, cfg->verify};
	uint64_t npins = cfg->npins;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, head, sizeof head);
	crypto_generichash_update(&st, cfg->ca_id, sizeof cfg->ca_id);
	crypto_generichash_update(&st, (const uint8_t *)&npins, sizeof npins);
	crypto_generichash_update(&st, (const uint8_t *)cfg->pins,
				  cfg->npins * sizeof cfg->pins[0]);
	crypto_generichash_final(&st, out, 32);
}

int tls_config_set_pins(tls_config *cfg, const char *spec, char *err, size_t errlen)
{
	uint8_t pins[TLS_MAX_PINS][32];
	size_t n = 0;

	if (cfg->role != TLS_ROLE_CLIENT)
		return fail(err, errlen, "pin applies to client rules only");
	if (tls_pins_parse(spec, pins, TLS_MAX_PINS, &n, err, errlen) < 0)
		return -1;
	if (n == 0)
		return fail(err, errlen, "pin: no sha256// entry");
	memcpy(cfg->pins, pins, n * sizeof(pins[0]));
	cfg->npins = n;
	return 0;
}

void tls_config_set_verify(tls_config *cfg, enum tls_verify v)
{
	if (v == TLS_VERIFY_NONE || v == TLS_VERIFY_OPTIONAL || v == TLS_VERIFY_REQUIRE)
		cfg->verify = (uint8_t)v;
}

int tls_config_set_ciphers(tls_config *cfg, const char *list, char *err, size_t errlen)
{
	uint16_t ids[TLS_MAX_SUITES], s12[TLS_MAX_SUITES], s13[TLS_MAX_SUITES];
	size_t n = 0, n12 = 0, n13 = 0;

	if (tls_suites_parse(list, ids, TLS_MAX_SUITES, &n, err, errlen) < 0)
		return -1;
	if (n == 0)
		return fail(err, errlen, "ciphers: no cipher suite named");
	/* Each version takes the names of its kind; one with none named
	 * keeps its defaults (tls.h), except that naming only TLS 1.3 suites
	 * leaves TLS 1.2 none, for tls_config_check to judge. */
	for (size_t i = 0; i < n; i++) {
		if (tls13_suite_by_id(ids[i]) != NULL)
			s13[n13++] = ids[i];
		else
			s12[n12++] = ids[i];
	}
	memcpy(cfg->suites, s12, n12 * sizeof(s12[0]));
	cfg->nsuites = n12;
	if (n13 > 0) {
		memcpy(cfg->suites13, s13, n13 * sizeof(s13[0]));
		cfg->nsuites13 = n13;
	} else {
		cfg->nsuites13 = tls13_suites_default(cfg->suites13, TLS_MAX_SUITES);
	}
	cfg->ciphers13_named = n13 > 0;
	return 0;
}

int tls_config_set_groups(tls_config *cfg, const char *list, char *err, size_t errlen)
{
	uint16_t ids[TLS_MAX_GROUPS];
	size_t n = 0;

	if (tls_groups_parse(list, ids, TLS_MAX_GROUPS, &n, err, errlen) < 0)
		return -1;
	if (n == 0)
		return fail(err, errlen, "groups: no group named");
	memcpy(cfg->groups, ids, n * sizeof(ids[0]));
	cfg->ngroups = n;
	return 0;
}

int tls_versions_effective(uint16_t min, uint16_t max, uint16_t *lo, uint16_t *hi)
{
	uint16_t l = 0, h = 0;

	for (uint16_t v = min; v >= min && v <= max; v++) {
		if (!tls_version_supported(v))
			continue;
		if (l == 0)
			l = v;
		h = v;
	}
	*lo = l;
	*hi = h;
	return l != 0 ? 0 : -1;
}

int tls_config_set_versions(tls_config *cfg, uint16_t min, uint16_t max, char *err, size_t errlen)
{
	uint16_t lo, hi;
	bool known = (min == TLS_VERSION_1_2 || min == TLS_VERSION_1_3) &&
		     (max == TLS_VERSION_1_2 || max == TLS_VERSION_1_3);

	if (!known)
		return fail(err, errlen, "unsupported protocol version (TLS 1.2 and 1.3 only)");
	if (min > max)
		return fail(err, errlen, "the minimum version %s is above the maximum %s",
			    tls_version_name(min), tls_version_name(max));
	/* Fail closed: a rule that demands a version we cannot speak must
	 * not quietly get an older one. */
	if (tls_versions_effective(min, max, &lo, &hi) < 0)
		return fail(err, errlen,
			    "TLS 1.3 is not available in this build yet (it speaks TLS 1.2 "
			    "only), so a rule requiring %s%s%s can never connect",
			    tls_version_name(min), min != max ? " to " : "",
			    min != max ? tls_version_name(max) : "");
	cfg->min_version = min;
	cfg->max_version = max;
	return 0;
}

/* alpn_name_ok(p, n): RFC 7301 §3.1 allows any 1..255 bytes; a policy
 * names printable protocol identifiers (every IANA-registered one is), so
 * whitespace and control characters are typos, and ',' separates. */
static bool alpn_name_ok(const char *p, size_t n)
{
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch <= 0x20 || ch == 0x7f || ch == ',')
			return false;
	}
	return true;
}

int tls_config_set_alpn(tls_config *cfg, const char *list, char *err, size_t errlen)
{
	size_t cap = list != NULL ? strlen(list) + 1 : 0, len = 0, item = 0;
	uint8_t *wire = NULL;
	char *text = NULL;

	if (cap > 1 && ((wire = malloc(cap)) == NULL || (text = malloc(cap)) == NULL)) {
		free(wire);
		return fail(err, errlen, "alpn: out of memory");
	}
	for (const char *p = list; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *a = p, *b = end;

		item++;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		size_t n = (size_t)(b - a);
		int show = n > 64 ? 64 : (int)n;
		if (n == 0) {
			fail(err, errlen, "alpn: empty protocol name (item %zu)", item);
			goto bad;
		}
		if (n > 255) {
			fail(err, errlen,
			     "alpn: protocol name '%.*s...' (item %zu) is %zu bytes; RFC 7301 "
			     "allows 1 to 255",
			     show, a, item, n);
			goto bad;
		}
		if (!alpn_name_ok(a, n)) {
			fail(err, errlen,
			     "alpn: protocol name '%.*s' (item %zu) contains a space or control "
			     "character",
			     show, a, item);
			goto bad;
		}
		for (size_t o = 0; o < len; o += 1 + wire[o])
			if (wire[o] == n && memcmp(wire + o + 1, a, n) == 0) {
				fail(err, errlen, "alpn: duplicate protocol name '%.*s' (item %zu)",
				     show, a, item);
				goto bad;
			}
		/* Each name takes its length byte plus itself: never more than
		 * the text it came from plus its comma, so cap holds it. */
		wire[len] = (uint8_t)n;
		memcpy(wire + len + 1, a, n);
		memcpy(text + len, a, n);
		text[len + n] = '\0';
		len += 1 + n;
		p = comma ? comma + 1 : end;
		if (comma && comma[1] == '\0') {
			fail(err, errlen, "alpn: empty protocol name (item %zu)", item + 1);
			goto bad;
		}
	}
	if (len > 65535) {
		fail(err, errlen,
		     "alpn: the protocol list is %zu bytes encoded; RFC 7301 allows "
		     "at most 65535",
		     len);
		goto bad;
	}
	free(cfg->alpn);
	free(cfg->alpn_text);
	cfg->alpn = len > 0 ? wire : NULL;
	cfg->alpn_text = len > 0 ? text : NULL;
	cfg->alpn_len = len;
	if (len == 0) {
		free(wire);
		free(text);
	}
	return 0;
bad:
	free(wire);
	free(text);
	return -1;
}

void tls_config_set_tickets(tls_config *cfg, bool on)
{
	cfg->tickets = on;
	if (cfg->role != TLS_ROLE_SERVER)
		return;
	if (!on) {
		tls_ticket_keys_free(cfg->ticket_keys);
		cfg->ticket_keys = NULL;
	} else if (cfg->ticket_keys == NULL) {
		/* On allocation failure the server simply issues no tickets
		 * (the engine checks ticket_keys, not just the flag). */
		cfg->ticket_keys = tls_ticket_keys_new(TICKET_PERIOD, cfg->now(cfg->now_arg));
	}
}

void tls_config_set_legacy_peers(tls_config *cfg, bool on)
{
	cfg->legacy_peers = on;
}

void tls_config_share_tickets(tls_config *cfg, tls_config *from)
{
	if (cfg->role != TLS_ROLE_SERVER || from->role != TLS_ROLE_SERVER || !cfg->tickets ||
	    !from->tickets || from->ticket_keys == NULL || cfg->ticket_keys == from->ticket_keys)
		return;
	tls_ticket_keys_free(cfg->ticket_keys);
	cfg->ticket_keys = tls_ticket_keys_ref(from->ticket_keys);
}

void tls_config_set_clock(tls_config *cfg, uint64_t (*now)(void *arg), void *arg)
{
	tls_ticket_keys *k;

	cfg->now = now != NULL ? now : system_clock;
	cfg->now_arg = now != NULL ? arg : NULL;
	/* The ring was born on the old clock; restart it on the new one so
	 * rotation follows the clock the engine will pass. */
	if (cfg->ticket_keys != NULL &&
	    (k = tls_ticket_keys_new(TICKET_PERIOD, cfg->now(cfg->now_arg))) != NULL) {
		tls_ticket_keys_free(cfg->ticket_keys);
		cfg->ticket_keys = k;
	}
}

void tls_config_set_keylog(tls_config *cfg, void (*cb)(void *arg, const char *line), void *arg)
{
	cfg->keylog = cb;
	cfg->keylog_arg = cb != NULL ? arg : NULL;
}

/* check_suites(cfg, err, errlen): a server's key can serve at least one of
 * its suites; otherwise every handshake would fail with no common suite. */
static int check_suites(const tls_config *cfg, char *err, size_t errlen)
{
	char names[512] = "";
	size_t off = 0;

	for (size_t i = 0; i < cfg->nsuites; i++) {
		const tls_suite *s = tls_suite_by_id(cfg->suites[i]);

		if (s != NULL && tls_suite_serves_key(s, cfg->key.type))
			return 0;
		if (s != NULL && off < sizeof(names)) {
			int w = snprintf(names + off, sizeof(names) - off, "%s%s", off ? ":" : "",
					 s->name);
			off += w > 0 ? (size_t)w : 0;
		}
	}
	return fail(err, errlen, "the %s key cannot serve any configured cipher suite (%s)",
		    tls_key_type_name(cfg->key.type), names);
}

/* suite_names(ids, n, buf, len): "A:B:C" for a list of suite ids. */
static void suite_names(const uint16_t *ids, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		const tls13_suite *s = tls13_suite_by_id(ids[i]);
		int w = snprintf(buf + off, len - off, "%s%s", off ? ":" : "", s ? s->name : "?");
		off += w > 0 ? (size_t)w : 0;
	}
}

/* check_versions(cfg, err, errlen): every version the rule may speak has
 * suites, and TLS 1.3 suites are named only where TLS 1.3 may be used. */
static int check_versions(const tls_config *cfg, char *err, size_t errlen)
{
	uint16_t lo, hi;
	char names[256];

	suite_names(cfg->suites13, cfg->nsuites13, names, sizeof names);
	if (cfg->ciphers13_named && cfg->max_version < TLS_VERSION_1_3)
		return fail(err, errlen,
			    "ciphers names TLS 1.3 suites (%s), but the rule's maximum version "
			    "is TLS 1.2",
			    names);
	if (tls_versions_effective(cfg->min_version, cfg->max_version, &lo, &hi) < 0)
		return fail(err, errlen, "no protocol version this build speaks is allowed");
	/* Naming only TLS 1.3 suites would mean no TLS 1.2 at all; while
	 * TLS 1.2 is all the engine speaks, such a rule could never connect
	 * (rather than take the TLS 1.2 defaults it did not name). */
	if (cfg->nsuites == 0 && hi == TLS_VERSION_1_2)
		return fail(err, errlen,
			    "ciphers names only TLS 1.3 suites (%s), and TLS 1.3 is not available "
			    "in this build yet: name the TLS 1.2 suites to use as well (e.g. "
			    "ECDHE-ECDSA-AES128-GCM-SHA256)",
			    names);
	return 0;
}

int tls_config_check(tls_config *cfg, char *err, size_t errlen)
{
	bool server = cfg->role == TLS_ROLE_SERVER;

	if (server && !(cfg->has_chain && cfg->has_key))
		return fail(err, errlen, "server rule needs cert and key");
	if (cfg->has_chain != cfg->has_key)
		return fail(err, errlen, "%s without %s: cert and key go together",
			    cfg->has_chain ? "cert" : "key", cfg->has_chain ? "key" : "cert");
	if (cfg->has_chain && !tls_privkey_matches(&cfg->key, &cfg->chain))
		return fail(err, errlen, "private key does not match the certificate");
	TRY(check_versions(cfg, err, errlen));
	if (server && check_suites(cfg, err, errlen) < 0)
		return -1;
	if (!server && cfg->alpn_len > TLS_MAX_CLIENT_ALPN)
		return fail(err, errlen,
			    "alpn: the protocol list is %zu bytes encoded; a client's must fit in "
			    "its ClientHello (at most %u)",
			    cfg->alpn_len, TLS_MAX_CLIENT_ALPN);
	if (cfg->verify != TLS_VERIFY_NONE && cfg->store == NULL && (server || cfg->npins == 0)) {
		const char *mode = cfg->verify == TLS_VERIFY_REQUIRE ? "require" : "optional";

		if (server)
			return fail(err, errlen, "verify_peer = %s needs ca", mode);
		return fail(err, errlen, "verify_peer = %s needs ca (or pin)", mode);
	}
	return 0;
}
