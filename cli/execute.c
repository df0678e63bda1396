// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * execute.c - a plan's steps run on every thread (through the engine for
 * allthreads itself, through the target API for another process), or its
 * read answered from /proc; and PROGRAM executed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "execute.h"
#include "expect.h"
#include "names.h"
#include "outcome.h"
#include "plan.h"
#include "procfs.h"
#include "remote.h"
#include "ruleset.h"
#include "target.h"
#include "usage.h"

/* N rows for OUT, each with room for NSTEPS results (zero); 0 or
 * -ENOMEM. */
static int alloc_rows(struct outcome *out, unsigned n, unsigned nsteps)
{
	unsigned i;

	if (!nsteps)
		nsteps = 1;
	out->rows = calloc(n ? n : 1, sizeof(*out->rows));
	out->results = calloc((size_t)(n ? n : 1) * nsteps, sizeof(long));
	if (!out->rows || !out->results) {
		free(out->rows);
		free(out->results);
		out->rows = NULL;
		out->results = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		out->rows[i].res = out->results + (size_t)i * nsteps;
	out->nrows = n;
	return 0;
}

/* The plan's steps as the engine's step program; a landlock plan's
 * landlock_restrict_self() on RULESET, the ruleset's fd. */
static int build_prog(const struct plan *plan, int ruleset,
		      struct allthreads_prog **out)
{
	struct allthreads_prog *prog;
	long args[ALLTHREADS_MAX_ARGS];
	unsigned s;
	int idx, err;

	prog = allthreads_prog_new();
	if (!prog)
		return -ENOMEM;
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		memcpy(args, st->args, sizeof(args));
		if (plan->landlock && st->nr == SYS_landlock_restrict_self)
			args[0] = ruleset;
		idx = allthreads_prog_add(prog, st->nr, st->nargs, args,
					  st->judge);
		if (idx < 0) {
			err = idx;
			goto out_prog;
		}
		if (st->role == ROLE_READ || st->role == ROLE_OLD ||
		    st->role == ROLE_CHECK)
			/* Read-only: nothing to undo, never "changed". */
			err = allthreads_prog_set_undo(prog, idx, -1, NULL, -1,
						       NULL);
		else if (st->has_undo)
			err = allthreads_prog_set_undo(prog, idx, st->save_nr,
						       st->save_args,
						       st->undo_nr,
						       st->undo_args);
		else
			continue;
		if (err < 0)
			goto out_prog;
	}
	*out = prog;
	return 0;
out_prog:
	allthreads_prog_free(prog);
	return err;
}

/* Is the helper mapped in PID?  True when we cannot tell (maps
 * unreadable): then the client's own reason stands. */
