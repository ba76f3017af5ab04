/*
 * rules.h: the loaded policy as the hooks use it: per rule, the engine
 * configuration built from the policy file (config/) plus the few facts a
 * hook needs at once, and a small cache of client sessions for resumption.
 */
#ifndef TLSHIM_SHIM_RULES_H
#define TLSHIM_SHIM_RULES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "tls.h"

#define SHIM_SESSION_CACHE 16

typedef struct shim_rule {
	char name[64];
	bool client;
	bool plaintext_allow; /* server: plaintext = allow */
	bool verify_none;     /* client: verify_peer = none (warned per connection) */
	unsigned handshake_timeout;
	char server_name[256]; /* client: SNI and the name checked */
	tls_config *cfg;
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

/* shim_rules_print(out): the effective rules, one line each. */
void shim_rules_print(FILE *out);

/* shim_rules_path(): the absolute path of the loaded policy, or NULL. */
const char *shim_rules_path(void);

/* shim_rules_active(): a policy is loaded (otherwise the shim is inert). */
bool shim_rules_active(void);

/* shim_match_client(addr, len): the first client rule for a TCP connect()
 * to ${addr}, or NULL. shim_match_server(port): the first server rule for
 * connections accepted on local ${port}, or NULL. */
shim_rule *shim_match_client(const struct sockaddr *addr, socklen_t len);
shim_rule *shim_match_server(uint16_t port);

/* Client session cache, keyed by the peer "addr:port": get returns a new
 * reference or NULL; put stores a reference (replacing the least recently
 * used entry). */
tls_session *shim_rule_session_get(shim_rule *r, const char *peer);
void shim_rule_session_put(shim_rule *r, const char *peer, tls_session *s);

#endif
