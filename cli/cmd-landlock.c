// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd-landlock.c - `allthreads landlock`: one Landlock domain on every
 * thread of allthreads, then PROGRAM.  The options are util-linux
 * setpriv's:
 *
 *   --landlock-access fs[:RIGHT,...]          the access rights handled
 *   --landlock-rule path-beneath:RIGHT,...:PATH  what stays allowed
 *
 * The ruleset is built here (paths opened O_PATH, in our own mount
 * namespace), then every thread, in one visit, sets NO_NEW_PRIVS and calls
 * landlock_restrict_self() on the same ruleset fd, and proves it in the
 * same visit: a directory read the ruleset forbids fails with EACCES on
 * that thread.  Where the kernel has LANDLOCK_RESTRICT_SELF_TSYNC (ABI 8,
 * Linux 7.0), the kernel restricts the other threads itself.
 *
 * The go-landlock#39 trap: a domain that forbids reading /proc would lock
 * a broadcaster that restricted itself first out of its own
 * /proc/self/task sweep.  The steps are one-way, so the engine captures
 * every thread before the calling thread runs them (allthreads_run(3));
 * and the final sweep here reads a /proc/self/task opened before the
 * change (Landlock checks at open, not at getdents).
 *
 * -p PID: allthreads_target_landlock(3): the ruleset is built in the
 * target, so the paths are resolved in its mount namespace and root, by
 * its helper (which broadcasts the same three steps there, or with TSYNC
 * restricts itself once and proves the domain on every thread) or, for a
 * process without one, by calls the ptrace route injects while every
 * thread is stopped (each thread then restricts itself).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "judge.h"
#include "plan.h"
#include "procfs.h"
#include "program.h"
#include "target.h"
#include "usage.h"

/* Rights and flags newer than the installed <linux/landlock.h> (Debian
 * 12's is Landlock ABI 2); the values are the kernel's UAPI. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3, Linux 6.2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5, Linux 6.10 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_TSYNC
#define LANDLOCK_RESTRICT_SELF_TSYNC (1U << 3) /* ABI 8, Linux 7.0 */
#endif
/* The first ABI with LANDLOCK_RESTRICT_SELF_TSYNC. */
#define ABI_TSYNC 8

/* Most rules one command line takes. */
#define MAX_RULES 64

struct right {
	const char *name; /* setpriv's */
	uint64_t bit;
	int abi;      /* the first Landlock ABI that has it */
	bool on_file; /* also on a rule for a file, not only a directory */
};

static const struct right rights[] = {
	{ "execute", LANDLOCK_ACCESS_FS_EXECUTE, 1, true },
	{ "write-file", LANDLOCK_ACCESS_FS_WRITE_FILE, 1, true },
	{ "read-file", LANDLOCK_ACCESS_FS_READ_FILE, 1, true },
	{ "read-dir", LANDLOCK_ACCESS_FS_READ_DIR, 1, false },
	{ "remove-dir", LANDLOCK_ACCESS_FS_REMOVE_DIR, 1, false },
	{ "remove-file", LANDLOCK_ACCESS_FS_REMOVE_FILE, 1, false },
	{ "make-char", LANDLOCK_ACCESS_FS_MAKE_CHAR, 1, false },
	{ "make-dir", LANDLOCK_ACCESS_FS_MAKE_DIR, 1, false },
	{ "make-reg", LANDLOCK_ACCESS_FS_MAKE_REG, 1, false },
	{ "make-sock", LANDLOCK_ACCESS_FS_MAKE_SOCK, 1, false },
	{ "make-fifo", LANDLOCK_ACCESS_FS_MAKE_FIFO, 1, false },
	{ "make-block", LANDLOCK_ACCESS_FS_MAKE_BLOCK, 1, false },
	{ "make-sym", LANDLOCK_ACCESS_FS_MAKE_SYM, 1, false },
	{ "refer", LANDLOCK_ACCESS_FS_REFER, 2, false },
	{ "truncate", LANDLOCK_ACCESS_FS_TRUNCATE, 3, true },
	{ "ioctl-dev", LANDLOCK_ACCESS_FS_IOCTL_DEV, 5, true },
};
#define NR_RIGHTS (sizeof(rights) / sizeof(rights[0]))

enum {
	OPT_ACCESS = 0x700,
	OPT_RULE,
};

