/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.h - the per-thread, per-step report of one run. */
#ifndef AT_REPORT_H
#define AT_REPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "allthreads.h"

/* Room for one thread's diagnosis, the terminating NUL included; the wire
 * format carries the same (struct at_ctl_row, asserted in ctl-client.c). */
#define AT_WHY_LEN 96
/* Room for a run's reason (allthreads_target_why()), the NUL included:
 * every route and every tracer hands it on in buffers of this size. */
#define AT_REASON_LEN 256
/* The most of a reason another reason quotes (with words of its own
 * around it). */
#define AT_NESTED_LEN (AT_REASON_LEN - 64)

struct at_rthread {
	pid_t tid;
	int state; /* enum allthreads_thread_state */
	int nrun;
	int failed_step;
	int left;
	char why[AT_WHY_LEN]; /* diagnosis for threads that never ran */
};

/* What the ptrace route measured (zero for the other routes). */
struct at_rtimes {
	uint64_t frozen_ns;
	uint64_t stop_ns;
	uint64_t inject_ns;
	uint64_t verify_ns;
	uint64_t stops;
	int route; /* 0 none, 2 ptrace */
	int stub;
	int window; /* the most threads at work in the stub at once */
};

struct allthreads_report {
	enum allthreads_verdict verdict;
	unsigned nthreads;
	unsigned nsteps;
	struct at_rthread *t;
	long *res; /* nthreads * nsteps */
	struct at_rtimes times;
};

/* Reserve a report for N threads of NSTEPS steps; NULL if out of memory. */
struct allthreads_report *at_report_new(unsigned n, unsigned nsteps);
/* Free REP (NULL is fine): allthreads_report_free(), for every product. */
void at_report_free(struct allthreads_report *rep);

#endif /* AT_REPORT_H */
