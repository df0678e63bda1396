/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run.h - the state of one broadcast, shared by the initiator (broadcast.c)
 * and the threads that serve it (sigctx.c).
 *
 * Lifetime: one struct at_run serves every broadcast (at_run_cur), and is
 * never freed, so a late or duplicate signal can always look at it.  Slot
 * tables and result arrays are never unmapped while a run may use them.
 * When a run ends with a thread still inside it (a step or an undo that
 * blocks past the deadline), that run is retired whole (its struct, its
 * copy of the program, its table and arrays stay for that thread) and a
 * new struct serves the next broadcast: a straggler can only ever touch
 * the run it belongs to.
 */
#ifndef AT_RUN_H
#define AT_RUN_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "engine.h"
#include "step.h"

/* Slot phases.  at_slot.word holds the run's generation (bits 32-63), the
 * TID (bits 8-31; pid_max is at most 2^22) and the phase (bits 0-7), so
 * one compare-and-swap checks all three: a stale or duplicate signal can
 * never take a slot of another run or another thread. */
enum at_phase {
	AT_EMPTY = 0,
	AT_PENDING = 1,	  /* listed; signal sent or about to be */
	AT_RUNNING = 2,	  /* the thread took it and runs the steps */
	AT_REPORTED = 3,  /* results written; (hold) waiting for release */
	AT_CANCELLED = 4, /* the initiator gave up on it; it never ran */
	AT_FINISHED = 5,  /* undo done and acknowledged */
	AT_SELF = 6,	  /* the calling thread */
	AT_CAPTURED = 7,  /* (capture) parked, unchanged, waiting for go */
};

#define AT_WORDG(gen, tid, phase)                                              \
	(((uint64_t)(uint32_t)(gen) << 32) |                                   \
	 ((uint64_t)((uint32_t)(tid)&0xffffffu) << 8) | (uint64_t)(phase))
/* A TID no thread has (pid_max is at most 2^22). */
#define AT_NO_TID ((pid_t)0xffffff)
#define AT_WORD_TID(w) ((pid_t)(((w) >> 8) & 0xffffffu))
#define AT_WORD_PHASE(w) ((int)((w)&0xffu))
#define AT_WORD_GEN(w) ((uint32_t)((w) >> 32))
#define AT_WORD_WITH(w, phase) (((w) & ~(uint64_t)0xff) | (uint64_t)(phase))

struct at_slot {
	_Atomic uint64_t word;
	int state;	  /* enum allthreads_thread_state */
	int nrun;	  /* steps run (the failed one included) */
	int failed_step;  /* -1 when none */
	int left;	  /* steps still in force after an undo */
	uint32_t index;	  /* position in the report (discovery order) */
	bool unqueued;	  /* its signal could not be queued yet (EAGAIN) */
	uint32_t settled; /* (settle) EQUAL steps accepted as a fixed point */
};

/* run->drained.  The reporter that takes pending to 0 swaps in
 * AT_DRAINED and makes the futex call only if it took AT_DRAIN_SLEEPING:
 * while the initiator still sends, each woken thread preempts it and
 * takes pending to 0 at every report, and a wake-up for nobody is one
 * system call more on every thread. */
enum at_drained {
	AT_DRAIN_AWAKE = 0,    /* the initiator is not waiting */
	AT_DRAINED = 1,	       /* pending reached 0 */
	AT_DRAIN_SLEEPING = 2, /* the initiator sleeps until AT_DRAINED */
};

/* Release decisions, the low 2 bits of at_run.release; the run's
 * generation above them. */
enum at_release {
	AT_HOLD = 0,
	AT_COMMIT = 1,
	AT_UNDO = 2,
	AT_GO = AT_COMMIT,
	AT_ABORT = AT_UNDO,
};

/* TIDs a block of the slot table holds side by side (see at_slot_probe()). */
#define AT_SLOT_BLOCK 64u

/* Where TID's slot is in SLOTS (MASK + 1 of them, open addressing), or the
 * empty slot where it would go; *FOUND tells which.  Used by the initiator
 * to insert and by the handler to look up.  A process's threads mostly
 * have neighbouring TIDs (made one after another): those share a block of
 * AT_SLOT_BLOCK slots, so a run writes a few pages of the table rather
 * than one page per thread (the table is reserved several times larger
 * than the process, and a first run pays a page fault for every page it
 * touches: some 100 at 1,000 threads with slots spread one by one).  The
 * blocks themselves are spread by a multiplicative hash. */
static inline uint32_t at_slot_probe(struct at_slot *slots, uint32_t mask,
				     pid_t tid, bool *found)
{
	uint32_t t = (uint32_t)tid;
	uint32_t i = ((t / AT_SLOT_BLOCK) * 2654435761u * AT_SLOT_BLOCK +
		      t % AT_SLOT_BLOCK) &
		     mask;
	uint32_t n;

	*found = false;
	for (n = 0; n <= mask; n++, i = (i + 1) & mask) {
		uint64_t w = atomic_load_explicit(&slots[i].word,
						  memory_order_acquire);

		if (w == 0)
			break;
		if (AT_WORD_TID(w) == tid) {
			*found = true;
			break;
		}
	}
	return i;
}

