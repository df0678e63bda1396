/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-steps.c - step programs: 44 steps in one visit, every step's result
 * on every thread, hold and no-hold, and the one-way NO_NEW_PRIVS (in a
 * child process, since it can never be cleared).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define ROUNDS 14 /* three steps each, then two more: 44 steps */
#define WORKERS 16

static char names[ROUNDS][16];

/* Per round: KEEPCAPS r%2, NAME "s<r>", GET_KEEPCAPS (must read r%2). */
static struct allthreads_prog *build_long_prog(void)
{
	struct allthreads_prog *prog = allthreads_prog_new();
	const long get[] = { PR_GET_KEEPCAPS };
	bool good = prog != NULL;

	for (int r = 0; good && r < ROUNDS; r++) {
		snprintf(names[r], sizeof(names[r]), "s%02d", r);
		good = tu_add_keepcaps(prog, r % 2, true) == 3 * r &&
		       tu_add_name(prog, names[r]) == 3 * r + 1 &&
		       allthreads_prog_add(prog, SYS_prctl, 1, get,
					   ALLTHREADS_JUDGE_EQUAL) == 3 * r + 2;
	}
	good = good && tu_add_keepcaps(prog, 1, true) == 3 * ROUNDS &&
	       tu_add_name(prog, "final") == 3 * ROUNDS + 1;
	if (!good) {
		allthreads_prog_free(prog);
		return NULL;
	}
	return prog;
}

/* Every thread ran every step; each GET_KEEPCAPS read what the step before
 * it set, on that thread. */
static bool long_results_good(const struct allthreads_report *r)
{
	unsigned n = allthreads_report_nthreads(r);
	unsigned want = 3 * ROUNDS + 2;
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		if (allthreads_report_state(r, i) != ALLTHREADS_T_OK ||
		    allthreads_report_steps_run(r, i) != want) {
			bad++;
			continue;
		}
		for (unsigned k = 0; k < ROUNDS; k++) {
			long got = allthreads_report_result(r, i, 3 * k + 2);

			if (got != (long)(k % 2) ||
			    allthreads_report_result(r, i, 3 * k) != 0 ||
			    allthreads_report_result(r, i, 3 * k + 1) != 0) {
				if (bad++ < 3)
					tap_diag("thread %u step %u: %ld", i,
						 3 * k + 2, got);
			}
		}
	}
	if (bad)
		tu_report_dump(r);
	return bad == 0 && n == WORKERS + 1;
}

static void reset_state(struct tu_pool *pool)
{
	allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	allthreads_syscall(SYS_prctl, PR_SET_NAME, (long)"reset", 0, 0, 0, 0);
	tu_pool_ask(pool, TU_ALL, NULL, 0, 5000);
}

static void check_long_prog(struct tu_pool *pool, unsigned flags,
			    const char *how)
{
	struct allthreads_prog *prog = build_long_prog();
	struct allthreads_report *report = NULL;
	char comm[32];
	int rc;

	if (!tap_ok(prog && allthreads_prog_len(prog) == 3 * ROUNDS + 2,
		    "%s: a %d-step program", how, 3 * ROUNDS + 2)) {
		tap_skip(4, "no program");
		allthreads_prog_free(prog);
		return;
	}
	reset_state(pool);
	rc = tu_run(prog, 10000, flags, ALLTHREADS_MISMATCH_REPORT, &report);
	tap_ok(rc == 0 && report &&
		       allthreads_report_verdict(report) == ALLTHREADS_AGREE &&
		       allthreads_report_nsteps(report) == 3 * ROUNDS + 2,
	       "%s: returns 0, verdict AGREE, %d steps", how, 3 * ROUNDS + 2);
	tap_ok(report && long_results_good(report),
	       "%s: each of %d threads ran all steps, each GET read its own set",
	       how, WORKERS + 1);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0 &&
		       tu_pool_name_wrong(pool, "final") == 0 &&
		       prctl(PR_GET_KEEPCAPS) == 1,
	       "%s: every thread reads KEEPCAPS 1 and name 'final'", how);
	tap_ok(tu_task_comm(tu_pool_tid(pool, WORKERS - 1), comm,
			    sizeof(comm)) == 0 &&
		       strcmp(comm, "final") == 0,
	       "%s: /proc/self/task/TID/comm of the last worker is '%s'", how,
	       comm);
	allthreads_report_free(report);
	allthreads_prog_free(prog);
}

