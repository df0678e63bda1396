// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-api.c - the library's API for another process, by the ptrace route,
 * on processes started without the helper: arguments checked, the route
 * probed, a program run on every thread (by the runner and by one
 * injection per call, pointer arguments included), a canary that fails
 * touches nothing else, a mismatch undoes everywhere, and the report says
 * what the frozen window cost; a thread that dies in an injected call (a
 * seccomp filter that came after the route's look) fails the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "arch.h"
#include "inject.h"
#include "ptrace.h"
#include "tap.h"
#include "testutil.h"

extern char **environ;

struct child {
	pid_t pid;
	int in, out;
	char ready[256]; /* its first line */
};

/* Start ARGV with pipes on its stdin and stdout; wait for "ready". */
static int spawn(struct child *c, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int in[2], out[2], i;
	char buf[256];
	size_t got = 0;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ))
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = out[0];
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 400 && !memchr(buf, '\n', got); i++) {
		ssize_t n = read(c->out, buf + got, sizeof(buf) - 1 - got);

		if (n > 0)
			got += (size_t)n;
		else
			tu_sleep_ms(25);
	}
	buf[got] = 0;
	snprintf(c->ready, sizeof(c->ready), "%s", buf);
	return strncmp(buf, "ready", 5) ? -1 : 0;
}

/* Send CMD (a line) to C and read its one-line answer into OUT (10 s at
 * most); -1 without one. */
static int ask(struct child *c, const char *cmd, char *out, size_t len)
{
	size_t got = 0;
	int i;

	if (write(c->in, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	out[0] = 0;
	for (i = 0; i < 1000 && !memchr(out, '\n', got); i++) {
		ssize_t n = read(c->out, out + got, len - 1 - got);

		if (n > 0) {
			got += (size_t)n;
			out[got] = 0;
		} else {
			tu_sleep_ms(10);
		}
	}
	return memchr(out, '\n', got) ? 0 : -1;
}

static void reap(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->in);
	close(c->out);
}

static unsigned ntasks(pid_t pid)
{
	char path[64];
	unsigned n = 0;
	FILE *f;
	char line[64];

	snprintf(path, sizeof(path), "ls /proc/%d/task", (int)pid);
	f = popen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		pclose(f);
	return n;
}

static struct allthreads_prog *prog1(long nr, long a0, long a1,
				     enum allthreads_judge j)
{
	struct allthreads_prog *p = allthreads_prog_new();
	long a[5] = { a0, a1, 0, 0, 0 };

	allthreads_prog_add(p, nr, 5, a, j);
	return p;
}

/* Every thread's PR_GET_KEEPCAPS, read through the route itself: how many
 * threads read 1 (-1 on failure). */
static int count_keepcaps(struct allthreads_target *t)
{
	struct allthreads_prog *p =
		prog1(SYS_prctl, PR_GET_KEEPCAPS, 0, ALLTHREADS_JUDGE_ANY);
	struct allthreads_report *rep = NULL;
	unsigned i;
	int n = 0;

	if (allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, 0, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep) < 0)
		n = -1;
	for (i = 0; n >= 0 && i < allthreads_report_nthreads(rep); i++)
		if (allthreads_report_state(rep, i) == ALLTHREADS_T_OK)
			n += allthreads_report_result(rep, i, 0) == 1;
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	return n;
}

static bool every_comm(pid_t pid, const char *want)
{
	pid_t tids[256];
	char path[64], comm[64];
	int n, i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	(void)path;
	n = 0;
	{
		char cmd[80], line[32];

		snprintf(cmd, sizeof(cmd), "ls /proc/%d/task", (int)pid);
		f = popen(cmd, "r");
		while (f && n < 256 && fgets(line, sizeof(line), f))
			tids[n++] = atoi(line);
		if (f)
			pclose(f);
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid,
			 (int)tids[i]);
		f = fopen(path, "r");
		if (!f || !fgets(comm, sizeof(comm), f)) {
			if (f)
				fclose(f);
			return false;
		}
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		if (strcmp(comm, want))
			return false;
	}
	return n > 0;
}

