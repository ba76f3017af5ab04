/*
 * test_alpn.c: ALPN (RFC 7301) through whole handshakes, client and server
 * engines in memory: the agreed protocol in tls_info on both ends and in
 * the handshake trace, no_application_protocol (alert 120) reaching the
 * client as the peer's alert, and resumption, where ALPN is negotiated
 * again in each hello (RFC 7301 §3.1: "only the values in the new
 * handshake messages are considered"): a resumed connection reports the
 * protocol of its own hellos, never the one the session was made with, and
 * a valid ticket does not get a client past a server that shares no
 * protocol with it. The hello-level checks (malformed lists, the client's
 * checks of the answer) are in test_hello.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"

static tls_config *with_alpn(tls_config *cfg, const char *list)
{
	char err[256];

	if (list != NULL && tls_config_set_alpn(cfg, list, err, sizeof err) != 0) {
		fprintf(stderr, "test_alpn: %s: %s\n", list, err);
		exit(1);
	}
	return cfg;
}

struct trace {
	char lines[4096];
};

static void trace_cb(void *arg, const char *line)
{
	struct trace *t = arg;
	size_t n = strlen(t->lines);
	snprintf(t->lines + n, sizeof t->lines - n, "%s\n", line);
}

/* What one handshake came to, on both ends. */
typedef struct result {
	bool ok;
	tls_info ci, si;             /* when ok */
	enum tls_err cerr, serr;     /* when not */
	uint8_t calert, salert;      /* the alert each side sent or got */
	bool cfrom_peer, sfrom_peer; /* ... and whether it came from the peer */
} result;

/* connect_pair(ccfg, scfg, s, trace, out): one handshake, offering session
 * ${s} when not NULL; data both ways when established. ${*out} (may be
 * NULL) gets the client's new session. */
static result connect_pair(tls_config *ccfg, tls_config *scfg, tls_session *s, struct trace *trace,
			   tls_session **out)
{
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	result r = {.ok = false};

	if (trace != NULL)
		tls_conn_set_trace(cli, trace_cb, trace);
	if (s != NULL)
		tls_conn_set_session(cli, s);
	r.ok = testpair_handshake(cli, srv);
	if (r.ok) {
		CHECK_EQ(tls_conn_info(cli, &r.ci), 0);
		CHECK_EQ(tls_conn_info(srv, &r.si), 0);
		CHECK(testpair_transfer(cli, srv, cli, srv, 3000));
		CHECK(testpair_transfer(srv, cli, cli, srv, 3000));
		if (out != NULL)
			*out = tls_conn_get_session(cli);
	} else {
		r.cerr = tls_conn_error(cli, &r.calert, &r.cfrom_peer, NULL);
		r.serr = tls_conn_error(srv, &r.salert, &r.sfrom_peer, NULL);
	}
	tls_conn_free(cli);
	tls_conn_free(srv);
	return r;
}

static void test_full(void)
{
	static const struct {
		const char *srv, *cli, *agreed;
	} cases[] = {
		{"h2,http/1.1", "http/1.1,h2", "h2"},       /* the server's order */
		{"http/1.1", "h2,http/1.1", "http/1.1"},    /* curl --http2 to an HTTP/1.1 rule */
		{"postgresql", "postgresql", "postgresql"}, /* PostgreSQL 17 direct TLS */
		{"h2", NULL, ""},                           /* client offers none: served */
		{NULL, "h2", ""},                           /* server has none: ignored */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tls_config *s = with_alpn(testpair_server_config(TLS_KEY_EC_P256), cases[i].srv);
		tls_config *c = with_alpn(testpair_client_config(), cases[i].cli);
		struct trace t = {""};
		result r = connect_pair(c, s, NULL, &t, NULL);

		CHECK(r.ok);
		CHECK(r.ci.alpn != NULL && strcmp(r.ci.alpn, cases[i].agreed) == 0);
		CHECK(r.si.alpn != NULL && strcmp(r.si.alpn, cases[i].agreed) == 0);
		CHECK_EQ(r.ci.version, 0x0303);
		if (cases[i].cli != NULL) {
			char offer[128];
			snprintf(offer, sizeof offer, ", ALPN %s\n", cases[i].cli);
			CHECK(strstr(t.lines, offer) != NULL); /* "send ClientHello ..." */
		}
		if (cases[i].agreed[0]) {
			char want[128];
			snprintf(want, sizeof want, ", ALPN %s", cases[i].agreed);
			CHECK(strstr(t.lines, want) != NULL);
		} else {
			const char *sh = strstr(t.lines, "recv ServerHello");
			const char *eol = sh ? strchr(sh, '\n') : NULL;
			const char *alpn = sh ? strstr(sh, "ALPN") : NULL;
			CHECK(sh != NULL && eol != NULL && (alpn == NULL || alpn > eol));
		}
		tls_config_unref(s);
		tls_config_unref(c);
	}
}

