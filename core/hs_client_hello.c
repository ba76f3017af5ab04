/*
 * hs_client_hello.c: ClientHello (RFC 5246 §7.4.1.2).
 *
 *   struct {
 *       ProtocolVersion client_version;
 *       Random random;
 *       SessionID session_id;                          opaque <0..32>
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       CompressionMethod compression_methods<1..2^8-1>;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ClientHello;
 *
 * The reader is where a server negotiates: the protocol version (from
 * supported_versions when present, RFC 8446 §4.2.1), suite, group and
 * signature scheme by our preference, EMS, renegotiation_info, SNI,
 * resumption from a session ticket, and the ALPN protocol (RFC 7301).
 */
#include "handshake.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "name.h"
#include "sig.h"

/* ---- writer (client) --------------------------------------------------- */

/* pinned(cfg, spki): ${spki} is one of ${cfg}'s pins. */
static bool pinned(const tls_config *cfg, const uint8_t spki[32])
{
	for (size_t i = 0; i < cfg->npins; i++)
		if (sodium_memcmp(cfg->pins[i], spki, 32) == 0)
			return true;
	return false;
}

/* may_offer(c, s): whether to offer to resume ${s}: only a session that
 * can resume here (tls_session_resumable: same config, name, within its
 * lifetime and its certificate's; a suite we still offer), and whose
 * stored peer identity our config would accept now (verified when we
 * verify, its SPKI among our pins), so a resumed connection is never
 * weaker than a full handshake would be. */
static bool may_offer(const tls_conn *c, const tls_session *s)
{
	const tls_config *cfg = c->cfg;
	uint8_t id[32];

	if (s == NULL || !cfg->tickets)
		return false;
	tls_config_auth_id(cfg, id);
	return tls_session_resumable(s, id, c->server_name, c->peer_ip, tls_now(c)) &&
	       tls_ids_contain(cfg->suites, cfg->nsuites, s->suite) &&
	       (cfg->verify == TLS_VERIFY_NONE || s->has_peer) &&
	       (cfg->npins == 0 || (s->has_peer && pinned(cfg, s->peer_spki)));
}

static size_t ext_open(tls_wbuf *w, uint16_t type)
{
	tls_wbuf_u16(w, type);
	return tls_wbuf_open(w, 2);
}

static void write_sni(tls_conn *c, tls_wbuf *w)
{
	char host[sizeof c->server_name];

	/* RFC 6066 §3: a DNS host name without the trailing dot; IP
	 * literals are not permitted in HostName (name.h decides which). */
	c->hs->sent_sni = tls_name_parse(c->server_name, host, sizeof host) == TLS_NAME_DNS;
	if (!c->hs->sent_sni)
		return;
	size_t n = strlen(host);
	size_t ext = ext_open(w, TLS_EXT_SERVER_NAME);
	size_t list = tls_wbuf_open(w, 2);
	tls_wbuf_u8(w, 0); /* host_name */
	size_t name = tls_wbuf_open(w, 2);
	tls_wbuf_bytes(w, host, n);
	tls_wbuf_close(w, name, 2);
	tls_wbuf_close(w, list, 2);
	tls_wbuf_close(w, ext, 2);
}

