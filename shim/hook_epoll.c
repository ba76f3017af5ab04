/*
 * hook_epoll.c: truthful readiness for epoll (DESIGN.md "Readiness" and
 * "The hard cases"): epoll_create, epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait, epoll_pwait2.
 *
 * The kernel cannot know what a TLS descriptor is ready for: plaintext may
 * wait inside tlshim while the socket is empty, the socket may be writable
 * while the handshake is not done, and ciphertext may need flushing when
 * the program asked for nothing. So every epoll set gets a side table of
 * the registrations made through epoll_ctl (fd, the program's events and
 * data; epset.h), and the registrations of TLS descriptors are split in
 * two:
 *
 * - In the kernel set a TLS descriptor is registered edge-triggered
 *   (EPOLLET) with a tag of ours instead of the program's data, for what
 *   the program asked (EPOLLIN/EPOLLOUT) plus what the ENGINE needs
 *   (pump_revents' need). Edge-triggered, so a condition we cannot act on
 *   (a hang-up behind unread plaintext, data the engine has no room for, an
 *   edge the program already saw) never spins; and the item stays armed,
 *   so a request/response loop costs no epoll_ctl at all: the item is
 *   changed only when the engine needs an event it lacks, when the
 *   program changes its interest (its own epoll_ctl), or once after a
 *   report nobody wanted (issue 10 item 1).
 * - What the program sees is synthesized: for each tagged kernel report,
 *   and for each registration on the set's ready list, the connection is
 *   advanced (pump_progress) and pump_revents says what it is ready for;
 *   level-triggered, edge-triggered and EPOLLONESHOT semantics are
 *   applied here.
 *
 * The ready list (epset.h) holds what the kernel cannot report: the pump
 * queues a connection's registrations (epset_touch) when it leaves
 * decrypted plaintext or queued ciphertext behind, when a handshake step
 * is under way, when the socket may hold ciphertext it did not read (an
 * edge the kernel will not repeat), and when a descriptor closes; a wait
 * keeps a level-triggered registration queued while it is visible, and a
 * handshaking one until it is done (its deadline). So a wait costs
 * O(ready), not O(registered): idle TLS connections cost nothing
 * (issue 10 item 2). A touch while another thread is blocked in the
 * kernel wait (or while the set sits inside another set) wakes it through
 * an edge-triggered eventfd of ours in the kernel set.
 *
 * Everything else passes through: other descriptors keep the program's
 * events and data in the kernel, and their reports are returned as the
 * kernel gave them.
 *
 * Descriptors that become TLS after they were registered (epoll_ctl ADD,
 * then connect) are found through shim_fd_epoch, bumped whenever a
 * descriptor starts naming a connection: when it moved, the next wait of
 * each set re-examines its plain registrations. An epoll set inside another
 * (a "nested" registration) stays in the kernel as the program made it, and
 * is additionally reported readable while its own TLS registrations have
 * something to report. Registrations whose descriptor was closed (the
 * connection behind the number changed) are dropped lazily.
 *
 * Cost: a wait on a set holding TLS registrations looks at the ready
 * list only (a few loads of engine state per entry); a set without them
 * pays a lookup, a lock and a scan of the returned events for our tag.
 * A plain registration made before its descriptor became TLS is found by
 * a walk of the set's registrations, once per shim_fd_epoch change.
 *
 * Not covered: a dup of an epoll descriptor (the copy is not known as a
 * set), an epoll set shared across fork and changed in both processes, an
 * epoll descriptor watched with poll/select (it shows the kernel's view
 * only), and raw epoll syscalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "epset.h"
#include "hooks.h"
#include "rules.h"

/* The most nested sets the kernel allows (EP_MAX_NESTS + 1). */
#define MAX_DEPTH    5
#define STACK_EVENTS 64
/* Retry soon when another thread holds what we must look at. */
#define BUSY_RETRY_US 10000

/* ---- the kernel side of TLS registrations ------------------------------- */

static int kctl(struct eset *es, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	__atomic_add_fetch(&epset_stat_rearms, 1, __ATOMIC_RELAXED);
	return REAL(epoll_ctl)(es->epfd, op, fd, &ev);
}

/* What the program asked of ${r} that the kernel can tell. */
static uint32_t wanted(const struct ereg *r)
{
	return r->off ? 0 : r->events & (EPOLLIN | EPOLLOUT);
}

/* Give ${r}'s kernel item exactly the events ${kev} (edge-triggered, our
 * tag). ${force}: the item still carries the program's own events and
 * data (it was plain). Returns 0, or the errno of a failed epoll_ctl (the
 * registration is then gone; errno itself is kept). */
