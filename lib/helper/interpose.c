// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * interpose.c - keep the application from blocking, waiting for or taking
 * over the engine's signal, and hide the EINTR a fixup would cause.
 *
 * The helper is found before libc (LD_PRELOAD, or linked ahead of it), so
 * these definitions replace libc's for every caller; each forwards to the
 * next definition (dlsym(RTLD_NEXT)).
 *
 * 1. Masks.  pthread_sigmask, sigprocmask, sigsuspend, ppoll, pselect,
 *    epoll_pwait(2), signalfd, pthread_attr_setsigmask_np and the sigwait
 *    family get the engine's signal taken out of the set they are given
 *    (on a copy), the way glibc treats its SIGSETXID.  sigaction's sa_mask
 *    too.  So no thread can block it and no thread can consume it as a
 *    waited-for signal.  The System V calls (sighold, sigset, sigignore,
 *    siginterrupt, the sigpause family) go to glibc's internal
 *    __sigprocmask/__sigaction/__sigsuspend, past our wrappers, so they
 *    are rewritten here on top of ours.
 * 2. Handlers.  sigaction/signal/bsd_signal/sysv_signal/sigset/sigignore/
 *    siginterrupt on the engine's signal fail with EINVAL - except for the
 *    engine's own installation (a handler that lives in liballthreads.so,
 *    which always gets SA_RESTART and never SA_RESETHAND/SA_NODEFER).
 *    Queries work.  sighold and sigset(SIG_HOLD) on it fail with EINVAL
 *    too, as they do for glibc's internal signals.
 * 3. Spurious EINTR.  The engine's handler is installed with SA_RESTART,
 *    so restartable calls (read, write, futex...) never notice a fixup.
 *    Calls the kernel never restarts after a handler (poll, ppoll, select,
 *    pselect, epoll_wait, epoll_pwait(2), nanosleep, clock_nanosleep,
 *    sigsuspend, sigpause, sigwaitinfo, sigtimedwait, pause, sem_timedwait,
 *    sem_clockwait, msgrcv, msgsnd, semop, semtimedop, io_getevents, and
 *    the socket calls on a socket with SO_RCVTIMEO/SO_SNDTIMEO) fail with
 *    EINTR instead.
 *    We tell such an EINTR from a real one with two per-thread counters:
 *      - fixups: bumped by a wrapper around the engine's handler (our
 *        sigaction installs the wrapper when the engine installs its
 *        handler, and reports the engine's own handler back on queries);
 *      - app_sigs: bumped by a trampoline through which every application
 *        handler installed with sigaction/signal runs.
 *    An EINTR is spurious when, during the call, fixups moved and app_sigs
 *    did not.  Then the call is made again with what is left of its
 *    timeout (measured on CLOCK_MONOTONIC).  If the wrapper could not be
 *    installed, only app_sigs is used.  A handler installed behind our back
 *    (raw rt_sigaction) that interrupts a call together with a fixup is the
 *    one case taken for spurious; it is documented in allthreads(7).
 *    Both counters are initial-exec TLS: async-signal-safe to touch.
 * 4. Discarded signals.  While the engine serves a broadcast on a thread
 *    it blocks every signal there except those whose disposition discards
 *    them (SIG_IGN, or SIG_DFL for SIGCHLD, SIGCONT, SIGURG, SIGWINCH):
 *    the kernel discards a signal when it is sent only if it is not
 *    blocked, and a blocked SIGCHLD of that thread's child would be queued
 *    and wake another thread into a spurious EINTR that no counter above
 *    explains.  Our sigaction keeps the engine's set of those signals
 *    (at_engine_set_discarded()): a signal leaves it before a handler is
 *    installed, and joins it once an ignoring disposition is.  A handler
 *    installed while a thread serves with that signal unblocked may still
 *    be reached there: app_trampoline() then sends the signal again to
 *    its own thread, blocked until the engine's handler returns, so no
 *    application handler runs inside the engine's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "engine.h"
#include "interpose.h"
#include "timespec.h"

#define TLS_IE __attribute__((tls_model("initial-exec")))

