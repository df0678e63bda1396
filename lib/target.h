/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* target.h - another process and its routes (lib/target.c); api.c checks
 * the arguments of the exported functions and calls these. */
#ifndef AT_TARGET_H
#define AT_TARGET_H

#include <sys/types.h>

#include "allthreads.h"

struct allthreads_target {
	pid_t pid;
	int pidfd; /* -1 without pidfd_open(2) */
	enum allthreads_route route;
	char why[256];
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

#endif /* AT_TARGET_H */
