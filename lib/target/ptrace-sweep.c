// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-sweep.c - removing the region a lost tracer left in the target:
 * every thread stopped, none of them at work in the region, which must
 * still be as the tracer left it, then munmap(2) injected into one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>

#include "proctext.h"
#include "ptrace-phases.h"
#include "stub.h"

#ifndef AT_ARCH_NONE

/* Does the target still map [BASE, BASE + SIZE) as the lost tracer left
 * it (anonymous memory, with the stub's code at BASE if STUB, or zeros
 * there: the tracer shares the region as soon as its mmap returns, before
 * it writes the code), so it is ours to remove?  (The kernel may have
 * merged it with a neighbour.) */
static bool region_mapped(struct pt_ctx *c, unsigned long base,
			  unsigned long size, bool stub)
{
	unsigned long lo, hi, ino, next = base, end = base + size;
	char line[512];
	bool ok = true;
	FILE *f = pt_open_maps(c);

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

		ok = code && pt_mem_read(c, base, code, len) == 0;
		if (ok && memcmp(code, at_stub_x86_64_begin, len)) {
			size_t i;

			for (i = 0; i < len && !code[i]; i++)
				;
			ok = i == len;
		}
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

/*
 * The runner's region [BASE, BASE + SIZE) a lost tracer left in the
 * target, removed: every thread stopped, none of them at work in it, then
 * munmap(2) injected into one, everything released.  0 removed, 1 not
 * there (any more), -errno with c->why.
 */
int pt_sweep(struct pt_ctx *c, unsigned long base, unsigned long size,
	     bool stub)
{
	struct pt_call call = { .nr = SYS_munmap };
	struct pt_thread *t = NULL;
	bool busy = true;
	unsigned k, tries;
	long ret = 0;
	int err = 0;

	call.a[0] = (long)base;
	call.a[1] = (long)size;
	for (tries = 0; busy && tries < 8; tries++) {
		if (tries) {
			struct timespec ts = { 0, 20000000 };

			pt_release_all(c);
			pt_forget_threads(c);
			nanosleep(&ts, NULL);
		}
		err = pt_preflight_run(c);
		if (err)
			return err;
		err = pt_freeze(c);
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
		    pt_get_sigmask(u->tid, &u->mask) == 0)
			u->captured = true;
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
	pt_release_all(c);
	return err;
}

#endif /* AT_ARCH_NONE */
