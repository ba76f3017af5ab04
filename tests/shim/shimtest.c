#include "shimtest.h"

#include <arpa/inet.h>
#include <libgen.h>
#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received */
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Longest a test may run before SIGALRM ends it (ctest's TIMEOUT is 60). */
#define WATCHDOG_S 50
#define WAIT_MS    15000

static int listen_fds[SHIMTEST_MAX_PORTS];
static uint16_t ports[SHIMTEST_MAX_PORTS];
static int nlisten;

static void die(const char *what)
{
	fprintf(stderr, "shimtest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *need_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		fprintf(stderr, "shimtest: %s is not set (run the test through run.sh)\n", name);
		exit(1);
	}
	return v;
}

const char *shimtest_certs(void)
{
	return need_env("SHIMTEST_CERTS");
}

const char *shimtest_library(void)
{
	return need_env("TLSHIM_LIBRARY");
}

const char *shimtest_preload(void)
{
	static char buf[8192];
	const char *rt = getenv("SHIMTEST_SANITIZER_RUNTIME");
	snprintf(buf, sizeof buf, "%s%s%s", rt && *rt ? rt : "", rt && *rt ? ":" : "",
		 shimtest_library());
	return buf;
}

int shimtest_listener(int i)
{
	if (i < 0 || i >= nlisten) {
		fprintf(stderr, "shimtest: no listener %d\n", i);
		exit(1);
	}
	return listen_fds[i];
}

uint16_t shimtest_port(int i)
{
	shimtest_listener(i);
	return ports[i];
}

static void make_listeners(int n)
{
	for (int i = 0; i < n; i++) {
		/* No SOCK_CLOEXEC: the listeners live on in the wrapped image. */
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
		    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
			die("listener");
		listen_fds[i] = fd;
		ports[i] = ntohs(a.sin_port);
	}
	nlisten = n;
}

/* Expand @CERTS@ and @Pn@ in ${tpl} into ${out}. */
static void write_policy(FILE *out, const char *tpl)
{
	const char *certs = shimtest_certs();
	for (const char *p = tpl; *p; p++) {
		if (strncmp(p, "@CERTS@", 7) == 0) {
			fputs(certs, out);
			p += 6;
			continue;
		}
		if (p[0] == '@' && p[1] == 'P') {
			char *end;
			long i = strtol(p + 2, &end, 10);
			if (end != p + 2 && *end == '@') {
				fprintf(out, "%u", (unsigned)shimtest_port((int)i));
				p = end;
				continue;
			}
		}
		fputc(*p, out);
	}
}

static void parse_listeners(const char *s)
{
	while (*s && nlisten < SHIMTEST_MAX_PORTS) {
		int fd;
		unsigned port;
		int used;
		if (sscanf(s, "%d:%u%n", &fd, &port, &used) != 2) {
			fprintf(stderr, "shimtest: bad SHIMTEST_LISTENERS\n");
			exit(1);
		}
		listen_fds[nlisten] = fd;
		ports[nlisten++] = (uint16_t)port;
		s += used;
		if (*s == ',')
			s++;
	}
}

void shimtest_start(char **argv, int nports, const char *policy)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("SHIMTEST_WRAPPED")) {
		parse_listeners(getenv("SHIMTEST_LISTENERS") ? getenv("SHIMTEST_LISTENERS") : "");
		/* The library read the policy in its constructor; the files
		 * are of no further use. */
		const char *cfg = getenv("TLSHIM_CONFIG");
		const char *dir = getenv("SHIMTEST_POLICY_DIR");
		if (cfg && dir) {
			unlink(cfg);
			rmdir(dir);
		}
		alarm(WATCHDOG_S);
		return;
	}
	if (nports < 0 || nports > SHIMTEST_MAX_PORTS) {
		fprintf(stderr, "shimtest: too many ports\n");
		exit(1);
	}
	shimtest_library(); /* exits early when it is not set */
	make_listeners(nports);

	const char *base = getenv("SHIMTEST_DIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/policy.XXXXXX", base && *base ? base : "/tmp");
	if (base && *base)
		mkdir(base, 0755);
	if (!mkdtemp(dir))
		die("mkdtemp");
	char path[4200];
	snprintf(path, sizeof path, "%s/policy.ini", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		die(path);
	write_policy(f, policy);
	if (fclose(f) != 0)
		die(path);

	char fds[SHIMTEST_MAX_PORTS * 16] = "";
	for (int i = 0; i < nlisten; i++) {
		size_t l = strlen(fds);
		snprintf(fds + l, sizeof fds - l, "%s%d:%u", i ? "," : "", listen_fds[i],
			 (unsigned)ports[i]);
	}
	/* Prepend, as the tlshim wrapper does (after a sanitizer runtime,
	 * which run.sh preloads already). */
	const char *old = getenv("LD_PRELOAD");
	const char *rt = getenv("SHIMTEST_SANITIZER_RUNTIME");
	if (old && rt && *rt && strncmp(old, rt, strlen(rt)) == 0) {
		old += strlen(rt);
		old += *old == ':';
	}
	char preload[8192];
	snprintf(preload, sizeof preload, "%s%s%s", shimtest_preload(), old && *old ? ":" : "",
		 old ? old : "");
	if (setenv("LD_PRELOAD", preload, 1) || setenv("TLSHIM_CONFIG", path, 1) ||
	    setenv("SHIMTEST_WRAPPED", "1", 1) || setenv("SHIMTEST_LISTENERS", fds, 1) ||
	    setenv("SHIMTEST_POLICY_DIR", dir, 1))
		die("setenv");
	fflush(NULL);
	execv("/proc/self/exe", argv);
	die("execv /proc/self/exe");
}