static __thread unsigned fixups TLS_IE;
static __thread unsigned app_sigs TLS_IE;
static __thread unsigned in_handler TLS_IE; /* an application handler */
static __thread unsigned in_engine TLS_IE;  /* the engine's handler */

static int engine_sig;
static void (*_Atomic engine_fn)(int, siginfo_t *, void *);
static _Atomic bool engine_wrapped;
static void *engine_base; /* where liballthreads.so is mapped */

/* The application's handlers, run through app_trampoline(). */
struct app_action {
	void (*_Atomic fn)(void);
	_Atomic bool siginfo;
};
static struct app_action app_act[_NSIG];

struct io_event; /* libaio's; only passed through */

static struct {
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
} real;

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

#define RESOLVE(f) (real.f = next(#f))
#define REAL(f)                                                                \
	({                                                                     \
		if (!real.f)                                                   \
			RESOLVE(f);                                            \
		real.f;                                                        \
	})

static bool discards(int sig, void (*h)(int));

/* The helper's start in a fork child (at_interpose_init()). */
static void (*lazy_start)(void);

void at_interpose_init(int sig, void (*start_in_child)(void))
{
	Dl_info info;
	int s;

	engine_sig = sig;
	lazy_start = start_in_child;
	RESOLVE(sigaction);
	RESOLVE(pthread_sigmask);
	RESOLVE(sigprocmask);
	RESOLVE(sigwait);
	RESOLVE(sigwaitinfo);
	RESOLVE(sigtimedwait);
	RESOLVE(signalfd);
	RESOLVE(sigsuspend);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait);
	RESOLVE(epoll_pwait2);
	RESOLVE(nanosleep);
	RESOLVE(clock_nanosleep);
	RESOLVE(pause);
	RESOLVE(pthread_attr_setsigmask_np);
	RESOLVE(sem_timedwait);
	RESOLVE(sem_clockwait);
	RESOLVE(msgrcv);
	RESOLVE(msgsnd);
	RESOLVE(semop);
	RESOLVE(semtimedop);
	RESOLVE(io_getevents);
	RESOLVE(recv);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(recvmmsg);
	RESOLVE(send);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(sendmmsg);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(connect);
	if (dladdr((void *)allthreads_signal, &info) && info.dli_fbase)
		engine_base = info.dli_fbase;
	/* dispositions we did not see set: inherited across execve (SIG_IGN
	 * survives it) or set before we were loaded */
	for (s = 1; s < _NSIG && s <= 64; s++) {
		struct sigaction cur;

		if (s == sig)
			at_engine_set_discarded(s, false);
		else if (real.sigaction(s, NULL, &cur) == 0)
			at_engine_set_discarded(s, discards(s, cur.sa_handler));
	}
}

int at_real_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return REAL(pthread_sigmask)(how, set, old);
}

int at_real_poll(struct pollfd *fds, nfds_t n, int ms)
{
	return REAL(poll)(fds, n, ms);
}

/* --- counters and EINTR ------------------------------------------------- */

struct mark {
	unsigned fixups;
	unsigned app_sigs;
};

static void mark(struct mark *m)
{
	/* The blocking calls are where a forked child starts its own
	 * helper (helper.c), never from inside a signal handler. */
	if (!__atomic_load_n(&in_handler, __ATOMIC_RELAXED) && lazy_start)
		lazy_start();
	m->fixups = __atomic_load_n(&fixups, __ATOMIC_RELAXED);
	m->app_sigs = __atomic_load_n(&app_sigs, __ATOMIC_RELAXED);
}

/* Failed with EINTR, and only a fixup ran since M?  Moves M on. */
static bool spurious(int r, struct mark *m)
{
	struct mark now;
	bool s;

	if (r != -1 || errno != EINTR)
		return false;
	mark(&now);
	if (now.app_sigs != m->app_sigs)
		s = false;
	else if (atomic_load_explicit(&engine_wrapped, memory_order_relaxed))
		s = now.fixups != m->fixups;
	else
		s = true;
	*m = now;
	return s;
}

