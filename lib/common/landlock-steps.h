/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * landlock-steps.h - the steps allthreads_target_landlock(3) runs on the
 * threads of a target, the same on both routes (ctl-landlock.c in the
 * helper, ptrace-landlock.c by ptrace): enum allthreads_landlock_step;
 * and whether the kernel's LANDLOCK_RESTRICT_SELF_TSYNC does the domain
 * part instead.
 */
#ifndef AT_LANDLOCK_STEPS_H
#define AT_LANDLOCK_STEPS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allthreads.h"
#include "step.h"

/* Newer than the installed <linux/landlock.h> maybe; the kernel's UAPI. */
#ifndef LANDLOCK_RESTRICT_SELF_TSYNC
#define LANDLOCK_RESTRICT_SELF_TSYNC (1U << 3) /* ABI 8, Linux 7.0 */
#endif
/* The first Landlock ABI with LANDLOCK_RESTRICT_SELF_TSYNC. */
#define AT_LL_ABI_TSYNC 8

/*
 * One landlock_restrict_self(ruleset, LANDLOCK_RESTRICT_SELF_TSYNC) on one
 * thread, the kernel putting every other thread in the same domain, rather
 * than one landlock_restrict_self() per thread?  ABI is what
 * landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) gave
 * (or -errno).  Never BY_PTRACE: the kernel's TSYNC waits until every
 * other thread has run a task_work of its own (security/landlock/tsync.c),
 * and a thread in a ptrace stop runs none until it is resumed, so with
 * every thread stopped the call would never return; there each thread
 * restricts itself while all are stopped.
 */
static inline bool at_ll_use_tsync(long abi, bool by_ptrace)
{
	return abi >= AT_LL_ABI_TSYNC && !by_ptrace;
}

/* The kernel's Landlock ABI, or -errno. */
static inline long at_ll_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : abi;
}

/*
 * NO_NEW_PRIVS, landlock_restrict_self(FD, 0) and, with PROVE,
 * openat(AT_FDCWD, ROOT, O_RDONLY | O_DIRECTORY) judged ANY with nothing
 * to undo (ROOT is "/" as the threads see it).  With TSYNC the domain is
 * already on every thread (the caller's landlock_restrict_self(FD,
 * LANDLOCK_RESTRICT_SELF_TSYNC) returned 0, which is that step's result
 * for each thread): its place holds sched_yield(), which changes nothing
 * and returns the same 0, so the steps keep their numbers.  NULL when out
 * of memory.
 */
static inline struct allthreads_prog *at_ll_prog(long fd, const char *root,
						 bool prove, bool tsync)
{
	const long nnp[5] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0 };
	const long ll[2] = { fd, 0 };
	const long open_root[3] = { AT_FDCWD, (long)root,
				    O_RDONLY | O_DIRECTORY | O_CLOEXEC };
	struct allthreads_prog *prog = at_prog_new();
	int s;

	if (!prog)
		return NULL;
	if (at_prog_add(prog, SYS_prctl, 5, nnp, ALLTHREADS_JUDGE_EQUAL) !=
		    ALLTHREADS_LANDLOCK_STEP_NNP ||
	    (tsync ? at_prog_add(prog, SYS_sched_yield, 0, NULL,
				 ALLTHREADS_JUDGE_EQUAL) :
		     at_prog_add(prog, SYS_landlock_restrict_self, 2, ll,
				 ALLTHREADS_JUDGE_EQUAL)) !=
		    ALLTHREADS_LANDLOCK_STEP_RESTRICT)
		goto fail;
	if (prove) {
		s = at_prog_add(prog, SYS_openat, 3, open_root,
				ALLTHREADS_JUDGE_ANY);
		if (s != ALLTHREADS_LANDLOCK_STEP_PROVE ||
		    at_prog_set_undo(prog, (unsigned)s, -1, NULL, -1, NULL) < 0)
			goto fail;
	}
	return prog;
fail:
	at_prog_free(prog);
	return NULL;
}

#endif /* AT_LANDLOCK_STEPS_H */
