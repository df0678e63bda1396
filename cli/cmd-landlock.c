// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-landlock.c - `allthreads landlock`: one Landlock domain on every
 * thread of allthreads, then PROGRAM.  The options are util-linux
 * setpriv's:
 *
 *   --landlock-access fs[:RIGHT,...]          the access rights handled
 *   --landlock-rule path-beneath:RIGHT,...:PATH  what stays allowed
 *
 * The ruleset is built here (ruleset.c: paths opened O_PATH, in our own
 * mount namespace), then every thread, in one visit, sets NO_NEW_PRIVS and calls
 * landlock_restrict_self() on the same ruleset fd, and proves it in the
 * same visit: a directory read the ruleset forbids fails with EACCES on
 * that thread.  Where the kernel has LANDLOCK_RESTRICT_SELF_TSYNC (ABI 8,
 * Linux 7.0), the kernel restricts the other threads itself.
 *
 * The go-landlock#39 trap: a domain that forbids reading /proc would lock
 * a broadcaster that restricted itself first out of its own
 * /proc/self/task sweep.  The steps are one-way, so the engine captures
 * every thread before the calling thread runs them (allthreads_run(3));
 * and the final sweep here reads a /proc/self/task opened before the
 * change (Landlock checks at open, not at getdents).
 *
 * -p PID: allthreads_target_landlock(3), through remote.c like every other
 * command: the ruleset is built in the target, so the paths are resolved in its mount namespace and root, by
 * its helper (which broadcasts the same three steps there, or with TSYNC
 * restricts itself once and proves the domain on every thread) or, for a
 * process without one, by calls the ptrace route injects while every
 * thread is stopped (each thread then restricts itself).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "judge.h"
#include "plan.h"
#include "procfs.h"
#include "program.h"
#include "remote.h"
#include "ruleset.h"
#include "target.h"
#include "usage.h"

enum {
	OPT_ACCESS = 0x700,
	OPT_RULE,
};

static const struct argp_option landlock_options[] = {
	{ "landlock-access", OPT_ACCESS, "fs[:RIGHT,...]", 0,
	  "the access rights the domain handles (denies unless a rule "
	  "allows): fs for every file-system right the kernel has, or "
	  "fs:RIGHT,... (repeatable; default fs)",
	  0 },
	{ "landlock-rule", OPT_RULE, "path-beneath:RIGHT,...:PATH", 0,
	  "allow RIGHTs on PATH and everything beneath it (repeatable)", 0 },
	{ NULL },
};

static int parse_landlock_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_ACCESS:
		if (o->nll_access >= MAX_RULES)
			argp_error(state, "--landlock-access: more than %d",
				   MAX_RULES);
		o->ll_access[o->nll_access++] = arg;
		break;
	case OPT_RULE:
		if (o->nll_rules >= MAX_RULES)
			argp_error(state, "--landlock-rule: more than %d",
				   MAX_RULES);
		o->ll_rules[o->nll_rules++] = arg;
		break;
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
}

const struct argp landlock_argp = {
	.options = landlock_options,
	.parser = parse_landlock_opt,
	.args_doc = "[-- PROGRAM [ARG...]]",
	.doc = "Put every thread of allthreads (or, with -p, of a process "
	       "started with allthreads run: its helper builds the ruleset "
	       "there) in one Landlock domain (NO_NEW_PRIVS first, as "
	       "Landlock requires), prove it on each thread, then run "
	       "PROGRAM.  The options are setpriv's.  "
	       "RIGHTs: execute, write-file, read-file, read-dir, "
	       "remove-dir, remove-file, make-char, make-dir, make-reg, "
	       "make-sock, make-fifo, make-block, make-sym, refer (ABI 2), "
	       "truncate (ABI 3), ioctl-dev (ABI 5).\v"
	       "Examples:\n"
	       "  allthreads landlock --landlock-access fs \\\n"
	       "      --landlock-rule path-beneath:execute,read-file,read-dir:/usr \\\n"
	       "      --landlock-rule path-beneath:read-file,read-dir:/etc \\\n"
	       "      -- /usr/bin/cat /etc/hostname\n"
	       "  allthreads -n landlock --landlock-rule path-beneath:read-file:/srv",
	.children = at_global_children,
};

/* The steps: on every thread, NO_NEW_PRIVS, the domain (unless TSYNC
 * does it), and the proof. */
