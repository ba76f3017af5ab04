/*
 * test_badpolicy: fail closed at start-up (INTERFACE.md "The policy
 * file"). A program run with libtlshim.so preloaded and TLSHIM_CONFIG
 * naming an invalid policy (bad syntax, unknown key, unreadable
 * certificate, missing file) exits with status 2 before main, printing
 * "FILE:LINE: reason"; a valid policy or no policy at all lets it run.
 * The programs are /bin/true, /bin/false and this test itself in a mode
 * that leaves a file behind when its main() runs. This test is not
 * wrapped itself: it builds each child's environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"

static char dir[4096];
static char self[4096];

static void write_file(const char *name, const char *text)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Run ${prog} with ${policy} (a file in dir, NULL: no TLSHIM_CONFIG);
 * returns the exit status, the child's stderr in ${err}. */
static int run(const char *prog, const char *policy, shimtest_buf *err)
{
	char preload[4200], config[4200], touch[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shimtest_preload());
	snprintf(config, sizeof config, "TLSHIM_CONFIG=%s/%s", dir, policy ? policy : "");
	snprintf(touch, sizeof touch, "%s/main-ran", dir);
	unlink(touch);
	char *envp[] = {preload, policy ? config : NULL, NULL};
	char *argv[] = {(char *)prog, (char *)"--touch", touch, NULL};
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execve(prog, argv, envp);
		_exit(127);
	}
	close(pfd[1]);
	*err = (shimtest_buf){0};
	char buf[1024];
	ssize_t r;
	while ((r = read(pfd[0], buf, sizeof buf)) > 0)
		shimtest_buf_add(err, buf, (size_t)r);
	shimtest_buf_add(err, "", 1); /* a C string */
	close(pfd[0]);
	return shimtest_wait(pid);
}

static bool main_ran(void)
{
	char touch[4200];
	snprintf(touch, sizeof touch, "%s/main-ran", dir);
	return access(touch, F_OK) == 0;
}

/* ${policy} is invalid: status 2, main never ran, ${expect} in stderr. */
static void refused(const char *policy, const char *expect)
{
	shimtest_buf err;
	CHECK_EQ(run("/bin/true", policy, &err), 2);
	if (expect && !strstr((char *)err.p, expect))
		fprintf(stderr, "%s: stderr lacks \"%s\":\n%s", policy, expect, (char *)err.p);
	CHECK(!expect || strstr((char *)err.p, expect));
	shimtest_buf_free(&err);
	CHECK_EQ(run(self, policy, &err), 2);
	CHECK(!main_ran());
	shimtest_buf_free(&err);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--touch") == 0) {
		int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
		return fd >= 0 ? 0 : 1;
	}
	const char *base = getenv("SHIMTEST_DIR");
	snprintf(dir, sizeof dir, "%s/badpolicy.XXXXXX", base && *base ? base : "/tmp");
	if (base && *base)
		mkdir(base, 0755);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(sl > 0);
	self[sl > 0 ? sl : 0] = 0;
	const char *certs = shimtest_certs();

	char good[8192];
	snprintf(good, sizeof good,
		 "[in]\nrole = server\nport = 4433\ncert = %s/server-p256.crt\n"
		 "key = %s/server-p256.key\n",
		 certs, certs);
	write_file("good.ini", good);
	write_file("syntax.ini", "[global]\nlog = warn\nthis line has no equals sign\n");
	write_file("unknown.ini", "[out]\nrole = client\nport = 443\nca = system\ncolour = blue\n");
	write_file("nocert.ini", "[in]\nrole = server\nport = 4433\ncert = /nonexistent/x.crt\n"
				 "key = /nonexistent/x.key\n");
	char mismatch[8192];
	snprintf(mismatch, sizeof mismatch,
		 "[in]\nrole = server\nport = 4433\ncert = %s/server-p256.crt\n"
		 "key = %s/server-rsa.key\n",
		 certs, certs);
	write_file("mismatch.ini", mismatch);

	refused("syntax.ini", "syntax.ini:3:");
	refused("unknown.ini", "unknown.ini:5:");
	refused("nocert.ini", "nocert.ini:");
	refused("mismatch.ini", "mismatch.ini:");
	refused("does-not-exist.ini", "does-not-exist.ini");

	/* Controls: the same programs run under a valid policy and under none. */
	shimtest_buf err;
	CHECK_EQ(run("/bin/true", "good.ini", &err), 0);
	shimtest_buf_free(&err);
	CHECK_EQ(run("/bin/false", "good.ini", &err), 1);
	shimtest_buf_free(&err);
	CHECK_EQ(run(self, "good.ini", &err), 0);
	CHECK(main_ran());
	shimtest_buf_free(&err);
	if (access("/etc/tlshim/tlshim.ini", F_OK) != 0) {
		CHECK_EQ(run(self, NULL, &err), 0);
		CHECK(main_ran());
		shimtest_buf_free(&err);
	}

	char cmd[8300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
	return check_exit("shim/badpolicy");
}
