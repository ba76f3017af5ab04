/*
 * test_policy.c: the policy file's happy paths: every key read into the
 * structs, every default, relative path resolution, the line table, the
 * INI syntax tlshim accepts (indentation, comments, CRLF, BOM, lines longer
 * than inih's buffer), and tlsp_print's format. Errors are in
 * test_policy_errors.c, matching in test_policy_match.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "check.h"
#include "policy.h"

static char dir[64];    /* mkdtemp directory with the files rules name */
static char vpath[128]; /* dir/t.ini: the virtual path of string policies */
static char buf[4096];  /* scratch for expected strings */

static void touch(const char *name)
{
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fp = fopen(p, "w")) == NULL || fputs("not really PEM\n", fp) < 0 || fclose(fp) != 0) {
		perror(p);
		exit(1);
	}
}

static void setup(void)
{
	char p[256];

	snprintf(dir, sizeof(dir), "/tmp/test_policy.XXXXXX");
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
	touch("client.crt");
	touch("client.key");
	touch("ca.crt");
	touch("certs/leaf.crt");
	touch("certs/leaf.key");
}

static void teardown(void)
{
	static const char *const files[] = {
		"server.crt",     "server.key",     "client.crt", "client.key", "ca.crt",
		"certs/leaf.crt", "certs/leaf.key", "t.ini",      "certs",      NULL};
	char p[256];

	for (int i = 0; files[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		remove(p);
	}
	rmdir(dir);
}

/* in_dir(name): "dir/name" (in a rotating buffer, 4 live at once). */
static const char *in_dir(const char *name)
{
	static char ring[4][256];
	static int next;
	char *b = ring[next++ % 4];

	snprintf(b, sizeof(ring[0]), "%s/%s", dir, name);
	return b;
}

/* load_ok(text): a policy that must be valid. */
static tlsp_policy *load_ok(const char *text)
{
	tlsp_errors errs = {0};
	tlsp_policy *p = NULL;
	int rc = tlsp_load_string(text, vpath, &p, &errs);

	CHECK_EQ(rc, 0);
	CHECK(p != NULL);
	CHECK_EQ(errs.count, 0);
	if (rc != 0) {
		fprintf(stderr, "unexpected errors for:\n%s\n", text);
		tlsp_errors_print(stderr, &errs);
	}
	tlsp_errors_free(&errs);
	return p;
}

static bool streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

#define CHECK_STR(a, b)                                                  \
	do {                                                             \
		const char *check_s1_ = (a), *check_s2_ = (b);           \
		CHECK(streq(check_s1_, check_s2_));                      \
		if (!streq(check_s1_, check_s2_))                        \
			fprintf(stderr, "  got \"%s\"\n  want \"%s\"\n", \
				check_s1_ ? check_s1_ : "(null)",        \
				check_s2_ ? check_s2_ : "(null)");       \
	} while (0)

/* The example policy of INTERFACE.md, every key once. */
static const char sample[] = "[global]\n"                                                   /* 1 */
			     "log = info\n"                                                 /* 2 */
			     "log_file = logs/tlshim.log\n"                                 /* 3 */
			     "keylog = keys.txt\n"                                          /* 4 */
			     "handshake_timeout = 20\n"                                     /* 5 */
			     "\n"                                                           /* 6 */
			     "[redis-in]\n"                                                 /* 7 */
			     "role = server               ; c\n"                            /* 8 */
			     "port = 6379\n"                                                /* 9 */
			     "cert = server.crt\n"                                          /* 10 */
			     "key = server.key\n"                                           /* 11 */
			     "ca = ca.crt\n"                                                /* 12 */
			     "verify_peer = optional\n"                                     /* 13 */
			     "plaintext = allow\n"                                          /* 14 */
			     "session_tickets = no\n"                                       /* 15 */
			     "ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:AES128-GCM-SHA256\n"  /* 16 */
			     "groups = x25519:secp256r1\n"                                  /* 17 */
			     "handshake_timeout = 5\n"                                      /* 18 */
			     "\n"                                                           /* 19 */
			     "[redis-out]\n"                                                /* 20 */
			     "role = client\n"                                              /* 21 */
			     "port = 6379, 7000-7010\n"                                     /* 22 */
			     "hosts = 127.0.0.1, ::1, 10.0.0.0/8\n"                         /* 23 */
			     "ca = system\n"                                                /* 24 */
			     "verify_peer = require\n"                                      /* 25 */
			     "server_name = redis.internal\n"                               /* 26 */
			     "pin = sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" /* 27 */
			     "cert = certs/leaf.crt\n"                                      /* 28 */
			     "key = /%s/certs/leaf.key\n"              /* 29: absolute */
			     "ciphers = ECDHE-RSA-CHACHA20-POLY1305\n" /* 30 */
			     "groups = secp384r1\n"                    /* 31 */
			     "legacy_peers = yes\n"                    /* 32 */
			     "min_version = 1.2\n"                     /* 33 */
			     "max_version = 1.2\n"                     /* 34 */
			     "alpn = h2 , http/1.1\n";                 /* 35 */

static void test_every_key(void)
{
	char text[4096];
	tlsp_policy *p;

	snprintf(text, sizeof(text), sample, dir + 1);
	if ((p = load_ok(text)) == NULL)
		return;
	CHECK_STR(p->path, vpath);
	CHECK_STR(p->dir, dir);
	CHECK_EQ(p->log_level, TLSP_LOG_INFO);
	CHECK_EQ(p->log_sink, TLSP_LOG_FILE);
	CHECK_STR(p->log_file, in_dir("logs/tlshim.log"));
	CHECK_STR(p->keylog, in_dir("keys.txt"));
	CHECK_EQ(p->handshake_timeout, 20);
	CHECK_EQ(p->global_line, 1);
	CHECK_EQ(p->key_line[TLSP_K_LOG], 2);
	CHECK_EQ(p->key_line[TLSP_K_LOG_FILE], 3);
	CHECK_EQ(p->key_line[TLSP_K_KEYLOG], 4);
	CHECK_EQ(p->key_line[TLSP_K_HANDSHAKE_TIMEOUT], 5);
	CHECK_EQ(p->key_line[TLSP_K_PORT], 0);
	CHECK_EQ(p->nrules, 2);
	if (p->nrules != 2)
		goto out;

	const tlsp_rule *s = &p->rules[0], *c = &p->rules[1];

	CHECK_STR(s->name, "redis-in");
	CHECK_EQ(s->line, 7);
	CHECK_EQ(s->role, TLSP_ROLE_SERVER);
	CHECK_EQ(s->nports, 1);
	CHECK_EQ(s->ports[0].lo, 6379);
	CHECK_EQ(s->ports[0].hi, 6379);
	CHECK_EQ(s->nhosts, 0);
	CHECK_STR(s->cert, in_dir("server.crt"));
	CHECK_STR(s->key, in_dir("server.key"));
	CHECK_STR(s->ca, in_dir("ca.crt"));
	CHECK(!s->ca_system);
	CHECK_EQ(s->verify_peer, TLSP_VERIFY_OPTIONAL);
	CHECK(s->plaintext_allow);
	CHECK(!s->session_tickets);
	CHECK_STR(s->server_name, NULL);
	CHECK_STR(s->pin, NULL);
	CHECK_EQ(s->npins, 0);
	CHECK_STR(s->ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:AES128-GCM-SHA256");
	CHECK_STR(s->groups, "x25519:secp256r1");
	CHECK(!s->legacy_peers);
	CHECK_EQ(s->handshake_timeout, 5);
	/* INTERFACE.md defaults: 1.2 to 1.3, no ALPN. */
	CHECK_EQ(s->min_version, TLSP_TLS_1_2);
	CHECK_EQ(s->max_version, TLSP_TLS_1_3);
	CHECK_STR(s->alpn, NULL);
	static const unsigned slines[TLSP_K_COUNT] = {
		[TLSP_K_ROLE] = 8,
		[TLSP_K_PORT] = 9,
		[TLSP_K_CERT] = 10,
		[TLSP_K_KEY] = 11,
		[TLSP_K_CA] = 12,
		[TLSP_K_VERIFY_PEER] = 13,
		[TLSP_K_PLAINTEXT] = 14,
		[TLSP_K_SESSION_TICKETS] = 15,
		[TLSP_K_CIPHERS] = 16,
		[TLSP_K_GROUPS] = 17,
		[TLSP_K_HANDSHAKE_TIMEOUT] = 18,
	};
	for (int k = 0; k < TLSP_K_COUNT; k++)
		CHECK_EQ(s->key_line[k], slines[k]);

	CHECK_STR(c->name, "redis-out");
	CHECK_EQ(c->line, 20);
	CHECK_EQ(c->role, TLSP_ROLE_CLIENT);
	CHECK_EQ(c->nports, 2);
	CHECK_EQ(c->ports[0].lo, 6379);
	CHECK_EQ(c->ports[0].hi, 6379);
	CHECK_EQ(c->ports[1].lo, 7000);
	CHECK_EQ(c->ports[1].hi, 7010);
	CHECK_EQ(c->nhosts, 3);
	if (c->nhosts == 3) {
		static const uint8_t lo6[16] = {[15] = 1};

		CHECK_EQ(c->hosts[0].family, AF_INET);
		CHECK_EQ(c->hosts[0].prefix, 32);
		CHECK_MEM(c->hosts[0].addr, "\x7f\0\0\x01", 4);
		CHECK_EQ(c->hosts[1].family, AF_INET6);
		CHECK_EQ(c->hosts[1].prefix, 128);
		CHECK_MEM(c->hosts[1].addr, lo6, 16);
		CHECK_EQ(c->hosts[2].family, AF_INET);
		CHECK_EQ(c->hosts[2].prefix, 8);
		CHECK_MEM(c->hosts[2].addr, "\x0a\0\0\0", 4);
	}
	CHECK(c->ca_system);
	CHECK_STR(c->ca, NULL);
	CHECK_EQ(c->verify_peer, TLSP_VERIFY_REQUIRE);
	CHECK(!c->plaintext_allow);
	CHECK(!c->session_tickets);
	CHECK_STR(c->server_name, "redis.internal");
	CHECK_STR(c->pin, "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	CHECK_EQ(c->npins, 1);
	for (int i = 0; i < 32; i++)
		CHECK_EQ(c->pins[0][i], i);
	CHECK_STR(c->cert, in_dir("certs/leaf.crt"));
	CHECK_STR(c->key, in_dir("certs/leaf.key")); /* the "//" was tidied */
	CHECK_STR(c->ciphers, "ECDHE-RSA-CHACHA20-POLY1305");
	CHECK_STR(c->groups, "secp384r1");
	CHECK(c->legacy_peers);
	CHECK_EQ(c->key_line[TLSP_K_LEGACY_PEERS], 32);
	CHECK_EQ(c->handshake_timeout, 20); /* from [global] */
	CHECK_EQ(c->key_line[TLSP_K_HANDSHAKE_TIMEOUT], 0);
	CHECK_EQ(c->key_line[TLSP_K_HOSTS], 23);
	CHECK_EQ(c->key_line[TLSP_K_PIN], 27);
	CHECK_EQ(c->key_line[TLSP_K_KEY], 29);
	CHECK_EQ(c->key_line[TLSP_K_GROUPS], 31);
	CHECK_EQ(c->key_line[TLSP_K_PLAINTEXT], 0);
	CHECK_EQ(c->min_version, TLSP_TLS_1_2);
	CHECK_EQ(c->max_version, TLSP_TLS_1_2);
	CHECK_STR(c->alpn, "h2 , http/1.1"); /* as written; the engine checks the names */
	CHECK_EQ(c->key_line[TLSP_K_MIN_VERSION], 33);
	CHECK_EQ(c->key_line[TLSP_K_MAX_VERSION], 34);
	CHECK_EQ(c->key_line[TLSP_K_ALPN], 35);
out:
	tlsp_free(p);
}

static void test_defaults(void)
{
	tlsp_policy *p = load_ok("[in]\nrole = server\nport = 1\ncert = server.crt\n"
				 "key = server.key\n"
				 "[out]\nrole = client\nport = 2\nca = ca.crt\n");

	if (p == NULL)
		return;
	CHECK_EQ(p->log_level, TLSP_LOG_WARN);
	CHECK_EQ(p->log_sink, TLSP_LOG_STDERR);
	CHECK_STR(p->log_file, NULL);
	CHECK_STR(p->keylog, NULL);
	CHECK_EQ(p->handshake_timeout, 10);
	CHECK_EQ(p->global_line, 0);
	CHECK_EQ(p->nrules, 2);
	if (p->nrules == 2) {
		const tlsp_rule *s = &p->rules[0], *c = &p->rules[1];

		CHECK_EQ(s->verify_peer, TLSP_VERIFY_NONE);
		CHECK(!s->plaintext_allow);
		CHECK(s->session_tickets);
		CHECK_STR(s->ca, NULL);
		CHECK(!s->ca_system);
		CHECK_STR(s->ciphers, NULL);
		CHECK_STR(s->groups, NULL);
		CHECK(!s->legacy_peers);
		CHECK_EQ(s->handshake_timeout, 10);
		CHECK_EQ(s->key_line[TLSP_K_VERIFY_PEER], 0);

		CHECK_EQ(c->verify_peer, TLSP_VERIFY_REQUIRE);
		CHECK_EQ(c->nhosts, 0);
		CHECK(!c->session_tickets);
		CHECK_STR(c->cert, NULL);
		CHECK_STR(c->key, NULL);
		CHECK_STR(c->server_name, NULL);
		CHECK_STR(c->pin, NULL);
		CHECK_EQ(c->npins, 0);
		CHECK(!c->legacy_peers);
		CHECK_EQ(c->handshake_timeout, 10);
	}
	tlsp_free(p);

	/* Server, verify_peer = require with ca = system; client authenticated by
	 * a pin alone; client explicitly unauthenticated. */
	p = load_ok("[s]\nrole=server\nport=1\ncert=server.crt\nkey=server.key\n"
		    "verify_peer=require\nca=system\n"
		    "[pinned]\nrole=client\nport=2\n"
		    "pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, "
		    "sha256////////////////////////////////////////////8=\n"
		    "[open]\nrole=client\nport=3\nverify_peer=none\n");
	if (p == NULL)
		return;
	CHECK_EQ(p->nrules, 3);
	if (p->nrules == 3) {
		CHECK_EQ(p->rules[0].verify_peer, TLSP_VERIFY_REQUIRE);
		CHECK(p->rules[0].ca_system);
		CHECK_EQ(p->rules[1].npins, 2);
		CHECK_STR(p->rules[1].pin, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,"
					   "sha256////////////////////////////////////////////8=");
		CHECK_EQ(p->rules[1].pins[0][0], 0);
		CHECK_EQ(p->rules[1].pins[0][31], 0);
		CHECK_EQ(p->rules[1].pins[1][0], 0xff);
		CHECK_EQ(p->rules[1].pins[1][31], 0xff);
		CHECK_EQ(p->rules[1].verify_peer, TLSP_VERIFY_REQUIRE);
		CHECK_EQ(p->rules[2].verify_peer, TLSP_VERIFY_NONE);
	}
	tlsp_free(p);
}

static void test_global_values(void)
{
	static const struct {
		const char *text;
		enum tlsp_log_level level;
		enum tlsp_log_sink sink;
	} cases[] = {
		{"[global]\nlog = error\nlog_file = syslog\n", TLSP_LOG_ERROR, TLSP_LOG_SYSLOG},
		{"[global]\nlog = warn\nlog_file = stderr\n", TLSP_LOG_WARN, TLSP_LOG_STDERR},
		{"[global]\nlog = info\n", TLSP_LOG_INFO, TLSP_LOG_STDERR},
		{"[global]\nlog = debug\nlog_file = /var/log/x.log\n", TLSP_LOG_DEBUG,
		 TLSP_LOG_FILE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tlsp_policy *p = load_ok(cases[i].text);

		if (p == NULL)
			continue;
		CHECK_EQ(p->log_level, cases[i].level);
		CHECK_EQ(p->log_sink, cases[i].sink);
		CHECK_STR(p->log_file, cases[i].sink == TLSP_LOG_FILE ? "/var/log/x.log" : NULL);
		CHECK_EQ(p->nrules, 0);
		tlsp_free(p);
	}

	/* [global] after the rules still sets the rules' default timeout. */
	tlsp_policy *p =
		load_ok("[a]\nrole=client\nport=1\nverify_peer=none\n"
			"[b]\nrole=client\nport=2\nverify_peer=none\nhandshake_timeout=3600\n"
			"[global]\nhandshake_timeout = 1\n");
	if (p != NULL && p->nrules == 2) {
		CHECK_EQ(p->handshake_timeout, 1);
		CHECK_EQ(p->rules[0].handshake_timeout, 1);
		CHECK_EQ(p->rules[1].handshake_timeout, 3600);
		CHECK_EQ(p->global_line, 10);
	}
	CHECK(p != NULL && p->nrules == 2);
	tlsp_free(p);
}

static void test_empty(void)
{
	static const char *const texts[] = {
		"",
		"\n\n",
		"; only a comment\n# another\n",
		"[global]\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		tlsp_policy *p = load_ok(texts[i]);

		if (p != NULL)
			CHECK_EQ(p->nrules, 0);
		CHECK(tlsp_match_server(p, 443) == NULL);
		tlsp_free(p);
	}
}

/* tlsp_load from a file named relatively: messages keep the name as given,
 * paths resolve against the file's directory, not the current one. */
static void test_load_file(void)
{
	char cwd[512], sub[256];
	FILE *fp;
	tlsp_policy *p = NULL;
	tlsp_errors errs = {0};

	snprintf(sub, sizeof(sub), "%s/certs", dir);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK((fp = fopen(vpath, "w")) != NULL);
	if (fp == NULL)
		return;
	fputs("[x]\nrole = server\nport = 443\ncert = certs/leaf.crt\nkey = ./certs/leaf.key\n"
	      "ca = ca.crt\nverify_peer = require\n",
	      fp);
	fclose(fp);

	CHECK_EQ(chdir(sub), 0); /* cwd: dir/certs; the file: ../t.ini */
	CHECK_EQ(tlsp_load("../t.ini", &p, &errs), 0);
	CHECK_EQ(errs.count, 0);
	tlsp_errors_print(stderr, &errs);
	if (p != NULL) {
		snprintf(buf, sizeof(buf), "%s/certs/../t.ini", dir);
		CHECK_STR(p->path, buf);
		snprintf(buf, sizeof(buf), "%s/certs/..", dir);
		CHECK_STR(p->dir, buf);
		CHECK_EQ(p->nrules, 1);
		snprintf(buf, sizeof(buf), "%s/certs/../certs/leaf.crt", dir);
		CHECK_STR(p->rules[0].cert, buf);
		snprintf(buf, sizeof(buf), "%s/certs/../certs/leaf.key", dir);
		CHECK_STR(p->rules[0].key, buf);
		snprintf(buf, sizeof(buf), "%s/certs/../ca.crt", dir);
		CHECK_STR(p->rules[0].ca, buf);
	}
	tlsp_free(p);
	p = NULL;

	/* The same file loaded with an error: "FILE:LINE" uses the name given. */
	CHECK((fp = fopen(vpath, "a")) != NULL);
	if (fp != NULL) {
		fputs("bogus = 1\n", fp);
		fclose(fp);
	}
	CHECK_EQ(tlsp_load("../t.ini", &p, &errs), -1);
	CHECK(p == NULL);
	CHECK_EQ(errs.count, 1);
	CHECK_STR(tlsp_errors_get(&errs, 0), "../t.ini:8: unknown key 'bogus'");
	tlsp_errors_free(&errs);
	CHECK_EQ(chdir(cwd), 0);

	/* A NULL error list is allowed. */
	CHECK_EQ(tlsp_load(vpath, &p, NULL), -1);
	CHECK(p == NULL);
	remove(vpath);
}

/* The INI syntax: comments, indentation, "key: value", CRLF, BOM. */
static void test_syntax(void)
{
	tlsp_policy *p = NULL;
	tlsp_errors errs = {0};

	CHECK_EQ(tlsp_load_string("[a]\nrole=client\nport=1\n  verify_peer = none\n"
				  "  server_name = x ;c\n",
				  vpath, &p, &errs),
		 0);
	tlsp_errors_free(&errs);
	if (p != NULL && p->nrules == 1) {
		/* Indentation does not make a continuation line. */
		CHECK_EQ(p->rules[0].verify_peer, TLSP_VERIFY_NONE);
		CHECK_STR(p->rules[0].server_name, "x");
		CHECK_EQ(p->rules[0].key_line[TLSP_K_SERVER_NAME], 5);
	}
	CHECK(p != NULL && p->nrules == 1);
	tlsp_free(p);

	p = load_ok("\xEF\xBB\xBF[spaced]\r\n"
		    "    role = client\r\n"
		    "    port: 80 ;inline comment\r\n"
		    "\tverify_peer=none\r\n"
		    "ciphers = A:B;C\r\n"
		    "  groups = x25519   \r\n"
		    "[ g2 ] # hash comment\n"
		    "role=client\n"
		    "port=81\n"
		    "verify_peer   :   none\n"
		    "server_name = a=b\n"); /* only the first '=' splits */
	if (p != NULL && p->nrules == 2) {
		CHECK_STR(p->rules[0].name, "spaced");
		CHECK_EQ(p->rules[0].line, 1);
		CHECK_EQ(p->rules[0].nports, 1);
		CHECK_EQ(p->rules[0].ports[0].lo, 80);
		CHECK_EQ(p->rules[0].key_line[TLSP_K_PORT], 3);
		CHECK_STR(p->rules[0].ciphers, "A:B;C");
		CHECK_STR(p->rules[0].groups, "x25519");
		CHECK_EQ(p->rules[0].key_line[TLSP_K_GROUPS], 6);
		CHECK_STR(p->rules[1].name, "g2");
		CHECK_EQ(p->rules[1].line, 7);
		CHECK_EQ(p->rules[1].verify_peer, TLSP_VERIFY_NONE);
		CHECK_STR(p->rules[1].server_name, "a=b");
	}
	CHECK(p != NULL && p->nrules == 2);
	tlsp_free(p);
}

/* Lines around and far beyond inih's fixed line buffer parse the same. */
static void test_long_lines(void)
{
	char text[8192], val[2048];

	for (size_t n = 150; n < 1200; n += (n < 260 ? 1 : 97)) {
		for (size_t i = 0; i < n; i++)
			val[i] = (char)('A' + i % 26);
		val[n] = '\0';
		snprintf(text, sizeof(text),
			 "[r]\nrole=client\nport=1\nverify_peer=none\n"
			 "   ciphers   =   %s   ; trailing comment\n"
			 "groups = %s\n",
			 val, val);
		tlsp_policy *p = load_ok(text);

		if (p != NULL && p->nrules == 1) {
			CHECK_STR(p->rules[0].ciphers, val);
			CHECK_STR(p->rules[0].groups, val);
			CHECK_EQ(p->rules[0].key_line[TLSP_K_CIPHERS], 5);
			CHECK_EQ(p->rules[0].key_line[TLSP_K_GROUPS], 6);
		}
		tlsp_free(p);
	}

	/* 64 hosts and 64 port ranges on one line each. */
	size_t o = 0;

	o += (size_t)snprintf(text + o, sizeof(text) - o,
			      "[r]\nrole=client\nverify_peer=none\n"
			      "hosts = ");
	for (int i = 0; i < 64; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s2001:db8::%x/128",
				      i ? ", " : "", i + 1);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "\nport = ");
	for (int i = 0; i < 64; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%d-%d", i ? "," : "",
				      1000 + 10 * i, 1005 + 10 * i);
	snprintf(text + o, sizeof(text) - o, "\n");

	tlsp_policy *p = load_ok(text);

	if (p != NULL && p->nrules == 1) {
		CHECK_EQ(p->rules[0].nhosts, 64);
		CHECK_EQ(p->rules[0].hosts[63].addr[15], 64);
		CHECK_EQ(p->rules[0].nports, 64);
		CHECK_EQ(p->rules[0].ports[63].lo, 1630);
		CHECK_EQ(p->rules[0].ports[63].hi, 1635);
		CHECK_EQ(p->rules[0].key_line[TLSP_K_PORT], 5);
	}
	tlsp_free(p);
}

static void test_values(void)
{
	tlsp_policy *p = load_ok("[r]\nrole=client\nverify_peer=none\n"
				 "port = 1 , 65535,2- 3, 10 -20,30-30\n"
				 "hosts = 0.0.0.0/0, ::/0, 192.168.1.0/24, 2001:db8::/32,"
				 "::ffff:10.1.2.3, ::ffff:10.0.0.0/104, ::fffe:0:0/95,"
				 "fe80::/64\n"
				 "handshake_timeout = 3600\n");

	if (p == NULL || p->nrules != 1) {
		CHECK(p != NULL && p->nrules == 1);
		tlsp_free(p);
		return;
	}
	const tlsp_rule *r = &p->rules[0];
	static const struct tlsp_port_range ports[] = {
		{1, 1}, {65535, 65535}, {2, 3}, {10, 20}, {30, 30}};

	CHECK_EQ(r->nports, 5);
	for (size_t i = 0; i < 5 && i < r->nports; i++) {
		CHECK_EQ(r->ports[i].lo, ports[i].lo);
		CHECK_EQ(r->ports[i].hi, ports[i].hi);
	}
	CHECK_EQ(r->nhosts, 8);
	if (r->nhosts == 8) {
		CHECK_EQ(r->hosts[0].family, AF_INET);
		CHECK_EQ(r->hosts[0].prefix, 0);
		CHECK_EQ(r->hosts[1].family, AF_INET6);
		CHECK_EQ(r->hosts[1].prefix, 0);
		CHECK_EQ(r->hosts[2].prefix, 24);
		CHECK_MEM(r->hosts[2].addr, "\xc0\xa8\x01\x00", 4);
		CHECK_EQ(r->hosts[3].family, AF_INET6);
		CHECK_EQ(r->hosts[3].prefix, 32);
		CHECK_MEM(r->hosts[3].addr, "\x20\x01\x0d\xb8\0\0", 6);
		/* v4-mapped entries become IPv4 ones */
		CHECK_EQ(r->hosts[4].family, AF_INET);
		CHECK_EQ(r->hosts[4].prefix, 32);
		CHECK_MEM(r->hosts[4].addr, "\x0a\x01\x02\x03", 4);
		CHECK_EQ(r->hosts[5].family, AF_INET);
		CHECK_EQ(r->hosts[5].prefix, 8);
		CHECK_MEM(r->hosts[5].addr, "\x0a\0\0\0", 4);
		/* ... unless the prefix reaches into the ::ffff part */
		CHECK_EQ(r->hosts[6].family, AF_INET6);
		CHECK_EQ(r->hosts[6].prefix, 95);
		CHECK_EQ(r->hosts[7].prefix, 64);
	}
	CHECK_EQ(r->handshake_timeout, 3600);
	tlsp_free(p);
}

/* print_to_string: tlsp_print's output. */
static char *print_to_string(const tlsp_policy *p)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (fp == NULL)
		return NULL;
	tlsp_print(fp, p);
	fclose(fp);
	return out;
}

static void note_name(const tlsp_rule *r, void *arg, char *out, size_t len)
{
	(void)arg;
	snprintf(out, len, " note=%s", r->name);
}

static void test_print(void)
{
	char text[4096], want[8192];
	tlsp_policy *p;
	char *got;

	snprintf(text, sizeof(text), sample, dir + 1);
	if ((p = load_ok(text)) == NULL)
		return;
	got = print_to_string(p);
	snprintf(want, sizeof(want),
		 "global: log=info log_file=%s/logs/tlshim.log keylog=%s/keys.txt "
		 "handshake_timeout=20\n"
		 "redis-in: role=server port=6379 cert=%s/server.crt key=%s/server.key "
		 "ca=%s/ca.crt verify_peer=optional plaintext=allow session_tickets=no "
		 "ciphers=ECDHE-ECDSA-AES128-GCM-SHA256:AES128-GCM-SHA256 groups=x25519:secp256r1 "
		 "min_version=1.2 max_version=1.3 alpn=- legacy_peers=no handshake_timeout=5\n"
		 "redis-out: role=client port=6379,7000-7010 hosts=127.0.0.1,::1,10.0.0.0/8 "
		 "cert=%s/certs/leaf.crt key=%s/certs/leaf.key ca=system verify_peer=require "
		 "server_name=redis.internal "
		 "pin=sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= "
		 "ciphers=ECDHE-RSA-CHACHA20-POLY1305 groups=secp384r1 min_version=1.2 "
		 "max_version=1.2 alpn=h2,http/1.1 legacy_peers=yes handshake_timeout=20\n",
		 dir, dir, dir, dir, dir, dir, dir);
	CHECK_STR(got, want);
	free(got);
	tlsp_free(p);

	/* Defaults filled in; the example line of the brief. */
	p = load_ok("[redis-in]\nrole = server\nport = 6379\ncert = server.crt\n"
		    "key = server.key\n"
		    "[out]\nrole = client\nport = 1-2\nca = ca.crt\n"
		    "hosts = ::ffff:10.0.0.0/104, 2001:db8::1\n"
		    "[open]\nrole = client\nport = 3\nverify_peer = none\n"
		    "[g]\nrole=server\nport=4\ncert=server.crt\nkey=server.key\n");
	if (p == NULL)
		return;
	got = print_to_string(p);
	snprintf(want, sizeof(want),
		 "global: log=warn log_file=stderr keylog=- handshake_timeout=10\n"
		 "redis-in: role=server port=6379 cert=%s/server.crt key=%s/server.key ca=- "
		 "verify_peer=none plaintext=reject session_tickets=yes ciphers=default "
		 "groups=default min_version=1.2 max_version=1.3 alpn=- legacy_peers=no "
		 "handshake_timeout=10\n"
		 "out: role=client port=1-2 hosts=10.0.0.0/8,2001:db8::1 cert=- key=- ca=%s/ca.crt "
		 "verify_peer=require server_name=- pin=- ciphers=default groups=default "
		 "min_version=1.2 max_version=1.3 alpn=- legacy_peers=no handshake_timeout=10\n"
		 "open: role=client port=3 hosts=any cert=- key=- ca=- verify_peer=none "
		 "server_name=- pin=- ciphers=default groups=default min_version=1.2 "
		 "max_version=1.3 alpn=- legacy_peers=no handshake_timeout=10\n"
		 "g: role=server port=4 cert=%s/server.crt key=%s/server.key ca=- "
		 "verify_peer=none plaintext=reject session_tickets=yes ciphers=default "
		 "groups=default min_version=1.2 max_version=1.3 alpn=- legacy_peers=no "
		 "handshake_timeout=10\n",
		 dir, dir, dir, dir, dir);
	CHECK_STR(got, want);
	free(got);
	tlsp_free(p);

	/* tlsp_print_noted: the caller's facts end each rule's line. */
	p = load_ok("[a]\nrole=client\nport=1\nverify_peer=none\nmin_version=1.3\n"
		    "[b]\nrole=client\nport=2\nverify_peer=none\n");
	char *noted = NULL;
	size_t nlen = 0;
	FILE *fp = open_memstream(&noted, &nlen);
	if (p != NULL && fp != NULL) {
		tlsp_print_noted(fp, p, note_name, NULL);
		fclose(fp);
		CHECK_STR(noted,
			  "global: log=warn log_file=stderr keylog=- handshake_timeout=10\n"
			  "a: role=client port=1 hosts=any cert=- key=- ca=- verify_peer=none "
			  "server_name=- pin=- ciphers=default groups=default min_version=1.3 "
			  "max_version=1.3 alpn=- legacy_peers=no handshake_timeout=10 note=a\n"
			  "b: role=client port=2 hosts=any cert=- key=- ca=- verify_peer=none "
			  "server_name=- pin=- ciphers=default groups=default min_version=1.2 "
			  "max_version=1.3 alpn=- legacy_peers=no handshake_timeout=10 note=b\n");
	}
	free(noted);
	tlsp_free(p);

	p = load_ok("[global]\nlog=debug\nlog_file=syslog\n");
	got = print_to_string(p);
	CHECK_STR(got, "global: log=debug log_file=syslog keylog=- handshake_timeout=10\n");
	free(got);
	tlsp_free(p);
}

static void test_misc(void)
{
	CHECK_STR(tlsp_key_name(TLSP_K_HANDSHAKE_TIMEOUT), "handshake_timeout");
	CHECK_STR(tlsp_key_name(TLSP_K_SESSION_TICKETS), "session_tickets");
	CHECK_STR(tlsp_key_name(TLSP_K_LEGACY_PEERS), "legacy_peers");
	CHECK_STR(tlsp_key_name(TLSP_K_MIN_VERSION), "min_version");
	CHECK_STR(tlsp_key_name(TLSP_K_MAX_VERSION), "max_version");
	CHECK_STR(tlsp_key_name(TLSP_K_ALPN), "alpn");
	tlsp_free(NULL);

	tlsp_errors errs;

	tlsp_errors_init(&errs);
	CHECK_EQ(errs.count, 0);
	CHECK(tlsp_errors_get(&errs, 0) == NULL);
	tlsp_errors_free(&errs);
	tlsp_errors_free(&errs);

	/* A relative virtual path is taken against the current directory. */
	char cwd[512];
	tlsp_policy *p = NULL;

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_EQ(chdir(dir), 0);
	CHECK_EQ(tlsp_load_string("[a]\nrole=server\nport=1\ncert=server.crt\nkey=./server.key\n",
				  "t.ini", &p, &errs),
		 0);
	CHECK_EQ(errs.count, 0);
	CHECK_EQ(chdir(cwd), 0);
	if (p != NULL) {
		CHECK_STR(p->path, vpath);
		CHECK_STR(p->rules[0].key, in_dir("server.key"));
	}
	CHECK(p != NULL);
	tlsp_free(p);
	tlsp_errors_free(&errs);
}

int main(void)
{
	setup();
	test_every_key();
	test_defaults();
	test_global_values();
	test_empty();
	test_load_file();
	test_syntax();
	test_long_lines();
	test_values();
	test_print();
	test_misc();
	teardown();
	return check_exit("unit/policy");
}
