/*
 * hook_exec.c: exec and spawn (DESIGN.md "The hard cases", exec).
 *
 * A TLS connection's keys and sequence numbers live in this process's
 * memory; a descriptor that survives exec would hand the new program the
 * raw TLS stream, and whatever it wrote there would go out in clear. So
 * the connections that would reach the new program are handed over
 * (handover.h) when it will load tlshim (a dynamic ELF of our machine,
 * not setuid/setgid/capabilities, or a script whose interpreter is one),
 * and otherwise the exec is refused (EPERM, logged): plaintext on a TLS
 * stream is never an outcome.
 *
 * Every exec also keeps tlshim in the new program: LD_PRELOAD and
 * TLSHIM_CONFIG are put back if the program stripped them, and
 * TLSHIM_HANDOVER names the hand-over (a stale one is dropped).
 *
 * Covered: the execve family, execveat and fexecve (and their numbers
 * through syscall(), hook_syscall.c), posix_spawn and posix_spawnp with
 * their file actions; system and popen through them (hook_system.c).
 *
 * posix_spawn file actions run in the child before its exec: adddup2 can
 * put a close-on-exec TLS socket on a number that survives (dup2 clears
 * the flag; so does adddup2(fd, fd)), addclose, addopen and
 * addclosefrom_np can take one away. glibc's posix_spawn_file_actions_t
 * is opaque (its actions are an internal struct whose tags have changed
 * between releases), so we do not read them: the add functions are hooked
 * and each object's actions are remembered in a side table keyed by its
 * address, and posix_spawn replays them over the TLS descriptors to see
 * which reach the new program. The one field we read is __used, glibc's
 * count of actions, declared in the installed <spawn.h>: when it differs
 * from what we saw (an object copied by value, actions added through a
 * path we do not see) the actions are unknown, and the spawn is refused
 * while any TLS connection is open (fail closed).
 *
 * A vfork child (Python's default subprocess path: vfork, dup2 onto 0 and
 * 1, close_range, exec) does to its descriptors what file actions would,
 * but for real: its copies and closes of TLS descriptors are recorded in
 * its own view of the table (fdtab.h fdtab_view_alias, fdtab_hide), not
 * in the parent's, so the table walk below already sees the child's
 * descriptors, and the exec hands over what reaches the new program; the
 * parent, which goes on, shares each connection with it under the
 * ownership rule (handover.h).
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fork.h"
#include "hooks.h"
#include "log.h"
#include "handover.h"
#include "rules.h"

extern char **environ;

static int any(int fd, sconn *s, void *arg)
{
	(void)s;
	*(int *)arg = fd;
	return 1;
}

/* A program the loader runs in secure-execution mode (LD_PRELOAD ignored). */
static bool privileged(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) < 0)
		return false;
	if (st.st_mode & (S_ISUID | S_ISGID))
		return true;
	return getxattr(path, "security.capability", NULL, 0) > 0;
}

/* ---- posix_spawn file actions: the side table ---- */

enum fa_tag { FA_CLOSE, FA_DUP2, FA_OPEN, FA_CLOSEFROM, FA_NONE /* no descriptor changes */ };

struct fa_action {
	enum fa_tag tag;
	int fd, newfd;
};

struct fa_entry {
	const posix_spawn_file_actions_t *key;
	bool unknown; /* actions were added that we did not see */
	int n, cap;
	struct fa_action *v;
	struct fa_entry *next;
};

static struct fa_entry *fa_table;
static pthread_mutex_t fa_lock = PTHREAD_MUTEX_INITIALIZER;

/* fa_lock held. */
static struct fa_entry **fa_find(const posix_spawn_file_actions_t *fa)
{
	struct fa_entry **e = &fa_table;
	while (*e && (*e)->key != fa)
		e = &(*e)->next;
	return e;
}

static void fa_forget(const posix_spawn_file_actions_t *fa)
{
	pthread_mutex_lock(&fa_lock);
	struct fa_entry **e = fa_find(fa);
	struct fa_entry *old = *e;
	if (old) {
		*e = old->next;
		free(old->v);
		free(old);
	}
	pthread_mutex_unlock(&fa_lock);
}

