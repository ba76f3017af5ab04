/*
 * test_hint.c: shim_hint's advice is a function of codes (enum tls_err,
 * enum tls_reason, the alert) and the rule's facts, never of the
 * engine's sentence, which shim_hint_facts no longer carries: rewording a
 * message cannot change a hint (issue 13). Every (err, reason) pair is
 * tried and must give exactly the advice listed here, or none; and the
 * alerts that count as "rejects our certificate" are one table
 * (tls_alert_rejects_certificate), the same for the hint as for errno,
 * certificate_required (RFC 8446 §6.2) included.
 */
#include <string.h>

#include "check.h"
#include "consts.h"
#include "hint.h"

/* The advice for ${err}/${why} on a client (or server) rule, as its
 * first words; NULL: none. */
static const char *expected(enum tls_err err, enum tls_reason why, bool client)
{
	switch (err) {
	case TLS_ERR_AUTH:
		switch (why) {
		case TLS_R_CERT_NAME_MISMATCH:
			return "certificate is for localhost and 127.0.0.1; the rule expects "
			       "redis.internal: set server_name or reissue the certificate";
		case TLS_R_CERT_EXPIRED:
			return "certificate expired on 2020-01-02 03:04:05 UTC: reissue the";
		case TLS_R_CERT_SELF_SIGNED:
			return client ? "the server's certificate is self-signed and not in the "
					"rule's ca (/etc/ca.pem)"
				      : "the client's certificate is self-signed";
		case TLS_R_CERT_UNTRUSTED:
			return client ? "the server's chain does not lead to the rule's ca "
					"(/etc/ca.pem): point ca at"
				      : "the client's chain does not lead";
		case TLS_R_PIN_MISMATCH:
			return "the server's public key matches none of the rule's pin values";
		case TLS_R_CLIENT_CERT_REQUIRED:
			return "the client sent no certificate and the rule has verify_peer = "
			       "require";
		case TLS_R_CERT_KEY_UNACCEPTABLE:
			return client ? "reissue the server's certificate with an RSA"
				      : "reissue the client's certificate with an RSA";
		case TLS_R_BAD_SIGNATURE:
			return client ? "the server's signature did not verify"
				      : "the client's signature did not verify";
		default:
			return NULL;
		}
	case TLS_ERR_NEGOTIATION:
		switch (why) {
		case TLS_R_NO_COMMON_SUITE:
			return client ? "name one of the server's suites in the rule's ciphers"
				      : "name one of the client's suites in the rule's ciphers";
		case TLS_R_NO_COMMON_GROUP:
			return client ? "name one of the server's groups"
				      : "name one of the client's groups";
		case TLS_R_NO_COMMON_SIGALG:
			return client ? "the server cannot verify signatures"
				      : "the client cannot verify signatures";
		case TLS_R_NO_EMS:
		case TLS_R_NO_RENEG_INFO:
			return client ? "upgrade the server or its TLS library"
				      : "upgrade the client or its TLS library";
		case TLS_R_ALPN_NO_OVERLAP:
			return "add one of the client's protocols to the rule's alpn";
		case TLS_R_NO_COMMON_VERSION:
			return client ? "enable TLS 1.2 on the server"
				      : "enable TLS 1.2 on the client";
		default:
			return NULL;
		}
	case TLS_ERR_PROTOCOL:
		switch (why) {
		case TLS_R_PLAINTEXT_PEER:
			return client ? "the server is not speaking TLS"
				      : "the peer is not speaking TLS";
		case TLS_R_UNEXPECTED_CLIENT_HELLO:
			return client ? "the server sent our ClientHello back" : NULL;
		default:
			return NULL;
		}
	default:
		return NULL;
	}
}

