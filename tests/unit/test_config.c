/*
 * test_config.c: tls_config defaults, every setter with good and bad
 * input, the consistency check and its messages, reference counting.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "check.h"
#include "internal.h"
#include "testpki.h"

/* Material shared by the tests: one CA, leaves of each key type. */
static testpki_ca ca;
static char *ca_pem;
static char *ec_cert, *ec_key;   /* P-256 */
static char *ec2_cert, *ec2_key; /* another P-256 (mismatch tests) */
static char *rsa_cert, *rsa_key;
static char *ed_cert, *ed_key;
static char *p384_cert, *p384_key;

static void issue(int type, const char *cn, char **cert, char **key)
{
	testpki_leaf_opts o = {.key_type = type, .cn = cn, .dns = cn};

	if (testpki_issue(&ca, &o, cert, key) != 0) {
		fprintf(stderr, "testpki_issue(%s) failed\n", cn);
		exit(1);
	}
}

static void pki_setup(void)
{
	if (testpki_ca_new(&ca, TLS_KEY_EC_P256, "config test CA") != 0 ||
	    (ca_pem = testpki_ca_pem(&ca)) == NULL) {
		fprintf(stderr, "testpki_ca_new failed\n");
		exit(1);
	}
	issue(TLS_KEY_EC_P256, "ec.test", &ec_cert, &ec_key);
	issue(TLS_KEY_EC_P256, "ec2.test", &ec2_cert, &ec2_key);
	issue(TLS_KEY_RSA, "rsa.test", &rsa_cert, &rsa_key);
	issue(TLS_KEY_ED25519, "ed.test", &ed_cert, &ed_key);
	issue(TLS_KEY_EC_P384, "p384.test", &p384_cert, &p384_key);
}

static void pki_teardown(void)
{
	char *all[] = {ca_pem,  ec_cert, ec_key, ec2_cert,  ec2_key, rsa_cert,
		       rsa_key, ed_cert, ed_key, p384_cert, p384_key};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	testpki_ca_free(&ca);
}

static int set_pair(tls_config *cfg, const char *cert, const char *key)
{
	char err[256];

	if (tls_config_set_chain_pem(cfg, cert, strlen(cert), err, sizeof(err)) != 0)
		return -1;
	return tls_config_set_key_pem(cfg, key, strlen(key), err, sizeof(err));
}

/* check_err(cfg, want): tls_config_check fails with a message containing
 * ${want}. */
static bool check_err(tls_config *cfg, const char *want)
{
	char err[512] = "";

	if (tls_config_check(cfg, err, sizeof(err)) != -1)
		return false;
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "  check() said \"%s\", wanted \"%s\"\n", err, want);
		return false;
	}
	return true;
}

static void test_defaults(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	tls_config *s = tls_config_new(TLS_ROLE_SERVER);
	uint16_t suites[TLS_MAX_SUITES], groups[TLS_MAX_GROUPS];
	size_t ns = tls_suites_default(suites, TLS_MAX_SUITES);
	size_t ng = tls_groups_default(groups, TLS_MAX_GROUPS);
	uint64_t t = (uint64_t)time(NULL);

	CHECK(c != NULL && s != NULL);
	if (c == NULL || s == NULL)
		return;
	CHECK_EQ(c->refs, 1);
	CHECK_EQ(c->role, TLS_ROLE_CLIENT);
	CHECK_EQ(c->verify, TLS_VERIFY_REQUIRE);
	CHECK_EQ(s->role, TLS_ROLE_SERVER);
	CHECK_EQ(s->verify, TLS_VERIFY_NONE);
	CHECK(ns > 0);
	CHECK(ng > 0);
	CHECK_EQ(c->nsuites, ns);
	CHECK_MEM(c->suites, suites, ns * sizeof(suites[0]));
	CHECK_EQ(c->ngroups, ng);
	CHECK_MEM(c->groups, groups, ng * sizeof(groups[0]));
	CHECK_EQ(s->nsuites, ns);
	CHECK_EQ(s->ngroups, ng);
	CHECK(c->tickets);
	CHECK(s->tickets);
	CHECK(c->ticket_keys == NULL);
	CHECK(s->ticket_keys != NULL);
	if (s->ticket_keys != NULL)
		CHECK_EQ(tls_ticket_keys_period(s->ticket_keys), 3600);
	CHECK(!c->has_chain && !c->has_key && c->store == NULL && c->npins == 0);
	CHECK(c->keylog == NULL);
	CHECK(c->now != NULL);
	if (c->now != NULL) {
		uint64_t n = c->now(c->now_arg);

		CHECK(n >= t && n <= t + 5);
	}
	CHECK(tls_config_new((enum tls_role)7) == NULL);
	tls_config_unref(c);
	tls_config_unref(s);
}

