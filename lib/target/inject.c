// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * inject.c - running system calls in the context of a stopped thread of
 * another process, for the ptrace route (ptrace.c).
 *
 * Two ways, the same results:
 *   - one injection per call: the thread's registers are pointed at a
 *     `syscall` instruction that is already there (its own, the vDSO's,
 *     libc's; never written; on aarch64, once the scratch region is
 *     mapped, the region's own, its way back: arch-aarch64.h), resumed
 *     with PTRACE_SYSCALL to the entry stop and again to the exit stop:
 *     two stops per call;
 *   - the stub (stub.h): the whole step program in one visit per thread,
 *     run by a small position-independent runner in a region mapped fresh
 *     in the target: one stop per thread (ptrace-steps.c drives it).
 * Either way the thread's saved registers and mask go back raw, and the
 * kernel decides about restarting its interrupted call when it leaves
 * the stop; a thread found waiting with a temporary mask gets that one
 * back too (see rearm_mask()).  Its extended (vector) state is never read
 * or written.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "config.h"
#include "inject.h"
#include "proctext.h"
#include "stub.h"
#include "sysret.h"
#include "timespec.h"

#ifndef AT_ARCH_NONE

void pt_why(struct pt_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->why || !c->whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
}

/* The kernel's signal set, as PTRACE_GETSIGMASK and PTRACE_SETSIGMASK
 * take it (its size in the address argument): 64 bits. */
#define AT_PT_SIGSET_SIZE sizeof(uint64_t)

/* How far below a stopped thread's stack pointer a word of ours may go for
 * the length of one call: past x86_64's 128-byte red zone, where a signal
 * frame would be written anyway. */
#define AT_PT_BELOW_SP 512

int pt_get_sigmask(pid_t tid, uint64_t *mask)
{
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)AT_PT_SIGSET_SIZE, mask) < 0)
		return -errno;
	return 0;
}

int pt_set_sigmask(pid_t tid, const uint64_t *mask)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)AT_PT_SIGSET_SIZE, mask) < 0)
		return -errno;
	return 0;
}

/* The longest nap of pt_wait_any(), in ns. */
#define AT_PT_NAP_MAX 1000000

/* Where pt_wait_any() begins its look among TIDS (N): at c->wait_next
 * if it is one of them, else at the first. */
static unsigned wait_from(const struct pt_ctx *c, const pid_t *tids, unsigned n)
{
	unsigned i;

	for (i = 0; c->wait_next && i < n; i++)
		if (tids[i] == c->wait_next)
			return i;
	return 0;
}

/*
 * waitpid() has no timeout, and the library must never wait without one:
 * poll, yielding first (a tracee on this CPU runs at once), then sleeping
 * a little longer each time; a tracer whose naps SIGCHLD ends (every stop
 * and exit of a tracee sends it one) takes the longest nap at once, since
 * each nap its timer ends before the stop costs a wake-up for nothing.
 * Only the threads asked for are waited for, so no child of the caller is
 * ever reaped here (waiting for any child would also cost the kernel a
 * walk over every thread traced).  Each look costs a system call: the one
 * most likely to have stopped is looked at first, the one whose SIGCHLD
 * ended the nap, else the one after the last found (a window's slots are
 * refilled in turn, so that is the one that has worked longest).
 */
int pt_wait_any(struct pt_ctx *c, const pid_t *tids, unsigned n,
		unsigned *which, int *status)
{
	long nap = c->nap_ns	? (long)c->nap_ns :
		   c->chld_wake ? AT_PT_NAP_MAX :
				  20000;
	unsigned spins = 0, i, j, from;

	for (;;) {
		from = wait_from(c, tids, n);
		for (j = 0; j < n; j++) {
			pid_t r;

			i = (from + j) % n;
			if (!tids[i])
				continue;
			r = waitpid(tids[i], status, __WALL | WNOHANG);
			if (r == tids[i]) {
				c->stops++;
				c->wait_next = tids[(i + 1) % n];
				*which = i;
				return 0;
			}
			if (r < 0 && errno != EINTR) {
				*which = i;
				return -errno; /* ECHILD: not ours any more */
			}
		}
		if (at_ts_past(&c->deadline))
			return -ETIMEDOUT;
		/* A real-time tracer that yields keeps its CPU (a co-located
		 * tracee never runs): it sleeps at once. */
		if (!c->boosted && spins++ < 64) {
			sched_yield();
			continue;
		}
		{
			struct timespec ts = { 0, nap };
			siginfo_t si;
			sigset_t chld;

			/* The kernel tells a tracer of each stop with SIGCHLD:
			 * it ends the nap (taken again from waitpid()), and
			 * names the thread (the first of those it tells of
			 * while one is pending). */
			sigemptyset(&chld);
			sigaddset(&chld, SIGCHLD);
			if (!c->chld_wake || c->nap_ns)
				nanosleep(&ts, NULL);
			else if (sigtimedwait(&chld, &si, &ts) == SIGCHLD)
				c->wait_next = si.si_pid;
		}
		if (nap < AT_PT_NAP_MAX)
			nap = nap * 2 < AT_PT_NAP_MAX ? nap * 2 : AT_PT_NAP_MAX;
	}
}

