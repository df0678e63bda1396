// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * expect.c - the expectation engine: KEY=VALUE parsed once, then judged
 * against any thread's /proc status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attrs.h"
#include "expect.h"
#include "ids.h"
#include "names.h"
#include "usage.h"

static const char *const id_subs[] = { "r", "e", "s", "fs" };

/* Ruid, Euid, Suid, Fsuid and the gid ones. */
static int find_sub(const char *key, enum attr *attr)
{
	char name[16];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "%suid", id_subs[i]);
		if (strcasecmp(key, name) == 0) {
			*attr = ATTR_UID;
			return i;
		}
		snprintf(name, sizeof(name), "%sgid", id_subs[i]);
		if (strcasecmp(key, name) == 0) {
			*attr = ATTR_GID;
			return i;
		}
	}
	return -1;
}

static int bad_value(const char *text, const char *why)
{
	return usage_error("--expect: %s: %s", text, why);
}

static int parse_idlist(struct idview *v, struct expectation *e,
			const char *val)
{
	bool gid = e->attr == ATTR_GID;
	char word[128];
	const char *p = val;
	int n = 0, err;

	if (!strchr(val, ',')) {
		err = gid ? resolve_gid(v, val, false, &e->ids[0]) :
			    resolve_uid(v, val, false, &e->ids[0]);
		if (err)
			return bad_value(e->text, gid ? "no such group" :
							"no such user");
		e->ids[1] = e->ids[2] = e->ids[3] = e->ids[0];
		return 0;
	}
	if (e->sub >= 0)
		return bad_value(e->text, "one id");
	while (n < 4) {
		size_t len = strcspn(p, ",");

		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		if (strcmp(word, "*") == 0)
			e->ids[n] = -1;
		else if ((gid ? resolve_gid(v, word, false, &e->ids[n]) :
				resolve_uid(v, word, false, &e->ids[n])))
			return bad_value(e->text, "no such id");
		n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (n != 4)
		return bad_value(e->text, "one id, or four: real,effective,"
					  "saved,fs (* for any)");
	return 0;
}

int expect_parse(struct idview *v, const char *text, struct expectation *e)
{
	const char *eq = strchr(text, '=');
	char key[64], bad[64], near[256] = "";
	const char *val;
	int a, err;

	memset(e, 0, sizeof(*e));
	e->text = text;
	e->sub = -1;
	if (!eq || eq == text || (size_t)(eq - text) >= sizeof(key))
		return usage_error("--expect: %s: not KEY=VALUE (e.g. "
				   "NoNewPrivs=1)",
				   text);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - text), text);
	val = eq + 1;
	e->sub = find_sub(key, &e->attr);
	if (e->sub < 0) {
		a = attr_find(key);
		if (a < 0 || a == ATTR_TID || a == ATTR_THREADS) {
			attr_suggest(key, ATTR_COMM, true, 1, near,
				     sizeof(near));
			return usage_error("--expect: %s: unknown key "
					   "(nearest: %s)",
					   key, near);
		}
		e->attr = a;
	}
	switch (e->attr) {
	case ATTR_UID:
	case ATTR_GID:
		return parse_idlist(v, e, val);
	case ATTR_GROUPS:
		if (!*val || strcasecmp(val, "none") == 0)
			return 0;
		err = resolve_groups(v, val, &e->groups, &e->ngroups, bad,
				     sizeof(bad));
		if (err)
			return usage_error("--expect: %s: %s: no such group",
					   text, bad);
		return 0;
	case ATTR_CAPEFF:
	case ATTR_CAPPRM:
	case ATTR_CAPINH:
	case ATTR_CAPBND:
	case ATTR_CAPAMB:
		err = parse_capset_text(val, &e->mask, bad, sizeof(bad));
		if (err == -ERANGE)
			return usage_error("--expect: %s: %s: out of range "
					   "(0..%d)",
					   text, bad, last_cap());
		if (err) {
			suggest_cap(bad, near, sizeof(near));
			return usage_error("--expect: %s: %s: unknown "
					   "capability (nearest: %s)",
					   text, bad, near);
		}
		return 0;
	case ATTR_NNP:
	case ATTR_FILTERS:
		if (parse_long(val, &e->num) || e->num < 0 ||
		    (e->attr == ATTR_NNP && e->num > 1))
			return bad_value(text, e->attr == ATTR_NNP ?
						       "not 0 or 1" :
						       "not a count");
		return 0;
	case ATTR_SECCOMP:
		if (strcasecmp(val, "disabled") == 0 ||
		    strcasecmp(val, "off") == 0)
			e->num = 0;
		else if (strcasecmp(val, "strict") == 0)
			e->num = 1;
		else if (strcasecmp(val, "filter") == 0)
			e->num = 2;
		else if (parse_long(val, &e->num) || e->num < 0 || e->num > 2)
			return bad_value(text, "not 0 (disabled), 1 (strict) "
					       "or 2 (filter)");
		return 0;
	case ATTR_COMM:
		e->str = val;
		return 0;
	default:
		return bad_value(text, "not something check compares");
	}
}

static bool has_group(const unsigned *groups, unsigned n, unsigned g)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* The same set of groups, in any order. */
static bool same_groups(const struct expectation *e, const struct tstatus *t)
{
	unsigned i;

	for (i = 0; i < e->ngroups; i++)
		if (!has_group(t->groups, t->ngroups, e->groups[i]))
			return false;
	for (i = 0; i < t->ngroups; i++)
		if (!has_group(e->groups, e->ngroups, t->groups[i]))
			return false;
	return true;
}

