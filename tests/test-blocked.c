/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-blocked.c - threads that cannot take the engine's signal.  The engine
 * must never hang: it reaches them, or fails by its deadline naming them.
 *
 *  - a sigwait thread with every signal blocked by pthread_sigmask (glibc
 *    leaves its own two signals out): reached, or -ETIMEDOUT naming it
 *    BLOCKED, and then nobody keeps the change;
 *  - a thread that blocks every signal with the raw rt_sigprocmask: must
 *    fail with -ETIMEDOUT naming it BLOCKED, every other thread unchanged;
 *    once it unblocks, the stale signal is harmless and a broadcast works;
 *  - RLIMIT_SIGPENDING 0 (in a child): every thread changed, or an error
 *    naming threads QUEUE_FULL with nothing changed; never a silent 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define TIMEOUT_MS 1000
#define SLACK_MS 1500 /* how late past its deadline a run may return */

/* A thread that blocks signals and publishes its own KEEPCAPS. */
struct blocker {
	pthread_t thread;
	bool raw; /* raw rt_sigprocmask instead of pthread_sigmask */
	_Atomic pid_t tid;
	_Atomic int quit;
	_Atomic int unblock;
	_Atomic int rounds;
	_Atomic long keepcaps;
	_Atomic int taken; /* engine signals it consumed with sigtimedwait */
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	struct timespec slice = { 0, 10 * 1000000L };
	unsigned long all = ~0UL;
	sigset_t set;
	bool unblocked = false;

	sigfillset(&set);
	if (b->raw)
		syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof(all));
	else
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	atomic_store(&b->tid, tu_gettid());
	/* Bounded: at most 40 s of 10 ms slices. */
	for (int i = 0; i < 4000 && !atomic_load(&b->quit); i++) {
		atomic_store(&b->keepcaps, prctl(PR_GET_KEEPCAPS));
		atomic_fetch_add(&b->rounds, 1);
		if (!unblocked && atomic_load(&b->unblock)) {
			unsigned long none = 0;

			syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
				sizeof(none));
			unblocked = true;
		}
		if (b->raw || unblocked) {
			nanosleep(&slice, NULL);
		} else {
			siginfo_t si;

			if (sigtimedwait(&set, &si, &slice) ==
			    allthreads_signal())
				atomic_fetch_add(&b->taken, 1);
		}
	}
	return NULL;
}

static bool blocker_start(struct blocker *b, bool raw)
{
	memset(b, 0, sizeof(*b));
	b->raw = raw;
	atomic_store(&b->keepcaps, -1);
	if (pthread_create(&b->thread, NULL, blocker_main, b))
		return false;
	for (int i = 0; i < 2000 && atomic_load(&b->rounds) < 1; i++)
		tu_sleep_ms(1);
	return atomic_load(&b->rounds) > 0;
}

/* Its KEEPCAPS, read by itself after now. */
static long blocker_keepcaps(struct blocker *b)
{
	int r0 = atomic_load(&b->rounds);

	for (int i = 0; i < 2000 && atomic_load(&b->rounds) < r0 + 2; i++)
		tu_sleep_ms(1);
	return atomic_load(&b->keepcaps);
}

static bool blocker_stop(struct blocker *b)
{
	struct timespec abs;

	atomic_store(&b->quit, 1);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 5;
	return pthread_timedjoin_np(b->thread, NULL, &abs) == 0;
}

static bool others_keepcaps(struct tu_pool *pool, long want)
{
	return tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
	       tu_pool_keepcaps_wrong(pool, want) == 0 &&
	       prctl(PR_GET_KEEPCAPS) == want;
}

static void check_sigwait_thread(struct tu_pool *pool)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *r = NULL;
	struct blocker b;
	long long t0, took;
	int rc, idx;

	prctl(PR_SET_KEEPCAPS, 0);
	if (!tap_ok(blocker_start(&b, false), "sigwait thread started")) {
		tap_skip(3, "no sigwait thread");
		return;
	}
	t0 = tu_now_ms();
	rc = allthreads_run(prog, TIMEOUT_MS, 0, ALLTHREADS_MISMATCH_REPORT,
			    &r);
	took = tu_now_ms() - t0;
	tap_ok(took <= TIMEOUT_MS + SLACK_MS,
	       "sigwait: returned in %lld ms (deadline %d ms)", took,
	       TIMEOUT_MS);
	idx = r ? tu_report_find(r, atomic_load(&b.tid)) : -1;
	if (rc == 0) {
		tap_diag("sigwait: the engine reached the thread");
		tap_ok(idx > 0 &&
			       allthreads_report_state(r, idx) ==
				       ALLTHREADS_T_OK &&
			       blocker_keepcaps(&b) == 1 &&
			       others_keepcaps(pool, 1),
		       "sigwait: reached, and it changed with every thread");
	} else {
		tap_diag("sigwait: failed with %d, tid %d %s, taken %d", rc,
			 (int)atomic_load(&b.tid),
			 idx >= 0 ? allthreads_thread_state_name(
					    allthreads_report_state(r, idx)) :
				    "not listed",
			 atomic_load(&b.taken));
		tap_ok(rc == -ETIMEDOUT && idx > 0 &&
			       allthreads_report_state(r, idx) ==
				       ALLTHREADS_T_BLOCKED,
		       "sigwait: -ETIMEDOUT naming its TID as BLOCKED");
		if (rc != -ETIMEDOUT || idx <= 0)
			tu_report_dump(r);
	}
	tap_ok((rc == 0) == (blocker_keepcaps(&b) == 1) &&
		       others_keepcaps(pool, rc == 0 ? 1 : 0),
	       "sigwait: all threads agree (%s)",
	       rc == 0 ? "all changed" : "none changed");
	allthreads_report_free(r);
	allthreads_prog_free(prog);
	blocker_stop(&b);
	prctl(PR_SET_KEEPCAPS, 0);
	allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
}

