/*
 * test_trust.c: what a trust store lets in.
 *
 * - A bundle the user names: every certificate in it is an anchor, so a
 *   bundle holding only the intermediate authenticates its leaves
 *   (X509_V_FLAG_PARTIAL_CHAIN, kept on purpose, as curl does).
 * - ca = system: only self-signed roots are anchors; an intermediate in
 *   the system bundle (simulated with SSL_CERT_FILE) is not, so the same
 *   chain fails there until the bundle holds the root.
 * - Security level 2 everywhere: a chain with a SHA-1 or MD5 signature (on
 *   the leaf or on the intermediate) or an RSA-1024 intermediate is
 *   refused, with OpenSSL's reason in the sentence the shim logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert.h"
#include "check.h"
#include "consts.h"
#include "suites.h"
#include "testpair.h"
#include "testpki.h"

static char err[256];

static X509 *x509_of(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	CHECK(x != NULL);
	return x;
}

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	CHECK(PEM_write_bio_X509(b, x) == 1);
	long n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return out;
}

/* resign(x, key, md): ${x} signed again by ${key} with digest ${md}. */
static void resign(X509 *x, EVP_PKEY *key, const EVP_MD *md)
{
	CHECK(X509_sign(x, key, md) > 0);
}

/* The PKI: root -> intermediate -> leaf ("server.test"), plus variants. */
static testpki_ca root, inter, weak_inter, rsa_inter;
static char *leaf_pem, *leaf_key, *weak_leaf_pem, *weak_leaf_key, *rsa_leaf_pem, *rsa_leaf_key;

static void pki(void)
{
	CHECK_EQ(testpki_ca_new(&root, TLS_KEY_EC_P256, "trust root"), 0);
	CHECK_EQ(testpki_ca_new_sub(&inter, &root, TLS_KEY_EC_P256, "trust intermediate"), 0);
	testpki_leaf_opts o = {
		.key_type = TLS_KEY_EC_P256, .cn = "server.test", .dns = "server.test"};
	CHECK_EQ(testpki_issue(&inter, &o, &leaf_pem, &leaf_key), 0);

	/* An intermediate with an RSA-1024 key (signed by the root with
	 * SHA-256), and a leaf it issued. */
	CHECK_EQ(testpki_ca_new_sub(&weak_inter, &root, TLS_KEY_RSA, "weak intermediate"), 0);
	EVP_PKEY_free(weak_inter.key);
	weak_inter.key = testpki_rsa_key(1024);
	CHECK(weak_inter.key != NULL);
	CHECK(X509_set_pubkey(weak_inter.cert, weak_inter.key) == 1);
	resign(weak_inter.cert, root.key, EVP_sha256());
	CHECK_EQ(testpki_issue(&weak_inter, &o, &weak_leaf_pem, &weak_leaf_key), 0);

	/* An RSA-2048 intermediate (MD5 has no ECDSA signature OID). */
	CHECK_EQ(testpki_ca_new_sub(&rsa_inter, &root, TLS_KEY_RSA, "rsa intermediate"), 0);
	CHECK_EQ(testpki_issue(&rsa_inter, &o, &rsa_leaf_pem, &rsa_leaf_key), 0);
}

/* chain(leaf, ca): a received chain, leaf first (references taken). */
static STACK_OF(X509) * chain(X509 *leaf, X509 *ca)
{
	STACK_OF(X509) *c = sk_X509_new_null();
	X509_up_ref(leaf);
	sk_X509_push(c, leaf);
	if (ca) {
		X509_up_ref(ca);
		sk_X509_push(c, ca);
	}
	return c;
}

/* verify(store, c, reason): tls_verify_peer as a client checking
 * "server.test" now; 0 or the alert. */
static int verify(X509_STORE *store, STACK_OF(X509) * c, char *reason, size_t len)
{
	tls_verify_params vp = {
		.store = store,
		.name = "server.test",
		.peer_is_server = true,
		.now = (uint64_t)time(NULL),
	};
	reason[0] = '\0';
	return tls_verify_peer(&vp, c, NULL, reason, len);
}

static bool says(const char *reason, const char *words)
{
	if (strstr(reason, words))
		return true;
	fprintf(stderr, "  reason \"%s\" lacks \"%s\"\n", reason, words);
	return false;
}