/* The real add function succeeded on ${fa}: remember its action. Out of
 * memory leaves the entry unknown, which refuses spawning with it. */
static void fa_record(const posix_spawn_file_actions_t *fa, enum fa_tag tag, int fd, int newfd)
{
	pthread_mutex_lock(&fa_lock);
	struct fa_entry **e = fa_find(fa);
	if (!*e) {
		*e = calloc(1, sizeof **e);
		if (!*e) {
			pthread_mutex_unlock(&fa_lock);
			return; /* no entry: __used says unknown actions */
		}
		(*e)->key = fa;
	}
	struct fa_entry *en = *e;
	if (en->n != fa->__used - 1)
		en->unknown = true;
	if (!en->unknown && en->n == en->cap) {
		int cap = en->cap ? 2 * en->cap : 8;
		struct fa_action *v = realloc(en->v, (size_t)cap * sizeof *v);
		if (v) {
			en->v = v;
			en->cap = cap;
		} else {
			en->unknown = true;
		}
	}
	if (!en->unknown)
		en->v[en->n++] = (struct fa_action){tag, fd, newfd};
	pthread_mutex_unlock(&fa_lock);
}

/* A fork while another thread holds fa_lock must not leave the child
 * with it held (its posix_spawn would hang). */
static void fa_lock_take(void)
{
	pthread_mutex_lock(&fa_lock);
}

static void fa_lock_drop(void)
{
	pthread_mutex_unlock(&fa_lock);
}

__attribute__((constructor)) static void fa_init(void)
{
	pthread_atfork(fa_lock_take, fa_lock_drop, fa_lock_drop);
}

/* A copy of ${fa}'s actions in ${*out} (malloc'd, may be NULL when none):
 * their count, or -1 when they are unknown. */
static int fa_actions(const posix_spawn_file_actions_t *fa, struct fa_action **out)
{
	*out = NULL;
	if (!fa || fa->__used == 0)
		return 0;
	int n = -1;
	pthread_mutex_lock(&fa_lock);
	struct fa_entry *e = *fa_find(fa);
	if (e && !e->unknown && e->n == fa->__used) {
		*out = malloc((size_t)e->n * sizeof **out);
		if (*out) {
			memcpy(*out, e->v, (size_t)e->n * sizeof **out);
			n = e->n;
		}
	}
	pthread_mutex_unlock(&fa_lock);
	return n;
}

SHIM_EXPORT int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	fa_forget(fa); /* memory reused without destroy */
	return REAL(posix_spawn_file_actions_init)(fa);
}

SHIM_EXPORT int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	fa_forget(fa);
	return REAL(posix_spawn_file_actions_destroy)(fa);
}

#define FA_ADD(call, tag, fd, newfd)                   \
	do {                                           \
		int r_ = call;                         \
		if (r_ == 0)                           \
			fa_record(fa, tag, fd, newfd); \
		return r_;                             \
	} while (0)

SHIM_EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	FA_ADD(REAL(posix_spawn_file_actions_addclose)(fa, fd), FA_CLOSE, fd, -1);
}

SHIM_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	FA_ADD(REAL(posix_spawn_file_actions_adddup2)(fa, fd, newfd), FA_DUP2, fd, newfd);
}

SHIM_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd,
						 const char *path, int oflag, mode_t mode)
{
	FA_ADD(REAL(posix_spawn_file_actions_addopen)(fa, fd, path, oflag, mode), FA_OPEN, fd, -1);
}

/* glibc 2.29..2.35 additions: absent ones fail as an unknown call would. */
#define FA_REAL_OR_ENOSYS(name, ...) (REAL(name) ? REAL(name)(__VA_ARGS__) : ENOSYS)

SHIM_EXPORT int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa,
						     const char *path)
{
	FA_ADD(FA_REAL_OR_ENOSYS(posix_spawn_file_actions_addchdir_np, fa, path), FA_NONE, -1, -1);
}

