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
#include "interpose-int.h"
#include "interpose.h"
#include "timespec.h"

#define TLS_IE __attribute__((tls_model("initial-exec")))

static __thread unsigned fixups TLS_IE;
static __thread unsigned app_sigs TLS_IE;
static __thread unsigned in_handler TLS_IE; /* an application handler */
static __thread unsigned in_engine TLS_IE;  /* the engine's handler */
/* In a fork() child, on the thread that forked: how deep in application
 * handlers it was then (helper.c), lowered as it returns from them.  Those
 * frames interrupted the parent, not this process. */
static __thread unsigned fork_depth TLS_IE;
__thread bool at_ip_in_exec TLS_IE;

int at_ip_engine_sig;
static void (*_Atomic engine_fn)(int, siginfo_t *, void *);
static _Atomic bool engine_wrapped;
static void *engine_base; /* where liballthreads.so is mapped */

/* The application's handlers, run through app_trampoline(). */
struct app_action {
	void (*_Atomic fn)(void);
	_Atomic bool siginfo;
};
static struct app_action app_act[_NSIG];

struct at_real at_real;

void *at_ip_next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static bool discards(int sig, void (*h)(int));

/* The helper's start in a fork child (at_interpose_init()). */
static void (*lazy_start)(void);

void at_interpose_init(int sig, void (*start_in_child)(void))
{
	Dl_info info;
	int s;

	at_ip_engine_sig = sig;
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
		else if (at_real.sigaction(s, NULL, &cur) == 0)
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

void at_interpose_forked(void)
{
	fork_depth = __atomic_load_n(&in_handler, __ATOMIC_RELAXED);
}

void at_ip_mark(struct mark *m)
{
	/* The blocking calls are where a forked child starts its own
	 * helper (helper.c): never from a handler that interrupted this
	 * process, but from one it was forked in, which it may never leave. */
	if (__atomic_load_n(&in_handler, __ATOMIC_RELAXED) <= fork_depth &&
	    lazy_start)
		lazy_start();
	m->fixups = __atomic_load_n(&fixups, __ATOMIC_RELAXED);
	m->app_sigs = __atomic_load_n(&app_sigs, __ATOMIC_RELAXED);
}

/* Failed with EINTR, and only a fixup ran since M?  Moves M on. */
bool at_ip_spurious(int r, struct mark *m)
{
	struct mark now;
	bool s;

	if (r != -1 || errno != EINTR)
		return false;
	at_ip_mark(&now);
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

/* Is what this handler interrupted the engine's handler?  Either it is
 * running (the wrapper counted it), or it has not run its first
 * instruction yet: the kernel sets up the frame of every signal that can
 * be delivered before it returns to user space, so a signal that arrives
 * with the engine's is handled on top of the engine's frame, before the
 * wrapper could count it.  What it interrupted then blocks the engine's
 * signal, which no application code can do (1. above) outside an exec's
 * window (interpose-exec.c). */
static bool inside_engine(const ucontext_t *ctx)
{
	if (__atomic_load_n(&in_engine, __ATOMIC_RELAXED))
		return true;
	return at_ip_engine_sig && !at_ip_in_exec &&
	       sigismember(&ctx->uc_sigmask, at_ip_engine_sig) == 1;
}

/* SIG reached an application handler inside the engine's (see 4. above):
 * send it again to this thread, with its siginfo, and block it until the
 * engine's handler returns (its mask is restored from UC).  False when it
 * must run now: a fault (the engine never blocks those either) or a queue
 * that is full. */
static bool defer(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	if (!si || !ctx || synchronous(sig) || !inside_engine(ctx))
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
	if (__atomic_sub_fetch(&in_handler, 1, __ATOMIC_RELAXED) < fork_depth)
		fork_depth = __atomic_load_n(&in_handler, __ATOMIC_RELAXED);
}

/* --- the retry shapes (interpose-int.h) ------------------------------------ */

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
 * (at_ip_retry_begin_ms()/at_ip_retry_again_ms() for a timeout in milliseconds; the
 * socket calls, whose timeout is the socket's, have sock_begin() and
 * sock_again() below.)
 */

/* Before the first call; TMO is its relative timeout, or NULL. */
void at_ip_retry_begin(struct retry *rt, const struct timespec *tmo)
{
	if (tmo) {
		at_ts_now(&rt->deadline);
		at_ts_add(&rt->deadline, tmo);
	}
	at_ip_mark(&rt->m);
}

/* The call returned R (-1 with errno on failure): make it again?  Then
 * *TMO, if TMO and *TMO are not NULL, points to what is left of it. */
bool at_ip_retry_again(struct retry *rt, long r, const struct timespec **tmo)
{
	if (r != -1 || !at_ip_spurious(-1, &rt->m))
		return false;
	if (tmo && *tmo) {
		at_ts_left(&rt->deadline, &rt->left);
		*tmo = &rt->left;
	}
	return true;
}

/* The same for a timeout of MS milliseconds (none when not positive). */
void at_ip_retry_begin_ms(struct retry *rt, int ms)
{
	if (ms > 0)
		at_ts_after_ms(&rt->deadline, ms);
	at_ip_mark(&rt->m);
}

bool at_ip_retry_again_ms(struct retry *rt, long r, int *ms)
{
	if (r != -1 || !at_ip_spurious(-1, &rt->m))
		return false;
	if (*ms > 0)
		*ms = at_ts_ms_until(&rt->deadline, INT_MAX);
	return true;
}

/* --- masks -------------------------------------------------------------- */

/* SET without the engine's signal, in BUF; NULL stays NULL. */
const sigset_t *at_ip_strip(const sigset_t *set, sigset_t *buf)
{
	if (!set || !at_ip_engine_sig || !sigismember(set, at_ip_engine_sig))
		return set;
	*buf = *set;
	sigdelset(buf, at_ip_engine_sig);
	return buf;
}

AT_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t buf;

	if (how != SIG_UNBLOCK)
		set = at_ip_strip(set, &buf);
	return REAL(pthread_sigmask)(how, set, old);
}

AT_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t buf;

	if (how != SIG_UNBLOCK)
		set = at_ip_strip(set, &buf);
	return REAL(sigprocmask)(how, set, old);
}

