// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * group.c - a command carried out on a group of processes: several -p
 * PIDs, a cgroup (--cgroup) or a systemd unit (--unit).  Each process goes
 * through the one-process pipeline (carry_out(), its own route), its
 * report kept; the group gets one verdict and one exit status.  A change
 * is predicted on every process first and refused everywhere when some
 * process would fail; after it, a cgroup is listed again until a pass
 * finds no process that has not changed, which closes the race with a
 * service that forks while it is being changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "expect.h"
#include "group.h"
#include "json.h"
#include "plan.h"
#include "procfs.h"
#include "run.h"
#include "target.h"
#include "usage.h"

/* Most passes over a cgroup after the change. */
#define GROUP_MAX_PASSES 16

enum member_state {
	M_PENDING,   /* listed, not yet reached */
	M_READ,	     /* a read or a dry run: its exit says how it went */
	M_CHANGED,   /* changed and proven (exit 0) */
	M_INHERITED, /* /proc shows the change already: forked from a changed
		      * process */
	M_PARTIAL,   /* its threads differ (exit 2) */
	M_UNCHANGED, /* failed or unreachable: nothing changed (exit 1, 3) */
	M_GONE,	     /* exited before it could be reached */
	M_UNREACHED, /* listed after the deadline: never tried */
	M_REFUSED,   /* predicted to fail: the change was refused */
	M_PREDICTED, /* predicted to succeed; not run (another was refused) */
};

static const char *const state_names[] = {
	[M_PENDING] = "pending", [M_READ] = "read",
	[M_CHANGED] = "changed", [M_INHERITED] = "inherited",
	[M_PARTIAL] = "partial", [M_UNCHANGED] = "unchanged",
	[M_GONE] = "gone",	 [M_UNREACHED] = "unreached",
	[M_REFUSED] = "refused", [M_PREDICTED] = "predicted",
};

struct member {
	pid_t pid;
	enum member_state state;
	int exit;
	bool change;	 /* its plan changes (not a read) */
	bool verifiable; /* /proc shows that change */
	char *out;	 /* what its run printed on stdout */
	char *err;	 /* and on stderr */
};

struct group {
	struct member *m;
	unsigned n;
	unsigned passes;
	bool closed; /* a pass found every process changed */
};

/* What one run printed, caught. */
struct capture {
	FILE *out, *err, *real_out, *real_err;
	char *obuf, *ebuf;
	size_t olen, elen;
};

static int capture_begin(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	fflush(stdout);
	fflush(stderr);
	c->out = open_memstream(&c->obuf, &c->olen);
	c->err = open_memstream(&c->ebuf, &c->elen);
	if (!c->out || !c->err) {
		if (c->out)
			fclose(c->out);
		if (c->err)
			fclose(c->err);
		free(c->obuf);
		free(c->ebuf);
		return -ENOMEM;
	}
	c->real_out = stdout;
	c->real_err = stderr;
	stdout = c->out;
	stderr = c->err;
	return 0;
}

