// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sigctx.c - the only code of liballthreads that runs in signal context.
 *
 * Everything here is async-signal-safe: raw system calls, atomics and plain
 * memory.  No malloc, no stdio, no locks, no libc call that could take one.
 * errno is saved and restored by the handler.  The lint test checks the
 * undefined symbols of this object against tests/sigctx-allowlist.txt.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "run.h"
#include "sysret.h"
#include "timespec.h"

static struct at_run first_run;
struct at_run *_Atomic at_run_cur = &first_run;
struct sigaction at_sigctx_prev;
_Atomic int at_sigctx_pid;
void *const at_sigctx_mark = (void *)&at_sigctx_mark;
_Atomic uint64_t at_sigctx_open;

/* The largest time a held thread waits for its release beyond the run's
 * deadline: the initiator is in this process and always releases; this only
 * keeps the wait bounded. */
#define AT_HOLD_GRACE_NS 2000000000L

int at_futex_wait(_Atomic int *addr, int val, const struct timespec *abs)
{
	return (int)at_sys6(SYS_futex, (long)addr,
			    FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val,
			    (long)abs, 0, FUTEX_BITSET_MATCH_ANY);
}

void at_futex_wake(_Atomic int *addr, int n)
{
	at_sys6(SYS_futex, (long)addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, 0, 0,
		0);
}

static long subst(long arg, long saved)
{
	return arg == ALLTHREADS_SAVED ? saved : arg;
}

/* Is step ST, which returned R where the calling thread got C, a fixed
 * point on this thread: not an error, and the same result when run again
 * (the call changed nothing: the thread already held what it sets)? */
static bool fixed_point(const struct at_step *st, long r, long c)
{
	if (st->judge != ALLTHREADS_JUDGE_EQUAL || at_is_error(r) ||
	    at_is_error(c))
		return false;
	return at_step_call(st) == r;
}

/* Is step I's save the very call step I - 1, a read-only step (an undo
 * with neither save nor call), has just made on this thread?  Then that
 * result is the saved value: nothing ran here in between, and a read
 * changes nothing.  The CLI's old value before a change is such a read
 * (cli/execute.c): one system call less on every thread. */
static bool save_is_previous(const struct allthreads_prog *prog, unsigned i)
{
	const struct at_step *st = &prog->steps[i], *p;
	unsigned a;

	if (!i)
		return false;
	p = &prog->steps[i - 1];
	if (!p->has_undo || p->has_save || p->undo_nr >= 0 ||
	    p->nr != st->save_nr)
		return false;
	for (a = 0; a < ALLTHREADS_MAX_ARGS; a++)
		if (p->args[a] != st->save_args[a])
			return false;
	return true;
}

int at_sigctx_run_steps(const struct allthreads_prog *prog, unsigned n,
			const long *canary, long *res, long *saved, int *failed,
			uint32_t *settled)
{
	unsigned i;

	*failed = -1;
	for (i = 0; i < n; i++) {
		const struct at_step *st = &prog->steps[i];

		if (st->has_save && save_is_previous(prog, i)) {
			saved[i] = res[i - 1];
		} else if (st->has_save) {
			const long *b = st->save_args;

			saved[i] = at_sys6(st->save_nr, b[0], b[1], b[2], b[3],
					   b[4], b[5]);
		}
		res[i] = at_step_call(st);
		if (!at_judge_ok(st->judge, res[i], canary, i)) {
			if (settled && canary &&
			    fixed_point(st, res[i], canary[i])) {
				(*settled)++;
				continue;
			}
			*failed = (int)i;
			return (int)i + 1;
		}
	}
	return (int)n;
}

int at_sigctx_undo(const struct allthreads_prog *prog, int nrun,
		   const long *res, const long *saved)
{
	int left = 0;
	int i;

	for (i = nrun - 1; i >= 0; i--) {
		const struct at_step *st = &prog->steps[i];
		long sv = st->has_save ? saved[i] : 0;
		const long *u = st->undo_args;
		long r;

		/* A step that returned an error changed nothing. */
		if (at_is_error(res[i]))
			continue;
		if (!st->has_undo || (st->has_save && at_is_error(sv))) {
			left++;
			continue;
		}
		if (st->undo_nr < 0) /* read-only step: nothing to undo */
			continue;
		r = at_sys6(st->undo_nr, subst(u[0], sv), subst(u[1], sv),
			    subst(u[2], sv), subst(u[3], sv), subst(u[4], sv),
			    subst(u[5], sv));
		if (at_is_error(r))
			left++;
	}
	return left;
}

