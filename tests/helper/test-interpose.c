// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-interpose.c - the interposed signal functions, in a process that
 * has the helper preloaded (the test re-executes itself with LD_PRELOAD):
 * the engine's signal cannot be blocked, waited for or taken over, and the
 * calls the kernel never restarts sleep their full time through a storm of
 * broadcasts, while a real application signal still interrupts them.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "../tap.h"
#include "hutil.h"

struct waitres {
	int r, err;
	long long ms;
};

static struct waitres res[8];
static _Atomic int done;
static _Atomic int usr2;

static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2, 1);
}

static void finish(int i, int r, long long t0)
{
	res[i].r = r;
	res[i].err = r < 0 ? errno : 0;
	res[i].ms = h_now_ms() - t0;
	atomic_fetch_add(&done, 1);
}

static void *w_poll(void *a)
{
	long long t0 = h_now_ms();

	(void)a;
	finish(0, poll(NULL, 0, 400), t0);
	return NULL;
}

static void *w_nanosleep(void *a)
{
	struct timespec ts = { 0, 400000000L };
	long long t0 = h_now_ms();

	(void)a;
	finish(1, nanosleep(&ts, NULL), t0);
	return NULL;
}

static void *w_sigtimedwait(void *a)
{
	struct timespec ts = { 0, 400000000L };
	long long t0 = h_now_ms();
	sigset_t set;

	(void)a;
	sigfillset(&set);
	sigdelset(&set, SIGUSR2);
	finish(2, sigtimedwait(&set, NULL, &ts), t0);
	return NULL;
}

static void *w_epoll(void *a)
{
	struct epoll_event ev;
	long long t0 = h_now_ms();
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)a;
	finish(3, epoll_wait(ep, &ev, 1, 400), t0);
	close(ep);
	return NULL;
}

static void *w_select(void *a)
{
	struct timeval tv = { 0, 400000 };
	long long t0 = h_now_ms();

	(void)a;
	finish(4, select(0, NULL, NULL, NULL, &tv), t0);
	return NULL;
}

static void *w_clock(void *a)
{
	struct timespec ts = { 0, 400000000L };
	long long t0 = h_now_ms();
	int r;

	(void)a;
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	finish(5, r ? -1 : 0, t0);
	return NULL;
}

static void *w_ppoll(void *a)
{
	struct timespec ts = { 0, 400000000L };
	long long t0 = h_now_ms();
	sigset_t all;

	(void)a;
	sigfillset(&all);
	sigdelset(&all, SIGUSR2);
	finish(6, ppoll(NULL, 0, &ts, &all), t0);
	return NULL;
}

/* A poll of 3 s that a real SIGUSR2 must cut short with EINTR. */
static void *w_real(void *a)
{
	long long t0 = h_now_ms();

	(void)a;
	finish(7, poll(NULL, 0, 3000), t0);
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *names[] = { "poll",	       "nanosleep",
				       "sigtimedwait", "epoll_wait",
				       "select",       "clock_nanosleep",
				       "ppoll" };
	void *(*fns[])(void *) = { w_poll,  w_nanosleep, w_sigtimedwait,
				   w_epoll, w_select,	 w_clock,
				   w_ppoll };
	int sig = allthreads_signal(), i, k, fails = 0;
	struct sigaction sa, old;
	pthread_t th[8];
	sigset_t set, cur;
	Dl_info info;
	void *hook;

	alarm(50);
	if (!getenv("LD_PRELOAD")) {
		const char *h = getenv("AT_HELPER");

		if (!h)
			tap_bail("AT_HELPER not set");
		setenv("LD_PRELOAD", h, 1);
		execv("/proc/self/exe", argv);
		tap_bail("cannot re-execute: %s", strerror(errno));
	}
	(void)argc;

	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	tap_ok(!sigismember(&cur, sig) && sigismember(&cur, SIGUSR1),
	       "a full mask leaves the engine's signal out");
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	errno = 0;
	tap_ok(sigaction(sig, &sa, NULL) < 0 && errno == EINVAL,
	       "sigaction on the engine's signal: EINVAL");
	tap_ok(signal(sig, SIG_DFL) == SIG_ERR && errno == EINVAL,
	       "signal() on it: EINVAL");
	tap_ok(sigaction(sig, NULL, &old) == 0 && (old.sa_flags & SA_SIGINFO),
	       "querying it works (the engine's handler is installed)");

	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGUSR2, NULL, &old);
	tap_ok(old.sa_handler == on_usr2 && !(old.sa_flags & SA_SIGINFO),
	       "an application handler reads back as itself");

	hook = dlsym(RTLD_DEFAULT, "psx_load_syscalls");
	tap_ok(hook && dladdr(hook, &info) &&
		       strstr(info.dli_fname, "allthreads-helper"),
	       "libcap's psx_load_syscalls resolves to the helper's (%s)",
	       hook && dladdr(hook, &info) ? info.dli_fname : "none");

	for (i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, i < 7 ? fns[i] : w_real, NULL);
	h_sleep_ms(20);
	/* A storm of broadcasts while they wait. */
	for (k = 0; k < 200 && atomic_load(&done) < 7; k++) {
		long r = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, k & 1,
					    0, 0, 0, 0);

		fails += r != 0;
		h_sleep_ms(1);
	}
	tap_ok(fails == 0 && k > 20, "%d broadcasts during the waits", k);
	pthread_kill(th[7], SIGUSR2);
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 7; i++)
		tap_ok(res[i].r == (i == 2 ? -1 : 0) &&
			       (i != 2 || res[i].err == EAGAIN) &&
			       res[i].ms >= 395,
		       "%s: no EINTR, slept its time (r %d, errno %d, %lld ms)",
		       names[i], res[i].r, res[i].err, res[i].ms);
	tap_ok(res[7].r == -1 && res[7].err == EINTR && res[7].ms < 2500 &&
		       atomic_load(&usr2) == 1,
	       "a real signal still interrupts poll with EINTR (%d, %lld ms)",
	       res[7].err, res[7].ms);
	{
		pid_t c = fork();
		int status = -1;

		if (c == 0) {
			execl(getenv("AT_LIBCAP_PROG"), "libcap-prog",
			      (char *)NULL);
			_exit(127);
		}
		int w = h_wait(c, 30000, &status);

		tap_ok(w == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       "an unmodified libcap program: cap_prctlw() reaches "
		       "every thread (%s)",
		       h_status_str(status));
	}
	return tap_done();
}
