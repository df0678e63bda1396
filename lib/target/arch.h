/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arch.h - the ptrace route's registers for the architecture we build for. */
#ifndef AT_ARCH_H
#define AT_ARCH_H

#if defined(__x86_64__) && !defined(__ILP32__)
#include "arch-x86_64.h"
#elif defined(__aarch64__)
#include "arch-aarch64.h"
#else
#define AT_ARCH_NONE 1
#endif

#endif /* AT_ARCH_H */
