/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * refinject.c - the benchmark's bare reference injector (issue 8): the
 * floor the ptrace route is measured against, in the same run, on the
 * same targets.
 *
 *   allthreads-bench-ref -p PID [--recipe keepcaps|nnp|reads|harden] [--colo]
 *
 * What it does, and nothing more (doc/design.md, The ptrace floor):
 *   stop    scan /proc/PID/task, PTRACE_SEIZE (TRACESYSGOOD|TRACECLONE)
 *           and PTRACE_INTERRUPT every thread, wait for each stop; rescan
 *           until a pass finds nothing new
 *   inject  per thread: GETREGSET NT_PRSTATUS, GETSIGMASK, SETSIGMASK (all
 *           but the synchronous signals), then per syscall: registers with
 *           rip at a syscall instruction that is already there (the
 *           thread's own at rip-2, else one in [vdso]), orig_rax = -1,
 *           PTRACE_SYSCALL to the entry stop and to the exit stop, rax
 *           checked; then the saved registers raw and the saved mask.
 *           The extended state (xstate) is never read or written.
 *   detach  PTRACE_DETACH every thread (the kernel redoes the restart
 *           decision of an interrupted syscall on the way out)
 *
 * --colo: the injector pins itself to the CPU
 * it is on and each stopped thread to that CPU while it injects, and puts
 * the thread's own affinity back right after, so that no stop waits for
 * the other CPU to wake.
 *
 * Recipes: keepcaps  prctl(PR_SET_KEEPCAPS, 1)
 *          nnp       prctl(PR_SET_NO_NEW_PRIVS, 1) + prctl(PR_SET_KEEPCAPS, 1)
 *          reads     38 PR_CAPBSET_READ + PR_SET_KEEPCAPS + 2 getuid (41,
 *                    unprivileged-safe)
 *          harden    38 PR_CAPBSET_DROP + PR_SET_NO_NEW_PRIVS + setresgid +
 *                    setresuid to 65534 (41: the benchmark's recipe)
 *
 * Prints one line: "ref threads N syscalls S frozen_us F stop_us A
 * inject_us B detach_us C" and exits 0, or an error on stderr and exits 1
 * (every thread it stopped is detached first).  It is a measuring tool:
 * no preflight, no canary, no verification beyond the return values; a
 * target that is job-control-stopped, or gets signals while stopped, is
 * out of its scope.  x86_64 only.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 20000
#define MAX_STEPS 48
#define NOBODY 65534

struct step {
	long nr, a[3], want; /* want: expected rax, or LONG_MIN: >= 0 */
};

struct thread {
	pid_t tid;
	bool stopped;
	struct user_regs_struct regs;
	uint64_t mask;
};

static struct thread *threads;
static unsigned nthreads;
static struct step steps[MAX_STEPS];
static unsigned nsteps;
static unsigned long vdso_gadget;
static bool colo;
static cpu_set_t here;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void add_step(long nr, long a0, long a1, long a2, long want)
{
	steps[nsteps++] = (struct step){ nr, { a0, a1, a2 }, want };
}

static int make_recipe(const char *name)
{
	int i;

	if (!strcmp(name, "keepcaps")) {
		add_step(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0);
	} else if (!strcmp(name, "nnp")) {
		add_step(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0);
		add_step(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0);
	} else if (!strcmp(name, "reads")) {
		for (i = 0; i < 38; i++)
			add_step(SYS_prctl, PR_CAPBSET_READ, i, 0, LONG_MIN);
		add_step(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0);
		add_step(SYS_getuid, 0, 0, 0, (long)getuid());
		add_step(SYS_getuid, 0, 0, 0, (long)getuid());
	} else if (!strcmp(name, "harden")) {
		for (i = 0; i < 38; i++)
			add_step(SYS_prctl, PR_CAPBSET_DROP, i, 0, 0);
		add_step(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0);
		add_step(SYS_setresgid, NOBODY, NOBODY, NOBODY, 0);
		add_step(SYS_setresuid, NOBODY, NOBODY, NOBODY, 0);
	} else {
		return -1;
	}
	return 0;
}

static bool known(pid_t tid)
{
	unsigned i;

	for (i = 0; i < nthreads; i++)
		if (threads[i].tid == tid)
			return true;
	return false;
}

/* Wait for TID's next stop (bounded by the caller's alarm).  Returns the
 * wait status, or -1. */
static int wait_stop(pid_t tid)
{
	int status;

	for (;;) {
		pid_t r = waitpid(tid, &status, __WALL);

		if (r == tid)
			return WIFSTOPPED(status) ? status : -1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* Seize and interrupt every thread not yet known: the number new. */
static int seize_pass(pid_t pid, uint64_t *first)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int fresh = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0 || known(tid))
			continue;
		if (nthreads == MAX_THREADS)
			break;
		if (ptrace(PTRACE_SEIZE, tid, 0,
			   PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE))
			continue; /* gone, or a zombie */
		if (!*first)
			*first = now_ns();
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		threads[nthreads++] = (struct thread){ .tid = tid };
		fresh++;
	}
	closedir(dir);
	return fresh;
}

static void wait_all_stopped(void)
{
	unsigned i;

	for (i = 0; i < nthreads; i++) {
		struct thread *t = &threads[i];
		int st;

		if (t->stopped)
			continue;
		st = wait_stop(t->tid);
		if (st < 0) {
			t->tid = -t->tid; /* gone */
			continue;
		}
		/* a clone event: the child is seized already and will stop
		 * with an event stop of its own; the parent must be left
		 * in an event stop too, so interrupt it once more */
		if ((st >> 16) == PTRACE_EVENT_CLONE) {
			unsigned long child = 0;

			ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &child);
			if (child && !known((pid_t)child) &&
			    nthreads < MAX_THREADS)
				threads[nthreads++] =
					(struct thread){ .tid = (pid_t)child };
			ptrace(PTRACE_CONT, t->tid, 0, 0);
			ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
			i--;
			continue;
		}
		t->stopped = true;
	}
}

