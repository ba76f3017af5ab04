/*
 * hs_server_hello.c: ServerHello (RFC 5246 §7.4.1.3).
 *
 *   struct {
 *       ProtocolVersion server_version;
 *       Random random;
 *       SessionID session_id;                          opaque <0..32>
 *       CipherSuite cipher_suite;
 *       CompressionMethod compression_method;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ServerHello;
 *
 * The server's random is made here, by the writer: it is part of this
 * message and nothing before ServerHello needs it.
 */
#include "handshake.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* ---- writer (server) --------------------------------------------------- */

static void empty_ext(tls_wbuf *w, uint16_t type)
{
	tls_wbuf_u16(w, type);
	tls_wbuf_u16(w, 0);
}

int tls_hs_server_hello_write(tls_conn *c, tls_wbuf *w)
{
	tls_hs *hs = c->hs;

	if (c->suite == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"ServerHello without a negotiated cipher suite");
	randombytes_buf(hs->server_random, sizeof hs->server_random);

	tls_wbuf_u16(w, TLS_VERSION_1_2);
	tls_wbuf_bytes(w, hs->server_random, TLS_RANDOM_LEN);
	/* RFC 5077 §3.4: the client's session id when resuming from its
	 * ticket (the read side left it in hs), otherwise empty. */
	size_t m = tls_wbuf_open(w, 1);
	tls_wbuf_bytes(w, hs->session_id, hs->session_id_len);
	tls_wbuf_close(w, m, 1);
	tls_wbuf_u16(w, c->suite->id);
	tls_wbuf_u8(w, 0); /* null compression */

	/* Only extensions the client sent (RFC 5246 §7.4.1.4). */
	size_t exts = tls_wbuf_open(w, 2);
	if (hs->peer_reneg) {
		/* RFC 5746 §3.6: empty renegotiated_connection. */
		tls_wbuf_u16(w, TLS_EXT_RENEGOTIATION_INFO);
		tls_wbuf_u16(w, 1);
		tls_wbuf_u8(w, 0);
	}
	if (hs->peer_ems)
		empty_ext(w, TLS_EXT_EXTENDED_MASTER_SECRET); /* RFC 7627 §5.2 / §5.3 */
	if (hs->send_ticket)
		empty_ext(w, TLS_EXT_SESSION_TICKET); /* RFC 5077 §3.2 */
	if (c->suite->kx == TLS_KX_ECDHE && hs->peer_ec_point_formats) {
		tls_wbuf_u16(w, TLS_EXT_EC_POINT_FORMATS); /* RFC 8422 §5.2 */
		tls_wbuf_u16(w, 2);
		tls_wbuf_u8(w, 1);
		tls_wbuf_u8(w, 0);
	}
	if (c->alpn_at != 0) {
		/* RFC 7301 §3.1: the same ProtocolNameList, with exactly one
		 * name: the one select_alpn (hs_client_hello.c) chose. */
		const uint8_t *entry = c->cfg->alpn + c->alpn_at - 1;
		tls_wbuf_u16(w, TLS_EXT_ALPN);
		size_t ext = tls_wbuf_open(w, 2);
		size_t list = tls_wbuf_open(w, 2);
		tls_wbuf_bytes(w, entry, 1u + entry[0]);
		tls_wbuf_close(w, list, 2);
		tls_wbuf_close(w, ext, 2);
	}
	tls_wbuf_close(w, exts, 2);

	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"our ServerHello does not fit in a handshake message");
	return 0;
}

/* ---- reader (client) --------------------------------------------------- */

/* ext_bit(type, name): the bit of a ServerHello extension we understand
 * (for the duplicate check) and its name; 0 for any other type. */
static unsigned ext_bit(uint16_t type, const char **name)
{
	static const struct {
		uint16_t type;
		const char *name;
	} known[] = {
		{TLS_EXT_SERVER_NAME, "server_name"},
		{TLS_EXT_SUPPORTED_GROUPS, "supported_groups"},
		{TLS_EXT_EC_POINT_FORMATS, "ec_point_formats"},
		{TLS_EXT_SIGNATURE_ALGORITHMS, "signature_algorithms"},
		{TLS_EXT_EXTENDED_MASTER_SECRET, "extended_master_secret"},
		{TLS_EXT_SESSION_TICKET, "session_ticket"},
		{TLS_EXT_RENEGOTIATION_INFO, "renegotiation_info"},
		{TLS_EXT_ALPN, "application_layer_protocol_negotiation"},
	};

	for (unsigned i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].type == type) {
			*name = known[i].name;
			return 1u << i;
		}
	*name = "unknown";
	return 0;
}

