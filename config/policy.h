/*
 * policy.h: the tlshim policy file (INTERFACE.md "The policy file (INI)"):
 * reading it with inih into plain structs, validating it with
 * "FILE:LINE: reason" messages, and matching connections to its rules.
 *
 * config/ knows nothing of TLS: it checks syntax, value ranges, the key
 * combinations the contract forbids and that the files a rule names are
 * readable. Whether a certificate parses or matches its key
 * is checked where TLS lives; every value keeps the line it came from so
 * those checks can report "FILE:LINE: reason" too (tlsp_rule.key_line).
 *
 * File syntax (inih's, with the differences noted):
 * - "[name]" starts a section; "[global]" is the global section (at most
 *   one), every other section is a rule named by its (whitespace-trimmed)
 *   name; at most 1024 rules. Nothing but a comment may follow the "]".
 * - "key = value" (or "key: value"): the first '=' or ':' splits; ';' or '#'
 *   at the start of a line and ';' after whitespace start a comment; leading
 *   and trailing whitespace is trimmed. Lines may be indented (indentation
 *   does NOT continue the previous value, unlike inih's default). Any line
 *   length up to TLSP_MAX_LINE; a UTF-8 byte order mark is skipped.
 * - Keys and keyword values are lowercase and case-sensitive.
 * - Lists (port, hosts, pin) are comma-separated; whitespace around items
 *   is allowed.
 *
 * Errors are collected, never only the first: a run reports every problem
 * it can find, sorted by line. The FILE in messages is the path as the
 * caller gave it (like a compiler), so `tlshim --check x.ini` prints
 * "x.ini:3: ...".
 */
#ifndef TLSHIM_CONFIG_POLICY_H
#define TLSHIM_CONFIG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#define TLSP_MAX_PORT_RANGES 64
#define TLSP_MAX_HOSTS       64
#define TLSP_MAX_PINS        16
#define TLSP_MAX_LINE        65536     /* bytes per line, newline excluded */
#define TLSP_MAX_FILE        (1 << 20) /* bytes per policy file */
#define TLSP_DEFAULT_TIMEOUT 10        /* seconds */
#define TLSP_MAX_TIMEOUT     3600

/* Every key the file knows, for the per-key line tables. The names are the
 * INI spellings (tlsp_key_name). */
enum tlsp_key {
	/* [global] only */
	TLSP_K_LOG,
	TLSP_K_LOG_FILE,
	TLSP_K_KEYLOG,
	/* both [global] and rules */
	TLSP_K_HANDSHAKE_TIMEOUT,
	/* rules */
	TLSP_K_ROLE,
	TLSP_K_PORT,
	TLSP_K_HOSTS,
	TLSP_K_CERT,
	TLSP_K_KEY,
	TLSP_K_CA,
	TLSP_K_VERIFY_PEER,
	TLSP_K_PLAINTEXT,
	TLSP_K_SESSION_TICKETS,
	TLSP_K_SERVER_NAME,
	TLSP_K_PIN,
	TLSP_K_CIPHERS,
	TLSP_K_GROUPS,
	TLSP_K_LEGACY_PEERS,
	TLSP_K_MIN_VERSION,
	TLSP_K_MAX_VERSION,
	TLSP_K_ALPN,
	TLSP_K_COUNT
};

enum tlsp_role { TLSP_ROLE_CLIENT, TLSP_ROLE_SERVER };

enum tlsp_verify {
	TLSP_VERIFY_NONE,     /* server default; client: unauthenticated (a pin, if
				 set, is still checked, as curl -k --pinnedpubkey) */
	TLSP_VERIFY_OPTIONAL, /* server only */
	TLSP_VERIFY_REQUIRE,  /* client default */
};

/* Protocol versions a rule may allow (min_version, max_version). */
enum tlsp_version { TLSP_TLS_1_2, TLSP_TLS_1_3 };

enum tlsp_log_level { TLSP_LOG_ERROR, TLSP_LOG_WARN, TLSP_LOG_INFO, TLSP_LOG_DEBUG };

enum tlsp_log_sink { TLSP_LOG_STDERR, TLSP_LOG_SYSLOG, TLSP_LOG_FILE };

/* An inclusive port range; a single port N is {N, N}. 1 <= lo <= hi. */
struct tlsp_port_range {
	uint16_t lo;
	uint16_t hi;
};

