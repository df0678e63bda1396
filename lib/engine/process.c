// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * process.c - the process the engine serves: its pid and signal, the
 * handler's installation, and fork.  fork waits for a running broadcast;
 * the child starts afresh, with none of the parent's threads, waiters or
 * locks.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "broadcast.h"
#include "timespec.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pid_t at_pid;
static int at_sig;
static _Atomic int leader_zombie;

static void lock_for_fork(void);
static void unlock_for_fork(void);
static void reset_in_child(void);

static void init_once(void)
{
	at_sig = SIGRTMAX - 1;
	at_pid = getpid();
	atomic_store(&at_sigctx_pid, at_pid);
	pthread_atfork(lock_for_fork, unlock_for_fork, reset_in_child);
}

void at_process_init(void)
{
	pthread_once(&once, init_once);
}

/* Record the pid at load, not at first use: a first call could come from
 * a vfork(2) child. */
__attribute__((constructor)) static void at_engine_load(void)
{
	at_process_init();
}

int at_engine_signal(void)
{
	at_process_init();
	return at_sig;
}

pid_t at_process_pid(void)
{
	return at_pid;
}

bool at_process_leader_zombie(void)
{
	return atomic_load(&leader_zombie);
}

void at_process_set_leader_zombie(void)
{
	atomic_store(&leader_zombie, 1);
}

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
	at_pid = getpid();
	atomic_store(&at_sigctx_pid, at_pid);
	atomic_store(&leader_zombie, 0);
	at_waiters_forget();
	at_reserve_forget();
	at_stuck_forget();
	at_tasks_forget();
}

void at_engine_set_discarded(int sig, bool discarded)
{
	uint64_t bit;

	if (sig <= 0 || sig > 64)
		return;
	bit = 1ull << (sig - 1);
	if (discarded)
		atomic_fetch_or(&at_sigctx_open, bit);
	else
		atomic_fetch_and(&at_sigctx_open, ~bit);
}

int at_process_install_handler(void)
{
	struct sigaction cur, sa;

	if (sigaction(at_sig, NULL, &cur) < 0)
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == at_sigctx_handler)
		return 0;
	at_sigctx_prev = cur;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = at_sigctx_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(at_sig, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int at_engine_install(void)
{
	struct timespec deadline;
	int ret;

	at_process_init();
	at_ts_after_ms(&deadline, 10000);
	ret = at_lock_take(&deadline);
	if (ret < 0)
		return ret;
	ret = at_process_install_handler();
	at_lock_release();
	return ret;
}
