// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sec-target.c - the fixture of the attack tests (issue 12), run with the
 * helper preloaded.  Prints "ready PID [CHILD]" on stdout when set up, then
 * waits (at most 60 s) for SIGTERM.
 *
 *   sec-target rawfork    three idle threads; a child made with the raw
 *                         fork system call (no atfork handler runs), which
 *                         waits with raw system calls only
 *   sec-target closefds LOG [range]
 *                         closes every descriptor from 3 to 1023 (a
 *                         daemon's start; with "range", every one from 3
 *                         with close_range()), opens a log file LOG and
 *                         a socket, then runs allthreads_syscall()
 *                         PR_SET_KEEPCAPS 0 three times and prints
 *                         "syscall R R R MS" before "ready"
 *   sec-target forker     three idle threads; fork()s a child that keeps
 *                         sleeping in nanosleep() (a prefork worker)
 *   sec-target zombie     three idle threads and one that ends the process
 *                         after 60 s (or at SIGTERM); the main thread calls
 *                         pthread_exit() after "ready": a zombie leader
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void threads(int n)
{
	pthread_t th;
	int i;

	for (i = 0; i < n; i++)
		pthread_create(&th, NULL, idle, NULL);
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void wait_for_term(void)
{
	long long end = now_ms() + 60000;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A stop and continue ends the wait with EINTR: wait on. */
	while (now_ms() < end) {
		struct timespec t = { 1, 0 };

		if (sigtimedwait(&set, NULL, &t) == SIGTERM)
			break;
	}
}

static void *ender(void *arg)
{
	(void)arg;
	wait_for_term();
	exit(0);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "rawfork")) {
		long c;

		threads(3);
		/* fork(2) by clone: arm64 has no SYS_fork. */
		c = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
		if (c == 0) {
			struct timespec t = { 60, 0 };

			/* Raw calls only: a child of a threaded process. */
			syscall(SYS_nanosleep, &t, NULL);
			syscall(SYS_exit_group, 0);
		}
		printf("ready %d %ld\n", (int)getpid(), c);
		wait_for_term();
		kill((pid_t)c, SIGKILL);
		return 0;
	}
	if (!strcmp(mode, "closefds") && argc > 2) {
		long long t0;
		long r[3];
		int fd, i;

		threads(3);
		if (argc > 3 && !strcmp(argv[3], "range"))
			close_range(3, ~0u, 0);
		else
			for (fd = 3; fd < 1024; fd++)
				close(fd);
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0 ||
		    socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0 ||
		    socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0)
			return 2;
		t0 = now_ms();
		for (i = 0; i < 3; i++)
			r[i] = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0,
						  0, 0, 0, 0);
		printf("syscall %ld %ld %ld %lld\n", r[0], r[1], r[2],
		       now_ms() - t0);
		printf("ready %d\n", (int)getpid());
		wait_for_term();
		return 0;
	}
	if (!strcmp(mode, "forker")) {
		pid_t c;

		threads(3);
		c = fork();
		if (c == 0) {
			long long end = now_ms() + 60000;

			while (now_ms() < end) {
				struct timespec t = { 0, 50000000L };

				nanosleep(&t, NULL);
				if (getppid() == 1)
					break;
			}
			_exit(0);
		}
		printf("ready %d %d\n", (int)getpid(), (int)c);
		wait_for_term();
		kill(c, SIGKILL);
		return 0;
	}
	if (!strcmp(mode, "zombie")) {
		pthread_t th;

		threads(3);
		pthread_create(&th, NULL, ender, NULL);
		printf("ready %d\n", (int)getpid());
		pthread_exit(NULL);
	}
	fprintf(stderr,
		"usage: sec-target rawfork|closefds LOG|forker|zombie\n");
	return 64;
}
