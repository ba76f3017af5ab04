/*
 * record.c: the record layer (RFC 5246 §6.2) in both directions, and the
 * byte-moving half of the public API.
 *
 * Input is decrypted in place: an application_data record's plaintext is
 * served straight out of the input buffer (no copy, no allocation), and the
 * next record is not processed until the application has read it all.
 * Output records are sealed straight from the caller's buffer into the
 * output buffer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handshake.h"
#include "internal.h"

/* Consecutive records that carry nothing (empty application_data, warning
 * alerts, renegotiation attempts) a peer may send before we call it a
 * denial of service. */
#define MAX_EMPTY_RECORDS 32
/* The output buffer may grow to hold a whole handshake flight. */
#define OUT_MAX (4 * TLS_MAX_HS_MESSAGE)

/* ---- buffers of an idle connection ------------------------------------ */

/* Once established, a connection with nothing buffered in a direction
 * gives that direction's buffer back (issue 10: an idle connection holds
 * no record buffer) and takes one again on its next record. The read side
 * owns in, the write side out (internal.h), so each side drops and re-takes
 * its own without a lock. Buffers come from a cache of one per kind per
 * thread: a busy connection going idle and busy again between records
 * costs no malloc, and nothing here takes a lock (a mutex held at fork
 * would deadlock the child, tls.h "fork"); the child of a fork inherits
 * the forking thread's cache, as it does the rest of its memory. A thread's
 * cache is freed when the thread exits. */
static _Thread_local uint8_t *cached_in, *cached_out;
static _Thread_local bool cache_registered;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_key_ok;

static void cache_drop(void *unused)
{
	(void)unused;
	free(cached_in); /* wiped when it was cached (in_release) */
	free(cached_out);
	cached_in = cached_out = NULL;
}

static void cache_key_make(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_drop) == 0;
}

/* Keep ${p} in this thread's ${slot} if it is empty and the thread's exit
 * will free it; else free it. */
static void cache_put(uint8_t **slot, uint8_t *p)
{
	if (!cache_registered) {
		pthread_once(&cache_once, cache_key_make);
		cache_registered =
			cache_key_ok && pthread_setspecific(cache_key, &cache_registered) == 0;
	}
	if (*slot || !cache_registered) {
		free(p);
		return;
	}
	*slot = p;
}

static uint8_t *cache_take(uint8_t **slot, size_t cap)
{
	uint8_t *p = *slot;
	*slot = NULL;
	return p ? p : malloc(cap);
}

/* The read side's buffer is released once nothing in it is needed: no
 * plaintext unread, no partial record. It held plaintext (records are
 * decrypted in place), so the part ever written is wiped first. */
static void in_release(tls_conn *c)
{
	if (!c->in || !c->established || c->err || c->plain_len || c->in_start != c->in_end)
		return;
	size_t dirty = c->in_end > c->in_dirty ? c->in_end : c->in_dirty;
	sodium_memzero(c->in, dirty);
	if (c->in_cap == TLS_IN_CAP)
		cache_put(&cached_in, c->in);
	else
		free(c->in);
	c->in = NULL;
	c->in_cap = c->in_start = c->in_end = c->in_dirty = c->plain_off = 0;
}

/* The input buffer for a connection that released it; -1 (the connection
 * failed) when memory is short. */
static int in_take(tls_conn *c)
{
	if (c->in)
		return 0;
	c->in = cache_take(&cached_in, TLS_IN_CAP);
	if (!c->in)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"out of memory for the input buffer");
	c->in_cap = TLS_IN_CAP;
	c->in_start = c->in_end = c->in_dirty = c->plain_off = 0;
	return 0;
}

/* ---- output ------------------------------------------------------------ */

/* What the other threads see of the output buffer (internal.h): the bytes
 * queued and the room a new record has, after every change, by the write
 * side. */
static void out_publish(tls_conn *c)
{
	size_t queued = c->out_end - c->out_start;
	size_t cap = c->out ? c->out_cap : TLS_OUT_CAP;
	TLS_PUBLISH(c->out_queued, queued);
	TLS_PUBLISH(c->out_free, cap - queued);
}

/* The output buffer for a connection that released it, or -1 when memory
 * is short (callers fail the connection). */
