// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * matrix-target.c - a process started WITHOUT the helper, for the ptrace
 * route's tests: threads in every state the route must get through, each
 * of which proves afterwards that its own blocked call came back right.
 *
 *   matrix-target [--idle N] [--busy N] [--read N] [--sleep N] [--poll N]
 *                 [--epoll N] [--sigwait N] [--rawclone N] [--zmm]
 *                 [--churn] [--zombie-main] [--seccomp-kill-prctl] [--catch-urg]
 *                 [--seccomp-race process|thread] [--timeout S]
 *
 * Thread kinds (the main thread is one more idle thread, or with
 * --zombie-main it calls pthread_exit and stays a zombie; a control
 * thread reads the commands):
 *   idle      pthread_cond_wait until released
 *   busy      spins on a flag
 *   read      read(2) of one byte from its own pipe: must return 1 and
 *             exactly the byte written at release (no EINTR, no -512)
 *   sleep     nanosleep(300 ms) in a loop: each must return 0 after at
 *             least 300 ms (no EINTR, no -516, no time lost)
 *   poll      poll(2) with a 60 s timeout on its pipe: must return 1
 *   epoll     epoll_wait(2), 60 s timeout: the event must come; EINTR is
 *             allowed (ptrace(2) BUGS: PTRACE_INTERRUPT makes it return
 *             EINTR) and counted
 *   sigwait   sigwaitinfo(2) for SIGUSR1, sent at release with
 *             rt_tgsigqueueinfo and a payload that must come through
 *             (EINTR retried and counted)
 *   rawclone  a clone(CLONE_THREAD) thread with no libc thread state,
 *             blocked in a raw read(2) syscall (x86_64 syscall, aarch64
 *             svc #0)
 *   zmm       (x86_64, AVX-512; elsewhere "nozmm") two threads keep patterns in zmm16-31,
 *             k1-k7 and r12-r15 live inside inline asm: one spins, one
 *             blocks in a raw read(2); the patterns are compared after
 *   churn     one thread creates and joins short-lived threads until
 *             "churn-stop"
 *
 * --seccomp-kill-prctl installs (TSYNC, every thread) a filter that kills
 * the process on prctl(2); needs CAP_SYS_ADMIN (so NoNewPrivs stays 0 and
 * shows whether anything changed).  The threads then skip their own
 * KEEP_CAPS read.
 *
 * --seccomp-race process|thread adds a watcher thread (made after the
 * others; prints "watcher TID"): as soon as the main thread shows a
 * tracer, it installs on itself alone (NO_NEW_PRIVS set on itself first)
 * a filter that kills the process, or only itself, on prctl(2), and
 * prints "filtered".  It never reports at release.
 *
 * --catch-urg installs a SIGURG handler (SA_RESTART) that only counts; at
 * release a count above 0 is a "bad urg" line (nobody sends it SIGURG).
 *
 * Prints "ready PID TASKS" (TASKS: the tasks at that moment) and, with
 * --zmm on a CPU without AVX-512 (or not x86_64), "nozmm" before it.  Commands, one a line
 * on stdin:
 *   ping        "pong"
 *   release     wakes every thread, waits for their reports, prints one
 *               "bad KIND INDEX: WHY" line per failure, then
 *               "released OK BAD keepcaps ONES OF eintr E": OK threads
 *               proved their call, ONES of the OF threads that read
 *               KEEP_CAPS saw 1, E EINTRs seen by epoll/sigwait
 *   clobber-release  the same, but the spinning zmm thread changes zmm17
 *               and k3 itself first: the check of the checker
 *   churn-stop  "churn-stopped ROUNDS"
 *   quit        exits 0
 * End of input exits too, and so does the timeout (default 60 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rawsys.h" /* at_sys3(): no libc, no errno */

#if defined(__x86_64__)
#define AT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define MAX_PER_KIND 4000
#define SLEEP_MS 300
#define RAW_STACK (64 * 1024)

enum kind {
	K_IDLE,
	K_BUSY,
	K_READ,
	K_SLEEP,
	K_POLL,
	K_EPOLL,
	K_SIGWAIT,
	NKIND
};

static const char *const kind_name[NKIND] = { "idle",	"busy", "read",
					      "sleep",	"poll", "epoll",
					      "sigwait" };

struct worker {
	enum kind kind;
	unsigned index;
	int fd[2];
	pid_t tid;
	char why[96];
	bool ok;
};

static unsigned count[NKIND];
static struct worker *workers;
static unsigned nworkers;
static bool zombie_main, churn, seccomp_kill, want_zmm, no_prctl, catch_urg;
/* --seccomp-race: a watcher, and its filter's action */
static bool race;
static unsigned race_ret;
/* --catch-urg: how often the target's own SIGURG handler ran (no one sends
 * it SIGURG: a run is not to make it run) */
static atomic_uint urg_seen;

static void on_urg(int sig)
{
	(void)sig;
	atomic_fetch_add(&urg_seen, 1);
}
static unsigned nraw;
static unsigned timeout_s = 60;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool released;
static atomic_bool stop_busy, stop_churn;
static atomic_uint started, reported, n_ok, n_bad, kc_ones, kc_of, eintrs;
static atomic_uint churn_rounds;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static char bad_lines[64][128];
static unsigned nbad_lines;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_alarm(int sig)
{
	static const char msg[] = "matrix-target: timeout\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static void report(const char *kind, unsigned index, bool ok, const char *why)
{
	if (!no_prctl) {
		atomic_fetch_add(&kc_of, 1);
		if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1)
			atomic_fetch_add(&kc_ones, 1);
	}
	if (ok) {
		atomic_fetch_add(&n_ok, 1);
	} else {
		atomic_fetch_add(&n_bad, 1);
		pthread_mutex_lock(&out_mu);
		if (nbad_lines < 64)
			snprintf(bad_lines[nbad_lines++], sizeof(bad_lines[0]),
				 "bad %s %u: %s", kind, index, why);
		pthread_mutex_unlock(&out_mu);
	}
	atomic_fetch_add(&reported, 1);
}

static void wait_released(void)
{
	pthread_mutex_lock(&mu);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void run_idle(struct worker *w)
{
	wait_released();
	w->ok = true;
}

static void run_busy(struct worker *w)
{
	uint64_t end = now_ms() + (uint64_t)timeout_s * 1000;
	volatile unsigned long spins = 0;

	while (!atomic_load_explicit(&stop_busy, memory_order_relaxed) &&
	       now_ms() < end)
		spins++;
	w->ok = atomic_load(&stop_busy);
	if (!w->ok)
		snprintf(w->why, sizeof(w->why), "never released");
}

static void run_read(struct worker *w)
{
	char c = 0;
	ssize_t r = read(w->fd[0], &c, 1);

	w->ok = r == 1 && c == (char)('a' + w->index % 26);
	if (!w->ok)
		snprintf(w->why, sizeof(w->why), "read returned %zd (%s) '%c'",
			 r, r < 0 ? strerror(errno) : "-", c);
}

static void run_sleep(struct worker *w)
{
	unsigned rounds;

	w->ok = true;
	for (rounds = 0; rounds < 1000; rounds++) {
		struct timespec ts = { 0, SLEEP_MS * 1000000L }, t0, t1;
		int64_t el;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (t1.tv_sec - t0.tv_sec) * 1000000000LL +
		     (t1.tv_nsec - t0.tv_nsec);
		if (r != 0) {
			snprintf(w->why, sizeof(w->why),
				 "nanosleep returned %d (%s)", r,
				 strerror(errno));
			w->ok = false;
			return;
		}
		if (el < SLEEP_MS * 1000000LL) {
			snprintf(w->why, sizeof(w->why),
				 "nanosleep came back after %lld ns of %d ms",
				 (long long)el, SLEEP_MS);
			w->ok = false;
			return;
		}
		pthread_mutex_lock(&mu);
		if (released) {
			pthread_mutex_unlock(&mu);
			return;
		}
		pthread_mutex_unlock(&mu);
	}
}

static void run_poll(struct worker *w)
{
	struct pollfd p = { .fd = w->fd[0], .events = POLLIN };
	int r = poll(&p, 1, 60000);
	char c = 0;

	w->ok = r == 1 && (p.revents & POLLIN) && read(w->fd[0], &c, 1) == 1 &&
		c == (char)('a' + w->index % 26);
	if (!w->ok)
		snprintf(w->why, sizeof(w->why), "poll returned %d (%s)", r,
			 r < 0 ? strerror(errno) : "-");
}

static void run_epoll(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = w->index };
	int ep = epoll_create1(EPOLL_CLOEXEC), r = -1, tries;
	char c = 0;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, w->fd[0], &ev)) {
		snprintf(w->why, sizeof(w->why), "epoll setup: %s",
			 strerror(errno));
		return;
	}
	for (tries = 0; tries < 100; tries++) {
		memset(&ev, 0, sizeof(ev));
		r = epoll_wait(ep, &ev, 1, 60000);
		if (r < 0 && errno == EINTR) {
			atomic_fetch_add(&eintrs, 1);
			continue;
		}
		break;
	}
	w->ok = r == 1 && ev.data.u32 == w->index &&
		read(w->fd[0], &c, 1) == 1 && c == (char)('a' + w->index % 26);
	if (!w->ok)
		snprintf(w->why, sizeof(w->why), "epoll_wait returned %d (%s)",
			 r, r < 0 ? strerror(errno) : "-");
	close(ep);
}

