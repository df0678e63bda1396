/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * arch-aarch64.h - the ptrace route's registers on aarch64.
 *
 * Written from the kernel's documented interfaces, cross-built and run in
 * CI on an emulated arm64 machine (tests/arm64/vm.sh: qemu TCG, -cpu max),
 * not on arm64 hardware.
 *   - NT_PRSTATUS is struct user_pt_regs (x0..x30, sp, pc, pstate); there
 *     is no PTRACE_GETREGS on arm64.
 *   - The system call number is its own regset, NT_ARM_SYSTEM_CALL; it
 *     reads -1 at an interrupt stop and is saved and restored with the
 *     registers.
 *   - At syscall-entry and -exit stops the kernel reports x7 as the stop's
 *     direction and ignores writes to it: the registers are only ever
 *     saved at an interrupt, group or signal stop, never at a syscall stop,
 *     and x7 is never changed.
 *   - `svc #0` is 0xd4000001.  When a thread is stopped after a syscall
 *     was interrupted, the kernel has already moved pc back to it, and
 *     that svc is never borrowed (at_arch_own_insn()).
 *   - Every system call discards the SVE state beyond v0-v31 (the upper
 *     bits of z0-z31, p0-p15, FFR): a thread stopped while its SVE state
 *     is live (NT_ARM_SVE reports SVE_PT_REGS_SVE) has that regset saved
 *     with its registers and written back with them, after each injected
 *     call and at the release.  The copies an injection sets carry none.
 *     SME (streaming mode, ZA) is not handled.
 *   - Relative timeouts of an interrupted RESTART_RESTARTBLOCK call
 *     (nanosleep) start again from the beginning: the kernel rewinds pc
 *     before the stop and cannot tell us which kind of restart it was.
 *   - The kernel turns a restart into EINTR for a handler only when the
 *     thread leaves its stop at the `svc` of the last call it entered,
 *     with that call's result (arch/arm64/kernel/signal.c, do_signal):
 *     after an injected call that is ours.  A thread in a call it waits
 *     in with a temporary mask enters one more (inject.c, rearm_mask) from
 *     its own `svc`, which restores it.  Any other thread that ran our
 *     calls, stopped in a call the kernel restarts (read, futex,
 *     nanosleep...), re-enters that call after the handler of a signal
 *     that came during the stop, where the program alone would have seen
 *     EINTR (SA_RESTART aside).
 * No stub: every step is injected with PTRACE_SYSCALL (two stops each),
 * from the way back's `svc` in the scratch region once it is mapped
 * (ptrace-scratch.c): `svc #0; mov x8, #139; svc #0`, sp at a signal
 * frame built from the thread's saved state (at_arch_wayback_frame()).
 * A tracer that catches the call's exit stop puts the registers back as
 * before; a thread whose tracer died mid-call runs on into rt_sigreturn
 * and gets its own registers, vector state and mask back by itself.
 */
#ifndef AT_ARCH_AARCH64_H
#define AT_ARCH_AARCH64_H

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <asm/ptrace.h>

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif

#define AT_ARCH_NAME "aarch64"
#define AT_ARCH_ELF_MACHINE EM_AARCH64
#define AT_ARCH_HAS_STUB 0
#define AT_ARCH_INSN_LEN 4
#define AT_ARCH_INSN_ALIGN 4
#define AT_ARCH_SVC0 0xd4000001u
#define AT_ARCH_PSTATE_BTYPE (3ull << 10)
/* Injected calls go through the way back (see above). */
#define AT_ARCH_WAYBACK 1
/* at_arch_resume_call() re-enters the call whatever the kernel finds when
 * the stop ends: the caller looks for a pending signal first. */
#define AT_ARCH_RESUME_BY_KERNEL 0

struct at_regs {
	struct user_regs_struct r; /* = struct user_pt_regs */
	int syscallno;		   /* NT_ARM_SYSTEM_CALL */
	/* NT_ARM_SVE, header and registers, when the thread's SVE state is
	 * live; else NULL.  Allocated by at_arch_get(), freed by
	 * at_arch_forget(); copies share it. */
	struct user_sve_header *sve;
};

static inline bool at_arch_is_insn(const unsigned char *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w == AT_ARCH_SVC0;
}

static inline void at_arch_forget(struct at_regs *regs)
{
	free(regs->sve);
	regs->sve = NULL;
}

