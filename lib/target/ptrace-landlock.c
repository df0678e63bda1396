// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-landlock.c - allthreads_target_landlock(3) by the ptrace route,
 * for a process without the helper.  The route stops every thread first
 * (its sweep of /proc/PID/task is over before any thread restricts itself:
 * the go-landlock#39 trap cannot hide a thread), then, on the canary,
 * before any step runs anywhere:
 *
 *   landlock_create_ruleset(attr)                      -> the ruleset
 *   per rule: openat(AT_FDCWD, path, O_PATH | O_CLOEXEC),
 *             landlock_add_rule(ruleset, PATH_BENEATH), close()
 *
 * all injected into the target, so each path is resolved in its mount
 * namespace and root, as the helper does (ctl-landlock.c).  A rule that
 * fails closes what was opened there: nothing changed.  Then every thread,
 * the canary first, runs the helper's steps (landlock-steps.h), and at the
 * end the ruleset, and any descriptor a proof opened, is closed in the
 * target again.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "inject.h"
#include "landlock-steps.h"
#include "ptrace.h"
#include "sysret.h"

#ifndef AT_ARCH_NONE

/* The hook's bytes in the target's scratch region. */
#define AT_LL_AT_ATTR 0	    /* struct landlock_ruleset_attr */
#define AT_LL_AT_BENEATH 64 /* struct landlock_path_beneath_attr */
#define AT_LL_AT_ROOT 96    /* "/", the proof's path */
#define AT_LL_AT_PATHS 112  /* each rule's path, NUL-terminated */

_Static_assert(sizeof(struct landlock_ruleset_attr) <= AT_LL_AT_BENEATH,
	       "the ruleset's attributes fit");

struct ll_job {
	unsigned long long handled;
	const struct allthreads_landlock_rule *rules;
	unsigned nrules;
	bool prove;
	long ruleset; /* in the target, or -1 */
};

/* NR(A0, A1, A2, A3) in T; its result, or -errno when T could not be
 * driven (then *DRIVEN is false). */
static long call4(struct pt_ctx *c, struct pt_thread *t, long nr, long a0,
		  long a1, long a2, long a3, bool *driven)
{
	struct pt_call call = { .nr = nr, .a = { a0, a1, a2, a3, 0, 0 } };
	long ret = 0;
	int err = pt_inject(c, t, &call, &ret);

	*driven = !err;
	return err ? err : ret;
}

static void close_in(struct pt_ctx *c, struct pt_thread *t, long fd)
{
	bool driven;

	if (fd >= 0)
		call4(c, t, SYS_close, fd, 0, 0, 0, &driven);
}

/* -errno for a call that could not be made in T, with the reason. */
static int undriven(struct pt_ctx *c, struct pt_thread *t, long err)
{
	pt_why(c, "thread %d: %s", (int)t->tid,
	       t->why[0] ? t->why : strerror((int)-err));
	return (int)err;
}

/* The ruleset, built in T with the rules; the restrict step and the proof
 * pointed at it and at "/" in the target. */
static int ll_before(struct pt_ctx *c, struct pt_thread *t, void *arg)
{
	struct ll_job *j = arg;
	struct landlock_ruleset_attr attr = { .handled_access_fs = j->handled };
	unsigned long paths = c->hook_at + AT_LL_AT_PATHS;
	size_t off = 0;
	bool driven;
	unsigned i;
	long fd, r;
	int err;

	err = pt_mem_write(c, c->hook_at + AT_LL_AT_ATTR, &attr, sizeof(attr));
	if (!err)
		err = pt_mem_write(c, c->hook_at + AT_LL_AT_ROOT, "/", 2);
	for (i = 0; !err && i < j->nrules; i++) {
		size_t len = strlen(j->rules[i].path) + 1;

		err = pt_mem_write(c, paths + off, j->rules[i].path, len);
		off += len;
	}
	if (err) {
		pt_why(c, "cannot write the ruleset into the process: %s",
		       strerror(-err));
		return err;
	}
	fd = call4(c, t, SYS_landlock_create_ruleset,
		   (long)(c->hook_at + AT_LL_AT_ATTR), (long)sizeof(attr), 0, 0,
		   &driven);
	if (!driven)
		return undriven(c, t, fd);
	if (at_is_error(fd)) {
		pt_why(c, "landlock_create_ruleset: %s (in the target)",
		       strerror((int)-fd));
		return -EINVAL;
	}
	for (i = 0, off = 0; i < j->nrules; i++) {
		const char *path = j->rules[i].path;
		struct landlock_path_beneath_attr pb = {
			.allowed_access = j->rules[i].allowed_access,
		};

		r = call4(c, t, SYS_openat, AT_FDCWD, (long)(paths + off),
			  O_PATH | O_CLOEXEC, 0, &driven);
		off += strlen(path) + 1;
		if (!driven) {
			close_in(c, t, fd);
			return undriven(c, t, r);
		}
		if (at_is_error(r)) {
			close_in(c, t, fd);
			pt_why(c, "%.100s: %s (in the target)", path,
			       strerror((int)-r));
			return -EINVAL;
		}
		pb.parent_fd = (int)r;
		err = pt_mem_write(c, c->hook_at + AT_LL_AT_BENEATH, &pb,
				   sizeof(pb));
		if (err) {
			close_in(c, t, pb.parent_fd);
			close_in(c, t, fd);
			pt_why(c, "cannot write a rule into the process: %s",
			       strerror(-err));
			return err;
		}
		r = call4(c, t, SYS_landlock_add_rule, fd,
			  LANDLOCK_RULE_PATH_BENEATH,
			  (long)(c->hook_at + AT_LL_AT_BENEATH), 0, &driven);
		close_in(c, t, pb.parent_fd);
		if (!driven || at_is_error(r)) {
			close_in(c, t, fd);
			if (!driven)
				return undriven(c, t, r);
			pt_why(c, "%.100s: landlock_add_rule: %s", path,
			       strerror((int)-r));
			return -EINVAL;
		}
	}
	j->ruleset = fd;
	c->steps[ALLTHREADS_LANDLOCK_STEP_RESTRICT].args[0] = fd;
	if (j->prove)
		c->steps[ALLTHREADS_LANDLOCK_STEP_PROVE].args[1] =
			(long)(c->hook_at + AT_LL_AT_ROOT);
	return 0;
}

/* The ruleset, and what a proof opened (a thread without the domain),
 * closed in the target through T.  Only a thread that ran the proof has
 * a result there. */
static void ll_after(struct pt_ctx *c, struct pt_thread *t, void *arg)
{
	const unsigned prove = ALLTHREADS_LANDLOCK_STEP_PROVE;
	struct ll_job *j = arg;
	unsigned k;

	for (k = 0; j->prove && k < c->n; k++) {
		const struct pt_thread *o = &c->t[k];

		if (o->res && o->nrun > (int)prove && o->res[prove] >= 0)
			close_in(c, t, o->res[prove]);
	}
	close_in(c, t, j->ruleset);
	j->ruleset = -1;
}

#endif /* AT_ARCH_NONE */

int at_ptrace_landlock(pid_t pid, int pidfd, unsigned long long handled,
		       const struct allthreads_landlock_rule *rules,
		       unsigned nrules, unsigned flags, unsigned timeout_ms,
		       enum allthreads_mismatch policy,
		       struct allthreads_report **report, char *why,
		       size_t whylen)
{
#ifdef AT_ARCH_NONE
	(void)pid, (void)pidfd, (void)handled, (void)rules, (void)nrules;
	(void)flags, (void)timeout_ms, (void)policy;
	*report = NULL;
	snprintf(why, whylen,
		 "the ptrace route is not built for this architecture");
	return -ENOTSUP;
#else
	struct ll_job job = {
		.handled = handled,
		.rules = rules,
		.nrules = nrules,
		.prove = flags & ALLTHREADS_LANDLOCK_PROVE,
		.ruleset = -1,
	};
	struct pt_hook hook = {
		.data_len = AT_LL_AT_PATHS,
		.before = ll_before,
		.after = ll_after,
		.arg = &job,
	};
	struct allthreads_prog *prog;
	unsigned i;
	int r;

	*report = NULL;
	for (i = 0; i < nrules; i++)
		hook.data_len += strlen(rules[i].path) + 1;
	/* The ruleset's descriptor and "/" are known only in the target. */
	/* Never TSYNC here: see at_ll_use_tsync(). */
	prog = at_ll_prog(-1, NULL, job.prove,
			  at_ll_use_tsync(at_ll_abi(), true));
	if (!prog) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r = pt_run_hooked(pid, pidfd, prog, &hook, timeout_ms, policy, report,
			  why, whylen);
	at_prog_free(prog);
	return r;
#endif
}