static void test_args(const char *fixture)
{
	struct allthreads_target *t = NULL;
	struct child c;
	char *argv[] = { (char *)fixture, "2", NULL };
	pid_t gone;
	int r;

	tap_ok(allthreads_target_open(-1, 0, &t) == -EINVAL && !t,
	       "open(-1): EINVAL");
	tap_ok(allthreads_target_open(getpid(), 1, &t) == -EINVAL,
	       "open with flags: EINVAL");
	tap_ok(allthreads_target_open(getpid(), 0, NULL) == -EINVAL,
	       "open without a place for the target: EINVAL");
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	tap_ok(allthreads_target_open(gone, 0, &t) == -ESRCH,
	       "open of a process that is gone: ESRCH");
	tap_ok(allthreads_target_probe(NULL, ALLTHREADS_ROUTE_AUTO) == -EINVAL,
	       "probe(NULL): EINVAL");
	if (spawn(&c, argv) < 0) {
		tap_ok(false, "the fixture starts");
		return;
	}
	{
		/* A thread of the fixture that is not its main thread. */
		char cmd[80], line[32];
		pid_t tid = 0;
		FILE *f;

		snprintf(cmd, sizeof(cmd), "ls /proc/%d/task", (int)c.pid);
		f = popen(cmd, "r");
		while (f && fgets(line, sizeof(line), f))
			if (atoi(line) != c.pid)
				tid = atoi(line);
		if (f)
			pclose(f);
		r = allthreads_target_open(tid, 0, &t);
		tap_ok(tid > 0 && r == -ESRCH,
		       "open of a thread id that is not a process: ESRCH (%d)",
		       r);
	}
	r = allthreads_target_open(c.pid, 0, &t);
	tap_ok(r == 0 && allthreads_target_pid(t) == c.pid, "open the fixture");
	tap_ok(allthreads_target_probe(t, (enum allthreads_route)7) == -EINVAL,
	       "probe with a bad route: EINVAL");
	r = allthreads_target_probe(t, ALLTHREADS_ROUTE_HELPER);
	tap_ok(r == -ENOENT && allthreads_target_why(t)[0],
	       "probe HELPER without a helper: ENOENT (%s)",
	       allthreads_target_why(t));
	r = allthreads_target_probe(t, ALLTHREADS_ROUTE_AUTO);
	tap_ok(r == ALLTHREADS_ROUTE_PTRACE &&
		       allthreads_target_route(t) == ALLTHREADS_ROUTE_PTRACE,
	       "probe AUTO without a helper: the ptrace route");
	{
		struct allthreads_report *rep = (void *)1;
		struct allthreads_prog *empty = allthreads_prog_new();

		r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, empty, 0,
					  0, ALLTHREADS_MISMATCH_REPORT, &rep);
		tap_ok(r == -EINVAL && !rep, "run of an empty program: EINVAL");
		allthreads_prog_free(empty);
	}
	allthreads_target_close(t);
	reap(&c);
	{
		struct allthreads_target *me = NULL;

		allthreads_target_open(getpid(), 0, &me);
		tap_ok(allthreads_target_probe(me, ALLTHREADS_ROUTE_PTRACE) ==
			       -EINVAL,
		       "ptrace on oneself: EINVAL (%s)",
		       allthreads_target_why(me));
		allthreads_target_close(me);
	}
}

