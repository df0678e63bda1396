// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-check.c - `allthreads check [--expect KEY=VALUE]...`: a gate for
 * scripts and CI.  Exit 0 only when every thread agrees on its credentials
 * and matches every expectation; otherwise exit 1 with one line per
 * failing thread.  Read from /proc: any process, no helper.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attrs.h"
#include "cli.h"
#include "commands.h"
#include "expect.h"
#include "ids.h"
#include "json.h"
#include "listing.h"
#include "names.h"
#include "render.h"
#include "target.h"
#include "usage.h"

static const struct argp_option check_options[] = {
	{ "expect", 'e', "KEY=VALUE", 0,
	  "every thread must show this (repeatable): Uid, Gid (or Ruid, "
	  "Euid, Suid, Fsuid...), Groups, CapEff, CapPrm, CapInh, CapBnd, "
	  "CapAmb, NoNewPrivs, Seccomp, Seccomp_filters, Name",
	  0 },
	{ NULL },
};

static int parse_check_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	if (key != 'e')
		return at_parse_root(key, arg, state);
	if (o->nexpect >= MAX_EXPECT)
		argp_error(state, "--expect: more than %d", MAX_EXPECT);
	o->expect[o->nexpect++] = arg;
	return 0;
}

/* The table of failing threads: a row per reason. */
enum { COL_TID, COL_FIELD, COL_REASON, NR_COLS };

static const struct listing_col check_cols[NR_COLS] = {
	[COL_TID] = { "TID", NULL, 0, SCOLS_FL_RIGHT, "the failing thread" },
	[COL_FIELD] = { "FIELD", NULL, 0, 0,
			"the /proc status field, or the --expect key" },
	[COL_REASON] = { "REASON", NULL, 0, SCOLS_FL_WRAP,
			 "what it shows, against the main thread or the "
			 "--expect" },
};
static const unsigned check_default[] = { COL_TID, COL_FIELD, COL_REASON };

static char *check_help(int key, const char *text, void *input)
{
	(void)input; /* argp's help filter: no input of ours */
	return listing_help(key, text, check_cols, NR_COLS, check_default,
			    NR_COLS);
}

const struct argp check_argp = {
	.options = check_options,
	.parser = parse_check_opt,
	.args_doc = "[KEY=VALUE...]",
	.doc = "Exit 0 when every thread agrees on Uid, Gid, Groups, the "
	       "capability sets, NoNewPrivs and Seccomp, and shows every "
	       "--expect; exit 1 with a table of the failing threads "
	       "otherwise (a row per reason).  "
	       "Values are written as show prints them or as you would give "
	       "them: user and group names (looked up in the target's "
	       "/etc), capability lists (\"none\", \"all\", "
	       "\"cap_net_bind_service\", \"all,-cap_sys_admin\").\v"
	       "Examples:\n"
	       "  allthreads check -p \"$(pidof app)\" --expect NoNewPrivs=1 \\\n"
	       "      --expect CapEff=none\n"
	       "  allthreads check -p 1234 -e Uid=www-data -e Seccomp=2\n"
	       "  allthreads check -p 1234 -o tid -n | sort -u",
	.children = at_listing_children,
	.help_filter = check_help,
};

static void add_row(struct listing *l, const char *tid, const char *field,
		    int fieldlen, const char *why)
{
	struct libscols_line *row;
	char buf[64];

	if (l->tb && (row = listing_row(l))) {
		listing_set(l, row, COL_TID, tid);
		snprintf(buf, sizeof(buf), "%.*s", fieldlen, field);
		listing_set(l, row, COL_FIELD, buf);
		listing_set(l, row, COL_REASON, why);
	}
}

static void add_reason(char **reason, struct listing *l, pid_t tid,
		       const char *field, int fieldlen, const char *why)
{
	struct libscols_line *row;
	char buf[64], *n;

	if (l->tb && (row = listing_row(l))) {
		snprintf(buf, sizeof(buf), "%d", tid);
		listing_set(l, row, COL_TID, buf);
		snprintf(buf, sizeof(buf), "%.*s", fieldlen, field);
		listing_set(l, row, COL_FIELD, buf);
		listing_set(l, row, COL_REASON, why);
	}
	if (asprintf(&n, "%s%s%s", *reason ? *reason : "", *reason ? "; " : "",
		     why) < 0)
		return;
	free(*reason);
	*reason = n;
}

/* The personalities of SNAP's rings against the expectations EX: a row
 * (TID "-", FIELD "io_uring fd N") for each ring that fails or cannot be
 * shown.  How many rings fail. */
static unsigned check_rings(const struct snapshot *snap,
			    const struct expectation *ex, unsigned n,
			    struct listing *l)
{
	char field[32], why[2200];
	unsigned i, k, failing = 0;

	for (i = 0; i < snap->nrings; i++) {
		snprintf(field, sizeof(field), "io_uring fd %d",
			 snap->rings[i].fd);
		for (k = 0; k < n; k++) {
			if (!expect_ring_mismatch(&ex[k], &snap->rings[i], why,
						  sizeof(why)))
				continue;
			add_row(l, "-", field, strlen(field), why);
			failing++;
			break;
		}
	}
	return failing;
}

