// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-set.c - `allthreads set OPTION...`: setpriv's options, and a few
 * more, compiled by recipe.c into one visit per thread in a fixed order.
 */
#include <argp.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "commands.h"

enum {
	OPT_RUID = 0x300,
	OPT_EUID,
	OPT_REUID,
	OPT_RGID,
	OPT_EGID,
	OPT_REGID,
	OPT_FSUID,
	OPT_FSGID,
	OPT_GROUPS,
	OPT_CLEAR_GROUPS,
	OPT_INIT_GROUPS,
	OPT_KEEP_GROUPS,
	OPT_INH_CAPS,
	OPT_AMBIENT_CAPS,
	OPT_BOUNDING_SET,
	OPT_SECUREBITS,
	OPT_NNP,
	OPT_KEEP_CAPS,
	OPT_CAPS,
	OPT_DROP_CAPS,
	OPT_DUMPABLE,
	OPT_SECCOMP_DENY,
	OPT_SECCOMP_ERRNO,
	OPT_SECCOMP_DEFAULT,
	OPT_SECCOMP_FILTER,
};

static const struct argp_option set_options[] = {
	{ NULL, 0, NULL, 0, "Identity (names or numbers, as setpriv):", 10 },
	{ "reuid", OPT_REUID, "UID", 0, "real, effective and saved uid", 10 },
	{ "ruid", OPT_RUID, "UID", 0, "real uid", 10 },
	{ "euid", OPT_EUID, "UID", 0, "effective uid", 10 },
	{ "regid", OPT_REGID, "GID", 0, "real, effective and saved gid", 10 },
	{ "rgid", OPT_RGID, "GID", 0, "real gid", 10 },
	{ "egid", OPT_EGID, "GID", 0, "effective gid", 10 },
	{ "fsuid", OPT_FSUID, "UID", 0, "filesystem uid", 10 },
	{ "fsgid", OPT_FSGID, "GID", 0, "filesystem gid", 10 },
	{ "groups", OPT_GROUPS, "GROUP,...", 0, "supplementary groups", 10 },
	{ "clear-groups", OPT_CLEAR_GROUPS, NULL, 0, "no supplementary groups",
	  10 },
	{ "init-groups", OPT_INIT_GROUPS, NULL, 0,
	  "the groups of the --reuid/--ruid user (initgroups)", 10 },
	{ "keep-groups", OPT_KEEP_GROUPS, NULL, 0,
	  "leave the supplementary groups as they are", 10 },
	{ NULL, 0, NULL, 0, "Capabilities:", 11 },
	{ "caps", OPT_CAPS, "TEXT", 0,
	  "effective, permitted and inheritable sets from libcap text "
	  "(\"cap_net_bind_service=eip\")",
	  11 },
	{ "inh-caps", OPT_INH_CAPS, "+CAP,-CAP", 0,
	  "edit the inheritable set (+all, -all too)", 11 },
	{ "ambient-caps", OPT_AMBIENT_CAPS, "+CAP,-CAP", 0,
	  "edit the ambient set", 11 },
	{ "bounding-set", OPT_BOUNDING_SET, "-CAP,...", 0,
	  "drop from the bounding set (-all,+cap keeps only cap)", 11 },
	{ "drop-caps", OPT_DROP_CAPS, "CAP,...|all", 0,
	  "drop from every set: bounding, effective, permitted, "
	  "inheritable, ambient",
	  11 },
	{ "securebits", OPT_SECUREBITS, "+BIT,-BIT|MASK", 0,
	  "securebits: setpriv's +/- edits, or a mask or names", 11 },
	{ "keep-caps", OPT_KEEP_CAPS, "0|1", OPTION_ARG_OPTIONAL,
	  "PR_SET_KEEPCAPS (default 1)", 11 },
	{ NULL, 0, NULL, 0, "Restrictions:", 12 },
	{ "nnp", OPT_NNP, NULL, 0, "PR_SET_NO_NEW_PRIVS (one-way)", 12 },
	{ "no-new-privs", OPT_NNP, NULL, OPTION_ALIAS, NULL, 12 },
	{ "dumpable", OPT_DUMPABLE, "0|1", 0, "PR_SET_DUMPABLE (process-wide)",
	  12 },
	{ "seccomp-deny", OPT_SECCOMP_DENY, "SYSCALL,...", 0,
	  "a seccomp filter denying these system calls (EPERM)", 12 },
	{ "seccomp-errno", OPT_SECCOMP_ERRNO, "ERRNO", 0,
	  "the error denied calls return (name or number)", 12 },
	{ "seccomp-default", OPT_SECCOMP_DEFAULT, "ACTION", 0,
	  "what other calls get: allow (default), log, kill, kill-process, "
	  "trap, errno:E",
	  12 },
	{ "seccomp-filter", OPT_SECCOMP_FILTER, "FILE", 0,
	  "a raw BPF filter (struct sock_filter array, as setpriv)", 12 },
	{ NULL },
};

