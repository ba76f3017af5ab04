/*
 * test_policy_match.c: which rule a connection gets: ports, ranges and
 * lists; IPv4 and IPv6 addresses and CIDRs (whole and partial bytes);
 * IPv4-mapped IPv6 destinations; first match in file order; roles kept
 * apart; inputs that are not IP addresses. (TCP versus UDP is decided by
 * the shim before it asks.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "check.h"
#include "policy.h"

static char dir[64];
static char vpath[128];

static void setup(void)
{
	char p[256];
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/test_policy_match.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(vpath, sizeof(vpath), "%s/t.ini", dir);
	snprintf(p, sizeof(p), "%s/s.pem", dir);
	if ((fp = fopen(p, "w")) == NULL || fclose(fp) != 0) {
		perror(p);
		exit(1);
	}
}

static void teardown(void)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/s.pem", dir);
	remove(p);
	rmdir(dir);
}

static tlsp_policy *load(const char *text)
{
	tlsp_errors errs = {0};
	tlsp_policy *p = NULL;

	CHECK_EQ(tlsp_load_string(text, vpath, &p, &errs), 0);
	tlsp_errors_print(stderr, &errs);
	tlsp_errors_free(&errs);
	return p;
}

/* sa(addr, port, ss): an AF_INET or AF_INET6 sockaddr; returns its length. */
static socklen_t sa(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			abort();
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
		abort();
	return sizeof(*sin6);
}

/* client(p, addr, port): the matching rule's name, or "-" for none. */
static const char *client(const tlsp_policy *p, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sa(addr, port, &ss);
	const tlsp_rule *r = tlsp_match_client(p, (struct sockaddr *)&ss, len);

	return r != NULL ? r->name : "-";
}

static const char *server(const tlsp_policy *p, uint16_t port)
{
	const tlsp_rule *r = tlsp_match_server(p, port);

	return r != NULL ? r->name : "-";
}

