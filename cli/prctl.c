// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * prctl.c - compile `allthreads prctl NAME [VALUE [ARG...]]` into a plan:
 * the read form (one visit, every thread returns its value), or the change
 * form (read the old value, change, read back, all in one visit), with the
 * undo the engine runs when some thread fails.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "plan.h"
#include "prctl.h"

/* The kernel's thread names hold 15 bytes and a NUL. */
#define COMM_MAX 15

void prctl_args(long args[PRCTL_NARGS], long op, long a2, long a3)
{
	memset(args, 0, PRCTL_NARGS * sizeof(*args));
	args[0] = op;
	args[1] = a2;
	args[2] = a3;
}

/* prctl(OP, A2, A3) as a step. */
static struct step *add_prctl(struct plan *plan, enum step_role role,
			      enum allthreads_judge judge, long op, long a2,
			      long a3)
{
	long args[PRCTL_NARGS];

	prctl_args(args, op, a2, a3);
	return plan_add(plan, role, SYS_prctl, PRCTL_NARGS, args, judge);
}

static void name_step(struct step *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void name_step(struct step *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->call, sizeof(st->call), fmt, ap);
	va_end(ap);
}

void prctl_undo_by_get(struct step *st, const struct prctl_desc *d)
{
	long save[ALLTHREADS_MAX_ARGS] = { d->get_op };
	long undo[ALLTHREADS_MAX_ARGS] = { d->set_op, ALLTHREADS_SAVED };

	if (!st)
		return;
	st->has_undo = true;
	st->save_nr = SYS_prctl;
	memcpy(st->save_args, save, sizeof(save));
	st->undo_nr = SYS_prctl;
	memcpy(st->undo_args, undo, sizeof(undo));
	snprintf(st->undo, sizeof(st->undo), "%s(saved %s())", d->set_name,
		 d->get_name);
}

#define usage(...) (snprintf(err, errsize, __VA_ARGS__), -EINVAL)

static const char *why(int err)
{
	return err == -ERANGE ? "out of range" : "not a valid value";
}

/* Read every capability with GET_OP (PR_CAPBSET_READ, or PR_CAP_AMBIENT
 * IS_SET), one step each. */
static int read_capset(struct plan *plan, const struct prctl_desc *d)
{
	int cap, last = last_cap();

	for (cap = 0; cap <= last; cap++) {
		struct step *st;

		if (d->kind == VAL_AMBIENT)
			st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY,
				       PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
				       cap);
		else
			st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY,
				       d->get_op, cap, 0);
		if (!st)
			return -E2BIG;
		name_step(st, "%s(%d)",
			  d->kind == VAL_AMBIENT ? "PR_CAP_AMBIENT(IS_SET)" :
						   d->get_name,
			  cap);
	}
	plan->format = FMT_CAPSET;
	return 0;
}

/* The common shape of a change: old value, change, read back. */
static struct step *change_with_get(struct plan *plan,
				    const struct prctl_desc *d, long a2,
				    long a3, long get_a2, long get_a3,
				    const char *text)
{
	struct step *st;

	if (d->get_op >= 0) {
		st = add_prctl(plan, ROLE_OLD, ALLTHREADS_JUDGE_ANY, d->get_op,
			       get_a2, get_a3);
		name_step(st, "%s(%s)", d->get_name, text);
	}
	st = add_prctl(plan, ROLE_CHANGE, ALLTHREADS_JUDGE_EQUAL, d->set_op, a2,
		       a3);
	if (d->get_op >= 0) {
		struct step *check;

		check = add_prctl(plan, ROLE_CHECK, ALLTHREADS_JUDGE_EQUAL,
				  d->get_op, get_a2, get_a3);
		name_step(check, "%s(%s)", d->get_name, text);
	}
	plan->change = true;
	return st;
}

static int plan_number(struct plan *plan, const struct prctl_desc *d,
		       char **argv, int argc, char *err, size_t errsize)
{
	struct step *st;
	long v;
	int e;

	plan->format = d->kind == VAL_SECBITS ? FMT_SECBITS : FMT_NUMBER;
	if (argc == 1) {
		st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY, d->get_op,
			       0, 0);
		name_step(st, "%s()", d->get_name);
		return 0;
	}
	if (argc > 2)
		return usage("%s: too many arguments (one VALUE)", d->name);
	if (d->kind == VAL_SECBITS)
		e = parse_secbits(argv[1], &v);
	else
		e = parse_long(argv[1], &v);
	if (e || (d->kind == VAL_NUMBER && (v < d->min || v > d->max))) {
		if (d->kind == VAL_SECBITS)
			return usage("%s: %s: %s (a mask, or names such as "
				     "noroot,keep_caps_locked)",
				     d->name, argv[1], why(e));
		if (d->min == d->max)
			return usage("%s: %s: can only be set to %ld", d->name,
				     argv[1], d->min);
		return usage("%s: %s: %s (%ld..%ld)", d->name, argv[1],
			     why(e ? e : -ERANGE), d->min, d->max);
	}
	st = change_with_get(plan, d, v, 0, 0, 0, "");
	name_step(st, "%s(%ld)", d->set_name, v);
	if (!(d->flags & PF_ONE_WAY))
		prctl_undo_by_get(st, d);
	/* TIMERSLACK 0 means "the default", which reads back as a number. */
	if (!(d->set_op == PR_SET_TIMERSLACK && v == 0)) {
		plan->has_expect = true;
		plan->expect = v;
	}
	if (d->proc_field)
		plan_expect(plan, d->proc_field, EXPECT_EQUALS, v);
	return 0;
}

