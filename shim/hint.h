/*
 * hint.h: after a refused handshake, what the user should change, in words
 * (issue 4: "every refusal names the rule, the peer and the reason in
 * words, and what to change"). The engine says what went wrong
 * (tls_conn_error); this turns that, the peer's certificate and the rule
 * into advice such as "certificate is for db.internal, the rule expects
 * redis.internal: set server_name or reissue the certificate".
 */
#ifndef TLSHIM_SHIM_HINT_H
#define TLSHIM_SHIM_HINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sconn.h"
#include "tls.h"

/* Everything the advice depends on, gathered from the connection. */
typedef struct shim_hint_facts {
	bool client;            /* our side is a client rule */
	bool ready;             /* the handshake had completed */
	bool timed_out;         /* handshake_timeout passed */
	int sock_errno;         /* the TCP connection itself failed */
	enum tls_err err;       /* tls_conn_error */
	uint8_t alert;          /* ... its alert */
	enum tls_reason why;    /* tls_conn_reason: never the sentence, which
				   may be reworded (issue 13) */
	bool cert_missing;      /* client: the server asked for a certificate, we had none */
	const char *expected;   /* client: the name or address the certificate must carry */
	bool by_name;           /* expected is the rule's server_name (else the peer IP) */
	const char *peer_names; /* the peer certificate's DNS/IP names, "a,b,c", or "" */
	bool have_validity;     /* not_before/not_after are the peer leaf's */
	int64_t not_before, not_after, now;
	const char *ca;   /* the rule's ca: absolute path, "system", or NULL */
	bool have_cert;   /* the rule has cert and key */
	unsigned timeout; /* the rule's handshake_timeout, seconds */
} shim_hint_facts;

/* shim_hint(f, out, len): the advice for ${f} in ${out} (NUL-terminated,
 * cut to fit); returns its length, 0 when there is nothing to add to the
 * engine's reason. */
size_t shim_hint(const shim_hint_facts *f, char *out, size_t len);

/* shim_refusal_hint(s, out, len): shim_hint with the facts of the failed
 * connection ${s} (its engine state, peer certificate and rule). */
size_t shim_refusal_hint(const sconn *s, char *out, size_t len);

#endif
