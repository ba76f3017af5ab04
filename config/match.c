/*
 * match.c: which rule a connection falls under (INTERFACE.md "Matching"):
 * the first rule in file order whose role, port and hosts fit. Called on
 * every connect() and accept(), so it only reads the policy.
 */
#include <stddef.h>
#include <string.h>

#include <netinet/in.h>

#include "policy.h"

static bool port_in(const tlsp_rule *r, uint16_t port)
{
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool in_prefix(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return (a[full] & (uint8_t)(0xffu << (8 - rest))) == net[full];
}

static bool host_in(const tlsp_rule *r, sa_family_t family, const uint8_t *addr)
{
	if (r->nhosts == 0)
		return true;
	for (size_t i = 0; i < r->nhosts; i++)
		if (r->hosts[i].family == family &&
		    in_prefix(addr, r->hosts[i].addr, r->hosts[i].prefix))
			return true;
	return false;
}

const tlsp_rule *tlsp_match_client(const tlsp_policy *policy, const struct sockaddr *dst,
				   socklen_t len)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	sa_family_t family, dst_family;
	uint8_t addr[16];
	uint16_t port;

	if (policy == NULL || dst == NULL ||
	    len < (socklen_t)(offsetof(struct sockaddr, sa_family) + sizeof(sa_family_t)))
		return NULL;
	/* Copies, not member access: the caller's buffer need not be aligned
	 * for any sockaddr type. */
	memcpy(&dst_family, (const char *)dst + offsetof(struct sockaddr, sa_family),
	       sizeof(dst_family));
	if (dst_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, dst, sizeof(sin));
		family = AF_INET;
		memcpy(addr, &sin.sin_addr, 4);
		port = ntohs(sin.sin_port);
	} else if (dst_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, dst, sizeof(sin6));
		port = ntohs(sin6.sin6_port);
		if (memcmp(sin6.sin6_addr.s6_addr, mapped, 12) == 0) {
			family = AF_INET;
			memcpy(addr, sin6.sin6_addr.s6_addr + 12, 4);
		} else {
			family = AF_INET6;
			memcpy(addr, sin6.sin6_addr.s6_addr, 16);
		}
	} else {
		return NULL;
	}

	for (size_t i = 0; i < policy->nrules; i++) {
		const tlsp_rule *r = &policy->rules[i];

		if (r->role == TLSP_ROLE_CLIENT && port_in(r, port) && host_in(r, family, addr))
			return r;
	}
	return NULL;
}

const tlsp_rule *tlsp_match_server(const tlsp_policy *policy, uint16_t local_port)
{
	if (policy == NULL)
		return NULL;
	for (size_t i = 0; i < policy->nrules; i++) {
		const tlsp_rule *r = &policy->rules[i];

		if (r->role == TLSP_ROLE_SERVER && port_in(r, local_port))
			return r;
	}
	return NULL;
}
