/* Certificates and keys: PEM loading, key classification, peer chain
 * verification (trust, validity, names, purpose, pins) and pin parsing. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "cert.h"
#include "check.h"
#include "consts.h"
#include "suites.h"
#include "testpki.h"

static testpki_ca root;  /* trusted */
static testpki_ca other; /* untrusted, same name as root */
static char *root_pem;
static X509_STORE *store;
static uint64_t now;

typedef struct leaf {
	char *cert, *key;
} leaf;

static leaf issue(const testpki_ca *ca, testpki_leaf_opts o)
{
	leaf l = {0};
	CHECK_EQ(testpki_issue(ca, &o, &l.cert, &l.key), 0);
	return l;
}

static void leaf_free(leaf *l)
{
	free(l->cert);
	free(l->key);
}

/* Every certificate of the PEM strings (NULL-terminated list), in order. */
static STACK_OF(X509) * stack_of(const char *pem, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	va_list ap;

	va_start(ap, pem);
	for (const char *p = pem; p != NULL; p = va_arg(ap, const char *)) {
		BIO *b = BIO_new_mem_buf(p, -1);
		X509 *x;
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			sk_X509_push(sk, x);
		BIO_free(b);
	}
	va_end(ap);
	return sk;
}

static tls_verify_params server_params(const char *name)
{
	tls_verify_params vp = {.store = store, .name = name, .peer_is_server = true, .now = now};
	return vp;
}

/* Verify ${pem} (+ optional extra chain PEM) and return the alert;
 * ${reason} gets the sentence. */
static int verify(const tls_verify_params *vp, const char *pem, const char *extra, char *reason,
		  size_t reasonlen)
{
	STACK_OF(X509) *sk = stack_of(pem, extra, (const char *)NULL);
	int alert;

	reason[0] = '\0';
	alert = tls_verify_peer(vp, sk, NULL, reason, reasonlen);
	sk_X509_pop_free(sk, X509_free);
	return alert;
}

static void test_load_each_type(void)
{
	static const int types[] = {TLS_KEY_RSA, TLS_KEY_EC_P256, TLS_KEY_EC_P384, TLS_KEY_ED25519};
	tls_chain ch[4];
	tls_privkey k[4];
	char err[256];

	for (size_t i = 0; i < 4; i++) {
		leaf l = issue(&root, (testpki_leaf_opts){.key_type = types[i], .cn = "svc"});
		size_t both_len = strlen(l.cert) + strlen(root_pem);
		char *both = malloc(both_len + 1);
		strcpy(both, l.cert);
		strcat(both, root_pem);

		CHECK_EQ(tls_chain_from_pem(&ch[i], both, both_len, err, sizeof(err)), 0);
		CHECK_EQ(ch[i].n, 2);
		CHECK_EQ(ch[i].key_type, types[i]);
		/* the stored DER is the leaf first, then the CA */
		const uint8_t *p = ch[i].der[0];
		X509 *x = d2i_X509(NULL, &p, (long)ch[i].der_len[0]);
		CHECK(x != NULL && X509_cmp(x, ch[i].leaf) == 0);
		CHECK(p == ch[i].der[0] + ch[i].der_len[0]);
		X509_free(x);
		p = ch[i].der[1];
		x = d2i_X509(NULL, &p, (long)ch[i].der_len[1]);
		CHECK(x != NULL && X509_cmp(x, root.cert) == 0);
		X509_free(x);

		CHECK_EQ(tls_privkey_from_pem(&k[i], l.key, strlen(l.key), err, sizeof(err)), 0);
		CHECK_EQ(k[i].type, types[i]);
		CHECK_EQ(tls_key_type_of(k[i].pkey), types[i]);
		CHECK(tls_privkey_matches(&k[i], &ch[i]));
		if (types[i] == TLS_KEY_ED25519) {
			/* libsodium's secret key ends with the public key */
			uint8_t pk[32];
			size_t pklen = sizeof(pk);
			CHECK(k[i].ed25519_sk != NULL);
			CHECK_EQ(EVP_PKEY_get_raw_public_key(k[i].pkey, pk, &pklen), 1);
			CHECK_MEM(k[i].ed25519_sk + 32, pk, 32);
		} else {
			CHECK(k[i].ed25519_sk == NULL);
		}
		free(both);
		leaf_free(&l);
	}
	/* keys of one leaf do not match another's certificate */
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++)
			if (i != j)
				CHECK(!tls_privkey_matches(&k[i], &ch[j]));
	/* nor does another key of the same type */
	leaf l2 = issue(&root, (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "other"});
	tls_privkey k2;
	CHECK_EQ(tls_privkey_from_pem(&k2, l2.key, strlen(l2.key), err, sizeof(err)), 0);
	CHECK(!tls_privkey_matches(&k2, &ch[1]));
	tls_privkey_free(&k2);
	tls_privkey_free(&k2); /* no-op once freed */
	leaf_free(&l2);

	for (size_t i = 0; i < 4; i++) {
		tls_chain_free(&ch[i]);
		tls_privkey_free(&k[i]);
	}
	tls_chain_free(&ch[0]); /* no-op once freed */
}

