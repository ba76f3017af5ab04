/*
 * The handshake trace (tls_conn_set_trace): each side sees every message it
 * sends and receives, in the order of RFC 5246 §7.3 figures 1 and 2, with
 * the byte counts matching between the two sides, then the completion or
 * the failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "suites.h"
#include "testpair.h"

#define MAX_LINES 32

typedef struct trace {
	size_t n;
	char line[MAX_LINES][512];
} trace;

static void collect(void *arg, const char *line)
{
	trace *t = arg;
	CHECK(t->n < MAX_LINES);
	if (t->n < MAX_LINES)
		snprintf(t->line[t->n++], sizeof t->line[0], "%s", line);
}

/* The step of a line: "send ClientHello (213 bytes): ..." -> "send ClientHello". */
static void step(const char *line, char *out, size_t len)
{
	size_t k = strcspn(line, "(:");
	while (k > 0 && line[k - 1] == ' ')
		k--;
	snprintf(out, len, "%.*s", (int)k, line);
}

/* The lines of ${t} are exactly the steps in ${want} (NULL-terminated). */
static void expect_steps(const trace *t, const char *const *want, const char *who)
{
	size_t n = 0;
	while (want[n])
		n++;
	CHECK_EQ(t->n, n);
	for (size_t i = 0; i < t->n && i < n; i++) {
		char s[128];
		step(t->line[i], s, sizeof s);
		if (strcmp(s, want[i]) != 0) {
			fprintf(stderr, "  %s line %zu: \"%s\", expected \"%s\"\n", who, i,
				t->line[i], want[i]);
			CHECK(strcmp(s, want[i]) == 0);
		}
	}
}

/* The byte count of the line for ${what} ("send ClientHello"), or 0. */
static size_t bytes_of(const trace *t, const char *what)
{
	for (size_t i = 0; i < t->n; i++) {
		char s[128];
		step(t->line[i], s, sizeof s);
		size_t b = 0;
		const char *p = strchr(t->line[i], '(');
		if (strcmp(s, what) == 0 && p && sscanf(p, "(%zu bytes)", &b) == 1)
			return b;
	}
	return 0;
}

static const char *find(const trace *t, const char *prefix)
{
	for (size_t i = 0; i < t->n; i++)
		if (strncmp(t->line[i], prefix, strlen(prefix)) == 0)
			return t->line[i];
	return "";
}

/* The same message, seen by its sender and its receiver, has one size. */
static void same_size(const trace *from, const trace *to, const char *msg)
{
	char s[64], r[64];
	snprintf(s, sizeof s, "send %s", msg);
	snprintf(r, sizeof r, "recv %s", msg);
	size_t a = bytes_of(from, s), b = bytes_of(to, r);
	CHECK(a > 4);
	CHECK_EQ(a, b);
}

static const char *const client_full[] = {
	"send ClientHello",
	"recv ServerHello",
	"recv Certificate",
	"recv ServerKeyExchange",
	"recv ServerHelloDone",
	"send ClientKeyExchange",
	"send ChangeCipherSpec",
	"send Finished",
	"recv NewSessionTicket",
	"recv ChangeCipherSpec",
	"recv Finished",
	"handshake complete",
	NULL,
};
static const char *const server_full[] = {
	"recv ClientHello",
	"send ServerHello",
	"send Certificate",
	"send ServerKeyExchange",
	"send ServerHelloDone",
	"recv ClientKeyExchange",
	"recv ChangeCipherSpec",
	"recv Finished",
	"send NewSessionTicket",
	"send ChangeCipherSpec",
	"send Finished",
	"handshake complete",
	NULL,
};
static const char *const client_resumed[] = {
	"send ClientHello",      "recv ServerHello", "recv ChangeCipherSpec", "recv Finished",
	"send ChangeCipherSpec", "send Finished",    "handshake complete",    NULL,
};
static const char *const server_resumed[] = {
	"recv ClientHello",      "send ServerHello", "send ChangeCipherSpec", "send Finished",
	"recv ChangeCipherSpec", "recv Finished",    "handshake complete",    NULL,
};
static const char *const client_mutual[] = {
	"send ClientHello",        "recv ServerHello",
	"recv Certificate",        "recv ServerKeyExchange",
	"recv CertificateRequest", "recv ServerHelloDone",
	"send Certificate",        "send ClientKeyExchange",
	"send CertificateVerify",  "send ChangeCipherSpec",
	"send Finished",           "recv NewSessionTicket",
	"recv ChangeCipherSpec",   "recv Finished",
	"handshake complete",      NULL,
};
static const char *const client_refused[] = {
	"send ClientHello", "recv ServerHello", "recv Certificate", "failed", NULL,
};

