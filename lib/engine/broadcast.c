// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * broadcast.c - the initiator: run the steps here first, then sweep
 * /proc/self/task, signal every other thread, wait with a deadline, judge,
 * release (or undo), report.  The other jobs of a broadcast have files of
 * their own (broadcast.h).
 *
 * Between the first tgkill and the last release nothing is allocated: the
 * slot table, the result arrays and the sweep buffer are reserved before
 * (reserve.c).  at_engine_install() is here too: it takes the lock and
 * installs the handler, as a run does first.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broadcast.h"
#include "sysret.h"
#include "timespec.h"

#define AT_MAX_SWEEPS 100000
#define AT_SLICE_NS 5000000L

/* If TID is a waiter, poke it (waiters.c); false if it is not one, or if
 * its kick could not be queued: then it is signalled as any thread, which
 * wakes it the same way, and retried as any thread. */
static bool poke_waiter(pid_t tid)
{
	int r = at_waiter_poke(tid);

	if (r == -ENOENT)
		return false;
	/* It may be waiting for the engine lock rather than in its wait. */
	at_lock_wake_all();
	return r == 0;
}

static int send_to(struct at_sweep *sw, struct at_slot *s, pid_t tid)
{
	long r;

	if (poke_waiter(tid) || at_stuck_still_queued(tid, sw->sig))
		return 0;
	r = at_process_signal(tid, sw->uid);
	if (r == 0)
		return 0;
	if (r == -EAGAIN) {
		s->unqueued = true; /* queue full: retry later */
		sw->unsent++;
		return 0;
	}
	/* ESRCH: gone between listing and signalling.  A thread that was
	 * only remembered from the last run is not part of this one: its slot
	 * gets a TID no thread can have (so a new thread that reuses the TID
	 * is still found) and stays out of the report. */
	{
		uint64_t expect = AT_WORDG(sw->run->gen, tid, AT_PENDING);
		pid_t name = sw->from_cache ? AT_NO_TID : tid;

		if (atomic_compare_exchange_strong(&s->word, &expect,
						   AT_WORDG(sw->run->gen, name,
							    AT_CANCELLED))) {
			s->state = ALLTHREADS_T_EXITED;
			sw->stale += sw->from_cache;
			atomic_fetch_sub(&sw->run->pending, 1);
		}
	}
	return 0;
}

static int insert_cb(void *ctx, pid_t tid)
{
	struct at_sweep *sw = ctx;
	struct at_run *run = sw->run;
	bool known;
	uint32_t i = at_slot_probe(run->slots, run->mask, tid, &known);

	if (known)
		return 0;
	if (sw->used >= sw->limit) {
		sw->overflow = true;
		return 0;
	}
	{
		struct at_slot *s = &run->slots[i];
		bool zombie = tid == sw->pid && at_process_leader_zombie();

		s->state = zombie ? ALLTHREADS_T_ZOMBIE : ALLTHREADS_T_NOT_RUN;
		s->nrun = 0;
		s->failed_step = -1;
		s->left = 0;
		s->unqueued = false;
		s->settled = 0;
		s->index = sw->used;
		sw->rs->order[sw->used++] = i;
		sw->found++;
		if (zombie) {
			atomic_store_explicit(
				&s->word, AT_WORDG(run->gen, tid, AT_CANCELLED),
				memory_order_release);
			return 0;
		}
		atomic_fetch_add(&run->pending, 1);
		atomic_store_explicit(&s->word,
				      AT_WORDG(run->gen, tid, AT_PENDING),
				      memory_order_release);
		return send_to(sw, s, tid);
	}
}

/* --- one run -------------------------------------------------------------- */

/* How many steps of PROG have (WANT) or lack (!WANT) a way back. */
static unsigned count_undo(const struct allthreads_prog *prog, bool want)
{
	unsigned i, n = 0;

	for (i = 0; i < prog->n; i++)
		n += prog->steps[i].has_undo == want;
	return n;
}

