/*
 * consts.h: TLS 1.2 wire constants (RFC 5246 and the extension RFCs).
 * Only numbers live here; tables that give them meaning are in suites.c.
 */
#ifndef TLSHIM_CORE_CONSTS_H
#define TLSHIM_CORE_CONSTS_H

#define TLS_VERSION_1_0 0x0301
#define TLS_VERSION_1_2 0x0303
#define TLS_VERSION_1_3 0x0304 /* RFC 8446 §4.2.1; only named, not spoken, yet */

/* RFC 5246 §6.2.1: plaintext fragments are at most 2^14 bytes. */
#define TLS_MAX_PLAINTEXT 16384u
/* Our AEAD suites add at most 8 (explicit nonce) + 16 (tag) bytes; anything
 * beyond this is record_overflow (RFC 5246 §6.2.3 allows us to be strict
 * because no compression is ever negotiated). */
#define TLS_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 256u)
#define TLS_RECORD_HEADER  5u
#define TLS_HS_HEADER      4u
/* Largest Certificate message we send or accept (its grammar allows 2^24
 * bytes; chains that large are not real); also the unit of the bounds on a
 * handshake's flight and transcript. */
#define TLS_MAX_HS_MESSAGE (128u * 1024u)

/* The largest body the grammar of each other handshake message allows
 * (RFC 5246 §7.4, RFC 8422 §5.4, RFC 5077 §3.3). A message is refused from
 * its 4-byte header when longer, so reassembly buffers are bounded per type
 * (DESIGN.md invariant 5) while every legal message still fits: a
 * ClientHello may carry 2^16 - 1 bytes of extensions.
 * ClientHello: version, random, session_id, cipher_suites,
 * compression_methods, extensions (131,396 bytes). */
#define TLS_MAX_CLIENT_HELLO (2u + 32u + 1u + 32u + 2u + 65534u + 1u + 255u + 2u + 65535u)
#define TLS_MAX_SERVER_HELLO (2u + 32u + 1u + 32u + 2u + 1u + 2u + 65535u)
/* ECDHE ServerECDHParams (named curve, point <1..2^8-1>), then
 * SignatureAndHashAlgorithm and signature <0..2^16-1>. */
#define TLS_MAX_SERVER_KEY_EXCHANGE (1u + 2u + 1u + 255u + 2u + 2u + 65535u)
/* certificate_types <1..2^8-1>, supported_signature_algorithms
 * <2..2^16-2>, certificate_authorities <0..2^16-1>. */
#define TLS_MAX_CERTIFICATE_REQUEST (1u + 255u + 2u + 65534u + 2u + 65535u)
#define TLS_MAX_SERVER_HELLO_DONE   0u
/* SignatureAndHashAlgorithm, signature <0..2^16-1>. */
#define TLS_MAX_CERTIFICATE_VERIFY (2u + 2u + 65535u)
/* EncryptedPreMasterSecret <0..2^16-1> (an ECDHE point is smaller). */
#define TLS_MAX_CLIENT_KEY_EXCHANGE (2u + 65535u)
/* ticket_lifetime_hint, ticket <0..2^16-1>. */
#define TLS_MAX_NEW_SESSION_TICKET (4u + 2u + 65535u)

/* RFC 5246 §6.2.1 ContentType */
enum {
	TLS_CT_CHANGE_CIPHER_SPEC = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPLICATION_DATA = 23,
};

/* RFC 5246 §7.4 HandshakeType, RFC 5077 §3.3 */
enum {
	TLS_HT_HELLO_REQUEST = 0,
	TLS_HT_CLIENT_HELLO = 1,
	TLS_HT_SERVER_HELLO = 2,
	TLS_HT_NEW_SESSION_TICKET = 4,
	TLS_HT_CERTIFICATE = 11,
	TLS_HT_SERVER_KEY_EXCHANGE = 12,
	TLS_HT_CERTIFICATE_REQUEST = 13,
	TLS_HT_SERVER_HELLO_DONE = 14,
	TLS_HT_CERTIFICATE_VERIFY = 15,
	TLS_HT_CLIENT_KEY_EXCHANGE = 16,
	TLS_HT_FINISHED = 20,
};

