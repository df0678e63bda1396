// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-target-landlock.c - allthreads_target_landlock(3), the public API,
 * on the fixture target with the helper preloaded and on a process
 * without one: every bad argument is -EINVAL (too much path data -E2BIG)
 * and changes nothing; HELPER without a helper is -ENOENT, a gone process
 * -ESRCH; a path missing in the target is named, by either route, and
 * changes nothing; a good request puts every thread in the domain, proven
 * on each (-EACCES on "/"), and /proc shows NO_NEW_PRIVS on every thread:
 * through the helper, and by ptrace (AUTO without a helper).
 */
#include <linux/landlock.h>

#include "../tap.h"
#include "hutil.h"

#define RD (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define MANY (ALLTHREADS_LANDLOCK_MAX_RULES + 1)

/* How many threads of PID have NoNewPrivs VALUE, of how many (*ALL). */
static int count_nnp(pid_t pid, const char *value, int *all)
{
	int tids[H_MAX_THREADS], n = h_tasks(pid, tids, H_MAX_THREADS), i, k;
	char v[16];

	*all = n;
	for (i = k = 0; i < n; i++)
		if (h_task_status(pid, tids[i], "NoNewPrivs", v, sizeof(v)) ==
			    0 &&
		    strcmp(v, value) == 0)
			k++;
	return k;
}

static bool is_named(pid_t pid, const char *name)
{
	char v[32];

	return h_task_status(pid, pid, "Name", v, sizeof(v)) == 0 &&
	       strcmp(v, name) == 0;
}

/* allthreads_target_landlock() through the helper, ruleset (RD, RULES),
 * expecting -EINVAL and no report. */
static bool einval(struct allthreads_target *t, unsigned long long handled,
		   const struct allthreads_landlock_rule *rules,
		   unsigned nrules, unsigned flags,
		   enum allthreads_mismatch policy)
{
	struct allthreads_report *rep = (void *)1;
	int r = allthreads_target_landlock(t, ALLTHREADS_ROUTE_HELPER, handled,
					   rules, nrules, flags, 0, policy,
					   &rep);

	if (r != -EINVAL || rep)
		tap_diag("got %d (%s), report %p", r, allthreads_target_why(t),
			 (void *)rep);
	allthreads_report_free(rep);
	return r == -EINVAL && !rep;
}

