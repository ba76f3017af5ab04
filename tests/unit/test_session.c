/*
 * test_session.c: session reference counting and the ticket key ring:
 * seal/open round trip, tampering, unknown keys, rotation, lifetime,
 * truncation.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "session.h"

#define T0     1700000000u
#define PERIOD 3600u

static tls_session *sample(void)
{
	tls_session *s = tls_session_new();

	if (s == NULL)
		abort();
	s->suite = 0xc02f;
	s->ems = true;
	for (int i = 0; i < 48; i++)
		s->master[i] = (uint8_t)(0xa0 + i);
	strcpy(s->server_name, "redis.internal");
	s->has_peer = true;
	for (int i = 0; i < 32; i++)
		s->peer_spki[i] = (uint8_t)(3 * i + 1);
	strcpy(s->peer_subject, "CN=client,O=tlshim");
	s->created = T0;
	s->lifetime = 10 * PERIOD; /* rotation, not lifetime, limits these tickets */
	return s;
}

static bool same(const tls_session *a, const tls_session *b)
{
	return a->suite == b->suite && a->ems == b->ems && memcmp(a->master, b->master, 48) == 0 &&
	       strcmp(a->server_name, b->server_name) == 0 && a->has_peer == b->has_peer &&
	       memcmp(a->peer_spki, b->peer_spki, 32) == 0 &&
	       strcmp(a->peer_subject, b->peer_subject) == 0 && a->created == b->created &&
	       a->lifetime == b->lifetime && a->not_after == b->not_after;
}

/* opens(k, now, t, n): whether the ticket opens; frees what it got. */
static bool opens(tls_ticket_keys *k, uint64_t now, const uint8_t *t, size_t n)
{
	tls_session *s = tls_ticket_open(k, now, t, n);

	tls_session_unref(s);
	return s != NULL;
}

static void test_refcount(void)
{
	tls_session *s = tls_session_new();

	CHECK(s != NULL);
	CHECK_EQ(s->refs, 1);
	CHECK(s->master != NULL);
	CHECK(s->ticket == NULL);
	s->ticket = malloc(100); /* freed by the last unref (ASan would report a leak) */
	s->ticket_len = 100;
	memset(s->ticket, 7, 100);
	CHECK(tls_session_ref(s) == s);
	CHECK_EQ(s->refs, 2);
	tls_session_unref(s);
	CHECK_EQ(s->refs, 1);
	tls_session_unref(s);
	tls_session_unref(NULL);
}

static void test_round_trip(void)
{
	tls_ticket_keys *k = tls_ticket_keys_new(PERIOD, T0);
	tls_session *s = sample(), *o, *o2;
	uint8_t t[TLS_TICKET_MAX], t2[TLS_TICKET_MAX];
	size_t n = 0, n2 = 0;

	CHECK(k != NULL);
	CHECK_EQ(tls_ticket_keys_period(k), PERIOD);
	/* The client-side ticket field is not part of the sealed state. */
	s->ticket = malloc(5);
	memcpy(s->ticket, "abcde", 5);
	s->ticket_len = 5;
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	CHECK(n > 16 + 12 + 16 + 48);
	CHECK(n <= sizeof(t));
	o = tls_ticket_open(k, T0 + 10, t, n);
	CHECK(o != NULL);
	if (o != NULL) {
		CHECK(same(s, o));
		CHECK_EQ(o->refs, 1);
		CHECK(o->ticket == NULL);
		CHECK_EQ(o->ticket_len, 0);
		tls_session_unref(o);
	}

	/* Every field really travels: flip each one and it comes back flipped. */
	s->suite = 0xcca9;
	s->ems = false;
	s->master[47] ^= 0xff;
	s->server_name[0] = '\0';
	s->has_peer = false;
	s->peer_spki[31] ^= 1;
	s->peer_subject[0] = '\0';
	s->created = T0 - 5;
	s->lifetime = 7200;
	s->not_after = T0 + 12345;
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	o = tls_ticket_open(k, T0, t, n);
	CHECK(o != NULL);
	if (o != NULL) {
		CHECK(same(s, o));
		CHECK_EQ(o->suite, 0xcca9);
		CHECK(!o->ems);
		CHECK(!o->has_peer);
		CHECK_EQ(o->created, T0 - 5);
		CHECK_EQ(o->lifetime, 7200);
		tls_session_unref(o);
	}

	/* Same state sealed twice: fresh nonce, different tickets, both open. */
	CHECK_EQ(tls_ticket_seal(k, T0, s, t2, sizeof(t2), &n2), 0);
	CHECK_EQ(n, n2);
	CHECK(memcmp(t, t2, 16) == 0); /* same key name */
	CHECK(memcmp(t + 16, t2 + 16, n - 16) != 0);
	o2 = tls_ticket_open(k, T0, t2, n2);
	CHECK(o2 != NULL);
	tls_session_unref(o2);

	/* Longest names: a 255-byte server name fits; a long subject is cut
	 * to fit the buffer rather than failing. */
	memset(s->server_name, 'n', 255);
	s->server_name[255] = '\0';
	memset(s->peer_subject, 's', 255);
	s->peer_subject[255] = '\0';
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	CHECK(n <= TLS_TICKET_MAX);
	o = tls_ticket_open(k, T0, t, n);
	CHECK(o != NULL);
	if (o != NULL) {
		CHECK_EQ(strlen(o->server_name), 255);
		CHECK(strcmp(o->server_name, s->server_name) == 0);
		CHECK(strlen(o->peer_subject) > 0);
		CHECK(strlen(o->peer_subject) < 255);
		CHECK(strncmp(o->peer_subject, s->peer_subject, strlen(o->peer_subject)) == 0);
		tls_session_unref(o);
	}
	/* With room, the subject is kept whole up to 255 bytes. */
	{
		uint8_t big[1024];

		CHECK_EQ(tls_ticket_seal(k, T0, s, big, sizeof(big), &n), 0);
		o = tls_ticket_open(k, T0, big, n);
		CHECK(o != NULL);
		if (o != NULL) {
			CHECK(strcmp(o->peer_subject, s->peer_subject) == 0);
			tls_session_unref(o);
		}
	}
	/* A buffer too small for the fixed fields fails cleanly. */
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, 100, &n), -1);
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, 10, &n), -1);

	tls_session_unref(s);
	tls_ticket_keys_free(k);
	tls_ticket_keys_free(NULL);
}

