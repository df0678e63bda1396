/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rawsys.h - raw system calls with -errno results (no libc, no errno),
 * usable in signal context: the engine's, and the /proc reader's
 * (proctext.c), which the helper shares.
 */
#ifndef AT_RAWSYS_H
#define AT_RAWSYS_H

/* Raw system call with -errno results; no libc, no errno. */
static inline long at_sys6(long nr, long a1, long a2, long a3, long a4, long a5,
			   long a6)
{
#if defined(__x86_64__)
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;
	register long x4 __asm__("x4") = a5;
	register long x5 __asm__("x5") = a6;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#else
#error "allthreads: add a raw system call for this architecture"
#endif
}

#define at_sys0(nr) at_sys6((nr), 0, 0, 0, 0, 0, 0)
#define at_sys1(nr, a) at_sys6((nr), (long)(a), 0, 0, 0, 0, 0)
#define at_sys2(nr, a, b) at_sys6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define at_sys3(nr, a, b, c)                                                   \
	at_sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define at_sys4(nr, a, b, c, d)                                                \
	at_sys6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#endif /* AT_RAWSYS_H */
