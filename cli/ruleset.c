// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ruleset.c - the Landlock ruleset of `allthreads landlock`: setpriv's
 * access rights by name, the options parsed and checked against the
 * kernel's ABI, the ruleset built with the rules' paths opened here (or
 * handed to allthreads_target_landlock(3) for another process), and with
 * TSYNC the one call that puts every thread of allthreads in its domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "remote.h"
#include "ruleset.h"
#include "usage.h"

/* Rights newer than the installed <linux/landlock.h> (Debian
 * 12's is Landlock ABI 2); the values are the kernel's UAPI. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3, Linux 6.2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5, Linux 6.10 */
#endif

struct right {
	const char *name; /* setpriv's */
	uint64_t bit;
	int abi;      /* the first Landlock ABI that has it */
	bool on_file; /* also on a rule for a file, not only a directory */
};

static const struct right rights[] = {
	{ "execute", LANDLOCK_ACCESS_FS_EXECUTE, 1, true },
	{ "write-file", LANDLOCK_ACCESS_FS_WRITE_FILE, 1, true },
	{ "read-file", LANDLOCK_ACCESS_FS_READ_FILE, 1, true },
	{ "read-dir", LANDLOCK_ACCESS_FS_READ_DIR, 1, false },
	{ "remove-dir", LANDLOCK_ACCESS_FS_REMOVE_DIR, 1, false },
	{ "remove-file", LANDLOCK_ACCESS_FS_REMOVE_FILE, 1, false },
	{ "make-char", LANDLOCK_ACCESS_FS_MAKE_CHAR, 1, false },
	{ "make-dir", LANDLOCK_ACCESS_FS_MAKE_DIR, 1, false },
	{ "make-reg", LANDLOCK_ACCESS_FS_MAKE_REG, 1, false },
	{ "make-sock", LANDLOCK_ACCESS_FS_MAKE_SOCK, 1, false },
	{ "make-fifo", LANDLOCK_ACCESS_FS_MAKE_FIFO, 1, false },
	{ "make-block", LANDLOCK_ACCESS_FS_MAKE_BLOCK, 1, false },
	{ "make-sym", LANDLOCK_ACCESS_FS_MAKE_SYM, 1, false },
	{ "refer", LANDLOCK_ACCESS_FS_REFER, 2, false },
	{ "truncate", LANDLOCK_ACCESS_FS_TRUNCATE, 3, true },
	{ "ioctl-dev", LANDLOCK_ACCESS_FS_IOCTL_DEV, 5, true },
};
#define NR_RIGHTS (sizeof(rights) / sizeof(rights[0]))

/* Through libc's syscall(3), so the test suite's preload library
 * (tests/cli/ll-abi-shim.c) can report an older ABI. */
static long ll_create(const struct landlock_ruleset_attr *attr, size_t size,
		      uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

/* The kernel's Landlock ABI version, or an exit code after saying why
 * there is none (as a negative number). */
int ruleset_abi(void)
{
	long abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi > 0)
		return (int)abi;
	if (errno == EOPNOTSUPP)
		fprintf(stderr, "allthreads: landlock: Landlock is built into "
				"this kernel but not enabled (add landlock to "
				"the lsm= boot parameter); nothing changed\n");
	else
		fprintf(stderr,
			"allthreads: landlock: this kernel has no "
			"Landlock (%s); nothing changed\n",
			strerror(errno));
	return -EXIT_FAILED;
}

static const struct right *find_right(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < NR_RIGHTS; i++)
		if (strlen(rights[i].name) == len &&
		    strncasecmp(rights[i].name, name, len) == 0)
			return &rights[i];
	return NULL;
}

static uint64_t abi_rights(int abi)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < NR_RIGHTS; i++)
		if (rights[i].abi <= abi)
			m |= rights[i].bit;
	return m;
}

/* A list of RIGHTs ("read-file,read-dir") into *MASK; 0, or an exit code
 * after saying why.  WHAT names the option for the message. */
