#include "hostile.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "consts.h"
#include "internal.h"

/* A tripwire: hostile_clone copies every pointer field of these two
 * structures by hand. When a field is added, these sizes change; check
 * whether the new field owns memory (then copy it in clone_hs/hostile_clone)
 * and update the numbers. */
_Static_assert(sizeof(struct tls_conn) == 1128, "tls_conn changed: review hostile_clone");
_Static_assert(sizeof(tls_hs) == 696, "tls_hs changed: review hostile_clone");

/* dup_mem(p, cap, used): a ${cap}-byte copy of ${p} of which only the
 * first ${used} bytes matter (the rest is not copied). */
static void *dup_mem(const void *p, size_t cap, size_t used)
{
	if (!p)
		return NULL;
	void *q = malloc(cap ? cap : 1);
	if (q)
		memcpy(q, p, used < cap ? used : cap);
	return q;
}

static int clone_aead(tls_aead *dst, const tls_aead *src)
{
	*dst = *src;
	dst->ctx = NULL;
	if (!src->ctx)
		return 0;
	dst->ctx = EVP_CIPHER_CTX_new();
	return dst->ctx && EVP_CIPHER_CTX_copy(dst->ctx, src->ctx) == 1 ? 0 : -1;
}

static tls_hs *clone_hs(const tls_hs *s)
{
	tls_hs *h = malloc(sizeof *h);
	if (!h)
		return NULL;
	*h = *s;
	if (s->kx.priv)
		EVP_PKEY_up_ref(s->kx.priv);
	h->peer_chain = s->peer_chain ? X509_chain_up_ref(s->peer_chain) : NULL;
	if (s->peer_key)
		EVP_PKEY_up_ref(s->peer_key);
	if (s->resume)
		tls_session_ref(s->resume);
	h->new_ticket = dup_mem(s->new_ticket, s->new_ticket_len, s->new_ticket_len);
	h->transcript = dup_mem(s->transcript, s->tcap, s->tlen);
	h->msg = dup_mem(s->msg, s->msg_cap, s->msg_len);
	return h;
}

tls_conn *hostile_clone(const tls_conn *src)
{
	tls_conn *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	memcpy(c, src, sizeof *c);
	/* Nothing below may be shared with ${src}; start from NULLs so a
	 * failure part-way frees only what this copy owns. */
	c->in = c->out = NULL;
	c->hs = NULL;
	c->session = NULL;
	memset(&c->rd, 0, sizeof c->rd);
	memset(&c->wr, 0, sizeof c->wr);
	c->trace = NULL;
	c->cfg = tls_config_ref(src->cfg);
	c->session = src->session ? tls_session_ref(src->session) : NULL;
	bool ok = clone_aead(&c->rd, &src->rd) == 0 && clone_aead(&c->wr, &src->wr) == 0;
	c->in = dup_mem(src->in, src->in_cap, src->in_end);
	c->out = dup_mem(src->out, src->out_cap, src->out_end);
	ok = ok && (c->in || !src->in) && (c->out || !src->out);
	if (src->hs) {
		c->hs = clone_hs(src->hs);
		ok = ok && c->hs;
	}
	if (!ok) {
		tls_conn_free(c);
		return NULL;
	}
	return c;
}

bool hostile_write_protected(const tls_conn *c)
{
	return c->wr_on;
}

uint64_t hostile_write_seq(const tls_conn *c)
{
	return c->wr.seq;
}

void hostile_set_write_seq(tls_conn *c, uint64_t seq)
{
	c->wr.seq = seq;
}

size_t hostile_record(tls_conn *c, bool protect, uint64_t seq, uint8_t type, const uint8_t *p,
		      size_t n, uint8_t *out, size_t cap)
{
	if (c->out_end != c->out_start || (protect && !c->wr.ctx))
		return 0;
	bool was_on = c->wr_on;
	uint64_t was_seq = c->wr.seq;
	uint8_t err = c->err;
	c->err = TLS_ERR_NONE; /* the record writer works on a failed puppet too */
	c->wr_on = protect;
	c->wr.seq = seq;
	size_t len = 0;
	if (tls_emit_record(c, type, p, n) == 0) {
		len = c->out_end - c->out_start;
		if (len > cap)
			len = 0;
		else
			memcpy(out, c->out + c->out_start, len);
	}
	/* Taken as if sent (which also releases the buffer once established). */
	tls_conn_send_done(c, c->out_end - c->out_start);
	c->wr_on = was_on;
	c->wr.seq = was_seq;
	c->err = err;
	return len;
}

bool hostile_next_record(const uint8_t *p, size_t n, size_t *off, uint8_t *type, size_t *len)
{
	if (n - *off < TLS_RECORD_HEADER)
		return false;
	const uint8_t *h = p + *off;
	size_t l = TLS_RECORD_HEADER + ((size_t)h[3] << 8 | h[4]);
	if (n - *off < l)
		return false;
	*type = h[0];
	*len = l;
	*off += l;
	return true;
}