static void test_run(const char *fixture, bool stub)
{
	const char *how = stub ? "runner" : "one injection per call";
	char *argv[] = { (char *)fixture, "5", NULL };
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t;
	struct allthreads_prog *p;
	struct at_ptrace_times tm;
	struct child c;
	unsigned i, n, ok = 0, ones = 0;
	long a[5] = { PR_GET_KEEPCAPS, 0, 0, 0, 0 };
	int r;

	setenv("ALLTHREADS_PTRACE_STUB", stub ? "1" : "0", 1);
	if (spawn(&c, argv) < 0 || allthreads_target_open(c.pid, 0, &t)) {
		tap_ok(false, "%s: the fixture starts", how);
		return;
	}
	n = ntasks(c.pid);
	p = prog1(SYS_prctl, PR_SET_KEEPCAPS, 1, ALLTHREADS_JUDGE_EQUAL);
	allthreads_prog_add(p, SYS_prctl, 5, a, ALLTHREADS_JUDGE_EQUAL);
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, 0, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == 0 && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_AGREE,
	       "%s: KEEP_CAPS 1 then read back: agree (%d %s)", how, r,
	       allthreads_target_why(t));
	for (i = 0; i < allthreads_report_nthreads(rep); i++) {
		ok += allthreads_report_state(rep, i) == ALLTHREADS_T_OK;
		ones += allthreads_report_result(rep, i, 1) == 1;
		if (allthreads_report_state(rep, i) != ALLTHREADS_T_OK ||
		    allthreads_report_result(rep, i, 1) != 1)
			tap_diag("tid %d: state %d, results %ld %ld: %s",
				 (int)allthreads_report_tid(rep, i),
				 (int)allthreads_report_state(rep, i),
				 allthreads_report_result(rep, i, 0),
				 allthreads_report_result(rep, i, 1),
				 allthreads_report_why(rep, i));
	}
	tap_ok(allthreads_report_nthreads(rep) == n && ok == n && ones == n,
	       "%s: every thread (%u of %u) ran both steps and reads 1", how,
	       ones, n);
	tap_ok(allthreads_target_route(t) == ALLTHREADS_ROUTE_PTRACE,
	       "%s: the route taken was ptrace", how);
	memset(&tm, 0, sizeof(tm));
	r = at_ptrace_times(rep, &tm);
	/* aarch64 has no stub: every call is injected on its own there. */
	tap_ok(r == 0 && tm.frozen_ns > 0 &&
		       tm.stub == (stub && AT_ARCH_HAS_STUB) && tm.stops >= n,
	       "%s: the frozen window is reported (%llu us, %llu stops)", how,
	       (unsigned long long)tm.frozen_ns / 1000,
	       (unsigned long long)tm.stops);
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	tap_ok(count_keepcaps(t) == (int)n,
	       "%s: read again, every thread has KEEP_CAPS 1", how);

	/* A pointer argument: the thread name, copied into the target. */
	p = allthreads_prog_new();
	{
		long b[5] = { PR_SET_NAME, (long)"via-ptrace", 0, 0, 0 };

		allthreads_prog_add(p, SYS_prctl, 5, b, ALLTHREADS_JUDGE_EQUAL);
	}
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, 0, 0,
				  ALLTHREADS_MISMATCH_REPORT, NULL);
	tap_ok(r == 0 && every_comm(c.pid, "via-ptrace"),
	       "%s: PR_SET_NAME through scratch memory: every thread renamed",
	       how);
	allthreads_prog_free(p);

	/* The canary fails: nothing else is touched. */
	p = prog1(SYS_prctl, PR_SET_KEEPCAPS, 7, ALLTHREADS_JUDGE_EQUAL);
	rep = NULL;
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, 0, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep);
	ok = 0;
	for (i = 1; i < allthreads_report_nthreads(rep); i++)
		ok += allthreads_report_state(rep, i) == ALLTHREADS_T_NOT_RUN;
	tap_ok(r == -EINVAL && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_FAILED &&
		       allthreads_report_state(rep, 0) == ALLTHREADS_T_FAILED &&
		       ok == n - 1,
	       "%s: the canary's step fails: its error, no other thread ran "
	       "(%d, %u not run)",
	       how, r, ok);
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	allthreads_target_close(t);
	reap(&c);
}

/* The cli fixture: thread 1 has NO_NEW_PRIVS, thread 4 KEEP_CAPS. */
static void test_undo(const char *threaded)
{
	char *argv[] = { (char *)threaded, "5", NULL };
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t;
	struct allthreads_prog *p;
	struct child c;
	long save[6] = { PR_GET_KEEPCAPS, 0, 0, 0, 0, 0 };
	long undo[6] = { PR_SET_KEEPCAPS, ALLTHREADS_SAVED, 0, 0, 0, 0 };
	long nnp[5] = { PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0 };
	unsigned i, undone = 0, failed = 0;
	int r, before;

	setenv("ALLTHREADS_PTRACE_STUB", "1", 1);
	if (spawn(&c, argv) < 0 || allthreads_target_open(c.pid, 0, &t)) {
		tap_ok(false, "undo: the fixture starts");
		return;
	}
	before = count_keepcaps(t);
	p = prog1(SYS_prctl, PR_SET_KEEPCAPS, 1, ALLTHREADS_JUDGE_EQUAL);
	allthreads_prog_set_undo(p, 0, SYS_prctl, save, SYS_prctl, undo);
	allthreads_prog_add(p, SYS_prctl, 5, nnp, ALLTHREADS_JUDGE_EQUAL);
	allthreads_prog_set_undo(p, 1, -1, NULL, -1, NULL); /* a read */
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, 0, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep);
	for (i = 0; i < allthreads_report_nthreads(rep); i++) {
		undone += allthreads_report_state(rep, i) ==
			  ALLTHREADS_T_UNDONE;
		failed += allthreads_report_state(rep, i) ==
			  ALLTHREADS_T_FAILED;
	}
	tap_ok(r == -EIO && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_FAILED &&
		       failed == 1 && undone >= 4,
	       "a thread that differs: EIO, verdict failed, the others undone "
	       "(%d, %u failed, %u undone)",
	       r, failed, undone);
	tap_ok(before == 1 && count_keepcaps(t) == 1,
	       "undone to each thread's own value: KEEP_CAPS on one thread "
	       "only, as before");
	allthreads_report_free(rep);
	rep = NULL;
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, 0, 0,
				  ALLTHREADS_MISMATCH_IGNORE, &rep);
	tap_ok(r == 0 && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_PARTIAL,
	       "MISMATCH_IGNORE: 0, verdict partial (%d)", r);
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	allthreads_target_close(t);
	reap(&c);
}