static X509_STORE *store_pem(const testpki_ca *a, const testpki_ca *b)
{
	char *pa = testpki_ca_pem(a), *pb = b ? testpki_ca_pem(b) : NULL;
	size_t la = strlen(pa), lb = pb ? strlen(pb) : 0;
	char *all = malloc(la + lb + 1);
	memcpy(all, pa, la);
	if (pb)
		memcpy(all + la, pb, lb);
	all[la + lb] = '\0';
	X509_STORE *st = tls_store_from_pem(all, la + lb, err, sizeof err);
	CHECK(st != NULL);
	free(all);
	free(pa);
	free(pb);
	return st;
}

/* store_system(bundle): "ca = system" with the operating system's bundle
 * replaced by ${bundle} (OpenSSL's SSL_CERT_FILE; SSL_CERT_DIR points at
 * an empty directory so the real store cannot help). */
static X509_STORE *store_system(const testpki_ca *only, char *dir)
{
	char file[300];
	snprintf(file, sizeof file, "%s/bundle.pem", dir);
	FILE *f = fopen(file, "w");
	char *p = testpki_ca_pem(only);
	CHECK(f != NULL && fputs(p, f) >= 0);
	fclose(f);
	free(p);
	setenv("SSL_CERT_FILE", file, 1);
	setenv("SSL_CERT_DIR", dir, 1);
	X509_STORE *st = tls_store_system(err, sizeof err);
	CHECK(st != NULL);
	unlink(file);
	return st;
}

static void partial_chains(void)
{
	char reason[256], dir[] = "/tmp/tlshim-trust-XXXXXX";
	X509 *leaf = x509_of(leaf_pem);
	STACK_OF(X509) *full = chain(leaf, inter.cert), *bare = chain(leaf, NULL);
	CHECK(mkdtemp(dir) != NULL);

	X509_STORE *by_root = store_pem(&root, NULL);
	CHECK_EQ(verify(by_root, full, reason, sizeof reason), 0);
	/* The leaf alone cannot reach the root. */
	CHECK_EQ(verify(by_root, bare, reason, sizeof reason), TLS_ALERT_UNKNOWN_CA);

	/* A named bundle holding only the intermediate: it is an anchor. */
	X509_STORE *by_inter = store_pem(&inter, NULL);
	CHECK_EQ(verify(by_inter, full, reason, sizeof reason), 0);
	CHECK_EQ(verify(by_inter, bare, reason, sizeof reason), 0);

	/* ca = system whose bundle holds only the intermediate: not an
	 * anchor, the chain must reach a root. */
	X509_STORE *sys_inter = store_system(&inter, dir);
	CHECK_EQ(verify(sys_inter, full, reason, sizeof reason), TLS_ALERT_UNKNOWN_CA);
	CHECK(says(reason, "certificate verify failed: unable to get issuer certificate"));
	CHECK_EQ(verify(sys_inter, bare, reason, sizeof reason), TLS_ALERT_UNKNOWN_CA);
	CHECK(says(reason, "certificate verify failed: "));
	/* ... and with the root in it, the same chain passes. */
	X509_STORE *sys_root = store_system(&root, dir);
	CHECK_EQ(verify(sys_root, full, reason, sizeof reason), 0);
	rmdir(dir);

	X509_STORE_free(by_root);
	X509_STORE_free(by_inter);
	X509_STORE_free(sys_inter);
	X509_STORE_free(sys_root);
	sk_X509_pop_free(full, X509_free);
	sk_X509_pop_free(bare, X509_free);
	X509_free(leaf);
}

