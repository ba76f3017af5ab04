/*
 * fuzz_client_input.c: a client connection, after its ClientHello, fed the
 * input as the server's reply: ServerHello, Certificate, ServerKeyExchange,
 * CertificateRequest, ServerHelloDone, NewSessionTicket and the records
 * around them.
 *
 * The client verifies nothing (verify_peer = none), so any certificate gets
 * it to the next message, and its client_random comes from the
 * deterministic stream, so the ServerKeyExchange signatures in the seed
 * corpus (recorded by gen_corpus with the same stream) verify and the
 * fuzzer starts past them. It offers every suite, RSA key transport
 * included, and has a client certificate to answer a CertificateRequest.
 *
 * Input: one seed byte, then the bytes "from the server". The seed's low
 * seven bits choose the chunking (as in fuzz_server_input); its top bit
 * makes the client offer fuzz_session(), whose recorded resumption in the
 * seed corpus completes.
 */
#include "fuzz.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tls_config *cfg;
	if (!cfg) {
		fuzz_rand_install();
		cfg = fuzz_client_config(true);
	}
	if (size < 1)
		return 0;

	fuzz_rand_reset(FUZZ_RAND_CLIENT);
	tls_conn *c = tls_conn_new(cfg, FUZZ_SERVER_NAME, NULL);
	if (!c)
		fuzz_fail("tls_conn_new failed");
	if (data[0] & 0x80) {
		tls_session *s = fuzz_session();
		tls_conn_set_session(c, s);
		tls_session_unref(s);
	}
	size_t len = 0;
	if (!tls_conn_sendbuf(c, &len) || len == 0)
		fuzz_fail("client has no ClientHello to send");
	tls_conn_send_done(c, len);
	fuzz_feed(c, data + 1, size - 1, data[0] & 0x7f);
	tls_conn_free(c);
	return 0;
}
