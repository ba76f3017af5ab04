/*
 * build.c: pass 2 of loading: raw sections to a tlsp_policy. Every value is
 * checked, then the combinations INTERFACE.md forbids, then the files a rule
 * reads. A key whose value is bad counts as present for the combination
 * checks, so one mistake gives one message, not a cascade.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_internal.h"

struct ctx {
	const char *file; /* as given, for messages */
	const char *dir;  /* the policy's directory, for relative paths */
	tlsp_errors *errs;
	size_t nerr;
	bool oom;
};

static void err(struct ctx *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(struct ctx *c, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->nerr++;
	if (tlsp_err_add(c->errs, c->file, line, "%s", msg) != 0)
		c->oom = true;
}

/* One section's values while it is checked. */
struct sec {
	const struct tlsp_raw_value *v;
	bool bad[TLSP_K_COUNT]; /* present, but its value was rejected */
};

static bool present(const struct sec *s, enum tlsp_key k)
{
	return s->v[k].value != NULL;
}

/* good(s, k): present with a value that passed its check so far. */
static bool good(const struct sec *s, enum tlsp_key k)
{
	return s->v[k].value != NULL && !s->bad[k];
}

static void bad_value(struct ctx *c, struct sec *s, enum tlsp_key k, const char *why)
{
	err(c, s->v[k].line, "%s", why);
	s->bad[k] = true;
}

/* keyword(c, s, k, words, expect): the index of the value of ${k} in the
 * NULL-terminated ${words}, or -1 (reported) when it is none of them. */
static int keyword(struct ctx *c, struct sec *s, enum tlsp_key k, const char *const *words,
		   const char *expect)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(s->v[k].value, words[i]) == 0)
			return i;
	err(c, s->v[k].line, "unknown value '%s' for %s (expected %s)", s->v[k].value,
	    tlsp_key_name(k), expect);
	s->bad[k] = true;
	return -1;
}

/* path(c, s, k, out): the value of ${k} as an absolute path. */
static void path(struct ctx *c, struct sec *s, enum tlsp_key k, char **out)
{
	if ((*out = tlsp_path_join(c->dir, s->v[k].value)) == NULL)
		c->oom = true;
}

static void timeout(struct ctx *c, struct sec *s, unsigned *out)
{
	char why[256];

	if (good(s, TLSP_K_HANDSHAKE_TIMEOUT) &&
	    tlsp_parse_uint(s->v[TLSP_K_HANDSHAKE_TIMEOUT].value, 1, TLSP_MAX_TIMEOUT, out, why,
			    sizeof(why)) != 0)
		bad_value(c, s, TLSP_K_HANDSHAKE_TIMEOUT, why);
}

/* start(c, s, raw): report empty values; they count as bad. */
static void start(struct ctx *c, struct sec *s, const struct tlsp_raw_section *raw)
{
	memset(s, 0, sizeof(*s));
	s->v = raw->v;
	for (int k = 0; k < TLSP_K_COUNT; k++) {
		if (present(s, (enum tlsp_key)k) && s->v[k].value[0] == '\0') {
			err(c, s->v[k].line, "empty value for '%s'",
			    tlsp_key_name((enum tlsp_key)k));
			s->bad[k] = true;
		}
	}
}

static void build_global(struct ctx *c, const struct tlsp_raw_section *raw, tlsp_policy *p)
{
	static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
	struct sec s;
	int i;

	start(c, &s, raw);
	p->global_line = raw->line;
	for (int k = 0; k < TLSP_K_COUNT; k++)
		p->key_line[k] = s.v[k].line;

	if (good(&s, TLSP_K_LOG) &&
	    (i = keyword(c, &s, TLSP_K_LOG, levels, "error, warn, info or debug")) >= 0)
		p->log_level = (enum tlsp_log_level)i;
	if (good(&s, TLSP_K_LOG_FILE)) {
		const char *v = s.v[TLSP_K_LOG_FILE].value;

		if (strcmp(v, "stderr") == 0) {
			p->log_sink = TLSP_LOG_STDERR;
		} else if (strcmp(v, "syslog") == 0) {
			p->log_sink = TLSP_LOG_SYSLOG;
		} else {
			p->log_sink = TLSP_LOG_FILE;
			path(c, &s, TLSP_K_LOG_FILE, &p->log_file);
		}
	}
	if (good(&s, TLSP_K_KEYLOG))
		path(c, &s, TLSP_K_KEYLOG, &p->keylog);
	timeout(c, &s, &p->handshake_timeout);
}

