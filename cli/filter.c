// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * filter.c - the seccomp filter a plan installs: built with libseccomp
 * (--deny, --errno, --default-action) or read from a file (--bpf).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "filter.h"
#include "names.h"
#include "plan.h"

/* Largest filter the kernel takes (BPF_MAXINSNS). */
#define FILTER_MAX 4096

/* The message in ERR, and -EINVAL (recipe-parse.h has a fail() of its own). */
#define bail(...) (snprintf(err, errsize, __VA_ARGS__), -EINVAL)

static int parse_errno(const char *s, int *e)
{
	long n;
	int i;

	if (!parse_long(s, &n)) {
		if (n < 1 || n > 4095)
			return -ERANGE;
		*e = n;
		return 0;
	}
	for (i = 1; i < 4096; i++) {
		const char *name = strerrorname_np(i);

		if (name && strcasecmp(name, s) == 0) {
			*e = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_action(const char *s, uint32_t *action, char *err,
			size_t errsize)
{
	int e;

	if (strcasecmp(s, "allow") == 0)
		*action = SCMP_ACT_ALLOW;
	else if (strcasecmp(s, "log") == 0)
		*action = SCMP_ACT_LOG;
	else if (strcasecmp(s, "kill") == 0 ||
		 strcasecmp(s, "kill-thread") == 0)
		*action = SCMP_ACT_KILL_THREAD;
	else if (strcasecmp(s, "kill-process") == 0)
		*action = SCMP_ACT_KILL_PROCESS;
	else if (strcasecmp(s, "trap") == 0)
		*action = SCMP_ACT_TRAP;
	else if (strncasecmp(s, "errno:", 6) == 0) {
		if (parse_errno(s + 6, &e))
			return bail("--default-action: %s: unknown errno", s);
		*action = SCMP_ACT_ERRNO(e);
	} else {
		return bail("--default-action: %s: not allow, log, kill, "
			    "kill-process, trap or errno:E",
			    s);
	}
	return 0;
}

/* Keep the instructions and the program that points to them in the
 * plan: every thread reads the same memory. */
static int keep_filter(struct plan *plan, void *insns, size_t bytes)
{
	struct sock_fprog *prog;

	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	prog->len = bytes / sizeof(struct sock_filter);
	prog->filter = insns;
	plan->seccomp_prog = prog;
	plan->seccomp_filter = insns;
	plan->seccomp_len = prog->len;
	return 0;
}

static int load_bpf(const char *path, struct plan *plan, char *err,
		    size_t errsize)
{
	size_t max = FILTER_MAX * sizeof(struct sock_filter);
	struct stat sb;
	ssize_t n;
	void *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bail("--bpf: %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0 ||
	    (size_t)sb.st_size > max ||
	    sb.st_size % sizeof(struct sock_filter)) {
		close(fd);
		return bail(
			"--bpf: %s: not a BPF program (a non-empty array of "
			"8-byte struct sock_filter, at most %d)",
			path, FILTER_MAX);
	}
	buf = malloc(sb.st_size);
	if (!buf) {
		close(fd);
		return bail("--bpf: out of memory");
	}
	n = read(fd, buf, sb.st_size);
	close(fd);
	if (n != sb.st_size) {
		free(buf);
		return bail("--bpf: %s: short read", path);
	}
	return keep_filter(plan, buf, n) ? bail("--bpf: out of memory") : 0;
}

/* Build with libseccomp, export the BPF through a memfd. */
static int build_filter(const struct set_args *a, struct plan *plan, char *err,
			size_t errsize)
{
	uint32_t dflt = SCMP_ACT_ALLOW;
	const char *p = a->deny ? a->deny : "";
	scmp_filter_ctx ctx;
	int e = EPERM, fd, r;
	char word[64], near[256];
	void *buf = NULL;
	ssize_t n;
	off_t len;

	if (a->deny_errno && parse_errno(a->deny_errno, &e))
		return bail("--errno: %s: not an errno name (EPERM) or number "
			    "(1..4095)",
			    a->deny_errno);
	if (a->default_action &&
	    parse_action(a->default_action, &dflt, err, errsize))
		return -EINVAL;
	ctx = seccomp_init(dflt);
	if (!ctx)
		return bail("seccomp: libseccomp cannot start a filter");
	while (*p) {
		size_t wlen = strcspn(p, ", ");
		long nr;

		snprintf(word, sizeof(word), "%.*s", (int)wlen, p);
		p += wlen;
		p += strspn(p, ", ");
		if (!wlen)
			continue;
		if (parse_syscall(word, &nr)) {
			suggest_syscall(word, near, sizeof(near));
			seccomp_release(ctx);
			return bail("--deny: %s: unknown system call on this "
				    "architecture (nearest: %s)",
				    word, near);
		}
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(e), nr, 0);
		if (r == -EACCES || r == -EEXIST)
			continue; /* the default action already says so */
		if (r < 0) {
			seccomp_release(ctx);
			return bail("--deny: %s: %s", word, strerror(-r));
		}
	}
	fd = memfd_create("allthreads-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		seccomp_release(ctx);
		return bail("seccomp: memfd_create: %s", strerror(errno));
	}
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	len = lseek(fd, 0, SEEK_END);
	if (r < 0 || len <= 0) {
		close(fd);
		return bail("seccomp: libseccomp could not export the filter");
	}
	buf = malloc(len);
	n = buf ? pread(fd, buf, len, 0) : -1;
	close(fd);
	if (n != len) {
		free(buf);
		return bail("seccomp: reading the exported filter failed");
	}
	return keep_filter(plan, buf, len) ? bail("seccomp: out of memory") : 0;
}

int seccomp_compile(const struct set_args *a, struct plan *plan, char *err,
		    size_t errsize)
{
	if (a->bpf && (a->deny || a->deny_errno || a->default_action))
		return bail("--bpf with --deny, --errno or --default-action: "
			    "contradictory (the file is the whole filter)");
	if (a->bpf)
		return load_bpf(a->bpf, plan, err, errsize);
	if (!a->deny && !a->default_action)
		return bail(
			"seccomp: nothing to filter (give --deny=SYSCALL,... "
			"or --bpf=FILE)");
	if (a->deny_errno && !a->deny)
		return bail("--errno without --deny: contradictory (--errno is "
			    "what denied calls return)");
	return build_filter(a, plan, err, errsize);
}
