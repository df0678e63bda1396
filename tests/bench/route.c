/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * route.c - the ptrace route as the benchmark measures it (issue 8): one
 * allthreads_target_run() through ALLTHREADS_ROUTE_PTRACE, the library's
 * own account of the frozen window beside it.
 *
 *   allthreads-bench-route -p PID [--recipe keepcaps|reads|harden]
 *
 * The recipes are those of allthreads-bench-ref (refinject.c), as one
 * step program.  Prints one line: "route threads N syscalls S frozen_us F
 * run_us R stops K stub 0|1 window W stop_us A inject_us B rest_us C" (F
 * from the first PTRACE_INTERRUPT to the last PTRACE_DETACH, as the route
 * measured it; W the most threads that ran the stub at once; A of F
 * stopping every thread, B capturing and running the program
 * everywhere, C verifying, unmapping and releasing; R the whole call,
 * preflight and verification included), or an error on stderr and exits 1.
 * Linked with the library's objects, so that at_ptrace_times() (internal)
 * is reachable.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"
#include "ptrace.h"

#define NOBODY 65534

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int add(struct allthreads_prog *p, long nr, long a0, long a1, long a2)
{
	long a[5] = { a0, a1, a2, 0, 0 };

	return allthreads_prog_add(p, nr, nr == SYS_prctl ? 5 : 3, a,
				   ALLTHREADS_JUDGE_EQUAL);
}

static struct allthreads_prog *make_recipe(const char *name)
{
	struct allthreads_prog *p = allthreads_prog_new();
	int i, r = 0;

	if (!p)
		return NULL;
	if (!strcmp(name, "keepcaps")) {
		r |= add(p, SYS_prctl, PR_SET_KEEPCAPS, 1, 0);
	} else if (!strcmp(name, "reads")) {
		for (i = 0; i < 38; i++)
			r |= add(p, SYS_prctl, PR_CAPBSET_READ, i, 0);
		r |= add(p, SYS_prctl, PR_SET_KEEPCAPS, 1, 0);
		r |= add(p, SYS_getuid, 0, 0, 0);
		r |= add(p, SYS_getuid, 0, 0, 0);
	} else if (!strcmp(name, "harden")) {
		for (i = 0; i < 38; i++)
			r |= add(p, SYS_prctl, PR_CAPBSET_DROP, i, 0);
		r |= add(p, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0);
		r |= add(p, SYS_setresgid, NOBODY, NOBODY, NOBODY);
		r |= add(p, SYS_setresuid, NOBODY, NOBODY, NOBODY);
	} else {
		r = -1;
	}
	if (r < 0) {
		allthreads_prog_free(p);
		return NULL;
	}
	return p;
}

int main(int argc, char **argv)
{
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t = NULL;
	struct at_ptrace_times tm = { 0 };
	struct allthreads_prog *prog;
	const char *recipe = "keepcaps";
	uint64_t t0, t1;
	pid_t pid = 0;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			pid = (pid_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--recipe") && i + 1 < argc)
			recipe = argv[++i];
		else
			pid = -1;
	}
	prog = make_recipe(recipe);
	if (pid <= 0 || !prog) {
		fprintf(stderr, "usage: allthreads-bench-route -p PID "
				"[--recipe keepcaps|reads|harden]\n");
		return 64;
	}
	alarm(60);
	r = allthreads_target_open(pid, 0, &t);
	if (r < 0) {
		fprintf(stderr, "allthreads-bench-route: %d: %s\n", (int)pid,
			strerror(-r));
		return 1;
	}
	t0 = now_ns();
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, prog, 30000, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep);
	t1 = now_ns();
	if (r < 0) {
		fprintf(stderr, "allthreads-bench-route: %d: %s (%s)\n",
			(int)pid, allthreads_target_why(t), strerror(-r));
		allthreads_report_free(rep);
		allthreads_target_close(t);
		return 1;
	}
	if (!rep || at_ptrace_times(rep, &tm) < 0) {
		fprintf(stderr, "allthreads-bench-route: %d: no ptrace times\n",
			(int)pid);
		allthreads_report_free(rep);
		allthreads_target_close(t);
		return 1;
	}
	printf("route threads %u syscalls %u frozen_us %.1f run_us %.1f "
	       "stops %llu stub %d window %u stop_us %.1f inject_us %.1f "
	       "rest_us %.1f\n",
	       allthreads_report_nthreads(rep), allthreads_prog_len(prog),
	       tm.frozen_ns / 1e3, (t1 - t0) / 1e3,
	       (unsigned long long)tm.stops, tm.stub ? 1 : 0, tm.window,
	       tm.stop_ns / 1e3, tm.inject_ns / 1e3, tm.verify_ns / 1e3);
	allthreads_report_free(rep);
	allthreads_target_close(t);
	allthreads_prog_free(prog);
	return 0;
}
