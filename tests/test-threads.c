/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-threads.c - one change reaches every thread, for 1, 2, 64 and 1000
 * threads.  Each worker reads its own KEEP_CAPS and name; /proc/self/task
 * is read for the name as well; the report must list exactly the threads
 * that exist.
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

#define MAX_TIDS 2048

/* Every TID in /proc/self/task appears in the report, and nothing else. */
static bool report_matches_tasks(const struct allthreads_report *r)
{
	static pid_t tids[MAX_TIDS];
	int n = tu_task_list(tids, MAX_TIDS);
	bool good = n > 0 && (unsigned)n == allthreads_report_nthreads(r);

	if (!good)
		tap_diag("%d tasks, report lists %u", n,
			 allthreads_report_nthreads(r));
	for (int i = 0; i < n; i++) {
		if (tu_report_find(r, tids[i]) < 0) {
			tap_diag("tid %d missing from the report",
				 (int)tids[i]);
			good = false;
		}
	}
	return good;
}

static bool all_states_ok(const struct allthreads_report *r, unsigned nsteps)
{
	unsigned n = allthreads_report_nthreads(r);
	bool good = true;

	for (unsigned i = 0; i < n; i++) {
		if (allthreads_report_state(r, i) != ALLTHREADS_T_OK ||
		    allthreads_report_steps_run(r, i) != nsteps ||
		    allthreads_report_failed_step(r, i) != -1) {
			if (good)
				tu_report_dump(r);
			good = false;
		}
	}
	return good;
}

static unsigned comm_wrong(const struct tu_pool *pool, const char *want)
{
	unsigned wrong = 0;
	char comm[64];

	for (unsigned i = 0; i < tu_pool_size(pool); i++) {
		pid_t tid = tu_pool_tid(pool, i);

		if (tu_task_comm(tid, comm, sizeof(comm)) < 0 ||
		    strcmp(comm, want) != 0) {
			if (wrong++ < 5)
				tap_diag("tid %d: comm '%s'", (int)tid, comm);
		}
	}
	if (tu_task_comm(tu_gettid(), comm, sizeof(comm)) < 0 ||
	    strcmp(comm, want) != 0)
		wrong++;
	return wrong;
}

static void check_threads(unsigned nthreads)
{
	struct tu_pool *pool = tu_pool_new(nthreads - 1, 60000);
	struct allthreads_report *report = NULL;
	struct allthreads_prog *prog;
	char name[16];
	long long t0;
	long ret;
	int rc;

	if (!tap_ok(pool != NULL, "%u threads: started", nthreads)) {
		tap_skip(9, "no pool");
		return;
	}

	/* The step program route, with a report. */
	prog = tu_prog_keepcaps(1, true);
	t0 = tu_now_ms();
	rc = tu_run(prog, 10000, 0, ALLTHREADS_MISMATCH_REPORT, &report);
	tap_ok(rc == 0, "%u threads: KEEPCAPS 1 returns 0 (%lld ms)", nthreads,
	       tu_now_ms() - t0);
	tap_ok(report &&
		       allthreads_report_verdict(report) == ALLTHREADS_AGREE &&
		       allthreads_report_nsteps(report) == 1 &&
		       allthreads_report_tid(report, 0) == tu_gettid(),
	       "%u threads: verdict AGREE, thread 0 is the caller", nthreads);
	tap_ok(report && report_matches_tasks(report) &&
		       all_states_ok(report, 1),
	       "%u threads: report lists every thread, each OK", nthreads);
	allthreads_report_free(report);
	allthreads_prog_free(prog);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 10000) == 0 &&
		       prctl(PR_GET_KEEPCAPS) == 1 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0,
	       "%u threads: every thread reads KEEPCAPS 1 itself", nthreads);

	/* allthreads_syscall(), glibc-setxid style. */
	ret = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	tap_ok(ret == 0, "%u threads: allthreads_syscall KEEPCAPS 0 = %ld",
	       nthreads, ret);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 10000) == 0 &&
		       prctl(PR_GET_KEEPCAPS) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 0) == 0,
	       "%u threads: every thread reads KEEPCAPS 0 itself", nthreads);

	/* The thread name: per-thread reads and /proc/self/task/TID/comm. */
	snprintf(name, sizeof(name), "at-n%u", nthreads);
	ret = allthreads_syscall(SYS_prctl, PR_SET_NAME, (long)name, 0, 0, 0,
				 0);
	tap_ok(ret == 0, "%u threads: PR_SET_NAME %s = %ld", nthreads, name,
	       ret);
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 10000) == 0 &&
		       tu_pool_name_wrong(pool, name) == 0,
	       "%u threads: every thread reads its name '%s'", nthreads, name);
	tap_ok(comm_wrong(pool, name) == 0,
	       "%u threads: /proc/self/task/*/comm all '%s'", nthreads, name);

	tap_ok(tu_pool_free(pool, 10000) == 0, "%u threads: workers joined",
	       nthreads);
}

int main(void)
{
	static const unsigned counts[] = { 1, 2, 64, 1000 };

	tu_watchdog(100);
	tap_ok(allthreads_signal() > 0, "engine signal %d",
	       allthreads_signal());
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_threads(counts[i]);
	return tap_done();
}
