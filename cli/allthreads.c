// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * allthreads - apply a system call to every thread of a process.
 *
 *   allthreads [OPTIONS] COMMAND [ARG...] [-- PROGRAM [ARG...]]
 *
 * Each command compiles its arguments into a plan (plan.h): the steps every
 * thread runs in one visit, and how to verify the change.  The plan is
 * printed (--dry-run) or run through liballthreads, verified through the
 * per-thread results and /proc, reported, and, if a PROGRAM follows `--`,
 * PROGRAM is executed in place of allthreads.
 *
 * Exit status (DESIGN.md): 0 every thread changed and verified; 1 failed,
 * nothing changed; 2 partial, threads now differ; 3 target unreachable;
 * 64 usage; 126 PROGRAM not executable; 127 PROGRAM not found.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allthreads.h"
#include "config.h"
#include "names.h"
#include "plan.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_PARTIAL = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_USAGE = 64,
	EXIT_NOEXEC = 126,
	EXIT_NOTFOUND = 127,
};

/* Most test threads --test-threads may start. */
#define TEST_THREADS_MAX 1000
/* Longest --timeout, in milliseconds. */
#define TIMEOUT_MAX (3600 * 1000)

/* Everything the command line says, filled by argp through
 * state->input. */
struct opts {
	bool json;
	bool verbose;
	bool quiet;
	bool dry_run;
	unsigned timeout_ms; /* 0: the engine's default */
	enum allthreads_mismatch policy;
	enum allthreads_judge judge; /* syscall --judge */
	unsigned test_threads;
	unsigned test_block; /* how many of them block every signal */
	bool in_command;     /* parsing the command's own arguments */
	char **cmd_argv;     /* COMMAND and everything after it */
	int cmd_argc;
	char **args; /* the command's arguments, before `--` */
	int nargs;
	char **program; /* after `--`, or NULL */
};

/* One thread's part of the outcome. */
struct row {
	pid_t tid;
	enum allthreads_thread_state state;
	unsigned nrun;
	long res[PLAN_MAX_STEPS];
	int failed_step;
	unsigned left; /* steps left in force after a failure */
	char *value;   /* the read, the result, or the new value */
	char *old;     /* before the change (-v) */
	char *problem; /* what is wrong with the thread, or NULL */
};

struct outcome {
	struct row *rows;
	unsigned nrows;
	bool ran; /* the engine ran (not /proc only, not -n) */
	enum allthreads_verdict verdict;
	int rc; /* allthreads_run()'s return */
	int exit;
	char *folded;	   /* the value every thread shows, or NULL */
	unsigned unlisted; /* threads /proc lists that the run missed */
};

/* argp's, so visible to libc: the build hides symbols by default. */
__attribute__((visibility("default")))
const char *argp_program_version = "allthreads " ALLTHREADS_VERSION;

enum {
	OPT_TIMEOUT = 0x100,
	OPT_MISMATCH,
	OPT_TEST_THREADS,
	OPT_TEST_BLOCK,
	OPT_JUDGE,
};

static const struct argp_option global_options[] = {
	{ NULL, 0, NULL, 0, "Output:", 1 },
	{ "json", 'J', NULL, 0,
	  "one JSON object on stdout: command, verdict, threads", 1 },
	{ "verbose", 'v', NULL, 0, "one line per thread (old -> new)", 1 },
	{ "quiet", 'q', NULL, 0, "no notes, only errors", 1 },
	{ NULL, 0, NULL, 0, "Running:", 2 },
	{ "dry-run", 'n', NULL, 0, "print the steps in order, change nothing",
	  2 },
	{ "timeout", OPT_TIMEOUT, "MS", 0,
	  "bound on the whole operation (default 5000)", 2 },
	{ "on-mismatch", OPT_MISMATCH, "POLICY", 0,
	  "when threads end up different: report (undo what can be undone; "
	  "the default), kill (the process), ignore (keep them as they are)",
	  2 },
	{ "test-threads", OPT_TEST_THREADS, "N", OPTION_HIDDEN,
	  "start N idle threads first (for the test suite)", 2 },
	{ "test-block", OPT_TEST_BLOCK, "N", OPTION_HIDDEN,
	  "the first N of them block every signal (for the test suite)", 2 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "give this help list", -1 },
	{ NULL },
};

static const struct argp_option syscall_options[] = {
	{ "judge", OPT_JUDGE, "HOW", 0,
	  "equal (every thread returns what the first did; the default), "
	  "success (any result >= 0) or any (errors too)",
	  0 },
	{ NULL },
};

static void fail_usage(struct argp_state *state, const char *what,
		       const char *arg, const char *why)
{
	argp_error(state, "%s: %s: %s", what, arg, why);
}

