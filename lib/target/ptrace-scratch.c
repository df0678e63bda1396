// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-scratch.c - the ptrace route's scratch region in the target: a
 * fresh private mapping, laid out as
 *
 *   code | ctl | step table | undo table | results | saved values |
 *   undo results | data | stack
 *
 * with the code (a copy each), ctl, results, saved values and stack once
 * per slot: c->nslots threads run the stub at once, none of them writing
 * where another does (the stub's code and struct at_stub_ctl: stub.h;
 * the data: the
 * program's buffers as step-pack.c marshalled them, then one struct
 * sock_fprog a filter, then the bytes of a caller's hook), mapped, its
 * relocations applied (each pointer argument pointed at its bytes there),
 * filled, and unmapped, all by calls injected into a stopped thread.  On
 * aarch64 the code is the way back instead (arch-aarch64.h), its signal
 * frame at the top of the stack.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compiler.h"
#include "inject.h"
#include "ptrace-phases.h"
#include "stub.h"
#include "sysret.h"

#ifndef AT_ARCH_NONE

/* Room for struct at_stub_ctl (a slot's: the stub finds its own block
 * AT_STUB_CODE_SIZE past its copy of the code), the stub's stack, and
 * what stays unused above the stack's top (the stub aligns it down). */
#define AT_SCRATCH_CTL_ROOM AT_STUB_SLOT
#define AT_SCRATCH_STACK 16384u
#define AT_SCRATCH_STACK_GAP 64u
/* A struct sock_fprog as the target reads it, built in the data area
 * for each AT_RELOC_FPROG buffer. */
#define AT_SCRATCH_FPROG_SIZE 16u

_Static_assert(sizeof(struct at_stub_ctl) <= AT_SCRATCH_CTL_ROOM,
	       "the stub's control block fits its room");

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

size_t pt_scratch_data_len(size_t pack_len, unsigned nsteps)
{
	if (!pack_len)
		return 0;
	return align16(pack_len) +
	       (size_t)nsteps * AT_STEP_MAX_RELOCS * AT_SCRATCH_FPROG_SIZE;
}

static size_t round_page(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

/* Where each part goes, as offsets from the region's start (slot 0's;
 * pt_scratch_slot() gives the others). */
static void layout(struct pt_ctx *c)
{
	size_t n = c->nsteps ? c->nsteps : 1, off;
	unsigned k = c->nslots;

#if AT_ARCH_HAS_STUB
	/* A copy of the code per slot, each in its own AT_STUB_SLOT. */
	if ((size_t)(at_stub_x86_64_end - at_stub_x86_64_begin) > AT_STUB_SLOT)
		k = 1;
#endif
	if (k < 1 || !c->use_stub)
		k = 1;
	if (k > AT_STUB_SLOTS)
		k = AT_STUB_SLOTS;
	c->nslots = k;
	off = AT_STUB_CODE_SIZE;
	c->ctl = off;
	off += (size_t)AT_SCRATCH_CTL_ROOM * k;
	c->steps_at = off;
	off += n * sizeof(struct at_stub_step);
	c->undo_at = off;
	off += n * sizeof(struct at_stub_step);
	c->res_at = off;
	off += n * sizeof(int64_t) * k;
	c->sav_at = off;
	off += n * sizeof(int64_t) * k;
	c->ures_at = off;
	off += n * sizeof(int64_t);
	c->data_at = off;
	off += align16(c->data_len);
	off += (size_t)AT_SCRATCH_STACK * k;
	c->stack_top = off - AT_SCRATCH_STACK_GAP;
	c->size = round_page(off);
}

void pt_scratch_slot(const struct pt_ctx *c, unsigned i, struct pt_slot *s)
{
	size_t n = c->nsteps ? c->nsteps : 1;

	s->code = c->base + (unsigned long)i * AT_STUB_SLOT;
	s->ctl = c->ctl + (unsigned long)i * AT_SCRATCH_CTL_ROOM;
	s->res = c->res_at + i * n * sizeof(int64_t);
	s->sav = c->sav_at + i * n * sizeof(int64_t);
	s->stack = c->stack_top - (unsigned long)i * AT_SCRATCH_STACK;
}

/* The region is at c->base: every part's offset becomes an address. */
static void place(struct pt_ctx *c)
{
	c->ctl += c->base;
	c->steps_at += c->base;
	c->undo_at += c->base;
	c->res_at += c->base;
	c->sav_at += c->base;
	c->ures_at += c->base;
	c->data_at += c->base;
	c->stack_top += c->base;
}

/* The argument list of step I that relocation P is for. */
static long *reloc_args(struct pt_ctx *c, unsigned i, const struct at_reloc *p)
{
	struct at_step *s = &c->steps[i];

	switch (p->list) {
	case AT_RELOC_ARGS:
		return s->args;
	case AT_RELOC_SAVE:
		return s->save_args;
	default:
		return s->undo_args;
	}
}

/* Point every pointer argument at its bytes in the region (a filter at a
 * struct sock_fprog built behind the buffers). */
static int relocate(struct pt_ctx *c)
{
	size_t fp = align16(c->pack_len);
	unsigned i, k;

	for (i = 0; c->data_len && i < c->nsteps; i++) {
		for (k = 0; k < AT_STEP_MAX_RELOCS; k++) {
			const struct at_reloc *p = &c->relocs[i][k];
			unsigned long at = c->data_at + p->off;

			if (p->list == AT_RELOC_UNUSED)
				continue;
			if (p->kind == AT_RELOC_FPROG) {
				struct {
					uint16_t len;
					uint16_t pad[3];
					uint64_t filter;
				} f = { (uint16_t)(p->len / 8), { 0 }, at };

				_Static_assert(sizeof(f) ==
						       AT_SCRATCH_FPROG_SIZE,
					       "struct sock_fprog on 64 bits");
				if (fp + sizeof(f) > c->data_len)
					return -E2BIG;
				memcpy(c->data + fp, &f, sizeof(f));
				at = c->data_at + fp;
				fp += sizeof(f);
			}
			reloc_args(c, i, p)[p->arg] = (long)at;
		}
	}
	return 0;
}

#if AT_ARCH_HAS_STUB || AT_ARCH_WAYBACK
/* The region's code page made executable, by a call injected through
 * QUIET if there is one, else T. */
static int make_exec(struct pt_ctx *c, struct pt_thread *t,
		     struct pt_thread *quiet)
{
	struct pt_call call = { .nr = SYS_mprotect };
	long ret;
	int err;

	call.a[0] = (long)c->base;
	call.a[1] = AT_STUB_CODE_SIZE;
	call.a[2] = PROT_READ | PROT_EXEC;
	err = pt_inject(c, quiet ? quiet : t, &call, &ret);
	if (err)
		return err;
	return ret < 0 ? (int)ret : 0;
}
#endif

#if AT_ARCH_HAS_STUB
/* The stub's code and its control block (the stop's siginfo ready) for
 * every slot, and the code made executable (through QUIET if there is one). */
static int load_stub(struct pt_ctx *c, struct pt_thread *t,
		     struct pt_thread *quiet)
{
	struct at_stub_ctl ctl;
	siginfo_t si;
	size_t len = (size_t)(at_stub_x86_64_end - at_stub_x86_64_begin);
	unsigned i;
	int err;

	memset(&si, 0, sizeof(si));
	si.si_signo = c->stub_sig;
	si.si_code = SI_QUEUE;
	si.si_pid = c->pid;
	si.si_value.sival_ptr = (void *)(uintptr_t)c->cookie;
	memset(&ctl, 0, sizeof(ctl));
	memcpy(ctl.siginfo, &si, sizeof(ctl.siginfo));
	for (i = 0; i < c->nslots; i++) {
		err = pt_mem_write(c, c->base + i * AT_STUB_SLOT,
				   at_stub_x86_64_begin, len);
		if (!err)
			err = pt_mem_write(c, c->ctl + i * AT_SCRATCH_CTL_ROOM,
					   &ctl, sizeof(ctl));
		if (err)
			return err;
	}
	return make_exec(c, t, quiet);
}
#endif

#if AT_ARCH_WAYBACK
/* aarch64's way back (arch-aarch64.h): its code at the start of the
 * region, made executable (through QUIET if there is one), and room for
 * its signal frame at the top of the stack no stub uses. */
static int load_wayback(struct pt_ctx *c, struct pt_thread *t,
			struct pt_thread *quiet)
{
	static const uint32_t code[] = AT_ARCH_WAYBACK_CODE;
	int err;

	err = pt_mem_write(c, c->base, code, sizeof(code));
	if (!err)
		err = make_exec(c, t, quiet);
	if (err)
		return err;
	c->frame_at = (c->stack_top - sizeof(struct at_arch_sigframe)) & ~15ul;
	c->frame_tid = 0;
	c->wayback = c->base;
	return 0;
}

int pt_scratch_frame(struct pt_ctx *c, struct pt_thread *t, unsigned long at)
{
	struct at_arch_sigframe f;
	int err;

	if (c->frame_tid == t->tid && c->frame_addr == at &&
	    c->frame_mask == t->mask && c->frame_regs.sve == t->saved.sve &&
	    !memcmp(&c->frame_regs.r, &t->saved.r, sizeof(t->saved.r)))
		return 0;
	c->frame_tid = 0;
	err = at_arch_wayback_frame(t->tid, &t->saved, t->mask, &f);
	if (!err)
		err = pt_mem_write(c, at, &f, sizeof(f));
	if (err)
		return err;
	c->frame_tid = t->tid;
	c->frame_addr = at;
	c->frame_mask = t->mask;
	c->frame_regs = t->saved;
	return 0;
}
#else
int pt_scratch_frame(AT_UNUSED struct pt_ctx *c, AT_UNUSED struct pt_thread *t,
		     AT_UNUSED unsigned long at)
{
	return 0;
}
#endif

/*
 * Where the region goes: at an address whose low 32 bits are zero, in a
 * gap of the target's map, a page clear of both ends and of a stack that
 * grows down into the gap, or 0 (where the kernel likes).  The mmap is
 * made by a thread waiting in a sleep of its own (pt_sleeper()) when
 * there is one, and should this process die before that thread has its
 * registers back, the sleep returns the address: glibc's x86_64
 * clock_nanosleep looks only at its low 32 bits (it negates %eax), so
 * zeros there read as a finished sleep, where anything else read as an
 * error with a made-up errno.  Such an address also lets the caller know
 * the region before the mmap returns (map_entered()).
 */
static unsigned long pick_place(struct pt_ctx *c, size_t size)
{
	const unsigned long align = 1ul << 32;
	unsigned long pg = (unsigned long)sysconf(_SC_PAGESIZE);
	unsigned long lo, hi, prev = 0, best = 0;
	char line[512];
	FILE *f = pt_open_maps(c);

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		bool stack = strstr(line, "[stack]") != NULL;
		unsigned long at;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (!stack && lo >= prev + size + 2 * pg) {
			at = (lo - pg - size) & ~(align - 1);
			if (at >= prev + pg && at >= align)
				best = at;
		}
		prev = hi;
		if (stack)
			break;
	}
	fclose(f);
	return best;
}

/* The region's mmap at a place of its own, entered: the region is there
 * whatever becomes of this process, and the caller knows it. */
static void map_entered(struct pt_ctx *c, const struct pt_call *call)
{
	c->base = (unsigned long)call->a[0];
	pt_share_region(c);
}

int pt_scratch_map(
	struct pt_ctx *c, struct pt_thread *t,
	AT_UNUSED struct pt_thread *quiet /* a stub or way back only */)
{
	struct pt_call call = { .nr = SYS_mmap };
	long ret;
	int err, tries;

	layout(c);
	call.a[1] = (long)c->size;
	call.a[2] = PROT_READ | PROT_WRITE;
	call.a[4] = -1;
	call.a[5] = 0;
	call.a[0] = (long)pick_place(c, c->size);
	for (tries = 0; tries < 2; tries++) {
		/* A place taken since we looked: anywhere, the second time. */
		call.a[3] = MAP_PRIVATE | MAP_ANONYMOUS |
			    (call.a[0] ? MAP_FIXED_NOREPLACE : 0);
		call.entered = call.a[0] ? map_entered : NULL;
		err = pt_inject(c, t, &call, &ret);
		if (err || ret != -EEXIST || !call.a[0])
			break;
		call.a[0] = 0;
		c->base = 0;
		pt_share_region(c);
	}
	/* On an error the region is c->base all the same once the call
	 * was entered: the caller's undoing unmaps it. */
	if (err)
		return err;
	if (at_is_error(ret)) {
		c->base = 0;
		pt_share_region(c);
		return (int)ret;
	}
	c->base = (unsigned long)ret;
	/* Known to the caller from here on (from the mmap's entry when it
	 * had a place): a tracer lost while it fills the region (or makes
	 * it executable) leaves it to be swept. */
	pt_share_region(c);
	place(c);
	err = relocate(c);
	if (err)
		return err;
	if (c->data_len) {
		err = pt_mem_write(c, c->data_at, c->data, c->data_len);
		if (err)
			return err;
	}
#if AT_ARCH_HAS_STUB
	if (c->use_stub)
		return load_stub(c, t, quiet);
#endif
#if AT_ARCH_WAYBACK
	return load_wayback(c, t, quiet);
#endif
	return 0;
}

void pt_scratch_unmap(struct pt_ctx *c, struct pt_thread *t)
{
	struct pt_call call = { .nr = SYS_munmap };
	long ret;

	if (!c->base)
		return;
	/* Not from the region that goes: on aarch64 this call's way back is
	 * the target's own code (pt_inject()). */
	c->wayback = 0;
	call.a[0] = (long)c->base;
	call.a[1] = (long)c->size;
	if (pt_inject(c, t, &call, &ret) == 0 && ret == 0)
		c->base = 0;
	pt_restore(c, t);
}

/* --- which thread makes the region's calls, and who knows of it -------------- */

void pt_share_region(struct pt_ctx *c)
{
	__atomic_store_n(&c->share->size, c->base ? c->size : 0,
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->share->stub, c->base && c->use_stub,
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->share->base, c->base, __ATOMIC_SEQ_CST);
}

/*
 * A thread for the injected calls that return 0 (mprotect, munmap): one
 * waiting in futex(2), interrupted (-ERESTARTSYS) in its own syscall
 * instruction.  Should this process die in the middle of such a call, the
 * thread goes on with 0 as its futex's result, which is a spurious wake-up,
 * and every futex user (glibc's condition variables, mutexes, joins)
 * checks again and waits again.  NULL if there is none.
 */
static struct pt_thread *waiting_in(struct pt_ctx *c, long nr)
{
	unsigned k;

	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];
		unsigned long cand[2];

		if (t->st == PT_STOPPED && t->captured &&
		    at_arch_own_insn(&t->saved, cand) > 0 &&
		    at_arch_interrupted(&t->saved, nr))
			return t;
	}
	return NULL;
}

struct pt_thread *pt_quiet(struct pt_ctx *c)
{
	return waiting_in(c, SYS_futex);
}

/*
 * A thread for the mmap(2) that makes the runner's region: its result is
 * an address, which a futex wait would take for an error; a sleep
 * (glibc's nanosleep, usleep, sleep: clock_nanosleep) takes one whose
 * low 32 bits are zero (pick_place()) for success and only wakes early.
 * The canary if there is none.
 */
struct pt_thread *pt_sleeper(struct pt_ctx *c, struct pt_thread *can)
{
	struct pt_thread *t = waiting_in(c, SYS_clock_nanosleep);

#ifdef SYS_nanosleep
	if (!t)
		t = waiting_in(c, SYS_nanosleep);
#endif
	return t ? t : can;
}

#endif /* AT_ARCH_NONE */
