// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * target.c - the helper tests' fixture: a process to drive through its
 * helper (run with LD_PRELOAD=allthreads-helper.so).
 *
 *   target NWORKERS STATUSFILE
 *
 * Threads: NWORKERS idle workers (condition-variable waits), a sigwait
 * thread (sigwaitinfo on INT/HUP/USR1/TERM, which every thread blocks), a
 * poll() thread and a read() thread (each on its own pipe), a broadcaster
 * (runs the engine from inside, on request); main is one more worker.
 *
 * Commands, by signal:
 *   SIGUSR1  every thread reads its own PR_GET_KEEPCAPS and timer slack;
 *            the sigwait thread then writes STATUSFILE (atomically):
 *              gen G / eintr E / unexpected U / app_runs R / app_fail F /
 *              app_rcv R2 / tid TID keepcaps K slack S   (one per thread)
 *   SIGHUP   the broadcaster runs 200 PR_SET_TIMERSLACK broadcasts through
 *            the engine API, back to back
 *   SIGINT   a new thread blocks the engine's signal with a raw
 *            rt_sigprocmask (behind the helper's back) and sleeps: every
 *            later broadcast waits for its deadline
 *   SIGTERM  exit 0
 * Any other signal that reaches a handler counts as unexpected.  Every
 * EINTR seen by the poll, read and sigwait threads is counted.
 * The process exits by itself after 120 s (times AT_TIMEOUT_FACTOR)
 * whatever happens.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"

#define MAX_THREADS 256

struct sample {
	_Atomic pid_t tid;
	_Atomic long keepcaps;
	_Atomic long slack;
	_Atomic unsigned gen;
};

static struct sample samples[MAX_THREADS];
static _Atomic int nsamples;
static _Atomic unsigned want; /* generation asked for */
static _Atomic unsigned long eintr, unexpected;
static _Atomic unsigned long app_runs, app_fail, app_rcv;
static _Atomic int hup_pending; /* batches asked for */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int poll_pipe[2], read_pipe[2];
static const char *status_path;

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static struct sample *my_sample(void)
{
	int i = atomic_fetch_add(&nsamples, 1);

	if (i >= MAX_THREADS)
		abort();
	atomic_store(&samples[i].tid, gettid_raw());
	return &samples[i];
}

static void take(struct sample *s)
{
	atomic_store(&s->keepcaps, prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	atomic_store(&s->slack, prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	atomic_store(&s->gen, atomic_load(&want));
}

static void on_unexpected(int sig)
{
	(void)sig;
	atomic_fetch_add(&unexpected, 1);
}

static void worker_loop(struct sample *s)
{
	unsigned seen = 0;
	int i;

	take(s);
	for (i = 0; i < 100000; i++) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 1;
		pthread_mutex_lock(&mu);
		if (atomic_load(&want) == seen)
			pthread_cond_timedwait(&cv, &mu, &t);
		pthread_mutex_unlock(&mu);
		if (atomic_load(&want) != seen) {
			seen = atomic_load(&want);
			take(s);
		}
	}
}

static void *worker(void *arg)
{
	(void)arg;
	worker_loop(my_sample());
	return NULL;
}

static void *poller(void *arg)
{
	struct sample *s = my_sample();
	int i;

	(void)arg;
	take(s);
	for (i = 0; i < 1000000; i++) {
		struct pollfd p = { .fd = poll_pipe[0], .events = POLLIN };
		int r = poll(&p, 1, 60000);
		char c;

		if (r < 0 && errno == EINTR)
			atomic_fetch_add(&eintr, 1);
		if (r > 0 && read(poll_pipe[0], &c, 1) == 1)
			take(s);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct sample *s = my_sample();
	int i;

	(void)arg;
	take(s);
	for (i = 0; i < 1000000; i++) {
		char c;
		ssize_t r = read(read_pipe[0], &c, 1);

		if (r < 0 && errno == EINTR)
			atomic_fetch_add(&eintr, 1);
		if (r == 1)
			take(s);
	}
	return NULL;
}

static pid_t receiver_tid(void)
{
	char path[300], comm[32];
	struct dirent *de;
	pid_t tid = -1;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	while (d && tid < 0 && (de = readdir(d)) && n++ < 4096) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strcmp(comm, "allthreads-rcv\n"))
			tid = atoi(de->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return tid;
}

static void *broadcaster(void *arg)
{
	struct sample *s = my_sample();
	pid_t rcv = receiver_tid();
	int i, k;

	(void)arg;
	take(s);
	for (i = 0; i < 120000; i++) {
		struct timespec t = { 0, 1000000L };

		if (atomic_load(&s->gen) != atomic_load(&want))
			take(s);
		if (atomic_load(&hup_pending) == 0) {
			nanosleep(&t, NULL);
			continue;
		}
		atomic_fetch_sub(&hup_pending, 1);
		for (k = 0; k < 200; k++) {
			long args[2];
			struct allthreads_prog *p = allthreads_prog_new();
			struct allthreads_report *rep = NULL;
			unsigned j;
			int r;

			args[0] = PR_SET_TIMERSLACK;
			args[1] = 60000 + k;
			allthreads_prog_add(p, SYS_prctl, 2, args,
					    ALLTHREADS_JUDGE_EQUAL);
			r = allthreads_run(p, 5000, 0,
					   ALLTHREADS_MISMATCH_REPORT, &rep);
			atomic_fetch_add(&app_runs, 1);
			if (r != 0)
				atomic_fetch_add(&app_fail, 1);
			for (j = 0; rep && j < allthreads_report_nthreads(rep);
			     j++)
				if (allthreads_report_tid(rep, j) == rcv &&
				    allthreads_report_state(rep, j) ==
					    ALLTHREADS_T_OK)
					atomic_fetch_add(&app_rcv, 1);
			allthreads_report_free(rep);
			allthreads_prog_free(p);
		}
	}
	return NULL;
}

static void *blocker(void *arg)
{
	unsigned long set = 1UL << (allthreads_signal() - 1);

	(void)arg;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	sleep(60);
	return NULL;
}

static void write_status(void)
{
	char tmp[4096];
	FILE *f;
	int i, n = atomic_load(&nsamples);

	snprintf(tmp, sizeof(tmp), "%s.tmp", status_path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "gen %u\neintr %lu\nunexpected %lu\n", atomic_load(&want),
		atomic_load(&eintr), atomic_load(&unexpected));
	fprintf(f, "app_runs %lu\napp_fail %lu\napp_rcv %lu\n",
		atomic_load(&app_runs), atomic_load(&app_fail),
		atomic_load(&app_rcv));
	for (i = 0; i < n; i++)
		fprintf(f, "tid %d keepcaps %ld slack %ld fresh %d\n",
			atomic_load(&samples[i].tid),
			atomic_load(&samples[i].keepcaps),
			atomic_load(&samples[i].slack),
			atomic_load(&samples[i].gen) == atomic_load(&want));
	fclose(f);
	rename(tmp, status_path);
}

/* Ask every thread for a fresh sample; wait (bounded) until all gave it. */
static void sample_all(struct sample *me)
{
	int i, k, n;

	atomic_fetch_add(&want, 1);
	take(me);
	pthread_mutex_lock(&mu);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (write(poll_pipe[1], "x", 1) < 0 || write(read_pipe[1], "x", 1) < 0)
		return;
	for (k = 0; k < 2000; k++) {
		struct timespec t = { 0, 1000000L };

		n = atomic_load(&nsamples);
		for (i = 0; i < n; i++)
			if (atomic_load(&samples[i].gen) != atomic_load(&want))
				break;
		if (i == n)
			break;
		nanosleep(&t, NULL);
	}
	write_status();
}

static void *sigwaiter(void *arg)
{
	struct sample *s = my_sample();
	sigset_t set;
	int i;

	(void)arg;
	take(s);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	for (i = 0; i < 1000000; i++) {
		siginfo_t si;
		pthread_t th;
		int r = sigwaitinfo(&set, &si);

		if (r < 0) {
			if (errno == EINTR)
				atomic_fetch_add(&eintr, 1);
			continue;
		}
		switch (r) {
		case SIGUSR1:
			sample_all(s);
			break;
		case SIGHUP:
			atomic_fetch_add(&hup_pending, 1);
			break;
		case SIGINT:
			pthread_create(&th, NULL, blocker, NULL);
			break;
		case SIGTERM:
			exit(0);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t th;
	sigset_t set;
	const char *env = getenv("AT_TIMEOUT_FACTOR");
	int i, n, sig, factor;

	if (argc != 3)
		return 64;
	n = atoi(argv[1]);
	status_path = argv[2];
	/* The bound, times AT_TIMEOUT_FACTOR (emulation, tests/arm64/vm.sh). */
	factor = atoi(env ? env : "1");
	alarm(120 * (unsigned)(factor < 1 ? 1 : factor > 100 ? 100 : factor));
	if (n < 0 || n > MAX_THREADS - 8 || pipe2(poll_pipe, O_CLOEXEC) < 0 ||
	    pipe2(read_pipe, O_CLOEXEC) < 0)
		return 1;
	/* Every thread blocks everything (the helper leaves its own signal
	 * out); only the sigwait thread takes INT/HUP/USR1/TERM. */
	sigfillset(&set);
	sigdelset(&set, SIGUSR2);
	sigdelset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_unexpected;
	sigaction(SIGUSR2, &sa, NULL);
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		if (sigaction(sig, &sa, NULL) < 0 && sig != allthreads_signal())
			return 2;
	/* The engine's own signal must be refused. */
	if (sigaction(allthreads_signal(), &sa, NULL) == 0 ||
	    signal(allthreads_signal(), SIG_IGN) != SIG_ERR)
		return 3;
	my_sample();
	for (i = 0; i < n; i++)
		pthread_create(&th, NULL, worker, NULL);
	pthread_create(&th, NULL, poller, NULL);
	pthread_create(&th, NULL, reader, NULL);
	pthread_create(&th, NULL, broadcaster, NULL);
	pthread_create(&th, NULL, sigwaiter, NULL);
	for (i = 0; i < 1000; i++) {
		struct timespec t = { 0, 1000000L };

		if (atomic_load(&nsamples) >= n + 5)
			break;
		nanosleep(&t, NULL);
	}
	write_status();
	worker_loop(&samples[0]); /* main is one more idle worker */
	return 0;
}
