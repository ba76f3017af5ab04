#include "pump.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "consts.h"
#include "epset.h"
#include "fdtab.h"
#include "fork.h"
#include "hint.h"
#include "log.h"
#include "real.h"

/* How long close()/shutdown() may wait to get queued records and
 * close_notify out, even on a non-blocking socket (the kernel would have
 * kept sending after close, so dropping them would lose data). */
#define CLOSE_FLUSH_US (2u * 1000000u)

/* How long shutdown()/close() wait for another thread's write to reach a
 * record boundary (it stops there once ->stop_wr is set) before giving up
 * on close_notify: a writer blocked in the kernel on a peer that does not
 * read never gets there, and the real shutdown() must wake it, as on a
 * plain socket (issue 9, 7). */
#define LOCK_WAIT_US (100u * 1000u)

/* The locks this thread holds or is taking, per side. A signal handler
 * that interrupted this thread inside the pump and then reads, writes or
 * closes the same connection must never wait for them: its own thread
 * holds them and cannot run until the handler returns (DESIGN.md "Threads
 * and signals"). Set before locking and cleared after unlocking, so a
 * handler errs only on the side of not waiting. initial-exec: the library
 * is preloaded (in the static TLS block), so this is one load, safe in a
 * handler. */
static __thread sconn *held_wr __attribute__((tls_model("initial-exec")));
static __thread sconn *held_rd __attribute__((tls_model("initial-exec")));

/* Take ${m}, one side of ${s}; -1 with EDEADLK when this thread holds it
 * already (we run in a signal handler that interrupted the pump). */
static int side_lock(sconn *s, pthread_mutex_t *m, sconn **held, sconn **prev)
{
	if (*held == s) {
		errno = EDEADLK;
		return -1;
	}
	*prev = *held;
	*held = s;
	pthread_mutex_lock(m);
	return 0;
}

/* side_trylock: the same without waiting; -1 when it is busy. */
static int side_trylock(sconn *s, pthread_mutex_t *m, sconn **held, sconn **prev)
{
	if (*held == s)
		return -1;
	*prev = *held;
	*held = s;
	if (pthread_mutex_trylock(m) == 0)
		return 0;
	*held = *prev;
	return -1;
}

static void side_unlock(pthread_mutex_t *m, sconn **held, sconn *prev)
{
	pthread_mutex_unlock(m);
	*held = prev;
}

#define LOCK_WR(s, prev)    side_lock(s, &(s)->wr, &held_wr, prev)
#define LOCK_RD(s, prev)    side_lock(s, &(s)->rd, &held_rd, prev)
#define TRYLOCK_WR(s, prev) side_trylock(s, &(s)->wr, &held_wr, prev)
#define TRYLOCK_RD(s, prev) side_trylock(s, &(s)->rd, &held_rd, prev)
#define UNLOCK_WR(s, prev)  side_unlock(&(s)->wr, &held_wr, prev)
#define UNLOCK_RD(s, prev)  side_unlock(&(s)->rd, &held_rd, prev)

/* Descriptor numbers (issue 9, 8). The kernel resolves a number afresh in
 * every system call, and a pump call makes several: another thread may
 * close the program's number in between and open something else on it.
 * So every call pins the connection (pins), and checks before each system
 * call that its number still names this connection (ours); a close() of a
 * number while pins > 0 parks it (pump_park): the number is atomically
 * pointed at a placeholder socket (dup3), which fails every call made on
 * it, and is only freed when the last pin goes. No system call of the
 * pump can then reach a file or socket the number names later.
 *
 * The Dekker pair, with read-modify-writes on both sides (no fences, which
 * TSan does not model): pin() adds to pins and then reads the table slot;
 * the closer clears the slot (an exchange) and then reads pins with an
 * add of 0, which reads the latest value. Either that add comes after the
 * pin (the closer sees it and parks), or the pin reads the add's value and
 * so synchronises with it, and the pump then sees the cleared slot. */
static void unpark(sconn *s);

static void pin(sconn *s)
{
	__atomic_add_fetch(&s->pins, 1, __ATOMIC_SEQ_CST);
}

static bool pending(const sconn *s);