static int set_kev(struct eset *es, struct ereg *r, uint32_t kev, bool force)
{
	if (r->gone || (!force && kev == r->kev))
		return 0;
	int saved = errno;
	int rc;
	if (r->kexcl) { /* EPOLLEXCLUSIVE items cannot be modified: replace it */
		REAL(epoll_ctl)(es->epfd, EPOLL_CTL_DEL, r->fd, NULL);
		rc = kctl(es, EPOLL_CTL_ADD, r->fd, kev | EPOLLET, epset_tag(r));
		r->kexcl = false;
	} else {
		rc = kctl(es, EPOLL_CTL_MOD, r->fd, kev | EPOLLET, epset_tag(r));
	}
	int e = rc == 0 ? 0 : errno;
	if (rc == 0)
		r->kev = kev;
	else
		r->gone = true; /* closed behind our back */
	errno = saved;
	return e;
}

/* The kernel item of ${r} must report at least what the engine needs
 * (${need}) and the program asked: grow it when it lacks some. Never
 * shrinks (that would cost an epoll_ctl each time the need comes back). */
static void arm(struct eset *es, struct ereg *r, uint32_t need)
{
	uint32_t k = (need | wanted(r)) & (EPOLLIN | EPOLLOUT);
	if (r->hup || (k & ~r->kev) == 0)
		return;
	set_kev(es, r, r->kev | k, false);
}

/* What the program should see now for the TLS registration ${r}; with
 * ${commit}, the edge and one-shot state take it as delivered. ${kreport}:
 * the events of the kernel report being translated (0 for a look from the
 * ready list). ${*wake} is lowered to the handshake deadline. */
static uint32_t look_tls(struct eset *es, struct ereg *r, uint64_t now, uint64_t *wake, bool commit,
			 uint32_t kreport)
{
	sconn *s = r->s;
	__atomic_add_fetch(&epset_stat_visits, 1, __ATOMIC_RELAXED);
	if (r->off || r->gone || sconn_plaintext(s))
		return 0;
	bool ready = __atomic_load_n(&s->ready, __ATOMIC_ACQUIRE);
	/* A kernel report, a deadline, or ciphertext the socket may still hold
	 * (its edge was spent while the engine had no room): read now. */
	bool more = ready && __atomic_load_n(&s->sock_more, __ATOMIC_ACQUIRE) &&
		    !(tls_conn_state(s->tls) & TLS_ST_READABLE);
	if (r->fired || r->hup || more || (!ready && now >= s->deadline_us)) {
		r->fired = false;
		pump_progress(s, r->fd);
		ready = __atomic_load_n(&s->ready, __ATOMIC_ACQUIRE);
		/* We took in what the socket had: its edge is spent for the
		 * other sets holding this connection too. */
		epset_touch_except(s, r);
	}
	short need = 0;
	uint32_t vis = (uint16_t)pump_revents(s, (short)(r->events & (EPOLLIN | EPOLLOUT)), &need);
	if (r->hup && (ready || (vis & EPOLLERR)))
		vis |= EPOLLHUP;
	if (ready && (r->hup || (tls_conn_state(s->tls) & TLS_ST_PEER_CLOSED)))
		vis |= EPOLLRDHUP;
	vis &= r->events | EPOLLERR | EPOLLHUP;
	if (!ready && !(vis & EPOLLERR)) {
		/* Time the handshake out; if someone else is driving it, look
		 * again shortly rather than spin. */
		uint64_t t = s->deadline_us > now ? s->deadline_us : now + BUSY_RETRY_US;
		if (t < *wake)
			*wake = t;
	}
	arm(es, r, (uint32_t)need & (EPOLLIN | EPOLLOUT));

	/* Edge-triggered: what became visible, plus readable when records
	 * were opened or plaintext taken since we looked (a reader that
	 * leaves some behind is told again), plus writable when records were
	 * sealed (a writer that hit EAGAIN may have been flushed by its own
	 * next read, unseen by us). */
	uint64_t rd = ready ? tls_conn_records(s->tls, false) : 0;
	uint64_t wr = ready ? tls_conn_records(s->tls, true) : 0;
	size_t len = ready ? tls_conn_readable(s->tls) : 0;
	uint32_t out = vis;
	if (r->events & EPOLLET) {
		uint32_t edge = vis & ~r->last_vis;
		if ((vis & EPOLLIN) && (rd != r->last_rd || len != r->last_len))
			edge |= EPOLLIN;
		if ((vis & EPOLLOUT) && wr != r->last_wr)
			edge |= EPOLLOUT;
		if (!edge)
			out = 0;
	}
	if (!out || commit) {
		r->last_vis = vis;
		r->last_rd = rd;
		r->last_len = len;
		r->last_wr = wr;
	}
	if (out && commit && (r->events & EPOLLONESHOT))
		r->off = true;
	/* A kernel report nobody wanted (the program stopped asking for it,
	 * the handshake needed it): drop it from the item, once, so it does
	 * not wake the next waits. */
	uint32_t keep = ((uint32_t)need | wanted(r)) & (EPOLLIN | EPOLLOUT);
	if (!out && (kreport & r->kev & ~keep & (EPOLLIN | EPOLLOUT)))
		set_kev(es, r, r->kev & (keep | ~(EPOLLIN | EPOLLOUT)), false);
	return out;
}

