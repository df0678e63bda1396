// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * api.c - every exported function of liballthreads, and nothing else.
 * Arguments are checked here; the engine below trusts them.
 */
#include <errno.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "report.h"
#include "run.h"
#include "sysret.h"
#include "target.h"

AT_EXPORT struct allthreads_prog *allthreads_prog_new(void)
{
	return at_prog_new();
}

AT_EXPORT void allthreads_prog_free(struct allthreads_prog *prog)
{
	at_prog_free(prog);
}

AT_EXPORT int allthreads_prog_add(struct allthreads_prog *prog, long nr,
				  unsigned nargs, const long *args,
				  enum allthreads_judge judge)
{
	return at_prog_add(prog, nr, nargs, args, judge);
}

AT_EXPORT int allthreads_prog_set_undo(struct allthreads_prog *prog,
				       unsigned step, long save_nr,
				       const long *save_args, long undo_nr,
				       const long *undo_args)
{
	return at_prog_set_undo(prog, step, save_nr, save_args, undo_nr,
				undo_args);
}

AT_EXPORT unsigned allthreads_prog_len(const struct allthreads_prog *prog)
{
	return prog ? prog->n : 0;
}

AT_EXPORT int allthreads_run(const struct allthreads_prog *prog,
			     unsigned timeout_ms, unsigned flags,
			     enum allthreads_mismatch policy,
			     struct allthreads_report **report)
{
	int saved_errno = errno;
	bool hold;
	int r;

	if (report)
		*report = NULL;
	if (!prog || prog->n == 0 ||
	    (flags & ~(unsigned)(ALLTHREADS_HOLD | ALLTHREADS_NO_HOLD)) ||
	    ((flags & ALLTHREADS_HOLD) && (flags & ALLTHREADS_NO_HOLD)) ||
	    (unsigned)policy > ALLTHREADS_MISMATCH_IGNORE)
		return -EINVAL;
	hold = !(flags & ALLTHREADS_NO_HOLD);
	at_in_broadcast++;
	r = at_broadcast(prog->steps, prog->n, timeout_ms, hold, policy, report,
			 NULL);
	at_in_broadcast--;
	errno = saved_errno; /* the library reports through its result */
	return r;
}

__thread int at_in_broadcast __attribute__((tls_model("initial-exec")));

AT_EXPORT long allthreads_syscall(long nr, long a1, long a2, long a3, long a4,
				  long a5, long a6)
{
	long args[ALLTHREADS_MAX_ARGS] = { a1, a2, a3, a4, a5, a6 };
	int saved_errno = errno;
	struct at_step step;
	long first = 0;
	int r;

	if (nr < 0)
		return -EINVAL;
	memset(&step, 0, sizeof(step));
	step.nr = nr;
	memcpy(step.args, args, sizeof(step.args));
	step.judge = ALLTHREADS_JUDGE_EQUAL;
	at_in_broadcast++;
	r = at_broadcast(&step, 1, 0, false, ALLTHREADS_MISMATCH_REPORT, NULL,
			 &first);
	at_in_broadcast--;
	errno = saved_errno;
	return r < 0 ? r : first;
}

/* --- reports ---------------------------------------------------------------- */

AT_EXPORT void allthreads_report_free(struct allthreads_report *report)
{
	at_report_free(report);
}

AT_EXPORT enum allthreads_verdict
allthreads_report_verdict(const struct allthreads_report *report)
{
	return report ? report->verdict : ALLTHREADS_FAILED;
}

AT_EXPORT unsigned
allthreads_report_nthreads(const struct allthreads_report *report)
{
	return report ? report->nthreads : 0;
}

AT_EXPORT unsigned
allthreads_report_nsteps(const struct allthreads_report *report)
{
	return report ? report->nsteps : 0;
}

static const struct at_rthread *thread_at(const struct allthreads_report *r,
					  unsigned i)
{
	return r && i < r->nthreads ? &r->t[i] : NULL;
}

AT_EXPORT pid_t allthreads_report_tid(const struct allthreads_report *report,
				      unsigned i)
{
	const struct at_rthread *t = thread_at(report, i);

	return t ? t->tid : -EINVAL;
}

