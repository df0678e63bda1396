// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * waiters.c - threads that keep every signal blocked (the helper's receiver
 * thread) and so are woken, not signalled at random: a broadcast that
 * meets one moves its state word to AT_WAITER_FIXUP and kicks it, with the
 * engine's signal queued for it alone, which it lets in only while it
 * waits (the contract is in engine.h).  No descriptor is written: the
 * application cannot close or renumber what wakes a waiter.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broadcast.h"

#define AT_MAX_WAITERS 8

static struct at_waiter *_Atomic waiters[AT_MAX_WAITERS];
static __thread struct at_waiter *my_waiter;

int at_waiter_register(struct at_waiter *w)
{
	int i;

	at_process_init();
	w->tid = (pid_t)at_sys0(SYS_gettid);
	atomic_store(&w->state, AT_WAITER_IDLE);
	atomic_store(&w->kicked, false);
	for (i = 0; i < AT_MAX_WAITERS; i++) {
		struct at_waiter *none = NULL;

		if (atomic_compare_exchange_strong(&waiters[i], &none, w)) {
			my_waiter = w;
			return 0;
		}
	}
	return -ENOSPC;
}

void at_waiter_fixup(struct at_waiter *w)
{
	/* Clear first: a poke that comes after this is seen next time. */
	atomic_store(&w->state, AT_WAITER_IDLE);
	at_sigctx_serve(atomic_load(&at_run_cur), w->tid);
}

bool at_waiter_begin_wait(struct at_waiter *w)
{
	int expect = AT_WAITER_IDLE;

	return atomic_compare_exchange_strong(&w->state, &expect,
					      AT_WAITER_RECEIVING);
}

void at_waiter_end_wait(struct at_waiter *w)
{
	int expect = AT_WAITER_RECEIVING;

	/* Noted before anything is looked at: a kick from now on queues a
	 * signal again, and what an earlier one announced is visible. */
	atomic_store(&w->kicked, false);

	if (!atomic_compare_exchange_strong(&w->state, &expect, AT_WAITER_IDLE))
		at_waiter_fixup(w);
}

static struct at_waiter *find_waiter(pid_t tid)
{
	int i;

	for (i = 0; i < AT_MAX_WAITERS; i++) {
		struct at_waiter *w = atomic_load(&waiters[i]);

		if (w && w->tid == tid)
			return w;
	}
	return NULL;
}

bool at_waiter_is(pid_t tid)
{
	return find_waiter(tid) != NULL;
}

/* The engine's signal with the engine's mark, for W's thread alone: its
 * handler finds its slot by TID, serves it if there is one and otherwise
 * does nothing; the wait it interrupts returns EINTR. */
AT_EXPORT bool at_waiter_kick(struct at_waiter *w)
{
	long r;

	if (atomic_exchange(&w->kicked, true))
		return true; /* one is queued, or the waiter has not noted it */
	r = at_process_signal(w->tid, getuid());
	if (r < 0)
		atomic_store(&w->kicked, false);
	return r == 0;
}

int at_waiter_poke(pid_t tid)
{
	struct at_waiter *w = find_waiter(tid);
	int cur;

	if (!w)
		return -ENOENT;
	cur = atomic_load(&w->state);
	while (cur != AT_WAITER_FIXUP &&
	       !atomic_compare_exchange_weak(&w->state, &cur, AT_WAITER_FIXUP))
		;
	return at_waiter_kick(w) ? 0 : -EAGAIN;
}

void at_waiter_fixup_mine(void)
{
	if (my_waiter && atomic_load(&my_waiter->state) == AT_WAITER_FIXUP)
		at_waiter_fixup(my_waiter);
}

void at_waiters_forget(void)
{
	int i;

	for (i = 0; i < AT_MAX_WAITERS; i++)
		atomic_store(&waiters[i], NULL);
	my_waiter = NULL;
}
