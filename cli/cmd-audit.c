// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-audit.c - `allthreads audit`: every process on the host (or the -p
 * list, or those of --user, or named --comm) whose threads disagree on
 * their credentials, and every thread that fails an --expect.
 *
 * Read-only, from /proc, for any user.  Built for a whole host: each
 * thread's status is one openat() relative to its process's task
 * directory, one read() and one pass over the text (audit-read.c);
 * nothing is formatted unless it is printed.  Processes and threads that exit while they are
 * read are skipped; one that cannot be read is named, and the run goes on.
 *
 * --format=prometheus (and --textfile FILE, which replaces FILE at once)
 * writes the counts instead, for node_exporter's textfile collector
 * (prom.c); then each process's open files are read too, for the
 * credentials it keeps in io_uring.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "attrs.h"
#include "audit.h"
#include "cli.h"
#include "commands.h"
#include "expect.h"
#include "ids.h"
#include "json.h"
#include "listing.h"
#include "plan.h"
#include "procfs.h"
#include "target.h"
#include "usage.h"

enum {
	OPT_USER = 'u',
	OPT_COMM = 'c',
	OPT_EXPECT = 'e',
	OPT_FORMAT = 0x200,
	OPT_TEXTFILE,
	OPT_PER_PROCESS,
};

/* Most --per-process series. */
#define MAX_PER_PROCESS 1000

static const struct argp_option audit_options[] = {
	{ "user", OPT_USER, "USER", 0,
	  "only processes whose main thread runs as USER (effective uid; "
	  "name or number)",
	  0 },
	{ "comm", OPT_COMM, "NAME", 0,
	  "only processes whose main thread is named NAME (exactly, as "
	  "pgrep -x)",
	  0 },
	{ "expect", OPT_EXPECT, "KEY=VALUE", 0,
	  "every thread of every matched process must show this "
	  "(repeatable; the keys of check)",
	  0 },
	{ "format", OPT_FORMAT, "FORMAT", 0,
	  "table (the default), json (as -J), or prometheus: the counts, in "
	  "the text format node_exporter's textfile collector reads",
	  0 },
	{ "textfile", OPT_TEXTFILE, "FILE", 0,
	  "--format=prometheus into FILE, replaced at once (a new file "
	  "beside it, then renamed); exit 0 once it is written",
	  0 },
	{ "per-process", OPT_PER_PROCESS, "N", 0,
	  "with prometheus: a series of its own for each of the N "
	  "processes at fault of lowest pid (default 0, at most 1000)",
	  0 },
	{ NULL },
};

static int parse_audit_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_USER:
		o->audit_user = arg;
		break;
	case OPT_COMM:
		o->audit_comm = arg;
		break;
	case OPT_EXPECT:
		if (o->nexpect >= MAX_EXPECT)
			argp_error(state, "--expect: more than %d", MAX_EXPECT);
		o->expect[o->nexpect++] = arg;
		break;
	case OPT_FORMAT:
		if (strcmp(arg, "table") && strcmp(arg, "json") &&
		    strcmp(arg, "prometheus"))
			argp_error(state,
				   "--format: %s: not table, json or "
				   "prometheus",
				   arg);
		o->audit_format = arg;
		/* -J's JSON: the listing options check it. */
		if (strcmp(arg, "json") == 0)
			o->json = true;
		break;
	case OPT_TEXTFILE:
		if (!*arg)
			argp_error(state, "--textfile: an empty file name");
		o->audit_textfile = arg;
		break;
	case OPT_PER_PROCESS: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(arg, &end, 10);
		if (!isdigit((unsigned char)*arg) || *end || errno ||
		    n > MAX_PER_PROCESS)
			argp_error(state,
				   "--per-process: %s: not a number from 0 to "
				   "%d",
				   arg, MAX_PER_PROCESS);
		o->audit_per_process = n;
		break;
	}
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
}

/* audit's table: one row per finding. */
enum {
	COL_PID,
	COL_COMM,
	COL_CHECK,
	COL_FIELD,
	COL_TIDS,
	COL_VALUE,
	COL_WANT,
	NR_COLS,
};