static int parse_global(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	unsigned long v;

	switch (key) {
	case 'J':
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'n':
		o->dry_run = true;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_TIMEOUT:
		if (parse_ulong(arg, &v) || v == 0 || v > TIMEOUT_MAX)
			fail_usage(state, "--timeout", arg,
				   "not a number of milliseconds (1..3600000)");
		o->timeout_ms = v;
		break;
	case OPT_MISMATCH:
		if (strcmp(arg, "report") == 0)
			o->policy = ALLTHREADS_MISMATCH_REPORT;
		else if (strcmp(arg, "kill") == 0)
			o->policy = ALLTHREADS_MISMATCH_KILL;
		else if (strcmp(arg, "ignore") == 0)
			o->policy = ALLTHREADS_MISMATCH_IGNORE;
		else
			fail_usage(state, "--on-mismatch", arg,
				   "not report, kill or ignore");
		break;
	case OPT_TEST_THREADS:
		if (parse_ulong(arg, &v) || v > TEST_THREADS_MAX)
			fail_usage(state, "--test-threads", arg,
				   "not a number (0..1000)");
		o->test_threads = v;
		break;
	case OPT_TEST_BLOCK:
		if (parse_ulong(arg, &v) || v > TEST_THREADS_MAX)
			fail_usage(state, "--test-block", arg,
				   "not a number (0..1000)");
		o->test_block = v;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The first argument is COMMAND (or, below a command, its first
 * argument): keep it and everything after it, untouched, for the command,
 * so that negative numbers and PROGRAM's own options reach it intact. */
static int parse_root(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		break;
	case ARGP_KEY_ARG:
		o->cmd_argv = &state->argv[state->next - 1];
		o->cmd_argc = state->argc - (state->next - 1);
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!o->cmd_argv && !o->in_command)
			argp_error(state, "missing COMMAND");
		break;
	default:
		return parse_global(key, arg, state);
	}
	return 0;
}

static int parse_syscall_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	if (key != OPT_JUDGE)
		return parse_root(key, arg, state);
	if (strcmp(arg, "equal") == 0)
		o->judge = ALLTHREADS_JUDGE_EQUAL;
	else if (strcmp(arg, "success") == 0)
		o->judge = ALLTHREADS_JUDGE_SUCCESS;
	else if (strcmp(arg, "any") == 0)
		o->judge = ALLTHREADS_JUDGE_ANY;
	else
		fail_usage(state, "--judge", arg, "not equal, success or any");
	return 0;
}

static const struct argp global_argp = {
	.options = global_options,
	.parser = parse_global,
};

static const struct argp_child global_children[] = {
	{ &global_argp, 0, NULL, 0 },
	{ NULL },
};

static const struct argp root_argp = {
	.parser = parse_root,
	.args_doc = "COMMAND [ARG...] [-- PROGRAM [ARG...]]",
	.doc = "Apply a system call to every thread of a process, verify "
	       "every thread, and say exactly what happened.  Without a "
	       "target, the process is allthreads itself: with -- PROGRAM, "
	       "PROGRAM runs after the change (like setpriv).\v"
	       "Commands:\n"
	       "  prctl NAME [VALUE [ARG...]]  set a prctl on every thread;\n"
	       "                               without VALUE, print it\n"
	       "  syscall NAME|NR [ARG...]     any system call, by libseccomp\n"
	       "                               name or by number\n"
	       "\n"
	       "prctl names (any case; PR_, PR_SET_, PR_GET_ optional):\n"
	       "  KEEP_CAPS 0|1        NO_NEW_PRIVS 1      NAME TEXT\n"
	       "  DUMPABLE 0|1         TIMERSLACK NS       PDEATHSIG SIG\n"
	       "  SECUREBITS MASK|NAMES                    IO_FLUSHER 0|1\n"
	       "  CAPBSET_DROP CAP     CAPBSET_READ CAP\n"
	       "  CAP_AMBIENT RAISE|LOWER|IS_SET CAP    CAP_AMBIENT CLEAR_ALL\n"
	       "  SPECULATION_CTRL FEATURE [STATE]\n"
	       "CAP: cap_net_raw, net_raw, CAP_NET_RAW or 13.\n"
	       "\n"
	       "Examples:\n"
	       "  allthreads prctl KEEP_CAPS          every thread's value\n"
	       "  allthreads -v prctl KEEP_CAPS 1     set it, line per thread\n"
	       "  allthreads prctl NO_NEW_PRIVS 1 -- ./server --flag\n"
	       "  allthreads -n prctl CAPBSET_DROP net_raw\n"
	       "  allthreads syscall getpid\n"
	       "\n"
	       "Exit status: 0 every thread changed and verified; 1 failed,\n"
	       "nothing changed; 2 partial: threads now differ (their TIDs\n"
	       "are printed); 3 target unreachable; 64 usage; 126 PROGRAM\n"
	       "not executable; 127 PROGRAM not found.",
	.children = global_children,
};

static const struct argp prctl_argp = {
	.parser = parse_root,
	.args_doc = "NAME [VALUE [ARG...]] [-- PROGRAM [ARG...]]",
	.doc = "Change a prctl on every thread, or, without VALUE, print "
	       "every thread's value (one line `TID VALUE` per thread, or "
	       "`all VALUE` when they agree).",
	.children = global_children,
};

static const struct argp_child syscall_children[] = {
	{ &global_argp, 0, "Global options:", 0 },
	{ NULL },
};

