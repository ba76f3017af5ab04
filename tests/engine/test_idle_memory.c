/*
 * test_idle_memory.c: an established connection with nothing buffered
 * holds no record buffer (issue 10 item 3: idle memory per connection):
 * - after a full-size record each way, both ends hold neither their input
 *   nor their output buffer;
 * - a partly received record (its header and half its body) keeps the
 *   receiver's input buffer, and the rest of it completes the record;
 * - 10 MB each way, in chunks, still arrives byte for byte, with the
 *   buffers released after every chunk and taken again for the next.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "testpair.h"

static bool idle(const tls_conn *c)
{
	return c->in == NULL && c->out == NULL;
}

/* Move the sender's queued ciphertext to ${to}, at most ${max} bytes. */
static size_t deliver(tls_conn *from, tls_conn *to, size_t max)
{
	size_t len, moved = 0;
	const uint8_t *p = tls_conn_sendbuf(from, &len);
	if (len > max)
		len = max;
	while (moved < len) {
		size_t room;
		uint8_t *dst = tls_conn_recvbuf(to, &room);
		if (!dst || room == 0)
			break;
		size_t k = len - moved < room ? len - moved : room;
		memcpy(dst, p + moved, k);
		tls_conn_recv_done(to, k);
		moved += k;
	}
	tls_conn_send_done(from, moved);
	return moved;
}

static void pair(tls_config *scfg, tls_config *ccfg, tls_conn **cli, tls_conn **srv)
{
	*cli = tls_conn_new(ccfg, "server.test", NULL);
	*srv = tls_conn_new(scfg, NULL, NULL);
	CHECK(*cli && *srv);
	CHECK(testpair_handshake(*cli, *srv));
}

static void test_idle_after_records(tls_config *scfg, tls_config *ccfg)
{
	tls_conn *cli, *srv;
	pair(scfg, ccfg, &cli, &srv);
	CHECK(idle(cli));
	CHECK(idle(srv));
	CHECK(testpair_transfer(cli, srv, cli, srv, TLS_MAX_PLAINTEXT));
	CHECK(testpair_transfer(srv, cli, cli, srv, TLS_MAX_PLAINTEXT));
	CHECK(idle(cli));
	CHECK(idle(srv));
	CHECK_EQ(tls_conn_state(cli) & TLS_ST_FAILED, 0);
	CHECK_EQ(tls_conn_state(srv) & TLS_ST_FAILED, 0);
	tls_conn_free(cli);
	tls_conn_free(srv);
}

static void test_partial_record(tls_config *scfg, tls_config *ccfg)
{
	tls_conn *cli, *srv;
	pair(scfg, ccfg, &cli, &srv);
	static uint8_t msg[TLS_MAX_PLAINTEXT], got[TLS_MAX_PLAINTEXT];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(tls_conn_write(cli, msg, sizeof msg), sizeof msg);
	CHECK(cli->out != NULL); /* a record queued */
	size_t len;
	CHECK(tls_conn_sendbuf(cli, &len) != NULL);
	/* The header and half the body. */
	size_t half = TLS_RECORD_HEADER + (len - TLS_RECORD_HEADER) / 2;
	CHECK_EQ(deliver(cli, srv, half), half);
	CHECK(srv->in != NULL);
	CHECK_EQ(tls_conn_readable(srv), 0);
	CHECK(srv->out == NULL); /* the write side stays idle */
	CHECK_EQ(deliver(cli, srv, len), len - half);
	CHECK(cli->out == NULL); /* drained */
	CHECK_EQ(tls_conn_readable(srv), sizeof msg);
	CHECK(srv->in != NULL); /* plaintext unread */
	CHECK_EQ(tls_conn_read(srv, got, sizeof got), sizeof got);
	CHECK_MEM(got, msg, sizeof msg);
	CHECK(idle(cli));
	CHECK(idle(srv));
	tls_conn_free(cli);
	tls_conn_free(srv);
}

static void test_stream(tls_config *scfg, tls_config *ccfg)
{
	tls_conn *cli, *srv;
	pair(scfg, ccfg, &cli, &srv);
	/* 10 MB each way in chunks of 1 MB + 37 (so records end mid-chunk). */
	size_t total = 10u << 20, chunk = (1u << 20) + 37, done = 0;
	int rounds = 0, idle_rounds = 0;
	while (done < total) {
		size_t n = total - done < chunk ? total - done : chunk;
		CHECK(testpair_transfer(cli, srv, cli, srv, n));
		CHECK(testpair_transfer(srv, cli, cli, srv, n));
		done += n;
		rounds++;
		idle_rounds += idle(cli) && idle(srv);
	}
	CHECK_EQ(idle_rounds, rounds);
	CHECK_EQ(tls_conn_state(cli) & TLS_ST_FAILED, 0);
	CHECK_EQ(tls_conn_state(srv) & TLS_ST_FAILED, 0);
	tls_conn_free(cli);
	tls_conn_free(srv);
}

int main(void)
{
	tls_config *scfg = testpair_server_config(TLS_KEY_EC_P256);
	tls_config *ccfg = testpair_client_config();
	test_idle_after_records(scfg, ccfg);
	test_partial_record(scfg, ccfg);
	test_stream(scfg, ccfg);
	tls_config_unref(scfg);
	tls_config_unref(ccfg);
	return check_exit("engine/idle_memory");
}
