/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * remote.h - run a step program on every thread of ANOTHER process, through
 * liballthreads' API for it (allthreads_target_run(3)): the allthreads
 * helper loaded in it (`allthreads run`, or LD_PRELOAD), or ptrace.
 */
#ifndef AT_CLI_REMOTE_H
#define AT_CLI_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"

/* How a remote run ended, beyond its return value. */
struct at_remote_status {
	/* false: no such process, no route, refused, or the target died or
	 * did not answer: the CLI exits 3 with WHY.  true: the target was
	 * reached; the return value and report are its answer (or its
	 * helper refused the request: nothing changed, exit 1). */
	bool reached;
	bool opened; /* the target was opened (else WHY says why not) */
	enum allthreads_route route; /* the route taken, AUTO if none */
	char why[256];
};

/*
 * Run PROG on every thread of process PID by ROUTE, as allthreads_run()
 * would there.  Returns what the run returned (0 or -errno) with *REPORT
 * set (free with allthreads_report_free()) when the threads were judged;
 * or -errno with no report: ST->reached false when the target could not be
 * reached (exit 3), true when its helper refused the request as malformed
 * or not allowed (-EINVAL, nothing changed; exit 1).  ST->why says why in
 * one line.
 */
int at_remote_run_via(pid_t pid, enum allthreads_route route,
		      const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      struct allthreads_report **report,
		      struct at_remote_status *st);

/* allthreads_target_landlock(3) on PID by ROUTE: a Landlock domain built
 * there (HANDLED, NRULES RULES, FLAGS) on every thread; returns and fills
 * *REPORT and ST as at_remote_run_via() does. */
int at_remote_landlock_via(pid_t pid, enum allthreads_route route,
			   unsigned long long handled,
			   const struct allthreads_landlock_rule *rules,
			   unsigned nrules, unsigned flags, unsigned timeout_ms,
			   enum allthreads_mismatch policy,
			   struct allthreads_report **report,
			   struct at_remote_status *st);

/* The same through the helper only (the helper's tests use it). */
int at_remote_run(pid_t pid, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report,
		  struct at_remote_status *st);

/* Which route ROUTE would take for PID now: ALLTHREADS_ROUTE_HELPER or
 * ALLTHREADS_ROUTE_PTRACE, or -errno with WHY (for -n and --via=auto). */
int at_remote_probe_via(pid_t pid, enum allthreads_route route, char *why,
			size_t len);

/* Does PID have a helper we can reach?  0, or -ESRCH / -EPERM / -ENOENT
 * with WHY. */
int at_remote_probe(pid_t pid, char *why, size_t len);

#endif /* AT_CLI_REMOTE_H */
