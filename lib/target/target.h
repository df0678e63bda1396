/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* target.h - another process and its routes (lib/target/target.c); api.c checks
 * the arguments of the exported functions and calls these. */
#ifndef AT_TARGET_H
#define AT_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"
#include "report.h"

struct allthreads_target {
	pid_t pid;
	int pidfd; /* -1 without pidfd_open(2) */
	enum allthreads_route route;
	char why[AT_REASON_LEN];
};

int at_target_open(pid_t pid, unsigned flags,
		   struct allthreads_target **target);
void at_target_close(struct allthreads_target *target);
int at_target_probe(struct allthreads_target *target,
		    enum allthreads_route route);
int at_target_run(struct allthreads_target *target, enum allthreads_route route,
		  const struct allthreads_prog *prog, unsigned timeout_ms,
		  unsigned flags, enum allthreads_mismatch policy,
		  struct allthreads_report **report);

int at_target_landlock(struct allthreads_target *target,
		       enum allthreads_route route,
		       unsigned long long handled_access_fs,
		       const struct allthreads_landlock_rule *rules,
		       unsigned nrules, unsigned flags, unsigned timeout_ms,
		       enum allthreads_mismatch policy,
		       struct allthreads_report **report);

/* Shared by target.c and target-landlock.c. */
struct at_ctl_result;

/* The start of every call on TARGET that may take ROUTE: no reason, no
 * route yet, then the route to take.  ALLTHREADS_ROUTE_HELPER with PATH
 * (LEN bytes) the helper's socket; ALLTHREADS_ROUTE_PTRACE when PTRACE was
 * asked for, or AUTO found no helper we may use (none, or a socket where
 * we do not trust it); else -errno with the reason: -ESRCH (the process we
 * opened is gone), or, ROUTE being HELPER, -ENOENT (no helper) or -EPERM
 * (a helper we may not use). */
int at_target_find_route(struct allthreads_target *target,
			 enum allthreads_route route, char *path, size_t len);
/* The helper route is taken with TIMEOUT_MS: 0, or -EINVAL (with the
 * reason) when the helper would refuse that timeout. */
int at_target_helper_begin(struct allthreads_target *target,
			   unsigned timeout_ms);
/* Send request REQ (LEN bytes, malloc'ed: freed here) to the helper at
 * PATH and give its answer as the API does: the return value, *REPORT and
 * the reason. */
int at_target_helper_send(struct allthreads_target *target, const char *path,
			  void *req, long len, unsigned timeout_ms,
			  struct allthreads_report **report);

#endif /* AT_TARGET_H */
