/*
 * shimtest.h: the harness of the `shim` tests: small programs that run
 * UNDER libtlshim.so, as an unmodified program would, and check what
 * INTERFACE.md "What the program sees" promises.
 *
 * How a test runs (run.sh starts it with TLSHIM_LIBRARY, SHIMTEST_CERTS and
 * SHIMTEST_DIR set):
 * 1. main() calls shimtest_start(argv, nports, policy). In this first,
 *    unwrapped run it binds ${nports} loopback listeners (kernel-chosen
 *    ports, held from then on, so parallel tests never collide), writes
 *    ${policy} with their port numbers into a fresh directory, and re-execs
 *    the program with LD_PRELOAD=$TLSHIM_LIBRARY and TLSHIM_CONFIG set.
 *    The listeners survive the exec.
 * 2. In the wrapped run shimtest_start returns; everything the test does
 *    from then on goes through the shim.
 *
 * Peers that must NOT be wrapped (a plaintext listener that records what a
 * wrapped client sends, a relay that tampers with records) live in the same
 * process on sockets the policy does not match: a client rule on port P
 * with no server rule on P leaves the test's own listener on P untouched,
 * and a connect() to a server-rule port with no client rule is plain TCP.
 *
 * Policy templates: "@CERTS@" becomes the certificate directory (made by
 * tests/interop/mkcerts.sh), "@Pn@" the port of listener n (0 <= n < 16).
 */
#ifndef TLSHIM_TESTS_SHIMTEST_H
#define TLSHIM_TESTS_SHIMTEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"

#define SHIMTEST_MAX_PORTS 16

/* Application bytes the tests send and then look for on the wire. */
#define SHIMTEST_MARKER "SHIMTEST-APPLICATION-MARKER-7c1e"

/* shimtest_start(argv, nports, policy): see above. Returns only in the
 * wrapped run (with an alarm armed so a hang ends the test). Exits 1 on a
 * harness failure. */
void shimtest_start(char **argv, int nports, const char *policy);

/* shimtest_listener(i) / shimtest_port(i): listener ${i}'s socket and port. */
int shimtest_listener(int i);
uint16_t shimtest_port(int i);

/* shimtest_certs(): the certificate directory; shimtest_library(): the
 * path of libtlshim.so. */
const char *shimtest_certs(void);
const char *shimtest_library(void);

/* shimtest_preload(): the LD_PRELOAD value that loads the library:
 * shimtest_library(), after the sanitizer runtime run.sh names in
 * SHIMTEST_SANITIZER_RUNTIME (a sanitizer build: the runtime must come
 * first, in test programs and in the other programs a test runs). */
const char *shimtest_preload(void);

/* shimtest_connect(port, type_flags, err): a TCP socket (socket(2) type
 * flags such as SOCK_NONBLOCK) connected to 127.0.0.1:${port}. Stores 0 or
 * connect()'s errno in ${*err}; the socket is returned either way. */
int shimtest_connect(uint16_t port, int type_flags, int *err);

/* shimtest_accept(i): accept one connection on listener ${i}, waiting at
 * most 15 s; -1 on timeout or error. */
int shimtest_accept(int i);

/* shimtest_write_all(fd, buf, n): write until ${n} bytes went; false (errno
 * kept) on an error. Blocking sockets only. */
bool shimtest_write_all(int fd, const void *buf, size_t n);

/* shimtest_read_full(fd, buf, n, last): read until ${n} bytes, end of file
 * or an error; returns the bytes read. ${*last} (may be NULL) gets the
 * return value of the final read (0, or -1 with errno intact). */
size_t shimtest_read_full(int fd, void *buf, size_t n, ssize_t *last);

/* shimtest_check_tls(fd, app_bytes, what): CHECK that the kernel received
 * clearly more than the ${app_bytes} of plaintext the program read from
 * ${fd} (TCP_INFO tcpi_bytes_received): records and a handshake went over
 * the wire, so this really was TLS and not plain TCP (a policy that failed
 * to match would otherwise pass every data test). */
