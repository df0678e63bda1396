// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace.c - the ptrace route's entry points: a step program on every
 * thread of another process that has no helper.
 *
 *   preflight  from /proc only (ptrace-preflight.c)
 *   freeze     every thread seized and stopped (ptrace-freeze.c)
 *   run        capture, canary, the rest, verify, undo (ptrace-run.c)
 *   release    PTRACE_DETACH every thread: the kernel redoes the
 *              syscall-restart decision with the thread's own registers;
 *              a job-control-stopped process stays stopped
 *
 * All of it runs on a tracer of its own (ptrace-job.c), which blocks every
 * signal: its waits see only its tracees (no child of the caller is ever
 * reaped), and when it ends, any thread it could not release is released
 * by the kernel.  The tracer is a process of its own (ptrace-worker.c)
 * where it may be, else a thread of the caller (here).  The calling
 * thread blocks the terminal signals meanwhile, so Ctrl-C acts once every
 * thread is back where it was.
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "ptrace-phases.h"
#include "ptrace.h"
#include "report.h"

#ifndef AT_ARCH_NONE

int at_ptrace_probe(pid_t pid, char *why, size_t whylen)
{
	bool suspend;
	char dummy[8];

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	return pt_preflight(pid, NULL, why, whylen, &suspend);
}

static void *pt_thread_main(void *arg)
{
	pt_job(arg);
	return NULL;
}

/* The tracer as a thread of the caller's process: the caller's own death
 * (SIGKILL) releases the target wherever the run was (see pt_run_worker()). */
static int run_thread(struct pt_job *job)
{
	sigset_t all, term, old;
	pthread_t th;
	int r;

	/* The tracer blocks everything; this thread the signals that end or
	 * stop a program, until every thread of the target is released. */
	sigfillset(&all);
	pt_term_signals(&term);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&th, NULL, pt_thread_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		if (job->why && job->whylen)
			snprintf(job->why, job->whylen,
				 "cannot start the tracer thread");
		return -r;
	}
	pthread_sigmask(SIG_BLOCK, &term, &old);
	pthread_join(th, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return job->ret;
}

/* Under Yama scope 1 a caller without CAP_SYS_PTRACE may trace only its
 * descendants: a forked tracer is not an ancestor of the target, so the
 * run stays in this process (and the caller's death releases it as it
 * is).  ALLTHREADS_PTRACE_WORKER=0 asks for that too (tests). */
static bool worker_allowed(pid_t pid)
{
	struct pt_self me;

	if (pt_env_off("ALLTHREADS_PTRACE_WORKER"))
		return false;
	if (pt_yama_scope() != 1)
		return true;
	pt_self_info(&me);
	return pt_has_cap(me.eff, CAP_SYS_PTRACE) || !pt_is_descendant(pid);
}

int pt_run_hooked(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  const struct pt_hook *hook, unsigned timeout_ms,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen)
{
	struct pt_job job = {
		.pid = pid,
		.pidfd = pidfd,
		.prog = prog,
		.hook = hook,
		.timeout_ms = timeout_ms,
		.policy = policy,
		.report = report,
		.why = why,
		.whylen = whylen,
		.ret = -EIO,
	};

	*report = NULL;
	if (why && whylen)
		why[0] = 0;
	return worker_allowed(pid) ? pt_run_worker(&job) : run_thread(&job);
}

int at_ptrace_run(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen)
{
	(void)flags;
	return pt_run_hooked(pid, pidfd, prog, NULL, timeout_ms, policy, report,
			     why, whylen);
}

#else /* AT_ARCH_NONE */

int at_ptrace_probe(pid_t pid, char *why, size_t whylen)
{
	(void)pid;
	if (why && whylen)
		snprintf(why, whylen,
			 "the ptrace route is not built for this "
			 "architecture");
	return -ENOTSUP;
}

int at_ptrace_run(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen)
{
	*report = NULL;
	snprintf(why, whylen,
		 "the ptrace route is not built for this architecture");
	return -ENOTSUP;
}

#endif /* AT_ARCH_NONE */

int at_ptrace_times(const struct allthreads_report *report,
		    struct at_ptrace_times *out)
{
	if (!report || report->times.route != ALLTHREADS_ROUTE_PTRACE)
		return -ENOENT;
	out->frozen_ns = report->times.frozen_ns;
	out->stop_ns = report->times.stop_ns;
	out->inject_ns = report->times.inject_ns;
	out->verify_ns = report->times.verify_ns;
	out->stops = report->times.stops;
	out->stub = report->times.stub;
	out->window = (unsigned)report->times.window;
	return 0;
}
