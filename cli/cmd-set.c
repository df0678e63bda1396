// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-set.c - `allthreads set OPTION...`: setpriv's options, and a few
 * more, compiled by recipe.c into one visit per thread in a fixed order.
 */
#include <argp.h>
#include <string.h>

#include "cli.h"

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

static int parse_set(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	struct set_args *a = &o->set;

	switch (key) {
	case OPT_RUID:
		a->ruid = arg;
		break;
	case OPT_EUID:
		a->euid = arg;
		break;
	case OPT_REUID:
		a->reuid = arg;
		break;
	case OPT_RGID:
		a->rgid = arg;
		break;
	case OPT_EGID:
		a->egid = arg;
		break;
	case OPT_REGID:
		a->regid = arg;
		break;
	case OPT_FSUID:
		a->fsuid = arg;
		break;
	case OPT_FSGID:
		a->fsgid = arg;
		break;
	case OPT_GROUPS:
		a->groups = arg;
		break;
	case OPT_CLEAR_GROUPS:
		a->clear_groups = true;
		break;
	case OPT_INIT_GROUPS:
		a->init_groups = true;
		break;
	case OPT_KEEP_GROUPS:
		a->keep_groups = true;
		break;
	case OPT_INH_CAPS:
		a->inh_caps = arg;
		break;
	case OPT_AMBIENT_CAPS:
		a->ambient_caps = arg;
		break;
	case OPT_BOUNDING_SET:
		a->bounding_set = arg;
		break;
	case OPT_SECUREBITS:
		a->securebits = arg;
		break;
	case OPT_NNP:
		a->nnp = true;
		break;
	case OPT_KEEP_CAPS:
		a->keep_caps = arg ? arg : "1";
		break;
	case OPT_CAPS:
		a->caps = arg;
		break;
	case OPT_DROP_CAPS:
		a->drop_caps = arg;
		break;
	case OPT_DUMPABLE:
		a->dumpable = arg;
		break;
	case OPT_SECCOMP_DENY:
		a->seccomp = true;
		a->deny = arg;
		break;
	case OPT_SECCOMP_ERRNO:
		a->deny_errno = arg;
		break;
	case OPT_SECCOMP_DEFAULT:
		a->seccomp = true;
		a->default_action = arg;
		break;
	case OPT_SECCOMP_FILTER:
		a->seccomp = true;
		a->bpf = arg;
		break;
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
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
