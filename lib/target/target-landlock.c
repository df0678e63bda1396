// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * target-landlock.c - one Landlock domain on every thread of another
 * process (allthreads_target_landlock(3)).  The ruleset must be built in
 * the target, so that the rules' paths are resolved in its mount
 * namespace and root: the helper does it (AT_CTL_REQ_LANDLOCK, served by
 * ctl-landlock.c), then runs the steps on every thread in one visit; for
 * a process without the helper, the ptrace route builds it there by
 * injected calls (ptrace-landlock.c), then runs the same steps.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl-client.h"
#include "ctl-proto.h"
#include "ptrace.h"
#include "target.h"

_Static_assert(ALLTHREADS_LANDLOCK_MAX_RULES == AT_CTL_LL_MAX_RULES,
	       "the API's rule limit is the wire's");
_Static_assert(ALLTHREADS_LANDLOCK_PROVE == AT_CTL_LL_PROVE,
	       "the API's flag is the wire's");

/* The request for the helper into a new buffer: its length, or -E2BIG
 * (the paths do not fit) or -ENOMEM.  The arguments were checked. */
static long pack(unsigned long long handled,
		 const struct allthreads_landlock_rule *rules, unsigned nrules,
		 unsigned flags, unsigned timeout_ms,
		 enum allthreads_mismatch policy, void **out)
{
	struct at_ctl_landlock_req *req;
	struct at_ctl_landlock_rule *wire;
	size_t data = 0, len, off = 0;
	char *p;
	unsigned i;

	for (i = 0; i < nrules; i++) {
		data += strlen(rules[i].path) + 1;
		if (data > AT_CTL_MAX_DATA)
			return -E2BIG;
	}
	len = sizeof(*req) + nrules * sizeof(*wire) + data;
	req = calloc(1, len);
	if (!req)
		return -ENOMEM;
	req->hdr.magic = AT_CTL_MAGIC;
	req->hdr.version = AT_CTL_VERSION;
	req->hdr.op = AT_CTL_REQ_LANDLOCK;
	req->hdr.len = (uint32_t)len;
	req->handled = handled;
	req->nrules = nrules;
	req->timeout_ms = timeout_ms;
	req->policy = (uint32_t)policy;
	req->ll_flags = flags;
	req->data_len = (uint32_t)data;
	wire = (void *)(req + 1);
	p = (char *)(wire + nrules);
	for (i = 0; i < nrules; i++) {
		size_t l = strlen(rules[i].path) + 1;

		wire[i].access = rules[i].allowed_access;
		wire[i].off = (uint32_t)off;
		wire[i].len = (uint32_t)l;
		memcpy(p + off, rules[i].path, l);
		off += l;
	}
	*out = req;
	return (long)len;
}

static int by_helper(struct allthreads_target *t, const char *path,
		     unsigned long long handled,
		     const struct allthreads_landlock_rule *rules,
		     unsigned nrules, unsigned flags, unsigned timeout_ms,
		     enum allthreads_mismatch policy,
		     struct allthreads_report **report)
{
	void *req;
	long len;
	int r;

	r = at_target_helper_begin(t, timeout_ms);
	if (r < 0)
		return r;
	len = pack(handled, rules, nrules, flags, timeout_ms, policy, &req);
	if (len < 0) {
		snprintf(t->why, sizeof(t->why), "%s",
			 len == -E2BIG ? "the rules' paths are too long "
					 "together" :
					 "out of memory");
		return (int)len;
	}
	return at_target_helper_send(t, path, req, len, timeout_ms, report);
}

int at_target_landlock(struct allthreads_target *t, enum allthreads_route route,
		       unsigned long long handled,
		       const struct allthreads_landlock_rule *rules,
		       unsigned nrules, unsigned flags, unsigned timeout_ms,
		       enum allthreads_mismatch policy,
		       struct allthreads_report **report)
{
	char path[PATH_MAX];
	int r;

	*report = NULL;
	r = at_target_find_route(t, route, path, sizeof(path));
	if (r < 0)
		return r;
	if (r == ALLTHREADS_ROUTE_HELPER)
		return by_helper(t, path, handled, rules, nrules, flags,
				 timeout_ms, policy, report);
	t->route = ALLTHREADS_ROUTE_PTRACE;
	t->why[0] = 0;
	return at_ptrace_landlock(t->pid, t->pidfd, handled, rules, nrules,
				  flags, timeout_ms, policy, report, t->why,
				  sizeof(t->why));
}
