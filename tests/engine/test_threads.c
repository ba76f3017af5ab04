/*
 * The threading contract of tls.h: once established, a connection's read
 * side (recvbuf, recv_done, read) and write side (write, sendbuf,
 * send_done, close) run in two threads at once. Four threads drive an
 * established pair (each connection's reader and writer at the same time,
 * with in-memory pipes between them), including the cross-thread paths: a
 * renegotiation request the reader refuses with a warning that the writer
 * sends, and a read-side failure (a corrupted record) while the writer
 * keeps writing. Then both sides call tls_fail at the same instant, many
 * times: the first error wins whole (its class, alert and reason together)
 * and exactly one fatal alert goes out. Meant to run under TSan as well;
 * every loop is bounded.
 *
 * As in the shim, each side asks tls_conn_state between its calls (the
 * writer whether the connection failed or closed, the reader whether the
 * peer closed), and a fifth thread, the poller, asks tls_conn_state,
 * tls_conn_readable and tls_conn_records of both connections without any
 * lock all along, from before the handshake on, as poll/epoll do (tls.h
 * "Threads"): the fields those read are the other side's, so under TSan
 * this is what proves them published rather than shared (issue 9, 11).
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "consts.h"
#include "internal.h"
#include "testpair.h"

#define STREAM_BYTES (2u << 20) /* per direction */
#define PIPE_CAP     (64u << 10)
#define DEADLINE_S   20

/* ---- an in-memory byte pipe between one writer and one reader thread --- */

typedef struct pipe_q {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t buf[PIPE_CAP];
	size_t len;
	bool closed;
} pipe_q;

static void pipe_init(pipe_q *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->len = 0;
	q->closed = false;
}

static void pipe_destroy(pipe_q *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

static struct timespec deadline_in(int seconds)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += seconds;
	return t;
}

static bool past(const struct timespec *dl)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > dl->tv_sec || (now.tv_sec == dl->tv_sec && now.tv_nsec >= dl->tv_nsec);
}

/* pipe_put(q, p, n, dl): append all ${n} bytes, waiting for room; false at
 * the deadline or when the reader gave up (closed). */