SHIM_EXPORT int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	/* fchdir to a socket fails in the child (ENOTDIR): nothing moves */
	FA_ADD(FA_REAL_OR_ENOSYS(posix_spawn_file_actions_addfchdir_np, fa, fd), FA_NONE, fd, -1);
}

SHIM_EXPORT int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa, int from)
{
	FA_ADD(FA_REAL_OR_ENOSYS(posix_spawn_file_actions_addclosefrom_np, fa, from), FA_CLOSEFROM,
	       from, -1);
}

SHIM_EXPORT int posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *fa, int fd)
{
	FA_ADD(FA_REAL_OR_ENOSYS(posix_spawn_file_actions_addtcsetpgrp_np, fa, fd), FA_NONE, fd,
	       -1);
}

/* ---- which TLS descriptors reach the new program ---- */

/* A TLS descriptor as the child will have it: at ${fd}, a copy of our
 * ${orig}, surviving exec unless ${cloexec}. */
struct child_fd {
	int fd, orig;
	bool cloexec;
};

struct child_fds {
	struct child_fd *v;
	size_t n, cap;
	bool nomem;
};

static void child_add(struct child_fds *c, int fd, int orig, bool cloexec)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct child_fd *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->nomem = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct child_fd){fd, orig, cloexec};
}

static struct child_fd *child_at(struct child_fds *c, int fd)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].fd == fd)
			return &c->v[i];
	return NULL;
}

/* The descriptor at ${fd} (${from}: every one at ${fd} or above) leaves
 * the child. */
static void child_drop(struct child_fds *c, int fd, bool from)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++)
		if (from ? c->v[i].fd < fd : c->v[i].fd != fd)
			c->v[k++] = c->v[i];
	c->n = k;
}

static int collect_tls(int fd, sconn *s, void *arg)
{
	(void)s;
	int fl = REAL(fcntl)(fd, F_GETFD);
	if (fl >= 0) /* else closed behind our back (a vfork child's close_range) */
		child_add(arg, fd, fd, (fl & FD_CLOEXEC) != 0);
	return 0;
}

/* Replay ${n} file actions over the child's TLS descriptors, as
 * posix_spawn's child runs them (glibc spawni.c): dup2 clears
 * close-on-exec on the new number, also when both numbers are the same. */
static void child_replay(struct child_fds *c, const struct fa_action *a, int n)
{
	for (int i = 0; i < n; i++) {
		switch (a[i].tag) {
		case FA_CLOSE:
		case FA_OPEN: /* the number now names a file */
			child_drop(c, a[i].fd, false);
			break;
		case FA_CLOSEFROM:
			child_drop(c, a[i].fd, true);
			break;
		case FA_DUP2: {
			struct child_fd *src = child_at(c, a[i].fd);
			if (a[i].fd == a[i].newfd) {
				if (src)
					src->cloexec = false;
				break;
			}
			int orig = src ? src->orig : -1;
			child_drop(c, a[i].newfd, false);
			if (orig >= 0)
				child_add(c, a[i].newfd, orig, false);
			break;
		}
		case FA_NONE:
			break;
		}
	}
}

/* Our own file name, for LD_PRELOAD. */
static const char *self_path(void);

/* unloadable()'s answer when the exec is sure to fail (compared by
 * address): nothing is handed over for it, so a PATH search that tries
 * execve once per entry (Python's os.execvp, its subprocess child)
 * serialises the connections once, for the entry that runs. */
static const char cannot_run[] = "the exec would fail";

/* Whether execve(2) may run ${path}: false only when it is sure to fail
 * (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES: missing, not a regular
 * file, no execute permission for the effective ids, a noexec mount), so
 * its errno is the kernel's own. Anything unsure counts as runnable (a
 * needless hand-over, never a connection crossing without its state). */
static bool may_run(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno != ENOENT && errno != ENOTDIR && errno != ELOOP &&
		       errno != ENAMETOOLONG && errno != EACCES;
	if (!S_ISREG(st.st_mode))
		return false; /* execve: EACCES */
	return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0 || errno != EACCES;
}