/* Every task of PID shows KEY: WANT in its /proc status. */
static bool every_status(pid_t pid, const char *key, long want)
{
	pid_t tids[300];
	int n, i;

	n = 0;
	{
		char cmd[80], line[32];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "ls /proc/%d/task", (int)pid);
		f = popen(cmd, "r");
		while (f && n < 300 && fgets(line, sizeof(line), f))
			tids[n++] = atoi(line);
		if (f)
			pclose(f);
	}
	for (i = 0; i < n; i++) {
		char path[64], line[256];
		size_t klen = strlen(key);
		bool found = false;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/status",
			 (int)pid, (int)tids[i]);
		f = fopen(path, "re");
		while (f && !found && fgets(line, sizeof(line), f))
			found = !strncmp(line, key, klen) &&
				line[klen] == ':' &&
				strtol(line + klen + 1, NULL, 10) == want;
		if (f)
			fclose(f);
		if (!found)
			return false;
	}
	return n > 0;
}

/*
 * Several threads run the program at once (the window, issue 19): 48
 * threads that look at their own name every millisecond.  No thread may
 * run its own code before every thread has run: one let go early would
 * see the name the program gives and set `early`, which the step
 * write(WFD, &early, 1) of a thread that runs after it would find.  Each
 * thread's results must be its own (gettid), and so must its saved values
 * (an undo puts back each thread's own KEEP_CAPS, half of them 1).
 */
