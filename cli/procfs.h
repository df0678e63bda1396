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
	/* A kernel worker of the process (PF_IO_WORKER: io_uring's SQPOLL
	 * and async threads; PF_USER_WORKER: vhost): never in user space,
	 * so no route changes it, and it keeps the credentials it was made
	 * with.  0 for a thread. */
	unsigned worker;
};

#define PROCFS_WORKER_IO 1u
#define PROCFS_WORKER_USER 2u

/* What /proc/PID/fd/FD reads for an io_uring ring. */
#define URING_LINK "anon_inode:[io_uring]"

/* A credential an io_uring ring keeps: a registered personality, as the
 * ring's fdinfo lists it (older kernels; 6.18 does not). */
struct kept_cred {
	unsigned id;
	long uid[4];
	long gid[4];
	char groups[256]; /* as fdinfo writes them */
	unsigned long long capeff;
};

/* An io_uring ring the process holds (/proc/PID/fd/FD, fdinfo). */
struct uring {
	int fd;
	pid_t sq_thread; /* its SQPOLL thread (a task of the process), or 0 */
	/* The personalities fdinfo lists, or -1 when it lists none: none
	 * registered, or a kernel that does not list them (6.18 does not),
	 * and
	 * the two cannot be told apart. */
	int npers;
	struct kept_cred *pers;
};

struct snapshot {
	pid_t pid;
	struct tstatus *t;
	unsigned n;
	unsigned vanished; /* listed, then gone before they could be read */
	/* What the process keeps beyond its threads (proc_snapshot of a
	 * whole process): its io_uring rings.  rings_err is -errno when its
	 * fds could not be read (EACCES) or were not (-ENODATA: one thread
	 * asked for, or only the TIDs), and the rings are unknown. */
	struct uring *rings;
	unsigned nrings;
	int rings_err;
};

/* Read every thread of PID (only TID when TID != 0). */
int proc_snapshot(pid_t pid, pid_t tid, struct snapshot *snap);
/* What another process PID keeps apart from its threads, read before a
 * change: every TID, the status of each task that may be a kernel worker
 * (those that cannot be have only their TID, the other fields zero and
 * state '?'), and the rings.  Far cheaper than proc_snapshot() on a
 * process of many threads. */
int proc_look(pid_t pid, struct snapshot *snap);
/* Is PID's task TID a kernel worker (the flags in its stat)?
 * PROCFS_WORKER_IO, PROCFS_WORKER_USER, or 0 when not (or when stat
 * cannot be read: the status read decides whether it is there). */
unsigned proc_task_worker(pid_t pid, pid_t tid);
/* The rings of PID into SNAP (proc_snapshot does it): 0 or -errno,
 * also kept in snap->rings_err. */
int proc_read_rings(pid_t pid, struct snapshot *snap);
/* Does SNAP show credentials the process keeps apart from its threads:
 * a kernel worker task, or an io_uring ring (which may hold
 * personalities)?  How many such items. */
unsigned snapshot_kept(const struct snapshot *snap);
/* What a worker task is, in words: "io_uring SQPOLL thread of ring fd
 * 3", "io_uring async worker", "vhost worker". */
void worker_words(const struct snapshot *snap, const struct tstatus *t,
		  char *buf, size_t size);
/* Only the TIDs of every thread of PID (the cheap sweep): the other
 * fields of each entry are left zero. */
int proc_snapshot_tids(pid_t pid, struct snapshot *snap);
/* The same from a task directory opened earlier (proc_list_tasks_fd()). */
int proc_snapshot_tids_fd(int taskfd, struct snapshot *snap);
void snapshot_free(struct snapshot *snap);
/* The TIDs of SNAP, into a new array: the count or -ENOMEM. */
int snapshot_tids(const struct snapshot *snap, pid_t **tids);
/* The entry of TID in SNAP (whose entries are sorted by TID, as every
 * snapshot's are), or NULL. */
const struct tstatus *snapshot_find(const struct snapshot *snap, pid_t tid);
/* Parse the text of a status file into T. */
void parse_status(const char *text, struct tstatus *t);
int proc_read_tstatus(pid_t pid, pid_t tid, struct tstatus *t);

/* Every TID /proc/PID/task lists now, into a new array: the count or
 * -errno. */
int proc_list_tasks(pid_t pid, pid_t **tids);
/* The same from a task directory opened earlier (O_DIRECTORY): what it
 * lists now, read through a duplicate of TASKFD. */
int proc_list_tasks_fd(int taskfd, pid_t **tids);
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
