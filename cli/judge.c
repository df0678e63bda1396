// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * judge.c - an outcome judged: why each thread is at fault, the change
 * proven through the CHECK steps and /proc, and the exit code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "cli.h"
#include "judge.h"
#include "names.h"
#include "outcome.h"
#include "plan.h"
#include "procfs.h"
#include "target.h"
#include "usage.h"

/* Why ROW's thread is at fault, in words, or NULL. */
static char *describe(const struct plan *plan, const struct outcome *out,
		      const struct row *row)
{
	char buf[512];
	const struct step *step;
	long r;

	switch (row->state) {
	case ALLTHREADS_T_OK:
	case ALLTHREADS_T_ZOMBIE:
	case ALLTHREADS_T_EXITED:
	case ALLTHREADS_T_NOT_RUN:
		/* Not at fault: the thread at fault is named. */
		return NULL;
	case ALLTHREADS_T_FAILED:
	case ALLTHREADS_T_UNDONE:
		if (row->failed_step < 0 ||
		    (unsigned)row->failed_step >= plan->nsteps) {
			if (row->state == ALLTHREADS_T_UNDONE && row->left)
				snprintf(buf, sizeof(buf),
					 "changed; another thread failed, "
					 "and %u step(s) without an undo "
					 "stay in force here",
					 row->left);
			else if (row->state == ALLTHREADS_T_UNDONE)
				snprintf(buf, sizeof(buf),
					 "changed, then "
					 "undone because another thread "
					 "failed");
			else
				snprintf(buf, sizeof(buf), "failed%s%s",
					 row->why[0] ? ": " : "", row->why);
			break;
		}
		step = &plan->steps[row->failed_step];
		r = row->res[row->failed_step];
		if (r < 0)
			snprintf(buf, sizeof(buf), "%s: %s", step->call,
				 strerror(-r));
		else
			snprintf(buf, sizeof(buf),
				 "%s returned %ld, the "
				 "first thread %ld",
				 step->call, r,
				 out->rows[0].res[row->failed_step]);
		break;
	case ALLTHREADS_T_BLOCKED:
	case ALLTHREADS_T_TIMEOUT:
		/* What the engine saw at the deadline (the report's why):
		 * /proc read now could show a thread that has moved on. */
		snprintf(buf, sizeof(buf), "%s%s%s",
			 row->state == ALLTHREADS_T_BLOCKED ?
				 "has the signal blocked; never ran" :
				 "did not answer before the deadline",
			 row->why[0] ? ": " : "", row->why);
		break;
	case ALLTHREADS_T_QUEUE_FULL:
		snprintf(buf, sizeof(buf),
			 "the signal could not be queued "
			 "before the deadline (RLIMIT_SIGPENDING)");
		break;
	default:
		snprintf(buf, sizeof(buf), "state %d", row->state);
		break;
	}
	return strdup(buf);
}

const char *judge_check_words(const struct expectation *e, char *buf,
			      size_t size)
{
	size_t len = 0;
	unsigned i;

	buf[0] = '\0';
	switch (e->attr) {
	case ATTR_UID:
	case ATTR_GID:
		for (i = 0; i < 4 && len < size; i++) {
			if (e->ids[i] < 0)
				len += snprintf(buf + len, size - len, "%s*",
						i ? " " : "");
			else
				len += snprintf(buf + len, size - len, "%s%ld",
						i ? " " : "", e->ids[i]);
		}
		return "is";
	case ATTR_GROUPS:
		for (i = 0; i < e->ngroups && len < size; i++)
			len += snprintf(buf + len, size - len, "%s%u",
					i ? " " : "", e->groups[i]);
		if (!e->ngroups)
			snprintf(buf, size, "(none)");
		return "is";
	case ATTR_CAPEFF:
	case ATTR_CAPPRM:
	case ATTR_CAPINH:
	case ATTR_CAPBND:
	case ATTR_CAPAMB:
		break;
	default:
		snprintf(buf, size, "%ld", e->num);
		return "is";
	}
	switch (e->how) {
	case EXPECT_BIT_SET:
	case EXPECT_BIT_CLEAR:
		format_cap(e->num, buf, size);
		return e->how == EXPECT_BIT_SET ? "holds" : "lacks";
	case EXPECT_MASK_CLEAR:
		if (__builtin_popcountll(e->mask) * 2 >
		    __builtin_popcountll(all_caps_mask())) {
			format_capset(all_caps_mask() & ~e->mask, buf, size);
			return "holds at most";
		}
		/* fall through */
	case EXPECT_MASK_SET:
		format_capset_fold(e->mask, buf, size);
		return e->how == EXPECT_MASK_SET ? "holds" : "lacks";
	case EXPECT_EQUALS:
		break;
	}
	format_capset_fold(e->mask, buf, size);
	return "is";
}

