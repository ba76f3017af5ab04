#include "hint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "consts.h"
#include "policy.h"
#include "rules.h"

static size_t put(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static size_t put(char *out, size_t len, const char *fmt, ...)
{
	if (len == 0)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		out[0] = '\0';
		return 0;
	}
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* "a,b,c" -> "a, b and c"; "" -> a phrase saying there are none. */
static void names_text(const char *list, char *out, size_t len)
{
	if (!list || !*list) {
		snprintf(out, len, "no DNS names or IP addresses (no subjectAltName)");
		return;
	}
	const char *last = strrchr(list, ',');
	size_t o = 0;
	for (const char *p = list; *p && o + 6 < len; p++) {
		if (*p != ',') {
			out[o++] = *p;
		} else if (p == last) {
			memcpy(out + o, " and ", 5);
			o += 5;
		} else {
			out[o++] = ',';
			out[o++] = ' ';
		}
	}
	out[o] = '\0';
}

static void date_text(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, len, "%lld (seconds since 1970)", (long long)t);
}

static const char *ca_text(const shim_hint_facts *f, char *buf, size_t len)
{
	if (!f->ca)
		return "(none: the rule has no ca)";
	if (strcmp(f->ca, "system") == 0)
		return "(ca = system: the operating system's trust store)";
	snprintf(buf, len, "(%s)", f->ca);
	return buf;
}

/* We rejected the peer's identity (TLS_ERR_AUTH). */
static size_t auth_hint(const shim_hint_facts *f, char *out, size_t len)
{
	const char *peer = f->client ? "server" : "client";
	char names[512], when[64], cabuf[300];
	switch (f->why) {
	case TLS_R_CERT_NAME_MISMATCH:
		names_text(f->peer_names, names, sizeof names);
		if (f->by_name)
			return put(out, len,
				   "certificate is for %s; the rule expects %s: set server_name "
				   "or reissue the certificate",
				   names, f->expected);
		return put(out, len,
			   "certificate is for %s; without server_name the rule expects the "
			   "address %s: set server_name to a name the certificate carries, or "
			   "reissue it with IP:%s",
			   names, f->expected, f->expected);
	case TLS_R_CERT_EXPIRED:
		if (f->have_validity && f->now > f->not_after) {
			date_text(f->not_after, when, sizeof when);
			return put(out, len,
				   "certificate expired on %s: reissue the %s's certificate (or "
				   "fix this machine's clock)",
				   when, peer);
		}
		if (f->have_validity && f->now < f->not_before) {
			date_text(f->not_before, when, sizeof when);
			return put(out, len,
				   "certificate is not valid before %s: check the clocks of both "
				   "machines",
				   when);
		}
		return put(out, len,
			   "a CA certificate in the %s's chain is outside its validity "
			   "period: renew it",
			   peer);
	case TLS_R_CERT_SELF_SIGNED:
		return put(out, len,
			   "the %s's certificate is self-signed and not in the rule's ca "
			   "%s: add it to ca, or issue the %s's certificate from that CA",
			   peer, ca_text(f, cabuf, sizeof cabuf), peer);
	case TLS_R_CERT_UNTRUSTED:
		return put(out, len,
			   "the %s's chain does not lead to the rule's ca %s: point ca at the "
			   "CA that issued the %s's certificate",
			   peer, ca_text(f, cabuf, sizeof cabuf), peer);
	case TLS_R_PIN_MISMATCH:
		return put(out, len,
			   "the server's public key matches none of the rule's pin values: if "
			   "its key was changed on purpose, update pin");
	case TLS_R_CLIENT_CERT_REQUIRED:
		return put(out, len,
			   "the client sent no certificate and the rule has verify_peer = "
			   "require: give the client a certificate (under tlshim: cert and key "
			   "in its client rule) or set verify_peer = optional");
	case TLS_R_CERT_KEY_UNACCEPTABLE:
		return put(out, len,
			   "reissue the %s's certificate with an RSA (2048 bits or more), ECDSA "
			   "P-256/P-384 or Ed25519 key",
			   peer);
	case TLS_R_BAD_SIGNATURE:
		return put(out, len,
			   "the %s's signature did not verify: its private key does not match "
			   "its certificate, or the handshake was altered in transit",
			   peer);
	default:
		return 0;
	}
}

