/*
 * handshake.c: the TLS 1.2 handshake as data (STYLE.md 3). Each (role,
 * shape) has a table of steps; the machine walks it, writing our messages
 * and accepting exactly the peer message the table names next. Anything
 * else is unexpected_message, decided here and nowhere else.
 *
 * Message contents are the hs_<message>.c files' business; this file owns
 * the order, the transcript, the key schedule (RFC 5246 §6.3, RFC 7627) and
 * the ChangeCipherSpec switches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handshake.h"
#include "prf.h"
#include "sig.h"

enum { RECV = 0, SEND = 1 };
enum {
	ALWAYS = 0,
	IF_ECDHE = 1 << 0,       /* the suite's key exchange is ECDHE */
	IF_CERT_REQ = 1 << 1,    /* a CertificateRequest was sent/received */
	IF_CLIENT_CERT = 1 << 2, /* the client sent a non-empty Certificate */
	IF_TICKET = 1 << 3,      /* a NewSessionTicket was agreed (RFC 5077 §3.2) */
	OPTIONAL = 1 << 4,       /* the peer may leave this message out */
};

/* What a step is, kept apart from the handshake type byte: a peer's type
 * byte can take every value 0-255, so no value of it may double as a table
 * marker (a wire byte equal to an in-band marker once reached a NULL
 * handler). Only STEP_MESSAGE steps compare their type with the wire. */
enum { STEP_MESSAGE = 0, STEP_CCS = 1, STEP_END = 2 };

struct hs_step {
	uint8_t dir;
	uint8_t type; /* TLS_HT_*, meaningful for STEP_MESSAGE only */
	uint8_t when;
	uint8_t kind; /* STEP_* */
};
#define END                          \
	{                            \
		RECV, 0, 0, STEP_END \
	}
#define MSG(dir, type, when)                  \
	{                                     \
		dir, type, when, STEP_MESSAGE \
	}
#define CCS_STEP(dir)                    \
	{                                \
		dir, 0, ALWAYS, STEP_CCS \
	}

/* RFC 5246 §7.3 figure 1, client side. The first two steps are the same in
 * both shapes of a role, so ServerHello/ClientHello processing may switch
 * shape without moving the step index. */
static const struct hs_step client_full[] = {
	MSG(SEND, TLS_HT_CLIENT_HELLO, ALWAYS),
	MSG(RECV, TLS_HT_SERVER_HELLO, ALWAYS),
	MSG(RECV, TLS_HT_CERTIFICATE, ALWAYS),
	MSG(RECV, TLS_HT_SERVER_KEY_EXCHANGE, IF_ECDHE),
	MSG(RECV, TLS_HT_CERTIFICATE_REQUEST, OPTIONAL),
	MSG(RECV, TLS_HT_SERVER_HELLO_DONE, ALWAYS),
	MSG(SEND, TLS_HT_CERTIFICATE, IF_CERT_REQ),
	MSG(SEND, TLS_HT_CLIENT_KEY_EXCHANGE, ALWAYS),
	MSG(SEND, TLS_HT_CERTIFICATE_VERIFY, IF_CLIENT_CERT),
	CCS_STEP(SEND),
	MSG(SEND, TLS_HT_FINISHED, ALWAYS),
	MSG(RECV, TLS_HT_NEW_SESSION_TICKET, IF_TICKET),
	CCS_STEP(RECV),
	MSG(RECV, TLS_HT_FINISHED, ALWAYS),
	END,
};

/* RFC 5246 §7.3 figure 2 / RFC 5077 §3.1 figure 2: abbreviated handshake. */
static const struct hs_step client_resumed[] = {
	MSG(SEND, TLS_HT_CLIENT_HELLO, ALWAYS),
	MSG(RECV, TLS_HT_SERVER_HELLO, ALWAYS),
	MSG(RECV, TLS_HT_NEW_SESSION_TICKET, IF_TICKET),
	CCS_STEP(RECV),
	MSG(RECV, TLS_HT_FINISHED, ALWAYS),
	CCS_STEP(SEND),
	MSG(SEND, TLS_HT_FINISHED, ALWAYS),
	END,
};

