/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysret.h - what a raw system call's return value means, and the range of
 * system call numbers the library accepts: two limits that happen to be
 * the same number, named apart.  Static inline, usable in signal context.
 */
#ifndef AT_SYSRET_H
#define AT_SYSRET_H

#include <stdbool.h>

#include "allthreads.h"

/* The kernel returns -1 .. -AT_MAX_ERRNO for an error (MAX_ERRNO in
 * include/linux/err.h); anything else is a result. */
#define AT_MAX_ERRNO 4095
/* The same, as text, for assembly. */
#define AT_STR_(x) #x
#define AT_STR(x) AT_STR_(x)
#define AT_MAX_ERRNO_S AT_STR(AT_MAX_ERRNO)

/* The largest system call number a step, a save or an undo may name
 * (x86_64 and aarch64 stay far below it). */
#define AT_MAX_SYSCALL_NR 4095

/* Is R, a raw system call's return value, an error (-errno)? */
static inline bool at_is_error(long r)
{
	return r < 0 && r >= -AT_MAX_ERRNO;
}

/* Does result R of step I pass its judge HOW (enum allthreads_judge)?
 * EQUAL compares with CANARY[I], the calling thread's results, when there
 * is one (the calling thread itself is judged as SUCCESS). */
static inline bool at_judge_ok(int how, long r, const long *canary, unsigned i)
{
	switch (how) {
	case ALLTHREADS_JUDGE_ANY:
		return true;
	case ALLTHREADS_JUDGE_SUCCESS:
		return !at_is_error(r);
	default:
		return canary ? r == canary[i] : !at_is_error(r);
	}
}

#endif /* AT_SYSRET_H */
