// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * render.c - an outcome printed: each thread's values in words (-v old ->
 * new), its problems on stderr, or the whole of it as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "cli.h"
#include "json.h"
#include "names.h"
#include "outcome.h"
#include "plan.h"
#include "render.h"
#include "target.h"
#include "usage.h"

static const char *errno_name(long err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "error";
}

/* The results of ROLE's steps on ROW, shown as PLAN says; NULL if the
 * thread did not run them. */
static char *format_role(const struct plan *plan, const struct row *row,
			 enum step_role role)
{
	char buf[1024], one[128];
	unsigned long long mask = 0;
	unsigned s, n = 0, cap = 0;
	size_t len = 0;
	long bad = 0;

	buf[0] = '\0';
	for (s = 0; s < plan->nsteps; s++) {
		long r;

		if (plan->steps[s].role != role)
			continue;
		if (s >= row->nrun)
			return NULL;
		r = row->res[s];
		if (r < 0 && !bad)
			bad = r;
		switch (plan->format) {
		case FMT_DOMAIN:
			/* The proof: reading "/" denied. */
			return strdup(r == -EACCES ?
					      "restricted (reading / denied: "
					      "EACCES)" :
					      "not restricted (reading / not "
					      "denied)");
		case FMT_CAPSET:
			if (r > 0)
				mask |= 1ULL << cap;
			cap++;
			continue;
		case FMT_SPEC:
			if (r < 0)
				snprintf(one, sizeof(one), "error:%s",
					 errno_name(-r));
			else
				format_spec(r, one, sizeof(one));
			if (plan->nsteps > 1 && role == ROLE_READ)
				len += snprintf(
					buf + len, sizeof(buf) - len, "%s%s=%s",
					n ? " " : "",
					spec_feature_name(plan->first_feature +
							  n),
					one);
			else
				len += snprintf(buf + len, sizeof(buf) - len,
						"%s", one);
			n++;
			continue;
		default:
			break;
		}
		if (r < 0)
			snprintf(buf, sizeof(buf), "error:%s", errno_name(-r));
		else if (plan->format == FMT_SECBITS)
			format_secbits(r, buf, sizeof(buf));
		else if (plan->format == FMT_HEX)
			snprintf(buf, sizeof(buf), "0x%lx", r);
		else
			snprintf(buf, sizeof(buf), "%ld", r);
		return strdup(buf);
	}
	if (plan->format == FMT_CAPSET) {
		if (bad)
			snprintf(buf, sizeof(buf), "error:%s",
				 errno_name(-bad));
		else
			format_capset(mask, buf, sizeof(buf));
	}
	return len || plan->format == FMT_CAPSET ? strdup(buf) : NULL;
}

static const char *action_name(const struct plan *plan)
{
	if (plan->call)
		return "call";
	return plan->change ? "change" : "read";
}

static void json_steps(const struct plan *plan)
{
	unsigned s;

	printf(",\"steps\":[");
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		printf("%s{\"call\":", s ? "," : "");
		json_str(st->call);
		printf(",\"nr\":%ld,\"role\":\"%s\",\"judge\":\"%s\","
		       "\"undo\":",
		       st->nr, plan_role_name(st->role),
		       plan_judge_name(st->judge));
		json_str(st->has_undo ? st->undo : NULL);
		putchar('}');
	}
	putchar(']');
}

void render_json(const struct opts *o, const struct plan *plan,
		 const struct outcome *out)
{
	unsigned i, s;

	json_begin(o, plan->command, out->tgt, plan->what, action_name(plan),
		   plan->desc && plan->desc->flags & PF_PROCESS_WIDE);
	json_steps(plan);
	printf(",\"verdict\":");
	json_str(out->ran || (!o->dry_run && plan->format == FMT_COMM) ||
				 (!o->dry_run && plan->proc_read) ?
			 allthreads_verdict_name(out->verdict) :
			 NULL);
	printf(",\"exit\":%d,\"value\":", out->exit);
	json_str(out->folded);
	printf(",\"threads\":[");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		printf("%s{\"tid\":%d,\"state\":\"%s\",\"results\":[",
		       i ? "," : "", row->tid,
		       allthreads_thread_state_name(row->state));
		for (s = 0; s < row->nrun && s < plan->nsteps; s++)
			printf("%s%ld", s ? "," : "", row->res[s]);
		printf("],\"value\":");
		json_str(row->value);
		printf(",\"old\":");
		json_str(row->old);
		printf(",\"error\":");
		json_str(row->problem);
		json_worker(&out->after, row->after);
		printf(",\"attrs\":");
		json_attrs(row->after);
		putchar('}');
	}
	putchar(']');
	/* What the process keeps: as read after the run, or before it when
	 * it was refused. */
	json_end(o, plan, NULL, 0,
		 out->after.t ? &out->after :
		 out->look.t  ? &out->look :
				NULL);
	printf(",\"items\":null}\n");
}

