// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ll-target.c - a target whose threads each check their own file access,
 * for the Landlock tests.
 *
 *   ll-target N ALLOWED DENIED
 *
 * Starts N threads, then prints "ready PID".  For each line read on
 * standard input, every thread (and the main thread) tries open(ALLOWED)
 * and open(DENIED) itself and the program prints one line per thread,
 * "TID ALLOWED-RESULT DENIED-RESULT" (ok, or the errno name), then "done".
 * Exits at end of input, or after 120 seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

struct result {
	pid_t tid;
	int allowed, denied;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned generation, reported;
static const char *allowed_path, *denied_path;
static struct result results[MAX_THREADS + 1];

static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void probe(unsigned slot)
{
	results[slot].tid = (pid_t)syscall(SYS_gettid);
	results[slot].allowed = try_open(allowed_path);
	results[slot].denied = try_open(denied_path);
}

static void *worker(void *arg)
{
	unsigned slot = (unsigned)(long)arg, seen = 0;

	pthread_mutex_lock(&lock);
	for (;;) {
		while (generation == seen)
			pthread_cond_wait(&cond, &lock);
		seen = generation;
		pthread_mutex_unlock(&lock);
		probe(slot);
		pthread_mutex_lock(&lock);
		reported++;
		pthread_cond_broadcast(&cond);
	}
	return NULL;
}

static const char *name(int err)
{
	return err == 0	     ? "ok" :
	       err == EACCES ? "EACCES" :
	       err == ENOENT ? "ENOENT" :
			       strerror(err);
}

int main(int argc, char **argv)
{
	char line[64];
	pthread_t th;
	unsigned n, i;

	if (argc != 4 || (n = (unsigned)atoi(argv[1])) > MAX_THREADS) {
		fprintf(stderr, "usage: ll-target N ALLOWED DENIED\n");
		return 64;
	}
	allowed_path = argv[2];
	denied_path = argv[3];
	for (i = 0; i < n; i++)
		if (pthread_create(&th, NULL, worker, (void *)(long)i))
			return 1;
	alarm(120);
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		struct timespec limit;

		pthread_mutex_lock(&lock);
		reported = 0;
		generation++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		probe(n);
		clock_gettime(CLOCK_REALTIME, &limit);
		limit.tv_sec += 10;
		pthread_mutex_lock(&lock);
		while (reported < n &&
		       pthread_cond_timedwait(&cond, &lock, &limit) == 0)
			;
		pthread_mutex_unlock(&lock);
		for (i = 0; i <= n; i++)
			printf("%d %s %s\n", results[i].tid,
			       name(results[i].allowed),
			       name(results[i].denied));
		printf("done\n");
		fflush(stdout);
	}
	return 0;
}