int pt_wait(struct pt_ctx *c, pid_t tid, int *status)
{
	unsigned which;

	return pt_wait_any(c, &tid, 1, &which, status);
}

/* MASK on T in place of its own, which pt_mask_capture() looks at first:
 * only a thread whose mask we change needs that look, and it costs a read
 * of /proc. */
int pt_set_our_mask(struct pt_ctx *c, struct pt_thread *t, const uint64_t *mask)
{
	if (!t->mask_set)
		pt_mask_capture(c, t);
	t->mask_set = true;
	return pt_set_sigmask(t->tid, mask);
}

/* --- a syscall instruction to borrow --------------------------------------- */

static bool insn_at(struct pt_ctx *c, unsigned long addr)
{
	unsigned char b[AT_ARCH_INSN_LEN];
	unsigned i;

	if (addr % AT_ARCH_INSN_ALIGN)
		return false;
	for (i = 0; i < c->ninsn_cache; i++)
		if (c->insn_cache[i] == addr)
			return true;
	if (pt_mem_read(c, addr, b, sizeof(b)) < 0 || !at_arch_is_insn(b))
		return false;
	c->insn_cache[c->ninsn_cache++ % AT_PT_INSN_CACHE] = addr;
	if (c->ninsn_cache > AT_PT_INSN_CACHE)
		c->ninsn_cache = AT_PT_INSN_CACHE;
	return true;
}

static bool is_insn(const unsigned char *p, size_t left)
{
	return left >= AT_ARCH_INSN_LEN && at_arch_is_insn(p);
}

/* The first place, on an instruction's alignment, in the executable
 * mapping named NAME (exactly, or containing it when SUB) where MATCH
 * holds (given what is left of the mapping from there), or 0. */
static unsigned long scan_maps(struct pt_ctx *c, const char *name, bool sub,
			       bool (*match)(const unsigned char *, size_t))
{
	unsigned long found = 0;
	char line[512];
	FILE *f = pt_open_maps(c);

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, a;
		char perm[8], *nm;
		size_t len, i;
		unsigned char *buf;

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3 ||
		    perm[2] != 'x')
			continue;
		nm = strchr(line, '/');
		if (!nm)
			nm = strchr(line, '[');
		if (!nm)
			continue;
		nm[strcspn(nm, "\n")] = 0;
		if (sub ? !strstr(nm, name) : strcmp(nm, name))
			continue;
		len = hi - lo < (1u << 20) ? hi - lo : (1u << 20);
		buf = malloc(len);
		if (!buf)
			break;
		if (pt_mem_read(c, lo, buf, len) == 0)
			for (i = 0; i + AT_ARCH_INSN_LEN <= len;
			     i += AT_ARCH_INSN_ALIGN) {
				a = lo + i;
				if (match(buf + i, len - i)) {
					found = a;
					break;
				}
			}
		free(buf);
	}
	fclose(f);
	return found;
}

/* Best first: the thread's own instruction, the vDSO's, libc's. */
static unsigned long find_insn(struct pt_ctx *c, struct pt_thread *t)
{
	unsigned long cand[2];
	int i, n = at_arch_own_insn(&t->saved, cand);

	for (i = 0; i < n; i++)
		if (insn_at(c, cand[i]))
			return cand[i];
	if (c->vdso_insn == 0) {
		c->vdso_insn = scan_maps(c, "[vdso]", false, is_insn);
		if (!c->vdso_insn)
			c->vdso_insn = scan_maps(c, "/libc", true, is_insn);
		if (!c->vdso_insn)
			c->vdso_insn = 1;
	}
	return c->vdso_insn > 1 ? c->vdso_insn : 0;
}

