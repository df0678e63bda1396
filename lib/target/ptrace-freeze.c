// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-freeze.c - the ptrace route's freeze and release: the table of
 * the target's threads, PTRACE_SEIZE every thread (before the freeze:
 * it does not stop them), then PTRACE_INTERRUPT every thread (never
 * PTRACE_ATTACH: no SIGSTOP, job control undisturbed),
 * PTRACE_O_TRACECLONE, /proc/PID/task rescanned until a pass finds
 * nothing new; nothing is changed before all are stopped.  Release:
 * PTRACE_DETACH every stopped thread (inject.c's pt_release()).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "proctext.h"
#include "ptrace-phases.h"

#ifndef AT_ARCH_NONE

/* Passes over /proc/PID/task before threads that keep appearing end the
 * freeze. */
#define AT_PT_MAX_PASSES 64

/* --- the thread table: TID -> index + 1, open addressing ------------------- */

static uint32_t home(const struct pt_ctx *c, pid_t tid)
{
	return ((uint32_t)tid * 2654435761u) & c->hmask;
}

/* Index K into the first free place from TID's home. */
static void insert(struct pt_ctx *c, pid_t tid, unsigned k)
{
	uint32_t i = home(c, tid);

	while (c->hash[i])
		i = (i + 1) & c->hmask;
	c->hash[i] = k + 1;
}

struct pt_thread *pt_lookup(struct pt_ctx *c, pid_t tid)
{
	uint32_t i, n;

	if (!c->hash)
		return NULL;
	i = home(c, tid);
	for (n = 0; n <= c->hmask; n++, i = (i + 1) & c->hmask) {
		uint32_t v = c->hash[i];

		if (!v)
			return NULL;
		if (c->t[v - 1].tid == tid)
			return &c->t[v - 1];
	}
	return NULL;
}

static void rehash(struct pt_ctx *c)
{
	unsigned k;

	memset(c->hash, 0, (c->hmask + 1) * sizeof(*c->hash));
	for (k = 0; k < c->n; k++)
		insert(c, c->t[k].tid, k);
}

struct pt_thread *pt_add_thread(struct pt_ctx *c, pid_t tid, int st)
{
	struct pt_thread *t;

	if (c->n == c->cap) {
		unsigned cap = c->cap ? c->cap * 2 : 64;
		struct pt_thread *nt = realloc(c->t, cap * sizeof(*nt));

		if (!nt)
			return NULL;
		c->t = nt;
		c->cap = cap;
	}
	if ((c->n + 1) * 2 > c->hmask + 1 || !c->hash) {
		uint32_t size = 256;
		uint32_t *h;

		while (size < (c->n + 1) * 4)
			size *= 2;
		h = calloc(size, sizeof(*h));
		if (!h)
			return NULL;
		free(c->hash);
		c->hash = h;
		c->hmask = size - 1;
		rehash(c);
	}
	t = &c->t[c->n];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->st = st;
	t->failed = -1;
	t->sfd = -1;
	t->rstate = ALLTHREADS_T_NOT_RUN;
	insert(c, tid, c->n++);
	return t;
}

void pt_forget_threads(struct pt_ctx *c)
{
	pt_drop_status(c);
	c->n = 0;
	if (c->hash)
		memset(c->hash, 0, (c->hmask + 1) * sizeof(*c->hash));
}

/* --- freezing ----------------------------------------------------------------- */

/* Why SEIZE said EPERM for TID, in the order the kernel checks. */
static int explain_eperm(struct pt_ctx *c, pid_t tid)
{
	char buf[8192], comm[64], state = 0;
	unsigned long flags;
	long v;

	if (pt_task_stat(c->pid, tid, &state, &flags) < 0)
		return -ESRCH;
	if (state == 'Z' || state == 'X')
		return 1; /* a zombie: skip it */
	if (pt_task_status(c->pid, tid, buf, sizeof(buf)) > 0) {
		v = at_proc_field_long(buf, "TracerPid", 0);
		if (v == c->self)
			return 2; /* ours already (a clone we were told of) */
		if (v) {
			pt_comm_of((pid_t)v, comm, sizeof(comm));
			pt_why(c,
			       "thread %d is already being traced by pid %ld "
			       "(%s); detach that tracer first",
			       (int)tid, v, comm);
			return -EBUSY;
		}
	}
	if (pt_yama_scope() == 1) {
		pt_why(c, "blocked by kernel.yama.ptrace_scope=1: only "
			  "descendants may be traced; run with "
			  "CAP_SYS_PTRACE, or have the target call "
			  "prctl(PR_SET_PTRACER)");
		return -EPERM;
	}
	pt_why(c, "permission denied by the kernel (a security module? "
		  "check the audit log)");
	return -EPERM;
}

/* PTRACE_SEIZE alone: T runs on, traced (PT_HELD), until interrupt(). */
static int seize(struct pt_ctx *c, struct pt_thread *t)
{
	int r;

	if (ptrace(PTRACE_SEIZE, t->tid, 0, (void *)c->opts) < 0) {
		if (errno == ESRCH) {
			t->st = PT_GONE;
			return 0;
		}
		if (errno != EPERM)
			return -errno;
		r = explain_eperm(c, t->tid);
		if (r == 1) {
			t->st = PT_ZOMBIE;
			return 0;
		}
		if (r == -ESRCH) {
			t->st = PT_GONE;
			return 0;
		}
		if (r != 2)
			return r;
	}
	t->st = PT_HELD;
	return 0;
}

/* Every thread listed and not seized yet, seized. */
static int seize_new(struct pt_ctx *c)
{
	unsigned k;
	int r;

	for (k = 0; k < c->n; k++)
		if (c->t[k].st == 0) {
			r = seize(c, &c->t[k]);
			if (r < 0)
				return r;
		}
	return 0;
}

int pt_seize_all(struct pt_ctx *c)
{
	return seize_new(c);
}

/* A held thread asked to stop. */
static void interrupt(struct pt_ctx *c, struct pt_thread *t)
{
	t->st = PT_SEIZED;
	pt_restart_peek(c, t);
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 && errno == ESRCH)
		t->st = PT_GONE;
}