/* Kept credentials in few words: "uid 0 0 0 0, CapEff all". */
static void cred_words(const long uid[4], unsigned long long capeff, char *buf,
		       size_t size)
{
	char caps[512];

	format_capset_fold(capeff, caps, sizeof(caps));
	snprintf(buf, size, "uid %ld %ld %ld %ld, CapEff %s", uid[0], uid[1],
		 uid[2], uid[3], caps);
}

/* Why kernel worker T of SNAP's process is left as it was. */
static void worker_why(const struct snapshot *snap, const struct tstatus *t,
		       char *buf, size_t size)
{
	char what[128], cred[640];

	worker_words(snap, t, what, sizeof(what));
	cred_words(t->uid, t->cap[CAP_EFF], cred, sizeof(cred));
	snprintf(buf, size,
		 "kernel worker (%s): never in user space, so no route "
		 "changes it; it keeps %s",
		 what, cred);
}

/* Why ring R is left as it was, into BUF (appended). */
static unsigned ring_why(const struct uring *r, char *buf, size_t size,
			 unsigned n)
{
	char cred[640];
	int k;

	if (r->npers < 0) {
		text_append(
			buf, size,
			"%sio_uring ring fd %d may hold registered "
			"personalities (credentials its requests can name; "
			"this kernel does not list them), which no change of "
			"the threads reaches",
			n ? "; " : "", r->fd);
		return 1;
	}
	for (k = 0; k < r->npers; k++) {
		cred_words(r->pers[k].uid, r->pers[k].capeff, cred,
			   sizeof(cred));
		text_append(
			buf, size,
			"%sio_uring ring fd %d holds personality %u (%s), which "
			"no change of the threads reaches",
			n + k ? "; " : "", r->fd, r->pers[k].id, cred);
	}
	return (unsigned)r->npers;
}

unsigned judge_kept(const struct plan *plan, const struct snapshot *snap,
		    char *why, size_t size)
{
	char buf[1024];
	unsigned i, n = 0;

	why[0] = '\0';
	if (!plan->change)
		return 0;
	for (i = 0; i < snap->n; i++) {
		const struct tstatus *t = &snap->t[i];

		if (!t->worker)
			continue;
		worker_why(snap, t, buf, sizeof(buf));
		text_append(why, size, "%stask %d (%s) is a %s",
			    n++ ? "; " : "", t->tid, t->comm, buf);
	}
	/* A personality holds credentials: only a credential change
	 * misses it. */
	for (i = 0; plan->creds && i < snap->nrings; i++)
		n += ring_why(&snap->rings[i], why, size, n);
	return n;
}

/* The kernel worker TID as the look before the change saw it, or
 * NULL. */
static const struct tstatus *look_worker(const struct outcome *out, pid_t tid)
{
	const struct tstatus *t = snapshot_find(&out->look, tid);

	return t && t->worker ? t : NULL;
}

/* A row's TID and index, to find rows by TID among thousands. */
struct row_key {
	pid_t tid;
	unsigned i;
};

