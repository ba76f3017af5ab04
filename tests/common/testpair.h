/*
 * testpair.h: a client and a server engine talking in memory, with a hook
 * that sees (and may alter) every chunk of ciphertext in flight. The engine
 * tests and the benchmark are built on it.
 */
#ifndef TLSHIM_TESTS_TESTPAIR_H
#define TLSHIM_TESTS_TESTPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testpki.h"
#include "tls.h"

/* A filter sees ${len} bytes going from client to server (to_server) or
 * back; it may change them in place and returns how many to deliver (at
 * most ${len}; fewer drops the tail). */
typedef size_t (*testpair_filter)(void *arg, bool to_server, uint8_t *buf, size_t len);

/* testpair_pump(cli, srv, f, arg): move ciphertext both ways until neither
 * side has anything to send (or 1000 rounds pass). Bytes a side cannot
 * take yet (its plaintext is unread) stay queued and are retried. */
void testpair_pump(tls_conn *cli, tls_conn *srv, testpair_filter f, void *arg);

/* testpair_handshake(cli, srv): pump without a filter; true when both
 * sides report ESTABLISHED and neither FAILED. */
bool testpair_handshake(tls_conn *cli, tls_conn *srv);

/* testpair_transfer(from, to, cli, srv, n): send ${n} bytes of a pattern
 * from ${from} to ${to} (one of cli/srv), pumping as needed, and check
 * them byte for byte on arrival. Returns true when all arrived intact. */
bool testpair_transfer(tls_conn *from, tls_conn *to, tls_conn *cli, tls_conn *srv, size_t n);

/* A test PKI: one CA and leaves of every key type, made once per process. */
typedef struct testpair_pki {
	testpki_ca ca, other_ca;
	char *ca_pem, *other_ca_pem;
	/* Server leaves for "server.test" + 127.0.0.1, indexed by enum tls_key_type. */
	char *srv_cert[5], *srv_key[5];
	/* A server leaf from other_ca (untrusted), an expired one (ECDSA P-256). */
	char *untrusted_cert, *untrusted_key, *expired_cert, *expired_key;
	/* Client leaves (clientAuth), by key type. */
	char *cli_cert[5], *cli_key[5];
} testpair_pki;

/* testpair_pki_get(): the process-wide test PKI (made on first use; aborts
 * on failure, which is a test-setup bug). */
const testpair_pki *testpair_pki_get(void);

/* testpair_server_config(key_type): a server config with the test leaf of
 * ${key_type}; testpair_client_config(): a client trusting the test CA.
 * Abort on failure. */
tls_config *testpair_server_config(int key_type);
tls_config *testpair_client_config(void);

/* testpair_fixed_clock(now): a clock callback returning *(uint64_t *)arg. */
uint64_t testpair_fixed_clock(void *arg);

#endif