int tls_hs_client_hello_write(tls_conn *c, tls_wbuf *w)
{
	const tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;

	hs->client_version = TLS_VERSION_1_2;
	randombytes_buf(hs->client_random, sizeof hs->client_random);

	/* RFC 5077 §3.4: offering a ticket, the client makes up a session id
	 * so that the echo in ServerHello tells it the ticket was taken. */
	tls_session_unref(hs->resume);
	hs->resume = NULL;
	hs->session_id_len = 0;
	if (may_offer(c, c->session)) {
		hs->resume = tls_session_ref(c->session);
		randombytes_buf(hs->session_id, TLS_MAX_SESSION_ID);
		hs->session_id_len = TLS_MAX_SESSION_ID;
	}

	tls_wbuf_u16(w, TLS_VERSION_1_2);
	tls_wbuf_bytes(w, hs->client_random, TLS_RANDOM_LEN);
	size_t m = tls_wbuf_open(w, 1);
	tls_wbuf_bytes(w, hs->session_id, hs->session_id_len);
	tls_wbuf_close(w, m, 1);
	m = tls_wbuf_open(w, 2);
	for (size_t i = 0; i < cfg->nsuites; i++)
		tls_wbuf_u16(w, cfg->suites[i]);
	tls_wbuf_close(w, m, 2);
	tls_wbuf_u8(w, 1); /* compression_methods: null only */
	tls_wbuf_u8(w, 0);

	size_t exts = tls_wbuf_open(w, 2);
	write_sni(c, w);
	if (cfg->ngroups > 0) {
		m = ext_open(w, TLS_EXT_SUPPORTED_GROUPS);
		size_t list = tls_wbuf_open(w, 2);
		for (size_t i = 0; i < cfg->ngroups; i++)
			tls_wbuf_u16(w, cfg->groups[i]);
		tls_wbuf_close(w, list, 2);
		tls_wbuf_close(w, m, 2);
	}
	m = ext_open(w, TLS_EXT_EC_POINT_FORMATS);
	tls_wbuf_u8(w, 1);
	tls_wbuf_u8(w, 0); /* uncompressed (RFC 8422 §5.1.2) */
	tls_wbuf_close(w, m, 2);

	size_t nsig;
	const uint16_t *sigs = tls_sigschemes_all(&nsig);
	m = ext_open(w, TLS_EXT_SIGNATURE_ALGORITHMS);
	size_t list = tls_wbuf_open(w, 2);
	for (size_t i = 0; i < nsig; i++)
		tls_wbuf_u16(w, sigs[i]);
	tls_wbuf_close(w, list, 2);
	tls_wbuf_close(w, m, 2);

	m = ext_open(w, TLS_EXT_EXTENDED_MASTER_SECRET);
	tls_wbuf_close(w, m, 2);
	/* RFC 5746 §3.4: the extension (empty renegotiated_connection) rather
	 * than the SCSV; never both. */
	m = ext_open(w, TLS_EXT_RENEGOTIATION_INFO);
	tls_wbuf_u8(w, 0);
	tls_wbuf_close(w, m, 2);
	if (cfg->tickets) {
		m = ext_open(w, TLS_EXT_SESSION_TICKET);
		if (hs->resume != NULL)
			tls_wbuf_bytes(w, hs->resume->ticket, hs->resume->ticket_len);
		tls_wbuf_close(w, m, 2);
	}
	/* RFC 7301 §3.1: ours in preference order, on every hello, resumed
	 * or not (ALPN is a property of the connection, not the session). */
	if (cfg->alpn_len > 0) {
		m = ext_open(w, TLS_EXT_ALPN);
		list = tls_wbuf_open(w, 2);
		tls_wbuf_bytes(w, cfg->alpn, cfg->alpn_len);
		tls_wbuf_close(w, list, 2);
		tls_wbuf_close(w, m, 2);
	}
	/* No supported_versions (RFC 8446 §4.2.1): offering 1.2 alone is
	 * what legacy_version says already, and we speak nothing else yet. */
	tls_wbuf_close(w, exts, 2);

	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"our ClientHello does not fit in a handshake message");
	return 0;
}

/* ---- reader (server) --------------------------------------------------- */

/* What the client offered that selection needs after parsing; the
 * cursors point into the message body and are re-read from the start. */
typedef struct offer {
	tls_cur suites;
	tls_cur groups;
	bool has_groups;
	const uint8_t *ticket;
	size_t ticket_len;
	tls_cur alpn; /* ProtocolNameList, validated (RFC 7301 §3.1) */
	bool has_alpn;
	tls_cur versions; /* supported_versions (RFC 8446 §4.2.1), validated */
	bool has_versions;
} offer;

/* in_list(list, id): whether the u16 list under ${list} holds ${id}
 * (${list} is a copy, so the caller's cursor does not move). */
static bool in_list(tls_cur list, uint16_t id)
{
	while (tls_cur_remaining(&list) >= 2)
		if (tls_cur_u16(&list) == id)
			return true;
	return false;
}

/* u16_list(data, out): the vector <2..2^16-2> of u16 values in ${data}
 * (RFC 5246 §7.4.1.2 cipher_suites, RFC 8422 §5.1.1, §7.4.1.4.1); false,
 * with ${data} marked bad, when it is empty or of odd length. */
static bool u16_list(tls_cur *data, tls_cur *out)
{
	*out = tls_cur_block(data, 2);
	size_t n = tls_cur_remaining(out);
	if (out->bad || n < 2 || n % 2 != 0) {
		data->bad = true;
		return false;
	}
	return true;
}

