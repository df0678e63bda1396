/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prom.h - the Prometheus text exposition format (version 0.0.4), as
 * node_exporter's textfile collector reads it: gauges with their HELP and
 * TYPE lines, label values escaped, and a file replaced in one rename.
 */
#ifndef AT_CLI_PROM_H
#define AT_CLI_PROM_H

#include <stddef.h>
#include <stdio.h>

/* The text, built in memory, then written whole. */
struct prom {
	FILE *f; /* an open_memstream() */
	char *text;
	size_t len;
};

struct prom_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting __ */
	const char *value; /* any bytes: escaped, and made UTF-8 */
};

/* 0 or -ENOMEM. */
int prom_start(struct prom *p);
/* A gauge family: its # HELP and # TYPE lines; its samples follow. */
void prom_gauge(struct prom *p, const char *name, const char *help);
/* One sample of NAME with its NLABELS labels: an integer, or a value
 * with DECIMALS digits after the point. */
void prom_uint(struct prom *p, const char *name, const struct prom_label *l,
	       unsigned nlabels, unsigned long long v);
void prom_float(struct prom *p, const char *name, const struct prom_label *l,
		unsigned nlabels, double v, int decimals);
/* The text so far into p->text (p->len bytes): 0 or -ENOMEM. */
int prom_finish(struct prom *p);
void prom_free(struct prom *p);

/* Replace PATH with LEN bytes of TEXT at once: written to a new file
 * beside it (PATH.tmp.XXXXXX, which a collector reading *.prom skips),
 * synced, given mode 0666 less the umask, then renamed over PATH.  On
 * failure PATH is left as it was and the new file removed.  0 or
 * -errno. */
int prom_replace(const char *path, const char *text, size_t len);

#endif /* AT_CLI_PROM_H */
