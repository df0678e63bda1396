// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hide-thread-shim.c - an LD_PRELOAD library for the tests: a run's report
 * that misses a thread, or names one that is not the target's.  With
 * $AT_TEST_HIDE_LAST set, the program's allthreads_report_nthreads()
 * answers one fewer than the report holds, so the last thread the run
 * found is missing from what the program reads of it.  A command that
 * sweeps the task directory after the run must find that thread there and
 * say it was not reached, however many threads come before it
 * (test-landlock.sh), and a report from another process's helper that
 * misses it is not believed (test-remote.sh).  With $AT_TEST_REPORT_TID
 * set to a TID, allthreads_report_tid() gives that TID for the report's
 * last thread instead of its own: a report naming a task that is not a
 * thread of the target is not believed either (test-remote.sh).
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "allthreads.h"

typedef unsigned (*nthreads_fn)(const struct allthreads_report *);
typedef pid_t (*tid_fn)(const struct allthreads_report *, unsigned);

static unsigned real_nthreads(const struct allthreads_report *report)
{
	static nthreads_fn real;

	if (!real)
		real = (nthreads_fn)dlsym(RTLD_NEXT,
					  "allthreads_report_nthreads");
	return real ? real(report) : 0;
}

/* Exported over the build's hidden default, so it interposes
 * liballthreads'. */
__attribute__((visibility("default"))) unsigned
allthreads_report_nthreads(const struct allthreads_report *report)
{
	unsigned n = real_nthreads(report);

	if (n && getenv("AT_TEST_HIDE_LAST"))
		n--;
	return n;
}

__attribute__((visibility("default"))) pid_t
allthreads_report_tid(const struct allthreads_report *report, unsigned i)
{
	static tid_fn real;
	const char *tid = getenv("AT_TEST_REPORT_TID");

	if (!real)
		real = (tid_fn)dlsym(RTLD_NEXT, "allthreads_report_tid");
	if (tid && i + 1 == real_nthreads(report))
		return (pid_t)atoi(tid);
	return real ? real(report, i) : -1;
}
