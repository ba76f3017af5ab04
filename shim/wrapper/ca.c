/*
 * ca.c: `tlshim ca` (ca.h). Keys and certificates through libcrypto; the
 * certificate profile follows RFC 5280 (CA: basicConstraints CA:TRUE with
 * pathLen 0, keyCertSign|cRLSign; leaves: CA:FALSE, digitalSignature, one
 * EKU, subjectAltName) so stock verifiers (openssl verify -purpose, curl,
 * GnuTLS) accept the result as well as tlshim does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca.h"
#include "cert.h"
#include "suites.h"

enum { KEY_ECDSA, KEY_RSA, KEY_ED25519 };

#define CA_DAYS   3650
#define LEAF_DAYS 825 /* the longest leaf lifetime browsers accepted, a sane default */
#define MAX_DAYS  36500
#define MAX_SANS  64
#define MAX_CN    64 /* ub-common-name, RFC 5280 appendix A.1 */
#define MAX_PEM   (1 << 20)

/* Which options a subcommand takes. */
enum {
	O_NAME = 1 << 0,
	O_KEY = 1 << 1,
	O_DAYS = 1 << 2,
	O_FORCE = 1 << 3,
	O_DNS = 1 << 4,
	O_IP = 1 << 5,
	O_CLIENT = 1 << 6,
	O_OUT = 1 << 7,
};

struct ca_opts {
	const char *pos[2];
	int npos;
	const char *cn;
	int key;
	long days;
	bool client, force;
	const char *out;
	const char *dns[MAX_SANS];
	int ndns;
	const char *ip[MAX_SANS];
	int nip;
};

static const struct {
	const char *name;
	unsigned flag;
	bool has_arg;
} optab[] = {
	{"--name", O_NAME, true},      {"--key", O_KEY, true}, {"--days", O_DAYS, true},
	{"--force", O_FORCE, false},   {"--dns", O_DNS, true}, {"--ip", O_IP, true},
	{"--client", O_CLIENT, false}, {"--out", O_OUT, true},
};

static void ca_usage(FILE *out)
{
	fputs("usage: tlshim ca init DIR [--name CN] [--key ecdsa|rsa|ed25519] [--days N] "
	      "[--force]\n"
	      "       tlshim ca issue DIR NAME [--dns NAME]... [--ip ADDR]... [--client]\n"
	      "                       [--key ecdsa|rsa|ed25519] [--days N] [--out PREFIX] "
	      "[--force]\n"
	      "       tlshim ca pin CERT\n"
	      "\n"
	      "A small certificate authority whose files a policy uses as they are.\n"
	      "  init   create DIR (mode 0700) holding ca.key (the CA's private key, mode\n"
	      "         0600) and ca.crt (self-signed, 10 years); policies say `ca = DIR/ca.crt`\n"
	      "  issue  sign a certificate for NAME with the CA in DIR, written as\n"
	      "         DIR/NAME.crt and DIR/NAME.key (or PREFIX.crt, PREFIX.key) for a rule's\n"
	      "         `cert` and `key`; valid 825 days. A server certificate by default:\n"
	      "         --dns and --ip give the names clients check (default: NAME itself).\n"
	      "         --client makes a client certificate instead (mutual TLS).\n"
	      "  pin    print the sha256// pin of CERT's public key, for a client rule's\n"
	      "         `pin` (the value curl --pinnedpubkey takes)\n"
	      "Options:\n"
	      "  --name CN     the CA's name (default: \"tlshim CA HOST DATE\")\n"
	      "  --key TYPE    ecdsa (P-256, the default), rsa (2048 bits) or ed25519\n"
	      "  --days N      validity in days (default: 3650 for the CA, 825 otherwise)\n"
	      "  --out PREFIX  write PREFIX.crt and PREFIX.key instead of DIR/NAME.*\n"
	      "  --force       replace existing files (a new CA invalidates every\n"
	      "                certificate the old one issued)\n"
	      "Exit status: 0 done, 1 failed, 2 usage error.\n",
	      out);
}