static void engine_wrapper(int sig, siginfo_t *si, void *uc)
{
	void (*fn)(int, siginfo_t *, void *) = atomic_load(&engine_fn);

	__atomic_add_fetch(&fixups, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&in_engine, 1, __ATOMIC_RELAXED);
	if (fn)
		fn(sig, si, uc);
	__atomic_sub_fetch(&in_engine, 1, __ATOMIC_RELAXED);
}

/* Does handler H, for SIG, discard it (the kernel drops it when it is sent
 * to a thread that does not block it)? */
static bool discards(int sig, void (*h)(int))
{
	if (h == SIG_IGN)
		return true;
	if (h != SIG_DFL)
		return false;
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG ||
	       sig == SIGWINCH;
}

static bool synchronous(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

/* SIG reached an application handler inside the engine's (see 4. above):
 * send it again to this thread, with its siginfo, and block it until the
 * engine's handler returns (its mask is restored from UC).  False when it
 * must run now: a fault (the engine never blocks those either) or a queue
 * that is full. */
static bool defer(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	if (!__atomic_load_n(&in_engine, __ATOMIC_RELAXED) || !si || !ctx ||
	    synchronous(sig))
		return false;
	if (at_sys4(SYS_rt_tgsigqueueinfo, at_sys0(SYS_getpid),
		    at_sys0(SYS_gettid), sig, si) < 0)
		return false;
	sigaddset(&ctx->uc_sigmask, sig);
	return true;
}

static void app_trampoline(int sig, siginfo_t *si, void *uc)
{
	struct app_action *a;
	void (*fn)(void);

	if (defer(sig, si, uc))
		return;
	__atomic_add_fetch(&app_sigs, 1, __ATOMIC_RELAXED);
	if (sig <= 0 || sig >= _NSIG)
		return;
	a = &app_act[sig];
	fn = atomic_load(&a->fn);
	if (!fn)
		return;
	__atomic_add_fetch(&in_handler, 1, __ATOMIC_RELAXED);
	if (atomic_load(&a->siginfo))
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
	else
		((void (*)(int))fn)(sig);
	__atomic_sub_fetch(&in_handler, 1, __ATOMIC_RELAXED);
}

/* --- the retry shapes ------------------------------------------------------ */

/*
 * A call the kernel does not restart after a handler is made again after a
 * spurious EINTR, with what is left of its timeout when it has one:
 *
 *	struct retry rt;
 *
 *	retry_begin(&rt, tmo);
 *	do
 *		r = REAL(call)(..., tmo);
 *	while (retry_again(&rt, r, &tmo));
 *
 * (retry_begin_ms()/retry_again_ms() for a timeout in milliseconds; the
 * socket calls, whose timeout is the socket's, have sock_begin() and
 * sock_again() below.)
 */
struct retry {
	struct mark m;
	struct timespec deadline, left;
};

/* Before the first call; TMO is its relative timeout, or NULL. */
static void retry_begin(struct retry *rt, const struct timespec *tmo)
{
	if (tmo) {
		at_ts_now(&rt->deadline);
		at_ts_add(&rt->deadline, tmo);
	}
	mark(&rt->m);
}

/* The call returned R (-1 with errno on failure): make it again?  Then
 * *TMO, if TMO and *TMO are not NULL, points to what is left of it. */
static bool retry_again(struct retry *rt, long r, const struct timespec **tmo)
{
	if (r != -1 || !spurious(-1, &rt->m))
		return false;
	if (tmo && *tmo) {
		at_ts_left(&rt->deadline, &rt->left);
		*tmo = &rt->left;
	}
	return true;
}

/* The same for a timeout of MS milliseconds (none when not positive). */
static void retry_begin_ms(struct retry *rt, int ms)
{
	if (ms > 0)
		at_ts_after_ms(&rt->deadline, ms);
	mark(&rt->m);
}

static bool retry_again_ms(struct retry *rt, long r, int *ms)
{
	if (r != -1 || !spurious(-1, &rt->m))
		return false;
	if (*ms > 0)
		*ms = at_ts_ms_until(&rt->deadline, INT_MAX);
	return true;
}

/* --- masks -------------------------------------------------------------- */

/* SET without the engine's signal, in BUF; NULL stays NULL. */
static const sigset_t *strip(const sigset_t *set, sigset_t *buf)
{
	if (!set || !engine_sig || !sigismember(set, engine_sig))
		return set;
	*buf = *set;
	sigdelset(buf, engine_sig);
	return buf;
}

AT_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t buf;

	if (how != SIG_UNBLOCK)
		set = strip(set, &buf);
	return REAL(pthread_sigmask)(how, set, old);
}

