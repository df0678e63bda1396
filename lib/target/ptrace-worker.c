// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-worker.c - the tracer as a process of its own: forked, in its own
 * session, every catchable signal blocked, bounded by the run's deadline,
 * its answer (the report) down a pipe; and, when it is lost (died, or
 * silent past its time), what the caller can still say and undo: read
 * from the page it shares, its region swept by a tracer of our own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proctext.h"
#include "ptrace-phases.h"
#include "report.h"

#ifndef AT_ARCH_NONE

void pt_term_signals(sigset_t *term)
{
	sigemptyset(term);
	sigaddset(term, SIGINT);
	sigaddset(term, SIGTERM);
	sigaddset(term, SIGHUP);
	sigaddset(term, SIGQUIT);
	sigaddset(term, SIGPIPE);
	sigaddset(term, SIGTSTP);
	sigaddset(term, SIGTTIN);
	sigaddset(term, SIGTTOU);
	sigaddset(term, SIGALRM);
	sigaddset(term, SIGUSR1);
	sigaddset(term, SIGUSR2);
	sigaddset(term, SIGXCPU);
	sigaddset(term, SIGVTALRM);
	sigaddset(term, SIGPROF);
}

/* What the tracer process sends back, then the report's threads and
 * results. */
struct pt_wire {
	int ret;
	int has_report;
	int verdict;
	unsigned nthreads;
	unsigned nsteps;
	struct at_rtimes times;
	char why[AT_REASON_LEN];
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* LEN bytes from FD before DEADLINE (CLOCK_MONOTONIC, ns). */
static int read_all(int fd, void *buf, size_t len, uint64_t deadline)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = pt_ns_now();
		ssize_t r;
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			continue;
		r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* In the tracer process: none of the caller's files but A and B (and
 * /dev/null as 0, 1, 2), so a caller killed mid-run leaves no pipe of its
 * own (a shell's $(...)) held open while the run ends. */
static void keep_only(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a, nul;

	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	if (lo < 3)
		lo = hi;
	if (lo < 3)
		lo = hi = INT_MAX;
	if (lo > 3)
		syscall(SYS_close_range, 3u, (unsigned)lo - 1, 0u);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1,
			0u);
	if (hi < INT_MAX)
		syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
}

/* In the tracer process: the run, and its answer down FD. */
static _Noreturn void worker_main(struct pt_job *job, int fd)
{
	struct allthreads_report *rep = NULL;
	struct pt_wire w;
	char why[sizeof(w.why)] = "";
	sigset_t all;
	int code = 0;

	/* Nothing that ends the caller's session or process group, nor a
	 * catchable signal, ends this run: only SIGKILL aimed at this
	 * process does.  The run is bounded by its own deadline. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGCHLD, SIG_DFL);
	setsid();
	keep_only(fd, job->pidfd);
	job->report = &rep;
	job->in_worker = true;
	job->why = why;
	job->whylen = sizeof(why);
	pt_job(job);
	memset(&w, 0, sizeof(w));
	w.ret = job->ret;
	memcpy(w.why, why, sizeof(w.why));
	if (rep) {
		w.has_report = 1;
		w.verdict = (int)rep->verdict;
		w.nthreads = rep->nthreads;
		w.nsteps = rep->nsteps;
		w.times = rep->times;
	}
	if (write_all(fd, &w, sizeof(w)) < 0 ||
	    (rep &&
	     (write_all(fd, rep->t, rep->nthreads * sizeof(*rep->t)) < 0 ||
	      write_all(fd, rep->res,
			(size_t)rep->nthreads * rep->nsteps * sizeof(long)) <
		      0)))
		code = 1; /* the caller is gone: the target is released all
			   * the same */
	_exit(code);
}

/* Threads of PID stopped by a tracer or traced now (their count): none
 * may be, once a tracer of ours is gone. */
static unsigned still_held(pid_t pid, pid_t *first)
{
	char path[64], buf[4096];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		unsigned long flags;
		char state = 0;

		if (tid <= 0 || pt_task_stat(pid, tid, &state, &flags) < 0 ||
		    pt_task_status(pid, tid, buf, sizeof(buf)) <= 0)
			continue;
		if (state == 't' || at_proc_field_long(buf, "TracerPid", 0)) {
			if (!n++)
				*first = tid;
		}
	}
	closedir(d);
	return n;
}

/*
 * The tracer process PID is lost (died, or did not answer in time: then
 * killed here).  Reaped before this returns, so the kernel has detached
 * every thread it held; what it may have done is read from its shared
 * page, and its region, if it left one, removed by a tracer of our own.
 * -ECHILD when it had touched nothing, else -EINPROGRESS: the threads may
 * differ.  WHAT: how it was lost.
 */
