/*
 * hook_stdio.c: stdio streams on TLS descriptors.
 *
 * glibc's FILE streams read and write with libc's internal read/write,
 * which no preload library can interpose: a stream sitting on a TLS socket
 * would send the program's bytes in clear and hand it raw records. So a
 * stream on a TLS descriptor is made with fopencookie instead, and its
 * reads and writes go through the pump (the record layer):
 * - fdopen(fd) when ${fd} is a TLS descriptor;
 * - stdin, stdout, stderr when descriptor 0, 1 or 2 comes to name a TLS
 *   connection (dup2/dup3 in inetd-style and pre-forked servers; also dup,
 *   F_DUPFD, accept or connect landing on a free low number): the standard
 *   variable then points at a cookie stream on that number (glibc's
 *   printf, puts, getchar, perror... read the variable, as programs do).
 *
 * Binding, so that a stream never falls back to clear text:
 * - An fdopen stream belongs to the connection its descriptor named when it
 *   was made. Once the descriptor is closed or names anything else, every
 *   read and write fails with EBADF, and fclose returns EOF (EBADF) without
 *   closing the number, which belongs to another file by then.
 * - A standard-stream cookie belongs to its number: while 0/1/2 names a TLS
 *   connection it is bound to that one. When the number stops being TLS
 *   (close, dup2 over it) the cookie is unbound: it fails with EBADF, and
 *   output it still holds is dropped, as close() leaves a stream's buffer.
 *   The variable keeps pointing at it (a closed stdout fails natively too)
 *   until the number gets a plain file again through dup2/dup3 or a call
 *   that makes descriptors (open, pipe, socket...): then the program's
 *   original stream is put back. The next TLS connection on the number
 *   rebinds the same cookie (one per number, however many connections a
 *   pre-forked server serves). The original is never put back while the
 *   number may still be TLS (release runs before the real close/dup2).
 * - While the cookie stands in, the original stream (glibc's static
 *   stdout, which C++'s std::cout and saved pointers keep using) has its
 *   descriptor number set to -1, so it fails with EBADF instead of writing
 *   in clear; it gets the number back when restored.
 * - dup2/dup3 over 0/1/2 first flush the stream standing there, so bytes
 *   the program wrote before the switch go where they were meant to: to the
 *   old file, or through the old connection.
 *
 * fileno() of a cookie stream is its descriptor (glibc gives cookie
 * streams -2; programs poll, shutdown or getpeername on fileno(f)). fclose
 * closes that descriptor through close() (close_notify as usual). Seeking
 * fails with ESPIPE, as on any socket. Buffering: full (BUFSIZ), as for a
 * socket stream; setvbuf/setlinebuf on the stream work as usual; a
 * standard stream keeps the mode the original had (stderr unbuffered).
 *
 * Differences from glibc's fdopen: "e" in the mode sets FD_CLOEXEC (glibc
 * ignores it); "a" does not set O_APPEND on the socket (meaningless there,
 * and the program's socket flags are left alone).
 *
 * Not covered:
 * - FILE streams made BEFORE their descriptor became TLS (fdopen(sock),
 *   then connect(sock); a saved fdopen(1, "w") before dup2 over 1): glibc
 *   keeps no index of streams by descriptor that could be searched safely
 *   from connect/accept, so they still write in clear. (The fclose hook,
 *   hook_fdnew.c, at least sends their pending output through TLS.)
 * - fopen("/proc/self/fd/N") opens a new socket description the kernel
 *   refuses for sockets (ENXIO), so it cannot reach a TLS socket.
 * - Bytes glibc itself writes to descriptor 2 with its internal write
 *   (__libc_message: "*** stack smashing detected ***", malloc aborts).
 * - freopen() of a standard stream while it is a cookie: glibc replaces
 *   the descriptor with an internal dup3 we do not see.
 * - A fork() racing with a dup2 over 0/1/2 in another thread may leave the
 *   child with the switch lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "fork.h"
#include "hooks.h"
#include "log.h"

/* glibc's FILE flags (libio.h) for the buffering mode of a stream. */
#define LIBIO_UNBUFFERED 0x0002
#define LIBIO_LINE_BUF   0x0200

