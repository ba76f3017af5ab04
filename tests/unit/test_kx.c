/* Ephemeral ECDH: agreement for every group and rejection of bad peer
 * values (RFC 8422 §5.11, RFC 7748 §6.1). */
#include <string.h>

#include "check.h"
#include "consts.h"
#include "kx.h"

static const struct {
	uint16_t group;
	size_t publen, secretlen;
} groups[] = {
	{TLS_GROUP_X25519, 32, 32},
	{TLS_GROUP_SECP256R1, 65, 32},
	{TLS_GROUP_SECP384R1, 97, 48},
};

/* A fresh key pair for ${group}; CHECKs that it worked. */
static void gen(tls_kx *kx, uint16_t group, uint8_t *pub, size_t *publen)
{
	memset(kx, 0, sizeof(*kx));
	CHECK_EQ(tls_kx_generate(kx, group, pub, publen), 0);
	CHECK(kx->priv != NULL);
}

/* derive with a bad peer value must fail, clear the output length and
 * free the private key. */
static void expect_reject(uint16_t group, const uint8_t *peer, size_t peerlen)
{
	tls_kx kx;
	uint8_t pub[TLS_KX_MAX_PUB], secret[TLS_KX_MAX_SECRET];
	size_t publen, secretlen = 99;

	gen(&kx, group, pub, &publen);
	CHECK_EQ(tls_kx_derive(&kx, peer, peerlen, secret, &secretlen), -1);
	CHECK_EQ(secretlen, 0);
	CHECK(kx.priv == NULL);
}

static void test_agreement(void)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		tls_kx a, b;
		uint8_t pa[TLS_KX_MAX_PUB], pb[TLS_KX_MAX_PUB];
		uint8_t sa[TLS_KX_MAX_SECRET], sb[TLS_KX_MAX_SECRET];
		size_t la, lb, sla = 0, slb = 0;

		gen(&a, groups[i].group, pa, &la);
		gen(&b, groups[i].group, pb, &lb);
		CHECK_EQ(la, groups[i].publen);
		CHECK_EQ(lb, groups[i].publen);
		if (groups[i].group != TLS_GROUP_X25519)
			CHECK_EQ(pa[0], 0x04);
		CHECK(memcmp(pa, pb, la) != 0);

		CHECK_EQ(tls_kx_derive(&a, pb, lb, sa, &sla), 0);
		CHECK_EQ(tls_kx_derive(&b, pa, la, sb, &slb), 0);
		CHECK_EQ(sla, groups[i].secretlen);
		CHECK_EQ(slb, groups[i].secretlen);
		CHECK_MEM(sa, sb, sla);
		/* used once: the private key is gone, a second derive fails */
		CHECK(a.priv == NULL);
		CHECK_EQ(tls_kx_derive(&a, pb, lb, sa, &sla), -1);
	}
}

static void test_unknown_group(void)
{
	tls_kx kx = {0};
	uint8_t pub[TLS_KX_MAX_PUB];
	size_t publen;

	CHECK_EQ(tls_kx_generate(&kx, 25 /* secp521r1: not offered */, pub, &publen), -1);
	CHECK(kx.priv == NULL);
	tls_kx_free(&kx); /* no-op on a zeroed/freed kx */
}

static void test_wrong_lengths(void)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		tls_kx other;
		uint8_t pub[TLS_KX_MAX_PUB + 1];
		size_t publen;

		gen(&other, groups[i].group, pub, &publen);
		tls_kx_free(&other);
		expect_reject(groups[i].group, pub, publen - 1);
		pub[publen] = 0;
		expect_reject(groups[i].group, pub, publen + 1);
		expect_reject(groups[i].group, pub, 0);
	}
	/* a P-256 share sent to a P-384 key and the other way round */
	tls_kx k;
	uint8_t p256[TLS_KX_MAX_PUB], p384[TLS_KX_MAX_PUB];
	size_t l256, l384;
	gen(&k, TLS_GROUP_SECP256R1, p256, &l256);
	tls_kx_free(&k);
	gen(&k, TLS_GROUP_SECP384R1, p384, &l384);
	tls_kx_free(&k);
	expect_reject(TLS_GROUP_SECP384R1, p256, l256);
	expect_reject(TLS_GROUP_SECP256R1, p384, l384);
}

static void test_bad_points(void)
{
	static const uint16_t nist[] = {TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1};

	for (size_t i = 0; i < 2; i++) {
		tls_kx k;
		uint8_t pub[TLS_KX_MAX_PUB], bad[TLS_KX_MAX_PUB];
		size_t publen, coord;

		gen(&k, nist[i], pub, &publen);
		tls_kx_free(&k);
		coord = (publen - 1) / 2;

		/* off the curve: flip a bit of Y */
		memcpy(bad, pub, publen);
		bad[publen - 1] ^= 1;
		expect_reject(nist[i], bad, publen);

		/* (1, 1) is on neither curve */
		memset(bad, 0, publen);
		bad[0] = 0x04;
		bad[coord] = 1;
		bad[publen - 1] = 1;
		expect_reject(nist[i], bad, publen);

		/* all-zero coordinates (the infinity encoding attempt) */
		memset(bad, 0, publen);
		bad[0] = 0x04;
		expect_reject(nist[i], bad, publen);

		/* compressed: 0x02/0x03 || X, both at its own length and
		 * padded to the uncompressed length; hybrid 0x06 */
		memcpy(bad, pub, publen);
		bad[0] = (uint8_t)(0x02 | (pub[publen - 1] & 1));
		expect_reject(nist[i], bad, 1 + coord);
		expect_reject(nist[i], bad, publen);
		bad[0] = (uint8_t)(0x06 | (pub[publen - 1] & 1));
		expect_reject(nist[i], bad, publen);

		/* the unmodified point is accepted (the rejections above are
		 * about the changes, not the key) */
		tls_kx ok;
		uint8_t p2[TLS_KX_MAX_PUB], s[TLS_KX_MAX_SECRET];
		size_t l2, sl;
		gen(&ok, nist[i], p2, &l2);
		CHECK_EQ(tls_kx_derive(&ok, pub, publen, s, &sl), 0);
	}
}

static void test_x25519_low_order(void)
{
	uint8_t u[32];

	/* u = 0 and u = 1 are of small order: the shared secret is all zero
	 * (RFC 7748 §6.1) */
	memset(u, 0, sizeof(u));
	expect_reject(TLS_GROUP_X25519, u, sizeof(u));
	u[0] = 1;
	expect_reject(TLS_GROUP_X25519, u, sizeof(u));
	/* a point of order 8 (from the curve25519 small-order list) */
	static const uint8_t order8[32] = {
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
		0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
		0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
	};
	expect_reject(TLS_GROUP_X25519, order8, sizeof(order8));
}

int main(void)
{
	test_agreement();
	test_unknown_group();
	test_wrong_lengths();
	test_bad_points();
	test_x25519_low_order();
	return check_exit("unit/kx");
}
