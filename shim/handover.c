/*
 * handover.c: TLS connections across exec (handover.h).
 *
 * The state memfd holds, big-endian:
 *   "TLSHIMHO" u8 version, u16 count, then per connection:
 *   u8 kind, u8 flags, str8 rule name, u16 descriptor count, u32 fd...,
 *   u32 length + the engine's blob (tls_export.h; kind TLS only).
 * Entry i's ownership word is word i of the owner memfd.
 */
#include "handover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cursor.h"
#include "fork.h"
#include "hooks.h"
#include "log.h"
#include "rules.h"
#include "tls_export.h"

#define MAGIC        "TLSHIMHO"
#define VERSION      1
#define MAX_STATE    (64u << 20) /* bytes a state memfd may hold */
#define MAX_CONNS    4096
#define LOCK_WAIT_NS 1000000000L /* a busy connection: wait this long for it */
#define SEALS        (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

enum kind {
	K_TLS = 1, /* established: the engine's state follows */
	K_FRESH,   /* server connection that moved no byte: handshake in the new image */
	K_PLAIN,   /* plaintext = allow, the peer spoke in clear: stays plain */
	K_LOST,    /* another process owns it since fork: EPERM there too */
};

/* FL_OWNED: the old image owned it and is gone once the exec succeeds
 * (execve, not a spawn or a vfork child): the new image claims it at
 * once, so its close or exit ends it with close_notify even if it never
 * used it. */
enum { FL_CLIENT = 1, FL_SHUT_WR = 2, FL_OWNED = 4 };

/* fd_list(fds, n, out, len): the descriptor numbers ${fds} of one
 * connection as "0,1" in ${out} (for the log lines, which name every
 * number that crosses); returns ${out}. */
