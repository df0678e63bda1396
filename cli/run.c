// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * run.c - carry a plan out: run its steps on every thread (through the
 * engine for allthreads itself, through the helper for another process),
 * verify every thread through the results and /proc, report in words or
 * JSON, and exec PROGRAM.  --dry-run prints the plan instead.
 */
#include <errno.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attrs.h"
#include "cli.h"
#include "json.h"
#include "names.h"
#include "procfs.h"
#include "remote.h"

/* One thread's part of the outcome. */
struct row {
	pid_t tid;
	enum allthreads_thread_state state;
	unsigned nrun;
	long res[PLAN_MAX_STEPS];
	int failed_step;
	unsigned left; /* steps left in force after a failure */
	char *value;   /* the read, the result, or the new value */
	char *old;     /* before the change (-v) */
	char *problem; /* what is wrong with the thread, or NULL */
	const struct tstatus *after; /* its /proc status after, or NULL */
	bool unlisted; /* not in the run's report: judged by /proc only */
};

struct outcome {
	struct row *rows;
	unsigned nrows;
	bool ran; /* the engine ran (not /proc only, not -n) */
	enum allthreads_verdict verdict;
	int rc; /* allthreads_run()'s return */
	int exit;
	char *folded;	   /* the value every thread shows, or NULL */
	unsigned unlisted; /* threads /proc lists that the run missed */
	/* The run's set of threads was closed: the route stopped every thread
	 * until a full pass of /proc found no new one, and changed them all
	 * before any ran again (ptrace).  A thread /proc lists afterwards
	 * that the report lacks was born after the release, of a thread that
	 * had changed, and inherited what was set. */
	bool closed;
	const struct target *tgt;
	pid_t procpid; /* for /proc paths: 0 (self) or the target's pid */
	struct snapshot before, after; /* plan->status_diff */
};

/* --- formatting ----------------------------------------------------------- */

static const char *errno_name(long err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "error";
}

static const char *role_name(enum step_role r)
{
	static const char *const names[] = {
		[ROLE_READ] = "read",	  [ROLE_OLD] = "old",
		[ROLE_CHANGE] = "change", [ROLE_CHECK] = "check",
		[ROLE_CALL] = "call",
	};

	return names[r];
}

static const char *judge_name(enum allthreads_judge j)
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

/* Threads in these states took no part and are no one's fault. */
static bool is_absent(enum allthreads_thread_state s)
{
	return s == ALLTHREADS_T_ZOMBIE || s == ALLTHREADS_T_EXITED;
}

/* The results of ROLE's steps on ROW, shown as PLAN says; NULL if the
 * thread did not run them. */
static char *format_role(const struct plan *plan, const struct row *row,
			 enum step_role role)
{
	char buf[1024], one[128];
	unsigned long long mask = 0;
	unsigned s, n = 0, cap = 0;
	size_t len = 0;
	long bad = 0;

	buf[0] = '\0';
	for (s = 0; s < plan->nsteps; s++) {
		long r;

		if (plan->steps[s].role != role)
			continue;
		if (s >= row->nrun)
			return NULL;
		r = row->res[s];
		if (r < 0 && !bad)
			bad = r;
		switch (plan->format) {
		case FMT_CAPSET:
			if (r > 0)
				mask |= 1ULL << cap;
			cap++;
			continue;
		case FMT_SPEC:
			if (r < 0)
				snprintf(one, sizeof(one), "error:%s",
					 errno_name(-r));
			else
				format_spec(r, one, sizeof(one));
			if (plan->nsteps > 1 && role == ROLE_READ)
				len += snprintf(
					buf + len, sizeof(buf) - len, "%s%s=%s",
					n ? " " : "",
					spec_feature_name(plan->first_feature +
							  n),
					one);
			else
				len += snprintf(buf + len, sizeof(buf) - len,
						"%s", one);
			n++;
			continue;
		default:
			break;
		}
		if (r < 0)
			snprintf(buf, sizeof(buf), "error:%s", errno_name(-r));
		else if (plan->format == FMT_SECBITS)
			format_secbits(r, buf, sizeof(buf));
		else if (plan->format == FMT_HEX)
			snprintf(buf, sizeof(buf), "0x%lx", r);
		else
			snprintf(buf, sizeof(buf), "%ld", r);
		return strdup(buf);
	}
	if (plan->format == FMT_CAPSET) {
		if (bad)
			snprintf(buf, sizeof(buf), "error:%s",
				 errno_name(-bad));
		else
			format_capset(mask, buf, sizeof(buf));
	}
	return len || plan->format == FMT_CAPSET ? strdup(buf) : NULL;
}