static bool pipe_put(pipe_q *q, const uint8_t *p, size_t n, const struct timespec *dl)
{
	pthread_mutex_lock(&q->mu);
	while (n > 0) {
		while (q->len == PIPE_CAP && !q->closed)
			if (pthread_cond_timedwait(&q->cv, &q->mu, dl) != 0)
				break;
		if (q->closed || q->len == PIPE_CAP) {
			pthread_mutex_unlock(&q->mu);
			return false;
		}
		size_t k = PIPE_CAP - q->len < n ? PIPE_CAP - q->len : n;
		memcpy(q->buf + q->len, p, k);
		q->len += k;
		p += k;
		n -= k;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return true;
}

/* pipe_get(q, p, max, dl): take up to ${max} bytes, waiting for some;
 * 0 once the pipe is closed and empty, or at the deadline. */
static size_t pipe_get(pipe_q *q, uint8_t *p, size_t max, const struct timespec *dl)
{
	pthread_mutex_lock(&q->mu);
	while (q->len == 0 && !q->closed)
		if (pthread_cond_timedwait(&q->cv, &q->mu, dl) != 0)
			break;
	size_t k = q->len < max ? q->len : max;
	memcpy(p, q->buf, k);
	memmove(q->buf, q->buf + k, q->len - k);
	q->len -= k;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return k;
}

static void pipe_close(pipe_q *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* ---- the four threads ------------------------------------------------- */

static uint8_t pattern(size_t i, bool from_client)
{
	return (uint8_t)(i * 131 + (i >> 9) + (from_client ? 7 : 0));
}

typedef struct side {
	tls_conn *conn;
	bool is_client;
	pipe_q *out, *in; /* to the peer, from the peer */
	struct timespec deadline;
	/* Writer: emit a HelloRequest after this many bytes (server), corrupt
	 * the ciphertext byte at this offset of the stream (0: never). */
	size_t hello_request_at, corrupt_at;
	/* Results (read by main after join). */
	size_t written, received;
	bool data_ok, write_stopped, reader_failed, timed_out;
} side;

/* ---- the poller: readiness without locks -------------------------------- */

typedef struct poller {
	tls_conn *conn[2];
	int stop; /* atomic */
	/* Results (read by main after join). */
	unsigned long polls; /* atomic */
	bool saw_established[2], saw_readable[2];
	bool lost_established, records_went_back, too_readable;
} poller;

static void *poll_loop(void *arg)
{
	poller *p = arg;
	uint64_t last_rd[2] = {0, 0}, last_wr[2] = {0, 0};
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 2; i++) {
			unsigned st = tls_conn_state(p->conn[i]);
			size_t readable = tls_conn_readable(p->conn[i]);
			if (st & TLS_ST_ESTABLISHED) {
				p->saw_established[i] = true;
				/* Only grow once established (tls.h). */
				uint64_t rd = tls_conn_records(p->conn[i], false);
				uint64_t wr = tls_conn_records(p->conn[i], true);
				p->records_went_back |= rd < last_rd[i] || wr < last_wr[i];
				last_rd[i] = rd;
				last_wr[i] = wr;
			} else if (p->saw_established[i]) {
				p->lost_established = true;
			}
			p->saw_readable[i] |= (st & TLS_ST_READABLE) != 0;
			p->too_readable |= readable > TLS_MAX_PLAINTEXT;
		}
		__atomic_add_fetch(&p->polls, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void poller_start(poller *p, pthread_t *t, tls_conn *cli, tls_conn *srv)
{
	memset(p, 0, sizeof *p);
	p->conn[0] = cli;
	p->conn[1] = srv;
	CHECK_EQ(pthread_create(t, NULL, poll_loop, p), 0);
}

static void poller_stop(poller *p, pthread_t t)
{
	/* On a loaded machine the poller may not have run yet: let it look at
	 * least once (bounded) so that its findings mean something. */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (__atomic_load_n(&p->polls, __ATOMIC_ACQUIRE) == 0 && now.tv_sec - t0.tv_sec < 10);
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK(p->polls > 0);
	CHECK(!p->lost_established);
	CHECK(!p->records_went_back);
	CHECK(!p->too_readable);
}

/* flush(s): move the connection's ciphertext into the pipe (write side). */
static bool flush(side *s, size_t *stream_off)
{
	size_t n;
	const uint8_t *p;
	while ((p = tls_conn_sendbuf(s->conn, &n)) != NULL && n > 0) {
		uint8_t copy[4096];
		size_t k = n < sizeof copy ? n : sizeof copy;
		memcpy(copy, p, k);
		/* A flipped bit in a record body: the peer's read side fails. */
		if (s->corrupt_at && *stream_off <= s->corrupt_at &&
		    s->corrupt_at < *stream_off + k)
			copy[s->corrupt_at - *stream_off] ^= 0x10;
		*stream_off += k;
		if (!pipe_put(s->out, copy, k, &s->deadline))
			return false;
		tls_conn_send_done(s->conn, k);
	}
	return true;
}

static void *writer(void *arg)
{
	side *s = arg;
	uint8_t chunk[5000];
	size_t stream_off = 0;
	bool sent_hr = false;
	while (s->written < STREAM_BYTES && !past(&s->deadline)) {
		size_t n = STREAM_BYTES - s->written < sizeof chunk ? STREAM_BYTES - s->written
								    : sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(s->written + i, s->is_client);
		size_t took = tls_conn_write(s->conn, chunk, n);
		s->written += took;
		if (s->hello_request_at && !sent_hr && s->written >= s->hello_request_at) {
			/* RFC 5246 §7.4.1.1: the peer refuses it with a
			 * no_renegotiation warning, sent by its write thread. */
			static const uint8_t hr[4] = {TLS_HT_HELLO_REQUEST, 0, 0, 0};
			tls_emit_record(s->conn, TLS_CT_HANDSHAKE, hr, sizeof hr);
			sent_hr = true;
		}
		if (!flush(s, &stream_off))
			break;
		/* As pump_send asks: the read side's failure shows in the
		 * state the writer reads. */
		if (took == 0 && (tls_conn_state(s->conn) & TLS_ST_FAILED)) {
			s->write_stopped = true; /* the read side failed: writes stop */
			break;
		}
	}
	tls_conn_close(s->conn);
	flush(s, &stream_off);
	pipe_close(s->out);
	s->timed_out |= past(&s->deadline);
	return NULL;
}

static void *reader(void *arg)
{
	side *s = arg;
	uint8_t buf[8192];
	s->data_ok = true;
	for (;;) {
		size_t room = 0;
		uint8_t *dst = tls_conn_recvbuf(s->conn, &room);
		if (!dst)
			break; /* close_notify received, or failed */
		size_t n = pipe_get(s->in, dst, room, &s->deadline);
		if (n == 0) {
			s->timed_out |= past(&s->deadline);
			break;
		}
		if (tls_conn_recv_done(s->conn, n) < 0)
			s->reader_failed = true;
		size_t k;
		while ((k = tls_conn_read(s->conn, buf, sizeof buf)) > 0) {
			for (size_t i = 0; i < k; i++)
				if (buf[i] != pattern(s->received + i, !s->is_client))
					s->data_ok = false;
			s->received += k;
		}
		if (s->reader_failed)
			break;
		/* pump_recv: end of stream once close_notify came. */
		if (tls_conn_state(s->conn) & TLS_ST_PEER_CLOSED)
			break;
	}
	/* A record behind the one just read may have failed it too. */
	if (tls_conn_error(s->conn, NULL, NULL, NULL) != TLS_ERR_NONE)
		s->reader_failed = true;
	/* Unblock a peer writer still waiting for room. */
	pipe_close(s->in);
	return NULL;
}

static void make_pair(tls_conn **cli, tls_conn **srv)
{
	static tls_config *scfg, *ccfg;
	if (!scfg) {
		scfg = testpair_server_config(TLS_KEY_EC_P256);
		ccfg = testpair_client_config();
	}
	*cli = tls_conn_new(ccfg, "server.test", NULL);
	*srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(*cli && *srv);
}

static void establish(tls_conn **cli, tls_conn **srv)
{
	make_pair(cli, srv);
	CHECK(testpair_handshake(*cli, *srv));
}

/* run(sides): both connections' readers and writers at once. */
static void run(side sd[2])
{
	pthread_t t[4];
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(pthread_create(&t[2 * i], NULL, writer, &sd[i]), 0);
		CHECK_EQ(pthread_create(&t[2 * i + 1], NULL, reader, &sd[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

static void setup_sides(side sd[2], tls_conn *cli, tls_conn *srv, pipe_q *c2s, pipe_q *s2c)
{
	pipe_init(c2s);
	pipe_init(s2c);
	memset(sd, 0, 2 * sizeof *sd);
	sd[0] = (side){.conn = cli, .is_client = true, .out = c2s, .in = s2c};
	sd[1] = (side){.conn = srv, .is_client = false, .out = s2c, .in = c2s};
	sd[0].deadline = sd[1].deadline = deadline_in(DEADLINE_S);
}

/* Full duplex: every byte arrives intact both ways, the HelloRequest in
 * the middle is refused with a warning the client's writer sends, and
 * close_notify ends both streams. */
static void duplex(void)
{
	tls_conn *cli, *srv;
	make_pair(&cli, &srv);
	poller pl;
	pthread_t pt;
	poller_start(&pl, &pt, cli, srv); /* readiness during the handshake too */
	CHECK(testpair_handshake(cli, srv));
	pipe_q c2s, s2c;
	side sd[2];
	setup_sides(sd, cli, srv, &c2s, &s2c);
	sd[1].hello_request_at = STREAM_BYTES / 2;
	run(sd);
	poller_stop(&pl, pt);
	CHECK(pl.saw_established[0] && pl.saw_established[1]);
	for (int i = 0; i < 2; i++) {
		CHECK(!sd[i].timed_out);
		CHECK(sd[i].data_ok);
		CHECK(!sd[i].reader_failed);
		CHECK_EQ(sd[i].written, STREAM_BYTES);
		CHECK_EQ(sd[i].received, STREAM_BYTES);
	}
	CHECK_EQ(tls_conn_error(cli, NULL, NULL, NULL), TLS_ERR_NONE);
	CHECK_EQ(tls_conn_error(srv, NULL, NULL, NULL), TLS_ERR_NONE);
	CHECK(tls_conn_state(cli) & TLS_ST_PEER_CLOSED);
	CHECK(tls_conn_state(srv) & TLS_ST_PEER_CLOSED);
	tls_conn_free(cli);
	tls_conn_free(srv);
	pipe_destroy(&c2s);
	pipe_destroy(&s2c);
}

/* The server's read side fails (bad_record_mac) while its writer is busy:
 * its writes stop, one fatal alert is its last record, and no corrupted
 * byte was handed out. */
static void read_side_fails(void)
{
	tls_conn *cli, *srv;
	establish(&cli, &srv);
	poller pl;
	pthread_t pt;
	poller_start(&pl, &pt, cli, srv);
	pipe_q c2s, s2c;
	side sd[2];
	setup_sides(sd, cli, srv, &c2s, &s2c);
	sd[0].corrupt_at = STREAM_BYTES / 3;
	run(sd);
	poller_stop(&pl, pt);
	CHECK(!sd[0].timed_out && !sd[1].timed_out);
	CHECK(sd[1].reader_failed);
	CHECK(sd[0].data_ok && sd[1].data_ok);
	CHECK(sd[1].received < STREAM_BYTES);
	uint8_t alert = 0;
	bool from_peer = true;
	CHECK_EQ(tls_conn_error(srv, &alert, &from_peer, NULL), TLS_ERR_PROTOCOL);
	CHECK_EQ(alert, TLS_ALERT_BAD_RECORD_MAC);
	CHECK(!from_peer);
	/* The client got that alert (its reader may have stopped first when
	 * the pipe closed, so only check what it says if it failed). */
	if (tls_conn_error(cli, &alert, &from_peer, NULL) == TLS_ERR_PEER_ALERT)
		CHECK(from_peer && alert == TLS_ALERT_BAD_RECORD_MAC);
	CHECK_EQ(tls_conn_write(srv, "x", 1), 0);
	/* When the writer had sent everything before the read side failed,
	 * nobody was left to send the alert (the shim's reader would): then
	 * the one thing queued must be that single alert record, and after it
	 * nothing. */
	size_t n;
	const uint8_t *left = tls_conn_sendbuf(srv, &n);
	if (left != NULL) {
		CHECK(n >= 5 && left[0] == TLS_CT_ALERT &&
		      n == 5 + (size_t)(left[3] << 8 | left[4]));
		tls_conn_send_done(srv, n);
	}
	CHECK(tls_conn_sendbuf(srv, &n) == NULL);
	tls_conn_free(cli);
	tls_conn_free(srv);
	pipe_destroy(&c2s);
	pipe_destroy(&s2c);
}

/* ---- both sides fail at the same instant ------------------------------- */

#define RACE_ROUNDS 3000

typedef struct racer {
	pthread_barrier_t *bar;
	tls_conn **conn;
	int which;
} racer;

static void *race(void *arg)
{
	racer *r = arg;
	for (int i = 0; i < RACE_ROUNDS; i++) {
		pthread_barrier_wait(r->bar);
		if (r->which == 0)
			tls_fail(*r->conn, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				 "reader's error, a sentence long enough to take a while to format "
				 "(%d)",
				 i);
		else
			tls_fail(*r->conn, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				 "writer's error, another sentence long enough to take a while "
				 "(%d)",
				 i);
		pthread_barrier_wait(r->bar);
	}
	return NULL;
}

static void first_error_wins(void)
{
	tls_conn *cli, *srv;
	establish(&cli, &srv);
	tls_conn_free(cli);
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, 3);
	tls_conn *conn = NULL;
	racer rs[2] = {{&bar, &conn, 0}, {&bar, &conn, 1}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race, &rs[i]);
	int mixed = 0, bad_alerts = 0, wins[2] = {0, 0};
	for (int i = 0; i < RACE_ROUNDS; i++) {
		/* A fresh failure state on the established connection. */
		srv->err = TLS_ERR_NONE;
		srv->err_ready = false;
		srv->alert = 0;
		srv->reason[0] = '\0';
		srv->close_queued = false;
		conn = srv;
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		uint8_t alert = 0;
		const char *reason = "";
		enum tls_err err = tls_conn_error(srv, &alert, NULL, &reason);
		bool reader = err == TLS_ERR_PROTOCOL && alert == TLS_ALERT_DECODE_ERROR &&
			      strncmp(reason, "reader's", 8) == 0;
		bool writer = err == TLS_ERR_INTERNAL && alert == TLS_ALERT_INTERNAL_ERROR &&
			      strncmp(reason, "writer's", 8) == 0;
		if (!reader && !writer)
			mixed++;
		wins[writer]++;
		/* Exactly one fatal alert record, then nothing. */
		size_t n;
		const uint8_t *p = tls_conn_sendbuf(srv, &n);
		if (!p || n < TLS_RECORD_HEADER || p[0] != TLS_CT_ALERT ||
		    n != TLS_RECORD_HEADER + ((size_t)p[3] << 8 | p[4]))
			bad_alerts++;
		if (p)
			tls_conn_send_done(srv, n);
		if (tls_conn_sendbuf(srv, &n) != NULL)
			bad_alerts++;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	if (mixed)
		fprintf(stderr, "first_error_wins: %d of %d rounds mixed two errors\n", mixed,
			RACE_ROUNDS);
	CHECK_EQ(mixed, 0);
	CHECK_EQ(bad_alerts, 0);
	printf("first_error_wins: reader won %d, writer won %d of %d rounds\n", wins[0], wins[1],
	       RACE_ROUNDS);
	tls_conn_free(srv);
}

int main(void)
{
	duplex();
	read_side_fails();
	first_error_wins();
	return check_exit("engine/threads");
}
