// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-restart.c - the blocking calls the ptrace route's own interrupt
 * cut short, resumed at release, so that the program never sees an EINTR
 * of ours.
 *
 * PTRACE_INTERRUPT wakes a thread blocked in a system call as a signal
 * would.  Most calls then return -ERESTART*, and the kernel re-enters
 * them when the stop ends with no handler to run.  A few return -EINTR
 * outright, which a program sees after the release (what `strace -p`
 * does to them too).  On the 6.18 kernel these are: epoll_wait,
 * epoll_pwait, epoll_pwait2, rt_sigtimedwait (with a timeout or
 * without), io_uring_enter waiting for completions, semop and semtimedop
 * (poll, ppoll, select, pselect6, futex, nanosleep, clock_nanosleep,
 * msgrcv, mq_timedreceive, read and the like restart by themselves).
 *
 * At the capture, a thread whose stop shows one of these calls returning
 * -EINTR right after its own system call instruction is marked; at its
 * release it is set up to enter the same call again, with the same
 * arguments, unless a signal of the program's is to be handled first:
 *   - x86_64: its return register becomes -ERESTARTNOHAND (at once, so a
 *     tracer lost later leaves it re-entering too).  The kernel makes the
 *     choice itself when the stop ends, with nothing in between: a
 *     handler to run turns it into -EINTR, as the signal alone would
 *     have; else the call is entered again.
 *   - aarch64: the kernel made its restart choice before the stop and
 *     forgot the first argument (x0 holds the result): the argument is
 *     read from /proc/PID/task/TID/syscall just before the interrupt,
 *     and kept only if the call's other registers, stack and pc match at
 *     the stop.  At release the thread's pending signals (its own and the
 *     process's, /proc status) that it does not block or ignore keep the
 *     EINTR; a signal that comes after that look and before the thread
 *     leaves its stop runs its handler and then re-enters the call, where
 *     the program alone would have seen EINTR.
 * A timeout held in a register (epoll_wait's and epoll_pwait's
 * milliseconds) loses the time from the stop to the release, so the call
 * never ends early.  A timeout held in the caller's memory
 * (epoll_pwait2, rt_sigtimedwait, semtimedop, io_uring_enter's
 * EXT_ARG) is left as it is: the caller declared it const and may use it
 * again, so it is never written; such a call waits its whole timeout
 * again from the release.  Either way the time it had waited before the
 * stop is not known (no interface tells it): a resumed timeout ends late
 * by up to that much at each stop, never early.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "inject.h"
#include "proctext.h"
#include "timespec.h"

#ifndef AT_ARCH_NONE

/* The calls that return -EINTR to a ptrace interrupt, and which of their
 * arguments is a timeout in milliseconds (-1: none in a register). */
static const struct {
	long nr;
	int ms_arg;
} resumable[] = {
#ifdef SYS_epoll_wait
	{ SYS_epoll_wait, 3 },
#endif
	{ SYS_epoll_pwait, 3 },	     { SYS_epoll_pwait2, -1 },
	{ SYS_rt_sigtimedwait, -1 }, { SYS_io_uring_enter, -1 },
	{ SYS_semtimedop, -1 },
#ifdef SYS_semop
	{ SYS_semop, -1 },
#endif
};

/* The index of NR in resumable[], or -1. */
static int find(long nr)
{
	unsigned i;

	for (i = 0; i < sizeof(resumable) / sizeof(resumable[0]); i++)
		if (resumable[i].nr == nr)
			return (int)i;
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	at_ts_now(&ts);
	return at_ts_ns(&ts);
}

void pt_restart_peek(struct pt_ctx *c, struct pt_thread *t)
{
#if AT_ARCH_RESUME_BY_KERNEL
	(void)c;
	(void)t;
#else
	struct pt_resume *r = &t->resume;
	unsigned long a[8], first;
	char path[64], buf[256];
	long nr;

	r->has_first = false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)c->pid,
		 (int)t->tid);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0)
		return;
	/* nr, six arguments, sp, pc; "running" or "-1 sp pc" otherwise. */
	if (sscanf(buf, "%ld %lx %lx %lx %lx %lx %lx %lx %lx", &nr, &first,
		   &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6]) != 9 ||
	    find(nr) < 0)
		return;
	r->nr = nr;
	r->first = first;
	memcpy(r->peek, a, sizeof(r->peek));
	r->has_first = true;