static void test_key_formats(void)
{
	EVP_PKEY *ec = testpki_key(TLS_KEY_EC_P384);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, err[256];
	long len;
	tls_privkey k;

	/* traditional "EC PRIVATE KEY" form */
	CHECK_EQ(PEM_write_bio_PrivateKey_traditional(b, ec, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(b, &data);
	CHECK(strstr(data, "BEGIN EC PRIVATE KEY") != NULL);
	CHECK_EQ(tls_privkey_from_pem(&k, data, (size_t)len, err, sizeof(err)), 0);
	CHECK_EQ(k.type, TLS_KEY_EC_P384);
	tls_privkey_free(&k);
	BIO_free(b);

	/* a passphrase-protected key is refused (and never prompts) */
	b = BIO_new(BIO_s_mem());
	CHECK_EQ(PEM_write_bio_PKCS8PrivateKey(b, ec, EVP_aes_128_cbc(), NULL, 0, NULL,
					       (void *)"secret"),
		 1);
	len = BIO_get_mem_data(b, &data);
	err[0] = '\0';
	CHECK_EQ(tls_privkey_from_pem(&k, data, (size_t)len, err, sizeof(err)), -1);
	CHECK(strstr(err, "private key") != NULL);
	CHECK(k.pkey == NULL);
	BIO_free(b);

	/* a P-521 key is not one we take */
	EVP_PKEY *p521 = EVP_EC_gen("P-521");
	CHECK_EQ(tls_key_type_of(p521), TLS_KEY_NONE);
	b = BIO_new(BIO_s_mem());
	CHECK_EQ(PEM_write_bio_PrivateKey(b, p521, NULL, NULL, 0, NULL, NULL), 1);
	len = BIO_get_mem_data(b, &data);
	CHECK_EQ(tls_privkey_from_pem(&k, data, (size_t)len, err, sizeof(err)), -1);
	CHECK(strstr(err, "unsupported") != NULL);
	BIO_free(b);
	EVP_PKEY_free(p521);
	CHECK_EQ(tls_key_type_of(NULL), TLS_KEY_NONE);
	EVP_PKEY_free(ec);
}

static void test_bad_pem(void)
{
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAAbm90IGEgY2VydA==\n"
				   "-----END CERTIFICATE-----\n";
	tls_chain ch;
	tls_privkey k;
	char err[256];

	err[0] = '\0';
	CHECK_EQ(tls_chain_from_pem(&ch, "", 0, err, sizeof(err)), -1);
	CHECK(strstr(err, "no certificate") != NULL);
	CHECK(ch.n == 0 && ch.leaf == NULL);
	err[0] = '\0';
	CHECK_EQ(tls_chain_from_pem(&ch, junk, strlen(junk), err, sizeof(err)), -1);
	CHECK(err[0] != '\0');
	/* a valid certificate followed by a broken one */
	size_t n = strlen(root_pem) + strlen(junk);
	char *both = malloc(n + 1);
	strcpy(both, root_pem);
	strcat(both, junk);
	CHECK_EQ(tls_chain_from_pem(&ch, both, n, err, sizeof(err)), -1);
	CHECK(strstr(err, "malformed") != NULL);
	free(both);
	/* a key where certificates are expected, and the other way round */
	leaf l = issue(&root, (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "x"});
	CHECK_EQ(tls_chain_from_pem(&ch, l.key, strlen(l.key), err, sizeof(err)), -1);
	CHECK_EQ(tls_privkey_from_pem(&k, l.cert, strlen(l.cert), err, sizeof(err)), -1);
	CHECK_EQ(tls_privkey_from_pem(&k, "", 0, err, sizeof(err)), -1);
	leaf_free(&l);

	/* trust stores */
	X509_STORE *s = tls_store_from_pem("", 0, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "no certificate") != NULL);
	s = tls_store_from_pem(junk, strlen(junk), err, sizeof(err));
	CHECK(s == NULL);
	s = tls_store_system(err, sizeof(err));
	CHECK(s != NULL);
	X509_STORE_free(s);
}

static void test_rsa_1024(void)
{
	leaf l = issue(&root, (testpki_leaf_opts){.key_type = TLS_KEY_RSA,
						  .rsa_bits = 1024,
						  .cn = "weak",
						  .dns = "weak.test"});
	tls_chain ch;
	tls_privkey k;
	char err[256];

	CHECK_EQ(tls_chain_from_pem(&ch, l.cert, strlen(l.cert), err, sizeof(err)), -1);
	CHECK(strstr(err, "2048") != NULL);
	CHECK_EQ(tls_privkey_from_pem(&k, l.key, strlen(l.key), err, sizeof(err)), -1);
	CHECK(strstr(err, "2048") != NULL);

	/* a peer presenting it: unsupported_certificate, even though the
	 * chain and the name are fine */
	tls_verify_params vp = server_params("weak.test");
	CHECK_EQ(verify(&vp, l.cert, NULL, err, sizeof(err)), TLS_ALERT_UNSUPPORTED_CERTIFICATE);
	CHECK(strstr(err, "RSA below 2048 bits") != NULL);
	leaf_free(&l);
}

static void test_verify_chain(void)
{
	char reason[256];
	tls_verify_params vp = server_params("svc.test");

	/* each key type, trusted, right name */
	static const int types[] = {TLS_KEY_RSA, TLS_KEY_EC_P256, TLS_KEY_EC_P384, TLS_KEY_ED25519};
	for (size_t i = 0; i < 4; i++) {
		leaf l = issue(
			&root,
			(testpki_leaf_opts){.key_type = types[i], .cn = "svc", .dns = "svc.test"});
		CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
		/* the CA sent along does not hurt */
		CHECK_EQ(verify(&vp, l.cert, root_pem, reason, sizeof(reason)), 0);
		leaf_free(&l);
	}

	/* unknown CA: same CA name, other key */
	leaf l = issue(
		&other,
		(testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "svc", .dns = "svc.test"});
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_UNKNOWN_CA);
	CHECK(strncmp(reason, "certificate verify failed: ", 27) == 0);
	CHECK(strlen(reason) > 27);
	/* sending the untrusted CA along changes nothing */
	char *other_pem = testpki_ca_pem(&other);
	CHECK_EQ(verify(&vp, l.cert, other_pem, reason, sizeof(reason)), TLS_ALERT_UNKNOWN_CA);
	/* a self-signed certificate as the leaf */
	tls_verify_params vpo = server_params("svc.test");
	CHECK_EQ(verify(&vpo, other_pem, NULL, reason, sizeof(reason)), TLS_ALERT_UNKNOWN_CA);
	free(other_pem);
	leaf_free(&l);

	/* intermediate: needed in the chain, found there as untrusted */
	testpki_ca mid;
	CHECK_EQ(testpki_ca_new_sub(&mid, &root, TLS_KEY_EC_P384, "Test Intermediate"), 0);
	char *mid_pem = testpki_ca_pem(&mid);
	l = issue(&mid,
		  (testpki_leaf_opts){.key_type = TLS_KEY_ED25519, .cn = "svc", .dns = "svc.test"});
	CHECK_EQ(verify(&vp, l.cert, mid_pem, reason, sizeof(reason)), 0);
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_UNKNOWN_CA);
	/* an intermediate in the CA file is a trust anchor by itself */
	char err[256];
	tls_verify_params vpm = vp;
	vpm.store = tls_store_from_pem(mid_pem, strlen(mid_pem), err, sizeof(err));
	CHECK(vpm.store != NULL);
	CHECK_EQ(verify(&vpm, l.cert, NULL, reason, sizeof(reason)), 0);
	X509_STORE_free(vpm.store);
	free(mid_pem);
	leaf_free(&l);
	testpki_ca_free(&mid);
}