/* The one value every thread shows, if they agree. */
static char *fold(const struct outcome *out)
{
	const char *v = NULL;
	unsigned i;

	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (is_absent(row->state))
			continue;
		if (!row->value || (v && strcmp(v, row->value)))
			return NULL;
		v = row->value;
	}
	return v ? strdup(v) : NULL;
}

/* -v after a credential change: "TID: Key old -> new, ..." from the
 * "Key=old ..." and "Key=new ..." lists, which name the same keys in the
 * same order. */
static void print_diff(const struct row *row)
{
	const char *a = row->old, *b = row->value;
	bool first = true;

	printf("%d:", row->tid);
	if (strcmp(a, "(unchanged)") == 0) {
		printf(" unchanged\n");
		return;
	}
	while (*a && *b) {
		size_t la = strcspn(a, " "), lb = strcspn(b, " ");
		size_t k = strcspn(a, "=");

		printf("%s %.*s %.*s -> %.*s", first ? "" : ",", (int)k, a,
		       (int)(la - k - 1), a + k + 1, (int)(lb - k - 1),
		       b + k + 1);
		first = false;
		a += la + (a[la] == ' ');
		b += lb + (b[lb] == ' ');
	}
	putchar('\n');
}

static void print_rows(const struct opts *o, const struct plan *plan,
		       const struct outcome *out)
{
	bool show_values = !plan->change || plan->call;
	unsigned i;

	if (show_values && out->folded && !o->verbose) {
		printf("all %s\n", out->folded);
		return;
	}
	if (!show_values && !o->verbose)
		return;
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (show_values)
			printf("%d %s\n", row->tid,
			       row->value ? row->value :
					    allthreads_thread_state_name(
						    row->state));
		else if (row->state != ALLTHREADS_T_OK)
			printf("%d %s\n", row->tid,
			       allthreads_thread_state_name(row->state));
		else if (plan->status_diff && row->old && row->value)
			print_diff(row);
		else if (!row->old && row->value)
			printf("%d %s\n", row->tid, row->value);
		else if (row->old || row->value)
			printf("%d %s -> %s\n", row->tid,
			       row->old ? row->old : "?",
			       row->value ? row->value : "?");
		else
			printf("%d ok\n", row->tid);
	}
}

/* Say on stderr what went wrong, thread by thread, and loudly when the
 * threads now differ. */
static void print_problems(const struct plan *plan, const struct outcome *out)
{
	unsigned i, changed = 0, blocked = 0, workers = 0;

	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (row->problem)
			fprintf(stderr, "allthreads: tid %d: %s\n", row->tid,
				row->problem);
	}
	for (i = 0; plan->call && i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (row->state == ALLTHREADS_T_FAILED &&
		    row->failed_step >= 0 && row->res[row->failed_step] >= 0) {
			fprintf(stderr,
				"allthreads: hint: %s returns a "
				"different value on each thread; try "
				"--judge=success\n",
				plan->what);
			break;
		}
	}
	for (i = 0; !out->tgt->self && i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (row->state != ALLTHREADS_T_BLOCKED)
			continue;
		if (row->problem && strstr(row->problem, "kernel worker ("))
			workers++;
		else
			blocked++;
	}
	if (blocked)
		fprintf(stderr,
			"allthreads: %u thread(s) keep the helper's signal "
			"blocked (a Go runtime thread, a raw rt_sigprocmask): "
			"the helper cannot reach them; the ptrace route "
			"(--via=ptrace) can\n",
			blocked);
	if (workers)
		fprintf(stderr,
			"allthreads: the helper's run cannot go on while a "
			"kernel worker of the process never takes its signal; "
			"the ptrace route (the default, or --via=ptrace) "
			"changes the threads and reports what it kept\n");
	/* A credential change leaves a ring's personalities as they
	 * were. */
	for (i = 0; plan->creds && out->ran && i < out->after.nrings; i++) {
		const struct uring *r = &out->after.rings[i];

		if (r->npers < 0)
			fprintf(stderr,
				"allthreads: pid %d: io_uring ring fd %d may "
				"hold registered personalities (this kernel "
				"does not list them): not changed\n",
				out->tgt->pid, r->fd);
		else
			fprintf(stderr,
				"allthreads: pid %d: io_uring ring fd %d holds "
				"%d personalit%s: not changed (allthreads "
				"show lists them)\n",
				out->tgt->pid, r->fd, r->npers,
				r->npers == 1 ? "y" : "ies");
	}
	if (out->exit != EXIT_PARTIAL)
		return;
	fprintf(stderr,
		"allthreads: PARTIAL: the threads of pid %d now "
		"differ\n",
		out->tgt->pid);
	fprintf(stderr, "allthreads: PARTIAL: changed:");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if ((row->state == ALLTHREADS_T_OK && !row->problem) ||
		    row->left) {
			fprintf(stderr, " %d", row->tid);
			changed++;
		}
	}
	fprintf(stderr,
		"%s\nallthreads: PARTIAL: not changed or not as "
		"asked:",
		changed ? "" : " none");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		if (!((row->state == ALLTHREADS_T_OK && !row->problem) ||
		      row->left) &&
		    !is_absent(row->state))
			fprintf(stderr, " %d", row->tid);
	}
	for (i = 0; plan->creds && i < out->after.nrings; i++)
		fprintf(stderr, " io_uring-fd-%d", out->after.rings[i].fd);
	fputc('\n', stderr);
}