#if AT_ARCH_WAYBACK
/*
 * The way back when the region has none (its own mmap and mprotect, its
 * munmap: arch-aarch64.h): the target's `svc #0; ret` to run the call
 * from, the trampoline to return into (*TRAMP) and T's frame written
 * below its sp (*FRAME).  0 when the target has no such code, or T's
 * stack takes no frame: then the call is made as a bare one.
 */
static unsigned long early_way(struct pt_ctx *c, struct pt_thread *t,
			       unsigned long *frame, unsigned long *tramp)
{
	unsigned long at;

	if (!c->early_code) {
		c->early_tramp =
			scan_maps(c, "[vdso]", false, at_arch_is_sigreturn);
		c->early_code =
			scan_maps(c, "[vdso]", false, at_arch_is_svc_ret);
		if (!c->early_code)
			c->early_code =
				scan_maps(c, "/libc", true, at_arch_is_svc_ret);
		if (!c->early_code || !c->early_tramp)
			c->early_code = 1;
	}
	if (c->early_code == 1)
		return 0;
	at = (at_arch_sp(&t->saved) - AT_PT_BELOW_SP -
	      sizeof(struct at_arch_sigframe)) &
	     ~15ul;
	if (pt_scratch_frame(c, t, at) < 0)
		return 0;
	*frame = at;
	*tramp = c->early_tramp;
	return c->early_code;
}
#endif

/* --- one injection ------------------------------------------------------------ */

bool pt_is_forced(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

/* T ended (R, ST: what pt_wait() saw) while it ran our calls: a failure
 * of the run, never a thread that merely exited meanwhile. */
void pt_died(struct pt_thread *t, int r, int st)
{
	const char *abbrev =
		r == 0 && WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : NULL;

	t->st = PT_GONE;
	t->died = true;
	if (r == 0 && WIFSIGNALED(st))
		snprintf(t->why, sizeof(t->why),
			 "died in an injected call: killed by signal %d "
			 "(SIG%s)",
			 WTERMSIG(st), abbrev ? abbrev : "?");
	else if (r == 0 && WIFEXITED(st))
		snprintf(t->why, sizeof(t->why),
			 "ended in an injected call (exit status %d)",
			 WEXITSTATUS(st));
	else
		snprintf(t->why, sizeof(t->why),
			 "vanished in an injected call");
}

/* Resume T with REQ until a syscall stop of kind OP; *RET the exit's
 * value.  Group-stop re-reports are resumed again (never count stops). */
static int drive(struct pt_ctx *c, struct pt_thread *t, int op, long *ret)
{
	struct __ptrace_syscall_info si;
	int st, r, i, sig;

	for (i = 0; i < 64; i++) {
		if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
			return -errno;
		r = pt_wait(c, t->tid, &st);
		if (r == -ETIMEDOUT) {
			/* A call that blocks: take the thread back. */
			ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
			c->deadline.tv_sec += 1;
			r = pt_wait(c, t->tid, &st);
			if (r == 0 && WIFSTOPPED(st))
				snprintf(t->why, sizeof(t->why),
					 "an injected call did not return");
			return -ETIMEDOUT;
		}
		if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			pt_died(t, r, st);
			return -ESRCH;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		if (sig == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid,
				   (void *)sizeof(si), &si) < 0)
				return -errno;
			if (si.op != op)
				continue;
			if (op == PTRACE_SYSCALL_INFO_EXIT)
				*ret = (long)si.exit.rval;
			return 0;
		}
		if ((st >> 16) != 0)
			continue; /* EVENT_STOP: a group stop re-reported */
		if (pt_is_forced(sig)) {
			/* Our own call faulted (or seccomp trapped it): the
			 * signal is ours, and is not delivered. */
			snprintf(t->why, sizeof(t->why),
				 "the injected call raised signal %d", sig);
			return -EFAULT;
		}
		/* Everything else is blocked while we work. */
	}
	return -EPROTO;
}

void pt_test_stall(AT_UNUSED struct pt_ctx *c)
{
#if AT_TEST_HOOKS
	struct timespec ts = { 1, 0 };
	int i;

	if (!c->stall || ++c->ninj != c->stall)
		return;
	/* Far longer than the caller waits for a late tracer (its deadline,
	 * let-go and grace): the caller kills it first. */
	for (i = 0; i < 300; i++)
		nanosleep(&ts, NULL);
#endif
}

