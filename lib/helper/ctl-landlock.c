// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl-landlock.c - AT_CTL_REQ_LANDLOCK in the helper: check the request,
 * open every rule's path here (the target's mount namespace and root),
 * build the ruleset, and put every thread in the domain in one visit.
 * Runs on the receiver thread, which is the run's calling thread: the
 * engine captures every other thread before it restricts itself, so a
 * domain that denies /proc does not hide threads from the sweep.  Where
 * the kernel has LANDLOCK_RESTRICT_SELF_TSYNC (at_ll_use_tsync()), the
 * receiver restricts itself once with it, the kernel putting every other
 * thread in the same domain, and the visit then sets NO_NEW_PRIVS and
 * proves the domain on each thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl-landlock.h"
#include "ctl-proto.h"
#include "rawsys.h"
#include "landlock-steps.h"

static int check(const struct at_ctl_landlock_req *req, size_t len,
		 const char **why)
{
	const struct at_ctl_landlock_rule *rules = (const void *)(req + 1);
	const char *data;
	uint32_t i;

	*why = "bad landlock request";
	/* The head is read only once it is known to be there. */
	if (len < sizeof(*req) || req->hdr.len != len || len > AT_CTL_MAX_MSG ||
	    req->hdr.magic != AT_CTL_MAGIC ||
	    req->hdr.version != AT_CTL_VERSION)
		return -EBADMSG;
	data = (const char *)(rules + req->nrules);
	if (req->nrules > AT_CTL_LL_MAX_RULES ||
	    req->data_len > AT_CTL_MAX_DATA ||
	    len != sizeof(*req) + (size_t)req->nrules * sizeof(*rules) +
			    req->data_len)
		return -EBADMSG;
	if (!req->handled || req->timeout_ms > AT_CTL_MAX_TIMEOUT_MS ||
	    req->policy > ALLTHREADS_MISMATCH_IGNORE ||
	    (req->ll_flags & ~AT_CTL_LL_PROVE))
		return -EINVAL;
	for (i = 0; i < req->nrules; i++) {
		const struct at_ctl_landlock_rule *r = &rules[i];

		if (r->len < 2 || r->off >= req->data_len ||
		    r->len > req->data_len - r->off ||
		    data[r->off + r->len - 1] != '\0' ||
		    strlen(data + r->off) != r->len - 1 ||
		    data[r->off] != '/' || !r->access ||
		    (r->access & ~req->handled)) {
			*why = "bad landlock rule";
			return -EINVAL;
		}
	}
	return 0;
}

/* The ruleset, or -errno with WHYBUF naming the rule. */
static int build(const struct at_ctl_landlock_req *req, char *whybuf,
		 size_t whylen)
{
	const struct at_ctl_landlock_rule *rules = (const void *)(req + 1);
	const char *data = (const char *)(rules + req->nrules);
	struct landlock_ruleset_attr attr = { .handled_access_fs =
						      req->handled };
	uint32_t i;
	int fd, e;

	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		e = -errno;
		snprintf(whybuf, whylen, "landlock_create_ruleset: %s",
			 strerror(-e));
		return e;
	}
	for (i = 0; i < req->nrules; i++) {
		const char *path = data + rules[i].off;
		struct landlock_path_beneath_attr pb = {
			.allowed_access = rules[i].access,
		};

		pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0) {
			e = -errno;
			snprintf(whybuf, whylen, "%.100s: %s (in the target)",
				 path, strerror(-e));
			at_sys1(SYS_close, fd);
			return e;
		}
		if (syscall(SYS_landlock_add_rule, fd,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
			e = -errno;
			snprintf(whybuf, whylen,
				 "%.100s: landlock_add_rule: %s", path,
				 strerror(-e));
			at_sys1(SYS_close, pb.parent_fd);
			at_sys1(SYS_close, fd);
			return e;
		}
		at_sys1(SYS_close, pb.parent_fd);
	}
	return fd;
}

/* TSYNC: the receiver sets NO_NEW_PRIVS (which the kernel then sets on
 * the others too) and puts every thread in the domain of FD.  0, or
 * -errno with WHYBUF saying what holds then. */
static int restrict_tsync(int fd, char *whybuf, size_t whylen)
{
	int e;

	e = (int)at_sys4(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0);
	if (e < 0) {
		snprintf(whybuf, whylen, "PR_SET_NO_NEW_PRIVS: %s",
			 strerror(-e));
		return e;
	}
	if (syscall(SYS_landlock_restrict_self, fd,
		    LANDLOCK_RESTRICT_SELF_TSYNC) < 0) {
		e = -errno;
		snprintf(whybuf, whylen,
			 "landlock_restrict_self(TSYNC): %s; no thread has "
			 "the domain (the helper's own has NO_NEW_PRIVS)",
			 strerror(-e));
		return e;
	}
	return 0;
}

int at_ctl_landlock(const void *msg, size_t len,
		    struct allthreads_report **report, const char **why,
		    char *whybuf, size_t whylen)
{
	static const char root[] = "/";
	const struct at_ctl_landlock_req *req = msg;
	struct allthreads_prog *prog;
	int fd, ret, prove = -1;
	bool tsync;
	unsigned i;

	*report = NULL;
	ret = check(req, len, why);
	if (ret < 0)
		return ret;
	fd = build(req, whybuf, whylen);
	if (fd < 0) {
		*why = whybuf;
		return fd;
	}
	tsync = at_ll_use_tsync(at_ll_abi(), false);
	if (tsync) {
		ret = restrict_tsync(fd, whybuf, whylen);
		if (ret < 0) {
			at_sys1(SYS_close, fd);
			*why = whybuf;
			return ret;
		}
	}
	if (req->ll_flags & AT_CTL_LL_PROVE)
		prove = ALLTHREADS_LANDLOCK_STEP_PROVE;
	prog = at_ll_prog(fd, root, prove >= 0, tsync);
	if (!prog) {
		at_sys1(SYS_close, fd);
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = allthreads_run(prog, req->timeout_ms, 0,
			     (enum allthreads_mismatch)req->policy, report);
	/* A proof that opened "/" (no domain on that thread) must not
	 * leave the descriptor behind in the target.  Only a thread that
	 * ran the proof has a result there: the others' slot reads 0, and
	 * closing that would take the target's stdin. */
	for (i = 0;
	     prove >= 0 && *report && i < allthreads_report_nthreads(*report);
	     i++) {
		long r = allthreads_report_result(*report, i, (unsigned)prove);

		if (allthreads_report_steps_run(*report, i) > (unsigned)prove &&
		    r >= 0)
			at_sys1(SYS_close, (int)r);
	}
	at_prog_free(prog);
	at_sys1(SYS_close, fd);
	if (!*report)
		*why = "the run failed before it started";
	return ret;
}