enum { STEP_NNP, STEP_RESTRICT, STEP_PROVE, NR_STEPS };

struct landlock_run {
	struct allthreads_report *report;
	int rc;
	unsigned kept_rings; /* --force: rings the domain cannot reach */
	int step[NR_STEPS];  /* index in the program, or -1 */
	int tsync_rc;	     /* TSYNC: the calling thread's restrict */
};

/* One visit per thread: NNP (NO_NEW_PRIVS), RESTRICT (the domain), PROVE
 * (reading "/" must fail with EACCES; judged ANY: an error is what is
 * wanted, and must not stop the thread). */
static int run_program(const struct opts *o, int fd, bool nnp_step,
		       bool restrict_step, bool prove, struct landlock_run *lr)
{
	static const char root[] = "/";
	const long nnp[] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0 };
	const long ll[] = { fd, 0 };
	const long open_root[] = { AT_FDCWD, (long)root,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC };
	struct allthreads_prog *prog = allthreads_prog_new();
	int err = 0;
	unsigned s;

	if (!prog)
		return -ENOMEM;
	lr->step[STEP_NNP] = lr->step[STEP_RESTRICT] = lr->step[STEP_PROVE] =
		-1;
	if (nnp_step)
		lr->step[STEP_NNP] = allthreads_prog_add(
			prog, SYS_prctl, 5, nnp, ALLTHREADS_JUDGE_EQUAL);
	if (restrict_step)
		lr->step[STEP_RESTRICT] =
			allthreads_prog_add(prog, SYS_landlock_restrict_self, 2,
					    ll, ALLTHREADS_JUDGE_EQUAL);
	if (prove) {
		lr->step[STEP_PROVE] = allthreads_prog_add(
			prog, SYS_openat, 3, open_root, ALLTHREADS_JUDGE_ANY);
		if (lr->step[STEP_PROVE] >= 0 &&
		    allthreads_prog_set_undo(prog, lr->step[STEP_PROVE], -1,
					     NULL, -1, NULL) < 0)
			err = -EINVAL;
	}
	for (s = 0; s < NR_STEPS; s++)
		if (lr->step[s] < -1)
			err = lr->step[s];
	if (!err)
		lr->rc = allthreads_run(prog, o->timeout_ms, 0, o->policy,
					&lr->report);
	allthreads_prog_free(prog);
	return err;
}

/* --- output -------------------------------------------------------------- */

static bool thread_ok(const struct landlock_run *lr,
		      const struct landlock_run *pv, unsigned i, unsigned *pi,
		      char *why, size_t size)
{
	struct allthreads_report *r = lr->report;
	pid_t tid = allthreads_report_tid(r, i);
	long res;
	unsigned k;

	why[0] = '\0';
	if (allthreads_report_state(r, i) != ALLTHREADS_T_OK) {
		const char *w = allthreads_report_why(r, i);

		snprintf(why, size, "%s%s%s",
			 allthreads_thread_state_name(
				 allthreads_report_state(r, i)),
			 *w ? ": " : "", w);
		return false;
	}
	if (lr->step[STEP_RESTRICT] >= 0) {
		res = allthreads_report_result(r, i, lr->step[STEP_RESTRICT]);
		if (res < 0) {
			snprintf(why, size, "landlock_restrict_self: %s",
				 strerror((int)-res));
			return false;
		}
	}
	*pi = UINT32_MAX;
	if (!pv || !pv->report)
		return true;
	for (k = 0; k < allthreads_report_nthreads(pv->report); k++)
		if (allthreads_report_tid(pv->report, k) == tid)
			*pi = k;
	if (*pi == UINT32_MAX) {
		snprintf(why, size, "not reached by the proof");
		return false;
	}
	res = allthreads_report_result(pv->report, *pi, pv->step[STEP_PROVE]);
	if (res != -EACCES) {
		snprintf(why, size, "opening / gave %s, not EACCES: no domain",
			 res >= 0 ? "a file descriptor" : strerror((int)-res));
		return false;
	}
	return true;
}