/* Every pump call is pinned, and whatever it changed is seen by poll and
 * select before its pin goes: a quiet connection it left something in is
 * quiet no more (pump_quiesce). Sequentially consistent: pump_quiesce sets
 * quiet and then looks at the state; we changed the state and then look
 * at quiet, so one of us sees the other; and poll reads the pins before
 * quiet (hook_poll.c), so a call it did not see pinned has done this. */
static void unpin(sconn *s)
{
	if (__atomic_load_n(&s->quiet, __ATOMIC_SEQ_CST) && pending(s))
		__atomic_store_n(&s->quiet, false, __ATOMIC_SEQ_CST);
	if (__atomic_sub_fetch(&s->pins, 1, __ATOMIC_SEQ_CST) == 0)
		unpark(s);
}

/* ${fd} is still a number of ${s}: a descriptor of the table; while the
 * last one closes, only the closer's private duplicate (pump_close). */
static bool ours(const sconn *s, int fd)
{
	int c = __atomic_load_n(&s->close_fd, __ATOMIC_SEQ_CST);
	if (c >= 0)
		return fd == c;
	return fdtab_get(fd) == s;
}

/* Point ${fd} at a fresh placeholder socket, atomically (dup3): an
 * unconnected Unix stream socket, on which send and recv fail (ENOTCONN,
 * EINVAL) without SIGPIPE, and which the program's close() frees like any
 * descriptor. ${*ino} gets its inode. 0, or -1 (out of descriptors). */
static int placeholder(int fd, unsigned long *ino)
{
	int ph = REAL(socket)(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;
	int r = -1;
	if (ph >= 0 && fstat(ph, &st) == 0 && REAL(dup3)(ph, fd, O_CLOEXEC) >= 0) {
		*ino = (unsigned long)st.st_ino;
		r = 0;
	}
	if (ph >= 0)
		REAL(close)(ph);
	return r;
}

/* The only ways the pump reaches the socket. A number that stopped being
 * ours fails with EBADF, before the call or (when the call failed on it)
 * after, so that the error of a placeholder or of an unrelated file is
 * never taken for the connection's. */
static ssize_t sock_send(sconn *s, int fd, const void *p, size_t n, int flags)
{
	if (!ours(s, fd)) {
		errno = EBADF;
		return -1;
	}
	ssize_t w = REAL(send)(fd, p, n, flags);
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !ours(s, fd))
		errno = EBADF;
	return w;
}

static ssize_t sock_recv(sconn *s, int fd, void *p, size_t n, int flags)
{
	if (!ours(s, fd)) {
		errno = EBADF;
		return -1;
	}
	ssize_t r = REAL(recv)(fd, p, n, flags);
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !ours(s, fd))
		errno = EBADF;
	return r;
}

static bool failed(const sconn *s);

/* Readiness (hook_epoll.c): after a read of the socket for up to ${room}
 * bytes returned ${r}: whether it may hold more that no new kernel edge
 * will announce (it filled the room; a short read or EAGAIN drained it). */
static void note_sock_read(sconn *s, ssize_t r, size_t room)
{
	bool more = r > 0 && (size_t)r >= room;
	if (r > 0 || errno == EAGAIN || errno == EWOULDBLOCK || r == 0)
		__atomic_store_n(&s->sock_more, more, __ATOMIC_RELEASE);
}

/* Readiness: ${s} holds something the kernel will not report (plaintext,
 * queued ciphertext, a handshake under way, a failure or close, unread
 * socket data). The one home of that decision: epoll's ready lists
 * (settle) and poll/select's quiet flag (pump_quiesce) both ask it. */
static bool pending(const sconn *s)
{
	unsigned st = tls_conn_state(s->tls);
	return !__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE) || failed(s) ||
	       __atomic_load_n(&s->sock_more, __ATOMIC_ACQUIRE) || !(st & TLS_ST_WRITABLE) ||
	       (st & (TLS_ST_READABLE | TLS_ST_SEND | TLS_ST_PEER_CLOSED | TLS_ST_FAILED |
		      TLS_ST_CLOSED));
}

/* Readiness: a pump call that the program made is over. When it left
 * something pending(), the connection's epoll registrations are queued on
 * their ready lists (epset_touch). A request/response loop leaves none of
 * these behind: no cost. */
