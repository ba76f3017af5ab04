/*
 * export.c: an established connection as a versioned blob and back
 * (tls_export.h), for the shim's exec hand-over.
 */
#include "tls_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handshake.h"
#include "internal.h"

static const uint8_t MAGIC[4] = {'T', 'L', 'S', 'X'};

/* Flag bits of the blob. */
enum {
	F_RESUMED = 1u << 0,
	F_EMS = 1u << 1,
	F_SECURE_RENEG = 1u << 2,
	F_PEER_CERT = 1u << 3,
	F_PEER_VERIFIED = 1u << 4,
	F_PEER_CLOSED = 1u << 5,
	F_CLOSE_QUEUED = 1u << 6,
	F_CLOSE_WANTED = 1u << 7,
	F_ALL = (1u << 8) - 1,
};

#define IV_LEN  12 /* tls_aead.iv */
#define SUM_LEN 32 /* BLAKE2b-256 over everything before it */

void tls_config_digest(const tls_config *cfg, uint8_t out[32])
{
	crypto_generichash_state st;
	uint8_t head[4] = {cfg->role, cfg->verify, cfg->tickets, cfg->legacy_peers};
	uint8_t auth[32];
	uint64_t n[3] = {cfg->nsuites, cfg->ngroups, cfg->has_chain ? cfg->chain.n : 0};

	tls_config_auth_id(cfg, auth); /* verify mode, CA store, pins */
	crypto_generichash_init(&st, (const uint8_t *)"tlshim config digest", 20, 32);
	crypto_generichash_update(&st, head, sizeof head);
	crypto_generichash_update(&st, auth, sizeof auth);
	crypto_generichash_update(&st, (const uint8_t *)n, sizeof n);
	crypto_generichash_update(&st, (const uint8_t *)cfg->suites,
				  cfg->nsuites * sizeof cfg->suites[0]);
	crypto_generichash_update(&st, (const uint8_t *)cfg->groups,
				  cfg->ngroups * sizeof cfg->groups[0]);
	for (size_t i = 0; cfg->has_chain && i < cfg->chain.n; i++) {
		uint64_t l = cfg->chain.der_len[i];
		crypto_generichash_update(&st, (const uint8_t *)&l, sizeof l);
		crypto_generichash_update(&st, cfg->chain.der[i], cfg->chain.der_len[i]);
	}
	crypto_generichash_final(&st, out, 32);
}

bool tls_conn_untouched(const tls_conn *c)
{
	return c->role == TLS_ROLE_SERVER && c->hs && c->hs->step == 0 && c->hs->hdr_len == 0 &&
	       c->in_end == 0 && c->out_end == 0 && !c->established &&
	       atomic_load_explicit(&c->err, memory_order_acquire) == TLS_ERR_NONE;
}

void tls_export_free(uint8_t *p, size_t len)
{
	if (!p)
		return;
	sodium_memzero(p, len);
	free(p);
}

static void put_str(tls_wbuf *w, const char *s)
{
	size_t n = strlen(s);
	tls_wbuf_u16(w, (uint16_t)n);
	tls_wbuf_bytes(w, s, n);
}

static void put_side(tls_wbuf *w, const tls_aead *a)
{
	size_t kl = tls_aead_key_len(a->kind);
	tls_wbuf_u8(w, (uint8_t)kl);
	tls_wbuf_bytes(w, a->key, kl);
	tls_wbuf_bytes(w, a->iv, IV_LEN);
	tls_wbuf_u64(w, a->seq);
}

static void put_bytes32(tls_wbuf *w, const uint8_t *p, size_t n)
{
	tls_wbuf_u32(w, (uint32_t)n);
	if (n)
		tls_wbuf_bytes(w, p, n);
}