static void test_refcount(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_SERVER);

	CHECK(tls_config_ref(c) == c);
	CHECK_EQ(c->refs, 2);
	CHECK_EQ(set_pair(c, ec_cert, ec_key), 0);
	tls_config_unref(c);
	CHECK_EQ(c->refs, 1);
	CHECK(c->has_chain && c->has_key); /* still alive */
	tls_config_unref(c);               /* frees chain, key, ring: ASan sees leaks */
	tls_config_unref(NULL);
}

static void test_chain_key(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_SERVER);
	char err[256] = "";

	/* Bad input fails with a reason and leaves nothing set. */
	CHECK_EQ(tls_config_set_chain_pem(c, "garbage", 7, err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
	CHECK(!c->has_chain);
	err[0] = '\0';
	CHECK_EQ(tls_config_set_key_pem(c, "garbage", 7, err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
	CHECK(!c->has_key);
	/* err may be NULL. */
	CHECK_EQ(tls_config_set_chain_pem(c, "garbage", 7, NULL, 0), -1);
	CHECK_EQ(tls_config_set_key_pem(c, "garbage", 7, NULL, 0), -1);

	CHECK_EQ(tls_config_set_chain_pem(c, ec_cert, strlen(ec_cert), err, sizeof(err)), 0);
	CHECK(c->has_chain);
	CHECK_EQ(c->chain.key_type, TLS_KEY_EC_P256);
	CHECK(check_err(c, "server rule needs cert and key"));
	CHECK_EQ(tls_config_set_key_pem(c, ec_key, strlen(ec_key), err, sizeof(err)), 0);
	CHECK(c->has_key);
	CHECK_EQ(c->key.type, TLS_KEY_EC_P256);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);

	/* A failed setter keeps the old value. */
	CHECK_EQ(tls_config_set_chain_pem(c, "junk", 4, err, sizeof(err)), -1);
	CHECK(c->has_chain);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);

	/* Replacing the key with another's: mismatch (the old key is freed). */
	CHECK_EQ(tls_config_set_key_pem(c, ec2_key, strlen(ec2_key), err, sizeof(err)), 0);
	CHECK(check_err(c, "private key does not match the certificate"));
	/* Replacing the chain to match again. */
	CHECK_EQ(tls_config_set_chain_pem(c, ec2_cert, strlen(ec2_cert), err, sizeof(err)), 0);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
	/* Cross-type mismatch. */
	CHECK_EQ(tls_config_set_key_pem(c, rsa_key, strlen(rsa_key), err, sizeof(err)), 0);
	CHECK(check_err(c, "private key does not match the certificate"));
	tls_config_unref(c);

	/* A server with only a key. */
	c = tls_config_new(TLS_ROLE_SERVER);
	CHECK_EQ(tls_config_set_key_pem(c, ec_key, strlen(ec_key), err, sizeof(err)), 0);
	CHECK(check_err(c, "server rule needs cert and key"));
	tls_config_unref(c);
	c = tls_config_new(TLS_ROLE_SERVER);
	CHECK(check_err(c, "server rule needs cert and key"));
	tls_config_unref(c);

	/* A client may have neither, but not one without the other. */
	c = tls_config_new(TLS_ROLE_CLIENT);
	tls_config_set_verify(c, TLS_VERIFY_NONE);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
	CHECK_EQ(tls_config_set_chain_pem(c, ec_cert, strlen(ec_cert), err, sizeof(err)), 0);
	CHECK(check_err(c, "cert without key"));
	tls_config_unref(c);
	c = tls_config_new(TLS_ROLE_CLIENT);
	tls_config_set_verify(c, TLS_VERIFY_NONE);
	CHECK_EQ(tls_config_set_key_pem(c, ec_key, strlen(ec_key), err, sizeof(err)), 0);
	CHECK(check_err(c, "key without cert"));
	CHECK_EQ(tls_config_set_chain_pem(c, ec2_cert, strlen(ec2_cert), err, sizeof(err)), 0);
	CHECK(check_err(c, "private key does not match the certificate"));
	CHECK_EQ(tls_config_set_chain_pem(c, ec_cert, strlen(ec_cert), err, sizeof(err)), 0);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
	tls_config_unref(c);
}

static void test_key_serves_suite(void)
{
	static const char *ecdsa_only =
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305";
	static const char *rsa_only = "ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256";
	struct {
		const char *cert, *key, *type;
		bool ecdsa;
	} keys[] = {
		{ec_cert, ec_key, "EC P-256", true},
		{p384_cert, p384_key, "EC P-384", true},
		{ed_cert, ed_key, "Ed25519", true},
		{rsa_cert, rsa_key, "RSA", false},
	};
	char err[512];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		tls_config *c = tls_config_new(TLS_ROLE_SERVER);
		const char *good = keys[i].ecdsa ? ecdsa_only : rsa_only;
		const char *bad = keys[i].ecdsa ? rsa_only : ecdsa_only;

		CHECK_EQ(set_pair(c, keys[i].cert, keys[i].key), 0);
		CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0); /* defaults serve every type */
		CHECK_EQ(tls_config_set_ciphers(c, good, err, sizeof(err)), 0);
		CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
		CHECK_EQ(tls_config_set_ciphers(c, bad, err, sizeof(err)), 0);
		err[0] = '\0';
		CHECK_EQ(tls_config_check(c, err, sizeof(err)), -1);
		CHECK(strstr(err, keys[i].type) != NULL);
		/* ... and it names the suites it was given. */
		CHECK(strstr(err, keys[i].ecdsa ? "ECDHE-RSA-AES128-GCM-SHA256"
						: "ECDHE-ECDSA-CHACHA20-POLY1305") != NULL);
		/* A client certificate of any type is fine with any suites. */
		tls_config_unref(c);
		c = tls_config_new(TLS_ROLE_CLIENT);
		tls_config_set_verify(c, TLS_VERIFY_NONE);
		CHECK_EQ(set_pair(c, keys[i].cert, keys[i].key), 0);
		CHECK_EQ(tls_config_set_ciphers(c, bad, err, sizeof(err)), 0);
		CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
		tls_config_unref(c);
	}
}