AT_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
	sigset_t buf;

	return REAL(signalfd)(fd, at_ip_strip(mask, &buf), flags);
}

/* A new thread starts with this mask, not its creator's. */
AT_EXPORT int pthread_attr_setsigmask_np(pthread_attr_t *attr,
					 const sigset_t *set)
{
	sigset_t buf;

	if (!REAL(pthread_attr_setsigmask_np))
		return ENOSYS;
	return at_real.pthread_attr_setsigmask_np(attr, at_ip_strip(set, &buf));
}

/* glibc's blocks through its internal __sigprocmask, past ours.  Refused
 * for the engine's signal, as glibc refuses its own internal ones. */
AT_EXPORT int sighold(int sig)
{
	sigset_t set;

	if (at_ip_engine_sig && sig == at_ip_engine_sig) {
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
		r = REAL(sigaction)(at_ip_engine_sig, NULL, old);
		if (r == 0 && old)
			unwrap(old, NULL, false);
		return r;
	}
	if (!is_engine_handler(act)) {
		errno = EINVAL;
		return -1;
	}
	at_engine_set_discarded(at_ip_engine_sig, false);
	k = *act;
	k.sa_sigaction = engine_wrapper;
	/* Its handler is re-installable (a query reports it), but never so
	 * that a fixup interrupts restartable calls or resets it. */
	k.sa_flags |= SA_SIGINFO | SA_RESTART;
	k.sa_flags &= ~(SA_RESETHAND | SA_NODEFER);
	atomic_store(&engine_fn, act->sa_sigaction);
	r = REAL(sigaction)(at_ip_engine_sig, &k, old);
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
	if (at_ip_engine_sig && sig == at_ip_engine_sig)
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
		if (at_ip_engine_sig)
			sigdelset(&k.sa_mask, at_ip_engine_sig);
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
	    (at_ip_engine_sig && sig == at_ip_engine_sig)) {
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
	if (at_ip_engine_sig && sig == at_ip_engine_sig) {
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