AT_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t buf;

	if (how != SIG_UNBLOCK)
		set = strip(set, &buf);
	return REAL(sigprocmask)(how, set, old);
}

AT_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	sigset_t buf;

	return REAL(signalfd)(fd, strip(mask, &buf), flags);
}

/* A new thread starts with this mask, not its creator's. */
AT_EXPORT int pthread_attr_setsigmask_np(pthread_attr_t *attr,
					 const sigset_t *set)
{
	sigset_t buf;

	if (!REAL(pthread_attr_setsigmask_np))
		return ENOSYS;
	return real.pthread_attr_setsigmask_np(attr, strip(set, &buf));
}

/* glibc's blocks through its internal __sigprocmask, past ours.  Refused
 * for the engine's signal, as glibc refuses its own internal ones. */
AT_EXPORT int sighold(int sig)
{
	sigset_t set;

	if (engine_sig && sig == engine_sig) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&set);
	if (sigaddset(&set, sig) < 0)
		return -1;
	return REAL(sigprocmask)(SIG_BLOCK, &set, NULL);
}

/* --- handlers ------------------------------------------------------------- */

static bool is_engine_handler(const struct sigaction *act)
{
	Dl_info info;

	if (!(act->sa_flags & SA_SIGINFO) || !act->sa_sigaction || !engine_base)
		return false;
	return dladdr((void *)act->sa_sigaction, &info) &&
	       info.dli_fbase == engine_base;
}

/* Translate what the kernel holds back into what was asked for. */
static void unwrap(struct sigaction *old, void (*prev_fn)(void),
		   bool prev_siginfo)
{
	if (old->sa_sigaction == engine_wrapper) {
		old->sa_sigaction = atomic_load(&engine_fn);
	} else if (old->sa_sigaction == app_trampoline) {
		old->sa_handler = (void (*)(int))prev_fn;
		if (!prev_siginfo)
			old->sa_flags &= ~SA_SIGINFO;
	}
}

/* After a change of SIG's disposition: DISCARDED says whether the new one
 * discards it, or is -1 when the change failed (then the kernel is asked
 * what is there, errno kept). */
static void note_discarded(int sig, int discarded)
{
	struct sigaction cur;
	int e = errno;

	if (discarded < 0) {
		if (REAL(sigaction)(sig, NULL, &cur) == 0)
			at_engine_set_discarded(sig,
						discards(sig, cur.sa_handler));
		errno = e;
		return;
	}
	if (discarded)
		at_engine_set_discarded(sig, true);
}

static int engine_sigaction(const struct sigaction *act, struct sigaction *old)
{
	struct sigaction k;
	int r;

	if (!act) {
		r = REAL(sigaction)(engine_sig, NULL, old);
		if (r == 0 && old)
			unwrap(old, NULL, false);
		return r;
	}
	if (!is_engine_handler(act)) {
		errno = EINVAL;
		return -1;
	}
	at_engine_set_discarded(engine_sig, false);
	k = *act;
	k.sa_sigaction = engine_wrapper;
	/* Its handler is re-installable (a query reports it), but never so
	 * that a fixup interrupts restartable calls or resets it. */
	k.sa_flags |= SA_SIGINFO | SA_RESTART;
	k.sa_flags &= ~(SA_RESETHAND | SA_NODEFER);
	atomic_store(&engine_fn, act->sa_sigaction);
	r = REAL(sigaction)(engine_sig, &k, old);
	if (r == 0) {
		atomic_store(&engine_wrapped, true);
		if (old)
			unwrap(old, NULL, false);
	}
	return r;
}