static void test_tamper_truncate(void)
{
	tls_ticket_keys *k = tls_ticket_keys_new(PERIOD, T0);
	tls_session *s = sample();
	uint8_t t[TLS_TICKET_MAX], bad[TLS_TICKET_MAX + 1];
	size_t n = 0;
	int opened = 0;

	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	CHECK(opens(k, T0, t, n));
	/* Any flipped bit, in name, nonce, ciphertext or tag. */
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(bad, t, n);
			bad[i] ^= (uint8_t)(1u << bit);
			opened += opens(k, T0, bad, n);
		}
	}
	CHECK_EQ(opened, 0);
	/* Every truncation, and one extra byte. */
	opened = 0;
	for (size_t i = 0; i < n; i++)
		opened += opens(k, T0, t, i);
	memcpy(bad, t, n);
	bad[n] = 0;
	opened += opens(k, T0, bad, n + 1);
	CHECK_EQ(opened, 0);
	/* The ticket is still fine afterwards. */
	CHECK(opens(k, T0, t, n));
	tls_session_unref(s);
	tls_ticket_keys_free(k);
}

static void test_unknown_key(void)
{
	tls_ticket_keys *a = tls_ticket_keys_new(PERIOD, T0);
	tls_ticket_keys *b = tls_ticket_keys_new(PERIOD, T0);
	tls_session *s = sample();
	uint8_t t[TLS_TICKET_MAX];
	size_t n = 0;

	CHECK_EQ(tls_ticket_seal(a, T0, s, t, sizeof(t), &n), 0);
	CHECK(opens(a, T0, t, n));
	CHECK(!opens(b, T0, t, n));
	/* Right name, wrong key: b's name on a's ticket fails the tag. */
	CHECK_EQ(tls_ticket_seal(b, T0, s, t, sizeof(t), &n), 0);
	{
		uint8_t u[TLS_TICKET_MAX];
		size_t m = 0;

		CHECK_EQ(tls_ticket_seal(a, T0, s, u, sizeof(u), &m), 0);
		memcpy(u, t, 16);
		CHECK(!opens(b, T0, u, m));
	}
	tls_session_unref(s);
	tls_ticket_keys_free(a);
	tls_ticket_keys_free(b);
}

static void test_rotation(void)
{
	tls_ticket_keys *k = tls_ticket_keys_new(PERIOD, T0);
	tls_session *s = sample();
	uint8_t t0[TLS_TICKET_MAX], t1[TLS_TICKET_MAX];
	size_t n0 = 0, n1 = 0;

	CHECK_EQ(tls_ticket_seal(k, T0, s, t0, sizeof(t0), &n0), 0);
	CHECK(opens(k, T0 + PERIOD - 1, t0, n0)); /* no rotation yet */
	/* First rotation: the old key becomes previous and still opens. */
	CHECK(opens(k, T0 + PERIOD, t0, n0));
	CHECK_EQ(tls_ticket_seal(k, T0 + PERIOD, s, t1, sizeof(t1), &n1), 0);
	CHECK(memcmp(t0, t1, 16) != 0); /* a new key name seals */
	CHECK(opens(k, T0 + PERIOD, t1, n1));
	/* Second rotation: the first key is gone, the second still opens. */
	CHECK(!opens(k, T0 + 2 * PERIOD, t0, n0));
	CHECK(opens(k, T0 + 2 * PERIOD, t1, n1));
	tls_ticket_keys_free(k);

	/* A ring idle for two periods keeps nothing old. */
	k = tls_ticket_keys_new(PERIOD, T0);
	CHECK_EQ(tls_ticket_seal(k, T0, s, t0, sizeof(t0), &n0), 0);
	CHECK(!opens(k, T0 + 2 * PERIOD, t0, n0));
	tls_ticket_keys_free(k);
	CHECK(tls_ticket_keys_new(0, T0) == NULL);
	tls_session_unref(s);
}

