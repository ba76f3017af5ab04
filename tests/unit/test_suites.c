/*
 * test_suites: the suite/group/signature-scheme tables and the policy list
 * parsers (core/suites.h).
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "consts.h"
#include "suites.h"

static void check_suite(uint16_t id, const char *name, int kx, int auth, int aead, int hash,
			bool by_default)
{
	const tls_suite *s = tls_suite_by_id(id);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(strcmp(s->name, name) == 0);
	CHECK_EQ(s->kx, kx);
	CHECK_EQ(s->auth, auth);
	CHECK_EQ(s->aead, aead);
	CHECK_EQ(s->hash, hash);
	CHECK_EQ(s->by_default, by_default);
	CHECK(tls_suite_by_name(name) == s);
}

static void test_suite_table(void)
{
	check_suite(0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", TLS_KX_ECDHE, TLS_AUTH_ECDSA,
		    TLS_AEAD_AES128GCM, TLS_HASH_SHA256, true);
	check_suite(0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", TLS_KX_ECDHE, TLS_AUTH_RSA,
		    TLS_AEAD_AES128GCM, TLS_HASH_SHA256, true);
	check_suite(0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", TLS_KX_ECDHE, TLS_AUTH_ECDSA,
		    TLS_AEAD_AES256GCM, TLS_HASH_SHA384, true);
	check_suite(0xc030, "ECDHE-RSA-AES256-GCM-SHA384", TLS_KX_ECDHE, TLS_AUTH_RSA,
		    TLS_AEAD_AES256GCM, TLS_HASH_SHA384, true);
	check_suite(0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", TLS_KX_ECDHE, TLS_AUTH_ECDSA,
		    TLS_AEAD_CHACHA20, TLS_HASH_SHA256, true);
	check_suite(0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", TLS_KX_ECDHE, TLS_AUTH_RSA,
		    TLS_AEAD_CHACHA20, TLS_HASH_SHA256, true);
	check_suite(0x009c, "AES128-GCM-SHA256", TLS_KX_RSA, TLS_AUTH_RSA, TLS_AEAD_AES128GCM,
		    TLS_HASH_SHA256, false);
	check_suite(0x009d, "AES256-GCM-SHA384", TLS_KX_RSA, TLS_AUTH_RSA, TLS_AEAD_AES256GCM,
		    TLS_HASH_SHA384, false);

	CHECK(tls_suite_by_id(0x0000) == NULL);
	CHECK(tls_suite_by_id(TLS_EMPTY_RENEGOTIATION_INFO_SCSV) == NULL);
	CHECK(tls_suite_by_id(TLS_FALLBACK_SCSV) == NULL);
	CHECK(tls_suite_by_id(0xc027) == NULL); /* CBC suite: not ours */
	CHECK(tls_suite_by_name("ECDHE-RSA-AES128-SHA256") == NULL);
	CHECK(tls_suite_by_name("") == NULL);
	CHECK(tls_suite_by_name("ECDHE-RSA-AES128-GCM-SHA25") == NULL);
}

static void test_suite_defaults(void)
{
	static const uint16_t want[] = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8};
	uint16_t out[16];

	memset(out, 0, sizeof(out));
	size_t n = tls_suites_default(out, 16);
	CHECK_EQ(n, 6);
	CHECK_MEM(out, want, sizeof(want));
	CHECK_EQ(out[6], 0);

	/* max is honoured. */
	memset(out, 0, sizeof(out));
	n = tls_suites_default(out, 2);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0], 0xc02b);
	CHECK_EQ(out[1], 0xc02f);
	CHECK_EQ(out[2], 0);
	CHECK_EQ(tls_suites_default(out, 0), 0);
}

