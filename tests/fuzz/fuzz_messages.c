/*
 * fuzz_messages.c: one handshake message reader of core/handshake.h called
 * directly on the input, with the connection set up as the state machine
 * would have it when that message arrives. This reaches every parser
 * without the records, ordering and signatures in front of it.
 *
 * Input: a selector byte (fuzz.h: reader in the low nibble, variant bits in
 * the high nibble), then the message body.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

static tls_config *srv_ecdsa, *srv_ecdsa_ask, *srv_rsa, *client_cfg;

static void init(void)
{
	fuzz_rand_install();
	srv_ecdsa = fuzz_server_config(TLS_KEY_EC_P256, false, NULL, NULL);
	srv_ecdsa_ask = fuzz_server_config(TLS_KEY_EC_P256, true, NULL, NULL);
	srv_rsa = fuzz_server_config(TLS_KEY_RSA, false, NULL, NULL);
	client_cfg = fuzz_client_config(true);
}

static tls_conn *server(tls_config *cfg)
{
	fuzz_rand_reset(FUZZ_RAND_SERVER);
	tls_conn *c = tls_conn_new(cfg, NULL, NULL);
	if (!c || !c->hs)
		fuzz_fail("tls_conn_new (server) failed");
	return c;
}

/* A client that has sent its ClientHello (offering ${offer} if not NULL)
 * and waits for ServerHello. With fuzz_session() as the offer, a recorded
 * ServerHello that echoes the session id resumes. */
static tls_conn *client(tls_session *offer)
{
	fuzz_rand_reset(FUZZ_RAND_CLIENT);
	tls_conn *c = tls_conn_new(client_cfg, FUZZ_SERVER_NAME, NULL);
	size_t len = 0;
	if (!c)
		fuzz_fail("tls_conn_new (client) failed");
	if (offer)
		tls_conn_set_session(c, offer);
	if (!tls_conn_sendbuf(c, &len) || !c->hs)
		fuzz_fail("client did not write its ClientHello");
	tls_conn_send_done(c, len);
	return c;
}

static void set_suite(tls_conn *c, uint16_t id)
{
	c->suite = tls_suite_by_id(id);
	if (!c->suite)
		fuzz_fail("no suite 0x%04x", id);
}

static void set_peer_key(tls_conn *c, EVP_PKEY *k)
{
	EVP_PKEY_up_ref(k);
	EVP_PKEY_free(c->hs->peer_key);
	c->hs->peer_key = k;
}

/* Earlier handshake messages, for readers that hash or sign over them; a
 * client keeps its real ClientHello. */
static void transcript(tls_conn *c)
{
	tls_hs *hs = c->hs;
	if (hs->tlen > 0)
		return;
	free(hs->transcript);
	hs->tcap = hs->tlen = 200;
	hs->transcript = malloc(hs->tcap);
	if (!hs->transcript)
		fuzz_fail("out of memory");
	memset(hs->transcript, 0x16, hs->tlen);
}

typedef int (*reader_fn)(tls_conn *c, tls_cur *body);

static const struct {
	const char *name;
	reader_fn read;
} readers[FUZZ_MSG_COUNT] = {
	[FUZZ_MSG_CLIENT_HELLO] = {"ClientHello", tls_hs_client_hello_read},
	[FUZZ_MSG_SERVER_HELLO] = {"ServerHello", tls_hs_server_hello_read},
	[FUZZ_MSG_CERTIFICATE] = {"Certificate", tls_hs_certificate_read},
	[FUZZ_MSG_SERVER_KEY_EXCHANGE] = {"ServerKeyExchange", tls_hs_server_key_exchange_read},
	[FUZZ_MSG_CERTIFICATE_REQUEST] = {"CertificateRequest", tls_hs_certificate_request_read},
	[FUZZ_MSG_CLIENT_KEY_EXCHANGE] = {"ClientKeyExchange", tls_hs_client_key_exchange_read},
	[FUZZ_MSG_CERTIFICATE_VERIFY] = {"CertificateVerify", tls_hs_certificate_verify_read},
	[FUZZ_MSG_NEW_SESSION_TICKET] = {"NewSessionTicket", tls_hs_new_session_ticket_read},
	[FUZZ_MSG_FINISHED] = {"Finished", tls_hs_finished_read},
};

