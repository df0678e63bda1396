// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * remote.c - the CLI's way to a running process: liballthreads' API for
 * another process, nothing else (allthreads_target_open(3)).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"

/* PID's target opened: 0, or -errno with ST saying why (not reached). */
static int open_target(pid_t pid, struct allthreads_target **t,
		       struct at_remote_status *st)
{
	int r;

	memset(st, 0, sizeof(*st));
	r = allthreads_target_open(pid, 0, t);
	if (r < 0)
		snprintf(st->why, sizeof(st->why), "%s",
			 r == -ESRCH ? "no such process" : strerror(-r));
	return r;
}

/* After a call on T that returned R with REP: ST filled, T closed, REP
 * handed to REPORT (or freed); R. */
static int close_target(struct allthreads_target *t, int r,
			struct allthreads_report *rep,
			struct allthreads_report **report,
			struct at_remote_status *st)
{
	st->opened = true;
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

int at_remote_run_via(pid_t pid, enum allthreads_route route,
		      const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      struct allthreads_report **report,
		      struct at_remote_status *st)
{
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t;
	int r;

	if (report)
		*report = NULL;
	r = open_target(pid, &t, st);
	if (r < 0)
		return r;
	r = allthreads_target_run(t, route, prog, timeout_ms, flags, policy,
				  &rep);
	return close_target(t, r, rep, report, st);
}

int at_remote_landlock_via(pid_t pid, enum allthreads_route route,
			   unsigned long long handled,
			   const struct allthreads_landlock_rule *rules,
			   unsigned nrules, unsigned flags, unsigned timeout_ms,
			   enum allthreads_mismatch policy,
			   struct allthreads_report **report,
			   struct at_remote_status *st)
{
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t;
	int r;

	*report = NULL;
	r = open_target(pid, &t, st);
	if (r < 0)
		return r;
	r = allthreads_target_landlock(t, route, handled, rules, nrules, flags,
				       timeout_ms, policy, &rep);
	return close_target(t, r, rep, report, st);
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
	struct at_remote_status st;
	struct allthreads_target *t;
	int r;

	r = open_target(pid, &t, &st);
	if (r >= 0) {
		r = allthreads_target_probe(t, route);
		snprintf(st.why, sizeof(st.why), "%s",
			 allthreads_target_why(t));
		allthreads_target_close(t);
	}
	snprintf(why, len, "%s", st.why);
	return r;
}

int at_remote_probe(pid_t pid, char *why, size_t len)
{
	int r = at_remote_probe_via(pid, ALLTHREADS_ROUTE_HELPER, why, len);

	return r < 0 ? r : 0;
}
