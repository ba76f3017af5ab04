/*
 * init.c: start-up. Finds the policy (TLSHIM_CONFIG, else the default file),
 * loads it, and fails closed: a named but invalid policy stops the program
 * with status 2 before main (INTERFACE.md). No policy at all: inert.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdtab.h"
#include "handover.h"
#include "inherit.h"
#include "log.h"
#include "pump.h"
#include "real.h"
#include "rules.h"

#define DEFAULT_POLICY "/etc/tlshim/tlshim.ini"

static int close_at_exit(int fd, struct sconn *s, void *arg)
{
	(void)arg;
	pump_close_at_exit(s, fd);
	return 0;
}

/* A program that exits without closing its sockets (redis-cli, most
 * command-line clients) would leave every peer with a truncation; end the
 * connections this process owns with close_notify, as close() would; stdio
 * is flushed first so output still buffered for a TLS stream goes out
 * before the close_notify.
 *
 * close_notify is sealed with libcrypto, so this must run before
 * OPENSSL_cleanup frees libcrypto's providers and algorithms. That runs at
 * exit (libcrypto registers it with atexit on its first initialisation)
 * or whenever the program calls it, typically from its own atexit handler
 * (which runs before any library destructor: a destructor came too late).
 * So the constructor hands this to OPENSSL_atexit, whose handlers
 * OPENSSL_cleanup runs first, before it frees anything, however it was
 * reached; the destructor calls it too, for a process in which libcrypto's
 * clean-up never runs (OPENSSL_INIT_NO_ATEXIT). Once only: after an
 * explicit OPENSSL_cleanup the library cannot be used again, so every
 * connection ends there. Runs from exit() (not _exit), after the program's
 * own atexit handlers registered after libcrypto's first use. */
static void close_all(void)
{
	static bool done;
	if (__atomic_exchange_n(&done, true, __ATOMIC_ACQ_REL))
		return;
	fflush(NULL);
	fdtab_foreach(close_at_exit, NULL);
}

__attribute__((constructor)) static void shim_init(void)
{
	shim_real_init();
	const char *path = getenv("TLSHIM_CONFIG");
	if (!path || !*path) {
		if (access(DEFAULT_POLICY, F_OK) != 0) {
			handover_restore(); /* fails closed: no policy here */
			return;             /* no policy anywhere: the library does nothing */
		}
		path = DEFAULT_POLICY;
	}
	if (shim_rules_load(path, stderr) < 0) {
		fprintf(stderr,
			"tlshim[%d]: error: invalid policy %s; refusing to run (fail closed)\n",
			(int)getpid(), path);
		fflush(stderr);
		_exit(2);
	}
	/* Before libcrypto tears itself down (issue 9, 9): see close_all. */
	if (shim_rules_active() && !OPENSSL_atexit(close_all))
		shim_log(SHIM_LOG_WARN, "OPENSSL_atexit failed: connections open at exit may "
					"end without close_notify");
	shim_log(SHIM_LOG_DEBUG, "policy %s loaded", path);
	handover_restore();   /* connections that crossed exec (handover.h): first */
	shim_inherit_adopt(); /* inetd, tcpserver, systemd Accept=yes (inherit.h) */
}

__attribute__((destructor)) static void shim_fini(void)
{
	if (shim_rules_active())
		close_all();
}
