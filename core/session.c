/*
 * session.c: reference-counted sessions and the server's ticket key ring.
 *
 * A ticket is our variant of the RFC 5077 §4 recommended format:
 *   key_name[16] || nonce[12] || AES-256-GCM(state) || tag[16]
 * with the key name as additional data. GCM replaces the RFC's
 * AES-CBC + HMAC pair; the tag is what authenticates the ticket, so the key
 * name is only a hint for which key to try.
 */
#include "session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "cursor.h"
#include "rand.h"
#include "secret_pool.h"
#include "tls.h"

#define TICKET_NAME_LEN  16
#define TICKET_NONCE_LEN 12
#define TICKET_TAG_LEN   16
#define TICKET_OVERHEAD  (TICKET_NAME_LEN + TICKET_NONCE_LEN + TICKET_TAG_LEN)
#define TICKET_VERSION   2    /* 2: not_after added */
#define TICKET_SKEW      60u  /* seconds a ticket may come from the future */
#define TICKET_SUBJECT   255u /* longest peer_subject stored */
/* Largest encoded state: every fixed field plus both strings at full length. */
#define TICKET_STATE_MAX (1 + 2 + 1 + 48 + 1 + 255 + 1 + 32 + 2 + TICKET_SUBJECT + 8 + 4 + 8)

struct ticket_key {
	uint8_t name[TICKET_NAME_LEN];
	uint8_t key[32];
	uint64_t born;
	bool valid;
};

enum { KEY_CURRENT, KEY_PREVIOUS };

struct tls_ticket_keys {
	int refs; /* atomic: configs sharing the ring (tls_config_share_tickets) */
	pthread_mutex_t lock;
	uint32_t period;
	struct ticket_key *k;         /* [KEY_CURRENT], [KEY_PREVIOUS]; sodium_malloc */
	tls_ticket_keys *prev, *next; /* in the list of rings (under rings_lock) */
};

/* Every live ring, so that fork can take all their locks (tls.h "fork").
 * Lock order: rings_lock, then a ring's lock; nothing takes rings_lock
 * while holding a ring's lock. */
static pthread_mutex_t rings_lock = PTHREAD_MUTEX_INITIALIZER;
static tls_ticket_keys *rings;