static int worker_lost(struct pt_job *job, pid_t pid, const char *what)
{
	struct pt_share sh;
	char left[AT_REASON_LEN] = "", held[AT_REASON_LEN] = "";
	struct pt_job sw = *job;
	pid_t tid = 0;
	unsigned n;
	int st, r;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sh = *job->share;
	if (sh.base && sh.size) {
		char why[AT_REASON_LEN] = "";
		struct allthreads_report *rep = NULL;

		memset(job->share, 0, sizeof(*job->share));
		sw.prog = NULL;
		sw.report = &rep;
		sw.why = why;
		sw.whylen = sizeof(why);
		sw.sweep_base = sh.base;
		sw.sweep_size = sh.size;
		sw.sweep_stub = sh.stub;
		r = pt_run_worker(&sw);
		at_report_free(rep);
		if (r == 0)
			snprintf(left, sizeof(left),
				 "; its region at %#lx (%lu bytes) was "
				 "removed from the process",
				 sh.base, sh.size);
		else if (r < 0)
			snprintf(left, sizeof(left),
				 "; its region at %#lx (%lu bytes) stays "
				 "mapped in the process (%.80s)",
				 sh.base, sh.size, why[0] ? why : strerror(-r));
	}
	n = still_held(job->pid, &tid);
	if (n)
		snprintf(held, sizeof(held),
			 "; %u thread(s) still stopped or traced (thread %d)",
			 n, (int)tid);
	if (!sh.touched) {
		if (job->why && job->whylen)
			snprintf(job->why, job->whylen,
				 "the tracer process %s before it changed "
				 "anything; nothing was changed%s",
				 what, held);
		return -ECHILD;
	}
	if (job->why && job->whylen)
		snprintf(job->why, job->whylen,
			 "the tracer process %s after it began to change "
			 "threads: the threads may differ%s%s",
			 what, left, held);
	return -EINPROGRESS;
}

/* The caller's side: the answer of the tracer process PID on FD. */
static int worker_answer(struct pt_job *job, pid_t pid, int fd, unsigned ms)
{
	uint64_t deadline =
		pt_ns_now() +
		((uint64_t)ms + AT_PT_LETGO_MS + AT_PT_GRACE_MS) * 1000000u;
	struct allthreads_report *rep;
	struct pt_wire w;
	int err, st;

	err = read_all(fd, &w, sizeof(w), deadline);
	if (err == -EPIPE)
		return worker_lost(job, pid, "died");
	if (err)
		return worker_lost(job, pid,
				   "did not answer in time and was killed");
	w.why[sizeof(w.why) - 1] = 0;
	if (job->why && job->whylen)
		snprintf(job->why, job->whylen, "%s", w.why);
	if (w.has_report) {
		if (w.nthreads > (1u << 22) || w.nsteps > (1u << 16))
			return worker_lost(job, pid, "answered nonsense");
		rep = at_report_new(w.nthreads, w.nsteps);
		if (!rep)
			return worker_lost(job, pid,
					   "could not be heard (no memory)");
		rep->verdict = (enum allthreads_verdict)w.verdict;
		rep->times = w.times;
		err = read_all(fd, rep->t, w.nthreads * sizeof(*rep->t),
			       deadline);
		if (!err)
			err = read_all(fd, rep->res,
				       (size_t)w.nthreads * w.nsteps *
					       sizeof(long),
				       deadline);
		if (err) {
			at_report_free(rep);
			return worker_lost(job, pid, "broke off its answer");
		}
		*job->report = rep;
	}
	/* It has answered: it exits now (no wait without an end). */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return w.ret;
}

/*
 * The tracer as a process of its own, forked here: its own session, every
 * catchable signal blocked, bounded by the run's deadline.  If the caller
 * dies (even by SIGKILL) mid-run, the tracer does not: it finishes or
 * undoes the run, puts every thread back and detaches, so no thread of
 * the target is ever left with injected registers by the caller's death.
 * If the tracer is lost instead, the caller reaps it and says what may
 * have changed (worker_lost()).
 */
int pt_run_worker(struct pt_job *job)
{
	unsigned ms = job->timeout_ms ? job->timeout_ms :
					ALLTHREADS_DEFAULT_TIMEOUT_MS;
	struct pt_share *share;
	sigset_t all, term, old;
	int fds[2], err;
	pid_t pid;

	share = mmap(NULL, sizeof(*share), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (share == MAP_FAILED)
		return -errno;
	job->share = share;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		err = -errno;
		goto out_share;
	}
	/* Blocked across the fork: the child starts with no handler able to
	 * run, and this thread takes the signals that end a program only
	 * after the answer (as run_thread() does). */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		worker_main(job, fds[1]);
	}
	err = pid < 0 ? -errno : 0;
	/* Here only the signals that end or stop a program wait. */
	pt_term_signals(&term);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	close(fds[1]);
	if (!err)
		err = worker_answer(job, pid, fds[0], ms);
	else if (job->why && job->whylen)
		snprintf(job->why, job->whylen,
			 "cannot start the tracer process: %s", strerror(-err));
	close(fds[0]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out_share:
	job->share = NULL;
	munmap(share, sizeof(*share));
	return err;
}

#endif /* AT_ARCH_NONE */