/* Why the program at ${path} would run without tlshim, or NULL when its
 * loader will preload us, or cannot_run when the exec (or the
 * interpreter's) is sure to fail. Scripts are judged by their
 * interpreter (${depth} levels deep, as the kernel follows them). */
static const char *unloadable(const char *path, int depth)
{
	static const char *const no_read = "it cannot be read to check that it loads tlshim";
	if (!may_run(path))
		return cannot_run;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? NULL : no_read;
	unsigned char hdr[512];
	ssize_t n = pread(fd, hdr, sizeof hdr - 1, 0);
	if (n >= 2 && hdr[0] == '#' && hdr[1] == '!') {
		REAL(close)(fd);
		hdr[n] = '\0';
		char *p = (char *)hdr + 2;
		p += strspn(p, " \t");
		p[strcspn(p, " \t\n")] = '\0';
		if (depth >= 4)
			return "its script interpreters nest too deep";
		return *p ? unloadable(p, depth + 1) : "its #! line names no interpreter";
	}
	ElfW(Ehdr) eh;
	if (n < (ssize_t)sizeof eh || memcmp(hdr, ELFMAG, SELFMAG) != 0) {
		REAL(close)(fd);
		return "it is neither an ELF program nor a script";
	}
	memcpy(&eh, hdr, sizeof eh);
	static ElfW(Half) machine;
	if (!machine) {
		int me = open(self_path(), O_RDONLY | O_CLOEXEC);
		ElfW(Ehdr) mine;
		if (me >= 0 && pread(me, &mine, sizeof mine, 0) == (ssize_t)sizeof mine)
			machine = mine.e_machine;
		if (me >= 0)
			REAL(close)(me);
	}
	const char *why = NULL;
	if (eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
	    eh.e_machine != machine)
		why = "it is built for another word size or machine (the loader would skip "
		      "tlshim)";
	bool interp = false;
	for (unsigned i = 0; !why && i < eh.e_phnum && i < 4096; i++) {
		ElfW(Phdr) ph;
		if (eh.e_phentsize != sizeof ph ||
		    pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
			    (ssize_t)sizeof ph) {
			why = no_read;
			break;
		}
		interp |= ph.p_type == PT_INTERP;
	}
	REAL(close)(fd);
	if (!why && !interp)
		why = "it is statically linked (no dynamic loader, so no LD_PRELOAD)";
	if (!why && privileged(path))
		why = "it is setuid/setgid or has file capabilities (the loader ignores "
		      "LD_PRELOAD in secure-execution mode)";
	return why;
}

/* 0 when ${path} may be exec'd now, after ${n} file actions ${a} (n < 0:
 * actions we do not know), with the connections that reach it handed
 * over in ${h} (handover.h); -1 with errno EPERM (and a log line). */