/* The SVE regset of a stopped thread, kept only when it holds SVE state
 * (not FPSIMD only, which system calls preserve); a CPU or kernel without
 * SVE refuses the regset, and there is nothing to keep. */
static inline int at_arch_sve_get(pid_t tid, struct at_regs *regs)
{
	struct user_sve_header h;
	struct iovec io = { &h, sizeof(h) };
	void *buf;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SVE, &io) < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		at_arch_forget(regs);
		return 0;
	}
	if ((h.flags & SVE_PT_REGS_MASK) != SVE_PT_REGS_SVE ||
	    h.size < sizeof(h)) {
		at_arch_forget(regs);
		return 0;
	}
	buf = realloc(regs->sve, h.size);
	if (!buf)
		return -ENOMEM;
	regs->sve = buf;
	io.iov_base = buf;
	io.iov_len = h.size;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SVE, &io) < 0)
		return -errno;
	if (io.iov_len < sizeof(h) || regs->sve->size != io.iov_len)
		at_arch_forget(
			regs); /* changed under us: not a stopped thread */
	return 0;
}

/* -ENOTSUP for an AArch32 (compat) task: its regset is smaller. */
static inline int at_arch_get(pid_t tid, struct at_regs *regs)
{
	struct iovec io = { &regs->r, sizeof(regs->r) };
	struct iovec sc = { &regs->syscallno, sizeof(regs->syscallno) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io) < 0)
		return -errno;
	if (io.iov_len != sizeof(regs->r))
		return -ENOTSUP;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &sc) < 0)
		return -errno;
	return at_arch_sve_get(tid, regs);
}

static inline int at_arch_set(pid_t tid, const struct at_regs *regs)
{
	struct iovec io = { (void *)&regs->r, sizeof(regs->r) };
	struct iovec sc = { (void *)&regs->syscallno, sizeof(regs->syscallno) };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &io) < 0)
		return -errno;
	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SYSTEM_CALL, &sc) < 0)
		return -errno;
	if (regs->sve) {
		struct iovec v = { regs->sve, regs->sve->size };

		if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_ARM_SVE, &v) < 0)
			return -errno;
	}
	return 0;
}

/*
 * The thread's own `svc #0`, just before pc, never at pc: a thread stopped
 * in an interrupted call has pc rewound to its svc, and when the stop ends
 * the kernel's signal code (arch/arm64/kernel/signal.c, do_signal) finds pc
 * still at that restart address and, for a -ERESTART_RESTARTBLOCK call
 * (nanosleep, a timed futex wait), puts __NR_restart_syscall in x8: the
 * injected call would be replaced by the rest of the thread's sleep.  Any
 * other svc (the vDSO's) is not the restart address.
 */
static inline int at_arch_own_insn(const struct at_regs *regs,
				   unsigned long out[2])
{
	if (regs->r.pc % 4 || regs->r.pc < 4)
		return 0;
	out[0] = regs->r.pc - 4;
	return 1;
}

static inline void at_arch_prepare(struct at_regs *regs, unsigned long insn,
				   long nr, const long *args)
{
	int i;

	regs->r.pc = insn;
	regs->r.regs[8] = (unsigned long long)nr;
	for (i = 0; i < 6; i++)
		regs->r.regs[i] = (unsigned long long)args[i];
	/* A thread stopped just after an indirect branch must not take a
	 * BTI fault on the borrowed instruction. */
	regs->r.pstate &= ~AT_ARCH_PSTATE_BTYPE;
	regs->syscallno = -1;
	regs->sve = NULL; /* the call discards it; pt_restore() puts it back */
}

static inline void at_arch_prepare_stub(struct at_regs *regs,
					unsigned long entry)
{
	regs->r.pc = entry;
	regs->r.pstate &= ~AT_ARCH_PSTATE_BTYPE;
	regs->syscallno = -1;
	regs->sve = NULL;
}

static inline void at_arch_fallback(const struct at_regs *saved,
				    struct at_regs *out)
{
	*out = *saved; /* the kernel already rewound pc and x0 */
}

/* Where the thread resumes when it leaves its stop: the kernel rewound pc
 * for a restart before the stop. */
static inline unsigned long at_arch_resume_ip(const struct at_regs *regs)
{
	return regs->r.pc;
}

/* Make REGS resume at IP, as the kernel leaves a thread whose rseq
 * critical section it aborts. */
static inline void at_arch_abort_to(struct at_regs *regs, unsigned long ip)
{
	regs->r.pc = ip;
}