/* A step judged ANY that fails everywhere does not stop anything. */
static void check_judge_any(struct tu_pool *pool)
{
	struct allthreads_prog *prog = allthreads_prog_new();
	struct allthreads_report *report = NULL;
	const long bad[] = { PR_SET_KEEPCAPS, 5 };
	unsigned n, wrong = 0;
	int rc;

	reset_state(pool);
	allthreads_prog_add(prog, SYS_prctl, 2, bad, ALLTHREADS_JUDGE_ANY);
	tu_add_keepcaps(prog, 1, true);
	rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &report);
	tap_ok(rc == 0, "ANY: a step failing with EINVAL everywhere is fine");
	n = report ? allthreads_report_nthreads(report) : 0;
	for (unsigned i = 0; i < n; i++)
		if (allthreads_report_result(report, i, 0) != -EINVAL ||
		    allthreads_report_result(report, i, 1) != 0)
			wrong++;
	tap_ok(n == WORKERS + 1 && wrong == 0,
	       "ANY: every thread recorded -EINVAL, then 0 (%u wrong of %u)",
	       wrong, n);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0,
	       "ANY: the step after it ran on every thread");
	allthreads_report_free(report);
	allthreads_prog_free(prog);
}

/* In a child: NO_NEW_PRIVS is one-way. */
static int nnp_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(8, 20000);
	struct allthreads_prog *prog = allthreads_prog_new();
	const long nnp[] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0 };
	pid_t tids[64];
	int n, rc;

	(void)arg;
	if (!pool || !prog)
		return 10;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		return 11;
	tu_add_keepcaps(prog, 1, true);
	allthreads_prog_add(prog, SYS_prctl, 5, nnp, ALLTHREADS_JUDGE_EQUAL);
	rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL);
	if (rc != 0)
		return 12;
	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) != 0)
		return 13;
	for (unsigned i = 0; i < tu_pool_size(pool); i++)
		if (tu_pool_sample(pool, i)->nnp != 1 ||
		    tu_pool_sample(pool, i)->keepcaps != 1)
			return 14;
	n = tu_task_list(tids, 64);
	if (n != 9)
		return 15;
	for (int i = 0; i < n; i++) {
		if (tu_task_status_num(tids[i], "NoNewPrivs", 10) != 1) {
			tap_diag("child: tid %d NoNewPrivs not 1",
				 (int)tids[i]);
			return 16;
		}
	}
	if (tu_pool_free(pool, 5000) != 0)
		return 17;
	allthreads_prog_free(prog);
	return 0;
}

int main(void)
{
	struct tu_pool *pool;
	int ws = 0, rc;

	tu_watchdog(100);
	pool = tu_pool_new(WORKERS, 80000);
	if (!pool)
		tap_bail("cannot start %d workers", WORKERS);

	/* The child first, so that it inherits no engine state: a fork after
	 * broadcasts is test-fork's subject, not this one's. */
	rc = tu_child(nnp_child, NULL, 30000, &ws);
	tap_ok(rc == 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
	       "child: NO_NEW_PRIVS set on all 9 threads, per thread and in "
	       "/proc (%s)",
	       tu_wstatus(ws));
	tap_ok(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0,
	       "parent: NO_NEW_PRIVS still 0");

	check_long_prog(pool, 0, "hold");
	check_long_prog(pool, ALLTHREADS_NO_HOLD, "no-hold");
	check_judge_any(pool);

	tap_ok(tu_pool_free(pool, 10000) == 0, "workers joined");
	return tap_done();
}
