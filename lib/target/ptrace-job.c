// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-job.c - one tracer's job, start to end: the program compiled
 * for the target (its buffers marshalled, step-pack.h), the tracer put
 * ahead of the work it freezes (real-time priority, its CPU), then the
 * preflight, the freeze, the run, the release and the report; or, for a
 * lost tracer, the sweep of its region.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "ptrace-phases.h"
#include "step-pack.h"

#ifndef AT_ARCH_NONE

static int compile(struct pt_ctx *c, const struct allthreads_prog *prog)
{
	struct at_pack_area area = { .cap = AT_STEP_MAX_DATA };
	unsigned i;
	int r = 0;

	c->steps = calloc(prog->n ? prog->n : 1, sizeof(*c->steps));
	c->relocs = calloc(prog->n ? prog->n : 1, sizeof(*c->relocs));
	area.data = malloc(area.cap);
	if (!c->steps || !c->relocs || !area.data) {
		free(area.data);
		return -ENOMEM;
	}
	if (!prog->n || prog->n > ALLTHREADS_MAX_STEPS)
		r = -EINVAL;
	for (i = 0; !r && i < prog->n; i++)
		r = at_step_pack(&prog->steps[i], c->relocs[i], &area);
	if (r) {
		free(area.data);
		pt_why(c, "cannot pass the program's arguments: %s",
		       strerror(-r));
		return r;
	}
	c->nsteps = prog->n;
	memcpy(c->steps, prog->steps, prog->n * sizeof(*c->steps));
	c->pack_len = area.len;
	c->data_len = pt_scratch_data_len(area.len, prog->n);
	if (c->hook) {
		/* Its bytes after the program's (an offset until mapped). */
		c->hook_at = (c->data_len + 15) & ~(size_t)15;
		c->data_len = c->hook_at + c->hook->data_len;
	}
	if (c->data_len) {
		c->data = calloc(1, c->data_len);
		if (!c->data) {
			free(area.data);
			return -ENOMEM;
		}
		memcpy(c->data, area.data, area.len);
	}
	free(area.data);
	return 0;
}

/* --- the tracer ahead of the work it freezes --------------------------------------- */

/* How the tracer thread ran before pt_boost(). */
struct pt_prio {
	int policy, nice;
	struct sched_param param;
	bool rt, niced;
};

/*
 * While it holds threads the tracer must not wait behind the work it
 * freezes (a loaded machine preempts a SCHED_OTHER tracer for whole
 * slices, each of them added to the frozen window): SCHED_FIFO where it
 * may (CAP_SYS_NICE, or RLIMIT_RTPRIO), else the lowest nice value it may
 * take; without either it goes on as it was.  This thread only (Linux
 * scheduling attributes are per thread); pt_unboost() puts them back.
 */
static void pt_boost(struct pt_ctx *c, struct pt_prio *p)
{
	struct sched_param sp = { .sched_priority = AT_PT_RT_PRIO };

	memset(p, 0, sizeof(*p));
	if (pt_env_off("ALLTHREADS_PTRACE_BOOST"))
		return;
	p->policy = sched_getscheduler(0);
	if (p->policy < 0 || sched_getparam(0, &p->param) < 0)
		return;
	if (p->policy != SCHED_FIFO && p->policy != SCHED_RR &&
	    sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0) {
		p->rt = true;
		c->boosted = true;
		return;
	}
	errno = 0;
	p->nice = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && p->nice > -20 &&
	    setpriority(PRIO_PROCESS, 0, -20) == 0)
		p->niced = true;
}

static void pt_unboost(struct pt_ctx *c, struct pt_prio *p)
{
	if (p->rt && sched_setscheduler(0, p->policy, &p->param) == 0)
		p->rt = false;
	if (p->niced && setpriority(PRIO_PROCESS, 0, p->nice) == 0)
		p->niced = false;
	c->boosted = false;
}

/*
 * How many threads' status files the tracer may keep open from preflight
 * to the window (pt_keep_status()): a process of its own only (never the
 * caller's descriptors), 64 of its limit left for everything else, and at
 * most AT_PT_KEEP_STATUS (each an open /proc file in the kernel).
 */
static unsigned status_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= 128)
		return 0;
	if (rl.rlim_cur - 64 > AT_PT_KEEP_STATUS)
		return AT_PT_KEEP_STATUS;
	return (unsigned)(rl.rlim_cur - 64);
}

/* C set up for JOB: the deadlines, the injection mask, the stub, the
 * cookie; OWN shares nothing when the tracer is a thread of the caller. */