static const struct hs_step server_full[] = {
	MSG(RECV, TLS_HT_CLIENT_HELLO, ALWAYS),
	MSG(SEND, TLS_HT_SERVER_HELLO, ALWAYS),
	MSG(SEND, TLS_HT_CERTIFICATE, ALWAYS),
	MSG(SEND, TLS_HT_SERVER_KEY_EXCHANGE, IF_ECDHE),
	MSG(SEND, TLS_HT_CERTIFICATE_REQUEST, IF_CERT_REQ),
	MSG(SEND, TLS_HT_SERVER_HELLO_DONE, ALWAYS),
	MSG(RECV, TLS_HT_CERTIFICATE, IF_CERT_REQ),
	MSG(RECV, TLS_HT_CLIENT_KEY_EXCHANGE, ALWAYS),
	MSG(RECV, TLS_HT_CERTIFICATE_VERIFY, IF_CLIENT_CERT),
	CCS_STEP(RECV),
	MSG(RECV, TLS_HT_FINISHED, ALWAYS),
	MSG(SEND, TLS_HT_NEW_SESSION_TICKET, IF_TICKET),
	CCS_STEP(SEND),
	MSG(SEND, TLS_HT_FINISHED, ALWAYS),
	END,
};

static const struct hs_step server_resumed[] = {
	MSG(RECV, TLS_HT_CLIENT_HELLO, ALWAYS),
	MSG(SEND, TLS_HT_SERVER_HELLO, ALWAYS),
	MSG(SEND, TLS_HT_NEW_SESSION_TICKET, IF_TICKET),
	CCS_STEP(SEND),
	MSG(SEND, TLS_HT_FINISHED, ALWAYS),
	CCS_STEP(RECV),
	MSG(RECV, TLS_HT_FINISHED, ALWAYS),
	END,
};

struct hs_handlers {
	const char *name;
	int (*write)(tls_conn *c, tls_wbuf *w);
	int (*read)(tls_conn *c, tls_cur *body);
	size_t max; /* the longest body we accept (consts.h) */
};

static const struct hs_handlers *handlers(uint8_t type)
{
	static const struct hs_handlers
		ch = {"ClientHello", tls_hs_client_hello_write, tls_hs_client_hello_read,
		      TLS_MAX_CLIENT_HELLO},
		sh = {"ServerHello", tls_hs_server_hello_write, tls_hs_server_hello_read,
		      TLS_MAX_SERVER_HELLO},
		cert = {"Certificate", tls_hs_certificate_write, tls_hs_certificate_read,
			TLS_MAX_HS_MESSAGE},
		ske = {"ServerKeyExchange", tls_hs_server_key_exchange_write,
		       tls_hs_server_key_exchange_read, TLS_MAX_SERVER_KEY_EXCHANGE},
		cr = {"CertificateRequest", tls_hs_certificate_request_write,
		      tls_hs_certificate_request_read, TLS_MAX_CERTIFICATE_REQUEST},
		shd = {"ServerHelloDone", tls_hs_server_hello_done_write,
		       tls_hs_server_hello_done_read, TLS_MAX_SERVER_HELLO_DONE},
		cke = {"ClientKeyExchange", tls_hs_client_key_exchange_write,
		       tls_hs_client_key_exchange_read, TLS_MAX_CLIENT_KEY_EXCHANGE},
		cv = {"CertificateVerify", tls_hs_certificate_verify_write,
		      tls_hs_certificate_verify_read, TLS_MAX_CERTIFICATE_VERIFY},
		nst = {"NewSessionTicket", tls_hs_new_session_ticket_write,
		       tls_hs_new_session_ticket_read, TLS_MAX_NEW_SESSION_TICKET},
		fin = {"Finished", tls_hs_finished_write, tls_hs_finished_read, TLS_FINISHED_LEN};
	switch (type) {
	case TLS_HT_CLIENT_HELLO:
		return &ch;
	case TLS_HT_SERVER_HELLO:
		return &sh;
	case TLS_HT_CERTIFICATE:
		return &cert;
	case TLS_HT_SERVER_KEY_EXCHANGE:
		return &ske;
	case TLS_HT_CERTIFICATE_REQUEST:
		return &cr;
	case TLS_HT_SERVER_HELLO_DONE:
		return &shd;
	case TLS_HT_CLIENT_KEY_EXCHANGE:
		return &cke;
	case TLS_HT_CERTIFICATE_VERIFY:
		return &cv;
	case TLS_HT_NEW_SESSION_TICKET:
		return &nst;
	case TLS_HT_FINISHED:
		return &fin;
	}
	return NULL;
}