/* Sleep until the last pending thread reports (or UNTIL).  Waiting on
 * pending itself would wake the initiator at every report.  The mark
 * goes up before the look at pending, and report_in() (sigctx.c) takes
 * pending to 0 before it looks at the mark, all four sequentially
 * consistent: no wake-up is lost, and none is made while nobody sleeps. */
static int wait_drained(struct at_run *run, const struct timespec *until)
{
	int r = 0;

	atomic_store(&run->drained, AT_DRAIN_SLEEPING);
	if (atomic_load(&run->pending) > 0)
		r = at_futex_wait(&run->drained, AT_DRAIN_SLEEPING, until);
	atomic_store(&run->drained, AT_DRAIN_AWAKE);
	return r;
}

/* Wait until every pending thread reported, or the deadline. */
static void wait_pending(struct at_run *run, struct at_sweep *sw,
			 char (*why)[AT_WHY_LEN], const struct timespec *first)
{
	struct timespec t, slice = *first;
	long step_ns = AT_SLICE_NS;
	int p;

	for (;;) {
		p = atomic_load_explicit(&run->pending, memory_order_acquire);
		if (p == 0)
			return;
		at_ts_now(&t);
		if (!at_ts_before(&t, &run->deadline)) {
			at_stuck_diagnose(sw, true, why);
			return;
		}
		if (!at_ts_before(&t, &slice)) {
			at_stuck_diagnose(sw, false, why);
			if (sw->stuck)
				return;
			slice = t;
			at_ts_add_ns(&slice, step_ns);
			if (step_ns < 200000000L)
				step_ns *= 2;
			if (!at_ts_before(&slice, &run->deadline))
				slice = run->deadline;
			continue;
		}
		wait_drained(run, &slice);
	}
}

static int build_report(struct at_run *run, struct at_sweep *sw,
			char (*why)[AT_WHY_LEN],
			enum allthreads_verdict verdict,
			struct allthreads_report **reportp)
{
	struct allthreads_report *rep;
	uint32_t k, n;

	if (!reportp)
		return 0;
	rep = at_report_new(sw->used - sw->stale, run->nsteps);
	if (!rep)
		return -ENOMEM;
	rep->verdict = verdict;
	for (k = 0, n = 0; k < sw->used; k++) {
		struct at_slot *s = &run->slots[sw->rs->order[k]];
		pid_t tid = AT_WORD_TID(atomic_load(&s->word));
		struct at_rthread *t;
		unsigned j;

		if (tid == AT_NO_TID)
			continue;
		t = &rep->t[n];
		t->tid = tid;
		t->state = s->state;
		t->nrun = s->nrun;
		t->failed_step = s->failed_step;
		t->left = s->left;
		if (k < sw->rs->why_end) /* else empty (calloc) */
			memcpy(t->why, why[k], sizeof(t->why));
		for (j = 0; j < run->nsteps; j++)
			rep->res[(size_t)n * run->nsteps + j] =
				j < (unsigned)s->nrun ?
					run->res[(size_t)k * run->nsteps + j] :
					-ECANCELED;
		n++;
	}
	*reportp = rep;
	return 0;
}

/* Insert the calling thread as report index 0. */
static struct at_slot *add_self(struct at_run *run, struct at_sweep *sw)
{
	bool known;
	uint32_t i = at_slot_probe(run->slots, run->mask, sw->self, &known);
	struct at_slot *s = &run->slots[i];

	s->index = 0;
	s->nrun = 0;
	s->failed_step = -1;
	s->left = 0;
	s->unqueued = false;
	s->settled = 0;
	s->state = ALLTHREADS_T_NOT_RUN;
	sw->rs->order[0] = i;
	sw->used = 1;
	atomic_store(&s->word, AT_WORDG(run->gen, sw->self, AT_SELF));
	return s;
}

/* The canary: the steps on the calling thread.  Returns the failed step's
 * error, or 0. */
static int run_canary(struct at_run *run, struct at_slot *me)
{
	int failed, ret;

	me->nrun = at_sigctx_run_steps(run->prog, run->nsteps, NULL, run->res,
				       run->saved, &failed, NULL);
	me->failed_step = failed;
	if (failed < 0) {
		me->state = ALLTHREADS_T_OK;
		return 0;
	}
	me->state = ALLTHREADS_T_FAILED;
	me->left = at_sigctx_undo(run->prog, me->nrun, run->res, run->saved);
	ret = (int)run->res[failed];
	return at_is_error(ret) ? ret : -EIO;
}