static struct at_slot *lookup(struct at_run *run, pid_t tid)
{
	struct at_slot *slots = run->slots;
	uint32_t mask, i;
	bool found;

	if (!slots)
		return NULL;
	/* The mask stored in front of these very slots: a late handler may
	 * read run->slots of one run and run->mask of a later one. */
	mask = (uint32_t)atomic_load_explicit(&slots[-1].word,
					      memory_order_relaxed);
	i = at_slot_probe(slots, mask, tid, &found);
	return found ? &slots[i] : NULL;
}

/* Wait for the initiator's word (go or release) of run GEN; bounded by the
 * deadline plus a grace.  A word of another generation, or the time running
 * out, gives DFLT: the initiator never ends a run that needs this thread's
 * answer without giving it, so a missed word means the run moved on. */
static int await_word(struct at_run *run, _Atomic int *word, uint32_t gen,
		      int dflt)
{
	int held = (int)(gen << 2) | AT_HOLD;
	struct timespec limit = run->deadline;
	int r;

	at_ts_add_ns(&limit, AT_HOLD_GRACE_NS);
	for (;;) {
		r = atomic_load_explicit(word, memory_order_acquire);
		if (r != held)
			break;
		if (at_futex_wait(word, held, &limit) == -ETIMEDOUT)
			return dflt;
	}
	if ((r >> 2) != (int)gen)
		return dflt;
	return r & 3;
}

/* Both exchanges sequentially consistent, as wait_drained()'s mark and
 * look (broadcast.c): either it sees pending at 0, or this sees its mark
 * and wakes it. */
static void report_in(struct at_run *run)
{
	if (atomic_fetch_sub_explicit(&run->pending, 1, memory_order_seq_cst) ==
		    1 &&
	    atomic_exchange_explicit(&run->drained, AT_DRAINED,
				     memory_order_seq_cst) == AT_DRAIN_SLEEPING)
		at_futex_wake(&run->drained, 1);
}

/* Move slot S from the word FROM (which this thread owns) to PHASE, with
 * a compare-and-swap: if the run has moved on and the slot was cleared,
 * a late thread must not bring it back. */
static uint64_t set_phase(struct at_slot *s, uint64_t from, int phase)
{
	uint64_t to = AT_WORD_WITH(from, phase);

	atomic_compare_exchange_strong_explicit(&s->word, &from, to,
						memory_order_release,
						memory_order_relaxed);
	return to;
}

/* Runs on the served thread once it has taken slot S (PENDING -> RUNNING,
 * one compare-and-swap on the whole word: generation, TID and phase).
 * CLAIMED is the word it installed. */
static void serve_slot(struct at_run *run, struct at_slot *s, uint64_t claimed)
{
	uint32_t gen = AT_WORD_GEN(claimed);
	long *res, *saved;
	int failed, decision;
	bool hold;

	if (run->capture) {
		/* Captured: wait here, unchanged, until every thread is;
		 * then run the steps, or leave if the run was called off. */
		claimed = set_phase(s, claimed, AT_CAPTURED);
		report_in(run);
		if (await_word(run, &run->go, gen, AT_ABORT) != AT_GO)
			return;
	}
	res = run->res + (size_t)s->index * run->nsteps;
	saved = run->saved + (size_t)s->index * run->nsteps;
	s->nrun = at_sigctx_run_steps(run->prog, run->nsteps, run->canary, res,
				      saved, &failed,
				      run->settle ? &s->settled : NULL);
	s->failed_step = failed;
	s->state = failed >= 0 ? ALLTHREADS_T_FAILED : ALLTHREADS_T_OK;

	/* After this store the initiator may read the results; after the
	 * decrement, without hold, it may end the run: read nothing of it
	 * from then on. */
	hold = run->hold;
	claimed = set_phase(s, claimed, AT_REPORTED);
	report_in(run);
	if (!hold)
		return;

	decision = await_word(run, &run->release, gen, AT_COMMIT);
	if (decision != AT_UNDO)
		return;
	s->left = at_sigctx_undo(run->prog, s->nrun, res, saved);
	if (s->state == ALLTHREADS_T_OK)
		s->state = ALLTHREADS_T_UNDONE;
	set_phase(s, claimed, AT_FINISHED);
	if (atomic_fetch_sub_explicit(&run->unfinished, 1,
				      memory_order_acq_rel) == 1)
		at_futex_wake(&run->unfinished, 1);
}

