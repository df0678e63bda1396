// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * step.c - building a step program (step.h): what allthreads_prog_new(),
 * _add(), _set_undo() and _free() do (api.c), for every product.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "step.h"

struct allthreads_prog *at_prog_new(void)
{
	return calloc(1, sizeof(struct allthreads_prog));
}

void at_prog_free(struct allthreads_prog *prog)
{
	free(prog);
}

static void copy_args(long *dst, const long *src, unsigned n)
{
	unsigned i;

	for (i = 0; i < ALLTHREADS_MAX_ARGS; i++)
		dst[i] = src && i < n ? src[i] : 0;
}

int at_prog_add(struct allthreads_prog *prog, long nr, unsigned nargs,
		const long *args, enum allthreads_judge judge)
{
	struct at_step *st;

	if (!prog || nr < 0 || nargs > ALLTHREADS_MAX_ARGS ||
	    (nargs && !args) || (unsigned)judge > ALLTHREADS_JUDGE_ANY)
		return -EINVAL;
	if (prog->n >= ALLTHREADS_MAX_STEPS)
		return -E2BIG;
	st = &prog->steps[prog->n];
	memset(st, 0, sizeof(*st));
	st->nr = nr;
	copy_args(st->args, args, nargs);
	st->judge = judge;
	return (int)prog->n++;
}

int at_prog_set_undo(struct allthreads_prog *prog, unsigned step, long save_nr,
		     const long *save_args, long undo_nr, const long *undo_args)
{
	struct at_step *st;

	if (!prog || step >= prog->n)
		return -EINVAL;
	if (undo_nr >= 0 && !undo_args)
		return -EINVAL;
	if (save_nr >= 0 && !save_args)
		return -EINVAL;
	st = &prog->steps[step];
	st->has_undo = true;
	st->has_save = save_nr >= 0;
	st->save_nr = save_nr;
	copy_args(st->save_args, save_args, save_nr >= 0 ? 6 : 0);
	st->undo_nr = undo_nr < 0 ? -1 : undo_nr;
	copy_args(st->undo_args, undo_args, undo_nr >= 0 ? 6 : 0);
	return 0;
}
