// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-steps.c - a step program on one stopped thread of another
 * process, for the ptrace route (ptrace-run.c): by the stub (stub.h) in
 * one visit, its table written to the scratch region, the thread started
 * in a slot of its own and collected when it stops at the end (several
 * threads' visits may be under way at once: pt_steps_start(),
 * pt_steps_event(), pt_steps_take_back()); or, where there is no stub,
 * one injected call a step (inject.c).  Either way the thread's own
 * registers go back after (pt_restore()).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "compiler.h"
#include "config.h"
#include "inject.h"
#include "proctext.h"
#include "stub.h"
#include "sysret.h"
#include "timespec.h"

#ifndef AT_ARCH_NONE

/* --- a program on one thread --------------------------------------------------------- */

/* The call NR(ARGS) as pt_inject() takes it. */
static struct pt_call call_of(long nr, const long *args)
{
	struct pt_call call = { .nr = nr };

	memcpy(call.a, args, sizeof(call.a));
	return call;
}

static int run_injected(struct pt_ctx *c, struct pt_thread *t,
			const long *canary)
{
	unsigned i;
	int err;

	t->nrun = 0;
	t->failed = -1;
	for (i = 0; i < c->nsteps; i++) {
		const struct at_step *s = &c->steps[i];
		struct pt_call call;

		if (s->has_save) {
			call = call_of(s->save_nr, s->save_args);
			err = pt_inject(c, t, &call, &t->sav[i]);
			if (err)
				return err;
		}
		call = call_of(s->nr, s->args);
		err = pt_inject(c, t, &call, &t->res[i]);
		if (err)
			return err;
		t->nrun = (int)i + 1;
		if (!at_judge_ok(s->judge, t->res[i], canary, i)) {
			t->failed = (int)i;
			break;
		}
	}
	return 0;
}

#if AT_ARCH_HAS_STUB
/* Continue T in its stub: at most 64 times a run. */
static int stub_cont(struct pt_thread *t)
{
	if (t->conts++ >= 64)
		return -EPROTO;
	if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
		return -errno;
	return 0;
}

/* CTL into the target at AT: what the stub reads, up to the stop's
 * siginfo (written once, ptrace-scratch.c), and the scheduling to put
 * back after it; one call. */
static int write_ctl(struct pt_ctx *c, unsigned long at,
		     const struct at_stub_ctl *ctl)
{
	const size_t head = __builtin_offsetof(struct at_stub_ctl, siginfo);
	const size_t tail = __builtin_offsetof(struct at_stub_ctl, sched_attr);
	struct iovec l[2] = { { (void *)ctl, head },
			      { (void *)ctl->sched_attr,
				sizeof(ctl->sched_attr) } };
	struct iovec r[2] = { { (void *)at, head },
			      { (void *)(at + tail),
				sizeof(ctl->sched_attr) } };
	unsigned n = ctl->sched ? 2 : 1;

	if (process_vm_writev(c->mempid, l, n, r, n, 0) ==
	    (ssize_t)(head + (n > 1 ? sizeof(ctl->sched_attr) : 0)))
		return 0;
	if (pt_mem_write(c, at, ctl, head))
		return -EFAULT;
	return n > 1 ? pt_mem_write(c, at + tail, ctl->sched_attr,
				    sizeof(ctl->sched_attr)) :
		       0;
}

/* Start T at slot S's copy of the stub with CTL (nsteps, steps, res,
 * saved set by the caller). */
static int stub_begin(struct pt_ctx *c, struct pt_thread *t, unsigned s,
		      struct at_stub_ctl *ctl)
{
	struct at_regs r = t->saved, fb;
	uint64_t mask = c->inj_mask & ~(1ull << (c->stub_sig - 1));
	struct pt_slot at;
	bool raise;
	int err;

