// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-syscall.c - `allthreads syscall NAME|NR [ARG...]`: any system call,
 * by libseccomp name for this architecture or by number, on every thread.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "names.h"
#include "plan.h"
#include "target.h"
#include "usage.h"

enum { OPT_JUDGE = 0x200 };

static const struct argp_option syscall_options[] = {
	{ "judge", OPT_JUDGE, "HOW", 0,
	  "equal (every thread returns what the first did; the default), "
	  "success (any result >= 0) or any (errors too)",
	  0 },
	{ NULL },
};

static int parse_syscall_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	if (key != OPT_JUDGE)
		return at_parse_root(key, arg, state);
	if (strcmp(arg, "equal") == 0)
		o->judge = ALLTHREADS_JUDGE_EQUAL;
	else if (strcmp(arg, "success") == 0)
		o->judge = ALLTHREADS_JUDGE_SUCCESS;
	else if (strcmp(arg, "any") == 0)
		o->judge = ALLTHREADS_JUDGE_ANY;
	else
		argp_error(state, "--judge: %s: not equal, success or any",
			   arg);
	return 0;
}

static const struct argp_child syscall_children[] = {
	{ &at_global_argp, 0, "Global options:", 0 },
	{ NULL },
};

const struct argp syscall_argp = {
	.options = syscall_options,
	.parser = parse_syscall_opt,
	.args_doc = "NAME|NR [ARG...] [-- PROGRAM [ARG...]]",
	.doc = "Run one system call on every thread of allthreads itself.  "
	       "Names are libseccomp's for this architecture; arguments are "
	       "numbers (decimal or 0x hexadecimal).",
	.children = syscall_children,
};

int cmd_syscall(const struct opts *o, struct plan *plan,
		const struct target *tgt)
{
	long nr, args[ALLTHREADS_MAX_ARGS];
	char msg[512], *name;
	struct step *st;
	size_t len;
	int i, e;

	(void)tgt; /* a system call is the same for every target */
	if (o->nargs < 1)
		return usage_error("syscall: missing NAME or NR (try: "
				   "allthreads syscall getpid)");
	e = parse_syscall(o->args[0], &nr);
	if (e == -ERANGE) {
		snprintf(msg, sizeof(msg),
			 "syscall: %s: out of range "
			 "(0..4095)",
			 o->args[0]);
		return usage_error("%s", msg);
	}
	if (e) {
		char near[256];

		suggest_syscall(o->args[0], near, sizeof(near));
		snprintf(msg, sizeof(msg),
			 "syscall: %s: unknown system call "
			 "on this architecture (nearest: %s)",
			 o->args[0], near);
		return usage_error("%s", msg);
	}
	if (o->nargs - 1 > ALLTHREADS_MAX_ARGS)
		return usage_error("syscall: too many arguments (at most 6)");
	for (i = 1; i < o->nargs; i++) {
		if (parse_long(o->args[i], &args[i - 1])) {
			snprintf(msg, sizeof(msg),
				 "syscall: %s: not a number "
				 "(decimal, or 0x hexadecimal)",
				 o->args[i]);
			return usage_error("%s", msg);
		}
	}
	name = syscall_name(nr);
	plan->command = "syscall";
	plan->change = true;
	plan->call = true;
	plan->format = FMT_NUMBER;
	snprintf(plan->what, sizeof(plan->what), "%s",
		 name ? name : o->args[0]);
	st = plan_add(plan, ROLE_CALL, nr, o->nargs - 1, args, o->judge);
	len = snprintf(st->call, sizeof(st->call), "%s(", plan->what);
	for (i = 0; i < o->nargs - 1 && len < sizeof(st->call); i++)
		len += snprintf(st->call + len, sizeof(st->call) - len, "%s%ld",
				i ? ", " : "", args[i]);
	if (len < sizeof(st->call))
		snprintf(st->call + len, sizeof(st->call) - len, ")");
	free(name);
	return -1;
}
