/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * arch-x86_64.h - the ptrace route's registers on x86_64.
 *
 * Only NT_PRSTATUS is ever read or written: a system call run in a thread's
 * context leaves its vector state (xmm/ymm/zmm, k, AMX tiles) as it was, so
 * the extended state is never touched.  The injected context has orig_rax
 * set to -1, so the kernel's syscall-restart logic leaves it alone; the
 * saved registers go back raw and the kernel decides about the restart
 * when the thread next leaves a ptrace stop through its signal path.
 */
#ifndef AT_ARCH_X86_64_H
#define AT_ARCH_X86_64_H

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>

#define AT_ARCH_NAME "x86_64"
#define AT_ARCH_ELF_MACHINE EM_X86_64
/* The stub (stub-x86_64.c) runs a whole step program per thread. */
#define AT_ARCH_HAS_STUB 1
/* No way back of aarch64's (arch-aarch64.h): the stub has its own. */
#define AT_ARCH_WAYBACK 0
/* The `syscall` instruction: 0f 05. */
#define AT_ARCH_INSN_LEN 2
#define AT_ARCH_INSN_ALIGN 1
#define AT_ARCH_USER_CS 0x33 /* 64-bit user code segment */
/* A call set up by at_arch_resume_call() is re-entered or ends with
 * EINTR as the kernel decides when the stop ends (a signal handler). */
#define AT_ARCH_RESUME_BY_KERNEL 1

struct at_regs {
	struct user_regs_struct r;
};

static inline bool at_arch_is_insn(const unsigned char *p)
{
	return p[0] == 0x0f && p[1] == 0x05;
}

/* Nothing of a thread's registers is kept outside struct at_regs. */
static inline void at_arch_forget(struct at_regs *regs)
{
	(void)regs;
}

/* The registers of stopped thread TID; -ENOTSUP for a 32-bit (compat)
 * or x32 context, whose regset is smaller or whose code segment is not
 * the 64-bit one. */
static inline int at_arch_get(pid_t tid, struct at_regs *regs)
{
	struct iovec io = { &regs->r, sizeof(regs->r) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io) < 0)
		return -errno;
	if (io.iov_len != sizeof(regs->r) || regs->r.cs != AT_ARCH_USER_CS)
		return -ENOTSUP;
	return 0;
}

static inline int at_arch_set(pid_t tid, const struct at_regs *regs)
{
	struct iovec io = { (void *)&regs->r, sizeof(regs->r) };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &io) < 0)
		return -errno;
	return 0;
}

/* Where the thread's own system call instruction may be: the one it was
 * stopped in (rip - 2, when it was in a syscall).  Returns how many
 * candidates were written to OUT (0 or 1); the caller checks the bytes. */
static inline int at_arch_own_insn(const struct at_regs *regs,
				   unsigned long out[2])
{
	if ((long)regs->r.orig_rax < 0 || regs->r.rip < 2)
		return 0;
	out[0] = regs->r.rip - 2;
	return 1;
}

/* Make REGS (a copy of the saved ones) run system call NR(ARGS) at the
 * instruction at INSN. */
static inline void at_arch_prepare(struct at_regs *regs, unsigned long insn,
				   long nr, const long *args)
{
	regs->r.rip = insn;
	regs->r.orig_rax = (unsigned long)-1;
	regs->r.rax = (unsigned long)nr;
	regs->r.rdi = (unsigned long)args[0];
	regs->r.rsi = (unsigned long)args[1];
	regs->r.rdx = (unsigned long)args[2];
	regs->r.r10 = (unsigned long)args[3];
	regs->r.r8 = (unsigned long)args[4];
	regs->r.r9 = (unsigned long)args[5];
	regs->r.eflags &= ~0x100ul; /* TF */
}

/* Make REGS start the stub at ENTRY (its own stack comes with it). */
static inline void at_arch_prepare_stub(struct at_regs *regs,
					unsigned long entry)
{
	regs->r.rip = entry;
	regs->r.orig_rax = (unsigned long)-1;
	regs->r.eflags &= ~(0x100ul | 0x400ul); /* TF, DF */
}

