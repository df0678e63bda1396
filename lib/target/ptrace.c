// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace.c - the ptrace route: a step program on every thread of another
 * process that has no helper.
 *
 *   preflight  from /proc only: permission (each reason its own message),
 *              another tracer, seccomp, the architecture, kernel workers
 *   freeze     PTRACE_SEIZE + PTRACE_INTERRUPT every thread (never
 *              PTRACE_ATTACH: no SIGSTOP, job control undisturbed),
 *              PTRACE_O_TRACECLONE, /proc/PID/task rescanned until a pass
 *              finds nothing new; nothing is changed before all are stopped
 *   capture    registers (NT_PRSTATUS only) and signal mask of each
 *   canary     the program on one thread first: if it fails there, it is
 *              undone there and nothing else is touched
 *   the rest   then every other thread, judged against the canary
 *   verify     every thread's /proc status while all are still stopped
 *   undo       on a failure, the undoable steps everywhere
 *   release    PTRACE_DETACH every thread: the kernel redoes the
 *              syscall-restart decision with the thread's own registers;
 *              a job-control-stopped process stays stopped
 *
 * All of it runs on a thread of its own (the tracer), which blocks every
 * signal: its waits see only its tracees (no child of the caller is ever
 * reaped), and when it ends, any thread it could not release is released
 * by the kernel.  The calling thread blocks the terminal signals meanwhile,
 * so Ctrl-C acts once every thread is back where it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl-client.h"
#include "ctl-proto.h"
#include "inject.h"
#include "proctext.h"
#include "ptrace.h"
#include "report.h"
#include "run.h"
#include "sysret.h"
#include "timespec.h"
#include "stub.h"

#define PF_IO_WORKER 0x00000010u
#define PF_USER_WORKER 0x00004000u
#define CAP_BIT_SYS_PTRACE 19
#define CAP_BIT_SYS_ADMIN 21
#define AT_PT_MAX_PASSES 64
/* Past the run's deadline, the time it has to let every thread go: undo
 * what it can, unmap its region, detach. */
#define AT_PT_LETGO_MS 1000
/* The caller's wait for a tracer process past the run's deadline, after
 * which it kills it (the kernel then detaches every thread it held). */
#define AT_PT_GRACE_MS 5000
/* The tracer's real-time priority while it holds threads: above any
 * SCHED_OTHER work and low real-time work, below the kernel's interrupt
 * threads (50). */
#define AT_PT_RT_PRIO 40
/* A status file with 65536 supplementary groups still fits. */
#define AT_PT_STATUS_MAX (768 * 1024)

/*
 * What a tracer shares with its caller (a MAP_SHARED page when it is a
 * process of its own): if it is lost (killed, or not answering in time),
 * the caller knows from it whether anything may have changed, and which
 * region of ours to remove from the target.
 */
struct pt_share {
	int touched;	    /* an injection began: threads may differ */
	unsigned long base; /* the runner's region in the target, 0 none */
	unsigned long size;
	int stub; /* the stub's code at its start */
};

/* --- /proc ------------------------------------------------------------------ */

static int task_status(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	return at_proc_read(path, buf, len);
}

/* State and flags from /proc/PID/task/TID/stat; -errno if gone. */
static int task_stat(pid_t pid, pid_t tid, char *state, unsigned long *flags)
{
	char path[64], buf[1024];
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	r = at_proc_read(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EINVAL;
	return 0;
}

static bool has_cap(unsigned long long caps, int bit)
{
	return (caps >> bit) & 1;
}

struct self_info {
	unsigned long long eff, prm;
	long uid, gid;
	int seccomp;
	bool init_userns;
};

static void self_info(struct self_info *s)
{
	char buf[4096];

	memset(s, 0, sizeof(*s));
	if (at_proc_read("/proc/thread-self/status", buf, sizeof(buf)) > 0) {
		s->eff = at_proc_field_hex(buf, "CapEff");
		s->prm = at_proc_field_hex(buf, "CapPrm");
		s->seccomp = (int)at_proc_field_long(buf, "Seccomp", 0);
	}
	s->uid = (long)getuid();
	s->gid = (long)getgid();
	if (at_proc_read("/proc/self/uid_map", buf, sizeof(buf)) > 0) {
		unsigned long a, b, n;

		s->init_userns = sscanf(buf, "%lu %lu %lu", &a, &b, &n) == 3 &&
				 a == 0 && b == 0 && n == 4294967295ul;
	}
}

static bool is_descendant(pid_t pid)
{
	pid_t me = getpid(), p = pid;
	char path[64], buf[4096];
	int i;

	for (i = 0; i < 256 && p > 1; i++) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
		if (at_proc_read(path, buf, sizeof(buf)) <= 0)
			return false;
		p = (pid_t)at_proc_field_long(buf, "PPid", 0);
		if (p == me)
			return true;
	}
	return false;
}

static void comm_of(pid_t pid, char *out, size_t len)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	r = at_proc_read(path, out, len);
	if (r <= 0)
		snprintf(out, len, "?");
	out[strcspn(out, "\n")] = 0;
}

/* --- the thread table ---------------------------------------------------------- */

static struct pt_thread *lookup(struct pt_ctx *c, pid_t tid)
{
	uint32_t i, n;

	if (!c->hash)
		return NULL;
	i = ((uint32_t)tid * 2654435761u) & c->hmask;
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
	for (k = 0; k < c->n; k++) {
		uint32_t i = ((uint32_t)c->t[k].tid * 2654435761u) & c->hmask;

		while (c->hash[i])
			i = (i + 1) & c->hmask;
		c->hash[i] = k + 1;
	}
}

static struct pt_thread *add_thread(struct pt_ctx *c, pid_t tid, int st)
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
	t->rstate = ALLTHREADS_T_NOT_RUN;
	{
		uint32_t i = ((uint32_t)tid * 2654435761u) & c->hmask;

		while (c->hash[i])
			i = (i + 1) & c->hmask;
		c->hash[i] = ++c->n;
	}
	return t;
}

/* --- preflight --------------------------------------------------------------------- */

/* The capabilities the program's steps need (a thread without one fails
 * the step), as a mask of CapEff bits. */
static unsigned long long needed_caps(const struct pt_ctx *c)
{
	unsigned long long need = 0;
	unsigned i;

	for (i = 0; c && i < c->nsteps; i++) {
		const struct pt_call *s = &c->steps[i].call;

		switch (s->nr) {
		case SYS_prctl:
			if (s->a[0] == PR_CAPBSET_DROP ||
			    s->a[0] == PR_SET_SECUREBITS)
				need |= 1ull << CAP_SETPCAP;
			break;
		case SYS_setuid:
		case SYS_setreuid:
		case SYS_setresuid:
		case SYS_setfsuid:
			need |= 1ull << CAP_SETUID;
			break;
		case SYS_setgid:
		case SYS_setregid:
		case SYS_setresgid:
		case SYS_setfsgid:
		case SYS_setgroups:
			need |= 1ull << CAP_SETGID;
			break;
		}
	}
	return need;
}

/* Whether a thread in seccomp mode MODE may take the injected calls: 0,
 * or -ENOTSUP with WHY (the same words before and after the freeze). */
static int seccomp_refusal(pid_t tid, long mode, bool can_suspend, char *why,
			   size_t whylen)
{
	if (mode == 1) {
		snprintf(why, whylen,
			 "thread %d is in seccomp strict mode: any injected "
			 "call would kill the process",
			 (int)tid);
		return -ENOTSUP;
	}
	if (mode == 2 && !can_suspend) {
		snprintf(why, whylen,
			 "thread %d has a seccomp filter that could kill or "
			 "trap the injected calls; suspending it needs "
			 "CAP_SYS_ADMIN (and no filter of your own)",
			 (int)tid);
		return -ENOTSUP;
	}
	return 0;
}

