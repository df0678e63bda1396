// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * broadcast.c - the initiator: run the steps here first, then sweep
 * /proc/self/task, signal every other thread, wait with a deadline, judge,
 * release (or undo), report.
 *
 * Between the first tgkill and the last release nothing is allocated: the
 * slot table, the result arrays and the sweep buffer are reserved before.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report.h"
#include "run.h"
#include "sysret.h"
#include "timespec.h"

#define AT_MAX_WAITERS 8
#define AT_MAX_SWEEPS 100000
#define AT_SWEEP_BUF 32768
#define AT_SLICE_NS 5000000L

static _Atomic int lock_word; /* 0 free, 1 taken, 2 taken and contended */
static pid_t at_pid;
static int at_sig;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int leader_zombie;
static struct at_waiter *_Atomic waiters[AT_MAX_WAITERS];
static __thread struct at_waiter *my_waiter;

/* The slot table and what goes with it; only grows.  An outgrown table stays
 * mapped: a late signal may still be looking at it. */
static struct at_slot *table;
static uint32_t table_cap;
static uint32_t *order; /* slot position by report index */
static pid_t *known;	/* the threads the last run saw (table_cap) */
/* Threads found with the signal blocked and already queued: not sent
 * another while it is still queued (real-time signals queue up, and the
 * queue is counted per user). */
#define AT_MAX_STUCK 16
static pid_t stuck_tids[AT_MAX_STUCK];
static unsigned nstuck;
/* When each was first seen so (CLOCK_MONOTONIC).  Our signal stays queued
 * only while the thread keeps it blocked: the kernel delivers it the
 * moment the thread unblocks it.  Still queued this long after, the
 * thread keeps it blocked (a Go runtime thread, a raw rt_sigprocmask),
 * not for a moment (glibc's pthread_create and thread exit, a sanitizer's
 * interceptor: microseconds to milliseconds): the run stops retrying and
 * names it now rather than at the deadline. */
static struct timespec stuck_since[AT_MAX_STUCK];
#define AT_STUCK_GIVEUP_NS 300000000L
static uint32_t nknown;
static char *sweep_buf;
/* /proc/self/task, kept open between runs (see task_dir()). */
static int task_fd = -1;
static dev_t task_dev;
static ino_t task_ino;

static void lock_for_fork(void);
static void unlock_for_fork(void);
static void reset_in_child(void);

static void init_once(void)
{
	at_sig = SIGRTMAX - 1;
	at_pid = getpid();
	atomic_store(&at_sigctx_pid, at_pid);
	pthread_atfork(lock_for_fork, unlock_for_fork, reset_in_child);
}

/* Record the pid at load, not at first use: a first call could come from
 * a vfork(2) child. */
__attribute__((constructor)) static void at_engine_load(void)
{
	pthread_once(&once, init_once);
}

int at_engine_signal(void)
{
	pthread_once(&once, init_once);
	return at_sig;
}

/* --- waiters ------------------------------------------------------------ */

int at_waiter_register(struct at_waiter *w)
{
	int i;

	pthread_once(&once, init_once);
	w->tid = (pid_t)at_sys0(SYS_gettid);
	atomic_store(&w->state, AT_WAITER_IDLE);
	for (i = 0; i < AT_MAX_WAITERS; i++) {
		struct at_waiter *none = NULL;

		if (atomic_compare_exchange_strong(&waiters[i], &none, w)) {
			my_waiter = w;
			return 0;
		}
	}
	return -ENOSPC;
}

void at_waiter_unregister(struct at_waiter *w)
{
	int i;

	for (i = 0; i < AT_MAX_WAITERS; i++) {
		struct at_waiter *cur = w;

		atomic_compare_exchange_strong(&waiters[i], &cur, NULL);
	}
	if (my_waiter == w)
		my_waiter = NULL;
}

void at_waiter_fixup(struct at_waiter *w)
{
	uint64_t drain;

	/* Clear first: a poke that comes after this is seen next time. */
	atomic_store(&w->state, AT_WAITER_IDLE);
	if (w->wake_fd >= 0)
		at_sys3(SYS_read, w->wake_fd, &drain, sizeof(drain));
	at_sigctx_serve(atomic_load(&at_run_cur), w->tid);
}

bool at_waiter_begin_wait(struct at_waiter *w)
{
	int expect = AT_WAITER_IDLE;

	return atomic_compare_exchange_strong(&w->state, &expect,
					      AT_WAITER_RECEIVING);
}

void at_waiter_end_wait(struct at_waiter *w)
{
	int expect = AT_WAITER_RECEIVING;

	if (!atomic_compare_exchange_strong(&w->state, &expect, AT_WAITER_IDLE))
		at_waiter_fixup(w);
}

static struct at_waiter *find_waiter(pid_t tid)
{
	int i;

	for (i = 0; i < AT_MAX_WAITERS; i++) {
		struct at_waiter *w = atomic_load(&waiters[i]);

		if (w && w->tid == tid)
			return w;
	}
	return NULL;
}

/* If TID is a waiter, mark its fixup and wake it instead of signalling. */
static bool poke_waiter(pid_t tid)
{
	struct at_waiter *w = find_waiter(tid);
	uint64_t one = 1;
	int cur;

	if (!w)
		return false;
	cur = atomic_load(&w->state);
	while (cur != AT_WAITER_FIXUP &&
	       !atomic_compare_exchange_weak(&w->state, &cur, AT_WAITER_FIXUP))
		;
	if (w->wake_fd >= 0)
		at_sys3(SYS_write, w->wake_fd, &one, sizeof(one));
	at_futex_wake(&lock_word, INT_MAX);
	return true;
}

