/*
 * rules.h: the loaded policy as the hooks use it: per rule, the engine
 * configuration built from the policy file (config/) plus the few facts a
 * hook needs at once. Three files keep it, one job each:
 *
 *   rules.c         reading the policy and building every rule's engine
 *                   configuration from it (certificate, key and CA files);
 *                   matching connections to rules
 *   rules_reload.c  watching a rule's files and rebuilding its
 *                   configuration when they change (rules_reload.h)
 *   rules_cache.c   the client sessions a rule keeps for resumption
 *                   (rules_cache.h)
 *
 * This header includes the other two, so a hook includes only this one.
 */
#ifndef TLSHIM_SHIM_RULES_H
#define TLSHIM_SHIM_RULES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "tls.h"

#define SHIM_SESSION_CACHE 16

struct tlsp_policy;
struct tlsp_rule;

/* The files a rule's configuration is built from, watched for reload. */
enum { SHIM_FILE_CERT, SHIM_FILE_KEY, SHIM_FILE_CA, SHIM_RULE_FILES };

/* What a file was (stat): a replaced or rewritten file differs in one of
 * these. present = false: not configured, or stat/open failed. */
typedef struct shim_fileid {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
} shim_fileid;

typedef struct shim_rule {
	char name[64];
	bool client;
	bool plaintext_allow; /* server: plaintext = allow */
	bool verify_none;     /* client: verify_peer = none (warned per connection) */
	bool alpn;            /* the rule names ALPN protocols (shown in the log line) */
	unsigned handshake_timeout;
	char server_name[256]; /* client: SNI and the name checked */
	/* The current configuration: replaced when its files change on disk
	 * (shim_rule_config); read and referenced only under cfg_lock. gen
	 * counts the replacements. */
	tls_config *cfg;
	unsigned gen;
	pthread_mutex_t cfg_lock;
	/* Reload state (rules_reload.c). next_check_us and reloading are
	 * atomic; the rest belongs to the one thread that set reloading. */
	const struct tlsp_rule *src; /* the policy rule it was built from */
	bool watch;                  /* it names a cert, key or ca file */
	uint64_t next_check_us;      /* monotonic: no stat before this */
	bool reloading;
	shim_fileid loaded[SHIM_RULE_FILES]; /* the files cfg was built from */
	shim_fileid failed[SHIM_RULE_FILES]; /* files a rebuild failed on (warned) */
	bool failed_set;
	/* Client sessions (rules_cache.c), under cache_lock. */
	pthread_mutex_t cache_lock;
	struct {
		char peer[64];
		tls_session *s;
		uint64_t used;
	} cache[SHIM_SESSION_CACHE];
	uint64_t cache_tick;
} shim_rule;

/* shim_rules_load(path, errors): read and validate the policy at ${path},
 * build every rule's engine configuration (reading certificates, keys and
 * CA bundles), and make it the active policy. Every problem is printed to
 * ${errors} as "FILE:LINE: reason"; returns 0, or -1 when the policy is
 * invalid (nothing becomes active). */
int shim_rules_load(const char *path, FILE *errors);

/* shim_rules_check(path, errors): the same validation without opening the
 * log or key log files (for `tlshim --check` and the wrapper), leaving the
 * policy loaded for shim_rules_print. */
int shim_rules_check(const char *path, FILE *errors);

/* shim_rules_print(out): the effective rules, one line each, with
 * shim_rules_note's facts at the end. */
void shim_rules_print(FILE *out);
/* shim_rules_note(r, arg, buf, len): a tlsp_note_fn: " effective_versions=V"
 * (V "1.2", "1.2-1.3", "1.3" or "none"): the versions of ${r}'s
 * min_version..max_version the engine negotiates. ${arg} is unused. */
void shim_rules_note(const struct tlsp_rule *r, void *arg, char *buf, size_t len);

/* shim_rules_policy(): the loaded policy as config/ parsed it (what
 * `tlshim --which` explains), or NULL. */
const struct tlsp_policy *shim_rules_policy(void);

/* shim_rules_path(): the absolute path of the loaded policy, or NULL. */
const char *shim_rules_path(void);

/* shim_rules_active(): a policy is loaded (otherwise the shim is inert). */
bool shim_rules_active(void);

/* shim_match_client(addr, len): the first client rule for a TCP connect()
 * to ${addr}, or NULL. shim_match_server(port): the first server rule for
 * connections accepted on local ${port}, or NULL. */
shim_rule *shim_match_client(const struct sockaddr *addr, socklen_t len);
shim_rule *shim_match_server(uint16_t port);

/* ---- between rules.c and rules_reload.c ---------------------------------- */

/* Where the problems of one build go: to ${errors} as "FILE:LINE: reason"
 * (${file} is the policy path as the user gave it); without ${errors} (a
 * reload) the first one is kept in ${first} for the log. ${count} counts
 * them. */
typedef struct shim_build {
	const char *file;
	FILE *errors;
	int count;
	char first[512];
} shim_build;

/* shim_build_config(b, r, ids): ${r}'s engine configuration from its files,
 * with the identity of each file read in ${ids}; every problem is reported
 * to ${b} (the configuration is returned even then, for the caller to
 * drop). The same code loads the policy and reloads a rule. */
tls_config *shim_build_config(shim_build *b, const struct tlsp_rule *r, shim_fileid *ids);

/* shim_rule_file(r, i): the path of ${r}'s SHIM_FILE_${i}, or NULL. */
const char *shim_rule_file(const struct tlsp_rule *r, int i);

#include "rules_cache.h"
#include "rules_reload.h"

#endif
