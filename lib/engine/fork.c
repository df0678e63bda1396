// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fork.c - fork(2) and the engine: fork waits for a running broadcast
 * (it takes the engine lock), and the child starts afresh, with none of
 * the parent's threads, waiters or locks: each part forgets what it knew.
 * It stands above every other part of the engine and is asked by none;
 * its handlers are registered once, when liballthreads.so is loaded.
 */
#include <pthread.h>
#include <stdbool.h>

#include "broadcast.h"
#include "timespec.h"

/* fork() is async-signal-safe: from a handler that interrupted this
 * thread's own run, it must not wait for the lock that run holds (it would
 * wait the whole hour): then the lock is taken only if it is free, and
 * fork goes on either way (the child resets it). */
static __thread bool fork_locked;

static void lock_for_fork(void)
{
	struct timespec far;

	if (at_in_broadcast) {
		fork_locked = at_lock_try();
		return;
	}
	at_ts_now(&far);
	far.tv_sec += 3600;
	fork_locked = at_lock_take(&far) == 0;
}

static void unlock_for_fork(void)
{
	if (fork_locked)
		at_lock_release();
	fork_locked = false;
}

static void reset_in_child(void)
{
	at_lock_forget();
	at_process_forget();
	at_waiters_forget();
	at_reserve_forget();
	at_stuck_forget();
	at_tasks_forget();
}

__attribute__((constructor)) static void at_fork_load(void)
{
	pthread_atfork(lock_for_fork, unlock_for_fork, reset_in_child);
}
