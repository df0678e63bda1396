// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * attrs.c - the attributes of a thread that show prints and check
 * compares, named once for both.
 */
#include <stdio.h>
#include <string.h>

#include "attrs.h"
#include "names.h"

const struct attr_desc at_attrs[NR_ATTRS] = {
	[ATTR_TID] = { "TID", "tid", "thread id (the first of a group)" },
	[ATTR_THREADS] = { "THREADS", "threads",
			   "how many threads the row stands for" },
	[ATTR_COMM] = { "COMM", "Name", "thread name" },
	[ATTR_UID] = { "UID", "Uid",
		       "uid: one number, or real,effective,saved,fs", true },
	[ATTR_GID] = { "GID", "Gid",
		       "gid: one number, or real,effective,saved,fs", true },
	[ATTR_GROUPS] = { "GROUPS", "Groups", "supplementary groups", true },
	[ATTR_CAPEFF] = { "CAPEFF", PROCFS_KEY_CAPEFF, "effective capabilities",
			  true },
	[ATTR_CAPPRM] = { "CAPPRM", PROCFS_KEY_CAPPRM, "permitted capabilities",
			  true },
	[ATTR_CAPINH] = { "CAPINH", PROCFS_KEY_CAPINH,
			  "inheritable capabilities", true },
	[ATTR_CAPBND] = { "CAPBND", PROCFS_KEY_CAPBND, "bounding set", true },
	[ATTR_CAPAMB] = { "CAPAMB", PROCFS_KEY_CAPAMB, "ambient capabilities",
			  true },
	[ATTR_NNP] = { "NNP", "NoNewPrivs", "no_new_privs (0|1)", true },
	[ATTR_SECCOMP] = { "SECCOMP", "Seccomp",
			   "seccomp mode: 0 off, 1 strict, 2 filter", true },
	[ATTR_FILTERS] = { "FILTERS", "Seccomp_filters",
			   "seccomp filters in force", true },
};

static void format_ids4(const long ids[4], char *buf, size_t size)
{
	if (ids[0] == ids[1] && ids[1] == ids[2] && ids[2] == ids[3])
		snprintf(buf, size, "%ld", ids[0]);
	else
		snprintf(buf, size, "%ld,%ld,%ld,%ld", ids[0], ids[1], ids[2],
			 ids[3]);
}

void attr_format(enum attr attr, const struct tstatus *t, char *buf,
		 size_t size)
{
	size_t len = 0;
	unsigned i;

	buf[0] = '\0';
	switch (attr) {
	case ATTR_TID:
		snprintf(buf, size, "%d", t->tid);
		break;
	case ATTR_THREADS:
		snprintf(buf, size, "1");
		break;
	case ATTR_COMM: {
		/* As /proc/PID/status shows it: one line per thread. */
		size_t n = 0;
		const char *c;

		for (c = t->comm; *c && n + 3 < size; c++) {
			if (*c == '\\' || *c == '\n')
				buf[n++] = '\\';
			buf[n++] = *c == '\n' ? 'n' : *c;
		}
		buf[n] = '\0';
		break;
	}
	case ATTR_UID:
		format_ids4(t->uid, buf, size);
		break;
	case ATTR_GID:
		format_ids4(t->gid, buf, size);
		break;
	case ATTR_GROUPS:
		for (i = 0; i < t->ngroups && len + 12 < size; i++)
			len += snprintf(buf + len, size - len, "%s%u",
					i ? "," : "", t->groups[i]);
		if (!t->ngroups)
			snprintf(buf, size, "none");
		break;
	case ATTR_CAPEFF:
		format_capset_fold(t->cap[CAP_EFF], buf, size);
		break;
	case ATTR_CAPPRM:
		format_capset_fold(t->cap[CAP_PRM], buf, size);
		break;
	case ATTR_CAPINH:
		format_capset_fold(t->cap[CAP_INH], buf, size);
		break;
	case ATTR_CAPBND:
		format_capset_fold(t->cap[CAP_BND], buf, size);
		break;
	case ATTR_CAPAMB:
		format_capset_fold(t->cap[CAP_AMB], buf, size);
		break;
	case ATTR_NNP:
		snprintf(buf, size, "%d", t->nnp);
		break;
	case ATTR_SECCOMP:
		snprintf(buf, size, "%d", t->seccomp);
		break;
	case ATTR_FILTERS:
		if (t->filters < 0)
			snprintf(buf, size, "-");
		else
			snprintf(buf, size, "%d", t->filters);
		break;
	case NR_ATTRS:
		break;
	}
}

int attr_find(const char *name)
{
	int i;

	for (i = 0; i < NR_ATTRS; i++)
		if (name_distance(name, at_attrs[i].column) == 0 ||
		    name_distance(name, at_attrs[i].key) == 0)
			return i;
	if (name_distance(name, "nnp") == 0 ||
	    name_distance(name, "no_new_privs") == 0)
		return ATTR_NNP;
	if (name_distance(name, "comm") == 0)
		return ATTR_COMM;
	return -1;
}

struct attr_names {
	enum attr first;
	bool by_key;
};

static bool attr_name_of(unsigned i, const void *ctx, char *buf, size_t size)
{
	const struct attr_names *an = ctx;
	const struct attr_desc *d = &at_attrs[an->first + i];

	snprintf(buf, size, "%s", an->by_key ? d->key : d->column);
	return true;
}

void attr_suggest(const char *name, enum attr first, bool by_key, int slack,
		  char *buf, size_t size)
{
	struct attr_names an = { first, by_key };

	suggest_nearest(name, NR_ATTRS - first, attr_name_of, &an, slack, buf,
			size);
}
