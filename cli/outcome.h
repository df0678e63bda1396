/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * outcome.h - what carrying a plan out produced, one row per thread: the
 * executor fills it, the judge marks it, the renderer prints it.
 */
#ifndef AT_CLI_OUTCOME_H
#define AT_CLI_OUTCOME_H

#include <stdbool.h>
#include <sys/types.h>

#include "allthreads.h"
#include "plan.h"
#include "procfs.h"

struct target;

/* One thread's part of the outcome. */
struct row {
	pid_t tid;
	enum allthreads_thread_state state;
	unsigned nrun;
	/* Its result of each of the plan's steps (never NULL; in one block
	 * for all rows, outcome.results: a row of its own would make a
	 * process of many threads cost megabytes). */
	const long *res;
	int failed_step;
	unsigned left; /* steps left in force after a failure */
	char *value;   /* the read, the result, or the new value */
	char *old;     /* before the change (-v) */
	char *problem; /* what is wrong with the thread, or NULL */
	char why[128]; /* why it never ran, as the engine saw it, or "" */
	const struct tstatus *after; /* its /proc status after, or NULL */
	bool unlisted; /* not in the run's report: judged by /proc only */
};

struct outcome {
	struct row *rows;
	unsigned nrows;
	long *results; /* what the rows' res point into */
	bool ran;      /* the engine ran (not /proc only, not -n) */
	enum allthreads_verdict verdict;
	int rc; /* allthreads_run()'s return */
	int exit;
	char *folded;	   /* the value every thread shows, or NULL */
	unsigned unlisted; /* threads /proc lists that the run missed */
	/* The run's set of threads was closed: the route stopped every thread
	 * until a full pass of /proc found no new one, and changed them all
	 * before any ran again (ptrace).  A thread /proc lists afterwards
	 * that the report lacks was born after the release, of a thread that
	 * had changed, and inherited what was set. */
	bool closed;
	const struct target *tgt;
	pid_t procpid; /* for /proc paths: 0 (self) or the target's pid */
	struct snapshot before, after; /* plan->status_diff */
	/* AFTER holds the TIDs /proc listed right after the run, nothing
	 * else (proc_snapshot_tids()): the judge's sweep, made already. */
	bool after_tids;
	/* Another process's tasks and rings, read before a change: what it
	 * keeps that no route reaches (kernel workers, io_uring rings).
	 * kept: how many such items matter to the plan (judge_kept()); a
	 * change is refused then, unless --force. */
	struct snapshot look;
	unsigned kept;
	/* Landlock on allthreads itself: /proc/self/task opened before the
	 * change (a domain may deny opening it after; Landlock checks at
	 * open, not at getdents), for the final sweep; else -1. */
	int taskfd;
};

/* Threads in these states took no part and are no one's fault. */
static inline bool is_absent(enum allthreads_thread_state s)
{
	return s == ALLTHREADS_T_ZOMBIE || s == ALLTHREADS_T_EXITED;
}

#endif /* AT_CLI_OUTCOME_H */