AT_EXPORT enum allthreads_thread_state
allthreads_report_state(const struct allthreads_report *report, unsigned i)
{
	const struct at_rthread *t = thread_at(report, i);

	return t ? (enum allthreads_thread_state)t->state :
		   ALLTHREADS_T_NOT_RUN;
}

AT_EXPORT unsigned
allthreads_report_steps_run(const struct allthreads_report *report, unsigned i)
{
	const struct at_rthread *t = thread_at(report, i);

	return t ? (unsigned)t->nrun : 0;
}

AT_EXPORT long allthreads_report_result(const struct allthreads_report *report,
					unsigned i, unsigned s)
{
	if (!thread_at(report, i) || s >= report->nsteps)
		return -EINVAL;
	return report->res[(size_t)i * report->nsteps + s];
}

AT_EXPORT int
allthreads_report_failed_step(const struct allthreads_report *report,
			      unsigned i)
{
	const struct at_rthread *t = thread_at(report, i);

	return t ? t->failed_step : -1;
}

AT_EXPORT unsigned
allthreads_report_left_changed(const struct allthreads_report *report,
			       unsigned i)
{
	const struct at_rthread *t = thread_at(report, i);

	return t ? (unsigned)t->left : 0;
}

AT_EXPORT const char *
allthreads_report_why(const struct allthreads_report *report, unsigned i)
{
	const struct at_rthread *t = thread_at(report, i);

	return t ? t->why : "";
}