/* From a live thread: a zombie leader has no maps and no memory. */
static int find_vdso_gadget(pid_t pid)
{
	char path[64], line[512];
	unsigned long lo = 0, hi = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (f && fgetc(f) == EOF) {
		fclose(f);
		f = NULL;
		for (unsigned i = 0; !f && i < nthreads; i++) {
			if (threads[i].tid <= 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/maps",
				 (int)pid, (int)threads[i].tid);
			f = fopen(path, "re");
			if (f && fgetc(f) == EOF) {
				fclose(f);
				f = NULL;
			} else if (f) {
				pid = threads[i].tid;
				rewind(f);
			}
		}
	} else if (f) {
		rewind(f);
	}
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	fclose(f);
	if (!lo || hi - lo > (1 << 20))
		return -ENOENT;
	{
		size_t len = hi - lo;
		unsigned char *buf = malloc(len);
		struct iovec local = { buf, len }, remote = { (void *)lo, len };
		size_t i;

		if (!buf)
			return -ENOMEM;
		if (process_vm_readv(pid, &local, 1, &remote, 1, 0) !=
		    (ssize_t)len) {
			free(buf);
			return -EIO;
		}
		for (i = 0; i + 1 < len; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
				vdso_gadget = lo + i;
				break;
			}
		free(buf);
	}
	return vdso_gadget ? 0 : -ENOENT;
}

static int getregs(pid_t tid, struct user_regs_struct *r)
{
	struct iovec io = { r, sizeof(*r) };

	return (int)ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &io);
}

static int setregs(pid_t tid, const struct user_regs_struct *r)
{
	struct iovec io = { (void *)r, sizeof(*r) };

	return (int)ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &io);
}

/* The thread's own syscall instruction (rip-2), cached per address. */
static unsigned long gadget_for(pid_t tid, const struct user_regs_struct *r)
{
	static unsigned long cache_ok[64], cache_bad[64];
	unsigned long at = r->rip - 2, slot = (at >> 2) % 64;
	long word;

	if ((long)r->orig_rax < 0)
		return vdso_gadget;
	if (cache_ok[slot] == at)
		return at;
	if (cache_bad[slot] == at)
		return vdso_gadget;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, tid, at, 0);
	if (!errno && (word & 0xffff) == 0x050f) {
		cache_ok[slot] = at;
		return at;
	}
	cache_bad[slot] = at;
	return vdso_gadget;
}

/* Resume to the next syscall stop of the wanted kind (entry or exit). */
static int to_syscall_stop(pid_t tid, unsigned char want)
{
	unsigned i;

	for (i = 0; i < 8; i++) {
		struct __ptrace_syscall_info info;
		int st;

		if (ptrace(PTRACE_SYSCALL, tid, 0, 0))
			return -errno;
		st = wait_stop(tid);
		if (st < 0)
			return -ESRCH;
		if (WSTOPSIG(st) != (SIGTRAP | 0x80))
			continue; /* an event stop (a group stop): again */
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <
		    0)
			return -errno;
		if (info.op == want)
			return 0;
	}
	return -EPROTO;
}

static int inject_steps(struct thread *t);

static int inject(struct thread *t)
{
	cpu_set_t mask;
	bool pinned = false;
	int err;

	if (colo && !sched_getaffinity(t->tid, sizeof(mask), &mask))
		pinned = !sched_setaffinity(t->tid, sizeof(here), &here);
	err = inject_steps(t);
	if (pinned)
		sched_setaffinity(t->tid, sizeof(mask), &mask);
	return err;
}

