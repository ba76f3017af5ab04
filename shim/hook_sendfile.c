/*
 * hook_sendfile.c: the calls that move bytes inside the kernel without
 * read() and write(): sendfile, sendfile64, splice and copy_file_range
 * (DESIGN.md "Bypasses"). Into a TLS socket the bytes go through the
 * record layer instead: read from the source into a 64 KiB buffer, then
 * pump_send. Out of a TLS socket (splice into a pipe) they are decrypted
 * first. Calls that touch no TLS descriptor are the real calls.
 *
 * Counts are the real calls': up to 0x7ffff000 bytes; fewer when the
 * source runs dry, a pipe is drained, or a non-blocking socket or pipe is
 * full; -1 only when nothing moved. Bytes are never lost on the way:
 *   - a file source is read with pread and its offset (or file position)
 *     advanced only by what the engine took;
 *   - a pipe source cannot be given back, so on a non-blocking socket we
 *     first flush (EAGAIN if the socket is full) and then read at most one
 *     record's worth, which an engine with nothing queued always takes; if
 *     another thread filled the engine meanwhile we wait until it is taken;
 *   - splice out of a TLS socket peeks, writes to the pipe, and consumes
 *     only what the pipe took.
 * A TLS socket as the source of sendfile or copy_file_range is EINVAL, as
 * the kernel says for any socket there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consts.h"
#include "hooks.h"

#define CHUNK     (64u * 1024u)
#define MAX_COUNT 0x7ffff000u /* the most one read/sendfile moves on Linux */

/* Where bytes come from when a TLS socket is the destination. */
struct source {
	int fd;
	off64_t pos;   /* next byte, when seekable */
	bool seekable; /* pread at pos; else read() consumes */
	bool nonblock; /* a pipe read must not wait (SPLICE_F_NONBLOCK) */
};

static bool ready_now(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	return REAL(poll)(&p, 1, 0) > 0;
}

/* Hand ${n} bytes to the engine. Bytes from a source that cannot be
 * given back (${must}) are waited for until taken or the connection
 * breaks. Returns how many were taken. */
static size_t send_all(sconn *s, int fd, const uint8_t *buf, size_t n, bool must)
{
	size_t sent = 0;
	while (sent < n) {
		ssize_t w = pump_send(s, fd, buf + sent, n - sent, 0);
		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (!must || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			break;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		REAL(poll)(&p, 1, 1000);
	}
	return sent;
}

static ssize_t to_tls(sconn *s, int out, struct source *in, size_t len)
{
	if (len > MAX_COUNT)
		len = MAX_COUNT;
	uint8_t *buf = malloc(CHUNK);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	bool nb = __atomic_load_n(&s->nonblock, __ATOMIC_RELAXED);
	size_t done = 0;
	int err = 0;
	while (done < len) {
		size_t want = len - done < CHUNK ? len - done : CHUNK;
		if (!in->seekable) {
			/* A pipe: return once drained, as splice does. */
			if ((done > 0 || in->nonblock) && !ready_now(in->fd, POLLIN)) {
				err = EAGAIN;
				break;
			}
			if (nb) {
				if (pump_send(s, out, buf, 0, MSG_DONTWAIT) < 0) {
					err = errno;
					break;
				}
				if (want > TLS_MAX_PLAINTEXT)
					want = TLS_MAX_PLAINTEXT;
			}
		}
		ssize_t r = in->seekable ? pread64(in->fd, buf, want, in->pos)
					 : REAL(read)(in->fd, buf, want);
		if (r <= 0) {
			err = r < 0 ? errno : 0;
			break;
		}
		size_t sent = send_all(s, out, buf, (size_t)r, !in->seekable);
		done += sent;
		in->pos += (off64_t)sent;
		if (sent < (size_t)r) {
			err = errno;
			break;
		}
		if (in->seekable && (size_t)r < want)
			break; /* end of file */
	}
	free(buf);
	if (done > 0)
		return (ssize_t)done;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The source of sendfile/copy_file_range: at *${off} when given, else at
 * the file position (moved on afterwards), else a stream we consume. */
static ssize_t file_to_tls(sconn *s, int out, int in, off64_t *off, size_t len)
{
	struct source src = {.fd = in};
	if (off) {
		if (*off < 0) {
			errno = EINVAL;
			return -1;
		}
		src.pos = *off;
		src.seekable = true;
	} else {
		src.pos = lseek64(in, 0, SEEK_CUR);
		src.seekable = src.pos >= 0;
	}
	off64_t start = src.pos;
	ssize_t r = to_tls(s, out, &src, len);
	if (off)
		*off = src.pos;
	else if (src.seekable && src.pos != start)
		lseek64(in, src.pos, SEEK_SET);
	return r;
}

/* A TLS connection that carries TLS (not a plaintext = allow passthrough). */
static sconn *tls_at(int fd)
{
	sconn *s = fdtab_acquire(fd);
	if (s && sconn_plaintext(s)) {
		shim_unref(s);
		return NULL;
	}
	return s;
}

static ssize_t tls_sendfile(int out, int in, off64_t *off, size_t count)
{
	sconn *si = tls_at(in);
	if (si) {
		shim_unref(si);
		errno = EINVAL;
		return -1;
	}
	sconn *so = tls_at(out);
	if (!so)
		return REAL(sendfile64)(out, in, off, count);
	ssize_t r = file_to_tls(so, out, in, off, count);
	shim_unref(so);
	return r;
}

SHIM_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
	if (!fdtab_get(out) && !fdtab_get(in))
		return REAL(sendfile64)(out, in, off, count);
	return tls_sendfile(out, in, off, count);
}

SHIM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (!fdtab_get(out) && !fdtab_get(in))
		return REAL(sendfile)(out, in, off, count);
	off64_t o = off ? *off : 0;
	ssize_t r = tls_sendfile(out, in, off ? &o : NULL, count);
	if (off)
		*off = (off_t)o;
	return r;
}

