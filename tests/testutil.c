/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutil.c - shared helpers for the engine tests (see testutil.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"

long long tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tu_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	/* Bounded: at most a few restarts after signals. */
	for (int i = 0; i < 100 && nanosleep(&ts, &ts) < 0 && errno == EINTR;
	     i++)
		;
}

unsigned tu_factor(void)
{
	const char *e = getenv("AT_TIMEOUT_FACTOR");
	int f = e ? atoi(e) : 1;

	return f < 1 ? 1 : f > 100 ? 100 : (unsigned)f;
}

pid_t tu_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void watchdog_fired(int sig)
{
	static const char msg[] = "Bail out! watchdog: the test hung\n";
	ssize_t n = write(STDOUT_FILENO, msg, sizeof(msg) - 1);

	(void)n;
	(void)sig;
	_exit(99);
}

void tu_watchdog(unsigned seconds)
{
	struct sigaction sa = { .sa_handler = watchdog_fired };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	/* As slow as the rest under emulation: meson's own timeout, which
	 * tests/arm64/vm.sh multiplies too, stays the larger. */
	alarm(seconds * tu_factor());
}

static long sys_prctl(long op, long a)
{
	return syscall(SYS_prctl, op, a, 0L, 0L, 0L);
}

void tu_sample_self(struct tu_sample *s)
{
	uid_t u[3] = { 0 };
	gid_t g[3] = { 0 };

	s->tid = tu_gettid();
	s->keepcaps = sys_prctl(PR_GET_KEEPCAPS, 0);
	s->nnp = sys_prctl(PR_GET_NO_NEW_PRIVS, 0);
	s->slack = sys_prctl(PR_GET_TIMERSLACK, 0);
	memset(s->name, 0, sizeof(s->name));
	sys_prctl(PR_GET_NAME, (long)s->name);
	syscall(SYS_getresuid, &u[0], &u[1], &u[2]);
	syscall(SYS_getresgid, &g[0], &g[1], &g[2]);
	for (int i = 0; i < 3; i++) {
		s->uid[i] = u[i];
		s->gid[i] = g[i];
	}
	/* setfsuid(-1) changes nothing and returns the current fsuid. */
	s->fsuid = syscall(SYS_setfsuid, -1L);
}