static const char *ext_name(uint16_t type)
{
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		return "server_name";
	case TLS_EXT_SUPPORTED_GROUPS:
		return "supported_groups";
	case TLS_EXT_EC_POINT_FORMATS:
		return "ec_point_formats";
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		return "signature_algorithms";
	case TLS_EXT_EXTENDED_MASTER_SECRET:
		return "extended_master_secret";
	case TLS_EXT_SESSION_TICKET:
		return "session_ticket";
	case TLS_EXT_RENEGOTIATION_INFO:
		return "renegotiation_info";
	case TLS_EXT_ALPN:
		return "application_layer_protocol_negotiation";
	case TLS_EXT_SUPPORTED_VERSIONS:
		return "supported_versions";
	default:
		return "unknown";
	}
}

/* read_sni(c, data): RFC 6066 §3 ServerNameList; the first host_name is
 * the name. Every NameType's data starts with a 16-bit length (§3), so
 * entries of other types can be skipped. */
static int read_sni(tls_conn *c, tls_cur *data)
{
	tls_cur list = tls_cur_block(data, 2);
	bool have = false;

	ENSURE(!list.bad && tls_cur_remaining(&list) > 0, c, TLS_ALERT_DECODE_ERROR,
	       "client sent an empty or malformed server_name extension");
	while (tls_cur_remaining(&list) > 0) {
		uint8_t type = tls_cur_u8(&list);
		tls_cur name = tls_cur_block(&list, 2);
		size_t n = tls_cur_remaining(&name);
		const uint8_t *p = tls_cur_bytes(&name, n);
		ENSURE(!list.bad && p != NULL && n > 0, c, TLS_ALERT_DECODE_ERROR,
		       "client sent a malformed server_name extension");
		if (type != 0 || have)
			continue;
		ENSURE(n < sizeof c->server_name && memchr(p, 0, n) == NULL, c,
		       TLS_ALERT_ILLEGAL_PARAMETER,
		       "client sent a server name that is too long or contains a NUL byte");
		memcpy(c->server_name, p, n);
		c->server_name[n] = '\0';
		have = true;
	}
	return 0;
}

/* read_alpn(data, out): RFC 7301 §3.1 ProtocolNameList <2..2^16-1> of
 * ProtocolName <1..2^8-1> ("empty strings MUST NOT be included"); false,
 * with ${data} marked bad, when malformed. */
static bool read_alpn(tls_cur *data, tls_cur *out)
{
	*out = tls_cur_block(data, 2);
	tls_cur list = *out;
	if (out->bad || tls_cur_remaining(&list) < 2) {
		data->bad = true;
		return false;
	}
	while (tls_cur_remaining(&list) > 0) {
		tls_cur name = tls_cur_block(&list, 1);
		if (list.bad || tls_cur_remaining(&name) == 0) {
			data->bad = true;
			return false;
		}
	}
	return true;
}

/* read_versions(data, out): RFC 8446 §4.2.1 ClientHello form,
 * ProtocolVersion versions<2..254>; false, ${data} marked bad, when
 * malformed. */
static bool read_versions(tls_cur *data, tls_cur *out)
{
	*out = tls_cur_block(data, 1);
	size_t n = tls_cur_remaining(out);
	if (out->bad || n < 2 || n % 2 != 0) {
		data->bad = true;
		return false;
	}
	return true;
}

/* read_ext(c, type, data, o): one ClientHello extension. Unknown types
 * (GREASE included, RFC 8701) are ignored. */
