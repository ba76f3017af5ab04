/*
 * conn.c: a connection's life: creation, the sticky first error, the state
 * flags, facts after the handshake, resumable sessions, and release.
 * Moving bytes is record.c's job; the handshake is handshake.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handshake.h"
#include "internal.h"

int tls_fail(tls_conn *c, int err, uint8_t alert, const char *fmt, ...)
{
	if (c->err)
		return -1; /* the first error sticks (STYLE.md 6) */
	c->err = (uint8_t)err;
	c->alert = alert;
	c->alert_from_peer = (err == TLS_ERR_PEER_ALERT);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
	/* A peer's alert and a vanished transport get no answer; everything
	 * else is answered with exactly one fatal alert (RFC 5246 §7.2.2). It
	 * is written by the write side (record.c), so a failure found while
	 * reading never touches the output buffer from the reading thread. */
	if (err != TLS_ERR_PEER_ALERT && err != TLS_ERR_TRUNCATED && alert != 0)
		__atomic_store_n(&c->alert_pending, true, __ATOMIC_RELEASE);
	return -1;
}

uint64_t tls_now(const tls_conn *c)
{
	return c->cfg->now(c->cfg->now_arg);
}

tls_conn *tls_conn_new(tls_config *cfg, const char *server_name, const char *peer_ip)
{
	if (sodium_init() < 0)
		return NULL;
	tls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->cfg = tls_config_ref(cfg);
	c->role = cfg->role;
	c->warn_pending = 0xff;
	c->in_cap = TLS_IN_CAP;
	c->out_cap = TLS_OUT_CAP;
	c->in = malloc(c->in_cap);
	c->out = malloc(c->out_cap);
	if (server_name)
		snprintf(c->server_name, sizeof c->server_name, "%s", server_name);
	if (peer_ip)
		snprintf(c->peer_ip, sizeof c->peer_ip, "%s", peer_ip);
	if (!c->in || !c->out || tls_hs_start(c) < 0) {
		tls_conn_free(c);
		return NULL;
	}
	return c;
}

void tls_conn_free(tls_conn *c)
{
	if (!c)
		return;
	tls_hs_free(c);
	tls_aead_free(&c->rd);
	tls_aead_free(&c->wr);
	if (c->in) {
		sodium_memzero(c->in, c->in_cap);
		free(c->in);
	}
	if (c->out) {
		sodium_memzero(c->out, c->out_cap);
		free(c->out);
	}
	tls_session_unref(c->session);
	tls_config_unref(c->cfg);
	sodium_memzero(c, sizeof *c);
	free(c);
}

void tls_conn_set_session(tls_conn *c, tls_session *s)
{
	if (c->role != TLS_ROLE_CLIENT || c->started || !s)
		return;
	tls_session_unref(c->session);
	c->session = tls_session_ref(s);
}

tls_session *tls_conn_get_session(tls_conn *c)
{
	if (c->role != TLS_ROLE_CLIENT || !c->established || !c->session || c->err)
		return NULL;
	return tls_session_ref(c->session);
}

/* Room a new record of at least one plaintext byte needs. */
static bool out_has_room(const tls_conn *c)
{
	size_t queued = c->out_end - c->out_start;
	size_t cap = c->out ? c->out_cap : TLS_OUT_CAP;
	size_t ovh = TLS_RECORD_HEADER + tls_aead_overhead(c->suite->aead);
	return cap - queued >= ovh + 1;
}

unsigned tls_conn_state(const tls_conn *c)
{
	unsigned st = 0;
	bool failed = c->err != TLS_ERR_NONE;
	if (failed)
		st |= TLS_ST_FAILED;
	else if (!c->established)
		st |= TLS_ST_HANDSHAKING;
	if (c->established)
		st |= TLS_ST_ESTABLISHED;
	if (c->out_end > c->out_start || (c->role == TLS_ROLE_CLIENT && !c->started) ||
	    __atomic_load_n(&c->alert_pending, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&c->warn_pending, __ATOMIC_ACQUIRE) != 0xff ||
	    (c->close_wanted && !c->close_queued && !failed))
		st |= TLS_ST_SEND;
	if (c->plain_len > 0)
		st |= TLS_ST_READABLE;
	if (c->established && !failed && !c->close_wanted && out_has_room(c))
		st |= TLS_ST_WRITABLE;
	if (c->peer_closed)
		st |= TLS_ST_PEER_CLOSED;
	if (c->close_queued)
		st |= TLS_ST_CLOSED;
	if (!failed && !c->peer_closed && c->plain_len == 0 &&
	    (c->established || (c->started || c->role == TLS_ROLE_SERVER)))
		st |= TLS_ST_WANT_INPUT;
	return st;
}

enum tls_err tls_conn_error(const tls_conn *c, uint8_t *alert, bool *from_peer, const char **reason)
{
	if (alert)
		*alert = c->alert;
	if (from_peer)
		*from_peer = c->alert_from_peer;
	if (reason)
		*reason = c->reason;
	return (enum tls_err)c->err;
}

uint64_t tls_conn_records(const tls_conn *c, bool sent)
{
	return sent ? c->wr.seq : c->rd.seq;
}

bool tls_conn_client_cert_missing(const tls_conn *c)
{
	return c->role == TLS_ROLE_CLIENT && c->hs && c->hs->cert_requested && !c->hs->client_cert;
}

int tls_conn_info(const tls_conn *c, tls_info *info)
{
	if (!c->established || !c->suite)
		return -1;
	const tls_group *g = tls_group_by_id(c->group);
	*info = (tls_info){
		.version = TLS_VERSION_1_2,
		.suite = c->suite->id,
		.suite_name = c->suite->name,
		.group = c->resumed ? 0 : c->group,
		.group_name = (g && !c->resumed) ? g->name : "",
		.sigscheme = c->peer_sigscheme,
		.resumed = c->resumed,
		.ems = true, /* required for every handshake we complete */
		.peer_cert = c->peer_cert,
		.peer_verified = c->peer_verified,
		.peer_subject = c->peer_subject,
		.server_name = c->server_name,
	};
	return 0;
}
