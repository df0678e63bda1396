/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench.c - allthreads beside glibc's setxid, libpsx and gdb, in one run.
 *
 *   meson compile -C build bench
 *   build/tests/bench/allthreads-bench [--threads 1,10,100,1000] [--big]
 *       [--reps N] [--only idle,busy,recipe,e2e,helper] [--json]
 *
 * Sections (see tests/bench/README.md for what exactly is measured):
 *   1 idle    one broadcast of setresuid(current ids), N threads parked on a
 *             condition variable: allthreads_syscall() vs glibc setresuid()
 *             (setxid) vs libpsx psx_syscall3()
 *   2 busy    the same, N threads spinning
 *   3 recipe  38 PR_CAPBSET_DROP + PR_SET_NO_NEW_PRIVS + setresgid +
 *             setresuid: one allthreads step program vs 41 broadcasts, each
 *             repetition in a fresh fork()ed child
 *   4 e2e     a fixture process changed from outside: gdb's
 *             `thread apply all call` vs `allthreads -p PID` (helper and
 *             ptrace routes: slots until they exist)
 *   5 helper  the helper's idle cost in the fixture (slot until it exists)
 *
 * Repetitions interleave the mechanisms (the order rotates every
 * repetition); the result of each is the median and the 10th/90th
 * percentiles over repetitions.  Every wait has a deadline, every loop a
 * bound, and an alarm ends the whole run if something still hangs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/psx_syscall.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnu/libc-version.h>

#include "allthreads.h"

#define MAX_COUNTS 16
#define MAX_REPS 200
#define MAX_SERIES 128
#define MAX_TARGETS 48
#define MAX_ARGV 64
#define RECIPE_DROPS 38
#define RECIPE_STEPS (RECIPE_DROPS + 3)
#define NOBODY 65534

/* ---------------------------------------------------------------- options */

struct list {
	unsigned v[MAX_COUNTS];
	unsigned n;
};

static struct {
	struct list threads;	    /* sections 1 and 2 */
	struct list busy_threads;   /* section 2 */
	struct list recipe_threads; /* section 3 */
	struct list e2e_threads;    /* section 4 */
	struct list ptrace_threads; /* section 4b: one prctl */
	unsigned ptrace_recipe_threads, ptrace_reps;
	bool route_ok;
	unsigned reps, recipe_reps, e2e_reps, min_reps;
	double budget_s;  /* per (section, thread count) */
	unsigned gdb_max; /* largest fixture gdb is run on */
	unsigned watchdog_s;
	bool json;
	bool sections[7];
	const char *data_file;
	const char *json_file;
	char target[PATH_MAX], cli[PATH_MAX], helper[PATH_MAX];
	char ref[PATH_MAX], route[PATH_MAX], matrix[PATH_MAX];
	const char *helper_cmd, *ptrace_cmd, *gdb_cmd;
} opt;

enum { S_IDLE = 1, S_BUSY, S_RECIPE, S_E2E, S_HELPER, S_PTRACE };

/* ---------------------------------------------------------------- results */

struct series {
	char section[16];
	char mech[40];
	unsigned threads;
	unsigned n;
	double v[MAX_REPS]; /* microseconds */
	int verified;	    /* 1 yes, 0 no, -1 not checked */
	int err;	    /* last -errno or exit status seen */
	unsigned fails;	    /* repetitions that failed (not in v[]) */
	char note[120];
	double med, p10, p90, min, max;
};

static struct series series[MAX_SERIES];
static unsigned nseries;

struct target {
	char name[120];
	unsigned threads;
	double value, limit;
	bool at_most; /* value <= limit passes (else value >= limit) */
	int status;   /* 1 pass, 0 miss, -1 not measured */
	char why[80];
};

static struct target targets[MAX_TARGETS];
static unsigned ntargets;

struct helper_idle {
	bool measured;
	char route[24];
	unsigned tasks;
	long rss_kib;
	double wakeups_per_s;
	double sigmask_ns;
	char note[192];
};

static struct helper_idle idle_cost[2];

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static struct series *series_get(const char *section, const char *mech,
				 unsigned threads)
{
	struct series *s;
	unsigned i;

	for (i = 0; i < nseries; i++) {
		s = &series[i];
		if (s->threads == threads && !strcmp(s->section, section) &&
		    !strcmp(s->mech, mech))
			return s;
	}
	if (nseries == MAX_SERIES) {
		logf_("allthreads-bench: too many result series\n");
		exit(1);
	}
	s = &series[nseries++];
	snprintf(s->section, sizeof(s->section), "%s", section);
	snprintf(s->mech, sizeof(s->mech), "%s", mech);
	s->threads = threads;
	s->verified = -1;
	return s;
}

static struct series *series_find(const char *section, const char *mech,
				  unsigned threads)
{
	unsigned i;

	for (i = 0; i < nseries; i++)
		if (series[i].threads == threads &&
		    !strcmp(series[i].section, section) &&
		    !strcmp(series[i].mech, mech) && series[i].n)
			return &series[i];
	return NULL;
}

static void series_add(struct series *s, double us)
{
	if (s->n < MAX_REPS)
		s->v[s->n++] = us;
}