/* After a committed look that returned ${out}: must ${r} stay on the ready
 * list? While handshaking (its deadline), and while a level-triggered
 * registration stays visible (the kernel will not say it again). */
static bool stays_ready(const struct ereg *r, uint32_t out)
{
	if (r->kind != REG_TLS || r->gone || r->off)
		return false;
	if (!__atomic_load_n(&r->s->ready, __ATOMIC_ACQUIRE) && !sconn_plaintext(r->s))
		return !(out & EPOLLERR) || !(r->events & EPOLLET);
	return out && !(r->events & EPOLLET);
}

/* Put ${r} back on the ready list for the next wait, without waking
 * anyone (this wait reports it). */
static void requeue(struct eset *es, struct ereg *r)
{
	epset_queue(es, r, false);
}

static bool set_visible(struct eset *es, int depth, uint64_t now, uint64_t *wake);

static uint32_t look_nested(struct ereg *r, int depth, uint64_t now, uint64_t *wake, bool commit)
{
	if (r->off || !(r->events & EPOLLIN))
		return 0;
	unsigned h = __atomic_load_n(&r->inner->harvests, __ATOMIC_ACQUIRE);
	uint32_t vis = set_visible(r->inner, depth + 1, now, wake) ? EPOLLIN : 0;
	uint32_t out = vis;
	/* Edge: it became ready, or the program took events from the inner
	 * set and some are still there. */
	if ((r->events & EPOLLET) && !(vis & ~r->last_vis) && h == r->inner_seen)
		out = 0;
	if (!out || commit) {
		r->last_vis = vis;
		r->inner_seen = h;
	}
	if (out && commit && (r->events & EPOLLONESHOT))
		r->off = true;
	return out;
}

/* Plain registrations whose descriptor became TLS (or an epoll set) since
 * the last walk: make them special. es->lock held. */
static void refresh_plain(struct eset *es)
{
	unsigned epoch = __atomic_load_n(&shim_fd_epoch, __ATOMIC_ACQUIRE);
	if (epoch == es->epoch)
		return;
	__atomic_store_n(&es->epoch, epoch, __ATOMIC_RELAXED);
	struct ereg *next;
	for (struct ereg *r = es->plain; r; r = next) {
		next = r->pnext; /* r may leave the list */
		sconn *s = fdtab_get(r->fd) ? fdtab_acquire(r->fd) : NULL;
		if (s && !sconn_plaintext(s)) {
			if (epset_make_tls(es, r, s) < 0) {
				shim_unref(s); /* stays plain; retried at the next change */
				continue;
			}
			/* The kernel item still has the program's events and
			 * data: give it ours. */
			short need = 0;
			pump_revents(s, (short)(r->events & (EPOLLIN | EPOLLOUT)), &need);
			set_kev(es, r, ((uint32_t)need | wanted(r)) & (EPOLLIN | EPOLLOUT), true);
			requeue(es, r);
			continue;
		}
		if (s)
			shim_unref(s);
		struct eset *in = r->fd != es->epfd ? epset_acquire(r->fd) : NULL;
		if (!in)
			continue;
		/* A new set at this number: is it the one registered here,
		 * or did the old one close (the kernel dropped it)? */
		if (!r->kexcl && kctl(es, EPOLL_CTL_MOD, r->fd, r->events, r->data.u64) < 0 &&
		    errno == ENOENT) {
			epset_unref(in);
			r->gone = true;
			continue;
		}
		if (epset_make_nested(es, r, in) < 0)
			epset_unref(in);
	}
	for (struct ereg *r = es->plain; r; r = next) {
		next = r->pnext;
		if (r->gone)
			epset_reg_free(es, r);
	}
}

