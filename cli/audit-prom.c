// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * audit-prom.c - `allthreads audit --format=prometheus`: the --per-process
 * series kept, whether a process keeps credentials in io_uring, and the
 * run's counts written in the Prometheus text format (prom.c), to standard
 * output or --textfile.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "procfs.h"
#include "prom.h"
#include "usage.h"

/* A process at fault, for --per-process: the N of lowest pid, whatever
 * the order they are read in, so that the same processes keep their
 * series from one run to the next; the others are only counted. */
void audit_series_add(struct audit *au, pid_t pid, const char *comm,
		      unsigned differ, unsigned expect)
{
	struct series *s;
	unsigned i, top = 0;

	if (!differ && !expect)
		return; /* only a ring failed: the io_uring count has it */
	if (au->nseries < au->o->audit_per_process) {
		s = &au->series[au->nseries++];
	} else {
		au->tally.omitted++;
		if (!au->nseries)
			return;
		for (i = 1; i < au->nseries; i++)
			if (au->series[i].pid > au->series[top].pid)
				top = i;
		if (au->series[top].pid < pid)
			return;
		s = &au->series[top]; /* the highest makes way */
	}
	s->pid = pid;
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	s->differ = differ;
	s->expect = expect;
}

/* Does SNAP's process keep credentials in io_uring, apart from its
 * threads: an io_uring kernel worker (it keeps the credentials it was
 * made with), or a ring holding personalities (or that may: a kernel
 * that does not list them)?  1 or 0; -errno when its open files cannot
 * be read (another user's process, without CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH). */
