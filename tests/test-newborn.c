/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-newborn.c - threads born during a run inherit the new state from
 * the thread that made them: such a thread is a success, never a false
 * failure.
 *
 * 50 idle threads and 4 threads that keep creating short-lived threads;
 * allthreads_syscall(SYS_setfsuid, uid) 300 times, a new fsuid each time
 * (setfsuid returns the previous fsuid, judged EQUAL).  A thread created
 * by one already changed starts with the new fsuid, so its "previous
 * value" is the new one.  Every call must succeed, and afterwards every
 * thread /proc lists must show the last fsuid.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define IDLE 50
#define SPAWNERS 4
#define CALLS 300
#define MAX_SPAWN 1000000 /* per spawner: a bound only */

static _Atomic int stop;
static _Atomic long spawned;

static void *idle_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < 6000 && !atomic_load(&stop); i++)
		tu_sleep_ms(10);
	return NULL;
}

static void *child_main(void *arg)
{
	(void)arg;
	return NULL;
}

static void *spawner_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < MAX_SPAWN && !atomic_load(&stop); i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, child_main, NULL) == 0) {
			pthread_join(t, NULL);
			atomic_fetch_add(&spawned, 1);
		}
	}
	return NULL;
}

/* The fsuid (4th Uid field) of every listed thread equal to WANT? */
static int count_wrong_fsuid(long want)
{
	pid_t tids[512];
	int n = tu_task_list(tids, 512), bad = 0;

	for (int i = 0; i < n; i++) {
		char buf[128];
		long v[4];

		if (tu_task_status(tids[i], "Uid", buf, sizeof(buf)) < 0)
			continue; /* exited meanwhile */
		if (sscanf(buf, "%ld %ld %ld %ld", &v[0], &v[1], &v[2],
			   &v[3]) == 4 &&
		    v[3] != want) {
			if (bad++ < 3)
				tap_diag("tid %d: fsuid %ld, want %ld",
					 (int)tids[i], v[3], want);
		}
	}
	return bad;
}

int main(void)
{
	pthread_t idle[IDLE], sp[SPAWNERS];
	long last = 0, fails = 0;
	long long t0;
	int i;

	tu_watchdog(120);
	if (!tu_has_cap(7 /* CAP_SETUID */)) {
		tap_skip(2, "needs CAP_SETUID");
		return tap_done();
	}
	for (i = 0; i < IDLE; i++)
		pthread_create(&idle[i], NULL, idle_main, NULL);
	for (i = 0; i < SPAWNERS; i++)
		pthread_create(&sp[i], NULL, spawner_main, NULL);
	tu_sleep_ms(50);
	t0 = tu_now_ms();
	for (i = 0; i < CALLS; i++) {
		long uid = 1000 + i % 97;
		long r = allthreads_syscall(SYS_setfsuid, uid, 0, 0, 0, 0, 0);

		if (r < 0) {
			if (fails++ < 5)
				tap_diag("call %d: setfsuid(%ld): %s", i, uid,
					 strerror((int)-r));
		} else {
			last = uid;
		}
	}
	tap_diag("%d calls in %lld ms, %ld threads created meanwhile", CALLS,
		 tu_now_ms() - t0, atomic_load(&spawned));
	tap_ok(fails == 0, "%d setfsuid broadcasts under churn: %ld failed",
	       CALLS, fails);
	atomic_store(&stop, 1);
	for (i = 0; i < SPAWNERS; i++)
		pthread_join(sp[i], NULL);
	tap_ok(last && count_wrong_fsuid(last) == 0,
	       "every thread shows the last fsuid %ld", last);
	for (i = 0; i < IDLE; i++)
		pthread_join(idle[i], NULL);
	allthreads_syscall(SYS_setfsuid, 0, 0, 0, 0, 0, 0);
	return tap_done();
}