static long futex_wait_ms(_Atomic int *addr, int val, unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void futex_wake_all(_Atomic int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

struct tu_worker {
	pthread_t thread;
	struct tu_pool *pool;
	unsigned index;
	_Atomic pid_t tid;
	struct tu_sample sample;
};

struct tu_pool {
	unsigned n;
	unsigned created;
	struct tu_worker *w;
	_Atomic int req;   /* futex: request number */
	_Atomic int done;  /* futex: answers so far */
	_Atomic int ready; /* futex: workers that have started */
	_Atomic int quit;
	int who;
	void (*fn)(long);
	long arg;
	long long expire_ms;
};

static void *worker_main(void *p)
{
	struct tu_worker *w = p;
	struct tu_pool *pool = w->pool;
	int seen = 0;

	atomic_store(&w->tid, tu_gettid());
	tu_sample_self(&w->sample);
	atomic_fetch_add(&pool->ready, 1);
	futex_wake_all(&pool->ready);
	/* Bounded by the pool's lifetime: each pass waits at most 50 ms. */
	while (!atomic_load(&pool->quit) && tu_now_ms() < pool->expire_ms) {
		int req = atomic_load(&pool->req);

		if (req == seen) {
			futex_wait_ms(&pool->req, seen, 50);
			continue;
		}
		seen = req;
		if (pool->fn &&
		    (pool->who == TU_ALL || pool->who == (int)w->index))
			pool->fn(pool->arg);
		tu_sample_self(&w->sample);
		atomic_fetch_add(&pool->done, 1);
		futex_wake_all(&pool->done);
	}
	return NULL;
}

struct tu_pool *tu_pool_new(unsigned n, unsigned lifetime_ms)
{
	struct tu_pool *pool = calloc(1, sizeof(*pool));
	pthread_attr_t attr;
	long long deadline;

	if (!pool)
		return NULL;
	pool->n = n;
	pool->w = calloc(n ? n : 1, sizeof(*pool->w));
	if (!pool->w) {
		free(pool);
		return NULL;
	}
	pool->expire_ms = tu_now_ms() + lifetime_ms;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (unsigned i = 0; i < n; i++) {
		struct tu_worker *w = &pool->w[i];
		int err;

		w->pool = pool;
		w->index = i;
		err = pthread_create(&w->thread, &attr, worker_main, w);
		if (err) {
			tap_diag("pthread_create #%u: %s", i, strerror(err));
			break;
		}
		pool->created++;
	}
	pthread_attr_destroy(&attr);
	deadline = tu_now_ms() + 10000;
	for (;;) {
		int r = atomic_load(&pool->ready);

		if (r == (int)pool->created || tu_now_ms() > deadline)
			break;
		futex_wait_ms(&pool->ready, r, 20);
	}
	if (pool->created != n || atomic_load(&pool->ready) != (int)n) {
		tap_diag("pool: %u of %u workers started", pool->created, n);
		tu_pool_free(pool, 5000);
		return NULL;
	}
	return pool;
}

int tu_pool_ask(struct tu_pool *pool, int who, void (*fn)(long), long arg,
		unsigned timeout_ms)
{
	int target = atomic_load(&pool->done) + (int)pool->n;
	long long deadline = tu_now_ms() + timeout_ms;

	pool->who = who;
	pool->fn = fn;
	pool->arg = arg;
	atomic_fetch_add(&pool->req, 1);
	futex_wake_all(&pool->req);
	for (;;) {
		int d = atomic_load(&pool->done);

		if (d >= target)
			return 0;
		if (tu_now_ms() > deadline) {
			tap_diag("pool: %d of %u workers answered",
				 d - target + (int)pool->n, pool->n);
			return -ETIMEDOUT;
		}
		futex_wait_ms(&pool->done, d, 10);
	}
}

unsigned tu_pool_size(const struct tu_pool *pool)
{
	return pool->n;
}

pid_t tu_pool_tid(const struct tu_pool *pool, unsigned i)
{
	return atomic_load(&pool->w[i].tid);
}

const struct tu_sample *tu_pool_sample(const struct tu_pool *pool, unsigned i)
{
	return &pool->w[i].sample;
}

int tu_pool_find(const struct tu_pool *pool, pid_t tid)
{
	for (unsigned i = 0; i < pool->n; i++)
		if (atomic_load(&pool->w[i].tid) == tid)
			return (int)i;
	return -1;
}

unsigned tu_pool_keepcaps_wrong(const struct tu_pool *pool, long want)
{
	unsigned wrong = 0;

	for (unsigned i = 0; i < pool->n; i++) {
		const struct tu_sample *s = &pool->w[i].sample;

		if (s->keepcaps == want)
			continue;
		if (wrong++ < 5)
			tap_diag("tid %d: keepcaps %ld, want %ld", (int)s->tid,
				 s->keepcaps, want);
	}
	return wrong;
}

unsigned tu_pool_name_wrong(const struct tu_pool *pool, const char *want)
{
	unsigned wrong = 0;

	for (unsigned i = 0; i < pool->n; i++) {
		const struct tu_sample *s = &pool->w[i].sample;

		if (strcmp(s->name, want) == 0)
			continue;
		if (wrong++ < 5)
			tap_diag("tid %d: name '%s', want '%s'", (int)s->tid,
				 s->name, want);
	}
	return wrong;
}

int tu_pool_free(struct tu_pool *pool, unsigned timeout_ms)
{
	struct timespec abs;
	unsigned stuck = 0;

	if (!pool)
		return 0;
	atomic_store(&pool->quit, 1);
	futex_wake_all(&pool->req);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += timeout_ms / 1000 + 1;
	for (unsigned i = 0; i < pool->created; i++)
		if (pthread_timedjoin_np(pool->w[i].thread, NULL, &abs))
			stuck++;
	if (stuck) {
		/* They still use the pool: leak it rather than free it. */
		tap_diag("pool: %u workers would not leave", stuck);
		return -ETIMEDOUT;
	}
	free(pool->w);
	free(pool);
	return 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	/* Bounded by LEN. */
	while (off + 1 < len) {
		ssize_t n = read(fd, buf + off, len - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	return (int)off;
}

int tu_task_status(pid_t tid, const char *key, char *out, size_t len)
{
	char path[64], buf[8192];
	size_t klen = strlen(key);
	char *line;
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = buf; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1, *end;

			while (*v == ' ' || *v == '\t')
				v++;
			end = strchr(v, '\n');
			if (!end)
				end = v + strlen(v);
			snprintf(out, len, "%.*s", (int)(end - v), v);
			return 0;
		}
	}
	return -ENOENT;
}

long long tu_task_status_num(pid_t tid, const char *key, int base)
{
	char v[256];

	if (tu_task_status(tid, key, v, sizeof(v)) < 0)
		return -1;
	return strtoll(v, NULL, base);
}

int tu_task_comm(pid_t tid, char *out, size_t len)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	n = read_file(path, out, len);
	if (n < 0)
		return n;
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return 0;
}

int tu_task_list(pid_t *tids, int max)
{
	char buf[16384];
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int count = 0;

	if (fd < 0)
		return -errno;
	/* Bounded: getdents64 returns 0 at the end of the directory. */
	for (int pass = 0; pass < 100000; pass++) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (isdigit((unsigned char)name[0]) && count < max)
				tids[count++] = (pid_t)atoi(name);
			off += reclen;
		}
	}
	close(fd);
	return count;
}

