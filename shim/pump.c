#include "pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "consts.h"
#include "fork.h"
#include "hint.h"
#include "log.h"
#include "real.h"

/* How long close()/shutdown() may wait to get queued records and
 * close_notify out, even on a non-blocking socket (the kernel would have
 * kept sending after close, so dropping them would lose data). */
#define CLOSE_FLUSH_US (2u * 1000000u)

bool pump_is_nonblocking(int fd, int flags)
{
	if (flags & MSG_DONTWAIT)
		return true;
	int fl = REAL(fcntl)(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

void pump_set_nonblocking(sconn *s, bool on)
{
	__atomic_store_n(&s->nonblock, on, __ATOMIC_RELAXED);
}

/* The socket's mode as the program last set it (no syscall per call). */
static bool nonblocking(const sconn *s, int flags)
{
	return (flags & MSG_DONTWAIT) || __atomic_load_n(&s->nonblock, __ATOMIC_RELAXED);
}

static bool failed(const sconn *s)
{
	return s->sock_errno || s->timed_out || (tls_conn_state(s->tls) & TLS_ST_FAILED);
}

/* Alerts a server sends when it does not accept our certificate. */
static bool rejects_our_certificate(uint8_t alert)
{
	switch (alert) {
	case TLS_ALERT_BAD_CERTIFICATE:
	case TLS_ALERT_UNSUPPORTED_CERTIFICATE:
	case TLS_ALERT_CERTIFICATE_REVOKED:
	case TLS_ALERT_CERTIFICATE_EXPIRED:
	case TLS_ALERT_CERTIFICATE_UNKNOWN:
	case TLS_ALERT_UNKNOWN_CA:
	case TLS_ALERT_ACCESS_DENIED:
	case TLS_ALERT_CERTIFICATE_REQUIRED:
		return true;
	}
	return false;
}

int pump_errno(sconn *s)
{
	if (s->sock_errno)
		return s->sock_errno;
	if (s->timed_out) /* INTERFACE.md: a server rule's program only sees ECONNRESET */
		return s->client ? ETIMEDOUT : ECONNRESET;
	uint8_t alert = 0;
	switch (tls_conn_error(s->tls, &alert, NULL, NULL)) {
	case TLS_ERR_NONE:
		return 0;
	case TLS_ERR_AUTH:
		/* INTERFACE.md: a server rule's program only ever sees ECONNRESET. */
		return s->client ? EACCES : ECONNRESET;
	case TLS_ERR_PEER_ALERT:
		if (s->client && !s->ready &&
		    (rejects_our_certificate(alert) || (alert == TLS_ALERT_HANDSHAKE_FAILURE &&
							tls_conn_client_cert_missing(s->tls))))
			return EACCES;
		return ECONNRESET;
	default:
		return ECONNRESET;
	}
}

static const char *direction(const sconn *s)
{
	return s->client ? "client" : "server";
}

static void log_failure(sconn *s)
{
	if (s->failure_logged)
		return;
	s->failure_logged = true;
	const char *reason = "";
	uint8_t alert = 0;
	bool from_peer = false;
	tls_conn_error(s->tls, &alert, &from_peer, &reason);
	if (s->timed_out)
		reason = "handshake_timeout passed";
	else if (s->sock_errno)
		reason = strerror(s->sock_errno);
	/* A peer that goes away after the handshake is an ordinary event; a
	 * refused handshake or a broken record is worth a warning. */
	int level = s->ready && (s->sock_errno ||
				 tls_conn_error(s->tls, NULL, NULL, NULL) == TLS_ERR_TRUNCATED)
			    ? SHIM_LOG_INFO
			    : SHIM_LOG_WARN;
	/* ... and what to change (issue 4), after " -- ". */
	char hint[512] = "";
	if (shim_log_enabled(level))
		shim_refusal_hint(s, hint, sizeof hint);
	shim_log(level, "rule %s: %s %s <-> %s: %s: %s%s%s", s->rule->name, direction(s), s->local,
		 s->peer, s->ready ? "connection failed" : "handshake refused", reason,
		 hint[0] ? " -- " : "", hint);
}

/* -l debug: the engine's handshake steps, one line each. The line may
 * carry the peer's bytes (its SNI, its certificate subject): control
 * characters are masked. */
static void trace_line(void *arg, const char *line)
{
	const sconn *s = arg;
	char clean[512];
	size_t n = 0;
	for (; line[n] && n < sizeof clean - 1; n++)
		clean[n] = (unsigned char)line[n] < 0x20 || line[n] == 0x7f ? '?' : line[n];
	clean[n] = '\0';
	shim_log(SHIM_LOG_DEBUG, "rule %s: %s %s <-> %s: %s", s->rule->name, direction(s), s->local,
		 s->peer, clean);
}

static void on_established(sconn *s)
{
	tls_info info;
	bool have = tls_conn_info(s->tls, &info) == 0;
	/* legacy_peers = yes let this peer in (INTERFACE.md): say what it
	 * lacked, on the info line and as a warning. */
	const char *legacy = !have || (info.ems && info.secure_reneg) ? NULL
			     : !info.ems && !info.secure_reneg
				     ? "no extended master secret, no renegotiation_info"
			     : !info.ems ? "no extended master secret"
					 : "no renegotiation_info";
	if (have && shim_log_enabled(SHIM_LOG_INFO))
		shim_log(SHIM_LOG_INFO,
			 "rule %s: %s %s <-> %s: TLSv1.2 %s%s%s peer \"%s\" %s in %.1f ms%s%s",
			 s->rule->name, direction(s), s->local, s->peer, info.suite_name,
			 info.group_name[0] ? " " : "", info.group_name,
			 info.peer_cert ? info.peer_subject : "-", info.resumed ? "resumed" : "new",
			 (double)(shim_now_us() - s->started_us) / 1000.0,
			 legacy ? ", legacy peer: " : "", legacy ? legacy : "");
	if (legacy)
		shim_log(SHIM_LOG_WARN,
			 "rule %s: %s %s <-> %s: legacy peer: %s (RFC 7627, RFC 5746); accepted "
			 "because of legacy_peers = yes; the session is not resumable",
			 s->rule->name, direction(s), s->local, s->peer, legacy);
	if (s->client && s->rule->verify_none)
		shim_log(SHIM_LOG_WARN,
			 "rule %s: %s: verify_peer = none: the server's identity was NOT verified",
			 s->rule->name, s->peer);
	if (s->client) {
		tls_session *sess = tls_conn_get_session(s->tls);
		if (sess) {
			shim_rule_session_put(s->rule, s->cfg_gen, s->peer, sess);
			tls_session_unref(sess);
		}
	}
	__atomic_store_n(&s->ready, true, __ATOMIC_RELEASE);
}

/* The TCP connection broke (or never came up): keep its errno, unless a
 * TLS failure came first. */
static void transport_failed(sconn *s, int err)
{
	if (!failed(s))
		s->sock_errno = err == EPIPE ? ECONNRESET : err;
}

/* Send queued ciphertext. 0 when none is left, -1 with errno otherwise. */
static int send_pending(sconn *s, int fd, int flags)
{
	for (;;) {
		size_t len;
		const uint8_t *p = tls_conn_sendbuf(s->tls, &len);
		if (!p)
			return 0;
		ssize_t w = REAL(send)(fd, p, len, flags);
		if (w > 0) {
			tls_conn_send_done(s->tls, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR && !(flags & MSG_DONTWAIT))
			continue;
		if (w == 0)
			errno = EAGAIN;
		return -1;
	}
}

/* Wait for ${events} on ${fd} until ${deadline_us}; false when it passed. */
static bool wait_until(int fd, short events, uint64_t deadline_us)
{
	uint64_t now = shim_now_us();
	if (now >= deadline_us)
		return false;
	struct pollfd p = {.fd = fd, .events = events};
	int ms = (int)((deadline_us - now + 999) / 1000);
	REAL(poll)(&p, 1, ms); /* EINTR: the caller loops and re-checks */
	return true;
}

/* Peer bytes for a plaintext = allow server rule: a TLS client starts with
 * a handshake record (type 22); anyone else is passed through in clear. */
static int sniff(sconn *s, int fd, bool block)
{
	for (;;) {
		uint8_t b;
		ssize_t r = REAL(recv)(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r >= 0) {
			s->sniffed = true;
			if (r == 0 || b != TLS_CT_HANDSHAKE) {
				s->plaintext = true;
				shim_log(SHIM_LOG_WARN,
					 "rule %s: server %s <-> %s: peer did not start TLS; "
					 "passing it through in clear (plaintext = allow)",
					 s->rule->name, s->local, s->peer);
			}
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* A silent peer times out here too, blocking or not, so that
		 * readiness calls report it instead of waiting forever. */
		if (shim_now_us() >= s->deadline_us ||
		    (block && !wait_until(fd, POLLIN, s->deadline_us))) {
			s->timed_out = true;
			log_failure(s);
			errno = pump_errno(s);
			return -1;
		}
		if (!block)
			return -1;
	}
}

/* The handshake loop; both locks held. */
static int drive(sconn *s, int fd, bool block)
{
	/* Every handshake byte moves through here, with both locks held. */
	if (shim_log_enabled(SHIM_LOG_DEBUG))
		tls_conn_set_trace(s->tls, trace_line, s);
	for (;;) {
		if (failed(s)) {
			/* Best effort: the fatal alert, if any, goes out. */
			send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL);
			log_failure(s);
			errno = pump_errno(s);
			return -1;
		}
		short need = 0;
		if (send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				transport_failed(s, errno);
				continue;
			}
			need |= POLLOUT;
		}
		unsigned st = tls_conn_state(s->tls);
		if (st & TLS_ST_FAILED)
			continue;
		if ((st & TLS_ST_ESTABLISHED) && !(need && block)) {
			if (!s->client) {
				/* The client's final flight may be waiting for our
				 * ACK: in a resumed handshake nothing of ours
				 * follows it, so a delayed ACK would hold the
				 * client's first request behind Nagle for up to
				 * 40 ms. Acknowledge now (the kernel's quick-ack
				 * mode ends by itself). */
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
			}
			on_established(s);
			return 0;
		}
		if (st & TLS_ST_WANT_INPUT) {
			size_t room;
			uint8_t *b = tls_conn_recvbuf(s->tls, &room);
			ssize_t r = b ? REAL(recv)(fd, b, room, MSG_DONTWAIT) : -1;
			if (r > 0) {
				tls_conn_recv_done(s->tls, (size_t)r);
				continue;
			}
			if (r == 0) {
				tls_conn_eof(s->tls);
				continue;
			}
			if (b && errno == EINTR)
				continue;
			if (b && errno != EAGAIN && errno != EWOULDBLOCK) {
				transport_failed(s, errno);
				continue;
			}
			need |= POLLIN;
		}
		if (!need)
			need = POLLIN;
		if (shim_now_us() >= s->deadline_us) {
			s->timed_out = true;
			continue;
		}
		if (!block) {
			errno = EAGAIN;
			return -1;
		}
		wait_until(fd, need, s->deadline_us);
	}
}

int pump_handshake(sconn *s, int fd, bool block)
{
	if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&s->wr);
	pthread_mutex_lock(&s->rd);
	int r = shim_fork_claim(s);
	if (r == 0 && !s->ready && !s->plaintext) {
		if (!s->client && s->rule->plaintext_allow && !s->sniffed)
			r = sniff(s, fd, block);
		if (r == 0 && !s->plaintext)
			r = drive(s, fd, block);
	}
	int saved = errno;
	pthread_mutex_unlock(&s->rd);
	pthread_mutex_unlock(&s->wr);
	errno = saved;
	return r;
}

/* Flush from the read side without waiting for the write lock. */
static void flush_if_free(sconn *s, int fd)
{
	if (pthread_mutex_trylock(&s->wr) != 0)
		return;
	int saved = errno;
	if (shim_fork_claim(s) == 0 && send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK)
		transport_failed(s, errno);
	errno = saved;
	pthread_mutex_unlock(&s->wr);
}

ssize_t pump_recv(sconn *s, int fd, void *buf, size_t n, int flags)
{
	bool nb = nonblocking(s, flags);
	if (pump_handshake(s, fd, !nb) < 0)
		return -1;
	if (s->plaintext)
		return REAL(recv)(fd, buf, n, flags);
	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->rd);
	if (shim_fork_claim(s) < 0) { /* another process uses it since fork (fork.h) */
		pthread_mutex_unlock(&s->rd);
		errno = EPERM;
		return -1;
	}
	size_t got = 0;
	ssize_t ret;
	for (;;) {
		if (flags & MSG_PEEK) {
			size_t len;
			const uint8_t *p = tls_conn_peek(s->tls, &len);
			if (len > 0) {
				got = len < n ? len : n;
				memcpy(buf, p, got);
				ret = (ssize_t)got;
				break;
			}
		} else {
			got += tls_conn_read(s->tls, (uint8_t *)buf + got, n - got);
			if (got == n || (got > 0 && !(flags & MSG_WAITALL))) {
				ret = (ssize_t)got;
				break;
			}
		}
		unsigned st = tls_conn_state(s->tls);
		if (st & TLS_ST_SEND)
			flush_if_free(s, fd); /* an alert or the tail of the handshake */
		if (failed(s)) {
			log_failure(s);
			if (got > 0) {
				ret = (ssize_t)got;
				break;
			}
			errno = pump_errno(s);
			ret = -1;
			break;
		}
		if (st & TLS_ST_PEER_CLOSED) {
			ret = (ssize_t)got; /* end of stream after close_notify */
			break;
		}
		size_t room;
		uint8_t *b = tls_conn_recvbuf(s->tls, &room);
		ssize_t r = b ? REAL(recv)(fd, b, room, nb ? MSG_DONTWAIT : 0) : -1;
		if (r > 0) {
			tls_conn_recv_done(s->tls, (size_t)r);
			continue;
		}
		if (r == 0) {
			tls_conn_eof(s->tls); /* truncation unless close_notify came */
			continue;
		}
		if (!b)
			errno = EIO;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			transport_failed(s, errno);
		if (got > 0) {
			ret = (ssize_t)got;
			break;
		}
		ret = -1;
		break;
	}
	int saved = errno;
	pthread_mutex_unlock(&s->rd);
	errno = saved;
	return ret;
}