static void test_no_overlap(void)
{
	tls_config *s = with_alpn(testpair_server_config(TLS_KEY_EC_P256), "postgresql");
	tls_config *c = with_alpn(testpair_client_config(), "h2,http/1.1");
	result r = connect_pair(c, s, NULL, NULL, NULL);

	/* The server refused (negotiation, alert 120 sent); the client got
	 * the peer's fatal alert. */
	CHECK(!r.ok);
	CHECK_EQ(r.serr, TLS_ERR_NEGOTIATION);
	CHECK_EQ(r.salert, TLS_ALERT_NO_APPLICATION_PROTOCOL);
	CHECK(!r.sfrom_peer);
	CHECK_EQ(r.cerr, TLS_ERR_PEER_ALERT);
	CHECK_EQ(r.calert, TLS_ALERT_NO_APPLICATION_PROTOCOL);
	CHECK(r.cfrom_peer);
	CHECK(strcmp(tls_alert_name(TLS_ALERT_NO_APPLICATION_PROTOCOL),
		     "no_application_protocol") == 0);
	tls_config_unref(s);
	tls_config_unref(c);
}

static void test_resumption(void)
{
	tls_config *s = with_alpn(testpair_server_config(TLS_KEY_EC_P256), "h2,http/1.1");
	tls_config *c_h2 = with_alpn(testpair_client_config(), "h2");
	tls_config *c_h1 = with_alpn(testpair_client_config(), "http/1.1");
	tls_config *c_none = testpair_client_config();
	tls_session *sess = NULL, *again = NULL;
	result r = connect_pair(c_h2, s, NULL, NULL, &sess);

	CHECK(r.ok && !r.ci.resumed && strcmp(r.ci.alpn, "h2") == 0);
	CHECK(sess != NULL);
	if (sess == NULL)
		goto out;

	/* The same client resumes and agrees h2 again. */
	r = connect_pair(c_h2, s, sess, NULL, &again);
	CHECK(r.ok && r.ci.resumed && r.si.resumed);
	CHECK(strcmp(r.ci.alpn, "h2") == 0 && strcmp(r.si.alpn, "h2") == 0);
	tls_session_unref(again);
	again = NULL;

	/* A client (same trust, so the session may be offered) that now asks
	 * for http/1.1 resumes with http/1.1: the new hellos decide. */
	r = connect_pair(c_h1, s, sess, NULL, NULL);
	CHECK(r.ok && r.ci.resumed && r.si.resumed);
	CHECK(strcmp(r.ci.alpn, "http/1.1") == 0 && strcmp(r.si.alpn, "http/1.1") == 0);

	/* Offering no ALPN on resumption: resumed, and no ALPN at all. */
	r = connect_pair(c_none, s, sess, NULL, NULL);
	CHECK(r.ok && r.ci.resumed && r.si.resumed);
	CHECK(r.ci.alpn[0] == '\0' && r.si.alpn[0] == '\0');

	/* A server that shares the ticket keys but now serves only
	 * postgresql refuses the h2 client, valid ticket or not. */
	tls_config *s_pg = with_alpn(testpair_server_config(TLS_KEY_EC_P256), "postgresql");
	tls_config_share_tickets(s_pg, s);
	r = connect_pair(c_none, s_pg, sess, NULL, NULL);
	CHECK(r.ok && r.ci.resumed); /* the keys are shared: the ticket is good there */
	r = connect_pair(c_h2, s_pg, sess, NULL, NULL);
	CHECK(!r.ok);
	CHECK_EQ(r.salert, TLS_ALERT_NO_APPLICATION_PROTOCOL);
	tls_config_unref(s_pg);
out:
	tls_session_unref(sess);
	tls_config_unref(s);
	tls_config_unref(c_h2);
	tls_config_unref(c_h1);
	tls_config_unref(c_none);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_full();
	test_no_overlap();
	test_resumption();
	return check_exit("engine/alpn");
}