typedef struct sfile {
	int fd;
	int slot;           /* 0..2: the standard stream of that number; -1: fdopen */
	pthread_mutex_t mu; /* guards s */
	sconn *s;           /* the bound connection (a reference), NULL once gone */
	FILE *f;
} sfile;

/* The standard streams we stand in for. */
static struct {
	sfile *cookie; /* this number's cookie (made once, then rebound) */
	FILE *orig;    /* the stream the variable held before we replaced it */
	int orig_fileno;
	bool active; /* the variable points at our cookie */
} slots[3];
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;

/* glibc's vtable of fopencookie streams, learned from our first one. */
static const void *cookie_vtable;

static FILE **std_var(int k)
{
	return k == 0 ? &stdin : k == 1 ? &stdout : &stderr;
}

/* Every glibc FILE is the first member of a struct _IO_FILE_plus, whose
 * vtable pointer follows it (the layout of the exported _IO_2_1_stdout_). */
static const void *vtable_of(FILE *f)
{
	const void *v;
	memcpy(&v, (const char *)f + sizeof(FILE), sizeof v);
	return v;
}

bool shim_stdio_owns(FILE *f)
{
	/* Only our cookie streams carry a descriptor number (glibc gives
	 * fopencookie and fmemopen streams -2). */
	const void *v = __atomic_load_n(&cookie_vtable, __ATOMIC_ACQUIRE);
	return f && v && f->_fileno >= 0 && vtable_of(f) == v;
}

/* The connection ${c} may use now (a reference), or NULL with errno EBADF
 * once its descriptor no longer names the connection it was bound to. */
static sconn *sf_conn(sfile *c)
{
	pthread_mutex_lock(&c->mu);
	sconn *s = c->s;
	if (s)
		sconn_ref(s);
	pthread_mutex_unlock(&c->mu);
	if (!s) {
		errno = EBADF;
		return NULL;
	}
	sconn *cur = fdtab_acquire(c->fd);
	if (cur)
		shim_unref(cur);
	if (cur != s) {
		/* Closed, or the number was reused: the stream is dead for good
		 * (a standard cookie until its number is TLS again). */
		pthread_mutex_lock(&c->mu);
		sconn *old = c->s == s ? s : NULL;
		if (old)
			c->s = NULL;
		pthread_mutex_unlock(&c->mu);
		if (old)
			shim_unref(old);
		shim_unref(s);
		errno = EBADF;
		return NULL;
	}
	return s;
}

/* Bind ${c} to ${s} (NULL: unbind). */
static void sf_bind(sfile *c, sconn *s)
{
	if (s)
		sconn_ref(s);
	pthread_mutex_lock(&c->mu);
	sconn *old = c->s;
	c->s = s;
	pthread_mutex_unlock(&c->mu);
	if (old)
		shim_unref(old);
}

static ssize_t sf_read(void *cookie, char *buf, size_t n)
{
	sfile *c = cookie;
	sconn *s = sf_conn(c);
	if (!s)
		return -1;
	ssize_t r = pump_recv(s, c->fd, buf, n, 0);
	shim_unref(s);
	return r;
}

/* glibc counts a short cookie write as an error: write everything, or
 * stop at the first failure as its own file write does. */
