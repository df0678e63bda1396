// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * proctext.c - reading /proc text files (proctext.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "proctext.h"
#include "rawsys.h"

/* A /proc file is read in at most this many pieces. */
#define AT_PROC_MAX_READS 256

int at_proc_read(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	long n;
	int fd, i;

	if (!len)
		return -EINVAL;
	fd = (int)at_sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	for (i = 0; i < AT_PROC_MAX_READS && got + 1 < len; i++) {
		n = at_sys3(SYS_read, fd, buf + got, len - 1 - got);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	at_sys1(SYS_close, fd);
	buf[got] = 0;
	return (int)got;
}

bool at_proc_next(const char *text, size_t *pos, const char **key, size_t *klen,
		  const char **val, size_t *vlen)
{
	const char *line = text + *pos, *eol, *colon;

	for (; *line; line = *eol ? eol + 1 : eol) {
		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		colon = memchr(line, ':', eol - line);
		if (!colon)
			continue;
		*key = line;
		*klen = colon - line;
		for (colon++; colon < eol && (*colon == ' ' || *colon == '\t');
		     colon++)
			;
		*val = colon;
		*vlen = eol - colon;
		*pos = (*eol ? eol + 1 : eol) - text;
		return true;
	}
	*pos = line - text;
	return false;
}

const char *at_proc_field(const char *text, const char *key)
{
	size_t kl = strlen(key), pos = 0, klen, vlen;
	const char *k, *v;

	while (at_proc_next(text, &pos, &k, &klen, &v, &vlen))
		if (klen == kl && !strncmp(k, key, kl))
			return v;
	return NULL;
}

long at_proc_field_long(const char *text, const char *key, long dflt)
{
	const char *v = at_proc_field(text, key);

	return v ? strtol(v, NULL, 10) : dflt;
}

unsigned long long at_proc_field_hex(const char *text, const char *key)
{
	const char *v = at_proc_field(text, key);

	return v ? strtoull(v, NULL, 16) : 0;
}
