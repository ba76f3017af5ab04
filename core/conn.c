/*
 * conn.c: a connection's life: creation, the sticky first error, the state
 * flags, facts after the handshake, resumable sessions, and release.
 * Moving bytes is record.c's job; the handshake is handshake.c's.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "handshake.h"
#include "internal.h"
#include "rand.h"

int tls_fail_r(tls_conn *c, int err, uint8_t alert, enum tls_reason why, const char *fmt, ...)
{
	/* The first error sticks (STYLE.md 6), also when the read and the
	 * write side fail at once in two threads: one compare-and-swap
	 * decides, and only its winner writes the details below. */
	uint8_t none = TLS_ERR_NONE;
	if (!atomic_compare_exchange_strong_explicit(&c->err, &none, (uint8_t)err,
						     memory_order_acq_rel, memory_order_acquire))
		return -1;
	c->alert = alert;
	c->alert_from_peer = (err == TLS_ERR_PEER_ALERT);
	c->why = (uint8_t)why;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
	__atomic_store_n(&c->err_ready, true, __ATOMIC_RELEASE);
	/* A peer's alert and a vanished transport get no answer; everything
	 * else is answered with exactly one fatal alert (RFC 5246 §7.2.2). It
	 * is written by the write side (record.c), so a failure found while
	 * reading never touches the output buffer from the reading thread. */
	if (err != TLS_ERR_PEER_ALERT && err != TLS_ERR_TRUNCATED && alert != 0)
		__atomic_store_n(&c->alert_pending, true, __ATOMIC_RELEASE);
	if (c->trace && !c->trace_hold)
		tls_trace_failure(c);
	return -1;
}

void tls_trace(tls_conn *c, const char *fmt, ...)
{
	if (!c->trace)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->trace(c->trace_arg, line);
}

void tls_trace_failure(tls_conn *c)
{
	if (!c->err)
		return;
	bool sends = c->err != TLS_ERR_PEER_ALERT && c->err != TLS_ERR_TRUNCATED && c->alert;
	tls_trace(c, "failed: %s%s%s%s", c->reason, sends ? " (send alert " : "",
		  sends ? tls_alert_name(c->alert) : "", sends ? ")" : "");
}

void tls_conn_set_trace(tls_conn *c, void (*cb)(void *arg, const char *line), void *arg)
{
	c->trace = cb;
	c->trace_arg = arg;
}

uint64_t tls_now(const tls_conn *c)
{
	return c->cfg->now(c->cfg->now_arg);
}

tls_conn *tls_conn_new(tls_config *cfg, const char *server_name, const char *peer_ip)
{
	if (!tls_sodium_ready())
		return NULL;
	tls_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->cfg = tls_config_ref(cfg);
	c->role = cfg->role;
	c->warn_pending = 0xff;
	c->in_cap = TLS_IN_CAP;
	c->out_cap = TLS_OUT_CAP;
	c->out_free = c->out_cap; /* nothing queued (record.c out_publish) */
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

unsigned tls_conn_state(const tls_conn *c)
{
	/* Any thread may ask, without either side's lock (tls.h): every
	 * field read here is published by its owner (internal.h). Each is
	 * read once, so the flags agree with each other. */
	bool failed = atomic_load_explicit(&c->err, memory_order_acquire) != TLS_ERR_NONE;
	bool established = TLS_OBSERVE(c->established);
	bool started = TLS_OBSERVE(c->started);
	bool close_wanted = TLS_OBSERVE(c->close_wanted);
	bool close_queued = TLS_OBSERVE(c->close_queued);
	bool peer_closed = TLS_OBSERVE(c->peer_closed);
	size_t plain_len = TLS_OBSERVE(c->plain_len);
	unsigned st = 0;
	if (failed)
		st |= TLS_ST_FAILED;
	else if (!established)
		st |= TLS_ST_HANDSHAKING;
	if (established)
		st |= TLS_ST_ESTABLISHED;
	/* Once failed, only the fatal alert is ever sent (record.c): a
	 * ClientHello not yet made (the peer spoke first) or a pending
	 * no_renegotiation warning then never will be, and reporting them
	 * would spin the caller's pump on an empty sendbuf. */
	if (TLS_OBSERVE(c->out_queued) > 0 || (c->role == TLS_ROLE_CLIENT && !started && !failed) ||
	    __atomic_load_n(&c->alert_pending, __ATOMIC_ACQUIRE) ||
	    (!failed && __atomic_load_n(&c->warn_pending, __ATOMIC_ACQUIRE) != 0xff) ||
	    (close_wanted && !close_queued && !failed))
		st |= TLS_ST_SEND;
	if (plain_len > 0)
		st |= TLS_ST_READABLE;
	/* Room for a record of at least one plaintext byte. The suite is
	 * fixed before established is published. */
	if (established && !failed && !close_wanted &&
	    TLS_OBSERVE(c->out_free) >= TLS_RECORD_HEADER + tls_aead_overhead(c->suite->aead) + 1)
		st |= TLS_ST_WRITABLE;
	if (peer_closed)
		st |= TLS_ST_PEER_CLOSED;
	if (close_queued)
		st |= TLS_ST_CLOSED;
	if (!failed && !peer_closed && plain_len == 0 &&
	    (established || (started || c->role == TLS_ROLE_SERVER)))
		st |= TLS_ST_WANT_INPUT;
	return st;
}

enum tls_err tls_conn_error(const tls_conn *c, uint8_t *alert, bool *from_peer, const char **reason)
{
	enum tls_err err = (enum tls_err)atomic_load_explicit(&c->err, memory_order_acquire);
	/* The other side's thread may be inside tls_fail, between claiming
	 * err and publishing the details: a few instructions, so wait. */
	while (err != TLS_ERR_NONE && !__atomic_load_n(&c->err_ready, __ATOMIC_ACQUIRE))
		sched_yield();
	if (alert)
		*alert = c->alert;
	if (from_peer)
		*from_peer = c->alert_from_peer;
	if (reason)
		*reason = c->reason;
	return err;
}

enum tls_reason tls_conn_reason(const tls_conn *c)
{
	/* The same wait as tls_conn_error: why is final once err_ready is. */
	if (tls_conn_error(c, NULL, NULL, NULL) == TLS_ERR_NONE)
		return TLS_R_OTHER;
	return (enum tls_reason)c->why;
}

uint64_t tls_conn_records(const tls_conn *c, bool sent)
{
	/* Any thread (tls.h): each side publishes its sequence number. */
	return sent ? TLS_OBSERVE(c->wr.seq) : TLS_OBSERVE(c->rd.seq);
}

bool tls_conn_client_cert_missing(const tls_conn *c)
{
	return c->role == TLS_ROLE_CLIENT && c->hs && c->hs->cert_requested && !c->hs->client_cert;
}

int tls_conn_info(const tls_conn *c, tls_info *info)
{
	if (!TLS_OBSERVE(c->established) || !c->suite)
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
		.ems = c->ems,
		.secure_reneg = c->secure_reneg,
		.peer_cert = c->peer_cert,
		.peer_verified = c->peer_verified,
		.peer_subject = c->peer_subject,
		.server_name = c->server_name,
		.alpn = c->alpn_at != 0 ? c->cfg->alpn_text + c->alpn_at - 1 : "",
	};
	return 0;
}