/* read_alpn(c, data): RFC 7301 §3.1: the server answers with a
 * ProtocolNameList of exactly one name, and it must be one we offered
 * (§3.2). As OpenSSL does, a list that is not exactly one non-empty name
 * is decode_error, a name we did not offer illegal_parameter. Offered or
 * not is settled by the caller's table (unsupported_extension). */
static int read_alpn(tls_conn *c, tls_cur *data)
{
	const tls_config *cfg = c->cfg;
	tls_cur list = tls_cur_block(data, 2);
	tls_cur name = tls_cur_block(&list, 1);
	size_t n = tls_cur_remaining(&name);
	const uint8_t *p = tls_cur_bytes(&name, n);

	ENSURE(cfg->alpn_len > 0, c, TLS_ALERT_UNSUPPORTED_EXTENSION,
	       "server sent application_layer_protocol_negotiation, which we did not offer");
	ENSURE(!list.bad && p != NULL && n > 0 && tls_cur_done(&list), c, TLS_ALERT_DECODE_ERROR,
	       "server's ALPN answer is not exactly one protocol name (RFC 7301 §3.1)");
	for (size_t at = 0; at < cfg->alpn_len; at += 1 + cfg->alpn[at])
		if (cfg->alpn[at] == n && memcmp(cfg->alpn + at + 1, p, n) == 0) {
			c->alpn_at = (uint16_t)(at + 1);
			return 0;
		}
	return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
			"server chose an ALPN protocol we did not offer (RFC 7301 §3.2)");
}

/* read_ext(c, type, data, seen): one ServerHello extension. Each must
 * answer one we sent (RFC 5246 §7.4.1.4). */
static int read_ext(tls_conn *c, uint16_t type, tls_cur *data, unsigned *seen)
{
	const tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;
	const char *name;
	unsigned bit = ext_bit(type, &name);
	tls_cur list;

	ENSURE(bit != 0, c, TLS_ALERT_UNSUPPORTED_EXTENSION,
	       "server sent extension %u, which we did not offer (RFC 5246 §7.4.1.4)", type);
	ENSURE(!(*seen & bit), c, TLS_ALERT_ILLEGAL_PARAMETER, "server sent %s twice", name);
	*seen |= bit;

	switch (type) {
	case TLS_EXT_SERVER_NAME:
		/* RFC 6066 §3: the acknowledgement is empty. */
		ENSURE(hs->sent_sni, c, TLS_ALERT_UNSUPPORTED_EXTENSION,
		       "server sent server_name, which we did not offer");
		break;
	case TLS_EXT_SUPPORTED_GROUPS:
		/* We sent it, so RFC 5246 §7.4.1.4 allows the echo; TLS 1.2
		 * gives it no meaning in ServerHello, so it is not parsed. */
		ENSURE(cfg->ngroups > 0, c, TLS_ALERT_UNSUPPORTED_EXTENSION,
		       "server sent supported_groups, which we did not offer");
		tls_cur_bytes(data, tls_cur_remaining(data));
		break;
	case TLS_EXT_EC_POINT_FORMATS: {
		list = tls_cur_block(data, 1);
		ENSURE(!list.bad && tls_cur_remaining(&list) > 0, c, TLS_ALERT_DECODE_ERROR,
		       "server sent a malformed ec_point_formats extension");
		bool uncompressed = false;
		while (tls_cur_remaining(&list) > 0)
			uncompressed |= tls_cur_u8(&list) == 0;
		ENSURE(uncompressed, c, TLS_ALERT_ILLEGAL_PARAMETER,
		       "server does not accept uncompressed EC points (RFC 8422 §5.1.2)");
		break;
	}
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNSUPPORTED_EXTENSION,
				"server sent signature_algorithms, which servers must not send "
				"(RFC 5246 §7.4.1.4.1)");
	case TLS_EXT_EXTENDED_MASTER_SECRET:
		hs->peer_ems = true; /* RFC 7627 §5.2: empty; checked below */
		break;
	case TLS_EXT_SESSION_TICKET:
		ENSURE(cfg->tickets, c, TLS_ALERT_UNSUPPORTED_EXTENSION,
		       "server sent session_ticket, which we did not offer");
		hs->send_ticket = true; /* RFC 5077 §3.2: empty; checked below */
		break;
	case TLS_EXT_ALPN:
		TRY(read_alpn(c, data));
		break;
	case TLS_EXT_RENEGOTIATION_INFO:
		list = tls_cur_block(data, 1);
		/* RFC 5746 §3.4: on an initial handshake the server's
		 * renegotiated_connection must be empty. */
		if (!list.bad && tls_cur_remaining(&list) != 0)
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_HANDSHAKE_FAILURE,
					"server sent a non-empty renegotiation_info on an "
					"initial handshake (RFC 5746 §3.4)");
		hs->peer_reneg = true;
		break;
	}
	ENSURE(tls_cur_done(data), c, TLS_ALERT_DECODE_ERROR,
	       "server sent a malformed %s extension", name);
	return 0;
}

