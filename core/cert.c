#include "cert.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "consts.h"
#include "name.h"
#include "rand.h"
#include "suites.h"

/* Largest RSA key we take: its signatures must fit TLS_MAX_SIG_LEN. */
#define RSA_MAX_BITS 8192

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int tls_key_type_of(EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;
	int nid, bits;

	if (pkey == NULL)
		return TLS_KEY_NONE;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(pkey);
		return bits >= 2048 && bits <= RSA_MAX_BITS ? TLS_KEY_RSA : TLS_KEY_NONE;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1)
			return TLS_KEY_NONE;
		nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1)
			return TLS_KEY_EC_P256;
		if (nid == NID_secp384r1)
			return TLS_KEY_EC_P384;
		return TLS_KEY_NONE;
	case EVP_PKEY_ED25519:
		return TLS_KEY_ED25519;
	default:
		return TLS_KEY_NONE;
	}
}

static BIO *pem_bio(const char *pem, size_t len)
{
	if (pem == NULL || len > INT_MAX)
		return NULL;
	return BIO_new_mem_buf(pem, (int)len);
}

/* After a PEM_read_bio_* loop returned NULL: true when that was the clean
 * end of the input (no further PEM block), false for a malformed block. */
static bool pem_clean_end(void)
{
	unsigned long e = ERR_peek_last_error();
	bool clean = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;

	ERR_clear_error();
	return clean;
}

/* Never prompt on a terminal for a passphrase: encrypted keys are refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int tls_chain_from_pem(tls_chain *ch, const char *pem, size_t len, char *err, size_t errlen)
{
	BIO *bio = pem_bio(pem, len);
	X509 *x;
	size_t cap = 0, total = 3; /* the Certificate message's list length */

	memset(ch, 0, sizeof(*ch));
	if (bio == NULL) {
		seterr(err, errlen, "cannot read certificate PEM");
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		uint8_t *der = NULL;
		int dlen;

		if (ch->n == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			uint8_t **nd = realloc(ch->der, ncap * sizeof(*nd));
			if (nd != NULL)
				ch->der = nd;
			size_t *nl = realloc(ch->der_len, ncap * sizeof(*nl));
			if (nl != NULL)
				ch->der_len = nl;
			if (nd == NULL || nl == NULL) {
				X509_free(x);
				seterr(err, errlen, "out of memory");
				goto fail;
			}
			cap = ncap;
		}
		dlen = i2d_X509(x, &der);
		if (dlen <= 0) {
			X509_free(x);
			seterr(err, errlen, "cannot encode certificate");
			goto fail;
		}
		ch->der[ch->n] = der;
		ch->der_len[ch->n] = (size_t)dlen;
		ch->n++;
		total += 3 + (size_t)dlen;
		if (ch->leaf == NULL)
			ch->leaf = x;
		else
			X509_free(x);
	}
	if (!pem_clean_end()) {
		seterr(err, errlen, "malformed certificate in PEM");
		goto fail;
	}
	if (ch->n == 0) {
		seterr(err, errlen, "no certificate found in PEM");
		goto fail;
	}
	/* The chain goes out in one Certificate message (RFC 5246 §7.4.2). */
	if (total > TLS_MAX_HS_MESSAGE) {
		seterr(err, errlen, "certificate chain too large for one handshake message");
		goto fail;
	}
	ch->key_type = tls_key_type_of(X509_get0_pubkey(ch->leaf));
	if (ch->key_type == TLS_KEY_NONE) {
		seterr(err, errlen,
		       "unsupported certificate key: need RSA of 2048 bits or more, EC P-256/P-384 "
		       "or Ed25519");
		goto fail;
	}
	BIO_free(bio);
	return 0;
fail:
	ERR_clear_error();
	BIO_free(bio);
	tls_chain_free(ch);
	return -1;
}

