// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * target.c - a plain multi-threaded process for the ptrace route's tests,
 * started WITHOUT the allthreads helper.
 *
 *   ptrace-target N [zombie]
 *   ptrace-target hold TID     (seize TID and keep it until stdin closes:
 *                               "already traced by someone else")
 *
 * N idle threads wait on a condition variable (FUTEX_WAIT); one thread is
 * blocked in read() on a pipe; one sleeps in nanosleep() for 1.5 s at a
 * time.  With "zombie", the main thread exits with pthread_exit() once all
 * are in place (the leader becomes a zombie).  Prints
 *   ready PID WFD
 * (WFD: the write end of the reader's pipe, reachable as /proc/PID/fd/WFD),
 * then, from stdin, one command per line:
 *   r   every thread prints "tid TID keepcaps K nnp N uid U gid G" (its own
 *       view, from prctl and getresuid)
 *   q   exit
 * The reader prints "read R BYTE errno E" when its read() returns; the
 * sleeper "nanosleep R errno E ms M" after each sleep.  Exits after 120 s
 * at most, so a test that forgets it leaves nothing behind for long.
 */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned gen;
static int pipefd[2];
static pthread_barrier_t ready;

static void say(void)
{
	unsigned r, e, s, rg, eg, sg;

	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	pthread_mutex_lock(&lock);
	printf("tid %ld keepcaps %d nnp %d uid %u gid %u\n",
	       (long)syscall(SYS_gettid), prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0),
	       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), e, eg);
	fflush(stdout);
	pthread_mutex_unlock(&lock);
}

static void *idle(void *arg)
{
	unsigned seen;

	pthread_mutex_lock(&lock);
	seen = gen;
	pthread_mutex_unlock(&lock);
	pthread_barrier_wait(&ready);
	for (;;) {
		pthread_mutex_lock(&lock);
		while (gen == seen)
			pthread_cond_wait(&cond, &lock);
		seen = gen;
		pthread_mutex_unlock(&lock);
		say();
	}
	return arg;
}

static void *reader(void *arg)
{
	char c = 0;
	ssize_t r;

	pthread_barrier_wait(&ready);
	for (;;) {
		r = read(pipefd[0], &c, 1);
		pthread_mutex_lock(&lock);
		printf("read %zd %c errno %d\n", r, r == 1 ? c : '-',
		       r < 0 ? errno : 0);
		fflush(stdout);
		pthread_mutex_unlock(&lock);
		say();
	}
	return arg;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *sleeper(void *arg)
{
	pthread_barrier_wait(&ready);
	for (;;) {
		struct timespec ts = { 1, 500000000 }, t0;
		long r;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = syscall(SYS_nanosleep, &ts, NULL);
		pthread_mutex_lock(&lock);
		printf("nanosleep %ld errno %d ms %ld\n", r, r ? errno : 0,
		       ms_since(&t0));
		fflush(stdout);
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

static void *commands(void *arg)
{
	char line[64];

	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'q')
			exit(0);
		if (line[0] == 'r') {
			say();
			pthread_mutex_lock(&lock);
			gen++;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
		}
	}
	exit(0);
	return arg;
}

static void *watchdog(void *arg)
{
	sleep(120);
	exit(1);
	return arg;
}

static int hold(pid_t tid)
{
	char line[64];

	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
		perror("PTRACE_SEIZE");
		return 1;
	}
	printf("holding %d\n", (int)tid);
	fflush(stdout);
	alarm(120);
	while (fgets(line, sizeof(line), stdin))
		;
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, i;
	bool zombie = argc > 2 && !strcmp(argv[2], "zombie");
	pthread_t th;

	if (argc > 2 && !strcmp(argv[1], "hold"))
		return hold((pid_t)atoi(argv[2]));
	if (n < 0 || n > 4000 || pipe(pipefd))
		return 2;
	pthread_barrier_init(&ready, NULL, (unsigned)n + 3);
	for (i = 0; i < n; i++)
		if (pthread_create(&th, NULL, idle, NULL))
			return 2;
	if (pthread_create(&th, NULL, reader, NULL) ||
	    pthread_create(&th, NULL, sleeper, NULL) ||
	    pthread_create(&th, NULL, watchdog, NULL))
		return 2;
	pthread_barrier_wait(&ready);
	printf("ready %d %d\n", (int)getpid(), pipefd[1]);
	fflush(stdout);
	if (zombie) {
		if (pthread_create(&th, NULL, commands, NULL))
			return 2;
		pthread_exit(NULL);
	}
	commands(NULL);
	return 0;
}