AT_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	struct app_action *a;
	void (*prev_fn)(void);
	bool prev_siginfo, discarded = false;
	struct sigaction k;
	int r;

	if (sig <= 0 || sig >= _NSIG)
		return REAL(sigaction)(sig, act, old);
	if (engine_sig && sig == engine_sig)
		return engine_sigaction(act, old);
	a = &app_act[sig];
	prev_fn = atomic_load(&a->fn);
	prev_siginfo = atomic_load(&a->siginfo);
	if (act) {
		/* Out of the engine's discarded set before a handler can be
		 * there (see 4. above). */
		discarded = discards(sig, act->sa_handler);
		if (!discarded)
			at_engine_set_discarded(sig, false);
		k = *act;
		if (engine_sig)
			sigdelset(&k.sa_mask, engine_sig);
		if (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
			atomic_store(&a->siginfo,
				     (act->sa_flags & SA_SIGINFO) != 0);
			atomic_store(&a->fn, (void (*)(void))act->sa_handler);
			k.sa_sigaction = app_trampoline;
			k.sa_flags |= SA_SIGINFO;
		}
		act = &k;
	}
	r = REAL(sigaction)(sig, act, old);
	if (act)
		note_discarded(sig, r == 0 ? discarded : -1);
	if (r == 0 && old)
		unwrap(old, prev_fn, prev_siginfo);
	return r;
}

/* signal() with BSD semantics (glibc's default), sysv_signal() with
 * System V ones; both through our sigaction. */
static sighandler_t set_handler(int sig, sighandler_t h, int flags,
				bool mask_self)
{
	struct sigaction act, old;

	if (h == SIG_ERR || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = flags;
	sigemptyset(&act.sa_mask);
	if (mask_self)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

AT_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

sighandler_t bsd_signal(int sig, sighandler_t h);
AT_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESTART, true);
}

AT_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, false);
}

/* glibc's sigset, sigignore and siginterrupt go to its internal
 * __sigaction and __sigprocmask, past ours: the same, through ours. */
AT_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	struct sigaction act, old;
	sigset_t set, prev;

	if (disp == SIG_ERR || sig <= 0 || sig >= _NSIG ||
	    (engine_sig && sig == engine_sig)) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&set);
	if (sigaddset(&set, sig) < 0)
		return SIG_ERR;
	if (disp == SIG_HOLD) {
		if (REAL(sigprocmask)(SIG_BLOCK, &set, &prev) < 0)
			return SIG_ERR;
		if (sigismember(&prev, sig))
			return SIG_HOLD;
		if (sigaction(sig, NULL, &old) < 0)
			return SIG_ERR;
		return old.sa_handler;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = disp;
	sigemptyset(&act.sa_mask);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	if (REAL(sigprocmask)(SIG_UNBLOCK, &set, &prev) < 0)
		return SIG_ERR;
	return sigismember(&prev, sig) ? SIG_HOLD : old.sa_handler;
}

AT_EXPORT int sigignore(int sig)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_IGN;
	sigemptyset(&act.sa_mask);
	return sigaction(sig, &act, NULL);
}

AT_EXPORT int siginterrupt(int sig, int interrupt)
{
	struct sigaction act;

	/* Our sigaction would take the engine's handler back from a query
	 * as its own installation. */
	if (engine_sig && sig == engine_sig) {
		errno = EINVAL;
		return -1;
	}
	if (sigaction(sig, NULL, &act) < 0)
		return -1;
	if (interrupt)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return sigaction(sig, &act, NULL) < 0 ? -1 : 0;
}

/* --- exec ----------------------------------------------------------------------- */

/*
 * An engine signal that reaches a thread while it is inside execve(2)
 * stays pending across the exec, and the new image, whose disposition of
 * it is the default, is killed by it before any of its code runs (found
 * by tests/faults: a request in flight when the target execs).  So the
 * signal is blocked around every exec: a pending one then waits in the
 * new image until its helper has installed the handler and unblocks it
 * (at_helper_init), which takes it as the stray it is; without a helper
 * there, it stays blocked.  On failure the mask is put back.  Raw execve
 * system calls bypass this, as they bypass everything here.
 */
