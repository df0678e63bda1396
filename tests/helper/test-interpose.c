// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-interpose.c - the interposed signal functions, in a process that
 * has the helper preloaded (the test re-executes itself with LD_PRELOAD):
 * the engine's signal cannot be blocked (not even through the System V
 * calls or a thread attribute), waited for or taken over, and the calls
 * the kernel never restarts sleep their full time through a storm of
 * broadcasts, while a real application signal still interrupts them.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>

#include "../tap.h"
#include "hutil.h"

/* sighold, sigset and sigpause are what is tested here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

int __sigpause(int sig_or_mask, int is_sig);
int __xpg_sigpause(int sig);

#define WAIT_MS 400
#define LONG_MS 3000

/* How a waiter must end. */
enum kind {
	TIMED, /* its own timeout of WAIT_MS, through the storm */
	WOKEN, /* woken by the main thread after WAIT_MS */
	REAL,  /* a real SIGUSR2 after WAIT_MS: EINTR */
};

struct waiter {
	const char *name;
	void *(*fn)(void *);
	enum kind kind;
	int r, err; /* expected result; ERR when R is -1 */
	int got_r, got_err;
	long long ms, end; /* how long it waited; when it returned */
	_Atomic pid_t tid;
	long keepcaps;
	pthread_t th;
};

static _Atomic int done_timed;
static _Atomic int usr2;
static sem_t psem;
static int msqid = -1, semid = -1;

static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2, 1);
}

static void finish(struct waiter *w, int r, long long t0)
{
	w->got_err = r < 0 ? errno : 0;
	w->got_r = r;
	w->end = tu_now_ms();
	w->ms = w->end - t0;
	w->keepcaps = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
	if (w->kind == TIMED)
		atomic_fetch_add(&done_timed, 1);
}

static int wait_ms(const struct waiter *w)
{
	return w->kind == TIMED ? WAIT_MS : LONG_MS;
}

static void ts_ms(struct timespec *ts, int ms)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

/* Now on CLK plus MS. */
static void abs_ms(struct timespec *ts, clockid_t clk, int ms)
{
	clock_gettime(clk, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_nsec -= 1000000000L;
		ts->tv_sec++;
	}
}

static void *w_poll(void *a)
{
	struct waiter *w = a;
	long long t0 = tu_now_ms();

	finish(w, poll(NULL, 0, wait_ms(w)), t0);
	return NULL;
}

static void *w_nanosleep(void *a)
{
	struct timespec ts;
	long long t0 = tu_now_ms();

	ts_ms(&ts, WAIT_MS);
	finish(a, nanosleep(&ts, NULL), t0);
	return NULL;
}

static void *w_sigtimedwait(void *a)
{
	struct timespec ts;
	long long t0 = tu_now_ms();
	sigset_t set;

	ts_ms(&ts, WAIT_MS);
	sigfillset(&set);
	sigdelset(&set, SIGUSR2);
	finish(a, sigtimedwait(&set, NULL, &ts), t0);
	return NULL;
}

static void *w_epoll(void *a)
{
	struct epoll_event ev;
	long long t0 = tu_now_ms();
	int ep = epoll_create1(EPOLL_CLOEXEC);

	finish(a, epoll_wait(ep, &ev, 1, WAIT_MS), t0);
	close(ep);
	return NULL;
}

static void *w_select(void *a)
{
	struct timeval tv = { 0, WAIT_MS * 1000 };
	long long t0 = tu_now_ms();

	finish(a, select(0, NULL, NULL, NULL, &tv), t0);
	return NULL;
}

static void *w_clock(void *a)
{
	struct timespec ts;
	long long t0 = tu_now_ms();
	int r;

	ts_ms(&ts, WAIT_MS);
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	errno = r;
	finish(a, r ? -1 : 0, t0);
	return NULL;
}

static void *w_ppoll(void *a)
{
	struct timespec ts;
	long long t0 = tu_now_ms();
	sigset_t all;

	ts_ms(&ts, WAIT_MS);
	sigfillset(&all);
	sigdelset(&all, SIGUSR2);
	finish(a, ppoll(NULL, 0, &ts, &all), t0);
	return NULL;
}

