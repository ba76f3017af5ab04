/*
 * which.h: `tlshim [-c FILE] --which HOST:PORT` and `--which server:PORT`:
 * which rule of the policy a connection would get, and why.
 */
#ifndef TLSHIM_WRAPPER_WHICH_H
#define TLSHIM_WRAPPER_WHICH_H

/* tlshim_which(policy_path, spec): load and validate the policy at
 * ${policy_path} (NULL: $TLSHIM_CONFIG, else /etc/tlshim/tlshim.ini) as the
 * library would, then explain on standard output which rule applies to
 * ${spec}:
 *
 * - "HOST:PORT" (IPv6 in brackets, "[::1]:6379"; a name is resolved with
 *   getaddrinfo and every address it has is explained): the client rule a
 *   connect() to each address would match (the first in file order), the
 *   part of it that matched, its effective settings, later rules it
 *   shadows; or that no rule matches and the connection stays plain TCP,
 *   with the near misses (the port matches but hosts exclude the address,
 *   the hosts match but not the port, a server rule on that port).
 * - "server:PORT": the server rule for connections accepted on local PORT,
 *   likewise.
 *
 * Returns the exit status: 0 when a rule matches (for a name: every one of
 * its addresses), 1 when none does, 2 for an invalid policy, a malformed
 * ${spec} or a name that does not resolve (messages on standard error). */
int tlshim_which(const char *policy_path, const char *spec);

#endif
