/*
 * path.c: absolute paths for the policy file and the files it names
 * (INTERFACE.md: relative paths resolve against the policy file's
 * directory). Purely lexical: the files need not exist yet (log_file,
 * keylog), and symbolic links are left alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy_internal.h"

/* tidy(p): in place, drop empty and "." segments of the absolute path ${p}. */
static void tidy(char *p)
{
	const char *r = p;
	char *w = p;

	while (*r != '\0') {
		const char *seg;
		size_t len;

		while (*r == '/')
			r++;
		seg = r;
		while (*r != '\0' && *r != '/')
			r++;
		len = (size_t)(r - seg);
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		*w++ = '/';
		memmove(w, seg, len);
		w += len;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

char *tlsp_path_join(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/') {
		out = strdup(path);
	} else if (asprintf(&out, "%s/%s", dir, path) < 0) {
		out = NULL;
		errno = ENOMEM;
	}
	if (out != NULL)
		tidy(out);
	return out;
}

char *tlsp_path_abs(const char *path)
{
	char *cwd, *out;

	if (path[0] == '/')
		return tlsp_path_join("/", path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	out = tlsp_path_join(cwd, path);
	free(cwd);
	return out;
}

char *tlsp_path_dir(const char *abs)
{
	const char *slash = strrchr(abs, '/');

	if (slash == NULL || slash == abs)
		return strdup("/");
	return strndup(abs, (size_t)(slash - abs));
}
