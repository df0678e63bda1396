// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tasks.c - finding the threads of this process.
 *
 * /proc/self/task is read with raw getdents64 into a buffer the caller
 * reserved beforehand: no opendir/readdir (their lock and malloc), nothing
 * allocated while a broadcast is under way.  The directory stays open
 * between runs.  It is opened and closed with raw system calls: the
 * descriptor is the engine's own, none of the application's, so the
 * helper's close() guard (lib/helper/fdguard.c) has nothing to do there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broadcast.h"
#include "proctext.h"

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* /proc/self/task, kept open between runs (see at_tasks_dir()). */
static int task_fd = -1;
static dev_t task_dev;
static ino_t task_ino;

static int tasks_open(void)
{
	int fd = (int)at_sys4(SYS_openat, AT_FDCWD, "/proc/self/task",
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

	return fd;
}

int at_tasks_dir(int *n)
{
	struct stat st;

	if (task_fd >= 0 && fstat(task_fd, &st) == 0 && st.st_dev == task_dev &&
	    st.st_ino == task_ino) {
		*n = (int)st.st_nlink;
		return task_fd;
	}
	task_fd = tasks_open();
	if (task_fd < 0)
		return task_fd;
	if (fstat(task_fd, &st) < 0) {
		int e = -errno;

		at_sys1(SYS_close, task_fd);
		task_fd = -1;
		return e;
	}
	task_dev = st.st_dev;
	task_ino = st.st_ino;
	*n = (int)st.st_nlink;
	return task_fd;
}

void at_tasks_forget(void)
{
	if (task_fd >= 0)
		at_sys1(SYS_close, task_fd);
	task_fd = -1;
}

static pid_t parse_tid(const char *s)
{
	long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 0x3fffffff)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (pid_t)v;
}

int at_tasks_sweep(int fd, char *buf, unsigned len,
		   int (*fn)(void *ctx, pid_t tid), void *ctx)
{
	int count = 0;
	long n, off;

	if (at_sys3(SYS_lseek, fd, 0, SEEK_SET) < 0)
		return -EIO;
	for (;;) {
		n = at_sys3(SYS_getdents64, fd, buf, len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		for (off = 0; off < n;) {
			struct linux_dirent64 *d =
				(struct linux_dirent64 *)(buf + off);
			pid_t tid = parse_tid(d->d_name);
			int r;

			off += d->d_reclen;
			if (tid <= 0)
				continue;
			count++;
			r = fn(ctx, tid);
			if (r < 0)
				return r;
		}
	}
	return count;
}

int at_tasks_inspect(pid_t tid, int sig, struct at_task_info *info)
{
	char path[64], buf[4096];
	const char *p;
	int n;

	memset(info, 0, sizeof(*info));
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	n = at_proc_read(path, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	p = at_proc_field(buf, "State");
	info->state = p ? *p : '?';
	if (sig > 0) {
		info->blocked =
			(at_proc_field_hex(buf, "SigBlk") >> (sig - 1)) & 1;
		info->pending =
			(at_proc_field_hex(buf, "SigPnd") >> (sig - 1)) & 1;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)tid);
	if (at_proc_read(path, info->wchan, sizeof(info->wchan)) < 0)
		info->wchan[0] = 0;
	return 0;
}