static const char *message_name(uint8_t type)
{
	const struct hs_handlers *h = handlers(type);
	return h ? h->name : "an unknown handshake message";
}

static const char *step_name(const struct hs_step *s)
{
	if (s->kind == STEP_CCS)
		return "ChangeCipherSpec";
	if (s->kind == STEP_END)
		return "nothing";
	return message_name(s->type);
}

static const struct hs_step *table(const tls_conn *c)
{
	bool resumed = c->hs->shape == TLS_SHAPE_RESUMED;
	if (c->role == TLS_ROLE_CLIENT)
		return resumed ? client_resumed : client_full;
	return resumed ? server_resumed : server_full;
}

static bool applies(const tls_conn *c, const struct hs_step *s)
{
	const tls_hs *hs = c->hs;
	if ((s->when & IF_ECDHE) && !(c->suite && c->suite->kx == TLS_KX_ECDHE))
		return false;
	if ((s->when & IF_CERT_REQ) && !hs->cert_requested)
		return false;
	if ((s->when & IF_CLIENT_CERT) && !hs->client_cert)
		return false;
	if ((s->when & IF_TICKET) && !hs->send_ticket)
		return false;
	return true;
}

/* The next step that applies, skipping conditional steps that do not. */
static const struct hs_step *current(tls_conn *c)
{
	const struct hs_step *t = table(c);
	while (t[c->hs->step].kind != STEP_END && !applies(c, &t[c->hs->step]))
		c->hs->step++;
	return &t[c->hs->step];
}

/* ---- transcript and key schedule -------------------------------------- */

static int transcript_reserve(tls_conn *c, size_t n)
{
	tls_hs *hs = c->hs;
	if (hs->tcap - hs->tlen >= n)
		return 0;
	size_t cap = hs->tlen + n + 4096;
	if (cap > 4 * TLS_MAX_HS_MESSAGE)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_HANDSHAKE_FAILURE,
				"handshake too large");
	uint8_t *p = malloc(cap);
	if (!p)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR, "out of memory");
	if (hs->transcript) {
		memcpy(p, hs->transcript, hs->tlen);
		sodium_memzero(hs->transcript, hs->tcap);
		free(hs->transcript);
	}
	hs->transcript = p;
	hs->tcap = cap;
	return 0;
}

size_t tls_hs_transcript_hash(tls_conn *c, uint8_t *out)
{
	return tls_hash(c->suite->hash, c->hs->transcript, c->hs->tlen, out);
}

static void keylog(tls_conn *c)
{
	if (!c->cfg->keylog)
		return;
	/* NSS key log format: CLIENT_RANDOM <client_random> <master_secret>. */
	char line[14 + 2 * TLS_RANDOM_LEN + 1 + 2 * TLS_MASTER_SECRET_LEN + 1];
	memcpy(line, "CLIENT_RANDOM ", 14);
	sodium_bin2hex(line + 14, 2 * TLS_RANDOM_LEN + 1, c->hs->client_random, TLS_RANDOM_LEN);
	line[14 + 2 * TLS_RANDOM_LEN] = ' ';
	sodium_bin2hex(line + 15 + 2 * TLS_RANDOM_LEN, 2 * TLS_MASTER_SECRET_LEN + 1, c->hs->master,
		       TLS_MASTER_SECRET_LEN);
	c->cfg->keylog(c->cfg->keylog_arg, line);
	sodium_memzero(line, sizeof line);
}

