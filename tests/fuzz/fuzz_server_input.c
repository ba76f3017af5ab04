/*
 * fuzz_server_input.c: a server connection fed the input as received
 * ciphertext: the record layer, the ClientHello parser and, where the input
 * gets that far, the client's Certificate and ClientKeyExchange.
 *
 * Input: one seed byte, then the bytes "from the client". The seed's low
 * seven bits choose how the bytes are cut into recv_done calls (0: as large
 * as the buffer allows); its top bit picks the config that asks for a
 * client certificate.
 */
#include "fuzz.h"

#include <stdlib.h>

#include "suites.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tls_config *cfg[2];
	if (!cfg[0]) {
		fuzz_rand_install();
		cfg[0] = fuzz_server_config(TLS_KEY_EC_P256, false, NULL, NULL);
		cfg[1] = fuzz_server_config(TLS_KEY_EC_P256, true, NULL, NULL);
	}
	if (size < 1)
		return 0;

	fuzz_rand_reset(FUZZ_RAND_SERVER);
	tls_conn *c = tls_conn_new(cfg[data[0] >> 7], NULL, NULL);
	if (!c)
		fuzz_fail("tls_conn_new failed");
	fuzz_feed(c, data + 1, size - 1, data[0] & 0x7f);
	tls_conn_free(c);
	return 0;
}
