/*
 * tlsdrv: drives the sans-I/O engine (core/tls.h) over a real loopback TCP
 * socket so that stock TLS tools (openssl s_server/s_client, gnutls-serv/
 * gnutls-cli) can be its peers. Usage: see usage() below.
 *
 * Data is a deterministic pattern (byte i = (i*31 + (i>>8)) & 0xff; with
 * --text printable 64-byte lines instead, for gnutls-serv's line echo), so
 * `tlsdrv pattern N` produces what the stock peer should send and
 * `tlsdrv check N` verifies what it received, byte for byte.
 *
 * Exit: 0 when everything expected happened, 1 on a TLS failure or any
 * mismatch (0 if --expect-fail named that failure), 2 on bad usage or setup.
 * A watchdog alarm (--timeout, default 25 s) ends a hung run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session.h" /* tls_session_unref */
#include "tls.h"

/* The command line. Options with a value land in the strings; the flags are
 * ints because getopt_long sets them itself. */
static struct opts {
	const char *connect, *port, *name, *ca, *pin, *cert, *key, *ciphers, *groups, *verify,
		*send, *expect, *accept, *timeout, *expect_suite, *expect_group, *expect_fail,
		*alpn, *expect_alpn;
	int no_verify, resume, expect_resumed, text, legacy_peers;
	bool server;
	size_t send_n, expect_n;
} opt;

/* long_opts[i] for i < 19 stores its value in *str_dst[i] (same order). */
static const char **const str_dst[] = {
	&opt.connect,      &opt.port,        &opt.name,    &opt.ca,          &opt.pin,
	&opt.cert,         &opt.key,         &opt.ciphers, &opt.groups,      &opt.verify,
	&opt.send,         &opt.expect,      &opt.accept,  &opt.timeout,     &opt.expect_suite,
	&opt.expect_group, &opt.expect_fail, &opt.alpn,    &opt.expect_alpn,
};
static const struct option long_opts[] = {
	{"connect", 1, NULL, 'v'},
	{"port", 1, NULL, 'v'},
	{"name", 1, NULL, 'v'},
	{"ca", 1, NULL, 'v'},
	{"pin", 1, NULL, 'v'},
	{"cert", 1, NULL, 'v'},
	{"key", 1, NULL, 'v'},
	{"ciphers", 1, NULL, 'v'},
	{"groups", 1, NULL, 'v'},
	{"verify", 1, NULL, 'v'},
	{"send", 1, NULL, 'v'},
	{"expect", 1, NULL, 'v'},
	{"accept", 1, NULL, 'v'},
	{"timeout", 1, NULL, 'v'},
	{"expect-suite", 1, NULL, 'v'},
	{"expect-group", 1, NULL, 'v'},
	{"expect-fail", 1, NULL, 'v'},
	{"alpn", 1, NULL, 'v'},
	{"expect-alpn", 1, NULL, 'v'},
	{"no-verify", 0, &opt.no_verify, 1},
	{"resume", 0, &opt.resume, 1},
	{"expect-resumed", 0, &opt.expect_resumed, 1},
	{"text", 0, &opt.text, 1},
	{"legacy-peers", 0, &opt.legacy_peers, 1},
	{NULL, 0, NULL, 0},
};

static const char *role = "tlsdrv";

static uint8_t pat(size_t i)
{
	size_t v = i * 31 + (i >> 8);

	if (opt.text) /* printable lines, for line-based echo peers */
		return i % 64 == 63 ? '\n' : (uint8_t)('!' + v % 94);
	return (uint8_t)(v & 0xff);
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", role, what);
	exit(2);
}

/* fail(fmt, ...): print a problem; returns 1 (for `bad |= fail(...)`). */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static void usage(void)
{
	fputs("usage: tlsdrv client --connect HOST:PORT [--name SNI] [--ca F | --pin SPEC]\n"
	      "         [--no-verify] [--cert F --key F] [--resume] COMMON\n"
	      "       tlsdrv server --port P (0: any; prints PORT n) [--cert F --key F]\n"
	      "         [--ca F --verify none|optional|require] [--accept K] [--expect-resumed]\n"
	      "         COMMON\n"
	      "  COMMON: [--ciphers L] [--groups L] [--send N] [--expect N] [--text]\n"
	      "          [--expect-suite S] [--expect-group G] [--expect-fail CLASS[:alert]]\n"
	      "          [--timeout S] [--legacy-peers]  (CLASS: AUTH ALERT PROTOCOL ...)\n"
	      "          [--alpn P1,P2] [--expect-alpn P|-]  (-: none agreed)\n"
	      "       tlsdrv pattern N [--text]  (write N pattern bytes to stdout)\n"
	      "       tlsdrv check N [--text]    (stdin must be exactly N pattern bytes)\n",
	      stderr);
	exit(2);
}

