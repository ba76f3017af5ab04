/*
 * init.c: start-up. Finds the policy (TLSHIM_CONFIG, else the default file),
 * loads it, and fails closed: a named but invalid policy stops the program
 * with status 2 before main (INTERFACE.md). No policy at all: inert.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdtab.h"
#include "inherit.h"
#include "log.h"
#include "pump.h"
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
	shim_inherit_adopt(); /* inetd, tcpserver, systemd Accept=yes (inherit.h) */
}

static int close_at_exit(int fd, struct sconn *s, void *arg)
{
	(void)arg;
	pump_close_at_exit(s, fd);
	return 0;
}

/* A program that exits without closing its sockets (redis-cli, most
 * command-line clients) would leave every peer with a truncation; end the
 * connections this process owns with close_notify, as close() would. Runs
 * from exit() (not _exit), after the program's own atexit handlers; stdio
 * is flushed first so output still buffered for a TLS stream goes out
 * before the close_notify. */
__attribute__((destructor)) static void shim_fini(void)
{
	if (!shim_rules_active())
		return;
	fflush(NULL);
	fdtab_foreach(close_at_exit, NULL);
}
