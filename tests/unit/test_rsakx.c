/* RSA key transport: round trip, and the RFC 5246 §7.4.7.1 countermeasure:
 * bad padding or version yields 48 unrelated bytes, not an error. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "check.h"
#include "consts.h"
#include "rsakx.h"
#include "suites.h"
#include "testpki.h"

static void make_pms(uint8_t pms[48], uint16_t version)
{
	randombytes_buf(pms, 48);
	pms[0] = (uint8_t)(version >> 8);
	pms[1] = (uint8_t)version;
}

/* decrypt must succeed (0) and fill all 48 bytes with something that is
 * neither the original pms nor the prefilled pattern. */
static void expect_substitute(EVP_PKEY *key, const uint8_t *ct, size_t ctlen, uint16_t version,
			      const uint8_t orig[48])
{
	uint8_t out[48], pattern[48];

	memset(pattern, 0xa5, sizeof(pattern));
	memcpy(out, pattern, sizeof(out));
	CHECK_EQ(tls_rsakx_decrypt(key, ct, ctlen, version, out), 0);
	CHECK(memcmp(out, orig, 48) != 0);
	CHECK(memcmp(out, pattern, 48) != 0);
	CHECK(!sodium_is_zero(out, 48));
}

int main(void)
{
	EVP_PKEY *key = testpki_key(TLS_KEY_RSA);
	EVP_PKEY *ec = testpki_key(TLS_KEY_EC_P256);
	uint8_t pms[48], out[48], ct[1024], bad[1024];
	size_t ctlen = 0;

	CHECK(key != NULL && ec != NULL);

	/* round trip */
	make_pms(pms, TLS_VERSION_1_2);
	CHECK_EQ(tls_rsakx_encrypt(key, pms, ct, &ctlen), 0);
	CHECK_EQ(ctlen, 256);
	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_rsakx_decrypt(key, ct, ctlen, TLS_VERSION_1_2, out), 0);
	CHECK_MEM(out, pms, 48);
	/* PKCS#1 v1.5 encryption is randomized */
	CHECK_EQ(tls_rsakx_encrypt(key, pms, bad, &ctlen), 0);
	CHECK(memcmp(ct, bad, ctlen) != 0);

	/* the ClientHello said another version than the pms carries */
	expect_substitute(key, ct, ctlen, TLS_VERSION_1_0, pms);
	expect_substitute(key, ct, ctlen, 0x0304, pms);
	/* a pms with a downgraded version inside */
	uint8_t old[48];
	make_pms(old, 0x0301);
	CHECK_EQ(tls_rsakx_encrypt(key, old, ct, &ctlen), 0);
	expect_substitute(key, ct, ctlen, TLS_VERSION_1_2, old);

	/* a tampered ciphertext */
	CHECK_EQ(tls_rsakx_encrypt(key, pms, ct, &ctlen), 0);
	memcpy(bad, ct, ctlen);
	bad[ctlen / 2] ^= 0x01;
	expect_substitute(key, bad, ctlen, TLS_VERSION_1_2, pms);

	/* garbage below the modulus (top byte cleared) */
	randombytes_buf(bad, ctlen);
	bad[0] = 0;
	expect_substitute(key, bad, ctlen, TLS_VERSION_1_2, pms);
	/* garbage not below the modulus: OpenSSL errors, we substitute */
	memset(bad, 0xff, ctlen);
	expect_substitute(key, bad, ctlen, TLS_VERSION_1_2, pms);
	uint8_t o1[48], o2[48];
	CHECK_EQ(tls_rsakx_decrypt(key, bad, ctlen, TLS_VERSION_1_2, o1), 0);
	CHECK_EQ(tls_rsakx_decrypt(key, bad, ctlen, TLS_VERSION_1_2, o2), 0);
	CHECK(memcmp(o1, o2, 48) != 0);

	/* well-padded, right version, but 47 bytes long */
	{
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
		size_t l = sizeof(bad);
		CHECK(c != NULL);
		CHECK_EQ(EVP_PKEY_encrypt_init(c), 1);
		CHECK_EQ(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING), 1);
		CHECK_EQ(EVP_PKEY_encrypt(c, bad, &l, pms, 47), 1);
		EVP_PKEY_CTX_free(c);
		expect_substitute(key, bad, l, TLS_VERSION_1_2, pms);
	}

	/* the length must be the modulus size */
	CHECK_EQ(tls_rsakx_decrypt(key, ct, ctlen - 1, TLS_VERSION_1_2, out), -1);
	ct[ctlen] = 0;
	CHECK_EQ(tls_rsakx_decrypt(key, ct, ctlen + 1, TLS_VERSION_1_2, out), -1);
	CHECK_EQ(tls_rsakx_decrypt(key, ct, 0, TLS_VERSION_1_2, out), -1);

	/* not an RSA key */
	CHECK_EQ(tls_rsakx_encrypt(ec, pms, ct, &ctlen), -1);
	CHECK_EQ(ctlen, 0);
	CHECK_EQ(tls_rsakx_decrypt(ec, bad, 256, TLS_VERSION_1_2, out), -1);

	EVP_PKEY_free(key);
	EVP_PKEY_free(ec);
	return check_exit("unit/rsakx");
}