struct at_run {
	/* Set before any slot is published; read-only while the run lasts. */
	const struct allthreads_prog *prog; /* = prog_copy */
	struct allthreads_prog *prog_copy;  /* the engine's own copy */
	unsigned nsteps;
	bool hold;    /* threads wait for release after their steps */
	bool capture; /* threads wait for go before their steps */
	/* Released threads may start new ones while the run goes on (no hold,
	 * no capture): a new thread inherits the new state from its creator,
	 * so an EQUAL step that returns a previous value (setfsuid) returns
	 * something else there.  Such a step is run once more on that
	 * thread; if it returns the same again (a fixed point: the call
	 * changed nothing), the thread goes on and the initiator accepts it
	 * when the same step, run once more on the calling thread, returns
	 * that value too (see settle_check() in broadcast.c). */
	bool settle;
	uint32_t gen;
	long *canary; /* the calling thread's results, nsteps */
	long *res;    /* nsteps per slot index */
	long *saved;  /* nsteps per slot index */

	struct at_slot *slots; /* open addressing by TID */
	uint32_t mask;	       /* capacity - 1 */

	_Atomic int pending;	/* slots not yet reported or cancelled */
	_Atomic int drained;	/* futex: enum at_drained */
	_Atomic int go;		/* futex: gen << 2 | AT_HOLD, AT_GO, AT_ABORT */
	_Atomic int release;	/* futex: gen << 2 | enum at_release */
	_Atomic int unfinished; /* futex: undo acknowledgements still due */
	_Atomic int active;	/* 1 while slots may be served */
	struct timespec deadline; /* CLOCK_MONOTONIC */
};

extern struct at_run *_Atomic at_run_cur;

/* How deep the calling thread is in allthreads_run()/allthreads_syscall()
 * (api.c): a fork() from a signal handler that interrupted such a call
 * must not wait for the engine's lock that call may hold. */
extern __thread int at_in_broadcast __attribute__((tls_model("initial-exec")));

/* Make step ST's call on the calling thread. */
static inline long at_step_call(const struct at_step *st)
{
	const long *a = st->args;

	return at_sys6(st->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* sigctx.c: the only code that runs in signal context. */
void at_sigctx_handler(int sig, siginfo_t *si, void *uc);
/* Serve the current run on the calling thread (TID) if its slot is pending;
 * false if it had none to serve.  Every signal but the synchronous ones is
 * blocked while it serves.  Called by the handler and by waiters (outside
 * signal context). */
bool at_sigctx_serve(struct at_run *run, pid_t tid);
/* The engine's requests are queued with rt_tgsigqueueinfo, si_code
 * SI_QUEUE and this value (an address in this library), so the handler
 * tells them from the application's own uses of the signal. */
extern void *const at_sigctx_mark;
/* Our pid, for the handler's check of si_pid (set at load and in a fork
 * child). */
extern _Atomic int at_sigctx_pid;
/* Run steps [0, n) of PROG on the calling thread, writing results to RES and
 * saved values to SAVED; returns how many ran, *FAILED set to the failing
 * step or -1.  CANARY, if not NULL, is what EQUAL steps must match.
 * SETTLED, if not NULL, allows an EQUAL mismatch that is a fixed point (see
 * at_run.settle) and counts such steps. */
int at_sigctx_run_steps(const struct allthreads_prog *prog, unsigned n,
			const long *canary, long *res, long *saved, int *failed,
			uint32_t *settled);
/* Undo the first NRUN steps in reverse order (a step that returned an
 * error, the failed one, changed nothing); returns how many steps stay in
 * force. */
int at_sigctx_undo(const struct allthreads_prog *prog, int nrun,
		   const long *res, const long *saved);
/* Signals (the kernel's 64-bit set: bit SIG - 1) whose disposition, as far
 * as the helper knows, discards them: at_sigctx_serve() leaves them
 * unblocked.  0 (block them all) without the helper, which alone sees
 * every change of a disposition (at_engine_set_discarded()). */
extern _Atomic uint64_t at_sigctx_open;
/* The handler that was installed before ours, for chaining. */
extern struct sigaction at_sigctx_prev;

/* futex helpers (raw, usable in signal context) */
int at_futex_wait(_Atomic int *addr, int val, const struct timespec *abs);
void at_futex_wake(_Atomic int *addr, int n);

/* broadcast.c (the rest of the initiator: broadcast.h) */
/* *FIRST (if not NULL) gets the calling thread's result of step 0, or the
 * return value when it did not run it. */
int at_broadcast(const struct at_step *steps, unsigned nsteps,
		 unsigned timeout_ms, bool hold,
		 enum allthreads_mismatch policy,
		 struct allthreads_report **reportp, long *first);
/* process.c: the engine's signal. */
int at_engine_signal(void);

#endif /* AT_RUN_H */