SHIM_EXPORT ssize_t copy_file_range(int in, off64_t *off_in, int out, off64_t *off_out, size_t len,
				    unsigned int flags)
{
	if (!fdtab_get(out) && !fdtab_get(in))
		return REAL(copy_file_range)(in, off_in, out, off_out, len, flags);
	sconn *si = tls_at(in), *so = tls_at(out);
	ssize_t r;
	if (si || (so && (flags || off_out))) {
		errno = EINVAL;
		r = -1;
	} else if (!so) {
		r = REAL(copy_file_range)(in, off_in, out, off_out, len, flags);
	} else {
		r = file_to_tls(so, out, in, off_in, len);
	}
	if (si)
		shim_unref(si);
	if (so)
		shim_unref(so);
	return r;
}

/* Write ${n} decrypted bytes into the pipe ${fd} without waiting when
 * ${nonblock}; a pipe with a free slot takes PIPE_BUF bytes at once. */
static ssize_t to_pipe(int fd, const uint8_t *buf, size_t n, bool nonblock)
{
	int fl = REAL(fcntl)(fd, F_GETFL);
	if (!nonblock || (fl >= 0 && (fl & O_NONBLOCK)))
		return REAL(write)(fd, buf, n);
	size_t done = 0;
	while (done < n && ready_now(fd, POLLOUT)) {
		size_t k = n - done < PIPE_BUF ? n - done : PIPE_BUF;
		ssize_t w = REAL(write)(fd, buf + done, k);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done == 0) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)done;
}

static ssize_t from_tls(sconn *s, int in, int out, size_t len, bool nonblock)
{
	if (len > CHUNK)
		len = CHUNK;
	if (nonblock && !ready_now(out, POLLOUT)) {
		errno = EAGAIN;
		return -1;
	}
	uint8_t *buf = malloc(len);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t r = pump_recv(s, in, buf, len, MSG_PEEK);
	if (r > 0) {
		r = to_pipe(out, buf, (size_t)r, nonblock);
		if (r > 0)
			pump_recv(s, in, buf, (size_t)r, 0); /* waiting already: returns at once */
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return r;
}

static bool is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

SHIM_EXPORT ssize_t splice(int in, off64_t *off_in, int out, off64_t *off_out, size_t len,
			   unsigned int flags)
{
	if (!fdtab_get(in) && !fdtab_get(out))
		return REAL(splice)(in, off_in, out, off_out, len, flags);
	sconn *si = tls_at(in), *so = tls_at(out);
	ssize_t r;
	bool nonblock = flags & SPLICE_F_NONBLOCK;
	if (!si && !so) {
		r = REAL(splice)(in, off_in, out, off_out, len, flags);
	} else if (si ? !is_pipe(out) : !is_pipe(in)) {
		errno = EINVAL; /* one end must be a pipe */
		r = -1;
	} else if ((si ? off_out : off_in) != NULL) {
		errno = ESPIPE;
		r = -1;
	} else if ((si ? off_in : off_out) != NULL) {
		errno = EINVAL; /* a socket has no offset */
		r = -1;
	} else if (len == 0) {
		r = 0;
	} else if (so) {
		struct source src = {.fd = in, .nonblock = nonblock};
		r = to_tls(so, out, &src, len);
	} else {
		r = from_tls(si, in, out, len, nonblock);
	}
	if (si)
		shim_unref(si);
	if (so)
		shim_unref(so);
	return r;
}
