/*
 * hook_fork.c: one user per TLS connection after fork() (fork.h): the
 * pthread_atfork handlers that give every live connection a fresh shared
 * word to claim, and the claim itself.
 */
#include "fork.h"

#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "rules.h"

#define LINKS 8

/* The shared words made at one fork. Each process counts its own links
 * into a region and unmaps it when the last goes; the kernel frees the
 * pages when every process has. */
struct region {
	uint64_t *words;
	size_t len;
	size_t refs; /* atomic */
};

struct shim_own {
	bool owned; /* atomic: every link holds our token (until the next fork) */
	bool lost;  /* atomic: another process holds a link */
	int n;
	struct {
		uint64_t *word; /* 0 = unclaimed, else the claimer's token */
		struct region *region;
	} link[LINKS];
};

/* The child's record of a connection it may never use (set without
 * allocating: the child of _Fork may not call malloc). */
static struct shim_own lost_own = {.lost = true};

static pid_t shim_pid;          /* getpid() as of our last fork (0: not yet known) */
static uint64_t *token_counter; /* MAP_SHARED; every process of the tree draws from it */
static uint64_t my_token;       /* atomic; 0 until this process first claims */

static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;

/* What the prepare handler found; reused across forks, never freed (the
 * child handler must not call free). */
struct forked {
	sconn *s;
	bool locked;     /* we hold both its locks across the fork */
	bool busy;       /* another thread held one: the parent keeps it */
	bool child_lost; /* no fresh word could be made: the parent keeps it */
};
static struct forked *list;
static size_t nlist, caplist;
static bool overflow; /* the list could not hold them all: the child is refused the rest */
static bool armed;    /* prepare did its work; parent/child undo it */

