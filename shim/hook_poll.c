/*
 * hook_poll.c: truthful readiness for poll, ppoll, select and pselect
 * (DESIGN.md "Readiness"). A TLS descriptor is readable when decrypted
 * data waits inside tlshim (the kernel cannot know), writable when the
 * engine takes bytes, and "readable + error" once it failed. While a
 * handshake or a flush is pending we wait on the real socket for what the
 * engine needs, advance it, and only then answer, so the program never
 * sleeps while it could read and never spins on a half-done handshake.
 *
 * O(ready), not O(passed) (issue 10): a connection a look found quiet
 * (pump_quiesce: nothing the kernel would not report) stays so until a
 * pump call leaves something behind, and costs no engine call here: its
 * POLLIN is the kernel's, its POLLOUT is "writable". Only connections the
 * kernel reports, and those with something pending, are looked at.
 */
#undef _FORTIFY_SOURCE /* we define poll() and ppoll() themselves, not their inline checkers */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "epset.h"
#include "fork.h"
#include "hooks.h"
#include "log.h"

#define STACK_FDS 64

/* What readiness calls cost, written at exit at log level debug (tests
 * read it: tests/shim/test_poll_scale.c). */
static unsigned long stat_calls, stat_looks;

__attribute__((destructor)) static void report_stats(void)
{
	unsigned long c = __atomic_load_n(&stat_calls, __ATOMIC_RELAXED);
	if (c && shim_log_enabled(SHIM_LOG_DEBUG))
		shim_log(SHIM_LOG_DEBUG,
			 "poll: %lu calls with TLS descriptors looked at %lu connections' "
			 "engine state",
			 c, __atomic_load_n(&stat_looks, __ATOMIC_RELAXED));
}

/* A connection poll need not look at: no pump call in flight, quiet (pump.h
 * pump_quiesce; read after the pins: a call that unpinned first has
 * cleared it, pump.c unpin) and not lost to a fork (which happens without
 * a pump call). */
static bool quiet(sconn *s)
{
	return !__atomic_load_n(&s->pins, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&s->quiet, __ATOMIC_SEQ_CST) && !shim_fork_refused(s);
}

/* Any TLS descriptor (that is not passed through in clear) among ${fds}? */
static bool any_tls(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (fdtab_get(fds[i].fd))
			return true;
	return false;
}

/* The loop behind every readiness call. ${timeout_us} < 0 waits forever. */
static int tls_poll(struct pollfd *fds, nfds_t n, int64_t timeout_us, const sigset_t *mask)
{
	uint64_t deadline = timeout_us < 0 ? UINT64_MAX : shim_now_us() + (uint64_t)timeout_us;
	struct pollfd real_stack[STACK_FDS];
	sconn *conn_stack[STACK_FDS];
	struct pollfd *real = real_stack;
	sconn **conns = conn_stack;
	if (n > STACK_FDS) {
		real = malloc(n * sizeof *real);
		conns = calloc(n, sizeof *conns);
		if (!real || !conns) {
			free(real);
			free(conns);
			errno = ENOMEM;
			return -1;
		}
	}
	for (nfds_t i = 0; i < n; i++) {
		conns[i] = fdtab_acquire(fds[i].fd);
		if (conns[i] && sconn_plaintext(conns[i])) { /* plaintext = allow, in clear */
			sconn_unref(conns[i]);
			conns[i] = NULL;
		}
	}

	__atomic_add_fetch(&stat_calls, 1, __ATOMIC_RELAXED);
	unsigned long looks = 0;
	int ret;
	for (;;) {
		int ready = 0;
		uint64_t wake = deadline;
		for (nfds_t i = 0; i < n; i++) {
			real[i] = fds[i];
			real[i].revents = 0;
			if (!conns[i])
				continue;
			short need;
			if (quiet(conns[i])) {
				/* What pump_revents answers for a quiet one. */
				fds[i].revents = (short)(fds[i].events & POLLOUT);
				need = (short)(fds[i].events & POLLIN);
			} else {
				looks++;
				pump_prepare(conns[i], fds[i].fd);
				fds[i].revents = pump_revents(conns[i], fds[i].events, &need);
				pump_quiesce(conns[i]);
			}
			real[i].events = need;
			if (fds[i].revents)
				ready++;
			if (!sconn_ready(conns[i]) && conns[i]->deadline_us < wake)
				wake = conns[i]->deadline_us; /* time a handshake out */
		}
		struct timespec ts, *tsp = NULL;
		if (ready) {
			ts = (struct timespec){0, 0};
			tsp = &ts;
		} else if (wake != UINT64_MAX) {
			uint64_t now = shim_now_us(), left = wake > now ? wake - now : 0;
			ts = (struct timespec){(time_t)(left / 1000000),
					       (long)(left % 1000000) * 1000};
			tsp = &ts;
		}
		int r = REAL(ppoll)(real, n, tsp, mask);
		if (r < 0) {
			ret = -1;
			break;
		}
		int count = 0;
		for (nfds_t i = 0; i < n; i++) {
			if (!conns[i]) {
				fds[i].revents = real[i].revents;
			} else if (real[i].revents) {
				looks++;
				pump_progress(conns[i], fds[i].fd);
				/* What we took in, epoll sets holding it must hear of
				 * (the socket's edge is spent). */
				epset_touch(conns[i]);
				short need;
				fds[i].revents =
					(short)(pump_revents(conns[i], fds[i].events, &need) |
						(real[i].revents & POLLNVAL));
				pump_quiesce(conns[i]);
			}
			if (fds[i].revents)
				count++;
		}
		if (count > 0 || shim_now_us() >= deadline) {
			ret = count;
			break;
		}
	}
	__atomic_add_fetch(&stat_looks, looks, __ATOMIC_RELAXED);
	int saved = errno;
	for (nfds_t i = 0; i < n; i++)
		if (conns[i])
			sconn_unref(conns[i]);
	if (real != real_stack) {
		free(real);
		free(conns);
	}
	errno = saved;
	return ret;
}

