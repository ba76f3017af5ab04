/* Handshake signatures: every scheme with every key type it fits, tampering,
 * wrong keys and schemes, and the choice of scheme. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "cert.h"
#include "check.h"
#include "consts.h"
#include "sig.h"
#include "suites.h"
#include "testpki.h"

#define NTYPES 4
static const int key_types[NTYPES] = {TLS_KEY_RSA, TLS_KEY_EC_P256, TLS_KEY_EC_P384,
				      TLS_KEY_ED25519};

/* Two independent key pairs per type: [0] signs, [1] is "someone else". */
static tls_privkey priv[NTYPES][2];
static tls_chain chain[NTYPES][2];

static EVP_PKEY *pub_of(size_t t, size_t which)
{
	return X509_get0_pubkey(chain[t][which].leaf);
}

static void load_keys(void)
{
	testpki_ca ca;
	char err[256];

	CHECK_EQ(testpki_ca_new(&ca, TLS_KEY_EC_P256, "sig test CA"), 0);
	for (size_t t = 0; t < NTYPES; t++) {
		for (size_t w = 0; w < 2; w++) {
			testpki_leaf_opts o = {.key_type = key_types[t], .cn = "signer"};
			char *cert = NULL, *key = NULL;

			CHECK_EQ(testpki_issue(&ca, &o, &cert, &key), 0);
			CHECK_EQ(tls_chain_from_pem(&chain[t][w], cert, strlen(cert), err,
						    sizeof(err)),
				 0);
			CHECK_EQ(tls_privkey_from_pem(&priv[t][w], key, strlen(key), err,
						      sizeof(err)),
				 0);
			CHECK_EQ(priv[t][w].type, key_types[t]);
			free(cert);
			free(key);
		}
		CHECK(!EVP_PKEY_eq(pub_of(t, 0), pub_of(t, 1)));
	}
	testpki_ca_free(&ca);
}

static void free_keys(void)
{
	for (size_t t = 0; t < NTYPES; t++)
		for (size_t w = 0; w < 2; w++) {
			tls_privkey_free(&priv[t][w]);
			tls_chain_free(&chain[t][w]);
		}
}

/* The other RSA encoding for the same hash (PSS <-> PKCS#1), or 0. */
static uint16_t rsa_twin(uint16_t s)
{
	switch (s) {
	case TLS_SIG_RSA_PSS_RSAE_SHA256:
		return TLS_SIG_RSA_PKCS1_SHA256;
	case TLS_SIG_RSA_PKCS1_SHA256:
		return TLS_SIG_RSA_PSS_RSAE_SHA256;
	case TLS_SIG_RSA_PSS_RSAE_SHA384:
		return TLS_SIG_RSA_PKCS1_SHA384;
	case TLS_SIG_RSA_PKCS1_SHA384:
		return TLS_SIG_RSA_PSS_RSAE_SHA384;
	case TLS_SIG_RSA_PSS_RSAE_SHA512:
		return TLS_SIG_RSA_PKCS1_SHA512;
	case TLS_SIG_RSA_PKCS1_SHA512:
		return TLS_SIG_RSA_PSS_RSAE_SHA512;
	default:
		return 0;
	}
}

static void test_round_trips(void)
{
	static const uint8_t msg[] = "client_random || server_random || ServerECDHParams";
	size_t nall;
	const uint16_t *all = tls_sigschemes_all(&nall);
	size_t rounds = 0;

	CHECK(nall >= 10);
	for (size_t i = 0; i < nall; i++) {
		for (size_t t = 0; t < NTYPES; t++) {
			uint8_t sig[TLS_MAX_SIG_LEN], bad[sizeof(msg)];
			size_t siglen = 77;
			uint16_t s = all[i];

			if (!tls_sig_usable(s, key_types[t])) {
				/* a scheme that does not fit the key: no
				 * signature, no verification */
				CHECK_EQ(tls_sig_sign(&priv[t][0], s, msg, sizeof(msg), sig,
						      &siglen),
					 -1);
				CHECK_EQ(siglen, 0);
				memset(sig, 0x55, 64);
				CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, 64),
					 -1);
				continue;
			}
			rounds++;
			CHECK_EQ(tls_sig_sign(&priv[t][0], s, msg, sizeof(msg), sig, &siglen), 0);
			if (key_types[t] == TLS_KEY_ED25519)
				CHECK_EQ(siglen, 64);
			if (key_types[t] == TLS_KEY_RSA)
				CHECK_EQ(siglen, 256);
			CHECK(siglen > 0 && siglen <= TLS_MAX_SIG_LEN);
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, siglen), 0);

			/* tampered message */
			memcpy(bad, msg, sizeof(msg));
			bad[3] ^= 0x01;
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, bad, sizeof(bad), sig, siglen),
				 -1);
			/* shorter message */
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg) - 1, sig, siglen),
				 -1);
			/* another key of the same type */
			CHECK_EQ(tls_sig_verify(pub_of(t, 1), s, msg, sizeof(msg), sig, siglen),
				 -1);
			/* a key of every other type */
			for (size_t u = 0; u < NTYPES; u++)
				if (u != t)
					CHECK_EQ(tls_sig_verify(pub_of(u, 0), s, msg, sizeof(msg),
								sig, siglen),
						 -1);
			/* RSA: PSS and PKCS#1 v1.5 are not interchangeable */
			if (rsa_twin(s) != 0)
				CHECK_EQ(tls_sig_verify(pub_of(t, 0), rsa_twin(s), msg, sizeof(msg),
							sig, siglen),
					 -1);
			/* truncated and empty signatures */
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, siglen - 1),
				 -1);
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, 0), -1);
			/* tampered signature: a bit in the middle, then the last */
			sig[siglen / 2] ^= 0x10;
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, siglen),
				 -1);
			sig[siglen / 2] ^= 0x10;
			sig[siglen - 1] ^= 0x01;
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, siglen),
				 -1);
			sig[siglen - 1] ^= 0x01;
			CHECK_EQ(tls_sig_verify(pub_of(t, 0), s, msg, sizeof(msg), sig, siglen), 0);
		}
	}
	/* ed25519, 3 ECDSA hashes x 2 curves, 6 RSA (PSS and PKCS#1 x 3 hashes) */
	CHECK_EQ(rounds, 13);
}

