/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * render.h - an outcome printed, in words or as JSON, and the notes a plan
 * carries.
 */
#ifndef AT_CLI_RENDER_H
#define AT_CLI_RENDER_H

#include <stdio.h>

struct opts;
struct outcome;
struct plan;
struct snapshot;

/* Each row's value (and old value) in words, from its results. */
void render_values(const struct plan *plan, struct outcome *out);
/* OUT, judged, on stdout (words or JSON), and its problems on stderr. */
void render_outcome(const struct opts *o, const struct plan *plan,
		    struct outcome *out);
/* OUT as the one JSON object (allthreads(1), JSON OUTPUT). */
void render_json(const struct opts *o, const struct plan *plan,
		 const struct outcome *out);
/* What SNAP's process keeps apart from its threads, on F: each kernel
 * worker task and each io_uring ring with its personalities, under a
 * line that says so; nothing when it keeps nothing. */
void render_kept(FILE *f, const struct snapshot *snap);
/* PLAN's notes, and what is true whatever happens, on stderr (not -q). */
void render_notes(const struct opts *o, const struct plan *plan);

#endif /* AT_CLI_RENDER_H */