/* Keep the side table true for ${r}, just taken from the ready list or
 * named by a kernel report: drop it when its descriptor was closed, turn
 * it plain when its peer spoke in clear. Returns whether it still is a TLS
 * registration to look at. es->lock held. */
static bool still_tls(struct eset *es, struct ereg *r)
{
	if (r->kind != REG_TLS)
		return false;
	if (r->gone || fdtab_get(r->fd) != r->s) {
		/* The descriptor was closed: the kernel dropped its item
		 * (unless a dup keeps the file open: then its reports carry a
		 * tag we no longer know, and are dropped). */
		epset_reg_free(es, r);
		return false;
	}
	if (sconn_plaintext(r->s)) {
		/* plaintext = allow: the peer spoke in clear; the kernel's view
		 * is the truth from now on. */
		if (kctl(es, EPOLL_CTL_MOD, r->fd, r->events & ~EPOLLEXCLUSIVE, r->data.u64) < 0)
			r->gone = true;
		epset_make_plain(es, r);
		return false;
	}
	return true;
}

/* Nested registrations whose inner set went away become plain. */
static void refresh_nested(struct eset *es)
{
	for (size_t i = es->nspec; i-- > 0;) {
		struct ereg *r = es->spec[i];
		if (r->gone)
			epset_reg_free(es, r);
		else if (epset_get(r->fd) != r->inner)
			epset_make_plain(es, r);
	}
}