static void test_ca_verify(void)
{
	tls_config *s = tls_config_new(TLS_ROLE_SERVER);
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	char err[256] = "";
	X509_STORE *first;
	int rc;

	CHECK_EQ(set_pair(s, ec_cert, ec_key), 0);
	CHECK_EQ(tls_config_check(s, err, sizeof(err)), 0); /* verify none */
	tls_config_set_verify(s, TLS_VERIFY_REQUIRE);
	CHECK_EQ(s->verify, TLS_VERIFY_REQUIRE);
	CHECK(check_err(s, "verify_peer = require needs ca"));
	tls_config_set_verify(s, TLS_VERIFY_OPTIONAL);
	CHECK_EQ(s->verify, TLS_VERIFY_OPTIONAL);
	CHECK(check_err(s, "verify_peer = optional needs ca"));
	tls_config_set_verify(s, (enum tls_verify)9); /* out of range: ignored */
	CHECK_EQ(s->verify, TLS_VERIFY_OPTIONAL);

	CHECK_EQ(tls_config_set_ca_pem(s, "nope", 4, err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
	CHECK(s->store == NULL);
	CHECK_EQ(tls_config_set_ca_pem(s, ca_pem, strlen(ca_pem), err, sizeof(err)), 0);
	CHECK(s->store != NULL);
	CHECK_EQ(tls_config_check(s, err, sizeof(err)), 0);
	/* Replacing the store frees the old one (ASan). */
	first = s->store;
	CHECK_EQ(tls_config_set_ca_pem(s, ca_pem, strlen(ca_pem), err, sizeof(err)), 0);
	CHECK(s->store != NULL && s->store != first);
	/* A failed replacement keeps the store. */
	CHECK_EQ(tls_config_set_ca_pem(s, "nope", 4, NULL, 0), -1);
	CHECK(s->store != NULL);

	/* Client: require by default, which needs a CA or a pin. */
	CHECK(check_err(c, "verify_peer = require needs ca (or pin)"));
	tls_config_set_verify(c, TLS_VERIFY_NONE);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
	tls_config_set_verify(c, TLS_VERIFY_REQUIRE);
	CHECK_EQ(tls_config_set_ca_pem(c, ca_pem, strlen(ca_pem), err, sizeof(err)), 0);
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);

	/* The system store may be missing on a build machine; either way the
	 * result is consistent. */
	rc = tls_config_set_ca_system(c, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	CHECK(c->store != NULL);
	tls_config_unref(c);
	tls_config_unref(s);
}

static void test_pins(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	tls_config *s = tls_config_new(TLS_ROLE_SERVER);
	uint8_t a[32], b[32];
	char b64a[64], b64b[64], spec[200], err[256] = "";

	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(b64a, sizeof(b64a), a, sizeof(a), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64b, sizeof(b64b), b, sizeof(b), sodium_base64_VARIANT_ORIGINAL);
	snprintf(spec, sizeof(spec), "sha256//%s,sha256//%s", b64a, b64b);

	CHECK_EQ(tls_config_set_pins(c, "sha256//notbase64!", err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
	CHECK_EQ(c->npins, 0);
	CHECK_EQ(tls_config_set_pins(c, spec, err, sizeof(err)), 0);
	CHECK_EQ(c->npins, 2);
	CHECK_MEM(c->pins[0], a, 32);
	CHECK_MEM(c->pins[1], b, 32);
	/* A pin alone authenticates a client's peer. */
	CHECK_EQ(tls_config_check(c, err, sizeof(err)), 0);
	/* A bad spec keeps the pins. */
	CHECK_EQ(tls_config_set_pins(c, "md5//AAAA", NULL, 0), -1);
	CHECK_EQ(c->npins, 2);
	/* Pins are a client feature. */
	err[0] = '\0';
	CHECK_EQ(tls_config_set_pins(s, spec, err, sizeof(err)), -1);
	CHECK(strstr(err, "client") != NULL);
	CHECK_EQ(s->npins, 0);
	tls_config_unref(c);
	tls_config_unref(s);
}

static void test_lists(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	char err[256] = "";

	CHECK_EQ(tls_config_set_ciphers(c, "ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256", err,
					sizeof(err)),
		 0);
	CHECK_EQ(c->nsuites, 2);
	CHECK_EQ(c->suites[0], TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
	CHECK_EQ(c->suites[1], TLS_RSA_WITH_AES_128_GCM_SHA256);
	CHECK_EQ(tls_config_set_ciphers(c, "RC4-MD5", err, sizeof(err)), -1);
	CHECK(strstr(err, "RC4-MD5") != NULL);
	CHECK_EQ(c->nsuites, 2); /* unchanged */
	CHECK_EQ(c->suites[0], TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
	CHECK_EQ(tls_config_set_ciphers(c, "", NULL, 0), -1);
	CHECK_EQ(c->nsuites, 2);

	CHECK_EQ(tls_config_set_groups(c, "secp384r1:x25519", err, sizeof(err)), 0);
	CHECK_EQ(c->ngroups, 2);
	CHECK_EQ(c->groups[0], TLS_GROUP_SECP384R1);
	CHECK_EQ(c->groups[1], TLS_GROUP_X25519);
	err[0] = '\0';
	CHECK_EQ(tls_config_set_groups(c, "ffdhe2048", err, sizeof(err)), -1);
	CHECK(strstr(err, "ffdhe2048") != NULL);
	CHECK_EQ(c->ngroups, 2);
	CHECK_EQ(c->groups[0], TLS_GROUP_SECP384R1);
	tls_config_unref(c);
}

/* min_version / max_version (tls_config_set_versions): 1.2 to 1.3 by
 * default; a range without TLS 1.2 is refused while TLS 1.3 is not
 * available (fail closed), a max of 1.3 is taken and negotiates 1.2. */
static void test_versions(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	char err[256] = "";
	uint16_t lo = 1, hi = 1;

	CHECK_EQ(c->min_version, TLS_VERSION_1_2);
	CHECK_EQ(c->max_version, TLS_VERSION_1_3);
	CHECK_EQ(tls_versions_effective(TLS_VERSION_1_2, TLS_VERSION_1_3, &lo, &hi), 0);
	CHECK_EQ(lo, TLS_VERSION_1_2);
	CHECK_EQ(hi, TLS_VERSION_1_2); /* honest: 1.2 only in this build */
	CHECK_EQ(tls_versions_effective(TLS_VERSION_1_3, TLS_VERSION_1_3, &lo, &hi), -1);
	CHECK(!tls_version_supported(TLS_VERSION_1_3));

	CHECK_EQ(tls_config_set_versions(c, TLS_VERSION_1_3, TLS_VERSION_1_3, err, sizeof err), -1);
	CHECK(strstr(err, "TLS 1.3 is not available in this build yet") != NULL);
	CHECK_EQ(c->min_version, TLS_VERSION_1_2); /* unchanged */
	CHECK_EQ(tls_config_set_versions(c, TLS_VERSION_1_3, TLS_VERSION_1_2, err, sizeof err), -1);
	CHECK(strstr(err, "above") != NULL);
	CHECK_EQ(tls_config_set_versions(c, 0x0302, TLS_VERSION_1_2, err, sizeof err), -1);
	CHECK_EQ(tls_config_set_versions(c, TLS_VERSION_1_2, TLS_VERSION_1_2, err, sizeof err), 0);
	CHECK_EQ(c->max_version, TLS_VERSION_1_2);
	CHECK_EQ(tls_config_check(c, err, sizeof err), -1); /* needs ca: unrelated */
	tls_config_set_verify(c, TLS_VERIFY_NONE);
	CHECK_EQ(tls_config_check(c, err, sizeof err), 0);
	CHECK(strcmp(tls_version_name(TLS_VERSION_1_3), "TLSv1.3") == 0);
	CHECK(strcmp(tls_version_name(TLS_VERSION_1_2), "TLSv1.2") == 0);
	CHECK(strcmp(tls_version_name(0x7f1c), "unknown") == 0);
	tls_config_unref(c);
}

/* TLS 1.3 suite names in ciphers: kept for TLS 1.3, never offered in 1.2;
 * a list of 1.3 names only is refused (it would silently mean the TLS 1.2
 * defaults), as are 1.3 names on a rule capped at TLS 1.2. */
static void test_ciphers13(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	char err[512] = "";

	tls_config_set_verify(c, TLS_VERIFY_NONE);
	CHECK_EQ(c->nsuites13, 3);
	CHECK(!c->ciphers13_named);
	CHECK_EQ(
		tls_config_set_ciphers(c,
				       "TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
				       "TLS_AES_128_GCM_SHA256",
				       err, sizeof err),
		0);
	CHECK_EQ(c->nsuites, 1);
	CHECK_EQ(c->suites[0], TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
	CHECK_EQ(c->nsuites13, 2);
	CHECK_EQ(c->suites13[0], TLS_CHACHA20_POLY1305_SHA256);
	CHECK_EQ(c->suites13[1], TLS_AES_128_GCM_SHA256);
	CHECK(c->ciphers13_named);
	CHECK_EQ(tls_config_check(c, err, sizeof err), 0);

	/* 1.3 names on a rule that stops at 1.2. */
	CHECK_EQ(tls_config_set_versions(c, TLS_VERSION_1_2, TLS_VERSION_1_2, err, sizeof err), 0);
	CHECK_EQ(tls_config_check(c, err, sizeof err), -1);
	CHECK(strstr(err,
		     "ciphers names TLS 1.3 suites (TLS_CHACHA20_POLY1305_SHA256:"
		     "TLS_AES_128_GCM_SHA256), but the rule's maximum version is TLS 1.2") != NULL);
	CHECK_EQ(tls_config_set_versions(c, TLS_VERSION_1_2, TLS_VERSION_1_3, err, sizeof err), 0);

	/* Only 1.3 names: nothing to speak today. */
	CHECK_EQ(tls_config_set_ciphers(c, "TLS_AES_256_GCM_SHA384", err, sizeof err), 0);
	CHECK_EQ(c->nsuites, 0);
	CHECK_EQ(tls_config_check(c, err, sizeof err), -1);
	CHECK(strstr(err, "ciphers names only TLS 1.3 suites (TLS_AES_256_GCM_SHA384), and "
			  "TLS 1.3 is not available in this build yet") != NULL);

	/* Only 1.2 names: TLS 1.3 keeps its defaults (OpenSSL's rule). */
	CHECK_EQ(tls_config_set_ciphers(c, "ECDHE-RSA-AES128-GCM-SHA256", err, sizeof err), 0);
	CHECK_EQ(c->nsuites, 1);
	CHECK_EQ(c->nsuites13, 3);
	CHECK(!c->ciphers13_named);
	CHECK_EQ(tls_config_check(c, err, sizeof err), 0);
	/* Duplicates and unknown names, of either version. */
	CHECK_EQ(tls_config_set_ciphers(c, "TLS_AES_128_GCM_SHA256:tls_aes_128_gcm_sha256", err,
					sizeof err),
		 -1);
	CHECK(strstr(err, "duplicate") != NULL);
	CHECK_EQ(tls_config_set_ciphers(c, "TLS_AES_128_CCM_SHA256", err, sizeof err), -1);
	CHECK(strstr(err, "TLS_AES_128_GCM_SHA256") != NULL); /* the supported list says so */
	tls_config_unref(c);
}

/* tls_config_set_alpn: RFC 7301 §3.1 names, stored as the wire list. */
static void test_alpn(void)
{
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	tls_config *s = tls_config_new(TLS_ROLE_SERVER);
	char err[256] = "", big[70000];

	CHECK_EQ(c->alpn_len, 0);
	CHECK_EQ(tls_config_set_alpn(c, " h2 ,http/1.1", err, sizeof err), 0);
	CHECK_EQ(c->alpn_len, 12);
	CHECK_MEM(c->alpn, "\x02h2\x08http/1.1", 12);
	CHECK(strcmp(c->alpn_text, "h2") == 0 && strcmp(c->alpn_text + 3, "http/1.1") == 0);

	static const struct {
		const char *list, *words;
	} bad[] = {
		{"h2,,http/1.1", "empty protocol name (item 2)"},
		{"h2,", "empty protocol name (item 2)"},
		{",h2", "empty protocol name (item 1)"},
		{" ", "empty protocol name (item 1)"},
		{"h2,http/1.1,h2", "duplicate protocol name 'h2' (item 3)"},
		{"h 2", "'h 2' (item 1) contains a space or control character"},
		{"h2,x\x01y", "(item 2) contains a space or control character"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECK_EQ(tls_config_set_alpn(c, bad[i].list, err, sizeof err), -1);
		if (strstr(err, bad[i].words) == NULL)
			fprintf(stderr, "  alpn '%s': \"%s\" lacks \"%s\"\n", bad[i].list, err,
				bad[i].words);
		CHECK(strstr(err, bad[i].words) != NULL);
		CHECK_EQ(c->alpn_len, 12); /* a failed setter changes nothing */
	}
	/* 255 bytes is the longest name (RFC 7301 §3.1), 256 too long. */
	memset(big, 'a', 256);
	big[256] = '\0';
	CHECK_EQ(tls_config_set_alpn(c, big, err, sizeof err), -1);
	CHECK(strstr(err, "is 256 bytes; RFC 7301 allows 1 to 255") != NULL);
	big[255] = '\0';
	CHECK_EQ(tls_config_set_alpn(s, big, err, sizeof err), 0);
	CHECK_EQ(s->alpn_len, 256);

	/* The whole list at most 2^16-1 bytes encoded: 10922 five-digit
	 * names take 6 bytes each, 65532; one more name of 2 is too many. A
	 * client's list must also fit in its ClientHello. */
	size_t o = 0;
	for (unsigned i = 0; i < 10922; i++)
		o += (size_t)snprintf(big + o, sizeof big - o, "%s%05u", i ? "," : "", i);
	CHECK_EQ(tls_config_set_alpn(s, big, err, sizeof err), 0); /* 10922 * 6 = 65532 */
	CHECK_EQ(s->alpn_len, 65532);
	snprintf(big + o, sizeof big - o, ",zz"); /* 65535: the limit itself */
	CHECK_EQ(tls_config_set_alpn(s, big, err, sizeof err), 0);
	CHECK_EQ(s->alpn_len, 65535);
	snprintf(big + o, sizeof big - o, ",zzz"); /* 65536 */
	CHECK_EQ(tls_config_set_alpn(s, big, err, sizeof err), -1);
	CHECK(strstr(err, "65536 bytes encoded; RFC 7301 allows at most 65535") != NULL);
	big[o] = '\0';
	CHECK_EQ(tls_config_set_alpn(c, big, err, sizeof err), 0);
	tls_config_set_verify(c, TLS_VERIFY_NONE);
	CHECK_EQ(tls_config_check(c, err, sizeof err), -1);
	CHECK(strstr(err, "must fit in its ClientHello") != NULL);

	/* NULL and "" clear. */
	CHECK_EQ(tls_config_set_alpn(c, "", err, sizeof err), 0);
	CHECK_EQ(c->alpn_len, 0);
	CHECK(c->alpn == NULL && c->alpn_text == NULL);
	CHECK_EQ(tls_config_check(c, err, sizeof err), 0);
	CHECK_EQ(tls_config_set_alpn(s, NULL, err, sizeof err), 0);
	CHECK_EQ(s->alpn_len, 0);
	tls_config_unref(c);
	tls_config_unref(s);
}

static uint64_t fake_now;
static uint64_t fake_clock(void *arg)
{
	return *(uint64_t *)arg;
}

static void keylog_cb(void *arg, const char *line)
{
}

static void test_tickets_clock_keylog(void)
{
	tls_config *s = tls_config_new(TLS_ROLE_SERVER);
	tls_config *c = tls_config_new(TLS_ROLE_CLIENT);
	tls_session *sess = tls_session_new();
	uint8_t t[TLS_TICKET_MAX];
	size_t n = 0;
	tls_session *o;
	int arg;

	tls_config_set_tickets(s, false);
	CHECK(!s->tickets);
	CHECK(s->ticket_keys == NULL);
	tls_config_set_tickets(s, true);
	CHECK(s->tickets);
	CHECK(s->ticket_keys != NULL);
	tls_config_set_tickets(s, true); /* idempotent: no second ring (ASan) */
	CHECK(s->ticket_keys != NULL);
	tls_config_set_tickets(c, false);
	CHECK(!c->tickets);
	CHECK(c->ticket_keys == NULL);
	tls_config_set_tickets(c, true);
	CHECK(c->tickets);
	CHECK(c->ticket_keys == NULL);

	/* A clock of our own; the ring restarts on it, so rotation follows it:
	 * a ticket sealed now is gone two periods later. */
	fake_now = 1000;
	tls_config_set_clock(s, fake_clock, &fake_now);
	CHECK(s->now == fake_clock);
	CHECK_EQ(s->now(s->now_arg), 1000);
	sess->created = 1000;
	sess->lifetime = 100000;
	CHECK_EQ(tls_ticket_seal(s->ticket_keys, 1000, sess, t, sizeof(t), &n), 0);
	o = tls_ticket_open(s->ticket_keys, 1000 + 3600, t, n);
	CHECK(o != NULL);
	tls_session_unref(o);
	o = tls_ticket_open(s->ticket_keys, 1000 + 7200, t, n);
	CHECK(o == NULL);
	tls_session_unref(o);
	/* A NULL clock restores the system one. */
	tls_config_set_clock(s, NULL, NULL);
	CHECK(s->now != NULL && s->now != fake_clock);
	CHECK(s->now(s->now_arg) >= (uint64_t)time(NULL) - 1);

	tls_config_set_keylog(c, keylog_cb, &arg);
	CHECK(c->keylog == keylog_cb);
	CHECK(c->keylog_arg == &arg);
	tls_config_set_keylog(c, NULL, &arg);
	CHECK(c->keylog == NULL);

	tls_session_unref(sess);
	tls_config_unref(c);
	tls_config_unref(s);
}

static void test_err_buffer(void)
{
	tls_config *s = tls_config_new(TLS_ROLE_SERVER);
	char err[8];

	memset(err, 'x', sizeof(err));
	CHECK_EQ(tls_config_check(s, err, sizeof(err)), -1);
	CHECK_EQ(strlen(err), sizeof(err) - 1); /* truncated, terminated */
	CHECK_EQ(tls_config_check(s, NULL, 0), -1);
	tls_config_unref(s);
}

int main(void)
{
	CHECK(sodium_init() >= 0);
	pki_setup();
	test_defaults();
	test_refcount();
	test_chain_key();
	test_key_serves_suite();
	test_ca_verify();
	test_pins();
	test_lists();
	test_versions();
	test_ciphers13();
	test_alpn();
	test_tickets_clock_keylog();
	test_err_buffer();
	pki_teardown();
	return check_exit("unit/config");
}
