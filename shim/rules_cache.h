/*
 * rules_cache.h: the client sessions a rule keeps for resumption
 * (rules_cache.c), keyed by the peer "addr:port", at most
 * SHIM_SESSION_CACHE per rule (the least recently used goes).
 */
#ifndef TLSHIM_SHIM_RULES_CACHE_H
#define TLSHIM_SHIM_RULES_CACHE_H

#include "rules.h"

/* shim_rule_session_get(r, peer): a new reference to the session cached for
 * ${peer}, or NULL. */
tls_session *shim_rule_session_get(shim_rule *r, const char *peer);

/* shim_rule_session_put(r, gen, peer, s): store a reference to ${s}
 * (replacing ${peer}'s entry, else the least recently used one), made by a
 * connection on configuration generation ${gen}, unless the configuration
 * was replaced since (a session authenticated under an old CA bundle or
 * client certificate is not resumed under the new one; a reload empties
 * the cache). */
void shim_rule_session_put(shim_rule *r, unsigned gen, const char *peer, tls_session *s);

/* shim_rule_sessions_flush(r): drop every cached session of ${r} (a reload,
 * after it bumped r->gen). */
void shim_rule_sessions_flush(shim_rule *r);

/* shim_rule_sessions_free(r): drop every cached session without locking,
 * for a rule nobody else can see (a policy that failed to load). */
void shim_rule_sessions_free(shim_rule *r);

#endif