/* A touch went missing (epset_missed): look at every TLS registration. */
static void refresh_missed(struct eset *es)
{
	unsigned m = __atomic_load_n(&epset_missed, __ATOMIC_ACQUIRE);
	if (m == __atomic_load_n(&es->missed, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&es->missed, m, __ATOMIC_RELAXED); /* read unlocked by waits */
	for (size_t i = 0; i < es->hcap; i++)
		if (es->hash[i] && es->hash[i]->kind == REG_TLS)
			requeue(es, es->hash[i]);
}

static void refresh(struct eset *es)
{
	refresh_plain(es);
	refresh_nested(es);
	refresh_missed(es);
}

/* Whether the set ${es}, nested at ${depth}, has something to report that
 * the kernel does not know (its ready list), without taking it. */
static bool set_visible(struct eset *es, int depth, uint64_t now, uint64_t *wake)
{
	if (depth > MAX_DEPTH)
		return false;
	if (pthread_mutex_trylock(&es->lock) != 0) {
		if (now + BUSY_RETRY_US < *wake)
			*wake = now + BUSY_RETRY_US;
		return false;
	}
	refresh(es);
	bool any = false;
	size_t n = epset_take_ready(es);
	for (size_t i = 0; i < n; i++) {
		struct ereg *r = es->rbuf[i];
		if (!still_tls(es, r))
			continue;
		uint32_t ev = any ? 1 : look_tls(es, r, now, wake, false, 0);
		any = any || ev;
		/* Not taken: it stays for the wait on this set itself. */
		if (ev || stays_ready(r, 0) || !__atomic_load_n(&r->s->ready, __ATOMIC_ACQUIRE))
			requeue(es, r);
	}
	for (size_t i = 0; i < es->nspec && !any; i++)
		any = look_nested(es->spec[i], depth, now, wake, false) != 0;
	pthread_mutex_unlock(&es->lock);
	return any;
}

/* ---- epoll_create, epoll_ctl -------------------------------------------- */

static int created(int fd)
{
	if (fd < 0)
		return fd;
	shim_fd_forget(fd); /* a new number cannot be a TLS connection */
	if (!shim_rules_active()) {
		if (epset_get(fd))
			epset_install(fd, NULL, NULL);
		return fd;
	}
	int saved = errno;
	epset_install(fd, epset_new(fd), NULL); /* replaces a set whose fd was closed */
	errno = saved;
	return fd;
}

SHIM_EXPORT int epoll_create(int size)
{
	return created(REAL(epoll_create)(size));
}

SHIM_EXPORT int epoll_create1(int flags)
{
	return created(REAL(epoll_create1)(flags));
}

/* Forget what we had for ${fd} after the kernel said it is new to the set. */
static void drop_stale(struct eset *es, int fd)
{
	struct ereg *old = epset_find(es, fd);
	if (old)
		epset_reg_free(es, old);
}

static int ctl_add(struct eset *es, int fd, const struct epoll_event *ev)
{
	sconn *s = fdtab_get(fd) ? fdtab_acquire(fd) : NULL;
	if (s && sconn_plaintext(s)) {
		shim_unref(s);
		s = NULL;
	}
	struct ereg *r = calloc(1, sizeof *r);
	if (!r) {
		if (s)
			shim_unref(s);
		errno = ENOMEM;
		return -1;
	}
	r->fd = fd;
	r->events = ev->events;
	r->data = ev->data;
	if (!s) {
		int rc = REAL(epoll_ctl)(es->epfd, EPOLL_CTL_ADD, fd, (struct epoll_event *)ev);
		if (rc < 0) {
			free(r);
			return rc;
		}
		drop_stale(es, fd);
		r->kexcl = (ev->events & EPOLLEXCLUSIVE) != 0;
		struct eset *in = fd != es->epfd ? epset_acquire(fd) : NULL;
		if (epset_hash_add(es, r) < 0) { /* untracked: the kernel's view only */
			if (in)
				epset_unref(in);
			free(r);
			return 0;
		}
		if (in && epset_make_nested(es, r, in) < 0)
			epset_unref(in);
		return 0;
	}
	/* EPOLLEXCLUSIVE with EPOLLONESHOT is invalid (epoll_ctl(2)). */
	if ((ev->events & EPOLLEXCLUSIVE) && (ev->events & EPOLLONESHOT)) {
		shim_unref(s);
		free(r);
		errno = EINVAL;
		return -1;
	}
	if (epset_make_tls(es, r, s) < 0) {
		shim_unref(s);
		free(r);
		errno = ENOMEM;
		return -1;
	}
	short need = 0;
	pump_revents(s, (short)(ev->events & (EPOLLIN | EPOLLOUT)), &need);
	uint32_t kev = ((uint32_t)need | wanted(r)) & (EPOLLIN | EPOLLOUT);
	if (kctl(es, EPOLL_CTL_ADD, fd, kev | EPOLLET, epset_tag(r)) < 0) {
		int e = errno;
		epset_make_plain(es, r); /* drops the connection reference */
		free(r);
		errno = e;
		return -1;
	}
	r->kev = kev;
	drop_stale(es, fd);
	if (epset_hash_add(es, r) < 0) {
		/* Cannot track it: take it out again rather than leave a TLS
		 * socket that epoll would report wrongly. */
		REAL(epoll_ctl)(es->epfd, EPOLL_CTL_DEL, fd, NULL);
		epset_make_plain(es, r);
		free(r);
		errno = ENOMEM;
		return -1;
	}
	/* Plaintext may wait inside tlshim already, or a handshake be due:
	 * the next wait looks (and one blocked now is woken). */
	epset_queue(es, r, true);
	return 0;
}

static int ctl_mod(struct eset *es, int fd, const struct epoll_event *ev)
{
	struct ereg *r = epset_find(es, fd);
	sconn *s = fdtab_get(fd) ? fdtab_acquire(fd) : NULL;
	if (s && sconn_plaintext(s)) {
		shim_unref(s);
		s = NULL;
	}
	if (!s) {
		int rc = REAL(epoll_ctl)(es->epfd, EPOLL_CTL_MOD, fd, (struct epoll_event *)ev);
		if (rc < 0) {
			if (errno == ENOENT)
				drop_stale(es, fd);
			return rc;
		}
		if (r && r->kind == REG_TLS) /* it was closed and the number reused */
			epset_make_plain(es, r);
		if (r) {
			r->events = ev->events;
			r->data = ev->data;
			r->off = false;
			r->last_vis = 0;
		}
		return 0;
	}
	if (ev->events & EPOLLEXCLUSIVE) { /* not allowed with MOD (epoll_ctl(2)) */
		shim_unref(s);
		errno = EINVAL;
		return -1;
	}
	if (r && r->kind == REG_TLS && r->s != s) { /* stale: closed, number reused */
		epset_make_plain(es, r);
	}
	if (!r) { /* registered before we knew the set: adopt it */
		r = calloc(1, sizeof *r);
		if (!r || (r->fd = fd, epset_hash_add(es, r) < 0)) {
			free(r);
			shim_unref(s);
			errno = ENOMEM;
			return -1;
		}
	}
	r->events = ev->events;
	r->data = ev->data;
	if (r->kind == REG_NESTED)
		epset_make_plain(es, r);
	if (r->kind == REG_TLS) {
		shim_unref(s); /* r holds its own reference */
	} else if (epset_make_tls(es, r, s) < 0) {
		shim_unref(s);
		errno = ENOMEM;
		return -1;
	}
	/* Like the kernel's MOD, a fresh start that reports the current
	 * state: the item gets exactly what the program asks now plus what
	 * the engine needs, and the next wait looks (one blocked now is
	 * woken). */
	r->off = r->hup = r->gone = false;
	r->last_vis = 0;
	short need = 0;
	pump_revents(r->s, (short)(ev->events & (EPOLLIN | EPOLLOUT)), &need);
	uint32_t kev = ((uint32_t)need | wanted(r)) & (EPOLLIN | EPOLLOUT);
	int e = set_kev(es, r, kev, true);
	if (e) {
		epset_reg_free(es, r);
		errno = e;
		return -1;
	}
	epset_queue(es, r, true);
	return 0;
}

SHIM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct eset *es = epset_acquire(epfd);
	bool adopted = false;
	if (!es) {
		if (!shim_rules_active() || (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD) || !ev)
			return REAL(epoll_ctl)(epfd, op, fd, ev);
		/* A set made before we were initialised (or inherited over exec):
		 * adopt it; what it already holds passes through untouched. */
		es = epset_new(epfd);
		if (!es)
			return REAL(epoll_ctl)(epfd, op, fd, ev);
		__atomic_add_fetch(&es->refs, 1, __ATOMIC_ACQ_REL);
		epset_install(epfd, es, NULL);
		adopted = true;
	}
	if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !ev) {
		epset_unref(es);
		return REAL(epoll_ctl)(epfd, op, fd, ev); /* EFAULT, as the kernel says */
	}
	pthread_mutex_lock(&es->lock);
	int rc;
	switch (op) {
	case EPOLL_CTL_ADD:
		rc = ctl_add(es, fd, ev);
		break;
	case EPOLL_CTL_MOD:
		rc = ctl_mod(es, fd, ev);
		break;
	case EPOLL_CTL_DEL:
		rc = REAL(epoll_ctl)(epfd, op, fd, ev);
		if (rc == 0 || errno == ENOENT) {
			int saved = errno;
			drop_stale(es, fd);
			errno = saved;
		}
		break;
	default:
		rc = REAL(epoll_ctl)(epfd, op, fd, ev);
		break;
	}
	if (rc == 0 && ev && op != EPOLL_CTL_DEL && epset_is_tag(ev->data.u64))
		es->collide = true;
	int saved = errno;
	bool empty = es->count == 0;
	pthread_mutex_unlock(&es->lock);
	if (rc < 0 && ((adopted && empty) || (errno == EBADF && REAL(fcntl)(epfd, F_GETFD) < 0)))
		epset_install(epfd, NULL, es); /* not (or no longer) an epoll set */
	epset_unref(es);
	errno = saved;
	return rc;
}

