/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * usage.h - the exit codes of allthreads(1) and the one way to say a
 * usage error.
 */
#ifndef AT_CLI_USAGE_H
#define AT_CLI_USAGE_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_PARTIAL = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_USAGE = 64,
	EXIT_NOEXEC = 126,
	EXIT_NOTFOUND = 127,
};

/* `allthreads: MSG` on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* AT_CLI_USAGE_H */