/* Reports a usage error; returns its exit status, 2. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	fputs("tlshim ca: ", stderr);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(tlshim ca --help for usage)\n", stderr);
	return 2;
}

/* A failed libcrypto call: say what we were doing and libcrypto's reason. */
static int crypto_fail(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	fprintf(stderr, "tlshim ca: %s failed%s%s\n", what, why ? ": " : "", why ? why : "");
	ERR_clear_error();
	return -1;
}

static bool parse_ip(const char *s, unsigned char out[16], int *len)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*len = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*len = 16;
		return true;
	}
	return false;
}

/* A host name as a certificate carries it: labels of letters, digits, '-'
 * and '_' (internal names use it), at most one leading "*." (RFC 6125
 * 6.4.3), no trailing dot. */
static bool valid_dns(const char *s)
{
	if (strlen(s) == 0 || strlen(s) > 253)
		return false;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (;;) {
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789-_");
		if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
			return false;
		if (s[n] == 0)
			return true;
		if (s[n] != '.')
			return false;
		s += n + 1;
	}
}

static int parse_key(const char *v, int *key)
{
	if (strcmp(v, "ecdsa") == 0)
		*key = KEY_ECDSA;
	else if (strcmp(v, "rsa") == 0)
		*key = KEY_RSA;
	else if (strcmp(v, "ed25519") == 0)
		*key = KEY_ED25519;
	else
		return usage_error("--key %s: must be ecdsa, rsa or ed25519", v);
	return 0;
}

static int parse_days(const char *v, long *days)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > MAX_DAYS)
		return usage_error("--days %s: must be a number of days from 1 to 36500", v);
	*days = n;
	return 0;
}

static int add_san_opt(const char **list, int *n, const char *opt, const char *v)
{
	if (*n >= MAX_SANS)
		return usage_error("too many %s options (at most 64)", opt);
	list[(*n)++] = v;
	return 0;
}

#define WANTS_HELP (-1)

/* parse_opts: options anywhere among up to ${maxpos} positional arguments,
 * as "--opt VALUE" or "--opt=VALUE". Returns 0, WANTS_HELP (the usage is
 * printed on stdout: the command exits 0), or 2 for a usage error (already
 * reported). */
static int parse_opts(int argc, char **argv, unsigned allowed, int maxpos, struct ca_opts *o)
{
	bool dashdash = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == 0) {
			if (o->npos >= maxpos)
				return usage_error("unexpected argument %s", a);
			o->pos[o->npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			ca_usage(stdout);
			return WANTS_HELP;
		}
		size_t k, nlen = strcspn(a, "=");
		for (k = 0; k < sizeof optab / sizeof optab[0]; k++)
			if ((optab[k].flag & allowed) && strlen(optab[k].name) == nlen &&
			    strncmp(optab[k].name, a, nlen) == 0)
				break;
		if (k == sizeof optab / sizeof optab[0])
			return usage_error("unknown option %s", a);
		const char *v = NULL;
		if (a[nlen] == '=') {
			if (!optab[k].has_arg)
				return usage_error("%s takes no value", optab[k].name);
			v = a + nlen + 1;
		} else if (optab[k].has_arg) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			v = argv[++i];
		}
		int r = 0;
		switch (optab[k].flag) {
		case O_NAME:
			o->cn = v;
			break;
		case O_KEY:
			r = parse_key(v, &o->key);
			break;
		case O_DAYS:
			r = parse_days(v, &o->days);
			break;
		case O_FORCE:
			o->force = true;
			break;
		case O_DNS:
			r = add_san_opt(o->dns, &o->ndns, "--dns", v);
			break;
		case O_IP:
			r = add_san_opt(o->ip, &o->nip, "--ip", v);
			break;
		case O_CLIENT:
			o->client = true;
			break;
		case O_OUT:
			o->out = v;
			break;
		}
		if (r != 0)
			return r;
	}
	return 0;
}

