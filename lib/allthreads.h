/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * allthreads.h - apply system calls to every thread of the calling process.
 *
 * Linux keeps credentials, capabilities, securebits, NO_NEW_PRIVS, seccomp
 * filters and more per thread.  A system call changes only its caller.  This
 * library runs a system call, or an ordered list of them (a "step program"),
 * on every thread of the process, reports per thread and per step what
 * happened, and never waits without a deadline.
 *
 * Conventions: functions return 0 (or a non-negative value) on success and a
 * negative errno value on failure.  The library never prints and never exits
 * (except under ALLTHREADS_MISMATCH_KILL, which the caller asks for).
 * See liballthreads(3).
 */
#ifndef ALLTHREADS_H
#define ALLTHREADS_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALLTHREADS_VERSION_MAJOR 0
#define ALLTHREADS_VERSION_MINOR 1
#define ALLTHREADS_VERSION_MICRO 0

/* Most steps a program may hold, and most arguments a step takes. */
#define ALLTHREADS_MAX_STEPS 256
#define ALLTHREADS_MAX_ARGS 6

/* An undo argument that stands for the value the step's save call returned
 * on the same thread (see allthreads_prog_set_undo()). */
#define ALLTHREADS_SAVED (-0x5a7ed)

/* How a step's result on each thread is judged. */
enum allthreads_judge {
	/* Every thread must return exactly what the calling thread returned. */
	ALLTHREADS_JUDGE_EQUAL = 0,
	/* Any non-negative result is fine (setfsuid, personality: calls that
	 * return a previous, per-thread value). */
	ALLTHREADS_JUDGE_SUCCESS = 1,
	/* Anything is fine, errors included; the step never stops a thread. */
	ALLTHREADS_JUDGE_ANY = 2,
};

/* What to do when, after a change, threads ended up different. */
enum allthreads_mismatch {
	/* Undo what can be undone, return -EIO with a full report (default). */
	ALLTHREADS_MISMATCH_REPORT = 0,
	/* SIGKILL the whole process: no code runs with mixed credentials. */
	ALLTHREADS_MISMATCH_KILL = 1,
	/* Keep every thread as it is and return success; the report still
	 * records what differed. */
	ALLTHREADS_MISMATCH_IGNORE = 2,
};

/* Flags for allthreads_run(). */
enum allthreads_flags {
	/* Keep application code from running while threads disagree (the
	 * default for allthreads_run() unless ALLTHREADS_NO_HOLD is given):
	 * - a program with one-way steps (steps without an undo) first
	 *   captures every thread inside its handler, unchanged; only when all
	 *   are captured does the calling thread run the steps, then the
	 *   others.  A thread that cannot be reached (signal blocked, no
	 *   answer, queue full) is known before anything changed: nothing
	 *   changes, -ETIMEDOUT, verdict FAILED;
	 * - a program with undoable steps holds every thread inside its
	 *   handler after its steps until all have reported, and on failure
	 *   undoes them everywhere before anyone is released. */
	ALLTHREADS_HOLD = 1u << 0,
	/* Release each thread as soon as it is done, like glibc's setxid. */
	ALLTHREADS_NO_HOLD = 1u << 1,
};

/* The verdict on one run. */
enum allthreads_verdict {
	/* Every thread ran every step and the results were as judged. */
	ALLTHREADS_AGREE = 0,
	/* Threads now differ: some changed, some did not (or could not be
	 * undone).  The report names them. */
	ALLTHREADS_PARTIAL = 1,
	/* Nothing changed anywhere (the calling thread failed first, or every
	 * change was undone). */
	ALLTHREADS_FAILED = 2,
};

/* What happened to one thread. */
enum allthreads_thread_state {
	ALLTHREADS_T_OK = 0,	     /* ran every step, results accepted */
	ALLTHREADS_T_FAILED = 1,     /* a step failed or mismatched */
	ALLTHREADS_T_BLOCKED = 2,    /* has the signal blocked; never ran */
	ALLTHREADS_T_TIMEOUT = 3,    /* did not answer before the deadline */
	ALLTHREADS_T_QUEUE_FULL = 4, /* the signal could not be queued
	                              * (RLIMIT_SIGPENDING) before the deadline */
	ALLTHREADS_T_ZOMBIE = 5,  /* zombie (an exited main thread): skipped */
	ALLTHREADS_T_EXITED = 6,  /* exited before it could run: gone */
	ALLTHREADS_T_UNDONE = 7,  /* ran the steps, then undid them */
	ALLTHREADS_T_NOT_RUN = 8, /* never asked: the run stopped earlier */
};

struct allthreads_prog;
struct allthreads_report;

/* Step programs. */
struct allthreads_prog *allthreads_prog_new(void);
void allthreads_prog_free(struct allthreads_prog *prog);
/* Append a step: syscall NR with NARGS (0..6) arguments.  Returns the step's
 * index (>= 0) or -EINVAL / -E2BIG. */
int allthreads_prog_add(struct allthreads_prog *prog, long nr, unsigned nargs,
			const long *args, enum allthreads_judge judge);
