/*
 * tlshim: the wrapper (INTERFACE.md "The wrapper").
 *
 *   tlshim [-c FILE] [-l LEVEL] [--] PROGRAM [ARG...]
 *   tlshim --check FILE
 *   tlshim [-c FILE] --which HOST:PORT | server:PORT
 *   tlshim --version | --help
 *
 * It validates the policy exactly as the library will (same code: config/
 * plus shim/rules.c), refuses programs the preload cannot reach (static
 * binaries, setuid), and execs PROGRAM with libtlshim.so first in
 * LD_PRELOAD and TLSHIM_CONFIG set to the policy's absolute path.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "log.h"
#include "rules.h"
#include "which.h"

#ifndef TLSHIM_VERSION
#define TLSHIM_VERSION "0.0.0"
#endif
#ifndef TLSHIM_LIBRARY_DEFAULT
#define TLSHIM_LIBRARY_DEFAULT ""
#endif
#define DEFAULT_POLICY "/etc/tlshim/tlshim.ini"

static void usage(FILE *out)
{
	fputs("usage: tlshim [-c FILE] [-l LEVEL] [--] PROGRAM [ARG...]\n"
	      "       tlshim --check FILE\n"
	      "       tlshim [-c FILE] --which HOST:PORT | server:PORT\n"
	      "       tlshim ca init|issue|pin ...   (a small CA for policies; tlshim ca --help)\n"
	      "       tlshim --version | --help\n"
	      "\n"
	      "Runs PROGRAM with TLS on the TCP ports the policy FILE names.\n"
	      "  -c FILE     policy (default: $TLSHIM_CONFIG, else " DEFAULT_POLICY ")\n"
	      "  -l LEVEL    log level: error, warn, info, debug (sets TLSHIM_LOG)\n"
	      "  --check FILE  validate FILE and print the effective rules; exit 0 if\n"
	      "              valid, 2 if not (every error as FILE:LINE: reason)\n"
	      "  --which HOST:PORT   which client rule a connect() to HOST:PORT gets, and why\n"
	      "  --which server:PORT which server rule connections accepted on PORT get\n"
	      "              (exit 0: a rule matches, 1: none, the connection stays plain TCP)\n"
	      "Environment: TLSHIM_LIBRARY overrides where libtlshim.so is found.\n"
	      "See tlshim(1) and tlshim.ini(5).\n",
	      out);
}

static int check(const char *path)
{
	if (shim_rules_check(path, stderr) < 0)
		return 2;
	shim_rules_print(stdout);
	return 0;
}

/* The library: $TLSHIM_LIBRARY, else next to an installed wrapper
 * (PREFIX/bin/tlshim -> PREFIX/lib/tlshim/libtlshim.so), else the build
 * tree this wrapper was built in. */
static const char *find_library(char *buf, size_t len)
{
	const char *env = getenv("TLSHIM_LIBRARY");
	if (env && *env)
		return env;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			int k = snprintf(buf, len, "%s/../lib/tlshim/libtlshim.so", self);
			if (k > 0 && (size_t)k < len && access(buf, R_OK) == 0)
				return buf;
		}
	}
	if (access(TLSHIM_LIBRARY_DEFAULT, R_OK) == 0)
		return TLSHIM_LIBRARY_DEFAULT;
	return NULL;
}

/* PROGRAM as execvp would find it. */
static bool resolve(const char *prog, char *out, size_t len)
{
	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		snprintf(out, len, "%.*s/%s", (int)(end - path), path, prog);
		if (access(out, X_OK) == 0)
			return true;
		path = *end ? end + 1 : end;
	}
	return false;
}

/* An ELF executable without PT_INTERP is static: the loader that honours
 * LD_PRELOAD never runs, so the program would talk in clear. Scripts and
 * anything not ELF are left to their interpreter. */
static bool is_static_elf(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	Elf64_Ehdr eh;
	bool is_static = false;
	if (read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh.e_type == ET_EXEC) {
		is_static = true;
		for (int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof ph,
				  (off_t)(eh.e_phoff + (size_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof ph)
				break;
			if (ph.p_type == PT_INTERP) {
				is_static = false;
				break;
			}
		}
	}
	close(fd);
	return is_static;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ca") == 0)
		return tlshim_ca_main(argc - 1, argv + 1);
	const char *policy = NULL, *level = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("tlshim %s\n", TLSHIM_VERSION);
			return 0;
		} else if (strcmp(a, "--check") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tlshim: --check needs a FILE\n");
				return 2;
			}
			return check(argv[i + 1]);
		} else if (strcmp(a, "--which") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tlshim: --which needs HOST:PORT or server:PORT\n");
				return 2;
			}
			return tlshim_which(policy, argv[i + 1]);
		} else if (strcmp(a, "-c") == 0 && i + 1 < argc) {
			policy = argv[++i];
		} else if (strcmp(a, "-l") == 0 && i + 1 < argc) {
			level = argv[++i];
		} else if (a[0] == '-') {
			fprintf(stderr, "tlshim: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (level && shim_log_parse_level(level) < 0) {
		fprintf(stderr, "tlshim: -l %s: level must be error, warn, info or debug\n", level);
		return 2;
	}
	if (!policy)
		policy = getenv("TLSHIM_CONFIG");
	if (!policy || !*policy)
		policy = access(DEFAULT_POLICY, F_OK) == 0 ? DEFAULT_POLICY : NULL;

	char abs[PATH_MAX];
	if (policy) {
		if (!realpath(policy, abs)) {
			fprintf(stderr, "%s: cannot open: %s\n", policy, strerror(errno));
			return 2;
		}
		if (shim_rules_check(policy, stderr) < 0)
			return 2; /* the same messages the library would print */
		setenv("TLSHIM_CONFIG", abs, 1);
	} else {
		fprintf(stderr,
			"tlshim: warning: no policy (-c, $TLSHIM_CONFIG or " DEFAULT_POLICY
			"); running %s without TLS\n",
			argv[i]);
		unsetenv("TLSHIM_CONFIG");
	}
	if (level)
		setenv("TLSHIM_LOG", level, 1);

	char prog[PATH_MAX];
	if (!resolve(argv[i], prog, sizeof prog)) {
		fprintf(stderr, "tlshim: %s: command not found\n", argv[i]);
		return 127;
	}
	struct stat st;
	if (policy && stat(prog, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID))) {
		fprintf(stderr,
			"tlshim: %s is setuid/setgid: the loader ignores LD_PRELOAD for it, so it "
			"would talk in clear; refusing\n",
			prog);
		return 2;
	}
	if (policy && is_static_elf(prog)) {
		fprintf(stderr,
			"tlshim: %s is statically linked: LD_PRELOAD cannot reach it, so it would "
			"talk in clear; refusing\n",
			prog);
		return 2;
	}

	char libbuf[PATH_MAX];
	const char *lib = find_library(libbuf, sizeof libbuf);
	if (!lib) {
		fprintf(stderr, "tlshim: cannot find libtlshim.so (set TLSHIM_LIBRARY)\n");
		return 2;
	}
	char librealpath[PATH_MAX];
	if (realpath(lib, librealpath))
		lib = librealpath;
	const char *old = getenv("LD_PRELOAD");
	size_t need = strlen(lib) + (old ? strlen(old) + 2 : 1);
	char *preload = malloc(need);
	if (!preload)
		return 2;
	snprintf(preload, need, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	execv(prog, argv + i);
	fprintf(stderr, "tlshim: %s: %s\n", prog, strerror(errno));
	return 126;
}