/* readable(c, s, k, file): the rule will read ${file} at start-up. */
static void readable(struct ctx *c, struct sec *s, enum tlsp_key k, const char *file)
{
	struct stat st;
	int e = 0;

	if (file == NULL || !good(s, k))
		return;
	if (access(file, R_OK) != 0)
		e = errno;
	else if (stat(file, &st) == 0 && S_ISDIR(st.st_mode))
		e = EISDIR;
	if (e != 0)
		err(c, s->v[k].line, "cannot read %s: %s", file, strerror(e));
}

/* versions(c, s, r): min_version and max_version ("1.2" | "1.3"; default
 * 1.2 to 1.3, INTERFACE.md), min not above max. Whether this build speaks
 * them is the engine's business (shim/rules.c asks it). */
static void versions(struct ctx *c, struct sec *s, tlsp_rule *r)
{
	static const char *const names[] = {"1.2", "1.3", NULL};
	int i;

	r->min_version = TLSP_TLS_1_2;
	r->max_version = TLSP_TLS_1_3;
	if (good(s, TLSP_K_MIN_VERSION) &&
	    (i = keyword(c, s, TLSP_K_MIN_VERSION, names, "1.2 or 1.3")) >= 0)
		r->min_version = (enum tlsp_version)i;
	if (good(s, TLSP_K_MAX_VERSION) &&
	    (i = keyword(c, s, TLSP_K_MAX_VERSION, names, "1.2 or 1.3")) >= 0)
		r->max_version = (enum tlsp_version)i;
	if (good(s, TLSP_K_MIN_VERSION) && good(s, TLSP_K_MAX_VERSION) &&
	    r->min_version > r->max_version)
		err(c, s->v[TLSP_K_MIN_VERSION].line,
		    "min_version = %s is above max_version = %s (line %u)",
		    s->v[TLSP_K_MIN_VERSION].value, s->v[TLSP_K_MAX_VERSION].value,
		    s->v[TLSP_K_MAX_VERSION].line);
}

/* values(c, s, r): every rule value on its own. Returns the role, or -1
 * when it is missing or bad. */