static const struct argp_option landlock_options[] = {
	{ "landlock-access", OPT_ACCESS, "fs[:RIGHT,...]", 0,
	  "the access rights the domain handles (denies unless a rule "
	  "allows): fs for every file-system right the kernel has, or "
	  "fs:RIGHT,... (repeatable; default fs)",
	  0 },
	{ "landlock-rule", OPT_RULE, "path-beneath:RIGHT,...:PATH", 0,
	  "allow RIGHTs on PATH and everything beneath it (repeatable)", 0 },
	{ NULL },
};

static int parse_landlock_opt(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_ACCESS:
		if (o->nll_access >= MAX_RULES)
			argp_error(state, "--landlock-access: more than %d",
				   MAX_RULES);
		o->ll_access[o->nll_access++] = arg;
		break;
	case OPT_RULE:
		if (o->nll_rules >= MAX_RULES)
			argp_error(state, "--landlock-rule: more than %d",
				   MAX_RULES);
		o->ll_rules[o->nll_rules++] = arg;
		break;
	default:
		return at_parse_root(key, arg, state);
	}
	return 0;
}

const struct argp landlock_argp = {
	.options = landlock_options,
	.parser = parse_landlock_opt,
	.args_doc = "[-- PROGRAM [ARG...]]",
	.doc = "Put every thread of allthreads (or, with -p, of a process "
	       "started with allthreads run: its helper builds the ruleset "
	       "there) in one Landlock domain (NO_NEW_PRIVS first, as "
	       "Landlock requires), prove it on each thread, then run "
	       "PROGRAM.  The options are setpriv's.  "
	       "RIGHTs: execute, write-file, read-file, read-dir, "
	       "remove-dir, remove-file, make-char, make-dir, make-reg, "
	       "make-sock, make-fifo, make-block, make-sym, refer (ABI 2), "
	       "truncate (ABI 3), ioctl-dev (ABI 5).\v"
	       "Examples:\n"
	       "  allthreads landlock --landlock-access fs \\\n"
	       "      --landlock-rule path-beneath:execute,read-file,read-dir:/usr \\\n"
	       "      --landlock-rule path-beneath:read-file,read-dir:/etc \\\n"
	       "      -- /usr/bin/cat /etc/hostname\n"
	       "  allthreads -n landlock --landlock-rule path-beneath:read-file:/srv",
	.children = at_global_children,
};

/* Through libc's syscall(3), so the test suite's preload library
 * (tests/cli/ll-abi-shim.c) can report an older ABI. */
static long ll_create(const struct landlock_ruleset_attr *attr, size_t size,
		      uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

/* The kernel's Landlock ABI version, or an exit code after saying why
 * there is none (as a negative number). */
static int kernel_abi(void)
{
	long abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi > 0)
		return (int)abi;
	if (errno == EOPNOTSUPP)
		fprintf(stderr, "allthreads: landlock: Landlock is built into "
				"this kernel but not enabled (add landlock to "
				"the lsm= boot parameter); nothing changed\n");
	else
		fprintf(stderr,
			"allthreads: landlock: this kernel has no "
			"Landlock (%s); nothing changed\n",
			strerror(errno));
	return -EXIT_FAILED;
}

static const struct right *find_right(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < NR_RIGHTS; i++)
		if (strlen(rights[i].name) == len &&
		    strncasecmp(rights[i].name, name, len) == 0)
			return &rights[i];
	return NULL;
}

static uint64_t abi_rights(int abi)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < NR_RIGHTS; i++)
		if (rights[i].abi <= abi)
			m |= rights[i].bit;
	return m;
}

/* A list of RIGHTs ("read-file,read-dir") into *MASK; 0, or an exit code
 * after saying why.  WHAT names the option for the message. */
static int parse_rights(const char *what, const char *list, size_t len, int abi,
			uint64_t *mask)
{
	const char *p = list, *end = list + len;

	*mask = 0;
	if (!len)
		return usage_error("%s: no access rights", what);
	while (p < end) {
		size_t n = strcspn(p, ",");
		const struct right *r;

		if (p + n > end)
			n = end - p;
		r = find_right(p, n);
		if (!r) {
			char known[512] = "";
			unsigned i;

			for (i = 0; i < NR_RIGHTS; i++)
				snprintf(known + strlen(known),
					 sizeof(known) - strlen(known), "%s%s",
					 i ? ", " : "", rights[i].name);
			return usage_error("%s: %.*s: unknown access right "
					   "(known: %s)",
					   what, (int)n, p, known);
		}
		if (r->abi > abi) {
			fprintf(stderr,
				"allthreads: %s: access right %s needs "
				"Landlock ABI %d, the kernel has %d; nothing "
				"changed\n",
				what, r->name, r->abi, abi);
			return EXIT_FAILED;
		}
		*mask |= r->bit;
		p += n + 1;
	}
	return 0;
}

