/*
 * test_alert.c: tls_alert_name knows every alert of consts.h by its
 * RFC 5246 §7.2 name and nothing else.
 */
#include <string.h>

#include "check.h"
#include "consts.h"
#include "tls.h"

int main(void)
{
	static const struct {
		uint8_t alert;
		const char *name;
	} known[] = {
		{TLS_ALERT_CLOSE_NOTIFY, "close_notify"},
		{TLS_ALERT_UNEXPECTED_MESSAGE, "unexpected_message"},
		{TLS_ALERT_BAD_RECORD_MAC, "bad_record_mac"},
		{TLS_ALERT_RECORD_OVERFLOW, "record_overflow"},
		{TLS_ALERT_HANDSHAKE_FAILURE, "handshake_failure"},
		{TLS_ALERT_BAD_CERTIFICATE, "bad_certificate"},
		{TLS_ALERT_UNSUPPORTED_CERTIFICATE, "unsupported_certificate"},
		{TLS_ALERT_CERTIFICATE_REVOKED, "certificate_revoked"},
		{TLS_ALERT_CERTIFICATE_EXPIRED, "certificate_expired"},
		{TLS_ALERT_CERTIFICATE_UNKNOWN, "certificate_unknown"},
		{TLS_ALERT_ILLEGAL_PARAMETER, "illegal_parameter"},
		{TLS_ALERT_UNKNOWN_CA, "unknown_ca"},
		{TLS_ALERT_ACCESS_DENIED, "access_denied"},
		{TLS_ALERT_DECODE_ERROR, "decode_error"},
		{TLS_ALERT_DECRYPT_ERROR, "decrypt_error"},
		{TLS_ALERT_PROTOCOL_VERSION, "protocol_version"},
		{TLS_ALERT_INSUFFICIENT_SECURITY, "insufficient_security"},
		{TLS_ALERT_INTERNAL_ERROR, "internal_error"},
		{TLS_ALERT_INAPPROPRIATE_FALLBACK, "inappropriate_fallback"},
		{TLS_ALERT_USER_CANCELED, "user_canceled"},
		{TLS_ALERT_NO_RENEGOTIATION, "no_renegotiation"},
		{TLS_ALERT_UNSUPPORTED_EXTENSION, "unsupported_extension"},
		{TLS_ALERT_CERTIFICATE_REQUIRED, "certificate_required"},
		{TLS_ALERT_NO_APPLICATION_PROTOCOL, "no_application_protocol"},
	};
	size_t nknown = sizeof(known) / sizeof(known[0]);
	int unknown = 0;

	for (size_t i = 0; i < nknown; i++)
		CHECK(strcmp(tls_alert_name(known[i].alert), known[i].name) == 0);
	/* Every other byte value is "unknown". */
	for (unsigned a = 0; a < 256; a++) {
		bool listed = false;

		for (size_t i = 0; i < nknown; i++)
			listed = listed || known[i].alert == a;
		if (!listed && strcmp(tls_alert_name((uint8_t)a), "unknown") == 0)
			unknown++;
	}
	CHECK_EQ(unknown, 256 - (int)nknown);
	return check_exit("unit/alert");
}
