/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stub.h - the step program runner the ptrace route maps into a target.
 *
 * The route maps a fresh region in the target (never over its code):
 *
 *   base + 0                  the stub's code (read + execute), one copy
 *                             per slot (AT_STUB_SLOT)
 *   base + AT_STUB_CODE_SIZE  a struct at_stub_ctl per slot, then the step
 *                             table, results and saved values per slot,
 *                             pointer arguments' buffers and a stack per
 *                             slot (read + write)
 *
 * A thread started at base runs every step (its save call first), writes
 * each result, stops at the first step its judge rejects, then queues
 * itself a stop signal (ctl->signo, AT_STUB_SIGNALS) carrying the run's
 * cookie (to the ids the tracer wrote, when its pid namespace is the
 * target's, else to those getpid and gettid give): the tracer catches
 * that signal stop, reads the results and puts the thread's own
 * registers back.  If the tracer is gone, nothing catches
 * it (the signal is one the target does not handle, ignored by default)
 * and the stub puts the thread back itself: its own scheduling policy and
 * priority if the tracer raised them (sched), the saved signal mask, the
 * flags, every general register, a jump to the saved pc (fallback_regs,
 * with an interrupted call set up to be re-entered).
 */
#ifndef AT_STUB_H
#define AT_STUB_H

#include <stddef.h>
#include <stdint.h>

#define AT_STUB_CODE_SIZE 4096u
/*
 * The stub finds its control block AT_STUB_CODE_SIZE past its own first
 * byte.  Several threads run it at once, each from its own copy: copy I
 * at base + I * AT_STUB_SLOT, its control block AT_STUB_CODE_SIZE further
 * (the blocks AT_STUB_SLOT apart too), so no two threads share a byte of
 * the control, result or stack areas.  At most AT_STUB_SLOTS copies fit
 * the code page.
 */
#define AT_STUB_SLOT 512u
#define AT_STUB_SLOTS (AT_STUB_CODE_SIZE / AT_STUB_SLOT)
/* The stop signal, best first: one the target has no handler for (a
 * signal whose disposition is "ignore" by default, so that if no tracer
 * catches the stop the kernel drops it and no handler of the target ever
 * runs on the stub's behalf).  A target that catches all three gets no
 * stub (the two-stops-per-call path). */
#define AT_STUB_SIGNALS                                                        \
	{                                                                      \
		23 /* SIGURG */, 28 /* SIGWINCH */, 17 /* SIGCHLD */           \
	}

enum at_stub_judge {
	AT_STUB_ANY = 0,
	AT_STUB_SUCCESS = 1,
	AT_STUB_EQUAL = 2,
};

/* One step, as the stub reads it (offsets fixed: the stub's code uses
 * them). */
struct at_stub_step {
	int64_t nr;	      /* 0 */
	int64_t args[6];      /* 8 */
	int64_t save_nr;      /* 56; < 0: no save call */
	int64_t save_args[6]; /* 64 */
	int64_t judge;	      /* 112: enum at_stub_judge */
	int64_t expect;	      /* 120: for AT_STUB_EQUAL */
};

struct at_stub_ctl {
	uint64_t nsteps;	    /* 0 */
	uint64_t steps;		    /* 8: address of struct at_stub_step[] */
	uint64_t res;		    /* 16: address of int64_t[nsteps] */
	uint64_t saved;		    /* 24: address of int64_t[nsteps] */
	uint64_t sched;		    /* 32: nonzero, sched_attr is to go back */
	uint64_t ids;		    /* 40: tgid, tid << 32 to stop with, or 0 */
	uint64_t info;		    /* 48: address of the stop's siginfo */
	int64_t nrun;		    /* 56: out */
	int64_t failed;		    /* 64: out, -1 when none */
	uint64_t stack;		    /* 72: top of the stub's own stack */
	uint64_t mask;		    /* 80: the thread's own signal mask */
	uint64_t signo;		    /* 88: the stop signal (stub_signal()) */
	uint64_t fallback_regs[27]; /* 96: struct user_regs_struct order */
	uint8_t siginfo[128];	    /* 312 */
	uint8_t sched_attr[56];	    /* 440: the thread's own scheduling
				     * (struct sched_attr), see sched */
};

/* What the tracer reads back of the control block after a run: from its
 * start up to the stack, nrun and failed included. */
#define AT_STUB_CTL_RESULTS offsetof(struct at_stub_ctl, stack)

_Static_assert(sizeof(struct at_stub_step) == 128, "stub step layout");
_Static_assert(__builtin_offsetof(struct at_stub_ctl, fallback_regs) == 96,
	       "stub control layout");
_Static_assert(__builtin_offsetof(struct at_stub_ctl, sched_attr) == 440,
	       "stub control layout");
_Static_assert(sizeof(struct at_stub_ctl) == 496, "stub control size");
_Static_assert(sizeof(struct at_stub_ctl) <= AT_STUB_SLOT,
	       "a control block fits its slot");

#if defined(__x86_64__) && !defined(__ILP32__)
/* The stub's bytes, in liballthreads' read-only data (never run here). */
extern const unsigned char at_stub_x86_64_begin[], at_stub_x86_64_end[];
/* Just after the stub's own stop call: a SIGURG stop there is the stub's,
 * even when its signal merged with one of the target's that was pending. */
extern const unsigned char at_stub_x86_64_stopped[];
#endif

#endif /* AT_STUB_H */