/* pattern_io(check, n): the `pattern` and `check` modes. */
static int pattern_io(bool check, size_t n)
{
	uint8_t buf[65536];
	size_t off = 0, got;

	while (!check && off < n) {
		size_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pat(off + i);
		if (fwrite(buf, 1, k, stdout) != k)
			return 1;
		off += k;
	}
	while (check && (got = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		for (size_t i = 0; i < got; i++) {
			if (off + i >= n || buf[i] != pat(off + i)) {
				fprintf(stderr, "check: mismatch at byte %zu\n", off + i);
				return 1;
			}
		}
		off += got;
	}
	if (check && off != n) {
		fprintf(stderr, "check: got %zu bytes, expected %zu\n", off, n);
		return 1;
	}
	return fflush(stdout) != 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read %s\n", role, path);
		exit(2);
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

typedef int (*pem_setter)(tls_config *, const char *, size_t, char *, size_t);

static void set_file(tls_config *cfg, pem_setter set, const char *path)
{
	char err[256] = "", *pem;
	size_t len;

	if (path == NULL)
		return;
	pem = slurp(path, &len);
	if (set(cfg, pem, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", role, path, err);
		exit(2);
	}
	explicit_bzero(pem, len); /* may be a private key */
	free(pem);
}

static const char *const verify_names[] = {"none", "optional", "require"}; /* enum order */

static tls_config *make_config(const struct opts *o)
{
	tls_config *cfg = tls_config_new(o->server ? TLS_ROLE_SERVER : TLS_ROLE_CLIENT);
	char err[256] = "";

	if (cfg == NULL)
		die("tls_config_new failed");
	set_file(cfg, tls_config_set_chain_pem, o->cert);
	set_file(cfg, tls_config_set_key_pem, o->key);
	set_file(cfg, tls_config_set_ca_pem, o->ca);
	if ((o->pin && tls_config_set_pins(cfg, o->pin, err, sizeof(err)) != 0) ||
	    (o->ciphers && tls_config_set_ciphers(cfg, o->ciphers, err, sizeof(err)) != 0) ||
	    (o->groups && tls_config_set_groups(cfg, o->groups, err, sizeof(err)) != 0) ||
	    (o->alpn && tls_config_set_alpn(cfg, o->alpn, err, sizeof(err)) != 0))
		die(err);
	if (o->no_verify)
		tls_config_set_verify(cfg, TLS_VERIFY_NONE);
	tls_config_set_legacy_peers(cfg, o->legacy_peers);
	if (o->verify != NULL) {
		int v = TLS_VERIFY_NONE;
		while (v <= TLS_VERIFY_REQUIRE && strcmp(o->verify, verify_names[v]) != 0)
			v++;
		if (v > TLS_VERIFY_REQUIRE)
			usage();
		tls_config_set_verify(cfg, (enum tls_verify)v);
	}
	if (tls_config_check(cfg, err, sizeof(err)) != 0)
		die(err);
	return cfg;
}

static const char *const err_names[] = {"NONE",        "AUTH",      "ALERT",   "PROTOCOL",
					"NEGOTIATION", "TRUNCATED", "INTERNAL"};

/* report_failure(c, o): print why ${c} failed; 0 if it is what --expect-fail
 * asked for ("CLASS" or "CLASS:alert_name"). */
static int report_failure(tls_conn *c, const struct opts *o)
{
	uint8_t alert = 0;
	bool from_peer = false;
	const char *reason = NULL;
	enum tls_err e = tls_conn_error(c, &alert, &from_peer, &reason);
	const char *cls = (unsigned)e < 7 ? err_names[e] : "?";
	char got[96];

	snprintf(got, sizeof(got), "%s:%s", cls, tls_alert_name(alert));
	fprintf(stderr, "%s: failed: class=%s alert=%s (%s) reason=\"%s\"\n", role, cls,
		tls_alert_name(alert), from_peer ? "from peer" : "sent", reason ? reason : "");
	if (o->expect_fail != NULL &&
	    (strcmp(o->expect_fail, cls) == 0 || strcmp(o->expect_fail, got) == 0)) {
		fprintf(stderr, "%s: expected failure %s happened\n", role, o->expect_fail);
		return 0;
	}
	return 1;
}

/* show_info(c, o, idx): print the negotiated facts; 0 when they are what the
 * options asked for. ${idx} counts connections (resumption checks). */
static int show_info(tls_conn *c, const struct opts *o, int idx)
{
	tls_info in;
	int bad = 0;

	if (tls_conn_info(c, &in) != 0)
		return fail("tls_conn_info failed after the handshake");
	fprintf(stderr,
		"%s: established version=%s suite=%s group=%s sigscheme=0x%04x resumed=%s "
		"ems=%s secure_reneg=%s peer_verified=%s sni=\"%s\" peer=\"%s\" alpn=%s\n",
		role, in.version == 0x0303 ? "TLSv1.2" : "unexpected", in.suite_name,
		in.group ? in.group_name : "none", in.sigscheme, in.resumed ? "yes" : "no",
		in.ems ? "yes" : "no", in.secure_reneg ? "yes" : "no",
		in.peer_verified ? "yes" : "no", in.server_name ? in.server_name : "",
		in.peer_subject ? in.peer_subject : "", in.alpn[0] ? in.alpn : "-");
	bad |= in.version != 0x0303;
	if (o->expect_alpn && strcmp(o->expect_alpn, in.alpn[0] ? in.alpn : "-") != 0)
		bad |= fail("ALPN is not %s", o->expect_alpn);
	if (o->expect_suite && strcmp(o->expect_suite, in.suite_name) != 0)
		bad |= fail("suite is not %s", o->expect_suite);
	/* A resumed handshake has no key exchange, hence no group. */
	if (o->expect_group && !in.resumed &&
	    (in.group == 0 || strcmp(o->expect_group, in.group_name) != 0))
		bad |= fail("group is not %s", o->expect_group);
	if ((o->resume || o->expect_resumed) && in.resumed != (idx > 0))
		bad |= fail("connection %d %s resumed", idx + 1,
			    idx > 0 ? "was not" : "was unexpectedly");
	return bad;
}

/* check_data(buf, n, got, o): 0 when ${buf} continues the pattern at offset
 * ${got} without going past --expect. */
static int check_data(const uint8_t *buf, size_t n, size_t got, const struct opts *o)
{
	for (size_t i = 0; i < n; i++)
		if (got + i >= o->expect_n || buf[i] != pat(got + i))
			return fail("data mismatch at byte %zu (expected %zu bytes)", got + i,
				    o->expect_n);
	return 0;
}

/* pump(fd, c, o, idx): run one connection to the end: handshake, data both
 * ways at once (an echoing peer must never block us), close_notify both
 * ways. Returns 0 when everything expected happened. */
static int pump(int fd, tls_conn *c, const struct opts *o, int idx)
{
	uint8_t buf[16384];
	size_t sent = 0, got = 0, len = 0, room = 0, n;
	bool shown = false, closed = false, eof = false, dead = false;
	int bad = 0, mism = 0, linger = 2000;

	for (;;) {
		unsigned st = tls_conn_state(c);

		if ((st & TLS_ST_ESTABLISHED) && !shown) {
			shown = true;
			bad |= show_info(c, o, idx);
		}
		while ((n = tls_conn_read(c, buf, sizeof(buf))) > 0) {
			mism = mism || check_data(buf, n, got, o);
			got += n;
		}
		while ((st & TLS_ST_ESTABLISHED) && !closed && sent < o->send_n) {
			n = o->send_n - sent < sizeof(buf) ? o->send_n - sent : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = pat(sent + i);
			if ((n = tls_conn_write(c, buf, n)) == 0)
				break;
			sent += n;
		}
		st = tls_conn_state(c);
		if ((st & TLS_ST_ESTABLISHED) && !closed && sent == o->send_n &&
		    (got >= o->expect_n || mism || (st & TLS_ST_PEER_CLOSED))) {
			tls_conn_close(c);
			closed = true;
		}
		const uint8_t *out = dead ? NULL : tls_conn_sendbuf(c, &len);
		bool want_out = out != NULL && len > 0;
		if (!want_out && (st & TLS_ST_FAILED))
			return report_failure(c, o) | bad | mism;
		if (!want_out && closed && (eof || (st & TLS_ST_PEER_CLOSED) || linger == 0))
			break;
		uint8_t *in = eof ? NULL : tls_conn_recvbuf(c, &room);
		struct pollfd p = {fd, (short)((in ? POLLIN : 0) | (want_out ? POLLOUT : 0)), 0};
		if (p.events == 0)
			return fail("stalled: nothing to send and no input possible") | bad;
		int r = poll(&p, 1, closed && !want_out ? linger : -1);
		if (r < 0 && errno != EINTR)
			die("poll failed");
		if (r == 0) /* no close_notify from the peer in time: fine for us */
			linger = 0;
		if (r <= 0)
			continue;
		if (p.revents & (POLLOUT | POLLERR)) {
			ssize_t k = want_out ? send(fd, out, len, MSG_NOSIGNAL) : -1;
			if (k > 0)
				tls_conn_send_done(c, (size_t)k);
			else if (want_out && errno != EINTR && errno != EAGAIN)
				dead = true; /* reset: what we still hold is lost */
		}
		if (in != NULL && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t k = recv(fd, in, room, 0);
			if (k > 0) {
				tls_conn_recv_done(c, (size_t)k);
			} else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
				eof = true;
				/* After our close with all data in, a bare FIN
				 * truncates nothing we wanted; say so, go on. */
				if (closed && got >= o->expect_n)
					fail("note: peer closed without close_notify");
				else
					tls_conn_eof(c);
			}
		}
	}
	if (got != o->expect_n || sent != o->send_n)
		bad |= fail("sent %zu of %zu, received %zu of %zu bytes", sent, o->send_n, got,
			    o->expect_n);
	if (o->expect_fail)
		bad |= fail("expected failure %s did not happen", o->expect_fail);
	if (!bad && !mism)
		fprintf(stderr, "%s: data ok: sent %zu, received %zu matching bytes\n", role, sent,
			got);
	return bad | mism;
}

static int run_client(const struct opts *o, tls_config *cfg)
{
	tls_session *sess = NULL;
	int bad = 0;

	for (int idx = 0; idx < (o->resume ? 2 : 1) && !bad; idx++) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char ip[INET6_ADDRSTRLEN] = "";
		int fd = -1;

		if (getaddrinfo(o->connect, o->port, &hints, &ai) != 0)
			die("cannot resolve --connect");
		for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
			fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
			if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
				close(fd);
				fd = -1;
			}
		}
		freeaddrinfo(ai);
		if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
			die("cannot connect");
		if (peer.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, ip,
				  sizeof(ip));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, ip,
				  sizeof(ip));
		tls_conn *c = tls_conn_new(cfg, o->name, ip);
		if (c == NULL)
			die("tls_conn_new failed");
		if (sess != NULL)
			tls_conn_set_session(c, sess);
		bad |= pump(fd, c, o, idx);
		if (o->resume && idx == 0 && (sess = tls_conn_get_session(c)) == NULL)
			bad |= fail("no resumable session");
		tls_conn_free(c);
		close(fd);
	}
	tls_session_unref(sess);
	return bad;
}

