/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-stray.c - the engine's signal arriving from someone else.  The
 * application had its own handler for that signal before the engine's was
 * installed; signals that are not the engine's requests (sent with kill(2)
 * from another process, or sigqueue(3) from this one) must reach that
 * handler, never be taken as a request, and leave the engine working.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

static _Atomic int app_calls;
static _Atomic int app_code;
static _Atomic int app_value;

static void app_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	atomic_store(&app_code, si->si_code);
	atomic_store(&app_value, si->si_value.sival_int);
	atomic_fetch_add(&app_calls, 1);
}

static bool wait_calls(int n)
{
	for (int i = 0; i < 2000 && atomic_load(&app_calls) < n; i++)
		tu_sleep_ms(1);
	return atomic_load(&app_calls) >= n;
}

static int kill_parent(void *arg)
{
	pid_t parent = *(pid_t *)arg;

	return kill(parent, allthreads_signal()) == 0 ? 0 : 1;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = app_handler,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	struct tu_pool *pool;
	pid_t self = getpid();
	union sigval v = { .sival_int = 4242 };
	int sig = allthreads_signal();
	int ws = 0, rc;
	long ret;

	tu_watchdog(60);
	sigemptyset(&sa.sa_mask);
	tap_ok(sigaction(sig, &sa, NULL) == 0,
	       "the application handles signal %d itself", sig);
	pool = tu_pool_new(4, 40000);
	if (!pool)
		tap_bail("cannot start workers");

	ret = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0);
	tap_ok(ret == 0 && tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0,
	       "a broadcast works with the application's handler in place");
	tap_ok(atomic_load(&app_calls) == 0,
	       "the engine's own requests never reached the application (%d)",
	       atomic_load(&app_calls));

	rc = tu_child(kill_parent, &self, 5000, &ws);
	tap_ok(rc == 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 &&
		       wait_calls(1) && atomic_load(&app_code) == SI_USER,
	       "kill(2) from another process reaches the application's "
	       "handler (%d calls)",
	       atomic_load(&app_calls));

	tap_ok(sigqueue(self, sig, v) == 0 && wait_calls(2) &&
		       atomic_load(&app_code) == SI_QUEUE &&
		       atomic_load(&app_value) == 4242,
	       "sigqueue(3) from this process reaches it too, with its value");

	ret = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	tap_ok(ret == 0 && tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 0) == 0 &&
		       prctl(PR_GET_KEEPCAPS) == 0,
	       "the engine still works afterwards");
	tap_ok(atomic_load(&app_calls) == 2,
	       "and the application saw exactly its own two signals (%d)",
	       atomic_load(&app_calls));
	tap_ok(tu_pool_free(pool, 5000) == 0, "workers joined");
	return tap_done();
}
