/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * listing.h - the tables show, check, audit and list print, the way
 * lsblk, findmnt, lsns and lslocks print theirs: through libsmartcols,
 * with that family's options (-o COLUMNS, -o +COLUMNS, --output-all,
 * -r/--raw, -P/--pairs, -n/--noheadings) and its width handling on a
 * terminal.  -J stays the one JSON schema of allthreads(1) (cli.h).
 *
 * A command describes its columns once (struct listing_col, indexed by
 * the command's own column ids); listing_select() picks those the
 * command line asks for; rows are then filled by id, and columns that
 * are not shown are skipped.
 */
#ifndef AT_CLI_LISTING_H
#define AT_CLI_LISTING_H

#include <argp.h>
#include <libsmartcols.h>
#include <stdbool.h>

struct opts;

/* Most columns a listing has, and most it shows (-o may repeat none). */
#define LISTING_MAX 32

struct listing_col {
	const char *name;  /* the header and the -o name (any case) */
	const char *alias; /* another -o name (show: the /proc key), or NULL */
	double whint;	   /* width hint: below 1, a share of the terminal */
	int flags;	   /* SCOLS_FL_RIGHT, SCOLS_FL_TRUNC, SCOLS_FL_WRAP */
	const char *help;
};

struct listing {
	const struct listing_col *cols; /* every column, by id */
	unsigned ncols;
	unsigned ids[LISTING_MAX]; /* the columns shown, in order */
	unsigned n;
	bool marked[LISTING_MAX]; /* by id: rows differ (header *, bold) */
	struct libscols_table *tb;
};

/* Choose L's columns among COLS (NCOLS of them): -o's list, which
 * replaces DEFAULTS or, after a '+', adds to them (or to every column
 * with --output-all); --output-all alone shows every column.  0, or
 * EXIT_USAGE after `allthreads: unknown column: NAME` on stderr. */
int listing_select(struct listing *l, const struct opts *o,
		   const struct listing_col *cols, unsigned ncols,
		   const unsigned *defaults, unsigned ndefaults);
/* Is column ID shown? */
bool listing_shows(const struct listing *l, unsigned id);
/* The libsmartcols table of L's columns, in O's mode (raw, pairs, no
 * headings; marked columns get a * and, on a terminal that wants
 * colour, bold cells).  0 or -ENOMEM. */
int listing_start(struct listing *l, const struct opts *o);
/* A new row, or NULL when out of memory. */
struct libscols_line *listing_row(struct listing *l);
/* Cell ID of ROW (nothing when column ID is not shown).  0 or -ENOMEM. */
int listing_set(struct listing *l, struct libscols_line *row, unsigned id,
		const char *text);
/* Print the table, unless it has no rows; 0 or -EIO. */
int listing_print(struct listing *l);
void listing_free(struct listing *l);

/* For an argp help_filter: after the post-doc (KEY is
 * ARGP_KEY_HELP_POST_DOC), TEXT followed by the columns of COLS and their
 * help, defaults marked, malloc'ed; TEXT itself otherwise, or when out of
 * memory. */
char *listing_help(int key, const char *text, const struct listing_col *cols,
		   unsigned ncols, const unsigned *defaults,
		   unsigned ndefaults);

/* The listing options, then the global ones: a listing command's
 * argp children. */
extern const struct argp_child at_listing_children[];

#endif /* AT_CLI_LISTING_H */
