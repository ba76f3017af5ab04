/*
 * rules_reload.c: watching a rule's certificate, key and CA files and
 * rebuilding its engine configuration when they change (rules_reload.h).
 * The check costs one atomic load per connection; at most one thread per
 * rule and second stats the files.
 */
#include "rules_reload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policy.h"

#define RELOAD_CHECK_US 1000000u /* a rule's files are looked at once a second at most */

void shim_fileid_of(shim_fileid *id, const struct stat *st)
{
	*id = (shim_fileid){.present = true,
			    .dev = st->st_dev,
			    .ino = st->st_ino,
			    .size = st->st_size,
			    .mtim = st->st_mtim,
			    .ctim = st->st_ctim};
}

bool shim_fileid_same(const shim_fileid *a, const shim_fileid *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
		a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec);
}

/* changed_list(r, now, out, len): "cert PATH, key PATH" for the files whose
 * identity ${now} differs from the loaded one. */
static void changed_list(const shim_rule *r, const shim_fileid *now, char *out, size_t len)
{
	static const char *const what[SHIM_RULE_FILES] = {"cert", "key", "ca"};
	size_t off = 0;
	out[0] = 0;
	for (int i = 0; i < SHIM_RULE_FILES; i++) {
		const char *path = shim_rule_file(r->src, i);
		if (!path || shim_fileid_same(&now[i], &r->loaded[i]) || off >= len)
			continue;
		int w = snprintf(out + off, len - off, "%s%s %s", off ? ", " : "", what[i], path);
		off += w > 0 ? (size_t)w : 0;
	}
}

/* rebuild(r, now): the files differ from those ${r}'s configuration was
 * built from (${now} is what stat says they are): build a new one and
 * publish it, or keep the old one and say why. */
static void rebuild(shim_rule *r, const shim_fileid *now)
{
	const tlsp_rule *src = r->src;
	shim_build b = {.file = shim_rules_path()};
	shim_fileid ids[SHIM_RULE_FILES];
	char changed[1024];
	changed_list(r, now, changed, sizeof changed);
	tls_config *cfg = shim_build_config(&b, src, ids);
	if (b.count > 0) {
		tls_config_unref(cfg);
		bool same = r->failed_set;
		for (int i = 0; same && i < SHIM_RULE_FILES; i++)
			same = shim_fileid_same(&now[i], &r->failed[i]);
		if (!same)
			shim_log(SHIM_LOG_WARN,
				 "rule %s: %s changed on disk but cannot be used: %s; keeping the "
				 "previous configuration (tried again at the next connection)",
				 r->name, changed, b.first);
		memcpy(r->failed, now, sizeof r->failed);
		r->failed_set = true;
		return;
	}
	/* Tickets say who the client was, checked against the CA bundle of
	 * their day: they outlive a new certificate, not a new client CA. */
	bool ca_changed = !shim_fileid_same(&ids[SHIM_FILE_CA], &r->loaded[SHIM_FILE_CA]);
	bool keep_tickets = !r->client && src->session_tickets &&
			    (!ca_changed || src->verify_peer == TLSP_VERIFY_NONE);
	pthread_mutex_lock(&r->cfg_lock);
	tls_config *old = r->cfg;
	if (keep_tickets)
		tls_config_share_tickets(cfg, old);
	r->cfg = cfg;
	__atomic_store_n(&r->gen, r->gen + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&r->cfg_lock);
	tls_config_unref(old); /* open connections hold their own references */
	memcpy(r->loaded, ids, sizeof r->loaded);
	r->failed_set = false;
	/* A cached session was authenticated under the old CA bundle or made
	 * with the old client certificate. */
	if (r->client)
		shim_rule_sessions_flush(r);
	shim_log(SHIM_LOG_WARN, "rule %s: reloaded %s (changed on disk)", r->name, changed);
	if (!r->client && src->session_tickets && !keep_tickets)
		shim_log(SHIM_LOG_INFO,
			 "rule %s: new client CA: session tickets issued before are no longer "
			 "accepted",
			 r->name);
}

/* check_files(r): compare ${r}'s files with those it was built from. */
static void check_files(shim_rule *r)
{
	shim_fileid now[SHIM_RULE_FILES] = {{0}};
	bool changed = false;
	for (int i = 0; i < SHIM_RULE_FILES; i++) {
		const char *path = shim_rule_file(r->src, i);
		struct stat st;
		if (path && stat(path, &st) == 0)
			shim_fileid_of(&now[i], &st);
		if (path && !shim_fileid_same(&now[i], &r->loaded[i]))
			changed = true;
	}
	if (changed)
		rebuild(r, now);
	else
		r->failed_set = false; /* back to what is loaded: a new failure warns again */
}

tls_config *shim_rule_config(shim_rule *r, uint64_t now_us, unsigned *gen)
{
	/* One thread per rule and second gets past the compare-exchange;
	 * every other connection only pays the atomic load. */
	uint64_t next = __atomic_load_n(&r->next_check_us, __ATOMIC_RELAXED);
	if (r->watch && now_us >= next &&
	    __atomic_compare_exchange_n(&r->next_check_us, &next, now_us + RELOAD_CHECK_US, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&r->reloading, true, __ATOMIC_ACQUIRE)) {
		int saved = errno;
		check_files(r);
		__atomic_store_n(&r->reloading, false, __ATOMIC_RELEASE);
		errno = saved;
	}
	pthread_mutex_lock(&r->cfg_lock);
	tls_config *cfg = tls_config_ref(r->cfg);
	*gen = r->gen;
	pthread_mutex_unlock(&r->cfg_lock);
	return cfg;
}
