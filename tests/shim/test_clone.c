/*
 * test_clone: forks the atfork handlers never see still leave exactly one
 * process writing with a connection's keys (fork.h): two writers would
 * seal different records under the same key and sequence number (AEAD
 * nonce reuse; the peer sees a MAC failure at best).
 * - syscall(SYS_fork), syscall(SYS_vfork), syscall(SYS_clone) and
 *   syscall(SYS_clone3) without CLONE_VM, and libc clone() without
 *   CLONE_VM: the child uses the connection, the parent is refused (EPERM)
 *   and sends nothing, the child carries on and ends it cleanly; the echo
 *   peer sees only correct records and a close_notify.
 * - syscall(SYS_clone) without CLONE_VM onto a new stack is refused
 *   (EPERM) while a TLS connection is open.
 * - clone(CLONE_VM | CLONE_THREAD ...) threads use the connection as any
 *   thread does; a clone(CLONE_VM | CLONE_VFORK) child closing its copy
 *   leaves the parent's connection alone.
 */
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shimtest.h"

static const char policy[] = "[echo-in]\n"
			     "role = server\n"
			     "port = @P0@\n"
			     "cert = @CERTS@/server-p256.crt\n"
			     "key = @CERTS@/server-p256.key\n"
			     "[echo-out]\n"
			     "role = client\n"
			     "port = @P0@\n"
			     "ca = @CERTS@/ca.crt\n"
			     "server_name = localhost\n";

#define N_ECHO 8

static shimtest_echo peer; /* the echo server (shimtest.h) */

static bool token_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	return poll(&p, 1, 15000) == 1 && read(fd, &c, 1) == 1;
}

/* What the child of every fork-like call does, and what the parent checks. */
struct fork_case {
	int fd;
	int done[2], go[2]; /* child -> parent, parent -> child */
};

static int child_side(struct fork_case *f)
{
	alarm(20);
	bool ok = shimtest_echoes(f->fd, "the child claims it");
	ok = write(f->done[1], "T", 1) == 1 && ok;
	ok = token_wait(f->go[0]) && ok;
	ok = shimtest_echoes(f->fd, "and carries on") && ok;
	ok = close(f->fd) == 0 && ok;
	return ok ? 0 : 1;
}

static void parent_side(struct fork_case *f, pid_t pid, const char *what)
{
	CHECK(pid > 0);
	if (pid <= 0) {
		close(f->fd);
		shimtest_echo_expect(&peer, 'C', -1, what);
		return;
	}
	CHECK(token_wait(f->done[0]));
	/* Same key, same sequence number as the child's next record. */
	errno = 0;
	CHECK_EQ(write(f->fd, SHIMTEST_MARKER, strlen(SHIMTEST_MARKER)), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(write(f->go[1], "T", 1), 1);
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fprintf(stderr, "%s: child status %#x\n", what, st);
	CHECK_EQ(close(f->fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, what);
}

static void fork_case_init(struct fork_case *f)
{
	f->fd = shimtest_echo_connect(shimtest_port(0));
	CHECK_EQ(pipe(f->done), 0);
	CHECK_EQ(pipe(f->go), 0);
}

static void fork_case_done(struct fork_case *f)
{
	close(f->done[0]);
	close(f->done[1]);
	close(f->go[0]);
	close(f->go[1]);
}

enum how { RAW_FORK, RAW_VFORK, RAW_CLONE, RAW_CLONE3, LIBC_CLONE };
static const char *const names[] = {"syscall(SYS_fork)", "syscall(SYS_vfork)", "syscall(SYS_clone)",
				    "syscall(SYS_clone3)", "clone() without CLONE_VM"};

static char stack[256 * 1024] __attribute__((aligned(16)));

static int clone_child(void *arg)
{
	return child_side(arg);
}

static void fork_like(enum how how)
{
	struct fork_case f;
	fork_case_init(&f);
	long pid = -1;
	struct clone_args ca = {.exit_signal = SIGCHLD};
	switch (how) {
	case RAW_FORK:
		pid = syscall(SYS_fork);
		break;
	case RAW_VFORK: /* through a C function this can only be a fork */
		pid = syscall(SYS_vfork);
		break;
	case RAW_CLONE:
		pid = syscall(SYS_clone, SIGCHLD, 0L, NULL, NULL, 0L);
		break;
	case RAW_CLONE3:
		pid = syscall(SYS_clone3, &ca, sizeof ca);
		break;
	case LIBC_CLONE:
		pid = clone(clone_child, stack + sizeof stack, SIGCHLD, &f);
		break;
	}
	if (pid == 0)
		_exit(child_side(&f));
	parent_side(&f, (pid_t)pid, names[how]);
	fork_case_done(&f);
}

/* A raw clone onto a new stack: our code never runs in its child. */
static void raw_clone_new_stack(void)
{
	int fd = shimtest_echo_connect(shimtest_port(0));
	errno = 0;
	long pid = syscall(SYS_clone, SIGCHLD, stack + sizeof stack, NULL, NULL, 0L);
	CHECK_EQ(pid, -1);
	CHECK_EQ(errno, EPERM);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	CHECK(shimtest_echoes(fd, "refused, still ours"));
	CHECK_EQ(close(fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "raw clone on a new stack");
}

/* A thread made with clone(CLONE_VM | CLONE_THREAD ...). */
struct thread_case {
	int fd;
	bool ok;
};

static int thread_main(void *arg)
{
	struct thread_case *t = arg;
	t->ok = shimtest_echoes(t->fd, "from a clone thread");
	return 0;
}

static void clone_thread(void)
{
	struct thread_case t = {.fd = shimtest_echo_connect(shimtest_port(0))};
	static pid_t ctid = 1; /* the kernel clears it when the thread ends */
	__atomic_store_n(&ctid, 1, __ATOMIC_SEQ_CST);
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		    CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
	int tid = clone(thread_main, stack + sizeof stack, flags, &t, NULL, NULL, &ctid);
	CHECK(tid > 0);
	int64_t deadline = shimtest_now_ms() + 15000;
	while (tid > 0 && __atomic_load_n(&ctid, __ATOMIC_SEQ_CST) != 0 &&
	       shimtest_now_ms() < deadline)
		shimtest_sleep_ms(1);
	CHECK(t.ok);
	CHECK(shimtest_echoes(t.fd, "and from the main thread"));
	CHECK_EQ(close(t.fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "clone thread");
}

/* clone(CLONE_VM | CLONE_VFORK): a vfork by another name. */
static int vfork_child(void *arg)
{
	close(*(int *)arg);
	return 0;
}

static void clone_vfork(void)
{
	int fd = shimtest_echo_connect(shimtest_port(0));
	int pid = clone(vfork_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &fd);
	CHECK(pid > 0);
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(shimtest_echoes(fd, "the vfork-style child left it alone"));
	CHECK_EQ(close(fd), 0);
	shimtest_echo_expect(&peer, 'C', -1, "clone vfork");
}

int main(int argc, char **argv)
{
	(void)argc;
	shimtest_start(argv, 1, policy);
	shimtest_echo_start(&peer, 0, N_ECHO, false);

	for (int how = RAW_FORK; how <= LIBC_CLONE; how++)
		fork_like((enum how)how);
	raw_clone_new_stack();
	clone_thread();
	clone_vfork();
	CHECK_EQ(shimtest_echo_wait(&peer), 0);
	return check_exit("shim/clone");
}