static const struct argp syscall_argp = {
	.options = syscall_options,
	.parser = parse_syscall_opt,
	.args_doc = "NAME|NR [ARG...] [-- PROGRAM [ARG...]]",
	.doc = "Run one system call on every thread of allthreads itself.  "
	       "Names are libseccomp's for this architecture; arguments are "
	       "numbers (decimal or 0x hexadecimal).",
	.children = syscall_children,
};

/* --- reading /proc ------------------------------------------------------ */

static void task_path(char *buf, size_t size, pid_t tid, const char *file)
{
	snprintf(buf, size, "/proc/self/task/%d/%s", tid, file);
}

/* Read a small /proc file into BUF, without its last newline. */
static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* The value of FIELD in TID's status file, e.g. "NoNewPrivs". */
static int read_status(pid_t tid, const char *field, char *out, size_t size)
{
	char path[64], buf[4096];
	size_t flen = strlen(field);
	char *line;
	int err;

	task_path(path, sizeof(path), tid, "status");
	err = read_small(path, buf, sizeof(buf));
	if (err)
		return err;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			line += flen + 1;
			line += strspn(line, " \t");
			snprintf(out, size, "%.*s", (int)strcspn(line, "\n"),
				 line);
			return 0;
		}
	}
	return -ENOENT;
}

/* Every TID /proc lists now, into a new array; returns the count or
 * -errno. */
static int list_tasks(pid_t **tids)
{
	size_t n = 0, cap = 64;
	struct dirent *de;
	pid_t *v, *nv;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		return -errno;
	v = malloc(cap * sizeof(*v));
	if (!v)
		goto out_nomem;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			nv = realloc(v, 2 * cap * sizeof(*v));
			if (!nv)
				goto out_nomem;
			v = nv;
			cap *= 2;
		}
		v[n++] = atoi(de->d_name);
	}
	closedir(dir);
	*tids = v;
	return n;
out_nomem:
	free(v);
	closedir(dir);
	return -ENOMEM;
}

/* --- formatting ----------------------------------------------------------- */

static const char *errno_name(long err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "error";
}

static const char *state_name(enum allthreads_thread_state s)
{
	static const char *const names[] = {
		[ALLTHREADS_T_OK] = "ok",
		[ALLTHREADS_T_FAILED] = "failed",
		[ALLTHREADS_T_BLOCKED] = "blocked",
		[ALLTHREADS_T_TIMEOUT] = "timeout",
		[ALLTHREADS_T_QUEUE_FULL] = "queue-full",
		[ALLTHREADS_T_ZOMBIE] = "zombie",
		[ALLTHREADS_T_EXITED] = "exited",
		[ALLTHREADS_T_UNDONE] = "undone",
		[ALLTHREADS_T_NOT_RUN] = "not-run",
	};

	if ((unsigned)s < sizeof(names) / sizeof(names[0]) && names[s])
		return names[s];
	return "unknown";
}

static const char *verdict_name(enum allthreads_verdict v)
{
	switch (v) {
	case ALLTHREADS_AGREE:
		return "agree";
	case ALLTHREADS_PARTIAL:
		return "partial";
	case ALLTHREADS_FAILED:
		return "failed";
	}
	return "unknown";
}

static const char *role_name(enum step_role r)
{
	static const char *const names[] = {
		[ROLE_READ] = "read",	  [ROLE_OLD] = "old",
		[ROLE_CHANGE] = "change", [ROLE_CHECK] = "check",
		[ROLE_CALL] = "call",
	};

	return names[r];
}

static const char *judge_name(enum allthreads_judge j)
{
	switch (j) {
	case ALLTHREADS_JUDGE_EQUAL:
		return "equal";
	case ALLTHREADS_JUDGE_SUCCESS:
		return "success";
	case ALLTHREADS_JUDGE_ANY:
		return "any";
	}
	return "unknown";
}