int tls_hs_server_hello_read(tls_conn *c, tls_cur *body)
{
	const tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;

	uint16_t version = tls_cur_u16(body);
	tls_cur_copy(body, hs->server_random, TLS_RANDOM_LEN);
	tls_cur sid = tls_cur_block(body, 1);
	uint16_t suite_id = tls_cur_u16(body);
	uint8_t compression = tls_cur_u8(body);
	ENSURE(!body->bad, c, TLS_ALERT_DECODE_ERROR, "truncated ServerHello");

	if (version != TLS_VERSION_1_2)
		return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION,
				  TLS_R_NO_COMMON_VERSION,
				  "server chose protocol version 0x%04x; TLS 1.2 (0x0303) is "
				  "required",
				  version);
	size_t sid_len = tls_cur_remaining(&sid);
	ENSURE(sid_len <= TLS_MAX_SESSION_ID, c, TLS_ALERT_DECODE_ERROR,
	       "server sent a session id longer than 32 bytes");
	uint8_t sid_bytes[TLS_MAX_SESSION_ID];
	tls_cur_copy(&sid, sid_bytes, sid_len);

	const tls_suite *suite = tls_suite_by_id(suite_id);
	ENSURE(suite != NULL && tls_ids_contain(cfg->suites, cfg->nsuites, suite_id), c,
	       TLS_ALERT_ILLEGAL_PARAMETER,
	       "server chose cipher suite 0x%04x, which we did not offer", suite_id);
	ENSURE(compression == 0, c, TLS_ALERT_ILLEGAL_PARAMETER,
	       "server chose compression method %u, which we did not offer", compression);

	if (tls_cur_remaining(body) > 0) {
		tls_cur exts = tls_cur_block(body, 2);
		unsigned seen = 0;
		ENSURE(!exts.bad, c, TLS_ALERT_DECODE_ERROR,
		       "malformed extensions list in ServerHello");
		while (tls_cur_remaining(&exts) > 0) {
			uint16_t type = tls_cur_u16(&exts);
			tls_cur data = tls_cur_block(&exts, 2);
			ENSURE(!exts.bad, c, TLS_ALERT_DECODE_ERROR,
			       "malformed extensions list in ServerHello");
			TRY(read_ext(c, type, &data, &seen));
		}
	}
	ENSURE(tls_cur_done(body), c, TLS_ALERT_DECODE_ERROR,
	       "ServerHello has trailing bytes after its extensions");

	TRY(tls_hs_require_modern(c));
	c->suite = suite;

	/* RFC 5077 §3.4: the echo of the session id we made up is how the
	 * server says it took our ticket. */
	bool echoed = hs->resume != NULL && sid_len != 0 && sid_len == hs->session_id_len &&
		      memcmp(sid_bytes, hs->session_id, sid_len) == 0;
	memcpy(hs->session_id, sid_bytes, sid_len);
	hs->session_id_len = (uint8_t)sid_len;
	if (!echoed) {
		tls_session_unref(hs->resume);
		hs->resume = NULL;
		hs->shape = TLS_SHAPE_FULL;
		return 0;
	}

	tls_session *s = hs->resume;
	/* RFC 7627 §5.3: a server that resumes without EMS is aborted; our
	 * sessions were all made with EMS and renegotiation_info, so a
	 * server now lacking either is not the one that made it. */
	if (tls_hs_legacy(hs))
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_HANDSHAKE_FAILURE,
				"server resumed our session without %s",
				!hs->peer_ems ? "extended master secret (RFC 7627 §5.3)"
					      : "renegotiation_info (RFC 5746)");
	/* RFC 5246 §7.4.1.3: a resumed session keeps its cipher suite. */
	ENSURE(suite_id == s->suite, c, TLS_ALERT_ILLEGAL_PARAMETER,
	       "server resumed our session with cipher suite 0x%04x, but it was made with 0x%04x",
	       suite_id, s->suite);
	if (s->master == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"offered session has no master secret");
	hs->shape = TLS_SHAPE_RESUMED;
	memcpy(hs->master, s->master, TLS_MASTER_SECRET_LEN);
	hs->have_master = true;
	c->group = 0;
	c->resumed = true;
	c->peer_cert = c->peer_verified = s->has_peer;
	snprintf(c->peer_subject, sizeof c->peer_subject, "%s", s->peer_subject);
	return 0;
}
