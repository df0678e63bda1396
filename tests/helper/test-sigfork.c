// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-sigfork.c - issue 12.7: fork() from a signal handler that
 * interrupted allthreads_syscall() must not hang (fork is
 * async-signal-safe; the atfork prepare handler used to wait an hour for
 * the engine lock its own thread held).  A kicker thread signals the main
 * thread while it runs broadcasts back to back; the handler forks.  The
 * test is bounded by alarm(): a hang kills it.
 *
 * The kicker signals again only after the handler has returned, and then
 * leaves the main thread at least as long as that handler took: a kicker
 * faster than fork() (emulated arm64 forks in about 100 ms) would keep the
 * main thread in its handler for good, a hang of the test's own making.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "allthreads.h"

static pthread_t main_thread;
static _Atomic bool stop;
static volatile sig_atomic_t inside;
static _Atomic int forks, forks_inside, fork_fail;
static _Atomic int handled;
static _Atomic long long handler_ns;

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_usr1(int sig)
{
	int saved = errno;
	long long t0 = now_ns();
	pid_t c;

	(void)sig;
	c = fork();
	if (c == 0)
		_exit(0);
	if (c < 0) {
		atomic_fetch_add(&fork_fail, 1);
	} else {
		waitpid(c, NULL, 0);
		atomic_fetch_add(&forks, 1);
		if (inside)
			atomic_fetch_add(&forks_inside, 1);
	}
	atomic_store(&handler_ns, now_ns() - t0);
	atomic_fetch_add(&handled, 1);
	errno = saved;
}

static void *kicker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int before = atomic_load(&handled);
		struct timespec t = { 0, 50000L };
		long long gap;
		int n;

		pthread_kill(main_thread, SIGUSR1);
		for (n = 0; n < 100000 && !atomic_load(&stop) &&
			    atomic_load(&handled) == before;
		     n++)
			nanosleep(&t, NULL);
		gap = atomic_load(&handler_ns);
		if (gap < 300000L)
			gap = 300000L;
		t.tv_sec = gap / 1000000000LL;
		t.tv_nsec = gap % 1000000000LL;
		nanosleep(&t, NULL);
	}
	return NULL;
}

static void *idle(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct timespec t = { 0, 10000000L };

		nanosleep(&t, NULL);
	}
	return NULL;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(void)
{
	struct sigaction sa;
	pthread_t k, w[3];
	long long end;
	int i, calls = 0, bad = 0;

	alarm(30);
	for (i = 0; i < 3; i++)
		pthread_create(&w[i], NULL, idle, NULL);
	/* One run first: the engine reserves its memory at its first run,
	 * and glibc's own fork() waits for malloc's lock, which a handler
	 * that interrupted malloc would wait for in vain (glibc's limit,
	 * not ours).  Later runs allocate nothing. */
	allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	main_thread = pthread_self();
	pthread_create(&k, NULL, kicker, NULL);
	end = now_ms() + 1500;
	while (now_ms() < end ||
	       (atomic_load(&forks_inside) == 0 && now_ms() < end + 10000)) {
		long r;

		inside = 1;
		r = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0,
				       0);
		inside = 0;
		calls++;
		bad += r != 0;
	}
	atomic_store(&stop, true);
	pthread_join(k, NULL);
	for (i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	tap_ok(atomic_load(&forks_inside) > 0,
	       "%d forks from a handler that interrupted allthreads_syscall() "
	       "(%d in all, %d failed), none hung",
	       atomic_load(&forks_inside), atomic_load(&forks),
	       atomic_load(&fork_fail));
	tap_ok(calls > 0 && bad == 0, "%d broadcasts meanwhile, %d failed",
	       calls, bad);
	tap_done();
	return 0;
}
