// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-run.c - the ptrace route's run once every thread is stopped:
 *
 *   capture    registers (NT_PRSTATUS only) and signal mask of each
 *   canary     the program on one thread first: if it fails there, it is
 *              undone there and nothing else is touched
 *   the rest   then every other thread, judged against the canary
 *   verify     every thread's /proc status while all are still stopped
 *              (ptrace-verify.c)
 *   undo       on a failure, the undoable steps everywhere
 *
 * and the report it makes.  Past the run's deadline nothing new starts,
 * and what is left to do (undo, unmap) gets until c->letgo, once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "proctext.h"
#include "ptrace-phases.h"
#include "report.h"
#include "stub.h"
#include "sysret.h"

#ifndef AT_ARCH_NONE

/* Threads that run the stub at once, by default (see window()). */
#define AT_PT_WINDOW 8

/* Past the run's deadline nothing new starts: T (not run yet) is left as
 * it is, and the run lets every thread go. */
static bool past_deadline(struct pt_ctx *c, struct pt_thread *t)
{
	if (!at_ts_past(&c->deadline))
		return false;
	t->rstate = ALLTHREADS_T_TIMEOUT;
	snprintf(t->why, sizeof(t->why),
		 "not reached before the deadline: left as it was");
	return true;
}

/* Once the deadline has passed, what is left to do (undo, unmap) gets
 * until c->letgo, once: never a new deadline per thread. */
static void letgo(struct pt_ctx *c)
{
	if (at_ts_past(&c->deadline) && at_ts_before(&c->deadline, &c->letgo))
		c->deadline = c->letgo;
}

/* No time left to undo T: what it ran stays. */
static bool past_letgo(struct pt_ctx *c, struct pt_thread *t)
{
	if (!t->ran || t->st != PT_STOPPED || !at_ts_past(&c->letgo))
		return false;
	t->left = t->nrun;
	snprintf(t->why, sizeof(t->why),
		 "changed; no time was left to undo it");
	return true;
}

static long subst(long arg, long saved)
{
	return arg == ALLTHREADS_SAVED ? saved : arg;
}

/* Undo what T did, last step first; T->left gets what stays. */
static void undo_thread(struct pt_ctx *c, struct pt_thread *t)
{
	struct pt_call *calls;
	long *res;
	unsigned n = 0, k;
	int i, left = 0;

	if (!t->ran || t->st != PT_STOPPED)
		return;
	letgo(c);
	calls = calloc(c->nsteps ? c->nsteps : 1, sizeof(*calls));
	res = calloc(c->nsteps ? c->nsteps : 1, sizeof(*res));
	if (!calls || !res) {
		t->left = t->nrun;
		goto out;
	}
	for (i = t->nrun - 1; i >= 0; i--) {
		const struct at_step *s = &c->steps[i];
		long sv = s->has_save ? t->sav[i] : 0;

		if (at_is_error(t->res[i]))
			continue;
		if (!s->has_undo || (s->has_save && at_is_error(sv))) {
			left++;
			continue;
		}
		if (s->undo_nr < 0)
			continue;
		calls[n].nr = s->undo_nr;
		for (k = 0; k < ALLTHREADS_MAX_ARGS; k++)
			calls[n].a[k] = subst(s->undo_args[k], sv);
		n++;
	}
	if (pt_run_calls(c, t, calls, n, res) < 0)
		left += (int)n;
	else
		for (k = 0; k < n; k++)
			left += at_is_error(res[k]);
	t->left = left;
	if (t->rstate == ALLTHREADS_T_OK)
		t->rstate = ALLTHREADS_T_UNDONE;
out:
	free(calls);
	free(res);
}

#if AT_ARCH_HAS_STUB
/* The stub's stop signal: the first of AT_STUB_SIGNALS the target has no
 * handler for (SigCgt), read while every thread is stopped, so no
 * disposition can change before the stub is done.  0: it catches them
 * all, the stub is not used. */
static int stub_signal(struct pt_ctx *c)
{
	static const int sigs[] = AT_STUB_SIGNALS;
	char path[64], buf[4096];
	unsigned long long caught;
	unsigned i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->pid);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0 ||
	    !at_proc_field(buf, "SigCgt"))
		return 0;
	caught = at_proc_field_hex(buf, "SigCgt");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!((caught >> (sigs[i] - 1)) & 1))
			return sigs[i];
	return 0;
}