/*
 * What can be known before touching anything.  With C, the threads found
 * are listed in it (zombies and kernel workers marked).  Returns 0, or
 * -errno with WHY; *SUSPEND tells whether the target's seccomp filters
 * must be (and may be) suspended while we work.
 */
static int preflight(pid_t pid, struct pt_ctx *c, char *why, size_t whylen,
		     bool *suspend)
{
	char path[PATH_MAX], status[8192], ts[8192], comm[64];
	struct self_info me;
	struct dirent *de;
	long uids[3], gids[3], v;
	unsigned long long prm;
	const char *p;
	bool sysptrace, need_suspend = false, can_suspend;
	int r, yama = 0, nthreads = 0;
	unsigned long long need = needed_caps(c), ref = 0;
	pid_t reftid = 0;
	struct stat sb;
	DIR *d;

	*suspend = false;
	if (pid <= 0) {
		snprintf(why, whylen, "bad process id");
		return -ESRCH;
	}
	if (pid == getpid()) {
		snprintf(
			why, whylen,
			"a process cannot ptrace itself (use allthreads_run())");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = at_proc_read(path, status, sizeof(status));
	if (r < 0) {
		snprintf(why, whylen, "%s",
			 r == -ENOENT ? "no such process" : strerror(-r));
		return r == -ENOENT ? -ESRCH : -EPERM;
	}
	if (at_proc_field_long(status, "Tgid", 0) != pid) {
		snprintf(why, whylen, "%d is a thread of process %ld", (int)pid,
			 at_proc_field_long(status, "Tgid", 0));
		return -ESRCH;
	}
	p = at_proc_field(status, "State");
	if (p && (*p == 'Z' || *p == 'X') &&
	    at_proc_field_long(status, "Threads", 1) <= 1) {
		snprintf(why, whylen, "the process has exited (zombie)");
		return -ESRCH;
	}
	self_info(&me);
	sysptrace = has_cap(me.eff, CAP_BIT_SYS_PTRACE);
	can_suspend = has_cap(me.eff, CAP_BIT_SYS_ADMIN) && me.seccomp == 0 &&
		      me.init_userns;

	if (at_proc_read("/proc/sys/kernel/yama/ptrace_scope", ts, sizeof(ts)) >
	    0)
		yama = atoi(ts);
	if (yama >= 3) {
		snprintf(why, whylen,
			 "ptrace is disabled on this system until reboot "
			 "(kernel.yama.ptrace_scope=3); start the target with "
			 "`allthreads run` instead");
		return -EPERM;
	}
	if (yama == 2 && !sysptrace) {
		snprintf(why, whylen,
			 "kernel.yama.ptrace_scope=2: only a caller with "
			 "CAP_SYS_PTRACE may ptrace");
		return -EPERM;
	}
	if (yama == 1 && !sysptrace && !is_descendant(pid) &&
	    at_proc_field_long(status, "TracerPid", 0) == 0) {
		/* The target may have named us with PR_SET_PTRACER: only the
		 * kernel knows.  The message is kept for a refusal. */
	}
	p = at_proc_field(status, "Uid");
	if (!p || sscanf(p, "%ld %ld %ld", &uids[0], &uids[1], &uids[2]) != 3) {
		snprintf(why, whylen, "cannot read the target's status");
		return -EPERM;
	}
	p = at_proc_field(status, "Gid");
	if (!p || sscanf(p, "%ld %ld %ld", &gids[0], &gids[1], &gids[2]) != 3) {
		snprintf(why, whylen, "cannot read the target's status");
		return -EPERM;
	}
	if (!sysptrace) {
		if (uids[0] != me.uid || uids[1] != me.uid ||
		    uids[2] != me.uid || gids[0] != me.gid ||
		    gids[1] != me.gid || gids[2] != me.gid) {
			snprintf(why, whylen,
				 "the process runs as uid %ld/%ld/%ld gid "
				 "%ld/%ld/%ld but you are uid %ld gid %ld; "
				 "CAP_SYS_PTRACE is needed",
				 uids[0], uids[1], uids[2], gids[0], gids[1],
				 gids[2], me.uid, me.gid);
			return -EPERM;
		}
		snprintf(path, sizeof(path), "/proc/%d", (int)pid);
		if (stat(path, &sb) == 0 && (long)sb.st_uid != uids[1]) {
			snprintf(why, whylen,
				 "the process is not dumpable (set-id, file "
				 "capabilities or PR_SET_DUMPABLE 0); "
				 "CAP_SYS_PTRACE is needed");
			return -EPERM;
		}
		prm = at_proc_field_hex(status, "CapPrm");
		if (prm & ~me.prm) {
			snprintf(why, whylen,
				 "the process holds capabilities you do not "
				 "have (CapPrm %016llx); CAP_SYS_PTRACE is "
				 "needed",
				 prm);
			return -EPERM;
		}
	}
	/* The program's architecture, from its ELF header where readable. */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	{
		unsigned char e[20];
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			ssize_t n = pread(fd, e, sizeof(e), 0);

			close(fd);
			if (n == (ssize_t)sizeof(e) && !memcmp(e, ELFMAG, 4)) {
				unsigned machine = e[18] | (unsigned)e[19] << 8;

				if (e[EI_CLASS] != ELFCLASS64) {
					snprintf(why, whylen,
						 "a 32-bit program%s: only "
						 "64-bit %s processes are "
						 "supported",
						 machine == EM_X86_64 ?
							 " (x32)" :
							 "",
						 AT_ARCH_NAME);
					return -ENOTSUP;
				}
				if (machine != AT_ARCH_ELF_MACHINE) {
					snprintf(why, whylen,
						 "a program for another "
						 "architecture (ELF machine "
						 "%u)",
						 machine);
					return -ENOTSUP;
				}
			}
		}
	}

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d) {
		snprintf(why, whylen, "cannot list the threads: %s",
			 strerror(errno));
		return errno == ENOENT ? -ESRCH : -EPERM;
	}
	r = 0;
	while (r == 0 && (de = readdir(d)) && nthreads < 1 << 22) {
		pid_t tid = (pid_t)atoi(de->d_name);
		unsigned long flags = 0;
		char state = 0;
		int st = 0;

		if (tid <= 0)
			continue;
		nthreads++;
		if (task_stat(pid, tid, &state, &flags) < 0)
			continue; /* gone already */
		if (task_status(pid, tid, ts, sizeof(ts)) < 0)
			continue;
		v = at_proc_field_long(ts, "TracerPid", 0);
		if (v != 0 && (!c || v != c->self)) {
			comm_of((pid_t)v, comm, sizeof(comm));
			snprintf(why, whylen,
				 "thread %d is already being traced by pid %ld "
				 "(%s); detach that tracer first",
				 (int)tid, v, comm);
			r = -EBUSY;
			break;
		}
		if (state == 'Z' || state == 'X')
			st = PT_ZOMBIE;
		else if (flags & (PF_IO_WORKER | PF_USER_WORKER))
			st = PT_WORKER;
		else if (need && !reftid) {
			reftid = tid;
			ref = at_proc_field_hex(ts, "CapEff") & need;
		}
		if (!st && need && reftid != tid &&
		    (at_proc_field_hex(ts, "CapEff") & need) != ref) {
			unsigned long long diff =
				(at_proc_field_hex(ts, "CapEff") & need) ^ ref;
			int bit = __builtin_ctzll(diff);

			snprintf(why, whylen,
				 "thread %d %s %s, which thread %d %s: the "
				 "change would leave them different; nothing "
				 "was changed",
				 (int)tid, (ref >> bit) & 1 ? "lacks" : "has",
				 bit == CAP_SETUID ? "CAP_SETUID" :
				 bit == CAP_SETGID ? "CAP_SETGID" :
						     "CAP_SETPCAP",
				 (int)reftid,
				 (ref >> bit) & 1 ? "has" : "lacks");
			r = -EIO;
			break;
		} else if (!st && at_proc_field_long(ts, "Seccomp", 0)) {
			need_suspend = true;
			r = seccomp_refusal(
				tid, at_proc_field_long(ts, "Seccomp", 0),
				can_suspend, why, whylen);
			if (r)
				break;
		}
		if (c && !lookup(c, tid)) {
			struct pt_thread *t = add_thread(c, tid, st);

			if (!t) {
				r = -ENOMEM;
				break;
			}
			if (st == PT_WORKER)
				snprintf(t->why, sizeof(t->why),
					 "kernel worker (io_uring/vhost): "
					 "never in user space, keeps its own "
					 "credentials");
		}
	}
	closedir(d);
	if (r)
		return r;
	if (!nthreads) {
		snprintf(why, whylen, "no such process");
		return -ESRCH;
	}
	(void)need_suspend;
	/* Suspend the target's filters whenever we may: a filter the program
	 * itself installs must not judge the calls that follow it. */
	*suspend = can_suspend;
	return 0;
}

