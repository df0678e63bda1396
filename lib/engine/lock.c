// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lock.c - the engine lock: one run at a time in a process.  A futex word,
 * not a pthread mutex: a waiter (waiters.c) that waits for it must still
 * run the fixups a broadcast asks of it, and fork must be able to take it
 * without waiting when the forking thread already holds it.
 */
#include <errno.h>
#include <limits.h>

#include "broadcast.h"

/* A bound on the attempts of at_lock_take(). */
#define AT_LOCK_MAX_WAITS 1000000

static _Atomic int lock_word; /* 0 free, 1 taken, 2 taken and contended */

int at_lock_take(const struct timespec *deadline)
{
	int c = 0, n;

	if (atomic_compare_exchange_strong(&lock_word, &c, 1))
		return 0;
	/* Contended from here on.  Whoever has waited leaves the word at 2
	 * when it takes the lock, never at 1: it cannot know whether others
	 * sleep too, and a 1 would make its release wake nobody. */
	if (c != 2)
		c = atomic_exchange(&lock_word, 2);
	for (n = 0; c != 0; n++) {
		if (n == AT_LOCK_MAX_WAITS)
			return -ETIMEDOUT;
		at_waiter_fixup_mine();
		if (at_futex_wait(&lock_word, 2, deadline) == -ETIMEDOUT)
			return -ETIMEDOUT;
		c = atomic_exchange(&lock_word, 2);
	}
	return 0;
}

bool at_lock_try(void)
{
	int free_word = 0;

	return atomic_compare_exchange_strong(&lock_word, &free_word, 1);
}

void at_lock_release(void)
{
	if (atomic_exchange(&lock_word, 0) == 2)
		at_futex_wake(&lock_word, 1);
}

void at_lock_wake_all(void)
{
	at_futex_wake(&lock_word, INT_MAX);
}

void at_lock_forget(void)
{
	atomic_store(&lock_word, 0);
}
