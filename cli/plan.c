// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * plan.c - a plan put together: its steps, its /proc checks and notes,
 * and the names of its step roles and judges.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "plan.h"

const char *plan_role_name(enum step_role r)
{
	static const char *const names[] = {
		[ROLE_READ] = "read",	  [ROLE_OLD] = "old",
		[ROLE_CHANGE] = "change", [ROLE_CHECK] = "check",
		[ROLE_CALL] = "call",
	};

	return names[r];
}

const char *plan_judge_name(enum allthreads_judge j)
{
	switch (j) {
	case ALLTHREADS_JUDGE_EQUAL:
		return "equal";
	case ALLTHREADS_JUDGE_SUCCESS:
		return "success";
	case ALLTHREADS_JUDGE_ANY:
		return "any";
	}
	return "unknown";
}

struct step *plan_add(struct plan *plan, enum step_role role, long nr,
		      unsigned nargs, const long *args,
		      enum allthreads_judge judge)
{
	struct step *st;

	if (plan->nsteps >= PLAN_MAX_STEPS || nargs > ALLTHREADS_MAX_ARGS)
		return NULL;
	st = &plan->steps[plan->nsteps++];
	memset(st, 0, sizeof(*st));
	st->nr = nr;
	st->nargs = nargs;
	if (nargs)
		memcpy(st->args, args, nargs * sizeof(long));
	st->judge = judge;
	st->role = role;
	st->save_nr = -1;
	return st;
}

struct expectation *plan_expect(struct plan *plan, const char *key,
				enum expect_how how, unsigned long long value)
{
	struct expectation *e;
	int attr = attr_find(key);

	if (attr < 0 || plan->nexpect >= PLAN_MAX_EXPECT)
		return NULL;
	e = &plan->expects[plan->nexpect++];
	memset(e, 0, sizeof(*e));
	e->text = key;
	e->attr = attr;
	e->how = how;
	e->sub = -1;
	if (how == EXPECT_BIT_SET || how == EXPECT_BIT_CLEAR ||
	    attr == ATTR_NNP || attr == ATTR_SECCOMP || attr == ATTR_FILTERS)
		e->num = value;
	else
		e->mask = value;
	return e;
}

void plan_note(struct plan *plan, const char *fmt, ...)
{
	va_list ap;

	if (plan->nnotes >= PLAN_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(plan->notes[plan->nnotes++], sizeof(plan->notes[0]), fmt, ap);
	va_end(ap);
}

void plan_release(struct plan *plan)
{
	free(plan->groups);
	free(plan->seccomp_prog);
	free(plan->seccomp_filter);
	free(plan->landlock);
	plan->landlock = NULL;
	plan->groups = NULL;
	plan->seccomp_prog = NULL;
	plan->seccomp_filter = NULL;
}
