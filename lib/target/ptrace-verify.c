// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-verify.c - the ptrace route's read-back from /proc while every
 * thread is stopped: what the canary's change shows there must read the
 * same on every other thread; and each thread's seccomp mode looked at
 * again after the freeze.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "proctext.h"
#include "ptrace-phases.h"
#include "report.h"

#ifndef AT_ARCH_NONE

/* A status file with 65536 supplementary groups still fits. */
#define AT_PT_STATUS_MAX (768 * 1024)
/* The first status buffer; it grows fourfold while a file does not fit. */
#define AT_PT_STATUS_FIRST (16 * 1024)

static const char *const vkeys[AT_PT_NVKEYS] = {
	"Uid",	      "Gid",	 "Groups",	    "CapInh",
	"CapPrm",     "CapEff",	 "CapBnd",	    "CapAmb",
	"NoNewPrivs", "Seccomp", "Seccomp_filters",
};

void pt_vfree(struct pt_vstate *s)
{
	unsigned i;

	for (i = 0; i < AT_PT_NVKEYS; i++) {
		free(s->v[i]);
		s->v[i] = NULL;
	}
}

static int open_taskdir(struct pt_ctx *c)
{
	char name[32];

	if (c->taskfd < 0) {
		snprintf(name, sizeof(name), "/proc/%d/task", (int)c->pid);
		c->taskfd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return c->taskfd;
}

void pt_keep_status(struct pt_ctx *c, struct pt_thread *t)
{
	char name[32];

	if (!c->sfd_left || t->sfd >= 0 || open_taskdir(c) < 0)
		return;
	snprintf(name, sizeof(name), "%d/status", (int)t->tid);
	t->sfd = openat(c->taskfd, name, O_RDONLY | O_CLOEXEC);
	if (t->sfd >= 0)
		c->sfd_left--;
}

void pt_drop_status(struct pt_ctx *c)
{
	unsigned k;

	for (k = 0; k < c->n; k++)
		if (c->t[k].sfd >= 0) {
			close(c->t[k].sfd);
			c->t[k].sfd = -1;
			c->sfd_left++;
		}
}

/* One read of FD at its start into c->sbuf (LEN bytes): a seq_file read
 * from offset 0 makes its record anew. */
static int read_whole(struct pt_ctx *c, int fd, size_t len)
{
	ssize_t n;

	do
		n = pread(fd, c->sbuf, len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	c->sbuf[n] = 0;
	return (int)n;
}

/*
 * TID's status file into c->sbuf (LEN bytes), as at_proc_read() reads it
 * but cheaper, since every thread's is read while all are stopped: with
 * the file preflight kept open (pt_keep_status()), else opened from
 * /proc/PID/task (kept open); read once when that read leaves room, as a
 * seq_file gives a whole record at once.  A kept file that no longer
 * reads (its thread gone, the number reused since) gives way to the path.
 */
static int status_once(struct pt_ctx *c, pid_t tid, size_t len)
{
	struct pt_thread *t = pt_lookup(c, tid);
	char name[32];
	int fd, r;

	if (t && t->sfd >= 0) {
		r = read_whole(c, t->sfd, len);
		if (r >= 0)
			return r;
		close(t->sfd);
		t->sfd = -1;
		c->sfd_left++;
	}
	if (open_taskdir(c) < 0)
		return pt_task_status(c->pid, tid, c->sbuf, len);
	snprintf(name, sizeof(name), "%d/status", (int)tid);
	fd = openat(c->taskfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_whole(c, fd, len);
	close(fd);
	return r < 0 ? -EIO : r;
}

int pt_read_status(struct pt_ctx *c, pid_t tid)
{
	int r;

	for (;;) {
		if (!c->sbuf) {
			c->sbuf_len = c->sbuf_len ? c->sbuf_len * 4 :
						    AT_PT_STATUS_FIRST;
			c->sbuf = malloc(c->sbuf_len);
			if (!c->sbuf)
				return -ENOMEM;
		}
		r = status_once(c, tid, c->sbuf_len);
		if (r < 0 || (size_t)r + 1 < c->sbuf_len ||
		    c->sbuf_len >= AT_PT_STATUS_MAX)
			return r;
		free(c->sbuf); /* a long Groups line: read it whole */
		c->sbuf = NULL;
	}
}

/* KEY's (KLEN bytes) index in vkeys, or -1. */
static int vkey(const char *key, size_t klen)
{
	unsigned i;

	for (i = 0; i < AT_PT_NVKEYS; i++)
		if (key[0] == vkeys[i][0] && !strncmp(key, vkeys[i], klen) &&
		    !vkeys[i][klen])
			return (int)i;
	return -1;
}

int pt_vread(struct pt_ctx *c, pid_t tid, struct pt_vstate *s)
{
	const char *k, *v;
	size_t pos = 0, klen, vlen;
	int r = pt_read_status(c, tid), i;

	if (r < 0)
		return r;
	/* One pass; the first line of a key counts, as at_proc_field(). */
	while (at_proc_next(c->sbuf, &pos, &k, &klen, &v, &vlen))
		if ((i = vkey(k, klen)) >= 0 && !s->v[i])
			s->v[i] = strndup(v, vlen);
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool pt_vchanged(const struct pt_vstate *before, const struct pt_vstate *after,
		 bool *changed)
{
	bool any = false;
	unsigned i;

	for (i = 0; i < AT_PT_NVKEYS; i++) {
		changed[i] = !same(before->v[i], after->v[i]);
		any |= changed[i];
	}
	return any;
}

/* A thread that is not in /proc any more (killed meanwhile). */
static bool vanished(struct pt_ctx *c, struct pt_thread *t)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)c->pid,
		 (int)t->tid);
	return access(path, F_OK) < 0;
}

/* T reads V (VLEN bytes; NULL: no such line) for changed key I, where
 * the canary reads something else: its why. */
static void differs(struct pt_thread *t, unsigned i, const char *v, size_t vlen,
		    const struct pt_vstate *after)
{
	char msg[2 * AT_WHY_LEN];

	snprintf(msg, sizeof(msg), "/proc shows %s: %.*s (the canary: %.30s)",
		 vkeys[i], v ? (int)(vlen < 40 ? vlen : 40) : 1, v ? v : "-",
		 after->v[i] ? after->v[i] : "-");
	snprintf(t->why, sizeof(t->why), "%.*s", AT_WHY_LEN - 1, msg);
}

/* Does T's status (c->sbuf) read as AFTER for every CHANGED key?  One
 * pass, nothing copied (every thread's is read while all are stopped). */
static bool agrees(struct pt_ctx *c, struct pt_thread *t, const bool *changed,
		   const struct pt_vstate *after)
{
	bool seen[AT_PT_NVKEYS] = { false };
	const char *k, *v;
	size_t pos = 0, klen, vlen;
	unsigned j;
	int i;

	while (at_proc_next(c->sbuf, &pos, &k, &klen, &v, &vlen)) {
		i = vkey(k, klen);
		if (i < 0 || seen[i] || !changed[i])
			continue;
		seen[i] = true;
		if (!after->v[i] || strlen(after->v[i]) != vlen ||
		    memcmp(after->v[i], v, vlen)) {
			differs(t, (unsigned)i, v, vlen, after);
			return false;
		}
	}
	for (j = 0; j < AT_PT_NVKEYS; j++)
		if (changed[j] && !seen[j] && after->v[j]) {
			differs(t, j, NULL, 0, after);
			return false;
		}
	return true;
}

bool pt_verify_one(struct pt_ctx *c, struct pt_thread *t, const bool *changed,
		   const struct pt_vstate *after)
{
	if (t->rstate != ALLTHREADS_T_OK || t->verified)
		return false;
	t->verified = true;
	if (pt_read_status(c, t->tid) < 0) {
		if (vanished(c, t))
			t->st = PT_GONE;
		return false;
	}
	if (agrees(c, t, changed, after))
		return false;
	t->rstate = ALLTHREADS_T_FAILED;
	return true;
}

bool pt_verify(struct pt_ctx *c, const struct pt_thread *can,
	       const bool *changed, const struct pt_vstate *after)
{
	bool problem = false;
	unsigned k;

	for (k = 0; k < c->n; k++)
		if (&c->t[k] != can)
			problem |= pt_verify_one(c, &c->t[k], changed, after);
	return problem;
}

/*
 * Preflight looked at each thread's seccomp mode before the freeze; a
 * thread may have installed a filter between that look and its stop.
 * Look again now that no thread can run, before anything is injected:
 * the same refusal, with nothing changed.  Filters suspended for our
 * calls (PTRACE_O_SUSPEND_SECCOMP) need no second look.
 */
int pt_recheck_seccomp(struct pt_ctx *c)
{
	char dummy[8];
	char *why = c->why && c->whylen ? c->why : dummy;
	size_t whylen = c->why && c->whylen ? c->whylen : sizeof(dummy);
	unsigned k;
	int r;

	if (c->opts & PTRACE_O_SUSPEND_SECCOMP)
		return 0;
	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];

		if (t->st != PT_STOPPED)
			continue;
		r = pt_read_status(c, t->tid);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue; /* gone: found so later */
		r = pt_seccomp_refusal(
			t->tid, at_proc_field_long(c->sbuf, "Seccomp", 0),
			false, why, whylen);
		if (r)
			return r;
	}
	return 0;
}

#endif /* AT_ARCH_NONE */