static ssize_t sf_write(void *cookie, const char *buf, size_t n)
{
	sfile *c = cookie;
	sconn *s = sf_conn(c);
	if (!s)
		return -1;
	size_t done = 0;
	while (done < n) {
		ssize_t w = pump_send(s, c->fd, buf + done, n - done, 0);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	shim_unref(s);
	return done == 0 && n > 0 ? -1 : (ssize_t)done;
}

static int sf_seek(void *cookie, off64_t *pos, int whence)
{
	errno = ESPIPE;
	return -1;
}

static int sf_close(void *cookie)
{
	sfile *c = cookie;
	pthread_mutex_lock(&slot_mu);
	if (c->slot >= 0 && slots[c->slot].cookie == c) {
		/* fclose(stdout): the variable must not keep a freed stream. The
		 * original gets it back but stays without a number, i.e.
		 * closed, as glibc's stdout is after fclose. */
		int k = c->slot;
		if (slots[k].active && *std_var(k) == c->f && slots[k].orig)
			__atomic_store_n(std_var(k), slots[k].orig, __ATOMIC_RELEASE);
		slots[k].cookie = NULL;
		__atomic_store_n(&slots[k].orig, NULL, __ATOMIC_RELEASE);
		slots[k].active = false;
	}
	pthread_mutex_unlock(&slot_mu);

	sconn *s = sf_conn(c); /* still this stream's connection? */
	int r = -1;            /* if not, EBADF: the number is not ours to close */
	if (s) {
		shim_unref(s);
		sf_bind(c, NULL);
		r = close(c->fd); /* the hook: close_notify from the last alias */
	}
	int e = errno;
	sf_bind(c, NULL);
	pthread_mutex_destroy(&c->mu);
	free(c);
	errno = e;
	return r;
}

static const cookie_io_functions_t sf_funcs = {
	.read = sf_read,
	.write = sf_write,
	.seek = sf_seek,
	.close = sf_close,
};

/* A cookie stream on ${fd} bound to ${s}, mode one of fopencookie's. */
static sfile *sf_new(int fd, sconn *s, const char *mode, int slot)
{
	sfile *c = calloc(1, sizeof *c);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	c->slot = slot;
	pthread_mutex_init(&c->mu, NULL);
	c->f = fopencookie(c, mode, sf_funcs);
	if (!c->f) {
		int e = errno;
		pthread_mutex_destroy(&c->mu);
		free(c);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	c->f->_fileno = fd;
	sf_bind(c, s);
	const void *v = vtable_of(c->f);
	__atomic_store_n(&cookie_vtable, v, __ATOMIC_RELEASE);
	return c;
}

/* fdopen's mode: r, w or a, then any of "+", "e" (FD_CLOEXEC) and the
 * letters glibc accepts and ignores. */
static FILE *tls_fdopen(int fd, const char *mode)
{
	if (!mode || (mode[0] != 'r' && mode[0] != 'w' && mode[0] != 'a')) {
		errno = EINVAL;
		return NULL;
	}
	bool plus = strchr(mode + 1, '+') != NULL;
	bool cloexec = strchr(mode + 1, 'e') != NULL;
	int fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0)
		return NULL;
	bool reads = mode[0] == 'r' || plus, writes = mode[0] != 'r' || plus;
	if (((fl & O_ACCMODE) == O_RDONLY && writes) || ((fl & O_ACCMODE) == O_WRONLY && reads)) {
		errno = EINVAL;
		return NULL;
	}
	sconn *s = fdtab_acquire(fd);
	if (!s) { /* closed since the caller looked: an ordinary stream now */
		errno = EBADF;
		return NULL;
	}
	char m[3] = {mode[0], plus ? '+' : '\0', '\0'};
	sfile *c = sf_new(fd, s, m, -1);
	shim_unref(s);
	if (!c)
		return NULL;
	if (cloexec) {
		int fdfl = REAL(fcntl)(fd, F_GETFD);
		if (fdfl >= 0 && !(fdfl & FD_CLOEXEC))
			REAL(fcntl)(fd, F_SETFD, fdfl | FD_CLOEXEC);
	}
	/* Full buffering, as glibc gives a stream on a socket. */
	setvbuf(c->f, NULL, _IOFBF, BUFSIZ);
	return c->f;
}

SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (!fdtab_get(fd))
		return REAL(fdopen)(fd, mode);
	return tls_fdopen(fd, mode);
}

/* The old libio name of the same function. */
FILE *_IO_fdopen(int fd, const char *mode);
SHIM_EXPORT FILE *_IO_fdopen(int fd, const char *mode)
{
	return fdopen(fd, mode);
}