int pt_inject(struct pt_ctx *c, struct pt_thread *t, const struct pt_call *call,
	      long *ret)
{
	unsigned long insn = 0;
	struct at_regs r = t->saved;
	int err;
#if AT_ARCH_WAYBACK
	unsigned long frame = 0, tramp = 0;

	/* Its own state in the way back's frame before anything of ours is
	 * set: a thread whose tracer dies from here on returns from our
	 * call into rt_sigreturn from that frame. */
	if (c->wayback) {
		insn = c->wayback;
		frame = c->frame_at;
		err = pt_scratch_frame(c, t, frame);
		if (err) {
			snprintf(t->why, sizeof(t->why),
				 "cannot write its way back: %s",
				 strerror(-err));
			return err;
		}
	} else {
		insn = early_way(c, t, &frame, &tramp);
	}
#endif
	if (!insn)
		insn = find_insn(c, t);
	if (!insn) {
		snprintf(t->why, sizeof(t->why),
			 "no system call instruction to borrow");
		return -ENOTSUP;
	}
	err = pt_set_our_mask(c, t, &c->inj_mask);
	if (err)
		return err;
	at_arch_prepare(&r, insn, call->nr, call->a);
#if AT_ARCH_WAYBACK
	if (frame)
		at_arch_wayback_set(&r, insn, frame, tramp);
#endif
	t->touched = true;
	err = at_arch_set(t->tid, &r);
	if (!err)
		err = drive(c, t, PTRACE_SYSCALL_INFO_ENTRY, ret);
	if (!err && call->entered)
		call->entered(c, call);
	if (!err)
		pt_test_stall(c);
	if (!err)
		err = drive(c, t, PTRACE_SYSCALL_INFO_EXIT, ret);
	t->at_exit = true;
	/* The thread's own registers and mask, at once: if this process dies
	 * now, the thread carries on where it was, not in our context. */
	if (pt_restore(c, t) < 0 && !err)
		err = -EIO;
	return err;
}

int pt_restore(AT_UNUSED struct pt_ctx *c, struct pt_thread *t)
{
	int err;

	struct at_regs fb;

	/* Its own priority first: the stub's way back puts it back too. */
	pt_unraise(t);
	if (!t->touched || t->st != PT_STOPPED)
		return 0;
	/* The mask first: a thread left (by a tracer that died) with its own
	 * mask in the runner puts its registers back itself; one left with
	 * ours but its own registers would never see a signal again. */
	err = pt_set_sigmask(t->tid, &t->mask);
	if (err)
		return err;
	/* At a syscall-exit stop the kernel's restart decision is behind us:
	 * a thread released there (our own death) with its raw registers
	 * would see -ERESTARTSYS.  Until the final PTRACE_DETACH (which
	 * redoes the decision, see pt_release()) it holds them set up to
	 * re-enter its call. */
	if (t->at_exit) {
		at_arch_fallback(&t->saved, &fb);
		err = at_arch_set(t->tid, &fb);
	} else {
		err = at_arch_set(t->tid, &t->saved);
	}
	if (err)
		return err;
	t->touched = false;
	return 0;
}

/* --- co-location ------------------------------------------------------------------- */

void pt_colocate(struct pt_ctx *c, struct pt_thread *t)
{
	cpu_set_t one;

	if (c->cpu < 0 || t->pinned)
		return;
	if (sched_getaffinity(t->tid, sizeof(t->cpus), &t->cpus) < 0)
		return;
	if (CPU_COUNT(&t->cpus) == 1 && CPU_ISSET(c->cpu, &t->cpus))
		return;
	CPU_ZERO(&one);
	CPU_SET(c->cpu, &one);
	if (sched_setaffinity(t->tid, sizeof(one), &one) == 0)
		t->pinned = true;
}

void pt_uncolocate(AT_UNUSED struct pt_ctx *c, struct pt_thread *t)
{
	if (!t->pinned)
		return;
	if (sched_setaffinity(t->tid, sizeof(t->cpus), &t->cpus) == 0 ||
	    errno == ESRCH)
		t->pinned = false;
}

/* --- a real-time priority for the stub --------------------------------------------- */

/*
 * A thread that runs the stub holds up every other one (none goes back to
 * its own code before all are done), but as a SCHED_OTHER thread it
 * waits its turn behind whatever else the machine runs: on a loaded
 * machine most of the frozen window.  So it runs the stub just below the
 * tracer's real-time priority, and has its own back before it is done
 * (pt_restore()); a thread the tracer loses puts it back itself in the
 * stub (ctl->sched).  Only threads of the kernel's fair classes are
 * raised, with exactly what sched_getattr(2) read put back.
 */
bool pt_raise_prepare(struct pt_ctx *c, struct pt_thread *t,
		      struct at_stub_ctl *ctl)
{
	struct pt_sched *s = &t->sched;

