/*
 * rules.c: the bridge from the policy file (config/, which knows nothing of
 * TLS) to engine configurations (core/, which knows nothing of files):
 * certificate, key and CA files are read here and their problems reported
 * with the line of the key that named them.
 */
#include "rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy.h"

static struct {
	tlsp_policy *policy;
	shim_rule *rules;
	bool active;
} g;

const char *shim_rules_path(void)
{
	return g.active ? g.policy->path : NULL;
}

bool shim_rules_active(void)
{
	return g.active;
}

/* Read a whole (PEM) file; NULL with errno on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
		if (cap - n - 1 == 0) {
			if (cap >= (4u << 20)) { /* a PEM file is never this large */
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int saved = errno;
	fclose(f);
	errno = saved;
	if (buf) {
		buf[n] = 0;
		*len = n;
	}
	return buf;
}

struct build {
	const char *file; /* the policy path as the user gave it */
	FILE *errors;
	int count;
};

static void report(struct build *b, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(struct build *b, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (line)
		fprintf(b->errors, "%s:%u: ", b->file, line);
	else
		fprintf(b->errors, "%s: ", b->file);
	vfprintf(b->errors, fmt, ap);
	fputc('\n', b->errors);
	va_end(ap);
	b->count++;
}

typedef int (*pem_setter)(tls_config *, const char *, size_t, char *, size_t);

static void load_pem(struct build *b, tls_config *cfg, const tlsp_rule *r, enum tlsp_key k,
		     const char *path, pem_setter set)
{
	size_t len = 0;
	char *pem = slurp(path, &len);
	char err[256];
	unsigned line = r->key_line[k] ? r->key_line[k] : r->line;
	if (!pem) {
		report(b, line, "%s %s: cannot read: %s", tlsp_key_name(k), path, strerror(errno));
		return;
	}
	if (set(cfg, pem, len, err, sizeof err) < 0)
		report(b, line, "%s %s: %s", tlsp_key_name(k), path, err);
	explicit_bzero(pem, len); /* a key file's bytes */
	free(pem);
}

static tls_config *build_rule(struct build *b, const tlsp_policy *p, const tlsp_rule *r,
			      shim_rule *out)
{
	bool client = r->role == TLSP_ROLE_CLIENT;
	tls_config *cfg = tls_config_new(client ? TLS_ROLE_CLIENT : TLS_ROLE_SERVER);
	char err[256];
	if (!cfg) {
		report(b, r->line, "out of memory");
		return NULL;
	}
	if (r->cert)
		load_pem(b, cfg, r, TLSP_K_CERT, r->cert, tls_config_set_chain_pem);
	if (r->key)
		load_pem(b, cfg, r, TLSP_K_KEY, r->key, tls_config_set_key_pem);
	if (r->ca_system) {
		if (tls_config_set_ca_system(cfg, err, sizeof err) < 0)
			report(b, r->key_line[TLSP_K_CA], "ca = system: %s", err);
	} else if (r->ca) {
		load_pem(b, cfg, r, TLSP_K_CA, r->ca, tls_config_set_ca_pem);
	}
	if (client && r->pin && tls_config_set_pins(cfg, r->pin, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_PIN], "pin: %s", err);
	/* verify_peer = none with a pin still checks the pin (as curl -k
	 * --pinnedpubkey does): the engine then verifies with pins only. */
	enum tls_verify v = r->verify_peer == TLSP_VERIFY_NONE       ? TLS_VERIFY_NONE
			    : r->verify_peer == TLSP_VERIFY_OPTIONAL ? TLS_VERIFY_OPTIONAL
								     : TLS_VERIFY_REQUIRE;
	if (client && v == TLS_VERIFY_NONE && r->npins > 0)
		v = TLS_VERIFY_REQUIRE;
	tls_config_set_verify(cfg, v);
	if (r->ciphers && tls_config_set_ciphers(cfg, r->ciphers, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_CIPHERS], "ciphers: %s", err);
	if (r->groups && tls_config_set_groups(cfg, r->groups, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_GROUPS], "groups: %s", err);
	if (!client)
		tls_config_set_tickets(cfg, r->session_tickets);
	if (shim_keylog_active())
		tls_config_set_keylog(cfg, shim_keylog_line, NULL);
	if (b->count == 0 && tls_config_check(cfg, err, sizeof err) < 0)
		report(b, r->line, "rule %s: %s", r->name, err);

	snprintf(out->name, sizeof out->name, "%s", r->name);
	out->client = client;
	out->plaintext_allow = !client && r->plaintext_allow;
	out->verify_none = client && v == TLS_VERIFY_NONE;
	out->handshake_timeout = r->handshake_timeout ? r->handshake_timeout : p->handshake_timeout;
	if (r->server_name)
		snprintf(out->server_name, sizeof out->server_name, "%s", r->server_name);
	pthread_mutex_init(&out->cache_lock, NULL);
	return cfg;
}

static void free_rules(tlsp_policy *p, shim_rule *rules)
{
	for (size_t i = 0; rules && i < p->nrules; i++) {
		for (size_t j = 0; j < SHIM_SESSION_CACHE; j++)
			tls_session_unref(rules[i].cache[j].s);
		tls_config_unref(rules[i].cfg);
	}
	free(rules);
	tlsp_free(p);
}

static int load(const char *path, FILE *errors, bool open_files)
{
	tlsp_errors errs;
	tlsp_errors_init(&errs);
	tlsp_policy *p = NULL;
	if (tlsp_load(path, &p, &errs) < 0) {
		tlsp_errors_print(errors, &errs);
		tlsp_errors_free(&errs);
		return -1;
	}
	tlsp_errors_free(&errs);

	int level = (int)p->log_level;
	const char *env = getenv("TLSHIM_LOG");
	if (env && *env && shim_log_parse_level(env) >= 0)
		level = shim_log_parse_level(env);
	const char *sink = p->log_sink == TLSP_LOG_SYSLOG ? "syslog"
			   : p->log_sink == TLSP_LOG_FILE ? p->log_file
							  : "stderr";
	struct build b = {.file = path, .errors = errors};
	if (open_files && shim_log_open(sink, level) < 0)
		report(&b, p->key_line[TLSP_K_LOG_FILE], "log_file %s: %s", sink, strerror(errno));
	/* SSLKEYLOGFILE is honoured as curl and Firefox do, loudly. */
	const char *keylog = p->keylog;
	const char *env_keylog = getenv("SSLKEYLOGFILE");
	if (env_keylog && *env_keylog)
		keylog = env_keylog;
	if (keylog && open_files) {
		if (shim_keylog_open(keylog) < 0)
			report(&b, p->key_line[TLSP_K_KEYLOG], "keylog %s: %s", keylog,
			       strerror(errno));
		else
			shim_log(SHIM_LOG_WARN,
				 "writing TLS secrets to %s (%s): anyone who can read it can "
				 "decrypt the traffic",
				 keylog, keylog == p->keylog ? "keylog" : "SSLKEYLOGFILE");
	}

	shim_rule *rules = calloc(p->nrules ? p->nrules : 1, sizeof *rules);
	if (!rules) {
		report(&b, 0, "out of memory");
		tlsp_free(p);
		return -1;
	}
	for (size_t i = 0; i < p->nrules; i++)
		rules[i].cfg = build_rule(&b, p, &p->rules[i], &rules[i]);
	if (b.count > 0) {
		free_rules(p, rules);
		return -1;
	}
	g.policy = p;
	g.rules = rules;
	__atomic_store_n(&g.active, true, __ATOMIC_RELEASE);
	return 0;
}

/* The session caches' locks are held only for a copy; taking them around
 * fork() keeps a child from inheriting one locked by another thread. */
static void cache_lock_all(void)
{
	for (size_t i = 0; g.policy && i < g.policy->nrules; i++)
		pthread_mutex_lock(&g.rules[i].cache_lock);
}

static void cache_unlock_all(void)
{
	for (size_t i = 0; g.policy && i < g.policy->nrules; i++)
		pthread_mutex_unlock(&g.rules[i].cache_lock);
}

int shim_rules_load(const char *path, FILE *errors)
{
	int r = load(path, errors, true);
	if (r == 0)
		pthread_atfork(cache_lock_all, cache_unlock_all, cache_unlock_all);
	return r;
}

int shim_rules_check(const char *path, FILE *errors)
{
	return load(path, errors, false);
}

void shim_rules_print(FILE *out)
{
	if (g.policy)
		tlsp_print(out, g.policy);
}

shim_rule *shim_match_client(const struct sockaddr *addr, socklen_t len)
{
	if (!g.active)
		return NULL;
	const tlsp_rule *r = tlsp_match_client(g.policy, addr, len);
	return r ? &g.rules[r - g.policy->rules] : NULL;
}

shim_rule *shim_match_server(uint16_t port)
{
	if (!g.active)
		return NULL;
	const tlsp_rule *r = tlsp_match_server(g.policy, port);
	return r ? &g.rules[r - g.policy->rules] : NULL;
}

tls_session *shim_rule_session_get(shim_rule *r, const char *peer)
{
	tls_session *s = NULL;
	pthread_mutex_lock(&r->cache_lock);
	for (size_t i = 0; i < SHIM_SESSION_CACHE; i++)
		if (r->cache[i].s && strcmp(r->cache[i].peer, peer) == 0) {
			s = tls_session_ref(r->cache[i].s);
			r->cache[i].used = ++r->cache_tick;
			break;
		}
	pthread_mutex_unlock(&r->cache_lock);
	return s;
}

void shim_rule_session_put(shim_rule *r, const char *peer, tls_session *s)
{
	pthread_mutex_lock(&r->cache_lock);
	size_t slot = 0;
	for (size_t i = 0; i < SHIM_SESSION_CACHE; i++) {
		if (r->cache[i].s && strcmp(r->cache[i].peer, peer) == 0) {
			slot = i;
			break;
		}
		if (r->cache[i].used < r->cache[slot].used)
			slot = i;
	}
	tls_session_unref(r->cache[slot].s);
	r->cache[slot].s = tls_session_ref(s);
	snprintf(r->cache[slot].peer, sizeof r->cache[slot].peer, "%s", peer);
	r->cache[slot].used = ++r->cache_tick;
	pthread_mutex_unlock(&r->cache_lock);
}
