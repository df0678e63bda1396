// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stuck.c - threads that do not answer: what each is doing (gone, a
 * zombie, the signal blocked or taken by a signal wait, no answer), when
 * to stop asking, and the diagnosis the report gives.
 *
 * Threads found with the signal blocked and already queued are listed:
 * not sent another while it is still queued (real-time signals queue up,
 * and the queue is counted per user).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broadcast.h"
#include "timespec.h"

#define AT_MAX_STUCK 16
/* Our signal stays queued only while the thread keeps it blocked: the
 * kernel delivers it the moment the thread unblocks it.  Still queued this
 * long after it was first seen so, the thread keeps it blocked (a Go
 * runtime thread, a raw rt_sigprocmask), not for a moment (glibc's
 * pthread_create and thread exit, a sanitizer's interceptor: microseconds
 * to milliseconds): the run stops retrying and names it now rather than at
 * the deadline. */
#define AT_STUCK_GIVEUP_NS 300000000L

static pid_t stuck_tids[AT_MAX_STUCK];
static struct timespec stuck_since[AT_MAX_STUCK]; /* CLOCK_MONOTONIC */
static unsigned nstuck;

static bool is_stuck(pid_t tid)
{
	unsigned i;

	for (i = 0; i < nstuck; i++)
		if (stuck_tids[i] == tid)
			return true;
	return false;
}

bool at_stuck_still_queued(pid_t tid, int sig)
{
	struct at_task_info info;
	unsigned i;

	if (!is_stuck(tid))
		return false;
	if (at_tasks_inspect(tid, sig, &info) == 0 && info.pending)
		return true;
	for (i = 0; i < nstuck; i++)
		if (stuck_tids[i] == tid) {
			stuck_tids[i] = stuck_tids[--nstuck];
			stuck_since[i] = stuck_since[nstuck];
		}
	return false;
}

static void add_stuck(pid_t tid)
{
	if (nstuck >= AT_MAX_STUCK || is_stuck(tid))
		return;
	at_ts_now(&stuck_since[nstuck]);
	stuck_tids[nstuck++] = tid;
}

/* Has TID's signal stayed queued, blocked, for AT_STUCK_GIVEUP_NS? */
static bool stuck_for_long(pid_t tid)
{
	struct timespec t, limit;
	unsigned i;

	for (i = 0; i < nstuck; i++) {
		if (stuck_tids[i] != tid)
			continue;
		at_ts_now(&t);
		limit = stuck_since[i];
		at_ts_add_ns(&limit, AT_STUCK_GIVEUP_NS);
		return !at_ts_before(&t, &limit);
	}
	return false;
}

static bool takes_signal(const struct at_task_info *info)
{
	return strstr(info->wchan, "sigtimedwait") ||
	       strstr(info->wchan, "signalfd") ||
	       strstr(info->wchan, "sigsuspend");
}

/*
 * At the deadline, a thread that waits for signals with ours blocked shows
 * neither SigBlk (the wait unblocks what it waits for) nor a signal wait's
 * wchan while it is between two waits: woken, and under load not yet run
 * again.  Look again, 2 ms apart, before calling it a timeout, while
 * *LOOKS (shared by every thread of one diagnosis, so that a thousand
 * silent threads cost 20 ms, not 20 s) lasts.  True, with INFO updated,
 * when it is seen blocking or waiting.
 */
static bool blocked_on_second_look(pid_t tid, int sig,
				   struct at_task_info *info, unsigned *looks)
{
	struct timespec gap = { 0, 2000000 };

	while (*looks > 0) {
		(*looks)--;
		at_sys2(SYS_nanosleep, &gap, NULL);
		if (at_tasks_inspect(tid, sig, info) < 0)
			return false;
		if (info->blocked || takes_signal(info))
			return true;
	}
	return false;
}

static void describe(char *why, size_t len, const struct at_task_info *info,
		     const char *what)
{
	snprintf(why, len, "%.50s (state %c%s%.24s)", what,
		 info->state ? info->state : '?',
		 info->wchan[0] ? ", wchan " : "", info->wchan);
}

/* A live thread given up on (at the deadline, or blocked since long): the
 * failure it shows (queue full, blocked, timeout), with why filled. */
