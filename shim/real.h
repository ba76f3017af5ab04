/*
 * real.h: the libc functions the hooks stand in front of, resolved once with
 * dlsym(RTLD_NEXT). The shim's own I/O always goes through these, so it never
 * re-enters its hooks.
 */
#ifndef TLSHIM_SHIM_REAL_H
#define TLSHIM_SHIM_REAL_H

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* posix_spawn_file_actions_t, short enough for the table below. */
typedef posix_spawn_file_actions_t shim_fa;

/* X(return type, name, parameter list) for every function we hook. */
#define SHIM_REAL_FUNCTIONS(X)                                                                   \
	X(int, connect, (int, const struct sockaddr *, socklen_t))                               \
	X(int, accept, (int, struct sockaddr *, socklen_t *))                                    \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int))                              \
	X(ssize_t, read, (int, void *, size_t))                                                  \
	X(ssize_t, write, (int, const void *, size_t))                                           \
	X(ssize_t, readv, (int, const struct iovec *, int))                                      \
	X(ssize_t, writev, (int, const struct iovec *, int))                                     \
	X(ssize_t, recv, (int, void *, size_t, int))                                             \
	X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))         \
	X(ssize_t, recvmsg, (int, struct msghdr *, int))                                         \
	X(ssize_t, send, (int, const void *, size_t, int))                                       \
	X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int))                                   \
	X(int, sendmmsg, (int, struct mmsghdr *, unsigned int, int))                             \
	X(int, recvmmsg, (int, struct mmsghdr *, unsigned int, int, struct timespec *))          \
	X(int, close, (int))                                                                     \
	X(int, shutdown, (int, int))                                                             \
	X(int, dup, (int))                                                                       \
	X(int, dup2, (int, int))                                                                 \
	X(int, dup3, (int, int, int))                                                            \
	X(int, fcntl, (int, int, ...))                                                           \
	X(int, ioctl, (int, unsigned long, ...))                                                 \
	X(int, getsockopt, (int, int, int, void *, socklen_t *))                                 \
	X(int, poll, (struct pollfd *, nfds_t, int))                                             \
	X(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))      \
	X(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))                    \
	X(int, pselect,                                                                          \
	  (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))        \
	X(int, epoll_ctl, (int, int, int, struct epoll_event *))                                 \
	X(int, epoll_wait, (int, struct epoll_event *, int, int))                                \
	X(int, epoll_create, (int))                                                              \
	X(int, epoll_create1, (int))                                                             \
	X(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *))             \
	X(int, epoll_pwait2,                                                                     \
	  (int, struct epoll_event *, int, const struct timespec *, const sigset_t *))           \
	X(ssize_t, sendfile, (int, int, off_t *, size_t))                                        \
	X(ssize_t, splice, (int, off64_t *, int, off64_t *, size_t, unsigned int))               \
	X(int, execve, (const char *, char *const[], char *const[]))                             \
	X(int, execvpe, (const char *, char *const[], char *const[]))                            \
	X(int, posix_spawn,                                                                      \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, \
	   char *const[], char *const[]))                                                        \
	X(int, posix_spawnp,                                                                     \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, \
	   char *const[], char *const[]))                                                        \
	X(int, system, (const char *))                                                           \
	X(FILE *, popen, (const char *, const char *))                                           \
	X(int, pclose, (FILE *))                                                                 \
	X(ssize_t, sendfile64, (int, int, off64_t *, size_t))                                    \
	X(ssize_t, copy_file_range, (int, off64_t *, int, off64_t *, size_t, unsigned int))      \
	X(pid_t, _Fork, (void))                                                                  \
	X(long, syscall, (long, ...))                                                            \
	X(int, socket, (int, int, int))                                                          \
	X(int, socketpair, (int, int, int, int *))                                               \
	X(int, pipe, (int *))                                                                    \
	X(int, pipe2, (int *, int))                                                              \
	X(int, open, (const char *, int, ...))                                                   \
	X(int, open64, (const char *, int, ...))                                                 \
	X(int, openat, (int, const char *, int, ...))                                            \
	X(int, openat64, (int, const char *, int, ...))                                          \
	X(int, __open_2, (const char *, int))                                                    \
	X(int, __open64_2, (const char *, int))                                                  \
	X(int, __openat_2, (int, const char *, int))                                             \
	X(int, __openat64_2, (int, const char *, int))                                           \
	X(int, creat, (const char *, mode_t))                                                    \
	X(int, creat64, (const char *, mode_t))                                                  \
	X(int, eventfd, (unsigned int, int))                                                     \
	X(int, timerfd_create, (int, int))                                                       \
	X(int, signalfd, (int, const sigset_t *, int))                                           \
	X(int, memfd_create, (const char *, unsigned int))                                       \
	X(int, inotify_init, (void))                                                             \
	X(int, inotify_init1, (int))                                                             \
	X(int, close_range, (unsigned int, unsigned int, int))                                   \
	X(void, closefrom, (int))                                                                \
	X(int, fclose, (FILE *))                                                                 \
	X(FILE *, fdopen, (int, const char *))                                                   \
	X(ssize_t, preadv2, (int, const struct iovec *, int, off_t, int))                        \
	X(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))                       \
	X(int, execveat, (int, const char *, char *const[], char *const[], int))                 \
	X(int, fexecve, (int, char *const[], char *const[]))                                     \
	X(int, clone, (int (*)(void *), void *, int, void *, ...))                               \
	X(int, posix_spawn_file_actions_init, (shim_fa *))                                       \
	X(int, posix_spawn_file_actions_destroy, (shim_fa *))                                    \
	X(int, posix_spawn_file_actions_addclose, (shim_fa *, int))                              \
	X(int, posix_spawn_file_actions_adddup2, (shim_fa *, int, int))                          \
	X(int, posix_spawn_file_actions_addopen, (shim_fa *, int, const char *, int, mode_t))    \
	X(int, posix_spawn_file_actions_addchdir_np, (shim_fa *, const char *))                  \
	X(int, posix_spawn_file_actions_addfchdir_np, (shim_fa *, int))                          \
	X(int, posix_spawn_file_actions_addclosefrom_np, (shim_fa *, int))                       \
	X(int, posix_spawn_file_actions_addtcsetpgrp_np, (shim_fa *, int))

#define SHIM_REAL_DECLARE(ret, name, params) ret(*name) params;
struct shim_real {
	SHIM_REAL_FUNCTIONS(SHIM_REAL_DECLARE)
};
#undef SHIM_REAL_DECLARE

extern struct shim_real shim_real;

/* shim_real_init(): resolve every entry (idempotent, thread-safe). A symbol
 * libc does not have stays NULL; the hook then fails with ENOSYS. */
void shim_real_init(void);

/* REAL(name): the real function, resolving on first use (a hook may run
 * before the constructor, e.g. from another preload's constructor). */
#define REAL(name) (shim_real.name ? shim_real.name : (shim_real_init(), shim_real.name))

#endif