int at_ptrace_probe(pid_t pid, char *why, size_t whylen)
{
	bool suspend;
	char dummy[8];

#ifdef AT_ARCH_NONE
	(void)pid;
	snprintf(why, whylen,
		 "the ptrace route is not built for this "
		 "architecture");
	return -ENOTSUP;
#endif
	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	return preflight(pid, NULL, why, whylen, &suspend);
}

#ifndef AT_ARCH_NONE

/* Why SEIZE said EPERM for TID, in the order the kernel checks. */
static int explain_eperm(struct pt_ctx *c, pid_t tid)
{
	char buf[8192], comm[64], state = 0;
	unsigned long flags;
	long v;

	if (task_stat(c->pid, tid, &state, &flags) < 0)
		return -ESRCH;
	if (state == 'Z' || state == 'X')
		return 1; /* a zombie: skip it */
	if (task_status(c->pid, tid, buf, sizeof(buf)) > 0) {
		v = at_proc_field_long(buf, "TracerPid", 0);
		if (v == c->self)
			return 2; /* ours already (a clone we were told of) */
		if (v) {
			comm_of((pid_t)v, comm, sizeof(comm));
			pt_why(c,
			       "thread %d is already being traced by pid %ld "
			       "(%s); detach that tracer first",
			       (int)tid, v, comm);
			return -EBUSY;
		}
	}
	if (at_proc_read("/proc/sys/kernel/yama/ptrace_scope", buf,
			 sizeof(buf)) > 0 &&
	    atoi(buf) == 1) {
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

/* --- freezing -------------------------------------------------------------------- */

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
	t->st = PT_SEIZED;
	pt_restart_peek(c, t);
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 && errno == ESRCH)
		t->st = PT_GONE;
	return 0;
}

