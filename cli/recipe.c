// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * recipe.c - compile set's options (and setuid, caps, drop, seccomp...,
 * which are each one of them) into ONE step program, in a fixed order that
 * works:
 *
 *   1. securebits           (needs CAP_SETPCAP; before the uid change)
 *   2. keep-caps            (so a uid change keeps the permitted set)
 *   3. bounding-set drops   (need CAP_SETPCAP, still effective here)
 *   4. supplementary groups (need CAP_SETGID)
 *   5. gids                 (need CAP_SETGID)
 *   6. uids                 (need CAP_SETUID; the kernel may clear caps)
 *   7. fsuid, fsgid
 *   8. capset: inheritable, permitted, effective
 *   9. ambient              (after capset: a raise needs P and I)
 *  10. dumpable             (process-wide)
 *  11. no_new_privs
 *  12. seccomp              (last, once, with TSYNC: every thread)
 *
 * The compiler models the credentials of every thread of the target (from
 * /proc) through the steps, the way the kernel applies them, so --dry-run
 * can say which step would fail where, and verification knows what each
 * thread's /proc status must show afterwards.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "filter.h"
#include "ids.h"
#include "names.h"
#include "plan.h"
#include "prctl.h"
#include "procfs.h"
#include "recipe.h"
#include "target.h"
#include "usage.h"

/* The capabilities setfsuid(2) moves with the fsuid. */
#define FS_CAPS                                                                \
	((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) |                    \
	 (1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) |                \
	 (1ULL << CAP_FSETID) | (1ULL << CAP_LINUX_IMMUTABLE) |                \
	 (1ULL << CAP_MAC_OVERRIDE) | (1ULL << CAP_MKNOD))

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

/* The compiler's state: the parsed request and the ops emitted. */
struct recipe {
	const struct set_args *a;
	struct plan *plan;
	struct idview view;
	struct snapshot snap;
	struct model leader; /* the model the step values come from */
	long secbits0;	     /* the target's securebits before any step */
	struct op ops[PLAN_MAX_STEPS];
	char *err;
	size_t errsize;
};