void shimtest_check_tls(int fd, uint64_t app_bytes, const char *what);

/* shimtest_pattern(buf, off, n, seed): the bytes [off, off+n) of an
 * aperiodic stream named by ${seed} (a lost, repeated or swapped chunk
 * shows up as a mismatch). shimtest_pattern_check returns the offset of the
 * first wrong byte, or -1 when all match. */
void shimtest_pattern(uint8_t *buf, size_t off, size_t n, uint32_t seed);
long shimtest_pattern_check(const uint8_t *buf, size_t off, size_t n, uint32_t seed);

/* shimtest_now_ms(): CLOCK_MONOTONIC in milliseconds. */
int64_t shimtest_now_ms(void);

/* shimtest_sleep_ms(ms): sleep, resuming after signals. */
void shimtest_sleep_ms(int ms);

/* shimtest_thread(fn, arg): start a thread (aborts on failure). */
pthread_t shimtest_thread(void *(*fn)(void *), void *arg);

/* shimtest_child_policy(policy): the harness removed its policy file once
 * the library had read it; programs a test execs load tlshim again and need
 * one (fail closed otherwise). Writes "[global] log = warn" and the template
 * ${policy} (as for shimtest_start; "": no rules) where TLSHIM_CONFIG says,
 * or with ${policy} NULL removes that file again (call it before the test
 * ends). CHECKs that it could. */
void shimtest_child_policy(const char *policy);

/* shimtest_raise_nofile(need, what): raise the soft RLIMIT_NOFILE to at
 * least ${need}; false (told on stderr with ${what}) when the hard limit
 * is lower (the test should then exit 77, skipped). */
bool shimtest_raise_nofile(unsigned long need, const char *what);

/* shimtest_pairs(n, clients, servers): ${n} established TLS connections to
 * listener 0 (a client and a server rule on its port), handshakes done:
 * ${clients}[i] connected, ${servers}[i] the accepted end, idle (the byte
 * each client sent to drive the handshake has been read). */
void shimtest_pairs(int n, int *clients, int *servers);

/* shimtest_debug_line(log_file, pid, what, out, outlen): the rest of the
 * last line "tlshim[${pid}]: debug: ${what}: ..." in ${log_file} (a
 * log_file the policy named, relative to the policy's directory), copied
 * into ${out}; false when there is none. */
bool shimtest_debug_line(const char *log_file, pid_t pid, const char *what, char *out,
			 size_t outlen);

/* shimtest_fork(fn, arg): run fn(arg) in a child process (still under the
 * shim); the child exits 0 when its CHECKs all passed, 1 otherwise.
 * shimtest_wait(pid): its exit status (128+signal when killed). */
pid_t shimtest_fork(void (*fn)(void *), void *arg);
int shimtest_wait(pid_t pid);

/* A growing byte buffer (what a peer saw on the wire). */
typedef struct shimtest_buf {
	uint8_t *p;
	size_t len, cap;
} shimtest_buf;

void shimtest_buf_add(shimtest_buf *b, const void *p, size_t n);
void shimtest_buf_free(shimtest_buf *b);

/* shimtest_contains(b, s): the string ${s} occurs in ${b}. */
bool shimtest_contains(const shimtest_buf *b, const char *s);

/* shimtest_records(b, types, max, tail): split ${b} into TLS records
 * (5-byte header, RFC 5246 6.2.1) and store up to ${max} content types in
 * ${types}. Returns the record count, or -1 when ${b} is not a well-formed
 * record stream (bad type or version, or length > 2^14 + 2048). ${*tail}
 * (may be NULL) gets the bytes left after the last complete record. */
int shimtest_records(const shimtest_buf *b, uint8_t *types, int max, size_t *tail);

/* shimtest_count_type(b, type): records of content ${type} in ${b}
 * (-1 when not a record stream). */
int shimtest_count_type(const shimtest_buf *b, uint8_t type);