static void format_rights(uint64_t mask, char *buf, size_t size)
{
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < NR_RIGHTS; i++)
		if (mask & rights[i].bit)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
				 buf[0] ? "," : "", rights[i].name);
}

struct rule {
	const char *text;
	const char *path;
	uint64_t access;
};

/* Everything the command line asks for, checked against the kernel. */
struct request {
	int abi;
	uint64_t handled;
	struct rule rules[MAX_RULES];
	unsigned nrules;
	bool tsync;
	/* The per-thread proof: a directory whose listing the domain
	 * denies ("/" when read-dir is handled and no rule allows it). */
	bool can_prove;
};

/*
 * Does PATH name the root directory of ROOT_DIR ("/", or /proc/PID/root for
 * another process)?  Resolved there, symlinks and all, the way the rule's
 * open will resolve it: a symlink to "/" or a bind mount of it is the root
 * as well.  Unresolvable paths are not the root (the rule fails on them).
 */
static bool names_root(const char *root_dir, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT };
	struct stat root, st;
	int rfd, fd;
	bool same = false;

	rfd = open(root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return false;
	fd = (int)syscall(SYS_openat2, rfd, path, &how, sizeof(how));
	if (fd >= 0 && fstat(rfd, &root) == 0 && fstat(fd, &st) == 0)
		same = root.st_dev == st.st_dev && root.st_ino == st.st_ino;
	if (fd >= 0)
		close(fd);
	close(rfd);
	return same;
}

static int parse_request(const struct opts *o, const struct target *tgt,
			 struct request *rq)
{
	char root_dir[64] = "/";

	unsigned i;
	int code;

	rq->handled = 0;
	for (i = 0; i < o->nll_access; i++) {
		const char *a = o->ll_access[i];
		uint64_t m;

		if (strcmp(a, "fs") == 0) {
			rq->handled |= abi_rights(rq->abi);
			continue;
		}
		if (strncmp(a, "fs:", 3))
			return usage_error("--landlock-access: %s: not fs or "
					   "fs:RIGHT,...",
					   a);
		code = parse_rights("--landlock-access", a + 3, strlen(a + 3),
				    rq->abi, &m);
		if (code)
			return code;
		rq->handled |= m;
	}
	if (!o->nll_access)
		rq->handled = abi_rights(rq->abi);
	for (i = 0; i < o->nll_rules; i++) {
		const char *t = o->ll_rules[i], *acc, *colon;
		struct rule *r = &rq->rules[rq->nrules];
		char missing[512];

		if (strncmp(t, "path-beneath:", 13))
			return usage_error("--landlock-rule: %s: not "
					   "path-beneath:RIGHT,...:PATH",
					   t);
		acc = t + 13;
		colon = strchr(acc, ':');
		if (!colon || !colon[1])
			return usage_error(
				"--landlock-rule: %s: no PATH (the "
				"form is path-beneath:RIGHT,...:PATH)",
				t);
		code = parse_rights("--landlock-rule", acc, colon - acc,
				    rq->abi, &r->access);
		if (code)
			return code;
		if (r->access & ~rq->handled) {
			format_rights(r->access & ~rq->handled, missing,
				      sizeof(missing));
			return usage_error("--landlock-rule: %s: %s not "
					   "handled (add it to "
					   "--landlock-access)",
					   t, missing);
		}
		r->text = t;
		r->path = colon + 1;
		/* Another process resolves it in its own mount namespace,
		 * from a directory we do not choose: only an absolute path
		 * says the same there. */
		if (!tgt->self && r->path[0] != '/')
			return usage_error("--landlock-rule: %s: with -p the "
					   "PATH must be absolute (it is "
					   "resolved in the target's mount "
					   "namespace)",
					   t);
		rq->nrules++;
	}
	if (!tgt->self)
		snprintf(root_dir, sizeof(root_dir), "/proc/%d/root",
			 (int)tgt->pid);
	rq->can_prove = (rq->handled & LANDLOCK_ACCESS_FS_READ_DIR) != 0;
	for (i = 0; i < rq->nrules; i++)
		if ((rq->rules[i].access & LANDLOCK_ACCESS_FS_READ_DIR) &&
		    names_root(root_dir, rq->rules[i].path))
			rq->can_prove = false;
	return 0;
}