void shimtest_child_policy(const char *policy)
{
	const char *cfg = getenv("TLSHIM_CONFIG"), *dir = getenv("SHIMTEST_POLICY_DIR");
	CHECK(cfg && dir);
	if (!cfg || !dir)
		return;
	if (!policy) {
		unlink(cfg);
		rmdir(dir);
		return;
	}
	mkdir(dir, 0700);
	FILE *f = fopen(cfg, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("[global]\nlog = warn\n", f);
		write_policy(f, policy);
		CHECK_EQ(fclose(f), 0);
	}
}

bool shimtest_raise_nofile(unsigned long need, const char *what)
{
	struct rlimit rl;
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur >= need)
		return true;
	fprintf(stderr, "%s: descriptor limit %lu too low\n", what, (unsigned long)rl.rlim_cur);
	return false;
}

struct pairs_job {
	int n, *servers;
};

/* Accept every connection and run its handshake (a blocking read of the
 * byte each client sends after connect). */
static void *pairs_acceptor(void *arg)
{
	const struct pairs_job *job = arg;
	for (int i = 0; i < job->n; i++) {
		job->servers[i] = shimtest_accept(0);
		char c;
		CHECK_EQ(read(job->servers[i], &c, 1), 1);
	}
	return NULL;
}

void shimtest_pairs(int n, int *clients, int *servers)
{
	struct pairs_job job = {n, servers};
	pthread_t t = shimtest_thread(pairs_acceptor, &job);
	for (int i = 0; i < n; i++) {
		int err;
		clients[i] = shimtest_connect(shimtest_port(0), 0, &err);
		CHECK_EQ(err, 0);
		CHECK_EQ(write(clients[i], "h", 1), 1);
	}
	pthread_join(t, NULL);
}