int audit_uring_kept(struct audit *au, struct snapshot *snap)
{
	char name[32], link[sizeof(URING_LINK) + 1];
	bool ring = false;
	long nread, off;
	unsigned i;
	ssize_t n;
	int fdfd, err = 0;

	/* Named iou-sqp-PID and iou-wrk-PID; the flags decide (a thread
	 * may name itself so). */
	for (i = 0; i < snap->n; i++)
		if (!strncmp(snap->t[i].comm, "iou-", 4) &&
		    proc_task_worker(snap->pid, snap->t[i].tid) ==
			    PROCFS_WORKER_IO)
			return 1;
	snprintf(name, sizeof(name), "%d/fd", snap->pid);
	fdfd = openat(au->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	/* Bounded: the directory lists each fd once per pass. */
	for (unsigned pass = 0; pass < 1000000 && !ring && !err; pass++) {
		nread = syscall(SYS_getdents64, fdfd, au->dents,
				sizeof(au->dents));
		if (nread < 0)
			err = errno == ENOENT ? -ESRCH : -errno;
		if (nread <= 0)
			break;
		for (off = 0; off < nread && !ring;) {
			struct dirent64 *de = (void *)(au->dents + off);

			off += de->d_reclen;
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			n = readlinkat(fdfd, de->d_name, link,
				       sizeof(link) - 1);
			if (n < 0 && errno != ENOENT) {
				/* Listed, but not ours to read. */
				err = -errno;
				break;
			}
			ring = n == sizeof(URING_LINK) - 1 &&
			       memcmp(link, URING_LINK, n) == 0;
		}
	}
	close(fdfd);
	if (!ring)
		return err;
	/* A ring: do its personalities show (kernels that list them)? */
	if (proc_read_rings(snap->pid, snap))
		return snap->rings_err;
	for (i = 0; i < snap->nrings; i++)
		if (snap->rings[i].npers != 0)
			return 1;
	return 0;
}

static int cmp_series(const void *a, const void *b)
{
	const struct series *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static const char *const prom_help_process =
	"Threads at fault in one process at fault, by check: differ (they "
	"disagree with the main thread) or expect (they fail an --expect); "
	"for the --per-process processes at fault of lowest pid.";

/* The counts of the run, in the text format.  SECS: how long it took;
 * NOW: when it ended (Unix time). */
static int prom_text(struct audit *au, struct prom *p, double secs, double now)
{
	const struct tally *t = &au->tally;
	struct prom_label l[3];
	char pid[16];
	unsigned i;

	if (prom_start(p))
		return -ENOMEM;
	prom_gauge(p, "allthreads_audit_processes",
		   "Processes audited (those -p, --user and --comm select).");
	prom_uint(p, "allthreads_audit_processes", NULL, 0, t->procs);
	prom_gauge(p, "allthreads_audit_threads",
		   "Threads of the processes audited.");
	prom_uint(p, "allthreads_audit_threads", NULL, 0, t->threads);
	prom_gauge(p, "allthreads_audit_differing_processes",
		   "Processes whose threads disagree on Uid, Gid, Groups, a "
		   "capability set, NoNewPrivs, Seccomp or Seccomp_filters.");
	prom_uint(p, "allthreads_audit_differing_processes", NULL, 0,
		  t->differ);
	prom_gauge(p, "allthreads_audit_failing_threads",
		   "Threads failing at least one --expect (0 without one).");
	prom_uint(p, "allthreads_audit_failing_threads", NULL, 0,
		  t->threads_failing);
	if (au->nex) {
		prom_gauge(p, "allthreads_audit_expectation_failing_threads",
			   "Threads failing this --expect.");
		for (i = 0; i < au->nex; i++) {
			l[0] = (struct prom_label){ "expect", au->ex[i].text };
			prom_uint(
				p,
				"allthreads_audit_expectation_failing_threads",
				l, 1, t->ex_failing[i]);
		}
	}
	prom_gauge(p, "allthreads_audit_io_uring_processes",
		   "Processes keeping credentials in io_uring, which no change "
		   "of their threads reaches: a ring holding registered "
		   "personalities (or that may: a kernel that does not list "
		   "them), or an io_uring kernel worker.");
	prom_uint(p, "allthreads_audit_io_uring_processes", NULL, 0, t->uring);
	prom_gauge(p, "allthreads_audit_io_uring_unknown_processes",
		   "Processes whose open files could not be read, so whether "
		   "they keep credentials in io_uring is unknown (another "
		   "user's needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH).");
	prom_uint(p, "allthreads_audit_io_uring_unknown_processes", NULL, 0,
		  t->uring_unknown);
	prom_gauge(p, "allthreads_audit_unreadable_processes",
		   "Processes whose threads could not be read.");
	prom_uint(p, "allthreads_audit_unreadable_processes", NULL, 0,
		  t->unreadable);
	if (au->o->audit_per_process) {
		qsort(au->series, au->nseries, sizeof(*au->series), cmp_series);
		prom_gauge(p, "allthreads_audit_process_threads_at_fault",
			   prom_help_process);
		for (i = 0; i < au->nseries; i++) {
			const struct series *s = &au->series[i];

			snprintf(pid, sizeof(pid), "%d", s->pid);
			l[0] = (struct prom_label){ "pid", pid };
			l[1] = (struct prom_label){ "comm", s->comm };
			l[2] = (struct prom_label){ "check", "differ" };
			if (s->differ)
				prom_uint(
					p,
					"allthreads_audit_process_threads_at_fault",
					l, 3, s->differ);
			l[2].value = "expect";
			if (s->expect)
				prom_uint(
					p,
					"allthreads_audit_process_threads_at_fault",
					l, 3, s->expect);
		}
		prom_gauge(p, "allthreads_audit_omitted_processes",
			   "Processes at fault beyond --per-process, without "
			   "a series of their own.");
		prom_uint(p, "allthreads_audit_omitted_processes", NULL, 0,
			  t->omitted);
	}
	prom_gauge(p, "allthreads_audit_duration_seconds",
		   "How long the audit took.");
	prom_float(p, "allthreads_audit_duration_seconds", NULL, 0, secs, 6);
	prom_gauge(p, "allthreads_audit_last_run_timestamp_seconds",
		   "When the audit ended, in seconds since the Epoch.");
	prom_float(p, "allthreads_audit_last_run_timestamp_seconds", NULL, 0,
		   now, 3);
	return prom_finish(p);
}

/* The counts, to standard output or --textfile; 0, or EXIT_FAILED when
 * they could not be written. */
int audit_prom_output(struct audit *au, const struct timespec *start)
{
	struct timespec end, now;
	struct prom p;
	double secs;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &end);
	clock_gettime(CLOCK_REALTIME, &now);
	secs = (end.tv_sec - start->tv_sec) +
	       (end.tv_nsec - start->tv_nsec) / 1e9;
	err = prom_text(au, &p, secs, now.tv_sec + now.tv_nsec / 1e9);
	if (!err && au->o->audit_textfile)
		err = prom_replace(au->o->audit_textfile, p.text, p.len);
	else if (!err)
		fwrite(p.text, 1, p.len, stdout);
	prom_free(&p);
	if (err) {
		fprintf(stderr, "allthreads: audit: %s: %s\n",
			au->o->audit_textfile ? au->o->audit_textfile :
						"standard output",
			strerror(-err));
		return EXIT_FAILED;
	}
	return 0;
}