static void exec_begin(sigset_t *old)
{
	sigset_t one;

	sigemptyset(&one);
	if (engine_sig)
		sigaddset(&one, engine_sig);
	REAL(pthread_sigmask)(SIG_BLOCK, &one, old);
}

static int exec_failed(const sigset_t *old)
{
	int e = errno;

	REAL(pthread_sigmask)(SIG_SETMASK, old, NULL);
	errno = e;
	return -1;
}

AT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execve)(path, argv, envp);
	return exec_failed(&old);
}

AT_EXPORT int execv(const char *path, char *const argv[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execv)(path, argv);
	return exec_failed(&old);
}

AT_EXPORT int execvp(const char *file, char *const argv[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execvp)(file, argv);
	return exec_failed(&old);
}

AT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execvpe)(file, argv, envp);
	return exec_failed(&old);
}

AT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(fexecve)(fd, argv, envp);
	return exec_failed(&old);
}

/* execl, execlp, execle: the arguments into an array of their size,
 * then the v forms above (glibc's own call execve internally, past any
 * interposition). */
#define EXECL_MAX 65536u

/* How many arguments up to the NULL (more than EXECL_MAX: E2BIG). */
static size_t count_args(const char *arg0, va_list ap)
{
	size_t n = 1;
	va_list c;

	if (!arg0)
		return 0;
	va_copy(c, ap);
	while (n <= EXECL_MAX && va_arg(c, char *))
		n++;
	va_end(c);
	return n;
}

static void fill_args(const char *arg0, va_list ap, char **argv, size_t n)
{
	size_t i;

	if (n)
		argv[0] = (char *)arg0;
	for (i = 1; i < n; i++)
		argv[i] = va_arg(ap, char *);
	if (n)
		(void)va_arg(ap, char *); /* the NULL */
	argv[n] = NULL;
}

enum execl_form { EXECL_V, EXECL_VP, EXECL_VE };

/* The arguments after ARG0 (AP, up to the NULL; for execle the
 * environment follows it) as an array of their size, to the v form FORM
 * of PATH. */
static int execl_to_v(enum execl_form form, const char *path, const char *arg0,
		      va_list ap)
{
	size_t n = count_args(arg0, ap);

	if (n > EXECL_MAX) {
		errno = E2BIG;
		return -1;
	}
	{
		char *argv[n + 1];

		fill_args(arg0, ap, argv, n);
		switch (form) {
		case EXECL_VP:
			return execvp(path, argv);
		case EXECL_VE:
			return execve(path, argv, va_arg(ap, char *const *));
		default:
			return execv(path, argv);
		}
	}
}

/* In an execl-family function: its arguments after ARG, to FORM. */
#define EXECL_TO_V(form, path, arg)                                            \
	({                                                                     \
		va_list ap_;                                                   \
		int r_;                                                        \
                                                                               \
		va_start(ap_, arg);                                            \
		r_ = execl_to_v(form, path, arg, ap_);                         \
		va_end(ap_);                                                   \
		r_;                                                            \
	})

AT_EXPORT int execl(const char *path, const char *arg, ...)
{
	return EXECL_TO_V(EXECL_V, path, arg);
}

AT_EXPORT int execlp(const char *file, const char *arg, ...)
{
	return EXECL_TO_V(EXECL_VP, file, arg);
}

AT_EXPORT int execle(const char *path, const char *arg, ...)
{
	return EXECL_TO_V(EXECL_VE, path, arg);
}

/* --- the signal waits ------------------------------------------------------ */

AT_EXPORT int sigwait(const sigset_t *set, int *sig)
{
	sigset_t buf;

	/* glibc's sigwait already loops on EINTR (POSIX: it never fails
	 * with EINTR). */
	return REAL(sigwait)(strip(set, &buf), sig);
}