ssize_t pump_send(sconn *s, int fd, const void *buf, size_t n, int flags)
{
	bool nb = nonblocking(s, flags);
	if (pump_handshake(s, fd, !nb) < 0)
		return -1;
	if (s->plaintext)
		return REAL(send)(fd, buf, n, flags);
	int sflags = (flags & MSG_NOSIGNAL) | (nb ? MSG_DONTWAIT : 0);
	pthread_mutex_lock(&s->wr);
	if (shim_fork_claim(s) < 0) { /* another process uses it since fork (fork.h) */
		pthread_mutex_unlock(&s->wr);
		errno = EPERM;
		return -1;
	}
	size_t taken = 0;
	ssize_t ret = 0;
	for (;;) {
		if (failed(s)) {
			log_failure(s);
			errno = pump_errno(s);
			ret = -1;
			break;
		}
		if (s->shut_wr || (tls_conn_state(s->tls) & TLS_ST_CLOSED)) {
			errno = EPIPE; /* writing after shutdown(SHUT_WR), as TCP says */
			ret = -1;
			break;
		}
		size_t k = taken < n
				   ? tls_conn_write(s->tls, (const uint8_t *)buf + taken, n - taken)
				   : 0;
		taken += k;
		if (send_pending(s, fd, sflags) == 0) {
			if (taken == n) {
				ret = (ssize_t)n;
				break;
			}
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (k > 0 && taken < n)
				continue; /* the engine took some; try to take more */
			ret = -1;
			break;
		}
		if (errno != EINTR)
			transport_failed(s, errno);
		ret = -1;
		break;
	}
	/* Bytes sealed into records are the program's bytes sent: never
	 * report an error after taking some (DESIGN.md, partial writes). */
	if (taken > 0)
		ret = (ssize_t)taken;
	int saved = errno;
	pthread_mutex_unlock(&s->wr);
	errno = saved;
	return ret;
}