/* ---- epoll_wait and friends --------------------------------------------- */

/* The real wait for at most ${us} microseconds (< 0: forever). */
static int kwait(int epfd, struct epoll_event *evs, int n, int64_t us, const sigset_t *mask,
		 bool precise)
{
	if (precise) {
		struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
		return REAL(epoll_pwait2)(epfd, evs, n, us < 0 ? NULL : &ts, mask);
	}
	int ms = us < 0                           ? -1
		 : us > (int64_t)INT32_MAX * 1000 ? INT32_MAX
						  : (int)((us + 999) / 1000);
	return mask ? REAL(epoll_pwait)(epfd, evs, n, ms, mask)
		    : REAL(epoll_wait)(epfd, evs, n, ms);
}

/* Add ${events} for ${r} at evs[*n], or to the entry already there. */
static void deliver(struct epoll_event *evs, struct ereg **who, int *n, struct ereg *r,
		    uint32_t events)
{
	for (int j = 0; j < *n; j++)
		if (who[j] == r) {
			evs[j].events |= events;
			return;
		}
	evs[*n].events = events;
	evs[*n].data = r->data;
	who[(*n)++] = r;
}

/* Turn the kernel's ${k} reports at evs[n..] into what the program sees:
 * tagged ones are TLS registrations to advance and translate; the rest
 * pass through (merged with a synthesized report for the same nested set).
 * Returns the new total. es->lock held; ${frees} is es->frees when who[]
 * was filled. */
