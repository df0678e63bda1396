/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run.h - carry_out(), the pipeline a compiled plan goes through.
 */
#ifndef AT_CLI_RUN_H
#define AT_CLI_RUN_H

struct opts;
struct plan;
struct target;

/* Run PLAN on TARGET (or print it under -n), verify, report, and exec
 * PROGRAM; returns the exit code. */
int carry_out(const struct opts *o, struct plan *plan,
	      const struct target *tgt);

#endif /* AT_CLI_RUN_H */