static int out_take(tls_conn *c)
{
	if (c->out)
		return 0;
	c->out = cache_take(&cached_out, TLS_OUT_CAP);
	if (!c->out)
		return -1;
	c->out_cap = TLS_OUT_CAP;
	c->out_start = c->out_end = 0;
	out_publish(c);
	return 0;
}

static int out_reserve(tls_conn *c, size_t need)
{
	if (out_take(c) < 0)
		return -1;
	if (c->out_start == c->out_end)
		c->out_start = c->out_end = 0;
	if (c->out_cap - c->out_end >= need)
		return 0;
	if (c->out_start > 0) {
		memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
		c->out_end -= c->out_start;
		c->out_start = 0;
		if (c->out_cap - c->out_end >= need)
			return 0;
	}
	size_t cap = c->out_end + need;
	if (cap > OUT_MAX)
		return -1;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return -1;
	c->out = p;
	c->out_cap = cap;
	out_publish(c);
	return 0;
}

/* Seal one record of at most TLS_MAX_PLAINTEXT bytes at out_end; the room
 * was reserved by the caller. */
static int seal_one(tls_conn *c, uint8_t type, const uint8_t *p, size_t n)
{
	uint8_t *h = c->out + c->out_end;
	size_t body = n;
	if (c->wr_on) {
		body = tls_aead_seal(&c->wr, type, p, n, h + TLS_RECORD_HEADER);
		if (body == 0)
			return -1;
	} else {
		memcpy(h + TLS_RECORD_HEADER, p, n);
	}
	h[0] = type;
	h[1] = TLS_VERSION_1_2 >> 8;
	h[2] = TLS_VERSION_1_2 & 0xff;
	h[3] = (uint8_t)(body >> 8);
	h[4] = (uint8_t)body;
	c->out_end += TLS_RECORD_HEADER + body;
	out_publish(c);
	return 0;
}

static size_t record_overhead(const tls_conn *c)
{
	return TLS_RECORD_HEADER + (c->wr_on ? tls_aead_overhead(c->wr.kind) : 0);
}

int tls_emit_record(tls_conn *c, uint8_t type, const uint8_t *p, size_t n)
{
	size_t frag = c->max_fragment ? c->max_fragment : TLS_MAX_PLAINTEXT;
	size_t nrec = n == 0 ? 1 : (n + frag - 1) / frag;
	if (out_reserve(c, n + nrec * record_overhead(c)) < 0)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				"out of memory for outgoing records");
	do {
		size_t chunk = n < frag ? n : frag;
		if (seal_one(c, type, p, chunk) < 0)
			return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
					"record protection failed");
		p += chunk;
		n -= chunk;
	} while (n > 0);
	return 0;
}

/* Alerts are only ever written here, on the write side (see tls_fail). */
static void emit_alert(tls_conn *c, uint8_t level, uint8_t desc)
{
	const uint8_t a[2] = {level, desc};
	if (out_reserve(c, 2 + record_overhead(c)) == 0)
		seal_one(c, TLS_CT_ALERT, a, 2);
}

static void flush_pending_alerts(tls_conn *c)
{
	if (__atomic_exchange_n(&c->alert_pending, false, __ATOMIC_ACQ_REL)) {
		emit_alert(c, TLS_ALERT_LEVEL_FATAL, c->alert);
		TLS_PUBLISH(c->close_queued, true); /* nothing may follow a fatal alert */
		return;
	}
	if (c->err)
		return;
	uint8_t warn = __atomic_exchange_n(&c->warn_pending, 0xff, __ATOMIC_ACQ_REL);
	if (warn != 0xff)
		emit_alert(c, TLS_ALERT_LEVEL_WARNING, warn);
	if (c->close_wanted && !c->close_queued) {
		emit_alert(c, TLS_ALERT_LEVEL_WARNING, TLS_ALERT_CLOSE_NOTIFY);
		TLS_PUBLISH(c->close_queued, true);
	}
}

/* Drained after the handshake: give the output buffer back (it only ever
 * held public handshake records and ciphertext, so it is not wiped). A
 * client's last flight drains before it is established, so sendbuf asks
 * too. */
