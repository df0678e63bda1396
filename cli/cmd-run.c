// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd-run.c - `allthreads run [--allow-raw] [--] PROGRAM [ARG...]`: exec
 * PROGRAM with allthreads-helper.so preloaded.  The same process, so the
 * pid a shell reports (`$!`) is the target for `allthreads -p`.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "program.h"
#include "helper-facts.h"
#include "usage.h"

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
					     AT_HELPER_FILE) < len &&
			    is_file(out))
				return 0;
		}
	}
	if ((size_t)snprintf(out, len, "%s/%s", ALLTHREADS_PKGLIBDIR,
			     AT_HELPER_FILE) < len &&
	    is_file(out))
		return 0;
	return -ENOENT;
}

/*
 * Why the helper cannot load into PATH, or NULL: LD_PRELOAD is read by the
 * dynamic loader, so a statically linked ELF program (no PT_INTERP: Go
 * without cgo, static-pie) never loads it, and a set-user-ID or
 * set-group-ID program that changes the caller's ids runs in
 * secure-execution mode, where the loader ignores a preload given by
 * path.  A script is run by its interpreter:
 * not judged here.
 */
static const char *no_helper_why(const char *path)
{
	unsigned char buf[4096];
	const Elf64_Ehdr *eh = (const void *)buf;
	struct stat st;
	ssize_t n;
	unsigned i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*eh) || memcmp(buf, ELFMAG, SELFMAG) ||
	    buf[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return NULL;
	}
	/* Secure execution when the exec changes the ids (a root caller of
	 * a set-user-ID-root program keeps them: the preload works). */
	if (((st.st_mode & S_ISUID) ? st.st_uid : geteuid()) != getuid() ||
	    ((st.st_mode & S_ISGID) ? st.st_gid : getegid()) != getgid()) {
		close(fd);
		return "is set-user-ID or set-group-ID: the dynamic loader "
		       "ignores LD_PRELOAD for it";
	}
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		off_t off = (off_t)eh->e_phoff + (off_t)i * eh->e_phentsize;

		if (eh->e_phentsize < sizeof(ph) ||
		    pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP) {
			close(fd);
			return NULL;
		}
	}
	close(fd);
	return eh->e_type == ET_EXEC || eh->e_type == ET_DYN ?
		       "is statically linked (no ELF interpreter): the "
		       "helper cannot load into it" :
		       NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: allthreads run [--allow-raw] [--force] [--] PROGRAM "
		"[ARG...]\n"
		"Run PROGRAM (same pid) with the allthreads helper preloaded,\n"
		"so that `allthreads -p PID ...` can change every thread of it.\n"
		"\n"
		"  --allow-raw   let `allthreads -p PID syscall ...` run any\n"
		"                system call in it (otherwise only the credential\n"
		"                and hardening calls are served)\n"
		"  --force       run PROGRAM even when the helper cannot load\n"
		"                into it (statically linked, set-user-ID);\n"
		"                otherwise that is refused, exit 126\n"
		"\n"
		"The helper is $ALLTHREADS_HELPER, or next to this program in a\n"
		"build tree, or %s/%s.\n",
		ALLTHREADS_PKGLIBDIR, AT_HELPER_FILE);
}

int at_cmd_run(const struct opts *o, int argc, char **argv)
{
	char helper[PATH_MAX], *preload;
	const char *old;
	char path[PATH_MAX];
	const char *why;
	bool raw = false, force = o->force;
	int i = 0;

	if (o->npids || o->tid || o->via != ALLTHREADS_ROUTE_AUTO ||
	    o->dry_run || o->json) {
		fprintf(stderr, "allthreads: run: takes no target, --via, -n "
				"or -J (it starts a new process)\n");
		return EXIT_USAGE;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--allow-raw") == 0) {
			raw = true;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = true;
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
			AT_HELPER_FILE);
		return EXIT_FAILED;
	}
	/* A program the helper cannot load into would run, and -p would
	 * later say "start it with allthreads run": say it now. */
	why = program_find(argv[i], path, sizeof(path)) == 0 ?
		      no_helper_why(path) :
		      NULL;
	if (why && !force) {
		fprintf(stderr,
			"allthreads: run: %s %s; not running it (-p PID could "
			"not reach it: the ptrace route, --via=ptrace, can; "
			"run --force runs it without the helper)\n",
			argv[i], why);
		return EXIT_NOEXEC;
	}
	if (why)
		fprintf(stderr,
			"allthreads: run: warning: %s %s; running it without "
			"the helper\n",
			argv[i], why);
	old = getenv("LD_PRELOAD");
	if (asprintf(&preload, "%s%s%s", helper, old && *old ? ":" : "",
		     old ? old : "") < 0)
		return EXIT_FAILED;
	if (setenv("LD_PRELOAD", preload, 1) < 0 ||
	    (raw && setenv("ALLTHREADS_ALLOW_RAW", "1", 1) < 0)) {
		fprintf(stderr, "allthreads: run: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return program_exec(&argv[i], "run: ", NULL);
}
