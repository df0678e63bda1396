/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-policy.c - per-step judging (EQUAL, SUCCESS, ANY), the mismatch
 * policies (REPORT, IGNORE, KILL), undo with per-thread saved values (also
 * when the save is the read-only step just before), and a failure on the
 * calling thread that must touch nothing else.
 *
 * The mismatch is real: one worker sets its own timer slack, so
 * PR_GET_TIMERSLACK returns something different on that thread only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define WORKERS 8
#define ODD 3	 /* the worker whose timer slack differs */
#define PRESET 5 /* the worker that has KEEPCAPS 1 before the run */
#define ODD_SLACK 123457L

static void set_slack(long v)
{
	prctl(PR_SET_TIMERSLACK, v, 0, 0, 0);
}

static void set_keepcaps(long v)
{
	prctl(PR_SET_KEEPCAPS, v, 0, 0, 0);
}

/* PR_GET_TIMERSLACK changes nothing; with UNDOABLE it says so to the
 * engine by an undo that is harmless (another GET), so the program stays
 * fully undoable.  Without one the engine must count it as one-way. */
static int add_get_slack(struct allthreads_prog *prog,
			 enum allthreads_judge judge, bool undoable)
{
	const long get[ALLTHREADS_MAX_ARGS] = { PR_GET_TIMERSLACK };
	int step = allthreads_prog_add(prog, SYS_prctl, 1, get, judge);

	if (step >= 0 && undoable &&
	    allthreads_prog_set_undo(prog, (unsigned)step, -1, NULL, SYS_prctl,
				     get) < 0)
		return -1;
	return step;
}

/* KEEPCAPS back to 0 everywhere, PRESET's to 1. */
static bool reset_keepcaps(struct tu_pool *pool)
{
	return allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0) ==
		       0 &&
	       tu_pool_ask(pool, PRESET, set_keepcaps, 1, 5000) == 0 &&
	       tu_pool_sample(pool, PRESET)->keepcaps == 1;
}

/* Each worker's KEEPCAPS: PRESET_VALUE on PRESET, OTHERS elsewhere. */
static unsigned keepcaps_wrong(struct tu_pool *pool, long preset_value,
			       long others)
{
	unsigned wrong = 0;

	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) != 0)
		return 1000;
	for (unsigned i = 0; i < WORKERS; i++) {
		long want = i == PRESET ? preset_value : others;
		long got = tu_pool_sample(pool, i)->keepcaps;

		if (got != want) {
			tap_diag("worker %u (tid %d): keepcaps %ld, want %ld",
				 i, (int)tu_pool_tid(pool, i), got, want);
			wrong++;
		}
	}
	if (prctl(PR_GET_KEEPCAPS) != others) {
		tap_diag("caller: keepcaps %d, want %ld",
			 prctl(PR_GET_KEEPCAPS), others);
		wrong++;
	}
	return wrong;
}

static void check_success_and_any(struct tu_pool *pool)
{
	static const enum allthreads_judge judges[] = {
		ALLTHREADS_JUDGE_SUCCESS, ALLTHREADS_JUDGE_ANY
	};
	static const char *const names[] = { "SUCCESS", "ANY" };

	for (int j = 0; j < 2; j++) {
		struct allthreads_prog *prog = allthreads_prog_new();
		struct allthreads_report *r = NULL;
		int rc, odd, self;

		add_get_slack(prog, judges[j], false);
		rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
		tap_ok(rc == 0 && r &&
			       allthreads_report_verdict(r) == ALLTHREADS_AGREE,
		       "%s: differing GET_TIMERSLACK results are accepted",
		       names[j]);
		odd = r ? tu_report_find(r, tu_pool_tid(pool, ODD)) : -1;
		self = r ? tu_report_find(r, tu_gettid()) : -1;
		tap_ok(odd > 0 && self == 0 &&
			       allthreads_report_result(r, odd, 0) ==
				       ODD_SLACK &&
			       allthreads_report_result(r, 0, 0) ==
				       prctl(PR_GET_TIMERSLACK),
		       "%s: the report holds each thread's own value (%ld, %ld)",
		       names[j],
		       odd > 0 ? allthreads_report_result(r, odd, 0) : 0,
		       r ? allthreads_report_result(r, 0, 0) : 0);
		allthreads_report_free(r);
		allthreads_prog_free(prog);
	}
}