#define CHECK_RULE(got, want)                                                               \
	do {                                                                                \
		const char *check_g_ = (got);                                               \
		CHECK(strcmp(check_g_, (want)) == 0);                                       \
		if (strcmp(check_g_, (want)) != 0)                                          \
			fprintf(stderr, "  %s: got %s, want %s\n", #got, check_g_, (want)); \
	} while (0)

#define CL "role=client\nverify_peer=none\n"
#define SV "role=server\ncert=s.pem\nkey=s.pem\n"

static const char policy[] = "[srv-a]\n" SV "port=443\n"
			     "[srv-b]\n" SV "port=440-450, 8443\n"
			     "[cli-v4]\n" CL "port=5432\nhosts=10.0.0.0/8, 192.168.1.7\n"
			     "[cli-v6]\n" CL "port=5432\nhosts=2001:db8::/32, ::1\n"
			     "[cli-any]\n" CL "port=5432, 6000-6010\n"
			     "[cli-mapped]\n" CL "port=7000\nhosts=::ffff:172.16.0.0/108\n"
			     "[cli-zero]\n" CL "port=7001\nhosts=0.0.0.0/0\n"
			     "[cli-v6all]\n" CL "port=7002\nhosts=::/0\n"
			     "[cli-odd]\n" CL "port=7003\nhosts=10.128.0.0/9, 2001:db8:8000::/33\n"
			     "[cli-443]\n" CL "port=443\nhosts=127.0.0.1\n"
			     "[srv-late]\n" SV "port=5432\n";

static void test_server(const tlsp_policy *p)
{
	CHECK_RULE(server(p, 443), "srv-a"); /* srv-b also has 443: first wins */
	CHECK_RULE(server(p, 440), "srv-b");
	CHECK_RULE(server(p, 450), "srv-b");
	CHECK_RULE(server(p, 8443), "srv-b");
	CHECK_RULE(server(p, 439), "-");
	CHECK_RULE(server(p, 451), "-");
	CHECK_RULE(server(p, 5432), "srv-late"); /* client rules never match accept() */
	CHECK_RULE(server(p, 6005), "-");
	CHECK_RULE(server(p, 0), "-");
	CHECK_RULE(server(p, 65535), "-");
}

static void test_client(const tlsp_policy *p)
{
	/* ports and hosts, first match */
	CHECK_RULE(client(p, "10.1.2.3", 5432), "cli-v4");
	CHECK_RULE(client(p, "10.255.255.255", 5432), "cli-v4");
	CHECK_RULE(client(p, "192.168.1.7", 5432), "cli-v4");
	CHECK_RULE(client(p, "192.168.1.8", 5432), "cli-any");
	CHECK_RULE(client(p, "11.0.0.0", 5432), "cli-any");
	CHECK_RULE(client(p, "2001:db8::5", 5432), "cli-v6");
	CHECK_RULE(client(p, "2001:db8:ffff:ffff::1", 5432), "cli-v6");
	CHECK_RULE(client(p, "::1", 5432), "cli-v6");
	CHECK_RULE(client(p, "::2", 5432), "cli-any");
	CHECK_RULE(client(p, "2001:db9::1", 5432), "cli-any");
	CHECK_RULE(client(p, "10.1.2.3", 6000), "cli-any");
	CHECK_RULE(client(p, "::1", 6010), "cli-any");
	CHECK_RULE(client(p, "10.1.2.3", 5433), "-");
	CHECK_RULE(client(p, "10.1.2.3", 6011), "-");
	CHECK_RULE(client(p, "10.1.2.3", 0), "-");

	/* server rules never match connect() */
	CHECK_RULE(client(p, "10.1.2.3", 443), "-");
	CHECK_RULE(client(p, "127.0.0.1", 443), "cli-443");

	/* IPv4-mapped destinations match IPv4 entries */
	CHECK_RULE(client(p, "::ffff:10.0.0.1", 5432), "cli-v4");
	CHECK_RULE(client(p, "::ffff:192.168.1.7", 5432), "cli-v4");
	CHECK_RULE(client(p, "::ffff:192.168.1.8", 5432), "cli-any");
	CHECK_RULE(client(p, "::ffff:127.0.0.1", 443), "cli-443");

	/* a v4-mapped entry is an IPv4 one: ::ffff:172.16.0.0/108 = 172.16.0.0/12 */
	CHECK_RULE(client(p, "172.16.5.5", 7000), "cli-mapped");
	CHECK_RULE(client(p, "172.31.255.255", 7000), "cli-mapped");
	CHECK_RULE(client(p, "::ffff:172.31.255.255", 7000), "cli-mapped");
	CHECK_RULE(client(p, "172.32.0.0", 7000), "-");
	CHECK_RULE(client(p, "172.15.255.255", 7000), "-");

	/* 0.0.0.0/0 is every IPv4 destination, not IPv6; ::/0 the reverse */
	CHECK_RULE(client(p, "1.2.3.4", 7001), "cli-zero");
	CHECK_RULE(client(p, "255.255.255.255", 7001), "cli-zero");
	CHECK_RULE(client(p, "::ffff:1.2.3.4", 7001), "cli-zero");
	CHECK_RULE(client(p, "2001:db8::1", 7001), "-");
	CHECK_RULE(client(p, "2001:db8::1", 7002), "cli-v6all");
	CHECK_RULE(client(p, "::", 7002), "cli-v6all");
	CHECK_RULE(client(p, "1.2.3.4", 7002), "-");
	CHECK_RULE(client(p, "::ffff:1.2.3.4", 7002), "-");

	/* prefixes that end inside a byte */
	CHECK_RULE(client(p, "10.128.0.1", 7003), "cli-odd");
	CHECK_RULE(client(p, "10.255.0.0", 7003), "cli-odd");
	CHECK_RULE(client(p, "10.127.255.255", 7003), "-");
	CHECK_RULE(client(p, "11.128.0.0", 7003), "-");
	CHECK_RULE(client(p, "2001:db8:8000::1", 7003), "cli-odd");
	CHECK_RULE(client(p, "2001:db8:ffff::1", 7003), "cli-odd");
	CHECK_RULE(client(p, "2001:db8:7fff::1", 7003), "-");
}

static void test_odd_input(const tlsp_policy *p)
{
	struct sockaddr_storage ss;
	socklen_t len;

	/* Too short for its family. */
	len = sa("10.1.2.3", 5432, &ss);
	CHECK(tlsp_match_client(p, (struct sockaddr *)&ss, len) != NULL);
	CHECK(tlsp_match_client(p, (struct sockaddr *)&ss, len - 1) == NULL);
	CHECK(tlsp_match_client(p, (struct sockaddr *)&ss, 0) == NULL);
	len = sa("::1", 5432, &ss);
	CHECK(tlsp_match_client(p, (struct sockaddr *)&ss, len - 1) == NULL);

	/* Not an IP socket address. */
	struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};

	CHECK(tlsp_match_client(p, (struct sockaddr *)&sun, sizeof(sun)) == NULL);
	CHECK(tlsp_match_client(NULL, (struct sockaddr *)&ss, len) == NULL);
	CHECK(tlsp_match_client(p, NULL, 0) == NULL);
	CHECK(tlsp_match_server(NULL, 443) == NULL);

	/* An unaligned caller buffer. */
	unsigned char raw[sizeof(struct sockaddr_in6) + 1];
	const tlsp_rule *r;

	len = sa("2001:db8::7", 5432, &ss);
	memcpy(raw + 1, &ss, len);
	r = tlsp_match_client(p, (const struct sockaddr *)(const void *)(raw + 1), len);
	CHECK(r != NULL && strcmp(r->name, "cli-v6") == 0);
}

/* The same rules in another order give other answers: file order rules. */
static void test_order(void)
{
	tlsp_policy *p = load("[any]\n" CL "port=5432\n"
			      "[v4]\n" CL "port=5432\nhosts=10.0.0.0/8\n"
			      "[s1]\n" SV "port=1-100\n"
			      "[s2]\n" SV "port=50\n");

	if (p == NULL)
		return;
	CHECK_RULE(client(p, "10.1.2.3", 5432), "any");
	CHECK_RULE(server(p, 50), "s1");
	tlsp_free(p);

	p = load("[v4]\n" CL "port=5432\nhosts=10.0.0.0/8\n"
		 "[any]\n" CL "port=5432\n"
		 "[s2]\n" SV "port=50\n"
		 "[s1]\n" SV "port=1-100\n");
	if (p == NULL)
		return;
	CHECK_RULE(client(p, "10.1.2.3", 5432), "v4");
	CHECK_RULE(client(p, "11.1.2.3", 5432), "any");
	CHECK_RULE(server(p, 50), "s2");
	CHECK_RULE(server(p, 51), "s1");
	tlsp_free(p);
}

int main(void)
{
	setup();

	tlsp_policy *p = load(policy);

	CHECK(p != NULL);
	if (p != NULL) {
		test_server(p);
		test_client(p);
		test_odd_input(p);
		tlsp_free(p);
	}
	test_order();
	teardown();
	return check_exit("unit/policy_match");
}