	if (!c->raise || t->raised)
		return false;
	memset(s, 0, sizeof(*s));
	if (syscall(SYS_sched_getattr, t->tid, s, sizeof(*s), 0) < 0 ||
	    s->size != sizeof(*s) ||
	    (s->policy != SCHED_OTHER && s->policy != SCHED_BATCH &&
	     s->policy != SCHED_IDLE))
		return false;
	ctl->sched = 1;
	memcpy(ctl->sched_attr, s, sizeof(*s));
	return true;
}

void pt_raise(struct pt_ctx *c, struct pt_thread *t)
{
	struct sched_param sp = { .sched_priority = AT_PT_RT_PRIO - 1 };

	if (sched_setscheduler(t->tid, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) ==
	    0)
		t->raised = true;
	else if (errno != ESRCH)
		c->raise = false; /* not allowed here: not tried again */
}

void pt_unraise(struct pt_thread *t)
{
	if (!t->raised)
		return;
	if (syscall(SYS_sched_setattr, t->tid, &t->sched, 0) == 0 ||
	    errno == ESRCH)
		t->raised = false;
}

/* --- a temporary mask ------------------------------------------------------------- */

/*
 * A thread that waits with a temporary mask (ppoll, pselect6, epoll_pwait,
 * epoll_pwait2, io_uring_enter's EXT_ARG, io_pgetevents, rt_sigsuspend)
 * runs with it as its mask while the kernel keeps its own aside, to put
 * back when the call has ended (and after a handler its signal needs, ran
 * with the temporary mask in force: TIF_RESTORE_SIGMASK).  Stopped by us
 * in such a call, it still holds both: PTRACE_GETSIGMASK reads its own
 * mask, /proc's SigBlk the temporary one.  PTRACE_SETSIGMASK forgets the
 * one kept aside: once it ran our calls, the thread would leave its stop
 * with its own mask in force, and a signal the temporary mask holds (sent
 * before or during the stop) would run its handler at once and end the
 * call with EINTR, where the program alone gets it after the call.
 *
 * So before the release such a thread makes the kernel keep them again:
 * it enters rt_sigsuspend with its own mask in force and the temporary
 * one as argument (written below its stack pointer, past any red zone),
 * which our interrupt ends at once with -ERESTARTNOHAND, both masks kept.
 * Continued from the call's exit stop, it stops for that interrupt in the
 * kernel's signal code before any signal is taken; there it gets its own
 * registers back, and the kernel decides about its call (restart, or
 * EINTR for a handler, the handler under the temporary mask) when the
 * detach lets it go, as at the stop where the freeze found it.  On
 * aarch64 that decision is not made from the registers: the kernel's
 * signal code keeps the address of the call's `svc` and its result from
 * before the stop, and turns the restart into EINTR only for a thread
 * that leaves the stop at that address with a handler to run.  There
 * rt_sigsuspend is entered from the thread's own `svc` (pc - 4 for the
 * calls that returned, EINTR among them, ptrace-restart.c; pc, where the
 * kernel rewound a call it restarts), and its -ERESTARTNOHAND stands for the
 * thread's call's (ppoll, pselect6 and rt_sigsuspend return that one too):
 * a signal that comes during the stop ends the call with EINTR, as without
 * us.  Anything unexpected leaves the thread as before (its own mask, no
 * temporary one).
 */
static const long tmp_mask_calls[] = {
	SYS_ppoll,	    SYS_pselect6,      SYS_epoll_pwait,
#ifdef SYS_epoll_pwait2
	SYS_epoll_pwait2,
#endif
	SYS_io_uring_enter, SYS_io_pgetevents, SYS_rt_sigsuspend,
};

/* The kernel keeps a thread's own mask aside (TIF_RESTORE_SIGMASK) only
 * from inside one of these calls until it leaves it for user space: at a
 * stop anywhere else the thread has none, and /proc need not be read. */
static bool maybe_tmp(const struct pt_thread *t)
{
	unsigned i;

	for (i = 0; i < sizeof(tmp_mask_calls) / sizeof(tmp_mask_calls[0]); i++)
		if (at_arch_maybe_in(&t->saved, tmp_mask_calls[i]))
			return true;
	return false;
}

void pt_mask_capture(struct pt_ctx *c, struct pt_thread *t)
{
	char path[64], buf[4096];

	t->tmp_on = false;
	if (!maybe_tmp(t))
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)c->pid,
		 (int)t->tid);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0 ||
	    !at_proc_field(buf, "SigBlk"))
		return;
	t->tmp = at_proc_field_hex(buf, "SigBlk");
	t->tmp_on = t->tmp != t->mask;
}