/* Wait until T sits in a stop we may work from. */
static int settle(struct pt_ctx *c, struct pt_thread *t)
{
	unsigned long msg;
	pid_t tid;
	int st, r, i, sig;

	for (i = 0; i < 256; i++) {
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
			    !lookup(c, (pid_t)msg) &&
			    !add_thread(c, (pid_t)msg, PT_SEIZED))
				return -ENOMEM;
			/* The table may have moved. */
			t = lookup(c, tid);
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

/* One pass over /proc/PID/task: seize what is new.  Returns how many. */
static int scan(struct pt_ctx *c)
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

		if (tid <= 0 || lookup(c, tid))
			continue;
		if (task_stat(c->pid, tid, &state, &flags) < 0)
			continue;
		t = add_thread(c, tid, 0);
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

	task_stat(c->pid, t->tid, &state, &flags);
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

static int freeze(struct pt_ctx *c)
{
	unsigned k, pass;
	int r, fresh;

	for (pass = 0; pass < AT_PT_MAX_PASSES; pass++) {
		unsigned before = c->n;

		fresh = pass ? scan(c) : 1;
		if (fresh < 0)
			return fresh;
		for (k = 0; k < c->n; k++)
			if (c->t[k].st == 0) {
				r = seize(c, &c->t[k]);
				if (r < 0)
					return r;
			}
		for (k = 0; k < c->n; k++) {
			if (c->t[k].st != PT_SEIZED)
				continue;
			r = settle(c, &c->t[k]);
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
		if (pass && fresh == 0 && c->n == before)
			return 0;
	}
	pt_why(c, "threads kept appearing; nothing was changed");
	return -ETIMEDOUT;
}

/* --- the program, compiled for the target --------------------------------------------- */

static int compile(struct pt_ctx *c, const struct allthreads_prog *prog)
{
	const struct at_ctl_req *req;
	long len;
	unsigned i;

	c->req = malloc(AT_CTL_MAX_MSG);
	c->steps = calloc(prog->n, sizeof(*c->steps));
	if (!c->req || !c->steps)
		return -ENOMEM;
	len = at_ctl_serialize(prog, 0, 0, ALLTHREADS_MISMATCH_REPORT, c->req,
			       AT_CTL_MAX_MSG);
	if (len < 0) {
		pt_why(c, "cannot pass the program's arguments: %s",
		       strerror((int)-len));
		return (int)len;
	}
	req = c->req;
	c->nsteps = prog->n;
	for (i = 0; i < prog->n; i++) {
		const struct at_step *s = &prog->steps[i];
		struct pt_step *d = &c->steps[i];

		d->call.nr = s->nr;
		memcpy(d->call.a, s->args, sizeof(d->call.a));
		d->has_save = s->has_save;
		d->save.nr = s->has_save ? s->save_nr : -1;
		memcpy(d->save.a, s->save_args, sizeof(d->save.a));
		d->has_undo = s->has_undo;
		d->undo.nr = s->has_undo ? s->undo_nr : -1;
		memcpy(d->undo.a, s->undo_args, sizeof(d->undo.a));
		d->judge = s->judge;
	}
	/* Room for the buffers and one struct sock_fprog per filter. */
	c->data_len = ((req->data_len + 15) & ~15u) +
		      (size_t)prog->n * AT_CTL_MAX_PTRS * 16;
	if (!req->data_len)
		c->data_len = 0;
	if (c->hook) {
		/* Its bytes after the program's (an offset until mapped). */
		c->hook_at = (c->data_len + 15) & ~(size_t)15;
		c->data_len = c->hook_at + c->hook->data_len;
	}
	return 0;
}

int pt_relocate(struct pt_ctx *c)
{
	const struct at_ctl_req *req = c->req;
	const struct at_ctl_step *steps = (const void *)(req + 1);
	const unsigned char *src = (const unsigned char *)(steps + req->nsteps);
	size_t fp = (req->data_len + 15) & ~15u;
	unsigned i, k;

	if (!c->data_len)
		return 0;
	c->data = calloc(1, c->data_len);
	if (!c->data)
		return -ENOMEM;
	memcpy(c->data, src, req->data_len);
	for (i = 0; i < c->nsteps; i++) {
		for (k = 0; k < AT_CTL_MAX_PTRS; k++) {
			const struct at_ctl_ptr *p = &steps[i].ptr[k];
			struct pt_call *call;
			unsigned long at = c->data_at + p->off;

			if (p->list == AT_CTL_UNUSED)
				continue;
			call = p->list == AT_CTL_ARGS ? &c->steps[i].call :
			       p->list == AT_CTL_SAVE ? &c->steps[i].save :
							&c->steps[i].undo;
			if (p->kind == AT_CTL_FPROG) {
				struct {
					uint16_t len;
					uint16_t pad[3];
					uint64_t filter;
				} f = { (uint16_t)(p->len / 8), { 0 }, at };

				if (fp + 16 > c->data_len)
					return -E2BIG;
				memcpy(c->data + fp, &f, sizeof(f));
				at = c->data_at + fp;
				fp += 16;
			}
			call->a[p->arg] = (long)at;
		}
	}
	return 0;
}

/* --- verifying from /proc, while every thread is stopped ----------------------------- */

static const char *const vkeys[] = {
	"Uid",	      "Gid",	 "Groups",	    "CapInh",
	"CapPrm",     "CapEff",	 "CapBnd",	    "CapAmb",
	"NoNewPrivs", "Seccomp", "Seccomp_filters",
};
#define NVKEYS (sizeof(vkeys) / sizeof(vkeys[0]))

struct vstate {
	char *v[NVKEYS];
};

static void vfree(struct vstate *s)
{
	unsigned i;

	for (i = 0; i < NVKEYS; i++) {
		free(s->v[i]);
		s->v[i] = NULL;
	}
}

/* TID's whole status file into c->sbuf; its length or -errno. */
static int read_status(struct pt_ctx *c, pid_t tid)
{
	int r;

	for (;;) {
		if (!c->sbuf) {
			c->sbuf_len = c->sbuf_len ? c->sbuf_len * 4 : 16384;
			c->sbuf = malloc(c->sbuf_len);
			if (!c->sbuf)
				return -ENOMEM;
		}
		r = task_status(c->pid, tid, c->sbuf, c->sbuf_len);
		if (r < 0 || (size_t)r + 1 < c->sbuf_len ||
		    c->sbuf_len >= AT_PT_STATUS_MAX)
			return r;
		free(c->sbuf); /* a long Groups line: read it whole */
		c->sbuf = NULL;
	}
}

static int vread(struct pt_ctx *c, pid_t tid, struct vstate *s)
{
	unsigned i;
	int r = read_status(c, tid);

	if (r == -ENOMEM)
		return r;
	for (i = 0; r >= 0 && i < NVKEYS; i++) {
		const char *p = at_proc_field(c->sbuf, vkeys[i]);

		s->v[i] = p ? strndup(p, strcspn(p, "\n")) : NULL;
	}
	return r < 0 ? r : 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* --- the deadline, and letting go ----------------------------------------------------- */

/* The runner's region as the caller should know it (0: none left). */
static void pt_share_region(struct pt_ctx *c)
{
	__atomic_store_n(&c->share->size, c->base ? c->size : 0,
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->share->stub, c->base && c->use_stub,
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->share->base, c->base, __ATOMIC_SEQ_CST);
}

/* Past the run's deadline nothing new starts: T (not run yet) is left as
 * it is, and the run lets every thread go. */
static bool past_deadline(struct pt_ctx *c, struct pt_thread *t)
{
	if (!at_ts_past(&c->deadline))
		return false;
	t->rstate = ALLTHREADS_T_TIMEOUT;
	snprintf(t->why, sizeof(t->why),
		 "not reached before the deadline: left as it was");
	return true;
}

/* Once the deadline has passed, what is left to do (undo, unmap) gets
 * until c->letgo, once: never a new deadline per thread. */
static void letgo(struct pt_ctx *c)
{
	if (at_ts_past(&c->deadline) && at_ts_before(&c->deadline, &c->letgo))
		c->deadline = c->letgo;
}

/* No time left to undo T: what it ran stays. */
static bool past_letgo(struct pt_ctx *c, struct pt_thread *t)
{
	if (!t->ran || t->st != PT_STOPPED || !at_ts_past(&c->letgo))
		return false;
	t->left = t->nrun;
	snprintf(t->why, sizeof(t->why),
		 "changed; no time was left to undo it");
	return true;
}

/* --- the run ---------------------------------------------------------------------------- */

/*
 * Preflight looked at each thread's seccomp mode before the freeze; a
 * thread may have installed a filter between that look and its stop.
 * Look again now that no thread can run, before anything is injected:
 * the same refusal, with nothing changed.  Filters suspended for our
 * calls (PTRACE_O_SUSPEND_SECCOMP) need no second look.
 */
static int recheck_seccomp(struct pt_ctx *c)
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
		r = read_status(c, t->tid);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue; /* gone: found so later */
		r = seccomp_refusal(t->tid,
				    at_proc_field_long(c->sbuf, "Seccomp", 0),
				    false, why, whylen);
		if (r)
			return r;
	}
	return 0;
}

static long subst(long arg, long saved)
{
	return arg == ALLTHREADS_SAVED ? saved : arg;
}

/* Undo what T did, last step first; T->left gets what stays. */
static void undo_thread(struct pt_ctx *c, struct pt_thread *t)
{
	struct pt_call *calls;
	long *res;
	unsigned n = 0, k;
	int i, left = 0;

	if (!t->ran || t->st != PT_STOPPED)
		return;
	letgo(c);
	calls = calloc(c->nsteps ? c->nsteps : 1, sizeof(*calls));
	res = calloc(c->nsteps ? c->nsteps : 1, sizeof(*res));
	if (!calls || !res) {
		t->left = t->nrun;
		goto out;
	}
	for (i = t->nrun - 1; i >= 0; i--) {
		const struct pt_step *s = &c->steps[i];
		long sv = s->has_save ? t->sav[i] : 0;

		if (at_is_error(t->res[i]))
			continue;
		if (!s->has_undo || (s->has_save && at_is_error(sv))) {
			left++;
			continue;
		}
		if (s->undo.nr < 0)
			continue;
		calls[n].nr = s->undo.nr;
		for (k = 0; k < 6; k++)
			calls[n].a[k] = subst(s->undo.a[k], sv);
		n++;
	}
	if (pt_run_calls(c, t, calls, n, res) < 0)
		left += (int)n;
	else
		for (k = 0; k < n; k++)
			left += at_is_error(res[k]);
	t->left = left;
	if (t->rstate == ALLTHREADS_T_OK)
		t->rstate = ALLTHREADS_T_UNDONE;
out:
	free(calls);
	free(res);
}

static uint64_t ns_now(void)
{
	struct timespec t;

	at_ts_now(&t);
	return at_ts_ns(&t);
}

static void release(struct pt_ctx *c)
{
	unsigned k;

	for (k = 0; k < c->n; k++)
		if (c->t[k].st == PT_STOPPED)
			pt_release(c, &c->t[k]);
}

/* A thread that is not in /proc any more (killed meanwhile). */
static bool vanished(struct pt_ctx *c, struct pt_thread *t)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)c->pid,
		 (int)t->tid);
	return access(path, F_OK) < 0;
}

/*
 * A thread for the injected calls that return 0 (mprotect, munmap): one
 * waiting in futex(2), interrupted (-ERESTARTSYS) in its own syscall
 * instruction.  Should this process die in the middle of such a call, the
 * thread goes on with 0 as its futex's result, which is a spurious wake-up,
 * and every futex user (glibc's condition variables, mutexes, joins)
 * checks again and waits again.  NULL if there is none.
 */
static struct pt_thread *waiting_in(struct pt_ctx *c, long nr)
{
	unsigned k;

	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];
		unsigned long cand[2];

		if (t->st == PT_STOPPED && t->captured &&
		    at_arch_own_insn(&t->saved, cand) > 0 &&
		    at_arch_interrupted(&t->saved, nr))
			return t;
	}
	return NULL;
}

static struct pt_thread *pt_quiet(struct pt_ctx *c)
{
	return waiting_in(c, SYS_futex);
}

