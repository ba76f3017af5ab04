/*
 * rand.c: libsodium's one-time initialisation (rand.h), and, in fuzz
 * builds only, OpenSSL's randomness drawn from libsodium's randombytes_buf
 * (compiled to nothing in product builds).
 */
#include "rand.h"

#include <pthread.h>
#include <sodium.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ok;

static void sodium_init_once(void)
{
	sodium_ok = sodium_init() >= 0;
}

bool tls_sodium_ready(void)
{
	pthread_once(&sodium_once, sodium_init_once);
	return sodium_ok;
}

#ifdef TLSHIM_FUZZ_DETERMINISTIC

/* RAND_METHOD is deprecated in OpenSSL 3 but still honoured by every
 * RAND_bytes/RAND_priv_bytes call of the default provider (key generation,
 * ECDSA nonces, RSA padding and blinding); it is the one switch for all of
 * them, which is all a fuzz build needs. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>
#include <sodium.h>

static int fuzz_bytes(unsigned char *buf, int num)
{
	if (num > 0)
		randombytes_buf(buf, (size_t)num);
	return 1;
}

static int fuzz_status(void)
{
	return 1;
}

static RAND_METHOD fuzz_method = {
	.bytes = fuzz_bytes,
	.pseudorand = fuzz_bytes,
	.status = fuzz_status,
};

void tls_rand_route_openssl(void)
{
	RAND_set_rand_method(&fuzz_method);
}

#else
/* ISO C wants a declaration in every translation unit. */
typedef int tls_rand_product_build;
#endif