static int read_ext(tls_conn *c, uint16_t type, tls_cur *data, offer *o)
{
	tls_hs *hs = c->hs;
	tls_cur list;

	switch (type) {
	case TLS_EXT_SERVER_NAME:
		TRY(read_sni(c, data));
		break;
	case TLS_EXT_SUPPORTED_GROUPS:
		if (!u16_list(data, &list))
			break; /* reported as malformed below */
		o->groups = list;
		o->has_groups = true;
		break;
	case TLS_EXT_EC_POINT_FORMATS:
		list = tls_cur_block(data, 1);
		if (list.bad || tls_cur_remaining(&list) == 0) {
			data->bad = true;
			break;
		}
		while (tls_cur_remaining(&list) > 0)
			if (tls_cur_u8(&list) == 0)
				hs->peer_ec_point_formats = true;
		ENSURE(hs->peer_ec_point_formats, c, TLS_ALERT_ILLEGAL_PARAMETER,
		       "client does not accept uncompressed EC points (RFC 8422 §5.1.2)");
		break;
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		if (!u16_list(data, &list))
			break;
		/* Keep the first TLS_MAX_PEER_SIGALGS; a longer list is legal
		 * but only ever padding. */
		while (tls_cur_remaining(&list) >= 2) {
			uint16_t s = tls_cur_u16(&list);
			if (hs->n_peer_sigalgs < TLS_MAX_PEER_SIGALGS)
				hs->peer_sigalgs[hs->n_peer_sigalgs++] = s;
		}
		break;
	case TLS_EXT_EXTENDED_MASTER_SECRET:
		hs->peer_ems = true; /* RFC 7627 §5.1: empty; checked below */
		break;
	case TLS_EXT_RENEGOTIATION_INFO:
		list = tls_cur_block(data, 1);
		if (!list.bad && tls_cur_remaining(&list) != 0)
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_HANDSHAKE_FAILURE,
					"client attempted renegotiation (non-empty "
					"renegotiation_info, RFC 5746 §3.6); we never renegotiate");
		hs->peer_reneg = true;
		break;
	case TLS_EXT_SESSION_TICKET:
		hs->peer_ticket_ext = true;
		o->ticket_len = tls_cur_remaining(data);
		o->ticket = tls_cur_bytes(data, o->ticket_len);
		break;
	case TLS_EXT_ALPN:
		o->has_alpn = read_alpn(data, &o->alpn);
		break;
	case TLS_EXT_SUPPORTED_VERSIONS:
		o->has_versions = read_versions(data, &o->versions);
		break;
	default:
		tls_cur_bytes(data, tls_cur_remaining(data));
		break;
	}
	ENSURE(tls_cur_done(data), c, TLS_ALERT_DECODE_ERROR,
	       "client sent a malformed %s extension", ext_name(type));
	return 0;
}

static int read_exts(tls_conn *c, tls_cur *exts, offer *o)
{
	/* RFC 5246 §7.4.1.4: no type twice, unknown types included. A list
	 * of up to 2^16 - 1 bytes holds up to 16,383 extensions (and large
	 * post-quantum hellos are real), so every type is marked in a bitmap
	 * of all 2^16: one step per extension, 8 KiB on the heap for the
	 * parse (this runs on whatever stack the wrapped program reads on). */
	uint64_t *seen = calloc(65536 / 64, sizeof *seen);
	int r = 0;

	if (seen == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR, "out of memory");
	while (r == 0 && tls_cur_remaining(exts) > 0) {
		uint16_t type = tls_cur_u16(exts);
		tls_cur data = tls_cur_block(exts, 2);
		uint64_t bit = (uint64_t)1 << (type % 64);

		if (exts->bad) {
			r = tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				     "client sent a malformed extensions list");
		} else if (seen[type / 64] & bit) {
			r = tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
				     "client sent extension %u (%s) twice", type, ext_name(type));
		} else {
			seen[type / 64] |= bit;
			r = read_ext(c, type, &data, o);
		}
	}
	free(seen);
	return r;
}

/* ---- negotiation -------------------------------------------------------- */

/* Appends to a NUL-terminated buffer; stops quietly when full (these
 * build the sentences of failures, which may be cut short). */
