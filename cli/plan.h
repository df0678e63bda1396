/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan.h - what a command compiles to before anything runs: the steps of
 * one visit per thread, how to show their results, and how to verify the
 * change afterwards.  --dry-run prints a plan; the runner runs it.
 */
#ifndef AT_CLI_PLAN_H
#define AT_CLI_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "allthreads.h"
#include "expect.h"
#include "names.h"

/* As many as the engine takes: a `set` recipe drops up to 64 bounding
 * capabilities and more. */
#define PLAN_MAX_STEPS ALLTHREADS_MAX_STEPS
/* Most /proc checks and notes one plan carries. */
#define PLAN_MAX_EXPECT 16
#define PLAN_MAX_NOTES 16

enum step_role {
	ROLE_READ,   /* a read: its result is the value shown */
	ROLE_OLD,    /* read before the change, for -v old -> new */
	ROLE_CHANGE, /* the change itself */
	ROLE_CHECK,  /* read after the change, in the same visit */
	ROLE_CALL,   /* `syscall`: a change whose result is shown */
};

/* How the results of a role's steps are shown. */
enum value_format {
	FMT_NUMBER,  /* the first result, in decimal */
	FMT_HEX,     /* the first result, in hexadecimal */
	FMT_SECBITS, /* a securebits mask with names */
	FMT_CAPSET,  /* one 0/1 result per capability, from 0 */
	FMT_SPEC,    /* speculation control, one result per feature */
	FMT_COMM,    /* the thread name, read from /proc (no steps) */
	FMT_DOMAIN,  /* landlock: restricted, and how the CHECK proved it */
};

struct step {
	long nr;
	unsigned nargs;
	long args[ALLTHREADS_MAX_ARGS];
	enum allthreads_judge judge;
	enum step_role role;
	bool has_undo;
	long save_nr;
	long save_args[ALLTHREADS_MAX_ARGS];
	long undo_nr;
	long undo_args[ALLTHREADS_MAX_ARGS];
	char call[96];	/* as printed, e.g. "prctl(PR_SET_KEEPCAPS, 1)" */
	char undo[128]; /* the undo as printed, or "" */
};

struct request;

struct plan {
	const char *command;	       /* "prctl", "syscall" */
	char what[64];		       /* "KEEP_CAPS", "getpid" */
	bool change;		       /* changes state (else a read) */
	bool call;		       /* `syscall`: show results like a read */
	const struct prctl_desc *desc; /* prctl only */
	enum value_format format;
	long first_feature; /* FMT_SPEC: the feature of the first read */
	unsigned nsteps;
	struct step steps[PLAN_MAX_STEPS];

	/* Verification after a change. */
	bool has_expect; /* ROLE_CHECK steps must read `expect` */
	long expect;
	unsigned nexpect;
	struct expectation expects[PLAN_MAX_EXPECT]; /* what /proc must show */
	const char *comm; /* FMT_COMM change: the name to read back */

	/* A credential change (set and the commands built on it): -v shows
	 * each thread's /proc status before -> after, -J its attributes. */
	bool status_diff;
	/* A change of the credentials (set, landlock): an io_uring ring's
	 * registered personalities keep the old ones, so the change is
	 * refused on a process that has them, or partial with --force. */
	bool creds;
	/* landlock: the ruleset (ruleset.h), owned by the plan.  It is built
	 * when the plan runs: here, the step on SYS_landlock_restrict_self
	 * taking its fd; in another process by allthreads_target_landlock(3),
	 * whose steps are the plan's. */
	struct request *landlock;
	/* Said when PROGRAM cannot be executed (EACCES), or NULL. */
	const char *exec_hint;
	/* A read answered from /proc/PID/task/TID/status (another process,
	 * no helper needed): the field, and how to show it. */
	const char *proc_read;

	/* Memory the steps point to: every thread of allthreads shares it
	 * (setgroups' list, capset's header and data, seccomp's program). */
	unsigned *groups;
	unsigned ngroups;
	long capset_mem[8];
	void *seccomp_prog;   /* struct sock_fprog, installed after the
				 * steps with TSYNC from the calling thread */
	void *seccomp_filter; /* its instructions */
	unsigned seccomp_len;

	/* Said on stderr (unless -q) and in the JSON "notes". */
	unsigned nnotes;
	char notes[PLAN_MAX_NOTES][192];
	/* -n: why the change would fail on the target, or "". */
	char predict[320];
};

/* Add a /proc check: the attribute KEY (its /proc status name, "CapBnd")
 * must stand to VALUE (a number, a capability set, or for the BIT ways
 * a capability) as HOW says; Uid/Gid's ids and Groups' list are the
 * caller's to fill.  NULL when the plan has no room. */
struct expectation *plan_expect(struct plan *plan, const char *key,
				enum expect_how how, unsigned long long value);
void plan_note(struct plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Free what the plan owns (not the plan). */
void plan_release(struct plan *plan);

/* Append a step; NULL when the plan is full. */
struct step *plan_add(struct plan *plan, enum step_role role, long nr,
		      unsigned nargs, const long *args,
		      enum allthreads_judge judge);

/* A step role's and a judge's names, as -n and JSON print them. */
const char *plan_role_name(enum step_role role);
const char *plan_judge_name(enum allthreads_judge judge);

/* Compile `prctl NAME [VALUE [ARG...]]` into PLAN.  On a usage error,
 * returns -EINVAL with a message `what: why` in ERR. */
int plan_prctl(struct plan *plan, char **argv, int argc, char *err,
	       size_t errsize);

#endif /* AT_CLI_PLAN_H */
