// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * usage.c - usage_error(), the one way every part of the command says a
 * usage error.
 */
#include <stdarg.h>
#include <stdio.h>

#include "usage.h"

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("allthreads: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}