/* Why ROW's thread is at fault, in words, or NULL. */
static char *describe(const struct plan *plan, const struct outcome *out,
		      const struct row *row)
{
	char buf[512], st[32] = "?", blk[32] = "?", wchan[64] = "?";
	char path[64];
	const struct step *step;
	long r;

	switch (row->state) {
	case ALLTHREADS_T_OK:
	case ALLTHREADS_T_ZOMBIE:
	case ALLTHREADS_T_EXITED:
	case ALLTHREADS_T_NOT_RUN:
		/* Not at fault: the thread at fault is named. */
		return NULL;
	case ALLTHREADS_T_FAILED:
	case ALLTHREADS_T_UNDONE:
		if (row->failed_step < 0 ||
		    (unsigned)row->failed_step >= plan->nsteps) {
			if (row->state == ALLTHREADS_T_UNDONE && row->left)
				snprintf(buf, sizeof(buf),
					 "changed; another thread failed, "
					 "and %u step(s) without an undo "
					 "stay in force here",
					 row->left);
			else if (row->state == ALLTHREADS_T_UNDONE)
				snprintf(buf, sizeof(buf),
					 "changed, then "
					 "undone because another thread "
					 "failed");
			else
				snprintf(buf, sizeof(buf), "failed");
			break;
		}
		step = &plan->steps[row->failed_step];
		r = row->res[row->failed_step];
		if (r < 0)
			snprintf(buf, sizeof(buf), "%s: %s", step->call,
				 strerror(-r));
		else
			snprintf(buf, sizeof(buf),
				 "%s returned %ld, the "
				 "first thread %ld",
				 step->call, r,
				 out->rows[0].res[row->failed_step]);
		break;
	case ALLTHREADS_T_BLOCKED:
	case ALLTHREADS_T_TIMEOUT:
		proc_status_field(out->procpid, row->tid, "State", st,
				  sizeof(st));
		proc_status_field(out->procpid, row->tid, "SigBlk", blk,
				  sizeof(blk));
		task_path(path, sizeof(path), out->procpid, row->tid, "wchan");
		read_small(path, wchan, sizeof(wchan));
		snprintf(buf, sizeof(buf),
			 "%s (State: %s, SigBlk: %s, "
			 "wchan: %s)",
			 row->state == ALLTHREADS_T_BLOCKED ?
				 "has the signal blocked; never ran" :
				 "did not answer before the deadline",
			 st, blk, wchan);
		break;
	case ALLTHREADS_T_QUEUE_FULL:
		snprintf(buf, sizeof(buf),
			 "the signal could not be queued "
			 "before the deadline (RLIMIT_SIGPENDING)");
		break;
	default:
		snprintf(buf, sizeof(buf), "state %d", row->state);
		break;
	}
	return strdup(buf);
}

/* --- JSON --------------------------------------------------------------- */

static const char *action_name(const struct plan *plan)
{
	if (plan->call)
		return "call";
	return plan->change ? "change" : "read";
}

static void json_steps(const struct plan *plan)
{
	unsigned s;

	printf(",\"steps\":[");
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		printf("%s{\"call\":", s ? "," : "");
		json_str(st->call);
		printf(",\"nr\":%ld,\"role\":\"%s\",\"judge\":\"%s\","
		       "\"undo\":",
		       st->nr, role_name(st->role), judge_name(st->judge));
		json_str(st->has_undo ? st->undo : NULL);
		putchar('}');
	}
	putchar(']');
}

static void print_json(const struct opts *o, const struct plan *plan,
		       const struct outcome *out)
{
	unsigned i, s;

	json_begin(o, plan->command, out->tgt, plan->what, action_name(plan),
		   plan->desc && plan->desc->flags & PF_PROCESS_WIDE);
	json_steps(plan);
	printf(",\"verdict\":");
	json_str(out->ran || (!o->dry_run && plan->format == FMT_COMM) ||
				 (!o->dry_run && plan->proc_read) ?
			 allthreads_verdict_name(out->verdict) :
			 NULL);
	printf(",\"exit\":%d,\"value\":", out->exit);
	json_str(out->folded);
	printf(",\"threads\":[");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		printf("%s{\"tid\":%d,\"state\":\"%s\",\"results\":[",
		       i ? "," : "", row->tid,
		       allthreads_thread_state_name(row->state));
		for (s = 0; s < row->nrun && s < plan->nsteps; s++)
			printf("%s%ld", s ? "," : "", row->res[s]);
		printf("],\"value\":");
		json_str(row->value);
		printf(",\"old\":");
		json_str(row->old);
		printf(",\"error\":");
		json_str(row->problem);
		printf(",\"attrs\":");
		json_attrs(row->after);
		putchar('}');
	}
	putchar(']');
	json_end(o, plan, NULL, 0);
	printf(",\"items\":null}\n");
}

/* --- the plan, printed ---------------------------------------------------- */

