/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * target.h - where a command acts (a process, or one of its threads) and
 * whether it can be reached and changed at all (target.c).
 */
#ifndef AT_CLI_TARGET_H
#define AT_CLI_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

struct opts;

/* Where a command acts: a process, or one of its threads. */
struct target {
	pid_t pid; /* the process (allthreads' own pid when self) */
	pid_t tid; /* one thread only (-t), or 0 */
	bool self; /* allthreads itself: changes run through the engine */
	char root_note[160]; /* "names from /proc/PID/root/etc/passwd", or "" */
};

/* show and check: every thread of TGT from /proc into SNAP, or an exit
 * code after saying why not. */
struct snapshot;
int read_target(const struct opts *o, const struct target *tgt,
		struct snapshot *snap);

/* -p's list: numbers separated by commas or blanks (pidof's output). */
int parse_pid_list(const char *s, pid_t *pids, unsigned *n, unsigned max);
/* Say why TGT cannot be reached (-ESRCH, -ENOENT no helper, -EACCES,
 * -EPIPE); returns EXIT_UNREACHABLE. */
int remote_unreachable(const struct target *tgt, int err);

/* A kernel thread (PF_KTHREAD in /proc/PID/stat's flags)? */
bool is_kernel_thread(pid_t pid);
/* Can TARGET be reached at all: exists, readable?  0, or an exit code
 * after saying why. */
int check_reachable(const struct target *tgt);
/* check_reachable(), and a process whose threads can be changed at all
 * (not a kernel thread); an exit code after saying why, or 0. */
int check_changeable(const struct target *tgt);
/* The threads of PID that had signal SIG blocked at each of several looks
 * over some 40 ms: how many, up to MAX in OUT. */
int signal_blockers(pid_t pid, int sig, pid_t *out, unsigned max);

#endif /* AT_CLI_TARGET_H */
