/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * group.h - a command carried out on a group of processes (several -p
 * PIDs, --cgroup, --unit): one verdict and one exit status for them all
 * (group.c).
 */
#ifndef AT_CLI_GROUP_H
#define AT_CLI_GROUP_H

#include <stdbool.h>

struct opts;
struct plan;
struct target;

/* A command as main()'s table holds it: COMPILE fills a plan (an exit
 * code, or -1 when the plan is ready for carry_out()), or RUN runs itself
 * on one target (its exit code).  CHANGES: the command may change. */
struct group_cmd {
	int (*compile)(const struct opts *o, struct plan *plan,
		       const struct target *tgt);
	int (*run)(const struct opts *o, const struct target *tgt);
	bool changes;
};

/* Does O name a group (more than one process, --cgroup, --unit)? */
bool group_named(const struct opts *o);

/* CMD on every process of O's group, each through its
 * own route: the prediction first (a change some process is predicted to
 * fail is refused everywhere, exit 1, unless --force), then every
 * process, then, for --cgroup and --unit, the group listed again until a
 * pass finds no process left unchanged (bounded by --timeout and a pass
 * count).  The
 * group's exit code (doc/design.md): 2 when some processes changed and
 * others did not. */
int group_carry_out(const struct opts *o, const struct group_cmd *cmd);

#endif /* AT_CLI_GROUP_H */
