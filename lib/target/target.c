// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * target.c - another process, by either route: the helper in it (the
 * control channel, ctl-client.c) or ptrace (ptrace.c); which one, and what
 * their failures mean to the caller (allthreads_target_run(3)).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl-client.h"
#include "ctl-trust.h"
#include "ctl-proto.h"
#include "proctext.h"
#include "ptrace.h"
#include "report.h"
#include "target.h"

static bool is_process(pid_t pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return at_proc_read(path, buf, sizeof(buf)) > 0 &&
	       at_proc_field_long(buf, "Tgid", 0) == pid;
}

int at_target_open(pid_t pid, unsigned flags, struct allthreads_target **out)
{
	struct allthreads_target *t;
	char path[64];
	int fd;

	*out = NULL;
	if (flags || pid <= 0)
		return -EINVAL;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		if (errno == ESRCH || errno == EINVAL || errno == ENOENT)
			return -ESRCH; /* gone, or a thread id */
		if (errno != ENOSYS)
			return errno == EMFILE || errno == ENFILE ? -ENOMEM :
								    -errno;
		/* No pidfds: at least the process must be there now. */
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		if (access(path, F_OK) < 0)
			return -ESRCH;
	}
	/* A thread id is not a process (pidfd_open() may take one). */
	if (!is_process(pid)) {
		if (fd >= 0)
			close(fd);
		return -ESRCH;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	t->pid = pid;
	t->pidfd = fd;
	*out = t;
	return 0;
}

void at_target_close(struct allthreads_target *t)
{
	if (!t)
		return;
	if (t->pidfd >= 0)
		close(t->pidfd);
	free(t);
}

/* Is the process we opened still there (its pid not recycled)? */
static bool is_alive(const struct allthreads_target *t)
{
	if (t->pidfd >= 0)
		return syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) ==
			       0 ||
		       errno != ESRCH;
	return kill(t->pid, 0) == 0 || errno != ESRCH;
}

static int begin(struct allthreads_target *t)
{
	t->why[0] = 0;
	t->route = ALLTHREADS_ROUTE_AUTO;
	if (is_alive(t))
		return 0;
	snprintf(t->why, sizeof(t->why), "no such process");
	return -ESRCH;
}

int at_target_find_route(struct allthreads_target *t,
			 enum allthreads_route route, char *path, size_t len)
{
	int r = begin(t);

	if (r < 0)
		return r;
	if (route == ALLTHREADS_ROUTE_PTRACE)
		return ALLTHREADS_ROUTE_PTRACE;
	r = at_ctl_find_socket(t->pid, path, len, t->why, sizeof(t->why));
	if (r == 0)
		return ALLTHREADS_ROUTE_HELPER;
	if (r == -ESRCH)
		return -ESRCH;
	if (route == ALLTHREADS_ROUTE_AUTO)
		return ALLTHREADS_ROUTE_PTRACE;
	return r == -EACCES || r == -EPERM ? -EPERM : -ENOENT;
}

int at_target_probe(struct allthreads_target *t, enum allthreads_route route)
{
	char path[PATH_MAX];
	int r;

	r = at_target_find_route(t, route, path, sizeof(path));
	if (r == ALLTHREADS_ROUTE_HELPER) {
		t->route = ALLTHREADS_ROUTE_HELPER;
		t->why[0] = 0;
		return ALLTHREADS_ROUTE_HELPER;
	}
	if (r < 0)
		return r;
	r = at_ptrace_probe(t->pid, t->why, sizeof(t->why));
	if (r < 0)
		return r;
	t->route = ALLTHREADS_ROUTE_PTRACE;
	return ALLTHREADS_ROUTE_PTRACE;
}