/* Advance a pending handshake without blocking or waiting for a lock. */
static void handshake_if_free(sconn *s, int fd)
{
	if (pthread_mutex_trylock(&s->wr) != 0)
		return;
	if (pthread_mutex_trylock(&s->rd) == 0) {
		if (!s->ready && !s->plaintext && shim_fork_claim(s) == 0) {
			int r = 0;
			if (!s->client && s->rule->plaintext_allow && !s->sniffed)
				r = sniff(s, fd, false);
			if (r == 0 && !s->plaintext)
				drive(s, fd, false);
		}
		pthread_mutex_unlock(&s->rd);
	}
	pthread_mutex_unlock(&s->wr);
}

void pump_prepare(sconn *s, int fd)
{
	int saved = errno;
	if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		handshake_if_free(s, fd);
	else if (!s->plaintext && (tls_conn_state(s->tls) & TLS_ST_SEND))
		flush_if_free(s, fd);
	errno = saved;
}

void pump_progress(sconn *s, int fd)
{
	int saved = errno;
	if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE)) {
		handshake_if_free(s, fd);
		errno = saved;
		return;
	}
	if (s->plaintext) {
		errno = saved;
		return;
	}
	flush_if_free(s, fd);
	if (pthread_mutex_trylock(&s->rd) == 0) {
		unsigned st = tls_conn_state(s->tls);
		if (!(st & (TLS_ST_READABLE | TLS_ST_FAILED | TLS_ST_PEER_CLOSED)) && !failed(s) &&
		    shim_fork_claim(s) == 0) {
			size_t room;
			uint8_t *b = tls_conn_recvbuf(s->tls, &room);
			ssize_t r = b ? REAL(recv)(fd, b, room, MSG_DONTWAIT) : -1;
			if (r > 0)
				tls_conn_recv_done(s->tls, (size_t)r);
			else if (r == 0)
				tls_conn_eof(s->tls);
			else if (b && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				transport_failed(s, errno);
			if (tls_conn_state(s->tls) & TLS_ST_SEND)
				flush_if_free(s, fd);
		}
		pthread_mutex_unlock(&s->rd);
	}
	errno = saved;
}