/* From a syscall-exit stop (which took the interrupt that ended the
 * call), to a stop in the kernel's signal code: our interrupt's (or a
 * group stop's). */
static int to_event_stop(struct pt_ctx *c, struct pt_thread *t)
{
	int st, i, r;

	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0)
		return -errno;
	for (i = 0; i < 8; i++) {
		if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
			return -errno;
		r = pt_wait(c, t->tid, &st);
		if (r == -ETIMEDOUT) {
			/* Our interrupt stops it: a loaded machine only. */
			c->deadline.tv_sec += 1;
			r = pt_wait(c, t->tid, &st);
		}
		if (r < 0 || !WIFSTOPPED(st))
			return -ESRCH;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* The kernel takes our interrupt before any signal: one here
		 * is given back at the detach all the same. */
		if ((st >> 8) != (SIGTRAP | 0x80) && !t->has_stash &&
		    ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->stash) == 0) {
			t->has_stash = true;
			return -EPROTO;
		}
	}
	return -EPROTO;
}

/* The `svc` rearm_mask() enters rt_sigsuspend from (see above). */
static unsigned long rearm_insn(struct pt_ctx *c, struct pt_thread *t)
{
	unsigned long insn = find_insn(c, t);
#if !AT_ARCH_RESUME_BY_KERNEL
	unsigned long own[2];

	/* Not its own `svc` right before pc: then pc, rewound onto it. */
	if ((at_arch_own_insn(&t->saved, own) < 1 || insn != own[0]) &&
	    insn_at(c, at_arch_resume_ip(&t->saved)))
		insn = at_arch_resume_ip(&t->saved);
#endif
	return insn;
}

static void rearm_mask(struct pt_ctx *c, struct pt_thread *t)
{
	struct pt_call call = { .nr = SYS_rt_sigsuspend };
	unsigned long insn, at;
	struct at_regs r = t->saved;
	long ret = 0;

	if (!t->tmp_on || !t->mask_set || t->has_stash || t->group_stop ||
	    t->st != PT_STOPPED || at_ts_past(&c->deadline))
		return;
	insn = rearm_insn(c, t);
	at = (at_arch_sp(&t->saved) - AT_PT_BELOW_SP) & ~15ul;
	if (!insn || pt_mem_write(c, at, &t->tmp, sizeof(t->tmp)) < 0)
		return;
	call.a[0] = (long)at;
	call.a[1] = AT_PT_SIGSET_SIZE;
	at_arch_prepare(&r, insn, call.nr, call.a);
	t->touched = true;
	if (pt_set_sigmask(t->tid, &c->inj_mask) < 0 ||
	    at_arch_set(t->tid, &r) < 0 ||
	    drive(c, t, PTRACE_SYSCALL_INFO_ENTRY, &ret) < 0)
		goto out_back;
	/* Entered: its own mask for the call to keep aside, our interrupt
	 * to end the wait. */
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 ||
	    pt_set_sigmask(t->tid, &t->mask) < 0 ||
	    drive(c, t, PTRACE_SYSCALL_INFO_EXIT, &ret) < 0)
		goto out_back;
	t->at_exit = true;
	if (ret != -AT_ERESTARTNOHAND || to_event_stop(c, t) < 0)
		goto out_back;
	t->at_exit = false;
	if (at_arch_set(t->tid, &t->saved) < 0)
		goto out_back;
	t->touched = false;
	return;
out_back:
	t->at_exit = true; /* wherever it stopped: set up to re-enter */
	pt_restore(c, t);
}

int pt_release(struct pt_ctx *c, struct pt_thread *t)
{
	long sig = 0;

	pt_restore(c, t);
	rearm_mask(c, t);
	pt_uncolocate(c, t);
	if (t->has_stash &&
	    ptrace(PTRACE_SETSIGINFO, t->tid, 0, &t->stash) == 0)
		sig = t->stash.si_signo;
	/* Raw registers only now, right before the detach that redoes the
	 * restart decision with them; a call our interrupt cut short set up
	 * to be entered again (ptrace-restart.c). */
	if (pt_restart_release(c, t) || t->at_exit)
		at_arch_set(t->tid, &t->saved);
	if (ptrace(PTRACE_DETACH, t->tid, 0, (void *)sig) < 0)
		return -errno;
	return 0;
}

#endif /* AT_ARCH_NONE */
