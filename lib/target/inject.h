/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inject.h - the state of one ptrace run (struct pt_ctx, its threads, a
 * caller's hook) that the route's phases share (ptrace-phases.h), and
 * what lib/target/inject.c gives them: calls run in a stopped thread's
 * context, the stub, memory, co-location; the scratch region
 * (ptrace-scratch.c) and the rseq abort (ptrace-rseq.c).
 */
#ifndef AT_INJECT_H
#define AT_INJECT_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "allthreads.h"
#include "arch.h"
#include "report.h"
#include "step.h"
#include "stub.h"

#ifndef AT_ARCH_NONE

/* The tracer's real-time priority while it holds threads (ptrace-job.c):
 * above any SCHED_OTHER work and low real-time work, below the kernel's
 * interrupt threads (50).  A thread runs the stub just below it. */
#define AT_PT_RT_PRIO 40

/* The most threads whose /proc status the tracer keeps open from
 * preflight to the window (ptrace-job.c, ptrace-verify.c). */
#define AT_PT_KEEP_STATUS 16384

/* Syscall instructions found in the target, remembered (inject.c). */
#define AT_PT_INSN_CACHE 8

enum pt_state {
	PT_SEIZED = 1,	/* seized, interrupt asked, no stop seen yet */
	PT_STOPPED = 2, /* in a ptrace stop we may work from */
	PT_GONE = 3,	/* exited */
	PT_ZOMBIE = 4,	/* a zombie (an exited leader): never seized */
	PT_WORKER = 5,	/* io_uring / vhost worker: never seized */
	PT_HELD = 6,	/* seized, not asked to stop yet: it runs on
			 * (pt_seize_all()) */
};

/*
 * A thread's scheduling policy and priority as sched_getattr(2) gives
 * them and sched_setattr(2) takes them (the kernel's struct sched_attr,
 * its first size, 48 bytes).  Spelled out here because glibc 2.41 and
 * later define struct sched_attr in <sched.h>, which the kernel's
 * <linux/sched/types.h> then defines again.
 */
struct pt_sched {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};
_Static_assert(sizeof(struct pt_sched) == 48, "struct sched_attr, size 0");

/* One call with its arguments as the target sees them (pointers already
 * moved into the scratch region). */
struct pt_ctx;

struct pt_call {
	long nr;
	long a[6];
	/* Called once the thread has entered the call, which the kernel
	 * finishes whatever becomes of this process (ptrace-scratch.c: the
	 * region's mmap at a place of its own); NULL for most. */
	void (*entered)(struct pt_ctx *c, const struct pt_call *call);
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
	bool verified;	 /* its /proc read back (ptrace-verify.c) */
	bool mask_set;	 /* PTRACE_SETSIGMASK was used on it */
	bool raised;	 /* at a real-time priority, its own in sched */
	bool tmp_on;	 /* stopped in a call that waits with a temporary
			  * mask (tmp), its own mask (mask) kept aside */
	int nrun, failed, left;
	int conts; /* PTRACE_CONTs of its stub run so far (bounded) */
	int sfd;   /* its /proc status, opened before the freeze, or -1 */
	struct at_regs saved;
	uint64_t mask, tmp;
	siginfo_t stash;
	cpu_set_t cpus;
	struct pt_sched sched;
	struct pt_resume resume; /* ptrace-restart.c */
	long *res, *sav;
	char why[AT_WHY_LEN];
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

/*
 * The state of one run, in sections by the phase that owns (writes) it;
 * the others only read it.
 */
struct pt_ctx {
	/* --- set up once by ptrace-job.c (set_up(), run_program()) --- */
	pid_t pid;
	pid_t self; /* the tracer thread */
	int pidfd;
	/* The target's pid namespace is the tracer's: its numbers are the
	 * target's own (the stub's stop is sent to them). */
	bool same_pidns;
	unsigned long opts;	    /* PTRACE_SETOPTIONS */
	uint64_t cookie;	    /* the stub's stop carries it */
	uint64_t inj_mask;	    /* the mask while a thread runs our calls */
	const struct pt_hook *hook; /* NULL: none */
	char *why;		    /* the run's reason (pt_why()) */
	size_t whylen;
	/* What the caller can read of the run if this tracer is lost
	 * (struct pt_share, ptrace-phases.h); never NULL while a run goes
	 * on.  Written by ptrace-run.c and ptrace-scratch.c. */
	struct pt_share *share;
	bool chld_wake; /* the only thread of its process, SIGCHLD blocked:
			 * a tracee's stop wakes its waits */
	/* Tests only (meson -Dtest_hooks=true), in a tracer process of its
	 * own: end that process (_exit) just after starting the stub on the
	 * N-th thread, so the thread finds no tracer at its stop
	 * (ALLTHREADS_PTRACE_TEST_ABANDON). */
	unsigned abandon, nstub;
	/* Tests only, the same way: stall (sleep, until the caller kills
	 * this process as late) at the N-th injected call's entry stop, or
	 * just after starting the stub on the N-th thread, the two counted
	 * together (ALLTHREADS_PTRACE_TEST_STALL). */
	unsigned stall, ninj;

	/* --- the time: set by ptrace-job.c; moved on by ptrace-run.c
	 * (letgo()) and inject.c (a call that did not return) --- */
	struct timespec deadline;
	struct timespec letgo; /* past the deadline: undo, unmap, detach by
				* then */

	/* --- the program, compiled by ptrace-job.c: its steps (their
	 * pointer arguments pointed into the scratch region by
	 * ptrace-scratch.c), and the buffers, marshalled (step-pack.h) --- */
	unsigned nsteps;
	struct at_step *steps;
	struct at_reloc (*relocs)[AT_STEP_MAX_RELOCS];
	size_t pack_len;     /* the buffers' bytes at the start of data */
	unsigned char *data; /* the pointer arguments' bytes, then a struct
			      * sock_fprog a filter, then the hook's */
	size_t data_len;

	/* --- the threads: ptrace-freeze.c (the table, their states) and
	 * ptrace-preflight.c (listed) --- */
	struct pt_thread *t;
	unsigned n, cap;
	uint32_t *hash; /* tid -> index + 1, open addressing */
	uint32_t hmask;
	bool exec_seen;

	/* --- the scratch region in the target: ptrace-scratch.c (the
	 * layout, mapped at base), ptrace-run.c (use_stub, stub_sig) --- */
	bool use_stub;
	unsigned nslots; /* threads that may run the stub at once: asked by
			  * ptrace-run.c, as laid out by ptrace-scratch.c */
	unsigned long base;
	size_t size;
	unsigned long ctl, steps_at, undo_at, res_at, sav_at, ures_at, data_at,
		stack_top;
	unsigned long hook_at; /* the hook's bytes in the region */
	int stub_sig;	       /* the stub's stop signal (AT_STUB_SIGNALS) */
	/* aarch64's way back (AT_ARCH_WAYBACK, arch-aarch64.h): its code in
	 * the region (0 until it is executable, and again before the region
	 * goes), its signal frame, and which frame was written last, where,
	 * holding whose saved state (pt_scratch_frame()). */
	unsigned long wayback, frame_at;
	unsigned long frame_addr;
	pid_t frame_tid;
	uint64_t frame_mask;
	struct at_regs frame_regs;
	/* The way back without the region (inject.c): the target's own `svc
	 * #0; ret` and the vDSO's sigreturn trampoline; 0 not looked for
	 * yet, 1 none. */
	unsigned long early_code, early_tramp;

	/* --- injecting: inject.c --- */
	pid_t mempid; /* a live thread, for the memory (a zombie leader has
		       * none); ptrace-run.c picks it */
	int memfd;    /* its /proc/PID/task/TID/mem */
	int table;    /* the stub's step table: 0 none, 1 the canary's, 2 the
		    * others' (EQUAL steps must match the canary) */
	unsigned long vdso_insn; /* 0 unknown, 1 none, else the address */
	unsigned long insn_cache[AT_PT_INSN_CACHE];
	unsigned ninsn_cache;
	uint64_t stops;
	unsigned window; /* the most threads at work in the stub at once
			  * (ptrace-run.c) */
	pid_t wait_next; /* the thread pt_wait_any() looks at first */
	unsigned nap_ns; /* 0, or pt_wait_any()'s first nap, on a timer
			  * rather than until a SIGCHLD (ptrace-run.c) */

	/* --- the tracer's place: ptrace-job.c (pinned, boosted),
	 * ptrace-run.c (co-location given up) --- */
	int cpu;      /* the tracer's CPU, for co-location, or -1 */
	bool boosted; /* runs at a real-time priority: never spin */
	/* A thread runs the stub at a real-time priority just below the
	 * tracer's (pt_raise()): set by ptrace-run.c (prepare()), dropped
	 * when the kernel refuses it.  Never where a seccomp filter might
	 * judge the stub's own way back (ptrace-preflight.c saw one:
	 * filtered). */
	bool raise, filtered;

	/* --- ptrace-verify.c: a buffer for /proc status files, and
	 * /proc/PID/task open (-1 not yet); how many more threads' status
	 * files preflight may keep open (pt_keep_status()) --- */
	char *sbuf;
	size_t sbuf_len;
	int taskfd;
	unsigned sfd_left;
};

/* ptrace.c: at_ptrace_run() with HOOK (NULL: none) around the program. */
int pt_run_hooked(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  const struct pt_hook *hook, unsigned timeout_ms,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen);

/* ptrace-scratch.c: map the scratch region through thread T (QUIET, if
 * not NULL, makes the calls that return 0: see pt_quiet()), point the
 * steps' pointer arguments into it and fill it; unmap it. */
int pt_scratch_map(struct pt_ctx *c, struct pt_thread *t,
		   struct pt_thread *quiet);
/* How many bytes of data the region holds for PACK_LEN bytes of buffers
 * of a program of NSTEPS steps: the buffers, then room for a struct
 * sock_fprog each (0 without buffers). */
size_t pt_scratch_data_len(size_t pack_len, unsigned nsteps);
void pt_scratch_unmap(struct pt_ctx *c, struct pt_thread *t);
/* A way back's frame at AT (the region's, c->frame_at, or one below T's
 * sp) holds T's saved state (written unless it held it already), 0 or
 * -errno. */
int pt_scratch_frame(struct pt_ctx *c, struct pt_thread *t, unsigned long at);
/* Where slot I's parts are in the mapped region: its copy of the code,
 * control block, results, saved values and stack top. */
struct pt_slot {
	unsigned long code, ctl, res, sav, stack;
};
void pt_scratch_slot(const struct pt_ctx *c, unsigned i, struct pt_slot *s);

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
/* TID's signal mask (the kernel's 64-bit set), read or set by ptrace. */
int pt_get_sigmask(pid_t tid, uint64_t *mask);
int pt_set_sigmask(pid_t tid, const uint64_t *mask);
/* Wait for TID's next stop or exit (bounded by the deadline). */
int pt_wait(struct pt_ctx *c, pid_t tid, int *status);
/* The same for whichever of the N threads TIDS (0: none there) stops or
 * exits first: *WHICH its index; -errno (-ETIMEDOUT at the deadline), on
 * an error of waitpid() with *WHICH the thread it was for. */
int pt_wait_any(struct pt_ctx *c, const pid_t *tids, unsigned n,
		unsigned *which, int *status);
/* Run NR(ARGS) in T's context through an existing syscall instruction,
 * or aarch64's way back once there is one (PTRACE_SYSCALL: entry stop,
 * exit stop); *RET its result.  T's saved registers and mask must be
 * captured; they are put back right at the exit stop, so a tracer that
 * dies between calls leaves T as it was (and, through the way back, one
 * that dies during a call). */
int pt_inject(struct pt_ctx *c, struct pt_thread *t, const struct pt_call *call,
	      long *ret);
/* Put T's saved registers and mask back (raw, or at a syscall-exit stop
 * set up to re-enter its interrupted call until pt_release()). */
int pt_restore(struct pt_ctx *c, struct pt_thread *t);
/* Before its mask is first changed (so only on a thread we change):
 * does T wait with a temporary mask (ppoll, pselect6, epoll_pwait,
 * epoll_pwait2, io_uring_enter, io_pgetevents, rt_sigsuspend)?  Sets
 * tmp_on and tmp. */
void pt_mask_capture(struct pt_ctx *c, struct pt_thread *t);
/* Let T go: its registers exactly as they were, PTRACE_DETACH (which
 * gives back a SIGURG of its own we held). */
int pt_release(struct pt_ctx *c, struct pt_thread *t);
/* --- ptrace-steps.c --- */
/* Run the program's steps on T (the stub or one injection per call);
 * CANARY is NULL for the canary itself, else its results.  Fills T->res,
 * T->sav, T->nrun, T->failed; returns 0, or -errno when T could not be
 * driven (T->why says why). */
int pt_run_steps(struct pt_ctx *c, struct pt_thread *t, const long *canary);
/*
 * The program on several threads at once (the stub only), each in its
 * own slot S < c->nslots of the scratch region.  START sets T off (0, or
 * -errno with T's registers and mask back); EVENT takes what
 * pt_wait_any() found for T (ERR, status ST): 1 while T is still at work
 * (continued), else as pt_run_steps(), with T stopped and its registers
 * and mask back.  Past the deadline, TAKE_BACK brings each thread still
 * at work back (PTRACE_INTERRUPT) and ends it as EVENT would, -ETIMEDOUT
 * unless its stub had finished.
 */
int pt_steps_start(struct pt_ctx *c, struct pt_thread *t, unsigned s,
		   const long *canary);
int pt_steps_event(struct pt_ctx *c, struct pt_thread *t, unsigned s, int err,
		   int st);
int pt_steps_take_back(struct pt_ctx *c, struct pt_thread **t, unsigned n,
		       int *ret);
/* Run N calls on T (undo), each result into RES. */
int pt_run_calls(struct pt_ctx *c, struct pt_thread *t,
		 const struct pt_call *calls, unsigned n, long *res);
/* --- inject.c, for ptrace-steps.c --- */
/* MASK on T in place of its own (its own looked at first, once). */
int pt_set_our_mask(struct pt_ctx *c, struct pt_thread *t,
		    const uint64_t *mask);
/* A signal the kernel delivers even when blocked (a fault's)? */
bool pt_is_forced(int sig);
/* T ended (R, ST: what pt_wait() saw) while it ran our calls: a failure
 * of the run, with T->why saying how. */
void pt_died(struct pt_thread *t, int r, int st);
/* The test hook (struct pt_ctx's stall): counts one more injection or
 * stub start, and stalls at the chosen one.  Nothing without it. */
void pt_test_stall(struct pt_ctx *c);
/* --- ptrace-proc.c --- */
/* LEN bytes at ADDR in the target (process_vm_readv/writev, or
 * /proc/PID/mem): 0 or -EFAULT. */
int pt_mem_read(struct pt_ctx *c, unsigned long addr, void *buf, size_t len);
int pt_mem_write(struct pt_ctx *c, unsigned long addr, const void *buf,
		 size_t len);
/* The target's memory map as its memory thread sees it
 * (/proc/PID/task/MEMPID/maps), open for reading, or NULL. */
FILE *pt_open_maps(struct pt_ctx *c);
/* Pin the stopped thread T to the tracer's CPU while it works; put its
 * affinity back. */
void pt_colocate(struct pt_ctx *c, struct pt_thread *t);
void pt_uncolocate(struct pt_ctx *c, struct pt_thread *t);
/* With c->raise, T (stopped, about to run the stub with control block
 * CTL) runs it at AT_PT_RT_PRIO - 1: pt_raise_prepare() keeps its own
 * scheduling in T->sched and CTL (for the stub's way back, stub.h), true
 * if it is to be raised; pt_raise(), once CTL is in the target, raises
 * it.  pt_unraise() puts its own back (pt_restore() does). */
bool pt_raise_prepare(struct pt_ctx *c, struct pt_thread *t,
		      struct at_stub_ctl *ctl);
void pt_raise(struct pt_ctx *c, struct pt_thread *t);
void pt_unraise(struct pt_thread *t);
void pt_why(struct pt_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* AT_ARCH_NONE */
#endif /* AT_INJECT_H */
