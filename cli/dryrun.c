// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dryrun.c - --dry-run: the plan printed step by step, with the route it
 * would take and what the real run would meet first.
 */
#include <stdio.h>
#include <string.h>

#include "attrs.h"
#include "cli.h"
#include "dryrun.h"
#include "execute.h"
#include "judge.h"
#include "outcome.h"
#include "plan.h"
#include "remote.h"
#include "render.h"
#include "target.h"
#include "usage.h"

static void print_plan(const struct opts *o, const struct plan *plan,
		       const struct target *tgt)
{
	char buf[1024], where[64];
	unsigned s;
	char **p;

	if (tgt->self)
		snprintf(where, sizeof(where), "allthreads itself (pid %d)",
			 tgt->pid);
	else
		snprintf(where, sizeof(where), "pid %d", tgt->pid);
	printf("dry run: nothing changes.  On every thread of %s, in one "
	       "visit:\n",
	       where);
	if (plan->nsteps == 0 && plan->seccomp_prog)
		printf("  (no steps)\n");
	else if (plan->nsteps == 0)
		printf("  (no steps: read /proc/%s/task/*/%s)\n",
		       tgt->self ? "self" : "PID",
		       plan->proc_read ? "status" : "comm");
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		printf("  %u. %-34s %-6s judge %s", s + 1, st->call,
		       plan_role_name(st->role), plan_judge_name(st->judge));
		if (st->role == ROLE_CHANGE || st->role == ROLE_CALL)
			printf(", undo: %s",
			       st->has_undo ? st->undo : "none (one-way)");
		if (st->role == ROLE_CHECK && plan->has_expect)
			printf(", expect %ld", plan->expect);
		putchar('\n');
	}
	if (plan->seccomp_prog && tgt->self)
		printf("then, once, on the calling thread: seccomp("
		       "SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, "
		       "%u instructions): the kernel installs it on every "
		       "thread\n",
		       plan->seccomp_len);
	for (s = 0; s < plan->nexpect; s++) {
		const struct expectation *e = &plan->expects[s];
		const char *verb = judge_check_words(e, buf, sizeof(buf));

		printf("then verify /proc/%s/task/*/status: %s %s %s\n",
		       tgt->self ? "self" : "PID", at_attrs[e->attr].key, verb,
		       buf);
	}
	if (plan->comm)
		printf("then verify /proc/%s/task/*/comm is \"%s\"\n",
		       tgt->self ? "self" : "PID", plan->comm);
	if (o->program) {
		printf("then exec:");
		for (p = o->program; *p; p++)
			printf(" %s", *p);
		putchar('\n');
	}
	if (plan->predict[0])
		printf("predicted: %s\n", plan->predict);
	else if (plan->status_diff)
		printf("predicted: every step can succeed on %s (from its "
		       "/proc state)\n",
		       where);
}

/* -n through the helper: a thread that keeps the engine's signal blocked
 * (a Go runtime thread, a program that masks it with a raw system call)
 * can never take it, and the run would fail there (the engine names it
 * once its signal has stayed queued some 300 ms).  Looking at SigBlk
 * cannot tell a thread that keeps it blocked from one that blocks it most
 * of the time (a thread starting threads under a sanitizer), so this is a
 * note, not a prediction. */
static void note_blockers(const struct target *tgt)
{
	pid_t tids[16];
	int sig = allthreads_signal(), n, i;

	n = signal_blockers(tgt->pid, sig, tids, 16);
	for (i = 0; i < n && i < 16; i++)
		fprintf(stderr,
			"allthreads: note: tid %d had signal %d blocked "
			"(SigBlk) at every look: if it keeps it so, the "
			"helper cannot reach it (the ptrace route, "
			"--via=ptrace, can)\n",
			tids[i], sig);
}

/* -n on another process: can the run reach it?  The checks the real run
 * makes before anything changes (no such process, a kernel thread, no
 * permission, no helper for steps); an exit code after saying why, or 0. */
static int dry_run_reachable(const struct plan *plan, const struct target *tgt,
			     int route, const char *why)
{
	int code;

	if (tgt->self)
		return 0;
	if (!execute_needs_helper(plan))
		return check_reachable(tgt); /* /proc answers */
	code = check_changeable(tgt);
	if (code)
		return code;
	if (route < 0) {
		fprintf(stderr, "allthreads: %d: %s\n", tgt->pid,
			why[0] ? why : strerror(-route));
		return EXIT_UNREACHABLE;
	}
	return 0;
}

int dryrun_route(const struct opts *o, struct plan *plan,
		 const struct target *tgt, char *why, size_t size)
{
	int route;

	if (plan->predict[0])
		plan_note(plan, "predicted: %s", plan->predict);
	if (tgt->self || plan->proc_read ||
	    (!plan->nsteps && !plan->seccomp_prog))
		return 0;
	route = at_remote_probe_via(tgt->pid, o->via, why, size);
	if (route > 0)
		plan_note(plan, "route: %s", execute_route_name(route));
	else
		plan_note(plan, "route: none: %s",
			  why[0] ? why : strerror(-route));
	return route;
}

int dryrun_report(const struct opts *o, const struct plan *plan,
		  struct outcome *out, int route, const char *why)
{
	const struct target *tgt = out->tgt;
	int code;

	out->exit = plan->predict[0] ? EXIT_FAILED : EXIT_OK;
	/* What the real run would meet first: the target. */
	code = dry_run_reachable(plan, tgt, route, why);
	if (code) {
		fprintf(stderr,
			"allthreads: predicted: exit %d, the target "
			"cannot be reached\n",
			code);
		out->exit = code;
	} else if (!tgt->self && execute_needs_helper(plan)) {
		note_blockers(tgt);
	}
	if (o->json)
		render_json(o, plan, out);
	else
		print_plan(o, plan, tgt);
	return out->exit;
}
