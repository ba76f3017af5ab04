/*
 * ini_read.c: pass 1 of loading: INI text to raw sections, with inih.
 *
 * Why inih is fed through our own reader (ini_parse_stream) instead of
 * ini_parse/ini_parse_string:
 *
 * - Line numbers. inih's handler only gets line numbers when inih itself
 *   was compiled with INI_HANDLER_LINENO, which the distribution's shared
 *   library is not (Debian's libinih 55 calls a 4-argument handler). Our
 *   reader hands inih one line per call, and inih calls the handler for a
 *   line before it asks for the next, so the reader's own counter is the
 *   handler's line number, whatever options the library was built with.
 *
 * - Every error, not the first. ini_parse returns only the first bad line
 *   and skips sections without keys. The reader looks at each line first:
 *   blank lines, comments and section headers it handles itself (so empty
 *   sections exist and every bad header is reported with its line); a line
 *   without '=' or ':' is reported; only well-formed "key = value" lines
 *   reach inih, which splits and trims them and calls the handler. Should
 *   inih still reject a line we passed, the handler was not called for it
 *   and the reader reports that line too.
 *
 * - Section names. inih truncates them to 50 bytes and does not trim them;
 *   the reader records sections itself and the handler ignores inih's
 *   section argument.
 *
 * - Indentation. inih's default multi-line mode turns an indented line
 *   into a continuation of the previous value ("  port = 1" under "role =
 *   server" would make role "server port = 1"). Config files are often
 *   indented, so the reader strips leading whitespace: no line is ever a
 *   continuation.
 *
 * - Long lines. inih's line buffer size is fixed when inih is built (200
 *   bytes in Debian's), and the rest of a longer line would come back as a
 *   line of its own. hosts, ciphers or paths can be longer, so a key line
 *   that does not fit in the buffer inih gives us is split here with
 *   inih's own rules (first '=' or ':'; ';' after whitespace starts a
 *   comment; whitespace trimmed) and given to the same handler.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "policy_internal.h"

#define SEC_NONE (-1) /* before the first section header */
#define SEC_BAD  (-2) /* after a rejected header: its keys are ignored */

struct reader {
	const char *p; /* rest of the text */
	const char *end;
	const char *file;
	unsigned lineno; /* line most recently read */
	long cur;        /* index into raw->sec, or SEC_NONE / SEC_BAD */
	unsigned passed; /* line last handed to inih, 0 when none pending */
	bool handled;    /* the handler saw line ${passed} */
	struct tlsp_raw *raw;
	tlsp_errors *errs;
	bool oom;
};

static void rerr(struct reader *r, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rerr(struct reader *r, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tlsp_err_add(r->errs, r->file, line, "%s", msg) != 0)
		r->oom = true;
}

static bool is_space(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* scan(s, len, chars): index of the first byte of ${chars} in ${s}, or of
 * an inline comment (';' after whitespace), or ${len}: inih's
 * find_chars_or_comment with its default INI_INLINE_COMMENT_PREFIXES. */
static size_t scan(const char *s, size_t len, const char *chars)
{
	bool was_space = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (chars != NULL && strchr(chars, s[i]) != NULL)
			break;
		if (was_space && s[i] == ';')
			break;
		was_space = is_space(s[i]);
	}
	return i;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*s)[*len - 1]))
		(*len)--;
}

static void section_header(struct reader *r, const char *s, size_t len)
{
	size_t close = 1 + scan(s + 1, len - 1, "]");
	const char *name = s + 1, *rest;
	size_t nlen, rlen;

	r->cur = SEC_BAD;
	if (close >= len || s[close] != ']') {
		rerr(r, r->lineno, "missing ']' in section header");
		return;
	}
	rest = s + close + 1;
	rlen = len - close - 1;
	trim(&rest, &rlen);
	if (rlen > 0 && *rest != ';' && *rest != '#') {
		rerr(r, r->lineno, "unexpected text after section header: '%.*s'", (int)rlen, rest);
		return;
	}
	nlen = close - 1;
	trim(&name, &nlen);
	if (nlen == 0) {
		rerr(r, r->lineno, "empty section name");
		return;
	}
	for (size_t i = 0; i < nlen; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			rerr(r, r->lineno, "control character in section name");
			return;
		}
	}

	bool global = nlen == 6 && memcmp(name, "global", 6) == 0;
	size_t nrules = 0;
	struct tlsp_raw *raw = r->raw;

	for (size_t i = 0; i < raw->nsec; i++) {
		struct tlsp_raw_section *o = &raw->sec[i];

		nrules += !o->global;
		if (strlen(o->name) != nlen || memcmp(o->name, name, nlen) != 0)
			continue;
		if (global)
			rerr(r, r->lineno, "duplicate section [global] (first at line %u)",
			     o->line);
		else
			rerr(r, r->lineno, "duplicate rule name '%s' (first at line %u)", o->name,
			     o->line);
		return;
	}
	if (!global && nrules >= TLSP_MAX_RULES) {
		rerr(r, r->lineno, "too many rules (at most %d)", TLSP_MAX_RULES);
		return;
	}
	if (raw->nsec == raw->cap) {
		size_t ncap = raw->cap ? raw->cap * 2 : 8;
		struct tlsp_raw_section *ns = realloc(raw->sec, ncap * sizeof(*ns));

		if (ns == NULL) {
			r->oom = true;
			return;
		}
		raw->sec = ns;
		raw->cap = ncap;
	}
	struct tlsp_raw_section *sec = &raw->sec[raw->nsec];

	memset(sec, 0, sizeof(*sec));
	if ((sec->name = strndup(name, nlen)) == NULL) {
		r->oom = true;
		return;
	}
	sec->line = r->lineno;
	sec->global = global;
	r->cur = (long)raw->nsec++;
}