/* The ruleset fd, or an exit code (negative) after saying why. */
static int build_ruleset(const struct request *rq)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs =
						      rq->handled };
	unsigned i;
	int fd;

	fd = ll_create(&attr, sizeof(attr), 0);
	if (fd < 0) {
		fprintf(stderr,
			"allthreads: landlock: landlock_create_ruleset: %s; "
			"nothing changed\n",
			strerror(errno));
		return -EXIT_FAILED;
	}
	for (i = 0; i < rq->nrules; i++) {
		const struct rule *r = &rq->rules[i];
		struct landlock_path_beneath_attr pb = {
			.allowed_access = r->access,
		};
		struct stat st;

		pb.parent_fd = open(r->path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0) {
			fprintf(stderr,
				"allthreads: --landlock-rule: %s: %s; nothing "
				"changed\n",
				r->path, strerror(errno));
			close(fd);
			return -EXIT_FAILED;
		}
		if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
			uint64_t dir_only = 0;
			unsigned k;

			for (k = 0; k < NR_RIGHTS; k++)
				if (!rights[k].on_file)
					dir_only |= rights[k].bit;
			if (r->access & dir_only) {
				char bad[512];

				format_rights(r->access & dir_only, bad,
					      sizeof(bad));
				close(pb.parent_fd);
				close(fd);
				fprintf(stderr,
					"allthreads: --landlock-rule: %s: not "
					"a directory, and %s apply to "
					"directories only; nothing changed\n",
					r->path, bad);
				return -EXIT_USAGE;
			}
		}
		if (syscall(SYS_landlock_add_rule, fd,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
			fprintf(stderr,
				"allthreads: --landlock-rule: %s: "
				"landlock_add_rule: %s; nothing changed\n",
				r->text, strerror(errno));
			close(pb.parent_fd);
			close(fd);
			return -EXIT_FAILED;
		}
		close(pb.parent_fd);
	}
	return fd;
}

/* The steps: on every thread, NO_NEW_PRIVS, the domain (unless TSYNC
 * does it), and the proof. */
enum { STEP_NNP, STEP_RESTRICT, STEP_PROVE, NR_STEPS };

struct landlock_run {
	struct allthreads_report *report;
	int rc;
	unsigned kept_rings; /* --force: rings the domain cannot reach */
	int step[NR_STEPS];  /* index in the program, or -1 */
	int tsync_rc;	     /* TSYNC: the calling thread's restrict */
};

/* One visit per thread: NNP (NO_NEW_PRIVS), RESTRICT (the domain), PROVE
 * (reading "/" must fail with EACCES; judged ANY: an error is what is
 * wanted, and must not stop the thread). */
static int run_program(const struct opts *o, int fd, bool nnp_step,
		       bool restrict_step, bool prove, struct landlock_run *lr)
{
	static const char root[] = "/";
	const long nnp[] = { PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0 };
	const long ll[] = { fd, 0 };
	const long open_root[] = { AT_FDCWD, (long)root,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC };
	struct allthreads_prog *prog = allthreads_prog_new();
	int err = 0;
	unsigned s;

	if (!prog)
		return -ENOMEM;
	lr->step[STEP_NNP] = lr->step[STEP_RESTRICT] = lr->step[STEP_PROVE] =
		-1;
	if (nnp_step)
		lr->step[STEP_NNP] = allthreads_prog_add(
			prog, SYS_prctl, 5, nnp, ALLTHREADS_JUDGE_EQUAL);
	if (restrict_step)
		lr->step[STEP_RESTRICT] =
			allthreads_prog_add(prog, SYS_landlock_restrict_self, 2,
					    ll, ALLTHREADS_JUDGE_EQUAL);
	if (prove) {
		lr->step[STEP_PROVE] = allthreads_prog_add(
			prog, SYS_openat, 3, open_root, ALLTHREADS_JUDGE_ANY);
		if (lr->step[STEP_PROVE] >= 0 &&
		    allthreads_prog_set_undo(prog, lr->step[STEP_PROVE], -1,
					     NULL, -1, NULL) < 0)
			err = -EINVAL;
	}
	for (s = 0; s < NR_STEPS; s++)
		if (lr->step[s] < -1)
			err = lr->step[s];
	if (!err)
		lr->rc = allthreads_run(prog, o->timeout_ms, 0, o->policy,
					&lr->report);
	allthreads_prog_free(prog);
	return err;
}