static const char *check_words(const struct proc_expect *e, char *buf,
			       size_t size)
{
	char name[64];
	size_t len;
	unsigned i;

	switch (e->how) {
	case PROC_EQUALS:
		if (e->base == 16) {
			if (strncmp(e->field, "Cap", 3) == 0)
				format_capset_fold(e->value, buf, size);
			else
				snprintf(buf, size, "%llx", e->value);
		} else {
			snprintf(buf, size, "%llu", e->value);
		}
		return "is";
	case PROC_BIT_SET:
	case PROC_BIT_CLEAR:
		format_cap(e->value, name, sizeof(name));
		snprintf(buf, size, "%s", name);
		return e->how == PROC_BIT_SET ? "holds" : "lacks";
	case PROC_MASK_SET:
	case PROC_MASK_CLEAR:
		if (e->how == PROC_MASK_CLEAR &&
		    __builtin_popcountll(e->value) * 2 >
			    __builtin_popcountll(all_caps_mask())) {
			format_capset(all_caps_mask() & ~e->value, buf, size);
			return "holds at most";
		}
		format_capset_fold(e->value, buf, size);
		return e->how == PROC_MASK_SET ? "holds" : "lacks";
	case PROC_IDS:
		len = 0;
		for (i = 0; i < 4 && len < size; i++) {
			if (e->ids[i] < 0)
				len += snprintf(buf + len, size - len, "%s*",
						i ? " " : "");
			else
				len += snprintf(buf + len, size - len, "%s%ld",
						i ? " " : "", e->ids[i]);
		}
		return "is";
	case PROC_GROUPS:
		len = 0;
		buf[0] = '\0';
		for (i = 0; i < e->ngroups && len < size; i++)
			len += snprintf(buf + len, size - len, "%s%u",
					i ? " " : "", e->groups[i]);
		if (!e->ngroups)
			snprintf(buf, size, "(none)");
		return "is";
	case PROC_NONE:
		break;
	}
	buf[0] = '\0';
	return "";
}

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
		       role_name(st->role), judge_name(st->judge));
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
		const struct proc_expect *e = &plan->expects[s];
		const char *verb = check_words(e, buf, sizeof(buf));

		printf("then verify /proc/%s/task/*/status: %s %s %s\n",
		       tgt->self ? "self" : "PID", e->field, verb, buf);
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

/* --- running ------------------------------------------------------------ */