static void test_validity(void)
{
	char reason[256];
	tls_verify_params vp = server_params("svc.test");
	leaf l = issue(&root, (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256,
						  .cn = "svc",
						  .dns = "svc.test",
						  .expired = true});

	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_CERTIFICATE_EXPIRED);
	CHECK(strstr(reason, "expired") != NULL);
	leaf_free(&l);

	l = issue(&root,
		  (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "svc", .dns = "svc.test"});
	vp.now = now - 2 * 3600; /* before notBefore (now - 1 h) */
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_CERTIFICATE_EXPIRED);
	CHECK(strstr(reason, "not yet valid") != NULL);
	/* the caller's clock counts, not the machine's */
	vp.now = now + 9ull * 365 * 24 * 3600;
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	vp.now = now + 11ull * 365 * 24 * 3600; /* past notAfter (10 years) */
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_CERTIFICATE_EXPIRED);
	leaf_free(&l);
}

static void test_names(void)
{
	char reason[256];
	tls_verify_params vp = server_params("other.test");
	leaf l = issue(&root, (testpki_leaf_opts){
				      .key_type = TLS_KEY_EC_P256, .cn = "svc", .dns = "svc.test"});

	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(strcmp(reason, "certificate name mismatch: expected other.test") == 0);
	/* the CN is not a name when a DNS SAN is present (RFC 6125 §6.4.4) */
	vp.name = "svc";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	/* DNS names compare case-insensitively */
	vp.name = "SVC.Test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	/* a DNS-only certificate does not cover an IP */
	vp.name = NULL;
	vp.ip = "127.0.0.1";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(strstr(reason, "expected 127.0.0.1") != NULL);
	/* an empty expected name is an error, not "no check" */
	vp.ip = NULL;
	vp.name = "";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_CERTIFICATE_UNKNOWN);
	vp.name = NULL;
	/* no name and no IP: chain only (a server checking client certs) */
	vp.ip = NULL;
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	leaf_free(&l);

	/* wildcards: a whole left-most label only, one level deep */
	l = issue(&root, (testpki_leaf_opts){
				 .key_type = TLS_KEY_EC_P256, .cn = "wild", .dns = "*.svc.test"});
	vp.name = "a.svc.test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	vp.name = "a.b.svc.test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	vp.name = "svc.test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	leaf_free(&l);
	l = issue(&root, (testpki_leaf_opts){
				 .key_type = TLS_KEY_EC_P256, .cn = "part", .dns = "f*.svc.test"});
	vp.name = "foo.svc.test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	leaf_free(&l);

	/* IP SANs, v4 and v6 */
	l = issue(&root,
		  (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "ip", .ip = "127.0.0.1"});
	vp.name = NULL;
	vp.ip = "127.0.0.1";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	vp.ip = "127.0.0.2";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(strcmp(reason, "certificate name mismatch: expected 127.0.0.2") == 0);
	/* an IP literal given as the name is compared as an IP */
	vp.ip = NULL;
	vp.name = "127.0.0.1";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	leaf_free(&l);
	l = issue(&root,
		  (testpki_leaf_opts){
			  .key_type = TLS_KEY_EC_P256, .cn = "v6", .dns = "v6.test", .ip = "::1"});
	vp.name = NULL;
	vp.ip = "::1";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	vp.ip = "::2";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	vp.ip = NULL;
	vp.name = "v6.test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	leaf_free(&l);
}