/* --- output -------------------------------------------------------------- */

static bool thread_ok(const struct landlock_run *lr,
		      const struct landlock_run *pv, unsigned i, unsigned *pi,
		      char *why, size_t size)
{
	struct allthreads_report *r = lr->report;
	pid_t tid = allthreads_report_tid(r, i);
	long res;
	unsigned k;

	why[0] = '\0';
	if (allthreads_report_state(r, i) != ALLTHREADS_T_OK) {
		const char *w = allthreads_report_why(r, i);

		snprintf(why, size, "%s%s%s",
			 allthreads_thread_state_name(
				 allthreads_report_state(r, i)),
			 *w ? ": " : "", w);
		return false;
	}
	if (lr->step[STEP_RESTRICT] >= 0) {
		res = allthreads_report_result(r, i, lr->step[STEP_RESTRICT]);
		if (res < 0) {
			snprintf(why, size, "landlock_restrict_self: %s",
				 strerror((int)-res));
			return false;
		}
	}
	*pi = UINT32_MAX;
	if (!pv || !pv->report)
		return true;
	for (k = 0; k < allthreads_report_nthreads(pv->report); k++)
		if (allthreads_report_tid(pv->report, k) == tid)
			*pi = k;
	if (*pi == UINT32_MAX) {
		snprintf(why, size, "not reached by the proof");
		return false;
	}
	res = allthreads_report_result(pv->report, *pi, pv->step[STEP_PROVE]);
	if (res != -EACCES) {
		snprintf(why, size, "opening / gave %s, not EACCES: no domain",
			 res >= 0 ? "a file descriptor" : strerror((int)-res));
		return false;
	}
	return true;
}

static void json_landlock(const struct opts *o, const struct request *rq,
			  const struct landlock_run *lr, bool pv, int code,
			  char **reasons, unsigned n, const struct target *tgt)
{
	char name[64], acc[512];
	unsigned i, s;

	snprintf(name, sizeof(name), "%u rule(s)", rq->nrules);
	json_begin(o, "landlock", tgt, name, "change", false);
	format_rights(rq->handled, acc, sizeof(acc));
	printf(",\"steps\":[{\"call\":\"prctl(PR_SET_NO_NEW_PRIVS, 1)\","
	       "\"nr\":%d,\"role\":\"change\",\"judge\":\"equal\","
	       "\"undo\":null},{\"call\":",
	       SYS_prctl);
	snprintf(name, sizeof(name), "landlock_restrict_self(ruleset, %s)",
		 rq->tsync ? "TSYNC" : "0");
	json_str(name);
	printf(",\"nr\":%d,\"role\":\"change\",\"judge\":\"equal\","
	       "\"undo\":null}",
	       SYS_landlock_restrict_self);
	if (pv)
		printf(",{\"call\":\"openat(AT_FDCWD, \\\"/\\\", O_RDONLY|"
		       "O_DIRECTORY) = -EACCES\",\"nr\":%d,\"role\":\"check\","
		       "\"judge\":\"equal\",\"undo\":null}",
		       SYS_openat);
	printf("],\"verdict\":\"%s\",\"exit\":%d,\"value\":null,\"threads\":[",
	       code == EXIT_OK	    ? "agree" :
	       code == EXIT_PARTIAL ? "partial" :
				      "failed",
	       code);
	for (i = 0; lr->report && i < n; i++) {
		printf("%s{\"tid\":%d,\"state\":\"%s\",\"results\":[",
		       i ? "," : "", allthreads_report_tid(lr->report, i),
		       allthreads_thread_state_name(
			       allthreads_report_state(lr->report, i)));
		for (s = 0; s < allthreads_report_nsteps(lr->report); s++)
			printf("%s%ld", s ? "," : "",
			       allthreads_report_result(lr->report, i, s));
		printf("],\"value\":null,\"old\":null,\"error\":");
		json_str(reasons ? reasons[i] : NULL);
		printf(",\"worker\":null,\"attrs\":null}");
	}
	putchar(']');
	{
		struct plan *p = calloc(1, sizeof(*p));

		if (p) {
			plan_note(p, "Landlock ABI %d; handled: %s", rq->abi,
				  acc);
			for (i = 0; i < rq->nrules; i++)
				plan_note(p, "rule: %s", rq->rules[i].text);
		}
		json_end(o, p, NULL, 0, NULL);
		free(p);
	}
	printf(",\"items\":null}\n");
}