static void test_groups(void)
{
	uint16_t out[8];

	CHECK(tls_group_by_id(29) != NULL && strcmp(tls_group_by_id(29)->name, "x25519") == 0);
	CHECK(tls_group_by_id(23) != NULL && strcmp(tls_group_by_id(23)->name, "secp256r1") == 0);
	CHECK(tls_group_by_id(24) != NULL && strcmp(tls_group_by_id(24)->name, "secp384r1") == 0);
	CHECK(tls_group_by_id(25) == NULL);
	CHECK(tls_group_by_id(30) == NULL); /* x448: not ours */

	static const struct {
		const char *name;
		uint16_t id;
	} names[] = {
		{"x25519", 29},    {"X25519", 29},     {"secp256r1", 23},
		{"P-256", 23},     {"prime256v1", 23}, {"p-256", 23},
		{"secp384r1", 24}, {"P-384", 24},      {"SECP384R1", 24},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const tls_group *g = tls_group_by_name(names[i].name);
		CHECK(g != NULL);
		if (g != NULL)
			CHECK_EQ(g->id, names[i].id);
	}
	CHECK(tls_group_by_name("x448") == NULL);
	CHECK(tls_group_by_name("P-521") == NULL);
	CHECK(tls_group_by_name("") == NULL);

	memset(out, 0, sizeof(out));
	CHECK_EQ(tls_groups_default(out, 8), 3);
	CHECK_EQ(out[0], 29);
	CHECK_EQ(out[1], 23);
	CHECK_EQ(out[2], 24);
	CHECK_EQ(tls_groups_default(out, 1), 1);
}

static void test_sigschemes(void)
{
	static const struct {
		uint16_t id;
		const char *name;
		int key, hash;
		bool pss;
	} want[] = {
		{0x0807, "ed25519", TLS_KEY_ED25519, -1, false},
		{0x0403, "ecdsa_secp256r1_sha256", TLS_KEY_EC_P256, TLS_HASH_SHA256, false},
		{0x0503, "ecdsa_secp384r1_sha384", TLS_KEY_EC_P384, TLS_HASH_SHA384, false},
		{0x0603, "ecdsa_secp521r1_sha512", TLS_KEY_EC_P384, TLS_HASH_SHA512, false},
		{0x0804, "rsa_pss_rsae_sha256", TLS_KEY_RSA, TLS_HASH_SHA256, true},
		{0x0805, "rsa_pss_rsae_sha384", TLS_KEY_RSA, TLS_HASH_SHA384, true},
		{0x0806, "rsa_pss_rsae_sha512", TLS_KEY_RSA, TLS_HASH_SHA512, true},
		{0x0401, "rsa_pkcs1_sha256", TLS_KEY_RSA, TLS_HASH_SHA256, false},
		{0x0501, "rsa_pkcs1_sha384", TLS_KEY_RSA, TLS_HASH_SHA384, false},
		{0x0601, "rsa_pkcs1_sha512", TLS_KEY_RSA, TLS_HASH_SHA512, false},
	};
	const size_t nwant = sizeof want / sizeof want[0];
	size_t n = 0;
	const uint16_t *all = tls_sigschemes_all(&n);

	CHECK_EQ(n, nwant);
	for (size_t i = 0; i < nwant && i < n; i++) {
		CHECK_EQ(all[i], want[i].id);
		const tls_sigscheme *s = tls_sigscheme_by_id(want[i].id);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		CHECK(strcmp(s->name, want[i].name) == 0);
		CHECK_EQ(s->key, want[i].key);
		if (want[i].hash >= 0)
			CHECK_EQ(s->hash, want[i].hash);
		CHECK_EQ(s->pss, want[i].pss);
	}
	CHECK(tls_sigscheme_by_id(0x0201) == NULL); /* rsa_pkcs1_sha1 */
	CHECK(tls_sigscheme_by_id(0x0203) == NULL); /* ecdsa_sha1 */
	CHECK(tls_sigscheme_by_id(0x0303) == NULL); /* ecdsa_sha224: below SHA-256 */
	CHECK(tls_sigscheme_by_id(0x0301) == NULL); /* rsa_pkcs1_sha224 */
	CHECK(tls_sigscheme_by_id(0x0101) == NULL); /* rsa_pkcs1_md5 */
	CHECK(tls_sigscheme_by_id(0x0809) == NULL); /* rsa_pss_pss_sha256 */
	CHECK(tls_sigscheme_by_id(0x0808) == NULL); /* ed448 */
}