/* Give step STEP a way back: before the step, SAVE_NR(save_args...) runs on
 * each thread and its result is kept; to undo, UNDO_NR(undo_args...) runs,
 * where an argument equal to ALLTHREADS_SAVED is replaced by the kept value.
 * SAVE_ARGS and UNDO_ARGS point to ALLTHREADS_MAX_ARGS longs each (unused
 * ones 0).  SAVE_NR < 0 means no save call; UNDO_NR < 0 marks a step that
 * changes nothing (a read), so it needs no undo.  A step without an undo is
 * one-way. */
int allthreads_prog_set_undo(struct allthreads_prog *prog, unsigned step,
			     long save_nr, const long *save_args, long undo_nr,
			     const long *undo_args);
unsigned allthreads_prog_len(const struct allthreads_prog *prog);

/* The bound on a run, a call to another process's helper or a ptrace
 * route, when the caller passes 0. */
#define ALLTHREADS_DEFAULT_TIMEOUT_MS 5000

/* Run PROG on every thread of the process.  TIMEOUT_MS bounds the whole run
 * (0 means ALLTHREADS_DEFAULT_TIMEOUT_MS).  FLAGS from enum allthreads_flags.  On return,
 * *REPORT (if REPORT is not NULL) holds a report the caller frees with
 * allthreads_report_free(); it is set even when the run fails, except on
 * -EINVAL, -ENOMEM and -ECHILD.
 * Returns 0 when every thread agrees, or -errno:
 *   the calling thread's step error (nothing else was touched),
 *   -ETIMEDOUT a thread did not run (blocked, queue full, no answer),
 *   -EIO threads disagreed (failed or mismatched steps),
 *   -ECHILD called from a vfork(2) child, -EINVAL, -ENOMEM. */
int allthreads_run(const struct allthreads_prog *prog, unsigned timeout_ms,
		   unsigned flags, enum allthreads_mismatch policy,
		   struct allthreads_report **report);

/* One system call on every thread, glibc-setxid style (each thread is
 * released as soon as it is done), results judged EQUAL, default timeout.
 * Returns the calling thread's result (>= 0) or -errno as allthreads_run(). */
long allthreads_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
			long a6);

/* Reports. */
void allthreads_report_free(struct allthreads_report *report);
enum allthreads_verdict
allthreads_report_verdict(const struct allthreads_report *report);
unsigned allthreads_report_nthreads(const struct allthreads_report *report);
unsigned allthreads_report_nsteps(const struct allthreads_report *report);
/* Thread I (0 is always the calling thread): its TID and state. */
pid_t allthreads_report_tid(const struct allthreads_report *report, unsigned i);
enum allthreads_thread_state
allthreads_report_state(const struct allthreads_report *report, unsigned i);
/* How many steps thread I ran; the result of step S on thread I (a value or
 * -errno).  Steps a thread did not run read as -ECANCELED. */
unsigned allthreads_report_steps_run(const struct allthreads_report *report,
				     unsigned i);
long allthreads_report_result(const struct allthreads_report *report,
			      unsigned i, unsigned s);
/* The step at which thread I failed, or -1. */
int allthreads_report_failed_step(const struct allthreads_report *report,
				  unsigned i);
/* How many steps remain in force on thread I after a failed run that could
 * not be undone (0 for threads that were fully undone or never changed). */
unsigned allthreads_report_left_changed(const struct allthreads_report *report,
					unsigned i);
/* Why thread I never ran, for the states BLOCKED, TIMEOUT, QUEUE_FULL,
 * ZOMBIE and EXITED: e.g. "signal blocked (SigBlk) (state S, wchan
 * do_sigtimedwait)"; "" otherwise. */
const char *allthreads_report_why(const struct allthreads_report *report,
				  unsigned i);
const char *allthreads_thread_state_name(enum allthreads_thread_state state);
const char *allthreads_verdict_name(enum allthreads_verdict verdict);

/* The real-time signal the engine uses (see liballthreads(3), SIGNAL). */
int allthreads_signal(void);

/* libcap: the system call functions liballthreads hands to libcap.  libcap
 * (2.66 at least) uses replacement system calls only when its constructor
 * finds a strong psx_load_syscalls(); liballthreads exports one, so link it
 * before libcap and keep it linked (-Wl,--no-as-needed -lallthreads -lcap)
 * or preload it (LD_PRELOAD=liballthreads.so.0): cap_set_proc(3),
 * cap_set_ambient(3), cap_drop_bound(3), cap_prctlw(3), cap_setuid(3) ...
 * then act on every thread.  They return like the kernel (-errno) and also
 * set errno, which suits both of libcap's conventions.  See liballthreads(3),
 * LIBCAP. */
long allthreads_libcap_syscall3(long nr, long a1, long a2, long a3);
long allthreads_libcap_syscall6(long nr, long a1, long a2, long a3, long a4,
				long a5, long a6);

/* --- another process (ALLTHREADS_0.2) ---------------------------------------
 * Run a step program on every thread of another process: through the
 * allthreads helper loaded in it (allthreads-helper.so), or, for any process
 * the caller may ptrace, by seizing its threads (the ptrace route).  See
 * allthreads_target_open(3). */

