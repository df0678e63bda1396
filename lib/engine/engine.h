/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine.h - internal interfaces between the parts of liballthreads and the
 * helper.  Nothing here is exported from liballthreads.so except the
 * AT_EXPORT functions below (the waiters and at_engine_install()), listed
 * in liballthreads.sym's ALLTHREADS_PRIVATE node for allthreads-helper.so
 * alone; no stability promised.
 */
#ifndef AT_ENGINE_H
#define AT_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "allthreads.h"
#include "compiler.h"
#include "rawsys.h"

/*
 * Waiters: threads that keep every signal blocked (the helper's receiver
 * thread) and so can never take the engine's signal while they run.  Such a
 * thread registers a waiter; a broadcast that meets its TID moves its state
 * word to AT_WAITER_FIXUP (compare-and-swap only) and wakes it: with a
 * kick (the engine's signal, carrying the engine's mark, queued for that
 * thread alone) and by waking the engine's lock word (in case the waiter
 * is waiting for the lock).  No descriptor is involved: nothing the
 * application can close or renumber stands between a broadcast and a
 * waiter.
 *
 * The waiter's side of the contract:
 *   - it keeps the engine's signal blocked except while it waits, and it
 *     waits only with a mask that lets that signal in (ppoll(2),
 *     epoll_pwait(2)... as raw system calls, which return EINTR for it);
 *     a kick sent while it was running stays pending and ends its next
 *     wait at once, so none is lost;
 *   - before it blocks, it calls at_waiter_begin_wait(); if that returns
 *     false a fixup is pending and it must call at_waiter_fixup() first
 *     and try again;
 *   - when it wakes, it calls at_waiter_end_wait(), which runs any pending
 *     fixup on this thread, leaves the state AT_WAITER_IDLE and takes note
 *     of the kicks so far: whatever they announced is visible to the
 *     waiter from then on, and a later kick sends a signal again;
 *   - while it runs between waits (state IDLE), a broadcast may still mark
 *     it FIXUP; it is bound to reach a wait point, or the engine's lock,
 *     within the broadcast's deadline, or it is reported as not answering.
 */
enum at_waiter_state {
	AT_WAITER_IDLE = 0,
	AT_WAITER_RECEIVING = 1,
	AT_WAITER_FIXUP = 2,
};

struct at_waiter {
	_Atomic int state;
	pid_t tid;
	_Atomic bool kicked; /* a kick is queued, or not yet noted */
};

/* Register W for the calling thread (sets W->tid).  At most a few waiters
 * exist per process; -ENOSPC when the table is full. */
AT_EXPORT int at_waiter_register(struct at_waiter *w);
/* IDLE -> RECEIVING; false if a fixup is pending (run it, then retry). */
AT_EXPORT bool at_waiter_begin_wait(struct at_waiter *w);
/* RECEIVING -> IDLE, running a pending fixup first if there is one; the
 * kicks so far are noted. */
AT_EXPORT void at_waiter_end_wait(struct at_waiter *w);
/* Run the pending fixup, if any, on the calling thread; state -> IDLE. */
AT_EXPORT void at_waiter_fixup(struct at_waiter *w);
/* Wake W's wait (or its next one) for a reason of the waiter's own, which
 * the caller has made visible before: one signal at most is queued until
 * W notes it.  False if the signal could not be queued (EAGAIN: the
 * process's queue is full); the caller tries again later. */
AT_EXPORT bool at_waiter_kick(struct at_waiter *w);

/* Install the engine's signal handler now rather than at the first
 * broadcast of a multi-threaded process (the helper does it at load). */
AT_EXPORT int at_engine_install(void);

/* Tell the engine whether signal SIG's disposition discards it (SIG_IGN,
 * or SIG_DFL for a signal whose default is to ignore it): while it serves
 * a broadcast, a thread blocks every signal except those (see
 * at_sigctx_serve()).  The helper's sigaction calls it before it installs
 * a handler, and after it installs an ignoring disposition. */
AT_EXPORT void at_engine_set_discarded(int sig, bool discarded);

/* libcap's hook, psx_load_syscalls(): liballthreads.so (api.c) and
 * allthreads-helper.so (helper.c) each export it, since the dynamic linker
 * takes the first definition it finds, strong or weak. */
typedef long at_libcap_fn3(long, long, long, long);
typedef long at_libcap_fn6(long, long, long, long, long, long, long);
void psx_load_syscalls(at_libcap_fn3 **syscall_fn, at_libcap_fn6 **syscall6_fn);

/* What both give libcap: the engine's all-threads calls. */
static inline void at_libcap_hook(at_libcap_fn3 **syscall_fn,
				  at_libcap_fn6 **syscall6_fn)
{
	if (syscall_fn)
		*syscall_fn = allthreads_libcap_syscall3;
	if (syscall6_fn)
		*syscall6_fn = allthreads_libcap_syscall6;
}

/* Per-thread state kept for a run, in preallocated memory. */
struct at_slot;

#endif /* AT_ENGINE_H */
