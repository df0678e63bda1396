// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl-trust.c - where a target's helper socket is, and whether the path
 * to it can be trusted (ctl-trust.h): the target's /proc directory and
 * uids, the search of the usual places, the walk from the target's root
 * one component at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-trust.h"
#include "proctext.h"
#include "report.h"

static void set_why(char *why, size_t len, const char *fmt, const char *arg)
{
	if (why && len)
		snprintf(why, len, fmt, arg);
}

/* --- finding the socket ------------------------------------------------------- */

/* Read FILE under BASE (a /proc directory; small) into BUF; length or
 * -errno. */
int at_ctl_read_file(const char *base, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, file);
	return at_proc_read(path, buf, len);
}

/*
 * The /proc directory through which process PID is looked at: that of a
 * thread that is still alive, "/proc/PID/task/TID".  A main thread that
 * called pthread_exit() is a zombie with no root, no mm and no
 * environment; its live threads still have them.  The main thread is
 * preferred.  0, or -ESRCH.
 */
int at_ctl_proc_base(pid_t pid, char *base, size_t len)
{
	char dir[64], link[96];
	struct dirent *de;
	int n = 0, r = -ESRCH;
	DIR *d;

	snprintf(base, len, "/proc/%d/task/%d", (int)pid, (int)pid);
	snprintf(link, sizeof(link), "%s/root", base);
	if (readlink(link, dir, 1) >= 0 || errno == EACCES)
		return errno == EACCES ? -EACCES : 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (r < 0 && (de = readdir(d)) && n++ < 65536) {
		char c;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(base, len, "/proc/%d/task/%.20s", (int)pid,
			 de->d_name);
		snprintf(link, sizeof(link), "%s/root", base);
		if (readlink(link, &c, 1) >= 0)
			r = 0;
	}
	closedir(d);
	if (r < 0)
		snprintf(base, len, "/proc/%d", (int)pid);
	return r;
}

static bool trusted_uid(const struct at_ctl_trust *tr, uid_t uid)
{
	int i;

	for (i = 0; i < tr->n; i++)
		if (tr->uid[i] == uid)
			return true;
	return false;
}

/* A directory on the way to the socket: owned by a trusted user and
 * writable by nobody else; or root's with the sticky bit (/tmp), where
 * nobody else can remove or rename what is in it. */
static bool dir_trusted(const struct at_ctl_trust *tr, const struct stat *st)
{
	if (!trusted_uid(tr, st->st_uid))
		return false;
	return !(st->st_mode & 022) ||
	       (st->st_uid == 0 && (st->st_mode & S_ISVTX));
}

/*
 * The walk's first directory: "/", or the "/proc/PID/root" of a path that
 * goes through one, with *rest set to what follows it; an O_PATH fd or
 * -errno.
 */
