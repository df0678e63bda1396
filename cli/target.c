// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * target.c - which process a command acts on, and whether it can be
 * reached: -p PID[,PID...] lists, -t TID, and the one-line reasons a
 * target is unreachable (exit 3).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "names.h"

int parse_pid_list(const char *s, pid_t *pids, unsigned *n, unsigned max)
{
	const char *p = s;
	char word[32];
	long v;

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
		if (!isdigit((unsigned char)word[0]) || parse_long(word, &v))
			return -EINVAL;
		if (v <= 0 || v > 0x400000)
			return -ERANGE;
		if (*n >= max)
			return -E2BIG;
		pids[(*n)++] = v;
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
