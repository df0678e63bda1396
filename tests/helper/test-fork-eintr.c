// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-fork-eintr.c - a child that exits while its parent thread serves a
 * broadcast must not make another thread's wait fail with EINTR (in a
 * process with the helper preloaded: the test re-executes itself with
 * LD_PRELOAD).
 *
 * The engine's handler used to block every signal while it served.  A
 * blocked signal is never discarded when it is sent, even when its
 * disposition ignores it (the default for SIGCHLD): the SIGCHLD of a child
 * that exited meanwhile was queued for the process and woke a thread that
 * did not block it.  That thread's sigtimedwait or epoll_pwait failed with
 * EINTR; the signal was then discarded, no handler ran, and the helper
 * could not tell that EINTR from a real one.
 *
 * The soak meets this by chance, a few times a minute.  Here the window
 * is made wide on purpose: the step each thread runs is an
 * rt_sigtimedwait(2) for SIGUSR2 of STRETCH_MS, which the waiting threads
 * (sent a SIGUSR2 before each run) end at once and the forking threads
 * sit out, so the forkers serve for STRETCH_MS while the waiters are back
 * in their waits, and the forkers' children exit meanwhile.  Bounded by
 * RUN_MS (and alarm()).
 *
 * Since then a thread that serves leaves such signals unblocked.  Meanwhile
 * another thread installs a SIGURG handler, off and on, and sends SIGURG
 * to the forkers: the handler must never run inside the engine's (it is
 * sent again, to run once the engine's handler has returned).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <ucontext.h>

#include "../tap.h"
#include "hutil.h"

#define FORKERS 2
#define SIGWAITERS 3
#define RUN_MS 3000
#define STRETCH_MS 4
#define CHILD_NS 1000000L
#define WAIT_NS 20000000L

static _Atomic bool stop;
static _Atomic unsigned long forks, fork_bad, waits, eintr, other_err;
static _Atomic unsigned long runs, run_bad;
static _Atomic unsigned nwaiters;
static pthread_t waiter_th[SIGWAITERS + 1];
static int rtsig;
static _Atomic unsigned long urgs, urgs_inside;
static pthread_t forker_th[FORKERS];
static int engine_sig;

/* The engine's handler runs with the engine's signal blocked, and nothing
 * else here blocks it: so the mask of what this handler interrupted says
 * whether that was the engine's handler. */
static void on_urg(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	(void)sig;
	(void)si;
	atomic_fetch_add(&urgs, 1);
	if (sigismember(&ctx->uc_sigmask, engine_sig))
		atomic_fetch_add(&urgs_inside, 1);
}

/* SIGURG's handler on and off; SIGURG to the forkers while it is on. */
static void *urger(void *arg)
{
	struct sigaction on, off;
	unsigned i;

	(void)arg;
	memset(&on, 0, sizeof(on));
	on.sa_sigaction = on_urg;
	on.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&on.sa_mask);
	memset(&off, 0, sizeof(off));
	off.sa_handler = SIG_DFL;
	sigemptyset(&off.sa_mask);
	while (!atomic_load(&stop)) {
		sigaction(SIGURG, &on, NULL);
		for (i = 0; i < FORKERS; i++)
			pthread_kill(forker_th[i], SIGURG);
		sigaction(SIGURG, &off, NULL);
		h_sleep_ms(1);
	}
	return NULL;
}

/* Forks children that live CHILD_NS (raw nanosleep: the child starts no
 * helper of its own) and waits for each. */
static void *forker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		pid_t pid = fork();

		if (pid == 0) {
			struct timespec t = { 0, CHILD_NS };

			syscall(SYS_nanosleep, &t, NULL);
			_exit(0);
		}
		if (pid > 0 && waitpid(pid, NULL, 0) == pid)
			atomic_fetch_add(&forks, 1);
		else
			atomic_fetch_add(&fork_bad, 1);
	}
	return NULL;
}

static void count(int r)
{
	atomic_fetch_add(&waits, 1);
	if (r < 0 && errno == EINTR)
		atomic_fetch_add(&eintr, 1);
	else if (r < 0 && errno != EAGAIN)
		atomic_fetch_add(&other_err, 1);
}

static void enlist(void)
{
	waiter_th[atomic_fetch_add(&nwaiters, 1)] = pthread_self();
}

/* sigtimedwait for a signal nobody sends: each wait ends by its timeout. */
static void *sigwaiter(void *arg)
{
	struct timespec t = { 0, WAIT_NS };
	sigset_t set;

	(void)arg;
	enlist();
	sigemptyset(&set);
	sigaddset(&set, rtsig);
	while (!atomic_load(&stop))
		count(sigtimedwait(&set, NULL, &t));
	return NULL;
}