static int join(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf, len, "%s%s%s", a, b, c);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "tlshim ca: %s%s%s: path too long\n", a, b, c);
		return -1;
	}
	return 0;
}

/* Absolute form of a path that exists, for the policy lines we print. */
static const char *absolute(const char *path, char *buf)
{
	return realpath(path, buf) ? buf : path;
}

/* mkdir -p, the last component with ${mode}. */
static int make_dir(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	if (join(tmp, sizeof tmp, path, "", "") < 0)
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "tlshim ca: cannot create %s: %s\n", tmp, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		fprintf(stderr, "tlshim ca: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tlshim ca: %s exists and is not a directory\n", path);
		return -1;
	}
	return 0;
}

/* 0 when ${path} does not exist (or ${force}); otherwise says why not. */
static int check_absent(const char *path, bool force)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "tlshim ca: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (force)
		return 0;
	fprintf(stderr,
		"tlshim ca: %s already exists; refusing to replace it (--force replaces it)\n",
		path);
	return -1;
}

/*
 * Output files are written under a temporary name in the same directory and
 * renamed into place only when complete (an interrupted run never leaves
 * half a key behind, and a key is never written through an existing file or
 * symlink). Without --force the rename refuses to replace anything.
 */
struct outfile {
	char final[PATH_MAX];
	char tmp[PATH_MAX + 16];
	bool written, committed;
};

static int emit_key(BIO *b, void *obj)
{
	return PEM_write_bio_PKCS8PrivateKey(b, obj, NULL, NULL, 0, NULL, NULL);
}

static int emit_cert(BIO *b, void *obj)
{
	return PEM_write_bio_X509(b, obj);
}

static int out_write(struct outfile *f, bool secret, int (*emit)(BIO *, void *), void *obj)
{
	if (join(f->tmp, sizeof f->tmp, f->final, ".tmp-", "XXXXXX") < 0)
		return -1;
	int fd = mkostemp(f->tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		fprintf(stderr, "tlshim ca: cannot write %s: %s%s\n", f->final, strerror(errno),
			errno == ENOENT ? " (its directory does not exist)" : "");
		return -1;
	}
	f->written = true;
	bool ok = secret || fchmod(fd, 0644) == 0;
	BIO *b = ok ? BIO_new_fd(fd, BIO_NOCLOSE) : NULL;
	ok = b && emit(b, obj) == 1 && BIO_flush(b) == 1;
	BIO_free(b);
	ok = ok && fsync(fd) == 0;
	int err = errno;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "tlshim ca: cannot write %s: %s\n", f->final,
			err ? strerror(err) : "libcrypto could not encode it");
		ERR_clear_error();
		return -1;
	}
	return 0;
}

static int out_commit(struct outfile *f, bool force)
{
	int r;
	if (force) {
		r = rename(f->tmp, f->final);
	} else {
		r = renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->final, RENAME_NOREPLACE);
		if (r != 0 && (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)) {
			/* A file system without RENAME_NOREPLACE: check, then rename. */
			struct stat st;
			if (lstat(f->final, &st) == 0) {
				errno = EEXIST;
				r = -1;
			} else {
				r = rename(f->tmp, f->final);
			}
		}
	}
	if (r != 0) {
		fprintf(stderr, "tlshim ca: cannot write %s: %s\n", f->final, strerror(errno));
		return -1;
	}
	f->committed = true;
	return 0;
}

/* Remove what a failed run wrote: temporaries, and files already renamed
 * into place (they would not match their partner). */
static void out_discard(struct outfile *f)
{
	if (f->committed)
		unlink(f->final);
	else if (f->written)
		unlink(f->tmp);
	f->written = f->committed = false;
}

