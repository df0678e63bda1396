// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * plan.c - the names of a plan's step roles and judges, as -n and JSON
 * print them.
 */
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
