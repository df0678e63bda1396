/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-client.h - the client's side of the helper's control channel.  In the
 * internal static library that liballthreads.so and the tests link
 * (lib/meson.build); never exported: programs reach a helper through
 * allthreads_target_*() (allthreads.h).
 */
#ifndef AT_CTL_CLIENT_H
#define AT_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "allthreads.h"
#include "ctl-trust.h"
#include "report.h"

/* What one call to a helper gave. */
struct at_ctl_result {
	/* The helper read the request: ret/report (or its error) are the
	 * target's answer.  false: the target could not be reached, refused
	 * us, or died or went silent during the request (WHY says which). */
	bool reached;
	/* The request went out WITH its proof, so the helper may have run
	 * it: when no answer came (reached false), the outcome is unknown,
	 * not "nothing changed". */
	bool sent;
	/* What allthreads_run() returned in the target. */
	int ret;
	/* The target's report (caller frees), or NULL. */
	struct allthreads_report *report;
	char why[AT_REASON_LEN];
};

/* Turn PROG into a request in BUF (ctl-request.c; LEN bytes;
 * AT_CTL_MAX_MSG always suffices).  Pointer arguments of the calls that take them (PR_SET_NAME,
 * capset, capget, setgroups, seccomp filters) are read from this process's
 * memory and sent inline.  Returns the request's size or -errno. */
long at_ctl_serialize(const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      void *buf, size_t len);

/*
 * Send request REQ to process PID's helper at PATH and read the reply.
 * Before anything is sent: a pidfd of PID is opened, then PID's
 * /proc/PID/mem (the kernel's PTRACE_MODE_ATTACH check; the descriptor
 * never leaves us); PATH is walked from
 * the target's root one component at a time, no symbolic link followed,
 * every directory and the socket owned by root or one of the target's
 * uids and writable by no one else (-EPERM otherwise); the listener must
 * be PID (SO_PEERCRED, and SO_PEERPIDFD against the pidfd where the
 * kernel has it).  Then the request goes out without its proof; the
 * helper's hello must come from PID itself (SCM_CREDENTIALS, and
 * SCM_PIDFD against the pidfd) - only then is its challenge answered: the
 * secret read through our /proc/PID/mem at the address the hello names,
 * sent, behind the request, only if its digest is the one announced.  The
 * request carries a start-by deadline: the helper drops it once that has
 * passed or we have gone.  Bounded by TIMEOUT_MS (the run's; 0 for the
 * default) plus a margin.  Returns 0 with OUT->reached and OUT->report
 * set, or -errno with OUT->why (and OUT->reached true when the helper
 * refused the request itself, or the kernel refused us the proof;
 * OUT->sent when the proof went out and no answer came).
 */
int at_ctl_call(pid_t pid, const char *path, const void *req, size_t reqlen,
		unsigned timeout_ms, struct at_ctl_result *out);

#endif /* AT_CTL_CLIENT_H */
