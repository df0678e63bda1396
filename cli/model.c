// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * model.c - the recipe compiler's model of a thread's credentials: each
 * step applied as the kernel applies it (its capability checks, and the
 * fixups a uid change makes to the capability sets).
 */
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "model.h"
#include "names.h"

/* The capabilities setfsuid(2) moves with the fsuid. */
#define FS_CAPS                                                                \
	((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) |                    \
	 (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) |                \
	 (1ULL << CAP_FSETID) | (1ULL << CAP_LINUX_IMMUTABLE) |                \
	 (1ULL << CAP_MAC_OVERRIDE) | (1ULL << CAP_MKNOD))

bool model_has(const struct model *m, int cap)
{
	return m->cap[CAP_EFF] & (1ULL << cap);
}

/* Is ID one of THREE (setresuid without CAP_SETUID)? */
static bool is_one_of(long id, const long *three)
{
	return id == -1 || id == three[0] || id == three[1] || id == three[2];
}

/* The kernel's cap_emulate_setxuid() and setfsuid fixups. */
static void uid_fixup(struct model *m, const long old[4])
{
	bool was_root = old[0] == 0 || old[1] == 0 || old[2] == 0;
	bool is_root = m->uid[0] == 0 || m->uid[1] == 0 || m->uid[2] == 0;

	if (m->secbits & SECBIT_NO_SETUID_FIXUP)
		return;
	if (was_root && !is_root) {
		if (!(m->secbits & SECBIT_KEEP_CAPS)) {
			m->cap[CAP_PRM] = 0;
			m->cap[CAP_EFF] = 0;
		}
		m->cap[CAP_AMB] = 0;
	}
	if (old[1] == 0 && m->uid[1] != 0)
		m->cap[CAP_EFF] = 0;
	if (old[1] != 0 && m->uid[1] == 0)
		m->cap[CAP_EFF] = m->cap[CAP_PRM];
	if (old[3] == 0 && m->uid[3] != 0)
		m->cap[CAP_EFF] &= ~FS_CAPS;
	if (old[3] != 0 && m->uid[3] == 0)
		m->cap[CAP_EFF] |= m->cap[CAP_PRM] & FS_CAPS;
}

static const char *set_ids(long *ids, const long *v, bool privileged,
			   const char *capname)
{
	if (!privileged && !(is_one_of(v[0], ids) && is_one_of(v[1], ids) &&
			     is_one_of(v[2], ids)))
		return capname;
	if (v[0] != -1)
		ids[0] = v[0];
	if (v[1] != -1)
		ids[1] = v[1];
	if (v[2] != -1)
		ids[2] = v[2];
	ids[3] = ids[1];
	return NULL;
}

/* Apply OP to M as the kernel would; NULL, or why it would fail. */
/* The uid and gid changes of OP on M. */
static const char *apply_ids(struct model *m, const struct op *op, char *buf,
			     size_t size)
{
	long old[4], v[3];
	const char *why;

	switch (op->kind) {
	case OP_SETGID:
	case OP_SETUID: {
		long *ids = op->kind == OP_SETGID ? m->gid : m->uid;
		int need = op->kind == OP_SETGID ? CAP_SETGID : CAP_SETUID;

		memcpy(old, m->uid, sizeof(old));
		if (model_has(m, need)) {
			ids[0] = ids[1] = ids[2] = ids[3] = op->v[0];
		} else if (op->v[0] == ids[0] || op->v[0] == ids[2]) {
			ids[1] = ids[3] = op->v[0];
		} else {
			snprintf(buf, size,
				 "needs %s in CapEff (or %ld as the real or "
				 "saved id)",
				 need == CAP_SETGID ? "CAP_SETGID" :
						      "CAP_SETUID",
				 op->v[0]);
			return buf;
		}
		if (op->kind == OP_SETUID)
			uid_fixup(m, old);
		return NULL;
	}
	case OP_SETRESGID:
		memcpy(v, op->v, sizeof(v));
		return set_ids(m->gid, v, model_has(m, CAP_SETGID),
			       "needs CAP_SETGID in CapEff (or ids among the "
			       "current real, effective and saved)");
	case OP_SETRESUID:
		memcpy(old, m->uid, sizeof(old));
		memcpy(v, op->v, sizeof(v));
		why = set_ids(m->uid, v, model_has(m, CAP_SETUID),
			      "needs CAP_SETUID in CapEff (or ids among the "
			      "current real, effective and saved)");
		if (!why)
			uid_fixup(m, old);
		return why;
	case OP_SETFSUID:
	case OP_SETFSGID: {
		long *ids = op->kind == OP_SETFSGID ? m->gid : m->uid;
		int need = op->kind == OP_SETFSGID ? CAP_SETGID : CAP_SETUID;

		memcpy(old, m->uid, sizeof(old));
		if (!model_has(m, need) && op->v[0] != ids[0] &&
		    op->v[0] != ids[1] && op->v[0] != ids[2] &&
		    op->v[0] != ids[3])
			return need == CAP_SETGID ?
				       "needs CAP_SETGID in CapEff (the "
				       "kernel would silently keep the "
				       "fsgid)" :
				       "needs CAP_SETUID in CapEff (the "
				       "kernel would silently keep the "
				       "fsuid)";
		ids[3] = op->v[0];
		if (op->kind == OP_SETFSUID)
			uid_fixup(m, old);
		return NULL;
	}
	default:
		return NULL;
	}
}

