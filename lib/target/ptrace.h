/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ptrace.h - the ptrace route: run a step program on every thread of
 * another process by seizing its threads (internal; lib/target/ptrace.c,
 * lib/target/inject.c).
 */
#ifndef AT_PTRACE_H
#define AT_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "allthreads.h"

/* Can the caller use the ptrace route on PID now?  0, or -errno with a
 * one-line reason in WHY (-ESRCH, -EPERM, -EBUSY, -ENOTSUP).  Reads /proc
 * only; touches nothing. */
int at_ptrace_probe(pid_t pid, char *why, size_t whylen);

/* Run PROG on every thread of PID (PIDFD, if >= 0, pins the process: a
 * recycled pid is refused).  Returns like allthreads_target_run(). */
int at_ptrace_run(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen);

/* allthreads_target_landlock() on PID by the ptrace route (the arguments
 * checked): the ruleset built in the process by injected calls, then the
 * steps of enum allthreads_landlock_step on every thread
 * (ptrace-landlock.c).  Returns like at_ptrace_run(); -EINVAL, with no
 * report, when the ruleset could not be built there (nothing changed). */
int at_ptrace_landlock(pid_t pid, int pidfd, unsigned long long handled,
		       const struct allthreads_landlock_rule *rules,
		       unsigned nrules, unsigned flags, unsigned timeout_ms,
		       enum allthreads_mismatch policy,
		       struct allthreads_report **report, char *why,
		       size_t whylen);

/* What the last ptrace run of a report cost, for the benchmark:
 * frozen_ns from the first PTRACE_INTERRUPT to the last PTRACE_DETACH,
 * stop_ns the part spent stopping every thread, stops the ptrace stops
 * waited for, window the most threads that ran the stub at once (1: one
 * at a time; 0: none did).  -ENOENT when REPORT does not come from the
 * ptrace route. */
struct at_ptrace_times {
	uint64_t frozen_ns;
	uint64_t stop_ns;
	uint64_t inject_ns;
	uint64_t verify_ns;
	uint64_t stops;
	bool stub;	 /* the whole program ran per thread in the stub */
	unsigned window; /* the most threads at work in it at once */
};
int at_ptrace_times(const struct allthreads_report *report,
		    struct at_ptrace_times *out);

#endif /* AT_PTRACE_H */