static __attribute__((format(printf, 3, 4))) void addf(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strnlen(buf, size);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* ids_text(list, buf, size): up to 8 of the client's u16 values in hex. */
static void ids_text(tls_cur list, char *buf, size_t size)
{
	size_t n = 0, all = tls_cur_remaining(&list) / 2;

	buf[0] = '\0';
	while (tls_cur_remaining(&list) >= 2 && n < 8)
		addf(buf, size, "%s0x%04x", n++ ? " " : "", tls_cur_u16(&list));
	if (all > n)
		addf(buf, size, " (+%zu more)", all - n);
}

static int no_suite(tls_conn *c, const offer *o, bool common, bool no_group)
{
	const tls_config *cfg = c->cfg;
	int kt = cfg->chain.key_type;
	char theirs[96], ours[128];

	ours[0] = '\0';
	if (!common) {
		ids_text(o->suites, theirs, sizeof theirs);
		for (size_t i = 0; i < cfg->nsuites; i++) {
			const tls_suite *s = tls_suite_by_id(cfg->suites[i]);
			if (s != NULL && tls_suite_serves_key(s, kt))
				addf(ours, sizeof ours, "%s%s", ours[0] ? ":" : "", s->name);
		}
		return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
				  TLS_R_NO_COMMON_SUITE,
				  "no cipher suite in common: client offered %s; we accept %s",
				  theirs, ours[0] ? ours : "none (no usable certificate key)");
	}
	if (no_group) {
		if (!o->has_groups)
			return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
					  TLS_R_NO_COMMON_GROUP,
					  "client sent no supported_groups, which our ECDHE "
					  "suites need (RFC 8422 §5.1.1)");
		ids_text(o->groups, theirs, sizeof theirs);
		for (size_t i = 0; i < cfg->ngroups; i++) {
			const tls_group *g = tls_group_by_id(cfg->groups[i]);
			addf(ours, sizeof ours, "%s%s", ours[0] ? ":" : "",
			     g != NULL ? g->name : "?");
		}
		return tls_fail_r(
			c, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE, TLS_R_NO_COMMON_GROUP,
			"no ECDHE group in common: client offered %s; we accept %s", theirs, ours);
	}
	return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_HANDSHAKE_FAILURE,
			  TLS_R_NO_COMMON_SIGALG,
			  "no signature algorithm in common: client's signature_algorithms (%zu "
			  "offered) has none our %s key can make",
			  c->hs->n_peer_sigalgs, tls_key_type_name(kt));
}

/* choose(c, o): suite by our preference among what the client offered and
 * our key can serve (RFC 5246 §7.4.1.3), with an ECDHE group and a
 * signature scheme in common for ECDHE suites. */
static int choose(tls_conn *c, const offer *o)
{
	const tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;
	int kt = cfg->chain.key_type;
	uint16_t group = 0;

	/* RFC 8422 §5.1.1: without supported_groups nothing tells us which
	 * curve the client can do, so ECDHE is not available. */
	for (size_t i = 0; o->has_groups && group == 0 && i < cfg->ngroups; i++)
		if (in_list(o->groups, cfg->groups[i]))
			group = cfg->groups[i];
	uint16_t sig = tls_sig_choose(kt, hs->peer_sigalgs, hs->n_peer_sigalgs);

	bool common = false, no_group = false;
	for (size_t i = 0; i < cfg->nsuites; i++) {
		const tls_suite *s = tls_suite_by_id(cfg->suites[i]);
		if (s == NULL || !in_list(o->suites, s->id) || !tls_suite_serves_key(s, kt))
			continue;
		common = true;
		bool ecdhe = s->kx == TLS_KX_ECDHE;
		if (ecdhe && group == 0) {
			no_group = true;
			continue;
		}
		if (ecdhe && sig == 0)
			continue;
		c->suite = s;
		c->group = ecdhe ? group : 0;
		hs->sigscheme = ecdhe ? sig : 0;
		return 0;
	}
	return no_suite(c, o, common, no_group);
}

/* resume(c, o): RFC 5077 §3.4: take the client's ticket when it holds a
 * session that may resume here; false means a full handshake. */
static bool resume(tls_conn *c, const offer *o)
{
	const tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;

	/* Without a session id the client could not tell from ServerHello
	 * that we resumed (we always echo it, RFC 5077 §3.4). */
	if (!cfg->tickets || cfg->ticket_keys == NULL || o->ticket_len == 0 ||
	    hs->session_id_len == 0)
		return false;
	tls_session *s = tls_ticket_open(cfg->ticket_keys, tls_now(c), o->ticket, o->ticket_len);
	if (s == NULL)
		return false;
	const tls_suite *suite = tls_suite_by_id(s->suite);
	/* The session must be one this connection could have made: same
	 * name, a suite both sides still allow, EMS, and a client identity
	 * when we now require one. */
	if (suite == NULL || s->master == NULL || !s->ems ||
	    !tls_ids_contain(cfg->suites, cfg->nsuites, s->suite) ||
	    !in_list(o->suites, s->suite) ||
	    strncmp(s->server_name, c->server_name, sizeof c->server_name) != 0 ||
	    (cfg->verify == TLS_VERIFY_REQUIRE && !s->has_peer)) {
		tls_session_unref(s);
		return false;
	}
	hs->shape = TLS_SHAPE_RESUMED;
	hs->resume = s;
	memcpy(hs->master, s->master, TLS_MASTER_SECRET_LEN);
	hs->have_master = true;
	/* RFC 5077 §3.3 lets a server renew the ticket on resumption; we do
	 * not, so a session never outlives the lifetime counted from the full
	 * handshake that made it (tls_ticket_open checks its creation time). */
	hs->send_ticket = false;
	hs->cert_requested = false;
	c->suite = suite;
	c->group = 0;
	c->resumed = true;
	c->peer_cert = c->peer_verified = s->has_peer;
	snprintf(c->peer_subject, sizeof c->peer_subject, "%s", s->peer_subject);
	return true;
}

