/*
 * sconn.h: one intercepted TLS connection: the engine plus what the shim
 * needs around it (locks, handshake deadline, logging facts). Descriptors
 * are aliases (fdtab.h); each alias and each hook call in flight holds a
 * reference.
 *
 * Locking: the read side (recv path) holds ->rd, the write side (send path)
 * holds ->wr; the handshake, which is both, takes ->wr then ->rd. Nobody
 * blocks in the kernel holding ->wr while waiting to read. Fields marked
 * (atomic) are read without either lock (readiness, the other side) and
 * are only touched with __atomic builtins.
 *
 * Descriptor numbers are not pinned by the kernel between two system
 * calls: ->pins counts pump calls in flight, which check before every
 * system call that their number still names this connection (pump.c), and
 * a close() of a number while pins > 0 parks the number on a placeholder
 * (->parked) instead of freeing it, until the last pin goes.
 */
#ifndef TLSHIM_SHIM_SCONN_H
#define TLSHIM_SHIM_SCONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rules.h"
#include "tls.h"

struct ereg;

typedef struct sconn {
	int refs; /* atomic */
	tls_conn *tls;
	shim_rule *rule;
	unsigned cfg_gen; /* generation of the rule's configuration tls was made with */
	pthread_mutex_t rd, wr;
	bool client;
	bool failure_logged;    /* the refusal was written (atomic) */
	bool plaintext;         /* server, plaintext = allow: the peer spoke in clear (atomic) */
	bool sniffed;           /* we looked at the peer's first byte (atomic) */
	bool shut_wr;           /* close_notify sealed (shutdown(SHUT_WR) or close) */
	bool stop_wr;           /* shutdown/close wants the write side: writers stop (atomic) */
	bool ready;             /* handshake done and logged (atomic) */
	int aliases;            /* descriptors naming this connection (atomic) */
	bool nonblock;          /* O_NONBLOCK of the open file (atomic; see pump_set_nonblocking) */
	bool so_error_reported; /* SO_ERROR already handed the failure to the program (atomic) */
	int sock_errno;         /* the TCP connection itself failed with this errno (atomic) */
	bool timed_out;         /* handshake_timeout passed (atomic) */
	int pins;               /* pump calls in flight on some number of ours (atomic) */
	int close_fd;           /* closing: the closer's private dup of the socket, the
				 * only number the pump may use then; else -1 (atomic) */
	unsigned long close_ph_ino; /* inode of the placeholder the closing number got */
	struct sconn_parked {
		int state;         /* atomic: 0 free, 1 being filled, 2 parked, 3 being freed */
		int fd;            /* the number the program closed, now the placeholder */
		unsigned long ino; /* the placeholder's inode (the number may change hands) */
	} parked[4];
	struct ereg *watch;   /* readiness: its epoll registrations (epset.h; atomic head) */
	bool sock_more;       /* readiness: the socket may hold ciphertext we have not read
			       * (an edge the kernel will not repeat; atomic) */
	bool quiet;           /* readiness: poll/select found nothing the kernel would not
			       * report, and no pump call has left any since (pump.h
			       * pump_quiesce, pump.c unpin; atomic) */
	uint64_t started_us;  /* monotonic, for the handshake time in the log */
	uint64_t deadline_us; /* monotonic handshake deadline */
	struct shim_own *own; /* who may use it after fork (fork.h); NULL: never forked */
	char peer[64];        /* "addr:port" */
	char local[64];
} sconn;

/* sconn_new(rule, fd, client, peer): a connection for the socket ${fd}
 * (used only to read its addresses for logs and verification) under
 * ${rule}; ${peer} is the address connect() was given (getpeername does not
 * work while a connect is in progress), NULL to ask the socket. The
 * handshake deadline starts now. Reference count 0: fdtab_set takes the
 * first. NULL on allocation failure. */
sconn *sconn_new(shim_rule *rule, int fd, bool client, const struct sockaddr *peer);

/* sconn_ref / sconn_unref: the last reference frees the engine state (no
 * close_notify here; see shim_close). */
void sconn_ref(sconn *s);
void sconn_unref(sconn *s);

/* sconn_plaintext(s): a plaintext = allow server connection whose peer
 * spoke in clear (set once, by the handshake; read from anywhere). */
static inline bool sconn_plaintext(const sconn *s)
{
	return __atomic_load_n(&s->plaintext, __ATOMIC_ACQUIRE);
}

/* sconn_ready(s): the handshake is done and logged (set once, with both
 * locks held, by the handshake; read from anywhere: readiness and the
 * hooks ask without a lock). */
static inline bool sconn_ready(const sconn *s)
{
	return __atomic_load_n(&s->ready, __ATOMIC_ACQUIRE);
}

/* shim_now_us(): CLOCK_MONOTONIC in microseconds. */
uint64_t shim_now_us(void);

#endif