/* Threads in these states took no part and are no one's fault. */
static bool is_absent(enum allthreads_thread_state s)
{
	return s == ALLTHREADS_T_ZOMBIE || s == ALLTHREADS_T_EXITED;
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

/* Why ROW's thread is at fault, in words, or NULL. */
static char *describe(const struct plan *plan, const struct outcome *out,
		      const struct row *row)
{
	char buf[512], st[32] = "?", blk[32] = "?", wchan[64] = "?";
	char path[64];
	const struct step *step;
	long r;

	switch (row->state) {
	case ALLTHREADS_T_OK:
	case ALLTHREADS_T_ZOMBIE:
	case ALLTHREADS_T_EXITED:
	case ALLTHREADS_T_NOT_RUN:
		/* Not at fault: the thread at fault is named. */
		return NULL;
	case ALLTHREADS_T_FAILED:
	case ALLTHREADS_T_UNDONE:
		if (row->failed_step < 0 ||
		    (unsigned)row->failed_step >= plan->nsteps) {
			if (row->state == ALLTHREADS_T_UNDONE)
				snprintf(buf, sizeof(buf),
					 "changed, then "
					 "undone because another thread "
					 "failed");
			else
				snprintf(buf, sizeof(buf), "failed");
			break;
		}
		step = &plan->steps[row->failed_step];
		r = row->res[row->failed_step];
		if (r < 0)
			snprintf(buf, sizeof(buf), "%s: %s", step->call,
				 strerror(-r));
		else
			snprintf(buf, sizeof(buf),
				 "%s returned %ld, the "
				 "first thread %ld",
				 step->call, r,
				 out->rows[0].res[row->failed_step]);
		break;
	case ALLTHREADS_T_BLOCKED:
	case ALLTHREADS_T_TIMEOUT:
		read_status(row->tid, "State", st, sizeof(st));
		read_status(row->tid, "SigBlk", blk, sizeof(blk));
		task_path(path, sizeof(path), row->tid, "wchan");
		read_small(path, wchan, sizeof(wchan));
		snprintf(buf, sizeof(buf),
			 "%s (State: %s, SigBlk: %s, "
			 "wchan: %s)",
			 row->state == ALLTHREADS_T_BLOCKED ?
				 "has the signal blocked; never ran" :
				 "did not answer before the deadline",
			 st, blk, wchan);
		break;
	case ALLTHREADS_T_QUEUE_FULL:
		snprintf(buf, sizeof(buf),
			 "the signal could not be queued "
			 "before the deadline (RLIMIT_SIGPENDING)");
		break;
	default:
		snprintf(buf, sizeof(buf), "state %d", row->state);
		break;
	}
	return strdup(buf);
}

/* --- JSON --------------------------------------------------------------- */

static void json_str(const char *s)
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

static const char *action_name(const struct plan *plan)
{
	if (plan->call)
		return "call";
	return plan->change ? "change" : "read";
}

static void print_json(const struct opts *o, const struct plan *plan,
		       const struct outcome *out)
{
	unsigned i, s;
	char **p;

	printf("{\"command\":");
	json_str(plan->command);
	printf(",\"target\":{\"pid\":%d,\"self\":true}", getpid());
	printf(",\"name\":");
	json_str(plan->what);
	printf(",\"action\":\"%s\",\"process_wide\":%s,\"dry_run\":%s",
	       action_name(plan),
	       plan->desc && plan->desc->flags & PF_PROCESS_WIDE ? "true" :
								   "false",
	       o->dry_run ? "true" : "false");
	printf(",\"steps\":[");
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		printf("%s{\"call\":", s ? "," : "");
		json_str(st->call);
		printf(",\"nr\":%ld,\"role\":\"%s\",\"judge\":\"%s\","
		       "\"undo\":",
		       st->nr, role_name(st->role), judge_name(st->judge));
		json_str(st->has_undo ? st->undo : NULL);
		putchar('}');
	}
	printf("],\"verdict\":");
	json_str(out->ran || (!o->dry_run && plan->format == FMT_COMM) ?
			 verdict_name(out->verdict) :
			 NULL);
	printf(",\"exit\":%d,\"value\":", out->exit);
	json_str(out->folded);
	printf(",\"threads\":[");
	for (i = 0; i < out->nrows; i++) {
		const struct row *row = &out->rows[i];

		printf("%s{\"tid\":%d,\"state\":\"%s\",\"results\":[",
		       i ? "," : "", row->tid, state_name(row->state));
		for (s = 0; s < row->nrun && s < plan->nsteps; s++)
			printf("%s%ld", s ? "," : "", row->res[s]);
		printf("],\"value\":");
		json_str(row->value);
		printf(",\"old\":");
		json_str(row->old);
		printf(",\"error\":");
		json_str(row->problem);
		putchar('}');
	}
	printf("],\"program\":");
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
	printf("}\n");
}

/* --- the plan, printed ---------------------------------------------------- */

static void print_plan(const struct opts *o, const struct plan *plan)
{
	unsigned s;
	char **p;

	printf("dry run: nothing changes.  On every thread of allthreads "
	       "itself (pid %d), in one visit:\n",
	       getpid());
	if (plan->nsteps == 0)
		printf("  (no steps: read /proc/self/task/*/comm)\n");
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		printf("  %u. %-34s %-6s judge %s", s + 1, st->call,
		       role_name(st->role), judge_name(st->judge));
		if (st->role == ROLE_CHANGE || st->role == ROLE_CALL)
			printf(", undo: %s",
			       st->has_undo ? st->undo : "none (one-way)");
		if (st->role == ROLE_CHECK && plan->has_expect)
			printf(", expect %ld", plan->expect);
		putchar('\n');
	}
	if (plan->proc_field)
		printf("then verify %s in /proc/self/task/*/status\n",
		       plan->proc_field);
	if (plan->comm)
		printf("then verify /proc/self/task/*/comm is \"%s\"\n",
		       plan->comm);
	if (o->program) {
		printf("then exec:");
		for (p = o->program; *p; p++)
			printf(" %s", *p);
		putchar('\n');
	}
}

/* --- running ------------------------------------------------------------ */

static int run_steps(const struct opts *o, const struct plan *plan,
		     struct outcome *out)
{
	struct allthreads_report *report = NULL;
	struct allthreads_prog *prog;
	unsigned i, s, n;
	int idx, err;

