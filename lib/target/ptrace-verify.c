// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-verify.c - the ptrace route's read-back from /proc while every
 * thread is stopped: what the canary's change shows there must read the
 * same on every other thread; and each thread's seccomp mode looked at
 * again after the freeze.
 */
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
		r = pt_task_status(c->pid, tid, c->sbuf, c->sbuf_len);
		if (r < 0 || (size_t)r + 1 < c->sbuf_len ||
		    c->sbuf_len >= AT_PT_STATUS_MAX)
			return r;
		free(c->sbuf); /* a long Groups line: read it whole */
		c->sbuf = NULL;
	}
}

int pt_vread(struct pt_ctx *c, pid_t tid, struct pt_vstate *s)
{
	unsigned i;
	int r = pt_read_status(c, tid);

	if (r == -ENOMEM)
		return r;
	for (i = 0; r >= 0 && i < AT_PT_NVKEYS; i++) {
		const char *p = at_proc_field(c->sbuf, vkeys[i]);

		s->v[i] = p ? strndup(p, strcspn(p, "\n")) : NULL;
	}
	return r < 0 ? r : 0;
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

/* T reads something else than the canary for a changed key: its why. */
static bool differs(struct pt_thread *t, const bool *changed,
		    const struct pt_vstate *vs, const struct pt_vstate *after)
{
	char msg[2 * AT_WHY_LEN];
	unsigned i;

	for (i = 0; i < AT_PT_NVKEYS; i++) {
		if (!changed[i] || same(vs->v[i], after->v[i]))
			continue;
		snprintf(msg, sizeof(msg),
			 "/proc shows %s: %.40s (the canary: %.30s)", vkeys[i],
			 vs->v[i] ? vs->v[i] : "-",
			 after->v[i] ? after->v[i] : "-");
		snprintf(t->why, sizeof(t->why), "%.*s", AT_WHY_LEN - 1, msg);
		return true;
	}
	return false;
}

bool pt_verify_one(struct pt_ctx *c, struct pt_thread *t, const bool *changed,
		   const struct pt_vstate *after)
{
	struct pt_vstate vs = { 0 };
	bool problem = false;

	if (t->rstate != ALLTHREADS_T_OK || t->verified)
		return false;
	t->verified = true;
	if (pt_vread(c, t->tid, &vs) < 0) {
		if (vanished(c, t))
			t->st = PT_GONE;
	} else if (differs(t, changed, &vs, after)) {
		t->rstate = ALLTHREADS_T_FAILED;
		problem = true;
	}
	pt_vfree(&vs);
	return problem;
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