static int judge_given_up(struct at_sweep *sw, pid_t tid, bool unqueued, int r,
			  struct at_task_info *info, unsigned *looks, char *why,
			  size_t len)
{
	if (!unqueued && r == 0 && !info->blocked && !takes_signal(info) &&
	    info->state != 'Z')
		blocked_on_second_look(tid, sw->sig, info, looks);
	if (unqueued) {
		describe(why, len, info,
			 "signal queue full (RLIMIT_SIGPENDING)");
		return ALLTHREADS_T_QUEUE_FULL;
	}
	if (r == 0 && info->blocked) {
		if (info->pending)
			add_stuck(tid);
		describe(why, len, info, "signal blocked (SigBlk)");
		return ALLTHREADS_T_BLOCKED;
	}
	if (r == 0 && takes_signal(info)) {
		/* In sigtimedwait/signalfd the kernel unblocks the
		 * waited-for set, so SigBlk does not show it; the thread
		 * consumes the signal instead of handling it. */
		describe(why, len, info, "signal taken by a signal wait");
		return ALLTHREADS_T_BLOCKED;
	}
	describe(why, len, info, "no answer before the deadline");
	return ALLTHREADS_T_TIMEOUT;
}

/* Report index K gets a diagnosis: it is inside the part that is read. */
static void note_why(struct at_sweep *sw, uint32_t k)
{
	if (k >= sw->rs->why_end)
		sw->rs->why_end = k + 1;
}

void at_stuck_diagnose(struct at_sweep *sw, bool final, char (*why)[AT_WHY_LEN])
{
	struct at_run *run = sw->run;
	/* Held or captured threads may be what a blocked thread waits for:
	 * better to let them go and try again (see attempt()). */
	bool may_retry = (run->hold || run->capture) && !sw->last;
	unsigned looks = 10; /* blocked_on_second_look() */
	uint32_t k;

	for (k = 1; k < sw->used; k++) {
		struct at_slot *s = &run->slots[sw->rs->order[k]];
		uint64_t w = atomic_load(&s->word);
		pid_t tid = AT_WORD_TID(w);
		uint64_t expect = AT_WORDG(run->gen, tid, AT_PENDING);
		struct at_task_info info;
		int state = -1;
		bool give_up;
		int r;

		if (AT_WORD_PHASE(w) != AT_PENDING)
			continue;
		if (s->unqueued) { /* queue was full: try again */
			if (at_process_signal(tid, getuid()) == 0) {
				s->unqueued = false;
				sw->unsent--;
			}
		}
		/* Cheap checks while waiting; /proc only for the leader (the
		 * one thread that can stay a zombie) and at the deadline. */
		r = (int)at_sys3(SYS_tgkill, sw->pid, tid, 0);
		if (r == 0 && (final || tid == sw->pid || may_retry))
			r = at_tasks_inspect(tid, sw->sig, &info);
		else
			memset(&info, 0, sizeof(info));
		/* Blocked and still queued: a thread that has just taken the
		 * signal shows it blocked too (its handler runs), but no
		 * longer pending. */
		/* Blocked with our signal queued since long: no retry will
		 * reach it; judged now as at the deadline.  Not a waiter: it
		 * blocks everything by design and answers the poke, not the
		 * signal (a signal queued for it once stays queued). */
		give_up = r == 0 && info.blocked && info.pending &&
			  info.state != 'Z' && !at_waiter_is(tid) &&
			  stuck_for_long(tid);
		if (r == 0 && may_retry && !final && !give_up &&
		    info.state != 'Z' &&
		    ((info.blocked && info.pending) || takes_signal(&info))) {
			sw->stuck = true;
			if (info.pending)
				add_stuck(tid);
			return;
		}
		if (r == -ENOENT || r == -ESRCH) {
			state = ALLTHREADS_T_EXITED;
			note_why(sw, k);
			snprintf(why[k], sizeof(why[k]), "exited");
		} else if (r == 0 && (info.state == 'Z' || info.state == 'X')) {
			state = ALLTHREADS_T_ZOMBIE;
			note_why(sw, k);
			snprintf(why[k], sizeof(why[k]), "zombie");
			if (tid == sw->pid)
				at_process_set_leader_zombie();
		} else if (final || give_up) {
			note_why(sw, k);
			state = judge_given_up(sw, tid, s->unqueued, r, &info,
					       &looks, why[k], sizeof(why[k]));
		}
		if (state < 0) {
			/* Not answered yet: ask again, in case the first
			 * signal was consumed (a sigwait that let go), but
			 * never queue a second copy beside one still
			 * pending. */
			if (r == 0 && !s->unqueued &&
			    (at_tasks_inspect(tid, sw->sig, &info) < 0 ||
			     !info.pending))
				at_process_signal(tid, getuid());
			continue;
		}
		if (atomic_compare_exchange_strong(&s->word, &expect,
						   AT_WORDG(run->gen, tid,
							    AT_CANCELLED))) {
			s->state = state;
			atomic_fetch_sub(&run->pending, 1);
		} else {
			why[k][0] = 0; /* it answered after all */
		}
	}
}

void at_stuck_forget(void)
{
	nstuck = 0;
}