/* From T's first stop or exit (R, ST: what pt_look() found), on until
 * it sits in a stop we may work from. */
static int settle(struct pt_ctx *c, struct pt_thread *t, int r, int st)
{
	unsigned long msg;
	pid_t tid;
	int i, sig;

	for (i = 0; i < 256; i++) {
		if (i)
			r = pt_wait(c, t->tid, &st);
		if (r == -ETIMEDOUT)
			return r;
		if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			t->st = PT_GONE;
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		switch (st >> 16) {
		case PTRACE_EVENT_STOP:
			t->group_stop = sig == SIGSTOP || sig == SIGTSTP ||
					sig == SIGTTIN || sig == SIGTTOU;
			t->st = PT_STOPPED;
			return 0;
		case PTRACE_EVENT_CLONE:
			/* Never work at a clone stop: it is inside clone().
			 * The child is ours already and stops by itself. */
			tid = t->tid;
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 &&
			    !pt_lookup(c, (pid_t)msg) &&
			    !pt_add_thread(c, (pid_t)msg, PT_SEIZED))
				return -ENOMEM;
			/* The table may have moved. */
			t = pt_lookup(c, tid);
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		case PTRACE_EVENT_EXEC:
			c->exec_seen = true;
			t->st = PT_STOPPED;
			return -ECANCELED;
		case 0:
			if (sig == (SIGTRAP | 0x80)) {
				ptrace(PTRACE_CONT, t->tid, 0, 0);
				continue;
			}
			/* A signal it took before our stop: deliver it and
			 * stop right after (its handler frame is set up). */
			ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
			ptrace(PTRACE_CONT, t->tid, 0, (void *)(long)sig);
			continue;
		default:
			ptrace(PTRACE_CONT, t->tid, 0, 0);
			continue;
		}
	}
	return -EPROTO;
}