void tls_chain_free(tls_chain *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		OPENSSL_free(ch->der[i]);
	free(ch->der);
	free(ch->der_len);
	X509_free(ch->leaf);
	memset(ch, 0, sizeof(*ch));
}

/* libsodium's Ed25519 secret key (seed || public) from OpenSSL's 32-byte
 * seed, in guarded memory. */
static uint8_t *ed25519_sodium_sk(EVP_PKEY *pkey)
{
	uint8_t seed[32], pk[crypto_sign_PUBLICKEYBYTES], ossl_pk[32];
	size_t seedlen = sizeof(seed), pklen = sizeof(ossl_pk);
	uint8_t *sk = NULL;

	if (!tls_sodium_ready())
		return NULL;
	if (EVP_PKEY_get_raw_private_key(pkey, seed, &seedlen) != 1 || seedlen != sizeof(seed) ||
	    EVP_PKEY_get_raw_public_key(pkey, ossl_pk, &pklen) != 1 || pklen != sizeof(ossl_pk))
		goto out;
	sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (sk == NULL)
		goto out;
	/* Both libraries derive the public key from the seed (RFC 8032
	 * §5.1.5); a difference would mean a corrupt key. */
	if (crypto_sign_seed_keypair(pk, sk, seed) != 0 || sodium_memcmp(pk, ossl_pk, 32) != 0) {
		sodium_free(sk);
		sk = NULL;
	}
out:
	sodium_memzero(seed, sizeof(seed));
	return sk;
}

int tls_privkey_from_pem(tls_privkey *k, const char *pem, size_t len, char *err, size_t errlen)
{
	BIO *bio = pem_bio(pem, len);

	memset(k, 0, sizeof(*k));
	if (bio == NULL) {
		seterr(err, errlen, "cannot read private key PEM");
		return -1;
	}
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (k->pkey == NULL) {
		seterr(err, errlen,
		       "no usable private key in PEM (malformed, or encrypted with a passphrase)");
		goto fail;
	}
	k->type = tls_key_type_of(k->pkey);
	if (k->type == TLS_KEY_NONE) {
		seterr(err, errlen,
		       "unsupported private key: need RSA of 2048 bits or more, EC P-256/P-384 or "
		       "Ed25519");
		goto fail;
	}
	if (k->type == TLS_KEY_ED25519) {
		k->ed25519_sk = ed25519_sodium_sk(k->pkey);
		if (k->ed25519_sk == NULL) {
			seterr(err, errlen, "cannot load Ed25519 private key");
			goto fail;
		}
	}
	return 0;
fail:
	ERR_clear_error();
	tls_privkey_free(k);
	return -1;
}

void tls_privkey_free(tls_privkey *k)
{
	/* OpenSSL clears key material when it frees a key; sodium_free wipes
	 * and unmaps the guarded pages. */
	EVP_PKEY_free(k->pkey);
	if (k->ed25519_sk != NULL)
		sodium_free(k->ed25519_sk);
	memset(k, 0, sizeof(*k));
}

bool tls_privkey_matches(const tls_privkey *k, const tls_chain *ch)
{
	if (k->pkey == NULL || ch->leaf == NULL)
		return false;
	return EVP_PKEY_eq(k->pkey, X509_get0_pubkey(ch->leaf)) == 1;
}

/* The certificates of a store are shared by every connection of a config,
 * and OpenSSL 3.0 caches each certificate's decoded extensions in it on
 * first use (ossl_x509v3_cache_extensions): two threads verifying peers at
 * once can both find the cache empty and both fill it, one rewriting
 * x->skid while the other reads it (a data race TSan reports here;
 * openssl/openssl issue 32609, not fixed in 3.0.19). Filling every cache once here, before
 * any connection exists, leaves only reads for later (X509_check_purpose
 * with id -1 does just that). */
static void cache_extensions(X509_STORE *store)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (x != NULL)
			X509_check_purpose(x, -1, 0);
	}
	ERR_clear_error();
}