/* KEEPCAPS 1 (undoable), then GET_TIMERSLACK judged EQUAL: ODD fails. */
static struct allthreads_prog *build_mismatch_prog(bool oneway)
{
	struct allthreads_prog *prog = allthreads_prog_new();

	if (!prog)
		return NULL;
	tu_add_keepcaps(prog, 1, true);
	if (oneway)
		tu_add_name(prog, "oneway");
	add_get_slack(prog, ALLTHREADS_JUDGE_EQUAL, true);
	return prog;
}

static void check_report_policy(struct tu_pool *pool)
{
	struct allthreads_prog *prog = build_mismatch_prog(false);
	struct allthreads_report *r = NULL;
	unsigned n, bad = 0;
	int rc, odd;

	tap_ok(reset_keepcaps(pool), "REPORT: worker %d starts with KEEPCAPS 1",
	       PRESET);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == -EIO, "REPORT: a mismatch returns -EIO (got %d)", rc);
	tap_ok(r && allthreads_report_verdict(r) == ALLTHREADS_FAILED,
	       "REPORT: verdict FAILED (%s): every change was undone",
	       r ? allthreads_verdict_name(allthreads_report_verdict(r)) : "-");
	odd = r ? tu_report_find(r, tu_pool_tid(pool, ODD)) : -1;
	tap_ok(odd > 0 &&
		       allthreads_report_state(r, odd) == ALLTHREADS_T_FAILED &&
		       allthreads_report_failed_step(r, odd) == 1 &&
		       allthreads_report_result(r, odd, 1) == ODD_SLACK,
	       "REPORT: the odd thread is FAILED at step 1 with its value");
	n = r ? allthreads_report_nthreads(r) : 0;
	for (unsigned i = 0; i < n; i++) {
		if (allthreads_report_left_changed(r, i) != 0)
			bad++;
		if ((int)i != odd &&
		    allthreads_report_state(r, i) != ALLTHREADS_T_UNDONE)
			bad++;
	}
	tap_ok(n == WORKERS + 1 && bad == 0,
	       "REPORT: every other thread is UNDONE, none left changed");
	if (bad)
		tu_report_dump(r);
	tap_ok(keepcaps_wrong(pool, 1, 0) == 0,
	       "REPORT: undo restored each thread's own saved KEEPCAPS");
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

static void check_oneway_undo(struct tu_pool *pool)
{
	struct allthreads_prog *prog = build_mismatch_prog(true);
	struct allthreads_report *r = NULL;
	char comm[32] = "";
	unsigned n, bad = 0;
	int rc;

	reset_keepcaps(pool);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == -EIO && r &&
		       allthreads_report_verdict(r) == ALLTHREADS_PARTIAL,
	       "one-way step: -EIO (got %d) and verdict PARTIAL", rc);
	n = r ? allthreads_report_nthreads(r) : 0;
	for (unsigned i = 0; i < n; i++)
		if (allthreads_report_left_changed(r, i) != 1)
			bad++;
	tap_ok(n == WORKERS + 1 && bad == 0,
	       "one-way step: each thread reports 1 step left changed");
	if (bad)
		tu_report_dump(r);
	tap_ok(keepcaps_wrong(pool, 1, 0) == 0,
	       "one-way step: the undoable KEEPCAPS was still undone");
	tu_task_comm(tu_pool_tid(pool, 0), comm, sizeof(comm));
	tap_ok(strcmp(comm, "oneway") == 0,
	       "one-way step: the name stayed changed ('%s')", comm);
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