static const struct listing_col audit_cols[NR_COLS] = {
	[COL_PID] = { "PID", NULL, 0, SCOLS_FL_RIGHT, "process id" },
	[COL_COMM] = { "COMM", NULL, 0, SCOLS_FL_TRUNC,
		       "its main thread's name" },
	[COL_CHECK] = { "CHECK", NULL, 0, 0,
			"differ (threads disagree), expect (an --expect "
			"fails, on a thread or on an io_uring ring's "
			"personalities) or kept (the thread at fault is a "
			"kernel worker: no change of the threads reaches "
			"it)" },
	[COL_FIELD] = { "FIELD", NULL, 0, 0, "the /proc status field" },
	[COL_TIDS] = { "TIDS", NULL, 0, SCOLS_FL_WRAP,
		       "the threads at fault (8, or every one with -v), of "
		       "how many" },
	[COL_VALUE] = { "VALUE", NULL, 0, SCOLS_FL_WRAP, "what they show" },
	[COL_WANT] = { "WANT", NULL, 0, SCOLS_FL_WRAP,
		       "what the main thread shows, or the --expect" },
};

static const unsigned audit_default[] = {
	COL_PID, COL_COMM, COL_CHECK, COL_FIELD, COL_TIDS, COL_VALUE, COL_WANT,
};
#define NR_DEFAULT (sizeof(audit_default) / sizeof(audit_default[0]))

static char *audit_help(int key, const char *text, void *input)
{
	(void)input; /* argp's help filter: no input of ours */
	return listing_help(key, text, audit_cols, NR_COLS, audit_default,
			    NR_DEFAULT);
}

const struct argp audit_argp = {
	.options = audit_options,
	.parser = parse_audit_opt,
	.args_doc = "",
	.doc = "List every process whose threads disagree on Uid, Gid, Groups, "
	       "a capability set, NoNewPrivs, Seccomp or Seccomp_filters, "
	       "with the threads and fields that differ, and every thread "
	       "that fails an --expect.  Reads /proc only: any user, any "
	       "process it can see; one it cannot read is named, and the "
	       "audit goes on.  The whole host by default; -p PID,... audits "
	       "those.  Exit 0 when nothing was found, 1 otherwise (as "
	       "check); 3 when a -p PID cannot be read.  --format=prometheus "
	       "writes counts for node_exporter's textfile collector instead "
	       "of the findings; with --textfile, the exit status says "
	       "whether FILE was written (0) or not (1).\v"
	       "Examples:\n"
	       "  allthreads audit\n"
	       "  allthreads audit --comm nginx --expect NoNewPrivs=1 \\\n"
	       "      --expect CapEff=none\n"
	       "  allthreads audit -p \"$(pidof app)\" -J | jq .differ\n"
	       "  allthreads audit -o pid,field -r -n | sort -u\n"
	       "  allthreads -q audit --textfile \\\n"
	       "      /var/lib/prometheus/node-exporter/allthreads.prom",
	.children = at_listing_children,
	.help_filter = audit_help,
};

/* The credential fields audit compares, in the order it prints them. */
static const enum attr compared[] = {
	ATTR_UID,    ATTR_GID,	   ATTR_GROUPS,	 ATTR_CAPINH,
	ATTR_CAPPRM, ATTR_CAPEFF,  ATTR_CAPBND,	 ATTR_CAPAMB,
	ATTR_NNP,    ATTR_SECCOMP, ATTR_FILTERS,
};
#define NR_COMPARED (sizeof(compared) / sizeof(compared[0]))

/* --- judging ------------------------------------------------------------- */

static bool is_zombie(const struct tstatus *t)
{
	return t->state == 'Z' || t->state == 'X';
}

/* The thread the others are compared with: the main thread unless it is
 * a zombie (it exited; its credentials are no longer in use), else the
 * first live one; -1 when none is alive. */
static int reference(const struct snapshot *snap)
{
	int first = -1;
	unsigned i;

	for (i = 0; i < snap->n; i++) {
		if (is_zombie(&snap->t[i]))
			continue;
		if (snap->t[i].tid == snap->pid)
			return i;
		if (first < 0)
			first = i;
	}
	return first;
}

static bool same_groups(const struct tstatus *a, const struct tstatus *b)
{
	return a->ngroups == b->ngroups &&
	       (!a->ngroups || memcmp(a->groups, b->groups,
				      a->ngroups * sizeof(*a->groups)) == 0);
}