static bool has_helper_mapped(pid_t pid)
{
	char path[96], line[512];
	bool found = false, any = false;
	pid_t *tids = NULL;
	int n, i;
	FILE *f;

	/* Through a live thread: a zombie main thread has no maps. */
	n = proc_list_tasks(pid, &tids);
	for (i = -1; i < n && !any; i++) {
		if (i < 0)
			snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		else
			snprintf(path, sizeof(path), "/proc/%d/task/%d/maps",
				 pid, tids[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			any = true;
			found = strstr(line, "allthreads-helper") != NULL;
		}
		if (ferror(f))
			found = any = true;
		fclose(f);
	}
	free(tids);
	return found || !any;
}

/* The route's name, for messages and -n. */
const char *execute_route_name(int route)
{
	return route == ALLTHREADS_ROUTE_HELPER ? "its allthreads helper" :
	       route == ALLTHREADS_ROUTE_PTRACE ? "ptrace" :
						  "none";
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Is TID among the N TIDS, sorted? */
static bool has_tid(const pid_t *tids, int n, pid_t tid)
{
	return n > 0 && bsearch(&tid, tids, (size_t)n, sizeof(tid), cmp_pid);
}

/* A TID /proc did not list before or after the run: a thread born and
 * gone during it (under churn), unless it is now a thread of another
 * process. */
static bool is_gone_or_ours(pid_t pid, pid_t tid)
{
	pid_t tgid;

	if (tid <= 0)
		return false;
	tgid = proc_tgid(tid);
	return tgid < 0 || tgid == pid;
}

/*
 * A report from the helper says what the helper says.  Before it is
 * believed, /proc must agree on who the threads are: every thread the
 * report counts must be a thread /proc listed before or after the run,
 * and every thread /proc listed both before and after must be in it.
 * 0, or the first TID that does not fit (> 0), with WHAT saying how.
 * BEFORE and AFTER are sorted here.
 */
static pid_t report_mismatch(pid_t pid, const struct allthreads_report *rep,
			     pid_t *before, int nb, pid_t *after, int na,
			     const char **what)
{
	unsigned i, n = allthreads_report_nthreads(rep);
	pid_t *seen;
	int k;

	/* Thousands of threads: looked up by halves, not one by one. */
	qsort(before, (size_t)nb, sizeof(*before), cmp_pid);
	qsort(after, (size_t)na, sizeof(*after), cmp_pid);
	for (i = 0; i < n; i++) {
		pid_t tid = allthreads_report_tid(rep, i);
		enum allthreads_thread_state s =
			allthreads_report_state(rep, i);

		/* Only a success claims that the thread changed. */
		if (s != ALLTHREADS_T_OK)
			continue;
		if (!has_tid(before, nb, tid) && !has_tid(after, na, tid) &&
		    !is_gone_or_ours(pid, tid)) {
			*what = "is not a thread of the target";
			return tid > 0 ? tid : 1;
		}
	}
	seen = calloc(n ? n : 1, sizeof(*seen));
	if (!seen)
		return 0;
	for (i = 0; i < n; i++)
		seen[i] = allthreads_report_tid(rep, i);
	qsort(seen, n, sizeof(*seen), cmp_pid);
	for (k = 0; k < na; k++) {
		if (!has_tid(before, nb, after[k]) ||
		    has_tid(seen, (int)n, after[k]))
			continue;
		*what = "is a thread of the target missing from the report";
		free(seen);
		return after[k];
	}
	free(seen);
	return 0;
}

/*
 * The outcome is unknown (the route lost its tracer, or the helper's
 * answer): what /proc shows now, counted over every thread, and any
 * thread still stopped by a tracer.
 */
static void proc_tells(const struct plan *plan, pid_t pid)
{
	struct snapshot snap;
	unsigned i, s, shown = 0, stopped = 0;

	if (proc_snapshot(pid, 0, &snap) < 0)
		return;
	for (i = 0; i < snap.n; i++) {
		for (s = 0; s < plan->nexpect; s++)
			if (!expect_holds(&plan->expects[s], &snap.t[i]))
				break;
		shown += s == plan->nexpect;
		stopped += snap.t[i].state == 't';
	}
	if (plan->nexpect)
		fprintf(stderr,
			"allthreads: %d: /proc shows the change on %u of %u "
			"thread(s)%s\n",
			pid, shown, snap.n,
			shown && shown < snap.n ? ": THREADS DIFFER" : "");
	else
		fprintf(stderr,
			"allthreads: %d: /proc does not show this change; "
			"%u thread(s)\n",
			pid, snap.n);
	if (stopped)
		fprintf(stderr,
			"allthreads: %d: %u thread(s) in a tracing stop\n", pid,
			stopped);
	snapshot_free(&snap);
}

/*
 * The remote route: PROG on every thread of another process, through the
 * allthreads helper that `allthreads run` preloads into it (cli/remote.c).
 * Returns like allthreads_run(), with *REPORT set, or an exit code (> 0)
 * after saying why: 3 when the target cannot be reached (no such process,
 * no helper, not allowed, gone mid-way, the ptrace route's tracer lost
 * before it touched anything) and so nothing was done to it; 1 when its
 * helper refused the request (nothing changed); 2 when the outcome is
 * unknown: the request went out and no answer came in time, the ptrace
 * route's tracer was lost after it began, or the answer does not fit what
 * /proc shows (then what /proc shows is said, and `check` tells).
 */
static int route_remote(const struct opts *o, const struct plan *plan,
			struct outcome *out, const struct allthreads_prog *prog,
			struct allthreads_report **report)
{
	const struct target *tgt = out->tgt;
	struct at_remote_status st;
	pid_t *before = NULL, *after = NULL, bad;
	const char *what = "";
	int rc, nb, na;

	/* Reachable: carry_out() (run.c) decided so before the run.  The
	 * threads before it: as the look before a change listed them
	 * (run.c), else listed now. */
	nb = out->look.t ? snapshot_tids(&out->look, &before) :
			   proc_list_tasks(tgt->pid, &before);
	if (plan->landlock)
		/* The ruleset is built there, the plan's steps run. */
		rc = ruleset_remote(plan->landlock, tgt->pid, o->via,
				    o->timeout_ms, o->policy, report, &st);
	else
		rc = at_remote_run_via(tgt->pid, o->via, prog, o->timeout_ms, 0,
				       o->policy, report, &st);
	out->closed = *report && st.route == ALLTHREADS_ROUTE_PTRACE;
	if (*report) {
		/* Listed once after the run: the judge's sweep is this one
		 * (judge.c). */
		na = proc_snapshot_tids(tgt->pid, &out->after);
		out->after_tids = na == 0;
		if (na == 0)
			na = snapshot_tids(&out->after, &after);
		bad = nb < 0 || na < 0 ?
			      0 :
			      report_mismatch(tgt->pid, *report, before, nb,
					      after, na, &what);
		free(before);
		free(after);
		if (!bad) {
			if (st.why[0] && rc < 0 && !o->quiet)
				fprintf(stderr, "allthreads: %d: %s\n",
					tgt->pid, st.why);
			return rc;
		}
		allthreads_report_free(*report);
		*report = NULL;
		fprintf(stderr,
			"allthreads: %d: the report is not believed: tid %d "
			"%s (per /proc/%d/task)\n"
			"allthreads: %d: the outcome is unknown; see "
			"`allthreads -p %d show`\n",
			tgt->pid, (int)bad, what, tgt->pid, tgt->pid, tgt->pid);
		return EXIT_PARTIAL;
	}
	free(before);
	switch (rc) {
	case -EINPROGRESS:
		/* The request went out with its proof and no answer came:
		 * the helper may have run it. */
		fprintf(stderr,
			"allthreads: %d: %s; see `allthreads -p %d show`\n",
			tgt->pid, st.why, tgt->pid);
		proc_tells(plan, tgt->pid);
		return EXIT_PARTIAL;
	case -ENOENT:
		if (o->via == ALLTHREADS_ROUTE_HELPER &&
		    !has_helper_mapped(tgt->pid))
			return remote_unreachable(tgt, -ENOENT);
		/* fall through */
	case -ESRCH:
	case -EPERM:
	case -EACCES:
	case -EBUSY:
	case -ENOTSUP:
	case -ETIMEDOUT:
	case -ECHILD:
		fprintf(stderr, "allthreads: %d: %s\n", tgt->pid,
			st.why[0] ? st.why : strerror(-rc));
		return EXIT_UNREACHABLE;
	default:
		fprintf(stderr, "allthreads: %d: %s%s\n", tgt->pid,
			st.why[0] ? st.why : strerror(-rc),
			rc == -ECANCELED || rc == -EINVAL ?
				"; nothing changed" :
				"");
		return EXIT_FAILED;
	}
}

/* A proof that opened "/" (no domain on that thread) leaves no
 * descriptor behind: the CHECK step's result on each thread that ran it. */
static void close_proofs(const struct plan *plan,
			 const struct allthreads_report *report)
{
	unsigned i, s;
	long r;

	for (s = 0; s < plan->nsteps; s++) {
		if (plan->steps[s].role != ROLE_CHECK ||
		    plan->steps[s].nr != SYS_openat)
			continue;
		for (i = 0; i < allthreads_report_nthreads(report); i++) {
			r = allthreads_report_result(report, i, s);
			if (allthreads_report_steps_run(report, i) > s &&
			    r >= 0)
				close((int)r);
		}
	}
}

/*
 * A landlock plan on allthreads itself: the ruleset built here, the task
 * directory opened for the final sweep, with TSYNC every thread put in
 * the domain at once, then the plan's steps run by the engine, which
 * holds every thread before the calling thread restricts itself (a domain
 * that denies /proc cannot hide a thread from its sweep: go-landlock#39).
 * Returns like allthreads_run(), or an exit code (> 0) after saying why.
 */
static int run_landlock_self(const struct opts *o, const struct plan *plan,
			     struct outcome *out,
			     struct allthreads_report **report)
{
	struct allthreads_prog *prog;
	int fd, rc;

	fd = ruleset_build(plan->landlock);
	if (fd < 0)
		return -fd;
	/* Landlock checks a directory read at open, not at getdents. */
	out->taskfd =
		open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = plan->landlock->tsync ? ruleset_tsync(fd) : 0;
	if (!rc)
		rc = build_prog(plan, fd, &prog);
	if (!rc) {
		rc = allthreads_run(prog, o->timeout_ms, 0, o->policy, report);
		if (*report)
			close_proofs(plan, *report);
		allthreads_prog_free(prog);
	}
	close(fd);
	return rc;
}

/* PLAN run on OUT's target: 0 with *REPORT (or NULL and OUT->rc saying
 * why), or an exit code (> 0) after saying why, or -errno. */
static int run_report(const struct opts *o, const struct plan *plan,
		      struct outcome *out, struct allthreads_report **report)
{
	struct allthreads_prog *prog;
	int err;

	if (plan->landlock && out->tgt->self) {
		out->rc = run_landlock_self(o, plan, out, report);
		return out->rc > 0 ? out->rc : 0;
	}
	err = build_prog(plan, -1, &prog);
	if (err)
		return err;
	if (out->tgt->self) {
		out->rc = allthreads_run(prog, o->timeout_ms, 0, o->policy,
					 report);
	} else {
		out->rc = route_remote(o, plan, out, prog, report);
		/* Unreachable, already said: an exit code. */
		if (out->rc > 0)
			err = out->rc;
	}
	allthreads_prog_free(prog);
	return err;
}

static int run_steps(const struct opts *o, const struct plan *plan,
		     struct outcome *out)
{
	struct allthreads_report *report = NULL;
	unsigned i, s, n;
	int err;

	err = run_report(o, plan, out, &report);
	if (err)
		return err;
	if (!report)
		return out->rc < 0 ? out->rc : -EIO;
	out->ran = true;
	out->verdict = allthreads_report_verdict(report);
	n = allthreads_report_nthreads(report);
	err = alloc_rows(out, n, plan->nsteps);
	if (err)
		goto out_report;
	for (i = 0; i < n; i++) {
		struct row *row = &out->rows[i];
		long *res = out->results + (size_t)i * (plan->nsteps ?: 1);

		row->tid = allthreads_report_tid(report, i);
		row->state = allthreads_report_state(report, i);
		row->nrun = allthreads_report_steps_run(report, i);
		if (row->nrun > plan->nsteps)
			row->nrun = plan->nsteps;
		for (s = 0; s < plan->nsteps; s++)
			res[s] = allthreads_report_result(report, i, s);
		row->failed_step = allthreads_report_failed_step(report, i);
		row->left = allthreads_report_left_changed(report, i);
		snprintf(row->why, sizeof(row->why), "%s",
			 allthreads_report_why(report, i));
	}
out_report:
	allthreads_report_free(report);
	return err;
}

/* No steps, only the seccomp filter (with CAP_SYS_ADMIN): every thread
 * /proc lists is a row, to be proven by the read-back. */
static int rows_from_proc(struct outcome *out)
{
	pid_t *tids;
	int n, i;

	n = proc_list_tasks(out->procpid, &tids);
	if (n < 0)
		return n;
	if (alloc_rows(out, n, 0)) {
		free(tids);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		out->rows[i].tid = tids[i];
		out->rows[i].failed_step = -1;
	}
	free(tids);
	out->ran = true;
	out->verdict = ALLTHREADS_AGREE;
	return 0;
}

/* After the steps: the seccomp filter, once, with TSYNC: the kernel puts
 * it on every thread or on none (it returns the TID of a thread it could
 * not sync). */
static int install_seccomp(const struct plan *plan)
{
	long r;

	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, plan->seccomp_prog);
	if (r > 0) {
		fprintf(stderr,
			"allthreads: seccomp: thread %ld cannot take the "
			"filter (TSYNC); no thread has it\n",
			r);
		return -EBUSY;
	}
	if (r < 0) {
		fprintf(stderr, "allthreads: seccomp: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Can PLAN, a read, be answered from /proc/PID/task/TID/status?  The
 * field, or NULL. */
const char *proc_answer(const struct plan *plan)
{
	if (plan->change)
		return NULL;
	if (plan->format == FMT_COMM)
		return "Name";
	if (plan->desc && plan->desc->proc_field &&
	    (plan->format == FMT_NUMBER || plan->format == FMT_CAPSET))
		return plan->desc->proc_field;
	return NULL;
}

/* The value of FIELD in T, as the plan shows it. */
static char *proc_value(const struct plan *plan, const struct tstatus *t)
{
	const char *field = plan->proc_read;
	unsigned long long mask;
	char buf[1024];
	long cap;

	if (strcmp(field, "Name") == 0)
		return strdup(t->comm);
	if (strcmp(field, "NoNewPrivs") == 0) {
		snprintf(buf, sizeof(buf), "%d", t->nnp);
		return strdup(buf);
	}
	mask = strcmp(field, "CapAmb") == 0 ? t->cap[CAP_AMB] : t->cap[CAP_BND];
	if (plan->format == FMT_CAPSET) {
		format_capset(mask, buf, sizeof(buf));
		return strdup(buf);
	}
	/* One capability: PR_CAPBSET_READ(cap) or PR_CAP_AMBIENT(IS_SET,
	 * cap). */
	cap = plan->steps[0].args[0] == PR_CAP_AMBIENT ?
		      plan->steps[0].args[2] :
		      plan->steps[0].args[1];
	snprintf(buf, sizeof(buf), "%d", (int)((mask >> cap) & 1));
	return strdup(buf);
}

/* A read answered from /proc: no steps run, no helper needed. */
static int read_proc(const struct opts *o, const struct plan *plan,
		     struct outcome *out)
{
	struct snapshot snap;
	unsigned i;
	int err;

	err = proc_snapshot(out->procpid, out->tgt->tid, &snap);
	if (err)
		return err;
	if (alloc_rows(out, snap.n, plan->nsteps)) {
		snapshot_free(&snap);
		return -ENOMEM;
	}
	out->verdict = ALLTHREADS_AGREE;
	for (i = 0; i < snap.n; i++) {
		out->rows[i].tid = snap.t[i].tid;
		out->rows[i].value = proc_value(plan, &snap.t[i]);
	}
	if (snap.vanished && !o->quiet)
		fprintf(stderr,
			"allthreads: note: %u thread(s) exited while being "
			"read (skipped)\n",
			snap.vanished);
	snapshot_free(&snap);
	return 0;
}

/* -t on allthreads itself: the engine visits every thread; keep the one
 * asked about. */
static void keep_only(struct outcome *out, pid_t tid)
{
	unsigned i, n = 0;

	for (i = 0; i < out->nrows; i++) {
		if (out->rows[i].tid == tid) {
			out->rows[n++] = out->rows[i];
			continue;
		}
		free(out->rows[i].value);
		free(out->rows[i].old);
		free(out->rows[i].problem);
	}
	out->nrows = n;
}

/* Does PLAN on another process run steps there (through its helper), or
 * does /proc answer? */
bool execute_needs_helper(const struct plan *plan)
{
	return plan->change || (plan->nsteps && !plan->proc_read);
}

int execute_plan(const struct opts *o, const struct plan *plan,
		 struct outcome *out)
{
	int err;

	if (plan->status_diff || (plan->format == FMT_COMM && plan->change))
		proc_snapshot(out->procpid, 0, &out->before);
	if (plan->proc_read)
		err = read_proc(o, plan, out);
	else if (plan->nsteps || !out->tgt->self)
		err = run_steps(o, plan, out);
	else
		err = rows_from_proc(out);
	if (err > 0)
		return err; /* the target cannot be reached: said already */
	if (err) {
		fprintf(stderr, "allthreads: %s %s: %s\n", plan->command,
			plan->what, strerror(-err));
		return EXIT_FAILED;
	}
	if (plan->seccomp_prog && out->tgt->self && out->ran && out->rc == 0 &&
	    out->verdict == ALLTHREADS_AGREE) {
		err = install_seccomp(plan);
		if (err) {
			fprintf(stderr,
				"allthreads: seccomp: no thread has the "
				"filter; %s\n",
				plan->nsteps ? "the steps before it are in "
					       "force on every thread" :
					       "nothing changed");
			return EXIT_FAILED;
		}
	}
	if (out->tgt->tid)
		keep_only(out, out->tgt->tid);
	return 0;
}
