/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * procfs.h - what /proc/PID/task/TID/status says about each thread of any
 * process, read so that threads exiting meanwhile are skipped, not fatal.
 *
 * PID 0 means allthreads itself (/proc/self).  Functions return 0 or a
 * count on success, -errno on failure.
 */
#ifndef AT_CLI_PROCFS_H
#define AT_CLI_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum capset_index { CAP_INH, CAP_PRM, CAP_EFF, CAP_BND, CAP_AMB, NR_CAPSETS };

/* The status keys of the capability sets, named once: attrs.c's table and
 * capset_key() both use these. */
#define PROCFS_KEY_CAPINH "CapInh"
#define PROCFS_KEY_CAPPRM "CapPrm"
#define PROCFS_KEY_CAPEFF "CapEff"
#define PROCFS_KEY_CAPBND "CapBnd"
#define PROCFS_KEY_CAPAMB "CapAmb"

/* The /proc status key of capability set SET: "CapEff"... */
const char *capset_key(enum capset_index set);

/* One thread's credentials as /proc shows them. */
struct tstatus {
	pid_t tid;
	char comm[64];
	char state;
	long uid[4]; /* real, effective, saved, filesystem */
	long gid[4];
	unsigned ngroups;
	unsigned *groups; /* as the kernel lists them (sorted) */
	unsigned long long cap[NR_CAPSETS];
	int nnp;     /* NoNewPrivs */
	int seccomp; /* Seccomp: 0 off, 1 strict, 2 filter */
	int filters; /* Seccomp_filters, or -1 when the kernel lacks it */
};

struct snapshot {
	pid_t pid;
	struct tstatus *t;
	unsigned n;
	unsigned vanished; /* listed, then gone before they could be read */
};

/* Read every thread of PID (only TID when TID != 0). */
int proc_snapshot(pid_t pid, pid_t tid, struct snapshot *snap);
/* Only the TIDs of every thread of PID (the cheap sweep): the other
 * fields of each entry are left zero. */
int proc_snapshot_tids(pid_t pid, struct snapshot *snap);
void snapshot_free(struct snapshot *snap);
/* Parse the text of a status file into T. */
void parse_status(const char *text, struct tstatus *t);
int proc_read_tstatus(pid_t pid, pid_t tid, struct tstatus *t);

/* Every TID /proc/PID/task lists now, into a new array: the count or
 * -errno. */
int proc_list_tasks(pid_t pid, pid_t **tids);
/* "/proc/PID/task/TID/FILE", PID 0 being self. */
void task_path(char *buf, size_t size, pid_t pid, pid_t tid, const char *file);
/* A small file into BUF, without its last newline. */
int read_small(const char *path, char *buf, size_t size);
/* The value of FIELD ("NoNewPrivs") in the status of PID's thread TID. */
int proc_status_field(pid_t pid, pid_t tid, const char *field, char *out,
		      size_t size);
/* The process (Tgid) a thread belongs to. */
pid_t proc_tgid(pid_t tid);

#endif /* AT_CLI_PROCFS_H */