static void *w_sem_timedwait(void *a)
{
	struct timespec ts;
	long long t0 = tu_now_ms();

	abs_ms(&ts, CLOCK_REALTIME, wait_ms(a));
	finish(a, sem_timedwait(&psem, &ts), t0);
	return NULL;
}

static void *w_sem_clockwait(void *a)
{
	struct timespec ts;
	long long t0 = tu_now_ms();

	abs_ms(&ts, CLOCK_MONOTONIC, wait_ms(a));
	finish(a, sem_clockwait(&psem, CLOCK_MONOTONIC, &ts), t0);
	return NULL;
}

/* Semaphore 0 is never raised; semaphore 1 is, by the main thread. */
static void *w_semtimedop(void *a)
{
	struct sembuf op = { 0, -1, 0 };
	struct timespec ts;
	long long t0 = tu_now_ms();

	ts_ms(&ts, wait_ms(a));
	finish(a, semtimedop(semid, &op, 1, &ts), t0);
	return NULL;
}

static void *w_semop(void *a)
{
	struct sembuf op = { 1, -1, 0 };
	long long t0 = tu_now_ms();

	finish(a, semop(semid, &op, 1), t0);
	return NULL;
}

struct msg {
	long type;
	char text[8];
};

/* Type 1 is sent by the main thread, type 2 never. */
static void *w_msgrcv(void *a)
{
	struct waiter *w = a;
	struct msg m;
	long long t0 = tu_now_ms();

	finish(w,
	       (int)msgrcv(msqid, &m, sizeof(m.text), w->kind == REAL ? 2 : 1,
			   0),
	       t0);
	return NULL;
}

/* A stream socket with SO_RCVTIMEO that nothing is written to. */
static void *w_recv(void *a)
{
	int sv[2], ms = wait_ms(a);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	long long t0;
	char c;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		finish(a, -2, tu_now_ms());
		return NULL;
	}
	t0 = tu_now_ms();
	finish(a, (int)recv(sv[0], &c, 1, 0), t0);
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

/* Everything blocked, then sigpause without SIGUSR2. */
static void *w_xpg_sigpause(void *a)
{
	struct waiter *w = a;
	long long t0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	atomic_store(&w->tid, gettid());
	t0 = tu_now_ms();
	finish(w, __xpg_sigpause(SIGUSR2), t0);
	return NULL;
}

/* The BSD one: every signal from 1 to 32 but SIGUSR2. */
static void *w_bsd_sigpause(void *a)
{
	struct waiter *w = a;
	long long t0;

	atomic_store(&w->tid, gettid());
	t0 = tu_now_ms();
	finish(w, __sigpause(~(1 << (SIGUSR2 - 1)), 0), t0);
	return NULL;
}

/* Threads that try to block the engine's signal and then wait to be
 * released; KEEPCAPS tells what the last broadcast set on them. */
struct holder {
	_Atomic pid_t tid;
	int hold_r, hold_err, hold_usr1;
	sighandler_t set_r, set_winch;
	int set_err;
	long keepcaps;
};

static _Atomic bool release;
static _Atomic int ready;

static void hold_until_released(struct holder *h)
{
	long long end = tu_now_ms() + 20000;

	atomic_store(&h->tid, gettid());
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&release) && tu_now_ms() < end)
		h_sleep_ms(2);
	h->keepcaps = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
}

static void *h_sighold(void *a)
{
	struct holder *h = a;
	int sig = allthreads_signal();

	errno = 0;
	h->hold_r = sighold(sig);
	h->hold_err = errno;
	h->hold_usr1 = sighold(SIGUSR1);
	errno = 0;
	h->set_r = sigset(sig, SIG_HOLD);
	h->set_err = errno;
	h->set_winch = sigset(SIGWINCH, SIG_HOLD);
	hold_until_released(h);
	return NULL;
}

static void *h_attr(void *a)
{
	hold_until_released(a);
	return NULL;
}

/* The thread's blocked set, from /proc. */
static unsigned long long sigblk(pid_t tid)
{
	char buf[64];

	if (h_task_status(getpid(), tid, "SigBlk", buf, sizeof(buf)) < 0)
		return ~0ULL;
	return strtoull(buf, NULL, 16);
}

