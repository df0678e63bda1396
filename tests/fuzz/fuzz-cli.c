// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz-cli.c - the allthreads command's parsers under libFuzzer.
 *
 * Input: one byte choosing the parser (modulo NR_TARGETS; bit 7 makes
 * `set` treat the target as another process), then text; parsers that
 * take several words get the lines of the text.  Every file of cli/ is linked
 * in (allthreads.c with its main renamed), so the functions run exactly as
 * the command calls them, but nothing is carried out: compile_recipe()
 * and plan_prctl() only build a plan, cmd_check() only reads /proc/self.
 *
 * Beyond the sanitizers' checks, what a parser accepts must make sense:
 * capabilities within cap_last_cap, a printed set or securebits mask
 * parses back to itself, a prctl found by a spelling is found by its
 * canonical name, a plan never holds more steps than the engine takes.
 * A broken promise aborts.  tests/fuzz/replay.c replays the corpus.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrs.h"
#include "cli.h"
#include "commands.h"
#include "filter.h"
#include "ids.h"
#include "names.h"
#include "plan.h"
#include "procfs.h"
#include "recipe.h"
#include "target.h"
#include "usage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz-cli: %s:%d: %s\n", __FILE__,     \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#define MAX_WORDS 48

/* Split TEXT (writable) into lines. */
static unsigned words(char *text, char **w, unsigned max)
{
	unsigned n = 0;
	char *p = text;

	while (n < max) {
		char *nl = strchr(p, '\n');

		w[n++] = p;
		if (!nl)
			break;
		*nl = 0;
		p = nl + 1;
	}
	return n;
}

static void fuzz_cap(const char *s)
{
	char buf[64];
	int cap, again;

	if (parse_cap(s, &cap) == 0) {
		CHECK(cap >= 0 && cap <= last_cap());
		format_cap(cap, buf, sizeof(buf));
		CHECK(parse_cap(buf, &again) == 0 && again == cap);
	} else {
		suggest_cap(s, buf, sizeof(buf));
	}
}

static void fuzz_capsets(const char *s)
{
	unsigned long long mask, again, all = all_caps_mask();
	struct cap_edit edit;
	char bad[64], buf[2048];

	if (parse_cap_list(s, &mask, bad, sizeof(bad)) == 0) {
		CHECK((mask & ~all) == 0);
		format_capset(mask, buf, sizeof(buf));
		CHECK(parse_capset_text(buf, &again, bad, sizeof(bad)) == 0);
		CHECK(again == mask);
	}
	if (parse_capset_text(s, &mask, bad, sizeof(bad)) == 0) {
		format_capset_fold(mask & all, buf, sizeof(buf));
		CHECK(parse_capset_text(buf, &again, bad, sizeof(bad)) == 0);
		CHECK(again == (mask & all));
	}
	if (parse_cap_edits(s, &edit, bad, sizeof(bad)) == 0) {
		CHECK((edit.add & ~all) == 0);
		CHECK((apply_cap_edit(&edit, 0) & ~all) == 0);
	}
}

static void fuzz_secbits(const char *s)
{
	char buf[256];
	long mask, again;

	if (parse_secbits(s, &mask) != 0)
		return;
	CHECK(mask >= 0 && mask < (1L << NR_SECBITS));
	/* Shown as 0xMASK(names): the number part reads back. */
	format_secbits(mask, buf, sizeof(buf));
	buf[strcspn(buf, "(")] = 0;
	CHECK(parse_secbits(buf, &again) == 0);
	CHECK(again == mask);
}

static void fuzz_prctl_name(const char *s)
{
	const struct prctl_desc *d, *again;
	bool get, get2;
	char buf[256];

	d = find_prctl(s, &get);
	if (!d) {
		suggest_prctl(s, buf, sizeof(buf));
		return;
	}
	again = find_prctl(d->name, &get2);
	CHECK(again == d);
}

