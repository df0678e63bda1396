/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recipe-parse.h - the recipe compiler's state (recipe.c) and the parsing
 * of set's options into it (recipe-parse.c).
 */
#ifndef AT_CLI_RECIPE_PARSE_H
#define AT_CLI_RECIPE_PARSE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "ids.h"
#include "model.h"
#include "plan.h"
#include "procfs.h"
#include "target.h"

/* The compiler's state: the parsed request and the ops emitted. */
/* A uid or gid change as asked for. */
struct ids_req {
	bool set;    /* any change */
	bool single; /* setuid(2)/setgid(2) */
	long v[3];   /* R E S, -1 unchanged */
};

struct recipe {
	const struct set_args *a;
	struct plan *plan;
	struct idview view;
	struct snapshot snap;
	struct model leader; /* the model the step values come from */
	long secbits0;	     /* the target's securebits before any step */
	bool sb_known;	     /* secbits0 read, not assumed */
	struct op ops[PLAN_MAX_STEPS];
	char *err;
	size_t errsize;
	/* The request, parsed (parse_request()). */
	struct ids_req uids, gids;
	unsigned long long text[3];    /* --caps: inh, prm, eff */
	struct cap_edit inh, amb, bnd; /* --inh-caps, --ambient-caps... */
	bool has_inh, has_amb, has_bnd;
	unsigned long long drop; /* drop CAP,... */
	long secbits;		 /* --securebits, resolved */
	long keep, dumpable;	 /* 0, 1, or -1 not asked */
	bool implied_keep;	 /* KEEP_CAPS 1 only for the uid change */
};

#define fail(r, ...) (snprintf((r)->err, (r)->errsize, __VA_ARGS__), -EINVAL)

/* S, a uid (or a gid) or a user (group) name as WHAT, into *OUT (-1 for
 * "-" or "keep" when ALLOW_KEEP); 0 or -EINVAL with the message in
 * r->err. */
int recipe_parse_id(struct recipe *r, const char *what, const char *s,
		    bool is_gid, bool allow_keep, long *out);
/* Parse everything first: bad input changes nothing.  0 or -EINVAL with
 * the message in r->err. */
int recipe_parse_request(struct recipe *r, const struct target *tgt);

#endif /* AT_CLI_RECIPE_PARSE_H */
