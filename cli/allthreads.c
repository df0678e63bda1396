// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * allthreads.c - main() of allthreads(1), which applies a system call to
 * every thread of a process: the global options and the command table.
 *
 *   allthreads [OPTIONS] COMMAND [ARG...] [-- PROGRAM [ARG...]]
 *
 * Each command compiles its arguments into a plan (plan.h): the steps every
 * thread runs in one visit, and how to verify the change.  The plan is
 * printed (--dry-run) or run through liballthreads, verified through the
 * per-thread results and /proc, reported, and, if a PROGRAM follows `--`,
 * PROGRAM is executed in place of allthreads.
 *
 * Exit status (doc/design.md): 0 every thread changed and verified; 1 failed,
 * nothing changed; 2 partial, threads now differ; 3 target unreachable;
 * 64 usage; 126 PROGRAM not executable; 127 PROGRAM not found.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allthreads.h"
#include "cli.h"
#include "commands.h"
#include "cgroup.h"
#include "config.h"
#include "group.h"
#include "names.h"
#include "plan.h"
#include "procfs.h"
#include "run.h"
#include "target.h"
#include "usage.h"

/* Longest --timeout, in milliseconds. */
#define TIMEOUT_MAX (3600 * 1000)
/* The library's default --timeout, as text for --help. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define TIMEOUT_DEFAULT_TEXT STR(ALLTHREADS_DEFAULT_TIMEOUT_MS)

/* argp's, so visible to libc: the build hides symbols by default. */
__attribute__((visibility("default")))
const char *argp_program_version = "allthreads " ALLTHREADS_VERSION;

enum {
	OPT_TIMEOUT = 0x100,
	OPT_MISMATCH,
	OPT_ALL_TASKS,
	OPT_VIA,
	OPT_FORCE,
	OPT_CGROUP,
	OPT_UNIT,
};

static const struct argp_option global_options[] = {
	{ NULL, 0, NULL, 0, "Target:", 1 },
	{ "pid", 'p', "PID[,PID...]", 0,
	  "every thread of these running processes, separated by commas or "
	  "blanks as pidof and pgrep print them (default: allthreads itself)",
	  1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0,
	  "every process of this cgroup v2 directory and of those below it "
	  "(absolute, or below the cgroup2 mount: /sys/fs/cgroup)",
	  1 },
	{ "unit", OPT_UNIT, "NAME", 0,
	  "every process of this systemd unit's control group (NAME.service "
	  "when NAME has no unit type; systemd's ControlGroup, or "
	  "system.slice/NAME where systemd does not run)",
	  1 },
	{ "tid", 't', "TID", 0,
	  "one thread only (reads: show, check, prctl NAME)", 1 },
	{ "via", OPT_VIA, "ROUTE", 0,
	  "how to reach a running process: auto (its allthreads helper if "
	  "it has one, else ptrace; the default), helper, ptrace",
	  1 },
	{ "all-tasks", OPT_ALL_TASKS, NULL, OPTION_HIDDEN,
	  "every thread (always so; for taskset -a habits)", 1 },
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "json", 'J', NULL, 0,
	  "one JSON object on stdout: command, verdict, threads", 2 },
	{ "verbose", 'v', NULL, 0, "one line per thread (old -> new)", 2 },
	{ "quiet", 'q', NULL, 0, "no notes, only errors", 2 },
	{ NULL, 0, NULL, 0, "Running:", 3 },
	{ "dry-run", 'n', NULL, 0, "print the steps in order, change nothing",
	  3 },
	{ "force", OPT_FORCE, NULL, 0,
	  "run a change even when --dry-run's prediction says a step would "
	  "fail, or the target keeps credentials no change reaches (io_uring, "
	  "kernel workers; refused by default: exit 1, nothing changed); on "
	  "a group, change the processes predicted to succeed (exit 2)",
	  3 },
	{ "timeout", OPT_TIMEOUT, "MS", 0,
	  "bound on the whole operation (default " TIMEOUT_DEFAULT_TEXT ")",
	  3 },
	{ "on-mismatch", OPT_MISMATCH, "POLICY", 0,
	  "when threads end up different: report (undo what can be undone; "
	  "the default), kill (the process), ignore (keep them as they are)",
	  3 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "give this help list", -1 },
	{ NULL },
};