static int spawn_begin(const char *what, const char *path, const struct fa_action *a, int n,
		       handover *h)
{
	h->state_fd = h->owner_fd = -1;
	h->env[0] = '\0';
	h->held = false;
	if (!shim_rules_active())
		return 0;
	int fd = -1;
	if (n < 0 && fdtab_foreach(any, &fd)) {
		shim_log(SHIM_LOG_WARN,
			 "%s %s refused: its file actions were made where tlshim could not see "
			 "them, and TLS connection fd %d is open (build them with the "
			 "posix_spawn_file_actions_add* calls, not by copying)",
			 what, path ? path : "?", fd);
		errno = EPERM;
		return -1;
	}
	/* A setuid/setgid or file-capability program (the loader ignores
	 * LD_PRELOAD) is refused by unloadable() when a connection would
	 * reach it; with none crossing, nothing of ours is at stake. */
	struct child_fds c = {0};
	fdtab_foreach(collect_tls, &c);
	if (n > 0)
		child_replay(&c, a, n);
	struct handover_fd *cross = c.n ? calloc(c.n, sizeof *cross) : NULL;
	int k = 0;
	for (size_t i = 0; cross && i < c.n; i++)
		if (!c.v[i].cloexec)
			cross[k++] = (struct handover_fd){c.v[i].fd, c.v[i].orig};
	const char *why = c.nomem || (c.n && !cross) ? "out of memory checking TLS connections"
			  : k                        ? unloadable(path, 0)
						     : NULL;
	if (why == cannot_run) { /* the real call fails with its own errno */
		free(cross);
		free(c.v);
		return 0;
	}
	if (why) {
		shim_log(SHIM_LOG_WARN,
			 "%s %s refused (EPERM): TLS connection fd %d would reach the new "
			 "program, but %s",
			 what, path ? path : "?", k ? cross[0].orig : -1, why);
		free(cross);
		free(c.v);
		errno = EPERM;
		return -1;
	}
	bool stays = strcmp(what, "exec") != 0 && strcmp(what, "fexecve") != 0;
	int r = handover_begin(h, what, path, cross, k, stays);
	free(cross);
	free(c.v);
	if (r < 0)
		return -1;
	/* The state must reach the child: no file action may take its
	 * descriptors away. */
	for (int i = 0; i < n && h->state_fd >= 0; i++) {
		bool hit = false;
		for (int q = 0; q < 2; q++) {
			int m = q ? h->owner_fd : h->state_fd;
			hit |= ((a[i].tag == FA_CLOSE || a[i].tag == FA_OPEN) && a[i].fd == m) ||
			       (a[i].tag == FA_DUP2 && a[i].newfd == m) ||
			       (a[i].tag == FA_CLOSEFROM && a[i].fd <= m);
		}
		if (hit) {
			shim_log(SHIM_LOG_WARN,
				 "%s %s refused (EPERM): its file actions would close the "
				 "descriptors that carry the TLS connection state (fd %d, %d)",
				 what, path ? path : "?", h->state_fd, h->owner_fd);
			handover_end(h);
			errno = EPERM;
			return -1;
		}
	}
	return 0;
}

/* 0 when ${path} may be exec'd now; -1 with errno EPERM (and a log line). */
static int exec_begin(const char *what, const char *path, handover *h)
{
	return spawn_begin(what, path, NULL, 0, h);
}

/* Our own file name, for LD_PRELOAD. */
static const char *self_path(void)
{
	static char path[PATH_MAX];
	if (!path[0]) {
		Dl_info info;
		if (dladdr((void *)self_path, &info) && info.dli_fname)
			snprintf(path, sizeof path, "%s", info.dli_fname);
	}
	return path;
}

/* An environment for an exec: the array to pass (NULL: the caller's own)
 * and the strings made for it (freed by env_free after a failed exec or
 * a spawn; an exec that succeeds takes them along). */
struct env {
	char **v;
	char *made[3];
};

/* with_tlshim(envp, ho, e): an environment equal to ${envp} but with
 * tlshim in LD_PRELOAD, the policy in TLSHIM_CONFIG and the hand-over
 * variable ${ho} ("NAME=..." or "": none; a stale one is dropped), in
 * ${e}; e->v NULL when nothing needs to change or out of memory. */
