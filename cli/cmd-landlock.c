// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-landlock.c - `allthreads landlock`: one Landlock domain on every
 * thread, then PROGRAM, compiled into a plan for the common executor
 * (run.c) like every other change.  The options are util-linux setpriv's:
 *
 *   --landlock-access fs[:RIGHT,...]          the access rights handled
 *   --landlock-rule path-beneath:RIGHT,...:PATH  what stays allowed
 *
 * The plan's steps, in one visit per thread: NO_NEW_PRIVS, then
 * landlock_restrict_self() on the ruleset, then the proof, a read of "/"
 * that must fail with EACCES there.  The plan carries the ruleset
 * (ruleset.c), which the executor (execute.c) builds when it runs: here,
 * its paths opened in our own mount namespace (where the kernel has
 * LANDLOCK_RESTRICT_SELF_TSYNC, ABI 8, one call puts every thread in the
 * domain first); for -p PID, through allthreads_target_landlock(3), in the
 * target, so that the paths are resolved in its mount namespace and root,
 * by its helper or by calls the ptrace route injects while every thread
 * is stopped, the same steps then run on each of its threads.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "cli.h"
#include "commands.h"
#include "plan.h"
#include "ruleset.h"
#include "target.h"
#include "usage.h"

enum {
	OPT_ACCESS = 0x700,
	OPT_RULE,
};

static const struct argp_option landlock_options[] = {
	{ "landlock-access", OPT_ACCESS, "fs[:RIGHT,...]", 0,
	  "the access rights the domain handles (denies unless a rule "
	  "allows): fs for every file-system right the kernel has, or "
	  "fs:RIGHT,... (repeatable; default fs)",
	  0 },
	{ "landlock-rule", OPT_RULE, "path-beneath:RIGHT,...:PATH", 0,
	  "allow RIGHTs on PATH and everything beneath it (repeatable)", 0 },
	{ NULL },
};

static int parse_landlock_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_ACCESS:
		if (o->nll_access >= MAX_RULES)
			argp_error(state, "--landlock-access: more than %d",
				   MAX_RULES);
		o->ll_access[o->nll_access++] = arg;
		break;
	case OPT_RULE:
		if (o->nll_rules >= MAX_RULES)
			argp_error(state, "--landlock-rule: more than %d",
				   MAX_RULES);
		o->ll_rules[o->nll_rules++] = arg;
		break;
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
}

const struct argp landlock_argp = {
	.options = landlock_options,
	.parser = parse_landlock_opt,
	.args_doc = "[-- PROGRAM [ARG...]]",
	.doc = "Put every thread of allthreads (or, with -p, of a process "
	       "started with allthreads run: its helper builds the ruleset "
	       "there) in one Landlock domain (NO_NEW_PRIVS first, as "
	       "Landlock requires), prove it on each thread, then run "
	       "PROGRAM.  The options are setpriv's.  "
	       "RIGHTs: execute, write-file, read-file, read-dir, "
	       "remove-dir, remove-file, make-char, make-dir, make-reg, "
	       "make-sock, make-fifo, make-block, make-sym, refer (ABI 2), "
	       "truncate (ABI 3), ioctl-dev (ABI 5).\v"
	       "Examples:\n"
	       "  allthreads landlock --landlock-access fs \\\n"
	       "      --landlock-rule path-beneath:execute,read-file,read-dir:/usr \\\n"
	       "      --landlock-rule path-beneath:read-file,read-dir:/etc \\\n"
	       "      -- /usr/bin/cat /etc/hostname\n"
	       "  allthreads -n landlock --landlock-rule path-beneath:read-file:/srv",
	.children = at_global_children,
};

/* The steps, in the order allthreads_target_landlock(3) reports them:
 * NO_NEW_PRIVS, the domain (with TSYNC, put on every thread before the
 * visit: a step that changes nothing holds its place), and, when the
 * ruleset denies reading "/", the proof: opening it fails with EACCES,
 * judged ANY (an error is what is wanted, and must not stop the thread). */
