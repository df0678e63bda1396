// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-exiting.c - a thread that is exiting still runs code: pthread_exit
 * runs its cleanup handlers (and C++ destructors, TSD destructors) as the
 * thread's own code.  glibc's setxid skips a thread once it is exiting,
 * so such a handler keeps the old credentials (allthreads(7), glibc).  Here the
 * cleanup handler waits, inside pthread_exit, while the main thread
 * broadcasts; it must see the new value, and the report must list it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define EXITERS 4

static _Atomic int in_cleanup;
static _Atomic int go;
static _Atomic long seen[EXITERS];
static _Atomic pid_t tids[EXITERS];

static void cleanup(void *arg)
{
	long i = (long)arg;

	atomic_fetch_add(&in_cleanup, 1);
	/* Bounded: at most 10 s in 1 ms steps. */
	for (int k = 0; k < 10000 && !atomic_load(&go); k++)
		tu_sleep_ms(1);
	atomic_store(&seen[i], syscall(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0));
}

static void *exiter(void *arg)
{
	atomic_store(&tids[(long)arg], tu_gettid());
	pthread_cleanup_push(cleanup, arg);
	pthread_exit(NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

static int report_index(const struct allthreads_report *r, pid_t tid)
{
	for (unsigned i = 0; i < allthreads_report_nthreads(r); i++)
		if (allthreads_report_tid(r, i) == tid)
			return (int)i;
	return -1;
}

int main(void)
{
	pthread_t t[EXITERS];
	struct allthreads_report *r = NULL;
	int rc, listed = 0;
	long i;

	tu_watchdog(60);
	prctl(PR_SET_KEEPCAPS, 0);
	for (i = 0; i < EXITERS; i++) {
		atomic_store(&seen[i], -1);
		if (pthread_create(&t[i], NULL, exiter, (void *)i))
			tap_bail("cannot start a thread");
	}
	for (int k = 0; k < 5000 && atomic_load(&in_cleanup) < EXITERS; k++)
		tu_sleep_ms(1);
	tap_ok(atomic_load(&in_cleanup) == EXITERS,
	       "%d threads inside pthread_exit's cleanup handlers",
	       atomic_load(&in_cleanup));

	rc = (int)allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0);
	tap_ok(rc == 0, "broadcast while they exit: %d", rc);
	rc = allthreads_run(NULL, 0, 0, 0, &r); /* -EINVAL, no report */
	tap_ok(rc == -EINVAL && !r, "a NULL program is refused");

	/* The report of a read shows the exiting threads were reached. */
	{
		struct allthreads_prog *p = allthreads_prog_new();
		long a[ALLTHREADS_MAX_ARGS] = { PR_GET_KEEPCAPS };

		allthreads_prog_add(p, SYS_prctl, 1, a, ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_set_undo(p, 0, -1, NULL, -1, NULL);
		rc = allthreads_run(p, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
		allthreads_prog_free(p);
	}
	for (i = 0; i < EXITERS && r; i++) {
		int k = report_index(r, atomic_load(&tids[i]));

		listed += k > 0 &&
			  allthreads_report_state(r, k) == ALLTHREADS_T_OK &&
			  allthreads_report_result(r, k, 0) == 1;
	}
	tap_ok(rc == 0 && listed == EXITERS,
	       "every exiting thread was reached and reads KEEPCAPS 1 (%d of "
	       "%d, run %d)",
	       listed, EXITERS, rc);
	allthreads_report_free(r);

	atomic_store(&go, 1);
	for (i = 0; i < EXITERS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < EXITERS; i++)
		tap_ok(atomic_load(&seen[i]) == 1,
		       "cleanup handler %ld ran with the new value (%ld)", i,
		       atomic_load(&seen[i]));
	return tap_done();
}