/*
 * Judge the threads that settled on an EQUAL step (a fixed point other than
 * the calling thread's result): such a thread already held what the step
 * sets (a thread started by one that had changed) when the calling thread,
 * which now holds the requested state, gets that same result from the same
 * step run once more.  Otherwise that thread failed at that step.  The
 * second run on the calling thread happens only here, for a step that
 * returned a previous value: it changes nothing.
 */
static void settle_check(struct at_run *run, struct at_sweep *sw)
{
	/* The calling thread's result of each step when run once more (after
	 * the canary, so the thread already holds what the step sets),
	 * computed only for a step some thread settled on. */
	long settled_res[ALLTHREADS_MAX_STEPS];
	unsigned char settled_known[ALLTHREADS_MAX_STEPS];
	const long *canary = run->canary;
	uint32_t k;
	unsigned i;

	memset(settled_known, 0, run->nsteps);
	for (k = 1; k < sw->used; k++) {
		struct at_slot *s = &run->slots[sw->rs->order[k]];
		long *res = run->res + (size_t)s->index * run->nsteps;

		if (!s->settled || s->state != ALLTHREADS_T_OK)
			continue;
		for (i = 0; i < (unsigned)s->nrun; i++) {
			const struct at_step *st = &run->prog->steps[i];

			if (st->judge != ALLTHREADS_JUDGE_EQUAL ||
			    res[i] == canary[i])
				continue;
			if (!settled_known[i]) {
				settled_res[i] = at_step_call(st);
				settled_known[i] = 1;
			}
			if (res[i] != settled_res[i]) {
				s->state = ALLTHREADS_T_FAILED;
				s->failed_step = (int)i;
				break;
			}
		}
	}
}

/* Wait for the threads signalled so far; false when the run must stop
 * looking (a thread is stuck, or the deadline passed: then every thread
 * still pending, and any that appeared meanwhile, is named). */
static bool await_round(struct at_run *run, struct at_sweep *sw, int fd,
			char (*why)[AT_WHY_LEN], const struct timespec *first)
{
	struct timespec t;

	wait_pending(run, sw, why, first);
	if (sw->stuck)
		return false;
	at_ts_now(&t);
	if (at_ts_before(&t, &run->deadline))
		return true;
	at_tasks_sweep(fd, sw->rs->sweep_buf, AT_SWEEP_BUF, insert_cb, sw);
	at_stuck_diagnose(sw, true, why);
	return false;
}

/* Signal every thread, wait, sweep again, until a sweep finds nothing new
 * and nobody is pending, or the deadline.  The threads the last run saw
 * are signalled before any sweep, so in a steady process one sweep (the
 * one that proves nothing was missed) is all it costs.  Nothing is
 * allocated here. */
static void reach_all(struct at_run *run, struct at_sweep *sw, int fd,
		      char (*why)[AT_WHY_LEN], int nthreads)
{
	struct timespec first;
	uint32_t i;
	int sweeps, clean = 0;

	at_ts_now(&first);
	/* Before looking at late threads: a little more than a broadcast
	 * normally takes (about 8 us a thread on two cores). */
	at_ts_add_ns(&first, 2000000L + 15000L * nthreads);
	if (sw->rs->nknown) {
		sw->from_cache = true;
		for (i = 0; i < sw->rs->nknown; i++)
			insert_cb(sw, sw->rs->known[i]);
		sw->from_cache = false;
		if (!await_round(run, sw, fd, why, &first))
			return;
	}
	for (sweeps = 0; sweeps < AT_MAX_SWEEPS; sweeps++) {
		sw->found = 0;
		if (at_tasks_sweep(fd, sw->rs->sweep_buf, AT_SWEEP_BUF,
				   insert_cb, sw) < 0)
			break;
		if (sw->found == 0 && atomic_load(&run->pending) == 0) {
			/* A clean sweep: every thread answered.  Unless
			 * threads are held, some may exit meanwhile, and
			 * procfs resumes a listing by position: a thread
			 * can then be skipped.  Released threads need a
			 * second clean sweep in a row. */
			if (++clean >= (run->hold || run->capture ? 1 : 2))
				return;
			continue;
		}
		clean = 0;
		if (!await_round(run, sw, fd, why, &first))
			return;
	}
}