static void run_sigwait(struct worker *w)
{
	siginfo_t si;
	sigset_t set;
	int r = -1, tries;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (tries = 0; tries < 100; tries++) {
		memset(&si, 0, sizeof(si));
		r = sigwaitinfo(&set, &si);
		if (r < 0 && errno == EINTR) {
			atomic_fetch_add(&eintrs, 1);
			continue;
		}
		break;
	}
	w->ok = r == SIGUSR1 && si.si_code == SI_QUEUE &&
		si.si_value.sival_int == (int)(1000 + w->index);
	if (!w->ok)
		snprintf(w->why, sizeof(w->why),
			 "sigwaitinfo returned %d code %d value %d (%s)", r,
			 si.si_code, si.si_value.sival_int,
			 r < 0 ? strerror(errno) : "-");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	atomic_fetch_add(&started, 1);
	switch (w->kind) {
	case K_IDLE:
		run_idle(w);
		break;
	case K_BUSY:
		run_busy(w);
		break;
	case K_READ:
		run_read(w);
		break;
	case K_SLEEP:
		run_sleep(w);
		break;
	case K_POLL:
		run_poll(w);
		break;
	case K_EPOLL:
		run_epoll(w);
		break;
	case K_SIGWAIT:
		run_sigwait(w);
		break;
	case NKIND:
		break;
	}
	report(kind_name[w->kind], w->index, w->ok, w->why);
	return NULL;
}