bool tu_has_cap(int bit)
{
	char v[64];
	unsigned long long eff;

	if (tu_task_status(tu_gettid(), "CapEff", v, sizeof(v)) < 0)
		return false;
	eff = strtoull(v, NULL, 16);
	return bit >= 0 && bit < 64 && (eff >> bit) & 1;
}

int tu_wait_child(pid_t pid, unsigned timeout_ms, int *wstatus)
{
	long long deadline = tu_now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(pid, wstatus, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (tu_now_ms() > deadline)
			break;
		tu_sleep_ms(2);
	}
	tap_diag("child %d did not finish in %u ms: killed", (int)pid,
		 timeout_ms);
	kill(pid, SIGKILL);
	waitpid(pid, wstatus, 0); /* SIGKILL always ends it */
	return -ETIMEDOUT;
}

int tu_child(int (*fn)(void *), void *arg, unsigned timeout_ms, int *wstatus)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		tu_watchdog(timeout_ms / 1000 + 2);
		_exit(fn(arg));
	}
	return tu_wait_child(pid, timeout_ms, wstatus);
}

const char *tu_wstatus(int wstatus)
{
	static char buf[64];

	if (WIFEXITED(wstatus))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, sizeof(buf), "signal %d (%s)", WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", wstatus);
	return buf;
}

int tu_add_keepcaps(struct allthreads_prog *prog, long value, bool undo)
{
	/* The save and undo calls take no argument count: the engine reads
	 * ALLTHREADS_MAX_ARGS of each. */
	const long args[] = { PR_SET_KEEPCAPS, value };
	const long save[ALLTHREADS_MAX_ARGS] = { PR_GET_KEEPCAPS };
	const long back[ALLTHREADS_MAX_ARGS] = { PR_SET_KEEPCAPS,
						 ALLTHREADS_SAVED };
	int step = allthreads_prog_add(prog, SYS_prctl, 2, args,
				       ALLTHREADS_JUDGE_EQUAL);
	int err;

	if (step < 0 || !undo)
		return step;
	err = allthreads_prog_set_undo(prog, (unsigned)step, SYS_prctl, save,
				       SYS_prctl, back);
	return err < 0 ? err : step;
}

struct allthreads_prog *tu_prog_keepcaps(long value, bool undo)
{
	struct allthreads_prog *prog = allthreads_prog_new();

	if (prog && tu_add_keepcaps(prog, value, undo) < 0) {
		allthreads_prog_free(prog);
		return NULL;
	}
	return prog;
}

int tu_add_name(struct allthreads_prog *prog, const char *name)
{
	const long args[] = { PR_SET_NAME, (long)name };

	return allthreads_prog_add(prog, SYS_prctl, 2, args,
				   ALLTHREADS_JUDGE_EQUAL);
}

int tu_report_find(const struct allthreads_report *r, pid_t tid)
{
	unsigned n = allthreads_report_nthreads(r);

	for (unsigned i = 0; i < n; i++)
		if (allthreads_report_tid(r, i) == tid)
			return (int)i;
	return -1;
}

void tu_report_dump(const struct allthreads_report *r)
{
	unsigned n, shown = 0;

	if (!r) {
		tap_diag("(no report)");
		return;
	}
	n = allthreads_report_nthreads(r);
	tap_diag("report: verdict %s, %u threads, %u steps",
		 allthreads_verdict_name(allthreads_report_verdict(r)), n,
		 allthreads_report_nsteps(r));
	for (unsigned i = 0; i < n && shown < 12; i++) {
		enum allthreads_thread_state st = allthreads_report_state(r, i);

		/* Past the first few, show only the interesting ones. */
		if (i >= 4 && st == ALLTHREADS_T_OK && !getenv("TU_VERBOSE"))
			continue;
		shown++;
		tap_diag("  [%u] tid %d %s: ran %u, failed step %d, left %u", i,
			 (int)allthreads_report_tid(r, i),
			 allthreads_thread_state_name(st),
			 allthreads_report_steps_run(r, i),
			 allthreads_report_failed_step(r, i),
			 allthreads_report_left_changed(r, i));
	}
}

int tu_run(const struct allthreads_prog *prog, unsigned timeout_ms,
	   unsigned flags, enum allthreads_mismatch policy,
	   struct allthreads_report **report)
{
	int rc = allthreads_run(prog, timeout_ms, flags, policy, report);

	if (rc != 0) {
		tap_diag("allthreads_run: %d (%s)", rc, strerror(-rc));
		tu_report_dump(report ? *report : NULL);
	}
	return rc;
}