/* Threads still running their steps past the deadline (a step that
 * blocks) get a little longer; true if some still run. */
static bool straggle(struct at_run *run)
{
	struct timespec limit = run->deadline;
	int k;

	at_ts_add_ns(&limit, 2000000000L);
	for (k = 0; k < 100000 && atomic_load(&run->pending) > 0; k++)
		if (wait_drained(run, &limit) == -ETIMEDOUT)
			break;
	return atomic_load(&run->pending) > 0;
}

/* Is a thread still inside this run: running its steps past the deadline
 * and the grace, or undoing without having acknowledged?  Then the run
 * must be retired, not reused. */
static bool has_stragglers(struct at_run *run)
{
	return atomic_load(&run->pending) > 0 ||
	       atomic_load(&run->unfinished) > 0;
}

/* Is any thread other than the caller failed or unreached?  *UNREACHED
 * tells which kind.  CAPTURING: threads not run yet are fine. */
static bool find_problems(struct at_sweep *sw, bool capturing, bool *unreached)
{
	bool problem = sw->overflow;
	uint32_t k;

	*unreached = sw->overflow;
	for (k = 1; k < sw->used; k++) {
		switch (sw->run->slots[sw->rs->order[k]].state) {
		case ALLTHREADS_T_OK:
		case ALLTHREADS_T_ZOMBIE:
		case ALLTHREADS_T_EXITED:
			break;
		case ALLTHREADS_T_NOT_RUN: /* captured, not yet asked? */
			if (!capturing) {
				problem = true;
				*unreached = true;
			}
			break;
		case ALLTHREADS_T_FAILED:
			problem = true;
			break;
		default:
			problem = true;
			*unreached = true;
		}
	}
	return problem;
}

static void set_word(_Atomic int *word, uint32_t gen, int what)
{
	atomic_store_explicit(word, (int)(gen << 2) | what,
			      memory_order_release);
	at_futex_wake(word, INT_MAX);
}

/* Undo everywhere: the held threads and this one.  Returns the verdict. */
static enum allthreads_verdict undo_all(struct at_run *run, struct at_sweep *sw,
					struct at_slot *me)
{
	struct timespec limit = run->deadline;
	uint32_t k, left = 0, reported = 0;

	for (k = 1; k < sw->used; k++)
		if (AT_WORD_PHASE(atomic_load(
			    &run->slots[sw->rs->order[k]].word)) == AT_REPORTED)
			reported++;
	atomic_store(&run->unfinished, (int)reported);
	set_word(&run->release, run->gen, AT_UNDO);
	me->left = at_sigctx_undo(run->prog, me->nrun, run->res, run->saved);
	if (me->state == ALLTHREADS_T_OK)
		me->state = ALLTHREADS_T_UNDONE;
	at_ts_add_ns(&limit, 1000000000L);
	for (k = 0; k < 100000; k++) {
		int u = atomic_load(&run->unfinished);

		if (u <= 0 ||
		    at_futex_wait(&run->unfinished, u, &limit) == -ETIMEDOUT)
			break;
	}
	for (k = 0; k < sw->used; k++) {
		struct at_slot *s = &run->slots[sw->rs->order[k]];

		if (AT_WORD_PHASE(atomic_load(&s->word)) == AT_REPORTED)
			left += (uint32_t)s->nrun; /* never acknowledged */
		else
			left += (uint32_t)s->left;
	}
	return left ? ALLTHREADS_PARTIAL : ALLTHREADS_FAILED;
}

/* Give up on the threads still pending (so none of them can start now),
 * and wait for those that already started to report. */
