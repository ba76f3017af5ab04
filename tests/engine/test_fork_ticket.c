/*
 * test_fork_ticket.c: fork() while another thread holds a ticket key
 * ring's lock. With the engine's atfork calls (tls.h "fork") registered,
 * as the shim registers them, fork waits for the lock and the child seals
 * a ticket at once; without them the child inherits the lock held by a
 * thread it does not have and hangs at its first ticket.
 *
 * The window is made certain rather than lucky: libsodium's randombytes is
 * replaced by one that, on the holder thread, pauses 100 ms; the ring draws
 * a new key with it under its lock when a ticket crosses a rotation. The
 * main thread forks once the holder is inside. Then two threads keep
 * sealing while the main thread forks many times (the ordinary race).
 *
 * "--no-atfork" runs it without the calls, to show the hang they prevent
 * (children killed by their alarm are counted; the run then fails).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sodium.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"

#define ROUNDS  3
#define FORKS   100
#define THREADS 2
#define T0      1800000000u

static tls_config *cfg;
static int stop;                /* atomic */
static int inside;              /* atomic: the holder is in randombytes, under the lock */
static __thread bool slow_rand; /* this thread's randombytes pauses */

static void test_buf(void *const buf, const size_t n)
{
	uint8_t *p = buf;
	for (size_t got = 0; got < n;) {
		ssize_t k = getrandom(p + got, n - got, 0);
		if (k > 0)
			got += (size_t)k;
	}
	if (slow_rand) {
		__atomic_store_n(&inside, 1, __ATOMIC_RELEASE);
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		slow_rand = false; /* once per ticket */
	}
}

static uint32_t test_random(void)
{
	uint32_t v;
	test_buf(&v, sizeof v);
	return v;
}

static const char *test_name(void)
{
	return "tlshim test";
}

static randombytes_implementation rng = {
	.implementation_name = test_name,
	.random = test_random,
	.buf = test_buf,
};

static int seal_and_open(uint64_t now)
{
	tls_session *s = tls_session_new();
	uint8_t t[TLS_TICKET_MAX];
	size_t n = 0;
	int ok = -1;

	if (s == NULL)
		return -1;
	s->suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
	s->ems = true;
	s->created = now;
	s->lifetime = 3600;
	if (tls_ticket_seal(cfg->ticket_keys, now, s, t, sizeof t, &n) == 0) {
		tls_session *o = tls_ticket_open(cfg->ticket_keys, now, t, n);
		ok = o != NULL ? 0 : -1;
		tls_session_unref(o);
	}
	tls_session_unref(s);
	return ok;
}

/* The holder: one ticket two periods after the last, so the ring rotates
 * (and draws a key, slowly) under its lock. */
static void *holder(void *arg)
{
	uint64_t *now = arg;
	slow_rand = true;
	seal_and_open(*now);
	return NULL;
}

static void *busy(void *arg)
{
	(void)arg;
	/* Every other ticket crosses a rotation (a new key is drawn under
	 * the lock), so forks often land inside it. */
	for (uint64_t i = 0; !__atomic_load_n(&stop, __ATOMIC_RELAXED); i++)
		if (seal_and_open(T0 + 1000000 + i * 1800) != 0)
			break;
	return NULL;
}

/* fork_and_seal(): fork; the child seals a ticket within its alarm.
 * Returns 0 ok, 1 the child hung, 2 it failed otherwise. */
static int fork_and_seal(uint64_t now)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(1);
		int code = seal_and_open(now) == 0 ? 0 : 3;
		/* Straight to the kernel, past TSan's _exit interceptor: its
		 * finaliser would report the parent's threads, which a child
		 * of fork() does not have and cannot join, as leaked (TSan
		 * stops checking a child of a multi-threaded fork anyway).
		 * The parent joins all of them, and is checked. */
		syscall(SYS_exit_group, code);
		_exit(code);
	}
	int st = 0;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	bool handlers = !(argc > 1 && strcmp(argv[1], "--no-atfork") == 0);
	int hung = 0, failed = 0, r;

	CHECK_EQ(randombytes_set_implementation(&rng), 0);
	cfg = testpair_server_config(TLS_KEY_EC_P256);
	CHECK(cfg->ticket_keys != NULL);
	if (handlers)
		CHECK_EQ(pthread_atfork(tls_ticket_keys_atfork_prepare,
					tls_ticket_keys_atfork_parent,
					tls_ticket_keys_atfork_child),
			 0);

	/* Certain: fork while the holder is inside the lock. */
	uint64_t now = T0;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_t th;
		now += 2 * 3600;
		__atomic_store_n(&inside, 0, __ATOMIC_RELAXED);
		CHECK_EQ(pthread_create(&th, NULL, holder, &now), 0);
		while (!__atomic_load_n(&inside, __ATOMIC_ACQUIRE))
			sched_yield();
		r = fork_and_seal(now);
		hung += r == 1;
		failed += r == 2;
		pthread_join(th, NULL);
	}
	if (hung)
		fprintf(stderr, "  %d of %d children forked inside the lock hung (%s)\n", hung,
			ROUNDS, handlers ? "with the atfork calls" : "without them");
	CHECK_EQ(hung, 0);

	/* The ordinary race: threads busy with tickets, many forks. */
	pthread_t th[THREADS];
	hung = 0;
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, busy, NULL), 0);
	for (int i = 0; i < FORKS && hung < 2; i++) {
		r = fork_and_seal(T0);
		hung += r == 1;
		failed += r == 2;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	if (hung)
		fprintf(stderr, "  %d children forked during busy ticketing hung\n", hung);
	CHECK_EQ(hung, 0);
	CHECK_EQ(failed, 0);
	tls_config_unref(cfg);
	return check_exit("engine/fork_ticket");
}
