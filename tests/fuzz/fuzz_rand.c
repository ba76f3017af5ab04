/*
 * fuzz_rand.c: deterministic libsodium randomness for the fuzz targets and
 * the corpus generator (fuzz.h: fuzz_rand_*). Test-only.
 */
#include "fuzz.h"
#include "rand.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

static unsigned rand_cur;
static uint64_t rand_calls[FUZZ_RAND_STREAMS];

/* Every call gets its own ChaCha20 stream, keyed by (stream, call number),
 * so the output depends only on how many calls that stream saw before. */
static void det_buf(void *const buf, const size_t size)
{
	unsigned char key[randombytes_SEEDBYTES] = "tlshim fuzz stream";
	uint64_t stream = rand_cur;
	memcpy(key + 16, &stream, sizeof stream);
	memcpy(key + 24, &rand_calls[rand_cur], sizeof rand_calls[0]);
	rand_calls[rand_cur]++;
	randombytes_buf_deterministic(buf, size, key);
}

static uint32_t det_random(void)
{
	uint32_t v;
	det_buf(&v, sizeof v);
	return v;
}

static const char *det_name(void)
{
	return "tlshim-fuzz-deterministic";
}

static randombytes_implementation det_impl = {
	.implementation_name = det_name,
	.random = det_random,
	.buf = det_buf,
};

void fuzz_rand_install(void)
{
	randombytes_set_implementation(&det_impl);
	if (sodium_init() < 0)
		fuzz_fail("sodium_init failed");
#ifdef TLSHIM_FUZZ_DETERMINISTIC
	/* OpenSSL's key pairs, ECDSA nonces and RSA padding from the same
	 * streams (core/rand.h). */
	tls_rand_route_openssl();
#endif
}

#ifdef TLSHIM_FUZZ_DETERMINISTIC
/* testpki dates its certificates from time(NULL): a fixed clock makes the
 * test PKI, and with it the server's Certificate message and so every
 * transcript, the same in every process. This replaces libc's time() in
 * the fuzz programs only; it is exported (visibility, and the link option
 * in CMakeLists.txt) so that libcrypto's calls bind to it too. */
__attribute__((visibility("default"))) time_t time(time_t *t)
{
	if (t)
		*t = (time_t)FUZZ_NOW;
	return (time_t)FUZZ_NOW;
}
#endif

void fuzz_rand_reset(unsigned stream)
{
	fuzz_rand_use(stream);
	rand_calls[rand_cur] = 0;
}

unsigned fuzz_rand_use(unsigned stream)
{
	unsigned prev = rand_cur;
	if (stream >= FUZZ_RAND_STREAMS)
		fuzz_fail("no random stream %u", stream);
	rand_cur = stream;
	return prev;
}
