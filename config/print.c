/*
 * print.c: the effective policy as `tlshim --check` shows it; the format is
 * in policy.h and stays stable (scripts and tests read it).
 */
#include <arpa/inet.h>

#include "policy.h"

static const char *or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void print_ports(FILE *fp, const tlsp_rule *r)
{
	for (size_t i = 0; i < r->nports; i++) {
		fputs(i > 0 ? "," : "", fp);
		if (r->ports[i].lo == r->ports[i].hi)
			fprintf(fp, "%u", r->ports[i].lo);
		else
			fprintf(fp, "%u-%u", r->ports[i].lo, r->ports[i].hi);
	}
}

static void print_hosts(FILE *fp, const tlsp_rule *r)
{
	if (r->nhosts == 0) {
		fputs("any", fp);
		return;
	}
	for (size_t i = 0; i < r->nhosts; i++) {
		const struct tlsp_host *h = &r->hosts[i];
		char buf[INET6_ADDRSTRLEN];
		unsigned max = h->family == AF_INET ? 32 : 128;

		if (inet_ntop(h->family, h->addr, buf, sizeof(buf)) == NULL)
			buf[0] = '\0';
		fprintf(fp, "%s%s", i > 0 ? "," : "", buf);
		if (h->prefix != max)
			fprintf(fp, "/%u", h->prefix);
	}
}

/* print_alpn(fp, r): the names joined by "," without the spaces the file
 * may have around them (the engine refuses the other oddities). */
static void print_alpn(FILE *fp, const tlsp_rule *r)
{
	if (r->alpn == NULL) {
		fputc('-', fp);
		return;
	}
	for (const char *p = r->alpn; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t')
			fputc(*p, fp);
}

static void print_rule(FILE *fp, const tlsp_rule *r, tlsp_note_fn note, void *arg)
{
	static const char *const version[] = {"1.2", "1.3"};
	char extra[256] = "";
	static const char *const verify[] = {"none", "optional", "require"};
	bool server = r->role == TLSP_ROLE_SERVER;

	fprintf(fp, "%s: role=%s port=", r->name, server ? "server" : "client");
	print_ports(fp, r);
	if (!server) {
		fputs(" hosts=", fp);
		print_hosts(fp, r);
	}
	fprintf(fp, " cert=%s key=%s ca=%s verify_peer=%s", or_dash(r->cert), or_dash(r->key),
		r->ca_system ? "system" : or_dash(r->ca), verify[r->verify_peer]);
	if (server)
		fprintf(fp, " plaintext=%s session_tickets=%s",
			r->plaintext_allow ? "allow" : "reject", r->session_tickets ? "yes" : "no");
	else
		fprintf(fp, " server_name=%s pin=%s", or_dash(r->server_name), or_dash(r->pin));
	fprintf(fp, " ciphers=%s groups=%s min_version=%s max_version=%s alpn=",
		r->ciphers != NULL ? r->ciphers : "default",
		r->groups != NULL ? r->groups : "default", version[r->min_version],
		version[r->max_version]);
	print_alpn(fp, r);
	if (note != NULL)
		note(r, arg, extra, sizeof extra);
	fprintf(fp, " legacy_peers=%s handshake_timeout=%u%s\n", r->legacy_peers ? "yes" : "no",
		r->handshake_timeout, extra);
}

void tlsp_print(FILE *fp, const tlsp_policy *p)
{
	tlsp_print_noted(fp, p, NULL, NULL);
}

void tlsp_print_noted(FILE *fp, const tlsp_policy *p, tlsp_note_fn note, void *arg)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};

	if (p == NULL)
		return;

	const char *log_file = p->log_sink == TLSP_LOG_SYSLOG ? "syslog"
			       : p->log_sink == TLSP_LOG_FILE ? or_dash(p->log_file)
							      : "stderr";

	fprintf(fp, "global: log=%s log_file=%s keylog=%s handshake_timeout=%u\n",
		levels[p->log_level], log_file, or_dash(p->keylog), p->handshake_timeout);
	for (size_t i = 0; i < p->nrules; i++)
		print_rule(fp, &p->rules[i], note, arg);
}