static void series_note(struct series *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void series_note(struct series *s, const char *fmt, ...)
{
	va_list ap;

	if (s->note[0])
		return; /* the first problem is the one worth printing */
	va_start(ap, fmt);
	vsnprintf(s->note, sizeof(s->note), fmt, ap);
	va_end(ap);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Percentile P (0..1) of N sorted values, linearly interpolated. */
static double pct(const double *v, unsigned n, double p)
{
	double pos = p * (n - 1);
	unsigned lo = (unsigned)pos;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

static void series_finish(void)
{
	double tmp[MAX_REPS];
	unsigned i;

	for (i = 0; i < nseries; i++) {
		struct series *s = &series[i];

		if (!s->n)
			continue;
		memcpy(tmp, s->v, s->n * sizeof(double));
		qsort(tmp, s->n, sizeof(double), cmp_double);
		s->med = pct(tmp, s->n, 0.5);
		s->p10 = pct(tmp, s->n, 0.1);
		s->p90 = pct(tmp, s->n, 0.9);
		s->min = tmp[0];
		s->max = tmp[s->n - 1];
	}
}

static void target_add(const char *name, unsigned threads, double value,
		       double limit, bool at_most, int status, const char *why)
{
	struct target *t;

	if (ntargets == MAX_TARGETS)
		return;
	t = &targets[ntargets++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->threads = threads;
	t->value = value;
	t->limit = limit;
	t->at_most = at_most;
	t->status = status;
	if (status == 1 || status == 0)
		t->status = at_most ? value <= limit : value >= limit;
	snprintf(t->why, sizeof(t->why), "%s", why ? why : "");
}

/* ------------------------------------------------------------------ time */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void on_watchdog(int sig)
{
	static const char msg[] =
		"allthreads-bench: watchdog: the run took too long, giving up\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/* ----------------------------------------------------------- thread pool */

/*
 * N threads, idle (parked on a condition variable with a long timeout) or
 * busy (spinning on a stop flag).  A "probe" makes every thread read its
 * own PR_GET_KEEPCAPS, which is how a broadcast is verified per thread.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stop;
	atomic_int go; /* busy threads spin only once all exist */
	atomic_uint gen;
	atomic_uint started, done, ones;
	uint64_t hard_deadline;
	pthread_t *tids;
	unsigned n;
	bool busy;
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void probe_self(void)
{
	if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1)
		atomic_fetch_add(&pool.ones, 1);
	atomic_fetch_add(&pool.done, 1);
}

static void *idle_main(void *arg)
{
	unsigned seen, i;

	(void)arg;
	pthread_mutex_lock(&pool.mu);
	seen = atomic_load(&pool.gen);
	atomic_fetch_add(&pool.started, 1);
	for (i = 0; i < 1000000; i++) {
		struct timespec ts;

		if (atomic_load(&pool.stop) || now_ns() > pool.hard_deadline)
			break;
		if (atomic_load(&pool.gen) != seen) {
			seen = atomic_load(&pool.gen);
			pthread_mutex_unlock(&pool.mu);
			probe_self();
			pthread_mutex_lock(&pool.mu);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 60;
		pthread_cond_timedwait(&pool.cv, &pool.mu, &ts);
	}
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

static void *busy_main(void *arg)
{
	unsigned seen = atomic_load(&pool.gen);
	unsigned long i;

	(void)arg;
	/* Park until every thread exists: N spinners would otherwise starve
	 * the creating thread, and creation would take quadratic time. */
	pthread_mutex_lock(&pool.mu);
	atomic_fetch_add(&pool.started, 1);
	for (i = 0;
	     i < 1000 && !atomic_load(&pool.go) && !atomic_load(&pool.stop);
	     i++) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 60;
		pthread_cond_timedwait(&pool.cv, &pool.mu, &ts);
	}
	pthread_mutex_unlock(&pool.mu);
	for (i = 1;; i++) {
		unsigned g;

		if (atomic_load_explicit(&pool.stop, memory_order_relaxed))
			break;
		g = atomic_load_explicit(&pool.gen, memory_order_relaxed);
		if (g != seen) {
			seen = g;
			probe_self();
		}
		if (!(i & 0xffff) && now_ns() > pool.hard_deadline)
			break;
	}
	return NULL;
}

static bool wait_count(atomic_uint *counter, unsigned n, unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000;
	unsigned i;

	for (i = 0; i < ms * 20u + 20; i++) {
		if (atomic_load(counter) >= n)
			return true;
		if (now_ns() > end)
			break;
		usleep(50);
	}
	return atomic_load(counter) >= n;
}

/* Make the process TOTAL threads, the calling one included; returns the
 * total reached (less on failure, with a log). */
static unsigned pool_start(unsigned total, bool busy, unsigned life_s)
{
	unsigned n = total ? total - 1 : 0;
	static bool cv_ready;
	pthread_attr_t attr;
	unsigned i;

	if (!cv_ready) {
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&pool.cv, &ca);
		cv_ready = true;
	}
	atomic_store(&pool.stop, 0);
	atomic_store(&pool.go, 0);
	atomic_store(&pool.started, 0);
	pool.hard_deadline = now_ns() + (uint64_t)life_s * 1000000000u;
	pool.busy = busy;
	pool.tids = calloc(n ? n : 1, sizeof(pthread_t));
	if (!pool.tids) {
		pool.n = 0;
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		int err = pthread_create(&pool.tids[i], &attr,
					 busy ? busy_main : idle_main, NULL);

		if (err) {
			logf_("allthreads-bench: pthread_create #%u: %s\n", i,
			      strerror(err));
			break;
		}
	}
	pthread_attr_destroy(&attr);
	pool.n = i;
	if (!wait_count(&pool.started, pool.n, 30000))
		logf_("allthreads-bench: only %u of %u threads started\n",
		      atomic_load(&pool.started), pool.n);
	/* A thread that counted itself releases the mutex only by entering
	 * its wait: taking it once means all are parked. */
	pthread_mutex_lock(&pool.mu);
	if (busy) {
		atomic_store(&pool.go, 1);
		pthread_cond_broadcast(&pool.cv);
	}
	pthread_mutex_unlock(&pool.mu);
	return pool.n + 1;
}

static void pool_stop(void)
{
	struct timespec ts;
	unsigned i, late = 0;

	atomic_store(&pool.stop, 1);
	pthread_mutex_lock(&pool.mu);
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	for (i = 0; i < pool.n; i++)
		if (pthread_timedjoin_np(pool.tids[i], NULL, &ts))
			late++;
	if (late)
		logf_("allthreads-bench: %u threads did not stop in time\n",
		      late);
	free(pool.tids);
	pool.tids = NULL;
	pool.n = 0;
}

/* Every pool thread reads its KEEPCAPS; returns how many hold 1, or -1 if
 * they did not all answer within 20 s. */
static int pool_probe(void)
{
	atomic_store(&pool.done, 0);
	atomic_store(&pool.ones, 0);
	pthread_mutex_lock(&pool.mu);
	atomic_fetch_add(&pool.gen, 1);
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	if (!wait_count(&pool.done, pool.n, 20000))
		return -1;
	return (int)atomic_load(&pool.ones);
}

/* ------------------------------------------------------------- /proc scan */

struct task_scan {
	unsigned tasks;
	unsigned euid_match, uid_all, gid_all, nnp, capbnd_ok;
};

/* Scan /proc/self/task/ * /status.  EUID: count tasks with that effective
 * uid; UID/GID: count tasks with all four ids equal to them; CAPMASK: bits
 * that must be clear in CapBnd. */
static int scan_tasks(struct task_scan *r, unsigned euid, unsigned uid,
		      unsigned gid, uint64_t capmask)
{
	char path[320], buf[4096];
	struct dirent *de;
	unsigned guard = 0;
	DIR *d;

	memset(r, 0, sizeof(*r));
	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && guard++ < 200000) {
		unsigned a, b, c, e;
		uint64_t bnd;
		ssize_t len;
		char *p;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
			 de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* exited */
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		r->tasks++;
		p = strstr(buf, "\nUid:");
		if (p && sscanf(p + 5, "%u %u %u %u", &a, &b, &c, &e) == 4) {
			if (b == euid)
				r->euid_match++;
			if (a == uid && b == uid && c == uid && e == uid)
				r->uid_all++;
		}
		p = strstr(buf, "\nGid:");
		if (p && sscanf(p + 5, "%u %u %u %u", &a, &b, &c, &e) == 4 &&
		    a == gid && b == gid && c == gid && e == gid)
			r->gid_all++;
		p = strstr(buf, "\nNoNewPrivs:");
		if (p && sscanf(p + 12, "%u", &a) == 1 && a == 1)
			r->nnp++;
		p = strstr(buf, "\nCapBnd:");
		if (p && sscanf(p + 8, "%" SCNx64, &bnd) == 1 &&
		    !(bnd & capmask))
			r->capbnd_ok++;
	}
	closedir(d);
	return 0;
}

/* --------------------------------------------------- the three mechanisms */

enum mech { M_AT, M_GLIBC, M_PSX, NMECH };

static const char *const mech_name[NMECH] = {
	[M_AT] = "allthreads",
	[M_GLIBC] = "glibc",
	[M_PSX] = "libpsx",
};

static long mech_setresuid(enum mech m, long r, long e, long s)
{
	long ret;

	switch (m) {
	case M_AT:
		return allthreads_syscall(SYS_setresuid, r, e, s, 0, 0, 0);
	case M_GLIBC:
		return setresuid((uid_t)r, (uid_t)e, (uid_t)s) ? -errno : 0;
	case M_PSX:
		ret = psx_syscall3(SYS_setresuid, r, e, s);
		return ret == -1 ? -errno : ret;
	default:
		return -ENOSYS;
	}
}

static long mech_prctl(enum mech m, long option, long arg2)
{
	long ret;

	switch (m) {
	case M_AT:
		return allthreads_syscall(SYS_prctl, option, arg2, 0, 0, 0, 0);
	case M_PSX:
		ret = psx_syscall6(SYS_prctl, option, arg2, 0, 0, 0, 0);
		return ret == -1 ? -errno : ret;
	default:
		return -ENOSYS; /* glibc broadcasts set*id only */
	}
}

/*
 * Prove once per thread count that each mechanism reaches every thread:
 *   - as root, switch the effective uid to 65534 and back through the
 *     mechanism, and count the tasks whose /proc status shows the change;
 *   - for allthreads and libpsx, set KEEPCAPS to 1 and then 0 and have every
 *     pool thread read its own value.
 */
static void verify_mechs(const char *section, unsigned n)
{
	bool root = geteuid() == 0;
	enum mech m;

	for (m = 0; m < NMECH; m++) {
		struct series *s = series_get(section, mech_name[m], n);
		struct task_scan ts;
		bool ok = true;
		long r;
		int ones;

		if (root) {
			r = mech_setresuid(m, -1, NOBODY, -1);
			scan_tasks(&ts, NOBODY, 0, 0, 0);
			if (r < 0 || ts.euid_match != ts.tasks ||
			    ts.tasks < n) {
				ok = false;
				series_note(s,
					    "euid check: ret %ld, %u/%u tasks",
					    r, ts.euid_match, ts.tasks);
			}
			r = mech_setresuid(m, -1, 0, -1);
			scan_tasks(&ts, 0, 0, 0, 0);
			if (r < 0 || ts.euid_match != ts.tasks) {
				ok = false;
				series_note(s, "euid restore: ret %ld, %u/%u",
					    r, ts.euid_match, ts.tasks);
				/* put it back by any means */
				setresuid(-1, 0, -1);
			}
		}
		if (m != M_GLIBC) {
			r = mech_prctl(m, PR_SET_KEEPCAPS, 1);
			ones = pool_probe();
			if (r < 0 || ones != (int)pool.n ||
			    prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 1) {
				ok = false;
				series_note(s, "keepcaps=1: ret %ld, %d/%u", r,
					    ones, pool.n);
			}
			r = mech_prctl(m, PR_SET_KEEPCAPS, 0);
			ones = pool_probe();
			if (r < 0 || ones != 0) {
				ok = false;
				series_note(s, "keepcaps=0: ret %ld, %d left",
					    r, ones);
			}
			prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		}
		s->verified = (root || m != M_GLIBC) ? ok : -1;
	}
}

/* Time BATCH broadcasts; *US gets microseconds per broadcast. */
static long time_batch(enum mech m, const uid_t ids[3], unsigned batch,
		       double *us)
{
	uint64_t t0, t1;
	unsigned i;
	long r = 0;

	t0 = now_ns();
	for (i = 0; i < batch; i++) {
		r = mech_setresuid(m, ids[0], ids[1], ids[2]);
		if (r < 0)
			break;
	}
	t1 = now_ns();
	/* on failure: the time of the failed call and those before it */
	*us = (double)(t1 - t0) / 1e3 / (r < 0 ? 1 : batch);
	return r;
}

static void run_single(int section)
{
	const char *sname = section == S_IDLE ? "idle" : "busy";
	const struct list *l = section == S_IDLE ? &opt.threads :
						   &opt.busy_threads;
	uid_t ids[3];
	unsigned i;

	getresuid(&ids[0], &ids[1], &ids[2]);
	for (i = 0; i < l->n; i++) {
		unsigned want = l->v[i], batch[NMECH], rep, k;
		uint64_t start, budget;
		unsigned n;
		enum mech m;

		logf_("[%s] %u threads: starting...", sname, want);
		n = pool_start(want, section == S_BUSY, 600);
		if (n != want) {
			logf_(" only %u started, skipping\n", n);
			pool_stop();
			continue;
		}
		verify_mechs(sname, n);
		/* warm up, then size batches to about 1 ms of work */
		for (m = 0; m < NMECH; m++) {
			double us = 0;
			long r;

			time_batch(m, ids, 2, &us);
			r = time_batch(m, ids, 1, &us);
			batch[m] = us > 0 ? (unsigned)(1000.0 / us) : 1;
			if (batch[m] < 1)
				batch[m] = 1;
			if (batch[m] > 2000)
				batch[m] = 2000;
			if (r < 0) {
				struct series *s =
					series_get(sname, mech_name[m], n);
				s->err = (int)r;
				s->fails++;
				series_note(s,
					    "warm-up setresuid: %s (%.0f us)",
					    strerror((int)-r), us);
			}
		}
		start = now_ns();
		budget = (uint64_t)(opt.budget_s * 1e9);
		for (rep = 0; rep < opt.reps; rep++) {
			for (k = 0; k < NMECH; k++) {
				struct series *s;
				double us;
				long r;

				m = (enum mech)((rep + k) % NMECH);
				s = series_get(sname, mech_name[m], n);
				if (s->fails >= 3)
					continue; /* broken: stop wasting time */
				r = time_batch(m, ids, batch[m], &us);
				if (r < 0) {
					s->err = (int)r;
					s->fails++;
					series_note(s,
						    "setresuid: %s (%.0f us)",
						    strerror((int)-r), us);
					continue;
				}
				series_add(s, us);
			}
			if (rep + 1 >= opt.min_reps &&
			    now_ns() - start > budget)
				break;
		}
		logf_(" %u reps in %.1f s\n", rep < opt.reps ? rep + 1 : rep,
		      (now_ns() - start) / 1e9);
		pool_stop();
	}
}

/* ------------------------------------------------------ 3: the recipe */

enum rmech { R_AT, R_AT_NOHOLD, R_PSX_GLIBC, R_PSX, R_RAW, NRMECH };

static const char *const rmech_name[NRMECH] = {
	[R_AT] = "allthreads prog",
	[R_AT_NOHOLD] = "allthreads prog nohold",
	[R_PSX_GLIBC] = "39 libpsx + 2 glibc",
	[R_PSX] = "41 libpsx",
	/* not a broadcast: the 41 syscalls on a single-threaded child; the
	 * table shows it scaled to N threads (see recipe_floor()) */
	[R_RAW] = "syscall floor",
};

struct recipe_result {
	double us;
	long err;
	int step; /* failing step, or -1 */
	unsigned tasks, good;
	unsigned threads;
};

static unsigned recipe_drops(void)
{
	unsigned last = 40;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%u", &last) != 1)
			last = 40;
		fclose(f);
	}
	return last + 1 < RECIPE_DROPS ? last + 1 : RECIPE_DROPS;
}

static void recipe_child(int fd, unsigned n, enum rmech m)
{
	struct recipe_result res = { .step = -1 };
	struct allthreads_prog *prog = NULL;
	unsigned drops = recipe_drops(), c;
	uint64_t mask = 0, t0, t1;
	struct task_scan ts;
	long r = 0;

	alarm(120);
	res.threads = pool_start(m == R_RAW ? 1 : n, false, 120);
	for (c = 0; c < drops; c++)
		mask |= 1ull << c;
	if (m == R_AT || m == R_AT_NOHOLD) {
		long a[5] = { 0, 0, 0, 0, 0 };

		prog = allthreads_prog_new();
		for (c = 0; prog && c < drops; c++) {
			a[0] = PR_CAPBSET_DROP;
			a[1] = c;
			allthreads_prog_add(prog, SYS_prctl, 5, a,
					    ALLTHREADS_JUDGE_EQUAL);
		}
		a[0] = PR_SET_NO_NEW_PRIVS;
		a[1] = 1;
		if (prog) {
			long g[3] = { NOBODY, NOBODY, NOBODY };

			allthreads_prog_add(prog, SYS_prctl, 5, a,
					    ALLTHREADS_JUDGE_EQUAL);
			allthreads_prog_add(prog, SYS_setresgid, 3, g,
					    ALLTHREADS_JUDGE_EQUAL);
			allthreads_prog_add(prog, SYS_setresuid, 3, g,
					    ALLTHREADS_JUDGE_EQUAL);
		}
		if (!prog || allthreads_prog_len(prog) != drops + 3)
			r = -ENOMEM;
	}

	t0 = now_ns();
	if (r < 0) {
		/* nothing */
	} else if (m == R_AT || m == R_AT_NOHOLD) {
		struct allthreads_report *rep = NULL;

		r = allthreads_run(prog, 30000,
				   m == R_AT ? 0 : ALLTHREADS_NO_HOLD,
				   ALLTHREADS_MISMATCH_REPORT, &rep);
		t1 = now_ns();
		if (rep) {
			if (r < 0)
				res.step =
					allthreads_report_failed_step(rep, 0);
			allthreads_report_free(rep);
		}
		goto done;
	} else if (m == R_RAW) {
		for (c = 0; c < drops && r >= 0; c++)
			r = syscall(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0);
		if (r >= 0)
			r = syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (r >= 0)
			r = syscall(SYS_setresgid, NOBODY, NOBODY, NOBODY);
		if (r >= 0)
			r = syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY);
		if (r < 0)
			r = -errno;
	} else {
		for (c = 0; c < drops && r >= 0; c++) {
			r = psx_syscall6(SYS_prctl, PR_CAPBSET_DROP, c, 0, 0, 0,
					 0);
			if (r == -1) {
				r = -errno;
				res.step = (int)c;
			}
		}
		if (r >= 0) {
			r = psx_syscall6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0,
					 0, 0, 0);
			if (r == -1) {
				r = -errno;
				res.step = (int)drops;
			}
		}
		if (r >= 0 && m == R_PSX_GLIBC) {
			if (setresgid(NOBODY, NOBODY, NOBODY)) {
				r = -errno;
				res.step = (int)drops + 1;
			} else if (setresuid(NOBODY, NOBODY, NOBODY)) {
				r = -errno;
				res.step = (int)drops + 2;
			}
		} else if (r >= 0) {
			r = psx_syscall3(SYS_setresgid, NOBODY, NOBODY, NOBODY);
			if (r == -1) {
				r = -errno;
				res.step = (int)drops + 1;
			} else {
				r = psx_syscall3(SYS_setresuid, NOBODY, NOBODY,
						 NOBODY);
				if (r == -1) {
					r = -errno;
					res.step = (int)drops + 2;
				}
			}
		}
	}
	t1 = now_ns();
done:
	res.us = (double)(t1 - t0) / 1e3;
	res.err = r < 0 ? r : 0;
	scan_tasks(&ts, NOBODY, NOBODY, NOBODY, mask);
	res.tasks = ts.tasks;
	res.good = 0;
	if (ts.uid_all == ts.tasks && ts.gid_all == ts.tasks &&
	    ts.nnp == ts.tasks && ts.capbnd_ok == ts.tasks)
		res.good = ts.tasks;
	else
		res.good = ts.uid_all < ts.nnp ? ts.uid_all : ts.nnp;
	if (write(fd, &res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(2);
	_exit(0); /* no teardown: the threads die with the process */
}

/* Wait for PID with a deadline; SIGKILL it when the deadline passes.
 * Returns the wait status, or -1. */
static int reap(pid_t pid, unsigned ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = -1;

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (poll(&p, 1, (int)ms) <= 0)
			kill(pid, SIGKILL);
		close(pfd);
	} else {
		unsigned i;

		for (i = 0; i < ms; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				return status;
			sleep_ms(1);
		}
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static int recipe_once(unsigned n, enum rmech m, struct recipe_result *res)
{
	struct pollfd p;
	int fds[2], status;
	ssize_t len;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		close(fds[0]);
		recipe_child(fds[1], n, m);
		_exit(2);
	}
	close(fds[1]);
	p.fd = fds[0];
	p.events = POLLIN;
	len = -1;
	if (poll(&p, 1, 120000) > 0)
		len = read(fds[0], res, sizeof(*res));
	close(fds[0]);
	status = reap(pid, 10000);
	if (len != (ssize_t)sizeof(*res))
		return status >= 0 && WIFSIGNALED(status) ? -EINTR : -EPIPE;
	return 0;
}

static void run_recipe(void)
{
	unsigned i;

	if (geteuid() != 0) {
		logf_("[recipe] skipped: needs root (PR_CAPBSET_DROP needs "
		      "CAP_SETPCAP, the recipe switches to uid 65534)\n");
		for (i = 0; i < opt.recipe_threads.n; i++)
			series_note(series_get("recipe", rmech_name[R_AT],
					       opt.recipe_threads.v[i]),
				    "skipped: not root");
		return;
	}
	for (i = 0; i < opt.recipe_threads.n; i++) {
		unsigned n = opt.recipe_threads.v[i], rep, k;
		uint64_t start = now_ns();

		logf_("[recipe] %u threads:", n);
		for (rep = 0; rep < opt.recipe_reps; rep++) {
			for (k = 0; k < NRMECH; k++) {
				enum rmech m = (enum rmech)((rep + k) % NRMECH);
				struct series *s =
					series_get("recipe", rmech_name[m], n);
				struct recipe_result res;
				int err;

				memset(&res, 0, sizeof(res));
				err = recipe_once(n, m, &res);
				if (err < 0) {
					s->err = err;
					s->fails++;
					series_note(s, "child: %s",
						    strerror(-err));
					continue;
				}
				if (res.err) {
					s->err = (int)res.err;
					s->fails++;
					series_note(s, "step %d: %s", res.step,
						    strerror((int)-res.err));
				}
				if (m == R_RAW) {
					/* N threads run the same syscalls,
					 * at best on every CPU at once */
					long cpus =
						sysconf(_SC_NPROCESSORS_ONLN);
					unsigned par =
						n < cpus ? n : (unsigned)cpus;

					if (!res.err)
						series_add(s, res.us * n / par);
					s->verified = -1;
					series_note(s,
						    "= N x (41 syscalls, 1 "
						    "thread) / min(N, CPUs)");
					continue;
				}
				if (res.threads != n)
					series_note(s, "only %u threads",
						    res.threads);
				if (res.good != res.tasks || res.tasks != n) {
					s->verified = 0;
					series_note(s, "verify: %u/%u tasks",
						    res.good, res.tasks);
				} else if (s->verified != 0) {
					s->verified = 1;
				}
				if (!res.err)
					series_add(s, res.us);
			}
			logf_(".");
			if (rep + 1 >= 3 &&
			    now_ns() - start > opt.budget_s * 2e9)
				break;
		}
		logf_(" %.1f s\n", (now_ns() - start) / 1e9);
	}
}

/* ----------------------------------------- 4, 5: outside the process */

/* Split CMDLINE into ARGV (words; '...' and "..." group), replacing
 * "{pid}" with PID, "{cli}" with the CLI path.  Returns argc or -1. */
static int split_cmdline(const char *cmdline, pid_t pid, char *buf, size_t len,
			 char **argv, int max)
{
	const char *p = cmdline;
	size_t o = 0;
	int argc = 0;

	while (*p) {
		char quote = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (argc + 1 >= max)
			return -1;
		argv[argc++] = buf + o;
		while (*p && (quote || !isspace((unsigned char)*p))) {
			char sub[PATH_MAX + 16];
			size_t sl;

			if (!quote && (*p == '\'' || *p == '"')) {
				quote = *p++;
				continue;
			}
			if (quote && *p == quote) {
				quote = 0;
				p++;
				continue;
			}
			sub[0] = 0;
			if (!strncmp(p, "{pid}", 5)) {
				snprintf(sub, sizeof(sub), "%d", (int)pid);
				p += 5;
			} else if (!strncmp(p, "{cli}", 5)) {
				snprintf(sub, sizeof(sub), "%s", opt.cli);
				p += 5;
			} else {
				sub[0] = *p++;
				sub[1] = 0;
			}
			sl = strlen(sub);
			if (o + sl + 2 > len)
				return -1;
			memcpy(buf + o, sub, sl);
			o += sl;
		}
		buf[o++] = 0;
	}
	argv[argc] = NULL;
	return argc;
}

/*
 * Run one command line to completion, with a deadline: stdin from
 * /dev/null, stdout discarded, stderr kept (its start lands in ERRBUF).
 * *MS gets the wall time from fork to reap.  Returns the wait status,
 * or -errno.
 */
static int run_cmdline(const char *cmdline, pid_t pid, unsigned timeout_ms,
		       double *ms, char *errbuf, size_t errlen)
{
	char buf[4096], *argv[MAX_ARGV];
	int efd, status;
	uint64_t t0;
	pid_t child;

	if (split_cmdline(cmdline, pid, buf, sizeof(buf), argv, MAX_ARGV) < 1)
		return -EINVAL;
	efd = (int)syscall(SYS_memfd_create, "bench-stderr", 0);
	fflush(NULL);
	t0 = now_ns();
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(efd >= 0 ? efd : null, 2);
		unsetenv("DEBUGINFOD_URLS");
		unsetenv("LD_PRELOAD");
		execvp(argv[0], argv);
		_exit(127);
	}
	status = reap(child, timeout_ms);
	*ms = (double)(now_ns() - t0) / 1e6;
	if (errbuf && errlen) {
		ssize_t len = efd >= 0 ? pread(efd, errbuf, errlen - 1, 0) : 0;
		char *nl;

		errbuf[len > 0 ? len : 0] = 0;
		nl = strchr(errbuf, '\n');
		if (nl)
			*nl = 0;
	}
	if (efd >= 0)
		close(efd);
	return status;
}

struct fixture {
	pid_t pid;
	int in, out;
	unsigned tasks;
};

static int read_line(int fd, char *buf, size_t len, unsigned timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000;
	size_t o = 0;

	while (o + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(end - now_ns()) / 1000000;
		ssize_t r;

		if (left < 0 || poll(&p, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		r = read(fd, buf + o, 1);
		if (r <= 0)
			return -EPIPE;
		if (buf[o] == '\n') {
			buf[o] = 0;
			return 0;
		}
		o++;
	}
	buf[o] = 0;
	return 0;
}

/* Start the fixture with N threads in all, its main thread included
 * (PRELOAD: LD_PRELOAD for it, or NULL). */
static int fixture_start(struct fixture *f, unsigned n, const char *preload,
			 bool gap)
{
	int in[2], out[2], pid;
	char line[128], num[16];

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	snprintf(num, sizeof(num), "%u", n ? n - 1 : 0);
	fflush(NULL);
	f->pid = fork();
	if (f->pid < 0)
		return -errno;
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (preload)
			setenv("LD_PRELOAD", preload, 1);
		else
			unsetenv("LD_PRELOAD");
		execl(opt.target, "allthreads-bench-target", num, "--timeout",
		      "300", gap ? "--gap" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->in = in[1];
	f->out = out[0];
	if (read_line(f->out, line, sizeof(line), 60000) < 0 ||
	    sscanf(line, "ready %d %u", &pid, &f->tasks) != 2) {
		logf_("allthreads-bench: the fixture did not get ready\n");
		close(f->in);
		close(f->out);
		reap(f->pid, 1000);
		return -EPIPE;
	}
	return 0;
}

/*
 * The ptrace tests' matrix target (tests/ptrace/at-matrix-target) with N
 * tasks in all: main, control, two threads that hold patterns in
 * zmm16-31/k1-7 inside asm (one spinning, one in a raw read), the rest
 * idle.  Its "release" reports whether the patterns survived.
 */
static int matrix_start(struct fixture *f, unsigned n)
{
	int in[2], out[2], pid;
	char line[128], num[16];

	if (n < 5 || access(opt.matrix, X_OK))
		return -ENOENT;
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	snprintf(num, sizeof(num), "%u", n - 4);
	fflush(NULL);
	f->pid = fork();
	if (f->pid < 0)
		return -errno;
	if (f->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		unsetenv("LD_PRELOAD");
		execl(opt.matrix, "at-matrix-target", "--zmm", "--idle", num,
		      "--timeout", "120", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f->in = in[1];
	f->out = out[0];
	if (read_line(f->out, line, sizeof(line), 60000) < 0 ||
	    sscanf(line, "ready %d %u", &pid, &f->tasks) != 2) {
		/* "nozmm" comes first on a CPU without AVX-512 */
		bool nozmm = !strcmp(line, "nozmm");

		close(f->in);
		close(f->out);
		reap(f->pid, 1000);
		return nozmm ? -ENOTSUP : -EPIPE;
	}
	return 0;
}

static int fixture_cmd(struct fixture *f, const char *cmd, char *reply,
		       size_t len)
{
	size_t l = strlen(cmd);

	if (write(f->in, cmd, l) != (ssize_t)l)
		return -EPIPE;
	return read_line(f->out, reply, len, 30000);
}

static void fixture_stop(struct fixture *f)
{
	close(f->in);
	close(f->out);
	reap(f->pid, 5000);
}

/*
 * The routes from outside.  A route is a command line ("{pid}" is the
 * fixture's pid, "{cli}" the allthreads CLI) that must leave KEEP_CAPS = 1
 * on every thread of the fixture; PRELOAD says the fixture is started with
 * the helper in LD_PRELOAD.  A route whose program is missing prints
 * "not built yet".  To add one: a line in routes[] (or --route-helper /
 * --route-ptrace CMD on the command line).
 */
struct route {
	const char *name;
	const char *cmd;
	bool preload;
	bool is_gdb;
	bool available;
	char missing[192];
};

static struct route routes[] = {
	{ .name = "gdb",
	  .is_gdb = true,
	  .cmd = "gdb -nx -q -p {pid} -batch "
		 "-ex 'thread apply all call (int)prctl(8,1,0,0,0)'" },
	{ .name = "allthreads helper",
	  .preload = true,
	  .cmd = "{cli} -p {pid} --via=helper prctl KEEP_CAPS 1" },
	{ .name = "allthreads ptrace",
	  .cmd = "{cli} -p {pid} --via=ptrace prctl KEEP_CAPS 1" },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static bool in_path(const char *prog)
{
	char buf[PATH_MAX];
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	for (p = path ? path : "/usr/bin:/bin"; p && *p;) {
		const char *colon = strchr(p, ':');
		size_t l = colon ? (size_t)(colon - p) : strlen(p);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p = colon ? colon + 1 : NULL;
	}
	return false;
}

static void routes_check(void)
{
	unsigned i;

	if (opt.gdb_cmd)
		routes[0].cmd = opt.gdb_cmd;
	if (opt.helper_cmd)
		routes[1].cmd = opt.helper_cmd;
	if (opt.ptrace_cmd)
		routes[2].cmd = opt.ptrace_cmd;
	for (i = 0; i < NROUTES; i++) {
		struct route *r = &routes[i];
		char buf[4096], *argv[MAX_ARGV];

		r->available = false;
		if (split_cmdline(r->cmd, 1, buf, sizeof(buf), argv, MAX_ARGV) <
		    1) {
			snprintf(r->missing, sizeof(r->missing),
				 "bad command line");
			continue;
		}
		if (!in_path(argv[0])) {
			snprintf(r->missing, sizeof(r->missing),
				 "not built yet (no %s)", argv[0]);
			continue;
		}
		if (r->preload && access(opt.helper, R_OK)) {
			snprintf(r->missing, sizeof(r->missing),
				 "not built yet (no %.150s)", opt.helper);
			continue;
		}
		r->available = true;
	}
}

/* The fixture's own check that KEEP_CAPS is 1 on all its N threads, into
 * S's verified flag (a failure is noted). */
static void keepcaps_check(struct series *s, struct fixture *f, unsigned n)
{
	char reply[128];
	unsigned ones, tasks;

	if (fixture_cmd(f, "check\n", reply, sizeof(reply)) < 0 ||
	    sscanf(reply, "keepcaps %u %u", &ones, &tasks) != 2 ||
	    ones != tasks || tasks != n) {
		s->verified = 0;
		series_note(s, "verify: %s", reply);
	} else if (s->verified != 0) {
		s->verified = 1;
	}
}

/*
 * One timed call of route R on fixture F (N threads) into series S, then
 * the fixture's own check of every thread.  0 if the command succeeded.
 */
static int e2e_call(struct series *s, const struct route *r, struct fixture *f,
		    unsigned n)
{
	char err[160];
	double ms;
	int st;

	st = run_cmdline(r->cmd, f->pid, 120000, &ms, err, sizeof(err));
	if (st != 0) {
		s->err = st;
		s->fails++;
		series_note(s, "exit status %d: %s", st, err);
		return -1;
	}
	keepcaps_check(s, f, n);
	series_add(s, ms * 1e3);
	return 0;
}

static void run_e2e(void)
{
	unsigned i, k;

	if (access(opt.target, X_OK)) {
		logf_("[e2e] no fixture at %s: skipped\n", opt.target);
		return;
	}
	routes_check();
	/* the CLI's own start-up, for the 1000-thread target */
	if (in_path(opt.cli)) {
		struct series *s = series_get("e2e", "cli startup", 0);
		unsigned rep;

		for (rep = 0; rep < opt.e2e_reps + 2; rep++) {
			char err[160];
			double ms;
			int st = run_cmdline("{cli} --version", 0, 10000, &ms,
					     err, sizeof(err));

			if (st != 0) {
				s->err = st;
				series_note(s, "exit %d: %s", st, err);
				break;
			}
			if (rep >= 2)
				series_add(s, ms * 1e3);
		}
	}
	for (i = 0; i < opt.e2e_threads.n; i++) {
		unsigned n = opt.e2e_threads.v[i], rep;

		logf_("[e2e] %u threads:", n);
		for (k = 0; k < NROUTES; k++) {
			struct route *r = &routes[k];
			struct series *s = series_get("e2e", r->name, n);

			if (!r->available)
				series_note(s, "%s", r->missing);
			else if (r->is_gdb && n > opt.gdb_max)
				series_note(s, "skipped (> --gdb-max %u)",
					    opt.gdb_max);
		}
		for (rep = 0; rep < opt.e2e_reps; rep++) {
			for (k = 0; k < NROUTES; k++) {
				struct route *r = &routes[(rep + k) % NROUTES];
				struct series *s =
					series_get("e2e", r->name, n);
				struct fixture f;

				if (!r->available || s->fails >= 2 ||
				    (r->is_gdb && n > opt.gdb_max))
					continue;
				if (fixture_start(&f, n,
						  r->preload ? opt.helper :
							       NULL,
						  false) < 0) {
					series_note(s, "fixture failed");
					s->err = -EPIPE;
					s->fails++;
					continue;
				}
				/* The helper route once more on the fixture it
				 * has just served: every first call is the first
				 * in a fresh process, while glibc's figure is the
				 * median of repeated broadcasts in one process;
				 * this is the helper's warm one. */
				if (e2e_call(s, r, &f, n) == 0 && r->preload) {
					struct series *w = series_get(
						"e2e", "allthreads helper warm",
						n);

					if (w->fails < 2)
						e2e_call(w, r, &f, n);
				}
				fixture_stop(&f);
				logf_(".");
			}
		}
		logf_("\n");
	}
}

/* ------------------------------------- 4b: the ptrace route, its floor */

/*
 * Like run_cmdline(), with stdout kept too: OUT gets the start of it, ERR
 * the start of stderr (every line).  Returns the wait status, or -errno.
 */
static int run_capture(const char *cmdline, pid_t pid, unsigned timeout_ms,
		       double *ms, char *out, size_t outlen, char *err,
		       size_t errlen)
{
	char buf[4096], *argv[MAX_ARGV];
	int ofd, efd, status;
	uint64_t t0;
	pid_t child;

	if (split_cmdline(cmdline, pid, buf, sizeof(buf), argv, MAX_ARGV) < 1)
		return -EINVAL;
	ofd = (int)syscall(SYS_memfd_create, "bench-stdout", 0);
	efd = (int)syscall(SYS_memfd_create, "bench-stderr", 0);
	fflush(NULL);
	t0 = now_ns();
	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(ofd >= 0 ? ofd : null, 1);
		dup2(efd >= 0 ? efd : null, 2);
		unsetenv("DEBUGINFOD_URLS");
		unsetenv("LD_PRELOAD");
		execvp(argv[0], argv);
		_exit(127);
	}
	status = reap(child, timeout_ms);
	*ms = (double)(now_ns() - t0) / 1e6;
	{
		ssize_t lo = ofd >= 0 ? pread(ofd, out, outlen - 1, 0) : 0;
		ssize_t le = efd >= 0 ? pread(efd, err, errlen - 1, 0) : 0;

		out[lo > 0 ? lo : 0] = 0;
		err[le > 0 ? le : 0] = 0;
	}
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	return status;
}

/* The first line of TEXT that contains NEEDLE (or the first line), into
 * BUF. */
static void pick_line(const char *text, const char *needle, char *buf,
		      size_t len)
{
	const char *p = needle ? strstr(text, needle) : NULL;
	const char *start = text, *end;

	if (p) {
		start = p;
		while (start > text && start[-1] != '\n')
			start--;
	}
	end = strchr(start, '\n');
	snprintf(buf, len, "%.*s",
		 (int)(end ? end - start : (long)strlen(start)), start);
}

/* Every task of PID hardened by the recipe: uid and gid 65534 in all four
 * fields, NoNewPrivs 1, CapBnd without the dropped bits.  Returns the
 * tasks that are, *TASKS the tasks read. */
static unsigned check_hardened(pid_t pid, unsigned *tasks)
{
	char path[64];
	struct dirent *d;
	unsigned good = 0;
	DIR *dir;

	*tasks = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		char sp[PATH_MAX], line[256];
		unsigned long long bnd = ~0ull;
		unsigned u[4] = { 0 }, g[4] = { 0 }, nnp = 0, c;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(sp, sizeof(sp), "%s/%s/status", path, d->d_name);
		f = fopen(sp, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "Uid: %u %u %u %u", &u[0], &u[1], &u[2],
			       &u[3]);
			sscanf(line, "Gid: %u %u %u %u", &g[0], &g[1], &g[2],
			       &g[3]);
			sscanf(line, "NoNewPrivs: %u", &nnp);
			sscanf(line, "CapBnd: %llx", &bnd);
		}
		fclose(f);
		(*tasks)++;
		for (c = 0; c < 4; c++)
			if (u[c] != NOBODY || g[c] != NOBODY)
				break;
		if (c == 4 && nnp == 1 && !(bnd & ((1ull << RECIPE_DROPS) - 1)))
			good++;
	}
	closedir(dir);
	return good;
}

enum pmech { P_REF, P_REF_COLO, P_AT, NPMECH };

/* reference-colo: the same injector, pinning each stopped thread to its
 * own CPU while it works (doc/design.md, The ptrace floor) */
static const char *const pmech_label[NPMECH] = { "reference", "reference-colo",
						 "allthreads" };

/*
 * One measurement: a fresh fixture of N threads, the recipe applied by
 * MECH (the reference injector or the route, each an external program
 * that measures its own frozen window), then verified: KEEP_CAPS through
 * the fixture's own threads, the hardening recipe in /proc.
 */
static void ptrace_once(unsigned n, enum pmech m, const char *recipe)
{
	char mech[40], cmd[PATH_MAX + 64], out[512], err[1024], line[160];
	struct series *s, *run, *gap;
	struct fixture f;
	double ms, frozen = NAN, run_us = NAN;
	unsigned long long stops = 0;
	long long gap_ns = -1;
	int st, stub = 0, window = 0;
	const char *p;

	snprintf(mech, sizeof(mech), "%s %s", pmech_label[m], recipe);
	s = series_get("ptrace", mech, n);
	snprintf(mech, sizeof(mech), "%s %s run", pmech_label[m], recipe);
	run = m == P_AT ? series_get("ptrace", mech, n) : NULL;
	snprintf(mech, sizeof(mech), "%s %s gap", pmech_label[m], recipe);
	gap = series_get("ptrace", mech, n);
	if (s->fails >= 2)
		return;
	snprintf(cmd, sizeof(cmd), "%s -p {pid} --recipe %s%s",
		 m == P_AT ? opt.route : opt.ref, recipe,
		 m == P_REF_COLO ? " --colo" : "");
	if (fixture_start(&f, n, NULL, true) < 0) {
		series_note(s, "fixture failed");
		s->fails++;
		return;
	}
	/* The watcher's record starts now (the fixture's own start-up is
	 * not the route's). */
	if (fixture_cmd(&f, "gap\n", line, sizeof(line)) < 0)
		series_note(gap, "the fixture did not answer");
	st = run_capture(cmd, f.pid, 60000, &ms, out, sizeof(out), err,
			 sizeof(err));
	if (st == 0 && fixture_cmd(&f, "gap\n", line, sizeof(line)) == 0)
		sscanf(line, "gap %lld", &gap_ns);
	p = strstr(out, "frozen_us ");
	if (st != 0 || !p || sscanf(p, "frozen_us %lf", &frozen) != 1) {
		pick_line(err, NULL, line, sizeof(line));
		s->err = st;
		s->fails++;
		series_note(s, "exit status %d: %s", st, line);
		fixture_stop(&f);
		return;
	}
	p = strstr(out, "run_us ");
	if (p)
		sscanf(p, "run_us %lf", &run_us);
	p = strstr(out, "stops ");
	if (p && sscanf(p, "stops %llu stub %d window %d", &stops, &stub,
			&window) >= 2) {
		char win[24] = "";

		if (window > 1)
			snprintf(win, sizeof(win), ", window %d", window);
		series_note(s, "%.1f ptrace stops per thread%s%s",
			    (double)stops / n, stub ? ", stub" : "", win);
	}
	if (!strcmp(recipe, "harden")) {
		unsigned tasks, good = check_hardened(f.pid, &tasks);

		if (good != tasks || tasks != n) {
			s->verified = 0;
			series_note(s, "verify: %u of %u tasks hardened", good,
				    tasks);
		} else if (s->verified != 0) {
			s->verified = 1;
		}
	} else {
		keepcaps_check(s, &f, n);
	}
	fixture_stop(&f);
	series_add(s, frozen);
	if (gap_ns >= 0) {
		series_add(gap, gap_ns / 1e3);
		gap->verified = s->verified;
	}
	if (run && !isnan(run_us)) {
		series_add(run, run_us);
		run->verified = s->verified;
	}
	logf_(".");
}

/* What gdb's line did, per thread count (it fails on this machine). */
struct gdb_try {
	unsigned threads;
	bool zmm; /* the fixture held live zmm state */
	bool ran, worked;
	int status;	  /* gdb's wait status */
	double ms;	  /* gdb's wall time */
	char error[160];  /* its first complaint */
	char target[200]; /* what became of the target */
};

static struct gdb_try gdb_tries[MAX_COUNTS];
static unsigned ngdb_tries;

static void ptrace_gdb(unsigned n, bool zmm)
{
	struct gdb_try *g = &gdb_tries[ngdb_tries++];
	char out[2048], err[4096], reply[128];
	unsigned ones = 0, tasks = 0, i;
	struct fixture f;
	int st, wst = 0;
	pid_t w = 0;

	g->threads = n;
	g->zmm = zmm;
	if (!in_path("gdb")) {
		snprintf(g->error, sizeof(g->error), "no gdb");
		return;
	}
	st = zmm ? matrix_start(&f, n) : fixture_start(&f, n, NULL, false);
	if (st == -ENOTSUP) {
		snprintf(g->error, sizeof(g->error),
			 "not run: the CPU has no AVX-512");
		return;
	}
	if (st < 0) {
		snprintf(g->error, sizeof(g->error), "fixture failed");
		return;
	}
	st = run_capture(opt.gdb_cmd ? opt.gdb_cmd : routes[0].cmd, f.pid,
			 120000, &g->ms, out, sizeof(out), err, sizeof(err));
	g->ran = true;
	g->status = st;
	if (strstr(err, "Couldn't"))
		pick_line(err, "Couldn't", g->error, sizeof(g->error));
	else if (strstr(out, "Couldn't"))
		pick_line(out, "Couldn't", g->error, sizeof(g->error));
	else if (strstr(err, "rror"))
		pick_line(err, "rror", g->error, sizeof(g->error));
	/* the target: give a dying process a moment */
	for (i = 0; i < 50 && w != f.pid; i++) {
		w = waitpid(f.pid, &wst, WNOHANG);
		sleep_ms(10);
	}
	if (w == f.pid) {
		if (WIFSIGNALED(wst))
			snprintf(g->target, sizeof(g->target),
				 "died: signal %d (%s)", WTERMSIG(wst),
				 strsignal(WTERMSIG(wst)));
		else
			snprintf(g->target, sizeof(g->target), "exited %d",
				 WEXITSTATUS(wst));
		close(f.in);
		close(f.out);
		return;
	}
	if (zmm) {
		unsigned intact = 0, okc = 0, bad = 0;

		/* "bad ..." lines, "zmm K of 2 intact", then "released OK BAD
		 * keepcaps ONES OF" */
		char zbad[80] = "";
		bool got = false;

		if (fixture_cmd(&f, "release\n", reply, sizeof(reply)) == 0)
			for (i = 0; i < 100; i++) {
				if (!strncmp(reply, "bad zmm", 7) && !zbad[0])
					snprintf(zbad, sizeof(zbad), " (%.70s)",
						 reply + 4);
				sscanf(reply, "zmm %u of 2", &intact);
				if (sscanf(reply,
					   "released %u %u keepcaps %u %u",
					   &okc, &bad, &ones, &tasks) == 4) {
					got = true;
					break;
				}
				if (read_line(f.out, reply, sizeof(reply),
					      10000) < 0)
					break;
			}
		if (!got)
			snprintf(g->target, sizeof(g->target),
				 "alive, does not answer");
		else
			snprintf(g->target, sizeof(g->target),
				 "alive, zmm16-31/k1-7 intact in %u of 2 "
				 "threads%s, KEEP_CAPS 1 on %u of %u",
				 intact, zbad, ones, tasks);
		g->worked = st == 0 && intact == 2 && ones == tasks;
	} else if (fixture_cmd(&f, "check\n", reply, sizeof(reply)) < 0 ||
		   sscanf(reply, "keepcaps %u %u", &ones, &tasks) != 2) {
		snprintf(g->target, sizeof(g->target),
			 "alive, does not answer");
	} else {
		snprintf(g->target, sizeof(g->target),
			 "alive, KEEP_CAPS 1 on %u of %u threads", ones, tasks);
		g->worked = st == 0 && ones == tasks && tasks == n;
	}
	fixture_stop(&f);
	if (g->worked)
		series_add(series_get("ptrace", zmm ? "gdb zmm" : "gdb", n),
			   g->ms * 1e3);
}

static void run_ptrace(void)
{
	static const char *const one[] = { "keepcaps" };
	unsigned i, rep, k;
	bool root = geteuid() == 0;

	if (access(opt.target, X_OK) || access(opt.ref, X_OK)) {
		logf_("[ptrace] no fixture or reference injector: skipped\n");
		return;
	}
	opt.route_ok = access(opt.route, X_OK) == 0;
	for (i = 0; i < opt.ptrace_threads.n; i++) {
		unsigned n = opt.ptrace_threads.v[i];

		logf_("[ptrace] keepcaps, %u threads:", n);
		if (!opt.route_ok)
			series_note(series_get("ptrace", "allthreads keepcaps",
					       n),
				    "not built yet (no %.100s)", opt.route);
		for (rep = 0; rep < opt.ptrace_reps; rep++)
			for (k = 0; k < NPMECH; k++) {
				enum pmech m = (enum pmech)((rep + k) % NPMECH);

				if (m == P_AT && !opt.route_ok)
					continue;
				ptrace_once(n, m, one[0]);
			}
		logf_("\n");
	}
	/* the 41-step recipes at the recipe thread count */
	{
		const char *recipes[2] = { "reads", root ? "harden" : NULL };
		unsigned n = opt.ptrace_recipe_threads, r;

		for (r = 0; r < 2 && recipes[r]; r++) {
			logf_("[ptrace] %s, %u threads:", recipes[r], n);
			if (!opt.route_ok) {
				char mech[40];

				snprintf(mech, sizeof(mech), "allthreads %s",
					 recipes[r]);
				series_note(series_get("ptrace", mech, n),
					    "not built yet (no %.100s)",
					    opt.route);
			}
			for (rep = 0; rep < opt.ptrace_reps; rep++)
				for (k = 0; k < NPMECH; k++) {
					enum pmech m = (enum pmech)((rep + k) %
								    NPMECH);

					if (m == P_AT && !opt.route_ok)
						continue;
					ptrace_once(n, m, recipes[r]);
				}
			logf_("\n");
		}
	}
	/* gdb, once per thread count up to --gdb-max, on throwaway targets:
	 * the plain fixture, and the fixture with live zmm state in one
	 * thread (what gdb's inferior call fails on, issue 8) */
	for (i = 0; i < opt.ptrace_threads.n && ngdb_tries + 2 <= MAX_COUNTS;
	     i++)
		if (opt.ptrace_threads.v[i] <= opt.gdb_max) {
			logf_("[ptrace] gdb, %u threads\n",
			      opt.ptrace_threads.v[i]);
			ptrace_gdb(opt.ptrace_threads.v[i], false);
			ptrace_gdb(opt.ptrace_threads.v[i], true);
		}
}

static long rss_kib(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t len;
	long kib = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = 0;
	p = strstr(buf, "\nVmRSS:");
	if (p)
		kib = strtol(p + 7, NULL, 10);
	return kib;
}

/* Context switches of every task of PID, summed; *TASKS gets the count. */
static long long ctx_switches(pid_t pid, unsigned *tasks)
{
	char path[320], buf[4096];
	struct dirent *de;
	long long sum = 0;
	unsigned guard = 0;
	DIR *d;

	*tasks = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && guard++ < 200000) {
		const char *keys[] = { "\nvoluntary_ctxt_switches:",
				       "\nnonvoluntary_ctxt_switches:" };
		ssize_t len;
		unsigned j;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status",
			 (int)pid, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		(*tasks)++;
		for (j = 0; j < 2; j++) {
			char *p = strstr(buf, keys[j]);

			if (p)
				sum += strtoll(p + strlen(keys[j]), NULL, 10);
		}
	}
	closedir(d);
	return sum;
}

static void run_helper_idle(void)
{
	const unsigned n = 100;
	unsigned i;

	if (access(opt.target, X_OK)) {
		logf_("[helper] no fixture at %s: skipped\n", opt.target);
		return;
	}
	for (i = 0; i < 2; i++) {
		struct helper_idle *h = &idle_cost[i];
		char reply[128];
		struct fixture f;
		long long c0, c1;
		uint64_t t0;
		unsigned tasks;

		snprintf(h->route, sizeof(h->route), "%s",
			 i ? "with helper" : "without helper");
		if (i && access(opt.helper, R_OK)) {
			snprintf(h->note, sizeof(h->note),
				 "not built yet (no %.150s)", opt.helper);
			continue;
		}
		logf_("[helper] fixture of %u threads %s...\n", n, h->route);
		if (fixture_start(&f, n, i ? opt.helper : NULL, false) < 0) {
			snprintf(h->note, sizeof(h->note), "fixture failed");
			continue;
		}
		sleep_ms(300);
		h->rss_kib = rss_kib(f.pid);
		t0 = now_ns();
		c0 = ctx_switches(f.pid, &tasks);
		sleep_ms(2000);
		c1 = ctx_switches(f.pid, &h->tasks);
		h->wakeups_per_s = (double)(c1 - c0) / ((now_ns() - t0) / 1e9);
		if (fixture_cmd(&f, "sigmask\n", reply, sizeof(reply)) < 0 ||
		    sscanf(reply, "sigmask %lf", &h->sigmask_ns) != 1)
			h->sigmask_ns = -1;
		h->measured = true;
		fixture_stop(&f);
	}
}

/* ---------------------------------------------------------------- output */

static double med_of(const char *section, const char *mech, unsigned n)
{
	struct series *s = series_find(section, mech, n);

	return s ? s->med : NAN;
}

static void eval_targets(void)
{
	unsigned i;

	for (i = 0; i < opt.threads.n; i++) {
		unsigned n = opt.threads.v[i];
		double at = med_of("idle", "allthreads", n);
		double gl = med_of("idle", "glibc", n);
		double px = med_of("idle", "libpsx", n);
		int st = isnan(at) || isnan(gl) || isnan(px) ? -1 : 1;

		if (n != 10 && n != 100 && n != 1000)
			continue;
		target_add("idle broadcast: allthreads / glibc <= 1.0", n,
			   at / gl, 1.0, true, st, st < 0 ? "not measured" : 0);
		target_add("idle broadcast: allthreads / libpsx <= 0.7", n,
			   at / px, 0.7, true, st, st < 0 ? "not measured" : 0);
	}
	for (i = 0; i < opt.recipe_threads.n; i++) {
		unsigned n = opt.recipe_threads.v[i];
		double at = med_of("recipe", rmech_name[R_AT], n);
		double a = med_of("recipe", rmech_name[R_PSX_GLIBC], n);
		double b = med_of("recipe", rmech_name[R_PSX], n);
		double best = isnan(a) ? b : isnan(b) ? a : a < b ? a : b;
		double floor = med_of("recipe", rmech_name[R_RAW], n);
		int st = isnan(at) || isnan(best) ? -1 : 1;
		char why[80];

		if (n != 100 && n != 1000)
			continue;
		snprintf(why, sizeof(why),
			 "at the syscall floor it would "
			 "be %.1f",
			 best / floor);
		target_add("recipe: 41 broadcasts (faster route) / one "
			   "program >= 20",
			   n, best / at, 20.0, false, st,
			   st < 0	? "not measured" :
			   isnan(floor) ? 0 :
					  why);
	}
	{
		double h100 = med_of("e2e", "allthreads helper", 100);
		double g100 = med_of("e2e", "gdb", 100);
		double p100 = med_of("e2e", "allthreads ptrace", 100);
		double h1k = med_of("e2e", "allthreads helper", 1000);
		double w1k = med_of("e2e", "allthreads helper warm", 1000);
		double gl1k = med_of("idle", "glibc", 1000);
		double cli = med_of("e2e", "cli startup", 0);
		int st;

		st = isnan(h100) || isnan(g100) ? -1 : 1;
		target_add("CLI via helper: gdb / helper >= 50", 100,
			   g100 / h100, 50.0, false, st,
			   isnan(h100) ? "helper route not built/measured" :
			   isnan(g100) ? "gdb not measured" :
					 0);
		st = isnan(h1k) || isnan(gl1k) || isnan(cli) ? -1 : 1;
		target_add("CLI via helper / (glibc + CLI start-up) <= 1.5",
			   1000, h1k / (gl1k + cli), 1.5, true, st,
			   st < 0 ? "helper route not built/measured" :
				    "the first call in a fresh process");
		st = isnan(w1k) || isnan(gl1k) || isnan(cli) ? -1 : 1;
		target_add("CLI via helper, warm / (glibc + start-up) <= 1.5",
			   1000, w1k / (gl1k + cli), 1.5, true, st,
			   st < 0 ? "helper route not built/measured" :
				    "warm: the same call again");
		st = isnan(p100) || isnan(g100) ? -1 : 1;
		target_add("ptrace route: gdb / ptrace >= 10", 100, g100 / p100,
			   10.0, false, st,
			   st < 0 ? "ptrace route not built/measured" : 0);
	}
	{
		struct helper_idle *h = &idle_cost[1], *b = &idle_cost[0];
		int st = h->measured && b->measured ? 1 : -1;

		target_add("helper idle: wake-ups per second == 0", 100,
			   h->wakeups_per_s, 0.0, true, st,
			   st < 0 ? "helper not built/measured" : 0);
		target_add("helper idle: extra RSS (KiB) < 256", 100,
			   (double)(h->rss_kib - b->rss_kib), 255.999, true, st,
			   st < 0 ? "helper not built/measured" : 0);
	}
}

static const char *verified_str(int v)
{
	return v > 0 ? "yes" : v == 0 ? "NO" : "-";
}

static void fmt_time(char *buf, size_t len, double us)
{
	if (isnan(us))
		snprintf(buf, len, "-");
	else if (us >= 100000)
		snprintf(buf, len, "%.0f ms", us / 1e3);
	else if (us >= 1000)
		snprintf(buf, len, "%.2f ms", us / 1e3);
	else
		snprintf(buf, len, "%.2f us", us);
}

static void fmt_ratio(char *buf, size_t len, double r)
{
	if (isnan(r) || isinf(r))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx", r);
}

static void print_rows(const char *section, const char *const *mechs,
		       unsigned nm, const char *ref1, const char *lab1,
		       const char *ref2, const char *lab2)
{
	unsigned i, j, k, last = UINT_MAX;

	printf("%7s  %-24s %10s %10s %10s %4s  %8s %8s  %s\n", "threads",
	       "mechanism", "median", "p10", "p90", "n", ref1 ? lab1 : "",
	       ref2 ? lab2 : "", "verified");
	/* thread counts in the order they were run */
	for (i = 0; i < nseries; i++) {
		unsigned n = series[i].threads;
		bool seen = false;

		if (strcmp(series[i].section, section))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(series[j].section, section) &&
			    series[j].threads == n)
				seen = true;
		if (seen)
			continue;
		if (last != UINT_MAX)
			printf("\n");
		last = n;
		for (k = 0; k < nm; k++) {
			struct series *s = NULL;
			char a[16], b[16], c[16], r1[16], r2[16];
			double g1, g2;

			for (j = 0; j < nseries; j++)
				if (series[j].threads == n &&
				    !strcmp(series[j].section, section) &&
				    !strcmp(series[j].mech, mechs[k]))
					s = &series[j];
			if (!s)
				continue;
			g1 = ref1 ? med_of(section, ref1, n) : NAN;
			g2 = ref2 ? med_of(section, ref2, n) : NAN;
			if (!s->n) {
				printf("%7u  %-24s %10s %10s %10s %4u  %8s %8s  "
				       "%s\n",
				       n, s->mech, "-", "-", "-", 0, "", "",
				       s->note[0] ? s->note : "-");
				continue;
			}
			fmt_time(a, sizeof(a), s->med);
			fmt_time(b, sizeof(b), s->p10);
			fmt_time(c, sizeof(c), s->p90);
			fmt_ratio(r1, sizeof(r1), s->med / g1);
			fmt_ratio(r2, sizeof(r2), s->med / g2);
			printf("%7u  %-24s %10s %10s %10s %4u  %8s %8s  %s", n,
			       s->mech, a, b, c, s->n, r1, r2,
			       verified_str(s->verified));
			if (s->fails)
				printf("  FAILED %ux, first: %s\n", s->fails,
				       s->note);
			else
				printf("%s%s\n", s->note[0] ? "  " : "",
				       s->note);
		}
	}
}

static void eval_ptrace_targets(void)
{
	const char *recipe = geteuid() == 0 ? "harden" : "reads";
	unsigned i, n = opt.ptrace_recipe_threads;
	char mech[40], why[80];

	for (i = 0; i < opt.ptrace_threads.n; i++) {
		unsigned t = opt.ptrace_threads.v[i];
		double at = med_of("ptrace", "allthreads keepcaps", t);
		double ref = med_of("ptrace", "reference keepcaps", t);
		int st = isnan(at) || isnan(ref) ? -1 : 1;

		if (t != 10 && t != 100 && t != 1000)
			continue;
		snprintf(why, sizeof(why), "frozen %.2f ms vs %.2f ms",
			 at / 1e3, ref / 1e3);
		target_add(
			"ptrace: one prctl, frozen allthreads / floor <= 1.5",
			t, at / ref, 1.5, true, st,
			isnan(at)  ? "ptrace route not built/measured" :
			isnan(ref) ? "reference not measured" :
				     why);
	}
	/* the hardening recipe (root), and the unprivileged-safe reads */
	for (i = 0; i < 2; i++) {
		const char *rc = i ? "reads" : recipe;
		double at, gap, ref;
		int st;

		if (i && !strcmp(recipe, "reads"))
			break;
		snprintf(mech, sizeof(mech), "allthreads %s", rc);
		at = med_of("ptrace", mech, n);
		/* The goal is the pause a thread of the target sees: the
		 * longer of the route's window and the watcher's gap. */
		snprintf(mech, sizeof(mech), "allthreads %s gap", rc);
		gap = med_of("ptrace", mech, n);
		snprintf(mech, sizeof(mech), "reference %s", rc);
		ref = med_of("ptrace", mech, n);
		st = isnan(at) ? -1 : 1;
		snprintf(why, sizeof(why),
			 "%s; gap %.1f ms; the floor: %.1f ms", rc, gap / 1e3,
			 ref / 1e3);
		if (!isnan(gap) && gap > at)
			at = gap;
		target_add("ptrace: 41-step recipe, frozen and gap (ms) < 100",
			   n, at / 1e3, 99.999, true, st,
			   st < 0 ? "ptrace route not built/measured" : why);
	}
	for (i = 0; i < ngdb_tries; i++) {
		struct gdb_try *g = &gdb_tries[i];
		double at =
			med_of("ptrace", "allthreads keepcaps run", g->threads);
		int st = g->worked && !isnan(at) ? 1 : -1;

		if (g->worked)
			snprintf(why, sizeof(why), "per thread: gdb %.0f us",
				 g->ms * 1e3 / g->threads);
		else
			snprintf(why, sizeof(why), "gdb %s; target %.40s",
				 g->ran ? "failed" : "not run", g->target);
		target_add(
			g->zmm ?
				"ptrace: gdb / allthreads per thread >= 50 (zmm)" :
				"ptrace: gdb / allthreads per thread >= 50",
			g->threads, g->ms * 1e3 / at, 50.0, false, st,
			g->worked && isnan(at) ?
				"ptrace route not built/measured" :
				why);
	}
}

static void print_ptrace(void)
{
	unsigned i, j;

	printf("\n== 4b. the ptrace route beside the bare reference injector "
	       "(allthreads-bench-ref), fresh fixture per rep ==\n"
	       "   (frozen: first PTRACE_INTERRUPT to last PTRACE_DETACH, as "
	       "each measures itself;\n    gap: the longest a thread of the "
	       "target that wakes every ms was kept from running, as it saw "
	       "it;\n    run: the whole "
	       "allthreads_target_run(); reads = 38 CAPBSET_READ + KEEPCAPS + "
	       "2 getuid,\n    harden = %u CAPBSET_DROP + NO_NEW_PRIVS + "
	       "setresgid + setresuid)\n",
	       RECIPE_DROPS);
	printf("%7s  %-26s %10s %10s %10s %4s %11s %7s  %s\n", "threads",
	       "route recipe", "median", "p10", "p90", "n", "per thread",
	       "/floor", "verified");
	for (i = 0; i < nseries; i++) {
		struct series *s = &series[i];
		char a[16], b[16], c[16], pt[16], r[16], ref[40];
		const char *sp;
		double floor = NAN;

		if (strcmp(s->section, "ptrace") || !strncmp(s->mech, "gdb", 3))
			continue;
		sp = strchr(s->mech, ' ');
		if (sp && strncmp(s->mech, "reference ", 10)) {
			snprintf(ref, sizeof(ref), "reference%.30s", sp);
			if (strstr(ref, " run"))
				*strstr(ref, " run") = 0;
			floor = med_of("ptrace", ref, s->threads);
		}
		if (!s->n) {
			printf("%7u  %-26s %10s %10s %10s %4u %11s %7s  %s\n",
			       s->threads, s->mech, "-", "-", "-", 0, "", "",
			       s->note[0] ? s->note : "-");
			continue;
		}
		fmt_time(a, sizeof(a), s->med);
		fmt_time(b, sizeof(b), s->p10);
		fmt_time(c, sizeof(c), s->p90);
		fmt_time(pt, sizeof(pt), s->med / s->threads);
		fmt_ratio(r, sizeof(r), s->med / floor);
		printf("%7u  %-26s %10s %10s %10s %4u %11s %7s  %s", s->threads,
		       s->mech, a, b, c, s->n, pt, r,
		       verified_str(s->verified));
		if (s->fails)
			printf("  FAILED %ux, first: %s\n", s->fails, s->note);
		else
			printf("%s%s\n", s->note[0] ? "  " : "", s->note);
	}
	for (j = 0; j < ngdb_tries; j++) {
		struct gdb_try *g = &gdb_tries[j];

		const char *name = g->zmm ? "gdb, 2 threads hold zmm" : "gdb";

		if (!g->ran) {
			printf("%7u  %-26s %s\n", g->threads, name,
			       g->error[0] ? g->error : "not run");
			continue;
		}
		printf("%7u  %-26s %.0f ms, %s, exit status %d%s%s%s; target: "
		       "%s\n",
		       g->threads, name, g->ms, g->worked ? "worked" : "FAILED",
		       g->status, g->error[0] ? ": \"" : "", g->error,
		       g->error[0] ? "\"" : "", g->target);
	}
}

static void print_table(void)
{
	static const char *const single[] = { "allthreads", "glibc", "libpsx" };
	static const char *const e2e[] = { "allthreads helper",
					   "allthreads helper warm",
					   "allthreads ptrace", "gdb" };
	const char *recipe[NRMECH];
	struct utsname u;
	unsigned i;

	for (i = 0; i < NRMECH; i++)
		recipe[i] = rmech_name[i];
	uname(&u);
	printf("allthreads-bench: %s %s %s, %ld CPUs, glibc %s, libpsx 2.x "
	       "(Debian), reps %u (median, p10, p90 over repetitions)\n",
	       u.sysname, u.release, u.machine, sysconf(_SC_NPROCESSORS_ONLN),
	       gnu_get_libc_version(), opt.reps);
	if (opt.sections[S_IDLE]) {
		printf("\n== 1. one broadcast, threads idle on a condition "
		       "variable: setresuid(current ids) ==\n");
		print_rows("idle", single, 3, "glibc", "/glibc", "libpsx",
			   "/libpsx");
	}
	if (opt.sections[S_BUSY]) {
		printf("\n== 2. one broadcast, threads spinning "
		       "(%ld CPUs) ==\n",
		       sysconf(_SC_NPROCESSORS_ONLN));
		print_rows("busy", single, 3, "glibc", "/glibc", "libpsx",
			   "/libpsx");
	}
	if (opt.sections[S_RECIPE]) {
		printf("\n== 3. hardening recipe: %u PR_CAPBSET_DROP + "
		       "NO_NEW_PRIVS + setresgid + setresuid, fresh child per "
		       "rep ==\n   (/mixed: to 39 libpsx + 2 glibc broadcasts; "
		       "/psx41: to 41 libpsx broadcasts.\n    glibc "
		       "broadcasts set*id only, so the prctl steps of its "
		       "route go through libpsx)\n",
		       recipe_drops());
		print_rows("recipe", recipe, NRMECH, rmech_name[R_PSX_GLIBC],
			   "/mixed", rmech_name[R_PSX], "/psx41");
	}
	if (opt.sections[S_E2E]) {
		struct series *s = series_find("e2e", "cli startup", 0);
		char a[16];

		printf("\n== 4. end to end from outside: KEEP_CAPS=1 on every "
		       "thread of a fixture process ==\n   (ratios: to gdb; "
		       "gdb runs up to --gdb-max %u threads)\n",
		       opt.gdb_max);
		print_rows("e2e", e2e, 4, "gdb", "/gdb", NULL, NULL);
		fmt_time(a, sizeof(a), s ? s->med : NAN);
		printf("   CLI start-up (`allthreads --version`): %s\n",
		       s ? a : "not built yet");
	}
	if (opt.sections[S_PTRACE])
		print_ptrace();
	if (opt.sections[S_HELPER]) {
		printf("\n== 5. helper idle cost (fixture, 100 threads) ==\n");
		printf("   %-16s %6s %10s %12s %14s\n", "", "tasks", "RSS KiB",
		       "wakeups/s", "sigmask ns");
		for (i = 0; i < 2; i++) {
			struct helper_idle *h = &idle_cost[i];

			if (!h->measured) {
				printf("   %-16s %s\n", h->route,
				       h->note[0] ? h->note : "not measured");
				continue;
			}
			printf("   %-16s %6u %10ld %12.2f %14.1f\n", h->route,
			       h->tasks, h->rss_kib, h->wakeups_per_s,
			       h->sigmask_ns);
		}
	}
	printf("\n== targets (issues 5 and 8; ratios of medians in this run) ==\n");
	for (i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];
		char v[32];

		if (t->status < 0)
			snprintf(v, sizeof(v), "-");
		else
			snprintf(v, sizeof(v), "%.2f", t->value);
		printf("  %-4s %-56s @%-5u %8s  %s\n",
		       t->status > 0  ? "PASS" :
		       t->status == 0 ? "MISS" :
					"n/a",
		       t->name, t->threads, v, t->why);
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

/* One result object per line, so line tools (plot.sh's awk fallback) can
 * read it as easily as jq. */
static void print_json(FILE *f)
{
	struct utsname u;
	unsigned i;

	uname(&u);
	fprintf(f, "{\n\"bench\": \"allthreads-bench\",\n\"format\": 1,\n");
	fprintf(f, "\"machine\": {\"kernel\": ");
	json_str(f, u.release);
	fprintf(f, ", \"arch\": ");
	json_str(f, u.machine);
	fprintf(f,
		", \"cpus\": %ld, \"glibc\": ", sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, gnu_get_libc_version());
	fprintf(f, "},\n\"reps\": %u,\n\"unit\": \"us\",\n\"results\": [\n",
		opt.reps);
	for (i = 0; i < nseries; i++) {
		struct series *s = &series[i];

		fprintf(f, "{\"section\": ");
		json_str(f, s->section);
		fprintf(f, ", \"mechanism\": ");
		json_str(f, s->mech);
		fprintf(f, ", \"threads\": %u, \"n\": %u, \"median\": ",
			s->threads, s->n);
		json_num(f, s->n ? s->med : NAN);
		fprintf(f, ", \"p10\": ");
		json_num(f, s->n ? s->p10 : NAN);
		fprintf(f, ", \"p90\": ");
		json_num(f, s->n ? s->p90 : NAN);
		fprintf(f, ", \"min\": ");
		json_num(f, s->n ? s->min : NAN);
		fprintf(f, ", \"max\": ");
		json_num(f, s->n ? s->max : NAN);
		fprintf(f,
			", \"verified\": %s, \"error\": %d, "
			"\"failures\": %u, \"note\": ",
			s->verified > 0	 ? "true" :
			s->verified == 0 ? "false" :
					   "null",
			s->err, s->fails);
		json_str(f, s->note);
		fprintf(f, "}%s\n", i + 1 < nseries ? "," : "");
	}
	fprintf(f, "],\n\"helper_idle\": [\n");
	for (i = 0; i < 2; i++) {
		struct helper_idle *h = &idle_cost[i];

		fprintf(f, "{\"route\": ");
		json_str(f, h->route);
		if (h->measured)
			fprintf(f,
				", \"tasks\": %u, \"rss_kib\": %ld, "
				"\"wakeups_per_s\": %.3f, \"sigmask_ns\": %.1f",
				h->tasks, h->rss_kib, h->wakeups_per_s,
				h->sigmask_ns);
		fprintf(f, ", \"measured\": %s, \"note\": ",
			h->measured ? "true" : "false");
		json_str(f, h->note);
		fprintf(f, "}%s\n", i ? "" : ",");
	}
	fprintf(f, "],\n\"ptrace_gdb\": [\n");
	for (i = 0; i < ngdb_tries; i++) {
		struct gdb_try *g = &gdb_tries[i];

		fprintf(f,
			"{\"threads\": %u, \"zmm\": %s, \"ran\": %s, "
			"\"worked\": %s, \"status\": %d, \"ms\": ",
			g->threads, g->zmm ? "true" : "false",
			g->ran ? "true" : "false", g->worked ? "true" : "false",
			g->status);
		json_num(f, g->ran ? g->ms : NAN);
		fprintf(f, ", \"error\": ");
		json_str(f, g->error);
		fprintf(f, ", \"target\": ");
		json_str(f, g->target);
		fprintf(f, "}%s\n", i + 1 < ngdb_tries ? "," : "");
	}
	fprintf(f, "],\n\"targets\": [\n");
	for (i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];

		fprintf(f, "{\"target\": ");
		json_str(f, t->name);
		fprintf(f, ", \"threads\": %u, \"value\": ", t->threads);
		json_num(f, t->status < 0 ? NAN : t->value);
		fprintf(f, ", \"limit\": ");
		json_num(f, t->limit);
		fprintf(f, ", \"result\": \"%s\", \"note\": ",
			t->status > 0  ? "pass" :
			t->status == 0 ? "miss" :
					 "not measured");
		json_str(f, t->why);
		fprintf(f, "}%s\n", i + 1 < ntargets ? "," : "");
	}
	fprintf(f, "]\n}\n");
}

/* gnuplot data: one block per (section, mechanism), blank-line separated:
 *   # section mechanism
 *   threads median p10 p90 */
static void write_data(const char *path)
{
	FILE *f = fopen(path, "we");
	unsigned i, j;

	if (!f) {
		logf_("allthreads-bench: %s: %s\n", path, strerror(errno));
		return;
	}
	for (i = 0; i < nseries; i++) {
		bool seen = false;

		if (strcmp(series[i].section, "idle") &&
		    strcmp(series[i].section, "busy") &&
		    strcmp(series[i].section, "recipe"))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(series[j].section, series[i].section) &&
			    !strcmp(series[j].mech, series[i].mech))
				seen = true;
		if (seen)
			continue;
		fprintf(f, "# %s %s\n", series[i].section, series[i].mech);
		for (j = i; j < nseries; j++)
			if (series[j].n &&
			    !strcmp(series[j].section, series[i].section) &&
			    !strcmp(series[j].mech, series[i].mech))
				fprintf(f, "%u %.3f %.3f %.3f\n",
					series[j].threads, series[j].med,
					series[j].p10, series[j].p90);
		fprintf(f, "\n\n");
	}
	fclose(f);
}

/* --------------------------------------------------------------- main */

static int parse_list(const char *s, struct list *l)
{
	char *end;

	l->n = 0;
	while (*s) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v > 100000 || l->n == MAX_COUNTS)
			return -1;
		l->v[l->n++] = (unsigned)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return l->n ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: allthreads-bench [OPTION...]\n"
		"  --threads LIST        idle and busy thread counts (default 1,10,100,1000)\n"
		"  --busy-threads LIST   busy thread counts (default: those of --threads\n"
		"                        up to 100)\n"
		"  --big                 add 10000 threads to the idle section\n"
		"  --recipe-threads LIST (default 1,10,100,1000)\n"
		"  --e2e-threads LIST    (default 1,100,1000)\n"
		"  --reps N              repetitions per measurement (default 15)\n"
		"  --recipe-reps N       (default 5)     --e2e-reps N  (default 3)\n"
		"  --budget S            seconds per thread count before stopping early\n"
		"                        (at least 5 reps; default 4)\n"
		"  --gdb-max N           largest fixture to run gdb on (default 100)\n"
		"  --ptrace-threads LIST  4b, one prctl (default 10,100,1000)\n"
		"  --ptrace-recipe-threads N  4b, the 41-step recipes (default 1000)\n"
		"  --ptrace-reps N       (default 5)\n"
		"  --only LIST           sections: idle,busy,recipe,e2e,helper,ptrace\n"
		"  --json                JSON on stdout instead of the table\n"
		"  --json-out FILE       also write the JSON to FILE (the table still prints)\n"
		"  --data FILE           gnuplot data (for plot.sh)\n"
		"  --target PATH --cli PATH --helper PATH   programs (default: the build tree)\n"
		"  --ref PATH --route PATH   4b's reference injector and route (build tree)\n"
		"  --route-gdb CMD --route-helper CMD --route-ptrace CMD\n"
		"                        command lines; {pid} is the fixture, {cli} the CLI\n"
		"  --watchdog S          end the run after S seconds (default 600)\n");
}