/* Does field A differ between X and Y?  On the raw values: nothing is
 * formatted for threads that agree. */
static bool field_differs(enum attr a, const struct tstatus *x,
			  const struct tstatus *y)
{
	switch (a) {
	case ATTR_UID:
		return memcmp(x->uid, y->uid, sizeof(x->uid)) != 0;
	case ATTR_GID:
		return memcmp(x->gid, y->gid, sizeof(x->gid)) != 0;
	case ATTR_GROUPS:
		return !same_groups(x, y);
	case ATTR_CAPINH:
		return x->cap[CAP_INH] != y->cap[CAP_INH];
	case ATTR_CAPPRM:
		return x->cap[CAP_PRM] != y->cap[CAP_PRM];
	case ATTR_CAPEFF:
		return x->cap[CAP_EFF] != y->cap[CAP_EFF];
	case ATTR_CAPBND:
		return x->cap[CAP_BND] != y->cap[CAP_BND];
	case ATTR_CAPAMB:
		return x->cap[CAP_AMB] != y->cap[CAP_AMB];
	case ATTR_NNP:
		return x->nnp != y->nnp;
	case ATTR_SECCOMP:
		return x->seccomp != y->seccomp;
	case ATTR_FILTERS:
		return x->filters != y->filters;
	default:
		return false;
	}
}

/* One line of the text table: threads of one process that share one
 * wrong value of one field. */
struct finding {
	const char *kind; /* "differ" or "expect" */
	char field[64];
	char value[512];
	char want[512];
	pid_t *tids;
	unsigned ntids;
};

struct findings {
	struct finding *f;
	unsigned n, cap;
};

static struct finding *finding_for(struct findings *fs, const char *kind,
				   const char *field, const char *value,
				   const char *want, unsigned maxtids)
{
	struct finding *f;
	unsigned i;

	for (i = 0; i < fs->n; i++) {
		f = &fs->f[i];
		if (f->kind == kind && strcmp(f->field, field) == 0 &&
		    strcmp(f->value, value) == 0 && strcmp(f->want, want) == 0)
			return f;
	}
	if (fs->n == fs->cap) {
		unsigned ncap = fs->cap ? 2 * fs->cap : 8;
		struct finding *nf = realloc(fs->f, ncap * sizeof(*nf));

		if (!nf)
			return NULL;
		fs->f = nf;
		fs->cap = ncap;
	}
	f = &fs->f[fs->n];
	memset(f, 0, sizeof(*f));
	f->tids = malloc(maxtids * sizeof(*f->tids));
	if (!f->tids)
		return NULL;
	f->kind = kind;
	snprintf(f->field, sizeof(f->field), "%s", field);
	snprintf(f->value, sizeof(f->value), "%s", value);
	snprintf(f->want, sizeof(f->want), "%s", want);
	fs->n++;
	return f;
}

static void findings_free(struct findings *fs)
{
	unsigned i;

	for (i = 0; i < fs->n; i++)
		free(fs->f[i].tids);
	free(fs->f);
}

static void add_reason(char **reason, const char *text)
{
	char *n;

	if (asprintf(&n, "%s%s%s", *reason ? *reason : "", *reason ? "; " : "",
		     text) < 0)
		return;
	free(*reason);
	*reason = n;
}

/* --- output -------------------------------------------------------------- */

static void tid_list(const struct opts *o, const struct finding *f,
		     unsigned nthreads, char *buf, size_t size)
{
	unsigned i, shown = o->verbose ? f->ntids : 8;
	size_t len = 0;

	buf[0] = '\0';
	for (i = 0; i < f->ntids && i < shown && len + 16 < size; i++)
		len += snprintf(buf + len, size - len, "%s%d", i ? "," : "",
				f->tids[i]);
	if (f->ntids > shown && len + 32 < size)
		len += snprintf(buf + len, size - len, ",... (+%u)",
				f->ntids - shown);
	if (len + 32 < size)
		snprintf(buf + len, size - len, " (%u of %u)", f->ntids,
			 nthreads);
}

