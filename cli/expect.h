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

/* How a thread's attribute must stand to the expectation. */
enum expect_how {
	EXPECT_EQUALS,	   /* it is the value (Uid/Gid: each id not -1) */
	EXPECT_BIT_SET,	   /* a capability set holds capability `num` */
	EXPECT_BIT_CLEAR,  /* it lacks capability `num` */
	EXPECT_MASK_SET,   /* it holds every capability of `mask` */
	EXPECT_MASK_CLEAR, /* it holds none of them */
};

/* One expectation: check's and audit's --expect, parsed, or what a plan
 * says /proc must show after its change. */
struct expectation {
	const char *text; /* as written (a plan's: the key) */
	enum attr attr;
	enum expect_how how;
	int sub; /* Uid/Gid: 0..3 for one of r, e, s, fs; -1 all four */
	long ids[4];
	unsigned long long mask; /* a capability set */
	long num;		 /* a number, or a capability */
	unsigned *groups; /* --expect's are owned (free() them); a plan's are
			   * the plan's */
	unsigned ngroups;
	const char *str;
};

/* Parse TEXT (names resolved through V) into E: 0, or EXIT_USAGE after
 * saying why. */
int expect_parse(struct idview *v, const char *text, struct expectation *e);
/* Does T show what E expects? */
bool expect_holds(const struct expectation *e, const struct tstatus *t);
/* The capability set of ATTR, one of ATTR_CAPEFF..ATTR_CAPAMB. */
enum capset_index expect_capset(enum attr attr);
/* False when T shows E; else true, with "KEY is X, expected Y" in BUF. */
bool expect_mismatch(const struct expectation *e, const struct tstatus *t,
		     char *buf, size_t size);
/* Is E about credentials an io_uring personality holds (Uid, Gid,
 * Groups, the capability sets)? */
bool expect_credential(const struct expectation *e);
/* False when every personality of ring R shows what E expects (or E is
 * no credential); else true, with why in BUF: a personality that fails,
 * or personalities this kernel does not list. */
bool expect_ring_mismatch(const struct expectation *e, const struct uring *r,
			  char *buf, size_t size);
/* Which attributes the threads of SNAP do not all show alike (TID and
 * THREADS never). */
void expect_differ(const struct snapshot *snap, bool differ[NR_ATTRS]);

#endif /* AT_CLI_EXPECT_H */