/* RFC 5246 §7.2 AlertLevel / AlertDescription */
enum {
	TLS_ALERT_LEVEL_WARNING = 1,
	TLS_ALERT_LEVEL_FATAL = 2,
};
enum {
	TLS_ALERT_CLOSE_NOTIFY = 0,
	TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS_ALERT_BAD_RECORD_MAC = 20,
	TLS_ALERT_RECORD_OVERFLOW = 22,
	TLS_ALERT_HANDSHAKE_FAILURE = 40,
	TLS_ALERT_BAD_CERTIFICATE = 42,
	TLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
	TLS_ALERT_CERTIFICATE_REVOKED = 44,
	TLS_ALERT_CERTIFICATE_EXPIRED = 45,
	TLS_ALERT_CERTIFICATE_UNKNOWN = 46,
	TLS_ALERT_ILLEGAL_PARAMETER = 47,
	TLS_ALERT_UNKNOWN_CA = 48,
	TLS_ALERT_ACCESS_DENIED = 49,
	TLS_ALERT_DECODE_ERROR = 50,
	TLS_ALERT_DECRYPT_ERROR = 51,
	TLS_ALERT_PROTOCOL_VERSION = 70,
	TLS_ALERT_INSUFFICIENT_SECURITY = 71,
	TLS_ALERT_INTERNAL_ERROR = 80,
	TLS_ALERT_INAPPROPRIATE_FALLBACK = 86,
	TLS_ALERT_USER_CANCELED = 90,
	TLS_ALERT_NO_RENEGOTIATION = 100,
	TLS_ALERT_UNRECOGNIZED_NAME = 112, /* RFC 6066 §3 */
	TLS_ALERT_UNSUPPORTED_EXTENSION = 110,
	TLS_ALERT_CERTIFICATE_REQUIRED = 116,    /* RFC 8446; sent by TLS 1.3-era peers */
	TLS_ALERT_NO_APPLICATION_PROTOCOL = 120, /* RFC 7301 §3.2 */
};

/* Extension types */
enum {
	TLS_EXT_SERVER_NAME = 0,             /* RFC 6066 §3 */
	TLS_EXT_SUPPORTED_GROUPS = 10,       /* RFC 8422 §5.1.1 */
	TLS_EXT_EC_POINT_FORMATS = 11,       /* RFC 8422 §5.1.2 */
	TLS_EXT_SIGNATURE_ALGORITHMS = 13,   /* RFC 5246 §7.4.1.4.1 */
	TLS_EXT_ALPN = 16,                   /* RFC 7301 §3.1 */
	TLS_EXT_EXTENDED_MASTER_SECRET = 23, /* RFC 7627 */
	TLS_EXT_SESSION_TICKET = 35,         /* RFC 5077 */
	TLS_EXT_SUPPORTED_VERSIONS = 43,     /* RFC 8446 §4.2.1 */
	TLS_EXT_RENEGOTIATION_INFO = 0xff01, /* RFC 5746 */
};

/* Cipher suites (IANA); 0x13xx are TLS 1.3's (RFC 8446 §B.4) */
enum {
	TLS_AES_128_GCM_SHA256 = 0x1301,
	TLS_AES_256_GCM_SHA384 = 0x1302,
	TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
	TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c,
	TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d,
	TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff,
	TLS_FALLBACK_SCSV = 0x5600,
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f,
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030,
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8,
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9,
};

/* Named groups (RFC 8422 §5.1.1, RFC 7748) */
enum {
	TLS_GROUP_SECP256R1 = 23,
	TLS_GROUP_SECP384R1 = 24,
	TLS_GROUP_X25519 = 29,
};

/* SignatureScheme values (RFC 8446 §4.2.3, usable in TLS 1.2 per RFC 8422 / RFC 8446 §1.3) */
enum {
	TLS_SIG_RSA_PKCS1_SHA256 = 0x0401,
	TLS_SIG_RSA_PKCS1_SHA384 = 0x0501,
	TLS_SIG_RSA_PKCS1_SHA512 = 0x0601,
	TLS_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
	TLS_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
	TLS_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
	TLS_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
	TLS_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
	TLS_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
	TLS_SIG_ED25519 = 0x0807,
};

/* RFC 5246 §7.4.4 ClientCertificateType */
enum {
	TLS_CERTTYPE_RSA_SIGN = 1,
	TLS_CERTTYPE_ECDSA_SIGN = 64,
};

/* RFC 8422 §5.4 ECCurveType */
#define TLS_EC_CURVE_TYPE_NAMED 3

#define TLS_RANDOM_LEN        32
#define TLS_MASTER_SECRET_LEN 48
#define TLS_PREMASTER_RSA_LEN 48
#define TLS_FINISHED_LEN      12 /* verify_data_length of every TLS 1.2 suite */
#define TLS_MAX_SESSION_ID    32

#endif