	pt_scratch_slot(c, s, &at);
	at_arch_fallback(&t->saved, &fb);
	ctl->info = at.ctl + __builtin_offsetof(struct at_stub_ctl, siginfo);
	ctl->stack = at.stack;
	ctl->mask = t->mask;
	ctl->signo = (uint64_t)c->stub_sig;
	/* Two system calls fewer in the stub, where the numbers are its. */
	ctl->ids = c->same_pidns ? (uint64_t)(uint32_t)c->pid |
					   (uint64_t)(uint32_t)t->tid << 32 :
				   0;
	ctl->nrun = 0;
	ctl->failed = -1;
	memcpy(ctl->fallback_regs, &fb.r, sizeof(ctl->fallback_regs));
	raise = pt_raise_prepare(c, t, ctl);
	err = write_ctl(c, at.ctl, ctl);
	if (err)
		return err;
	/* The registers first, then the mask (see pt_restore()). */
	t->touched = true;
	at_arch_prepare_stub(&r, at.code);
	err = at_arch_set(t->tid, &r);
	if (err)
		return err;
	err = pt_set_our_mask(c, t, &mask);
	if (err)
		return err;
	if (raise)
		pt_raise(c, t);
	t->conts = 0;
	err = stub_cont(t);
#if AT_TEST_HOOKS
	if (!err && c->abandon && ++c->nstub == c->abandon)
		_exit(99); /* the test hook: see struct pt_ctx */
#endif
	if (!err)
		pt_test_stall(c);
	return err;
}

/* What T's stop ST says of its run in slot S: 0 the stub's own stop (its
 * results are in), 1 a stop to continue it from, or -errno. */
static int stub_stopped(struct pt_ctx *c, struct pt_thread *t, unsigned s,
			int st)
{
	struct pt_slot at;
	struct at_regs r;
	siginfo_t si;
	int sig;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		pt_died(t, 0, st);
		return -ESRCH;
	}
	if (!WIFSTOPPED(st) || (st >> 16) != 0)
		return 1; /* a group stop re-reported */
	sig = WSTOPSIG(st);
	t->at_exit = false; /* a signal stop: raw registers are safe */
	if (sig == c->stub_sig) {
		if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) < 0)
			return -errno;
		if (si.si_code == SI_QUEUE &&
		    (uintptr_t)si.si_value.sival_ptr == (uintptr_t)c->cookie)
			return 0;
		/* The target's own signal of that number: keep it to give
		 * back at the release (one: a second would have merged with
		 * it). */
		if (!t->has_stash) {
			t->stash = si;
			t->has_stash = true;
		}
		/* Taken on the way out of the stub's own stop call, ours
		 * merged into it: this is the stub's stop. */
		pt_scratch_slot(c, s, &at);
		if (at_arch_get(t->tid, &r) == 0 &&
		    r.r.rip ==
			    at.code + (unsigned long)(at_stub_x86_64_stopped -
						      at_stub_x86_64_begin))
			return 0;
		return 1;
	}
	if (pt_is_forced(sig)) {
		snprintf(t->why, sizeof(t->why),
			 "the step program raised signal %d", sig);
		return -EFAULT;
	}
	return 1; /* everything else is blocked while it works */
}

/*
 * Past the deadline: the threads TS (in slot I each, NULL for none) still
 * at work in the stub, interrupted and waited for (a second more, once for
 * all; the deadline is put back after, so nothing new starts).  RET[I]:
 * 0 when T's stub had finished after all, else -errno (-ETIMEDOUT with
 * why).
 */
static void take_back(struct pt_ctx *c, struct pt_thread **ts, unsigned n,
		      int *ret)
{
	struct timespec was = c->deadline;
	unsigned i;
	int st, r;

	for (i = 0; i < n; i++)
		if (ts[i])
			ptrace(PTRACE_INTERRUPT, ts[i]->tid, 0, 0);
	c->deadline.tv_sec += 1;
	for (i = 0; i < n; i++) {
		struct pt_thread *t = ts[i];

		if (!t)
			continue;
		r = pt_wait(c, t->tid, &st);
		if (r == 0) {
			r = stub_stopped(c, t, i, st);
		} else if (r != -ETIMEDOUT) {
			pt_died(t, r, 0);
			r = -ESRCH;
		}
		if (r == 1 || r == -ETIMEDOUT) {
			snprintf(t->why, sizeof(t->why),
				 "an injected call did not return");
			r = -ETIMEDOUT;
		}
		ret[i] = r;
	}
	if (at_ts_before(&was, &c->deadline))
		c->deadline = was;
}