/* The peer refused us with a fatal alert (TLS_ERR_PEER_ALERT). */
static size_t alert_hint(const shim_hint_facts *f, char *out, size_t len)
{
	const char *name = tls_alert_name(f->alert);
	bool cert_alert = tls_alert_rejects_certificate(f->alert);
	if (f->client && f->cert_missing && (f->alert == TLS_ALERT_HANDSHAKE_FAILURE || cert_alert))
		return put(out, len,
			   "the server requires a client certificate: set cert and key in the "
			   "rule");
	if (f->client && cert_alert && f->have_cert)
		return put(out, len,
			   "the server rejected our client certificate (%s): make the server "
			   "trust the CA that issued the rule's cert, or reissue the certificate",
			   name);
	if (!f->client && f->alert == TLS_ALERT_UNKNOWN_CA)
		return put(out, len,
			   "the client does not trust the CA that issued the rule's cert: give "
			   "the client that CA (under tlshim: ca in its client rule)");
	if (!f->client && f->alert == TLS_ALERT_CERTIFICATE_EXPIRED)
		return put(out, len, "the client says the rule's cert has expired: reissue it");
	if (!f->client && cert_alert)
		return put(out, len,
			   "the client rejected the rule's cert (%s), often a name mismatch: the "
			   "name or address the client expects must be in the certificate's "
			   "subjectAltName",
			   name);
	if (f->client && f->alert == TLS_ALERT_NO_APPLICATION_PROTOCOL)
		return put(out, len,
			   "the server serves none of the protocols in the rule's alpn (RFC "
			   "7301): name one it serves, or drop alpn from the rule");
	if (f->alert == TLS_ALERT_PROTOCOL_VERSION)
		return put(out, len,
			   "the %s does not accept TLS 1.2, the only version tlshim speaks: "
			   "enable TLS 1.2 on it",
			   f->client ? "server" : "client");
	if (f->alert == TLS_ALERT_HANDSHAKE_FAILURE || f->alert == TLS_ALERT_INSUFFICIENT_SECURITY)
		return put(out, len,
			   "the %s found nothing acceptable in our offer: compare its cipher "
			   "suites, groups and signature schemes with the rule's ciphers and "
			   "groups (tlshim also requires the extended master secret, RFC 7627)",
			   f->client ? "server" : "client");
	return 0;
}

/* We found nothing in common (TLS_ERR_NEGOTIATION); the engine's sentence
 * already says what the peer offered. */
static size_t negotiation_hint(const shim_hint_facts *f, char *out, size_t len)
{
	const char *peer = f->client ? "server" : "client";
	switch (f->why) {
	case TLS_R_NO_COMMON_SUITE:
		return put(out, len,
			   "name one of the %s's suites in the rule's ciphers, or enable an "
			   "ECDHE AEAD suite on the %s",
			   peer, peer);
	case TLS_R_NO_COMMON_GROUP:
		return put(out, len,
			   "name one of the %s's groups in the rule's groups, or enable x25519, "
			   "secp256r1 or secp384r1 on the %s",
			   peer, peer);
	case TLS_R_NO_COMMON_SIGALG:
		return put(out, len,
			   "the %s cannot verify signatures of the rule's key type: use a "
			   "certificate with another key type (ECDSA P-256 is the most widely "
			   "accepted)",
			   peer);
	case TLS_R_NO_EMS:
	case TLS_R_NO_RENEG_INFO:
		return put(out, len,
			   "upgrade the %s or its TLS library: tlshim requires the extended "
			   "master secret (RFC 7627) and renegotiation_info (RFC 5746); "
			   "legacy_peers = yes in the rule accepts such peers (never resumed)",
			   peer);
	case TLS_R_ALPN_NO_OVERLAP:
		return put(out, len,
			   "add one of the client's protocols to the rule's alpn, or drop alpn "
			   "from the rule to serve clients without choosing one");
	case TLS_R_NO_COMMON_VERSION:
		return put(out, len, "enable TLS 1.2 on the %s", peer);
	default:
		return 0;
	}
}

