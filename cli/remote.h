/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * remote.h - run a step program on every thread of ANOTHER process, through
 * the allthreads-helper.so loaded in it (`allthreads run`, or LD_PRELOAD).
 */
#ifndef AT_CLI_REMOTE_H
#define AT_CLI_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"

/* How a remote run ended, beyond its return value. */
struct at_remote_status {
	/* false: no such process, no helper, refused, or the target died or
	 * did not answer: the CLI exits 3 with WHY.  true: the target read
	 * the request; the return value and report are its answer. */
	bool reached;
	/* The request went out with its proof, and no answer came: the
	 * helper may have run it (the outcome is unknown). */
	bool sent;
	char why[200];
};

/*
 * Run PROG on every thread of process PID, as allthreads_run() would there.
 * Returns what allthreads_run() returned in the target (0 or -errno) with
 * *REPORT set (free with allthreads_report_free()); or -errno with no
 * report: ST->reached false when the target could not be reached (exit 3),
 * true when its helper refused the request as malformed or not allowed
 * (nothing changed; exit 1).  ST->why says why in one line.
 */
int at_remote_run(pid_t pid, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report,
		  struct at_remote_status *st);

/* Does PID have a helper we can reach?  0, or -ESRCH / -EACCES / -ENOENT
 * with WHY (for --via=auto). */
int at_remote_probe(pid_t pid, char *why, size_t len);

#endif /* AT_CLI_REMOTE_H */