/* ------------------------------------------------------ raw clone threads */

struct rawthread {
	int fd[2];
	atomic_long result;
	atomic_int done;
	atomic_int kc;
	char byte;
};

static struct rawthread raws[64];

/* No libc in here: this thread has no TLS of its own. */
static int raw_main(void *arg)
{
	struct rawthread *r = arg;

	atomic_store(&r->result,
		     at_sys3(SYS_read, r->fd[0], (long)&r->byte, 1));
	if (!no_prctl)
		atomic_store(&r->kc,
			     (int)at_sys3(SYS_prctl, PR_GET_KEEPCAPS, 0, 0));
	atomic_store(&r->done, 1);
	return 0;
}

/* ------------------------------------------------------------ zmm threads */

/* x86_64 only: elsewhere --zmm prints "nozmm", as on an x86_64 CPU without
 * AVX-512. */

#define ZMM_REGS 16
#define K_REGS 7
#define G_REGS 4

struct vecstate {
	uint64_t zmm[ZMM_REGS][8];
	uint64_t k[K_REGS];
	uint64_t g[G_REGS];
};

static struct vecstate vec_want __attribute__((aligned(64)));
static struct vecstate vec_got[2] __attribute__((aligned(64)));
static int zmm_fd[2] = { -1, -1 };
static atomic_int zmm_stop;
static atomic_int zmm_done[2];
static long zmm_read_ret;
static char zmm_byte;

#ifdef __x86_64__
static bool has_avx512(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[4096];
	bool yes = false;

	if (!f)
		return false;
	while (!yes && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) && strstr(line, " avx512f"))
			yes = true;
	fclose(f);
	return yes;
}

/* What zmm_hold's asm reads and writes, through one register (few are
 * left: it clobbers the syscall registers and r12-r15). */
