/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * broadcast.h - the initiator's parts, one idea a file, from the top down
 * (a file asks only those below it):
 *
 *   fork.c       fork: wait for a running broadcast; the child forgets
 *   broadcast.c  one run: canary, reach every thread, judge, release or undo
 *   stuck.c      threads that do not answer: what they are doing, and when
 *                to stop asking
 *   lock.c       the engine lock: one run at a time
 *   waiters.c    threads that block every signal and are woken instead
 *   process.c    the process the engine serves: its pid and signal, the
 *                handler's installation, a request queued for one thread
 *   reserve.c    the memory a run needs, reserved before the first signal
 *   tasks.c      /proc/self/task: the sweep, the open directory, one
 *                thread's status
 *
 * None of it runs in signal context (that is sigctx.c, run.h, below them
 * all).
 */
#ifndef AT_BROADCAST_H
#define AT_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "report.h"
#include "run.h"

/* --- reserve.c ----------------------------------------------------------- */

/* Everything a run uses between its first signal and its last release,
 * reserved before: the slot table (open addressing by TID), the order the
 * threads were found in, the results, the diagnoses, the sweep buffer.
 * Grow-only; an outgrown table or array stays mapped while a late signal
 * may still look at it. */
struct at_reserve {
	struct at_slot *table;
	uint32_t cap;	 /* slots in table (a power of two) */
	uint32_t *order; /* slot position by report index (cap) */
	pid_t *known;	 /* the threads the last run saw (cap) */
	uint32_t nknown;
	long *res, *saved; /* nsteps per report index, arr_cap each */
	size_t arr_cap;
	char (*why)[AT_WHY_LEN]; /* per report index, why_cap */
	size_t why_cap;
	/* Past this report index every diagnosis is empty (stuck.c raises
	 * it as it writes one): a run in which every thread answered reads
	 * and clears none, and a first run pays no page fault for them. */
	uint32_t why_end;
	char *sweep_buf; /* AT_SWEEP_BUF bytes */
};

#define AT_SWEEP_BUF 32768

/* Make room for a run of NSTEPS steps in a process of NTHREADS threads,
 * with margin for churn; *RSP gets the reserve.  0 or -ENOMEM. */
int at_reserve(uint32_t nthreads, unsigned nsteps, struct at_reserve **rsp);
/* A thread is still inside the run: leave it the table and the result
 * arrays (still mapped) and reserve new ones next time. */
void at_reserve_leave(void);
/* In a fork child: the threads the last run saw were the parent's. */
void at_reserve_forget(void);

/* --- tasks.c ------------------------------------------------------------- */

struct at_task_info {
	char state;   /* from status "State:", e.g. 'R', 'S', 'D', 'Z' */
	bool blocked; /* the engine's signal is in SigBlk */
	bool pending; /* ... and in SigPnd: queued, not taken */
	char wchan[32];
};
/* /proc/self/task, kept open between runs and checked by inode each time
 * (the application may have closed or reused the descriptor); *N gets its
 * link count, 2 + the number of threads.  The descriptor or -errno. */
int at_tasks_dir(int *n);
/* In a fork child: the inherited descriptor names the parent's threads. */
void at_tasks_forget(void);
/* One pass over /proc/self/task; FN is called for each TID; returns the
 * number of TIDs or -errno.  BUF is caller-provided (no allocation). */
int at_tasks_sweep(int fd, char *buf, unsigned len,
		   int (*fn)(void *ctx, pid_t tid), void *ctx);
int at_tasks_inspect(pid_t tid, int sig, struct at_task_info *info);

/* --- broadcast.c --------------------------------------------------------- */

/* One attempt's view of the threads: what the sweep callback needs. */
struct at_sweep {
	struct at_run *run;
	struct at_reserve *rs;
	uint32_t used;	 /* slots in use (report indices handed out) */
	uint32_t limit;	 /* most slots we allow (load factor) */
	uint32_t found;	 /* new TIDs this sweep */
	uint32_t unsent; /* slots whose signal could not be queued yet */
	bool overflow;
	pid_t pid;
	pid_t self;
	uid_t uid;	 /* si_uid of the requests: this thread's, once a run */
	int sig;	 /* the engine's signal */
	bool last;	 /* the last attempt the deadline allows */
	bool from_cache; /* inserting the threads the last run saw */
	uint32_t stale;	 /* of those, gone before this run: not reported */
	bool stuck;	 /* a pending thread has the signal blocked */
};

/* --- stuck.c ------------------------------------------------------------- */

/* Look at every thread of SW still pending: gone, zombie, blocked?  At the
 * deadline (FINAL), give up on all of them, with a diagnosis in WHY. */
void at_stuck_diagnose(struct at_sweep *sw, bool final,
		       char (*why)[AT_WHY_LEN]);
/* Is signal SIG still queued for TID, seen stuck before?  If not, TID
 * leaves the list (it took the signal, or exited). */
bool at_stuck_still_queued(pid_t tid, int sig);
/* In a fork child: the parent's threads. */
void at_stuck_forget(void);

/* --- waiters.c ----------------------------------------------------------- */

/* Is TID a registered waiter? */
bool at_waiter_is(pid_t tid);
/* If TID is a waiter, mark its fixup and kick it: 0, -EAGAIN if the kick
 * could not be queued, -ENOENT if TID is no waiter.  A waiter that waits
 * for the engine lock rather than in its wait is woken by the caller
 * (at_lock_wake_all()), which holds that lock. */
int at_waiter_poke(pid_t tid);
/* Run the calling thread's pending fixup, if it is a waiter with one. */
void at_waiter_fixup_mine(void);
/* In a fork child: the parent's waiters are not there. */
void at_waiters_forget(void);

/* --- lock.c -------------------------------------------------------------- */

/* Take the engine lock before DEADLINE (running the calling waiter's
 * fixups while it waits); 0 or -ETIMEDOUT. */
int at_lock_take(const struct timespec *deadline);
/* Take it only if it is free. */
bool at_lock_try(void);
void at_lock_release(void);
/* Wake every thread waiting for the lock (a waiter among them has a
 * fixup to run). */
void at_lock_wake_all(void);
/* In a fork child: nobody holds it. */
void at_lock_forget(void);

/* --- process.c ----------------------------------------------------------- */

/* Once per process (idempotent): the signal, the pid. */
void at_process_init(void);
/* The pid the engine serves (the fork child's own after a fork). */
pid_t at_process_pid(void);
/* In a fork child: its own pid, and its leader is no zombie. */
void at_process_forget(void);
/* Queue the engine's request, its signal with its mark, for TID
 * (rt_tgsigqueueinfo), with UID as its si_uid (a run reads it once);
 * 0 or -errno (-EAGAIN: the queue is full). */
long at_process_signal(pid_t tid, uid_t uid);
/* Install the engine's handler if it is not; caller holds the lock. */
int at_process_install_handler(void);
/* The main thread was seen a zombie (it stays one). */
bool at_process_leader_zombie(void);
void at_process_set_leader_zombie(void);

#endif /* AT_BROADCAST_H */