/*
 * A thread for the mmap(2) that makes the runner's region: its result is
 * an address, which a futex wait would take for an error; a sleep
 * (glibc's nanosleep, usleep, sleep: clock_nanosleep) takes it for
 * success and only wakes early.  The canary if there is none.
 */
static struct pt_thread *pt_sleeper(struct pt_ctx *c, struct pt_thread *can)
{
	struct pt_thread *t = waiting_in(c, SYS_clock_nanosleep);

#ifdef SYS_nanosleep
	if (!t)
		t = waiting_in(c, SYS_nanosleep);
#endif
	return t ? t : can;
}

struct pt_result {
	int ret;
	enum allthreads_verdict verdict;
	unsigned canary;
	bool have_canary;
	uint64_t t_freeze, t_frozen, t_inject, t_verify, t_end;
};

#if AT_ARCH_HAS_STUB
/* The stub's stop signal: the first of AT_STUB_SIGNALS the target has no
 * handler for (SigCgt), read while every thread is stopped, so no
 * disposition can change before the stub is done.  0: it catches them
 * all, the stub is not used. */
static int stub_signal(struct pt_ctx *c)
{
	static const int sigs[] = AT_STUB_SIGNALS;
	char path[64], buf[4096];
	unsigned long long caught;
	unsigned i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->pid);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0 ||
	    !at_proc_field(buf, "SigCgt"))
		return 0;
	caught = at_proc_field_hex(buf, "SigCgt");
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!((caught >> (sigs[i] - 1)) & 1))
			return sigs[i];
	return 0;
}
#endif

/*
 * A real-time tracer waits for a co-located tracee only while something
 * above the tracees holds that CPU (a real-time task; the throttling then
 * lets the tracee and the tracer run in turns, one stop a period): a
 * thread that took that long there makes the others run where they are.
 */
#define AT_PT_COLO_SLOW_NS 20000000ull
static void colo_check(struct pt_ctx *c, uint64_t start)
{
	if (c->boosted && c->cpu >= 0 && ns_now() - start > AT_PT_COLO_SLOW_NS)
		c->cpu = -1;
}

static int run_all(struct pt_ctx *c, enum allthreads_mismatch policy,
		   struct pt_result *out)
{
	struct vstate cbefore = { 0 }, cafter = { 0 }, vs = { 0 };
	bool changed_key[NVKEYS] = { 0 }, problem = false;
	struct pt_thread *can = NULL, *quiet = NULL, *dead = NULL;
	long *canres = NULL;
	unsigned k, i;
	int err, left = 0;
	bool hooked = false;
	uint64_t colo_start;

	err = recheck_seccomp(c);
	if (err)
		return err;
	/* Capture: nothing changes yet. */
	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];

		if (t->st != PT_STOPPED)
			continue;
		err = at_arch_get(t->tid, &t->saved);
		if (err == -ESRCH) {
			t->st = PT_GONE;
			continue;
		}
		if (err == -ENOTSUP) {
			pt_why(c,
			       "thread %d runs 32-bit (compat) code: only "
			       "64-bit %s threads are supported",
			       (int)t->tid, AT_ARCH_NAME);
			return -ENOTSUP;
		}
		if (err)
			return err;
		if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)8, &t->mask) < 0)
			return -errno;
		pt_mask_capture(c, t);
		t->captured = true;
		t->res = calloc(c->nsteps, sizeof(long));
		t->sav = calloc(c->nsteps, sizeof(long));
		if (!t->res || !t->sav)
			return -ENOMEM;
		for (i = 0; i < c->nsteps; i++)
			t->res[i] = -ECANCELED;
		if (!can)
			can = t;
	}
	if (!can) {
		pt_why(c, "no thread of the process could be stopped");
		return -ESRCH;
	}
	/* The memory through a live thread: a zombie leader has none. */
	c->mempid = can->tid;
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/mem",
			 (int)c->pid, (int)can->tid);
		c->memfd = open(path, O_RDWR | O_CLOEXEC);
	}
	/* Each thread as the kernel leaves it after a stop, before any of
	 * them is touched: rseq critical sections aborted. */
	err = pt_rseq_abort(c);
	if (err)
		return err;
	pt_restart_note(c);
	out->canary = (unsigned)(can - c->t);
	out->have_canary = true;
#if AT_ARCH_HAS_STUB
	if (c->use_stub) {
		c->stub_sig = stub_signal(c);
		if (!c->stub_sig)
			c->use_stub = false;
	}