	prog = allthreads_prog_new();
	if (!prog)
		return -ENOMEM;
	for (s = 0; s < plan->nsteps; s++) {
		const struct step *st = &plan->steps[s];

		idx = allthreads_prog_add(prog, st->nr, st->nargs, st->args,
					  st->judge);
		if (idx < 0) {
			err = idx;
			goto out_prog;
		}
		if (st->role == ROLE_READ || st->role == ROLE_OLD ||
		    st->role == ROLE_CHECK)
			/* Read-only: nothing to undo, never "changed". */
			err = allthreads_prog_set_undo(prog, idx, -1, NULL, -1,
						       NULL);
		else if (st->has_undo)
			err = allthreads_prog_set_undo(prog, idx, st->save_nr,
						       st->save_args,
						       st->undo_nr,
						       st->undo_args);
		else
			continue;
		if (err < 0)
			goto out_prog;
	}
	out->rc = allthreads_run(prog, o->timeout_ms, 0, o->policy, &report);
	if (!report) {
		err = out->rc < 0 ? out->rc : -EIO;
		goto out_prog;
	}
	out->ran = true;
	out->verdict = allthreads_report_verdict(report);
	n = allthreads_report_nthreads(report);
	out->rows = calloc(n ? n : 1, sizeof(*out->rows));
	if (!out->rows) {
		err = -ENOMEM;
		goto out_report;
	}
	out->nrows = n;
	for (i = 0; i < n; i++) {
		struct row *row = &out->rows[i];

		row->tid = allthreads_report_tid(report, i);
		row->state = allthreads_report_state(report, i);
		row->nrun = allthreads_report_steps_run(report, i);
		if (row->nrun > plan->nsteps)
			row->nrun = plan->nsteps;
		for (s = 0; s < plan->nsteps; s++)
			row->res[s] = allthreads_report_result(report, i, s);
		row->failed_step = allthreads_report_failed_step(report, i);
		row->left = allthreads_report_left_changed(report, i);
	}
	err = 0;
out_report:
	allthreads_report_free(report);
out_prog:
	allthreads_prog_free(prog);
	return err;
}

/* NAME without VALUE: the thread names, straight from /proc. */
static int read_comms(struct outcome *out)
{
	char path[64], buf[64];
	pid_t *tids;
	int n, i;

	n = list_tasks(&tids);
	if (n < 0)
		return n;
	out->rows = calloc(n ? n : 1, sizeof(*out->rows));
	if (!out->rows) {
		free(tids);
		return -ENOMEM;
	}
	out->nrows = n;
	out->verdict = ALLTHREADS_AGREE;
	for (i = 0; i < n; i++) {
		struct row *row = &out->rows[i];

		row->tid = tids[i];
		task_path(path, sizeof(path), tids[i], "comm");
		if (read_small(path, buf, sizeof(buf)) < 0)
			row->state = ALLTHREADS_T_EXITED;
		else
			row->value = strdup(buf);
	}
	free(tids);
	return 0;
}

static struct row *find_row(struct outcome *out, pid_t tid)
{
	unsigned i;

	for (i = 0; i < out->nrows; i++)
		if (out->rows[i].tid == tid)
			return &out->rows[i];
	return NULL;
}