static void out_release(tls_conn *c)
{
	if (c->out_start != c->out_end)
		return;
	c->out_start = c->out_end = 0;
	if (!c->established || !c->out)
		return;
	if (c->out_cap == TLS_OUT_CAP)
		cache_put(&cached_out, c->out);
	else
		free(c->out);
	c->out = NULL;
	c->out_cap = 0;
}

const uint8_t *tls_conn_sendbuf(tls_conn *c, size_t *len)
{
	if (!c->started && c->role == TLS_ROLE_CLIENT && !c->err)
		tls_hs_client_start(c);
	flush_pending_alerts(c);
	*len = c->out_end - c->out_start;
	if (*len == 0 && c->out && c->established) {
		out_release(c);
		out_publish(c);
	}
	return *len ? c->out + c->out_start : NULL;
}

void tls_conn_send_done(tls_conn *c, size_t n)
{
	size_t queued = c->out_end - c->out_start;
	c->out_start += n < queued ? n : queued;
	out_release(c);
	out_publish(c);
}

size_t tls_conn_write(tls_conn *c, const void *buf, size_t n)
{
	if (!c->established || c->err || c->close_wanted)
		return 0;
	if (out_take(c) < 0) {
		tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
			 "out of memory for outgoing records");
		return 0;
	}
	const uint8_t *p = buf;
	size_t taken = 0, ovh = record_overhead(c);
	while (taken < n) {
		size_t chunk = n - taken;
		if (chunk > TLS_MAX_PLAINTEXT)
			chunk = TLS_MAX_PLAINTEXT;
		if (c->out_start == c->out_end)
			c->out_start = c->out_end = 0;
		if (c->out_cap - c->out_end < chunk + ovh && c->out_start > 0) {
			memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
			c->out_end -= c->out_start;
			c->out_start = 0;
		}
		size_t room = c->out_cap - c->out_end;
		if (room < chunk + ovh) {
			/* Seal what fits rather than nothing, but never
			 * fragment a write into tiny records. */
			if (room < ovh + 1024 || room - ovh < chunk / 2)
				break;
			chunk = room - ovh;
		}
		if (seal_one(c, TLS_CT_APPLICATION_DATA, p + taken, chunk) < 0) {
			tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR,
				 "record protection failed");
			break;
		}
		taken += chunk;
	}
	return taken;
}

void tls_conn_close(tls_conn *c)
{
	TLS_PUBLISH(c->close_wanted, true);
}

/* ---- input ------------------------------------------------------------- */

uint8_t *tls_conn_recvbuf(tls_conn *c, size_t *room)
{
	*room = 0;
	if (c->err || c->peer_closed || in_take(c) < 0)
		return NULL;
	size_t avail = c->in_end - c->in_start;
	size_t record = TLS_RECORD_HEADER + TLS_MAX_CIPHERTEXT;
	if (avail >= TLS_RECORD_HEADER)
		record = TLS_RECORD_HEADER +
			 ((size_t)c->in[c->in_start + 3] << 8 | c->in[c->in_start + 4]);
	if (c->plain_len == 0 && c->in_start > 0 &&
	    (avail == 0 || c->in_cap - c->in_start < record)) {
		/* Nothing before in_start is needed any more, and the record
		 * being received would not fit behind it. What lay beyond
		 * the new end stays dirty until in_release wipes it. */
		if (c->in_end > c->in_dirty)
			c->in_dirty = c->in_end;
		memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
		c->in_end -= c->in_start;
		c->in_start = 0;
	}
	*room = c->in_cap - c->in_end;
	return *room ? c->in + c->in_end : NULL;
}