/* epoll_pwait on an empty set: each wait ends by its timeout. */
static void *epwaiter(void *arg)
{
	struct epoll_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	enlist();
	while (ep >= 0 && !atomic_load(&stop))
		count(epoll_pwait(ep, &ev, 1, (int)(WAIT_NS / 1000000), NULL));
	if (ep >= 0)
		close(ep);
	return NULL;
}

/* Runs the stretching step on every thread, released one by one. */
static void *broadcaster(void *arg)
{
	static struct timespec stretch = { 0, STRETCH_MS * 1000000L };
	static uint64_t usr2 = 1ull << (SIGUSR2 - 1);
	long args[ALLTHREADS_MAX_ARGS] = { (long)&usr2, 0, (long)&stretch,
					   sizeof(usr2) };
	long none[ALLTHREADS_MAX_ARGS] = { 0 };
	struct allthreads_prog *prog = allthreads_prog_new();
	unsigned i;

	(void)arg;
	if (!prog ||
	    allthreads_prog_add(prog, SYS_rt_sigtimedwait, 4, args,
				ALLTHREADS_JUDGE_ANY) != 0 ||
	    allthreads_prog_set_undo(prog, 0, -1, none, -1, none) != 0) {
		atomic_fetch_add(&run_bad, 1);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		int r;

		for (i = 0; i < atomic_load(&nwaiters); i++)
			pthread_kill(waiter_th[i], SIGUSR2);
		r = allthreads_run(prog, 0, ALLTHREADS_NO_HOLD,
				   ALLTHREADS_MISMATCH_REPORT, NULL);
		atomic_fetch_add(r == 0 ? &runs : &run_bad, 1);
		h_sleep_ms(1);
	}
	allthreads_prog_free(prog);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[FORKERS + SIGWAITERS + 3];
	sigset_t set;
	int i, n = 0;

	(void)argc;
	alarm(50);
	if (!getenv("LD_PRELOAD")) {
		const char *h = getenv("AT_HELPER");

		if (!h)
			tap_bail("AT_HELPER not set");
		setenv("LD_PRELOAD", h, 1);
		execv("/proc/self/exe", argv);
		tap_bail("cannot re-execute: %s", strerror(errno));
	}
	/* Every thread blocks SIGUSR2 (kept pending for the step) and the
	 * signal the waiters wait for.  SIGCHLD keeps its default
	 * disposition (ignored), and only the main thread and the
	 * broadcaster block it: it is left to the waiters and the forkers,
	 * which never block it themselves. */
	rtsig = SIGRTMIN + 3;
	sigemptyset(&set);
	sigaddset(&set, rtsig);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < SIGWAITERS; i++)
		pthread_create(&th[n++], NULL, sigwaiter, NULL);
	pthread_create(&th[n++], NULL, epwaiter, NULL);
	for (i = 0; i < FORKERS; i++) {
		pthread_create(&th[n], NULL, forker, NULL);
		forker_th[i] = th[n++];
	}
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (atomic_load(&nwaiters) < SIGWAITERS + 1)
		h_sleep_ms(1);
	engine_sig = allthreads_signal();
	pthread_create(&th[n++], NULL, urger, NULL);
	pthread_create(&th[n++], NULL, broadcaster, NULL);
	h_sleep_ms(RUN_MS);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);

	tap_ok(atomic_load(&forks) > 50 && atomic_load(&fork_bad) == 0 &&
		       atomic_load(&runs) > 50 && atomic_load(&run_bad) == 0,
	       "%lu forks (%lu failed) and %lu runs (%lu failed) in %d ms",
	       atomic_load(&forks), atomic_load(&fork_bad), atomic_load(&runs),
	       atomic_load(&run_bad), RUN_MS);
	tap_ok(atomic_load(&eintr) == 0 && atomic_load(&other_err) == 0 &&
		       atomic_load(&waits) > 0,
	       "no wait failed with EINTR: %lu of %lu did (%lu other errors)",
	       atomic_load(&eintr), atomic_load(&waits),
	       atomic_load(&other_err));
	tap_ok(atomic_load(&urgs) > 0 && atomic_load(&urgs_inside) == 0,
	       "%lu SIGURG handled, %lu of them inside the engine's handler",
	       atomic_load(&urgs), atomic_load(&urgs_inside));
	return tap_done();
}