#endif
	out->t_inject = ns_now();
	if (at_ts_past(&c->deadline)) {
		pt_why(c, "the deadline passed before anything was changed");
		return -ETIMEDOUT;
	}
	/* From here a thread may change: a tracer lost now leaves an
	 * unknown outcome. */
	__atomic_store_n(&c->share->touched, 1, __ATOMIC_SEQ_CST);
	colo_start = ns_now();

	/* The canary: the scratch region through it, then the steps. */
	pt_colocate(c, can);
	vread(c, can->tid, &cbefore);
	if (c->use_stub || c->data_len) {
		quiet = pt_quiet(c);
		err = pt_scratch_map(c, pt_sleeper(c, can), quiet);
		pt_share_region(c);
		if (err) {
			pt_restore(c, can);
			pt_why(c, "cannot map scratch memory in thread %d: %s",
			       (int)can->tid, strerror(-err));
			goto out;
		}
		pt_restore(c, can);
	}
	if (c->hook) {
		c->hook_at += c->data_at;
		err = c->hook->before(c, can, c->hook->arg);
		pt_restore(c, can);
		if (err) {
			/* Nothing ran: no thread to report on. */
			out->have_canary = false;
			pt_uncolocate(c, can);
			goto out;
		}
		hooked = true;
	}
	err = pt_run_steps(c, can, NULL);
	pt_uncolocate(c, can);
	colo_check(c, colo_start);
	if (err) {
		can->rstate = ALLTHREADS_T_FAILED;
		pt_why(c, "thread %d: %s", (int)can->tid,
		       can->why[0] ? can->why : strerror(-err));
		undo_thread(c, can);
		out->verdict = can->left ? ALLTHREADS_PARTIAL :
					   ALLTHREADS_FAILED;
		goto out;
	}
	if (can->failed >= 0) {
		long r = can->res[can->failed];

		can->rstate = ALLTHREADS_T_FAILED;
		undo_thread(c, can);
		can->rstate = ALLTHREADS_T_FAILED;
		out->verdict = can->left ? ALLTHREADS_PARTIAL :
					   ALLTHREADS_FAILED;
		err = at_is_error(r) ? (int)r : -EIO;
		pt_why(c, "step %d failed on thread %d: %s", can->failed,
		       (int)can->tid,
		       at_is_error(r) ? strerror((int)-r) :
					"unexpected result");
		goto out;
	}
	can->rstate = ALLTHREADS_T_OK;
	canres = can->res;
	vread(c, can->tid, &cafter);
	for (i = 0; i < NVKEYS; i++)
		changed_key[i] = !same(cbefore.v[i], cafter.v[i]);

	/* The others, judged against the canary. */
	for (k = 0; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];

		if (t == can || t->st != PT_STOPPED || !t->captured)
			continue;
		if (past_deadline(c, t)) {
			problem = true;
			continue;
		}
		colo_start = ns_now();
		pt_colocate(c, t);
		err = pt_run_steps(c, t, canres);
		pt_uncolocate(c, t);
		colo_check(c, colo_start);
		if (err == -ESRCH || t->st == PT_GONE) {
			t->st = PT_GONE;
			if (t->died) {
				/* Killed by our call (a seccomp filter...) or
				 * meanwhile: either way not proven. */
				t->rstate = ALLTHREADS_T_FAILED;
				problem = true;
				if (!dead)
					dead = t;
			}
			continue;
		}
		if (err) {
			t->rstate = ALLTHREADS_T_FAILED;
			if (!t->why[0])
				snprintf(t->why, sizeof(t->why), "%s",
					 strerror(-err));
			problem = true;
			continue;
		}
		t->rstate = t->failed >= 0 ? ALLTHREADS_T_FAILED :
					     ALLTHREADS_T_OK;
		problem |= t->failed >= 0;
	}
	out->t_verify = ns_now();

	/* Every thread's /proc, still stopped: what the canary's changed must
	 * read the same everywhere (nothing to read if /proc shows none of
	 * it). */
	for (i = 0, k = c->n; i < NVKEYS; i++)
		if (changed_key[i])
			k = 0;
	for (; k < c->n; k++) {
		struct pt_thread *t = &c->t[k];

		if (t == can || t->rstate != ALLTHREADS_T_OK)
			continue;
		if (vread(c, t->tid, &vs) < 0) {
			if (vanished(c, t))
				t->st = PT_GONE;
			vfree(&vs);
			continue;
		}
		for (i = 0; i < NVKEYS; i++) {
			if (!changed_key[i] || same(vs.v[i], cafter.v[i]))
				continue;
			{
				char msg[256];

				snprintf(msg, sizeof(msg),
					 "/proc shows %s: %.40s (the canary: "
					 "%.30s)",
					 vkeys[i], vs.v[i] ? vs.v[i] : "-",
					 cafter.v[i] ? cafter.v[i] : "-");
				snprintf(t->why, sizeof(t->why), "%.95s", msg);
			}
			t->rstate = ALLTHREADS_T_FAILED;
			problem = true;
			break;
		}
		vfree(&vs);
	}
	/* Nobody new may have appeared: every thread was stopped. */
	if (scan(c) > 0) {
		for (k = 0; k < c->n; k++)
			if (c->t[k].st == 0) {
				c->t[k].rstate = ALLTHREADS_T_NOT_RUN;
				snprintf(c->t[k].why, sizeof(c->t[k].why),
					 "appeared during the run");
				problem = true;
			}
	}

	err = 0;
	out->verdict = ALLTHREADS_AGREE;
	if (problem) {
		if (policy == ALLTHREADS_MISMATCH_KILL) {
			kill(c->pid, SIGKILL);
			out->verdict = ALLTHREADS_PARTIAL;
			err = -EIO;
		} else if (policy == ALLTHREADS_MISMATCH_REPORT) {
			letgo(c);
			for (k = 0; k < c->n; k++) {
				struct pt_thread *t = &c->t[k];
				int was = t->rstate;

				if (past_letgo(c, t)) {
					left += t->left;
					continue;
				}
				undo_thread(c, t);
				if (was == ALLTHREADS_T_FAILED)
					t->rstate = was;
				left += t->left;
			}
			out->verdict = left ? ALLTHREADS_PARTIAL :
					      ALLTHREADS_FAILED;
			err = -EIO;
		} else {
			out->verdict = ALLTHREADS_PARTIAL;
		}
		if (dead) {
			/* The canary changed before; the process lost a
			 * thread to the run: never "nothing changed". */
			out->verdict = ALLTHREADS_PARTIAL;
			err = -EIO;
			pt_why(c, "thread %d %s; the run failed%s",
			       (int)dead->tid, dead->why,
			       policy == ALLTHREADS_MISMATCH_REPORT ?
				       " and the other threads were undone "
				       "where they could be" :
				       "");
		} else if (err) {
			pt_why(c, "the threads did not all agree%s",
			       out->verdict == ALLTHREADS_FAILED ?
				       "; every change was undone" :
				       "");
		}
	}
out:
	letgo(c);
	if (hooked) {
		struct pt_thread *t = can->st == PT_STOPPED ? can : NULL;

		for (k = 0; !t && k < c->n; k++)
			if (c->t[k].st == PT_STOPPED && c->t[k].captured)
				t = &c->t[k];
		if (t) {
			c->hook->after(c, t, c->hook->arg);
			pt_restore(c, t);
		}
	}
	if (c->base)
		pt_scratch_unmap(c, quiet && quiet->st == PT_STOPPED ? quiet :
								       can);
	pt_share_region(c);
	vfree(&cbefore);
	vfree(&cafter);
	return err;
}

static int build_report(struct pt_ctx *c, const struct pt_result *res,
			struct allthreads_report **reportp)
{
	struct allthreads_report *rep;
	unsigned k, i, j = 0;

	rep = at_report_new(c->n, c->nsteps);
	if (!rep)
		return -ENOMEM;
	rep->verdict = res->verdict;
	for (k = 0; k < c->n; k++) {
		/* The canary first, as the calling thread is in
		 * allthreads_run()'s report. */
		unsigned idx = res->have_canary ? (k == 0 ? res->canary :
						   k <= res->canary ? k - 1 :
								      k) :
						  k;
		struct pt_thread *t = &c->t[idx];
		struct at_rthread *r = &rep->t[j];

		r->tid = t->tid;
		r->failed_step = t->failed;
		r->nrun = t->nrun;
		r->left = t->left;
		switch (t->st) {
		case PT_ZOMBIE:
			r->state = ALLTHREADS_T_ZOMBIE;
			snprintf(t->why, sizeof(t->why), "zombie (exited)");
			break;
		case PT_GONE:
			if (t->died) {
				/* ended in our calls: a failure (why says) */
				r->state = ALLTHREADS_T_FAILED;
				break;
			}
			r->state = ALLTHREADS_T_EXITED;
			if (!t->why[0])
				snprintf(t->why, sizeof(t->why),
					 "exited during the run");
			break;
		default:
			r->state = t->rstate;
		}
		snprintf(r->why, sizeof(r->why), "%s", t->why);
		for (i = 0; i < c->nsteps; i++)
			rep->res[(size_t)j * c->nsteps + i] =
				t->res ? t->res[i] : -ECANCELED;
		j++;
	}
	rep->times.route = ALLTHREADS_ROUTE_PTRACE;
	rep->times.stub = c->use_stub;
	rep->times.stops = c->stops;
	if (res->t_frozen && res->t_end > res->t_freeze) {
		rep->times.frozen_ns = res->t_end - res->t_freeze;
		rep->times.stop_ns = res->t_frozen - res->t_freeze;
		if (res->t_verify > res->t_inject)
			rep->times.inject_ns = res->t_verify - res->t_inject;
		if (res->t_verify)
			rep->times.verify_ns = res->t_end - res->t_verify;
	}
	*reportp = rep;
	return 0;
}

static bool env_off(const char *name)
{
	const char *v = secure_getenv(name);

	return v && !strcmp(v, "0");
}

/* --- the tracer ahead of the work it freezes --------------------------------------- */

/* How the tracer thread ran before pt_boost(). */
struct pt_prio {
	int policy, nice;
	struct sched_param param;
	bool rt, niced;
};

/*
 * While it holds threads the tracer must not wait behind the work it
 * freezes (a loaded machine preempts a SCHED_OTHER tracer for whole
 * slices, each of them added to the frozen window): SCHED_FIFO where it
 * may (CAP_SYS_NICE, or RLIMIT_RTPRIO), else the lowest nice value it may
 * take; without either it goes on as it was.  This thread only (Linux
 * scheduling attributes are per thread); pt_unboost() puts them back.
 */
static void pt_boost(struct pt_ctx *c, struct pt_prio *p)
{
	struct sched_param sp = { .sched_priority = AT_PT_RT_PRIO };

	memset(p, 0, sizeof(*p));
	if (env_off("ALLTHREADS_PTRACE_BOOST"))
		return;
	p->policy = sched_getscheduler(0);
	if (p->policy < 0 || sched_getparam(0, &p->param) < 0)
		return;
	if (p->policy != SCHED_FIFO && p->policy != SCHED_RR &&
	    sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0) {
		p->rt = true;
		c->boosted = true;
		return;
	}
	errno = 0;
	p->nice = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && p->nice > -20 &&
	    setpriority(PRIO_PROCESS, 0, -20) == 0)
		p->niced = true;
}

