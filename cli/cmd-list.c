// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-list.c - `allthreads list WHAT`: the vocabularies, as a table (NAME;
 * -n leaves one name a line, for people and for the shell completion
 * built from them).  Capabilities come from /proc/sys/kernel/cap_last_cap
 * and system calls from libseccomp for this architecture, at run time.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "listing.h"
#include "names.h"
#include "target.h"
#include "usage.h"

/* The columns of a vocabulary: NAME, DESCRIPTION; prctl's have SCOPE
 * between them. */
enum { COL_NAME, COL_SCOPE, COL_DESC };

#define NAME_COL                                                               \
	{                                                                      \
		"NAME", NULL, 0, 0, "the name"                                 \
	}
#define DESC_COL                                                               \
	{                                                                      \
		"DESCRIPTION", NULL, 0, SCOLS_FL_TRUNC,                        \
			"what it is: a number, a bit, what a prctl does"       \
	}

static const struct listing_col prctl_cols[] = {
	NAME_COL,
	{ "SCOPE", NULL, 0, 0, "per-thread or process-wide (prctl)" },
	DESC_COL,
};
/* The others: NAME and DESCRIPTION, by the same ids (written as macros:
 * one array's element is no constant for another's initializer in ISO C,
 * and clang says so). */
static const struct listing_col vocab_cols[] = {
	NAME_COL,
	DESC_COL,
};

static const unsigned prctl_default[] = { COL_NAME, COL_SCOPE };
static const unsigned vocab_default[] = { COL_NAME };

static char *list_help(int key, const char *text, void *input)
{
	(void)input; /* argp's help filter: no input of ours */
	return listing_help(key, text, prctl_cols, 3, prctl_default, 2);
}

/* WHAT may come before the table options: `list caps -n`. */
static int parse_list_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	if (key != ARGP_KEY_ARG || !o->in_command)
		return at_parse_root(key, arg, state);
	if (o->cmd_argv)
		argp_error(state, "%s: one WHAT only", arg);
	o->cmd_argv = &state->argv[state->next - 1];
	o->cmd_argc = 1;
	return 0;
}

const struct argp list_argp = {
	.parser = parse_list_opt,
	.args_doc = "caps|securebits|prctl|syscalls|columns|keys|commands",
	.doc = "Print a vocabulary as a table: NAME (and, for prctl, "
	       "SCOPE: per-thread or process-wide); -v or --output-all adds "
	       "DESCRIPTION; -n drops the header, so that one name a line "
	       "is left (what the shell completion reads); -J prints the "
	       "JSON items.\v"
	       "  caps        capabilities this kernel has (cap_last_cap)\n"
	       "  securebits  securebit names (set --securebits)\n"
	       "  prctl       prctl names, per-thread or process-wide\n"
	       "  syscalls    system calls libseccomp knows here\n"
	       "  columns     show's columns (-o)\n"
	       "  keys        check's --expect keys\n"
	       "  commands    allthreads' commands",
	.children = at_listing_children,
	.help_filter = list_help,
};

struct lister {
	const struct opts *o;
	bool prctl;
	struct listing ls;
	unsigned n;
};

static void item(struct lister *l, const char *name, const char *scope,
		 const char *desc)
{
	struct libscols_line *row;
	char both[256];

	if (l->o->json) {
		if (scope)
			snprintf(both, sizeof(both), "%s; %s", scope, desc);
		printf("%s{\"name\":", l->n ? "," : "");
		json_str(name);
		printf(",\"description\":");
		json_str(scope ? both : desc);
		putchar('}');
	} else if ((row = listing_row(&l->ls))) {
		listing_set(&l->ls, row, COL_NAME, name);
		if (l->prctl)
			listing_set(&l->ls, row, COL_SCOPE, scope);
		listing_set(&l->ls, row, l->prctl ? COL_DESC : 1, desc);
	}
	l->n++;
}

