/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ptrace-phases.h - what the ptrace route's phases give each other, one
 * file a phase, each calling only the phases below it:
 *
 *   ptrace.c           the entry points; the tracer as a thread of ours
 *   ptrace-worker.c    the tracer as a process of its own, and its loss
 *   ptrace-job.c       one tracer's job, start to end
 *   ptrace-sweep.c     removing the region a lost tracer left behind
 *   ptrace-run.c       capture, the canary, the others, undo, the report
 *   ptrace-verify.c    /proc read back while every thread is stopped
 *   ptrace-preflight.c from /proc before anything is touched
 *   ptrace-freeze.c    the thread table, seizing, stopping, releasing
 *   ptrace-scratch.c   the region in the target (inject.h)
 *   ptrace-proc.c      the route's /proc reads, the target's memory
 *   inject.c           calls in a stopped thread (inject.h)
 *   ptrace-steps.c     the step program on a thread, several at once
 *                      (inject.h)
 */
#ifndef AT_PTRACE_PHASES_H
#define AT_PTRACE_PHASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "allthreads.h"
#include "inject.h"
#include "timespec.h"

#ifndef AT_ARCH_NONE

/* /proc's task flags of a kernel worker (include/linux/sched.h). */
#define PF_IO_WORKER 0x00000010u
#define PF_USER_WORKER 0x00004000u
/* Past the run's deadline, the time it has to let every thread go: undo
 * what it can, unmap its region, detach. */
#define AT_PT_LETGO_MS 1000
/* The caller's wait for a tracer process past the run's deadline, after
 * which it kills it (the kernel then detaches every thread it held). */
#define AT_PT_GRACE_MS 5000

/*
 * What a tracer shares with its caller (a MAP_SHARED page when it is a
 * process of its own): if it is lost (killed, or not answering in time),
 * the caller knows from it whether anything may have changed, and which
 * region of ours to remove from the target.
 */
struct pt_share {
	int touched;	    /* an injection began: threads may differ */
	unsigned long base; /* the runner's region in the target, 0 none */
	unsigned long size;
	int stub; /* the stub's code at its start */
};

/* One tracer's job (ptrace-job.c), and its outcome in ret. */
struct pt_job {
	pid_t pid;
	int pidfd;
	struct pt_share *share;
	/* Not the program: remove a lost tracer's region instead
	 * (pt_sweep()), its outcome in ret (0, 1 or -errno). */
	unsigned long sweep_base, sweep_size;
	bool sweep_stub;
	const struct allthreads_prog *prog;
	const struct pt_hook *hook;
	unsigned timeout_ms;
	enum allthreads_mismatch policy;
	struct allthreads_report **report;
	char *why;
	size_t whylen;
	bool in_worker;
	int ret;
};

/* What run_all() found, for the report (ptrace-run.c). */
struct pt_result {
	int ret;
	enum allthreads_verdict verdict;
	unsigned canary;
	bool have_canary;
	uint64_t t_freeze, t_frozen, t_inject, t_verify, t_end;
};

static inline uint64_t pt_ns_now(void)
{
	struct timespec t;

	at_ts_now(&t);
	return at_ts_ns(&t);
}

/* ptrace-proc.c */
struct pt_self {
	unsigned long long eff, prm;
	long uid, gid;
	int seccomp;
	bool init_userns;
};
int pt_task_status(pid_t pid, pid_t tid, char *buf, size_t len);
/* State and flags from /proc/PID/task/TID/stat; -errno if gone. */
int pt_task_stat(pid_t pid, pid_t tid, char *state, unsigned long *flags);
bool pt_has_cap(unsigned long long caps, int bit);
/* The calling thread's capabilities, ids, seccomp mode and user
 * namespace. */
void pt_self_info(struct pt_self *s);
/* Is PID a descendant of this process? */
bool pt_is_descendant(pid_t pid);
void pt_comm_of(pid_t pid, char *out, size_t len);
/* Is environment variable NAME set to "0" (a switch turned off)? */
bool pt_env_off(const char *name);
/* The Yama ptrace scope, 0 when there is none. */
int pt_yama_scope(void);
/* Is PID in this process's pid namespace (its numbers the same here and
 * there)? */
bool pt_same_pidns(pid_t pid);

/* ptrace-freeze.c */
struct pt_thread *pt_lookup(struct pt_ctx *c, pid_t tid);
struct pt_thread *pt_add_thread(struct pt_ctx *c, pid_t tid, int st);
void pt_forget_threads(struct pt_ctx *c);
/* One pass over /proc/PID/task: what is new is listed (not seized).
 * Returns how many, or -errno. */