/* A hosts entry: an address with a prefix length. Entries written as IPv4,
 * and IPv4-mapped IPv6 entries (::ffff:a.b.c.d/96+n), are stored as
 * AF_INET (addr[0..3], prefix <= 32); all other IPv6 as AF_INET6 (prefix
 * <= 128). Bits past the prefix are zero (a CIDR with host bits set is an
 * error). */
struct tlsp_host {
	sa_family_t family;
	uint8_t prefix;
	uint8_t addr[16];
};

typedef struct tlsp_rule {
	char *name;    /* section name */
	unsigned line; /* line of the "[name]" header */
	enum tlsp_role role;
	size_t nports;
	struct tlsp_port_range ports[TLSP_MAX_PORT_RANGES];
	size_t nhosts; /* 0: any destination (client); always 0 on servers */
	struct tlsp_host hosts[TLSP_MAX_HOSTS];
	char *cert;     /* absolute path or NULL */
	char *key;      /* absolute path or NULL */
	char *ca;       /* absolute path, or NULL (none, or system) */
	bool ca_system; /* ca = system: the OS trust store */
	enum tlsp_verify verify_peer;
	bool plaintext_allow; /* server: plaintext = allow */
	bool session_tickets; /* server: default true; false on clients */
	char *server_name;    /* client: SNI / name to check, or NULL */
	char *pin;            /* client: normalized "sha256//B64,sha256//B64" or NULL */
	size_t npins;         /* decoded pins (SPKI SHA-256), in file order */
	uint8_t pins[TLSP_MAX_PINS][32];
	char *ciphers;                 /* engine syntax, NULL = engine default */
	char *groups;                  /* engine syntax, NULL = engine default */
	bool legacy_peers;             /* legacy_peers = yes: accept peers without EMS
					  (RFC 7627) or renegotiation_info (RFC 5746) */
	enum tlsp_version min_version; /* default 1.2 */
	enum tlsp_version max_version; /* default 1.3; never below min_version */
	char *alpn;                    /* as written ("h2, http/1.1"), NULL = no ALPN;
					  the engine checks the names */
	unsigned handshake_timeout;    /* seconds; the rule's, else [global]'s */
	/* key_line[k]: the line of key k in this rule, 0 when absent (a
	 * default). key_line[TLSP_K_HANDSHAKE_TIMEOUT] is 0 when the value came
	 * from [global]; tlsp_policy.key_line has that one. */
	unsigned key_line[TLSP_K_COUNT];
} tlsp_rule;

typedef struct tlsp_policy {
	char *path;                      /* absolute path of the policy file */
	char *dir;                       /* its directory (no trailing '/', "/" for the root) */
	enum tlsp_log_level log_level;   /* default warn */
	enum tlsp_log_sink log_sink;     /* default stderr */
	char *log_file;                  /* absolute path when log_sink == FILE */
	char *keylog;                    /* absolute path or NULL (off) */
	unsigned handshake_timeout;      /* default TLSP_DEFAULT_TIMEOUT */
	unsigned global_line;            /* line of "[global]", 0 when absent */
	unsigned key_line[TLSP_K_COUNT]; /* lines of the [global] keys, 0 = absent */
	size_t nrules;
	tlsp_rule *rules; /* in file order */
} tlsp_policy;

/* One collected error. */
struct tlsp_error {
	unsigned line; /* 0 for errors about the whole file */
	char *text;    /* "FILE:LINE: reason" or "FILE: reason" */
};

/* tlsp_errors: a list of errors. Zero-initialise it (or tlsp_errors_init)
 * before the first use; tlsp_errors_free releases it. */
typedef struct tlsp_errors {
	size_t count;
	struct tlsp_error *list; /* sorted by line, then in discovery order */
	size_t cap;
	bool oom; /* an allocation failed: the list may be incomplete */
} tlsp_errors;

/* tlsp_load(path, out, errs): read, parse and validate the policy file
 * ${path}. On success return 0 and store a policy in ${*out} (free with
 * tlsp_free). Otherwise return -1, set ${*out} to NULL and append every
 * error found to ${errs} (may be NULL); a file that cannot be opened or
 * read is the single error "PATH: cannot open: strerror". An allocation
 * failure returns -1 with errno ENOMEM (and errs->oom set). A policy with
 * no rules is valid. */