/* The plan's steps as the engine's step program. */
static int build_prog(const struct plan *plan, struct allthreads_prog **out)
{
	struct allthreads_prog *prog;
	unsigned s;
	int idx, err;

	prog = allthreads_prog_new();
	if (!prog)
		return -ENOMEM;
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		idx = allthreads_prog_add(prog, st->nr, st->nargs, st->args,
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
static const char *route_name(int route)
{
	return route == ALLTHREADS_ROUTE_HELPER ? "its allthreads helper" :
	       route == ALLTHREADS_ROUTE_PTRACE ? "ptrace" :
						  "none";
}

/*
 * The remote route: PROG on every thread of another process, through
 * liballthreads' API for it (cli/remote.c): its helper, or ptrace, as
 * --via says.  Returns like allthreads_run(), with *REPORT set, or an exit
 * code (> 0) after saying why: 3 when the target cannot be reached (no
 * such process, no route, not allowed, another tracer, not supported,
 * gone mid-way), 1 when its helper refused the request or the run could
 * not start (nothing changed).
 */
static bool has_tid(const pid_t *tids, int n, pid_t tid)
{
	int i;

	for (i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
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
 */
static pid_t report_mismatch(pid_t pid, const struct allthreads_report *rep,
			     const pid_t *before, int nb, const pid_t *after,
			     int na, const char **what)
{
	unsigned i, n = allthreads_report_nthreads(rep);
	pid_t *seen;
	int k;

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
 * The remote route: PROG on every thread of another process, through the
 * allthreads helper that `allthreads run` preloads into it (cli/remote.c).
 * Returns like allthreads_run(), with *REPORT set, or an exit code (> 0)
 * after saying why: 3 when the target cannot be reached (no such process,
 * no helper, not allowed, gone mid-way) and so nothing was asked of it; 1
 * when its helper refused the request (nothing changed); 2 when the
 * outcome is unknown: the request went out and no answer came in time, or
 * the answer does not fit what /proc shows (then `check` tells).
 */
static int route_remote(const struct opts *o, const struct target *tgt,
			const struct allthreads_prog *prog,
			struct allthreads_report **report, bool *closed)
{
	struct at_remote_status st;
	int code = check_reachable(tgt);
	pid_t *before = NULL, *after = NULL, bad;
	const char *what = "";
	int rc, nb, na;

	if (code)
		return code;
	nb = proc_list_tasks(tgt->pid, &before);
	rc = at_remote_run_via(tgt->pid, o->via, prog, o->timeout_ms, 0,
			       o->policy, report, &st);
	*closed = *report && st.route == ALLTHREADS_ROUTE_PTRACE;
	if (*report) {
		na = proc_list_tasks(tgt->pid, &after);
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

static int run_steps(const struct opts *o, const struct plan *plan,
		     struct outcome *out)
{
	struct allthreads_report *report = NULL;
	struct allthreads_prog *prog;
	unsigned i, s, n;
	int err;

	err = build_prog(plan, &prog);
	if (err)
		return err;
	if (out->tgt->self) {
		out->rc = allthreads_run(prog, o->timeout_ms, 0, o->policy,
					 &report);
	} else {
		out->rc =
			route_remote(o, out->tgt, prog, &report, &out->closed);
		if (out->rc > 0) {
			/* Unreachable, already said: an exit code. */
			err = out->rc;
			goto out_prog;
		}
	}
	if (!report) {
		err = out->rc < 0 ? out->rc : -EIO;
		goto out_prog;
	}
	out->ran = true;
	out->verdict = allthreads_report_verdict(report);
	n = allthreads_report_nthreads(report);
	out->rows = calloc(n ? n : 1, sizeof(*out->rows));
	if (!out->rows) {
		err = -ENOMEM;
		goto out_report;
	}
	out->nrows = n;
	for (i = 0; i < n; i++) {
		struct row *row = &out->rows[i];

		row->tid = allthreads_report_tid(report, i);
		row->state = allthreads_report_state(report, i);
		row->nrun = allthreads_report_steps_run(report, i);
		if (row->nrun > plan->nsteps)
			row->nrun = plan->nsteps;
		for (s = 0; s < plan->nsteps; s++)
			row->res[s] = allthreads_report_result(report, i, s);
		row->failed_step = allthreads_report_failed_step(report, i);
		row->left = allthreads_report_left_changed(report, i);
	}
	err = 0;
out_report:
	allthreads_report_free(report);
out_prog:
	allthreads_prog_free(prog);
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
	out->rows = calloc(n ? n : 1, sizeof(*out->rows));
	if (!out->rows) {
		free(tids);
		return -ENOMEM;
	}
	out->nrows = n;
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
	out->rows = calloc(snap.n ? snap.n : 1, sizeof(*out->rows));
	if (!out->rows) {
		snapshot_free(&snap);
		return -ENOMEM;
	}
	out->nrows = snap.n;
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

static struct row *find_row(struct outcome *out, pid_t tid)
{
	unsigned i;

	for (i = 0; i < out->nrows; i++)
		if (out->rows[i].tid == tid)
			return &out->rows[i];
	return NULL;
}

static void set_problem(struct row *row, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_problem(struct row *row, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(row->problem);
	row->problem = strdup(buf);
}

static bool groups_equal(const struct proc_expect *e, const struct tstatus *t)
{
	unsigned i, k;

	for (i = 0; i < e->ngroups; i++) {
		for (k = 0; k < t->ngroups; k++)
			if (t->groups[k] == e->groups[i])
				break;
		if (k == t->ngroups)
			return false;
	}
	for (k = 0; k < t->ngroups; k++) {
		for (i = 0; i < e->ngroups; i++)
			if (t->groups[k] == e->groups[i])
				break;
		if (i == e->ngroups)
			return false;
	}
	return true;
}

/* The value of E's field in T, for the comparison and the message. */
static unsigned long long field_value(const char *field,
				      const struct tstatus *t)
{
	unsigned i;

	for (i = 0; i < NR_CAPSETS; i++)
		if (strcmp(field, capset_key(i)) == 0)
			return t->cap[i];
	if (strcmp(field, "NoNewPrivs") == 0)
		return t->nnp;
	if (strcmp(field, "Seccomp") == 0)
		return t->seccomp;
	return 0;
}

/* Does T show what E expects?  If not, say what it shows in BUF. */
static bool expect_holds(const struct proc_expect *e, const struct tstatus *t,
			 char *buf, size_t size)
{
	const long *ids = strcmp(e->field, "Uid") == 0 ? t->uid : t->gid;
	unsigned long long v = field_value(e->field, t);
	bool ok = true;
	unsigned i;

	switch (e->how) {
	case PROC_EQUALS:
		ok = v == e->value;
		break;
	case PROC_BIT_SET:
		ok = v & (1ULL << e->value);
		break;
	case PROC_BIT_CLEAR:
		ok = !(v & (1ULL << e->value));
		break;
	case PROC_MASK_SET:
		ok = (v & e->value) == e->value;
		break;
	case PROC_MASK_CLEAR:
		ok = !(v & e->value);
		break;
	case PROC_IDS:
		for (i = 0; i < 4; i++)
			if (e->ids[i] >= 0 && ids[i] != e->ids[i])
				ok = false;
		snprintf(buf, size, "%ld %ld %ld %ld", ids[0], ids[1], ids[2],
			 ids[3]);
		return ok;
	case PROC_GROUPS:
		buf[0] = '\0';
		for (i = 0; i < t->ngroups; i++)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%u",
				 i ? " " : "", t->groups[i]);
		return groups_equal(e, t);
	case PROC_NONE:
		break;
	}
	if (e->base == 16 && strncmp(e->field, "Cap", 3) == 0)
		format_capset_fold(v, buf, size);
	else
		snprintf(buf, size, "%llu", v);
	return ok;
}

/* A thread /proc lists that the run did not reach: a row of its own,
 * judged by /proc alone (state OK until a check fails); NULL without
 * memory. */
static struct row *add_unlisted(struct outcome *out, const struct tstatus *t)
{
	struct row *rows, *row;

	rows = realloc(out->rows, (out->nrows + 1) * sizeof(*rows));
	if (!rows)
		return NULL;
	out->rows = rows;
	row = &rows[out->nrows++];
	memset(row, 0, sizeof(*row));
	row->tid = t->tid;
	row->state = ALLTHREADS_T_OK;
	row->failed_step = -1;
	row->unlisted = true;
	out->unlisted++;
	return row;
}

/* After a change every thread reported: prove it.  The CHECK steps must
 * read what was set; every thread /proc lists must have taken part; the
 * attributes /proc shows must read back.  Returns how many threads fail. */
static unsigned verify(const struct opts *o, const struct plan *plan,
		       struct outcome *out)
{
	struct snapshot *snap = &out->after;
	unsigned bad = 0, i, s;
	int err;

	for (i = 0; i < out->nrows && plan->has_expect; i++) {
		struct row *row = &out->rows[i];

		if (row->state != ALLTHREADS_T_OK)
			continue;
		for (s = 0; s < plan->nsteps; s++) {
			if (plan->steps[s].role != ROLE_CHECK ||
			    row->res[s] == plan->expect)
				continue;
			set_problem(row,
				    "%s reads %ld after the change, not "
				    "%ld",
				    plan->steps[s].call, row->res[s],
				    plan->expect);
			bad++;
			break;
		}
	}
	/* The cheap sweep, always: a thread the run missed is a failure;
	 * the full read-back of every thread's status where /proc shows
	 * what changed, or the output wants it (-J, -v). */
	snapshot_free(snap);
	if (plan->nexpect || plan->comm || plan->status_diff || o->json)
		err = proc_snapshot(out->procpid, 0, snap);
	else
		err = proc_snapshot_tids(out->procpid, snap);
	if (err) {
		fprintf(stderr, "allthreads: /proc/%s/task: %s\n",
			out->tgt->self ? "self" : "PID", strerror(-err));
		return out->nrows;
	}
	for (i = 0; i < snap->n; i++) {
		const struct tstatus *t = &snap->t[i];
		struct row *row = find_row(out, t->tid);
		const char *late;
		char val[1024];

		if (!row) {
			/* Not in the report: born after the run's last look.
			 * Every run here holds its threads (flags 0), and it
			 * ends only when a sweep made while every thread it
			 * found was held, changed, finds no other (with
			 * ptrace: while every thread was stopped).  So such a
			 * thread was made by one that had changed, after it
			 * had, and inherits the change.  Where /proc shows
			 * what was set, that is checked too; where it does
			 * not (KEEP_CAPS, securebits), the hold is the
			 * proof. */
			row = add_unlisted(out, t);
			if (!row)
				return out->nrows + 1;
			/* Born after a closed run: it inherited the change
			 * (still judged by /proc where /proc shows it). */
			if (out->closed && !plan->nexpect && !plan->comm)
				continue;
			if (!plan->nexpect && !plan->comm) {
				row->after = t;
				continue;
			}
		}
		row->after = t;
		if (row->state != ALLTHREADS_T_OK || row->problem)
			continue;
		late = row->unlisted ? "not reached by the run, and " : "";
		if (plan->comm) {
			if (strcmp(t->comm, plan->comm)) {
				set_problem(row,
					    "%scomm reads \"%s\", not "
					    "\"%s\"",
					    late, t->comm, plan->comm);
				bad++;
			}
			continue;
		}
		for (s = 0; s < plan->nexpect; s++) {
			const struct proc_expect *e = &plan->expects[s];
			char want[1024];

			if (expect_holds(e, t, val, sizeof(val)))
				continue;
			check_words(e, want, sizeof(want));
			set_problem(row,
				    "%s/proc shows %s: %s after the change "
				    "(expected %s %s)",
				    late, e->field, val,
				    check_words(e, want, sizeof(want)), want);
			bad++;
			break;
		}
	}
	return bad;
}

/* The one value every thread shows, if they agree. */
static char *fold(const struct outcome *out)
{
	const char *v = NULL;
	unsigned i;

	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (is_absent(row->state))
			continue;
		if (!row->value || (v && strcmp(v, row->value)))
			return NULL;
		v = row->value;
	}
	return v ? strdup(v) : NULL;
}

/* -v after a credential change: "TID: Key old -> new, ..." from the
 * "Key=old ..." and "Key=new ..." lists, which name the same keys in the
 * same order. */
static void print_diff(const struct row *row)
{
	const char *a = row->old, *b = row->value;
	bool first = true;

	printf("%d:", row->tid);
	if (strcmp(a, "(unchanged)") == 0) {
		printf(" unchanged\n");
		return;
	}
	while (*a && *b) {
		size_t la = strcspn(a, " "), lb = strcspn(b, " ");
		size_t k = strcspn(a, "=");

		printf("%s %.*s %.*s -> %.*s", first ? "" : ",", (int)k, a,
		       (int)(la - k - 1), a + k + 1, (int)(lb - k - 1),
		       b + k + 1);
		first = false;
		a += la + (a[la] == ' ');
		b += lb + (b[lb] == ' ');
	}
	putchar('\n');
}

static void print_rows(const struct opts *o, const struct plan *plan,
		       const struct outcome *out)
{
	bool show_values = !plan->change || plan->call;
	unsigned i;

	if (show_values && out->folded && !o->verbose) {
		printf("all %s\n", out->folded);
		return;
	}
	if (!show_values && !o->verbose)
		return;
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (show_values)
			printf("%d %s\n", row->tid,
			       row->value ? row->value :
					    allthreads_thread_state_name(
						    row->state));
		else if (row->state != ALLTHREADS_T_OK)
			printf("%d %s\n", row->tid,
			       allthreads_thread_state_name(row->state));
		else if (plan->status_diff && row->old && row->value)
			print_diff(row);
		else if (row->old || row->value)
			printf("%d %s -> %s\n", row->tid,
			       row->old ? row->old : "?",
			       row->value ? row->value : "?");
		else
			printf("%d ok\n", row->tid);
	}
}

/* Say on stderr what went wrong, thread by thread, and loudly when the
 * threads now differ. */
static void print_problems(const struct opts *o, const struct plan *plan,
			   const struct outcome *out)
{
	unsigned i, changed = 0, blocked = 0;

	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (row->problem)
			fprintf(stderr, "allthreads: tid %d: %s\n", row->tid,
				row->problem);
	}
	for (i = 0; plan->call && i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (row->state == ALLTHREADS_T_FAILED &&
		    row->failed_step >= 0 && row->res[row->failed_step] >= 0) {
			fprintf(stderr,
				"allthreads: hint: %s returns a "
				"different value on each thread; try "
				"--judge=success\n",
				plan->what);
			break;
		}
	}
	for (i = 0; !out->tgt->self && i < out->nrows; i++)
		if (out->rows[i].state == ALLTHREADS_T_BLOCKED)
			blocked++;
	if (blocked)
		fprintf(stderr,
			"allthreads: %u thread(s) keep the helper's signal "
			"blocked (a Go runtime thread, a raw rt_sigprocmask): "
			"the helper cannot reach them; the ptrace route "
			"(--via=ptrace) can\n",
			blocked);
	if (out->exit != EXIT_PARTIAL)
		return;
	fprintf(stderr,
		"allthreads: PARTIAL: the threads of pid %d now "
		"differ\n",
		out->tgt->pid);
	fprintf(stderr, "allthreads: PARTIAL: changed:");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if ((row->state == ALLTHREADS_T_OK && !row->problem) ||
		    row->left) {
			fprintf(stderr, " %d", row->tid);
			changed++;
		}
	}
	fprintf(stderr,
		"%s\nallthreads: PARTIAL: not changed or not as "
		"asked:",
		changed ? "" : " none");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (!((row->state == ALLTHREADS_T_OK && !row->problem) ||
		      row->left) &&
		    !is_absent(row->state))
			fprintf(stderr, " %d", row->tid);
	}
	fputc('\n', stderr);
}

static int judge_outcome(const struct opts *o, const struct plan *plan,
			 struct outcome *out)
{
	unsigned i, bad = 0, present = 0;

	for (i = 0; i < out->nrows; i++) {
		struct row *row = &out->rows[i];

		row->problem = describe(plan, out, row);
		if (!is_absent(row->state))
			present++;
		/* A read that returned an error on this thread. */
		if (row->state == ALLTHREADS_T_OK && !plan->change) {
			unsigned s;

			for (s = 0; s < row->nrun; s++) {
				if (row->res[s] >= 0)
					continue;
				set_problem(row, "%s: %s", plan->steps[s].call,
					    strerror(-row->res[s]));
				break;
			}
		}
	}
	if (!plan->change || plan->call) {
		for (i = 0; i < out->nrows; i++)
			if (out->rows[i].problem)
				bad++;
		if (!out->ran)
			return bad ? EXIT_FAILED : EXIT_OK;
		if (out->verdict == ALLTHREADS_PARTIAL)
			return EXIT_PARTIAL;
		return bad || out->verdict == ALLTHREADS_FAILED ? EXIT_FAILED :
								  EXIT_OK;
	}
	if (out->verdict == ALLTHREADS_FAILED)
		return EXIT_FAILED;
	if (out->verdict == ALLTHREADS_PARTIAL)
		return EXIT_PARTIAL;
	if (out->rc < 0)
		return EXIT_FAILED;
	bad = verify(o, plan, out);
	if (!bad)
		return EXIT_OK;
	return bad >= present + out->unlisted ? EXIT_FAILED : EXIT_PARTIAL;
}

/* Where PROGRAM would be found: 0, or the exit code execvp's failure
 * will mean (126 found but not executable, 127 not found). */
static int probe_path(const char *path)
{
	struct stat sb;

	/* A directory we may not search hides nothing we could run. */
	if (stat(path, &sb) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
			       EXIT_NOTFOUND :
			       EXIT_NOEXEC;
	if (S_ISDIR(sb.st_mode) || access(path, X_OK) < 0)
		return EXIT_NOEXEC;
	return 0;
}

static int probe_program(const char *file)
{
	const char *path = getenv("PATH"), *p;
	int worst = EXIT_NOTFOUND;

	if (!*file)
		return EXIT_NOTFOUND;
	if (strchr(file, '/'))
		return probe_path(file);
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t len = strcspn(p, ":");
		char full[PATH_MAX];
		int r;

		snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? p : ".",
			 file);
		r = probe_path(full);
		if (r == 0)
			return 0;
		if (r == EXIT_NOEXEC)
			worst = EXIT_NOEXEC;
		if (!p[len])
			break;
	}
	return worst;
}

static int exec_program(const struct opts *o)
{
	fflush(stdout);
	int err;

	execvp(o->program[0], o->program);
	err = errno;
	fprintf(stderr, "allthreads: %s: %s%s\n", o->program[0], strerror(err),
		err == ENOENT && !probe_program(o->program[0]) ?
			" (its interpreter?)" :
			"");
	/* ENOENT for a file that is there: a missing interpreter. */
	if ((err == ENOENT || err == ENOTDIR) && probe_program(o->program[0]))
		return EXIT_NOTFOUND;
	return EXIT_NOEXEC;
}

static void free_outcome(struct outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nrows; i++) {
		free(out->rows[i].value);
		free(out->rows[i].old);
		free(out->rows[i].problem);
	}
	free(out->rows);
	free(out->folded);
	snapshot_free(&out->before);
	snapshot_free(&out->after);
}

/* Print notes that are true whatever happens. */
static void print_notes(const struct opts *o, const struct plan *plan)
{
	const struct prctl_desc *d = plan->desc;
	unsigned i;

	if (o->quiet)
		return;
	for (i = 0; i < plan->nnotes; i++)
		fprintf(stderr, "allthreads: note: %s\n", plan->notes[i]);
	if (!d)
		return;
	if (d->flags & PF_PROCESS_WIDE)
		fprintf(stderr,
			"allthreads: note: %s is process-wide: one "
			"value for every thread\n",
			d->name);
	if (plan->change && o->program && d->flags & PF_EXEC_RESETS)
		fprintf(stderr,
			"allthreads: note: execve resets %s: %s will "
			"not see it\n",
			d->name, o->program[0]);
	if (plan->change && d->flags & PF_ONE_WAY && !o->dry_run && o->verbose)
		fprintf(stderr,
			"allthreads: note: %s is one-way: it cannot "
			"be undone\n",
			d->name);
}

static const struct tstatus *find_status(const struct snapshot *snap, pid_t tid)
{
	unsigned i;

	for (i = 0; i < snap->n; i++)
		if (snap->t[i].tid == tid)
			return &snap->t[i];
	return NULL;
}

static void append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static void format_ids(const long ids[4], char *buf, size_t size)
{
	snprintf(buf, size, "%ld,%ld,%ld,%ld", ids[0], ids[1], ids[2], ids[3]);
}

static void format_groups(const struct tstatus *t, char *buf, size_t size)
{
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < t->ngroups; i++)
		append(buf, size, "%s%u", i ? "," : "", t->groups[i]);
	if (!t->ngroups)
		snprintf(buf, size, "none");
}

