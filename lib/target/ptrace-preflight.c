// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-preflight.c - what the ptrace route can know from /proc before
 * it touches anything, phase by phase: the process, permission (Yama, the
 * kernel's PTRACE_MODE_ATTACH rules), the architecture, then every
 * thread (another tracer, the capabilities the steps need, seccomp).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proctext.h"
#include "ptrace-phases.h"

#ifndef AT_ARCH_NONE

/* The capabilities the program's steps need (a thread without one fails
 * the step), as a mask of CapEff bits. */
static unsigned long long needed_caps(const struct pt_ctx *c)
{
	unsigned long long need = 0;
	unsigned i;

	for (i = 0; c && i < c->nsteps; i++) {
		const struct at_step *s = &c->steps[i];

		switch (s->nr) {
		case SYS_prctl:
			if (s->args[0] == PR_CAPBSET_DROP ||
			    s->args[0] == PR_SET_SECUREBITS)
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

int pt_seccomp_refusal(pid_t tid, long mode, bool can_suspend, char *why,
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

/* What the preflight knows of the caller and needs on the way. */
struct pre {
	pid_t pid;
	struct pt_ctx *c; /* NULL: a probe, nothing listed */
	char *why;
	size_t whylen;
	struct pt_self me;
	bool sysptrace, can_suspend;
	char status[8192]; /* /proc/PID/status */
};

/* The process itself: a pid of a live process, not ours, not a thread. */
static int check_process(struct pre *p)
{
	char path[64];
	const char *st;
	int r;

	if (p->pid <= 0) {
		snprintf(p->why, p->whylen, "bad process id");
		return -ESRCH;
	}
	if (p->pid == getpid()) {
		snprintf(
			p->why, p->whylen,
			"a process cannot ptrace itself (use allthreads_run())");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
	r = at_proc_read(path, p->status, sizeof(p->status));
	if (r < 0) {
		snprintf(p->why, p->whylen, "%s",
			 r == -ENOENT ? "no such process" : strerror(-r));
		return r == -ENOENT ? -ESRCH : -EPERM;
	}
	if (at_proc_field_long(p->status, "Tgid", 0) != p->pid) {
		snprintf(p->why, p->whylen, "%d is a thread of process %ld",
			 (int)p->pid, at_proc_field_long(p->status, "Tgid", 0));
		return -ESRCH;
	}
	st = at_proc_field(p->status, "State");
	if (st && (*st == 'Z' || *st == 'X') &&
	    at_proc_field_long(p->status, "Threads", 1) <= 1) {
		snprintf(p->why, p->whylen, "the process has exited (zombie)");
		return -ESRCH;
	}
	return 0;
}

/* Yama's scope, as far as it can be judged from here: scope 1 (only
 * descendants) is left to the kernel, since the target may have named us
 * with PR_SET_PTRACER, which only the kernel knows. */
static int check_yama(struct pre *p)
{
	int yama = pt_yama_scope();

	if (yama >= 3) {
		snprintf(p->why, p->whylen,
			 "ptrace is disabled on this system until reboot "
			 "(kernel.yama.ptrace_scope=3); start the target with "
			 "`allthreads run` instead");
		return -EPERM;
	}
	if (yama == 2 && !p->sysptrace) {
		snprintf(p->why, p->whylen,
			 "kernel.yama.ptrace_scope=2: only a caller with "
			 "CAP_SYS_PTRACE may ptrace");
		return -EPERM;
	}
	return 0;
}

/* The kernel's PTRACE_MODE_ATTACH rules without CAP_SYS_PTRACE: the same
 * uid and gid in all three, dumpable, no capability the caller lacks. */
static int check_permission(struct pre *p)
{
	long uids[3], gids[3];
	unsigned long long prm;
	const char *v;
	char path[64];
	struct stat sb;
	int r = check_yama(p);

	if (r)
		return r;
	v = at_proc_field(p->status, "Uid");
	if (!v || sscanf(v, "%ld %ld %ld", &uids[0], &uids[1], &uids[2]) != 3) {
		snprintf(p->why, p->whylen, "cannot read the target's status");
		return -EPERM;
	}
	v = at_proc_field(p->status, "Gid");
	if (!v || sscanf(v, "%ld %ld %ld", &gids[0], &gids[1], &gids[2]) != 3) {
		snprintf(p->why, p->whylen, "cannot read the target's status");
		return -EPERM;
	}
	if (p->sysptrace)
		return 0;
	if (uids[0] != p->me.uid || uids[1] != p->me.uid ||
	    uids[2] != p->me.uid || gids[0] != p->me.gid ||
	    gids[1] != p->me.gid || gids[2] != p->me.gid) {
		snprintf(p->why, p->whylen,
			 "the process runs as uid %ld/%ld/%ld gid "
			 "%ld/%ld/%ld but you are uid %ld gid %ld; "
			 "CAP_SYS_PTRACE is needed",
			 uids[0], uids[1], uids[2], gids[0], gids[1], gids[2],
			 p->me.uid, p->me.gid);
		return -EPERM;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)p->pid);
	if (stat(path, &sb) == 0 && (long)sb.st_uid != uids[1]) {
		snprintf(p->why, p->whylen,
			 "the process is not dumpable (set-id, file "
			 "capabilities or PR_SET_DUMPABLE 0); "
			 "CAP_SYS_PTRACE is needed");
		return -EPERM;
	}
	prm = at_proc_field_hex(p->status, "CapPrm");
	if (prm & ~p->me.prm) {
		snprintf(p->why, p->whylen,
			 "the process holds capabilities you do not "
			 "have (CapPrm %016llx); CAP_SYS_PTRACE is "
			 "needed",
			 prm);
		return -EPERM;
	}
	return 0;
}

/* The program's architecture, from its ELF header where readable. */
static int check_arch(struct pre *p)
{
	unsigned char e[20];
	unsigned machine;
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, e, sizeof(e), 0);
	close(fd);
	if (n != (ssize_t)sizeof(e) || memcmp(e, ELFMAG, 4))
		return 0;
	machine = e[18] | (unsigned)e[19] << 8;
	if (e[EI_CLASS] != ELFCLASS64) {
		snprintf(p->why, p->whylen,
			 "a 32-bit program%s: only 64-bit %s processes are "
			 "supported",
			 machine == EM_X86_64 ? " (x32)" : "", AT_ARCH_NAME);
		return -ENOTSUP;
	}
	if (machine != AT_ARCH_ELF_MACHINE) {
		snprintf(p->why, p->whylen,
			 "a program for another architecture (ELF machine %u)",
			 machine);
		return -ENOTSUP;
	}
	return 0;
}

/* The capabilities the steps need, the same on every thread. */
struct capref {
	unsigned long long need, ref;
	pid_t reftid;
};

static const char *cap_name(int bit)
{
	return bit == CAP_SETUID ? "CAP_SETUID" :
	       bit == CAP_SETGID ? "CAP_SETGID" :
				   "CAP_SETPCAP";
}

/* One thread TID (its status TS), whose state ST is 0 (a live thread),
 * PT_ZOMBIE or PT_WORKER: traced by someone else, with other
 * capabilities than the first thread, or in a seccomp mode that refuses
 * the injected calls?  Then -errno with why. */
static int check_thread(struct pre *p, struct capref *cr, pid_t tid, int st,
			const char *ts)
{
	long v = at_proc_field_long(ts, "TracerPid", 0);
	unsigned long long eff = at_proc_field_hex(ts, "CapEff") & cr->need;
	char comm[64];

	if (v != 0 && (!p->c || v != p->c->self)) {
		pt_comm_of((pid_t)v, comm, sizeof(comm));
		snprintf(p->why, p->whylen,
			 "thread %d is already being traced by pid %ld "
			 "(%s); detach that tracer first",
			 (int)tid, v, comm);
		return -EBUSY;
	}
	if (st)
		return 0;
	if (cr->need && !cr->reftid) {
		cr->reftid = tid;
		cr->ref = eff;
	}
	if (cr->need && eff != cr->ref) {
		int bit = __builtin_ctzll(eff ^ cr->ref);
		bool has = (cr->ref >> bit) & 1;

		snprintf(p->why, p->whylen,
			 "thread %d %s %s, which thread %d %s: the change "
			 "would leave them different; nothing was changed",
			 (int)tid, has ? "lacks" : "has", cap_name(bit),
			 (int)cr->reftid, has ? "has" : "lacks");
		return -EIO;
	}
	v = at_proc_field_long(ts, "Seccomp", 0);
	if (v && p->c)
		p->c->filtered = true;
	return v ? pt_seccomp_refusal(tid, v, p->can_suspend, p->why,
				      p->whylen) :
		   0;
}

/* TID listed in the run's table (once), a kernel worker with its why. */
static int list_thread(struct pre *p, pid_t tid, int st)
{
	struct pt_thread *t;

	if (!p->c || pt_lookup(p->c, tid))
		return 0;
	t = pt_add_thread(p->c, tid, st);
	if (!t)
		return -ENOMEM;
	if (st == 0)
		pt_keep_status(p->c, t);
	if (st == PT_WORKER)
		snprintf(t->why, sizeof(t->why),
			 "kernel worker (io_uring/vhost): never in user "
			 "space, keeps its own credentials");
	return 0;
}

/* Every thread /proc/PID/task lists. */
static int check_threads(struct pre *p)
{
	struct capref cr = { .need = needed_caps(p->c) };
	char path[64], ts[8192];
	struct dirent *de;
	int r = 0, nthreads = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	d = opendir(path);
	if (!d) {
		snprintf(p->why, p->whylen, "cannot list the threads: %s",
			 strerror(errno));
		return errno == ENOENT ? -ESRCH : -EPERM;
	}
	while (r == 0 && (de = readdir(d)) && nthreads < 1 << 22) {
		pid_t tid = (pid_t)atoi(de->d_name);
		unsigned long flags = 0;
		char state = 0;
		int st = 0;

		if (tid <= 0)
			continue;
		nthreads++;
		if (pt_task_stat(p->pid, tid, &state, &flags) < 0)
			continue; /* gone already */
		if (pt_task_status(p->pid, tid, ts, sizeof(ts)) < 0)
			continue;
		if (state == 'Z' || state == 'X')
			st = PT_ZOMBIE;
		else if (flags & (PF_IO_WORKER | PF_USER_WORKER))
			st = PT_WORKER;
		r = check_thread(p, &cr, tid, st, ts);
		if (!r)
			r = list_thread(p, tid, st);
	}
	closedir(d);
	if (!r && !nthreads) {
		snprintf(p->why, p->whylen, "no such process");
		return -ESRCH;
	}
	return r;
}

int pt_preflight(pid_t pid, struct pt_ctx *c, char *why, size_t whylen,
		 bool *suspend)
{
	struct pre *p = calloc(1, sizeof(*p));
	int r;

	*suspend = false;
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->c = c;
	p->why = why;
	p->whylen = whylen;
	r = check_process(p);
	if (!r) {
		pt_self_info(&p->me);
		p->sysptrace = pt_has_cap(p->me.eff, CAP_SYS_PTRACE);
		p->can_suspend = pt_has_cap(p->me.eff, CAP_SYS_ADMIN) &&
				 p->me.seccomp == 0 && p->me.init_userns;
		r = check_permission(p);
	}
	if (!r)
		r = check_arch(p);
	if (!r)
		r = check_threads(p);
	/* Suspend the target's filters whenever we may: a filter the program
	 * itself installs must not judge the calls that follow it. */
	if (!r)
		*suspend = p->can_suspend;
	free(p);
	return r;
}

int pt_preflight_run(struct pt_ctx *c)
{
	bool suspend;
	int err = pt_preflight(c->pid, c, c->why, c->whylen, &suspend);

	if (err)
		return err;
	c->opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE |
		  PTRACE_O_TRACEEXEC;
	if (suspend)
		c->opts |= PTRACE_O_SUSPEND_SECCOMP;
	return 0;
}

#endif /* AT_ARCH_NONE */