/* Does a step install a seccomp filter (or strict mode)? */
static bool installs_filter(const struct pt_ctx *c)
{
	unsigned i;

	for (i = 0; i < c->nsteps; i++)
		if (c->steps[i].nr == SYS_seccomp ||
		    (c->steps[i].nr == SYS_prctl &&
		     c->steps[i].args[0] == PR_SET_SECCOMP))
			return true;
	return false;
}

/* The target has no RLIMIT_RTTIME: a real-time thread of it that ran a
 * while would otherwise be sent SIGXCPU, however short the stub. */
static bool rt_unlimited(const struct pt_ctx *c)
{
	struct rlimit rl;

	return prlimit(c->pid, RLIMIT_RTTIME, NULL, &rl) == 0 &&
	       rl.rlim_cur == RLIM_INFINITY;
}

/* How many threads run the stub at once: AT_PT_WINDOW, or
 * ALLTHREADS_PTRACE_WINDOW=N (1 to AT_STUB_SLOTS; 1: one at a time, each
 * on the tracer's CPU). */
static unsigned window(void)
{
	const char *v = secure_getenv("ALLTHREADS_PTRACE_WINDOW");
	unsigned k = AT_PT_WINDOW;

	if (v && *v) {
		k = (unsigned)strtoul(v, NULL, 10);
		if (k < 1)
			k = 1;
		if (k > AT_STUB_SLOTS)
			k = AT_STUB_SLOTS;
	}
	return k;
}
#endif

/*
 * A real-time tracer waits for a co-located tracee only while something
 * above the tracees holds that CPU (a real-time task; the throttling then
 * lets the tracee and the tracer run in turns, one stop a period): a
 * thread that took that long there makes the others run where they are.
 */
#define AT_PT_COLO_SLOW_NS 20000000ull
static void colo_check(struct pt_ctx *c, uint64_t start)
{
	if (c->boosted && c->cpu >= 0 &&
	    pt_ns_now() - start > AT_PT_COLO_SLOW_NS)
		c->cpu = -1;
}

/* One pt_run_all(): the threads it singles out and what it found. */
struct run {
	struct pt_ctx *c;
	enum allthreads_mismatch policy;
	struct pt_result *out;
	struct pt_thread *can;		/* the canary */
	struct pt_thread *quiet;	/* see pt_quiet() */
	struct pt_thread *dead;		/* the first thread our calls ended */
	struct pt_vstate before, after; /* the canary's /proc */
	bool changed[AT_PT_NVKEYS];	/* what the canary's change shows */
	bool any_changed, problem, hooked;
};

/* Capture: each stopped thread's registers, mask and result arrays;
 * nothing changes yet.  The first one is the canary. */
static int capture(struct run *r)
{
	struct pt_ctx *c = r->c;
	unsigned k, i;
	int err;

	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];

		if (t->st != PT_STOPPED)
			continue;
		err = at_arch_get(t->tid, &t->saved);
		if (err == -ESRCH) {
			t->st = PT_GONE;
			continue;
		}
		if (err == -ENOTSUP) {
			pt_why(c,
			       "thread %d runs 32-bit (compat) code: only "
			       "64-bit %s threads are supported",
			       (int)t->tid, AT_ARCH_NAME);
			return -ENOTSUP;
		}
		if (err)
			return err;
		err = pt_get_sigmask(t->tid, &t->mask);
		if (err)
			return err;
		t->captured = true;
		t->res = calloc(c->nsteps, sizeof(long));
		t->sav = calloc(c->nsteps, sizeof(long));
		if (!t->res || !t->sav)
			return -ENOMEM;
		for (i = 0; i < c->nsteps; i++)
			t->res[i] = -ECANCELED;
		if (!r->can)
			r->can = t;
	}
	if (!r->can) {
		pt_why(c, "no thread of the process could be stopped");
		return -ESRCH;
	}
	return 0;
}

