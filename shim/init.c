/*
 * init.c: start-up. Finds the policy (TLSHIM_CONFIG, else the default file),
 * loads it, and fails closed: a named but invalid policy stops the program
 * with status 2 before main (INTERFACE.md). No policy at all: inert.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "real.h"
#include "rules.h"

#define DEFAULT_POLICY "/etc/tlshim/tlshim.ini"

__attribute__((constructor)) static void shim_init(void)
{
	shim_real_init();
	const char *path = getenv("TLSHIM_CONFIG");
	if (!path || !*path) {
		if (access(DEFAULT_POLICY, F_OK) != 0)
			return; /* no policy anywhere: the library does nothing */
		path = DEFAULT_POLICY;
	}
	if (shim_rules_load(path, stderr) < 0) {
		fprintf(stderr,
			"tlshim[%d]: error: invalid policy %s; refusing to run (fail closed)\n",
			(int)getpid(), path);
		fflush(stderr);
		_exit(2);
	}
	shim_log(SHIM_LOG_DEBUG, "policy %s loaded", path);
}
