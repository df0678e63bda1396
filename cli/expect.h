/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * expect.h - the expectation engine: check's and audit's --expect
 * KEY=VALUE, parsed once, then judged against any thread's /proc status.
 */
#ifndef AT_CLI_EXPECT_H
#define AT_CLI_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include "attrs.h"
#include "ids.h"
#include "procfs.h"

/* One expectation, parsed. */
struct expectation {
	const char *text; /* as written */
	enum attr attr;
	int sub; /* Uid/Gid: 0..3 for one of r, e, s, fs; -1 all four */
	long ids[4];
	unsigned long long mask;
	long num;
	unsigned *groups; /* owned: free() it */
	unsigned ngroups;
	const char *str;
};

/* Parse TEXT (names resolved through V) into E: 0, or EXIT_USAGE after
 * saying why. */
int expect_parse(struct idview *v, const char *text, struct expectation *e);
bool expect_holds(const struct expectation *e, const struct tstatus *t);
/* False when T shows E; else true, with "KEY is X, expected Y" in BUF. */
bool expect_mismatch(const struct expectation *e, const struct tstatus *t,
		     char *buf, size_t size);
/* Which attributes the threads of SNAP do not all show alike (TID and
 * THREADS never). */
void expect_differ(const struct snapshot *snap, bool differ[NR_ATTRS]);

#endif /* AT_CLI_EXPECT_H */