static void pt_unboost(struct pt_ctx *c, struct pt_prio *p)
{
	if (p->rt && sched_setscheduler(0, p->policy, &p->param) == 0)
		p->rt = false;
	if (p->niced && setpriority(PRIO_PROCESS, 0, p->nice) == 0)
		p->niced = false;
	c->boosted = false;
}

/* --- removing what a lost tracer left in the target ---------------------------------- */

/* Does the target still map [BASE, BASE + SIZE) as the lost tracer left
 * it (anonymous memory, with the stub's code at BASE if STUB), so it is
 * ours to remove?  (The kernel may have merged it with a neighbour.) */
static bool region_mapped(struct pt_ctx *c, unsigned long base,
			  unsigned long size, bool stub)
{
	unsigned long lo, hi, ino, next = base, end = base + size;
	char path[64], line[512];
	bool ok = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int)c->pid,
		 (int)c->mempid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (ok && fgets(line, sizeof(line), f)) {
		char name[8] = "";

		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %7s", &lo, &hi, &ino,
			   name) < 3 ||
		    hi <= base || lo >= end)
			continue;
		ok = lo <= next && !ino && !name[0];
		next = hi;
	}
	fclose(f);
	if (!ok || next < end)
		return false;
#if AT_ARCH_HAS_STUB
	if (stub) {
		size_t len =
			(size_t)(at_stub_x86_64_end - at_stub_x86_64_begin);
		unsigned char *code = malloc(len);

		ok = code && pt_mem_read(c, base, code, len) == 0 &&
		     !memcmp(code, at_stub_x86_64_begin, len);
		free(code);
	}
#else
	(void)stub;
#endif
	return ok;
}

/* Is stopped thread TID at work in [BASE, BASE + SIZE) (its instruction
 * or stack pointer there, per /proc/.../syscall)?  True when unsure. */
static bool works_in(struct pt_ctx *c, pid_t tid, unsigned long base,
		     unsigned long size)
{
	char path[64], buf[256], *p;
	unsigned long sp, pc;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)c->pid,
		 (int)tid);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0)
		return true;
	buf[strcspn(buf, "\n")] = 0;
	p = strrchr(buf, ' ');
	if (!p)
		return true; /* "running" */
	pc = strtoul(p + 1, NULL, 16);
	*p = 0;
	p = strrchr(buf, ' ');
	if (!p)
		return true;
	sp = strtoul(p + 1, NULL, 16);
	return pc - base < size || sp - base < size;
}

static void forget_threads(struct pt_ctx *c)
{
	c->n = 0;
	if (c->hash)
		memset(c->hash, 0, (c->hmask + 1) * sizeof(*c->hash));
}

/*
 * The runner's region [BASE, BASE + SIZE) a lost tracer left in the
 * target, removed: every thread stopped, none of them at work in it, then
 * munmap(2) injected into one, everything released.  0 removed, 1 not
 * there (any more), -errno with c->why.
 */
static int sweep(struct pt_ctx *c, unsigned long base, unsigned long size,
		 bool stub)
{
	struct pt_call call = { .nr = SYS_munmap };
	struct pt_thread *t = NULL;
	bool suspend, busy = true;
	unsigned k, tries;
	long ret = 0;
	int err = 0;

	call.a[0] = (long)base;
	call.a[1] = (long)size;
	for (tries = 0; busy && tries < 8; tries++) {
		if (tries) {
			struct timespec ts = { 0, 20000000 };

			release(c);
			forget_threads(c);
			nanosleep(&ts, NULL);
		}
		err = preflight(c->pid, c, c->why, c->whylen, &suspend);
		if (err)
			return err;
		c->opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE |
			  PTRACE_O_TRACEEXEC;
		if (suspend)
			c->opts |= PTRACE_O_SUSPEND_SECCOMP;
		err = freeze(c);
		if (err)
			goto out;
		for (k = 0, t = NULL; k < c->n; k++) {
			if (c->t[k].st != PT_STOPPED)
				continue;
			if (!t)
				t = &c->t[k];
			if (works_in(c, c->t[k].tid, base, size))
				break;
		}
		busy = k < c->n;
		if (!t) {
			err = -ESRCH;
			goto out;
		}
		c->mempid = t->tid;
		if (!region_mapped(c, base, size, stub)) {
			err = 1;
			goto out;
		}
	}
	if (busy) {
		pt_why(c, "a thread was still at work in it");
		err = -EBUSY;
		goto out;
	}
	for (k = 0; k < c->n; k++) {
		struct pt_thread *u = &c->t[k];

		if (u->st == PT_STOPPED &&
		    at_arch_get(u->tid, &u->saved) == 0 &&
		    ptrace(PTRACE_GETSIGMASK, u->tid, (void *)8, &u->mask) ==
			    0) {
			u->captured = true;
			pt_mask_capture(c, u);
		}
	}
	pt_restart_note(c);
	if (pt_quiet(c))
		t = pt_quiet(c);
	if (!t->captured) {
		err = -ESRCH;
		goto out;
	}
	err = pt_inject(c, t, &call, &ret);
	pt_restore(c, t);
	if (!err && ret)
		err = (int)ret;
	if (err)
		pt_why(c, "munmap in thread %d: %s", (int)t->tid,
		       strerror(-err));
out:
	release(c);
	return err;
}

struct pt_job {
	pid_t pid;
	int pidfd;
	struct pt_share *share;
	/* Not the program: remove a lost tracer's region instead (sweep()),
	 * its outcome in ret (0, 1 or -errno). */
	unsigned long sweep_base, sweep_size;
	bool sweep_stub;
	const struct allthreads_prog *prog;
	const struct pt_hook *hook;
	unsigned timeout_ms;
	enum allthreads_mismatch policy;
	struct allthreads_report **report;
	char *why;
	size_t whylen;
	bool in_worker;
	int ret;
};