static void set_up(struct pt_ctx *c, struct pt_job *job, struct pt_share *own)
{
	unsigned ms = job->timeout_ms ? job->timeout_ms :
					ALLTHREADS_DEFAULT_TIMEOUT_MS;

	memset(c, 0, sizeof(*c));
	c->pid = job->pid;
	c->pidfd = job->pidfd;
	c->hook = job->hook;
	c->self = (pid_t)syscall(SYS_gettid);
	c->memfd = -1;
	c->taskfd = -1;
	c->cpu = -1;
	c->why = job->why;
	c->whylen = job->whylen;
	c->share = job->share ? job->share : own;
	c->chld_wake = job->in_worker;
	c->sfd_left = job->in_worker ? status_budget() : 0;
	at_ts_after_ms(&c->deadline, ms);
	c->letgo = c->deadline;
	at_ts_add_ms(&c->letgo, AT_PT_LETGO_MS);
	/* Blocked while a thread runs our calls: all but the signals the
	 * kernel forces (blocking those would reset their handlers). */
	c->inj_mask = ~0ull;
	c->inj_mask &= ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) |
			 (1ull << (SIGILL - 1)) | (1ull << (SIGFPE - 1)) |
			 (1ull << (SIGTRAP - 1)) | (1ull << (SIGSYS - 1)));
	c->use_stub = AT_ARCH_HAS_STUB && !pt_env_off("ALLTHREADS_PTRACE_STUB");
#if AT_TEST_HOOKS
	if (job->in_worker && secure_getenv("ALLTHREADS_PTRACE_TEST_ABANDON"))
		c->abandon = (unsigned)atoi(
			secure_getenv("ALLTHREADS_PTRACE_TEST_ABANDON"));
	/* Not the sweep's tracer: the caller must be able to remove what a
	 * stalled one left (its first call would be the stall's too). */
	if (job->in_worker && !job->sweep_base &&
	    secure_getenv("ALLTHREADS_PTRACE_TEST_STALL"))
		c->stall = (unsigned)atoi(
			secure_getenv("ALLTHREADS_PTRACE_TEST_STALL"));
#endif
	if (getrandom(&c->cookie, sizeof(c->cookie), 0) != sizeof(c->cookie))
		c->cookie = pt_ns_now() ^ ((uint64_t)getpid() << 32);
}

/* The tracer pinned to the CPU it runs on, where its tracees will work
 * while it drives them (pt_colocate()). */
static void colocate_tracer(struct pt_ctx *c)
{
	int cpu = sched_getcpu();
	cpu_set_t one;

	if (pt_env_off("ALLTHREADS_PTRACE_COLOCATE") || cpu < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		c->cpu = cpu;
}

/* The program: compiled, preflight, freeze, run, release, report. */
static int run_program(struct pt_ctx *c, struct pt_job *job)
{
	struct pt_result res = { .verdict = ALLTHREADS_FAILED };
	struct pt_prio prio;
	int err;

	err = compile(c, job->prog);
	if (!err)
		err = pt_preflight_run(c);
	if (err)
		return err;
	colocate_tracer(c);
	c->mempid = c->pid;
	c->same_pidns = pt_same_pidns(c->pid);

	/* From the first seize to the last release: ahead of the work.
	 * The seizes stop nothing: the frozen window starts after them. */
	pt_boost(c, &prio);
	err = pt_seize_all(c);
	res.t_freeze = pt_ns_now();
	if (!err)
		err = pt_freeze(c);
	if (err == -EPERM && !c->why[0])
		pt_why(c, "permission denied");
	res.t_frozen = pt_ns_now();
	/* The pid must still name the process we opened. */
	if (!err && c->pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) < 0 &&
	    errno == ESRCH) {
		pt_why(c, "the process is gone");
		err = -ESRCH;
	}
	if (!err)
		err = pt_run_all(c, job->policy, &res);
	pt_release_all(c);
	res.t_end = pt_ns_now();
	pt_unboost(c, &prio);
	if (!err || err == -EIO || err == -ETIMEDOUT || err == -ECANCELED ||
	    res.have_canary || (err < 0 && res.verdict != ALLTHREADS_FAILED))
		if (pt_build_report(c, &res, job->report) < 0 && !err)
			err = -ENOMEM;
	return err;
}

static void clean_up(struct pt_ctx *c)
{
	unsigned k;

	if (c->memfd >= 0)
		close(c->memfd);
	pt_drop_status(c);
	if (c->taskfd >= 0)
		close(c->taskfd);
	for (k = 0; k < c->n; k++) {
		free(c->t[k].res);
		free(c->t[k].sav);
		at_arch_forget(&c->t[k].saved);
	}
	free(c->t);
	free(c->hash);
	free(c->steps);
	free(c->relocs);
	free(c->data);
	free(c->sbuf);
}

void pt_job(struct pt_job *job)
{
	struct pt_share own = { 0 };
	struct pt_prio prio;
	struct pt_ctx c;

	set_up(&c, job, &own);
	if (job->sweep_size) {
		pt_boost(&c, &prio);
		job->ret = pt_sweep(&c, job->sweep_base, job->sweep_size,
				    job->sweep_stub);
		pt_unboost(&c, &prio);
	} else {
		job->ret = run_program(&c, job);
	}
	clean_up(&c);
}

#endif /* AT_ARCH_NONE */
