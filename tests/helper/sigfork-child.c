// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sigfork-child.c - the fixture of test-sigfork-child.sh (issue 18), run
 * with the helper preloaded: a child forked inside a signal handler that
 * never returns from it, as PostgreSQL 15's postmaster starts its
 * walwriter and launchers from its SIGCHLD and SIGUSR1 handlers.
 *
 *   sigfork-child sleep     the child waits in nanosleep(), in the handler
 *   sigfork-child threads   the child first makes three threads (from the
 *                           handler), which wait on a condition variable
 *                           (no call the helper wraps); then as above
 *   sigfork-child returns FLAG
 *                           the child returns from the handler it was forked
 *                           in, with no wait on the way, and enters a new
 *                           one (SIGUSR2), which interrupted the child
 *                           itself: it writes "nested" on stdout and waits
 *                           there in nanosleep() until the file FLAG exists
 *                           (at most 30 s), then waits as above, outside
 *   sigfork-child storm SECONDS
 *                           for SECONDS, a thread sends SIGUSR1 to the main
 *                           thread every 10 ms while it makes and joins
 *                           threads, asks dladdr() and writes to a FILE
 *                           (it holds the thread-stack cache's and the
 *                           loader's locks, which pthread_create() takes,
 *                           and a FILE's); the handler forks, and each
 *                           child waits in the handler until it has a
 *                           second thread (its helper's receiver), 10 s
 *                           at most.  Then prints "storm FORKS STARTED FAILED
 *                           HUNG": children that exited 0, that exited
 *                           otherwise, and that were still there 20 s
 *                           later (killed).  malloc() is left out: glibc's
 *                           own fork() waits for ever for the malloc lock a
 *                           handler interrupted (the parent hangs there,
 *                           helper or not)
 *
 * The main thread waits in select() with every signal but SIGUSR1 blocked
 * (the postmaster's shape; with "returns", the signal is raised and taken
 * at once) and the handler runs with every signal blocked (its sa_mask is
 * full).  Prints "ready PID CHILD" on stdout once the child exists, then
 * waits (at most 60 s) for SIGTERM.  The child ends when its parent does,
 * or after 60 s.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child, in_child;
static bool with_threads, returns;
static const char *flag;
static pid_t parent;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The child's whole life, inside the handler that forked it. */
static void child_main(void)
{
	long long end = now_ms() + 60000;
	pthread_t th;
	int i;

	for (i = 0; with_threads && i < 3; i++)
		pthread_create(&th, NULL, waiter, NULL);
	while (now_ms() < end && getppid() == parent) {
		struct timespec t = { 0, 50000000L };

		nanosleep(&t, NULL);
	}
	_exit(0);
}

static void on_usr1(int sig)
{
	pid_t c;

	(void)sig;
	if (child)
		return;
	c = fork();
	if (c == 0 && returns)
		in_child = 1;
	else if (c == 0)
		child_main();
	else
		child = c;
}

/* --- storm ---------------------------------------------------------------- */

#define STORM_MAX 4096
static pid_t storm_kids[STORM_MAX];
static _Atomic int storm_forks, storm_ok, storm_bad, storm_reaped;
static _Atomic bool storm_stop;
static pthread_t storm_main;

/* The child's thread count, from /proc without malloc(). */
static int nthreads(void)
{
	char b[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	b[n] = 0;
	p = strstr(b, "\nThreads:");
	return p ? atoi(p + 9) : -1;
}

static void on_storm(int sig)
{
	int i, k;
	pid_t c;

	(void)sig;
	k = atomic_load(&storm_forks);
	if (k >= STORM_MAX)
		return;
	c = fork();
	if (c == 0) {
		for (i = 0; i < 1000; i++) {
			struct timespec t = { 0, 10000000L };

			nanosleep(&t, NULL);
			if (nthreads() >= 2)
				_exit(0);
		}
		_exit(1);
	}
	if (c > 0) {
		storm_kids[k] = c;
		atomic_store(&storm_forks, k + 1);
	}
}

static void *storm_kicker(void *arg)
{
	(void)arg;
	while (!atomic_load(&storm_stop)) {
		struct timespec t = { 0, 10000000L };

		pthread_kill(storm_main, SIGUSR1);
		nanosleep(&t, NULL);
	}
	return NULL;
}

static void *storm_reaper(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec t = { 0, 10000000L };
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0) {
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				atomic_fetch_add(&storm_ok, 1);
			else
				atomic_fetch_add(&storm_bad, 1);
			atomic_fetch_add(&storm_reaped, 1);
			continue;
		}
		if (p < 0 && atomic_load(&storm_stop))
			return NULL;
		nanosleep(&t, NULL);
	}
}

static void *nothing(void *arg)
{
	return arg;
}

static int storm(int seconds)
{
	struct sigaction sa;
	pthread_t k, r, t;
	long long end;
	long loops = 0;
	int i, n, hung = 0;
	FILE *f = fopen("/dev/null", "we");

	if (!f)
		return 2;
	storm_main = pthread_self();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_storm;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&r, NULL, storm_reaper, NULL);
	pthread_create(&k, NULL, storm_kicker, NULL);
	end = now_ms() + seconds * 1000LL;
	while (now_ms() < end) {
		Dl_info di;

		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
		dladdr((void *)storm, &di);
		fprintf(f, "%ld\n", loops++);
	}
	atomic_store(&storm_stop, true);
	pthread_join(k, NULL);
	n = atomic_load(&storm_forks);
	end = now_ms() + 20000;
	while (atomic_load(&storm_reaped) < n && now_ms() < end) {
		struct timespec w = { 0, 50000000L };

		nanosleep(&w, NULL);
	}
	for (i = 0; i < n; i++)
		if (kill(storm_kids[i], 0) == 0 &&
		    waitpid(storm_kids[i], NULL, WNOHANG) == 0) {
			kill(storm_kids[i], SIGKILL);
			hung++;
		}
	pthread_join(r, NULL);
	printf("storm %d %d %d %d\n", n, atomic_load(&storm_ok),
	       atomic_load(&storm_bad) - hung, hung);
	return 0;
}