AT_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	struct retry rt;
	sigset_t buf;
	int r;

	set = strip(set, &buf);
	retry_begin(&rt, NULL);
	do
		r = REAL(sigwaitinfo)(set, info);
	while (retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
			   const struct timespec *timeout)
{
	struct retry rt;
	sigset_t buf;
	int r;

	set = strip(set, &buf);
	retry_begin(&rt, timeout);
	do
		r = REAL(sigtimedwait)(set, info, timeout);
	while (retry_again(&rt, r, &timeout));
	return r;
}

AT_EXPORT int sigsuspend(const sigset_t *mask)
{
	struct retry rt;
	sigset_t buf;
	int r;

	mask = strip(mask, &buf);
	retry_begin(&rt, NULL);
	do
		r = REAL(sigsuspend)(mask);
	while (retry_again(&rt, r, NULL));
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

	retry_begin(&rt, NULL);
	do
		r = REAL(pause)();
	while (retry_again(&rt, r, NULL));
	return r;
}

/* --- poll, select, epoll ------------------------------------------------- */

AT_EXPORT int poll(struct pollfd *fds, nfds_t n, int ms)
{
	struct retry rt;
	int r;

	retry_begin_ms(&rt, ms);
	do
		r = REAL(poll)(fds, n, ms);
	while (retry_again_ms(&rt, r, &ms));
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

	sigmask = strip(sigmask, &buf);
	retry_begin(&rt, tmo);
	do
		r = REAL(ppoll)(fds, n, tmo, sigmask);
	while (retry_again(&rt, r, &tmo));
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
	retry_begin(&rt, tmo);
	while (ret = REAL(select)(nfds, r, w, e, tv),
	       retry_again(&rt, ret, &tmo)) {
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

	sigmask = strip(sigmask, &buf);
	save_sets(&sets, r, w, e);
	retry_begin(&rt, tmo);
	while (ret = REAL(pselect)(nfds, r, w, e, tmo, sigmask),
	       retry_again(&rt, ret, &tmo))
		restore_sets(&sets, r, w, e);
	return ret;
}

AT_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	struct retry rt;
	int r;

	retry_begin_ms(&rt, ms);
	do
		r = REAL(epoll_wait)(epfd, ev, max, ms);
	while (retry_again_ms(&rt, r, &ms));
	return r;
}

AT_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
			  const sigset_t *sigmask)
{
	struct retry rt;
	sigset_t buf;
	int r;

	sigmask = strip(sigmask, &buf);
	retry_begin_ms(&rt, ms);
	do
		r = REAL(epoll_pwait)(epfd, ev, max, ms, sigmask);
	while (retry_again_ms(&rt, r, &ms));
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
	sigmask = strip(sigmask, &buf);
	retry_begin(&rt, tmo);
	do
		r = real.epoll_pwait2(epfd, ev, max, tmo, sigmask);
	while (retry_again(&rt, r, &tmo));
	return r;
}

/* --- sleeps ------------------------------------------------------------------ */

