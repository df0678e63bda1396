/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-zombie.c - the main thread has called pthread_exit() and is a zombie;
 * a worker broadcasts.  The zombie can never run a handler: the broadcast
 * must skip it (listing it as ZOMBIE, or not at all) and succeed, and must
 * not hang.  Runs in a child process, whose leader we can afford to lose.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

/* Exit codes in the order the child checks things. */
enum {
	Z_OK = 0,
	Z_SETUP = 19,
	Z_NO_ZOMBIE,
	Z_RUN_FAILED,
	Z_LEADER_STATE,
	Z_OTHER_STATE,
	Z_NOT_CHANGED,
	Z_SYSCALL_FAILED,
	Z_SYSCALL_NOT_CHANGED,
};

static bool leader_is_zombie(void)
{
	char state[64];

	/* Bounded: 2 s in 1 ms steps. */
	for (int i = 0; i < 2000; i++) {
		if (tu_task_status(getpid(), "State", state, sizeof(state)) ==
			    0 &&
		    state[0] == 'Z')
			return true;
		tu_sleep_ms(1);
	}
	tap_diag("child: leader state '%s'", state);
	return false;
}

static int broadcast_from_worker(struct tu_pool *pool)
{
	struct allthreads_prog *prog = tu_prog_keepcaps(1, true);
	struct allthreads_report *r = NULL;
	unsigned n;
	int rc, leader;

	if (!leader_is_zombie())
		return Z_NO_ZOMBIE;
	rc = tu_run(prog, 3000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	if (rc != 0)
		return Z_RUN_FAILED;
	leader = tu_report_find(r, getpid());
	if (leader >= 0 &&
	    allthreads_report_state(r, leader) != ALLTHREADS_T_ZOMBIE) {
		tu_report_dump(r);
		return Z_LEADER_STATE;
	}
	n = allthreads_report_nthreads(r);
	for (unsigned i = 0; i < n; i++) {
		if ((int)i != leader &&
		    allthreads_report_state(r, i) != ALLTHREADS_T_OK) {
			tu_report_dump(r);
			return Z_OTHER_STATE;
		}
	}
	if (n != tu_pool_size(pool) + 1 + (leader >= 0)) {
		tu_report_dump(r);
		return Z_OTHER_STATE;
	}
	tap_diag("child: leader %s",
		 leader >= 0 ? "listed as ZOMBIE" : "not listed");
	allthreads_report_free(r);
	allthreads_prog_free(prog);

	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 3000) != 0 ||
	    tu_pool_keepcaps_wrong(pool, 1) != 0 || prctl(PR_GET_KEEPCAPS) != 1)
		return Z_NOT_CHANGED;
	if (allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0) != 0)
		return Z_SYSCALL_FAILED;
	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 3000) != 0 ||
	    tu_pool_keepcaps_wrong(pool, 0) != 0 || prctl(PR_GET_KEEPCAPS) != 0)
		return Z_SYSCALL_NOT_CHANGED;
	return Z_OK;
}

static void *caller_main(void *arg)
{
	int code = broadcast_from_worker(arg);

	fflush(NULL);
	_exit(code);
}

static int zombie_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(3, 15000);
	pthread_t t;

	(void)arg;
	if (!pool || pthread_create(&t, NULL, caller_main, pool) != 0)
		return Z_SETUP;
	pthread_exit(NULL);
}

/* Did the child get past check STAGE? */
static bool passed(int ws, int stage)
{
	int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;

	return code == Z_OK || (code > stage && code <= Z_SYSCALL_NOT_CHANGED);
}

int main(void)
{
	int ws = 0, rc;

	tu_watchdog(60);
	rc = tu_child(zombie_child, NULL, 20000, &ws);
	tap_ok(rc == 0, "the child finished in time, no hang (%s)",
	       tu_wstatus(ws));
	tap_ok(passed(ws, Z_NO_ZOMBIE), "the leader became a zombie");
	tap_ok(passed(ws, Z_RUN_FAILED),
	       "a worker's broadcast returns 0 with a zombie leader");
	tap_ok(passed(ws, Z_OTHER_STATE),
	       "the zombie is skipped or listed as ZOMBIE, every other OK");
	tap_ok(passed(ws, Z_NOT_CHANGED),
	       "every live thread reads KEEPCAPS 1 itself");
	tap_ok(passed(ws, Z_SYSCALL_NOT_CHANGED),
	       "allthreads_syscall from the worker works too");
	return tap_done();
}