static int values(struct ctx *c, struct sec *s, tlsp_rule *r)
{
	static const char *const roles[] = {"client", "server", NULL};
	static const char *const verifies[] = {"none", "optional", "require", NULL};
	static const char *const plaintexts[] = {"reject", "allow", NULL};
	static const char *const yesno[] = {"no", "yes", NULL};
	char why[512];
	int role = -1, i;

	if (good(s, TLSP_K_ROLE))
		role = keyword(c, s, TLSP_K_ROLE, roles, "client or server");
	else if (!present(s, TLSP_K_ROLE))
		err(c, r->line, "rule '%s' has no 'role' (client or server)", r->name);

	if (good(s, TLSP_K_PORT) &&
	    tlsp_parse_ports(s->v[TLSP_K_PORT].value, r->ports, &r->nports, why, sizeof(why)) != 0)
		bad_value(c, s, TLSP_K_PORT, why);
	else if (!present(s, TLSP_K_PORT))
		err(c, r->line, "rule '%s' has no 'port'", r->name);

	if (good(s, TLSP_K_HOSTS) &&
	    tlsp_parse_hosts(s->v[TLSP_K_HOSTS].value, r->hosts, &r->nhosts, why, sizeof(why)) != 0)
		bad_value(c, s, TLSP_K_HOSTS, why);

	if (good(s, TLSP_K_CERT))
		path(c, s, TLSP_K_CERT, &r->cert);
	if (good(s, TLSP_K_KEY))
		path(c, s, TLSP_K_KEY, &r->key);
	if (good(s, TLSP_K_CA)) {
		if (strcmp(s->v[TLSP_K_CA].value, "system") == 0)
			r->ca_system = true;
		else
			path(c, s, TLSP_K_CA, &r->ca);
	}

	if (good(s, TLSP_K_VERIFY_PEER) &&
	    (i = keyword(c, s, TLSP_K_VERIFY_PEER, verifies, "none, optional or require")) >= 0)
		r->verify_peer = (enum tlsp_verify)i;
	if (good(s, TLSP_K_PLAINTEXT) &&
	    (i = keyword(c, s, TLSP_K_PLAINTEXT, plaintexts, "reject or allow")) >= 0)
		r->plaintext_allow = i == 1;
	if (good(s, TLSP_K_SESSION_TICKETS) &&
	    (i = keyword(c, s, TLSP_K_SESSION_TICKETS, yesno, "yes or no")) >= 0)
		r->session_tickets = i == 1;
	/* Default no (INTERFACE.md): EMS and renegotiation_info required. */
	if (good(s, TLSP_K_LEGACY_PEERS) &&
	    (i = keyword(c, s, TLSP_K_LEGACY_PEERS, yesno, "yes or no")) >= 0)
		r->legacy_peers = i == 1;

	if (good(s, TLSP_K_SERVER_NAME)) {
		if (tlsp_check_server_name(s->v[TLSP_K_SERVER_NAME].value, why, sizeof(why)) != 0)
			bad_value(c, s, TLSP_K_SERVER_NAME, why);
		else if ((r->server_name = strdup(s->v[TLSP_K_SERVER_NAME].value)) == NULL)
			c->oom = true;
	}
	if (good(s, TLSP_K_PIN)) {
		const char *v = s->v[TLSP_K_PIN].value;

		if ((r->pin = malloc(strlen(v) + 1)) == NULL) {
			c->oom = true;
		} else if (tlsp_parse_pins(v, r->pins, &r->npins, r->pin, why, sizeof(why)) != 0) {
			bad_value(c, s, TLSP_K_PIN, why);
			free(r->pin);
			r->pin = NULL;
		}
	}
	if (good(s, TLSP_K_CIPHERS) && (r->ciphers = strdup(s->v[TLSP_K_CIPHERS].value)) == NULL)
		c->oom = true;
	versions(c, s, r);
	/* The names are the engine's to judge (RFC 7301 lengths, duplicates):
	 * it reports them with this line, as it does for ciphers. */
	if (good(s, TLSP_K_ALPN) && (r->alpn = strdup(s->v[TLSP_K_ALPN].value)) == NULL)
		c->oom = true;
	if (good(s, TLSP_K_GROUPS) && (r->groups = strdup(s->v[TLSP_K_GROUPS].value)) == NULL)
		c->oom = true;
	timeout(c, s, &r->handshake_timeout);
	return role;
}

