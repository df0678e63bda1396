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
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "engine.h"
#include "interpose.h"
#include "receiver.h"

static void forget_in_child(void)
{
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
	at_interpose_init(sig);
	/* The engine's handler, installed through our sigaction, which wraps
	 * it to count fixups. */
	at_engine_install();
	/* In case whoever started us left it blocked. */
	sigemptyset(&one);
	sigaddset(&one, sig);
	at_real_pthread_sigmask(SIG_UNBLOCK, &one, NULL);

	if (at_receiver_start(raw_ok) < 0)
		return;
	atexit(remove_socket);
	pthread_atfork(NULL, NULL, forget_in_child);
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
void psx_load_syscalls(long (**syscall_fn)(long, long, long, long),
		       long (**syscall6_fn)(long, long, long, long, long, long,
					    long));
AT_EXPORT void psx_load_syscalls(long (**syscall_fn)(long, long, long, long),
				 long (**syscall6_fn)(long, long, long, long,
						      long, long, long))
{
	if (syscall_fn)
		*syscall_fn = allthreads_libcap_syscall3;
	if (syscall6_fn)
		*syscall6_fn = allthreads_libcap_syscall6;
}