X509_STORE *tls_store_from_pem(const char *pem, size_t len, char *err, size_t errlen)
{
	BIO *bio = pem_bio(pem, len);
	X509_STORE *store = X509_STORE_new();
	X509 *x;
	size_t n = 0;

	if (bio == NULL || store == NULL) {
		seterr(err, errlen, "cannot read CA PEM");
		goto fail;
	}
	/* _AUX also reads "TRUSTED CERTIFICATE" blocks of OpenSSL bundles. */
	while ((x = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL)) != NULL) {
		int ok = X509_STORE_add_cert(store, x);
		X509_free(x);
		/* A duplicate in the bundle is harmless. */
		if (ok != 1) {
			unsigned long e = ERR_peek_last_error();
			if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
				seterr(err, errlen, "cannot add CA certificate to the store");
				goto fail;
			}
			ERR_clear_error();
		}
		n++;
	}
	if (!pem_clean_end()) {
		seterr(err, errlen, "malformed certificate in CA PEM");
		goto fail;
	}
	if (n == 0) {
		seterr(err, errlen, "no certificate found in CA PEM");
		goto fail;
	}
	/* A bundle the user named: every certificate in it is a trust anchor,
	 * an intermediate too (as curl does), because naming a file that
	 * holds only an intermediate is a deliberate narrowing of trust. The
	 * system store never gets this (tls_store_system). */
	if (X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN) != 1) {
		seterr(err, errlen, "cannot configure the CA store");
		goto fail;
	}
	cache_extensions(store);
	BIO_free(bio);
	return store;
fail:
	ERR_clear_error();
	BIO_free(bio);
	X509_STORE_free(store);
	return NULL;
}

X509_STORE *tls_store_system(char *err, size_t errlen)
{
	/* No X509_V_FLAG_PARTIAL_CHAIN: system bundles carry intermediates
	 * (some distributions' do), and with it each of them would become an
	 * anchor on its own, beyond the reach of its root's constraints and
	 * distrust. A chain must end in a self-signed root of the store. */
	X509_STORE *store = X509_STORE_new();

	if (store == NULL || X509_STORE_set_default_paths(store) != 1) {
		ERR_clear_error();
		X509_STORE_free(store);
		seterr(err, errlen, "cannot load the system trust store");
		return NULL;
	}
	/* The bundle file is loaded now and cached here; a certificate that
	 * only a hashed directory holds is loaded at its first lookup and
	 * not covered (Debian's bundle file holds every system anchor). */
	cache_extensions(store);
	return store;
}

int tls_spki_sha256(X509 *cert, uint8_t out[32])
{
	uint8_t *der = NULL;
	unsigned int mdlen = 0;
	int len, ret = -1;

	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == 32)
		ret = 0;
	OPENSSL_free(der);
	if (ret != 0)
		ERR_clear_error();
	return ret;
}

/* One pin entry "sha256//" + standard base64 of 32 bytes (44 characters
 * with padding), the form curl's --pinnedpubkey takes. */
