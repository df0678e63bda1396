/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.h - one thread's credentials as the recipe compiler tracks them,
 * and a step applied to them the way the kernel applies it (model.c), so
 * that --dry-run can say which step would fail on which thread.
 */
#ifndef AT_CLI_MODEL_H
#define AT_CLI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"
#include "procfs.h"
#include "target.h"

/* One thread's credentials, as the compiler tracks them. */
struct model {
	pid_t tid;
	long uid[4], gid[4];
	unsigned long long cap[NR_CAPSETS];
	long secbits;
	int nnp;
};

enum op_kind {
	OP_SECBITS,
	OP_KEEPCAPS,
	OP_BND_DROP,
	OP_GROUPS,
	OP_SETGID,
	OP_SETRESGID,
	OP_SETUID,
	OP_SETRESUID,
	OP_SETFSUID,
	OP_SETFSGID,
	OP_CAPSET,
	OP_AMB_CLEAR,
	OP_AMB_LOWER,
	OP_AMB_RAISE,
	OP_DUMPABLE,
	OP_NNP,
	OP_SECCOMP, /* through a helper: each thread installs the filter */
};

/* What a step does, for the model. */
struct op {
	enum op_kind kind;
	long v[3];
	unsigned long long caps[3]; /* OP_CAPSET: inh, prm, eff */
};

/* Is CAP in M's effective set? */
bool model_has(const struct model *m, int cap);
/* Apply OP to M as the kernel would; NULL, or why it would fail (in BUF
 * when the reason needs words of its own). */
const char *model_apply(struct model *m, const struct op *op, char *buf,
			size_t size);
/* M from a thread's /proc status T, with SECBITS (not in /proc). */
void model_from(struct model *m, const struct tstatus *t, long secbits);
/* Do A and B hold the same credentials? */
bool model_same(const struct model *a, const struct model *b);
/* The securebits of TGT now (*KNOWN): ours when it is allthreads itself;
 * for another process not in /proc, so 0 is assumed. */
long model_secbits(const struct target *tgt, bool *known);
/* Run the OPS of PLAN (one a step) on the model of every thread of SNAP: the
 * first step that would fail, in words, into plan->predict. */
void model_predict(struct plan *plan, const struct snapshot *snap,
		   const struct op *ops, long secbits);

#endif /* AT_CLI_MODEL_H */