/* How to reach another process. */
enum allthreads_route {
	ALLTHREADS_ROUTE_AUTO = 0,   /* the helper if the target has one, else
				      * ptrace */
	ALLTHREADS_ROUTE_HELPER = 1, /* only through allthreads-helper.so */
	ALLTHREADS_ROUTE_PTRACE = 2, /* only by seizing its threads */
};

struct allthreads_target;

/* Open process PID (a pidfd where the kernel has one, so a recycled pid is
 * never hit later).  FLAGS must be 0.  0 and *TARGET set, or -ESRCH,
 * -EINVAL, -ENOMEM. */
int allthreads_target_open(pid_t pid, unsigned flags,
			   struct allthreads_target **target);
void allthreads_target_close(struct allthreads_target *target);
pid_t allthreads_target_pid(const struct allthreads_target *target);

/* Which route ROUTE would take now, without changing anything:
 * ALLTHREADS_ROUTE_HELPER or ALLTHREADS_ROUTE_PTRACE (> 0), or -errno with
 * a reason in allthreads_target_why(). */
int allthreads_target_probe(struct allthreads_target *target,
			    enum allthreads_route route);

/* Run PROG on every thread of the target, as allthreads_run() runs it on
 * the caller's process: same TIMEOUT_MS, FLAGS and POLICY, same report.
 * Returns 0 when every thread agrees, or -errno: -ESRCH, -EPERM, -EBUSY,
 * -ENOENT, -ENOTSUP, -ECANCELED, -ETIMEDOUT, -EIO (or the canary's step
 * error), -EINVAL, -ENOMEM (allthreads_target_run(3)).  *REPORT is set
 * whenever the target was reached and its threads judged, NULL otherwise. */
int allthreads_target_run(struct allthreads_target *target,
			  enum allthreads_route route,
			  const struct allthreads_prog *prog,
			  unsigned timeout_ms, unsigned flags,
			  enum allthreads_mismatch policy,
			  struct allthreads_report **report);

/* One rule of a Landlock ruleset (landlock_add_rule(2),
 * LANDLOCK_RULE_PATH_BENEATH): ALLOWED_ACCESS, LANDLOCK_ACCESS_FS_* bits
 * of <linux/landlock.h>, stays allowed on PATH and everything beneath it.
 * PATH is absolute and is opened in the target (its mount namespace and
 * root), not in the caller. */
struct allthreads_landlock_rule {
	unsigned long long allowed_access;
	const char *path;
};

/* The most rules one allthreads_target_landlock() takes. */
#define ALLTHREADS_LANDLOCK_MAX_RULES 64

/* allthreads_target_landlock() FLAGS: prove the domain on every thread in
 * the same visit, by a third step, openat(AT_FDCWD, "/", O_RDONLY |
 * O_DIRECTORY), judged ALLTHREADS_JUDGE_ANY: the domain holds there when
 * its result is -EACCES.  Needs LANDLOCK_ACCESS_FS_READ_DIR handled and no
 * rule allowing it on "/". */
#define ALLTHREADS_LANDLOCK_PROVE 0x1u

/* The steps of allthreads_target_landlock()'s report, on every thread. */
enum allthreads_landlock_step {
	ALLTHREADS_LANDLOCK_STEP_NNP = 0,      /* prctl(PR_SET_NO_NEW_PRIVS) */
	ALLTHREADS_LANDLOCK_STEP_RESTRICT = 1, /* landlock_restrict_self() */
	ALLTHREADS_LANDLOCK_STEP_PROVE = 2,    /* with ..._PROVE: the read */
};

/* Put every thread of the target in one new Landlock domain: the ruleset
 * (HANDLED_ACCESS_FS, NRULES RULES) is built inside the target, then each
 * thread, in one visit, sets NO_NEW_PRIVS and restricts itself (and with
 * ALLTHREADS_LANDLOCK_PROVE proves it): through its helper, or by the
 * ptrace route (injected calls build the ruleset there; AUTO takes it for
 * a process without a helper).  TIMEOUT_MS and POLICY as for
 * allthreads_target_run().
 * Returns 0 when every thread agrees, or -errno: -ESRCH, -EPERM, -ENOENT,
 * -ENOTSUP, -ETIMEDOUT, -EIO (or the first thread's step error), -EINVAL,
 * -E2BIG, -ENOMEM (allthreads_target_landlock(3)).  *REPORT as for
 * allthreads_target_run(). */
int allthreads_target_landlock(struct allthreads_target *target,
			       enum allthreads_route route,
			       unsigned long long handled_access_fs,
			       const struct allthreads_landlock_rule *rules,
			       unsigned nrules, unsigned flags,
			       unsigned timeout_ms,
			       enum allthreads_mismatch policy,
			       struct allthreads_report **report);

/* After a run, landlock or probe: the route it took (HELPER or PTRACE;
 * AUTO if none) and a one-line reason for the last failure ("" when none).
 * Valid until the next call on TARGET. */
enum allthreads_route
allthreads_target_route(const struct allthreads_target *target);
const char *allthreads_target_why(const struct allthreads_target *target);

#ifdef __cplusplus
}
#endif

#endif /* ALLTHREADS_H */
