// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * recipe-parse.c - set's options parsed for the recipe compiler
 * (recipe.c), all of them before any step is emitted, so that bad input
 * changes nothing: uids and gids, capability sets and edits, securebits,
 * keep-caps, dumpable, the seccomp filter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/securebits.h>
#include <sys/capability.h>

#include "cli.h"
#include "filter.h"
#include "ids.h"
#include "model.h"
#include "names.h"
#include "plan.h"
#include "procfs.h"
#include "recipe-parse.h"
#include "target.h"

int recipe_parse_id(struct recipe *r, const char *what, const char *s,
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
		return recipe_parse_id(r, is_gid ? "setgid" : "setuid", single,
				       is_gid, false, &req->v[0]);
	}
	if (res[0]) {
		req->set = true;
		for (i = 0; i < 3; i++) {
			e = recipe_parse_id(r,
					    is_gid ? "setresgid" : "setresuid",
					    res[i], is_gid, true, &req->v[i]);
			if (e)
				return e;
		}
		return 0;
	}
	if (re) {
		long id;

		e = recipe_parse_id(r, is_gid ? "--regid" : "--reuid", re,
				    is_gid, false, &id);
		if (e)
			return e;
		/* Real, effective and saved: nothing to go back to. */
		req->v[0] = req->v[1] = req->v[2] = id;
		req->set = true;
	}
	if (real) {
		e = recipe_parse_id(r, is_gid ? "--rgid" : "--ruid", real,
				    is_gid, false, &req->v[0]);
		if (e)
			return e;
		req->set = true;
	}
	if (eff) {
		e = recipe_parse_id(r, is_gid ? "--egid" : "--euid", eff,
				    is_gid, false, &req->v[1]);
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

/* The capability options: --caps, the +/- edits, drop. */
static int parse_cap_options(struct recipe *r)
{
	const struct set_args *a = r->a;
	char bad[64];
	int e = 0;

	if (a->caps)
		e = parse_caps_text(r, a->caps, r->text);
	r->has_inh = !e && a->inh_caps;
	if (r->has_inh)
		e = parse_edit(r, "--inh-caps", a->inh_caps, &r->inh);
	r->has_amb = !e && a->ambient_caps;
	if (r->has_amb)
		e = parse_edit(r, "--ambient-caps", a->ambient_caps, &r->amb);
	r->has_bnd = !e && a->bounding_set;
	if (r->has_bnd)
		e = parse_edit(r, "--bounding-set", a->bounding_set, &r->bnd);
	if (!e && a->drop_caps) {
		e = parse_cap_list(a->drop_caps, &r->drop, bad, sizeof(bad));
		if (e)
			e = bad_cap_word(r, "drop", bad, e);
	}
	return e;
}

/* --bounding-set +CAP: only for a capability still in the set. */
static int check_bounding_add(struct recipe *r)
{
	unsigned long long add = r->bnd.add & ~r->leader.cap[CAP_BND];
	char bad[64];

	if (!r->has_bnd || !add)
		return 0;
	format_capset(add, bad, sizeof(bad));
	return fail(r,
		    "--bounding-set: +%s: not in the bounding set, and the "
		    "bounding set only shrinks",
		    bad);
}

/* Parse everything first: bad input changes nothing.  0 or -EINVAL with
 * the message in r->err. */
int recipe_parse_request(struct recipe *r, const struct target *tgt)
{
	const struct set_args *a = r->a;
	int e;

	r->keep = r->dumpable = -1;
	r->inh = r->amb = r->bnd = (struct cap_edit){ ~0ULL, 0 };
	e = parse_ids(r, false, &r->uids);
	if (!e)
		e = parse_ids(r, true, &r->gids);
	if (!e)
		e = parse_cap_options(r);
	if (!e && a->securebits)
		e = parse_securebits(r, a->securebits, r->secbits0, r->sb_known,
				     &r->secbits);
	if (!e && a->keep_caps)
		e = parse_01(r, "--keep-caps", a->keep_caps, &r->keep);
	if (!e && a->dumpable)
		e = parse_01(r, "--dumpable", a->dumpable, &r->dumpable);
	if (!e)
		e = check_bounding_add(r);
	if (!e && a->seccomp)
		e = seccomp_compile(a, r->plan, r->err, r->errsize);
	if (e)
		return e;
	if (r->view.foreign && (r->uids.set || r->gids.set || a->groups ||
				a->init_groups || a->fsuid || a->fsgid))
		plan_note(r->plan,
			  "user and group names resolved in pid %d's own "
			  "/etc (its root is not ours)",
			  tgt->pid);
	return 0;
}