static int on_alert(tls_conn *c, const uint8_t *p, size_t n)
{
	/* We do not reassemble alerts split over records; no stack sends them. */
	if (n != 2)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_DECODE_ERROR,
				"malformed alert record (%zu bytes)", n);
	uint8_t level = p[0], desc = p[1];
	/* Before the handshake completes, any alert ends it: nothing can
	 * follow a close_notify (RFC 5246 §7.2.1), and a peer that warns
	 * mid-handshake (user_canceled, no_renegotiation, ...) is not going
	 * to finish it. Waiting for more would wait for nothing. */
	bool handshaking = !c->established;
	/* The level is judged first: a close_notify at an unknown level is
	 * malformed, and one at fatal level is a fatal alert, never a clean
	 * end of the stream (OpenSSL does the same). */
	if (level != TLS_ALERT_LEVEL_WARNING && level != TLS_ALERT_LEVEL_FATAL)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_ILLEGAL_PARAMETER,
				"alert with unknown level %u", level);
	if (desc == TLS_ALERT_CLOSE_NOTIFY && level == TLS_ALERT_LEVEL_WARNING) {
		if (handshaking)
			return tls_fail(c, TLS_ERR_PEER_ALERT, desc,
					"peer sent close_notify during the handshake");
		TLS_PUBLISH(c->peer_closed, true);
		return 0;
	}
	if (level == TLS_ALERT_LEVEL_FATAL)
		return tls_fail(c, TLS_ERR_PEER_ALERT, desc, "peer sent fatal alert %s (%u)",
				tls_alert_name(desc), desc);
	/* The one warning servers really send mid-handshake: unrecognized_name
	 * after an SNI they do not know (old Apache mod_ssl, Java). RFC 6066
	 * §3 discourages it; OpenSSL and GnuTLS clients carry on, and so do
	 * we (the certificate check still decides), within the bound below. */
	bool sni_warning = c->role == TLS_ROLE_CLIENT && desc == TLS_ALERT_UNRECOGNIZED_NAME;
	if (handshaking && !sni_warning)
		return tls_fail(c, TLS_ERR_PEER_ALERT, desc,
				"peer sent warning alert %s (%u) during the handshake",
				tls_alert_name(desc), desc);
	/* Warnings (no_renegotiation, user_canceled, ...) carry no state in
	 * TLS 1.2 and are ignored, within the empty-record bound. */
	if (++c->empty_records > MAX_EMPTY_RECORDS)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
				"too many warning alerts");
	return 0;
}

/* After the handshake the only handshake messages a peer may send are
 * renegotiation requests; we refuse them with a warning (RFC 5746 §4.2,
 * RFC 5246 §7.2.2) and skip their bodies without buffering them. */
static int on_post_handshake(tls_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (c->post_skip > 0) {
			size_t k = n < c->post_skip ? n : c->post_skip;
			c->post_skip -= (uint32_t)k;
			p += k;
			n -= k;
			continue;
		}
		c->post_hdr[c->post_hdr_len++] = *p++;
		n--;
		if (c->post_hdr_len < TLS_HS_HEADER)
			continue;
		c->post_hdr_len = 0;
		uint8_t type = c->post_hdr[0];
		uint32_t len =
			(uint32_t)c->post_hdr[1] << 16 | c->post_hdr[2] << 8 | c->post_hdr[3];
		bool reneg =
			(c->role == TLS_ROLE_CLIENT && type == TLS_HT_HELLO_REQUEST && len == 0) ||
			(c->role == TLS_ROLE_SERVER && type == TLS_HT_CLIENT_HELLO &&
			 len <= TLS_MAX_CLIENT_HELLO);
		if (!reneg)
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
					"unexpected handshake message %u after the handshake",
					type);
		if (++c->empty_records > MAX_EMPTY_RECORDS)
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
					"too many renegotiation attempts");
		c->post_skip = len;
		__atomic_store_n(&c->warn_pending, TLS_ALERT_NO_RENEGOTIATION, __ATOMIC_RELEASE);
	}
	return 0;
}

/* Room for a message of ${need} bytes (header included), made when its
 * header arrives; ${need} is bounded by the message's type
 * (tls_hs_on_header), so one allocation per message at most, and none
 * while a buffer that is large enough can be reused. */
static int msg_reserve(tls_conn *c, size_t need)
{
	tls_hs *hs = c->hs;
	if (hs->msg_cap >= need)
		return 0;
	if (hs->msg) {
		sodium_memzero(hs->msg, hs->msg_cap);
		free(hs->msg);
	}
	hs->msg = malloc(need);
	hs->msg_cap = hs->msg ? need : 0;
	if (!hs->msg)
		return tls_fail(c, TLS_ERR_INTERNAL, TLS_ALERT_INTERNAL_ERROR, "out of memory");
	c->reasm_allocs++;
	return 0;
}

/* Handshake messages may be split across records and several may share one
 * (RFC 5246 §6.2.1). A message that lies whole in the record is handed over
 * where it lies; a split one is gathered into hs->msg, each byte copied
 * once. Its header is judged (type expected next, length within the type's
 * bound) before any of its body is taken. */