static void with_tlshim(char *const envp[], const char *ho, struct env *e)
{
	*e = (struct env){0};
	const char *lib = self_path();
	const char *policy = shim_rules_path();
	if (!lib[0] || !policy)
		return;
	static const char hovar[] = SHIM_HANDOVER_ENV "=";
	size_t n = 0, preload = (size_t)-1, config = (size_t)-1, stale = 0;
	for (; envp && envp[n]; n++) {
		if (strncmp(envp[n], "LD_PRELOAD=", 11) == 0)
			preload = n;
		else if (strncmp(envp[n], "TLSHIM_CONFIG=", 14) == 0)
			config = n;
		else if (strncmp(envp[n], hovar, sizeof hovar - 1) == 0)
			stale++;
	}
	bool has_lib = preload != (size_t)-1 && strstr(envp[preload] + 11, lib) != NULL;
	bool has_cfg = config != (size_t)-1 && strcmp(envp[config] + 14, policy) == 0;
	if (has_lib && has_cfg && !stale && !ho[0])
		return;
	char **out = calloc(n + 4, sizeof *out);
	if (!out)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (i != preload && i != config && strncmp(envp[i], hovar, sizeof hovar - 1) != 0)
			out[k++] = envp[i];
	char *p = NULL, *c = NULL, *h = NULL;
	const char *old = preload != (size_t)-1 ? envp[preload] + 11 : "";
	if (has_lib ? asprintf(&p, "LD_PRELOAD=%s", old) < 0
		    : asprintf(&p, "LD_PRELOAD=%s%s%s", lib, *old ? ":" : "", old) < 0)
		p = NULL;
	if (asprintf(&c, "TLSHIM_CONFIG=%s", policy) < 0)
		c = NULL;
	if (ho[0] && !(h = strdup(ho))) {
		free(p);
		free(c);
		free(out);
		return;
	}
	if (p)
		out[k++] = p;
	if (c)
		out[k++] = c;
	if (h)
		out[k++] = h;
	out[k] = NULL;
	*e = (struct env){out, {p, c, h}};
}

static void env_free(struct env *e)
{
	for (int i = 0; i < 3; i++)
		free(e->made[i]);
	free(e->v);
	*e = (struct env){0};
}

/* env_for(envp, h, e): the environment for an exec or spawn that hands
 * over ${h}, in ${e}; -1 with errno ENOMEM and ${h} ended when the
 * hand-over could not be put in it (the exec must not go on without
 * it). */
/* An environment a vfork child's exec took along: made in the parent's
 * heap (the memory is shared), it stays there once the exec succeeded.
 * Kept in the vforking thread's own storage and freed by that thread's
 * next exec (in the parent or its next vfork child), which runs only once
 * this child has exec'd or exited: at most one per thread stays behind. */
static __thread struct {
	pid_t pid; /* the child that made it; 0: none */
	struct env e;
} left __attribute__((tls_model("initial-exec")));

static int env_for(char *const envp[], handover *h, struct env *e)
{
	*e = (struct env){0};
	if (left.pid && left.pid != getpid()) {
		env_free(&left.e);
		left.pid = 0;
	}
	if (shim_rules_active())
		with_tlshim(envp, h->env, e);
	if (h->env[0] && !e->v) {
		shim_log(SHIM_LOG_WARN, "exec refused: out of memory for its environment");
		handover_end(h);
		errno = ENOMEM;
		return -1;
	}
	if (e->v && shim_fork_foreign()) {
		left.pid = getpid();
		left.e = *e;
	}
	return 0;
}

/* The exec or spawn is over (failed, or a spawn parent goes on). */
static int exec_end(handover *h, struct env *e, int r)
{
	int saved = errno;
	handover_end(h);
	if (left.pid && left.pid == getpid())
		left.pid = 0; /* freed here, not by the next exec */
	env_free(e);
	errno = saved;
	return r;
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	handover h;
	struct env env;
	if (exec_begin("exec", path, &h) < 0 || env_for(envp, &h, &env) < 0)
		return -1;
	return exec_end(&h, &env, REAL(execve)(path, argv, env.v ? env.v : envp));
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* PATH search as execvp does it (an empty entry is the current
 * directory), for the checks before the exec: the first entry that
 * may_run(), in ${out}; false when none may (the exec fails by itself). */
static bool which(const char *file, char *out, size_t len)
{
	if (strchr(file, '/')) {
		snprintf(out, len, "%s", file);
		return true;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		snprintf(out, len, "%.*s%s%s", (int)(end - path), path, end > path ? "/" : "",
			 file);
		if (may_run(out))
			return true;
		path = *end ? end + 1 : end;
	}
	return false;
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	char full[PATH_MAX];
	handover h;
	struct env env;
	if (exec_begin("exec", which(file, full, sizeof full) ? full : file, &h) < 0 ||
	    env_for(envp, &h, &env) < 0)
		return -1;
	return exec_end(&h, &env, REAL(execvpe)(file, argv, env.v ? env.v : envp));
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* execl family: collect the variadic arguments into an argv on the stack,
 * as glibc does: these run in vfork children, where memory taken from the
 * heap is the parent's and is never given back once the exec succeeds (a
 * leak LSan showed in shim/test_spawn and shim/test_vfork), and where
 * malloc itself is not safe. */
#define COLLECT_ARGS(first, last_arg, argv)    \
	va_list ap;                            \
	size_t n_ = 1;                         \
	va_start(ap, first);                   \
	while (va_arg(ap, char *))             \
		n_++;                          \
	va_end(ap);                            \
	if (n_ >= INT_MAX) {                   \
		errno = E2BIG;                 \
		return -1;                     \
	}                                      \
	char *argv[n_ + 1];                    \
	argv[0] = (char *)(first);             \
	va_start(ap, first);                   \
	for (size_t i_ = 1; i_ <= n_; i_++)    \
		argv[i_] = va_arg(ap, char *); \
	last_arg;                              \
	va_end(ap)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	COLLECT_ARGS(arg, (void)0, argv);
	return execve(path, argv, environ);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	COLLECT_ARGS(arg, (void)0, argv);
	return execvpe(file, argv, environ);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	COLLECT_ARGS(arg, envp = va_arg(ap, char *const *), argv);
	return execve(path, argv, envp);
}