static int open_walk_start(const char *path, const char **rest)
{
	char prefix[PATH_MAX];
	const char *root;
	int fd;

	root = strncmp(path, "/proc/", 6) == 0 ? strstr(path, "/root/") : NULL;
	if (root) {
		if ((size_t)(root - path) + 5 >= sizeof(prefix))
			return -ENAMETOOLONG;
		memcpy(prefix, path, (size_t)(root - path) + 5);
		prefix[root - path + 5] = 0;
		*rest = root + 5;
	} else {
		strcpy(prefix, "/");
	}
	fd = open(prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : -ENOENT;
	return fd;
}

/* The walk's last component: a socket owned by a trusted uid, writable by
 * no one else; 0, or -ENOENT / -EPERM (with why filled). */
static int check_socket(const struct at_ctl_trust *tr, const struct stat *st,
			const char *seen, char *why, size_t whylen)
{
	if (!S_ISSOCK(st->st_mode))
		return -ENOENT;
	if (!trusted_uid(tr, st->st_uid) || (st->st_mode & 022)) {
		snprintf(why, whylen,
			 "the socket %s is owned by uid %u with mode %04o: "
			 "not trusted",
			 seen, (unsigned)st->st_uid,
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/*
 * Walk PATH one component at a time, never following a symbolic link,
 * from the target's root (the /proc/.../root prefix, a magic link the
 * kernel resolves to the target's own root) or from "/".  Every directory
 * must be trusted (dir_trusted()), and the last component must be a
 * socket owned by a trusted user with no write access for anyone else.
 * 0 with *DIRFD (an O_PATH descriptor of the socket's directory), *NAME
 * (its last component, in PATH) and *SOCK; -ENOENT nothing there; -EPERM
 * there but not trusted (WHY says why); -EACCES we may not look.
 */
int at_ctl_walk_trusted(const char *path, const struct at_ctl_trust *tr,
			int *dirfd, const char **name, struct stat *sock,
			char *why, size_t whylen)
{
	char comp[NAME_MAX + 1], seen[PATH_MAX] = "";
	const char *rest = path;
	struct stat st;
	int fd, next, r;

	*dirfd = -1;
	fd = open_walk_start(path, &rest);
	if (fd < 0)
		return fd;
	for (;;) {
		size_t k;

		while (*rest == '/')
			rest++;
		k = strcspn(rest, "/");
		if (k == 0 || k > NAME_MAX) {
			r = -ENOENT;
			goto fail;
		}
		memcpy(comp, rest, k);
		comp[k] = 0;
		if (fstat(fd, &st) < 0 || !dir_trusted(tr, &st)) {
			snprintf(why, whylen,
				 "the socket directory %s is owned by uid "
				 "%u with mode %04o: not trusted (only the "
				 "target's user or root, writable by no "
				 "one else)",
				 seen[0] ? seen : "/", (unsigned)st.st_uid,
				 (unsigned)(st.st_mode & 07777));
			r = -EPERM;
			goto fail;
		}
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			r = -ENOENT;
			goto fail;
		}
		next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			r = errno == EACCES || errno == EPERM ? -EACCES :
								-ENOENT;
			goto fail;
		}
		if (fstat(next, &st) < 0) {
			close(next);
			r = -ENOENT;
			goto fail;
		}
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
			 "/%s", comp);
		rest += k;
		while (*rest == '/')
			rest++;
		if (S_ISLNK(st.st_mode)) {
			close(next);
			snprintf(why, whylen,
				 "%s is a symbolic link: not followed", seen);
			r = -EPERM;
			goto fail;
		}
		if (!*rest)
			break;
		close(fd);
		fd = next;
		if (!S_ISDIR(st.st_mode)) {
			r = -ENOENT;
			goto fail;
		}
	}
	close(next);
	r = check_socket(tr, &st, seen, why, whylen);
	if (r < 0)
		goto fail;
	*dirfd = fd;
	*name = path + strlen(path) - strlen(comp);
	*sock = st;
	return 0;
fail:
	close(fd);
	return r;
}

/* The target's uids (real, effective, saved, fs) and root; 0 or -errno. */
int at_ctl_read_trust(const char *base, struct at_ctl_trust *tr, char *status,
		      size_t len)
{
	unsigned long u[4];
	const char *p;
	int r, i;

	r = at_ctl_read_file(base, "status", status, len);
	if (r < 0)
		return r;
	p = at_proc_field(status, "Uid");
	if (!p || sscanf(p, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
		return -EINVAL;
	tr->n = 0;
	tr->nown = 0;
	tr->uid[tr->n++] = 0;
	for (i = 0; i < 4; i++) {
		int k;

		if (!trusted_uid(tr, (uid_t)u[i]))
			tr->uid[tr->n++] = (uid_t)u[i];
		for (k = 0; k < tr->nown; k++)
			if (tr->own[k] == (uid_t)u[i])
				break;
		if (k == tr->nown)
			tr->own[tr->nown++] = (uid_t)u[i];
	}
	return 0;
}

/* TRY is a candidate; 0 if a trusted socket is there (PATH filled), else
 * -errno (-EPERM: there, but not trusted, with WHY). */
static int probe(const char *try, const struct at_ctl_trust *tr, char *path,
		 size_t len, char *why, size_t whylen)
{
	struct stat st;
	const char *name;
	int dfd, r;

	r = at_ctl_walk_trusted(try, tr, &dfd, &name, &st, why, whylen);
	if (r < 0)
		return r;
	close(dfd);
	if (strlen(try) >= len)
		return -ENAMETOOLONG;
	strcpy(path, try);
	return 0;
}

struct search {
	const struct at_ctl_trust *tr;
	char *path;
	size_t len;
	int denied;
	char untrusted[AT_REASON_LEN];
};

static int consider(struct search *s, const char *try)
{
	char why[AT_REASON_LEN] = "";
	int r = probe(try, s->tr, s->path, s->len, why, sizeof(why));

	s->denied |= r == -EACCES;
	if (r == -EPERM && !s->untrusted[0])
		snprintf(s->untrusted, sizeof(s->untrusted), "%s", why);
	return r;
}

static int scan_run_dir(const char *base, unsigned long nspid, struct search *s)
{
	char dir[128], try[256];
	struct dirent *de;
	int n = 0, r = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/root/run/allthreads", base);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (r != 0 && (de = readdir(d)) && n++ < 4096) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(try, sizeof(try), "%s/%.32s/%lu.sock", dir, de->d_name,
			 nspid);
		r = consider(s, try);
	}
	closedir(d);
	return r;
}

/* UID as the target sees it inside its user namespace, through MAP (the
 * text of its uid_map as we read it: "inside outside count" lines, the
 * outside uids in our namespace); UID itself where no line maps it. */
static uid_t uid_inside(const char *map, uid_t uid)
{
	unsigned long in, out, count;
	const char *p = map;
	int i, used;

	for (i = 0; i < 340 && *p; i++) {
		if (sscanf(p, "%lu %lu %lu%n", &in, &out, &count, &used) != 3)
			break;
		if (uid >= out && uid - out < count)
			return (uid_t)(in + (uid - out));
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return uid;
}

/* The uids whose names the target's socket directory may carry: each of
 * its own uids as seen here and, for a target in a user namespace of its
 * own, as seen there (the helper names its directory by getuid()). */
static int socket_uids(const char *base, const struct at_ctl_trust *tr,
		       unsigned long *uids)
{
	char map[4096];
	int i, k, n = 0;

	for (i = 0; i < tr->nown; i++)
		uids[n++] = tr->own[i];
	if (at_ctl_read_file(base, "uid_map", map, sizeof(map)) <= 0)
		return n;
	for (i = 0; i < tr->nown; i++) {
		unsigned long in = uid_inside(map, tr->own[i]);

		for (k = 0; k < n && uids[k] != in; k++)
			;
		if (k == n)
			uids[n++] = in;
	}
	return n;
}

int at_ctl_find_socket(pid_t pid, char *path, size_t len, char *why,
		       size_t whylen)
{
	char status[4096], env[8192], try[PATH_MAX], xdg[512] = "";
	char base[64];
	unsigned long nspid = 0, uids[8];
	struct at_ctl_trust tr;
	struct search s = { .tr = &tr, .path = path, .len = len };
	const char *p;
	int r, i, j, nenv, nuids;

	if (pid <= 0) {
		set_why(why, whylen, "%s", "bad process id");
		return -ESRCH;
	}
	r = at_ctl_proc_base(pid, base, sizeof(base));
	if (r == -ESRCH && kill(pid, 0) < 0 && errno == ESRCH) {
		set_why(why, whylen, "%s", "no such process");
		return -ESRCH;
	}
	r = at_ctl_read_trust(base, &tr, status, sizeof(status));
	if (r < 0) {
		set_why(why, whylen, "%s",
			r == -ENOENT ? "no such process" :
			r == -EINVAL ? "cannot read the target's status" :
				       strerror(-r));
		return r == -ENOENT ? -ESRCH : r;
	}
	/* The socket is named by the pid the target sees: the innermost
	 * one in NStgid (a thread's status: NSpid names the thread). */
	p = at_proc_field(status, "NStgid");
	if (p) {
		char *end;

		for (i = 0; i < 32; i++) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			nspid = v;
			p = end;
		}
	}
	if (!nspid)
		nspid = (unsigned long)pid;
	/* The target's own XDG_RUNTIME_DIR, if we may read its environment. */
	nenv = at_ctl_read_file(base, "environ", env, sizeof(env));
	for (i = 0; i < nenv; i += (int)strlen(env + i) + 1)
		if (!strncmp(env + i, "XDG_RUNTIME_DIR=/", 17)) {
			snprintf(xdg, sizeof(xdg), "%s", env + i + 16);
			break;
		}

	nuids = socket_uids(base, &tr, uids);
	for (i = 0; i < nuids; i++) {
		const char *fmt[] = { "%s/root/run/allthreads/%lu/%lu.sock",
				      "%s/root/run/user/%lu/allthreads/"
				      "%lu.sock",
				      "%s/root/tmp/allthreads-%lu/%lu.sock" };

		for (j = 0; j < 3; j++) {
			snprintf(try, sizeof(try), fmt[j], base, uids[i],
				 nspid);
			if (consider(&s, try) == 0)
				return 0;
			if (j == 0 && xdg[0]) {
				snprintf(try, sizeof(try),
					 "%s/root%s/allthreads/%lu.sock", base,
					 xdg, nspid);
				if (consider(&s, try) == 0)
					return 0;
			}
		}
	}
	/* A target that changed its uids since it started (a root process
	 * that dropped to another user) keeps its socket under the uid it
	 * started with: look through every /run/allthreads/<uid>/. */
	if (scan_run_dir(base, nspid, &s) == 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		set_why(why, whylen, "%s", "no such process");
		return -ESRCH;
	}
	if (s.untrusted[0]) {
		set_why(why, whylen, "%s", s.untrusted);
		return -EPERM;
	}
	if (s.denied) {
		set_why(why, whylen, "%s",
			"permission denied (cannot reach the helper's socket)");
		return -EACCES;
	}
	set_why(why, whylen, "%s",
		"no helper (start the target with `allthreads run`)");
	return -ENOENT;
}