static int run_server(const struct opts *o, tls_config *cfg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t slen = sizeof(sa);
	int one = 1, bad = 0, lfd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)atoi(o->port));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &slen) != 0)
		die("cannot listen on 127.0.0.1");
	/* Scripts read the bound port (useful with --port 0). */
	printf("PORT %u\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (int idx = 0; idx < (o->accept ? atoi(o->accept) : 1); idx++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			die("accept failed");
		tls_conn *c = tls_conn_new(cfg, NULL, NULL);
		if (c == NULL)
			die("tls_conn_new failed");
		bad |= pump(fd, c, o, idx);
		tls_conn_free(c);
		close(fd);
	}
	close(lfd);
	return bad;
}

int main(int argc, char **argv)
{
	tls_config *cfg;
	char *colon = NULL;
	int ch, idx, rc;

	optind = 2; /* argv[1] is the mode */
	while (argc > 1 && (ch = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		if (ch == '?')
			usage();
		if (ch == 'v')
			*str_dst[idx] = optarg;
	}
	if (argc > 1 && (strcmp(argv[1], "pattern") == 0 || strcmp(argv[1], "check") == 0)) {
		if (optind != argc - 1)
			usage();
		return pattern_io(argv[1][0] == 'c', strtoull(argv[optind], NULL, 0));
	}
	opt.server = argc > 1 && strcmp(argv[1], "server") == 0;
	if (argc < 2 || (!opt.server && strcmp(argv[1], "client") != 0) || optind != argc)
		usage();
	if (!opt.server && (opt.connect == NULL || (colon = strrchr(opt.connect, ':')) == NULL))
		usage();
	if (colon != NULL) { /* "HOST:PORT" -> host and port (argv is ours to edit) */
		*colon = '\0';
		opt.port = colon + 1;
	}
	if (opt.port == NULL)
		usage();
	opt.send_n = opt.send ? strtoull(opt.send, NULL, 0) : 0;
	opt.expect_n = opt.expect ? strtoull(opt.expect, NULL, 0) : 0;
	role = opt.server ? "tlsdrv-server" : "tlsdrv-client";
	signal(SIGPIPE, SIG_IGN);
	alarm(opt.timeout ? (unsigned)atoi(opt.timeout) : 25); /* watchdog for hung peers */
	cfg = make_config(&opt);
	rc = opt.server ? run_server(&opt, cfg) : run_client(&opt, cfg);
	tls_config_unref(cfg);
	fprintf(stderr, "%s: %s\n", role, rc ? "FAILED" : "ok");
	return rc ? 1 : 0;
}
