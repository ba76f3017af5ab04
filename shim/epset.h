/*
 * epset.h: the side tables behind hook_epoll.c. One struct eset per epoll
 * set we know (found by its descriptor, like fdtab), holding one struct
 * ereg per registration the program made through epoll_ctl: the
 * descriptor, the program's events and data, and for TLS descriptors and
 * nested epoll sets the state hook_epoll.c keeps to synthesize what the
 * program sees.
 *
 * A TLS registration's kernel item carries a tag instead of the program's
 * data: our per-process magic in the top 32 bits, then an 8-bit generation
 * and a 24-bit slot, so a report for a registration since dropped (or a
 * slot since reused) is recognised and never handed to the program.
 *
 * Locking: the table of sets has its own striped locks; everything inside
 * a set is guarded by its ->lock, except the fields marked atomic.
 */
#ifndef TLSHIM_SHIM_EPSET_H
#define TLSHIM_SHIM_EPSET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "sconn.h"

enum { REG_PLAIN, REG_TLS, REG_NESTED };

/* Tags address at most 2^EPSET_SLOT_BITS - 1 TLS registrations per set;
 * the last tag value (generation 0xff, last slot) names the set's own
 * wake-up eventfd (epset_queue). */
#define EPSET_SLOT_BITS 24
#define EPSET_KICK_SLOT 0xffffffffu

struct eset;

/* One epoll_ctl registration of the program. */
struct ereg {
	int fd;
	uint32_t events;   /* the program's events and flags */
	epoll_data_t data; /* the program's data */
	int kind;
	struct eset *set;   /* the set it belongs to (no reference: it lives inside) */
	sconn *s;           /* REG_TLS: the connection (reference held) */
	struct eset *inner; /* REG_NESTED: the set inside (reference held) */
	uint32_t slot, gen; /* REG_TLS: our tag */
	size_t spec;        /* REG_NESTED: index in set->spec */
	bool kexcl;         /* REG_PLAIN: the kernel item has EPOLLEXCLUSIVE */
	uint32_t kev;       /* REG_TLS: EPOLLIN/EPOLLOUT the edge-triggered kernel item has */
	bool fired;         /* the kernel reported it: advance it at the next look */
	bool hup;           /* the kernel reported a hang-up or error: terminal */
	bool off;           /* EPOLLONESHOT delivered: silent until EPOLL_CTL_MOD */
	bool gone;          /* the kernel no longer has it: drop it */
	uint32_t last_vis;  /* edge state: visible events at our last look, */
	uint64_t last_rd;   /* ... records opened and ... */
	size_t last_len;    /* ... plaintext waiting then, records sealed */
	uint64_t last_wr;
	unsigned inner_seen; /* REG_NESTED: the inner set's harvests at our last look */
	/* The ready list (set->rlock): registrations a wait must look at. */
	struct ereg *rnext, *rprev;
	bool queued;
	struct ereg *wnext; /* REG_TLS: the connection's next registration (epset_watch) */
	/* In the fd index; then, while REG_PLAIN, on the set's plain list. */
	bool hashed;
	struct ereg *pnext, *pprev;
};

/* The side table of one epoll set. */
struct eset {
	int refs; /* atomic: the table, nested registrations, calls in flight */
	int epfd;
	pthread_mutex_t lock;
	struct ereg **hash; /* fd -> registration, open addressing */
	size_t hcap, count;
	struct ereg **spec; /* registrations of kind NESTED */
	size_t nspec, capspec;
	size_t nnested;      /* == nspec */
	size_t ntls;         /* registrations of kind TLS */
	struct ereg *plain;  /* the hashed registrations of kind PLAIN (refresh) */
	struct ereg **slots; /* tag slot -> TLS registration */
	uint32_t *slotgen;
	size_t nslots, capslots;
	uint32_t *freeslots;
	size_t nfree;
	unsigned epoch;    /* shim_fd_epoch at our last look at plain registrations */
	unsigned harvests; /* atomic: waits that returned events */
	unsigned frees;    /* registrations freed (a wait's who[] may be stale) */
	bool flip;         /* maxevents == 1: alternate kernel and synthesized */
	bool collide;      /* the program's data may look like our tag */
	/* The ready list: what the engine side may have for the program that
	 * the kernel does not know (decrypted plaintext, queued ciphertext, a
	 * handshake step, a closed descriptor). Guarded by rlock alone, so
	 * the pump can feed it without the set's lock. */
	pthread_mutex_t rlock;
	struct ereg *rhead, *rtail;
	int waiters;        /* atomic: threads blocked in the kernel wait */
	unsigned touches;   /* atomic: entries queued from outside a wait */
	bool kick_pending;  /* atomic: the eventfd was written since the last take */
	int nested_in;      /* atomic: registrations of this set inside others */
	int kfd;            /* atomic: eventfd in the kernel set that wakes waiters, or -1 */
	unsigned missed;    /* epset_missed at our last full look */
	struct ereg **rbuf; /* a wait's snapshot of the ready list */
	size_t rbufcap;
};

/* epset_stats: what epoll waits cost (atomic counters, whole process),
 * written at exit at log level debug so tests can check that idle
 * registrations cost nothing. */
extern unsigned long epset_stat_waits;  /* waits on sets with TLS registrations */
extern unsigned long epset_stat_visits; /* TLS registrations looked at by waits */
extern unsigned long epset_stat_rearms; /* epoll_ctl calls made for TLS registrations */

