/*
 * test_ownfds: tlshim's own descriptors (the log file and the key log)
 * survive whatever a daemon does to "its" descriptors (issue 9 item 6), and
 * no secret ever lands in one of the program's files.
 *
 * With keylog and log_file on, the program
 * - finds tlshim's descriptors in /proc/self/fd: they are high (not a
 *   number its next open() would get), and close/fcntl on them give EBADF
 *   (the program never opened them);
 * - closes every number 0..4096 but its listener and stderr, then
 *   closefrom and close_range above those;
 * - closes the key log's number with syscall(SYS_close) and dup2s a file
 *   of its own there, then dup2s (and dup3s) that file onto every number
 *   it can still see in /proc/self/fd, then opens more files;
 * - makes a TLS connection (client and server rules, both in this process).
 * Then the key log holds both CLIENT_RANDOM lines of that connection, the
 * log file holds its info line, and none of the program's files holds
 * CLIENT_RANDOM, a master secret in hex, or a log line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[global]\n"
			     "log = info\n"
			     "log_file = @CERTS@/../ownfds.log\n"
			     "[in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

#define N_VICTIMS 30

static char keylog[PATH_MAX], logfile[PATH_MAX];
static char victim[N_VICTIMS + 1][PATH_MAX];

static void *server(void *arg)
{
	(void)arg;
	int fd = shimtest_accept(0);
	char buf[64];
	CHECK(read(fd, buf, sizeof buf) > 0);
	CHECK_EQ(write(fd, "pong", 4), 4);
	close(fd);
	return NULL;
}

/* The numbers open in this process, from /proc/self/fd (without the
 * directory's own descriptor). */
static int open_fds(int *out, int max)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	if (!d)
		return 0;
	int n = 0, self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd != self)
			out[n++] = fd;
	}
	closedir(d);
	return n;
}

static bool links_to(int fd, const char *path)
{
	char p[64], target[PATH_MAX];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, target, sizeof target - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, path) == 0;
}

/* tlshim's descriptors: on high numbers, and not there for the program. */
static void check_own_fds(const char *when)
{
	int fds[8192];
	int n = open_fds(fds, 8192);
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (!links_to(fds[i], keylog) && !links_to(fds[i], logfile))
			continue;
		found++;
		if (fds[i] < 64)
			fprintf(stderr, "%s: tlshim's descriptor %d is low\n", when, fds[i]);
		CHECK(fds[i] >= 64);
		errno = 0;
		CHECK_EQ(fcntl(fds[i], F_GETFD), -1);
		CHECK_EQ(errno, EBADF);
		errno = 0;
		CHECK_EQ(close(fds[i]), -1);
		CHECK_EQ(errno, EBADF);
		errno = 0;
		CHECK_EQ(dup(fds[i]), -1);
		CHECK_EQ(errno, EBADF);
	}
	if (found != 2)
		fprintf(stderr, "%s: %d of tlshim's descriptors found, want 2\n", when, found);
	CHECK_EQ(found, 2);
}

static bool is_kept(int fd, int listener)
{
	return fd == listener || fd == 2;
}

static void do_the_worst(int listener)
{
	for (int fd = 0; fd <= 4096; fd++)
		if (!is_kept(fd, listener))
			close(fd);
	int above = (listener > 2 ? listener : 2) + 1;
	closefrom(above);
	CHECK_EQ(close_range((unsigned)above, ~0u, 0), 0);

	int v = open(victim[0], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	CHECK(v >= 0);
	int fds[8192];
	int n = open_fds(fds, 8192);
	/* A close tlshim may not see (a raw system call), then the program
	 * takes that number: the key log must not follow it there. */
	for (int i = 0; i < n; i++)
		if (links_to(fds[i], keylog)) {
			syscall(SYS_close, fds[i]);
			CHECK_EQ(dup2(v, fds[i]), fds[i]);
			break;
		}
	n = open_fds(fds, 8192);
	int dups = 0;
	for (int i = 0; i < n; i++) {
		if (is_kept(fds[i], listener) || fds[i] == v)
			continue;
		int r = (i % 2) ? dup2(v, fds[i]) : dup3(v, fds[i], 0);
		CHECK_EQ(r, fds[i]);
		dups++;
	}
	CHECK(dups >= 2); /* at least tlshim's two were there to be taken */
	for (int i = 1; i <= N_VICTIMS; i++)
		CHECK(open(victim[i], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600) >= 0);
}

static void connect_once(void)
{
	pthread_t t = shimtest_thread(server, NULL);
	int err;
	int fd = shimtest_connect(shimtest_port(0), 0, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(write(fd, "ping", 4), 4);
	char buf[8] = "";
	CHECK_EQ(read(fd, buf, sizeof buf), 4);
	CHECK_EQ(close(fd), 0);
	pthread_join(t, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *dir = getenv("SHIMTEST_DIR");
	snprintf(keylog, sizeof keylog, "%s/ownfds-keylog.txt", dir ? dir : "/tmp");
	snprintf(logfile, sizeof logfile, "%s/ownfds.log", dir ? dir : "/tmp");
	if (!getenv("SHIMTEST_WRAPPED")) {
		unlink(keylog);
		unlink(logfile);
		setenv("SSLKEYLOGFILE", keylog, 1); /* inherited by the wrapped run */
	}
	shimtest_start(argv, 1, policy);
	char real[PATH_MAX];
	if (realpath(keylog, real))
		snprintf(keylog, sizeof keylog, "%s", real);
	if (realpath(logfile, real))
		snprintf(logfile, sizeof logfile, "%s", real);
	for (int i = 0; i <= N_VICTIMS; i++)
		snprintf(victim[i], sizeof victim[i], "%s/ownfds-victim-%d.txt", dir ? dir : "/tmp",
			 i);

	check_own_fds("at start");
	do_the_worst(shimtest_listener(0));
	check_own_fds("after the close loop and dup2s");
	connect_once();

	/* The key log: both ends' CLIENT_RANDOM lines; keep the secrets. */
	char *kl = slurp(keylog);
	CHECK(kl != NULL);
	char secrets[2][97] = {"", ""};
	int lines = 0;
	for (char *p = kl; p && (p = strstr(p, "CLIENT_RANDOM ")); p++) {
		char random[65], master[97];
		if (sscanf(p, "CLIENT_RANDOM %64s %96s", random, master) == 2 && lines < 2 &&
		    strlen(master) == 96)
			snprintf(secrets[lines++], sizeof secrets[0], "%s", master);
	}
	CHECK_EQ(lines, 2);
	free(kl);

	/* The log file: the connection's info line, made after all that. */
	char *lg = slurp(logfile);
	CHECK(lg && strstr(lg, "TLSv1.2"));
	free(lg);

	/* The program's files: nothing of ours. */
	for (int i = 0; i <= N_VICTIMS; i++) {
		char *v = slurp(victim[i]);
		CHECK(v != NULL);
		if (!v)
			continue;
		bool leak = strstr(v, "CLIENT_RANDOM") || strstr(v, "tlshim[");
		for (int k = 0; k < lines; k++)
			leak = leak || strstr(v, secrets[k]);
		if (leak)
			fprintf(stderr, "%s holds tlshim's output:\n%s\n", victim[i], v);
		CHECK(!leak);
		free(v);
		unlink(victim[i]);
	}
	unlink(keylog);
	unlink(logfile);
	return check_exit("shim/ownfds");
}