static int plan_name(struct plan *plan, const struct prctl_desc *d, char **argv,
		     int argc, char *err, size_t errsize)
{
	struct step *st;

	plan->format = FMT_COMM;
	if (argc == 1)
		return 0;
	if (argc > 2)
		return usage("%s: too many arguments (one name; quote it if it "
			     "has spaces)",
			     d->name);
	if (strlen(argv[1]) > COMM_MAX)
		return usage("%s: %s: longer than %d bytes", d->name, argv[1],
			     COMM_MAX);
	/* The string lives in our memory, which every thread shares. */
	st = add_prctl(plan, ROLE_CHANGE, ALLTHREADS_JUDGE_EQUAL, d->set_op,
		       (long)argv[1], 0);
	name_step(st, "%s(\"%s\")", d->set_name, argv[1]);
	plan->change = true;
	plan->comm = argv[1];
	return 0;
}

static int plan_signal(struct plan *plan, const struct prctl_desc *d,
		       char **argv, int argc, char *err, size_t errsize)
{
	struct step *st;
	int sig, e;

	if (argc == 1)
		return usage("%s: reading it on every thread is not supported "
			     "(the kernel returns it through a pointer, and "
			     "/proc does not show it)",
			     d->name);
	if (argc > 2)
		return usage("%s: too many arguments (one signal)", d->name);
	e = parse_signal(argv[1], &sig);
	if (e)
		return usage("%s: %s: %s (a signal name such as KILL, or a "
			     "number)",
			     d->name, argv[1],
			     e == -ERANGE ? "out of range" : "unknown signal");
	st = add_prctl(plan, ROLE_CHANGE, ALLTHREADS_JUDGE_EQUAL, d->set_op,
		       sig, 0);
	name_step(st, "%s(%d)", d->set_name, sig);
	plan->change = true;
	return 0;
}

static int bad_cap(const char *what, const char *s, int e, char *err,
		   size_t errsize)
{
	char near[256];

	if (e == -ERANGE)
		return usage("%s: %s: out of range (0..%d, from "
			     "/proc/sys/kernel/cap_last_cap)",
			     what, s, last_cap());
	suggest_cap(s, near, sizeof(near));
	return usage("%s: %s: unknown capability (nearest: %s)", what, s, near);
}

static int plan_capbset(struct plan *plan, const struct prctl_desc *d,
			bool is_get, char **argv, int argc, char *err,
			size_t errsize)
{
	char cname[64];
	struct step *st;
	int cap, e;

	if (argc == 1)
		return read_capset(plan, d);
	if (argc > 2)
		return usage("%s: too many arguments (one capability)",
			     d->name);
	e = parse_cap(argv[1], &cap);
	if (e)
		return bad_cap(d->name, argv[1], e, err, errsize);
	format_cap(cap, cname, sizeof(cname));
	plan->format = FMT_NUMBER;
	if (is_get) {
		st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY, d->get_op,
			       cap, 0);
		name_step(st, "%s(%s)", d->get_name, cname);
		return 0;
	}
	st = change_with_get(plan, d, cap, 0, cap, 0, cname);
	name_step(st, "%s(%s)", d->set_name, cname);
	plan->has_expect = true;
	plan->expect = 0;
	plan_expect(plan, d->proc_field, EXPECT_BIT_CLEAR, cap);
	return 0;
}