/* One item per entry of the vocabulary WHAT (a full name from whats[]). */
static void list_items(struct lister *l, const char *what)
{
	const struct prctl_desc *d;
	char name[64], desc[160];
	unsigned i;
	long nr;
	int cap;

	if (strcmp(what, "caps") == 0) {
		for (cap = 0; cap <= last_cap(); cap++) {
			format_cap(cap, name, sizeof(name));
			snprintf(desc, sizeof(desc), "%d", cap);
			item(l, name, NULL, desc);
		}
	} else if (strcmp(what, "securebits") == 0) {
		for (i = 0; i < NR_SECBITS; i++) {
			snprintf(desc, sizeof(desc), "bit %u (0x%x)", i,
				 1u << i);
			item(l, secbit_names[i], NULL, desc);
		}
	} else if (strcmp(what, "prctl") == 0) {
		for (d = at_prctl_table; d->name; d++)
			item(l, d->name,
			     d->flags & PF_PROCESS_WIDE ? "process-wide" :
							  "per-thread",
			     d->summary);
	} else if (strcmp(what, "syscalls") == 0) {
		for (nr = 0; nr < 1024; nr++) {
			char *s = syscall_name(nr);

			if (!s)
				continue;
			snprintf(desc, sizeof(desc), "%ld", nr);
			item(l, s, NULL, desc);
			free(s);
		}
	} else if (strcmp(what, "columns") == 0) {
		for (i = 0; i < NR_ATTRS; i++)
			item(l, at_attrs[i].column, NULL, at_attrs[i].help);
	} else if (strcmp(what, "keys") == 0) {
		for (i = ATTR_COMM; i < NR_ATTRS; i++)
			item(l, at_attrs[i].key, NULL, at_attrs[i].help);
		for (i = 0; i < 4; i++) {
			static const char *const subs[] = { "R", "E", "S",
							    "Fs" };

			snprintf(name, sizeof(name), "%suid", subs[i]);
			item(l, name, NULL, "one of the four uids");
			snprintf(name, sizeof(name), "%sgid", subs[i]);
			item(l, name, NULL, "one of the four gids");
		}
	} else {
		for (i = 0; at_command_name(i); i++)
			item(l, at_command_name(i), NULL, NULL);
	}
}

static const char *const whats[] = {
	"caps",	   "securebits", "prctl",    "syscalls",
	"columns", "keys",	 "commands", NULL,
};

int cmd_list(const struct opts *o, const struct target *tgt)
{
	struct lister l = { .o = o };
	const char *what;
	static const unsigned all_ids[] = { 0, 1, 2 };
	const struct listing_col *cols;
	unsigned i, ncols;
	int code;

	if (o->nargs != 1)
		return usage_error("list: %s (one of: caps, securebits, prctl, "
				   "syscalls, columns, keys, commands)",
				   o->nargs ? "too many arguments" :
					      "missing WHAT");
	what = o->args[0];
	for (i = 0; whats[i]; i++)
		if (strncmp(whats[i], what, strlen(what)) == 0 &&
		    strlen(what) >= 3)
			break;
	if (!whats[i])
		return usage_error("list: %s: unknown (one of: caps, "
				   "securebits, prctl, syscalls, columns, "
				   "keys, commands)",
				   what);
	what = whats[i];
	l.prctl = strcmp(what, "prctl") == 0;
	cols = l.prctl ? prctl_cols : vocab_cols;
	ncols = l.prctl ? 3 : 2;
	/* -v: with the descriptions, as before the table. */
	if (o->verbose && !o->columns)
		code = listing_select(&l.ls, o, cols, ncols, all_ids, ncols);
	else
		code = listing_select(&l.ls, o, cols, ncols,
				      l.prctl ? prctl_default : vocab_default,
				      l.prctl ? 2 : 1);
	if (code)
		return code;
	if (o->json) {
		json_begin(o, "list", tgt, what, "list", false);
		printf(",\"steps\":[],\"verdict\":null,\"exit\":0,"
		       "\"value\":null,\"threads\":[]");
		json_end(o, NULL, NULL, 0, NULL);
		printf(",\"items\":[");
	} else if (listing_start(&l.ls, o)) {
		fprintf(stderr, "allthreads: list: %s\n", strerror(ENOMEM));
		listing_free(&l.ls);
		return EXIT_FAILED;
	}
	list_items(&l, what);
	if (o->json)
		printf("]}\n");
	else
		code = listing_print(&l.ls) ? EXIT_FAILED : EXIT_OK;
	listing_free(&l.ls);
	return code;
}
