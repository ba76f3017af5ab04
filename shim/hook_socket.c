/*
 * hook_socket.c: where TLS connections begin and end: connect (client
 * rules), accept/accept4 (server rules; also the sockets a program
 * inherits, inherit.h), close, shutdown, and SO_ERROR.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fork.h"
#include "hooks.h"
#include "log.h"
#include "rules.h"

static bool is_tcp(int fd)
{
	int proto = 0;
	socklen_t len = sizeof proto;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
		return false;
	/* MPTCP (Linux 5.6+) is a TCP byte stream too: a matched port on it
	 * gets TLS like any other, never plaintext. */
	return proto == IPPROTO_TCP || proto == 262 /* IPPROTO_MPTCP */;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	shim_rule *rule = NULL;
	if (shim_rules_active() && addr &&
	    (addr->sa_family == AF_INET || addr->sa_family == AF_INET6) && !fdtab_get(fd))
		rule = shim_match_client(addr, len);
	if (!rule || !is_tcp(fd))
		return REAL(connect)(fd, addr, len);

	int ret = REAL(connect)(fd, addr, len);
	if (ret < 0 && errno != EINPROGRESS)
		return ret; /* no connection, nothing to protect */
	sconn *s = sconn_new(rule, fd, true, addr);
	if (!s || shim_fd_attach(fd, s) < 0) {
		/* Fail closed: a matched port never carries plaintext. */
		if (s)
			sconn_unref(s);
		REAL(shutdown)(fd, SHUT_RDWR);
		shim_log(SHIM_LOG_ERROR, "rule %s: out of memory; connection refused", rule->name);
		errno = ENOMEM;
		return -1;
	}
	if (ret < 0) /* EINPROGRESS: the handshake runs as the program polls */
		return ret;
	bool nb = pump_is_nonblocking(fd, 0);
	if (pump_handshake(s, fd, !nb) < 0) {
		if (nb && errno == EAGAIN)
			errno = EINPROGRESS;
		return -1;
	}
	return 0;
}

sconn *shim_server_adopt(int fd)
{
	if (!shim_rules_active())
		return NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return NULL;
	uint16_t port;
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return NULL;
	shim_rule *rule = shim_match_server(port);
	if (!rule || !is_tcp(fd))
		return NULL;
	sconn *s = sconn_new(rule, fd, false, NULL);
	if (!s || shim_fd_attach(fd, s) < 0) {
		if (s)
			sconn_unref(s);
		shim_log(SHIM_LOG_ERROR, "rule %s: out of memory; connection dropped", rule->name);
		errno = ENOMEM;
		return (sconn *)-1;
	}
	return s;
}

/* A connection accepted on a port a server rule names becomes TLS; the
 * handshake waits for the first read, write or poll (accept never stalls). */
static int adopt_accepted(int fd)
{
	if (fd < 0)
		return fd;
	shim_fd_forget(fd);
	if (shim_server_adopt(fd) == (sconn *)-1) {
		REAL(close)(fd); /* fail closed: never a matched connection in clear */
		errno = ENOMEM;
		return -1;
	}
	return fd;
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return adopt_accepted(REAL(accept)(fd, addr, len));
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return adopt_accepted(REAL(accept4)(fd, addr, len, flags));
}

SHIM_EXPORT int close(int fd)
{
	if (shim_ownfd_refused(fd)) /* tlshim's own (ownfd.h): not the program's to close */
		return -1;
	if (shim_fd_release(fd))
		return 0; /* parked: closed when the pump call using it returns */
	return REAL(close)(fd);
}

SHIM_EXPORT int shutdown(int fd, int how)
{
	sconn *s = fdtab_acquire(fd);
	if (!s)
		return REAL(shutdown)(fd, how);
	if (how == SHUT_WR || how == SHUT_RDWR) {
		/* Data a non-blocking program wrote is only queued once the
		 * handshake is done; finish it (bounded) so close_notify can
		 * follow the data instead of a bare FIN. */
		if (!sconn_ready(s))
			pump_handshake(s, fd, true);
		pump_shutdown_write(s, fd);
	}
	bool refused = shim_fork_refused(s); /* fork.h: the stream is another process's */
	shim_unref(s);
	if (refused) {
		errno = EPERM;
		return -1;
	}
	return REAL(shutdown)(fd, how);
}

SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET && name == SO_ERROR && val && len && *len >= sizeof(int)) {
		sconn *s = fdtab_acquire(fd);
		if (s) {
			int e = pump_errno(s);
			bool report = e && !__atomic_exchange_n(&s->so_error_reported, true,
								__ATOMIC_ACQ_REL);
			shim_unref(s);
			if (report) {
				*(int *)val = e;
				*len = sizeof(int);
				return 0;
			}
		}
	}
	return REAL(getsockopt)(fd, level, name, val, len);
}