static int pin_parse(const char *s, size_t len, uint8_t out[32])
{
	static const char prefix[] = "sha256//";
	const size_t plen = sizeof(prefix) - 1;
	const char *end = NULL;
	size_t binlen = 0;

	if (len != plen + 44 || memcmp(s, prefix, plen) != 0)
		return -1;
	if (sodium_base642bin(out, 32, s + plen, len - plen, NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + len || binlen != 32)
		return -1;
	return 0;
}

int tls_pins_parse(const char *spec, uint8_t (*pins)[32], size_t max, size_t *n, char *err,
		   size_t errlen)
{
	const char *p = spec;

	*n = 0;
	if (spec == NULL || *spec == '\0') {
		seterr(err, errlen, "pin list is empty");
		return -1;
	}
	for (;;) {
		size_t len, tlen;
		int shown;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, ",;");
		for (tlen = len; tlen > 0 && (p[tlen - 1] == ' ' || p[tlen - 1] == '\t'); tlen--)
			;
		shown = (int)(tlen < 60 ? tlen : 60);
		if (tlen == 0) {
			seterr(err, errlen, "empty entry in pin list \"%s\"", spec);
			goto fail;
		}
		if (*n == max) {
			seterr(err, errlen, "too many pins (more than %zu) at \"%.*s\"", max, shown,
			       p);
			goto fail;
		}
		if (pin_parse(p, tlen, pins[*n]) != 0) {
			seterr(err, errlen,
			       "bad pin \"%.*s%s\": expected sha256// followed by the base64 of a "
			       "32-byte SHA-256 hash",
			       shown, p, tlen > 60 ? "..." : "");
			goto fail;
		}
		(*n)++;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	return 0;
fail:
	*n = 0;
	return -1;
}

/* The enum tls_reason of an X509_verify_cert error: what the user must
 * change (a name, a clock, a CA) rather than OpenSSL's wording of it. */
static enum tls_reason verify_reason(int e)
{
	switch (e) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return TLS_R_CERT_NAME_MISMATCH;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TLS_R_CERT_EXPIRED;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return TLS_R_CERT_SELF_SIGNED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return TLS_R_CERT_UNTRUSTED;
	default:
		return TLS_R_OTHER;
	}
}

/* RFC 5246 §7.2.2 alert for an X509_verify_cert error. */
static int verify_alert(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return TLS_ALERT_UNKNOWN_CA;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TLS_ALERT_CERTIFICATE_EXPIRED;
	case X509_V_ERR_CERT_REVOKED:
		return TLS_ALERT_CERTIFICATE_REVOKED;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	/* As OpenSSL's libssl answers a chain below its security level. */
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return TLS_ALERT_BAD_CERTIFICATE;
	default:
		return TLS_ALERT_CERTIFICATE_UNKNOWN;
	}
}