/* Between the capture and the first change: the memory, rseq, the stub's
 * signal, the deadline.  From its end a lost tracer leaves an unknown
 * outcome. */
static int prepare(struct run *r)
{
	struct pt_ctx *c = r->c;
	char path[64];
	int err;

	/* The memory through a live thread: a zombie leader has none. */
	c->mempid = r->can->tid;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/mem", (int)c->pid,
		 (int)r->can->tid);
	c->memfd = open(path, O_RDWR | O_CLOEXEC);
	/* Each thread as the kernel leaves it after a stop, before any of
	 * them is touched: rseq critical sections aborted. */
	err = pt_rseq_abort(c);
	if (err)
		return err;
	pt_restart_note(c);
	r->out->canary = (unsigned)(r->can - c->t);
	r->out->have_canary = true;
#if AT_ARCH_HAS_STUB
	if (c->use_stub) {
		c->stub_sig = stub_signal(c);
		if (!c->stub_sig)
			c->use_stub = false;
	}
	c->nslots = c->use_stub ? window() : 1;
	/* Threads in the stub just below the tracer (pt_raise()); not where
	 * a seccomp filter, the target's or the program's, might judge the
	 * stub's own way back if this tracer were lost. */
	c->raise = c->use_stub && c->boosted && !c->filtered &&
		   !installs_filter(c) && rt_unlimited(c) &&
		   !pt_env_off("ALLTHREADS_PTRACE_RAISE");