static EVP_PKEY *gen_key(int kind)
{
	EVP_PKEY *k;
	switch (kind) {
	case KEY_RSA:
		k = EVP_RSA_gen(2048);
		break;
	case KEY_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		k = EVP_EC_gen("P-256");
		break;
	}
	if (!k)
		crypto_fail("key generation");
	return k;
}

/* key_desc(k): the key type by the engine's names (suites.h), RSA with its
 * size class. */
static const char *key_desc(EVP_PKEY *k)
{
	int type = tls_key_type_of(k);

	if (type == TLS_KEY_RSA)
		return EVP_PKEY_get_bits(k) >= 3072 ? "RSA 3072+" : "RSA 2048";
	return tls_key_type_name(type);
}

/* A random positive 127-bit serial (RFC 5280 4.1.2.2: unique per CA, at
 * most 20 octets; random so two runs of init never collide). */
static bool set_serial(X509 *x)
{
	unsigned char r[16];
	randombytes_buf(r, sizeof r);
	r[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
	bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok;
}

/* A v3 certificate for ${key} named CN=${cn}, valid from an hour ago (clocks
 * that lag) for ${days}, never past ${issuer}'s own end (*capped then). A
 * NULL ${issuer} makes it self-issued. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, long days, X509 *issuer, bool *capped)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	bool ok = x && name && X509_set_version(x, X509_VERSION_3) && set_serial(x) &&
		  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					     (const unsigned char *)cn, -1, -1, 0) &&
		  X509_set_subject_name(x, name) &&
		  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
		  X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
		  X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) &&
		  X509_set_pubkey(x, key);
	*capped = false;
	if (ok && issuer &&
	    ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(issuer)) > 0) {
		ok = X509_set1_notAfter(x, X509_get0_notAfter(issuer));
		*capped = true;
	}
	X509_NAME_free(name);
	if (!ok) {
		crypto_fail("building the certificate");
		X509_free(x);
		return NULL;
	}
	return x;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	bool ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : crypto_fail(OBJ_nid2sn(nid));
}

/* subjectAltName from validated --dns / --ip values. */
static int add_san(X509 *x, const struct ca_opts *o)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	bool ok = gens != NULL;
	for (int i = 0; ok && i < o->ndns + o->nip; i++) {
		bool dns = i < o->ndns;
		unsigned char ip[16];
		int len = 0;
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_STRING *v = dns ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
		if (dns)
			ok = gn && v && ASN1_STRING_set(v, o->dns[i], -1);
		else
			ok = gn && v && parse_ip(o->ip[i - o->ndns], ip, &len) &&
			     ASN1_OCTET_STRING_set(v, ip, len);
		if (ok) {
			GENERAL_NAME_set0_value(gn, dns ? GEN_DNS : GEN_IPADD, v);
			v = NULL;
			ok = sk_GENERAL_NAME_push(gens, gn) > 0;
			if (ok)
				gn = NULL;
		}
		ASN1_STRING_free(v);
		GENERAL_NAME_free(gn);
	}
	ok = ok && (sk_GENERAL_NAME_num(gens) == 0 ||
		    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_APPEND) == 1);
	GENERAL_NAMES_free(gens);
	return ok ? 0 : crypto_fail("subjectAltName");
}

/* SHA-256 signatures (the policy's floor); Ed25519 signs without a digest. */
static int sign_cert(X509 *x, EVP_PKEY *key)
{
	const EVP_MD *md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	return X509_sign(x, key, md) > 0 ? 0 : crypto_fail("signing the certificate");
}

static void name_str(const X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int k = b ? X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) : -1;
	k = k >= 0 ? BIO_read(b, buf, (int)len - 1) : -1;
	buf[k > 0 ? k : 0] = 0;
	BIO_free(b);
}

