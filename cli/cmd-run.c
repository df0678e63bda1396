// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd-run.c - `allthreads run [--allow-raw] [--] PROGRAM [ARG...]`: exec
 * PROGRAM with allthreads-helper.so preloaded.  The same process, so the
 * pid a shell reports (`$!`) is the target for `allthreads -p`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cli.h"

#define HELPER_NAME "allthreads-helper.so"

static bool is_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/*
 * Where the helper is: $ALLTHREADS_HELPER if set; next to this program in
 * the build tree (cli/allthreads -> lib/allthreads-helper.so); else where
 * `meson install` puts it.  Always an absolute path: LD_PRELOAD is read
 * from wherever PROGRAM starts.
 */
static int find_helper(char *out, size_t len)
{
	const char *env = getenv("ALLTHREADS_HELPER");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		if (env[0] != '/' || !is_file(env))
			return -ENOENT;
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			if ((size_t)snprintf(out, len, "%s/../lib/%s", self,
					     HELPER_NAME) < len &&
			    is_file(out))
				return 0;
		}
	}
	if ((size_t)snprintf(out, len, "%s/%s", ALLTHREADS_PKGLIBDIR,
			     HELPER_NAME) < len &&
	    is_file(out))
		return 0;
	return -ENOENT;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: allthreads run [--allow-raw] [--] PROGRAM [ARG...]\n"
		"Run PROGRAM (same pid) with the allthreads helper preloaded,\n"
		"so that `allthreads -p PID ...` can change every thread of it.\n"
		"\n"
		"  --allow-raw   let `allthreads -p PID syscall ...` run any\n"
		"                system call in it (otherwise only the credential\n"
		"                and hardening calls are served)\n"
		"\n"
		"The helper is $ALLTHREADS_HELPER, or next to this program in a\n"
		"build tree, or %s/%s.\n",
		ALLTHREADS_PKGLIBDIR, HELPER_NAME);
}

int at_cmd_run(const struct opts *o, int argc, char **argv)
{
	char helper[PATH_MAX], *preload;
	const char *old;
	bool raw = false;
	int i = 0;

	if (o->npids || o->tid || o->dry_run || o->json) {
		fprintf(stderr, "allthreads: run: takes no target, -n or -J "
				"(it starts a new process)\n");
		return EXIT_USAGE;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--allow-raw") == 0) {
			raw = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "allthreads: run: %s: unknown option\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "allthreads: run: no PROGRAM\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (find_helper(helper, sizeof(helper)) < 0) {
		fprintf(stderr,
			"allthreads: run: %s not found (set ALLTHREADS_HELPER "
			"to its absolute path)\n",
			HELPER_NAME);
		return EXIT_FAILED;
	}
	old = getenv("LD_PRELOAD");
	if (asprintf(&preload, "%s%s%s", helper, old && *old ? ":" : "",
		     old ? old : "") < 0)
		return EXIT_FAILED;
	if (setenv("LD_PRELOAD", preload, 1) < 0 ||
	    (raw && setenv("ALLTHREADS_ALLOW_RAW", "1", 1) < 0)) {
		fprintf(stderr, "allthreads: run: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	execvp(argv[i], &argv[i]);
	fprintf(stderr, "allthreads: run: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}
