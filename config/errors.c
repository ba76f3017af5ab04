/*
 * errors.c: the error list every loading step appends to. Messages are
 * formatted once, when found, so callers only print strings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

void tlsp_errors_init(tlsp_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
}

void tlsp_errors_free(tlsp_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->count; i++)
		free(errs->list[i].text);
	free(errs->list);
	tlsp_errors_init(errs);
}

const char *tlsp_errors_get(const tlsp_errors *errs, size_t i)
{
	if (errs == NULL || i >= errs->count)
		return NULL;
	return errs->list[i].text;
}

void tlsp_errors_print(FILE *fp, const tlsp_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->count; i++)
		fprintf(fp, "%s\n", errs->list[i].text);
}

int tlsp_err_add(tlsp_errors *errs, const char *file, unsigned line, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	if (errs == NULL)
		return 0;
	if (errs->count == errs->cap) {
		size_t ncap = errs->cap ? errs->cap * 2 : 8;
		struct tlsp_error *nl = realloc(errs->list, ncap * sizeof(*nl));

		if (nl == NULL)
			goto oom;
		errs->list = nl;
		errs->cap = ncap;
	}

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	char *text;
	int n = line ? asprintf(&text, "%s:%u: %s", file, line, reason)
		     : asprintf(&text, "%s: %s", file, reason);
	if (n < 0)
		goto oom;
	errs->list[errs->count].line = line;
	errs->list[errs->count].text = text;
	errs->count++;
	return 0;
oom:
	errs->oom = true;
	errno = ENOMEM;
	return -1;
}

void tlsp_err_sort(tlsp_errors *errs, size_t from)
{
	/* Insertion sort: stable, and the lists are short (one per mistake). */
	if (errs == NULL)
		return;
	for (size_t i = from + 1; i < errs->count; i++) {
		struct tlsp_error e = errs->list[i];
		size_t j = i;

		while (j > from && errs->list[j - 1].line > e.line) {
			errs->list[j] = errs->list[j - 1];
			j--;
		}
		errs->list[j] = e;
	}
}
