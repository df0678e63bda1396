// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * remote.c - the CLI's route to a running process through its helper: find
 * the socket, serialise the program, call, hand back the target's report.
 * The channel itself is lib/ctl-client.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-client.h"
#include "ctl-proto.h"
#include "remote.h"

int at_remote_probe(pid_t pid, char *why, size_t len)
{
	char path[PATH_MAX];

	return at_ctl_find_socket(pid, path, sizeof(path), why, len);
}

int at_remote_run(pid_t pid, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report,
		  struct at_remote_status *st)
{
	struct at_ctl_result res;
	char path[PATH_MAX];
	void *req;
	long len;
	int r;

	memset(st, 0, sizeof(*st));
	if (report)
		*report = NULL;
	r = at_ctl_find_socket(pid, path, sizeof(path), st->why,
			       sizeof(st->why));
	if (r < 0)
		return r;
	req = malloc(AT_CTL_MAX_MSG);
	if (!req) {
		snprintf(st->why, sizeof(st->why), "out of memory");
		return -ENOMEM;
	}
	len = at_ctl_serialize(prog, timeout_ms, flags, policy, req,
			       AT_CTL_MAX_MSG);
	if (len < 0) {
		r = (int)len;
		st->reached = true; /* nothing was sent: nothing changed */
		snprintf(st->why, sizeof(st->why),
			 "cannot encode the request: %s", strerror(-r));
		goto out_req;
	}
	r = at_ctl_call(pid, path, req, (size_t)len, timeout_ms, &res);
	st->reached = res.reached;
	st->sent = res.sent;
	snprintf(st->why, sizeof(st->why), "%s", res.why);
	if (r < 0)
		goto out_req;
	r = res.ret;
	if (report)
		*report = res.report;
	else
		allthreads_report_free(res.report);
out_req:
	free(req);
	return r;
}
