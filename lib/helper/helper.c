// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * helper.c - allthreads-helper.so: the entry point.  Loaded with LD_PRELOAD
 * (by `allthreads run`, or by hand) or linked in, it makes this process
 * reachable by `allthreads -p PID`:
 *
 *   1. the interposed signal functions (interpose.c) keep the engine's
 *      signal deliverable on every thread and hide the EINTR it causes;
 *   2. the engine's handler is installed now, through those functions, so
 *      it is in place for every thread, present and future (threads
 *      inherit handlers and, with (1), an unblocked signal);
 *   3. one receiver thread (receiver.c) serves the control socket.
 *
 * Nothing here prints; a helper that cannot start simply leaves no socket,
 * which the client reports as "no helper".
 *
 * ALLTHREADS_ALLOW_RAW=1 in the environment at load lets the channel run
 * any system call, not just the credential and hardening ones.  It is read
 * once and removed, so children do not inherit the opt-in.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "engine.h"
#include "interpose.h"
#include "receiver.h"

/*
 * Forked children (issue 11.7).  A child made by fork() gets a helper of
 * its own: its own receiver thread, secret and socket.  Not from the
 * atfork child handler: the child may be about to do what only a
 * single-threaded process may (unshare(CLONE_NEWUSER), a setns, exec).
 * Instead the child handler only forgets the parent's receiver, and the
 * child starts its own at its first blocking call through our wrappers
 * (poll, epoll_wait, select, nanosleep, sigtimedwait, recv...): a prefork
 * worker reaches one at once.
 *
 * Not from inside a signal handler that interrupted the child: the code it
 * interrupted may hold a lock that pthread_create() takes (malloc's, the
 * loader's, the thread-stack cache's), and the start would wait for it for
 * ever.  But a handler the child was forked in is another matter (issue
 * 18: PostgreSQL 15's postmaster forks its walwriter and launchers in its
 * SIGCHLD handler, and they never return from it).  The code that handler
 * interrupted ran in the parent, before the fork, and fork() left none of
 * those locks held in the child: glibc's fork takes malloc's and stdio's
 * locks before the system call (had the interrupted code held one, the
 * fork would never have returned; a single-threaded parent's malloc takes
 * none) and, in the child, releases them and
 * makes the loader's and the stack cache's anew; ours are made anew by the
 * atfork child handlers (the engine's lock, the receiver's).  So the child
 * may start its helper in the handlers it was forked in, at any depth up
 * to theirs (interpose.c counts it: at_interpose_forked()), and only once
 * it has left them is the rule "no handler" again.  A child made without
 * fork() (the raw system call, _Fork, clone) runs no handler: at its first
 * such call it closes the parent's descriptors and starts nothing (the
 * engine refuses to run there).
 */
static bool helper_raw_ok;
static _Atomic pid_t helper_pid;    /* whose helper this is (or was tried) */
static _Atomic pid_t child_pending; /* set in a fork() child */

static void forget_in_child(void)
{
	at_interpose_forked();
	at_receiver_forget();
	atomic_store(&child_pending, getpid());
}

static void lazy_start(void)
{
	pid_t me, seen = atomic_load(&helper_pid);

	if (!seen)
		return; /* our constructor has not run */
	me = getpid();
	if (me == seen ||
	    !atomic_compare_exchange_strong(&helper_pid, &seen, me))
		return;
	if (atomic_load(&child_pending) == me)
		at_receiver_start(helper_raw_ok);
	else
		at_receiver_forget();
}

static void remove_socket(void)
{
	at_receiver_cleanup();
}

__attribute__((constructor)) static void at_helper_init(void)
{
	const char *raw = getenv("ALLTHREADS_ALLOW_RAW");
	bool raw_ok = raw && strcmp(raw, "1") == 0;
	int sig = allthreads_signal();
	sigset_t one;

	if (raw)
		unsetenv("ALLTHREADS_ALLOW_RAW");
	at_interpose_init(sig, lazy_start);
	/* The engine's handler, installed through our sigaction, which wraps
	 * it to count fixups. */
	at_engine_install();
	/* In case whoever started us left it blocked. */
	sigemptyset(&one);
	sigaddset(&one, sig);
	at_real_pthread_sigmask(SIG_UNBLOCK, &one, NULL);

	helper_raw_ok = raw_ok;
	atomic_store(&helper_pid, getpid());
	pthread_atfork(NULL, NULL, forget_in_child);
	atexit(remove_socket);
	at_receiver_start(raw_ok);
}

__attribute__((destructor)) static void at_helper_fini(void)
{
	at_receiver_cleanup();
}

/*
 * libcap asks for psx_load_syscalls() at start-up; its own is weak.  This
 * one (the helper is found first when preloaded) routes libcap's
 * state-changing calls through the engine, so unmodified libcap programs
 * act on every thread.  liballthreads exports the same; either gives the
 * same result.  It may run before our constructor: it only stores two
 * pointers.
 */
AT_EXPORT void psx_load_syscalls(at_libcap_fn3 **syscall_fn,
				 at_libcap_fn6 **syscall6_fn)
{
	at_libcap_hook(syscall_fn, syscall6_fn);
}