struct zargs {
	const struct vecstate *want; /* 0 */
	struct vecstate *got;	     /* 8 */
	long spin;		     /* 16 */
	const int *stop;	     /* 24 */
	long fd;		     /* 32 */
	char *byte;		     /* 40 */
	long ret;		     /* 48 */
};

/* Loads zmm16-31, k1-k7, r12-r15 from vec_want; then either spins until
 * zmm_stop (SPIN) or reads one byte from zmm_fd with a raw syscall; then
 * stores them all to *GOT. */
static void zmm_hold(struct vecstate *got, int spin)
{
	struct zargs za = { &vec_want, got,	  spin, (const int *)&zmm_stop,
			    zmm_fd[0], &zmm_byte, 0 };

	_Static_assert(offsetof(struct zargs, ret) == 48, "zargs layout");
	__asm__ volatile(
		"mov 0(%[za]), %%rax\n\t"
		"vmovdqu64 0*64(%%rax), %%zmm16\n\t"
		"vmovdqu64 1*64(%%rax), %%zmm17\n\t"
		"vmovdqu64 2*64(%%rax), %%zmm18\n\t"
		"vmovdqu64 3*64(%%rax), %%zmm19\n\t"
		"vmovdqu64 4*64(%%rax), %%zmm20\n\t"
		"vmovdqu64 5*64(%%rax), %%zmm21\n\t"
		"vmovdqu64 6*64(%%rax), %%zmm22\n\t"
		"vmovdqu64 7*64(%%rax), %%zmm23\n\t"
		"vmovdqu64 8*64(%%rax), %%zmm24\n\t"
		"vmovdqu64 9*64(%%rax), %%zmm25\n\t"
		"vmovdqu64 10*64(%%rax), %%zmm26\n\t"
		"vmovdqu64 11*64(%%rax), %%zmm27\n\t"
		"vmovdqu64 12*64(%%rax), %%zmm28\n\t"
		"vmovdqu64 13*64(%%rax), %%zmm29\n\t"
		"vmovdqu64 14*64(%%rax), %%zmm30\n\t"
		"vmovdqu64 15*64(%%rax), %%zmm31\n\t"
		"kmovq 1024(%%rax), %%k1\n\t"
		"kmovq 1032(%%rax), %%k2\n\t"
		"kmovq 1040(%%rax), %%k3\n\t"
		"kmovq 1048(%%rax), %%k4\n\t"
		"kmovq 1056(%%rax), %%k5\n\t"
		"kmovq 1064(%%rax), %%k6\n\t"
		"kmovq 1072(%%rax), %%k7\n\t"
		"mov 1080(%%rax), %%r12\n\t"
		"mov 1088(%%rax), %%r13\n\t"
		"mov 1096(%%rax), %%r14\n\t"
		"mov 1104(%%rax), %%r15\n\t"
		"cmpq $0, 16(%[za])\n\t"
		"je 2f\n\t"
		/* spin: bounded (2^36 pauses is minutes; the alarm ends the
		 * process long before) */
		"mov 24(%[za]), %%rdx\n\t"
		"movabs $0x1000000000, %%rcx\n\t"
		"1: pause\n\t"
		"cmpl $0, (%%rdx)\n\t"
		"jne 8f\n\t"
		"dec %%rcx\n\t"
		"jnz 1b\n\t"
		"jmp 3f\n\t"
		/* stop == 2 ("clobber-release", the checker's own check):
		 * change zmm17 and k3 on purpose */
		"8: cmpl $2, (%%rdx)\n\t"
		"jne 3f\n\t"
		"vpxorq %%zmm17, %%zmm17, %%zmm17\n\t"
		"kxorq %%k3, %%k3, %%k3\n\t"
		"jmp 3f\n\t"
		/* blocked: read(zmm_fd[0], &zmm_byte, 1) */
		"2: mov 32(%[za]), %%rdi\n\t"
		"mov 40(%[za]), %%rsi\n\t"
		"mov $1, %%edx\n\t"
		"mov $0, %%eax\n\t"
		"syscall\n\t"
		"mov %%rax, 48(%[za])\n\t"
		"3: mov 8(%[za]), %%rax\n\t"
		"vmovdqu64 %%zmm16, 0*64(%%rax)\n\t"
		"vmovdqu64 %%zmm17, 1*64(%%rax)\n\t"
		"vmovdqu64 %%zmm18, 2*64(%%rax)\n\t"
		"vmovdqu64 %%zmm19, 3*64(%%rax)\n\t"
		"vmovdqu64 %%zmm20, 4*64(%%rax)\n\t"
		"vmovdqu64 %%zmm21, 5*64(%%rax)\n\t"
		"vmovdqu64 %%zmm22, 6*64(%%rax)\n\t"
		"vmovdqu64 %%zmm23, 7*64(%%rax)\n\t"
		"vmovdqu64 %%zmm24, 8*64(%%rax)\n\t"
		"vmovdqu64 %%zmm25, 9*64(%%rax)\n\t"
		"vmovdqu64 %%zmm26, 10*64(%%rax)\n\t"
		"vmovdqu64 %%zmm27, 11*64(%%rax)\n\t"
		"vmovdqu64 %%zmm28, 12*64(%%rax)\n\t"
		"vmovdqu64 %%zmm29, 13*64(%%rax)\n\t"
		"vmovdqu64 %%zmm30, 14*64(%%rax)\n\t"
		"vmovdqu64 %%zmm31, 15*64(%%rax)\n\t"
		"kmovq %%k1, 1024(%%rax)\n\t"
		"kmovq %%k2, 1032(%%rax)\n\t"
		"kmovq %%k3, 1040(%%rax)\n\t"
		"kmovq %%k4, 1048(%%rax)\n\t"
		"kmovq %%k5, 1056(%%rax)\n\t"
		"kmovq %%k6, 1064(%%rax)\n\t"
		"kmovq %%k7, 1072(%%rax)\n\t"
		"mov %%r12, 1080(%%rax)\n\t"
		"mov %%r13, 1088(%%rax)\n\t"
		"mov %%r14, 1096(%%rax)\n\t"
		"mov %%r15, 1104(%%rax)\n\t"
		:
		: [za] "r"(&za)
		: "rax", "rcx", "rdx", "rdi", "rsi", "r11", "r12", "r13", "r14",
		  "r15", "memory", "cc");
	if (!spin)
		zmm_read_ret = za.ret;
}
#else
static bool has_avx512(void)
{
	return false;
}