/* Drop what ${f} holds (stale input, output meant for a connection that
 * is gone), unless another thread is inside it right now. */
static void purge(FILE *f)
{
	if (ftrylockfile(f) != 0)
		return;
	__fpurge(f);
	funlockfile(f);
}

void shim_stdio_prepare(int fd)
{
	if (fd < 0 || fd > 2)
		return;
	FILE *f = __atomic_load_n(std_var(fd), __ATOMIC_ACQUIRE);
	if (!f || __fpending(f) == 0)
		return;
	/* A plain stream on a plain number: its bytes go to the old file. A
	 * plain stream on a TLS number (a case we did not cover) must not be
	 * flushed: that would be clear text. Our cookie: through its
	 * connection, before dup2 ends it. */
	if (shim_stdio_owns(f) || (f->_fileno == fd && !fdtab_get(fd)))
		fflush(f);
}

void shim_stdio_attached(int fd, sconn *s)
{
	if (fd < 0 || fd > 2 || shim_fork_foreign()) /* vfork child: the memory is the parent's */
		return;
	int saved = errno;
	pthread_mutex_lock(&slot_mu);
	FILE *cur = *std_var(fd);
	sfile *c = slots[fd].cookie;
	if (slots[fd].active && c && cur == c->f) {
		/* Another connection on the same number (dup2 over dup2). */
		purge(c->f);
		sf_bind(c, s);
	} else if (cur && !shim_stdio_owns(cur) && cur->_fileno == fd) {
		if (c) {
			purge(c->f);
			sf_bind(c, s);
		} else {
			c = sf_new(fd, s, fd == 0 ? "r" : "w", fd);
			if (c) {
				int mode = (cur->_flags & LIBIO_UNBUFFERED) ? _IONBF
					   : (cur->_flags & LIBIO_LINE_BUF) ? _IOLBF
									    : _IOFBF;
				setvbuf(c->f, NULL, mode, mode == _IONBF ? 0 : BUFSIZ);
			}
		}
		/* Without memory for a cookie the original still loses its
		 * number: failing is better than clear text. */
		slots[fd].cookie = c;
		__atomic_store_n(&slots[fd].orig, cur, __ATOMIC_RELEASE);
		slots[fd].orig_fileno = fd;
		__atomic_store_n(&cur->_fileno, -1, __ATOMIC_RELEASE);
		if (c) {
			slots[fd].active = true;
			__atomic_store_n(std_var(fd), c->f, __ATOMIC_RELEASE);
		}
	}
	/* else the program pointed the variable at a stream of its own on
	 * another file: not ours to touch. */
	pthread_mutex_unlock(&slot_mu);
	errno = saved;
}

void shim_stdio_detached(int fd)
{
	if (fd < 0 || fd > 2)
		return;
	int saved = errno;
	pthread_mutex_lock(&slot_mu);
	sfile *c = slots[fd].cookie;
	if (c) {
		purge(c->f);
		sf_bind(c, NULL);
	}
	pthread_mutex_unlock(&slot_mu);
	errno = saved;
}

void shim_stdio_settle(int fd)
{
	if (fd < 0 || fd > 2 || !__atomic_load_n(&slots[fd].orig, __ATOMIC_ACQUIRE) ||
	    shim_fork_foreign())
		return;
	int saved = errno;
	pthread_mutex_lock(&slot_mu);
	FILE *orig = slots[fd].orig;
	sfile *c = slots[fd].cookie;
	if (orig && !fdtab_get(fd)) {
		if (orig->_fileno == -1)
			__atomic_store_n(&orig->_fileno, slots[fd].orig_fileno, __ATOMIC_RELEASE);
		if (slots[fd].active && c && *std_var(fd) == c->f)
			__atomic_store_n(std_var(fd), orig, __ATOMIC_RELEASE);
		slots[fd].active = false;
		__atomic_store_n(&slots[fd].orig, NULL, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&slot_mu);
	errno = saved;
}

int shim_log_fd_is_tls(int fd)
{
	return fdtab_get(fd) != NULL;
}