static int run_helper(struct allthreads_target *t, const char *path,
		      const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      struct allthreads_report **report)
{
	void *req;
	long len;
	int r;

	r = at_target_helper_begin(t, timeout_ms);
	if (r < 0)
		return r;
	req = malloc(AT_CTL_MAX_MSG);
	if (!req)
		return -ENOMEM;
	len = at_ctl_serialize(prog, timeout_ms, flags, policy, req,
			       AT_CTL_MAX_MSG);
	if (len < 0) {
		snprintf(t->why, sizeof(t->why),
			 "cannot encode the request: %s", strerror((int)-len));
		free(req);
		return len == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	return at_target_helper_send(t, path, req, len, timeout_ms, report);
}

int at_target_helper_begin(struct allthreads_target *t, unsigned timeout_ms)
{
	t->route = ALLTHREADS_ROUTE_HELPER;
	if (timeout_ms <= AT_CTL_MAX_TIMEOUT_MS)
		return 0;
	snprintf(t->why, sizeof(t->why),
		 "a timeout over the helper's limit (%u ms)",
		 AT_CTL_MAX_TIMEOUT_MS);
	return -EINVAL;
}

/* What at_ctl_call() gave (R, RES), as the API's return value, *REPORT
 * and reason. */
static int helper_result(struct allthreads_target *t, int r,
			 const struct at_ctl_result *res,
			 struct allthreads_report **report)
{
	snprintf(t->why, sizeof(t->why), "%s", res->why);
	if (r == 0) {
		*report = res->report;
		return res->ret;
	}
	if (res->reached) {
		/* The helper read the request and said no: nothing changed. */
		snprintf(t->why, sizeof(t->why),
			 "the helper refused the request: %.*s", AT_NESTED_LEN,
			 res->why[0] ? res->why : strerror(-r));
		return -EINVAL;
	}
	if (res->sent && kill(t->pid, 0) == 0) {
		/* The request went out with its proof and no answer came:
		 * the helper may have run it, or may still. */
		snprintf(t->why, sizeof(t->why),
			 "%.*s after the request was sent: the outcome is "
			 "unknown",
			 AT_NESTED_LEN, res->why[0] ? res->why : strerror(-r));
		return -EINPROGRESS;
	}
	if (r == -EPIPE) {
		snprintf(t->why, sizeof(t->why),
			 "the process went away mid-way; its threads may "
			 "differ");
		return -ESRCH;
	}
	if (r == -ESRCH || r == -ETIMEDOUT || r == -ENOMEM)
		return r;
	if (r == -EACCES || r == -EPERM)
		return -EPERM;
	return -ENOENT;
}

int at_target_helper_send(struct allthreads_target *t, const char *path,
			  void *req, long len, unsigned timeout_ms,
			  struct allthreads_report **report)
{
	struct at_ctl_result res;
	int r;

	r = at_ctl_call(t->pid, path, req, (size_t)len, timeout_ms, &res);
	free(req);
	return helper_result(t, r, &res, report);
}

/* Did the helper fail only because some threads cannot take its signal
 * (blocked), with nothing changed? */
static bool blocked_only(int r, const struct allthreads_report *rep)
{
	unsigned i;
	bool blocked = false;

	if (r != -ETIMEDOUT || !rep || rep->verdict != ALLTHREADS_FAILED)
		return false;
	for (i = 0; i < rep->nthreads; i++) {
		if (rep->t[i].left)
			return false;
		blocked |= rep->t[i].state == ALLTHREADS_T_BLOCKED;
	}
	return blocked;
}

int at_target_run(struct allthreads_target *t, enum allthreads_route route,
		  const struct allthreads_prog *prog, unsigned timeout_ms,
		  unsigned flags, enum allthreads_mismatch policy,
		  struct allthreads_report **report)
{
	char path[PATH_MAX];
	int r;

	*report = NULL;
	r = at_target_find_route(t, route, path, sizeof(path));
	if (r < 0)
		return r;
	if (r == ALLTHREADS_ROUTE_HELPER) {
		r = run_helper(t, path, prog, timeout_ms, flags, policy,
			       report);
		/* Threads the helper's signal cannot reach (they block
		 * every signal with the raw syscall): the ptrace route
		 * reaches them, if we may use it. */
		if (route != ALLTHREADS_ROUTE_AUTO ||
		    !blocked_only(r, *report) ||
		    at_ptrace_probe(t->pid, NULL, 0) != 0)
			return r;
		at_report_free(*report);
		*report = NULL;
	}
	t->route = ALLTHREADS_ROUTE_PTRACE;
	t->why[0] = 0;
	return at_ptrace_run(t->pid, t->pidfd, prog, timeout_ms, flags, policy,
			     report, t->why, sizeof(t->why));
}
