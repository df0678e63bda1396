/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * filter.h - the seccomp filter builder `seccomp` and `set --seccomp`
 * compile their options with.
 */
#ifndef AT_CLI_FILTER_H
#define AT_CLI_FILTER_H

#include <stddef.h>

struct plan;
struct set_args;

/* The seccomp filter ARGS asks for (--deny/--errno/--default-action, or
 * --bpf FILE) into PLAN's seccomp program; -EINVAL with ERR on bad
 * input. */
int seccomp_compile(const struct set_args *args, struct plan *plan, char *err,
		    size_t errsize);

#endif /* AT_CLI_FILTER_H */