static X509 *peer_leaf(const tls_conn *c)
{
	if (!c->hs || sk_X509_num(c->hs->peer_chain) < 1)
		return NULL;
	return sk_X509_value(c->hs->peer_chain, 0);
}

/* Append ${item} to the list in ${buf}; false once it no longer fits (then
 * the list ends in "..."). Bytes outside printable ASCII become '?': the
 * names are the peer's and end up in logs. */
static bool list_add(char *buf, size_t len, size_t *used, const char *item, size_t n)
{
	size_t need = n + (*used ? 1 : 0);
	if (*used + need + 1 > len) {
		if (len >= 4) {
			size_t at = *used + 4 <= len ? *used : len - 4;
			memcpy(buf + at, "...", 4);
			*used = at + 3;
		}
		return false;
	}
	if (*used)
		buf[(*used)++] = ',';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)item[i];
		buf[(*used)++] = ch > 0x20 && ch < 0x7f && ch != ',' ? (char)ch : '?';
	}
	buf[*used] = '\0';
	return true;
}

size_t tls_conn_peer_names(const tls_conn *c, char *buf, size_t len)
{
	if (len == 0)
		return 0;
	buf[0] = '\0';
	X509 *leaf = peer_leaf(c);
	GENERAL_NAMES *names =
		leaf ? X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL) : NULL;
	size_t used = 0;
	bool room = true;
	/* DNS names first: they are what server_name is compared with. */
	for (int kind = 0; kind < 2 && room; kind++) {
		for (int i = 0; i < sk_GENERAL_NAME_num(names) && room; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
			if (kind == 0 && g->type == GEN_DNS) {
				const ASN1_IA5STRING *d = g->d.dNSName;
				room = list_add(buf, len, &used,
						(const char *)ASN1_STRING_get0_data(d),
						(size_t)ASN1_STRING_length(d));
			} else if (kind == 1 && g->type == GEN_IPADD) {
				const ASN1_OCTET_STRING *ip = g->d.iPAddress;
				int n = ASN1_STRING_length(ip);
				char text[INET6_ADDRSTRLEN] = "";
				if ((n == 4 || n == 16) &&
				    inet_ntop(n == 4 ? AF_INET : AF_INET6,
					      ASN1_STRING_get0_data(ip), text, sizeof text))
					room = list_add(buf, len, &used, text, strlen(text));
			}
		}
	}
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	return used;
}

static int asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int tls_conn_peer_validity(const tls_conn *c, int64_t *not_before, int64_t *not_after)
{
	X509 *leaf = peer_leaf(c);
	int64_t nb = 0, na = 0;
	if (!leaf || asn1_time_epoch(X509_get0_notBefore(leaf), &nb) < 0 ||
	    asn1_time_epoch(X509_get0_notAfter(leaf), &na) < 0) {
		ERR_clear_error();
		return -1;
	}
	if (not_before)
		*not_before = nb;
	if (not_after)
		*not_after = na;
	return 0;
}
