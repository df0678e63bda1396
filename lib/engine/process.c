// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * process.c - the process the engine serves: its pid and signal, the
 * handler's installation, the request queued for one of its threads, and
 * the facts every part asks (the leader seen a zombie, the signals whose
 * disposition discards them).  It asks no other part of the engine but
 * sigctx.c: the parts above it (waiters.c, lock.c, stuck.c, broadcast.c,
 * fork.c) ask it.
 *
 * Its sigaction(2) goes through the helper's sigaction where the helper is
 * loaded (lib/helper/interpose.c, 2. and 3.), on purpose: the helper wraps
 * the engine's handler to count fixups, which is how it tells a fixup's
 * EINTR from the application's, and answers a query with the engine's own
 * handler, which is how at_process_install_handler() sees it installed.
 * The two files share that libc name only: neither links to the other.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broadcast.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pid_t at_pid;
static int at_sig;
static _Atomic int leader_zombie;

static void init_once(void)
{
	at_sig = SIGRTMAX - 1;
	at_pid = getpid();
	atomic_store(&at_sigctx_pid, at_pid);
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

void at_process_forget(void)
{
	at_pid = getpid();
	atomic_store(&at_sigctx_pid, at_pid);
	atomic_store(&leader_zombie, 0);
}

/* rt_tgsigqueueinfo, like tgkill: a TID reused by another process is
 * refused.  The siginfo carries the engine's mark (at_sigctx_mark), so the
 * handler tells a request from the application's own pthread_kill of the
 * same signal (which goes to the application's handler).  The handler
 * finds its slot by its own TID; nothing in siginfo is trusted beyond
 * that. */
long at_process_signal(pid_t tid, uid_t uid)
{
	siginfo_t si;

	at_process_init();
	memset(&si, 0, sizeof(si));
	si.si_signo = at_sig;
	si.si_code = SI_QUEUE;
	si.si_pid = at_pid;
	si.si_uid = uid;
	si.si_value.sival_ptr = at_sigctx_mark;
	return at_sys4(SYS_rt_tgsigqueueinfo, at_pid, tid, at_sig, &si);
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
