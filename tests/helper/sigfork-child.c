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
 *
 * The main thread waits in select() with every signal but SIGUSR1 blocked
 * (the postmaster's shape; with "returns", the signal is raised and taken
 * at once) and the handler runs with every signal blocked (its sa_mask is
 * full).  Prints "ready PID CHILD" on stdout once the child exists, then
 * waits (at most 60 s) for SIGTERM.  The child ends when its parent does,
 * or after 60 s.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
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
	returns = !strcmp(mode, "returns") && argc > 2;
	if (strcmp(mode, "sleep") && strcmp(mode, "threads") && !returns) {
		fprintf(stderr,
			"usage: sigfork-child sleep|threads|returns FLAG\n");
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
