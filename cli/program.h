/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * program.h - the PROGRAM a command runs after its change (`-- PROGRAM`,
 * `run PROGRAM`): found on PATH as execvp(3) finds it, and executed, its
 * failure said once and turned into the exit code (program.c).
 */
#ifndef AT_CLI_PROGRAM_H
#define AT_CLI_PROGRAM_H

#include <stddef.h>

/* Where execvp(3) would find FILE: 0 with its path in FOUND (SIZE bytes;
 * FOUND may be NULL), or the exit code execvp's failure will mean: 126
 * found but not executable, 127 not found. */
int program_find(const char *file, char *found, size_t size);

/* Exec ARGV (stdout flushed first).  Returns only on failure, after
 * saying why on stderr ("allthreads: WHO" before the name, "run: " or ""),
 * with HINT after the reason when execvp says EACCES (NULL: none): 127
 * when there is no such program, else 126. */
int program_exec(char *const *argv, const char *who, const char *hint);

#endif /* AT_CLI_PROGRAM_H */
