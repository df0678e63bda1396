// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-rseq.c - the abort a ptrace stop owes a thread inside a
 * restartable sequence (rseq) critical section, for the ptrace route.
 *
 * A thread leaving a stop returns to user space through the kernel's rseq
 * fixup: if its rseq area names a critical section (rseq->rseq_cs) and its
 * instruction pointer lies in [start_ip, start_ip + post_commit_offset),
 * the kernel clears rseq_cs and moves it to the section's abort handler;
 * outside, it only clears rseq_cs.  The route runs its calls with the
 * instruction pointer elsewhere, so the kernel clears rseq_cs at the
 * first of them, and a thread put back inside its section afterwards
 * would go on without its abort and commit a stale value.
 *
 * So, once every thread is stopped and captured and before anything is
 * injected, each thread gets here what the kernel owes it: inside a
 * section, its registers (the saved copy, and its live ones at once) move
 * to the abort handler, then rseq_cs is cleared.  Every later restore
 * (release, undo, an error, the runner's own way back when the tracer
 * dies) puts back that aborted state; a thread released untouched was
 * aborted already.  A descriptor the kernel rejects (the word before the
 * abort handler is not the registered signature, ...) makes the kernel
 * kill the thread (SIGSEGV) at its next return to user space, which a stop
 * is: the run is refused before anything is injected.
 *
 * Kernels before 5.13 lack PTRACE_GET_RSEQ_CONFIGURATION: there nothing
 * can be known and nothing is done.
 */
#include <errno.h>
#include <linux/rseq.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "inject.h"

#ifndef AT_ARCH_NONE

/* What a thread's rseq area holds after cpu_id: rseq_cs, then flags. */
struct rseq_tail {
	uint64_t cs;
	uint32_t flags;
	uint32_t pad;
};

struct rseq_of {
	struct pt_thread *t;
	unsigned long area; /* its struct rseq */
	uint32_t sig;	    /* the signature it registered */
	struct rseq_tail tail;
	bool read;
};

/* Refuse the run: T would be killed by the kernel whatever we did. */
static int refuse(struct pt_ctx *c, const struct pt_thread *t, const char *what)
{
	pt_why(c,
	       "thread %d has %s: the kernel kills "
	       "it (SIGSEGV) when it next returns to user space; nothing was "
	       "changed",
	       (int)t->tid, what);
	return -ENOTSUP;
}

/* Judge R's section as the kernel does, and abort it where it would. */
static int settle(struct pt_ctx *c, struct rseq_of *r)
{
	struct pt_thread *t = r->t;
	struct rseq_cs cs;
	unsigned long ip = at_arch_resume_ip(&t->saved);
	uint64_t zero = 0;
	uint32_t sig;
	int err;

	if (pt_mem_read(c, (unsigned long)r->tail.cs, &cs, sizeof(cs)) < 0)
		return refuse(c, t,
			      "an rseq critical section whose "
			      "descriptor cannot be read");
	if (cs.version != 0 ||
	    cs.start_ip + cs.post_commit_offset < cs.start_ip)
		return refuse(c, t, "a malformed rseq critical section");
	if (cs.abort_ip - cs.start_ip < cs.post_commit_offset)
		return refuse(c, t,
			      "an rseq critical section whose abort "
			      "handler lies inside it");
	if (cs.abort_ip < sizeof(sig) ||
	    pt_mem_read(c, (unsigned long)cs.abort_ip - sizeof(sig), &sig,
			sizeof(sig)) < 0 ||
	    sig != r->sig)
		return refuse(c, t,
			      "an rseq critical section whose abort handler "
			      "lacks the signature it registered");
	if (ip - cs.start_ip >= cs.post_commit_offset)
		return 0; /* outside: the kernel only clears rseq_cs */
	if (cs.flags || r->tail.flags)
		return refuse(c, t,
			      "an rseq critical section with flags the "
			      "kernel no longer accepts");
	/* Registers first: a tracer that dies in between leaves a thread at
	 * its abort handler, whose rseq_cs the kernel then clears itself. */
	at_arch_abort_to(&t->saved, (unsigned long)cs.abort_ip);
	err = at_arch_set(t->tid, &t->saved);
	if (err)
		return err;
	err = pt_mem_write(c, r->area + offsetof(struct rseq, rseq_cs), &zero,
			   sizeof(zero));
	if (err) {
		pt_why(c, "cannot clear the rseq_cs of thread %d", (int)t->tid);
		return err;
	}
	return 0;
}

/* Every R's rseq_cs and flags, in one read where the memory allows. */
static void read_tails(struct pt_ctx *c, struct rseq_of *r, unsigned n)
{
	unsigned i, k, chunk;

	for (i = 0; i < n; i += chunk) {
		struct iovec l[256], rm[256];
		ssize_t got;

		chunk = n - i < 256 ? n - i : 256;
		for (k = 0; k < chunk; k++) {
			l[k].iov_base = &r[i + k].tail;
			l[k].iov_len = sizeof(r[i + k].tail);
			rm[k].iov_base =
				(void *)(r[i + k].area +
					 offsetof(struct rseq, rseq_cs));
			rm[k].iov_len = sizeof(r[i + k].tail);
		}
		got = process_vm_readv(c->mempid, l, chunk, rm, chunk, 0);
		for (k = 0; k < chunk; k++) {
			struct rseq_of *o = &r[i + k];

			/* Whole iovecs, in order, up to the first failure. */
			if (got >= (ssize_t)((k + 1) * sizeof(o->tail)))
				o->read = true;
			else
				o->read =
					pt_mem_read(
						c,
						o->area + offsetof(struct rseq,
								   rseq_cs),
						&o->tail, sizeof(o->tail)) == 0;
		}
	}
}

int pt_rseq_abort(struct pt_ctx *c)
{
	struct __ptrace_rseq_configuration conf;
	struct rseq_of *r;
	unsigned k, n = 0;
	int err = 0;

	r = calloc(c->n ? c->n : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];

		if (t->st != PT_STOPPED || !t->captured)
			continue;
		if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid,
			   (void *)sizeof(conf), &conf) < 0) {
			if (errno == EIO || errno == EINVAL)
				goto out; /* before 5.13: cannot know */
			continue;	  /* gone: found so later */
		}
		if (!conf.rseq_abi_pointer)
			continue;
		r[n].t = t;
		r[n].area = (unsigned long)conf.rseq_abi_pointer;
		r[n].sig = conf.signature;
		n++;
	}
	read_tails(c, r, n);
	for (k = 0; k < n && !err; k++) {
		if (!r[k].read)
			err = refuse(c, r[k].t,
				     "an rseq area that cannot be read");
		else if (r[k].tail.cs)
			err = settle(c, &r[k]);
	}
out:
	free(r);
	return err;
}

#endif /* AT_ARCH_NONE */