static void default_paths(void)
{
	char exe[PATH_MAX - 64], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len <= 0)
		len = 0;
	exe[len] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(exe, sizeof(exe), ".");
	/* build/tests/bench/ -> build/ */
	snprintf(opt.target, sizeof(opt.target), "%s/allthreads-bench-target",
		 exe);
	snprintf(opt.cli, sizeof(opt.cli), "%s/../../cli/allthreads", exe);
	snprintf(opt.helper, sizeof(opt.helper),
		 "%s/../../lib/allthreads-helper.so", exe);
	snprintf(opt.ref, sizeof(opt.ref), "%s/allthreads-bench-ref", exe);
	snprintf(opt.route, sizeof(opt.route), "%s/allthreads-bench-route",
		 exe);
	snprintf(opt.matrix, sizeof(opt.matrix),
		 "%s/../ptrace/at-matrix-target", exe);
}

static int parse_args(int argc, char **argv)
{
	bool busy_set = false, big = false;
	int i;

	parse_list("1,10,100,1000", &opt.threads);
	parse_list("1,10,100,1000", &opt.recipe_threads);
	parse_list("1,100,1000", &opt.e2e_threads);
	parse_list("10,100,1000", &opt.ptrace_threads);
	opt.ptrace_recipe_threads = 1000;
	opt.ptrace_reps = 5;
	opt.reps = 15;
	opt.recipe_reps = 5;
	opt.e2e_reps = 3;
	opt.min_reps = 5;
	opt.budget_s = 4;
	opt.gdb_max = 100;
	opt.watchdog_s = 600;
	for (i = 1; i < 7; i++)
		opt.sections[i] = true;
	default_paths();

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

#define TAKES_ARG()                                                            \
	do {                                                                   \
		if (!v) {                                                      \
			usage(stderr);                                         \
			return 64;                                             \
		}                                                              \
		i++;                                                           \
	} while (0)
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--json")) {
			opt.json = true;
		} else if (!strcmp(a, "--big")) {
			big = true;
		} else if (!strcmp(a, "--threads")) {
			TAKES_ARG();
			bad = parse_list(v, &opt.threads);
		} else if (!strcmp(a, "--busy-threads")) {
			TAKES_ARG();
			bad = parse_list(v, &opt.busy_threads);
			busy_set = true;
		} else if (!strcmp(a, "--recipe-threads")) {
			TAKES_ARG();
			bad = parse_list(v, &opt.recipe_threads);
		} else if (!strcmp(a, "--ptrace-threads")) {
			TAKES_ARG();
			bad = parse_list(v, &opt.ptrace_threads);
		} else if (!strcmp(a, "--ptrace-recipe-threads")) {
			TAKES_ARG();
			opt.ptrace_recipe_threads =
				(unsigned)strtoul(v, NULL, 10);
			bad = opt.ptrace_recipe_threads < 1;
		} else if (!strcmp(a, "--ptrace-reps")) {
			TAKES_ARG();
			opt.ptrace_reps = (unsigned)strtoul(v, NULL, 10);
			bad = opt.ptrace_reps < 1 || opt.ptrace_reps > MAX_REPS;
		} else if (!strcmp(a, "--ref")) {
			TAKES_ARG();
			snprintf(opt.ref, sizeof(opt.ref), "%s", v);
		} else if (!strcmp(a, "--route")) {
			TAKES_ARG();
			snprintf(opt.route, sizeof(opt.route), "%s", v);
		} else if (!strcmp(a, "--e2e-threads")) {
			TAKES_ARG();
			bad = parse_list(v, &opt.e2e_threads);
		} else if (!strcmp(a, "--reps")) {
			TAKES_ARG();
			opt.reps = (unsigned)strtoul(v, NULL, 10);
			bad = opt.reps < 1 || opt.reps > MAX_REPS;
		} else if (!strcmp(a, "--recipe-reps")) {
			TAKES_ARG();
			opt.recipe_reps = (unsigned)strtoul(v, NULL, 10);
			bad = opt.recipe_reps < 1 || opt.recipe_reps > MAX_REPS;
		} else if (!strcmp(a, "--e2e-reps")) {
			TAKES_ARG();
			opt.e2e_reps = (unsigned)strtoul(v, NULL, 10);
			bad = opt.e2e_reps < 1 || opt.e2e_reps > MAX_REPS;
		} else if (!strcmp(a, "--budget")) {
			TAKES_ARG();
			opt.budget_s = strtod(v, NULL);
			bad = !(opt.budget_s > 0);
		} else if (!strcmp(a, "--gdb-max")) {
			TAKES_ARG();
			opt.gdb_max = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(a, "--watchdog")) {
			TAKES_ARG();
			opt.watchdog_s = (unsigned)strtoul(v, NULL, 10);
			bad = opt.watchdog_s < 1;
		} else if (!strcmp(a, "--json-out")) {
			TAKES_ARG();
			opt.json_file = v;
		} else if (!strcmp(a, "--data")) {
			TAKES_ARG();
			opt.data_file = v;
		} else if (!strcmp(a, "--target")) {
			TAKES_ARG();
			snprintf(opt.target, sizeof(opt.target), "%s", v);
		} else if (!strcmp(a, "--cli")) {
			TAKES_ARG();
			snprintf(opt.cli, sizeof(opt.cli), "%s", v);
		} else if (!strcmp(a, "--helper")) {
			TAKES_ARG();
			snprintf(opt.helper, sizeof(opt.helper), "%s", v);
		} else if (!strcmp(a, "--route-gdb")) {
			TAKES_ARG();
			opt.gdb_cmd = v;
		} else if (!strcmp(a, "--route-helper")) {
			TAKES_ARG();
			opt.helper_cmd = v;
		} else if (!strcmp(a, "--route-ptrace")) {
			TAKES_ARG();
			opt.ptrace_cmd = v;
		} else if (!strcmp(a, "--only")) {
			static const char *const names[] = { "",      "idle",
							     "busy",  "recipe",
							     "e2e",   "helper",
							     "ptrace" };
			char tmp[128], *save = NULL, *tok;
			int k;

			TAKES_ARG();
			memset(opt.sections, 0, sizeof(opt.sections));
			snprintf(tmp, sizeof(tmp), "%s", v);
			for (tok = strtok_r(tmp, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				for (k = 1; k < 7; k++)
					if (!strcmp(tok, names[k]))
						break;
				if (k == 7)
					bad = 1;
				else
					opt.sections[k] = true;
			}
		} else {
			bad = 1;
		}
#undef TAKES_ARG
		if (bad) {
			fprintf(stderr,
				"allthreads-bench: bad argument: %s%s%s\n", a,
				v && a[0] == '-' ? " " : "",
				v && a[0] == '-' ? v : "");
			usage(stderr);
			return 64;
		}
	}
	if (!busy_set) {
		/* N spinners on few CPUs: a broadcast waits for a time slice
		 * per thread; past 100 the run gets long (--busy-threads) */
		unsigned k;

		opt.busy_threads.n = 0;
		for (k = 0; k < opt.threads.n; k++)
			if (opt.threads.v[k] <= 100)
				opt.busy_threads.v[opt.busy_threads.n++] =
					opt.threads.v[k];
	}
	if (big && opt.threads.n < MAX_COUNTS)
		opt.threads.v[opt.threads.n++] = 10000;
	if (opt.min_reps > opt.reps)
		opt.min_reps = opt.reps;
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int r;

	r = parse_args(argc, argv);
	if (r)
		return r;
	signal(SIGALRM, on_watchdog);
	signal(SIGPIPE, SIG_IGN);
	alarm(opt.watchdog_s);
	/* 10000 threads want file descriptors for nothing, but processes: */
	if (!getrlimit(RLIMIT_NPROC, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 20000) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NPROC, &rl);
	}
	logf_("allthreads-bench: engine signal %d, %s\n", allthreads_signal(),
	      geteuid() ? "not root: euid checks and the recipe are skipped" :
			  "root");

	/*
	 * The recipe first: its children are fork()ed from this process, and
	 * libpsx 2.66 leaves a fork()ed child hanging for ever in
	 * pthread_create once the parent has created a thread or called
	 * psx_syscall (the child's children alarm out of that, but the run
	 * would be lost).  Until then this process has only its main thread.
	 */
	if (opt.sections[S_RECIPE])
		run_recipe();
	if (opt.sections[S_IDLE])
		run_single(S_IDLE);
	if (opt.sections[S_BUSY])
		run_single(S_BUSY);
	if (opt.sections[S_E2E])
		run_e2e();
	if (opt.sections[S_HELPER])
		run_helper_idle();
	if (opt.sections[S_PTRACE])
		run_ptrace();

	series_finish();
	eval_targets();
	eval_ptrace_targets();
	if (opt.data_file)
		write_data(opt.data_file);
	if (opt.json_file) {
		FILE *f = fopen(opt.json_file, "we");

		if (f) {
			print_json(f);
			fclose(f);
		} else {
			logf_("allthreads-bench: %s: %s\n", opt.json_file,
			      strerror(errno));
		}
	}
	if (opt.json)
		print_json(stdout);
	else
		print_table();
	return 0;
}