static bool claim(struct at_slot *s, uint64_t w)
{
	if (AT_WORD_PHASE(w) != AT_PENDING)
		return false;
	return atomic_compare_exchange_strong_explicit(
		&s->word, &w, AT_WORD_WITH(w, AT_RUNNING), memory_order_acq_rel,
		memory_order_relaxed);
}

/* Every signal but the synchronous ones (a fault in a step must still
 * kill, not hang), as the kernel's 64-bit set. */
#define AT_SYNC_SIGS                                                           \
	((1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)) |                    \
	 (1ULL << (SIGILL - 1)) | (1ULL << (SIGFPE - 1)) |                     \
	 (1ULL << (SIGTRAP - 1)) | (1ULL << (SIGSYS - 1)))

/* RESTORE: put the old mask back before returning.  The handler does not:
 * its return (rt_sigreturn) restores the mask the kernel saved when the
 * signal came, and whatever arrived meanwhile is delivered then, on the
 * thread's own frame rather than nested in ours; one system call less on
 * every thread. */
static bool serve(struct at_run *run, pid_t tid, bool restore)
{
	uint64_t block, old = 0;
	struct at_slot *s;
	uint64_t w;

	if (!atomic_load_explicit(&run->active, memory_order_acquire))
		return false;
	s = lookup(run, tid);
	if (!s)
		return false;
	w = atomic_load_explicit(&s->word, memory_order_acquire);
	/* From the claim to the release no application handler may run on
	 * this thread (liballthreads(3): no application code runs while the
	 * threads disagree): everything else is blocked, and what arrives
	 * meanwhile stays pending, delivered once the old mask is back.
	 * Except the signals whose disposition discards them (at_sigctx_open):
	 * the kernel discards a signal when it is sent only if the thread it
	 * is sent to does not block it.  Blocked here, a SIGCHLD of this
	 * thread's child, or a kill() of the process while this is its main
	 * thread, would be queued for the process and wake another thread,
	 * whose poll or sigtimedwait then fails with EINTR although no
	 * handler runs (the helper could not hide it). */
	block = ~(AT_SYNC_SIGS |
		  atomic_load_explicit(&at_sigctx_open, memory_order_acquire));
	at_sys4(SYS_rt_sigprocmask, SIG_BLOCK, &block, &old, sizeof(block));
	if (!claim(s, w)) {
		at_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL,
			sizeof(old));
		return false;
	}
	serve_slot(run, s, AT_WORD_WITH(w, AT_RUNNING));
	if (restore)
		at_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL,
			sizeof(old));
	return true;
}

bool at_sigctx_serve(struct at_run *run, pid_t tid)
{
	return serve(run, tid, true);
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *p = &at_sigctx_prev;

	if (p->sa_flags & SA_SIGINFO) {
		if (p->sa_sigaction)
			p->sa_sigaction(sig, si, uc);
		return;
	}
	/* SIG_DFL for a real-time signal would terminate the process; a
	 * stray signal is not worth that.  SIG_IGN: nothing to do. */
	if (p->sa_handler == SIG_IGN || p->sa_handler == SIG_DFL)
		return;
	p->sa_handler(sig);
}

/* Runs with the engine's signal blocked (no nesting); other signals may
 * interrupt it, and nothing here takes a lock they could hold. */
void at_sigctx_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;

	/* The engine's requests carry its mark (see at_sigctx_mark); the
	 * slot is found by this thread's TID, so a forged mark can at most
	 * make a thread take its own pending slot early.  A late or duplicate
	 * request finds nothing to serve and is dropped.  Anything else, the
	 * application's own pthread_kill of this signal included, goes to
	 * the handler that was there before ours. */
	if (si && si->si_code == SI_QUEUE &&
	    si->si_value.sival_ptr == at_sigctx_mark &&
	    si->si_pid ==
		    atomic_load_explicit(&at_sigctx_pid, memory_order_relaxed))
		serve(atomic_load_explicit(&at_run_cur, memory_order_acquire),
		      (pid_t)at_sys0(SYS_gettid), false);
	else
		chain(sig, si, uc);
	errno = saved_errno;
}
