// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * audit-bench.c - how long `allthreads audit` takes on a host with many
 * processes and threads (issue 10: 500 processes, 20,000 threads, well
 * under a second).  Never run by `meson test`: a benchmark, not a test.
 *
 *   allthreads-audit-bench ALLTHREADS [--procs N] [--threads N] [--reps N]
 *
 * Starts N processes of T threads each (idle, in pause()), then runs
 * `ALLTHREADS -q audit` over the whole host REPS times and prints one
 * line: the host's process and thread counts during the runs, and the
 * minimum and median wall time.  Every process it started is killed and
 * reaped before it exits.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* A child: T-1 more threads, then tell the parent through FD. */
static void child(unsigned threads, int fd)
{
	pthread_attr_t attr;
	pthread_t th;
	unsigned i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 1; i < threads; i++)
		if (pthread_create(&th, &attr, idle, NULL))
			_exit(1);
	if (write(fd, "r", 1) != 1)
		_exit(1);
	alarm(600); /* never outlive a lost parent by long */
	for (;;)
		pause();
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The host's processes and threads now. */
static void count_host(unsigned *procs, unsigned *threads)
{
	struct dirent *de;
	DIR *d = opendir("/proc");

	*procs = *threads = 0;
	while (d && (de = readdir(d))) {
		char path[300];
		struct dirent *te;
		DIR *t;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
		t = opendir(path);
		if (!t)
			continue;
		(*procs)++;
		while ((te = readdir(t)))
			*threads += te->d_name[0] != '.';
		closedir(t);
	}
	if (d)
		closedir(d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned nprocs = 500, nthreads = 40, reps = 10, i, hp, ht;
	const char *at;
	pid_t *kids;
	double *ms;
	int pfd[2], a;
	char c;

	if (argc < 2) {
		fprintf(stderr,
			"usage: %s ALLTHREADS [--procs N] [--threads N] "
			"[--reps N]\n",
			argv[0]);
		return 64;
	}
	at = argv[1];
	for (a = 2; a + 1 < argc; a += 2) {
		unsigned v = strtoul(argv[a + 1], NULL, 10);

		if (strcmp(argv[a], "--procs") == 0 && v && v <= 5000)
			nprocs = v;
		else if (strcmp(argv[a], "--threads") == 0 && v && v <= 1000)
			nthreads = v;
		else if (strcmp(argv[a], "--reps") == 0 && v && v <= 1000)
			reps = v;
		else {
			fprintf(stderr, "%s: %s %s: bad option\n", argv[0],
				argv[a], argv[a + 1]);
			return 64;
		}
	}
	kids = calloc(nprocs, sizeof(*kids));
	ms = calloc(reps, sizeof(*ms));
	if (!kids || !ms || pipe(pfd))
		return 1;
	for (i = 0; i < nprocs; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(pfd[0]);
			child(nthreads, pfd[1]);
		}
		if (kids[i] < 0) {
			perror("fork");
			nprocs = i;
			goto out;
		}
	}
	close(pfd[1]);
	for (i = 0; i < nprocs; i++)
		if (read(pfd[0], &c, 1) != 1) {
			fprintf(stderr, "a child did not start\n");
			goto out;
		}
	count_host(&hp, &ht);
	for (i = 0; i < reps; i++) {
		double t0 = now_ms();
		pid_t p = fork();
		int st;

		if (p == 0) {
			if (!freopen("/dev/null", "w", stdout))
				_exit(126);
			execl(at, at, "-q", "audit", (char *)NULL);
			_exit(127);
		}
		waitpid(p, &st, 0);
		ms[i] = now_ms() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
			fprintf(stderr, "allthreads audit failed (status %d)\n",
				st);
			goto out;
		}
	}
	qsort(ms, reps, sizeof(*ms), cmp_double);
	printf("audit: host of %u processes, %u threads (%u x %u started): "
	       "min %.1f ms, median %.1f ms over %u runs\n",
	       hp, ht, nprocs, nthreads, ms[0], ms[reps / 2], reps);
out:
	for (i = 0; i < nprocs; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (i = 0; i < nprocs; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	free(kids);
	free(ms);
	return 0;
}
