// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-creds.c - the one-change commands: setuid, setgid, setresuid,
 * setresgid, setgroups, setfsuid, setfsgid, caps, drop, ambient, bounding,
 * inheritable.  Each is one of set's options, compiled the same way.
 */
#include <argp.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "plan.h"
#include "recipe.h"
#include "target.h"
#include "usage.h"

#define CREDS_ARGP(var, args, text)                                            \
	const struct argp var = {                                              \
		.parser = at_parse_root,                                       \
		.args_doc = args " [-- PROGRAM [ARG...]]",                     \
		.doc = text,                                                   \
		.children = at_global_children,                                \
	}

CREDS_ARGP(setuid_argp, "USER|UID",
	   "setuid(2) on every thread: with CAP_SETUID the real, effective "
	   "and saved uid; without, the effective uid only.  Names are "
	   "looked up in the target's /etc/passwd.");
CREDS_ARGP(setgid_argp, "GROUP|GID",
	   "setgid(2) on every thread: with CAP_SETGID the real, effective "
	   "and saved gid; without, the effective gid only.");
CREDS_ARGP(setresuid_argp, "R E S",
	   "setresuid(2) on every thread.  `-` or `keep` leaves an id as it "
	   "is (-1 works after the first).");
CREDS_ARGP(setresgid_argp, "R E S",
	   "setresgid(2) on every thread.  `-` or `keep` leaves an id as it "
	   "is (-1 works after the first).");
CREDS_ARGP(setgroups_argp, "GROUP[,GROUP...]",
	   "setgroups(2) on every thread: the supplementary groups, names or "
	   "numbers; an empty string clears them.");
CREDS_ARGP(setfsuid_argp, "USER|UID",
	   "setfsuid(2) on every thread.  The kernel never says no: the "
	   "result is proven through /proc.");
CREDS_ARGP(setfsgid_argp, "GROUP|GID",
	   "setfsgid(2) on every thread, proven through /proc.");
CREDS_ARGP(caps_argp, "TEXT",
	   "Set the effective, permitted and inheritable sets of every thread "
	   "from libcap text (cap_from_text(3), as capsh --caps): e.g. "
	   "\"cap_net_bind_service=eip\", \"=\" for none, \"all=ep\".");
CREDS_ARGP(drop_argp, "CAP[,CAP...]|all",
	   "Drop capabilities from every set of every thread: bounding first "
	   "(while CAP_SETPCAP is still effective), then effective, permitted "
	   "and inheritable (capset), then ambient.");
CREDS_ARGP(ambient_argp, "+CAP,-CAP,...",
	   "Edit the ambient set as setpriv --ambient-caps does: +cap raises, "
	   "-cap lowers, -all clears.");
CREDS_ARGP(bounding_argp, "-CAP,...",
	   "Edit the bounding set as setpriv --bounding-set does: -cap drops "
	   "(needs CAP_SETPCAP), -all,+cap keeps only cap.");
CREDS_ARGP(inheritable_argp, "+CAP,-CAP,...",
	   "Edit the inheritable set as setpriv --inh-caps does.");

static int want(const struct opts *o, int n, const char *usage)
{
	if (o->nargs == n)
		return 0;
	return usage_error("%s: %s (usage: allthreads %s %s)", o->command,
			   o->nargs < n ? "missing arguments" :
					  "too many arguments",
			   o->command, usage);
}

int cmd_creds(const struct opts *o, struct plan *plan, const struct target *tgt)
{
	struct set_args a = o->set;
	const char *c = o->command;
	int e = 0;

	plan->command = c;
	if (strcmp(c, "setresuid") == 0 || strcmp(c, "setresgid") == 0) {
		const char **v = c[6] == 'u' ? a.resuid : a.resgid;

		e = want(o, 3, "R E S");
		if (!e) {
			v[0] = o->args[0];
			v[1] = o->args[1];
			v[2] = o->args[2];
		}
	} else {
		e = want(o, 1, "ARG");
		if (e)
			return e;
		if (strcmp(c, "setuid") == 0)
			a.setuid = o->args[0];
		else if (strcmp(c, "setgid") == 0)
			a.setgid = o->args[0];
		else if (strcmp(c, "setfsuid") == 0)
			a.fsuid = o->args[0];
		else if (strcmp(c, "setfsgid") == 0)
			a.fsgid = o->args[0];
		else if (strcmp(c, "setgroups") == 0)
			a.groups = o->args[0];
		else if (strcmp(c, "caps") == 0)
			a.caps = o->args[0];
		else if (strcmp(c, "drop") == 0)
			a.drop_caps = o->args[0];
		else if (strcmp(c, "ambient") == 0)
			a.ambient_caps = o->args[0];
		else if (strcmp(c, "bounding") == 0)
			a.bounding_set = o->args[0];
		else if (strcmp(c, "inheritable") == 0)
			a.inh_caps = o->args[0];
	}
	if (e)
		return e;
	if (strcmp(c, "setgroups") == 0 && !*a.groups) {
		a.groups = NULL;
		a.clear_groups = true;
	}
	return compile_recipe(&a, plan, tgt);
}
