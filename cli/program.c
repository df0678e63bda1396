// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * program.c - PROGRAM found on PATH and executed (program.h): the one PATH
 * search and the one exec-and-report of the command.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "program.h"
#include "usage.h"

/* Can PATH be executed: 0, or the exit code execvp's failure will mean
 * (126 found but not executable, 127 not found). */
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

int program_find(const char *file, char *found, size_t size)
{
	const char *path = getenv("PATH"), *p;
	char full[PATH_MAX];
	int worst = EXIT_NOTFOUND, r;

	if (!*file)
		return EXIT_NOTFOUND;
	if (strchr(file, '/')) {
		r = probe_path(file);
		if (!r && found)
			snprintf(found, size, "%s", file);
		return r;
	}
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p += strcspn(p, ":") + 1) {
		size_t len = strcspn(p, ":");

		snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? p : ".",
			 file);
		r = probe_path(full);
		if (r == 0) {
			if (found)
				snprintf(found, size, "%s", full);
			return 0;
		}
		if (r == EXIT_NOEXEC)
			worst = EXIT_NOEXEC;
		if (!p[len])
			break;
	}
	return worst;
}

int program_exec(char *const *argv, const char *who, const char *hint)
{
	bool there;
	int err;

	fflush(stdout);
	execvp(argv[0], argv);
	err = errno;
	/* ENOENT for a file that is there: a missing interpreter. */
	there = program_find(argv[0], NULL, 0) == 0;
	fprintf(stderr, "allthreads: %s%s: %s%s\n", who, argv[0], strerror(err),
		err == ENOENT && there ? " (its interpreter?)" :
		err == EACCES && hint  ? hint :
					 "");
	if ((err == ENOENT || err == ENOTDIR) && !there)
		return EXIT_NOTFOUND;
	return EXIT_NOEXEC;
}
