// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * at-test-threads.c - an LD_PRELOAD library for the CLI tests: the program
 * it is loaded into (allthreads) starts with idle threads of its own, so a
 * change of "allthreads itself" reaches more than one thread.
 *
 *   AT_TEST_THREADS=N[:M] LD_PRELOAD=at-test-threads.so allthreads ...
 *
 * Before main, N threads (at most 5000) name themselves at-test-0,
 * at-test-1..., the first M of them block every signal (a thread the
 * engine's signal cannot reach), and they wait for ever.  Both variables
 * are taken out of the environment first, so a PROGRAM that allthreads
 * executes, and its children, start without them.  tests/cli/tap.sh's
 * threads_env and at_threads set them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 5000
/* How long the threads may take to start, in seconds. */
#define START_LIMIT 60
#define SELF "at-test-threads.so"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;
static unsigned next_index, ready, nblock;

static void *idle_thread(void *arg)
{
	char name[16];
	unsigned n;

	(void)arg;
	pthread_mutex_lock(&lock);
	n = next_index++;
	pthread_mutex_unlock(&lock);
	snprintf(name, sizeof(name), "at-test-%u", n);
	prctl(PR_SET_NAME, name);
	if (n < nblock) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	}
	pthread_mutex_lock(&lock);
	ready++;
	pthread_cond_signal(&started);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, SELF ": %s: %s\n", what, why);
	_exit(99); /* a hard error for TAP and meson, not a test result */
}

/* "N" or "N:M", 0 <= M <= N <= MAX_THREADS. */
static int parse_spec(const char *s, unsigned *n, unsigned *m)
{
	unsigned long a, b = 0;
	char *end;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (end == s || errno)
		return -EINVAL;
	if (*end == ':') {
		s = end + 1;
		b = strtoul(s, &end, 10);
		if (end == s || errno)
			return -EINVAL;
	}
	if (*end || a > MAX_THREADS || b > a)
		return -EINVAL;
	*n = a;
	*m = b;
	return 0;
}

/* Take this library out of LD_PRELOAD (entries are separated by ':' or
 * ' '), so that what allthreads executes does not load it again. */
static void drop_self_from_preload(void)
{
	const char *old = getenv("LD_PRELOAD");
	char *keep, *word, *save = NULL, *copy;
	size_t len = 0;

	if (!old)
		return;
	copy = strdup(old);
	keep = calloc(1, strlen(old) + 1);
	if (!copy || !keep)
		die("LD_PRELOAD", strerror(ENOMEM));
	for (word = strtok_r(copy, ": ", &save); word;
	     word = strtok_r(NULL, ": ", &save)) {
		const char *base = strrchr(word, '/');

		if (strcmp(base ? base + 1 : word, SELF) == 0)
			continue;
		len += sprintf(keep + len, "%s%s", len ? ":" : "", word);
	}
	if (len)
		setenv("LD_PRELOAD", keep, 1);
	else
		unsetenv("LD_PRELOAD");
	free(copy);
	free(keep);
}

__attribute__((constructor)) static void start_test_threads(void)
{
	const char *spec = getenv("AT_TEST_THREADS");
	struct timespec deadline;
	pthread_attr_t attr;
	pthread_t th;
	unsigned n, i;
	int err;

	if (!spec)
		return;
	if (parse_spec(spec, &n, &nblock))
		die(spec, "AT_TEST_THREADS is not N[:M] (0 <= M <= N <= 5000)");
	unsetenv("AT_TEST_THREADS");
	drop_self_from_preload();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < n; i++) {
		err = pthread_create(&th, &attr, idle_thread, NULL);
		if (err)
			die("pthread_create", strerror(err));
	}
	pthread_attr_destroy(&attr);
	/* main starts once every thread is named and has its mask. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += START_LIMIT;
	pthread_mutex_lock(&lock);
	while (ready < n) {
		err = pthread_cond_timedwait(&started, &lock, &deadline);
		if (err == ETIMEDOUT)
			die("threads", "not started in time");
	}
	pthread_mutex_unlock(&lock);
}
