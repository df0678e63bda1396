// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * run.c - carry a plan out, in one direction: execute, judge, render, and
 * exec PROGRAM (--dry-run prints the plan instead).
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dryrun.h"
#include "execute.h"
#include "judge.h"
#include "outcome.h"
#include "plan.h"
#include "program.h"
#include "render.h"
#include "run.h"
#include "target.h"
#include "usage.h"

static void free_outcome(struct outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nrows; i++) {
		free(out->rows[i].value);
		free(out->rows[i].old);
		free(out->rows[i].problem);
	}
	free(out->rows);
	free(out->results);
	free(out->folded);
	snapshot_free(&out->before);
	snapshot_free(&out->after);
	snapshot_free(&out->look);
	if (out->taskfd >= 0)
		close(out->taskfd);
	out->taskfd = -1;
}

/* What a change of another process keeps per thread of it: the look
 * before and the listing after (struct tstatus each), the report and the
 * rows with their results; a little under a kilobyte. */
#define HEAP_PER_THREAD 1024
/* From this many threads on (below it the faults cost less than the
 * call that saves them). */
#define HEAP_MIN_THREADS 256
/* glibc's largest M_MMAP_THRESHOLD on 64 bits. */
#define HEAP_MAX (32u << 20)

/*
 * The memory a change of PID will use, made ready in one go.  Those arrays
 * are fresh memory, and each page of it would fault in on its own when
 * first written: at 1,000 threads some 200 faults, 10-20 us each in a
 * guest, a few milliseconds of the CLI's own time.  So the heap is grown
 * once by what they need (the task directory's link count is 2 + its
 * threads), its pages faulted in by one madvise(MADV_POPULATE_WRITE), and
 * kept (no trimming, no mmap of its own for a large block): malloc then
 * carves them out of it.  A hint only: anything refused leaves malloc as
 * it was.
 */
static void heap_for_threads(pid_t pid)
{
	uintptr_t a, b, page = (uintptr_t)sysconf(_SC_PAGESIZE);
	char path[64];
	struct stat st;
	size_t len;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (stat(path, &st) || st.st_nlink < 2 + HEAP_MIN_THREADS)
		return;
	len = (size_t)(st.st_nlink - 2) * HEAP_PER_THREAD;
	if (len > HEAP_MAX / 2)
		len = HEAP_MAX / 2;
	if (!mallopt(M_MMAP_THRESHOLD, HEAP_MAX) ||
	    !mallopt(M_TRIM_THRESHOLD, HEAP_MAX))
		return;
	p = malloc(len);
	if (!p)
		return;
	a = ((uintptr_t)p + page - 1) & ~(page - 1);
	b = ((uintptr_t)p + len) & ~(page - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
	free(p);
}

/* A change PLAN cannot carry to all the target keeps (judge_kept(), in
 * WHY): refused with the reason, nothing changed.  EXIT_FAILED. */
static int refuse_kept(const struct opts *o, const struct plan *plan,
		       struct outcome *out, const char *why)
{
	fprintf(stderr,
		"allthreads: %s: refused, nothing changed: pid %d keeps "
		"credentials that no change of its threads reaches: %s\n",
		plan->command, out->tgt->pid, why);
	fprintf(stderr,
		"allthreads: hint: restart the process with the credentials "
		"wanted, or have it drop them before it creates its io_uring "
		"rings (allthreads set --reuid=... -- PROGRAM); --force "
		"changes the threads anyway and exits 2\n");
	if (o->json) {
		out->exit = EXIT_FAILED;
		render_json(o, plan, out);
	}
	if (o->program)
		fprintf(stderr, "allthreads: not running %s\n", o->program[0]);
	free_outcome(out);
	return EXIT_FAILED;
}

/* Run PLAN (or print it), verify, report, and exec PROGRAM. */
int carry_out(const struct opts *o, struct plan *plan, const struct target *tgt)
{
	struct outcome out = { .verdict = ALLTHREADS_AGREE,
			       .tgt = tgt,
			       .taskfd = -1 };
	char why[256] = "", kept[2048];
	int code, route = 0;

	out.procpid = tgt->self ? 0 : tgt->pid;
	if (o->program) {
		code = program_find(o->program[0], NULL, 0);
		if (code) {
			fprintf(stderr, "allthreads: %s: %s; nothing changed\n",
				o->program[0],
				code == EXIT_NOTFOUND ? "command not found" :
							"not executable");
			return code;
		}
	}
	if (plan->change && tgt->tid)
		return usage_error("-t %d: a change applies to every thread "
				   "(-t reads one thread; use -p)",
				   tgt->tid);
	/* Reads /proc can answer need no steps and no helper. */
	if (!plan->change && (!plan->nsteps || !tgt->self))
		plan->proc_read = proc_answer(plan);
	/* What another process keeps apart from its threads: kernel
	 * workers (io_uring, vhost) and io_uring rings.  A change that
	 * cannot reach it is refused (-n predicts so), unless --force. */
	if (plan->change && !tgt->self)
		heap_for_threads(tgt->pid);
	if (plan->change && !tgt->self && !proc_look(tgt->pid, &out.look))
		out.kept = judge_kept(plan, &out.look, kept, sizeof(kept));
	if (out.kept && !o->force && !plan->predict[0])
		snprintf(plan->predict, sizeof(plan->predict),
			 "refused: pid %d keeps what no change of its threads "
			 "reaches: %.200s",
			 tgt->pid, kept);
	if (o->dry_run)
		route = dryrun_route(o, plan, tgt, why, sizeof(why));
	render_notes(o, plan);
	if (o->dry_run) {
		code = dryrun_report(o, plan, &out, route, why);
		snapshot_free(&out.look);
		return code;
	}
	if (!tgt->self) {
		code = execute_needs_helper(plan) ? check_changeable(tgt) :
						    check_reachable(tgt);
		if (code) {
			snapshot_free(&out.look);
			return code;
		}
	}
	if (out.kept && !o->force)
		return refuse_kept(o, plan, &out, kept);
	if (out.kept && !o->quiet)
		fprintf(stderr,
			"allthreads: note: --force: pid %d keeps what no "
			"change of its threads reaches (%s); the run will "
			"say so, never that every thread changed\n",
			tgt->pid, kept);
	/* A change the model says would fail on some thread is not tried:
	 * a one-way step would leave the threads differing. */
	if (plan->change && plan->predict[0] && !o->force) {
		fprintf(stderr,
			"allthreads: %s: refused, nothing changed: predicted: "
			"%s (--force runs it anyway)\n",
			plan->command, plan->predict);
		if (o->json) {
			out.exit = EXIT_FAILED;
			render_json(o, plan, &out);
		}
		if (o->program)
			fprintf(stderr, "allthreads: not running %s\n",
				o->program[0]);
		snapshot_free(&out.look);
		return EXIT_FAILED;
	}
	code = execute_plan(o, plan, &out);
	if (code)
		goto out;
	render_values(plan, &out);
	code = judge_outcome(o, plan, &out);
	out.exit = code;
	/* The verdict printed is the outcome's, /proc's read-back included. */
	if (code == EXIT_PARTIAL)
		out.verdict = ALLTHREADS_PARTIAL;
	render_outcome(o, plan, &out);
	if (code == EXIT_OK && o->program) {
		free_outcome(&out);
		return program_exec(o->program, "", plan->exec_hint);
	}
out:
	free_outcome(&out);
	if (code != EXIT_OK && o->program)
		fprintf(stderr, "allthreads: not running %s\n", o->program[0]);
	return code;
}
