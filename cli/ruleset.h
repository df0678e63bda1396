/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ruleset.h - the Landlock ruleset `allthreads landlock` asks for with
 * setpriv's --landlock-access and --landlock-rule: parsed, checked against
 * the kernel's Landlock ABI, and built (ruleset.c).
 */
#ifndef AT_CLI_RULESET_H
#define AT_CLI_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allthreads.h"
#include "cli.h"
#include "target.h"

struct at_remote_status;

/* A flag newer than the installed <linux/landlock.h> (Debian 12's is
 * Landlock ABI 2); the value is the kernel's UAPI. */
#ifndef LANDLOCK_RESTRICT_SELF_TSYNC
#define LANDLOCK_RESTRICT_SELF_TSYNC (1U << 3) /* ABI 8, Linux 7.0 */
#endif
/* The first ABI with LANDLOCK_RESTRICT_SELF_TSYNC. */
#define ABI_TSYNC 8

/* Most rules one command line takes. */
#define MAX_RULES 64

struct rule {
	const char *text;
	const char *path;
	uint64_t access;
};

/* Everything the command line asks for, checked against the kernel. */
struct request {
	int abi;
	uint64_t handled;
	struct rule rules[MAX_RULES];
	unsigned nrules;
	bool tsync;
	/* The per-thread proof: a directory whose listing the domain
	 * denies ("/" when read-dir is handled and no rule allows it). */
	bool can_prove;
};

/* The kernel's Landlock ABI version, or an exit code after saying why
 * there is none (as a negative number). */
int ruleset_abi(void);
/* O's --landlock-access and --landlock-rule for TGT into RQ (RQ->abi
 * set): 0, or an exit code after saying why. */
int ruleset_parse(const struct opts *o, const struct target *tgt,
		  struct request *rq);
/* RQ's ruleset built here (its paths opened in our mount namespace): its
 * fd, or an exit code (negative) after saying why. */
int ruleset_build(const struct request *rq);
/* With TSYNC (RQ->tsync): NO_NEW_PRIVS on the calling thread, then its
 * landlock_restrict_self(FD, LANDLOCK_RESTRICT_SELF_TSYNC), the kernel
 * putting every thread of allthreads in the domain.  0, or an exit code
 * after saying why. */
int ruleset_tsync(int fd);
/* RQ on every thread of PID by route VIA: allthreads_target_landlock(3)
 * builds the ruleset there, and returns and fills *REPORT and ST as
 * at_remote_run_via() does. */
int ruleset_remote(const struct request *rq, pid_t pid,
		   enum allthreads_route via, unsigned timeout_ms,
		   enum allthreads_mismatch policy,
		   struct allthreads_report **report,
		   struct at_remote_status *st);
/* MASK's rights by name, "read-file,read-dir", into BUF. */
void ruleset_rights_text(uint64_t mask, char *buf, size_t size);

#endif /* AT_CLI_RULESET_H */