static int translate(struct eset *es, struct epoll_event *evs, struct ereg **who, int n, int k,
		     unsigned frees)
{
	uint64_t now = shim_now_us(), wake = UINT64_MAX;
	int out = n, synth = n;
	if (es->frees != frees) /* unlocked since the scan: who[] may name freed ones */
		for (int j = 0; j < n; j++)
			who[j] = NULL;
	for (int i = n; i < n + k; i++) {
		uint64_t d = evs[i].data.u64;
		uint32_t kev = evs[i].events;
		if (epset_is_tag(d)) {
			if (epset_is_kick(d))
				continue; /* only woke us for the ready list */
			struct ereg *r = epset_tagged(es, d);
			if (r && still_tls(es, r)) {
				r->fired = true;
				if (kev & (EPOLLHUP | EPOLLERR))
					r->hup = true;
				uint32_t ev = look_tls(es, r, now, &wake, true, kev);
				if (ev)
					deliver(evs, who, &out, r, ev);
				if (stays_ready(r, ev))
					requeue(es, r);
				continue;
			}
			if (r || !es->collide)
				continue; /* a report for a registration since dropped */
		}
		bool merged = false;
		for (int j = 0; es->nnested && j < synth && !merged; j++)
			if (who[j] && who[j]->kind == REG_NESTED && who[j]->data.u64 == d) {
				evs[j].events |= kev;
				merged = true;
			}
		if (merged)
			continue;
		if (es->nnested) {
			/* A one-shot nested set the kernel reported is spent for
			 * our synthesized reports too. */
			struct ereg *r = NULL;
			for (size_t j = 0; j < es->nspec && !r; j++)
				if (es->spec[j]->kind == REG_NESTED && es->spec[j]->data.u64 == d)
					r = es->spec[j];
			if (r && (r->events & EPOLLONESHOT))
				r->off = true;
		}
		evs[out] = evs[i];
		who[out++] = NULL;
	}
	return out;
}

static bool has_tags(const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++)
		if (epset_is_tag(evs[i].data.u64))
			return true;
	return false;
}

/* who[] runs parallel to the output: which registration each entry is
 * (NULL: passed through from the kernel). Kept on the stack unless the
 * program asks for many events and we need it. */
static struct ereg **who_for(struct ereg **stack, struct ereg ***heap, int maxevents)
{
	if (maxevents <= STACK_EVENTS)
		return stack;
	if (!*heap)
		*heap = malloc((size_t)maxevents * sizeof **heap);
	return *heap;
}