static void test_purpose(void)
{
	char reason[256];
	tls_verify_params vp = server_params(NULL);
	leaf client = issue(
		&root,
		(testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "alice", .client = true});
	leaf server = issue(
		&root,
		(testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "svc", .dns = "svc.test"});

	/* a client certificate presented by a server, and the reverse */
	CHECK_EQ(verify(&vp, client.cert, NULL, reason, sizeof(reason)),
		 TLS_ALERT_CERTIFICATE_UNKNOWN);
	CHECK(strncmp(reason, "certificate verify failed: ", 27) == 0);
	CHECK_EQ(verify(&vp, server.cert, NULL, reason, sizeof(reason)), 0);
	vp.peer_is_server = false;
	CHECK_EQ(verify(&vp, client.cert, NULL, reason, sizeof(reason)), 0);
	CHECK_EQ(verify(&vp, server.cert, NULL, reason, sizeof(reason)),
		 TLS_ALERT_CERTIFICATE_UNKNOWN);
	leaf_free(&client);
	leaf_free(&server);
}

static void test_pins(void)
{
	char reason[256];
	leaf l = issue(
		&other,
		(testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "svc", .dns = "svc.test"});
	leaf l2 = issue(
		&root,
		(testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "svc", .dns = "svc.test"});
	STACK_OF(X509) *sk = stack_of(l.cert, (const char *)NULL);
	X509 *x = sk_X509_value(sk, 0);
	uint8_t pins[3][32], spki[32], *der = NULL;
	int dlen;

	/* the pin is SHA-256 over the DER SubjectPublicKeyInfo */
	CHECK_EQ(tls_spki_sha256(x, spki), 0);
	dlen = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	CHECK(dlen > 0);
	CHECK_EQ(EVP_Digest(der, (size_t)dlen, pins[0], NULL, EVP_sha256(), NULL), 1);
	CHECK_MEM(spki, pins[0], 32);
	OPENSSL_free(der);
	randombytes_buf(pins[1], 32);
	randombytes_buf(pins[2], 32);

	/* pin only (no store): the pin authenticates an untrusted CA's leaf,
	 * whatever the name */
	tls_verify_params vp = {.pins = (const uint8_t(*)[32])pins,
				.npins = 1,
				.name = "elsewhere.test",
				.peer_is_server = true,
				.now = now};
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);
	/* the right pin among others */
	vp.pins = (const uint8_t(*)[32])pins + 1;
	vp.npins = 2;
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(strcmp(reason, "public key pin mismatch") == 0);
	vp.pins = (const uint8_t(*)[32])pins;
	vp.npins = 3;
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), 0);

	/* with a store both must pass: the chain fails first here */
	vp.store = store;
	vp.name = "svc.test";
	CHECK_EQ(verify(&vp, l.cert, NULL, reason, sizeof(reason)), TLS_ALERT_UNKNOWN_CA);
	/* trusted chain, but the pin is of another key */
	CHECK_EQ(verify(&vp, l2.cert, NULL, reason, sizeof(reason)), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(strcmp(reason, "public key pin mismatch") == 0);
	/* trusted chain and its pin */
	STACK_OF(X509) *sk2 = stack_of(l2.cert, (const char *)NULL);
	CHECK_EQ(tls_spki_sha256(sk_X509_value(sk2, 0), pins[1]), 0);
	CHECK_EQ(verify(&vp, l2.cert, NULL, reason, sizeof(reason)), 0);
	sk_X509_pop_free(sk2, X509_free);

	/* neither store nor pins: fail closed */
	tls_verify_params none = {.peer_is_server = true, .now = now};
	CHECK_EQ(verify(&none, l.cert, NULL, reason, sizeof(reason)),
		 TLS_ALERT_CERTIFICATE_UNKNOWN);
	/* no certificate at all */
	STACK_OF(X509) *empty = sk_X509_new_null();
	CHECK_EQ(tls_verify_peer(&vp, empty, NULL, reason, sizeof(reason)),
		 TLS_ALERT_CERTIFICATE_UNKNOWN);
	CHECK_EQ(tls_verify_peer(&vp, NULL, NULL, reason, sizeof(reason)),
		 TLS_ALERT_CERTIFICATE_UNKNOWN);
	sk_X509_free(empty);

	sk_X509_pop_free(sk, X509_free);
	leaf_free(&l);
	leaf_free(&l2);
}

