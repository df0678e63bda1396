// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-show.c - `allthreads show`: every thread's credentials side by side,
 * straight from /proc/PID/task/TID/status (any process, no helper).
 * Threads that agree fold into one row with a count; columns in which
 * rows differ are marked.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "cli.h"
#include "commands.h"
#include "expect.h"
#include "json.h"
#include "listing.h"
#include "names.h"
#include "render.h"
#include "target.h"
#include "usage.h"

/* The default: every credential, not the thread's name, which differs
 * from thread to thread and would keep agreeing threads from folding. */
static const unsigned default_cols[] = {
	ATTR_TID,    ATTR_THREADS, ATTR_UID,	 ATTR_GID,    ATTR_GROUPS,
	ATTR_CAPEFF, ATTR_CAPPRM,  ATTR_CAPINH,	 ATTR_CAPBND, ATTR_CAPAMB,
	ATTR_NNP,    ATTR_SECCOMP, ATTR_FILTERS,
};
#define NR_DEFAULT (sizeof(default_cols) / sizeof(default_cols[0]))

/* How each attribute's column behaves on a narrow terminal. */
static const int col_flags[NR_ATTRS] = {
	[ATTR_TID] = SCOLS_FL_RIGHT,   [ATTR_THREADS] = SCOLS_FL_RIGHT,
	[ATTR_COMM] = SCOLS_FL_TRUNC,  [ATTR_GROUPS] = SCOLS_FL_WRAP,
	[ATTR_CAPEFF] = SCOLS_FL_WRAP, [ATTR_CAPPRM] = SCOLS_FL_WRAP,
	[ATTR_CAPINH] = SCOLS_FL_WRAP, [ATTR_CAPBND] = SCOLS_FL_WRAP,
	[ATTR_CAPAMB] = SCOLS_FL_WRAP,
};

/* show's columns are the attributes (attrs.h), by the same ids; -o also
 * takes their /proc keys (CapEff, NoNewPrivs). */
static const struct listing_col *show_cols(void)
{
	static struct listing_col cols[NR_ATTRS];
	unsigned i;

	for (i = 0; i < NR_ATTRS && !cols[i].name; i++)
		cols[i] = (struct listing_col){
			.name = at_attrs[i].column,
			.alias = at_attrs[i].key,
			.flags = col_flags[i],
			.help = at_attrs[i].help,
		};
	return cols;
}

static char *show_help(int key, const char *text, void *input)
{
	(void)input; /* argp's help filter: no input of ours */
	return listing_help(key, text, show_cols(), NR_ATTRS, default_cols,
			    NR_DEFAULT);
}

const struct argp show_argp = {
	.parser = at_parse_root,
	.args_doc = "",
	.doc = "Print every thread's Uid, Gid, Groups, capability sets, "
	       "NoNewPrivs and Seccomp, from /proc (any process; no helper "
	       "needed).  Threads that agree share one row (THREADS counts "
	       "them; -v prints one row per thread); a column whose rows "
	       "differ is marked with * in the header (and bold on a "
	       "terminal).  A kernel worker of the process (io_uring, "
	       "vhost) is a row of its own, and what the process keeps "
	       "apart from its threads (those workers, its io_uring rings "
	       "and their personalities) is listed below the table.  -J "
	       "prints every thread and every attribute, whatever -o "
	       "says.\v"
	       "Examples:\n"
	       "  allthreads show -p \"$(pidof nginx)\"\n"
	       "  allthreads show -p 1234 -o tid,comm,capeff,nnp\n"
	       "  allthreads show -p 1234 -o +comm -r -n\n"
	       "  allthreads show -p 1234 -J | jq '.threads[].attrs.CapEff'",
	.children = at_listing_children,
	.help_filter = show_help,
};

/* A group of threads that agree on every shown column. */
struct group {
	unsigned first; /* index into the snapshot */
	unsigned count;
	char *cell[NR_ATTRS];
};

struct table {
	struct listing ls; /* the columns shown */
	struct group *groups;
	unsigned ngroups;
	bool differ[NR_ATTRS];
};

static bool same_row(const struct table *tb, const struct snapshot *snap,
		     const struct group *g, const struct tstatus *t,
		     char *const *cells)
{
	unsigned c;

	/* A kernel worker is a row of its own: it keeps what it keeps. */
	if (snap->t[g->first].worker != t->worker)
		return false;
	for (c = 0; c < tb->ls.n; c++) {
		enum attr a = tb->ls.ids[c];

		if (a == ATTR_TID || a == ATTR_THREADS)
			continue;
		if (strcmp(g->cell[a], cells[a]))
			return false;
	}
	return true;
}