int tls_hs_set_master(tls_conn *c, uint8_t *pms, size_t len)
{
	tls_hs *hs = c->hs;
	uint8_t session_hash[TLS_MAX_HASH_LEN];
	size_t shlen = 0;
	int r;

	if (hs->peer_ems) {
		shlen = tls_hs_transcript_hash(c, session_hash);
		r = (shlen == 0 || tls_master_secret_ems(c->suite->hash, pms, len, session_hash,
							 shlen, hs->master) < 0)
			    ? -1
			    : 0;
	} else {
		/* A legacy peer (legacy_peers = yes): RFC 5246 §8.1,
		 * PRF(pms, "master secret", client_random + server_random). */
		r = tls_prf(c->suite->hash, pms, len, "master secret", hs->client_random,
			    TLS_RANDOM_LEN, hs->server_random, TLS_RANDOM_LEN, hs->master,
			    TLS_MASTER_SECRET_LEN);
	}
	sodium_memzero(pms, len);
	sodium_memzero(session_hash, sizeof session_hash);
	if (r < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"master secret derivation failed");
	hs->have_master = true;
	return 0;
}

bool tls_hs_legacy(const tls_hs *hs)
{
	return !hs->peer_ems || !hs->peer_reneg;
}

int tls_hs_require_modern(tls_conn *c)
{
	const tls_hs *hs = c->hs;
	const char *peer = c->role == TLS_ROLE_CLIENT ? "server" : "client";

	if (c->cfg->legacy_peers)
		return 0;
	/* RFC 7627 §5.3 lets a party refuse peers without EMS, and without
	 * it the master secret is not bound to the handshake (the triple
	 * handshake attack); RFC 5746 §4.1/§4.3 likewise for peers without
	 * renegotiation_info. INTERFACE.md requires both by default. */
	if (!hs->peer_ems)
		return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE, TLS_R_NO_EMS,
				  "%s does not support extended master secret (RFC 7627), which we "
				  "require (legacy_peers = yes accepts it)",
				  peer);
	if (!hs->peer_reneg)
		return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
				  TLS_R_NO_RENEG_INFO,
				  "%s does not support secure renegotiation (renegotiation_info, "
				  "RFC 5746), which we require (legacy_peers = yes accepts it)",
				  peer);
	return 0;
}

/* RFC 5246 §6.3: key_block = client_write_key, server_write_key,
 * client_write_IV, server_write_IV (AEAD suites have no MAC keys). */
static int derive_keys(tls_conn *c)
{
	tls_hs *hs = c->hs;
	if (hs->keys_derived)
		return 0;
	if (!hs->have_master)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"keys needed before the master secret");
	size_t kl = tls_aead_key_len(c->suite->aead), il = tls_aead_fixed_iv_len(c->suite->aead);
	if (tls_key_block(c->suite->hash, hs->master, hs->client_random, hs->server_random,
			  hs->keys, 2 * kl + 2 * il) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"key block derivation failed");
	hs->keys_derived = true;
	keylog(c);
	return 0;
}

/* Switch one direction to the new keys (after sending or receiving CCS). */
static int activate(tls_conn *c, bool write)
{
	TRY(derive_keys(c));
	tls_hs *hs = c->hs;
	size_t kl = tls_aead_key_len(c->suite->aead), il = tls_aead_fixed_iv_len(c->suite->aead);
	bool client_keys = (c->role == TLS_ROLE_CLIENT) == write;
	const uint8_t *key = hs->keys + (client_keys ? 0 : kl);
	const uint8_t *iv = hs->keys + 2 * kl + (client_keys ? 0 : il);
	tls_aead *a = write ? &c->wr : &c->rd;
	if (tls_aead_init(a, c->suite->aead, key, iv, write) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"cipher initialisation failed");
	if (write)
		c->wr_on = true;
	else
		c->rd_on = true;
	return 0;
}