static void json_landlock(const struct opts *o, const struct request *rq,
			  const struct landlock_run *lr, bool pv, int code,
			  char **reasons, unsigned n, const struct target *tgt)
{
	char name[64], acc[512];
	unsigned i, s;

	snprintf(name, sizeof(name), "%u rule(s)", rq->nrules);
	json_begin(o, "landlock", tgt, name, "change", false);
	ruleset_rights_text(rq->handled, acc, sizeof(acc));
	printf(",\"steps\":[{\"call\":\"prctl(PR_SET_NO_NEW_PRIVS, 1)\","
	       "\"nr\":%d,\"role\":\"change\",\"judge\":\"equal\","
	       "\"undo\":null},{\"call\":",
	       SYS_prctl);
	snprintf(name, sizeof(name), "landlock_restrict_self(ruleset, %s)",
		 rq->tsync ? "TSYNC" : "0");
	json_str(name);
	printf(",\"nr\":%d,\"role\":\"change\",\"judge\":\"equal\","
	       "\"undo\":null}",
	       SYS_landlock_restrict_self);
	if (pv)
		printf(",{\"call\":\"openat(AT_FDCWD, \\\"/\\\", O_RDONLY|"
		       "O_DIRECTORY) = -EACCES\",\"nr\":%d,\"role\":\"check\","
		       "\"judge\":\"equal\",\"undo\":null}",
		       SYS_openat);
	printf("],\"verdict\":\"%s\",\"exit\":%d,\"value\":null,\"threads\":[",
	       code == EXIT_OK	    ? "agree" :
	       code == EXIT_PARTIAL ? "partial" :
				      "failed",
	       code);
	for (i = 0; lr->report && i < n; i++) {
		printf("%s{\"tid\":%d,\"state\":\"%s\",\"results\":[",
		       i ? "," : "", allthreads_report_tid(lr->report, i),
		       allthreads_thread_state_name(
			       allthreads_report_state(lr->report, i)));
		for (s = 0; s < allthreads_report_nsteps(lr->report); s++)
			printf("%s%ld", s ? "," : "",
			       allthreads_report_result(lr->report, i, s));
		printf("],\"value\":null,\"old\":null,\"error\":");
		json_str(reasons ? reasons[i] : NULL);
		printf(",\"worker\":null,\"attrs\":null}");
	}
	putchar(']');
	{
		struct plan *p = calloc(1, sizeof(*p));

		if (p) {
			plan_note(p, "Landlock ABI %d; handled: %s", rq->abi,
				  acc);
			for (i = 0; i < rq->nrules; i++)
				plan_note(p, "rule: %s", rq->rules[i].text);
		}
		json_end(o, p, NULL, 0, NULL);
		free(p);
	}
	printf(",\"items\":null}\n");
}

static void print_dry_run(const struct opts *o, const struct request *rq)
{
	char acc[512];
	unsigned i;

	ruleset_rights_text(rq->handled, acc, sizeof(acc));
	printf("dry run: nothing changes\n");
	printf("ruleset (Landlock ABI %d): handles %s\n", rq->abi, acc);
	for (i = 0; i < rq->nrules; i++) {
		ruleset_rights_text(rq->rules[i].access, acc, sizeof(acc));
		printf("  allow %s beneath %s\n", acc, rq->rules[i].path);
	}
	printf("every thread, in one visit:\n");
	printf("  1. prctl(PR_SET_NO_NEW_PRIVS, 1)\n");
	if (rq->tsync)
		printf("  2. (the calling thread) landlock_restrict_self("
		       "ruleset, LANDLOCK_RESTRICT_SELF_TSYNC)\n");
	else
		printf("  2. landlock_restrict_self(ruleset, 0)\n");
	if (rq->can_prove)
		printf("then on every thread: openat(\"/\", O_DIRECTORY) must "
		       "fail with EACCES\n");
	if (o->program)
		printf("then exec %s\n", o->program[0]);
}

/* --- another process, through its helper ----------------------------------- */

/* A thread the run did not see, with NO_NEW_PRIVS: started after the
 * change by a thread in the domain (a new thread inherits both). */
static bool started_after(pid_t pid, pid_t tid)
{
	char v[16];

	return proc_status_field(pid, tid, "NoNewPrivs", v, sizeof(v)) == 0 &&
	       strcmp(v, "1") == 0;
}

/* A Landlock domain is part of a thread's credentials: a kernel worker
 * of TGT (an io_uring SQPOLL thread) and a ring's personalities keep the
 * credentials they had, outside the domain (allthreads(1), KERNEL
 * WORKERS AND IO_URING).  Refused with the reason (EXIT_FAILED) unless
 * --force; forced, LR counts the rings, which are never verified. */