static void capture_end(struct capture *c, struct member *m)
{
	fclose(c->out);
	fclose(c->err);
	stdout = c->real_out;
	stderr = c->real_err;
	free(m->out);
	free(m->err);
	m->out = c->obuf;
	m->err = c->ebuf;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Has PID exited (no such process, or every thread a zombie)? */
static bool is_gone(pid_t pid)
{
	char state[16];
	bool gone = true;
	pid_t *tids;
	int n, i;

	n = proc_list_tasks(pid, &tids);
	if (n < 0)
		return n == -ENOENT || n == -ESRCH;
	for (i = 0; i < n && gone; i++)
		if (proc_status_field(pid, tids[i], "State", state,
				      sizeof(state)) == 0)
			gone = state[0] == 'Z' || state[0] == 'X';
	free(tids);
	return gone;
}

/* Does /proc show PLAN's change on every thread of PID already?  Only a
 * plan /proc can verify (its expectations, or the thread name). */
static bool shows_change(const struct plan *plan, pid_t pid)
{
	struct snapshot snap;
	bool holds;
	unsigned i, s;

	/* /proc shows a domain's NO_NEW_PRIVS, never the domain. */
	if (!plan->change || (!plan->nexpect && !plan->comm) || plan->landlock)
		return false;
	if (proc_snapshot(pid, 0, &snap) < 0)
		return false;
	holds = snap.n > 0;
	for (i = 0; holds && i < snap.n; i++) {
		const struct tstatus *t = &snap.t[i];

		if (t->worker)
			continue; /* no route reaches it: judged by the run */
		for (s = 0; holds && s < plan->nexpect; s++)
			holds = expect_holds(&plan->expects[s], t);
		if (plan->comm && strcmp(t->comm, plan->comm))
			holds = false;
	}
	holds = holds && !snapshot_kept(&snap);
	snapshot_free(&snap);
	return holds;
}

/* How reach() may treat a process. */
enum reach_how {
	REACH_RUN,    /* carry the plan out */
	REACH_ACCEPT, /* unless /proc shows it changed already */
	REACH_LOOK,   /* only look: changed already, or left unreached */
};

/* CMD on M's process with options O (compiled and carried out, or run),
 * what it prints
 * caught in M, as HOW says.  M's state and exit are set. */
static void reach(const struct opts *o, const struct group_cmd *cmd,
		  struct member *m, enum reach_how how)
{
	struct target tgt = { .pid = m->pid, .tid = o->tid };
	struct capture cap;
	struct plan *plan;
	int code;

	tgt.self = m->pid == getpid();
	plan = calloc(1, sizeof(*plan));
	if (!plan || capture_begin(&cap)) {
		free(plan);
		m->state = M_UNCHANGED;
		m->exit = EXIT_FAILED;
		return;
	}
	if (cmd->run) {
		/* A command that runs itself (the reads): nothing here can
		 * tell from /proc what it did, so a new process is run on,
		 * and a run's own proof stands. */
		m->change = cmd->changes;
		m->verifiable = false;
		code = how == REACH_LOOK ? EXIT_OK : cmd->run(o, &tgt);
	} else {
		code = cmd->compile(o, plan, &tgt);
		m->change = code < 0 && plan->change;
		m->verifiable = m->change && (plan->nexpect || plan->comm) &&
				!plan->landlock;
	}
	if (code < 0 && how != REACH_RUN && shows_change(plan, m->pid)) {
		m->state = M_INHERITED;
		m->exit = EXIT_OK;
		plan_release(plan);
		free(plan);
		capture_end(&cap, m);
		return;
	}
	if (how == REACH_LOOK) {
		plan_release(plan);
		free(plan);
		capture_end(&cap, m);
		m->state = is_gone(m->pid) ? M_GONE : M_UNREACHED;
		m->exit = EXIT_UNREACHABLE;
		return;
	}
	if (code < 0)
		code = carry_out(o, plan, &tgt);
	plan_release(plan);
	free(plan);
	capture_end(&cap, m);
	m->exit = code;
	if (o->dry_run || !m->change) {
		m->state = code == EXIT_UNREACHABLE && is_gone(m->pid) ?
				   M_GONE :
				   M_READ;
		return;
	}
	/* A process that exited while it was changed (a worker an nginx
	 * reload ended) keeps nothing: it is gone, whatever its run said. */
	if (code != EXIT_OK && is_gone(m->pid))
		m->state = M_GONE;
	else if (code == EXIT_OK)
		m->state = M_CHANGED;
	else if (code == EXIT_PARTIAL)
		m->state = M_PARTIAL;
	else
		m->state = M_UNCHANGED;
}

/* M's stderr, as its run said it (not -J's object). */
static void replay_err(const struct member *m)
{
	if (m->err && *m->err)
		fputs(m->err, stderr);
}

/* M's stderr from the prediction, without the route it would take: why
 * it is predicted to fail. */
static void replay_reasons(const struct member *m)
{
	const char *line = m->err, *end;

	while (line && *line) {
		end = strchrnul(line, '\n');
		if (strncmp(line, "allthreads: note: route:", 24) != 0)
			fprintf(stderr, "%.*s\n", (int)(end - line), line);
		line = *end ? end + 1 : end;
	}
}

static struct member *find_member(struct group *g, pid_t pid)
{
	unsigned i;

	for (i = 0; i < g->n; i++)
		if (g->m[i].pid == pid)
			return &g->m[i];
	return NULL;
}

static struct member *add_member(struct group *g, pid_t pid)
{
	struct member *m = realloc(g->m, (g->n + 1) * sizeof(*m));

	if (!m)
		return NULL;
	g->m = m;
	m = &g->m[g->n++];
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	return m;
}

/*
 * The race with a service that forks while it changes: a process forked
 * by a thread that had not changed yet keeps what it inherited.  List the
 * cgroup again until a pass finds none that is not changed: a new process
 * that /proc shows changed (forked from a changed thread) is accepted, one
 * that does not is changed; a changed one that /proc no longer shows
 * changed (its pid reused, an exec) is changed again.  Ends at the
 * deadline or after GROUP_MAX_PASSES; what is left is named.
 */
static void close_race(const struct opts *o, const struct group_cmd *cmd,
		       struct group *g)
{
	unsigned timeout = o->timeout_ms ? o->timeout_ms :
					   ALLTHREADS_DEFAULT_TIMEOUT_MS;
	long deadline = now_ms() + timeout;
	pid_t *pids = NULL;
	unsigned npids, i;
	int err;

	for (g->passes = 1;; g->passes++) {
		/* The last pass only looks: past the deadline or the pass
		 * count, a process /proc shows changed is accepted, any
		 * other is named as not reached. */
		bool last = g->passes >= GROUP_MAX_PASSES ||
			    now_ms() >= deadline;
		unsigned work = 0;

		npids = 0;
		err = cgroup_list(o->group_dir, &pids, &npids);
		if (err < 0) {
			fprintf(stderr, "allthreads: %s: %s\n", o->group_dir,
				strerror(-err));
			break;
		}
		for (i = 0; i < npids; i++) {
			struct member *m = find_member(g, pids[i]);
			enum member_state was;

			if (m && m->state != M_CHANGED &&
			    m->state != M_INHERITED)
				continue; /* tried: its outcome stands */
			/* A change /proc cannot show: the run's proof
			 * stands. */
			if (m && !m->verifiable)
				continue;
			if (!m) {
				m = add_member(g, pids[i]);
				if (!m)
					break;
			}
			was = m->state;
			last = last || now_ms() >= deadline;
			reach(o, cmd, m, last ? REACH_LOOK : REACH_ACCEPT);
			replay_err(m);
			/* Checked and still changed. */
			if (m->state == M_INHERITED && was != M_PENDING) {
				m->state = was;
				continue;
			}
			/* Accepted, or gone: nothing left to do. */
			if (m->state == M_INHERITED || m->state == M_GONE)
				continue;
			work++;
		}
		if (!work)
			g->closed = true;
		if (!work || last)
			break;
	}
	free(pids);
}

/* The group's exit code from its members'. */
static int group_exit(const struct group *g, bool change)
{
	unsigned i, changed = 0, bad = 0, partial = 0, present = 0;
	int worst = EXIT_OK;

	for (i = 0; i < g->n; i++) {
		const struct member *m = &g->m[i];

		if (m->state == M_GONE)
			continue;
		present++;
		changed += m->state == M_CHANGED || m->state == M_INHERITED;
		partial += m->state == M_PARTIAL;
		bad += m->state == M_UNCHANGED || m->state == M_UNREACHED;
		if (m->exit > worst && m->state != M_PREDICTED)
			worst = m->exit;
	}
	if (!present)
		return EXIT_UNREACHABLE;
	if (!change)
		return worst;
	if (partial || (changed && bad))
		return EXIT_PARTIAL;
	return worst;
}

static void print_pids(FILE *f, const struct group *g, enum member_state a,
		       enum member_state b, const char *what)
{
	unsigned i, n = 0;

	for (i = 0; i < g->n; i++) {
		const struct member *m = &g->m[i];

		if (m->state != a && m->state != b)
			continue;
		if (!n++)
			fprintf(f, "%s:", what);
		if (m->state == M_UNCHANGED || m->state == M_UNREACHED ||
		    m->state == M_REFUSED)
			fprintf(f, " %d (exit %d)", m->pid, m->exit);
		else
			fprintf(f, " %d", m->pid);
	}
	if (n)
		fputc('\n', f);
}

static void count_states(const struct group *g, unsigned count[])
{
	unsigned i;

	for (i = 0; i < g->n; i++)
		count[g->m[i].state]++;
}

/* Which processes are which, on F. */
static void print_summary(const struct opts *o, const struct group *g, FILE *f)
{
	unsigned count[M_PREDICTED + 1] = { 0 };

	count_states(g, count);
	fprintf(f, "group: %u process(es)", g->n);
	if (o->group_dir)
		fprintf(f, " of %s", o->group_dir);
	if (g->passes)
		fprintf(f, ", listed again %u time(s)%s", g->passes,
			g->closed ? ", the last finding none unchanged" :
				    ": the deadline (--timeout) or the pass "
				    "count came first");
	fputc('\n', f);
	print_pids(f, g, M_CHANGED, M_CHANGED, "changed");
	print_pids(f, g, M_INHERITED, M_INHERITED,
		   "changed already, as /proc shows (forked from a changed "
		   "process)");
	print_pids(f, g, M_PARTIAL, M_PARTIAL, "threads differ");
	print_pids(f, g, M_UNCHANGED, M_UNCHANGED, "not changed");
	print_pids(f, g, M_UNREACHED, M_UNREACHED,
		   "not reached before the deadline");
	print_pids(f, g, M_REFUSED, M_REFUSED, "predicted to fail");
	print_pids(f, g, M_PREDICTED, M_PREDICTED, "predicted to succeed");
	print_pids(f, g, M_GONE, M_GONE, "exited meanwhile");
}

/* A member's caught report as a JSON value: the object it printed, or
 * null. */
static void json_report(const struct member *m)
{
	size_t len = m->out ? strlen(m->out) : 0;

	while (len && (m->out[len - 1] == '\n' || m->out[len - 1] == ' '))
		len--;
	if (!len || m->out[0] != '{') {
		printf("null");
		return;
	}
	fwrite(m->out, 1, len, stdout);
}

/* The last line M said on stderr, or NULL. */
static char *last_words(const struct member *m)
{
	const char *end, *start;

	if (!m->err || !*m->err)
		return NULL;
	end = m->err + strlen(m->err);
	while (end > m->err && end[-1] == '\n')
		end--;
	start = end;
	while (start > m->err && start[-1] != '\n')
		start--;
	return strndup(start, (size_t)(end - start));
}

static const char *group_verdict(int code, bool refused)
{
	if (refused)
		return "refused";
	return code == EXIT_OK	    ? "agree" :
	       code == EXIT_PARTIAL ? "partial" :
				      "failed";
}

/* The group as one JSON object (allthreads(1), JSON OUTPUT: groups). */
static void render_group_json(const struct opts *o, const struct group *g,
			      int code, bool refused)
{
	unsigned i;

	printf("{\"command\":");
	json_str(o->command);
	printf(",\"group\":{\"cgroup\":");
	json_str(o->group_dir);
	printf(",\"unit\":");
	json_str(o->unit);
	printf(",\"passes\":%u,\"closed\":%s}", g->passes,
	       g->closed ? "true" : "false");
	printf(",\"dry_run\":%s,\"verdict\":\"%s\",\"exit\":%d",
	       o->dry_run ? "true" : "false", group_verdict(code, refused),
	       code);
	printf(",\"processes\":[");
	for (i = 0; i < g->n; i++) {
		const struct member *m = &g->m[i];
		char *why = last_words(m);

		printf("%s{\"pid\":%d,\"outcome\":\"%s\",\"exit\":%d,"
		       "\"error\":",
		       i ? "," : "", m->pid, state_names[m->state], m->exit);
		json_str(m->exit ? why : NULL);
		printf(",\"report\":");
		json_report(m);
		putchar('}');
		free(why);
	}
	printf("]}\n");
}

/* Every member's report, in words, each under its pid. */
static void print_reports(const struct group *g)
{
	char head[32];
	unsigned i;

	for (i = 0; i < g->n; i++) {
		const struct member *m = &g->m[i];

		if (!m->out || !*m->out)
			continue;
		snprintf(head, sizeof(head), "pid %d:\n", m->pid);
		if (strncmp(m->out, head, strlen(head)))
			fputs(head, stdout);
		fputs(m->out, stdout);
	}
}

/* The prediction, on every process: is any predicted to fail?  Their
 * reasons said, the exit code when the change is refused (or 64), or 0
 * to go on. */
static int predict(const struct opts *o, const struct group_cmd *cmd,
		   struct group *g)
{
	struct opts dry = *o;
	unsigned i, failing = 0;
	bool change = false;

	dry.dry_run = true;
	for (i = 0; i < g->n; i++) {
		struct member *m = &g->m[i];

		reach(&dry, cmd, m, REACH_RUN);
		change |= m->change;
		if (m->exit == EXIT_USAGE) {
			replay_err(m);
			return EXIT_USAGE;
		}
		if (m->state != M_GONE && m->exit != EXIT_OK)
			failing++;
	}
	if (!change || !failing || o->force) {
		for (i = 0; i < g->n; i++) {
			free(g->m[i].out);
			free(g->m[i].err);
			g->m[i].out = g->m[i].err = NULL;
			g->m[i].state = M_PENDING;
			g->m[i].exit = 0;
		}
		return 0;
	}
	for (i = 0; i < g->n; i++) {
		struct member *m = &g->m[i];

		if (m->state == M_GONE)
			continue;
		if (m->exit != EXIT_OK) {
			m->state = M_REFUSED;
			replay_reasons(m);
		} else {
			m->state = M_PREDICTED;
		}
	}
	fprintf(stderr,
		"allthreads: %s: refused, nothing changed in any process: %u "
		"of %u predicted to fail (--force changes the others and "
		"exits 2)\n",
		o->command, failing, g->n);
	if (o->json) {
		render_group_json(o, g, EXIT_FAILED, true);
	} else if (!o->quiet) {
		print_summary(o, g, stderr);
	}
	return EXIT_FAILED;
}

bool group_named(const struct opts *o)
{
	return o->npids > 1 || o->group_dir;
}

int group_carry_out(const struct opts *o, const struct group_cmd *cmd)
{
	struct group g = { 0 };
	unsigned i;
	bool change = false;
	int code;

	for (i = 0; i < o->npids; i++)
		if (!add_member(&g, o->pids[i]))
			return EXIT_FAILED;
	code = cmd->changes && !o->dry_run ? predict(o, cmd, &g) : 0;
	if (code)
		goto out;
	for (i = 0; i < g.n; i++) {
		reach(o, cmd, &g.m[i], REACH_RUN);
		change |= g.m[i].change;
		replay_err(&g.m[i]);
		if (g.m[i].exit == EXIT_USAGE) {
			code = EXIT_USAGE;
			goto out;
		}
	}
	if (change && !o->dry_run && o->group_dir)
		close_race(o, cmd, &g);
	/* A process the command could not even compile a change for (its
	 * names, its state) took no part: not changed, or nothing to do. */
	for (i = 0; change && !o->dry_run && i < g.n; i++)
		if (g.m[i].state == M_READ)
			g.m[i].state = g.m[i].exit ? M_UNCHANGED : M_INHERITED;
	code = group_exit(&g, change && !o->dry_run);
	if (o->json) {
		render_group_json(o, &g, code, false);
		goto out;
	}
	print_reports(&g);
	if (code == EXIT_PARTIAL && change && !o->dry_run)
		fprintf(stderr,
			"allthreads: %s: THE GROUP'S PROCESSES DIFFER: some "
			"changed, some did not\n",
			o->command);
	if (!o->quiet && change && !o->dry_run &&
	    (o->verbose || code != EXIT_OK))
		print_summary(o, &g, code == EXIT_OK ? stdout : stderr);
	else if (!g.closed && g.passes && !o->quiet)
		print_summary(o, &g, stderr);
out:
	for (i = 0; i < g.n; i++) {
		free(g.m[i].out);
		free(g.m[i].err);
	}
	free(g.m);
	return code;
}
