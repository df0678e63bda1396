/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * target.c - the benchmark's fixture process: N idle threads and a main
 * thread that answers one-line commands on stdin.
 *
 *   allthreads-bench-target N [--timeout SECONDS] [--gap]
 *
 * Prints "ready PID TASKS" once every thread is parked on a condition
 * variable, then reads commands, one per line:
 *
 *   check    every thread reads prctl(PR_GET_KEEPCAPS); prints
 *            "keepcaps ONES TASKS" (ONES threads, the main one included,
 *            hold 1)
 *   sigmask  times pthread_sigmask(SIG_BLOCK, empty set) calls; prints
 *            "sigmask NS" (nanoseconds per call, through the PLT, so an
 *            LD_PRELOADed interposer is what is measured)
 *   gap      prints "gap NS": the longest time one thread was kept from
 *            running, as the thread itself saw it, since the last "gap"
 *            (with --gap only; "gap -1" without), once the watcher has
 *            measured once more since the command came
 *   quit     exits
 *
 * With --gap, one of the N threads is the watcher: it wakes every
 * millisecond (an absolute deadline, so lateness does not accumulate) and
 * keeps the largest lateness it sees.  A thread that is stopped, or kept
 * from a CPU, wakes late by that much: this is the pause a service's
 * timer-driven thread notices, whatever the route says of its own window.
 * It answers "check" as the idle threads do, polling between sleeps.
 *
 * End of input exits too, and so does the timeout (default 120 s): the
 * fixture never outlives a benchmark that lost track of it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static unsigned gen;
static int stop;
static atomic_uint started, done, ones;
static time_t end_at;
static _Atomic long long gap_ns = -1; /* -1: no watcher */
static atomic_uint gap_wakes;	      /* the watcher's measurements so far */

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void probe(void)
{
	if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1)
		atomic_fetch_add(&ones, 1);
	atomic_fetch_add(&done, 1);
}

static void *idle_main(void *arg)
{
	unsigned seen;
	unsigned i;

	(void)arg;
	pthread_mutex_lock(&mu);
	seen = gen;
	atomic_fetch_add(&started, 1);
	/* A wake-up is a probe, the stop, or the 60 s timeout: bounded. */
	for (i = 0; i < 100000 && !stop && mono_s() < end_at; i++) {
		struct timespec ts;

		if (gen != seen) {
			seen = gen;
			pthread_mutex_unlock(&mu);
			probe();
			pthread_mutex_lock(&mu);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 60;
		pthread_cond_timedwait(&cv, &mu, &ts);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static long long ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* The watcher (--gap): see the head comment. */
static void *gap_main(void *arg)
{
	struct timespec next, now;
	unsigned seen = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);
	long long late;

	(void)arg;
	atomic_store(&gap_ns, 0);
	atomic_fetch_add(&started, 1);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) &&
	       next.tv_sec < end_at) {
		unsigned g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);

		if (g != seen) {
			seen = g;
			probe();
		}
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = ts_ns(&now) - ts_ns(&next);
		if (late > atomic_load(&gap_ns))
			atomic_store(&gap_ns, late);
		atomic_fetch_add(&gap_wakes, 1);
		/* Behind by more than a period: start again from now. */
		if (late > 1000000)
			next = now;
	}
	return NULL;
}

static void on_alarm(int sig)
{
	static const char msg[] = "allthreads-bench-target: timeout\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/* Wait until COUNTER reaches N, for at most MS milliseconds. */
static int wait_count(atomic_uint *counter, unsigned n, unsigned ms)
{
	struct timespec pause = { 0, 100000 };
	unsigned i;

	for (i = 0; i < ms * 10; i++) {
		if (atomic_load(counter) >= n)
			return 0;
		nanosleep(&pause, NULL);
	}
	return -1;
}

static void cmd_check(unsigned n)
{
	atomic_store(&done, 0);
	atomic_store(&ones, 0);
	pthread_mutex_lock(&mu);
	gen++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	probe();
	if (wait_count(&done, n + 1, 10000) < 0)
		printf("keepcaps %u %u timeout\n", atomic_load(&ones), n + 1);
	else
		printf("keepcaps %u %u\n", atomic_load(&ones), n + 1);
}

/*
 * The largest lateness since the last call, and a fresh start.  Asked
 * right after a route let the threads go, the watcher may not have run
 * since: its lateness is known only when it wakes, so the answer waits
 * (1 s at most) for one more of its measurements.
 */
static void cmd_gap(void)
{
	long long g;

	if (atomic_load(&gap_ns) >= 0)
		wait_count(&gap_wakes, atomic_load(&gap_wakes) + 1, 1000);
	g = atomic_load(&gap_ns);

	if (g >= 0)
		atomic_store(&gap_ns, 0);
	printf("gap %lld\n", g);
}

static void cmd_sigmask(void)
{
	struct timespec t0, t1;
	sigset_t empty;
	unsigned i, calls = 200000;

	sigemptyset(&empty);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < calls; i++)
		pthread_sigmask(SIG_BLOCK, &empty, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("sigmask %.1f\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
		       calls);
}

int main(int argc, char **argv)
{
	pthread_condattr_t ca;
	pthread_attr_t attr;
	pthread_t *tids;
	unsigned long n;
	unsigned timeout = 120, i, lines;
	int a, gap = 0;
	char line[128];

	if (argc < 2) {
		fprintf(stderr, "usage: %s N [--timeout SECONDS] [--gap]\n",
			argv[0]);
		return 64;
	}
	n = strtoul(argv[1], NULL, 10);
	if (n > 100000) {
		fprintf(stderr, "%s: too many threads\n", argv[0]);
		return 64;
	}
	for (a = 2; a < argc; a++) {
		if (strcmp(argv[a], "--timeout") == 0 && a + 1 < argc)
			timeout = (unsigned)strtoul(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--gap") == 0)
			gap = 1;
	}
	signal(SIGALRM, on_alarm);
	alarm(timeout);
	end_at = mono_s() + timeout;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	tids = calloc(n ? n : 1, sizeof(*tids));
	if (!tids)
		return 1;
	for (i = 0; i < n; i++) {
		int err = pthread_create(&tids[i], &attr,
					 gap && i == 0 ? gap_main : idle_main,
					 NULL);

		if (err) {
			fprintf(stderr, "%s: pthread_create: %s\n", argv[0],
				strerror(err));
			return 1;
		}
	}
	if (wait_count(&started, n, 30000) < 0) {
		fprintf(stderr, "%s: threads did not start\n", argv[0]);
		return 1;
	}
	/* Every thread that counted itself has released the mutex only by
	 * entering its wait: taking it once means all are parked. */
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d %lu\n", (int)getpid(), n + 1);

	for (lines = 0; lines < 100000; lines++) {
		if (!fgets(line, sizeof(line), stdin)) {
			/* a debugger's inferior call may interrupt the read */
			if (ferror(stdin) && errno == EINTR) {
				clearerr(stdin);
				continue;
			}
			break;
		}
		if (strncmp(line, "check", 5) == 0)
			cmd_check((unsigned)n);
		else if (strncmp(line, "sigmask", 7) == 0)
			cmd_sigmask();
		else if (strncmp(line, "gap", 3) == 0)
			cmd_gap();
		else if (strncmp(line, "quit", 4) == 0)
			break;
		else
			printf("error unknown command\n");
	}
	/* Leave without joining: exit ends every thread at once. */
	return 0;
}