/* A plaintext peer on a client-rule port: accepts one connection, sends
 * ${greeting} (NULL: nothing, a silent peer), then records every byte
 * until end of file (or 15 s), and closes. */
typedef struct shimtest_sink {
	int listen_fd;
	const char *greeting;
	shimtest_buf got;
	bool accepted;
	pthread_t thread;
} shimtest_sink;

void shimtest_sink_start(shimtest_sink *k, int listen_fd, const char *greeting);
void shimtest_sink_join(shimtest_sink *k);

/* A relay between a wrapped client (connecting to ${listen_fd}'s port, a
 * client rule with no server rule) and a wrapped server on ${to_port} (a
 * server rule with no client rule). It forwards whole TLS records and
 * records what each side sent: wire[SHIMTEST_C2S] from the client,
 * wire[SHIMTEST_S2C] from the server (before any tampering).
 * tamper: flip one bit in the first application_data record going in that
 * direction (-1: none). truncate: after forwarding the first
 * application_data record from the server, drop the rest of that
 * direction and send the client a bare TCP FIN (no close_notify). */
enum { SHIMTEST_C2S = 0, SHIMTEST_S2C = 1 };

typedef struct shimtest_relay {
	int listen_fd;
	uint16_t to_port;
	int tamper;
	bool truncate;
	shimtest_buf wire[2];
	bool tampered; /* the bit was flipped */
	pthread_t thread;
} shimtest_relay;

void shimtest_relay_start(shimtest_relay *r, int listen_fd, uint16_t to_port, int tamper,
			  bool truncate);
void shimtest_relay_join(shimtest_relay *r);

/* An echo peer in a process of its own (under the shim, so a server rule
 * on its listener makes it a TLS server): it accepts ${nconns} connections
 * on listener ${listener}, one after the other or, with ${concurrent}, each
 * in its own thread (all may be open at once), echoes every byte back until
 * end of file, and then reports how each connection ended, in the order
 * they ended, on a pipe the test reads with shimtest_echo_expect. */
typedef struct shimtest_echo {
	pid_t pid;
	int report; /* the pipe's read end (the write end is the peer's alone) */
} shimtest_echo;

/* shimtest_echo_start(e, listener, nconns, concurrent): start the peer. */
void shimtest_echo_start(shimtest_echo *e, int listener, int nconns, bool concurrent);

/* shimtest_echo_expect(e, end, bytes, what): CHECK that the next connection
 * to end ended with ${end} ('C': end of file, after close_notify on TLS;
 * 'R': an error, a reset or a truncation; 'A': it was never accepted),
 * after ${bytes} echoed bytes (-1: any number), waiting at most 15 s;
 * a mismatch is also told on stderr with ${what}. */
void shimtest_echo_expect(shimtest_echo *e, char end, long bytes, const char *what);

/* The peer keeps the first SHIMTEST_ECHO_HEAD bytes each connection carried. */
#define SHIMTEST_ECHO_HEAD 63

/* shimtest_echo_expect_head(e, end, bytes, head, what): shimtest_echo_expect,
 * and CHECK that the connection's bytes began with the string ${head}
 * (NULL: anything; at most SHIMTEST_ECHO_HEAD characters are compared). */
void shimtest_echo_expect_head(shimtest_echo *e, char end, long bytes, const char *head,
			       const char *what);

/* shimtest_echo_wait(e): wait for the peer process; its exit status
 * (shimtest_wait: 0 when all its CHECKs passed). */
int shimtest_echo_wait(shimtest_echo *e);

/* shimtest_echoes(fd, msg): send the string ${msg} on ${fd} and read as
 * many bytes back; true when they are ${msg} (at most 256 bytes). */
bool shimtest_echoes(int fd, const char *msg);

/* shimtest_echo_connect(port): a blocking TCP socket connected to
 * 127.0.0.1:${port}, CHECKed to connect and to echo "first". */
int shimtest_echo_connect(uint16_t port);

#endif