static bool blocked(unsigned long long set, int sig)
{
	return (set >> (sig - 1)) & 1;
}

/* The kernel's action for SIG, past every wrapper. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

static void kaction(int sig, struct ksigaction *k)
{
	memset(k, 0, sizeof(*k));
	syscall(SYS_rt_sigaction, sig, NULL, k, sizeof(k->mask));
}

static void test_handlers(int sig)
{
	struct ksigaction k0, k;
	struct sigaction sa, old;

	kaction(sig, &k0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	errno = 0;
	tap_ok(sigaction(sig, &sa, NULL) < 0 && errno == EINVAL,
	       "sigaction on the engine's signal: EINVAL");
	tap_ok(signal(sig, SIG_DFL) == SIG_ERR && errno == EINVAL,
	       "signal() on it: EINVAL");
	errno = 0;
	tap_ok(sigset(sig, SIG_IGN) == SIG_ERR && errno == EINVAL,
	       "sigset() on it: EINVAL");
	errno = 0;
	tap_ok(sigignore(sig) < 0 && errno == EINVAL,
	       "sigignore() on it: EINVAL");
	errno = 0;
	tap_ok(siginterrupt(sig, 1) < 0 && errno == EINVAL,
	       "siginterrupt() on it: EINVAL");
	tap_ok(sigaction(sig, NULL, &old) == 0 && (old.sa_flags & SA_SIGINFO),
	       "querying it works (the engine's handler is installed)");
	/* Put back what a query gave, without SA_RESTART: accepted (it is
	 * the engine's handler), but SA_RESTART stays. */
	old.sa_flags &= ~SA_RESTART;
	old.sa_flags |= SA_RESETHAND;
	sigaction(sig, &old, NULL);
	kaction(sig, &k);
	tap_ok(k.handler == k0.handler && (k.flags & SA_RESTART) &&
		       !(k.flags & SA_RESETHAND),
	       "the kernel's action is untouched (flags %#lx, were %#lx)",
	       k.flags, k0.flags);
	tap_ok(siginterrupt(SIGUSR1, 1) == 0 &&
		       sigaction(SIGUSR1, NULL, &old) == 0 &&
		       !(old.sa_flags & SA_RESTART),
	       "siginterrupt() on another signal works");
	siginterrupt(SIGUSR1, 0);
}

static void test_masks(int sig)
{
	sigset_t set, cur;

	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	tap_ok(!sigismember(&cur, sig) && sigismember(&cur, SIGUSR1),
	       "a full mask leaves the engine's signal out");
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	errno = 0;
	tap_ok(sighold(sig) < 0 && errno == EINVAL &&
		       !blocked(sigblk(gettid()), sig),
	       "sighold() on it: EINVAL, not blocked");
	tap_ok(sighold(SIGUSR1) == 0 && blocked(sigblk(gettid()), SIGUSR1) &&
		       sigrelse(SIGUSR1) == 0 &&
		       !blocked(sigblk(gettid()), SIGUSR1),
	       "sighold()/sigrelse() on another signal work");
}

#define TIMED_WAITER(n_, f_, r_, e_)                                           \
	{                                                                      \
		.name = n_, .fn = f_, .kind = TIMED, .r = r_, .err = e_        \
	}
#define WAITER(n_, f_, k_, r_, e_)                                             \
	{                                                                      \
		.name = n_, .fn = f_, .kind = k_, .r = r_, .err = e_           \
	}

