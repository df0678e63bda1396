// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * faulty.c - a target for the fault tests: threads that wait, a heartbeat,
 * and faults on request.
 *
 *   faulty N HEARTBEAT-FILE
 *
 * N threads wait on a condition variable; one more writes a counter into
 * HEARTBEAT-FILE every 20 ms (so a test sees the process run).  The main
 * thread waits for signals (blocked in every thread):
 *   SIGUSR1  exec this program again (same arguments): the process
 *            changes its image in the middle of whatever happens
 *   SIGUSR2  fork a child that lives 3 s
 * Prints "ready PID" once the threads run (again after an exec).  With
 * FAULTY_EXECS=N in the environment it execs itself N times in a row, 20
 * ms apart (an exec storm), then waits.  Exits by itself after 120 s.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const char *beat_path;

static void *idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

static void *beat(void *arg)
{
	struct timespec ts = { 0, 20000000 };
	unsigned long n = 0;
	char buf[32];
	int fd = open(beat_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	(void)arg;
	for (;;) {
		int len = snprintf(buf, sizeof(buf), "%20lu\n", ++n);

		if (fd >= 0 && pwrite(fd, buf, (size_t)len, 0) < 0)
			break;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t set;
	int n, i, sig;

	if (argc != 3)
		return 64;
	n = atoi(argv[1]);
	beat_path = argv[2];
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&t, &attr, idle, NULL))
			return 1;
	if (pthread_create(&t, &attr, beat, NULL))
		return 1;
	alarm(120);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	{
		const char *e = getenv("FAULTY_EXECS");
		int left = e ? atoi(e) : 0;

		if (left > 0) {
			struct timespec ts = { 0, 20000000 };
			char buf[16];

			nanosleep(&ts, NULL);
			snprintf(buf, sizeof(buf), "%d", left - 1);
			setenv("FAULTY_EXECS", buf, 1);
			execv("/proc/self/exe", argv);
			return 1;
		}
	}
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGALRM)
			return 0;
		if (sig == SIGUSR1) {
			execv("/proc/self/exe", argv);
			return 1;
		}
		if (fork() == 0) {
			sleep(3);
			_exit(0);
		}
	}
}
