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
#include <unistd.h>

#include "attrs.h"
#include "cli.h"
#include "names.h"

enum {
	OPT_OUTPUT = 'o',
	OPT_RAW = 0x500,
	OPT_NOHEADINGS,
	OPT_OUTPUT_ALL,
};

static const struct argp_option show_options[] = {
	{ "output", OPT_OUTPUT, "COLUMNS", 0,
	  "the columns to print, comma-separated (+COL,... adds to the "
	  "default); see allthreads list columns",
	  0 },
	{ "output-all", OPT_OUTPUT_ALL, NULL, 0, "every column", 0 },
	{ "raw", OPT_RAW, NULL, 0,
	  "no alignment, no marks: one space between columns", 0 },
	{ "noheadings", OPT_NOHEADINGS, NULL, 0, "no header line", 0 },
	{ NULL },
};

static int parse_show_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_OUTPUT:
		o->columns = arg;
		break;
	case OPT_OUTPUT_ALL:
		o->columns = "all";
		break;
	case OPT_RAW:
		o->raw = true;
		break;
	case OPT_NOHEADINGS:
		o->no_headings = true;
		break;
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
}

const struct argp show_argp = {
	.options = show_options,
	.parser = parse_show_opt,
	.args_doc = "",
	.doc = "Print every thread's Uid, Gid, Groups, capability sets, "
	       "NoNewPrivs and Seccomp, from /proc (any process; no helper "
	       "needed).  Threads that agree share one row (THREADS counts "
	       "them; -v prints one row per thread); a column whose rows "
	       "differ is marked with * in the header (and bold on a "
	       "terminal).\v"
	       "Examples:\n"
	       "  allthreads show -p \"$(pidof nginx)\"\n"
	       "  allthreads show -p 1234 -o tid,comm,capeff,nnp\n"
	       "  allthreads show -p 1234 -J | jq '.threads[].attrs.CapEff'",
	.children = at_global_children,
};

/* Every column, in order ("-o all"). */
static const enum attr all_cols[] = {
	ATTR_TID,    ATTR_THREADS, ATTR_COMM,	 ATTR_UID,     ATTR_GID,
	ATTR_GROUPS, ATTR_CAPEFF,  ATTR_CAPPRM,	 ATTR_CAPINH,  ATTR_CAPBND,
	ATTR_CAPAMB, ATTR_NNP,	   ATTR_SECCOMP, ATTR_FILTERS,
};

/* The default: every credential, not the thread's name, which differs
 * from thread to thread and would keep agreeing threads from folding. */
static const enum attr default_cols[] = {
	ATTR_TID,    ATTR_THREADS, ATTR_UID,	 ATTR_GID,    ATTR_GROUPS,
	ATTR_CAPEFF, ATTR_CAPPRM,  ATTR_CAPINH,	 ATTR_CAPBND, ATTR_CAPAMB,
	ATTR_NNP,    ATTR_SECCOMP, ATTR_FILTERS,
};

#define NR_ALL (sizeof(all_cols) / sizeof(all_cols[0]))
#define NR_DEFAULT (sizeof(default_cols) / sizeof(default_cols[0]))

/* A group of threads that agree on every shown column. */
struct group {
	unsigned first; /* index into the snapshot */
	unsigned count;
	char *cell[NR_ATTRS];
};

struct table {
	enum attr cols[NR_ATTRS];
	unsigned ncols;
	struct group *groups;
	unsigned ngroups;
	bool differ[NR_ATTRS];
};

static int parse_columns(const char *spec, struct table *tb)
{
	char word[64];
	const char *p = spec;
	unsigned i;
	int a;

	tb->ncols = 0;
	if (strcmp(spec, "all") == 0) {
		for (i = 0; i < NR_ALL; i++)
			tb->cols[tb->ncols++] = all_cols[i];
		return 0;
	}
	if (*spec == '+') {
		for (i = 0; i < NR_DEFAULT; i++)
			tb->cols[tb->ncols++] = default_cols[i];
		p++;
	}
	while (*p) {
		size_t len = strcspn(p, ",");

		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if (!len)
			continue;
		a = attr_find(word);
		if (a < 0) {
			char near[256];

			attr_suggest(word, 0, false, 0, near, sizeof(near));
			return usage_error("-o: %s: unknown column (nearest: "
					   "%s; all: allthreads list "
					   "columns)",
					   word, near);
		}
		for (i = 0; i < tb->ncols; i++)
			if (tb->cols[i] == (enum attr)a)
				break;
		if (i == tb->ncols && tb->ncols < NR_ATTRS)
			tb->cols[tb->ncols++] = a;
	}
	if (!tb->ncols)
		return usage_error("-o: no columns");
	return 0;
}

static bool same_row(const struct table *tb, const struct group *g,
		     char *const *cells)
{
	unsigned c;

	for (c = 0; c < tb->ncols; c++) {
		enum attr a = tb->cols[c];

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
			if (same_row(tb, &tb->groups[g], cells))
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
	for (c = 0; c < NR_ATTRS; c++) {
		if (c == ATTR_TID || c == ATTR_THREADS)
			continue;
		for (i = 1; i < snap->n; i++) {
			char a[2048];

			attr_format(c, &snap->t[0], buf, sizeof(buf));
			attr_format(c, &snap->t[i], a, sizeof(a));
			if (strcmp(a, buf)) {
				tb->differ[c] = true;
				break;
			}
		}
	}
	return 0;
}

/* --raw: a cell with spaces or odd bytes written as \xHH. */
static void print_raw_cell(const char *s)
{
	if (!*s) {
		fputs("\\x00", stdout);
		return;
	}
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch <= ' ' || ch == '\\' || ch >= 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
}

/* Bold marks the cells that differ, only on a terminal that wants it:
 * not with NO_COLOR set (https://no-color.org), TERM=dumb or unset, or
 * --raw. */
static bool use_bold(const struct opts *o)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (o->raw || !isatty(STDOUT_FILENO))
		return false;
	if (nc && *nc)
		return false;
	return term && *term && strcmp(term, "dumb") != 0;
}

