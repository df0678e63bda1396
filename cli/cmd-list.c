// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-list.c - `allthreads list WHAT`: the vocabularies, one name a line,
 * for people and for the shell completion built from them.  Capabilities
 * come from /proc/sys/kernel/cap_last_cap and system calls from libseccomp
 * for this architecture, at run time.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "cli.h"
#include "names.h"

const struct argp list_argp = {
	.parser = at_parse_root,
	.args_doc = "caps|securebits|prctl|syscalls|columns|keys|commands",
	.doc = "Print a vocabulary, one name a line (with -v, a short "
	       "description after a tab; with -J, the JSON items).  prctl "
	       "names are followed by a tab and per-thread or "
	       "process-wide.\v"
	       "  caps        capabilities this kernel has (cap_last_cap)\n"
	       "  securebits  securebit names (set --securebits)\n"
	       "  prctl       prctl names, per-thread or process-wide\n"
	       "  syscalls    system calls libseccomp knows here\n"
	       "  columns     show's columns (-o)\n"
	       "  keys        check's --expect keys\n"
	       "  commands    allthreads' commands",
	.children = at_global_children,
};

struct lister {
	const struct opts *o;
	unsigned n;
};

static void item(struct lister *l, const char *name, const char *desc)
{
	if (l->o->json) {
		printf("%s{\"name\":", l->n ? "," : "");
		json_str(name);
		printf(",\"description\":");
		json_str(desc);
		putchar('}');
	} else if (l->o->verbose && desc) {
		printf("%s\t%s\n", name, desc);
	} else {
		printf("%s\n", name);
	}
	l->n++;
}

static const char *const whats[] = {
	"caps",	   "securebits", "prctl",    "syscalls",
	"columns", "keys",	 "commands", NULL,
};

int cmd_list(const struct opts *o, struct plan *plan, const struct target *tgt)
{
	struct lister l = { .o = o };
	const struct prctl_desc *d;
	char name[64], desc[160];
	const char *what;
	unsigned i;
	long nr;
	int cap;

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
	if (o->json) {
		json_begin(o, "list", tgt, what, "list", false);
		printf(",\"steps\":[],\"verdict\":null,\"exit\":0,"
		       "\"value\":null,\"threads\":[]");
		json_end(o, NULL, NULL, 0);
		printf(",\"items\":[");
	}
	if (strcmp(what, "caps") == 0) {
		for (cap = 0; cap <= last_cap(); cap++) {
			format_cap(cap, name, sizeof(name));
			snprintf(desc, sizeof(desc), "%d", cap);
			item(&l, name, desc);
		}
	} else if (strcmp(what, "securebits") == 0) {
		for (i = 0; i < NR_SECBITS; i++) {
			snprintf(desc, sizeof(desc), "bit %u (0x%x)", i,
				 1u << i);
			item(&l, secbit_names[i], desc);
		}
	} else if (strcmp(what, "prctl") == 0) {
		/* Whether each is per-thread is part of the name's line. */
		for (d = at_prctl_table; d->name; d++) {
			const char *scope = d->flags & PF_PROCESS_WIDE ?
						    "process-wide" :
						    "per-thread";

			snprintf(desc, sizeof(desc), "%s; %s", scope,
				 d->summary);
			if (o->json || o->verbose)
				item(&l, d->name, desc);
			else
				printf("%s\t%s\n", d->name, scope);
		}
	} else if (strcmp(what, "syscalls") == 0) {
		for (nr = 0; nr < 1024; nr++) {
			char *s = syscall_name(nr);

			if (!s)
				continue;
			snprintf(desc, sizeof(desc), "%ld", nr);
			item(&l, s, desc);
			free(s);
		}
	} else if (strcmp(what, "columns") == 0) {
		for (i = 0; i < NR_ATTRS; i++)
			item(&l, at_attrs[i].column, at_attrs[i].help);
	} else if (strcmp(what, "keys") == 0) {
		for (i = ATTR_COMM; i < NR_ATTRS; i++)
			item(&l, at_attrs[i].key, at_attrs[i].help);
		for (i = 0; i < 4; i++) {
			static const char *const subs[] = { "R", "E", "S",
							    "Fs" };

			snprintf(name, sizeof(name), "%suid", subs[i]);
			item(&l, name, "one of the four uids");
			snprintf(name, sizeof(name), "%sgid", subs[i]);
			item(&l, name, "one of the four gids");
		}
	} else {
		for (i = 0; at_command_name(i); i++)
			item(&l, at_command_name(i), NULL);
	}
	if (o->json)
		printf("]}\n");
	(void)plan;
	return EXIT_OK;
}