/* A handler of the child's own: no helper may start in here. */
static void on_usr2(int sig)
{
	long long end = now_ms() + 30000;

	(void)sig;
	if (write(1, "nested\n", 7) != 7)
		return;
	while (access(flag, F_OK) != 0 && now_ms() < end) {
		struct timespec t = { 0, 20000000L };

		nanosleep(&t, NULL);
	}
}

static void returned_child(void)
{
	struct sigaction sa;
	sigset_t two;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	sigemptyset(&two);
	sigaddset(&two, SIGUSR2);
	sigprocmask(SIG_UNBLOCK, &two, NULL);
	raise(SIGUSR2);
	child_main();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	long long end;
	struct sigaction sa;
	sigset_t all, usr1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "storm") && argc > 2)
		return storm(atoi(argv[2]));
	returns = !strcmp(mode, "returns") && argc > 2;
	if (strcmp(mode, "sleep") && strcmp(mode, "threads") && !returns) {
		fprintf(stderr,
			"usage: sigfork-child sleep|threads|returns FLAG|"
			"storm SECONDS\n");
		return 64;
	}
	with_threads = !strcmp(mode, "threads");
	flag = returns ? argv[2] : NULL;
	parent = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	usr1 = all;
	sigdelset(&usr1, SIGUSR1);
	if (returns) {
		/* Taken as the mask lets it in, inside sigprocmask(): no
		 * call the helper wraps around it. */
		sigprocmask(SIG_SETMASK, &usr1, NULL);
		raise(SIGUSR1);
		if (in_child)
			returned_child();
		sigprocmask(SIG_BLOCK, &all, NULL);
	}
	if (!child)
		kill(getpid(), SIGUSR1); /* pending until select() lets it in */
	end = now_ms() + 10000;
	while (!child && now_ms() < end) {
		struct timeval t = { 0, 100000 };

		sigprocmask(SIG_SETMASK, &usr1, NULL);
		select(0, NULL, NULL, NULL, &t);
		sigprocmask(SIG_BLOCK, &all, NULL);
	}
	if (child <= 0)
		return 2;
	printf("ready %d %d\n", (int)getpid(), (int)child);
	end = now_ms() + 60000;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGTERM);
	while (now_ms() < end) {
		struct timespec t = { 1, 0 };

		if (sigtimedwait(&usr1, NULL, &t) == SIGTERM)
			break;
	}
	kill(child, SIGKILL);
	return 0;
}