/* ---- tracing (tls_conn_set_trace) -------------------------------------- */

/* What a message settled, for its trace line ("" when nothing worth
 * saying). Called after the message was written or read. */
static void detail(tls_conn *c, uint8_t type, bool sent, char *out, size_t len)
{
	const tls_hs *hs = c->hs;
	const tls_group *g = tls_group_by_id(c->group);
	char subject[256] = "";
	out[0] = '\0';
	switch (type) {
	case TLS_HT_CLIENT_HELLO:
		if (sent) {
			char alpn[128] = "";
			for (size_t at = 0, o = 0; at < c->cfg->alpn_len && o < sizeof alpn;
			     at += 1u + c->cfg->alpn[at]) {
				int w = snprintf(alpn + o, sizeof alpn - o, "%s%s",
						 at ? "," : ", ALPN ", c->cfg->alpn_text + at);
				o += w > 0 ? (size_t)w : 0;
			}
			snprintf(out, len, ": %zu suites%s%s%s%s", c->cfg->nsuites,
				 hs->sent_sni ? ", SNI " : "", hs->sent_sni ? c->server_name : "",
				 alpn, c->session ? ", offering a session ticket" : "");
		} else if (c->server_name[0] || hs->shape == TLS_SHAPE_RESUMED)
			snprintf(out, len, ":%s%s%s", c->server_name[0] ? " SNI " : "",
				 c->server_name,
				 hs->shape == TLS_SHAPE_RESUMED ? " (valid session ticket)" : "");
		break;
	case TLS_HT_SERVER_HELLO:
		snprintf(out, len, ": suite %s%s%s%s", c->suite ? c->suite->name : "?",
			 c->alpn_at ? ", ALPN " : "",
			 c->alpn_at ? c->cfg->alpn_text + c->alpn_at - 1 : "",
			 hs->shape == TLS_SHAPE_RESUMED ? ", resuming the session" : "");
		break;
	case TLS_HT_CERTIFICATE:
		if (sent && !c->cfg->has_chain) {
			snprintf(out, len, ": empty (we have no certificate)");
		} else if (sent) {
			tls_cert_subject(c->cfg->chain.leaf, subject, sizeof subject);
			snprintf(out, len, ": \"%s\"", subject);
		} else if (!c->peer_cert) {
			snprintf(out, len, ": empty (no client certificate)");
		} else {
			bool none = c->cfg->verify == TLS_VERIFY_NONE;
			snprintf(out, len, ": \"%s\"%s", c->peer_subject,
				 c->peer_verified ? ", verified"
				 : none           ? ", not verified (verify_peer = none)"
						  : "");
		}
		break;
	case TLS_HT_SERVER_KEY_EXCHANGE:
		snprintf(out, len, ": group %s", g ? g->name : "?");
		break;
	case TLS_HT_FINISHED:
		if (!sent)
			snprintf(out, len, ": verified");
		break;
	}
}

static void trace_message(tls_conn *c, uint8_t type, bool sent, size_t len)
{
	char more[320] = "";
	/* After a failure only the peer's certificate is worth naming. */
	if (!c->err || type == TLS_HT_CERTIFICATE)
		detail(c, type, sent, more, sizeof more);
	tls_trace(c, "%s %s (%zu bytes)%s", sent ? "send" : "recv", message_name(type), len, more);
}

/* ---- running the table ------------------------------------------------- */