static int refuse_kept(const struct opts *o, const struct target *tgt,
		       struct landlock_run *lr)
{
	struct plan plan = { .change = true, .status_diff = true };
	struct snapshot look;
	char why[2048];
	unsigned n;

	if (proc_look(tgt->pid, &look))
		return 0; /* the run says what it finds */
	n = judge_kept(&plan, &look, why, sizeof(why));
	lr->kept_rings = look.nrings;
	snapshot_free(&look);
	if (!n)
		return 0;
	if (o->force) {
		if (!o->quiet)
			fprintf(stderr,
				"allthreads: note: --force: pid %d keeps what "
				"no domain of its threads reaches (%s)\n",
				tgt->pid, why);
		return 0;
	}
	fprintf(stderr,
		"allthreads: landlock: refused, nothing changed: pid %d keeps "
		"credentials that no change of its threads reaches: %s\n",
		tgt->pid, why);
	fprintf(stderr,
		"allthreads: hint: restart the process in the domain, or have "
		"it enter the domain before it creates its io_uring rings; "
		"--force restricts the threads anyway and exits 2\n");
	return EXIT_FAILED;
}

/*
 * The ruleset built in TGT (the paths resolved in its mount namespace and
 * root), the steps run on each of its threads, through liballthreads'
 * allthreads_target_landlock(3) by the route --via names; LR gets the
 * report.  0, or an exit code after saying why: 3 unreachable (no such
 * process, not allowed, no route), 1 refused (nothing changed).
 */
static int remote_landlock(const struct opts *o, const struct request *rq,
			   const struct target *tgt, struct landlock_run *lr)
{
	struct allthreads_landlock_rule rules[MAX_RULES];
	struct at_remote_status st;
	unsigned i;
	int r, code;

	code = check_reachable(tgt);
	if (code)
		return code;
	code = refuse_kept(o, tgt, lr);
	if (code)
		return code;
	for (i = 0; i < rq->nrules; i++) {
		rules[i].allowed_access = rq->rules[i].access;
		rules[i].path = rq->rules[i].path;
	}
	r = at_remote_landlock_via(
		tgt->pid, o->via, rq->handled, rules, rq->nrules,
		rq->can_prove ? ALLTHREADS_LANDLOCK_PROVE : 0, o->timeout_ms,
		o->policy, &lr->report, &st);
	if (!st.opened)
		return remote_unreachable(tgt, r);
	if (!lr->report) {
		/* -EINPROGRESS: the outcome is unknown (a lost tracer, an
		 * answer that never came), never "not reached". */
		code = r == -EINVAL || r == -E2BIG || r == -ENOMEM ?
			       EXIT_FAILED :
		       r == -EINPROGRESS ? EXIT_PARTIAL :
					   EXIT_UNREACHABLE;
		if (code == EXIT_FAILED)
			fprintf(stderr,
				"allthreads: %d: landlock: %s; nothing "
				"changed\n",
				tgt->pid, st.why[0] ? st.why : strerror(-r));
		else
			fprintf(stderr, "allthreads: %d: %s\n", tgt->pid,
				st.why[0] ? st.why : strerror(-r));
		return code;
	}
	lr->rc = r;
	lr->step[STEP_NNP] = ALLTHREADS_LANDLOCK_STEP_NNP;
	lr->step[STEP_RESTRICT] = ALLTHREADS_LANDLOCK_STEP_RESTRICT;
	lr->step[STEP_PROVE] = rq->can_prove ? ALLTHREADS_LANDLOCK_STEP_PROVE :
					       -1;
	return 0;
}

/* One landlock command, from the request to the verdict. */
struct landlock_cmd {
	const struct opts *o;
	const struct target *tgt;
	struct request *rq;
	struct landlock_run lr; /* the change (and the proof, without TSYNC) */
	struct landlock_run pv; /* TSYNC: the proof, a second visit */
	char **reasons;		/* each reported thread's problem, or NULL */
	unsigned n;		/* threads in lr's report */
	unsigned bad;		/* threads not in the domain */
	int fd;			/* the ruleset, for allthreads itself */
	int taskfd;		/* /proc/self/task, opened before the change */
	bool proved;		/* a read of "/" proves the domain */
};