static void set_name_before(long unused)
{
	(void)unused;
	prctl(PR_SET_NAME, "before");
}

static void check_blocked_oneway(struct tu_pool *pool, struct blocker *b)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *r = NULL;
	char comm[32] = "";
	unsigned n, left = 0;
	long long t0, took;
	int rc, idx;

	/* Each thread names itself (a broadcast cannot, with B blocked). */
	prctl(PR_SET_NAME, "before");
	tu_pool_ask(pool, TU_ALL, set_name_before, 0, 5000);
	tu_add_name(prog, "oneway");
	t0 = tu_now_ms();
	rc = allthreads_run(prog, TIMEOUT_MS, 0, ALLTHREADS_MISMATCH_REPORT,
			    &r);
	took = tu_now_ms() - t0;
	idx = r ? tu_report_find(r, atomic_load(&b->tid)) : -1;
	n = r ? allthreads_report_nthreads(r) : 0;
	for (unsigned i = 0; i < n; i++)
		left += allthreads_report_left_changed(r, i) +
			allthreads_report_steps_run(r, i);
	tap_ok(rc == -ETIMEDOUT && took <= TIMEOUT_MS + SLACK_MS,
	       "raw-blocked, one-way step: -ETIMEDOUT (got %d) in %lld ms", rc,
	       took);
	tap_ok(idx > 0 &&
		       allthreads_report_state(r, idx) ==
			       ALLTHREADS_T_BLOCKED &&
		       allthreads_report_verdict(r) == ALLTHREADS_FAILED &&
		       left == 0,
	       "raw-blocked, one-way step: BLOCKED named, verdict FAILED, no "
	       "step run anywhere");
	if (left || idx <= 0)
		tu_report_dump(r);
	tu_task_comm(tu_gettid(), comm, sizeof(comm));
	tap_ok(strcmp(comm, "before") == 0 &&
		       tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_name_wrong(pool, "before") == 0 &&
		       others_keepcaps(pool, 0),
	       "raw-blocked, one-way step: no thread changed its name or "
	       "KEEPCAPS");
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

static void check_raw_blocked(struct tu_pool *pool)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *r = NULL;
	struct blocker b;
	long long t0, took;
	long ret;
	int rc, idx;

	prctl(PR_SET_KEEPCAPS, 0);
	if (!tap_ok(blocker_start(&b, true), "raw-blocked thread started")) {
		tap_skip(10, "no blocked thread");
		return;
	}
	t0 = tu_now_ms();
	rc = allthreads_run(prog, TIMEOUT_MS, 0, ALLTHREADS_MISMATCH_REPORT,
			    &r);
	took = tu_now_ms() - t0;
	tap_ok(rc == -ETIMEDOUT && took <= TIMEOUT_MS + SLACK_MS,
	       "raw-blocked: -ETIMEDOUT (got %d) in %lld ms", rc, took);
	idx = r ? tu_report_find(r, atomic_load(&b.tid)) : -1;
	tap_ok(idx > 0 &&
		       allthreads_report_state(r, idx) == ALLTHREADS_T_BLOCKED,
	       "raw-blocked: the report names tid %d as BLOCKED",
	       (int)atomic_load(&b.tid));
	tap_ok(r && allthreads_report_verdict(r) == ALLTHREADS_FAILED,
	       "raw-blocked: verdict FAILED");
	if (idx <= 0 || allthreads_report_verdict(r) != ALLTHREADS_FAILED)
		tu_report_dump(r);
	tap_ok(others_keepcaps(pool, 0) && blocker_keepcaps(&b) == 0,
	       "raw-blocked: no thread kept KEEPCAPS 1");
	allthreads_report_free(r);

	/* With a one-way step the problem is knowable before anything
	 * changes: nothing may change, not even on the calling thread. */
	check_blocked_oneway(pool, &b);

	/* allthreads_syscall() has the default deadline; it must return. */
	t0 = tu_now_ms();
	ret = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	took = tu_now_ms() - t0;
	tap_ok(ret == -ETIMEDOUT && took <= 5000 + SLACK_MS,
	       "raw-blocked: allthreads_syscall returns -ETIMEDOUT (got %ld) "
	       "in %lld ms",
	       ret, took);

	/* Unblocked, any stale signal is harmless and a run works. */
	atomic_store(&b.unblock, 1);
	blocker_keepcaps(&b);
	tu_sleep_ms(20);
	rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL);
	tap_ok(rc == 0 && blocker_keepcaps(&b) == 1 && others_keepcaps(pool, 1),
	       "raw-blocked: once unblocked, a run changes every thread");
	tap_ok(blocker_stop(&b), "raw-blocked: thread joined");
	allthreads_prog_free(prog);
	allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
}

