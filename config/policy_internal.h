/*
 * policy_internal.h: what the files of config/ share and nobody else sees.
 * Loading is two passes: ini_read.c turns the text into raw sections
 * (strings with their lines, syntax and key-placement errors reported), then
 * build.c turns those into a tlsp_policy (values, combinations, files).
 */
#ifndef TLSHIM_CONFIG_POLICY_INTERNAL_H
#define TLSHIM_CONFIG_POLICY_INTERNAL_H

#include <stdarg.h>

#include "policy.h"

#define TLSP_MAX_RULES 1024

/* tlsp_err_add(errs, file, line, fmt, ...): append "FILE:LINE: reason"
 * ("FILE: reason" when ${line} is 0). ${errs} may be NULL (nothing kept).
 * Returns 0, or -1 when allocation failed (errs->oom is then set). */
int tlsp_err_add(tlsp_errors *errs, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* tlsp_err_sort(errs, from): stable-sort entries [from, count) by line. */
void tlsp_err_sort(tlsp_errors *errs, size_t from);

/* ---- pass 1: INI text to raw sections (ini_read.c) ------------------- */

struct tlsp_raw_value {
	char *value; /* trimmed, comment removed; NULL when the key is absent */
	unsigned line;
};

struct tlsp_raw_section {
	char *name;
	unsigned line;
	bool global;
	struct tlsp_raw_value v[TLSP_K_COUNT];
};

struct tlsp_raw {
	struct tlsp_raw_section *sec; /* in file order */
	size_t nsec;
	size_t cap;
};

/* tlsp_ini_read(text, len, file, raw, errs): parse ${len} bytes of INI with
 * inih into ${raw}, reporting syntax errors, unknown/misplaced/duplicate
 * keys and duplicate sections to ${errs} under the name ${file}. Returns
 * 0, or -1 on allocation failure. ${raw} must start zeroed; free it with
 * tlsp_raw_free even on failure. */
int tlsp_ini_read(const char *text, size_t len, const char *file, struct tlsp_raw *raw,
		  tlsp_errors *errs);

/* tlsp_raw_free(raw): release ${raw} and zero it. */
void tlsp_raw_free(struct tlsp_raw *raw);

/* tlsp_key_lookup(name): the key named ${name}, or -1. */
int tlsp_key_lookup(const char *name);

/* Where a key may appear. */
#define TLSP_SCOPE_GLOBAL 1u
#define TLSP_SCOPE_CLIENT 2u
#define TLSP_SCOPE_SERVER 4u
#define TLSP_SCOPE_RULE   (TLSP_SCOPE_CLIENT | TLSP_SCOPE_SERVER)

/* tlsp_key_scope(k): the TLSP_SCOPE_* bits of key ${k}. */
unsigned tlsp_key_scope(enum tlsp_key k);

/* ---- value syntax (values.c) -------------------------------------------
 * Each parser returns 0, or -1 with a reason (no FILE:LINE) in ${why}. */

/* tlsp_parse_uint(s, lo, hi, out, why, whylen): a decimal number in
 * [lo, hi], digits only. */
int tlsp_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out, char *why,
		    size_t whylen);

/* tlsp_parse_ports(s, out, n, why, whylen): "N | N-M" items, comma
 * separated, at most TLSP_MAX_PORT_RANGES. */
int tlsp_parse_ports(const char *s, struct tlsp_port_range *out, size_t *n, char *why,
		     size_t whylen);

/* tlsp_parse_hosts(s, out, n, why, whylen): IPv4/IPv6 addresses and CIDRs,
 * comma separated, at most TLSP_MAX_HOSTS, normalized as struct tlsp_host
 * describes. */
int tlsp_parse_hosts(const char *s, struct tlsp_host *out, size_t *n, char *why, size_t whylen);

/* tlsp_parse_pins(s, pins, n, norm, why, whylen): "sha256//BASE64" items,
 * comma separated, each the base64 of 32 bytes, at most TLSP_MAX_PINS. The
 * decoded pins go to ${pins}; ${norm} (at least strlen(s) + 1 bytes) gets
 * the items joined by "," without whitespace. */
int tlsp_parse_pins(const char *s, uint8_t (*pins)[32], size_t *n, char *norm, char *why,
		    size_t whylen);

/* tlsp_check_server_name(s, why, whylen): a plausible host name for SNI and
 * name checks: 1..253 bytes, no whitespace or control characters. */
int tlsp_check_server_name(const char *s, char *why, size_t whylen);

/* ---- paths (path.c) ---------------------------------------------------- */

/* tlsp_path_abs(path): ${path} made absolute against the current directory
 * and lexically tidied ("//" and "." segments removed; ".." kept, since
 * symbolic links make it ambiguous). NULL with errno on failure. */
char *tlsp_path_abs(const char *path);

/* tlsp_path_join(dir, path): ${path} if absolute, else ${dir}/${path},
 * tidied as tlsp_path_abs. NULL on allocation failure. */
char *tlsp_path_join(const char *dir, const char *path);

/* tlsp_path_dir(abs): the directory part of the absolute path ${abs}
 * ("/" for a file in the root). NULL on allocation failure. */
char *tlsp_path_dir(const char *abs);

/* ---- pass 2 (build.c) -------------------------------------------------- */

/* tlsp_build(raw, file, abspath, out, errs): validate ${raw} read from
 * ${file} (as given; for messages) whose absolute path is ${abspath}, and
 * return the policy in ${out} (NULL when any error was found). Returns 0,
 * or -1 on allocation failure. */
int tlsp_build(const struct tlsp_raw *raw, const char *file, const char *abspath, tlsp_policy **out,
	       tlsp_errors *errs);

#endif
