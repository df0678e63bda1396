/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * execute.h - the executor and router: a plan run on every thread of its
 * target.
 */
#ifndef AT_CLI_EXECUTE_H
#define AT_CLI_EXECUTE_H

#include <stdbool.h>

struct opts;
struct outcome;
struct plan;

/* Can PLAN, a read, be answered from /proc?  The status field, or NULL. */
const char *proc_answer(const struct plan *plan);
/* Does PLAN on another process run steps there, or does /proc answer? */
bool execute_needs_helper(const struct plan *plan);
/* ROUTE's name, for messages and -n. */
const char *execute_route_name(int route);

/* Run PLAN on OUT's target (or read it from /proc) into OUT's rows, with
 * the seccomp filter after the steps, and keep only -t's thread: 0, or an
 * exit code after saying why. */
int execute_plan(const struct opts *o, const struct plan *plan,
		 struct outcome *out);

#endif /* AT_CLI_EXECUTE_H */