static void zmm_hold(struct vecstate *got, int spin)
{
	(void)got;
	(void)spin;
}
#endif

static void *zmm_main(void *arg)
{
	int spin = (int)(intptr_t)arg;

	atomic_fetch_add(&started, 1);
	zmm_hold(&vec_got[spin], spin);
	atomic_store(&zmm_done[spin], 1);
	return NULL;
}

static void zmm_fill(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned i, j;

	_Static_assert(offsetof(struct vecstate, k) == 1024, "k at 1024");
	_Static_assert(offsetof(struct vecstate, g) == 1080, "g at 1080");
	for (i = 0; i < ZMM_REGS; i++)
		for (j = 0; j < 8; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			vec_want.zmm[i][j] = x;
		}
	for (i = 0; i < K_REGS; i++)
		vec_want.k[i] = 0x5a5a000000000000ULL | (i * 0x1111ULL + 1);
	for (i = 0; i < G_REGS; i++)
		vec_want.g[i] = 0xc0ffee0000000000ULL | (i + 12);
}

/* Which registers differ from the pattern: "" when none. */
static void zmm_compare(const struct vecstate *got, char *buf, size_t len)
{
	size_t o = 0;
	unsigned i;

	buf[0] = 0;
	for (i = 0; i < ZMM_REGS && o < len; i++)
		if (memcmp(got->zmm[i], vec_want.zmm[i], 64))
			o += (size_t)snprintf(buf + o, len - o, " zmm%u",
					      i + 16);
	for (i = 0; i < K_REGS && o < len; i++)
		if (got->k[i] != vec_want.k[i])
			o += (size_t)snprintf(buf + o, len - o, " k%u", i + 1);
	for (i = 0; i < G_REGS && o < len; i++)
		if (got->g[i] != vec_want.g[i])
			o += (size_t)snprintf(buf + o, len - o, " r%u", i + 12);
}

/* ------------------------------------------------------------------ churn */

static void *churn_child(void *arg)
{
	(void)arg;
	return NULL;
}