/* combinations(c, s, r, role): what depends on the role and on other keys. */
static void combinations(struct ctx *c, struct sec *s, tlsp_rule *r, enum tlsp_role role)
{
	unsigned mine = role == TLSP_ROLE_SERVER ? TLSP_SCOPE_SERVER : TLSP_SCOPE_CLIENT;
	const char *other = role == TLSP_ROLE_SERVER ? "client" : "server";

	r->role = role;
	for (int k = 0; k < TLSP_K_COUNT; k++) {
		if (present(s, (enum tlsp_key)k) && !(tlsp_key_scope((enum tlsp_key)k) & mine))
			err(c, s->v[k].line, "'%s' is only valid in %s rules",
			    tlsp_key_name((enum tlsp_key)k), other);
	}

	/* Defaults differ by role (INTERFACE.md): a server asks no client
	 * certificate and issues tickets; a client authenticates the server. */
	if (!present(s, TLSP_K_VERIFY_PEER))
		r->verify_peer = role == TLSP_ROLE_SERVER ? TLSP_VERIFY_NONE : TLSP_VERIFY_REQUIRE;
	if (!present(s, TLSP_K_SESSION_TICKETS))
		r->session_tickets = role == TLSP_ROLE_SERVER;
	if (role == TLSP_ROLE_CLIENT) {
		r->session_tickets = false;
		r->plaintext_allow = false;
	} else {
		r->nhosts = 0;
	}

	if (present(s, TLSP_K_CERT) && !present(s, TLSP_K_KEY))
		err(c, s->v[TLSP_K_CERT].line, "cert without key");
	if (present(s, TLSP_K_KEY) && !present(s, TLSP_K_CERT))
		err(c, s->v[TLSP_K_KEY].line, "key without cert");

	bool verify_ok = !present(s, TLSP_K_VERIFY_PEER) || good(s, TLSP_K_VERIFY_PEER);

	if (role == TLSP_ROLE_SERVER) {
		if (!present(s, TLSP_K_CERT) && !present(s, TLSP_K_KEY))
			err(c, r->line, "server rule '%s' needs cert and key", r->name);
		if (good(s, TLSP_K_VERIFY_PEER) && r->verify_peer != TLSP_VERIFY_NONE &&
		    !present(s, TLSP_K_CA))
			err(c, s->v[TLSP_K_VERIFY_PEER].line, "verify_peer = %s needs ca",
			    s->v[TLSP_K_VERIFY_PEER].value);
	} else {
		if (good(s, TLSP_K_VERIFY_PEER) && r->verify_peer == TLSP_VERIFY_OPTIONAL)
			err(c, s->v[TLSP_K_VERIFY_PEER].line,
			    "verify_peer = optional is only valid in server rules");
		/* Security invariant 2 (DESIGN.md): no silent unauthenticated
		 * client rule. */
		if (verify_ok && r->verify_peer != TLSP_VERIFY_NONE && !present(s, TLSP_K_CA) &&
		    !present(s, TLSP_K_PIN))
			err(c, r->line, "client rule needs ca or pin, or verify_peer = none");
	}
}

static void build_rule(struct ctx *c, const struct tlsp_raw_section *raw, unsigned timeout_dflt,
		       tlsp_rule *r)
{
	struct sec s;
	int role;

	start(c, &s, raw);
	if ((r->name = strdup(raw->name)) == NULL) {
		c->oom = true;
		return;
	}
	r->line = raw->line;
	for (int k = 0; k < TLSP_K_COUNT; k++)
		r->key_line[k] = s.v[k].line;
	r->handshake_timeout = timeout_dflt;

	role = values(c, &s, r);
	if (role >= 0)
		combinations(c, &s, r, (enum tlsp_role)role);
	readable(c, &s, TLSP_K_CERT, r->cert);
	readable(c, &s, TLSP_K_KEY, r->key);
	readable(c, &s, TLSP_K_CA, r->ca);
}

int tlsp_build(const struct tlsp_raw *raw, const char *file, const char *abspath, tlsp_policy **out,
	       tlsp_errors *errs)
{
	struct ctx c = {.file = file, .errs = errs};
	tlsp_policy *p;
	size_t nrules = 0;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto oom;
	p->log_level = TLSP_LOG_WARN;
	p->log_sink = TLSP_LOG_STDERR;
	p->handshake_timeout = TLSP_DEFAULT_TIMEOUT;
	if ((p->path = strdup(abspath)) == NULL || (p->dir = tlsp_path_dir(abspath)) == NULL)
		goto oom;
	c.dir = p->dir;

	/* [global] first, wherever it is: rules inherit its timeout. */
	for (size_t i = 0; i < raw->nsec; i++) {
		if (raw->sec[i].global)
			build_global(&c, &raw->sec[i], p);
		else
			nrules++;
	}
	if (nrules > 0 && (p->rules = calloc(nrules, sizeof(*p->rules))) == NULL)
		goto oom;
	for (size_t i = 0; i < raw->nsec && !c.oom; i++) {
		if (!raw->sec[i].global)
			build_rule(&c, &raw->sec[i], p->handshake_timeout, &p->rules[p->nrules++]);
	}
	if (c.oom)
		goto oom;
	if (c.nerr > 0) {
		tlsp_free(p);
		return 0;
	}
	*out = p;
	return 0;
oom:
	tlsp_free(p);
	if (errs != NULL)
		errs->oom = true;
	errno = ENOMEM;
	return -1;
}
