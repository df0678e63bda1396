// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ptrace-proc.c - what the ptrace route reads of /proc: a task's status
 * and stat, the caller's own credentials, ancestry, names, switches; and
 * the target's memory (process_vm_readv/writev, else /proc/PID/mem).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proctext.h"
#include "ptrace-phases.h"

#ifndef AT_ARCH_NONE

int pt_mem_read(struct pt_ctx *c, unsigned long addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)addr, len };

	if (process_vm_readv(c->mempid, &l, 1, &r, 1, 0) == (ssize_t)len)
		return 0;
	if (c->memfd >= 0 &&
	    pread(c->memfd, buf, len, (off_t)addr) == (ssize_t)len)
		return 0;
	return -EFAULT;
}

int pt_mem_write(struct pt_ctx *c, unsigned long addr, const void *buf,
		 size_t len)
{
	struct iovec l = { (void *)buf, len }, r = { (void *)addr, len };

	if (process_vm_writev(c->mempid, &l, 1, &r, 1, 0) == (ssize_t)len)
		return 0;
	if (c->memfd >= 0 &&
	    pwrite(c->memfd, buf, len, (off_t)addr) == (ssize_t)len)
		return 0;
	return -EFAULT;
}

FILE *pt_open_maps(struct pt_ctx *c)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int)c->pid,
		 (int)c->mempid);
	return fopen(path, "re");
}

int pt_task_status(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	return at_proc_read(path, buf, len);
}

int pt_task_stat(pid_t pid, pid_t tid, char *state, unsigned long *flags)
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

bool pt_has_cap(unsigned long long caps, int bit)
{
	return (caps >> bit) & 1;
}

void pt_self_info(struct pt_self *s)
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

bool pt_is_descendant(pid_t pid)
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

void pt_comm_of(pid_t pid, char *out, size_t len)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	r = at_proc_read(path, out, len);
	if (r <= 0)
		snprintf(out, len, "?");
	out[strcspn(out, "\n")] = 0;
}

bool pt_env_off(const char *name)
{
	const char *v = secure_getenv(name);

	return v && !strcmp(v, "0");
}

int pt_yama_scope(void)
{
	char buf[16];

	if (at_proc_read("/proc/sys/kernel/yama/ptrace_scope", buf,
			 sizeof(buf)) <= 0)
		return 0;
	return atoi(buf);
}

bool pt_same_pidns(pid_t pid)
{
	struct stat a, b;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat("/proc/self/ns/pid", &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

#endif /* AT_ARCH_NONE */