static void table_add(struct audit *au, const struct snapshot *snap,
		      const char *comm, const struct findings *fs)
{
	struct listing *l = &au->ls;
	char pid[16], tids[1024];
	unsigned i;

	snprintf(pid, sizeof(pid), "%d", snap->pid);
	/* Disagreements first, then failed expectations. */
	for (i = 0; i < 2 * fs->n; i++) {
		const struct finding *f = &fs->f[i % fs->n];
		struct libscols_line *ln;

		if ((i < fs->n) != (strcmp(f->kind, "differ") == 0))
			continue;
		ln = listing_row(l);
		if (!ln)
			return;
		tid_list(au->o, f, snap->n, tids, sizeof(tids));
		listing_set(l, ln, COL_PID, pid);
		listing_set(l, ln, COL_COMM, comm);
		listing_set(l, ln, COL_CHECK, f->kind);
		listing_set(l, ln, COL_FIELD, f->field);
		listing_set(l, ln, COL_TIDS, tids);
		listing_set(l, ln, COL_VALUE, f->value);
		listing_set(l, ln, COL_WANT, f->want);
	}
}

/* check's JSON object (allthreads(1), JSON OUTPUT) for one process. */
static void json_process(struct audit *au, const struct snapshot *snap,
			 const char *verdict, int code, char *const *reasons,
			 const char *const *differ, unsigned ndiffer,
			 const char *note)
{
	struct target tgt = { .pid = snap->pid };

	json_begin(au->o, "audit", &tgt, NULL, "check", false);
	printf(",\"steps\":[],\"verdict\":");
	json_str(verdict);
	printf(",\"exit\":%d,\"value\":null", code);
	json_threads(snap, reasons);
	if (note) {
		struct plan *p = calloc(1, sizeof(*p));

		if (p)
			plan_note(p, "%s", note);
		json_end(au->o, p, differ, ndiffer, snap);
		free(p);
	} else {
		json_end(au->o, NULL, differ, ndiffer, snap);
	}
	printf(",\"items\":null}\n");
}

/* --- one process --------------------------------------------------------- */

/* The fast path: does SNAP's process (R its reference thread) disagree or
 * fail an expectation anywhere?  Most processes do not. */
static bool process_suspect(struct audit *au, struct snapshot *snap,
			    const struct tstatus *r)
{
	bool bad = false;
	unsigned i, c, k;

	/* With an expectation on credentials, a ring's personalities must
	 * meet it too (one directory per process: only then). */
	for (k = 0; k < au->nex && !bad && !snap->nrings; k++)
		if (expect_credential(&au->ex[k]))
			bad = !proc_read_rings(snap->pid, snap) &&
			      snap->nrings > 0;
	for (i = 0; i < snap->n && !bad; i++) {
		if (is_zombie(&snap->t[i]))
			continue;
		for (c = 0; c < NR_COMPARED && !bad; c++)
			bad = field_differs(compared[c], &snap->t[i], r);
		for (k = 0; k < au->nex && !bad; k++)
			bad = !expect_holds(&au->ex[k], &snap->t[i]);
	}
	return bad;
}

/* A finding for each io_uring ring of SNAP whose personalities fail an
 * expectation (the first one each fails). */
static void ring_findings(struct audit *au, struct snapshot *snap,
			  struct findings *fs)
{
	char a[1024], why[4096];
	unsigned i, k;

	for (i = 0; i < snap->nrings; i++) {
		struct finding *f;

		for (k = 0; k < au->nex; k++) {
			if (!expect_ring_mismatch(&au->ex[k], &snap->rings[i],
						  why, sizeof(why)))
				continue;
			snprintf(a, sizeof(a), "io_uring fd %d",
				 snap->rings[i].fd);
			f = finding_for(fs, "expect", a, why, au->ex[k].text,
					snap->n);
			(void)f; /* no thread: TIDS stays empty */
			break;
		}
	}
}

/* Thread T against every expectation: a reason and a finding for each it
 * fails, counted in the tally.  Does T fail any? */
static bool thread_expect_findings(struct audit *au, struct snapshot *snap,
				   const struct tstatus *t, char **reasons,
				   struct findings *fs)
{
	char a[1024], b[1024], why[4096];
	bool fails = false;
	unsigned k;