static void pt_job(struct pt_job *job)
{
	struct pt_share own = { 0 };
	struct pt_ctx c;
	struct pt_result res;
	struct pt_prio prio;
	bool suspend;
	unsigned ms = job->timeout_ms ? job->timeout_ms :
					ALLTHREADS_DEFAULT_TIMEOUT_MS;
	unsigned k;
	int err;

	memset(&c, 0, sizeof(c));
	memset(&res, 0, sizeof(res));
	res.verdict = ALLTHREADS_FAILED;
	c.pid = job->pid;
	c.pidfd = job->pidfd;
	c.hook = job->hook;
	c.self = (pid_t)syscall(SYS_gettid);
	c.memfd = -1;
	c.cpu = -1;
	c.why = job->why;
	c.whylen = job->whylen;
	c.share = job->share ? job->share : &own;
	c.chld_wake = job->in_worker;
	at_ts_after_ms(&c.deadline, ms);
	c.letgo = c.deadline;
	at_ts_add_ms(&c.letgo, AT_PT_LETGO_MS);
	/* Blocked while a thread runs our calls: all but the signals the
	 * kernel forces (blocking those would reset their handlers). */
	c.inj_mask = ~0ull;
	c.inj_mask &= ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) |
			(1ull << (SIGILL - 1)) | (1ull << (SIGFPE - 1)) |
			(1ull << (SIGTRAP - 1)) | (1ull << (SIGSYS - 1)));
	c.use_stub = AT_ARCH_HAS_STUB && !env_off("ALLTHREADS_PTRACE_STUB");
	if (job->in_worker && secure_getenv("ALLTHREADS_PTRACE_TEST_ABANDON"))
		c.abandon = (unsigned)atoi(
			secure_getenv("ALLTHREADS_PTRACE_TEST_ABANDON"));
	if (getrandom(&c.cookie, sizeof(c.cookie), 0) != sizeof(c.cookie))
		c.cookie = ns_now() ^ ((uint64_t)getpid() << 32);
	if (job->sweep_size) {
		pt_boost(&c, &prio);
		err = sweep(&c, job->sweep_base, job->sweep_size,
			    job->sweep_stub);
		pt_unboost(&c, &prio);
		goto out;
	}

	err = compile(&c, job->prog);
	if (err)
		goto out;
	err = preflight(c.pid, &c, c.why, c.whylen, &suspend);
	if (err)
		goto out;
	c.opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE |
		 PTRACE_O_TRACEEXEC;
	if (suspend)
		c.opts |= PTRACE_O_SUSPEND_SECCOMP;
	if (!env_off("ALLTHREADS_PTRACE_COLOCATE")) {
		int cpu = sched_getcpu();
		cpu_set_t one;

		CPU_ZERO(&one);
		if (cpu >= 0) {
			CPU_SET(cpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one) == 0)
				c.cpu = cpu;
		}
	}
	c.mempid = c.pid;

	/* From the first stop to the last release: ahead of the work. */
	pt_boost(&c, &prio);
	res.t_freeze = ns_now();
	err = freeze(&c);
	if (err == -EPERM && !c.why[0])
		pt_why(&c, "permission denied");
	res.t_frozen = ns_now();
	/* The pid must still name the process we opened. */
	if (!err && c.pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, c.pidfd, 0, NULL, 0) < 0 &&
	    errno == ESRCH) {
		pt_why(&c, "the process is gone");
		err = -ESRCH;
	}
	if (!err)
		err = run_all(&c, job->policy, &res);
	else if (err == -ECANCELED || err == -ETIMEDOUT)
		res.verdict = ALLTHREADS_FAILED;
	release(&c);
	res.t_end = ns_now();
	pt_unboost(&c, &prio);
	if (!err || err == -EIO || err == -ETIMEDOUT || err == -ECANCELED ||
	    res.have_canary || (err < 0 && res.verdict != ALLTHREADS_FAILED))
		if (build_report(&c, &res, job->report) < 0 && !err)
			err = -ENOMEM;
out:
	job->ret = err;
	if (c.memfd >= 0)
		close(c.memfd);
	for (k = 0; k < c.n; k++) {
		free(c.t[k].res);
		free(c.t[k].sav);
	}
	free(c.t);
	free(c.hash);
	free(c.steps);
	free(c.req);
	free(c.data);
	free(c.sbuf);
}

static void *pt_thread_main(void *arg)
{
	pt_job(arg);
	return NULL;
}

/* The signals that end or stop a program: the calling thread blocks them
 * until every thread of the target is released. */
static void term_signals(sigset_t *term)
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

/* The tracer as a thread of the caller's process: the caller's own death
 * (SIGKILL) releases the target wherever the run was (see run_worker()). */
static int run_thread(struct pt_job *job)
{
	sigset_t all, term, old;
	pthread_t th;
	int r;

	/* The tracer blocks everything; this thread the signals that end or
	 * stop a program, until every thread of the target is released. */
	sigfillset(&all);
	term_signals(&term);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&th, NULL, pt_thread_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		if (job->why && job->whylen)
			snprintf(job->why, job->whylen,
				 "cannot start the tracer thread");
		return -r;
	}
	pthread_sigmask(SIG_BLOCK, &term, &old);
	pthread_join(th, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return job->ret;
}

/* --- the tracer process ------------------------------------------------------------ */

/* What the tracer process sends back, then the report's threads and
 * results. */
struct pt_wire {
	int ret;
	int has_report;
	int verdict;
	unsigned nthreads;
	unsigned nsteps;
	struct at_rtimes times;
	char why[512];
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
		uint64_t now = ns_now();
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

		if (tid <= 0 || task_stat(pid, tid, &state, &flags) < 0 ||
		    task_status(pid, tid, buf, sizeof(buf)) <= 0)
			continue;
		if (state == 't' || at_proc_field_long(buf, "TracerPid", 0)) {
			if (!n++)
				*first = tid;
		}
	}
	closedir(d);
	return n;
}

static int run_worker(struct pt_job *job);

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
	char left[200] = "", held[160] = "";
	struct pt_job sw = *job;
	pid_t tid = 0;
	unsigned n;
	int st, r;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sh = *job->share;
	if (sh.base && sh.size) {
		char why[256] = "";
		struct allthreads_report *rep = NULL;

		memset(job->share, 0, sizeof(*job->share));
		sw.prog = NULL;
		sw.report = &rep;
		sw.why = why;
		sw.whylen = sizeof(why);
		sw.sweep_base = sh.base;
		sw.sweep_size = sh.size;
		sw.sweep_stub = sh.stub;
		r = run_worker(&sw);
		allthreads_report_free(rep);
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
		ns_now() +
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
			allthreads_report_free(rep);
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
static int run_worker(struct pt_job *job)
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
	term_signals(&term);
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

/* Under Yama scope 1 a caller without CAP_SYS_PTRACE may trace only its
 * descendants: a forked tracer is not an ancestor of the target, so the
 * run stays in this process (and the caller's death releases it as it
 * is).  ALLTHREADS_PTRACE_WORKER=0 asks for that too (tests). */
static bool worker_allowed(pid_t pid)
{
	struct self_info me;
	char ts[16];

	if (env_off("ALLTHREADS_PTRACE_WORKER"))
		return false;
	if (at_proc_read("/proc/sys/kernel/yama/ptrace_scope", ts,
			 sizeof(ts)) <= 0 ||
	    atoi(ts) != 1)
		return true;
	self_info(&me);
	return has_cap(me.eff, CAP_BIT_SYS_PTRACE) || !is_descendant(pid);
}

int pt_run_hooked(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  const struct pt_hook *hook, unsigned timeout_ms,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen)
{
	struct pt_job job = {
		.pid = pid,
		.pidfd = pidfd,
		.prog = prog,
		.hook = hook,
		.timeout_ms = timeout_ms,
		.policy = policy,
		.report = report,
		.why = why,
		.whylen = whylen,
		.ret = -EIO,
	};

	*report = NULL;
	if (why && whylen)
		why[0] = 0;
	return worker_allowed(pid) ? run_worker(&job) : run_thread(&job);
}

int at_ptrace_run(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen)
{
	(void)flags;
	return pt_run_hooked(pid, pidfd, prog, NULL, timeout_ms, policy, report,
			     why, whylen);
}

#else /* AT_ARCH_NONE */

int at_ptrace_run(pid_t pid, int pidfd, const struct allthreads_prog *prog,
		  unsigned timeout_ms, unsigned flags,
		  enum allthreads_mismatch policy,
		  struct allthreads_report **report, char *why, size_t whylen)
{
	*report = NULL;
	snprintf(why, whylen,
		 "the ptrace route is not built for this architecture");
	return -ENOTSUP;
}

#endif /* AT_ARCH_NONE */

int at_ptrace_times(const struct allthreads_report *report,
		    struct at_ptrace_times *out)
{
	if (!report || report->times.route != ALLTHREADS_ROUTE_PTRACE)
		return -ENOENT;
	out->frozen_ns = report->times.frozen_ns;
	out->stop_ns = report->times.stop_ns;
	out->inject_ns = report->times.inject_ns;
	out->verify_ns = report->times.verify_ns;
	out->stops = report->times.stops;
	out->stub = report->times.stub;
	return 0;
}