static void print_dry_run(const struct opts *o, const struct request *rq)
{
	char acc[512];
	unsigned i;

	format_rights(rq->handled, acc, sizeof(acc));
	printf("dry run: nothing changes\n");
	printf("ruleset (Landlock ABI %d): handles %s\n", rq->abi, acc);
	for (i = 0; i < rq->nrules; i++) {
		format_rights(rq->rules[i].access, acc, sizeof(acc));
		printf("  allow %s beneath %s\n", acc, rq->rules[i].path);
	}
	printf("every thread, in one visit:\n");
	printf("  1. prctl(PR_SET_NO_NEW_PRIVS, 1)\n");
	if (rq->tsync)
		printf("  2. (the calling thread) landlock_restrict_self("
		       "ruleset, LANDLOCK_RESTRICT_SELF_TSYNC)\n");
	else
		printf("  2. landlock_restrict_self(ruleset, 0)\n");
	if (rq->can_prove)
		printf("then on every thread: openat(\"/\", O_DIRECTORY) must "
		       "fail with EACCES\n");
	if (o->program)
		printf("then exec %s\n", o->program[0]);
}

/* --- another process, through its helper ----------------------------------- */

/* A thread the run did not see, with NO_NEW_PRIVS: started after the
 * change by a thread in the domain (a new thread inherits both). */
static bool started_after(pid_t pid, pid_t tid)
{
	char v[16];

	return proc_status_field(pid, tid, "NoNewPrivs", v, sizeof(v)) == 0 &&
	       strcmp(v, "1") == 0;
}

/* A Landlock domain is part of a thread's credentials: a kernel worker
 * of TGT (an io_uring SQPOLL thread) and a ring's personalities keep the
 * credentials they had, outside the domain (allthreads(1), KERNEL
 * WORKERS AND IO_URING).  Refused with the reason (EXIT_FAILED) unless
 * --force; forced, LR counts the rings, which are never verified. */
static int refuse_kept(const struct opts *o, const struct target *tgt,
		       struct landlock_run *lr)
{
	struct plan plan = { .change = true, .status_diff = true };
	struct snapshot look;
	char why[2048];
	unsigned n;

	if (proc_snapshot(tgt->pid, 0, &look))
		return 0; /* the run says what it finds */
	n = judge_kept(&plan, &look, why, sizeof(why));
	lr->kept_rings = look.nrings;
	snapshot_free(&look);
	if (!n)
		return 0;
	if (o->force) {
		if (!o->quiet)
			fprintf(stderr,
				"allthreads: note: --force: pid %d keeps what "
				"no domain of its threads reaches (%s)\n",
				tgt->pid, why);
		return 0;
	}
	fprintf(stderr,
		"allthreads: landlock: refused, nothing changed: pid %d keeps "
		"credentials that no change of its threads reaches: %s\n",
		tgt->pid, why);
	fprintf(stderr,
		"allthreads: hint: restart the process in the domain, or have "
		"it enter the domain before it creates its io_uring rings; "
		"--force restricts the threads anyway and exits 2\n");
	return EXIT_FAILED;
}

/*
 * The ruleset built in TGT (the paths resolved in its mount namespace and
 * root), the steps run on each of its threads, through liballthreads'
 * allthreads_target_landlock(3) by the route --via names; LR gets the
 * report.  0, or an exit code after saying why: 3 unreachable (no such
 * process, not allowed, no route), 1 refused (nothing changed).
 */