/* Exit codes of the RLIMIT_SIGPENDING child. */
enum {
	Q_ALL_CHANGED = 0,
	Q_REFUSED = 1,
	Q_SETUP = 10,
	Q_SILENT_SUCCESS,
	Q_NO_QUEUE_FULL,
	Q_CHANGED_ANYWAY,
	Q_NOT_RECOVERED,
};

static int sigpending_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(3, 20000);
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *r = NULL;
	struct rlimit zero, old;
	unsigned full = 0;
	int rc, code;

	(void)arg;
	if (!pool || !prog || getrlimit(RLIMIT_SIGPENDING, &old))
		return Q_SETUP;
	/* Only the soft limit: raising a hard limit again needs
	 * CAP_SYS_RESOURCE. */
	zero.rlim_cur = 0;
	zero.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_SIGPENDING, &zero))
		return Q_SETUP;
	rc = allthreads_run(prog, TIMEOUT_MS, 0, ALLTHREADS_MISMATCH_REPORT,
			    &r);
	tap_diag("child: RLIMIT_SIGPENDING 0: run returned %d", rc);
	tu_report_dump(r);
	if (rc == 0) {
		code = others_keepcaps(pool, 1) ? Q_ALL_CHANGED :
						  Q_SILENT_SUCCESS;
	} else {
		for (unsigned i = 0; r && i < allthreads_report_nthreads(r);
		     i++)
			if (allthreads_report_state(r, i) ==
			    ALLTHREADS_T_QUEUE_FULL)
				full++;
		if (rc != -ETIMEDOUT || full == 0)
			code = Q_NO_QUEUE_FULL;
		else if (!others_keepcaps(pool, 0))
			code = Q_CHANGED_ANYWAY;
		else
			code = Q_REFUSED;
	}
	allthreads_report_free(r);
	if (code > Q_REFUSED)
		return code;

	/* The limit back: the engine works again. */
	if (setrlimit(RLIMIT_SIGPENDING, &old))
		return Q_SETUP;
	rc = (int)allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	if (rc != 0) {
		tap_diag("child: limit back, allthreads_syscall: %d", rc);
		return Q_NOT_RECOVERED;
	}
	r = NULL;
	rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	allthreads_report_free(r);
	if (rc != 0 || !others_keepcaps(pool, 1))
		return Q_NOT_RECOVERED;
	allthreads_prog_free(prog);
	return code;
}

static const char *sigpending_outcome(int code)
{
	switch (code) {
	case Q_ALL_CHANGED:
		return "every thread changed";
	case Q_REFUSED:
		return "refused, QUEUE_FULL named, none changed";
	case Q_SILENT_SUCCESS:
		return "SILENT SUCCESS: 0, yet threads unchanged";
	case Q_NO_QUEUE_FULL:
		return "failed without naming a thread QUEUE_FULL";
	case Q_CHANGED_ANYWAY:
		return "failed, but threads kept the change";
	case Q_NOT_RECOVERED:
		return "no recovery once the limit was back";
	default:
		return "the child failed";
	}
}

static void check_sigpending(void)
{
	int ws = 0;
	int rc = tu_child(sigpending_child, NULL, 20000, &ws);
	int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;

	tap_ok(rc == 0 && (code == Q_ALL_CHANGED || code == Q_REFUSED),
	       "RLIMIT_SIGPENDING 0: %s (%s)", sigpending_outcome(code),
	       tu_wstatus(ws));
}

int main(void)
{
	struct tu_pool *pool;

	tu_watchdog(80);
	pool = tu_pool_new(4, 70000);
	if (!pool)
		tap_bail("cannot start workers");
	/* First, so that its child inherits no engine state: a fork after
	 * broadcasts is test-fork's subject, not this one's. */
	check_sigpending();
	check_sigwait_thread(pool);
	check_raw_blocked(pool);
	tap_ok(tu_pool_free(pool, 5000) == 0, "workers joined");
	return tap_done();
}