size_t shim_hint(const shim_hint_facts *f, char *out, size_t len)
{
	if (len == 0)
		return 0;
	out[0] = '\0';
	if (f->timed_out)
		return f->client ? put(out, len,
				       "the server sent no TLS answer within handshake_timeout "
				       "(%u s): if it is a plaintext server, wrap it with tlshim; "
				       "if it is slow, raise handshake_timeout",
				       f->timeout)
				 : put(out, len,
				       "the client sent no TLS ClientHello within "
				       "handshake_timeout (%u s): a plaintext client waiting for "
				       "the server to speak first must be wrapped with tlshim; if "
				       "it is slow, raise handshake_timeout",
				       f->timeout);
	if (f->sock_errno || f->ready)
		return 0; /* the TCP connection's own errno, or after the handshake */
	switch (f->err) {
	case TLS_ERR_AUTH:
		return auth_hint(f, out, len);
	case TLS_ERR_PEER_ALERT:
		return alert_hint(f, out, len);
	case TLS_ERR_NEGOTIATION:
		return negotiation_hint(f, out, len);
	case TLS_ERR_PROTOCOL:
		if (f->why == TLS_R_PLAINTEXT_PEER)
			return f->client ? put(out, len,
					       "the server is not speaking TLS: wrap it with "
					       "tlshim, or point the rule at its TLS port")
					 : put(out, len,
					       "the peer is not speaking TLS: wrap it with tlshim "
					       "or use a TLS client");
		/* A plaintext echo service sends our own ClientHello back. */
		if (f->client && f->why == TLS_R_UNEXPECTED_CLIENT_HELLO)
			return put(out, len,
				   "the server sent our ClientHello back: it is a plaintext "
				   "program echoing bytes, not a TLS server: wrap it with tlshim");
		return 0;
	case TLS_ERR_TRUNCATED:
		return f->client ? put(out, len,
				       "the server closed the connection without an alert: it "
				       "may not speak TLS on this port, or refused us (see its "
				       "log)")
				 : put(out, len,
				       "the client closed the connection without an alert: it "
				       "may have rejected the rule's cert (see its log)");
	default:
		return 0;
	}
}

/* The bare address of "1.2.3.4:5" or "[::1]:5". */
static void peer_address(const char *peer, char *out, size_t len)
{
	const char *end;
	if (peer[0] == '[') {
		peer++;
		end = strchr(peer, ']');
	} else {
		end = strrchr(peer, ':');
	}
	size_t n = end ? (size_t)(end - peer) : strlen(peer);
	snprintf(out, len, "%.*s", (int)n, peer);
}

size_t shim_refusal_hint(const sconn *s, char *out, size_t len)
{
	const shim_rule *r = s->rule;
	const tlsp_rule *src = r->src;
	char names[512], ip[64];
	shim_hint_facts f = {
		.client = s->client,
		.ready = sconn_ready(s),
		.timed_out = __atomic_load_n(&s->timed_out, __ATOMIC_ACQUIRE),
		.sock_errno = __atomic_load_n(&s->sock_errno, __ATOMIC_ACQUIRE),
		.cert_missing = tls_conn_client_cert_missing(s->tls),
		.by_name = r->server_name[0] != '\0',
		.peer_names = names,
		.now = (int64_t)time(NULL),
		.ca = src && src->ca_system ? "system"
		      : src                 ? src->ca
					    : NULL,
		.have_cert = src && src->cert,
		.timeout = r->handshake_timeout,
	};
	f.err = tls_conn_error(s->tls, &f.alert, NULL, NULL);
	f.why = tls_conn_reason(s->tls);
	tls_conn_peer_names(s->tls, names, sizeof names);
	f.have_validity = tls_conn_peer_validity(s->tls, &f.not_before, &f.not_after) == 0;
	if (f.by_name) {
		f.expected = r->server_name;
	} else {
		peer_address(s->peer, ip, sizeof ip);
		f.expected = ip;
	}
	return shim_hint(&f, out, len);
}