/* The CLI's shape: the old value read (a read-only step), then KEEPCAPS 1
 * whose save is that same read, which the engine takes from the step
 * before instead of making the call again (lib/engine/sigctx.c); then the
 * mismatch.  Each thread's undo must still restore its own value. */
static void check_old_read_save(struct tu_pool *pool)
{
	const long get[ALLTHREADS_MAX_ARGS] = { PR_GET_KEEPCAPS };
	struct allthreads_prog *prog = allthreads_prog_new();
	struct allthreads_report *r = NULL;
	unsigned n, bad = 0;
	int rc, odd, preset;

	if (!prog ||
	    allthreads_prog_add(prog, SYS_prctl, 1, get,
				ALLTHREADS_JUDGE_ANY) != 0 ||
	    allthreads_prog_set_undo(prog, 0, -1, NULL, -1, NULL) < 0 ||
	    tu_add_keepcaps(prog, 1, true) != 1 ||
	    add_get_slack(prog, ALLTHREADS_JUDGE_EQUAL, true) != 2)
		tap_bail("cannot build the old-read program");
	tap_ok(reset_keepcaps(pool),
	       "old read: worker %d starts with KEEPCAPS 1", PRESET);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == -EIO && r &&
		       allthreads_report_verdict(r) == ALLTHREADS_FAILED,
	       "old read: a mismatch returns -EIO (got %d), verdict FAILED",
	       rc);
	odd = r ? tu_report_find(r, tu_pool_tid(pool, ODD)) : -1;
	preset = r ? tu_report_find(r, tu_pool_tid(pool, PRESET)) : -1;
	tap_ok(odd > 0 && allthreads_report_failed_step(r, odd) == 2,
	       "old read: the odd thread is FAILED at step 2");
	n = r ? allthreads_report_nthreads(r) : 0;
	for (unsigned i = 0; i < n; i++) {
		long want = (int)i == preset ? 1 : 0;

		if (allthreads_report_result(r, i, 0) != want ||
		    allthreads_report_left_changed(r, i) != 0)
			bad++;
		if ((int)i != odd &&
		    allthreads_report_state(r, i) != ALLTHREADS_T_UNDONE)
			bad++;
	}
	tap_ok(preset > 0 && n == WORKERS + 1 && bad == 0,
	       "old read: each thread read its own KEEPCAPS, every other "
	       "thread is UNDONE, none left changed");
	if (bad)
		tu_report_dump(r);
	tap_ok(keepcaps_wrong(pool, 1, 0) == 0,
	       "old read: undo restored each thread's own KEEPCAPS from the "
	       "read before it");
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

static void check_ignore_policy(struct tu_pool *pool)
{
	struct allthreads_prog *prog = build_mismatch_prog(false);
	struct allthreads_report *r = NULL;
	int rc, odd;

	reset_keepcaps(pool);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_IGNORE, &r);
	tap_ok(rc == 0, "IGNORE: a mismatch returns 0 (got %d)", rc);
	tap_ok(keepcaps_wrong(pool, 1, 1) == 0,
	       "IGNORE: every thread keeps KEEPCAPS 1");
	odd = r ? tu_report_find(r, tu_pool_tid(pool, ODD)) : -1;
	tap_ok(odd > 0 && allthreads_report_result(r, odd, 1) == ODD_SLACK &&
		       allthreads_report_result(r, 0, 1) != ODD_SLACK,
	       "IGNORE: the report still records the differing value");
	tu_report_dump(r);
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

static int kill_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(4, 20000);
	struct allthreads_prog *prog = build_mismatch_prog(false);
	struct allthreads_report *r = NULL;
	int rc;

	(void)arg;
	if (!pool || !prog)
		return 10;
	if (tu_pool_ask(pool, 2, set_slack, ODD_SLACK, 5000) != 0)
		return 11;
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_KILL, &r);
	tap_diag("child: KILL policy returned %d", rc);
	tu_report_dump(r);
	return 12;
}