static int send_message(tls_conn *c, const struct hs_step *s)
{
	tls_hs *hs = c->hs;
	uint8_t type = s->type;
	if (s->kind == STEP_CCS) {
		static const uint8_t one = 1;
		TRY(tls_emit_record(c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1));
		if (c->trace)
			tls_trace(c, "send ChangeCipherSpec");
		return activate(c, true);
	}
	/* Messages are written straight into the transcript, which holds
	 * them anyway; the estimate covers our chain for Certificate. */
	size_t room = 8192 + TLS_MAX_SIG_LEN;
	if (type == TLS_HT_CERTIFICATE && c->cfg->has_chain)
		for (size_t i = 0; i < c->cfg->chain.n; i++)
			room += c->cfg->chain.der_len[i] + 3;
	if (type == TLS_HT_CLIENT_HELLO)
		room += c->cfg->alpn_len; /* bounded by TLS_MAX_CLIENT_ALPN */
	TRY(transcript_reserve(c, room));
	tls_wbuf w;
	tls_wbuf_init(&w, hs->transcript + hs->tlen, room);
	tls_wbuf_u8(&w, type);
	size_t mark = tls_wbuf_open(&w, 3);
	TRY(handlers(type)->write(c, &w));
	tls_wbuf_close(&w, mark, 3);
	if (!tls_wbuf_ok(&w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"%s does not fit our buffer", message_name(type));
	const uint8_t *msg = hs->transcript + hs->tlen;
	hs->tlen += w.len;
	TRY(tls_emit_record(c, TLS_CT_HANDSHAKE, msg, w.len));
	if (c->trace)
		trace_message(c, type, true, w.len);
	if (type == TLS_HT_CLIENT_KEY_EXCHANGE)
		TRY(tls_hs_set_master(c, hs->pms, hs->pms_len));
	return 0;
}

/* keep_peer(c, s): the peer identity a client session keeps: the leaf's
 * SPKI and notAfter from this handshake's Certificate, or, resumed (no
 * certificate sent), those of the session it resumed. 0 or -1. */
static int keep_peer(tls_conn *c, tls_session *s)
{
	tls_hs *hs = c->hs;
	int64_t not_after = 0;

	if (c->resumed) {
		if (!hs->resume)
			return -1;
		memcpy(s->peer_spki, hs->resume->peer_spki, sizeof s->peer_spki);
		s->not_after = hs->resume->not_after;
		return 0;
	}
	X509 *leaf = sk_X509_num(hs->peer_chain) > 0 ? sk_X509_value(hs->peer_chain, 0) : NULL;
	if (!leaf || tls_spki_sha256(leaf, s->peer_spki) != 0 ||
	    tls_conn_peer_validity(c, NULL, &not_after) != 0 || not_after <= 0)
		return -1;
	s->not_after = (uint64_t)not_after;
	return 0;
}

static void finish(tls_conn *c)
{
	tls_hs *hs = c->hs;
	c->empty_records = 0;
	c->ems = hs->peer_ems;
	c->secure_reneg = hs->peer_reneg;
	if (c->trace) {
		const tls_group *g = c->resumed ? NULL : tls_group_by_id(c->group);
		tls_trace(c, "handshake complete: %s%s%s, %s", c->suite->name, g ? " " : "",
			  g ? g->name : "", c->resumed ? "resumed" : "new session");
	}
	if (c->role != TLS_ROLE_CLIENT)
		return;
	/* A legacy server's session is never resumed (RFC 7627 §5.4): a
	 * ticket it sent is dropped with the handshake. */
	if (tls_hs_legacy(hs)) {
		tls_session_unref(c->session);
		c->session = NULL;
		return;
	}
	/* The client keeps what it needs to resume: a fresh ticket makes a new
	 * session; a resumed session without a new ticket stays as it was. */
	if (hs->new_ticket && hs->new_ticket_len > 0) {
		tls_session *s = tls_session_new();
		if (!s)
			return;
		if (keep_peer(c, s) < 0) {
			tls_session_unref(s);
			tls_session_unref(c->session);
			c->session = NULL;
			return;
		}
		s->suite = c->suite->id;
		s->ems = true;
		memcpy(s->master, hs->master, TLS_MASTER_SECRET_LEN);
		memcpy(s->server_name, c->server_name, sizeof s->server_name);
		memcpy(s->peer_ip, c->peer_ip, sizeof s->peer_ip);
		tls_config_auth_id(c->cfg, s->config_id);
		s->has_peer = c->peer_verified;
		memcpy(s->peer_subject, c->peer_subject, sizeof s->peer_subject);
		s->created = tls_now(c);
		s->lifetime = hs->new_ticket_lifetime; /* RFC 5077 §3.3 hint */
		s->ticket = hs->new_ticket;
		s->ticket_len = hs->new_ticket_len;
		hs->new_ticket = NULL;
		tls_session_unref(c->session);
		c->session = s;
	} else if (!c->resumed) {
		tls_session_unref(c->session);
		c->session = NULL;
	}
}

/* Run every send step from here until the next receive step or the end. */
static int run_sends(tls_conn *c)
{
	for (;;) {
		const struct hs_step *s = current(c);
		if (s->kind == STEP_END) {
			finish(c);
			/* Last: whoever sees it (any thread, internal.h) sees
			 * the facts and keys before it. */
			TLS_PUBLISH(c->established, true);
			return 0;
		}
		if (s->dir != SEND)
			return 0;
		TRY(send_message(c, s));
		c->hs->step++;
	}
}

/* The step the peer's next message (a handshake message of `type`, or a
 * ChangeCipherSpec when kind is STEP_CCS) must match; optional steps that
 * the peer left out are skipped. A match needs the same kind, so a wire
 * type byte can only ever select a message step that has handlers. */
static int expect(tls_conn *c, uint8_t kind, uint8_t type)
{
	for (;;) {
		const struct hs_step *s = current(c);
		if (s->dir == RECV && s->kind == kind && (kind != STEP_MESSAGE || s->type == type))
			return 0;
		if (s->dir == RECV && s->kind != STEP_END && (s->when & OPTIONAL)) {
			c->hs->step++;
			continue;
		}
		return tls_fail_r(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
				  kind != STEP_CCS && type == TLS_HT_CLIENT_HELLO
					  ? TLS_R_UNEXPECTED_CLIENT_HELLO
					  : TLS_R_OTHER,
				  "unexpected %s during the handshake (expected %s)",
				  kind == STEP_CCS ? "ChangeCipherSpec" : message_name(type),
				  step_name(s));
	}
}

int tls_hs_start(tls_conn *c)
{
	c->hs = calloc(1, sizeof *c->hs);
	if (!c->hs)
		return -1;
	c->hs->shape = TLS_SHAPE_FULL;
	if (c->role == TLS_ROLE_SERVER)
		c->started = true;
	return 0;
}

int tls_hs_client_start(tls_conn *c)
{
	if (c->started || !c->hs)
		return 0;
	TLS_PUBLISH(c->started, true);
	return run_sends(c);
}

int tls_hs_on_header(tls_conn *c, uint8_t type, size_t len)
{
	TRY(expect(c, STEP_MESSAGE, type));
	const struct hs_handlers *h = handlers(type);
	if (!h) /* unreachable: every message step's type has handlers */
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"no handler for handshake type %u", type);
	/* OpenSSL's answer to an excessive message size. */
	if (len > h->max)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
				"%s of %zu bytes is longer than its type allows (%zu)", h->name,
				len, h->max);
	return 0;
}