/* What changed on one thread, as "Field=old ..." and "Field=new ...". */
static void status_diff(const struct tstatus *a, const struct tstatus *b,
			struct row *row)
{
	char old[2048] = "", new[2048] = "", x[1024], y[1024];
	unsigned i;

	format_ids(a->uid, x, sizeof(x));
	format_ids(b->uid, y, sizeof(y));
	if (strcmp(x, y)) {
		append(old, sizeof(old), " Uid=%s", x);
		append(new, sizeof(new), " Uid=%s", y);
	}
	format_ids(a->gid, x, sizeof(x));
	format_ids(b->gid, y, sizeof(y));
	if (strcmp(x, y)) {
		append(old, sizeof(old), " Gid=%s", x);
		append(new, sizeof(new), " Gid=%s", y);
	}
	format_groups(a, x, sizeof(x));
	format_groups(b, y, sizeof(y));
	if (strcmp(x, y)) {
		append(old, sizeof(old), " Groups=%s", x);
		append(new, sizeof(new), " Groups=%s", y);
	}
	for (i = 0; i < NR_CAPSETS; i++) {
		if (a->cap[i] == b->cap[i])
			continue;
		format_capset_fold(a->cap[i], x, sizeof(x));
		format_capset_fold(b->cap[i], y, sizeof(y));
		append(old, sizeof(old), " %s=%s", capset_key(i), x);
		append(new, sizeof(new), " %s=%s", capset_key(i), y);
	}
	if (a->nnp != b->nnp) {
		append(old, sizeof(old), " NoNewPrivs=%d", a->nnp);
		append(new, sizeof(new), " NoNewPrivs=%d", b->nnp);
	}
	if (a->seccomp != b->seccomp || a->filters != b->filters) {
		append(old, sizeof(old), " Seccomp=%d/%d", a->seccomp,
		       a->filters);
		append(new, sizeof(new), " Seccomp=%d/%d", b->seccomp,
		       b->filters);
	}
	free(row->old);
	free(row->value);
	row->old = strdup(old[0] ? old + 1 : "(unchanged)");
	row->value = strdup(new[0] ? new + 1 : "(unchanged)");
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
static bool needs_helper(const struct plan *plan)
{
	return plan->change || (plan->nsteps && !plan->proc_read);
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
	if (!needs_helper(plan))
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

/* Run PLAN (or print it), verify, report, and exec PROGRAM. */
int carry_out(const struct opts *o, struct plan *plan, const struct target *tgt)
{
	struct outcome out = { .verdict = ALLTHREADS_AGREE, .tgt = tgt };
	char why[256] = "";
	unsigned i;
	int err, code, route = 0;

	out.procpid = tgt->self ? 0 : tgt->pid;
	if (o->program) {
		code = probe_program(o->program[0]);
		if (code) {
			fprintf(stderr, "allthreads: %s: %s; nothing changed\n",
				o->program[0],
				code == EXIT_NOTFOUND ? "command not found" :
							"not executable");
			return code;
		}
	}
	if (plan->change && tgt->tid)
		return usage_error("-t %d: a change applies to every thread "
				   "(-t reads one thread; use -p)",
				   tgt->tid);
	/* Reads /proc can answer need no steps and no helper. */
	if (!plan->change && (!plan->nsteps || !tgt->self))
		plan->proc_read = proc_answer(plan);
	if (o->dry_run && plan->predict[0])
		plan_note(plan, "predicted: %s", plan->predict);
	if (o->dry_run && !tgt->self && !plan->proc_read &&
	    (plan->nsteps || plan->seccomp_prog)) {
		route = at_remote_probe_via(tgt->pid, o->via, why, sizeof(why));
		if (route > 0)
			plan_note(plan, "route: %s", route_name(route));
		else
			plan_note(plan, "route: none: %s",
				  why[0] ? why : strerror(-route));
	}
	print_notes(o, plan);
	if (o->dry_run) {
		out.exit = plan->predict[0] ? EXIT_FAILED : EXIT_OK;
		/* What the real run would meet first: the target. */
		code = dry_run_reachable(plan, tgt, route, why);
		if (code) {
			fprintf(stderr,
				"allthreads: predicted: exit %d, the target "
				"cannot be reached\n",
				code);
			out.exit = code;
		} else if (!tgt->self && needs_helper(plan)) {
			note_blockers(tgt);
		}
		if (o->json)
			print_json(o, plan, &out);
		else
			print_plan(o, plan, tgt);
		return out.exit;
	}
	if (!tgt->self) {
		code = needs_helper(plan) ? check_changeable(tgt) :
					    check_reachable(tgt);
		if (code)
			return code;
	}
	/* A change the model says would fail on some thread is not tried:
	 * a one-way step would leave the threads differing. */
	if (plan->change && plan->predict[0] && !o->force) {
		fprintf(stderr,
			"allthreads: %s: refused, nothing changed: predicted: "
			"%s (--force runs it anyway)\n",
			plan->command, plan->predict);
		if (o->json) {
			out.exit = EXIT_FAILED;
			print_json(o, plan, &out);
		}
		if (o->program)
			fprintf(stderr, "allthreads: not running %s\n",
				o->program[0]);
		return EXIT_FAILED;
	}
	if (plan->status_diff || (plan->format == FMT_COMM && plan->change))
		proc_snapshot(out.procpid, 0, &out.before);
	if (plan->proc_read)
		err = read_proc(o, plan, &out);
	else if (plan->nsteps || !tgt->self)
		err = run_steps(o, plan, &out);
	else
		err = rows_from_proc(&out);
	if (err > 0) {
		/* The target cannot be reached: said already. */
		code = err;
		goto out;
	}
	if (err) {
		fprintf(stderr, "allthreads: %s %s: %s\n", plan->command,
			plan->what, strerror(-err));
		code = EXIT_FAILED;
		goto out;
	}
	if (plan->seccomp_prog && tgt->self && out.ran && out.rc == 0 &&
	    out.verdict == ALLTHREADS_AGREE) {
		err = install_seccomp(plan);
		if (err) {
			fprintf(stderr,
				"allthreads: seccomp: no thread has the "
				"filter; %s\n",
				plan->nsteps ? "the steps before it are in "
					       "force on every thread" :
					       "nothing changed");
			code = EXIT_FAILED;
			goto out;
		}
	}
	if (tgt->tid)
		keep_only(&out, tgt->tid);
	for (i = 0; i < out.nrows; i++) {
		struct row *row = &out.rows[i];
		const struct tstatus *t;

		if (plan->nsteps && !plan->proc_read) {
			row->value = format_role(plan, row,
						 plan->change && !plan->call ?
							 ROLE_CHECK :
						 plan->call ? ROLE_CALL :
							      ROLE_READ);
			row->old = format_role(plan, row, ROLE_OLD);
		}
		t = find_status(&out.before, row->tid);
		if (plan->format == FMT_COMM && plan->change && t)
			row->old = strdup(t->comm);
		if (plan->comm && row->state == ALLTHREADS_T_OK)
			row->value = strdup(plan->comm);
	}
	code = judge_outcome(o, plan, &out);
	out.exit = code;
	/* The verdict printed is the outcome's, /proc's read-back included. */
	if (code == EXIT_PARTIAL)
		out.verdict = ALLTHREADS_PARTIAL;
	for (i = 0; plan->status_diff && i < out.nrows; i++) {
		struct row *row = &out.rows[i];
		const struct tstatus *t = find_status(&out.before, row->tid);

		if (t && row->after)
			status_diff(t, row->after, row);
	}
	out.folded = plan->status_diff ? NULL : fold(&out);
	if (o->json)
		print_json(o, plan, &out);
	else
		print_rows(o, plan, &out);
	print_problems(o, plan, &out);
	if (code == EXIT_FAILED && plan->change && !plan->call)
		fprintf(stderr, "allthreads: %s: %s\n",
			plan->status_diff ? plan->command : plan->what,
			out.verdict == ALLTHREADS_FAILED ?
				"nothing changed" :
				"not every thread is as asked");
	if (code == EXIT_OK && o->program) {
		free_outcome(&out);
		return exec_program(o);
	}
out:
	free_outcome(&out);
	if (code != EXIT_OK && o->program)
		fprintf(stderr, "allthreads: not running %s\n", o->program[0]);
	return code;
}