static void fuzz_words(const char *s)
{
	long v, sig_l;
	unsigned long u;
	int sig;
	char buf[256], *name;

	(void)parse_long(s, &v);
	(void)parse_ulong(s, &u);
	if (parse_signal(s, &sig) == 0)
		CHECK(sig >= 0 && sig <= SIGRTMAX);
	if (parse_spec_feature(s, &v) == 0)
		(void)spec_feature_name(v);
	(void)parse_spec_state(s, &v);
	if (parse_ambient_op(s, &v) == 0)
		CHECK(ambient_op_name(v) != NULL);
	if (parse_syscall(s, &sig_l) == 0) {
		CHECK(sig_l >= 0);
		name = syscall_name(sig_l);
		free(name);
	} else {
		suggest_syscall(s, buf, sizeof(buf));
	}
	(void)name_distance(s, "NO_NEW_PRIVS");
	(void)attr_find(s);
}

static void fuzz_pids(const char *s)
{
	pid_t pids[MAX_PIDS];
	unsigned n = 0, i, k;

	if (parse_pid_list(s, pids, &n, MAX_PIDS) == 0)
		for (i = 0; i < n; i++)
			CHECK(pids[i] > 0);
	CHECK(n <= MAX_PIDS);
	/* A process named twice is one process. */
	for (i = 0; i < n; i++)
		for (k = i + 1; k < n; k++)
			CHECK(pids[i] != pids[k]);
}

static void check_plan(const struct plan *plan)
{
	unsigned i;

	CHECK(plan->nsteps <= PLAN_MAX_STEPS);
	CHECK(plan->nexpect <= PLAN_MAX_EXPECT);
	CHECK(plan->nnotes <= PLAN_MAX_NOTES);
	for (i = 0; i < plan->nsteps; i++) {
		CHECK(plan->steps[i].nargs <= ALLTHREADS_MAX_ARGS);
		CHECK((unsigned)plan->steps[i].judge <= ALLTHREADS_JUDGE_ANY);
		CHECK(memchr(plan->steps[i].call, 0,
			     sizeof(plan->steps[i].call)));
	}
	CHECK(memchr(plan->predict, 0, sizeof(plan->predict)));
}

static void fuzz_prctl_plan(char *text)
{
	char *w[MAX_WORDS], err[256];
	struct plan *plan = calloc(1, sizeof(*plan));
	unsigned n = words(text, w, MAX_WORDS);

	if (!plan)
		return;
	if (plan_prctl(plan, w, (int)n, err, sizeof(err)) == 0)
		check_plan(plan);
	plan_release(plan);
	free(plan);
}

/* `set`'s options as NAME=VALUE lines (a bare NAME for a flag). */
static void fuzz_set(char *text, bool foreign, bool seccomp_only)
{
	struct set_args a = { 0 };
	struct target tgt = { .pid = getpid(), .self = !foreign };
	char *w[MAX_WORDS];
	unsigned n = words(text, w, MAX_WORDS), i;
	struct plan *plan;
	int code;

	for (i = 0; i < n; i++) {
		char *eq = strchr(w[i], '=');
		const char *k = w[i], *v = eq ? eq + 1 : NULL;

		if (eq)
			*eq = 0;
#define OPT(name, field) else if (strcmp(k, name) == 0) a.field = v
#define THREE(name, field)                                                     \
	else if (strcmp(k, name) == 0 && v)                                    \
	{                                                                      \
		char *c1 = strchr(v, ','),                                     \
		     *c2 = c1 ? strchr(c1 + 1, ',') : NULL;                    \
		if (c1 && c2) {                                                \
			*c1 = *c2 = 0;                                         \
			a.field[0] = v;                                        \
			a.field[1] = c1 + 1;                                   \
			a.field[2] = c2 + 1;                                   \
		}                                                              \
	}
		if (0)
			;
		OPT("setuid", setuid);
		OPT("setgid", setgid);
		THREE("resuid", resuid)
		THREE("resgid", resgid)
		OPT("ruid", ruid);
		OPT("euid", euid);
		OPT("reuid", reuid);
		OPT("rgid", rgid);
		OPT("egid", egid);
		OPT("regid", regid);
		OPT("fsuid", fsuid);
		OPT("fsgid", fsgid);
		OPT("groups", groups);
		OPT("inh-caps", inh_caps);
		OPT("ambient-caps", ambient_caps);
		OPT("bounding-set", bounding_set);
		OPT("securebits", securebits);
		OPT("keep-caps", keep_caps);
		OPT("caps", caps);
		OPT("drop-caps", drop_caps);
		OPT("dumpable", dumpable);
		OPT("deny", deny);
		OPT("errno", deny_errno);
		OPT("default-action", default_action);
		else if (strcmp(k, "clear-groups") == 0) a.clear_groups = true;
		else if (strcmp(k, "init-groups") == 0) a.init_groups = true;
		else if (strcmp(k, "keep-groups") == 0) a.keep_groups = true;
		else if (strcmp(k, "nnp") == 0) a.nnp = true;
		else if (strcmp(k, "seccomp") == 0) a.seccomp = true;
#undef OPT
#undef THREE
	}
	/* Options without a value are absent (argp would refuse them). */
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return;
	if (seccomp_only) {
		char err[512];

		if (seccomp_compile(&a, plan, err, sizeof(err)) == 0)
			CHECK(plan->seccomp_prog && plan->seccomp_len >= 1 &&
			      plan->seccomp_len <= 4096);
		else
			CHECK(memchr(err, 0, sizeof(err)) && err[0]);
	} else {
		code = compile_recipe(&a, plan, &tgt);
		CHECK(code == -1 || code == EXIT_USAGE || code == EXIT_FAILED ||
		      code == EXIT_UNREACHABLE);
		if (code == -1)
			check_plan(plan);
	}
	plan_release(plan);
	free(plan);
}