static const char *fd_list(const int *fds, int n, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (int j = 0; j < n && used < len; j++) {
		int w = snprintf(out + used, len - used, "%s%d", j ? "," : "", fds[j]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return out;
}

/* ---- the old image ------------------------------------------------------- */

struct entry {
	sconn *s;
	int nfd;
	int *fds;
	uint8_t kind, flags;
	bool intended; /* put on 0..2 or moved (dup2): handed on on purpose */
	uint8_t *blob;
	size_t blob_len;
	bool locked;
};

static int lock_both(sconn *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += LOCK_WAIT_NS % 1000000000L;
	ts.tv_sec += LOCK_WAIT_NS / 1000000000L + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	if (pthread_mutex_timedlock(&s->wr, &ts) != 0)
		return -1;
	if (pthread_mutex_timedlock(&s->rd, &ts) != 0) {
		pthread_mutex_unlock(&s->wr);
		return -1;
	}
	return 0;
}

static void unlock_both(sconn *s)
{
	pthread_mutex_unlock(&s->rd);
	pthread_mutex_unlock(&s->wr);
}

/* Group ${fds} by connection (a reference held on each). */
static struct entry *group(const struct handover_fd *fds, int n, int *count)
{
	struct entry *e = calloc((size_t)n, sizeof *e);
	int *nums = calloc((size_t)n, sizeof *nums);
	if (!e || !nums) {
		free(e);
		free(nums);
		return NULL;
	}
	int k = 0, used = 0;
	for (int i = 0; i < n; i++) {
		sconn *s = fdtab_get(fds[i].orig);
		int j = 0;
		while (s && j < k && e[j].s != s)
			j++;
		if (s && j == k) {
			sconn_ref(s);
			e[k++].s = s;
		}
	}
	for (int j = 0; j < k; j++) { /* each entry's numbers side by side */
		e[j].fds = nums + used;
		for (int i = 0; i < n; i++)
			if (fdtab_get(fds[i].orig) == e[j].s) {
				e[j].fds[e[j].nfd++] = fds[i].fd;
				/* a vfork child's dup2 moved it: fdtab_view_moved */
				e[j].intended |= fds[i].fd <= 2 || fds[i].fd != fds[i].orig ||
						 fdtab_view_moved(fds[i].fd);
			}
		used += e[j].nfd;
	}
	e[0].fds = nums; /* entries_free frees it through the first entry */
	*count = k;
	return e;
}

static void entries_free(struct entry *e, int k)
{
	if (!e)
		return;
	for (int i = 0; i < k; i++) {
		tls_export_free(e[i].blob, e[i].blob_len);
		if (e[i].locked)
			unlock_both(e[i].s);
		if (e[i].s)
			sconn_unref(e[i].s);
	}
	free(e[0].fds);
	free(e);
}

/* Decide and serialise one connection (both locks held). NULL or why not. */
static const char *capture(struct entry *e, struct region *r, size_t i, bool stays)
{
	sconn *s = e->s;
	e->flags = (s->client ? FL_CLIENT : 0) | (s->shut_wr ? FL_SHUT_WR : 0);
	/* Shared with a fork parent that may still be the one to use it: a
	 * descriptor that merely leaked into the new program (not on 0..2, not
	 * moved there) does not take it from the parent. */
	bool shared = !shim_fork_owns(s);
	if (shim_fork_refused(s) || (shared && !e->intended) || shim_fork_exec_link(s, r, i) < 0) {
		if (errno == ENOMEM)
			return "out of memory";
		e->kind = K_LOST;
		return NULL;
	}
	if (!stays)
		e->flags |= FL_OWNED;
	if (sconn_plaintext(s)) {
		e->kind = K_PLAIN;
		return NULL;
	}
	if (!s->client && !__atomic_load_n(&s->sniffed, __ATOMIC_ACQUIRE) &&
	    tls_conn_untouched(s->tls)) {
		e->kind = K_FRESH;
		return NULL;
	}
	const char *why = NULL;
	if (tls_conn_export(s->tls, &e->blob, &e->blob_len, &why) < 0)
		return why;
	e->kind = K_TLS;
	return NULL;
}

/* A sealed memfd holding ${len} bytes at ${p}, or -1. */
static int sealed(const uint8_t *p, size_t len)
{
	int m = (int)syscall(SYS_memfd_create, "tlshim-handover", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (m < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = pwrite(m, p + off, len - off, (off_t)off);
		if (w <= 0) {
			REAL(close)(m);
			return -1;
		}
		off += (size_t)w;
	}
	if (REAL(fcntl)(m, F_ADD_SEALS, SEALS) < 0) {
		REAL(close)(m);
		return -1;
	}
	return m;
}

static int serialise(struct entry *e, int k)
{
	size_t cap = 8 + 1 + 2;
	for (int i = 0; i < k; i++)
		cap += 1 + 1 + 1 + strlen(e[i].s->rule->name) + 2 + 4 * (size_t)e[i].nfd + 4 +
		       e[i].blob_len;
	uint8_t *p = malloc(cap);
	if (!p)
		return -1;
	tls_wbuf w;
	tls_wbuf_init(&w, p, cap);
	tls_wbuf_bytes(&w, MAGIC, 8);
	tls_wbuf_u8(&w, VERSION);
	tls_wbuf_u16(&w, (uint16_t)k);
	for (int i = 0; i < k; i++) {
		const char *name = e[i].s->rule->name;
		tls_wbuf_u8(&w, e[i].kind);
		tls_wbuf_u8(&w, e[i].flags);
		tls_wbuf_u8(&w, (uint8_t)strlen(name));
		tls_wbuf_bytes(&w, name, strlen(name));
		tls_wbuf_u16(&w, (uint16_t)e[i].nfd);
		for (int j = 0; j < e[i].nfd; j++)
			tls_wbuf_u32(&w, (uint32_t)e[i].fds[j]);
		tls_wbuf_u32(&w, (uint32_t)e[i].blob_len);
		if (e[i].blob_len)
			tls_wbuf_bytes(&w, e[i].blob, e[i].blob_len);
	}
	int m = tls_wbuf_ok(&w) && w.len == cap ? sealed(p, cap) : -1;
	sodium_memzero(p, cap);
	free(p);
	return m;
}

/* A number for ${fd} outside the new program's ${fds}, or -1 (${fd} closed);
 * close-on-exec like ${fd}. */
static int out_of_the_way(int fd, const struct handover_fd *fds, int n)
{
	for (;;) {
		bool clash = false;
		for (int i = 0; i < n && !clash; i++)
			clash = fds[i].fd == fd;
		if (!clash)
			return fd;
		int d = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, fd + 1);
		REAL(close)(fd);
		if (d < 0)
			return -1;
		fd = d;
	}
}

int handover_begin(handover *h, const char *what, const char *path, const struct handover_fd *fds,
		   int n, bool stays)
{
	bool vfork_child = shim_fork_foreign();
	stays = stays || vfork_child; /* a vfork child's parent goes on */
	h->state_fd = h->owner_fd = -1;
	h->env[0] = '\0';
	h->held = false;
	if (n == 0)
		return 0;
	int k = 0;
	struct entry *e = group(fds, n, &k);
	const char *why = e ? NULL : "out of memory";
	struct region *r = NULL;
	if (e && k > MAX_CONNS)
		why = "too many TLS connections";
	if (!why && !(r = shim_fork_exec_region((size_t)k, &h->owner_fd)))
		why = "out of memory";
	int bad = -1;
	char nums[64];
	for (int i = 0; i < k && !why; i++) {
		if (lock_both(e[i].s) < 0) {
			why = "it is in use by another thread";
			bad = i;
			break;
		}
		e[i].locked = true;
		if ((why = capture(&e[i], r, (size_t)i, stays)) != NULL)
			bad = i;
	}
	if (!why) {
		h->owner_fd = out_of_the_way(h->owner_fd, fds, n);
		h->state_fd = out_of_the_way(serialise(e, k), fds, n);
		if (h->state_fd < 0 || h->owner_fd < 0)
			why = "could not write the connection state";
	}
	if (why) {
		if (bad >= 0)
			shim_log(SHIM_LOG_WARN,
				 "%s %s refused (EPERM): TLS connection fd %s (rule %s, %s) "
				 "cannot cross exec: %s",
				 what, path ? path : "?",
				 fd_list(e[bad].fds, e[bad].nfd, nums, sizeof nums),
				 e[bad].s->rule->name, e[bad].s->peer, why);
		else
			shim_log(SHIM_LOG_WARN,
				 "%s %s refused (EPERM): TLS connections cannot "
				 "cross exec: %s",
				 what, path ? path : "?", why);
		/* Links already made stay: the connections remain ours to
		 * claim, nobody else holds their words. */
		entries_free(e, k);
		shim_fork_exec_region_put(r);
		handover_end(h);
		errno = EPERM;
		return -1;
	}
	static const char *const kinds[] = {"", "TLS state", "fresh server connection", "plaintext",
					    "another process's"};
	for (int i = 0; i < k; i++)
		shim_log(SHIM_LOG_DEBUG, "%s %s: fd %s (rule %s, %s) handed over as %s", what,
			 path ? path : "?", fd_list(e[i].fds, e[i].nfd, nums, sizeof nums),
			 e[i].s->rule->name, e[i].s->peer, kinds[e[i].kind]);
	snprintf(h->env, sizeof h->env, SHIM_HANDOVER_ENV "=%d,%d", h->state_fd, h->owner_fd);
	entries_free(e, k); /* the connections' locks: before the fork lock */
	shim_fork_exec_region_put(r);
	/* Inheritable from here to handover_end only (handover.h), with
	 * other threads' forks held off. */
	if (!vfork_child) {
		shim_fork_hold();
		h->held = true;
	}
	if (REAL(fcntl)(h->state_fd, F_SETFD, 0) < 0 || REAL(fcntl)(h->owner_fd, F_SETFD, 0) < 0) {
		shim_log(SHIM_LOG_WARN,
			 "%s %s refused (EPERM): TLS connections cannot cross exec: the "
			 "connection state cannot be made inheritable (%s)",
			 what, path ? path : "?", strerror(errno));
		handover_end(h);
		errno = EPERM;
		return -1;
	}
	return 0;
}

void handover_end(handover *h)
{
	if (h->state_fd >= 0)
		REAL(close)(h->state_fd);
	if (h->owner_fd >= 0)
		REAL(close)(h->owner_fd);
	if (h->held)
		shim_fork_release();
	h->state_fd = h->owner_fd = -1;
	h->env[0] = '\0';
	h->held = false;
}

/* ---- the new image ------------------------------------------------------- */

/* Sockets named by the hand-over (dev, inode), for handover_named. */
static struct named {
	dev_t dev;
	ino_t ino;
} * named;
static size_t nnamed;

bool handover_named(int fd)
{
	if (nnamed == 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < nnamed; i++)
		if (named[i].dev == st.st_dev && named[i].ino == st.st_ino)
			return true;
	return false;
}

static void name_socket(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	struct named *m = realloc(named, (nnamed + 1) * sizeof *m);
	if (!m)
		return; /* it is shut down or registered anyway: inherit skips those */
	named = m;
	named[nnamed++] = (struct named){st.st_dev, st.st_ino};
}

/* Nothing may cross the socket at ${fd} in clear. */
static void fail_closed(int fd, const char *rule, const char *why)
{
	REAL(shutdown)(fd, SHUT_RDWR);
	name_socket(fd);
	shim_log(SHIM_LOG_ERROR,
		 "exec hand-over: TLS connection fd %d (rule %s) not restored: %s; connection "
		 "shut down",
		 fd, rule, why);
}

static shim_rule *rule_for(int fd, bool client, const char *name)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	shim_rule *r = NULL;
	if (client) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
			r = shim_match_client((struct sockaddr *)&ss, sl);
	} else if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		uint16_t port = 0;
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		r = shim_match_server(port);
	}
	return r && strcmp(r->name, name) == 0 ? r : NULL;
}