/* The registers a thread resumes with if the tracer dies while it runs
 * the stub (no kernel stop to redo the restart decision): an interrupted
 * restartable call is re-entered, a RESTART_RESTARTBLOCK one continues
 * through restart_syscall (its restart block is untouched: none of the
 * injected calls sets one). */
static inline void at_arch_fallback(const struct at_regs *saved,
				    struct at_regs *out)
{
	long rax = (long)saved->r.rax;

	*out = *saved;
	if ((long)saved->r.orig_rax < 0)
		return;
	if (rax == -AT_ERESTARTSYS || rax == -AT_ERESTARTNOINTR ||
	    rax == -AT_ERESTARTNOHAND) {
		out->r.rax = saved->r.orig_rax;
		out->r.rip -= 2;
	} else if (rax == -516) { /* ERESTART_RESTARTBLOCK */
		out->r.rax = 219; /* restart_syscall */
		out->r.rip -= 2;
	}
}

/* Where the thread resumes when it leaves its stop, after the kernel's
 * restart decision (an interrupted call re-entered): the instruction
 * pointer the kernel's rseq fixup judges then. */
static inline unsigned long at_arch_resume_ip(const struct at_regs *regs)
{
	struct at_regs r;

	at_arch_fallback(regs, &r);
	return r.r.rip;
}

/* Make REGS resume at IP, as the kernel leaves a thread whose rseq
 * critical section it aborts: the restart decision made first, then the
 * instruction pointer moved to the abort handler (orig_rax -1: nothing is
 * restarted there). */
static inline void at_arch_abort_to(struct at_regs *regs, unsigned long ip)
{
	struct at_regs r;

	at_arch_fallback(regs, &r);
	r.r.rip = ip;
	r.r.orig_rax = (unsigned long)-1;
	*regs = r;
}

/* Was the thread stopped while waiting in system call NR (interrupted,
 * to be restarted)? */
static inline bool at_arch_interrupted(const struct at_regs *regs, long nr)
{
	long rax = (long)regs->r.rax;

	return (long)regs->r.orig_rax == nr &&
	       (rax == -AT_ERESTARTSYS || rax == -AT_ERESTARTNOINTR ||
		rax == -AT_ERESTARTNOHAND || rax == -AT_ERESTART_RESTARTBLOCK);
}

/* The stack pointer. */
static inline unsigned long at_arch_sp(const struct at_regs *regs)
{
	return (unsigned long)regs->r.rsp;
}

/* The register that holds argument I (0 to 5) of a system call. */
static inline unsigned long long *at_arch_arg(struct at_regs *regs, int i)
{
	unsigned long long *r[6] = { &regs->r.rdi, &regs->r.rsi, &regs->r.rdx,
				     &regs->r.r10, &regs->r.r8,	 &regs->r.r9 };

	return r[i];
}

/* Can the thread be stopped on its way out of system call NR (whatever it
 * returned)?  Exactly so here: the number stays in orig_rax. */
static inline bool at_arch_maybe_in(const struct at_regs *regs, long nr)
{
	return (long)regs->r.orig_rax == nr;
}

/* The call a thread stopped on its way back from, returning -EINTR (the
 * kernel does not restart it): its number, or -1. */
static inline long at_arch_eintr_nr(const struct at_regs *regs)
{
	if ((long)regs->r.orig_rax < 0 || (long)regs->r.rax != -EINTR)
		return -1;
	return (long)regs->r.orig_rax;
}

/* Make REGS (stopped as at_arch_eintr_nr() saw) re-enter their call when
 * the stop ends without a handler to run: -ERESTARTNOHAND, which the
 * kernel turns back into the call (instruction pointer on the `syscall`,
 * rax the number) or, if a signal handler runs first, into -EINTR.  The
 * first argument is still in rdi. */
static inline void at_arch_resume_call(struct at_regs *regs,
				       unsigned long first)
{
	(void)first;
	regs->r.rax = (unsigned long)-AT_ERESTARTNOHAND;
}

#endif /* AT_ARCH_X86_64_H */
