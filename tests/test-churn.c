/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-churn.c - threads created and exiting during broadcasts, and two
 * threads broadcasting at once.
 *
 * Churn: spawner threads keep creating short-lived threads while the main
 * thread broadcasts KEEPCAPS 0/1.  Every thread, new or old, checks itself
 * against a sequence word: when no broadcast was in flight while it read
 * its own KEEPCAPS, the value must be the last one broadcast.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define SPAWNERS 3
#define ROUNDS 300
#define MAX_SPAWN 4000 /* per spawner */
#define MAX_LIVE 64    /* churn threads alive at once */
#define CHURN_MS 30000 /* bound on the whole churn phase */

static _Atomic int seq;	      /* odd while a broadcast is in flight */
static _Atomic long expected; /* the last KEEPCAPS broadcast */
static _Atomic int stop;
static _Atomic int paced; /* spawners rest 1 ms after each thread */
static _Atomic int live;  /* churn threads alive */
static _Atomic long checks, wrong, spawned;

static void check_self(void)
{
	int s1 = atomic_load(&seq);
	long want = atomic_load(&expected);
	long got;

	if (s1 & 1)
		return;
	got = prctl(PR_GET_KEEPCAPS);
	if (atomic_load(&seq) != s1)
		return;
	atomic_fetch_add(&checks, 1);
	if (got != want && atomic_fetch_add(&wrong, 1) < 5)
		tap_diag("tid %d: keepcaps %ld after broadcast of %ld (seq %d)",
			 (int)tu_gettid(), got, want, s1);
}

static void *churn_main(void *arg)
{
	(void)arg;
	check_self();
	sched_yield();
	check_self();
	atomic_fetch_sub(&live, 1);
	return NULL;
}

static void *spawner_main(void *arg)
{
	pthread_attr_t attr;
	long long end = tu_now_ms() + CHURN_MS;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0;
	     i < MAX_SPAWN && !atomic_load(&stop) && tu_now_ms() < end; i++) {
		pthread_t t;

		check_self();
		if (atomic_load(&live) >= MAX_LIVE) {
			tu_sleep_ms(1);
			continue;
		}
		atomic_fetch_add(&live, 1);
		if (pthread_create(&t, &attr, churn_main, NULL) != 0) {
			atomic_fetch_sub(&live, 1);
			tu_sleep_ms(1);
			continue;
		}
		atomic_fetch_add(&spawned, 1);
		/* Paced: a thousand or two threads a second in all. */
		if (atomic_load(&paced))
			tu_sleep_ms(1);
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

static bool join_by(pthread_t t, unsigned ms)
{
	struct timespec abs;

	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += ms / 1000 + 1;
	return pthread_timedjoin_np(t, NULL, &abs) == 0;
}

/*
 * PACE: spawners rest between threads, and every broadcast must succeed.
 * Unpaced, threads appear faster than a released broadcast (one that lets
 * each thread go on at once, so spawners keep spawning) can sweep them; it
 * may then fail, but only honestly: never 0 with a stale thread.
 */
static void check_churn(bool pace, int nrounds, const char *label)
{
	struct allthreads_prog *prog[2] = { tu_prog_keepcaps(0, true),
					    tu_prog_keepcaps(1, true) };
	pthread_t sp[SPAWNERS];
	long long end = tu_now_ms() + CHURN_MS;
	int failed = 0, rounds = 0, joined = 0, dishonest = 0;

	allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	atomic_store(&expected, 0);
	atomic_store(&stop, 0);
	atomic_store(&paced, pace);
	atomic_store(&checks, 0);
	atomic_store(&wrong, 0);
	atomic_store(&spawned, 0);
	for (int i = 0; i < SPAWNERS; i++)
		if (pthread_create(&sp[i], NULL, spawner_main, NULL))
			tap_bail("cannot start spawner %d", i);
	tu_sleep_ms(20);

	for (; rounds < nrounds && tu_now_ms() < end; rounds++) {
		struct allthreads_report *r = NULL;
		int v = (rounds + 1) % 2;
		long long t0 = tu_now_ms();
		int rc;

		atomic_fetch_add(&seq, 1);
		/* Held step programs and released single calls, in turn;
		 * unpaced, released calls only. */
		if (pace && rounds % 4 < 2)
			rc = allthreads_run(prog[v], 5000, 0,
					    ALLTHREADS_MISMATCH_REPORT, &r);
		else
			rc = (int)allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS,
						     v, 0, 0, 0, 0);
		if (rc != 0) {
			if (rc != -E2BIG && rc != -ETIMEDOUT && rc != -EIO)
				dishonest++;
			if (failed++ < 3) {
				tap_diag("%s round %d (%s): %d (%s) after %lld "
					 "ms, %ld threads spawned so far",
					 label, rounds,
					 pace && rounds % 4 < 2 ? "run" :
								  "syscall",
					 rc, strerror(-rc), tu_now_ms() - t0,
					 atomic_load(&spawned));
				tu_report_dump(r);
			}
			/* Threads may now differ: no check counts until a
			 * held broadcast (spawners wait in it) puts them all
			 * on one value again. */
			for (int k = 0; k < 5 && rc != 0; k++)
				rc = allthreads_run(prog[v], 5000, 0,
						    ALLTHREADS_MISMATCH_REPORT,
						    NULL);
		}
		if (rc == 0) {
			atomic_store(&expected, v);
			atomic_fetch_add(&seq, 1);
		} else {
			tap_bail("round %d: cannot bring the threads back to "
				 "one value",
				 rounds);
		}
		allthreads_report_free(r);
		check_self();
		/* A quiet moment: the other threads check themselves. */
		tu_sleep_ms(1);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < SPAWNERS; i++)
		joined += join_by(sp[i], 10000);
	for (int i = 0; i < 500 && atomic_load(&live) > 0; i++)
		tu_sleep_ms(10);

	tap_ok(joined == SPAWNERS && atomic_load(&live) == 0,
	       "%s: all spawned threads are gone", label);
	tap_ok(rounds >= nrounds / 2 && atomic_load(&spawned) >= 200,
	       "%s: %d broadcasts while %ld threads came and went", label,
	       rounds, atomic_load(&spawned));
	if (pace)
		tap_ok(failed == 0,
		       "%s: every broadcast returned 0 (%d failed)", label,
		       failed);
	else
		tap_ok(dishonest == 0,
		       "%s: %d of %d released broadcasts gave up, each with "
		       "-E2BIG, -ETIMEDOUT or -EIO",
		       label, failed, rounds);
	tap_ok(atomic_load(&wrong) == 0 && atomic_load(&checks) >= 100,
	       "%s: %ld self-checks, %ld saw a stale KEEPCAPS after a 0", label,
	       atomic_load(&checks), atomic_load(&wrong));
	allthreads_prog_free(prog[0]);
	allthreads_prog_free(prog[1]);
}