static void set_problem(struct row *row, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_problem(struct row *row, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(row->problem);
	row->problem = strdup(buf);
}

/* After a change every thread reported: prove it.  The CHECK steps must
 * read what was set; every thread /proc lists must have taken part; the
 * attribute /proc shows must read back.  Returns how many threads fail. */
static unsigned verify(const struct opts *o, const struct plan *plan,
		       struct outcome *out)
{
	unsigned bad = 0, i, s;
	pid_t *tids;
	int n, k;

	for (i = 0; i < out->nrows && plan->has_expect; i++) {
		struct row *row = &out->rows[i];

		if (row->state != ALLTHREADS_T_OK)
			continue;
		for (s = 0; s < plan->nsteps; s++) {
			if (plan->steps[s].role != ROLE_CHECK ||
			    row->res[s] == plan->expect)
				continue;
			set_problem(row,
				    "%s reads %ld after the change, not "
				    "%ld",
				    plan->steps[s].call, row->res[s],
				    plan->expect);
			bad++;
			break;
		}
	}
	/* The cheap sweep, always: a thread the run missed is a failure. */
	n = list_tasks(&tids);
	if (n < 0) {
		fprintf(stderr, "allthreads: /proc/self/task: %s\n",
			strerror(-n));
		return out->nrows;
	}
	for (k = 0; k < n; k++) {
		struct row *row = find_row(out, tids[k]);
		char val[256], path[64];
		unsigned long long v;
		bool ok = true;

		if (!row) {
			fprintf(stderr,
				"allthreads: tid %d: listed in /proc "
				"but not reached by the run\n",
				tids[k]);
			out->unlisted++;
			bad++;
			continue;
		}
		if (row->state != ALLTHREADS_T_OK || row->problem ||
		    (!plan->proc_field && !plan->comm))
			continue;
		if (plan->comm) {
			task_path(path, sizeof(path), tids[k], "comm");
			if (read_small(path, val, sizeof(val)) < 0)
				continue; /* gone since */
			if (strcmp(val, plan->comm)) {
				set_problem(row,
					    "comm reads \"%s\", not "
					    "\"%s\"",
					    val, plan->comm);
				bad++;
			}
			continue;
		}
		if (read_status(tids[k], plan->proc_field, val, sizeof(val)))
			continue;
		v = strtoull(val, NULL, plan->proc_base);
		switch (plan->proc_how) {
		case PROC_EQUALS:
			ok = v == plan->proc_value;
			break;
		case PROC_BIT_SET:
			ok = v & (1ULL << plan->proc_value);
			break;
		case PROC_BIT_CLEAR:
			ok = !(v & (1ULL << plan->proc_value));
			break;
		case PROC_NONE:
			break;
		}
		if (!ok) {
			set_problem(row, "/proc shows %s: %s after the change",
				    plan->proc_field, val);
			bad++;
		}
	}
	free(tids);
	return bad;
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
					    state_name(row->state));
		else if (row->state != ALLTHREADS_T_OK)
			printf("%d %s\n", row->tid, state_name(row->state));
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
static void print_problems(const struct opts *o, const struct plan *plan,
			   const struct outcome *out)
{
	unsigned i, changed = 0;

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
	if (out->exit != EXIT_PARTIAL)
		return;
	fprintf(stderr,
		"allthreads: PARTIAL: the threads of pid %d now "
		"differ\n",
		getpid());
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
	fputc('\n', stderr);
}

static int judge_outcome(const struct opts *o, const struct plan *plan,
			 struct outcome *out)
{
	unsigned i, bad = 0, present = 0;

	for (i = 0; i < out->nrows; i++) {
		struct row *row = &out->rows[i];

		row->problem = describe(plan, out, row);
		if (!is_absent(row->state))
			present++;
		/* A read that returned an error on this thread. */
		if (row->state == ALLTHREADS_T_OK && !plan->change) {
			unsigned s;

			for (s = 0; s < row->nrun; s++) {
				if (row->res[s] >= 0)
					continue;
				set_problem(row, "%s: %s", plan->steps[s].call,
					    strerror(-row->res[s]));
				break;
			}
		}
	}
	if (!plan->change || plan->call) {
		for (i = 0; i < out->nrows; i++)
			if (out->rows[i].problem)
				bad++;
		if (!out->ran)
			return bad ? EXIT_FAILED : EXIT_OK;
		if (out->verdict == ALLTHREADS_PARTIAL)
			return EXIT_PARTIAL;
		return bad || out->verdict == ALLTHREADS_FAILED ? EXIT_FAILED :
								  EXIT_OK;
	}
	if (out->verdict == ALLTHREADS_FAILED)
		return EXIT_FAILED;
	if (out->verdict == ALLTHREADS_PARTIAL)
		return EXIT_PARTIAL;
	if (out->rc < 0)
		return EXIT_FAILED;
	bad = verify(o, plan, out);
	if (!bad)
		return EXIT_OK;
	return bad >= present + out->unlisted ? EXIT_FAILED : EXIT_PARTIAL;
}

/* Where PROGRAM would be found: 0, or the exit code execvp's failure
 * will mean (126 found but not executable, 127 not found). */
static int probe_path(const char *path)
{
	struct stat sb;

	/* A directory we may not search hides nothing we could run. */
	if (stat(path, &sb) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
			       EXIT_NOTFOUND :
			       EXIT_NOEXEC;
	if (S_ISDIR(sb.st_mode) || access(path, X_OK) < 0)
		return EXIT_NOEXEC;
	return 0;
}

static int probe_program(const char *file)
{
	const char *path = getenv("PATH"), *p;
	int worst = EXIT_NOTFOUND;

	if (!*file)
		return EXIT_NOTFOUND;
	if (strchr(file, '/'))
		return probe_path(file);
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t len = strcspn(p, ":");
		char full[PATH_MAX];
		int r;

		snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? p : ".",
			 file);
		r = probe_path(full);
		if (r == 0)
			return 0;
		if (r == EXIT_NOEXEC)
			worst = EXIT_NOEXEC;
		if (!p[len])
			break;
	}
	return worst;
}

static int exec_program(const struct opts *o)
{
	fflush(stdout);
	int err;

	execvp(o->program[0], o->program);
	err = errno;
	fprintf(stderr, "allthreads: %s: %s%s\n", o->program[0], strerror(err),
		err == ENOENT && !probe_program(o->program[0]) ?
			" (its interpreter?)" :
			"");
	/* ENOENT for a file that is there: a missing interpreter. */
	if ((err == ENOENT || err == ENOTDIR) && probe_program(o->program[0]))
		return EXIT_NOTFOUND;
	return EXIT_NOEXEC;
}

static void free_outcome(struct outcome *out)
{
	unsigned i;

	for (i = 0; i < out->nrows; i++) {
		free(out->rows[i].value);
		free(out->rows[i].old);
		free(out->rows[i].problem);
	}
	free(out->rows);
	free(out->folded);
}