/* The thread the others are compared with: the main thread, or the
 * first. */
static unsigned reference(const struct snapshot *snap, pid_t pid)
{
	unsigned i;

	for (i = 0; i < snap->n; i++)
		if (snap->t[i].tid == pid)
			return i;
	return 0;
}

/* Thread I of SNAP against thread REF and the N expectations EX: its
 * reasons to fail, into *REASONS and LS.  Does it differ from REF? */
static bool check_thread(const struct snapshot *snap, unsigned i, unsigned ref,
			 const struct expectation *ex, unsigned n,
			 struct listing *ls, char **reasons)
{
	const struct tstatus *t = &snap->t[i];
	char a[2048], b[2048], why[4200];
	bool differ = false;
	unsigned k;
	int c;

	for (c = 0; c < NR_ATTRS && i != ref; c++) {
		if (!at_attrs[c].credential)
			continue;
		attr_format(c, t, a, sizeof(a));
		attr_format(c, &snap->t[ref], b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		differ = true;
		snprintf(why, sizeof(why), "%s is %s, thread %d has %s",
			 at_attrs[c].key, a, snap->t[ref].tid, b);
		add_reason(reasons, ls, t->tid, at_attrs[c].key,
			   strlen(at_attrs[c].key), why);
	}
	for (k = 0; k < n; k++) {
		if (!expect_mismatch(&ex[k], t, a, sizeof(a)))
			continue;
		add_reason(reasons, ls, t->tid, ex[k].text,
			   strchr(ex[k].text, '=') - ex[k].text, a);
	}
	/* A kernel worker keeps the credentials it was made with: say what
	 * it is, since no change of the threads reaches it. */
	if (*reasons && t->worker) {
		worker_words(snap, t, a, sizeof(a));
		snprintf(why, sizeof(why),
			 "kernel worker (%s): never in user space, no change "
			 "of the threads reaches it",
			 a);
		add_reason(reasons, ls, t->tid, "worker", 6, why);
	}
	return differ;
}

int cmd_check(const struct opts *o, const struct target *tgt)
{
	struct expectation ex[MAX_EXPECT * 2];
	const char *texts[MAX_EXPECT * 2];
	struct snapshot snap;
	struct idview view;
	struct listing ls;
	char **reasons = NULL;
	unsigned i, n = 0, failing = 0, ref, rings;
	bool differ = false;
	int code, c;

	code = listing_select(&ls, o, check_cols, NR_COLS, check_default,
			      NR_COLS);
	if (code)
		return code;
	for (i = 0; i < o->nexpect; i++)
		texts[n++] = o->expect[i];
	for (c = 0; c < o->nargs && n < MAX_EXPECT * 2; c++)
		texts[n++] = o->args[c];
	idview_init(&view, tgt->self ? 0 : tgt->pid);
	for (i = 0; i < n; i++) {
		code = expect_parse(&view, texts[i], &ex[i]);
		if (code) {
			while (i--)
				free(ex[i].groups);
			return code;
		}
	}
	if (view.used_foreign && !o->quiet)
		fprintf(stderr,
			"allthreads: note: names resolved in pid %d's own /etc "
			"(its root is not ours)\n",
			tgt->pid);
	code = read_target(o, tgt, &snap);
	if (code)
		goto out_ex;
	reasons = calloc(snap.n ? snap.n : 1, sizeof(*reasons));
	if (!reasons || (!o->json && listing_start(&ls, o))) {
		code = EXIT_FAILED;
		goto out_snap;
	}
	ref = reference(&snap, tgt->pid);
	for (i = 0; i < snap.n; i++) {
		differ |= check_thread(&snap, i, ref, ex, n, &ls, &reasons[i]);
		if (reasons[i])
			failing++;
	}
	rings = check_rings(&snap, ex, n, &ls);
	code = failing || rings ? EXIT_FAILED : EXIT_OK;
	if (o->json) {
		bool dif[NR_ATTRS];

		expect_differ(&snap, dif);
		json_snapshot(o, tgt, &snap, "check",
			      differ || failing || rings ? "differ" : "agree",
			      code, reasons, dif);
	} else {
		listing_print(&ls);
		fflush(stdout);
		if (rings && !o->quiet)
			fprintf(stderr,
				"allthreads: check: pid %d: %u io_uring "
				"ring(s) may keep other credentials\n",
				tgt->pid, rings);
		if (failing && !o->quiet)
			fprintf(stderr,
				"allthreads: check: pid %d: %u of %u "
				"thread(s) fail\n",
				tgt->pid, failing, snap.n);
		else if (o->verbose && !rings)
			printf("pid %d: %u thread(s) agree%s\n", tgt->pid,
			       snap.n, n ? " and match every expectation" : "");
		if ((failing || rings || o->verbose) && !o->quiet)
			render_kept(stderr, &snap);
	}
	for (i = 0; i < snap.n; i++)
		free(reasons[i]);
	free(reasons);
out_snap:
	listing_free(&ls);
	snapshot_free(&snap);
out_ex:
	for (i = 0; i < n; i++)
		free(ex[i].groups);
	return code;
}