static void print_table(const struct opts *o, const struct table *tb)
{
	bool tty = use_bold(o);
	unsigned width[NR_ATTRS] = { 0 };
	unsigned c, g;
	char head[32];

	for (c = 0; c < tb->ncols; c++) {
		enum attr a = tb->cols[c];

		width[c] = strlen(at_attrs[a].column) + tb->differ[a];
		for (g = 0; g < tb->ngroups; g++)
			if (strlen(tb->groups[g].cell[a]) > width[c])
				width[c] = strlen(tb->groups[g].cell[a]);
	}
	if (!o->no_headings) {
		for (c = 0; c < tb->ncols; c++) {
			enum attr a = tb->cols[c];

			snprintf(head, sizeof(head), "%s%s", at_attrs[a].column,
				 tb->differ[a] && !o->raw ? "*" : "");
			if (o->raw)
				printf("%s%s", c ? " " : "", head);
			else if (c + 1 == tb->ncols)
				printf("%s", head);
			else
				printf("%-*s ", (int)width[c], head);
		}
		putchar('\n');
	}
	for (g = 0; g < tb->ngroups; g++) {
		for (c = 0; c < tb->ncols; c++) {
			enum attr a = tb->cols[c];
			const char *cell = tb->groups[g].cell[a];
			bool mark = tty && tb->differ[a];

			if (o->raw) {
				if (c)
					putchar(' ');
				print_raw_cell(cell);
				continue;
			}
			printf("%s%s%s", mark ? "\033[1m" : "", cell,
			       mark ? "\033[0m" : "");
			if (c + 1 < tb->ncols)
				printf("%*s",
				       (int)(width[c] - strlen(cell) + 1), "");
		}
		putchar('\n');
	}
}

static void print_show_json(const struct opts *o, const struct target *tgt,
			    const struct snapshot *snap, const struct table *tb,
			    const char *command, const char *verdict, int code,
			    char *const *errors)
{
	const char *differ[NR_ATTRS];
	unsigned i, n = 0;

	json_begin(o, command, tgt, NULL, command, false);
	printf(",\"steps\":[],\"verdict\":\"%s\",\"exit\":%d,\"value\":null",
	       verdict, code);
	printf(",\"threads\":[");
	for (i = 0; i < snap->n; i++) {
		printf("%s{\"tid\":%d,\"state\":\"ok\",\"results\":[],"
		       "\"value\":null,\"old\":null,\"error\":",
		       i ? "," : "", snap->t[i].tid);
		json_str(errors ? errors[i] : NULL);
		printf(",\"attrs\":");
		json_attrs(&snap->t[i]);
		putchar('}');
	}
	putchar(']');
	for (i = 0; i < NR_ATTRS; i++)
		if (tb->differ[i])
			differ[n++] = at_attrs[i].key;
	json_end(o, NULL, differ, n);
	printf(",\"items\":null}\n");
}

/* The snapshot a read command works on; an exit code on failure. */
int read_target(const struct opts *o, const struct target *tgt,
		struct snapshot *snap)
{
	int err, code = check_reachable(tgt);

	if (code)
		return code;
	err = proc_snapshot(tgt->self ? 0 : tgt->pid, tgt->tid, snap);
	if (err)
		return remote_unreachable(tgt, err);
	if (snap->vanished && !o->quiet)
		fprintf(stderr,
			"allthreads: note: pid %d: %u thread(s) exited while "
			"being read (skipped)\n",
			tgt->pid, snap->vanished);
	return 0;
}

int cmd_show(const struct opts *o, struct plan *plan, const struct target *tgt)
{
	struct table tb = { .ncols = 0 };
	struct snapshot snap;
	unsigned i;
	int code;

	if (o->nargs)
		return usage_error("show: %s: unexpected argument (the target "
				   "is -p PID)",
				   o->args[0]);
	if (o->columns) {
		code = parse_columns(o->columns, &tb);
		if (code)
			return code;
	} else {
		for (i = 0; i < NR_DEFAULT; i++)
			tb.cols[tb.ncols++] = default_cols[i];
	}
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
		print_show_json(o, tgt, &snap, &tb, "show",
				any ? "differ" : "agree", EXIT_OK, NULL);
	} else {
		if (o->npids > 1 && !o->no_headings)
			printf("pid %d:\n", tgt->pid);
		print_table(o, &tb);
	}
	free_table(&tb);
	snapshot_free(&snap);
	(void)plan;
	return EXIT_OK;
}

/* For check: the same JSON, with its verdict and reasons. */
void show_json_for_check(const struct opts *o, const struct target *tgt,
			 const struct snapshot *snap, bool differ, int code,
			 char *const *errors)
{
	struct table tb = { .ncols = 0 };

	if (fill_table(snap, &tb, true) == 0)
		print_show_json(o, tgt, snap, &tb, "check",
				differ ? "differ" : "agree", code, errors);
	free_table(&tb);
}