static void date_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;
	if (!ASN1_TIME_to_tm(t, &tm) || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

/* "sha256//" + base64 of the SPKI hash, computed by the same function the
 * engine's pin check uses (core/cert.h). */
static int pin_str(X509 *x, char *out, size_t len)
{
	uint8_t h[32];
	if (len < 8 + sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL) ||
	    tls_spki_sha256(x, h) != 0)
		return -1;
	memcpy(out, "sha256//", 8);
	sodium_bin2base64(out + 8, len - 8, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

static int ca_init(int argc, char **argv)
{
	struct ca_opts o = {.key = KEY_ECDSA, .days = CA_DAYS};
	int r = parse_opts(argc, argv, O_NAME | O_KEY | O_DAYS | O_FORCE, 1, &o);
	if (r != 0)
		return r == WANTS_HELP ? 0 : r;
	if (o.npos != 1)
		return usage_error("%s", "init needs a DIR");
	const char *dir = o.pos[0];
	char defname[MAX_CN + 1];
	if (!o.cn) {
		char host[65] = "localhost", day[11];
		time_t now = time(NULL);
		struct tm tm;
		gethostname(host, sizeof host - 1);
		strftime(day, sizeof day, "%Y-%m-%d", gmtime_r(&now, &tm));
		snprintf(defname, sizeof defname, "tlshim CA %.40s %s", host, day);
		o.cn = defname;
	}
	if (!*o.cn || strlen(o.cn) > MAX_CN)
		return usage_error("--name \"%s\": must be 1 to 64 characters", o.cn);

	struct outfile key = {0}, crt = {0};
	if (join(key.final, sizeof key.final, dir, "/", "ca.key") < 0 ||
	    join(crt.final, sizeof crt.final, dir, "/", "ca.crt") < 0)
		return 1;
	struct stat st;
	if (!o.force && (lstat(key.final, &st) == 0 || lstat(crt.final, &st) == 0)) {
		fprintf(stderr,
			"tlshim ca: %s already holds a CA (%s); refusing to replace it, because "
			"every certificate it issued would stop verifying (--force replaces it)\n",
			dir, lstat(key.final, &st) == 0 ? key.final : crt.final);
		return 1;
	}
	if (make_dir(dir, 0700) < 0)
		return 1;

	int rc = 1;
	bool capped;
	EVP_PKEY *pkey = gen_key(o.key);
	X509 *x = pkey ? new_cert(pkey, o.cn, o.days, NULL, &capped) : NULL;
	X509V3_CTX ctx;
	if (!x)
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	/* RFC 5280 4.2.1.9: a CA that signs only end-entity certificates. */
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0 ||
	    sign_cert(x, pkey) < 0)
		goto out;
	if (out_write(&key, true, emit_key, pkey) < 0 || out_write(&crt, false, emit_cert, x) < 0 ||
	    out_commit(&key, o.force) < 0 || out_commit(&crt, o.force) < 0)
		goto out;
	rc = 0;

	char adir[PATH_MAX], akey[PATH_MAX], acrt[PATH_MAX], until[32];
	absolute(dir, adir);
	absolute(key.final, akey);
	absolute(crt.final, acrt);
	date_str(X509_get0_notAfter(x), until, sizeof until);
	printf("Created a CA in %s:\n"
	       "  %s  CA certificate \"CN=%s\", %s, valid until %s\n"
	       "  %s  its private key (mode 0600): keep it secret, it signs certificates\n"
	       "Next, issue certificates with it:\n"
	       "  tlshim ca issue %s SERVER --dns SERVER.example [--ip ADDR]   (for a server)\n"
	       "  tlshim ca issue %s CLIENT --client                           (for a client)\n"
	       "Rules that trust this CA (clients; servers with verify_peer) say:\n"
	       "  ca = %s\n",
	       adir, acrt, o.cn, key_desc(pkey), until, akey, adir, adir, acrt);
out:
	if (rc != 0) {
		out_discard(&key);
		out_discard(&crt);
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

static bool readable(const char *path, const char *what)
{
	if (access(path, R_OK) == 0)
		return true;
	fprintf(stderr, "tlshim ca: cannot read %s %s: %s%s\n", what, path, strerror(errno),
		errno == ENOENT ? " (tlshim ca init DIR creates a CA)" : "");
	return false;
}

/* Both halves of the CA in ${dir}, checked to belong together. */
static int load_ca(const char *keypath, const char *crtpath, const char *dir, X509 **crt,
		   EVP_PKEY **key)
{
	if (!readable(crtpath, "the CA certificate") || !readable(keypath, "the CA key"))
		return -1;
	BIO *b = BIO_new_file(crtpath, "r");
	*crt = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!*crt) {
		fprintf(stderr, "tlshim ca: %s is not a PEM certificate\n", crtpath);
		ERR_clear_error();
		return -1;
	}
	b = BIO_new_file(keypath, "r");
	*key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!*key) {
		fprintf(stderr,
			"tlshim ca: %s is not a PEM private key (or its passphrase was "
			"wrong)\n",
			keypath);
		ERR_clear_error();
		return -1;
	}
	if (X509_check_ca(*crt) == 0) {
		fprintf(stderr, "tlshim ca: %s is not a CA certificate (no CA:TRUE)\n", crtpath);
		return -1;
	}
	if (X509_check_private_key(*crt, *key) != 1) {
		ERR_clear_error();
		fprintf(stderr, "tlshim ca: %s and %s in %s do not belong together\n", keypath,
			crtpath, dir);
		return -1;
	}
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The names the certificate carries; a server certificate without --dns or
 * --ip is for NAME itself. */
static int check_sans(struct ca_opts *o, const char *name)
{
	for (int i = 0; i < o->ndns; i++) {
		unsigned char ip[16];
		int len;
		if (parse_ip(o->dns[i], ip, &len))
			return usage_error("--dns %s is an address: give it with --ip", o->dns[i]);
		if (!valid_dns(o->dns[i]))
			return usage_error("--dns %s: not a host name (letters, digits, '-', "
					   "dots; \"*.\" first for a wildcard)",
					   o->dns[i]);
	}
	for (int i = 0; i < o->nip; i++) {
		unsigned char ip[16];
		int len;
		if (!parse_ip(o->ip[i], ip, &len))
			return usage_error("--ip %s: not an IPv4 or IPv6 address", o->ip[i]);
	}
	if (o->client || o->ndns + o->nip > 0)
		return 0;
	unsigned char ip[16];
	int len;
	if (parse_ip(name, ip, &len))
		o->ip[o->nip++] = name;
	else if (valid_dns(name))
		o->dns[o->ndns++] = name;
	else
		return usage_error("NAME %s is not a host name: give the names clients use "
				   "with --dns or --ip",
				   name);
	return 0;
}

static void print_sans(const struct ca_opts *o)
{
	for (int i = 0; i < o->ndns + o->nip; i++)
		printf("%s%s:%s", i ? ", " : "", i < o->ndns ? "DNS" : "IP",
		       i < o->ndns ? o->dns[i] : o->ip[i - o->ndns]);
}

static void print_issued(const struct ca_opts *o, const char *name, X509 *x, EVP_PKEY *pkey,
			 X509 *cacrt, const char *cacrt_path, struct outfile *key,
			 struct outfile *crt, bool capped)
{
	char akey[PATH_MAX], acrt[PATH_MAX], aca[PATH_MAX], until[32], issuer[256];
	absolute(key->final, akey);
	absolute(crt->final, acrt);
	absolute(cacrt_path, aca);
	date_str(X509_get0_notAfter(x), until, sizeof until);
	name_str(X509_get_subject_name(cacrt), issuer, sizeof issuer);

	printf("Issued a %s certificate \"CN=%s\"", o->client ? "client" : "server", name);
	if (o->ndns + o->nip > 0) {
		printf(" for ");
		print_sans(o);
	}
	printf(", %s, valid until %s%s, signed by \"%s\":\n", key_desc(pkey), until,
	       capped ? " (the CA's own end)" : "", issuer);
	printf("  %s\n  %s  (private key, mode 0600)\n", acrt, akey);
	if (o->client) {
		printf("Policy lines for the client (role = client):\n"
		       "  cert = %s\n"
		       "  key = %s\n"
		       "and for the server it connects to (role = server):\n"
		       "  ca = %s\n"
		       "  verify_peer = require\n",
		       acrt, akey, aca);
		return;
	}
	char pin[64] = "?";
	pin_str(x, pin, sizeof pin);
	printf("Policy lines for the server (role = server):\n"
	       "  cert = %s\n"
	       "  key = %s\n"
	       "and for its clients (role = client):\n"
	       "  ca = %s\n",
	       acrt, akey, aca);
	int plain = 0; /* server_name is a host name, not a wildcard pattern */
	while (plain < o->ndns && o->dns[plain][0] == '*')
		plain++;
	if (plain < o->ndns)
		printf("  server_name = %s\n", o->dns[plain]);
	else if (o->ndns > 0)
		printf("  ; server_name = the host name the client uses, matching %s\n", o->dns[0]);
	else
		printf("  ; no server_name: clients check the address they connect to against "
		       "the certificate's IP entries\n");
	printf("A client may pin this key instead of trusting the CA (pin without ca):\n"
	       "  pin = %s\n",
	       pin);
}

static int ca_issue(int argc, char **argv)
{
	struct ca_opts o = {.key = KEY_ECDSA, .days = LEAF_DAYS};
	unsigned allowed = O_KEY | O_DAYS | O_FORCE | O_DNS | O_IP | O_CLIENT | O_OUT;
	int r = parse_opts(argc, argv, allowed, 2, &o);
	if (r != 0)
		return r == WANTS_HELP ? 0 : r;
	if (o.npos != 2)
		return usage_error("%s", "issue needs a DIR and a NAME");
	const char *dir = o.pos[0], *name = o.pos[1];
	if (!*name || strlen(name) > MAX_CN)
		return usage_error("NAME \"%s\": must be 1 to 64 characters (longer host "
				   "names go in --dns)",
				   name);
	if (!o.out && (strchr(name, '/') || name[0] == '.'))
		return usage_error("NAME %s is also the file name: use --out PREFIX to "
				   "choose where the files go",
				   name);
	if (o.out && !*o.out)
		return usage_error("%s", "--out needs a PREFIX");
	if ((r = check_sans(&o, name)) != 0)
		return r;

	char cakey_path[PATH_MAX], cacrt_path[PATH_MAX];
	struct outfile key = {0}, crt = {0};
	const char *prefix_dir = o.out ? "" : dir, *sep = o.out ? "" : "/";
	const char *prefix = o.out ? o.out : name;
	char base[PATH_MAX];
	if (join(cakey_path, sizeof cakey_path, dir, "/", "ca.key") < 0 ||
	    join(cacrt_path, sizeof cacrt_path, dir, "/", "ca.crt") < 0 ||
	    join(base, sizeof base, prefix_dir, sep, prefix) < 0 ||
	    join(key.final, sizeof key.final, base, ".key", "") < 0 ||
	    join(crt.final, sizeof crt.final, base, ".crt", "") < 0)
		return 1;

	int rc = 1;
	X509 *cacrt = NULL, *x = NULL;
	EVP_PKEY *cakey = NULL, *pkey = NULL;
	if (load_ca(cakey_path, cacrt_path, dir, &cacrt, &cakey) < 0)
		goto out;
	if (same_file(key.final, cakey_path) || same_file(key.final, cacrt_path) ||
	    same_file(crt.final, cakey_path) || same_file(crt.final, cacrt_path)) {
		fprintf(stderr,
			"tlshim ca: %s.* would overwrite the CA's own files; choose "
			"another NAME or --out\n",
			base);
		goto out;
	}
	if (check_absent(key.final, o.force) < 0 || check_absent(crt.final, o.force) < 0)
		goto out;

	bool capped;
	X509V3_CTX ctx;
	pkey = gen_key(o.key);
	x = pkey ? new_cert(pkey, name, o.days, cacrt, &capped) : NULL;
	if (!x)
		goto out;
	X509V3_set_ctx(&ctx, cacrt, x, NULL, NULL, 0);
	/* RSA keys may also be used for RSA key transport suites, which encrypt
	 * to the server key (RFC 5246 7.4.7.1): keyEncipherment. */
	const char *ku = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA
				 ? "critical,digitalSignature,keyEncipherment"
				 : "critical,digitalSignature";
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, ku) < 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, o.client ? "clientAuth" : "serverAuth") < 0 ||
	    add_san(x, &o) < 0 || add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0 ||
	    sign_cert(x, cakey) < 0)
		goto out;
	if (out_write(&key, true, emit_key, pkey) < 0 || out_write(&crt, false, emit_cert, x) < 0 ||
	    out_commit(&key, o.force) < 0 || out_commit(&crt, o.force) < 0)
		goto out;
	rc = 0;
	print_issued(&o, name, x, pkey, cacrt, cacrt_path, &key, &crt, capped);
