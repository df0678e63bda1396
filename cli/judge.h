/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * judge.h - an outcome judged: each thread's problem, the change proven
 * through /proc, and the exit code.
 */
#ifndef AT_CLI_JUDGE_H
#define AT_CLI_JUDGE_H

#include <stddef.h>

struct opts;
struct outcome;
struct plan;
struct expectation;

/* Mark every row of OUT with its problem (or none) and prove a change:
 * the exit code (doc/design.md). */
int judge_outcome(const struct opts *o, const struct plan *plan,
		  struct outcome *out);
struct snapshot;

/* Does PLAN's change miss what SNAP's process keeps apart from its
 * threads?  A kernel worker task (PF_IO_WORKER, PF_USER_WORKER) is never
 * in user space, so no change reaches it; an io_uring ring may hold
 * registered personalities, credentials a credential change leaves as
 * they were.  How many such items, each in words in WHY ("; "
 * between). */
unsigned judge_kept(const struct plan *plan, const struct snapshot *snap,
		    char *why, size_t size);
/* E in words: the verb ("is", "holds", "lacks"...), and the value in
 * BUF. */
const char *judge_check_words(const struct expectation *e, char *buf,
			      size_t size);

#endif /* AT_CLI_JUDGE_H */
