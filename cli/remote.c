// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * remote.c - the CLI's way to a running process: liballthreads' API for
 * another process, nothing else (allthreads_target_open(3)).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"

int at_remote_run_via(pid_t pid, enum allthreads_route route,
		      const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      struct allthreads_report **report,
		      struct at_remote_status *st)
{
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t;
	int r;

	memset(st, 0, sizeof(*st));
	if (report)
		*report = NULL;
	r = allthreads_target_open(pid, 0, &t);
	if (r < 0) {
		snprintf(st->why, sizeof(st->why), "%s",
			 r == -ESRCH ? "no such process" : strerror(-r));
		return r;
	}
	r = allthreads_target_run(t, route, prog, timeout_ms, flags, policy,
				  &rep);
	st->route = allthreads_target_route(t);
	snprintf(st->why, sizeof(st->why), "%s", allthreads_target_why(t));
	st->reached = rep != NULL || r == -EINVAL;
	allthreads_target_close(t);
	if (report)
		*report = rep;
	else
		allthreads_report_free(rep);
	return r;
}

int at_remote_run(pid_t pid, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report,
		  struct at_remote_status *st)
{
	return at_remote_run_via(pid, ALLTHREADS_ROUTE_HELPER, prog, timeout_ms,
				 flags, policy, report, st);
}

int at_remote_probe_via(pid_t pid, enum allthreads_route route, char *why,
			size_t len)
{
	struct allthreads_target *t;
	int r;

	r = allthreads_target_open(pid, 0, &t);
	if (r < 0) {
		snprintf(why, len, "%s",
			 r == -ESRCH ? "no such process" : strerror(-r));
		return r;
	}
	r = allthreads_target_probe(t, route);
	snprintf(why, len, "%s", allthreads_target_why(t));
	allthreads_target_close(t);
	return r;
}

int at_remote_probe(pid_t pid, char *why, size_t len)
{
	int r = at_remote_probe_via(pid, ALLTHREADS_ROUTE_HELPER, why, len);

	return r < 0 ? r : 0;
}