/* One entry: its connection at every one of ${fds}. */
static int restore_one(uint8_t kind, uint8_t flags, const char *name, const int *fds, int nfd,
		       const uint8_t *blob, size_t blob_len, struct region *r, size_t i)
{
	int fd = fds[0];
	struct stat st0, st;
	bool one = fstat(fd, &st0) == 0 && S_ISSOCK(st0.st_mode);
	for (int j = 1; j < nfd && one; j++)
		one = fstat(fds[j], &st) == 0 && st.st_dev == st0.st_dev && st.st_ino == st0.st_ino;
	if (!one) {
		for (int j = 0; j < nfd; j++)
			if (fstat(fds[j], &st) == 0 && S_ISSOCK(st.st_mode))
				fail_closed(fds[j], name, "its descriptors are not one socket");
		return 0;
	}
	for (int j = 0; j < nfd; j++)
		name_socket(fds[j]);
	if (kind == K_PLAIN) {
		char nums[64];
		shim_log(SHIM_LOG_DEBUG, "exec hand-over: fd %s (rule %s) stays plaintext",
			 fd_list(fds, nfd, nums, sizeof nums), name);
		return 0;
	}
	bool client = flags & FL_CLIENT;
	shim_rule *rule = rule_for(fd, client, name);
	if (!rule) {
		fail_closed(fd, name, "this image's policy has no such rule for it");
		return 0;
	}
	sconn *s = sconn_new(rule, fd, client, NULL);
	if (!s) {
		fail_closed(fd, name, "out of memory");
		return 0;
	}
	const char *why = NULL;
	if (kind == K_TLS) {
		unsigned gen;
		tls_config *cfg = shim_rule_config(rule, shim_now_us(), &gen);
		char err[192] = "";
		tls_conn *c = tls_conn_import(cfg, blob, blob_len, err, sizeof err);
		tls_config_unref(cfg);
		if (!c) {
			sconn_unref(s);
			fail_closed(fd, name, err);
			return 0;
		}
		tls_conn_free(s->tls);
		s->tls = c;
		s->cfg_gen = gen;
		s->shut_wr = flags & FL_SHUT_WR;
		__atomic_store_n(&s->ready, true, __ATOMIC_RELEASE);
	} else if (kind != K_FRESH && kind != K_LOST) {
		why = "unknown kind";
	}
	if (!why && kind == K_LOST)
		shim_fork_mark_lost(s);
	else if (!why && shim_fork_exec_adopt(s, r, i) < 0)
		why = "out of memory";
	/* Owned from the start, but through the word all the same: a thread
	 * of the old image may have used the connection between its capture
	 * and the exec (then this copy is stale and must never write). */
	else if (!why && (flags & FL_OWNED))
		shim_fork_claim(s); /* on failure: logged, and EPERM from now on */
	int made = 0;
	for (int j = 0; j < nfd && !why; j++) {
		if (shim_fd_attach(fds[j], s) < 0)
			why = "out of memory";
		else
			made++;
	}
	if (why) {
		for (int j = 0; j < nfd; j++)
			fail_closed(fds[j], name, why);
		if (made == 0)
			sconn_unref(s);
		return 0;
	}
	char nums[64];
	shim_log(SHIM_LOG_DEBUG, "exec hand-over: fd %s (rule %s, %s) restored%s",
		 fd_list(fds, nfd, nums, sizeof nums), name, s->peer,
		 kind == K_FRESH  ? " (handshake on first use)"
		 : kind == K_LOST ? " as another process's (EPERM)"
				  : "");
	return made;
}

