/*
 * hs_new_session_ticket.c: NewSessionTicket (RFC 5077 §3.3).
 *
 *   struct { uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>; }
 */
#include "handshake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* seal(c, out, len, lifetime): the ticket for this connection's session
 * in ${out} (TLS_TICKET_MAX bytes) and the seconds it is good for in
 * ${lifetime}. 0 or -1 (no ticket can be made). */
static int seal(tls_conn *c, uint8_t *out, size_t *len, uint32_t *lifetime)
{
	tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;
	int rc = -1;

	if (cfg->ticket_keys == NULL || c->suite == NULL)
		return -1;
	tls_session *s = tls_session_new();
	if (s == NULL)
		return -1;
	s->suite = c->suite->id;
	s->ems = true; /* we never complete a handshake without EMS */
	memcpy(s->master, hs->master, TLS_MASTER_SECRET_LEN);
	snprintf(s->server_name, sizeof s->server_name, "%s", c->server_name);
	/* Bind the verified client identity, so a resumption can never claim
	 * a certificate the original handshake did not prove. */
	s->has_peer = hs->client_cert && c->peer_verified;
	if (s->has_peer) {
		X509 *leaf = hs->peer_chain != NULL && sk_X509_num(hs->peer_chain) > 0
				     ? sk_X509_value(hs->peer_chain, 0)
				     : NULL;
		int64_t not_after = 0;
		if (leaf == NULL || tls_spki_sha256(leaf, s->peer_spki) != 0 ||
		    tls_conn_peer_validity(c, NULL, &not_after) != 0 || not_after <= 0)
			goto out;
		s->not_after = (uint64_t)not_after;
		snprintf(s->peer_subject, sizeof s->peer_subject, "%s", c->peer_subject);
	}
	s->created = tls_now(c);
	s->lifetime = tls_ticket_keys_period(cfg->ticket_keys);
	/* No ticket outlives the client certificate it vouches for (opening
	 * checks not_after too; the hint tells the client). */
	if (s->not_after != 0 && s->not_after < s->created + s->lifetime) {
		if (s->not_after <= s->created)
			goto out;
		s->lifetime = (uint32_t)(s->not_after - s->created);
	}
	*lifetime = s->lifetime;
	rc = tls_ticket_seal(cfg->ticket_keys, s->created, s, out, TLS_TICKET_MAX, len);
out:
	tls_session_unref(s);
	return rc;
}

int tls_hs_new_session_ticket_write(tls_conn *c, tls_wbuf *w)
{
	uint8_t ticket[TLS_TICKET_MAX];
	size_t len = 0;
	uint32_t hint = 0;

	/* A failure to seal is not worth a failed handshake: RFC 5077 §3.3
	 * lets the server send an empty ticket, and the client then simply
	 * does a full handshake next time. */
	if (seal(c, ticket, &len, &hint) != 0) {
		len = 0;
		hint = 0;
	}

	tls_wbuf_u32(w, hint);
	size_t mark = tls_wbuf_open(w, 2);
	tls_wbuf_bytes(w, ticket, len);
	tls_wbuf_close(w, mark, 2);
	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"NewSessionTicket does not fit in the handshake buffer");
	return 0;
}

int tls_hs_new_session_ticket_read(tls_conn *c, tls_cur *body)
{
	tls_hs *hs = c->hs;

	uint32_t lifetime = tls_cur_u32(body);
	tls_cur tc = tls_cur_block(body, 2);
	size_t len = tls_cur_remaining(&tc);
	const uint8_t *t = tls_cur_bytes(&tc, len);
	ENSURE(tls_cur_done(body) && t != NULL, c, TLS_ALERT_DECODE_ERROR,
	       "malformed NewSessionTicket message from the server");

	free(hs->new_ticket);
	hs->new_ticket = NULL;
	hs->new_ticket_len = 0;
	hs->new_ticket_lifetime = 0;
	/* An empty ticket means "none this time" (RFC 5077 §3.3). */
	if (len == 0)
		return 0;
	hs->new_ticket = malloc(len);
	if (hs->new_ticket == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR, "out of memory");
	memcpy(hs->new_ticket, t, len);
	hs->new_ticket_len = len;
	hs->new_ticket_lifetime = lifetime;
	return 0;
}