static int inject_steps(struct thread *t)
{
	uint64_t block = ~0ull;
	struct user_regs_struct r;
	unsigned long gadget;
	unsigned k;
	int err;

	if (getregs(t->tid, &t->regs) ||
	    ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(t->mask), &t->mask))
		return -errno;
	/* the synchronous signals stay open: blocking a forced one resets
	 * its handler */
	block &= ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) |
		   (1ull << (SIGILL - 1)) | (1ull << (SIGFPE - 1)) |
		   (1ull << (SIGTRAP - 1)) | (1ull << (SIGSYS - 1)));
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(block), &block))
		return -errno;
	gadget = gadget_for(t->tid, &t->regs);
	err = gadget ? 0 : -ENOENT;
	for (k = 0; k < nsteps && !err; k++) {
		const struct step *s = &steps[k];
		long rv;

		r = t->regs;
		r.rip = gadget;
		r.rax = (unsigned long)s->nr;
		r.orig_rax = (unsigned long)-1;
		r.rdi = (unsigned long)s->a[0];
		r.rsi = (unsigned long)s->a[1];
		r.rdx = (unsigned long)s->a[2];
		r.r10 = r.r8 = r.r9 = 0;
		if (setregs(t->tid, &r)) {
			err = -errno;
			break;
		}
		err = to_syscall_stop(t->tid, PTRACE_SYSCALL_INFO_ENTRY);
		if (!err)
			err = to_syscall_stop(t->tid, PTRACE_SYSCALL_INFO_EXIT);
		if (err)
			break;
		errno = 0;
		rv = ptrace(PTRACE_PEEKUSER, t->tid,
			    offsetof(struct user_regs_struct, rax), 0);
		if (errno)
			err = -errno;
		else if (s->want == LONG_MIN ? rv < 0 : rv != s->want)
			err = rv < 0 ? (int)rv : -EPROTO;
	}
	/* raw restore, whatever happened */
	if (setregs(t->tid, &t->regs) && !err)
		err = -errno;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->mask), &t->mask) &&
	    !err)
		err = -errno;
	return err;
}

int main(int argc, char **argv)
{
	uint64_t first = 0, t_stopped, t_injected, t_end;
	const char *recipe = "keepcaps";
	pid_t pid = 0;
	unsigned i, passes;
	int err = 0, fail_tid = 0;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < (unsigned)argc)
			pid = (pid_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--recipe") && i + 1 < (unsigned)argc)
			recipe = argv[++i];
		else if (!strcmp(argv[i], "--colo"))
			colo = true;
		else
			pid = -1;
	}
	if (colo) {
		int cpu = sched_getcpu();

		CPU_ZERO(&here);
		CPU_SET(cpu < 0 ? 0 : cpu, &here);
		if (sched_setaffinity(0, sizeof(here), &here))
			colo = false;
	}
	if (pid <= 0 || make_recipe(recipe)) {
		fprintf(stderr, "usage: allthreads-bench-ref -p PID [--recipe "
				"keepcaps|nnp|reads|harden] [--colo]\n");
		return 64;
	}
	alarm(60);
	threads = calloc(MAX_THREADS, sizeof(*threads));
	if (!threads)
		return 1;
	for (passes = 0; passes < 10; passes++) {
		int fresh = seize_pass(pid, &first);

		wait_all_stopped();
		if (fresh <= 0)
			break;
	}
	t_stopped = now_ns();
	if (find_vdso_gadget(pid)) {
		err = -ENOENT;
		fail_tid = pid;
		t_stopped = now_ns();
	}
	for (i = 0; i < nthreads && !err; i++) {
		if (threads[i].tid <= 0)
			continue;
		err = inject(&threads[i]);
		if (err == -ESRCH) /* exited meanwhile: not ours to count */
			err = 0;
		if (err)
			fail_tid = threads[i].tid;
	}
	t_injected = now_ns();
	for (i = 0; i < nthreads; i++)
		if (threads[i].tid > 0)
			ptrace(PTRACE_DETACH, threads[i].tid, 0, 0);
	t_end = now_ns();
	if (err) {
		fprintf(stderr, "allthreads-bench-ref: %d: thread %d: %s\n",
			(int)pid, fail_tid, strerror(-err));
		return 1;
	}
	printf("ref threads %u syscalls %u frozen_us %.1f stop_us %.1f "
	       "inject_us %.1f detach_us %.1f\n",
	       nthreads, nsteps, (t_end - first) / 1e3,
	       (t_stopped - first) / 1e3, (t_injected - t_stopped) / 1e3,
	       (t_end - t_injected) / 1e3);
	return 0;
}