static int tls_wait(struct eset *es, struct epoll_event *evs, int maxevents, int64_t timeout_us,
		    const sigset_t *mask, bool precise)
{
	/* The clock is read only when a timeout or a scan needs it. */
	uint64_t deadline = timeout_us < 0    ? UINT64_MAX
			    : timeout_us == 0 ? 0
					      : shim_now_us() + (uint64_t)timeout_us;
	struct ereg *stack[STACK_EVENTS], **heap = NULL, **who;
	int ret;
	for (;;) {
		uint64_t now = 0, wake = deadline;
		int n = 0;
		unsigned frees = 0;
		bool more = false;
		unsigned touches = __atomic_load_n(&es->touches, __ATOMIC_SEQ_CST);
		bool tls = __atomic_load_n(&es->ntls, __ATOMIC_RELAXED) != 0 ||
			   __atomic_load_n(&es->nspec, __ATOMIC_RELAXED) != 0;
		bool scan = !epset_ready_empty(es) ||
			    __atomic_load_n(&es->nspec, __ATOMIC_RELAXED) ||
			    __atomic_load_n(&shim_fd_epoch, __ATOMIC_ACQUIRE) !=
				    __atomic_load_n(&es->epoch, __ATOMIC_RELAXED) ||
			    (tls && __atomic_load_n(&epset_missed, __ATOMIC_RELAXED) !=
					    __atomic_load_n(&es->missed, __ATOMIC_RELAXED));
		if (tls)
			__atomic_add_fetch(&epset_stat_waits, 1, __ATOMIC_RELAXED);
		if (scan) {
			if (!(who = who_for(stack, &heap, maxevents))) {
				errno = ENOMEM;
				ret = -1;
				break;
			}
			now = shim_now_us();
			pthread_mutex_lock(&es->lock);
			refresh(es);
			/* Leave room for the kernel's reports, so TLS descriptors
			 * that are always ready cannot starve the others. */
			int quota = maxevents > 1 ? maxevents - 1 : (es->flip = !es->flip) ? 1 : 0;
			size_t nr = epset_take_ready(es);
			for (size_t i = 0; i < nr; i++) {
				struct ereg *r = es->rbuf[i];
				if (n >= quota) { /* for the next round */
					requeue(es, r);
					more = true;
					continue;
				}
				if (!still_tls(es, r))
					continue;
				uint32_t ev = look_tls(es, r, now, &wake, true, 0);
				if (ev)
					deliver(evs, who, &n, r, ev);
				if (stays_ready(r, ev))
					requeue(es, r);
			}
			for (size_t i = 0; i < es->nspec; i++) {
				struct ereg *r = es->spec[i];
				uint32_t ev = look_nested(r, 0, now, &wake, n < quota);
				if (ev && n < quota)
					deliver(evs, who, &n, r, ev);
				else if (ev)
					more = true;
			}
			frees = es->frees;
			pthread_mutex_unlock(&es->lock);
		}
		int k = 0;
		if (n < maxevents) {
			int64_t us = -1;
			if (n > 0 || more || wake == 0) {
				us = 0;
			} else if (wake != UINT64_MAX) {
				now = now ? now : shim_now_us();
				us = wake > now ? (int64_t)(wake - now) : 0;
			}
			/* Dekker with epset_queue: a touch after our look either
			 * sees us waiting (and wakes us) or is seen here. */
			if (tls)
				__atomic_add_fetch(&es->waiters, 1, __ATOMIC_SEQ_CST);
			if (tls && us != 0 &&
			    __atomic_load_n(&es->touches, __ATOMIC_SEQ_CST) != touches)
				us = 0;
			k = kwait(es->epfd, evs + n, maxevents - n, us, mask, precise);
			if (tls) {
				int saved = errno;
				__atomic_sub_fetch(&es->waiters, 1, __ATOMIC_SEQ_CST);
				errno = saved;
			}
			if (k < 0) {
				if (n == 0) {
					ret = -1;
					break;
				}
				k = 0;
			}
		}
		int total = n + k;
		if (k > 0 && (n > 0 || tls || has_tags(evs + n, k))) {
			if (!(who = who_for(stack, &heap, maxevents))) {
				errno = ENOMEM;
				ret = -1;
				break;
			}
			pthread_mutex_lock(&es->lock);
			total = translate(es, evs, who, n, k, frees);
			pthread_mutex_unlock(&es->lock);
		}
		if (total > 0) {
			__atomic_add_fetch(&es->harvests, 1, __ATOMIC_ACQ_REL);
			ret = total;
			break;
		}
		if (more)
			continue; /* maxevents == 1 gave the kernel its turn: now ours */
		if (deadline == 0 || shim_now_us() >= deadline) {
			ret = 0;
			break;
		}
	}
	int saved = errno;
	free(heap);
	errno = saved;
	return ret;
}

/* The common entry: pass through for sets we do not know. */
static int wait_common(int epfd, struct epoll_event *evs, int maxevents, int64_t timeout_us,
		       const sigset_t *mask, bool precise)
{
	struct eset *es = maxevents > 0 && evs ? epset_acquire(epfd) : NULL;
	if (!es)
		return kwait(epfd, evs, maxevents, timeout_us, mask, precise);
	int r = tls_wait(es, evs, maxevents, timeout_us, mask, precise);
	int saved = errno;
	if (r < 0 && errno == EBADF)
		epset_install(epfd, NULL, es);
	epset_unref(es);
	errno = saved;
	return r;
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int maxevents, int timeout)
{
	if (!epset_get(epfd))
		return REAL(epoll_wait)(epfd, evs, maxevents, timeout);
	return wait_common(epfd, evs, maxevents, timeout < 0 ? -1 : (int64_t)timeout * 1000, NULL,
			   false);
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int maxevents, int timeout,
			    const sigset_t *mask)
{
	if (!epset_get(epfd))
		return REAL(epoll_pwait)(epfd, evs, maxevents, timeout, mask);
	return wait_common(epfd, evs, maxevents, timeout < 0 ? -1 : (int64_t)timeout * 1000, mask,
			   false);
}

SHIM_EXPORT int epoll_pwait2(int epfd, struct epoll_event *evs, int maxevents,
			     const struct timespec *ts, const sigset_t *mask)
{
	if (!REAL(epoll_pwait2)) {
		errno = ENOSYS;
		return -1;
	}
	if (!epset_get(epfd) ||
	    (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)))
		return REAL(epoll_pwait2)(epfd, evs, maxevents, ts, mask);
	int64_t us = -1;
	if (ts)
		us = ts->tv_sec > INT64_MAX / 2000000
			     ? INT64_MAX / 2
			     : (int64_t)ts->tv_sec * 1000000 + (ts->tv_nsec + 999) / 1000;
	return wait_common(epfd, evs, maxevents, us, mask, true);
}