static uint64_t token(void)
{
	uint64_t t = __atomic_load_n(&my_token, __ATOMIC_ACQUIRE);
	if (t)
		return t;
	uint64_t fresh = __atomic_add_fetch(token_counter, 1, __ATOMIC_ACQ_REL);
	if (__atomic_compare_exchange_n(&my_token, &t, fresh, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return fresh;
	return t; /* another thread of ours drew first */
}

int shim_fork_claim(sconn *s)
{
	struct shim_own *o = __atomic_load_n(&s->own, __ATOMIC_ACQUIRE);
	if (!o || __atomic_load_n(&o->owned, __ATOMIC_ACQUIRE))
		return 0;
	if (!__atomic_load_n(&o->lost, __ATOMIC_ACQUIRE)) {
		uint64_t me = token();
		int i;
		for (i = 0; i < o->n; i++) {
			uint64_t v = 0;
			if (!__atomic_compare_exchange_n(o->link[i].word, &v, me, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
			    v != me)
				break;
		}
		if (i == o->n) {
			__atomic_store_n(&o->owned, true, __ATOMIC_RELEASE);
			return 0;
		}
		__atomic_store_n(&o->lost, true, __ATOMIC_RELEASE);
		shim_log(SHIM_LOG_WARN,
			 "rule %s: %s <-> %s: another process uses this connection since "
			 "fork() or exec (only one may); refused (EPERM)",
			 s->rule->name, s->local, s->peer);
	}
	errno = EPERM;
	return -1;
}

bool shim_fork_owns(sconn *s)
{
	struct shim_own *o = __atomic_load_n(&s->own, __ATOMIC_ACQUIRE);
	return !o || __atomic_load_n(&o->owned, __ATOMIC_ACQUIRE);
}

bool shim_fork_refused(sconn *s)
{
	struct shim_own *o = __atomic_load_n(&s->own, __ATOMIC_ACQUIRE);
	return o && __atomic_load_n(&o->lost, __ATOMIC_ACQUIRE);
}

bool shim_fork_foreign(void)
{
	pid_t p = __atomic_load_n(&shim_pid, __ATOMIC_RELAXED);
	return p != 0 && getpid() != p;
}

static void region_unref(struct region *r)
{
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	munmap(r->words, r->len);
	free(r);
}

static void drop_links(struct shim_own *o)
{
	for (int i = 0; i < o->n; i++)
		region_unref(o->link[i].region);
	o->n = 0;
}

void shim_fork_drop(sconn *s)
{
	struct shim_own *o = s->own;
	if (!o || o == &lost_own)
		return;
	drop_links(o);
	free(o);
	s->own = NULL;
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct forked *)a)->s;
	uintptr_t y = (uintptr_t)((const struct forked *)b)->s;
	return x < y ? -1 : x > y;
}

/* Every connection in the registry, once each, referenced. The table's
 * locks are held: nothing can be registered behind our back. */
static void collect(void)
{
	nlist = 0;
	overflow = false;
	for (int fd = fdtab_next(0); fd >= 0; fd = fdtab_next(fd + 1)) {
		if (nlist == caplist) {
			size_t cap = caplist ? 2 * caplist : 64;
			struct forked *l = realloc(list, cap * sizeof *l);
			if (!l) {
				overflow = true; /* see refuse_unlisted */
				break;
			}
			list = l;
			caplist = cap;
		}
		sconn *s = fdtab_get(fd);
		sconn_ref(s);
		list[nlist++] = (struct forked){.s = s};
	}
	if (nlist > 1) /* qsort(NULL, 0, ...) is undefined behaviour */
		qsort(list, nlist, sizeof *list, by_address);
	size_t k = 0;
	for (size_t i = 0; i < nlist; i++) {
		if (k > 0 && list[k - 1].s == list[i].s)
			sconn_unref(list[i].s); /* another alias of the same connection */
		else
			list[k++] = list[i];
	}
	nlist = k;
}

/* The shared token counter exists (made on first need); false when it
 * cannot be made. */
static bool token_counter_made(void)
{
	if (!token_counter) {
		void *p = mmap(NULL, sizeof *token_counter, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return false;
		token_counter = p;
	}
	return true;
}

/* A fresh region of ${n} words, or NULL. */
static struct region *region_new(size_t n)
{
	if (!token_counter_made())
		return NULL;
	struct region *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	r->len = n * sizeof *r->words;
	r->refs = 0;
	r->words = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->words == MAP_FAILED) {
		free(r);
		return NULL;
	}
	return r;
}

/* Give ${s} (both locks held) a fresh word for the processes about to
 * share it; false when the child must be refused instead. */
static bool relink(sconn *s, struct region *r, size_t *used)
{
	struct shim_own *o = s->own;
	if (!o) {
		o = calloc(1, sizeof *o);
		if (!o)
			return false;
		o->owned = true; /* never forked: ours */
	} else if (o->lost) {
		return true; /* the child inherits "refused" */
	}
	if (!o->owned && o->n == LINKS && shim_fork_claim(s) < 0)
		return true; /* now lost: the child inherits that */
	if (o->owned)
		drop_links(o); /* the older words are ours for good */
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
	o->link[o->n].word = &r->words[(*used)++];
	o->link[o->n].region = r;
	o->n++;
	__atomic_store_n(&o->owned, false, __ATOMIC_RELEASE);
	__atomic_store_n(&s->own, o, __ATOMIC_RELEASE);
	return true;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&fork_lock);
	/* The engine's ticket key rings: a child must not inherit one locked
	 * by another thread (it would hang at its next ticket). */
	tls_ticket_keys_atfork_prepare();
	armed = shim_rules_active(); /* without a policy nothing is ours */
	if (!armed)
		return;
	fdtab_fork_lock();
	collect();
	size_t want = 0;
	for (size_t i = 0; i < nlist; i++) {
		sconn *s = list[i].s;
		if (pthread_mutex_trylock(&s->wr) != 0) {
			list[i].busy = true;
		} else if (pthread_mutex_trylock(&s->rd) != 0) {
			pthread_mutex_unlock(&s->wr);
			list[i].busy = true;
		} else {
			list[i].locked = true;
			want++;
		}
	}
	struct region *r = want ? region_new(want) : NULL;
	size_t used = 0;
	for (size_t i = 0; i < nlist; i++)
		if (list[i].locked && (!r || !relink(list[i].s, r, &used)))
			list[i].child_lost = true;
	if (r && used == 0) {
		munmap(r->words, r->len);
		free(r);
	}
}

static void fork_parent(void)
{
	if (armed) {
		for (size_t i = 0; i < nlist; i++)
			if (list[i].locked) {
				pthread_mutex_unlock(&list[i].s->rd);
				pthread_mutex_unlock(&list[i].s->wr);
			}
		fdtab_fork_unlock();
		for (size_t i = 0; i < nlist; i++)
			sconn_unref(list[i].s);
		nlist = 0;
	}
	tls_ticket_keys_atfork_parent();
	pthread_mutex_unlock(&fork_lock);
}

/* The child's copy of ${s} is not for it: refuse it, with fresh locks
 * (a thread it does not have may have held them), and never free it (that
 * thread may have left the engine half-written). */