static int spawn_common(const char *checked, const posix_spawn_file_actions_t *fa, handover *h)
{
	struct fa_action *a;
	int n = fa_actions(fa, &a);
	int r = spawn_begin("spawn", checked, a, n, h);
	free(a);
	return r;
}

/* posix_spawn: the parent goes on with its copies of what it handed over,
 * under the fork rule (handover.h). */
SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	handover h;
	struct env env;
	if (spawn_common(path, fa, &h) < 0)
		return EPERM;
	if (env_for(envp, &h, &env) < 0)
		return ENOMEM;
	return exec_end(&h, &env,
			REAL(posix_spawn)(pid, path, fa, attr, argv, env.v ? env.v : envp));
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	char full[PATH_MAX];
	handover h;
	struct env env;
	if (spawn_common(which(file, full, sizeof full) ? full : file, fa, &h) < 0)
		return EPERM;
	if (env_for(envp, &h, &env) < 0)
		return ENOMEM;
	return exec_end(&h, &env,
			REAL(posix_spawnp)(pid, file, fa, attr, argv, env.v ? env.v : envp));
}

/* The file execveat(dirfd, path, ..., flags) runs, as a path stat() and
 * getxattr() can follow (for the privileged-program check and the log). */
static const char *at_path(int dirfd, const char *path, int flags, char *out, size_t len)
{
	if (path && (path[0] == '/' || dirfd == AT_FDCWD))
		return path;
	if (!path || (path[0] == 0 && (flags & AT_EMPTY_PATH)))
		snprintf(out, len, "/proc/self/fd/%d", dirfd);
	else
		snprintf(out, len, "/proc/self/fd/%d/%s", dirfd, path);
	return out;
}

SHIM_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
			 int flags)
{
	char full[PATH_MAX + 32];
	handover h;
	struct env env;
	if (exec_begin("exec", at_path(dirfd, path, flags, full, sizeof full), &h) < 0 ||
	    env_for(envp, &h, &env) < 0)
		return -1;
	char *const *e = env.v ? env.v : envp;
	int r = REAL(execveat) ? REAL(execveat)(dirfd, path, argv, e, flags)
			       : (int)REAL(syscall)(SYS_execveat, dirfd, path, argv, e, flags);
	return exec_end(&h, &env, r);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char full[64];
	handover h;
	struct env env;
	if (exec_begin("fexecve", at_path(fd, "", AT_EMPTY_PATH, full, sizeof full), &h) < 0 ||
	    env_for(envp, &h, &env) < 0)
		return -1;
	return exec_end(&h, &env, REAL(fexecve)(fd, argv, env.v ? env.v : envp));
}