/* Was the thread stopped while waiting in system call NR?  The kernel has
 * rewound pc to the svc and put x0 back already, and the syscall number is
 * forgotten (-1): only x8, still the number, tells. */
static inline bool at_arch_interrupted(const struct at_regs *regs, long nr)
{
	return regs->syscallno == -1 && (long)regs->r.regs[8] == nr &&
	       at_arch_own_insn(regs, (unsigned long[2]){ 0 }) > 0;
}

/* The stack pointer. */
static inline unsigned long at_arch_sp(const struct at_regs *regs)
{
	return (unsigned long)regs->r.sp;
}

/* The register that holds argument I (0 to 5) of a system call (x0 holds
 * the return value once the call has returned). */
static inline unsigned long long *at_arch_arg(struct at_regs *regs, int i)
{
	return &regs->r.regs[i];
}

/* Can the thread be stopped on its way out of system call NR (whatever it
 * returned)?  The kernel forgot the number by the stop; x8, which the
 * call left alone, still holds it (and a thread elsewhere may hold the
 * same number there: "maybe"). */
static inline bool at_arch_maybe_in(const struct at_regs *regs, long nr)
{
	return (long)regs->r.regs[8] == nr;
}

/* The call a thread stopped on its way back from, returning -EINTR (the
 * kernel does not restart it): its number (x8), or -1.  The kernel has
 * forgotten the number (-1) and left pc after the `svc`, x0 -EINTR. */
static inline long at_arch_eintr_nr(const struct at_regs *regs)
{
	if (regs->syscallno != -1 || (long)regs->r.regs[0] != -EINTR ||
	    regs->r.pc % 4 || regs->r.pc < 4)
		return -1;
	return (long)regs->r.regs[8];
}

/* Make REGS (stopped as at_arch_eintr_nr() saw) re-enter their call: pc
 * back on the `svc`, x0 the call's first argument again.  The kernel made
 * its restart decision before the stop, so the caller decides about a
 * pending signal itself. */
static inline void at_arch_resume_call(struct at_regs *regs,
				       unsigned long first)
{
	regs->r.pc -= 4;
	regs->r.regs[0] = first;
}

/* --- the way back ----------------------------------------------------- */

#define AT_ARCH_MOV_X8_SIGRETURN 0xd2801168u /* mov x8, #139 */
#define AT_ARCH_RET 0xd65f03c0u		     /* ret (to x30) */

/* Its code, at the start of the scratch region: the injected call, then
 * rt_sigreturn (139) from the frame at sp, then a trap. */
#define AT_ARCH_WAYBACK_CODE                                                   \
	{                                                                      \
		AT_ARCH_SVC0, AT_ARCH_MOV_X8_SIGRETURN, AT_ARCH_SVC0,          \
			0u /* udf #0 */                                        \
	}

/*
 * Before the region exists (its own mmap and mprotect) and once it is
 * going (its munmap), the way back is made of the target's own code: an
 * injected call enters a `svc #0` followed by `ret` (a leaf system call
 * wrapper of the vDSO's or libc's, at_arch_is_svc_ret()), with x30 at the
 * vDSO's rt_sigreturn trampoline (`mov x8, #139; svc #0`,
 * at_arch_is_sigreturn()) and sp at a frame written below the thread's
 * own sp, where its next signal's frame would go.  A plain `ret` is not
 * a branch BTI guards, and a leaf that saves no x30 signs none.
 */