/* T's run in slot S to its end: 0 at the stub's own stop, or -errno. */
static int stub_wait(struct pt_ctx *c, struct pt_thread *t, unsigned s)
{
	int st, err;

	for (;;) {
		err = pt_wait(c, t->tid, &st);
		if (err == -ETIMEDOUT) {
			struct pt_thread *one[AT_STUB_SLOTS] = { NULL };
			int ret[AT_STUB_SLOTS];

			one[s] = t;
			take_back(c, one, s + 1, ret);
			return ret[s];
		}
		if (err < 0) {
			pt_died(t, err, 0);
			return -ESRCH;
		}
		err = stub_stopped(c, t, s, st);
		if (err != 1)
			return err;
		err = stub_cont(t);
		if (err)
			return err;
	}
}

/* Start T at the stub with CTL (slot 0) and wait for its stop; the stub's
 * results are then in the target's memory. */
static int stub_go(struct pt_ctx *c, struct pt_thread *t,
		   struct at_stub_ctl *ctl)
{
	int err = stub_begin(c, t, 0, ctl);

	return err ? err : stub_wait(c, t, 0);
}

static void stub_step(struct at_stub_step *d, const struct at_step *s,
		      const long *canary, unsigned i)
{
	unsigned k;

	memset(d, 0, sizeof(*d));
	d->nr = s->nr;
	d->save_nr = s->has_save ? s->save_nr : -1;
	for (k = 0; k < ALLTHREADS_MAX_ARGS; k++) {
		d->args[k] = s->args[k];
		d->save_args[k] = s->save_args[k];
	}
	switch (s->judge) {
	case ALLTHREADS_JUDGE_ANY:
		d->judge = AT_STUB_ANY;
		break;
	case ALLTHREADS_JUDGE_SUCCESS:
		d->judge = AT_STUB_SUCCESS;
		break;
	default:
		d->judge = canary ? AT_STUB_EQUAL : AT_STUB_SUCCESS;
		d->expect = canary ? canary[i] : 0;
	}
}

static int write_table(struct pt_ctx *c, const long *canary)
{
	struct at_stub_step *tab = calloc(c->nsteps, sizeof(*tab));
	unsigned i;
	int err;

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < c->nsteps; i++)
		stub_step(&tab[i], &c->steps[i], canary, i);
	err = pt_mem_write(c, c->steps_at, tab, c->nsteps * sizeof(*tab));
	free(tab);
	return err;
}

static int read_results(struct pt_ctx *c, unsigned long at, unsigned long res,
			unsigned long sav, long *out_res, long *out_sav,
			unsigned n, struct at_stub_ctl *ctl)
{
	struct iovec l[3] = { { ctl, AT_STUB_CTL_RESULTS },
			      { out_res, n * sizeof(int64_t) },
			      { out_sav, out_sav ? n * sizeof(int64_t) : 0 } };
	struct iovec r[3] = { { (void *)at, AT_STUB_CTL_RESULTS },
			      { (void *)res, n * sizeof(int64_t) },
			      { (void *)sav,
				out_sav ? n * sizeof(int64_t) : 0 } };
	size_t want = AT_STUB_CTL_RESULTS + n * sizeof(int64_t) +
		      (out_sav ? n * sizeof(int64_t) : 0);

	if (process_vm_readv(c->mempid, l, out_sav ? 3 : 2, r, out_sav ? 3 : 2,
			     0) == (ssize_t)want)
		return 0;
	if (pt_mem_read(c, at, ctl, AT_STUB_CTL_RESULTS) ||
	    pt_mem_read(c, res, out_res, n * sizeof(int64_t)))
		return -EFAULT;
	if (out_sav && pt_mem_read(c, sav, out_sav, n * sizeof(int64_t)))
		return -EFAULT;
	return 0;
}

int pt_steps_start(struct pt_ctx *c, struct pt_thread *t, unsigned s,
		   const long *canary)
{
	struct at_stub_ctl ctl;
	struct pt_slot at;
	int want = canary ? 2 : 1, err = 0;

	t->ran = true;
	/* The table changes only between the canary and the rest: never
	 * under a thread at work. */
	if (c->table != want) {
		err = write_table(c, canary);
		if (!err)
			c->table = want;
	}
	if (!err) {
		pt_scratch_slot(c, s, &at);
		memset(&ctl, 0, sizeof(ctl));
		ctl.nsteps = c->nsteps;
		ctl.steps = c->steps_at;
		ctl.res = at.res;
		ctl.saved = at.sav;
		err = stub_begin(c, t, s, &ctl);
	}
	if (err)
		pt_restore(c, t);
	return err;
}