static void call_off(struct at_run *run, struct at_sweep *sw)
{
	uint32_t k;

	for (k = 1; k < sw->used; k++) {
		struct at_slot *s = &run->slots[sw->rs->order[k]];
		uint64_t w = atomic_load(&s->word);
		uint64_t expect =
			AT_WORDG(run->gen, AT_WORD_TID(w), AT_PENDING);

		if (AT_WORD_PHASE(w) == AT_PENDING &&
		    atomic_compare_exchange_strong(
			    &s->word, &expect,
			    AT_WORDG(run->gen, AT_WORD_TID(w), AT_CANCELLED)))
			atomic_fetch_sub(&run->pending, 1);
	}
	straggle(run);
}

enum at_outcome {
	AT_DONE,
	AT_RETRY,   /* everything undone or never done: try again */
	AT_ABANDON, /* done, but a thread still runs its steps */
};

/*
 * One attempt: canary (first, or after the capture), reach every thread,
 * judge, release or undo.  A held or captured thread may hold a lock that
 * a thread with the signal blocked is waiting for (glibc blocks signals in
 * pthread_create's child and in thread exit): when a pending thread is
 * seen with the signal blocked, the attempt lets everybody go, unchanged,
 * and is tried again while the deadline allows.
 */
static enum at_outcome attempt(struct at_run *run, struct at_sweep *sw, int fd,
			       int n, enum allthreads_mismatch policy,
			       enum allthreads_verdict *verdict, int *retp)
{
	struct at_slot *me = add_self(run, sw);
	bool problem, unreached;
	int ret = 0;
	uint32_t k;

	*verdict = ALLTHREADS_AGREE;
	if (!run->capture) {
		ret = run_canary(run, me);
		if (ret < 0) { /* nothing else was touched */
			*verdict = me->left ? ALLTHREADS_PARTIAL :
					      ALLTHREADS_FAILED;
			*retp = ret;
			return AT_DONE;
		}
	}

	/* From the first signal to the last release: no allocation.  The
	 * requests' si_uid is read once here, not by a system call per
	 * thread on the way to every signal. */
	sw->uid = getuid();
	atomic_store_explicit(&run->active, 1, memory_order_release);
	reach_all(run, sw, fd, sw->rs->why, n);

	if (sw->stuck) {
		call_off(run, sw);
		if (run->capture)
			set_word(&run->go, run->gen, AT_ABORT);
		else if (undo_all(run, sw, me) == ALLTHREADS_PARTIAL)
			goto judge; /* something stays changed: report it */
		atomic_store_explicit(&run->active, 0, memory_order_release);
		if (has_stragglers(run))
			goto judge; /* no retry on a run a thread is still in */
		return AT_RETRY;
	}

	if (run->capture) {
		uint32_t captured = 0;

		problem = find_problems(sw, true, &unreached);
		if (!problem)
			ret = run_canary(run, me);
		if (problem || ret < 0) {
			/* Nobody changed: release the captured threads. */
			set_word(&run->go, run->gen, AT_ABORT);
			*verdict = me->left ? ALLTHREADS_PARTIAL :
					      ALLTHREADS_FAILED;
			if (!ret)
				ret = unreached ? -ETIMEDOUT : -EIO;
			atomic_store_explicit(&run->active, 0,
					      memory_order_release);
			*retp = ret;
			return AT_DONE;
		}
		for (k = 1; k < sw->used; k++)
			captured +=
				AT_WORD_PHASE(atomic_load(
					&run->slots[sw->rs->order[k]].word)) ==
				AT_CAPTURED;
		atomic_store(&run->pending, (int)captured);
		set_word(&run->go, run->gen, AT_GO);
		wait_pending(run, sw, sw->rs->why, &run->deadline);
	}

judge:
	/* Threads still running their steps are waited for (bounded) before
	 * anything is judged or undone. */
	if (atomic_load(&run->pending) > 0)
		straggle(run);
	if (run->settle)
		settle_check(run, sw);
	problem = find_problems(sw, false, &unreached);
	if (problem && policy == ALLTHREADS_MISMATCH_KILL)
		at_sys2(SYS_kill, sw->pid, SIGKILL);
	if (problem && run->hold && policy == ALLTHREADS_MISMATCH_REPORT &&
	    !sw->stuck) {
		*verdict = undo_all(run, sw, me);
	} else {
		if (run->hold && !sw->stuck)
			set_word(&run->release, run->gen, AT_COMMIT);
		if (problem || sw->stuck)
			*verdict = ALLTHREADS_PARTIAL;
	}
	if ((problem || sw->stuck) && policy != ALLTHREADS_MISMATCH_IGNORE)
		ret = sw->overflow ? -E2BIG : unreached ? -ETIMEDOUT : -EIO;
	*retp = ret;
	atomic_store_explicit(&run->active, 0, memory_order_release);
	return has_stragglers(run) ? AT_ABANDON : AT_DONE;
}