static int cmp_tid_key(const void *a, const void *b)
{
	const struct row_key *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* By TID, then by index: a TID reported twice is found at its first row,
 * as a search one by one would. */
static int cmp_key(const void *a, const void *b)
{
	const struct row_key *x = a, *y = b;
	int c = cmp_tid_key(a, b);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* OUT's rows by TID, sorted (NULL without memory: then found one by one). */
static struct row_key *row_keys(const struct outcome *out)
{
	struct row_key *k = calloc(out->nrows ? out->nrows : 1, sizeof(*k));
	unsigned i;

	if (!k)
		return NULL;
	for (i = 0; i < out->nrows; i++) {
		k[i].tid = out->rows[i].tid;
		k[i].i = i;
	}
	qsort(k, out->nrows, sizeof(*k), cmp_key);
	return k;
}

/* The row of TID among the first N rows of OUT, KEYS their index. */
static struct row *find_row(struct outcome *out, const struct row_key *keys,
			    unsigned n, pid_t tid)
{
	struct row_key want = { .tid = tid };
	const struct row_key *k;
	unsigned i;

	if (keys) {
		k = bsearch(&want, keys, n, sizeof(*keys), cmp_tid_key);
		while (k && k > keys && k[-1].tid == tid)
			k--;
		return k ? &out->rows[k->i] : NULL;
	}
	for (i = 0; i < n; i++)
		if (out->rows[i].tid == tid)
			return &out->rows[i];
	return NULL;
}

static void set_problem(struct row *row, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_problem(struct row *row, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(row->problem);
	row->problem = strdup(buf);
}

/* What T shows of E's attribute, as the message says it. */
static void shows(const struct expectation *e, const struct tstatus *t,
		  char *buf, size_t size)
{
	const long *ids = e->attr == ATTR_UID ? t->uid : t->gid;
	unsigned i;

	switch (e->attr) {
	case ATTR_UID:
	case ATTR_GID:
		snprintf(buf, size, "%ld %ld %ld %ld", ids[0], ids[1], ids[2],
			 ids[3]);
		return;
	case ATTR_GROUPS:
		buf[0] = '\0';
		for (i = 0; i < t->ngroups; i++)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%u",
				 i ? " " : "", t->groups[i]);
		return;
	case ATTR_CAPEFF:
	case ATTR_CAPPRM:
	case ATTR_CAPINH:
	case ATTR_CAPBND:
	case ATTR_CAPAMB:
		format_capset_fold(t->cap[expect_capset(e->attr)], buf, size);
		return;
	case ATTR_NNP:
		snprintf(buf, size, "%d", t->nnp);
		return;
	case ATTR_SECCOMP:
		snprintf(buf, size, "%d", t->seccomp);
		return;
	default:
		attr_format(e->attr, t, buf, size);
		return;
	}
}

/* A thread /proc lists that the run did not reach: a row of its own,
 * judged by /proc alone (state OK until a check fails); NULL without
 * memory. */
static struct row *add_unlisted(struct outcome *out, const struct tstatus *t)
{
	static const long no_results[PLAN_MAX_STEPS];
	struct row *rows, *row;

	rows = realloc(out->rows, (out->nrows + 1) * sizeof(*rows));
	if (!rows)
		return NULL;
	out->rows = rows;
	row = &rows[out->nrows++];
	memset(row, 0, sizeof(*row));
	row->tid = t->tid;
	row->res = no_results;
	row->state = ALLTHREADS_T_OK;
	row->failed_step = -1;
	row->unlisted = true;
	out->unlisted++;
	return row;
}

/* The CHECK steps of every thread that answered must read what was set;
 * returns how many threads fail. */
static unsigned verify_checks(const struct plan *plan, struct outcome *out)
{
	unsigned bad = 0, i, s;

	for (i = 0; i < out->nrows && plan->has_expect; i++) {
		struct row *row = &out->rows[i];

		if (row->state != ALLTHREADS_T_OK)
			continue;
		for (s = 0; s < plan->nsteps; s++) {
			if (plan->steps[s].role != ROLE_CHECK ||
			    row->res[s] == plan->expect)
				continue;
			set_problem(row,
				    "%s reads %ld after the change, not "
				    "%ld",
				    plan->steps[s].call, row->res[s],
				    plan->expect);
			bad++;
			break;
		}
	}
	return bad;
}

/* What /proc shows of thread T after the change (its comm, or each
 * expectation) must read back; 1 if it does not (ROW's problem set), 0. */
static unsigned verify_readback(const struct plan *plan, struct row *row,
				const struct tstatus *t)
{
	const char *late = row->unlisted ? "not reached by the run, and " : "";
	char val[1024];
	unsigned s;

	if (plan->comm) {
		if (strcmp(t->comm, plan->comm)) {
			set_problem(row,
				    "%scomm reads \"%s\", not "
				    "\"%s\"",
				    late, t->comm, plan->comm);
			return 1;
		}
		return 0;
	}
	for (s = 0; s < plan->nexpect; s++) {
		const struct expectation *e = &plan->expects[s];
		char want[1024];

		if (expect_holds(e, t))
			continue;
		shows(e, t, val, sizeof(val));
		judge_check_words(e, want, sizeof(want));
		set_problem(row,
			    "%s/proc shows %s: %s after the change "
			    "(expected %s %s)",
			    late, at_attrs[e->attr].key, val,
			    judge_check_words(e, want, sizeof(want)), want);
		return 1;
	}
	return 0;
}

/* After a change every thread reported: prove it.  The CHECK steps must
 * read what was set; every thread /proc lists must have taken part; the
 * attributes /proc shows must read back.  Returns how many threads fail. */
static unsigned verify(const struct opts *o, const struct plan *plan,
		       struct outcome *out)
{
	struct snapshot *snap = &out->after;
	struct row_key *keys;
	unsigned bad, i, s, listed = out->nrows;
	int err;

	bad = verify_checks(plan, out);
	/* The cheap sweep, always: a thread the run missed is a failure;
	 * the full read-back of every thread's status where /proc shows
	 * what changed, or the output wants it (-J, -v). */
	/* Landlock on allthreads itself: a domain may deny /proc, so the
	 * task directory opened before the change is listed, and no status
	 * read. */
	if (out->taskfd >= 0) {
		snapshot_free(snap);
		err = proc_snapshot_tids_fd(out->taskfd, snap);
	} else if (plan->nexpect || plan->comm || plan->status_diff ||
		   o->json || out->kept) {
		snapshot_free(snap);
		err = proc_snapshot(out->procpid, 0, snap);
	} else if (!out->after_tids) {
		snapshot_free(snap);
		err = proc_snapshot_tids(out->procpid, snap);
	} else {
		err = 0; /* listed by the route, right after the run */
	}
	if (err) {
		fprintf(stderr, "allthreads: /proc/%s/task: %s\n",
			out->tgt->self ? "self" : "PID", strerror(-err));
		return out->nrows;
	}
	/* The rows the run reported: those added below for threads it
	 * missed each have a TID of their own, never looked for again. */
	keys = row_keys(out);
	for (i = 0; i < snap->n; i++) {
		const struct tstatus *t = &snap->t[i];
		struct row *row = find_row(out, keys, listed, t->tid);
		char val[1024];

		if (out->taskfd >= 0) {
			/* Listed only: no status to read back. */
			if (!row && !add_unlisted(out, t))
				return out->nrows + 1;
			continue;
		}
		if (!row) {
			/* Not in the report: born after the run's last look.
			 * Every run here holds its threads (flags 0), and it
			 * ends only when a sweep made while every thread it
			 * found was held, changed, finds no other (with
			 * ptrace: while every thread was stopped).  So such a
			 * thread was made by one that had changed, after it
			 * had, and inherits the change.  Where /proc shows
			 * what was set, that is checked too; where it does
			 * not (KEEP_CAPS, securebits), the hold is the
			 * proof. */
			row = add_unlisted(out, t);
			if (!row) {
				free(keys);
				return out->nrows + 1;
			}
			/* Born after a closed run: it inherited the change
			 * (still judged by /proc where /proc shows it).  Not
			 * so a kernel worker: it inherits nothing. */
			if (out->closed && !plan->nexpect && !plan->comm &&
			    !t->worker)
				continue;
			if (!plan->nexpect && !plan->comm && !t->worker) {
				row->after = t;
				continue;
			}
		}
		row->after = t;
		if (t->worker && !is_absent(row->state)) {
			/* A task the verdict counts too: kept as it was,
			 * unless /proc shows every check holding there. */
			for (s = 0; s < plan->nexpect; s++)
				if (!expect_holds(&plan->expects[s], t))
					break;
			if (plan->nexpect && s == plan->nexpect && !plan->comm)
				continue;
			worker_why(snap, t, val, sizeof(val));
			set_problem(row, "%s: not changed", val);
			bad++;
			continue;
		}
		if (row->state != ALLTHREADS_T_OK || row->problem)
			continue;
		bad += verify_readback(plan, row, t);
	}
	free(keys);
	return bad;
}

/* SPECULATION_CTRL with no FEATURE reads every feature, and a feature the
 * architecture does not have reads ENODEV (on arm64: indirect_branch and
 * l1d_flush, which only x86 has): shown as such, not a failed read. */
static bool feature_absent(const struct plan *plan, unsigned s,
			   const struct row *row)
{
	return plan->format == FMT_SPEC && plan->nsteps > 1 &&
	       row->res[s] == -ENODEV;
}

int judge_outcome(const struct opts *o, const struct plan *plan,
		  struct outcome *out)
{
	unsigned i, bad = 0, present = 0, rings;
	char why[1024];

	for (i = 0; i < out->nrows; i++) {
		struct row *row = &out->rows[i];
		const struct tstatus *w = look_worker(out, row->tid);

		row->problem = describe(plan, out, row);
		/* The helper's signal never reaches a kernel worker: no
		 * route would. */
		if (w && row->state == ALLTHREADS_T_BLOCKED) {
			worker_why(&out->look, w, why, sizeof(why));
			set_problem(row, "%s", why);
		}
		if (!is_absent(row->state))
			present++;
		/* A read that returned an error on this thread. */
		if (row->state == ALLTHREADS_T_OK && !plan->change) {
			unsigned s;

			for (s = 0; s < row->nrun; s++) {
				if (row->res[s] >= 0 ||
				    feature_absent(plan, s, row))
					continue;
				set_problem(row, "%s: %s", plan->steps[s].call,
					    strerror(-row->res[s]));
				break;
			}
		}
	}
	if (!plan->change || plan->call) {
		for (i = 0; i < out->nrows; i++)
			if (out->rows[i].problem)
				bad++;
		if (!out->ran)
			return bad ? EXIT_FAILED : EXIT_OK;
		if (out->verdict == ALLTHREADS_PARTIAL)
			return EXIT_PARTIAL;
		return bad || out->verdict == ALLTHREADS_FAILED ? EXIT_FAILED :
								  EXIT_OK;
	}
	if (out->verdict == ALLTHREADS_FAILED)
		return EXIT_FAILED;
	if (out->verdict == ALLTHREADS_PARTIAL)
		return EXIT_PARTIAL;
	if (out->rc < 0)
		return EXIT_FAILED;
	bad = verify(o, plan, out);
	/* A credential change leaves a ring's personalities as they were:
	 * never verified (render.c names them). */
	rings = plan->creds ? out->after.nrings : 0;
	if (!bad && !rings)
		return EXIT_OK;
	if (!bad)
		return EXIT_PARTIAL;
	return bad >= present + out->unlisted ? EXIT_FAILED : EXIT_PARTIAL;
}