int tls_hs_on_message(tls_conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
	TRY(expect(c, STEP_MESSAGE, type));
	const struct hs_handlers *h = handlers(type);
	if (!h) /* unreachable: every message step's type has handlers */
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"no handler for handshake type %u", type);
	tls_cur body;
	tls_cur_init(&body, msg + TLS_HS_HEADER, len - TLS_HS_HEADER);
	/* The message's trace line comes before any failure it caused. */
	c->trace_hold = true;
	int r = h->read(c, &body);
	if (r == 0 && !tls_cur_done(&body))
		r = tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR, "malformed %s",
			     message_name(type));
	c->trace_hold = false;
	if (c->trace) {
		trace_message(c, type, false, len);
		if (r < 0)
			tls_trace_failure(c);
	}
	TRY(r);
	/* Appended only now: a handler sees the transcript before its own
	 * message (CertificateVerify and Finished are computed over that). */
	TRY(transcript_reserve(c, len));
	memcpy(c->hs->transcript + c->hs->tlen, msg, len);
	c->hs->tlen += len;
	if (type == TLS_HT_CLIENT_KEY_EXCHANGE)
		TRY(tls_hs_set_master(c, c->hs->pms, c->hs->pms_len));
	c->hs->step++;
	return run_sends(c);
}

int tls_hs_on_ccs(tls_conn *c)
{
	TRY(expect(c, STEP_CCS, 0));
	if (c->trace)
		tls_trace(c, "recv ChangeCipherSpec");
	TRY(activate(c, false));
	c->hs->step++;
	return run_sends(c);
}