/* Two callers at once. */
#define CALLER_ROUNDS 150

struct caller {
	pthread_t thread;
	int which;
	int failed;
	int done;
	long keepcaps; /* its own values once both callers are done */
	char name[16];
};

static _Atomic int callers_done;

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	struct allthreads_prog *prog[2] = { tu_prog_keepcaps(0, true),
					    tu_prog_keepcaps(1, true) };
	long long end = tu_now_ms() + 20000;
	char name[16];

	for (int i = 0; i < CALLER_ROUNDS && tu_now_ms() < end; i++) {
		int v = (i + c->which) % 2;
		int rc;
		long ret;

		if (c->which == 0) {
			rc = allthreads_run(prog[v], 5000, 0,
					    ALLTHREADS_MISMATCH_REPORT, NULL);
		} else {
			ret = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, v,
						 0, 0, 0, 0);
			rc = (int)ret;
		}
		snprintf(name, sizeof(name), "c%d-%03d", c->which, i);
		if (rc == 0)
			rc = (int)allthreads_syscall(SYS_prctl, PR_SET_NAME,
						     (long)name, 0, 0, 0, 0);
		if (rc != 0 && c->failed++ < 3)
			tap_diag("caller %d round %d: %d", c->which, i, rc);
		c->done++;
	}
	/* Wait (bounded) for the other caller, then read our own values:
	 * every broadcast is over, so they are the final ones. */
	atomic_fetch_add(&callers_done, 1);
	for (int i = 0; i < 20000 && atomic_load(&callers_done) < 2; i++)
		tu_sleep_ms(1);
	c->keepcaps = prctl(PR_GET_KEEPCAPS);
	prctl(PR_GET_NAME, c->name);
	allthreads_prog_free(prog[0]);
	allthreads_prog_free(prog[1]);
	return NULL;
}

static void check_concurrent(void)
{
	struct tu_pool *pool = tu_pool_new(6, 60000);
	struct caller c[2] = { { .which = 0 }, { .which = 1 } };
	const struct tu_sample *s0;
	unsigned differ = 0;
	char comm[32];
	int joined = 0;

	if (!pool)
		tap_bail("cannot start workers");
	for (int i = 0; i < 2; i++)
		if (pthread_create(&c[i].thread, NULL, caller_main, &c[i]))
			tap_bail("cannot start caller %d", i);
	for (int i = 0; i < 2; i++)
		joined += join_by(c[i].thread, 30000);
	tap_ok(joined == 2, "concurrent: both callers finished");
	tap_ok(c[0].failed == 0 && c[1].failed == 0 &&
		       c[0].done == CALLER_ROUNDS && c[1].done == CALLER_ROUNDS,
	       "concurrent: %d + %d broadcasts, %d + %d failed", c[0].done,
	       c[1].done, c[0].failed, c[1].failed);

	/* Whichever broadcast came last, every thread must hold it: the
	 * workers, this thread and both callers. */
	tu_pool_ask(pool, TU_ALL, NULL, 0, 5000);
	s0 = tu_pool_sample(pool, 0);
	for (unsigned i = 0; i < tu_pool_size(pool); i++) {
		const struct tu_sample *s = tu_pool_sample(pool, i);

		if (s->keepcaps != s0->keepcaps || strcmp(s->name, s0->name))
			differ++;
	}
	for (int i = 0; i < 2; i++) {
		if (c[i].keepcaps != s0->keepcaps ||
		    strcmp(c[i].name, s0->name)) {
			tap_diag("caller %d: keepcaps %ld name '%s'", i,
				 c[i].keepcaps, c[i].name);
			differ++;
		}
	}
	tu_task_comm(tu_gettid(), comm, sizeof(comm));
	tap_ok(differ == 0 && prctl(PR_GET_KEEPCAPS) == s0->keepcaps &&
		       strcmp(comm, s0->name) == 0,
	       "concurrent: all threads agree afterwards (keepcaps %ld, "
	       "name '%s')",
	       s0->keepcaps, s0->name);
	tap_ok(tu_pool_free(pool, 10000) == 0, "concurrent: workers joined");
}

int main(void)
{
	tu_watchdog(100);
	check_churn(true, ROUNDS, "churn");
	check_churn(false, 100, "burst");
	check_concurrent();
	return tap_done();
}