static shim_hint_facts base(bool client)
{
	shim_hint_facts f = {
		.client = client,
		.expected = "redis.internal",
		.by_name = true,
		.peer_names = "localhost,127.0.0.1",
		.have_validity = true,
		.not_before = 1500000000,
		.not_after = 1577934245, /* 2020-01-02 03:04:05 UTC */
		.now = 1700000000,
		.ca = "/etc/ca.pem",
		.timeout = 10,
	};
	return f;
}

static void every_reason(void)
{
	static const enum tls_err errs[] = {TLS_ERR_AUTH,      TLS_ERR_NEGOTIATION,
					    TLS_ERR_PROTOCOL,  TLS_ERR_PEER_ALERT,
					    TLS_ERR_TRUNCATED, TLS_ERR_INTERNAL};
	char out[512];
	int hinted = 0;
	for (int side = 0; side < 2; side++)
		for (size_t e = 0; e < sizeof errs / sizeof errs[0]; e++)
			for (int why = 0; why < TLS_R_COUNT; why++) {
				shim_hint_facts f = base(side == 0);
				f.err = errs[e];
				f.why = (enum tls_reason)why;
				/* The alert is not what selects these hints. */
				f.alert = TLS_ALERT_INTERNAL_ERROR;
				size_t n = shim_hint(&f, out, sizeof out);
				CHECK_EQ(n, strlen(out));
				if (errs[e] == TLS_ERR_TRUNCATED || errs[e] == TLS_ERR_PEER_ALERT)
					continue; /* their advice depends on neither */
				const char *want = expected(errs[e], f.why, f.client);
				if (!want) {
					if (n != 0)
						fprintf(stderr,
							"err %d why %d: unexpected \"%s\"\n",
							(int)errs[e], why, out);
					CHECK_EQ(n, 0);
					continue;
				}
				hinted++;
				if (strncmp(out, want, strlen(want)) != 0)
					fprintf(stderr, "err %d why %d client %d: \"%s\"\n",
						(int)errs[e], why, f.client, out);
				CHECK(strncmp(out, want, strlen(want)) == 0);
			}
	/* 17 client hints and 16 server ones (no echo hint on a server). */
	CHECK_EQ(hinted, 33);
}

/* The hint's idea of "the server rejected our certificate" and errno's
 * (pump_errno: EACCES) come from one table. */
static void certificate_alerts(void)
{
	CHECK(tls_alert_rejects_certificate(TLS_ALERT_CERTIFICATE_REQUIRED));
	CHECK(tls_alert_rejects_certificate(TLS_ALERT_UNKNOWN_CA));
	CHECK(!tls_alert_rejects_certificate(TLS_ALERT_HANDSHAKE_FAILURE));
	CHECK(!tls_alert_rejects_certificate(TLS_ALERT_PROTOCOL_VERSION));
	static const char rejected[] = "the server rejected our client certificate (";
	char out[512];
	int n = 0;
	for (unsigned a = 0; a < 256; a++) {
		shim_hint_facts f = base(true);
		f.err = TLS_ERR_PEER_ALERT;
		f.alert = (uint8_t)a;
		f.have_cert = true;
		shim_hint(&f, out, sizeof out);
		bool says = strncmp(out, rejected, strlen(rejected)) == 0;
		CHECK_EQ(says, tls_alert_rejects_certificate((uint8_t)a));
		n += says;
	}
	CHECK_EQ(n, 8);
	/* certificate_required to a client that had none to send. */
	shim_hint_facts f = base(true);
	f.err = TLS_ERR_PEER_ALERT;
	f.alert = TLS_ALERT_CERTIFICATE_REQUIRED;
	f.cert_missing = true;
	shim_hint(&f, out, sizeof out);
	CHECK(strcmp(out, "the server requires a client certificate: set cert and key in the "
			  "rule") == 0);
	f.have_cert = true;
	f.cert_missing = false;
	shim_hint(&f, out, sizeof out);
	CHECK(strstr(out, "(certificate_required)") != NULL);
}

int main(void)
{
	every_reason();
	certificate_alerts();
	return check_exit("test_hint");
}