	for (k = 0; k < au->nex; k++) {
		const struct expectation *e = &au->ex[k];
		const char *eq = strchr(e->text, '=');
		struct finding *f;

		if (!expect_mismatch(e, t, why, sizeof(why)))
			continue;
		add_reason(reasons, why);
		fails = true;
		au->tally.ex_failing[k]++;
		attr_format(e->attr, t, a, sizeof(a));
		if (e->sub >= 0)
			snprintf(a, sizeof(a), "%ld",
				 (e->attr == ATTR_UID ? t->uid :
							t->gid)[e->sub]);
		/* The key as written: Euid, not Uid. */
		snprintf(b, sizeof(b), "%.*s", (int)(eq - e->text), e->text);
		f = finding_for(fs, "expect", b, a, eq + 1, snap->n);
		if (f)
			f->tids[f->ntids++] = t->tid;
	}
	return fails;
}

/* Compare every thread of SNAP with the reference and with every
 * expectation; print what is wrong.  Returns 1 when something is, else 0. */
static int judge_process(struct audit *au, struct snapshot *snap)
{
	struct findings fs = { 0 };
	const char *differ[NR_COMPARED];
	char **reasons = NULL, a[1024], b[1024], why[4096];
	bool field_bad[NR_COMPARED] = { false };
	unsigned i, c, ndiffer = 0, tdiffer = 0, texpect = 0;
	bool differs = false;
	int ref = reference(snap);
	const struct tstatus *r;

	if (ref < 0)
		return 0; /* only zombies: nothing runs */
	r = &snap->t[ref];
	if (!process_suspect(au, snap, r))
		return 0;

	reasons = calloc(snap->n, sizeof(*reasons));
	if (!reasons)
		return 1;
	/* What the process keeps apart from its threads, for a process
	 * found at fault (rare): its kernel workers and rings. */
	if (!snap->nrings)
		proc_read_rings(snap->pid, snap);
	for (i = 0; i < snap->n; i++)
		snap->t[i].worker = proc_task_worker(snap->pid, snap->t[i].tid);
	ring_findings(au, snap, &fs);
	for (i = 0; i < snap->n; i++) {
		const struct tstatus *t = &snap->t[i];
		struct finding *f;
		bool at_fault = false, t_differs = false, t_fails = false;

		if (is_zombie(t))
			continue;
		for (c = 0; c < NR_COMPARED && (int)i != ref; c++) {
			enum attr at = compared[c];

			if (!field_differs(at, t, r))
				continue;
			attr_format(at, t, a, sizeof(a));
			attr_format(at, r, b, sizeof(b));
			snprintf(why, sizeof(why), "%s is %s, thread %d has %s",
				 at_attrs[at].key, a, r->tid, b);
			add_reason(&reasons[i], why);
			at_fault = t_differs = true;
			field_bad[c] = differs = true;
			snprintf(why, sizeof(why), "%s (tid %d)", b, r->tid);
			f = finding_for(&fs, "differ", at_attrs[at].key, a, why,
					snap->n);
			if (f)
				f->tids[f->ntids++] = t->tid;
		}
		t_fails = thread_expect_findings(au, snap, t, &reasons[i], &fs);
		at_fault |= t_fails;
		/* A kernel worker at fault: no change of the threads
		 * reaches it (allthreads(1), KERNEL WORKERS). */
		if (at_fault && t->worker) {
			worker_words(snap, t, a, sizeof(a));
			add_reason(&reasons[i], "a kernel worker: no change of "
						"the threads reaches it");
			f = finding_for(&fs, "kept", "worker", a, "-", snap->n);
			if (f)
				f->tids[f->ntids++] = t->tid;
		}
		tdiffer += t_differs;
		texpect += t_fails;
	}
	au->tally.threads_failing += texpect;
	if (!fs.n) {
		/* Only rings, whose personalities all meet the
		 * expectations. */
		free(reasons);
		return 0;
	}
	for (c = 0; c < NR_COMPARED; c++)
		if (field_bad[c])
			differ[ndiffer++] = at_attrs[compared[c]].key;
	if (differs)
		au->tally.differ++;
	for (i = 0; i < fs.n; i++)
		if (strcmp(fs.f[i].kind, "expect") == 0) {
			au->tally.failing++;
			break;
		}
	if (au->prom)
		audit_series_add(au, snap->pid, r->comm, tdiffer, texpect);
	else if (au->json)
		json_process(au, snap, "differ", EXIT_FAILED, reasons, differ,
			     ndiffer, NULL);
	else
		table_add(au, snap, r->comm, &fs);
	for (i = 0; i < snap->n; i++)
		free(reasons[i]);
	free(reasons);
	findings_free(&fs);
	return 1;
}