static int remote_landlock(const struct opts *o, const struct request *rq,
			   const struct target *tgt, struct landlock_run *lr)
{
	struct allthreads_landlock_rule rules[MAX_RULES];
	struct allthreads_target *t;
	unsigned i;
	int r, code;

	code = check_reachable(tgt);
	if (code)
		return code;
	code = refuse_kept(o, tgt, lr);
	if (code)
		return code;
	for (i = 0; i < rq->nrules; i++) {
		rules[i].allowed_access = rq->rules[i].access;
		rules[i].path = rq->rules[i].path;
	}
	r = allthreads_target_open(tgt->pid, 0, &t);
	if (r < 0)
		return remote_unreachable(tgt, r);
	r = allthreads_target_landlock(
		t, o->via, rq->handled, rules, rq->nrules,
		rq->can_prove ? ALLTHREADS_LANDLOCK_PROVE : 0, o->timeout_ms,
		o->policy, &lr->report);
	if (!lr->report) {
		const char *why = allthreads_target_why(t);

		/* -EINPROGRESS: the outcome is unknown (a lost tracer, an
		 * answer that never came), never "not reached". */
		code = r == -EINVAL || r == -E2BIG || r == -ENOMEM ?
			       EXIT_FAILED :
		       r == -EINPROGRESS ? EXIT_PARTIAL :
					   EXIT_UNREACHABLE;
		if (code == EXIT_FAILED)
			fprintf(stderr,
				"allthreads: %d: landlock: %s; nothing "
				"changed\n",
				tgt->pid, why[0] ? why : strerror(-r));
		else
			fprintf(stderr, "allthreads: %d: %s\n", tgt->pid,
				why[0] ? why : strerror(-r));
		allthreads_target_close(t);
		return code;
	}
	allthreads_target_close(t);
	lr->rc = r;
	lr->step[STEP_NNP] = ALLTHREADS_LANDLOCK_STEP_NNP;
	lr->step[STEP_RESTRICT] = ALLTHREADS_LANDLOCK_STEP_RESTRICT;
	lr->step[STEP_PROVE] = rq->can_prove ? ALLTHREADS_LANDLOCK_STEP_PROVE :
					       -1;
	return 0;
}