/* Chain, validity and name check against ${vp->store}. 0 or an alert. */
static int verify_chain(const tls_verify_params *vp, STACK_OF(X509) * chain, enum tls_reason *why,
			char *reason, size_t reasonlen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	const char *expected = vp->name != NULL ? vp->name : vp->ip;
	int alert = TLS_ALERT_CERTIFICATE_UNKNOWN, e;

	if (ctx == NULL ||
	    X509_STORE_CTX_init(ctx, vp->store, sk_X509_value(chain, 0), chain) != 1 ||
	    X509_STORE_CTX_set_default(ctx, vp->peer_is_server ? "ssl_server" : "ssl_client") !=
		    1) {
		seterr(reason, reasonlen, "certificate verify failed: internal error");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	/* The engine has no clock of its own: validity is checked at the
	 * caller's time (sets X509_V_FLAG_USE_CHECK_TIME). */
	X509_VERIFY_PARAM_set_time(param, (time_t)vp->now);
	/* OpenSSL security level 2 (112 bits) for every certificate of the
	 * chain and every signature but the root's own: no SHA-1 or MD5
	 * signatures, no RSA/DSA/DH key below 2048 bits, no EC key below 224
	 * bits. Partial chains: only for a named bundle (its store's flag,
	 * inherited here; tls_store_from_pem). */
	X509_VERIFY_PARAM_set_auth_level(param, 2);
	if (expected != NULL) {
		/* The name as SNI sent it (name.h decides DNS or IP). */
		char ref[256];
		int kind = tls_name_parse(expected, ref, sizeof ref), ok = 0;
		if (kind == TLS_NAME_IP) {
			ok = X509_VERIFY_PARAM_set1_ip_asc(param, ref);
		} else if (kind == TLS_NAME_DNS) {
			/* RFC 6125 §6.4.3: a wildcard only as the whole
			 * left-most label; §6.4.4: names come from the
			 * subjectAltName, never the CN (as browsers do). */
			X509_VERIFY_PARAM_set_hostflags(
				param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
					       X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
			ok = X509_VERIFY_PARAM_set1_host(param, ref, 0);
		}
		/* An empty name would silently disable the check. */
		if (ok != 1) {
			seterr(reason, reasonlen,
			       "certificate name check: bad expected name \"%s\"", expected);
			goto out;
		}
	}
	if (X509_verify_cert(ctx) == 1) {
		alert = 0;
		goto out;
	}
	e = X509_STORE_CTX_get_error(ctx);
	alert = verify_alert(e);
	*why = verify_reason(e);
	if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH)
		seterr(reason, reasonlen, "certificate name mismatch: expected %s", expected);
	else
		seterr(reason, reasonlen, "certificate verify failed: %s",
		       X509_verify_cert_error_string(e));
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return alert;
}

static int verify_pins(const tls_verify_params *vp, X509 *leaf, enum tls_reason *why, char *reason,
		       size_t reasonlen)
{
	uint8_t spki[32];

	if (tls_spki_sha256(leaf, spki) != 0) {
		seterr(reason, reasonlen, "cannot hash the peer's public key");
		return TLS_ALERT_CERTIFICATE_UNKNOWN;
	}
	for (size_t i = 0; i < vp->npins; i++)
		if (sodium_memcmp(spki, vp->pins[i], 32) == 0)
			return 0;
	*why = TLS_R_PIN_MISMATCH;
	seterr(reason, reasonlen, "public key pin mismatch");
	return TLS_ALERT_BAD_CERTIFICATE;
}

int tls_verify_peer(const tls_verify_params *vp, STACK_OF(X509) * chain, enum tls_reason *why,
		    char *reason, size_t reasonlen)
{
	X509 *leaf;
	int alert;
	enum tls_reason ignored;

	if (why == NULL)
		why = &ignored;
	*why = TLS_R_OTHER;

	if (chain == NULL || sk_X509_num(chain) < 1) {
		seterr(reason, reasonlen, "peer sent no certificate");
		return TLS_ALERT_CERTIFICATE_UNKNOWN;
	}
	leaf = sk_X509_value(chain, 0);
	/* We must be able to check its signatures later (sig.c), and small
	 * RSA keys are not authentication. */
	if (tls_key_type_of(X509_get0_pubkey(leaf)) == TLS_KEY_NONE) {
		ERR_clear_error();
		seterr(reason, reasonlen,
		       "peer certificate key is not acceptable: RSA below 2048 bits, or not RSA, "
		       "EC P-256/P-384 or Ed25519");
		*why = TLS_R_CERT_KEY_UNACCEPTABLE;
		return TLS_ALERT_UNSUPPORTED_CERTIFICATE;
	}
	/* Fail closed: with neither a store nor a pin nothing authenticates
	 * the peer (verify_peer = none is the caller's decision not to call). */
	if (vp->store == NULL && vp->npins == 0) {
		seterr(reason, reasonlen, "no trust store or pin to verify the peer with");
		return TLS_ALERT_CERTIFICATE_UNKNOWN;
	}
	if (vp->store != NULL) {
		alert = verify_chain(vp, chain, why, reason, reasonlen);
		if (alert != 0)
			return alert;
	}
	if (vp->npins > 0)
		return verify_pins(vp, leaf, why, reason, reasonlen);
	return 0;
}

void tls_cert_subject(X509 *cert, char *out, size_t outlen)
{
	BIO *bio;
	char *data;
	long len;

	if (outlen == 0)
		return;
	out[0] = '\0';
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return;
	/* RFC 2253 form; UTF-8 kept readable, control characters escaped. */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len > 0) {
			size_t n = (size_t)len < outlen - 1 ? (size_t)len : outlen - 1;
			memcpy(out, data, n);
			out[n] = '\0';
		}
	}
	BIO_free(bio);
	ERR_clear_error();
}
