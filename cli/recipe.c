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
 * thread's /proc status must show afterwards.  The options are parsed
 * first, all of them (recipe-parse.c).
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
#include "model.h"
#include "names.h"
#include "plan.h"
#include "prctl.h"
#include "procfs.h"
#include "recipe.h"
#include "recipe-parse.h"
#include "target.h"
#include "usage.h"

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
	model_apply(&r->leader, op, why, sizeof(why));
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

/* --- emitting the steps --------------------------------------------- */

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
			model_apply(&m, &r->ops[k], why, sizeof(why));
		before = m;
		if (model_apply(&m, op, why, sizeof(why)))
			continue;
		if (model_apply(&m, &back, why, sizeof(why)) ||
		    !model_same(&m, &before))
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
	err = recipe_parse_id(r, is_gid ? "setfsgid" : "setfsuid", s, is_gid,
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

/* The target's threads as they are now, and the model of its leader
 * (its main thread, or the last one listed): 0, or an exit code after
 * saying why. */
static int recipe_start(struct recipe *r, const struct target *tgt)
{
	unsigned i;
	int e;

	idview_init(&r->view, tgt->self ? 0 : tgt->pid);
	e = proc_snapshot(tgt->self ? 0 : tgt->pid, 0, &r->snap);
	if (e) {
		if (!tgt->self)
			return remote_unreachable(tgt, e);
		fprintf(stderr, "allthreads: /proc/self/task: %s\n",
			strerror(-e));
		return EXIT_FAILED;
	}
	for (i = 0; i < r->snap.n; i++)
		if (r->snap.t[i].tid == tgt->pid || i + 1 == r->snap.n)
			break;
	r->secbits0 = model_secbits(tgt, &r->sb_known);
	if (r->snap.n)
		model_from(&r->leader, &r->snap.t[i], r->secbits0);
	return 0;
}

/* 1-2. securebits, keep-caps (implied when a uid change must keep
 * capabilities for a later capset or ambient raise). */
static void emit_securebits(struct recipe *r)
{
	const struct set_args *a = r->a;

	if (a->securebits) {
		struct op op = { .kind = OP_SECBITS, .v = { r->secbits } };
		char call[96], sbt[72];

		format_secbits(r->secbits, sbt, sizeof(sbt));
		snprintf(call, sizeof(call), "PR_SET_SECUREBITS(%s)", sbt);
		undo_prctl(emit_prctl(r, &op, PR_SET_SECUREBITS, r->secbits, 0,
				      call),
			   PR_SET_SECUREBITS);
	}
	if (r->keep < 0 && r->uids.set && (a->caps || r->amb.add) &&
	    !(r->leader.secbits & SECBIT_KEEP_CAPS)) {
		r->keep = 1;
		r->implied_keep = true;
		plan_note(r->plan, "KEEP_CAPS 1 first: the uid change would "
				   "otherwise clear the permitted set the "
				   "later capset needs; back to 0 after the "
				   "capability steps");
		if (!r->sb_known)
			plan_note(r->plan, "the target's KEEP_CAPS is not in "
					   "/proc: taken as 0 before");
	}
	if (r->keep >= 0) {
		struct op op = { .kind = OP_KEEPCAPS, .v = { r->keep } };
		char call[64];

		snprintf(call, sizeof(call), "PR_SET_KEEPCAPS(%ld)", r->keep);
		undo_prctl(emit_prctl(r, &op, PR_SET_KEEPCAPS, r->keep, 0,
				      call),
			   PR_SET_KEEPCAPS);
	}
}

/* 3-7. bounding drops (while CAP_SETPCAP is still effective), groups,
 * gids, uids, fsuid, fsgid. */
static int emit_ids_steps(struct recipe *r)
{
	unsigned long long bdrop = r->drop;
	int e;

	if (r->has_bnd)
		bdrop |= all_caps_mask() & ~apply_cap_edit(&r->bnd, ~0ULL);
	e = emit_bounding(r, bdrop & bounding_union(r));
	if (!e)
		e = emit_groups(r, &r->uids, &r->gids);
	if (!e)
		e = emit_ids(r, &r->gids, true);
	if (!e)
		e = emit_ids(r, &r->uids, false);
	if (!e)
		e = emit_fs(r, r->a->fsuid, false);
	if (!e)
		e = emit_fs(r, r->a->fsgid, true);
	return e;
}

/* 8-9b. capset, from the sets as they are after the uid change; ambient;
 * KEEP_CAPS back to what it was when only the recipe wanted it (the uid
 * change has kept the permitted set by then), before no_new_privs and
 * seccomp, which could deny prctl. */
static int emit_cap_steps(struct recipe *r)
{
	const struct set_args *a = r->a;
	unsigned long long sets[3], drop = r->drop;
	struct op op = { .kind = OP_KEEPCAPS, .v = { 0 } };
	struct step *st;
	unsigned i;
	int e;

	if (a->caps || r->has_inh || drop) {
		if (a->caps) {
			memcpy(sets, r->text, sizeof(sets));
		} else {
			sets[0] = r->leader.cap[CAP_INH];
			sets[1] = r->leader.cap[CAP_PRM];
			sets[2] = r->leader.cap[CAP_EFF];
		}
		if (r->has_inh)
			sets[0] = apply_cap_edit(&r->inh, sets[0]);
		for (i = 0; i < 3; i++)
			sets[i] &= ~drop;
		e = emit_capset(r, sets);
		if (e)
			return e;
	}
	if (drop && !r->has_amb) {
		r->amb.keep = ~drop;
		r->has_amb = true;
	} else if (drop) {
		r->amb.keep &= ~drop;
		r->amb.add &= ~drop;
	}
	if (r->has_amb) {
		e = emit_ambient(r, &r->amb,
				 (a->ambient_caps &&
				  strcasestr(a->ambient_caps, "-all")) ||
					 (drop & all_caps_mask()) ==
						 all_caps_mask());
		if (e)
			return e;
	}
	if (!r->implied_keep)
		return 0;
	st = emit_prctl(r, &op, PR_SET_KEEPCAPS, 0, 0, "PR_SET_KEEPCAPS(0)");
	if (!st)
		return too_many(r);
	undo_prctl(st, PR_SET_KEEPCAPS);
	return 0;
}

/* 10-11. dumpable, no_new_privs. */
static int emit_dumpable_nnp(struct recipe *r)
{
	const struct set_args *a = r->a;
	struct plan *plan = r->plan;
	struct op nnp = { .kind = OP_NNP };

	if (r->dumpable >= 0) {
		struct op op = { .kind = OP_DUMPABLE };
		char call[64];

		snprintf(call, sizeof(call), "PR_SET_DUMPABLE(%ld)",
			 r->dumpable);
		undo_prctl(emit_prctl(r, &op, PR_SET_DUMPABLE, r->dumpable, 0,
				      call),
			   PR_SET_DUMPABLE);
		plan_note(plan, "DUMPABLE is process-wide: one value for "
				"every thread");
	}
	if (a->seccomp && !a->nnp && !model_has(&r->leader, CAP_SYS_ADMIN) &&
	    !r->leader.nnp)
		plan_note(plan, "NO_NEW_PRIVS set on every thread first: "
				"seccomp needs it without CAP_SYS_ADMIN");
	if (!a->nnp && !(a->seccomp && !model_has(&r->leader, CAP_SYS_ADMIN)))
		return 0;
	if (!emit_prctl(r, &nnp, PR_SET_NO_NEW_PRIVS, 1, 0,
			"PR_SET_NO_NEW_PRIVS(1)"))
		return too_many(r);
	plan_expect(plan, "NoNewPrivs", EXPECT_EQUALS, 1);
	return 0;
}

/* 12. seccomp: for allthreads itself, once after the steps with TSYNC
 * (carry_out); on another process (either route runs step programs
 * only), each thread installs the same filter itself. */
static int emit_seccomp(struct recipe *r, const struct target *tgt)
{
	struct plan *plan = r->plan;
	struct op op = { .kind = OP_SECCOMP };
	long args[3] = { SECCOMP_SET_MODE_FILTER, 0, (long)plan->seccomp_prog };

	if (!r->a->seccomp)
		return 0;
	plan_expect(plan, "Seccomp", EXPECT_EQUALS, 2);
	if (tgt->self)
		return 0;
	if (!emit(r, &op, SYS_seccomp, 3, args, ALLTHREADS_JUDGE_EQUAL,
		  "seccomp(SET_MODE_FILTER, 0, %u instructions)",
		  plan->seccomp_len))
		return too_many(r);
	plan_note(plan, "seccomp on another process: each thread installs "
			"the filter itself (no TSYNC)");
	return 0;
}

/* Every step, in the order recipe.c's head comment gives: 0 or -EINVAL
 * with the message in r->err. */
static int emit_steps(struct recipe *r, const struct target *tgt)
{
	struct plan *plan = r->plan;
	int e;

	emit_securebits(r);
	e = emit_ids_steps(r);
	if (!e)
		e = emit_cap_steps(r);
	if (!e)
		e = emit_dumpable_nnp(r);
	if (!e)
		e = emit_seccomp(r, tgt);
	if (!e && !plan->nsteps && !plan->seccomp_prog)
		e = fail(r, "%s: nothing to change (see allthreads %s --help)",
			 plan->command, plan->command);
	return e;
}

int compile_recipe(const struct set_args *a, struct plan *plan,
		   const struct target *tgt)
{
	struct recipe *r;
	char err[512] = "";
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
	plan->creds = true;
	plan->format = FMT_NUMBER;
	e = recipe_start(r, tgt);
	if (e) {
		free(r);
		return e;
	}
	e = recipe_parse_request(r, tgt);
	if (!e)
		e = emit_steps(r, tgt);
	if (!e) {
		snprintf(plan->what, sizeof(plan->what), "%u step%s%s",
			 plan->nsteps, plan->nsteps == 1 ? "" : "s",
			 plan->seccomp_prog ? " + seccomp" : "");
		model_predict(plan, &r->snap, r->ops, r->secbits0);
		if (!r->sb_known && a->keep_caps)
			plan_note(plan, "the target's securebits are not in "
					"/proc: predicted as 0");
	}
	snapshot_free(&r->snap);
	free(r);
	return e ? usage_error("%s", err) : -1;
}

int cmd_recipe(const struct opts *o, struct plan *plan,
	       const struct target *tgt)
{
	if (o->nargs)
		return usage_error("set: %s: unexpected argument (options "
				   "only; PROGRAM goes after --)",
				   o->args[0]);
	return compile_recipe(&o->set, plan, tgt);
}