AT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct timespec left, mine;
	struct mark m;
	int r;

	mark(&m);
	for (;;) {
		r = REAL(nanosleep)(req, &mine);
		if (!spurious(r, &m))
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

	mark(&m);
	for (;;) {
		r = REAL(clock_nanosleep)(clk, flags, req, &mine);
		/* Returns the error number; errno is not set. */
		if (r != EINTR)
			return r;
		errno = EINTR;
		again = spurious(-1, &m);
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

	retry_begin(&rt, NULL);
	do
		r = REAL(sem_timedwait)(sem, abstime);
	while (retry_again(&rt, r, NULL));
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
	retry_begin(&rt, NULL);
	do
		r = real.sem_clockwait(sem, clk, abstime);
	while (retry_again(&rt, r, NULL));
	return r;
}

/* EINTR means nothing was sent, received or applied. */
AT_EXPORT ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	struct retry rt;
	ssize_t r;

	retry_begin(&rt, NULL);
	do
		r = REAL(msgrcv)(id, msg, size, type, flags);
	while (retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int msgsnd(int id, const void *msg, size_t size, int flags)
{
	struct retry rt;
	int r;

	retry_begin(&rt, NULL);
	do
		r = REAL(msgsnd)(id, msg, size, flags);
	while (retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int semop(int id, struct sembuf *ops, size_t n)
{
	struct retry rt;
	int r;

	retry_begin(&rt, NULL);
	do
		r = REAL(semop)(id, ops, n);
	while (retry_again(&rt, r, NULL));
	return r;
}

AT_EXPORT int semtimedop(int id, struct sembuf *ops, size_t n,
			 const struct timespec *tmo)
{
	struct retry rt;
	int r;

	retry_begin(&rt, tmo);
	do
		r = REAL(semtimedop)(id, ops, n, tmo);
	while (retry_again(&rt, r, &tmo));
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
	retry_begin(&rt, tmo);
	do {
		/* LEFT is the caller's TMO or rt.left: writable. */
		r = real.io_getevents(ctx, min_nr, nr, ev,
				      (struct timespec *)left);
		if (r != -EINTR)
			return r;
		errno = EINTR;
		again = retry_again(&rt, -1, &left);
		errno = saved_errno;
	} while (again);
	return r;
}

/* --- sockets ------------------------------------------------------------------ */

/*
 * A blocking socket call fails with EINTR after a handler only when the
 * socket has a timeout (SO_RCVTIMEO for receiving and accept, SO_SNDTIMEO
 * for sending and connect); without one the kernel restarts it.  Made
 * again, the call waits the whole timeout again, so it is made again only
 * while the timeout, counted from the first call, has not run out: the
 * whole wait is at least the timeout and less than twice it.  Once it has
 * run out, the call fails as the timeout would have made it fail (EAGAIN,
 * or EINPROGRESS for connect).  The timeout is read (getsockopt) only on a
 * spurious EINTR; a call costs one more clock read (vDSO) otherwise.
 */
struct sock_wait {
	struct mark m;
	struct timespec start;
};

static void sock_begin(struct sock_wait *w)
{
	at_ts_now(&w->start);
	mark(&w->m);
}

/* Make the call again?  When not, R and errno stand, except that errno is
 * EXPIRED when the EINTR was spurious but the timeout OPT has run out. */
static bool sock_again(long r, int fd, int opt, int expired,
		       struct sock_wait *w)
{
	struct timespec end, left;
	socklen_t len;
	struct timeval tv;

	if (r != -1 || !spurious(r, &w->m))
		return false;
	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0 ||
	    (tv.tv_sec <= 0 && tv.tv_usec <= 0))
		return true;
	end = w->start;
	at_ts_add(&end, &(struct timespec){ tv.tv_sec, tv.tv_usec * 1000L });
	at_ts_left(&end, &left);
	if (left.tv_sec || left.tv_nsec)
		return true;
	errno = expired;
	return false;
}

AT_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(recv)(fd, buf, n, flags);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
AT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			     int flags)
{
	if (n > buflen)
		abort();
	return recv(fd, buf, n, flags);
}

AT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   __SOCKADDR_ARG addr, socklen_t *alen)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(recvfrom)(fd, buf, n, flags, addr, alen);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       __SOCKADDR_ARG addr, socklen_t *alen);
AT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, __SOCKADDR_ARG addr,
				 socklen_t *alen)
{
	if (n > buflen)
		abort();
	return recvfrom(fd, buf, n, flags, addr, alen);
}

AT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(recvmsg)(fd, msg, flags);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

/* Its own TMO is written back by the kernel with what is left. */
AT_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
		       struct timespec *tmo)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(recvmmsg)(fd, vec, n, flags, tmo);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(send)(fd, buf, n, flags);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(sendto)(fd, buf, n, flags, addr, alen);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(sendmsg)(fd, msg, flags);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(sendmmsg)(fd, vec, n, flags);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *alen)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(accept)(fd, addr, alen);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *alen, int flags)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(accept4)(fd, addr, alen, flags);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

/* Made again, a connect still in progress goes on waiting for it (the
 * kernel's own restart does the same). */
AT_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(connect)(fd, addr, alen);
	while (sock_again(r, fd, SO_SNDTIMEO, EINPROGRESS, &w));
	return r;
}
