/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hutil.h - what the helper tests share: start the fixture target with the
 * helper preloaded, ask it for its status, talk to its socket.  Header only;
 * every wait has a deadline and every loop a bound.
 */
#ifndef AT_TESTS_HUTIL_H
#define AT_TESTS_HUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "allthreads.h"
#include "remote.h"
#include "testutil.h"

#define H_MAX_THREADS 256

struct h_status {
	unsigned gen;
	unsigned long eintr, unexpected, app_runs, app_fail, app_rcv;
	int n;
	int tid[H_MAX_THREADS];
	long keepcaps[H_MAX_THREADS];
	long slack[H_MAX_THREADS];
	int fresh[H_MAX_THREADS];
};

struct h_target {
	pid_t pid;
	char status[128];
};

/* A deadline of MS milliseconds, times the factor. */
static inline unsigned h_ms(unsigned ms)
{
	return ms * tu_factor();
}

static inline void h_sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static inline int h_read_status(const char *path, struct h_status *st)
{
	char line[256];
	FILE *f = fopen(path, "re");
	int n = 0;

	memset(st, 0, sizeof(*st));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < 4096) {
		int tid, fresh;
		long kc, sl;

		n++;
		if (sscanf(line, "gen %u", &st->gen) == 1 ||
		    sscanf(line, "eintr %lu", &st->eintr) == 1 ||
		    sscanf(line, "unexpected %lu", &st->unexpected) == 1 ||
		    sscanf(line, "app_runs %lu", &st->app_runs) == 1 ||
		    sscanf(line, "app_fail %lu", &st->app_fail) == 1 ||
		    sscanf(line, "app_rcv %lu", &st->app_rcv) == 1)
			continue;
		if (sscanf(line, "tid %d keepcaps %ld slack %ld fresh %d", &tid,
			   &kc, &sl, &fresh) == 4 &&
		    st->n < H_MAX_THREADS) {
			st->tid[st->n] = tid;
			st->keepcaps[st->n] = kc;
			st->slack[st->n] = sl;
			st->fresh[st->n] = fresh;
			st->n++;
		}
	}
	fclose(f);
	return 0;
}

/* Ask the target for a fresh status (SIGUSR1) and wait for it. */
static inline int h_refresh(const struct h_target *t, struct h_status *st)
{
	struct h_status old;
	long long end = tu_now_ms() + h_ms(5000);

	h_read_status(t->status, &old);
	if (kill(t->pid, SIGUSR1) < 0)
		return -errno;
	while (tu_now_ms() < end) {
		if (h_read_status(t->status, st) == 0 && st->gen > old.gen)
			return 0;
		h_sleep_ms(5);
	}
	return -ETIMEDOUT;
}

/* Start the fixture with NWORKERS workers and the helper preloaded; wait
 * until its socket and first status are there.  EXTRA_ENV may be NULL. */
static inline int h_start(struct h_target *t, int nworkers,
			  const char *extra_env)
{
	const char *helper = getenv("AT_HELPER");
	const char *target = getenv("AT_TARGET");
	char why[200], nw[16];
	long long end;
	pid_t pid;

	if (!helper || !target)
		return -ENOENT;
	snprintf(t->status, sizeof(t->status), "/tmp/at-h-status-%d-%lld",
		 (int)getpid(), tu_now_ms());
	unlink(t->status);
	snprintf(nw, sizeof(nw), "%d", nworkers);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setenv("LD_PRELOAD", helper, 1);
		if (extra_env)
			putenv((char *)extra_env);
		execl(target, target, nw, t->status, (char *)NULL);
		_exit(127);
	}
	t->pid = pid;
	end = tu_now_ms() + h_ms(10000);
	while (tu_now_ms() < end) {
		struct h_status st;

		if (at_remote_probe(pid, why, sizeof(why)) == 0 &&
		    h_read_status(t->status, &st) == 0 && st.n >= nworkers + 5)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			t->pid = 0;
			return -ECHILD;
		}
		h_sleep_ms(5);
	}
	return -ETIMEDOUT;
}

static inline int h_wait(pid_t pid, unsigned ms, int *status)
{
	long long end = tu_now_ms() + ms;

	while (tu_now_ms() < end) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0)
			return -errno;
		h_sleep_ms(2);
	}
	return -ETIMEDOUT;
}

static inline void h_stop(struct h_target *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		h_wait(t->pid, h_ms(5000), NULL);
	}
	t->pid = 0;
	unlink(t->status);
}

/* A one-step program: prctl(OPTION, VALUE). */
static inline struct allthreads_prog *h_prctl_prog(long option, long value)
{
	struct allthreads_prog *p = allthreads_prog_new();
	long args[2] = { option, value };

	if (p && allthreads_prog_add(p, SYS_prctl, 2, args,
				     ALLTHREADS_JUDGE_EQUAL) < 0) {
		allthreads_prog_free(p);
		return NULL;
	}
	return p;
}

/* Run prctl(OPTION, VALUE) in T through its helper; the run's result. */
static inline int h_remote_prctl(pid_t pid, long option, long value,
				 unsigned timeout_ms,
				 struct allthreads_report **rep,
				 struct at_remote_status *st)
{
	struct allthreads_prog *p = h_prctl_prog(option, value);
	int r;

	if (!p)
		return -ENOMEM;
	r = at_remote_run(pid, p, timeout_ms, 0, ALLTHREADS_MISMATCH_REPORT,
			  rep, st);
	allthreads_prog_free(p);
	return r;
}

/* The TIDs in /proc/PID/task; how many (at most MAX). */
static inline int h_tasks(pid_t pid, int *tids, int max)
{
	char cmd[64], line[64];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/task", (int)pid);
	f = popen(cmd, "re");
	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f))
		tids[n++] = atoi(line);
	pclose(f);
	return n;
}

/* /proc/PID/task/TID/status line KEY's text into OUT. */
static inline int h_task_status(pid_t pid, int tid, const char *key, char *out,
				size_t len)
{
	char path[96], line[512];
	size_t kl = strlen(key);
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) || line[kl] != ':')
			continue;
		snprintf(out, len, "%s",
			 line + kl + 1 + strspn(line + kl + 1, " \t"));
		out[strcspn(out, "\n")] = 0;
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

/* Is capability BIT in our effective set? */
static inline int h_has_cap(int bit)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> bit) & 1;
}

/* A wait status in words (static buffer). */
static inline const char *h_status_str(int status)
{
	static char buf[48];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "status %#x", status);
	return buf;
}

#endif /* AT_TESTS_HUTIL_H */