static void test_lifetime(void)
{
	tls_ticket_keys *k = tls_ticket_keys_new(PERIOD, T0);
	tls_session *s = sample();
	uint8_t t[TLS_TICKET_MAX];
	size_t n = 0;

	s->lifetime = 100;
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	CHECK(opens(k, T0 + 100, t, n));
	CHECK(!opens(k, T0 + 101, t, n));
	CHECK(opens(k, T0 - 60, t, n)); /* clock skew allowed */
	CHECK(!opens(k, T0 - 61, t, n));
	s->lifetime = 0;
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	CHECK(opens(k, T0, t, n));
	CHECK(!opens(k, T0 + 1, t, n));
	/* A ticket never outlives the client certificate it vouches for. */
	s->lifetime = 3000;
	s->not_after = T0 + 1000;
	CHECK_EQ(tls_ticket_seal(k, T0, s, t, sizeof(t), &n), 0);
	CHECK(opens(k, T0 + 1000, t, n));
	CHECK(!opens(k, T0 + 1001, t, n));
	tls_session_unref(s);
	tls_ticket_keys_free(k);
}

/* The client's side: tls_session_resumable. */
static void test_resumable(void)
{
	tls_session *s = sample();
	uint8_t id[32] = {1, 2, 3}, other[32] = {1, 2, 4};

	memcpy(s->config_id, id, 32);
	s->ticket = malloc(4);
	s->ticket_len = 4;
	memset(s->ticket, 7, 4);
	s->lifetime = 600;
	s->not_after = T0 + 10000;
	CHECK(tls_session_resumable(s, id, "redis.internal", "", T0));
	CHECK(tls_session_resumable(s, id, "redis.internal", "", T0 + 599));
	CHECK(!tls_session_resumable(s, id, "redis.internal", "", T0 + 600)); /* hint */
	CHECK(!tls_session_resumable(s, id, "redis.internal", "", T0 - 1));
	CHECK(!tls_session_resumable(s, other, "redis.internal", "", T0)); /* config */
	CHECK(!tls_session_resumable(s, id, "other.internal", "", T0));
	s->lifetime = 0; /* unspecified: two hours */
	CHECK(tls_session_resumable(s, id, "redis.internal", "", T0 + 7199));
	CHECK(!tls_session_resumable(s, id, "redis.internal", "", T0 + 7200));
	s->lifetime = 100000; /* beyond the certificate */
	CHECK(tls_session_resumable(s, id, "redis.internal", "", T0 + 10000));
	CHECK(!tls_session_resumable(s, id, "redis.internal", "", T0 + 10001));
	/* No name: the address decides. */
	s->server_name[0] = '\0';
	strcpy(s->peer_ip, "192.0.2.1");
	CHECK(tls_session_resumable(s, id, "", "192.0.2.1", T0));
	CHECK(!tls_session_resumable(s, id, "", "192.0.2.2", T0));
	s->ems = false;
	CHECK(!tls_session_resumable(s, id, "", "192.0.2.1", T0));
	CHECK(!tls_session_resumable(NULL, id, "", "192.0.2.1", T0));
	tls_session_unref(s);
}

struct worker {
	tls_ticket_keys *k;
	int failures;
};

static void *work(void *arg)
{
	struct worker *wk = arg;
	tls_session *s = sample();
	uint8_t t[TLS_TICKET_MAX];
	size_t n;

	for (unsigned i = 0; i < 300; i++) {
		uint64_t now = T0 + i * 20; /* crosses one rotation */

		if (tls_ticket_seal(wk->k, now, s, t, sizeof(t), &n) != 0 ||
		    !opens(wk->k, now, t, n))
			wk->failures++;
	}
	tls_session_unref(s);
	return NULL;
}

static void test_threads(void)
{
	tls_ticket_keys *k = tls_ticket_keys_new(PERIOD, T0);
	struct worker w[4];
	pthread_t th[4];
	int failures = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){k, 0};
		CHECK_EQ(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	CHECK_EQ(failures, 0);
	tls_ticket_keys_free(k);
}

int main(void)
{
	CHECK(sodium_init() >= 0);
	test_refcount();
	test_round_trip();
	test_tamper_truncate();
	test_unknown_key();
	test_rotation();
	test_lifetime();
	test_resumable();
	test_threads();
	return check_exit("unit/session");
}