static void settle(sconn *s)
{
	if (__atomic_load_n(&s->watch, __ATOMIC_SEQ_CST) && pending(s))
		epset_touch(s);
}

bool pump_quiesce(sconn *s)
{
	__atomic_store_n(&s->quiet, true, __ATOMIC_SEQ_CST);
	if (!pending(s))
		return true;
	__atomic_store_n(&s->quiet, false, __ATOMIC_SEQ_CST);
	return false;
}

/* Free the numbers parked on ${s} (the last pin went): each is closed only
 * if it still is the placeholder we put there (the program may have
 * dup2()ed something else onto the number it closed). */
static void unpark(sconn *s)
{
	int saved = errno;
	for (size_t i = 0; i < sizeof s->parked / sizeof s->parked[0]; i++) {
		struct sconn_parked *p = &s->parked[i];
		int want = 2;
		if (!__atomic_compare_exchange_n(&p->state, &want, 3, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		struct stat st;
		if (fstat(p->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == p->ino)
			REAL(close)(p->fd);
		__atomic_store_n(&p->state, 0, __ATOMIC_RELEASE);
	}
	errno = saved;
}

int pump_park(sconn *s, int fd)
{
	if (__atomic_fetch_add(&s->pins, 0, __ATOMIC_SEQ_CST) == 0) /* see pin() */
		return 0;
	int saved = errno;
	struct sconn_parked *p = NULL;
	for (size_t i = 0; i < sizeof s->parked / sizeof s->parked[0] && !p; i++) {
		int want = 0;
		if (__atomic_compare_exchange_n(&s->parked[i].state, &want, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			p = &s->parked[i];
	}
	if (!p)
		return 0; /* all taken: close it; the checks before each call remain */
	/* The number may be the placeholder pump_close_begin put there. */
	struct stat st;
	unsigned long ino = 0;
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && s->close_ph_ino &&
	    (unsigned long)st.st_ino == s->close_ph_ino)
		ino = s->close_ph_ino;
	else if (placeholder(fd, &ino) < 0) {
		__atomic_store_n(&p->state, 0, __ATOMIC_RELEASE);
		errno = saved;
		return 0;
	}
	p->fd = fd;
	p->ino = ino;
	__atomic_store_n(&p->state, 2, __ATOMIC_SEQ_CST);
	/* The last pin may have gone before this entry was there to see. */
	if (__atomic_fetch_add(&s->pins, 0, __ATOMIC_SEQ_CST) == 0)
		unpark(s);
	errno = saved;
	return 1;
}

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

static int sock_errno(const sconn *s)
{
	return __atomic_load_n(&s->sock_errno, __ATOMIC_ACQUIRE);
}

static bool timed_out(const sconn *s)
{
	return __atomic_load_n(&s->timed_out, __ATOMIC_ACQUIRE);
}

static void set_timed_out(sconn *s)
{
	__atomic_store_n(&s->timed_out, true, __ATOMIC_RELEASE);
}

static bool failed(const sconn *s)
{
	return sock_errno(s) || timed_out(s) || (tls_conn_state(s->tls) & TLS_ST_FAILED);
}

int pump_errno(sconn *s)
{
	int e = sock_errno(s);
	if (e)
		return e;
	if (timed_out(s)) /* INTERFACE.md: a server rule's program only sees ECONNRESET */
		return s->client ? ETIMEDOUT : ECONNRESET;
	uint8_t alert = 0;
	switch (tls_conn_error(s->tls, &alert, NULL, NULL)) {
	case TLS_ERR_NONE:
		return 0;
	case TLS_ERR_AUTH:
		/* INTERFACE.md: a server rule's program only ever sees ECONNRESET. */
		return s->client ? EACCES : ECONNRESET;
	case TLS_ERR_PEER_ALERT:
		if (s->client && !sconn_ready(s) &&
		    (tls_alert_rejects_certificate(alert) ||
		     (alert == TLS_ALERT_HANDSHAKE_FAILURE &&
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
	/* Both sides may fail at once: one line. */
	if (__atomic_exchange_n(&s->failure_logged, true, __ATOMIC_ACQ_REL))
		return;
	const char *reason = "";
	uint8_t alert = 0;
	bool from_peer = false;
	tls_conn_error(s->tls, &alert, &from_peer, &reason);
	if (timed_out(s))
		reason = "handshake_timeout passed";
	else if (sock_errno(s))
		reason = strerror(sock_errno(s));
	/* A peer that goes away after the handshake is an ordinary event; a
	 * refused handshake or a broken record is worth a warning. */
	int level = sconn_ready(s) && (sock_errno(s) || tls_conn_error(s->tls, NULL, NULL, NULL) ==
								TLS_ERR_TRUNCATED)
			    ? SHIM_LOG_INFO
			    : SHIM_LOG_WARN;
	/* ... and what to change (issue 4), after " -- ". */
	char hint[512] = "";
	if (shim_log_enabled(level))
		shim_refusal_hint(s, hint, sizeof hint);
	shim_log(level, "rule %s: %s %s <-> %s: %s: %s%s%s", s->rule->name, direction(s), s->local,
		 s->peer, sconn_ready(s) ? "connection failed" : "handshake refused", reason,
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
	/* ALPN shows on rules that have a list: "alpn h2", or "alpn -" when
	 * the peer agreed none (a client that offered none, a server that
	 * chose none); the name is always one of the rule's own. */
	bool alpn = have && (info.alpn[0] || s->rule->alpn);
	if (have && shim_log_enabled(SHIM_LOG_INFO))
		shim_log(SHIM_LOG_INFO,
			 "rule %s: %s %s <-> %s: %s %s%s%s%s%s peer \"%s\" %s in %.1f ms%s%s",
			 s->rule->name, direction(s), s->local, s->peer,
			 tls_version_name(info.version), info.suite_name,
			 info.group_name[0] ? " " : "", info.group_name, alpn ? " alpn " : "",
			 !alpn          ? ""
			 : info.alpn[0] ? info.alpn
					: "-",
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
	/* The peer's first records may have come with its last flight and
	 * still sit in the socket, their edge spent on the handshake. */
	__atomic_store_n(&s->sock_more, true, __ATOMIC_RELEASE);
	__atomic_store_n(&s->ready, true, __ATOMIC_RELEASE);
}

/* The TCP connection broke (or never came up): keep its errno, unless a
 * TLS failure came first (the read and the write side may both get here:
 * the first wins). EBADF is not the connection's: our number of it went
 * (sock_send). */
static void transport_failed(sconn *s, int err)
{
	if (err == EBADF || failed(s))
		return;
	int none = 0;
	__atomic_compare_exchange_n(&s->sock_errno, &none, err == EPIPE ? ECONNRESET : err, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Send queued ciphertext. 0 when none is left, -1 with errno otherwise. */
static int send_pending(sconn *s, int fd, int flags)
{
	for (;;) {
		size_t len;
		const uint8_t *p = tls_conn_sendbuf(s->tls, &len);
		if (!p)
			return 0;
		ssize_t w = sock_send(s, fd, p, len, flags);
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
		ssize_t r = sock_recv(s, fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r >= 0) {
			__atomic_store_n(&s->sniffed, true, __ATOMIC_RELEASE);
			if (r == 0 || b != TLS_CT_HANDSHAKE) {
				__atomic_store_n(&s->plaintext, true, __ATOMIC_RELEASE);
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
			set_timed_out(s);
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
			/* The line first: when the peer sees the alert, the log
			 * already says why (a user, or a test, reading it then). */
			log_failure(s);
			/* Best effort: the fatal alert, if any, goes out. */
			send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL);
			errno = pump_errno(s);
			return -1;
		}
		short need = 0;
		if (send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno == EBADF)
				return -1; /* our number was closed (sock_send) */
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
				if (ours(s, fd))
					setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
			}
			on_established(s);
			return 0;
		}
		if (st & TLS_ST_WANT_INPUT) {
			size_t room;
			uint8_t *b = tls_conn_recvbuf(s->tls, &room);
			ssize_t r = b ? sock_recv(s, fd, b, room, MSG_DONTWAIT) : -1;
			if (b)
				note_sock_read(s, r, room);
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
			if (b && errno == EBADF)
				return -1;
			if (b && errno != EAGAIN && errno != EWOULDBLOCK) {
				transport_failed(s, errno);
				continue;
			}
			need |= POLLIN;
		}
		if (!need)
			need = POLLIN;
		if (shim_now_us() >= s->deadline_us) {
			set_timed_out(s);
			continue;
		}
		if (!block) {
			errno = EAGAIN;
			return -1;
		}
		wait_until(fd, need, s->deadline_us);
	}
}

static int handshake_body(sconn *s, int fd, bool block)
{
	sconn *pw, *pr;
	if (LOCK_WR(s, &pw) < 0)
		return -1;
	if (LOCK_RD(s, &pr) < 0) {
		UNLOCK_WR(s, pw);
		errno = EDEADLK;
		return -1;
	}
	pin(s);
	int r = shim_fork_claim(s);
	if (r == 0 && !s->ready && !s->plaintext) {
		if (!s->client && s->rule->plaintext_allow && !s->sniffed)
			r = sniff(s, fd, block);
		if (r == 0 && !s->plaintext)
			r = drive(s, fd, block);
	}
	int saved = errno;
	UNLOCK_RD(s, pr);
	UNLOCK_WR(s, pw);
	unpin(s);
	errno = saved;
	return r;
}

int pump_handshake(sconn *s, int fd, bool block)
{
	if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		return 0;
	int r = handshake_body(s, fd, block);
	settle(s);
	return r;
}

/* Flush from the read side without waiting for the write lock. */
static void flush_if_free(sconn *s, int fd, bool tell)
{
	sconn *pw;
	if (TRYLOCK_WR(s, &pw) != 0)
		return;
	int saved = errno;
	size_t len = 0;
	bool had = tls_conn_sendbuf(s->tls, &len) != NULL;
	if (shim_fork_claim(s) == 0 && send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			transport_failed(s, errno);
	} else if (had && tell) {
		/* ${tell}: a program's read flushed what its writer queued; an
		 * edge-triggered writer waits for that (hook_epoll.c). */
		epset_touch(s);
	}
	errno = saved;
	UNLOCK_WR(s, pw);
}

static ssize_t recv_body(sconn *s, int fd, void *buf, size_t n, int flags)
{
	bool nb = nonblocking(s, flags);
	if (pump_handshake(s, fd, !nb) < 0)
		return -1;
	if (sconn_plaintext(s))
		return REAL(recv)(fd, buf, n, flags);
	if (n == 0)
		return 0;
	sconn *pr;
	if (LOCK_RD(s, &pr) < 0)
		return -1; /* a signal handler reading while its thread reads */
	pin(s);
	if (shim_fork_claim(s) < 0) { /* another process uses it since fork (fork.h) */
		UNLOCK_RD(s, pr);
		unpin(s);
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
		if (failed(s))
			log_failure(s); /* before its alert goes out, as in drive() */
		if (st & TLS_ST_SEND)
			flush_if_free(s, fd,
				      true); /* an alert, the handshake's tail, queued data */
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
		ssize_t r = b ? sock_recv(s, fd, b, room, nb ? MSG_DONTWAIT : 0) : -1;
		if (b)
			note_sock_read(s, r, room);
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
	UNLOCK_RD(s, pr);
	unpin(s);
	errno = saved;
	return ret;
}

ssize_t pump_recv(sconn *s, int fd, void *buf, size_t n, int flags)
{
	ssize_t r = recv_body(s, fd, buf, n, flags);
	settle(s);
	return r;
}

static ssize_t send_body(sconn *s, int fd, const void *buf, size_t n, int flags)
{
	bool nb = nonblocking(s, flags);
	if (pump_handshake(s, fd, !nb) < 0)
		return -1;
	if (sconn_plaintext(s))
		return REAL(send)(fd, buf, n, flags);
	int sflags = (flags & MSG_NOSIGNAL) | (nb ? MSG_DONTWAIT : 0);
	sconn *pw;
	if (LOCK_WR(s, &pw) < 0)
		return -1; /* a signal handler writing while its thread writes */
	pin(s);
	if (shim_fork_claim(s) < 0) { /* another process uses it since fork (fork.h) */
		UNLOCK_WR(s, pw);
		unpin(s);
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
		/* Writing after shutdown(SHUT_WR), as TCP says; and a
		 * shutdown() or close() in another thread stops a long write
		 * at a record boundary (pump_shutdown_write). */
		if (s->shut_wr || __atomic_load_n(&s->stop_wr, __ATOMIC_ACQUIRE) ||
		    (tls_conn_state(s->tls) & TLS_ST_CLOSED)) {
			errno = EPIPE;
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
		/* EPIPE after our own shutdown() woke a blocked writer is not
		 * a broken connection: the read side goes on. */
		if (errno != EINTR &&
		    !(errno == EPIPE && __atomic_load_n(&s->stop_wr, __ATOMIC_ACQUIRE)))
			transport_failed(s, errno);
		ret = -1;
		break;
	}
	/* Bytes sealed into records are the program's bytes sent: never
	 * report an error after taking some (DESIGN.md, partial writes). */
	if (taken > 0)
		ret = (ssize_t)taken;
	int saved = errno;
	UNLOCK_WR(s, pw);
	unpin(s);
	errno = saved;
	return ret;
}

ssize_t pump_send(sconn *s, int fd, const void *buf, size_t n, int flags)
{
	ssize_t r = send_body(s, fd, buf, n, flags);
	settle(s);
	return r;
}

/* Advance a pending handshake without blocking or waiting for a lock. */
static void handshake_if_free(sconn *s, int fd)
{
	sconn *pw, *pr;
	if (TRYLOCK_WR(s, &pw) != 0)
		return;
	if (TRYLOCK_RD(s, &pr) == 0) {
		if (!s->ready && !s->plaintext && shim_fork_claim(s) == 0) {
			int r = 0;
			if (!s->client && s->rule->plaintext_allow && !s->sniffed)
				r = sniff(s, fd, false);
			if (r == 0 && !s->plaintext)
				drive(s, fd, false);
		}
		UNLOCK_RD(s, pr);
	}
	UNLOCK_WR(s, pw);
}

void pump_prepare(sconn *s, int fd)
{
	int saved = errno;
	pin(s);
	if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		handshake_if_free(s, fd);
	else if (!sconn_plaintext(s) && (tls_conn_state(s->tls) & TLS_ST_SEND))
		flush_if_free(s, fd, false);
	unpin(s);
	errno = saved;
}

void pump_progress(sconn *s, int fd)
{
	int saved = errno;
	pin(s);
	sconn *pr;
	if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE)) {
		handshake_if_free(s, fd);
	} else if (!sconn_plaintext(s)) {
		flush_if_free(s, fd, false);
		if (TRYLOCK_RD(s, &pr) == 0) {
			unsigned st = tls_conn_state(s->tls);
			if (st & TLS_ST_READABLE) /* no room: the socket keeps what it has */
				__atomic_store_n(&s->sock_more, true, __ATOMIC_RELEASE);
			if (!(st & (TLS_ST_READABLE | TLS_ST_FAILED | TLS_ST_PEER_CLOSED)) &&
			    !failed(s) && shim_fork_claim(s) == 0) {
				size_t room;
				uint8_t *b = tls_conn_recvbuf(s->tls, &room);
				ssize_t r = b ? sock_recv(s, fd, b, room, MSG_DONTWAIT) : -1;
				if (b)
					note_sock_read(s, r, room);
				if (r > 0)
					tls_conn_recv_done(s->tls, (size_t)r);
				else if (r == 0)
					tls_conn_eof(s->tls);
				else if (b && errno != EAGAIN && errno != EWOULDBLOCK &&
					 errno != EINTR)
					transport_failed(s, errno);
				if (tls_conn_state(s->tls) & TLS_ST_SEND)
					flush_if_free(s, fd, false);
			}
			UNLOCK_RD(s, pr);
		} else {
			/* A reader in another thread: what the socket has is its
			 * to take; if it stops short, its settle() must queue us
			 * (the kernel's edge was spent here). */
			__atomic_store_n(&s->sock_more, true, __ATOMIC_RELEASE);
		}
	}
	unpin(s);
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
		if ((st & TLS_ST_WANT_INPUT) || !__atomic_load_n(&s->sniffed, __ATOMIC_ACQUIRE) ||
		    !*need)
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
	if (mine && sconn_ready(s) && !sconn_plaintext(s) && !failed(s) && !s->shut_wr) {
		tls_conn_close(s->tls);
		s->shut_wr = true;
	}
	if (mine && !sconn_plaintext(s)) {
		uint64_t deadline = shim_now_us() + wait_us;
		while (send_pending(s, fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
			    !wait_until(fd, POLLOUT, deadline))
				break;
		}
	}
	errno = saved;
}

/* The write side for shutdown() and close(). ->stop_wr makes a writer in
 * another thread return at its next record boundary; wait up to
 * LOCK_WAIT_US for that. -1 without waiting when this thread holds the
 * lock itself (a signal handler that interrupted its write), and -1 when
 * the writer did not come back in time: it is blocked in the kernel on a
 * peer that does not read. Then no close_notify can follow (the writer's
 * record may be half sent): the real shutdown() wakes the writer with
 * EPIPE, as on a plain socket, and a close() leaves it to the kernel. */
static int lock_wr_briefly(sconn *s, sconn **prev)
{
	__atomic_store_n(&s->stop_wr, true, __ATOMIC_RELEASE);
	if (TRYLOCK_WR(s, prev) == 0)
		return 0;
	if (held_wr == s)
		return -1;
	*prev = held_wr;
	held_wr = s;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* pthread_mutex_timedlock's clock */
	ts.tv_nsec += (long)LOCK_WAIT_US * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_timedlock(&s->wr, &ts) == 0)
		return 0;
	held_wr = *prev;
	return -1;
}

void pump_shutdown_write(sconn *s, int fd)
{
	sconn *pw;
	pin(s);
	if (lock_wr_briefly(s, &pw) == 0) {
		shutdown_locked(s, fd, CLOSE_FLUSH_US);
		UNLOCK_WR(s, pw);
	}
	unpin(s);
	settle(s);
}

int pump_close_begin(sconn *s, int fd)
{
	int saved = errno;
	int priv = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
	int none = -1;
	if (priv < 0 || !__atomic_compare_exchange_n(&s->close_fd, &none, priv, false,
						     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
		if (priv >= 0)
			REAL(close)(priv);
		errno = saved;
		return -1;
	}
	/* From here a pump call on ${fd} fails (ours), and the number no
	 * longer reaches the socket at all: a write() racing with this close
	 * can find the number out of the table and go to the real write(),
	 * which must not put its bytes on the TLS stream in clear. */
	unsigned long ino = 0;
	if (placeholder(fd, &ino) < 0) {
		__atomic_store_n(&s->close_fd, -1, __ATOMIC_SEQ_CST);
		REAL(close)(priv);
		errno = saved;
		return -1;
	}
	s->close_ph_ino = ino;
	errno = saved;
	return 0;
}

void pump_close_end(sconn *s)
{
	int c = __atomic_exchange_n(&s->close_fd, -1, __ATOMIC_SEQ_CST);
	if (c >= 0)
		REAL(close)(c);
}

void pump_close(sconn *s, int fd)
{
	int saved = errno;
	/* close_notify goes to the socket, not to a number (issue 9, 8): the
	 * private duplicate pump_close_begin made, or one made now. At the
	 * descriptor limit, the program's own number, still open until our
	 * caller closes it. */
	int sock = __atomic_load_n(&s->close_fd, __ATOMIC_SEQ_CST);
	if (sock < 0) {
		int priv = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
		sock = priv >= 0 ? priv : fd;
		__atomic_store_n(&s->close_fd, sock, __ATOMIC_SEQ_CST);
	}
	sconn *pw;
	if (lock_wr_briefly(s, &pw) == 0) {
		shutdown_locked(s, sock, CLOSE_FLUSH_US);
		UNLOCK_WR(s, pw);
	}
	int c = __atomic_exchange_n(&s->close_fd, -1, __ATOMIC_SEQ_CST);
	if (c >= 0 && c != fd)
		REAL(close)(c);
	errno = saved;
}

void pump_close_at_exit(sconn *s, int fd)
{
	sconn *pw;
	if (TRYLOCK_WR(s, &pw) != 0)
		return; /* another thread is mid-write: leave it alone */
	pin(s);
	if (shim_fork_owns(s))
		shutdown_locked(s, fd, CLOSE_FLUSH_US / 10);
	UNLOCK_WR(s, pw);
	unpin(s);
}