AT_EXPORT const char *
allthreads_thread_state_name(enum allthreads_thread_state state)
{
	static const char *const names[] = {
		[ALLTHREADS_T_OK] = "ok",
		[ALLTHREADS_T_FAILED] = "failed",
		[ALLTHREADS_T_BLOCKED] = "blocked",
		[ALLTHREADS_T_TIMEOUT] = "timeout",
		[ALLTHREADS_T_QUEUE_FULL] = "queue-full",
		[ALLTHREADS_T_ZOMBIE] = "zombie",
		[ALLTHREADS_T_EXITED] = "exited",
		[ALLTHREADS_T_UNDONE] = "undone",
		[ALLTHREADS_T_NOT_RUN] = "not-run",
	};

	if ((unsigned)state >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[state];
}

AT_EXPORT const char *allthreads_verdict_name(enum allthreads_verdict verdict)
{
	switch (verdict) {
	case ALLTHREADS_AGREE:
		return "agree";
	case ALLTHREADS_PARTIAL:
		return "partial";
	case ALLTHREADS_FAILED:
		return "failed";
	}
	return "unknown";
}

AT_EXPORT int allthreads_signal(void)
{
	return at_engine_signal();
}

/* --- libcap ----------------------------------------------------------------- */

AT_EXPORT long allthreads_libcap_syscall6(long nr, long a1, long a2, long a3,
					  long a4, long a5, long a6)
{
	long r = allthreads_syscall(nr, a1, a2, a3, a4, a5, a6);

	/* -errno for libcap's prctl path, errno for its capset path. */
	if (at_is_error(r))
		errno = (int)-r;
	return r;
}

AT_EXPORT long allthreads_libcap_syscall3(long nr, long a1, long a2, long a3)
{
	return allthreads_libcap_syscall6(nr, a1, a2, a3, 0, 0, 0);
}

/*
 * libcap asks for psx_load_syscalls() from its constructor; its own copy is
 * weak.  Ours, found first when liballthreads is linked before libcap or
 * preloaded, routes libcap's state-changing calls through the engine.  It
 * may run before any constructor of ours: it only stores two pointers.
 */
AT_EXPORT void psx_load_syscalls(at_libcap_fn3 **syscall_fn,
				 at_libcap_fn6 **syscall6_fn)
{
	at_libcap_hook(syscall_fn, syscall6_fn);
}

/* --- another process (ALLTHREADS_0.2) --------------------------------------- */

AT_EXPORT int allthreads_target_open(pid_t pid, unsigned flags,
				     struct allthreads_target **target)
{
	int saved_errno = errno, r;

	if (!target)
		return -EINVAL;
	r = at_target_open(pid, flags, target);
	errno = saved_errno;
	return r;
}

AT_EXPORT void allthreads_target_close(struct allthreads_target *target)
{
	int saved_errno = errno;

	at_target_close(target);
	errno = saved_errno;
}

AT_EXPORT pid_t allthreads_target_pid(const struct allthreads_target *target)
{
	return target ? target->pid : -EINVAL;
}

static bool is_route(enum allthreads_route route)
{
	return (unsigned)route <= ALLTHREADS_ROUTE_PTRACE;
}

AT_EXPORT int allthreads_target_probe(struct allthreads_target *target,
				      enum allthreads_route route)
{
	int saved_errno = errno, r;

	if (!target || !is_route(route))
		return -EINVAL;
	r = at_target_probe(target, route);
	errno = saved_errno;
	return r;
}

AT_EXPORT int allthreads_target_run(struct allthreads_target *target,
				    enum allthreads_route route,
				    const struct allthreads_prog *prog,
				    unsigned timeout_ms, unsigned flags,
				    enum allthreads_mismatch policy,
				    struct allthreads_report **report)
{
	struct allthreads_report *rep = NULL;
	int saved_errno = errno, r;

	if (report)
		*report = NULL;
	if (!target || !is_route(route) || !prog || prog->n == 0 ||
	    (flags & ~(unsigned)(ALLTHREADS_HOLD | ALLTHREADS_NO_HOLD)) ||
	    ((flags & ALLTHREADS_HOLD) && (flags & ALLTHREADS_NO_HOLD)) ||
	    (unsigned)policy > ALLTHREADS_MISMATCH_IGNORE) {
		if (target)
			snprintf(target->why, sizeof(target->why),
				 "invalid argument");
		return -EINVAL;
	}
	r = at_target_run(target, route, prog, timeout_ms, flags, policy, &rep);
	if (report)
		*report = rep;
	else
		allthreads_report_free(rep);
	errno = saved_errno;
	return r;
}

/* Are the landlock arguments sound?  (The kernel in the target judges the
 * access bits themselves.) */
static bool landlock_args_ok(unsigned long long handled,
			     const struct allthreads_landlock_rule *rules,
			     unsigned nrules, unsigned flags,
			     enum allthreads_mismatch policy)
{
	unsigned i;

	if (!handled || nrules > ALLTHREADS_LANDLOCK_MAX_RULES ||
	    (nrules && !rules) || (flags & ~ALLTHREADS_LANDLOCK_PROVE) ||
	    (unsigned)policy > ALLTHREADS_MISMATCH_IGNORE)
		return false;
	if ((flags & ALLTHREADS_LANDLOCK_PROVE) &&
	    !(handled & LANDLOCK_ACCESS_FS_READ_DIR))
		return false;
	for (i = 0; i < nrules; i++) {
		const struct allthreads_landlock_rule *r = &rules[i];

		if (!r->path || r->path[0] != '/' || !r->allowed_access ||
		    (r->allowed_access & ~handled))
			return false;
		/* A proof that cannot fail is no proof. */
		if ((flags & ALLTHREADS_LANDLOCK_PROVE) &&
		    strcmp(r->path, "/") == 0 &&
		    (r->allowed_access & LANDLOCK_ACCESS_FS_READ_DIR))
			return false;
	}
	return true;
}

AT_EXPORT int allthreads_target_landlock(
	struct allthreads_target *target, enum allthreads_route route,
	unsigned long long handled_access_fs,
	const struct allthreads_landlock_rule *rules, unsigned nrules,
	unsigned flags, unsigned timeout_ms, enum allthreads_mismatch policy,
	struct allthreads_report **report)
{
	struct allthreads_report *rep = NULL;
	int saved_errno = errno, r;

	if (report)
		*report = NULL;
	if (!target || !is_route(route) ||
	    !landlock_args_ok(handled_access_fs, rules, nrules, flags,
			      policy)) {
		if (target)
			snprintf(target->why, sizeof(target->why),
				 "invalid argument");
		return -EINVAL;
	}
	r = at_target_landlock(target, route, handled_access_fs, rules, nrules,
			       flags, timeout_ms, policy, &rep);
	if (report)
		*report = rep;
	else
		allthreads_report_free(rep);
	errno = saved_errno;
	return r;
}

AT_EXPORT enum allthreads_route
allthreads_target_route(const struct allthreads_target *target)
{
	return target ? target->route : ALLTHREADS_ROUTE_AUTO;
}

AT_EXPORT const char *
allthreads_target_why(const struct allthreads_target *target)
{
	return target ? target->why : "";
}
