/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-fork.c - fork and vfork around broadcasts.
 *
 *  - a vfork child (sharing the parent's memory) that calls the engine is
 *    refused with -ECHILD and the parent stays healthy;
 *  - a worker forks again and again while the main thread broadcasts in a
 *    loop: no deadlock, every broadcast succeeds, and each child can
 *    broadcast to threads of its own;
 *  - six threads fork at once, again and again, and a signal handler forks
 *    on top of them: the engine's lock, which every fork takes, wakes
 *    every waiter in turn (a waiter that slept once must leave the lock
 *    marked contended, or the next release wakes nobody and the rest
 *    sleep until the fork hook's one-hour deadline).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define FORKS 30
#define FORK_PHASE_MS 30000
#define STORM_THREADS 6
#define STORM_FORKS 400
#define STORM_MS 40000

static void check_vfork(struct tu_pool *pool)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *volatile report = NULL;
	volatile int run_rc = 1;
	volatile long sys_rc = 1;
	int ws = 0, rc;
	pid_t pid;

	allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	fflush(NULL);
	pid = vfork();
	if (pid == 0) {
		struct allthreads_report *r = NULL;

		/* Shares the parent's memory: write results, then _exit. */
		run_rc = allthreads_run(prog, 1000, 0,
					ALLTHREADS_MISMATCH_REPORT, &r);
		report = r;
		sys_rc = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0,
					    0, 0);
		_exit(0);
	}
	if (!tap_ok(pid > 0, "vfork: child started"))
		return;
	rc = tu_wait_child(pid, 10000, &ws);
	tap_ok(rc == 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	       "vfork: child exited (%s)", tu_wstatus(ws));
	tap_ok(run_rc == -ECHILD && report == NULL,
	       "vfork: allthreads_run in the child returns -ECHILD (%d), "
	       "no report",
	       run_rc);
	tap_ok(sys_rc == -ECHILD,
	       "vfork: allthreads_syscall returns -ECHILD "
	       "(%ld)",
	       sys_rc);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 0) == 0 &&
		       prctl(PR_GET_KEEPCAPS) == 0,
	       "vfork: nothing changed in the parent's threads");
	rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL);
	tap_ok(rc == 0 && tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0,
	       "vfork: the parent broadcasts normally afterwards");
	allthreads_prog_free(prog);
}

/* In a child of the forking worker: broadcast to threads of its own. */
static int forked_child(long round)
{
	struct tu_pool *pool = tu_pool_new(2, 10000);
	struct allthreads_prog *prog = tu_prog_keepcaps(round % 2, true);
	struct allthreads_report *r = NULL;
	int rc;

	if (!pool || !prog)
		return 10;
	rc = allthreads_run(prog, 3000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	if (rc != 0) {
		tap_diag("fork child %ld: run returned %d", round, rc);
		tu_report_dump(r);
		return 11;
	}
	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 3000) != 0 ||
	    tu_pool_keepcaps_wrong(pool, round % 2) != 0 ||
	    prctl(PR_GET_KEEPCAPS) != round % 2) {
		tap_diag("fork child %ld: run returned 0, but:", round);
		tu_report_dump(r);
		return 12;
	}
	allthreads_report_free(r);
	if (tu_pool_free(pool, 3000) != 0)
		return 13;
	return 0;
}

struct forker {
	pthread_t thread;
	int forks;
	int bad;
	_Atomic int done;
};

static void *forker_main(void *arg)
{
	struct forker *f = arg;
	long long end = tu_now_ms() + FORK_PHASE_MS;

	for (int i = 0; i < FORKS && tu_now_ms() < end; i++) {
		int ws = 0;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			alarm(15);
			_exit(forked_child(i));
		}
		if (pid < 0) {
			f->bad++;
			continue;
		}
		f->forks++;
		if (tu_wait_child(pid, 15000, &ws) != 0 || !WIFEXITED(ws) ||
		    WEXITSTATUS(ws) != 0) {
			if (f->bad++ < 3)
				tap_diag("fork %d: child %s", i,
					 tu_wstatus(ws));
		}
	}
	atomic_store(&f->done, 1);
	return NULL;
}

