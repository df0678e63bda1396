/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli.h - what the parts of the allthreads command share: the options the
 * command line filled in, the exit codes, the target, and the runner.
 */
#ifndef AT_CLI_H
#define AT_CLI_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"
#include "plan.h"
#include "usage.h"

/* Most -p PIDs, and most check --expect. */
#define MAX_PIDS 64
#define MAX_EXPECT 32

/* The change options of `set` (and of the commands that are one of them:
 * setuid, caps, drop...), as written; compiled once the target is known,
 * since setpriv's +/- edits start from the target's current sets. */
struct set_args {
	const char *setuid, *setgid;	   /* setuid(2), setgid(2) */
	const char *resuid[3], *resgid[3]; /* setresuid(2): R E S */
	const char *ruid, *euid, *reuid;   /* setpriv's */
	const char *rgid, *egid, *regid;
	const char *fsuid, *fsgid;
	const char *groups; /* a list of names or numbers */
	bool clear_groups, init_groups, keep_groups;
	const char *inh_caps, *ambient_caps, *bounding_set; /* +/- edits */
	const char *securebits;				    /* +/- or mask */
	const char *keep_caps;				    /* 0|1 */
	const char *caps;				    /* libcap text */
	const char *drop_caps;				    /* CAP,...|all */
	const char *dumpable;				    /* 0|1 */
	bool nnp;
	/* seccomp */
	bool seccomp;
	const char *deny;	    /* SYSCALL,... */
	const char *deny_errno;	    /* errno name or number */
	const char *default_action; /* allow|kill|kill-process|trap|log|errno:E */
	const char *bpf;	    /* a file of struct sock_filter */
};

/* Everything the command line says, filled by argp through
 * state->input. */
struct opts {
	bool json;
	bool verbose;
	bool quiet;
	bool dry_run;
	bool force; /* run a change even when it is predicted to fail */
	unsigned timeout_ms; /* 0: the engine's default */
	enum allthreads_mismatch policy;
	enum allthreads_route via;   /* --via: how to reach another process */
	enum allthreads_judge judge; /* syscall --judge */
	pid_t pids[MAX_PIDS];	     /* -p; none: allthreads itself */
	unsigned npids;
	bool empty_pid;	 /* -p "" (pidof found nothing): no such process */
	pid_t tid;	 /* -t; 0: every thread */
	bool in_command; /* parsing the command's own arguments */
	char **cmd_argv; /* COMMAND and everything after it */
	int cmd_argc;
	char **args; /* the command's arguments, before `--` */
	int nargs;
	char **program;	     /* after `--`, or NULL */
	const char *command; /* the command's name */
	/* tables: show, check, audit, list (listing.h) */
	const char *columns; /* -o */
	bool output_all;
	bool raw;
	bool pairs;
	bool no_headings;
	/* check, audit */
	const char *expect[MAX_EXPECT];
	unsigned nexpect;
	/* audit */
	const char *audit_user, *audit_comm;
	/* landlock: setpriv's --landlock-access and --landlock-rule */
	const char *ll_access[64];
	unsigned nll_access;
	const char *ll_rules[64];
	unsigned nll_rules;
	struct set_args set;
};

/* Where a command acts: a process, or one of its threads. */
struct target {
	pid_t pid; /* the process (allthreads' own pid when self) */
	pid_t tid; /* one thread only (-t), or 0 */
	bool self; /* allthreads itself: changes run through the engine */
	char root_note[160]; /* "names from /proc/PID/root/etc/passwd", or "" */
};

/* show and check: every thread of TGT from /proc into SNAP, or an exit
 * code after saying why not. */
struct snapshot;
int read_target(const struct opts *o, const struct target *tgt,
		struct snapshot *snap);

/* -p's list: numbers separated by commas or blanks (pidof's output). */
int parse_pid_list(const char *s, pid_t *pids, unsigned *n, unsigned max);
/* Say why TGT cannot be reached (-ESRCH, -ENOENT no helper, -EACCES,
 * -EPIPE); returns EXIT_UNREACHABLE. */
int remote_unreachable(const struct target *tgt, int err);

/* Can TARGET be reached at all: exists, readable?  0, or an exit code
 * after saying why. */
int check_reachable(const struct target *tgt);
/* check_reachable(), and a process whose threads can be changed at all
 * (not a kernel thread); an exit code after saying why, or 0. */
int check_changeable(const struct target *tgt);
/* The threads of PID that had signal SIG blocked at each of several looks
 * over some 40 ms: how many, up to MAX in OUT. */
int signal_blockers(pid_t pid, int sig, pid_t *out, unsigned max);

/* The argp pieces every command's parser shares (allthreads.c): the
 * global options, and the parser that keeps COMMAND's arguments intact. */
extern const struct argp at_global_argp;
extern const struct argp_child at_global_children[];
int at_parse_root(int key, char *arg, struct argp_state *state);

/* Commands: each returns an exit code, or -1 when PLAN is ready for
 * carry_out(). */
int cmd_syscall(const struct opts *o, struct plan *plan,
		const struct target *tgt);
int cmd_show(const struct opts *o, struct plan *plan, const struct target *tgt);
int cmd_check(const struct opts *o, struct plan *plan,
	      const struct target *tgt);
int cmd_list(const struct opts *o, struct plan *plan, const struct target *tgt);
/* landlock: a Landlock domain on every thread, then -- PROGRAM. */
int cmd_landlock(const struct opts *o, struct plan *plan,
		 const struct target *tgt);
/* audit: every process of -p (or the host), in one call. */
int cmd_audit(const struct opts *o, struct plan *plan,
	      const struct target *tgt);
/* set, and seccomp: the options in o->set. */
int cmd_recipe(const struct opts *o, struct plan *plan,
	       const struct target *tgt);
int cmd_seccomp(const struct opts *o, struct plan *plan,
		const struct target *tgt);
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
/* Compile ARGS (set's options) into PLAN for TGT. */
int compile_recipe(const struct opts *o, const struct set_args *args,
		   struct plan *plan, const struct target *tgt);

extern const struct argp syscall_argp, show_argp, check_argp, list_argp,
	set_argp, seccomp_argp, setuid_argp, setgid_argp, setresuid_argp,
	setresgid_argp, setgroups_argp, setfsuid_argp, setfsgid_argp, caps_argp,
	drop_argp, ambient_argp, bounding_argp, inheritable_argp, audit_argp,
	landlock_argp;

#endif /* AT_CLI_H */