/* Print notes that are true whatever happens. */
static void print_notes(const struct opts *o, const struct plan *plan)
{
	const struct prctl_desc *d = plan->desc;

	if (o->quiet || !d)
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

/* Run PLAN (or print it), verify, report, and exec PROGRAM. */
static int carry_out(const struct opts *o, struct plan *plan)
{
	struct outcome out = { .verdict = ALLTHREADS_AGREE };
	pid_t *old_tids = NULL;
	char **old_names = NULL;
	unsigned i;
	int err, code, nold = 0;

	if (o->program) {
		code = probe_program(o->program[0]);
		if (code) {
			fprintf(stderr, "allthreads: %s: %s; nothing changed\n",
				o->program[0],
				code == EXIT_NOTFOUND ? "command not found" :
							"not executable");
			return code;
		}
	}
	print_notes(o, plan);
	if (o->dry_run) {
		if (o->json)
			print_json(o, plan, &out);
		else
			print_plan(o, plan);
		return EXIT_OK;
	}
	if (plan->format == FMT_COMM && plan->change && o->verbose) {
		/* Old names for -v, read before the change. */
		struct outcome before = { 0 };

		if (read_comms(&before) == 0) {
			nold = before.nrows;
			old_tids = calloc(nold + 1, sizeof(*old_tids));
			old_names = calloc(nold + 1, sizeof(*old_names));
			for (i = 0; old_tids && old_names && i < before.nrows;
			     i++) {
				old_tids[i] = before.rows[i].tid;
				old_names[i] = before.rows[i].value;
				before.rows[i].value = NULL;
			}
		}
		free_outcome(&before);
	}
	if (plan->nsteps)
		err = run_steps(o, plan, &out);
	else
		err = read_comms(&out);
	if (err) {
		fprintf(stderr, "allthreads: %s %s: %s\n", plan->command,
			plan->what, strerror(-err));
		code = EXIT_FAILED;
		goto out;
	}
	for (i = 0; i < out.nrows; i++) {
		struct row *row = &out.rows[i];
		int k;

		if (plan->nsteps) {
			row->value = format_role(plan, row,
						 plan->change && !plan->call ?
							 ROLE_CHECK :
						 plan->call ? ROLE_CALL :
							      ROLE_READ);
			row->old = format_role(plan, row, ROLE_OLD);
		}
		for (k = 0; old_names && k < nold; k++)
			if (old_tids[k] == row->tid)
				row->old = strdup(old_names[k] ? old_names[k] :
								 "?");
		if (plan->comm && row->state == ALLTHREADS_T_OK)
			row->value = strdup(plan->comm);
	}
	code = judge_outcome(o, plan, &out);
	out.exit = code;
	out.folded = fold(&out);
	if (o->json)
		print_json(o, plan, &out);
	else
		print_rows(o, plan, &out);
	print_problems(o, plan, &out);
	if (code == EXIT_FAILED && plan->change && !plan->call)
		fprintf(stderr, "allthreads: %s: %s\n", plan->what,
			out.verdict == ALLTHREADS_FAILED ?
				"nothing changed" :
				"not every thread is as asked");
	if (code == EXIT_OK && o->program) {
		free_outcome(&out);
		return exec_program(o);
	}
out:
	for (i = 0; old_names && (int)i < nold; i++)
		free(old_names[i]);
	free(old_names);
	free(old_tids);
	free_outcome(&out);
	if (code != EXIT_OK && o->program)
		fprintf(stderr, "allthreads: not running %s\n", o->program[0]);
	return code;
}

/* --- commands ------------------------------------------------------------ */

static int usage_error(const char *msg)
{
	fprintf(stderr, "allthreads: %s\n", msg);
	return EXIT_USAGE;
}

static int cmd_prctl(const struct opts *o, struct plan *plan)
{
	char err[512];

	if (plan_prctl(plan, o->args, o->nargs, err, sizeof(err)))
		return usage_error(err);
	return -1;
}

static int cmd_syscall(const struct opts *o, struct plan *plan)
{
	long nr, args[ALLTHREADS_MAX_ARGS];
	char msg[512], *name;
	struct step *st;
	size_t len;
	int i, e;

	if (o->nargs < 1)
		return usage_error("syscall: missing NAME or NR (try: "
				   "allthreads syscall getpid)");
	e = parse_syscall(o->args[0], &nr);
	if (e == -ERANGE) {
		snprintf(msg, sizeof(msg),
			 "syscall: %s: out of range "
			 "(0..4095)",
			 o->args[0]);
		return usage_error(msg);
	}
	if (e) {
		char near[256];

		suggest_syscall(o->args[0], near, sizeof(near));
		snprintf(msg, sizeof(msg),
			 "syscall: %s: unknown system call "
			 "on this architecture (nearest: %s)",
			 o->args[0], near);
		return usage_error(msg);
	}
	if (o->nargs - 1 > ALLTHREADS_MAX_ARGS)
		return usage_error("syscall: too many arguments (at most 6)");
	for (i = 1; i < o->nargs; i++) {
		if (parse_long(o->args[i], &args[i - 1])) {
			snprintf(msg, sizeof(msg),
				 "syscall: %s: not a number "
				 "(decimal, or 0x hexadecimal)",
				 o->args[i]);
			return usage_error(msg);
		}
	}
	name = syscall_name(nr);
	plan->command = "syscall";
	plan->change = true;
	plan->call = true;
	plan->format = FMT_NUMBER;
	snprintf(plan->what, sizeof(plan->what), "%s",
		 name ? name : o->args[0]);
	st = plan_add(plan, ROLE_CALL, nr, o->nargs - 1, args, o->judge);
	len = snprintf(st->call, sizeof(st->call), "%s(", plan->what);
	for (i = 0; i < o->nargs - 1 && len < sizeof(st->call); i++)
		len += snprintf(st->call + len, sizeof(st->call) - len, "%s%ld",
				i ? ", " : "", args[i]);
	if (len < sizeof(st->call))
		snprintf(st->call + len, sizeof(st->call) - len, ")");
	free(name);
	return -1;
}

struct command {
	const char *name;
	const struct argp *argp;
	/* Fill the plan; -1 to carry it out, or an exit code. */
	int (*compile)(const struct opts *o, struct plan *plan);
};

static const struct command commands[] = {
	{ "prctl", &prctl_argp, cmd_prctl },
	{ "syscall", &syscall_argp, cmd_syscall },
	{ NULL },
};

static const struct command *find_command(const char *name)
{
	const struct command *c;
	char near[128] = "";
	unsigned best = UINT_MAX;

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (c = commands; c->name; c++)
		if (name_distance(name, c->name) < best)
			best = name_distance(name, c->name);
	for (c = commands; c->name; c++) {
		size_t len = strlen(near);

		if (name_distance(name, c->name) <= best + 1)
			snprintf(near + len, sizeof(near) - len, "%s%s",
				 len ? ", " : "", c->name);
	}
	fprintf(stderr,
		"allthreads: %s: unknown command (nearest: %s; see "
		"allthreads --help)\n",
		name, near);
	return NULL;
}

/* Idle threads for the test suite: each names itself, then waits. */
struct test_threads {
	pthread_barrier_t ready;
	unsigned next;
	unsigned block;
	pthread_mutex_t lock;
};

static void *idle_thread(void *arg)
{
	struct test_threads *t = arg;
	char name[16];
	unsigned n;

	pthread_mutex_lock(&t->lock);
	n = t->next++;
	pthread_mutex_unlock(&t->lock);
	snprintf(name, sizeof(name), "at-test-%u", n);
	prctl(PR_SET_NAME, name);
	if (n < t->block) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	}
	pthread_barrier_wait(&t->ready);
	for (;;)
		pause();
	return NULL;
}