/* check --expect KEY=VALUE..., against this process. */
static void fuzz_check(char *text)
{
	struct opts o = { .quiet = true };
	struct target tgt = { .pid = getpid(), .self = true };
	char *w[MAX_EXPECT];
	unsigned n = words(text, w, MAX_EXPECT), i;
	int code;

	for (i = 0; i < n; i++)
		o.expect[o.nexpect++] = w[i];
	code = cmd_check(&o, &tgt);
	CHECK(code == EXIT_OK || code == EXIT_FAILED || code == EXIT_USAGE ||
	      code == EXIT_UNREACHABLE);
}

/* A /proc status text, and every attribute printed from it. */
static void fuzz_status(const char *text)
{
	struct tstatus t;
	char buf[4096];
	int a;

	memset(&t, 0, sizeof(t));
	parse_status(text, &t);
	for (a = ATTR_TID; a < NR_ATTRS; a++)
		if (a != ATTR_THREADS)
			attr_format((enum attr)a, &t, buf, sizeof(buf));
	free(t.groups);
}

static void fuzz_ids(char *text)
{
	struct idview v;
	unsigned *g = NULL, ng = 0;
	char bad[64];
	long id;

	idview_init(&v, 0);
	(void)resolve_uid(&v, text, true, &id);
	(void)resolve_gid(&v, text, false, &id);
	if (resolve_groups(&v, text, &g, &ng, bad, sizeof(bad)) == 0)
		CHECK(ng == 0 || g);
	free(g);
}

enum {
	T_CAP,
	T_CAPSETS,
	T_SECBITS,
	T_PRCTL_NAME,
	T_WORDS,
	T_PIDS,
	T_PRCTL_PLAN,
	T_SET,
	T_SECCOMP,
	T_CHECK,
	T_STATUS,
	T_IDS,
	NR_TARGETS,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The command's messages would drown libFuzzer's. */
	if (!getenv("FUZZ_CLI_VERBOSE") && !freopen("/dev/null", "w", stdout))
		return 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	unsigned which;
	bool foreign;

	if (size < 1 || size > 8192)
		return 0;
	which = (data[0] & 0x7f) % NR_TARGETS;
	foreign = data[0] & 0x80;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;

	switch (which) {
	case T_CAP:
		fuzz_cap(text);
		break;
	case T_CAPSETS:
		fuzz_capsets(text);
		break;
	case T_SECBITS:
		fuzz_secbits(text);
		break;
	case T_PRCTL_NAME:
		fuzz_prctl_name(text);
		break;
	case T_WORDS:
		fuzz_words(text);
		break;
	case T_PIDS:
		fuzz_pids(text);
		break;
	case T_PRCTL_PLAN:
		fuzz_prctl_plan(text);
		break;
	case T_SET:
		fuzz_set(text, foreign, false);
		break;
	case T_SECCOMP:
		fuzz_set(text, false, true);
		break;
	case T_CHECK:
		fuzz_check(text);
		break;
	case T_STATUS:
		fuzz_status(text);
		break;
	case T_IDS:
		fuzz_ids(text);
		break;
	}
	free(text);
	return 0;
}
