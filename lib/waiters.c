// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * waiters.c - threads that keep every signal blocked (the helper's receiver
 * thread) and so are woken, not signalled: a broadcast that meets one
 * moves its state word to AT_WAITER_FIXUP and writes to its eventfd (the
 * contract is in engine.h).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>

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
	uint64_t drain;

	/* Clear first: a poke that comes after this is seen next time. */
	atomic_store(&w->state, AT_WAITER_IDLE);
	if (w->wake_fd >= 0)
		at_sys3(SYS_read, w->wake_fd, &drain, sizeof(drain));
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

bool at_waiter_poke(pid_t tid)
{
	struct at_waiter *w = find_waiter(tid);
	uint64_t one = 1;
	int cur;

	if (!w)
		return false;
	cur = atomic_load(&w->state);
	while (cur != AT_WAITER_FIXUP &&
	       !atomic_compare_exchange_weak(&w->state, &cur, AT_WAITER_FIXUP))
		;
	if (w->wake_fd >= 0)
		at_sys3(SYS_write, w->wake_fd, &one, sizeof(one));
	/* It may be waiting for the engine lock rather than in its poll. */
	at_lock_wake_all();
	return true;
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