static void check_fork_during_broadcasts(struct tu_pool *pool)
{
	struct allthreads_prog *prog[2] = { tu_prog_keepcaps(0, true),
					    tu_prog_keepcaps(1, true) };
	struct forker f = { 0 };
	long long end = tu_now_ms() + FORK_PHASE_MS + 5000;
	struct timespec abs;
	int rounds = 0, failed = 0, last = 0, joined;

	if (pthread_create(&f.thread, NULL, forker_main, &f))
		tap_bail("cannot start the forking thread");
	/* Bounded by time and by a round count. */
	while (!atomic_load(&f.done) && tu_now_ms() < end && rounds < 100000) {
		struct allthreads_report *r = NULL;
		int rc;

		last = rounds % 2;
		rc = allthreads_run(prog[last], 5000, 0,
				    ALLTHREADS_MISMATCH_REPORT, &r);
		if (rc != 0 && failed++ < 3) {
			tap_diag("broadcast %d: %d", rounds, rc);
			tu_report_dump(r);
		}
		allthreads_report_free(r);
		rounds++;
	}
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 20;
	joined = pthread_timedjoin_np(f.thread, NULL, &abs) == 0;
	tap_ok(joined && atomic_load(&f.done),
	       "fork loop: the forking thread finished (no deadlock)");
	/* The count is bounded by FORK_PHASE_MS as well: on a slow machine
	 * (emulated arm64: 21 in 30 s) fewer forks are no failure. */
	tap_ok(f.forks > 0 && f.bad == 0,
	       "fork loop: %d forks (of at most %d in %d s), every child "
	       "broadcast to its own threads (%d bad)",
	       f.forks, FORKS, FORK_PHASE_MS / 1000, f.bad);
	tap_ok(rounds > 0 && failed == 0,
	       "fork loop: %d broadcasts meanwhile, %d failed", rounds, failed);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, last) == 0 &&
		       prctl(PR_GET_KEEPCAPS) == last,
	       "fork loop: the parent's threads hold the last value");
	allthreads_prog_free(prog[0]);
	allthreads_prog_free(prog[1]);
}

/* --- many forks at once ------------------------------------------------- */

static _Atomic int storm_forks, storm_bad, storm_done;

/* Forks from a signal handler too: fork() is async-signal-safe. */
static void storm_handler(int sig)
{
	int saved = errno;
	pid_t pid;

	(void)sig;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0 && waitpid(pid, NULL, 0) == pid)
		atomic_fetch_add(&storm_forks, 1);
	else
		atomic_fetch_add(&storm_bad, 1);
	errno = saved;
}

static void *storm_main(void *arg)
{
	long long end = tu_now_ms() + STORM_MS;
	long self = (long)(intptr_t)arg;

	for (int i = 0; i < STORM_FORKS && tu_now_ms() < end; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			atomic_fetch_add(&storm_bad, 1);
		else
			atomic_fetch_add(&storm_forks, 1);
		/* Every other thread also forks from its handler now and
		 * then: a fork nested in a fork's wait for the lock. */
		if (self % 2 && i % 16 == 0)
			raise(SIGUSR1);
	}
	atomic_fetch_add(&storm_done, 1);
	return NULL;
}

static void check_fork_storm(void)
{
	struct sigaction sa = { .sa_handler = storm_handler };
	pthread_t th[STORM_THREADS];
	struct timespec abs;
	int started = 0, joined = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (long i = 0; i < STORM_THREADS; i++)
		if (pthread_create(&th[i], NULL, storm_main,
				   (void *)(intptr_t)i) == 0)
			started++;
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += STORM_MS / 1000 + 20;
	for (int i = 0; i < started; i++)
		joined += pthread_timedjoin_np(th[i], NULL, &abs) == 0;
	tap_ok(started == STORM_THREADS && joined == started &&
		       atomic_load(&storm_done) == started,
	       "fork storm: %d of %d forking threads finished (no lost "
	       "wake-up in the engine's lock)",
	       atomic_load(&storm_done), STORM_THREADS);
	tap_ok(atomic_load(&storm_forks) > 0 && atomic_load(&storm_bad) == 0,
	       "fork storm: %d forks from %d threads and their handlers, %d "
	       "failed",
	       atomic_load(&storm_forks), STORM_THREADS,
	       atomic_load(&storm_bad));
	if (joined != started)
		_exit(tap_done());
}

int main(void)
{
	struct tu_pool *pool;

	tu_watchdog(170);
	pool = tu_pool_new(4, 150000);
	if (!pool)
		tap_bail("cannot start workers");
	check_vfork(pool);
	check_fork_storm();
	check_fork_during_broadcasts(pool);
	tap_ok(tu_pool_free(pool, 5000) == 0, "workers joined");
	return tap_done();
}