int pt_scan(struct pt_ctx *c);
/* PTRACE_SEIZE alone on every thread listed: none stops yet (a signal
 * one takes stops it until pt_freeze() comes to it), so that the freeze
 * is only interrupts and their stops.  Returns 0 or -errno (c->why). */
int pt_seize_all(struct pt_ctx *c);
/* Seize (what pt_seize_all() has not) and stop every thread, rescanning
 * until a pass finds nothing new; nothing is changed. */
int pt_freeze(struct pt_ctx *c);
/* Let every stopped thread go (pt_release()). */
void pt_release_all(struct pt_ctx *c);

/* ptrace-preflight.c */
/* Whether a thread in seccomp mode MODE may take the injected calls: 0,
 * or -ENOTSUP with WHY (the same words before and after the freeze). */
int pt_seccomp_refusal(pid_t tid, long mode, bool can_suspend, char *why,
		       size_t whylen);
/* What can be known before touching anything.  With C, the threads found
 * are listed in it (zombies and kernel workers marked).  Returns 0, or
 * -errno with WHY; *SUSPEND tells whether the target's seccomp filters
 * must be (and may be) suspended while we work. */
int pt_preflight(pid_t pid, struct pt_ctx *c, char *why, size_t whylen,
		 bool *suspend);
/* The preflight of a run on C: its threads listed, c->opts set (the
 * target's seccomp filters suspended where we may). */
int pt_preflight_run(struct pt_ctx *c);

/* ptrace-verify.c */
#define AT_PT_NVKEYS 11
/* What /proc shows of one thread's credentials. */
struct pt_vstate {
	char *v[AT_PT_NVKEYS];
};
/* TID's whole status file into c->sbuf; its length or -errno. */
int pt_read_status(struct pt_ctx *c, pid_t tid);
/* T's status file opened now, before the freeze, for pt_read_status() to
 * read in the window with one call instead of three (while c->sfd_left
 * allows); pt_drop_status() closes every one. */
void pt_keep_status(struct pt_ctx *c, struct pt_thread *t);
void pt_drop_status(struct pt_ctx *c);
int pt_vread(struct pt_ctx *c, pid_t tid, struct pt_vstate *s);
void pt_vfree(struct pt_vstate *s);
/* Which keys differ between BEFORE and AFTER (the canary's); false when
 * none does. */
bool pt_vchanged(const struct pt_vstate *before, const struct pt_vstate *after,
		 bool *changed);
/* Every thread judged OK but CAN reads, while still stopped, what CAN
 * reads (AFTER) for each CHANGED key; a thread that does not is FAILED
 * with why.  True when one did not.  ONE: thread T alone, once it ran
 * (its credentials stay as they are until the release: no other thread
 * runs its own code before); a thread looked at once is not again. */
bool pt_verify(struct pt_ctx *c, const struct pt_thread *can,
	       const bool *changed, const struct pt_vstate *after);
bool pt_verify_one(struct pt_ctx *c, struct pt_thread *t, const bool *changed,
		   const struct pt_vstate *after);
/* The seccomp modes again, now that no thread can run: the preflight's
 * refusal, with nothing changed. */
int pt_recheck_seccomp(struct pt_ctx *c);

/* ptrace-scratch.c */
/* The runner's region as the caller should know it (0: none left). */
void pt_share_region(struct pt_ctx *c);
/* A thread for the injected calls that return 0 (mprotect, munmap), or
 * NULL; one for the mmap(2) of the region (CAN if there is none). */
struct pt_thread *pt_quiet(struct pt_ctx *c);
struct pt_thread *pt_sleeper(struct pt_ctx *c, struct pt_thread *can);

/* ptrace-run.c */
/* Every stopped thread: captured, then the program (canary first),
 * verified, and undone on a failure, per POLICY. */
int pt_run_all(struct pt_ctx *c, enum allthreads_mismatch policy,
	       struct pt_result *out);
int pt_build_report(struct pt_ctx *c, const struct pt_result *res,
		    struct allthreads_report **reportp);

/* ptrace-sweep.c */
/* The runner's region [BASE, BASE + SIZE) a lost tracer left in the
 * target, removed: 0 removed, 1 not there (any more), -errno with
 * c->why. */
int pt_sweep(struct pt_ctx *c, unsigned long base, unsigned long size,
	     bool stub);

/* ptrace-job.c */
void pt_job(struct pt_job *job);

/* ptrace-worker.c */
/* The signals that end or stop a program: the calling thread blocks them
 * until every thread of the target is released. */
void pt_term_signals(sigset_t *term);
/* JOB run by a tracer process of its own (see there). */
int pt_run_worker(struct pt_job *job);

#endif /* AT_ARCH_NONE */
#endif /* AT_PTRACE_PHASES_H */