static int start_test_threads(unsigned n, unsigned block)
{
	struct test_threads *t;
	pthread_attr_t attr;
	pthread_t th;
	unsigned i;
	int err;

	if (n == 0)
		return 0;
	/* Lives as long as the threads: until exit or exec. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->block = block;
	pthread_mutex_init(&t->lock, NULL);
	pthread_barrier_init(&t->ready, NULL, n + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < n; i++) {
		err = pthread_create(&th, &attr, idle_thread, t);
		if (err)
			return -err; /* the barrier never opens: exit now */
	}
	pthread_attr_destroy(&attr);
	pthread_barrier_wait(&t->ready);
	return 0;
}

/* Split the command's arguments at the first `--`. */
static int split_program(struct opts *o, char **argv, int argc)
{
	int i;

	o->args = argv;
	o->nargs = argc;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		o->nargs = i;
		if (i + 1 == argc)
			return usage_error("--: missing PROGRAM after --");
		o->program = &argv[i + 1];
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .policy = ALLTHREADS_MISMATCH_REPORT };
	const struct command *cmd;
	struct plan *plan;
	char *name;
	int code;

	if (argp_parse(&root_argp, argc, argv, ARGP_IN_ORDER, NULL, &o))
		return EXIT_USAGE;
	cmd = find_command(o.cmd_argv[0]);
	if (!cmd)
		return EXIT_USAGE;
	/* The command's own parse, so that `allthreads prctl --help` and
	 * options after the command name work. */
	if (asprintf(&name, "%s %s", program_invocation_short_name, cmd->name) <
	    0)
		return EXIT_FAILED;
	o.cmd_argv[0] = name;
	{
		char **sub = o.cmd_argv;
		int nsub = o.cmd_argc;

		o.cmd_argv = NULL;
		o.in_command = true;
		if (argp_parse(cmd->argp, nsub, sub, ARGP_IN_ORDER, NULL, &o))
			return EXIT_USAGE;
	}
	if (o.cmd_argv) {
		code = split_program(&o, o.cmd_argv, o.cmd_argc);
		if (code)
			return code;
	}
	if (o.quiet && o.verbose)
		return usage_error("-q and -v: contradictory (choose one)");
	if (o.json && o.program && !o.dry_run)
		return usage_error("--json and -- PROGRAM: contradictory (the "
				   "program's output would follow the report)");
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return EXIT_FAILED;
	code = cmd->compile(&o, plan);
	if (code >= 0)
		goto out;
	if (o.program && !plan->change) {
		code = usage_error("-- PROGRAM follows changes only; this "
				   "command reads");
		goto out;
	}
	code = start_test_threads(o.test_threads, o.test_block);
	if (code < 0) {
		fprintf(stderr, "allthreads: --test-threads: %s\n",
			strerror(-code));
		_exit(EXIT_FAILED);
	}
	code = carry_out(&o, plan);
out:
	free(plan);
	free(name);
	return code;
}