static int plan_ambient(struct plan *plan, const struct prctl_desc *d,
			bool is_get, char **argv, int argc, char *err,
			size_t errsize)
{
	char cname[64];
	struct step *st;
	int cap, e;
	long op;

	if (argc == 1)
		return read_capset(plan, d);
	if (parse_ambient_op(argv[1], &op))
		return usage("%s: %s: unknown operation (RAISE, LOWER, "
			     "CLEAR_ALL or IS_SET)",
			     d->name, argv[1]);
	if (op == PR_CAP_AMBIENT_CLEAR_ALL) {
		if (argc > 2)
			return usage("%s CLEAR_ALL: takes no capability",
				     d->name);
		st = add_prctl(plan, ROLE_CHANGE, ALLTHREADS_JUDGE_EQUAL,
			       PR_CAP_AMBIENT, op, 0);
		name_step(st, "PR_CAP_AMBIENT(CLEAR_ALL)");
		plan->change = true;
		plan_expect(plan, d->proc_field, EXPECT_EQUALS, 0);
		return 0;
	}
	if (argc != 3)
		return usage("%s %s: %s", d->name, ambient_op_name(op),
			     argc < 3 ? "missing CAP" :
					"too many arguments (one capability)");
	e = parse_cap(argv[2], &cap);
	if (e)
		return bad_cap(d->name, argv[2], e, err, errsize);
	format_cap(cap, cname, sizeof(cname));
	plan->format = FMT_NUMBER;
	if (op == PR_CAP_AMBIENT_IS_SET || is_get) {
		st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY,
			       PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap);
		name_step(st, "PR_CAP_AMBIENT(IS_SET, %s)", cname);
		return 0;
	}
	st = add_prctl(plan, ROLE_OLD, ALLTHREADS_JUDGE_ANY, PR_CAP_AMBIENT,
		       PR_CAP_AMBIENT_IS_SET, cap);
	name_step(st, "PR_CAP_AMBIENT(IS_SET, %s)", cname);
	st = add_prctl(plan, ROLE_CHANGE, ALLTHREADS_JUDGE_EQUAL,
		       PR_CAP_AMBIENT, op, cap);
	name_step(st, "PR_CAP_AMBIENT(%s, %s)", ambient_op_name(op), cname);
	st = add_prctl(plan, ROLE_CHECK, ALLTHREADS_JUDGE_EQUAL, PR_CAP_AMBIENT,
		       PR_CAP_AMBIENT_IS_SET, cap);
	name_step(st, "PR_CAP_AMBIENT(IS_SET, %s)", cname);
	plan->change = true;
	plan->has_expect = true;
	plan->expect = op == PR_CAP_AMBIENT_RAISE;
	plan_expect(plan, d->proc_field,
		    op == PR_CAP_AMBIENT_RAISE ? EXPECT_BIT_SET :
						 EXPECT_BIT_CLEAR,
		    cap);
	return 0;
}

static int plan_spec(struct plan *plan, const struct prctl_desc *d, bool is_get,
		     char **argv, int argc, char *err, size_t errsize)
{
	const char *fname;
	struct step *st;
	long feature, state, f;

	plan->format = FMT_SPEC;
	if (argc == 1) {
		for (f = PR_SPEC_STORE_BYPASS; f <= PR_SPEC_L1D_FLUSH; f++) {
			st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY,
				       d->get_op, f, 0);
			name_step(st, "%s(%s)", d->get_name,
				  spec_feature_name(f));
		}
		plan->first_feature = PR_SPEC_STORE_BYPASS;
		return 0;
	}
	if (parse_spec_feature(argv[1], &feature))
		return usage("%s: %s: unknown feature (store_bypass, "
			     "indirect_branch or l1d_flush)",
			     d->name, argv[1]);
	fname = spec_feature_name(feature);
	plan->first_feature = feature;
	if (argc == 2) {
		st = add_prctl(plan, ROLE_READ, ALLTHREADS_JUDGE_ANY, d->get_op,
			       feature, 0);
		name_step(st, "%s(%s)", d->get_name, fname);
		return 0;
	}
	if (is_get)
		return usage("%s: reads take no STATE; to change it: "
			     "allthreads prctl %s FEATURE STATE",
			     argv[0], d->name);
	if (argc > 3)
		return usage("%s: too many arguments (FEATURE STATE)", d->name);
	if (parse_spec_state(argv[2], &state))
		return usage("%s: %s: unknown state (enable, disable, "
			     "force_disable or disable_noexec)",
			     d->name, argv[2]);
	st = change_with_get(plan, d, feature, state, feature, 0, fname);
	name_step(st, "%s(%s, %ld)", d->set_name, fname, state);
	return 0;
}

int plan_prctl(struct plan *plan, char **argv, int argc, char *err,
	       size_t errsize)
{
	const struct prctl_desc *d;
	bool is_get = false;
	char near[256];

	if (argc < 1)
		return usage("prctl: missing NAME (try: allthreads prctl "
			     "KEEP_CAPS)");
	d = find_prctl(argv[0], &is_get);
	if (!d) {
		suggest_prctl(argv[0], near, sizeof(near));
		return usage("prctl: %s: unknown name (nearest: %s)", argv[0],
			     near);
	}
	plan->command = "prctl";
	plan->desc = d;
	snprintf(plan->what, sizeof(plan->what), "%s", d->name);
	if (is_get && argc > 1 && d->kind != VAL_CAP && d->kind != VAL_SPEC &&
	    d->kind != VAL_AMBIENT)
		return usage("%s: reads the value and takes no VALUE; to "
			     "change it: allthreads prctl %s VALUE",
			     argv[0], d->name);
	switch (d->kind) {
	case VAL_NUMBER:
	case VAL_SECBITS:
		return plan_number(plan, d, argv, argc, err, errsize);
	case VAL_STRING:
		return plan_name(plan, d, argv, argc, err, errsize);
	case VAL_SIGNAL:
		return plan_signal(plan, d, argv, argc, err, errsize);
	case VAL_CAP:
		return plan_capbset(plan, d, is_get, argv, argc, err, errsize);
	case VAL_AMBIENT:
		return plan_ambient(plan, d, is_get, argv, argc, err, errsize);
	case VAL_SPEC:
		return plan_spec(plan, d, is_get, argv, argc, err, errsize);
	}
	return usage("%s: not supported", d->name);
}
