// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ll-abi-shim.c - an LD_PRELOAD library for the tests: the Landlock ABI
 * version the kernel reports, as seen by the program, is $AT_TEST_LL_ABI
 * instead, so the messages for access rights newer than the kernel can be
 * tested on a new kernel (a lower ABI), and the choice of a newer ABI's
 * LANDLOCK_RESTRICT_SELF_TSYNC on an older kernel (a higher one: the
 * kernel then refuses the flag, which is what the test looks for).
 *
 * It interposes libc's syscall(3), through which `allthreads landlock` and
 * the helper ask landlock_create_ruleset(NULL, 0,
 * LANDLOCK_CREATE_RULESET_VERSION);
 * every other call goes to libc's syscall() unchanged.  (A seccomp filter
 * cannot do this: it can fail a call, not make it return a positive
 * value.)
 */
#include <dlfcn.h>
#include <linux/landlock.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*syscall_fn)(long, ...);

static syscall_fn real_syscall;
static long want; /* 0: leave the version alone */

__attribute__((constructor)) static void init(void)
{
	const char *v = getenv("AT_TEST_LL_ABI");

	real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	if (v && *v)
		want = strtol(v, NULL, 10);
}

/* Exported over the build's hidden default, so it interposes libc's. */
__attribute__((visibility("default"))) long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	long r;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real_syscall) /* a call from a constructor run before ours */
		real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	r = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr == SYS_landlock_create_ruleset && a[0] == 0 && a[1] == 0 &&
	    a[2] == LANDLOCK_CREATE_RULESET_VERSION && r > 0 && want > 0)
		return want;
	return r;
}