/* is_grease(v): an RFC 8701 GREASE value (0x?a?a with equal bytes), which
 * peers put in lists to keep them extensible; never a real choice. */
static bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* negotiate_version(c, o): RFC 8446 §4.2.1: with supported_versions the
 * client's list alone counts ("servers MUST NOT use the
 * ClientHello.legacy_version value for version negotiation"); without it,
 * legacy_version is the highest version the client speaks (RFC 5246
 * §E.1). The result is the highest version both allow; no common version
 * is protocol_version (RFC 8446 §4.2.1, RFC 5246 §E.1), never
 * handshake_failure. While this engine speaks only TLS 1.2 it never sets
 * the RFC 8446 §4.1.3 downgrade sentinel: that is for TLS 1.3 servers. */
static int negotiate_version(tls_conn *c, const offer *o)
{
	const tls_config *cfg = c->cfg;
	uint16_t lo, hi, best = 0;
	char theirs[96] = "";
	size_t shown = 0;

	if (tls_versions_effective(cfg->min_version, cfg->max_version, &lo, &hi) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"no protocol version configured that this build speaks");
	if (!o->has_versions) {
		uint16_t v = c->hs->client_version;
		if (v >= lo)
			return 0; /* TLS 1.2: the only version in [lo, hi] today */
		return tls_fail_r(
			c, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION, TLS_R_NO_COMMON_VERSION,
			"client offers at most %s (%s0x%04x); %s is required", tls_version_name(v),
			strcmp(tls_version_name(v), "unknown") ? "" : "version ", v,
			tls_version_name(lo));
	}
	for (tls_cur l = o->versions; tls_cur_remaining(&l) >= 2;) {
		uint16_t v = tls_cur_u16(&l);
		if (is_grease(v))
			continue;
		if (v >= lo && v <= hi && v > best)
			best = v;
		if (shown++ < 4)
			addf(theirs, sizeof theirs, "%s%s", shown > 1 ? ", " : "",
			     tls_version_name(v));
	}
	if (best == TLS_VERSION_1_2)
		return 0;
	return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_PROTOCOL_VERSION,
			  TLS_R_NO_COMMON_VERSION,
			  "no protocol version in common: client offers %s (supported_versions); "
			  "we speak %s%s",
			  shown > 0 ? theirs : "no known version", tls_version_name(lo),
			  tls_version_supported(TLS_VERSION_1_3)
				  ? ""
				  : " (TLS 1.3 is not available in this build yet)");
}

/* alpn_text(list, buf, size): the client's ALPN names for a message,
 * comma-separated; bytes outside printable ASCII become '?' (they are the
 * peer's and go to logs). */
static void alpn_text(tls_cur list, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	while (tls_cur_remaining(&list) > 0 && strnlen(buf, size) + 1 < size) {
		tls_cur name = tls_cur_block(&list, 1);
		size_t k = tls_cur_remaining(&name);
		const uint8_t *p = tls_cur_bytes(&name, k);
		char one[40];
		size_t m = k < sizeof one - 4 ? k : sizeof one - 4;
		for (size_t i = 0; i < m; i++)
			one[i] = p[i] > 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
		memcpy(one + m, k > m ? "..." : "", k > m ? 4 : 1);
		addf(buf, size, "%s%s", n++ ? ", " : "", one);
	}
}

/* select_alpn(c, o): RFC 7301 §3.2: the first of OUR protocols (in our
 * order) that the client offered. A client that offered none is served
 * without ALPN, and so is every client when we have no list; a client
 * whose list shares nothing with ours gets no_application_protocol. The
 * complexity is ours x theirs names, ours being the policy's. */
