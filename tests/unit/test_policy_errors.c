/*
 * test_policy_errors.c: every error the policy loader reports, each with
 * its exact "FILE:LINE: reason", several errors reported together and in
 * line order, and no cascades (one mistake, one message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "policy.h"

static char dir[64];
static char vpath[128];

/* Fragments of valid rules: 4 and 3 lines. */
#define SRV "role=server\nport=1\ncert=server.crt\nkey=server.key\n"
#define CLI "role=client\nport=1\nca=ca.crt\n"
#define PIN "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void touch(const char *name)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fp = fopen(p, "w")) == NULL || fclose(fp) != 0) {
		perror(p);
		exit(1);
	}
}

static void setup(void)
{
	char p[256];

	snprintf(dir, sizeof(dir), "/tmp/test_policy_errors.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(vpath, sizeof(vpath), "%s/t.ini", dir);
	snprintf(p, sizeof(p), "%s/certs", dir);
	if (mkdir(p, 0700) != 0) {
		perror(p);
		exit(1);
	}
	touch("server.crt");
	touch("server.key");
	touch("ca.crt");
}

static void teardown(void)
{
	static const char *const files[] = {"server.crt", "server.key", "ca.crt",
					    "certs",      "t.ini",      NULL};
	char p[256];

	for (int i = 0; files[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		remove(p);
	}
	rmdir(dir);
}

/* expand(w, out): "LINE: reason" -> "VPATH:LINE: reason", with every "$D"
 * replaced by the test directory. */
static void expand(const char *w, char *out, size_t outlen)
{
	size_t o = (size_t)snprintf(out, outlen, "%s:", vpath);

	for (; *w != '\0' && o + 1 < outlen; w++) {
		if (w[0] == '$' && w[1] == 'D') {
			o += (size_t)snprintf(out + o, outlen - o, "%s", dir);
			w++;
		} else {
			out[o++] = *w;
		}
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

static void check_errors(const tlsp_errors *errs, const char *const *want, const char *text,
			 int line)
{
	size_t n = 0;
	bool same = true;
	char exp[1024];

	while (want[n] != NULL)
		n++;
	if (errs->count != n)
		same = false;
	for (size_t i = 0; i < n && i < errs->count; i++) {
		expand(want[i], exp, sizeof(exp));
		if (strcmp(exp, tlsp_errors_get(errs, i)) != 0)
			same = false;
	}
	CHECK(same);
	if (!same) {
		fprintf(stderr, "from line %d, for:\n%s\n--- want:\n", line, text);
		for (size_t i = 0; i < n; i++) {
			expand(want[i], exp, sizeof(exp));
			fprintf(stderr, "%s\n", exp);
		}
		fprintf(stderr, "--- got:\n");
		tlsp_errors_print(stderr, errs);
	}
}

/* bad(text, want...): loading ${text} fails with exactly these errors. */
#define bad(text, ...) bad_at(__LINE__, text, (const char *const[]){__VA_ARGS__, NULL})

static void bad_at(int line, const char *text, const char *const *want)
{
	tlsp_errors errs = {0};
	tlsp_policy *p = (tlsp_policy *)&errs; /* must be reset to NULL */

	CHECK_EQ(tlsp_load_string(text, vpath, &p, &errs), -1);
	CHECK(p == NULL);
	CHECK(!errs.oom);
	check_errors(&errs, want, text, line);
	tlsp_errors_free(&errs);

	/* The same without an error list: still refused. */
	p = (tlsp_policy *)&errs;
	CHECK_EQ(tlsp_load_string(text, vpath, &p, NULL), -1);
	CHECK(p == NULL);
}

static void test_keys(void)
{
	bad("[a]\n" SRV "foo = 1\n", "6: unknown key 'foo'");
	bad("[global]\nfoo=1\n", "2: unknown key 'foo'");
	bad("[a]\n" SRV "Port = 2\n", "6: unknown key 'Port'"); /* keys are lowercase */
	bad("port = 1\nrole = x\n[a]\n" SRV, "1: key 'port' outside any section",
	    "2: key 'role' outside any section");
	bad("[global]\nport = 1\nrole=server\nca = x\n",
	    "2: 'port' is a rule key, not valid in [global]",
	    "3: 'role' is a rule key, not valid in [global]",
	    "4: 'ca' is a rule key, not valid in [global]");
	bad("[a]\n" SRV "log = info\nkeylog = x\nlog_file = y\n",
	    "6: 'log' is only valid in [global]", "7: 'keylog' is only valid in [global]",
	    "8: 'log_file' is only valid in [global]");
	bad("[a]\n" CLI "port=2\n", "5: duplicate key 'port' (first at line 3)");
	bad("[global]\nlog=info\nlog = warn\n", "3: duplicate key 'log' (first at line 2)");
	bad("[a]\n" CLI "[a]\n" CLI "bogus=1\n", "5: duplicate rule name 'a' (first at line 1)");
	bad("[global]\n[global]\nlog=x\n", "2: duplicate section [global] (first at line 1)");
}

static void test_values(void)
{
	bad("[a]\nrole=xyz\nport=1\n",
	    "2: unknown value 'xyz' for role (expected client or server)");
	bad("[a]\n" SRV "verify_peer=maybe\n",
	    "6: unknown value 'maybe' for verify_peer (expected none, optional or require)");
	bad("[a]\n" CLI "verify_peer=Require\n",
	    "5: unknown value 'Require' for verify_peer (expected none, optional or require)");
	bad("[a]\n" SRV "plaintext=yes\n",
	    "6: unknown value 'yes' for plaintext (expected reject or allow)");
	bad("[a]\n" SRV "session_tickets=true\n",
	    "6: unknown value 'true' for session_tickets (expected yes or no)");
	bad("[a]\n" SRV "legacy_peers=on\n",
	    "6: unknown value 'on' for legacy_peers (expected yes or no)");
	bad("[a]\n" CLI "legacy_peers=Yes\n",
	    "5: unknown value 'Yes' for legacy_peers (expected yes or no)");
	bad("[global]\nlegacy_peers=yes\n",
	    "2: 'legacy_peers' is a rule key, not valid in [global]");
	bad("[global]\nlog=verbose\n",
	    "2: unknown value 'verbose' for log (expected error, warn, info or debug)");
	/* Versions: 1.2 | 1.3, min not above max (whether this build speaks
	 * 1.3 is the engine's call: tests/unit/test_config.c). */
	bad("[a]\n" CLI "min_version = 1.1\n",
	    "5: unknown value '1.1' for min_version (expected 1.2 or 1.3)");
	bad("[a]\n" SRV "max_version = TLSv1.3\n",
	    "6: unknown value 'TLSv1.3' for max_version (expected 1.2 or 1.3)");
	bad("[a]\n" CLI "min_version = 1.3\nmax_version = 1.2\n",
	    "5: min_version = 1.3 is above max_version = 1.2 (line 6)");
	bad("[global]\nmin_version = 1.2\nalpn = h2\n",
	    "2: 'min_version' is a rule key, not valid in [global]",
	    "3: 'alpn' is a rule key, not valid in [global]");
	bad("[a]\n" CLI "alpn =\n", "5: empty value for 'alpn'");
	bad("[a]\n" CLI "max_version =\n", "5: empty value for 'max_version'");
	bad("[a]\n" CLI "server_name = a b\n",
	    "5: bad server_name 'a b' (space or control character)");

	char text[1024], name[300];

	memset(name, 'n', 254);
	name[254] = '\0';
	snprintf(text, sizeof(text), "[a]\n" CLI "server_name = %s\n", name);
	bad(text, "5: server_name is longer than 253 bytes");

	/* Empty values are errors and count as present: no cascade. */
	bad("[a]\nrole=client\nport=1\nca =\n", "4: empty value for 'ca'");
	bad("[a]\nrole =\nport=\n", "2: empty value for 'role'", "3: empty value for 'port'");
	bad("[global]\nkeylog=\n", "2: empty value for 'keylog'");
}

static void test_numbers(void)
{
	bad("[a]\n" CLI "handshake_timeout = abc\n", "5: bad number 'abc'");
	bad("[a]\n" CLI "handshake_timeout = 0\n", "5: 0 is out of range (1..3600)");
	bad("[a]\n" CLI "handshake_timeout = 3601\n", "5: 3601 is out of range (1..3600)");
	bad("[a]\n" CLI "handshake_timeout = 99999999999999999999\n",
	    "5: 99999999999999999999 is out of range (1..3600)");
	bad("[a]\n" CLI "handshake_timeout = -1\n", "5: bad number '-1'");
	bad("[a]\n" CLI "handshake_timeout = 10s\n", "5: bad number '10s'");
	bad("[a]\n" CLI "handshake_timeout = 1 0\n", "5: bad number '1 0'");
	bad("[global]\nhandshake_timeout = 0x10\n", "2: bad number '0x10'");
}

static void test_ports(void)
{
	bad("[a]\nrole=client\nport=0\nverify_peer=none\n",
	    "3: port '0' is out of range (1..65535)");
	bad("[a]\nrole=client\nport=65536\nverify_peer=none\n",
	    "3: port '65536' is out of range (1..65535)");
	bad("[a]\nrole=client\nport=1-65536\nverify_peer=none\n",
	    "3: port '1-65536' is out of range (1..65535)");
	bad("[a]\nrole=client\nport=10-5\nverify_peer=none\n",
	    "3: bad port range '10-5' (end before start)");
	bad("[a]\nrole=client\nport=abc\nverify_peer=none\n", "3: bad port 'abc'");
	bad("[a]\nrole=client\nport=80,\nverify_peer=none\n", "3: empty item in port list");
	bad("[a]\nrole=client\nport=80,,81\nverify_peer=none\n", "3: empty item in port list");
	bad("[a]\nrole=client\nport=1-\nverify_peer=none\n", "3: bad port '1-'");
	bad("[a]\nrole=client\nport=-1\nverify_peer=none\n", "3: bad port '-1'");
	bad("[a]\nrole=client\nport=1-2-3\nverify_peer=none\n", "3: bad port '1-2-3'");
	bad("[a]\nrole=client\nport=+80\nverify_peer=none\n", "3: bad port '+80'");
	bad("[a]\nrole=client\nport=80 443\nverify_peer=none\n", "3: bad port '80 443'");
	bad("[a]\nrole=client\nport=http\nverify_peer=none\n", "3: bad port 'http'");

	char text[2048];
	size_t o =
		(size_t)snprintf(text, sizeof(text), "[a]\nrole=client\nverify_peer=none\nport=");

	for (int i = 1; i <= 65; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%d", i > 1 ? "," : "", i);
	snprintf(text + o, sizeof(text) - o, "\n");
	bad(text, "4: too many port ranges (at most 64)");
}

static void test_hosts(void)
{
#define H(v) "[a]\nrole=client\nport=1\nverify_peer=none\nhosts = " v "\n"
#define ADDR " (expected an IPv4/IPv6 address or CIDR)"
	bad(H("10.0.0.0/33"), "5: bad prefix length in '10.0.0.0/33' (0..32)");
	bad(H("::/129"), "5: bad prefix length in '::/129' (0..128)");
	bad(H("10.0.0.0/"), "5: bad prefix length in '10.0.0.0/' (0..32)");
	bad(H("10.0.0.0/8x"), "5: bad prefix length in '10.0.0.0/8x' (0..32)");
	bad(H("10.0.0.0/-8"), "5: bad prefix length in '10.0.0.0/-8' (0..32)");
	bad(H("10.0.0.1/8"), "5: host bits set in '10.0.0.1/8' (past the /8 prefix)");
	bad(H("2001:db8::1/32"), "5: host bits set in '2001:db8::1/32' (past the /32 prefix)");
	bad(H("300.1.1.1"), "5: bad address '300.1.1.1'" ADDR);
	bad(H("10.1"), "5: bad address '10.1'" ADDR);
	bad(H("localhost"), "5: bad address 'localhost'" ADDR);
	bad(H("fe80::1%eth0"), "5: bad address 'fe80::1%eth0'" ADDR);
	bad(H("[::1]"), "5: bad address '[::1]'" ADDR);
	bad(H("/8"), "5: bad address '/8'" ADDR);
	bad(H("127.0.0.1, nowhere.example"), "5: bad address 'nowhere.example'" ADDR);
	bad(H("1.2.3.4,"), "5: empty item in hosts list");

	char text[4096];
	size_t o = (size_t)snprintf(text, sizeof(text), H(""));

	o--; /* over the newline */
	for (int i = 1; i <= 65; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s10.0.0.%d", i > 1 ? "," : "",
				      i);
	snprintf(text + o, sizeof(text) - o, "\n");
	bad(text, "5: too many hosts (at most 64)");
#undef H
#undef ADDR
}

static void test_pins(void)
{
#define P(v) "[a]\nrole=client\nport=1\npin = " v "\n"
#define B64  " (expected base64 of a 32-byte SHA-256 digest)"
	bad(P("sha1//abc"), "4: bad pin 'sha1//abc' (expected sha256//BASE64)");
	bad(P("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
	    "4: bad pin 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' (expected sha256//BASE64)");
	bad(P("sha256//AAAA"), "4: bad pin 'sha256//AAAA'" B64);
	bad(P("sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"),
	    "4: bad pin 'sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8'" B64);
	bad(P("sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=="),
	    "4: bad pin 'sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=='" B64);
	bad(P("sha256//AAECAwQFBgcICQoLDA0ODxAREh!UFRYXGBkaGxwdHh8="),
	    "4: bad pin 'sha256//AAECAwQFBgcICQoLDA0ODxAREh!UFRYXGBkaGxwdHh8='" B64);
	/* Non-canonical: the last symbol carries bits past the 32 bytes. */
	bad(P("sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="),
	    "4: bad pin 'sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9='" B64);
	bad(P(PIN ","), "4: empty item in pin list");
	bad(P(PIN ";" PIN), "4: separate pins with ',', not ';'");

	char text[2048];
	size_t o = (size_t)snprintf(text, sizeof(text), P(""));

	o--;
	for (int i = 1; i <= 17; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s" PIN, i > 1 ? "," : "");
	snprintf(text + o, sizeof(text) - o, "\n");
	bad(text, "4: too many pins (at most 16)");
#undef P
#undef B64
}

static void test_combinations(void)
{
	bad("[a]\nport=1\n", "1: rule 'a' has no 'role' (client or server)");
	bad("[a]\nrole=client\nca=ca.crt\n", "1: rule 'a' has no 'port'");
	bad("[a]\n", "1: rule 'a' has no 'role' (client or server)", "1: rule 'a' has no 'port'");
	bad("[a]\nrole=server\nport=1\n", "1: server rule 'a' needs cert and key");
	bad("[a]\nrole=server\nport=1\ncert=server.crt\n", "4: cert without key");
	bad("[a]\nrole=server\nport=1\nkey=server.key\n", "4: key without cert");
	bad("[a]\n" CLI "cert=server.crt\n", "5: cert without key");
	bad("[a]\n" CLI "key=server.key\n", "5: key without cert");
	bad("[a]\nrole=client\nport=1\n", "1: client rule needs ca or pin, or verify_peer = none");
	bad("[a]\nrole=client\nport=1\nverify_peer=require\n",
	    "1: client rule needs ca or pin, or verify_peer = none");
	bad("[a]\n" SRV "verify_peer=require\n", "6: verify_peer = require needs ca");
	bad("[a]\n" SRV "verify_peer=optional\n", "6: verify_peer = optional needs ca");
	bad("[a]\n" SRV "hosts=::1\nserver_name=x\npin=" PIN "\n",
	    "6: 'hosts' is only valid in client rules",
	    "7: 'server_name' is only valid in client rules",
	    "8: 'pin' is only valid in client rules");
	bad("[a]\n" CLI "plaintext=allow\nsession_tickets=no\nverify_peer=optional\n",
	    "5: 'plaintext' is only valid in server rules",
	    "6: 'session_tickets' is only valid in server rules",
	    "7: verify_peer = optional is only valid in server rules");
	/* A bad role or verify_peer value: its own message only. */
	bad("[a]\nrole=client\nport=1\nverify_peer=nope\n",
	    "4: unknown value 'nope' for verify_peer (expected none, optional or require)");
	bad("[a]\nrole=both\nport=1\nhosts=::1\nplaintext=allow\n",
	    "2: unknown value 'both' for role (expected client or server)");
}

static void test_files(void)
{
	bad("[a]\nrole=server\nport=1\ncert=missing.crt\nkey=certs\n",
	    "4: cannot read $D/missing.crt: No such file or directory",
	    "5: cannot read $D/certs: Is a directory");
	bad("[a]\nrole=client\nport=1\nca=/nonexistent/ca.pem\n",
	    "4: cannot read /nonexistent/ca.pem: No such file or directory");
	bad("[a]\n" SRV "ca=./certs/../nope.crt\nverify_peer=require\n",
	    "6: cannot read $D/certs/../nope.crt: No such file or directory");
	bad("[a]\n" CLI "cert=c.crt\nkey=c.key\n",
	    "5: cannot read $D/c.crt: No such file or directory",
	    "6: cannot read $D/c.key: No such file or directory");

	/* A file that cannot be opened: one error, no line. */
	tlsp_errors errs = {0};
	tlsp_policy *p = NULL;
	char want[256];

	CHECK_EQ(tlsp_load("/nonexistent/tlshim.ini", &p, &errs), -1);
	CHECK(p == NULL);
	CHECK_EQ(errs.count, 1);
	CHECK(strcmp(tlsp_errors_get(&errs, 0),
		     "/nonexistent/tlshim.ini: cannot open: No such file or directory") == 0);
	CHECK_EQ(errs.list[0].line, 0);
	tlsp_errors_free(&errs);

	CHECK_EQ(tlsp_load(dir, &p, &errs), -1);
	snprintf(want, sizeof(want), "%s: cannot open: Is a directory", dir);
	CHECK_EQ(errs.count, 1);
	CHECK(errs.count == 1 && strcmp(tlsp_errors_get(&errs, 0), want) == 0);
	tlsp_errors_free(&errs);

	/* A file larger than TLSP_MAX_FILE is refused whole. */
	FILE *fp = fopen(vpath, "w");

	CHECK(fp != NULL);
	if (fp != NULL) {
		for (int i = 0; i <= TLSP_MAX_FILE / 64; i++)
			fputs(";23456789012345678901234567890123456789012345678901234567890123\n",
			      fp);
		fclose(fp);
	}
	CHECK_EQ(tlsp_load(vpath, &p, &errs), -1);
	CHECK(p == NULL);
	snprintf(want, sizeof(want), "%s: too large (more than %d bytes)", vpath, TLSP_MAX_FILE);
	CHECK(errs.count == 1 && strcmp(tlsp_errors_get(&errs, 0), want) == 0);
	tlsp_errors_free(&errs);

	/* Just under the limit is fine. */
	CHECK(truncate(vpath, TLSP_MAX_FILE) == 0);
	CHECK_EQ(tlsp_load(vpath, &p, &errs), 0);
	CHECK(p != NULL && p->nrules == 0);
	CHECK_EQ(errs.count, 0);
	tlsp_free(p);
	p = NULL;

	/* A NUL byte can only come from a file. */
	fp = fopen(vpath, "w");
	CHECK(fp != NULL);
	if (fp != NULL) {
		fwrite("[a]\nro\0le=client\nport=1\nverify_peer=none\n", 1, 41, fp);
		fclose(fp);
	}
	CHECK_EQ(tlsp_load(vpath, &p, &errs), -1);
	CHECK_EQ(errs.count, 2); /* the role was on the bad line */
	snprintf(want, sizeof(want), "%s:1: rule 'a' has no 'role' (client or server)", vpath);
	CHECK(errs.count == 2 && strcmp(tlsp_errors_get(&errs, 0), want) == 0);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", vpath);
	CHECK(errs.count == 2 && strcmp(tlsp_errors_get(&errs, 1), want) == 0);
	tlsp_errors_free(&errs);
	remove(vpath);
}

static void test_syntax(void)
{
	bad("[abc\nrole=server\nport=1\n", "1: missing ']' in section header");
	bad("[a ; b]\n", "1: missing ']' in section header");
	bad("[]\nrole=x\n", "1: empty section name");
	bad("[  ]\n", "1: empty section name");
	bad("[a] junk\n" SRV, "1: unexpected text after section header: 'junk'");
	bad("[a\x01"
	    "b]\n",
	    "1: control character in section name");
	bad("[a]\n" SRV "stray line\n", "6: expected 'key = value' or '[section]'");
	bad("[a]\n" SRV "role ; = x\n", "6: expected 'key = value' or '[section]'");
	bad("[a]\n" SRV "= 5\n", "6: missing key name before '='");
	bad("[a]\n" SRV "  : 5\n", "6: missing key name before ':'");

	/* Very long lines are refused, not split. */
	size_t n = TLSP_MAX_LINE + 10;
	char *text = malloc(n + 64);

	CHECK(text != NULL);
	if (text != NULL) {
		size_t o = (size_t)snprintf(text, 64, "[a]\n" CLI "ciphers = ");

		memset(text + o, 'A', n);
		strcpy(text + o + n, "\n");
		bad(text, "5: line too long (more than 65536 bytes)");
		free(text);
	}

	/* Too many rules. */
	size_t cap = 1100 * 48;
	char *big = malloc(cap);
	size_t o = 0;

	CHECK(big != NULL);
	if (big == NULL)
		return;
	for (int i = 0; i < 1025; i++)
		o += (size_t)snprintf(big + o, cap - o,
				      "[r%d]\nrole=client\nport=1\nverify_peer=none\n", i);
	bad(big, "4097: too many rules (at most 1024)");
	free(big);
}

/* Many mistakes in one file: all reported, sorted by line, no cascades. */
static void test_many(void)
{
	bad("[global]\n"                /* 1 */
	    "log = loud\n"              /* 2 */
	    "port = 1\n"                /* 3 */
	    "[a]\n"                     /* 4 */
	    "role = server\n"           /* 5 */
	    "port = 0\n"                /* 6 */
	    "cert = server.crt\n"       /* 7 */
	    "bogus = 1\n"               /* 8 */
	    "[b]\n"                     /* 9 */
	    "role = client\n"           /* 10 */
	    "port = 443\n"              /* 11 */
	    "hosts = nowhere\n"         /* 12 */
	    "[a]\n"                     /* 13 */
	    "role = client\n"           /* 14 */
	    "stray line\n"              /* 15 */
	    "[c]\n"                     /* 16 */
	    "role = client\n"           /* 17 */
	    "port = 1-2\n"              /* 18 */
	    "verify_peer = none\n"      /* 19 */
	    "handshake_timeout = 0\n"   /* 20 */
	    "[d\n"                      /* 21 */
	    "role = bogus\n"            /* 22 */
	    "[e]\n"                     /* 23 */
	    "role = server\n"           /* 24 */
	    "port = 2\n"                /* 25 */
	    "cert = server.crt\n"       /* 26 */
	    "key = server.key\n"        /* 27 */
	    "verify_peer = require\n"   /* 28 */
	    "handshake_timeout = 11\n"  /* 29 */
	    "handshake_timeout = 12\n", /* 30 */
	    "2: unknown value 'loud' for log (expected error, warn, info or debug)",
	    "3: 'port' is a rule key, not valid in [global]",
	    "6: port '0' is out of range (1..65535)", "7: cert without key",
	    "8: unknown key 'bogus'", "9: client rule needs ca or pin, or verify_peer = none",
	    "12: bad address 'nowhere' (expected an IPv4/IPv6 address or CIDR)",
	    "13: duplicate rule name 'a' (first at line 4)",
	    "15: expected 'key = value' or '[section]'", "20: 0 is out of range (1..3600)",
	    "21: missing ']' in section header", "28: verify_peer = require needs ca",
	    "30: duplicate key 'handshake_timeout' (first at line 29)");
}

int main(void)
{
	setup();
	test_keys();
	test_values();
	test_numbers();
	test_ports();
	test_hosts();
	test_pins();
	test_combinations();
	test_files();
	test_syntax();
	test_many();
	teardown();
	return check_exit("unit/policy_errors");
}