#endif
}

/* Does T's stop match what pt_restart_peek() read (aarch64)? */
static bool same_call(struct pt_thread *t, long nr)
{
#if AT_ARCH_RESUME_BY_KERNEL
	(void)t;
	(void)nr;
	return true;
#else
	const struct pt_resume *r = &t->resume;
	int i;

	if (!r->has_first || r->nr != nr || r->peek[5] != t->saved.r.sp ||
	    r->peek[6] != t->saved.r.pc)
		return false;
	for (i = 1; i < 6; i++)
		if (r->peek[i - 1] != *at_arch_arg(&t->saved, i))
			return false;
	return true;
#endif
}

void pt_restart_note(struct pt_ctx *c)
{
	uint64_t now = now_ns();
	unsigned k;

	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];
		unsigned char insn[AT_ARCH_INSN_LEN];
		unsigned long at[2];
		long nr;

		t->resume.on = false;
		/* A thread stopped by job control had its call cut short by
		 * the stop signal: the program would see that EINTR (after
		 * SIGCONT) without us too. */
		if (t->st != PT_STOPPED || !t->captured || t->group_stop)
			continue;
		nr = at_arch_eintr_nr(&t->saved);
		if (nr < 0 || find(nr) < 0 || !same_call(t, nr))
			continue;
		/* Its own system call instruction right before: not an
		 * int $0x80 (another table), not a thread that merely sits
		 * there with that value. */
		if (at_arch_own_insn(&t->saved, at) < 1 ||
		    pt_mem_read(c, at[0], insn, sizeof(insn)) < 0 ||
		    !at_arch_is_insn(insn))
			continue;
		t->resume.nr = nr;
		t->resume.seen_ns = now;
#if AT_ARCH_RESUME_BY_KERNEL
		{
			struct at_regs was = t->saved;

			at_arch_resume_call(&t->saved, 0);
			if (at_arch_set(t->tid, &t->saved) < 0) {
				t->saved = was;
				continue;
			}
		}
#endif
		t->resume.on = true;
	}
}

#if !AT_ARCH_RESUME_BY_KERNEL
/* Will T run a handler (or die, or stop) for a signal when it leaves its
 * stop?  Then its call ends with EINTR, as the signal alone would make
 * it.  Unsure counts as yes. */
static bool signal_waits(struct pt_ctx *c, struct pt_thread *t)
{
	unsigned long long pend, blk, ign;
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)c->pid,
		 (int)t->tid);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0 ||
	    !at_proc_field(buf, "SigBlk"))
		return true;
	pend = at_proc_field_hex(buf, "SigPnd") |
	       at_proc_field_hex(buf, "ShdPnd");
	if (t->has_stash)
		pend |= 1ull << (t->stash.si_signo - 1);
	blk = at_proc_field_hex(buf, "SigBlk");
	ign = at_proc_field_hex(buf, "SigIgn");
	return (pend & ~blk & ~ign) != 0;
}
#endif

bool pt_restart_release(struct pt_ctx *c, struct pt_thread *t)
{
	int i = t->resume.on ? find(t->resume.nr) : -1;
	int ms_arg = i >= 0 ? resumable[i].ms_arg : -1;

	if (i < 0 || t->st != PT_STOPPED)
		return false;
	t->resume.on = false;
#if !AT_ARCH_RESUME_BY_KERNEL
	if (signal_waits(c, t))
		return false;
	at_arch_resume_call(&t->saved, t->resume.first);
#else
	(void)c;
#endif
	if (ms_arg >= 0) {
		unsigned long long *reg = at_arch_arg(&t->saved, ms_arg);
		int ms = (int)(unsigned)*reg;
		uint64_t spent = (now_ns() - t->resume.seen_ns) / AT_NS_PER_MS;

		/* The kernel reads an int: only the low half changes. */
		if (ms > 0) {
			ms = (uint64_t)ms > spent ? ms - (int)spent : 0;
			*reg = (*reg & ~0xffffffffull) | (unsigned)ms;
		}
	}
	return true;
}

#endif /* AT_ARCH_NONE */
