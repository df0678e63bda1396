// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * window-target.c - the target of the ptrace route's window test
 * (test-api.c, test_window()): threads that would notice running their
 * own code while the route still works on others.
 *
 *   at-window-target N
 *
 * N threads; thread I sets its KEEP_CAPS to I % 2, then loops: its own
 * name read (PR_GET_NAME), and if it is "at-win-on" (which only the
 * route's program gives it) the word `early` set to 1; its KEEP_CAPS kept
 * where the main thread sees it; 1 ms of sleep.  A thread the route let
 * go before the others had run sets `early` while they still run, and a
 * step write(WFD, &early, 1) in a later thread records it.  Prints
 *   ready PID WFD EARLY TS
 * (WFD the write end of a pipe; EARLY the address of `early`; TS that of
 * a struct timespec of 2 ms, for a step that sleeps), then, from stdin:
 *   g   "bytes B set S": what the steps wrote into the pipe so far, B
 *       bytes of which S were not 0
 *   k   "keepcaps SAME OTHER": threads whose KEEP_CAPS is (is not) I % 2,
 *       each seen after the command came
 *   q   exit
 * Exits after 120 s at most.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

static atomic_int early;
static const struct timespec step_ts = { 0, 2000000 };
static atomic_int keep[MAX_THREADS];
static atomic_uint seen[MAX_THREADS];

static void *worker(void *arg)
{
	unsigned i = (unsigned)(unsigned long)arg;
	struct timespec ms = { 0, 1000000 };
	char name[17];

	prctl(PR_SET_KEEPCAPS, i % 2, 0, 0, 0);
	for (;;) {
		memset(name, 0, sizeof(name));
		prctl(PR_GET_NAME, name, 0, 0, 0);
		if (!strcmp(name, "at-win-on"))
			atomic_store(&early, 1);
		atomic_store(&keep[i], prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
		atomic_fetch_add(&seen[i], 1);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/* Every thread's KEEP_CAPS, each read after now (2 s at most). */
static void cmd_keepcaps(unsigned n)
{
	unsigned was[MAX_THREADS], i, same = 0, other = 0, tries;
	struct timespec ms = { 0, 1000000 };

	for (i = 0; i < n; i++)
		was[i] = atomic_load(&seen[i]);
	for (tries = 0; tries < 2000; tries++) {
		for (i = 0; i < n; i++)
			if (atomic_load(&seen[i]) - was[i] < 2)
				break;
		if (i == n)
			break;
		nanosleep(&ms, NULL);
	}
	for (i = 0; i < n; i++) {
		if (atomic_load(&seen[i]) - was[i] < 2)
			continue; /* not seen: neither */
		if (atomic_load(&keep[i]) == (int)(i % 2))
			same++;
		else
			other++;
	}
	printf("keepcaps %u %u\n", same, other);
}

int main(int argc, char **argv)
{
	unsigned n, i, bytes = 0, set = 0;
	int fds[2];
	char line[64];

	n = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
	if (n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "usage: at-window-target N (1 to %d)\n",
			MAX_THREADS);
		return 64;
	}
	if (pipe2(fds, O_CLOEXEC) || fcntl(fds[0], F_SETFL, O_NONBLOCK))
		return 1;
	alarm(120);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		pthread_t th;

		if (pthread_create(&th, NULL, worker, (void *)(unsigned long)i))
			return 1;
	}
	for (i = 0; i < n; i++)
		while (!atomic_load(&seen[i]))
			usleep(1000);
	printf("ready %d %d %p %p\n", (int)getpid(), fds[1], (void *)&early,
	       (const void *)&step_ts);
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'g') {
			char buf[512];
			ssize_t r, k;

			while ((r = read(fds[0], buf, sizeof(buf))) > 0)
				for (k = 0; k < r; k++) {
					bytes++;
					set += buf[k] != 0;
				}
			printf("bytes %u set %u\n", bytes, set);
		} else if (line[0] == 'k') {
			cmd_keepcaps(n);
		} else if (line[0] == 'q') {
			break;
		}
	}
	return 0;
}