static void check_kill_policy(void)
{
	int ws = 0;
	int rc = tu_child(kill_child, NULL, 20000, &ws);

	tap_ok(rc == 0 && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL,
	       "KILL: the process dies of SIGKILL (%s)", tu_wstatus(ws));
}

/* The calling thread fails first: nothing else is touched. */
static void check_caller_fails(struct tu_pool *pool, long nr, long a1, int want,
			       const char *what)
{
	struct allthreads_prog *prog = allthreads_prog_new();
	struct allthreads_report *r = NULL;
	const long args[] = { a1, 5 };
	unsigned n, touched = 0;
	int rc;

	reset_keepcaps(pool);
	tu_add_keepcaps(prog, 1, true);
	allthreads_prog_add(prog, nr, 2, args, ALLTHREADS_JUDGE_EQUAL);
	tu_add_keepcaps(prog, 1, true);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == want, "%s: the caller's error %d is returned (got %d)",
	       what, want, rc);
	tap_ok(r && allthreads_report_verdict(r) == ALLTHREADS_FAILED &&
		       allthreads_report_failed_step(r, 0) == 1 &&
		       allthreads_report_result(r, 0, 1) == want,
	       "%s: verdict FAILED, caller failed at step 1", what);
	n = r ? allthreads_report_nthreads(r) : 0;
	for (unsigned i = 1; i < n; i++)
		if (allthreads_report_steps_run(r, i) != 0 ||
		    allthreads_report_state(r, i) != ALLTHREADS_T_NOT_RUN)
			touched++;
	/* The others may be listed (as NOT_RUN) or not at all. */
	tap_ok((n == 1 || n == WORKERS + 1) && touched == 0,
	       "%s: no other thread ran a step (%u threads listed, %u ran)",
	       what, n, touched);
	tap_ok(r && allthreads_report_steps_run(r, 0) == 2 &&
		       allthreads_report_result(r, 0, 2) == -ECANCELED,
	       "%s: the caller ran 2 steps, step 2 reads -ECANCELED", what);
	if (touched)
		tu_report_dump(r);
	tap_ok(keepcaps_wrong(pool, 1, 0) == 0,
	       "%s: KEEPCAPS unchanged everywhere, caller undone", what);
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

int main(void)
{
	struct tu_pool *pool;
	long ret;

	tu_watchdog(100);
	pool = tu_pool_new(WORKERS, 90000);
	if (!pool)
		tap_bail("cannot start %d workers", WORKERS);
	tap_ok(tu_pool_ask(pool, ODD, set_slack, ODD_SLACK, 5000) == 0 &&
		       tu_pool_sample(pool, ODD)->slack == ODD_SLACK &&
		       prctl(PR_GET_TIMERSLACK) != ODD_SLACK,
	       "worker %d has its own timer slack %ld", ODD, ODD_SLACK);

	/* The child first, so that it inherits no engine state: a fork after
	 * broadcasts is test-fork's subject, not this one's. */
	check_kill_policy();
	check_success_and_any(pool);
	check_report_policy(pool);
	check_oneway_undo(pool);
	check_old_read_save(pool);
	check_ignore_policy(pool);
	check_caller_fails(pool, SYS_prctl, PR_SET_KEEPCAPS, -EINVAL,
			   "KEEPCAPS 5");
	check_caller_fails(pool, 99999, 0, -ENOSYS, "syscall 99999");

	ret = allthreads_syscall(99999, 0, 0, 0, 0, 0, 0);
	tap_ok(ret == -ENOSYS, "allthreads_syscall(99999) = %ld", ret);
	ret = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 7, 0, 0, 0, 0);
	tap_ok(ret == -EINVAL, "allthreads_syscall(KEEPCAPS 7) = %ld", ret);
	tap_ok(keepcaps_wrong(pool, 1, 0) == 0,
	       "after both, KEEPCAPS unchanged everywhere");

	tap_ok(tu_pool_free(pool, 10000) == 0, "workers joined");
	return tap_done();
}