static int add_steps(struct plan *plan, const struct request *rq)
{
	static const char root[] = "/";
	const long nnp[] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0 };
	const long ll[] = { -1, 0 }; /* the ruleset's fd, once built */
	const long open_root[] = { AT_FDCWD, (long)root,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC };
	struct step *st;

	st = plan_add(plan, ROLE_CHANGE, SYS_prctl, 5, nnp,
		      ALLTHREADS_JUDGE_EQUAL);
	if (!st)
		return -ENOSPC;
	snprintf(st->call, sizeof(st->call), "prctl(PR_SET_NO_NEW_PRIVS, 1)");
	if (rq->tsync)
		st = plan_add(plan, ROLE_CHANGE, SYS_sched_yield, 0, NULL,
			      ALLTHREADS_JUDGE_EQUAL);
	else
		st = plan_add(plan, ROLE_CHANGE, SYS_landlock_restrict_self, 2,
			      ll, ALLTHREADS_JUDGE_EQUAL);
	if (!st)
		return -ENOSPC;
	snprintf(st->call, sizeof(st->call), "%s",
		 rq->tsync ? "sched_yield() (in the domain by TSYNC)" :
			     "landlock_restrict_self(ruleset, 0)");
	if (!rq->can_prove)
		return 0;
	st = plan_add(plan, ROLE_CHECK, SYS_openat, 3, open_root,
		      ALLTHREADS_JUDGE_ANY);
	if (!st)
		return -ENOSPC;
	snprintf(st->call, sizeof(st->call),
		 "openat(AT_FDCWD, \"/\", O_RDONLY|O_DIRECTORY)");
	plan->has_expect = true;
	plan->expect = -EACCES;
	return 0;
}

/* What -n and -J say of the ruleset, as the plan's notes; and, said
 * always, how the domain is proven when a read cannot prove it. */
static void add_notes(const struct opts *o, struct plan *plan,
		      const struct request *rq)
{
	char acc[512];
	unsigned i, room;

	if (rq->tsync)
		plan_note(plan, "the calling thread puts every thread in the "
				"domain first: landlock_restrict_self(ruleset, "
				"LANDLOCK_RESTRICT_SELF_TSYNC)");
	if (!rq->can_prove)
		plan_note(plan, "landlock: the ruleset does not deny reading "
				"/, so the domain is proven by "
				"landlock_restrict_self's result on each "
				"thread only");
	if (!o->dry_run && !o->json)
		return;
	ruleset_rights_text(rq->handled, acc, sizeof(acc));
	plan_note(plan, "ruleset (Landlock ABI %d): handles %s", rq->abi, acc);
	/* Room left for the route and the prediction, noted later. */
	room = PLAN_MAX_NOTES - 2 - plan->nnotes;
	for (i = 0; i < rq->nrules; i++) {
		if (i + 1 == room && i + 1 < rq->nrules) {
			plan_note(plan, "and %u more rule(s)", rq->nrules - i);
			break;
		}
		ruleset_rights_text(rq->rules[i].access, acc, sizeof(acc));
		plan_note(plan, "allow %.100s beneath %.60s", acc,
			  rq->rules[i].path);
	}
}

int cmd_landlock(const struct opts *o, struct plan *plan,
		 const struct target *tgt)
{
	struct request *rq;
	int abi, code;

	if (o->nargs)
		return usage_error("landlock: %s: unexpected argument (rules "
				   "are --landlock-rule; PROGRAM follows --)",
				   o->args[0]);
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return EXIT_FAILED;
	plan->landlock = rq; /* plan_release() frees it */
	abi = ruleset_abi();
	if (abi < 0)
		return -abi;
	rq->abi = abi;
	/* Another process: its route chooses (its helper takes TSYNC where
	 * the kernel has it; the ptrace route cannot). */
	rq->tsync = tgt->self && abi >= ABI_TSYNC;
	code = ruleset_parse(o, tgt, rq);
	if (code)
		return code;
	plan->command = "landlock";
	snprintf(plan->what, sizeof(plan->what), "Landlock domain");
	plan->change = true;
	/* A domain is part of a thread's credentials: a kernel worker and a
	 * ring's personalities keep theirs (allthreads(1), KERNEL WORKERS
	 * AND IO_URING). */
	plan->creds = true;
	plan->format = FMT_DOMAIN;
	plan->exec_hint = " (under the new Landlock domain: does a rule "
			  "allow execute and read-file on it and its "
			  "libraries?)";
	if (add_steps(plan, rq))
		return EXIT_FAILED;
	/* /proc shows NO_NEW_PRIVS (not the domain) on every thread of
	 * another process; on allthreads itself the domain may deny /proc. */
	if (!tgt->self && !plan_expect(plan, "NoNewPrivs", EXPECT_EQUALS, 1))
		return EXIT_FAILED;
	add_notes(o, plan, rq);
	return -1;
}