int main(void)
{
	static char longpath[1200];
	struct allthreads_landlock_rule ok1[] = { { RD, "/usr" } };
	struct allthreads_landlock_rule rel[] = { { RD, "usr" } };
	struct allthreads_landlock_rule nul[] = { { RD, NULL } };
	struct allthreads_landlock_rule none[] = { { 0, "/usr" } };
	struct allthreads_landlock_rule unh[] = {
		{ LANDLOCK_ACCESS_FS_WRITE_FILE, "/usr" }
	};
	struct allthreads_landlock_rule root[] = { { RD, "/" } };
	struct allthreads_landlock_rule missing[] = {
		{ RD, "/nonexistent-at-target-ll" }
	};
	struct allthreads_landlock_rule many[MANY];
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t = NULL, *plain = NULL;
	struct h_target ht = { 0 };
	unsigned i, good = 0;
	int r, all, n;
	pid_t sp;

	if (syscall(SYS_landlock_create_ruleset, NULL, 0,
		    LANDLOCK_CREATE_RULESET_VERSION) < 1)
		tap_skip_all("Landlock is not enabled in this kernel");
	r = h_start(&ht, 3, NULL);
	if (r == -ENOENT)
		tap_skip_all("no helper in this build");
	if (r < 0)
		tap_bail("the fixture did not start: %s", strerror(-r));
	if (allthreads_target_open(ht.pid, 0, &t) < 0) {
		h_stop(&ht);
		tap_bail("allthreads_target_open(%d) failed", (int)ht.pid);
	}

	/* Bad arguments: -EINVAL, nothing sent. */
	r = allthreads_target_landlock(NULL, ALLTHREADS_ROUTE_HELPER, RD, ok1,
				       1, 0, 0, ALLTHREADS_MISMATCH_REPORT,
				       &rep);
	tap_ok(r == -EINVAL && !rep, "no target: EINVAL");
	r = allthreads_target_landlock(t, (enum allthreads_route)7, RD, ok1, 1,
				       0, 0, ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == -EINVAL && !rep &&
		       strcmp(allthreads_target_why(t), "invalid argument") ==
			       0,
	       "an unknown route: EINVAL, \"invalid argument\"");
	tap_ok(einval(t, 0, ok1, 1, 0, ALLTHREADS_MISMATCH_REPORT),
	       "nothing handled: EINVAL");
	tap_ok(einval(t, RD, NULL, 1, 0, ALLTHREADS_MISMATCH_REPORT),
	       "rules NULL with nrules 1: EINVAL");
	for (i = 0; i < MANY; i++)
		many[i] = ok1[0];
	tap_ok(einval(t, RD, many, MANY, 0, ALLTHREADS_MISMATCH_REPORT),
	       "more than ALLTHREADS_LANDLOCK_MAX_RULES rules: EINVAL");
	tap_ok(einval(t, RD, rel, 1, 0, ALLTHREADS_MISMATCH_REPORT),
	       "a relative path: EINVAL");
	tap_ok(einval(t, RD, nul, 1, 0, ALLTHREADS_MISMATCH_REPORT),
	       "a NULL path: EINVAL");
	tap_ok(einval(t, RD, none, 1, 0, ALLTHREADS_MISMATCH_REPORT),
	       "a rule that allows nothing: EINVAL");
	tap_ok(einval(t, RD, unh, 1, 0, ALLTHREADS_MISMATCH_REPORT),
	       "a rule allowing a right not handled: EINVAL");
	tap_ok(einval(t, RD, ok1, 1, 0x2, ALLTHREADS_MISMATCH_REPORT),
	       "an unknown flag: EINVAL");
	tap_ok(einval(t, LANDLOCK_ACCESS_FS_READ_FILE, NULL, 0,
		      ALLTHREADS_LANDLOCK_PROVE, ALLTHREADS_MISMATCH_REPORT),
	       "PROVE without read-dir handled (it could not fail): EINVAL");
	tap_ok(einval(t, RD, root, 1, ALLTHREADS_LANDLOCK_PROVE,
		      ALLTHREADS_MISMATCH_REPORT),
	       "PROVE with read-dir allowed on /: EINVAL");
	tap_ok(einval(t, RD, ok1, 1, 0, (enum allthreads_mismatch)9),
	       "an unknown policy: EINVAL");
	r = allthreads_target_landlock(t, ALLTHREADS_ROUTE_HELPER, RD, ok1, 1,
				       0, 60001, ALLTHREADS_MISMATCH_REPORT,
				       &rep);
	tap_ok(r == -EINVAL && !rep,
	       "a timeout over the helper's limit: "
	       "EINVAL (%s)",
	       allthreads_target_why(t));
	longpath[0] = '/';
	memset(longpath + 1, 'a', sizeof(longpath) - 2);
	for (i = 0; i < ALLTHREADS_LANDLOCK_MAX_RULES; i++)
		many[i].path = longpath;
	r = allthreads_target_landlock(t, ALLTHREADS_ROUTE_HELPER, RD, many,
				       ALLTHREADS_LANDLOCK_MAX_RULES, 0, 0,
				       ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == -E2BIG && !rep, "64 paths of 1199 bytes: E2BIG (%s)",
	       allthreads_target_why(t));

	/* By ptrace, even with a helper there: a path the target lacks. */
	if (allthreads_target_probe(t, ALLTHREADS_ROUTE_PTRACE) ==
	    ALLTHREADS_ROUTE_PTRACE) {
		r = allthreads_target_landlock(t, ALLTHREADS_ROUTE_PTRACE, RD,
					       missing, 1,
					       ALLTHREADS_LANDLOCK_PROVE, 0,
					       ALLTHREADS_MISMATCH_REPORT,
					       &rep);
		tap_ok(r == -EINVAL && !rep &&
			       strstr(allthreads_target_why(t),
				      "/nonexistent-at-target-ll: No such "
				      "file or directory (in the target)") &&
			       allthreads_target_route(t) ==
				       ALLTHREADS_ROUTE_PTRACE,
		       "ROUTE_PTRACE, a path missing in the target: EINVAL, "
		       "named (%s)",
		       allthreads_target_why(t));
	} else {
		tap_skip(1, allthreads_target_why(t));
	}
	n = count_nnp(ht.pid, "0", &all);
	tap_ok(all > 3 && n == all,
	       "after all of these, every thread (%d of %d) has "
	       "NoNewPrivs 0",
	       n, all);

	/* A path the target does not have. */
	r = allthreads_target_landlock(t, ALLTHREADS_ROUTE_AUTO, RD, missing, 1,
				       ALLTHREADS_LANDLOCK_PROVE, 0,
				       ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == -EINVAL && !rep &&
		       strstr(allthreads_target_why(t),
			      "/nonexistent-at-target-ll: No such file or "
			      "directory (in the target)"),
	       "a path missing in the target: EINVAL, named (%s)",
	       allthreads_target_why(t));

	/* A good request, by AUTO: the helper. */
	r = allthreads_target_landlock(t, ALLTHREADS_ROUTE_AUTO, RD, ok1, 1,
				       ALLTHREADS_LANDLOCK_PROVE, 0,
				       ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == 0 && rep &&
		       allthreads_target_route(t) == ALLTHREADS_ROUTE_HELPER,
	       "a good request: 0, by the helper (%d: %s)", r,
	       allthreads_target_why(t));
	for (i = 0; rep && i < allthreads_report_nthreads(rep); i++)
		good += allthreads_report_state(rep, i) == ALLTHREADS_T_OK &&
			allthreads_report_result(
				rep, i, ALLTHREADS_LANDLOCK_STEP_NNP) == 0 &&
			allthreads_report_result(
				rep, i, ALLTHREADS_LANDLOCK_STEP_RESTRICT) ==
				0 &&
			allthreads_report_result(
				rep, i, ALLTHREADS_LANDLOCK_STEP_PROVE) ==
				-EACCES;
	n = count_nnp(ht.pid, "1", &all);
	tap_ok(rep && allthreads_report_nsteps(rep) == 3 &&
		       good == allthreads_report_nthreads(rep) &&
		       (int)good == all,
	       "each of the %d threads: NNP 0, restrict 0, reading / EACCES "
	       "(%u good)",
	       all, good);
	tap_ok(n == all, "/proc: NoNewPrivs 1 on every thread (%d of %d)", n,
	       all);
	allthreads_report_free(rep);
	rep = NULL;
	allthreads_target_close(t);
	h_stop(&ht);

	/* A process without a helper. */
	sp = fork();
	if (sp < 0)
		tap_bail("fork: %s", strerror(errno));
	if (sp == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	/* Until it has executed sleep, it is a copy of this process. */
	for (i = 0; i < 400 && !is_named(sp, "sleep"); i++)
		h_sleep_ms(5);
	if (allthreads_target_open(sp, 0, &plain) < 0) {
		kill(sp, SIGKILL);
		h_wait(sp, 5000, NULL);
		tap_bail("allthreads_target_open(%d) failed", (int)sp);
	}
	r = allthreads_target_landlock(plain, ALLTHREADS_ROUTE_HELPER, RD, ok1,
				       1, 0, 0, ALLTHREADS_MISMATCH_REPORT,
				       &rep);
	tap_ok(r == -ENOENT && !rep, "no helper, HELPER: ENOENT (%s)",
	       allthreads_target_why(plain));
	tap_ok(count_nnp(sp, "0", &all) == 1 && all == 1,
	       "the process without a helper is untouched");
	if (allthreads_target_probe(plain, ALLTHREADS_ROUTE_PTRACE) ==
	    ALLTHREADS_ROUTE_PTRACE) {
		r = allthreads_target_landlock(plain, ALLTHREADS_ROUTE_AUTO, RD,
					       ok1, 1,
					       ALLTHREADS_LANDLOCK_PROVE, 0,
					       ALLTHREADS_MISMATCH_REPORT,
					       &rep);
		tap_ok(r == 0 && rep && allthreads_report_nthreads(rep) == 1 &&
			       allthreads_report_result(
				       rep, 0,
				       ALLTHREADS_LANDLOCK_STEP_PROVE) ==
				       -EACCES &&
			       allthreads_target_route(plain) ==
				       ALLTHREADS_ROUTE_PTRACE,
		       "no helper, AUTO: by ptrace, reading / EACCES (%d: %s)",
		       r, allthreads_target_why(plain));
		tap_ok(count_nnp(sp, "1", &all) == 1 && all == 1,
		       "/proc: the process without a helper has NoNewPrivs 1");
		allthreads_report_free(rep);
		rep = NULL;
	} else {
		tap_skip(2, allthreads_target_why(plain));
	}
	kill(sp, SIGKILL);
	h_wait(sp, 5000, NULL);
	r = allthreads_target_landlock(plain, ALLTHREADS_ROUTE_AUTO, RD, ok1, 1,
				       0, 0, ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == -ESRCH && !rep, "a process that is gone: ESRCH (%s)",
	       allthreads_target_why(plain));
	allthreads_target_close(plain);
	return tap_done();
}
