/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json.h - the JSON writer: strings, the head and tail every command's
 * object shares, and one thread's attributes.
 */
#ifndef AT_CLI_JSON_H
#define AT_CLI_JSON_H

#include <stdbool.h>

struct opts;
struct plan;
struct snapshot;
struct target;
struct tstatus;

/* Print S as a JSON string (null for NULL) on stdout. */
void json_str(const char *s);
/* The one schema (allthreads(1), JSON OUTPUT): json_begin() prints
 * command, target, name, action, process_wide and dry_run; the caller
 * then prints steps, verdict, exit, value and threads; json_end() prints
 * program, differ, notes and kept; the caller closes with items. */
void json_begin(const struct opts *o, const char *command,
		const struct target *tgt, const char *name, const char *action,
		bool process_wide);
/* T's /proc attributes as an object (null for NULL). */
void json_attrs(const struct tstatus *t);
/* A thread's "worker" key: what kernel worker T of SNAP's process is
 * (worker_words()), or null for a thread (or no T). */
void json_worker(const struct snapshot *snap, const struct tstatus *t);
/* program, differ, notes, and "kept": what SNAP's process keeps apart
 * from its threads (its io_uring rings, their SQPOLL threads and
 * personalities), null when SNAP is NULL or its rings were not read. */
void json_end(const struct opts *o, const struct plan *plan,
	      const char *const *differ, unsigned ndiffer,
	      const struct snapshot *snap);
/* The "threads" of a read: every thread of SNAP, state ok, with its
 * attributes and ERRORS[i] (or none). */
void json_threads(const struct snapshot *snap, char *const *errors);
/* show's and check's whole object: every thread of SNAP with its
 * attributes and ERRORS[i] (or none), VERDICT and CODE, and the keys of
 * the attributes DIFFER_ATTR marks (NR_ATTRS entries) as differing. */
void json_snapshot(const struct opts *o, const struct target *tgt,
		   const struct snapshot *snap, const char *command,
		   const char *verdict, int code, char *const *errors,
		   const bool *differ_attr);

#endif /* AT_CLI_JSON_H */