#endif
	r->out->t_inject = pt_ns_now();
	if (at_ts_past(&c->deadline)) {
		pt_why(c, "the deadline passed before anything was changed");
		return -ETIMEDOUT;
	}
	__atomic_store_n(&c->share->touched, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* The scratch region through the canary, then the caller's hook. */
static int set_up(struct run *r)
{
	struct pt_ctx *c = r->c;
	struct pt_thread *can = r->can;
	int err;

	/* aarch64 maps it for its way back (AT_ARCH_WAYBACK) in any case. */
	if (c->use_stub || c->data_len || AT_ARCH_WAYBACK) {
		r->quiet = pt_quiet(c);
		err = pt_scratch_map(c, pt_sleeper(c, can), r->quiet);
		pt_share_region(c);
		pt_restore(c, can);
		if (err) {
			pt_why(c, "cannot map scratch memory in thread %d: %s",
			       (int)can->tid, strerror(-err));
			return err;
		}
	}
	if (c->hook) {
		c->hook_at += c->data_at;
		err = c->hook->before(c, can, c->hook->arg);
		pt_restore(c, can);
		if (err) {
			/* Nothing ran: no thread to report on. */
			r->out->have_canary = false;
			pt_uncolocate(c, can);
			return err;
		}
		r->hooked = true;
	}
	return 0;
}

/* The canary failed (ERR, or a step it judged): undone there, and
 * nothing else is touched. */
static int canary_failed(struct run *r, int err)
{
	struct pt_ctx *c = r->c;
	struct pt_thread *can = r->can;
	long res;

	if (err) {
		can->rstate = ALLTHREADS_T_FAILED;
		pt_why(c, "thread %d: %s", (int)can->tid,
		       can->why[0] ? can->why : strerror(-err));
		undo_thread(c, can);
	} else {
		res = can->res[can->failed];
		can->rstate = ALLTHREADS_T_FAILED;
		undo_thread(c, can);
		can->rstate = ALLTHREADS_T_FAILED;
		err = at_is_error(res) ? (int)res : -EIO;
		pt_why(c, "step %d failed on thread %d: %s", can->failed,
		       (int)can->tid,
		       at_is_error(res) ? strerror((int)-res) :
					  "unexpected result");
	}
	r->out->verdict = can->left ? ALLTHREADS_PARTIAL : ALLTHREADS_FAILED;
	return err;
}

/* The canary: the region through it, then the steps; what its change
 * shows in /proc. */
static int run_canary(struct run *r)
{
	struct pt_ctx *c = r->c;
	struct pt_thread *can = r->can;
	uint64_t start = pt_ns_now();
	int err;

	pt_colocate(c, can);
	pt_vread(c, can->tid, &r->before);
	err = set_up(r);
	if (err)
		return err;
	err = pt_run_steps(c, can, NULL);
	pt_uncolocate(c, can);
	colo_check(c, start);
	if (err || can->failed >= 0)
		return canary_failed(r, err);
	can->rstate = ALLTHREADS_T_OK;
	pt_vread(c, can->tid, &r->after);
	r->any_changed = pt_vchanged(&r->before, &r->after, r->changed);
	return 0;
}

/* T ran the program (ERR): judged against the canary. */
static void ran(struct run *r, struct pt_thread *t, int err)
{
	if (err == -ESRCH || t->st == PT_GONE) {
		t->st = PT_GONE;
		if (t->died) {
			/* Killed by our call (a seccomp filter...) or
			 * meanwhile: either way not proven. */
			t->rstate = ALLTHREADS_T_FAILED;
			r->problem = true;
			if (!r->dead)
				r->dead = t;
		}
		return;
	}
	if (err) {
		t->rstate = ALLTHREADS_T_FAILED;
		if (!t->why[0])
			snprintf(t->why, sizeof(t->why), "%s", strerror(-err));
		r->problem = true;
		return;
	}
	t->rstate = t->failed >= 0 ? ALLTHREADS_T_FAILED : ALLTHREADS_T_OK;
	r->problem |= t->failed >= 0;
}

/* The next thread from *K on that is still to run, or NULL; past the
 * deadline none is. */
static struct pt_thread *next_other(struct run *r, unsigned *k)
{
	struct pt_ctx *c = r->c;

	while (*k < c->n) {
		struct pt_thread *t = &c->t[(*k)++];

		if (t == r->can || t->st != PT_STOPPED || !t->captured)
			continue;
		if (past_deadline(c, t)) {
			r->problem = true;
			continue;
		}
		return t;
	}
	return NULL;
}

/* Every other thread, one at a time, each on the tracer's CPU while it
 * works. */
static void run_one_by_one(struct run *r)
{
	struct pt_ctx *c = r->c;
	struct pt_thread *t;
	unsigned k = 0;
	int err;

	while ((t = next_other(r, &k))) {
		uint64_t start = pt_ns_now();

		pt_colocate(c, t);
		c->window = 1;
		err = pt_run_steps(c, t, r->can->res);
		pt_uncolocate(c, t);
		colo_check(c, start);
		ran(r, t, err);
	}
}

#if AT_ARCH_HAS_STUB
/* The window's first nap when none of its threads has stopped, on a
 * timer rather than until the next stop's SIGCHLD, so that the tracer
 * wakes once for several stops (each sleep and wake-up costs it more
 * than a ptrace request): the mean time between the stops it collected
 * since START (GOT of them), within AT_PT_WIN_NAP_MIN and
 * AT_PT_WIN_NAP_MAX; AT_PT_WIN_NAP_FIRST before the first. */
#define AT_PT_WIN_NAP_MIN 20000u
#define AT_PT_WIN_NAP_FIRST 50000u
#define AT_PT_WIN_NAP_MAX 1000000u
static unsigned window_nap(uint64_t start, unsigned got)
{
	uint64_t mean;

	if (!got)
		return AT_PT_WIN_NAP_FIRST;
	mean = (pt_ns_now() - start) / got;
	if (mean < AT_PT_WIN_NAP_MIN)
		return AT_PT_WIN_NAP_MIN;
	return mean > AT_PT_WIN_NAP_MAX ? AT_PT_WIN_NAP_MAX : (unsigned)mean;
}

/*
 * Every other thread, c->nslots at once (the stub only): each runs the
 * program in a slot of its own, on whichever CPU it may run, and one that
 * finishes stays stopped, its own registers and mask back, while the
 * next one takes its slot; the tracer starts and collects them as their
 * stops come.  No thread leaves its stop for its own code before the
 * release: the others of the window are stopped too, or in the stub.
 */
static void run_window(struct run *r)
{
	struct pt_ctx *c = r->c;
	struct pt_thread *slot[AT_STUB_SLOTS] = { NULL }, *t, *done = NULL;
	pid_t tids[AT_STUB_SLOTS] = { 0 };
	int ret[AT_STUB_SLOTS], err, st;
	unsigned k = 0, busy = 0, got = 0, i;
	uint64_t start = pt_ns_now();

	for (;;) {
		for (i = 0; i < c->nslots; i++)
			while (!slot[i] && (t = next_other(r, &k))) {
				err = pt_steps_start(c, t, i, r->can->res);
				if (err) {
					ran(r, t, err);
					continue;
				}
				slot[i] = t;
				tids[i] = t->tid;
				busy++;
				if (c->window < busy)
					c->window = busy;
			}
		/* The last one's /proc, while the others work. */
		if (done && r->any_changed)
			r->problem |=
				pt_verify_one(c, done, r->changed, &r->after);
		done = NULL;
		if (!busy)
			return;
		c->nap_ns = window_nap(start, got);
		err = pt_wait_any(c, tids, c->nslots, &i, &st);
		c->nap_ns = 0;
		if (err == -ETIMEDOUT) {
			/* Every thread still at work taken back; the rest
			 * then finds the deadline past. */
			pt_steps_take_back(c, slot, c->nslots, ret);
			for (i = 0; i < c->nslots; i++)
				if (slot[i])
					ran(r, slot[i], ret[i]);
			memset(slot, 0, sizeof(slot));
			memset(tids, 0, sizeof(tids));
			busy = 0;
			continue;
		}
		err = pt_steps_event(c, slot[i], i, err, st);
		if (err == 1)
			continue;
		got++;
		ran(r, slot[i], err);
		done = slot[i];
		slot[i] = NULL;
		tids[i] = 0;
		busy--;
	}
}
#endif

/* Every other thread, judged against the canary. */
static void run_others(struct run *r)
{
#if AT_ARCH_HAS_STUB
	if (r->c->use_stub && r->c->nslots > 1) {
		run_window(r);
		return;
	}
#endif
	run_one_by_one(r);
}

/* Nobody new may have appeared: every thread was stopped. */
static void check_newcomers(struct run *r)
{
	struct pt_ctx *c = r->c;
	unsigned k;

	if (pt_scan(c) <= 0)
		return;
	for (k = 0; k < c->n; k++)
		if (c->t[k].st == 0) {
			c->t[k].rstate = ALLTHREADS_T_NOT_RUN;
			snprintf(c->t[k].why, sizeof(c->t[k].why),
				 "appeared during the run");
			r->problem = true;
		}
}

/* Under ALLTHREADS_MISMATCH_REPORT: every thread undone where it can be;
 * how many steps stay in force. */
static int undo_all(struct pt_ctx *c)
{
	unsigned k;
	int left = 0;

	letgo(c);
	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];
		int was = t->rstate;

		if (past_letgo(c, t)) {
			left += t->left;
			continue;
		}
		undo_thread(c, t);
		if (was == ALLTHREADS_T_FAILED)
			t->rstate = was;
		left += t->left;
	}
	return left;
}

