/*
 * name.h: what a server name is — a DNS host name or an IP address — decided
 * in one place, so that the ClientHello's server_name (RFC 6066 §3) and the
 * certificate name check (RFC 6125 §6.4, RFC 5280 §4.2.1.6) always agree on
 * it: a name is never sent as SNI and then checked as an IP, or the reverse.
 *
 * The rule: after one trailing dot is removed, a name is an IP address when
 * inet_pton(3) reads it as IPv4 (exactly four decimal parts of 0-255, no
 * leading zeros: RFC 3986 §3.2.2 IPv4address) or IPv6 (RFC 4291 §2.2, an
 * embedded IPv4 part included), or when it is an IPv6 address in brackets
 * (RFC 3986 IP-literal, "[::1]"). Everything else is a DNS name, also the
 * forms only inet_aton(3) reads ("01.2.3.4", "1.2.3", "0x7f.0.0.1",
 * "127.1"): those mean different addresses to different readers (inet_aton
 * takes "010" as octal 8, OpenSSL's a2i_IPADDRESS as decimal 10), so no
 * address is guessed from them; they are sent as SNI and must match a DNS
 * entry of the certificate, which is what curl does for a host it does not
 * rewrite (inet_pton for both decisions).
 */
#ifndef TLSHIM_CORE_NAME_H
#define TLSHIM_CORE_NAME_H

#include <stddef.h>

enum tls_name_kind {
	TLS_NAME_NONE, /* empty (or only a dot), or too long for the buffer */
	TLS_NAME_DNS,
	TLS_NAME_IP,
};

/* tls_name_parse(name, out, outlen): classify ${name} (see above) and write
 * its reference identity to ${out}: the DNS name without its trailing dot
 * (RFC 6066 §3: HostName has none; a fully qualified name means the same
 * with or without it), or the IP address as written, without brackets.
 * That string is both what SNI carries (DNS names only: RFC 6066 §3 does not
 * permit IP literals in HostName) and what the certificate must match.
 * Returns an enum tls_name_kind; on TLS_NAME_NONE ${out} is "" (when
 * ${outlen} > 0). */
int tls_name_parse(const char *name, char *out, size_t outlen);

#endif