static struct waiter waiters[] = {
	TIMED_WAITER("poll", w_poll, 0, 0),
	TIMED_WAITER("nanosleep", w_nanosleep, 0, 0),
	TIMED_WAITER("sigtimedwait", w_sigtimedwait, -1, EAGAIN),
	TIMED_WAITER("epoll_wait", w_epoll, 0, 0),
	TIMED_WAITER("select", w_select, 0, 0),
	TIMED_WAITER("clock_nanosleep", w_clock, 0, 0),
	TIMED_WAITER("ppoll", w_ppoll, 0, 0),
	TIMED_WAITER("sem_timedwait", w_sem_timedwait, -1, ETIMEDOUT),
	TIMED_WAITER("sem_clockwait", w_sem_clockwait, -1, ETIMEDOUT),
	TIMED_WAITER("semtimedop", w_semtimedop, -1, EAGAIN),
	TIMED_WAITER("recv with SO_RCVTIMEO", w_recv, -1, EAGAIN),
	WAITER("msgrcv", w_msgrcv, WOKEN, 1, 0),
	WAITER("semop", w_semop, WOKEN, 0, 0),
	WAITER("poll", w_poll, REAL, -1, EINTR),
	WAITER("sem_timedwait", w_sem_timedwait, REAL, -1, EINTR),
	WAITER("semtimedop", w_semtimedop, REAL, -1, EINTR),
	WAITER("recv with SO_RCVTIMEO", w_recv, REAL, -1, EINTR),
	WAITER("msgrcv", w_msgrcv, REAL, -1, EINTR),
	WAITER("sigpause", w_xpg_sigpause, REAL, -1, EINTR),
	WAITER("BSD sigpause", w_bsd_sigpause, REAL, -1, EINTR),
};

#define NWAITERS ((int)(sizeof(waiters) / sizeof(waiters[0])))

static void test_waits(int sig)
{
	static const char *kinds[] = { "timed", "woken", "signalled" };
	int i, k, fails = 0, ntimed = 0, nreal = 0;
	struct holder hold = { 0 }, attr_hold = { 0 };
	struct sembuf up = { 1, 1, 0 };
	struct msg m = { 1, "hello" };
	pthread_t hth[2];
	pthread_attr_t attr;
	long long t0, end, woke_at;
	sigset_t all;
	long r;

	sem_init(&psem, 0, 0);
	msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	if (msqid < 0 || semid < 0)
		tap_bail("System V IPC: %s", strerror(errno));

	/* The holders. */
	pthread_create(&hth[0], NULL, h_sighold, &hold);
	sigfillset(&all);
	pthread_attr_init(&attr);
	tap_ok(pthread_attr_setsigmask_np(&attr, &all) == 0,
	       "pthread_attr_setsigmask_np() with every signal");
	pthread_create(&hth[1], &attr, h_attr, &attr_hold);
	pthread_attr_destroy(&attr);

	for (i = 0; i < NWAITERS; i++) {
		ntimed += waiters[i].kind == TIMED;
		nreal += waiters[i].kind == REAL;
		pthread_create(&waiters[i].th, NULL, waiters[i].fn,
			       &waiters[i]);
	}
	for (end = tu_now_ms() + 5000;
	     atomic_load(&ready) < 2 && tu_now_ms() < end;)
		h_sleep_ms(1);
	h_sleep_ms(20);

	/* A storm of broadcasts while they wait. */
	t0 = tu_now_ms();
	for (k = 0;
	     atomic_load(&done_timed) < ntimed && tu_now_ms() < t0 + 5000;
	     k++) {
		r = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, k & 1, 0, 0,
				       0, 0);
		fails += r != 0;
		h_sleep_ms(1);
	}
	/* How many fit in WAIT_MS is the machine's speed (more than 20
	 * natively, 2 on emulated arm64): one is enough to prove none fails
	 * against the waits. */
	tap_ok(fails == 0 && k > 0, "%d broadcasts during the waits, %d failed",
	       k, fails);

	/* Nobody could block the engine's signal. */
	{
		unsigned long long b = sigblk(hold.tid);

		tap_ok(hold.hold_r == -1 && hold.hold_err == EINVAL &&
			       hold.hold_usr1 == 0,
		       "sighold(): EINVAL on the engine's signal, SIGUSR1 held");
		tap_ok(hold.set_r == SIG_ERR && hold.set_err == EINVAL &&
			       hold.set_winch == SIG_DFL,
		       "sigset(SIG_HOLD): EINVAL on it, SIGWINCH held");
		tap_ok(!blocked(b, sig) && blocked(b, SIGUSR1) &&
			       blocked(b, SIGWINCH),
		       "that thread's SigBlk leaves it out (%016llx)", b);
		b = sigblk(attr_hold.tid);
		tap_ok(!blocked(b, sig) && blocked(b, SIGUSR1) &&
			       blocked(b, SIGTERM),
		       "a thread started with a full attribute mask leaves it "
		       "out (%016llx)",
		       b);
	}
	for (i = 0; i < NWAITERS; i++) {
		unsigned long long b;

		if (!waiters[i].tid)
			continue;
		b = sigblk(waiters[i].tid);
		tap_ok(!blocked(b, sig) && blocked(b, SIGUSR1) &&
			       !blocked(b, SIGUSR2),
		       "%s: the mask it waits with leaves it out (%016llx)",
		       waiters[i].name, b);
	}

	/* The last broadcast reaches every thread, then wake them. */
	r = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0);
	tap_ok(r == 0, "a last broadcast (KEEPCAPS 1): %ld", r);
	woke_at = tu_now_ms();
	atomic_store(&release, true);
	msgsnd(msqid, &m, sizeof(m.text), 0);
	semop(semid, &up, 1);
	for (i = 0; i < NWAITERS; i++)
		if (waiters[i].kind == REAL)
			pthread_kill(waiters[i].th, SIGUSR2);
	for (i = 0; i < 2; i++)
		pthread_join(hth[i], NULL);
	for (i = 0; i < NWAITERS; i++)
		pthread_join(waiters[i].th, NULL);
	tap_ok(hold.keepcaps == 1 && attr_hold.keepcaps == 1,
	       "the broadcast reached both (KEEPCAPS %ld, %ld)", hold.keepcaps,
	       attr_hold.keepcaps);

	for (i = 0; i < NWAITERS; i++) {
		struct waiter *w = &waiters[i];
		/*
		 * A timed waiter waited its own time; the others ended only
		 * once woken.  Their own start may lag the timed ones' under
		 * load, so what counts is when they returned, not how long
		 * they waited.
		 */
		bool ok = w->kind == TIMED ?
				  w->ms >= WAIT_MS - 5 && w->ms < 2500 :
				  w->end >= woke_at;

		if (w->r == 1) /* a message: its size */
			ok = ok && w->got_r == (int)sizeof(m.text);
		else
			ok = ok && w->got_r == w->r &&
			     (w->r != -1 || w->got_err == w->err);
		if (w->kind == REAL)
			ok = ok && w->keepcaps == 1;
		tap_ok(ok, "%s (%s): %s (r %d, errno %d, %lld ms)", w->name,
		       kinds[w->kind],
		       w->kind == REAL ? "EINTR from the real signal only" :
					 "no EINTR, waited its time",
		       w->got_r, w->got_err, w->ms);
	}
	tap_ok(atomic_load(&usr2) == nreal, "%d real signals handled, %d sent",
	       atomic_load(&usr2), nreal);
	msgctl(msqid, IPC_RMID, NULL);
	semctl(semid, 0, IPC_RMID);
	sem_destroy(&psem);
}