void render_kept(FILE *f, const struct snapshot *snap)
{
	char what[128], caps[512];
	unsigned i;
	int k;

	if (!snapshot_kept(snap))
		return;
	fprintf(f,
		"pid %d keeps, apart from its threads (no change of the "
		"threads reaches it):\n",
		snap->pid);
	for (i = 0; i < snap->n; i++) {
		const struct tstatus *t = &snap->t[i];

		if (!t->worker)
			continue;
		worker_words(snap, t, what, sizeof(what));
		format_capset_fold(t->cap[CAP_EFF], caps, sizeof(caps));
		fprintf(f,
			"  tid %d %s: kernel worker, %s: uid %ld %ld %ld %ld, "
			"gid %ld %ld %ld %ld, CapEff %s\n",
			t->tid, t->comm, what, t->uid[0], t->uid[1], t->uid[2],
			t->uid[3], t->gid[0], t->gid[1], t->gid[2], t->gid[3],
			caps);
	}
	for (i = 0; i < snap->nrings; i++) {
		const struct uring *r = &snap->rings[i];

		if (r->npers < 0)
			fprintf(f,
				"  io_uring ring fd %d: personalities not "
				"listed by this kernel (any it holds keeps "
				"the credentials it was registered with)\n",
				r->fd);
		for (k = 0; k < r->npers; k++) {
			const struct kept_cred *c = &r->pers[k];

			format_capset_fold(c->capeff, caps, sizeof(caps));
			fprintf(f,
				"  io_uring ring fd %d: personality %u: uid "
				"%ld %ld %ld %ld, gid %ld %ld %ld %ld, groups "
				"%s, CapEff %s\n",
				r->fd, c->id, c->uid[0], c->uid[1], c->uid[2],
				c->uid[3], c->gid[0], c->gid[1], c->gid[2],
				c->gid[3], c->groups[0] ? c->groups : "none",
				caps);
		}
	}
}

/* Print notes that are true whatever happens. */
void render_notes(const struct opts *o, const struct plan *plan)
{
	const struct prctl_desc *d = plan->desc;
	unsigned i;

	if (o->quiet)
		return;
	for (i = 0; i < plan->nnotes; i++)
		fprintf(stderr, "allthreads: note: %s\n", plan->notes[i]);
	if (!d)
		return;
	if (d->flags & PF_PROCESS_WIDE)
		fprintf(stderr,
			"allthreads: note: %s is process-wide: one "
			"value for every thread\n",
			d->name);
	if (plan->change && o->program && d->flags & PF_EXEC_RESETS)
		fprintf(stderr,
			"allthreads: note: execve resets %s: %s will "
			"not see it\n",
			d->name, o->program[0]);
	if (plan->change && d->flags & PF_ONE_WAY && !o->dry_run && o->verbose)
		fprintf(stderr,
			"allthreads: note: %s is one-way: it cannot "
			"be undone\n",
			d->name);
}

static const struct tstatus *find_status(const struct snapshot *snap, pid_t tid)
{
	unsigned i;

	for (i = 0; i < snap->n; i++)
		if (snap->t[i].tid == tid)
			return &snap->t[i];
	return NULL;
}