/* --- the engine lock ------------------------------------------------------ */

static int lock_engine(const struct timespec *deadline)
{
	int n;

	for (n = 0; n < 1000000; n++) {
		int c = 0;

		if (atomic_compare_exchange_strong(&lock_word, &c, 1))
			return 0;
		if (c == 1 &&
		    !atomic_compare_exchange_strong(&lock_word, &c, 2))
			continue;
		if (my_waiter &&
		    atomic_load(&my_waiter->state) == AT_WAITER_FIXUP)
			at_waiter_fixup(my_waiter);
		if (at_futex_wait(&lock_word, 2, deadline) == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
	return -ETIMEDOUT;
}

static void unlock_engine(void)
{
	if (atomic_exchange(&lock_word, 0) == 2)
		at_futex_wake(&lock_word, 1);
}

/* fork waits for a running broadcast; the child starts afresh.  fork()
 * is async-signal-safe: from a handler that interrupted this thread's own
 * run, it must not wait for the lock that run holds (it would wait the
 * whole hour): then the lock is taken only if it is free, and fork goes
 * on either way (the child resets it). */
static __thread bool fork_locked;

static void lock_for_fork(void)
{
	struct timespec far;
	int free_word = 0;

	if (at_in_broadcast) {
		fork_locked = atomic_compare_exchange_strong(&lock_word,
							     &free_word, 1);
		return;
	}
	at_ts_now(&far);
	far.tv_sec += 3600;
	fork_locked = lock_engine(&far) == 0;
}

static void unlock_for_fork(void)
{
	if (fork_locked)
		unlock_engine();
	fork_locked = false;
}

static void reset_in_child(void)
{
	int i;

	atomic_store(&lock_word, 0);
	at_pid = getpid();
	atomic_store(&at_sigctx_pid, at_pid);
	atomic_store(&leader_zombie, 0);
	for (i = 0; i < AT_MAX_WAITERS; i++)
		atomic_store(&waiters[i], NULL);
	my_waiter = NULL;
	nknown = 0; /* the parent's threads */
	nstuck = 0;
	/* The inherited descriptor names the parent's threads. */
	if (task_fd >= 0)
		close(task_fd);
	task_fd = -1;
}

/* --- the handler ------------------------------------------------------------ */

static int install_handler(void)
{
	struct sigaction cur, sa;

	if (sigaction(at_sig, NULL, &cur) < 0)
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == at_sigctx_handler)
		return 0;
	at_sigctx_prev = cur;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = at_sigctx_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(at_sig, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int at_engine_install(void)
{
	struct timespec far;
	int ret;

	pthread_once(&once, init_once);
	at_ts_now(&far);
	far.tv_sec += 10;
	ret = lock_engine(&far);
	if (ret < 0)
		return ret;
	ret = install_handler();
	unlock_engine();
	return ret;
}

/* --- the slot table ------------------------------------------------------- */

static int reserve_table(uint32_t want)
{
	uint32_t cap = 256;
	struct at_slot *t;
	uint32_t *o;
	pid_t *k;

	while (cap < want)
		cap <<= 1;
	if (cap <= table_cap)
		return 0;
	/* One slot more in front: it holds the table's mask, so a handler
	 * always reads a mask that goes with the slots it reads (see
	 * at_sigctx_lookup()). */
	t = mmap(NULL, (size_t)(cap + 1) * sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return -ENOMEM;
	atomic_store(&t[0].word, cap - 1);
	o = malloc((size_t)cap * sizeof(*o));
	k = realloc(known, (size_t)cap * sizeof(*k));
	if (!o || !k) {
		free(o);
		if (k)
			known = k;
		munmap(t, (size_t)(cap + 1) * sizeof(*t));
		return -ENOMEM;
	}
	free(order);
	order = o;
	known = k;
	table = t + 1;
	table_cap = cap;
	return 0;
}

/* Result arrays: grow-only, never unmapped while a thread may use them. */
static long *res_arr, *saved_arr;
static size_t arr_cap; /* longs in each */
static char (*why_arr)[AT_WHY_LEN];
static size_t why_cap;

static void *map_bytes(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int reserve_arrays(size_t longs, size_t nwhy)
{
	if (longs > arr_cap) {
		long *r = map_bytes(longs * sizeof(long));
		long *v = map_bytes(longs * sizeof(long));

		if (!r || !v) {
			if (r)
				munmap(r, longs * sizeof(long));
			if (v)
				munmap(v, longs * sizeof(long));
			return -ENOMEM;
		}
		if (res_arr) {
			munmap(res_arr, arr_cap * sizeof(long));
			munmap(saved_arr, arr_cap * sizeof(long));
		}
		res_arr = r;
		saved_arr = v;
		arr_cap = longs;
	}
	if (nwhy > why_cap) {
		char(*w)[AT_WHY_LEN] = map_bytes(nwhy * sizeof(*w));

		if (!w)
			return -ENOMEM;
		if (why_arr)
			munmap(why_arr, why_cap * sizeof(*why_arr));
		why_arr = w;
		why_cap = nwhy;
	}
	return 0;
}

/* /proc/self/task, kept open between runs; checked by inode each time in
 * case the application closed or reused the descriptor.  *N gets the number
 * of threads (the directory's link count is 2 + threads). */

static int task_dir(int *n)
{
	struct stat st;

	if (task_fd >= 0 && fstat(task_fd, &st) == 0 && st.st_dev == task_dev &&
	    st.st_ino == task_ino) {
		*n = (int)st.st_nlink;
		return task_fd;
	}
	task_fd = at_tasks_open();
	if (task_fd < 0)
		return task_fd;
	if (fstat(task_fd, &st) < 0) {
		int e = -errno;

		close(task_fd);
		task_fd = -1;
		return e;
	}
	task_dev = st.st_dev;
	task_ino = st.st_ino;
	*n = (int)st.st_nlink;
	return task_fd;
}

static uint32_t hash_pos(pid_t tid)
{
	return (uint32_t)tid * 2654435761u;
}

/* The sweep's context: what the callback needs. */
struct sweep {
	struct at_run *run;
	uint32_t used;	 /* slots in use (report indices handed out) */
	uint32_t limit;	 /* most slots we allow (load factor) */
	uint32_t found;	 /* new TIDs this sweep */
	uint32_t unsent; /* slots whose signal could not be queued yet */
	bool overflow;
	pid_t pid;
	pid_t self;
	bool last;	 /* the last attempt the deadline allows */
	bool from_cache; /* inserting the threads the last run saw */
	uint32_t stale;	 /* of those, gone before this run: not reported */
	bool stuck;	 /* a pending thread has the signal blocked */
};

/* rt_tgsigqueueinfo, like tgkill: a TID reused by another process is
 * refused.  The siginfo carries the engine's mark (at_sigctx_mark), so the
 * handler tells a request from the application's own pthread_kill of the
 * same signal (which goes to the application's handler).  The handler
 * finds its slot by its own TID; nothing in siginfo is trusted beyond
 * that. */
static long signal_thread(struct sweep *sw, pid_t tid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = at_sig;
	si.si_code = SI_QUEUE;
	si.si_pid = sw->pid;
	si.si_uid = getuid();
	si.si_value.sival_ptr = at_sigctx_mark;
	return at_sys4(SYS_rt_tgsigqueueinfo, sw->pid, tid, at_sig, &si);
}

static bool is_stuck(pid_t tid)
{
	unsigned i;

	for (i = 0; i < nstuck; i++)
		if (stuck_tids[i] == tid)
			return true;
	return false;
}

/* Is our signal still queued for TID, which was stuck before?  If not, it
 * leaves the list (it took the signal, or exited). */
static bool still_queued(pid_t tid)
{
	struct at_task_info info;
	unsigned i;

	if (!is_stuck(tid))
		return false;
	if (at_tasks_inspect(tid, at_sig, &info) == 0 && info.pending)
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

static int send_to(struct sweep *sw, struct at_slot *s, pid_t tid)
{
	long r;

	if (poke_waiter(tid) || still_queued(tid))
		return 0;
	r = signal_thread(sw, tid);
	if (r == 0)
		return 0;
	if (r == -EAGAIN) {
		s->unqueued = true; /* queue full: retry later */
		sw->unsent++;
		return 0;
	}
	/* ESRCH: gone between listing and signalling.  A thread that was
	 * only remembered from the last run is not part of this one: its slot
	 * gets a TID no thread can have (so a new thread that reuses the TID
	 * is still found) and stays out of the report. */
	{
		uint64_t expect = AT_WORDG(sw->run->gen, tid, AT_PENDING);
		pid_t name = sw->from_cache ? AT_NO_TID : tid;

		if (atomic_compare_exchange_strong(&s->word, &expect,
						   AT_WORDG(sw->run->gen, name,
							    AT_CANCELLED))) {
			s->state = ALLTHREADS_T_EXITED;
			sw->stale += sw->from_cache;
			atomic_fetch_sub(&sw->run->pending, 1);
		}
	}
	return 0;
}

static int insert_cb(void *ctx, pid_t tid)
{
	struct sweep *sw = ctx;
	struct at_run *run = sw->run;
	uint32_t i = hash_pos(tid) & run->mask;
	uint32_t n;

	for (n = 0; n <= run->mask; n++, i = (i + 1) & run->mask) {
		uint64_t w = atomic_load(&run->slots[i].word);

		if (w == 0)
			break;
		if (AT_WORD_TID(w) == tid)
			return 0; /* known */
	}
	if (sw->used >= sw->limit) {
		sw->overflow = true;
		return 0;
	}
	{
		struct at_slot *s = &run->slots[i];
		bool zombie = tid == sw->pid && atomic_load(&leader_zombie);

		s->state = zombie ? ALLTHREADS_T_ZOMBIE : ALLTHREADS_T_NOT_RUN;
		s->nrun = 0;
		s->failed_step = -1;
		s->left = 0;
		s->unqueued = false;
		s->settled = 0;
		s->index = sw->used;
		order[sw->used++] = i;
		sw->found++;
		if (zombie) {
			atomic_store_explicit(
				&s->word, AT_WORDG(run->gen, tid, AT_CANCELLED),
				memory_order_release);
			return 0;
		}
		atomic_fetch_add(&run->pending, 1);
		atomic_store_explicit(&s->word,
				      AT_WORDG(run->gen, tid, AT_PENDING),
				      memory_order_release);
		return send_to(sw, s, tid);
	}
}

/* --- one run -------------------------------------------------------------- */

/* How many steps of PROG have (WANT) or lack (!WANT) a way back. */
static unsigned count_undo(const struct allthreads_prog *prog, bool want)
{
	unsigned i, n = 0;

	for (i = 0; i < prog->n; i++)
		n += prog->steps[i].has_undo == want;
	return n;
}

static bool takes_signal(const struct at_task_info *info)
{
	return strstr(info->wchan, "sigtimedwait") ||
	       strstr(info->wchan, "signalfd") ||
	       strstr(info->wchan, "sigsuspend");
}

static void describe(char *why, size_t len, const struct at_task_info *info,
		     const char *what)
{
	snprintf(why, len, "%.50s (state %c%s%.24s)", what,
		 info->state ? info->state : '?',
		 info->wchan[0] ? ", wchan " : "", info->wchan);
}

/* Look at every thread still pending: gone, zombie, blocked?  At the
 * deadline (FINAL), give up on all of them. */
static void diagnose(struct at_run *run, struct sweep *sw, bool final,
		     char (*why)[AT_WHY_LEN])
{
	/* Held or captured threads may be what a blocked thread waits for:
	 * better to let them go and try again (see attempt()). */
	bool may_retry = (run->hold || run->capture) && !sw->last;
	uint32_t k;

	for (k = 1; k < sw->used; k++) {
		struct at_slot *s = &run->slots[order[k]];
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
			if (signal_thread(sw, tid) == 0) {
				s->unqueued = false;
				sw->unsent--;
			}
		}
		/* Cheap checks while waiting; /proc only for the leader (the
		 * one thread that can stay a zombie) and at the deadline. */
		r = (int)at_sys3(SYS_tgkill, sw->pid, tid, 0);
		if (r == 0 && (final || tid == sw->pid || may_retry))
			r = at_tasks_inspect(tid, at_sig, &info);
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
			  info.state != 'Z' && !find_waiter(tid) &&
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
			snprintf(why[k], sizeof(why[k]), "exited");
		} else if (r == 0 && (info.state == 'Z' || info.state == 'X')) {
			state = ALLTHREADS_T_ZOMBIE;
			snprintf(why[k], sizeof(why[k]), "zombie");
			if (tid == sw->pid)
				atomic_store(&leader_zombie, 1);
		} else if (final || give_up) {
			if (s->unqueued) {
				state = ALLTHREADS_T_QUEUE_FULL;
				describe(
					why[k], sizeof(why[k]), &info,
					"signal queue full (RLIMIT_SIGPENDING)");
			} else if (r == 0 && info.blocked) {
				state = ALLTHREADS_T_BLOCKED;
				if (info.pending)
					add_stuck(tid);
				describe(why[k], sizeof(why[k]), &info,
					 "signal blocked (SigBlk)");
			} else if (r == 0 && takes_signal(&info)) {
				/* In sigtimedwait/signalfd the kernel
				 * unblocks the waited-for set, so SigBlk
				 * does not show it; the thread consumes
				 * the signal instead of handling it. */
				state = ALLTHREADS_T_BLOCKED;
				describe(why[k], sizeof(why[k]), &info,
					 "signal taken by a signal wait");
			} else {
				state = ALLTHREADS_T_TIMEOUT;
				describe(why[k], sizeof(why[k]), &info,
					 "no answer before the deadline");
			}
		}
		if (state < 0) {
			/* Not answered yet: ask again, in case the first
			 * signal was consumed (a sigwait that let go), but
			 * never queue a second copy beside one still
			 * pending. */
			if (r == 0 && !s->unqueued &&
			    (at_tasks_inspect(tid, at_sig, &info) < 0 ||
			     !info.pending))
				signal_thread(sw, tid);
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

/* Sleep until the last pending thread reports (or UNTIL).  Waiting on
 * pending itself would wake the initiator at every report. */
static int wait_drained(struct at_run *run, const struct timespec *until)
{
	atomic_store(&run->drained, 0);
	if (atomic_load(&run->pending) <= 0)
		return 0;
	return at_futex_wait(&run->drained, 0, until);
}

/* Wait until every pending thread reported, or the deadline. */
static void wait_pending(struct at_run *run, struct sweep *sw,
			 char (*why)[AT_WHY_LEN], const struct timespec *first)
{
	struct timespec t, slice = *first;
	long step_ns = AT_SLICE_NS;
	int p;

	for (;;) {
		p = atomic_load_explicit(&run->pending, memory_order_acquire);
		if (p == 0)
			return;
		at_ts_now(&t);
		if (!at_ts_before(&t, &run->deadline)) {
			diagnose(run, sw, true, why);
			return;
		}
		if (!at_ts_before(&t, &slice)) {
			diagnose(run, sw, false, why);
			if (sw->stuck)
				return;
			slice = t;
			at_ts_add_ns(&slice, step_ns);
			if (step_ns < 200000000L)
				step_ns *= 2;
			if (!at_ts_before(&slice, &run->deadline))
				slice = run->deadline;
			continue;
		}
		wait_drained(run, &slice);
	}
}

static int build_report(struct at_run *run, struct sweep *sw,
			char (*why)[AT_WHY_LEN],
			enum allthreads_verdict verdict,
			struct allthreads_report **reportp)
{
	struct allthreads_report *rep;
	uint32_t k, n;

	if (!reportp)
		return 0;
	rep = at_report_new(sw->used - sw->stale, run->nsteps);
	if (!rep)
		return -ENOMEM;
	rep->verdict = verdict;
	for (k = 0, n = 0; k < sw->used; k++) {
		struct at_slot *s = &run->slots[order[k]];
		pid_t tid = AT_WORD_TID(atomic_load(&s->word));
		struct at_rthread *t;
		unsigned j;

		if (tid == AT_NO_TID)
			continue;
		t = &rep->t[n];
		t->tid = tid;
		t->state = s->state;
		t->nrun = s->nrun;
		t->failed_step = s->failed_step;
		t->left = s->left;
		memcpy(t->why, why[k], sizeof(t->why));
		for (j = 0; j < run->nsteps; j++)
			rep->res[(size_t)n * run->nsteps + j] =
				j < (unsigned)s->nrun ?
					run->res[(size_t)k * run->nsteps + j] :
					-ECANCELED;
		n++;
	}
	*reportp = rep;
	return 0;
}

/* Insert the calling thread as report index 0. */
static struct at_slot *add_self(struct at_run *run, struct sweep *sw)
{
	uint32_t i = hash_pos(sw->self) & run->mask;
	struct at_slot *s;

	while (atomic_load(&table[i].word))
		i = (i + 1) & run->mask;
	s = &table[i];
	s->index = 0;
	s->nrun = 0;
	s->failed_step = -1;
	s->left = 0;
	s->unqueued = false;
	s->settled = 0;
	s->state = ALLTHREADS_T_NOT_RUN;
	order[0] = i;
	sw->used = 1;
	atomic_store(&s->word, AT_WORDG(run->gen, sw->self, AT_SELF));
	return s;
}

/* The canary: the steps on the calling thread.  Returns the failed step's
 * error, or 0. */
static int run_canary(struct at_run *run, struct at_slot *me)
{
	int failed, ret;

	me->nrun = at_sigctx_run_steps(run->prog, run->nsteps, NULL, run->res,
				       run->saved, &failed, NULL);
	me->failed_step = failed;
	if (failed < 0) {
		me->state = ALLTHREADS_T_OK;
		return 0;
	}
	me->state = ALLTHREADS_T_FAILED;
	me->left = at_sigctx_undo(run->prog, me->nrun, failed, run->res,
				  run->saved);
	ret = (int)run->res[failed];
	return at_is_error(ret) ? ret : -EIO;
}

/* The calling thread's result of each step when run once more (after the
 * canary, so the thread already holds what the step sets), computed only
 * for a step some thread settled on (see at_run.settle). */
static long settled_res[ALLTHREADS_MAX_STEPS];
static unsigned char settled_known[ALLTHREADS_MAX_STEPS];

/*
 * Judge the threads that settled on an EQUAL step (a fixed point other than
 * the calling thread's result): such a thread already held what the step
 * sets (a thread started by one that had changed) when the calling thread,
 * which now holds the requested state, gets that same result from the same
 * step run once more.  Otherwise that thread failed at that step.  The
 * second run on the calling thread happens only here, for a step that
 * returned a previous value: it changes nothing.
 */
static void settle_check(struct at_run *run, struct sweep *sw)
{
	const long *canary = run->canary;
	uint32_t k;
	unsigned i;

	memset(settled_known, 0, run->nsteps);
	for (k = 1; k < sw->used; k++) {
		struct at_slot *s = &table[order[k]];
		long *res = run->res + (size_t)s->index * run->nsteps;

		if (!s->settled || s->state != ALLTHREADS_T_OK)
			continue;
		for (i = 0; i < (unsigned)s->nrun; i++) {
			const struct at_step *st = &run->prog->steps[i];
			const long *a = st->args;

			if (st->judge != ALLTHREADS_JUDGE_EQUAL ||
			    res[i] == canary[i])
				continue;
			if (!settled_known[i]) {
				settled_res[i] = at_sys6(st->nr, a[0], a[1],
							 a[2], a[3], a[4],
							 a[5]);
				settled_known[i] = 1;
			}
			if (res[i] != settled_res[i]) {
				s->state = ALLTHREADS_T_FAILED;
				s->failed_step = (int)i;
				break;
			}
		}
	}
}

/* Wait for the threads signalled so far; false when the run must stop
 * looking (a thread is stuck, or the deadline passed: then every thread
 * still pending, and any that appeared meanwhile, is named). */
static bool await_round(struct at_run *run, struct sweep *sw, int fd,
			char (*why)[AT_WHY_LEN], const struct timespec *first)
{
	struct timespec t;

	wait_pending(run, sw, why, first);
	if (sw->stuck)
		return false;
	at_ts_now(&t);
	if (at_ts_before(&t, &run->deadline))
		return true;
	at_tasks_sweep(fd, sweep_buf, AT_SWEEP_BUF, insert_cb, sw);
	diagnose(run, sw, true, why);
	return false;
}

/* Signal every thread, wait, sweep again, until a sweep finds nothing new
 * and nobody is pending, or the deadline.  The threads the last run saw
 * are signalled before any sweep, so in a steady process one sweep (the
 * one that proves nothing was missed) is all it costs.  Nothing is
 * allocated here. */
static void reach_all(struct at_run *run, struct sweep *sw, int fd,
		      char (*why)[AT_WHY_LEN], int nthreads)
{
	struct timespec first;
	uint32_t i;
	int sweeps, clean = 0;

	at_ts_now(&first);
	/* Before looking at late threads: a little more than a broadcast
	 * normally takes (about 8 us a thread on two cores). */
	at_ts_add_ns(&first, 2000000L + 15000L * nthreads);
	if (nknown) {
		sw->from_cache = true;
		for (i = 0; i < nknown; i++)
			insert_cb(sw, known[i]);
		sw->from_cache = false;
		if (!await_round(run, sw, fd, why, &first))
			return;
	}
	for (sweeps = 0; sweeps < AT_MAX_SWEEPS; sweeps++) {
		sw->found = 0;
		if (at_tasks_sweep(fd, sweep_buf, AT_SWEEP_BUF, insert_cb, sw) <
		    0)
			break;
		if (sw->found == 0 && atomic_load(&run->pending) == 0) {
			/* A clean sweep: every thread answered.  Unless
			 * threads are held, some may exit meanwhile, and
			 * procfs resumes a listing by position: a thread
			 * can then be skipped.  Released threads need a
			 * second clean sweep in a row. */
			if (++clean >= (run->hold || run->capture ? 1 : 2))
				return;
			continue;
		}
		clean = 0;
		if (!await_round(run, sw, fd, why, &first))
			return;
	}
}

/* Threads still running their steps past the deadline (a step that
 * blocks) get a little longer; true if some still run. */
static bool straggle(struct at_run *run)
{
	struct timespec limit = run->deadline;
	int k;

	at_ts_add_ns(&limit, 2000000000L);
	for (k = 0; k < 100000 && atomic_load(&run->pending) > 0; k++)
		if (wait_drained(run, &limit) == -ETIMEDOUT)
			break;
	return atomic_load(&run->pending) > 0;
}

/* Is a thread still inside this run: running its steps past the deadline
 * and the grace, or undoing without having acknowledged?  Then the run
 * must be retired, not reused. */
static bool has_stragglers(struct at_run *run)
{
	return atomic_load(&run->pending) > 0 ||
	       atomic_load(&run->unfinished) > 0;
}

/* Is any thread other than the caller failed or unreached?  *UNREACHED
 * tells which kind.  CAPTURING: threads not run yet are fine. */
static bool find_problems(struct sweep *sw, bool capturing, bool *unreached)
{
	bool problem = sw->overflow;
	uint32_t k;

	*unreached = sw->overflow;
	for (k = 1; k < sw->used; k++) {
		switch (table[order[k]].state) {
		case ALLTHREADS_T_OK:
		case ALLTHREADS_T_ZOMBIE:
		case ALLTHREADS_T_EXITED:
			break;
		case ALLTHREADS_T_NOT_RUN: /* captured, not yet asked? */
			if (!capturing) {
				problem = true;
				*unreached = true;
			}
			break;
		case ALLTHREADS_T_FAILED:
			problem = true;
			break;
		default:
			problem = true;
			*unreached = true;
		}
	}
	return problem;
}

static void set_word(_Atomic int *word, uint32_t gen, int what)
{
	atomic_store_explicit(word, (int)(gen << 2) | what,
			      memory_order_release);
	at_futex_wake(word, INT_MAX);
}

/* Undo everywhere: the held threads and this one.  Returns the verdict. */
static enum allthreads_verdict undo_all(struct at_run *run, struct sweep *sw,
					struct at_slot *me)
{
	struct timespec limit = run->deadline;
	uint32_t k, left = 0, reported = 0;

	for (k = 1; k < sw->used; k++)
		if (AT_WORD_PHASE(atomic_load(&table[order[k]].word)) ==
		    AT_REPORTED)
			reported++;
	atomic_store(&run->unfinished, (int)reported);
	set_word(&run->release, run->gen, AT_UNDO);
	me->left = at_sigctx_undo(run->prog, me->nrun, me->failed_step,
				  run->res, run->saved);
	if (me->state == ALLTHREADS_T_OK)
		me->state = ALLTHREADS_T_UNDONE;
	at_ts_add_ns(&limit, 1000000000L);
	for (k = 0; k < 100000; k++) {
		int u = atomic_load(&run->unfinished);

		if (u <= 0 ||
		    at_futex_wait(&run->unfinished, u, &limit) == -ETIMEDOUT)
			break;
	}
	for (k = 0; k < sw->used; k++) {
		struct at_slot *s = &table[order[k]];

		if (AT_WORD_PHASE(atomic_load(&s->word)) == AT_REPORTED)
			left += (uint32_t)s->nrun; /* never acknowledged */
		else
			left += (uint32_t)s->left;
	}
	return left ? ALLTHREADS_PARTIAL : ALLTHREADS_FAILED;
}

/* Give up on the threads still pending (so none of them can start now),
 * and wait for those that already started to report. */
static void call_off(struct at_run *run, struct sweep *sw)
{
	uint32_t k;

	for (k = 1; k < sw->used; k++) {
		struct at_slot *s = &table[order[k]];
		uint64_t w = atomic_load(&s->word);
		uint64_t expect =
			AT_WORDG(run->gen, AT_WORD_TID(w), AT_PENDING);

		if (AT_WORD_PHASE(w) == AT_PENDING &&
		    atomic_compare_exchange_strong(
			    &s->word, &expect,
			    AT_WORDG(run->gen, AT_WORD_TID(w), AT_CANCELLED)))
			atomic_fetch_sub(&run->pending, 1);
	}
	straggle(run);
}

enum at_outcome {
	AT_DONE,
	AT_RETRY,   /* everything undone or never done: try again */
	AT_ABANDON, /* done, but a thread still runs its steps */
};

/*
 * One attempt: canary (first, or after the capture), reach every thread,
 * judge, release or undo.  A held or captured thread may hold a lock that
 * a thread with the signal blocked is waiting for (glibc blocks signals in
 * pthread_create's child and in thread exit): when a pending thread is
 * seen with the signal blocked, the attempt lets everybody go, unchanged,
 * and is tried again while the deadline allows.
 */
static enum at_outcome attempt(struct at_run *run, struct sweep *sw, int fd,
			       int n, enum allthreads_mismatch policy,
			       enum allthreads_verdict *verdict, int *retp)
{
	struct at_slot *me = add_self(run, sw);
	bool problem, unreached;
	int ret = 0;
	uint32_t k;

	*verdict = ALLTHREADS_AGREE;
	if (!run->capture) {
		ret = run_canary(run, me);
		if (ret < 0) { /* nothing else was touched */
			*verdict = me->left ? ALLTHREADS_PARTIAL :
					      ALLTHREADS_FAILED;
			*retp = ret;
			return AT_DONE;
		}
	}

	/* From the first signal to the last release: no allocation. */
	atomic_store_explicit(&run->active, 1, memory_order_release);
	reach_all(run, sw, fd, why_arr, n);

	if (sw->stuck) {
		call_off(run, sw);
		if (run->capture)
			set_word(&run->go, run->gen, AT_ABORT);
		else if (undo_all(run, sw, me) == ALLTHREADS_PARTIAL)
			goto judge; /* something stays changed: report it */
		atomic_store_explicit(&run->active, 0, memory_order_release);
		if (has_stragglers(run))
			goto judge; /* no retry on a run a thread is still in */
		return AT_RETRY;
	}

	if (run->capture) {
		uint32_t captured = 0;

		problem = find_problems(sw, true, &unreached);
		if (!problem)
			ret = run_canary(run, me);
		if (problem || ret < 0) {
			/* Nobody changed: release the captured threads. */
			set_word(&run->go, run->gen, AT_ABORT);
			*verdict = me->left ? ALLTHREADS_PARTIAL :
					      ALLTHREADS_FAILED;
			if (!ret)
				ret = unreached ? -ETIMEDOUT : -EIO;
			atomic_store_explicit(&run->active, 0,
					      memory_order_release);
			*retp = ret;
			return AT_DONE;
		}
		for (k = 1; k < sw->used; k++)
			captured += AT_WORD_PHASE(atomic_load(
					    &table[order[k]].word)) ==
				    AT_CAPTURED;
		atomic_store(&run->pending, (int)captured);
		set_word(&run->go, run->gen, AT_GO);
		wait_pending(run, sw, why_arr, &run->deadline);
	}

judge:
	/* Threads still running their steps are waited for (bounded) before
	 * anything is judged or undone. */
	if (atomic_load(&run->pending) > 0)
		straggle(run);
	if (run->settle)
		settle_check(run, sw);
	problem = find_problems(sw, false, &unreached);
	if (problem && policy == ALLTHREADS_MISMATCH_KILL)
		at_sys2(SYS_kill, at_pid, SIGKILL);
	if (problem && run->hold && policy == ALLTHREADS_MISMATCH_REPORT &&
	    !sw->stuck) {
		*verdict = undo_all(run, sw, me);
	} else {
		if (run->hold && !sw->stuck)
			set_word(&run->release, run->gen, AT_COMMIT);
		if (problem || sw->stuck)
			*verdict = ALLTHREADS_PARTIAL;
	}
	if ((problem || sw->stuck) && policy != ALLTHREADS_MISMATCH_IGNORE)
		ret = sw->overflow ? -E2BIG : unreached ? -ETIMEDOUT : -EIO;
	*retp = ret;
	atomic_store_explicit(&run->active, 0, memory_order_release);
	return has_stragglers(run) ? AT_ABANDON : AT_DONE;
}

/* Ready the shared run state for a new attempt. */
static void begin_attempt(struct at_run *run, struct sweep *sw,
			  const struct timespec *deadline, bool last)
{
	memset(sw, 0, sizeof(*sw));
	sw->run = run;
	sw->pid = at_pid;
	sw->self = (pid_t)at_sys0(SYS_gettid);
	sw->limit = table_cap / 2;
	sw->last = last;
	run->gen = (run->gen + 1) & 0x0fffffff;
	run->slots = table;
	run->mask = table_cap - 1;
	run->res = res_arr;
	run->saved = saved_arr;
	run->canary = res_arr;
	run->deadline = *deadline;
	atomic_store(&run->pending, 0);
	atomic_store(&run->unfinished, 0);
	atomic_store(&run->go, (int)(run->gen << 2) | AT_HOLD);
	atomic_store(&run->release, (int)(run->gen << 2) | AT_HOLD);
}

static void end_attempt(struct sweep *sw, bool abandon)
{
	uint32_t k;

	/* Remember the threads that were there, to signal them first next
	 * time (a hint only: each is checked by the kernel and the sweep). */
	nknown = 0;
	for (k = 1; k < sw->used && !abandon; k++) {
		const struct at_slot *s = &table[order[k]];

		if (s->state != ALLTHREADS_T_EXITED &&
		    s->state != ALLTHREADS_T_ZOMBIE)
			known[nknown++] = AT_WORD_TID(atomic_load(&s->word));
	}
	if (abandon) {
		/* Left mapped for the thread still running its steps. */
		table = NULL;
		table_cap = 0;
		res_arr = saved_arr = NULL;
		arr_cap = 0;
	} else {
		for (k = 0; k < sw->used; k++)
			atomic_store(&table[order[k]].word, 0);
	}
	for (k = 0; k < sw->used; k++)
		why_arr[k][0] = 0;
}

/* The engine's own copy of PROG in RUN: a thread that outlives the call
 * (a step that blocks) must never read a program its caller freed. */
static int copy_prog(struct at_run *run, const struct at_step *steps,
		     unsigned n)
{
	if (!run->prog_copy) {
		run->prog_copy = malloc(sizeof(*run->prog_copy));
		if (!run->prog_copy)
			return -ENOMEM;
	}
	run->prog_copy->n = n;
	memcpy(run->prog_copy->steps, steps, n * sizeof(steps[0]));
	run->prog = run->prog_copy;
	run->nsteps = n;
	return 0;
}

/* A thread is still inside RUN: leave it all to that thread (the struct,
 * its program, table and arrays) and serve later broadcasts from a new
 * struct.  If there is no memory for one, later runs reuse this one, as
 * before; the thread can then at worst miscount them. */
static void retire(struct at_run *run)
{
	struct at_run *next = calloc(1, sizeof(*next));

	if (!next)
		return;
	next->gen = run->gen;
	atomic_store_explicit(&at_run_cur, next, memory_order_release);
}

int at_broadcast(const struct at_step *steps, unsigned nsteps,
		 unsigned timeout_ms, bool hold,
		 enum allthreads_mismatch policy,
		 struct allthreads_report **reportp, long *first)
{
	struct at_run *run;
	enum allthreads_verdict verdict = ALLTHREADS_FAILED;
	enum at_outcome outcome;
	struct timespec deadline, t;
	struct sweep sw;
	int fd, ret, n = 0, tries;

	if (reportp)
		*reportp = NULL;
	pthread_once(&once, init_once);
	if (getpid() != at_pid)
		return -ECHILD; /* a vfork(2) or raw clone child */
	at_ts_now(&deadline);
	at_ts_add_ms(&deadline,
		     timeout_ms ? timeout_ms : ALLTHREADS_DEFAULT_TIMEOUT_MS);

	ret = lock_engine(&deadline);
	if (ret < 0)
		return ret;
	run = atomic_load(&at_run_cur);
	if (!sweep_buf && !(sweep_buf = malloc(AT_SWEEP_BUF))) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	fd = task_dir(&n);
	if (fd < 0) {
		ret = fd;
		goto out_unlock;
	}
	/* Room for several times today's threads: churn during the run
	 * (threads released early may start new ones, found by later
	 * sweeps).  The table is mapped lazily; untouched pages cost nothing. */
	ret = reserve_table((uint32_t)n * 8 + 8192);
	if (ret < 0)
		goto out_unlock;
	ret = reserve_arrays((size_t)(table_cap / 2) * nsteps, table_cap / 2);
	if (ret < 0)
		goto out_unlock;
	ret = copy_prog(run, steps, nsteps);
	if (ret < 0)
		goto out_unlock;

	if (n <= 3) {
		/* The directory's link count is 2 + threads: this thread is
		 * the only one, and only it could start another.  The canary
		 * is the whole run. */
		struct at_slot *me;

		run->capture = run->hold = run->settle = false;
		begin_attempt(run, &sw, &deadline, true);
		me = add_self(run, &sw);
		ret = run_canary(run, me);
		verdict = ret >= 0 ? ALLTHREADS_AGREE :
			  me->left ? ALLTHREADS_PARTIAL :
				     ALLTHREADS_FAILED;
		outcome = AT_DONE;
		goto out_report;
	}
	ret = install_handler();
	if (ret < 0)
		goto out_unlock;
	/* One-way steps: capture every thread first, so that a thread that
	 * cannot be reached is known before anything changes.  Undoable
	 * steps: hold every thread after its steps, to undo on failure. */
	run->capture = hold && count_undo(run->prog, false) > 0;
	run->hold = hold && count_undo(run->prog, true) > 0;
	run->settle = !run->hold && !run->capture;
	for (tries = 0; tries < 1000; tries++) {
		long pause = 100000L << (tries < 8 ? tries : 8);
		struct timespec next;

		at_ts_now(&t);
		next = t;
		at_ts_add_ns(&next, 2 * pause);
		begin_attempt(run, &sw, &deadline,
			      !at_ts_before(&next, &deadline));
		outcome = attempt(run, &sw, fd, n, policy, &verdict, &ret);
		if (outcome != AT_RETRY)
			break;
		end_attempt(&sw, false);
		/* Let the thread that could not take the signal move on. */
		at_ts_add_ns(&t, pause);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
out_report:
	/* The calling thread's first result (allthreads_syscall's answer). */
	if (first)
		*first = table[order[0]].nrun > 0 ? run->res[0] : ret;
	/* Without memory for the report, the caller still learns from the
	 * return value what happened; the run is not reported as failed
	 * because of it. */
	build_report(run, &sw, why_arr, verdict, reportp);
	end_attempt(&sw, outcome == AT_ABANDON);
	run->res = run->saved = run->canary = NULL;
	if (outcome == AT_ABANDON)
		retire(run);
out_unlock:
	unlock_engine();
	return ret;
}
