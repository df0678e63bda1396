/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inject.h - what lib/target/ptrace.c (seizing, stopping, judging, releasing)
 * and lib/target/inject.c (running calls in a stopped thread's context) share.
 */
#ifndef AT_INJECT_H
#define AT_INJECT_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "allthreads.h"
#include "arch.h"

#ifndef AT_ARCH_NONE

enum pt_state {
	PT_SEIZED = 1,	/* seized, interrupt asked, no stop seen yet */
	PT_STOPPED = 2, /* in a ptrace stop we may work from */
	PT_GONE = 3,	/* exited */
	PT_ZOMBIE = 4,	/* a zombie (an exited leader): never seized */
	PT_WORKER = 5,	/* io_uring / vhost worker: never seized */
};

/* One call with its arguments as the target sees them (pointers already
 * moved into the scratch region). */
struct pt_call {
	long nr;
	long a[6];
};

struct pt_step {
	struct pt_call call, save, undo;
	bool has_save, has_undo;
	int judge; /* enum allthreads_judge */
};

/* What a thread's stop says about a call our interrupt cut short
 * (ptrace-restart.c). */
struct pt_resume {
	bool on;	       /* resumed at release */
	long nr;	       /* the call */
	uint64_t seen_ns;      /* CLOCK_MONOTONIC when the stop was seen */
	bool has_first;	       /* aarch64: the first argument, which x0 */
	unsigned long first;   /* lost to the result (/proc/.../syscall) */
	unsigned long peek[7]; /* aarch64: arguments 1 to 5, sp, pc */
};

struct pt_thread {
	pid_t tid;
	int st;		 /* enum pt_state */
	int rstate;	 /* enum allthreads_thread_state, for the report */
	bool group_stop; /* stopped by job control */
	bool captured;	 /* saved registers and mask are valid */
	bool touched;	 /* registers or mask differ from the saved ones */
	bool ran;	 /* ran (part of) the program */
	bool pinned;	 /* affinity changed, saved in cpus */
	bool has_stash;	 /* a SIGURG of the target's own, to give back */
	bool at_exit;	 /* stopped at a syscall-exit stop (not a signal
			  * or interrupt stop) */
	bool died;	 /* ended while it ran our calls (why says how) */
	bool mask_set;	 /* PTRACE_SETSIGMASK was used on it */
	bool tmp_on;	 /* stopped in a call that waits with a temporary
			  * mask (tmp), its own mask (mask) kept aside */
	int nrun, failed, left;
	struct at_regs saved;
	uint64_t mask, tmp;
	siginfo_t stash;
	cpu_set_t cpus;
	struct pt_resume resume; /* ptrace-restart.c */
	long *res, *sav;
	char why[96];
};

struct pt_ctx;

/*
 * Work of a caller's own around the program, on one stopped thread T with
 * its registers captured (ptrace-landlock.c builds a ruleset this way):
 * BEFORE runs once every thread is stopped and the scratch region is
 * mapped, before any step runs anywhere; DATA_LEN bytes of the region at
 * c->hook_at are its own.  It may change the steps' arguments.  If it
 * fails (-errno, c->why set), it has undone its own work in the target
 * and no step runs anywhere; no report is made.  AFTER runs, once BEFORE
 * succeeded, when every thread has run or been undone, before the scratch
 * region goes; T is then any stopped thread.
 */
struct pt_hook {
	size_t data_len;
	int (*before)(struct pt_ctx *c, struct pt_thread *t, void *arg);
	void (*after)(struct pt_ctx *c, struct pt_thread *t, void *arg);
	void *arg;
};

struct pt_ctx {
	pid_t pid;
	pid_t self; /* the tracer thread */
	int pidfd;
	pid_t mempid; /* a live thread, for the memory (a zombie leader has
		       * none) */
	int memfd;    /* its /proc/PID/task/TID/mem */
	unsigned nsteps;
	struct pt_step *steps;
	struct timespec deadline;
	struct timespec letgo; /* past the deadline: undo, unmap, detach by
				* then (ptrace.c, letgo()) */
	unsigned long opts;    /* PTRACE_SETOPTIONS */

	struct pt_thread *t;
	unsigned n, cap;
	uint32_t *hash; /* tid -> index + 1, open addressing */
	uint32_t hmask;

	/* the scratch region in the target */
	bool use_stub;
	unsigned long base;
	size_t size;
	unsigned long ctl, steps_at, undo_at, res_at, sav_at, ures_at, data_at,
		fprog_at, stack_top;
	unsigned char *data; /* the pointer arguments' bytes, as the target
			      * sees them (pt_relocate()) */
	size_t data_len;
	void *req; /* the program, serialised (at_ctl_serialize()) */
	uint64_t cookie;
	const struct pt_hook *hook; /* NULL: none */
	unsigned long hook_at;	    /* its bytes in the region */
	/* Tests only, in a tracer process of its own: end that process
	 * (_exit) just after starting the stub on the N-th thread, so the
	 * thread finds no tracer at its stop (ALLTHREADS_PTRACE_TEST_ABANDON). */
	unsigned abandon, nstub;
	int stub_sig;	   /* the stub's stop signal (AT_STUB_SIGNALS) */
	uint64_t inj_mask; /* the mask while a thread runs our calls */
	int table; /* the stub's step table: 0 none, 1 the canary's, 2 the
		    * others' (EQUAL steps must match the canary) */

	unsigned long vdso_insn; /* 0 unknown, 1 none, else the address */
	unsigned long insn_cache[8];
	unsigned ninsn_cache;
	int cpu; /* the tracer's CPU, for co-location, or -1 */

	char *sbuf; /* for /proc status files */
	size_t sbuf_len;
	uint64_t stops;
	bool exec_seen;
	char *why;
	size_t whylen;
	/* What the caller can read of the run if this tracer is lost
	 * (ptrace.c, struct pt_share); never NULL while a run goes on. */
	struct pt_share *share;
	bool boosted;	/* runs at a real-time priority: never spin */
	bool chld_wake; /* the only thread of its process, SIGCHLD blocked:
			 * a tracee's stop wakes its waits */
};

/* ptrace.c: at_ptrace_run() with HOOK (NULL: none) around the program. */
int pt_run_hooked(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  const struct pt_hook *hook, unsigned timeout_ms,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen);
/* ptrace.c: once the scratch region is mapped at c->base, point the
 * steps' pointer arguments into it and fill c->data. */
int pt_relocate(struct pt_ctx *c);

/* ptrace-rseq.c: once every thread is captured, before anything is
 * injected, abort each thread's rseq critical section where the kernel
 * would at its next return to user space (the saved and the live
 * registers at the abort handler, rseq_cs cleared).  -ENOTSUP (c->why
 * set) for a section the kernel would kill the thread for. */
int pt_rseq_abort(struct pt_ctx *c);

/* ptrace-restart.c: the blocking calls that return EINTR to our interrupt
 * (epoll_wait...), entered again at release.  PEEK, just before
 * PTRACE_INTERRUPT, reads what the stop will lose (aarch64: the first
 * argument; nothing on x86_64).  NOTE, once every thread is captured
 * (the memory readable), marks the threads our interrupt cut short.
 * RELEASE, right before T's final PTRACE_DETACH, sets T->saved up to
 * enter its call again (a timeout in a register less the time stopped)
 * unless a signal of the program's is to end it: true when T->saved
 * changed and must be set. */
void pt_restart_peek(struct pt_ctx *c, struct pt_thread *t);
void pt_restart_note(struct pt_ctx *c);
bool pt_restart_release(struct pt_ctx *c, struct pt_thread *t);

/* inject.c */
/* Wait for TID's next stop or exit (bounded by the deadline). */
int pt_wait(struct pt_ctx *c, pid_t tid, int *status);
/* Run NR(ARGS) in T's context through an existing syscall instruction
 * (PTRACE_SYSCALL: entry stop, exit stop); *RET its result.  T's saved
 * registers and mask must be captured; they are put back right at the exit
 * stop, so a tracer that dies between calls leaves T as it was. */
int pt_inject(struct pt_ctx *c, struct pt_thread *t, const struct pt_call *call,
	      long *ret);
/* Put T's saved registers and mask back (raw, or at a syscall-exit stop
 * set up to re-enter its interrupted call until pt_release()). */
int pt_restore(struct pt_ctx *c, struct pt_thread *t);
/* At the capture: does T wait with a temporary mask (ppoll, pselect6,
 * epoll_pwait, epoll_pwait2, io_uring_enter, io_pgetevents,
 * rt_sigsuspend)?  Sets tmp_on and tmp. */
void pt_mask_capture(struct pt_ctx *c, struct pt_thread *t);
/* Let T go: its registers exactly as they were, PTRACE_DETACH (which
 * gives back a SIGURG of its own we held). */
int pt_release(struct pt_ctx *c, struct pt_thread *t);
/* Map and fill the scratch region through thread T (QUIET, if not NULL,
 * makes the calls that return 0: see pt_quiet()); unmap it. */
int pt_scratch_map(struct pt_ctx *c, struct pt_thread *t,
		   struct pt_thread *quiet);
void pt_scratch_unmap(struct pt_ctx *c, struct pt_thread *t);
/* Run the program's steps on T (the stub or one injection per call);
 * CANARY is NULL for the canary itself, else its results.  Fills T->res,
 * T->sav, T->nrun, T->failed; returns 0, or -errno when T could not be
 * driven (T->why says why). */
int pt_run_steps(struct pt_ctx *c, struct pt_thread *t, const long *canary);
/* Run N calls on T (undo), each result into RES. */
int pt_run_calls(struct pt_ctx *c, struct pt_thread *t,
		 const struct pt_call *calls, unsigned n, long *res);
int pt_mem_read(struct pt_ctx *c, unsigned long addr, void *buf, size_t len);
int pt_mem_write(struct pt_ctx *c, unsigned long addr, const void *buf,
		 size_t len);
/* Pin the stopped thread T to the tracer's CPU while it works; put its
 * affinity back. */
void pt_colocate(struct pt_ctx *c, struct pt_thread *t);
void pt_uncolocate(struct pt_ctx *c, struct pt_thread *t);
void pt_why(struct pt_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* AT_ARCH_NONE */
#endif /* AT_INJECT_H */
