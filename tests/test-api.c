/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-api.c - bad input gets -EINVAL (or -E2BIG) and changes nothing; the
 * report and name accessors are safe on every value.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

static void check_prog_args(void)
{
	struct allthreads_prog *prog = allthreads_prog_new();
	const long args[ALLTHREADS_MAX_ARGS] = { PR_SET_KEEPCAPS, 1 };
	const long get[ALLTHREADS_MAX_ARGS] = { PR_GET_KEEPCAPS };
	int rc, last = -1;

	if (!tap_ok(prog != NULL && allthreads_prog_len(prog) == 0,
		    "a new program is empty"))
		tap_bail("allthreads_prog_new failed");

	rc = allthreads_prog_add(NULL, SYS_prctl, 2, args,
				 ALLTHREADS_JUDGE_EQUAL);
	tap_ok(rc == -EINVAL, "add to NULL: %d", rc);
	rc = allthreads_prog_add(prog, SYS_prctl, ALLTHREADS_MAX_ARGS + 1, args,
				 ALLTHREADS_JUDGE_EQUAL);
	tap_ok(rc == -EINVAL, "add with %d args: %d", ALLTHREADS_MAX_ARGS + 1,
	       rc);
	rc = allthreads_prog_add(prog, SYS_prctl, 2, NULL,
				 ALLTHREADS_JUDGE_EQUAL);
	tap_ok(rc == -EINVAL, "add with 2 args and a NULL array: %d", rc);
	rc = allthreads_prog_add(prog, SYS_prctl, 2, args,
				 (enum allthreads_judge)7);
	tap_ok(rc == -EINVAL, "add with judge 7: %d", rc);
	rc = allthreads_prog_add(prog, -1, 0, NULL, ALLTHREADS_JUDGE_EQUAL);
	tap_ok(rc == -EINVAL, "add syscall -1: %d", rc);
	tap_ok(allthreads_prog_len(prog) == 0, "failed adds left it empty");

	rc = allthreads_prog_set_undo(prog, 0, SYS_prctl, get, SYS_prctl, args);
	tap_ok(rc == -EINVAL, "undo for a step that does not exist: %d", rc);
	rc = allthreads_prog_set_undo(NULL, 0, -1, NULL, SYS_prctl, args);
	tap_ok(rc == -EINVAL, "undo on NULL: %d", rc);

	for (int i = 0; i < ALLTHREADS_MAX_STEPS; i++) {
		rc = allthreads_prog_add(prog, SYS_prctl, 1, get,
					 ALLTHREADS_JUDGE_EQUAL);
		if (rc != i)
			break;
		last = rc;
	}
	tap_ok(last == ALLTHREADS_MAX_STEPS - 1 &&
		       allthreads_prog_len(prog) == ALLTHREADS_MAX_STEPS,
	       "%d steps fit (last index %d)", ALLTHREADS_MAX_STEPS, last);
	rc = allthreads_prog_add(prog, SYS_prctl, 1, get,
				 ALLTHREADS_JUDGE_EQUAL);
	tap_ok(rc == -E2BIG, "step %d: %d", ALLTHREADS_MAX_STEPS + 1, rc);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL);
	tap_ok(rc == 0, "a full %d-step program runs: %d", ALLTHREADS_MAX_STEPS,
	       rc);
	allthreads_prog_free(prog);
	allthreads_prog_free(NULL);
	tap_ok(true, "allthreads_prog_free(NULL) is harmless");
}

static void check_run_args(void)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *r = NULL;
	int rc;

	prctl(PR_SET_KEEPCAPS, 0);
	rc = allthreads_run(NULL, 1000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == -EINVAL, "run NULL: %d", rc);
	rc = allthreads_run(prog, 1000, 0, (enum allthreads_mismatch)9, &r);
	tap_ok(rc == -EINVAL, "run with policy 9: %d", rc);
	rc = allthreads_run(prog, 1000, 1u << 30, ALLTHREADS_MISMATCH_REPORT,
			    &r);
	tap_ok(rc == -EINVAL, "run with an unknown flag: %d", rc);
	rc = allthreads_run(prog, 1000, ALLTHREADS_HOLD | ALLTHREADS_NO_HOLD,
			    ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == -EINVAL, "run with HOLD|NO_HOLD: %d", rc);
	tap_ok(prctl(PR_GET_KEEPCAPS) == 0, "bad runs changed nothing");
	allthreads_prog_free(prog);
	allthreads_report_free(NULL);
	tap_ok(true, "allthreads_report_free(NULL) is harmless");
}

static void check_names(void)
{
	unsigned bad = 0;

	for (int s = ALLTHREADS_T_OK; s <= ALLTHREADS_T_NOT_RUN; s++) {
		const char *n = allthreads_thread_state_name(s);

		if (!n || !*n)
			bad++;
		for (int t = ALLTHREADS_T_OK; n && t < s; t++)
			if (!strcmp(n, allthreads_thread_state_name(t)))
				bad++;
	}
	tap_ok(bad == 0, "every thread state has its own name");
	tap_ok(allthreads_thread_state_name((enum allthreads_thread_state)99) !=
		       NULL,
	       "an unknown thread state still has a name");
	bad = 0;
	for (int v = ALLTHREADS_AGREE; v <= ALLTHREADS_FAILED; v++)
		if (!allthreads_verdict_name(v) || !*allthreads_verdict_name(v))
			bad++;
	tap_ok(bad == 0 && allthreads_verdict_name(
				   (enum allthreads_verdict)99) != NULL,
	       "every verdict has a name");
}

static void check_report_bounds(void)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(0, true);
	struct allthreads_report *r = NULL;
	int rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);

	tap_ok(rc == 0 && r && allthreads_report_nthreads(r) == 1 &&
		       allthreads_report_tid(r, 0) == tu_gettid(),
	       "a single-threaded run reports one thread, the caller");
	tap_ok(r && allthreads_report_result(r, 0, 0) == 0 &&
		       allthreads_report_result(r, 0, 1) < 0 &&
		       allthreads_report_result(r, 7, 0) < 0,
	       "results past the end read as errors (%ld, %ld)",
	       r ? allthreads_report_result(r, 0, 1) : 0,
	       r ? allthreads_report_result(r, 7, 0) : 0);
	tap_ok(r && allthreads_report_steps_run(r, 7) == 0 &&
		       allthreads_report_failed_step(r, 7) == -1 &&
		       allthreads_report_left_changed(r, 7) == 0,
	       "accessors past the last thread are harmless");
	allthreads_report_free(r);
	allthreads_prog_free(prog);
}

int main(void)
{
	tu_watchdog(60);
	check_prog_args();
	check_run_args();
	check_names();
	check_report_bounds();
	return tap_done();
}
