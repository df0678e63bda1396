// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * target.c - which process a command acts on, and whether it can be
 * reached: -p PID[,PID...] lists, -t TID, and the one-line reasons a
 * target is unreachable (exit 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "helper-facts.h"
#include "names.h"
#include "procfs.h"
#include "target.h"
#include "usage.h"

int parse_pid_list(const char *s, pid_t *pids, unsigned *n, unsigned max)
{
	const char *p = s;
	char word[32];
	unsigned long v;
	unsigned i;

	for (;;) {
		size_t len;

		p += strspn(p, ", \t\n");
		if (!*p)
			break;
		len = strcspn(p, ", \t\n");
		if (len >= sizeof(word))
			return -ERANGE;
		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		p += len;
		if (parse_decimal(word, &v))
			return -EINVAL;
		if (v == 0 || v > 0x400000)
			return -ERANGE;
		/* pidof and a list of groups may name one twice. */
		for (i = 0; i < *n && pids[i] != (pid_t)v; i++)
			;
		if (i < *n)
			continue;
		if (*n >= max)
			return -E2BIG;
		pids[(*n)++] = (pid_t)v;
	}
	return *n ? 0 : -EINVAL;
}

int remote_unreachable(const struct target *tgt, int err)
{
	switch (err) {
	case -ESRCH:
		fprintf(stderr, "allthreads: %d: no such process\n", tgt->pid);
		break;
	case -EACCES:
	case -EPERM:
		fprintf(stderr,
			"allthreads: %d: permission denied (only a caller "
			"that may ptrace it may change it)\n",
			tgt->pid);
		break;
	case -EPIPE:
		fprintf(stderr,
			"allthreads: %d: the process went away mid-way; "
			"its threads may differ (check with: allthreads -p "
			"%d check)\n",
			tgt->pid, tgt->pid);
		break;
	case -ENOENT:
	default:
		fprintf(stderr,
			"allthreads: %d: no allthreads helper in this process "
			"(start it with `allthreads run`)\n",
			tgt->pid);
		break;
	}
	return EXIT_UNREACHABLE;
}

bool is_kernel_thread(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof(buf)) || !buf[0])
		return false;
	/* After the command's ")": state, ppid, pgrp, session, tty_nr,
	 * tpgid, flags. */
	p = strrchr(buf, ')');
	for (i = 0; p && i < 7; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu", &flags) != 1)
		return false;
	return flags & 0x00200000; /* PF_KTHREAD */
}

int check_changeable(const struct target *tgt)
{
	int code = check_reachable(tgt);

	if (code || tgt->self)
		return code;
	if (is_kernel_thread(tgt->pid)) {
		fprintf(stderr,
			"allthreads: %d: kernel thread: cannot be changed\n",
			tgt->pid);
		return EXIT_UNREACHABLE;
	}
	return 0;
}

int check_reachable(const struct target *tgt)
{
	char path[64];
	int fd;

	if (tgt->self)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", tgt->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return remote_unreachable(tgt,
					  errno == ENOENT ? -ESRCH : -errno);
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/task", tgt->pid);
	if (access(path, R_OK | X_OK) < 0)
		return remote_unreachable(tgt,
					  errno == ENOENT ? -ESRCH : -errno);
	if (tgt->tid) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", tgt->pid,
			 tgt->tid);
		if (access(path, F_OK) < 0) {
			fprintf(stderr,
				"allthreads: %d: no such thread in pid %d\n",
				tgt->tid, tgt->pid);
			return EXIT_UNREACHABLE;
		}
	}
	return 0;
}

/* Does thread TID of PID have SIG in SigBlk now (and is it not the
 * helper's receiver thread, which blocks every signal by design and is
 * served without one)? */
static bool blocks_now(pid_t pid, pid_t tid, int sig)
{
	char field[64], comm[32];
	unsigned long long blk;

	if (proc_status_field(pid, tid, "SigBlk", field, sizeof(field)) < 0 ||
	    sscanf(field, "%llx", &blk) != 1)
		return false;
	if (!((blk >> (sig - 1)) & 1))
		return false;
	/* A kernel worker blocks every signal, and no route reaches it:
	 * said elsewhere (judge_kept()). */
	if (proc_task_worker(pid, tid))
		return false;
	return proc_status_field(pid, tid, "Name", comm, sizeof(comm)) < 0 ||
	       strcmp(comm, AT_RECEIVER_COMM) != 0;
}

int signal_blockers(pid_t pid, int sig, pid_t *out, unsigned max)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	unsigned n = 0, i, keep;
	pid_t *tids;
	int count, look;

	count = proc_list_tasks(pid, &tids);
	if (count <= 0)
		return 0;
	for (i = 0; i < (unsigned)count; i++)
		if (blocks_now(pid, tids[i], sig))
			tids[n++] = tids[i];
	/* glibc blocks every signal for a moment in pthread_create and in
	 * thread exit: only a thread that keeps it blocked look after look
	 * counts. */
	for (look = 0; look < 4 && n; look++) {
		nanosleep(&pause, NULL);
		for (i = 0, keep = 0; i < n; i++)
			if (blocks_now(pid, tids[i], sig))
				tids[keep++] = tids[i];
		n = keep;
	}
	for (i = 0; i < n && i < max; i++)
		out[i] = tids[i];
	free(tids);
	return (int)n;
}

/* The snapshot a read command works on; an exit code on failure. */
int read_target(const struct opts *o, const struct target *tgt,
		struct snapshot *snap)
{
	int err, code = check_reachable(tgt);

	if (code)
		return code;
	err = proc_snapshot(tgt->self ? 0 : tgt->pid, tgt->tid, snap);
	if (err)
		return remote_unreachable(tgt, err);
	if (snap->vanished && !o->quiet)
		fprintf(stderr,
			"allthreads: note: pid %d: %u thread(s) exited while "
			"being read (skipped)\n",
			tgt->pid, snap->vanished);
	return 0;
}