out:
	if (rc != 0) {
		out_discard(&key);
		out_discard(&crt);
	}
	X509_free(x);
	X509_free(cacrt);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(cakey);
	return rc;
}

/* The first certificate in ${path}, PEM or DER. */
static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tlshim ca: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_PEM);
	size_t n = buf ? fread(buf, 1, MAX_PEM, f) : 0;
	fclose(f);
	X509 *x = NULL;
	if (buf && n > 0) {
		BIO *b = BIO_new_mem_buf(buf, (int)n);
		x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		const unsigned char *p = (const unsigned char *)buf;
		if (!x)
			x = d2i_X509(NULL, &p, (long)n);
		ERR_clear_error();
		if (!x && memmem(buf, n, "PRIVATE KEY-----", 16))
			fprintf(stderr, "tlshim ca: %s is a private key; give its certificate\n",
				path);
		else if (!x)
			fprintf(stderr,
				"tlshim ca: %s holds no certificate (expected PEM, "
				"-----BEGIN CERTIFICATE-----)\n",
				path);
	} else if (buf) {
		fprintf(stderr, "tlshim ca: %s is empty\n", path);
	}
	free(buf);
	return x;
}

static int ca_pin(int argc, char **argv)
{
	struct ca_opts o = {0};
	int r = parse_opts(argc, argv, 0, 1, &o);
	if (r != 0)
		return r == WANTS_HELP ? 0 : r;
	if (o.npos != 1)
		return usage_error("%s", "pin needs a CERT file");
	X509 *x = read_cert(o.pos[0]);
	if (!x)
		return 1;
	char pin[64];
	r = pin_str(x, pin, sizeof pin);
	X509_free(x);
	if (r < 0) {
		fprintf(stderr, "tlshim ca: %s: cannot hash its public key\n", o.pos[0]);
		return 1;
	}
	printf("%s\n", pin);
	return 0;
}

int tlshim_ca_main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "tlshim ca: libsodium failed to initialise\n");
		return 1;
	}
	const char *cmd = argc >= 2 ? argv[1] : NULL;
	int rc;
	if (!cmd) {
		ca_usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		ca_usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "init") == 0)
		rc = ca_init(argc - 1, argv + 1);
	else if (strcmp(cmd, "issue") == 0)
		rc = ca_issue(argc - 1, argv + 1);
	else if (strcmp(cmd, "pin") == 0)
		rc = ca_pin(argc - 1, argv + 1);
	else
		rc = usage_error("unknown command %s (init, issue or pin)", cmd);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "tlshim ca: writing the output: %s\n", strerror(errno));
		rc = 1;
	}
	return rc;
}