int tls_hs_peer_certificate(tls_conn *c, STACK_OF(X509) * chain)
{
	tls_hs *hs = c->hs;
	sk_X509_pop_free(hs->peer_chain, X509_free);
	hs->peer_chain = chain;
	if (sk_X509_num(chain) < 1)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				"peer sent an empty certificate list");
	X509 *leaf = sk_X509_value(chain, 0);
	EVP_PKEY_free(hs->peer_key);
	hs->peer_key = X509_get_pubkey(leaf);
	if (!hs->peer_key || tls_key_type_of(hs->peer_key) == TLS_KEY_NONE)
		return tls_fail_r(c, TLS_ERR_AUTH, TLS_ALERT_UNSUPPORTED_CERTIFICATE,
				  TLS_R_CERT_KEY_UNACCEPTABLE,
				  "peer certificate key is not acceptable (need RSA >= 2048, "
				  "ECDSA P-256/P-384 or Ed25519)");
	c->peer_cert = true;
	tls_cert_subject(leaf, c->peer_subject, sizeof c->peer_subject);

	bool client = c->role == TLS_ROLE_CLIENT;
	if (c->cfg->verify == TLS_VERIFY_NONE)
		return 0; /* unauthenticated on purpose; the shim logs a warning */
	tls_verify_params vp = {
		.store = c->cfg->store,
		.pins = client ? (const uint8_t(*)[32])c->cfg->pins : NULL,
		.npins = client ? c->cfg->npins : 0,
		.name = client && c->server_name[0] ? c->server_name : NULL,
		.ip = client && !c->server_name[0] && c->peer_ip[0] ? c->peer_ip : NULL,
		.peer_is_server = client,
		.now = tls_now(c),
	};
	char reason[sizeof c->reason];
	enum tls_reason why;
	int alert = tls_verify_peer(&vp, chain, &why, reason, sizeof reason);
	if (alert)
		return tls_fail_r(c, TLS_ERR_AUTH, (uint8_t)alert, why, "%s%s",
				  client ? "" : "client certificate rejected: ", reason);
	c->peer_verified = true;
	return 0;
}

void tls_hs_free(tls_conn *c)
{
	tls_hs *hs = c->hs;
	if (!hs)
		return;
	tls_kx_free(&hs->kx);
	sk_X509_pop_free(hs->peer_chain, X509_free);
	EVP_PKEY_free(hs->peer_key);
	tls_session_unref(hs->resume);
	if (hs->new_ticket)
		free(hs->new_ticket);
	if (hs->transcript) {
		sodium_memzero(hs->transcript, hs->tcap);
		free(hs->transcript);
	}
	if (hs->msg) {
		sodium_memzero(hs->msg, hs->msg_cap);
		free(hs->msg);
	}
	sodium_memzero(hs, sizeof *hs);
	free(hs);
	c->hs = NULL;
}
