/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli.h - what the parts of the allthreads command share: the options the
 * command line filled in (struct opts, with set's in struct set_args).
 */
#ifndef AT_CLI_H
#define AT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"

/* Most -p PIDs, and most check --expect. */
#define MAX_PIDS 4096
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
	const char *cgroup; /* --cgroup PATH, as written */
	const char *unit;   /* --unit NAME, as written */
	char *group_dir;    /* their cgroup v2 directory, or NULL */
	bool empty_pid;	    /* -p "" (pidof found nothing): no such process */
	pid_t tid;	    /* -t; 0: every thread */
	bool in_command;    /* parsing the command's own arguments */
	char **cmd_argv;    /* COMMAND and everything after it */
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
	/* audit --format (table, json, prometheus), --textfile, --per-process */
	const char *audit_format, *audit_textfile;
	unsigned audit_per_process;
	/* landlock: setpriv's --landlock-access and --landlock-rule */
	const char *ll_access[64];
	unsigned nll_access;
	const char *ll_rules[64];
	unsigned nll_rules;
	struct set_args set;
};

#endif /* AT_CLI_H */