static bool has(const struct model *m, int cap)
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
static const char *model_op(struct model *m, const struct op *op, char *buf,
			    size_t size)
{
	long old[4], v[3];
	const char *why;
	int cap;

	switch (op->kind) {
	case OP_SECBITS:
		if (!has(m, CAP_SETPCAP))
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
		if (!has(m, CAP_SETPCAP))
			return "needs CAP_SETPCAP in CapEff";
		m->cap[CAP_BND] &= ~(1ULL << op->v[0]);
		return NULL;
	case OP_GROUPS:
		return has(m, CAP_SETGID) ? NULL : "needs CAP_SETGID in CapEff";
	case OP_SETGID:
	case OP_SETUID: {
		long *ids = op->kind == OP_SETGID ? m->gid : m->uid;
		int need = op->kind == OP_SETGID ? CAP_SETGID : CAP_SETUID;

		memcpy(old, m->uid, sizeof(old));
		if (has(m, need)) {
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
		return set_ids(m->gid, v, has(m, CAP_SETGID),
			       "needs CAP_SETGID in CapEff (or ids among the "
			       "current real, effective and saved)");
	case OP_SETRESUID:
		memcpy(old, m->uid, sizeof(old));
		memcpy(v, op->v, sizeof(v));
		why = set_ids(m->uid, v, has(m, CAP_SETUID),
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
		if (!has(m, need) && op->v[0] != ids[0] && op->v[0] != ids[1] &&
		    op->v[0] != ids[2] && op->v[0] != ids[3])
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
	case OP_CAPSET:
		if (op->caps[1] & ~m->cap[CAP_PRM])
			return "would raise the permitted set (it only "
			       "shrinks)";
		if (op->caps[2] & ~op->caps[1])
			return "effective would not be a subset of permitted";
		if (!has(m, CAP_SETPCAP) &&
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
	case OP_DUMPABLE:
		return NULL;
	case OP_NNP:
		m->nnp = 1;
		return NULL;
	case OP_SECCOMP:
		if (!m->nnp && !has(m, CAP_SYS_ADMIN))
			return "needs NO_NEW_PRIVS or CAP_SYS_ADMIN";
		return NULL;
	}
	return NULL;
}

static void model_from(struct model *m, const struct tstatus *t, long secbits)
{
	memset(m, 0, sizeof(*m));
	m->tid = t->tid;
	memcpy(m->uid, t->uid, sizeof(m->uid));
	memcpy(m->gid, t->gid, sizeof(m->gid));
	memcpy(m->cap, t->cap, sizeof(m->cap));
	m->nnp = t->nnp;
	m->secbits = secbits;
}

#define fail(r, ...) (snprintf((r)->err, (r)->errsize, __VA_ARGS__), -EINVAL)

/* Append a step with its op, and apply the op to the leader's model. */
static struct step *emit(struct recipe *r, const struct op *op, long nr,
			 unsigned nargs, const long *args,
			 enum allthreads_judge judge, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static struct step *emit(struct recipe *r, const struct op *op, long nr,
			 unsigned nargs, const long *args,
			 enum allthreads_judge judge, const char *fmt, ...)
{
	struct step *st;
	char why[160];
	va_list ap;

	st = plan_add(r->plan, ROLE_CHANGE, nr, nargs, args, judge);
	if (!st)
		return NULL;
	r->ops[r->plan->nsteps - 1] = *op;
	va_start(ap, fmt);
	vsnprintf(st->call, sizeof(st->call), fmt, ap);
	va_end(ap);
	model_op(&r->leader, op, why, sizeof(why));
	return st;
}

static struct step *emit_prctl(struct recipe *r, const struct op *op, long a1,
			       long a2, long a3, const char *call)
{
	long args[PRCTL_NARGS];

	prctl_args(args, a1, a2, a3);
	return emit(r, op, SYS_prctl, PRCTL_NARGS, args, ALLTHREADS_JUDGE_EQUAL,
		    "%s", call);
}

/* Undo by the GET prctl of SET_OP before, and SET_OP with the saved
 * value. */
static void undo_prctl(struct step *st, int set_op)
{
	prctl_undo_by_get(st, prctl_by_op(set_op));
}

static int too_many(struct recipe *r)
{
	return fail(r, "%s: more than %d steps", r->plan->command,
		    PLAN_MAX_STEPS);
}

/* --- parsing the request ---------------------------------------------- */

struct ids_req {
	bool set;    /* any change */
	bool single; /* setuid(2)/setgid(2) */
	long v[3];   /* R E S, -1 unchanged */
};

static int parse_one_id(struct recipe *r, const char *what, const char *s,
			bool is_gid, bool allow_keep, long *out)
{
	int e;

	if (allow_keep && (strcmp(s, "-") == 0 || strcmp(s, "keep") == 0)) {
		*out = -1;
		return 0;
	}
	e = is_gid ? resolve_gid(&r->view, s, allow_keep, out) :
		     resolve_uid(&r->view, s, allow_keep, out);
	if (e == -ERANGE)
		return fail(r, "%s: %s: out of range (0..4294967294)", what, s);
	if (e)
		return fail(r, "%s: %s: no such %s%s%s", what, s,
			    is_gid ? "group" : "user",
			    r->view.foreign ? " in the target's " : "",
			    r->view.foreign ?
				    (is_gid ? "/etc/group" : "/etc/passwd") :
				    "");
	return 0;
}

static int parse_ids(struct recipe *r, bool is_gid, struct ids_req *req)
{
	const struct set_args *a = r->a;
	const char *single = is_gid ? a->setgid : a->setuid;
	const char *const *res = is_gid ? a->resgid : a->resuid;
	const char *re = is_gid ? a->regid : a->reuid;
	const char *real = is_gid ? a->rgid : a->ruid;
	const char *eff = is_gid ? a->egid : a->euid;
	const char *kind = is_gid ? "gid" : "uid";
	int e, i;

	memset(req, 0, sizeof(*req));
	req->v[0] = req->v[1] = req->v[2] = -1;
	if (re && (real || eff))
		return fail(r,
			    "--re%s with --r%s or --e%s: contradictory "
			    "(--re%s sets both)",
			    kind, kind, kind, kind);
	if (single) {
		req->set = req->single = true;
		return parse_one_id(r, is_gid ? "setgid" : "setuid", single,
				    is_gid, false, &req->v[0]);
	}
	if (res[0]) {
		req->set = true;
		for (i = 0; i < 3; i++) {
			e = parse_one_id(r, is_gid ? "setresgid" : "setresuid",
					 res[i], is_gid, true, &req->v[i]);
			if (e)
				return e;
		}
		return 0;
	}
	if (re) {
		long id;

		e = parse_one_id(r, is_gid ? "--regid" : "--reuid", re, is_gid,
				 false, &id);
		if (e)
			return e;
		/* Real, effective and saved: nothing to go back to. */
		req->v[0] = req->v[1] = req->v[2] = id;
		req->set = true;
	}
	if (real) {
		e = parse_one_id(r, is_gid ? "--rgid" : "--ruid", real, is_gid,
				 false, &req->v[0]);
		if (e)
			return e;
		req->set = true;
	}
	if (eff) {
		e = parse_one_id(r, is_gid ? "--egid" : "--euid", eff, is_gid,
				 false, &req->v[1]);
		if (e)
			return e;
		req->set = true;
	}
	return 0;
}

static int bad_cap_word(struct recipe *r, const char *what, const char *word,
			int e)
{
	char near[256];

	if (e == -ERANGE)
		return fail(r,
			    "%s: %s: out of range (0..%d, from "
			    "/proc/sys/kernel/cap_last_cap)",
			    what, word, last_cap());
	if (e == -EDOM)
		return fail(r,
			    "%s: %s: each entry needs + or - (e.g. "
			    "-all,+net_bind_service)",
			    what, word);
	suggest_cap(word[0] == '+' || word[0] == '-' ? word + 1 : word, near,
		    sizeof(near));
	return fail(r, "%s: %s: unknown capability (nearest: %s)", what, word,
		    near);
}

static int parse_edit(struct recipe *r, const char *what, const char *s,
		      struct cap_edit *edit)
{
	char bad[64] = "";
	int e = parse_cap_edits(s, edit, bad, sizeof(bad));

	return e ? bad_cap_word(r, what, bad, e) : 0;
}

/* libcap text into three masks; on failure, find the word libcap did not
 * like and suggest names. */
static int parse_caps_text(struct recipe *r, const char *text,
			   unsigned long long masks[3])
{
	static const cap_flag_t flags[3] = { CAP_INHERITABLE, CAP_PERMITTED,
					     CAP_EFFECTIVE };
	cap_flag_value_t v;
	char word[64];
	const char *p;
	cap_t caps;
	int i, cap, last = last_cap();

	caps = cap_from_text(text);
	if (!caps) {
		/* Clauses "names OP flags [OP flags]...": check each name, and
		 * that only e, i, p follow an operator. */
		for (p = text; *p;) {
			size_t len = strcspn(p, " \t,=+-");

			snprintf(word, sizeof(word), "%.*s", (int)len, p);
			p += len;
			if (len && strcasecmp(word, "all") &&
			    parse_cap(word, &cap))
				return bad_cap_word(r, "caps", word,
						    parse_cap(word, &cap));
			if (*p == ',' || *p == ' ' || *p == '\t') {
				p++;
				continue;
			}
			while (*p && strchr("=+-", *p)) {
				p++;
				len = strspn(p, "eipEIP");
				p += len;
				if (*p && !strchr("=+- \t", *p))
					goto not_text;
			}
		}
	not_text:
		return fail(r,
			    "caps: %s: not libcap text (e.g. "
			    "\"cap_net_bind_service=eip\", or \"=\" for none; "
			    "see cap_from_text(3))",
			    text);
	}
	for (i = 0; i < 3; i++) {
		masks[i] = 0;
		for (cap = 0; cap <= last; cap++)
			if (cap_get_flag(caps, cap, flags[i], &v) == 0 && v)
				masks[i] |= 1ULL << cap;
	}
	cap_free(caps);
	return 0;
}

static int parse_01(struct recipe *r, const char *what, const char *s, long *v)
{
	if (parse_long(s, v) || (*v != 0 && *v != 1))
		return fail(r, "%s: %s: not 0 or 1", what, s);
	return 0;
}

/* setpriv's securebits: +name,-name edits of the current value, or an
 * absolute mask or list of names. */
static int parse_securebits(struct recipe *r, const char *s, long current,
			    bool known, long *out)
{
	char word[64];
	const char *p = s;
	long m = current, bit;

	if (*s != '+' && *s != '-') {
		if (parse_secbits(s, out))
			return fail(r,
				    "--securebits: %s: not a mask or "
				    "securebit names (e.g. noroot,"
				    "keep_caps_locked)",
				    s);
		return 0;
	}
	if (!known)
		return fail(r,
			    "--securebits: %s: +/- edits start from the "
			    "current securebits, which /proc does not "
			    "show for another process; give the whole "
			    "mask (e.g. noroot,noroot_locked)",
			    s);
	while (*p) {
		size_t len = strcspn(p, ",");

		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if ((word[0] != '+' && word[0] != '-') ||
		    parse_secbits(word + 1, &bit))
			return fail(r,
				    "--securebits: %s: not +name or -name "
				    "(names: see allthreads list "
				    "securebits)",
				    word);
		if (word[0] == '+')
			m |= bit;
		else
			m &= ~bit;
	}
	*out = m;
	return 0;
}

/* --- emitting the steps --------------------------------------------- */

static bool same_model(const struct model *a, const struct model *b)
{
	return !memcmp(a->uid, b->uid, sizeof(a->uid)) &&
	       !memcmp(a->gid, b->gid, sizeof(a->gid)) &&
	       !memcmp(a->cap, b->cap, sizeof(a->cap)) &&
	       a->secbits == b->secbits && a->nnp == b->nnp;
}

/*
 * Give the setresuid/setresgid step just emitted (ST) a way back, when
 * there is one: setresuid(R, E, S) of the ids every thread had before.
 * That holds when every thread had the same ids (the undo's arguments are
 * those, the same on every thread) and, on each thread's model, the undo
 * is allowed after the step (the old ids are among the new ones, or the
 * capability is still effective: setresuid 0 1000 0 keeps 0) and brings
 * back exactly the credentials before the step (the kernel's capability
 * fixups included).  A thread on which the step itself would fail changes
 * nothing and needs no undo.  The model looks at the steps up to this one:
 * a later one-way step that takes the capability away makes the undo fail
 * on the thread, and the run says so (exit 2, the step left in force).
 */
static void undo_ids(struct recipe *r, struct step *st, bool is_gid)
{
	unsigned s = r->plan->nsteps - 1, i, k;
	const struct op *op = &r->ops[s];
	struct op back = { .kind = op->kind };
	const long *ids0;
	char why[160];

	if (!r->snap.n)
		return;
	ids0 = is_gid ? r->snap.t[0].gid : r->snap.t[0].uid;
	memcpy(back.v, ids0, sizeof(back.v));
	for (i = 0; i < r->snap.n; i++) {
		const struct tstatus *t = &r->snap.t[i];
		struct model m, before;

		if (memcmp(is_gid ? t->gid : t->uid, ids0, 4 * sizeof(long)))
			return;
		model_from(&m, t, r->secbits0);
		for (k = 0; k < s; k++)
			model_op(&m, &r->ops[k], why, sizeof(why));
		before = m;
		if (model_op(&m, op, why, sizeof(why)))
			continue;
		if (model_op(&m, &back, why, sizeof(why)) ||
		    !same_model(&m, &before))
			return;
	}
	st->has_undo = true;
	st->save_nr = -1;
	memset(st->save_args, 0, sizeof(st->save_args));
	st->undo_nr = is_gid ? SYS_setresgid : SYS_setresuid;
	memset(st->undo_args, 0, sizeof(st->undo_args));
	memcpy(st->undo_args, back.v, sizeof(back.v));
	snprintf(st->undo, sizeof(st->undo), "%s(%ld, %ld, %ld)",
		 is_gid ? "setresgid" : "setresuid", back.v[0], back.v[1],
		 back.v[2]);
}

static int emit_ids(struct recipe *r, const struct ids_req *req, bool is_gid)
{
	struct op op = { .kind = is_gid ? OP_SETGID : OP_SETUID };
	struct expectation *e;
	struct step *st;
	long args[3];

	if (!req->set)
		return 0;
	if (req->single) {
		op.v[0] = req->v[0];
		args[0] = req->v[0];
		st = emit(r, &op, is_gid ? SYS_setgid : SYS_setuid, 1, args,
			  ALLTHREADS_JUDGE_EQUAL, "%s(%ld)",
			  is_gid ? "setgid" : "setuid", req->v[0]);
		if (!st)
			return too_many(r);
		e = plan_expect(r->plan, is_gid ? "Gid" : "Uid", EXPECT_EQUALS,
				0);
		if (e) {
			e->ids[0] = e->ids[2] = -1;
			e->ids[1] = e->ids[3] = req->v[0];
		}
		return 0;
	}
	op.kind = is_gid ? OP_SETRESGID : OP_SETRESUID;
	memcpy(op.v, req->v, sizeof(op.v));
	memcpy(args, req->v, sizeof(args));
	st = emit(r, &op, is_gid ? SYS_setresgid : SYS_setresuid, 3, args,
		  ALLTHREADS_JUDGE_EQUAL, "%s(%ld, %ld, %ld)",
		  is_gid ? "setresgid" : "setresuid", req->v[0], req->v[1],
		  req->v[2]);
	if (!st)
		return too_many(r);
	undo_ids(r, st, is_gid);
	e = plan_expect(r->plan, is_gid ? "Gid" : "Uid", EXPECT_EQUALS, 0);
	if (e) {
		memcpy(e->ids, req->v, sizeof(req->v));
		e->ids[3] = req->v[1];
	}
	return 0;
}

static int emit_fs(struct recipe *r, const char *s, bool is_gid)
{
	struct op op = { .kind = is_gid ? OP_SETFSGID : OP_SETFSUID };
	struct expectation *e;
	struct step *st;
	long id, args[1], save[ALLTHREADS_MAX_ARGS] = { -1 };
	long undo[ALLTHREADS_MAX_ARGS] = { ALLTHREADS_SAVED };
	long nr = is_gid ? SYS_setfsgid : SYS_setfsuid;
	int err;

	if (!s)
		return 0;
	err = parse_one_id(r, is_gid ? "setfsgid" : "setfsuid", s, is_gid,
			   false, &id);
	if (err)
		return err;
	op.v[0] = id;
	args[0] = id;
	/* They return the previous fsuid, which differs per thread. */
	st = emit(r, &op, nr, 1, args, ALLTHREADS_JUDGE_SUCCESS, "%s(%ld)",
		  is_gid ? "setfsgid" : "setfsuid", id);
	if (!st)
		return too_many(r);
	st->has_undo = true;
	st->save_nr = nr;
	memcpy(st->save_args, save, sizeof(save));
	st->undo_nr = nr;
	memcpy(st->undo_args, undo, sizeof(undo));
	snprintf(st->undo, sizeof(st->undo), "%s(saved %s(-1))",
		 is_gid ? "setfsgid" : "setfsuid",
		 is_gid ? "setfsgid" : "setfsuid");
	/* A refused setfsuid says nothing: /proc is the proof. */
	e = plan_expect(r->plan, is_gid ? "Gid" : "Uid", EXPECT_EQUALS, 0);
	if (e) {
		e->ids[0] = e->ids[1] = e->ids[2] = -1;
		e->ids[3] = id;
	}
	return 0;
}

static int emit_groups(struct recipe *r, const struct ids_req *uids,
		       const struct ids_req *gids)
{
	const struct set_args *a = r->a;
	struct op op = { .kind = OP_GROUPS };
	struct expectation *e;
	char bad[256], list[256] = "";
	unsigned n = 0, i;
	unsigned *g = NULL;
	struct step *st;
	long args[2];
	int err;

	if ((a->groups != NULL) + a->clear_groups + a->init_groups +
		    a->keep_groups >
	    1)
		return fail(r, "--groups, --clear-groups, --init-groups and "
			       "--keep-groups: contradictory (choose one)");
	/* As setpriv: a new gid without a word on the supplementary groups
	 * would silently keep root's. */
	if (a->regid && !a->groups && !a->clear_groups && !a->init_groups &&
	    !a->keep_groups)
		return fail(r, "--regid requires --keep-groups, "
			       "--clear-groups, --init-groups, or --groups");
	if (a->keep_groups ||
	    (!a->groups && !a->clear_groups && !a->init_groups))
		return 0;
	if (a->groups) {
		err = resolve_groups(&r->view, a->groups, &g, &n, bad,
				     sizeof(bad));
		const char *what = strcmp(r->plan->command, "set") ?
					   r->plan->command :
					   "--groups";

		if (err == -ENOMEM)
			return fail(r, "%s: out of memory", what);
		if (err == -ERANGE)
			return fail(r, "%s: %s: out of range", what, bad);
		if (err)
			return fail(r, "%s: %s: no such group", what, bad);
	} else if (a->init_groups) {
		long uid = uids->v[0] >= 0 ? uids->v[0] : uids->v[1];
		long gid = gids->v[0] >= 0 ? gids->v[0] : gids->v[1];

		if (uid < 0)
			return fail(r, "--init-groups: needs the user: give "
				       "--reuid or --ruid");
		err = user_groups(&r->view, uid, gid, &g, &n);
		if (err)
			return fail(r, "--init-groups: uid %ld: %s", uid,
				    err == -ENOENT ? "no such user" :
						     strerror(-err));
	}
	/* The list lives in the plan: every thread reads the same memory. */
	r->plan->groups = g;
	r->plan->ngroups = n;
	for (i = 0; i < n && strlen(list) < sizeof(list) - 16; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%u", i ? "," : "", g[i]);
	if (i < n)
		strcat(list, ",...");
	args[0] = n;
	args[1] = (long)g;
	st = emit(r, &op, SYS_setgroups, 2, args, ALLTHREADS_JUDGE_EQUAL,
		  "setgroups(%u, [%s])", n, list);
	if (!st)
		return too_many(r);
	e = plan_expect(r->plan, "Groups", EXPECT_EQUALS, 0);
	if (e) {
		e->groups = g;
		e->ngroups = n;
	}
	return 0;
}

/* The union of the bounding sets of every thread: what drops can
 * remove. */
static unsigned long long bounding_union(const struct recipe *r)
{
	unsigned long long u = 0;
	unsigned i;

	for (i = 0; i < r->snap.n; i++)
		u |= r->snap.t[i].cap[CAP_BND];
	return r->snap.n ? u : all_caps_mask();
}

static int emit_bounding(struct recipe *r, unsigned long long drop)
{
	struct op op = { .kind = OP_BND_DROP };
	char name[64], call[96];
	int cap;

	for (cap = 0; cap <= last_cap(); cap++) {
		if (!(drop & (1ULL << cap)))
			continue;
		op.v[0] = cap;
		format_cap(cap, name, sizeof(name));
		snprintf(call, sizeof(call), "PR_CAPBSET_DROP(%s)", name);
		if (!emit_prctl(r, &op, PR_CAPBSET_DROP, cap, 0, call))
			return too_many(r);
	}
	if (drop)
		plan_expect(r->plan, "CapBnd", EXPECT_MASK_CLEAR, drop);
	return 0;
}

static int emit_capset(struct recipe *r, const unsigned long long sets[3])
{
	struct op op = { .kind = OP_CAPSET };
	struct __user_cap_header_struct *hdr;
	struct __user_cap_data_struct *data;
	char e[512], p[512], i[512];
	long args[2];
	int k;

	_Static_assert(sizeof(*hdr) + 2 * sizeof(*data) <=
			       sizeof(((struct plan *)0)->capset_mem),
		       "capset_mem holds a header and two data words");
	hdr = (void *)r->plan->capset_mem;
	data = (void *)(hdr + 1);
	hdr->version = _LINUX_CAPABILITY_VERSION_3;
	hdr->pid = 0; /* the calling thread: each thread sets its own */
	for (k = 0; k < 2; k++) {
		data[k].inheritable = sets[0] >> (32 * k);
		data[k].permitted = sets[1] >> (32 * k);
		data[k].effective = sets[2] >> (32 * k);
	}
	memcpy(op.caps, sets, sizeof(op.caps));
	format_capset_fold(sets[2], e, sizeof(e));
	format_capset_fold(sets[1], p, sizeof(p));
	format_capset_fold(sets[0], i, sizeof(i));
	args[0] = (long)hdr;
	args[1] = (long)data;
	/* Names when they fit in the step's text, else the masks. */
	if (strlen(e) + strlen(p) + strlen(i) + 20 >=
	    sizeof(((struct step *)0)->call)) {
		snprintf(e, sizeof(e), "0x%llx", sets[2]);
		snprintf(p, sizeof(p), "0x%llx", sets[1]);
		snprintf(i, sizeof(i), "0x%llx", sets[0]);
	}
	if (!emit(r, &op, SYS_capset, 2, args, ALLTHREADS_JUDGE_EQUAL,
		  "capset(e=%s p=%s i=%s)", e, p, i))
		return too_many(r);
	plan_expect(r->plan, "CapInh", EXPECT_EQUALS, sets[0]);
	plan_expect(r->plan, "CapPrm", EXPECT_EQUALS, sets[1]);
	plan_expect(r->plan, "CapEff", EXPECT_EQUALS, sets[2]);
	return 0;
}

/* CLEAR: the user wrote -all (one PR_CAP_AMBIENT_CLEAR_ALL), rather than
 * naming capabilities (one LOWER each). */
static int emit_ambient(struct recipe *r, const struct cap_edit *edit,
			bool clear)
{
	unsigned long long all = all_caps_mask();
	unsigned long long lower = all & ~edit->keep & ~edit->add;
	struct op op;
	char name[64], call[96];
	int cap;

	if (clear && !(edit->keep & all)) {
		op.kind = OP_AMB_CLEAR;
		if (!emit_prctl(r, &op, PR_CAP_AMBIENT,
				PR_CAP_AMBIENT_CLEAR_ALL, 0,
				"PR_CAP_AMBIENT(CLEAR_ALL)"))
			return too_many(r);
		lower = 0;
		plan_expect(r->plan, "CapAmb", EXPECT_EQUALS, edit->add);
	} else {
		if (lower)
			plan_expect(r->plan, "CapAmb", EXPECT_MASK_CLEAR,
				    lower);
		if (edit->add)
			plan_expect(r->plan, "CapAmb", EXPECT_MASK_SET,
				    edit->add);
	}
	for (cap = 0; cap <= last_cap(); cap++) {
		bool up = edit->add & (1ULL << cap);

		if (!up && !(lower & (1ULL << cap)))
			continue;
		memset(&op, 0, sizeof(op));
		op.kind = up ? OP_AMB_RAISE : OP_AMB_LOWER;
		op.v[0] = cap;
		format_cap(cap, name, sizeof(name));
		snprintf(call, sizeof(call), "PR_CAP_AMBIENT(%s, %s)",
			 up ? "RAISE" : "LOWER", name);
		if (!emit_prctl(r, &op, PR_CAP_AMBIENT,
				up ? PR_CAP_AMBIENT_RAISE :
				     PR_CAP_AMBIENT_LOWER,
				cap, call))
			return too_many(r);
	}
	return 0;
}

/* The securebits of the target now: ours when the target is allthreads
 * itself; unknown (0 assumed) for another process. */
static long current_secbits(const struct target *tgt, bool *known)
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
static void predict(struct recipe *r, long secbits)
{
	struct plan *plan = r->plan;
	char why[160];
	unsigned i, s;

	for (i = 0; i < r->snap.n; i++) {
		struct model m;

		model_from(&m, &r->snap.t[i], secbits);
		for (s = 0; s < plan->nsteps; s++) {
			const char *w =
				model_op(&m, &r->ops[s], why, sizeof(why));

			if (!w)
				continue;
			snprintf(plan->predict, sizeof(plan->predict),
				 "step %u, %s, would fail on tid %d: %s", s + 1,
				 plan->steps[s].call, m.tid, w);
			return;
		}
		if (plan->seccomp_prog && !m.nnp && !has(&m, CAP_SYS_ADMIN)) {
			snprintf(plan->predict, sizeof(plan->predict),
				 "seccomp would fail on tid %d: needs "
				 "NO_NEW_PRIVS or CAP_SYS_ADMIN",
				 m.tid);
			return;
		}
	}
}

int compile_recipe(const struct opts *o, const struct set_args *a,
		   struct plan *plan, const struct target *tgt)
{
	struct recipe *r;
	struct ids_req uids, gids;
	struct cap_edit inh = { ~0ULL, 0 }, amb = { ~0ULL, 0 },
			bnd = { ~0ULL, 0 };
	unsigned long long drop = 0, text[3], sets[3], bdrop;
	bool has_inh = false, has_amb = false, has_bnd = false, sb_known;
	bool implied_keep = false;
	long secbits = 0, keep = -1, dumpable = -1, cur_sb;
	char err[512] = "", bad[64];
	unsigned i;
	int e;

	r = calloc(1, sizeof(*r));
	if (!r)
		return EXIT_FAILED;
	r->a = a;
	r->plan = plan;
	r->err = err;
	r->errsize = sizeof(err);
	if (!plan->command)
		plan->command = "set";
	plan->change = true;
	plan->status_diff = true;
	plan->format = FMT_NUMBER;
	idview_init(&r->view, tgt->self ? 0 : tgt->pid);

	/* The target's threads as they are now. */
	e = proc_snapshot(tgt->self ? 0 : tgt->pid, 0, &r->snap);
	if (e) {
		free(r);
		if (!tgt->self)
			return remote_unreachable(tgt, e);
		fprintf(stderr, "allthreads: /proc/self/task: %s\n",
			strerror(-e));
		return EXIT_FAILED;
	}
	for (i = 0; i < r->snap.n; i++)
		if (r->snap.t[i].tid == tgt->pid || i + 1 == r->snap.n)
			break;
	cur_sb = current_secbits(tgt, &sb_known);
	r->secbits0 = cur_sb;
	if (r->snap.n)
		model_from(&r->leader, &r->snap.t[i], cur_sb);

	/* Parse everything first: bad input changes nothing. */
	e = parse_ids(r, false, &uids);
	if (!e)
		e = parse_ids(r, true, &gids);
	if (!e && a->caps)
		e = parse_caps_text(r, a->caps, text);
	if (!e && a->inh_caps) {
		e = parse_edit(r, "--inh-caps", a->inh_caps, &inh);
		has_inh = true;
	}
	if (!e && a->ambient_caps) {
		e = parse_edit(r, "--ambient-caps", a->ambient_caps, &amb);
		has_amb = true;
	}
	if (!e && a->bounding_set) {
		e = parse_edit(r, "--bounding-set", a->bounding_set, &bnd);
		has_bnd = true;
	}
	if (!e && a->drop_caps) {
		e = parse_cap_list(a->drop_caps, &drop, bad, sizeof(bad));
		if (e)
			e = bad_cap_word(r, "drop", bad, e);
	}
	if (!e && a->securebits)
		e = parse_securebits(r, a->securebits, cur_sb, sb_known,
				     &secbits);
	if (!e && a->keep_caps)
		e = parse_01(r, "--keep-caps", a->keep_caps, &keep);
	if (!e && a->dumpable)
		e = parse_01(r, "--dumpable", a->dumpable, &dumpable);
	if (!e && has_bnd && (bnd.add & ~r->leader.cap[CAP_BND])) {
		format_capset(bnd.add & ~r->leader.cap[CAP_BND], bad,
			      sizeof(bad));
		e = fail(r,
			 "--bounding-set: +%s: not in the bounding set, and "
			 "the bounding set only shrinks",
			 bad);
	}
	if (!e && a->seccomp)
		e = seccomp_compile(a, plan, err, sizeof(err));
	if (e)
		goto out_usage;
	if (r->view.foreign && (uids.set || gids.set || a->groups ||
				a->init_groups || a->fsuid || a->fsgid))
		plan_note(plan,
			  "user and group names resolved in pid %d's own "
			  "/etc (its root is not ours)",
			  tgt->pid);

	/* 1-2. securebits, keep-caps (implied when a uid change must keep
	 * capabilities for a later capset or ambient raise). */
	if (a->securebits) {
		struct op op = { .kind = OP_SECBITS, .v = { secbits } };
		char call[96], sbt[72];

		format_secbits(secbits, sbt, sizeof(sbt));
		snprintf(call, sizeof(call), "PR_SET_SECUREBITS(%s)", sbt);
		undo_prctl(emit_prctl(r, &op, PR_SET_SECUREBITS, secbits, 0,
				      call),
			   PR_SET_SECUREBITS);
	}
	if (keep < 0 && uids.set && (a->caps || amb.add) &&
	    !(r->leader.secbits & SECBIT_KEEP_CAPS)) {
		keep = 1;
		implied_keep = true;
		plan_note(plan, "KEEP_CAPS 1 first: the uid change would "
				"otherwise clear the permitted set the later "
				"capset needs; back to 0 after the "
				"capability steps");
		if (!sb_known)
			plan_note(plan, "the target's KEEP_CAPS is not in "
					"/proc: taken as 0 before");
	}
	if (keep >= 0) {
		struct op op = { .kind = OP_KEEPCAPS, .v = { keep } };
		char call[64];

		snprintf(call, sizeof(call), "PR_SET_KEEPCAPS(%ld)", keep);
		undo_prctl(emit_prctl(r, &op, PR_SET_KEEPCAPS, keep, 0, call),
			   PR_SET_KEEPCAPS);
	}

	/* 3. bounding drops, while CAP_SETPCAP is still effective. */
	bdrop = drop;
	if (has_bnd)
		bdrop |= all_caps_mask() & ~apply_cap_edit(&bnd, ~0ULL);
	e = emit_bounding(r, bdrop & bounding_union(r));

	/* 4-7. groups, gids, uids, fsuid, fsgid. */
	if (!e)
		e = emit_groups(r, &uids, &gids);
	if (!e)
		e = emit_ids(r, &gids, true);
	if (!e)
		e = emit_ids(r, &uids, false);
	if (!e)
		e = emit_fs(r, a->fsuid, false);
	if (!e)
		e = emit_fs(r, a->fsgid, true);
	if (e)
		goto out_usage;

	/* 8. capset: from the sets as they are after the uid change. */
	if (a->caps || has_inh || drop) {
		if (a->caps)
			memcpy(sets, text, sizeof(sets));
		else {
			sets[0] = r->leader.cap[CAP_INH];
			sets[1] = r->leader.cap[CAP_PRM];
			sets[2] = r->leader.cap[CAP_EFF];
		}
		if (has_inh)
			sets[0] = apply_cap_edit(&inh, sets[0]);
		for (i = 0; i < 3; i++)
			sets[i] &= ~drop;
		e = emit_capset(r, sets);
		if (e)
			goto out_usage;
	}

	/* 9. ambient. */
	if (drop && !has_amb) {
		amb.keep = ~drop;
		has_amb = true;
	} else if (drop) {
		amb.keep &= ~drop;
		amb.add &= ~drop;
	}
	if (has_amb) {
		e = emit_ambient(r, &amb,
				 (a->ambient_caps &&
				  strcasestr(a->ambient_caps, "-all")) ||
					 (drop & all_caps_mask()) ==
						 all_caps_mask());
		if (e)
			goto out_usage;
	}

	/* 9b. KEEP_CAPS back to what it was, when only the recipe wanted it
	 * (the uid change has kept the permitted set by then); before
	 * no_new_privs and seccomp, which could deny prctl. */
	if (implied_keep) {
		struct op op = { .kind = OP_KEEPCAPS, .v = { 0 } };
		struct step *st = emit_prctl(r, &op, PR_SET_KEEPCAPS, 0, 0,
					     "PR_SET_KEEPCAPS(0)");

		if (!st) {
			e = too_many(r);
			goto out_usage;
		}
		undo_prctl(st, PR_SET_KEEPCAPS);
	}

	/* 10-11. dumpable, no_new_privs. */
	if (dumpable >= 0) {
		struct op op = { .kind = OP_DUMPABLE };
		char call[64];

		snprintf(call, sizeof(call), "PR_SET_DUMPABLE(%ld)", dumpable);
		undo_prctl(emit_prctl(r, &op, PR_SET_DUMPABLE, dumpable, 0,
				      call),
			   PR_SET_DUMPABLE);
		plan_note(plan, "DUMPABLE is process-wide: one value for "
				"every thread");
	}
	if (a->seccomp && !a->nnp && !has(&r->leader, CAP_SYS_ADMIN) &&
	    !r->leader.nnp)
		plan_note(plan, "NO_NEW_PRIVS set on every thread first: "
				"seccomp needs it without CAP_SYS_ADMIN");
	if (a->nnp || (a->seccomp && !has(&r->leader, CAP_SYS_ADMIN))) {
		struct op op = { .kind = OP_NNP };

		if (!emit_prctl(r, &op, PR_SET_NO_NEW_PRIVS, 1, 0,
				"PR_SET_NO_NEW_PRIVS(1)")) {
			e = too_many(r);
			goto out_usage;
		}
		plan_expect(plan, "NoNewPrivs", EXPECT_EQUALS, 1);
	}
	/* 12. seccomp: for allthreads itself, once after the steps with
	 * TSYNC (carry_out); on another process (either route runs step
	 * programs only), each thread installs the same filter itself. */
	if (a->seccomp && !tgt->self) {
		struct op op = { .kind = OP_SECCOMP };
		long args[3] = { SECCOMP_SET_MODE_FILTER, 0,
				 (long)plan->seccomp_prog };

		if (!emit(r, &op, SYS_seccomp, 3, args, ALLTHREADS_JUDGE_EQUAL,
			  "seccomp(SET_MODE_FILTER, 0, %u instructions)",
			  plan->seccomp_len)) {
			e = too_many(r);
			goto out_usage;
		}
		plan_note(plan, "seccomp on another process: each thread "
				"installs the filter itself (no TSYNC)");
	}
	if (a->seccomp)
		plan_expect(plan, "Seccomp", EXPECT_EQUALS, 2);
	if (!plan->nsteps && !plan->seccomp_prog) {
		e = fail(r, "%s: nothing to change (see allthreads %s --help)",
			 plan->command, plan->command);
		goto out_usage;
	}
	snprintf(plan->what, sizeof(plan->what), "%u step%s%s", plan->nsteps,
		 plan->nsteps == 1 ? "" : "s",
		 plan->seccomp_prog ? " + seccomp" : "");
	predict(r, cur_sb);
	if (!sb_known && a->keep_caps)
		plan_note(plan, "the target's securebits are not in /proc: "
				"predicted as 0");
	(void)o;
	snapshot_free(&r->snap);
	free(r);
	return -1;
out_usage:
	snapshot_free(&r->snap);
	free(r);
	return usage_error("%s", err);
}

int cmd_recipe(const struct opts *o, struct plan *plan,
	       const struct target *tgt)
{
	if (o->nargs)
		return usage_error("set: %s: unexpected argument (options "
				   "only; PROGRAM goes after --)",
				   o->args[0]);
	return compile_recipe(o, &o->set, plan, tgt);
}
