// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hide-thread-shim.c - an LD_PRELOAD library for the tests: a run's report
 * that misses a thread.  With $AT_TEST_HIDE_LAST set, the program's
 * allthreads_report_nthreads() answers one fewer than the report holds,
 * so the last thread the run found is missing from what the program reads
 * of it.  A command that sweeps the task directory after the run must
 * find that thread there and say it was not reached, however many threads
 * come before it (test-landlock.sh).
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "allthreads.h"

typedef unsigned (*nthreads_fn)(const struct allthreads_report *);

/* Exported over the build's hidden default, so it interposes
 * liballthreads'. */
__attribute__((visibility("default"))) unsigned
allthreads_report_nthreads(const struct allthreads_report *report)
{
	static nthreads_fn real;
	unsigned n;

	if (!real)
		real = (nthreads_fn)dlsym(RTLD_NEXT,
					  "allthreads_report_nthreads");
	n = real ? real(report) : 0;
	if (n && getenv("AT_TEST_HIDE_LAST"))
		n--;
	return n;
}
