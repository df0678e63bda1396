/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * interpose-int.h - what the helper's interposed call families share
 * (interpose.c holds it): the next definitions of what we interpose, the
 * counters that tell a fixup's EINTR from a real one and the retry
 * shapes built on them, the engine's signal taken out of a set.  The
 * families: interpose.c (masks and handlers), interpose-exec.c,
 * interpose-wait.c (signal waits, polls, sleeps, IPC), interpose-sock.c.
 */
#ifndef AT_INTERPOSE_INT_H
#define AT_INTERPOSE_INT_H

#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <time.h>

struct io_event; /* libaio's; only passed through */

struct at_real {
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*sigwait)(const sigset_t *, int *);
	int (*sigwaitinfo)(const sigset_t *, siginfo_t *);
	int (*sigtimedwait)(const sigset_t *, siginfo_t *,
			    const struct timespec *);
	int (*signalfd)(int, const sigset_t *, int);
	int (*sigsuspend)(const sigset_t *);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
		     const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *,
		       const struct timespec *, const sigset_t *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int,
			    const struct timespec *, const sigset_t *);
	int (*nanosleep)(const struct timespec *, struct timespec *);
	int (*clock_nanosleep)(clockid_t, int, const struct timespec *,
			       struct timespec *);
	int (*pause)(void);
	int (*pthread_attr_setsigmask_np)(pthread_attr_t *, const sigset_t *);
	int (*sem_timedwait)(sem_t *, const struct timespec *);
	int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
	ssize_t (*msgrcv)(int, void *, size_t, long, int);
	int (*msgsnd)(int, const void *, size_t, int);
	int (*semop)(int, struct sembuf *, size_t);
	int (*semtimedop)(int, struct sembuf *, size_t,
			  const struct timespec *);
	int (*io_getevents)(void *, long, long, struct io_event *,
			    struct timespec *);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, __SOCKADDR_ARG,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			struct timespec *);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, __CONST_SOCKADDR_ARG,
			  socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	int (*accept)(int, __SOCKADDR_ARG, socklen_t *);
	int (*accept4)(int, __SOCKADDR_ARG, socklen_t *, int);
	int (*connect)(int, __CONST_SOCKADDR_ARG, socklen_t);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
};

/* The next definitions, resolved by at_interpose_init() (or at first use). */
extern struct at_real at_real;
void *at_ip_next(const char *name);
#define RESOLVE(f) (at_real.f = at_ip_next(#f))
#define REAL(f)                                                                \
	({                                                                     \
		if (!at_real.f)                                                \
			RESOLVE(f);                                            \
		at_real.f;                                                     \
	})

/* The engine's signal (0 before at_interpose_init()). */
extern int at_ip_engine_sig;
/* This thread has blocked the engine's signal around an exec
 * (interpose-exec.c); initial-exec TLS, read in signal context. */
extern __thread bool at_ip_in_exec __attribute__((tls_model("initial-exec")));

/* The counters at one moment (see interpose.c, 3.). */
struct mark {
	unsigned fixups;
	unsigned app_sigs;
};

void at_ip_mark(struct mark *m);
/* Failed with EINTR, and only a fixup ran since M?  Moves M on. */
bool at_ip_spurious(int r, struct mark *m);

/*
 * A call the kernel does not restart after a handler is made again after a
 * spurious EINTR, with what is left of its timeout when it has one:
 *
 *	struct retry rt;
 *
 *	at_ip_retry_begin(&rt, tmo);
 *	do
 *		r = REAL(call)(..., tmo);
 *	while (at_ip_retry_again(&rt, r, &tmo));
 *
 * (_ms for a timeout in milliseconds; the socket calls, whose timeout is
 * the socket's, have their own in interpose-sock.c.)
 */
struct retry {
	struct mark m;
	struct timespec deadline, left;
};

/* Before the first call; TMO is its relative timeout, or NULL. */
void at_ip_retry_begin(struct retry *rt, const struct timespec *tmo);
/* The call returned R (-1 with errno on failure): make it again?  Then
 * *TMO, if TMO and *TMO are not NULL, points to what is left of it. */
bool at_ip_retry_again(struct retry *rt, long r, const struct timespec **tmo);
/* The same for a timeout of MS milliseconds (none when not positive). */
void at_ip_retry_begin_ms(struct retry *rt, int ms);
bool at_ip_retry_again_ms(struct retry *rt, long r, int *ms);

/* SET without the engine's signal, in BUF; NULL stays NULL. */
const sigset_t *at_ip_strip(const sigset_t *set, sigset_t *buf);

#endif /* AT_INTERPOSE_INT_H */