static void *churn_main(void *arg)
{
	uint64_t end = now_ms() + (uint64_t)timeout_s * 1000;

	(void)arg;
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&stop_churn) && now_ms() < end) {
		pthread_t t[4];
		int i, n = 0;

		for (i = 0; i < 4; i++)
			if (!pthread_create(&t[n], NULL, churn_child, NULL))
				n++;
		for (i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		atomic_fetch_add(&churn_rounds, 1);
	}
	return NULL;
}

/* ---------------------------------------------------------------- seccomp */

/* A filter that ends the process or the thread (RET) on prctl(2); FLAGS
 * 0 for the calling thread only, SECCOMP_FILTER_FLAG_TSYNC for all. */
static int install_prctl_filter(unsigned ret, unsigned flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]),
				   .filter = f };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/*
 * --seccomp-race: a thread made after the others watches the main
 * thread's TracerPid and, as soon as it shows a tracer (a route is
 * seizing the threads, its look at them done), installs on itself alone
 * a filter that ends the process (or itself) on prctl(2), then sleeps.
 * Prints "filtered" when it did.
 */
static void *race_main(void *arg)
{
	unsigned ret = (unsigned)(uintptr_t)arg;
	uint64_t end = now_ms() + (uint64_t)timeout_s * 1000;
	char path[64], buf[2048];
	bool done = false;
	int fd;

	/* no CAP_SYS_ADMIN needed: this thread only */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status",
		 (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	printf("watcher %ld\n", (long)syscall(SYS_gettid));
	while (fd >= 0 && now_ms() < end) {
		if (!done) {
			/* each read at offset 0 shows the status anew */
			ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
			const char *tp;

			buf[n > 0 ? n : 0] = 0;
			tp = strstr(buf, "TracerPid:\t");
			if (!tp || tp[11] == '0')
				continue;
			if (install_prctl_filter(ret, 0)) {
				printf("bad race: seccomp failed\n");
				break;
			}
			done = true;
			printf("filtered\n");
		}
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ---------------------------------------------------------------- control */

static unsigned count_tasks(void)
{
	char path[64];
	unsigned n = 0;
	FILE *p;

	/* threads of this process: the kernel's own count */
	snprintf(path, sizeof(path), "/proc/self/status");
	p = fopen(path, "re");
	if (p) {
		char line[256];

		while (fgets(line, sizeof(line), p))
			if (sscanf(line, "Threads: %u", &n) == 1)
				break;
		fclose(p);
	}
	return n;
}

static bool wait_for(atomic_uint *c, unsigned n, unsigned ms)
{
	struct timespec pause = { 0, 1000000 };
	unsigned i;

	for (i = 0; i < ms; i++) {
		if (atomic_load(c) >= n)
			return true;
		nanosleep(&pause, NULL);
	}
	return atomic_load(c) >= n;
}

static void do_release(pid_t pid, bool clobber)
{
	unsigned i, expect = nworkers + (zombie_main ? 0 : 1);
	unsigned raw_ok = 0, zmm_ok = 0;
	char why[256];

	atomic_store(&stop_busy, true);
	atomic_store(&zmm_stop, clobber ? 2 : 1);
	pthread_mutex_lock(&mu);
	released = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		char c = (char)('a' + w->index % 26);

		if (w->kind == K_READ || w->kind == K_POLL ||
		    w->kind == K_EPOLL) {
			if (write(w->fd[1], &c, 1) != 1)
				report(kind_name[w->kind], w->index, false,
				       "release write failed");
		} else if (w->kind == K_SIGWAIT) {
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			si.si_signo = SIGUSR1;
			si.si_code = SI_QUEUE;
			si.si_pid = pid;
			si.si_uid = getuid();
			si.si_value.sival_int = (int)(1000 + w->index);
			if (syscall(SYS_rt_tgsigqueueinfo, pid, w->tid, SIGUSR1,
				    &si))
				report("sigwait", w->index, false,
				       "rt_tgsigqueueinfo failed");
		}
	}
	for (i = 0; i < nraw; i++)
		if (write(raws[i].fd[1], "r", 1) != 1)
			raws[i].result = -9999;
	if (want_zmm && zmm_fd[1] >= 0 && write(zmm_fd[1], "z", 1) != 1)
		zmm_read_ret = -9999;
	wait_for(&reported, expect, 10000);
	for (i = 0; i < nraw; i++) {
		struct timespec pause = { 0, 1000000 };
		unsigned k;

		for (k = 0; k < 5000 && !atomic_load(&raws[i].done); k++)
			nanosleep(&pause, NULL);
		if (atomic_load(&raws[i].done) &&
		    atomic_load(&raws[i].result) == 1 && raws[i].byte == 'r') {
			raw_ok++;
		} else {
			printf("bad rawclone %u: read returned %ld, done %d\n",
			       i, atomic_load(&raws[i].result),
			       atomic_load(&raws[i].done));
		}
		if (!no_prctl && atomic_load(&raws[i].done)) {
			atomic_fetch_add(&kc_of, 1);
			if (atomic_load(&raws[i].kc) == 1)
				atomic_fetch_add(&kc_ones, 1);
		}
	}
	if (want_zmm) {
		for (i = 0; i < 2; i++) {
			struct timespec pause = { 0, 1000000 };
			unsigned k;

			for (k = 0; k < 5000 && !atomic_load(&zmm_done[i]); k++)
				nanosleep(&pause, NULL);
			zmm_compare(&vec_got[i], why, sizeof(why));
			if (!atomic_load(&zmm_done[i]))
				printf("bad zmm %u: never came back\n", i);
			else if (why[0])
				printf("bad zmm %u: changed:%s\n", i, why);
			else if (i == 0 &&
				 (zmm_read_ret != 1 || zmm_byte != 'z'))
				printf("bad zmm 0: raw read returned %ld\n",
				       zmm_read_ret);
			else
				zmm_ok++;
		}
		printf("zmm %u of 2 intact\n", zmm_ok);
	}
	if (atomic_load(&urg_seen))
		printf("bad urg: the SIGURG handler ran %u times\n",
		       atomic_load(&urg_seen));
	pthread_mutex_lock(&out_mu);
	for (i = 0; i < nbad_lines; i++)
		printf("%s\n", bad_lines[i]);
	pthread_mutex_unlock(&out_mu);
	printf("released %u %u keepcaps %u %u eintr %u\n",
	       atomic_load(&n_ok) + raw_ok + zmm_ok,
	       atomic_load(&n_bad) + atomic_load(&urg_seen) + (nraw - raw_ok) +
		       (want_zmm ? 2 - zmm_ok : 0) +
		       (atomic_load(&reported) < expect ?
				expect - atomic_load(&reported) :
				0),
	       atomic_load(&kc_ones), atomic_load(&kc_of),
	       atomic_load(&eintrs));
}

static void *control_main(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	char line[128];
	unsigned lines;

	for (lines = 0; lines < 10000; lines++) {
		if (!fgets(line, sizeof(line), stdin)) {
			if (ferror(stdin) && errno == EINTR) {
				clearerr(stdin);
				continue;
			}
			break;
		}
		if (!strncmp(line, "ping", 4)) {
			printf("pong\n");
		} else if (!strncmp(line, "release", 7)) {
			do_release(pid, false);
		} else if (!strncmp(line, "clobber-release", 15)) {
			do_release(pid, true);
		} else if (!strncmp(line, "churn-stop", 10)) {
			atomic_store(&stop_churn, true);
			printf("churn-stopped %u\n",
			       atomic_load(&churn_rounds));
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	exit(0);
}

static int parse(int argc, char **argv)
{
	static const char *const opts[NKIND] = {
		"--idle", "--busy",  "--read",	  "--sleep",
		"--poll", "--epoll", "--sigwait",
	};
	int i, k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool matched = false;

		for (k = 0; k < NKIND; k++)
			if (!strcmp(a, opts[k]) && i + 1 < argc) {
				count[k] =
					(unsigned)strtoul(argv[++i], NULL, 10);
				matched = count[k] <= MAX_PER_KIND;
			}
		if (matched)
			continue;
		if (!strcmp(a, "--rawclone") && i + 1 < argc) {
			nraw = (unsigned)strtoul(argv[++i], NULL, 10);
			if (nraw > 64)
				return -1;
		} else if (!strcmp(a, "--timeout") && i + 1 < argc) {
			timeout_s = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(a, "--zmm")) {
			want_zmm = true;
		} else if (!strcmp(a, "--catch-urg")) {
			catch_urg = true;
		} else if (!strcmp(a, "--churn")) {
			churn = true;
		} else if (!strcmp(a, "--zombie-main")) {
			zombie_main = true;
		} else if (!strcmp(a, "--seccomp-kill-prctl")) {
			seccomp_kill = true;
		} else if (!strcmp(a, "--seccomp-race") && i + 1 < argc) {
			race = true;
			i++;
			if (!strcmp(argv[i], "process"))
				race_ret = SECCOMP_RET_KILL_PROCESS;
			else if (!strcmp(argv[i], "thread"))
				race_ret = SECCOMP_RET_KILL_THREAD;
			else
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t set;
	unsigned i, k, expect = 0;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: see the head of matrix-target.c\n");
		return 64;
	}
	signal(SIGALRM, on_alarm);
	alarm(timeout_s);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* SIGUSR1 is only ever taken by sigwaitinfo */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);

	for (k = 0; k < NKIND; k++)
		nworkers += count[k];
	workers = calloc(nworkers ? nworkers : 1, sizeof(*workers));
	if (!workers)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (k = 0, i = 0; k < NKIND; k++) {
		unsigned j;

		for (j = 0; j < count[k]; j++, i++) {
			struct worker *w = &workers[i];

			w->kind = (enum kind)k;
			w->index = j;
			w->fd[0] = w->fd[1] = -1;
			if ((k == K_READ || k == K_POLL || k == K_EPOLL) &&
			    pipe2(w->fd, O_CLOEXEC)) {
				perror("pipe");
				return 1;
			}
			if (pthread_create(&t, &attr, worker_main, w)) {
				fprintf(stderr, "pthread_create failed\n");
				return 1;
			}
			pthread_detach(t);
			expect++;
		}
	}
	for (i = 0; i < nraw; i++) {
		const int flags = CLONE_VM | CLONE_FS | CLONE_FILES |
				  CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
		char *stack = mmap(NULL, RAW_STACK, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1,
				   0);

		if (stack == MAP_FAILED || pipe2(raws[i].fd, O_CLOEXEC) ||
		    clone(raw_main, stack + RAW_STACK, flags, &raws[i]) < 0) {
			perror("raw clone");
			return 1;
		}
	}
	if (want_zmm) {
		if (!has_avx512()) {
			printf("nozmm\n");
			want_zmm = false;
		} else {
			zmm_fill();
			if (pipe2(zmm_fd, O_CLOEXEC))
				return 1;
			for (i = 0; i < 2; i++) {
				if (pthread_create(&t, &attr, zmm_main,
						   (void *)(intptr_t)i))
					return 1;
				pthread_detach(t);
				expect++;
			}
		}
	}
	if (churn) {
		if (pthread_create(&t, &attr, churn_main, NULL))
			return 1;
		pthread_detach(t);
		expect++;
	}
	if (!wait_for(&started, expect, 30000)) {
		fprintf(stderr, "matrix-target: threads did not start\n");
		return 1;
	}
	if (catch_urg) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_urg;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGURG, &sa, NULL);
	}
	if (seccomp_kill) {
		no_prctl = true;
		if (install_prctl_filter(SECCOMP_RET_KILL_PROCESS,
					 SECCOMP_FILTER_FLAG_TSYNC)) {
			perror("matrix-target: seccomp");
			return 1;
		}
	}
	if (race) {
		if (pthread_create(&t, &attr, race_main,
				   (void *)(uintptr_t)race_ret))
			return 1;
		pthread_detach(t);
	}
	if (pthread_create(&t, NULL, control_main, (void *)(intptr_t)getpid()))
		return 1;
	/* let the blocking calls get there (each thread counted itself just
	 * before its call) */
	{
		struct timespec settle = { 0, 50000000 };

		nanosleep(&settle, NULL);
	}
	printf("ready %d %u\n", (int)getpid(), count_tasks());
	if (zombie_main)
		pthread_exit(NULL);
	run_idle(&(struct worker){ .kind = K_IDLE });
	report("main", 0, true, "");
	/* the control thread exits the process */
	for (i = 0; i < (unsigned)timeout_s * 10; i++) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
	}
	return 3;
}
