// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * replay.c - run a fuzz harness's entry point over files, without
 * libFuzzer: the seed corpus and every input that once crashed, replayed
 * by the normal test suite (gcc, plain and sanitizer builds).
 *
 *   fuzz-NAME-replay DIR|FILE...   one TAP line per file; a broken promise
 *                                  aborts inside the harness (not ok).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n;
/* TAP goes here; the harness's own stdout goes to /dev/null. */
static FILE *tap;

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fprintf(tap, "not ok %u - %s: cannot read\n", ++n, path);
		if (f)
			fclose(f);
		return 1;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(tap, "not ok %u - %s: cannot read\n", ++n, path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	fflush(tap);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	fprintf(tap, "ok %u - %s (%ld bytes)\n", ++n, path, len);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t k = 0, cap = 0, i;
	int bad = 0;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(tap, "not ok %u - %s: cannot open\n", ++n, dir);
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (k == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				break;
			names = nn;
		}
		names[k++] = strdup(de->d_name);
	}
	closedir(d);
	if (k)
		qsort(names, k, sizeof(*names), by_name);
	for (i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		bad |= replay(path);
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, bad = 0, fd = dup(1);

	tap = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!tap || !freopen("/dev/null", "w", stdout))
		return 99;
	setvbuf(tap, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			bad |= replay_dir(argv[i]);
		else
			bad |= replay(argv[i]);
	}
	if (n == 0) {
		fprintf(tap, "not ok 1 - no inputs\n");
		n = 1;
		bad = 1;
	}
	fprintf(tap, "1..%u\n", n);
	fclose(tap);
	return bad;
}