/* store_pair: one "key = value" on line r->lineno, from inih or split here. */
static void store_pair(struct reader *r, const char *name, const char *value)
{
	unsigned line = r->lineno;

	r->handled = true;
	if (r->cur == SEC_BAD)
		return;
	if (r->cur == SEC_NONE) {
		rerr(r, line, "key '%s' outside any section", name);
		return;
	}

	int k = tlsp_key_lookup(name);
	struct tlsp_raw_section *sec = &r->raw->sec[r->cur];

	if (k < 0) {
		rerr(r, line, "unknown key '%s'", name);
		return;
	}
	unsigned scope = tlsp_key_scope((enum tlsp_key)k);

	if (sec->global && !(scope & TLSP_SCOPE_GLOBAL)) {
		rerr(r, line, "'%s' is a rule key, not valid in [global]", name);
		return;
	}
	if (!sec->global && !(scope & TLSP_SCOPE_RULE)) {
		rerr(r, line, "'%s' is only valid in [global]", name);
		return;
	}
	if (sec->v[k].value != NULL) {
		rerr(r, line, "duplicate key '%s' (first at line %u)", name, sec->v[k].line);
		return;
	}
	if ((sec->v[k].value = strdup(value)) == NULL) {
		r->oom = true;
		return;
	}
	sec->v[k].line = line;
}

/* The handler's prototype follows whatever ini.h says; inih's section
 * argument (and line number, if any) is ignored, see the top comment. */
#if INI_HANDLER_LINENO
static int on_pair(void *user, const char *section, const char *name, const char *value, int lineno)
#else
static int on_pair(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct reader *r = user;

	/* name == NULL: the section callback of INI_CALL_HANDLER_ON_NEW_SECTION
	 * builds; inih never sees our headers, but stay safe. */
	if (name != NULL && value != NULL)
		store_pair(r, name, value);
	return 1;
}

/* long_pair: a key line too long for inih's buffer, split as inih would. */
static void long_pair(struct reader *r, const char *s, size_t len, size_t sep, size_t nlen)
{
	const char *v = s + sep + 1;
	size_t vlen = scan(v, len - sep - 1, NULL);
	char *buf;

	trim(&v, &vlen);
	if ((buf = malloc(nlen + vlen + 2)) == NULL) {
		r->oom = true;
		return;
	}
	memcpy(buf, s, nlen);
	buf[nlen] = '\0';
	memcpy(buf + nlen + 1, v, vlen);
	buf[nlen + 1 + vlen] = '\0';
	store_pair(r, buf, buf + nlen + 1);
	free(buf);
}

static void check_passed(struct reader *r)
{
	if (r->passed != 0 && !r->handled)
		rerr(r, r->passed, "syntax error");
	r->passed = 0;
}

/* reader_next: inih's ini_reader. Returns the next "key = value" line
 * (leading whitespace removed) or NULL at the end; see the top comment. */
static char *reader_next(char *buf, int num, void *stream)
{
	struct reader *r = stream;

	check_passed(r);
	while (r->p < r->end && !r->oom) {
		const char *s = r->p;
		const char *nl = memchr(s, '\n', (size_t)(r->end - s));
		size_t len = nl != NULL ? (size_t)(nl - s) : (size_t)(r->end - s);

		r->p = nl != NULL ? nl + 1 : r->end;
		r->lineno++;
		if (r->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			len -= 3;
		}
		if (len > TLSP_MAX_LINE) {
			rerr(r, r->lineno, "line too long (more than %d bytes)", TLSP_MAX_LINE);
			continue;
		}
		if (memchr(s, '\0', len) != NULL) {
			rerr(r, r->lineno, "NUL byte in line");
			continue;
		}
		trim(&s, &len);
		if (len == 0 || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			section_header(r, s, len);
			continue;
		}

		size_t sep = scan(s, len, "=:");

		if (sep == len || (s[sep] != '=' && s[sep] != ':')) {
			rerr(r, r->lineno, "expected 'key = value' or '[section]'");
			continue;
		}
		size_t nlen = sep;

		while (nlen > 0 && is_space(s[nlen - 1]))
			nlen--;
		if (nlen == 0) {
			rerr(r, r->lineno, "missing key name before '%c'", s[sep]);
			continue;
		}
		if (r->cur == SEC_BAD)
			continue;
		if (num > 1 && len + 2 <= (size_t)num) {
			/* With the newline an inih built with INI_ALLOW_REALLOC
			 * also sees a complete line. */
			memcpy(buf, s, len);
			buf[len] = '\n';
			buf[len + 1] = '\0';
			r->passed = r->lineno;
			r->handled = false;
			return buf;
		}
		long_pair(r, s, len, sep, nlen);
	}
	return NULL;
}

int tlsp_ini_read(const char *text, size_t len, const char *file, struct tlsp_raw *raw,
		  tlsp_errors *errs)
{
	struct reader r = {
		.p = text,
		.end = text + len,
		.file = file,
		.cur = SEC_NONE,
		.raw = raw,
		.errs = errs,
	};
	int rc = ini_parse_stream(reader_next, &r, on_pair, &r);

	check_passed(&r);
	if (rc == -2)
		r.oom = true;
	if (r.oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void tlsp_raw_free(struct tlsp_raw *raw)
{
	if (raw == NULL)
		return;
	for (size_t i = 0; i < raw->nsec; i++) {
		free(raw->sec[i].name);
		for (int k = 0; k < TLSP_K_COUNT; k++)
			free(raw->sec[i].v[k].value);
	}
	free(raw->sec);
	memset(raw, 0, sizeof(*raw));
}