/* The capability set changes of OP on M. */
static const char *apply_caps(struct model *m, const struct op *op)
{
	switch (op->kind) {
	case OP_CAPSET:
		if (op->caps[1] & ~m->cap[CAP_PRM])
			return "would raise the permitted set (it only "
			       "shrinks)";
		if (op->caps[2] & ~op->caps[1])
			return "effective would not be a subset of permitted";
		if (!model_has(m, CAP_SETPCAP) &&
		    op->caps[0] & ~(m->cap[CAP_INH] | m->cap[CAP_PRM]))
			return "inheritable beyond inheritable + permitted "
			       "needs CAP_SETPCAP";
		if (op->caps[0] & ~(m->cap[CAP_INH] | m->cap[CAP_BND]))
			return "inheritable beyond the bounding set";
		m->cap[CAP_INH] = op->caps[0];
		m->cap[CAP_PRM] = op->caps[1];
		m->cap[CAP_EFF] = op->caps[2];
		m->cap[CAP_AMB] &= op->caps[0] & op->caps[1];
		return NULL;
	case OP_AMB_CLEAR:
		m->cap[CAP_AMB] = 0;
		return NULL;
	case OP_AMB_LOWER:
		m->cap[CAP_AMB] &= ~(1ULL << op->v[0]);
		return NULL;
	case OP_AMB_RAISE:
		if (m->secbits & SECBIT_NO_CAP_AMBIENT_RAISE)
			return "securebit no_cap_ambient_raise is set";
		if (!(m->cap[CAP_PRM] & m->cap[CAP_INH] & (1ULL << op->v[0])))
			return "an ambient capability must be in the "
			       "permitted and inheritable sets";
		m->cap[CAP_AMB] |= 1ULL << op->v[0];
		return NULL;
	default:
		return NULL;
	}
}

const char *model_apply(struct model *m, const struct op *op, char *buf,
			size_t size)
{
	int cap;

	switch (op->kind) {
	case OP_SECBITS:
		if (!model_has(m, CAP_SETPCAP))
			return "needs CAP_SETPCAP in CapEff";
		for (cap = 0; cap < NR_SECBITS; cap += 2) {
			long both = 3L << cap;

			if (m->secbits & (2L << cap) &&
			    (m->secbits & both) != (op->v[0] & both))
				return "a locked securebit would change";
		}
		m->secbits = op->v[0];
		return NULL;
	case OP_KEEPCAPS:
		if (m->secbits & SECBIT_KEEP_CAPS_LOCKED)
			return "keep_caps is locked (securebits)";
		if (op->v[0])
			m->secbits |= SECBIT_KEEP_CAPS;
		else
			m->secbits &= ~SECBIT_KEEP_CAPS;
		return NULL;
	case OP_BND_DROP:
		if (!model_has(m, CAP_SETPCAP))
			return "needs CAP_SETPCAP in CapEff";
		m->cap[CAP_BND] &= ~(1ULL << op->v[0]);
		return NULL;
	case OP_GROUPS:
		return model_has(m, CAP_SETGID) ? NULL :
						  "needs CAP_SETGID in CapEff";
	case OP_SETGID:
	case OP_SETUID:
	case OP_SETRESGID:
	case OP_SETRESUID:
	case OP_SETFSUID:
	case OP_SETFSGID:
		return apply_ids(m, op, buf, size);
	case OP_CAPSET:
	case OP_AMB_CLEAR:
	case OP_AMB_LOWER:
	case OP_AMB_RAISE:
		return apply_caps(m, op);
	case OP_DUMPABLE:
		return NULL;
	case OP_NNP:
		m->nnp = 1;
		return NULL;
	case OP_SECCOMP:
		if (!m->nnp && !model_has(m, CAP_SYS_ADMIN))
			return "needs NO_NEW_PRIVS or CAP_SYS_ADMIN";
		return NULL;
	}
	return NULL;
}

void model_from(struct model *m, const struct tstatus *t, long secbits)
{
	memset(m, 0, sizeof(*m));
	m->tid = t->tid;
	memcpy(m->uid, t->uid, sizeof(m->uid));
	memcpy(m->gid, t->gid, sizeof(m->gid));
	memcpy(m->cap, t->cap, sizeof(m->cap));
	m->nnp = t->nnp;
	m->secbits = secbits;
}

bool model_same(const struct model *a, const struct model *b)
{
	return !memcmp(a->uid, b->uid, sizeof(a->uid)) &&
	       !memcmp(a->gid, b->gid, sizeof(a->gid)) &&
	       !memcmp(a->cap, b->cap, sizeof(a->cap)) &&
	       a->secbits == b->secbits && a->nnp == b->nnp;
}

/* The securebits of the target now: ours when the target is allthreads
 * itself; unknown (0 assumed) for another process. */
long model_secbits(const struct target *tgt, bool *known)
{
	long v;

	*known = tgt->self;
	if (!tgt->self)
		return 0;
	v = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	return v < 0 ? 0 : v;
}

/* Run every op on every thread's model: the first step that would fail,
 * in words, into plan->predict. */
void model_predict(struct plan *plan, const struct snapshot *snap,
		   const struct op *ops, long secbits)
{
	char why[160];
	unsigned i, s;

	for (i = 0; i < snap->n; i++) {
		struct model m;

		model_from(&m, &snap->t[i], secbits);
		for (s = 0; s < plan->nsteps; s++) {
			const char *w =
				model_apply(&m, &ops[s], why, sizeof(why));

			if (!w)
				continue;
			snprintf(plan->predict, sizeof(plan->predict),
				 "step %u, %s, would fail on tid %d: %s", s + 1,
				 plan->steps[s].call, m.tid, w);
			return;
		}
		if (plan->seccomp_prog && !m.nnp &&
		    !model_has(&m, CAP_SYS_ADMIN)) {
			snprintf(plan->predict, sizeof(plan->predict),
				 "seccomp would fail on tid %d: needs "
				 "NO_NEW_PRIVS or CAP_SYS_ADMIN",
				 m.tid);
			return;
		}
	}
}