static void weak_chains(void)
{
	char reason[256];
	X509_STORE *by_root = store_pem(&root, NULL);
	X509_STORE *by_inter = store_pem(&inter, NULL);

	/* Leaf signed with SHA-1 by the ECDSA intermediate, with SHA-1 and
	 * with MD5 by the RSA one. */
	X509_STORE *by_rsa_inter = store_pem(&rsa_inter, NULL);
	static const char *const names[] = {"ECDSA SHA-1", "RSA SHA-1", "RSA MD5"};
	const EVP_MD *mds[] = {EVP_sha1(), EVP_sha1(), EVP_md5()};
	for (int i = 0; i < 3; i++) {
		const testpki_ca *ca = i == 0 ? &inter : &rsa_inter;
		X509 *leaf = x509_of(i == 0 ? leaf_pem : rsa_leaf_pem);
		resign(leaf, ca->key, mds[i]);
		STACK_OF(X509) *c = chain(leaf, ca->cert);
		CHECK_EQ(verify(by_root, c, reason, sizeof reason), TLS_ALERT_BAD_CERTIFICATE);
		if (!says(reason,
			  "certificate verify failed: CA signature digest algorithm too weak"))
			fprintf(stderr, "  (leaf signed with %s)\n", names[i]);
		/* A bundle that names the intermediate does not excuse it. */
		CHECK_EQ(verify(i == 0 ? by_inter : by_rsa_inter, c, reason, sizeof reason),
			 TLS_ALERT_BAD_CERTIFICATE);
		CHECK(says(reason, "too weak"));
		sk_X509_pop_free(c, X509_free);
		X509_free(leaf);
	}

	/* The intermediate signed with SHA-1 by the root. */
	X509 *leaf = x509_of(leaf_pem), *sha1_inter = X509_dup(inter.cert);
	resign(sha1_inter, root.key, EVP_sha1());
	STACK_OF(X509) *c = chain(leaf, sha1_inter);
	CHECK_EQ(verify(by_root, c, reason, sizeof reason), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(says(reason, "certificate verify failed: CA signature digest algorithm too weak"));
	sk_X509_pop_free(c, X509_free);

	/* An RSA-1024 intermediate. */
	X509 *weak_leaf = x509_of(weak_leaf_pem);
	c = chain(weak_leaf, weak_inter.cert);
	CHECK_EQ(verify(by_root, c, reason, sizeof reason), TLS_ALERT_BAD_CERTIFICATE);
	CHECK(says(reason, "certificate verify failed: CA certificate key too weak"));
	sk_X509_pop_free(c, X509_free);

	X509_free(leaf);
	X509_free(sha1_inter);
	X509_free(weak_leaf);
	X509_STORE_free(by_root);
	X509_STORE_free(by_inter);
	X509_STORE_free(by_rsa_inter);
}

/* The whole way through the engine: a server whose chain has a SHA-1
 * signature is refused by a client, with the reason for the log. */
static void handshake(void)
{
	X509 *leaf = x509_of(leaf_pem);
	resign(leaf, inter.key, EVP_sha1());
	char *lp = pem_of(leaf), *ip = testpki_ca_pem(&inter), *rp = testpki_ca_pem(&root);
	size_t n = strlen(lp) + strlen(ip) + 1;
	char *chain_pem = malloc(n);
	snprintf(chain_pem, n, "%s%s", lp, ip);

	tls_config *scfg = tls_config_new(TLS_ROLE_SERVER);
	CHECK(tls_config_set_chain_pem(scfg, chain_pem, strlen(chain_pem), err, sizeof err) == 0);
	CHECK(tls_config_set_key_pem(scfg, leaf_key, strlen(leaf_key), err, sizeof err) == 0);
	tls_config *ccfg = tls_config_new(TLS_ROLE_CLIENT);
	CHECK(tls_config_set_ca_pem(ccfg, rp, strlen(rp), err, sizeof err) == 0);
	tls_conn *cli = tls_conn_new(ccfg, "server.test", NULL);
	tls_conn *srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(!testpair_handshake(cli, srv));
	const char *reason = NULL;
	uint8_t alert = 0;
	CHECK_EQ(tls_conn_error(cli, &alert, NULL, &reason), TLS_ERR_AUTH);
	CHECK_EQ(alert, TLS_ALERT_BAD_CERTIFICATE);
	CHECK(reason && says(reason, "certificate verify failed: CA signature digest algorithm "
				     "too weak"));
	tls_conn_free(cli);
	tls_conn_free(srv);
	tls_config_unref(ccfg);
	tls_config_unref(scfg);
	free(chain_pem);
	free(lp);
	free(ip);
	free(rp);
	X509_free(leaf);
}

int main(void)
{
	pki();
	partial_chains();
	weak_chains();
	handshake();
	testpki_ca_free(&root);
	testpki_ca_free(&inter);
	testpki_ca_free(&weak_inter);
	testpki_ca_free(&rsa_inter);
	free(rsa_leaf_pem);
	free(rsa_leaf_key);
	free(leaf_pem);
	free(leaf_key);
	free(weak_leaf_pem);
	free(weak_leaf_key);
	return check_exit("engine/trust");
}
