/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dryrun.h - --dry-run: the plan printed, with the route it would take.
 */
#ifndef AT_CLI_DRYRUN_H
#define AT_CLI_DRYRUN_H

#include <stddef.h>

struct opts;
struct outcome;
struct plan;
struct target;

/* Note PLAN's prediction and the route it would take to TGT (WHY says why
 * there is none): the route, 0 when none is needed, or -errno. */
int dryrun_route(const struct opts *o, struct plan *plan,
		 const struct target *tgt, char *why, size_t size);
/* Print PLAN (words or JSON, in OUT) and what the real run would meet
 * first; the exit code the run is predicted to end with. */
int dryrun_report(const struct opts *o, const struct plan *plan,
		  struct outcome *out, int route, const char *why);

#endif /* AT_CLI_DRYRUN_H */