/* Ready the shared run state for a new attempt. */
static void begin_attempt(struct at_run *run, struct at_sweep *sw,
			  struct at_reserve *rs,
			  const struct timespec *deadline, bool last)
{
	memset(sw, 0, sizeof(*sw));
	sw->run = run;
	sw->rs = rs;
	sw->pid = at_process_pid();
	sw->sig = at_engine_signal();
	sw->self = (pid_t)at_sys0(SYS_gettid);
	sw->limit = rs->cap / 2;
	sw->last = last;
	run->gen = (run->gen + 1) & 0x0fffffff;
	run->slots = rs->table;
	run->mask = rs->cap - 1;
	run->res = rs->res;
	run->saved = rs->saved;
	run->canary = rs->res;
	run->deadline = *deadline;
	atomic_store(&run->pending, 0);
	atomic_store(&run->unfinished, 0);
	atomic_store(&run->go, (int)(run->gen << 2) | AT_HOLD);
	atomic_store(&run->release, (int)(run->gen << 2) | AT_HOLD);
}

static void end_attempt(struct at_sweep *sw, bool abandon)
{
	struct at_reserve *rs = sw->rs;
	struct at_slot *slots = sw->run->slots;
	uint32_t k;

	/* Remember the threads that were there, to signal them first next
	 * time (a hint only: each is checked by the kernel and the sweep). */
	rs->nknown = 0;
	for (k = 1; k < sw->used && !abandon; k++) {
		const struct at_slot *s = &slots[rs->order[k]];

		if (s->state != ALLTHREADS_T_EXITED &&
		    s->state != ALLTHREADS_T_ZOMBIE)
			rs->known[rs->nknown++] =
				AT_WORD_TID(atomic_load(&s->word));
	}
	if (abandon) {
		/* Left mapped for the thread still running its steps. */
		at_reserve_leave();
	} else {
		for (k = 0; k < sw->used; k++)
			atomic_store(&slots[rs->order[k]].word, 0);
	}
	for (k = 0; k < rs->why_end && k < sw->used; k++)
		rs->why[k][0] = 0;
	rs->why_end = 0;
}

/* The engine's own copy of PROG in RUN: a thread that outlives the call
 * (a step that blocks) must never read a program its caller freed. */
static int copy_prog(struct at_run *run, const struct at_step *steps,
		     unsigned n)
{
	if (!run->prog_copy) {
		run->prog_copy = malloc(sizeof(*run->prog_copy));
		if (!run->prog_copy)
			return -ENOMEM;
	}
	run->prog_copy->n = n;
	memcpy(run->prog_copy->steps, steps, n * sizeof(steps[0]));
	run->prog = run->prog_copy;
	run->nsteps = n;
	return 0;
}

/* A thread is still inside RUN: leave it all to that thread (the struct,
 * its program, table and arrays) and serve later broadcasts from a new
 * struct.  If there is no memory for one, later runs reuse this one, as
 * before; the thread can then at worst miscount them. */
static void retire(struct at_run *run)
{
	struct at_run *next = calloc(1, sizeof(*next));

	if (!next)
		return;
	next->gen = run->gen;
	atomic_store_explicit(&at_run_cur, next, memory_order_release);
}