/* allthreads itself: the ruleset built here, the steps broadcast (TSYNC:
 * NNP on every thread, then the kernel spreads the domain, then the
 * proof).  0, or an exit code after saying why. */
static int run_self(struct landlock_cmd *c)
{
	const struct request *rq = c->rq;
	const struct opts *o = c->o;

	c->fd = ruleset_build(rq);
	if (c->fd < 0) {
		int code = -c->fd;

		c->fd = -1;
		return code;
	}
	/* Opened before the change: Landlock checks a directory read at
	 * open, so the sweep afterwards still works when /proc is denied. */
	c->taskfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run_program(o, c->fd, true, !rq->tsync, c->proved && !rq->tsync,
			&c->lr) ||
	    !c->lr.report) {
		fprintf(stderr, "allthreads: landlock: %s; nothing changed\n",
			strerror(c->lr.rc < 0 ? -c->lr.rc : ENOMEM));
		return EXIT_FAILED;
	}
	if (rq->tsync && c->lr.rc == 0) {
		c->lr.tsync_rc = (int)syscall(SYS_landlock_restrict_self, c->fd,
					      LANDLOCK_RESTRICT_SELF_TSYNC);
		if (c->lr.tsync_rc) {
			fprintf(stderr,
				"allthreads: landlock: landlock_restrict_self"
				"(TSYNC): %s; every thread has NO_NEW_PRIVS, "
				"none has the domain\n",
				strerror(errno));
			return EXIT_FAILED;
		}
	}
	if (c->proved && rq->tsync && c->lr.rc == 0 &&
	    (run_program(o, c->fd, false, false, true, &c->pv) ||
	     !c->pv.report)) {
		fprintf(stderr, "allthreads: landlock: the proof could not "
				"run\n");
		return EXIT_FAILED;
	}
	return 0;
}

/* Nobody missed: every thread the task directory lists now must be in the
 * report (or, in another process, have been born in the domain).  How
 * many are not. */
static unsigned sweep_missed(const struct landlock_cmd *c)
{
	const struct target *tgt = c->tgt;
	unsigned i, missed = 0;
	pid_t *tids = NULL;
	int swept, k;

	if (tgt->self)
		swept = c->taskfd >= 0 ? proc_list_tasks_fd(c->taskfd, &tids) :
					 -EBADF;
	else
		swept = proc_list_tasks(tgt->pid, &tids);
	for (k = 0; k < swept; k++) {
		for (i = 0; i < c->n; i++)
			if (allthreads_report_tid(c->lr.report, i) == tids[k])
				break;
		if (i < c->n)
			continue;
		if (!tgt->self && started_after(tgt->pid, tids[k])) {
			if (!c->o->quiet)
				fprintf(stderr,
					"allthreads: note: landlock: thread %d "
					"started after the change (from a "
					"thread in the domain: it inherits "
					"it)\n",
					tids[k]);
			continue;
		}
		fprintf(stderr,
			"allthreads: landlock: thread %d was not reached\n",
			tids[k]);
		missed++;
	}
	if (swept < 0)
		fprintf(stderr,
			"allthreads: landlock: the task directory: %s (no "
			"final sweep)\n",
			strerror(-swept));
	free(tids);
	return missed;
}

/* Each reported thread judged, then the sweep: the exit code. */
static int judge_threads(struct landlock_cmd *c)
{
	const struct landlock_run *lr = &c->lr;
	const struct landlock_run *proof = !c->proved	? NULL :
					   c->rq->tsync ? &c->pv :
							  &c->lr;
	char why[256];
	unsigned i, pi;

	c->n = allthreads_report_nthreads(lr->report);
	c->reasons = calloc(c->n ? c->n : 1, sizeof(*c->reasons));
	if (!c->reasons)
		return EXIT_FAILED;
	for (i = 0; i < c->n; i++)
		if (!thread_ok(lr, proof, i, &pi, why, sizeof(why))) {
			c->reasons[i] = strdup(why);
			c->bad++;
		}
	c->bad += sweep_missed(c);
	if (lr->kept_rings && !c->o->quiet)
		fprintf(stderr,
			"allthreads: landlock: pid %d: %u io_uring ring(s) may "
			"hold personalities outside the domain: not changed\n",
			c->tgt->pid, lr->kept_rings);
	if (lr->rc == 0 && !c->bad && !lr->kept_rings)
		return EXIT_OK;
	if (allthreads_report_verdict(lr->report) == ALLTHREADS_FAILED &&
	    lr->rc != 0)
		return EXIT_FAILED;
	return EXIT_PARTIAL;
}

