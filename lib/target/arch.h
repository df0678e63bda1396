/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arch.h - the ptrace route's registers for the architecture we build for. */
#ifndef AT_ARCH_H
#define AT_ARCH_H

/*
 * What an interrupted system call returns inside the kernel, seen by a
 * tracer in the return register at the stop: kernel-internal numbers
 * (include/linux/errno.h in the kernel's tree, not exported to user space),
 * the same on every architecture.  The program never sees them: the way
 * out of the stop turns them into a restart or -EINTR.
 */
#define AT_ERESTARTSYS 512
#define AT_ERESTARTNOINTR 513
#define AT_ERESTARTNOHAND 514
#define AT_ERESTART_RESTARTBLOCK 516

#if defined(__x86_64__) && !defined(__ILP32__)
#include "arch-x86_64.h"
#elif defined(__aarch64__)
#include "arch-aarch64.h"
#else
#define AT_ARCH_NONE 1
#endif

#endif /* AT_ARCH_H */
