/*
 * hs_server_key_exchange.c: ServerKeyExchange for ECDHE (RFC 8422 §5.4).
 *
 *   struct { ECCurveType curve_type = named_curve (3); NamedCurve namedcurve;
 *            opaque point<1..2^8-1>; } ServerECDHParams;
 *   struct { ServerECDHParams params; DigitallySigned signed_params; }
 *
 * DigitallySigned (RFC 5246 §4.7 with RFC 8446 SignatureScheme numbers) is a
 * u16 scheme and opaque signature<0..2^16-1>, over
 * client_random || server_random || params (RFC 5246 §7.4.3).
 */
#include "handshake.h"

#include <string.h>

#include "sig.h"

/* curve_type + group + length byte + the largest point. */
#define PARAMS_MAX (4 + TLS_KX_MAX_PUB)
#define SIGNED_MAX (2 * TLS_RANDOM_LEN + PARAMS_MAX)

/* signed_message(hs, group, point, len, out): the bytes the signature
 * covers; returns their length. The params encoding is canonical (fixed
 * widths), so the reader rebuilds it from the parsed fields instead of
 * slicing the peer's buffer. */
static size_t signed_message(const tls_hs *hs, uint16_t group, const uint8_t *point, size_t len,
			     uint8_t out[SIGNED_MAX])
{
	tls_wbuf m;
	tls_wbuf_init(&m, out, SIGNED_MAX);
	tls_wbuf_bytes(&m, hs->client_random, TLS_RANDOM_LEN);
	tls_wbuf_bytes(&m, hs->server_random, TLS_RANDOM_LEN);
	tls_wbuf_u8(&m, TLS_EC_CURVE_TYPE_NAMED);
	tls_wbuf_u16(&m, group);
	tls_wbuf_u8(&m, (uint8_t)len);
	tls_wbuf_bytes(&m, point, len);
	return tls_wbuf_ok(&m) ? m.len : 0;
}

static const char *scheme_name(uint16_t id)
{
	const tls_sigscheme *s = tls_sigscheme_by_id(id);
	return s != NULL ? s->name : "unknown";
}

int tls_hs_server_key_exchange_write(tls_conn *c, tls_wbuf *w)
{
	tls_hs *hs = c->hs;
	uint8_t pub[TLS_KX_MAX_PUB], msg[SIGNED_MAX], sig[TLS_MAX_SIG_LEN];
	size_t publen = 0, siglen = 0, mlen;

	if (tls_kx_generate(&hs->kx, c->group, pub, &publen) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"could not generate an ECDHE key for group %u", c->group);
	mlen = signed_message(hs, c->group, pub, publen, msg);
	if (mlen == 0 || hs->sigscheme == 0 ||
	    tls_sig_sign(&c->cfg->key, hs->sigscheme, msg, mlen, sig, &siglen) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"could not sign ServerKeyExchange with %s",
				scheme_name(hs->sigscheme));

	tls_wbuf_bytes(w, msg + 2 * TLS_RANDOM_LEN, mlen - 2 * TLS_RANDOM_LEN);
	tls_wbuf_u16(w, hs->sigscheme);
	size_t mark = tls_wbuf_open(w, 2);
	tls_wbuf_bytes(w, sig, siglen);
	tls_wbuf_close(w, mark, 2);
	if (!tls_wbuf_ok(w))
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"ServerKeyExchange does not fit in the handshake buffer");
	return 0;
}

int tls_hs_server_key_exchange_read(tls_conn *c, tls_cur *body)
{
	tls_hs *hs = c->hs;
	uint8_t msg[SIGNED_MAX];

	/* Only named curves (RFC 8422 §5.4: explicit curves are deprecated);
	 * any other curve_type has a different layout, so stop here. */
	uint8_t curve_type = tls_cur_u8(body);
	ENSURE(body->bad || curve_type == TLS_EC_CURVE_TYPE_NAMED, c, TLS_ALERT_ILLEGAL_PARAMETER,
	       "server sent ECDHE parameters with curve_type %u; only named_curve (3) is "
	       "supported",
	       curve_type);
	uint16_t group = tls_cur_u16(body);
	tls_cur point = tls_cur_block(body, 1);
	size_t plen = tls_cur_remaining(&point);
	const uint8_t *pt = tls_cur_bytes(&point, plen);
	uint16_t scheme = tls_cur_u16(body);
	tls_cur sigc = tls_cur_block(body, 2);
	size_t siglen = tls_cur_remaining(&sigc);
	const uint8_t *sig = tls_cur_bytes(&sigc, siglen);
	ENSURE(tls_cur_done(body) && pt != NULL && sig != NULL && plen > 0, c,
	       TLS_ALERT_DECODE_ERROR, "malformed ServerKeyExchange message");

	const tls_group *g = tls_group_by_id(group);
	ENSURE(tls_ids_contain(c->cfg->groups, c->cfg->ngroups, group), c,
	       TLS_ALERT_ILLEGAL_PARAMETER,
	       "server chose ECDHE group %u (%s), which we did not offer", group,
	       g != NULL ? g->name : "unknown");
	ENSURE(plen <= TLS_KX_MAX_PUB, c, TLS_ALERT_ILLEGAL_PARAMETER,
	       "server ECDHE public value is %zu bytes, longer than any supported group uses",
	       plen);
	if (hs->peer_key == NULL)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"ServerKeyExchange without a server certificate key");
	int kt = tls_key_type_of(hs->peer_key);
	/* One we implement, hence offered in signature_algorithms. */
	ENSURE(tls_sigscheme_by_id(scheme) && tls_sig_usable(scheme, kt), c,
	       TLS_ALERT_ILLEGAL_PARAMETER,
	       "server signed ServerKeyExchange with signature scheme 0x%04x (%s), which we did "
	       "not offer or which does not fit its certificate key",
	       scheme, scheme_name(scheme));

	size_t mlen = signed_message(hs, group, pt, plen, msg);
	if (mlen == 0 || tls_sig_verify(hs->peer_key, scheme, msg, mlen, sig, siglen) < 0)
		return tls_fail_r(c, TLS_ERR_AUTH, TLS_ALERT_DECRYPT_ERROR, TLS_R_BAD_SIGNATURE,
				  "server key exchange signature does not verify");

	memcpy(hs->peer_share, pt, plen);
	hs->peer_share_len = plen;
	c->group = group;
	c->peer_sigscheme = scheme;
	return 0;
}
