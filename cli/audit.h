/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * audit.h - what `allthreads audit` keeps for one run (cmd-audit.c), its
 * reader of /proc (audit-read.c), and its Prometheus output
 * (audit-prom.c).
 */
#ifndef AT_CLI_AUDIT_H
#define AT_CLI_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "cli.h"
#include "expect.h"
#include "listing.h"
#include "procfs.h"

/* What a run found, for the summary and the exit status. */
struct tally {
	unsigned procs, threads;
	unsigned differ, failing, unreadable, vanished;
	/* --format=prometheus: threads failing an expectation (and each
	 * expectation), processes keeping credentials in io_uring, those
	 * whose open files could not be read, those at fault beyond
	 * --per-process. */
	unsigned threads_failing, ex_failing[MAX_EXPECT];
	unsigned uring, uring_unknown, omitted;
	int code;
};

/* --per-process: one process at fault, and its threads at fault. */
struct series {
	pid_t pid;
	char comm[64];
	unsigned differ, expect;
};

/* Reused buffers: a thread's status text and a task directory listing. */
struct audit {
	const struct opts *o;
	int procfd;
	char *text;
	size_t textsize;
	char dents[32768];
	struct expectation ex[MAX_EXPECT];
	unsigned nex;
	bool by_user;
	long uid;
	struct listing ls;
	struct tally tally;
	bool json, prom;
	struct series *series; /* --per-process of them */
	unsigned nseries;
};

/* Every thread of PID into SNAP (audit-read.c); -errno when the process
 * cannot be read (-ESRCH when it is gone). */
int audit_read_process(struct audit *au, pid_t pid, struct snapshot *snap);
/* A process at fault, for --per-process (the N of lowest pid kept). */
void audit_series_add(struct audit *au, pid_t pid, const char *comm,
		      unsigned differ, unsigned expect);
/* Does SNAP's process keep credentials in io_uring?  1 or 0, or -errno
 * when its open files cannot be read. */
int audit_uring_kept(struct audit *au, struct snapshot *snap);
/* The counts, to standard output or --textfile; 0 or EXIT_FAILED. */
int audit_prom_output(struct audit *au, const struct timespec *start);

#endif