static bool caps_hold(const struct expectation *e, unsigned long long set)
{
	switch (e->how) {
	case EXPECT_BIT_SET:
		return set & (1ULL << e->num);
	case EXPECT_BIT_CLEAR:
		return !(set & (1ULL << e->num));
	case EXPECT_MASK_SET:
		return (set & e->mask) == e->mask;
	case EXPECT_MASK_CLEAR:
		return !(set & e->mask);
	case EXPECT_EQUALS:
		break;
	}
	return set == e->mask;
}

bool expect_holds(const struct expectation *e, const struct tstatus *t)
{
	const long *ids = e->attr == ATTR_UID ? t->uid : t->gid;
	unsigned i;

	switch (e->attr) {
	case ATTR_UID:
	case ATTR_GID:
		if (e->sub >= 0)
			return ids[e->sub] == e->ids[0];
		for (i = 0; i < 4; i++)
			if (e->ids[i] >= 0 && ids[i] != e->ids[i])
				return false;
		return true;
	case ATTR_GROUPS:
		return same_groups(e, t);
	case ATTR_CAPEFF:
	case ATTR_CAPPRM:
	case ATTR_CAPINH:
	case ATTR_CAPBND:
	case ATTR_CAPAMB:
		return caps_hold(e, t->cap[expect_capset(e->attr)]);
	case ATTR_NNP:
		return t->nnp == e->num;
	case ATTR_FILTERS:
		return t->filters == e->num;
	case ATTR_SECCOMP:
		return t->seccomp == e->num;
	case ATTR_COMM:
		return strcmp(t->comm, e->str) == 0;
	default:
		return true;
	}
}

enum capset_index expect_capset(enum attr attr)
{
	static const enum capset_index sets[] = {
		[ATTR_CAPEFF] = CAP_EFF, [ATTR_CAPPRM] = CAP_PRM,
		[ATTR_CAPINH] = CAP_INH, [ATTR_CAPBND] = CAP_BND,
		[ATTR_CAPAMB] = CAP_AMB,
	};

	return sets[attr];
}

bool expect_mismatch(const struct expectation *e, const struct tstatus *t,
		     char *buf, size_t size)
{
	const char *eq = strchr(e->text, '=');
	char a[2048];

	if (expect_holds(e, t))
		return false;
	attr_format(e->attr, t, a, sizeof(a));
	if (e->sub >= 0)
		snprintf(a, sizeof(a), "%ld",
			 (e->attr == ATTR_UID ? t->uid : t->gid)[e->sub]);
	snprintf(buf, size, "%.*s is %s, expected %s", (int)(eq - e->text),
		 e->text, a, eq + 1);
	return true;
}

/* WHY, about FIELD of thread TID: on *REASON (-J) and in L's table. */

void expect_differ(const struct snapshot *snap, bool differ[NR_ATTRS])
{
	char a[2048], b[2048];
	unsigned c, i;

	for (c = 0; c < NR_ATTRS; c++) {
		differ[c] = false;
		if (c == ATTR_TID || c == ATTR_THREADS || !snap->n)
			continue;
		attr_format(c, &snap->t[0], b, sizeof(b));
		for (i = 1; i < snap->n && !differ[c]; i++) {
			attr_format(c, &snap->t[i], a, sizeof(a));
			differ[c] = strcmp(a, b) != 0;
		}
	}
}

bool expect_credential(const struct expectation *e)
{
	return e->attr == ATTR_UID || e->attr == ATTR_GID ||
	       e->attr == ATTR_GROUPS || e->attr == ATTR_CAPEFF ||
	       e->attr == ATTR_CAPPRM || e->attr == ATTR_CAPINH ||
	       e->attr == ATTR_CAPBND || e->attr == ATTR_CAPAMB;
}

bool expect_ring_mismatch(const struct expectation *e, const struct uring *r,
			  char *buf, size_t size)
{
	struct tstatus t;
	char why[1024];
	int p;

	if (!expect_credential(e))
		return false;
	if (r->npers < 0) {
		snprintf(buf, size,
			 "may hold registered personalities (this kernel does "
			 "not list them): cannot show %s",
			 e->text);
		return true;
	}
	/* fdinfo shows a personality's ids and CapEff, no more. */
	if (e->attr != ATTR_UID && e->attr != ATTR_GID &&
	    e->attr != ATTR_CAPEFF) {
		snprintf(buf, size,
			 "holds %d personalit%s whose %s fdinfo does not show",
			 r->npers, r->npers == 1 ? "y" : "ies",
			 at_attrs[e->attr].key);
		return true;
	}
	for (p = 0; p < r->npers; p++) {
		memset(&t, 0, sizeof(t));
		memcpy(t.uid, r->pers[p].uid, sizeof(t.uid));
		memcpy(t.gid, r->pers[p].gid, sizeof(t.gid));
		t.cap[CAP_EFF] = r->pers[p].capeff;
		if (!expect_mismatch(e, &t, why, sizeof(why)))
			continue;
		snprintf(buf, size, "personality %u: %s", r->pers[p].id, why);
		return true;
	}
	return false;
}