int tls_conn_export(const tls_conn *c, uint8_t **out, size_t *len, const char **why)
{
	*out = NULL;
	*len = 0;
	if (atomic_load_explicit(&c->err, memory_order_acquire) != TLS_ERR_NONE ||
	    __atomic_load_n(&c->alert_pending, __ATOMIC_ACQUIRE)) {
		*why = "the connection has failed";
		return -1;
	}
	if (!c->established || c->hs || !c->rd_on || !c->wr_on || !c->suite) {
		*why = "the TLS handshake has not finished";
		return -1;
	}
	/* Version 1 carries TLS 1.2 record state only: the import sets up
	 * both directions with tls_aead_init, whose nonces (RFC 5288 §3, RFC
	 * 7905 §2) and additional data differ from TLS 1.3's (RFC 8446
	 * §5.2-5.3). A 1.3 state would need a format version of its own. */
	if (c->rd.tls13 || c->wr.tls13) {
		*why = "TLS 1.3 connections cannot be handed over (the connection state format "
		       "carries TLS 1.2 only)";
		return -1;
	}
	size_t cin = c->in_end - c->in_start;
	size_t cout = c->out_end - c->out_start;
	size_t cap = 4 + 1 + 32 + 1 + 2 * 4 + 1 + 1 + TLS_HS_HEADER + 4 + 4 + 3 * 2 +
		     strlen(c->peer_subject) + strlen(c->server_name) + strlen(c->peer_ip) +
		     2 * (1 + tls_aead_key_len(c->suite->aead) + IV_LEN + 8) + 3 * 4 +
		     c->plain_len + cin + cout + SUM_LEN;
	uint8_t *p = malloc(cap);
	if (!p) {
		*why = "out of memory";
		return -1;
	}
	tls_wbuf w;
	tls_wbuf_init(&w, p, cap);
	tls_wbuf_bytes(&w, MAGIC, sizeof MAGIC);
	tls_wbuf_u8(&w, TLS_EXPORT_VERSION);
	uint8_t digest[32];
	tls_config_digest(c->cfg, digest);
	tls_wbuf_bytes(&w, digest, sizeof digest);
	tls_wbuf_u8(&w, c->role);
	tls_wbuf_u16(&w, c->suite->id);
	tls_wbuf_u16(&w, c->group);
	tls_wbuf_u16(&w, c->peer_sigscheme);
	unsigned flags =
		(c->resumed ? F_RESUMED : 0) | (c->ems ? F_EMS : 0) |
		(c->secure_reneg ? F_SECURE_RENEG : 0) | (c->peer_cert ? F_PEER_CERT : 0) |
		(c->peer_verified ? F_PEER_VERIFIED : 0) | (c->peer_closed ? F_PEER_CLOSED : 0) |
		(c->close_queued ? F_CLOSE_QUEUED : 0) | (c->close_wanted ? F_CLOSE_WANTED : 0);
	tls_wbuf_u16(&w, (uint16_t)flags);
	tls_wbuf_u8(&w, __atomic_load_n(&c->warn_pending, __ATOMIC_ACQUIRE));
	tls_wbuf_u8(&w, c->post_hdr_len);
	tls_wbuf_bytes(&w, c->post_hdr, TLS_HS_HEADER);
	tls_wbuf_u32(&w, c->post_skip);
	tls_wbuf_u32(&w, c->empty_records);
	put_str(&w, c->peer_subject);
	put_str(&w, c->server_name);
	put_str(&w, c->peer_ip);
	put_side(&w, &c->rd);
	put_side(&w, &c->wr);
	put_bytes32(&w, c->in ? c->in + c->plain_off : NULL, c->plain_len);
	put_bytes32(&w, c->in ? c->in + c->in_start : NULL, cin);
	put_bytes32(&w, c->out ? c->out + c->out_start : NULL, cout);
	uint8_t *sum = tls_wbuf_reserve(&w, SUM_LEN);
	if (sum)
		crypto_generichash(sum, SUM_LEN, p, cap - SUM_LEN, NULL, 0);
	if (!tls_wbuf_ok(&w) || w.len != cap) { /* unreachable: cap is exact */
		tls_export_free(p, cap);
		*why = "internal error sizing the state";
		return -1;
	}
	*out = p;
	*len = cap;
	return 0;
}