/* Is PID one the filters select?  Decided on its main thread. */
static bool selected(struct audit *au, const struct snapshot *snap)
{
	const struct tstatus *m = NULL;
	unsigned i;

	if (!au->by_user && !au->o->audit_comm)
		return true;
	for (i = 0; i < snap->n; i++)
		if (snap->t[i].tid == snap->pid)
			m = &snap->t[i];
	if (!m)
		m = &snap->t[0];
	if (au->by_user && m->uid[1] != au->uid)
		return false;
	if (au->o->audit_comm && strcmp(m->comm, au->o->audit_comm))
		return false;
	return true;
}

/* Audit PID.  EXPLICIT: named with -p (then a process that cannot be
 * read is exit 3; host-wide, it is only named). */
static void audit_one(struct audit *au, pid_t pid, bool explicit)
{
	struct snapshot snap;
	int err, code;

	err = audit_read_process(au, pid, &snap);
	if (err == -ESRCH && !explicit) {
		au->tally.vanished++;
		return;
	}
	if (err) {
		struct snapshot empty = { .pid = pid };

		au->tally.unreadable++;
		if (explicit && au->tally.code < EXIT_UNREACHABLE)
			au->tally.code = EXIT_UNREACHABLE;
		if (!au->o->quiet || explicit)
			fprintf(stderr, "allthreads: audit: pid %d: %s\n", pid,
				err == -ESRCH ? "no such process" :
						strerror(-err));
		if (au->json)
			json_process(au, &empty, NULL, EXIT_UNREACHABLE, NULL,
				     NULL, 0,
				     err == -ESRCH ? "no such process" :
						     strerror(-err));
		return;
	}
	if (selected(au, &snap)) {
		au->tally.procs++;
		au->tally.threads += snap.n;
		au->tally.vanished += snap.vanished;
		code = judge_process(au, &snap);
		if (au->prom) {
			err = audit_uring_kept(au, &snap);
			au->tally.uring += err == 1;
			au->tally.uring_unknown += err < 0 && err != -ESRCH;
		}
		if (code && au->tally.code < EXIT_FAILED)
			au->tally.code = EXIT_FAILED;
	}
	snapshot_free(&snap);
}

/* Every process /proc lists now. */
static void audit_host(struct audit *au)
{
	int dfd = dup(au->procfd);
	long nread, off;

	if (dfd < 0)
		return;
	/* Bounded: /proc lists each process once per pass. */
	for (unsigned pass = 0; pass < 1000000; pass++) {
		/* The listing shares au->dents with audit_read_process(): copy
		 * the pids of this batch out first. */
		static const size_t max = sizeof(au->dents) / 24 + 1;
		pid_t pids[sizeof(au->dents) / 24 + 1];
		unsigned n = 0, i;

		nread = syscall(SYS_getdents64, dfd, au->dents,
				sizeof(au->dents));
		if (nread <= 0)
			break;
		for (off = 0; off < nread && n < max;) {
			struct dirent64 *de = (void *)(au->dents + off);

			off += de->d_reclen;
			if (isdigit((unsigned char)de->d_name[0]))
				pids[n++] = atoi(de->d_name);
		}
		for (i = 0; i < n; i++)
			audit_one(au, pids[i], false);
	}
	close(dfd);
}

/* The output --format, --textfile and --per-process ask for, into AU
 * (json or prom, else the table); EXIT_USAGE when they contradict each
 * other or the table options, else 0. */
static int choose_format(struct audit *au, const struct opts *o)
{
	const char *f = o->audit_format;

	if (f && strcmp(f, "table") == 0 && o->json)
		return usage_error("audit: --format=table and --json: "
				   "contradictory (choose one)");
	au->json = o->json;
	au->prom = (f && strcmp(f, "prometheus") == 0) || o->audit_textfile;
	if (au->prom && f && strcmp(f, "prometheus"))
		return usage_error("audit: --textfile and --format=%s: "
				   "contradictory (--textfile writes "
				   "prometheus)",
				   f);
	if (au->prom && o->json)
		return usage_error("audit: --format=prometheus and --json: "
				   "contradictory (choose one)");
	if (au->prom && (o->columns || o->output_all || o->raw || o->pairs ||
			 o->no_headings))
		return usage_error("audit: --format=prometheus: the table "
				   "options (-o, --output-all, -r, -P, -n) do "
				   "not apply");
	if (o->audit_per_process && !au->prom)
		return usage_error("audit: --per-process: only with "
				   "--format=prometheus or --textfile");
	return 0;
}