/* The verdict once every thread ran, per the policy. */
static int judge(struct run *r)
{
	struct pt_ctx *c = r->c;
	struct pt_result *out = r->out;
	int err = 0;

	out->verdict = ALLTHREADS_AGREE;
	if (!r->problem)
		return 0;
	if (r->policy == ALLTHREADS_MISMATCH_KILL) {
		kill(c->pid, SIGKILL);
		out->verdict = ALLTHREADS_PARTIAL;
		err = -EIO;
	} else if (r->policy == ALLTHREADS_MISMATCH_REPORT) {
		out->verdict = undo_all(c) ? ALLTHREADS_PARTIAL :
					     ALLTHREADS_FAILED;
		err = -EIO;
	} else {
		out->verdict = ALLTHREADS_PARTIAL;
	}
	if (r->dead) {
		/* The canary changed before; the process lost a thread to
		 * the run: never "nothing changed". */
		out->verdict = ALLTHREADS_PARTIAL;
		err = -EIO;
		pt_why(c, "thread %d %s; the run failed%s", (int)r->dead->tid,
		       r->dead->why,
		       r->policy == ALLTHREADS_MISMATCH_REPORT ?
			       " and the other threads were undone where they "
			       "could be" :
			       "");
	} else if (err) {
		pt_why(c, "the threads did not all agree%s",
		       out->verdict == ALLTHREADS_FAILED ?
			       "; every change was undone" :
			       "");
	}
	return err;
}

