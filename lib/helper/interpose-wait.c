// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * interpose-wait.c - the calls the kernel does not restart after a
 * handler, interposed (interpose.c, 3.): the signal waits, poll, select
 * and epoll, the sleeps, semaphores, System V IPC and AIO: the engine's
 * signal taken out of their masks, a fixup's EINTR hidden.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compiler.h"
#include "interpose-int.h"
#include "timespec.h"

/* --- the signal waits ------------------------------------------------------ */

AT_EXPORT int sigwait(const sigset_t *set, int *sig)
{
	sigset_t buf;

	/* glibc's sigwait already loops on EINTR (POSIX: it never fails
	 * with EINTR). */
	return REAL(sigwait)(at_ip_strip(set, &buf), sig);
}

AT_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	struct retry rt;
	sigset_t buf;
	int r;

	set = at_ip_strip(set, &buf);
	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(sigwaitinfo)(set, info);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
			   const struct timespec *timeout)
{
	struct retry rt;
	sigset_t buf;
	int r;

	set = at_ip_strip(set, &buf);
	at_ip_retry_begin(&rt, timeout);
	do
		r = REAL(sigtimedwait)(set, info, timeout);
	while (at_ip_retry_again(&rt, r, &timeout));
	return r;
}

AT_EXPORT int sigsuspend(const sigset_t *mask)
{
	struct retry rt;
	sigset_t buf;
	int r;

	mask = at_ip_strip(mask, &buf);
	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(sigsuspend)(mask);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

/* glibc's go to its internal __sigsuspend, past ours.  The BSD sigpause
 * takes the mask of signals 1 to 32 (so never the engine's); the X/Open
 * one, __xpg_sigpause (what <signal.h> calls sigpause), takes a signal
 * out of the current mask. */
int __sigpause(int sig_or_mask, int is_sig);
AT_EXPORT int __sigpause(int sig_or_mask, int is_sig)
{
	sigset_t set;
	int sig;

	if (is_sig) {
		if (REAL(sigprocmask)(SIG_BLOCK, NULL, &set) < 0 ||
		    sigdelset(&set, sig_or_mask) < 0)
			return -1;
	} else {
		sigemptyset(&set);
		for (sig = 1; sig <= 32 && sig < _NSIG; sig++)
			if ((unsigned)sig_or_mask & (1u << (sig - 1)))
				sigaddset(&set, sig); /* not glibc's own */
	}
	return sigsuspend(&set);
}

int __xpg_sigpause(int sig);
AT_EXPORT int __xpg_sigpause(int sig)
{
	if (sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return -1;
	}
	return __sigpause(sig, 1);
}

/* The symbol sigpause, the BSD one: <signal.h> renames ours. */
int at_bsd_sigpause(int mask) __asm__("sigpause");
AT_EXPORT int at_bsd_sigpause(int mask)
{
	return __sigpause(mask, 0);
}

AT_EXPORT int pause(void)
{
	struct retry rt;
	int r;

	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(pause)();
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

/* --- poll, select, epoll ------------------------------------------------- */

AT_EXPORT int poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct retry rt;
	int r;

	at_ip_retry_begin_ms(&rt, ms);
	do
		r = REAL(poll)(fds, n, ms);
	while (at_ip_retry_again_ms(&rt, r, &ms));
	return r;
}

int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen);
AT_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, ms);
}

AT_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		    const sigset_t *sigmask)
{
	struct retry rt;
	sigset_t buf;
	int r;

	sigmask = at_ip_strip(sigmask, &buf);
	at_ip_retry_begin(&rt, tmo);
	do
		r = REAL(ppoll)(fds, n, tmo, sigmask);
	while (at_ip_retry_again(&rt, r, &tmo));
	return r;
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		const sigset_t *sigmask, size_t fdslen);
AT_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
			  const struct timespec *tmo, const sigset_t *sigmask,
			  size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, tmo, sigmask);
}

/* The fd sets as they were before the call, to start again from. */
struct fdsets {
	fd_set r, w, e;
};

static void save_sets(struct fdsets *s, fd_set *r, fd_set *w, fd_set *e)
{
	if (r)
		s->r = *r;
	if (w)
		s->w = *w;
	if (e)
		s->e = *e;
}

static void restore_sets(const struct fdsets *s, fd_set *r, fd_set *w,
			 fd_set *e)
{
	if (r)
		*r = s->r;
	if (w)
		*w = s->w;
	if (e)
		*e = s->e;
}

AT_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
		     struct timeval *tv)
{
	const struct timespec *tmo = NULL;
	struct timespec d;
	struct fdsets sets;
	struct retry rt;
	int ret;

	if (tv) {
		d = (struct timespec){ tv->tv_sec, tv->tv_usec * 1000L };
		tmo = &d;
	}
	save_sets(&sets, r, w, e);
	at_ip_retry_begin(&rt, tmo);
	while (ret = REAL(select)(nfds, r, w, e, tv),
	       at_ip_retry_again(&rt, ret, &tmo)) {
		restore_sets(&sets, r, w, e);
		if (tv) { /* rounded up, and still a valid timeval */
			tv->tv_sec = tmo->tv_sec;
			tv->tv_usec = (tmo->tv_nsec + 999) / 1000;
			if (tv->tv_usec >= 1000000) {
				tv->tv_sec++;
				tv->tv_usec -= 1000000;
			}
		}
	}
	return ret;
}

AT_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *tmo, const sigset_t *sigmask)
{
	struct fdsets sets;
	struct retry rt;
	sigset_t buf;
	int ret;

	sigmask = at_ip_strip(sigmask, &buf);
	save_sets(&sets, r, w, e);
	at_ip_retry_begin(&rt, tmo);
	while (ret = REAL(pselect)(nfds, r, w, e, tmo, sigmask),
	       at_ip_retry_again(&rt, ret, &tmo))
		restore_sets(&sets, r, w, e);
	return ret;
}