static void free_table(struct table *tb)
{
	unsigned g, a;

	for (g = 0; g < tb->ngroups; g++)
		for (a = 0; a < NR_ATTRS; a++)
			free(tb->groups[g].cell[a]);
	free(tb->groups);
}

/* Fold the threads of SNAP into groups (one per thread when FOLD is
 * false) and find the columns in which groups differ. */
static int fill_table(const struct snapshot *snap, struct table *tb, bool fold)
{
	char buf[2048], *cells[NR_ATTRS];
	unsigned i, g, c;

	tb->groups = calloc(snap->n ? snap->n : 1, sizeof(*tb->groups));
	if (!tb->groups)
		return -ENOMEM;
	for (i = 0; i < snap->n; i++) {
		for (c = 0; c < NR_ATTRS; c++) {
			attr_format(c, &snap->t[i], buf, sizeof(buf));
			cells[c] = strdup(buf);
		}
		for (g = 0; fold && g < tb->ngroups; g++)
			if (same_row(tb, snap, &tb->groups[g], &snap->t[i],
				     cells))
				break;
		if (fold && g < tb->ngroups) {
			tb->groups[g].count++;
			for (c = 0; c < NR_ATTRS; c++)
				free(cells[c]);
			continue;
		}
		g = tb->ngroups++;
		tb->groups[g].first = i;
		tb->groups[g].count = 1;
		memcpy(tb->groups[g].cell, cells, sizeof(cells));
	}
	for (g = 0; g < tb->ngroups; g++) {
		snprintf(buf, sizeof(buf), "%u", tb->groups[g].count);
		free(tb->groups[g].cell[ATTR_THREADS]);
		tb->groups[g].cell[ATTR_THREADS] = strdup(buf);
	}
	/* Differences are between threads, whatever the folding. */
	expect_differ(snap, tb->differ);
	return 0;
}

static int print_table(const struct opts *o, struct table *tb)
{
	struct libscols_line *row;
	unsigned c, g;
	int err;

	for (c = 0; c < NR_ATTRS; c++)
		tb->ls.marked[c] = tb->differ[c];
	err = listing_start(&tb->ls, o);
	for (g = 0; g < tb->ngroups && !err; g++) {
		row = listing_row(&tb->ls);
		if (!row)
			err = -ENOMEM;
		for (c = 0; c < NR_ATTRS && !err; c++)
			err = listing_set(&tb->ls, row, c,
					  tb->groups[g].cell[c]);
	}
	if (!err)
		err = listing_print(&tb->ls);
	listing_free(&tb->ls);
	if (err == -ENOMEM)
		fprintf(stderr, "allthreads: show: %s\n", strerror(-err));
	return err ? EXIT_FAILED : EXIT_OK;
}

int cmd_show(const struct opts *o, const struct target *tgt)
{
	struct table tb = { .ngroups = 0 };
	struct snapshot snap;
	unsigned i;
	int code;

	if (o->nargs)
		return usage_error("show: %s: unexpected argument (the target "
				   "is -p PID)",
				   o->args[0]);
	code = listing_select(&tb.ls, o, show_cols(), NR_ATTRS, default_cols,
			      NR_DEFAULT);
	if (code)
		return code;
	if (o->dry_run && !o->json)
		printf("dry run: show reads /proc/%s/task/*/status and "
		       "changes nothing\n",
		       tgt->self ? "self" : "PID");
	code = read_target(o, tgt, &snap);
	if (code)
		return code;
	if (fill_table(&snap, &tb, !o->verbose)) {
		snapshot_free(&snap);
		return EXIT_FAILED;
	}
	if (o->json) {
		bool any = false;

		for (i = 0; i < NR_ATTRS; i++)
			any |= tb.differ[i] && at_attrs[i].credential;
		json_snapshot(o, tgt, &snap, "show", any ? "differ" : "agree",
			      EXIT_OK, NULL, tb.differ);
	} else {
		/* --pairs: one row a line, nothing else. */
		if (o->npids > 1 && !o->no_headings && !o->pairs)
			printf("pid %d:\n", tgt->pid);
		code = print_table(o, &tb);
		fflush(stdout);
		if (!o->pairs)
			render_kept(stdout, &snap);
	}
	free_table(&tb);
	snapshot_free(&snap);
	return code;
}