/* An option that records its argument (or, for a flag, that it was given)
 * in struct set_args, at OFFSET; SECCOMP: it asks for a filter. */
struct set_field {
	int key;
	size_t offset;
	bool flag, seccomp;
};

#define TEXT(key, field)                                                       \
	{                                                                      \
		key, offsetof(struct set_args, field), false, false            \
	}
#define FLAG(key, field)                                                       \
	{                                                                      \
		key, offsetof(struct set_args, field), true, false             \
	}
#define FILTER(key, field)                                                     \
	{                                                                      \
		key, offsetof(struct set_args, field), false, true             \
	}

static const struct set_field set_fields[] = {
	TEXT(OPT_RUID, ruid),
	TEXT(OPT_EUID, euid),
	TEXT(OPT_REUID, reuid),
	TEXT(OPT_RGID, rgid),
	TEXT(OPT_EGID, egid),
	TEXT(OPT_REGID, regid),
	TEXT(OPT_FSUID, fsuid),
	TEXT(OPT_FSGID, fsgid),
	TEXT(OPT_GROUPS, groups),
	FLAG(OPT_CLEAR_GROUPS, clear_groups),
	FLAG(OPT_INIT_GROUPS, init_groups),
	FLAG(OPT_KEEP_GROUPS, keep_groups),
	TEXT(OPT_INH_CAPS, inh_caps),
	TEXT(OPT_AMBIENT_CAPS, ambient_caps),
	TEXT(OPT_BOUNDING_SET, bounding_set),
	TEXT(OPT_SECUREBITS, securebits),
	FLAG(OPT_NNP, nnp),
	TEXT(OPT_CAPS, caps),
	TEXT(OPT_DROP_CAPS, drop_caps),
	TEXT(OPT_DUMPABLE, dumpable),
	FILTER(OPT_SECCOMP_DENY, deny),
	TEXT(OPT_SECCOMP_ERRNO, deny_errno),
	FILTER(OPT_SECCOMP_DEFAULT, default_action),
	FILTER(OPT_SECCOMP_FILTER, bpf),
};

static int parse_set(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	struct set_args *a = &o->set;
	size_t i;

	if (key == OPT_KEEP_CAPS) {
		a->keep_caps = arg ? arg : "1";
		return 0;
	}
	for (i = 0; i < sizeof(set_fields) / sizeof(set_fields[0]); i++) {
		const struct set_field *f = &set_fields[i];
		char *field = (char *)a + f->offset;

		if (f->key != key)
			continue;
		if (f->flag)
			*(bool *)field = true;
		else
			*(const char **)field = arg;
		if (f->seccomp)
			a->seccomp = true;
		return 0;
	}
	return at_parse_root(key, arg, state);
}

const struct argp set_argp = {
	.options = set_options,
	.parser = parse_set,
	.args_doc = "OPTION... [-- PROGRAM [ARG...]]",
	.doc = "Several changes on every thread in ONE visit, in a fixed "
	       "order that works: securebits, keep-caps, bounding-set drops, "
	       "groups, gids, uids, fsuid/fsgid, capset (inheritable, "
	       "permitted, effective), ambient, dumpable, no_new_privs, "
	       "seccomp (last, with TSYNC).  --dry-run prints the steps and "
	       "predicts a step that would fail.\v"
	       "Examples:\n"
	       "  allthreads set --reuid=nobody --regid=nogroup --clear-groups \\\n"
	       "      --inh-caps=-all --nnp -- ./server\n"
	       "  allthreads -n set --bounding-set=-all,+net_bind_service "
	       "--nnp",
	.children = at_global_children,
};