AT_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	struct retry rt;
	int r;

	at_ip_retry_begin_ms(&rt, ms);
	do
		r = REAL(epoll_wait)(epfd, ev, max, ms);
	while (at_ip_retry_again_ms(&rt, r, &ms));
	return r;
}

AT_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
			  const sigset_t *sigmask)
{
	struct retry rt;
	sigset_t buf;
	int r;

	sigmask = at_ip_strip(sigmask, &buf);
	at_ip_retry_begin_ms(&rt, ms);
	do
		r = REAL(epoll_pwait)(epfd, ev, max, ms, sigmask);
	while (at_ip_retry_again_ms(&rt, r, &ms));
	return r;
}

AT_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			   const struct timespec *tmo, const sigset_t *sigmask)
{
	struct retry rt;
	sigset_t buf;
	int r;

	if (!REAL(epoll_pwait2)) {
		errno = ENOSYS;
		return -1;
	}
	sigmask = at_ip_strip(sigmask, &buf);
	at_ip_retry_begin(&rt, tmo);
	do
		r = at_real.epoll_pwait2(epfd, ev, max, tmo, sigmask);
	while (at_ip_retry_again(&rt, r, &tmo));
	return r;
}

/* --- sleeps ------------------------------------------------------------------ */

AT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct timespec left, mine;
	struct mark m;
	int r;

	at_ip_mark(&m);
	for (;;) {
		r = REAL(nanosleep)(req, &mine);
		if (!at_ip_spurious(r, &m))
			break;
		left = mine; /* the kernel's own count of what is left */
		req = &left;
	}
	if (r < 0 && errno == EINTR && rem)
		*rem = mine;
	return r;
}

AT_EXPORT int clock_nanosleep(clockid_t clk, int flags,
			      const struct timespec *req, struct timespec *rem)
{
	struct timespec left, mine;
	struct mark m;
	int r, saved_errno = errno;
	bool again;

	at_ip_mark(&m);
	for (;;) {
		r = REAL(clock_nanosleep)(clk, flags, req, &mine);
		/* Returns the error number; errno is not set. */
		if (r != EINTR)
			return r;
		errno = EINTR;
		again = at_ip_spurious(-1, &m);
		errno = saved_errno;
		if (!again)
			break;
		if (!(flags & TIMER_ABSTIME)) {
			left = mine;
			req = &left;
		}
	}
	if (rem && !(flags & TIMER_ABSTIME))
		*rem = mine;
	return r;
}

AT_EXPORT unsigned int sleep(unsigned int seconds)
{
	struct timespec req = { seconds, 0 }, rem = { 0, 0 };

	if (nanosleep(&req, &rem) < 0 && errno == EINTR)
		return (unsigned)rem.tv_sec + (rem.tv_nsec >= 500000000L);
	return 0;
}

AT_EXPORT int usleep(useconds_t usec)
{
	struct timespec req = { usec / 1000000, (long)(usec % 1000000) * 1000 };

	return nanosleep(&req, NULL);
}

/* --- semaphores, System V IPC, AIO ------------------------------------------ */

/* Timed futex waits end with EINTR after a handler; absolute timeouts. */
AT_EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	struct retry rt;
	int r;

	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(sem_timedwait)(sem, abstime);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int sem_clockwait(sem_t *sem, clockid_t clk,
			    const struct timespec *abstime)
{
	struct retry rt;
	int r;

	if (!REAL(sem_clockwait)) {
		errno = ENOSYS;
		return -1;
	}
	at_ip_retry_begin(&rt, NULL);
	do
		r = at_real.sem_clockwait(sem, clk, abstime);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

/* EINTR means nothing was sent, received or applied. */
AT_EXPORT ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	struct retry rt;
	ssize_t r;

	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(msgrcv)(id, msg, size, type, flags);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int msgsnd(int id, const void *msg, size_t size, int flags)
{
	struct retry rt;
	int r;

	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(msgsnd)(id, msg, size, flags);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int semop(int id, struct sembuf *ops, size_t n)
{
	struct retry rt;
	int r;

	at_ip_retry_begin(&rt, NULL);
	do
		r = REAL(semop)(id, ops, n);
	while (at_ip_retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int semtimedop(int id, struct sembuf *ops, size_t n,
			 const struct timespec *tmo)
{
	struct retry rt;
	int r;

	at_ip_retry_begin(&rt, tmo);
	do
		r = REAL(semtimedop)(id, ops, n, tmo);
	while (at_ip_retry_again(&rt, r, &tmo));
	return r;
}

/* libaio's (when the program has it): returns -errno, errno is not set;
 * relative timeout. */
int io_getevents(void *ctx, long min_nr, long nr, struct io_event *ev,
		 struct timespec *tmo);
AT_EXPORT int io_getevents(void *ctx, long min_nr, long nr, struct io_event *ev,
			   struct timespec *tmo)
{
	const struct timespec *left = tmo;
	int r, saved_errno = errno;
	struct retry rt;
	bool again;

	if (!REAL(io_getevents))
		return -ENOSYS;
	at_ip_retry_begin(&rt, tmo);
	do {
		/* LEFT is the caller's TMO or rt.left: writable. */
		r = at_real.io_getevents(ctx, min_nr, nr, ev,
					 (struct timespec *)left);
		if (r != -EINTR)
			return r;
		errno = EINTR;
		again = at_ip_retry_again(&rt, -1, &left);
		errno = saved_errno;
	} while (again);
	return r;
}