static int parse_rights(const char *what, const char *list, size_t len, int abi,
			uint64_t *mask)
{
	const char *p = list, *end = list + len;

	*mask = 0;
	if (!len)
		return usage_error("%s: no access rights", what);
	while (p < end) {
		size_t n = strcspn(p, ",");
		const struct right *r;

		if (p + n > end)
			n = end - p;
		r = find_right(p, n);
		if (!r) {
			char known[512] = "";
			unsigned i;

			for (i = 0; i < NR_RIGHTS; i++)
				snprintf(known + strlen(known),
					 sizeof(known) - strlen(known), "%s%s",
					 i ? ", " : "", rights[i].name);
			return usage_error("%s: %.*s: unknown access right "
					   "(known: %s)",
					   what, (int)n, p, known);
		}
		if (r->abi > abi) {
			fprintf(stderr,
				"allthreads: %s: access right %s needs "
				"Landlock ABI %d, the kernel has %d; nothing "
				"changed\n",
				what, r->name, r->abi, abi);
			return EXIT_FAILED;
		}
		*mask |= r->bit;
		p += n + 1;
	}
	return 0;
}

void ruleset_rights_text(uint64_t mask, char *buf, size_t size)
{
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < NR_RIGHTS; i++)
		if (mask & rights[i].bit)
			snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
				 buf[0] ? "," : "", rights[i].name);
}

/*
 * Does PATH name the root directory of ROOT_DIR ("/", or /proc/PID/root for
 * another process)?  Resolved there, symlinks and all, the way the rule's
 * open will resolve it: a symlink to "/" or a bind mount of it is the root
 * as well.  Unresolvable paths are not the root (the rule fails on them).
 */
static bool names_root(const char *root_dir, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT };
	struct stat root, st;
	int rfd, fd;
	bool same = false;

	rfd = open(root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return false;
	fd = (int)syscall(SYS_openat2, rfd, path, &how, sizeof(how));
	if (fd >= 0 && fstat(rfd, &root) == 0 && fstat(fd, &st) == 0)
		same = root.st_dev == st.st_dev && root.st_ino == st.st_ino;
	if (fd >= 0)
		close(fd);
	close(rfd);
	return same;
}

int ruleset_parse(const struct opts *o, const struct target *tgt,
		  struct request *rq)
{
	char root_dir[64] = "/";

	unsigned i;
	int code;

	rq->handled = 0;
	for (i = 0; i < o->nll_access; i++) {
		const char *a = o->ll_access[i];
		uint64_t m;

		if (strcmp(a, "fs") == 0) {
			rq->handled |= abi_rights(rq->abi);
			continue;
		}
		if (strncmp(a, "fs:", 3))
			return usage_error("--landlock-access: %s: not fs or "
					   "fs:RIGHT,...",
					   a);
		code = parse_rights("--landlock-access", a + 3, strlen(a + 3),
				    rq->abi, &m);
		if (code)
			return code;
		rq->handled |= m;
	}
	if (!o->nll_access)
		rq->handled = abi_rights(rq->abi);
	for (i = 0; i < o->nll_rules; i++) {
		const char *t = o->ll_rules[i], *acc, *colon;
		struct rule *r = &rq->rules[rq->nrules];
		char missing[512];

		if (strncmp(t, "path-beneath:", 13))
			return usage_error("--landlock-rule: %s: not "
					   "path-beneath:RIGHT,...:PATH",
					   t);
		acc = t + 13;
		colon = strchr(acc, ':');
		if (!colon || !colon[1])
			return usage_error(
				"--landlock-rule: %s: no PATH (the "
				"form is path-beneath:RIGHT,...:PATH)",
				t);
		code = parse_rights("--landlock-rule", acc, colon - acc,
				    rq->abi, &r->access);
		if (code)
			return code;
		if (r->access & ~rq->handled) {
			ruleset_rights_text(r->access & ~rq->handled, missing,
					    sizeof(missing));
			return usage_error("--landlock-rule: %s: %s not "
					   "handled (add it to "
					   "--landlock-access)",
					   t, missing);
		}
		r->text = t;
		r->path = colon + 1;
		/* Another process resolves it in its own mount namespace,
		 * from a directory we do not choose: only an absolute path
		 * says the same there. */
		if (!tgt->self && r->path[0] != '/')
			return usage_error("--landlock-rule: %s: with -p the "
					   "PATH must be absolute (it is "
					   "resolved in the target's mount "
					   "namespace)",
					   t);
		rq->nrules++;
	}
	if (!tgt->self)
		snprintf(root_dir, sizeof(root_dir), "/proc/%d/root",
			 (int)tgt->pid);
	rq->can_prove = (rq->handled & LANDLOCK_ACCESS_FS_READ_DIR) != 0;
	for (i = 0; i < rq->nrules; i++)
		if ((rq->rules[i].access & LANDLOCK_ACCESS_FS_READ_DIR) &&
		    names_root(root_dir, rq->rules[i].path))
			rq->can_prove = false;
	return 0;
}