static void fail_usage(struct argp_state *state, const char *what,
		       const char *arg, const char *why)
{
	argp_error(state, "%s: %s: %s", what, arg, why);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const route_names[] = {
	[ALLTHREADS_ROUTE_AUTO] = "auto",
	[ALLTHREADS_ROUTE_HELPER] = "helper",
	[ALLTHREADS_ROUTE_PTRACE] = "ptrace",
};

static const char *const policy_names[] = {
	[ALLTHREADS_MISMATCH_REPORT] = "report",
	[ALLTHREADS_MISMATCH_KILL] = "kill",
	[ALLTHREADS_MISMATCH_IGNORE] = "ignore",
};

/* ARG's index among the N NAMES, or -1. */
static int find_name(const char *arg, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return i;
	return -1;
}

static int parse_global(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;
	unsigned long v;
	int i;

	switch (key) {
	case 'p':
		/* -p "$(pidof app)" with app not running: no such process
		 * (exit 3), not a usage error. */
		if (!arg[strspn(arg, ", \t\n")]) {
			o->empty_pid = true;
			break;
		}
		switch (parse_pid_list(arg, o->pids, &o->npids, MAX_PIDS)) {
		case 0:
			break;
		case -E2BIG:
			fail_usage(state, "--pid", arg, "more than 4096 PIDs");
			break;
		default:
			fail_usage(state, "--pid", arg,
				   "not a process id (1..4194304), or a list "
				   "of them");
		}
		break;
	case 't':
		if (parse_decimal(arg, &v) || v == 0 || v > 0x400000)
			fail_usage(state, "--tid", arg,
				   "not a thread id (1..4194304)");
		o->tid = v;
		break;
	case OPT_ALL_TASKS:
		break;
	case OPT_CGROUP:
		if (o->cgroup)
			fail_usage(state, "--cgroup", arg, "one --cgroup only");
		o->cgroup = arg;
		break;
	case OPT_UNIT:
		if (o->unit)
			fail_usage(state, "--unit", arg, "one --unit only");
		o->unit = arg;
		break;
	case OPT_VIA:
		i = find_name(arg, route_names, ARRAY_SIZE(route_names));
		if (i < 0)
			fail_usage(state, "--via", arg,
				   "not auto, helper or ptrace");
		o->via = i;
		break;
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
	case OPT_FORCE:
		o->force = true;
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
		i = find_name(arg, policy_names, ARRAY_SIZE(policy_names));
		if (i < 0)
			fail_usage(state, "--on-mismatch", arg,
				   "not report, kill or ignore");
		o->policy = i;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The first argument is COMMAND (or, below a command, its first
 * argument): keep it and everything after it, untouched, for the command,
 * so that negative numbers and PROGRAM's own options reach it intact. */
int at_parse_root(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		break;
	case ARGP_KEY_ARG:
		/* Below a command, arguments after argp's own `--` are
		 * PROGRAM (set --nnp -- PROGRAM). */
		if (o->in_command && state->next >= 2 &&
		    strcmp(state->argv[state->next - 2], "--") == 0) {
			o->program = &state->argv[state->next - 1];
			state->next = state->argc;
			break;
		}
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

const struct argp at_global_argp = {
	.options = global_options,
	.parser = parse_global,
};

const struct argp_child at_global_children[] = {
	{ &at_global_argp, 0, NULL, 0 },
	{ NULL },
};

static const struct argp root_argp = {
	.parser = at_parse_root,
	.args_doc = "COMMAND [ARG...] [-- PROGRAM [ARG...]]",
	.doc = "Apply a system call to every thread of a process, verify "
	       "every thread, and say exactly what happened.  Without a "
	       "target, the process is allthreads itself: with -- PROGRAM, "
	       "PROGRAM runs after the change (like setpriv).\v"
	       "Commands (each on every thread; allthreads COMMAND --help):\n"
	       "  show                      every thread's credentials, side by\n"
	       "                            side (any process, from /proc)\n"
	       "  check [KEY=VALUE...]      exit 1 unless every thread agrees\n"
	       "                            and matches (CI gates)\n"
	       "  prctl NAME [VALUE...]     set a prctl; without VALUE, print it\n"
	       "  setuid|setgid ID          setresuid|setresgid R E S\n"
	       "  setgroups LIST            setfsuid|setfsgid ID\n"
	       "  caps TEXT                 libcap text: \"cap_net_raw=eip\"\n"
	       "  drop CAP,...|all          from every set, bounding first\n"
	       "  ambient|bounding|inheritable +CAP,-CAP   setpriv's edits\n"
	       "  seccomp --deny=CALL,...   a filter, with TSYNC\n"
	       "  set OPTION...             several changes, one visit, in a\n"
	       "                            fixed safe order (setpriv's options)\n"
	       "  syscall NAME|NR [ARG...]  any system call\n"
	       "  run [--] PROGRAM [ARG...] exec PROGRAM with the helper\n"
	       "                            preloaded, so -p PID reaches it\n"
	       "  list caps|securebits|prctl|syscalls|columns|keys|commands\n"
	       "  audit [--comm NAME] [--user U] [--expect K=V]  every\n"
	       "                            process whose threads disagree\n"
	       "  landlock --landlock-rule path-beneath:RIGHTS:PATH... \n"
	       "                            one Landlock domain on every thread\n"
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
	       "  allthreads show -p \"$(pidof nginx)\"\n"
	       "  allthreads check -p 1234 -e NoNewPrivs=1 -e CapEff=none\n"
	       "  allthreads --unit nginx check -e NoNewPrivs=1\n"
	       "  allthreads --cgroup system.slice/app.service set --nnp\n"
	       "  allthreads -p 1234 set --nnp --bounding-set=-sys_admin\n"
	       "  allthreads set --reuid=nobody --regid=nogroup --clear-groups \\\n"
	       "      --nnp -- ./server\n"
	       "  allthreads prctl KEEP_CAPS          every thread's value\n"
	       "  allthreads -v prctl KEEP_CAPS 1     set it, line per thread\n"
	       "  allthreads prctl NO_NEW_PRIVS 1 -- ./server --flag\n"
	       "  allthreads -n prctl CAPBSET_DROP net_raw\n"
	       "  allthreads syscall getpid\n"
	       "\n"
	       "Exit status: 0 every thread changed and verified; 1 failed,\n"
	       "nothing changed; 2 partial: threads now differ (their TIDs\n"
	       "are printed; in a group, some processes changed and some\n"
	       "did not); 3 target unreachable; 64 usage; 126 PROGRAM\n"
	       "not executable; 127 PROGRAM not found.",
	.children = at_global_children,
};

static const struct argp prctl_argp = {
	.parser = at_parse_root,
	.args_doc = "NAME [VALUE [ARG...]] [-- PROGRAM [ARG...]]",
	.doc = "Change a prctl on every thread, or, without VALUE, print "
	       "every thread's value (one line `TID VALUE` per thread, or "
	       "`all VALUE` when they agree).",
	.children = at_global_children,
};

/* --- commands ------------------------------------------------------------ */

static int cmd_prctl(const struct opts *o, struct plan *plan,
		     const struct target *tgt)
{
	char err[512];

	(void)tgt; /* a prctl is the same for every target */
	if (plan_prctl(plan, o->args, o->nargs, err, sizeof(err)))
		return usage_error("%s", err);
	return -1;
}

/*
 * A command is one of two kinds.  Most compile their arguments into a plan
 * for the common executor (run.c: target opening, -n, -J, the verdict,
 * PROGRAM).  The others run themselves: the reads that print tables from
 * /proc (show, check, list); audit runs once, over every -p (or the host)
 * itself.
 */
struct command {
	const char *name;
	const struct argp *argp;
	/* Fill PLAN for TGT: -1 when it is ready for carry_out(), or an exit
	 * code. */
	int (*compile)(const struct opts *o, struct plan *plan,
		       const struct target *tgt);
	/* Or run on TGT: the exit code. */
	int (*run)(const struct opts *o, const struct target *tgt);
	/* Or run once: the exit code. */
	int (*run_once)(const struct opts *o);
	bool changes;	  /* a change: -- PROGRAM may follow */
	bool dash_values; /* its arguments may start with '-' (-all, -1) */
};

#define PLAN(n, a, f, ch, dash)                                                \
	{                                                                      \
		.name = n, .argp = a, .compile = f, .changes = ch,             \
		.dash_values = dash                                            \
	}
#define RUNS(n, a, f, ch)                                                      \
	{                                                                      \
		.name = n, .argp = a, .run = f, .changes = ch                  \
	}

static const struct command commands[] = {
	PLAN("prctl", &prctl_argp, cmd_prctl, true, false),
	PLAN("syscall", &syscall_argp, cmd_syscall, true, false),
	RUNS("show", &show_argp, cmd_show, false),
	RUNS("check", &check_argp, cmd_check, false),
	RUNS("list", &list_argp, cmd_list, false),
	PLAN("set", &set_argp, cmd_recipe, true, false),
	PLAN("setuid", &setuid_argp, cmd_creds, true, false),
	PLAN("setgid", &setgid_argp, cmd_creds, true, false),
	PLAN("setresuid", &setresuid_argp, cmd_creds, true, true),
	PLAN("setresgid", &setresgid_argp, cmd_creds, true, true),
	PLAN("setgroups", &setgroups_argp, cmd_creds, true, false),
	PLAN("setfsuid", &setfsuid_argp, cmd_creds, true, false),
	PLAN("setfsgid", &setfsgid_argp, cmd_creds, true, false),
	PLAN("caps", &caps_argp, cmd_creds, true, false),
	PLAN("drop", &drop_argp, cmd_creds, true, false),
	PLAN("ambient", &ambient_argp, cmd_creds, true, true),
	PLAN("bounding", &bounding_argp, cmd_creds, true, true),
	PLAN("inheritable", &inheritable_argp, cmd_creds, true, true),
	PLAN("seccomp", &seccomp_argp, cmd_seccomp, true, false),
	{ .name = "audit", .argp = &audit_argp, .run_once = cmd_audit },
	PLAN("landlock", &landlock_argp, cmd_landlock, true, false),
	{ NULL },
};

const char *at_command_name(unsigned i)
{
	unsigned n = sizeof(commands) / sizeof(commands[0]) - 1;

	if (i < n)
		return commands[i].name;
	return i == n ? "run" : NULL; /* run execs: it is not in the table */
}

static bool command_name_of(unsigned i, const void *ctx, char *buf, size_t size)
{
	(void)ctx;
	snprintf(buf, size, "%s", commands[i].name);
	return true;
}

static const struct command *find_command(const char *name)
{
	const struct command *c;
	char near[128];

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	suggest_nearest(name, c - commands, command_name_of, NULL, 1, near,
			sizeof(near));
	fprintf(stderr,
		"allthreads: %s: unknown command (nearest: %s; see "
		"allthreads --help)\n",
		name, near);
	return NULL;
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

/*
 * ambient -all,+net_raw and setresuid -1 0 -1: a word that starts with one
 * '-' and is longer than a short option (or is a negative number) is the
 * command's first argument, not an option.  Returns how many words argp
 * should parse.
 */
static int options_end(char **argv, int argc)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || strcmp(a, "--") == 0)
			break;
		if (a[1] != '-' &&
		    (strlen(a) > 2 || isdigit((unsigned char)a[1])))
			return i;
		if (strcmp(a, "-p") == 0 || strcmp(a, "-t") == 0 ||
		    strcmp(a, "--pid") == 0 || strcmp(a, "--tid") == 0 ||
		    strcmp(a, "--timeout") == 0 || strcmp(a, "--cgroup") == 0 ||
		    strcmp(a, "--unit") == 0 || strcmp(a, "--on-mismatch") == 0)
			i++;
	}
	return argc;
}

/* The targets the command line names: -p's processes, -t's thread, or
 * allthreads itself. */
static int make_targets(const struct opts *o, struct target *tgts, unsigned *n)
{
	unsigned i;

	*n = 0;
	if (o->empty_pid && o->npids == 0) {
		fprintf(stderr, "allthreads: --pid: no process id given: no "
				"such process\n");
		return EXIT_UNREACHABLE;
	}
	if (o->npids == 0) {
		memset(&tgts[0], 0, sizeof(tgts[0]));
		tgts[0].pid = getpid();
		tgts[0].self = true;
		if (o->tid) {
			pid_t pid = proc_tgid(o->tid);

			if (pid < 0) {
				fprintf(stderr,
					"allthreads: %d: no such thread\n",
					o->tid);
				return EXIT_UNREACHABLE;
			}
			tgts[0].pid = pid;
			tgts[0].self = pid == getpid();
			tgts[0].tid = o->tid;
		}
		*n = 1;
		return 0;
	}
	if (o->tid && o->npids > 1)
		return usage_error("-t %d: with one -p PID only", o->tid);
	for (i = 0; i < o->npids; i++) {
		memset(&tgts[i], 0, sizeof(tgts[i]));
		tgts[i].pid = o->pids[i];
		tgts[i].tid = o->tid;
		/* -p $$ from a script is another process; -p of our own pid
		 * is allthreads itself. */
		tgts[i].self = o->pids[i] == getpid();
	}
	*n = o->npids;
	return 0;
}

/* --cgroup and --unit: their directory found, and its processes added
 * to -p's (0), or an exit code after saying why. */
static int resolve_group(struct opts *o)
{
	char dir[PATH_MAX];
	pid_t *pids = NULL;
	unsigned n = 0, i;
	int code, r;

	if (!o->cgroup && !o->unit)
		return 0;
	if (o->cgroup && o->unit)
		return usage_error("--cgroup and --unit: choose one");
	code = o->unit ? cgroup_unit(o->unit, dir, sizeof(dir)) :
			 cgroup_resolve(o->cgroup, dir, sizeof(dir));
	if (code)
		return code;
	o->group_dir = strdup(dir);
	if (!o->group_dir)
		return EXIT_FAILED;
	r = cgroup_list(dir, &pids, &n);
	if (r < 0) {
		fprintf(stderr, "allthreads: %s: %s\n", dir, strerror(-r));
		free(pids);
		return EXIT_UNREACHABLE;
	}
	for (i = 0; i < n; i++) {
		unsigned k;

		for (k = 0; k < o->npids && o->pids[k] != pids[i]; k++)
			;
		if (k < o->npids)
			continue;
		if (o->npids == MAX_PIDS) {
			free(pids);
			return usage_error("%s: more than %d processes", dir,
					   MAX_PIDS);
		}
		o->pids[o->npids++] = pids[i];
	}
	free(pids);
	if (!o->npids) {
		fprintf(stderr, "allthreads: %s: no process in this cgroup\n",
			dir);
		return EXIT_UNREACHABLE;
	}
	return 0;
}

/* Options that cannot go together, found before anything runs. */
static int contradictions(const struct opts *o, const struct command *cmd)
{
	if (o->quiet && o->verbose)
		return usage_error("-q and -v: contradictory (choose one)");
	if (o->json && o->program && !o->dry_run)
		return usage_error("--json and -- PROGRAM: contradictory (the "
				   "program's output would follow the report)");
	if (o->program && !cmd->changes)
		return usage_error("-- PROGRAM follows changes only; %s reads",
				   cmd->name);
	if (o->program && (o->npids || o->cgroup || o->unit))
		return usage_error("-p and -- PROGRAM: contradictory (PROGRAM "
				   "runs in place of allthreads itself; -p "
				   "changes a running process)");
	if (o->tid && (o->cgroup || o->unit || o->npids > 1))
		return usage_error("-t %d: with one -p PID only, not a "
				   "group",
				   o->tid);
	if (o->via != ALLTHREADS_ROUTE_AUTO && !o->npids && !o->tid &&
	    !o->cgroup && !o->unit)
		return usage_error("--via=%s: names the route to a running "
				   "process (-p PID); allthreads itself is "
				   "changed directly",
				   route_names[o->via]);
	return 0;
}

/* At exit: what was printed must have reached stdout (a full disk, a
 * closed pipe, /dev/full), or the exit status says it did not.  A stdout
 * closed from the start with nothing written is no error. */
static void close_stdout(void)
{
	bool pending = __fpending(stdout) > 0;
	bool failed = ferror(stdout);
	int err = 0;

	if (fclose(stdout) != 0 && (pending || errno != EBADF))
		err = errno;
	if (failed && !err)
		err = EIO;
	if (err) {
		fprintf(stderr, "allthreads: write error: %s\n", strerror(err));
		_exit(EXIT_FAILED);
	}
}

/* A command of the first kind on TGT: its plan, carried out. */
static int compile_and_carry_out(const struct opts *o,
				 const struct command *cmd,
				 const struct target *tgt)
{
	struct plan *plan = calloc(1, sizeof(*plan));
	int code;

	if (!plan)
		return EXIT_FAILED;
	code = cmd->compile(o, plan, tgt);
	if (code < 0 && o->program && !plan->change)
		code = usage_error("-- PROGRAM follows changes only; this "
				   "command reads");
	if (code < 0)
		code = carry_out(o, plan, tgt);
	plan_release(plan);
	free(plan);
	return code;
}

int main(int argc, char **argv)
{
	struct opts o = { .policy = ALLTHREADS_MISMATCH_REPORT };
	struct target *tgts;
	const struct command *cmd;
	unsigned ntgts, i;
	char *name;
	int code, worst = EXIT_OK;

	atexit(close_stdout);
	if (argp_parse(&root_argp, argc, argv, ARGP_IN_ORDER, NULL, &o))
		return EXIT_USAGE;
	/* run execs a new program: no target, no plan. */
	if (strcmp(o.cmd_argv[0], "run") == 0)
		return at_cmd_run(&o, o.cmd_argc - 1, o.cmd_argv + 1);
	cmd = find_command(o.cmd_argv[0]);
	if (!cmd)
		return EXIT_USAGE;
	/* The command's own parse, so that `allthreads prctl --help` and
	 * options after the command name work. */
	if (asprintf(&name, "%s %s", program_invocation_short_name, cmd->name) <
	    0)
		return EXIT_FAILED;
	o.cmd_argv[0] = name;
	o.command = cmd->name;
	{
		char **sub = o.cmd_argv;
		int nsub = o.cmd_argc;
		int nopt = cmd->dash_values ? options_end(sub, nsub) : nsub;

		o.cmd_argv = NULL;
		o.in_command = true;
		if (argp_parse(cmd->argp, nopt, sub, ARGP_IN_ORDER, NULL, &o))
			return EXIT_USAGE;
		if (nopt < nsub && !o.cmd_argv && !o.program) {
			o.cmd_argv = &sub[nopt];
			o.cmd_argc = nsub - nopt;
		}
	}
	if (o.cmd_argv) {
		code = split_program(&o, o.cmd_argv, o.cmd_argc);
		if (code)
			return code;
	}
	code = contradictions(&o, cmd);
	if (code)
		return code;
	code = resolve_group(&o);
	if (code)
		return code;
	/* A group: one verdict for every process (audit reads them all
	 * itself). */
	if (group_named(&o) && !cmd->run_once) {
		struct group_cmd gc = { .compile = cmd->compile,
					.run = cmd->run,
					.changes = cmd->changes };

		code = group_carry_out(&o, &gc);
		free(o.group_dir);
		free(name);
		return code;
	}
	tgts = calloc(o.npids ? o.npids : 1, sizeof(*tgts));
	if (!tgts)
		return EXIT_FAILED;
	code = make_targets(&o, tgts, &ntgts);
	if (code)
		return code;
	if (cmd->run_once) {
		worst = cmd->run_once(&o);
		goto out;
	}
	for (i = 0; i < ntgts; i++) {
		code = cmd->run ? cmd->run(&o, &tgts[i]) :
				  compile_and_carry_out(&o, cmd, &tgts[i]);
		if (code == EXIT_USAGE) {
			worst = code;
			break;
		}
		if (code > worst)
			worst = code;
	}
out:
	free(tgts);
	free(o.group_dir);
	free(name);
	return worst;
}
