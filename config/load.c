/*
 * load.c: the public entry points: read the file, run the two passes
 * (ini_read.c, build.c), sort the messages, free a policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* load_text: both passes over ${len} bytes of ${text}. */
static int load_text(const char *text, size_t len, const char *file, tlsp_policy **out,
		     tlsp_errors *errs)
{
	struct tlsp_raw raw = {0};
	size_t from = errs->count;
	char *abspath = NULL;
	int rc = -1;

	if ((abspath = tlsp_path_abs(file)) == NULL) {
		if (errno == ENOMEM)
			goto oom;
		tlsp_err_add(errs, file, 0, "cannot make the path absolute: %s", strerror(errno));
		goto out;
	}
	if (tlsp_ini_read(text, len, file, &raw, errs) != 0 ||
	    tlsp_build(&raw, file, abspath, out, errs) != 0)
		goto oom;
	if (errs->count == from && !errs->oom)
		rc = 0;
	goto out;
oom:
	errs->oom = true;
out:
	tlsp_err_sort(errs, from);
	if (rc != 0) {
		tlsp_free(*out);
		*out = NULL;
		if (errs->oom)
			errno = ENOMEM;
	}
	tlsp_raw_free(&raw);
	free(abspath);
	return rc;
}

/* read_all(path, buf, len): the whole file, NUL-terminated. -1 with errno;
 * EFBIG when it is larger than TLSP_MAX_FILE. */
static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *fp = fopen(path, "re");
	size_t cap = 4096, n = 0;
	char *b = NULL;
	int e = 0;

	if (fp == NULL)
		return -1;
	for (;;) {
		if (n + 1 >= cap || b == NULL) {
			char *nb;

			if (b != NULL)
				cap *= 2;
			if ((nb = realloc(b, cap)) == NULL) {
				e = ENOMEM;
				break;
			}
			b = nb;
		}
		size_t got = fread(b + n, 1, cap - n - 1, fp);

		n += got;
		if (n > TLSP_MAX_FILE) {
			e = EFBIG;
			break;
		}
		if (got == 0) {
			if (ferror(fp))
				e = errno != 0 ? errno : EIO;
			break;
		}
	}
	fclose(fp);
	if (e != 0) {
		free(b);
		errno = e;
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static int run(const char *text, size_t len, const char *file, tlsp_policy **out, tlsp_errors *errs)
{
	tlsp_errors local = {0};
	int rc = load_text(text, len, file, out, errs != NULL ? errs : &local);
	int e = errno;

	tlsp_errors_free(&local);
	errno = e;
	return rc;
}

int tlsp_load(const char *path, tlsp_policy **out, tlsp_errors *errs)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if (read_all(path, &text, &len) != 0) {
		int e = errno;

		if (e == ENOMEM) {
			if (errs != NULL)
				errs->oom = true;
		} else if (e == EFBIG) {
			tlsp_err_add(errs, path, 0, "too large (more than %d bytes)",
				     TLSP_MAX_FILE);
		} else {
			tlsp_err_add(errs, path, 0, "cannot open: %s", strerror(e));
		}
		errno = e;
		return -1;
	}
	rc = run(text, len, path, out, errs);
	free(text);
	return rc;
}

int tlsp_load_string(const char *text, const char *virtual_path, tlsp_policy **out,
		     tlsp_errors *errs)
{
	*out = NULL;
	return run(text, strlen(text), virtual_path, out, errs);
}

void tlsp_free(tlsp_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		tlsp_rule *r = &p->rules[i];

		free(r->name);
		free(r->cert);
		free(r->key);
		free(r->ca);
		free(r->server_name);
		free(r->pin);
		free(r->ciphers);
		free(r->groups);
		free(r->alpn);
	}
	free(p->rules);
	free(p->path);
	free(p->dir);
	free(p->log_file);
	free(p->keylog);
	free(p);
}