/* glibc declares poll's array write-only (__fortified_attr_access), which
 * makes gcc without optimisation warn that the hook reads it: the program
 * did fill in fd and events, as poll(2) requires. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!any_tls(fds, n))
		return REAL(poll)(fds, n, timeout);
	return tls_poll(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000, NULL);
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	if (!any_tls(fds, n))
		return REAL(ppoll)(fds, n, ts, mask);
	int64_t us = ts ? (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000 : -1;
	return tls_poll(fds, n, us, mask);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

SHIM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof *fds < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

SHIM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			    const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof *fds < n)
		__chk_fail();
	return ppoll(fds, n, ts, mask);
}

/* select/pselect: the same loop over a pollfd view of the fd_sets. */
static bool sets_have_tls(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) &&
		    fdtab_get(fd))
			return true;
	return false;
}

static int tls_select(int nfds, fd_set *r, fd_set *w, fd_set *e, int64_t timeout_us,
		      const sigset_t *mask)
{
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	struct pollfd *p = calloc((size_t)(nfds > 0 ? nfds : 1), sizeof *p);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	nfds_t n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) |
				   (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
				   (e && FD_ISSET(fd, e) ? POLLPRI : 0));
		if (ev)
			p[n++] = (struct pollfd){.fd = fd, .events = ev};
	}
	int ret = tls_poll(p, n, timeout_us, mask);
	if (ret >= 0) {
		if (r)
			FD_ZERO(r);
		if (w)
			FD_ZERO(w);
		if (e)
			FD_ZERO(e);
		ret = 0;
		for (nfds_t i = 0; i < n; i++) {
			short rev = p[i].revents;
			if (rev & POLLNVAL) {
				errno = EBADF;
				ret = -1;
				break;
			}
			/* Linux select(2): readable on IN/HUP/ERR, writable on OUT/ERR. */
			if ((p[i].events & POLLIN) && (rev & (POLLIN | POLLHUP | POLLERR))) {
				FD_SET(p[i].fd, r);
				ret++;
			}
			if ((p[i].events & POLLOUT) && (rev & (POLLOUT | POLLERR))) {
				FD_SET(p[i].fd, w);
				ret++;
			}
			if ((p[i].events & POLLPRI) && (rev & POLLPRI)) {
				FD_SET(p[i].fd, e);
				ret++;
			}
		}
	}
	int saved = errno;
	free(p);
	errno = saved;
	return ret;
}

SHIM_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (!sets_have_tls(nfds, r, w, e))
		return REAL(select)(nfds, r, w, e, tv);
	int64_t us = tv ? (int64_t)tv->tv_sec * 1000000 + tv->tv_usec : -1;
	return tls_select(nfds, r, w, e, us, NULL);
}

SHIM_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
			const sigset_t *mask)
{
	if (!sets_have_tls(nfds, r, w, e))
		return REAL(pselect)(nfds, r, w, e, ts, mask);
	int64_t us = ts ? (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000 : -1;
	return tls_select(nfds, r, w, e, us, mask);
}
