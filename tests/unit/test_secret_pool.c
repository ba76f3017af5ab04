/*
 * test_secret_pool.c: the pool of secret slots (core/secret_pool.h):
 * slots are zeroed, distinct and reused; a freed slot is wiped; sessions
 * no longer cost a memory mapping each (the system calls that were a share
 * of every resumed handshake, issue 10 item 4); threads allocating and
 * freeing at once never share a slot.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "secret_pool.h"
#include "session.h"

#define MANY    1000
#define THREADS 4
#define ROUNDS  20000

/* mappings(): lines in /proc/self/maps, one per mapping of the process. */
static int mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, ch;

	if (f == NULL)
		return -1;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static void slots_are_zeroed_distinct_and_reused(void)
{
	uint8_t *s[65];
	size_t pages0 = tls_secret_pool_pages();

	for (int i = 0; i < 65; i++) {
		s[i] = tls_secret_alloc();
		CHECK(s[i] != NULL);
		CHECK(all_zero(s[i], TLS_SECRET_SLOT));
		memset(s[i], 0xa5, TLS_SECRET_SLOT);
	}
	for (int i = 0; i < 65; i++)
		for (int j = i + 1; j < 65; j++)
			CHECK(s[i] + TLS_SECRET_SLOT <= s[j] || s[j] + TLS_SECRET_SLOT <= s[i]);
	/* 65 live slots need two pages of 64 (and no more). */
	CHECK(tls_secret_pool_pages() - pages0 <= 2);
	CHECK(tls_secret_pool_pages() >= 2);

	uint8_t *freed = s[7];
	tls_secret_free(freed);
	/* The slot stays mapped (it is pool memory): it must read as wiped. */
	CHECK(all_zero(freed, TLS_SECRET_SLOT));
	uint8_t *again = tls_secret_alloc();
	CHECK(again != NULL);
	CHECK(all_zero(again, TLS_SECRET_SLOT));
	s[7] = again;

	size_t pages = tls_secret_pool_pages();
	for (int i = 0; i < 65; i++)
		tls_secret_free(s[i]);
	for (int i = 0; i < 65; i++)
		s[i] = tls_secret_alloc();
	CHECK_EQ(tls_secret_pool_pages(), pages); /* reused, not grown */
	for (int i = 0; i < 65; i++)
		tls_secret_free(s[i]);
	tls_secret_free(NULL);
}

/* Before the pool every session's master secret was its own sodium_malloc
 * mapping (guard pages around it: three or more lines of /proc/self/maps
 * each), created and torn down by system calls per handshake. */
static void sessions_do_not_map_memory_each(void)
{
	static tls_session *live[MANY];
	int before = mappings();

	for (int i = 0; i < MANY; i++) {
		live[i] = tls_session_new();
		CHECK(live[i] != NULL);
	}
	int during = mappings();
	for (int i = 0; i < MANY; i++)
		tls_session_unref(live[i]);
	CHECK(before > 0);
	/* 1000 sessions fit in 16 pool pages. */
	CHECK(during - before < 100);
	if (during - before >= 100)
		fprintf(stderr, "%d sessions added %d mappings\n", MANY, during - before);
}

static void *churn(void *arg)
{
	uint8_t tag = (uint8_t)(uintptr_t)arg, anti = (uint8_t)~tag;

	for (int r = 0; r < ROUNDS; r++) {
		uint8_t *p = tls_secret_alloc(), *q = tls_secret_alloc();
		if (p == NULL || q == NULL) {
			CHECK(false);
			return NULL;
		}
		memset(p, tag, TLS_SECRET_SLOT);
		memset(q, anti, TLS_SECRET_SLOT);
		/* Another thread holding the same slot would overwrite it. */
		for (int i = 0; i < TLS_SECRET_SLOT; i++)
			if (p[i] != tag || q[i] != anti) {
				CHECK(false);
				break;
			}
		tls_secret_free(q);
		tls_secret_free(p);
	}
	return NULL;
}

static void threads_never_share_a_slot(void)
{
	pthread_t t[THREADS];

	for (uintptr_t i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, churn, (void *)(i + 1)) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	slots_are_zeroed_distinct_and_reused();
	sessions_do_not_map_memory_each();
	threads_never_share_a_slot();
	return check_exit("test_secret_pool");
}
