/*
 * name.c: server names: DNS host name or IP address (name.h).
 */
#include "name.h"

#include <arpa/inet.h>
#include <string.h>

/* is_ip(s): inet_pton reads ${s} as IPv4 or IPv6. */
static int is_ip(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

int tls_name_parse(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	unsigned char addr[16];

	if (outlen > 0)
		out[0] = '\0';
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return TLS_NAME_NONE;
	memcpy(out, name, n);
	out[n] = '\0';
	/* RFC 3986 §3.2.2: brackets hold an IPv6 address (IPvFuture aside). */
	if (n > 2 && out[0] == '[' && out[n - 1] == ']') {
		out[n - 1] = '\0';
		if (inet_pton(AF_INET6, out + 1, addr) == 1) {
			memmove(out, out + 1, n - 1);
			return TLS_NAME_IP;
		}
		out[n - 1] = ']';
	}
	return is_ip(out) ? TLS_NAME_IP : TLS_NAME_DNS;
}
