// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * audit-read.c - `allthreads audit`'s reader of /proc, built for a whole
 * host: a process's task directory listed by getdents64() into a buffer
 * the run reuses, and each thread's status read with one openat()
 * relative to that directory, one read() and one pass over the text.
 * Threads that exit while they are read are counted, not failed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit.h"
#include "procfs.h"

/* Thread TID's status (relative to its process's task directory) into T:
 * one open, one read (more only for a huge Groups line). */
static int read_thread(struct audit *au, int taskfd, pid_t tid,
		       struct tstatus *t)
{
	char name[32];
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(name, sizeof(name), "%d/status", tid);
	fd = openat(taskfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, au->text + len, au->textsize - len - 1);
		if (n < 0) {
			err = -errno;
			break;
		}
		len += n;
		/* procfs hands a status over whole when it fits. */
		if (n == 0 || len + 1 < au->textsize)
			break;
		{
			char *nt = realloc(au->text, au->textsize * 2);

			if (!nt) {
				err = -ENOMEM;
				break;
			}
			au->text = nt;
			au->textsize *= 2;
		}
	}
	close(fd);
	if (err)
		return err;
	if (len == 0)
		return -ESRCH; /* a task being reaped reads empty */
	au->text[len] = '\0';
	parse_status(au->text, t);
	return 0;
}

static bool is_gone(int err)
{
	return err == -ENOENT || err == -ESRCH;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct tstatus *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

int audit_read_process(struct audit *au, pid_t pid, struct snapshot *snap)
{
	unsigned cap = 16;
	char name[32];
	int taskfd, err = 0;
	long nread;

	memset(snap, 0, sizeof(*snap));
	snap->pid = pid;
	snprintf(name, sizeof(name), "%d/task", pid);
	taskfd = openat(au->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	snap->t = malloc(cap * sizeof(*snap->t));
	if (!snap->t) {
		close(taskfd);
		return -ENOMEM;
	}
	/* Bounded: a task directory lists each thread once per pass. */
	for (unsigned pass = 0; pass < 1000000; pass++) {
		long off = 0;

		nread = syscall(SYS_getdents64, taskfd, au->dents,
				sizeof(au->dents));
		if (nread < 0) {
			err = errno == ENOENT ? -ESRCH : -errno;
			break;
		}
		if (nread == 0)
			break;
		while (off < nread) {
			struct dirent64 *de = (void *)(au->dents + off);
			struct tstatus *t;
			pid_t tid;

			off += de->d_reclen;
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			tid = atoi(de->d_name);
			if (snap->n == cap) {
				struct tstatus *nt = realloc(
					snap->t, 2 * cap * sizeof(*snap->t));

				if (!nt) {
					err = -ENOMEM;
					goto out;
				}
				snap->t = nt;
				cap *= 2;
			}
			t = &snap->t[snap->n];
			err = read_thread(au, taskfd, tid, t);
			if (is_gone(err)) {
				free(t->groups);
				snap->vanished++;
				err = 0;
				continue;
			}
			if (err) {
				free(t->groups);
				goto out;
			}
			snap->n++;
		}
	}
out:
	close(taskfd);
	if (!err && snap->n == 0)
		err = -ESRCH; /* every thread exited meanwhile */
	if (err) {
		snapshot_free(snap);
		return err;
	}
	qsort(snap->t, snap->n, sizeof(*snap->t), cmp_tid);
	return 0;
}