tls_session *tls_session_new(void)
{
	tls_session *s;

	if (!tls_sodium_ready())
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	/* A pool slot, not sodium_malloc: guarded and locked the same, without
	 * seven system calls per session (secret_pool.h). */
	if ((s->master = tls_secret_alloc()) == NULL) {
		free(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

tls_session *tls_session_ref(tls_session *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void tls_session_unref(tls_session *s)
{
	if (s == NULL)
		return;
	/* Acquire-release so the thread that frees sees every write made by
	 * the threads that dropped their references before it. */
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (s->ticket != NULL) {
		sodium_memzero(s->ticket, s->ticket_len);
		free(s->ticket);
	}
	tls_secret_free(s->master); /* wipes */
	sodium_memzero(s, sizeof(*s));
	free(s);
}

bool tls_session_resumable(const tls_session *s, const uint8_t config_id[32],
			   const char *server_name, const char *peer_ip, uint64_t now)
{
	uint64_t limit;

	if (s == NULL || s->ticket == NULL || s->ticket_len == 0 || !s->ems || s->master == NULL)
		return false;
	/* Made under another CA, pin set or verify mode: a session made with
	 * verify_peer = none must never stand in for a verified one. */
	if (sodium_memcmp(s->config_id, config_id, sizeof(s->config_id)) != 0)
		return false;
	if (strncmp(s->server_name, server_name, sizeof(s->server_name)) != 0)
		return false;
	if (server_name[0] == '\0' && strncmp(s->peer_ip, peer_ip, sizeof(s->peer_ip)) != 0)
		return false;
	limit = s->lifetime == 0 ? TLS_SESSION_DEFAULT_LIFETIME : s->lifetime;
	if (limit > TLS_SESSION_MAX_LIFETIME)
		limit = TLS_SESSION_MAX_LIFETIME;
	if (now < s->created || now - s->created >= limit)
		return false;
	return s->not_after == 0 || now <= s->not_after;
}

/* new_key(k, now): a fresh random key born at ${now}. */
static void new_key(struct ticket_key *k, uint64_t now)
{
	randombytes_buf(k->name, sizeof(k->name));
	randombytes_buf(k->key, sizeof(k->key));
	k->born = now;
	k->valid = true;
}

tls_ticket_keys *tls_ticket_keys_new(uint32_t period, uint64_t now)
{
	tls_ticket_keys *r;

	if (period == 0 || !tls_sodium_ready())
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	/* sodium_allocarray: mlocked, guarded, excluded from core dumps where
	 * the OS allows (DESIGN.md security invariant 4). */
	if ((r->k = sodium_allocarray(2, sizeof(struct ticket_key))) == NULL)
		goto fail;
	sodium_memzero(r->k, 2 * sizeof(struct ticket_key));
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		goto fail;
	r->refs = 1;
	r->period = period;
	new_key(&r->k[KEY_CURRENT], now);
	pthread_mutex_lock(&rings_lock);
	r->next = rings;
	if (rings)
		rings->prev = r;
	rings = r;
	pthread_mutex_unlock(&rings_lock);
	return r;
fail:
	sodium_free(r->k);
	free(r);
	return NULL;
}

tls_ticket_keys *tls_ticket_keys_ref(tls_ticket_keys *r)
{
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	return r;
}

void tls_ticket_keys_free(tls_ticket_keys *r)
{
	if (r == NULL || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pthread_mutex_lock(&rings_lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		rings = r->next;
	if (r->next)
		r->next->prev = r->prev;
	pthread_mutex_unlock(&rings_lock);
	pthread_mutex_destroy(&r->lock);
	sodium_free(r->k); /* wipes */
	free(r);
}

void tls_ticket_keys_atfork_prepare(void)
{
	pthread_mutex_lock(&rings_lock);
	for (tls_ticket_keys *r = rings; r; r = r->next)
		pthread_mutex_lock(&r->lock);
}

/* release(): undo tls_ticket_keys_atfork_prepare, in either process. */
static void release(void)
{
	for (tls_ticket_keys *r = rings; r; r = r->next)
		pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&rings_lock);
}

void tls_ticket_keys_atfork_parent(void)
{
	release();
}

void tls_ticket_keys_atfork_child(void)
{
	release();
}

uint32_t tls_ticket_keys_period(const tls_ticket_keys *r)
{
	return r->period;
}

/* rotate(r, now): with the lock held. The current key is retired to
 * previous once a period has passed. When the ring sat idle for two periods
 * the retired key is already too old to keep, so nothing survives: a ticket
 * is never accepted beyond 2 * period after its key was made. */
static void rotate(tls_ticket_keys *r, uint64_t now)
{
	struct ticket_key *cur = &r->k[KEY_CURRENT], *prev = &r->k[KEY_PREVIOUS];

	if (now < cur->born + r->period)
		return;
	if (now < cur->born + 2 * (uint64_t)r->period)
		*prev = *cur;
	else
		sodium_memzero(prev, sizeof(*prev));
	new_key(cur, now);
}

/* encode(w, s, room): the session state; peer_subject is only for logs, so
 * it is cut to fit ${room} bytes (and 255) rather than failing the seal. */
static void encode(tls_wbuf *w, const tls_session *s, size_t room)
{
	size_t sn = strnlen(s->server_name, sizeof(s->server_name));
	size_t full = strnlen(s->peer_subject, sizeof(s->peer_subject));
	size_t subj = full;
	size_t fixed = 1 + 2 + 1 + 48 + 1 + sn + 1 + 32 + 2 + 8 + 4 + 8;

	if (sn > 255) {
		w->bad = true; /* not a C string: never cut a name silently */
		return;
	}
	if (subj > TICKET_SUBJECT)
		subj = TICKET_SUBJECT;
	if (fixed + subj > room)
		subj = room > fixed ? room - fixed : 0;
	/* Do not cut a UTF-8 sequence in half. */
	while (subj > 0 && subj < full && ((uint8_t)s->peer_subject[subj] & 0xc0) == 0x80)
		subj--;

	tls_wbuf_u8(w, TICKET_VERSION);
	tls_wbuf_u16(w, s->suite);
	tls_wbuf_u8(w, s->ems ? 1 : 0);
	tls_wbuf_bytes(w, s->master, 48);
	tls_wbuf_u8(w, (uint8_t)sn);
	tls_wbuf_bytes(w, s->server_name, sn);
	tls_wbuf_u8(w, s->has_peer ? 1 : 0);
	tls_wbuf_bytes(w, s->peer_spki, sizeof(s->peer_spki));
	tls_wbuf_u16(w, (uint16_t)subj);
	tls_wbuf_bytes(w, s->peer_subject, subj);
	tls_wbuf_u64(w, s->created);
	tls_wbuf_u32(w, s->lifetime);
	tls_wbuf_u64(w, s->not_after);
}

/* gcm(enc, key, nonce, aad, in, n, out, tag): AES-256-GCM over ${n} bytes;
 * on decryption ${tag} is checked. 0 or -1. */
static int gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
	       const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	int len, ok = 0;

	if (n > INT32_MAX || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, TICKET_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &len, aad, TICKET_NAME_LEN) != 1 ||
	    EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TICKET_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TICKET_TAG_LEN, tag) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	return ok ? 0 : -1;
}

int tls_ticket_seal(tls_ticket_keys *r, uint64_t now, const tls_session *s, uint8_t *out,
		    size_t cap, size_t *len)
{
	uint8_t pt[TICKET_STATE_MAX];
	uint8_t key[32];
	tls_wbuf w;
	int rc = -1;

	if (s->master == NULL || cap < TICKET_OVERHEAD)
		return -1;
	tls_wbuf_init(&w, pt, sizeof(pt));
	encode(&w, s, cap - TICKET_OVERHEAD);
	if (!tls_wbuf_ok(&w) || w.len + TICKET_OVERHEAD > cap)
		goto out;

	pthread_mutex_lock(&r->lock);
	rotate(r, now);
	memcpy(out, r->k[KEY_CURRENT].name, TICKET_NAME_LEN);
	memcpy(key, r->k[KEY_CURRENT].key, sizeof(key));
	pthread_mutex_unlock(&r->lock);

	/* A random 96-bit nonce per ticket: a key seals at most a period's
	 * tickets, far below the 2^32 messages NIST SP 800-38D §8.3 allows. */
	randombytes_buf(out + TICKET_NAME_LEN, TICKET_NONCE_LEN);
	if (gcm(1, key, out + TICKET_NAME_LEN, out, pt, w.len,
		out + TICKET_NAME_LEN + TICKET_NONCE_LEN,
		out + TICKET_NAME_LEN + TICKET_NONCE_LEN + w.len) < 0)
		goto out;
	*len = w.len + TICKET_OVERHEAD;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(pt, sizeof(pt));
	return rc;
}

/* find_key(r, now, name, key): copy the key called ${name} (current or
 * previous, after rotation) to ${key}. 0 or -1. */
static int find_key(tls_ticket_keys *r, uint64_t now, const uint8_t *name, uint8_t *key)
{
	int rc = -1;

	pthread_mutex_lock(&r->lock);
	rotate(r, now);
	for (int i = KEY_CURRENT; i <= KEY_PREVIOUS; i++) {
		if (r->k[i].valid && memcmp(r->k[i].name, name, TICKET_NAME_LEN) == 0) {
			memcpy(key, r->k[i].key, 32);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* flag(c): a boolean byte, strictly 0 or 1. */
static bool flag(tls_cur *c)
{
	uint8_t v = tls_cur_u8(c);

	if (v > 1)
		c->bad = true;
	return v == 1;
}

/* string(c, len_bytes, out, max): a length-prefixed string without NULs into
 * ${out} (${max} bytes with the terminator). */
static void string(tls_cur *c, int len_bytes, char *out, size_t max)
{
	tls_cur b = tls_cur_block(c, len_bytes);
	size_t n = tls_cur_remaining(&b);
	const uint8_t *p;

	if (n >= max) {
		c->bad = true;
		return;
	}
	if ((p = tls_cur_bytes(&b, n)) == NULL)
		return;
	if (memchr(p, 0, n) != NULL) {
		c->bad = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* decode(pt, n, now): the session in the state ${pt}, if well formed and
 * live at ${now}; NULL otherwise. */
static tls_session *decode(const uint8_t *pt, size_t n, uint64_t now)
{
	tls_session *s;
	tls_cur c;

	if ((s = tls_session_new()) == NULL)
		return NULL;
	tls_cur_init(&c, pt, n);
	if (tls_cur_u8(&c) != TICKET_VERSION)
		goto fail;
	s->suite = tls_cur_u16(&c);
	s->ems = flag(&c);
	tls_cur_copy(&c, s->master, 48);
	string(&c, 1, s->server_name, sizeof(s->server_name));
	s->has_peer = flag(&c);
	tls_cur_copy(&c, s->peer_spki, sizeof(s->peer_spki));
	string(&c, 2, s->peer_subject, TICKET_SUBJECT + 1);
	s->created = tls_cur_u64(&c);
	s->lifetime = tls_cur_u32(&c);
	s->not_after = tls_cur_u64(&c);
	if (!tls_cur_done(&c))
		goto fail;
	/* The client certificate it vouches for has expired. */
	if (s->not_after != 0 && now > s->not_after)
		goto fail;
	/* RFC 5077 §4: the server checks the ticket's age itself; the client's
	 * lifetime hint is advisory only. */
	if (s->created > now + TICKET_SKEW)
		goto fail;
	if (now > s->created && now - s->created > s->lifetime)
		goto fail;
	return s;
fail:
	tls_session_unref(s);
	return NULL;
}

tls_session *tls_ticket_open(tls_ticket_keys *r, uint64_t now, const uint8_t *in, size_t len)
{
	uint8_t pt[TICKET_STATE_MAX];
	uint8_t key[32];
	uint8_t tag[TICKET_TAG_LEN];
	tls_session *s = NULL;
	size_t n;

	if (len < TICKET_OVERHEAD || len - TICKET_OVERHEAD > sizeof(pt))
		return NULL;
	n = len - TICKET_OVERHEAD;
	if (find_key(r, now, in, key) < 0)
		goto out;
	/* EVP wants a writable tag buffer. */
	memcpy(tag, in + TICKET_NAME_LEN + TICKET_NONCE_LEN + n, sizeof(tag));
	if (gcm(0, key, in + TICKET_NAME_LEN, in, in + TICKET_NAME_LEN + TICKET_NONCE_LEN, n, pt,
		tag) < 0)
		goto out;
	s = decode(pt, n, now);
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(pt, sizeof(pt));
	return s;
}