/* Whatever the outcome: the hook's after, the region unmapped. */
static void finish(struct run *r)
{
	struct pt_ctx *c = r->c;
	struct pt_thread *can = r->can;
	unsigned k;

	letgo(c);
	if (r->hooked) {
		struct pt_thread *t = can->st == PT_STOPPED ? can : NULL;

		for (k = 0; !t && k < c->n; k++)
			if (c->t[k].st == PT_STOPPED && c->t[k].captured)
				t = &c->t[k];
		if (t) {
			c->hook->after(c, t, c->hook->arg);
			pt_restore(c, t);
		}
	}
	if (c->base)
		pt_scratch_unmap(c, r->quiet && r->quiet->st == PT_STOPPED ?
					    r->quiet :
					    can);
	pt_share_region(c);
	pt_vfree(&r->before);
	pt_vfree(&r->after);
}

int pt_run_all(struct pt_ctx *c, enum allthreads_mismatch policy,
	       struct pt_result *out)
{
	struct run r = { .c = c, .policy = policy, .out = out };
	int err;

	err = pt_recheck_seccomp(c);
	if (!err)
		err = capture(&r);
	if (!err)
		err = prepare(&r);
	if (err)
		return err;
	err = run_canary(&r);
	if (!err) {
		run_others(&r);
		out->t_verify = pt_ns_now();
		/* Every thread's /proc, still stopped: what the canary's
		 * change shows must read the same everywhere. */
		if (r.any_changed)
			r.problem |= pt_verify(c, r.can, r.changed, &r.after);
		check_newcomers(&r);
		err = judge(&r);
	}
	finish(&r);
	return err;
}

int pt_build_report(struct pt_ctx *c, const struct pt_result *res,
		    struct allthreads_report **reportp)
{
	struct allthreads_report *rep;
	unsigned k, i, j = 0;

	rep = at_report_new(c->n, c->nsteps);
	if (!rep)
		return -ENOMEM;
	rep->verdict = res->verdict;
	for (k = 0; k < c->n; k++) {
		/* The canary first, as the calling thread is in
		 * allthreads_run()'s report. */
		unsigned idx = res->have_canary ? (k == 0 ? res->canary :
						   k <= res->canary ? k - 1 :
								      k) :
						  k;
		struct pt_thread *t = &c->t[idx];
		struct at_rthread *r = &rep->t[j];

		r->tid = t->tid;
		r->failed_step = t->failed;
		r->nrun = t->nrun;
		r->left = t->left;
		switch (t->st) {
		case PT_ZOMBIE:
			r->state = ALLTHREADS_T_ZOMBIE;
			snprintf(t->why, sizeof(t->why), "zombie (exited)");
			break;
		case PT_GONE:
			if (t->died) {
				/* ended in our calls: a failure (why says) */
				r->state = ALLTHREADS_T_FAILED;
				break;
			}
			r->state = ALLTHREADS_T_EXITED;
			if (!t->why[0])
				snprintf(t->why, sizeof(t->why),
					 "exited during the run");
			break;
		default:
			r->state = t->rstate;
		}
		snprintf(r->why, sizeof(r->why), "%s", t->why);
		for (i = 0; i < c->nsteps; i++)
			rep->res[(size_t)j * c->nsteps + i] =
				t->res ? t->res[i] : -ECANCELED;
		j++;
	}
	rep->times.route = ALLTHREADS_ROUTE_PTRACE;
	rep->times.stub = c->use_stub;
	rep->times.stops = c->stops;
	rep->times.window = (int)c->window;
	if (res->t_frozen && res->t_end > res->t_freeze) {
		rep->times.frozen_ns = res->t_end - res->t_freeze;
		rep->times.stop_ns = res->t_frozen - res->t_freeze;
		if (res->t_verify > res->t_inject)
			rep->times.inject_ns = res->t_verify - res->t_inject;
		if (res->t_verify)
			rep->times.verify_ns = res->t_end - res->t_verify;
	}
	*reportp = rep;
	return 0;
}

#endif /* AT_ARCH_NONE */