/* The state at ${fd} into a malloc'd copy; NULL when it is not a sealed
 * memfd of sane size. */
static uint8_t *read_state(int fd, size_t *len)
{
	struct stat st;
	if (REAL(fcntl)(fd, F_GET_SEALS) != SEALS || fstat(fd, &st) < 0 || st.st_size < 11 ||
	    (size_t)st.st_size > MAX_STATE)
		return NULL;
	uint8_t *p = malloc((size_t)st.st_size);
	if (!p)
		return NULL;
	size_t off = 0;
	while (off < (size_t)st.st_size) {
		ssize_t r = pread(fd, p + off, (size_t)st.st_size - off, (off_t)off);
		if (r <= 0) {
			sodium_memzero(p, off);
			free(p);
			return NULL;
		}
		off += (size_t)r;
	}
	*len = off;
	return p;
}

/* Shut down every socket the state names (it cannot be used). */
static void fail_all(tls_cur *c, const char *why)
{
	size_t k = tls_cur_u16(c);
	for (size_t i = 0; i < k && !c->bad; i++) {
		tls_cur_u8(c);
		tls_cur_u8(c);
		tls_cur name = tls_cur_block(c, 1);
		(void)name;
		size_t nfd = tls_cur_u16(c);
		for (size_t j = 0; j < nfd && !c->bad; j++) {
			int fd = (int)tls_cur_u32(c);
			struct stat st;
			if (!c->bad && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
				fail_closed(fd, "?", why);
		}
		tls_cur_bytes(c, tls_cur_u32(c));
	}
}

int handover_restore(void)
{
	const char *var = getenv(SHIM_HANDOVER_ENV);
	if (!var)
		return 0;
	char v[64];
	snprintf(v, sizeof v, "%s", var); /* unsetenv below may free var */
	int sfd = -1, ofd = -1;
	if (sscanf(v, "%d,%d", &sfd, &ofd) != 2)
		sfd = ofd = -1;
	unsetenv(SHIM_HANDOVER_ENV); /* not for this image's own children */
	size_t len = 0;
	/* Only a memfd is ours to close (a stale or forged variable may name
	 * any descriptor of the program). */
	if (sfd >= 0 && REAL(fcntl)(sfd, F_GET_SEALS) < 0)
		sfd = -1;
	if (ofd >= 0 && REAL(fcntl)(ofd, F_GET_SEALS) < 0)
		ofd = -1;
	uint8_t *p = sfd >= 0 ? read_state(sfd, &len) : NULL;
	if (sfd >= 0)
		REAL(close)(sfd); /* the last descriptor: the kernel frees its pages */
	struct stat st;
	struct region *r = NULL;
	tls_cur c;
	tls_cur_init(&c, p, len);
	const uint8_t *magic = tls_cur_bytes(&c, 8);
	uint8_t version = tls_cur_u8(&c);
	size_t k = 0;
	if (!p || !magic || memcmp(magic, MAGIC, 8) != 0 || version != VERSION) {
		/* Nothing to go by: inherit.h's fresh handshake on a stream
		 * that is mid-TLS fails (unexpected_message), never plain. */
		shim_log(SHIM_LOG_ERROR, "exec hand-over: %s=%s names no usable connection state",
			 SHIM_HANDOVER_ENV, v);
		goto out;
	}
	tls_cur peek = c;
	k = tls_cur_u16(&peek);
	if (!shim_rules_active() || ofd < 0 || fstat(ofd, &st) < 0 ||
	    (size_t)st.st_size < k * sizeof(uint64_t) ||
	    !(r = shim_fork_exec_map(ofd, k ? k : 1))) {
		fail_all(&c, shim_rules_active() ? "its ownership record is missing"
						 : "no policy is loaded in this image");
		goto out;
	}
	k = tls_cur_u16(&c);
	int restored = 0;
	for (size_t i = 0; i < k && !c.bad; i++) {
		uint8_t kind = tls_cur_u8(&c), flags = tls_cur_u8(&c);
		tls_cur nb = tls_cur_block(&c, 1);
		char name[64] = "";
		size_t nl = tls_cur_remaining(&nb);
		if (nl < sizeof name)
			tls_cur_copy(&nb, name, nl);
		size_t nfd = tls_cur_u16(&c);
		int fds[64];
		size_t got = 0;
		for (size_t j = 0; j < nfd && !c.bad; j++) {
			uint32_t fd = tls_cur_u32(&c);
			if (got < 64 && fd < (1u << 30))
				fds[got++] = (int)fd;
		}
		uint32_t bl = tls_cur_u32(&c);
		const uint8_t *blob = tls_cur_bytes(&c, bl);
		if (c.bad || got == 0 || got != nfd || nl >= sizeof name) {
			for (size_t j = 0; j < got; j++)
				fail_closed(fds[j], name, "its record is garbled");
			continue;
		}
		restored += restore_one(kind, flags, name, fds, (int)nfd, blob, bl, r, i);
	}
	shim_fork_exec_region_put(r);
	sodium_memzero(p, len);
	free(p);
	if (ofd >= 0)
		REAL(close)(ofd);
	return restored;
out:
	if (p) {
		sodium_memzero(p, len);
		free(p);
	}
	if (ofd >= 0)
		REAL(close)(ofd);
	return 0;
}
