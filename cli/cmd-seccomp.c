// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-seccomp.c - `allthreads seccomp`: its options, compiled by
 * filter.c into a filter put on every thread at once with
 * SECCOMP_FILTER_FLAG_TSYNC.
 */
#include <argp.h>

#include "cli.h"
#include "commands.h"
#include "plan.h"
#include "recipe.h"
#include "target.h"
#include "usage.h"

enum {
	OPT_DENY = 0x400,
	OPT_ERRNO,
	OPT_DEFAULT,
	OPT_BPF,
};

static const struct argp_option seccomp_options[] = {
	{ "deny", OPT_DENY, "SYSCALL,...", 0,
	  "deny these system calls (libseccomp names for this architecture)",
	  0 },
	{ "errno", OPT_ERRNO, "ERRNO", 0,
	  "what denied calls return: a name (EPERM) or number; default "
	  "EPERM",
	  0 },
	{ "default-action", OPT_DEFAULT, "ACTION", 0,
	  "for every other call: allow (default), log, kill (the thread), "
	  "kill-process, trap, errno:E",
	  0 },
	{ "bpf", OPT_BPF, "FILE", 0,
	  "install this raw filter instead (struct sock_filter array)", 0 },
	{ NULL },
};

static int parse_seccomp_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_DENY:
		o->set.deny = arg;
		break;
	case OPT_ERRNO:
		o->set.deny_errno = arg;
		break;
	case OPT_DEFAULT:
		o->set.default_action = arg;
		break;
	case OPT_BPF:
		o->set.bpf = arg;
		break;
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
}

const struct argp seccomp_argp = {
	.options = seccomp_options,
	.parser = parse_seccomp_opt,
	.args_doc = "[-- PROGRAM [ARG...]]",
	.doc = "Put a seccomp filter on every thread: one seccomp(2) call "
	       "with SECCOMP_FILTER_FLAG_TSYNC, which the kernel applies to "
	       "every thread or to none.  Without CAP_SYS_ADMIN, "
	       "NO_NEW_PRIVS is set on every thread first.  Every thread's "
	       "Seccomp is then read back from /proc.\v"
	       "Examples:\n"
	       "  allthreads seccomp --deny=ptrace,process_vm_writev -- ./app\n"
	       "  allthreads seccomp --deny=mount --errno=EACCES -- sh",
	.children = at_global_children,
};

int cmd_seccomp(const struct opts *o, struct plan *plan,
		const struct target *tgt)
{
	struct set_args a = o->set;

	if (o->nargs)
		return usage_error("seccomp: %s: unexpected argument (options "
				   "only; PROGRAM goes after --)",
				   o->args[0]);
	a.seccomp = true;
	plan->command = "seccomp";
	return compile_recipe(&a, plan, tgt);
}