/* The run's settings from O: output format, --per-process room, columns,
 * expectations, --user; 0 or an exit code. */
static int audit_prepare(struct audit *au, const struct opts *o)
{
	struct idview view;
	unsigned i;
	int code;

	code = choose_format(au, o);
	if (code)
		return code;
	if (o->audit_per_process) {
		au->series = calloc(o->audit_per_process, sizeof(*au->series));
		if (!au->series)
			return EXIT_FAILED;
	}
	code = listing_select(&au->ls, o, audit_cols, NR_COLS, audit_default,
			      NR_DEFAULT);
	if (code)
		return code;
	/* Names as this host's /etc has them: the audit spans processes
	 * that each may have their own root. */
	idview_init(&view, 0);
	for (i = 0; i < o->nexpect; i++) {
		code = expect_parse(&view, o->expect[i], &au->ex[i]);
		if (code)
			return code;
		au->nex++;
	}
	if (o->audit_user && resolve_uid(&view, o->audit_user, false, &au->uid))
		return usage_error("audit: --user: %s: no such user",
				   o->audit_user);
	return 0;
}

int cmd_audit(const struct opts *o)
{
	struct timespec start;
	struct audit *au;
	unsigned i;
	int err, code;

	if (o->nargs)
		return usage_error("audit: %s: unexpected argument (select "
				   "with -p PID, --user, --comm)",
				   o->args[0]);
	if (o->tid)
		return usage_error("audit: -t: audit reads whole processes "
				   "(use -p)");
	au = calloc(1, sizeof(*au));
	if (!au)
		return EXIT_FAILED;
	au->o = o;
	au->procfd = -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	code = audit_prepare(au, o);
	if (code)
		goto out;
	au->by_user = o->audit_user != NULL;
	if (o->dry_run) {
		if (!au->json)
			printf("dry run: audit reads /proc/PID/task/*/status%s "
			       "and changes nothing%s%s%s\n",
			       au->prom ? " and /proc/PID/fd" : "",
			       o->audit_textfile ? " (it would replace " : "",
			       o->audit_textfile ? o->audit_textfile : "",
			       o->audit_textfile ? ")" : "");
		code = EXIT_OK;
		goto out;
	}
	code = EXIT_FAILED;
	au->textsize = 16384;
	au->text = malloc(au->textsize);
	au->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!au->text || au->procfd < 0) {
		fprintf(stderr, "allthreads: audit: /proc: %s\n",
			au->text ? strerror(errno) : strerror(ENOMEM));
		goto out;
	}
	if (!au->json && !au->prom && (err = listing_start(&au->ls, o))) {
		fprintf(stderr, "allthreads: audit: %s\n", strerror(-err));
		goto out;
	}
	if (o->npids)
		for (i = 0; i < o->npids; i++)
			audit_one(au, o->pids[i], true);
	else
		audit_host(au);
	if (!au->json) {
		if (!au->prom)
			listing_print(&au->ls);
		fflush(stdout);
		if (!o->quiet)
			fprintf(stderr,
				"allthreads: audit: %u process(es), %u "
				"thread(s): %u with threads that disagree, "
				"%u failing an expectation, %u unreadable\n",
				au->tally.procs, au->tally.threads,
				au->tally.differ, au->tally.failing,
				au->tally.unreadable);
	}
	code = au->tally.code;
	/* With --textfile the file is the report: written, the run
	 * succeeded, whatever it says. */
	if (au->prom && (err = audit_prom_output(au, &start)))
		code = err;
	else if (o->audit_textfile)
		code = EXIT_OK;
out:
	listing_free(&au->ls);
	if (au->procfd >= 0)
		close(au->procfd);
	free(au->text);
	free(au->series);
	for (i = 0; i < au->nex; i++)
		free(au->ex[i].groups);
	free(au);
	return code;
}