static void test_window(const char *target)
{
	char *argv[] = { (char *)target, "48", NULL };
	struct allthreads_report *rep = NULL;
	struct allthreads_target *t = NULL;
	struct allthreads_prog *p;
	struct at_ptrace_times tm;
	struct child c;
	unsigned long early = 0, ts = 0;
	unsigned i, n, own = 0, bytes = 0, set = 0, same = 0, other = 0;
	unsigned undone = 0;
	char line[128];
	int pid = 0, wfd = -1, r;
	/* The route's default, 5 s, or more under emulation (aarch64 has
	 * no stub: two stops a step, 49 threads one at a time). */
	unsigned ms = 5000 * tu_factor();

	setenv("ALLTHREADS_PTRACE_STUB", "1", 1);
	if (spawn(&c, argv) < 0 ||
	    sscanf(c.ready, "ready %d %d %lx %lx", &pid, &wfd, &early, &ts) !=
		    4 ||
	    allthreads_target_open(c.pid, 0, &t)) {
		tap_ok(false, "window: the fixture starts (%s)", c.ready);
		return;
	}
	n = ntasks(c.pid);
	p = allthreads_prog_new();
	{
		long name[5] = { PR_SET_NAME, (long)"at-win-on" };
		long sleep2[5] = { (long)ts, 0 };
		long wr[5] = { wfd, (long)early, 1 };
		long nnp[5] = { PR_SET_NO_NEW_PRIVS, 1 };

		allthreads_prog_add(p, SYS_prctl, 5, name,
				    ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_add(p, SYS_gettid, 0, NULL,
				    ALLTHREADS_JUDGE_ANY);
		allthreads_prog_add(p, SYS_nanosleep, 2, sleep2,
				    ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_add(p, SYS_write, 3, wr,
				    ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_add(p, SYS_prctl, 5, nnp,
				    ALLTHREADS_JUDGE_EQUAL);
	}
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, ms, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep);
	tap_ok(r == 0 && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_AGREE,
	       "window: the program on %u threads: agree (%d %s)", n, r,
	       allthreads_target_why(t));
	memset(&tm, 0, sizeof(tm));
	at_ptrace_times(rep, &tm);
	/* aarch64 has no stub: one thread at a time there. */
	tap_ok(AT_ARCH_HAS_STUB ? tm.window > 1 : tm.window == 1,
	       "window: %u threads ran the program at once", tm.window);
	for (i = 0; rep && i < allthreads_report_nthreads(rep); i++) {
		if (allthreads_report_state(rep, i) == ALLTHREADS_T_OK &&
		    allthreads_report_result(rep, i, 1) ==
			    allthreads_report_tid(rep, i)) {
			own++;
			continue;
		}
		tap_diag("tid %d: state %d, gettid gave %ld: %s",
			 (int)allthreads_report_tid(rep, i),
			 (int)allthreads_report_state(rep, i),
			 allthreads_report_result(rep, i, 1),
			 allthreads_report_why(rep, i));
	}
	tap_ok(own == n,
	       "window: every thread's results are its own (%u of "
	       "%u read their own tid)",
	       own, n);
	if (ask(&c, "g\n", line, sizeof(line)) == 0)
		sscanf(line, "bytes %u set %u", &bytes, &set);
	tap_ok(bytes == n && set == 0,
	       "window: no thread ran its own code before every thread had "
	       "run (%u steps saw it %u times)",
	       bytes, set);
	tap_ok(every_comm(c.pid, "at-win-on") &&
		       every_status(c.pid, "NoNewPrivs", 1),
	       "window: /proc shows every thread changed");
	allthreads_report_free(rep);
	allthreads_prog_free(p);

	/* Each thread's saved value its own: a mismatch undoes everywhere. */
	p = allthreads_prog_new();
	tu_add_keepcaps(p, 1, true);
	{
		long sleep2[5] = { (long)ts, 0 };

		allthreads_prog_add(p, SYS_nanosleep, 2, sleep2,
				    ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_set_undo(p, 1, -1, NULL, -1, NULL);
		allthreads_prog_add(p, SYS_gettid, 0, NULL,
				    ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_set_undo(p, 2, -1, NULL, -1, NULL);
	}
	rep = NULL;
	r = allthreads_target_run(t, ALLTHREADS_ROUTE_PTRACE, p, ms, 0,
				  ALLTHREADS_MISMATCH_REPORT, &rep);
	for (i = 0; rep && i < allthreads_report_nthreads(rep); i++)
		undone += allthreads_report_state(rep, i) ==
				  ALLTHREADS_T_UNDONE ||
			  (allthreads_report_state(rep, i) ==
				   ALLTHREADS_T_FAILED &&
			   allthreads_report_left_changed(rep, i) == 0);
	tap_ok(r == -EIO && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_FAILED &&
		       undone == n,
	       "window: gettid judged against the canary fails everywhere "
	       "else, every thread undone (%d, %u of %u)",
	       r, undone, n);
	if (ask(&c, "k\n", line, sizeof(line)) == 0)
		sscanf(line, "keepcaps %u %u", &same, &other);
	tap_ok(same == 48 && other == 0,
	       "window: each thread got its own KEEP_CAPS back (%u did, %u "
	       "did not)",
	       same, other);
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	allthreads_target_close(t);
	reap(&c);
}

#ifndef AT_ARCH_NONE
/* The hook below: which thread took the filter. */
struct late {
	pid_t victim;
};

/*
 * Before the steps (after the route's looks at every thread's seccomp
 * mode): a filter that ends the calling thread on prctl(2), put by an
 * injected seccomp(2) on one thread that is not the canary, as if it had
 * installed it between the look and its stop.
 */
static int late_filter(struct pt_ctx *c, struct pt_thread *can, void *arg)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct {
		uint16_t len;
		uint16_t pad[3];
		uint64_t filter;
	} fprog = { 4, { 0 }, c->hook_at + 16 };
	struct pt_call call = { .nr = SYS_seccomp,
				.a = { SECCOMP_SET_MODE_FILTER, 0,
				       (long)c->hook_at } };
	struct late *l = arg;
	unsigned k;
	long ret = -1;

	if (pt_mem_write(c, c->hook_at + 16, f, sizeof(f)) ||
	    pt_mem_write(c, c->hook_at, &fprog, sizeof(fprog)))
		return -EFAULT;
	for (k = c->n; k-- > 0;) {
		struct pt_thread *t = &c->t[k];

		if (t == can || t->st != PT_STOPPED || !t->captured)
			continue;
		if (pt_run_calls(c, t, &call, 1, &ret) || ret)
			return -EIO;
		l->victim = t->tid;
		return 0;
	}
	return -ESRCH;
}

static void late_done(struct pt_ctx *c, struct pt_thread *t, void *arg)
{
	(void)c;
	(void)t;
	(void)arg;
}

/* Set (ON) or clear CAP_SYS_ADMIN in this thread's effective set. */
static int sys_admin(bool on)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[0].effective |= 1u << CAP_SYS_ADMIN;
	else
		d[0].effective &= ~(1u << CAP_SYS_ADMIN);
	return (int)syscall(SYS_capset, &h, d);
}

/* A thread killed by a filter in the middle of the run: not "exited",
 * a failure of the run (issue 16, item 6). */
static void test_late_filter(const char *fixture)
{
	char *argv[] = { (char *)fixture, "4", NULL };
	struct late l = { 0 };
	struct pt_hook hook = { .data_len = 64,
				.before = late_filter,
				.after = late_done,
				.arg = &l };
	struct allthreads_prog *p;
	struct allthreads_report *rep = NULL;
	char why[512] = "";
	struct child c;
	unsigned i, n, tasks;
	int r, victim = -1;

	if (!tu_has_cap(21)) {
		tap_skip(4, "no CAP_SYS_ADMIN: the fixture's filter needs it");
		return;
	}
	if (spawn(&c, argv) < 0) {
		tap_ok(false, "the fixture starts");
		return;
	}
	tasks = ntasks(c.pid);
	p = prog1(SYS_prctl, PR_SET_KEEPCAPS, 1, ALLTHREADS_JUDGE_EQUAL);
	/* Without CAP_SYS_ADMIN the route cannot suspend filters. */
	if (sys_admin(false)) {
		tap_skip(4, "cannot drop CAP_SYS_ADMIN");
		goto out;
	}
	/* The tracer as a thread here: the hook's answer in this memory. */
	setenv("ALLTHREADS_PTRACE_WORKER", "0", 1);
	r = pt_run_hooked(c.pid, -1, p, &hook, 0, ALLTHREADS_MISMATCH_REPORT,
			  &rep, why, sizeof(why));
	unsetenv("ALLTHREADS_PTRACE_WORKER");
	sys_admin(true);
	n = rep ? allthreads_report_nthreads(rep) : 0;
	for (i = 0; i < n; i++)
		if (allthreads_report_tid(rep, i) == l.victim)
			victim = (int)i;
	tap_ok(l.victim > 0 && ntasks(c.pid) == tasks - 1,
	       "the late filter killed thread %d in the run (%u -> %u tasks)",
	       (int)l.victim, tasks, ntasks(c.pid));
	tap_ok(r == -EIO && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_PARTIAL,
	       "the run failed, verdict partial, not agree (%d, %s: %s)", r,
	       rep ? allthreads_verdict_name(allthreads_report_verdict(rep)) :
		     "no report",
	       why);
	tap_ok(victim >= 0 &&
		       allthreads_report_state(rep, (unsigned)victim) ==
			       ALLTHREADS_T_FAILED &&
		       strstr(allthreads_report_why(rep, (unsigned)victim),
			      "injected call"),
	       "the dead thread failed, not exited: \"%s\"",
	       victim >= 0 ? allthreads_report_why(rep, (unsigned)victim) :
			     "not in the report");
	tap_ok(strstr(why, "died in an injected call") != NULL,
	       "the reason names it: %s", why);
out:
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	reap(&c);
}
#endif

int main(void)
{
	const char *fixture = getenv("AT_PTRACE_TARGET");
	const char *threaded = getenv("AT_FIXTURE");
	const char *window = getenv("AT_WINDOW_TARGET");

	/* Times AT_TIMEOUT_FACTOR (tu_watchdog()): emulated, 89 s alone and
	 * 119 s beside another test. */
	tu_watchdog(100);
	if (!fixture || !threaded) {
		tap_skip(1, "AT_PTRACE_TARGET and AT_FIXTURE not set");
		return tap_done();
	}
	if (!tu_has_cap(19)) {
		/* Same uid works too, but Yama may forbid it. */
		FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
		int scope = 0;

		if (f && fscanf(f, "%d", &scope) != 1)
			scope = 0;
		if (f)
			fclose(f);
		if (scope > 0) {
			tap_skip(1, "Yama forbids ptrace of non-descendants "
				    "without CAP_SYS_PTRACE");
			return tap_done();
		}
	}
	test_args(fixture);
	test_run(fixture, true);
	test_run(fixture, false);
	test_undo(threaded);
	if (window)
		test_window(window);
	else
		tap_skip(6, "AT_WINDOW_TARGET not set");
#ifndef AT_ARCH_NONE
	test_late_filter(fixture);
#endif
	return tap_done();
}