int cmd_landlock(const struct opts *o, const struct target *tgt)
{
	struct landlock_run lr = { .rc = 0 }, pv = { .rc = 0 };
	struct request *rq;
	char **reasons = NULL, why[256];
	pid_t *tids = NULL;
	unsigned i, n = 0, bad = 0, pi;
	int abi, fd = -1, taskfd = -1, code, swept;
	bool proved;

	if (o->nargs)
		return usage_error("landlock: %s: unexpected argument (rules "
				   "are --landlock-rule; PROGRAM follows --)",
				   o->args[0]);
	if (tgt->tid)
		return usage_error("landlock: -t %d: a domain goes on every "
				   "thread (use -p)",
				   tgt->tid);
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return EXIT_FAILED;
	abi = kernel_abi();
	if (abi < 0) {
		code = -abi;
		goto out;
	}
	rq->abi = abi;
	rq->tsync = abi >= ABI_TSYNC;
	code = parse_request(o, tgt, rq);
	if (code)
		goto out;
	if (o->dry_run) {
		print_dry_run(o, rq);
		code = EXIT_OK;
		goto out;
	}
	proved = rq->can_prove;
	if (!tgt->self) {
		/* Another process: its helper builds the ruleset there and
		 * broadcasts all three steps. */
		rq->tsync = false;
		code = remote_landlock(o, rq, tgt, &lr);
		if (code)
			goto out;
		code = EXIT_FAILED;
		goto judge;
	}
	fd = build_ruleset(rq);
	if (fd < 0) {
		code = -fd;
		fd = -1;
		goto out;
	}
	/* Opened before the change: Landlock checks a directory read at
	 * open, so the sweep afterwards still works when /proc is denied. */
	taskfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	code = EXIT_FAILED;
	/* The broadcast: all three steps in one visit.  TSYNC: NNP on
	 * every thread, then the kernel spreads the domain, then the proof. */
	if (run_program(o, fd, true, !rq->tsync, proved && !rq->tsync, &lr) ||
	    !lr.report) {
		fprintf(stderr, "allthreads: landlock: %s; nothing changed\n",
			strerror(lr.rc < 0 ? -lr.rc : ENOMEM));
		goto out;
	}
	if (rq->tsync && lr.rc == 0) {
		lr.tsync_rc = (int)syscall(SYS_landlock_restrict_self, fd,
					   LANDLOCK_RESTRICT_SELF_TSYNC);
		if (lr.tsync_rc) {
			fprintf(stderr,
				"allthreads: landlock: landlock_restrict_self"
				"(TSYNC): %s; every thread has NO_NEW_PRIVS, "
				"none has the domain\n",
				strerror(errno));
			goto out;
		}
	}
	if (proved && rq->tsync && lr.rc == 0 &&
	    (run_program(o, fd, false, false, true, &pv) || !pv.report)) {
		fprintf(stderr, "allthreads: landlock: the proof could not "
				"run\n");
		goto out;
	}
judge:
	n = allthreads_report_nthreads(lr.report);
	reasons = calloc(n ? n : 1, sizeof(*reasons));
	if (!reasons)
		goto out;
	for (i = 0; i < n; i++)
		if (!thread_ok(&lr,
			       !proved	 ? NULL :
			       rq->tsync ? &pv :
					   &lr,
			       i, &pi, why, sizeof(why))) {
			reasons[i] = strdup(why);
			bad++;
		}
	/* Nobody missed: every thread the task directory lists now. */
	if (tgt->self)
		swept = taskfd >= 0 ? proc_list_tasks_fd(taskfd, &tids) :
				      -EBADF;
	else
		swept = proc_list_tasks(tgt->pid, &tids);
	for (int k = 0; k < swept; k++) {
		for (i = 0; i < n; i++)
			if (allthreads_report_tid(lr.report, i) == tids[k])
				break;
		if (i < n)
			continue;
		if (!tgt->self && started_after(tgt->pid, tids[k])) {
			if (!o->quiet)
				fprintf(stderr,
					"allthreads: note: landlock: thread %d "
					"started after the change (from a "
					"thread in the domain: it inherits "
					"it)\n",
					tids[k]);
			continue;
		}
		fprintf(stderr,
			"allthreads: landlock: thread %d was not reached\n",
			tids[k]);
		bad++;
	}
	if (swept < 0)
		fprintf(stderr,
			"allthreads: landlock: the task directory: %s (no "
			"final sweep)\n",
			strerror(-swept));
	if (lr.kept_rings && !o->quiet)
		fprintf(stderr,
			"allthreads: landlock: pid %d: %u io_uring ring(s) may "
			"hold personalities outside the domain: not changed\n",
			tgt->pid, lr.kept_rings);
	if (lr.rc == 0 && !bad && !lr.kept_rings)
		code = EXIT_OK;
	else if (allthreads_report_verdict(lr.report) == ALLTHREADS_FAILED &&
		 lr.rc != 0)
		code = EXIT_FAILED;
	else
		code = EXIT_PARTIAL;
	if (o->json) {
		json_landlock(o, rq, &lr, proved, code, reasons, n, tgt);
	} else {
		for (i = 0; i < n; i++) {
			pid_t tid = allthreads_report_tid(lr.report, i);

			if (reasons[i])
				fprintf(stderr,
					"allthreads: landlock: thread "
					"%d: %s\n",
					tid, reasons[i]);
			else if (o->verbose)
				printf("%d restricted%s\n", tid,
				       proved ? " (reading / denied: EACCES)" :
						"");
		}
		if (code == EXIT_OK && !o->quiet && !proved)
			fprintf(stderr,
				"allthreads: note: landlock: the ruleset does "
				"not deny reading /, so the domain was proven "
				"by landlock_restrict_self's result on each "
				"thread only\n");
		if (code == EXIT_FAILED)
			fprintf(stderr, "allthreads: landlock: %s\n",
				lr.rc ? strerror(-lr.rc) : "failed");
		else if (code == EXIT_PARTIAL && !bad)
			fprintf(stderr,
				"allthreads: landlock: every thread is in the "
				"domain, not what the process keeps in "
				"io_uring\n");
		else if (code == EXIT_PARTIAL)
			fprintf(stderr,
				"allthreads: landlock: THREADS NOW DIFFER: "
				"%u thread(s) not in the domain\n",
				bad);
	}
	if (code == EXIT_OK && o->program) {
		close(fd);
		close(taskfd);
		fd = taskfd = -1;
		free(rq);
		rq = NULL;
		for (i = 0; i < n; i++)
			free(reasons[i]);
		free(reasons);
		reasons = NULL;
		allthreads_report_free(lr.report);
		allthreads_report_free(pv.report);
		lr.report = pv.report = NULL;
		free(tids);
		fflush(stdout);
		return program_exec(o->program, "",
				    " (under the new Landlock domain: does a "
				    "rule allow execute and read-file on it "
				    "and its libraries?)");
	}
out:
	if (code != EXIT_OK && o->program)
		fprintf(stderr, "allthreads: not running %s\n", o->program[0]);
	for (i = 0; reasons && i < n; i++)
		free(reasons[i]);
	free(reasons);
	free(tids);
	allthreads_report_free(lr.report);
	allthreads_report_free(pv.report);
	if (fd >= 0)
		close(fd);
	if (taskfd >= 0)
		close(taskfd);
	free(rq);
	return code;
}