/* Our libsodium Ed25519 signatures are standard: OpenSSL verifies them. */
static void test_ed25519_interop(void)
{
	static const uint8_t msg[] = "pure EdDSA, no prehash";
	uint8_t sig[TLS_MAX_SIG_LEN];
	size_t siglen;
	size_t t = 3;
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	CHECK_EQ(tls_sig_sign(&priv[t][0], TLS_SIG_ED25519, msg, sizeof(msg), sig, &siglen), 0);
	CHECK(m != NULL);
	CHECK_EQ(EVP_DigestVerifyInit(m, NULL, NULL, NULL, pub_of(t, 0)), 1);
	CHECK_EQ(EVP_DigestVerify(m, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(m);

	/* and we verify OpenSSL's */
	size_t olen = sizeof(sig);
	m = EVP_MD_CTX_new();
	CHECK_EQ(EVP_DigestSignInit(m, NULL, NULL, NULL, priv[t][0].pkey), 1);
	CHECK_EQ(EVP_DigestSign(m, sig, &olen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(m);
	CHECK_EQ(tls_sig_verify(pub_of(t, 0), TLS_SIG_ED25519, msg, sizeof(msg), sig, olen), 0);
}

/* RSA-PSS: the salt is exactly the hash length (RFC 8446 §4.2.3); a
 * signature with another salt length is refused, ours verifies under an
 * explicit 32-byte salt setting. */
static void test_pss_salt(void)
{
	static const uint8_t msg[] = "pss salt";
	uint8_t sig[TLS_MAX_SIG_LEN];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;

	CHECK_EQ(EVP_DigestSignInit(m, &p, EVP_sha256(), NULL, priv[0][0].pkey), 1);
	CHECK_EQ(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
	CHECK_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_MAX), 1);
	CHECK_EQ(EVP_DigestSign(m, sig, &siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(m);
	CHECK_EQ(tls_sig_verify(pub_of(0, 0), TLS_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig,
				siglen),
		 -1);

	CHECK_EQ(tls_sig_sign(&priv[0][0], TLS_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig,
			      &siglen),
		 0);
	m = EVP_MD_CTX_new();
	p = NULL;
	CHECK_EQ(EVP_DigestVerifyInit(m, &p, EVP_sha256(), NULL, pub_of(0, 0)), 1);
	CHECK_EQ(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
	CHECK_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, 32), 1);
	CHECK_EQ(EVP_DigestVerify(m, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(m);
}

static void test_usable(void)
{
	CHECK(tls_sig_usable(TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_KEY_EC_P256));
	CHECK(tls_sig_usable(TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_KEY_EC_P384));
	CHECK(tls_sig_usable(TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_KEY_EC_P256));
	CHECK(!tls_sig_usable(TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_KEY_RSA));
	CHECK(!tls_sig_usable(TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_KEY_ED25519));
	CHECK(tls_sig_usable(TLS_SIG_RSA_PSS_RSAE_SHA384, TLS_KEY_RSA));
	CHECK(!tls_sig_usable(TLS_SIG_RSA_PKCS1_SHA256, TLS_KEY_EC_P256));
	CHECK(tls_sig_usable(TLS_SIG_ED25519, TLS_KEY_ED25519));
	CHECK(!tls_sig_usable(TLS_SIG_ED25519, TLS_KEY_EC_P256));
	CHECK(!tls_sig_usable(TLS_SIG_RSA_PKCS1_SHA256, TLS_KEY_NONE));
	/* SHA-1 and MD5 schemes are never usable */
	CHECK(!tls_sig_usable(0x0201 /* rsa_pkcs1_sha1 */, TLS_KEY_RSA));
	CHECK(!tls_sig_usable(0x0203 /* ecdsa_sha1 */, TLS_KEY_EC_P256));
	CHECK(!tls_sig_usable(0x0101 /* md5, rsa */, TLS_KEY_RSA));

	uint8_t sig[TLS_MAX_SIG_LEN];
	size_t siglen;
	CHECK_EQ(tls_sig_sign(&priv[0][0], 0x0201, (const uint8_t *)"x", 1, sig, &siglen), -1);
}

static void test_choose(void)
{
	static const uint16_t p384_first[] = {TLS_SIG_ECDSA_SECP384R1_SHA384,
					      TLS_SIG_ECDSA_SECP256R1_SHA256};
	static const uint16_t p256_first[] = {TLS_SIG_ECDSA_SECP256R1_SHA256,
					      TLS_SIG_ECDSA_SECP384R1_SHA384,
					      TLS_SIG_RSA_PKCS1_SHA256};
	static const uint16_t only384[] = {TLS_SIG_ECDSA_SECP384R1_SHA384};
	static const uint16_t only256[] = {TLS_SIG_RSA_PKCS1_SHA256,
					   TLS_SIG_ECDSA_SECP256R1_SHA256};
	static const uint16_t rsa_both[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA256};
	static const uint16_t rsa_pkcs1[] = {0x0201, TLS_SIG_RSA_PKCS1_SHA384};
	static const uint16_t sha1_only[] = {0x0201, 0x0203};
	static const uint16_t ec_ed[] = {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ED25519};
	static const uint16_t only512[] = {TLS_SIG_ECDSA_SECP521R1_SHA512};
	static const uint16_t rsa512[] = {TLS_SIG_RSA_PKCS1_SHA512, TLS_SIG_RSA_PSS_RSAE_SHA512};

	/* EC: the curve's own hash first, whatever the peer's order */
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P256, p384_first, 2), TLS_SIG_ECDSA_SECP256R1_SHA256);
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P384, p256_first, 3), TLS_SIG_ECDSA_SECP384R1_SHA384);
	/* the other ECDSA hash when it is all the peer offers */
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P256, only384, 1), TLS_SIG_ECDSA_SECP384R1_SHA384);
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P384, only256, 2), TLS_SIG_ECDSA_SECP256R1_SHA256);
	/* only SHA-512 offered (RFC 5246 §7.4.1.4.1: any offered hash with the
	 * key; the P-521 name binds no curve in TLS 1.2) */
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P256, only512, 1), TLS_SIG_ECDSA_SECP521R1_SHA512);
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P384, only512, 1), TLS_SIG_ECDSA_SECP521R1_SHA512);
	CHECK_EQ(tls_sig_choose(TLS_KEY_RSA, only512, 1), 0);
	CHECK_EQ(tls_sig_choose(TLS_KEY_RSA, rsa512, 2), TLS_SIG_RSA_PSS_RSAE_SHA512);
	/* RSA: our preference (PSS before PKCS#1) */
	CHECK_EQ(tls_sig_choose(TLS_KEY_RSA, rsa_both, 2), TLS_SIG_RSA_PSS_RSAE_SHA256);
	CHECK_EQ(tls_sig_choose(TLS_KEY_RSA, rsa_pkcs1, 2), TLS_SIG_RSA_PKCS1_SHA384);
	CHECK_EQ(tls_sig_choose(TLS_KEY_RSA, only384, 1), 0);
	/* never SHA-1 */
	CHECK_EQ(tls_sig_choose(TLS_KEY_RSA, sha1_only, 2), 0);
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P256, sha1_only, 2), 0);
	/* Ed25519 */
	CHECK_EQ(tls_sig_choose(TLS_KEY_ED25519, ec_ed, 2), TLS_SIG_ED25519);
	CHECK_EQ(tls_sig_choose(TLS_KEY_ED25519, p256_first, 3), 0);
	/* nothing offered, no usable key */
	CHECK_EQ(tls_sig_choose(TLS_KEY_EC_P256, NULL, 0), 0);
	CHECK_EQ(tls_sig_choose(TLS_KEY_NONE, p256_first, 3), 0);
}

int main(void)
{
	load_keys();
	test_round_trips();
	test_ed25519_interop();
	test_pss_salt();
	test_usable();
	test_choose();
	free_keys();
	return check_exit("unit/sig");
}
