#include "which.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "rules.h"

#define DEFAULT_POLICY "/etc/tlshim/tlshim.ini"
#define MAX_ADDRS      16

/* Policy text for explanations, built the way tlsp_print writes it. */
static void ports_text(const tlsp_rule *r, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->nports && o < len; i++) {
		const struct tlsp_port_range *pr = &r->ports[i];
		int n = pr->lo == pr->hi ? snprintf(out + o, len - o, "%s%u", i ? "," : "", pr->lo)
					 : snprintf(out + o, len - o, "%s%u-%u", i ? "," : "",
						    pr->lo, pr->hi);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void host_text(const struct tlsp_host *h, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(h->family, h->addr, a, sizeof a);
	unsigned full = h->family == AF_INET ? 32 : 128;
	if (h->prefix == full)
		snprintf(out, len, "%s", a);
	else
		snprintf(out, len, "%s/%u", a, h->prefix);
}

static void hosts_text(const tlsp_rule *r, char *out, size_t len)
{
	size_t o = 0;
	snprintf(out, len, "any");
	for (size_t i = 0; i < r->nhosts && o + 1 < len; i++) {
		char h[INET6_ADDRSTRLEN + 8];
		host_text(&r->hosts[i], h, sizeof h);
		int n = snprintf(out + o, len - o, "%s%s", i ? "," : "", h);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static bool port_in(const tlsp_rule *r, unsigned port)
{
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

/* tlsp_match_client on a policy of the one rule ${r}: does it alone match? */
static bool matches_alone(const tlsp_policy *p, const tlsp_rule *r, const struct sockaddr *sa,
			  socklen_t len)
{
	tlsp_policy one = *p;
	one.rules = (tlsp_rule *)r;
	one.nrules = 1;
	return tlsp_match_client(&one, sa, len) != NULL;
}

/* The hosts entry of ${r} that contains the destination, as text. */
static void matching_host(const tlsp_policy *p, const tlsp_rule *r, const struct sockaddr *sa,
			  socklen_t len, char *out, size_t outlen)
{
	static tlsp_rule one; /* large; the wrapper is single-threaded */
	snprintf(out, outlen, "?");
	for (size_t i = 0; i < r->nhosts; i++) {
		one = *r;
		one.nhosts = 1;
		one.hosts[0] = r->hosts[i];
		if (matches_alone(p, &one, sa, len)) {
			host_text(&r->hosts[i], out, outlen);
			return;
		}
	}
}

/* The effective settings of ${r} (tlsp_print's line without the name). */
static void print_settings(const tlsp_policy *p, const tlsp_rule *r)
{
	tlsp_policy one = *p;
	one.rules = (tlsp_rule *)r;
	one.nrules = 1;
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	if (!m)
		return;
	tlsp_print_noted(m, &one, shim_rules_note, NULL);
	fclose(m);
	/* Line 1 is [global]; line 2 is "NAME: key=value ...". */
	char *line = text ? strchr(text, '\n') : NULL;
	if (line) {
		line++;
		size_t skip = strlen(r->name) + 2;
		if (strncmp(line, r->name, skip - 2) == 0 && strlen(line) >= skip)
			line += skip;
		printf("  settings: %s", line);
		if (line[0] && line[strlen(line) - 1] != '\n')
			putchar('\n');
	}
	free(text);
}

/* ---- HOST:PORT -------------------------------------------------------- */

static int explain_client(const tlsp_policy *p, const char *host, bool numeric,
			  const struct sockaddr *sa, socklen_t len, unsigned port)
{
	char addr[INET6_ADDRSTRLEN] = "?", ports[512], hosts[2048], h[64];
	const void *raw = sa->sa_family == AF_INET
				  ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
				  : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	inet_ntop(sa->sa_family, raw, addr, sizeof addr);
	bool v6 = sa->sa_family == AF_INET6;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	if (numeric)
		printf("%s%s%s:%u", lb, addr, rb, port);
	else
		printf("%s:%u (%s%s%s:%u)", host, port, lb, addr, rb, port);

	const tlsp_rule *m = tlsp_match_client(p, sa, len);
	if (m) {
		ports_text(m, ports, sizeof ports);
		if (m->nhosts == 0)
			snprintf(hosts, sizeof hosts, "hosts any");
		else {
			matching_host(p, m, sa, len, h, sizeof h);
			snprintf(hosts, sizeof hosts, "%s in hosts", addr);
			if (strcmp(h, addr) != 0)
				snprintf(hosts + strlen(hosts), sizeof hosts - strlen(hosts),
					 " (%s)", h);
		}
		printf(": rule %s (line %u): role client, port %u in %s, %s\n", m->name, m->line,
		       port, ports, hosts);
		printf("  TLS as a client on connect(); ");
		if (m->server_name)
			printf("the server's certificate must carry the name %s (also sent as "
			       "SNI)%s\n",
			       m->server_name,
			       !numeric && strcmp(m->server_name, host) != 0 ? ", not the name "
									       "given here"
									     : "");
		else
			printf("no server_name: the server's certificate must carry the IP "
			       "address %s%s\n",
			       addr, numeric ? "" : " (the name given here is not checked)");
		print_settings(p, m);
		for (const tlsp_rule *r = m + 1; r < p->rules + p->nrules; r++)
			if (r->role == TLSP_ROLE_CLIENT && matches_alone(p, r, sa, len))
				printf("  also matches, but the first match wins: rule %s (line "
				       "%u)\n",
				       r->name, r->line);
		return 0;
	}

	printf(": no rule matches: the connection stays plain TCP (tlshim does not touch "
	       "it)\n");
	bool near = false;
	for (size_t i = 0; i < p->nrules; i++) {
		const tlsp_rule *r = &p->rules[i];
		if (r->role != TLSP_ROLE_CLIENT || !port_in(r, port))
			continue;
		hosts_text(r, hosts, sizeof hosts);
		ports_text(r, ports, sizeof ports);
		printf("  near miss: rule %s (line %u): port %u in %s, but %s is not in hosts "
		       "%s\n",
		       r->name, r->line, port, ports, addr, hosts);
		near = true;
	}
	for (size_t i = 0; !near && i < p->nrules; i++) {
		const tlsp_rule *r = &p->rules[i];
		if (r->role != TLSP_ROLE_CLIENT)
			continue;
		/* Would it match on one of its own ports? Then only the port differs. */
		struct sockaddr_storage alt;
		memcpy(&alt, sa, len);
		uint16_t other = htons(r->ports[0].lo);
		if (sa->sa_family == AF_INET)
			((struct sockaddr_in *)&alt)->sin_port = other;
		else
			((struct sockaddr_in6 *)&alt)->sin6_port = other;
		if (!matches_alone(p, r, (struct sockaddr *)&alt, len))
			continue;
		ports_text(r, ports, sizeof ports);
		printf("  near miss: rule %s (line %u): port %u not in %s\n", r->name, r->line,
		       port, ports);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const tlsp_rule *r = &p->rules[i];
		if (r->role == TLSP_ROLE_SERVER && port_in(r, port))
			printf("  note: rule %s (line %u) is a server rule for port %u: it covers "
			       "connections accepted on local port %u, not connect() to it "
			       "(see --which server:%u)\n",
			       r->name, r->line, port, port, port);
	}
	return 1;
}

/* ---- server:PORT ------------------------------------------------------ */

static int explain_server(const tlsp_policy *p, unsigned port)
{
	char ports[512];
	const tlsp_rule *m = tlsp_match_server(p, (uint16_t)port);
	printf("server:%u", port);
	if (m) {
		ports_text(m, ports, sizeof ports);
		printf(": rule %s (line %u): role server, port %u in %s\n", m->name, m->line, port,
		       ports);
		printf("  TLS as a server on every connection accepted on local port %u; client "
		       "certificates: %s\n",
		       port,
		       m->verify_peer == TLSP_VERIFY_REQUIRE ? "required (verify_peer = require)"
		       : m->verify_peer == TLSP_VERIFY_OPTIONAL
			       ? "verified when sent "
				 "(verify_peer = optional)"
			       : "not asked for (verify_peer = none)");
		if (m->plaintext_allow)
			printf("  plaintext = allow: a peer that does not start TLS is served in "
			       "clear\n");
		print_settings(p, m);
		for (const tlsp_rule *r = m + 1; r < p->rules + p->nrules; r++)
			if (r->role == TLSP_ROLE_SERVER && port_in(r, port))
				printf("  also matches, but the first match wins: rule %s (line "
				       "%u)\n",
				       r->name, r->line);
		return 0;
	}
	printf(": no server rule matches: connections accepted on local port %u stay plain "
	       "TCP\n",
	       port);
	for (size_t i = 0; i < p->nrules; i++) {
		const tlsp_rule *r = &p->rules[i];
		ports_text(r, ports, sizeof ports);
		if (r->role == TLSP_ROLE_CLIENT && port_in(r, port))
			printf("  note: rule %s (line %u) is a client rule for port %u: it covers "
			       "connect() to port %u, not connections accepted on it\n",
			       r->name, r->line, port, port);
		else if (r->role == TLSP_ROLE_SERVER)
			printf("  near miss: rule %s (line %u): role server, port %u not in %s\n",
			       r->name, r->line, port, ports);
	}
	return 1;
}

/* ---- the spec --------------------------------------------------------- */

static bool parse_port(const char *s, unsigned *port)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (v < 1 || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

/* "host:port", "[v6]:port" or "v6:port" (unbracketed when unambiguous:
 * what precedes the last ':' is an IPv6 address). */
static bool split(const char *spec, char *host, size_t hostlen, unsigned *port)
{
	const char *colon;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return false;
		if ((size_t)(close - spec - 1) >= hostlen)
			return false;
		snprintf(host, hostlen, "%.*s", (int)(close - spec - 1), spec + 1);
		return host[0] && parse_port(close + 2, port);
	}
	colon = strrchr(spec, ':');
	if (!colon || colon == spec || (size_t)(colon - spec) >= hostlen)
		return false;
	snprintf(host, hostlen, "%.*s", (int)(colon - spec), spec);
	if (strchr(host, ':')) {
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
	}
	return parse_port(colon + 1, port);
}

static int explain_host(const tlsp_policy *p, const char *spec, const char *host, unsigned port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *res = NULL;
	bool numeric = getaddrinfo(host, NULL, &hints, &res) == 0;
	if (!numeric) {
		hints.ai_flags = 0;
		int e = getaddrinfo(host, NULL, &hints, &res);
		if (e != 0) {
			fprintf(stderr, "tlshim: --which %s: cannot resolve %s: %s\n", spec, host,
				gai_strerror(e));
			return 2;
		}
	}
	/* Every distinct address, as connect() would be given it. */
	struct sockaddr_storage seen[MAX_ADDRS];
	socklen_t seen_len[MAX_ADDRS];
	size_t n = 0;
	for (struct addrinfo *ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof seen[0])
			continue;
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = seen_len[i] == ai->ai_addrlen &&
			      memcmp(&seen[i], ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup)
			continue;
		memcpy(&seen[n], ai->ai_addr, ai->ai_addrlen);
		seen_len[n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (n == 0) {
		fprintf(stderr, "tlshim: --which %s: %s has no IPv4 or IPv6 address\n", spec, host);
		return 2;
	}
	int status = 0, matched = 0;
	for (size_t i = 0; i < n; i++) {
		struct sockaddr *sa = (struct sockaddr *)&seen[i];
		if (sa->sa_family == AF_INET)
			((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
		int r = explain_client(p, host, numeric, sa, seen_len[i], port);
		if (r == 0)
			matched++;
		else
			status = 1;
	}
	if (matched > 0 && status != 0)
		printf("warning: %s has addresses no rule covers: a connect() to them goes out "
		       "in clear\n",
		       host);
	return status;
}

int tlshim_which(const char *policy_path, const char *spec)
{
	char host[256];
	unsigned port = 0;
	bool server = strncmp(spec, "server:", 7) == 0;
	if (server ? !parse_port(spec + 7, &port) : !split(spec, host, sizeof host, &port)) {
		fprintf(stderr,
			"tlshim: --which %s: expected HOST:PORT ([ADDR]:PORT for IPv6) or "
			"server:PORT, with PORT 1-65535\n",
			spec);
		return 2;
	}
	const char *path = policy_path;
	if (!path || !*path)
		path = getenv("TLSHIM_CONFIG");
	if (!path || !*path)
		path = DEFAULT_POLICY;
	/* Validated exactly as the library would (certificates and keys
	 * too); the policy it loaded is then read for the explanation. */
	if (shim_rules_check(path, stderr) < 0)
		return 2;
	const tlsp_policy *p = shim_rules_policy();
	printf("policy %s\n", p->path);
	fflush(stdout);
	return server ? explain_server(p, port) : explain_host(p, spec, host, port);
}