static void format_ids(const long ids[4], char *buf, size_t size)
{
	snprintf(buf, size, "%ld,%ld,%ld,%ld", ids[0], ids[1], ids[2], ids[3]);
}

static void format_groups(const struct tstatus *t, char *buf, size_t size)
{
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < t->ngroups; i++)
		text_append(buf, size, "%s%u", i ? "," : "", t->groups[i]);
	if (!t->ngroups)
		snprintf(buf, size, "none");
}

/* What changed on one thread, as "Field=old ..." and "Field=new ...". */
static void status_diff(const struct tstatus *a, const struct tstatus *b,
			struct row *row)
{
	char old[2048] = "", new[2048] = "", x[1024], y[1024];
	unsigned i;

	format_ids(a->uid, x, sizeof(x));
	format_ids(b->uid, y, sizeof(y));
	if (strcmp(x, y)) {
		text_append(old, sizeof(old), " Uid=%s", x);
		text_append(new, sizeof(new), " Uid=%s", y);
	}
	format_ids(a->gid, x, sizeof(x));
	format_ids(b->gid, y, sizeof(y));
	if (strcmp(x, y)) {
		text_append(old, sizeof(old), " Gid=%s", x);
		text_append(new, sizeof(new), " Gid=%s", y);
	}
	format_groups(a, x, sizeof(x));
	format_groups(b, y, sizeof(y));
	if (strcmp(x, y)) {
		text_append(old, sizeof(old), " Groups=%s", x);
		text_append(new, sizeof(new), " Groups=%s", y);
	}
	for (i = 0; i < NR_CAPSETS; i++) {
		if (a->cap[i] == b->cap[i])
			continue;
		format_capset_fold(a->cap[i], x, sizeof(x));
		format_capset_fold(b->cap[i], y, sizeof(y));
		text_append(old, sizeof(old), " %s=%s", capset_key(i), x);
		text_append(new, sizeof(new), " %s=%s", capset_key(i), y);
	}
	if (a->nnp != b->nnp) {
		text_append(old, sizeof(old), " NoNewPrivs=%d", a->nnp);
		text_append(new, sizeof(new), " NoNewPrivs=%d", b->nnp);
	}
	if (a->seccomp != b->seccomp || a->filters != b->filters) {
		text_append(old, sizeof(old), " Seccomp=%d/%d", a->seccomp,
			    a->filters);
		text_append(new, sizeof(new), " Seccomp=%d/%d", b->seccomp,
			    b->filters);
	}
	free(row->old);
	free(row->value);
	row->old = strdup(old[0] ? old + 1 : "(unchanged)");
	row->value = strdup(new[0] ? new + 1 : "(unchanged)");
}

void render_values(const struct plan *plan, struct outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nrows; i++) {
		struct row *row = &out->rows[i];
		const struct tstatus *t;

		if (plan->nsteps && !plan->proc_read) {
			row->value = format_role(plan, row,
						 plan->change && !plan->call ?
							 ROLE_CHECK :
						 plan->call ? ROLE_CALL :
							      ROLE_READ);
			row->old = format_role(plan, row, ROLE_OLD);
		}
		t = find_status(&out->before, row->tid);
		if (plan->format == FMT_COMM && plan->change && t)
			row->old = strdup(t->comm);
		if (plan->comm && row->state == ALLTHREADS_T_OK)
			row->value = strdup(plan->comm);
		/* A domain proven by landlock_restrict_self's result only. */
		if (plan->format == FMT_DOMAIN && !row->value &&
		    row->state == ALLTHREADS_T_OK)
			row->value = strdup("restricted");
	}
}

void render_outcome(const struct opts *o, const struct plan *plan,
		    struct outcome *out)
{
	unsigned i;

	for (i = 0; plan->status_diff && i < out->nrows; i++) {
		struct row *row = &out->rows[i];
		const struct tstatus *t = find_status(&out->before, row->tid);

		if (t && row->after)
			status_diff(t, row->after, row);
	}
	out->folded = plan->status_diff ? NULL : fold(out);
	if (o->json)
		render_json(o, plan, out);
	else
		print_rows(o, plan, out);
	print_problems(plan, out);
	if (out->exit == EXIT_FAILED && plan->change && !plan->call)
		fprintf(stderr, "allthreads: %s: %s\n",
			plan->status_diff ? plan->command : plan->what,
			out->verdict == ALLTHREADS_FAILED ?
				"nothing changed" :
				"not every thread is as asked");
}
