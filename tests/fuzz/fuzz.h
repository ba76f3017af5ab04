/*
 * fuzz.h: what the fuzz targets, their replay driver (replay_main.c) and the
 * seed corpus generator (gen_corpus.c) share: the libFuzzer entry point, a
 * deterministic randombytes stream, the test PKI and the configurations the
 * targets run with, and a driver that feeds bytes to a connection.
 */
#ifndef TLSHIM_TESTS_FUZZ_H
#define TLSHIM_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "session.h"
#include "tls.h"

/* LLVMFuzzerTestOneInput(data, size): one fuzz input; returns 0. Each
 * target defines it; a broken invariant aborts (a crash to libFuzzer, a
 * non-zero exit to the replay driver). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_fail(fmt, ...): print "fuzz invariant broken: ..." and abort. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* fuzz_verbose(): FUZZ_VERBOSE is set in the environment: the targets then
 * say how each input ended (for triage). */
bool fuzz_verbose(void);

/* fuzz_rand_install(): make libsodium's randombytes (which the engine uses
 * for randoms, session ids, pre-master secrets, ticket keys and nonces) a
 * set of deterministic streams. Key pairs and signatures come from OpenSSL
 * and stay random. Test-only: never in the product.
 *
 * Each side draws from its own stream, restarted for every input, so a
 * client (or server) sends the same randoms in gen_corpus as in the fuzz
 * targets: the ServerKeyExchange signatures in the seed corpus verify, and
 * the recorded resumption (fixed session, deterministic ticket keys, no
 * ECDHE) completes, so fuzzing starts from established connections too. */
enum {
	FUZZ_RAND_CLIENT, /* a client connection */
	FUZZ_RAND_SERVER, /* a server connection */
	FUZZ_RAND_SETUP,  /* the PKI, configs (ticket keys) and fuzz_session */
	FUZZ_RAND_STREAMS
};
void fuzz_rand_install(void);
/* fuzz_rand_reset(stream): restart ${stream} and draw from it. */
void fuzz_rand_reset(unsigned stream);
/* fuzz_rand_use(stream): draw from ${stream} where it stopped; returns the
 * stream used before. */
unsigned fuzz_rand_use(unsigned stream);

/* The clock of fuzz server configs that do not ask for client certificates
 * (2026-01-01): recorded session tickets never expire. */
#define FUZZ_NOW 1767225600u

/* The test PKI, made once per process (aborts on failure): a P-256 CA, a
 * P-256 and an RSA-2048 server leaf for "fuzz.test", a P-256 client leaf
 * (clientAuth), as PEM, and the leaves' public keys. */
typedef struct fuzz_pki {
	char *ca_pem;
	char *ecdsa_cert, *ecdsa_key;
	char *rsa_cert, *rsa_key;
	char *client_cert, *client_key;
	EVP_PKEY *ecdsa_pub, *rsa_pub, *client_pub;
} fuzz_pki;
const fuzz_pki *fuzz_pki_get(void);

#define FUZZ_SERVER_NAME "fuzz.test"

/* Suites a fuzzed client offers: every suite we implement, RSA key
 * transport included, so every server message parser is reachable. */
#define FUZZ_ALL_SUITES                                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                   \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                   \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256:" \
	"AES256-GCM-SHA384"
#define FUZZ_ALL_GROUPS  "x25519:secp256r1:secp384r1"
#define FUZZ_ALPN_SERVER "h2,http/1.1" /* fuzz_server_config's ALPN list */
#define FUZZ_ALPN_CLIENT "http/1.1,h2" /* fuzz_client_config's */

/* fuzz_server_config(key_type, ask_cert, ciphers, groups): a checked server
 * config with the P-256 (TLS_KEY_EC_P256) or RSA (TLS_KEY_RSA) leaf;
 * ${ask_cert} requests client certificates (verify optional, the test CA
 * trusted); ${ciphers}/${groups} NULL for the defaults (an RSA server also
 * enables RSA key transport). Without ${ask_cert} the config runs on
 * FUZZ_NOW and its ticket keys are the same in every process. Aborts on
 * failure. */
tls_config *fuzz_server_config(int key_type, bool ask_cert, const char *ciphers,
			       const char *groups);
/* fuzz_client_config(with_cert): a checked client config that offers every
 * suite and group, with verify_peer = none (so fuzzing gets past the
 * certificate) and, when ${with_cert}, the P-256 client certificate. */
tls_config *fuzz_client_config(bool with_cert);

/* fuzz_session(): a new reference to a fixed resumable session for
 * FUZZ_SERVER_NAME (ECDHE-ECDSA-AES128-GCM-SHA256, a constant master
 * secret) whose ticket every fuzz_server_config(TLS_KEY_EC_P256, false, ...)
 * accepts, in any process. */
tls_session *fuzz_session(void);

/* fuzz_feed(c, p, n, seed): hand ${n} bytes to ${c} as received ciphertext
 * in chunks whose sizes follow ${seed} (0: as few chunks as the buffer
 * allows), taking its output and plaintext after each, then signal end of
 * stream. Checks the engine's promises on the way: a failed recv_done
 * leaves the connection failed with a reason, and no plaintext is handed
 * out before the handshake is established. */
void fuzz_feed(tls_conn *c, const uint8_t *p, size_t n, unsigned seed);

/* Fixed key material for fuzz_record_open and its seeds. */
#define FUZZ_AEAD_KEY                                                                          \
	"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15" \
	"\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20"
#define FUZZ_AEAD_IV "\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab"
/* fuzz_record_open input: kind (1), content type (1), sequence number (8,
 * big-endian), record body. */
#define FUZZ_RECORD_PREFIX 10

/* fuzz_messages selector byte: reader index in the low nibble (values 9-15
 * wrap), setup variant in the high nibble (see fuzz_messages.c). */
enum {
	FUZZ_MSG_CLIENT_HELLO,
	FUZZ_MSG_SERVER_HELLO,
	FUZZ_MSG_CERTIFICATE,
	FUZZ_MSG_SERVER_KEY_EXCHANGE,
	FUZZ_MSG_CERTIFICATE_REQUEST,
	FUZZ_MSG_CLIENT_KEY_EXCHANGE,
	FUZZ_MSG_CERTIFICATE_VERIFY,
	FUZZ_MSG_NEW_SESSION_TICKET,
	FUZZ_MSG_FINISHED,
	FUZZ_MSG_COUNT,
};
/* Variant bits. */
#define FUZZ_V_SERVER 0x10 /* Certificate, Finished: read as the server */
#define FUZZ_V_RSA    0x20 /* RSA key / suite instead of ECDSA / ECDHE */
#define FUZZ_V_ALT1   0x40 /* group / suite choice, see fuzz_messages.c */
#define FUZZ_V_ALT2   0x80

#endif
