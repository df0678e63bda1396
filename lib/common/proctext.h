/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proctext.h - the library's one reader of /proc text files ("Key:\tvalue"
 * lines: status, fdinfo).  Raw system calls and no allocation, so the
 * engine may use it while a broadcast is under way.
 */
#ifndef AT_PROCTEXT_H
#define AT_PROCTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Read the file at PATH (small: what fits in LEN - 1 bytes) into BUF,
 * NUL-terminated; its length, or -errno. */
int at_proc_read(const char *path, char *buf, size_t len);
/* The next "KEY:" line of TEXT from *POS (0: the first line): its key in
 * *KEY (*KLEN bytes, without the colon) and its value, blanks skipped, in
 * *VAL (*VLEN bytes, up to the end of the line); *POS moves past it.  A
 * line without a colon is passed over.  False at the end of TEXT. */
bool at_proc_next(const char *text, size_t *pos, const char **key, size_t *klen,
		  const char **val, size_t *vlen);
/* The value of "KEY:" at the start of a line of TEXT, blanks skipped, or
 * NULL when there is no such line. */
const char *at_proc_field(const char *text, const char *key);
/* The same as a decimal number, DFLT without the line. */
long at_proc_field_long(const char *text, const char *key, long dflt);
/* The same as a hexadecimal mask (SigBlk, CapEff...), 0 without the line. */
unsigned long long at_proc_field_hex(const char *text, const char *key);

#endif /* AT_PROCTEXT_H */
