/*
 * rules_cache.c: a rule's client session cache (rules_cache.h): a small
 * array searched in full (SHIM_SESSION_CACHE entries), under the rule's
 * cache_lock, which is held only for a copy or a reference.
 */
#include "rules_cache.h"

#include <stdio.h>
#include <string.h>

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

void shim_rule_session_put(shim_rule *r, unsigned gen, const char *peer, tls_session *s)
{
	pthread_mutex_lock(&r->cache_lock);
	/* The reload bumps gen before it empties the cache under this lock:
	 * a session of the old configuration is either refused here or
	 * emptied out after. */
	if (gen != __atomic_load_n(&r->gen, __ATOMIC_RELAXED)) {
		pthread_mutex_unlock(&r->cache_lock);
		return;
	}
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

void shim_rule_sessions_flush(shim_rule *r)
{
	pthread_mutex_lock(&r->cache_lock);
	for (size_t i = 0; i < SHIM_SESSION_CACHE; i++) {
		tls_session_unref(r->cache[i].s);
		r->cache[i].s = NULL;
		r->cache[i].used = 0;
	}
	pthread_mutex_unlock(&r->cache_lock);
}

void shim_rule_sessions_free(shim_rule *r)
{
	for (size_t i = 0; i < SHIM_SESSION_CACHE; i++) {
		tls_session_unref(r->cache[i].s);
		r->cache[i].s = NULL;
	}
}