static int on_handshake_bytes(tls_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0 && c->hs) {
		tls_hs *hs = c->hs;
		if (hs->hdr_len < TLS_HS_HEADER) {
			const uint8_t *start = p;
			bool here = hs->hdr_len == 0; /* the whole header is at start */
			size_t k = TLS_HS_HEADER - hs->hdr_len;
			if (k > n)
				k = n;
			memcpy(hs->hdr + hs->hdr_len, p, k);
			hs->hdr_len += (uint8_t)k;
			p += k;
			n -= k;
			if (hs->hdr_len < TLS_HS_HEADER)
				return 0;
			size_t len =
				(size_t)hs->hdr[1] << 16 | (size_t)hs->hdr[2] << 8 | hs->hdr[3];
			TRY(tls_hs_on_header(c, hs->hdr[0], len));
			if (here && n >= len) {
				hs->hdr_len = 0;
				TRY(tls_hs_on_message(c, start[0], start, TLS_HS_HEADER + len));
				p += len;
				n -= len;
				if (c->established)
					tls_hs_free(c);
				continue;
			}
			TRY(msg_reserve(c, TLS_HS_HEADER + len));
			memcpy(hs->msg, hs->hdr, TLS_HS_HEADER);
			hs->msg_len = TLS_HS_HEADER;
			hs->msg_need = TLS_HS_HEADER + len;
			c->reasm_copied += TLS_HS_HEADER;
		}
		size_t k = hs->msg_need - hs->msg_len;
		if (k > n)
			k = n;
		memcpy(hs->msg + hs->msg_len, p, k);
		hs->msg_len += k;
		c->reasm_copied += k;
		p += k;
		n -= k;
		if (hs->msg_len < hs->msg_need)
			return 0;
		hs->hdr_len = 0;
		TRY(tls_hs_on_message(c, hs->msg[0], hs->msg, hs->msg_need));
		if (c->established)
			tls_hs_free(c);
	}
	/* After the final Finished (or the handshake): renegotiation only. */
	return n > 0 ? on_post_handshake(c, p, n) : 0;
}

/* Whether a handshake message has begun and not ended. No record of
 * another type may come between its fragments: RFC 8446 §5.1 says so, and
 * we hold TLS 1.2 peers to it (issue 8). RFC 5246 §6.2.1 lets content
 * types interleave, but here that buys a peer nothing: application data
 * is refused before the first Finished anyway, a ChangeCipherSpec would
 * change keys in the middle of a message, and after the handshake the
 * only message is a renegotiation request, which we refuse. */
static bool mid_message(const tls_conn *c)
{
	if (c->hs)
		return c->hs->hdr_len > 0;
	return c->post_hdr_len > 0 || c->post_skip > 0;
}

/* Process whole records from [in_start, in_end) until one yields
 * application plaintext (which must be read before we go on), the input
 * runs out, or the connection fails. */