int pt_scan(struct pt_ctx *c)
{
	char path[64];
	struct dirent *de;
	int fresh = 0, r = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)c->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		struct pt_thread *t;
		unsigned long flags = 0;
		char state = 0;

		if (tid <= 0 || pt_lookup(c, tid))
			continue;
		if (pt_task_stat(c->pid, tid, &state, &flags) < 0)
			continue;
		t = pt_add_thread(c, tid, 0);
		if (!t) {
			r = -ENOMEM;
			break;
		}
		if (state == 'Z' || state == 'X') {
			t->st = PT_ZOMBIE;
			continue;
		}
		if (flags & (PF_IO_WORKER | PF_USER_WORKER)) {
			t->st = PT_WORKER;
			snprintf(t->why, sizeof(t->why),
				 "kernel worker (io_uring/vhost): never in "
				 "user space, keeps its own credentials");
			continue;
		}
		fresh++;
	}
	closedir(d);
	return r < 0 ? r : fresh;
}

static void describe_stuck(struct pt_ctx *c, struct pt_thread *t)
{
	char path[64], wchan[64] = "?", state = '?';
	unsigned long flags;

	pt_task_stat(c->pid, t->tid, &state, &flags);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)c->pid,
		 (int)t->tid);
	at_proc_read(path, wchan, sizeof(wchan));
	snprintf(t->why, sizeof(t->why),
		 "did not stop in time (state %c, wchan %s)", state, wchan);
	pt_why(c,
	       "thread %d did not stop in time (state %c, wchan %s); "
	       "nothing was changed",
	       (int)t->tid, state, wchan);
}

/* The freeze's nap between two looks at the threads still to stop: the
 * tracer holds its CPU, so the threads there stop only while it sleeps;
 * long enough for LEFT of them, within 20 us and 1 ms. */
#define AT_PT_STOP_NS 2000
static void freeze_nap(unsigned left)
{
	struct timespec ts = { 0, 20000 };

	if (left > ts.tv_nsec / AT_PT_STOP_NS)
		ts.tv_nsec = left < 1000000 / AT_PT_STOP_NS ?
				     (long)left * AT_PT_STOP_NS :
				     1000000;
	nanosleep(&ts, NULL);
}

/*
 * Every interrupted thread to a stop we may work from: one look at each
 * (a system call) a round, each found settled, and a nap between rounds
 * while some are left; waiting for each in turn cost a nap for every
 * thread of the tracer's CPU that had not stopped yet.
 */
static int settle_all(struct pt_ctx *c)
{
	unsigned k, left;
	int r, st;
	pid_t tid;

	for (;;) {
		left = 0;
		for (k = 0; k < c->n; k++) {
			if (c->t[k].st != PT_SEIZED)
				continue;
			tid = c->t[k].tid;
			do
				r = (int)waitpid(tid, &st, __WALL | WNOHANG);
			while (r < 0 && errno == EINTR);
			if (r == 0 && !at_ts_past(&c->deadline)) {
				left++;
				continue;
			}
			r = r == tid ? 0 : r == 0 ? -ETIMEDOUT : -errno;
			c->stops += r == 0;
			r = settle(c, &c->t[k], r, st);
			if (r == -ETIMEDOUT) {
				c->t[k].rstate = ALLTHREADS_T_TIMEOUT;
				describe_stuck(c, &c->t[k]);
				return r;
			}
			if (r == -ECANCELED) {
				pt_why(c, "the process executed a new program "
					  "meanwhile; nothing was changed");
				return r;
			}
			if (r < 0)
				return r;
		}
		if (!left)
			return 0;
		freeze_nap(left);
	}
}

int pt_freeze(struct pt_ctx *c)
{
	unsigned k, pass;
	int r, fresh;

	for (pass = 0; pass < AT_PT_MAX_PASSES; pass++) {
		unsigned before = c->n;

		fresh = pass ? pt_scan(c) : 1;
		if (fresh < 0)
			return fresh;
		r = seize_new(c);
		if (r < 0)
			return r;
		for (k = 0; k < c->n; k++)
			if (c->t[k].st == PT_HELD)
				interrupt(c, &c->t[k]);
		r = settle_all(c);
		if (r < 0)
			return r;
		if (pass && fresh == 0 && c->n == before)
			return 0;
	}
	pt_why(c, "threads kept appearing; nothing was changed");
	return -ETIMEDOUT;
}

void pt_release_all(struct pt_ctx *c)
{
	unsigned k;

	for (k = 0; k < c->n; k++)
		if (c->t[k].st == PT_STOPPED)
			pt_release(c, &c->t[k]);
}

#endif /* AT_ARCH_NONE */