short pump_revents(sconn *s, short want, short *need)
{
	*need = 0;
	if (failed(s) || shim_fork_refused(s))
		return (short)((want & (POLLIN | POLLOUT)) | POLLERR);
	unsigned st = tls_conn_state(s->tls);
	if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE)) {
		/* Handshaking: nothing for the program yet; wait for what the
		 * handshake needs next (a plaintext = allow server first waits
		 * for the peer's first byte). */
		if (st & TLS_ST_SEND)
			*need |= POLLOUT;
		if ((st & TLS_ST_WANT_INPUT) || !s->sniffed || !*need)
			*need |= POLLIN;
		return 0;
	}
	short rev = 0;
	if (want & POLLIN) {
		if (st & (TLS_ST_READABLE | TLS_ST_PEER_CLOSED))
			rev |= POLLIN;
		else
			*need |= POLLIN;
	}
	if (want & POLLOUT) {
		if ((st & TLS_ST_WRITABLE) && !(st & TLS_ST_SEND))
			rev |= POLLOUT;
		else
			*need |= POLLOUT;
	}
	if (st & TLS_ST_SEND)
		*need |= POLLOUT;
	return rev;
}

/* The write side of shutdown; ${s}->wr held. */
static void shutdown_locked(sconn *s, int fd, uint64_t wait_us)
{
	int saved = errno;
	bool mine = shim_fork_claim(s) == 0; /* fork.h: only the claimer ends it */
	if (mine && s->ready && !s->plaintext && !failed(s) && !s->shut_wr) {
		tls_conn_close(s->tls);
		s->shut_wr = true;
	}
	if (mine && !s->plaintext) {
		uint64_t deadline = shim_now_us() + wait_us;
		while (send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
			    !wait_until(fd, POLLOUT, deadline))
				break;
		}
	}
	errno = saved;
}

void pump_shutdown_write(sconn *s, int fd)
{
	pthread_mutex_lock(&s->wr);
	shutdown_locked(s, fd, CLOSE_FLUSH_US);
	pthread_mutex_unlock(&s->wr);
}

void pump_close_at_exit(sconn *s, int fd)
{
	if (pthread_mutex_trylock(&s->wr) != 0)
		return; /* another thread is mid-write: leave it alone */
	if (shim_fork_owns(s))
		shutdown_locked(s, fd, CLOSE_FLUSH_US / 10);
	pthread_mutex_unlock(&s->wr);
}