static int process_records_now(tls_conn *c)
{
	while (!c->err && c->plain_len == 0 && !c->peer_closed) {
		size_t avail = c->in_end - c->in_start;
		if (avail < TLS_RECORD_HEADER)
			break;
		uint8_t *h = c->in + c->in_start;
		uint8_t type = h[0];
		size_t len = (size_t)h[3] << 8 | h[4];
		/* Judge the header before the body arrives, so a plaintext
		 * peer is refused at once rather than after 16 KiB. */
		if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > TLS_CT_APPLICATION_DATA)
			return tls_fail_r(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
					  TLS_R_PLAINTEXT_PEER,
					  "received a non-TLS record (type %u): is the peer "
					  "speaking plaintext?",
					  type);
		if (h[1] != 3 || (c->suite && h[2] != 3))
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_PROTOCOL_VERSION,
					"record version %u.%u is not TLS 1.2", h[1], h[2]);
		if (len > (c->rd_on ? TLS_MAX_CIPHERTEXT : TLS_MAX_PLAINTEXT))
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_RECORD_OVERFLOW,
					"record of %zu bytes exceeds the limit", len);
		if (avail < TLS_RECORD_HEADER + len)
			break;
		c->in_start += TLS_RECORD_HEADER + len;

		uint8_t *body = h + TLS_RECORD_HEADER;
		size_t n = len;
		if (c->rd_on) {
			size_t off;
			long got = tls_aead_open(&c->rd, type, body, len, &off);
			if (got < 0)
				return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_BAD_RECORD_MAC,
						"record authentication failed (bad_record_mac): "
						"data modified in transit or keys differ");
			if ((size_t)got > TLS_MAX_PLAINTEXT)
				return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_RECORD_OVERFLOW,
						"record plaintext exceeds 2^14 bytes");
			body += off;
			n = (size_t)got;
		}

		if (type != TLS_CT_HANDSHAKE && mid_message(c)) {
			const char *what = type == TLS_CT_APPLICATION_DATA     ? "application data"
					   : type == TLS_CT_CHANGE_CIPHER_SPEC ? "ChangeCipherSpec"
					   : n == 2 ? tls_alert_name(body[1])
						    : "malformed";
			return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
					"%s%s in the middle of a fragmented handshake message",
					what, type == TLS_CT_ALERT ? " alert" : "");
		}

		switch (type) {
		case TLS_CT_APPLICATION_DATA:
			if (!c->established)
				return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
						"application data before the handshake finished");
			if (n == 0) {
				if (++c->empty_records > MAX_EMPTY_RECORDS)
					return tls_fail(c, TLS_ERR_PROTOCOL,
							TLS_ALERT_UNEXPECTED_MESSAGE,
							"too many empty records");
				break;
			}
			c->empty_records = 0;
			c->plain_off = (size_t)(body - c->in);
			TLS_PUBLISH(c->plain_len, n); /* after the bytes it announces */
			break;
		case TLS_CT_HANDSHAKE:
			if (n == 0)
				return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
						"empty handshake record");
			if (on_handshake_bytes(c, body, n) < 0)
				return -1;
			break;
		case TLS_CT_CHANGE_CIPHER_SPEC:
			/* RFC 5246 §7.1: one byte of value 1. Anything else is
			 * unexpected_message, as OpenSSL answers it. */
			if (n != 1 || body[0] != 1)
				return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
						"malformed ChangeCipherSpec (%zu bytes)", n);
			if (!c->hs)
				return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
						"unexpected ChangeCipherSpec");
			if (tls_hs_on_ccs(c) < 0)
				return -1;
			break;
		case TLS_CT_ALERT:
			if (on_alert(c, body, n) < 0)
				return -1;
			break;
		}
	}
	return c->err ? -1 : 0;
}

static int process_records(tls_conn *c)
{
	int r = process_records_now(c);
	in_release(c);
	return r;
}

int tls_conn_recv_done(tls_conn *c, size_t n)
{
	if (c->err)
		return -1;
	if (n > c->in_cap - c->in_end)
		n = c->in_cap - c->in_end;
	c->in_end += n;
	if (!c->started && c->role == TLS_ROLE_CLIENT)
		return tls_fail(c, TLS_ERR_PROTOCOL, TLS_ALERT_UNEXPECTED_MESSAGE,
				"peer spoke before our ClientHello");
	return process_records(c);
}

void tls_conn_eof(tls_conn *c)
{
	if (c->peer_closed || c->err)
		return;
	if (!c->established)
		tls_fail(c, TLS_ERR_TRUNCATED, 0,
			 "peer closed the connection during the handshake");
	else
		tls_fail(c, TLS_ERR_TRUNCATED, 0,
			 "connection closed by peer without close_notify (truncation)");
}

size_t tls_conn_read(tls_conn *c, void *buf, size_t n)
{
	size_t k = n < c->plain_len ? n : c->plain_len;
	if (k == 0)
		return 0;
	memcpy(buf, c->in + c->plain_off, k);
	c->plain_off += k;
	TLS_PUBLISH(c->plain_len, c->plain_len - k);
	if (c->plain_len == 0)
		process_records(c); /* records already buffered behind this one */
	return k;
}

const uint8_t *tls_conn_peek(const tls_conn *c, size_t *len)
{
	*len = c->plain_len;
	return c->plain_len ? c->in + c->plain_off : NULL;
}

size_t tls_conn_readable(const tls_conn *c)
{
	return TLS_OBSERVE(c->plain_len); /* any thread (tls.h) */
}