static void refuse_in_child(sconn *s)
{
	if (s->own)
		s->own->lost = true; /* our private copy */
	else
		s->own = &lost_own;
	pthread_mutex_init(&s->rd, NULL);
	pthread_mutex_init(&s->wr, NULL);
	sconn_ref(s);
}

/* Out of memory in prepare: connections the list missed stayed the
 * parent's, so the child is refused every one of them. */
static void refuse_unlisted(void)
{
	for (int fd = fdtab_next(0); fd >= 0; fd = fdtab_next(fd + 1)) {
		struct forked key = {.s = fdtab_get(fd)};
		if (!bsearch(&key, list, nlist, sizeof *list, by_address))
			refuse_in_child(key.s);
	}
}

/* Runs in the child of fork() and of _Fork(): allocation-free. */
static void fork_child(void)
{
	__atomic_store_n(&shim_pid, getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&my_token, 0, __ATOMIC_RELEASE);
	if (armed) {
		if (overflow)
			refuse_unlisted();
		for (size_t i = 0; i < nlist; i++) {
			sconn *s = list[i].s;
			if (list[i].busy) {
				refuse_in_child(s);
			} else {
				if (list[i].child_lost) {
					if (s->own)
						s->own->lost = true;
					else
						s->own = &lost_own;
				}
				pthread_mutex_unlock(&s->rd);
				pthread_mutex_unlock(&s->wr);
			}
			sconn_unref(s);
		}
		fdtab_fork_unlock();
		nlist = 0;
	}
	tls_ticket_keys_atfork_child();
	pthread_mutex_unlock(&fork_lock);
}

/* _Fork (glibc 2.34) skips the atfork handlers; ours must still run. */
SHIM_EXPORT pid_t _Fork(void)
{
	if (!REAL(_Fork)) {
		errno = ENOSYS;
		return -1;
	}
	fork_prepare();
	pid_t pid = REAL(_Fork)();
	if (pid == 0)
		fork_child();
	else
		fork_parent();
	return pid;
}

/*
 * Forks the atfork handlers never see: syscall(SYS_fork), syscall(SYS_clone
 * or SYS_clone3) and libc clone() without CLONE_VM. Left alone, both
 * processes would seal with the same key and sequence numbers.
 *
 * Running the fork protocol around them (as _Fork above) is what we do
 * wherever our code runs in the child right after the kernel call: the
 * syscall() hook when the child keeps the caller's stack, and libc clone()
 * through a trampoline that runs fork_child before the program's function.
 * That is the same, tested code as fork(), the program keeps working, and
 * it is safer than a refusal that is only checked at the call: a program
 * opening its first TLS connection after such a fork would otherwise find
 * the child's registry marked foreign (shim_pid stale) and unsafe to use.
 *
 * A raw clone without CLONE_VM onto a new stack is refused (EPERM, logged)
 * while any TLS connection is open: its child resumes wherever that stack
 * says, never in our code, so no child handler can run there and it would
 * go on with every connection as if it were the parent (nonce reuse).
 * Without TLS connections it is passed through (its child's later
 * connections are then seen as a vfork child's, shim_fork_foreign; such
 * clones are made only by hand-written assembly). With CLONE_VM (threads,
 * vfork-style children, posix_spawn) nothing is copied, so there is
 * nothing to protect: passed through.
 *
 * syscall(SYS_vfork) cannot work through any C function (the child
 * returns through the frame the suspended parent will return through),
 * and a vfork may always be a fork, so it becomes one.
 */

static bool tls_open(void)
{
	return shim_rules_active() && fdtab_next(0) >= 0;
}

/* The fork protocol around a raw fork-like system call whose child
 * returns here on the caller's stack. */
static long forked_syscall(long n, const long *a)
{
	fork_prepare();
	long r = REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	int saved = errno;
	if (r == 0)
		fork_child();
	else
		fork_parent();
	errno = saved;
	return r;
}

long shim_fork_syscall(long n, const long *a)
{
	unsigned long long flags = 0, stack = 0;
	if (n == SYS_clone) {
		flags = (unsigned long)a[0];
		stack = (unsigned long)a[1];
#ifdef SYS_clone3
	} else if (n == SYS_clone3) {
		const struct clone_args *ca = (const void *)a[0];
		if (!ca || (size_t)a[1] < CLONE_ARGS_SIZE_VER0) /* the kernel's EFAULT/EINVAL */
			return REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		flags = ca->flags;
		stack = ca->stack;
#endif
	} else {
#ifdef SYS_fork
		n = SYS_fork; /* SYS_vfork too: see above */
#endif
		return forked_syscall(n, a);
	}
	if (flags & CLONE_VM)
		return REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (stack && tls_open()) {
		shim_log(SHIM_LOG_WARN,
			 "raw clone without CLONE_VM onto a new stack refused (EPERM) "
			 "while TLS connections are open: the child would reuse their "
			 "keys and nonces");
		errno = EPERM;
		return -1;
	}
	if (stack)
		return REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	return forked_syscall(n, a);
}

