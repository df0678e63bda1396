// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * json.c - the JSON writer every command prints its --json output with
 * (one schema, allthreads(1) JSON OUTPUT).
 */
#include <stdbool.h>
#include <stdio.h>

#include "attrs.h"
#include "cli.h"
#include "json.h"
#include "names.h"
#include "plan.h"
#include "procfs.h"
#include "target.h"

void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void json_begin(const struct opts *o, const char *command,
		const struct target *tgt, const char *name, const char *action,
		bool process_wide)
{
	printf("{\"command\":");
	json_str(command);
	if (tgt)
		printf(",\"target\":{\"pid\":%d,\"tid\":%d,\"self\":%s}",
		       tgt->pid, tgt->tid, tgt->self ? "true" : "false");
	else
		printf(",\"target\":null");
	printf(",\"name\":");
	json_str(name);
	printf(",\"action\":\"%s\",\"process_wide\":%s,\"dry_run\":%s", action,
	       process_wide ? "true" : "false", o->dry_run ? "true" : "false");
}

static void json_capset(unsigned long long set)
{
	char name[64];
	bool first = true;
	int cap;

	putchar('[');
	for (cap = 0; cap < 64; cap++) {
		if (!(set & (1ULL << cap)))
			continue;
		format_cap(cap, name, sizeof(name));
		printf("%s", first ? "" : ",");
		json_str(name);
		first = false;
	}
	putchar(']');
}

void json_attrs(const struct tstatus *t)
{
	unsigned i;

	if (!t) {
		fputs("null", stdout);
		return;
	}
	printf("{\"Name\":");
	json_str(t->comm);
	printf(",\"Uid\":[%ld,%ld,%ld,%ld],\"Gid\":[%ld,%ld,%ld,%ld]",
	       t->uid[0], t->uid[1], t->uid[2], t->uid[3], t->gid[0], t->gid[1],
	       t->gid[2], t->gid[3]);
	printf(",\"Groups\":[");
	for (i = 0; i < t->ngroups; i++)
		printf("%s%u", i ? "," : "", t->groups[i]);
	putchar(']');
	for (i = 0; i < NR_CAPSETS; i++) {
		printf(",\"%s\":", capset_key(i));
		json_capset(t->cap[i]);
	}
	printf(",\"NoNewPrivs\":%d,\"Seccomp\":%d,\"Seccomp_filters\":%d}",
	       t->nnp, t->seccomp, t->filters);
}

void json_worker(const struct snapshot *snap, const struct tstatus *t)
{
	char buf[128];

	printf(",\"worker\":");
	if (!t || !t->worker) {
		fputs("null", stdout);
		return;
	}
	worker_words(snap, t, buf, sizeof(buf));
	json_str(buf);
}

/* "kept": {"rings": [{"fd", "sq_thread", "personalities"}]}, the
 * personalities null where fdinfo lists none (none, or a kernel that does
 * not list them), else [{"id", "Uid", "Gid", "Groups", "CapEff"}]. */
static void json_kept(const struct snapshot *snap)
{
	unsigned i;
	int k;

	printf(",\"kept\":");
	if (!snap || snap->rings_err) {
		fputs("null", stdout);
		return;
	}
	printf("{\"rings\":[");
	for (i = 0; i < snap->nrings; i++) {
		const struct uring *r = &snap->rings[i];

		printf("%s{\"fd\":%d,\"sq_thread\":", i ? "," : "", r->fd);
		if (r->sq_thread)
			printf("%d", r->sq_thread);
		else
			fputs("null", stdout);
		printf(",\"personalities\":");
		if (r->npers < 0) {
			fputs("null}", stdout);
			continue;
		}
		putchar('[');
		for (k = 0; k < r->npers; k++) {
			const struct kept_cred *c = &r->pers[k];

			printf("%s{\"id\":%u,\"Uid\":[%ld,%ld,%ld,%ld],"
			       "\"Gid\":[%ld,%ld,%ld,%ld],\"Groups\":",
			       k ? "," : "", c->id, c->uid[0], c->uid[1],
			       c->uid[2], c->uid[3], c->gid[0], c->gid[1],
			       c->gid[2], c->gid[3]);
			json_str(c->groups);
			printf(",\"CapEff\":");
			json_capset(c->capeff);
			putchar('}');
		}
		fputs("]}", stdout);
	}
	fputs("]}", stdout);
}

void json_end(const struct opts *o, const struct plan *plan,
	      const char *const *differ, unsigned ndiffer,
	      const struct snapshot *snap)
{
	unsigned i;
	char **p;

	printf(",\"program\":");
	if (o->program) {
		putchar('[');
		for (p = o->program; *p; p++) {
			if (p != o->program)
				putchar(',');
			json_str(*p);
		}
		putchar(']');
	} else {
		fputs("null", stdout);
	}
	printf(",\"differ\":[");
	for (i = 0; i < ndiffer; i++) {
		printf("%s", i ? "," : "");
		json_str(differ[i]);
	}
	printf("],\"notes\":[");
	for (i = 0; plan && i < plan->nnotes; i++) {
		printf("%s", i ? "," : "");
		json_str(plan->notes[i]);
	}
	printf("]");
	json_kept(snap);
}

void json_threads(const struct snapshot *snap, char *const *errors)
{
	unsigned i;

	printf(",\"threads\":[");
	for (i = 0; i < snap->n; i++) {
		printf("%s{\"tid\":%d,\"state\":\"ok\",\"results\":[],"
		       "\"value\":null,\"old\":null,\"error\":",
		       i ? "," : "", snap->t[i].tid);
		json_str(errors ? errors[i] : NULL);
		json_worker(snap, &snap->t[i]);
		printf(",\"attrs\":");
		json_attrs(&snap->t[i]);
		putchar('}');
	}
	putchar(']');
}

void json_snapshot(const struct opts *o, const struct target *tgt,
		   const struct snapshot *snap, const char *command,
		   const char *verdict, int code, char *const *errors,
		   const bool *differ_attr)
{
	const char *differ[NR_ATTRS];
	unsigned i, n = 0;

	json_begin(o, command, tgt, NULL, command, false);
	printf(",\"steps\":[],\"verdict\":\"%s\",\"exit\":%d,\"value\":null",
	       verdict, code);
	json_threads(snap, errors);
	for (i = 0; i < NR_ATTRS; i++)
		if (differ_attr[i])
			differ[n++] = at_attrs[i].key;
	json_end(o, NULL, differ, n, snap);
	printf(",\"items\":null}\n");
}
