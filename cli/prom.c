// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * prom.c - the Prometheus text exposition format (version 0.0.4) that
 * node_exporter's textfile collector reads, and the atomic replacement of
 * the file it reads.
 *
 * The format, as the collector parses it: for each metric family one
 * `# HELP name text` line (backslash and newline escaped), one `# TYPE
 * name gauge` line, then its samples, `name{label="value",...} value`,
 * one a line, every line ending in a newline.  A label value escapes
 * backslash, double quote and newline, and must be UTF-8: a byte that
 * does not start a valid UTF-8 sequence becomes U+FFFD.  Samples carry
 * no timestamp (the collector refuses them).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prom.h"

int prom_start(struct prom *p)
{
	memset(p, 0, sizeof(*p));
	p->f = open_memstream(&p->text, &p->len);
	return p->f ? 0 : -ENOMEM;
}

/* HELP text: backslash and newline escaped. */
static void put_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* How many bytes of S form one valid UTF-8 character (RFC 3629: no
 * overlong form, no surrogate, nothing above U+10FFFF); 0 when none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	/* The first continuation byte has the narrowed range; a NUL ends
	 * the string and is never one. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void put_label_value(FILE *f, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n;

	while (*s) {
		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if ((n = utf8_len(s)) == 0) {
			fputs("\xef\xbf\xbd", f); /* U+FFFD */
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
}

void prom_gauge(struct prom *p, const char *name, const char *help)
{
	fprintf(p->f, "# HELP %s ", name);
	put_help(p->f, help);
	fprintf(p->f, "\n# TYPE %s gauge\n", name);
}

static void put_name(struct prom *p, const char *name,
		     const struct prom_label *l, unsigned nlabels)
{
	unsigned i;

	fputs(name, p->f);
	for (i = 0; i < nlabels; i++) {
		fprintf(p->f, "%s%s=\"", i ? "," : "{", l[i].name);
		put_label_value(p->f, l[i].value);
		fputc('"', p->f);
	}
	if (nlabels)
		fputc('}', p->f);
}

void prom_uint(struct prom *p, const char *name, const struct prom_label *l,
	       unsigned nlabels, unsigned long long v)
{
	put_name(p, name, l, nlabels);
	fprintf(p->f, " %llu\n", v);
}

void prom_float(struct prom *p, const char *name, const struct prom_label *l,
		unsigned nlabels, double v, int decimals)
{
	put_name(p, name, l, nlabels);
	fprintf(p->f, " %.*f\n", decimals, v);
}

int prom_finish(struct prom *p)
{
	int err = 0;

	if (fflush(p->f) || ferror(p->f))
		err = -ENOMEM;
	return err;
}

void prom_free(struct prom *p)
{
	if (p->f)
		fclose(p->f);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

int prom_replace(const char *path, const char *text, size_t len)
{
	char *tmp;
	mode_t mask;
	size_t off = 0;
	ssize_t n;
	int fd, err = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			goto out_unlink;
		}
		off += n;
	}
	/* mkostemp() made it 0600: the collector runs as another user. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) || fsync(fd)) {
		err = -errno;
		goto out_unlink;
	}
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		err = -errno;
		goto out_unlink;
	}
	goto out_free;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	return err;
}
