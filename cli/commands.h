/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * commands.h - the commands' entry points and parsers, as main()'s command
 * table (allthreads.c) calls them, and the argp pieces main() lends them.
 */
#ifndef AT_CLI_COMMANDS_H
#define AT_CLI_COMMANDS_H

#include <argp.h>

#include "cli.h"
#include "plan.h"
#include "target.h"

/* The argp pieces every command's parser shares (allthreads.c): the
 * global options, and the parser that keeps COMMAND's arguments intact. */
extern const struct argp at_global_argp;
extern const struct argp_child at_global_children[];
int at_parse_root(int key, char *arg, struct argp_state *state);

/* Commands that compile a plan (main's table, allthreads.c): each returns
 * an exit code, or -1 when PLAN is ready for carry_out(). */
int cmd_syscall(const struct opts *o, struct plan *plan,
		const struct target *tgt);
/* set, and seccomp: the options in o->set. */
int cmd_recipe(const struct opts *o, struct plan *plan,
	       const struct target *tgt);
int cmd_seccomp(const struct opts *o, struct plan *plan,
		const struct target *tgt);
/* landlock: a Landlock domain on every thread, then -- PROGRAM. */
int cmd_landlock(const struct opts *o, struct plan *plan,
		 const struct target *tgt);
/* Commands that run themselves on TGT: the exit code.  show, check and
 * list print /proc's tables. */
int cmd_show(const struct opts *o, const struct target *tgt);
int cmd_check(const struct opts *o, const struct target *tgt);
int cmd_list(const struct opts *o, const struct target *tgt);
/* audit: every process of -p (or the host), once. */
int cmd_audit(const struct opts *o);
/* The name of command I (0, 1, ...), NULL past the last: what `list
 * commands` and the completion offer. */
const char *at_command_name(unsigned i);
/* run: exec ARGV (after its own options) with the helper preloaded;
 * returns only on failure. */
int at_cmd_run(const struct opts *o, int argc, char **argv);
/* setuid, caps, drop...: one of set's changes, from positional
 * arguments. */
int cmd_creds(const struct opts *o, struct plan *plan,
	      const struct target *tgt);

extern const struct argp syscall_argp, show_argp, check_argp, list_argp,
	set_argp, seccomp_argp, setuid_argp, setgid_argp, setresuid_argp,
	setresgid_argp, setgroups_argp, setfsuid_argp, setfsgid_argp, caps_argp,
	drop_argp, ambient_argp, bounding_argp, inheritable_argp, audit_argp,
	landlock_argp;

#endif /* AT_CLI_COMMANDS_H */
