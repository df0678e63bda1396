/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * landlock-steps.h - the steps allthreads_target_landlock(3) runs on the
 * threads of a target, the same on both routes (ctl-landlock.c in the
 * helper, ptrace-landlock.c by ptrace): enum allthreads_landlock_step.
 */
#ifndef AT_LANDLOCK_STEPS_H
#define AT_LANDLOCK_STEPS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "allthreads.h"

/*
 * NO_NEW_PRIVS, landlock_restrict_self(FD, 0) and, with PROVE,
 * openat(AT_FDCWD, ROOT, O_RDONLY | O_DIRECTORY) judged ANY with nothing
 * to undo (ROOT is "/" as the threads see it).  NULL when out of memory.
 */
static inline struct allthreads_prog *at_ll_prog(long fd, const char *root,
						 bool prove)
{
	const long nnp[5] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0 };
	const long ll[2] = { fd, 0 };
	const long open_root[3] = { AT_FDCWD, (long)root,
				    O_RDONLY | O_DIRECTORY | O_CLOEXEC };
	struct allthreads_prog *prog = allthreads_prog_new();
	int s;

	if (!prog)
		return NULL;
	if (allthreads_prog_add(prog, SYS_prctl, 5, nnp,
				ALLTHREADS_JUDGE_EQUAL) !=
		    ALLTHREADS_LANDLOCK_STEP_NNP ||
	    allthreads_prog_add(prog, SYS_landlock_restrict_self, 2, ll,
				ALLTHREADS_JUDGE_EQUAL) !=
		    ALLTHREADS_LANDLOCK_STEP_RESTRICT)
		goto fail;
	if (prove) {
		s = allthreads_prog_add(prog, SYS_openat, 3, open_root,
					ALLTHREADS_JUDGE_ANY);
		if (s != ALLTHREADS_LANDLOCK_STEP_PROVE ||
		    allthreads_prog_set_undo(prog, (unsigned)s, -1, NULL, -1,
					     NULL) < 0)
			goto fail;
	}
	return prog;
fail:
	allthreads_prog_free(prog);
	return NULL;
}

#endif /* AT_LANDLOCK_STEPS_H */