static inline uint32_t at_arch_word(const unsigned char *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline bool at_arch_is_svc_ret(const unsigned char *p, size_t left)
{
	return left >= 8 && at_arch_word(p) == AT_ARCH_SVC0 &&
	       at_arch_word(p + 4) == AT_ARCH_RET;
}

static inline bool at_arch_is_sigreturn(const unsigned char *p, size_t left)
{
	return left >= 8 && at_arch_word(p) == AT_ARCH_MOV_X8_SIGRETURN &&
	       at_arch_word(p + 4) == AT_ARCH_SVC0;
}

/*
 * The kernel's struct rt_sigframe as rt_sigreturn reads it at sp
 * (arch/arm64/kernel/signal.c): a siginfo, then the struct ucontext of
 * <asm/ucontext.h>, spelled out because that one uses the kernel's
 * sigset_t and stack_t, which glibc's <signal.h> defines otherwise.
 */
struct at_arch_sigframe {
	uint8_t info[128];
	struct {
		uint64_t flags, link;
		struct {
			uint64_t sp;
			int32_t flags, pad;
			uint64_t size;
		} stack;
		uint64_t sigmask; /* the kernel's 64-bit sigset_t */
		uint8_t unused[120];
		struct sigcontext mc;
	} uc;
};
_Static_assert(__builtin_offsetof(struct at_arch_sigframe, uc.mc) == 304,
	       "struct rt_sigframe: uc_mcontext");
_Static_assert(sizeof(struct at_arch_sigframe) == 4688,
	       "struct rt_sigframe: its size");

/* A record's place in the frame's __reserved, rounded to 16 bytes. */
#define AT_ARCH_REC(n) (((n) + 15u) & ~15u)

/*
 * The frame that gives a thread SAVED (a copy of its registers taken at
 * an interrupt, group or signal stop), and MASK back: x0-x30, sp, pc,
 * pstate as saved (pc already rewound onto an interrupted call's `svc`,
 * which it enters again, as at_arch_fallback()), its FPSIMD registers
 * (read now, NT_PRFPREG: no system call changes them) and, when its SVE
 * state was live, z0-z31, p0-p15 and FFR (a vector length whose record
 * does not fit the frame's 4096 bytes, above 1024 bits, keeps only the
 * FPSIMD part).  rt_sigreturn also sets the alternate signal stack from
 * uc_stack: its flags there are an invalid mode, which the kernel refuses
 * (-EINVAL, not reported by rt_sigreturn), so the thread's own stays as
 * it is without our reading it.  Not held: SME (ZA, streaming mode).
 */
static inline int at_arch_wayback_frame(pid_t tid, const struct at_regs *saved,
					uint64_t mask,
					struct at_arch_sigframe *f)
{
	struct user_fpsimd_state fp;
	struct iovec io = { &fp, sizeof(fp) };
	struct fpsimd_context *fc = (void *)f->uc.mc.__reserved;
	uint8_t *rec = f->uc.mc.__reserved + AT_ARCH_REC(sizeof(*fc));
	const size_t room = sizeof(f->uc.mc.__reserved);
	int i;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRFPREG, &io) < 0)
		return -errno;
	if (io.iov_len != sizeof(fp))
		return -ENOTSUP;
	memset(f, 0, sizeof(*f));
	f->uc.stack.flags = SS_ONSTACK | SS_DISABLE; /* refused: see above */
	f->uc.sigmask = mask;
	for (i = 0; i < 31; i++)
		f->uc.mc.regs[i] = saved->r.regs[i];
	f->uc.mc.sp = saved->r.sp;
	f->uc.mc.pc = saved->r.pc;
	f->uc.mc.pstate = saved->r.pstate;
	fc->head.magic = FPSIMD_MAGIC;
	fc->head.size = sizeof(*fc);
	fc->fpsr = fp.fpsr;
	fc->fpcr = fp.fpcr;
	memcpy(fc->vregs, fp.vregs, sizeof(fc->vregs));
	if (saved->sve) {
		unsigned vq = sve_vq_from_vl(saved->sve->vl);
		size_t len = AT_ARCH_REC(SVE_SIG_CONTEXT_SIZE(vq));
		struct sve_context *sc = (void *)rec;

		if (sve_vl_valid(saved->sve->vl) &&
		    saved->sve->size >=
			    SVE_PT_REGS_OFFSET + SVE_SIG_REGS_SIZE(vq) &&
		    (size_t)(rec - f->uc.mc.__reserved) + len + 16 <= room) {
			sc->head.magic = SVE_MAGIC;
			sc->head.size = (uint32_t)len;
			sc->vl = saved->sve->vl;
			memcpy(rec + SVE_SIG_REGS_OFFSET,
			       (const uint8_t *)saved->sve + SVE_PT_REGS_OFFSET,
			       SVE_SIG_REGS_SIZE(vq));
			rec += len;
		}
	}
	/* At rec, the terminating record: magic 0, size 0 (the memset's). */
	return 0;
}

/* REGS (an injection's) run their call from the way back's CODE, with
 * sp at its FRAME; from the target's own `svc #0; ret`, with x30 at the
 * sigreturn trampoline TRAMP too (0: the region's code, which needs
 * none). */
static inline void at_arch_wayback_set(struct at_regs *regs, unsigned long code,
				       unsigned long frame, unsigned long tramp)
{
	regs->r.pc = code;
	regs->r.sp = frame;
	if (tramp)
		regs->r.regs[30] = tramp;
}

#endif /* AT_ARCH_AARCH64_H */