static void test_lengths(void)
{
	CHECK_EQ(tls_aead_key_len(TLS_AEAD_AES128GCM), 16);
	CHECK_EQ(tls_aead_key_len(TLS_AEAD_AES256GCM), 32);
	CHECK_EQ(tls_aead_key_len(TLS_AEAD_CHACHA20), 32);
	CHECK_EQ(tls_aead_key_len(99), 0);
	CHECK_EQ(tls_aead_fixed_iv_len(TLS_AEAD_AES128GCM), 4);
	CHECK_EQ(tls_aead_fixed_iv_len(TLS_AEAD_AES256GCM), 4);
	CHECK_EQ(tls_aead_fixed_iv_len(TLS_AEAD_CHACHA20), 12);
	CHECK_EQ(tls_aead_fixed_iv_len(-1), 0);
	CHECK_EQ(tls_hash_len(TLS_HASH_SHA256), 32);
	CHECK_EQ(tls_hash_len(TLS_HASH_SHA384), 48);
	CHECK_EQ(tls_hash_len(TLS_HASH_SHA512), 64);
	CHECK_EQ(tls_hash_len(7), 0);
}

static void test_suites_parse(void)
{
	uint16_t out[16];
	char err[256];
	size_t n;

	CHECK_EQ(tls_suites_parse("ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256", out, 16, &n, err,
				  sizeof(err)),
		 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0], 0xcca8);
	CHECK_EQ(out[1], 0x009c);

	/* Every separator, repeated separators, leading/trailing ones. */
	CHECK_EQ(tls_suites_parse(" ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES256-GCM-SHA384 "
				  "AES256-GCM-SHA384::ECDHE-ECDSA-AES128-GCM-SHA256:",
				  out, 16, &n, err, sizeof(err)),
		 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(out[0], 0xc02c);
	CHECK_EQ(out[1], 0xc030);
	CHECK_EQ(out[2], 0x009d);
	CHECK_EQ(out[3], 0xc02b);

	/* All eight. */
	CHECK_EQ(tls_suites_parse("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
				  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
				  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
				  "AES128-GCM-SHA256:AES256-GCM-SHA384",
				  out, 16, &n, err, sizeof(err)),
		 0);
	CHECK_EQ(n, 8);

	/* Unknown name: error naming it and listing what is supported. */
	n = 99;
	CHECK_EQ(tls_suites_parse("ECDHE-RSA-AES128-GCM-SHA256:FOO", out, 16, &n, err, sizeof(err)),
		 -1);
	CHECK_EQ(n, 0);
	CHECK(strstr(err, "unknown cipher suite 'FOO'") != NULL);
	CHECK(strstr(err, "supported:") != NULL);
	CHECK(strstr(err, "ECDHE-ECDSA-AES128-GCM-SHA256") != NULL);
	CHECK(strstr(err, "AES256-GCM-SHA384") != NULL);

	/* A CBC suite OpenSSL knows is still unknown to us. */
	CHECK_EQ(tls_suites_parse("ECDHE-RSA-AES128-SHA", out, 16, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "'ECDHE-RSA-AES128-SHA'") != NULL);

	/* Duplicate. */
	CHECK_EQ(tls_suites_parse("AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256",
				  out, 16, &n, err, sizeof(err)),
		 -1);
	CHECK(strstr(err, "duplicate") != NULL);
	CHECK(strstr(err, "AES128-GCM-SHA256") != NULL);

	/* Empty. */
	CHECK_EQ(tls_suites_parse("", out, 16, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "empty") != NULL);
	CHECK_EQ(tls_suites_parse(" : , ", out, 16, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "empty") != NULL);
	CHECK_EQ(tls_suites_parse(NULL, out, 16, &n, err, sizeof(err)), -1);

	/* More than max. */
	CHECK_EQ(tls_suites_parse("AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
				  out, 2, &n, err, sizeof(err)),
		 -1);
	CHECK(strstr(err, "too many") != NULL);
	CHECK_EQ(tls_suites_parse("AES128-GCM-SHA256:AES256-GCM-SHA384", out, 2, &n, err,
				  sizeof(err)),
		 0);
	CHECK_EQ(n, 2);

	/* A very long token is reported, not overflowed. */
	char longtok[400];
	memset(longtok, 'A', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	CHECK_EQ(tls_suites_parse(longtok, out, 16, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "unknown cipher suite 'AAAA") != NULL);
	CHECK(strlen(err) < sizeof(err));

	/* A tiny or absent error buffer is fine. */
	char small[8];
	CHECK_EQ(tls_suites_parse("FOO", out, 16, &n, small, sizeof(small)), -1);
	CHECK_EQ(strlen(small), 7);
	CHECK_EQ(tls_suites_parse("FOO", out, 16, &n, NULL, 0), -1);

	/* A prefix of a real name is not that name. */
	CHECK_EQ(tls_suites_parse("AES128-GCM", out, 16, &n, err, sizeof(err)), -1);
}

static void test_groups_parse(void)
{
	uint16_t out[8];
	char err[256];
	size_t n;

	CHECK_EQ(tls_groups_parse("x25519:secp256r1:secp384r1", out, 8, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(out[0], 29);
	CHECK_EQ(out[1], 23);
	CHECK_EQ(out[2], 24);

	CHECK_EQ(tls_groups_parse("P-384,X25519", out, 8, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0], 24);
	CHECK_EQ(out[1], 29);

	CHECK_EQ(tls_groups_parse("prime256v1", out, 8, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0], 23);

	/* An alias and its canonical name are the same group: duplicate. */
	CHECK_EQ(tls_groups_parse("P-256:secp256r1", out, 8, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "duplicate") != NULL);
	CHECK(strstr(err, "secp256r1") != NULL);

	CHECK_EQ(tls_groups_parse("x25519:x448", out, 8, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "'x448'") != NULL);
	CHECK(strstr(err, "x25519:secp256r1:secp384r1") != NULL);

	CHECK_EQ(tls_groups_parse("", out, 8, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "empty") != NULL);
	CHECK_EQ(tls_groups_parse("x25519:P-256", out, 1, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "too many") != NULL);
}

/* The key facts every layer shares (issue 13 item 2: one home). */
static void test_key_types(void)
{
	static const int types[] = {TLS_KEY_RSA, TLS_KEY_EC_P256, TLS_KEY_EC_P384, TLS_KEY_ED25519,
				    TLS_KEY_NONE};
	static const char *const names[] = {"RSA", "EC P-256", "EC P-384", "Ed25519",
					    "unsupported"};
	const tls_suite *ecdsa = tls_suite_by_id(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
	const tls_suite *rsa_kx = tls_suite_by_id(TLS_RSA_WITH_AES_128_GCM_SHA256);
	const uint16_t ids[] = {0x001d, 0x0017, 0xc02b};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		CHECK(strcmp(tls_key_type_name(types[i]), names[i]) == 0);
		bool ec = types[i] != TLS_KEY_RSA && types[i] != TLS_KEY_NONE;
		CHECK_EQ(tls_suite_serves_key(ecdsa, types[i]), ec);
		CHECK_EQ(tls_suite_serves_key(rsa_kx, types[i]), types[i] == TLS_KEY_RSA);
	}
	CHECK(tls_ids_contain(ids, 3, 0x0017));
	CHECK(tls_ids_contain(ids, 3, 0xc02b));
	CHECK(!tls_ids_contain(ids, 2, 0xc02b));
	CHECK(!tls_ids_contain(ids, 0, 0x001d));
}

int main(void)
{
	test_key_types();
	test_suite_table();
	test_suite_defaults();
	test_groups();
	test_sigschemes();
	test_lengths();
	test_suites_parse();
	test_groups_parse();
	return check_exit("unit/suites");
}
