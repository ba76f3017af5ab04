/*
 * rand.h: the one seam through which the engine's randomness could be made
 * deterministic, for fuzzing only (tests/fuzz, CMake option
 * TLSHIM_FUZZ_DETERMINISTIC, set only on the fuzz targets' copy of core/).
 *
 * The engine draws its own random values (randoms, session ids, RSA
 * pre-master secrets, ticket keys and nonces) from libsodium's
 * randombytes_buf; OpenSSL draws the rest (ephemeral key pairs in kx.c,
 * ECDSA nonces and RSA-PSS salts in sig.c, RSA encryption padding in
 * rsakx.c) from its own DRBG. A fuzz build routes OpenSSL's draws through
 * randombytes_buf too, so the fuzz harness's deterministic randombytes
 * implementation (tests/fuzz/fuzz_rand.c) decides every random byte: a
 * recorded ClientKeyExchange, Finished and application data then replay.
 * Product builds contain none of this (the declarations below do not even
 * exist there).
 */
#ifndef TLSHIM_CORE_RAND_H
#define TLSHIM_CORE_RAND_H

#include <stdbool.h>

/* tls_sodium_ready(): libsodium is initialised (sodium_init, run once per
 * process); false when it cannot be. The engine calls this, never
 * sodium_init itself: sodium_init takes libsodium's global lock on every
 * call, also long after the first, and a fork() while another thread held
 * it left the child waiting for it for ever at its next connection or
 * session (found by engine/test_fork_ticket under TSan). After the first
 * call this takes no lock (pthread_once). */
bool tls_sodium_ready(void);

#ifdef TLSHIM_FUZZ_DETERMINISTIC
/* tls_rand_route_openssl(): from now on OpenSSL's randomness (every
 * RAND_bytes / RAND_priv_bytes in this process: key generation, signing
 * nonces, padding) is libsodium's randombytes_buf. Fuzz builds only. */
void tls_rand_route_openssl(void);
#endif

#endif