bool shimtest_debug_line(const char *log_file, pid_t pid, const char *what, char *out,
			 size_t outlen)
{
	char dir[4096], path[8192], want[128], line[1024];
	snprintf(dir, sizeof dir, "%s", getenv("TLSHIM_CONFIG") ? getenv("TLSHIM_CONFIG") : "");
	snprintf(path, sizeof path, "%s/%s", dirname(dir), log_file);
	snprintf(want, sizeof want, "tlshim[%d]: debug: %s: ", (int)pid, what);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	bool found = false;
	while (f && fgets(line, sizeof line, f)) {
		char *p = strstr(line, want);
		if (p) {
			snprintf(out, outlen, "%s", p + strlen(want));
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

int shimtest_connect(uint16_t port, int type_flags, int *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | type_flags, 0);
	if (fd < 0)
		die("socket");
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int r = connect(fd, (struct sockaddr *)&a, sizeof a);
	*err = r < 0 ? errno : 0;
	return fd;
}

static int accept_fd(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int64_t end = shimtest_now_ms() + WAIT_MS;
	for (;;) {
		int r = poll(&p, 1, (int)(end - shimtest_now_ms()));
		if (r > 0)
			return accept(lfd, NULL, NULL);
		if (r == 0 || errno != EINTR || shimtest_now_ms() >= end)
			return -1;
	}
}

int shimtest_accept(int i)
{
	return accept_fd(shimtest_listener(i));
}

bool shimtest_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

size_t shimtest_read_full(int fd, void *buf, size_t n, ssize_t *last)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t r = 0;
	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (last)
		*last = r;
	return got;
}

void shimtest_check_tls(int fd, uint64_t app_bytes, const char *what)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	int r = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	CHECK_EQ(r, 0);
	/* A ClientHello alone is over 100 bytes; a server flight more. */
	bool tls = r == 0 && ti.tcpi_bytes_received >= app_bytes + 100;
	CHECK(tls);
	if (!tls)
		fprintf(stderr, "%s: %llu bytes on the wire for %llu application bytes: not TLS?\n",
			what, (unsigned long long)ti.tcpi_bytes_received,
			(unsigned long long)app_bytes);
}

static uint8_t pattern_byte(size_t i, uint32_t seed)
{
	/* splitmix64 of the 8-byte block index: no period within a test. */
	uint64_t x =
		(uint64_t)(i >> 3) * 0x9E3779B97F4A7C15ull + (uint64_t)seed * 0xD1B54A32D192ED03ull;
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 31;
	return (uint8_t)(x >> ((i & 7) * 8));
}

void shimtest_pattern(uint8_t *buf, size_t off, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern_byte(off + i, seed);
}

long shimtest_pattern_check(const uint8_t *buf, size_t off, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern_byte(off + i, seed))
			return (long)(off + i);
	return -1;
}

int64_t shimtest_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void shimtest_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

pthread_t shimtest_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, fn, arg);
	if (e) {
		errno = e;
		die("pthread_create");
	}
	return t;
}

pid_t shimtest_fork(void (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		alarm(WATCHDOG_S - 5);
		check_failures = 0;
		check_count = 0;
		fn(arg);
		fflush(NULL);
		_exit(check_failures ? 1 : 0);
	}
	return pid;
}

