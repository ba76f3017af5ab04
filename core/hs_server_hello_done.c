/*
 * hs_server_hello_done.c: ServerHelloDone (RFC 5246 §7.4.5), an empty body.
 */
#include "handshake.h"

int tls_hs_server_hello_done_write(tls_conn *c, tls_wbuf *w)
{
	return 0;
}

int tls_hs_server_hello_done_read(tls_conn *c, tls_cur *body)
{
	ENSURE(tls_cur_done(body), c, TLS_ALERT_DECODE_ERROR,
	       "ServerHelloDone from the server is not empty (%zu bytes)", tls_cur_remaining(body));
	return 0;
}
