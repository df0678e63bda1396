// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * threaded.c - a multi-threaded target for the show and check tests.
 *
 *   threaded N [churn [K] | nosetuid]
 *
 * Starts N threads named "worker"; then, each on its own thread only:
 * thread 1 sets NO_NEW_PRIVS, thread 2 renames itself "odd-one", thread 3
 * drops CAP_NET_RAW from its effective set (when it has it) and thread 4
 * sets KEEP_CAPS (which /proc does not show).  With "nosetuid",
 * thread 5 drops CAP_SETUID and CAP_SETGID from its effective set instead
 * (and thread 3 keeps CAP_NET_RAW).
 * With "churn", one more
 * thread (K more) starts and joins short-lived threads without end, so
 * that threads come and go while they are read.  Prints "ready PID" when
 * all are in place, then waits: at most 120 seconds, so a test that
 * forgets it leaves nothing behind for long.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#define MAX_THREADS 256

struct shared {
	pthread_barrier_t ready;
	int nosetuid;
};

struct worker {
	struct shared *sh;
	int index;
};

static void drop_effective(unsigned long long caps)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return;
	data[0].effective &= ~(unsigned)caps;
	data[1].effective &= ~(unsigned)(caps >> 32);
	syscall(SYS_capset, &hdr, data);
}

static void *work(void *arg)
{
	struct worker *w = arg;

	prctl(PR_SET_NAME, w->index == 2 ? "odd-one" : "worker");
	if (w->index == 1)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (w->index == 3 && !w->sh->nosetuid)
		drop_effective(1ULL << CAP_NET_RAW);
	if (w->index == 5 && w->sh->nosetuid)
		drop_effective(1ULL << CAP_SETUID | 1ULL << CAP_SETGID);
	if (w->index == 4)
		prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	pthread_barrier_wait(&w->sh->ready);
	for (;;)
		pause();
	return NULL;
}

static void *brief(void *arg)
{
	return arg;
}

static void *churn(void *arg)
{
	pthread_t th;

	prctl(PR_SET_NAME, "churn");
	for (;;) {
		if (pthread_create(&th, NULL, brief, NULL) == 0)
			pthread_join(th, NULL);
	}
	return arg;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	struct shared sh;
	pthread_t th;
	int n, i;

	n = argc > 1 ? atoi(argv[1]) : 4;
	if (n < 0 || n > MAX_THREADS) {
		fprintf(stderr, "usage: threaded [0..%d]\n", MAX_THREADS);
		return 64;
	}
	pthread_barrier_init(&sh.ready, NULL, n + 1);
	sh.nosetuid = argc > 2 && strcmp(argv[2], "nosetuid") == 0;
	for (i = 0; i < n; i++) {
		workers[i].sh = &sh;
		workers[i].index = i + 1;
		if (pthread_create(&th, NULL, work, &workers[i]))
			return 1;
	}
	pthread_barrier_wait(&sh.ready);
	if (argc > 2 && strcmp(argv[2], "churn") == 0) {
		int k = argc > 3 ? atoi(argv[3]) : 1;

		for (i = 0; i < k && i < 16; i++)
			if (pthread_create(&th, NULL, churn, NULL))
				return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	alarm(120);
	for (;;)
		pause();
}