static tls_session *full(tls_config *ccfg, tls_config *scfg)
{
	trace ct = {0}, st = {0};
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	tls_conn_set_trace(cli, collect, &ct);
	tls_conn_set_trace(srv, collect, &st);
	CHECK(testpair_handshake(cli, srv));
	expect_steps(&ct, client_full, "client");
	expect_steps(&st, server_full, "server");
	const char *msgs[] = {"ClientHello", "ClientKeyExchange", "Finished"};
	for (size_t i = 0; i < 3; i++)
		same_size(&ct, &st, msgs[i]);
	const char *smsgs[] = {"ServerHello", "Certificate", "ServerKeyExchange",
			       "NewSessionTicket", "Finished"};
	for (size_t i = 0; i < 5; i++)
		same_size(&st, &ct, smsgs[i]);
	/* The facts each step settled. */
	CHECK(strstr(find(&ct, "send ClientHello"), ", SNI server.test") != NULL);
	CHECK(strstr(find(&ct, "recv ServerHello"), ": suite ECDHE-ECDSA-") != NULL);
	CHECK(strstr(find(&ct, "recv Certificate"), "\"CN=server ") != NULL);
	CHECK(strstr(find(&ct, "recv Certificate"), ", verified") != NULL);
	CHECK(strstr(find(&ct, "recv ServerKeyExchange"), ": group x25519") != NULL);
	CHECK(strstr(find(&st, "recv ClientHello"), "SNI server.test") != NULL);
	CHECK(strstr(find(&ct, "handshake complete"), "new session") != NULL);
	tls_session *s = tls_conn_get_session(cli);
	CHECK(s != NULL);
	tls_conn_free(cli);
	tls_conn_free(srv);
	return s;
}

static void resumed(tls_config *ccfg, tls_config *scfg, tls_session *s)
{
	trace ct = {0}, st = {0};
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	tls_conn_set_session(cli, s);
	tls_conn_set_trace(cli, collect, &ct);
	tls_conn_set_trace(srv, collect, &st);
	CHECK(testpair_handshake(cli, srv));
	expect_steps(&ct, client_resumed, "client");
	expect_steps(&st, server_resumed, "server");
	CHECK(strstr(find(&ct, "send ClientHello"), "offering a session ticket") != NULL);
	CHECK(strstr(find(&ct, "recv ServerHello"), "resuming the session") != NULL);
	CHECK(strstr(find(&st, "handshake complete"), ", resumed") != NULL);
	tls_conn_free(cli);
	tls_conn_free(srv);
}

static void mutual(void)
{
	const testpair_pki *pki = testpair_pki_get();
	char err[256];
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	CHECK(tls_config_set_ca_pem(scfg, pki->ca_pem, strlen(pki->ca_pem), err, sizeof err) == 0);
	tls_config_set_verify(scfg, TLS_VERIFY_REQUIRE);
	tls_config *ccfg = testpair_client_config();
	CHECK(tls_config_set_chain_pem(ccfg, pki->cli_cert[TLS_KEY_EC_P256],
				       strlen(pki->cli_cert[TLS_KEY_EC_P256]), err,
				       sizeof err) == 0);
	CHECK(tls_config_set_key_pem(ccfg, pki->cli_key[TLS_KEY_EC_P256],
				     strlen(pki->cli_key[TLS_KEY_EC_P256]), err, sizeof err) == 0);
	trace ct = {0}, st = {0};
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	tls_conn_set_trace(cli, collect, &ct);
	tls_conn_set_trace(srv, collect, &st);
	CHECK(testpair_handshake(cli, srv));
	expect_steps(&ct, client_mutual, "client");
	same_size(&ct, &st, "Certificate");
	same_size(&ct, &st, "CertificateVerify");
	CHECK(strstr(find(&st, "recv Certificate"), ", verified") != NULL);
	tls_conn_free(cli);
	tls_conn_free(srv);
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
}

/* A refused certificate: the Certificate line names the peer, then the
 * failure follows with the alert we send; the server hears it. */
static void refused(tls_config *ccfg, tls_config *scfg)
{
	trace ct = {0}, st = {0};
	tls_conn *cli = tls_conn_new(ccfg, "other.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	tls_conn_set_trace(cli, collect, &ct);
	tls_conn_set_trace(srv, collect, &st);
	CHECK(!testpair_handshake(cli, srv));
	expect_steps(&ct, client_refused, "client");
	CHECK(strstr(find(&ct, "recv Certificate"), "\"CN=server ") != NULL);
	CHECK(strstr(find(&ct, "recv Certificate"), "verified") == NULL);
	CHECK(strstr(find(&ct, "failed: "), "name mismatch") != NULL);
	CHECK(strstr(find(&ct, "failed: "), "(send alert bad_certificate)") != NULL);
	CHECK(st.n > 0 && strstr(st.line[st.n - 1], "failed: peer sent fatal alert "
						    "bad_certificate") != NULL);
	tls_conn_free(cli);
	tls_conn_free(srv);
}

int main(void)
{
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *ccfg = testpair_client_config();
	tls_session *s = full(ccfg, scfg);
	if (s)
		resumed(ccfg, scfg, s);
	tls_session_unref(s);
	mutual();
	refused(ccfg, scfg);
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
	return check_exit("engine/trace");
}
