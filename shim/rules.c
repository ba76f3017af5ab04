/*
 * rules.c: the bridge from the policy file (config/, which knows nothing of
 * TLS) to engine configurations (core/, which knows nothing of files):
 * certificate, key and CA files are read here and their problems reported
 * with the line of the key that named them. The same per-rule build runs
 * again when a rule's files change on disk (rules_reload.c).
 */
#include "rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "policy.h"
#include "real.h"

#define PEM_MAX (4u << 20) /* a PEM file is never this large */

static struct {
	tlsp_policy *policy;
	shim_rule *rules;
	bool active;
} g;

const tlsp_policy *shim_rules_policy(void)
{
	return g.active ? g.policy : NULL;
}

const char *shim_rules_path(void)
{
	return g.active ? g.policy->path : NULL;
}

bool shim_rules_active(void)
{
	return g.active;
}

/* Read a whole (PEM) file with the real calls (this also runs inside the
 * program, where open/close are hooked); NULL with errno on failure. The
 * file's identity is taken before reading, so a change made while we read
 * shows at the next check. Buffers that held the bytes are wiped: they may
 * be a private key. */
static char *slurp(const char *path, size_t *len, shim_fileid *id)
{
	int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int err = 0;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto out;
	}
	shim_fileid_of(id, &st);
	cap = st.st_size > 0 && (size_t)st.st_size < PEM_MAX ? (size_t)st.st_size + 1 : 8192;
	if (!(buf = malloc(cap))) {
		err = ENOMEM;
		goto out;
	}
	for (;;) {
		if (n + 1 == cap) { /* the file grew while we read */
			char *nb = cap < PEM_MAX ? malloc(cap * 2) : NULL;
			if (!nb) {
				err = cap < PEM_MAX ? ENOMEM : EFBIG;
				break;
			}
			memcpy(nb, buf, n);
			explicit_bzero(buf, n);
			free(buf);
			buf = nb;
			cap *= 2;
		}
		ssize_t k = REAL(read)(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			err = errno;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
out:
	REAL(close)(fd);
	if (err) {
		if (buf) {
			explicit_bzero(buf, n);
			free(buf);
		}
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static void report(shim_build *b, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(shim_build *b, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!b->errors) {
		if (b->count == 0)
			vsnprintf(b->first, sizeof b->first, fmt, ap);
	} else {
		if (line)
			fprintf(b->errors, "%s:%u: ", b->file, line);
		else
			fprintf(b->errors, "%s: ", b->file);
		vfprintf(b->errors, fmt, ap);
		fputc('\n', b->errors);
	}
	va_end(ap);
	b->count++;
}

typedef int (*pem_setter)(tls_config *, const char *, size_t, char *, size_t);

static void load_pem(shim_build *b, tls_config *cfg, const tlsp_rule *r, enum tlsp_key k,
		     const char *path, pem_setter set, shim_fileid *id)
{
	size_t len = 0;
	char *pem = slurp(path, &len, id);
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

const char *shim_rule_file(const tlsp_rule *r, int i)
{
	return i == SHIM_FILE_CERT ? r->cert : i == SHIM_FILE_KEY ? r->key : r->ca;
}

/* verify_mode(r): the engine's verify setting for ${r}. verify_peer = none
 * with a pin still checks the pin (as curl -k --pinnedpubkey does): the
 * engine then verifies with pins only. */
static enum tls_verify verify_mode(const tlsp_rule *r)
{
	enum tls_verify v = r->verify_peer == TLSP_VERIFY_NONE       ? TLS_VERIFY_NONE
			    : r->verify_peer == TLSP_VERIFY_OPTIONAL ? TLS_VERIFY_OPTIONAL
								     : TLS_VERIFY_REQUIRE;
	if (r->role == TLSP_ROLE_CLIENT && v == TLS_VERIFY_NONE && r->npins > 0)
		v = TLS_VERIFY_REQUIRE;
	return v;
}

/* wire_version(v): the protocol version number (RFC 8446 §4.2.1: 1.2 is
 * 0x0303, 1.3 0x0304) of a policy's min_version/max_version. */
static uint16_t wire_version(enum tlsp_version v)
{
	return v == TLSP_TLS_1_3 ? 0x0304 : 0x0303;
}

void shim_rules_note(const struct tlsp_rule *r, void *arg, char *buf, size_t len)
{
	uint16_t lo, hi;
	const size_t v = strlen("TLSv"); /* "TLSv1.2" -> "1.2", the policy's spelling */
	(void)arg;
	/* What the engine will negotiate of [min_version, max_version]: a
	 * max_version it does not speak yet must not read as a promise. */
	if (tls_versions_effective(wire_version(r->min_version), wire_version(r->max_version), &lo,
				   &hi) < 0)
		snprintf(buf, len, " effective_versions=none");
	else if (lo == hi)
		snprintf(buf, len, " effective_versions=%s", tls_version_name(lo) + v);
	else
		snprintf(buf, len, " effective_versions=%s-%s", tls_version_name(lo) + v,
			 tls_version_name(hi) + v);
}

tls_config *shim_build_config(shim_build *b, const tlsp_rule *r, shim_fileid *ids)
{
	bool client = r->role == TLSP_ROLE_CLIENT;
	tls_config *cfg = tls_config_new(client ? TLS_ROLE_CLIENT : TLS_ROLE_SERVER);
	char err[256];
	for (int i = 0; i < SHIM_RULE_FILES; i++)
		ids[i] = (shim_fileid){0};
	if (!cfg) {
		report(b, r->line, "out of memory");
		return NULL;
	}
	if (r->cert)
		load_pem(b, cfg, r, TLSP_K_CERT, r->cert, tls_config_set_chain_pem,
			 &ids[SHIM_FILE_CERT]);
	if (r->key)
		load_pem(b, cfg, r, TLSP_K_KEY, r->key, tls_config_set_key_pem,
			 &ids[SHIM_FILE_KEY]);
	if (r->ca_system) {
		if (tls_config_set_ca_system(cfg, err, sizeof err) < 0)
			report(b, r->key_line[TLSP_K_CA], "ca = system: %s", err);
	} else if (r->ca) {
		load_pem(b, cfg, r, TLSP_K_CA, r->ca, tls_config_set_ca_pem, &ids[SHIM_FILE_CA]);
	}
	if (client && r->pin && tls_config_set_pins(cfg, r->pin, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_PIN], "pin: %s", err);
	tls_config_set_verify(cfg, verify_mode(r));
	if (r->ciphers && tls_config_set_ciphers(cfg, r->ciphers, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_CIPHERS], "ciphers: %s", err);
	if (r->groups && tls_config_set_groups(cfg, r->groups, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_GROUPS], "groups: %s", err);
	if (tls_config_set_versions(cfg, wire_version(r->min_version), wire_version(r->max_version),
				    err, sizeof err) < 0)
		report(b,
		       r->key_line[TLSP_K_MIN_VERSION] ? r->key_line[TLSP_K_MIN_VERSION] : r->line,
		       "min_version = %s: %s", r->min_version == TLSP_TLS_1_3 ? "1.3" : "1.2", err);
	if (r->alpn && tls_config_set_alpn(cfg, r->alpn, err, sizeof err) < 0)
		report(b, r->key_line[TLSP_K_ALPN], "%s", err);
	if (!client)
		tls_config_set_tickets(cfg, r->session_tickets);
	tls_config_set_legacy_peers(cfg, r->legacy_peers);
	if (shim_keylog_active())
		tls_config_set_keylog(cfg, shim_keylog_line, NULL);
	if (b->count == 0 && tls_config_check(cfg, err, sizeof err) < 0) {
		if (b->errors)
			report(b, r->line, "rule %s: %s", r->name, err);
		else
			report(b, r->line, "%s", err);
	}
	return cfg;
}

static tls_config *build_rule(shim_build *b, const tlsp_policy *p, const tlsp_rule *r,
			      shim_rule *out)
{
	bool client = r->role == TLSP_ROLE_CLIENT;
	tls_config *cfg = shim_build_config(b, r, out->loaded);

	snprintf(out->name, sizeof out->name, "%s", r->name);
	out->client = client;
	out->plaintext_allow = !client && r->plaintext_allow;
	out->verify_none = client && verify_mode(r) == TLS_VERIFY_NONE;
	out->alpn = r->alpn != NULL;
	out->handshake_timeout = r->handshake_timeout ? r->handshake_timeout : p->handshake_timeout;
	if (r->server_name)
		snprintf(out->server_name, sizeof out->server_name, "%s", r->server_name);
	out->src = r;
	for (int i = 0; i < SHIM_RULE_FILES; i++)
		out->watch |= shim_rule_file(r, i) != NULL;
	pthread_mutex_init(&out->cache_lock, NULL);
	pthread_mutex_init(&out->cfg_lock, NULL);
	return cfg;
}

static void free_rules(tlsp_policy *p, shim_rule *rules)
{
	for (size_t i = 0; rules && i < p->nrules; i++) {
		shim_rule_sessions_free(&rules[i]);
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
	shim_build b = {.file = path, .errors = errors};
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

/* The session caches' and configurations' locks are held only for a copy
 * or a reference; taking them around fork() keeps a child from inheriting
 * one locked by another thread. A reload another thread was running does
 * not go on in the child: the next check there starts afresh. */
static void locks_take(void)
{
	for (size_t i = 0; g.policy && i < g.policy->nrules; i++) {
		pthread_mutex_lock(&g.rules[i].cache_lock);
		pthread_mutex_lock(&g.rules[i].cfg_lock);
	}
}

static void locks_give(void)
{
	for (size_t i = 0; g.policy && i < g.policy->nrules; i++) {
		pthread_mutex_unlock(&g.rules[i].cfg_lock);
		pthread_mutex_unlock(&g.rules[i].cache_lock);
	}
}

static void locks_give_child(void)
{
	for (size_t i = 0; g.policy && i < g.policy->nrules; i++)
		__atomic_store_n(&g.rules[i].reloading, false, __ATOMIC_RELAXED);
	locks_give();
}

int shim_rules_load(const char *path, FILE *errors)
{
	int r = load(path, errors, true);
	if (r == 0)
		pthread_atfork(locks_take, locks_give, locks_give_child);
	return r;
}

int shim_rules_check(const char *path, FILE *errors)
{
	return load(path, errors, false);
}

void shim_rules_print(FILE *out)
{
	if (g.policy)
		tlsp_print_noted(out, g.policy, shim_rules_note, NULL);
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
