/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutil.h - what the engine tests share: a pool of real worker threads
 * that each read their own per-thread state when asked, /proc/self/task
 * readers, a fork-and-wait with a deadline, and report helpers.
 *
 * Every wait here has a deadline and every loop a bound.
 */
#ifndef AT_TESTS_TESTUTIL_H
#define AT_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"

#define TU_ALL (-1)
#define TU_NAME_LEN 16

long long tu_now_ms(void);
void tu_sleep_ms(unsigned ms);
/* AT_TIMEOUT_FACTOR (tests/arm64/vm.sh: emulation is slow), 1 to 100,
 * default 1: what a test multiplies its deadlines by. */
unsigned tu_factor(void);
pid_t tu_gettid(void);
/* Kill the program with a "Bail out!" line after SECONDS. */
void tu_watchdog(unsigned seconds);

/* What one thread reads about itself, with raw system calls. */
struct tu_sample {
	pid_t tid;
	long keepcaps;
	long nnp;
	long slack;
	long fsuid;
	char name[TU_NAME_LEN];
	unsigned long uid[3]; /* real, effective, saved */
	unsigned long gid[3];
};

void tu_sample_self(struct tu_sample *s);

/* A pool of N idle worker threads.  Each waits (bounded) for a request;
 * on one it runs the action if it is addressed, then samples itself.
 * Workers leave on their own after LIFETIME_MS whatever happens. */
struct tu_pool;

struct tu_pool *tu_pool_new(unsigned n, unsigned lifetime_ms);
/* Worker WHO (or TU_ALL) runs FN(ARG); then every worker samples itself.
 * Returns 0 when all answered, -ETIMEDOUT if some did not by TIMEOUT_MS. */
int tu_pool_ask(struct tu_pool *pool, int who, void (*fn)(long), long arg,
		unsigned timeout_ms);
unsigned tu_pool_size(const struct tu_pool *pool);
pid_t tu_pool_tid(const struct tu_pool *pool, unsigned i);
const struct tu_sample *tu_pool_sample(const struct tu_pool *pool, unsigned i);
/* Index of the worker with TID, or -1. */
int tu_pool_find(const struct tu_pool *pool, pid_t tid);
/* Count workers whose sampled KEEPCAPS differs from WANT; names a few. */
unsigned tu_pool_keepcaps_wrong(const struct tu_pool *pool, long want);
unsigned tu_pool_name_wrong(const struct tu_pool *pool, const char *want);
/* Stop and join every worker; -ETIMEDOUT if some would not leave. */
int tu_pool_free(struct tu_pool *pool, unsigned timeout_ms);

/* /proc/self/task/TID/status: the text after "KEY:" (trimmed) in OUT. */
int tu_task_status(pid_t tid, const char *key, char *out, size_t len);
/* The same, as a number in BASE; -1 on error. */
long long tu_task_status_num(pid_t tid, const char *key, int base);
/* /proc/self/task/TID/comm without the newline. */
int tu_task_comm(pid_t tid, char *out, size_t len);
/* The TIDs in /proc/self/task; returns how many (at most MAX) or -errno. */
int tu_task_list(pid_t *tids, int max);
/* Is capability BIT in this thread's effective set (CapEff)? */
bool tu_has_cap(int bit);

/* Fork; the child runs FN(ARG) under an alarm and exits with its result.
 * The parent waits at most TIMEOUT_MS, then SIGKILLs it.  Returns 0 with
 * the wait status in *WSTATUS, or -errno (-ETIMEDOUT). */
int tu_child(int (*fn)(void *), void *arg, unsigned timeout_ms, int *wstatus);
int tu_wait_child(pid_t pid, unsigned timeout_ms, int *wstatus);
/* Describe a wait status for diagnostics (static buffer). */
const char *tu_wstatus(int wstatus);

/* Step programs. */
/* Append PR_SET_KEEPCAPS(VALUE), judged EQUAL; with UNDO, save
 * PR_GET_KEEPCAPS and undo with PR_SET_KEEPCAPS(saved).  Returns the
 * step index or -errno. */
int tu_add_keepcaps(struct allthreads_prog *prog, long value, bool undo);
/* A prog holding just that step (NULL on failure). */
struct allthreads_prog *tu_prog_keepcaps(long value, bool undo);
/* Append PR_SET_NAME(NAME), judged EQUAL.  No undo: a saved name does not
 * fit in a long, so the engine sees the step as one-way. */
int tu_add_name(struct allthreads_prog *prog, const char *name);

/* Reports.  TU_VERBOSE=1 in the environment makes tu_report_dump() list
 * every thread, not only the first few and the ones not OK. */
int tu_report_find(const struct allthreads_report *r, pid_t tid);
void tu_report_dump(const struct allthreads_report *r);
/* Run PROG and return its result, dumping the report when it is not 0. */
int tu_run(const struct allthreads_prog *prog, unsigned timeout_ms,
	   unsigned flags, enum allthreads_mismatch policy,
	   struct allthreads_report **report);

#endif /* AT_TESTS_TESTUTIL_H */