/* The verdict CODE in words: each thread's problem (and with -v each
 * thread), and what the code means. */
static void print_verdict(const struct landlock_cmd *c, int code)
{
	const struct opts *o = c->o;
	unsigned i;

	for (i = 0; i < c->n; i++) {
		pid_t tid = allthreads_report_tid(c->lr.report, i);

		if (c->reasons[i])
			fprintf(stderr, "allthreads: landlock: thread %d: %s\n",
				tid, c->reasons[i]);
		else if (o->verbose)
			printf("%d restricted%s\n", tid,
			       c->proved ? " (reading / denied: EACCES)" : "");
	}
	if (code == EXIT_OK && !o->quiet && !c->proved)
		fprintf(stderr,
			"allthreads: note: landlock: the ruleset does not deny "
			"reading /, so the domain was proven by "
			"landlock_restrict_self's result on each thread "
			"only\n");
	if (code == EXIT_FAILED)
		fprintf(stderr, "allthreads: landlock: %s\n",
			c->lr.rc ? strerror(-c->lr.rc) : "failed");
	else if (code == EXIT_PARTIAL && !c->bad)
		fprintf(stderr, "allthreads: landlock: every thread is in the "
				"domain, not what the process keeps in "
				"io_uring\n");
	else if (code == EXIT_PARTIAL)
		fprintf(stderr,
			"allthreads: landlock: THREADS NOW DIFFER: %u "
			"thread(s) not in the domain\n",
			c->bad);
}

static void landlock_free(struct landlock_cmd *c)
{
	unsigned i;

	for (i = 0; c->reasons && i < c->n; i++)
		free(c->reasons[i]);
	free(c->reasons);
	allthreads_report_free(c->lr.report);
	allthreads_report_free(c->pv.report);
	if (c->fd >= 0)
		close(c->fd);
	if (c->taskfd >= 0)
		close(c->taskfd);
	free(c->rq);
}

/* The request read and checked against the kernel: 0, or an exit code
 * after saying why. */
static int prepare(struct landlock_cmd *c)
{
	const struct opts *o = c->o;
	int abi;

	if (o->nargs)
		return usage_error("landlock: %s: unexpected argument (rules "
				   "are --landlock-rule; PROGRAM follows --)",
				   o->args[0]);
	if (c->tgt->tid)
		return usage_error("landlock: -t %d: a domain goes on every "
				   "thread (use -p)",
				   c->tgt->tid);
	c->rq = calloc(1, sizeof(*c->rq));
	if (!c->rq)
		return EXIT_FAILED;
	abi = ruleset_abi();
	if (abi < 0)
		return -abi;
	c->rq->abi = abi;
	c->rq->tsync = abi >= ABI_TSYNC;
	return ruleset_parse(o, c->tgt, c->rq);
}

int cmd_landlock(const struct opts *o, const struct target *tgt)
{
	struct landlock_cmd c = { .o = o, .tgt = tgt, .fd = -1, .taskfd = -1 };
	int code;

	code = prepare(&c);
	if (!code && o->dry_run) {
		print_dry_run(o, c.rq);
		landlock_free(&c);
		return EXIT_OK;
	}
	if (code)
		goto out;
	c.proved = c.rq->can_prove;
	if (tgt->self) {
		code = run_self(&c);
	} else {
		/* Another process: its helper builds the ruleset there and
		 * broadcasts all three steps. */
		c.rq->tsync = false;
		code = remote_landlock(o, c.rq, tgt, &c.lr);
	}
	if (code)
		goto out;
	code = judge_threads(&c);
	if (o->json)
		json_landlock(o, c.rq, &c.lr, c.proved, code, c.reasons, c.n,
			      tgt);
	else if (c.reasons)
		print_verdict(&c, code);
	if (code == EXIT_OK && o->program) {
		landlock_free(&c);
		return program_exec(o->program, "",
				    " (under the new Landlock domain: does a "
				    "rule allow execute and read-file on it "
				    "and its libraries?)");
	}
out:
	if (code != EXIT_OK && o->program)
		fprintf(stderr, "allthreads: not running %s\n", o->program[0]);
	landlock_free(&c);
	return code;
}