/* epset_missed: bumped when a touch could not reach a ready list (a signal
 * handler interrupted this thread inside one): every set then looks at all
 * its TLS registrations once. */
extern unsigned epset_missed;

/* ---- the table of sets ---------------------------------------------- */

/* epset_new(epfd): an empty set for the epoll descriptor ${epfd},
 * reference count 1; NULL when memory ran out. */
struct eset *epset_new(int epfd);

/* epset_unref(es): drop a reference; the last frees the set and its
 * registrations (their connection and inner-set references). NULL: no-op. */
void epset_unref(struct eset *es);

/* epset_get(fd): the set at ${fd}, or NULL; no reference, lock-free: only
 * for "is there one?" tests and identity comparisons. */
struct eset *epset_get(int fd);

/* epset_acquire(fd): the set at ${fd} with a reference, or NULL. */
struct eset *epset_acquire(int fd);

/* epset_install(fd, es, expect): ${es} (its reference taken over) becomes
 * the set at ${fd}; NULL clears it. Only ${expect} (or anything, when
 * NULL) is replaced; otherwise ${es} is dropped. Installing a set bumps
 * shim_fd_epoch (plain registrations elsewhere may name it). */
void epset_install(int fd, struct eset *es, struct eset *expect);

/* ---- registrations (es->lock held) ---------------------------------- */

/* epset_find(es, fd): the registration of ${fd}, or NULL. */
struct ereg *epset_find(const struct eset *es, int fd);

/* epset_hash_add(es, r) / epset_hash_del(es, r): ${r} enters / leaves the
 * fd index (add: 0, or -1 when memory ran out). */
int epset_hash_add(struct eset *es, struct ereg *r);
void epset_hash_del(struct eset *es, struct ereg *r);

/* epset_spec_add(es, r): list the nested ${r} among the registrations
 * every wait looks at (0, or -1 when memory ran out). */
int epset_spec_add(struct eset *es, struct ereg *r);

/* epset_slot_take(es, r) / epset_slot_put(es, r): give ${r} a tag slot
 * with a new generation (0, or -1) / free it. */
int epset_slot_take(struct eset *es, struct ereg *r);
void epset_slot_put(struct eset *es, struct ereg *r);

/* epset_make_tls(es, r, s): the plain ${r} now stands for the connection
 * ${s} (reference taken over), with a fresh tag and edge state; its kernel
 * item must still be re-armed. -1 on allocation failure (nothing changed). */
int epset_make_tls(struct eset *es, struct ereg *r, sconn *s);

/* epset_make_nested(es, r, inner): the plain ${r} is the epoll set
 * ${inner} (reference taken over). 0, or -1 (nothing changed). */
int epset_make_nested(struct eset *es, struct ereg *r, struct eset *inner);

/* epset_make_plain(es, r): back to a plain registration, dropping its
 * connection or inner set (the kernel item must already carry the
 * program's events and data, or be gone). */
void epset_make_plain(struct eset *es, struct ereg *r);

/* epset_reg_free(es, r): forget ${r} altogether. */
void epset_reg_free(struct eset *es, struct ereg *r);

/* ---- the ready list and the connection's registrations ------------ */

/* epset_queue(es, r, wake): put ${r} on ${es}'s ready list (no-op when it
 * is on it); with ${wake}, wake a thread blocked in the kernel wait of
 * ${es} (or of a set holding ${es}). Takes es->rlock only. */
void epset_queue(struct eset *es, struct ereg *r, bool wake);

/* epset_unqueue(es, r): take ${r} off the ready list (es->lock held). */
void epset_unqueue(struct eset *es, struct ereg *r);

/* epset_take_ready(es): move the ready list into es->rbuf (cleared from
 * the list) and return how many; es->lock held. 0 on allocation failure
 * (the list is left as it is). */
size_t epset_take_ready(struct eset *es);

/* epset_ready_empty(es): nothing on the ready list (a racy answer). */
bool epset_ready_empty(struct eset *es);

/* epset_watch(r) / epset_unwatch(r): ${r} (REG_TLS) joins / leaves the
 * registrations of its connection that epset_touch reaches. es->lock. */
void epset_watch(struct ereg *r);
void epset_unwatch(struct ereg *r);

/* epset_touch(s): the engine side of ${s} changed in a way the kernel may
 * not report (pump.c, fdtab.c): queue every registration of ${s} on its
 * set's ready list. Cheap when ${s} is in no set. Keeps errno. Safe in a
 * signal handler (it then falls back to epset_missed). */
void epset_touch(sconn *s);

/* epset_touch_except(s, skip): the same for every registration but
 * ${skip}: a wait of one set moved data another set must hear of (the
 * socket's edge is spent for them too). */
void epset_touch_except(sconn *s, const struct ereg *skip);

/* ---- tags ------------------------------------------------------------ */

/* epset_tag(r): the data the kernel item of the TLS registration ${r}
 * carries. */
uint64_t epset_tag(const struct ereg *r);

/* epset_is_tag(d): ${d} has our magic (it may still be stale). */
bool epset_is_tag(uint64_t d);

/* epset_is_kick(d): ${d} is the tag of a set's wake-up eventfd. */
bool epset_is_kick(uint64_t d);

/* epset_tagged(es, d): the live TLS registration the tag ${d} names, or
 * NULL (dropped since, or not a tag of this set). */
struct ereg *epset_tagged(const struct eset *es, uint64_t d);

#endif