/* T's run in slot S ended with ERR (0: at the stub's own stop): its
 * results read, its registers and mask back. */
static int steps_end(struct pt_ctx *c, struct pt_thread *t, unsigned s, int err)
{
	struct at_stub_ctl ctl;
	struct pt_slot at;

	pt_scratch_slot(c, s, &at);
	if (!err)
		err = read_results(c, at.ctl, at.res, at.sav, t->res, t->sav,
				   c->nsteps, &ctl);
	if (!err && (ctl.nrun < 0 || ctl.nrun > (int64_t)c->nsteps ||
		     ctl.failed >= ctl.nrun))
		err = -EPROTO;
	if (!err) {
		t->nrun = (int)ctl.nrun;
		t->failed = (int)ctl.failed;
	}
	if (pt_restore(c, t) < 0 && !err)
		err = -EIO;
	return err;
}

int pt_steps_event(struct pt_ctx *c, struct pt_thread *t, unsigned s, int err,
		   int st)
{
	if (err) {
		pt_died(t, err, 0);
		return steps_end(c, t, s, -ESRCH);
	}
	err = stub_stopped(c, t, s, st);
	if (err == 1) {
		err = stub_cont(t);
		if (!err)
			return 1;
	}
	return steps_end(c, t, s, err);
}

int pt_steps_take_back(struct pt_ctx *c, struct pt_thread **t, unsigned n,
		       int *ret)
{
	unsigned i;
	int any = 0;

	take_back(c, t, n, ret);
	for (i = 0; i < n; i++)
		if (t[i]) {
			ret[i] = steps_end(c, t[i], i, ret[i]);
			any = any ? any : ret[i];
		}
	return any;
}

static int run_stub(struct pt_ctx *c, struct pt_thread *t, const long *canary)
{
	int err = pt_steps_start(c, t, 0, canary);

	return err ? err : steps_end(c, t, 0, stub_wait(c, t, 0));
}
#endif

int pt_run_steps(struct pt_ctx *c, struct pt_thread *t, const long *canary)
{
	int err;

	t->ran = true;
#if AT_ARCH_HAS_STUB
	if (c->use_stub)
		err = run_stub(c, t, canary);
	else
#endif
		err = run_injected(c, t, canary);
	if (pt_restore(c, t) < 0 && !err)
		err = -EIO;
	return err;
}

int pt_run_calls(struct pt_ctx *c, struct pt_thread *t,
		 const struct pt_call *calls, unsigned n, long *res)
{
	unsigned i;
	int err = 0;

	if (!n)
		return 0;
#if AT_ARCH_HAS_STUB
	if (c->use_stub) {
		struct at_stub_step *tab = calloc(n, sizeof(*tab));
		struct at_stub_ctl ctl;

		if (!tab)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			tab[i].nr = calls[i].nr;
			memcpy(tab[i].args, calls[i].a, sizeof(tab[i].args));
			tab[i].save_nr = -1;
			tab[i].judge = AT_STUB_ANY;
		}
		err = pt_mem_write(c, c->undo_at, tab, n * sizeof(*tab));
		free(tab);
		if (!err) {
			memset(&ctl, 0, sizeof(ctl));
			ctl.nsteps = n;
			ctl.steps = c->undo_at;
			ctl.res = c->ures_at;
			ctl.saved = c->sav_at;
			err = stub_go(c, t, &ctl);
		}
		if (!err)
			err = read_results(c, c->ctl, c->ures_at, 0, res, NULL,
					   n, &ctl);
		if (!err && ctl.nrun != (int64_t)n)
			err = -EPROTO;
		if (pt_restore(c, t) < 0 && !err)
			err = -EIO;
		return err;
	}
#endif
	for (i = 0; i < n && !err; i++)
		err = pt_inject(c, t, &calls[i], &res[i]);
	if (pt_restore(c, t) < 0 && !err)
		err = -EIO;
	return err;
}

#endif /* AT_ARCH_NONE */
