// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * service.c - a small multi-threaded "service" for the demo: workers
 * waiting on a condition variable, one in poll(), one reading a pipe and
 * one dedicated signal thread in sigwaitinfo(), as real daemons have.  It
 * knows nothing of allthreads; `allthreads run` gives it the helper.
 * Prints "ready PID" and runs until SIGTERM/SIGINT or 10 minutes pass.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int pipefd[2];

static void *worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "worker-%ld", (long)arg);
	prctl(PR_SET_NAME, name);
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&cond, &lock);
	return NULL;
}

static void *poller(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "poller");
	for (;;)
		poll(NULL, 0, 60000);
	return NULL;
}

static void *reader(void *arg)
{
	char c;

	(void)arg;
	prctl(PR_SET_NAME, "reader");
	while (read(pipefd[0], &c, 1) > 0)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	sigset_t set;
	pthread_t t;
	long i;

	if (workers < 0 || workers > 1000 || pipe(pipefd) < 0)
		return 2;
	/* Every thread inherits this mask: signals go to sigwaitinfo. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 1; i <= workers; i++)
		pthread_create(&t, NULL, worker, (void *)i);
	pthread_create(&t, NULL, poller, NULL);
	pthread_create(&t, NULL, reader, NULL);
	prctl(PR_SET_NAME, "service");
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	alarm(600);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig == SIGTERM || sig == SIGINT)
			return 0;
	}
}