/* setup(msg, v): a connection in the state ${msg}'s reader expects. */
static tls_conn *setup(int msg, unsigned v)
{
	const fuzz_pki *pki = fuzz_pki_get();
	bool rsa = v & FUZZ_V_RSA;
	uint16_t ecdhe_suite = rsa ? TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
				   : TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	tls_conn *c;

	switch (msg) {
	case FUZZ_MSG_CLIENT_HELLO:
		return server(rsa ? srv_rsa : (v & FUZZ_V_ALT1) ? srv_ecdsa_ask : srv_ecdsa);
	case FUZZ_MSG_SERVER_HELLO:
		if (v & FUZZ_V_ALT1) {
			tls_session *s = fuzz_session();
			c = client(s);
			tls_session_unref(s);
			return c;
		}
		return client(NULL);
	case FUZZ_MSG_CERTIFICATE:
		if (v & FUZZ_V_SERVER) {
			c = server(srv_ecdsa_ask);
			set_suite(c, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
			c->hs->cert_requested = true;
			return c;
		}
		c = client(NULL);
		set_suite(c, ecdhe_suite);
		return c;
	case FUZZ_MSG_SERVER_KEY_EXCHANGE:
		c = client(NULL);
		set_suite(c, ecdhe_suite);
		set_peer_key(c, rsa ? pki->rsa_pub : pki->ecdsa_pub);
		return c;
	case FUZZ_MSG_CERTIFICATE_REQUEST:
	case FUZZ_MSG_NEW_SESSION_TICKET:
		c = client(NULL);
		set_suite(c, ecdhe_suite);
		set_peer_key(c, rsa ? pki->rsa_pub : pki->ecdsa_pub);
		c->hs->send_ticket = true;
		return c;
	case FUZZ_MSG_CLIENT_KEY_EXCHANGE: {
		if (rsa) {
			c = server(srv_rsa);
			set_suite(c, TLS_RSA_WITH_AES_128_GCM_SHA256);
			c->hs->client_version = TLS_VERSION_1_2;
			return c;
		}
		uint16_t group = (v & FUZZ_V_ALT1)   ? TLS_GROUP_SECP256R1
				 : (v & FUZZ_V_ALT2) ? TLS_GROUP_SECP384R1
						     : TLS_GROUP_X25519;
		uint8_t pub[TLS_KX_MAX_PUB];
		size_t publen = 0;
		c = server(srv_ecdsa);
		set_suite(c, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
		c->group = group;
		if (tls_kx_generate(&c->hs->kx, group, pub, &publen) < 0)
			fuzz_fail("tls_kx_generate(%u) failed", group);
		return c;
	}
	case FUZZ_MSG_CERTIFICATE_VERIFY:
		c = server(srv_ecdsa_ask);
		set_suite(c, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
		c->hs->cert_requested = c->hs->client_cert = true;
		set_peer_key(c, rsa ? pki->rsa_pub : pki->client_pub);
		transcript(c);
		return c;
	case FUZZ_MSG_FINISHED:
	default:
		c = (v & FUZZ_V_SERVER) ? server(srv_ecdsa) : client(NULL);
		set_suite(c, (v & FUZZ_V_ALT1)   ? TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
			     : (v & FUZZ_V_ALT2) ? TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
						 : TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
		memset(c->hs->master, 0x5a, TLS_MASTER_SECRET_LEN);
		c->hs->have_master = true;
		transcript(c);
		return c;
	}
}

/* What a successful reader may have stored must fit where it went. */
static void check_bounds(const tls_conn *c)
{
	const tls_hs *hs = c->hs;
	if (hs->peer_share_len > sizeof hs->peer_share || hs->pms_len > sizeof hs->pms ||
	    hs->n_peer_sigalgs > TLS_MAX_PEER_SIGALGS ||
	    hs->session_id_len > sizeof hs->session_id ||
	    (hs->new_ticket_len > 0 && hs->new_ticket == NULL))
		fuzz_fail("a reader stored more than its field holds");
	if (memchr(c->server_name, 0, sizeof c->server_name) == NULL ||
	    memchr(c->peer_subject, 0, sizeof c->peer_subject) == NULL)
		fuzz_fail("a fact string is not terminated");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!srv_ecdsa)
		init();
	if (size < 1)
		return 0;

	int msg = (data[0] & 0x0f) % FUZZ_MSG_COUNT;
	tls_conn *c = setup(msg, data[0] & 0xf0);
	tls_cur body;
	tls_cur_init(&body, data + 1, size - 1);
	int rc = readers[msg].read(c, &body);

	/* handshake.h: 0, or -1 after tls_fail(); a reader that accepts the
	 * message consumed all of it. */
	if (rc < 0 && c->err == TLS_ERR_NONE)
		fuzz_fail("%s reader returned -1 without recording an error", readers[msg].name);
	if (rc == 0 && c->err != TLS_ERR_NONE)
		fuzz_fail("%s reader returned 0 after an error: %s", readers[msg].name, c->reason);
	if (rc == 0 && !tls_cur_done(&body))
		fuzz_fail("%s reader accepted the message without consuming it", readers[msg].name);
	if (rc == 0)
		check_bounds(c);
	if (fuzz_verbose())
		fprintf(stderr, "fuzz: %s reader (variant 0x%02x): %d%s%s%s\n", readers[msg].name,
			data[0] & 0xf0, rc, rc < 0 ? ", " : "", rc < 0 ? c->reason : "",
			rc == 0 && c->hs->shape == TLS_SHAPE_RESUMED ? ", resumed" : "");
	if (rc < 0 && memchr(c->reason, 0, sizeof c->reason) == NULL)
		fuzz_fail("error reason is not terminated");
	tls_conn_free(c);
	return 0;
}