/* A u16-prefixed string into ${out} (${cap} bytes with the NUL); false
 * when it does not fit or holds a NUL. */
static bool get_str(tls_cur *r, char *out, size_t cap)
{
	size_t n = tls_cur_u16(r);
	const uint8_t *s = tls_cur_bytes(r, n);
	if (!s || n >= cap || memchr(s, 0, n))
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* One direction: key, IV, sequence number for ${kind}. */
static bool get_side(tls_cur *r, tls_aead *a, int kind, bool encrypt)
{
	uint8_t key[32], iv[IV_LEN];
	size_t kl = tls_cur_u8(r);
	bool ok = kl == tls_aead_key_len(kind) && kl <= sizeof key;
	if (ok)
		tls_cur_copy(r, key, kl);
	tls_cur_copy(r, iv, IV_LEN);
	uint64_t seq = tls_cur_u64(r);
	/* A fresh key's unused IV bytes are zero (tls_aead_init). */
	for (size_t i = tls_aead_fixed_iv_len(kind); ok && i < IV_LEN; i++)
		ok = iv[i] == 0;
	ok = ok && !r->bad && seq != UINT64_MAX && tls_aead_init(a, kind, key, iv, encrypt) == 0;
	if (ok)
		__atomic_store_n(&a->seq, seq, __ATOMIC_RELEASE); /* published (aead.h) */
	sodium_memzero(key, sizeof key);
	sodium_memzero(iv, sizeof iv);
	return ok;
}

static const uint8_t *get_bytes32(tls_cur *r, size_t max, size_t *n)
{
	uint32_t l = tls_cur_u32(r);
	*n = l;
	if (l > max) {
		r->bad = true;
		return NULL;
	}
	return l ? tls_cur_bytes(r, l) : (const uint8_t *)"";
}

#define REFUSE(...)                                         \
	do {                                                \
		if (err && errlen)                          \
			snprintf(err, errlen, __VA_ARGS__); \
		goto fail;                                  \
	} while (0)

tls_conn *tls_conn_import(tls_config *cfg, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	tls_cur r;
	tls_conn *c = NULL;
	tls_cur_init(&r, p, len);
	const uint8_t *magic = tls_cur_bytes(&r, sizeof MAGIC);
	if (!magic || memcmp(magic, MAGIC, sizeof MAGIC) != 0)
		REFUSE("not a tlshim connection state");
	uint8_t version = tls_cur_u8(&r);
	if (r.bad)
		REFUSE("connection state truncated");
	if (version != TLS_EXPORT_VERSION)
		REFUSE("connection state of version %u (this build reads %u)", version,
		       TLS_EXPORT_VERSION);
	/* A damaged blob (a bug, not an attack: whoever can write it holds
	 * the keys anyway) is refused as a whole, before any field is used. */
	uint8_t sum[SUM_LEN];
	if (len < SUM_LEN + 5 || (crypto_generichash(sum, SUM_LEN, p, len - SUM_LEN, NULL, 0),
				  sodium_memcmp(sum, p + len - SUM_LEN, SUM_LEN) != 0))
		REFUSE("connection state truncated or garbled (checksum)");
	tls_cur_init(&r, p, len - SUM_LEN);
	tls_cur_bytes(&r, sizeof MAGIC + 1);
	uint8_t digest[32], mine[32];
	tls_cur_copy(&r, digest, sizeof digest);
	tls_config_digest(cfg, mine);
	if (r.bad)
		REFUSE("connection state truncated");
	if (sodium_memcmp(digest, mine, sizeof mine) != 0)
		REFUSE("connection state made under another configuration (the rule's "
		       "certificate, trust anchors or settings differ)");
	uint8_t role = tls_cur_u8(&r);
	const tls_suite *suite = tls_suite_by_id(tls_cur_u16(&r));
	uint16_t group = tls_cur_u16(&r);
	uint16_t sigscheme = tls_cur_u16(&r);
	unsigned flags = tls_cur_u16(&r);
	uint8_t warn = tls_cur_u8(&r);
	uint8_t post_hdr_len = tls_cur_u8(&r);
	uint8_t post_hdr[TLS_HS_HEADER];
	tls_cur_copy(&r, post_hdr, sizeof post_hdr);
	uint32_t post_skip = tls_cur_u32(&r);
	uint32_t empty = tls_cur_u32(&r);
	if (r.bad)
		REFUSE("connection state truncated");
	if (role != cfg->role || !suite || (flags & ~(unsigned)F_ALL) ||
	    post_hdr_len >= TLS_HS_HEADER || post_skip > (1u << 24) || empty > 1000 ||
	    (group && !tls_group_by_id(group)))
		REFUSE("connection state inconsistent (role, suite or record state)");
	c = tls_conn_new(cfg, NULL, NULL);
	if (!c)
		REFUSE("out of memory");
	tls_hs_free(c); /* the handshake happened in the other image */
	c->started = true;
	c->established = true;
	c->suite = suite;
	c->group = group;
	c->peer_sigscheme = sigscheme;
	c->resumed = flags & F_RESUMED;
	c->ems = flags & F_EMS;
	c->secure_reneg = flags & F_SECURE_RENEG;
	c->peer_cert = flags & F_PEER_CERT;
	c->peer_verified = flags & F_PEER_VERIFIED;
	c->peer_closed = flags & F_PEER_CLOSED;
	c->close_queued = flags & F_CLOSE_QUEUED;
	c->close_wanted = flags & F_CLOSE_WANTED;
	c->warn_pending = warn;
	c->post_hdr_len = post_hdr_len;
	memcpy(c->post_hdr, post_hdr, sizeof post_hdr);
	c->post_skip = post_skip;
	c->empty_records = empty;
	if (!get_str(&r, c->peer_subject, sizeof c->peer_subject) ||
	    !get_str(&r, c->server_name, sizeof c->server_name) ||
	    !get_str(&r, c->peer_ip, sizeof c->peer_ip))
		REFUSE("connection state truncated or garbled (names)");
	if (!get_side(&r, &c->rd, suite->aead, false) || !get_side(&r, &c->wr, suite->aead, true))
		REFUSE("connection state truncated or garbled (keys)");
	c->rd_on = c->wr_on = true;
	size_t np, ncin, ncout;
	const uint8_t *plain = get_bytes32(&r, TLS_MAX_PLAINTEXT, &np);
	const uint8_t *cin = get_bytes32(&r, c->in_cap, &ncin);
	const uint8_t *cout = get_bytes32(&r, 4 * TLS_MAX_HS_MESSAGE, &ncout);
	if (r.bad || !plain || !cin || !cout)
		REFUSE("connection state truncated or garbled (buffers)");
	if (!tls_cur_done(&r))
		REFUSE("connection state has %zu trailing bytes", tls_cur_remaining(&r));
	if (np + ncin > c->in_cap)
		REFUSE("connection state inconsistent (input buffers)");
	/* The plaintext window, then the ciphertext behind it (record.c's
	 * layout: the window lies before in_start). */
	memcpy(c->in, plain, np);
	memcpy(c->in + np, cin, ncin);
	c->plain_off = 0;
	c->plain_len = np;
	c->in_start = np;
	c->in_end = np + ncin;
	if (ncout > c->out_cap) {
		uint8_t *o = realloc(c->out, ncout);
		if (!o)
			REFUSE("out of memory");
		c->out = o;
		c->out_cap = ncout;
	}
	memcpy(c->out, cout, ncout);
	c->out_start = 0;
	c->out_end = ncout;
	sodium_memzero(digest, sizeof digest);
	return c;
fail:
	tls_conn_free(c);
	return NULL;
}
