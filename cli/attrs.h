/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * attrs.h - the per-thread attributes show prints and check compares, by
 * column: their names, and each one's value as text.
 */
#ifndef AT_CLI_ATTRS_H
#define AT_CLI_ATTRS_H

#include <stdbool.h>
#include <stddef.h>

#include "procfs.h"

enum attr {
	ATTR_TID,
	ATTR_THREADS,
	ATTR_COMM,
	ATTR_UID,
	ATTR_GID,
	ATTR_GROUPS,
	ATTR_CAPEFF,
	ATTR_CAPPRM,
	ATTR_CAPINH,
	ATTR_CAPBND,
	ATTR_CAPAMB,
	ATTR_NNP,
	ATTR_SECCOMP,
	ATTR_FILTERS,
	NR_ATTRS,
};

struct attr_desc {
	const char *column; /* show's column header, -o name */
	const char *key;    /* the /proc status name: check --expect, JSON */
	const char *help;
	bool credential; /* compared by check (the name is not) */
};

extern const struct attr_desc at_attrs[NR_ATTRS];

/* ATTR's value for T as show prints it (THREADS: not per thread). */
void attr_format(enum attr attr, const struct tstatus *t, char *buf,
		 size_t size);
/* An attribute by column or key name, any case, '_' and '-' ignored;
 * -1 if unknown. */
int attr_find(const char *name);
/* The names nearest to NAME (suggest_nearest()) among the attributes from
 * FIRST on: their keys (BY_KEY) or their columns. */
void attr_suggest(const char *name, enum attr first, bool by_key, int slack,
		  char *buf, size_t size);

#endif /* AT_CLI_ATTRS_H */
