/*
 * inherit.c: the sockets a program starts with (inherit.h).
 */
#include "inherit.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "handover.h"
#include "hooks.h"
#include "log.h"

#define FALLBACK_FDS 1024 /* without /proc: the numbers probed */

typedef struct {
	dev_t dev;
	ino_t ino;
	sconn *s; /* the connection; NULL: no rule; (sconn *)-1: shut down */
} seen_sock;

/* A connected stream socket, not a listener: what accept() would return. */
static bool connected_stream(int fd)
{
	int v = 0;
	socklen_t l = sizeof v;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 || v != SOCK_STREAM)
		return false;
	v = 0;
	l = sizeof v;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0 || v)
		return false; /* listening: the accept hook decides per connection */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/* A matched socket we could not register: nothing may cross it in clear,
 * on any of its numbers (shutdown acts on the socket, not the number). */
static void refuse(int fd)
{
	REAL(shutdown)(fd, SHUT_RDWR);
	shim_log(SHIM_LOG_ERROR, "inherited fd %d: out of memory; connection shut down", fd);
}

/* One descriptor; ${seen} grows by the sockets met so far. */
static int adopt_one(int fd, seen_sock **seen, size_t *n, size_t *cap)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || fdtab_get(fd) || handover_named(fd) ||
	    !connected_stream(fd))
		return 0; /* handover_named: crossed exec, restored or left alone on purpose */
	for (size_t i = 0; i < *n; i++) {
		seen_sock *p = &(*seen)[i];
		if (p->dev != st.st_dev || p->ino != st.st_ino)
			continue;
		if (!p->s || p->s == (sconn *)-1)
			return 0; /* plain (no rule), or already shut down */
		if (shim_fd_attach(fd, p->s) < 0) {
			refuse(fd);
			return 0;
		}
		shim_log(SHIM_LOG_DEBUG, "inherited fd %d: another descriptor of %s", fd,
			 p->s->peer);
		return 1;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		seen_sock *m = realloc(*seen, c * sizeof *m);
		if (!m) {
			/* Without the record a later alias would become a second
			 * connection on the same stream: refuse a matched one. */
			sconn *s = shim_server_adopt(fd);
			if (s)
				refuse(fd);
			return 0;
		}
		*seen = m;
		*cap = c;
	}
	sconn *s = shim_server_adopt(fd);
	(*seen)[(*n)++] = (seen_sock){st.st_dev, st.st_ino, s};
	if (s == (sconn *)-1) {
		refuse(fd);
		return 0;
	}
	if (!s)
		return 0;
	shim_log(SHIM_LOG_DEBUG,
		 "inherited fd %d: connection from %s to %s: rule %s, TLS server (handshake on "
		 "first use)",
		 fd, s->peer, s->local, s->rule->name);
	return 1;
}

int shim_inherit_adopt(void)
{
	if (!shim_rules_active())
		return 0;
	seen_sock *seen = NULL;
	size_t n = 0, cap = 0;
	int adopted = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int self = dirfd(d);
		struct dirent *e;
		while ((e = readdir(d))) {
			char *end;
			long fd = strtol(e->d_name, &end, 10);
			if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end || fd == self)
				continue;
			adopted += adopt_one((int)fd, &seen, &n, &cap);
		}
		closedir(d);
	} else {
		for (int fd = 0; fd < FALLBACK_FDS; fd++)
			adopted += adopt_one(fd, &seen, &n, &cap);
	}
	free(seen);
	return adopted;
}