int shimtest_wait(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

void shimtest_buf_add(shimtest_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			die("realloc");
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void shimtest_buf_free(shimtest_buf *b)
{
	free(b->p);
	*b = (shimtest_buf){0};
}

bool shimtest_contains(const shimtest_buf *b, const char *s)
{
	return b->len && memmem(b->p, b->len, s, strlen(s)) != NULL;
}

/* RFC 5246 6.2.1: type, version (3,x), length <= 2^14 + 2048. */
#define MAX_RECORD (16384 + 2048)

int shimtest_records(const shimtest_buf *b, uint8_t *types, int max, size_t *tail)
{
	size_t off = 0;
	int n = 0;
	while (b->len - off >= 5) {
		const uint8_t *h = b->p + off;
		size_t len = (size_t)h[3] << 8 | h[4];
		if (h[0] < 20 || h[0] > 23 || h[1] != 3 || h[2] > 3 || len > MAX_RECORD)
			return -1;
		if (b->len - off - 5 < len)
			break;
		if (n < max)
			types[n] = h[0];
		n++;
		off += 5 + len;
	}
	if (tail)
		*tail = b->len - off;
	return n;
}

int shimtest_count_type(const shimtest_buf *b, uint8_t type)
{
	uint8_t types[4096];
	int n = shimtest_records(b, types, 4096, NULL);
	if (n < 0 || n > 4096)
		return -1;
	int c = 0;
	for (int i = 0; i < n; i++)
		c += types[i] == type;
	return c;
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *sink_main(void *arg)
{
	shimtest_sink *k = arg;
	int fd = accept_fd(k->listen_fd);
	if (fd < 0)
		return NULL;
	k->accepted = true;
	if (k->greeting)
		send_all(fd, (const uint8_t *)k->greeting, strlen(k->greeting));
	int64_t end = shimtest_now_ms() + WAIT_MS;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - shimtest_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			break;
		uint8_t buf[4096];
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		shimtest_buf_add(&k->got, buf, (size_t)r);
	}
	close(fd);
	return NULL;
}

void shimtest_sink_start(shimtest_sink *k, int listen_fd, const char *greeting)
{
	*k = (shimtest_sink){.listen_fd = listen_fd, .greeting = greeting};
	k->thread = shimtest_thread(sink_main, k);
}

void shimtest_sink_join(shimtest_sink *k)
{
	pthread_join(k->thread, NULL);
}

/* One direction of the relay: bytes read but not yet a whole record. */
struct half {
	uint8_t buf[2 * (5 + MAX_RECORD)];
	size_t len;
	bool eof, dropping, raw;
};

/* Forward the complete records of direction ${d}. */
static void relay_records(shimtest_relay *r, struct half *h, int d, int dst, int client)
{
	for (;;) {
		if (h->raw) {
			if (h->len && !h->dropping)
				send_all(dst, h->buf, h->len);
			h->len = 0;
			return;
		}
		if (h->len < 5)
			return;
		size_t len = (size_t)h->buf[3] << 8 | h->buf[4];
		if (len > MAX_RECORD) {
			h->raw = true; /* not TLS: pass it on as it is */
			continue;
		}
		if (h->len < 5 + len)
			return;
		uint8_t type = h->buf[0];
		if (type == 23 && d == r->tamper && !r->tampered && len > 0) {
			h->buf[5 + len / 2] ^= 0x10;
			r->tampered = true;
		}
		if (!h->dropping)
			send_all(dst, h->buf, 5 + len);
		if (r->truncate && d == SHIMTEST_S2C && type == 23 && !h->dropping) {
			h->dropping = true;
			shutdown(client, SHUT_WR); /* a FIN, no close_notify */
		}
		memmove(h->buf, h->buf + 5 + len, h->len - 5 - len);
		h->len -= 5 + len;
	}
}

static void *relay_main(void *arg)
{
	shimtest_relay *r = arg;
	int fds[2];
	fds[SHIMTEST_C2S] = accept_fd(r->listen_fd);
	if (fds[0] < 0)
		return NULL;
	int err;
	fds[SHIMTEST_S2C] = shimtest_connect(r->to_port, 0, &err);
	if (err) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	struct half *h = calloc(2, sizeof *h);
	if (!h)
		die("calloc");
	int64_t end = shimtest_now_ms() + 2 * WAIT_MS;
	while (!(h[0].eof && h[1].eof) && shimtest_now_ms() < end) {
		struct pollfd p[2];
		for (int d = 0; d < 2; d++)
			p[d] = (struct pollfd){.fd = h[d].eof ? -1 : fds[d], .events = POLLIN};
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		for (int d = 0; d < 2; d++) {
			if (!(p[d].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct half *x = &h[d];
			ssize_t n = recv(fds[d], x->buf + x->len, sizeof x->buf - x->len, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0) {
				shimtest_buf_add(&r->wire[d], x->buf + x->len, (size_t)n);
				x->len += (size_t)n;
				relay_records(r, x, d, fds[1 - d], fds[0]);
				continue;
			}
			/* End of this direction: pass on what is left, then FIN. */
			x->eof = true;
			x->raw = true;
			relay_records(r, x, d, fds[1 - d], fds[0]);
			if (!x->dropping)
				shutdown(fds[1 - d], SHUT_WR);
		}
	}
	free(h);
	close(fds[0]);
	close(fds[1]);
	return NULL;
}

void shimtest_relay_start(shimtest_relay *r, int listen_fd, uint16_t to_port, int tamper,
			  bool truncate)
{
	*r = (shimtest_relay){
		.listen_fd = listen_fd, .to_port = to_port, .tamper = tamper, .truncate = truncate};
	r->thread = shimtest_thread(relay_main, r);
}

void shimtest_relay_join(shimtest_relay *r)
{
	pthread_join(r->thread, NULL);
}

/* ---- the echo peer ------------------------------------------------------ */

/* What the peer writes for each connection: one write, well under
 * PIPE_BUF, so the reports of concurrent connections never mix. */
struct echo_end {
	char end;
	unsigned bytes;
	char head[SHIMTEST_ECHO_HEAD + 1];
};

struct echo_job {
	int listener, nconns, report;
	bool concurrent;
};

struct echo_conn {
	int fd, report;
};

static void *echo_conn_main(void *arg)
{
	struct echo_conn *c = arg;
	struct echo_end rep = {0};
	size_t used = 0;
	char buf[4096];
	ssize_t r;
	while ((r = read(c->fd, buf, sizeof buf)) > 0) {
		size_t k = SHIMTEST_ECHO_HEAD - used;
		k = (size_t)r < k ? (size_t)r : k;
		memcpy(rep.head + used, buf, k);
		used += k;
		rep.bytes += (unsigned)r;
		if (!shimtest_write_all(c->fd, buf, (size_t)r))
			break;
	}
	rep.end = r == 0 ? 'C' : 'R';
	close(c->fd);
	CHECK_EQ(write(c->report, &rep, sizeof rep), (ssize_t)sizeof rep);
	return NULL;
}

static void echo_main(void *arg)
{
	const struct echo_job *job = arg;
	struct echo_conn *conns = calloc((size_t)job->nconns, sizeof *conns);
	pthread_t *threads = calloc((size_t)job->nconns, sizeof *threads);
	CHECK(conns && threads);
	int started = 0;
	for (int i = 0; conns && threads && i < job->nconns; i++) {
		int fd = shimtest_accept(job->listener);
		CHECK(fd >= 0);
		if (fd < 0) {
			struct echo_end rep = {.end = 'A'};
			CHECK_EQ(write(job->report, &rep, sizeof rep), (ssize_t)sizeof rep);
			break;
		}
		conns[i] = (struct echo_conn){fd, job->report};
		if (job->concurrent)
			threads[started++] = shimtest_thread(echo_conn_main, &conns[i]);
		else
			echo_conn_main(&conns[i]);
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(conns);
	free(threads);
}

void shimtest_echo_start(shimtest_echo *e, int listener, int nconns, bool concurrent)
{
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	struct echo_job job = {listener, nconns, p[1], concurrent};
	e->pid = shimtest_fork(echo_main, &job); /* the child has its own copy of job */
	e->report = p[0];
	close(p[1]);
}

void shimtest_echo_expect_head(shimtest_echo *e, char end, long bytes, const char *head,
			       const char *what)
{
	struct echo_end rep = {.end = '?'};
	struct pollfd p = {.fd = e->report, .events = POLLIN};
	if (poll(&p, 1, 15000) != 1 || read(e->report, &rep, sizeof rep) != sizeof rep)
		rep.end = '?';
	rep.head[SHIMTEST_ECHO_HEAD] = '\0';
	bool head_ok = true;
	if (head) {
		size_t n = strlen(head) < SHIMTEST_ECHO_HEAD ? strlen(head) : SHIMTEST_ECHO_HEAD;
		head_ok = memcmp(rep.head, head, n) == 0;
	}
	CHECK_EQ(rep.end, end);
	if (bytes >= 0)
		CHECK_EQ(rep.bytes, (unsigned)bytes);
	CHECK(head_ok);
	if (rep.end != end || (bytes >= 0 && rep.bytes != (unsigned)bytes) || !head_ok)
		fprintf(stderr, "%s: echo peer saw '%c' after %u bytes, beginning '%s'\n", what,
			rep.end, rep.bytes, rep.head);
}

void shimtest_echo_expect(shimtest_echo *e, char end, long bytes, const char *what)
{
	shimtest_echo_expect_head(e, end, bytes, NULL, what);
}

int shimtest_echo_wait(shimtest_echo *e)
{
	int st = shimtest_wait(e->pid);
	close(e->report);
	e->report = -1;
	return st;
}

bool shimtest_echoes(int fd, const char *msg)
{
	size_t n = strlen(msg);
	char buf[256];
	if (n > sizeof buf || !shimtest_write_all(fd, msg, n))
		return false;
	return shimtest_read_full(fd, buf, n, NULL) == n && memcmp(buf, msg, n) == 0;
}

int shimtest_echo_connect(uint16_t port)
{
	int err;
	int fd = shimtest_connect(port, 0, &err);
	CHECK_EQ(err, 0);
	CHECK(shimtest_echoes(fd, "first"));
	return fd;
}