int tlsp_load(const char *path, tlsp_policy **out, tlsp_errors *errs);

/* tlsp_load_string(text, virtual_path, out, errs): as tlsp_load for the
 * NUL-terminated INI ${text}, as if it had been read from ${virtual_path}
 * (used for error messages, relative path resolution and policy->path; a
 * relative one is taken against the current directory). File checks
 * (readability of cert/key/ca) still touch the file system. */
int tlsp_load_string(const char *text, const char *virtual_path, tlsp_policy **out,
		     tlsp_errors *errs);

/* tlsp_free(policy): release a policy; NULL is a no-op. */
void tlsp_free(tlsp_policy *policy);

/* tlsp_errors_init(errs): an empty list. */
void tlsp_errors_init(tlsp_errors *errs);
/* tlsp_errors_free(errs): release the list and leave it empty; safe to
 * call twice. */
void tlsp_errors_free(tlsp_errors *errs);
/* tlsp_errors_get(errs, i): the i-th message ("FILE:LINE: reason"), NULL
 * when i >= count. */
const char *tlsp_errors_get(const tlsp_errors *errs, size_t i);
/* tlsp_errors_print(fp, errs): every message on its own line. */
void tlsp_errors_print(FILE *fp, const tlsp_errors *errs);

/* tlsp_match_client(policy, dst, len): the first rule in file order with
 * role client whose ports contain the destination port of ${dst} and, when
 * it has hosts, whose hosts contain its address; NULL when none, or when
 * ${dst} is neither AF_INET nor AF_INET6 (or ${len} is too short). An
 * IPv4-mapped IPv6 destination (::ffff:a.b.c.d) is matched as the IPv4
 * address a.b.c.d. IPv6 entries only match IPv6 destinations (so "::/0"
 * does not cover IPv4). Whether the socket is TCP is the caller's
 * business. No allocation; safe from any thread. */
const tlsp_rule *tlsp_match_client(const tlsp_policy *policy, const struct sockaddr *dst,
				   socklen_t len);

/* tlsp_match_server(policy, local_port): the first rule in file order with
 * role server whose ports contain ${local_port}; NULL when none. No
 * allocation; safe from any thread. */
const tlsp_rule *tlsp_match_server(const tlsp_policy *policy, uint16_t local_port);

/* tlsp_print(fp, policy): the effective policy, defaults filled in, one
 * line for [global] and then one line per rule in file order:
 *
 *   global: log=L log_file=F keylog=K handshake_timeout=N
 *   NAME: role=server port=P cert=C key=K ca=A verify_peer=V plaintext=X
 *         session_tickets=T ciphers=S groups=G min_version=V max_version=V
 *         alpn=A legacy_peers=L handshake_timeout=N
 *   NAME: role=client port=P hosts=H cert=C key=K ca=A verify_peer=V
 *         server_name=N pin=P ciphers=S groups=G min_version=V max_version=V
 *         alpn=A legacy_peers=L handshake_timeout=N
 *
 * (each rule on ONE line; wrapped here). Keys always appear, in exactly
 * this order. Absent values print as "-" (alpn too); ciphers/groups unset
 * print as "default"; versions as "1.2" or "1.3"; alpn as its names joined
 * by "," without spaces; hosts unset prints "any"; ports and hosts print comma-separated
 * without spaces (ranges "N-M", a single-address host without "/len",
 * addresses in inet_ntop form); ca prints "system" or the absolute path;
 * log_file prints "stderr", "syslog" or the absolute path; paths and other
 * strings print as stored. A NULL ${policy} prints nothing. */
void tlsp_print(FILE *fp, const tlsp_policy *policy);

/* tlsp_print_noted(fp, policy, note, arg): as tlsp_print, with
 * ${note}(rule, ${arg}, buf, len) asked for text to end each rule's line
 * with (" key=value ..." with a leading space, or ""), for facts config/
 * cannot know (what the TLS engine makes of the rule). ${note} may be
 * NULL. */
typedef void (*tlsp_note_fn)(const tlsp_rule *rule, void *arg, char *buf, size_t len);
void tlsp_print_noted(FILE *fp, const tlsp_policy *policy, tlsp_note_fn note, void *arg);

/* tlsp_key_name(k): the INI spelling of key ${k} ("handshake_timeout"). */
const char *tlsp_key_name(enum tlsp_key k);

#endif