/* libc clone() without CLONE_VM: the child runs the program's function on
 * the given stack; the trampoline runs our child handler first. The call
 * record lives on the parent's stack, which the child has a copy of. */
struct clone_call {
	int (*fn)(void *);
	void *arg;
};

static int clone_child(void *p)
{
	struct clone_call c = *(struct clone_call *)p;
	fork_child();
	return c.fn(c.arg);
}

SHIM_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	/* glibc's clone reads the three optional arguments whatever the
	 * flags; so do we, and pass them on. */
	va_list ap;
	va_start(ap, arg);
	void *ptid = va_arg(ap, void *);
	void *tls = va_arg(ap, void *);
	void *ctid = va_arg(ap, void *);
	va_end(ap);
	if (!REAL(clone)) {
		errno = ENOSYS;
		return -1;
	}
	if ((flags & CLONE_VM) || !fn)
		return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
	struct clone_call c = {fn, arg};
	fork_prepare();
	int r = REAL(clone)(clone_child, stack, flags, &c, ptid, tls, ctid);
	int saved = errno;
	fork_parent(); /* the child never returns here */
	errno = saved;
	return r;
}

/* ---- exec hand-over (handover.h): ownership words in a memfd ---- */

void shim_fork_hold(void)
{
	pthread_mutex_lock(&fork_lock);
}

void shim_fork_release(void)
{
	pthread_mutex_unlock(&fork_lock);
}

struct region *shim_fork_exec_region(size_t n, int *fd)
{
	*fd = -1;
	if (!token_counter_made())
		return NULL;
	struct region *r = malloc(sizeof *r);
	int m = (int)syscall(SYS_memfd_create, "tlshim-owners", MFD_CLOEXEC);
	if (!r || m < 0 || ftruncate(m, (off_t)(n * sizeof *r->words)) < 0)
		goto fail;
	r->len = n * sizeof *r->words;
	r->refs = 1; /* the caller's, until shim_fork_exec_region_put */
	r->words = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	if (r->words == MAP_FAILED)
		goto fail;
	*fd = m;
	return r;
fail:
	if (m >= 0)
		REAL(close)(m);
	free(r);
	return NULL;
}

void shim_fork_exec_region_put(struct region *r)
{
	if (r)
		region_unref(r);
}

int shim_fork_exec_link(sconn *s, struct region *r, size_t i)
{
	/* Words of earlier forks cannot cross exec: win them here, now. */
	if (shim_fork_claim(s) < 0)
		return -1;
	size_t used = i;
	return relink(s, r, &used) ? 0 : -1;
}

struct region *shim_fork_exec_map(int fd, size_t n)
{
	/* Tokens are compared across the two images: this image's must not
	 * repeat the old tree's small counter values. */
	if (!token_counter_made())
		return NULL;
	if (__atomic_load_n(token_counter, __ATOMIC_ACQUIRE) == 0) {
		uint64_t start = 0;
		if (getrandom(&start, sizeof start, 0) != sizeof start)
			return NULL;
		start = (start >> 2) | (1ull << 62);
		uint64_t zero = 0;
		__atomic_compare_exchange_n(token_counter, &zero, start, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
	}
	struct region *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	r->len = n * sizeof *r->words;
	r->refs = 1;
	r->words = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->words == MAP_FAILED) {
		free(r);
		return NULL;
	}
	return r;
}

int shim_fork_exec_adopt(sconn *s, struct region *r, size_t i)
{
	struct shim_own *o = calloc(1, sizeof *o);
	if (!o)
		return -1;
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
	o->link[0].word = &r->words[i];
	o->link[0].region = r;
	o->n = 1;
	__atomic_store_n(&s->own, o, __ATOMIC_RELEASE);
	return 0;
}

void shim_fork_mark_lost(sconn *s)
{
	if (!s->own)
		__atomic_store_n(&s->own, &lost_own, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&s->own->lost, true, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void fork_init(void)
{
	__atomic_store_n(&shim_pid, getpid(), __ATOMIC_RELAXED);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