static void test_pins_parse(void)
{
	uint8_t pins[3][32], want[2][32];
	char spec[256], b64[2][64], err[256];
	size_t n = 99;

	randombytes_buf(want, sizeof(want));
	for (size_t i = 0; i < 2; i++)
		sodium_bin2base64(b64[i], sizeof(b64[i]), want[i], 32,
				  sodium_base64_VARIANT_ORIGINAL);

	snprintf(spec, sizeof(spec), "sha256//%s", b64[0]);
	CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 1);
	CHECK_MEM(pins[0], want[0], 32);

	snprintf(spec, sizeof(spec), "sha256//%s,sha256//%s", b64[0], b64[1]);
	CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	CHECK_MEM(pins[1], want[1], 32);

	snprintf(spec, sizeof(spec), " sha256//%s ; sha256//%s ", b64[1], b64[0]);
	CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), 0);
	CHECK_EQ(n, 2);
	CHECK_MEM(pins[0], want[1], 32);
	CHECK_MEM(pins[1], want[0], 32);

	/* too many for the room */
	snprintf(spec, sizeof(spec), "sha256//%s,sha256//%s", b64[0], b64[1]);
	CHECK_EQ(tls_pins_parse(spec, pins, 1, &n, err, sizeof(err)), -1);
	CHECK_EQ(n, 0);
	CHECK(strstr(err, "too many") != NULL);

	/* malformed entries: each is refused with a sentence naming it */
	char url[64];
	strcpy(url, b64[0]);
	for (char *c = url; *c; c++)
		if (*c == '+' || *c == '/')
			*c = *c == '+' ? '-' : '_';
	url[0] = '-'; /* make sure one URL-safe character is there */
	char unpadded[64];
	strcpy(unpadded, b64[0]);
	unpadded[43] = '\0';
	char shortb[64], longb[80];
	uint8_t raw[33];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(shortb, sizeof(shortb), raw, 31, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(longb, sizeof(longb), raw, 33, sodium_base64_VARIANT_ORIGINAL);

	const char *bad[] = {"sha1//", "sha256/", "SHA256//", url,
			     unpadded, shortb,    longb,      "sha256//!!!!"};
	const char *prefix[] = {"", "", "", "sha256//", "sha256//", "sha256//", "sha256//", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "%s%s", prefix[i], bad[i]);
		if (i < 3)
			snprintf(spec, sizeof(spec), "%s%s", bad[i], b64[0]);
		err[0] = '\0';
		CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), -1);
		CHECK_EQ(n, 0);
		CHECK(strstr(err, "bad pin") != NULL);
		CHECK(strncmp(strchr(err, '"') + 1, spec, 8) == 0);
	}
	/* the base64 alone, without the algorithm */
	CHECK_EQ(tls_pins_parse(b64[0], pins, 3, &n, err, sizeof(err)), -1);
	/* empty list, empty entries */
	CHECK_EQ(tls_pins_parse("", pins, 3, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "empty") != NULL);
	snprintf(spec, sizeof(spec), "sha256//%s,", b64[0]);
	CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "empty") != NULL);
	snprintf(spec, sizeof(spec), "sha256//%s;;sha256//%s", b64[0], b64[1]);
	CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), -1);
	/* trailing garbage after a good pin */
	snprintf(spec, sizeof(spec), "sha256//%sA", b64[0]);
	CHECK_EQ(tls_pins_parse(spec, pins, 3, &n, err, sizeof(err)), -1);
}

