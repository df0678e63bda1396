// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * listing.c - the tables of show, check, audit and list, through
 * libsmartcols: which columns the command line asks for, the options
 * that shape the table, and the printing.
 */
#include <argp.h>
#include <errno.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "listing.h"
#include "names.h"
#include "usage.h"

enum {
	OPT_OUTPUT = 'o',
	OPT_RAW = 'r',
	OPT_PAIRS = 'P',
	OPT_NOHEADINGS = 'n',
	OPT_OUTPUT_ALL = 0x700,
};

static const struct argp_option listing_options[] = {
	{ NULL, 0, NULL, 0, "Table:", 4 },
	{ "output", OPT_OUTPUT, "COLUMNS", 0,
	  "the columns to print, comma-separated, any case (the list below); "
	  "+COLUMNS adds to the default",
	  4 },
	{ "output-all", OPT_OUTPUT_ALL, NULL, 0, "every column", 4 },
	{ "raw", OPT_RAW, NULL, 0,
	  "no alignment: one space between columns; blanks and odd bytes "
	  "in a cell as \\xHH",
	  4 },
	{ "pairs", OPT_PAIRS, NULL, 0,
	  "one row a line, as NAME=\"value\" pairs (for eval and awk)", 4 },
	{ "noheadings", OPT_NOHEADINGS, NULL, 0,
	  "no header line (-n after the command; before it, -n is "
	  "--dry-run)",
	  4 },
	{ NULL },
};

static int parse_listing(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		break;
	case OPT_OUTPUT:
		o->columns = arg;
		break;
	case OPT_OUTPUT_ALL:
		o->output_all = true;
		break;
	case OPT_RAW:
		o->raw = true;
		break;
	case OPT_PAIRS:
		o->pairs = true;
		break;
	case OPT_NOHEADINGS:
		o->no_headings = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp listing_argp = {
	.options = listing_options,
	.parser = parse_listing,
	.children = at_global_children,
};

const struct argp_child at_listing_children[] = {
	{ &listing_argp, 0, NULL, 0 },
	{ NULL },
};

/* The column NAME names (its name or alias, any case, '_' and '-'
 * ignored), or -1. */
static int find_col(const struct listing *l, const char *name)
{
	unsigned i;

	for (i = 0; i < l->ncols; i++)
		if (name_distance(name, l->cols[i].name) == 0 ||
		    (l->cols[i].alias &&
		     name_distance(name, l->cols[i].alias) == 0))
			return i;
	return -1;
}

static void add_col(struct listing *l, unsigned id)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return;
	if (l->n < LISTING_MAX)
		l->ids[l->n++] = id;
}

static bool col_name_of(unsigned i, const void *ctx, char *buf, size_t size)
{
	const struct listing *l = ctx;

	snprintf(buf, size, "%s", l->cols[i].name);
	return true;
}

static int unknown_col(const struct listing *l, const struct opts *o,
		       const char *word)
{
	char near[256];

	suggest_nearest(word, l->ncols, col_name_of, l, 0, near, sizeof(near));
	return usage_error("unknown column: %s (nearest: %s; every column: "
			   "allthreads %s --help)",
			   word, near, o->command ? o->command : "show");
}

int listing_select(struct listing *l, const struct opts *o,
		   const struct listing_col *cols, unsigned ncols,
		   const unsigned *defaults, unsigned ndefaults)
{
	const char *p = o->columns;
	char word[64];
	unsigned i;
	int id;

	memset(l, 0, sizeof(*l));
	l->cols = cols;
	l->ncols = ncols < LISTING_MAX ? ncols : LISTING_MAX;
	if (o->raw && o->pairs)
		return usage_error("--raw and --pairs: contradictory (choose "
				   "one)");
	if (o->json && (o->raw || o->pairs))
		return usage_error("--json and --%s: contradictory (choose "
				   "one)",
				   o->raw ? "raw" : "pairs");
	if (!p || *p == '+') {
		for (i = 0; i < (o->output_all ? l->ncols : ndefaults); i++)
			add_col(l, o->output_all ? i : defaults[i]);
		if (p)
			p++;
	}
	while (p && *p) {
		size_t len = strcspn(p, ",");

		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if (!len)
			continue;
		if (strcasecmp(word, "all") == 0) {
			for (i = 0; i < l->ncols; i++)
				add_col(l, i);
			continue;
		}
		id = find_col(l, word);
		if (id < 0)
			return unknown_col(l, o, word);
		add_col(l, id);
	}
	if (!l->n)
		return usage_error("-o: no columns");
	return 0;
}

bool listing_shows(const struct listing *l, unsigned id)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

/* Bold marks the cells that differ, only on a terminal that wants it:
 * not with NO_COLOR set (https://no-color.org), TERM=dumb or unset,
 * --raw or --pairs. */
static bool use_bold(const struct opts *o)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (o->raw || o->pairs || !isatty(STDOUT_FILENO))
		return false;
	if (nc && *nc)
		return false;
	return term && *term && strcmp(term, "dumb") != 0;
}

int listing_start(struct listing *l, const struct opts *o)
{
	bool plain = !o->raw && !o->pairs, bold = use_bold(o);
	char head[64];
	unsigned i;

	l->tb = scols_new_table();
	if (!l->tb)
		return -ENOMEM;
	scols_table_enable_raw(l->tb, o->raw);
	scols_table_enable_export(l->tb, o->pairs);
	scols_table_enable_noheadings(l->tb, o->no_headings);
	scols_table_enable_colors(l->tb, bold);
	for (i = 0; i < l->n; i++) {
		const struct listing_col *c = &l->cols[l->ids[i]];
		bool mark = l->marked[l->ids[i]];
		struct libscols_column *cl;

		snprintf(head, sizeof(head), "%s%s", c->name,
			 mark && plain ? "*" : "");
		cl = scols_table_new_column(l->tb, head, c->whint, c->flags);
		if (!cl)
			return -ENOMEM;
		if (mark && bold)
			scols_column_set_color(cl, "bold");
	}
	return 0;
}

struct libscols_line *listing_row(struct listing *l)
{
	return scols_table_new_line(l->tb, NULL);
}

int listing_set(struct listing *l, struct libscols_line *row, unsigned id,
		const char *text)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return scols_line_set_data(row, i, text) ? -ENOMEM : 0;
	return 0;
}

int listing_print(struct listing *l)
{
	if (!l->tb || !scols_table_get_nlines(l->tb))
		return 0;
	return scols_print_table(l->tb) ? -EIO : 0;
}

void listing_free(struct listing *l)
{
	scols_unref_table(l->tb);
	l->tb = NULL;
}

char *listing_help(int key, const char *text, const struct listing_col *cols,
		   unsigned ncols, const unsigned *defaults, unsigned ndefaults)
{
	char *out = NULL;
	size_t size = 0;
	unsigned i, k;
	FILE *f;

	if (key != ARGP_KEY_HELP_POST_DOC)
		return (char *)text;
	f = open_memstream(&out, &size);
	if (!f)
		return (char *)text;
	if (text)
		fprintf(f, "%s\n\n", text);
	fputs("Columns (-o; * the default):\n", f);
	for (i = 0; i < ncols; i++) {
		bool dflt = false;

		for (k = 0; k < ndefaults; k++)
			dflt |= defaults[k] == i;
		fprintf(f, " %c%-12s %s\n", dflt ? '*' : ' ', cols[i].name,
			cols[i].help);
	}
	if (fclose(f)) {
		free(out);
		return (char *)text;
	}
	return out;
}
