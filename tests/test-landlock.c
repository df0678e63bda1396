// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-landlock.c - one Landlock domain on every thread through the engine
 * (issue 10), and the go-landlock#39 trap: the domain denies reading /proc,
 * so a broadcaster that restricted itself before it had found every thread
 * could no longer list /proc/self/task.  The engine captures every thread
 * before the calling thread runs one-way steps; every thread must end up
 * in the domain.
 *
 * Each thread of the fixture then tries, itself, to open a file outside
 * the allowed directory (must fail with EACCES), /proc/self/task (EACCES)
 * and a file inside it (must open): checked per thread.  Skips when the
 * kernel has no Landlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"

#define NTHREADS 6

struct shared {
	pthread_barrier_t started, go, done, end;
	char allowed[256];
};

struct probe {
	struct shared *sh;
	pid_t tid;
	int denied_errno;  /* open("/etc/passwd") */
	int proc_errno;	   /* open("/proc/self/task") */
	int allowed_errno; /* open(allowed file); 0 when it opened */
};

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void do_probe(struct probe *p)
{
	p->tid = (pid_t)syscall(SYS_gettid);
	p->denied_errno = try_open("/etc/passwd", O_RDONLY);
	p->proc_errno = try_open("/proc/self/task", O_RDONLY | O_DIRECTORY);
	p->allowed_errno = try_open(p->sh->allowed, O_RDONLY);
}

static void *thread_main(void *arg)
{
	struct probe *p = arg;

	pthread_barrier_wait(&p->sh->started);
	/* Idle in a wait until the domain is in place: the engine's signal
	 * reaches the thread here. */
	pthread_barrier_wait(&p->sh->go);
	do_probe(p);
	pthread_barrier_wait(&p->sh->done);
	pthread_barrier_wait(&p->sh->end);
	return NULL;
}

int main(void)
{
	static struct shared sh;
	static struct probe probes[NTHREADS + 1];
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE |
				     LANDLOCK_ACCESS_FS_READ_DIR,
	};
	struct landlock_path_beneath_attr pb = {
		.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE |
				  LANDLOCK_ACCESS_FS_READ_DIR,
	};
	char dir[] = "/tmp/at-landlock-XXXXXX";
	struct allthreads_report *rep = NULL;
	struct allthreads_prog *prog;
	pthread_t th[NTHREADS];
	long abi, args[5];
	unsigned i, ok_threads = 0;
	int fd, rc, f;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
		      LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP))
		tap_skip_all("Landlock is not enabled in this kernel");
	if (abi < 0)
		tap_bail("landlock_create_ruleset(VERSION): %s",
			 strerror(errno));
	tap_diag("Landlock ABI %ld", abi);

	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(sh.allowed, sizeof(sh.allowed), "%s/allowed", dir);
	f = open(sh.allowed, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (f < 0)
		tap_bail("%s: %s", sh.allowed, strerror(errno));
	close(f);

	pthread_barrier_init(&sh.started, NULL, NTHREADS + 1);
	pthread_barrier_init(&sh.go, NULL, NTHREADS + 1);
	pthread_barrier_init(&sh.done, NULL, NTHREADS + 1);
	pthread_barrier_init(&sh.end, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		probes[i].sh = &sh;
		if (pthread_create(&th[i], NULL, thread_main, &probes[i]))
			tap_bail("pthread_create");
	}
	pthread_barrier_wait(&sh.started);

	/* The ruleset: reads allowed beneath DIR only; /proc is not. */
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		tap_bail("landlock_create_ruleset: %s", strerror(errno));
	pb.parent_fd = open(dir, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0 || syscall(SYS_landlock_add_rule, fd,
					LANDLOCK_RULE_PATH_BENEATH, &pb, 0))
		tap_bail("landlock_add_rule: %s", strerror(errno));
	close(pb.parent_fd);

	prog = allthreads_prog_new();
	args[0] = PR_SET_NO_NEW_PRIVS;
	args[1] = 1;
	args[2] = args[3] = args[4] = 0;
	allthreads_prog_add(prog, SYS_prctl, 5, args, ALLTHREADS_JUDGE_EQUAL);
	args[0] = fd;
	args[1] = 0;
	allthreads_prog_add(prog, SYS_landlock_restrict_self, 2, args,
			    ALLTHREADS_JUDGE_EQUAL);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(rc == 0,
	       "NO_NEW_PRIVS + landlock_restrict_self on every "
	       "thread: %s",
	       rc ? strerror(-rc) : "ok");
	tap_ok(rep && allthreads_report_nthreads(rep) == NTHREADS + 1,
	       "the report holds all %d threads (found before the canary "
	       "restricted itself)",
	       NTHREADS + 1);
	for (i = 0; rep && i < allthreads_report_nthreads(rep); i++)
		ok_threads += allthreads_report_state(rep, i) ==
				      ALLTHREADS_T_OK &&
			      allthreads_report_result(rep, i, 1) == 0;
	tap_ok(ok_threads == NTHREADS + 1,
	       "landlock_restrict_self returned 0 on %u of %d threads",
	       ok_threads, NTHREADS + 1);
	allthreads_report_free(rep);

	/* The trap's condition holds: this thread can no longer open the
	 * task directory. */
	errno = 0;
	tap_ok(try_open("/proc/self/task", O_RDONLY | O_DIRECTORY) == EACCES,
	       "after the change, opening /proc/self/task fails with EACCES "
	       "(the domain covers directory reads)");

	/* Each thread checks itself. */
	probes[NTHREADS].sh = &sh;
	do_probe(&probes[NTHREADS]);
	pthread_barrier_wait(&sh.go);
	pthread_barrier_wait(&sh.done);
	for (i = 0; i <= NTHREADS; i++) {
		const struct probe *p = &probes[i];

		tap_ok(p->denied_errno == EACCES && p->proc_errno == EACCES &&
			       p->allowed_errno == 0,
		       "thread %d: /etc/passwd %s, /proc/self/task %s, the "
		       "allowed file %s",
		       p->tid, strerror(p->denied_errno),
		       strerror(p->proc_errno),
		       p->allowed_errno ? strerror(p->allowed_errno) : "opens");
	}

	/* A second run after the domain: the engine's task directory was
	 * opened before it, so every thread is still found. */
	rep = NULL;
	prog = (allthreads_prog_free(prog), allthreads_prog_new());
	args[0] = PR_GET_NO_NEW_PRIVS;
	args[1] = 0;
	allthreads_prog_add(prog, SYS_prctl, 5, args, ALLTHREADS_JUDGE_EQUAL);
	rc = allthreads_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(rc == 0 && rep &&
		       allthreads_report_nthreads(rep) == NTHREADS + 1 &&
		       allthreads_report_result(rep, 0, 0) == 1,
	       "a later run under the domain still reaches every thread "
	       "(%s)",
	       rc ? strerror(-rc) : "ok");
	allthreads_report_free(rep);
	allthreads_prog_free(prog);

	pthread_barrier_wait(&sh.end);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	close(fd);
	unlink(sh.allowed);
	rmdir(dir);
	return tap_done();
}
