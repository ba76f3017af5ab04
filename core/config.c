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
	uint16_t ids[TLS_MAX_SUITES];
	size_t n = 0;

	if (tls_suites_parse(list, ids, TLS_MAX_SUITES, &n, err, errlen) < 0)
		return -1;
	if (n == 0)
		return fail(err, errlen, "ciphers: no cipher suite named");
	memcpy(cfg->suites, ids, n * sizeof(ids[0]));
	cfg->nsuites = n;
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

static const char *key_type_name(int type)
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

/* key_serves(type, suite): RFC 8422 §5.5 / RFC 5246 §7.4.2: ECDHE_ECDSA
 * suites need an ECDSA (or Ed25519) certificate, the RSA ones an RSA one. */
static bool key_serves(int type, const tls_suite *s)
{
	if (s->auth == TLS_AUTH_RSA)
		return type == TLS_KEY_RSA;
	return type == TLS_KEY_EC_P256 || type == TLS_KEY_EC_P384 || type == TLS_KEY_ED25519;
}

/* check_suites(cfg, err, errlen): a server's key can serve at least one of
 * its suites; otherwise every handshake would fail with no common suite. */
static int check_suites(const tls_config *cfg, char *err, size_t errlen)
{
	char names[512] = "";
	size_t off = 0;

	for (size_t i = 0; i < cfg->nsuites; i++) {
		const tls_suite *s = tls_suite_by_id(cfg->suites[i]);

		if (s != NULL && key_serves(cfg->key.type, s))
			return 0;
		if (s != NULL && off < sizeof(names)) {
			int w = snprintf(names + off, sizeof(names) - off, "%s%s", off ? ":" : "",
					 s->name);
			off += w > 0 ? (size_t)w : 0;
		}
	}
	return fail(err, errlen, "the %s key cannot serve any configured cipher suite (%s)",
		    key_type_name(cfg->key.type), names);
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
	if (server && check_suites(cfg, err, errlen) < 0)
		return -1;
	if (cfg->verify != TLS_VERIFY_NONE && cfg->store == NULL && (server || cfg->npins == 0)) {
		const char *mode = cfg->verify == TLS_VERIFY_REQUIRE ? "require" : "optional";

		if (server)
			return fail(err, errlen, "verify_peer = %s needs ca", mode);
		return fail(err, errlen, "verify_peer = %s needs ca (or pin)", mode);
	}
	return 0;
}