int at_broadcast(const struct at_step *steps, unsigned nsteps,
		 unsigned timeout_ms, bool hold,
		 enum allthreads_mismatch policy,
		 struct allthreads_report **reportp, long *first)
{
	struct at_reserve *rs;
	struct at_run *run;
	enum allthreads_verdict verdict = ALLTHREADS_FAILED;
	enum at_outcome outcome;
	struct timespec deadline, t;
	struct at_sweep sw;
	int fd, ret, n = 0, tries;

	if (reportp)
		*reportp = NULL;
	at_process_init();
	if (getpid() != at_process_pid())
		return -ECHILD; /* a vfork(2) or raw clone child */
	at_ts_after_ms(&deadline,
		       timeout_ms ? timeout_ms : ALLTHREADS_DEFAULT_TIMEOUT_MS);

	ret = at_lock_take(&deadline);
	if (ret < 0)
		return ret;
	run = atomic_load(&at_run_cur);
	fd = at_tasks_dir(&n);
	if (fd < 0) {
		ret = fd;
		goto out_unlock;
	}
	ret = at_reserve((uint32_t)n, nsteps, &rs);
	if (ret < 0)
		goto out_unlock;
	ret = copy_prog(run, steps, nsteps);
	if (ret < 0)
		goto out_unlock;

	if (n <= 3) {
		/* The directory's link count is 2 + threads: this thread is
		 * the only one, and only it could start another.  The canary
		 * is the whole run. */
		struct at_slot *me;

		run->capture = run->hold = run->settle = false;
		begin_attempt(run, &sw, rs, &deadline, true);
		me = add_self(run, &sw);
		ret = run_canary(run, me);
		verdict = ret >= 0 ? ALLTHREADS_AGREE :
			  me->left ? ALLTHREADS_PARTIAL :
				     ALLTHREADS_FAILED;
		outcome = AT_DONE;
		goto out_report;
	}
	ret = at_process_install_handler();
	if (ret < 0)
		goto out_unlock;
	/* One-way steps: capture every thread first, so that a thread that
	 * cannot be reached is known before anything changes.  Undoable
	 * steps: hold every thread after its steps, to undo on failure. */
	run->capture = hold && count_undo(run->prog, false) > 0;
	run->hold = hold && count_undo(run->prog, true) > 0;
	run->settle = !run->hold && !run->capture;
	for (tries = 0; tries < 1000; tries++) {
		long pause = 100000L << (tries < 8 ? tries : 8);
		struct timespec next;

		at_ts_now(&t);
		next = t;
		at_ts_add_ns(&next, 2 * pause);
		begin_attempt(run, &sw, rs, &deadline,
			      !at_ts_before(&next, &deadline));
		outcome = attempt(run, &sw, fd, n, policy, &verdict, &ret);
		if (outcome != AT_RETRY)
			break;
		end_attempt(&sw, false);
		/* Let the thread that could not take the signal move on.  A
		 * raw sleep: the engine's own pause is no application wait
		 * for the helper's interposer (lib/helper/interpose-wait.c)
		 * to watch, and an EINTR only ends it early. */
		at_ts_add_ns(&t, pause);
		at_sys4(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &t,
			NULL);
	}
out_report:
	/* The calling thread's first result (allthreads_syscall's answer). */
	if (first)
		*first = run->slots[rs->order[0]].nrun > 0 ? run->res[0] : ret;
	/* Without memory for the report, the caller still learns from the
	 * return value what happened; the run is not reported as failed
	 * because of it. */
	build_report(run, &sw, rs->why, verdict, reportp);
	end_attempt(&sw, outcome == AT_ABANDON);
	run->res = run->saved = run->canary = NULL;
	if (outcome == AT_ABANDON)
		retire(run);
out_unlock:
	at_lock_release();
	return ret;
}

int at_engine_install(void)
{
	struct timespec deadline;
	int ret;

	at_process_init();
	at_ts_after_ms(&deadline, 10000);
	ret = at_lock_take(&deadline);
	if (ret < 0)
		return ret;
	ret = at_process_install_handler();
	at_lock_release();
	return ret;
}
