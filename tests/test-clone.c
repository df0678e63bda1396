/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-clone.c - a thread made with a raw clone(CLONE_THREAD|CLONE_VM|...)
 * that libc knows nothing about must be found and changed too.
 *
 * The raw thread has its own stack and uses raw system calls only; it keeps
 * publishing its own KEEPCAPS and name into shared words (a bounded loop)
 * until told to leave.  The kernel clears its TID word when it is gone.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define RAW_STACK (256 * 1024)
#define RAW_LOOPS 20000 /* x 1 ms: the raw thread's lifetime bound */

static _Atomic int raw_quit;
static _Atomic long raw_keepcaps = -1;
static _Atomic unsigned long raw_name; /* first 8 bytes of its name */
static _Atomic int raw_rounds;
static _Atomic pid_t raw_tid; /* cleared by the kernel on exit */

/* The raw thread shares the main thread's TLS (no CLONE_SETTLS), so it
 * must not touch errno: a system call without libc. */
static long raw_sys(long nr, long a, long b)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
	return x0;
#else
#error "test-clone: add a raw system call for this architecture"
#endif
}

static int raw_main(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	(void)arg;
	for (int i = 0; i < RAW_LOOPS && !atomic_load(&raw_quit); i++) {
		char name[16] = { 0 };
		unsigned long first;

		atomic_store(&raw_keepcaps,
			     raw_sys(SYS_prctl, PR_GET_KEEPCAPS, 0));
		raw_sys(SYS_prctl, PR_GET_NAME, (long)name);
		memcpy(&first, name, sizeof(first));
		atomic_store(&raw_name, first);
		atomic_fetch_add(&raw_rounds, 1);
		raw_sys(SYS_nanosleep, (long)&ms, 0);
	}
	return 0;
}

/* Wait until the raw thread has published at least one more round. */
static bool raw_fresh(void)
{
	int r0 = atomic_load(&raw_rounds);

	for (int i = 0; i < 2000; i++) {
		if (atomic_load(&raw_rounds) >= r0 + 2)
			return true;
		tu_sleep_ms(1);
	}
	return false;
}

static unsigned long name_word(const char *s)
{
	char name[16] = { 0 };
	unsigned long w;

	strncpy(name, s, sizeof(name) - 1);
	memcpy(&w, name, sizeof(w));
	return w;
}

int main(void)
{
	const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			  CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
			  CLONE_CHILD_CLEARTID;
	struct allthreads_prog *prog;
	struct allthreads_report *r = NULL;
	struct tu_pool *pool;
	char *stack;
	pid_t tid;
	int rc, idx;

	tu_watchdog(60);
	pool = tu_pool_new(3, 40000);
	stack = mmap(NULL, RAW_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (!pool || stack == MAP_FAILED)
		tap_bail("setup failed");
	prctl(PR_SET_KEEPCAPS, 0);

	/* raw_tid is both the parent's copy of the TID and the word the
	 * kernel clears (and futex-wakes) when the thread exits. */
	tid = clone(raw_main, stack + RAW_STACK, flags, NULL, &raw_tid, NULL,
		    &raw_tid);
	if (!tap_ok(tid > 0, "raw clone thread started (tid %d)", (int)tid))
		tap_bail("clone: %s", strerror(errno));
	tap_ok(raw_fresh() && atomic_load(&raw_keepcaps) == 0,
	       "raw thread reads KEEPCAPS 0 before");

	prog = tu_prog_keepcaps(1, true);
	tu_add_name(prog, "rawtest");
	rc = tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	tap_ok(rc == 0, "broadcast with a raw thread present returns 0");
	idx = r ? tu_report_find(r, tid) : -1;
	tap_ok(idx > 0 && allthreads_report_state(r, idx) == ALLTHREADS_T_OK &&
		       allthreads_report_steps_run(r, idx) == 2,
	       "the report lists the raw thread as OK with 2 steps");
	tap_ok(raw_fresh() && atomic_load(&raw_keepcaps) == 1,
	       "raw thread reads KEEPCAPS 1 itself");
	tap_ok(atomic_load(&raw_name) == name_word("rawtest"),
	       "raw thread reads its new name itself");
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0,
	       "pthread workers changed too");
	allthreads_report_free(r);
	allthreads_prog_free(prog);

	/* allthreads_syscall() reaches it too. */
	rc = (int)allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	tap_ok(rc == 0 && raw_fresh() && atomic_load(&raw_keepcaps) == 0,
	       "allthreads_syscall reaches the raw thread (KEEPCAPS 0)");

	/* Let it leave; the kernel clears raw_tid. */
	atomic_store(&raw_quit, 1);
	for (int i = 0; i < 2000 && atomic_load(&raw_tid) != 0; i++)
		tu_sleep_ms(1);
	tap_ok(atomic_load(&raw_tid) == 0, "raw thread exited");
	rc = (int)allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0);
	tap_ok(rc == 0, "broadcast after the raw thread left returns 0");
	munmap(stack, RAW_STACK);
	tap_ok(tu_pool_free(pool, 5000) == 0, "workers joined");
	return tap_done();
}