static void test_subject(void)
{
	STACK_OF(X509) *sk = stack_of(root_pem, (const char *)NULL);
	char out[128], tiny[5];

	tls_cert_subject(sk_X509_value(sk, 0), out, sizeof(out));
	CHECK(strcmp(out, "CN=Test Root") == 0);
	tls_cert_subject(sk_X509_value(sk, 0), tiny, sizeof(tiny));
	CHECK(strcmp(tiny, "CN=T") == 0);
	sk_X509_pop_free(sk, X509_free);

	leaf l = issue(&root,
		       (testpki_leaf_opts){.key_type = TLS_KEY_EC_P256, .cn = "caf\xc3\xa9,\x01"});
	sk = stack_of(l.cert, (const char *)NULL);
	tls_cert_subject(sk_X509_value(sk, 0), out, sizeof(out));
	/* UTF-8 stays readable; the comma and the control byte are escaped */
	CHECK(strncmp(out, "CN=caf\xc3\xa9\\,", 10) == 0);
	CHECK(strchr(out, '\x01') == NULL);
	sk_X509_pop_free(sk, X509_free);
	leaf_free(&l);
}

int main(void)
{
	char err[256];

	now = (uint64_t)time(NULL);
	CHECK_EQ(testpki_ca_new(&root, TLS_KEY_EC_P256, "Test Root"), 0);
	CHECK_EQ(testpki_ca_new(&other, TLS_KEY_EC_P384, "Test Root"), 0);
	root_pem = testpki_ca_pem(&root);
	store = tls_store_from_pem(root_pem, strlen(root_pem), err, sizeof(err));
	CHECK(store != NULL);

	test_load_each_type();
	test_key_formats();
	test_bad_pem();
	test_rsa_1024();
	test_verify_chain();
	test_validity();
	test_names();
	test_purpose();
	test_pins();
	test_pins_parse();
	test_subject();

	X509_STORE_free(store);
	free(root_pem);
	testpki_ca_free(&root);
	testpki_ca_free(&other);
	return check_exit("unit/cert");
}