int main(int argc, char **argv)
{
	int sig = allthreads_signal();
	struct sigaction sa, old;
	Dl_info info;
	void *hook;

	alarm(50);
	if (!getenv("LD_PRELOAD")) {
		const char *h = getenv("AT_HELPER");

		if (!h)
			tap_bail("AT_HELPER not set");
		setenv("LD_PRELOAD", h, 1);
		execv("/proc/self/exe", argv);
		tap_bail("cannot re-execute: %s", strerror(errno));
	}
	(void)argc;

	test_masks(sig);
	test_handlers(sig);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGUSR2, NULL, &old);
	tap_ok(old.sa_handler == on_usr2 && !(old.sa_flags & SA_SIGINFO),
	       "an application handler reads back as itself");

	hook = dlsym(RTLD_DEFAULT, "psx_load_syscalls");
	tap_ok(hook && dladdr(hook, &info) &&
		       strstr(info.dli_fname, "allthreads-helper"),
	       "libcap's psx_load_syscalls resolves to the helper's (%s)",
	       hook && dladdr(hook, &info) ? info.dli_fname : "none");

	test_waits(sig);
	{
		pid_t c = fork();
		int status = -1;

		if (c == 0) {
			execl(getenv("AT_LIBCAP_PROG"), "libcap-prog",
			      (char *)NULL);
			_exit(127);
		}
		int w = h_wait(c, 30000, &status);

		tap_ok(w == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "an unmodified libcap program: cap_prctlw() reaches "
		       "every thread (%s)",
		       h_status_str(status));
	}
	return tap_done();
}