/* The ruleset fd, or an exit code (negative) after saying why. */
int ruleset_build(const struct request *rq)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs =
						      rq->handled };
	unsigned i;
	int fd;

	fd = ll_create(&attr, sizeof(attr), 0);
	if (fd < 0) {
		fprintf(stderr,
			"allthreads: landlock: landlock_create_ruleset: %s; "
			"nothing changed\n",
			strerror(errno));
		return -EXIT_FAILED;
	}
	for (i = 0; i < rq->nrules; i++) {
		const struct rule *r = &rq->rules[i];
		struct landlock_path_beneath_attr pb = {
			.allowed_access = r->access,
		};
		struct stat st;

		pb.parent_fd = open(r->path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0) {
			fprintf(stderr,
				"allthreads: --landlock-rule: %s: %s; nothing "
				"changed\n",
				r->path, strerror(errno));
			close(fd);
			return -EXIT_FAILED;
		}
		if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
			uint64_t dir_only = 0;
			unsigned k;

			for (k = 0; k < NR_RIGHTS; k++)
				if (!rights[k].on_file)
					dir_only |= rights[k].bit;
			if (r->access & dir_only) {
				char bad[512];

				ruleset_rights_text(r->access & dir_only, bad,
						    sizeof(bad));
				close(pb.parent_fd);
				close(fd);
				fprintf(stderr,
					"allthreads: --landlock-rule: %s: not "
					"a directory, and %s apply to "
					"directories only; nothing changed\n",
					r->path, bad);
				return -EXIT_USAGE;
			}
		}
		if (syscall(SYS_landlock_add_rule, fd,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) {
			fprintf(stderr,
				"allthreads: --landlock-rule: %s: "
				"landlock_add_rule: %s; nothing changed\n",
				r->text, strerror(errno));
			close(pb.parent_fd);
			close(fd);
			return -EXIT_FAILED;
		}
		close(pb.parent_fd);
	}
	return fd;
}

int ruleset_tsync(int fd)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr,
			"allthreads: landlock: PR_SET_NO_NEW_PRIVS: %s; "
			"nothing changed\n",
			strerror(errno));
		return EXIT_FAILED;
	}
	if (syscall(SYS_landlock_restrict_self, fd,
		    LANDLOCK_RESTRICT_SELF_TSYNC) < 0) {
		fprintf(stderr,
			"allthreads: landlock: landlock_restrict_self(TSYNC): "
			"%s; no thread has the domain (the calling thread has "
			"NO_NEW_PRIVS)\n",
			strerror(errno));
		return EXIT_FAILED;
	}
	return 0;
}

int ruleset_remote(const struct request *rq, pid_t pid,
		   enum allthreads_route via, unsigned timeout_ms,
		   enum allthreads_mismatch policy,
		   struct allthreads_report **report,
		   struct at_remote_status *st)
{
	struct allthreads_landlock_rule rules[MAX_RULES];
	unsigned i;

	for (i = 0; i < rq->nrules; i++) {
		rules[i].allowed_access = rq->rules[i].access;
		rules[i].path = rq->rules[i].path;
	}
	return at_remote_landlock_via(
		pid, via, rq->handled, rules, rq->nrules,
		rq->can_prove ? ALLTHREADS_LANDLOCK_PROVE : 0, timeout_ms,
		policy, report, st);
}