static int select_alpn(tls_conn *c, const offer *o)
{
	const tls_config *cfg = c->cfg;
	char theirs[160], ours[160] = "";

	c->alpn_at = 0;
	if (cfg->alpn_len == 0 || !o->has_alpn)
		return 0;
	for (size_t at = 0; at < cfg->alpn_len; at += 1 + cfg->alpn[at]) {
		size_t n = cfg->alpn[at];
		for (tls_cur l = o->alpn; tls_cur_remaining(&l) > 0;) {
			tls_cur name = tls_cur_block(&l, 1);
			size_t k = tls_cur_remaining(&name);
			const uint8_t *p = tls_cur_bytes(&name, k);
			if (k == n && memcmp(p, cfg->alpn + at + 1, n) == 0) {
				c->alpn_at = (uint16_t)(at + 1);
				return 0;
			}
		}
		addf(ours, sizeof ours, "%s%s", at ? ", " : "", cfg->alpn_text + at);
	}
	alpn_text(o->alpn, theirs, sizeof theirs);
	return tls_fail_r(c, TLS_ERR_NEGOTIATION, TLS_ALERT_NO_APPLICATION_PROTOCOL,
			  TLS_R_ALPN_NO_OVERLAP,
			  "no application protocol in common (ALPN, RFC 7301 §3.2): client offered "
			  "%s; we accept %s",
			  theirs, ours);
}

int tls_hs_client_hello_read(tls_conn *c, tls_cur *body)
{
	const tls_config *cfg = c->cfg;
	tls_hs *hs = c->hs;
	offer o = {.has_groups = false};

	/* legacy_version: kept for the RSA premaster check (RFC 5246
	 * §7.4.7.1); the version is negotiated once the extensions are read. */
	hs->client_version = tls_cur_u16(body);
	tls_cur_copy(body, hs->client_random, TLS_RANDOM_LEN);
	ENSURE(!body->bad, c, TLS_ALERT_DECODE_ERROR, "truncated ClientHello");

	tls_cur sid = tls_cur_block(body, 1);
	size_t sid_len = tls_cur_remaining(&sid);
	ENSURE(!sid.bad && sid_len <= TLS_MAX_SESSION_ID, c, TLS_ALERT_DECODE_ERROR,
	       "malformed session id in ClientHello");
	tls_cur_copy(&sid, hs->session_id, sid_len);
	hs->session_id_len = (uint8_t)sid_len;

	ENSURE(u16_list(body, &o.suites), c, TLS_ALERT_DECODE_ERROR,
	       "malformed cipher suite list in ClientHello");
	/* RFC 5746 §3.6: the SCSV stands for an empty renegotiation_info. */
	if (in_list(o.suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV))
		hs->peer_reneg = true;

	tls_cur comp = tls_cur_block(body, 1);
	ENSURE(!comp.bad && tls_cur_remaining(&comp) > 0, c, TLS_ALERT_DECODE_ERROR,
	       "malformed compression methods in ClientHello");
	bool null_comp = false;
	while (tls_cur_remaining(&comp) > 0)
		null_comp |= tls_cur_u8(&comp) == 0;
	ENSURE(null_comp, c, TLS_ALERT_ILLEGAL_PARAMETER,
	       "client does not offer the null compression method (RFC 5246 §7.4.1.2)");

	/* Extensions are optional: a ClientHello may end here. */
	if (tls_cur_remaining(body) > 0) {
		tls_cur exts = tls_cur_block(body, 2);
		ENSURE(!exts.bad, c, TLS_ALERT_DECODE_ERROR,
		       "malformed extensions list in ClientHello");
		TRY(read_exts(c, &exts, &o));
	}
	ENSURE(tls_cur_done(body), c, TLS_ALERT_DECODE_ERROR,
	       "ClientHello has trailing bytes after its extensions");

	TRY(negotiate_version(c, &o));
	TRY(tls_hs_require_modern(c));

	/* A legacy client (legacy_peers = yes) is never resumed nor ticketed
	 * (RFC 7627 §5.3, §5.4). ALPN is chosen afresh on every hello,
	 * resumed or not (RFC 7301 §3.1: "only the values in the new
	 * handshake messages are considered"). */
	bool legacy = tls_hs_legacy(hs);
	if (!legacy && resume(c, &o))
		return select_alpn(c, &o); /* ServerHello echoes the client's session id */

	TRY(choose(c, &o));
	TRY(select_alpn(c, &o));
	hs->shape = TLS_SHAPE_FULL;
	hs->session_id_len = 0; /* full handshakes get no session id: tickets only */
	hs->send_ticket =
		!legacy && cfg->tickets && cfg->ticket_keys != NULL && hs->peer_ticket_ext;
	hs->cert_requested = cfg->verify != TLS_VERIFY_NONE;
	return 0;
}
