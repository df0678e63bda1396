// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-ll-steps.c - the Landlock steps both routes of
 * allthreads_target_landlock(3) run (lib/common/landlock-steps.h): the choice of
 * LANDLOCK_RESTRICT_SELF_TSYNC by the kernel's ABI (the helper route from
 * ABI 8, the ptrace route never: its threads are stopped, and the
 * kernel's TSYNC waits for each of them), and the two programs, run here
 * on real threads: the per-thread one puts every thread in the domain,
 * the TSYNC one (whose domain the kernel spreads) calls no
 * landlock_restrict_self() at all, so it cannot stack a second domain on
 * every thread.  This kernel's ABI is below 8: TSYNC itself is not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock-steps.h"
#include "tap.h"

#define NTHREADS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int quit;

static void *idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!quit)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* How many threads of REP got WANT from STEP (WANT_FD: any descriptor,
 * which is closed). */
static unsigned count(const struct allthreads_report *rep, unsigned step,
		      long want, bool want_fd)
{
	unsigned i, n = 0;

	for (i = 0; rep && i < allthreads_report_nthreads(rep); i++) {
		long r = allthreads_report_result(rep, i, step);

		if (want_fd && r >= 0) {
			close((int)r);
			n++;
		} else if (!want_fd && r == want) {
			n++;
		}
	}
	return n;
}

int main(void)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_READ_DIR,
	};
	const unsigned all = NTHREADS + 1;
	struct allthreads_report *rep = NULL;
	struct allthreads_prog *prog;
	pthread_t th[NTHREADS];
	unsigned i;
	long abi = at_ll_abi();
	int fd, r;

	/* The choice: a pure function of the ABI and the route. */
	tap_ok(!at_ll_use_tsync(-ENOSYS, false) &&
		       !at_ll_use_tsync(-EOPNOTSUPP, false),
	       "no Landlock (ENOSYS, EOPNOTSUPP): no TSYNC");
	tap_ok(!at_ll_use_tsync(1, false) && !at_ll_use_tsync(7, false),
	       "ABI 1 and 7: each thread restricts itself");
	tap_ok(at_ll_use_tsync(8, false) && at_ll_use_tsync(9, false),
	       "ABI 8 and later, the helper route: one TSYNC call");
	tap_ok(!at_ll_use_tsync(8, true) && !at_ll_use_tsync(9, true) &&
		       !at_ll_use_tsync(7, true),
	       "the ptrace route: never TSYNC (its threads are stopped)");
	tap_ok(LANDLOCK_RESTRICT_SELF_TSYNC == 1u << 3 && AT_LL_ABI_TSYNC == 8,
	       "TSYNC is the kernel's bit 3, from ABI 8");

	/* The programs: the same step numbers either way. */
	prog = at_ll_prog(-1, "/", true, false);
	tap_ok(prog && allthreads_prog_len(prog) == 3,
	       "per thread, with the proof: NNP, restrict, prove");
	allthreads_prog_free(prog);
	prog = at_ll_prog(-1, "/", false, true);
	tap_ok(prog && allthreads_prog_len(prog) == 2,
	       "TSYNC, without the proof: NNP and the restrict step's place");
	allthreads_prog_free(prog);

	if (abi < 1) {
		tap_skip(4, "Landlock is not enabled in this kernel");
		return tap_done();
	}
	tap_diag("this kernel's Landlock ABI: %ld (TSYNC chosen by the helper "
		 "route: %s)",
		 abi, at_ll_use_tsync(abi, false) ? "yes" : "no");
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, idle, NULL))
			tap_bail("pthread_create failed");
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		tap_bail("landlock_create_ruleset: %s", strerror(errno));

	/* TSYNC's visit first: it must not put any thread in a domain. */
	prog = at_ll_prog(fd, "/", true, true);
	r = prog ? allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT,
				  &rep) :
		   -ENOMEM;
	tap_ok(r == 0 && allthreads_report_nthreads(rep) == all &&
		       count(rep, ALLTHREADS_LANDLOCK_STEP_NNP, 0, false) ==
			       all &&
		       count(rep, ALLTHREADS_LANDLOCK_STEP_RESTRICT, 0,
			     false) == all,
	       "TSYNC's visit: NNP 0 and its restrict place 0 on all %u "
	       "threads (%d)",
	       all, r);
	tap_ok(count(rep, ALLTHREADS_LANDLOCK_STEP_PROVE, 0, true) == all,
	       "TSYNC's visit restricts no thread itself: / still opens on "
	       "each of the %u",
	       all);
	allthreads_report_free(rep);
	allthreads_prog_free(prog);
	rep = NULL;

	/* The per-thread program: every thread in the domain. */
	prog = at_ll_prog(fd, "/", true, false);
	r = prog ? allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT,
				  &rep) :
		   -ENOMEM;
	tap_ok(r == 0 && allthreads_report_nthreads(rep) == all &&
		       count(rep, ALLTHREADS_LANDLOCK_STEP_RESTRICT, 0,
			     false) == all,
	       "per thread: landlock_restrict_self 0 on all %u threads (%d)",
	       all, r);
	tap_ok(count(rep, ALLTHREADS_LANDLOCK_STEP_PROVE, -EACCES, false) ==
		       all,
	       "per thread: reading / is EACCES on each of the %u", all);
	allthreads_report_free(rep);
	allthreads_prog_free(prog);
	close(fd);

	pthread_mutex_lock(&lock);
	quit = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	return tap_done();
}
